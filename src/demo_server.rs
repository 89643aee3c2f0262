//! `evalgate demo-bot`: the built-in demo bot served as an OpenAI-compatible chat
//! completions endpoint on 127.0.0.1, so any harness (evalgate included) can test it
//! over real HTTP.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::provider::{Message, demo};
use crate::result::Role;

const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let counter = Arc::new(AtomicU64::new(0));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(a) => a,
                    // A client that vanished mid-handshake is no reason to stop serving.
                    Err(_) => continue,
                };
                let _ = stream.set_nodelay(true);
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(req, Arc::clone(&counter)));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            _ = &mut shutdown => return Ok(()),
        }
    }
}

async fn handle(
    req: Request<Incoming>,
    counter: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().trim_end_matches('/').to_string();
    let response = match (req.method().clone(), path.as_str()) {
        (Method::GET, "/health") => json_response(StatusCode::OK, json!({ "status": "ok" })),
        (Method::GET, "/v1/models") => json_response(
            StatusCode::OK,
            json!({ "object": "list", "data": [{ "id": demo::MODEL, "object": "model", "owned_by": "evalgate" }] }),
        ),
        (Method::POST, "/v1/chat/completions") => {
            let body = match Limited::new(req.into_body(), MAX_REQUEST_BYTES)
                .collect()
                .await
            {
                Ok(collected) => collected.to_bytes(),
                Err(_) => {
                    return Ok(error_response(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "request body too large or unreadable",
                    ));
                }
            };
            let n = counter.fetch_add(1, Ordering::Relaxed);
            complete(&body, n)
        }
        _ => error_response(
            StatusCode::NOT_FOUND,
            "not found: use POST /v1/chat/completions",
        ),
    };
    Ok(response)
}

fn complete(body: &[u8], n: u64) -> Response<Full<Bytes>> {
    let request: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return error_response(StatusCode::BAD_REQUEST, &format!("body is not JSON: {e}"));
        }
    };
    let Some(messages) = request.get("messages").and_then(Value::as_array) else {
        return error_response(StatusCode::BAD_REQUEST, "`messages` must be an array");
    };
    let mut system = String::new();
    let mut history = Vec::new();
    for m in messages {
        let content = text_of(m.get("content"));
        match m.get("role").and_then(Value::as_str) {
            Some("system") | Some("developer") => {
                if !system.is_empty() {
                    system.push('\n');
                }
                system.push_str(&content);
            }
            Some("user") => history.push(Message {
                role: Role::User,
                content,
            }),
            Some("assistant") => history.push(Message {
                role: Role::Assistant,
                content,
            }),
            _ => {}
        }
    }
    if !matches!(
        history.last(),
        Some(Message {
            role: Role::User,
            ..
        })
    ) {
        return error_response(
            StatusCode::BAD_REQUEST,
            "the last message must come from the user",
        );
    }
    let turn = demo::answer(&system, &history);
    let tool_calls: Vec<Value> = turn
        .tool_calls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({ "id": format!("call_{n}_{i}"), "type": "function", "function": { "name": c.name, "arguments": c.arguments } })
        })
        .collect();
    let mut message = json!({ "role": "assistant", "content": turn.content });
    let finish_reason = if tool_calls.is_empty() {
        "stop"
    } else {
        message["tool_calls"] = Value::Array(tool_calls);
        "tool_calls"
    };
    json_response(
        StatusCode::OK,
        json!({
            "id": format!("chatcmpl-demo-{n}"),
            "object": "chat.completion",
            "model": request.get("model").cloned().unwrap_or_else(|| json!(demo::MODEL)),
            "choices": [{ "index": 0, "message": message, "finish_reason": finish_reason }],
            "usage": {
                "prompt_tokens": turn.tokens_in,
                "completion_tokens": turn.tokens_out,
                "total_tokens": turn.tokens_in + turn.tokens_out
            }
        }),
    )
}

/// Message content as text: a plain string, or the text parts of a content array.
fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn json_response(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

fn error_response(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    json_response(
        status,
        json!({ "error": { "message": message, "type": "invalid_request_error" } }),
    )
}
