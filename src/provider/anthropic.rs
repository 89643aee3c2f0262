//! Anthropic's Messages API (`POST {base_url}/v1/messages`), as the bot under test and as
//! an LLM for the judge. The rendered prompt is `system`; the whole history is sent every
//! turn; the handoff tool is offered in `tools`, and the `tool_use` blocks of an answer are
//! the bot's tool calls.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::{ANTHROPIC_BASE_URL, ANTHROPIC_MAX_TOKENS, AnthropicBotConfig, JudgeConfig};
use crate::provider::{
    BotTurn, BoxFuture, JsonMode, LlmClient, LlmRequest, Message, Opening, Provider, ProviderError,
    Session,
};
use crate::result::{Role, ToolCall};
use crate::secrets::Secrets;
use crate::transport::{HttpClient, excerpt};

/// The `anthropic-version` header: the API version whose request and response shapes this
/// file speaks.
pub const API_VERSION: &str = "2023-06-01";

/// The API key and the name of the environment variable it came from; the name stands in
/// for the key wherever a server echoed it.
#[derive(Clone)]
pub struct ApiKey {
    pub env: String,
    pub value: String,
}

/// Written by hand so that no debug print can show the key.
impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("env", &self.env)
            .field("value", &"[redacted]")
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct AnthropicSettings {
    /// Requests go to `{base_url}/v1/messages`.
    pub base_url: String,
    pub model: String,
    pub api_key: ApiKey,
    pub temperature: Option<f64>,
    /// Required by the API: the most tokens an answer may have.
    pub max_tokens: u32,
    pub timeout: Duration,
    /// Offered to the bot as a tool it can call to hand over to a human.
    pub handoff_tool: Option<String>,
    pub max_connections: usize,
}

impl AnthropicSettings {
    /// The bot section of the config, with the key read from its environment variable.
    pub fn for_bot(
        bot: &AnthropicBotConfig,
        key: Option<String>,
        max_connections: usize,
    ) -> Result<AnthropicSettings, String> {
        Ok(AnthropicSettings {
            base_url: bot.base_url().to_string(),
            model: bot.model.clone().unwrap_or_default(),
            api_key: api_key("bot", bot.api_key_env.as_ref().map(|v| &v.value), key)?,
            temperature: bot.temperature.as_ref().map(|t| t.value),
            max_tokens: bot.max_tokens(),
            timeout: Duration::from_secs_f64(bot.timeout_s),
            handoff_tool: bot.handoff.tool.clone(),
            max_connections,
        })
    }

    /// The judge section of the config: temperature 0 unless it says otherwise, no tools.
    pub fn for_judge(
        judge: &JudgeConfig,
        key: Option<String>,
    ) -> Result<AnthropicSettings, String> {
        Ok(AnthropicSettings {
            base_url: judge
                .base_url
                .clone()
                .unwrap_or_else(|| ANTHROPIC_BASE_URL.to_string()),
            model: judge.model.clone().unwrap_or_default(),
            api_key: api_key("judge", judge.api_key_env.as_ref().map(|v| &v.value), key)?,
            temperature: Some(judge.temperature.unwrap_or(0.0)),
            max_tokens: judge.max_tokens.unwrap_or(ANTHROPIC_MAX_TOKENS),
            timeout: Duration::from_secs_f64(judge.timeout_s),
            handoff_tool: None,
            max_connections: judge.concurrency,
        })
    }
}

/// The key the config's `api_key_env` names. The config check already reported a missing
/// one at its line; this only keeps a request from going out without it.
fn api_key(section: &str, env: Option<&String>, key: Option<String>) -> Result<ApiKey, String> {
    let env =
        env.ok_or_else(|| format!("{section}.api_key_env is required for provider `anthropic`"))?;
    let value =
        key.ok_or_else(|| format!("{section}.api_key_env names `{env}`, which holds no key"))?;
    Ok(ApiKey {
        env: env.clone(),
        value,
    })
}

/// Anthropic's Messages API: as the bot under test, and as an LLM for the judge.
#[derive(Clone)]
pub struct AnthropicBot {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    settings: AnthropicSettings,
    tools: Option<Value>,
    /// The key, scrubbed from what the server sends back before an error body is cut to
    /// an excerpt: a server may echo the request, headers included.
    secrets: Secrets,
}

