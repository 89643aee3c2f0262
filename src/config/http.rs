//! The `http` bot's section of the config: request templates, response expressions,
//! headers and the env vars that hold secret header values. Checked when the config is
//! loaded, each problem at its line: a template or expression that does not compile, a
//! variable no request has, a secret header whose env var is unset.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{HandoffConfig, ProviderKind, default_timeout_s};
use crate::diagnostic::Diagnostic;

/// Any bot behind HTTP: requests rendered from templates, answers read with expressions.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpBotConfig {
    pub provider: ProviderKind,
    /// A request that opens a conversation (and may name its id).
    #[serde(default)]
    pub start: Option<HttpStartConfig>,
    /// Where each turn goes: a template; values in it are percent-encoded.
    #[schemars(with = "String")]
    pub url: Spanned<String>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub method: Option<Spanned<String>>,
    /// Sent with every request, `start` included.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Header → the env var holding its whole value; sent like `headers`, never written.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub secret_headers: BTreeMap<String, Spanned<String>>,
    /// Each turn's body: a template rendered with JSON escaping. None: no body.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub body: Option<Spanned<String>>,
    pub response: HttpResponseConfig,
    /// The system-prompt template, offered to requests as `system_prompt`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub prompt: Option<Spanned<String>>,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: f64,
    #[serde(default)]
    pub handoff: HandoffConfig,
    #[serde(default)]
    pub version: Option<String>,
}

/// The request that opens a conversation.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpStartConfig {
    #[schemars(with = "String")]
    pub url: Spanned<String>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub method: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub body: Option<Spanned<String>>,
    /// An expression over `response` giving the conversation's id.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub session_id: Option<Spanned<String>>,
}

/// Expressions over the parsed JSON body `response`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpResponseConfig {
    #[schemars(with = "String")]
    pub reply: Spanned<String>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub handoff: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub actions: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub session_id: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub tokens_in: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub tokens_out: Option<Spanned<String>>,
}

/// The variables a turn's `url` and `body` are rendered with.
pub const TURN_VARIABLES: [&str; 9] = [
    "message",
    "history",
    "session_id",
    "turn",
    "context",
    "language",
    "market",
    "case",
    "system_prompt",
];

/// The variables of the `start` request: no turn has been taken yet.
pub const START_VARIABLES: [&str; 6] = [
    "session_id",
    "context",
    "language",
    "market",
    "case",
    "system_prompt",
];

/// Methods a bot request may use.
pub const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// A request template and where it sits in the config.
pub struct TemplateField<'a> {
    /// `bot.start.body`, `bot.url`, …
    pub name: &'static str,
    pub source: &'a Spanned<String>,
    pub variables: &'static [&'static str],
}

impl HttpBotConfig {
    /// The env var names that hold this bot's secrets, for redaction of everything written.
    pub fn secret_envs(&self) -> Vec<&str> {
        self.secret_headers
            .values()
            .map(|v| v.value.as_str())
            .collect()
    }

