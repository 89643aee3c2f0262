//! The demo bot as an OpenAI-compatible chat-completions endpoint.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use super::{error_response, json_response, parse_json, read_body};
use crate::provider::{Message, demo};
use crate::result::Role;

pub(super) async fn handle(
    req: Request<Incoming>,
    path: &str,
    counter: &AtomicU64,
) -> Response<Full<Bytes>> {
    match (req.method().clone(), path) {
        (Method::GET, "/v1/models") => json_response(
            StatusCode::OK,
            json!({ "object": "list", "data": [{ "id": demo::MODEL, "object": "model", "owned_by": "evalgate" }] }),
        ),
        (Method::POST, "/v1/chat/completions") => {
            let body = match read_body(req).await {
                Ok(body) => body,
                Err(refused) => return *refused,
            };
            let n = counter.fetch_add(1, Ordering::Relaxed);
            complete(&body, n)
        }
        _ => error_response(
            StatusCode::NOT_FOUND,
            "not found: use POST /v1/chat/completions",
        ),
    }
}

fn complete(body: &[u8], n: u64) -> Response<Full<Bytes>> {
    let request = match parse_json(body) {
        Ok(v) => v,
        Err(refused) => return *refused,
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
