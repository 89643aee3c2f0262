//! The suite: every eval-set file of a run. It is checked as a whole before anything is
//! sent (every problem, keys repeated across files, the content hash), then read again file
//! by file while the run goes, so a run's memory does not grow with the size of its suite.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest, Sha256};

use super::{Case, RegexCache, Stratum, load_file_with};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::yaml;

/// Suites whose files add up to at most this many bytes keep the cases parsed during the
/// check (some 20,000 short cases); larger suites parse each file again when its turn to
/// run comes, and hold one file's cases at a time.
pub const KEEP_PARSED_BYTES: u64 = 8 << 20;

/// One eval-set file of the suite.
#[derive(Debug, Clone)]
pub struct SuiteFile {
    pub path: PathBuf,
    /// SHA-256 of the bytes that were checked: a file read again must still have them.
    digest: [u8; 32],
    kept: Option<Arc<[Arc<Case>]>>,
}

impl SuiteFile {
    /// The file's cases, as checked: kept from the check, or parsed again.
    fn cases(&self, regexes: &mut RegexCache) -> Result<Vec<Arc<Case>>, Diagnostics> {
        if let Some(kept) = &self.kept {
            return Ok(kept.to_vec());
        }
        let fail = |message: String| Diagnostics(vec![Diagnostic::new(&self.path, message)]);
        let bytes =
            std::fs::read(&self.path).map_err(|e| fail(format!("cannot read file: {e}")))?;
        if digest(&bytes) != self.digest {
            return Err(fail(
                "changed after evalgate checked it at the start of the run; start the run again"
                    .into(),
            ));
        }
        let text = yaml::decode_utf8(&self.path, &bytes).map_err(|d| Diagnostics(vec![d]))?;
        let cases = load_file_with(&self.path, text, regexes)?;
        Ok(cases.into_iter().map(Arc::new).collect())
    }
}

/// What selecting and counting cases needs to know, without holding the case.
#[derive(Debug, Clone)]
pub struct CaseHead {
    /// `<language>/<id>`.
    pub key: Box<str>,
    pub stratum: Stratum,
    /// It expects `resolve` or `refuse` and has no content check: without a judge, no
    /// reply could fail it on what it says (its results are `unverified`).
    pub rule_blind: bool,
    /// Not reviewed yet: left out of runs unless asked for, and of the coverage counts.
    pub draft: bool,
}

impl CaseHead {
    pub fn language(&self) -> &str {
        crate::evalset::language_of_key(&self.key)
    }
}

/// Every file of a run, checked, in path order.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    pub files: Vec<SuiteFile>,
    /// One per case, in run order: files in path order, cases in file order.
    pub heads: Vec<CaseHead>,
    /// SHA-256 over every file's suite folder, name and content digest: runs are
    /// comparable only when it agrees.
    pub hash: String,
    languages: Vec<String>,
}

impl Suite {
    pub fn len(&self) -> usize {
        self.heads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heads.is_empty()
    }

    /// The languages the suite covers (including expected reply languages), for
    /// restricting language detection.
    pub fn languages(&self) -> Vec<String> {
        self.languages.clone()
    }

    /// Case counts per language and stratum.
    /// Per language × stratum, the cases no rule could fail on content (see
    /// [`CaseHead::rule_blind`]); cells without such cases are left out.
    pub fn rule_blind(&self) -> BTreeMap<String, BTreeMap<Stratum, usize>> {
        let mut table: BTreeMap<String, BTreeMap<Stratum, usize>> = BTreeMap::new();
        for head in self.heads.iter().filter(|h| h.rule_blind && !h.draft) {
            *table
                .entry(head.language().to_string())
                .or_default()
                .entry(head.stratum)
                .or_default() += 1;
        }
        table
    }

    /// Reviewed cases only: a draft does not count towards a wave.
    pub fn coverage(&self) -> BTreeMap<String, BTreeMap<Stratum, usize>> {
        self.count_cells(|h| !h.draft)
    }

