//! The shards' results, merged into one results.jsonl in key and repeat order.
//!
//! Each shard's file is in the order its conversations finished. Only where each line is
//! (key, repeat, shard, offset, length: some 60 bytes a result) is held in memory and
//! sorted; the lines themselves are copied one at a time, byte for byte, and each is
//! parsed once on the way for the summary. So memory grows with the number of results
//! by that index alone, never with transcripts, and the merged lines are exactly the lines
//! the shards wrote.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::check::ShardDir;
use crate::result::CaseResult;
use crate::result_index::locate_lines;
use crate::runner::Tally;
use crate::shard::shard_of;

/// Where one result's line is.
struct Entry {
    key: Box<str>,
    repeat: u32,
    /// Position of its shard in the list given to [`index`].
    shard: usize,
    offset: u64,
    len: u32,
}

/// Every result of every shard, sorted by key and repeat.
pub struct MergedIndex {
    entries: Vec<Entry>,
}

impl MergedIndex {
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Indexes every shard's results and checks that each result is where it belongs: in the
/// shard its key hashes to, once, and as many as the shard's summary says it wrote.
pub fn index(shards: &[ShardDir]) -> Result<MergedIndex, Vec<String>> {
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    for (position, s) in shards.iter().enumerate() {
        let path = s.run.results_path();
        let before = entries.len();
        if let Err(e) = index_file(&path, position, &mut entries) {
            problems.push(format!("{}: {e}", s.name()));
            continue;
        }
        let found = (entries.len() - before) as u64;
        if found != s.run.summary.written {
            problems.push(format!(
                "{}: results.jsonl holds {found} results, its summary says {} were written",
                s.name(),
                s.run.summary.written
            ));
        }
        let strays: Vec<&Entry> = entries[before..]
            .iter()
            .filter(|e| !s.shard.takes(&e.key))
            .collect();
        if let Some(first) = strays.first() {
            problems.push(format!(
                "{}: {} result{} of other shards, e.g. {} (shard {}/{})",
                s.name(),
                strays.len(),
                if strays.len() == 1 { " is" } else { "s are" },
                first.key,
                shard_of(&first.key, s.shard.count),
                s.shard.count
            ));
        }
    }
    // The shard last, so a result found twice is named in shard order.
    entries.sort_unstable_by(|a, b| (&a.key, a.repeat, a.shard).cmp(&(&b.key, b.repeat, b.shard)));
    let mut twice = entries
        .windows(2)
        .filter(|w| (&w[0].key, w[0].repeat) == (&w[1].key, w[1].repeat));
    if let Some(w) = twice.next() {
        let more = twice.count();
        let place = if w[0].shard == w[1].shard {
            format!("twice in {}", shards[w[1].shard].name())
        } else {
            format!(
                "in {} and in {}",
                shards[w[0].shard].name(),
                shards[w[1].shard].name()
            )
        };
        problems.push(format!(
            "{} repeat {} appears {place}{}",
            w[1].key,
            w[1].repeat,
            match more {
                0 => String::new(),
                n => format!(" (and {} more)", crate::report::count_of(n, "result")),
            }
        ));
    }
    if problems.is_empty() {
        Ok(MergedIndex { entries })
    } else {
        Err(problems)
    }
}

fn index_file(path: &Path, shard: usize, entries: &mut Vec<Entry>) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Head {
        key: String,
        repeat: u32,
    }
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let found = locate_lines(path, BufReader::new(file), |line, offset, len| {
        let head = serde_json::from_slice::<Head>(line)?;
        Ok(Entry {
            key: head.key.into_boxed_str(),
            repeat: head.repeat,
            shard,
            offset,
            len,
        })
    })?;
    entries.extend(found);
    Ok(())
}

/// Writes the merged results.jsonl at `path` in index order, counting each result in
/// `tally` as it goes; `progress` hears how many are written every so often.
pub fn write(
    shards: &[ShardDir],
    index: &MergedIndex,
    path: &Path,
    tally: &mut Tally,
    mut progress: impl FnMut(usize),
) -> Result<(), WriteError> {
    let mut files = Vec::with_capacity(shards.len());
    for s in shards {
        let source = s.run.results_path();
        files.push(
            File::open(&source)
                .map_err(|e| WriteError::Read(format!("{}: {e}", source.display())))?,
        );
    }
    let out = File::create(path).map_err(|source| WriteError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = std::io::BufWriter::new(out);
    let write_failed = |source| WriteError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut line = Vec::new();
    for (n, e) in index.entries.iter().enumerate() {
        let source = &shards[e.shard];
        let file = &mut files[e.shard];
        line.resize(e.len as usize, 0);
        file.seek(SeekFrom::Start(e.offset))
            .and_then(|_| file.read_exact(&mut line))
            .map_err(|err| {
                WriteError::Read(format!(
                    "{}: {}: {err}",
                    source.run.results_path().display(),
                    e.key
                ))
            })?;
        let result: CaseResult = serde_json::from_slice(&line).map_err(|err| {
            WriteError::Read(format!(
                "{}: {}: not a result: {err}",
                source.run.results_path().display(),
                e.key
            ))
        })?;
        tally.add(&result);
        if !line.ends_with(b"\n") {
            line.push(b'\n');
        }
        out.write_all(&line).map_err(write_failed)?;
        if n % 10_000 == 9_999 {
            progress(n + 1);
        }
    }
    out.flush().map_err(write_failed)
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A shard's results file changed or broke while it was being merged.
    #[error("{0}")]
    Read(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}
