//! The `http` bot's requests: `url` and `body` templates rendered per turn (and those of
//! `start` once per conversation). A body is rendered with JSON auto-escaping, so a
//! customer's text becomes one JSON string literal whatever it holds; a URL with
//! percent-encoding, so it stays one path segment or query value. Case text is only ever
//! a value here, never template source.

use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior, context};

use crate::config::HttpBotConfig;
use crate::evalset::Case;
use crate::provider::Message;
use crate::result::Role;
use crate::transport::Method;

const START_URL: &str = "start.url";
const START_BODY: &str = "start.body";
const URL: &str = "url";
const BODY: &str = "body";

/// The auto-escape mode of URL templates, handled by [`format_value`].
const URL_ESCAPE: &str = "url";

/// One request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub method: Method,
    pub url: String,
    pub body: Option<Vec<u8>>,
}

/// The compiled request templates of one bot.
pub struct Requests {
    env: Environment<'static>,
    method: Method,
    has_body: bool,
    /// `start`'s method and whether it has a body, when there is a `start`.
    start: Option<(Method, bool)>,
    /// Templates without any template syntax, sent as written without rendering (most
    /// bots take every turn at one fixed URL).
    literal: std::collections::HashMap<&'static str, String>,
    /// Turn templates made only of text and a few plain variables, filled in without the
    /// template engine (per turn, that is most of a fast bot's cost on evalgate's side).
    simple: std::collections::HashMap<&'static str, Vec<Part>>,
    /// The variables any template reads: the others are never built (a long history
    /// copied into every turn for a template that never reads it would cost the most).
    used: std::collections::HashSet<String>,
}

/// What a turn's templates see besides the conversation-wide values.
pub struct TurnVars<'a> {
    pub message: &'a str,
    pub history: &'a [Message],
    pub session_id: &'a str,
    pub turn: usize,
}

impl Requests {
    pub fn new(config: &HttpBotConfig) -> Result<Requests, String> {
        let mut env = Environment::new();
        // A variable a case does not have is an error, not an empty string sent to the bot.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(URL) {
                AutoEscape::Custom(URL_ESCAPE.into())
            } else {
                AutoEscape::Json
            }
        });
        env.set_formatter(format_value);
        let mut literal = std::collections::HashMap::new();
        let mut simple = std::collections::HashMap::new();
        let mut add = |name: &'static str, source: &str| {
            if let Some(parts) = simple_parts(source) {
                simple.insert(name, parts);
            }
            if !["{{", "{%", "{#"].iter().any(|open| source.contains(open)) {
                literal.insert(name, source.to_string());
            }
            env.add_template_owned(name, source.to_string())
                .map_err(|e| format!("bot.{name}: {}", crate::config::template_error(&e)))
        };
        let start = match &config.start {
            Some(start) => {
                add(START_URL, &start.url.value)?;
                if let Some(body) = &start.body {
                    add(START_BODY, &body.value)?;
                }
                Some((method_of(start.method.as_ref())?, start.body.is_some()))
            }
            None => None,
        };
        add(URL, &config.url.value)?;
        if let Some(body) = &config.body {
            add(BODY, &body.value)?;
        }
        let used = env
            .templates()
            .flat_map(|(_, t)| t.undeclared_variables(false))
            .collect();
        Ok(Requests {
            env,
            method: method_of(config.method.as_ref())?,
            has_body: config.body.is_some(),
            start,
            literal,
            simple,
            used,
        })
    }

    /// The values every request of one conversation sees.
    pub fn conversation_vars(&self, case: &Case, system_prompt: Option<&str>) -> Value {
        let uses = |name: &str| self.used.contains(name);
        let vars = context! {
            context => uses("context").then(|| Value::from(Serde(&case.context))),
            language => case.language.as_str(),
            market => case.market.as_deref(),
            case => uses("case").then(|| context! {
                id => case.id.as_str(),
                key => case.key.as_str(),
                stratum => case.stratum.name(),
                intent => case.intent.as_deref(),
                tags => case.tags.clone(),
            }),
        };
        // Absent rather than none without a prompt: a template that uses it anyway fails
        // (the config check says so before a run).
        match system_prompt {
            Some(prompt) => context! { system_prompt => prompt, ..vars },
            None => vars,
        }
    }

    /// The `start` request, if the bot has one.
    pub fn start(&self, vars: &Value, session_id: &str) -> Option<Result<Rendered, String>> {
        let (method, has_body) = self.start.as_ref()?;
        let vars = context! { session_id => session_id, ..vars.clone() };
        Some(self.render(method, START_URL, has_body.then_some(START_BODY), &vars))
    }

    /// A turn's request.
    pub fn turn(&self, vars: &Value, turn: &TurnVars<'_>) -> Result<Rendered, String> {
        if let Some(rendered) = self.simple_turn(turn) {
            return Ok(rendered);
        }
        let history: Vec<Value> = turn
            .history
            .iter()
            .take(if self.used.contains("history") {
                usize::MAX
            } else {
                0
            })
            .map(|m| {
                context! {
                    role => match m.role { Role::User => "user", Role::Assistant => "assistant" },
                    content => m.content.as_str(),
                }
            })
            .collect();
        let vars = context! {
            message => turn.message,
            history => history,
            session_id => turn.session_id,
            turn => turn.turn,
            ..vars.clone()
        };
        self.render(&self.method, URL, self.has_body.then_some(BODY), &vars)
    }

    fn render(
        &self,
        method: &Method,
        url: &str,
        body: Option<&str>,
        vars: &Value,
    ) -> Result<Rendered, String> {
        let render = |name: &str| {
            if let Some(text) = self.literal.get(name) {
                return Ok(text.clone());
            }
            self.env
                .get_template(name)
                .and_then(|t| t.render(vars))
                .map_err(|e| format!("bot.{name}: {}", crate::config::template_error(&e)))
        };
        Ok(Rendered {
            method: method.clone(),
            url: render(url)?,
            body: body.map(render).transpose()?.map(String::into_bytes),
        })
    }
}

