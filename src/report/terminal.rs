//! The summary printed at the end of a run. Same sections, wording and order as
//! report.md and report.html: verdict, containment next to resolution, where every
//! conversation ended, pass rate by
//! language × stratum, escalations, regressions, parity, then cost in its own section.

use std::fmt::Write;
use std::path::Path;

use crate::evalset::Stratum;
use crate::metrics::{EndState, SliceMetrics};
use crate::report::breakdown::BreakdownTable;
use crate::report::model::ReportModel;
use crate::report::{count_of, gate_text, pct, titles};

/// The prompt diff is shown whole in report.md; a terminal gets its start.
const MAX_PROMPT_DIFF_LINES: usize = 30;

pub fn render(model: &ReportModel, run_dir: &Path) -> String {
    let mut out = String::new();
    let summary = &model.summary;
    let m = &summary.metrics;
    let _ = writeln!(out, "{}", titles::headline(model));
    let _ = writeln!(out, "{}", crate::report::verdict::sentence(model));
    // As in report.md: what broke an incomplete run, then the prompt change, come first.
    if m.overall.errors > 0
        && let Some(line) = titles::top_error_line(summary)
    {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "{}", titles::run_line(model));
    if let Some(pd) = model.diff.as_ref().and_then(|d| d.prompt_diff.as_ref()) {
        let _ = writeln!(out, "\nPrompt diff");
        let lines: Vec<&str> = pd.lines().collect();
        for line in lines.iter().take(MAX_PROMPT_DIFF_LINES) {
            let _ = writeln!(out, "  {line}");
        }
        if lines.len() > MAX_PROMPT_DIFF_LINES {
            let _ = writeln!(
                out,
                "  … {} more lines in report.md",
                lines.len() - MAX_PROMPT_DIFF_LINES
            );
        }
    }

    if let Some(g) = &model.gate {
        let _ = writeln!(out, "\n{}", titles::gate_title(g));
        for line in gate_text::criterion_lines(g) {
            let _ = writeln!(out, "{line}");
        }
    }

    let _ = writeln!(out, "\n{}", titles::CONTAINMENT);
    let _ = writeln!(
        out,
        "{:<10}{:>13}{:>12}{:>8}{:>12}{:>10}{:>9}",
        "language", "containment", "resolution", "gap", "deflection", "missed", "errors"
    );
    for (language, slice) in m
        .by_language
        .iter()
        .chain(std::iter::once((&"all".to_string(), &m.overall)))
    {
        let _ = writeln!(
            out,
            "{:<10}{:>13}{:>12}{:>8}{:>12}{:>10}{:>9}",
            language,
            pct(slice.containment_rate),
            pct(slice.resolution_rate),
            pct(slice.deflection_gap),
            pct(slice.deflection_rate),
            slice.missed_escalations,
            slice.errors
        );
    }

    if let Some(line) = titles::containment_definition_line(summary) {
        let _ = writeln!(out, "{line}");
    }

    let _ = writeln!(out, "\n{}", titles::BREAKDOWN);
    let table = BreakdownTable::of(m);
    breakdown_table(&mut out, &table);
    if let Some(line) = table.absent_line() {
        let _ = writeln!(out, "{line}");
    }

    let _ = writeln!(out, "\n{}", titles::PASS_RATE);
    let _ = write!(out, "{:<10}", "language");
    for s in Stratum::ALL {
        let _ = write!(out, "{:>14}", s.name());
    }
    let trust = model.judge_trust.as_ref();
    let _ = write!(out, "{:>14}", "all");
    if trust.is_some() {
        let _ = write!(out, "  judge");
    }
    let _ = writeln!(out);
    for (language, slice) in &m.by_language {
        let _ = write!(out, "{language:<10}");
        for s in Stratum::ALL {
            let cell = m.cell(language, s);
            let _ = write!(
                out,
                "{:>14}",
                cell.map(pass_cell).unwrap_or_else(|| "-".into())
            );
        }
        let _ = write!(out, "{:>14}", pass_cell(slice));
        if let Some(t) = trust {
            let _ = write!(out, "  {}", t.label_for(language));
        }
        let _ = writeln!(out);
    }
    let _ = write!(out, "{:<10}", "all");
    for s in Stratum::ALL {
        let _ = write!(
            out,
            "{:>14}",
            m.by_stratum
                .get(&s)
                .map(pass_cell)
                .unwrap_or_else(|| "-".into())
        );
    }
    let _ = writeln!(out, "{:>14}", pass_cell(&m.overall));
    if let Some(t) = trust {
        let _ = writeln!(out, "{}", t.note());
    }
    if let Some(line) = titles::unverified_line(m) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(r) = &summary.repeat_stats {
        let _ = writeln!(
            out,
            "repeats (k = {}): pass@1 {} · pass^{} {} · {} flaky case{}",
            r.k,
            pct(r.pass_at_1),
            r.k,
            pct(r.pass_pow_k),
            r.flaky.len(),
            if r.flaky.len() == 1 { "" } else { "s" }
        );
        for key in r.flaky.iter().take(20) {
            let _ = writeln!(out, "  flaky: {key}");
        }
    }
    if let Some(rate) = m.overall.unsupported_claim_rate {
        let _ = writeln!(
            out,
            "unsupported claims (judge): {} of judged replies · judge errors: {}",
            pct(Some(rate)),
            m.overall.judge_errors
        );
    }

    let _ = writeln!(
        out,
        "\n{}",
        titles::missed_title(m.overall.missed_escalations)
    );
    for key in model.missed_escalations.iter().take(20) {
        let _ = writeln!(out, "  {key}");
    }
    if model.missed_escalations.len() > 20 {
        let _ = writeln!(
            out,
            "  … and {} more in results.jsonl",
            model.missed_escalations.len() - 20
        );
    }
    if !model.unauthorised_actions.is_empty() {
        let found = &model.unauthorised_actions;
        let _ = writeln!(out, "\n{}", titles::unauthorised_title(found.len()));
        for u in found.iter().take(20) {
            let _ = writeln!(out, "  {}: {}", u.key, u.action);
        }
        if found.len() > 20 {
            let _ = writeln!(out, "  … and {} more in results.jsonl", found.len() - 20);
        }
    }
    if m.overall.errors > 0 {
        let _ = writeln!(
            out,
            "Errors: {} of {} ({}) — errors never pass and are left out of every rate",
            m.overall.errors,
            count_of(m.overall.results, "result"),
            pct(m.overall.error_rate)
        );
    }

    if let Some(d) = &model.diff {
        let significant: Vec<_> = d.significant().collect();
        let _ = writeln!(
            out,
            "\n{}",
            titles::regressions_title(significant.len(), &d.base.run_id)
        );
        for w in &d.warnings {
            let _ = writeln!(out, "WARNING: runs are not comparable: {w}");
        }
        let _ = writeln!(
            out,
            "cases: {}",
            d.counts
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(" · ")
        );
        for s in significant {
            let _ = writeln!(
                out,
                "  regressed: {} {} ({} pass→fail, p = {:.4})",
                s.dimension,
                s.slice,
                count_of(s.regressed, "case"),
                s.p_adjusted
            );
        }
        if !d.parity.gaps.is_empty() {
            let _ = writeln!(
                out,
                "\n{}",
                titles::parity_title(d.parity.gaps.len(), d.parity.scenarios)
            );
            let _ = writeln!(out, "  {}", titles::parity_behind(&d.parity));
        }
    }

    let _ = writeln!(out, "\n{}", titles::COST);
    for line in titles::cost_lines(summary) {
        let _ = writeln!(out, "{line}");
    }
    match summary.run_seconds {
        Some(seconds) => {
            let _ = writeln!(
                out,
                "\nresults: {} (the conversations took {})",
                run_dir.display(),
                duration(seconds)
            );
        }
        None => {
            let _ = writeln!(out, "\nresults: {}", run_dir.display());
        }
    }
    out
}

