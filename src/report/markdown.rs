//! `report.md`: written for a pull-request comment. The verdict first in plain words, then
//! the prompt change (usually the cause), the gate failures one line per criterion, and
//! the same sections as the terminal summary and report.html: containment next to
//! resolution, where every conversation ended, pass rate by language × stratum, escalations, regressions, parity, cost.
//! It stays under [`BUDGET`] characters whatever the run: a PR comment has a limit.

use std::fmt::Write;

use crate::diff::text::inline;
use crate::evalset::Stratum;
use crate::report::breakdown::BreakdownTable;
use crate::report::export::{Exporter, ReportError, ReportFormat};
use crate::report::model::ReportModel;
use crate::report::{pct, titles, verdict};
use crate::result_index::ResultIndex;

/// Longest list of cases shown in one section; the rest are counted.
const MAX_LISTED: usize = 25;

/// The most report.md may hold: GitHub refuses comments over 65,536 characters, and the
/// workflow adds a few lines of its own.
pub const BUDGET: usize = 60_000;

/// Longest prompt diff shown; the whole prompt is in the run's prompt.txt.
const MAX_PROMPT_DIFF: usize = 8_000;

/// Longest word diff of one reply.
const MAX_REPLY_DIFF: usize = 600;

pub struct Markdown;

impl Exporter for Markdown {
    fn format(&self) -> ReportFormat {
        ReportFormat::Md
    }

    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn write(
        &self,
        model: &ReportModel,
        _index: &ResultIndex,
        out: &mut dyn std::io::Write,
    ) -> Result<(), ReportError> {
        out.write_all(render(model).as_bytes())?;
        Ok(())
    }
}

/// report.md, cut to [`BUDGET`] characters at a line boundary if it must be, saying what
/// was left out and where the rest is.
pub fn render(model: &ReportModel) -> String {
    fit(full(model), BUDGET)
}

fn fit(text: String, budget: usize) -> String {
    if text.chars().count() <= budget {
        return text;
    }
    let total = text.chars().count();
    let note_room = 300;
    let mut cut = String::new();
    for line in text.split_inclusive('\n') {
        if cut.chars().count() + line.chars().count() > budget - note_room {
            break;
        }
        cut.push_str(line);
    }
    let left_out = total - cut.chars().count();
    let _ = writeln!(
        cut,
        "\n> **report.md is cut here to fit a comment: {left_out} more characters are in the run's report.md and report.html (the artifact of this run).**"
    );
    cut
}

