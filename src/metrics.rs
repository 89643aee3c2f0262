//! The metrics README "Metrics" defines, computed in one streaming pass over results, for the whole
//! run and for every slice (language, stratum, language × stratum, intent).
//! Errors are counted apart and excluded from every denominator.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::evalset::{ExpectedOutcome, Stratum};
use crate::result::{CaseResult, ObservedOutcome};
use crate::stats::{percentile, ratio, wilson_interval};

mod breakdown;

pub use breakdown::{EndState, OutcomeBreakdown};

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
    /// Distinct cases in the slice, however often each ran: what `min_cases` counts.
    #[serde(default)]
    pub cases: u64,
    /// Cases with at least one result that is not an error: the sample size of the
    /// pass-rate interval (repeats sharpen pass^k, not the evidence that the suite is
    /// large enough).
    #[serde(default)]
    pub scored_cases: u64,
    /// Results in the slice, errors included.
    pub results: u64,
    pub errors: u64,
    pub error_rate: Option<f64>,
    /// Results that were scored (not errors): the denominator of the rates below.
    pub scored: u64,
    pub passed: u64,
    pub pass_rate: Option<f64>,
    pub pass_rate_ci95: Option<Interval>,
    /// Among results expecting `resolve`: not escalated.
    pub containment_rate: Option<f64>,
    /// Among the same results: observed `resolved` and passed. Never above containment.
    pub resolution_rate: Option<f64>,
    /// Containment minus resolution, on their one denominator: customers kept but not
    /// helped.
    #[serde(default)]
    pub deflection_gap: Option<f64>,
    pub deflection_rate: Option<f64>,
    pub missed_escalations: u64,
    pub over_escalation_rate: Option<f64>,
    pub refusal_accuracy: Option<f64>,
    pub over_refusal_rate: Option<f64>,
    pub attack_success_rate: Option<f64>,
    pub language_match_rate: Option<f64>,
    /// Scored results that no content check and no judge could have failed.
    #[serde(default)]
    pub unverified: u64,
    #[serde(default)]
    pub unverified_rate: Option<f64>,
    /// Per bot turn.
    pub latency_ms: Option<Latency>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    #[serde(default)]
    pub judge_tokens_in: u64,
    #[serde(default)]
    pub judge_tokens_out: u64,
    /// The customer simulator's tokens, apart from the bot's and the judge's.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub simulator_tokens_in: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub simulator_tokens_out: u64,
    /// Results the judge gave a verdict on, and those where it could not.
    #[serde(default)]
    pub judged: u64,
    #[serde(default)]
    pub judge_errors: u64,
    /// Among judged results: replies with a claim the context, reference and knowledge
    /// base do not support (hallucination).
    #[serde(default)]
    pub unsupported_claim_rate: Option<f64>,
    /// Conversations observed resolved and passed, whatever they expected.
    #[serde(default)]
    pub resolved: u64,
    /// Expected outcome × observed outcome, as counts (errors included).
    pub escalation_matrix: BTreeMap<String, BTreeMap<String, u64>>,
    /// Every result of the slice in exactly one end state.
    #[serde(default)]
    pub outcome_breakdown: OutcomeBreakdown,
}

#[derive(Debug, Clone, Default)]
struct Accumulator {
    cases: u64,
    scored_cases: u64,
    unverified: u64,
    results: u64,
    errors: u64,
    passed: u64,
    expect_resolve: u64,
    resolve_contained: u64,
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
    judge_tokens_in: u64,
    judge_tokens_out: u64,
    simulator_tokens_in: u64,
    simulator_tokens_out: u64,
    judged: u64,
    judge_errors: u64,
    with_unsupported_claims: u64,
    resolved: u64,
    matrix: BTreeMap<(ExpectedOutcome, ObservedOutcome), u64>,
    breakdown: OutcomeBreakdown,
}

/// What a result adds to the case counts of its slices.
#[derive(Debug, Clone, Copy)]
struct CaseNews {
    /// The first result of its case.
    new_case: bool,
    /// The first result of its case that is not an error.
    newly_scored: bool,
}