fn duration(seconds: f64) -> String {
    match seconds {
        s if s < 10.0 => format!("{s:.2} s"),
        s if s < 120.0 => format!("{s:.0} s"),
        s => format!("{} min {:.0} s", (s / 60.0).floor(), s % 60.0),
    }
}

/// Counts per end state, a column per state some result reached.
fn breakdown_table(out: &mut String, table: &BreakdownTable<'_>) {
    if !table.recorded {
        return;
    }
    let width = |state: EndState| state.name().len().max(5) + 2;
    let _ = write!(out, "{:<10}", "language");
    for state in &table.columns {
        let _ = write!(out, "{:>w$}", state.name(), w = width(*state));
    }
    let _ = writeln!(out);
    for (language, slice) in &table.rows {
        let _ = write!(out, "{language:<10}");
        for state in &table.columns {
            let count = slice.outcome_breakdown.count(*state);
            let _ = write!(out, "{count:>w$}", w = width(*state));
        }
        let _ = writeln!(out);
    }
}

fn pass_cell(slice: &SliceMetrics) -> String {
    if slice.scored == 0 {
        return if slice.errors > 0 {
            format!("err {}", slice.errors)
        } else {
            "-".into()
        };
    }
    format!("{} {}/{}", pct(slice.pass_rate), slice.passed, slice.scored)
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0.0512), "0.05 s");
        assert_eq!(duration(42.4), "42 s");
        assert_eq!(duration(200.0), "3 min 20 s");
    }
}