fn full(model: &ReportModel) -> String {
    let mut out = String::new();
    let s = &model.summary;
    let m = &s.metrics;
    let _ = writeln!(out, "## {}", titles::headline(model));
    let _ = writeln!(out, "\n**{}**", escape(&verdict::sentence(model)));
    // An incomplete run leads with what broke it: the reader's next step.
    if m.overall.errors > 0
        && let Some(line) = titles::top_error_line(s)
    {
        let _ = writeln!(out, "\n> **{}**", escape(&line));
    }
    let _ = writeln!(out, "\n{}", escape(&titles::run_line(model)));

    // The prompt change is usually the cause: it comes right after the verdict.
    if let Some(pd) = model.diff.as_ref().and_then(|d| d.prompt_diff.as_ref()) {
        let shown: String = pd.chars().take(MAX_PROMPT_DIFF).collect();
        let _ = writeln!(
            out,
            "\n### Prompt diff\n\n```diff\n{}```",
            shown.replace("```", "``\u{200b}`")
        );
        if shown.len() < pd.len() {
            let _ = writeln!(
                out,
                "\n… the diff goes on: {} more characters (the prompt is in the run's prompt.txt)",
                pd.chars().count() - shown.chars().count()
            );
        }
    }

    if let Some(g) = &model.gate {
        let _ = writeln!(out, "\n### {}", escape(&titles::gate_title(g)));
        let lines = verdict::group_lines(g);
        if !lines.is_empty() {
            let _ = writeln!(out);
            for line in lines {
                let _ = writeln!(out, "- FAIL {}", escape(&line));
            }
        }
    }

    let _ = writeln!(out, "\n### {}\n", titles::CONTAINMENT);
    let _ = writeln!(
        out,
        "| language | containment | resolution | gap | deflection | missed escalations | errors |\n|---|---|---|---|---|---|---|"
    );
    for (lang, slice) in m
        .by_language
        .iter()
        .chain(std::iter::once((&"all".to_string(), &m.overall)))
    {
        let _ = writeln!(
            out,
            "| {lang} | {} | {} | {} | {} | {} | {} |",
            pct(slice.containment_rate),
            pct(slice.resolution_rate),
            pct(slice.deflection_gap),
            pct(slice.deflection_rate),
            slice.missed_escalations,
            slice.errors
        );
    }

    if let Some(line) = titles::containment_definition_line(&model.summary) {
        let _ = writeln!(out, "\n{}", escape(&line));
    }

    let _ = writeln!(out, "\n### {}\n", titles::BREAKDOWN);
    let table = BreakdownTable::of(m);
    if table.recorded {
        let _ = write!(out, "| language |");
        for state in &table.columns {
            let _ = write!(out, " {} |", escape(state.name()));
        }
        let _ = writeln!(out, "\n|---|{}", "---|".repeat(table.columns.len()));
        for (lang, slice) in &table.rows {
            let _ = write!(out, "| {lang} |");
            for state in &table.columns {
                let _ = write!(out, " {} |", slice.outcome_breakdown.count(*state));
            }
            let _ = writeln!(out);
        }
    }
    if let Some(line) = table.absent_line() {
        // Below the table, or alone under the heading when there is none.
        let gap = if table.recorded { "\n" } else { "" };
        let _ = writeln!(out, "{gap}{}", escape(&line));
    }

    let _ = writeln!(out, "\n### {}\n", titles::PASS_RATE);
    let _ = write!(out, "| language |");
    for st in Stratum::ALL {
        let _ = write!(out, " {st} |");
    }
    let trust = model.judge_trust.as_ref();
    match trust {
        Some(_) => {
            let _ = writeln!(out, " all | judge |\n|---|---|---|---|---|---|---|");
        }
        None => {
            let _ = writeln!(out, " all |\n|---|---|---|---|---|---|");
        }
    }
    for (lang, slice) in &m.by_language {
        let _ = write!(out, "| {lang} |");
        for st in Stratum::ALL {
            let cell = m.cell(lang, st);
            let _ = write!(
                out,
                " {} |",
                cell.map(|c| format!("{} ({}/{})", pct(c.pass_rate), c.passed, c.scored))
                    .unwrap_or_else(|| "-".into())
            );
        }
        let _ = write!(
            out,
            " {} ({}/{}) |",
            pct(slice.pass_rate),
            slice.passed,
            slice.scored
        );
        if let Some(t) = trust {
            let _ = write!(out, " {} |", escape(&t.label_for(lang)));
        }
        let _ = writeln!(out);
    }
    if let Some(t) = trust {
        let _ = writeln!(out, "\n{}", escape(&t.note()));
    }
    if let Some(line) = titles::unverified_line(m) {
        let _ = writeln!(out, "\n> **{}**", escape(&line));
    }
    if let Some(r) = &s.repeat_stats {
        let _ = writeln!(
            out,
            "\nRepeats (k = {}): pass@1 {} · pass^{} {} · {} flaky",
            r.k,
            pct(r.pass_at_1),
            r.k,
            pct(r.pass_pow_k),
            r.flaky.len()
        );
    }

    let _ = writeln!(
        out,
        "\n### {}",
        titles::missed_title(m.overall.missed_escalations)
    );
    if !model.missed_escalations.is_empty() {
        let _ = writeln!(out);
        for key in model.missed_escalations.iter().take(MAX_LISTED) {
            let _ = writeln!(out, "- {}", escape(key));
        }
        if model.missed_escalations.len() > MAX_LISTED {
            let _ = writeln!(
                out,
                "- … and {} more",
                model.missed_escalations.len() - MAX_LISTED
            );
        }
    }

    if !model.unauthorised_actions.is_empty() {
        let found = &model.unauthorised_actions;
        let _ = writeln!(out, "\n### {}\n", titles::unauthorised_title(found.len()));
        for u in found.iter().take(MAX_LISTED) {
            let _ = writeln!(out, "- {}: {}", escape(&u.key), escape(&u.action));
        }
        if found.len() > MAX_LISTED {
            let _ = writeln!(out, "- … and {} more", found.len() - MAX_LISTED);
        }
    }

    if let Some(d) = &model.diff {
        let significant: Vec<_> = d.significant().collect();
        let _ = writeln!(
            out,
            "\n### {}",
            titles::regressions_title(significant.len(), &d.base.run_id)
        );
        for w in &d.warnings {
            let _ = writeln!(
                out,
                "\n> **Warning: the runs are not comparable:** {}",
                escape(w)
            );
        }
        let counts: Vec<String> = d.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "\nCases: {}", counts.join(" · "));
        if !significant.is_empty() {
            let _ = writeln!(
                out,
                "\n| slice | pass rate (baseline → new) | regressed | fixed | p (Holm) |\n|---|---|---|---|---|"
            );
            for sl in significant {
                let pr = sl.metrics.get("pass_rate");
                let _ = writeln!(
                    out,
                    "| {} {} | {} → {} | {} | {} | {:.4} |",
                    sl.dimension,
                    escape(&sl.slice),
                    pct(pr.and_then(|p| p.base)),
                    pct(pr.and_then(|p| p.new)),
                    sl.regressed,
                    sl.fixed,
                    sl.p_adjusted
                );
            }
        }
        if !d.regressions.is_empty() {
            let n = d.regressions.len();
            let _ = writeln!(
                out,
                "\n<details><summary>{n} regressed case{}</summary>\n",
                if n == 1 { "" } else { "s" }
            );
            for r in d.regressions.iter().take(MAX_LISTED) {
                let checks: Vec<String> = r
                    .failing_checks
                    .iter()
                    .map(|c| format!("{}: {}", c.name, c.detail))
                    .collect();
                let _ = writeln!(
                    out,
                    "- **{}**{} — {}",
                    escape(&r.key),
                    if r.flaky { " (flaky)" } else { "" },
                    escape(&checks.join("; "))
                );
                for reason in &r.judge_reasons {
                    let _ = writeln!(out, "  - judge: {}", escape(reason));
                }
                let _ = writeln!(out, "  - {}", escape(&reply_change(r)));
                if let Some((heading, turns)) = r.simulated_transcript.split_first() {
                    let _ = writeln!(out, "  - {}", escape(heading));
                    for turn in turns {
                        let _ = writeln!(out, "    - {}", escape(turn.trim_start()));
                    }
                }
            }
            if n > MAX_LISTED {
                let _ = writeln!(out, "- … and {} more (see `evalgate diff`)", n - MAX_LISTED);
            }
            let _ = writeln!(out, "\n</details>");
        }
        if !d.parity.gaps.is_empty() {
            let _ = writeln!(
                out,
                "\n### {}\n\n{}",
                titles::parity_title(d.parity.gaps.len(), d.parity.scenarios),
                titles::parity_behind(&d.parity)
            );
        }
    }

    let _ = writeln!(out, "\n### {}\n", titles::COST);
    for line in titles::cost_lines(s) {
        let _ = writeln!(out, "{line}  ");
    }
    out
}

