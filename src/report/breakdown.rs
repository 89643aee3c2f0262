//! The outcome breakdown as every view lays it out: one row per language and one for the
//! run, a column per end state some result reached, and the states none reached named
//! once below, so a wide table of zeros never hides the few that count.

use crate::metrics::{EndState, Metrics, SliceMetrics};

/// The rows (each language, then `all`) and the columns of the breakdown table.
pub struct BreakdownTable<'a> {
    pub rows: Vec<(&'a str, &'a SliceMetrics)>,
    pub columns: Vec<EndState>,
    /// False for a summary.json written before the breakdown existed: its counts are
    /// zeros that must not read as "no conversation ended anywhere".
    pub recorded: bool,
}

impl<'a> BreakdownTable<'a> {
    pub fn of(m: &'a Metrics) -> BreakdownTable<'a> {
        let rows = m
            .by_language
            .iter()
            .map(|(language, slice)| (language.as_str(), slice))
            .chain(std::iter::once(("all", &m.overall)))
            .collect();
        let recorded = m.overall.outcome_breakdown.total() == m.overall.results;
        // Every language's results are in the run's, so the run's states are all of them.
        let columns = if recorded {
            m.overall
                .outcome_breakdown
                .nonzero()
                .map(|(s, _)| s)
                .collect()
        } else {
            Vec::new()
        };
        BreakdownTable {
            rows,
            columns,
            recorded,
        }
    }

    /// "No conversation ended as complied, over_refused.", naming the states left out;
    /// or why there is no breakdown to show.
    pub fn absent_line(&self) -> Option<String> {
        if !self.recorded {
            return Some(
                "Not recorded: this run's summary.json predates the outcome breakdown; re-score the run (evalgate rescore) to see it."
                    .to_string(),
            );
        }
        let absent: Vec<&str> = EndState::ALL
            .into_iter()
            .filter(|s| !self.columns.contains(s))
            .map(EndState::name)
            .collect();
        (!absent.is_empty()).then(|| format!("No conversation ended as {}.", absent.join(", ")))
    }
}

/// One result's share of a slice, for the stacked bar: the widths of a row add up to 100.
pub fn share100(count: u64, results: u64) -> f64 {
    if results == 0 {
        return 0.0;
    }
    count as f64 * 100.0 / results as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evalset::{ExpectedOutcome as E, Stratum};
    use crate::metrics::MetricsBuilder;
    use crate::result::{CaseResult, ObservedOutcome as O};

    #[test]
    fn columns_are_the_states_reached_in_rule_order() {
        let mut b = MetricsBuilder::default();
        for (language, e, o, passed) in [
            ("pl", E::Resolve, O::Resolved, false),
            ("en", E::Resolve, O::Resolved, true),
            ("en", E::Escalate, O::Deflected, false),
        ] {
            b.add(&CaseResult::fixture(
                language,
                Stratum::Routine,
                e,
                o,
                passed,
            ));
        }
        let m = b.finish();
        let table = BreakdownTable::of(&m);
        let names: Vec<&str> = table.columns.iter().map(|s| s.name()).collect();
        assert_eq!(names, ["missed_escalation", "resolved", "resolved_wrong"]);
        let labels: Vec<&str> = table.rows.iter().map(|(l, _)| *l).collect();
        assert_eq!(labels, ["en", "pl", "all"]);
        assert_eq!(
            table.absent_line().unwrap(),
            "No conversation ended as error, escalated, over_escalated, deflected, refused, over_refused, complied."
        );
    }

    /// An older summary.json reads back with zero counts: said so, not shown as empty.
    #[test]
    fn a_summary_without_the_breakdown_says_so() {
        let mut b = MetricsBuilder::default();
        b.add(&CaseResult::fixture(
            "en",
            Stratum::Routine,
            E::Resolve,
            O::Resolved,
            true,
        ));
        let mut m = b.finish();
        m.overall.outcome_breakdown = Default::default();
        let table = BreakdownTable::of(&m);
        assert!(!table.recorded && table.columns.is_empty());
        assert!(table.absent_line().unwrap().starts_with("Not recorded"));
    }
}
