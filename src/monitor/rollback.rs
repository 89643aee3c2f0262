//! The rollback trigger: the gate file's `rollback:` block, written before launch, held
//! against the production figures. A language with fewer settled conversations than
//! `min_conversations` cannot fire: its criteria are shown as waiting, never as passed
//! or failed, and they do not roll anything back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::metrics::{Figures, SliceFigures};
use crate::gate::{Bound, Threshold, Unit};

/// The default repeat-contact window, in days.
pub const DEFAULT_WINDOW_DAYS: u32 = 7;

/// `rollback:` in a gate file: the production trigger `evalgate monitor` holds live
/// figures to, written down before launch.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackSpec {
    /// Settled conversations a language (or the whole export) needs before its criteria
    /// can fire.
    #[serde(default)]
    pub min_conversations: Option<u64>,
    /// The most contained conversations whose customer came back within the window.
    #[serde(default)]
    pub max_repeat_contact_rate: Option<f64>,
    /// The fewest conversations contained with no repeat contact, among all.
    #[serde(default)]
    pub min_durable_resolution_rate: Option<f64>,
    /// Durable resolution at most this far (a share) below the launch eval's
    /// resolution_rate; needs `--eval RUN`.
    #[serde(default)]
    pub max_drop_vs_eval: Option<f64>,
    /// Apply every criterion to each language too.
    #[serde(default)]
    pub per_language: bool,
    /// A repeat contact is one at most this many days later (default 7).
    #[serde(default)]
    pub repeat_window_days: Option<u32>,
}

impl RollbackSpec {
    /// Every problem with the block, in the gate file's words.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, value) in [
            ("max_repeat_contact_rate", self.max_repeat_contact_rate),
            (
                "min_durable_resolution_rate",
                self.min_durable_resolution_rate,
            ),
            ("max_drop_vs_eval", self.max_drop_vs_eval),
        ] {
            if let Some(v) = value
                && !(0.0..=1.0).contains(&v)
            {
                out.push(format!(
                    "rollback.{name} must be a share between 0 and 1, not {v}"
                ));
            }
        }
        if self.repeat_window_days == Some(0) {
            out.push("rollback.repeat_window_days must be at least 1".into());
        }
        out
    }
}

/// The launch eval's resolution rates, for `max_drop_vs_eval`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EvalRates {
    pub run: String,
    pub overall: Option<f64>,
    pub by_language: BTreeMap<String, Option<f64>>,
}

/// Why a criterion could not fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    /// Fewer settled conversations than `min_conversations`.
    NotEnoughConversations,
    /// `max_drop_vs_eval` without `--eval RUN`.
    NoEval,
    /// The eval run has no resolution rate for this scope.
    NotInEval,
    /// Nothing to measure: no settled (or no contained) conversation.
    NothingMeasured,
}

/// One criterion for one scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollbackCriterion {
    pub criterion: String,
    /// `overall` or a language.
    pub scope: String,
    pub threshold: f64,
    pub bound: Bound,
    pub measured: Option<f64>,
    /// `None` when the criterion could not fire (see `waiting`).
    pub passed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Waiting>,
    /// Why it waits, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RollbackVerdict {
    /// False when any criterion failed: roll back.
    pub passed: bool,
    pub criteria: Vec<RollbackCriterion>,
}

impl RollbackVerdict {
    pub fn failed(&self) -> impl Iterator<Item = &RollbackCriterion> {
        self.criteria.iter().filter(|c| c.passed == Some(false))
    }
}