    /// Draft cases per language and stratum, counted apart from [`Suite::coverage`].
    pub fn drafts(&self) -> BTreeMap<String, BTreeMap<Stratum, usize>> {
        self.count_cells(|h| h.draft)
    }

    fn count_cells(
        &self,
        counted: impl Fn(&CaseHead) -> bool,
    ) -> BTreeMap<String, BTreeMap<Stratum, usize>> {
        let mut table: BTreeMap<String, BTreeMap<Stratum, usize>> = BTreeMap::new();
        for head in self.heads.iter().filter(|h| counted(h)) {
            *table
                .entry(head.language().to_string())
                .or_default()
                .entry(head.stratum)
                .or_default() += 1;
        }
        table
    }

    /// The cases in run order, one file in memory at a time.
    pub fn cases(&self) -> CaseReader {
        CaseReader {
            files: self.files.clone().into_iter(),
            current: Vec::new().into_iter(),
            regexes: RegexCache::new(),
        }
    }

    /// Every case at once, for work that needs them all together.
    pub fn all_cases(&self) -> Result<Vec<Arc<Case>>, Diagnostics> {
        self.cases().collect()
    }
}

/// Reads a suite's cases file by file. Stops after the first file that cannot be read
/// as it was checked.
pub struct CaseReader {
    files: std::vec::IntoIter<SuiteFile>,
    current: std::vec::IntoIter<Arc<Case>>,
    regexes: RegexCache,
}

impl Iterator for CaseReader {
    type Item = Result<Arc<Case>, Diagnostics>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(case) = self.current.next() {
                return Some(Ok(case));
            }
            let file = self.files.next()?;
            match file.cases(&mut self.regexes) {
                Ok(cases) => self.current = cases.into_iter(),
                Err(problems) => {
                    self.files = Vec::new().into_iter();
                    return Some(Err(problems));
                }
            }
        }
    }
}

/// `--lang`, `--stratum` and `--filter`: which cases of the suite a run takes.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub languages: Vec<String>,
    pub strata: Vec<Stratum>,
    /// Glob patterns over case keys; a case matching any of them is taken.
    pub patterns: Vec<glob::Pattern>,
    /// `--include-drafts`: also take cases nobody has reviewed yet.
    pub include_drafts: bool,
    /// `--shard I/N`: only the cases whose key hashes to this shard.
    pub shard: Option<crate::shard::Shard>,
}

impl Selection {
    pub fn matches(&self, key: &str, language: &str, stratum: Stratum) -> bool {
        (self.languages.is_empty() || self.languages.iter().any(|l| l == language))
            && (self.strata.is_empty() || self.strata.contains(&stratum))
            && (self.patterns.is_empty() || self.patterns.iter().any(|p| p.matches(key)))
            && self.shard.is_none_or(|s| s.takes(key))
    }

    pub fn takes(&self, case: &Case) -> bool {
        (self.include_drafts || !case.draft)
            && self.matches(&case.key, &case.language, case.stratum)
    }

    pub fn count(&self, suite: &Suite) -> usize {
        self.taken_heads(suite).count()
    }

    /// How many of the cases taken are drafts (none unless `include_drafts`).
    pub fn count_drafts(&self, suite: &Suite) -> usize {
        self.taken_heads(suite).filter(|h| h.draft).count()
    }

    fn taken_heads<'s>(&'s self, suite: &'s Suite) -> impl Iterator<Item = &'s CaseHead> {
        suite.heads.iter().filter(|h| {
            (self.include_drafts || !h.draft) && self.matches(&h.key, h.language(), h.stratum)
        })
    }
}

/// A check every case must pass before anything is sent (the loader renders the bot's
/// prompt for each case with it); shared by the threads that check files.
pub type CaseCheck<'a> = &'a (dyn Fn(&Case) -> Result<(), Diagnostic> + Sync);