/// How a regressed reply changed: its language, when that is what changed (a word diff
/// between two languages says nothing), else a word diff cut to [`MAX_REPLY_DIFF`].
fn reply_change(r: &crate::diff::RegressedCase) -> String {
    let language = r
        .failing_checks
        .iter()
        .find(|c| c.name == "language")
        .and_then(|c| {
            let (expected, detected) = c
                .detail
                .strip_prefix("expected ")?
                .split_once(", detected ")?;
            Some(format!("reply language {expected} → {detected}"))
        });
    if let Some(change) = language {
        return change;
    }
    let diff = inline(&r.reply_diff);
    let shown: String = diff.chars().take(MAX_REPLY_DIFF).collect();
    if shown.len() < diff.len() {
        format!("reply: {shown} …")
    } else {
        format!("reply: {shown}")
    }
}

fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '&' => s.push_str("&amp;"),
            '|' | '*' | '_' | '`' | '[' | ']' | '#' | '\\' => {
                s.push('\\');
                s.push(ch);
            }
            '\n' | '\r' => s.push(' '),
            _ => s.push(ch),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// However long the run, report.md fits a comment and says where the rest is.
    #[test]
    fn a_long_report_is_cut_to_the_budget_at_a_line() {
        let long: String = (0..5000)
            .map(|i| format!("line {i} of a long report\n"))
            .collect();
        let cut = fit(long.clone(), BUDGET);
        assert!(cut.chars().count() <= BUDGET, "{}", cut.len());
        assert!(cut.contains("report.md is cut here to fit a comment"));
        let before_note = cut.split("\n> **report.md").next().unwrap();
        assert!(long.starts_with(before_note), "cut at a line boundary");
        assert_eq!(fit("short\n".into(), BUDGET), "short\n");
    }

    #[test]
    fn bot_text_cannot_inject_markdown_or_html() {
        assert_eq!(
            escape("<script>x</script> | *a* `b`\nc"),
            "&lt;script&gt;x&lt;/script&gt; \\| \\*a\\* \\`b\\` c"
        );
    }
}
