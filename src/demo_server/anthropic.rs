//! The demo bot as Anthropic's Messages API (`POST /v1/messages`), strict where the real
//! API is: a request without `x-api-key` or `anthropic-version`, without `max_tokens`,
//! or with an empty text block is refused with the API's error shape, so a client that
//! passes here sends what the real API takes. Any non-empty key is accepted.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use super::{json_response, read_body};
use crate::provider::{Message, demo};
use crate::result::Role;

pub(super) async fn handle(
    req: Request<Incoming>,
    path: &str,
    counter: &AtomicU64,
) -> Response<Full<Bytes>> {
    if (req.method(), path) != (&Method::POST, "/v1/messages") {
        return api_error(
            StatusCode::NOT_FOUND,
            "not_found_error",
            "not found: use POST /v1/messages",
        );
    }
    if let Err(refused) = check_headers(req.headers()) {
        return *refused;
    }
    let body = match read_body(req).await {
        Ok(body) => body,
        Err(_) => {
            return api_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                "request body too large or unreadable",
            );
        }
    };
    let n = counter.fetch_add(1, Ordering::Relaxed);
    match answer(&body, n) {
        Ok(message) => json_response(StatusCode::OK, message),
        Err(refused) => *refused,
    }
}

type Refusal = Box<Response<Full<Bytes>>>;

/// The error body the API sends: `{"type":"error","error":{"type":..,"message":..}}`.
fn api_error(status: StatusCode, kind: &str, message: &str) -> Response<Full<Bytes>> {
    json_response(
        status,
        json!({ "type": "error", "error": { "type": kind, "message": message } }),
    )
}

fn invalid(message: impl AsRef<str>) -> Refusal {
    Box::new(api_error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        message.as_ref(),
    ))
}

fn check_headers(headers: &HeaderMap) -> Result<(), Refusal> {
    let present = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| !v.trim().is_empty())
    };
    if !present("x-api-key") {
        return Err(Box::new(api_error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "x-api-key header is required",
        )));
    }
    if !present("anthropic-version") {
        return Err(invalid("anthropic-version: header is required"));
    }
    Ok(())
}

/// The demo bot's answer to a request, as a Messages API message.
fn answer(body: &[u8], n: u64) -> Result<Value, Refusal> {
    let request: Value = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("the request body is not JSON: {e}")))?;
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("model: Field required"))?;
    match request.get("max_tokens").and_then(Value::as_u64) {
        Some(m) if m >= 1 => {}
        Some(_) => return Err(invalid("max_tokens: must be at least 1")),
        None => return Err(invalid("max_tokens: Field required")),
    }
    let system = match request.get("system") {
        None | Some(Value::Null) => String::new(),
        Some(value) => text_of(value, "system")?,
    };
    let offered = offered_tools(request.get("tools"))?;
    let history = conversation(request.get("messages"))?;

    let turn = demo::answer(&system, &history);
    let mut content = Vec::new();
    if !turn.content.is_empty() {
        content.push(json!({ "type": "text", "text": turn.content }));
    }
    // The handoff tool is the caller's, and a model calls it only when it is offered; the
    // back-office lookups are the demo bot's own, reported whenever it takes them.
    for (i, call) in turn
        .tool_calls
        .iter()
        .filter(|c| c.name != demo::HANDOFF_TOOL || offered.contains(&c.name.as_str()))
        .enumerate()
    {
        let input: Value = serde_json::from_str(&call.arguments).unwrap_or_else(|_| json!({}));
        content.push(json!({ "type": "tool_use", "id": format!("toolu_demo_{n}_{i}"), "name": call.name, "input": input }));
    }
    let called = content.iter().any(|b| b["type"] == "tool_use");
    Ok(json!({
        "id": format!("msg_demo_{n}"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": if called { "tool_use" } else { "end_turn" },
        "stop_sequence": null,
        "usage": { "input_tokens": turn.tokens_in, "output_tokens": turn.tokens_out }
    }))
}

