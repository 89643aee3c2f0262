//! The runner: turns a plan into case × repeat jobs, has [`drive`] run them, and writes the
//! summary from the tally of what was written. Also re-scores saved runs.

pub mod conversation;
mod drive;
pub mod events;
pub mod output;
pub mod progress;
pub mod simulated;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Pricing;
use crate::diagnostic::Diagnostics;
use crate::evalset::Case;
use crate::judge::{Judge, Judged};
use crate::metrics::{MetricsBuilder, RepeatsBuilder};
use crate::prompt::PromptTemplate;
use crate::provider::BotClient;
use crate::result::{CaseResult, ErrorCause, ErrorSource, ResultError};
use crate::retry::RetryPolicy;
use crate::rundir::read_results;
use crate::scoring::{Conversation, Judgement, Scorer};
use crate::simulator::Simulator;
use crate::summary::{RunMeta, RunSummary, now_rfc3339};
pub use drive::{Ended, Job, JobFeed, drive, feed};
use events::{Callee, Events, Reporter, RunEvent};
use output::{PROMPT_FILE, SUMMARY_FILE};

/// The cases a run takes, in order, read while the run goes.
pub type CaseFeed = Box<dyn Iterator<Item = Result<Arc<Case>, Diagnostics>> + Send>;

pub struct RunPlan {
    pub cases: CaseFeed,
    /// How many cases `cases` yields.
    pub case_count: u64,
    pub repeats: u32,
    pub concurrency: usize,
    pub retry: RetryPolicy,
    pub prompt: Option<Arc<PromptTemplate>>,
    pub out_dir: PathBuf,
    pub quiet: bool,
    pub judge: Option<Arc<Judge>>,
    /// Plays the customer of `simulate:` cases.
    pub simulator: Option<Arc<Simulator>>,
    pub pricing: Option<Pricing>,
    /// Results already written (when resuming): not run again.
    pub skip: HashSet<(String, u32)>,
    pub meta: RunMeta,
}

