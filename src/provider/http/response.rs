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
    /// The expression is a plain path (`response.choices[0].message.content`): it is
    /// walked on the parsed JSON, without turning the whole body into template values.
    path: Option<Vec<Step>>,
}

#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The body as expressions see it: the JSON (perhaps only the parts the plain paths
/// read), and its template value once an expression that is not a plain path needs it.
struct Body<'a> {
    json: &'a serde_json::Value,
    /// The raw body when `json` holds only the parts plain paths read.
    raw: Option<&'a [u8]>,
    full: Option<serde_json::Value>,
    value: Option<Value>,
}

/// Why a turn's answer could not be read.
#[derive(Debug)]
pub enum Unreadable {
    /// The body is not JSON at all.
    NotJson,
    /// An expression failed or yielded what its field cannot take.
    Expression(String),
}

/// The keys and indices plain-path expressions read, as a tree: a body is parsed into
/// only those parts, skipping everything else without building it.
#[derive(Debug, Default)]
struct Wanted {
    keys: std::collections::HashMap<String, Wanted>,
    indices: std::collections::BTreeMap<usize, Wanted>,
    /// A path ends here: the whole value is kept.
    whole: bool,
}

impl Wanted {
    fn add(&mut self, path: &[Step]) {
        match path.split_first() {
            None => self.whole = true,
            Some((Step::Key(k), rest)) => self.keys.entry(k.clone()).or_default().add(rest),
            Some((Step::Index(i), rest)) => self.indices.entry(*i).or_default().add(rest),
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for &Wanted {
    type Value = serde_json::Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if self.whole {
            return serde::Deserialize::deserialize(d);
        }
        d.deserialize_any(PrunedVisitor(self))
    }
}

/// Builds the wanted parts of a container; a scalar is kept as it is, so a path that
/// meets one is decided as it would be on the whole body.
struct PrunedVisitor<'w>(&'w Wanted);

impl<'de> serde::de::Visitor<'de> for PrunedVisitor<'_> {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = serde_json::Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match self.0.keys.get(key.as_ref()) {
                Some(child) => {
                    kept.insert(key.into_owned(), map.next_value_seed(child)?);
                }
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(serde_json::Value::Object(kept))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut kept = Vec::new();
        let last = self.0.indices.keys().next_back().copied();
        let mut index = 0;
        loop {
            let element = match self.0.indices.get(&index) {
                Some(child) => seq.next_element_seed(child)?,
                // Positions before a wanted one hold a placeholder, so indices still match.
                None => seq
                    .next_element::<serde::de::IgnoredAny>()?
                    .map(|_| serde_json::Value::Null),
            };
            let Some(element) = element else { break };
            if last.is_some_and(|last| index <= last) {
                kept.push(element);
            }
            index += 1;
        }
        Ok(serde_json::Value::Array(kept))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
}

