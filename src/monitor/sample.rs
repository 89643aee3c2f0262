//! The judge sample: a seeded sample of settled, contained conversations per language,
//! read again from the export and judged with the eval's protocol, for the live
//! deflection and hallucination rates that counts alone cannot show.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;

use super::export::{Speaker, Transcript};
use super::metrics::ContainedByLanguage;
use crate::config::Context;
use crate::evalset::{Case, Expectation, ExpectedOutcome, Stratum};
use crate::judge::{Judge, Judged};
use crate::result::{ObservedOutcome, Role, TranscriptTurn};

/// Up to `per_language` conversation numbers of each language, the same for the same
/// seed and export.
pub fn choose(
    contained: &ContainedByLanguage,
    per_language: usize,
    seed: u64,
) -> BTreeMap<String, Vec<u64>> {
    contained
        .iter()
        .map(|(language, numbers)| {
            // One generator per language, so adding a language leaves the others' samples
            // as they were.
            let mut rng = fastrand::Rng::with_seed(seed ^ super::export::stable_hash(language));
            let mut chosen = numbers.clone();
            rng.shuffle(&mut chosen);
            chosen.truncate(per_language);
            chosen.sort_unstable();
            (language.clone(), chosen)
        })
        .collect()
}

/// Every number in the sample, for the second read of the export.
pub fn wanted(sample: &BTreeMap<String, Vec<u64>>) -> BTreeSet<u64> {
    sample.values().flatten().copied().collect()
}

/// What the judge found in one language's sample.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LiveJudged {
    /// Settled, contained conversations the sample was drawn from.
    pub population: u64,
    pub sampled: u64,
    /// Sampled conversations with a verdict (judge errors left out).
    pub judged: u64,
    pub judge_errors: u64,
    pub deflected: u64,
    pub with_unsupported_claims: u64,
    /// Among judged: the judge's outcome was `deflected`.
    pub live_deflection_rate: Option<f64>,
    /// Among judged: at least one claim the judge found unsupported.
    pub live_hallucination_rate: Option<f64>,
    /// Ids of the conversations that were judged, for whoever reads them next.
    pub conversation_ids: Vec<String>,
}

/// The export's messages as an eval transcript: customer → user, bot → assistant; the
/// bot's part ends where an agent takes over.
pub fn transcript_turns(t: &Transcript) -> Vec<TranscriptTurn> {
    t.messages
        .iter()
        .take_while(|(who, _)| *who != Speaker::Agent)
        .map(|(who, text)| TranscriptTurn {
            role: if *who == Speaker::Customer {
                Role::User
            } else {
                Role::Assistant
            },
            content: text.clone(),
            tool_calls: Vec::new(),
            latency_ms: None,
            cached: false,
            handoff: false,
        })
        .collect()
}

/// A live conversation as the judge's case: a routine request the bot was meant to
/// resolve, with no rubric and no reference (production has none).
fn case_for(t: &Transcript) -> Case {
    Case {
        key: format!("{}/{}", t.language, t.id),
        id: t.id.clone(),
        language: t.language.clone(),
        market: None,
        scenario: None,
        stratum: Stratum::Routine,
        intent: None,
        tags: Vec::new(),
        context: Context::new(),
        turns: Vec::new(),
        simulate: None,
        draft: false,
        derived_from: None,
        expect: Expectation {
            outcome: ExpectedOutcome::Resolve,
            must_include: Vec::new(),
            must_not_include: Vec::new(),
            regex: Vec::new(),
            not_regex: Vec::new(),
            language: Some(t.language.clone()),
            max_words: None,
            rubric: Vec::new(),
            reference: None,
            actions: Vec::new(),
            forbidden_actions: Vec::new(),
        },
        source: PathBuf::from("production export"),
        line: 0,
    }
}

/// Judges every sampled transcript (the judge keeps its own concurrency limit) and tallies
/// the verdicts per language.
pub async fn judge_sample(
    judge: &Judge,
    sample: &BTreeMap<String, Vec<u64>>,
    population: &ContainedByLanguage,
    transcripts: &std::collections::HashMap<u64, Transcript>,
) -> BTreeMap<String, LiveJudged> {
    let jobs = sample.iter().flat_map(|(language, numbers)| {
        numbers
            .iter()
            .filter_map(|n| transcripts.get(n))
            .map(move |t| async move {
                let turns = transcript_turns(t);
                let judged = judge.judge(&case_for(t), &turns, |_| {}).await;
                (language.clone(), t.id.clone(), judged)
            })
    });
    let verdicts = futures_util::future::join_all(jobs).await;
    let mut out: BTreeMap<String, LiveJudged> = sample
        .iter()
        .map(|(language, numbers)| {
            (
                language.clone(),
                LiveJudged {
                    population: population.get(language).map_or(0, |p| p.len() as u64),
                    sampled: numbers.len() as u64,
                    ..LiveJudged::default()
                },
            )
        })
        .collect();
    for (language, id, judged) in verdicts {
        let Some(entry) = out.get_mut(&language) else {
            continue;
        };
        entry.conversation_ids.push(id);
        match judged {
            Judged::Verdict { verdict, .. } if verdict.error.is_none() => {
                entry.judged += 1;
                entry.deflected += u64::from(verdict.outcome == Some(ObservedOutcome::Deflected));
                entry.with_unsupported_claims += u64::from(!verdict.unsupported_claims.is_empty());
            }
            _ => entry.judge_errors += 1,
        }
    }
    for entry in out.values_mut() {
        let rate = |n: u64| (entry.judged > 0).then(|| n as f64 / entry.judged as f64);
        entry.live_deflection_rate = rate(entry.deflected);
        entry.live_hallucination_rate = rate(entry.with_unsupported_claims);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_seeded_and_per_language() {
        let population: ContainedByLanguage = [
            ("en".to_string(), (0..100).collect::<Vec<u64>>()),
            ("pl".to_string(), vec![200, 201, 202]),
        ]
        .into_iter()
        .collect();
        let a = choose(&population, 10, 7);
        assert_eq!(a, choose(&population, 10, 7), "same seed, same sample");
        assert_ne!(
            a["en"],
            choose(&population, 10, 8)["en"],
            "another seed, another sample"
        );
        assert_eq!(a["en"].len(), 10);
        assert!(a["en"].iter().all(|n| *n < 100));
        assert_eq!(
            a["pl"],
            vec![200, 201, 202],
            "a small language gives all it has"
        );
        assert_eq!(wanted(&a).len(), 13);
    }

    #[test]
    fn agent_turns_end_the_bots_part() {
        let t = Transcript {
            id: "c-1".into(),
            language: "pl".into(),
            messages: vec![
                (Speaker::Customer, "Gdzie zwrot?".into()),
                (Speaker::Bot, "Jutro.".into()),
                (Speaker::Agent, "Tu Anna.".into()),
                (Speaker::Bot, "Dziękujemy.".into()),
            ],
        };
        let turns = transcript_turns(&t);
        assert_eq!(turns.len(), 2);
        assert_eq!(
            (turns[0].role, turns[1].role),
            (Role::User, Role::Assistant)
        );
        assert_eq!(case_for(&t).key, "pl/c-1");
    }
}
