//! The compact summary printed at the end of a run: quality first (pass rate per
//! language × stratum, containment next to resolution, missed escalations), then
//! latency and tokens in a section of their own.

use std::fmt::Write;
use std::path::Path;

use crate::evalset::Stratum;
use crate::metrics::SliceMetrics;
use crate::report::pct;
use crate::summary::RunSummary;

pub fn render(summary: &RunSummary, run_dir: &Path, missed: &[String]) -> String {
    let mut out = String::new();
    let meta = &summary.meta;
    let prompt = match (&meta.prompt.label, &meta.prompt.hash) {
        (Some(label), Some(hash)) => format!("prompt {label} ({})", short(hash)),
        (None, Some(hash)) => format!("prompt {}", short(hash)),
        _ => "no prompt".to_string(),
    };
    let _ = writeln!(
        out,
        "evalgate run {} · {}/{} · {} · {} results{}",
        meta.run_id,
        meta.bot.provider,
        meta.bot.model,
        prompt,
        summary.written,
        if summary.complete {
            String::new()
        } else {
            format!(" of {} planned (INCOMPLETE)", summary.planned)
        }
    );
    let _ = writeln!(
        out,
        "outcomes: {} · rubric criteria: {}",
        summary.meta.outcome_mode, summary.meta.rubric
    );
    if let Some(judge) = &summary.meta.judge {
        let _ = writeln!(out, "judge: {judge}");
    }

    let _ = writeln!(out, "\nPass rate by language × stratum");
    let _ = write!(out, "{:<10}", "language");
    for s in Stratum::ALL {
        let _ = write!(out, "{:>14}", s.name());
    }
    let _ = writeln!(out, "{:>14}", "all");
    let m = &summary.metrics;
    for (language, slice) in &m.by_language {
        let _ = write!(out, "{language:<10}");
        for s in Stratum::ALL {
            let cell = m.by_language_stratum.get(&format!("{language}/{s}"));
            let _ = write!(
                out,
                "{:>14}",
                cell.map(pass_cell).unwrap_or_else(|| "-".into())
            );
        }
        let _ = writeln!(out, "{:>14}", pass_cell(slice));
    }
    let _ = write!(out, "{:<10}", "all");
    for s in Stratum::ALL {
        let _ = write!(
            out,
            "{:>14}",
            m.by_stratum
                .get(s.name())
                .map(pass_cell)
                .unwrap_or_else(|| "-".into())
        );
    }
    let _ = writeln!(out, "{:>14}", pass_cell(&m.overall));

    let _ = writeln!(
        out,
        "\nContainment next to resolution (deflection is not resolution)"
    );
    let _ = writeln!(
        out,
        "{:<10}{:>13}{:>12}{:>12}{:>10}{:>9}",
        "language", "containment", "resolution", "deflection", "missed", "errors"
    );
    for (language, slice) in m
        .by_language
        .iter()
        .chain(std::iter::once((&"all".to_string(), &m.overall)))
    {
        let _ = writeln!(
            out,
            "{:<10}{:>13}{:>12}{:>12}{:>10}{:>9}",
            language,
            pct(slice.containment_rate),
            pct(slice.resolution_rate),
            pct(slice.deflection_rate),
            slice.missed_escalations,
            slice.errors
        );
    }

    let total_missed = m.overall.missed_escalations;
    if total_missed == 0 {
        let _ = writeln!(out, "\nMissed escalations: 0");
    } else {
        let _ = writeln!(
            out,
            "\nMissed escalations: {total_missed} (each one is a customer who needed a human)"
        );
        for key in missed.iter().take(20) {
            let _ = writeln!(out, "  {key}");
        }
        if missed.len() > 20 {
            let _ = writeln!(out, "  … and {} more in results.jsonl", missed.len() - 20);
        }
    }
    if m.overall.errors > 0 {
        let _ = writeln!(
            out,
            "Errors: {} of {} results ({}) — errors never pass and are left out of every rate",
            m.overall.errors,
            m.overall.results,
            pct(m.overall.error_rate)
        );
    }

    let _ = writeln!(out, "\nLatency and cost (reported apart from quality)");
    match &m.overall.latency_ms {
        Some(l) => {
            let _ = writeln!(
                out,
                "latency per bot turn: p50 {} ms · p95 {} ms · p99 {} ms",
                l.p50, l.p95, l.p99
            );
        }
        None => {
            let _ = writeln!(out, "latency per bot turn: -");
        }
    }
    let c = &summary.cost;
    let money = |v: Option<f64>| match v {
        Some(x) => format!(
            "{x:.4}{}",
            c.currency
                .as_deref()
                .map(|c| format!(" {c}"))
                .unwrap_or_default()
        ),
        None => "- (no price in config)".into(),
    };
    let _ = writeln!(
        out,
        "bot tokens: {} in · {} out · cost {}",
        c.bot.tokens_in,
        c.bot.tokens_out,
        money(c.bot.money)
    );
    if summary.meta.judge.is_some() {
        let _ = writeln!(
            out,
            "judge tokens: {} in · {} out · cost {}",
            c.judge.tokens_in,
            c.judge.tokens_out,
            money(c.judge.money)
        );
    }
    let _ = writeln!(
        out,
        "bot cost per conversation {} · per resolved conversation {} ({} resolved)",
        money(c.bot_per_conversation),
        money(c.cost_per_resolved),
        c.resolved
    );
    if let Some(r) = &summary.repeat_stats {
        let _ = writeln!(
            out,
            "\nRepeats (k = {}): pass@1 {} · pass^{} {} · {} flaky case{}",
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
    let _ = writeln!(out, "\nresults: {}", run_dir.display());
    out
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

fn short(hash: &str) -> &str {
    let h = hash.strip_prefix("sha256:").unwrap_or(hash);
    &h[..h.len().min(12)]
}