/// Checks every file, and `check` against every case; reports every problem in every
/// file, not just the first.
pub fn load_suite(files: &[PathBuf], check: Option<CaseCheck<'_>>) -> Result<Suite, Diagnostics> {
    load_suite_keeping(files, check, KEEP_PARSED_BYTES)
}

/// [`load_suite`], keeping the parsed cases only when the files add up to at most
/// `keep_bytes`.
pub fn load_suite_keeping(
    files: &[PathBuf],
    check: Option<CaseCheck<'_>>,
    keep_bytes: u64,
) -> Result<Suite, Diagnostics> {
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let keep = total <= keep_bytes;
    let mut problems = Diagnostics::default();
    let mut render_problems = Diagnostics::default();
    let mut render_seen = HashSet::new();
    let mut hasher = Sha256::new();
    let mut suite = Suite::default();
    let mut places: Vec<(usize, u64)> = Vec::new();
    let mut languages = BTreeSet::new();
    for (index, (path, checked)) in files.iter().zip(check_all(files, check, keep)).enumerate() {
        // The suite folder and file name only, so the hash is the same from any working
        // directory, checkout or config location.
        let name: Vec<String> = path
            .iter()
            .rev()
            .take(2)
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        hasher.update(name.join("/").as_bytes());
        hasher.update([0]);
        hasher.update(checked.digest);
        hasher.update([0]);
        problems.extend(checked.problems);
        for d in checked.render_problems {
            // A broken template would otherwise repeat once per case.
            let tail: Vec<&str> = d.message.split(": ").skip(1).collect();
            if render_seen.insert(tail.join(": ")) {
                render_problems.push(d);
            }
        }
        for (head, line) in checked.heads {
            suite.heads.push(head);
            places.push((index, line));
        }
        languages.extend(checked.languages);
        suite.files.push(SuiteFile {
            path: path.clone(),
            digest: checked.digest,
            kept: checked.kept.map(Arc::from),
        });
    }
    repeated_keys(&suite, &places, &mut problems);
    problems.extend(render_problems);
    suite.hash = format!("sha256:{:x}", hasher.finalize());
    suite.languages = languages.into_iter().collect();
    problems.into_result(suite)
}

/// A key used twice across files (two files of one language), reported at every later use.
fn repeated_keys(suite: &Suite, places: &[(usize, u64)], problems: &mut Diagnostics) {
    let mut order: Vec<usize> = (0..suite.heads.len()).collect();
    order.sort_by(|&a, &b| suite.heads[a].key.cmp(&suite.heads[b].key).then(a.cmp(&b)));
    let mut group = 0;
    while group < order.len() {
        let first = order[group];
        let mut next = group + 1;
        while next < order.len() && suite.heads[order[next]].key == suite.heads[first].key {
            let later = order[next];
            next += 1;
            let (first_file, first_line) = places[first];
            let (later_file, later_line) = places[later];
            if first_file == later_file {
                continue; // the file's own check reports an id it repeats
            }
            problems.push(
                Diagnostic::new(
                    &suite.files[later_file].path,
                    format!(
                        "case key `{}` is already used at {}:{}",
                        suite.heads[later].key,
                        suite.files[first_file].path.display(),
                        first_line
                    ),
                )
                .at(later_line, 0),
            );
        }
        group = next;
    }
}