impl AnthropicBot {
    pub fn new(settings: AnthropicSettings) -> Result<AnthropicBot, String> {
        let http = HttpClient::new(
            &messages_url(&settings.base_url),
            headers(&settings.api_key)?,
            settings.max_connections,
        )?;
        let tools = settings.handoff_tool.as_ref().map(|name| {
            json!([{
                "name": name,
                "description": "Hand the conversation over to a human support agent.",
                "input_schema": {
                    "type": "object",
                    "properties": { "reason": { "type": "string" } },
                    "required": ["reason"]
                }
            }])
        });
        let key = &settings.api_key;
        let secrets = Secrets::from_values([(key.env.as_str(), key.value.clone())]);
        Ok(AnthropicBot {
            inner: Arc::new(Inner {
                http,
                settings,
                tools,
                secrets,
            }),
        })
    }

    /// One answer to a whole conversation, as the bot under test gives it.
    pub async fn respond(
        &self,
        system: Option<&str>,
        history: &[Message],
    ) -> Result<BotTurn, ProviderError> {
        let inner = &self.inner;
        let body = inner.request_body(system, history, inner.tools.as_ref());
        inner.send_with_timeout(body).await
    }
}

fn messages_url(base_url: &str) -> String {
    format!("{}/v1/messages", base_url.trim_end_matches('/'))
}

/// `x-api-key` (marked sensitive, so no debug print shows it) and `anthropic-version`;
/// the transport adds `content-type` itself.
fn headers(key: &ApiKey) -> Result<HeaderMap, String> {
    let mut value = HeaderValue::from_str(&key.value).map_err(|_| {
        format!(
            "the API key in `{}` contains characters not allowed in an HTTP header",
            key.env
        )
    })?;
    value.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert(HeaderName::from_static("x-api-key"), value);
    headers.insert(
        HeaderName::from_static("anthropic-version"),
        HeaderValue::from_static(API_VERSION),
    );
    Ok(headers)
}

impl Provider for AnthropicBot {
    fn model(&self) -> String {
        self.inner.settings.model.clone()
    }

    /// Only at temperature 0 is a repeat expected to give the same answer.
    fn cache_identity(&self) -> Option<String> {
        let s = &self.inner.settings;
        let tools = self.inner.tools.as_ref().map(Value::to_string);
        (s.temperature == Some(0.0)).then(|| {
            format!(
                "anthropic\u{0}{API_VERSION}\u{0}{}\u{0}{}\u{0}{:?}\u{0}{}\u{0}{}",
                s.base_url.trim_end_matches('/'),
                s.model,
                s.temperature,
                s.max_tokens,
                tools.unwrap_or_default()
            )
        })
    }

    fn open<'a>(
        &'a self,
        opening: Opening<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn Session>, ProviderError>> {
        let session = MessagesSession {
            bot: self.clone(),
            system: opening.system_prompt.map(str::to_string),
            history: Vec::new(),
        };
        Box::pin(async move { Ok(Box::new(session) as Box<dyn Session>) })
    }
}

/// A conversation held on evalgate's side: the whole history goes with every turn.
struct MessagesSession {
    bot: AnthropicBot,
    system: Option<String>,
    history: Vec<Message>,
}

impl Session for MessagesSession {
    fn send<'a>(&'a mut self, message: &'a str) -> BoxFuture<'a, Result<BotTurn, ProviderError>> {
        Box::pin(async move {
            self.history.push(Message {
                role: Role::User,
                content: message.to_string(),
            });
            let answer = self
                .bot
                .respond(self.system.as_deref(), &self.history)
                .await;
            match &answer {
                Ok(turn) => self.history.push(Message {
                    role: Role::Assistant,
                    content: turn.content.clone(),
                }),
                // A failed turn leaves the conversation as it was, for the retry.
                Err(_) => {
                    self.history.pop();
                }
            }
            answer
        })
    }

    fn replay(&mut self, message: &str, turn: &BotTurn) {
        super::remember(&mut self.history, message, &turn.content);
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

impl LlmClient for AnthropicBot {
    fn model(&self) -> &str {
        &self.inner.settings.model
    }

    fn complete<'a>(
        &'a self,
        request: &'a LlmRequest,
    ) -> BoxFuture<'a, Result<BotTurn, ProviderError>> {
        Box::pin(async move {
            let inner = &self.inner;
            let system = with_json_requirement(&request.system, &request.json);
            let body = inner.request_body(Some(&system), &request.messages, None);
            inner.send_with_timeout(body).await
        })
    }
}

