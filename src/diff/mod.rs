//! Comparing two runs: every case classified (regressed, fixed, …), every slice's metric
//! deltas, a paired exact McNemar test per slice with Holm's correction, details of each
//! regressed case, the prompt diff, and loud warnings when the runs are not comparable.

pub mod parity;
pub mod text;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::evalset::Stratum;
use crate::metrics::{Cell, Metrics, SliceMetrics};
use crate::result::{CaseResult, Check};
use crate::rundir::{RunDir, read_lines};
use crate::stats::{holm, mcnemar_exact};
use crate::summary::{PromptInfo, RunSummary};

/// Significance level for slice regressions, after Holm's correction.
pub const ALPHA: f64 = 0.05;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Regressed,
    Fixed,
    StillFailing,
    StillPassing,
    Added,
    Removed,
}

impl CaseStatus {
    pub fn name(self) -> &'static str {
        match self {
            CaseStatus::Regressed => "regressed",
            CaseStatus::Fixed => "fixed",
            CaseStatus::StillFailing => "still_failing",
            CaseStatus::StillPassing => "still_passing",
            CaseStatus::Added => "added",
            CaseStatus::Removed => "removed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRef {
    pub dir: String,
    pub run_id: String,
    pub prompt: PromptInfo,
    pub evalset_hash: String,
    pub judge: Option<String>,
    pub scoring_version: u32,
    /// The label of the bot under test (`bot.version`, `--bot-version`), if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_version: Option<String>,
}

impl RunRef {
    fn of(run: &RunDir) -> RunRef {
        let m = &run.summary.meta;
        RunRef {
            dir: run.dir.display().to_string(),
            run_id: m.run_id.clone(),
            prompt: m.prompt.clone(),
            evalset_hash: m.evalset_hash.clone(),
            judge: m.judge.clone(),
            scoring_version: m.scoring_version,
            bot_version: m.bot.version.clone(),
        }
    }
}

/// A case whose status is not "still passing"/"still failing", kept for the listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangedCase {
    pub key: String,
    pub repeat: u32,
    pub language: String,
    pub stratum: Stratum,
    pub status: CaseStatus,
    /// The case's repeats disagree in either run.
    pub flaky: bool,
    /// Either side ended in an error rather than a verdict.
    pub error: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressedCase {
    pub key: String,
    pub repeat: u32,
    pub language: String,
    pub stratum: Stratum,
    pub flaky: bool,
    pub failing_checks: Vec<Check>,
    pub judge_reasons: Vec<String>,
    pub old_reply: String,
    pub new_reply: String,
    pub reply_diff: Vec<text::WordChange>,
    pub new_error: Option<String>,
    /// The new run's conversation turn by turn, when its customer was simulated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub simulated_transcript: Vec<String>,
}

/// One metric's value in both runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    pub base: Option<f64>,
    pub new: Option<f64>,
    pub delta: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceDiff {
    /// `overall`, `language`, `stratum`, `language_stratum` or `intent`.
    pub dimension: String,
    pub slice: String,
    pub metrics: BTreeMap<String, Delta>,
    /// Pairs scored in both runs (errors left out).
    pub pairs: u64,
    /// pass → fail.
    pub regressed: u64,
    /// fail → pass.
    pub fixed: u64,
    pub p_value: f64,
    pub p_adjusted: f64,
    pub significant_regression: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    pub base: RunRef,
    pub new: RunRef,
    pub comparable: bool,
    pub warnings: Vec<String>,
    pub prompt_diff: Option<String>,
    pub counts: BTreeMap<String, u64>,
    pub significant_regressions: u64,
    pub slices: Vec<SliceDiff>,
    pub changed: Vec<ChangedCase>,
    pub regressions: Vec<RegressedCase>,
    pub parity: parity::Parity,
}

impl Diff {
    pub fn significant(&self) -> impl Iterator<Item = &SliceDiff> {
        self.slices.iter().filter(|s| s.significant_regression)
    }
}

/// The few fields of a result that a diff needs for every case; full results are read
/// again only for regressed cases, so two runs of 35,000 cases fit in little memory.
#[derive(Debug, Clone, Deserialize)]
struct Verdict {
    key: String,
    repeat: u32,
    language: String,
    stratum: Stratum,
    #[serde(default)]
    intent: Option<String>,
    passed: bool,
    #[serde(default)]
    error: Option<String>,
}

type Id = (String, u32);

fn load_verdicts(run: &RunDir) -> Result<BTreeMap<Id, Verdict>, String> {
    let mut map = BTreeMap::new();
    read_lines(&run.results_path(), |v: Verdict| {
        // A resumed run may hold a key twice; the later line is the newer verdict.
        map.insert((v.key.clone(), v.repeat), v);
    })?;
    Ok(map)
}

/// Case keys whose repeats disagree.
fn flaky_keys(verdicts: &BTreeMap<Id, Verdict>) -> BTreeSet<String> {
    let mut seen: HashMap<&str, (bool, bool)> = HashMap::new();
    for v in verdicts.values().filter(|v| v.error.is_none()) {
        let e = seen.entry(v.key.as_str()).or_insert((false, false));
        if v.passed {
            e.0 = true;
        } else {
            e.1 = true;
        }
    }
    seen.into_iter()
        .filter(|(_, (p, f))| *p && *f)
        .map(|(k, _)| k.to_string())
        .collect()
}

pub fn compare(base: &RunDir, new: &RunDir) -> Result<Diff, String> {
    let base_v = load_verdicts(base)?;
    let new_v = load_verdicts(new)?;
    let mut flaky = flaky_keys(&base_v);
    flaky.extend(flaky_keys(&new_v));

    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut changed = Vec::new();
    // Pairs, pass → fail and fail → pass per slice.
    let mut tallies: HashMap<Slice, (u64, u64, u64)> = HashMap::new();
    let all_ids: BTreeSet<&Id> = base_v.keys().chain(new_v.keys()).collect();
    for id in all_ids {
        let (b, n) = (base_v.get(id), new_v.get(id));
        let status = match (b, n) {
            (Some(b), Some(n)) => match (b.passed, n.passed) {
                (true, false) => CaseStatus::Regressed,
                (false, true) => CaseStatus::Fixed,
                (false, false) => CaseStatus::StillFailing,
                (true, true) => CaseStatus::StillPassing,
            },
            (None, Some(_)) => CaseStatus::Added,
            (Some(_), None) => CaseStatus::Removed,
            (None, None) => continue,
        };
        *counts.entry(status.name().to_string()).or_default() += 1;
        let Some(v) = n.or(b) else { continue };
        let error = b.is_some_and(|b| b.error.is_some()) || n.is_some_and(|n| n.error.is_some());
        if let (Some(b), Some(n)) = (b, n)
            && !error
        {
            for slice in slices_of(v) {
                let t = tallies.entry(slice).or_default();
                t.0 += 1;
                t.1 += u64::from(b.passed && !n.passed);
                t.2 += u64::from(!b.passed && n.passed);
            }
        }
        if !matches!(status, CaseStatus::StillPassing | CaseStatus::StillFailing) {
            changed.push(ChangedCase {
                key: id.0.clone(),
                repeat: id.1,
                language: v.language.clone(),
                stratum: v.stratum,
                status,
                flaky: flaky.contains(&id.0),
                error,
            });
        }
    }

    let mut slices = slice_diffs(&base.summary.metrics, &new.summary.metrics, &tallies);
    let adjusted = holm(&slices.iter().map(|s| s.p_value).collect::<Vec<_>>());
    for (s, p) in slices.iter_mut().zip(adjusted) {
        s.p_adjusted = p;
        s.significant_regression = p < ALPHA && s.regressed > s.fixed;
    }
    // Every slice the diff calls significant counts, overall included: a regression
    // spread thinly over languages may be significant only as a whole.
    let significant_regressions = slices.iter().filter(|s| s.significant_regression).count() as u64;

    let regressed_ids: BTreeSet<Id> = changed
        .iter()
        .filter(|c| c.status == CaseStatus::Regressed)
        .map(|c| (c.key.clone(), c.repeat))
        .collect();
    let regressions = regressed_details(base, new, &regressed_ids, &flaky)?;

    let warnings = comparability_warnings(&base.summary, &new.summary);
    let parity = parity::from_results(new.results_path().as_path())?;
    let prompt_diff = match (base.prompt_text(), new.prompt_text()) {
        (Some(o), Some(n)) => text::prompt_diff(&o, &n),
        _ => None,
    };
    Ok(Diff {
        base: RunRef::of(base),
        new: RunRef::of(new),
        comparable: warnings.is_empty(),
        warnings,
        prompt_diff,
        counts,
        significant_regressions,
        slices,
        changed,
        regressions,
        parity,
    })
}

/// A slice of a run the diff tests, as the key its case pairs are counted under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slice {
    Overall,
    Language(String),
    Stratum(Stratum),
    Cell(Cell),
    Intent(String),
}

