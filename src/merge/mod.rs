//! `evalgate merge`: the run directories of `run --shard I/N` made into one run, as if one
//! machine had run the whole suite: every result once, in key and repeat order, the
//! summary tallied from them the way a run tallies its own, `run_seconds` the longest
//! shard's. Reviewing it (gate, diff, reports) is the same as for any run.

pub mod check;
mod results;

use std::path::{Path, PathBuf};

use crate::config::Pricing;
use crate::rundir::{PROMPT_FILE, RESULTS_FILE};
use crate::runner::{Completion, RunError, Tally, summarize};
use crate::summary::{RunSummary, new_run_id};
use check::ShardDir;
use results::MergedIndex;
pub use results::WriteError;

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// The shards cannot be merged; nothing was written.
    #[error("cannot merge these shards; nothing was written:{}", listed(.0))]
    Refused(Vec<String>),
    #[error(transparent)]
    Results(#[from] WriteError),
    #[error(transparent)]
    Summary(#[from] RunError),
}

fn listed(problems: &[String]) -> String {
    problems.iter().map(|p| format!("\n  {p}")).collect()
}

impl From<MergeError> for crate::exit::Failure {
    /// Shards that do not fit together, or one that broke under the merge, are the user's
    /// to fix (2); a merged run evalgate cannot write is its own failure (4).
    fn from(e: MergeError) -> crate::exit::Failure {
        match e {
            MergeError::Refused(_) | MergeError::Results(WriteError::Read(_)) => {
                crate::exit::Failure::bad_input(e)
            }
            MergeError::Results(WriteError::Write { .. }) => crate::exit::Failure::internal(e),
            MergeError::Summary(e) => e.into(),
        }
    }
}

/// Shards checked and indexed, ready to be written as one run into `out`.
pub struct MergePlan {
    shards: Vec<ShardDir>,
    index: MergedIndex,
    out: PathBuf,
}

impl MergePlan {
    /// Checks everything that could make the merge refuse, reading and writing nothing
    /// but the shards' files: the shards themselves, each result's place, and `out`.
    pub fn new(dirs: &[PathBuf], out: &Path) -> Result<MergePlan, MergeError> {
        let mut problems = Vec::new();
        if out.join(RESULTS_FILE).exists() {
            problems.push(format!(
                "{} already holds a run; choose another OUT",
                out.display()
            ));
        }
        let shards = match check::check(dirs) {
            Ok(shards) => shards,
            Err(found) => {
                problems.extend(found);
                return Err(MergeError::Refused(problems));
            }
        };
        let index = match results::index(&shards) {
            Ok(index) => index,
            Err(found) => {
                problems.extend(found);
                return Err(MergeError::Refused(problems));
            }
        };
        if !problems.is_empty() {
            return Err(MergeError::Refused(problems));
        }
        Ok(MergePlan {
            shards,
            index,
            out: out.to_path_buf(),
        })
    }

    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    pub fn result_count(&self) -> usize {
        self.index.len()
    }

    /// Writes the merged run: prompt.txt, results.jsonl and summary.json.
    pub fn write(
        self,
        pricing: Option<&Pricing>,
        progress: impl FnMut(usize),
    ) -> Result<RunSummary, MergeError> {
        let MergePlan { shards, index, out } = self;
        let write_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| {
                MergeError::Summary(RunError::Write {
                    path: path.clone(),
                    source,
                })
            }
        };
        let Some(first) = shards.first() else {
            return Err(MergeError::Refused(vec!["no shard to merge".into()]));
        };
        std::fs::create_dir_all(&out).map_err(write_error(&out))?;
        // Checked alike (the prompt hash), so any shard's prompt is the run's.
        if let Some(text) = first.run.prompt_text() {
            let path = out.join(PROMPT_FILE);
            std::fs::write(&path, text).map_err(write_error(&path))?;
        }
        let meta = merged_meta(first, &shards);
        let mut tally = Tally::new(meta.repeats);
        results::write(
            &shards,
            &index,
            &out.join(RESULTS_FILE),
            &mut tally,
            progress,
        )?;
        // The shards ran side by side: the merged run took as long as the slowest.
        let seconds = shards
            .iter()
            .filter_map(|s| s.run.summary.run_seconds)
            .reduce(f64::max);
        tally.set_run_seconds(seconds);
        let planned = shards.iter().map(|s| s.run.summary.planned).sum();
        let whole = Completion {
            finished: true,
            interrupted: false,
            nothing_missing_before: true,
        };
        Ok(summarize(&out, meta, pricing, planned, tally, whole)?)
    }
}

/// The merged run's metadata: what every shard agrees on, as a whole run (no shard), with
/// a run id of its own and the earliest shard's start.
fn merged_meta(first: &ShardDir, shards: &[ShardDir]) -> crate::summary::RunMeta {
    let mut meta = first.run.summary.meta.clone();
    meta.run_id = new_run_id();
    meta.evalgate_version = env!("CARGO_PKG_VERSION").to_string();
    meta.shard = None;
    if let Some(earliest) = shards
        .iter()
        .map(|s| &s.run.summary.meta.started_at)
        .filter(|t| !t.is_empty())
        .min()
    {
        meta.started_at = earliest.clone();
    }
    meta
}
