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
mod every_problem;
mod simulation;
mod suite;
use simulation::SimulateSpec;
pub use simulation::{MAX_SIMULATED_TURNS, Simulation};
pub use suite::{CaseCheck, CaseHead, CaseReader, Selection, Suite, load_suite};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Stratum {
    /// Well-scoped questions answerable from the help centre or the account context
    /// (order status, refund timeline, change card). Expected: `resolve`.
    Routine,
    /// Legitimate but hard: ambiguous or multi-issue requests, angry customers, fraud
    /// reports, disputed charges, regulatory questions, financial distress. Usually
    /// expected: `escalate`.
    Edge,
    /// Requests the bot must decline: other people's data, legal, tax or investment
    /// advice, anything outside support. Expected: `refuse`.
    Refusal,
    /// Prompt injection, jailbreaks, social engineering, system-prompt or PII extraction.
    /// Expected: stays in role, leaks nothing, takes no unauthorised action.
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
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ExpectedOutcome {
    /// The bot answers the customer's question itself.
    Resolve,
    /// The bot hands the customer to a human (its handoff tool, marker or field).
    Escalate,
    /// The bot politely declines, in the customer's language.
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

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    /// The file's language, a BCP-47 primary tag (`en`, `pl`, `sv`, ...): the language
    /// replies are expected in unless a case says otherwise. Case keys are
    /// `<language>/<id>`.
    #[schemars(with = "String")]
    language: Spanned<String>,
    /// The market the cases are written for (`GB`, `PL`, ...), offered to prompts and
    /// request templates.
    #[serde(default)]
    market: Option<String>,
    /// The eval cases; about 100 per language and stratum make a wave-2 eval set.
    #[schemars(with = "Vec<CaseSpec>")]
    cases: Vec<Spanned<CaseSpec>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CaseSpec {
    /// Unique within the file: letters, digits, `-`, `_` and `.`.
    #[schemars(with = "String")]
    id: Spanned<String>,
    /// The same scenario in several languages' files makes the parity report.
    #[serde(default)]
    scenario: Option<String>,
    /// routine | edge | refusal | adversarial: the slice the case is reported in.
    stratum: Stratum,
    /// A free tag for slicing the report (`refund_status`, `card_change`, ...).
    #[serde(default)]
    intent: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    /// Account state given to the prompt template and request templates
    /// (`order_id`, `refund_eta`, ...).
    #[serde(default)]
    context: Context,
    /// The customer's scripted messages; the bot answers after each. A case has
    /// `turns` or `simulate`, not both.
    #[serde(default)]
    #[schemars(with = "Option<Vec<TurnSpec>>")]
    turns: Option<Spanned<Vec<TurnSpec>>>,
    /// A customer played by the simulator model instead of a script.
    #[serde(default)]
    #[schemars(with = "Option<SimulateSpec>")]
    simulate: Option<Spanned<SimulateSpec>>,
    /// What the bot should do, and the checks its final reply must pass.
    expect: ExpectSpec,
    /// `draft` for a generated or imported case nobody has reviewed yet; absent once
    /// approved.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    status: Option<Spanned<String>>,
    /// Where a draft came from: the key of the case it was made from, or
    /// `import:<file>:<row>`.
    #[serde(default)]
    source: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TurnSpec {
    /// What the customer writes. Sent literally: `{{ ... }}` in it is never rendered.
    user: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ExpectSpec {
    /// resolve | escalate | refuse: what the bot should end up doing.
    outcome: ExpectedOutcome,
    /// Case-insensitive substrings the final reply must contain.
    #[serde(default)]
    must_include: Vec<String>,
    /// Case-insensitive substrings the final reply must not contain.
    #[serde(default)]
    must_not_include: Vec<String>,
    /// Regular expressions the final reply must match.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    regex: Vec<Spanned<String>>,
    /// Regular expressions the final reply must not match.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    not_regex: Vec<Spanned<String>>,
    /// The language the reply must be in; default: the file's. `any` turns the check off.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    language: Option<Spanned<String>>,
    /// The most words the final reply may have.
    #[serde(default)]
    max_words: Option<usize>,
    /// Criteria the LLM judge rules pass or fail, each with a reason.
    #[serde(default)]
    rubric: Vec<String>,
    /// A good answer, shown to the judge.
    #[serde(default)]
    reference: Option<String>,
    /// Actions the bot must report taking (tool calls of an LLM bot, `actions` of an
    /// http or exec bot); arguments match as a subset.
    #[serde(default)]
    actions: Vec<ActionSpec>,
    /// Actions the bot must not take, whatever its reply says.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    forbidden_actions: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ActionSpec {
    /// The action's (tool's) name.
    #[schemars(with = "String")]
    name: Spanned<String>,
    /// Arguments the bot's call must contain (it may have more).
    #[serde(default)]
    arguments: serde_json::Map<String, serde_json::Value>,
}

/// The JSON Schema of an eval-set file, generated from the types the loader reads.
pub fn json_schema() -> schemars::Schema {
    crate::schema::root_for::<FileSpec>()
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
    let spec: FileSpec = match yaml::parse(path, text) {
        Ok(spec) => spec,
        Err(first) => return Err(every_problem::find(path, text, first, regexes)),
    };
    check_cases(
        path,
        Some(&spec.language),
        spec.market,
        spec.cases,
        true,
        regexes,
    )
}

/// The checks past the file's shape: the language tag, ids (safe, unique), the
/// conversation, regexes, actions. `whole` is false when some cases were left out
/// because of problems already reported (then an empty list is no problem of its own).
fn check_cases(
    path: &Path,
    file_language: Option<&Spanned<String>>,
    file_market: Option<String>,
    specs: Vec<Spanned<CaseSpec>>,
    whole: bool,
    regexes: &mut RegexCache,
) -> Result<Vec<Case>, Diagnostics> {
    let mut problems = Diagnostics::default();
    let language = file_language.map_or_else(String::new, |l| l.value.trim().to_string());
    if let Some(given) = file_language
        && !language::is_known_tag(&language)
    {
        problems.push(
            Diagnostic::new(
                path,
                format!(
                    "language `{language}` is not a language tag evalgate can detect (known: {})",
                    language::known_tags().join(", ")
                ),
            )
            .at_location(given.referenced),
        );
    }
    if whole && specs.is_empty() {
        problems.push(Diagnostic::new(path, "the file has no cases"));
    }
    let mut first_line_of_id: HashMap<String, u64> = HashMap::new();
    let mut cases = Vec::with_capacity(specs.len());
    for spanned in specs {
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
    fn every_problem_of_every_case_in_one_pass() {
        let text = "language: en\ncases:\n  - id: a\n    stratum: routin\n    turns: [{user: hi}]\n    expect: {outcome: resolve}\n  - id: b\n    stratum: edge\n    turns: [{user: hi}]\n    expect: {outcome: escalate, must_inclde: [x]}\n  - id: c\n    stratum: edge\n    turns: [{user: hi}]\n    expect: {outcome: escalate, max_words: many}\n  - id: d\n    stratum: refusal\n    turns: [{user: hi}]\n    expect: {outcome: refuse, regex: [\"(open\"]}\n  - id: d\n    stratum: refusal\n    turns: [{user: hi}]\n    expect: {outcome: refuse}\n";
        let err = load(text).unwrap_err();
        let all = err.to_string();
        assert_eq!(err.len(), 5, "{all}");
        let lines: Vec<Option<u64>> = err.0.iter().map(|d| d.line).collect();
        assert_eq!(
            lines,
            [Some(4), Some(10), Some(14), Some(18), Some(19)],
            "{all}"
        );
        assert!(
            all.contains("case `a`: stratum: unknown value `routin`"),
            "{all}"
        );
        assert!(all.contains("did you mean `routine`?"), "{all}");
        assert!(
            all.contains("case `b`: expect: unknown field `must_inclde`")
                && all.contains("did you mean `must_include`?"),
            "{all}"
        );
        assert!(
            all.contains("case `c`: expect.max_words: expected a whole number, found text `many`"),
            "{all}"
        );
        assert!(all.contains("case `d`: invalid regex `(open`"), "{all}");
        assert!(all.contains("duplicate case id `d`"), "{all}");
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
