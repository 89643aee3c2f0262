//! The secret values evalgate holds (API keys, secret headers), and their removal from
//! everything it writes or prints. A bot may echo its own `Authorization` header, a
//! judge may quote it, a server may put it in an error body: each such text passes
//! through [`Secrets::redact`] before it reaches a result, the response cache, a report
//! or the terminal, and comes out with `[redacted:ENV_NAME]` in place of the value.

use std::borrow::Cow;

use crate::provider::{BotTurn, ProviderError};

/// Values shorter than this are not scrubbed: a real key is far longer, and scrubbing a
/// placeholder key such as `none` or `ollama` would rewrite ordinary words in replies.
pub const MIN_SECRET_LEN: usize = 8;

/// Authorization schemes whose token is scrubbed on its own too: a bot that echoes only
/// the token of `Bearer <token>` leaks the secret as surely as one that echoes it whole.
const SCHEMES: [&str; 4] = ["Bearer ", "Basic ", "Token ", "Bot "];

#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// Longest first, so a value that contains another is replaced whole.
    known: Vec<Known>,
}

#[derive(Debug, Clone)]
struct Known {
    value: String,
    /// `[redacted:ENV_NAME]`.
    replacement: String,
}

impl Secrets {
    /// The values of these environment variables (unset or empty ones are skipped).
    pub fn from_env<'a>(names: impl IntoIterator<Item = &'a str>) -> Secrets {
        Secrets::from_values(
            names
                .into_iter()
                .filter_map(|name| Some((name, std::env::var(name).ok()?))),
        )
    }

    /// Secrets from `(env name, value)` pairs.
    pub fn from_values<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Secrets {
        let mut known = Vec::new();
        for (name, value) in pairs {
            let replacement = format!("[redacted:{name}]");
            let token = SCHEMES
                .iter()
                .find_map(|scheme| value.strip_prefix(scheme))
                .map(|t| t.trim().to_string());
            for value in std::iter::once(value).chain(token) {
                if value.chars().count() >= MIN_SECRET_LEN {
                    known.push(Known {
                        value,
                        replacement: replacement.clone(),
                    });
                }
            }
        }
        known.sort_by_key(|k| (std::cmp::Reverse(k.value.len()), k.value.clone()));
        known.dedup_by(|a, b| a.value == b.value);
        Secrets { known }
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// `text` with every secret value replaced by `[redacted:ENV_NAME]`, also where it
    /// stands JSON-escaped (a body quoting a key with a quote or backslash in it).
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for known in &self.known {
            if out.contains(known.value.as_str()) {
                out = Cow::Owned(out.replace(known.value.as_str(), &known.replacement));
            }
            let escaped = json_escaped(&known.value);
            if escaped != known.value && out.contains(escaped.as_str()) {
                out = Cow::Owned(out.replace(escaped.as_str(), &known.replacement));
            }
        }
        out
    }

    /// Redacts a string in place; allocates only when it holds a secret.
    pub fn redact_in_place(&self, text: &mut String) {
        if let Cow::Owned(clean) = self.redact(text) {
            *text = clean;
        }
    }

    /// A bot's turn with every secret taken out of its words and actions.
    pub fn redact_turn(&self, turn: &mut BotTurn) {
        if self.is_empty() {
            return;
        }
        self.redact_in_place(&mut turn.content);
        for call in &mut turn.tool_calls {
            self.redact_in_place(&mut call.name);
            self.redact_in_place(&mut call.arguments);
        }
    }

    /// An error whose message or body may quote a secret.
    pub fn redact_error(&self, error: ProviderError) -> ProviderError {
        if self.is_empty() {
            return error;
        }
        let clean = |s: String| self.redact(&s).into_owned();
        match error {
            ProviderError::Transport(m) => ProviderError::Transport(clean(m)),
            ProviderError::BadResponse(m) => ProviderError::BadResponse(clean(m)),
            ProviderError::Reported(m) => ProviderError::Reported(clean(m)),
            ProviderError::Request(m) => ProviderError::Request(clean(m)),
            ProviderError::Final(inner) => {
                ProviderError::Final(Box::new(self.redact_error(*inner)))
            }
            ProviderError::Status {
                status,
                retry_after,
                body,
            } => ProviderError::Status {
                status,
                retry_after,
                body: clean(body),
            },
            timeout @ ProviderError::Timeout(_) => timeout,
        }
    }
}

/// A value as it appears inside a JSON string literal.
fn json_escaped(value: &str) -> String {
    let quoted = serde_json::to_string(value).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        Secrets::from_values([
            ("BOT_AUTH", "Bearer tok-0123456789".to_string()),
            ("JUDGE_KEY", "sk-judge\"quoted\\key".to_string()),
            ("SHORT", "ollama".to_string()),
        ])
    }

    #[test]
    fn a_value_is_replaced_by_the_name_of_its_variable() {
        let s = secrets();
        assert_eq!(
            s.redact("you sent Bearer tok-0123456789, right?"),
            "you sent [redacted:BOT_AUTH], right?"
        );
        // The token alone, without its scheme, is the secret as well.
        assert_eq!(
            s.redact("token=tok-0123456789"),
            "token=[redacted:BOT_AUTH]"
        );
        assert!(matches!(s.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_json_escaped_value_is_replaced_too() {
        let s = secrets();
        let body = serde_json::json!({ "echo": "sk-judge\"quoted\\key" }).to_string();
        assert_eq!(s.redact(&body), r#"{"echo":"[redacted:JUDGE_KEY]"}"#);
    }

    /// A placeholder key would otherwise rewrite ordinary words in every reply.
    #[test]
    fn values_too_short_to_be_keys_are_left_alone() {
        assert_eq!(secrets().redact("served by ollama"), "served by ollama");
    }

    #[test]
    fn turns_and_errors_are_scrubbed() {
        let s = secrets();
        let mut turn = BotTurn {
            content: "echo: Bearer tok-0123456789".into(),
            tool_calls: vec![crate::result::ToolCall {
                name: "issue_refund".into(),
                arguments: r#"{"note":"tok-0123456789"}"#.into(),
            }],
            ..BotTurn::default()
        };
        s.redact_turn(&mut turn);
        assert_eq!(turn.content, "echo: [redacted:BOT_AUTH]");
        assert_eq!(
            turn.tool_calls[0].arguments,
            r#"{"note":"[redacted:BOT_AUTH]"}"#
        );
        let e = s.redact_error(ProviderError::Status {
            status: 401,
            retry_after: None,
            body: "bad key tok-0123456789".into(),
        });
        assert_eq!(e.to_string(), "HTTP 401: bad key [redacted:BOT_AUTH]");
    }
}
