//! The verdict in plain words, read in ten seconds: what blocks the launch (or why the run
//! is no verdict at all), from the data, with the prompt change that likely caused it.
//! Every view leads with it; report.md and the terminal also group gate failures per
//! criterion with their worst slices, instead of a row per slice.

use crate::gate::{Bound, Criterion, Scope, Verdict};
use crate::report::gate_text;
use crate::report::model::ReportModel;

/// Worst slices named per failing criterion; the rest are counted.
const WORST_SHOWN: usize = 4;

/// The order failures are told in: customers left without a human first, then wrong
/// language, regressions, deflection; the rest after, in the gate's order.
const PRIORITY: [&str; 5] = [
    "missed_escalations",
    "language_match_rate",
    "significant_regressions",
    "deflection_rate",
    "pass_rate",
];

/// One sentence: "Blocked: …", "Ready: …", "Not a verdict: …" or "No gate: …".
pub fn sentence(model: &ReportModel) -> String {
    let s = &model.summary;
    let o = &s.metrics.overall;
    if !s.complete {
        return format!(
            "Not a verdict: the run holds {} of {} planned result{}{}.",
            s.written,
            s.planned,
            if s.planned == 1 { "" } else { "s" },
            if s.interrupted {
                " (it was interrupted; `evalgate run --resume` continues it)"
            } else {
                ""
            }
        );
    }
    let Some(v) = &model.gate else {
        return format!(
            "No gate: {} measured, but no launch criteria were given to judge them by.",
            crate::report::count_of(o.results, "result")
        );
    };
    if v.incomplete {
        let cause = s
            .top_error
            .as_ref()
            .map(|e| format!("; most of them: {}", e.message))
            .unwrap_or_default();
        return format!(
            "Not a verdict: {} of {} {}{cause}.",
            o.errors,
            crate::report::count_of(o.results, "result"),
            if o.errors == 1 {
                "is an error"
            } else {
                "are errors"
            }
        );
    }
    if v.passed {
        return format!(
            "Ready: all {} launch criteria are met on {} in {}.",
            v.criteria.len(),
            crate::report::count_of(o.results, "result"),
            crate::report::count_of(s.metrics.by_language.len(), "language"),
        );
    }
    let mut groups = failing_groups(v);
    // What hurts customers most is said first.
    groups.sort_by_key(|g| {
        PRIORITY
            .iter()
            .position(|p| *p == g.name)
            .unwrap_or(PRIORITY.len())
    });
    // A figure that fails only because the judge behind it is not trusted is said once,
    // in the judge's clause, rather than as a miss of its own.
    let distrusted: Vec<&str> = groups
        .iter()
        .filter(|g| only_distrusted(g))
        .map(|g| g.name)
        .collect();
    groups.retain(|g| !only_distrusted(g));
    let mut clauses: Vec<String> = groups
        .iter()
        .map(|g| match g.name {
            JUDGE_CALIBRATION => judge_clause(g, &distrusted),
            _ => clause(model, v, g),
        })
        .collect();
    if let Some(change) = prompt_change(model) {
        clauses.push(change);
    }
    format!("Blocked: {}.", clauses.join("; "))
}

const JUDGE_CALIBRATION: &str = "judge_calibration";

/// Every criterion of the group meets its threshold and fails only because the judge
/// that scored it is not calibrated.
fn only_distrusted(g: &Group<'_>) -> bool {
    g.name != JUDGE_CALIBRATION
        && g.criteria
            .iter()
            .all(|c| c.detail.is_some() && c.threshold.passes(c.measured))
}

/// "de, pl: uncalibrated: …", one entry per reason: 35 languages with the same missing
/// calibration make one entry, not 35.
fn by_reason(criteria: &[&Criterion]) -> Vec<String> {
    let mut reasons: Vec<(&str, Vec<String>)> = Vec::new();
    for c in criteria {
        let reason = c.detail.as_deref().unwrap_or("uncalibrated");
        match reasons.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, scopes)) => scopes.push(c.scope.to_string()),
            None => reasons.push((reason, vec![c.scope.to_string()])),
        }
    }
    reasons
        .into_iter()
        .map(|(reason, scopes)| format!("{}: {reason}", scopes.join(", ")))
        .collect()
}

