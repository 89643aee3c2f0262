//! Calibrating the judge: human labels matched to a run's judge verdicts, and how far the
//! judge agrees with people, per language and overall (`calibration.json`).

pub mod kappa;
pub mod labels;
pub mod trust;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::evalset::language_of_key;
use crate::result::JudgeVerdict;
use crate::rundir::{RunDir, read_lines};
use kappa::{PassFail, bootstrap_interval, categorical_agreement, categorical_kappa};
use labels::Label;

/// Resamples of labelled results behind each κ interval.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;
/// Fixed so that the same labels always give the same interval.
pub const BOOTSTRAP_SEED: u64 = 17;

#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error("{}: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },
    #[error("{}:{line}: {message}", file.display())]
    BadLabel {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Run(String),
}

/// The judge the figures are about, as the run recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeIdentity {
    pub model: Option<String>,
    pub prompt_hash: Option<String>,
}

/// Agreement figures for one language, or for all of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Matched label lines (a result labelled twice counts twice).
    pub results: u64,
    pub criteria: u64,
    pub agreement: Option<f64>,
    pub kappa: Option<f64>,
    pub kappa_ci: Option<[f64; 2]>,
    /// Criterion verdicts the judge passed and the human failed.
    pub lenient: u64,
    /// Criterion verdicts the judge failed and the human passed.
    pub harsh: u64,
    pub outcome_agreement: Option<f64>,
    pub outcome_kappa: Option<f64>,
    /// Between two labelers of the same result: the most the judge can be asked for.
    pub labeler_kappa: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kappa_note: Option<String>,
}

/// What `calibration.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub judge: JudgeIdentity,
    pub overall: Figures,
    pub by_language: BTreeMap<String, Figures>,
    /// Labels that matched no judged result (other run, other transcript, no verdict).
    pub unmatched: u64,
}

/// The part of a result a label is matched against.
#[derive(Deserialize)]
struct Judged {
    key: String,
    repeat: u32,
    #[serde(default)]
    transcript_sha256: String,
    judge: Option<JudgeVerdict>,
}

/// One label matched to the judge's verdict on the same transcript.
struct Rating<'a> {
    label: &'a Label,
    /// (judge, human) per criterion the label marks.
    criteria: PassFail,
    /// (judge, human), when the judge named an outcome.
    outcome: Option<(&'static str, &'static str)>,
}

/// Matches the labels to the run's verdicts and measures agreement.
pub fn calibrate(run: &RunDir, labels: &[Label]) -> Result<Calibration, CalibrateError> {
    let mut verdicts: HashMap<(String, u32), (String, JudgeVerdict)> = HashMap::new();
    read_lines(&run.results_path(), |r: Judged| {
        // A judge that erred gave no verdict to agree or disagree with; a result written
        // before transcripts were hashed cannot be bound to what a labeler read.
        let judge = r.judge.filter(|j| j.error.is_none());
        if let Some(judge) = judge.filter(|_| !r.transcript_sha256.is_empty()) {
            verdicts.insert((r.key, r.repeat), (r.transcript_sha256, judge));
        }
    })
    .map_err(CalibrateError::Run)?;

    let mut ratings = Vec::new();
    let mut unmatched = 0;
    for label in labels {
        match verdicts.get(&(label.key.clone(), label.repeat)) {
            Some((sha, verdict)) if *sha == label.transcript_sha256 => {
                ratings.push(rate(label, verdict)?);
            }
            _ => unmatched += 1,
        }
    }

    let mut by_language: BTreeMap<String, Vec<&Rating>> = BTreeMap::new();
    for r in &ratings {
        by_language
            .entry(language_of_key(&r.label.key).to_string())
            .or_default()
            .push(r);
    }
    let all: Vec<&Rating> = ratings.iter().collect();
    Ok(Calibration {
        judge: judge_identity(run),
        overall: figures(&all),
        by_language: by_language
            .into_iter()
            .map(|(language, rs)| (language, figures(&rs)))
            .collect(),
        unmatched,
    })
}

