//! `label.html`: the page where a person labels a sample of a run's results for
//! calibrating the judge. It carries the transcript, the case's context, reference and
//! rubric, and nothing of the judge's verdicts, so that labels are not anchored on them.
//! Like report.html it is one self-contained file, rendered by minijinja with HTML
//! auto-escaping, under a Content-Security-Policy that admits only its own script.

pub mod sample;

use std::collections::HashMap;
use std::sync::Arc;

use minijinja::{AutoEscape, Environment, context};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::evalset::Case;
use crate::result::{CaseResult, Role};

const TEMPLATE: &str = include_str!("label.html.j2");
const SCRIPT: &str = include_str!("label.js");

/// Results per language unless `--per-language` says otherwise.
pub const DEFAULT_PER_LANGUAGE: usize = 30;

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("label page template: {0}")]
    Template(String),
}

/// One result on the page: what a labeler reads and the keys a label is matched by.
#[derive(Serialize)]
struct Item {
    key: String,
    repeat: u32,
    language: String,
    stratum: &'static str,
    transcript_sha256: String,
    turns: Vec<TurnView>,
    context: Vec<(String, String)>,
    reference: Option<String>,
    rubric: Vec<String>,
}

#[derive(Serialize)]
struct TurnView {
    role: &'static str,
    content: String,
    tool_calls: Vec<String>,
    handoff: bool,
}

/// The page, built from the sampled results and the cases they ran (a result whose case
/// is not among `cases` has no rubric to label, and is left out).
pub fn render(
    run_id: &str,
    sampled: &[CaseResult],
    cases: &HashMap<String, Arc<Case>>,
) -> Result<String, LabelError> {
    let items: Vec<Item> = sampled
        .iter()
        .filter_map(|r| cases.get(&r.key).map(|case| item(r, case)))
        .collect();
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("label.html", TEMPLATE)
        .map_err(|e| LabelError::Template(e.to_string()))?;
    let script_hash = format!(
        "sha256-{}",
        crate::report::html::base64(&Sha256::digest(SCRIPT.as_bytes()))
    );
    env.get_template("label.html")
        .and_then(|t| {
            t.render(context! {
                run_id => run_id,
                items => minijinja::Value::from(minijinja::value::Serde(&items)),
                script => minijinja::Value::from_safe_string(SCRIPT.to_string()),
                script_hash => script_hash,
            })
        })
        .map_err(|e| LabelError::Template(e.to_string()))
}

fn item(r: &CaseResult, case: &Case) -> Item {
    Item {
        key: r.key.clone(),
        repeat: r.repeat,
        language: r.language.clone(),
        stratum: r.stratum.name(),
        transcript_sha256: r.transcript_sha256.clone(),
        turns: r
            .turns
            .iter()
            .map(|t| TurnView {
                role: match t.role {
                    Role::User => "customer",
                    Role::Assistant => "bot",
                },
                content: t.content.clone(),
                tool_calls: t
                    .tool_calls
                    .iter()
                    .map(|c| format!("{}({})", c.name, c.arguments))
                    .collect(),
                handoff: t.handoff,
            })
            .collect(),
        context: case
            .context
            .iter()
            .map(|(k, v)| {
                let shown = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), shown)
            })
            .collect(),
        reference: case.expect.reference.clone(),
        rubric: case.expect.rubric.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::evalset::{ExpectedOutcome, Stratum};
    use crate::result::{CriterionVerdict, JudgeVerdict, ObservedOutcome};

    fn case() -> Arc<Case> {
        let yaml = "language: en\ncases:\n  - id: a\n    stratum: routine\n    context: { order: \"ORD-1\" }\n    turns:\n      - user: hi\n    expect:\n      outcome: resolve\n      reference: \"Ships Friday\"\n      rubric: [\"Names the day\", \"Is polite\"]\n";
        Arc::new(
            crate::evalset::load_file(Path::new("en.yaml"), yaml)
                .unwrap()
                .remove(0),
        )
    }

    fn judged_result() -> CaseResult {
        let mut r = CaseResult::fixture(
            "en",
            Stratum::Routine,
            ExpectedOutcome::Resolve,
            ObservedOutcome::Deflected,
            false,
        );
        r.key = "en/a".into();
        r.transcript_sha256 = "f00d".into();
        r.turns[0].content = "<img src=x onerror=alert(1)> Friday".into();
        r.judge = Some(JudgeVerdict {
            model: "judge".into(),
            criteria: vec![CriterionVerdict {
                n: 1,
                criterion: "Names the day".into(),
                passed: false,
                reason: "JUDGE-REASON-never-shown".into(),
            }],
            outcome: Some(ObservedOutcome::Deflected),
            unsupported_claims: vec!["JUDGE-CLAIM-never-shown".into()],
            error: None,
        });
        r
    }

    fn page() -> String {
        let cases = HashMap::from([("en/a".to_string(), case())]);
        render("run-1", &[judged_result()], &cases).unwrap()
    }

    #[test]
    fn shows_the_case_and_nothing_of_the_judge() {
        let html = page();
        for shown in [
            "ORD-1",
            "Ships Friday",
            "Names the day",
            "Is polite",
            "f00d",
        ] {
            assert!(html.contains(shown), "{shown} is missing");
        }
        assert!(!html.contains("JUDGE-REASON") && !html.contains("JUDGE-CLAIM"));
        assert!(
            !html.contains("Deflected") && !html.contains("\"deflected\" aria-pressed=\"true\"")
        );
        assert_eq!(
            html.matches("data-passed=\"true\"").count(),
            2,
            "a pass button per criterion"
        );
    }

    #[test]
    fn bot_text_is_escaped_and_only_the_own_script_may_run() {
        let html = page();
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!html.contains("<img"));
        assert_eq!(html.matches("<script>").count(), 1);
        let hash = crate::report::html::base64(&Sha256::digest(SCRIPT.as_bytes()));
        assert!(html.contains(&format!("script-src 'sha256-{hash}'")));
    }

    #[test]
    fn a_result_whose_case_is_gone_is_left_out() {
        let html = render("run-1", &[judged_result()], &HashMap::new()).unwrap();
        assert!(!html.contains("data-key="));
    }
}
