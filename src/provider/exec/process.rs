//! One running bot program: started with piped stdin and stdout and its stderr appended to
//! the run's log, asked one line and answered one line at a time, and always reaped when
//! it is let go.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::transport::MAX_BODY_BYTES;

/// How to start the program.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The command as the config writes it: what the summary records as the bot, the
    /// same wherever the project is checked out.
    pub label: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// The project root: where the program runs.
    pub dir: PathBuf,
    /// Where its stderr goes, appended to by every process of the run.
    pub stderr_log: PathBuf,
}

impl Launch {
    /// The command as a user would type it, for messages and the summary.
    pub fn describe(&self) -> String {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Why an exchange with the program failed. After any of these the process is of no
/// further use: what it holds of the conversation is out of step with evalgate.
#[derive(Debug)]
pub enum Failure {
    Timeout,
    /// It exited, or closed its end of a pipe.
    Exited(String),
    /// Its line was longer than evalgate reads.
    TooLong,
}

/// A running bot program.
pub struct BotProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl BotProcess {
    pub fn start(launch: &Launch) -> Result<BotProcess, String> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&launch.stderr_log)
            .map_err(|e| format!("cannot open {}: {e}", launch.stderr_log.display()))?;
        let mut command = Command::new(&launch.program);
        command
            .args(&launch.args)
            .envs(&launch.env)
            .current_dir(&launch.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        // A group of its own: Ctrl-C in the terminal reaches evalgate only, which lets the
        // conversations in flight finish before it ends the programs itself.
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", launch.describe()))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(format!("`{}` started without pipes", launch.describe()));
        };
        Ok(BotProcess {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        })
    }

    /// Whether the process has ended, on its own or by a signal.
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Writes `line` and reads the one line that answers it, within `timeout`.
    pub async fn ask(&mut self, line: &[u8], timeout: Duration) -> Result<Vec<u8>, Failure> {
        let exchange = async {
            self.write(line).await?;
            self.read_line().await
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(failure)) => Err(failure),
            Err(_) => Err(Failure::Timeout),
        }
    }

    /// Writes `line`, expecting no answer, within `timeout`.
    pub async fn tell(&mut self, line: &[u8], timeout: Duration) -> Result<(), Failure> {
        match tokio::time::timeout(timeout, self.write(line)).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Timeout),
        }
    }

    async fn write(&mut self, line: &[u8]) -> Result<(), Failure> {
        let written = async {
            self.stdin.write_all(line).await?;
            self.stdin.flush().await
        };
        match written.await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.exited(&format!("its stdin closed ({e})")).await),
        }
    }

    async fn read_line(&mut self) -> Result<Vec<u8>, Failure> {
        let mut line = Vec::new();
        let limit = MAX_BODY_BYTES as u64 + 1;
        let read = (&mut self.stdout)
            .take(limit)
            .read_until(b'\n', &mut line)
            .await;
        match read {
            Ok(0) => Err(self.exited("its stdout closed").await),
            Ok(_) if line.last() == Some(&b'\n') => {
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                Ok(line)
            }
            Ok(n) if n as u64 >= limit => Err(Failure::TooLong),
            // The last line of a program that then exited, without its newline.
            Ok(_) => Err(self.exited("its stdout closed mid-line").await),
            Err(e) => Err(self
                .exited(&format!("reading its stdout failed ({e})"))
                .await),
        }
    }

    /// What to say about a process whose pipe broke: its exit status, when it has one
    /// within a moment.
    async fn exited(&mut self, what: &str) -> Failure {
        match tokio::time::timeout(Duration::from_millis(500), self.child.wait()).await {
            Ok(Ok(status)) => Failure::Exited(format!("the bot's process exited ({status})")),
            _ => Failure::Exited(format!("the bot's process is broken: {what}")),
        }
    }

    /// Kills the process and waits for it, so no zombie is left either.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }

    /// Closes its stdin, so a program reading lines until the end can finish its own way;
    /// kills it if it has not within `grace`.
    pub async fn finish(self, grace: Duration) {
        let BotProcess {
            mut child,
            stdin,
            stdout,
        } = self;
        drop(stdin);
        drop(stdout);
        if tokio::time::timeout(grace, child.wait()).await.is_err() {
            let _ = child.kill().await;
        }
    }
}
