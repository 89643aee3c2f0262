//! `report.md`: written for a pull-request comment. Verdict first, then what failed, what
//! regressed, where languages fall behind, and cost last, in its own section.

use std::fmt::Write;

use crate::diff::text::inline;
use crate::evalset::Stratum;
use crate::report::model::ReportModel;
use crate::report::pct;

/// Longest list of cases shown in one section; the rest are counted.
const MAX_LISTED: usize = 25;

pub fn render(model: &ReportModel) -> String {
    let mut out = String::new();
    let s = &model.summary;
    let m = &s.metrics;
    let _ = writeln!(out, "## evalgate: {}", model.headline());
    let prompt = s
        .meta
        .prompt
        .label
        .clone()
        .or_else(|| s.meta.prompt.hash.as_deref().map(|h| short(h).to_string()))
        .unwrap_or_else(|| "no prompt".into());
    let _ = writeln!(
        out,
        "\nRun `{}` · bot `{}/{}` · prompt `{}` · judge `{}` · eval sets `{}` · {} results{}",
        s.meta.run_id,
        s.meta.bot.provider,
        s.meta.bot.model,
        prompt,
        s.meta.judge.as_deref().unwrap_or("none"),
        short(&s.meta.evalset_hash),
        s.written,
        if s.complete {
            String::new()
        } else {
            format!(" of {} planned (incomplete)", s.planned)
        }
    );
    if let Some(d) = &model.diff {
        let base_prompt = d
            .base
            .prompt
            .label
            .clone()
            .or_else(|| d.base.prompt.hash.as_deref().map(|h| short(h).to_string()))
            .unwrap_or_else(|| "no prompt".into());
        let _ = writeln!(
            out,
            "\nBaseline `{}` (prompt `{}`)",
            d.base.run_id, base_prompt
        );
        for w in &d.warnings {
            let _ = writeln!(out, "\n> **Warning: the runs are not comparable:** {w}");
        }
    }

    if let Some(g) = &model.gate {
        let failing: Vec<_> = g.failing().collect();
        let _ = writeln!(
            out,
            "\n### Gate: {} of {} criteria failed",
            failing.len(),
            g.criteria.len()
        );
        let _ = writeln!(
            out,
            "\nGate file `{}` (`{}`)",
            g.gate_path,
            short(&g.gate_hash)
        );
        if !failing.is_empty() {
            let _ = writeln!(
                out,
                "\n| criterion | scope | threshold | measured |\n|---|---|---|---|"
            );
            for c in failing {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    c.name, c.scope, c.threshold, c.measured
                );
            }
        }
    }

    if let Some(d) = &model.diff {
        let significant: Vec<_> = d.significant().collect();
        let _ = writeln!(
            out,
            "\n### Regressions vs the baseline: {} significant slice{}",
            significant.len(),
            plural(significant.len())
        );
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
                    sl.slice,
                    pct(pr.and_then(|p| p.base)),
                    pct(pr.and_then(|p| p.new)),
                    sl.regressed,
                    sl.fixed,
                    sl.p_adjusted
                );
            }
        }
        if !d.regressions.is_empty() {
            let _ = writeln!(
                out,
                "\n<details><summary>{} regressed case{}</summary>\n",
                d.regressions.len(),
                plural(d.regressions.len())
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
                    r.key,
                    if r.flaky { " (flaky)" } else { "" },
                    escape(&checks.join("; "))
                );
                for reason in &r.judge_reasons {
                    let _ = writeln!(out, "  - judge: {}", escape(reason));
                }
                let _ = writeln!(out, "  - reply: {}", escape(&inline(&r.reply_diff)));
            }
            if d.regressions.len() > MAX_LISTED {
                let _ = writeln!(
                    out,
                    "- … and {} more (see `evalgate diff`)",
                    d.regressions.len() - MAX_LISTED
                );
            }
            let _ = writeln!(out, "\n</details>");
        }
    }

    let _ = writeln!(
        out,
        "\n### Missed escalations: {}",
        m.overall.missed_escalations
    );
    if !model.missed_escalations.is_empty() {
        let _ = writeln!(out);
        for key in model.missed_escalations.iter().take(MAX_LISTED) {
            let _ = writeln!(out, "- {key}");
        }
        if model.missed_escalations.len() > MAX_LISTED {
            let _ = writeln!(
                out,
                "- … and {} more",
                model.missed_escalations.len() - MAX_LISTED
            );
        }
    }

    let _ = writeln!(out, "\n### Pass rate by language × stratum\n");
    let _ = write!(out, "| language |");
    for st in Stratum::ALL {
        let _ = write!(out, " {st} |");
    }
    let _ = writeln!(out, " all |\n|---|---|---|---|---|---|");
    for (lang, slice) in &m.by_language {
        let _ = write!(out, "| {lang} |");
        for st in Stratum::ALL {
            let cell = m.by_language_stratum.get(&format!("{lang}/{st}"));
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

    let _ = writeln!(
        out,
        "\n### Containment next to resolution (deflection is not resolution)\n"
    );
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

    if let Some(d) = &model.diff {
        if !d.parity.gaps.is_empty() {
            let behind: Vec<String> = d
                .parity
                .behind_count
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(l, n)| format!("{l} behind on {n}"))
                .collect();
            let _ = writeln!(
                out,
                "\n### Parity: {} of {} scenarios uneven across languages\n\n{}",
                d.parity.gaps.len(),
                d.parity.scenarios,
                behind.join(" · ")
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

    let _ = writeln!(
        out,
        "\n### Latency and tokens (reported apart from quality)\n"
    );
    match &m.overall.latency_ms {
        Some(l) => {
            let _ = writeln!(
                out,
                "Latency per bot turn: p50 {} ms · p95 {} ms · p99 {} ms  ",
                l.p50, l.p95, l.p99
            );
        }
        None => {
            let _ = writeln!(out, "Latency per bot turn: -  ");
        }
    }
    let _ = writeln!(
        out,
        "Tokens: {} in · {} out",
        m.overall.tokens_in, m.overall.tokens_out
    );
    out
}

/// Bot text in Markdown: no raw HTML, no accidental formatting, one line.
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

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn short(hash: &str) -> &str {
    let h = hash.strip_prefix("sha256:").unwrap_or(hash);
    &h[..h.len().min(12)]
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
