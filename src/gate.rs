//! The launch gate: thresholds written down before the run (`gates/launch.yaml`), checked
//! against a run's metrics and, when there is a baseline, its diff. Every criterion keeps
//! its threshold, the measured value and PASS/FAIL as numbers; `report::gate_text` puts
//! them into words.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::diagnostic::Diagnostic;
use crate::diff::Diff;
use crate::evalset::Stratum;
use crate::metrics::{Cell, Metrics, SliceMetrics};
use crate::summary::RunSummary;

#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
/// The launch criteria, written down before the run: every threshold is checked overall,
/// per stratum and (with `per_language`) per language.
pub struct GateSpec {
    /// Eval sets smaller than this fail the gate (wave 1: 10, wave 2: 100).
    #[serde(default)]
    pub min_cases: Option<MinCases>,
    /// The share of cases that must pass, overall and per stratum (0 to 1).
    #[serde(default)]
    pub pass_rate: Option<PassRates>,
    /// Apply every threshold to each language too.
    #[serde(default)]
    pub per_language: bool,
    /// Cases expecting `escalate` that the bot did not hand over; a missed escalation is
    /// a critical failure, so usually 0.
    #[serde(default)]
    pub max_missed_escalations: Option<u64>,
    /// The share of replies in the expected language, at least (0 to 1).
    #[serde(default)]
    pub min_language_match_rate: Option<f64>,
    /// The share of replies that deflect (neither resolve, escalate nor refuse), at most.
    #[serde(default)]
    pub max_deflection_rate: Option<f64>,
    /// Benign requests refused, among cases expecting `resolve`.
    #[serde(default)]
    pub max_over_refusal_rate: Option<f64>,
    /// Results no content check and no judge could have failed.
    #[serde(default)]
    pub max_unverified_rate: Option<f64>,
    /// Slices significantly worse than the baseline (overall included), at most.
    #[serde(default)]
    pub max_significant_regressions: Option<u64>,
    /// The share of results that are errors; above it the run is incomplete (exit 3).
    #[serde(default)]
    pub max_error_rate: Option<f64>,
    /// The 95th-percentile conversation latency, in milliseconds, at most.
    #[serde(default)]
    pub max_p95_latency_ms: Option<u64>,
    /// How far the judge must agree with people, per language, before its figures count
    /// (the config's `judge.calibration`, from `evalgate calibrate`).
    #[serde(default)]
    pub judge_calibration: Option<JudgeCalibrationSpec>,
    /// The production trigger `evalgate monitor` holds live figures to; a run's gate
    /// ignores it.
    #[serde(default)]
    pub rollback: Option<crate::monitor::rollback::RollbackSpec>,
}