/// `evalgate check`: every request template rendered for `case` (with its first message,
/// an empty history and a placeholder id); a body must be JSON and a URL a URL. Each
/// problem at its field's line.
pub fn check(
    config: &HttpBotConfig,
    path: &std::path::Path,
    case: &Case,
    system_prompt: Option<&str>,
) -> crate::diagnostic::Diagnostics {
    use crate::diagnostic::Diagnostic;
    let mut problems = crate::diagnostic::Diagnostics::default();
    let requests = match Requests::new(config) {
        Ok(r) => r,
        Err(message) => {
            problems.push(Diagnostic::new(path, message));
            return problems;
        }
    };
    let conversation = requests.conversation_vars(case, system_prompt);
    let vars = context! {
        message => case.turns.first().map(String::as_str).unwrap_or(""),
        history => Vec::<Value>::new(),
        session_id => "check-session-id",
        turn => 0,
        ..conversation
    };
    for field in config.templates() {
        let name = field.name.trim_start_matches("bot.");
        let rendered = requests
            .env
            .get_template(name)
            .and_then(|t| t.render(&vars))
            .map_err(|e| crate::config::template_error(&e))
            .and_then(|text| {
                if name.ends_with(URL) {
                    reqwest::Url::parse(&text)
                        .map(|_| ())
                        .map_err(|e| format!("renders to `{text}`, which is not a URL: {e}"))
                } else {
                    serde_json::from_str::<serde_json::Value>(&text)
                        .map(|_| ())
                        .map_err(|e| format!("renders to text that is not JSON ({e}): {text}"))
                }
            });
        if let Err(message) = rendered {
            problems.push(
                Diagnostic::new(
                    path,
                    format!("{} (rendered for case {}): {message}", field.name, case.key),
                )
                .at_location(field.source.referenced),
            );
        }
    }
    problems
}

/// A piece of a template that [`simple_parts`] understood.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Message,
    SessionId,
    Turn,
}

/// The parts of a template that is text and `{{ message }}`, `{{ session_id }}` or
/// `{{ turn }}` only; `None` for anything else (filters, tags, other variables).
fn simple_parts(source: &str) -> Option<Vec<Part>> {
    if source.contains("{%") || source.contains("{#") {
        return None;
    }
    let mut parts = Vec::new();
    let mut rest = source;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_string()));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}")?;
        parts.push(match after[..close].trim() {
            "message" => Part::Message,
            "session_id" => Part::SessionId,
            "turn" => Part::Turn,
            _ => return None,
        });
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    // A stray `}}` is left to the engine, which knows what it makes of one.
    let stray = parts
        .iter()
        .any(|p| matches!(p, Part::Text(t) if t.contains("}}")));
    (!stray).then_some(parts)
}