/// The Messages API has no `response_format`: the requirement goes into the system
/// prompt, and the judge's parser holds the answer to it strictly either way.
fn with_json_requirement(system: &str, json: &JsonMode) -> String {
    const ONLY_JSON: &str =
        "Answer with one JSON object and nothing else: no text before or after it, no code fence.";
    match json {
        JsonMode::None => system.to_string(),
        JsonMode::Object => format!("{system}\n\n{ONLY_JSON}"),
        JsonMode::Schema(schema) => {
            format!("{system}\n\n{ONLY_JSON} It must fit this JSON schema:\n{schema}")
        }
    }
}

#[derive(Serialize)]
struct MessagesRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
    messages: Vec<WireTurn<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<&'a Value>,
}

#[derive(Serialize)]
struct WireTurn<'a> {
    role: &'static str,
    content: Vec<TextBlock<'a>>,
}

#[derive(Serialize)]
struct TextBlock<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

/// The conversation as the API takes it. An assistant turn that was only a tool call has
/// no text, and the API refuses empty text blocks: such a turn is left out, and the
/// customer's messages on either side of it go as one user turn (as the API itself would
/// combine two consecutive user turns).
fn wire_turns(history: &[Message]) -> Vec<WireTurn<'_>> {
    let mut turns: Vec<WireTurn<'_>> = Vec::with_capacity(history.len());
    for m in history {
        let role = match m.role {
            Role::User => "user",
            Role::Assistant if m.content.trim().is_empty() => continue,
            Role::Assistant => "assistant",
        };
        let block = TextBlock {
            kind: "text",
            text: &m.content,
        };
        match turns.last_mut() {
            Some(last) if last.role == role => last.content.push(block),
            _ => turns.push(WireTurn {
                role,
                content: vec![block],
            }),
        }
    }
    turns
}

impl Inner {
    /// The request body, serialized straight from borrowed text: the history is sent
    /// every turn, so building it should not copy it.
    fn request_body(
        &self,
        system: Option<&str>,
        history: &[Message],
        tools: Option<&Value>,
    ) -> Vec<u8> {
        let request = MessagesRequest {
            model: &self.settings.model,
            max_tokens: self.settings.max_tokens,
            system: system.filter(|s| !s.is_empty()),
            messages: wire_turns(history),
            temperature: self.settings.temperature,
            tools,
        };
        // Strings and numbers only: serializing cannot fail.
        serde_json::to_vec(&request).unwrap_or_default()
    }

    async fn send_with_timeout(&self, body: Vec<u8>) -> Result<BotTurn, ProviderError> {
        let timeout = self.settings.timeout;
        match tokio::time::timeout(timeout, self.send(body)).await {
            Ok(result) => result.map_err(|e| self.secrets.redact_error(e)),
            Err(_) => Err(ProviderError::Timeout(timeout)),
        }
    }

    async fn send(&self, body: Vec<u8>) -> Result<BotTurn, ProviderError> {
        let reply = self.http.post_json(body).await?;
        if !(200..300).contains(&reply.status) {
            return Err(ProviderError::Status {
                status: reply.status,
                retry_after: reply.retry_after,
                body: excerpt(&self.scrub(error_text(&reply.body))),
            });
        }
        parse_message(&reply.body).map_err(|e| match e {
            ProviderError::BadResponse(m) => ProviderError::BadResponse(excerpt(&self.scrub(m))),
            other => other,
        })
    }

    fn scrub(&self, text: String) -> String {
        self.secrets.redact(&text).into_owned()
    }
}