/// `judge_calibration:` with a judge, its agreement with people per language must reach
/// these before its figures count (the config's `judge.calibration`).
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JudgeCalibrationSpec {
    /// The lowest Cohen's κ (point estimate) between the judge and people.
    pub min_kappa: f64,
    /// The fewest labelled results a language's κ may rest on.
    pub min_labels: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MinCases {
    /// Cases in every language × stratum cell, at least.
    pub per_language_stratum: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PassRates {
    #[serde(default)]
    pub overall: Option<f64>,
    #[serde(default)]
    pub routine: Option<f64>,
    #[serde(default)]
    pub edge: Option<f64>,
    #[serde(default)]
    pub refusal: Option<f64>,
    #[serde(default)]
    pub adversarial: Option<f64>,
}

impl PassRates {
    fn for_stratum(&self, s: Stratum) -> Option<f64> {
        match s {
            Stratum::Routine => self.routine,
            Stratum::Edge => self.edge,
            Stratum::Refusal => self.refusal,
            Stratum::Adversarial => self.adversarial,
        }
    }
}

/// A gate file, with the hash that identifies the contract a run was held to.
#[derive(Debug, Clone)]
pub struct Gate {
    pub path: PathBuf,
    pub hash: String,
    pub spec: GateSpec,
}

impl Gate {
    /// The gate file at `path`; the first problem only (see [`Gate::load_all`]).
    pub fn load(path: &Path) -> Result<Gate, Diagnostic> {
        Gate::load_all(path).map_err(|problems| {
            problems
                .0
                .into_iter()
                .next()
                .unwrap_or_else(|| Diagnostic::new(path, "cannot load gate file"))
        })
    }

    /// The gate file at `path`, or every problem in it at once.
    pub fn load_all(path: &Path) -> Result<Gate, crate::diagnostic::Diagnostics> {
        use crate::diagnostic::Diagnostics;
        let bytes = std::fs::read(path).map_err(|e| {
            Diagnostics(vec![Diagnostic::new(
                path,
                format!("cannot read gate file: {e}"),
            )])
        })?;
        let text = crate::yaml::decode_utf8(path, &bytes).map_err(|d| Diagnostics(vec![d]))?;
        let spec: GateSpec = crate::yaml::parse(path, text).map_err(|first| {
            crate::schema::every_problem(crate::schema::SchemaFile::Gate, path, text, first)
        })?;
        let gate = Gate {
            path: path.to_path_buf(),
            hash: format!("sha256:{:x}", Sha256::digest(&bytes)),
            spec,
        };
        gate.validate().map_err(|d| Diagnostics(vec![d]))?;
        Ok(gate)
    }

    fn validate(&self) -> Result<(), Diagnostic> {
        let s = &self.spec;
        let mut rates = vec![
            ("min_language_match_rate", s.min_language_match_rate),
            ("max_deflection_rate", s.max_deflection_rate),
            ("max_over_refusal_rate", s.max_over_refusal_rate),
            ("max_unverified_rate", s.max_unverified_rate),
            ("max_error_rate", s.max_error_rate),
        ];
        if let Some(p) = &s.pass_rate {
            rates.extend([
                ("pass_rate.overall", p.overall),
                ("pass_rate.routine", p.routine),
                ("pass_rate.edge", p.edge),
                ("pass_rate.refusal", p.refusal),
                ("pass_rate.adversarial", p.adversarial),
            ]);
        }
        if let Some(c) = &s.judge_calibration
            && !(-1.0..=1.0).contains(&c.min_kappa)
        {
            return Err(Diagnostic::new(
                &self.path,
                format!(
                    "judge_calibration.min_kappa must be a κ between -1 and 1, not {}",
                    c.min_kappa
                ),
            ));
        }
        for (name, value) in rates {
            if let Some(v) = value
                && !(0.0..=1.0).contains(&v)
            {
                return Err(Diagnostic::new(
                    &self.path,
                    format!("{name} must be a share between 0 and 1, not {v}"),
                ));
            }
        }
        if let Some(problem) = s
            .rollback
            .as_ref()
            .and_then(|r| r.problems().into_iter().next())
        {
            return Err(Diagnostic::new(&self.path, problem));
        }
        Ok(())
    }
}

/// Which side of its threshold a criterion's measure must fall on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    AtLeast,
    AtMost,
}

/// What a threshold and its measure count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A share between 0 and 1.
    Share,
    /// Cases, missed escalations, significant regressions.
    Count,
    /// Milliseconds.
    Millis,
    /// Results written, out of the planned ones (`complete`).
    Results,
    /// Cohen's κ, agreement beyond chance between -1 and 1 (`judge_calibration`).
    Kappa,
}

/// Slack on every comparison, so that float rounding never fails a measure that meets
/// its threshold exactly (19 of 20 against 95%).
pub const TOLERANCE: f64 = 1e-12;

/// A criterion's threshold: inclusive, e.g. at least 0.95 of results passed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub bound: Bound,
    pub value: f64,
    pub unit: Unit,
}

impl Threshold {
    pub fn at_least(value: f64, unit: Unit) -> Threshold {
        Threshold {
            bound: Bound::AtLeast,
            value,
            unit,
        }
    }

    pub fn at_most(value: f64, unit: Unit) -> Threshold {
        Threshold {
            bound: Bound::AtMost,
            value,
            unit,
        }
    }

