//! A case's `simulate:` block: the customer a simulator plays instead of a script.

use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::config::Context;
use crate::diagnostic::{Diagnostic, Diagnostics};

/// The most customer messages a simulated conversation may have: past this, a case
/// measures the simulator's patience more than the bot.
pub const MAX_SIMULATED_TURNS: u32 = 50;
/// How many customer messages a simulated conversation has at most when the case says not.
pub const DEFAULT_SIMULATED_TURNS: u32 = 6;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SimulateSpec {
    /// Who the customer is: "Anna, 67, polite but anxious, not at ease with apps".
    persona: String,
    /// What the customer wants from the conversation.
    goal: String,
    /// What the customer knows and gives only when the bot asks.
    #[serde(default)]
    facts: Context,
    /// Sent verbatim as the first customer message; without it the simulator opens.
    #[serde(default)]
    opening: Option<String>,
    /// Customer messages, at most (1 to 50; default 6).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    max_turns: Option<Spanned<u32>>,
}

/// The simulated customer of a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    pub persona: String,
    pub goal: String,
    /// What the customer knows and gives only when the bot asks.
    pub facts: Context,
    /// Sent verbatim as the first customer message, without asking the simulator.
    pub opening: Option<String>,
    /// Customer messages, at most.
    pub max_turns: u32,
}

pub(super) fn validate(
    path: &Path,
    id: &str,
    spec: SimulateSpec,
    problems: &mut Diagnostics,
    at: serde_saphyr::Location,
) -> Simulation {
    let mut problem = |message: String, at: serde_saphyr::Location| {
        problems.push(Diagnostic::new(path, message).at_location(at));
    };
    if spec.persona.trim().is_empty() {
        problem(format!("case `{id}`: simulate.persona is empty"), at);
    }
    if spec.goal.trim().is_empty() {
        problem(format!("case `{id}`: simulate.goal is empty"), at);
    }
    if spec.opening.as_deref().is_some_and(|o| o.trim().is_empty()) {
        problem(
            format!(
                "case `{id}`: simulate.opening is empty; leave it out to let the simulator open"
            ),
            at,
        );
    }
    let max_turns = match spec.max_turns {
        Some(m) if !(1..=MAX_SIMULATED_TURNS).contains(&m.value) => {
            problem(
                format!(
                    "case `{id}`: simulate.max_turns must be between 1 and {MAX_SIMULATED_TURNS} (customer messages), not {}",
                    m.value
                ),
                m.referenced,
            );
            DEFAULT_SIMULATED_TURNS
        }
        Some(m) => m.value,
        None => DEFAULT_SIMULATED_TURNS,
    };
    Simulation {
        persona: spec.persona,
        goal: spec.goal,
        facts: spec.facts,
        opening: spec.opening,
        max_turns,
    }
}

#[cfg(test)]
mod tests {
    use crate::evalset::load_file;
    use std::path::Path;

    const SIMULATED: &str = "language: en\ncases:\n  - id: s\n    stratum: routine\n    simulate:\n      persona: Anna\n      goal: Get the refund\n      facts: { order_id: GB-1 }\n      max_turns: 4\n    expect:\n      outcome: resolve\n";

    #[test]
    fn a_simulated_case_loads_with_its_customer() {
        let case = load_file(Path::new("en.yaml"), SIMULATED)
            .unwrap()
            .remove(0);
        let sim = case.simulate.unwrap();
        assert_eq!(sim.max_turns, 4);
        assert_eq!(sim.facts["order_id"], "GB-1");
        assert!(case.turns.is_empty());
        let default = SIMULATED.replace("      max_turns: 4\n", "");
        let case = load_file(Path::new("en.yaml"), &default).unwrap().remove(0);
        assert_eq!(case.simulate.unwrap().max_turns, 6);
    }

    #[test]
    fn bad_simulated_cases_name_their_line() {
        let both = SIMULATED.replace(
            "    simulate:\n",
            "    turns:\n      - user: hi\n    simulate:\n",
        );
        let err = load_file(Path::new("en.yaml"), &both)
            .unwrap_err()
            .to_string();
        assert!(err.contains("en.yaml:8:") && err.contains("both"), "{err}");
        for (bad, line) in [("max_turns: 0", 9), ("max_turns: 51", 9)] {
            let text = SIMULATED.replace("max_turns: 4", bad);
            let err = load_file(Path::new("en.yaml"), &text)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("en.yaml:{line}:")) && err.contains("between 1 and 50"),
                "{err}"
            );
        }
        let unknown = SIMULATED.replace("max_turns: 4", "max_turn: 4");
        let err = load_file(Path::new("en.yaml"), &unknown)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("en.yaml:9:") && err.contains("max_turn"),
            "{err}"
        );
        let neither = SIMULATED.replace("    simulate:\n      persona: Anna\n      goal: Get the refund\n      facts: { order_id: GB-1 }\n      max_turns: 4\n", "");
        let err = load_file(Path::new("en.yaml"), &neither)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("en.yaml:3:") && err.contains("no turns"),
            "{err}"
        );
    }
}