/// The compiled response expressions of one bot.
pub struct ResponseReader {
    /// What a turn's expressions read, when they are all plain paths.
    wanted: Option<Wanted>,
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
                            path: plain_path(&s.value),
                        })
                        .map_err(|e| format!("{field}: {}", crate::config::template_error(&e)))
                })
                .transpose()
        };
        let r = &config.response;
        let start = config.start.as_ref().and_then(|s| s.session_id.as_ref());
        let mut reader = ResponseReader {
            wanted: None,
            start_session_id: compile("bot.start.session_id", start)?,
            reply: compile("bot.response.reply", Some(&r.reply))?
                .ok_or_else(|| "bot.response.reply is required".to_string())?,
            handoff: compile("bot.response.handoff", r.handoff.as_ref())?,
            actions: compile("bot.response.actions", r.actions.as_ref())?,
            session_id: compile("bot.response.session_id", r.session_id.as_ref())?,
            tokens_in: compile("bot.response.tokens_in", r.tokens_in.as_ref())?,
            tokens_out: compile("bot.response.tokens_out", r.tokens_out.as_ref())?,
        };
        let turn_exprs = [
            Some(&reader.reply),
            reader.handoff.as_ref(),
            reader.actions.as_ref(),
            reader.session_id.as_ref(),
            reader.tokens_in.as_ref(),
            reader.tokens_out.as_ref(),
        ];
        let mut wanted = Wanted::default();
        let mut all_plain = true;
        for expr in turn_exprs.into_iter().flatten() {
            match &expr.path {
                Some(path) => wanted.add(path),
                None => all_plain = false,
            }
        }
        reader.wanted = all_plain.then_some(wanted);
        Ok(reader)
    }

    /// One turn read from its raw body.
    pub fn turn_from(&self, raw: &[u8]) -> Result<ReadTurn, Unreadable> {
        let (json, pruned) = match &self.wanted {
            Some(wanted) => {
                let mut d = serde_json::Deserializer::from_slice(raw);
                let json = serde::de::DeserializeSeed::deserialize(wanted, &mut d)
                    .and_then(|json| d.end().map(|()| json))
                    .map_err(|_| Unreadable::NotJson)?;
                (json, true)
            }
            None => (
                serde_json::from_slice(raw).map_err(|_| Unreadable::NotJson)?,
                false,
            ),
        };
        let body = &mut Body {
            json: &json,
            raw: pruned.then_some(raw),
            full: None,
            value: None,
        };
        self.read_turn(body).map_err(Unreadable::Expression)
    }

    /// The conversation id in `start`'s answer, when the config says where it is.
    pub fn start(&self, json: &serde_json::Value) -> Result<Option<String>, String> {
        let Some(expr) = &self.start_session_id else {
            return Ok(None);
        };
        let response = &mut Body {
            json,
            raw: None,
            full: None,
            value: None,
        };
        match id_of(expr, &eval(expr, response)?)? {
            Some(id) => Ok(Some(id)),
            None => Err(format!("{} yielded nothing", expr.describe())),
        }
    }

    /// One turn read from a body parsed whole (the reference the pruned parse is held to).
    #[cfg(test)]
    fn turn(&self, json: &serde_json::Value) -> Result<ReadTurn, String> {
        self.read_turn(&mut Body {
            json,
            raw: None,
            full: None,
            value: None,
        })
    }

    fn read_turn(&self, response: &mut Body<'_>) -> Result<ReadTurn, String> {
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

fn eval(expr: &Expr, body: &mut Body<'_>) -> Result<Value, String> {
    if let Some(path) = &expr.path {
        match walk(body.json, path) {
            Walked::Found(found) => return Ok(Value::from(minijinja::value::Serde(found))),
            Walked::Absent => return Ok(Value::UNDEFINED),
            Walked::Unsure => {}
        }
    }
    // Only part of the body was parsed: the template language reads the whole of it.
    if let (Some(raw), None) = (body.raw, &body.full) {
        body.full = serde_json::from_slice(raw).ok();
    }
    let json = body.full.as_ref().unwrap_or(body.json);
    let response = body
        .value
        .get_or_insert_with(|| Value::from(minijinja::value::Serde(json)))
        .clone();
    expr.compiled
        .eval(minijinja::context! { response => response })
        .map_err(|e| {
            format!(
                "{} failed: {}",
                expr.describe(),
                crate::config::template_error(&e)
            )
        })
}

enum Walked<'a> {
    Found(&'a serde_json::Value),
    /// A key or index that is not there: undefined, as in the template language.
    Absent,
    /// A step the template language reads differently (an index into a string, a key of
    /// a list): left to it.
    Unsure,
}

fn walk<'a>(json: &'a serde_json::Value, path: &[Step]) -> Walked<'a> {
    let mut at = json;
    for step in path {
        let next = match (step, at) {
            (Step::Key(key), serde_json::Value::Object(map)) => map.get(key),
            (Step::Index(i), serde_json::Value::Array(items)) => items.get(*i),
            _ => return Walked::Unsure,
        };
        match next {
            Some(found) => at = found,
            None => return Walked::Absent,
        }
    }
    Walked::Found(at)
}

