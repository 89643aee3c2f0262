//! The built-in demo bot as a provider: in-process, deterministic, no network.

use crate::provider::{
    BotTurn, BoxFuture, Message, Opening, Provider, ProviderError, Session, estimate_tokens,
};
use crate::result::{Role, ToolCall};
use evalgate_demo_bot as demo_bot;

pub const MODEL: &str = "evalgate-demo";
/// The tool the demo bot calls to hand a customer to a human.
pub const HANDOFF_TOOL: &str = "escalate_to_human";

#[cfg(test)]
mod evalset_tests;

#[derive(Debug, Default, Clone)]
pub struct DemoBot;

impl Provider for DemoBot {
    fn model(&self) -> String {
        MODEL.to_string()
    }

    /// Its answers cost less to compute than to read from disk.
    fn cache_identity(&self) -> Option<String> {
        None
    }

    fn open<'a>(
        &'a self,
        opening: Opening<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn Session>, ProviderError>> {
        let session = DemoSession {
            system: opening.system_prompt.unwrap_or("").to_string(),
            history: Vec::new(),
        };
        Box::pin(async move { Ok(Box::new(session) as Box<dyn Session>) })
    }
}

/// A conversation with the demo bot: it reads the whole history each turn, like an LLM.
struct DemoSession {
    system: String,
    history: Vec<Message>,
}

impl Session for DemoSession {
    fn send<'a>(&'a mut self, message: &'a str) -> BoxFuture<'a, Result<BotTurn, ProviderError>> {
        self.history.push(Message {
            role: Role::User,
            content: message.to_string(),
        });
        let turn = answer(&self.system, &self.history);
        self.history.push(Message {
            role: Role::Assistant,
            content: turn.content.clone(),
        });
        Box::pin(async move { Ok(turn) })
    }

    fn replay(&mut self, message: &str, turn: &BotTurn) {
        crate::provider::remember(&mut self.history, message, &turn.content);
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
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
    let back_office = reply.actions.iter().map(|a| ToolCall {
        name: a.name.to_string(),
        arguments: serde_json::Value::Object(
            a.arguments
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::from(v.as_str())))
                .collect(),
        )
        .to_string(),
    });
    let handoff = reply.escalate.map(|reason| ToolCall {
        name: HANDOFF_TOOL.to_string(),
        arguments: serde_json::json!({ "reason": reason }).to_string(),
    });
    let tool_calls = back_office.chain(handoff).collect();
    let tokens_in = estimate_tokens(system)
        + history
            .iter()
            .map(|m| estimate_tokens(&m.content))
            .sum::<u64>();
    BotTurn {
        tokens_out: estimate_tokens(&reply.content),
        content: reply.content,
        tool_calls,
        handoff: false,
        tokens_in,
    }
}