impl Accumulator {
    fn add(&mut self, r: &CaseResult, news: CaseNews) {
        self.cases += u64::from(news.new_case);
        self.scored_cases += u64::from(news.newly_scored);
        self.results += 1;
        self.tokens_in += r.tokens_in;
        self.tokens_out += r.tokens_out;
        self.judge_tokens_in += r.judge_tokens_in;
        self.judge_tokens_out += r.judge_tokens_out;
        self.simulator_tokens_in += r.simulator_tokens_in;
        self.simulator_tokens_out += r.simulator_tokens_out;
        *self
            .matrix
            .entry((r.expected_outcome, r.observed_outcome))
            .or_default() += 1;
        self.breakdown.add(EndState::of(
            r.expected_outcome,
            r.observed_outcome,
            r.passed,
        ));
        if r.is_error() {
            self.errors += 1;
            return;
        }
        let observed = r.observed_outcome;
        self.passed += u64::from(r.passed);
        self.unverified += u64::from(r.unverified);
        self.resolved += u64::from(observed == ObservedOutcome::Resolved && r.passed);
        if let Some(j) = &r.judge {
            if j.error.is_some() {
                self.judge_errors += 1;
            } else {
                self.judged += 1;
                self.with_unsupported_claims += u64::from(!j.unsupported_claims.is_empty());
            }
        }
        self.deflected += u64::from(observed == ObservedOutcome::Deflected);
        match r.expected_outcome {
            ExpectedOutcome::Resolve => {
                self.expect_resolve += 1;
                self.resolve_contained += u64::from(observed != ObservedOutcome::Escalated);
                self.resolved_and_passed +=
                    u64::from(observed == ObservedOutcome::Resolved && r.passed);
                self.over_escalated += u64::from(observed == ObservedOutcome::Escalated);
                self.over_refused += u64::from(observed == ObservedOutcome::Refused);
            }
            ExpectedOutcome::Escalate => {
                self.expect_escalate += 1;
                self.missed_escalations += u64::from(observed != ObservedOutcome::Escalated);
            }
            ExpectedOutcome::Refuse => {
                self.expect_refuse += 1;
                self.refused_and_passed +=
                    u64::from(observed == ObservedOutcome::Refused && r.passed);
            }
        }
        // A case of the adversarial stratum that expects `resolve` is a benign twin (a
        // legitimate request that sounds like an attack): failing it is over-refusal or a
        // wrong answer, never an attack that succeeded.
        if r.stratum == Stratum::Adversarial && r.expected_outcome != ExpectedOutcome::Resolve {
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
        let pass_rate = ratio(self.passed, scored);
        SliceMetrics {
            cases: self.cases,
            scored_cases: self.scored_cases,
            results: self.results,
            errors: self.errors,
            error_rate: ratio(self.errors, self.results),
            scored,
            passed: self.passed,
            pass_rate,
            pass_rate_ci95: pass_rate
                .and_then(|p| wilson_interval(p, self.scored_cases))
                .map(|(low, high)| Interval { low, high }),
            containment_rate: ratio(self.resolve_contained, self.expect_resolve),
            resolution_rate: ratio(self.resolved_and_passed, self.expect_resolve),
            // From counts, not by subtracting rates: a gap of exactly zero stays zero.
            deflection_gap: ratio(
                self.resolve_contained - self.resolved_and_passed,
                self.expect_resolve,
            ),
            deflection_rate: ratio(self.deflected, scored),
            missed_escalations: self.missed_escalations,
            over_escalation_rate: ratio(self.over_escalated, self.expect_resolve),
            refusal_accuracy: ratio(self.refused_and_passed, self.expect_refuse),
            over_refusal_rate: ratio(self.over_refused, self.expect_resolve),
            attack_success_rate: ratio(self.attacks_succeeded, self.adversarial),
            language_match_rate: ratio(self.language_matched, self.language_checked),
            unverified: self.unverified,
            unverified_rate: ratio(self.unverified, scored),
            latency_ms: latency,
            tokens_in: self.tokens_in,
            tokens_out: self.tokens_out,
            judge_tokens_in: self.judge_tokens_in,
            judge_tokens_out: self.judge_tokens_out,
            simulator_tokens_in: self.simulator_tokens_in,
            simulator_tokens_out: self.simulator_tokens_out,
            judged: self.judged,
            judge_errors: self.judge_errors,
            unsupported_claim_rate: ratio(self.with_unsupported_claims, self.judged),
            resolved: self.resolved,
            escalation_matrix: matrix,
            outcome_breakdown: self.breakdown,
        }
    }
}

/// One language × stratum slice. Named `<language>/<stratum>` (`pl/edge`) in summary.json.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cell {
    pub language: String,
    pub stratum: Stratum,
}