    /// Every request template, `start`'s first.
    pub fn templates(&self) -> Vec<TemplateField<'_>> {
        let mut fields = Vec::new();
        if let Some(start) = &self.start {
            fields.push(TemplateField {
                name: "bot.start.url",
                source: &start.url,
                variables: &START_VARIABLES,
            });
            if let Some(body) = &start.body {
                fields.push(TemplateField {
                    name: "bot.start.body",
                    source: body,
                    variables: &START_VARIABLES,
                });
            }
        }
        fields.push(TemplateField {
            name: "bot.url",
            source: &self.url,
            variables: &TURN_VARIABLES,
        });
        if let Some(body) = &self.body {
            fields.push(TemplateField {
                name: "bot.body",
                source: body,
                variables: &TURN_VARIABLES,
            });
        }
        fields
    }

    /// Every response expression with its field name, `start`'s first.
    pub fn expressions(&self) -> Vec<(&'static str, &Spanned<String>)> {
        let r = &self.response;
        let start = self.start.as_ref().and_then(|s| s.session_id.as_ref());
        [
            ("bot.start.session_id", start),
            ("bot.response.reply", Some(&r.reply)),
            ("bot.response.handoff", r.handoff.as_ref()),
            ("bot.response.actions", r.actions.as_ref()),
            ("bot.response.session_id", r.session_id.as_ref()),
            ("bot.response.tokens_in", r.tokens_in.as_ref()),
            ("bot.response.tokens_out", r.tokens_out.as_ref()),
        ]
        .into_iter()
        .filter_map(|(name, e)| e.map(|e| (name, e)))
        .collect()
    }

    /// Everything wrong with the section, each at its line.
    pub(super) fn problems(&self, path: &Path) -> Vec<Diagnostic> {
        let mut problems = Vec::new();
        let at = |message: String, field: &Spanned<String>| {
            Diagnostic::new(path, message).at_location(field.referenced)
        };
        for field in self.templates() {
            if let Err(message) = check_template(&field, self.prompt.is_some()) {
                problems.push(at(message, field.source));
            }
        }
        for (name, expression) in self.expressions() {
            if let Err(message) = check_expression(&expression.value) {
                problems.push(at(format!("{name}: {message}"), expression));
            }
        }
        let methods = [
            ("bot.method", self.method.as_ref()),
            (
                "bot.start.method",
                self.start.as_ref().and_then(|s| s.method.as_ref()),
            ),
        ];
        for (name, method) in methods {
            if let Some(m) = method
                && !METHODS.contains(&m.value.to_ascii_uppercase().as_str())
            {
                problems.push(at(
                    format!("{name}: `{}` is not one of {}", m.value, METHODS.join(", ")),
                    m,
                ));
            }
        }
        for (name, value) in &self.headers {
            if let Err(message) = check_header(name, value) {
                problems.push(Diagnostic::new(path, format!("bot.headers: {message}")));
            }
            if self.secret_headers.contains_key(name) {
                problems.push(Diagnostic::new(
                    path,
                    format!("bot.headers: `{name}` is also in bot.secret_headers; keep one"),
                ));
            }
        }
        for (name, var) in &self.secret_headers {
            let message = match std::env::var(&var.value) {
                Err(_) => Some(format!(
                    "bot.secret_headers.{name} names `{}`, but that environment variable is not set",
                    var.value
                )),
                Ok(v) if v.is_empty() => Some(format!(
                    "bot.secret_headers.{name} names `{}`, but that environment variable is set but empty",
                    var.value
                )),
                // The value is never shown: it is the secret.
                Ok(v) => check_header(name, &v).err().map(|_| {
                    format!(
                        "bot.secret_headers.{name}: the value of `{}` is not a valid header (name or characters)",
                        var.value
                    )
                }),
            };
            if let Some(message) = message {
                problems.push(at(message, var));
            }
        }
        if !(self.timeout_s > 0.0 && self.timeout_s.is_finite()) {
            problems.push(Diagnostic::new(
                path,
                "bot.timeout_s must be a positive number of seconds",
            ));
        }
        problems
    }
}

