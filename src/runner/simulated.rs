//! Holds a simulated conversation: the simulator writes each customer message from the
//! conversation so far, the bot answers, until the bot hands off, the customer writes the
//! stop marker (which never reaches the bot), or the customer has sent `max_turns`
//! messages. A failing simulator is the simulator's error, never the bot's.

use std::time::Instant;

use crate::evalset::Simulation;
use crate::provider::BotClient;
use crate::result::{Role, StopReason};
use crate::retry::Retrying;
use crate::runner::conversation::{Script, Sent, customer_turn};
use crate::runner::events::{Callee, Events};
use crate::scoring::{Conversation, Simulated};
use crate::simulator::Simulator;

pub async fn converse_simulated(
    bot: &BotClient,
    simulator: &Simulator,
    simulation: &Simulation,
    script: Script<'_>,
    events: &Events,
) -> Conversation {
    let case = script.case;
    let started = Instant::now();
    let mut c = Conversation {
        simulated: Some(Simulated {
            stop_reason: StopReason::Error,
            tokens_in: 0,
            tokens_out: 0,
        }),
        ..Conversation::default()
    };
    let announce_bot = |r: Retrying<'_>| events.retrying(&case.key, script.repeat, Callee::Bot, r);
    let announce_sim =
        |r: Retrying<'_>| events.retrying(&case.key, script.repeat, Callee::Simulator, r);
    let Some(session) = script.open(bot, &mut c, &announce_bot).await else {
        c.latency_ms = started.elapsed().as_millis() as u64;
        return c;
    };
    let mut sent = 0u32;
    let stop_reason = loop {
        if sent >= simulation.max_turns {
            break StopReason::MaxTurns;
        }
        let message = match (&simulation.opening, sent) {
            (Some(opening), 0) => opening.clone(),
            _ => match simulator
                .next(case, simulation, &c.turns, announce_sim)
                .await
            {
                Ok(m) => {
                    if let Some(s) = c.simulated.as_mut() {
                        s.tokens_in += m.tokens_in;
                        s.tokens_out += m.tokens_out;
                    }
                    if m.stop {
                        // The customer's last words stay in the transcript; the bot never gets them.
                        if !m.text.is_empty() {
                            c.turns.push(customer_turn(m.text));
                        }
                        break StopReason::CustomerStop;
                    }
                    m.text
                }
                Err(e) => {
                    c.error = Some(e);
                    break StopReason::Error;
                }
            },
        };
        sent += 1;
        match script.send(&session, &message, &mut c, &announce_bot).await {
            Sent::Answered => {}
            Sent::HandedOff => break StopReason::Handoff,
            Sent::Failed => break StopReason::Error,
        }
    };
    session.close().await;
    if c.error.is_none() && !c.turns.iter().any(|t| t.role == Role::Assistant) {
        // Nothing reached the bot: there is no reply to score, and a stop before the first
        // message is the simulator's doing.
        c.error = Some(crate::result::ResultError {
            message: "the simulated customer ended the conversation before writing to the bot"
                .into(),
            source: crate::result::ErrorSource::Simulator,
            cause: crate::result::ErrorCause::BadResponse,
        });
    }
    if let Some(s) = c.simulated.as_mut() {
        s.stop_reason = if c.error.is_some() {
            StopReason::Error
        } else {
            stop_reason
        };
    }
    c.latency_ms = started.elapsed().as_millis() as u64;
    c
}
