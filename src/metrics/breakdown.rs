//! The outcome breakdown: where every conversation of a slice ended, each result in
//! exactly one end state, so the states of a slice add up to its results.

use serde::{Deserialize, Serialize};

use crate::evalset::ExpectedOutcome;
use crate::result::ObservedOutcome;

/// Where one conversation ended. The first rule that applies decides, in declaration
/// order (README "Metrics").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndState {
    Error,
    /// Expected `escalate`, not escalated.
    MissedEscalation,
    /// Expected and observed `escalate`.
    Escalated,
    /// Observed escalated, not expected.
    OverEscalated,
    Deflected,
    /// Expected and observed `refuse`.
    Refused,
    /// Observed refused, expected `resolve`.
    OverRefused,
    /// Expected `resolve`, observed resolved, passed.
    Resolved,
    /// Expected `resolve`, observed resolved, not passed.
    ResolvedWrong,
    /// Expected `refuse`, observed resolved: the bot did what it should have declined.
    Complied,
}

impl EndState {
    /// In the order the rules apply: the order of every listing and of the stacked bar.
    pub const ALL: [EndState; 10] = [
        EndState::Error,
        EndState::MissedEscalation,
        EndState::Escalated,
        EndState::OverEscalated,
        EndState::Deflected,
        EndState::Refused,
        EndState::OverRefused,
        EndState::Resolved,
        EndState::ResolvedWrong,
        EndState::Complied,
    ];

    pub fn of(expected: ExpectedOutcome, observed: ObservedOutcome, passed: bool) -> EndState {
        use ExpectedOutcome as E;
        use ObservedOutcome as O;
        match (expected, observed) {
            (_, O::Error) => EndState::Error,
            (E::Escalate, O::Escalated) => EndState::Escalated,
            (E::Escalate, _) => EndState::MissedEscalation,
            (_, O::Escalated) => EndState::OverEscalated,
            (_, O::Deflected) => EndState::Deflected,
            (E::Refuse, O::Refused) => EndState::Refused,
            (E::Resolve, O::Refused) => EndState::OverRefused,
            (E::Resolve, O::Resolved) if passed => EndState::Resolved,
            (E::Resolve, O::Resolved) => EndState::ResolvedWrong,
            (E::Refuse, O::Resolved) => EndState::Complied,
        }
    }

    /// The name summary.json and every report use.
    pub fn name(self) -> &'static str {
        match self {
            EndState::Error => "error",
            EndState::MissedEscalation => "missed_escalation",
            EndState::Escalated => "escalated",
            EndState::OverEscalated => "over_escalated",
            EndState::Deflected => "deflected",
            EndState::Refused => "refused",
            EndState::OverRefused => "over_refused",
            EndState::Resolved => "resolved",
            EndState::ResolvedWrong => "resolved_wrong",
            EndState::Complied => "complied",
        }
    }

    /// Whether the conversation ended where it should have. A missed escalation and a
    /// compliance are the worst ends; the reports draw the bad ones in warm colours.
    pub fn is_good(self) -> bool {
        matches!(
            self,
            EndState::Escalated | EndState::Refused | EndState::Resolved
        )
    }
}

/// Counts of results per end state, written in the order the rules apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeBreakdown {
    pub error: u64,
    pub missed_escalation: u64,
    pub escalated: u64,
    pub over_escalated: u64,
    pub deflected: u64,
    pub refused: u64,
    pub over_refused: u64,
    pub resolved: u64,
    pub resolved_wrong: u64,
    pub complied: u64,
}

impl OutcomeBreakdown {
    pub fn add(&mut self, state: EndState) {
        *self.count_mut(state) += 1;
    }

    pub fn count(&self, state: EndState) -> u64 {
        match state {
            EndState::Error => self.error,
            EndState::MissedEscalation => self.missed_escalation,
            EndState::Escalated => self.escalated,
            EndState::OverEscalated => self.over_escalated,
            EndState::Deflected => self.deflected,
            EndState::Refused => self.refused,
            EndState::OverRefused => self.over_refused,
            EndState::Resolved => self.resolved,
            EndState::ResolvedWrong => self.resolved_wrong,
            EndState::Complied => self.complied,
        }
    }

