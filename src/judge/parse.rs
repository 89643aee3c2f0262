//! Strict parsing of the judge's answer. Anything short of one JSON object with exactly
//! one verdict per criterion and a known outcome is an error: a judge that rambles or
//! invents criteria must never turn into a pass.

use serde::Deserialize;

use crate::result::{CriterionVerdict, ObservedOutcome};

#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub criteria: Vec<CriterionVerdict>,
    pub outcome: ObservedOutcome,
    pub unsupported_claims: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    criteria: Vec<WireCriterion>,
    outcome: String,
    #[serde(default)]
    unsupported_claims: Vec<String>,
}

#[derive(Deserialize)]
struct WireCriterion {
    n: u32,
    passed: bool,
    #[serde(default)]
    reason: String,
}

/// Parses the judge's text against the numbered `criteria` it was shown.
pub fn parse(text: &str, criteria: &[String]) -> Result<Parsed, String> {
    let json = extract_json(text).ok_or("no JSON object in the judge's answer")?;
    let wire: Wire = serde_json::from_str(json)
        .map_err(|e| format!("the judge's JSON does not match the protocol: {e}"))?;
    let outcome = match wire.outcome.trim().to_ascii_lowercase().as_str() {
        "resolved" => ObservedOutcome::Resolved,
        "escalated" => ObservedOutcome::Escalated,
        "refused" => ObservedOutcome::Refused,
        "deflected" => ObservedOutcome::Deflected,
        other => return Err(format!("unknown outcome {other:?}")),
    };
    let mut seen = vec![false; criteria.len()];
    let mut verdicts = Vec::with_capacity(criteria.len());
    for c in wire.criteria {
        let index = (c.n as usize)
            .checked_sub(1)
            .filter(|i| *i < criteria.len());
        let Some(i) = index else {
            return Err(format!(
                "criterion {} does not exist (there are {})",
                c.n,
                criteria.len()
            ));
        };
        if std::mem::replace(&mut seen[i], true) {
            return Err(format!("criterion {} is judged twice", c.n));
        }
        verdicts.push(CriterionVerdict {
            n: c.n,
            criterion: criteria[i].clone(),
            passed: c.passed,
            reason: c.reason,
        });
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(format!("criterion {} is missing", missing + 1));
    }
    verdicts.sort_by_key(|v| v.n);
    Ok(Parsed {
        criteria: verdicts,
        outcome,
        unsupported_claims: wire.unsupported_claims,
    })
}

/// The JSON object in the text: the whole text, a fenced ```json block, or the span from
/// the first `{` to the last `}`.
fn extract_json(text: &str) -> Option<&str> {
    let t = text.trim();
    if t.starts_with('{') && t.ends_with('}') {
        return Some(t);
    }
    if let Some(start) = t.find("```") {
        let after = &t[start + 3..];
        let body_start = after.find('\n').map(|i| i + 1).unwrap_or(0);
        let body = &after[body_start..];
        if let Some(end) = body.find("```") {
            let inner = body[..end].trim();
            if inner.starts_with('{') {
                return Some(inner);
            }
        }
    }
    let (a, b) = (t.find('{')?, t.rfind('}')?);
    (a < b).then(|| &t[a..=b])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crit() -> Vec<String> {
        vec!["Gives the date".into(), "Is polite".into()]
    }

    const GOOD: &str = r#"{"criteria":[{"n":2,"passed":false,"reason":"curt"},{"n":1,"passed":true,"reason":"says 28 Nov"}],"outcome":"Resolved","unsupported_claims":["free shipping"]}"#;

    #[test]
    fn parses_a_valid_answer_in_any_order() {
        let p = parse(GOOD, &crit()).unwrap();
        assert_eq!(p.outcome, ObservedOutcome::Resolved);
        assert_eq!(p.criteria[0].criterion, "Gives the date");
        assert!(!p.criteria[1].passed);
        assert_eq!(p.unsupported_claims, ["free shipping"]);
    }

    #[test]
    fn accepts_fenced_and_wrapped_json() {
        assert!(parse(&format!("Sure!\n```json\n{GOOD}\n```\n"), &crit()).is_ok());
        assert!(parse(&format!("Here you go: {GOOD} Hope that helps."), &crit()).is_ok());
    }

    #[test]
    fn rejects_everything_else() {
        let cases = [
            ("I think it passed.", "no JSON"),
            ("{\"criteria\": [", "no JSON"),
            (
                r#"{"criteria":[{"n":1,"passed":true,"reason":""}],"outcome":"resolved"}"#,
                "criterion 2 is missing",
            ),
            (
                r#"{"criteria":[{"n":1,"passed":true},{"n":2,"passed":true},{"n":3,"passed":true}],"outcome":"resolved"}"#,
                "criterion 3 does not exist",
            ),
            (
                r#"{"criteria":[{"n":1,"passed":true},{"n":1,"passed":true}],"outcome":"resolved"}"#,
                "judged twice",
            ),
            (
                r#"{"criteria":[{"n":1,"passed":true},{"n":2,"passed":true}],"outcome":"great"}"#,
                "unknown outcome",
            ),
            (
                r#"{"criteria":[{"n":1,"passed":"yes"},{"n":2,"passed":true}],"outcome":"resolved"}"#,
                "protocol",
            ),
            (
                r#"{"criteria":[],"outcome":"resolved","score":10}"#,
                "protocol",
            ),
        ];
        for (text, needle) in cases {
            let err = parse(text, &crit()).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn no_criteria_is_fine_when_none_were_asked() {
        let p = parse(
            r#"{"criteria":[],"outcome":"refused","unsupported_claims":[]}"#,
            &[],
        )
        .unwrap();
        assert_eq!(p.outcome, ObservedOutcome::Refused);
    }
}
