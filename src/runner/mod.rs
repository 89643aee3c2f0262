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

use crate::evalset::Case;
use crate::metrics::MetricsBuilder;
use crate::prompt::PromptTemplate;
use crate::provider::Bot;
use crate::result::CaseResult;
use crate::scoring::{Conversation, OUTCOME_MODE_RULES, Scorer};
use crate::summary::{RunMeta, RunSummary, now_rfc3339};
use crate::rundir::read_results;
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
    pub meta: RunMeta,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot read back results: {0}")]
    ReadBack(String),
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Write { path: path.to_path_buf(), source }
}

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

pub async fn execute(plan: RunPlan, bot: Arc<Bot>, scorer: Arc<Scorer>) -> Result<RunSummary, RunError> {
    let dir = &plan.out_dir;
    std::fs::create_dir_all(dir).map_err(write_error(dir))?;
    if let Some(prompt) = &plan.prompt {
        let path = dir.join(PROMPT_FILE);
        std::fs::write(&path, &prompt.text).map_err(write_error(&path))?;
    }
    let mut writer = ResultsWriter::create(dir).map_err(write_error(&dir.join(output::RESULTS_FILE)))?;
    let planned = plan.cases.len() as u64 * u64::from(plan.repeats);
    let mut progress = Progress::new(planned, plan.quiet);
    let mut jobs = plan
        .cases
        .iter()
        .flat_map(|case| (0..plan.repeats).map(move |repeat| (Arc::clone(case), repeat)));
    let mut in_flight: JoinSet<CaseResult> = JoinSet::new();
    let mut job_of_task: HashMap<tokio::task::Id, (Arc<Case>, u32)> = HashMap::new();
    let stop = stop_requested();
    tokio::pin!(stop);
    let mut stopping = false;
    loop {
        while !stopping && in_flight.len() < plan.concurrency {
            let Some((case, repeat)) = jobs.next() else { break };
            let handle = in_flight.spawn(run_job(
                Arc::clone(&bot),
                Arc::clone(&scorer),
                plan.prompt.clone(),
                Arc::clone(&case),
                repeat,
                plan.retry,
            ));
            job_of_task.insert(handle.id(), (case, repeat));
        }
        if in_flight.is_empty() {
            break;
        }
        tokio::select! {
            joined = in_flight.join_next_with_id() => {
                let Some(joined) = joined else { continue };
                let result = match joined {
                    Ok((id, result)) => {
                        job_of_task.remove(&id);
                        result
                    }
                    Err(e) => {
                        let Some((case, repeat)) = job_of_task.remove(&e.id()) else { continue };
                        internal_error_result(&scorer, &case, repeat, &e)
                    }
                };
                progress.finished_one(result.passed, result.is_error());
                writer.append(&result).map_err(write_error(writer.path()))?;
            }
            _ = &mut stop => {
                if stopping {
                    in_flight.abort_all();
                    while in_flight.join_next().await.is_some() {}
                    break;
                }
                stopping = true;
                progress.note(&format!(
                    "interrupted: finishing {} conversations in flight; press Ctrl-C again to abandon them",
                    in_flight.len()
                ));
                stop.set(stop_requested());
            }
        }
    }
    progress.finish();
    drop(writer);
    summarize(dir, plan.meta, planned, stopping)
}

/// Builds and writes `summary.json` from `results.jsonl`, the one source of truth.
pub fn summarize(dir: &Path, meta: RunMeta, planned: u64, interrupted: bool) -> Result<RunSummary, RunError> {
    let mut metrics = MetricsBuilder::default();
    let written = read_results(&dir.join(output::RESULTS_FILE), |r| metrics.add(&r)).map_err(RunError::ReadBack)?;
    let summary = RunSummary {
        meta,
        finished_at: now_rfc3339(),
        complete: !interrupted && written >= planned,
        interrupted,
        outcome_mode: OUTCOME_MODE_RULES.to_string(),
        rubric: "unjudged".to_string(),
        planned,
        written,
        gate: None,
        metrics: metrics.finish(),
    };
    let path = dir.join(SUMMARY_FILE);
    summary.write(&path).map_err(write_error(&path))?;
    Ok(summary)
}

async fn run_job(bot: Arc<Bot>, scorer: Arc<Scorer>, prompt: Option<Arc<PromptTemplate>>, case: Arc<Case>, repeat: u32, retry: RetryPolicy) -> CaseResult {
    let system = match prompt.as_deref().map(|p| p.render(&case)).transpose() {
        Ok(system) => system,
        Err(d) => return scorer.score(&case, repeat, failed_before_sending(d.to_string())),
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
    scorer.score(&case, repeat, conversation)
}

fn failed_before_sending(error: String) -> Conversation {
    Conversation { turns: Vec::new(), attempts: 0, latency_ms: 0, tokens_in: 0, tokens_out: 0, error: Some(error) }
}

fn internal_error_result(scorer: &Scorer, case: &Case, repeat: u32, e: &tokio::task::JoinError) -> CaseResult {
    let what = if e.is_panic() { "evalgate bug: the case's task panicked" } else { "the case's task was cancelled" };
    scorer.score(case, repeat, failed_before_sending(what.to_string()))
}
