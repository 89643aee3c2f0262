//! Reading an `http` bot's answer: minijinja expressions over the parsed JSON body,
//! `response`. Only `reply` is required, and it must yield text: an answer evalgate could
//! not read is an error result naming the expression, never an empty reply that passes.

use minijinja::value::Value;
use minijinja::{Environment, Expression, UndefinedBehavior};

use crate::config::HttpBotConfig;
use crate::provider::BotTurn;
use crate::result::ToolCall;

/// One compiled expression and the field it came from, for error messages.
struct Expr {
    field: &'static str,
    source: String,
    compiled: Expression<'static, 'static>,
}

/// The compiled response expressions of one bot.
pub struct ResponseReader {
    start_session_id: Option<Expr>,
    reply: Expr,
    handoff: Option<Expr>,
    actions: Option<Expr>,
    session_id: Option<Expr>,
    tokens_in: Option<Expr>,
    tokens_out: Option<Expr>,
}

/// A turn as the bot answered it, and the conversation id if the bot rotated it.
#[derive(Debug, PartialEq)]
pub struct ReadTurn {
    pub turn: BotTurn,
    pub session_id: Option<String>,
}

impl ResponseReader {
    pub fn new(config: &HttpBotConfig) -> Result<ResponseReader, String> {
        // Compiled expressions borrow their environment. A bot is built once per run and
        // lives until the process ends, so the environment is leaked rather than compiled
        // again for every turn.
        let env: &'static Environment<'static> = Box::leak(Box::new({
            let mut env = Environment::new();
            // `response.usage.input` on a body without `usage` is absent, not a failure:
            // optional fields are optional.
            env.set_undefined_behavior(UndefinedBehavior::Chainable);
            env
        }));
        let compile = |field: &'static str, source: Option<&serde_saphyr::Spanned<String>>| {
            source
                .map(|s| {
                    env.compile_expression_owned(s.value.clone())
                        .map(|compiled| Expr {
                            field,
                            source: s.value.clone(),
                            compiled,
                        })
                        .map_err(|e| format!("{field}: {}", crate::config::template_error(&e)))
                })
                .transpose()
        };
        let r = &config.response;
        let start = config.start.as_ref().and_then(|s| s.session_id.as_ref());
        Ok(ResponseReader {
            start_session_id: compile("bot.start.session_id", start)?,
            reply: compile("bot.response.reply", Some(&r.reply))?
                .ok_or_else(|| "bot.response.reply is required".to_string())?,
            handoff: compile("bot.response.handoff", r.handoff.as_ref())?,
            actions: compile("bot.response.actions", r.actions.as_ref())?,
            session_id: compile("bot.response.session_id", r.session_id.as_ref())?,
            tokens_in: compile("bot.response.tokens_in", r.tokens_in.as_ref())?,
            tokens_out: compile("bot.response.tokens_out", r.tokens_out.as_ref())?,
        })
    }

    /// The conversation id in `start`'s answer, when the config says where it is.
    pub fn start(&self, response: &Value) -> Result<Option<String>, String> {
        let Some(expr) = &self.start_session_id else {
            return Ok(None);
        };
        match id_of(expr, &eval(expr, response)?)? {
            Some(id) => Ok(Some(id)),
            None => Err(format!("{} yielded nothing", expr.describe())),
        }
    }

    /// One turn read from its answer.
    pub fn turn(&self, response: &Value) -> Result<ReadTurn, String> {
        let reply = eval(&self.reply, response)?;
        let content = match text_of(&reply) {
            Some(text) if !text.trim().is_empty() => text,
            Some(_) => return Err(format!("{} yielded an empty reply", self.reply.describe())),
            None if absent(&reply) => {
                return Err(format!("{} yielded nothing", self.reply.describe()));
            }
            None => {
                return Err(format!(
                    "{} yielded {}, not text",
                    self.reply.describe(),
                    reply.kind()
                ));
            }
        };
        let handoff = match &self.handoff {
            Some(expr) => eval(expr, response)?.is_true(),
            None => false,
        };
        let tool_calls = match &self.actions {
            Some(expr) => actions_of(expr, &eval(expr, response)?)?,
            None => Vec::new(),
        };
        let session_id = match &self.session_id {
            Some(expr) => id_of(expr, &eval(expr, response)?)?,
            None => None,
        };
        Ok(ReadTurn {
            turn: BotTurn {
                content,
                tool_calls,
                handoff,
                tokens_in: tokens_of(self.tokens_in.as_ref(), response)?,
                tokens_out: tokens_of(self.tokens_out.as_ref(), response)?,
            },
            session_id,
        })
    }
}

