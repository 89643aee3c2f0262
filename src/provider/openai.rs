//! OpenAI-compatible chat completions (OpenAI, Azure, Ollama, vLLM, llama.cpp, LiteLLM).
//! The rendered prompt is the system message; the whole history is sent every turn.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::provider::plain_http::{PlainHttp, Reply};
use crate::provider::{BotTurn, Message, ProviderError};
use crate::result::{Role, ToolCall};

/// Bodies past this are refused rather than buffered: a misbehaving bot must not exhaust memory.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Longest error-body excerpt kept in a result.
const ERROR_BODY_EXCERPT: usize = 300;

#[derive(Clone)]
pub struct OpenaiSettings {
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub timeout: Duration,
    /// Offered to the bot as a function it can call to hand over to a human.
    pub handoff_tool: Option<String>,
    pub max_connections: usize,
}

/// Written by hand so that no debug print can show the key.
impl std::fmt::Debug for OpenaiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenaiSettings")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

pub struct OpenaiBot {
    transport: Transport,
    settings: OpenaiSettings,
    tools: Option<Value>,
}

/// How requests reach the bot.
enum Transport {
    /// `http://` with no proxy in the environment: the lean client.
    Plain(PlainHttp),
    /// HTTPS, proxies, user info in the URL: a general client.
    General {
        client: reqwest::Client,
        /// Parsed once: every request goes to it.
        url: reqwest::Url,
    },
}

/// Proxy variables a general client would honour for an `http://` URL; with any of them
/// set, requests go through that client so the proxy (and `NO_PROXY`) is respected.
const PROXY_VARIABLES: [&str; 4] = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"];

fn proxy_configured() -> bool {
    PROXY_VARIABLES
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// reqwest is built without a bundled crypto provider so that rustls uses `ring`
/// (no C toolchain beyond gcc, no aws-lc); install it once per process.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl OpenaiBot {
    pub fn new(settings: OpenaiSettings) -> Result<OpenaiBot, String> {
        let general = proxy_configured();
        OpenaiBot::with_transport(settings, general)
    }

    /// `general`: use the general client even where the lean one would do.
    fn with_transport(settings: OpenaiSettings, general: bool) -> Result<OpenaiBot, String> {
        let authorization = match &settings.api_key {
            Some(key) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                    "the API key contains characters not allowed in an HTTP header".to_string()
                })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let url = format!(
            "{}/chat/completions",
            settings.base_url.trim_end_matches('/')
        );
        let url = reqwest::Url::parse(&url).map_err(|e| format!("base_url `{url}`: {e}"))?;
        let plain = if general {
            None
        } else {
            PlainHttp::for_url(
                &url,
                authorization.clone(),
                settings.max_connections,
                MAX_BODY_BYTES,
            )
        };
        let transport = match plain {
            Some(plain) => Transport::Plain(plain),
            None => Transport::General {
                client: general_client(&settings, authorization)?,
                url,
            },
        };
        let tools = settings.handoff_tool.as_ref().map(|name| {
            json!([{
                "type": "function",
                "function": {
                    "name": name,
                    "description": "Hand the conversation over to a human support agent.",
                    "parameters": {
                        "type": "object",
                        "properties": { "reason": { "type": "string" } },
                        "required": ["reason"]
                    }
                }
            }])
        });
        Ok(OpenaiBot {
            transport,
            settings,
            tools,
        })
    }

    pub fn model(&self) -> &str {
        &self.settings.model
    }

    pub async fn respond(
        &self,
        system: Option<&str>,
        history: &[Message],
    ) -> Result<BotTurn, ProviderError> {
        self.send_with_timeout(self.request_body(system, history))
            .await
    }

    /// One chat completion from raw messages, optionally asking for a response format
    /// (the judge asks for JSON).
    pub async fn chat(
        &self,
        messages: Vec<Value>,
        response_format: Option<Value>,
    ) -> Result<BotTurn, ProviderError> {
        let mut body = json!({ "model": self.settings.model, "messages": messages });
        if let Some(t) = self.settings.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(m) = self.settings.max_tokens {
            body["max_tokens"] = json!(m);
        }
        if let Some(f) = response_format {
            body["response_format"] = f;
        }
        self.send_with_timeout(body.to_string().into_bytes()).await
    }

    async fn send_with_timeout(&self, body: Vec<u8>) -> Result<BotTurn, ProviderError> {
        let timeout = self.settings.timeout;
        match tokio::time::timeout(timeout, self.send(body)).await {
            Ok(result) => result.map_err(|e| self.redact(e)),
            Err(_) => Err(ProviderError::Timeout(timeout)),
        }
    }

    fn scrub(&self, text: String) -> String {
        match self.settings.api_key.as_deref().filter(|k| !k.is_empty()) {
            Some(key) => text.replace(key, "[REDACTED]"),
            None => text,
        }
    }

    /// A server may echo the request (headers included) in an error body; the key must
    /// not travel from there into results, reports or logs.
    fn redact(&self, e: ProviderError) -> ProviderError {
        let clean = |s: String| self.scrub(s);
        match e {
            ProviderError::Status {
                status,
                retry_after,
                body,
            } => ProviderError::Status {
                status,
                retry_after,
                body: clean(body),
            },
            ProviderError::Transport(m) => ProviderError::Transport(clean(m)),
            ProviderError::BadResponse(m) => ProviderError::BadResponse(clean(m)),
            other => other,
        }
    }

    /// The request body, serialized straight from borrowed text: the history is sent
    /// every turn, so building it should not copy it.
    fn request_body(&self, system: Option<&str>, history: &[Message]) -> Vec<u8> {
        #[derive(serde::Serialize)]
        struct ChatMessage<'a> {
            role: &'a str,
            content: &'a str,
        }
        #[derive(serde::Serialize)]
        struct ChatRequest<'a> {
            model: &'a str,
            messages: Vec<ChatMessage<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            temperature: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            max_tokens: Option<u32>,
            #[serde(skip_serializing_if = "Option::is_none")]
            tools: Option<&'a Value>,
        }
        let system = system.map(|content| ChatMessage {
            role: "system",
            content,
        });
        let turns = history.iter().map(|m| ChatMessage {
            role: match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            },
            content: &m.content,
        });
        let request = ChatRequest {
            model: &self.settings.model,
            messages: system.into_iter().chain(turns).collect(),
            temperature: self.settings.temperature,
            max_tokens: self.settings.max_tokens,
            tools: self.tools.as_ref(),
        };
        // Strings and numbers only: serializing cannot fail.
        serde_json::to_vec(&request).unwrap_or_default()
    }

    async fn send(&self, body: Vec<u8>) -> Result<BotTurn, ProviderError> {
        let reply = match &self.transport {
            Transport::Plain(plain) => plain.post_json(body).await?,
            Transport::General { client, url } => general_post(client, url, body).await?,
        };
        if !(200..300).contains(&reply.status) {
            return Err(ProviderError::Status {
                status: reply.status,
                retry_after: reply.retry_after,
                body: excerpt(&self.scrub(String::from_utf8_lossy(&reply.body).into_owned())),
            });
        }
        parse_completion(&reply.body)
    }
}