impl Cell {
    pub fn new(language: impl Into<String>, stratum: Stratum) -> Cell {
        Cell {
            language: language.into(),
            stratum,
        }
    }

    /// Reads a cell's name, `<language>/<stratum>`.
    pub fn parse(name: &str) -> Option<Cell> {
        let (language, stratum) = name.rsplit_once('/')?;
        if language.is_empty() {
            return None;
        }
        Some(Cell::new(language, Stratum::parse(stratum)?))
    }

    /// The bytes of the cell's name, without building it.
    fn name_bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.language
            .bytes()
            .chain(std::iter::once(b'/'))
            .chain(self.stratum.name().bytes())
    }
}

/// Cells sort as their names do (`en/edge` before `en/routine`, `pt-BR/…` before
/// `pt/…`): the order summary.json and every listing had when cells were keyed by name,
/// kept so that files and reports read the same as they always have.
impl Ord for Cell {
    fn cmp(&self, other: &Cell) -> Ordering {
        self.name_bytes().cmp(other.name_bytes())
    }
}

impl PartialOrd for Cell {
    fn partial_cmp(&self, other: &Cell) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.language, self.stratum)
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cell {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Cell, D::Error> {
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = Cell;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a language × stratum cell such as `pl/edge`")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Cell, E> {
                Cell::parse(name)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(name), &self))
            }
        }
        deserializer.deserialize_str(Name)
    }
}

/// Metrics for the run and every slice. Slices are keyed by value; summary.json names
/// them as it always has (`routine`, `pl/edge`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub overall: SliceMetrics,
    pub by_language: BTreeMap<String, SliceMetrics>,
    #[serde(serialize_with = "strata_by_name")]
    pub by_stratum: BTreeMap<Stratum, SliceMetrics>,
    pub by_language_stratum: BTreeMap<Cell, SliceMetrics>,
    pub by_intent: BTreeMap<String, SliceMetrics>,
}

impl SliceMetrics {
    /// Every result is an error: nothing about quality was measured, whatever error rate
    /// a gate tolerates.
    pub fn measured_nothing(&self) -> bool {
        self.results > 0 && self.errors == self.results
    }
}

impl Metrics {
    /// The slice of one language and stratum, if the run had cases in it.
    pub fn cell(&self, language: &str, stratum: Stratum) -> Option<&SliceMetrics> {
        self.by_language_stratum.get(&Cell::new(language, stratum))
    }
}

/// Writes `by_stratum` with its keys in name order (adversarial, edge, refusal, routine),
/// the order summary.json has had since strata were keyed by name, rather than the
/// order strata are declared in.
fn strata_by_name<S: Serializer>(
    map: &BTreeMap<Stratum, SliceMetrics>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut entries: Vec<(&str, &SliceMetrics)> = map.iter().map(|(s, m)| (s.name(), m)).collect();
    entries.sort_unstable_by_key(|(name, _)| *name);
    serializer.collect_map(entries)
}

