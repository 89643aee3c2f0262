//! The demo bot as a vendor-style conversation API: a conversation is opened, then
//! messages are posted to it by id; the server holds the history.
//!
//! `POST /v1/conversations` (optional `{"system": "<prompt>"}`) → 201
//! `{"conversation": {"id"}}`; `POST /v1/conversations/{id}/messages` with `{"text"}` →
//! `{"messages": [{"text"}], "handoff": {"requested"}, "actions": [{"name", "arguments"}],
//! "usage": {"input", "output"}}`; an unknown id is 404.

use std::sync::atomic::{AtomicU64, Ordering};

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};

use super::store::Conversations;
use super::{Reply, error_response, json_response, parse_json, read_body, read_json};
use crate::provider::demo;

pub(super) async fn handle(
    req: Request<Incoming>,
    path: &str,
    counter: &AtomicU64,
    conversations: &Conversations,
) -> Reply {
    let method = req.method().clone();
    let messages_of = path
        .strip_prefix("/v1/conversations/")
        .and_then(|rest| rest.strip_suffix("/messages"))
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .map(str::to_string);
    match (method, path, messages_of) {
        (Method::POST, "/v1/conversations", _) => {
            let body = match read_body(req).await {
                Ok(body) => body,
                Err(refused) => return *refused,
            };
            let system = if body.iter().all(u8::is_ascii_whitespace) {
                String::new()
            } else {
                match parse_json(&body) {
                    Ok(v) => v
                        .get("system")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    Err(refused) => return *refused,
                }
            };
            let id = format!("conv-{}", counter.fetch_add(1, Ordering::Relaxed));
            conversations.open(&id, &system);
            json_response(StatusCode::CREATED, json!({ "conversation": { "id": id } }))
        }
        (Method::POST, _, Some(id)) => {
            let request = match read_json(req).await {
                Ok(v) => v,
                Err(refused) => return *refused,
            };
            let Some(text) = request.get("text").and_then(Value::as_str) else {
                return error_response(StatusCode::BAD_REQUEST, "`text` must be a string");
            };
            let Some(turn) = conversations.answer(&id, text) else {
                return error_response(
                    StatusCode::NOT_FOUND,
                    &format!("no conversation `{id}`: open one with POST /v1/conversations"),
                );
            };
            let actions: Vec<Value> = turn
                .tool_calls
                .iter()
                .map(|c| {
                    // Arguments as an object, as such APIs send them.
                    let arguments =
                        serde_json::from_str::<Value>(&c.arguments).unwrap_or(json!(c.arguments));
                    json!({ "name": c.name, "arguments": arguments })
                })
                .collect();
            json_response(
                StatusCode::OK,
                json!({
                    "messages": [{ "text": turn.content }],
                    "handoff": { "requested": turn.tool_calls.iter().any(|c| c.name == demo::HANDOFF_TOOL) },
                    "actions": actions,
                    "usage": { "input": turn.tokens_in, "output": turn.tokens_out },
                }),
            )
        }
        _ => error_response(
            StatusCode::NOT_FOUND,
            "not found: use POST /v1/conversations, then POST /v1/conversations/{id}/messages",
        ),
    }
}
