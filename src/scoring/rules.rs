//! Deterministic checks of a reply against a case's expectations.

use crate::evalset::Expectation;
use crate::language::LanguageDetector;
use crate::result::Check;

/// The checks that look at what the reply says. Only these decide a rule-verified
/// outcome: a reply in the wrong language or over length still answered.
/// What the bot did counts with what it said.
pub const CONTENT_CHECKS: [&str; 6] = [
    "must_include",
    "must_not_include",
    "regex",
    "not_regex",
    "action",
    "forbidden_action",
];

/// Runs every rule the case asks for. The language check also returns what was detected.
pub fn rule_checks(
    expect: &Expectation,
    reply: &str,
    customer: &[&str],
    detector: &LanguageDetector,
) -> (Vec<Check>, Option<String>) {
    let mut checks = Vec::new();
    let lower = reply.to_lowercase();
    for needle in &expect.must_include {
        let found = lower.contains(&needle.to_lowercase());
        checks.push(Check {
            name: "must_include".into(),
            passed: found,
            detail: format!("{} {:?}", if found { "found" } else { "missing" }, needle),
        });
    }
    for needle in &expect.must_not_include {
        let found = lower.contains(&needle.to_lowercase());
        checks.push(Check {
            name: "must_not_include".into(),
            passed: !found,
            detail: format!(
                "{} {:?}",
                if found { "found forbidden" } else { "absent" },
                needle
            ),
        });
    }
    for re in &expect.regex {
        let hit = re.is_match(reply);
        checks.push(Check {
            name: "regex".into(),
            passed: hit,
            detail: format!(
                "{} /{}/",
                if hit { "matches" } else { "does not match" },
                re.as_str()
            ),
        });
    }
    for re in &expect.not_regex {
        let hit = re.is_match(reply);
        checks.push(Check {
            name: "not_regex".into(),
            passed: !hit,
            detail: format!(
                "{} /{}/",
                if hit {
                    "matches forbidden"
                } else {
                    "does not match"
                },
                re.as_str()
            ),
        });
    }
    if let Some(max) = expect.max_words {
        let words = reply.split_whitespace().count();
        checks.push(Check {
            name: "max_words".into(),
            passed: words <= max,
            detail: format!("{words} words (max {max})"),
        });
    }
    let mut detected = None;
    if let Some(expected) = &expect.language {
        let found = detector.check(reply, expected, customer);
        detected = found.detected.map(str::to_string);
        // A reply wholly in another language says so; one that switches names the part.
        let detail = match &found.stray {
            Some((segment, language)) if found.whole_matches => {
                format!("expected {expected}, detected {language} in {segment:?}")
            }
            _ => format!(
                "expected {expected}, detected {}",
                found.detected.unwrap_or("nothing")
            ),
        };
        checks.push(Check {
            name: "language".into(),
            passed: found.passed,
            detail,
        });
    }
    (checks, detected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evalset::ExpectedOutcome;
    use regex::Regex;

    fn expect() -> Expectation {
        Expectation {
            outcome: ExpectedOutcome::Resolve,
            must_include: vec!["28 November".into()],
            must_not_include: vec!["PL-9999".into()],
            regex: vec![std::sync::Arc::new(Regex::new(r"\bNov").unwrap())],
            not_regex: vec![std::sync::Arc::new(Regex::new(r"(?i)sorry").unwrap())],
            language: Some("en".into()),
            max_words: Some(12),
            rubric: vec![],
            reference: None,
            actions: Vec::new(),
            forbidden_actions: Vec::new(),
        }
    }

    fn run(reply: &str) -> Vec<Check> {
        let d = LanguageDetector::for_languages(&["en".into(), "pl".into()]);
        rule_checks(&expect(), reply, &[], &d).0
    }

    /// A Polish question echoed and then an English answer fails the language check, and
    /// the check names the English part; the same reply without the switch passes.
    #[test]
    fn the_language_check_names_the_part_in_another_language() {
        let d = LanguageDetector::for_languages(&["en".into(), "pl".into()]);
        let mut e = expect();
        e.language = Some("pl".into());
        let question = "Gdzie jest moje zamówienie PL-52904?";
        let language = |reply: &str| {
            rule_checks(&e, reply, &[question], &d)
                .0
                .into_iter()
                .find(|c| c.name == "language")
                .unwrap()
        };
        let check = language(&format!("{question}\n\nThe answer is no."));
        assert!(!check.passed);
        assert_eq!(
            check.detail,
            r#"expected pl, detected en in "The answer is no.""#
        );
        let check = language(&format!(
            "{question}\n\nTwoje zamówienie zostało wysłane i dotrze do 17 marca."
        ));
        assert!(check.passed, "{check:?}");
    }

    #[test]
    fn a_good_reply_passes_every_rule() {
        let checks = run("Your refund is on its way and arrives by 28 November.");
        assert_eq!(checks.len(), 6);
        assert!(checks.iter().all(|c| c.passed), "{checks:?}");
    }

    /// A PM writes "28 November"; a bot may say "28 NOVEMBER" or "pl-9999".
    #[test]
    fn included_and_excluded_text_match_case_insensitively() {
        let checks = run("Refund for pl-9999 arrives by 28 NOVEMBER.");
        let passed = |name: &str| checks.iter().find(|c| c.name == name).unwrap().passed;
        assert!(passed("must_include"), "{checks:?}");
        assert!(!passed("must_not_include"), "{checks:?}");
    }

    #[test]
    fn each_rule_can_fail() {
        let checks = run(
            "Sorry, PL-9999 refund arrives soon, zwrot jest w trakcie realizacji, dziękujemy bardzo za cierpliwość",
        );
        let failed: Vec<&str> = checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            failed,
            [
                "must_include",
                "must_not_include",
                "regex",
                "not_regex",
                "max_words",
                "language"
            ]
        );
    }
}