impl Slice {
    fn dimension(&self) -> &'static str {
        match self {
            Slice::Overall => "overall",
            Slice::Language(_) => "language",
            Slice::Stratum(_) => "stratum",
            Slice::Cell(_) => "language_stratum",
            Slice::Intent(_) => "intent",
        }
    }

    /// Its name in the diff, as in summary.json.
    fn name(&self) -> String {
        match self {
            Slice::Overall => "all".to_string(),
            Slice::Language(l) | Slice::Intent(l) => l.clone(),
            Slice::Stratum(s) => s.name().to_string(),
            Slice::Cell(c) => c.to_string(),
        }
    }

    fn metrics<'m>(&self, m: &'m Metrics) -> Option<&'m SliceMetrics> {
        match self {
            Slice::Overall => Some(&m.overall),
            Slice::Language(l) => m.by_language.get(l),
            Slice::Stratum(s) => m.by_stratum.get(s),
            Slice::Cell(c) => m.by_language_stratum.get(c),
            Slice::Intent(i) => m.by_intent.get(i),
        }
    }
}

fn slices_of(v: &Verdict) -> Vec<Slice> {
    let mut s = vec![
        Slice::Overall,
        Slice::Language(v.language.clone()),
        Slice::Stratum(v.stratum),
        Slice::Cell(Cell::new(v.language.as_str(), v.stratum)),
    ];
    if let Some(intent) = &v.intent {
        s.push(Slice::Intent(intent.clone()));
    }
    s
}

