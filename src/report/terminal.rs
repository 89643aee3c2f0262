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
        if summary.complete { String::new() } else { format!(" of {} planned (INCOMPLETE)", summary.planned) }
    );
    let _ = writeln!(out, "outcomes: {} · rubric criteria: {}", summary.outcome_mode, summary.rubric);

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
            let _ = write!(out, "{:>14}", cell.map(pass_cell).unwrap_or_else(|| "-".into()));
        }
        let _ = writeln!(out, "{:>14}", pass_cell(slice));
    }
    let _ = write!(out, "{:<10}", "all");
    for s in Stratum::ALL {
        let _ = write!(out, "{:>14}", m.by_stratum.get(s.name()).map(pass_cell).unwrap_or_else(|| "-".into()));
    }
    let _ = writeln!(out, "{:>14}", pass_cell(&m.overall));

    let _ = writeln!(out, "\nContainment next to resolution (deflection is not resolution)");
    let _ = writeln!(
        out,
        "{:<10}{:>13}{:>12}{:>10}{:>12}{:>10}{:>9}",
        "language", "containment", "resolution", "gap", "deflection", "missed", "errors"
    );
    for (language, slice) in m.by_language.iter().chain(std::iter::once((&"all".to_string(), &m.overall))) {
        let _ = writeln!(
            out,
            "{:<10}{:>13}{:>12}{:>10}{:>12}{:>10}{:>9}",
            language,
            pct(slice.containment_rate),
            pct(slice.resolution_rate),
            gap(slice),
            pct(slice.deflection_rate),
            slice.missed_escalations,
            slice.errors
        );
    }

    let total_missed = m.overall.missed_escalations;
    if total_missed == 0 {
        let _ = writeln!(out, "\nMissed escalations: 0");
    } else {
        let _ = writeln!(out, "\nMissed escalations: {total_missed} (each one is a customer who needed a human)");
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

    let _ = writeln!(out, "\nLatency and tokens (reported apart from quality)");
    match &m.overall.latency_ms {
        Some(l) => {
            let _ = writeln!(out, "latency per bot turn: p50 {} ms · p95 {} ms · p99 {} ms", l.p50, l.p95, l.p99);
        }
        None => {
            let _ = writeln!(out, "latency per bot turn: -");
        }
    }
    let _ = writeln!(out, "tokens: {} in · {} out", m.overall.tokens_in, m.overall.tokens_out);
    let _ = writeln!(out, "\nresults: {}", run_dir.display());
    out
}

fn pass_cell(slice: &SliceMetrics) -> String {
    if slice.scored == 0 {
        return if slice.errors > 0 { format!("err {}", slice.errors) } else { "-".into() };
    }
    format!("{} {}/{}", pct(slice.pass_rate), slice.passed, slice.scored)
}

fn gap(slice: &SliceMetrics) -> String {
    match (slice.containment_rate, slice.resolution_rate) {
        (Some(c), Some(r)) => format!("{:+.0} pts", (c - r) * 100.0),
        _ => "-".into(),
    }
}

fn short(hash: &str) -> &str {
    let h = hash.strip_prefix("sha256:").unwrap_or(hash);
    &h[..h.len().min(12)]
}
