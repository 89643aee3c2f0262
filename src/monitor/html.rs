//! monitor.html: one self-contained page (no script, no external resource) with the
//! rollback verdict, the funnel of each language as bars and the weekly trend of
//! containment and durable resolution as inline SVG. Every text from the export is
//! escaped.

use std::fmt::Write as _;

use super::metrics::SliceFigures;
use super::report::{MonitorReport, csat, rate};
use super::rollback;

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2430;padding:0 1rem}\
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}\
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.25rem .6rem;border-bottom:1px solid #e3e6ea;text-align:right}\
td:first-child,th:first-child{text-align:left}.verdict{padding:.6rem 1rem;border-radius:6px;font-weight:600}\
.hold{background:#e6f4ea;color:#185c2c}.fired{background:#fdecea;color:#8a1c12}.none{background:#eef0f3}\
.PASS{color:#185c2c}.FAIL{color:#8a1c12;font-weight:600}.WAIT{color:#6b7280}\
.funnel{margin:.8rem 0 1.2rem}.funnel h3{margin:.2rem 0;font-size:1rem}\
.bar{display:flex;align-items:center;gap:.5rem;margin:2px 0}.bar span.label{width:11rem;text-align:left}\
.bar span.fill{display:inline-block;height:14px;border-radius:3px}\
.all{background:#9aa5b1}.contained{background:#5b8def}.durable{background:#2e9d5b}.escalated{background:#e08a2c}\
.trends{display:flex;flex-wrap:wrap;gap:1rem}.trend{border:1px solid #e3e6ea;border-radius:6px;padding:.4rem}\
svg text{font-size:10px;fill:#4b5563}.legend{font-size:12px;color:#4b5563}";

/// The page, from the same model as monitor.json and monitor.md.
pub fn render(r: &MonitorReport) -> String {
    let f = &r.figures;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>evalgate monitor</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{STYLE}</style></head><body>\n<h1>Production monitor</h1>\n<p>{} conversations ({} pending) from {} · repeat window {} days · latest start {}. A conversation whose window ends after the latest start is pending: counted, and left out of every rate.</p>\n",
        f.overall.conversations,
        f.overall.pending,
        esc(&r.exports.join(", ")),
        f.repeat_window_days,
        esc(f.latest_started_at.as_deref().unwrap_or("-")),
    );
    verdict(&mut out, r);
    out.push_str("<h2>Funnel per language</h2>\n<p class=\"legend\">Settled conversations → contained → durably resolved (no repeat contact in the window), and settled → escalated.</p>\n");
    for (language, m) in &f.by_language {
        funnel(&mut out, language, m);
    }
    funnel(&mut out, "overall", &f.overall);
    out.push_str("<h2>Weekly trend</h2>\n<p class=\"legend\"><span style=\"color:#5b8def\">━ containment</span> · <span style=\"color:#2e9d5b\">━ durable resolution</span> · weeks with only pending conversations have no point</p>\n<div class=\"trends\">\n");
    let weeks: Vec<&String> = f.by_week.keys().collect();
    for (language, by_week) in &f.by_language_week {
        trend(&mut out, language, &weeks, by_week);
    }
    out.push_str("</div>\n<h2>Per language</h2>\n");
    table(
        &mut out,
        f.by_language
            .iter()
            .chain([(&"overall".to_string(), &f.overall)]),
    );
    out.push_str("<h2>Per ISO week</h2>\n");
    table(&mut out, f.by_week.iter());
    if let Some(sample) = &r.judge_sample {
        out.push_str("<h2>Judged sample of contained conversations</h2>\n<table><tr><th>language</th><th>sampled</th><th>judged</th><th>judge errors</th><th>live deflection</th><th>live hallucination</th></tr>\n");
        for (language, s) in sample {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{} of {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(language),
                s.sampled,
                s.population,
                s.judged,
                s.judge_errors,
                rate(s.live_deflection_rate),
                rate(s.live_hallucination_rate)
            );
        }
        out.push_str("</table>\n");
    }
    let _ = write!(
        out,
        "<p class=\"legend\">Written by evalgate {} at {}.</p>\n</body></html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(&r.generated_at)
    );
    out
}

fn verdict(out: &mut String, r: &MonitorReport) {
    out.push_str("<h2>Rollback trigger</h2>\n");
    let Some(gate) = &r.rollback.gate else {
        out.push_str("<p class=\"verdict none\">No rollback: block in the gate file: nothing to trigger.</p>\n");
        return;
    };
    let v = &r.rollback.verdict;
    let _ = writeln!(
        out,
        "<p class=\"verdict {}\" id=\"verdict\">{} · {}</p>",
        if v.passed { "hold" } else { "fired" },
        if v.passed {
            "HOLD: no criterion failed"
        } else {
            "ROLL BACK: a criterion failed"
        },
        esc(gate)
    );
    out.push_str("<table id=\"criteria\"><tr><th>criterion</th><th>scope</th><th>threshold</th><th>measured</th><th></th></tr>\n");
    for c in &v.criteria {
        let status = rollback::status(c);
        let _ = writeln!(
            out,
            "<tr class=\"criterion\" data-status=\"{status}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{status}\">{status}</td></tr>",
            esc(&c.criterion),
            esc(&c.scope),
            esc(&rollback::threshold(c)),
            esc(&c.note.clone().unwrap_or_else(|| rollback::measured(c))),
        );
    }
    out.push_str("</table>\n");
}

fn funnel(out: &mut String, language: &str, m: &SliceFigures) {
    let width = |n: u64| {
        if m.settled == 0 {
            0.0
        } else {
            n as f64 * 100.0 / m.settled as f64
        }
    };
    let _ = writeln!(
        out,
        "<div class=\"funnel\" data-language=\"{}\"><h3>{}</h3>",
        esc(language),
        esc(language)
    );
    for (class, label, n) in [
        ("all", "settled", m.settled),
        ("contained", "contained", m.contained),
        ("durable", "durably resolved", m.durably_resolved),
        ("escalated", "escalated", m.escalated),
    ] {
        let _ = writeln!(
            out,
            "<div class=\"bar\"><span class=\"label\">{label}</span><span class=\"fill {class}\" style=\"width:{:.1}%\"></span><span>{n}</span></div>",
            width(n) * 0.6
        );
    }
    let _ = writeln!(
        out,
        "<div class=\"legend\">{} pending</div></div>",
        m.pending
    );
}

const W: f64 = 320.0;
const H: f64 = 140.0;
const PAD: f64 = 26.0;

fn trend(
    out: &mut String,
    language: &str,
    weeks: &[&String],
    by_week: &std::collections::BTreeMap<String, SliceFigures>,
) {
    let x = |i: usize| {
        if weeks.len() <= 1 {
            PAD + (W - 2.0 * PAD) / 2.0
        } else {
            PAD + i as f64 * (W - 2.0 * PAD) / (weeks.len() - 1) as f64
        }
    };
    let y = |rate: f64| H - PAD + 6.0 - rate * (H - PAD - 8.0);
    let _ = write!(
        out,
        "<div class=\"trend\" data-language=\"{}\"><strong>{}</strong><br><svg width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"weekly containment and durable resolution, {}\">",
        esc(language),
        esc(language),
        esc(language)
    );
    for level in [0.0, 0.5, 1.0] {
        let _ = write!(
            out,
            "<line x1=\"{PAD}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#e3e6ea\"/><text x=\"2\" y=\"{:.1}\">{:.0}%</text>",
            W - PAD,
            y(level),
            y(level),
            y(level) + 3.0,
            level * 100.0
        );
    }
    for (series, color, pick) in [
        (
            "containment",
            "#5b8def",
            (|m: &SliceFigures| m.containment_rate) as fn(&SliceFigures) -> Option<f64>,
        ),
        ("durable", "#2e9d5b", |m: &SliceFigures| {
            m.durable_resolution_rate
        }),
    ] {
        let points: Vec<String> = weeks
            .iter()
            .enumerate()
            .filter_map(|(i, w)| {
                by_week
                    .get(*w)
                    .and_then(pick)
                    .map(|r| format!("{:.1},{:.1}", x(i), y(r)))
            })
            .collect();
        let _ = write!(
            out,
            "<polyline class=\"{series}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            points.join(" ")
        );
        for p in &points {
            let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(
                out,
                "<circle cx=\"{px}\" cy=\"{py}\" r=\"2.5\" fill=\"{color}\"/>"
            );
        }
    }
    if let (Some(first), Some(last)) = (weeks.first(), weeks.last()) {
        let _ = write!(
            out,
            "<text x=\"{PAD}\" y=\"{}\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            H - 4.0,
            esc(first),
            W - PAD,
            H - 4.0,
            esc(last)
        );
    }
    out.push_str("</svg></div>\n");
}

fn table<'a>(out: &mut String, rows: impl Iterator<Item = (&'a String, &'a SliceFigures)>) {
    out.push_str("<table><tr><th></th><th>conversations</th><th>pending</th><th>containment</th><th>escalation</th><th>repeat contacts</th><th>durable resolution</th><th>CSAT contained</th><th>CSAT escalated</th></tr>\n");
    for (name, m) in rows {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            m.conversations,
            m.pending,
            rate(m.containment_rate),
            rate(m.escalation_rate),
            rate(m.repeat_contact_rate),
            rate(m.durable_resolution_rate),
            csat(m.csat_contained),
            csat(m.csat_escalated)
        );
    }
    out.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_text_is_escaped() {
        assert_eq!(
            esc("<img src=x onerror='a'>&\""),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;"
        );
    }
}
