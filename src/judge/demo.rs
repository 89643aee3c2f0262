//! The demo judge: a deterministic stand-in for an LLM judge, so that a PM can try the
//! judge's whole workflow (judged rubrics, `label`, `calibrate`, the gate's
//! `judge_calibration`) with no model and no network. It reads no meaning: it looks for
//! the figures and names a criterion mentions. Calibrating it against people shows what
//! such a heuristic misses; that is the point of calibrating any judge.

use crate::evalset::{Case, ExpectedOutcome};
use crate::judge::parse::Parsed;
use crate::result::{CriterionVerdict, ObservedOutcome, Role, TranscriptTurn};

/// What the run records as the judge's model.
pub const MODEL: &str = "evalgate-demo-judge";

/// The rules, as the demo judge's "prompt": their hash is its prompt hash, so a change of
/// the rules makes an earlier calibration of it stale.
pub const RULES: &str = "evalgate demo judge v1\n\
- A criterion's anchors are its words (split at spaces, dashes and slashes) that contain a digit (amounts, dates, order and \
tracking numbers) or two capital letters (InPost, DPD); it is met when the bot's replies \
contain every anchor, and passed unread when it has none.\n\
- The outcome is the case's expected resolve or refuse when every criterion is met and the \
bot replied, deflected otherwise; a handoff is the scorer's to see.\n\
- An unsupported claim is a number of two or more digits in the bot's replies that the \
customer, the account context, the reference and the help-centre content never mention.\n";

/// Judges one conversation by the rules above.
pub fn judge(case: &Case, transcript: &[TranscriptTurn], knowledge: &str) -> Parsed {
    let replies: String = transcript
        .iter()
        .filter(|t| t.role == Role::Assistant)
        .map(|t| t.content.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let replies_folded = replies.to_lowercase();
    let criteria: Vec<CriterionVerdict> = case
        .expect
        .rubric
        .iter()
        .enumerate()
        .map(|(i, criterion)| {
            let (passed, reason) = check_criterion(criterion, &replies_folded);
            CriterionVerdict {
                n: i as u32 + 1,
                criterion: criterion.clone(),
                passed,
                reason,
            }
        })
        .collect();
    let replied = !replies.trim().is_empty();
    let outcome = match case.expect.outcome {
        _ if !replied || criteria.iter().any(|c| !c.passed) => ObservedOutcome::Deflected,
        ExpectedOutcome::Resolve => ObservedOutcome::Resolved,
        ExpectedOutcome::Refuse => ObservedOutcome::Refused,
        ExpectedOutcome::Escalate => ObservedOutcome::Deflected,
    };
    Parsed {
        criteria,
        outcome,
        unsupported_claims: unsupported_numbers(case, transcript, &replies, knowledge),
    }
}

fn check_criterion(criterion: &str, replies_folded: &str) -> (bool, String) {
    let anchors = anchors(criterion);
    if anchors.is_empty() {
        return (
            true,
            "no figure or name to look for: passed unread".to_string(),
        );
    }
    let missing: Vec<&str> = anchors
        .iter()
        .filter(|a| !replies_folded.contains(&a.to_lowercase()))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        (true, format!("the reply mentions {}", anchors.join(", ")))
    } else {
        (
            false,
            format!("the reply does not mention {}", missing.join(", ")),
        )
    }
}

/// The words of a criterion the reply must repeat: figures and brand-like names.
fn anchors(criterion: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    // "5–10", "DHL-Sendungsnummer" and "GDPR/RODO" are several anchors each: a reply
    // may write "5 to 10" or name DHL without the compound.
    let words = criterion.split(|c: char| c.is_whitespace() || matches!(c, '-' | '–' | '—' | '/'));
    for word in words {
        let word = word.trim_matches(|c: char| !c.is_alphanumeric());
        let digit = word.chars().any(|c| c.is_ascii_digit());
        let capitals = word.chars().filter(|c| c.is_uppercase()).count() >= 2;
        if !word.is_empty() && (digit || capitals) && !found.iter().any(|f| f == word) {
            found.push(word.to_string());
        }
    }
    found
}