/// The slices of either run, overall first, then by dimension, each in name order.
fn slices_of_runs(base: &Metrics, new: &Metrics) -> Vec<Slice> {
    fn both<K: Ord + Clone>(
        pick: impl Fn(&Metrics) -> &BTreeMap<K, SliceMetrics>,
        base: &Metrics,
        new: &Metrics,
    ) -> Vec<K> {
        let keys: BTreeSet<&K> = pick(base).keys().chain(pick(new).keys()).collect();
        keys.into_iter().cloned().collect()
    }
    let mut strata = both(|m| &m.by_stratum, base, new);
    // By name, as a diff has always listed them, not in the order strata are declared.
    strata.sort_unstable_by_key(|s| s.name());
    std::iter::once(Slice::Overall)
        .chain(
            both(|m| &m.by_language, base, new)
                .into_iter()
                .map(Slice::Language),
        )
        .chain(strata.into_iter().map(Slice::Stratum))
        .chain(
            both(|m| &m.by_language_stratum, base, new)
                .into_iter()
                .map(Slice::Cell),
        )
        .chain(
            both(|m| &m.by_intent, base, new)
                .into_iter()
                .map(Slice::Intent),
        )
        .collect()
}

fn slice_diffs(
    base: &Metrics,
    new: &Metrics,
    tallies: &HashMap<Slice, (u64, u64, u64)>,
) -> Vec<SliceDiff> {
    slices_of_runs(base, new)
        .iter()
        .map(|slice| slice_diff(slice, slice.metrics(base), slice.metrics(new), tallies))
        .collect()
}

fn slice_diff(
    slice: &Slice,
    base: Option<&SliceMetrics>,
    new: Option<&SliceMetrics>,
    tallies: &HashMap<Slice, (u64, u64, u64)>,
) -> SliceDiff {
    let (pairs, regressed, fixed) = tallies.get(slice).copied().unwrap_or_default();
    SliceDiff {
        dimension: slice.dimension().to_string(),
        slice: slice.name(),
        metrics: metric_deltas(base, new),
        pairs,
        regressed,
        fixed,
        p_value: mcnemar_exact(regressed, fixed),
        p_adjusted: 1.0,
        significant_regression: false,
    }
}

