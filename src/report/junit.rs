//! `junit.xml`: one test case per eval case × repeat, so CI systems show eval failures
//! like test failures. Written by hand: the format is small, and escaping is the only
//! subtle part (bot replies are hostile input).

use std::fmt::Write;
use std::path::Path;

use crate::result::CaseResult;
use crate::rundir::read_results;

/// Reads a run's results and renders `junit.xml`.
pub fn render(results_path: &Path, run_id: &str) -> Result<String, String> {
    let mut junit = Junit::default();
    read_results(results_path, |r| junit.add(&r))?;
    Ok(junit.finish(run_id))
}

/// `junit.xml` built one result at a time, so it can share a pass over the results with
/// the other reports.
#[derive(Default)]
pub struct Junit {
    cases: Vec<(String, String, Kind)>,
}

impl Junit {
    pub fn add(&mut self, r: &CaseResult) {
        self.cases.push(testcase(r));
    }

    pub fn finish(mut self, run_id: &str) -> String {
        let cases = &mut self.cases;
        cases.sort();
        let failures = cases.iter().filter(|c| c.2 == Kind::Failure).count();
        let errors = cases.iter().filter(|c| c.2 == Kind::Error).count();
        let mut out = String::new();
        let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let _ = writeln!(
            out,
            r#"<testsuites name="evalgate" tests="{}" failures="{failures}" errors="{errors}">"#,
            cases.len()
        );
        let _ = writeln!(
            out,
            r#"  <testsuite name="evalgate {}" tests="{}" failures="{failures}" errors="{errors}">"#,
            xml(run_id),
            cases.len()
        );
        for (_, body, _) in cases.iter() {
            out.push_str(body);
        }
        let _ = writeln!(out, "  </testsuite>\n</testsuites>");
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Pass,
    Failure,
    Error,
}

fn testcase(r: &CaseResult) -> (String, String, Kind) {
    let classname = format!("{}.{}", r.language, r.stratum);
    let name = if r.repeat == 0 {
        r.key.clone()
    } else {
        format!("{} #{}", r.key, r.repeat)
    };
    let mut s = format!(
        r#"    <testcase classname="{}" name="{}" time="{:.3}">"#,
        xml(&classname),
        xml(&name),
        r.latency_ms as f64 / 1000.0
    );
    let kind = if let Some(error) = &r.error {
        let _ = write!(
            s,
            "\n      <error message=\"{}\">{}</error>\n    ",
            xml(error),
            xml(error)
        );
        Kind::Error
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
        let message = format!(
            "expected {}, observed {}",
            r.expected_outcome.name(),
            r.observed_outcome.name()
        );
        let _ = write!(
            s,
            "\n      <failure message=\"{}\">{}</failure>\n    ",
            xml(&message),
            xml(&lines.join("\n"))
        );
        Kind::Failure
    } else {
        Kind::Pass
    };
    s.push_str("</testcase>\n");
    (format!("{classname}\u{0}{name}"), s, kind)
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

    #[test]
    fn escapes_hostile_text() {
        assert_eq!(
            xml("<a href=\"x\">&'\u{0}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\u{FFFD}"
        );
    }
}