/// A template compiles and uses only the variables its request has.
fn check_template(field: &TemplateField<'_>, has_prompt: bool) -> Result<(), String> {
    let env = minijinja::Environment::new();
    let template = env
        .template_from_str(&field.source.value)
        .map_err(|e| format!("{}: {}", field.name, template_error(&e)))?;
    let mut used: Vec<String> = template.undeclared_variables(false).into_iter().collect();
    used.sort();
    for name in used {
        if name == "system_prompt" && !has_prompt && field.variables.contains(&"system_prompt") {
            return Err(format!(
                "{}: `system_prompt` is there only when bot.prompt names a prompt template",
                field.name
            ));
        }
        if !field.variables.contains(&name.as_str()) {
            return Err(format!(
                "{}: unknown variable `{name}`{}; this request has {}",
                field.name,
                suggestion(&name, field.variables),
                field
                    .variables
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

/// An expression compiles and reads nothing but `response`.
fn check_expression(text: &str) -> Result<(), String> {
    let env = minijinja::Environment::new();
    let expression = env
        .compile_expression(text)
        .map_err(|e| template_error(&e))?;
    let mut unknown: Vec<String> = expression
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| v != "response")
        .collect();
    unknown.sort();
    match unknown.first() {
        Some(name) => Err(format!(
            "unknown variable `{name}`{}; an expression reads `response`, the parsed JSON body",
            suggestion(name, &["response"])
        )),
        None => Ok(()),
    }
}

fn check_header(name: &str, value: &str) -> Result<(), String> {
    reqwest::header::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("`{name}` is not a valid header name"))?;
    reqwest::header::HeaderValue::from_str(value)
        .map_err(|_| format!("the value of `{name}` has characters not allowed in a header"))?;
    Ok(())
}

/// A minijinja error in a line, with the template's own line when it has more than one.
pub fn template_error(e: &minijinja::Error) -> String {
    let mut message = e.kind().to_string();
    if let Some(detail) = e.detail() {
        message = format!("{message}: {detail}");
    }
    match e.line() {
        Some(line) if line > 1 => format!("{message} (line {line} of the template)"),
        _ => message,
    }
}

fn suggestion(name: &str, known: &[&str]) -> String {
    known
        .iter()
        .map(|v| (strsim::jaro_winkler(name, v), v))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| format!(" (did you mean `{v}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::{BotConfig, Config};
    use super::*;

    const OK: &str = "bot:
  provider: http
  url: \"http://127.0.0.1:1/v1/c/{{ session_id }}\"
  body: '{\"text\": {{ message }}}'
  response:
    reply: \"response.text\"
evalsets: [a]
";

    fn problems(text: &str) -> Vec<Diagnostic> {
        let path = Path::new("evalgate.yaml");
        match Config::parse(path, text) {
            Ok(Config {
                bot: BotConfig::Http(bot),
                ..
            }) => bot.problems(path),
            Ok(_) => panic!("not an http bot"),
            Err(d) => vec![d],
        }
    }

    #[test]
    fn a_plain_section_is_fine() {
        assert_eq!(problems(OK), vec![]);
    }

    #[test]
    fn template_and_expression_errors_are_at_their_line() {
        let text = OK
            .replace("{{ message }}}", "{{ message }")
            .replace("response.text", "response.text |");
        let found = problems(&text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].message.starts_with("bot.body: syntax error"),
            "{found:?}"
        );
        assert_eq!(found[0].line, Some(4));
        assert!(
            found[1].message.starts_with("bot.response.reply:"),
            "{found:?}"
        );
        assert_eq!(found[1].line, Some(6));
    }

    #[test]
    fn unknown_variables_are_named_with_a_suggestion() {
        let found = problems(&OK.replace("{{ message }}", "{{ mesage }}"));
        assert!(
            found[0]
                .message
                .contains("unknown variable `mesage` (did you mean `message`?)"),
            "{found:?}"
        );
        let found = problems(&OK.replace("response.text", "reply.text"));
        assert!(
            found[0].message.contains("unknown variable `reply`"),
            "{found:?}"
        );
        // A turn's message does not exist when the conversation opens.
        let start = OK.replace(
            "  url:",
            "  start:\n    url: \"http://127.0.0.1:1/{{ message }}\"\n  url:",
        );
        let found = problems(&start);
        assert!(
            found[0]
                .message
                .starts_with("bot.start.url: unknown variable `message`"),
            "{found:?}"
        );
        assert_eq!(found[0].line, Some(4));
        let found = problems(&OK.replace("{{ message }}", "{{ system_prompt }}"));
        assert!(
            found[0].message.contains("only when bot.prompt"),
            "{found:?}"
        );
    }

    #[test]
    fn a_secret_header_needs_its_env_var() {
        let text = OK.replace(
            "  response:",
            "  secret_headers:\n    Authorization: EVALGATE_TEST_UNSET_SECRET\n  response:",
        );
        let found = problems(&text);
        assert!(
            found[0]
                .message
                .contains("`EVALGATE_TEST_UNSET_SECRET`, but that environment variable is not set"),
            "{found:?}"
        );
        assert_eq!(found[0].line, Some(6));
        let path = Path::new("evalgate.yaml");
        let Ok(Config {
            bot: BotConfig::Http(bot),
            ..
        }) = Config::parse(path, &text)
        else {
            panic!("not an http bot");
        };
        assert_eq!(bot.secret_envs(), vec!["EVALGATE_TEST_UNSET_SECRET"]);
    }

    #[test]
    fn methods_and_unknown_fields_are_checked() {
        let found = problems(&OK.replace("  body:", "  method: FETCH\n  body:"));
        assert!(
            found[0].message.contains("`FETCH` is not one of"),
            "{found:?}"
        );
        let found = problems(&OK.replace("  body:", "  bodyy: x\n  body:"));
        assert!(
            found[0].message.contains("unknown field `bodyy`"),
            "{found:?}"
        );
        assert_eq!(found[0].line, Some(4));
    }
}