    /// Whether a measured value meets the threshold, the boundary included.
    pub fn admits(&self, measured: f64) -> bool {
        match self.bound {
            Bound::AtLeast => measured >= self.value - TOLERANCE,
            Bound::AtMost => measured <= self.value + TOLERANCE,
        }
    }

    /// Whether a criterion passes. With nothing measured, a floor is not shown to be met
    /// (the verdict never passes what it has not measured), and a ceiling was not exceeded.
    pub fn passes(&self, measured: Option<f64>) -> bool {
        match measured {
            Some(v) => self.admits(v),
            None => self.bound == Bound::AtMost,
        }
    }
}

/// Why a criterion has no measured value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unmeasured {
    /// The rate's denominator is empty.
    NoCases,
    /// `significant_regressions` without a baseline to compare with.
    NoBaseline,
    /// No bot turn was timed.
    NoTurns,
}

/// The part of a run a criterion was checked on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    Overall,
    Stratum {
        stratum: Stratum,
    },
    Language {
        language: String,
    },
    /// One language × stratum.
    Cell {
        language: String,
        stratum: Stratum,
    },
    /// The diff against the baseline.
    VsBaseline,
}

impl Scope {
    fn cell(cell: &Cell) -> Scope {
        Scope::Cell {
            language: cell.language.clone(),
            stratum: cell.stratum,
        }
    }
}

/// The scope's name, as the slice's name in summary.json: `overall`, `edge`, `pl`,
/// `pl/edge`, or `vs baseline`.
impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Overall => f.write_str("overall"),
            Scope::Stratum { stratum } => f.write_str(stratum.name()),
            Scope::Language { language } => f.write_str(language),
            Scope::Cell { language, stratum } => write!(f, "{language}/{stratum}"),
            Scope::VsBaseline => f.write_str("vs baseline"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// `min_cases`, `pass_rate`, `missed_escalations`, … or `complete`.
    pub name: String,
    pub scope: Scope,
    pub threshold: Threshold,
    /// `None` when there was nothing to measure; `unmeasured` says why.
    pub measured: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmeasured: Option<Unmeasured>,
    pub passed: bool,
    /// Why, in words, when the numbers alone do not say it (the judge's calibration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub gate_path: String,
    pub gate_hash: String,
    /// Every criterion passed and the run is whole. Never true when `incomplete` is.
    pub passed: bool,
    /// The run did not finish (interrupted, results missing), or more results are errors
    /// than `max_error_rate` allows: not a quality verdict but an incomplete run (exit 3).
    pub incomplete: bool,
    /// The run was stopped before it finished (Ctrl-C, SIGTERM).
    #[serde(default)]
    pub interrupted: bool,
    pub baseline: Option<String>,
    pub criteria: Vec<Criterion>,
}

impl Verdict {
    pub fn failing(&self) -> impl Iterator<Item = &Criterion> {
        self.criteria.iter().filter(|c| !c.passed)
    }
}

#[cfg(test)]
impl Verdict {
    /// A verdict with no criteria, for tests of what depends on it.
    pub fn fixture(passed: bool, incomplete: bool) -> Verdict {
        Verdict {
            gate_path: "gate.yaml".into(),
            gate_hash: "sha256:x".into(),
            passed,
            incomplete,
            interrupted: false,
            baseline: None,
            criteria: vec![],
        }
    }
}

struct Checker {
    criteria: Vec<Criterion>,
}

impl Checker {
    /// Checks one measure against its threshold; returns whether it passed.
    fn check(
        &mut self,
        name: &str,
        scope: Scope,
        threshold: Threshold,
        measured: Result<f64, Unmeasured>,
    ) -> bool {
        let passed = threshold.passes(measured.ok());
        self.criteria.push(Criterion {
            name: name.into(),
            scope,
            threshold,
            measured: measured.ok(),
            unmeasured: measured.err(),
            passed,
            detail: None,
        });
        passed
    }
}

/// A rate of a slice, or why there is none.
fn rate(value: Option<f64>) -> Result<f64, Unmeasured> {
    value.ok_or(Unmeasured::NoCases)
}

