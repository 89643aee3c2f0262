//! Scoring: rule checks on the final reply, then the observed outcome.

pub mod language;
pub mod outcome;
pub mod rules;

pub use outcome::{Handoff, detect_handoff, observe};
pub use rules::rule_checks;

use crate::config::HandoffConfig;
use crate::evalset::Case;
use crate::result::{CaseResult, Check, JudgeVerdict, ObservedOutcome, TranscriptTurn};
use language::LanguageDetector;

/// Which mode decided the observed outcomes of a run.
pub const OUTCOME_MODE_RULES: &str = "rule-verified";
pub const OUTCOME_MODE_JUDGE: &str = "judge";

/// The judge's verdict on a conversation, with what it cost.
pub struct Judgement {
    pub verdict: JudgeVerdict,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

/// Scores finished conversations; shared read-only by every worker.
pub struct Scorer {
    pub detector: LanguageDetector,
    pub handoff: HandoffConfig,
}

/// What the runner knows about one conversation once it ended.
pub struct Conversation {
    pub turns: Vec<TranscriptTurn>,
    pub attempts: u32,
    pub latency_ms: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub error: Option<String>,
}

impl Scorer {
    pub fn score(
        &self,
        case: &Case,
        repeat: u32,
        conversation: Conversation,
        judgement: Option<Judgement>,
    ) -> CaseResult {
        let reply = conversation
            .turns
            .iter()
            .rev()
            .find(|t| t.role == crate::result::Role::Assistant)
            .map(|t| t.content.clone())
            .unwrap_or_default();
        let mut result = CaseResult {
            key: case.key.clone(),
            language: case.language.clone(),
            stratum: case.stratum,
            intent: case.intent.clone(),
            scenario: case.scenario.clone(),
            repeat,
            turns: conversation.turns,
            reply,
            expected_outcome: case.expect.outcome,
            observed_outcome: ObservedOutcome::Error,
            handoff: None,
            checks: Vec::new(),
            judge: None,
            detected_language: None,
            passed: false,
            latency_ms: conversation.latency_ms,
            tokens_in: conversation.tokens_in,
            tokens_out: conversation.tokens_out,
            judge_tokens_in: judgement.as_ref().map_or(0, |j| j.tokens_in),
            judge_tokens_out: judgement.as_ref().map_or(0, |j| j.tokens_out),
            attempts: conversation.attempts,
            error: conversation.error,
        };
        if result.error.is_some() {
            return result;
        }
        let (mut checks, detected) = rule_checks(&case.expect, &result.reply, &self.detector);
        let handoff = detect_handoff(&self.handoff, &result.turns);
        let verdict = judgement.map(|j| j.verdict);
        let observed = match verdict.as_ref().and_then(|v| v.outcome) {
            _ if handoff.is_some() => ObservedOutcome::Escalated,
            // Saying "a colleague will take over" without a handoff signal hands nobody over.
            Some(ObservedOutcome::Escalated) => ObservedOutcome::Deflected,
            Some(judged) => judged,
            None => observe(case.expect.outcome, handoff.as_ref(), &checks),
        };
        if let Some(v) = &verdict {
            match &v.error {
                Some(e) => checks.push(Check {
                    name: "judge".into(),
                    passed: false,
                    detail: e.clone(),
                }),
                None => {
                    for c in v.criteria.iter().filter(|c| !c.passed) {
                        checks.push(Check {
                            name: format!("rubric {}", c.n),
                            passed: false,
                            detail: format!("{} — {}", c.criterion, c.reason),
                        });
                    }
                }
            }
        }
        result.judge = verdict;
        let wanted = ObservedOutcome::fulfilling(case.expect.outcome);
        checks.push(Check {
            name: "outcome".into(),
            passed: observed == wanted,
            detail: format!("expected {}, observed {}", wanted.name(), observed.name()),
        });
        result.passed = checks.iter().all(|c| c.passed);
        result.checks = checks;
        result.observed_outcome = observed;
        result.handoff = handoff.map(|h| h.0);
        result.detected_language = detected;
        result
    }
}