/// The error a saved result ended in, as far as re-scoring is concerned: a judge failure
/// is judged again, so it is no error; a bot failure stays one.
fn saved_error(saved: &CaseResult) -> Option<ResultError> {
    if saved.is_judge_error() {
        return None;
    }
    let message = saved.error.clone()?;
    let kind = saved.error_kind.unwrap_or(crate::result::ErrorKind {
        source: ErrorSource::Bot,
        cause: ErrorCause::Connection,
    });
    Some(ResultError {
        message,
        source: kind.source,
        cause: kind.cause,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rescore tells a judge failure from a bot failure by its kind, not its wording.
    #[test]
    fn a_saved_judge_error_is_judged_again_and_a_bot_error_kept() {
        use crate::evalset::{ExpectedOutcome, Stratum};
        use crate::result::{ErrorKind, ObservedOutcome};
        let mut r = CaseResult::fixture(
            "en",
            Stratum::Routine,
            ExpectedOutcome::Resolve,
            ObservedOutcome::Error,
            false,
        );
        r.error = Some("timeout after 30.0s (4 attempts)".into());
        r.error_kind = Some(ErrorKind {
            source: ErrorSource::Judge,
            cause: ErrorCause::Timeout,
        });
        assert_eq!(saved_error(&r), None);
        r.error_kind = Some(ErrorKind {
            source: ErrorSource::Bot,
            cause: ErrorCause::Timeout,
        });
        let kept = saved_error(&r).unwrap();
        assert_eq!(
            (kept.source, kept.cause),
            (ErrorSource::Bot, ErrorCause::Timeout)
        );
        // A result written before errors had kinds is told by its message.
        r.error_kind = None;
        r.error = Some("judge unreachable: HTTP 503".into());
        assert_eq!(saved_error(&r), None);
    }

    #[test]
    fn the_top_error_ignores_attempt_counts() {
        let mut e = ErrorCounts::default();
        e.add("HTTP 400: bad (1 attempt)");
        e.add("connection error: refused 127.0.0.1:9 (4 attempts)");
        e.add("connection error: refused 127.0.0.1:9 (2 attempts)");
        e.add("timeout after 1.0s");
        let top = e.top().unwrap();
        assert_eq!(top.message, "connection error: refused 127.0.0.1:9");
        assert_eq!((top.count, top.errors), (2, 4));
        assert_eq!(error_cause("odd (text) here"), "odd (text) here");
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read back results: {0}")]
    ReadBack(String),
    #[error("{0}\nthe run stopped; the results so far are kept")]
    Evalset(Diagnostics),
}

impl From<RunError> for crate::exit::Failure {
    /// An eval-set file changed under the run, or a run directory that cannot be read, is
    /// the user's to fix (exit 2); a file evalgate cannot write is its own failure (4).
    fn from(e: RunError) -> crate::exit::Failure {
        match e {
            RunError::Evalset(_) | RunError::ReadBack(_) => crate::exit::Failure::bad_input(e),
            RunError::Write { .. } => crate::exit::Failure::internal(e),
        }
    }
}

pub(crate) fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Write {
        path: path.to_path_buf(),
        source,
    }
}

pub async fn execute(
    plan: RunPlan,
    bot: Arc<BotClient>,
    scorer: Arc<Scorer>,
) -> Result<RunSummary, RunError> {
    let dir = &plan.out_dir;
    std::fs::create_dir_all(dir).map_err(write_error(dir))?;
    if let Some(prompt) = &plan.prompt {
        let path = dir.join(PROMPT_FILE);
        std::fs::write(&path, &prompt.text).map_err(write_error(&path))?;
    }
    let mut tally = Tally::new(plan.repeats);
    if !plan.skip.is_empty() {
        // Resuming: the results already written count in the summary too.
        read_results(&dir.join(output::RESULTS_FILE), |r| tally.add(&r))
            .map_err(RunError::ReadBack)?;
    }
    let planned = plan.case_count * u64::from(plan.repeats);
    write_started(dir, &plan.meta, planned)?;
    let to_run = planned.saturating_sub(plan.skip.len() as u64);
    let RunPlan {
        cases,
        repeats,
        retry,
        skip,
        judge,
        simulator,
        prompt,
        ..
    } = plan;
    let scorer_for_jobs = Arc::clone(&scorer);
    let bot_for_shutdown = Arc::clone(&bot);
    let jobs = cases.flat_map(move |case| -> Vec<Result<Job, Diagnostics>> {
        let case = match case {
            Ok(case) => case,
            Err(problems) => return vec![Err(problems)],
        };
        (0..repeats)
            .filter(|repeat| !skip.contains(&(case.key.clone(), *repeat)))
            .map(|repeat| {
                let (bot, scorer, judge, simulator, prompt, for_job) = (
                    Arc::clone(&bot),
                    Arc::clone(&scorer_for_jobs),
                    judge.clone(),
                    simulator.clone(),
                    prompt.clone(),
                    Arc::clone(&case),
                );
                Ok(Job {
                    case: Arc::clone(&case),
                    repeat,
                    work: Box::new(move |events| {
                        Box::pin(run_job(
                            Callers {
                                bot,
                                scorer,
                                judge,
                                simulator,
                            },
                            prompt,
                            for_job,
                            repeat,
                            retry,
                            events,
                        ))
                    }),
                })
            })
            .collect()
    });
    let ended = drive(
        dir,
        to_run,
        plan.concurrency,
        plan.quiet,
        &scorer,
        feed(jobs),
        &mut tally,
    )
    .await;
    // Finished, interrupted or failed: no bot process outlives the run.
    bot_for_shutdown.shutdown().await;
    let ended = ended?;
    let summary = summarize(
        dir,
        plan.meta,
        plan.pricing.as_ref(),
        planned,
        tally,
        Completion {
            finished: true,
            interrupted: matches!(ended, Ended::Interrupted),
            nothing_missing_before: true,
        },
    )?;
    match ended {
        Ended::FeedFailed(problems) => Err(RunError::Evalset(problems)),
        _ => Ok(summary),
    }
}

/// What the summary counts, kept up to date as results are written.
pub struct Tally {
    metrics: MetricsBuilder,
    repeats: RepeatsBuilder,
    errors: ErrorCounts,
    written: u64,
    /// How long the conversations took, once [`drive`] is done.
    seconds: Option<f64>,
}

impl Tally {
    pub fn new(repeats: u32) -> Tally {
        Tally {
            metrics: MetricsBuilder::new(repeats),
            repeats: RepeatsBuilder::new(repeats),
            errors: ErrorCounts::default(),
            written: 0,
            seconds: None,
        }
    }

    /// Counts one written result (a run's own, or one read back by `resume` or `merge`).
    pub fn add(&mut self, r: &CaseResult) {
        self.metrics.add(r);
        self.repeats.add(r);
        if let Some(e) = &r.error {
            self.errors.add(e);
        }
        self.written += 1;
    }
}

impl Tally {
    /// How long the conversations took, when the results were not run here (a merged
    /// run: its longest shard's).
    pub fn set_run_seconds(&mut self, seconds: Option<f64>) {
        self.seconds = seconds;
    }
}

impl Reporter for Tally {
    fn report(&mut self, event: &RunEvent) -> Result<(), RunError> {
        if let RunEvent::Finished(result) = event {
            self.add(result);
        }
        Ok(())
    }
}

/// Distinct error messages and how many results ended in each. A run whose every result
/// fails differently (a message carrying a request id, say) keeps only the first
/// [`ErrorCounts::DISTINCT`] messages, so memory stays bounded.
#[derive(Debug, Default)]
struct ErrorCounts {
    /// Message -> (when it was first seen, so ties go to the earliest; how many).
    by_message: HashMap<String, (usize, u64)>,
    total: u64,
}

impl ErrorCounts {
    const DISTINCT: usize = 256;

    fn add(&mut self, error: &str) {
        self.total += 1;
        let cause = error_cause(error);
        let seen = self.by_message.len();
        if let Some((_, n)) = self.by_message.get_mut(cause) {
            *n += 1;
        } else if seen < Self::DISTINCT {
            self.by_message.insert(cause.to_string(), (seen, 1));
        }
    }

    fn top(&self) -> Option<crate::summary::TopError> {
        self.by_message
            .iter()
            .max_by_key(|(_, (first, n))| (*n, std::cmp::Reverse(*first)))
            .map(|(message, (_, count))| crate::summary::TopError {
                message: message.clone(),
                count: *count,
                errors: self.total,
            })
    }
}

/// An error without the attempt count the runner appends, so the same failure after 1
/// and after 4 attempts counts as one cause.
fn error_cause(error: &str) -> &str {
    match error.rsplit_once(" (") {
        Some((cause, tail)) if tail.ends_with(" attempts)") || tail == "1 attempt)" => cause,
        _ => error,
    }
}

/// How a run (or a re-scoring) ended, for the summary's `complete`.
#[derive(Debug, Clone, Copy)]
pub struct Completion {
    /// False for the summary a run writes when it starts.
    pub finished: bool,
    pub interrupted: bool,
    /// False when the results this invocation started from were already a part of a run
    /// (re-scoring an interrupted run): it can never become whole.
    pub nothing_missing_before: bool,
}

/// The summary of a run that has started and has not finished: what a run killed before
/// its end leaves behind, so the directory never reads as a finished run and `--resume`
/// knows which bot, prompt and eval sets it holds.
fn write_started(dir: &Path, meta: &RunMeta, planned: u64) -> Result<(), RunError> {
    let started = Completion {
        finished: false,
        interrupted: false,
        nothing_missing_before: false,
    };
    summarize(
        dir,
        meta.clone(),
        None,
        planned,
        Tally::new(meta.repeats),
        started,
    )
    .map(|_| ())
}

/// Writes `summary.json` from the tally of what `results.jsonl` holds.
pub fn summarize(
    dir: &Path,
    meta: RunMeta,
    pricing: Option<&Pricing>,
    planned: u64,
    tally: Tally,
    completion: Completion,
) -> Result<RunSummary, RunError> {
    let metrics = tally.metrics.finish();
    let cost = crate::summary::Cost::compute(
        &metrics,
        pricing,
        &meta.bot.model,
        meta.judge_model.as_deref(),
        meta.simulator_model.as_deref(),
    );
    let summary = RunSummary {
        // Empty until the run ends: how a killed run is told from an interrupted one.
        finished_at: if completion.finished {
            now_rfc3339()
        } else {
            String::new()
        },
        complete: completion.finished
            && completion.nothing_missing_before
            && !completion.interrupted
            && tally.written >= planned,
        interrupted: completion.interrupted,
        planned,
        written: tally.written,
        run_seconds: tally.seconds,
        gate: None,
        repeat_stats: tally.repeats.finish(meta.repeats),
        top_error: tally.errors.top(),
        cost,
        metrics,
        meta,
    };
    let path = dir.join(SUMMARY_FILE);
    summary.write(&path).map_err(write_error(&path))?;
    Ok(summary)
}

/// Everything a job calls on: the bot, the scorer, the judge and the simulator.
struct Callers {
    bot: Arc<BotClient>,
    scorer: Arc<Scorer>,
    judge: Option<Arc<Judge>>,
    simulator: Option<Arc<Simulator>>,
}

async fn run_job(
    callers: Callers,
    prompt: Option<Arc<PromptTemplate>>,
    case: Arc<Case>,
    repeat: u32,
    retry: RetryPolicy,
    events: Events,
) -> CaseResult {
    let Callers {
        bot,
        scorer,
        judge,
        simulator,
    } = callers;
    let system = match prompt.as_deref().map(|p| p.render(&case)).transpose() {
        Ok(system) => system,
        Err(d) => {
            let error = ResultError {
                message: d.to_string(),
                source: ErrorSource::Evalgate,
                cause: ErrorCause::Prompt,
            };
            return scorer.score(&case, repeat, failed_before_sending(error), None);
        }
    };
    let script = conversation::Script {
        case: &case,
        repeat,
        system: system.as_deref(),
        retry,
        handoff_tool: scorer.handoff.tool.as_deref(),
        markers: &scorer.handoff.markers,
    };
    let conversation = match (&case.simulate, simulator.as_deref()) {
        (None, _) => conversation::converse(&bot, script, &events).await,
        (Some(simulation), Some(simulator)) => {
            simulated::converse_simulated(&bot, simulator, simulation, script, &events).await
        }
        // Loading refuses a simulated case without a simulator; this is a second line.
        (Some(_), None) => failed_before_sending(ResultError {
            message: "a simulated case, and the config has no `simulator:` block".into(),
            source: ErrorSource::Simulator,
            cause: ErrorCause::Internal,
        }),
    };
    judge_and_score(
        &scorer,
        judge.as_deref(),
        &case,
        repeat,
        conversation,
        &events,
    )
    .await
}

/// Asks the judge about a finished conversation (unless it already failed), then scores it.
/// An unreachable judge makes the result an error: no verdict was possible.
pub async fn judge_and_score(
    scorer: &Scorer,
    judge: Option<&Judge>,
    case: &Case,
    repeat: u32,
    mut conversation: Conversation,
    events: &Events,
) -> CaseResult {
    let judgement = match judge {
        Some(judge) if conversation.error.is_none() => {
            let announce = |r: crate::retry::Retrying<'_>| {
                events.retrying(&case.key, repeat, Callee::Judge, r)
            };
            match judge.judge(case, &conversation.turns, announce).await {
                Judged::Verdict {
                    verdict,
                    tokens_in,
                    tokens_out,
                } => Some(Judgement {
                    verdict,
                    tokens_in,
                    tokens_out,
                }),
                Judged::Unreachable(e) => {
                    conversation.error = Some(e);
                    None
                }
            }
        }
        _ => None,
    };
    scorer.score(case, repeat, conversation, judgement)
}

/// A conversation that ended before anything reached the bot.
pub(crate) fn failed_before_sending(error: ResultError) -> Conversation {
    Conversation {
        turns: Vec::new(),
        attempts: 0,
        latency_ms: 0,
        tokens_in: 0,
        tokens_out: 0,
        error: Some(error),
        simulated: None,
    }
}

/// Re-scores a saved run's transcripts with the current rules and judge, without the bot.
/// Results whose case no longer exists are skipped and counted.
pub struct Rescore<'a> {
    pub source: &'a crate::rundir::RunDir,
    pub cases: HashMap<String, Arc<Case>>,
    pub out_dir: PathBuf,
    pub concurrency: usize,
    pub quiet: bool,
    pub judge: Option<Arc<Judge>>,
    pub pricing: Option<Pricing>,
    pub meta: RunMeta,
}