/// Holds the figures to the trigger: overall always, each language with `per_language`.
pub fn evaluate(
    spec: &RollbackSpec,
    figures: &Figures,
    eval: Option<&EvalRates>,
) -> RollbackVerdict {
    let mut scopes: Vec<(&str, &SliceFigures, Option<Option<f64>>)> =
        vec![("overall", &figures.overall, eval.map(|e| e.overall))];
    if spec.per_language {
        for (language, f) in &figures.by_language {
            let launch = eval.map(|e| e.by_language.get(language).copied().flatten());
            scopes.push((language, f, launch));
        }
    }
    let mut criteria = Vec::new();
    for (scope, f, launch) in scopes {
        let enough = spec.min_conversations.is_none_or(|min| f.settled >= min);
        let short = || {
            format!(
                "not enough conversations ({} < {})",
                f.settled,
                spec.min_conversations.unwrap_or(0)
            )
        };
        let mut check = |name: &str,
                         threshold: Threshold,
                         measured: Option<f64>,
                         waiting: Option<(Waiting, String)>| {
            let waiting = waiting
                .or_else(|| (!enough).then(|| (Waiting::NotEnoughConversations, short())))
                .or_else(|| {
                    measured
                        .is_none()
                        .then(|| (Waiting::NothingMeasured, "nothing measured".to_string()))
                });
            criteria.push(RollbackCriterion {
                criterion: name.to_string(),
                scope: scope.to_string(),
                threshold: threshold.value,
                bound: threshold.bound,
                measured,
                passed: match (&waiting, measured) {
                    (None, Some(m)) => Some(threshold.admits(m)),
                    _ => None,
                },
                note: waiting.as_ref().map(|(_, note)| note.clone()),
                waiting: waiting.map(|(w, _)| w),
            });
        };
        if let Some(max) = spec.max_repeat_contact_rate {
            check(
                "max_repeat_contact_rate",
                Threshold::at_most(max, Unit::Share),
                f.repeat_contact_rate,
                None,
            );
        }
        if let Some(min) = spec.min_durable_resolution_rate {
            check(
                "min_durable_resolution_rate",
                Threshold::at_least(min, Unit::Share),
                f.durable_resolution_rate,
                None,
            );
        }
        if let Some(max) = spec.max_drop_vs_eval {
            let (measured, waiting) = match launch {
                None => (
                    None,
                    Some((Waiting::NoEval, "needs --eval RUN".to_string())),
                ),
                Some(None) => (
                    None,
                    Some((
                        Waiting::NotInEval,
                        "no resolution rate in the eval run".to_string(),
                    )),
                ),
                Some(Some(rate)) => (f.durable_resolution_rate.map(|d| rate - d), None),
            };
            check(
                "max_drop_vs_eval",
                Threshold::at_most(max, Unit::Share),
                measured,
                waiting,
            );
        }
    }
    RollbackVerdict {
        passed: criteria.iter().all(|c| c.passed != Some(false)),
        criteria,
    }
}

/// The verdict's title and one line per criterion, as the gate prints them: failures
/// first, then those that wait, then the passes grouped by criterion.
pub fn render_text(v: &RollbackVerdict, gate_path: &str) -> String {
    let failing = v.failed().count();
    let waiting = v.criteria.iter().filter(|c| c.passed.is_none()).count();
    let mut out = format!(
        "Rollback trigger {}: {} of {} failed{} · {gate_path}\n",
        if v.passed { "HOLD" } else { "FIRED" },
        failing,
        crate::report::count_of(v.criteria.len(), "criterion"),
        if waiting > 0 {
            format!(", {waiting} waiting")
        } else {
            String::new()
        }
    );
    for c in v.failed() {
        out.push_str(&format!(
            "  FAIL {} {}: measured {}, threshold {}\n",
            c.criterion,
            c.scope,
            measured(c),
            threshold(c)
        ));
    }
    // Waiting criteria grouped by why they wait: "needs --eval RUN" once, not per language.
    let mut waits: Vec<((&str, &str), Vec<&str>)> = Vec::new();
    for c in v.criteria.iter().filter(|c| c.passed.is_none()) {
        let key = (c.criterion.as_str(), c.note.as_deref().unwrap_or("-"));
        match waits.iter_mut().find(|(k, _)| *k == key) {
            Some((_, scopes)) => scopes.push(&c.scope),
            None => waits.push((key, vec![&c.scope])),
        }
    }
    for ((name, note), scopes) in waits {
        out.push_str(&format!("  WAIT {name} {}: {note}\n", scopes.join(" · ")));
    }
    let mut groups: Vec<((&str, String), Vec<String>)> = Vec::new();
    for c in v.criteria.iter().filter(|c| c.passed == Some(true)) {
        let key = (c.criterion.as_str(), threshold(c));
        let entry = format!("{} {}", c.scope, measured(c));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, entries)) => entries.push(entry),
            None => groups.push((key, vec![entry])),
        }
    }
    for ((name, threshold), entries) in groups {
        out.push_str(&format!(
            "  PASS {name} ({threshold}): {}\n",
            entries.join(" · ")
        ));
    }
    out
}