/// One file checked: what the suite keeps of it.
#[derive(Default)]
struct CheckedFile {
    digest: [u8; 32],
    heads: Vec<(CaseHead, u64)>,
    languages: BTreeSet<String>,
    kept: Option<Vec<Arc<Case>>>,
    problems: Diagnostics,
    render_problems: Vec<Diagnostic>,
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn check_file(
    path: &Path,
    check: Option<CaseCheck<'_>>,
    keep: bool,
    regexes: &mut RegexCache,
) -> CheckedFile {
    let mut checked = CheckedFile::default();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let d = Diagnostic::new(path, format!("cannot read file: {e}"));
            checked.problems.push(d);
            return checked;
        }
    };
    checked.digest = digest(&bytes);
    let cases = match yaml::decode_utf8(path, &bytes) {
        Ok(text) => load_file_with(path, text, regexes),
        Err(d) => Err(Diagnostics(vec![d])),
    };
    let cases = match cases {
        Ok(cases) => cases,
        Err(problems) => {
            checked.problems = problems;
            return checked;
        }
    };
    for case in &cases {
        if let Some(Err(d)) = check.map(|c| c(case)) {
            checked.render_problems.push(d);
        }
        checked.languages.insert(case.language.clone());
        if let Some(lang) = &case.expect.language {
            checked.languages.insert(lang.clone());
        }
        let head = CaseHead {
            key: case.key.clone().into_boxed_str(),
            stratum: case.stratum,
            rule_blind: case.expect.outcome != crate::evalset::ExpectedOutcome::Escalate
                && !case.expect.has_content_check(),
            draft: case.draft,
        };
        checked.heads.push((head, case.line));
    }
    if keep {
        checked.kept = Some(cases.into_iter().map(Arc::new).collect());
    }
    checked
}

