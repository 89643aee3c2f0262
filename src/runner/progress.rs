//! Progress on long runs: a bar on a terminal, a line every tenth of the run otherwise
//! (so CI logs show the run is alive without drowning in output), and a line for each
//! retry, so a struggling bot shows before the run ends.

use crate::report::count_of;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::RunError;
use super::events::{Reporter, RunEvent};

pub struct Progress {
    bar: Option<ProgressBar>,
    started: std::time::Instant,
    /// The bar has been put on the terminal.
    drawn: bool,
    quiet: bool,
    total: u64,
    done: u64,
    failed: u64,
    errors: u64,
    next_line_at: u64,
}

impl Progress {
    pub fn new(total: u64, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            // Drawn only once the run has taken a second: a rate and an eta over a few
            // milliseconds mean nothing, and a bar that flashes by is noise.
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:30} {pos}/{len} cases  {per_sec}  eta {eta}  {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            started: std::time::Instant::now(),
            drawn: false,
            quiet,
            total,
            done: 0,
            failed: 0,
            errors: 0,
            // Short runs finish before a progress line would help anyone.
            next_line_at: if quiet || total < 200 {
                u64::MAX
            } else {
                step(total)
            },
        }
    }

    pub fn finished_one(&mut self, passed: bool, error: bool) {
        self.done += 1;
        self.errors += u64::from(error);
        self.failed += u64::from(!passed && !error);
        if let Some(bar) = &self.bar
            && !self.drawn
            && self.started.elapsed() >= std::time::Duration::from_secs(1)
        {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            self.drawn = true;
        }
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(format!(
                    "{} failed, {}",
                    self.failed,
                    count_of(self.errors, "error")
                ));
            }
            None if self.done >= self.next_line_at && self.done < self.total => {
                eprintln!(
                    "progress: {}/{} cases ({} failed, {})",
                    self.done,
                    self.total,
                    self.failed,
                    count_of(self.errors, "error")
                );
                self.next_line_at += step(self.total);
            }
            None => {}
        }
    }

    pub fn note(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.println(message),
            None => eprintln!("{message}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn step(total: u64) -> u64 {
    (total / 10).max(1)
}

impl Reporter for Progress {
    fn report(&mut self, event: &RunEvent) -> Result<(), RunError> {
        match event {
            RunEvent::Finished(result) => self.finished_one(result.passed, result.is_error()),
            RunEvent::Retrying {
                key,
                repeat,
                callee,
                retry,
                of,
                wait,
                error,
            } if !self.quiet => {
                let repeat = if *repeat == 0 {
                    String::new()
                } else {
                    format!(" #{repeat}")
                };
                self.note(&format!(
                    "retrying {key}{repeat}: {} call failed ({error}); retry {retry} of {of} in {:.1} s",
                    callee.name(),
                    wait.as_secs_f64()
                ));
            }
            RunEvent::Interrupting { in_flight, grace } => self.note(&format!(
                "interrupted: finishing {} in flight (at most {} s); press Ctrl-C again to abandon them",
                count_of(*in_flight, "conversation"),
                grace.as_secs()
            )),
            RunEvent::Done => self.finish(),
            _ => {}
        }
        Ok(())
    }
}
