//! Which results a person labels: a seeded random sample of N per language, spread over
//! the strata so that rare kinds of conversation (refusals, attacks) are not drowned out
//! by routine ones.

use std::collections::BTreeMap;

use crate::evalset::Stratum;
use crate::result::CaseResult;

/// Up to `per_language` results of each language, drawn with `seed`.
///
/// Only results the judge gave a verdict on are drawn: a result that ended in an error,
/// that no judge read (or whose judge erred), or whose transcript has no hash to bind a
/// label to has nothing a label could be matched against, and a person's time on it
/// would be lost. Within a language each stratum is shuffled and the strata are taken in
/// turn, so a sample smaller than the language holds covers every stratum the language
/// has. The input order does not
/// matter (results are sorted by key and repeat first), so a run written by many workers
/// gives the same sample for the same seed.
pub fn sample(results: Vec<CaseResult>, per_language: usize, seed: u64) -> Vec<CaseResult> {
    let mut by_language: BTreeMap<String, BTreeMap<Stratum, Vec<CaseResult>>> = BTreeMap::new();
    let mut labellable: Vec<CaseResult> = results.into_iter().filter(labellable_result).collect();
    labellable.sort_by(|a, b| (&a.key, a.repeat).cmp(&(&b.key, b.repeat)));
    for r in labellable {
        by_language
            .entry(r.language.clone())
            .or_default()
            .entry(r.stratum)
            .or_default()
            .push(r);
    }
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut chosen = Vec::new();
    for strata in by_language.into_values() {
        let mut queues: Vec<std::vec::IntoIter<CaseResult>> = strata
            .into_values()
            .map(|mut results| {
                rng.shuffle(&mut results);
                results.into_iter()
            })
            .collect();
        let mut taken = 0;
        while taken < per_language {
            let before = taken;
            for queue in &mut queues {
                if taken == per_language {
                    break;
                }
                if let Some(r) = queue.next() {
                    chosen.push(r);
                    taken += 1;
                }
            }
            if taken == before {
                break; // every stratum is used up
            }
        }
    }
    chosen
}

/// A result whose label `evalgate calibrate` can match to a judge's verdict.
pub fn labellable_result(r: &CaseResult) -> bool {
    let judged = r.judge.as_ref().is_some_and(|j| j.error.is_none());
    judged && r.error.is_none() && !r.transcript_sha256.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evalset::ExpectedOutcome;
    use crate::result::{JudgeVerdict, ObservedOutcome};

    fn verdict(error: Option<&str>) -> JudgeVerdict {
        JudgeVerdict {
            model: "judge".into(),
            criteria: Vec::new(),
            outcome: Some(ObservedOutcome::Resolved),
            unsupported_claims: Vec::new(),
            error: error.map(String::from),
        }
    }

    fn result(key: &str, stratum: Stratum, repeat: u32) -> CaseResult {
        let mut r = CaseResult::fixture(
            "en",
            stratum,
            ExpectedOutcome::Resolve,
            ObservedOutcome::Resolved,
            true,
        );
        r.key = key.to_string();
        r.language = key.split('/').next().unwrap().to_string();
        r.stratum = stratum;
        r.repeat = repeat;
        r.transcript_sha256 = format!("sha-{key}-{repeat}");
        r.error = None;
        r.judge = Some(verdict(None));
        r
    }

    fn run() -> Vec<CaseResult> {
        let mut rs = Vec::new();
        for i in 0..40 {
            rs.push(result(&format!("en/routine{i}"), Stratum::Routine, 1));
        }
        for i in 0..3 {
            rs.push(result(&format!("en/attack{i}"), Stratum::Adversarial, 1));
        }
        for i in 0..4 {
            rs.push(result(&format!("pl/edge{i}"), Stratum::Edge, 1));
        }
        rs
    }

    fn keys(rs: &[CaseResult]) -> Vec<String> {
        rs.iter()
            .map(|r| format!("{}#{}", r.key, r.repeat))
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_sample_whatever_the_file_order() {
        let a = sample(run(), 10, 7);
        let mut shuffled = run();
        shuffled.reverse();
        assert_eq!(keys(&a), keys(&sample(shuffled, 10, 7)));
        assert_ne!(
            keys(&a),
            keys(&sample(run(), 10, 8)),
            "another seed, another sample"
        );
    }

    #[test]
    fn takes_n_per_language_and_no_more_than_there_are() {
        let s = sample(run(), 10, 1);
        let en = s.iter().filter(|r| r.language == "en").count();
        let pl = s.iter().filter(|r| r.language == "pl").count();
        assert_eq!((en, pl), (10, 4));
        let mut unique = keys(&s);
        unique.dedup();
        assert_eq!(unique.len(), 14, "no result twice");
    }

    #[test]
    fn every_stratum_of_a_language_is_represented() {
        let s = sample(run(), 6, 3);
        let attacks = s
            .iter()
            .filter(|r| r.stratum == Stratum::Adversarial)
            .count();
        // 40 routine and 3 adversarial: a plain draw of 6 would mostly miss the attacks.
        assert_eq!(attacks, 3, "{:?}", keys(&s));
    }

    #[test]
    fn results_with_errors_no_verdict_or_no_transcript_hash_are_left_out() {
        let mut broken = result("en/broken", Stratum::Routine, 1);
        broken.error = Some("timeout".into());
        let mut unhashed = result("en/old", Stratum::Routine, 1);
        unhashed.transcript_sha256.clear();
        let mut unjudged = result("en/unjudged", Stratum::Routine, 1);
        unjudged.judge = None;
        let mut judge_failed = result("en/judge-failed", Stratum::Routine, 1);
        judge_failed.judge = Some(verdict(Some("judge timed out")));
        let ok = result("en/ok", Stratum::Routine, 1);
        let s = sample(vec![broken, unhashed, unjudged, judge_failed, ok], 30, 1);
        assert_eq!(keys(&s), vec!["en/ok#1"]);
    }

    #[test]
    fn repeats_of_a_case_are_separate_results() {
        let rs = vec![
            result("en/a", Stratum::Routine, 1),
            result("en/a", Stratum::Routine, 2),
        ];
        assert_eq!(sample(rs, 30, 1).len(), 2);
    }
}
