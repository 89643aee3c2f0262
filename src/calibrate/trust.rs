//! Whether a run's judge may be trusted, language by language: its `calibration.json`
//! (from `evalgate calibrate`) must be about this very judge and show enough agreement
//! with people. The gate's `judge_calibration` criterion holds every judge-scored figure
//! to it; the reports show each language's κ beside those figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::calibrate::Calibration;
use crate::diagnostic::Diagnostic;
use crate::gate::{Criterion, JudgeCalibrationSpec, Scope, Threshold, Unit, Verdict};
use crate::summary::RunSummary;

/// Gate criteria whose measure a judge decides (rubric verdicts, outcomes, what counts as
/// verified, and the diff of pass/fail); the others are rule checks and keep counting.
pub const JUDGE_DEPENDENT: [&str; 5] = [
    "pass_rate",
    "deflection_rate",
    "over_refusal_rate",
    "unverified_rate",
    "significant_regressions",
];

/// A calibration file, as the config's `judge.calibration` names it.
#[derive(Debug, Clone)]
pub struct CalibrationFile {
    pub path: PathBuf,
    pub calibration: Calibration,
}

impl CalibrationFile {
    pub fn load(path: &Path) -> Result<CalibrationFile, Diagnostic> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostic::new(
                path,
                format!("cannot read the judge's calibration (judge.calibration): {e}"),
            )
        })?;
        let calibration = serde_json::from_str(&text).map_err(|e| {
            Diagnostic::new(
                path,
                format!("not a calibration.json written by `evalgate calibrate`: {e}"),
            )
            .at(e.line() as u64, e.column() as u64)
        })?;
        Ok(CalibrationFile {
            path: path.to_path_buf(),
            calibration,
        })
    }
}

/// How far one language's judge verdicts can be trusted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LanguageTrust {
    /// Labels of this judge in this language exist (κ may still be low or undefined).
    Calibrated {
        kappa: Option<f64>,
        kappa_ci: Option<[f64; 2]>,
        labels: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kappa_note: Option<String>,
    },
    /// Nothing says how this judge does in this language.
    Uncalibrated { why: String },
}

impl LanguageTrust {
    /// "κ 0.72", "κ undefined" or "uncalibrated", as the reports put it beside figures.
    pub fn label(&self) -> String {
        match self {
            LanguageTrust::Calibrated {
                kappa: Some(k),
                labels,
                ..
            } => format!("κ {k:.2} ({labels} labelled)"),
            LanguageTrust::Calibrated { labels, .. } => {
                format!("κ undefined ({labels} labelled)")
            }
            LanguageTrust::Uncalibrated { .. } => "uncalibrated".to_string(),
        }
    }
}

/// The trust in a judged run, per language it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeTrust {
    /// The calibration file read, if any.
    pub calibration: Option<String>,
    pub by_language: BTreeMap<String, LanguageTrust>,
}

impl JudgeTrust {
    /// The language's κ or "uncalibrated", for the column beside its judge-scored figures.
    pub fn label_for(&self, language: &str) -> String {
        self.by_language
            .get(language)
            .map_or_else(|| "uncalibrated".to_string(), LanguageTrust::label)
    }

    /// The line under the judge-scored figures: where κ comes from, or that it is missing.
    pub fn note(&self) -> String {
        match &self.calibration {
            Some(file) => format!(
                "Judge κ: agreement with people beyond chance, from {file}; figures of an uncalibrated language are the judge's word alone."
            ),
            None => "Judge uncalibrated: no judge.calibration in the config, so every judge-scored figure is the judge's word alone (`evalgate label`, then `evalgate calibrate`).".to_string(),
        }
    }
}

/// The trust in the run's judge; `None` when the run had no judge (no figure depends on
/// one).
pub fn assess(summary: &RunSummary, file: Option<&CalibrationFile>) -> Option<JudgeTrust> {
    let meta = &summary.meta;
    let model = meta.judge_model.as_deref()?;
    let languages = summary.metrics.by_language.keys();
    let Some(file) = file else {
        let why = "no judge.calibration in the config".to_string();
        return Some(JudgeTrust {
            calibration: None,
            by_language: languages
                .map(|l| (l.clone(), LanguageTrust::Uncalibrated { why: why.clone() }))
                .collect(),
        });
    };
    let c = &file.calibration;
    let name = file
        .path
        .strip_prefix(".")
        .unwrap_or(&file.path)
        .display()
        .to_string();
    let other_judge = other_judge(c, model, meta.judge_prompt_hash());
    let by_language = languages
        .map(|language| {
            let trust = match (&other_judge, c.by_language.get(language)) {
                (Some(why), _) => LanguageTrust::Uncalibrated {
                    why: format!("{name} {why}"),
                },
                (None, None) => LanguageTrust::Uncalibrated {
                    why: format!("{name} has no labels in {language}"),
                },
                (None, Some(f)) => LanguageTrust::Calibrated {
                    kappa: f.kappa,
                    kappa_ci: f.kappa_ci,
                    labels: f.results,
                    kappa_note: f.kappa_note.clone(),
                },
            };
            (language.clone(), trust)
        })
        .collect();
    Some(JudgeTrust {
        calibration: Some(name),
        by_language,
    })
}

