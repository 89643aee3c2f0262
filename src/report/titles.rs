//! Section titles and the sentences every view shares, so the terminal summary,
//! report.md and report.html never word the same thing differently.

use crate::gate::Verdict;
use crate::report::count_of;
use crate::report::model::ReportModel;
use crate::summary::{RunSummary, short_hash as short};

pub const CONTAINMENT: &str =
    "Containment next to resolution, among cases expecting resolve (the gap: kept but not helped)";
pub const BREAKDOWN: &str = "Where every conversation ended";
pub const PASS_RATE: &str = "Pass rate by language × stratum";
pub const COST: &str = "Cost and latency (reported apart from quality)";
pub const CASES: &str = "Every case";

pub fn headline(model: &ReportModel) -> String {
    format!("evalgate: {}", model.headline())
}

pub fn run_line(model: &ReportModel) -> String {
    let s = &model.summary;
    let m = &s.meta;
    let prompt = match (&m.prompt.label, &m.prompt.hash) {
        (Some(label), Some(hash)) => format!("{label} ({})", short(hash)),
        (None, Some(hash)) => short(hash).to_string(),
        _ => "none".to_string(),
    };
    let bot = match &m.bot.version {
        Some(v) => format!("{}/{} {v}", m.bot.provider, m.bot.model),
        None => format!("{}/{}", m.bot.provider, m.bot.model),
    };
    format!(
        "run {} · bot {} · prompt {} · judge {} · eval sets {} · outcomes {} · {}{}",
        m.run_id,
        bot,
        prompt,
        m.judge.as_deref().unwrap_or("none (rubric unjudged)"),
        short(&m.evalset_hash),
        m.outcome_mode,
        if s.complete {
            count_of(s.written, "result")
        } else {
            format!(
                "{} of {} planned result{} (INCOMPLETE)",
                s.written,
                s.planned,
                if s.planned == 1 { "" } else { "s" }
            )
        },
        partial_selection(s)
            .into_iter()
            .chain(drafts_included(s))
            .map(|p| format!(" · {p}"))
            .collect::<String>()
    )
}

/// "includes 3 unreviewed draft cases", for a run with `--include-drafts`.
pub fn drafts_included(summary: &RunSummary) -> Option<String> {
    let drafts = summary.meta.selection.drafts;
    (drafts > 0).then(|| {
        format!(
            "includes {} (the gate cannot pass until they are approved)",
            crate::report::count_of(drafts, "unreviewed draft case")
        )
    })
}

/// "partial selection: --lang pl --stratum edge", for a run of only some of the cases.
pub fn partial_selection(summary: &RunSummary) -> Option<String> {
    let selection = &summary.meta.selection;
    selection.is_partial().then(|| {
        format!(
            "partial selection: {} (gated on the selected slices only)",
            selection.describe()
        )
    })
}

/// For a run scored before containment shared resolution's denominator: its containment
/// is over all cases, and can read above or below resolution for that reason alone.
pub fn containment_definition_line(summary: &RunSummary) -> Option<String> {
    (summary.meta.scoring_version < 3).then(|| {
        format!(
            "This run was scored with scoring version {}: its containment is over all cases, not those expecting resolve; re-score the run (evalgate rescore) for the shared denominator.",
            summary.meta.scoring_version
        )
    })
}

/// "Unverified: 7 results ... (en 7)": results whose pass says only that the bot
/// answered, per language.
pub fn unverified_line(metrics: &crate::metrics::Metrics) -> Option<String> {
    let total = metrics.overall.unverified;
    if total == 0 {
        return None;
    }
    let per: Vec<String> = metrics
        .by_language
        .iter()
        .filter(|(_, x)| x.unverified > 0)
        .map(|(language, x)| format!("{language} {}", x.unverified))
        .collect();
    Some(format!(
        "Unverified: {total} result{} no content check and no judge could have failed ({}); a pass there says only that the bot answered",
        if total == 1 { "" } else { "s" },
        per.join(" · ")
    ))
}

/// "Most frequent error (40 of 40 errors): ...", when results ended in errors.
pub fn top_error_line(summary: &RunSummary) -> Option<String> {
    summary.top_error.as_ref().map(|e| {
        format!(
            "Most frequent error ({} of {}): {}",
            e.count,
            count_of(e.errors, "error"),
            e.message
        )
    })
}

pub fn gate_title(v: &Verdict) -> String {
    let failing = v.criteria.iter().filter(|c| !c.passed).count();
    format!(
        "Gate {}: {} of {} failed · {} ({})",
        if v.incomplete {
            "INCOMPLETE"
        } else if v.passed {
            "PASS"
        } else {
            "FAIL"
        },
        failing,
        count_of(v.criteria.len(), "criterion"),
        v.gate_path,
        short(&v.gate_hash)
    )
}

pub fn missed_title(n: u64) -> String {
    if n == 0 {
        "Missed escalations: 0".to_string()
    } else {
        format!("Missed escalations: {n} (each one is a customer who needed a human)")
    }
}

/// Shown only when some case's bot took an action the case forbids.
pub fn unauthorised_title(n: usize) -> String {
    format!("Unauthorised actions: {n} (the bot did what the case forbids, whatever it said)")
}

pub fn regressions_title(significant: usize, base_run: &str) -> String {
    format!(
        "Regressions vs the baseline {base_run}: {significant} significant slice{}",
        if significant == 1 { "" } else { "s" }
    )
}

pub fn parity_title(gaps: usize, scenarios: u64) -> String {
    format!("Parity across languages: {gaps} of {scenarios} scenarios uneven")
}

/// Which languages fall behind the best one, and on how many scenarios.
pub fn parity_behind(parity: &crate::diff::parity::Parity) -> String {
    let behind: Vec<String> = parity
        .behind_count
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(l, n)| format!("{l} behind on {n}"))
        .collect();
    behind.join(" · ")
}

/// Latency, then the cost lines, worded the same everywhere.
pub fn cost_lines(summary: &RunSummary) -> Vec<String> {
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
    let latency = match &summary.metrics.overall.latency_ms {
        Some(l) => format!(
            "latency per bot turn: p50 {} ms · p95 {} ms · p99 {} ms",
            l.p50, l.p95, l.p99
        ),
        None => "latency per bot turn: -".to_string(),
    };
    let mut lines = vec![
        latency,
        format!(
            "bot tokens: {} in · {} out · cost {}",
            c.bot.tokens_in,
            c.bot.tokens_out,
            money(c.bot.money)
        ),
    ];
    if summary.meta.judge.is_some() {
        lines.push(format!(
            "judge tokens: {} in · {} out · cost {}",
            c.judge.tokens_in,
            c.judge.tokens_out,
            money(c.judge.money)
        ));
    }
    if let Some(sim) = &c.simulator {
        lines.push(format!(
            "simulator tokens ({}): {} in · {} out · cost {}",
            sim.model.as_deref().unwrap_or("-"),
            sim.tokens_in,
            sim.tokens_out,
            money(sim.money)
        ));
    }
    lines.push(format!(
        "bot cost per conversation {} · per resolved conversation {} ({} resolved of {})",
        money(c.bot_per_conversation),
        money(c.cost_per_resolved),
        c.resolved,
        c.conversations
    ));
    lines
}
