//! Any bot behind HTTP (a Rasa REST channel, a vendor's conversation API, a team's own
//! service): requests rendered from the config's templates, answers read with its
//! expressions. A conversation may open with a `start` request that names its id; the
//! bot holds the conversation's state, so answers are never replayed from the cache.

mod response;
mod template;

use std::sync::Arc;
use std::time::Duration;

use minijinja::value::Value;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use template::{Rendered, Requests, TurnVars};
pub use template::{check, percent_encode};

use crate::config::HttpBotConfig;
use crate::evalset::Case;
use crate::provider::{BotTurn, BoxFuture, Message, Opening, Provider, ProviderError, Session};
use crate::transport::{RoutedClient, excerpt};
use response::{ResponseReader, Unreadable};

/// An `http` bot: cheap to clone, shared by every conversation of a run.
#[derive(Clone)]
pub struct HttpBot {
    inner: Arc<Inner>,
}

struct Inner {
    client: RoutedClient,
    requests: Requests,
    reader: ResponseReader,
    timeout: Duration,
    /// Env var name and value of every secret header, scrubbed from what a bot echoes.
    secrets: Vec<(String, String)>,
    model: String,
}

impl HttpBot {
    /// The bot a validated config describes; secret header values are read from the
    /// environment here.
    pub fn new(config: &HttpBotConfig, max_connections: usize) -> Result<HttpBot, String> {
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            headers.insert(header_name(name)?, header_value(name, value)?);
        }
        let mut secrets = Vec::new();
        for (name, var) in &config.secret_headers {
            let value = std::env::var(&var.value)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("bot.secret_headers.{name}: `{}` is not set", var.value))?;
            let mut header = header_value(name, &value)?;
            header.set_sensitive(true);
            headers.insert(header_name(name)?, header);
            secrets.push((var.value.clone(), value));
        }
        Ok(HttpBot {
            inner: Arc::new(Inner {
                client: RoutedClient::new(headers, max_connections)?,
                requests: Requests::new(config)?,
                reader: ResponseReader::new(config)?,
                timeout: Duration::from_secs_f64(config.timeout_s),
                secrets,
                model: host_of(&config.url.value),
            }),
        })
    }
}

fn header_name(name: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("`{name}` is not a header name"))
}

fn header_value(name: &str, value: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(value)
        .map_err(|_| format!("the value of header `{name}` has characters not allowed"))
}

/// What the summary names the bot by: the host its turns go to.
fn host_of(url_template: &str) -> String {
    let rest = url_template
        .split_once("://")
        .map_or(url_template, |(_, rest)| rest);
    let host = rest.split(['/', '?']).next().unwrap_or("");
    if host.is_empty() || host.contains("{{") {
        "http".to_string()
    } else {
        host.to_string()
    }
}