/// Why a calibration is not about this judge, if it is not: another model, or another
/// prompt (the run's hash must start with the calibration's, which older runs recorded
/// cut short).
fn other_judge(c: &Calibration, model: &str, run_hash: Option<&str>) -> Option<String> {
    let theirs = c.judge.model.as_deref().unwrap_or("an unnamed judge");
    if theirs != model {
        return Some(format!(
            "was made for judge {theirs}, not this run's {model}"
        ));
    }
    match (c.judge.prompt_hash.as_deref(), run_hash) {
        (Some(cal), Some(run)) if run.starts_with(cal) || cal.starts_with(run) => None,
        (cal, _) => Some(format!(
            "was made for another prompt of {model} ({}), not this run's",
            cal.unwrap_or("no prompt hash")
        )),
    }
}

/// Adds the gate's `judge_calibration` criterion, one per language, and fails every
/// judge-dependent criterion whose scope holds a language the judge is not trusted in.
pub fn hold(verdict: &mut Verdict, spec: &JudgeCalibrationSpec, trust: &JudgeTrust) {
    let threshold = Threshold::at_least(spec.min_kappa, Unit::Kappa);
    let mut untrusted: Vec<&str> = Vec::new();
    for (language, t) in &trust.by_language {
        let (measured, passed, detail) = judge_calibration(t, spec);
        if !passed {
            untrusted.push(language);
        }
        verdict.criteria.push(Criterion {
            name: "judge_calibration".into(),
            scope: Scope::Language {
                language: language.clone(),
            },
            threshold,
            measured,
            unmeasured: None,
            passed,
            detail: Some(detail),
        });
    }
    if !untrusted.is_empty() {
        for c in verdict
            .criteria
            .iter_mut()
            // Nothing measured (no baseline to diff with) is nothing the judge decided.
            .filter(|c| JUDGE_DEPENDENT.contains(&c.name.as_str()) && c.measured.is_some())
        {
            let affected: Vec<&str> = untrusted
                .iter()
                .copied()
                .filter(|l| scope_holds(&c.scope, l))
                .collect();
            if affected.is_empty() {
                continue;
            }
            c.passed = false;
            c.detail = Some(format!(
                "judge-scored, and the judge is not calibrated for {}",
                affected.join(", ")
            ));
        }
    }
    verdict.passed = verdict.passed && verdict.criteria.iter().all(|c| c.passed);
}

fn scope_holds(scope: &Scope, language: &str) -> bool {
    match scope {
        Scope::Language { language: l } | Scope::Cell { language: l, .. } => l == language,
        Scope::Overall | Scope::Stratum { .. } | Scope::VsBaseline => true,
    }
}