/// Numbers the bot stated that nothing it was given supports.
fn unsupported_numbers(
    case: &Case,
    transcript: &[TranscriptTurn],
    replies: &str,
    knowledge: &str,
) -> Vec<String> {
    let mut given = serde_json::to_string(&case.context).unwrap_or_default();
    given.push_str(case.expect.reference.as_deref().unwrap_or(""));
    given.push_str(knowledge);
    for turn in transcript.iter().filter(|t| t.role == Role::User) {
        given.push_str(&turn.content);
    }
    let given_numbers = numbers(&given);
    let mut claims: Vec<String> = Vec::new();
    for number in numbers(replies) {
        if !given_numbers.contains(&number) && !claims.iter().any(|c| c.contains(&number)) {
            claims.push(format!("mentions {number}, which nothing given supports"));
        }
        if claims.len() == 5 {
            break;
        }
    }
    claims
}

/// Runs of two or more digits.
fn numbers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            current.push(c);
        } else {
            if current.len() >= 2 {
                out.push(std::mem::take(&mut current));
            }
            current.clear();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(outcome: &str, rubric: &[&str]) -> Case {
        let rubric: Vec<String> = rubric.iter().map(|r| format!("{r:?}")).collect();
        let yaml = format!(
            "language: en\ncases:\n  - id: a\n    stratum: edge\n    turns:\n      - user: hi\n    expect: {{ outcome: {outcome}, rubric: [{}], reference: 'Refund 259,99 zł by 27 March' }}\n",
            rubric.join(", ")
        );
        crate::evalset::load_file(std::path::Path::new("en.yaml"), &yaml)
            .unwrap()
            .remove(0)
    }

    fn turn(role: Role, content: &str) -> TranscriptTurn {
        TranscriptTurn::said(role, content)
    }

    #[test]
    fn a_criterion_is_met_when_the_reply_repeats_its_figures_and_names() {
        let c = case(
            "resolve",
            &[
                "Says the refund of 259,99 zł was approved",
                "Ships with InPost",
            ],
        );
        let good = [
            turn(Role::User, "where is my refund?"),
            turn(
                Role::Assistant,
                "Zwrot 259,99 zł zatwierdzony; paczka w inpost.",
            ),
        ];
        let v = judge(&c, &good, "");
        assert!(v.criteria.iter().all(|c| c.passed), "{:?}", v.criteria);
        assert_eq!(v.outcome, ObservedOutcome::Resolved);

        let wrong = [turn(Role::Assistant, "Zwrot 259,00 zł zatwierdzony.")];
        let v = judge(&c, &wrong, "");
        assert!(!v.criteria[0].passed);
        assert_eq!(v.criteria[0].reason, "the reply does not mention 259,99");
        assert!(!v.criteria[1].passed);
        assert_eq!(v.outcome, ObservedOutcome::Deflected);
    }

    #[test]
    fn a_criterion_with_nothing_to_look_for_passes_unread() {
        let c = case("refuse", &["Does not share another customer's address"]);
        let v = judge(&c, &[turn(Role::Assistant, "I can't share that.")], "");
        assert!(v.criteria[0].passed);
        assert!(v.criteria[0].reason.contains("passed unread"));
        assert_eq!(v.outcome, ObservedOutcome::Refused);
        let silent = judge(&c, &[turn(Role::Assistant, "  ")], "");
        assert_eq!(silent.outcome, ObservedOutcome::Deflected);
    }

    #[test]
    fn numbers_nothing_supports_are_unsupported_claims() {
        let c = case("resolve", &[]);
        let transcript = [
            turn(Role::User, "order 4417?"),
            turn(
                Role::Assistant,
                "Order 4417: refund 259,99 arrives by 27 March, within 14 days.",
            ),
        ];
        let v = judge(&c, &transcript, "");
        assert_eq!(
            v.unsupported_claims,
            vec!["mentions 14, which nothing given supports"]
        );
        assert!(
            judge(&c, &transcript, "Refunds arrive within 14 days.")
                .unsupported_claims
                .is_empty()
        );
    }

    #[test]
    fn anchors_are_figures_and_brand_like_names() {
        assert_eq!(
            anchors("Gives the tracking number 1000984457781U (DPD), on 23 March."),
            vec!["1000984457781U", "DPD", "23"]
        );
        assert_eq!(
            anchors("Names the DHL-Sendungsnummer; banks take 5–10 days (GDPR/RODO)"),
            vec!["DHL", "5", "10", "GDPR", "RODO"]
        );
        assert!(anchors("Explains how to add the new card").is_empty());
    }
}
