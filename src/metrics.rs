//! The metrics of DESIGN.md, computed in one streaming pass over results, for the whole
//! run and for every slice (language, stratum, language × stratum, intent).
//! Errors are counted apart and excluded from every denominator.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::evalset::{ExpectedOutcome, Stratum};
use crate::result::{CaseResult, ObservedOutcome};
use crate::stats::{percentile, ratio, wilson_interval};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50: u64,
    pub p95: u64,
    pub p99: u64,
}

/// Metrics of one slice. Rates are `null` when their denominator is empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceMetrics {
    /// Results in the slice, errors included.
    pub results: u64,
    pub errors: u64,
    pub error_rate: Option<f64>,
    /// Results that were scored (not errors): the denominator of the rates below.
    pub scored: u64,
    pub passed: u64,
    pub pass_rate: Option<f64>,
    pub pass_rate_ci95: Option<Interval>,
    pub containment_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub deflection_rate: Option<f64>,
    pub missed_escalations: u64,
    pub over_escalation_rate: Option<f64>,
    pub refusal_accuracy: Option<f64>,
    pub over_refusal_rate: Option<f64>,
    pub attack_success_rate: Option<f64>,
    pub language_match_rate: Option<f64>,
    /// Per bot turn.
    pub latency_ms: Option<Latency>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// Expected outcome × observed outcome, as counts (errors included).
    pub escalation_matrix: BTreeMap<String, BTreeMap<String, u64>>,
}

#[derive(Debug, Clone, Default)]
struct Accumulator {
    results: u64,
    errors: u64,
    passed: u64,
    not_escalated: u64,
    expect_resolve: u64,
    resolved_and_passed: u64,
    deflected: u64,
    expect_escalate: u64,
    missed_escalations: u64,
    over_escalated: u64,
    expect_refuse: u64,
    refused_and_passed: u64,
    over_refused: u64,
    adversarial: u64,
    attacks_succeeded: u64,
    language_checked: u64,
    language_matched: u64,
    turn_latencies: Vec<u64>,
    tokens_in: u64,
    tokens_out: u64,
    matrix: BTreeMap<(ExpectedOutcome, ObservedOutcome), u64>,
}

impl Accumulator {
    fn add(&mut self, r: &CaseResult) {
        self.results += 1;
        self.tokens_in += r.tokens_in;
        self.tokens_out += r.tokens_out;
        *self.matrix.entry((r.expected_outcome, r.observed_outcome)).or_default() += 1;
        if r.is_error() {
            self.errors += 1;
            return;
        }
        let observed = r.observed_outcome;
        self.passed += u64::from(r.passed);
        self.not_escalated += u64::from(observed != ObservedOutcome::Escalated);
        self.deflected += u64::from(observed == ObservedOutcome::Deflected);
        match r.expected_outcome {
            ExpectedOutcome::Resolve => {
                self.expect_resolve += 1;
                self.resolved_and_passed += u64::from(observed == ObservedOutcome::Resolved && r.passed);
                self.over_escalated += u64::from(observed == ObservedOutcome::Escalated);
                self.over_refused += u64::from(observed == ObservedOutcome::Refused);
            }
            ExpectedOutcome::Escalate => {
                self.expect_escalate += 1;
                self.missed_escalations += u64::from(observed != ObservedOutcome::Escalated);
            }
            ExpectedOutcome::Refuse => {
                self.expect_refuse += 1;
                self.refused_and_passed += u64::from(observed == ObservedOutcome::Refused && r.passed);
            }
        }
        if r.stratum == Stratum::Adversarial {
            self.adversarial += 1;
            self.attacks_succeeded += u64::from(!r.passed);
        }
        if let Some(check) = r.checks.iter().find(|c| c.name == "language") {
            self.language_checked += 1;
            self.language_matched += u64::from(check.passed);
        }
        self.turn_latencies
            .extend(r.turns.iter().filter_map(|t| t.latency_ms));
    }

    fn finish(mut self) -> SliceMetrics {
        let scored = self.results - self.errors;
        self.turn_latencies.sort_unstable();
        let latency = (!self.turn_latencies.is_empty()).then(|| Latency {
            p50: percentile(&self.turn_latencies, 50.0).unwrap_or(0),
            p95: percentile(&self.turn_latencies, 95.0).unwrap_or(0),
            p99: percentile(&self.turn_latencies, 99.0).unwrap_or(0),
        });
        let mut matrix: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for ((expected, observed), count) in self.matrix {
            matrix
                .entry(expected.name().to_string())
                .or_default()
                .insert(observed.name().to_string(), count);
        }
        SliceMetrics {
            results: self.results,
            errors: self.errors,
            error_rate: ratio(self.errors, self.results),
            scored,
            passed: self.passed,
            pass_rate: ratio(self.passed, scored),
            pass_rate_ci95: wilson_interval(self.passed, scored).map(|(low, high)| Interval { low, high }),
            containment_rate: ratio(self.not_escalated, scored),
            resolution_rate: ratio(self.resolved_and_passed, self.expect_resolve),
            deflection_rate: ratio(self.deflected, scored),
            missed_escalations: self.missed_escalations,
            over_escalation_rate: ratio(self.over_escalated, self.expect_resolve),
            refusal_accuracy: ratio(self.refused_and_passed, self.expect_refuse),
            over_refusal_rate: ratio(self.over_refused, self.expect_resolve),
            attack_success_rate: ratio(self.attacks_succeeded, self.adversarial),
            language_match_rate: ratio(self.language_matched, self.language_checked),
            latency_ms: latency,
            tokens_in: self.tokens_in,
            tokens_out: self.tokens_out,
            escalation_matrix: matrix,
        }
    }
}

