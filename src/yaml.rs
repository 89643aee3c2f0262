//! Strict YAML loading: every syntax or shape error becomes a [`Diagnostic`] with its
//! position, and unknown keys get a "did you mean" suggestion.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::diagnostic::Diagnostic;

/// Limits that keep a hostile file (alias bombs, deep nesting) from exhausting memory:
/// serde-saphyr's parse budget (events, nodes, nesting depth, aliases and anchors) and
/// alias-expansion limits, spelled out so that a change of the library's defaults cannot
/// silently switch them off; duplicate keys are errors.
fn options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(serde_saphyr::Budget::default());
    options.alias_limits = serde_saphyr::options::AliasLimits::default();
    options.duplicate_keys = serde_saphyr::options::DuplicateKeyPolicy::Error;
    options
}

/// Parses `text` (the contents of `path`) into `T`.
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, Diagnostic> {
    serde_saphyr::from_str_with_options(text, options()).map_err(|err| to_diagnostic(path, &err))
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
    let message = first_line_without_position(&err.to_string());
    let message = with_suggestion(&message);
    let diagnostic = Diagnostic::new(path, message);
    match err.location() {
        Some(location) => diagnostic.at_location(location),
        None => diagnostic,
    }
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

    #[test]
    fn invalid_utf8_is_located() {
        let bytes = b"a: 1\nb: \xff\n";
        let d = decode_utf8(Path::new("x.yaml"), bytes).unwrap_err();
        assert_eq!((d.line, d.column), (Some(2), Some(4)));
    }
}