/// The names of the tools offered, each checked for the fields the API requires.
fn offered_tools(tools: Option<&Value>) -> Result<Vec<&str>, Refusal> {
    let tools = match tools {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(tools)) => tools,
        Some(_) => return Err(invalid("tools: Input should be a valid list")),
    };
    tools
        .iter()
        .enumerate()
        .map(|(i, tool)| {
            let name = tool
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("tools.{i}.name: Field required")))?;
            if !tool.get("input_schema").is_some_and(Value::is_object) {
                return Err(invalid(format!("tools.{i}.input_schema: Field required")));
            }
            Ok(name)
        })
        .collect()
}

/// The messages as the demo bot reads them: user and assistant turns, consecutive turns
/// of one role combined (as the API does), starting and ending with the customer.
fn conversation(messages: Option<&Value>) -> Result<Vec<Message>, Refusal> {
    let messages = messages
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("messages: Field required"))?;
    let mut history: Vec<Message> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = match m.get("role").and_then(Value::as_str) {
            Some("user") => Role::User,
            Some("assistant") => Role::Assistant,
            Some(other) => {
                return Err(invalid(format!(
                    "messages.{i}.role: unexpected role {other:?}; the system prompt goes in the top-level `system` field"
                )));
            }
            None => return Err(invalid(format!("messages.{i}.role: Field required"))),
        };
        let content = m
            .get("content")
            .ok_or_else(|| invalid(format!("messages.{i}.content: Field required")))?;
        let text = text_of(content, &format!("messages.{i}.content"))?;
        match history.last_mut() {
            Some(last) if last.role == role => {
                last.content.push('\n');
                last.content.push_str(&text);
            }
            _ => history.push(Message {
                role,
                content: text,
            }),
        }
    }
    match (history.first(), history.last()) {
        (None, _) => Err(invalid("messages: at least one message is required")),
        (Some(first), _) if first.role != Role::User => Err(invalid(
            "messages: the first message must use the \"user\" role",
        )),
        (_, Some(last)) if last.role != Role::User => Err(invalid(
            "messages: the demo bot answers the customer: the last message must use the \"user\" role",
        )),
        _ => Ok(history),
    }
}

