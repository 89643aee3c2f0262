//! A run directory on disk (`reports/<run-id>/`): its file names, and reading it back.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::result::CaseResult;
use crate::summary::RunSummary;

pub const RESULTS_FILE: &str = "results.jsonl";
pub const SUMMARY_FILE: &str = "summary.json";
pub const PROMPT_FILE: &str = "prompt.txt";

/// A finished (or interrupted) run, as written.
pub struct RunDir {
    pub dir: PathBuf,
    pub summary: RunSummary,
}

impl RunDir {
    pub fn open(dir: &Path) -> Result<RunDir, String> {
        if !dir.is_dir() {
            return Err(format!("{}: no such run directory", dir.display()));
        }
        let summary = RunSummary::read(&dir.join(SUMMARY_FILE))?;
        Ok(RunDir { dir: dir.to_path_buf(), summary })
    }

    pub fn results_path(&self) -> PathBuf {
        self.dir.join(RESULTS_FILE)
    }

    /// The prompt template text the run used, if it had one.
    pub fn prompt_text(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.join(PROMPT_FILE)).ok()
    }

    pub fn for_each_result(&self, each: impl FnMut(CaseResult)) -> Result<u64, String> {
        read_results(&self.results_path(), each)
    }
}

/// Reads a results file line by line; a torn last line (a crash mid-write) is skipped,
/// any other bad line is an error naming its line number.
pub fn read_results(path: &Path, each: impl FnMut(CaseResult)) -> Result<u64, String> {
    read_lines(path, each)
}

/// Like [`read_results`], into any subset of the result fields (cheaper for large runs).
pub fn read_lines<T: DeserializeOwned>(path: &Path, mut each: impl FnMut(T)) -> Result<u64, String> {
    use std::io::BufRead;
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = std::io::BufReader::new(file).lines().enumerate().peekable();
    let mut count = 0;
    while let Some((index, line)) = lines.next() {
        let line = line.map_err(|e| format!("{}:{}: {e}", path.display(), index + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<T>(&line) {
            Ok(r) => {
                each(r);
                count += 1;
            }
            Err(_) if lines.peek().is_none() => break,
            Err(e) => return Err(format!("{}:{}: not a result: {e}", path.display(), index + 1)),
        }
    }
    Ok(count)
}
