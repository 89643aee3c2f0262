//! Parity: the same scenario across languages. A bot that is good in English and poor in
//! Polish should show it here, scenario by scenario.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::rundir::read_lines;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioParity {
    pub scenario: String,
    /// Pass rate per language (over repeats; errors left out).
    pub pass_rate: BTreeMap<String, f64>,
    pub best: f64,
    /// Languages below the best language on this scenario.
    pub behind: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Parity {
    /// Scenarios run in at least two languages where some language falls behind.
    pub gaps: Vec<ScenarioParity>,
    /// Scenarios run in at least two languages.
    pub scenarios: u64,
    /// For each language, on how many scenarios it falls behind the best language.
    pub behind_count: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
struct Row {
    language: String,
    #[serde(default)]
    scenario: Option<String>,
    passed: bool,
    #[serde(default)]
    error: Option<String>,
}

pub fn from_results(results: &Path) -> Result<Parity, String> {
    // scenario -> language -> (passed, scored)
    let mut table: BTreeMap<String, BTreeMap<String, (u64, u64)>> = BTreeMap::new();
    read_lines(results, |r: Row| {
        let (Some(scenario), None) = (r.scenario, r.error) else {
            return;
        };
        let cell = table
            .entry(scenario)
            .or_default()
            .entry(r.language)
            .or_default();
        cell.0 += u64::from(r.passed);
        cell.1 += 1;
    })?;
    Ok(compute(table))
}

fn compute(table: BTreeMap<String, BTreeMap<String, (u64, u64)>>) -> Parity {
    let mut parity = Parity::default();
    for (scenario, langs) in table {
        if langs.len() < 2 {
            continue;
        }
        parity.scenarios += 1;
        let pass_rate: BTreeMap<String, f64> = langs
            .into_iter()
            .map(|(l, (p, n))| (l, p as f64 / n as f64))
            .collect();
        let best = pass_rate.values().copied().fold(0.0, f64::max);
        let behind: Vec<String> = pass_rate
            .iter()
            .filter(|(_, r)| **r < best)
            .map(|(l, _)| l.clone())
            .collect();
        for l in pass_rate.keys() {
            *parity.behind_count.entry(l.clone()).or_default() += u64::from(behind.contains(l));
        }
        if !behind.is_empty() {
            parity.gaps.push(ScenarioParity {
                scenario,
                pass_rate,
                best,
                behind,
            });
        }
    }
    parity
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_languages_behind_the_best() {
        let mut t = BTreeMap::new();
        t.insert(
            "refund".to_string(),
            BTreeMap::from([
                ("en".to_string(), (1, 1)),
                ("pl".to_string(), (0, 1)),
                ("sv".to_string(), (1, 1)),
            ]),
        );
        t.insert(
            "solo".to_string(),
            BTreeMap::from([("en".to_string(), (0, 1))]),
        );
        t.insert(
            "even".to_string(),
            BTreeMap::from([("en".to_string(), (1, 1)), ("pl".to_string(), (1, 1))]),
        );
        let p = compute(t);
        assert_eq!(p.scenarios, 2);
        assert_eq!(p.gaps.len(), 1);
        assert_eq!(p.gaps[0].behind, ["pl"]);
        assert_eq!(p.behind_count["pl"], 1);
        assert_eq!(p.behind_count["en"], 0);
    }
}
