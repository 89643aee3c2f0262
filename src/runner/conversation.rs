//! Drives one case × repeat: opens a session with the bot, sends the scripted turns one by
//! one (each call retried as the policy says), stops at a handoff, closes the session and
//! returns the transcript for scoring.

use std::time::Instant;

use crate::evalset::Case;
use crate::provider::{Answer, BotClient, BotConversation, BotTurn, Opening};
use crate::result::{ErrorCause, ErrorSource, ResultError, Role, TranscriptTurn};
use crate::retry::{GaveUp, RetryPolicy, Retrying, with_retries};
use crate::runner::events::{Callee, Events};
use crate::scoring::Conversation;

/// How one conversation is to be held.
pub struct Script<'a> {
    pub case: &'a Case,
    pub repeat: u32,
    pub system: Option<&'a str>,
    pub retry: RetryPolicy,
    pub handoff_tool: Option<&'a str>,
    pub markers: &'a [String],
}

pub async fn converse(bot: &BotClient, script: Script<'_>, events: &Events) -> Conversation {
    let started = Instant::now();
    let mut c = Conversation {
        turns: Vec::with_capacity(script.case.turns.len() * 2),
        ..Conversation::default()
    };
    let announce =
        |r: Retrying<'_>| events.retrying(&script.case.key, script.repeat, Callee::Bot, r);
    if let Some(session) = script.open(bot, &mut c, &announce).await {
        for user_text in &script.case.turns {
            // A human has the conversation after a handoff; the rest of the script would
            // talk to nobody.
            if script.send(&session, user_text, &mut c, &announce).await != Sent::Answered {
                break;
            }
        }
        session.close().await;
    }
    c.latency_ms = started.elapsed().as_millis() as u64;
    c
}

/// How one customer message sent to the bot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    Answered,
    HandedOff,
    /// The bot gave up; the conversation holds the error.
    Failed,
}

impl Script<'_> {
    /// Opens the bot's side of the conversation, retried as the policy says. `None` when
    /// the bot gave up; `c` then holds the error.
    pub(crate) async fn open<'b>(
        &self,
        bot: &'b BotClient,
        c: &mut Conversation,
        announce: &impl Fn(Retrying<'_>),
    ) -> Option<BotConversation<'b>> {
        let opening = Opening {
            case: self.case,
            repeat: self.repeat,
            system_prompt: self.system,
        };
        match with_retries(self.retry, || bot.open(opening), announce).await {
            Ok((session, tries)) => {
                c.attempts += tries - 1;
                Some(session)
            }
            Err(gave_up) => {
                c.attempts += gave_up.attempts;
                c.error = Some(bot_error(&gave_up));
                None
            }
        }
    }

    /// Sends one customer message (retried as the policy says) and records it and the
    /// bot's answer in `c`.
    pub(crate) async fn send(
        &self,
        session: &BotConversation<'_>,
        message: &str,
        c: &mut Conversation,
        announce: &impl Fn(Retrying<'_>),
    ) -> Sent {
        c.turns.push(customer_turn(message.to_string()));
        match with_retries(self.retry, || session.send(message), announce).await {
            Ok((answer, tries)) => {
                let Answer { turn, cached, took } = answer;
                c.attempts += if cached { tries - 1 } else { tries };
                c.tokens_in += turn.tokens_in;
                c.tokens_out += turn.tokens_out;
                let handed_off = handed_off(&turn, self.handoff_tool, self.markers);
                c.turns.push(TranscriptTurn {
                    role: Role::Assistant,
                    content: turn.content,
                    tool_calls: turn.tool_calls,
                    latency_ms: (!cached).then_some(took.as_millis() as u64),
                    cached,
                    handoff: turn.handoff,
                });
                if handed_off {
                    Sent::HandedOff
                } else {
                    Sent::Answered
                }
            }
            Err(gave_up) => {
                c.attempts += gave_up.attempts;
                c.error = Some(bot_error(&gave_up));
                Sent::Failed
            }
        }
    }
}

/// A customer's message as the transcript holds it.
pub(crate) fn customer_turn(content: String) -> TranscriptTurn {
    TranscriptTurn {
        role: Role::User,
        content,
        tool_calls: Vec::new(),
        latency_ms: None,
        cached: false,
        handoff: false,
    }
}

/// Whether the bot handed the customer to a human in this turn: by its own protocol's
/// signal, the handoff tool, or a marker in the reply.
pub(crate) fn handed_off(turn: &BotTurn, tool: Option<&str>, markers: &[String]) -> bool {
    turn.handoff
        || tool.is_some_and(|tool| turn.tool_calls.iter().any(|c| c.name == tool))
        || markers
            .iter()
            .any(|m| !m.is_empty() && turn.content.contains(m.as_str()))
}

pub(crate) fn bot_error(gave_up: &GaveUp) -> ResultError {
    ResultError {
        message: gave_up.to_string(),
        source: ErrorSource::Bot,
        cause: ErrorCause::of(&gave_up.error),
    }
}
