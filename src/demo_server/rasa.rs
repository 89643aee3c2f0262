//! The demo bot behind a Rasa REST channel: `POST /webhooks/rest/webhook` with
//! `{"sender", "message"}` (and optional `"metadata": {"system": "<prompt>"}` on the
//! first message) → an array of bot messages `[{"recipient_id", "text"}, …]`, one per
//! sentence, as a Rasa assistant sends several utterances. A handoff comes the way a Rasa
//! bot's custom action would send it: a last message `{"recipient_id", "custom":
//! {"handoff": true, "reason"}}`. The history is kept per sender in the server.

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};

use super::store::Conversations;
use super::{Reply, error_response, json_response, read_json};
use crate::provider::demo;

pub(super) async fn handle(
    req: Request<Incoming>,
    path: &str,
    conversations: &Conversations,
) -> Reply {
    if req.method() != Method::POST || path != "/webhooks/rest/webhook" {
        return error_response(
            StatusCode::NOT_FOUND,
            "not found: use POST /webhooks/rest/webhook",
        );
    }
    let request = match read_json(req).await {
        Ok(v) => v,
        Err(refused) => return *refused,
    };
    let (Some(sender), Some(message)) = (
        request.get("sender").and_then(Value::as_str),
        request.get("message").and_then(Value::as_str),
    ) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "`sender` and `message` must be strings",
        );
    };
    // A sender seen for the first time starts a conversation, as in Rasa's tracker store.
    if !conversations.contains(sender) {
        let system = request
            .pointer("/metadata/system")
            .and_then(Value::as_str)
            .unwrap_or_default();
        conversations.open(sender, system);
    }
    let Some(turn) = conversations.answer(sender, message) else {
        return error_response(StatusCode::SERVICE_UNAVAILABLE, "conversation dropped");
    };
    let mut messages: Vec<Value> = sentences(&turn.content)
        .into_iter()
        .map(|text| json!({ "recipient_id": sender, "text": text }))
        .collect();
    if let Some(call) = turn
        .tool_calls
        .iter()
        .find(|c| c.name == demo::HANDOFF_TOOL)
    {
        let reason = serde_json::from_str::<Value>(&call.arguments)
            .ok()
            .and_then(|a| a.get("reason").cloned())
            .unwrap_or(Value::Null);
        messages.push(json!({
            "recipient_id": sender,
            "custom": { "handoff": true, "reason": reason },
        }));
    }
    // What the assistant did, as a custom payload a custom action would send.
    for call in turn
        .tool_calls
        .iter()
        .filter(|c| c.name != demo::HANDOFF_TOOL)
    {
        let arguments = serde_json::from_str::<Value>(&call.arguments).unwrap_or(json!({}));
        messages.push(json!({
            "recipient_id": sender,
            "custom": { "action": { "name": call.name, "arguments": arguments } },
        }));
    }
    json_response(StatusCode::OK, Value::Array(messages))
}

/// A reply split after each sentence's end, the way a Rasa bot sends one utterance each.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        let ends = matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|n| n.is_whitespace());
        if ends || c == '\n' {
            let sentence = current.trim();
            if !sentence.is_empty() {
                out.push(sentence.to_string());
            }
            current.clear();
        }
    }
    let rest = current.trim();
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_split_per_sentence() {
        assert_eq!(
            sentences("Hello! Your refund of 1.50 EUR is on its way. Anything else?\nBye"),
            vec![
                "Hello!",
                "Your refund of 1.50 EUR is on its way.",
                "Anything else?",
                "Bye"
            ]
        );
        assert!(sentences("  ").is_empty());
    }
}
