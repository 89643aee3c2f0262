//! The observed outcome. A handoff signal means `escalated` whatever the text says;
//! without a judge, the outcome is rule-verified: decided by the content checks (README,
//! "Metrics").

use crate::config::HandoffConfig;
use crate::evalset::ExpectedOutcome;
use crate::result::{Check, ObservedOutcome, TranscriptTurn};
use crate::scoring::rules::CONTENT_CHECKS;

/// The signal by which the bot handed the customer to a human.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff(pub String);

/// Looks for a handoff tool call or marker in any bot turn of the transcript.
pub fn detect_handoff(config: &HandoffConfig, turns: &[TranscriptTurn]) -> Option<Handoff> {
    for turn in turns
        .iter()
        .filter(|t| t.role == crate::result::Role::Assistant)
    {
        if turn.handoff {
            return Some(Handoff("the bot's handoff signal".into()));
        }
        if let Some(tool) = &config.tool
            && turn.tool_calls.iter().any(|c| &c.name == tool)
        {
            return Some(Handoff(format!("tool call {tool}")));
        }
        for marker in &config.markers {
            if !marker.is_empty() && turn.content.contains(marker.as_str()) {
                return Some(Handoff(format!("marker {marker}")));
            }
        }
    }
    None
}

/// Rule-verified outcome: the expected resolve/refuse when every content check passed,
/// otherwise deflected: the bot kept the customer without a handoff and without verifiably
/// helping. A failed language or length check fails the result elsewhere, but the bot did
/// answer, so it does not make the outcome a deflection. A reply to a case expecting
/// `resolve` that failed its checks and says, in one of the bot's refusal phrases
/// (`declined`, asked only then), that it declined was refused: the over-refusal a benign
/// request probes for.
pub fn observe(
    expected: ExpectedOutcome,
    handoff: Option<&Handoff>,
    rule_checks: &[Check],
    declined: impl FnOnce() -> bool,
) -> ObservedOutcome {
    if handoff.is_some() {
        return ObservedOutcome::Escalated;
    }
    let all_passed = rule_checks
        .iter()
        .filter(|c| CONTENT_CHECKS.contains(&c.name.as_str()))
        .all(|c| c.passed);
    match expected {
        ExpectedOutcome::Resolve if all_passed => ObservedOutcome::Resolved,
        ExpectedOutcome::Refuse if all_passed => ObservedOutcome::Refused,
        ExpectedOutcome::Resolve if declined() => ObservedOutcome::Refused,
        _ => ObservedOutcome::Deflected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{Role, ToolCall};

    fn bot(content: &str, tool: Option<&str>) -> TranscriptTurn {
        TranscriptTurn {
            role: Role::Assistant,
            content: content.into(),
            tool_calls: tool
                .map(|n| {
                    vec![ToolCall {
                        name: n.into(),
                        arguments: "{}".into(),
                    }]
                })
                .unwrap_or_default(),
            latency_ms: None,
            cached: false,
            handoff: false,
        }
    }

    fn check(passed: bool) -> Check {
        named("must_include", passed)
    }

    fn named(name: &str, passed: bool) -> Check {
        Check {
            name: name.into(),
            passed,
            detail: String::new(),
        }
    }

    #[test]
    fn handoff_wins_over_text() {
        let cfg = HandoffConfig {
            tool: Some("escalate_to_human".into()),
            markers: vec!["[HANDOFF]".into()],
        };
        let tool = detect_handoff(&cfg, &[bot("I solved it", Some("escalate_to_human"))]);
        assert!(tool.is_some());
        let marker = detect_handoff(&cfg, &[bot("Passing you on [HANDOFF]", None)]);
        assert!(marker.is_some());
        assert_eq!(
            observe(
                ExpectedOutcome::Resolve,
                marker.as_ref(),
                &[check(true)],
                || false
            ),
            ObservedOutcome::Escalated
        );
        assert!(detect_handoff(&cfg, &[bot("done", Some("lookup_order"))]).is_none());
    }

    /// A bot that says so in its own protocol (no tool, no marker) has handed over.
    #[test]
    fn the_bots_own_handoff_signal_counts() {
        let cfg = HandoffConfig::default();
        let mut turn = bot("A colleague will take over.", None);
        assert!(detect_handoff(&cfg, std::slice::from_ref(&turn)).is_none());
        turn.handoff = true;
        assert!(detect_handoff(&cfg, &[turn]).is_some());
    }

    #[test]
    fn rule_verified_outcomes() {
        assert_eq!(
            observe(ExpectedOutcome::Resolve, None, &[check(true)], || false),
            ObservedOutcome::Resolved
        );
        assert_eq!(
            observe(ExpectedOutcome::Resolve, None, &[check(false)], || false),
            ObservedOutcome::Deflected
        );
        assert_eq!(
            observe(ExpectedOutcome::Refuse, None, &[check(true)], || false),
            ObservedOutcome::Refused
        );
        assert_eq!(
            observe(ExpectedOutcome::Escalate, None, &[check(true)], || false),
            ObservedOutcome::Deflected
        );
    }

    /// A right answer in the wrong language, or too long, is still an answer.
    #[test]
    fn language_and_length_do_not_make_a_deflection() {
        for name in ["language", "max_words"] {
            let checks = [check(true), named(name, false)];
            assert_eq!(
                observe(ExpectedOutcome::Resolve, None, &checks, || false),
                ObservedOutcome::Resolved,
                "{name}"
            );
            assert_eq!(
                observe(ExpectedOutcome::Refuse, None, &checks, || false),
                ObservedOutcome::Refused,
                "{name}"
            );
        }
        for name in CONTENT_CHECKS {
            assert_eq!(
                observe(
                    ExpectedOutcome::Resolve,
                    None,
                    &[named(name, false)],
                    || false
                ),
                ObservedOutcome::Deflected,
                "{name}"
            );
        }
    }
}