/// "the judge is not trusted in de, pl (de: κ 0.41 …), so pass_rate does not count".
fn judge_clause(g: &Group<'_>, distrusted: &[&str]) -> String {
    let languages: Vec<String> = g.criteria.iter().map(|c| c.scope.to_string()).collect();
    let mut text = format!(
        "the judge is not trusted in {} ({})",
        languages.join(", "),
        by_reason(&g.criteria).join("; ")
    );
    if !distrusted.is_empty() {
        text.push_str(&format!(
            ", so {} {} not count",
            distrusted.join(", "),
            if distrusted.len() == 1 { "does" } else { "do" }
        ));
    }
    text
}

/// The failing criteria of a verdict, grouped by name in their order.
pub struct Group<'a> {
    pub name: &'a str,
    /// Worst first.
    pub criteria: Vec<&'a Criterion>,
}

pub fn failing_groups(v: &Verdict) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for c in v.failing() {
        match groups.iter_mut().find(|g| g.name == c.name) {
            Some(g) => g.criteria.push(c),
            None => groups.push(Group {
                name: &c.name,
                criteria: vec![c],
            }),
        }
    }
    for g in &mut groups {
        // Worst first: the lowest of an at-least measure, the highest of an at-most one;
        // nothing measured counts as worst.
        g.criteria.sort_by(|a, b| {
            let key = |c: &Criterion| match (c.measured, c.threshold.bound) {
                (None, _) => f64::NEG_INFINITY,
                (Some(x), Bound::AtLeast) => x,
                (Some(x), Bound::AtMost) => -x,
            };
            key(a).total_cmp(&key(b))
        });
    }
    groups
}

/// One line per failing criterion: its threshold and its worst slices.
pub fn group_lines(v: &Verdict) -> Vec<String> {
    failing_groups(v)
        .iter()
        .map(|g| {
            if g.name == JUDGE_CALIBRATION {
                return format!(
                    "{} ({}): {}",
                    g.name,
                    gate_text::threshold(&g.criteria[0].threshold),
                    by_reason(&g.criteria).join(" · ")
                );
            }
            let worst: Vec<String> = g
                .criteria
                .iter()
                .take(WORST_SHOWN)
                .map(|c| format!("{} {}", c.scope, gate_text::measured(v, c)))
                .collect();
            let more = g.criteria.len().saturating_sub(WORST_SHOWN);
            // The widest reason: the one naming the most languages.
            let distrusted = g
                .criteria
                .iter()
                .filter_map(|c| c.detail.as_deref())
                .max_by_key(|d| d.len())
                .map(|d| format!(" — {d}"))
                .unwrap_or_default();
            format!(
                "{} ({}): {}{}{distrusted}",
                g.name,
                gate_text::threshold(&g.criteria[0].threshold),
                worst.join(" · "),
                if more > 0 {
                    format!(" · and {more} more")
                } else {
                    String::new()
                }
            )
        })
        .collect()
}

/// A failing criterion in words a PM reads.
fn clause(model: &ReportModel, v: &Verdict, g: &Group<'_>) -> String {
    let worst = g.criteria[0];
    let measured = gate_text::measured(v, worst);
    let languages: Vec<&str> = g
        .criteria
        .iter()
        .filter_map(|c| match &c.scope {
            Scope::Language { language } => Some(language.as_str()),
            _ => None,
        })
        .collect();
    let in_languages = |what: &str| {
        if languages.is_empty() {
            format!("{what} ({measured} {})", worst.scope)
        } else {
            format!("{}: {what} ({measured} at worst)", languages.join(", "))
        }
    };
    match g.name {
        "language_match_rate" => in_languages("replies not in the customer's language"),
        "missed_escalations" => format!(
            "{} customer{} who needed a human did not reach one",
            model.summary.metrics.overall.missed_escalations,
            if model.summary.metrics.overall.missed_escalations == 1 {
                ""
            } else {
                "s"
            }
        ),
        "significant_regressions" => {
            let regressed = model
                .diff
                .as_ref()
                .and_then(|d| d.counts.get("regressed").copied())
                .unwrap_or(0);
            let against = model
                .diff
                .as_ref()
                .map(|d| {
                    d.base
                        .prompt
                        .label
                        .clone()
                        .unwrap_or_else(|| d.base.run_id.clone())
                })
                .unwrap_or_else(|| "the baseline".into());
            format!(
                "{regressed} case{} regressed against {against} ({measured} significant slice{})",
                if regressed == 1 { "" } else { "s" },
                if measured == "1" { "" } else { "s" }
            )
        }
        "deflection_rate" => in_languages("customers kept without being helped"),
        "unverified_rate" => in_languages("results no content check or judge could fail"),
        "unreviewed_drafts" => format!(
            "{measured} draft case{} nobody has approved ran (--include-drafts)",
            if measured == "1" { "" } else { "s" }
        ),
        "min_cases" => format!(
            "too few cases in {} cell{} (fewest: {} {measured})",
            g.criteria.len(),
            if g.criteria.len() == 1 { "" } else { "s" },
            worst.scope
        ),
        name => {
            let slices = g.criteria.len();
            format!(
                "{name} misses {} in {slices} slice{} (worst: {} {measured})",
                gate_text::threshold(&worst.threshold),
                if slices == 1 { "" } else { "s" },
                worst.scope
            )
        }
    }
}

