//! Bots under test. A provider holds conversations: it opens a session per case × repeat
//! (which may call the bot, to get a conversation id), answers each customer turn with
//! the same [`BotTurn`] whatever the bot is, and closes the session. The runner drives
//! every provider the same way; [`BotClient`] puts the response cache and the rate limits
//! around any of them.
//!
//! Adding a provider: one file here implementing [`Provider`] and [`Session`], a variant
//! of [`crate::config::ProviderKind`] with its fields checked in [`build`], and nothing
//! else.

pub mod anthropic;
pub mod demo;
pub mod exec;
pub mod http;
pub mod openai;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use crate::transport::ProviderError;

use crate::cache::Cache;
use crate::evalset::Case;
use crate::ratelimit::RateLimiter;
use crate::result::{Role, ToolCall};
use crate::secrets::Secrets;

/// A boxed future, so that providers can be used as trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One message of the conversation so far.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

/// Adds one exchange, the customer's message and the bot's reply, to a session's history.
pub fn remember(history: &mut Vec<Message>, message: &str, reply: &str) {
    history.push(Message {
        role: Role::User,
        content: message.to_string(),
    });
    history.push(Message {
        role: Role::Assistant,
        content: reply.to_string(),
    });
}

/// The bot's answer to one turn: the same for every provider.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct BotTurn {
    pub content: String,
    /// The actions the bot reports taking (an LLM's tool calls).
    pub tool_calls: Vec<ToolCall>,
    /// The bot said, in its own protocol, that a human takes over (an HTTP bot's
    /// `handoff` field). Handoff tools and markers are recognised by the scorer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub handoff: bool,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

/// What a provider is told when a conversation opens.
#[derive(Debug, Clone, Copy)]
pub struct Opening<'a> {
    pub case: &'a Case,
    pub repeat: u32,
    /// The rendered system prompt, when the config names one.
    pub system_prompt: Option<&'a str>,
}

/// A bot the runner can hold conversations with.
pub trait Provider: Send + Sync {
    /// The model or bot recorded in the summary.
    fn model(&self) -> String;

    /// Everything besides the conversation that decides an answer, when answers may be
    /// replayed from the response cache; `None` when they may not (a bot that keeps
    /// state of its own, a sampled answer, or one cheaper to compute than to read).
    fn cache_identity(&self) -> Option<String>;

    /// Opens a conversation. May call the bot; a failure is retried like a turn.
    fn open<'a>(
        &'a self,
        opening: Opening<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn Session>, ProviderError>>;

    /// Lets go of what the provider keeps between conversations (a local program's
    /// processes) once a run is over. It may open conversations again afterwards.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// One conversation with a bot.
pub trait Session: Send {
    /// Sends the customer's next message and returns the bot's turn. A failed send leaves
    /// the session as it was, so the same message can be sent again.
    fn send<'a>(&'a mut self, message: &'a str) -> BoxFuture<'a, Result<BotTurn, ProviderError>>;

    /// Takes in a turn answered from the response cache, so the conversation the session
    /// holds stays whole. Called only for providers with a [`Provider::cache_identity`].
    fn replay(&mut self, message: &str, turn: &BotTurn);

    /// Ends the conversation (a provider may tell the bot). Never fails a result.
    fn close(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// What the judge (and the customer simulator) asks of an LLM: a system prompt, the
/// conversation, and whether the answer must be JSON.
#[derive(Debug, Clone)]
pub struct LlmRequest {
    pub system: String,
    pub messages: Vec<Message>,
    pub json: JsonMode,
}

/// How to ask an LLM for JSON.
#[derive(Debug, Clone)]
pub enum JsonMode {
    /// Not at all: for servers that reject the request field.
    None,
    /// Any JSON object.
    Object,
    /// JSON that fits this schema (best for small local models under a grammar).
    Schema(serde_json::Value),
}

/// An LLM that the judge or the simulator can call: any provider that is one.
pub trait LlmClient: Send + Sync {
    fn model(&self) -> &str;
    fn complete<'a>(
        &'a self,
        request: &'a LlmRequest,
    ) -> BoxFuture<'a, Result<BotTurn, ProviderError>>;
}

/// An LLM whose answers and errors have every secret taken out, so a judge that quotes a
/// key writes none.
pub struct Redacting {
    pub inner: Arc<dyn LlmClient>,
    pub secrets: Arc<Secrets>,
}

impl LlmClient for Redacting {
    fn model(&self) -> &str {
        self.inner.model()
    }

