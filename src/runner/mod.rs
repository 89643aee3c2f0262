//! The runner: schedules case × repeat jobs with bounded concurrency, and is the single
//! owner of results — each finished job comes back to this loop, which appends it to
//! `results.jsonl` and moves the progress display. Ctrl-C stops scheduling, lets the
//! in-flight conversations finish and keeps everything written.

pub mod conversation;
pub mod output;
pub mod progress;
pub mod retry;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::config::Pricing;
use crate::evalset::Case;
use crate::judge::{Judge, Judged};
use crate::metrics::MetricsBuilder;
use crate::prompt::PromptTemplate;
use crate::provider::BotClient;
use crate::result::CaseResult;
use crate::rundir::read_results;
use crate::scoring::{Conversation, Judgement, Scorer};
use crate::summary::{RunMeta, RunSummary, now_rfc3339};
use output::{PROMPT_FILE, ResultsWriter, SUMMARY_FILE};
use progress::Progress;
use retry::RetryPolicy;

pub struct RunPlan {
    pub cases: Vec<Arc<Case>>,
    pub repeats: u32,
    pub concurrency: usize,
    pub retry: RetryPolicy,
    pub prompt: Option<Arc<PromptTemplate>>,
    pub out_dir: PathBuf,
    pub quiet: bool,
    pub judge: Option<Arc<Judge>>,
    pub pricing: Option<Pricing>,
    /// Results already written (when resuming): not run again.
    pub skip: std::collections::HashSet<(String, u32)>,
    pub meta: RunMeta,
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
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// How long in-flight conversations may take to finish after a stop is requested.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Resolves when the user asks the run to stop (Ctrl-C, or SIGTERM from a CI runner).
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
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
    let planned = plan.cases.len() as u64 * u64::from(plan.repeats);
    let to_run = planned - plan.skip.len() as u64;
    let skip = &plan.skip;
    let jobs = plan.cases.iter().flat_map(|case| {
        let (bot, scorer, judge, prompt, retry) =
            (&bot, &scorer, &plan.judge, &plan.prompt, plan.retry);
        (0..plan.repeats)
            .filter(move |repeat| !skip.contains(&(case.key.clone(), *repeat)))
            .map(move |repeat| Job {
                case: Arc::clone(case),
                repeat,
                work: Box::pin(run_job(
                    Arc::clone(bot),
                    Arc::clone(scorer),
                    judge.clone(),
                    prompt.clone(),
                    Arc::clone(case),
                    repeat,
                    retry,
                )),
            })
    });
    let interrupted = drive(dir, to_run, plan.concurrency, plan.quiet, &scorer, jobs).await?;
    summarize(dir, plan.meta, plan.pricing.as_ref(), planned, interrupted)
}

/// One case × repeat to work on, and the work.
pub struct Job {
    pub case: Arc<Case>,
    pub repeat: u32,
    pub work: std::pin::Pin<Box<dyn std::future::Future<Output = CaseResult> + Send>>,
}

/// Runs jobs with bounded concurrency and appends each result to `results.jsonl` as it
/// finishes. Returns whether the user interrupted the run.
pub async fn drive(
    dir: &Path,
    planned: u64,
    concurrency: usize,
    quiet: bool,
    scorer: &Scorer,
    mut jobs: impl Iterator<Item = Job>,
) -> Result<bool, RunError> {
    let mut writer =
        ResultsWriter::create(dir).map_err(write_error(&dir.join(output::RESULTS_FILE)))?;
    let mut progress = Progress::new(planned, quiet);
    let mut in_flight: JoinSet<CaseResult> = JoinSet::new();
    let mut job_of_task: HashMap<tokio::task::Id, (Arc<Case>, u32)> = HashMap::new();
    let mut stop: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> =
        Box::pin(stop_requested());
    let mut stopping = false;
    loop {
        while !stopping && in_flight.len() < concurrency {
            let Some(job) = jobs.next() else { break };
            let handle = in_flight.spawn(job.work);
            job_of_task.insert(handle.id(), (job.case, job.repeat));
        }
        if in_flight.is_empty() {
            break;
        }
        tokio::select! {
            joined = in_flight.join_next_with_id() => {
                let Some(joined) = joined else { continue };
                // Take every conversation that has finished, refill their slots, and only
                // then write: the bot is never kept waiting on our disk writes.
                let mut finished = vec![joined];
                while let Some(more) = in_flight.try_join_next_with_id() {
                    finished.push(more);
                }
                while !stopping && in_flight.len() < concurrency {
                    let Some(job) = jobs.next() else { break };
                    let handle = in_flight.spawn(job.work);
                    job_of_task.insert(handle.id(), (job.case, job.repeat));
                }
                for joined in finished {
                    let result = match joined {
                        Ok((id, result)) => {
                            job_of_task.remove(&id);
                            result
                        }
                        Err(e) => {
                            let Some((case, repeat)) = job_of_task.remove(&e.id()) else { continue };
                            internal_error_result(scorer, &case, repeat, &e)
                        }
                    };
                    progress.finished_one(result.passed, result.is_error());
                    writer.append(&result).map_err(write_error(writer.path()))?;
                }
            }
            _ = &mut stop => {
                if stopping {
                    // A second signal, or the grace period is over: abandon what is left.
                    in_flight.abort_all();
                    while in_flight.join_next().await.is_some() {}
                    break;
                }
                stopping = true;
                progress.note(&format!(
                    "interrupted: finishing {} conversations in flight (at most {} s); press Ctrl-C again to abandon them",
                    in_flight.len(),
                    STOP_GRACE.as_secs()
                ));
                stop = Box::pin(async {
                    tokio::select! {
                        _ = stop_requested() => {}
                        _ = tokio::time::sleep(STOP_GRACE) => {}
                    }
                });
            }
        }
    }
    progress.finish();
    Ok(stopping)
}