/// Every scalar metric of the slice, side by side.
fn metric_deltas(
    base: Option<&SliceMetrics>,
    new: Option<&SliceMetrics>,
) -> BTreeMap<String, Delta> {
    let scalars = |m: Option<&SliceMetrics>| -> BTreeMap<String, Option<f64>> {
        let Some(m) = m else { return BTreeMap::new() };
        let p95 = m.latency_ms.map(|l| l.p95 as f64);
        [
            ("pass_rate", m.pass_rate),
            ("containment_rate", m.containment_rate),
            ("resolution_rate", m.resolution_rate),
            ("deflection_gap", m.deflection_gap),
            ("deflection_rate", m.deflection_rate),
            ("missed_escalations", Some(m.missed_escalations as f64)),
            ("over_escalation_rate", m.over_escalation_rate),
            ("refusal_accuracy", m.refusal_accuracy),
            ("over_refusal_rate", m.over_refusal_rate),
            ("attack_success_rate", m.attack_success_rate),
            ("language_match_rate", m.language_match_rate),
            ("error_rate", m.error_rate),
            ("p95_latency_ms", p95),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    };
    let (b, n) = (scalars(base), scalars(new));
    let names: BTreeSet<&String> = b.keys().chain(n.keys()).collect();
    names
        .into_iter()
        .map(|name| {
            let bv = b.get(name).copied().flatten();
            let nv = n.get(name).copied().flatten();
            let delta = match (bv, nv) {
                (Some(x), Some(y)) => Some(y - x),
                _ => None,
            };
            (
                name.clone(),
                Delta {
                    base: bv,
                    new: nv,
                    delta,
                },
            )
        })
        .collect()
}

fn regressed_details(
    base: &RunDir,
    new: &RunDir,
    ids: &BTreeSet<Id>,
    flaky: &BTreeSet<String>,
) -> Result<Vec<RegressedCase>, String> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut old_replies: HashMap<Id, String> = HashMap::new();
    base.for_each_result(|r| {
        let id = r.id();
        if ids.contains(&id) {
            old_replies.insert(id, r.reply);
        }
    })?;
    let mut out: BTreeMap<Id, RegressedCase> = BTreeMap::new();
    new.for_each_result(|r: CaseResult| {
        let id = r.id();
        if !ids.contains(&id) {
            return;
        }
        let old_reply = old_replies.get(&id).cloned().unwrap_or_default();
        let judge_reasons = r
            .judge
            .as_ref()
            .map(|j| {
                j.criteria
                    .iter()
                    .filter(|c| !c.passed)
                    .map(|c| format!("{}: {}", c.criterion, c.reason))
                    .collect()
            })
            .unwrap_or_default();
        out.insert(
            id,
            RegressedCase {
                key: r.key.clone(),
                repeat: r.repeat,
                language: r.language.clone(),
                stratum: r.stratum,
                flaky: flaky.contains(&r.key),
                failing_checks: r.failing_checks().cloned().collect(),
                judge_reasons,
                reply_diff: text::word_diff(&old_reply, &r.reply),
                simulated_transcript: crate::simulator::transcript::transcript_lines(&r),
                old_reply,
                new_reply: r.reply,
                new_error: r.error,
            },
        );
    })?;
    Ok(out.into_values().collect())
}

