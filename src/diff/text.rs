//! Human-readable differences: word-level for replies, line-level for prompts. Both run
//! with a deadline so a pathological pair of long texts cannot stall a report.

use std::time::{Duration, Instant};

use similar::{ChangeTag, TextDiff};

const DEADLINE: Duration = Duration::from_millis(50);

/// One run of words, unchanged, removed or added.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WordChange {
    /// `=` unchanged, `-` only in the old text, `+` only in the new.
    pub op: char,
    pub text: String,
}

/// Word-level difference between two replies, with adjacent runs of the same kind merged.
pub fn word_diff(old: &str, new: &str) -> Vec<WordChange> {
    let diff = TextDiff::configure()
        .deadline(Instant::now() + DEADLINE)
        .diff_words(old, new);
    let mut out: Vec<WordChange> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => '=',
            ChangeTag::Delete => '-',
            ChangeTag::Insert => '+',
        };
        match out.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => out.push(WordChange {
                op,
                text: change.value().to_string(),
            }),
        }
    }
    out
}

/// The word diff as plain text: `[-removed-]` and `{+added+}`.
pub fn inline(changes: &[WordChange]) -> String {
    let mut s = String::new();
    for c in changes {
        match c.op {
            '-' => {
                s.push_str("[-");
                s.push_str(&c.text);
                s.push_str("-]");
            }
            '+' => {
                s.push_str("{+");
                s.push_str(&c.text);
                s.push_str("+}");
            }
            _ => s.push_str(&c.text),
        }
    }
    s
}

/// Unified line diff of two prompt templates, or `None` when they are the same.
pub fn prompt_diff(old: &str, new: &str) -> Option<String> {
    if old == new {
        return None;
    }
    let diff = TextDiff::configure()
        .deadline(Instant::now() + DEADLINE)
        .diff_lines(old, new);
    Some(
        diff.unified_diff()
            .context_radius(2)
            .header("baseline prompt", "new prompt")
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_diff_marks_changed_words() {
        let d = word_diff(
            "Your refund arrives on 28 November.",
            "Your refund arrives soon.",
        );
        assert_eq!(
            inline(&d),
            "Your refund arrives [-on 28 November.-]{+soon.+}"
        );
    }

    #[test]
    fn prompt_diff_is_none_for_equal_text() {
        assert_eq!(prompt_diff("a\n", "a\n"), None);
        let d = prompt_diff("a\nb\n", "a\nc\n").unwrap();
        assert!(d.contains("-b") && d.contains("+c"), "{d}");
    }
}