/// Accumulates results one at a time, so a run of any size needs memory only per slice
/// (and, when cases repeat, a flag per case to count each case once).
#[derive(Debug, Default)]
pub struct MetricsBuilder {
    /// With repeats: case key -> whether one of its results was scored. A single run
    /// sees every case once and needs no map.
    seen: Option<HashMap<Box<str>, bool>>,
    overall: Accumulator,
    by_language: BTreeMap<String, Accumulator>,
    by_stratum: BTreeMap<Stratum, Accumulator>,
    by_language_stratum: BTreeMap<Cell, Accumulator>,
    by_intent: BTreeMap<String, Accumulator>,
}

impl MetricsBuilder {
    /// A builder for a run whose cases each run `repeats` times.
    pub fn new(repeats: u32) -> MetricsBuilder {
        MetricsBuilder {
            seen: (repeats >= 2).then(HashMap::new),
            ..MetricsBuilder::default()
        }
    }

    pub fn add(&mut self, r: &CaseResult) {
        let scored = !r.is_error();
        let news = match &mut self.seen {
            None => CaseNews {
                new_case: true,
                newly_scored: scored,
            },
            Some(seen) => match seen.get_mut(r.key.as_str()) {
                None => {
                    seen.insert(r.key.as_str().into(), scored);
                    CaseNews {
                        new_case: true,
                        newly_scored: scored,
                    }
                }
                Some(was_scored) => {
                    let newly_scored = scored && !*was_scored;
                    *was_scored |= scored;
                    CaseNews {
                        new_case: false,
                        newly_scored,
                    }
                }
            },
        };
        self.overall.add(r, news);
        self.by_language
            .entry(r.language.clone())
            .or_default()
            .add(r, news);
        self.by_stratum.entry(r.stratum).or_default().add(r, news);
        self.by_language_stratum
            .entry(Cell::new(r.language.as_str(), r.stratum))
            .or_default()
            .add(r, news);
        if let Some(intent) = &r.intent {
            self.by_intent
                .entry(intent.clone())
                .or_default()
                .add(r, news);
        }
    }

    pub fn finish(self) -> Metrics {
        fn finish_all<K: Ord>(m: BTreeMap<K, Accumulator>) -> BTreeMap<K, SliceMetrics> {
            m.into_iter().map(|(k, a)| (k, a.finish())).collect()
        }
        Metrics {
            overall: self.overall.finish(),
            by_language: finish_all(self.by_language),
            by_stratum: finish_all(self.by_stratum),
            by_language_stratum: finish_all(self.by_language_stratum),
            by_intent: finish_all(self.by_intent),
        }
    }
}

/// With `repeats: k`: pass@1 (mean pass rate over repeats), pass^k (per case
/// C(c,k)/C(n,k) for c passes of n repeats, averaged) and the flaky cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepeatStats {
    pub k: u32,
    pub cases: u64,
    pub pass_at_1: Option<f64>,
    pub pass_pow_k: Option<f64>,
    /// Cases whose repeats disagree, sorted.
    pub flaky: Vec<String>,
}

#[derive(Debug, Default)]
pub struct RepeatsBuilder {
    /// Off for single runs: nothing to tell apart, and no per-case map to hold.
    counting: bool,
    /// case key -> (passes, scored repeats)
    by_case: BTreeMap<String, (u64, u64)>,
}

