//! Eval sets: per-language YAML files of stratified cases. Loading checks every file and
//! reports all problems in one pass, each with its file, line and column.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};

use crate::config::Context;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::scoring::language;
use crate::yaml;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stratum {
    Routine,
    Edge,
    Refusal,
    Adversarial,
}

impl Stratum {
    pub const ALL: [Stratum; 4] = [
        Stratum::Routine,
        Stratum::Edge,
        Stratum::Refusal,
        Stratum::Adversarial,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stratum::Routine => "routine",
            Stratum::Edge => "edge",
            Stratum::Refusal => "refusal",
            Stratum::Adversarial => "adversarial",
        }
    }

    pub fn parse(name: &str) -> Option<Stratum> {
        Stratum::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Stratum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the case author says the bot should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpectedOutcome {
    Resolve,
    Escalate,
    Refuse,
}

impl ExpectedOutcome {
    pub const ALL: [ExpectedOutcome; 3] = [
        ExpectedOutcome::Resolve,
        ExpectedOutcome::Escalate,
        ExpectedOutcome::Refuse,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ExpectedOutcome::Resolve => "resolve",
            ExpectedOutcome::Escalate => "escalate",
            ExpectedOutcome::Refuse => "refuse",
        }
    }
}

// ---- the file as written ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    language: Spanned<String>,
    #[serde(default)]
    market: Option<String>,
    cases: Vec<Spanned<CaseSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseSpec {
    id: Spanned<String>,
    #[serde(default)]
    scenario: Option<String>,
    stratum: Stratum,
    #[serde(default)]
    intent: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    context: Context,
    #[serde(default)]
    turns: Vec<TurnSpec>,
    expect: ExpectSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TurnSpec {
    user: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectSpec {
    outcome: ExpectedOutcome,
    #[serde(default)]
    must_include: Vec<String>,
    #[serde(default)]
    must_not_include: Vec<String>,
    #[serde(default)]
    regex: Vec<Spanned<String>>,
    #[serde(default)]
    not_regex: Vec<Spanned<String>>,
    #[serde(default)]
    language: Option<Spanned<String>>,
    #[serde(default)]
    max_words: Option<usize>,
    #[serde(default)]
    rubric: Vec<String>,
    #[serde(default)]
    reference: Option<String>,
}

// ---- the validated model ----

/// One eval case, validated and ready to run.
#[derive(Debug, Clone)]
pub struct Case {
    /// `<language>/<id>`, unique across the run.
    pub key: String,
    pub id: String,
    pub language: String,
    pub market: Option<String>,
    pub scenario: Option<String>,
    pub stratum: Stratum,
    pub intent: Option<String>,
    pub tags: Vec<String>,
    pub context: Context,
    pub turns: Vec<String>,
    pub expect: Expectation,
    pub source: PathBuf,
    pub line: u64,
}

#[derive(Debug, Clone)]
pub struct Expectation {
    pub outcome: ExpectedOutcome,
    pub must_include: Vec<String>,
    pub must_not_include: Vec<String>,
    /// Shared: a cloned `Regex` would carry its own match-cache pool per case.
    pub regex: Vec<Arc<Regex>>,
    pub not_regex: Vec<Arc<Regex>>,
    /// `None` when the author turned the check off with `language: any`.
    pub language: Option<String>,
    pub max_words: Option<usize>,
    pub rubric: Vec<String>,
    pub reference: Option<String>,
}

/// All cases of a run, in a stable order, plus what identifies the eval-set content.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    pub cases: Vec<Arc<Case>>,
    pub files: Vec<PathBuf>,
    /// SHA-256 over every file's path and bytes: runs are comparable only when it agrees.
    pub hash: String,
}

impl Suite {
    /// The languages the suite covers, for restricting language detection.
    pub fn languages(&self) -> Vec<String> {
        let mut langs: Vec<String> = self.cases.iter().map(|c| c.language.clone()).collect();
        for c in &self.cases {
            if let Some(l) = &c.expect.language {
                langs.push(l.clone());
            }
        }
        langs.sort();
        langs.dedup();
        langs
    }

    /// Case counts per language and stratum.
    pub fn coverage(&self) -> BTreeMap<String, BTreeMap<Stratum, usize>> {
        let mut table: BTreeMap<String, BTreeMap<Stratum, usize>> = BTreeMap::new();
        for case in &self.cases {
            *table
                .entry(case.language.clone())
                .or_default()
                .entry(case.stratum)
                .or_default() += 1;
        }
        table
    }
}

/// Expands the config's glob patterns (relative to `root`) to a sorted list of files.
/// Expands the config's glob patterns (relative to `root`) to a sorted list of files; a
/// pattern that matches nothing is an error at its line in the config.
pub fn find_files(
    root: &Path,
    patterns: &[Spanned<String>],
    origin: &Path,
) -> Result<Vec<PathBuf>, Diagnostics> {
    let mut problems = Diagnostics::default();
    let mut files = Vec::new();
    for pattern in patterns {
        let at = |message: String| Diagnostic::new(origin, message).at_location(pattern.referenced);
        let full = root.join(&pattern.value);
        match glob::glob(&full.to_string_lossy()) {
            Ok(paths) => {
                let before = files.len();
                for entry in paths {
                    match entry {
                        Ok(p) if p.is_file() => files.push(p),
                        Ok(_) => {}
                        Err(e) => problems.push(Diagnostic::new(
                            e.path(),
                            format!("cannot read: {}", e.error()),
                        )),
                    }
                }
                if files.len() == before {
                    problems.push(at(format!("pattern `{}` matches no file", pattern.value)));
                }
            }
            Err(e) => problems.push(at(format!("pattern `{}` is invalid: {e}", pattern.value))),
        }
    }
    files.sort();
    files.dedup();
    problems.into_result(files)
}

/// One file read and parsed: its bytes (for the suite hash) and its cases or problems.
struct ParsedFile {
    bytes: Option<Vec<u8>>,
    cases: Result<Vec<Case>, Diagnostics>,
}

fn parse_file(path: &Path, regexes: &mut RegexCache) -> ParsedFile {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let d = Diagnostic::new(path, format!("cannot read file: {e}"));
            return ParsedFile {
                bytes: None,
                cases: Err(Diagnostics(vec![d])),
            };
        }
    };
    let cases = match yaml::decode_utf8(path, &bytes) {
        Ok(text) => load_file_with(path, text, regexes),
        Err(d) => Err(Diagnostics(vec![d])),
    };
    ParsedFile {
        bytes: Some(bytes),
        cases,
    }
}