pub async fn rescore(job: Rescore<'_>, scorer: Arc<Scorer>) -> Result<(RunSummary, u64), RunError> {
    let Rescore {
        source,
        cases,
        out_dir,
        concurrency,
        quiet,
        judge,
        pricing,
        meta,
    } = job;
    let dir = &out_dir;
    std::fs::create_dir_all(dir).map_err(write_error(dir))?;
    if let Some(text) = source.prompt_text() {
        let path = dir.join(PROMPT_FILE);
        std::fs::write(&path, text).map_err(write_error(&path))?;
    }
    let mut saved = Vec::new();
    source
        .for_each_result(|r| saved.push(r))
        .map_err(RunError::ReadBack)?;
    let total = saved.len() as u64;
    let known: Vec<(Arc<Case>, CaseResult)> = saved
        .into_iter()
        .filter_map(|r| cases.get(&r.key).map(|c| (Arc::clone(c), r)))
        .collect();
    let scorer_for_jobs = Arc::clone(&scorer);
    let skipped = total - known.len() as u64;
    // A part of a run re-scored is still a part: it keeps the plan of the run it came from.
    let planned = if source.summary.complete {
        known.len() as u64
    } else {
        source.summary.planned.saturating_sub(skipped)
    };
    let rescoring = known.len() as u64;
    let jobs = known.into_iter().map(move |(case, saved)| {
        let (scorer, judge) = (Arc::clone(&scorer_for_jobs), judge.clone());
        let repeat = saved.repeat;
        let conversation = Conversation {
            error: saved_error(&saved),
            turns: saved.turns,
            attempts: saved.attempts,
            latency_ms: saved.latency_ms,
            tokens_in: saved.tokens_in,
            tokens_out: saved.tokens_out,
            simulated: saved
                .stop_reason
                .map(|stop_reason| crate::scoring::Simulated {
                    stop_reason,
                    tokens_in: saved.simulator_tokens_in,
                    tokens_out: saved.simulator_tokens_out,
                }),
        };
        let case_for_job = Arc::clone(&case);
        Ok(Job {
            case,
            repeat,
            work: Box::new(move |events| {
                Box::pin(async move {
                    judge_and_score(
                        &scorer,
                        judge.as_deref(),
                        &case_for_job,
                        repeat,
                        conversation,
                        &events,
                    )
                    .await
                })
            }),
        })
    });
    let mut tally = Tally::new(meta.repeats);
    write_started(dir, &meta, planned)?;
    let ended = drive(
        dir,
        rescoring,
        concurrency,
        quiet,
        &scorer,
        feed(jobs),
        &mut tally,
    )
    .await?;
    let completion = Completion {
        finished: true,
        interrupted: matches!(ended, Ended::Interrupted),
        nothing_missing_before: source.summary.complete,
    };
    let summary = summarize(dir, meta, pricing.as_ref(), planned, tally, completion)?;
    Ok((summary, skipped))
}