/// Checks files on every core: a suite of 35 languages is 35 independent files.
fn check_all(files: &[PathBuf], check: Option<CaseCheck<'_>>, keep: bool) -> Vec<CheckedFile> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let done: Vec<Vec<(usize, CheckedFile)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut regexes = RegexCache::new();
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = files.get(i) else { break };
                        mine.push((i, check_file(path, check, keep, &mut regexes)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut slots: Vec<Option<CheckedFile>> = (0..files.len()).map(|_| None).collect();
    for (i, checked) in done.into_iter().flatten() {
        slots[i] = Some(checked);
    }
    slots
        .into_iter()
        .zip(files)
        .map(|(slot, path)| {
            slot.unwrap_or_else(|| CheckedFile {
                problems: Diagnostics(vec![Diagnostic::new(
                    path,
                    "evalgate bug: the file's checker stopped",
                )]),
                ..CheckedFile::default()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;

    fn file(dir: &Path, name: &str, lang: &str, ids: &[&str]) -> PathBuf {
        let mut text = format!("language: {lang}\ncases:\n");
        for id in ids {
            text.push_str(&format!(
                "  - id: {id}\n    stratum: edge\n    turns:\n      - user: hi {id}\n    expect:\n      outcome: resolve\n      regex: [\"^h\"]\n"
            ));
        }
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn keys(cases: &[Arc<Case>]) -> Vec<String> {
        cases.iter().map(|c| c.key.clone()).collect()
    }

    #[test]
    fn kept_and_streamed_suites_are_the_same() {
        let dir = TempDir::new("suite-same");
        let files = vec![
            file(&dir, "de.yaml", "de", &["b", "a"]),
            file(&dir, "en.yaml", "en", &["z", "y", "x"]),
        ];
        let kept = load_suite_keeping(&files, None, u64::MAX).unwrap();
        let streamed = load_suite_keeping(&files, None, 0).unwrap();
        assert!(kept.files.iter().all(|f| f.kept.is_some()));
        assert!(streamed.files.iter().all(|f| f.kept.is_none()));
        assert_eq!(kept.hash, streamed.hash);
        let order = ["de/b", "de/a", "en/z", "en/y", "en/x"];
        assert_eq!(keys(&kept.all_cases().unwrap()), order);
        assert_eq!(keys(&streamed.all_cases().unwrap()), order);
        assert_eq!(streamed.len(), 5);
        assert_eq!(streamed.coverage()["en"][&Stratum::Edge], 3);
        assert_eq!(streamed.languages(), ["de", "en"]);
        // One compiled regex serves every case of a file, parsed again or not.
        let cases = streamed.all_cases().unwrap();
        assert!(Arc::ptr_eq(
            &cases[0].expect.regex[0],
            &cases[1].expect.regex[0]
        ));
    }

    #[test]
    fn a_file_changed_after_the_check_stops_the_reader() {
        let dir = TempDir::new("suite-changed");
        let files = vec![
            file(&dir, "de.yaml", "de", &["a"]),
            file(&dir, "en.yaml", "en", &["a"]),
        ];
        let suite = load_suite_keeping(&files, None, 0).unwrap();
        file(&dir, "en.yaml", "en", &["a", "b"]);
        let read: Vec<_> = suite.cases().collect();
        assert_eq!(read.len(), 2, "one case, then the error, then nothing");
        assert_eq!(read[0].as_ref().unwrap().key, "de/a");
        let err = read[1].as_ref().unwrap_err().to_string();
        assert!(
            err.contains("en.yaml") && err.contains("changed after"),
            "{err}"
        );
    }

    #[test]
    fn keys_repeated_across_files_point_at_the_first_use() {
        let dir = TempDir::new("suite-repeated");
        std::fs::create_dir_all(dir.join("a")).unwrap();
        std::fs::create_dir_all(dir.join("b")).unwrap();
        std::fs::create_dir_all(dir.join("c")).unwrap();
        let files = vec![
            file(&dir.join("a"), "en.yaml", "en", &["x", "y"]),
            file(&dir.join("b"), "en.yaml", "en", &["y"]),
            file(&dir.join("c"), "en.yaml", "en", &["y"]),
        ];
        let err = load_suite_keeping(&files, None, 0).unwrap_err();
        assert_eq!(err.len(), 2, "{err}");
        let first = dir.join("a").join("en.yaml");
        for d in &err.0 {
            assert!(
                d.message
                    .contains(&format!("`en/y` is already used at {}:10", first.display())),
                "{d}"
            );
        }
    }

    #[test]
    fn drafts_are_counted_apart_and_taken_only_when_asked() {
        let dir = TempDir::new("suite-drafts");
        let path = file(&dir, "en.yaml", "en", &["a", "b"]);
        let text = std::fs::read_to_string(&path).unwrap().replacen(
            "  - id: b\n",
            "  - id: b\n    status: draft\n",
            1,
        );
        std::fs::write(&path, text).unwrap();
        let suite = load_suite_keeping(&[path], None, 0).unwrap();
        assert_eq!(suite.coverage()["en"][&Stratum::Edge], 1);
        assert_eq!(suite.drafts()["en"][&Stratum::Edge], 1);
        let plain = Selection::default();
        assert_eq!((plain.count(&suite), plain.count_drafts(&suite)), (1, 0));
        let with = Selection {
            include_drafts: true,
            ..Selection::default()
        };
        assert_eq!((with.count(&suite), with.count_drafts(&suite)), (2, 1));
        let taken = |s: &Selection| -> Vec<String> {
            suite
                .cases()
                .map(Result::unwrap)
                .filter(|c| s.takes(c))
                .map(|c| c.key.clone())
                .collect()
        };
        assert_eq!(taken(&plain), ["en/a"]);
        assert_eq!(taken(&with), ["en/a", "en/b"]);
    }

    #[test]
    fn selection_counts_what_it_takes() {
        let dir = TempDir::new("suite-select");
        let files = vec![
            file(&dir, "de.yaml", "de", &["a", "b"]),
            file(&dir, "en.yaml", "en", &["a"]),
        ];
        let suite = load_suite_keeping(&files, None, 0).unwrap();
        let by_lang = Selection {
            languages: vec!["de".into()],
            ..Selection::default()
        };
        assert_eq!(by_lang.count(&suite), 2);
        let by_key = Selection {
            patterns: vec![glob::Pattern::new("*/a").unwrap()],
            ..Selection::default()
        };
        assert_eq!(by_key.count(&suite), 2);
        let taken: Vec<String> = suite
            .cases()
            .map(Result::unwrap)
            .filter(|c| by_key.takes(c))
            .map(|c| c.key.clone())
            .collect();
        assert_eq!(taken, ["de/a", "en/a"]);
    }
}
