//! The built-in demo bot as a provider: in-process, deterministic, no network.

use crate::demo_bot;
use crate::provider::{BotTurn, Message, estimate_tokens};
use crate::result::{Role, ToolCall};

pub const MODEL: &str = "evalgate-demo";
/// The tool the demo bot calls to hand a customer to a human.
pub const HANDOFF_TOOL: &str = "escalate_to_human";

#[derive(Debug, Default, Clone)]
pub struct DemoBot;

impl DemoBot {
    pub fn respond(&self, system: Option<&str>, history: &[Message]) -> BotTurn {
        answer(system.unwrap_or(""), history)
    }
}

/// One demo-bot turn in provider terms; shared with the HTTP server so both give the same answers.
pub fn answer(system: &str, history: &[Message]) -> BotTurn {
    let conversation: Vec<demo_bot::Turn> = history
        .iter()
        .map(|m| demo_bot::Turn {
            role: match m.role {
                Role::User => demo_bot::Role::User,
                Role::Assistant => demo_bot::Role::Assistant,
            },
            content: m.content.clone(),
        })
        .collect();
    let reply = demo_bot::respond(system, &conversation);
    let tool_calls = reply
        .escalate
        .map(|reason| {
            vec![ToolCall {
                name: HANDOFF_TOOL.to_string(),
                arguments: serde_json::json!({ "reason": reason }).to_string(),
            }]
        })
        .unwrap_or_default();
    let tokens_in = estimate_tokens(system)
        + history
            .iter()
            .map(|m| estimate_tokens(&m.content))
            .sum::<u64>();
    BotTurn {
        tokens_out: estimate_tokens(&reply.content),
        content: reply.content,
        tool_calls,
        tokens_in,
    }
}
