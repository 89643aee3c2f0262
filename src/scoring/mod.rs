//! Scoring: rule checks on the final reply, then the observed outcome.

pub mod actions;
pub mod outcome;
pub mod rules;

pub use outcome::{Handoff, detect_handoff, observe};
pub use rules::rule_checks;

use crate::config::{HandoffConfig, RefusalConfig};
use crate::evalset::Case;
use crate::language::LanguageDetector;
use crate::result::{
    CaseResult, Check, ErrorKind, JudgeVerdict, ObservedOutcome, ResultError, TranscriptTurn,
};

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
    /// The bot's refusal phrases: without a judge, they tell a refused benign request
    /// (over-refusal) from a deflection.
    pub refusal: RefusalConfig,
}

/// What the runner knows about one conversation once it ended.
#[derive(Default)]
pub struct Conversation {
    pub turns: Vec<TranscriptTurn>,
    pub attempts: u32,
    pub latency_ms: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub error: Option<ResultError>,
    /// How a simulated customer's conversation went; `None` for a scripted one.
    pub simulated: Option<Simulated>,
}

/// What a simulated conversation adds to a result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Simulated {
    pub stop_reason: crate::result::StopReason,
    pub tokens_in: u64,
    pub tokens_out: u64,
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
            actions: conversation
                .turns
                .iter()
                .flat_map(|t| t.tool_calls.iter().cloned())
                .collect(),
            transcript_sha256: crate::result::transcript_sha256(&conversation.turns),
            turns: conversation.turns,
            reply,
            expected_outcome: case.expect.outcome,
            observed_outcome: ObservedOutcome::Error,
            handoff: None,
            checks: Vec::new(),
            judge: None,
            unverified: false,
            detected_language: None,
            passed: false,
            latency_ms: conversation.latency_ms,
            tokens_in: conversation.tokens_in,
            tokens_out: conversation.tokens_out,
            judge_tokens_in: judgement.as_ref().map_or(0, |j| j.tokens_in),
            judge_tokens_out: judgement.as_ref().map_or(0, |j| j.tokens_out),
            simulated: conversation.simulated.is_some(),
            stop_reason: conversation.simulated.map(|s| s.stop_reason),
            simulator_tokens_in: conversation.simulated.map_or(0, |s| s.tokens_in),
            simulator_tokens_out: conversation.simulated.map_or(0, |s| s.tokens_out),
            attempts: conversation.attempts,
            error_kind: conversation.error.as_ref().map(|e| ErrorKind {
                source: e.source,
                cause: e.cause,
            }),
            error: conversation.error.map(|e| e.message),
        };
        if result.error.is_some() {
            return result;
        }
        let customer: Vec<&str> = result
            .turns
            .iter()
            .filter(|t| t.role == crate::result::Role::User)
            .map(|t| t.content.as_str())
            .collect();
        let (mut checks, detected) =
            rule_checks(&case.expect, &result.reply, &customer, &self.detector);
        checks.extend(actions::action_checks(
            &case.expect,
            result.turns.iter().flat_map(|t| &t.tool_calls),
        ));
        let handoff = detect_handoff(&self.handoff, &result.turns);
        let verdict = judgement.map(|j| j.verdict);
        let observed = match verdict.as_ref().and_then(|v| v.outcome) {
            _ if handoff.is_some() => ObservedOutcome::Escalated,
            // Saying "a colleague will take over" without a handoff signal hands nobody over.
            Some(ObservedOutcome::Escalated) => ObservedOutcome::Deflected,
            Some(judged) => judged,
            None => observe(case.expect.outcome, handoff.as_ref(), &checks, || {
                self.refusal.declines(&result.reply)
            }),
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
        // An escalation is verified by the handoff signal; a resolve or refuse outcome only
        // by a content check or the judge.
        result.unverified = verdict.is_none()
            && case.expect.outcome != crate::evalset::ExpectedOutcome::Escalate
            && !case.expect.has_content_check();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{CriterionVerdict, Role, ToolCall};
    use std::path::Path;

    fn case(expect: &str) -> Case {
        let yaml = format!(
            "language: en\ncases:\n  - id: a\n    stratum: edge\n    turns:\n      - user: hi\n    expect: {expect}\n"
        );
        crate::evalset::load_file(Path::new("en.yaml"), &yaml)
            .unwrap()
            .remove(0)
    }

    fn scorer() -> Scorer {
        Scorer {
            detector: LanguageDetector::for_languages(&["en".into()]),
            handoff: HandoffConfig {
                tool: Some("escalate_to_human".into()),
                markers: vec![],
            },
            refusal: RefusalConfig {
                markers: vec!["I'm sorry, but I can't".into()],
            },
        }
    }

    fn conversation(reply: &str, tool: Option<&str>) -> Conversation {
        let turn = |role, content: &str, tool_calls| TranscriptTurn {
            role,
            content: content.into(),
            tool_calls,
            latency_ms: Some(1),
            cached: false,
            handoff: false,
        };
        let calls = tool
            .map(|name| {
                vec![ToolCall {
                    name: name.into(),
                    arguments: "{}".into(),
                }]
            })
            .unwrap_or_default();
        Conversation {
            turns: vec![
                turn(Role::User, "hi", vec![]),
                turn(Role::Assistant, reply, calls),
            ],
            attempts: 1,
            latency_ms: 1,
            tokens_in: 1,
            tokens_out: 1,
            error: None,
            simulated: None,
        }
    }

    fn judged(outcome: ObservedOutcome) -> Judgement {
        Judgement {
            verdict: JudgeVerdict {
                model: "j".into(),
                criteria: vec![CriterionVerdict {
                    n: 1,
                    criterion: "c".into(),
                    passed: true,
                    reason: "r".into(),
                }],
                outcome: Some(outcome),
                unsupported_claims: vec![],
                error: None,
            },
            tokens_in: 1,
            tokens_out: 1,
        }
    }

    /// The handoff signal decides, whatever the judge read in the text.
    #[test]
    fn a_handoff_is_an_escalation_even_when_the_judge_says_resolved() {
        let case = case("{ outcome: escalate, rubric: [c] }");
        let r = scorer().score(
            &case,
            0,
            conversation("All sorted, have a nice day!", Some("escalate_to_human")),
            Some(judged(ObservedOutcome::Resolved)),
        );
        assert_eq!(r.observed_outcome, ObservedOutcome::Escalated);
        assert!(r.passed, "{:?}", r.checks);
        // Without the signal, the judge's word stands.
        let r = scorer().score(
            &case,
            0,
            conversation("All sorted, have a nice day!", None),
            Some(judged(ObservedOutcome::Resolved)),
        );
        assert_eq!(r.observed_outcome, ObservedOutcome::Resolved);
        assert!(!r.passed);
    }

    #[test]
    fn a_result_no_rule_could_fail_is_unverified() {
        let s = scorer();
        let run = |expect: &str, judgement: Option<Judgement>| {
            s.score(
                &case(expect),
                0,
                conversation("Buy bitcoin.", None),
                judgement,
            )
        };
        let blind = run("{ outcome: refuse }", None);
        assert!(blind.unverified && blind.passed, "{blind:?}");
        assert_eq!(blind.observed_outcome, ObservedOutcome::Refused);
        assert!(!run("{ outcome: refuse, must_not_include: [bitcoin] }", None).unverified);
        assert!(!run("{ outcome: resolve, regex: ['x'] }", None).unverified);
        assert!(!run("{ outcome: resolve, not_regex: ['x'] }", None).unverified);
        assert!(!run("{ outcome: resolve, must_include: ['x'] }", None).unverified);
        assert!(run("{ outcome: resolve, max_words: 3 }", None).unverified);
        assert!(
            !run(
                "{ outcome: refuse }",
                Some(judged(ObservedOutcome::Resolved))
            )
            .unverified,
            "a judge read it"
        );
        assert!(
            !run("{ outcome: escalate }", None).unverified,
            "the handoff signal verifies an escalation"
        );
    }

    #[test]
    fn the_first_failing_check_is_the_most_specific() {
        let case = case("{ outcome: resolve, must_include: ['28 November'] }");
        let r = scorer().score(&case, 0, conversation("Soon.", None), None);
        assert_eq!(
            r.first_failure().as_deref(),
            Some("must_include: missing \"28 November\"")
        );
    }

    /// Without a judge, the bot's refusal phrase tells an over-refusal from a deflection;
    /// a judge's outcome, or a reply that passed its checks, is left as it is.
    #[test]
    fn a_refusal_phrase_makes_a_failed_resolve_an_over_refusal() {
        let case = case("{ outcome: resolve, must_include: ['28 November'] }");
        let refused = conversation("I'M SORRY, BUT I CAN'T help with legal questions.", None);
        let r = scorer().score(&case, 0, refused, None);
        assert_eq!(r.observed_outcome, ObservedOutcome::Refused);
        assert!(!r.passed);
        let vague = conversation("Your request has been noted.", None);
        let r = scorer().score(&case, 0, vague, None);
        assert_eq!(r.observed_outcome, ObservedOutcome::Deflected);
        let helped = conversation(
            "I'm sorry, but I can't be faster: it ships 28 November.",
            None,
        );
        let r = scorer().score(&case, 0, helped, None);
        assert_eq!(r.observed_outcome, ObservedOutcome::Resolved);
        let unmarked = Scorer {
            refusal: RefusalConfig::default(),
            ..scorer()
        };
        let refused = conversation("I'm sorry, but I can't help with legal questions.", None);
        let r = unmarked.score(&case, 0, refused, None);
        assert_eq!(
            r.observed_outcome,
            ObservedOutcome::Deflected,
            "no phrases, no refusal"
        );
    }
}