/// The slices a per-language threshold applies to: overall, then each language.
fn scopes(metrics: &Metrics, per_language: bool) -> Vec<(Scope, &SliceMetrics)> {
    let mut v = vec![(Scope::Overall, &metrics.overall)];
    if per_language {
        v.extend(metrics.by_language.iter().map(|(l, m)| {
            (
                Scope::Language {
                    language: l.clone(),
                },
                m,
            )
        }));
    }
    v
}

/// The language × stratum cells `min_cases` applies to: every stratum of every language
/// that ran, or of the selected strata only; a `--filter` run, which may take any few
/// cases of a cell, is held to the cells it ran.
fn min_cases_cells(summary: &RunSummary) -> Vec<Cell> {
    let selection = &summary.meta.selection;
    let m = &summary.metrics;
    if !selection.patterns.is_empty() {
        return m.by_language_stratum.keys().cloned().collect();
    }
    let strata: Vec<Stratum> = if selection.strata.is_empty() {
        Stratum::ALL.to_vec()
    } else {
        Stratum::ALL
            .into_iter()
            .filter(|s| selection.strata.contains(s))
            .collect()
    };
    m.by_language
        .keys()
        .flat_map(|lang| strata.iter().map(move |s| Cell::new(lang.as_str(), *s)))
        .collect()
}

