//! Guards the shipped eval sets: their shape (strata, shared scenarios, multi-turn and
//! template-literal coverage) and that the demo bot passes them with the v1 prompt and
//! regresses only the non-English languages with the v2 prompt.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use evalgate_demo_bot::{Role, Turn, respond};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    language: String,
    market: Option<String>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    id: String,
    scenario: String,
    stratum: String,
    intent: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    context: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    turns: Vec<UserTurn>,
    /// Checked in full by the loader; here only whether the case has one.
    #[serde(default)]
    simulate: Option<serde_json::Value>,
    expect: Expect,
}

impl Case {
    fn simulated(&self) -> bool {
        self.simulate.is_some()
    }

    fn is_twin(&self) -> bool {
        self.tags.iter().any(|t| t == TWIN_TAG)
    }

    /// The id named by the `twin-of:<id>` tag of a benign twin.
    fn twin_of(&self) -> Option<&str> {
        self.tags.iter().find_map(|t| t.strip_prefix(TWIN_OF))
    }
}

const TWIN_TAG: &str = "benign-twin";
const TWIN_OF: &str = "twin-of:";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserTurn {
    user: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    outcome: String,
    #[serde(default)]
    must_include: Vec<String>,
    #[serde(default)]
    must_not_include: Vec<String>,
    #[serde(default)]
    regex: Vec<String>,
    #[serde(default)]
    not_regex: Vec<String>,
    language: Option<String>,
    max_words: Option<usize>,
    #[serde(default)]
    rubric: Vec<String>,
    reference: Option<String>,
    #[serde(default)]
    actions: Vec<ExpectedAction>,
    #[serde(default)]
    forbidden_actions: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedAction {
    name: String,
    #[serde(default)]
    arguments: BTreeMap<String, String>,
}

const LANGUAGES: [&str; 5] = ["en", "sv", "de", "pl", "es"];
const STRATA: [&str; 4] = ["routine", "edge", "refusal", "adversarial"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(lang: &str) -> File {
    let path = root().join("evalsets/support").join(format!("{lang}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn render(template: &str, file: &File, case: &Case) -> String {
    let env = minijinja::Environment::new();
    let ctx = minijinja::context! {
        language => file.language.clone(),
        market => file.market.clone(),
        context => minijinja::value::Serde(&case.context),
        case => minijinja::context! { id => case.id.clone(), stratum => case.stratum.clone() },
    };
    env.render_str(template, ctx)
        .unwrap_or_else(|e| panic!("{}: {e}", case.id))
}

fn detector() -> whatlang::Detector {
    use whatlang::Lang as W;
    whatlang::Detector::with_allowlist(vec![W::Eng, W::Swe, W::Deu, W::Pol, W::Spa])
}

fn tag(lang: whatlang::Lang) -> &'static str {
    match lang {
        whatlang::Lang::Eng => "en",
        whatlang::Lang::Swe => "sv",
        whatlang::Lang::Deu => "de",
        whatlang::Lang::Pol => "pl",
        whatlang::Lang::Spa => "es",
        _ => "other",
    }
}

/// What the runner would score, reduced to the rule checks and the handoff.
#[derive(Debug)]
struct Outcome {
    key: String,
    failures: Vec<String>,
    missed_escalation: bool,
    language_ok: bool,
    reply: String,
    /// For a simulated case: bot turns, and whether the customer ended it.
    simulated: Option<(usize, bool)>,
}

/// The customer messages of a simulated case, played by the built-in demo customer against
/// the demo bot, as the runner would: until the customer stops, the bot hands off, or
/// `max_turns`. Returns the bot's replies' actions and whether it escalated.
struct Played {
    escalated: bool,
    actions: Vec<evalgate_demo_bot::BackOfficeAction>,
    reply: String,
    bot_turns: usize,
    customer_stopped: bool,
}

fn play(system: &str, file: &File, case: &Case) -> Played {
    use crate::result::{Role as R, TranscriptTurn};
    let path = root()
        .join("evalsets/support")
        .join(format!("{}.yaml", file.language));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let loaded = crate::evalset::load_file(&path, &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .find(|c| c.id == case.id)
        .unwrap_or_else(|| panic!("{} not loaded", case.id));
    let simulation = loaded
        .simulate
        .clone()
        .unwrap_or_else(|| panic!("{}", case.id));
    let mut transcript: Vec<TranscriptTurn> = Vec::new();
    let mut conversation = Vec::new();
    let mut played = Played {
        escalated: false,
        actions: Vec::new(),
        reply: String::new(),
        bot_turns: 0,
        customer_stopped: false,
    };
    let turn = |role, content: &str| TranscriptTurn {
        role,
        content: content.to_string(),
        tool_calls: Vec::new(),
        latency_ms: None,
        cached: false,
        handoff: false,
    };
    for _ in 0..simulation.max_turns {
        let message = crate::simulator::demo::next_message(&loaded, &simulation, &transcript);
        if message.contains(crate::simulator::STOP_MARKER) {
            played.customer_stopped = true;
            break;
        }
        transcript.push(turn(R::User, &message));
        conversation.push(Turn {
            role: Role::User,
            content: message,
        });
        let r = respond(system, &conversation);
        played.escalated |= r.escalate.is_some();
        played.actions.extend(r.actions.iter().cloned());
        played.reply = r.content.clone();
        played.bot_turns += 1;
        transcript.push(turn(R::Assistant, &r.content));
        conversation.push(Turn {
            role: Role::Assistant,
            content: r.content,
        });
        if r.escalate.is_some() {
            break;
        }
    }
    played
}

fn run_case(template: &str, file: &File, case: &Case) -> Outcome {
    let system = render(template, file, case);
    let mut conversation = Vec::new();
    let mut escalated = false;
    let mut actions = Vec::new();
    let mut reply = String::new();
    let mut simulated = None;
    if case.simulated() {
        let played = play(&system, file, case);
        escalated = played.escalated;
        actions = played.actions;
        reply = played.reply;
        simulated = Some((played.bot_turns, played.customer_stopped));
    }
    for turn in &case.turns {
        conversation.push(Turn {
            role: Role::User,
            content: turn.user.clone(),
        });
        let r = respond(&system, &conversation);
        escalated |= r.escalate.is_some();
        actions.extend(r.actions.iter().cloned());
        reply = r.content.clone();
        conversation.push(Turn {
            role: Role::Assistant,
            content: r.content,
        });
    }
    let lower = reply.to_lowercase();
    let mut failures = Vec::new();
    for s in &case.expect.must_include {
        if !lower.contains(&s.to_lowercase()) {
            failures.push(format!("must_include {s:?}"));
        }
    }
    for s in &case.expect.must_not_include {
        if lower.contains(&s.to_lowercase()) {
            failures.push(format!("must_not_include {s:?}"));
        }
    }
    for r in &case.expect.regex {
        let re = regex::Regex::new(r).unwrap_or_else(|e| panic!("{}: {e}", case.id));
        if !re.is_match(&reply) {
            failures.push(format!("regex {r:?}"));
        }
    }
    for r in &case.expect.not_regex {
        let re = regex::Regex::new(r).unwrap_or_else(|e| panic!("{}: {e}", case.id));
        if re.is_match(&reply) {
            failures.push(format!("not_regex {r:?}"));
        }
    }
    for wanted in &case.expect.actions {
        let taken = actions.iter().any(|a| {
            a.name == wanted.name
                && wanted
                    .arguments
                    .iter()
                    .all(|(k, v)| a.arguments.iter().any(|(ak, av)| ak == k && av == v))
        });
        if !taken {
            failures.push(format!("action {}", wanted.name));
        }
    }
    for forbidden in &case.expect.forbidden_actions {
        if actions.iter().any(|a| a.name == forbidden) {
            failures.push(format!("forbidden_action {forbidden}"));
        }
    }
    let expected_lang = case.expect.language.as_deref().unwrap_or(&file.language);
    let language_ok =
        expected_lang == "any" || detector().detect_lang(&reply).map(tag) == Some(expected_lang);
    if !language_ok {
        failures.push("language".into());
    }
    if let Some(max) = case.expect.max_words
        && reply.split_whitespace().count() > max
    {
        failures.push("max_words".into());
    }
    let expects_escalation = case.expect.outcome == "escalate";
    if expects_escalation != escalated {
        failures.push(format!(
            "outcome: expected {}, escalated={escalated}",
            case.expect.outcome
        ));
    }
    Outcome {
        key: format!("{}/{}", file.language, case.id),
        failures,
        missed_escalation: expects_escalation && !escalated,
        language_ok,
        reply,
        simulated,
    }
}

fn run_all(prompt: &Path) -> Vec<Outcome> {
    let template =
        std::fs::read_to_string(prompt).unwrap_or_else(|e| panic!("{}: {e}", prompt.display()));
    LANGUAGES
        .iter()
        .flat_map(|lang| {
            let file = load(lang);
            file.cases
                .iter()
                .map(|c| run_case(&template, &file, c))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn eval_sets_have_the_promised_shape() {
    let mut scenarios_per_language = Vec::new();
    for lang in LANGUAGES {
        let file = load(lang);
        assert_eq!(file.language, lang);
        let mut ids = BTreeSet::new();
        let mut scenarios = BTreeSet::new();
        for case in &file.cases {
            assert!(
                ids.insert(case.id.clone()),
                "{lang}: duplicate id {}",
                case.id
            );
            assert!(
                scenarios.insert(case.scenario.clone()),
                "{lang}: duplicate scenario {}",
                case.scenario
            );
            assert!(
                STRATA.contains(&case.stratum.as_str()),
                "{lang}/{}",
                case.id
            );
            assert!(["resolve", "escalate", "refuse"].contains(&case.expect.outcome.as_str()));
            if case.simulated() {
                assert!(case.turns.is_empty(), "{lang}/{}", case.id);
            } else {
                assert!(
                    !case.turns.is_empty() && case.turns.len() <= 3,
                    "{lang}/{}",
                    case.id
                );
            }
            assert!(
                !case.intent.is_empty() && !case.tags.is_empty(),
                "{lang}/{}",
                case.id
            );
            if case.stratum == "routine" {
                assert_eq!(case.expect.outcome, "resolve", "{lang}/{}", case.id);
                // A routine answer is checked for the fact the customer needs.
                assert!(
                    !(case.expect.must_include.is_empty() && case.expect.regex.is_empty()),
                    "{lang}/{}",
                    case.id
                );
            }
            // Without a judge, a resolve or refuse case with no content check would pass
            // any reply in the right language: the shipped gate allows no such result.
            if case.expect.outcome != "escalate" {
                let e = &case.expect;
                assert!(
                    !(e.must_include.is_empty()
                        && e.must_not_include.is_empty()
                        && e.regex.is_empty()
                        && e.not_regex.is_empty()),
                    "{lang}/{} has no content check",
                    case.id
                );
            }
            if case.is_twin() {
                // A benign twin sits in its source's stratum but must be resolved.
                assert_eq!(case.expect.outcome, "resolve", "{lang}/{}", case.id);
            } else if case.stratum == "refusal" {
                assert_eq!(case.expect.outcome, "refuse", "{lang}/{}", case.id);
            } else if case.stratum == "adversarial" {
                assert_ne!(case.expect.outcome, "resolve", "{lang}/{}", case.id);
                assert!(
                    !case.expect.must_not_include.is_empty(),
                    "{lang}/{}",
                    case.id
                );
            }
            assert!(
                case.expect.reference.is_some() && !case.expect.rubric.is_empty(),
                "{lang}/{}: rubric and reference",
                case.id
            );
        }
        for stratum in STRATA {
            let n = file
                .cases
                .iter()
                .filter(|c| c.stratum == stratum && !c.simulated() && !c.is_twin())
                .count();
            assert_eq!(n, 10, "{lang}: {stratum}");
        }
        assert_every_source_has_one_twin(lang, &file);
        let simulated = file.cases.iter().filter(|c| c.simulated()).count();
        assert_eq!(simulated, 2, "{lang}: simulated cases");
        let multi = file.cases.iter().filter(|c| c.turns.len() >= 2).count();
        assert!(multi >= 3, "{lang}: {multi} multi-turn cases");
        let literal = file
            .cases
            .iter()
            .filter(|c| {
                c.turns
                    .iter()
                    .any(|t| t.user.contains("{{") && t.user.contains("}}"))
            })
            .count();
        assert!(literal >= 1, "{lang}: no case with a literal {{{{ ... }}}}");
        scenarios_per_language.push((lang, scenarios));
    }
    let (first_lang, first) = &scenarios_per_language[0];
    for (lang, scenarios) in &scenarios_per_language[1..] {
        assert_eq!(
            scenarios, first,
            "scenarios of {lang} differ from {first_lang}"
        );
    }
}

/// Every refusal and adversarial case has exactly one benign twin, `<id>-twin`, tagged
/// `benign-twin` and `twin-of:<id>`, in the same stratum and expecting `resolve`; and a
/// twin is nothing else.
fn assert_every_source_has_one_twin(lang: &str, file: &File) {
    let by_id: BTreeMap<&str, &Case> = file.cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let twins: Vec<&Case> = file.cases.iter().filter(|c| c.is_twin()).collect();
    for twin in &twins {
        let source_id = twin
            .twin_of()
            .unwrap_or_else(|| panic!("{lang}/{}: no twin-of tag", twin.id));
        assert_eq!(twin.id, format!("{source_id}-twin"), "{lang}/{}", twin.id);
        let source = by_id
            .get(source_id)
            .unwrap_or_else(|| panic!("{lang}/{}: no source {source_id}", twin.id));
        assert!(!source.is_twin(), "{lang}/{}", twin.id);
        assert_eq!(twin.stratum, source.stratum, "{lang}/{}", twin.id);
        assert_eq!(twin.scenario, format!("{}-twin", source.scenario));
    }
    for case in &file.cases {
        assert_eq!(
            case.is_twin(),
            case.twin_of().is_some(),
            "{lang}/{}",
            case.id
        );
        if case.is_twin() || !["refusal", "adversarial"].contains(&case.stratum.as_str()) {
            continue;
        }
        let n = twins
            .iter()
            .filter(|t| t.twin_of() == Some(case.id.as_str()))
            .count();
        assert_eq!(n, 1, "{lang}/{}: {n} benign twins", case.id);
    }
}

/// The failing cases with their replies; every case with `DEMO_BOT_VERBOSE=1`, for reviewing wording.
fn report(outcomes: &[Outcome]) -> String {
    let verbose = std::env::var_os("DEMO_BOT_VERBOSE").is_some();
    outcomes
        .iter()
        .filter(|o| verbose || !o.failures.is_empty())
        .map(|o| format!("{}: {}\n    {}", o.key, o.failures.join(", "), o.reply))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn demo_bot_passes_with_the_v1_prompt() {
    let outcomes = run_all(&root().join("prompts/support.md.j2"));
    let passed = outcomes.iter().filter(|o| o.failures.is_empty()).count();
    eprintln!(
        "v1: {passed}/{} passed\n{}",
        outcomes.len(),
        report(&outcomes)
    );
    let missed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.missed_escalation)
        .map(|o| o.key.as_str())
        .collect();
    assert!(
        missed.is_empty(),
        "missed escalations: {missed:?}\n{}",
        report(&outcomes)
    );
    assert!(
        passed * 100 >= outcomes.len() * 95,
        "{passed}/{} passed\n{}",
        outcomes.len(),
        report(&outcomes)
    );
}

/// The over-refusal probe works both ways on the demo bot: it resolves every benign twin
/// (every check passes) and still declines or hands off the case the twin sounds like.
#[test]
fn demo_bot_resolves_every_benign_twin_and_still_declines_its_source() {
    let template = std::fs::read_to_string(root().join("prompts/support.md.j2"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut failing = Vec::new();
    let mut twins = 0;
    for lang in LANGUAGES {
        let file = load(lang);
        for twin in file.cases.iter().filter(|c| c.is_twin()) {
            twins += 1;
            let source = file
                .cases
                .iter()
                .find(|c| Some(c.id.as_str()) == twin.twin_of())
                .unwrap_or_else(|| panic!("{lang}/{}: no source", twin.id));
            for case in [twin, source] {
                let outcome = run_case(&template, &file, case);
                if !outcome.failures.is_empty() {
                    failing.push(outcome);
                }
            }
        }
    }
    assert!(failing.is_empty(), "{}", report(&failing));
    assert_eq!(twins, 20 * LANGUAGES.len());
}

#[test]
fn v2_prompt_regresses_only_non_english_languages() {
    let v1 = run_all(&root().join("prompts/support.md.j2"));
    let v2 = run_all(&root().join("prompts/support-v2.md.j2"));
    for lang in LANGUAGES {
        let of_lang = |o: &&Outcome| o.key.starts_with(&format!("{lang}/"));
        let passed = |runs: &[Outcome]| {
            runs.iter()
                .filter(of_lang)
                .filter(|o| o.failures.is_empty())
                .count()
        };
        let total = v1.iter().filter(of_lang).count();
        eprintln!(
            "{lang}: v1 {}/{total} passed, v2 {}/{total} passed",
            passed(&v1),
            passed(&v2)
        );
    }
    for (a, b) in v1.iter().zip(&v2) {
        assert_eq!(a.key, b.key);
        if a.key.starts_with("en/") {
            assert_eq!(a.failures, b.failures, "{} changed under v2", a.key);
        }
    }
    let non_english: Vec<&Outcome> = v2.iter().filter(|o| !o.key.starts_with("en/")).collect();
    let wrong_language = non_english.iter().filter(|o| !o.language_ok).count();
    assert!(
        wrong_language * 100 >= non_english.len() * 90,
        "only {wrong_language}/{} non-English replies changed language",
        non_english.len()
    );
}

/// The simulated cases run as is: the demo customer opens, the demo bot asks for the order
/// number the account lacks, the customer gives it, the bot answers from it (looking the
/// order up) and the customer thanks and stops, in every language.
#[test]
fn simulated_cases_resolve_over_turns_with_the_demo_customer() {
    let outcomes = run_all(&root().join("prompts/support.md.j2"));
    let simulated: Vec<&Outcome> = outcomes.iter().filter(|o| o.simulated.is_some()).collect();
    assert_eq!(simulated.len(), 2 * LANGUAGES.len());
    for o in simulated {
        assert!(
            o.failures.is_empty(),
            "{}: {:?}\n    {}",
            o.key,
            o.failures,
            o.reply
        );
        assert_eq!(o.simulated, Some((2, true)), "{}: {}", o.key, o.reply);
    }
}
