//! Exit codes, shared by every command so CI can tell a quality verdict from a broken setup.

/// What a finished command means to the shell that ran it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything ran and nothing failed.
    Passed,
    /// The launch gate failed: a quality verdict, and the only thing that exits 1.
    GateFailed,
    /// Bad input or usage; nothing was sent to any bot.
    BadInput,
    /// The run is incomplete: the bot or judge was unreachable, or too many results are errors.
    Incomplete,
    /// evalgate itself failed, for example a report could not be written.
    Internal,
    /// Stopped by Ctrl-C or SIGTERM; partial results were kept.
    Interrupted,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Passed => 0,
            Outcome::GateFailed => 1,
            Outcome::BadInput => 2,
            Outcome::Incomplete => 3,
            Outcome::Internal => 4,
            Outcome::Interrupted => 130,
        }
    }
}