fn is_template_comment(line: &str) -> bool {
    line.starts_with("{#") && line.ends_with("#}")
}

/// "the prompt changed by +1 −0 lines: 'Always reply in English …'", when it did.
pub fn prompt_change(model: &ReportModel) -> Option<String> {
    let diff = model.diff.as_ref()?.prompt_diff.as_ref()?;
    let changed = |sign: char| {
        diff.lines()
            .filter(move |l| l.starts_with(sign) && !l.starts_with(&format!("{sign}{sign}{sign}")))
    };
    let added = changed('+').count();
    let removed = changed('-').count();
    // The first changed line with words in it: a `{# version #}` label says nothing.
    let first = changed('+')
        .chain(changed('-'))
        .map(|l| l[1..].trim())
        .find(|l| !l.is_empty() && !is_template_comment(l))
        .map(|l| {
            let cut: String = l.chars().take(80).collect();
            if cut.len() < l.len() {
                format!(": '{cut}…'")
            } else {
                format!(": '{cut}'")
            }
        })
        .unwrap_or_default();
    Some(format!(
        "the prompt changed by +{added} −{removed} line{}{first}",
        if added + removed == 1 { "" } else { "s" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::{Threshold, Unit};
    use crate::metrics::MetricsBuilder;
    use crate::summary::RunSummary;

    fn failing(name: &str, scope: Scope, measured: f64, threshold: Threshold) -> Criterion {
        Criterion {
            name: name.into(),
            scope,
            threshold,
            measured: Some(measured),
            unmeasured: None,
            passed: false,
            detail: None,
        }
    }

    fn language(l: &str) -> Scope {
        Scope::Language { language: l.into() }
    }

    fn model(gate: Option<Verdict>) -> ReportModel {
        ReportModel {
            summary: RunSummary::fixture(MetricsBuilder::default().finish()),
            gate,
            diff: None,
            missed_escalations: vec![],
            unauthorised_actions: vec![],
            judge_trust: None,
        }
    }

    #[test]
    fn a_blocked_launch_says_why_worst_first() {
        let share = |v| Threshold::at_least(v, Unit::Share);
        let mut v = Verdict::fixture(false, false);
        v.criteria = vec![
            failing("pass_rate", Scope::Overall, 0.5, share(0.9)),
            failing("language_match_rate", language("pl"), 0.2, share(0.95)),
            failing("language_match_rate", language("de"), 0.0, share(0.95)),
        ];
        let s = sentence(&model(Some(v.clone())));
        assert_eq!(
            s,
            "Blocked: de, pl: replies not in the customer's language (0% at worst); pass_rate misses >= 90% in 1 slice (worst: overall 50%)."
        );
        assert_eq!(
            group_lines(&v),
            [
                "pass_rate (>= 90%): overall 50%",
                "language_match_rate (>= 95%): de 0% · pl 20%"
            ]
        );
    }

    #[test]
    fn no_verdict_is_said_plainly() {
        let mut m = model(Some(Verdict::fixture(true, false)));
        assert!(sentence(&m).starts_with("Ready: all 0 launch criteria are met"));
        m.summary.complete = false;
        m.summary.planned = 200;
        m.summary.written = 40;
        m.summary.interrupted = true;
        assert!(
            sentence(&m).starts_with("Not a verdict: the run holds 40 of 200 planned results"),
            "{}",
            sentence(&m)
        );
        let m = model(None);
        assert!(sentence(&m).starts_with("No gate:"));
    }
}