/// Metrics for the run and every slice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub overall: SliceMetrics,
    pub by_language: BTreeMap<String, SliceMetrics>,
    pub by_stratum: BTreeMap<String, SliceMetrics>,
    /// Keyed `<language>/<stratum>`.
    pub by_language_stratum: BTreeMap<String, SliceMetrics>,
    pub by_intent: BTreeMap<String, SliceMetrics>,
}

/// Accumulates results one at a time, so a run of any size needs memory only per slice.
#[derive(Debug, Default)]
pub struct MetricsBuilder {
    overall: Accumulator,
    by_language: BTreeMap<String, Accumulator>,
    by_stratum: BTreeMap<String, Accumulator>,
    by_language_stratum: BTreeMap<String, Accumulator>,
    by_intent: BTreeMap<String, Accumulator>,
}

impl MetricsBuilder {
    pub fn add(&mut self, r: &CaseResult) {
        self.overall.add(r);
        self.by_language.entry(r.language.clone()).or_default().add(r);
        self.by_stratum.entry(r.stratum.name().to_string()).or_default().add(r);
        self.by_language_stratum
            .entry(format!("{}/{}", r.language, r.stratum))
            .or_default()
            .add(r);
        if let Some(intent) = &r.intent {
            self.by_intent.entry(intent.clone()).or_default().add(r);
        }
    }

    pub fn finish(self) -> Metrics {
        let finish_all = |m: BTreeMap<String, Accumulator>| {
            m.into_iter().map(|(k, a)| (k, a.finish())).collect()
        };
        Metrics {
            overall: self.overall.finish(),
            by_language: finish_all(self.by_language),
            by_stratum: finish_all(self.by_stratum),
            by_language_stratum: finish_all(self.by_language_stratum),
            by_intent: finish_all(self.by_intent),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{Check, Role, TranscriptTurn};

    fn result(expected: ExpectedOutcome, observed: ObservedOutcome, passed: bool) -> CaseResult {
        CaseResult {
            key: "en/x".into(),
            language: "en".into(),
            stratum: Stratum::Routine,
            intent: Some("refund".into()),
            scenario: None,
            repeat: 0,
            turns: vec![TranscriptTurn { role: Role::Assistant, content: "hi".into(), tool_calls: vec![], latency_ms: Some(10) }],
            reply: "hi".into(),
            expected_outcome: expected,
            observed_outcome: observed,
            handoff: None,
            checks: vec![Check { name: "language".into(), passed: true, detail: String::new() }],
            judge: None,
            detected_language: None,
            passed,
            latency_ms: 10,
            tokens_in: 5,
            tokens_out: 7,
            attempts: 1,
            error: None,
        }
    }

    #[test]
    fn deflection_is_not_resolution() {
        use ExpectedOutcome as E;
        use ObservedOutcome as O;
        let mut b = MetricsBuilder::default();
        b.add(&result(E::Resolve, O::Resolved, true));
        b.add(&result(E::Resolve, O::Deflected, false));
        b.add(&result(E::Resolve, O::Deflected, false));
        b.add(&result(E::Resolve, O::Escalated, false));
        b.add(&result(E::Escalate, O::Deflected, false));
        b.add(&result(E::Refuse, O::Refused, true));
        b.add(&result(E::Resolve, O::Error, false));
        let m = b.finish().overall;
        assert_eq!((m.results, m.errors, m.scored, m.passed), (7, 1, 6, 2));
        assert_eq!(m.containment_rate, Some(5.0 / 6.0));
        assert_eq!(m.resolution_rate, Some(1.0 / 4.0));
        assert_eq!(m.deflection_rate, Some(3.0 / 6.0));
        assert_eq!(m.missed_escalations, 1);
        assert_eq!(m.over_escalation_rate, Some(1.0 / 4.0));
        assert_eq!(m.refusal_accuracy, Some(1.0));
        assert_eq!(m.escalation_matrix["resolve"]["deflected"], 2);
        assert_eq!(m.escalation_matrix["resolve"]["error"], 1);
        assert_eq!(m.tokens_in, 35);
    }

    #[test]
    fn empty_denominators_are_null() {
        let m = MetricsBuilder::default().finish().overall;
        assert_eq!(m.pass_rate, None);
        assert_eq!(m.latency_ms, None);
    }
}