impl Expr {
    fn describe(&self) -> String {
        format!("{} `{}`", self.field, self.source)
    }
}

fn eval(expr: &Expr, response: &Value) -> Result<Value, String> {
    expr.compiled
        .eval(minijinja::context! { response => response.clone() })
        .map_err(|e| {
            format!(
                "{} failed: {}",
                expr.describe(),
                crate::config::template_error(&e)
            )
        })
}

fn absent(value: &Value) -> bool {
    value.is_undefined() || value.is_none()
}

/// Text as a reply: a string, or a number or boolean written out.
fn text_of(value: &Value) -> Option<String> {
    use minijinja::value::ValueKind;
    match value.kind() {
        ValueKind::String => value.as_str().map(str::to_string),
        ValueKind::Number | ValueKind::Bool => Some(value.to_string()),
        _ => None,
    }
}

/// A conversation id: a string or a number; absent is `None`.
fn id_of(expr: &Expr, value: &Value) -> Result<Option<String>, String> {
    if absent(value) {
        return Ok(None);
    }
    match text_of(value) {
        Some(id) if !id.is_empty() => Ok(Some(id)),
        _ => Err(format!(
            "{} yielded {}, not an id",
            expr.describe(),
            value.kind()
        )),
    }
}

/// A token count: a whole number (or one written as text); absent is 0.
fn tokens_of(expr: Option<&Expr>, response: &Value) -> Result<u64, String> {
    let Some(expr) = expr else { return Ok(0) };
    let value = eval(expr, response)?;
    if absent(&value) {
        return Ok(0);
    }
    let json = serde_json::to_value(&value).unwrap_or_default();
    json.as_u64()
        .or_else(|| json.as_str().and_then(|s| s.trim().parse().ok()))
        .ok_or_else(|| format!("{} yielded `{json}`, not a token count", expr.describe()))
}

