//! Drives one case × repeat: sends the scripted turns one by one with retries, stops at
//! a handoff, and returns the transcript for scoring.

use std::time::Instant;

use crate::evalset::Case;
use crate::provider::{BotClient, Message};
use crate::result::{Role, TranscriptTurn};
use crate::runner::retry::RetryPolicy;
use crate::scoring::Conversation;

pub async fn converse(
    bot: &BotClient,
    system: Option<&str>,
    case: &Case,
    repeat: u32,
    retry: RetryPolicy,
    handoff_tool: Option<&str>,
    markers: &[String],
) -> Conversation {
    let started = Instant::now();
    let mut history: Vec<Message> = Vec::with_capacity(case.turns.len() * 2);
    let mut turns: Vec<TranscriptTurn> = Vec::with_capacity(case.turns.len() * 2);
    let mut attempts = 0u32;
    let (mut tokens_in, mut tokens_out) = (0u64, 0u64);
    let mut error = None;
    for user_text in &case.turns {
        history.push(Message {
            role: Role::User,
            content: user_text.clone(),
        });
        turns.push(TranscriptTurn {
            role: Role::User,
            content: user_text.clone(),
            tool_calls: Vec::new(),
            latency_ms: None,
            cached: false,
        });
        let mut retry_no = 0;
        let answer = loop {
            let sent = Instant::now();
            match bot.respond(system, &history, repeat).await {
                Ok((turn, cached)) => {
                    attempts += u32::from(!cached);
                    break Ok((turn, sent.elapsed(), cached));
                }
                Err(e) => {
                    attempts += 1;
                    retry_no += 1;
                    match retry.delay(retry_no, &e) {
                        Some(wait) => tokio::time::sleep(wait).await,
                        None => {
                            let tries = if retry_no == 1 {
                                "1 attempt".to_string()
                            } else {
                                format!("{retry_no} attempts")
                            };
                            break Err(format!("{e} ({tries})"));
                        }
                    }
                }
            }
        };
        match answer {
            Ok((turn, took, cached)) => {
                tokens_in += turn.tokens_in;
                tokens_out += turn.tokens_out;
                let handed_off = handoff_tool
                    .is_some_and(|tool| turn.tool_calls.iter().any(|c| c.name == tool))
                    || markers
                        .iter()
                        .any(|m| !m.is_empty() && turn.content.contains(m.as_str()));
                history.push(Message {
                    role: Role::Assistant,
                    content: turn.content.clone(),
                });
                turns.push(TranscriptTurn {
                    role: Role::Assistant,
                    content: turn.content,
                    tool_calls: turn.tool_calls,
                    latency_ms: (!cached).then_some(took.as_millis() as u64),
                    cached,
                });
                // A human has the conversation now; the rest of the script would talk to nobody.
                if handed_off {
                    break;
                }
            }
            Err(message) => {
                error = Some(message);
                break;
            }
        }
    }
    Conversation {
        turns,
        attempts,
        latency_ms: started.elapsed().as_millis() as u64,
        tokens_in,
        tokens_out,
        error,
    }
}
