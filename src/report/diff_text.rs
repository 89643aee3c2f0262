//! `evalgate diff` on a terminal: warnings first, then case counts, significant slice
//! regressions, regressed cases with their word diff, parity and the prompt diff.

use std::fmt::Write;

use crate::diff::Diff;
use crate::diff::text::inline;
use crate::report::pct;

const MAX_CASES: usize = 30;

pub fn render(d: &Diff) -> String {
    let mut out = String::new();
    let label = |p: &crate::summary::PromptInfo| {
        p.label
            .clone()
            .or_else(|| p.hash.clone())
            .unwrap_or_else(|| "no prompt".into())
    };
    // A bot evalgate holds no prompt of is told apart by its version label.
    let bot = |r: &crate::diff::RunRef| {
        r.bot_version
            .as_ref()
            .map(|v| format!(", bot {v}"))
            .unwrap_or_default()
    };
    let _ = writeln!(
        out,
        "evalgate diff: {} (prompt {}{}) → {} (prompt {}{})",
        d.base.run_id,
        label(&d.base.prompt),
        bot(&d.base),
        d.new.run_id,
        label(&d.new.prompt),
        bot(&d.new)
    );
    for w in &d.warnings {
        let _ = writeln!(out, "WARNING: runs are not comparable: {w}");
    }
    let counts: Vec<String> = d.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(out, "cases: {}", counts.join(" · "));

    let significant: Vec<_> = d.significant().collect();
    let _ = writeln!(
        out,
        "\nSignificant regressions (paired exact McNemar, Holm-adjusted p < 0.05): {}",
        significant.len()
    );
    for s in &significant {
        let pr = s.metrics.get("pass_rate");
        let _ = writeln!(
            out,
            "  {:<18} {:<20} pass rate {} → {}  ({} regressed, {} fixed, p = {:.4})",
            s.dimension,
            s.slice,
            pct(pr.and_then(|p| p.base)),
            pct(pr.and_then(|p| p.new)),
            s.regressed,
            s.fixed,
            s.p_adjusted
        );
    }
    let moved: Vec<_> = d
        .slices
        .iter()
        .filter(|s| s.dimension == "language" && !s.significant_regression && s.regressed > 0)
        .collect();
    for s in moved {
        let _ = writeln!(
            out,
            "  (not significant) language {:<8} {} regressed, {} fixed, p = {:.4}",
            s.slice, s.regressed, s.fixed, s.p_adjusted
        );
    }

    if !d.regressions.is_empty() {
        let _ = writeln!(out, "\nRegressed cases: {}", d.regressions.len());
        for r in d.regressions.iter().take(MAX_CASES) {
            let _ = writeln!(out, "  {}{}", r.key, if r.flaky { "  [flaky]" } else { "" });
            for c in &r.failing_checks {
                let _ = writeln!(out, "    ✗ {}: {}", c.name, c.detail);
            }
            for reason in &r.judge_reasons {
                let _ = writeln!(out, "    judge: {reason}");
            }
            if let Some(e) = &r.new_error {
                let _ = writeln!(out, "    error: {e}");
            }
            let _ = writeln!(out, "    reply: {}", one_line(&inline(&r.reply_diff)));
        }
        if d.regressions.len() > MAX_CASES {
            let _ = writeln!(
                out,
                "  … and {} more (--format json lists all)",
                d.regressions.len() - MAX_CASES
            );
        }
    }
    let fixed: Vec<_> = d
        .changed
        .iter()
        .filter(|c| c.status == crate::diff::CaseStatus::Fixed)
        .collect();
    if !fixed.is_empty() {
        let keys: Vec<&str> = fixed
            .iter()
            .take(MAX_CASES)
            .map(|c| c.key.as_str())
            .collect();
        let _ = writeln!(out, "\nFixed cases: {}: {}", fixed.len(), keys.join(", "));
    }
    if !d.parity.gaps.is_empty() {
        let _ = writeln!(
            out,
            "\nParity (new run): {} of {} scenarios uneven; {}",
            d.parity.gaps.len(),
            d.parity.scenarios,
            crate::report::titles::parity_behind(&d.parity)
        );
    }
    if let Some(p) = &d.prompt_diff {
        let _ = writeln!(out, "\nPrompt diff:\n{p}");
    }
    out
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}
