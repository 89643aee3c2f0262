//! Bots under test. Every provider answers one turn of a conversation given the system
//! prompt and the history, so the runner drives all of them the same way.

pub mod demo;
pub mod openai;

use std::fmt;
use std::time::Duration;

use crate::result::{Role, ToolCall};

/// One message of the conversation so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

/// The bot's answer to one turn.
#[derive(Debug, Clone, PartialEq, Default)]
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
    Openai(openai::OpenaiBot),
    Demo(demo::DemoBot),
}

impl Bot {
    pub async fn respond(&self, system: Option<&str>, history: &[Message]) -> Result<BotTurn, ProviderError> {
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