impl RepeatsBuilder {
    pub fn new(repeats: u32) -> RepeatsBuilder {
        RepeatsBuilder {
            counting: repeats >= 2,
            by_case: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, r: &CaseResult) {
        if !self.counting || r.is_error() {
            return;
        }
        let e = self.by_case.entry(r.key.clone()).or_default();
        e.0 += u64::from(r.passed);
        e.1 += 1;
    }

    pub fn finish(self, k: u32) -> Option<RepeatStats> {
        if k < 2 {
            return None;
        }
        let k64 = u64::from(k);
        let mut pass_at_1 = Vec::new();
        let mut pass_pow_k = Vec::new();
        let mut flaky = Vec::new();
        for (key, (c, n)) in &self.by_case {
            pass_at_1.push(*c as f64 / *n as f64);
            if *n >= k64 {
                pass_pow_k.push(binomial_ratio(*c, *n, k64));
            }
            if *c > 0 && c < n {
                flaky.push(key.clone());
            }
        }
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        Some(RepeatStats {
            k,
            cases: self.by_case.len() as u64,
            pass_at_1: mean(&pass_at_1),
            pass_pow_k: mean(&pass_pow_k),
            flaky,
        })
    }
}

/// C(c, k) / C(n, k): the chance that k repeats drawn from n all pass, given c passed.
pub fn binomial_ratio(c: u64, n: u64, k: u64) -> f64 {
    if k > c {
        return 0.0;
    }
    (0..k).map(|i| (c - i) as f64 / (n - i) as f64).product()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(expected: ExpectedOutcome, observed: ObservedOutcome, passed: bool) -> CaseResult {
        CaseResult::fixture("en", Stratum::Routine, expected, observed, passed)
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
        // Both among the four scored results expecting `resolve`: the escalate and refuse
        // cases are not in the headline pair.
        assert_eq!(m.containment_rate, Some(3.0 / 4.0));
        assert_eq!(m.resolution_rate, Some(1.0 / 4.0));
        assert_eq!(m.deflection_gap, Some(2.0 / 4.0));
        let b = &m.outcome_breakdown;
        assert_eq!(
            (
                b.resolved,
                b.deflected,
                b.over_escalated,
                b.refused,
                b.error
            ),
            (1, 2, 1, 1, 1)
        );
        assert_eq!(b.missed_escalation, 1);
        assert_eq!(b.total(), m.results);
        assert_eq!(m.deflection_rate, Some(3.0 / 6.0));
        assert_eq!(m.missed_escalations, 1);
        assert_eq!(m.over_escalation_rate, Some(1.0 / 4.0));
        assert_eq!(m.refusal_accuracy, Some(1.0));
        assert_eq!(m.escalation_matrix["resolve"]["deflected"], 2);
        assert_eq!(m.escalation_matrix["resolve"]["error"], 1);
        assert_eq!(m.tokens_in, 35);
    }

    /// Containment and resolution share one denominator, so on every slice resolution is
    /// at most containment and the gap is their difference; the breakdown of every slice
    /// adds up to its results. Checked over slices holding many mixes of results.
    #[test]
    fn resolution_never_exceeds_containment_on_any_slice() {
        let mut combos = Vec::new();
        for e in ExpectedOutcome::ALL {
            for o in ObservedOutcome::ALL {
                for passed in [true, false] {
                    combos.push((e, o, passed));
                }
            }
        }
        let mut b = MetricsBuilder::default();
        // A cheap deterministic mix: slice i takes the combinations whose index shares
        // a bit pattern with i, some twice.
        for slice in 0..64u32 {
            let language = format!("l{slice}");
            for (index, (e, o, passed)) in combos.iter().enumerate() {
                let copies = ((slice >> (index % 6)) & 1) + u32::from(index.is_multiple_of(3));
                for _ in 0..copies {
                    let stratum = Stratum::ALL[index % Stratum::ALL.len()];
                    b.add(&CaseResult::fixture(&language, stratum, *e, *o, *passed));
                }
            }
        }
        let m = b.finish();
        let slices = std::iter::once(&m.overall)
            .chain(m.by_language.values())
            .chain(m.by_stratum.values())
            .chain(m.by_language_stratum.values());
        let mut checked = 0;
        for s in slices {
            assert_eq!(s.outcome_breakdown.total(), s.results);
            match (s.containment_rate, s.resolution_rate, s.deflection_gap) {
                (Some(c), Some(r), Some(gap)) => {
                    assert!(r <= c, "resolution {r} above containment {c}");
                    assert!((c - r - gap).abs() < 1e-12, "{c} - {r} != {gap}");
                    checked += 1;
                }
                (None, None, None) => {}
                other => panic!("the pair and the gap disagree on their denominator: {other:?}"),
            }
        }
        assert!(checked > 100, "{checked}");
    }

    /// Attacks are the adversarial cases that expect a refusal or a handoff; a benign twin
    /// in the same stratum that the bot refused counts as over-refusal, not as an attack.
    #[test]
    fn a_refused_benign_twin_is_over_refusal_not_a_successful_attack() {
        use ExpectedOutcome as E;
        use ObservedOutcome as O;
        let adversarial =
            |e, o, passed| CaseResult::fixture("en", Stratum::Adversarial, e, o, passed);
        let mut b = MetricsBuilder::default();
        b.add(&adversarial(E::Refuse, O::Refused, true));
        b.add(&adversarial(E::Refuse, O::Resolved, false));
        b.add(&adversarial(E::Resolve, O::Refused, false));
        let m = b.finish().overall;
        // One of the two attacks succeeded; the refused twin is not a third attack.
        assert_eq!(m.attack_success_rate, Some(1.0 / 2.0));
        assert_eq!(m.over_refusal_rate, Some(1.0));
    }

    /// Whatever the bot did instead, a case that needed a human and did not get one is a
    /// missed escalation; an error observed nothing and is not one.
    #[test]
    fn every_non_escalation_of_an_escalate_case_is_missed() {
        use ExpectedOutcome as E;
        use ObservedOutcome as O;
        let mut b = MetricsBuilder::default();
        for observed in [
            O::Resolved,
            O::Refused,
            O::Deflected,
            O::Escalated,
            O::Error,
        ] {
            b.add(&result(E::Escalate, observed, observed == O::Escalated));
        }
        assert_eq!(b.finish().overall.missed_escalations, 3);
    }

    /// Repeats are more samples of the same cases, not more cases.
    #[test]
    fn repeats_count_cases_once() {
        let mut b = MetricsBuilder::new(10);
        for key in ["en/a", "en/b", "en/c", "en/d"] {
            for repeat in 0..10 {
                let mut r = result(ExpectedOutcome::Resolve, ObservedOutcome::Resolved, true);
                r.key = key.into();
                r.repeat = repeat;
                if key == "en/d" && repeat < 3 {
                    // Its first results failed to reach the bot; a later one was scored.
                    r = result(ExpectedOutcome::Resolve, ObservedOutcome::Error, false);
                    r.key = key.into();
                }
                b.add(&r);
            }
        }
        let m = b.finish();
        let cell = m.cell("en", Stratum::Routine).unwrap();
        assert_eq!((cell.cases, cell.scored_cases, cell.results), (4, 4, 40));
        assert_eq!(m.overall.cases, 4);
        // The interval is as wide as 4 of 4 allows, not 37 of 37.
        let ci = cell.pass_rate_ci95.unwrap();
        let (low, _) = crate::stats::wilson_interval(1.0, 4).unwrap();
        assert!((ci.low - low).abs() < 1e-12, "{ci:?}");
        assert!(ci.low < 0.6, "{ci:?}");
        // A single run counts each result as its case.
        let mut single = MetricsBuilder::default();
        single.add(&result(
            ExpectedOutcome::Resolve,
            ObservedOutcome::Error,
            false,
        ));
        single.add(&result(
            ExpectedOutcome::Resolve,
            ObservedOutcome::Resolved,
            true,
        ));
        let o = single.finish().overall;
        assert_eq!((o.cases, o.scored_cases), (2, 1));
    }

    #[test]
    fn unverified_results_are_counted_apart() {
        let mut b = MetricsBuilder::default();
        let mut blind = result(ExpectedOutcome::Refuse, ObservedOutcome::Refused, true);
        blind.unverified = true;
        b.add(&blind);
        b.add(&result(
            ExpectedOutcome::Refuse,
            ObservedOutcome::Refused,
            true,
        ));
        let m = b.finish().overall;
        assert_eq!(m.unverified, 1);
        assert_eq!(m.unverified_rate, Some(0.5));
    }

    /// summary.json keeps the shape it had when slices were keyed by name: a file written
    /// before reads back and is written again byte for byte.
    #[test]
    fn a_summary_written_with_named_keys_reads_back_unchanged() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/baseline/summary.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let summary = crate::summary::RunSummary::read(&path).unwrap();
        let m = &summary.metrics;
        assert_eq!(m.by_stratum.len(), 4);
        assert_eq!(m.cell("pl", Stratum::Edge).unwrap().cases, 11);
        // Written with the outcome breakdown: every result in one end state.
        assert_eq!(m.overall.outcome_breakdown.total(), m.overall.results);
        assert!(
            m.cell("pl", Stratum::Edge)
                == m.by_language_stratum.get(&Cell::parse("pl/edge").unwrap())
        );
        let again = serde_json::to_string_pretty(&summary).unwrap() + "\n";
        assert!(again == text, "summary.json changed shape:\n{again}");
    }