/// `response.a.b[0]['c']` as steps; `None` for anything else.
fn plain_path(text: &str) -> Option<Vec<Step>> {
    let mut rest = text.trim().strip_prefix("response")?;
    let ident = |s: &str| {
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        let name = &s[..end];
        name.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            .then_some(end)
    };
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = ident(after)?;
            steps.push(Step::Key(after[..end].to_string()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']')?;
            let inside = &after[..close];
            let quoted = inside
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .or_else(|| inside.strip_prefix('"').and_then(|s| s.strip_suffix('"')));
            match quoted {
                Some(key) if !key.contains(['\'', '"', '\\']) => {
                    steps.push(Step::Key(key.to_string()))
                }
                Some(_) => return None,
                None if !inside.is_empty() && inside.bytes().all(|b| b.is_ascii_digit()) => {
                    steps.push(Step::Index(inside.parse().ok()?))
                }
                None => return None,
            }
            rest = &after[close + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
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
fn tokens_of(expr: Option<&Expr>, response: &mut Body<'_>) -> Result<u64, String> {
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
    fn v(body: serde_json::Value) -> serde_json::Value {
        body
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
            .turn(&v(
                json!({"messages": [{"text": "a"}], "actions": {"name": "x"}}),
            ))
            .unwrap_err();
        assert!(err.contains("bot.response.actions"), "{err}");
        let err = r
            .turn(&v(
                json!({"messages": [{"text": "a"}], "actions": [{"arguments": {}}]}),
            ))
            .unwrap_err();
        assert!(err.contains("without a `name`"), "{err}");
        let err = r
            .turn(&v(
                json!({"messages": [{"text": "a"}], "usage": {"input": "many"}}),
            ))
            .unwrap_err();
        assert!(err.contains("not a token count"), "{err}");
    }

    #[test]
    fn plain_paths_are_walked_like_the_template_language_reads_them() {
        assert_eq!(
            plain_path("response.choices[0]['message'].content"),
            Some(vec![
                Step::Key("choices".into()),
                Step::Index(0),
                Step::Key("message".into()),
                Step::Key("content".into()),
            ])
        );
        for not_plain in [
            "response.a | first",
            "response.a[-1]",
            "response .a",
            "other.a",
            "response.a[i]",
        ] {
            assert_eq!(plain_path(not_plain), None, "{not_plain}");
        }
        // The same answers with and without the shortcut.
        let bodies = [
            json!({"a": {"b": ["x", "y"]}}),
            json!({"a": {"b": "xyz"}}),
            json!({"a": [1]}),
            json!({}),
        ];
        let exprs = [
            "response.a.b[1]",
            "response.a.b",
            "response.a.c",
            "response.a[0]",
            "response.a.b[0]",
        ];
        for body in &bodies {
            for text in exprs {
                let r = reader(&format!("    reply: \"{text}\"\n"));
                let mut fast = Body {
                    json: body,
                    raw: None,
                    full: None,
                    value: None,
                };
                let walked = eval(&r.reply, &mut fast).unwrap();
                let mut slow_expr = r.reply;
                slow_expr.path = None;
                let mut slow = Body {
                    json: body,
                    raw: None,
                    full: None,
                    value: None,
                };
                let read = eval(&slow_expr, &mut slow).unwrap();
                assert_eq!(
                    (walked.is_undefined(), walked.to_string()),
                    (read.is_undefined(), read.to_string()),
                    "{text} on {body}"
                );
            }
        }
    }

    /// Parsing only what plain paths read gives the same turns as parsing everything.
    #[test]
    fn a_pruned_parse_reads_the_same_turn() {
        let r = reader(
            "    reply: response.choices[1].message.content\n    tokens_in: response.usage.in\n    handoff: response.flag\n",
        );
        assert!(r.wanted.is_some());
        for body in [
            json!({"id": "x", "choices": [{"message": {"content": "no"}}, {"message": {"content": "yes", "extra": [1, 2]}}], "usage": {"in": 3, "out": 4}, "flag": true}),
            json!({"choices": [{"message": {"content": "only one"}}]}),
            json!({"choices": "text", "usage": []}),
            json!({"choices": [1, {"message": "abc"}]}),
            json!([1, 2]),
        ] {
            let raw = body.to_string();
            let whole = r.turn(&body).map_err(|e| e.to_string());
            let pruned = r.turn_from(raw.as_bytes()).map_err(|e| match e {
                Unreadable::Expression(m) => m,
                Unreadable::NotJson => "not json".into(),
            });
            assert_eq!(whole, pruned, "{body}");
        }
        assert!(matches!(
            r.turn_from(b"{\"choices\": [} "),
            Err(Unreadable::NotJson)
        ));
        assert!(matches!(
            r.turn_from(b"{} trailing"),
            Err(Unreadable::NotJson)
        ));
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