impl Requests {
    /// A turn's request from simple templates, as the engine would render it; `None`
    /// when a template is not simple.
    fn simple_turn(&self, turn: &TurnVars<'_>) -> Option<Rendered> {
        let fill = |name: &str, url: bool| -> Option<String> {
            let parts = self.simple.get(name)?;
            let mut out = String::new();
            for part in parts {
                match part {
                    Part::Text(text) => out.push_str(text),
                    Part::Turn => out.push_str(&turn.turn.to_string()),
                    Part::Message | Part::SessionId => {
                        let value = if *part == Part::Message {
                            turn.message
                        } else {
                            turn.session_id
                        };
                        if url {
                            out.push_str(&percent_encode(value));
                        } else {
                            out.push_str(&serde_json::to_string(value).ok()?);
                        }
                    }
                }
            }
            Some(out)
        };
        let body = match self.has_body {
            true => Some(fill(BODY, false)?.into_bytes()),
            false => None,
        };
        Some(Rendered {
            method: self.method.clone(),
            url: fill(URL, true)?,
            body,
        })
    }
}

fn method_of(method: Option<&serde_saphyr::Spanned<String>>) -> Result<Method, String> {
    match method {
        None => Ok(Method::POST),
        Some(m) => Method::from_bytes(m.value.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("`{}` is not an HTTP method", m.value)),
    }
}