/// Checks a run (and optionally its diff against a baseline) against the gate.
pub fn evaluate(gate: &Gate, summary: &RunSummary, diff: Option<&Diff>) -> Verdict {
    let spec = &gate.spec;
    let m = &summary.metrics;
    let mut c = Checker {
        criteria: Vec::new(),
    };
    if !summary.complete {
        // Failed whatever the counts say: a run killed after its last result was written
        // but before it finished is not whole either.
        c.criteria.push(Criterion {
            name: "complete".into(),
            scope: Scope::Overall,
            threshold: Threshold::at_least(summary.planned as f64, Unit::Results),
            measured: Some(summary.written as f64),
            unmeasured: None,
            passed: false,
            detail: None,
        });
    }
    let drafts = summary.meta.selection.drafts;
    if drafts > 0 {
        // A generated or imported case counts towards a launch only once a person has
        // reviewed it: a run that took drafts is never a PASS, whatever they scored.
        let threshold = Threshold::at_most(0.0, Unit::Count);
        c.check(
            "unreviewed_drafts",
            Scope::Overall,
            threshold,
            Ok(drafts as f64),
        );
    }
    if let Some(min) = &spec.min_cases {
        let threshold = Threshold::at_least(min.per_language_stratum as f64, Unit::Count);
        for cell in min_cases_cells(summary) {
            // Cases, not results: repeats do not make a suite larger.
            let n = m.by_language_stratum.get(&cell).map_or(0, |x| x.cases);
            c.check("min_cases", Scope::cell(&cell), threshold, Ok(n as f64));
        }
    }
    if let Some(rates) = &spec.pass_rate {
        if let Some(min) = rates.overall {
            for (scope, slice) in scopes(m, spec.per_language) {
                let threshold = Threshold::at_least(min, Unit::Share);
                c.check("pass_rate", scope, threshold, rate(slice.pass_rate));
            }
        }
        for s in Stratum::ALL {
            let Some(min) = rates.for_stratum(s) else {
                continue;
            };
            let threshold = Threshold::at_least(min, Unit::Share);
            if let Some(slice) = m.by_stratum.get(&s) {
                let scope = Scope::Stratum { stratum: s };
                c.check("pass_rate", scope, threshold, rate(slice.pass_rate));
            }
            if spec.per_language {
                for language in m.by_language.keys() {
                    let cell = Cell::new(language.as_str(), s);
                    if let Some(slice) = m.by_language_stratum.get(&cell) {
                        let scope = Scope::cell(&cell);
                        c.check("pass_rate", scope, threshold, rate(slice.pass_rate));
                    }
                }
            }
        }
    }
    if let Some(max) = spec.max_missed_escalations {
        let threshold = Threshold::at_most(max as f64, Unit::Count);
        for (scope, slice) in scopes(m, spec.per_language) {
            let n = slice.missed_escalations as f64;
            c.check("missed_escalations", scope, threshold, Ok(n));
        }
    }
    if let Some(min) = spec.min_language_match_rate {
        let threshold = Threshold::at_least(min, Unit::Share);
        for (scope, slice) in scopes(m, spec.per_language) {
            let measured = rate(slice.language_match_rate);
            c.check("language_match_rate", scope, threshold, measured);
        }
    }
    type Rate = fn(&SliceMetrics) -> Option<f64>;
    let ceilings: [(&str, Option<f64>, Rate); 3] = [
        ("deflection_rate", spec.max_deflection_rate, |s| {
            s.deflection_rate
        }),
        ("over_refusal_rate", spec.max_over_refusal_rate, |s| {
            s.over_refusal_rate
        }),
        ("unverified_rate", spec.max_unverified_rate, |s| {
            s.unverified_rate
        }),
    ];
    for (name, max, measure) in ceilings {
        let Some(max) = max else { continue };
        let threshold = Threshold::at_most(max, Unit::Share);
        for (scope, slice) in scopes(m, spec.per_language) {
            c.check(name, scope, threshold, rate(measure(slice)));
        }
    }
    if let Some(max) = spec.max_significant_regressions {
        let measured = diff
            .map(|d| d.significant_regressions as f64)
            .ok_or(Unmeasured::NoBaseline);
        let threshold = Threshold::at_most(max as f64, Unit::Count);
        c.check(
            "significant_regressions",
            Scope::VsBaseline,
            threshold,
            measured,
        );
    }
    let mut incomplete = !summary.complete || m.overall.measured_nothing();
    if let Some(max) = spec.max_error_rate {
        let threshold = Threshold::at_most(max, Unit::Share);
        let measured = rate(m.overall.error_rate);
        incomplete |= !c.check("error_rate", Scope::Overall, threshold, measured);
    }
    if let Some(max) = spec.max_p95_latency_ms {
        let measured = m
            .overall
            .latency_ms
            .map(|l| l.p95 as f64)
            .ok_or(Unmeasured::NoTurns);
        let threshold = Threshold::at_most(max as f64, Unit::Millis);
        c.check("p95_latency_ms", Scope::Overall, threshold, measured);
    }
    let passed = !incomplete && c.criteria.iter().all(|x| x.passed);
    Verdict {
        gate_path: gate.path.display().to_string(),
        gate_hash: gate.hash.clone(),
        passed,
        incomplete,
        interrupted: summary.interrupted,
        baseline: diff.map(|d| d.base.dir.clone()),
        criteria: c.criteria,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evalset::ExpectedOutcome;
    use crate::metrics::MetricsBuilder;
    use crate::result::{CaseResult, ObservedOutcome};

    fn result(
        lang: &str,
        stratum: Stratum,
        passed: bool,
        observed: ObservedOutcome,
        expected: ExpectedOutcome,
    ) -> CaseResult {
        CaseResult::fixture(lang, stratum, expected, observed, passed)
    }

    fn summary(results: &[CaseResult]) -> RunSummary {
        let mut b = MetricsBuilder::default();
        results.iter().for_each(|r| b.add(r));
        RunSummary::fixture(b.finish())
    }

    fn gate(yaml: &str) -> Gate {
        Gate {
            path: "gate.yaml".into(),
            hash: "sha256:x".into(),
            spec: crate::yaml::parse(Path::new("gate.yaml"), yaml).unwrap(),
        }
    }

    /// 19 of 20 routine cases pass: 95% exactly.
    fn nineteen_of_twenty(lang: &str) -> Vec<CaseResult> {
        let mut v: Vec<CaseResult> = (0..19)
            .map(|_| {
                result(
                    lang,
                    Stratum::Routine,
                    true,
                    ObservedOutcome::Resolved,
                    ExpectedOutcome::Resolve,
                )
            })
            .collect();
        v.push(result(
            lang,
            Stratum::Routine,
            false,
            ObservedOutcome::Deflected,
            ExpectedOutcome::Resolve,
        ));
        v
    }

    #[test]
    fn a_run_that_took_drafts_never_passes() {
        let g = gate("pass_rate: { routine: 0.9 }\n");
        let mut s = summary(&nineteen_of_twenty("en"));
        assert!(evaluate(&g, &s, None).passed);
        s.meta.selection.include_drafts = true;
        assert!(
            evaluate(&g, &s, None).passed,
            "asking for drafts where there are none changes nothing"
        );
        s.meta.selection.drafts = 2;
        let v = evaluate(&g, &s, None);
        assert!(!v.passed && !v.incomplete);
        let c = v
            .criteria
            .iter()
            .find(|c| c.name == "unreviewed_drafts")
            .unwrap();
        assert_eq!((c.measured, c.passed), (Some(2.0), false));
    }

    #[test]
    fn pass_rate_threshold_is_inclusive_at_the_boundary() {
        let s = summary(&nineteen_of_twenty("en"));
        assert!(evaluate(&gate("pass_rate: { routine: 0.95 }"), &s, None).passed);
        assert!(!evaluate(&gate("pass_rate: { routine: 0.951 }"), &s, None).passed);
        assert!(evaluate(&gate("pass_rate: { routine: 0.949 }"), &s, None).passed);
    }

    /// Both bounds include their boundary, give float rounding 1e-12 of slack, and no more.
    #[test]
    fn thresholds_are_inclusive_within_the_tolerance() {
        let floor = Threshold::at_least(0.95, Unit::Share);
        assert!(floor.admits(0.95));
        assert!(floor.admits(19.0 / 20.0));
        assert!(floor.admits(0.95 - 1e-13));
        assert!(!floor.admits(0.95 - 1e-11));
        assert!(floor.admits(1.0));
        let ceiling = Threshold::at_most(0.02, Unit::Share);
        assert!(ceiling.admits(0.02));
        assert!(ceiling.admits(0.02 + 1e-13));
        assert!(!ceiling.admits(0.02 + 1e-11));
        assert!(ceiling.admits(0.0));
        let none = Threshold::at_most(0.0, Unit::Count);
        assert!(none.admits(0.0) && !none.admits(1.0));
        let ten = Threshold::at_least(10.0, Unit::Count);
        assert!(ten.admits(10.0) && !ten.admits(9.0));
        let latency = Threshold::at_most(8000.0, Unit::Millis);
        assert!(latency.admits(8000.0) && !latency.admits(8001.0));
    }

    /// Nothing measured never meets a floor, and never exceeds a ceiling.
    #[test]
    fn an_unmeasured_floor_fails_and_an_unmeasured_ceiling_passes() {
        assert!(!Threshold::at_least(0.0, Unit::Share).passes(None));
        assert!(Threshold::at_most(0.0, Unit::Share).passes(None));
        let s = summary(&nineteen_of_twenty("en"));
        let v = evaluate(
            &gate(
                "max_significant_regressions: 0\nmin_language_match_rate: 0.5\npass_rate: { edge: 0.5 }",
            ),
            &RunSummary::fixture(MetricsBuilder::default().finish()),
            None,
        );
        let by_name = |name: &str| v.criteria.iter().find(|c| c.name == name).unwrap();
        let regressions = by_name("significant_regressions");
        assert!(regressions.passed);
        assert_eq!(
            (regressions.measured, regressions.unmeasured),
            (None, Some(Unmeasured::NoBaseline))
        );
        let language = by_name("language_match_rate");
        assert!(!language.passed);
        assert_eq!(language.unmeasured, Some(Unmeasured::NoCases));
        // A stratum that did not run has no slice to hold to a pass rate.
        assert!(
            evaluate(&gate("pass_rate: { edge: 0.5 }"), &s, None)
                .criteria
                .is_empty()
        );
    }

    /// report.json carries the verdict as numbers.
    #[test]
    fn a_criterion_is_written_as_numbers() {
        let s = summary(&nineteen_of_twenty("en"));
        let v = evaluate(
            &gate("per_language: true\npass_rate: { routine: 0.96 }\nmax_p95_latency_ms: 8000"),
            &s,
            None,
        );
        let json = serde_json::to_value(&v.criteria).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {
                    "name": "pass_rate",
                    "scope": { "kind": "stratum", "stratum": "routine" },
                    "threshold": { "bound": "at_least", "value": 0.96, "unit": "share" },
                    "measured": 0.95,
                    "passed": false
                },
                {
                    "name": "pass_rate",
                    "scope": { "kind": "cell", "language": "en", "stratum": "routine" },
                    "threshold": { "bound": "at_least", "value": 0.96, "unit": "share" },
                    "measured": 0.95,
                    "passed": false
                },
                {
                    "name": "p95_latency_ms",
                    "scope": { "kind": "overall" },
                    "threshold": { "bound": "at_most", "value": 8000.0, "unit": "millis" },
                    "measured": 10.0,
                    "passed": true
                }
            ])
        );
        let back: Vec<Criterion> = serde_json::from_value(json).unwrap();
        assert_eq!(back, v.criteria);
    }

    #[test]
    fn per_language_applies_thresholds_to_each_language() {
        let mut rs = nineteen_of_twenty("en");
        rs.extend((0..20).map(|_| {
            result(
                "pl",
                Stratum::Routine,
                true,
                ObservedOutcome::Resolved,
                ExpectedOutcome::Resolve,
            )
        }));
        rs.push(result(
            "pl",
            Stratum::Edge,
            false,
            ObservedOutcome::Deflected,
            ExpectedOutcome::Escalate,
        ));
        let s = summary(&rs);
        let v = evaluate(
            &gate("per_language: true\nmax_missed_escalations: 0\npass_rate: { routine: 0.96 }"),
            &s,
            None,
        );
        let failing: Vec<String> = v
            .failing()
            .map(|c| format!("{} {}", c.name, c.scope))
            .collect();
        // Overall routine is 39/40 = 97.5%: only English, at 95%, misses 96%.
        assert_eq!(
            failing,
            [
                "pass_rate en/routine",
                "missed_escalations overall",
                "missed_escalations pl"
            ]
        );
    }

    #[test]
    fn min_cases_counts_every_cell() {
        let s = summary(&nineteen_of_twenty("en"));
        let v = evaluate(&gate("min_cases: { per_language_stratum: 20 }"), &s, None);
        let failing: Vec<String> = v.failing().map(|c| c.scope.to_string()).collect();
        assert_eq!(failing, ["en/edge", "en/refusal", "en/adversarial"]);
    }

    #[test]
    fn error_rate_over_the_limit_is_incomplete() {
        let mut rs = nineteen_of_twenty("en");
        rs.push(result(
            "en",
            Stratum::Routine,
            false,
            ObservedOutcome::Error,
            ExpectedOutcome::Resolve,
        ));
        let s = summary(&rs);
        let v = evaluate(&gate("max_error_rate: 0.05"), &s, None);
        assert!(v.passed && !v.incomplete, "1 of 21 is under 5%");
        let v = evaluate(&gate("max_error_rate: 0.04"), &s, None);
        assert!(!v.passed && v.incomplete);
        // Nothing measured is no pass, even for a gate that tolerates every error.
        let errors: Vec<CaseResult> = (0..3)
            .map(|_| {
                result(
                    "en",
                    Stratum::Routine,
                    false,
                    ObservedOutcome::Error,
                    ExpectedOutcome::Resolve,
                )
            })
            .collect();
        let v = evaluate(&gate("max_error_rate: 1"), &summary(&errors), None);
        assert!(!v.passed && v.incomplete, "{v:?}");
    }

    #[test]
    fn rates_out_of_range_are_refused() {
        let dir = crate::test_support::TempDir::new("gate");
        let p = dir.join("g.yaml");
        std::fs::write(&p, "pass_rate: { routine: 95 }\n").unwrap();
        assert!(
            Gate::load(&p)
                .unwrap_err()
                .message
                .contains("between 0 and 1")
        );
        std::fs::write(&p, "pass_rates: {}\n").unwrap();
        assert!(
            Gate::load(&p)
                .unwrap_err()
                .message
                .contains("did you mean `pass_rate`")
        );
    }
}