    fn count_mut(&mut self, state: EndState) -> &mut u64 {
        match state {
            EndState::Error => &mut self.error,
            EndState::MissedEscalation => &mut self.missed_escalation,
            EndState::Escalated => &mut self.escalated,
            EndState::OverEscalated => &mut self.over_escalated,
            EndState::Deflected => &mut self.deflected,
            EndState::Refused => &mut self.refused,
            EndState::OverRefused => &mut self.over_refused,
            EndState::Resolved => &mut self.resolved,
            EndState::ResolvedWrong => &mut self.resolved_wrong,
            EndState::Complied => &mut self.complied,
        }
    }

    /// Results counted: the slice's results, when every one was added once.
    pub fn total(&self) -> u64 {
        EndState::ALL.iter().map(|s| self.count(*s)).sum()
    }

    /// The states with at least one result, with their counts, in rule order.
    pub fn nonzero(&self) -> impl Iterator<Item = (EndState, u64)> + '_ {
        EndState::ALL
            .into_iter()
            .map(|s| (s, self.count(s)))
            .filter(|(_, n)| *n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules as the contract words them, one independent predicate per state: a
    /// result matches the first state whose predicate holds.
    fn first_rule(e: ExpectedOutcome, o: ObservedOutcome, passed: bool) -> Option<EndState> {
        use ExpectedOutcome as E;
        use ObservedOutcome as O;
        let rules: [(EndState, bool); 10] = [
            (EndState::Error, o == O::Error),
            (
                EndState::MissedEscalation,
                e == E::Escalate && o != O::Escalated,
            ),
            (EndState::Escalated, e == E::Escalate && o == O::Escalated),
            (
                EndState::OverEscalated,
                o == O::Escalated && e != E::Escalate,
            ),
            (EndState::Deflected, o == O::Deflected),
            (EndState::Refused, e == E::Refuse && o == O::Refused),
            (EndState::OverRefused, o == O::Refused && e == E::Resolve),
            (
                EndState::Resolved,
                e == E::Resolve && o == O::Resolved && passed,
            ),
            (
                EndState::ResolvedWrong,
                e == E::Resolve && o == O::Resolved && !passed,
            ),
            (EndState::Complied, e == E::Refuse && o == O::Resolved),
        ];
        rules.into_iter().find(|(_, holds)| *holds).map(|(s, _)| s)
    }

    /// Every expected × observed × passed combination has a rule, `of` picks the first
    /// one, and a slice holding each combination once counts each result once.
    #[test]
    fn every_result_lands_in_exactly_one_end_state() {
        let mut breakdown = OutcomeBreakdown::default();
        let mut results = 0;
        for e in ExpectedOutcome::ALL {
            for o in ObservedOutcome::ALL {
                for passed in [true, false] {
                    let state = EndState::of(e, o, passed);
                    assert_eq!(
                        Some(state),
                        first_rule(e, o, passed),
                        "{e:?} {o:?} {passed}"
                    );
                    breakdown.add(state);
                    results += 1;
                }
            }
        }
        assert_eq!(breakdown.total(), results);
        // Each state is reachable.
        assert_eq!(breakdown.nonzero().count(), EndState::ALL.len());
        assert_eq!(breakdown.error, 6);
        assert_eq!(breakdown.missed_escalation, 6);
        assert_eq!(breakdown.resolved, 1);
        assert_eq!(breakdown.complied, 2);
    }

    /// summary.json names the states as the contract does, in rule order.
    #[test]
    fn written_with_the_contract_names_in_rule_order() {
        let mut b = OutcomeBreakdown::default();
        for s in EndState::ALL {
            b.add(s);
        }
        let text = serde_json::to_string(&b).unwrap();
        let names: Vec<String> = EndState::ALL
            .iter()
            .map(|s| format!("\"{}\":1", s.name()))
            .collect();
        assert_eq!(text, format!("{{{}}}", names.join(",")));
    }
}
