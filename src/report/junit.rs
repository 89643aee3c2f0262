//! `junit.xml`: one test case per eval case × repeat, so CI systems show eval failures
//! like test failures. Written by hand: the format is small, and escaping is the only
//! subtle part (bot replies are hostile input).

use std::fmt::Write as _;
use std::io::Write;

use crate::evalset::Stratum;
use crate::report::export::{Exporter, ReportError, ReportFormat};
use crate::report::model::ReportModel;
use crate::result::CaseResult;
use crate::result_index::ResultIndex;

pub struct Junit;

impl Exporter for Junit {
    fn format(&self) -> ReportFormat {
        ReportFormat::Junit
    }

    fn file_name(&self) -> &'static str {
        "junit.xml"
    }

    fn write(
        &self,
        model: &ReportModel,
        index: &ResultIndex,
        out: &mut dyn Write,
    ) -> Result<(), ReportError> {
        let suite = Suite {
            run_id: &model.summary.meta.run_id,
            seconds: model.summary.run_seconds,
            gate: model.gate.as_ref(),
        };
        write(index, &suite, out)
    }
}

/// What the file says besides the cases: the run, how long it took, and the gate, whose
/// criteria are test cases too, so a failed gate is red in a CI test view.
struct Suite<'a> {
    run_id: &'a str,
    seconds: Option<f64>,
    gate: Option<&'a crate::gate::Verdict>,
}

/// Writes `junit.xml` grouped by class (language.stratum), then in key order, reading one
/// result at a time.
fn write(index: &ResultIndex, suite: &Suite<'_>, out: &mut dyn Write) -> Result<(), ReportError> {
    // An order over the shared index rather than a sorted copy of it.
    let entries = &index.entries;
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (&entries[a], &entries[b]);
        (a.language(), a.stratum.name(), &a.key, a.repeat).cmp(&(
            b.language(),
            b.stratum.name(),
            &b.key,
            b.repeat,
        ))
    });
    let tests = entries.len();
    let errors = entries.iter().filter(|e| e.error).count();
    let failures = entries.iter().filter(|e| !e.error && !e.passed).count();
    let criteria = suite.gate.map_or(0, |g| g.criteria.len());
    let failed_criteria = suite.gate.map_or(0, |g| g.failing().count());
    let time = suite.seconds.unwrap_or(0.0);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="evalgate" tests="{}" failures="{}" errors="{errors}" time="{time:.3}">"#,
        tests + criteria,
        failures + failed_criteria
    )?;
    if let Some(gate) = suite.gate {
        write_gate(gate, out)?;
    }
    writeln!(
        out,
        r#"  <testsuite name="evalgate {}" tests="{tests}" failures="{failures}" errors="{errors}" time="{time:.3}">"#,
        xml(suite.run_id)
    )?;
    let mut reader = index.reader().map_err(ReportError::Input)?;
    for &i in &order {
        let entry = &entries[i];
        // A pass is all in the index; only failures need the whole result.
        let body = if entry.passed && !entry.error {
            let mut s = opening(
                entry.language(),
                entry.stratum,
                &entry.key,
                entry.repeat,
                entry.latency_ms,
            );
            s.push_str("</testcase>\n");
            s
        } else {
            testcase(&reader.read(entry).map_err(ReportError::Input)?)
        };
        out.write_all(body.as_bytes())?;
    }
    writeln!(out, "  </testsuite>\n</testsuites>")?;
    out.flush()?;
    Ok(())
}

