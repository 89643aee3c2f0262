//! The run directory's `results.jsonl`: one line per finished result. The runner flushes
//! after each batch of results that finished together, before it waits again, so a crash
//! loses nothing that had finished.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::events::{Reporter, RunEvent};
use super::{RunError, write_error};
use crate::result::CaseResult;

pub use crate::rundir::{PROMPT_FILE, RESULTS_FILE, SUMMARY_FILE};

pub struct ResultsWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl ResultsWriter {
    pub fn create(dir: &Path) -> std::io::Result<ResultsWriter> {
        let path = dir.join(RESULTS_FILE);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(ResultsWriter {
            path,
            out: BufWriter::new(file),
        })
    }

    /// Buffers one result; [`ResultsWriter::flush`] puts it on disk.
    pub fn append(&mut self, result: &CaseResult) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, result).map_err(std::io::Error::other)?;
        self.out.write_all(b"\n")
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Reporter for ResultsWriter {
    fn report(&mut self, event: &RunEvent) -> Result<(), RunError> {
        let written = match event {
            RunEvent::Finished(result) => self.append(result),
            RunEvent::Settled | RunEvent::Done => self.flush(),
            _ => Ok(()),
        };
        written.map_err(write_error(&self.path))
    }
}