    fn complete<'a>(
        &'a self,
        request: &'a LlmRequest,
    ) -> BoxFuture<'a, Result<BotTurn, ProviderError>> {
        Box::pin(async move {
            match self.inner.complete(request).await {
                Ok(mut turn) => {
                    self.secrets.redact_turn(&mut turn);
                    Ok(turn)
                }
                Err(e) => Err(self.secrets.redact_error(e)),
            }
        })
    }
}

/// The LLM a `judge:` (or, later, `simulator:`) block names.
pub fn build_llm(
    cfg: &crate::config::JudgeConfig,
    api_key: Option<String>,
) -> Result<Arc<dyn LlmClient>, String> {
    use crate::config::ProviderKind;
    match cfg.provider {
        ProviderKind::Openai => Ok(Arc::new(openai::OpenaiBot::new(openai::OpenaiSettings {
            base_url: cfg.base_url.clone().unwrap_or_default(),
            model: cfg.model.clone().unwrap_or_default(),
            api_key,
            api_key_env: cfg.api_key_env.as_ref().map(|v| v.value.clone()),
            temperature: Some(cfg.temperature.unwrap_or(0.0)),
            max_tokens: cfg.max_tokens,
            timeout: std::time::Duration::from_secs_f64(cfg.timeout_s),
            handoff_tool: None,
            max_connections: cfg.concurrency,
        })?)),
        ProviderKind::Anthropic => Ok(Arc::new(anthropic::AnthropicBot::new(
            anthropic::AnthropicSettings::for_judge(cfg, api_key)?,
        )?)),
        ProviderKind::Demo => Err(
            "the demo bot is not an LLM: the judge needs `provider: openai` or `provider: anthropic`"
                .into(),
        ),
        ProviderKind::Exec => Err(
            "a local program is not an LLM: the judge needs `provider: openai` or `provider: anthropic`"
                .into(),
        ),
        ProviderKind::Http => Err(
            "an http bot is not an LLM: the judge needs `provider: openai` or `provider: anthropic`"
                .into(),
        ),
    }
}

/// The provider the config names. `run_dir` is where the run writes (a local program's
/// stderr goes there).
pub fn build(
    project: &crate::config::Project,
    concurrency: usize,
    run_dir: &std::path::Path,
) -> Result<Arc<dyn Provider>, String> {
    use crate::config::BotConfig;
    match &project.config.bot {
        BotConfig::Demo(_) => Ok(Arc::new(demo::DemoBot)),
        BotConfig::Http(bot) => Ok(Arc::new(http::HttpBot::new(bot, concurrency)?)),
        BotConfig::Openai(bot) => {
            let settings = openai::OpenaiSettings {
                base_url: bot.base_url.clone().unwrap_or_default(),
                model: bot.model.clone().unwrap_or_default(),
                api_key: project.api_key(),
                api_key_env: bot.api_key_env.as_ref().map(|v| v.value.clone()),
                temperature: bot.temperature,
                max_tokens: bot.max_tokens,
                timeout: std::time::Duration::from_secs_f64(bot.timeout_s),
                handoff_tool: bot.handoff.tool.clone(),
                max_connections: concurrency,
            };
            Ok(Arc::new(openai::OpenaiBot::new(settings)?))
        }
        BotConfig::Anthropic(bot) => Ok(Arc::new(anthropic::AnthropicBot::new(
            anthropic::AnthropicSettings::for_bot(bot, project.api_key(), concurrency)?,
        )?)),
        BotConfig::Exec(bot) => {
            let launch = exec::Launch {
                label: bot.command.value.join(" "),
                program: bot.program(&project.root).unwrap_or_default(),
                args: bot.args().to_vec(),
                env: bot.env.clone(),
                dir: project.root.clone(),
                stderr_log: run_dir.join(exec::STDERR_LOG),
            };
            let timeout = std::time::Duration::from_secs_f64(bot.timeout_s);
            Ok(Arc::new(exec::ExecBot::new(launch, timeout)))
        }
    }
}