/// Pairs a label with the judge's verdict; a criterion the case does not have means the
/// label was made for another rubric.
fn rate<'a>(label: &'a Label, verdict: &JudgeVerdict) -> Result<Rating<'a>, CalibrateError> {
    let mut criteria = PassFail::default();
    for c in &label.criteria {
        let Some(judged) = verdict.criteria.iter().find(|j| j.n == c.n) else {
            let known: Vec<String> = verdict.criteria.iter().map(|j| j.n.to_string()).collect();
            return Err(CalibrateError::BadLabel {
                file: label.file.clone(),
                line: label.line,
                message: format!(
                    "{} repeat {} has no criterion {} (its criteria: {})",
                    label.key,
                    label.repeat,
                    c.n,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            });
        };
        criteria.add(judged.passed, c.passed);
    }
    Ok(Rating {
        label,
        criteria,
        outcome: verdict.outcome.map(|o| (o.name(), label.outcome.name())),
    })
}

fn figures(ratings: &[&Rating]) -> Figures {
    let units: Vec<PassFail> = ratings.iter().map(|r| r.criteria).collect();
    let mut pooled = PassFail::default();
    units.iter().for_each(|u| pooled.merge(u));
    let kappa = pooled.kappa();
    let outcomes: Vec<(&str, &str)> = ratings.iter().filter_map(|r| r.outcome).collect();
    Figures {
        results: ratings.len() as u64,
        criteria: pooled.total(),
        agreement: pooled.agreement(),
        kappa: kappa.ok(),
        kappa_ci: kappa
            .ok()
            .and_then(|_| bootstrap_interval(&units, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED)),
        lenient: pooled.only_first_pass,
        harsh: pooled.only_second_pass,
        outcome_agreement: categorical_agreement(&outcomes),
        outcome_kappa: categorical_kappa(&outcomes).ok(),
        labeler_kappa: labeler_agreement(ratings).kappa().ok(),
        kappa_note: kappa.err().map(|u| u.reason().to_string()),
    }
}

/// Criterion verdicts of the first two labelers of every result that two people labelled,
/// pooled; criteria only one of them marked are left out.
fn labeler_agreement(ratings: &[&Rating]) -> PassFail {
    let mut by_result: BTreeMap<(&str, u32), Vec<&Label>> = BTreeMap::new();
    for r in ratings {
        let labels = by_result
            .entry((r.label.key.as_str(), r.label.repeat))
            .or_default();
        if labels.len() < 2 && labels.iter().all(|l| l.labeler != r.label.labeler) {
            labels.push(r.label);
        }
    }
    let mut pairs = PassFail::default();
    for labels in by_result.values() {
        if let [first, second] = labels.as_slice() {
            for a in &first.criteria {
                if let Some(b) = second.criteria.iter().find(|b| b.n == a.n) {
                    pairs.add(a.passed, b.passed);
                }
            }
        }
    }
    pairs
}

/// The judge as the run recorded it.
fn judge_identity(run: &RunDir) -> JudgeIdentity {
    let meta = &run.summary.meta;
    JudgeIdentity {
        model: meta.judge_model.clone(),
        prompt_hash: meta.judge_prompt_hash().map(str::to_string),
    }
}