/// A fresh conversation id. Random, not seeded: a bot that keeps state per sender must
/// never see two runs (or two repeats) as one conversation.
fn fresh_id() -> String {
    format!("eg-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

impl Provider for HttpBot {
    fn model(&self) -> String {
        self.inner.model.clone()
    }

    /// The bot holds the conversation: an answer replayed from the cache would leave the
    /// bot's state behind the transcript.
    fn cache_identity(&self) -> Option<String> {
        None
    }

    fn open<'a>(
        &'a self,
        opening: Opening<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn Session>, ProviderError>> {
        Box::pin(async move {
            let session = self.start(opening.case, opening.system_prompt).await?;
            Ok(Box::new(session) as Box<dyn Session>)
        })
    }
}

impl HttpBot {
    /// A conversation, opened with the `start` request when there is one.
    async fn start(
        &self,
        case: &Case,
        system_prompt: Option<&str>,
    ) -> Result<HttpSession, ProviderError> {
        let inner = &self.inner;
        let vars = inner.requests.conversation_vars(case, system_prompt);
        let mut session_id = fresh_id();
        if let Some(request) = inner.requests.start(&vars, &session_id) {
            let request = request.map_err(|m| inner.redact(ProviderError::Request(m)))?;
            let (status, body) = inner.call(request).await?;
            let response =
                serde_json::from_slice(&body).map_err(|_| inner.not_json(status, &body))?;
            if let Some(id) = inner
                .reader
                .start(&response)
                .map_err(|m| inner.bad_response(m, &body))?
            {
                session_id = id;
            }
        }
        Ok(HttpSession {
            bot: Arc::clone(inner),
            vars,
            session_id,
            history: Vec::new(),
        })
    }
}

impl Inner {
    /// Sends a request within the timeout and returns the body of a 2xx answer; any other
    /// status is an error with a scrubbed excerpt of the body.
    async fn call(&self, request: Rendered) -> Result<(u16, bytes::Bytes), ProviderError> {
        let sent = self
            .client
            .send(&request.method, &request.url, request.body);
        let reply = match tokio::time::timeout(self.timeout, sent).await {
            Ok(reply) => reply.map_err(|e| self.redact(e))?,
            Err(_) => return Err(ProviderError::Timeout(self.timeout)),
        };
        if !(200..300).contains(&reply.status) {
            return Err(ProviderError::Status {
                status: reply.status,
                retry_after: reply.retry_after,
                body: self.body_excerpt(&reply.body),
            });
        }
        Ok((reply.status, reply.body))
    }

    /// A 2xx answer whose body is not JSON: a status error too, with what came instead.
    fn not_json(&self, status: u16, body: &[u8]) -> ProviderError {
        ProviderError::Status {
            status,
            retry_after: None,
            body: format!("the body is not JSON: {}", self.body_excerpt(body)),
        }
    }

    fn body_excerpt(&self, body: &[u8]) -> String {
        excerpt(&self.scrub(String::from_utf8_lossy(body).into_owned()))
    }

    /// An answer the expressions could not read, with an excerpt of the body to see why.
    fn bad_response(&self, message: String, body: &[u8]) -> ProviderError {
        let shown = excerpt(&self.scrub(String::from_utf8_lossy(body).into_owned()));
        ProviderError::BadResponse(self.scrub(format!("{message}; the body: {shown}")))
    }

    fn scrub(&self, mut text: String) -> String {
        for (name, value) in &self.secrets {
            if text.contains(value.as_str()) {
                text = text.replace(value.as_str(), &format!("[redacted:{name}]"));
            }
        }
        text
    }

    /// A server may echo the request, headers included; no secret may travel from its
    /// error into results, reports or logs.
    fn redact(&self, e: ProviderError) -> ProviderError {
        match e {
            ProviderError::Status {
                status,
                retry_after,
                body,
            } => ProviderError::Status {
                status,
                retry_after,
                body: self.scrub(body),
            },
            ProviderError::Transport(m) => ProviderError::Transport(self.scrub(m)),
            ProviderError::BadResponse(m) => ProviderError::BadResponse(self.scrub(m)),
            ProviderError::Request(m) => ProviderError::Request(self.scrub(m)),
            other => other,
        }
    }
}

/// One conversation: its id, and the history offered to the templates.
struct HttpSession {
    bot: Arc<Inner>,
    /// The values every request of this conversation sees (case, context, prompt).
    vars: Value,
    session_id: String,
    history: Vec<Message>,
}

impl HttpSession {
    fn remember(&mut self, message: &str, turn: &BotTurn) {
        crate::provider::remember(&mut self.history, message, &turn.content);
    }
}

impl Session for HttpSession {
    fn send<'a>(&'a mut self, message: &'a str) -> BoxFuture<'a, Result<BotTurn, ProviderError>> {
        Box::pin(async move {
            let bot = Arc::clone(&self.bot);
            let request = bot
                .requests
                .turn(
                    &self.vars,
                    &TurnVars {
                        message,
                        history: &self.history,
                        session_id: &self.session_id,
                        turn: self.history.len() / 2,
                    },
                )
                .map_err(|m| bot.redact(ProviderError::Request(m)))?;
            let (status, body) = bot.call(request).await?;
            let read = bot.reader.turn_from(&body).map_err(|e| match e {
                Unreadable::NotJson => bot.not_json(status, &body),
                Unreadable::Expression(m) => bot.bad_response(m, &body),
            })?;
            // Only a turn that was read changes the conversation: a failed one is sent
            // again as it was.
            if let Some(id) = read.session_id {
                self.session_id = id;
            }
            self.remember(message, &read.turn);
            Ok(read.turn)
        })
    }

    fn replay(&mut self, message: &str, turn: &BotTurn) {
        self.remember(message, turn);
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_is_the_host_turns_go_to() {
        assert_eq!(
            host_of("http://127.0.0.1:8787/v1/c/{{ session_id }}"),
            "127.0.0.1:8787"
        );
        assert_eq!(host_of("https://bot.example.com?x=1"), "bot.example.com");
        assert_eq!(host_of("{{ base }}/v1"), "http");
    }

    #[test]
    fn fresh_ids_differ() {
        assert_ne!(fresh_id(), fresh_id());
    }
}
