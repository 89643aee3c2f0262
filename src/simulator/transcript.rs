//! A simulated conversation in plain text, turn by turn, for the views that show cases
//! as text (junit.xml, report.md): marked as simulated, with why it stopped.

use crate::result::{CaseResult, Role};

/// The transcript of a simulated case, one line a turn, after a heading line; empty for
/// a scripted case.
pub fn transcript_lines(r: &CaseResult) -> Vec<String> {
    if !r.simulated {
        return Vec::new();
    }
    let mut lines = vec![format!(
        "simulated conversation (stopped: {}):",
        r.stop_reason.map_or("unknown", |s| s.name())
    )];
    lines.extend(r.turns.iter().map(|t| {
        let who = match t.role {
            Role::User => "customer (simulated)",
            Role::Assistant => "assistant",
        };
        format!("  {who}: {}", t.content)
    }));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evalset::{ExpectedOutcome, Stratum};
    use crate::result::{ObservedOutcome, StopReason, TranscriptTurn};

    #[test]
    fn only_simulated_cases_have_a_transcript_and_it_says_why_it_stopped() {
        let mut r = CaseResult::fixture(
            "en",
            Stratum::Routine,
            ExpectedOutcome::Resolve,
            ObservedOutcome::Deflected,
            false,
        );
        assert!(transcript_lines(&r).is_empty());
        r.simulated = true;
        r.stop_reason = Some(StopReason::MaxTurns);
        r.turns.insert(
            0,
            TranscriptTurn {
                role: Role::User,
                content: "where is it?".into(),
                tool_calls: vec![],
                latency_ms: None,
                cached: false,
                handoff: false,
            },
        );
        assert_eq!(
            transcript_lines(&r),
            [
                "simulated conversation (stopped: max_turns):",
                "  customer (simulated): where is it?",
                "  assistant: hi"
            ]
        );
    }
}
