//! `evalgate demo-bot`: the built-in demo bot served on 127.0.0.1 over the protocol of a
//! real bot API, so any harness (evalgate included) can test it over real HTTP, and every
//! provider's README recipe runs as written against it. One file per protocol.

mod anthropic;
mod openai;
mod rasa;
mod session;
mod store;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The API the demo bot is served as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OpenAI-compatible chat completions.
    Openai,
    /// Anthropic's Messages API.
    Anthropic,
    /// A Rasa REST channel (`POST /webhooks/rest/webhook`).
    Rasa,
    /// A conversation API with ids in its URLs (`/v1/conversations/{id}/messages`).
    Session,
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    protocol: Protocol,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let counter = Arc::new(AtomicU64::new(0));
    let conversations = Arc::new(store::Conversations::default());
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
                let conversations = Arc::clone(&conversations);
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        handle(req, protocol, Arc::clone(&counter), Arc::clone(&conversations))
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            _ = &mut shutdown => return Ok(()),
        }
    }
}

async fn handle(
    req: Request<Incoming>,
    protocol: Protocol,
    counter: Arc<AtomicU64>,
    conversations: Arc<store::Conversations>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().trim_end_matches('/').to_string();
    if req.method() == Method::GET && path == "/health" {
        return Ok(json_response(StatusCode::OK, json!({ "status": "ok" })));
    }
    Ok(match protocol {
        Protocol::Openai => openai::handle(req, &path, &counter).await,
        Protocol::Anthropic => anthropic::handle(req, &path, &counter).await,
        Protocol::Rasa => rasa::handle(req, &path, &conversations).await,
        Protocol::Session => session::handle(req, &path, &counter, &conversations).await,
    })
}

/// A response the demo bot sends.
pub(super) type Reply = Response<Full<Bytes>>;

/// The request body, or the response that refuses it.
pub(super) async fn read_body(req: Request<Incoming>) -> Result<Bytes, Box<Reply>> {
    match Limited::new(req.into_body(), MAX_REQUEST_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(Box::new(error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large or unreadable",
        ))),
    }
}

/// The body parsed as JSON, or the response that refuses it.
/// The request's body as JSON, or the reply that refuses it.
pub(super) async fn read_json(req: Request<Incoming>) -> Result<Value, Box<Reply>> {
    parse_json(&read_body(req).await?)
}

pub(super) fn parse_json(body: &[u8]) -> Result<Value, Box<Reply>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error_response(
            StatusCode::BAD_REQUEST,
            &format!("body is not JSON: {e}"),
        ))
    })
}

pub(super) fn json_response(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

pub(super) fn error_response(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    json_response(
        status,
        json!({ "error": { "message": message, "type": "invalid_request_error" } }),
    )
}
