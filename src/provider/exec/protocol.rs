//! The lines evalgate and an `exec` bot exchange: one JSON object per line each way.
//! What the bot may answer is read strictly where it matters (a reply must be there and be
//! text) and leniently where it does not (extra fields are the bot's own business).

use serde::Serialize;
use serde_json::Value;

use crate::evalset::{Case, Stratum};
use crate::provider::{BotTurn, Message};
use crate::result::ToolCall;
use crate::transport::excerpt;

/// What a conversation sends with every turn and never changes, copied at its opening.
#[derive(Debug, Clone, Serialize)]
pub struct Fixed {
    pub context: Value,
    pub language: String,
    pub case: CaseInfo,
    pub system_prompt: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseInfo {
    pub id: String,
    pub key: String,
    pub stratum: Stratum,
    pub intent: Option<String>,
    pub tags: Vec<String>,
}

impl Fixed {
    pub fn of(case: &Case, system_prompt: Option<&str>) -> Fixed {
        Fixed {
            // A map of JSON values: turning it into one cannot fail.
            context: serde_json::to_value(&case.context).unwrap_or(Value::Null),
            language: case.language.clone(),
            case: CaseInfo {
                id: case.id.clone(),
                key: case.key.clone(),
                stratum: case.stratum,
                intent: case.intent.clone(),
                tags: case.tags.clone(),
            },
            system_prompt: system_prompt.map(str::to_string),
        }
    }
}

/// The line for one turn. `history` holds the turns before it, not `message`.
#[derive(Serialize)]
struct TurnLine<'a> {
    conversation_id: &'a str,
    turn: usize,
    message: &'a str,
    history: &'a [Message],
    #[serde(flatten)]
    fixed: &'a Fixed,
}

/// The line for one turn, newline included.
pub fn turn_line(
    conversation_id: &str,
    message: &str,
    history: &[Message],
    fixed: &Fixed,
) -> Vec<u8> {
    let line = TurnLine {
        conversation_id,
        turn: history.len() / 2,
        message,
        history,
        fixed,
    };
    // Strings, numbers and JSON values only: serializing cannot fail.
    let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// The line that tells the bot a conversation is over, newline included.
pub fn end_line(conversation_id: &str) -> Vec<u8> {
    let mut bytes =
        serde_json::to_vec(&serde_json::json!({ "end": conversation_id })).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// What the bot's line said.
#[derive(Debug, PartialEq)]
pub enum Answer {
    Turn(BotTurn),
    /// `{"error": "..."}`: the bot failed this turn, and says so.
    Error(String),
}

/// Reads one line of the bot's. `Err` is a line the protocol does not allow, with what
/// is wrong with it.
pub fn read_answer(line: &[u8]) -> Result<Answer, String> {
    let text = String::from_utf8_lossy(line);
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "the bot printed a line that is not JSON ({e}): {:?}; print only answers to stdout, logs to stderr",
            excerpt(&text)
        )
    })?;
    let Value::Object(object) = value else {
        return Err(format!(
            "the bot's answer is not a JSON object: {}",
            excerpt(&text)
        ));
    };
    if let Some(error) = object.get("error").filter(|e| !e.is_null()) {
        let message = match error {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Ok(Answer::Error(excerpt(&message)));
    }
    let content = match object.get("reply") {
        Some(Value::String(reply)) => reply.clone(),
        Some(other) => {
            return Err(format!(
                "`reply` must be a string, not {}",
                excerpt(&other.to_string())
            ));
        }
        None => {
            return Err(format!(
                "the bot's answer has no `reply`: {}",
                excerpt(&text)
            ));
        }
    };
    let handoff = match object.get("handoff") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(format!("`handoff` must be true or false, not {other}")),
    };
    Ok(Answer::Turn(BotTurn {
        content,
        tool_calls: actions(object.get("actions"))?,
        handoff,
        tokens_in: count(object.get("tokens_in"), "tokens_in")?,
        tokens_out: count(object.get("tokens_out"), "tokens_out")?,
    }))
}

