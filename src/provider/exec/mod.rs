//! `exec`: a local program as the bot. Processes are pooled: a conversation takes one for
//! all its turns and gives it back when it closes, so conversations never interleave on a
//! process, and there are never more processes than conversations in flight (one per
//! concurrency lane). A failure that leaves the process out of step (a timeout, a line
//! the protocol does not allow, an exit) ends that conversation with an error; the process
//! is killed and the next conversation starts a new one.
//!
//! Such failures are not retried: a retry would have to start a new process that never
//! saw the conversation's earlier turns, and would hide a crash behind a pass.

mod process;
mod protocol;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::provider::{BotTurn, BoxFuture, Opening, Provider, ProviderError, Session};

pub use process::Launch;
use process::{BotProcess, Failure};
use protocol::{Answer, Fixed};

/// The file in the run directory that every process's stderr is appended to.
pub const STDERR_LOG: &str = "exec-stderr.log";

/// How long a program may take to end after its stdin is closed, when the run is over.
const FINISH_GRACE: Duration = Duration::from_millis(500);

/// The bot program and its idle processes.
#[derive(Clone)]
pub struct ExecBot {
    shared: Arc<Shared>,
}

struct Shared {
    launch: Launch,
    timeout: Duration,
    /// Processes between conversations.
    idle: Mutex<Vec<BotProcess>>,
}

impl ExecBot {
    pub fn new(launch: Launch, timeout: Duration) -> ExecBot {
        ExecBot {
            shared: Arc::new(Shared {
                launch,
                timeout,
                idle: Mutex::new(Vec::new()),
            }),
        }
    }
}

impl Shared {
    /// An idle process that is still alive, or a new one.
    fn take(&self) -> Result<BotProcess, ProviderError> {
        while let Some(mut process) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            if !process.has_exited() {
                return Ok(process);
            }
        }
        BotProcess::start(&self.launch)
            .map_err(|m| ProviderError::Final(Box::new(ProviderError::Transport(m))))
    }

    fn give_back(&self, process: BotProcess) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(process);
        }
    }

    fn drain(&self) -> Vec<BotProcess> {
        self.idle
            .lock()
            .map(|mut idle| std::mem::take(&mut *idle))
            .unwrap_or_default()
    }
}

impl Provider for ExecBot {
    fn model(&self) -> String {
        self.shared.launch.label.clone()
    }

    /// A program may keep state of its own and answer differently each time.
    fn cache_identity(&self) -> Option<String> {
        None
    }

    fn open<'a>(
        &'a self,
        opening: Opening<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn Session>, ProviderError>> {
        let session = self.shared.take().map(|process| {
            Box::new(ExecSession {
                shared: Arc::clone(&self.shared),
                process: Some(process),
                conversation_id: format!("{}#{}", opening.case.key, opening.repeat),
                fixed: Fixed::of(opening.case, opening.system_prompt),
                history: Vec::new(),
            }) as Box<dyn Session>
        });
        Box::pin(async move { session })
    }

    /// Ends the idle processes, all at once: the run is over.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        let processes = self.shared.drain();
        Box::pin(async move {
            futures_util::future::join_all(processes.into_iter().map(|p| p.finish(FINISH_GRACE)))
                .await;
        })
    }
}

/// One conversation on a process of its own.
struct ExecSession {
    shared: Arc<Shared>,
    /// `None` once a failure has ended the conversation and killed the process.
    process: Option<BotProcess>,
    conversation_id: String,
    fixed: Fixed,
    history: Vec<crate::provider::Message>,
}

impl ExecSession {
    fn remember(&mut self, message: &str, reply: &str) {
        crate::provider::remember(&mut self.history, message, reply);
    }

    async fn ask(&mut self, message: &str) -> Result<BotTurn, ProviderError> {
        let final_error = |e: ProviderError| ProviderError::Final(Box::new(e));
        let Some(process) = self.process.as_mut() else {
            return Err(final_error(ProviderError::Transport(
                "the conversation's process was ended by an earlier failure".into(),
            )));
        };
        let line = protocol::turn_line(&self.conversation_id, message, &self.history, &self.fixed);
        let timeout = self.shared.timeout;
        let failure = match process.ask(&line, timeout).await {
            Ok(answer) => match protocol::read_answer(&answer) {
                Ok(Answer::Turn(turn)) => return Ok(turn),
                // The process is in step: it answered this turn, with a failure.
                Ok(Answer::Error(message)) => {
                    return Err(final_error(ProviderError::Reported(message)));
                }
                Err(why) => ProviderError::BadResponse(why),
            },
            Err(Failure::Timeout) => ProviderError::Timeout(timeout),
            Err(Failure::Exited(why)) => {
                ProviderError::Transport(format!("{why}; its stderr is in {STDERR_LOG}"))
            }
            Err(Failure::TooLong) => ProviderError::BadResponse(format!(
                "the bot's line is longer than {} MiB",
                crate::transport::MAX_BODY_BYTES / (1024 * 1024)
            )),
        };
        if let Some(process) = self.process.take() {
            process.kill().await;
        }
        Err(final_error(failure))
    }
}

impl Session for ExecSession {
    fn send<'a>(&'a mut self, message: &'a str) -> BoxFuture<'a, Result<BotTurn, ProviderError>> {
        Box::pin(async move {
            let turn = self.ask(message).await?;
            self.remember(message, &turn.content);
            Ok(turn)
        })
    }

    fn replay(&mut self, message: &str, turn: &BotTurn) {
        self.remember(message, &turn.content);
    }

    /// Tells the program the conversation is over and gives the process back; one that
    /// cannot take the line in time is of no further use.
    fn close(self: Box<Self>) -> BoxFuture<'static, ()> {
        let ExecSession {
            shared,
            process,
            conversation_id,
            ..
        } = *self;
        Box::pin(async move {
            let Some(mut process) = process else { return };
            let told = process
                .tell(&protocol::end_line(&conversation_id), shared.timeout)
                .await;
            if told.is_ok() && !process.has_exited() {
                shared.give_back(process);
            } else {
                process.kill().await;
            }
        })
    }
}

#[cfg(test)]
mod tests;