/// Parses files on every core: a suite of 35 languages is 35 independent files.
fn parse_all(files: &[PathBuf]) -> Vec<ParsedFile> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len())
        .max(1);
    if workers == 1 {
        let mut regexes = RegexCache::new();
        return files.iter().map(|f| parse_file(f, &mut regexes)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<ParsedFile>> = (0..files.len()).map(|_| None).collect();
    let done: Vec<Vec<(usize, ParsedFile)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut regexes = RegexCache::new();
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(path) = files.get(i) else { break };
                        mine.push((i, parse_file(path, &mut regexes)));
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
    for (i, parsed) in done.into_iter().flatten() {
        slots[i] = Some(parsed);
    }
    slots
        .into_iter()
        .zip(files)
        .map(|(slot, path)| {
            slot.unwrap_or_else(|| ParsedFile {
                bytes: None,
                cases: Err(Diagnostics(vec![Diagnostic::new(
                    path,
                    "evalgate bug: the file's parser stopped",
                )])),
            })
        })
        .collect()
}

/// Loads every file; reports every problem in every file, not just the first.
pub fn load_suite(files: &[PathBuf]) -> Result<Suite, Diagnostics> {
    let mut problems = Diagnostics::default();
    let mut cases = Vec::new();
    let mut hasher = Sha256::new();
    let mut seen_keys: HashMap<String, (PathBuf, u64)> = HashMap::new();
    for (path, parsed) in files.iter().zip(parse_all(files)) {
        if let Some(bytes) = &parsed.bytes {
            // The suite folder and file name only, so the hash is the same from any
            // working directory, checkout or config location.
            let name: Vec<String> = path
                .iter()
                .rev()
                .take(2)
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            hasher.update(name.join("/").as_bytes());
            hasher.update([0]);
            hasher.update(bytes);
            hasher.update([0]);
        }
        match parsed.cases {
            Ok(file_cases) => {
                for case in file_cases {
                    if let Some((first_path, first_line)) = seen_keys.get(&case.key) {
                        problems.push(
                            Diagnostic::new(
                                path,
                                format!(
                                    "case key `{}` is already used at {}:{}",
                                    case.key,
                                    first_path.display(),
                                    first_line
                                ),
                            )
                            .at(case.line, 0),
                        );
                        continue;
                    }
                    seen_keys.insert(case.key.clone(), (path.clone(), case.line));
                    cases.push(Arc::new(case));
                }
            }
            Err(file_problems) => problems.extend(file_problems),
        }
    }
    let hash = format!("sha256:{:x}", hasher.finalize());
    cases.sort_by(|a, b| a.key.cmp(&b.key));
    problems.into_result(Suite {
        cases,
        files: files.to_vec(),
        hash,
    })
}

/// Compiled regexes by pattern. Suites repeat the same few patterns across thousands of
/// cases; compiling each once saves both load time and the per-regex match caches.
pub type RegexCache = HashMap<String, Arc<Regex>>;

/// Parses and validates one eval-set file.
pub fn load_file(path: &Path, text: &str) -> Result<Vec<Case>, Diagnostics> {
    load_file_with(path, text, &mut RegexCache::new())
}

pub fn load_file_with(
    path: &Path,
    text: &str,
    regexes: &mut RegexCache,
) -> Result<Vec<Case>, Diagnostics> {
    let spec: FileSpec = yaml::parse(path, text).map_err(|d| Diagnostics(vec![d]))?;
    let mut problems = Diagnostics::default();
    let language = spec.language.value.trim().to_string();
    if !language::is_known_tag(&language) {
        problems.push(
            Diagnostic::new(
                path,
                format!(
                    "language `{language}` is not a language tag evalgate can detect (known: {})",
                    language::known_tags().join(", ")
                ),
            )
            .at_location(spec.language.referenced),
        );
    }
    if spec.cases.is_empty() {
        problems.push(Diagnostic::new(path, "the file has no cases"));
    }
    let file_market = spec.market;
    let mut first_line_of_id: HashMap<String, u64> = HashMap::new();
    let mut cases = Vec::with_capacity(spec.cases.len());
    for spanned in spec.cases {
        let case_loc = spanned.referenced;
        let case_line = case_loc.line();
        let spec = spanned.value;
        let id = spec.id.value.trim().to_string();
        let at_id = |msg: String| Diagnostic::new(path, msg).at_location(spec.id.referenced);
        if id.is_empty() {
            problems.push(at_id("case id is empty".into()));
        } else if !id_is_safe(&id) {
            problems.push(at_id(format!(
                "case id `{}` may only use letters, digits, `-`, `_` and `.` (and not start with `.`)",
                id.escape_debug()
            )));
        }
        if let Some(first) = first_line_of_id.get(&id) {
            problems.push(at_id(format!(
                "duplicate case id `{id}` (first defined at line {first})"
            )));
        } else {
            first_line_of_id.insert(id.clone(), spec.id.referenced.line());
        }
        if spec.turns.is_empty() {
            problems.push(
                Diagnostic::new(
                    path,
                    format!("case `{id}` has no turns: give at least one `- user: ...`"),
                )
                .at_location(case_loc),
            );
        }
        let mut compile = |patterns: Vec<Spanned<String>>, field: &str| -> Vec<Arc<Regex>> {
            let mut out = Vec::new();
            for p in patterns {
                if let Some(r) = regexes.get(&p.value) {
                    out.push(Arc::clone(r));
                    continue;
                }
                match Regex::new(&p.value) {
                    Ok(r) => {
                        let r = Arc::new(r);
                        regexes.insert(p.value.clone(), Arc::clone(&r));
                        out.push(r);
                    }
                    Err(e) => problems.push(
                        Diagnostic::new(
                            path,
                            format!(
                                "case `{id}`: invalid {field} `{}`: {}",
                                p.value,
                                e.to_string()
                                    .lines()
                                    .last()
                                    .unwrap_or("syntax error")
                                    .trim()
                            ),
                        )
                        .at_location(p.referenced),
                    ),
                }
            }
            out
        };
        let regex = compile(spec.expect.regex, "regex");
        let not_regex = compile(spec.expect.not_regex, "not_regex");
        let expected_language = match spec.expect.language {
            None => Some(language.clone()),
            Some(l) if l.value.trim() == "any" => None,
            Some(l) => {
                let tag = l.value.trim().to_string();
                if !language::is_known_tag(&tag) {
                    problems.push(
                        Diagnostic::new(path, format!(
                            "case `{id}`: expect.language `{tag}` is not a language evalgate can detect; use `any` to turn the check off"
                        ))
                        .at_location(l.referenced),
                    );
                }
                Some(tag)
            }
        };
        cases.push(Case {
            key: format!("{language}/{id}"),
            id,
            language: language.clone(),
            market: file_market.clone(),
            scenario: spec.scenario,
            stratum: spec.stratum,
            intent: spec.intent,
            tags: spec.tags,
            context: spec.context,
            turns: spec.turns.into_iter().map(|t| t.user).collect(),
            expect: Expectation {
                outcome: spec.expect.outcome,
                must_include: spec.expect.must_include,
                must_not_include: spec.expect.must_not_include,
                regex,
                not_regex,
                language: expected_language,
                max_words: spec.expect.max_words,
                rubric: spec.expect.rubric,
                reference: spec.expect.reference,
            },
            source: path.to_path_buf(),
            line: case_line,
        });
    }
    problems.into_result(cases)
}

/// Ids become parts of keys and file names, so they must not be able to name a path.
fn id_is_safe(id: &str) -> bool {
    !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Vec<Case>, Diagnostics> {
        load_file(Path::new("evalsets/x/en.yaml"), text)
    }

    const GOOD: &str = "language: en\nmarket: GB\ncases:\n  - id: a\n    stratum: routine\n    turns:\n      - user: \"hi {{ name }}\"\n    expect:\n      outcome: resolve\n      must_include: [\"x\"]\n";

    #[test]
    fn loads_a_valid_file() {
        let cases = load(GOOD).unwrap();
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].key, "en/a");
        assert_eq!(cases[0].market.as_deref(), Some("GB"));
        assert_eq!(cases[0].turns[0], "hi {{ name }}");
        assert_eq!(cases[0].line, 4);
    }

    #[test]
    fn reports_every_problem_with_lines() {
        let text = "language: en\ncases:\n  - id: a\n    stratum: routine\n    turns: []\n    expect:\n      outcome: resolve\n      regex: [\"(unclosed\"]\n  - id: a\n    stratum: edge\n    turns:\n      - user: hi\n    expect:\n      outcome: escalate\n";
        let err = load(text).unwrap_err();
        let all = err.to_string();
        assert_eq!(err.len(), 3, "{all}");
        assert!(
            all.contains("en.yaml:3:") && all.contains("no turns"),
            "{all}"
        );
        assert!(
            all.contains("en.yaml:8:") && all.contains("invalid regex"),
            "{all}"
        );
        assert!(
            all.contains("en.yaml:9:") && all.contains("duplicate case id `a`"),
            "{all}"
        );
    }

    #[test]
    fn unknown_stratum_names_the_line() {
        let text = GOOD.replace("stratum: routine", "stratum: nasty");
        let err = load(&text).unwrap_err();
        assert_eq!(err.0[0].line, Some(5), "{err}");
        assert!(err.to_string().contains("nasty"), "{err}");
    }

    #[test]
    fn unsafe_ids_are_refused() {
        for id in ["../x", "a/b", ".hidden", "a;rm"] {
            let text = GOOD.replace("id: a", &format!("id: \"{id}\""));
            assert!(load(&text).is_err(), "{id} accepted");
        }
    }

    #[test]
    fn language_any_turns_the_check_off() {
        let text = GOOD.replace("outcome: resolve", "outcome: resolve\n      language: any");
        assert_eq!(load(&text).unwrap()[0].expect.language, None);
    }
}
