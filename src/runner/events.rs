//! What happens during a run, as events, and the reporters that consume them: the results
//! writer, the tally behind summary.json and the progress display each see every event
//! and keep to their one job (in the manner of cargo-nextest's reporters).

use std::time::Duration;

use tokio::sync::mpsc;

use super::RunError;
use crate::result::CaseResult;

/// Which service a retried call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callee {
    Bot,
    Judge,
    Simulator,
}

impl Callee {
    pub fn name(self) -> &'static str {
        match self {
            Callee::Bot => "bot",
            Callee::Judge => "judge",
            Callee::Simulator => "simulator",
        }
    }
}

#[derive(Debug)]
pub enum RunEvent {
    /// A lane took a case × repeat and its conversation begins.
    Started { key: String, repeat: u32 },
    /// A call failed and will be tried again after `wait`.
    Retrying {
        key: String,
        repeat: u32,
        callee: Callee,
        retry: u32,
        of: u32,
        wait: Duration,
        error: String,
    },
    /// A case × repeat ended, scored (or as an error result).
    Finished(Box<CaseResult>),
    /// Every result that finished at the same moment has been reported: a point to put
    /// them on disk before waiting again.
    Settled,
    /// The user asked the run to stop: no new conversation starts, those in flight may
    /// finish within `grace`.
    Interrupting { in_flight: usize, grace: Duration },
    /// No more events follow.
    Done,
}

/// Consumes the events of a run, in order.
pub trait Reporter {
    fn report(&mut self, event: &RunEvent) -> Result<(), RunError>;
}

/// Where a job tells the collector what happens to it. Sending never blocks; if the
/// collector is gone, the run is over and the event has no one to tell.
#[derive(Debug, Clone)]
pub struct Events {
    tx: mpsc::UnboundedSender<RunEvent>,
}

impl Events {
    pub fn channel() -> (Events, mpsc::UnboundedReceiver<RunEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Events { tx }, rx)
    }

    pub fn send(&self, event: RunEvent) {
        let _ = self.tx.send(event);
    }

    /// A retry of a call for `key` #`repeat`, as the retry loop announces it.
    pub fn retrying(&self, key: &str, repeat: u32, callee: Callee, r: crate::retry::Retrying<'_>) {
        self.send(RunEvent::Retrying {
            key: key.to_string(),
            repeat,
            callee,
            retry: r.retry,
            of: r.of,
            wait: r.wait,
            error: r.error.to_string(),
        });
    }
}