/// An error body in a line: `type: message` when it has the API's error shape, else the
/// text as sent.
fn error_text(body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(envelope) => envelope.error.to_string(),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

/// `{"type": "error", "error": {"type": ..., "message": ...}}`
#[derive(Deserialize)]
struct ErrorEnvelope {
    error: WireError,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    message: String,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

#[derive(Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Option<Vec<Block>>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<WireError>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        text: String,
    },
    ToolUse {
        name: String,
        #[serde(default)]
        input: Option<Value>,
    },
    /// Thinking and the like: not part of what the customer is told.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

/// Parses a Messages API response body. An answer with neither text nor a tool call is
/// an error: evalgate never scores an empty reply it could not read as a pass.
pub fn parse_message(bytes: &[u8]) -> Result<BotTurn, ProviderError> {
    let bad = ProviderError::BadResponse;
    let message: WireMessage = serde_json::from_slice(bytes)
        .map_err(|e| bad(format!("not a Messages API response: {e}")))?;
    if let Some(error) = message.error {
        return Err(bad(format!("an error instead of a message: {error}")));
    }
    let Some(blocks) = message.content else {
        return Err(bad("no `content` array: not a Messages API response".into()));
    };
    let mut content = String::new();
    let mut tool_calls = Vec::new();
    for block in blocks {
        match block {
            // Blocks of one answer are parts of one text (citations split it mid-sentence).
            Block::Text { text } => content.push_str(&text),
            Block::ToolUse { name, input } => tool_calls.push(ToolCall {
                name,
                arguments: input.map(|v| v.to_string()).unwrap_or_default(),
            }),
            Block::Other => {}
        }
    }
    if content.trim().is_empty() && tool_calls.is_empty() {
        return Err(bad(format!(
            "the answer has no text and no tool call (stop_reason: {})",
            message.stop_reason.as_deref().unwrap_or("none")
        )));
    }
    let (tokens_in, tokens_out) = message.usage.map_or((0, 0), |u| {
        // With prompt caching, `input_tokens` counts only what was not cached; what the
        // model read is the sum.
        let read = u.input_tokens.unwrap_or(0)
            + u.cache_creation_input_tokens.unwrap_or(0)
            + u.cache_read_input_tokens.unwrap_or(0);
        (read, u.output_tokens.unwrap_or(0))
    });
    Ok(BotTurn {
        content,
        tool_calls,
        handoff: false,
        tokens_in,
        tokens_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::path::Path;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const KEY: &str = "sk-ant-test-0123456789abcdefghijklmnopqrstuvwxyz";
    const KEY_ENV: &str = "TEST_ANTHROPIC_KEY";

    fn settings(addr: SocketAddr) -> AnthropicSettings {
        AnthropicSettings {
            // A trailing slash, as users paste base URLs.
            base_url: format!("http://{addr}/"),
            model: "claude-test".into(),
            api_key: ApiKey {
                env: KEY_ENV.into(),
                value: KEY.into(),
            },
            temperature: Some(0.0),
            max_tokens: 333,
            timeout: Duration::from_secs(10),
            handoff_tool: Some("escalate_to_human".into()),
            max_connections: 1,
        }
    }

    /// A request the scripted server read: its head (request line and headers) and body.
    struct Recorded {
        head: String,
        body: Value,
    }

    /// A server on 127.0.0.1 that answers each request with the next of `replies` (whole
    /// HTTP responses), one connection each, and then returns the requests it read.
    async fn scripted(
        replies: Vec<String>,
    ) -> (SocketAddr, tokio::task::JoinHandle<Vec<Recorded>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut seen = Vec::new();
            for reply in replies {
                let accepted = tokio::time::timeout(Duration::from_secs(10), listener.accept());
                let (mut stream, _) = accepted.await.unwrap().unwrap();
                let read = tokio::time::timeout(Duration::from_secs(10), read_request(&mut stream));
                seen.push(read.await.unwrap());
                stream.write_all(reply.as_bytes()).await.unwrap();
            }
            seen
        });
        (addr, server)
    }

    async fn read_request(stream: &mut tokio::net::TcpStream) -> Recorded {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                let length: usize = head
                    .to_lowercase()
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().unwrap())
                    .unwrap_or(0);
                while buf.len() < end + 4 + length {
                    let n = stream.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "the client hung up mid-request");
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body = serde_json::from_slice(&buf[end + 4..end + 4 + length]).unwrap();
                return Recorded { head, body };
            }
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the client hung up mid-request");
            buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn http(status: &str, extra_headers: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra_headers}\r\n{body}",
            body.len()
        )
    }

    fn case() -> crate::evalset::Case {
        let yaml = "language: en\ncases:\n  - id: a\n    stratum: routine\n    turns:\n      - user: hi\n    expect:\n      outcome: resolve\n";
        crate::evalset::load_file(Path::new("en.yaml"), yaml)
            .unwrap()
            .remove(0)
    }

    fn user(content: &str) -> Message {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }

    fn assistant(content: &str) -> Message {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_conversation_goes_whole_with_the_headers_and_tools_the_api_wants() {
        let (addr, server) = scripted(vec![
            http(
                "200 OK",
                "",
                r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-test","content":[{"type":"text","text":"Hello"},{"type":"text","text":", there."}],"stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":3}}"#,
            ),
            http(
                "200 OK",
                "",
                r#"{"id":"msg_2","type":"message","role":"assistant","model":"claude-test","content":[{"type":"tool_use","id":"toolu_1","name":"escalate_to_human","input":{"reason":"fraud"}}],"stop_reason":"tool_use","usage":{"input_tokens":20,"output_tokens":5,"cache_read_input_tokens":4}}"#,
            ),
        ])
        .await;
        let bot = AnthropicBot::new(settings(addr)).unwrap();
        let case = case();
        let mut session = bot
            .open(Opening {
                case: &case,
                repeat: 0,
                system_prompt: Some("You are a support bot."),
            })
            .await
            .unwrap();
        let first = session.send("Where is my refund?").await.unwrap();
        let second = session.send("Someone used my card: fraud.").await.unwrap();
        let seen = server.await.unwrap();

        assert_eq!(first.content, "Hello, there.");
        assert!(first.tool_calls.is_empty());
        assert_eq!((first.tokens_in, first.tokens_out), (10, 3));
        assert_eq!(second.content, "");
        assert_eq!(
            second.tool_calls,
            [ToolCall {
                name: "escalate_to_human".into(),
                arguments: r#"{"reason":"fraud"}"#.into(),
            }]
        );
        assert_eq!((second.tokens_in, second.tokens_out), (24, 5));

        let head = seen[0].head.to_lowercase();
        assert!(head.starts_with("post /v1/messages http/1.1"), "{head}");
        assert!(head.contains(&format!("x-api-key: {}", KEY.to_lowercase())));
        assert!(head.contains("anthropic-version: 2023-06-01"), "{head}");
        assert_eq!(head.matches("content-type: application/json").count(), 1);
        assert!(!head.contains("authorization"), "{head}");

        let body = &seen[0].body;
        assert_eq!(body["model"], "claude-test");
        assert_eq!(body["max_tokens"], 333);
        assert_eq!(body["system"], "You are a support bot.");
        assert_eq!(body["temperature"], 0.0);
        assert_eq!(body["tools"][0]["name"], "escalate_to_human");
        assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
        assert_eq!(
            body["messages"],
            json!([{ "role": "user", "content": [{ "type": "text", "text": "Where is my refund?" }] }])
        );
        assert_eq!(
            seen[1].body["messages"],
            json!([
                { "role": "user", "content": [{ "type": "text", "text": "Where is my refund?" }] },
                { "role": "assistant", "content": [{ "type": "text", "text": "Hello, there." }] },
                { "role": "user", "content": [{ "type": "text", "text": "Someone used my card: fraud." }] },
            ]),
            "the whole history goes with every turn"
        );
    }

    #[test]
    fn no_system_prompt_and_no_temperature_are_left_out() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let mut s = settings(addr);
        s.temperature = None;
        s.handoff_tool = None;
        let bot = AnthropicBot::new(s).unwrap();
        let body: Value =
            serde_json::from_slice(&bot.inner.request_body(None, &[user("hi")], None)).unwrap();
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["max_tokens", "messages", "model"]);
    }

    /// The API refuses empty text blocks: an assistant turn that was only a tool call is
    /// left out, and the customer's turns around it go as one user turn.
    #[test]
    fn a_turn_that_was_only_a_tool_call_is_not_sent_as_empty_text() {
        let history = [user("first"), assistant(""), user("second")];
        let turns = serde_json::to_value(wire_turns(&history)).unwrap();
        assert_eq!(
            turns,
            json!([{ "role": "user", "content": [
                { "type": "text", "text": "first" },
                { "type": "text", "text": "second" }
            ] }])
        );
    }

    /// The demo server refuses what the real API refuses; the conversation with a
    /// tool-call-only turn passes it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_server_takes_a_history_with_a_tool_call_only_turn() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(crate::demo_server::serve(
            listener,
            crate::demo_server::Protocol::Anthropic,
            async {
                let _ = stopped.await;
            },
        ));
        let mut s = settings(addr);
        s.base_url = format!("http://{addr}");
        let bot = AnthropicBot::new(s).unwrap();
        let history = [
            user("Someone used my card without permission, I think it is fraud."),
            assistant(""),
            user("Hello?"),
        ];
        let turn = bot.respond(Some("You are a support bot."), &history).await;
        let _ = stop.send(());
        server.await.unwrap().unwrap();
        let turn = turn.unwrap();
        assert!(!turn.content.is_empty() || !turn.tool_calls.is_empty());
    }

    /// 529 (overloaded) is retried after the wait the server asks for, then answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn overloaded_is_retried_after_the_wait_the_server_asks() {
        let (addr, server) = scripted(vec![
            http(
                "529 Overloaded",
                "retry-after: 1\r\n",
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ),
            http(
                "200 OK",
                "",
                r#"{"type":"message","role":"assistant","content":[{"type":"text","text":"Back."}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}"#,
            ),
        ])
        .await;
        let bot = AnthropicBot::new(settings(addr)).unwrap();
        let history = [user("hi")];
        let mut announced = Vec::new();
        let started = std::time::Instant::now();
        let (turn, attempts) = crate::retry::with_retries(
            crate::retry::RetryPolicy::new(2),
            || bot.respond(None, &history),
            |r| announced.push((r.wait, r.error.to_string())),
        )
        .await
        .unwrap();
        server.await.unwrap();
        assert_eq!(turn.content, "Back.");
        assert_eq!(attempts, 2);
        assert_eq!(
            announced,
            [(
                Duration::from_secs(1),
                "HTTP 529: overloaded_error: Overloaded".to_string()
            )]
        );
        assert!(started.elapsed() >= Duration::from_millis(950));
    }

    /// A server that echoes the key, in an error status or in an error object: the key
    /// becomes its env var's name, and is scrubbed before the excerpt is cut.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_echoed_key_leaves_no_trace_in_errors() {
        let excerpt_len = crate::transport::ERROR_BODY_EXCERPT;
        let (addr, server) = scripted(vec![
            http(
                "401 Unauthorized",
                "",
                &format!(
                    r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid x-api-key {KEY}"}}}}"#
                ),
            ),
            // The key starts 10 characters before the excerpt's end.
            http(
                "500 Internal Server Error",
                "",
                &format!("{}{KEY} trailing", "x".repeat(excerpt_len - 10)),
            ),
            http(
                "200 OK",
                "",
                &format!(
                    r#"{{"type":"error","error":{{"type":"api_error","message":"key {KEY} is odd"}}}}"#
                ),
            ),
        ])
        .await;
        let bot = AnthropicBot::new(settings(addr)).unwrap();
        let history = [user("hi")];
        let mut errors = Vec::new();
        for _ in 0..3 {
            errors.push(bot.respond(None, &history).await.unwrap_err());
        }
        server.await.unwrap();
        let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
        for text in &texts {
            assert!(
                !text.contains(&KEY[..8]),
                "a part of the key survived: {text}"
            );
        }
        assert_eq!(
            texts[0],
            format!("HTTP 401: authentication_error: invalid x-api-key [redacted:{KEY_ENV}]")
        );
        assert!(!errors[0].is_retryable());
        assert!(texts[1].starts_with("HTTP 500"), "{}", texts[1]);
        assert!(matches!(errors[2], ProviderError::BadResponse(_)));
        assert!(
            texts[2].contains(&format!("[redacted:{KEY_ENV}]")),
            "{}",
            texts[2]
        );
    }

    #[test]
    fn answers_that_are_not_messages_are_bad_responses() {
        for (body, says) in [
            (&b"{not json"[..], "not a Messages API response"),
            (br#"{"type":"message","role":"assistant"}"#, "no `content` array"),
            (
                br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
                "an error instead of a message: overloaded_error: Overloaded",
            ),
            (
                br#"{"content":[],"stop_reason":"end_turn"}"#,
                "no text and no tool call (stop_reason: end_turn)",
            ),
            (
                br#"{"content":[{"type":"text","text":"  "}],"stop_reason":"max_tokens"}"#,
                "no text and no tool call (stop_reason: max_tokens)",
            ),
            (
                br#"{"content":[{"type":"thinking","thinking":"hm","signature":"x"}],"stop_reason":"refusal"}"#,
                "no text and no tool call (stop_reason: refusal)",
            ),
            (br#"{"content":[{"type":"text"}]}"#, "not a Messages API response"),
            (
                br#"{"content":[{"type":"tool_use","input":{}}]}"#,
                "not a Messages API response",
            ),
        ] {
            let err = parse_message(body).unwrap_err();
            assert!(matches!(err, ProviderError::BadResponse(_)), "{err}");
            assert!(err.to_string().contains(says), "{err}");
            assert!(!err.is_retryable());
        }
    }

    #[test]
    fn thinking_is_not_part_of_the_reply_and_missing_usage_is_zero() {
        let turn = parse_message(
            br#"{"content":[{"type":"thinking","thinking":"secret","signature":"s"},{"type":"text","text":"Done."}],"stop_reason":"end_turn"}"#,
        )
        .unwrap();
        assert_eq!(turn.content, "Done.");
        assert_eq!((turn.tokens_in, turn.tokens_out), (0, 0));
    }

    #[test]
    fn answers_are_replayed_only_at_temperature_zero_and_per_setting() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let identity = |change: &dyn Fn(&mut AnthropicSettings)| {
            let mut s = settings(addr);
            change(&mut s);
            AnthropicBot::new(s).unwrap().cache_identity()
        };
        let base = identity(&|_| {});
        assert!(base.is_some());
        assert_eq!(identity(&|s| s.temperature = None), None);
        assert_eq!(identity(&|s| s.temperature = Some(0.7)), None);
        for other in [
            identity(&|s| s.max_tokens = 334),
            identity(&|s| s.model = "claude-other".into()),
            identity(&|s| s.base_url = "http://127.0.0.1:10/".into()),
            identity(&|s| s.handoff_tool = None),
            identity(&|s| s.handoff_tool = Some("transfer".into())),
        ] {
            assert!(other.is_some());
            assert_ne!(other, base);
        }
        assert_eq!(
            identity(&|s| s.base_url = s.base_url.trim_end_matches('/').into()),
            base,
            "a trailing slash is the same endpoint"
        );
    }

    /// The judge's JSON requirement goes into the system prompt; no tools are offered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_judge_asks_for_json_in_the_system_prompt() {
        let verdict = r#"{"criteria":[],"outcome":"resolved","unsupported_claims":[]}"#;
        let answer = json!({ "type": "message", "role": "assistant", "content": [{ "type": "text", "text": verdict }], "stop_reason": "end_turn", "usage": { "input_tokens": 50, "output_tokens": 9 } }).to_string();
        let (addr, server) = scripted(vec![
            http("200 OK", "", &answer),
            http("200 OK", "", &answer),
        ])
        .await;
        let bot = AnthropicBot::new(settings(addr)).unwrap();
        let schema = json!({ "type": "object", "required": ["outcome"] });
        for json in [JsonMode::Object, JsonMode::Schema(schema.clone())] {
            let request = LlmRequest {
                system: "You judge.".into(),
                messages: vec![user("the transcript")],
                json,
            };
            let turn = bot.complete(&request).await.unwrap();
            assert_eq!(turn.content, verdict);
            assert_eq!((turn.tokens_in, turn.tokens_out), (50, 9));
        }
        let seen = server.await.unwrap();
        let object = seen[0].body["system"].as_str().unwrap();
        assert!(
            object.starts_with("You judge.\n\nAnswer with one JSON object"),
            "{object}"
        );
        let with_schema = seen[1].body["system"].as_str().unwrap();
        assert!(with_schema.ends_with(&schema.to_string()), "{with_schema}");
        for s in &seen {
            assert!(s.body.get("tools").is_none(), "{}", s.body);
            assert!(s.body.get("response_format").is_none(), "{}", s.body);
        }
    }

    #[test]
    fn no_debug_print_shows_the_key() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let printed = format!("{:?}", settings(addr));
        assert!(!printed.contains(&KEY[..12]), "{printed}");
        assert!(printed.contains(KEY_ENV), "{printed}");
    }
}