/// The client for HTTPS and proxies; `authorization` goes with every request.
fn general_client(
    settings: &OpenaiSettings,
    authorization: Option<HeaderValue>,
) -> Result<reqwest::Client, String> {
    install_crypto_provider();
    let mut headers = HeaderMap::new();
    if let Some(value) = authorization {
        headers.insert(AUTHORIZATION, value);
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(settings.max_connections)
        .tcp_nodelay(true)
        // A chat endpoint answers or fails; following a redirect would turn the POST
        // into a GET elsewhere (and costs a URL parse per request).
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// One POST through the general client, read whole.
async fn general_post(
    client: &reqwest::Client,
    url: &reqwest::Url,
    body: Vec<u8>,
) -> Result<Reply, ProviderError> {
    let mut response = client
        .post(url.clone())
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(transport_error)?;
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(body_too_large(MAX_BODY_BYTES));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Reply {
        status,
        retry_after,
        body: bytes.into(),
    })
}

fn transport_error(e: reqwest::Error) -> ProviderError {
    // Without the URL: it is ours, not news, and keeps messages short.
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    ProviderError::Transport(message)
}

fn excerpt(text: &str) -> String {
    let trimmed = text.trim();
    match trimmed.char_indices().nth(ERROR_BODY_EXCERPT) {
        Some((idx, _)) => format!("{}…", &trimmed[..idx]),
        None => trimmed.to_string(),
    }
}

/// A reply's `Retry-After`, whichever client read it.
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
}

/// A reply body past `max_bytes`, refused rather than buffered.
pub(super) fn body_too_large(max_bytes: usize) -> ProviderError {
    ProviderError::BadResponse(format!(
        "response body larger than {} MiB",
        max_bytes / (1024 * 1024)
    ))
}

/// `Retry-After` in seconds (the HTTP-date form is rare from APIs and treated as absent).
fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(300.0)))
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: ChoiceMessage,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<WireToolCall>>,
}

