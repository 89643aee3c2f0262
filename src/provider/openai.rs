//! OpenAI-compatible chat completions (OpenAI, Azure, Ollama, vLLM, llama.cpp, LiteLLM).
//! The rendered prompt is the system message; the whole history is sent every turn.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::provider::{
    BotTurn, BoxFuture, JsonMode, LlmClient, LlmRequest, Message, Opening, Provider, ProviderError,
    Session,
};
use crate::result::{Role, ToolCall};
use crate::secrets::Secrets;
use crate::transport::{HttpClient, bearer_headers, excerpt};

#[derive(Clone)]
pub struct OpenaiSettings {
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    /// The variable the key came from: what a scrubbed key is replaced by names it.
    pub api_key_env: Option<String>,
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

/// An OpenAI-compatible endpoint: as the bot under test, and as an LLM for the judge.
#[derive(Clone)]
pub struct OpenaiBot {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    settings: OpenaiSettings,
    tools: Option<Value>,
    /// The key, scrubbed from error bodies before they are cut to an excerpt.
    secrets: Secrets,
}

impl OpenaiBot {
    pub fn new(settings: OpenaiSettings) -> Result<OpenaiBot, String> {
        let http = HttpClient::new(
            &chat_url(&settings.base_url),
            authorization(&settings)?,
            settings.max_connections,
        )?;
        Ok(OpenaiBot::with_http(settings, http))
    }

    /// `general`: use the general HTTP client even where the lean one would do.
    #[cfg(test)]
    fn with_transport(settings: OpenaiSettings, general: bool) -> Result<OpenaiBot, String> {
        let http = HttpClient::with_transport(
            &chat_url(&settings.base_url),
            authorization(&settings)?,
            settings.max_connections,
            general,
        )?;
        Ok(OpenaiBot::with_http(settings, http))
    }

    fn with_http(settings: OpenaiSettings, http: HttpClient) -> OpenaiBot {
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
        let secrets = Secrets::from_values(settings.api_key.clone().map(|key| {
            let env = settings.api_key_env.as_deref().unwrap_or("API_KEY");
            (env, key)
        }));
        OpenaiBot {
            inner: Arc::new(Inner {
                http,
                settings,
                tools,
                secrets,
            }),
        }
    }

    /// One completion of a whole conversation, as the bot under test answers it.
    pub async fn respond(
        &self,
        system: Option<&str>,
        history: &[Message],
    ) -> Result<BotTurn, ProviderError> {
        let inner = &self.inner;
        inner
            .send_with_timeout(inner.request_body(system, history))
            .await
    }
}

fn chat_url(base_url: &str) -> String {
    format!("{}/chat/completions", base_url.trim_end_matches('/'))
}

fn authorization(settings: &OpenaiSettings) -> Result<reqwest::header::HeaderMap, String> {
    bearer_headers(settings.api_key.as_deref())
}

impl Provider for OpenaiBot {
    fn model(&self) -> String {
        self.inner.settings.model.clone()
    }

    /// Only at temperature 0 is a repeat expected to give the same answer.
    fn cache_identity(&self) -> Option<String> {
        let s = &self.inner.settings;
        (s.temperature == Some(0.0)).then(|| {
            format!(
                "openai\u{0}{}\u{0}{}\u{0}{:?}\u{0}{:?}\u{0}{:?}",
                s.base_url, s.model, s.temperature, s.max_tokens, s.handoff_tool
            )
        })
    }

    fn open<'a>(
        &'a self,
        opening: Opening<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn Session>, ProviderError>> {
        let session = ChatSession {
            bot: self.clone(),
            system: opening.system_prompt.map(str::to_string),
            history: Vec::new(),
        };
        Box::pin(async move { Ok(Box::new(session) as Box<dyn Session>) })
    }
}

/// A conversation held on evalgate's side: the whole history goes with every turn.
struct ChatSession {
    bot: OpenaiBot,
    system: Option<String>,
    history: Vec<Message>,
}

impl ChatSession {
    fn push(&mut self, message: &str, reply: &str) {
        super::remember(&mut self.history, message, reply);
    }
}

impl Session for ChatSession {
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
            match answer {
                Ok(turn) => {
                    self.history.push(Message {
                        role: Role::Assistant,
                        content: turn.content.clone(),
                    });
                    Ok(turn)
                }
                Err(e) => {
                    // A failed turn leaves the conversation as it was, for the retry.
                    self.history.pop();
                    Err(e)
                }
            }
        })
    }

    fn replay(&mut self, message: &str, turn: &BotTurn) {
        self.push(message, &turn.content);
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

impl LlmClient for OpenaiBot {
    fn model(&self) -> &str {
        &self.inner.settings.model
    }

    fn complete<'a>(
        &'a self,
        request: &'a LlmRequest,
    ) -> BoxFuture<'a, Result<BotTurn, ProviderError>> {
        Box::pin(async move {
            let inner = &self.inner;
            let mut messages = vec![json!({ "role": "system", "content": request.system })];
            messages.extend(request.messages.iter().map(|m| {
                json!({
                    "role": match m.role { Role::User => "user", Role::Assistant => "assistant" },
                    "content": m.content,
                })
            }));
            let mut body = json!({ "model": inner.settings.model, "messages": messages });
            if let Some(t) = inner.settings.temperature {
                body["temperature"] = json!(t);
            }
            if let Some(m) = inner.settings.max_tokens {
                body["max_tokens"] = json!(m);
            }
            match &request.json {
                JsonMode::None => {}
                JsonMode::Object => body["response_format"] = json!({ "type": "json_object" }),
                JsonMode::Schema(schema) => {
                    body["response_format"] = json!({
                        "type": "json_schema",
                        "json_schema": { "name": "verdict", "strict": true, "schema": schema }
                    });
                }
            }
            inner.send_with_timeout(body.to_string().into_bytes()).await
        })
    }
}

impl Inner {
    async fn send_with_timeout(&self, body: Vec<u8>) -> Result<BotTurn, ProviderError> {
        let timeout = self.settings.timeout;
        match tokio::time::timeout(timeout, self.send(body)).await {
            Ok(result) => result.map_err(|e| self.secrets.redact_error(e)),
            Err(_) => Err(ProviderError::Timeout(timeout)),
        }
    }

    fn scrub(&self, text: String) -> String {
        self.secrets.redact(&text).into_owned()
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
        let reply = self.http.post_json(body).await?;
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
        handoff: false,
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
            let excerpt = crate::transport::ERROR_BODY_EXCERPT;
            let body = format!("{}{key} trailing", "x".repeat(excerpt - 10));
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
            api_key_env: Some("BOT_KEY".into()),
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
        let server = tokio::spawn(crate::demo_server::serve(
            listener,
            crate::demo_server::Protocol::Openai,
            async {
                let _ = stopped.await;
            },
        ));
        let settings = OpenaiSettings {
            base_url: format!("http://{addr}/v1/"),
            model: "demo".into(),
            api_key: Some("sk-test".into()),
            api_key_env: None,
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
            assert_eq!(bot.inner.http.is_general(), general);
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
}