/// Rough token count for providers that report none: about four bytes a token.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4)
}

/// The bot with what wraps every call to it: the response cache, rate limits, and the
/// redaction of secrets from what comes back.
pub struct BotClient {
    provider: Arc<dyn Provider>,
    /// The cache and the provider's identity, when its answers may be replayed.
    cache: Option<(Cache, String)>,
    limiter: Option<RateLimiter>,
    secrets: Arc<Secrets>,
}

impl BotClient {
    /// `cache` is used only if the provider allows its answers to be replayed.
    pub fn new(
        provider: Arc<dyn Provider>,
        cache: Option<Cache>,
        limiter: Option<RateLimiter>,
    ) -> BotClient {
        let cache = cache.and_then(|c| provider.cache_identity().map(|id| (c, id)));
        BotClient {
            provider,
            cache,
            limiter,
            secrets: Arc::default(),
        }
    }

    /// Takes these secrets out of every turn and error before anyone sees them, the
    /// response cache included: a hit replays the redacted reply.
    pub fn redacting(mut self, secrets: Arc<Secrets>) -> BotClient {
        self.secrets = secrets;
        self
    }

    pub fn model(&self) -> String {
        self.provider.model()
    }

    /// The run is over: the provider lets go of what it kept between conversations.
    pub async fn shutdown(&self) {
        self.provider.shutdown().await;
    }

    /// Opens a conversation for repeat `opening.repeat` of a case.
    pub async fn open(&self, opening: Opening<'_>) -> Result<BotConversation<'_>, ProviderError> {
        let session = self.provider.open(opening).await?;
        Ok(BotConversation {
            client: self,
            system: opening.system_prompt.unwrap_or("").to_string(),
            repeat: opening.repeat.to_string(),
            state: tokio::sync::Mutex::new(ConversationState {
                session,
                said: Vec::new(),
            }),
        })
    }
}

/// A conversation through a [`BotClient`]. Its turns are taken one at a time; the lock
/// only lets a retry loop hold the conversation by shared reference.
pub struct BotConversation<'c> {
    client: &'c BotClient,
    system: String,
    repeat: String,
    state: tokio::sync::Mutex<ConversationState>,
}

struct ConversationState {
    session: Box<dyn Session>,
    /// The conversation so far, for the cache key (kept only when there is a cache).
    said: Vec<(Role, String)>,
}

/// A turn as the conversation got it.
#[derive(Debug)]
pub struct Answer {
    pub turn: BotTurn,
    /// It came from the response cache, not the bot.
    pub cached: bool,
    /// How long the bot took (zero when cached).
    pub took: std::time::Duration,
}

impl BotConversation<'_> {
    /// One turn. The repeat is part of the cache key: repeats are separate samples, and a
    /// cache that served one answer to all of them would hide a flaky bot.
    pub async fn send(&self, message: &str) -> Result<Answer, ProviderError> {
        let mut state = self.state.lock().await;
        let cache = self.client.cache.as_ref();
        let key = cache.map(|(_, identity)| {
            let mut parts: Vec<&str> = vec![identity, &self.system, &self.repeat];
            for (role, content) in &state.said {
                parts.push(match role {
                    Role::User => "user",
                    Role::Assistant => "assistant",
                });
                parts.push(content);
            }
            parts.push("user");
            parts.push(message);
            Cache::key(&parts)
        });
        if let (Some((cache, _)), Some(key)) = (cache, &key)
            // A corrupt entry is a miss; the fresh answer overwrites it.
            && let Some(turn) = cache
                .get(key)
                .and_then(|text| serde_json::from_str::<BotTurn>(&text).ok())
        {
            state.session.replay(message, &turn);
            state.remember(message, &turn);
            return Ok(Answer {
                turn,
                cached: true,
                took: std::time::Duration::ZERO,
            });
        }
        if let Some(limiter) = &self.client.limiter {
            limiter.acquire().await;
        }
        let sent = std::time::Instant::now();
        let secrets = &self.client.secrets;
        let mut turn = state
            .session
            .send(message)
            .await
            .map_err(|e| secrets.redact_error(e))?;
        secrets.redact_turn(&mut turn);
        let took = sent.elapsed();
        if let Some(limiter) = &self.client.limiter {
            limiter.consumed(turn.tokens_in + turn.tokens_out);
        }
        if let (Some((cache, _)), Some(key)) = (cache, &key) {
            if let Ok(text) = serde_json::to_string(&turn) {
                cache.put(key, &text);
            }
            state.remember(message, &turn);
        }
        Ok(Answer {
            turn,
            cached: false,
            took,
        })
    }

    pub async fn close(self) {
        self.state.into_inner().session.close().await;
    }
}

