//! The run directory's `results.jsonl`: one line per finished result, flushed at once so
//! a crash loses nothing that was written.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::result::CaseResult;

pub const RESULTS_FILE: &str = "results.jsonl";
pub const SUMMARY_FILE: &str = "summary.json";
pub const PROMPT_FILE: &str = "prompt.txt";

pub struct ResultsWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl ResultsWriter {
    pub fn create(dir: &Path) -> std::io::Result<ResultsWriter> {
        let path = dir.join(RESULTS_FILE);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(ResultsWriter { path, out: BufWriter::new(file) })
    }

    pub fn append(&mut self, result: &CaseResult) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, result).map_err(std::io::Error::other)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads a results file line by line; a torn last line (a crash mid-write) is skipped,
/// any other bad line is an error naming its line number.
pub fn read_results(path: &Path, mut each: impl FnMut(CaseResult)) -> Result<u64, String> {
    use std::io::BufRead;
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = std::io::BufReader::new(file).lines().enumerate().peekable();
    let mut count = 0;
    while let Some((index, line)) = lines.next() {
        let line = line.map_err(|e| format!("{}:{}: {e}", path.display(), index + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<CaseResult>(&line) {
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