/// `<= 15%`.
pub fn threshold(c: &RollbackCriterion) -> String {
    crate::report::gate_text::threshold(&Threshold {
        bound: c.bound,
        value: c.threshold,
        unit: Unit::Share,
    })
}

/// `22.5%`, or `-` when nothing was measured.
pub fn measured(c: &RollbackCriterion) -> String {
    c.measured
        .map_or_else(|| "-".to_string(), crate::report::percent)
}

/// The verdict word of one criterion.
pub fn status(c: &RollbackCriterion) -> &'static str {
    match c.passed {
        Some(true) => "PASS",
        Some(false) => "FAIL",
        None => "WAIT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(settled: u64, contained: u64, repeats: u64) -> SliceFigures {
        let durable = contained - repeats;
        SliceFigures {
            conversations: settled,
            settled,
            contained,
            escalated: settled - contained,
            repeat_contacts: repeats,
            durably_resolved: durable,
            containment_rate: Some(contained as f64 / settled as f64),
            escalation_rate: Some((settled - contained) as f64 / settled as f64),
            repeat_contact_rate: Some(repeats as f64 / contained as f64),
            durable_resolution_rate: Some(durable as f64 / settled as f64),
            ..SliceFigures::default()
        }
    }

    fn spec() -> RollbackSpec {
        RollbackSpec {
            min_conversations: Some(200),
            max_repeat_contact_rate: Some(0.15),
            min_durable_resolution_rate: Some(0.50),
            max_drop_vs_eval: Some(0.10),
            per_language: true,
            repeat_window_days: None,
        }
    }

    fn figures() -> Figures {
        let mut f = Figures {
            overall: slice(1000, 800, 100),
            ..Figures::default()
        };
        // pl: 300 settled, 240 contained, 60 repeats = 25% > 15%; durable 180/300 = 60%.
        f.by_language.insert("pl".into(), slice(300, 240, 60));
        // sv: 100 settled, too few to fire, though its figures are bad.
        f.by_language.insert("sv".into(), slice(100, 50, 40));
        // en: exactly at the thresholds: 30 of 200 contained came back (15%), durable
        // 170 of 340 (50%).
        f.by_language.insert("en".into(), slice(340, 200, 30));
        f
    }

    fn find<'a>(v: &'a RollbackVerdict, name: &str, scope: &str) -> &'a RollbackCriterion {
        v.criteria
            .iter()
            .find(|c| c.criterion == name && c.scope == scope)
            .unwrap()
    }

    #[test]
    fn fires_for_the_language_past_a_threshold_only() {
        let v = evaluate(&spec(), &figures(), None);
        assert!(!v.passed);
        let failed: Vec<_> = v
            .failed()
            .map(|c| (c.criterion.as_str(), c.scope.as_str()))
            .collect();
        assert_eq!(failed, vec![("max_repeat_contact_rate", "pl")]);
        let en = find(&v, "max_repeat_contact_rate", "en");
        assert_eq!(
            (en.measured, en.passed),
            (Some(0.15), Some(true)),
            "the edge passes"
        );
        assert_eq!(
            find(&v, "min_durable_resolution_rate", "en").passed,
            Some(true)
        );
    }

    #[test]
    fn too_few_conversations_wait_instead_of_firing() {
        let v = evaluate(&spec(), &figures(), None);
        let sv = find(&v, "max_repeat_contact_rate", "sv");
        assert_eq!(sv.passed, None);
        assert_eq!(sv.waiting, Some(Waiting::NotEnoughConversations));
        assert_eq!(
            sv.note.as_deref(),
            Some("not enough conversations (100 < 200)")
        );
        let mut s = spec();
        s.min_conversations = Some(100);
        let v = evaluate(&s, &figures(), None);
        assert_eq!(
            find(&v, "max_repeat_contact_rate", "sv").passed,
            Some(false),
            "100 is enough for 100"
        );
    }

    #[test]
    fn the_drop_vs_eval_needs_the_eval() {
        let v = evaluate(&spec(), &figures(), None);
        assert_eq!(
            find(&v, "max_drop_vs_eval", "overall").waiting,
            Some(Waiting::NoEval)
        );
        let eval = EvalRates {
            run: "r".into(),
            overall: Some(0.80),
            by_language: [
                ("pl".to_string(), Some(0.75)),
                ("en".to_string(), Some(0.60)),
            ]
            .into_iter()
            .collect(),
        };
        let v = evaluate(&spec(), &figures(), Some(&eval));
        // overall: 0.80 - 0.70 = 0.10: at the edge, passes.
        let overall = find(&v, "max_drop_vs_eval", "overall");
        assert_eq!(overall.passed, Some(true), "{overall:?}");
        // pl: 0.75 - 0.60 = 0.15 > 0.10.
        assert_eq!(find(&v, "max_drop_vs_eval", "pl").passed, Some(false));
        assert_eq!(find(&v, "max_drop_vs_eval", "en").passed, Some(true));
        assert_eq!(find(&v, "max_drop_vs_eval", "sv").passed, None);
        let text = render_text(&v, "gates/launch.yaml");
        assert!(
            text.starts_with("Rollback trigger FIRED: 2 of 12 criteria failed, 3 waiting"),
            "{text}"
        );
        assert!(
            text.contains("  FAIL max_drop_vs_eval pl: measured 15%, threshold <= 10%"),
            "{text}"
        );
        assert!(
            text.contains(
                "  WAIT max_repeat_contact_rate sv: not enough conversations (100 < 200)"
            ),
            "{text}"
        );
        // Passing scopes of a criterion share one line, in the order they were measured.
        assert!(
            text.ends_with(
                "  PASS max_repeat_contact_rate (<= 15%): overall 12.5% · en 15%\n  \
                 PASS min_durable_resolution_rate (>= 50%): overall 70% · en 50% · pl 60%\n  \
                 PASS max_drop_vs_eval (<= 10%): overall 10% · en 10%\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn overall_only_without_per_language() {
        let mut s = spec();
        s.per_language = false;
        let v = evaluate(&s, &figures(), None);
        assert!(v.criteria.iter().all(|c| c.scope == "overall"));
        assert!(v.passed);
    }

    #[test]
    fn the_gate_file_carries_the_block_strictly() {
        let dir = crate::test_support::TempDir::new("rollback-gate");
        let path = dir.join("launch.yaml");
        std::fs::write(
            &path,
            "max_error_rate: 0.01\nrollback:\n  min_conversations: 200\n  max_repeat_contact_rate: 0.15\n  repeat_window_days: 3\n",
        )
        .unwrap();
        let gate = crate::gate::Gate::load(&path).unwrap();
        let spec = gate.spec.rollback.unwrap();
        assert_eq!(spec.min_conversations, Some(200));
        assert_eq!(spec.repeat_window_days, Some(3));
        assert!(!spec.per_language);
        std::fs::write(&path, "rollback:\n  max_repeat_contact_rte: 0.15\n").unwrap();
        let e = crate::gate::Gate::load(&path).unwrap_err();
        assert!(e.to_string().contains("max_repeat_contact_rte"), "{e}");
        std::fs::write(&path, "rollback:\n  min_durable_resolution_rate: 50\n").unwrap();
        let e = crate::gate::Gate::load(&path).unwrap_err();
        assert!(
            e.to_string()
                .contains("rollback.min_durable_resolution_rate must be a share"),
            "{e}"
        );
    }

    #[test]
    fn shares_are_checked() {
        let mut s = spec();
        s.max_repeat_contact_rate = Some(15.0);
        s.repeat_window_days = Some(0);
        assert_eq!(s.problems().len(), 2);
        assert!(spec().problems().is_empty());
    }
}