/// The gate's criteria as a test suite of their own, one test case each.
fn write_gate(gate: &crate::gate::Verdict, out: &mut dyn Write) -> Result<(), ReportError> {
    writeln!(
        out,
        r#"  <testsuite name="evalgate gate" tests="{}" failures="{}" errors="0" time="0.000">"#,
        gate.criteria.len(),
        gate.failing().count()
    )?;
    for c in &gate.criteria {
        let name = format!("{} {}", c.name, c.scope);
        write!(
            out,
            r#"    <testcase classname="gate" name="{}" time="0.000">"#,
            xml(&name)
        )?;
        if !c.passed {
            let line = crate::report::gate_text::failure_line(gate, c);
            write!(
                out,
                "\n      <failure message=\"{}\">{}</failure>\n    ",
                xml(&line),
                xml(&line)
            )?;
        }
        writeln!(out, "</testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    Ok(())
}

/// `<testcase …>`, without its end.
fn opening(language: &str, stratum: Stratum, key: &str, repeat: u32, latency_ms: u64) -> String {
    let classname = format!("{language}.{stratum}");
    let name = if repeat == 0 {
        key.to_string()
    } else {
        format!("{key} #{repeat}")
    };
    format!(
        r#"    <testcase classname="{}" name="{}" time="{:.3}">"#,
        xml(&classname),
        xml(&name),
        latency_ms as f64 / 1000.0
    )
}

fn testcase(r: &CaseResult) -> String {
    let mut s = opening(&r.language, r.stratum, &r.key, r.repeat, r.latency_ms);
    if let Some(error) = &r.error {
        let mut body = vec![error.clone()];
        body.extend(crate::simulator::transcript::transcript_lines(r));
        let _ = write!(
            s,
            "\n      <error message=\"{}\">{}</error>\n    ",
            xml(error),
            xml(&body.join("\n"))
        );
    } else if !r.passed {
        let mut lines: Vec<String> = r
            .failing_checks()
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        if let Some(j) = &r.judge {
            lines.extend(
                j.criteria
                    .iter()
                    .filter(|c| !c.passed)
                    .map(|c| format!("judge: {}: {}", c.criterion, c.reason)),
            );
        }
        lines.push(format!("reply: {}", r.reply));
        lines.extend(crate::simulator::transcript::transcript_lines(r));
        // The first failing check says why; "expected escalate, observed escalated" alone
        // would hide a reply in the wrong language.
        let message = r.first_failure().unwrap_or_else(|| {
            format!(
                "expected {}, observed {}",
                r.expected_outcome.name(),
                r.observed_outcome.name()
            )
        });
        let _ = write!(
            s,
            "\n      <failure message=\"{}\">{}</failure>\n    ",
            xml(&message),
            xml(&lines.join("\n"))
        );
    }
    s.push_str("</testcase>\n");
    s
}

/// Escapes text for XML attributes and content, and drops characters XML 1.0 forbids
/// (a bot reply may contain NUL or other control characters).
fn xml(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&apos;"),
            '\t' | '\n' | '\r' => s.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => s.push('\u{FFFD}'),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evalset::ExpectedOutcome;
    use crate::result::ObservedOutcome;

    /// `junit.xml` for the results in `index`.
    fn render(index: &ResultIndex, run_id: &str) -> Result<String, ReportError> {
        let mut out = Vec::new();
        let suite = Suite {
            run_id,
            seconds: None,
            gate: None,
        };
        write(index, &suite, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    /// A pass is written from the index alone, a failure from its whole result; both carry
    /// the class, the name (with its repeat) and the conversation's time.
    #[test]
    fn passes_from_the_index_and_failures_in_full() {
        let dir = crate::test_support::TempDir::new("junit");
        let path = dir.join("results.jsonl");
        let mut lines = String::new();
        for (repeat, passed, latency_ms) in [(1, true, 1234), (0, false, 56)] {
            let mut r = CaseResult::fixture(
                "de",
                Stratum::Edge,
                ExpectedOutcome::Resolve,
                ObservedOutcome::Resolved,
                passed,
            );
            r.key = "de/refund".into();
            r.repeat = repeat;
            r.latency_ms = latency_ms;
            lines.push_str(&serde_json::to_string(&r).unwrap());
            lines.push('\n');
        }
        std::fs::write(&path, lines).unwrap();
        let xml = render(&ResultIndex::build(&path).unwrap(), "run-1").unwrap();
        assert!(
            xml.contains(
                &(r#"<testcase classname="de.edge" name="de/refund" time="0.056">"#.to_owned()
                    + "\n      <failure")
            ),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<testcase classname="de.edge" name="de/refund #1" time="1.234"></testcase>"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"tests="2" failures="1" errors="0""#),
            "{xml}"
        );
    }

    /// An error is an error, not also a failure; a failure says why in its message and
    /// lists every failing check in its text.
    #[test]
    fn errors_and_failures_are_counted_apart_and_failures_say_why() {
        let dir = crate::test_support::TempDir::new("junit-kinds");
        let path = dir.join("results.jsonl");
        let mut wrong_language = CaseResult::fixture(
            "de",
            Stratum::Routine,
            ExpectedOutcome::Resolve,
            ObservedOutcome::Resolved,
            false,
        );
        wrong_language.key = "de/a".into();
        wrong_language.checks = vec![
            crate::result::Check {
                name: "language".into(),
                passed: false,
                detail: "expected de, detected en".into(),
            },
            crate::result::Check {
                name: "outcome".into(),
                passed: true,
                detail: "expected resolved, observed resolved".into(),
            },
        ];
        let mut error = CaseResult::fixture(
            "de",
            Stratum::Routine,
            ExpectedOutcome::Resolve,
            ObservedOutcome::Error,
            false,
        );
        error.key = "de/b".into();
        let mut lines = String::new();
        for r in [&wrong_language, &error] {
            lines.push_str(&serde_json::to_string(r).unwrap());
            lines.push('\n');
        }
        std::fs::write(&path, lines).unwrap();
        let xml = render(&ResultIndex::build(&path).unwrap(), "run-1").unwrap();
        assert!(
            xml.contains(r#"tests="2" failures="1" errors="1""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<failure message="language: expected de, detected en">language: expected de, detected en"#),
            "{xml}"
        );
        assert!(xml.contains(r#"<error message="boom">"#), "{xml}");
    }

    /// Each gate criterion is a test case, so a failed gate is red in a CI test view.
    #[test]
    fn gate_criteria_are_test_cases() {
        use crate::gate::{Criterion, Scope, Threshold, Unit, Verdict};
        let dir = crate::test_support::TempDir::new("junit-gate");
        let path = dir.join("results.jsonl");
        std::fs::write(&path, "").unwrap();
        let mut gate = Verdict::fixture(false, false);
        gate.criteria = vec![Criterion {
            name: "language_match_rate".into(),
            scope: Scope::Language {
                language: "pl".into(),
            },
            threshold: Threshold::at_least(0.95, Unit::Share),
            measured: Some(0.0),
            unmeasured: None,
            passed: false,
            detail: None,
        }];
        let suite = Suite {
            run_id: "r",
            seconds: Some(1.5),
            gate: Some(&gate),
        };
        let mut out = Vec::new();
        write(&ResultIndex::build(&path).unwrap(), &suite, &mut out).unwrap();
        let xml = String::from_utf8(out).unwrap();
        assert!(
            xml.contains(
                r#"<testsuites name="evalgate" tests="1" failures="1" errors="0" time="1.500">"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<testcase classname="gate" name="language_match_rate pl" time="0.000">"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<failure message="language_match_rate pl: measured 0%, threshold &gt;= 95%">"#
            ),
            "{xml}"
        );
    }

    #[test]
    fn escapes_hostile_text() {
        assert_eq!(
            xml("<a href=\"x\">&'\u{0}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\u{FFFD}"
        );
    }
}