/// Builds and writes `summary.json` from `results.jsonl`, the one source of truth.
pub fn summarize(
    dir: &Path,
    meta: RunMeta,
    pricing: Option<&Pricing>,
    planned: u64,
    interrupted: bool,
) -> Result<RunSummary, RunError> {
    let mut metrics = MetricsBuilder::default();
    let mut repeats = crate::metrics::RepeatsBuilder::default();
    let written = read_results(&dir.join(output::RESULTS_FILE), |r| {
        metrics.add(&r);
        repeats.add(&r);
    })
    .map_err(RunError::ReadBack)?;
    let metrics = metrics.finish();
    let cost = crate::summary::Cost::compute(
        &metrics,
        pricing,
        &meta.bot.model,
        meta.judge_model.as_deref(),
    );
    let summary = RunSummary {
        finished_at: now_rfc3339(),
        complete: !interrupted && written >= planned,
        interrupted,
        planned,
        written,
        gate: None,
        repeat_stats: repeats.finish(meta.repeats),
        cost,
        metrics,
        meta,
    };
    let path = dir.join(SUMMARY_FILE);
    summary.write(&path).map_err(write_error(&path))?;
    Ok(summary)
}

async fn run_job(
    bot: Arc<BotClient>,
    scorer: Arc<Scorer>,
    judge: Option<Arc<Judge>>,
    prompt: Option<Arc<PromptTemplate>>,
    case: Arc<Case>,
    repeat: u32,
    retry: RetryPolicy,
) -> CaseResult {
    let system = match prompt.as_deref().map(|p| p.render(&case)).transpose() {
        Ok(system) => system,
        Err(d) => return scorer.score(&case, repeat, failed_before_sending(d.to_string()), None),
    };
    let conversation = conversation::converse(
        &bot,
        system.as_deref(),
        &case,
        retry,
        scorer.handoff.tool.as_deref(),
        &scorer.handoff.markers,
    )
    .await;
    judge_and_score(&scorer, judge.as_deref(), &case, repeat, conversation).await
}

/// Asks the judge about a finished conversation (unless it already failed), then scores it.
/// An unreachable judge makes the result an error: no verdict was possible.
pub async fn judge_and_score(
    scorer: &Scorer,
    judge: Option<&Judge>,
    case: &Case,
    repeat: u32,
    mut conversation: Conversation,
) -> CaseResult {
    let judgement = match judge {
        Some(judge) if conversation.error.is_none() => {
            match judge.judge(case, &conversation.turns).await {
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

fn failed_before_sending(error: String) -> Conversation {
    Conversation {
        turns: Vec::new(),
        attempts: 0,
        latency_ms: 0,
        tokens_in: 0,
        tokens_out: 0,
        error: Some(error),
    }
}

fn internal_error_result(
    scorer: &Scorer,
    case: &Case,
    repeat: u32,
    e: &tokio::task::JoinError,
) -> CaseResult {
    let what = if e.is_panic() {
        "evalgate bug: the case's task panicked"
    } else {
        "the case's task was cancelled"
    };
    scorer.score(case, repeat, failed_before_sending(what.to_string()), None)
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
    let dir = &job.out_dir;
    std::fs::create_dir_all(dir).map_err(write_error(dir))?;
    if let Some(text) = job.source.prompt_text() {
        let path = dir.join(PROMPT_FILE);
        std::fs::write(&path, text).map_err(write_error(&path))?;
    }
    let mut saved = Vec::new();
    job.source
        .for_each_result(|r| saved.push(r))
        .map_err(RunError::ReadBack)?;
    let total = saved.len() as u64;
    let known: Vec<(Arc<Case>, CaseResult)> = saved
        .into_iter()
        .filter_map(|r| job.cases.get(&r.key).map(|c| (Arc::clone(c), r)))
        .collect();
    let skipped = total - known.len() as u64;
    let planned = known.len() as u64;
    let jobs = known.into_iter().map(|(case, saved)| {
        let (scorer, judge) = (Arc::clone(&scorer), job.judge.clone());
        let repeat = saved.repeat;
        let conversation = Conversation {
            turns: saved.turns,
            attempts: saved.attempts,
            latency_ms: saved.latency_ms,
            tokens_in: saved.tokens_in,
            tokens_out: saved.tokens_out,
            // A judge failure in the saved run is retried; a bot failure stays a failure.
            error: saved.error.filter(|e| !e.starts_with("judge unreachable")),
        };
        let case_for_job = Arc::clone(&case);
        Job {
            case,
            repeat,
            work: Box::pin(async move {
                judge_and_score(
                    &scorer,
                    judge.as_deref(),
                    &case_for_job,
                    repeat,
                    conversation,
                )
                .await
            }),
        }
    });
    let interrupted = drive(dir, planned, job.concurrency, job.quiet, &scorer, jobs).await?;
    let summary = summarize(dir, job.meta, job.pricing.as_ref(), planned, interrupted)?;
    Ok((summary, skipped))
}