fn comparability_warnings(base: &RunSummary, new: &RunSummary) -> Vec<String> {
    let (b, n) = (&base.meta, &new.meta);
    let mut w = Vec::new();
    if b.evalset_hash != n.evalset_hash {
        w.push(format!(
            "the eval sets differ ({} vs {}): cases may have changed meaning between the runs",
            crate::summary::short_hash(&b.evalset_hash),
            crate::summary::short_hash(&n.evalset_hash)
        ));
    }
    if b.judge != n.judge {
        w.push(format!(
            "the judge differs ({} vs {})",
            b.judge.as_deref().unwrap_or("none"),
            n.judge.as_deref().unwrap_or("none")
        ));
    }
    if b.simulator != n.simulator {
        w.push(format!(
            "THE CUSTOMER SIMULATOR DIFFERS ({} vs {}): simulated conversations are not comparable; a changed simulator model or prompt alone can move pass^1 by many points",
            b.simulator.as_deref().unwrap_or("none"),
            n.simulator.as_deref().unwrap_or("none")
        ));
    }
    if b.knowledge_hash != n.knowledge_hash {
        w.push("the judge's knowledge-base files differ".to_string());
    }
    if b.scoring_version != n.scoring_version {
        w.push(format!(
            "the scoring version differs ({} vs {})",
            b.scoring_version, n.scoring_version
        ));
    }
    if b.filters != n.filters {
        w.push(format!(
            "the case selections differ ({:?} vs {:?})",
            b.filters, n.filters
        ));
    }
    if b.repeats != n.repeats {
        w.push(format!(
            "the repeat counts differ ({} vs {})",
            b.repeats, n.repeats
        ));
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evalset::ExpectedOutcome;
    use crate::metrics::MetricsBuilder;
    use crate::result::ObservedOutcome;
    use crate::summary::RunSummary;
    use crate::test_support::TempDir;

    /// Writes a run directory holding one result per (key, passed).
    fn run_dir(dir: &TempDir, cases: &[(&str, bool)]) -> RunDir {
        run_dir_with(dir, cases, &[])
    }

    /// Like [`run_dir`], with the keys in `errors` ending in errors.
    fn run_dir_with(dir: &TempDir, cases: &[(&str, bool)], errors: &[&str]) -> RunDir {
        let mut lines = String::new();
        let mut metrics = MetricsBuilder::default();
        for (key, passed) in cases {
            let observed = if errors.contains(key) {
                ObservedOutcome::Error
            } else if *passed {
                ObservedOutcome::Resolved
            } else {
                ObservedOutcome::Deflected
            };
            let mut r = CaseResult::fixture(
                &key[..2],
                Stratum::Routine,
                ExpectedOutcome::Resolve,
                observed,
                *passed,
            );
            r.key = key.to_string();
            r.reply = if *passed {
                "arrives 28 November".into()
            } else {
                "arrives soon".into()
            };
            metrics.add(&r);
            lines.push_str(&serde_json::to_string(&r).unwrap());
            lines.push('\n');
        }
        std::fs::write(dir.join(crate::rundir::RESULTS_FILE), lines).unwrap();
        RunSummary::fixture(metrics.finish())
            .write(&dir.join(crate::rundir::SUMMARY_FILE))
            .unwrap();
        RunDir::open(dir).unwrap()
    }

    /// The deflection gap is compared next to the pair it is the difference of.
    #[test]
    fn the_deflection_gap_is_among_the_compared_metrics() {
        let (base_dir, new_dir) = (TempDir::new("diff-gap-base"), TempDir::new("diff-gap-new"));
        let base = run_dir(&base_dir, &[("en/a", true), ("en/b", true)]);
        let new = run_dir(&new_dir, &[("en/a", true), ("en/b", false)]);
        let d = compare(&base, &new).unwrap();
        let overall = d.slices.iter().find(|s| s.dimension == "overall").unwrap();
        let gap = &overall.metrics["deflection_gap"];
        assert_eq!(
            (gap.base, gap.new, gap.delta),
            (Some(0.0), Some(0.5), Some(0.5))
        );
    }

    /// A case that passed and now ends in an error was not measured: it is no pair for
    /// McNemar, so errors alone never make a significant regression.
    #[test]
    fn errors_are_not_paired_in_the_slice_tests() {
        let keys: Vec<String> = (0..12).map(|i| format!("en/{i:02}")).collect();
        let base_cases: Vec<(&str, bool)> = keys.iter().map(|k| (k.as_str(), true)).collect();
        let new_cases: Vec<(&str, bool)> = keys.iter().map(|k| (k.as_str(), false)).collect();
        let errored: Vec<&str> = keys.iter().map(String::as_str).collect();
        let (base_dir, new_dir) = (TempDir::new("diff-err-base"), TempDir::new("diff-err-new"));
        let base = run_dir(&base_dir, &base_cases);
        let new = run_dir_with(&new_dir, &new_cases, &errored);
        let d = compare(&base, &new).unwrap();
        let overall = d.slices.iter().find(|s| s.dimension == "overall").unwrap();
        assert_eq!((overall.pairs, overall.regressed), (0, 0), "{overall:?}");
        assert_eq!(d.significant_regressions, 0);
        assert!(d.changed.iter().all(|c| c.error));
    }

    /// Seven regressed of seven is p = 1/64 alone, but not once corrected for the five
    /// slices tested (Holm): no significant regression.
    #[test]
    fn significance_is_decided_after_holm() {
        let keys: Vec<String> = (0..7).map(|i| format!("en/{i:02}")).collect();
        let base_cases: Vec<(&str, bool)> = keys.iter().map(|k| (k.as_str(), true)).collect();
        let new_cases: Vec<(&str, bool)> = keys.iter().map(|k| (k.as_str(), false)).collect();
        let (base_dir, new_dir) = (
            TempDir::new("diff-holm-base"),
            TempDir::new("diff-holm-new"),
        );
        let d = compare(
            &run_dir(&base_dir, &base_cases),
            &run_dir(&new_dir, &new_cases),
        )
        .unwrap();
        let overall = d.slices.iter().find(|s| s.dimension == "overall").unwrap();
        assert!(overall.p_value < ALPHA, "{overall:?}");
        assert!(overall.p_adjusted >= ALPHA, "{overall:?}");
        assert_eq!(d.significant_regressions, 0);
        assert_eq!(d.significant().count(), 0);
    }

    #[test]
    fn classifies_every_case_and_tests_slices() {
        let mut base_cases = vec![
            ("en/a", true),
            ("en/b", false),
            ("en/c", true),
            ("en/d", false),
            ("en/gone", true),
        ];
        let mut new_cases = vec![
            ("en/a", false),
            ("en/b", true),
            ("en/c", true),
            ("en/d", false),
            ("en/new", true),
        ];
        // Ten Polish cases that all regress: p = 2/1024, significant even after Holm
        // over the seven slices tested (eight would not be: 7 × 2/256 > 0.05).
        let pl: Vec<String> = (0..10).map(|i| format!("pl/{i}")).collect();
        for k in &pl {
            base_cases.push((k.as_str(), true));
            new_cases.push((k.as_str(), false));
        }
        let (base_dir, new_dir) = (TempDir::new("diff-base"), TempDir::new("diff-new"));
        let base = run_dir(&base_dir, &base_cases);
        let new = run_dir(&new_dir, &new_cases);
        let d = compare(&base, &new).unwrap();
        let count = |s: &str| d.counts.get(s).copied().unwrap_or(0);
        assert_eq!(count("regressed"), 11);
        assert_eq!(
            (
                count("fixed"),
                count("still_passing"),
                count("still_failing")
            ),
            (1, 1, 1)
        );
        assert_eq!((count("added"), count("removed")), (1, 1));
        let lang = |l: &str| {
            d.slices
                .iter()
                .find(|s| s.dimension == "language" && s.slice == l)
                .unwrap()
        };
        assert!(lang("pl").significant_regression, "{:?}", lang("pl"));
        assert!(
            !lang("en").significant_regression,
            "one regressed and one fixed is no regression"
        );
        let significant: Vec<String> = d
            .significant()
            .map(|s| format!("{} {}", s.dimension, s.slice))
            .collect();
        assert_eq!(
            significant,
            [
                "overall all",
                "language pl",
                "stratum routine",
                "language_stratum pl/routine",
                "intent refund"
            ]
        );
        assert_eq!(
            d.significant_regressions, 5,
            "every significant slice, overall included"
        );
        let a = d.regressions.iter().find(|r| r.key == "en/a").unwrap();
        assert_eq!(
            text::inline(&a.reply_diff),
            "arrives [-28 November-]{+soon+}"
        );
    }

    /// A changed customer simulator makes simulated conversations incomparable, and says so
    /// loudly; the same simulator says nothing.
    #[test]
    fn a_changed_simulator_is_a_loud_warning() {
        let base = RunSummary::fixture(MetricsBuilder::default().finish());
        let mut new = base.clone();
        assert!(comparability_warnings(&base, &new).is_empty());
        new.meta.simulator = Some("gpt-x (prompt sha256:abc)".into());
        let w = comparability_warnings(&base, &new);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("THE CUSTOMER SIMULATOR DIFFERS (none vs gpt-x"),
            "{w:?}"
        );
        assert!(w[0].contains("pass^1"), "{w:?}");
    }
}
