//! `report.md`: written for a pull-request comment. Same sections, wording and order as
//! the terminal summary and report.html: verdict, containment next to resolution, pass
//! rate by language × stratum, escalations, regressions, parity, then cost.

use std::fmt::Write;

use crate::diff::text::inline;
use crate::evalset::Stratum;
use crate::report::export::{Exporter, ReportError, ReportFormat};
use crate::report::model::ReportModel;
use crate::report::{gate_text, pct, titles};
use crate::result_index::ResultIndex;

/// Longest list of cases shown in one section; the rest are counted.
const MAX_LISTED: usize = 25;

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

pub fn render(model: &ReportModel) -> String {
    let mut out = String::new();
    let s = &model.summary;
    let m = &s.metrics;
    let _ = writeln!(out, "## {}", titles::headline(model));
    // An incomplete run leads with what broke it: the reader's next step.
    if m.overall.errors > 0
        && let Some(line) = titles::top_error_line(s)
    {
        let _ = writeln!(out, "\n> **{}**", escape(&line));
    }
    let _ = writeln!(out, "\n{}", escape(&titles::run_line(model)));

    if let Some(g) = &model.gate {
        let _ = writeln!(out, "\n### {}", escape(&titles::gate_title(g)));
        let failing: Vec<_> = gate_text::rows(g)
            .into_iter()
            .filter(|r| !r.passed)
            .collect();
        if !failing.is_empty() {
            let _ = writeln!(
                out,
                "\n| criterion | scope | threshold | measured |\n|---|---|---|---|"
            );
            for r in failing {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    r.name,
                    r.scope,
                    escape(&r.threshold),
                    escape(&r.measured)
                );
            }
        }
    }

    let _ = writeln!(out, "\n### {}\n", titles::CONTAINMENT);
    let _ = writeln!(
        out,
        "| language | containment | resolution | deflection | missed escalations | errors |\n|---|---|---|---|---|---|"
    );
    for (lang, slice) in m
        .by_language
        .iter()
        .chain(std::iter::once((&"all".to_string(), &m.overall)))
    {
        let _ = writeln!(
            out,
            "| {lang} | {} | {} | {} | {} | {} |",
            pct(slice.containment_rate),
            pct(slice.resolution_rate),
            pct(slice.deflection_rate),
            slice.missed_escalations,
            slice.errors
        );
    }

    let _ = writeln!(out, "\n### {}\n", titles::PASS_RATE);
    let _ = write!(out, "| language |");
    for st in Stratum::ALL {
        let _ = write!(out, " {st} |");
    }
    let _ = writeln!(out, " all |\n|---|---|---|---|---|---|");
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
        let _ = writeln!(
            out,
            " {} ({}/{}) |",
            pct(slice.pass_rate),
            slice.passed,
            slice.scored
        );
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
                let _ = writeln!(out, "  - reply: {}", escape(&inline(&r.reply_diff)));
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
        if let Some(pd) = &d.prompt_diff {
            let _ = writeln!(
                out,
                "\n<details><summary>Prompt diff</summary>\n\n```diff\n{}```\n\n</details>",
                pd.replace("```", "``\u{200b}`")
            );
        }
    }

    let _ = writeln!(out, "\n### {}\n", titles::COST);
    for line in titles::cost_lines(s) {
        let _ = writeln!(out, "{line}  ");
    }
    out
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

    #[test]
    fn bot_text_cannot_inject_markdown_or_html() {
        assert_eq!(
            escape("<script>x</script> | *a* `b`\nc"),
            "&lt;script&gt;x&lt;/script&gt; \\| \\*a\\* \\`b\\` c"
        );
    }
}
