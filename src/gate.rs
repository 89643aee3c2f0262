//! The launch gate: thresholds written down before the run (`gates/launch.yaml`), checked
//! against a run's metrics and, when there is a baseline, its diff. Every criterion is
//! reported with its threshold, the measured value and PASS/FAIL.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::diagnostic::Diagnostic;
use crate::diff::Diff;
use crate::evalset::Stratum;
use crate::metrics::{Metrics, SliceMetrics};
use crate::summary::RunSummary;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GateSpec {
    #[serde(default)]
    pub min_cases: Option<MinCases>,
    #[serde(default)]
    pub pass_rate: Option<PassRates>,
    /// Apply every threshold to each language too.
    #[serde(default)]
    pub per_language: bool,
    #[serde(default)]
    pub max_missed_escalations: Option<u64>,
    #[serde(default)]
    pub min_language_match_rate: Option<f64>,
    #[serde(default)]
    pub max_deflection_rate: Option<f64>,
    /// Benign requests refused, among cases expecting `resolve`.
    #[serde(default)]
    pub max_over_refusal_rate: Option<f64>,
    /// Results no content check and no judge could have failed.
    #[serde(default)]
    pub max_unverified_rate: Option<f64>,
    #[serde(default)]
    pub max_significant_regressions: Option<u64>,
    #[serde(default)]
    pub max_error_rate: Option<f64>,
    #[serde(default)]
    pub max_p95_latency_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MinCases {
    pub per_language_stratum: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
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
    pub fn load(path: &Path) -> Result<Gate, Diagnostic> {
        let bytes = std::fs::read(path)
            .map_err(|e| Diagnostic::new(path, format!("cannot read gate file: {e}")))?;
        let text = crate::yaml::decode_utf8(path, &bytes)?;
        let spec: GateSpec = crate::yaml::parse(path, text)?;
        let gate = Gate {
            path: path.to_path_buf(),
            hash: format!("sha256:{:x}", Sha256::digest(&bytes)),
            spec,
        };
        gate.validate()?;
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
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub name: String,
    /// `overall`, a stratum, a language, or `<language>/<stratum>`.
    pub scope: String,
    pub threshold: String,
    pub measured: String,
    pub passed: bool,
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
    pub baseline: Option<String>,
    pub criteria: Vec<Criterion>,
}

impl Verdict {
    pub fn failing(&self) -> impl Iterator<Item = &Criterion> {
        self.criteria.iter().filter(|c| !c.passed)
    }
}

struct Checker {
    criteria: Vec<Criterion>,
}

impl Checker {
    fn push(&mut self, name: &str, scope: &str, threshold: String, measured: String, passed: bool) {
        self.criteria.push(Criterion {
            name: name.into(),
            scope: scope.into(),
            threshold,
            measured,
            passed,
        });
    }

    fn at_least_rate(&mut self, name: &str, scope: &str, min: f64, value: Option<f64>) {
        // A rate with nothing to measure cannot show the threshold is met.
        let passed = value.is_some_and(|v| v >= min - 1e-12);
        self.push(
            name,
            scope,
            format!(">= {}", pct(min)),
            value.map(pct).unwrap_or_else(|| "no cases".into()),
            passed,
        );
    }

    fn at_most_rate(&mut self, name: &str, scope: &str, max: f64, value: Option<f64>) {
        let passed = value.is_none_or(|v| v <= max + 1e-12);
        self.push(
            name,
            scope,
            format!("<= {}", pct(max)),
            value.map(pct).unwrap_or_else(|| "no cases".into()),
            passed,
        );
    }
}

/// The slices a per-language threshold applies to: overall, then each language.
fn scopes(metrics: &Metrics, per_language: bool) -> Vec<(String, &SliceMetrics)> {
    let mut v = vec![("overall".to_string(), &metrics.overall)];
    if per_language {
        v.extend(metrics.by_language.iter().map(|(l, m)| (l.clone(), m)));
    }
    v
}

use crate::report::percent as pct;

/// The language × stratum cells `min_cases` applies to: every stratum of every language
/// that ran, or of the selected strata only; a `--filter` run, which may take any few
/// cases of a cell, is held to the cells it ran.
fn min_cases_cells(summary: &RunSummary) -> Vec<(String, Stratum)> {
    let selection = &summary.meta.selection;
    let m = &summary.metrics;
    if !selection.patterns.is_empty() {
        return m
            .by_language_stratum
            .keys()
            .map(|cell| (cell.language.clone(), cell.stratum))
            .collect();
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
        .flat_map(|lang| strata.iter().map(move |s| (lang.clone(), *s)))
        .collect()
}

/// Checks a run (and optionally its diff against a baseline) against the gate.
pub fn evaluate(gate: &Gate, summary: &RunSummary, diff: Option<&Diff>) -> Verdict {
    let spec = &gate.spec;
    let m = &summary.metrics;
    let mut c = Checker {
        criteria: Vec::new(),
    };
    let languages: Vec<&String> = m.by_language.keys().collect();
    if !summary.complete {
        c.push(
            "complete",
            "overall",
            "every planned result".into(),
            format!(
                "{} of {} results{}",
                summary.written,
                summary.planned,
                if summary.interrupted {
                    " (interrupted)"
                } else {
                    ""
                }
            ),
            false,
        );
    }
    if let Some(min) = &spec.min_cases {
        for (lang, s) in min_cases_cells(summary) {
            let scope = format!("{lang}/{s}");
            // Cases, not results: repeats do not make a suite larger.
            let n = m.cell(&lang, s).map_or(0, |x| x.cases);
            c.push(
                "min_cases",
                &scope,
                format!(">= {}", min.per_language_stratum),
                n.to_string(),
                n >= min.per_language_stratum,
            );
        }
    }
    if let Some(rates) = &spec.pass_rate {
        if let Some(min) = rates.overall {
            for (scope, slice) in scopes(m, spec.per_language) {
                c.at_least_rate("pass_rate", &scope, min, slice.pass_rate);
            }
        }
        for s in Stratum::ALL {
            let Some(min) = rates.for_stratum(s) else {
                continue;
            };
            if let Some(slice) = m.by_stratum.get(&s) {
                c.at_least_rate("pass_rate", s.name(), min, slice.pass_rate);
            }
            if spec.per_language {
                for lang in &languages {
                    if let Some(slice) = m.cell(lang, s) {
                        c.at_least_rate("pass_rate", &format!("{lang}/{s}"), min, slice.pass_rate);
                    }
                }
            }
        }
    }
    if let Some(max) = spec.max_missed_escalations {
        for (scope, slice) in scopes(m, spec.per_language) {
            let n = slice.missed_escalations;
            c.push(
                "missed_escalations",
                &scope,
                format!("<= {max}"),
                n.to_string(),
                n <= max,
            );
        }
    }
    if let Some(min) = spec.min_language_match_rate {
        for (scope, slice) in scopes(m, spec.per_language) {
            c.at_least_rate(
                "language_match_rate",
                &scope,
                min,
                slice.language_match_rate,
            );
        }
    }
    if let Some(max) = spec.max_deflection_rate {
        for (scope, slice) in scopes(m, spec.per_language) {
            c.at_most_rate("deflection_rate", &scope, max, slice.deflection_rate);
        }
    }
    if let Some(max) = spec.max_over_refusal_rate {
        for (scope, slice) in scopes(m, spec.per_language) {
            c.at_most_rate("over_refusal_rate", &scope, max, slice.over_refusal_rate);
        }
    }
    if let Some(max) = spec.max_unverified_rate {
        for (scope, slice) in scopes(m, spec.per_language) {
            c.at_most_rate("unverified_rate", &scope, max, slice.unverified_rate);
        }
    }
    if let Some(max) = spec.max_significant_regressions {
        match diff {
            Some(d) => {
                let n = d.significant_regressions;
                c.push(
                    "significant_regressions",
                    "vs baseline",
                    format!("<= {max}"),
                    n.to_string(),
                    n <= max,
                );
            }
            None => c.push(
                "significant_regressions",
                "vs baseline",
                format!("<= {max}"),
                "no baseline given".into(),
                true,
            ),
        }
    }
    let mut incomplete = !summary.complete;
    if let Some(max) = spec.max_error_rate {
        let rate = m.overall.error_rate;
        c.at_most_rate("error_rate", "overall", max, rate);
        incomplete |= rate.is_some_and(|r| r > max + 1e-12);
    }
    if let Some(max) = spec.max_p95_latency_ms {
        let p95 = m.overall.latency_ms.map(|l| l.p95);
        c.push(
            "p95_latency_ms",
            "overall",
            format!("<= {max} ms"),
            p95.map(|v| format!("{v} ms"))
                .unwrap_or_else(|| "no turns".into()),
            p95.is_none_or(|v| v <= max),
        );
    }
    let passed = !incomplete && c.criteria.iter().all(|x| x.passed);
    Verdict {
        gate_path: gate.path.display().to_string(),
        gate_hash: gate.hash.clone(),
        passed,
        incomplete,
        baseline: diff.map(|d| d.base.dir.clone()),
        criteria: c.criteria,
    }
}

/// Every criterion with its threshold, measured value and verdict: one line per failure,
/// then the passes grouped by criterion and threshold so that a gate of 35 languages
/// stays readable on a terminal.
pub fn criterion_lines(v: &Verdict) -> Vec<String> {
    let mut lines: Vec<String> = v
        .criteria
        .iter()
        .filter(|c| !c.passed)
        .map(|c| {
            format!(
                "  FAIL {:<22} {:<20} threshold {:<10} measured {}",
                c.name, c.scope, c.threshold, c.measured
            )
        })
        .collect();
    let mut groups: Vec<((&str, &str), Vec<String>)> = Vec::new();
    for c in v.criteria.iter().filter(|c| c.passed) {
        let key = (c.name.as_str(), c.threshold.as_str());
        let entry = format!("{} {}", c.scope, c.measured);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, entries)) => entries.push(entry),
            None => groups.push((key, vec![entry])),
        }
    }
    for ((name, threshold), entries) in groups {
        lines.push(format!(
            "  PASS {name} ({threshold}): {}",
            entries.join(" · ")
        ));
    }
    lines
}

/// The verdict's title line and every criterion.
pub fn render_text(v: &Verdict) -> String {
    let mut out = crate::report::titles::gate_title(v);
    out.push('\n');
    for line in criterion_lines(v) {
        out.push_str(&line);
        out.push('\n');
    }
    out
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
    fn pass_rate_threshold_is_inclusive_at_the_boundary() {
        let s = summary(&nineteen_of_twenty("en"));
        assert!(evaluate(&gate("pass_rate: { routine: 0.95 }"), &s, None).passed);
        assert!(!evaluate(&gate("pass_rate: { routine: 0.951 }"), &s, None).passed);
        assert!(evaluate(&gate("pass_rate: { routine: 0.949 }"), &s, None).passed);
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
        let failing: Vec<&str> = v.failing().map(|c| c.scope.as_str()).collect();
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
