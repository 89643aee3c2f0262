//! The one model every report renders: the run's summary, its gate verdict and its diff
//! against a baseline. JSON is this model serialized; Markdown, JUnit and the terminal
//! summary are views of it.

use serde::{Deserialize, Serialize};

use crate::diff::Diff;
use crate::gate::Verdict;
use crate::summary::RunSummary;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportModel {
    pub summary: RunSummary,
    pub gate: Option<Verdict>,
    pub diff: Option<Diff>,
    /// Keys of cases that should have reached a human and did not, sorted.
    pub missed_escalations: Vec<String>,
    /// Cases where the bot took an action the case forbids, sorted by key.
    #[serde(default)]
    pub unauthorised_actions: Vec<crate::result_index::UnauthorisedAction>,
    /// How far the run's judge agrees with people, per language; `None` without a judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_trust: Option<crate::calibrate::trust::JudgeTrust>,
}

impl ReportModel {
    /// The verdict in one word, as every view states it first.
    pub fn headline(&self) -> &'static str {
        match &self.gate {
            _ if !self.summary.complete => "INCOMPLETE",
            Some(g) if g.incomplete => "INCOMPLETE",
            Some(g) if g.passed => "PASS",
            Some(_) => "FAIL",
            None => "NO GATE",
        }
    }
}
