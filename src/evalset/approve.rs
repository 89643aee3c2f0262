//! Approving drafts: the `status: draft` line of each named case is taken out of the
//! file's text, line by line, so everything else (comments, layout, the `source:` line
//! that says where the case came from) stays as the reviewer left it.

use std::collections::BTreeSet;
use std::path::Path;

use super::{DRAFT_STATUS, load_file};
use crate::diagnostic::{Diagnostic, Diagnostics};

/// Why a file's drafts could not be approved.
#[derive(Debug, thiserror::Error)]
pub enum ApproveError {
    #[error("{0}")]
    Invalid(Diagnostics),
    #[error("{path}: no case with id {}", list(.ids))]
    UnknownIds { path: String, ids: Vec<String> },
    #[error(
        "{path}:{line}: case `{id}`: its `status: {DRAFT_STATUS}` is not on a line of its own; delete it by hand"
    )]
    NoStatusLine { path: String, id: String, line: u64 },
}

fn list(ids: &[String]) -> String {
    ids.iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What approving did.
#[derive(Debug, Default, PartialEq)]
pub struct Approval {
    /// The new text of the file.
    pub text: String,
    /// Drafts that are now approved, in file order.
    pub approved: Vec<String>,
    /// Named cases that were not drafts.
    pub already: Vec<String>,
}

/// Approves the drafts named by `ids` (every draft when empty) in `text`, the content of
/// `path`; the result is checked by the loader again.
pub fn approve(path: &Path, text: &str, ids: &[String]) -> Result<Approval, ApproveError> {
    let cases = load_file(path, text).map_err(ApproveError::Invalid)?;
    let known: BTreeSet<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    let unknown: Vec<String> = ids
        .iter()
        .filter(|id| !known.contains(id.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(ApproveError::UnknownIds {
            path: path.display().to_string(),
            ids: unknown,
        });
    }
    let named = |id: &str| ids.is_empty() || ids.iter().any(|i| i == id);
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    // Case starts, in file order, bound each case's lines.
    let mut starts: Vec<u64> = cases.iter().map(|c| c.line).collect();
    starts.sort_unstable();
    let mut approval = Approval::default();
    let mut removals: Vec<usize> = Vec::new();
    for case in &cases {
        if !named(&case.id) {
            continue;
        }
        if !case.draft {
            approval.already.push(case.id.clone());
            continue;
        }
        let first = case.line.saturating_sub(1) as usize;
        let next = starts.partition_point(|&s| s <= case.line);
        let end = starts.get(next).map_or(lines.len(), |&s| (s - 1) as usize);
        let found = status_line(&lines, first, end);
        let Some(at) = found else {
            return Err(ApproveError::NoStatusLine {
                path: path.display().to_string(),
                id: case.id.clone(),
                line: case.line,
            });
        };
        if at == first {
            // `- status: draft` opens the item: the next key moves up onto the dash.
            let dash = lines[first].find('-').unwrap_or(0);
            let Some(next) = lines.get(first + 1).cloned() else {
                return Err(ApproveError::NoStatusLine {
                    path: path.display().to_string(),
                    id: case.id.clone(),
                    line: case.line,
                });
            };
            lines[first] = format!("{}- {}", &lines[first][..dash], next.trim_start());
            removals.push(first + 1);
        } else {
            removals.push(at);
        }
        approval.approved.push(case.id.clone());
    }
    let removals: std::collections::HashSet<usize> = removals.into_iter().collect();
    approval.text = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| !removals.contains(i))
        .map(|(_, line)| line.as_str())
        .collect();
    let after = load_file(path, &approval.text).map_err(ApproveError::Invalid)?;
    let approved: BTreeSet<&String> = approval.approved.iter().collect();
    let still: Vec<&str> = after
        .iter()
        .filter(|c| c.draft && approved.contains(&c.id))
        .map(|c| c.id.as_str())
        .collect();
    if let Some(id) = still.first() {
        return Err(ApproveError::Invalid(Diagnostics(vec![Diagnostic::new(
            path,
            format!(
                "case `{id}` still reads as a draft after its status line was removed; delete the line by hand"
            ),
        )])));
    }
    Ok(approval)
}

/// The line among `lines[first..end]` that holds the case's own `status: draft`: at the
/// indentation of the case's keys (a `status` deeper down belongs to a context value).
fn status_line(lines: &[String], first: usize, end: usize) -> Option<usize> {
    let opening = lines.get(first)?;
    let dash = opening.find('-')?;
    let after_dash = &opening[dash + 1..];
    let key_column = dash + 1 + (after_dash.len() - after_dash.trim_start().len());
    let is_status = |rest: &str| {
        let rest = rest.trim_end();
        let rest = rest.split(" #").next().unwrap_or(rest).trim_end();
        let Some(value) = rest.strip_prefix("status:") else {
            return false;
        };
        let value = value.trim();
        [DRAFT_STATUS, "\"draft\"", "'draft'"].contains(&value)
    };
    if is_status(&opening[key_column..]) {
        return Some(first);
    }
    (first + 1..end.min(lines.len())).find(|&i| {
        let line = &lines[i];
        let indent = line.len() - line.trim_start_matches(' ').len();
        indent == key_column && is_status(&line[indent..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "language: en\ncases:\n  # reviewed\n  - id: a\n    stratum: routine\n    turns:\n      - user: hi\n    expect:\n      outcome: resolve\n      must_include: [x]\n  - id: b\n    status: draft   # from expand\n    source: en/a\n    stratum: routine\n    context:\n      status: draft\n    turns:\n      - user: hello\n    expect:\n      outcome: resolve\n      must_include: [x]\n  - status: draft\n    id: c\n    stratum: edge\n    turns:\n      - user: help\n    expect:\n      outcome: escalate\n";

    fn path() -> &'static Path {
        Path::new("evalsets/s/en.yaml")
    }

    #[test]
    fn approving_all_removes_only_the_status_lines() {
        let a = approve(path(), FILE, &[]).unwrap();
        assert_eq!(a.approved, vec!["b", "c"]);
        let expected = FILE
            .replace("    status: draft   # from expand\n", "")
            .replace("  - status: draft\n    id: c\n", "  - id: c\n");
        assert_eq!(a.text, expected);
        let cases = load_file(path(), &a.text).unwrap();
        assert!(cases.iter().all(|c| !c.draft));
        assert_eq!(
            cases[1].context["status"], "draft",
            "a context value is data"
        );
        assert_eq!(cases[1].derived_from.as_deref(), Some("en/a"));
    }

    #[test]
    fn approving_some_leaves_the_others_drafts() {
        let a = approve(path(), FILE, &["c".into(), "a".into()]).unwrap();
        assert_eq!(a.approved, vec!["c"]);
        assert_eq!(a.already, vec!["a"]);
        let cases = load_file(path(), &a.text).unwrap();
        assert!(cases[1].draft && !cases[2].draft);
    }

    #[test]
    fn unknown_ids_are_named() {
        let err = approve(path(), FILE, &["b".into(), "zz".into(), "yy".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "evalsets/s/en.yaml: no case with id `zz`, `yy`"
        );
    }

    #[test]
    fn a_flow_style_status_is_left_to_a_person() {
        let text = "language: en\ncases:\n  - {id: a, status: draft, stratum: routine, turns: [{user: hi}], expect: {outcome: resolve}}\n";
        let err = approve(path(), text, &[]).unwrap_err();
        assert!(
            matches!(err, ApproveError::NoStatusLine { line: 3, .. }),
            "{err}"
        );
    }
}
