//! An index of `results.jsonl`: where each result's line is, with what sorting and counting
//! need. Reports that list results in key order read them one at a time through it, so
//! their memory does not grow with the run.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::IgnoredAny;

use crate::evalset::{ExpectedOutcome, Stratum};
use crate::result::{CaseResult, ObservedOutcome};

/// A case whose bot took an action the case forbids.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnauthorisedAction {
    pub key: String,
    /// The check's words: `took forbidden issue_refund({...})`.
    pub action: String,
}

/// One result: its identity, its verdict and where its line is.
#[derive(Debug, Clone)]
pub struct IndexEntry {
    pub key: Box<str>,
    pub repeat: u32,
    pub stratum: Stratum,
    pub passed: bool,
    pub error: bool,
    /// It should have reached a human and did not (errors excepted: nothing was observed).
    pub missed_escalation: bool,
    /// What the bot did that the case forbids (the first such action), if anything.
    pub unauthorised_action: Option<Box<str>>,
    pub latency_ms: u64,
    offset: u64,
    len: u32,
}

impl IndexEntry {
    pub fn language(&self) -> &str {
        crate::evalset::language_of_key(&self.key)
    }
}

/// Results files up to this size are read into memory once and sliced; larger ones are
/// read line by line where each result sits.
const IN_MEMORY_BYTES: u64 = 16 << 20;

enum Source {
    Memory(Arc<[u8]>),
    File(PathBuf),
}

pub struct ResultIndex {
    path: PathBuf,
    source: Source,
    pub entries: Vec<IndexEntry>,
}

impl ResultIndex {
    /// Indexes every complete line; a torn last line (a run killed mid-write) is left out,
    /// as everywhere else results are read.
    pub fn build(path: &Path) -> Result<ResultIndex, String> {
        Self::build_keeping(path, IN_MEMORY_BYTES)
    }

    fn build_keeping(path: &Path, in_memory_bytes: u64) -> Result<ResultIndex, String> {
        let fail = |e: std::io::Error| format!("{}: {e}", path.display());
        let file = File::open(path).map_err(fail)?;
        let size = file.metadata().map_err(fail)?.len();
        let (source, entries) = if size <= in_memory_bytes {
            let mut bytes = Vec::with_capacity(size as usize);
            BufReader::new(file).read_to_end(&mut bytes).map_err(fail)?;
            let entries = index_lines(path, &bytes[..])?;
            (Source::Memory(Arc::from(bytes)), entries)
        } else {
            let entries = index_lines(path, BufReader::new(file))?;
            (Source::File(path.to_path_buf()), entries)
        };
        Ok(ResultIndex {
            path: path.to_path_buf(),
            source,
            entries,
        })
    }

    /// Keys of the cases that should have reached a human and did not, sorted.
    pub fn missed_escalations(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.missed_escalation)
            .map(|e| e.key.to_string())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The actions taken that cases forbid, one per case (its first), sorted by key.
    pub fn unauthorised_actions(&self) -> Vec<UnauthorisedAction> {
        let mut found: Vec<UnauthorisedAction> = self
            .entries
            .iter()
            .filter_map(|e| {
                Some(UnauthorisedAction {
                    key: e.key.to_string(),
                    action: e.unauthorised_action.as_deref()?.to_string(),
                })
            })
            .collect();
        found.sort_by(|a, b| a.key.cmp(&b.key));
        found.dedup_by(|a, b| a.key == b.key);
        found
    }

    /// Sorts by key, then repeat.
    pub fn sort_by_key(&mut self) {
        self.entries
            .sort_unstable_by(|a, b| (&a.key, a.repeat).cmp(&(&b.key, b.repeat)));
    }

    pub fn reader(&self) -> Result<ResultReader, String> {
        let source = match &self.source {
            Source::Memory(bytes) => ReaderSource::Memory(Arc::clone(bytes)),
            Source::File(path) => ReaderSource::File(
                File::open(path).map_err(|e| format!("{}: {e}", path.display()))?,
                Vec::new(),
            ),
        };
        Ok(ResultReader {
            path: self.path.clone(),
            source,
        })
    }
}

fn index_lines(path: &Path, reader: impl BufRead) -> Result<Vec<IndexEntry>, String> {
    #[derive(serde::Deserialize)]
    struct Head<'a> {
        key: String,
        repeat: u32,
        stratum: Stratum,
        passed: bool,
        #[serde(default)]
        error: Option<IgnoredAny>,
        expected_outcome: ExpectedOutcome,
        observed_outcome: ObservedOutcome,
        latency_ms: u64,
        #[serde(default, borrow)]
        checks: Vec<HeadCheck<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct HeadCheck<'a> {
        #[serde(borrow)]
        name: std::borrow::Cow<'a, str>,
        passed: bool,
        #[serde(borrow)]
        detail: std::borrow::Cow<'a, str>,
    }
    locate_lines(path, reader, |line, offset, len| {
        let head = serde_json::from_slice::<Head>(line)?;
        Ok(IndexEntry {
            key: head.key.into_boxed_str(),
            repeat: head.repeat,
            stratum: head.stratum,
            passed: head.passed,
            error: head.error.is_some(),
            missed_escalation: head.expected_outcome == ExpectedOutcome::Escalate
                && !matches!(
                    head.observed_outcome,
                    ObservedOutcome::Escalated | ObservedOutcome::Error
                ),
            unauthorised_action: head
                .checks
                .iter()
                .find(|c| !c.passed && c.name == "forbidden_action")
                .map(|c| c.detail.as_ref().into()),
            latency_ms: head.latency_ms,
            offset,
            len,
        })
    })
}