/// The terminal table: one row per language, then overall, then the unmatched count.
pub fn render_table(c: &Calibration) -> String {
    let number = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.2}"));
    let kappa = |f: &Figures| match (f.kappa, f.kappa_ci) {
        (Some(k), Some([lo, hi])) => format!("{k:.2} [{lo:.2}, {hi:.2}]"),
        (Some(k), None) => format!("{k:.2}"),
        (None, _) => "—".to_string(),
    };
    let mut rows = vec![[
        "language".to_string(),
        "results".to_string(),
        "criteria".to_string(),
        "agree".to_string(),
        "κ [95% CI]".to_string(),
        "lenient".to_string(),
        "harsh".to_string(),
        "outcome agree".to_string(),
        "outcome κ".to_string(),
        "labeler κ".to_string(),
    ]];
    let languages = c.by_language.iter().map(|(l, f)| (l.as_str(), f));
    for (name, f) in languages.chain(std::iter::once(("overall", &c.overall))) {
        rows.push([
            name.to_string(),
            f.results.to_string(),
            f.criteria.to_string(),
            number(f.agreement),
            kappa(f),
            f.lenient.to_string(),
            f.harsh.to_string(),
            number(f.outcome_agreement),
            number(f.outcome_kappa),
            number(f.labeler_kappa),
        ]);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
            .collect();
        out += cells.join("  ").trim_end();
        out.push('\n');
    }
    let notes = c
        .by_language
        .iter()
        .map(|(l, f)| (l.as_str(), f))
        .chain(std::iter::once(("overall", &c.overall)));
    for (name, f) in notes {
        if let Some(note) = &f.kappa_note {
            out += &format!("{name}: κ undefined: {note}\n");
        }
    }
    out += &format!(
        "unmatched labels: {} (no judged result with that key, repeat and transcript)\n",
        c.unmatched
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::CriterionVerdict;
    use labels::{LabelCriterion, LabelOutcome};

    fn label(key: &str, labeler: &str, criteria: &[(u32, bool)]) -> Label {
        Label {
            key: key.into(),
            repeat: 1,
            transcript_sha256: "h".into(),
            labeler: labeler.into(),
            criteria: criteria
                .iter()
                .map(|&(n, passed)| LabelCriterion { n, passed })
                .collect(),
            outcome: LabelOutcome::Resolved,
            file: "l.jsonl".into(),
            line: 3,
        }
    }

    fn verdict(passes: &[bool]) -> JudgeVerdict {
        JudgeVerdict {
            model: "j".into(),
            criteria: passes
                .iter()
                .enumerate()
                .map(|(i, &passed)| CriterionVerdict {
                    n: i as u32 + 1,
                    criterion: "c".into(),
                    passed,
                    reason: String::new(),
                })
                .collect(),
            outcome: Some(crate::result::ObservedOutcome::Resolved),
            unsupported_claims: vec![],
            error: None,
        }
    }

    #[test]
    fn only_judged_results_with_a_transcript_hash_are_matched() {
        use crate::evalset::{ExpectedOutcome, Stratum};
        use crate::metrics::MetricsBuilder;
        use crate::result::{CaseResult, ObservedOutcome};
        use crate::summary::RunSummary;

        let dir = crate::test_support::TempDir::new("calibrate-match");
        let result = |key: &str, sha: &str| {
            let mut r = CaseResult::fixture(
                "pl",
                Stratum::Routine,
                ExpectedOutcome::Resolve,
                ObservedOutcome::Resolved,
                true,
            );
            r.key = key.into();
            r.repeat = 1;
            r.transcript_sha256 = sha.into();
            r.judge = Some(verdict(&[true]));
            serde_json::to_string(&r).unwrap()
        };
        let lines = [result("pl/hashed", "h"), result("pl/unhashed", "")];
        std::fs::write(dir.path().join("results.jsonl"), lines.join("\n") + "\n").unwrap();
        let run = RunDir {
            dir: dir.path().to_path_buf(),
            summary: RunSummary::fixture(MetricsBuilder::default().finish()),
        };
        let mut unhashed = label("pl/unhashed", "ola", &[(1, true)]);
        unhashed.transcript_sha256 = String::new();
        let labels = [label("pl/hashed", "ola", &[(1, true)]), unhashed];
        let c = calibrate(&run, &labels).unwrap();
        assert_eq!((c.overall.results, c.unmatched), (1, 1));
        assert_eq!(c.by_language["pl"].criteria, 1);
    }

    #[test]
    fn a_criterion_the_case_does_not_have_names_the_line() {
        let l = label("pl/a", "ola", &[(2, true)]);
        let e = rate(&l, &verdict(&[true])).err().unwrap().to_string();
        assert_eq!(
            e,
            "l.jsonl:3: pl/a repeat 1 has no criterion 2 (its criteria: 1)"
        );
    }

    #[test]
    fn labelers_are_compared_on_the_criteria_both_marked() {
        let v = verdict(&[true, true]);
        let a = label("pl/a", "ola", &[(1, true), (2, false)]);
        let b = label("pl/a", "jan", &[(1, true)]);
        let same_person = label("pl/a", "ola", &[(1, false)]);
        let ratings = [
            rate(&a, &v).unwrap(),
            rate(&same_person, &v).unwrap(),
            rate(&b, &v).unwrap(),
        ];
        let refs: Vec<&Rating> = ratings.iter().collect();
        // Only criterion 1 of ola's first label and jan's: one pair, both pass.
        assert_eq!(labeler_agreement(&refs).both_pass, 1);
        assert_eq!(labeler_agreement(&refs).total(), 1);
    }
}