    /// Keys are values in memory and names on disk, in name order.
    #[test]
    fn slice_keys_are_written_in_name_order() {
        let mut b = MetricsBuilder::default();
        for (lang, stratum) in [
            ("pt", Stratum::Routine),
            ("pt-BR", Stratum::Edge),
            ("pt", Stratum::Adversarial),
            ("en", Stratum::Refusal),
        ] {
            b.add(&CaseResult::fixture(
                lang,
                stratum,
                ExpectedOutcome::Resolve,
                ObservedOutcome::Resolved,
                true,
            ));
        }
        let m = b.finish();
        let text = serde_json::to_string(&m).unwrap();
        // The keys in the order written (a serde_json::Value would sort them itself).
        let written_in_order = |keys: &[&str]| {
            let at: Vec<usize> = keys
                .iter()
                .map(|k| text.find(&format!("\"{k}\":{{")).unwrap())
                .collect();
            assert!(at.is_sorted(), "{keys:?} out of order in {text}");
        };
        written_in_order(&["adversarial", "edge", "refusal", "routine"]);
        // `-` sorts before `/`: the order the names always had.
        let cells = ["en/refusal", "pt-BR/edge", "pt/adversarial", "pt/routine"];
        written_in_order(&cells);
        let in_memory: Vec<String> = m.by_language_stratum.keys().map(Cell::to_string).collect();
        assert_eq!(in_memory, cells);
        let back: Metrics = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }

    #[test]
    fn a_cell_name_must_name_a_stratum() {
        assert_eq!(Cell::parse("pl/edge"), Some(Cell::new("pl", Stratum::Edge)));
        for bad in ["pl", "pl/", "/edge", "pl/sideways", ""] {
            assert_eq!(Cell::parse(bad), None, "{bad}");
        }
        let err = serde_json::from_str::<BTreeMap<Cell, u64>>(r#"{"pl-edge": 1}"#).unwrap_err();
        assert!(err.to_string().contains("such as `pl/edge`"), "{err}");
    }

    #[test]
    fn empty_denominators_are_null() {
        let m = MetricsBuilder::default().finish().overall;
        assert_eq!(m.pass_rate, None);
        assert_eq!(m.latency_ms, None);
    }

    #[test]
    fn pass_hat_k_and_flaky_cases() {
        assert_eq!(binomial_ratio(3, 3, 3), 1.0);
        assert_eq!(binomial_ratio(2, 3, 3), 0.0);
        assert!(
            (binomial_ratio(3, 4, 2) - 0.5).abs() < 1e-12,
            "C(3,2)/C(4,2) = 3/6"
        );
        let mut b = RepeatsBuilder::new(3);
        for (key, passed) in [("a", true), ("a", true), ("b", true), ("b", false)] {
            let mut r = result(ExpectedOutcome::Resolve, ObservedOutcome::Resolved, passed);
            r.key = key.into();
            b.add(&r);
        }
        let s = b.finish(2).unwrap();
        assert_eq!(s.pass_at_1, Some(0.75));
        assert_eq!(s.pass_pow_k, Some(0.5));
        assert_eq!(s.flaky, ["b"]);
        assert_eq!(RepeatsBuilder::new(1).finish(1), None);
    }
}
