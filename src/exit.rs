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

/// Why a command stopped before it could give its verdict: the exit code it means and the
/// message for the user. Commands return it; `cli::main` prints it, once.
#[derive(Debug)]
pub struct Failure {
    pub outcome: Outcome,
    /// Printed to standard error as it is (it carries its own `error:` prefix).
    pub message: String,
}

impl Failure {
    /// Bad input or usage: nothing was sent (exit 2).
    pub fn bad_input(message: impl std::fmt::Display) -> Failure {
        Failure {
            outcome: Outcome::BadInput,
            message: format!("error: {message}"),
        }
    }

    /// evalgate's own failure, e.g. a report it could not write (exit 4).
    pub fn internal(message: impl std::fmt::Display) -> Failure {
        Failure {
            outcome: Outcome::Internal,
            message: format!("error: {message}"),
        }
    }

    /// Every problem found in the user's files, then how many (exit 2).
    pub fn problems(problems: &crate::diagnostic::Diagnostics) -> Failure {
        let n = problems.len();
        Failure {
            outcome: Outcome::BadInput,
            message: format!(
                "{problems}\n{n} problem{} found; nothing was sent.",
                if n == 1 { "" } else { "s" }
            ),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<crate::diagnostic::Diagnostic> for Failure {
    fn from(d: crate::diagnostic::Diagnostic) -> Failure {
        Failure::bad_input(d)
    }
}