/// Content as text: a string, or the text of an array of content blocks (blocks of other
/// types, such as tool results, carry no customer text). Empty text is refused where the
/// API refuses it.
fn text_of(content: &Value, field: &str) -> Result<String, Refusal> {
    match content {
        Value::String(s) if s.trim().is_empty() && field != "system" => Err(invalid(format!(
            "{field}: text content must contain non-whitespace text"
        ))),
        Value::String(s) => Ok(s.clone()),
        Value::Array(blocks) if blocks.is_empty() && field != "system" => Err(invalid(format!(
            "{field}: all messages must have non-empty content"
        ))),
        Value::Array(blocks) => {
            let mut parts = Vec::new();
            for (j, block) in blocks.iter().enumerate() {
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => match block.get("text").and_then(Value::as_str) {
                        Some(t) if !t.trim().is_empty() => parts.push(t),
                        _ => {
                            return Err(invalid(format!(
                                "{field}.{j}: text content blocks must contain non-whitespace text"
                            )));
                        }
                    },
                    Some(_) => {}
                    None => return Err(invalid(format!("{field}.{j}.type: Field required"))),
                }
            }
            Ok(parts.join("\n"))
        }
        _ => Err(invalid(format!(
            "{field}: Input should be a valid string or list of content blocks"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(result: Result<impl std::fmt::Debug, Refusal>) -> (u16, Value) {
        let response = *result.unwrap_err();
        let status = response.status().as_u16();
        let body = futures_util::FutureExt::now_or_never(http_body_util::BodyExt::collect(
            response.into_body(),
        ))
        .unwrap()
        .unwrap()
        .to_bytes();
        (status, serde_json::from_slice(&body).unwrap())
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, hyper::header::HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn a_request_without_key_or_version_is_refused_as_the_api_does() {
        let (status, body) = refusal(check_headers(&headers(&[(
            "anthropic-version",
            "2023-06-01",
        )])));
        assert_eq!(status, 401);
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], "authentication_error");
        let (status, body) = refusal(check_headers(&headers(&[("x-api-key", "k")])));
        assert_eq!(status, 400);
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("anthropic-version")
        );
        assert!(
            check_headers(&headers(&[
                ("x-api-key", "any"),
                ("anthropic-version", "2023-06-01")
            ]))
            .is_ok()
        );
    }

    fn request(extra: Value) -> Vec<u8> {
        let mut r = json!({
            "model": "claude-demo",
            "max_tokens": 100,
            "system": "You are a support bot. For fraud, call escalate_to_human.",
            "messages": [{ "role": "user", "content": "Someone used my card without permission, I think it is fraud." }],
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                r.as_object_mut().unwrap().remove(k);
            } else {
                r[k] = v.clone();
            }
        }
        serde_json::to_vec(&r).unwrap()
    }

    #[test]
    fn the_handoff_is_a_tool_use_block_only_when_the_tool_is_offered() {
        let tools = json!({ "tools": [{ "name": "escalate_to_human", "input_schema": { "type": "object" } }] });
        let with_tool = answer(&request(tools), 7).unwrap();
        assert_eq!(with_tool["type"], "message");
        assert_eq!(with_tool["model"], "claude-demo");
        assert_eq!(with_tool["stop_reason"], "tool_use");
        let blocks = with_tool["content"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "text");
        assert_eq!(blocks[1]["type"], "tool_use");
        assert_eq!(blocks[1]["name"], "escalate_to_human");
        assert!(blocks[1]["input"]["reason"].is_string(), "{with_tool}");
        assert!(with_tool["usage"]["input_tokens"].as_u64().unwrap() > 0);

        let without = answer(&request(json!({})), 8).unwrap();
        assert_eq!(without["stop_reason"], "end_turn");
        assert!(
            without["content"]
                .as_array()
                .unwrap()
                .iter()
                .all(|b| b["type"] == "text")
        );
    }

    #[test]
    fn what_the_api_refuses_the_demo_refuses() {
        for (extra, says) in [
            (json!({ "max_tokens": null }), "max_tokens: Field required"),
            (json!({ "model": null }), "model: Field required"),
            (json!({ "messages": [] }), "at least one message"),
            (
                json!({ "messages": [{ "role": "system", "content": "x" }, { "role": "user", "content": "hi" }] }),
                "unexpected role",
            ),
            (
                json!({ "messages": [{ "role": "user", "content": [{ "type": "text", "text": " " }] }] }),
                "non-whitespace text",
            ),
            (
                json!({ "messages": [{ "role": "user", "content": "hi" }, { "role": "assistant", "content": "" }, { "role": "user", "content": "hi" }] }),
                "non-whitespace text",
            ),
            (
                json!({ "messages": [{ "role": "assistant", "content": "hi" }, { "role": "user", "content": "hi" }] }),
                "first message",
            ),
            (
                json!({ "tools": [{ "name": "escalate_to_human", "parameters": {} }] }),
                "tools.0.input_schema",
            ),
        ] {
            let (status, body) = refusal(answer(&request(extra.clone()), 0));
            assert_eq!(status, 400, "{extra}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(message.contains(says), "{extra}: {message}");
        }
    }

    /// The server as a client meets it: the header checks are on the route, not only in
    /// a function.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_served_demo_refuses_a_request_without_the_api_headers() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(super::super::serve(
            listener,
            super::super::Protocol::Anthropic,
            async {
                let _ = stopped.await;
            },
        ));
        let body = String::from_utf8(request(json!({}))).unwrap();
        let mut statuses = Vec::new();
        for headers in [
            "anthropic-version: 2023-06-01\r\n",
            "x-api-key: any\r\n",
            "x-api-key: any\r\nanthropic-version: 2023-06-01\r\n",
        ] {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let request = format!(
                "POST /v1/messages HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
                body.len()
            );
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut response = String::new();
            tokio::time::timeout(
                std::time::Duration::from_secs(10),
                stream.read_to_string(&mut response),
            )
            .await
            .unwrap()
            .unwrap();
            statuses.push(response.split_whitespace().nth(1).unwrap_or("").to_string());
        }
        let _ = stop.send(());
        server.await.unwrap().unwrap();
        assert_eq!(statuses, ["401", "400", "200"]);
    }
}