/// `actions`: a list of `{name, arguments}`, arguments as the JSON text they are (an
/// object is written out, a string kept as the bot sent it).
fn actions(value: Option<&Value>) -> Result<Vec<ToolCall>, String> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(format!(
                "`actions` must be a list of {{name, arguments}}, not {}",
                excerpt(&other.to_string())
            ));
        }
    };
    list.iter()
        .map(|action| {
            let name = action.get("name").and_then(Value::as_str).ok_or_else(|| {
                format!(
                    "every action needs a `name` string: {}",
                    excerpt(&action.to_string())
                )
            })?;
            let arguments = match action.get("arguments") {
                None | Some(Value::Null) => "{}".to_string(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            Ok(ToolCall {
                name: name.to_string(),
                arguments,
            })
        })
        .collect()
}

/// A token count the bot reports; 0 when it reports none.
fn count(value: Option<&Value>, field: &str) -> Result<u64, String> {
    match value {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("`{field}` must be a whole number, not {v}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Role;

    #[test]
    fn a_full_answer_is_read_with_object_arguments_written_out() {
        let line = br#"{"reply": "A human will help.", "handoff": true, "actions": [{"name": "escalate_to_human", "arguments": {"reason": "refund"}}, {"name": "lookup", "arguments": "{\"id\":1}"}], "tokens_in": 12, "tokens_out": 5, "debug": "ignored"}"#;
        let Answer::Turn(turn) = read_answer(line).unwrap() else {
            panic!("not a turn")
        };
        assert_eq!(turn.content, "A human will help.");
        assert!(turn.handoff);
        assert_eq!((turn.tokens_in, turn.tokens_out), (12, 5));
        assert_eq!(turn.tool_calls[0].name, "escalate_to_human");
        assert_eq!(turn.tool_calls[0].arguments, r#"{"reason":"refund"}"#);
        assert_eq!(turn.tool_calls[1].arguments, r#"{"id":1}"#);
    }

    #[test]
    fn only_the_reply_is_required_and_nothing_is_invented() {
        let Answer::Turn(turn) = read_answer(br#"{"reply": ""}"#).unwrap() else {
            panic!("not a turn")
        };
        assert_eq!(turn, BotTurn::default());
    }

    #[test]
    fn an_error_answer_carries_its_message() {
        assert_eq!(
            read_answer(br#"{"error": "backend down"}"#).unwrap(),
            Answer::Error("backend down".into())
        );
    }

    #[test]
    fn lines_the_protocol_does_not_allow_say_what_is_wrong() {
        let cases: [(&[u8], &str); 7] = [
            (b"hello there", "not JSON"),
            (b"[1, 2]", "not a JSON object"),
            (br#"{"text": "hi"}"#, "no `reply`"),
            (br#"{"reply": 3}"#, "`reply` must be a string"),
            (br#"{"reply": "x", "handoff": "yes"}"#, "`handoff`"),
            (
                br#"{"reply": "x", "actions": [{"arguments": {}}]}"#,
                "`name`",
            ),
            (br#"{"reply": "x", "tokens_in": -1}"#, "`tokens_in`"),
        ];
        for (line, expected) in cases {
            let err = read_answer(line).unwrap_err();
            assert!(err.contains(expected), "{err}");
        }
    }

    #[test]
    fn a_turn_line_holds_the_case_and_the_history_before_it() {
        let yaml = "language: en\ncases:\n  - id: a\n    stratum: edge\n    intent: refund\n    tags: [vip]\n    context: { plan: gold }\n    turns:\n      - user: hi\n    expect:\n      outcome: resolve\n";
        let case = crate::evalset::load_file(std::path::Path::new("en.yaml"), yaml)
            .unwrap()
            .remove(0);
        let fixed = Fixed::of(&case, Some("Be kind."));
        let history = vec![
            Message {
                role: Role::User,
                content: "hi".into(),
            },
            Message {
                role: Role::Assistant,
                content: "hello".into(),
            },
        ];
        let line = turn_line("en/a#0", "where is \"it\"?\n", &history, &fixed);
        assert_eq!(line.last(), Some(&b'\n'));
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
        let v: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["conversation_id"], "en/a#0");
        assert_eq!(v["turn"], 1);
        assert_eq!(v["message"], "where is \"it\"?\n");
        assert_eq!(v["history"][1]["role"], "assistant");
        assert_eq!(v["context"]["plan"], "gold");
        assert_eq!(v["language"], "en");
        assert_eq!(v["case"]["key"], "en/a");
        assert_eq!(v["case"]["stratum"], "edge");
        assert_eq!(v["case"]["intent"], "refund");
        assert_eq!(v["case"]["tags"][0], "vip");
        assert_eq!(v["system_prompt"], "Be kind.");
        let end: Value = serde_json::from_slice(&end_line("en/a#0")).unwrap();
        assert_eq!(end, serde_json::json!({ "end": "en/a#0" }));
    }
}