impl ConversationState {
    fn remember(&mut self, message: &str, turn: &BotTurn) {
        self.said.push((Role::User, message.to_string()));
        self.said.push((Role::Assistant, turn.content.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// A provider whose answers may be cached, to test the cache around any provider.
    struct Replayable;

    impl Provider for Replayable {
        fn model(&self) -> String {
            "replayable".into()
        }
        fn cache_identity(&self) -> Option<String> {
            Some("replayable".into())
        }
        fn open<'a>(
            &'a self,
            opening: Opening<'a>,
        ) -> BoxFuture<'a, Result<Box<dyn Session>, ProviderError>> {
            let system = opening.system_prompt.unwrap_or("").to_string();
            Box::pin(async move { Ok(Box::new(Echo { system }) as Box<dyn Session>) })
        }
    }

    struct Echo {
        system: String,
    }

    impl Session for Echo {
        fn send<'a>(
            &'a mut self,
            message: &'a str,
        ) -> BoxFuture<'a, Result<BotTurn, ProviderError>> {
            let content = format!("{}: {message}", self.system);
            Box::pin(async move {
                Ok(BotTurn {
                    content,
                    ..BotTurn::default()
                })
            })
        }
        fn replay(&mut self, _: &str, _: &BotTurn) {}
        fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
            Box::pin(async {})
        }
    }

    fn case() -> Case {
        let yaml = "language: en\ncases:\n  - id: a\n    stratum: routine\n    turns:\n      - user: hi\n    expect:\n      outcome: resolve\n";
        crate::evalset::load_file(Path::new("en.yaml"), yaml)
            .unwrap()
            .remove(0)
    }

    /// Whatever may change the answer is in the cache key: the system prompt and the
    /// repeat as well as the conversation.
    #[tokio::test]
    async fn the_cache_key_holds_the_prompt_and_the_repeat() {
        let dir = crate::test_support::TempDir::new("bot-cache");
        let client = BotClient::new(
            Arc::new(Replayable),
            Some(Cache::new(dir.to_path_buf())),
            None,
        );
        let case = case();
        let cached = |prompt: &'static str, repeat: u32, message: &'static str| {
            let client = &client;
            let case = &case;
            async move {
                let opening = Opening {
                    case,
                    repeat,
                    system_prompt: Some(prompt),
                };
                let conversation = client.open(opening).await.unwrap();
                let answer = conversation.send(message).await.unwrap();
                conversation.close().await;
                answer.cached
            }
        };
        assert!(!cached("prompt A", 0, "Where is my refund?").await);
        assert!(cached("prompt A", 0, "Where is my refund?").await);
        assert!(
            !cached("prompt B", 0, "Where is my refund?").await,
            "another prompt is another answer"
        );
        assert!(
            !cached("prompt A", 1, "Where is my refund?").await,
            "another repeat is another sample"
        );
        assert!(!cached("prompt A", 0, "Hi").await);
    }

    /// The demo bot answers in microseconds: reading a cache would only cost time.
    #[test]
    fn only_replayable_providers_use_the_cache() {
        let dir = crate::test_support::TempDir::new("bot-cache-demo");
        let client = BotClient::new(
            Arc::new(demo::DemoBot),
            Some(Cache::new(dir.to_path_buf())),
            None,
        );
        assert!(client.cache.is_none());
    }
}
