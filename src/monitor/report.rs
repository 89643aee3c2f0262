//! The monitor's one model, and its JSON and Markdown views (HTML is in `html.rs`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::metrics::{Figures, SliceFigures};
use super::rollback::{self, EvalRates, RollbackVerdict};
use super::sample::LiveJudged;
use crate::report::percent;

/// Everything `monitor` found: `monitor.json` is this, serialized.
#[derive(Debug, Clone, Serialize)]
pub struct MonitorReport {
    pub generated_at: String,
    pub exports: Vec<String>,
    #[serde(flatten)]
    pub figures: Figures,
    pub rollback: RollbackSection,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eval: Option<EvalRates>,
    /// Per language, with `--judge-sample`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge_sample: Option<BTreeMap<String, LiveJudged>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RollbackSection {
    /// The gate file the trigger came from; none when there was no `rollback:` block.
    pub gate: Option<String>,
    #[serde(flatten)]
    pub verdict: RollbackVerdict,
}

/// `62.5%`, or `-` for a rate with nothing to divide by.
pub fn rate(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_string(), percent)
}

/// A CSAT mean with two decimals, or `-`.
pub fn csat(c: Option<f64>) -> String {
    c.map_or_else(|| "-".to_string(), |c| format!("{c:.2}"))
}

/// Markdown cells are one line and their pipes escaped: languages and ids come from the
/// export.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn figures_row(name: &str, f: &SliceFigures) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        cell(name),
        f.conversations,
        f.pending,
        rate(f.containment_rate),
        rate(f.escalation_rate),
        rate(f.repeat_contact_rate),
        rate(f.durable_resolution_rate),
        csat(f.csat_contained),
        csat(f.csat_escalated),
    )
}

const FIGURES_HEAD: &str = "| | conversations | pending | containment | escalation | repeat contacts | durable resolution | CSAT contained | CSAT escalated |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";

/// monitor.md: the verdict, then the figures per language, per week, and the sample.
pub fn render_markdown(r: &MonitorReport) -> String {
    let f = &r.figures;
    let mut out = String::from("# Production monitor\n\n");
    let _ = writeln!(
        out,
        "{} conversations from {}; repeat window {} days; latest start {}. A conversation whose window ends after the latest start is **pending**: counted, and left out of every rate.\n",
        f.overall.conversations,
        r.exports
            .iter()
            .map(|e| cell(e))
            .collect::<Vec<_>>()
            .join(", "),
        f.repeat_window_days,
        f.latest_started_at.as_deref().unwrap_or("-"),
    );
    out.push_str("## Rollback trigger\n\n");
    match &r.rollback.gate {
        None => out.push_str("No `rollback:` block in the gate file: nothing to trigger.\n\n"),
        Some(gate) => {
            let _ = writeln!(
                out,
                "**{}** — {} · `{}`\n",
                if r.rollback.verdict.passed {
                    "HOLD"
                } else {
                    "ROLL BACK"
                },
                if r.rollback.verdict.passed {
                    "no criterion failed"
                } else {
                    "a criterion failed"
                },
                cell(gate)
            );
            out.push_str(
                "| | criterion | scope | threshold | measured |\n| --- | --- | --- | --- | --- |\n",
            );
            for c in &r.rollback.verdict.criteria {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    rollback::status(c),
                    c.criterion,
                    cell(&c.scope),
                    rollback::threshold(c),
                    c.note.clone().unwrap_or_else(|| rollback::measured(c)),
                );
            }
            out.push('\n');
        }
    }
    out.push_str("## Funnel per language\n\nSettled conversations → contained → durably resolved (no repeat contact in the window); settled → escalated.\n\n| language | settled | contained | durably resolved | escalated | repeat contacts | pending |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (language, m) in f
        .by_language
        .iter()
        .chain([(&"overall".to_string(), &f.overall)])
    {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(language),
            m.settled,
            m.contained,
            m.durably_resolved,
            m.escalated,
            m.repeat_contacts,
            m.pending
        );
    }
    out.push_str("\n## Per language\n\n");
    out.push_str(FIGURES_HEAD);
    for (language, m) in &f.by_language {
        out.push_str(&figures_row(language, m));
    }
    out.push_str(&figures_row("overall", &f.overall));
    out.push_str("\n## Per ISO week\n\n");
    out.push_str(FIGURES_HEAD);
    for (week, m) in &f.by_week {
        out.push_str(&figures_row(week, m));
    }
    out.push_str("\n## Durable resolution per language and week\n\n");
    let weeks: Vec<&String> = f.by_week.keys().collect();
    let _ = writeln!(
        out,
        "| language | {} |\n| --- |{}",
        weeks
            .iter()
            .map(|w| w.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        " ---: |".repeat(weeks.len())
    );
    for (language, by_week) in &f.by_language_week {
        let cells: Vec<String> = weeks
            .iter()
            .map(|w| rate(by_week.get(*w).and_then(|m| m.durable_resolution_rate)))
            .collect();
        let _ = writeln!(out, "| {} | {} |", cell(language), cells.join(" | "));
    }
    if let Some(sample) = &r.judge_sample {
        out.push_str("\n## Judged sample of contained conversations\n\n| language | sampled | judged | judge errors | live deflection | live hallucination |\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
        for (language, s) in sample {
            let _ = writeln!(
                out,
                "| {} | {} of {} | {} | {} | {} | {} |",
                cell(language),
                s.sampled,
                s.population,
                s.judged,
                s.judge_errors,
                rate(s.live_deflection_rate),
                rate(s.live_hallucination_rate)
            );
        }
    }
    out
}

/// The terminal's summary: one line per language, then the trigger.
pub fn render_terminal(r: &MonitorReport) -> String {
    let f = &r.figures;
    let mut out = format!(
        "{} conversations ({} pending) · repeat window {} days\n",
        f.overall.conversations, f.overall.pending, f.repeat_window_days
    );
    let width = f
        .by_language
        .keys()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    for (language, m) in f
        .by_language
        .iter()
        .chain([(&"overall".to_string(), &f.overall)])
    {
        let _ = writeln!(
            out,
            "  {language:<width$}  {:>6} settled  contained {:>6}  repeat {:>6}  durable {:>6}",
            m.settled,
            rate(m.containment_rate),
            rate(m.repeat_contact_rate),
            rate(m.durable_resolution_rate),
        );
    }
    if let Some(sample) = &r.judge_sample {
        for (language, s) in sample {
            let _ = writeln!(
                out,
                "  judged {language}: {} of {} sampled · live deflection {} · live hallucination {}{}",
                s.judged,
                s.sampled,
                rate(s.live_deflection_rate),
                rate(s.live_hallucination_rate),
                if s.judge_errors > 0 {
                    format!(" · {} judge errors", s.judge_errors)
                } else {
                    String::new()
                }
            );
        }
    }
    match &r.rollback.gate {
        Some(gate) => out.push_str(&rollback::render_text(&r.rollback.verdict, gate)),
        None => out.push_str("No rollback: block in the gate file; nothing to trigger.\n"),
    }
    out
}