#[derive(Deserialize)]
struct WireToolCall {
    function: WireFunction,
}

#[derive(Deserialize)]
struct WireFunction {
    name: String,
    #[serde(default)]
    arguments: Option<Value>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

/// Parses a chat-completions response body.
pub fn parse_completion(bytes: &[u8]) -> Result<BotTurn, ProviderError> {
    let completion: Completion = serde_json::from_slice(bytes)
        .map_err(|e| ProviderError::BadResponse(format!("not a chat completion: {e}")))?;
    let choice = completion
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| ProviderError::BadResponse("no choices in the response".into()))?;
    let tool_calls = choice
        .message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .map(|c| ToolCall {
            name: c.function.name,
            arguments: match c.function.arguments {
                Some(Value::String(s)) => s,
                Some(other) => other.to_string(),
                None => String::new(),
            },
        })
        .collect();
    let usage = completion.usage.unwrap_or(Usage {
        prompt_tokens: 0,
        completion_tokens: 0,
    });
    Ok(BotTurn {
        content: choice.message.content.unwrap_or_default(),
        tool_calls,
        tokens_in: usage.prompt_tokens,
        tokens_out: usage.completion_tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_tools_and_usage() {
        let body = br#"{"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"escalate_to_human","arguments":"{\"reason\":\"fraud\"}"}}]}}],"usage":{"prompt_tokens":12,"completion_tokens":3}}"#;
        let turn = parse_completion(body).unwrap();
        assert_eq!(turn.content, "");
        assert_eq!(turn.tool_calls[0].name, "escalate_to_human");
        assert_eq!(turn.tool_calls[0].arguments, r#"{"reason":"fraud"}"#);
        assert_eq!((turn.tokens_in, turn.tokens_out), (12, 3));
    }

    #[test]
    fn malformed_bodies_are_bad_responses() {
        for body in [&b"{not json"[..], br#"{"choices":[]}"#, br#"{"foo":1}"#] {
            let err = parse_completion(body).unwrap_err();
            assert!(matches!(err, ProviderError::BadResponse(_)), "{err}");
            assert!(!err.is_retryable());
        }
    }

    /// The lean client and the general one send the same request and read the same answer.
    /// A server that echoes the key in an error body where the excerpt is cut: scrubbing
    /// must come first, or the cut would leave a prefix of the key no scrub matches.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_key_echoed_across_the_excerpt_boundary_leaves_no_trace() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let key = "sk-live-0123456789abcdefghijklmnopqrstuvwxyz";
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 64 * 1024];
            let _ = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut request)).await;
            // The key starts 10 characters before the excerpt's end.
            let body = format!("{}{key} trailing", "x".repeat(ERROR_BODY_EXCERPT - 10));
            let reply = format!(
                "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(reply.as_bytes()).await.unwrap();
        });
        let bot = OpenaiBot::new(OpenaiSettings {
            base_url: format!("http://{addr}/v1"),
            model: "m".into(),
            api_key: Some(key.into()),
            temperature: None,
            max_tokens: None,
            timeout: Duration::from_secs(5),
            handoff_tool: None,
            max_connections: 1,
        })
        .unwrap();
        let history = [Message {
            role: Role::User,
            content: "hi".into(),
        }];
        let err = bot.respond(None, &history).await.unwrap_err().to_string();
        assert!(err.contains("HTTP 500"), "{err}");
        assert!(
            !err.contains(&key[..8]),
            "a prefix of the key survived: {err}"
        );
        server.await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn both_transports_agree_with_the_demo_bot() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(crate::demo_server::serve(listener, async {
            let _ = stopped.await;
        }));
        let settings = OpenaiSettings {
            base_url: format!("http://{addr}/v1/"),
            model: "demo".into(),
            api_key: Some("sk-test".into()),
            temperature: Some(0.0),
            max_tokens: None,
            timeout: Duration::from_secs(10),
            handoff_tool: Some("escalate_to_human".into()),
            max_connections: 2,
        };
        let history = [Message {
            role: Role::User,
            content: "Someone used my card without permission, I think it is fraud.".into(),
        }];
        let mut turns = Vec::new();
        for general in [false, true] {
            let bot = OpenaiBot::with_transport(settings.clone(), general).unwrap();
            assert_eq!(matches!(bot.transport, Transport::General { .. }), general);
            turns.push(
                bot.respond(Some("You are a support bot."), &history)
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(turns[0], turns[1]);
        assert!(!turns[0].content.is_empty() || !turns[0].tool_calls.is_empty());
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
