//! The gate verdict in words: each criterion's threshold and measure as the terminal,
//! `gate`, report.md, report.html and summary.json's list of failures print them.

use serde::Serialize;

use crate::gate::{Bound, Criterion, Threshold, Unit, Unmeasured, Verdict};
use crate::report::{percent, titles};

/// One criterion as a table row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row<'a> {
    pub name: &'a str,
    pub scope: String,
    pub threshold: String,
    pub measured: String,
    pub passed: bool,
}

/// Every criterion of the verdict, in its order.
pub fn rows(v: &Verdict) -> Vec<Row<'_>> {
    v.criteria
        .iter()
        .map(|c| Row {
            name: &c.name,
            scope: c.scope.to_string(),
            threshold: threshold(&c.threshold),
            measured: measured(v, c),
            passed: c.passed,
        })
        .collect()
}

/// `>= 95%`, `<= 0`, `<= 8000 ms`.
pub fn threshold(t: &Threshold) -> String {
    let bound = match t.bound {
        Bound::AtLeast => ">=",
        Bound::AtMost => "<=",
    };
    match t.unit {
        Unit::Share => format!("{bound} {}", percent(t.value)),
        Unit::Count => format!("{bound} {}", count(t.value)),
        Unit::Millis => format!("{bound} {} ms", count(t.value)),
        Unit::Results => "every planned result".to_string(),
        Unit::Kappa => format!("{bound} κ {:.2}", t.value),
    }
}

/// `97.5%`, `4`, `1259 ms`, `79 of 80 results (interrupted)`, or why nothing was measured.
pub fn measured(v: &Verdict, c: &Criterion) -> String {
    let Some(x) = c.measured else {
        return match c.unmeasured {
            Some(Unmeasured::NoCases) => "no cases",
            Some(Unmeasured::NoBaseline) => "no baseline given",
            Some(Unmeasured::NoTurns) => "no turns",
            None => "-",
        }
        .to_string();
    };
    match c.threshold.unit {
        Unit::Kappa => format!("κ {x:.2}"),
        Unit::Share => percent(x),
        Unit::Count => count(x),
        Unit::Millis => format!("{} ms", count(x)),
        Unit::Results => format!(
            "{} of {} result{}{}",
            count(x),
            count(c.threshold.value),
            if c.threshold.value == 1.0 { "" } else { "s" },
            if v.interrupted { " (interrupted)" } else { "" }
        ),
    }
}

/// A whole number as a whole number: `10`, never `10.0`.
fn count(x: f64) -> String {
    format!("{x}")
}

/// A failed criterion in one line, as summary.json records it for `baseline accept`.
pub fn failure_line(v: &Verdict, c: &Criterion) -> String {
    let line = format!(
        "{} {}: measured {}, threshold {}",
        c.name,
        c.scope,
        measured(v, c),
        threshold(&c.threshold)
    );
    match &c.detail {
        Some(detail) => format!("{line} ({detail})"),
        None => line,
    }
}

/// Every criterion with its threshold, measured value and verdict: one line per failing
/// criterion with its worst slices, then the passes grouped by criterion and threshold,
/// so that a gate of 35 languages stays readable on a terminal.
pub fn criterion_lines(v: &Verdict) -> Vec<String> {
    let rows = rows(v);
    let mut lines: Vec<String> = crate::report::verdict::group_lines(v)
        .into_iter()
        .map(|line| format!("  FAIL {line}"))
        .collect();
    let mut groups: Vec<((&str, &str), Vec<String>)> = Vec::new();
    for r in rows.iter().filter(|r| r.passed) {
        let key = (r.name, r.threshold.as_str());
        let entry = format!("{} {}", r.scope, r.measured);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, entries)) => entries.push(entry),
            None => groups.push((key, vec![entry])),
        }
    }
    for ((name, threshold), entries) in groups {
        lines.push(format!(
            "  PASS {name} ({threshold}): {}",
            entries.join(" · ")
        ));
    }
    lines
}

/// The verdict's title line and every criterion.
pub fn render_text(v: &Verdict) -> String {
    let mut out = titles::gate_title(v);
    out.push('\n');
    for line in criterion_lines(v) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evalset::Stratum;
    use crate::gate::Scope;

    fn verdict(criteria: Vec<Criterion>, interrupted: bool) -> Verdict {
        Verdict {
            gate_path: "gates/launch.yaml".into(),
            gate_hash: "sha256:0123456789abcdef".into(),
            passed: false,
            incomplete: interrupted,
            interrupted,
            baseline: None,
            criteria,
        }
    }

    fn criterion(
        name: &str,
        scope: Scope,
        threshold: Threshold,
        measured: Result<f64, Unmeasured>,
    ) -> Criterion {
        Criterion {
            name: name.into(),
            scope,
            passed: threshold.passes(measured.ok()),
            threshold,
            measured: measured.ok(),
            unmeasured: measured.err(),
            detail: None,
        }
    }

    /// The words every view has always printed, from numbers.
    #[test]
    fn thresholds_and_measures_read_as_they_always_have() {
        let cell = Scope::Cell {
            language: "pl".into(),
            stratum: Stratum::Edge,
        };
        let criteria = vec![
            criterion(
                "complete",
                Scope::Overall,
                Threshold::at_least(80.0, Unit::Results),
                Ok(79.0),
            ),
            criterion(
                "min_cases",
                cell.clone(),
                Threshold::at_least(10.0, Unit::Count),
                Ok(4.0),
            ),
            criterion(
                "pass_rate",
                cell,
                Threshold::at_least(0.95, Unit::Share),
                Ok(39.0 / 40.0),
            ),
            criterion(
                "significant_regressions",
                Scope::VsBaseline,
                Threshold::at_most(0.0, Unit::Count),
                Err(Unmeasured::NoBaseline),
            ),
            criterion(
                "p95_latency_ms",
                Scope::Overall,
                Threshold::at_most(8000.0, Unit::Millis),
                Ok(1259.0),
            ),
            criterion(
                "deflection_rate",
                Scope::Language {
                    language: "de".into(),
                },
                Threshold::at_most(0.02, Unit::Share),
                Err(Unmeasured::NoCases),
            ),
        ];
        let v = verdict(criteria, true);
        let texts: Vec<String> = rows(&v)
            .iter()
            .map(|r| format!("{} {} {} {}", r.name, r.scope, r.threshold, r.measured))
            .collect();
        assert_eq!(
            texts,
            [
                "complete overall every planned result 79 of 80 results (interrupted)",
                "min_cases pl/edge >= 10 4",
                "pass_rate pl/edge >= 95% 97.5%",
                "significant_regressions vs baseline <= 0 no baseline given",
                "p95_latency_ms overall <= 8000 ms 1259 ms",
                "deflection_rate de <= 2% no cases",
            ]
        );
        assert_eq!(
            criterion_lines(&v),
            [
                "  FAIL complete (every planned result): overall 79 of 80 results (interrupted)",
                "  FAIL min_cases (>= 10): pl/edge 4",
                "  PASS pass_rate (>= 95%): pl/edge 97.5%",
                "  PASS significant_regressions (<= 0): vs baseline no baseline given",
                "  PASS p95_latency_ms (<= 8000 ms): overall 1259 ms",
                "  PASS deflection_rate (<= 2%): de no cases",
            ]
        );
        assert_eq!(
            failure_line(&v, &v.criteria[1]),
            "min_cases pl/edge: measured 4, threshold >= 10"
        );
    }
}