/// One language's criterion: κ measured, whether it passes, and the words that say why
/// (the criterion's scope names the language).
fn judge_calibration(
    trust: &LanguageTrust,
    spec: &JudgeCalibrationSpec,
) -> (Option<f64>, bool, String) {
    let needs = format!(
        "needs κ ≥ {:.2} on at least {} labelled results",
        spec.min_kappa, spec.min_labels
    );
    match trust {
        LanguageTrust::Uncalibrated { why } => {
            (None, false, format!("uncalibrated: {why}; {needs}"))
        }
        LanguageTrust::Calibrated {
            kappa,
            labels,
            kappa_note,
            ..
        } => {
            let kappa_text = match (kappa, kappa_note) {
                (Some(k), _) => format!("κ {k:.2}"),
                (None, Some(note)) => format!("κ undefined ({note})"),
                (None, None) => "κ undefined".to_string(),
            };
            let enough = *labels >= spec.min_labels;
            let agrees =
                kappa.is_some_and(|k| Threshold::at_least(spec.min_kappa, Unit::Kappa).admits(k));
            let passed = enough && agrees;
            let verdict = if passed { "meets" } else { "falls short:" };
            let detail = if passed {
                format!(
                    "{kappa_text} on {labels} labelled results {verdict} κ ≥ {:.2} on at least {}",
                    spec.min_kappa, spec.min_labels
                )
            } else {
                format!("{kappa_text} on {labels} labelled results {verdict} {needs}")
            };
            (*kappa, passed, detail)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::{Figures, JudgeIdentity};
    use crate::gate::{Bound, Gate};

    fn figures(results: u64, kappa: Option<f64>) -> Figures {
        Figures {
            results,
            criteria: results * 2,
            agreement: Some(0.9),
            kappa,
            kappa_ci: kappa.map(|k| [k - 0.1, k + 0.1]),
            lenient: 1,
            harsh: 0,
            outcome_agreement: None,
            outcome_kappa: None,
            labeler_kappa: None,
            kappa_note: kappa
                .is_none()
                .then(|| "every verdict was a pass".to_string()),
        }
    }

    fn file(model: &str, hash: &str, by_language: &[(&str, Figures)]) -> CalibrationFile {
        CalibrationFile {
            path: "calibration.json".into(),
            calibration: Calibration {
                judge: JudgeIdentity {
                    model: Some(model.into()),
                    prompt_hash: Some(hash.into()),
                },
                overall: figures(0, None),
                by_language: by_language
                    .iter()
                    .map(|(l, f)| (l.to_string(), f.clone()))
                    .collect(),
                unmatched: 0,
            },
        }
    }

    /// A judged run in en, pl and de that passes a pass-rate and a language-match gate.
    fn judged_run() -> (RunSummary, Gate) {
        use crate::evalset::{ExpectedOutcome, Stratum};
        use crate::result::{CaseResult, ObservedOutcome};
        let mut metrics = crate::metrics::MetricsBuilder::default();
        for language in ["en", "pl", "de"] {
            metrics.add(&CaseResult::fixture(
                language,
                Stratum::Edge,
                ExpectedOutcome::Resolve,
                ObservedOutcome::Resolved,
                true,
            ));
        }
        let mut summary = RunSummary::fixture(metrics.finish());
        summary.meta.judge_model = Some("judge-x".into());
        summary.meta.judge_prompt_hash = Some("sha256:abcdef0123456789".into());
        let yaml = "pass_rate: { edge: 0.9 }\nper_language: true\nmin_language_match_rate: 0.9\njudge_calibration: { min_kappa: 0.6, min_labels: 30 }\n";
        let gate = Gate {
            path: "gate.yaml".into(),
            hash: "sha256:x".into(),
            spec: crate::yaml::parse(Path::new("gate.yaml"), yaml).unwrap(),
        };
        (summary, gate)
    }

    fn held(summary: &RunSummary, gate: &Gate, file: Option<&CalibrationFile>) -> Verdict {
        let mut v = crate::gate::evaluate(gate, summary, None);
        assert!(v.passed, "the rule figures pass before the judge is held");
        let trust = assess(summary, file).expect("a judged run");
        hold(
            &mut v,
            gate.spec.judge_calibration.as_ref().unwrap(),
            &trust,
        );
        v
    }

    fn lines(v: &Verdict, name: &str) -> Vec<(String, bool)> {
        v.criteria
            .iter()
            .filter(|c| c.name == name)
            .map(|c| (c.scope.to_string(), c.passed))
            .collect()
    }

    #[test]
    fn a_calibrated_judge_keeps_the_verdict() {
        let (summary, gate) = judged_run();
        let f = file(
            "judge-x",
            "sha256:abcdef0123456789",
            &[
                ("en", figures(30, Some(0.8))),
                ("pl", figures(40, Some(0.6))),
                ("de", figures(31, Some(0.9))),
            ],
        );
        let v = held(&summary, &gate, Some(&f));
        assert!(v.passed, "{:#?}", v.criteria);
        let c = v
            .criteria
            .iter()
            .find(|c| c.name == "judge_calibration")
            .unwrap();
        assert_eq!(c.threshold.bound, Bound::AtLeast);
        assert_eq!(
            c.detail.as_deref(),
            Some("κ 0.90 on 31 labelled results meets κ ≥ 0.60 on at least 30")
        );
    }

    #[test]
    fn a_language_short_of_labels_or_agreement_fails_its_judge_scored_criteria() {
        let (summary, gate) = judged_run();
        let f = file(
            "judge-x",
            "sha256:abcdef012345",
            &[
                ("en", figures(30, Some(0.8))),
                ("pl", figures(29, Some(0.9))),
                ("de", figures(50, Some(0.59))),
            ],
        );
        let v = held(&summary, &gate, Some(&f));
        assert!(!v.passed);
        assert_eq!(
            lines(&v, "judge_calibration"),
            [
                ("de".into(), false),
                ("en".into(), true),
                ("pl".into(), false)
            ]
        );
        let details: Vec<&str> = v
            .criteria
            .iter()
            .filter_map(|c| c.detail.as_deref())
            .collect();
        assert!(details.contains(&"κ 0.90 on 29 labelled results falls short: needs κ ≥ 0.60 on at least 30 labelled results"), "{details:#?}");
        assert!(details.contains(&"κ 0.59 on 50 labelled results falls short: needs κ ≥ 0.60 on at least 30 labelled results"), "{details:#?}");
        // Judge-scored: the overall and stratum figures hold pl and de, en's own do not.
        let pass_rate = lines(&v, "pass_rate");
        assert!(pass_rate.contains(&("edge".into(), false)), "{pass_rate:?}");
        assert!(
            pass_rate.contains(&("en/edge".into(), true)),
            "{pass_rate:?}"
        );
        assert!(
            pass_rate.contains(&("pl/edge".into(), false)),
            "{pass_rate:?}"
        );
        // A rule check still counts as measured.
        assert!(
            lines(&v, "language_match_rate")
                .iter()
                .all(|(_, passed)| *passed)
        );
        let overall = v
            .criteria
            .iter()
            .find(|c| c.name == "pass_rate" && c.scope.to_string() == "edge")
            .unwrap();
        assert_eq!(
            overall.detail.as_deref(),
            Some("judge-scored, and the judge is not calibrated for de, pl")
        );
    }

    #[test]
    fn no_calibration_another_judge_or_a_missing_language_is_uncalibrated() {
        let (summary, gate) = judged_run();
        let v = held(&summary, &gate, None);
        assert!(!v.passed);
        assert!(
            v.criteria.iter().any(|c| c.detail.as_deref()
                == Some("uncalibrated: no judge.calibration in the config; needs κ ≥ 0.60 on at least 30 labelled results")),
            "{:#?}",
            v.criteria
        );
        let everything = [
            ("en", figures(30, Some(0.8))),
            ("pl", figures(30, Some(0.8))),
            ("de", figures(30, Some(0.8))),
        ];
        let other_model = file("judge-y", "sha256:abcdef0123456789", &everything);
        let t = assess(&summary, Some(&other_model)).unwrap();
        assert_eq!(
            t.by_language["en"],
            LanguageTrust::Uncalibrated {
                why: "calibration.json was made for judge judge-y, not this run's judge-x".into()
            }
        );
        let other_prompt = file("judge-x", "sha256:ffff", &everything);
        let t = assess(&summary, Some(&other_prompt)).unwrap();
        assert!(
            matches!(&t.by_language["de"], LanguageTrust::Uncalibrated { why } if why.contains("another prompt"))
        );
        let no_pl = file("judge-x", "sha256:abcdef0123456789", &everything[..1]);
        let t = assess(&summary, Some(&no_pl)).unwrap();
        assert_eq!(
            t.by_language["pl"],
            LanguageTrust::Uncalibrated {
                why: "calibration.json has no labels in pl".into()
            }
        );
        assert_eq!(t.by_language["en"].label(), "κ 0.80 (30 labelled)");
        assert_eq!(t.by_language["pl"].label(), "uncalibrated");
    }

    #[test]
    fn an_undefined_kappa_fails_and_a_run_without_a_judge_has_nothing_to_trust() {
        let (mut summary, gate) = judged_run();
        let f = file(
            "judge-x",
            "sha256:abcdef0123456789",
            &[
                ("en", figures(30, None)),
                ("pl", figures(30, Some(0.7))),
                ("de", figures(30, Some(0.7))),
            ],
        );
        let v = held(&summary, &gate, Some(&f));
        assert_eq!(lines(&v, "judge_calibration")[1], ("en".into(), false));
        summary.meta.judge_model = None;
        assert_eq!(assess(&summary, Some(&f)), None);
    }

    #[test]
    fn a_calibration_file_reads_back_what_calibrate_writes() {
        let dir = crate::test_support::TempDir::new("trust");
        let f = file("judge-x", "sha256:ab", &[("pl", figures(3, None))]);
        let path = dir.join("calibration.json");
        std::fs::write(&path, serde_json::to_string_pretty(&f.calibration).unwrap()).unwrap();
        assert_eq!(
            CalibrationFile::load(&path).unwrap().calibration,
            f.calibration
        );
        std::fs::write(&path, "{\n  \"judge\": 3\n}").unwrap();
        let err = CalibrationFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("calibration.json:2:"), "{err}");
        assert!(
            err.contains("not a calibration.json written by `evalgate calibrate`"),
            "{err}"
        );
    }
}