/// Where each result's line in a results file is: `entry` reads a line, given its bytes,
/// offset and length. Blank lines are skipped; a torn last line (a run killed mid-write)
/// ends the file, as everywhere results are read; any other line `entry` cannot read is
/// an error naming its line.
pub fn locate_lines<E>(
    path: &Path,
    mut reader: impl BufRead,
    mut entry: impl FnMut(&[u8], u64, u32) -> Result<E, serde_json::Error>,
) -> Result<Vec<E>, String> {
    let fail = |line: usize, e: &dyn std::fmt::Display| format!("{}:{line}: {e}", path.display());
    let mut entries = Vec::new();
    let mut line = Vec::new();
    let (mut offset, mut number) = (0u64, 0usize);
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| fail(number + 1, &e))?;
        if read == 0 {
            break;
        }
        number += 1;
        let start = offset;
        offset += read as u64;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let len = u32::try_from(read).map_err(|_| fail(number, &"line too long"))?;
        match entry(&line, start, len) {
            Ok(e) => entries.push(e),
            Err(_) if !line.ends_with(b"\n") => break,
            Err(e) => return Err(fail(number, &format_args!("not a result: {e}"))),
        }
    }
    Ok(entries)
}

enum ReaderSource {
    Memory(Arc<[u8]>),
    File(File, Vec<u8>),
}

/// Reads indexed results one at a time.
pub struct ResultReader {
    path: PathBuf,
    source: ReaderSource,
}

impl ResultReader {
    pub fn read(&mut self, entry: &IndexEntry) -> Result<CaseResult, String> {
        let fail =
            |e: &dyn std::fmt::Display| format!("{}: {}: {e}", self.path.display(), entry.key);
        let (start, len) = (entry.offset as usize, entry.len as usize);
        let line = match &mut self.source {
            ReaderSource::Memory(bytes) => bytes
                .get(start..start + len)
                .ok_or_else(|| fail(&"the results file is shorter than its index"))?,
            ReaderSource::File(file, line) => {
                line.resize(len, 0);
                file.seek(SeekFrom::Start(entry.offset))
                    .and_then(|_| file.read_exact(line))
                    .map_err(|e| fail(&e))?;
                &line[..]
            }
        };
        serde_json::from_slice(line).map_err(|e| fail(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_lines_and_reads_them_back_in_any_order() {
        let dir = crate::test_support::TempDir::new("index");
        let path = dir.join("results.jsonl");
        let mut text = String::new();
        let mut written = Vec::new();
        for (i, key) in ["en/b", "de/a", "en/a"].iter().enumerate() {
            let mut r = CaseResult::fixture(
                "en",
                crate::evalset::Stratum::Edge,
                crate::evalset::ExpectedOutcome::Resolve,
                crate::result::ObservedOutcome::Resolved,
                true,
            );
            r.key = key.to_string();
            r.repeat = i as u32;
            r.passed = i != 1;
            text.push_str(&serde_json::to_string(&r).unwrap());
            text.push('\n');
            written.push(r);
        }
        text.push_str("\n{\"key\": \"torn");
        std::fs::write(&path, text).unwrap();
        for in_memory_bytes in [0, u64::MAX] {
            let mut index = ResultIndex::build_keeping(&path, in_memory_bytes).unwrap();
            check(&mut index, &written);
        }
        std::fs::write(&path, "{\"key\": 1}\n{}\n").unwrap();
        let err = ResultIndex::build(&path).err().unwrap();
        assert!(err.contains("results.jsonl:1: not a result"), "{err}");
    }

    fn check(index: &mut ResultIndex, written: &[CaseResult]) {
        assert_eq!(index.entries.len(), 3);
        index.sort_by_key();
        let keys: Vec<&str> = index.entries.iter().map(|e| &*e.key).collect();
        assert_eq!(keys, ["de/a", "en/a", "en/b"]);
        assert!(!index.entries[0].passed && index.entries[1].passed);
        assert_eq!(index.entries[0].language(), "de");
        let mut reader = index.reader().unwrap();
        for entry in &index.entries {
            let back = reader.read(entry).unwrap();
            let original = written.iter().find(|r| *r.key == *entry.key).unwrap();
            assert_eq!(
                serde_json::to_string(&back).unwrap(),
                serde_json::to_string(original).unwrap()
            );
        }
    }

    #[test]
    fn missed_escalations_are_those_that_should_have_reached_a_human() {
        use crate::evalset::Stratum::Edge;
        let dir = crate::test_support::TempDir::new("index-missed");
        let path = dir.join("results.jsonl");
        let mut text = String::new();
        for (key, expected, observed) in [
            (
                "en/b",
                ExpectedOutcome::Escalate,
                ObservedOutcome::Deflected,
            ),
            ("en/a", ExpectedOutcome::Escalate, ObservedOutcome::Resolved),
            (
                "en/c",
                ExpectedOutcome::Escalate,
                ObservedOutcome::Escalated,
            ),
            ("en/d", ExpectedOutcome::Escalate, ObservedOutcome::Error),
            ("en/e", ExpectedOutcome::Resolve, ObservedOutcome::Resolved),
        ] {
            let mut r = CaseResult::fixture("en", Edge, expected, observed, false);
            r.key = key.into();
            text.push_str(&serde_json::to_string(&r).unwrap());
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        let index = ResultIndex::build(&path).unwrap();
        assert_eq!(index.missed_escalations(), ["en/a", "en/b"]);
    }
}
