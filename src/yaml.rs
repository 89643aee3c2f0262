//! Strict YAML loading: every syntax or shape error becomes a [`Diagnostic`] with its
//! position, and unknown keys get a "did you mean" suggestion.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::diagnostic::Diagnostic;

/// Limits that keep a hostile file (alias bombs, deep nesting) from exhausting memory:
/// serde-saphyr's parse budget (events, nodes, nesting depth, aliases and anchors) and
/// alias-expansion limits, spelled out so that a change of the library's defaults cannot
/// silently switch them off; duplicate keys are errors.
///
/// The node and event budgets grow with the input: every node the parser sees takes at
/// least one byte of the file (aliases are what make nodes without bytes, and their
/// expansion stays capped), so a budget proportional to the file's length still bounds
/// memory by the file's size while a 20,000-case eval set loads. Depth, alias and anchor
/// limits stay fixed whatever the size: those are what a bomb exploits.
pub(crate) fn options(input_len: usize) -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget_for(input_len));
    options.alias_limits = serde_saphyr::options::AliasLimits::default();
    options.duplicate_keys = serde_saphyr::options::DuplicateKeyPolicy::Error;
    options
}

/// The parse budget for an input of `input_len` bytes: the library's defaults, with the
/// node and event counts raised to what a file of that length can hold.
fn budget_for(input_len: usize) -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = budget.max_nodes.max(input_len);
    // A container is two events (start, end), a scalar one.
    budget.max_events = budget.max_events.max(input_len.saturating_mul(2));
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(input_len);
    budget
}

/// Parses `text` (the contents of `path`) into `T`.
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, Diagnostic> {
    serde_saphyr::from_str_with_options(text, options(text.len()))
        .map_err(|err| to_diagnostic(path, &err))
}

/// Reads and parses a YAML file, rejecting invalid UTF-8 with a position.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<T, Diagnostic> {
    let bytes =
        std::fs::read(path).map_err(|e| Diagnostic::new(path, format!("cannot read file: {e}")))?;
    let text = decode_utf8(path, &bytes)?;
    parse(path, text)
}

/// UTF-8 text of a file, or a diagnostic at the first invalid byte.
pub fn decode_utf8<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, Diagnostic> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() as u64 + 1;
        Diagnostic::new(path, "file is not valid UTF-8").at(line, column)
    })
}

fn to_diagnostic(path: &Path, err: &serde_saphyr::Error) -> Diagnostic {
    let message = match limit_exceeded(err) {
        Some(explained) => explained,
        None => with_suggestion(&first_line_without_position(&err.to_string())),
    };
    let diagnostic = Diagnostic::new(path, message);
    match err.location() {
        Some(location) => diagnostic.at_location(location),
        None => diagnostic,
    }
}

/// A safety limit the file ran into, in words a PM can act on; `None` for other errors.
fn limit_exceeded(err: &serde_saphyr::Error) -> Option<String> {
    use serde_saphyr::budget::BudgetBreach;
    const REFUSED: &str = "evalgate refuses such files so that a hostile one cannot exhaust memory";
    const ALIASES: &str =
        "YAML aliases (`*name`) that repeat large parts of the file are the usual cause";
    let what = match innermost(err) {
        serde_saphyr::Error::Budget { breach, .. } => match breach {
            BudgetBreach::Depth { .. } => {
                let max = serde_saphyr::Budget::default().max_depth;
                return Some(format!(
                    "the file nests lists and maps deeper than {max} levels; {REFUSED}"
                ));
            }
            BudgetBreach::Nodes { nodes } => format!("more than {} values", nodes - 1),
            BudgetBreach::Events { events } => format!("more than {} parser events", events - 1),
            BudgetBreach::Aliases { aliases } => format!("{aliases} aliases"),
            BudgetBreach::AliasAnchorRatio { aliases, anchors } => {
                format!("{aliases} aliases to {anchors} anchors")
            }
            other => format!("{other:?}"),
        },
        serde_saphyr::Error::AliasReplayLimitExceeded {
            max_total_replayed_events,
            ..
        } => format!("aliases expanding to more than {max_total_replayed_events} values"),
        serde_saphyr::Error::AliasReplayStackDepthExceeded { .. } => {
            "aliases nested in aliases too deeply".to_string()
        }
        _ => return None,
    };
    Some(format!(
        "the file expands to {what}, beyond what evalgate reads safely for its size; {ALIASES}; {REFUSED}"
    ))
}

/// The error under saphyr's wrappers (a snippet, the alias it came through).
fn innermost(mut err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = err
    {
        err = error;
    }
    err
}

