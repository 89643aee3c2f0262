//! Eval sets: per-language YAML files of stratified cases. Loading checks every file and
//! reports all problems in one pass, each with its file, line and column.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::config::Context;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::language;
use crate::yaml;

pub mod append;
pub mod approve;
mod simulation;
mod suite;
use simulation::SimulateSpec;
pub use simulation::{MAX_SIMULATED_TURNS, Simulation};
pub use suite::{CaseCheck, CaseHead, CaseReader, Selection, Suite, load_suite};

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
    turns: Option<Spanned<Vec<TurnSpec>>>,
    #[serde(default)]
    simulate: Option<Spanned<SimulateSpec>>,
    expect: ExpectSpec,
    /// `draft` for a generated or imported case nobody has reviewed yet; absent once
    /// approved.
    #[serde(default)]
    status: Option<Spanned<String>>,
    /// Where a draft came from: the key of the case it was made from, or
    /// `import:<file>:<row>`.
    #[serde(default)]
    source: Option<String>,
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
    #[serde(default)]
    actions: Vec<ActionSpec>,
    #[serde(default)]
    forbidden_actions: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionSpec {
    name: Spanned<String>,
    #[serde(default)]
    arguments: serde_json::Map<String, serde_json::Value>,
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
    /// The scripted customer turns; empty for a simulated case.
    pub turns: Vec<String>,
    /// A customer played by the simulator instead of a script.
    pub simulate: Option<Simulation>,
    pub expect: Expectation,
    pub source: PathBuf,
    pub line: u64,
    /// Not reviewed yet (`status: draft`): runs skip it unless asked, and it never
    /// counts towards a gate.
    pub draft: bool,
    /// The case's `source:` field: the key it was made from, or the imported ticket.
    pub derived_from: Option<String>,
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
    /// Actions the bot must report taking.
    pub actions: Vec<ExpectedAction>,
    /// Names of actions the bot must not take, whatever it says.
    pub forbidden_actions: Vec<String>,
}

/// An action a case expects: its name, and arguments the bot's must contain.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedAction {
    pub name: String,
    pub arguments: serde_json::Map<String, serde_json::Value>,
}

impl Expectation {
    /// Whether a reply could fail the case on what it says: without one of these checks
    /// (and without a judge), any reply in the right language passes.
    pub fn has_content_check(&self) -> bool {
        !(self.must_include.is_empty()
            && self.must_not_include.is_empty()
            && self.regex.is_empty()
            && self.not_regex.is_empty()
            && self.actions.is_empty()
            && self.forbidden_actions.is_empty())
    }
}

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
        let draft = match &spec.status {
            None => false,
            Some(status) if status.value.trim() == DRAFT_STATUS => true,
            Some(status) => {
                problems.push(
                    Diagnostic::new(
                        path,
                        format!(
                            "case `{id}`: status `{}` is unknown; the only status is `{DRAFT_STATUS}` (delete the line to approve the case)",
                            status.value.trim()
                        ),
                    )
                    .at_location(status.referenced),
                );
                false
            }
        };
        let (turns, simulate) = conversation_of(
            path,
            &id,
            case_loc,
            spec.turns,
            spec.simulate,
            &mut problems,
        );
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
        let mut action_name = |name: Spanned<String>| {
            let trimmed = name.value.trim().to_string();
            if trimmed.is_empty() {
                problems.push(
                    Diagnostic::new(path, format!("case `{id}`: an action needs a name"))
                        .at_location(name.referenced),
                );
            }
            trimmed
        };
        let actions = spec
            .expect
            .actions
            .into_iter()
            .map(|a| ExpectedAction {
                name: action_name(a.name),
                arguments: a.arguments,
            })
            .collect();
        let forbidden_actions = spec
            .expect
            .forbidden_actions
            .into_iter()
            .map(&mut action_name)
            .collect();
        cases.push(Case {
            key: case_key(&language, &id),
            id,
            language: language.clone(),
            market: file_market.clone(),
            scenario: spec.scenario,
            stratum: spec.stratum,
            intent: spec.intent,
            tags: spec.tags,
            context: spec.context,
            turns,
            simulate,
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
                actions,
                forbidden_actions,
            },
            source: path.to_path_buf(),
            line: case_line,
            draft,
            derived_from: spec.source,
        });
    }
    problems.into_result(cases)
}

/// A case's conversation: scripted `turns` or a `simulate:` block, exactly one of them.
fn conversation_of(
    path: &Path,
    id: &str,
    case_loc: serde_saphyr::Location,
    turns: Option<Spanned<Vec<TurnSpec>>>,
    simulate: Option<Spanned<SimulateSpec>>,
    problems: &mut Diagnostics,
) -> (Vec<String>, Option<Simulation>) {
    match (turns, simulate) {
        (Some(_), Some(simulate)) => {
            problems.push(
                Diagnostic::new(
                    path,
                    format!(
                        "case `{id}` has both `turns` and `simulate`: a case is either scripted or simulated"
                    ),
                )
                .at_location(simulate.referenced),
            );
            (Vec::new(), None)
        }
        (None, None) => {
            problems.push(
                Diagnostic::new(
                    path,
                    format!(
                        "case `{id}` has no turns: give at least one `- user: ...`, or a `simulate:` block"
                    ),
                )
                .at_location(case_loc),
            );
            (Vec::new(), None)
        }
        (Some(turns), None) => {
            if turns.value.is_empty() {
                problems.push(
                    Diagnostic::new(
                        path,
                        format!("case `{id}` has no turns: give at least one `- user: ...`"),
                    )
                    .at_location(case_loc),
                );
            }
            (turns.value.into_iter().map(|t| t.user).collect(), None)
        }
        (None, Some(simulate)) => {
            let at = simulate.referenced;
            let simulation = simulation::validate(path, id, simulate.value, problems, at);
            (Vec::new(), Some(simulation))
        }
    }
}

/// The one value of a case's `status:` field: reviewed cases have none.
pub const DRAFT_STATUS: &str = "draft";

/// A case's key, unique across a run: `<language>/<id>`.
pub fn case_key(language: &str, id: &str) -> String {
    format!("{language}/{id}")
}

/// The language part of a [`case_key`].
pub fn language_of_key(key: &str) -> &str {
    key.split_once('/').map_or(key, |(language, _)| language)
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
    fn drafts_carry_their_status_and_source() {
        let text = GOOD.replace(
            "    stratum: routine\n",
            "    stratum: routine\n    status: draft\n    source: en/b\n",
        );
        let case = &load(&text).unwrap()[0];
        assert!(case.draft);
        assert_eq!(case.derived_from.as_deref(), Some("en/b"));
        assert!(!load(GOOD).unwrap()[0].draft);
    }

    #[test]
    fn an_unknown_status_names_its_line() {
        let text = GOOD.replace(
            "    stratum: routine\n",
            "    stratum: routine\n    status: ok\n",
        );
        let err = load(&text).unwrap_err();
        assert_eq!(err.0[0].line, Some(6), "{err}");
        assert!(err.to_string().contains("status `ok` is unknown"), "{err}");
    }

    #[test]
    fn language_any_turns_the_check_off() {
        let text = GOOD.replace("outcome: resolve", "outcome: resolve\n      language: any");
        assert_eq!(load(&text).unwrap()[0].expect.language, None);
    }
}
