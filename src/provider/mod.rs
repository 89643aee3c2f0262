//! Bots under test. Every provider answers one turn of a conversation given the system
//! prompt and the history, so the runner drives all of them the same way.

pub mod demo;
pub mod openai;
mod plain_http;

use std::fmt;
use std::time::Duration;

use crate::cache::Cache;
use crate::ratelimit::RateLimiter;
use crate::result::{Role, ToolCall};

/// One message of the conversation so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

/// The bot's answer to one turn.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct BotTurn {
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

/// Why a request to a bot failed. Messages never contain request headers or keys.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderError {
    Timeout(Duration),
    /// Could not connect, or the connection broke mid-response.
    Transport(String),
    Status {
        status: u16,
        retry_after: Option<Duration>,
        body: String,
    },
    /// The response arrived but is not what the protocol promises.
    BadResponse(String),
}

impl ProviderError {
    /// Connection problems, timeouts, 429 and 5xx may pass; other 4xx will not.
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::Timeout(_) | ProviderError::Transport(_) => true,
            ProviderError::Status { status, .. } => *status == 429 || *status >= 500,
            ProviderError::BadResponse(_) => false,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderError::Timeout(d) => write!(f, "timeout after {:.1}s", d.as_secs_f64()),
            ProviderError::Transport(m) => write!(f, "connection error: {m}"),
            ProviderError::Status { status, body, .. } => {
                write!(f, "HTTP {status}")?;
                if !body.is_empty() {
                    write!(f, ": {body}")?;
                }
                Ok(())
            }
            ProviderError::BadResponse(m) => write!(f, "invalid response: {m}"),
        }
    }
}

/// The bot under test.
pub enum Bot {
    Openai(Box<openai::OpenaiBot>),
    Demo(demo::DemoBot),
}

impl Bot {
    pub async fn respond(
        &self,
        system: Option<&str>,
        history: &[Message],
    ) -> Result<BotTurn, ProviderError> {
        match self {
            Bot::Openai(bot) => bot.respond(system, history).await,
            Bot::Demo(bot) => Ok(bot.respond(system, history)),
        }
    }

    pub fn model(&self) -> String {
        match self {
            Bot::Openai(bot) => bot.model().to_string(),
            Bot::Demo(_) => demo::MODEL.to_string(),
        }
    }
}

/// Rough token count for providers that report none: about four bytes a token.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4)
}

/// The bot with what wraps every request to it: the response cache and rate limits.
pub struct BotClient {
    pub bot: Bot,
    cache: Option<Cache>,
    /// Everything besides the messages that decides the answer, for the cache key.
    identity: String,
    limiter: Option<RateLimiter>,
}

impl BotClient {
    pub fn new(
        bot: Bot,
        cache: Option<Cache>,
        identity: String,
        limiter: Option<RateLimiter>,
    ) -> BotClient {
        BotClient {
            bot,
            cache,
            identity,
            limiter,
        }
    }

    /// One turn of repeat `repeat` of a case; the flag says whether the answer came from
    /// the cache. The repeat is part of the cache key: repeats are separate samples, and a
    /// cache that served one answer to all of them would hide a flaky bot.
    pub async fn respond(
        &self,
        system: Option<&str>,
        history: &[Message],
        repeat: u32,
    ) -> Result<(BotTurn, bool), ProviderError> {
        let key = self.cache.as_ref().map(|_| {
            let repeat = repeat.to_string();
            let mut parts: Vec<&str> = vec![&self.identity, system.unwrap_or(""), &repeat];
            for m in history {
                parts.push(match m.role {
                    Role::User => "user",
                    Role::Assistant => "assistant",
                });
                parts.push(&m.content);
            }
            Cache::key(&parts)
        });
        if let (Some(cache), Some(key)) = (&self.cache, &key) {
            // A corrupt entry is a miss; the fresh answer overwrites it.
            if let Some(turn) = cache
                .get(key)
                .and_then(|text| serde_json::from_str::<BotTurn>(&text).ok())
            {
                return Ok((turn, true));
            }
        }
        if let Some(limiter) = &self.limiter {
            limiter.acquire().await;
        }
        let turn = self.bot.respond(system, history).await?;
        if let Some(limiter) = &self.limiter {
            limiter.consumed(turn.tokens_in + turn.tokens_out);
        }
        if let (Some(cache), Some(key)) = (&self.cache, &key)
            && let Ok(text) = serde_json::to_string(&turn)
        {
            cache.put(key, &text);
        }
        Ok((turn, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str) -> Vec<Message> {
        vec![Message {
            role: Role::User,
            content: text.into(),
        }]
    }

    /// Whatever may change the answer is in the cache key: the system prompt and the
    /// repeat as well as the conversation.
    #[tokio::test]
    async fn the_cache_key_holds_the_prompt_and_the_repeat() {
        let dir = crate::test_support::TempDir::new("bot-cache");
        let client = BotClient::new(
            Bot::Demo(demo::DemoBot),
            Some(Cache::new(dir.to_path_buf())),
            "demo".into(),
            None,
        );
        let history = user("Where is my refund?");
        let cached = |r: Result<(BotTurn, bool), ProviderError>| r.map(|(_, c)| c).unwrap();
        assert!(!cached(client.respond(Some("prompt A"), &history, 0).await));
        assert!(cached(client.respond(Some("prompt A"), &history, 0).await));
        assert!(
            !cached(client.respond(Some("prompt B"), &history, 0).await),
            "another prompt is another answer"
        );
        assert!(
            !cached(client.respond(Some("prompt A"), &history, 1).await),
            "another repeat is another sample"
        );
        assert!(!cached(
            client.respond(Some("prompt A"), &user("Hi"), 0).await
        ));
    }
}