/// JSON for bodies (minijinja's own), percent-encoding for URLs.
fn format_value(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    match state.auto_escape() {
        AutoEscape::Custom(mode) if mode == URL_ESCAPE => {
            let text = value.to_string();
            out.write_str(&percent_encode(&text)).map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
            })
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// Everything but RFC 3986's unreserved characters is encoded, so a value can neither
/// end a path segment nor start a query.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{BotConfig, Config};

    fn bot(section: &str) -> HttpBotConfig {
        let text = format!("bot:\n  provider: http\n{section}evalsets: [a]\n");
        match Config::parse(Path::new("evalgate.yaml"), &text)
            .unwrap()
            .bot
        {
            BotConfig::Http(bot) => *bot,
            _ => unreachable!(),
        }
    }

    fn case() -> Case {
        let yaml = "language: pl\nmarket: PL\ncases:\n  - id: a.b\n    stratum: edge\n    intent: refund\n    tags: [x]\n    context: {customer_id: 42, note: \"{{ secret }}\"}\n    turns:\n      - user: hi\n    expect:\n      outcome: resolve\n";
        crate::evalset::load_file(Path::new("pl.yaml"), yaml)
            .unwrap()
            .remove(0)
    }

    const SECTION: &str = "  url: \"http://127.0.0.1:1/v1/c/{{ session_id }}/m?lang={{ language }}&m={{ message }}\"
  body: '{\"text\": {{ message }}, \"turn\": {{ turn }}, \"history\": {{ history }}, \"customer\": {{ context.customer_id }}, \"note\": {{ context.note }}, \"case\": {{ case.key }}, \"tags\": {{ case.tags }}}'
  response:
    reply: response.text
";

    fn render_turn(message: &str, session_id: &str) -> Rendered {
        let requests = Requests::new(&bot(SECTION)).unwrap();
        let vars = requests.conversation_vars(&case(), None);
        let history = [
            Message {
                role: Role::User,
                content: "first".into(),
            },
            Message {
                role: Role::Assistant,
                content: "\"quoted\"".into(),
            },
        ];
        requests
            .turn(
                &vars,
                &TurnVars {
                    message,
                    history: &history,
                    session_id,
                    turn: 1,
                },
            )
            .unwrap()
    }

    /// Text crafted to close the JSON string and add a field stays one string literal.
    #[test]
    fn a_message_cannot_break_out_of_the_json_body() {
        let injection = "\"}, \"admin\": true, \"x\": {\"";
        let rendered = render_turn(injection, "s1");
        let body: serde_json::Value = serde_json::from_slice(&rendered.body.unwrap()).unwrap();
        assert_eq!(body["text"], injection);
        assert!(body.get("admin").is_none(), "{body}");
        assert_eq!(body["turn"], 1);
        assert_eq!(body["history"][1]["role"], "assistant");
        assert_eq!(body["history"][1]["content"], "\"quoted\"");
        assert_eq!(body["customer"], 42);
        assert_eq!(
            body["note"], "{{ secret }}",
            "case data is never template source"
        );
        assert_eq!(body["case"], "pl/a.b");
        assert_eq!(body["tags"], serde_json::json!(["x"]));
        assert_eq!(rendered.method, Method::POST);
    }

    /// Simple templates are filled in without the engine, byte for byte as it would.
    #[test]
    fn simple_templates_render_as_the_engine_does() {
        let section = "  url: \"http://127.0.0.1:1/c/{{ session_id }}?t={{turn}}&m={{ message }}\"
  body: '{\"text\": {{ message }}, \"id\": {{ session_id }}, \"turn\": {{ turn }}}'
  response:
    reply: response.text
";
        let requests = Requests::new(&bot(section)).unwrap();
        assert_eq!(requests.simple.len(), 2);
        let mut engine = Requests::new(&bot(section)).unwrap();
        engine.simple.clear();
        let vars = requests.conversation_vars(&case(), None);
        for message in [
            "plain",
            "\"}, \"admin\": true, \"x\": {\"",
            "tab\tnew\nline\u{1} </script> 'q' \\ é 😀 \u{2028}",
            "{{ not a template }}",
        ] {
            let turn = TurnVars {
                message,
                history: &[],
                session_id: "id/ 1",
                turn: 7,
            };
            assert_eq!(
                requests.turn(&vars, &turn).unwrap(),
                engine.turn(&vars, &turn).unwrap(),
                "{message}"
            );
        }
        for not_simple in [
            "{{ message | upper }}",
            "{% if turn %}x{% endif %}",
            "{{ history }}",
            "a }} b",
        ] {
            assert_eq!(simple_parts(not_simple), None, "{not_simple}");
        }
    }

    #[test]
    fn values_in_a_url_are_percent_encoded_not_json_escaped() {
        let rendered = render_turn("a b&c=\"d\"/é", "id/../x?y");
        assert_eq!(
            rendered.url,
            "http://127.0.0.1:1/v1/c/id%2F..%2Fx%3Fy/m?lang=pl&m=a%20b%26c%3D%22d%22%2F%C3%A9"
        );
    }

    #[test]
    fn a_missing_value_is_an_error_naming_the_template() {
        let section = SECTION.replace("context.customer_id", "context.account");
        let requests = Requests::new(&bot(&section)).unwrap();
        let vars = requests.conversation_vars(&case(), None);
        let err = requests
            .turn(
                &vars,
                &TurnVars {
                    message: "hi",
                    history: &[],
                    session_id: "s",
                    turn: 0,
                },
            )
            .unwrap_err();
        assert!(err.starts_with("bot.body: undefined value"), "{err}");
    }

    #[test]
    fn start_sees_the_conversation_values_and_its_own_method() {
        let section = format!(
            "  start:\n    url: \"http://127.0.0.1:1/v1/start?id={{{{ session_id }}}}\"\n    method: put\n    body: '{{\"system\": {{{{ system_prompt }}}}, \"market\": {{{{ market }}}}}}'\n  prompt: p.j2\n{SECTION}"
        );
        let requests = Requests::new(&bot(&section)).unwrap();
        let vars = requests.conversation_vars(&case(), Some("Be \"kind\"."));
        let start = requests.start(&vars, "fresh id").unwrap().unwrap();
        assert_eq!(start.method, Method::PUT);
        assert_eq!(start.url, "http://127.0.0.1:1/v1/start?id=fresh%20id");
        let body: serde_json::Value = serde_json::from_slice(&start.body.unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({ "system": "Be \"kind\".", "market": "PL" })
        );
        assert!(
            Requests::new(&bot(SECTION))
                .unwrap()
                .start(&vars, "x")
                .is_none()
        );
    }
}
