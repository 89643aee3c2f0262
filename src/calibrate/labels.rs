//! Human labels (JSONL, one line per labelled result), read strictly: a label that cannot
//! be trusted to mean what its labeler meant stops the command, naming file and line.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::CalibrateError;

/// The outcome a person saw: the four end states a conversation can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelOutcome {
    Resolved,
    Escalated,
    Refused,
    Deflected,
}

impl LabelOutcome {
    pub fn name(self) -> &'static str {
        match self {
            LabelOutcome::Resolved => "resolved",
            LabelOutcome::Escalated => "escalated",
            LabelOutcome::Refused => "refused",
            LabelOutcome::Deflected => "deflected",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelCriterion {
    pub n: u32,
    pub passed: bool,
}

/// One line of a labels file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelLine {
    key: String,
    repeat: u32,
    transcript_sha256: String,
    labeler: String,
    criteria: Vec<LabelCriterion>,
    outcome: LabelOutcome,
    #[serde(default)]
    #[allow(dead_code)] // kept for the labeler; calibration reads no free text
    note: Option<String>,
}

/// One person's rating of one result, with where it was written so that a later
/// problem (a criterion the case does not have) can still name the line.
#[derive(Debug, Clone)]
pub struct Label {
    pub key: String,
    pub repeat: u32,
    pub transcript_sha256: String,
    pub labeler: String,
    pub criteria: Vec<LabelCriterion>,
    pub outcome: LabelOutcome,
    pub file: PathBuf,
    pub line: usize,
}

/// Every label in the files, in order; the first bad line is the error.
pub fn read_labels(files: &[PathBuf]) -> Result<Vec<Label>, CalibrateError> {
    let mut labels = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| CalibrateError::Unreadable {
            path: file.clone(),
            message: e.to_string(),
        })?;
        labels.extend(parse_labels(file, &text)?);
    }
    Ok(labels)
}

/// The labels in one file's text; blank lines are allowed, nothing else that is not a label.
pub fn parse_labels(file: &Path, text: &str) -> Result<Vec<Label>, CalibrateError> {
    let mut labels = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let line = index + 1;
        let bad = |message: String| CalibrateError::BadLabel {
            file: file.to_path_buf(),
            line,
            message,
        };
        let parsed: LabelLine = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        let mut seen = HashSet::new();
        if let Some(twice) = parsed.criteria.iter().find(|c| !seen.insert(c.n)) {
            return Err(bad(format!("criterion {} is labelled twice", twice.n)));
        }
        labels.push(Label {
            key: parsed.key,
            repeat: parsed.repeat,
            transcript_sha256: parsed.transcript_sha256,
            labeler: parsed.labeler,
            criteria: parsed.criteria,
            outcome: parsed.outcome,
            file: file.to_path_buf(),
            line,
        });
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"key":"pl/refund","repeat":1,"transcript_sha256":"ab","labeler":"ola","criteria":[{"n":1,"passed":true}],"outcome":"resolved","note":"ok"}"#;

    fn error_of(text: &str) -> String {
        parse_labels(Path::new("labels.jsonl"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_a_label_and_remembers_its_line() {
        let labels = parse_labels(Path::new("l.jsonl"), &format!("\n{GOOD}\n")).unwrap();
        assert_eq!(labels.len(), 1);
        assert_eq!(labels[0].line, 2);
        assert_eq!(labels[0].outcome, LabelOutcome::Resolved);
        assert_eq!(labels[0].criteria[0], LabelCriterion { n: 1, passed: true });
    }

    #[test]
    fn a_note_may_be_left_out() {
        let line = GOOD.replace(r#","note":"ok""#, "");
        assert_eq!(parse_labels(Path::new("l"), &line).unwrap().len(), 1);
    }

    #[test]
    fn a_malformed_line_names_file_and_line() {
        let e = error_of(&format!("{GOOD}\n{{\"key\": \n"));
        assert!(e.starts_with("labels.jsonl:2: "), "{e}");
    }

    #[test]
    fn an_unknown_field_is_an_error() {
        let e = error_of(&GOOD.replace("\"note\"", "\"notes\""));
        assert!(
            e.starts_with("labels.jsonl:1: ") && e.contains("notes"),
            "{e}"
        );
    }

    #[test]
    fn an_outcome_outside_the_four_is_an_error() {
        let e = error_of(&GOOD.replace("\"resolved\"", "\"error\""));
        assert!(
            e.starts_with("labels.jsonl:1: ") && e.contains("error"),
            "{e}"
        );
    }

    #[test]
    fn a_criterion_labelled_twice_is_an_error() {
        let e = error_of(&GOOD.replace(
            r#"[{"n":1,"passed":true}]"#,
            r#"[{"n":1,"passed":true},{"n":1,"passed":false}]"#,
        ));
        assert!(
            e.contains("labels.jsonl:1: criterion 1 is labelled twice"),
            "{e}"
        );
    }
}