/// The actions a bot reports: a list of `{name, arguments}`; arguments that are not
/// text are kept as their JSON.
fn actions_of(expr: &Expr, value: &Value) -> Result<Vec<ToolCall>, String> {
    if absent(value) {
        return Ok(Vec::new());
    }
    let json = serde_json::to_value(value)
        .map_err(|e| format!("{} yielded a value that is not JSON: {e}", expr.describe()))?;
    let serde_json::Value::Array(items) = json else {
        return Err(format!("{} yielded `{json}`, not a list", expr.describe()));
    };
    items
        .into_iter()
        .map(|item| {
            let name = item.get("name").and_then(serde_json::Value::as_str);
            let Some(name) = name.filter(|n| !n.is_empty()) else {
                return Err(format!(
                    "{} yielded an action without a `name`: `{item}`",
                    expr.describe()
                ));
            };
            let arguments = match item.get("arguments") {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            Ok(ToolCall {
                name: name.to_string(),
                arguments,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    /// A JSON body as the provider parses it.
    fn v(body: serde_json::Value) -> Value {
        serde_json::from_value(body).unwrap()
    }

    use super::*;
    use crate::config::{BotConfig, Config};

    fn reader(response: &str) -> ResponseReader {
        let text = format!(
            "bot:\n  provider: http\n  start:\n    url: http://127.0.0.1:1/s\n    session_id: response.conversation.id\n  url: http://127.0.0.1:1/m\n  response:\n{response}evalsets: [a]\n"
        );
        match Config::parse(Path::new("evalgate.yaml"), &text)
            .unwrap()
            .bot
        {
            BotConfig::Http(bot) => ResponseReader::new(&bot).unwrap(),
            _ => unreachable!(),
        }
    }

    const FULL: &str = "    reply: \"response.messages | map(attribute='text') | join('\\\\n')\"
    handoff: response.handoff.requested
    actions: response.actions
    session_id: response.session
    tokens_in: response.usage.input
    tokens_out: response.usage.output
";

    #[test]
    fn every_field_is_read() {
        let body = json!({
            "messages": [{"text": "Hello."}, {"text": "Your refund is on its way."}],
            "handoff": {"requested": true},
            "actions": [
                {"name": "lookup_order", "arguments": {"order": "A1"}},
                {"name": "escalate_to_human", "arguments": "{\"reason\":\"x\"}"},
            ],
            "session": "rotated-2",
            "usage": {"input": 12, "output": "7"},
        });
        let read = reader(FULL).turn(&v(body)).unwrap();
        assert_eq!(read.turn.content, "Hello.\nYour refund is on its way.");
        assert!(read.turn.handoff);
        assert_eq!(read.turn.tool_calls[0].name, "lookup_order");
        assert_eq!(read.turn.tool_calls[0].arguments, r#"{"order":"A1"}"#);
        assert_eq!(read.turn.tool_calls[1].arguments, r#"{"reason":"x"}"#);
        assert_eq!((read.turn.tokens_in, read.turn.tokens_out), (12, 7));
        assert_eq!(read.session_id.as_deref(), Some("rotated-2"));
    }

    /// Optional fields the body leaves out are absent, never invented.
    #[test]
    fn optional_fields_may_be_missing() {
        let read = reader(FULL)
            .turn(&v(json!({"messages": [{"text": "Hi"}]})))
            .unwrap();
        assert_eq!(read.turn.content, "Hi");
        assert!(!read.turn.handoff);
        assert!(read.turn.tool_calls.is_empty());
        assert_eq!((read.turn.tokens_in, read.turn.tokens_out), (0, 0));
        assert_eq!(read.session_id, None);
    }

    /// An answer evalgate cannot read is an error naming the expression, never a pass.
    #[test]
    fn a_reply_that_yields_nothing_is_an_error_naming_the_expression() {
        let plain = reader("    reply: response.text\n");
        for body in [
            json!({}),
            json!({"text": null}),
            json!({"text": "  "}),
            json!({"text": [1]}),
        ] {
            let err = plain.turn(&v(body.clone())).unwrap_err();
            assert!(
                err.starts_with("bot.response.reply `response.text` yielded"),
                "{err}"
            );
        }
        let failing = reader("    reply: response.text | nosuchfilter\n");
        let err = failing.turn(&v(json!({"text": "x"}))).unwrap_err();
        assert!(
            err.contains("`response.text | nosuchfilter` failed"),
            "{err}"
        );
    }

    #[test]
    fn malformed_optional_fields_are_errors() {
        let r = reader(FULL);
        let err = r
            .turn(&v(json!({"messages": [{"text": "a"}], "actions": {"name": "x"}})))
            .unwrap_err();
        assert!(err.contains("bot.response.actions"), "{err}");
        let err = r
            .turn(&v(json!({"messages": [{"text": "a"}], "actions": [{"arguments": {}}]})))
            .unwrap_err();
        assert!(err.contains("without a `name`"), "{err}");
        let err = r
            .turn(&v(json!({"messages": [{"text": "a"}], "usage": {"input": "many"}})))
            .unwrap_err();
        assert!(err.contains("not a token count"), "{err}");
    }

    #[test]
    fn start_reads_the_conversation_id() {
        let r = reader("    reply: response.text\n");
        assert_eq!(
            r.start(&v(json!({"conversation": {"id": 17}})))
                .unwrap()
                .as_deref(),
            Some("17")
        );
        let err = r.start(&v(json!({"conversation": {}}))).unwrap_err();
        assert!(
            err.starts_with("bot.start.session_id `response.conversation.id` yielded nothing"),
            "{err}"
        );
    }
}
