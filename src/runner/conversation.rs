//! Drives one case × repeat: opens a session with the bot, sends the scripted turns one by
//! one (each call retried as the policy says), stops at a handoff, closes the session and
//! returns the transcript for scoring.

use std::time::Instant;

use crate::evalset::Case;
use crate::provider::{Answer, BotClient, BotTurn, Opening};
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
    let Script {
        case,
        repeat,
        system,
        retry,
        handoff_tool,
        markers,
    } = script;
    let started = Instant::now();
    let mut turns: Vec<TranscriptTurn> = Vec::with_capacity(case.turns.len() * 2);
    let mut attempts = 0u32;
    let (mut tokens_in, mut tokens_out) = (0u64, 0u64);
    let announce = |r: Retrying<'_>| events.retrying(&case.key, repeat, Callee::Bot, r);
    let opening = Opening {
        case,
        repeat,
        system_prompt: system,
    };
    let session = match with_retries(retry, || bot.open(opening), announce).await {
        Ok((session, tries)) => {
            attempts += tries - 1;
            session
        }
        Err(gave_up) => {
            return Conversation {
                turns,
                attempts: gave_up.attempts,
                latency_ms: started.elapsed().as_millis() as u64,
                tokens_in,
                tokens_out,
                error: Some(bot_error(&gave_up)),
                simulated: None,
            };
        }
    };
    let mut error = None;
    for user_text in &case.turns {
        turns.push(TranscriptTurn {
            role: Role::User,
            content: user_text.clone(),
            tool_calls: Vec::new(),
            latency_ms: None,
            cached: false,
            handoff: false,
        });
        let answer = with_retries(retry, || session.send(user_text), announce).await;
        match answer {
            Ok((answer, tries)) => {
                let Answer { turn, cached, took } = answer;
                attempts += if cached { tries - 1 } else { tries };
                tokens_in += turn.tokens_in;
                tokens_out += turn.tokens_out;
                let handed_off = handed_off(&turn, handoff_tool, markers);
                turns.push(TranscriptTurn {
                    role: Role::Assistant,
                    content: turn.content,
                    tool_calls: turn.tool_calls,
                    latency_ms: (!cached).then_some(took.as_millis() as u64),
                    cached,
                    handoff: turn.handoff,
                });
                // A human has the conversation now; the rest of the script would talk to nobody.
                if handed_off {
                    break;
                }
            }
            Err(gave_up) => {
                attempts += gave_up.attempts;
                error = Some(bot_error(&gave_up));
                break;
            }
        }
    }
    session.close().await;
    Conversation {
        turns,
        attempts,
        latency_ms: started.elapsed().as_millis() as u64,
        tokens_in,
        tokens_out,
        error,
        simulated: None,
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