/// saphyr's display form carries its own position and a source snippet; the diagnostic
/// prints the position itself, so keep only the message.
fn first_line_without_position(rendered: &str) -> String {
    let first = rendered.lines().next().unwrap_or(rendered).trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let first = match first.rfind(" at line ") {
        Some(idx) => first[..idx].trim_end_matches(','),
        None => first,
    };
    strip_position_prefix(first).to_string()
}

/// Drops a leading "line 5 column 3: ".
fn strip_position_prefix(message: &str) -> &str {
    let Some(rest) = message.strip_prefix("line ") else {
        return message;
    };
    match rest.find(": ") {
        Some(idx)
            if rest[..idx]
                .chars()
                .all(|c| c.is_ascii_digit() || c == ' ' || c.is_ascii_alphabetic()) =>
        {
            &rest[idx + 2..]
        }
        _ => message,
    }
}

/// Adds "did you mean `x`?" to serde's "unknown field `y`, expected one of ..." messages.
pub fn with_suggestion(message: &str) -> String {
    let Some(unknown) = between(message, "unknown field `", "`")
        .or_else(|| between(message, "unknown variant `", "`"))
    else {
        return message.to_string();
    };
    let Some(expected_part) = message.split("expected").nth(1) else {
        return message.to_string();
    };
    let candidates: Vec<&str> = expected_part
        .trim_start()
        .trim_start_matches("one of")
        .split([',', ' '])
        .map(|w| w.trim().trim_matches('`'))
        .filter(|w| !w.is_empty() && *w != "or")
        .collect();
    match closest(unknown, &candidates) {
        Some(best) => format!("{message} (did you mean `{best}`?)"),
        None => message.to_string(),
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// The candidate most like `word`, if any is close enough to be a plausible typo.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_field() {
        let msg = "unknown field `concurency`, expected one of `concurrency`, `repeats`, `retries`";
        assert!(with_suggestion(msg).ends_with("(did you mean `concurrency`?)"));
    }

    #[test]
    fn suggests_from_unquoted_candidates() {
        let msg =
            "unknown field `concurency`, expected one of concurrency, repeats, max_error_rate";
        assert!(with_suggestion(msg).ends_with("(did you mean `concurrency`?)"));
        assert_eq!(
            strip_position_prefix("line 5 column 3: unknown field"),
            "unknown field"
        );
    }

    #[test]
    fn no_suggestion_when_nothing_is_close() {
        let msg = "unknown field `zzz`, expected one of `concurrency`, `repeats`";
        assert_eq!(with_suggestion(msg), msg);
    }

    #[derive(Debug, serde::Deserialize)]
    struct Cases {
        cases: Vec<serde_json::Value>,
    }

    #[test]
    fn a_file_past_the_default_node_budget_loads() {
        // 300,000 nodes in a few megabytes: more than the library's fixed default allows.
        let mut text = String::from("cases:\n");
        for i in 0..60_000 {
            text.push_str(&format!("  - {{id: c{i}, a: 1, b: 2, c: 3}}\n"));
        }
        let parsed: Cases = parse(Path::new("big.yaml"), &text).unwrap();
        assert_eq!(parsed.cases.len(), 60_000);
    }

    #[test]
    fn an_alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for level in 1..10 {
            let prev = format!("*a{}", level - 1);
            let list = [prev.as_str(); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{list}]\n"));
        }
        text.push_str("cases: [*a9]\n");
        let err = parse::<Cases>(Path::new("bomb.yaml"), &text).unwrap_err();
        assert!(err.message.contains("aliases (`*name`)"), "{err}");
        // In a large file the node budget is larger, and the bomb still goes off against
        // the fixed limit on alias expansion.
        text.push_str(&format!("# {}\n", "x".repeat(4_000_000)));
        let err = parse::<Cases>(Path::new("bomb.yaml"), &text).unwrap_err();
        assert!(err.message.contains("aliases (`*name`)"), "{err}");
    }

    #[test]
    fn deep_nesting_is_refused_in_a_large_file_too() {
        let depth = 200;
        let mut text = String::from("cases:\n  - ");
        text.push_str(&"[".repeat(depth));
        text.push_str(&"]".repeat(depth));
        text.push('\n');
        // Padding makes the file large enough to raise the node budget; the depth limit
        // must not move with it.
        text.push_str(&format!("# {}\n", "x".repeat(2_000_000)));
        let err = parse::<Cases>(Path::new("deep.yaml"), &text).unwrap_err();
        assert!(err.message.contains("deeper than 64 levels"), "{err}");
    }

    #[test]
    fn invalid_utf8_is_located() {
        let bytes = b"a: 1\nb: \xff\n";
        let d = decode_utf8(Path::new("x.yaml"), bytes).unwrap_err();
        assert_eq!((d.line, d.column), (Some(2), Some(4)));
    }
}
