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
        Ok(RunDir {
            dir: dir.to_path_buf(),
            summary,
        })
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

/// Drops a torn last line (a crash mid-write) so that appending continues cleanly.
/// Returns how many bytes were dropped.
pub fn repair_results(path: &Path) -> std::io::Result<u64> {
    let bytes = std::fs::read(path)?;
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(0);
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.set_len(keep as u64)?;
    Ok((bytes.len() - keep) as u64)
}

/// The (key, repeat) of every complete result in a results file.
pub fn finished_ids(path: &Path) -> Result<std::collections::HashSet<(String, u32)>, String> {
    #[derive(serde::Deserialize)]
    struct Id {
        key: String,
        repeat: u32,
    }
    let mut ids = std::collections::HashSet::new();
    read_lines(path, |id: Id| {
        ids.insert((id.key, id.repeat));
    })?;
    Ok(ids)
}

/// Reads a results file line by line; a torn last line (a crash mid-write) is skipped,
/// any other bad line is an error naming its line number.
pub fn read_results(path: &Path, each: impl FnMut(CaseResult)) -> Result<u64, String> {
    read_lines(path, each)
}

/// Like [`read_results`], into any subset of the result fields (cheaper for large runs).
pub fn read_lines<T: DeserializeOwned>(
    path: &Path,
    mut each: impl FnMut(T),
) -> Result<u64, String> {
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
            Err(e) => {
                return Err(format!(
                    "{}:{}: not a result: {e}",
                    path.display(),
                    index + 1
                ));
            }
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_dropped() {
        let dir = crate::test_support::TempDir::new("rundir");
        let path = dir.join(RESULTS_FILE);
        std::fs::write(&path, "{\"a\":1}\n{\"b\":").unwrap();
        assert_eq!(repair_results(&path).unwrap(), 5);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\":1}\n");
        assert_eq!(repair_results(&path).unwrap(), 0);
    }
}
