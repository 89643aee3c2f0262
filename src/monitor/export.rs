//! Reading a production export (JSONL, one conversation a line) as a stream: each line is
//! checked and handed over as the few facts the metrics need, then dropped, so memory
//! never holds the transcripts. A line that breaks the format stops the read with its
//! file, line and field.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::diagnostic::Diagnostic;
use crate::timefmt::parse_rfc3339;

/// What the metrics keep of one conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationHead<'a> {
    /// A stable 64-bit hash of `customer_id`: repeat contacts compare customers, and a
    /// hash keeps a million of them in 8 bytes each.
    pub customer: u64,
    pub language: &'a str,
    pub started_at: i64,
    /// No human took over: `handoff: false`, or no `handoff` and no `agent` message.
    pub contained: bool,
    pub csat: Option<f64>,
}

/// Who wrote a message of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    Customer,
    Bot,
    Agent,
}

/// A conversation's messages, read again for the judge sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub id: String,
    pub language: String,
    pub messages: Vec<(Speaker, String)>,
}

/// A hash of a string, the same for the same string within one run (fixed keys); it
/// never leaves memory, so it need not be stable across Rust versions.
pub fn stable_hash(text: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// Where a conversation was read: the file (by its index in the list) and line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub file: usize,
    pub line: u64,
}

/// Reads every export in order and calls `each` with every conversation, numbered from 0
/// across the files in reading order. Stops at the first bad line, or at a conversation
/// id seen before (two exports that overlap would count conversations twice).
/// `progress` hears the bytes read so far.
pub fn read_exports(
    paths: &[PathBuf],
    mut progress: impl FnMut(u64),
    mut each: impl FnMut(ConversationHead<'_>),
) -> Result<u64, Diagnostic> {
    // Ids are kept as 8-byte hashes; the rare hit is checked against the text of the ids
    // by reading again, so a hash collision is never taken for a repeated conversation.
    let mut seen: HashSet<u64> = HashSet::new();
    let mut read_bytes = 0u64;
    let mut count = 0u64;
    for (file, path) in paths.iter().enumerate() {
        for_each_line(path, |line_no, bytes, value| {
            read_bytes += bytes;
            if line_no % 4096 == 0 {
                progress(read_bytes);
            }
            let fields = object(value).map_err(|m| at(path, line_no, m))?;
            let id = string_field(&fields, "id").map_err(|m| at(path, line_no, m))?;
            let here = Place {
                file,
                line: line_no,
            };
            if !seen.insert(stable_hash(id))
                && let Some(first) = first_place(paths, id, here)?
            {
                return Err(at(
                    path,
                    line_no,
                    format!(
                        "field `id`: conversation {id:?} appears twice (first at {}:{}); an export must not repeat a conversation",
                        paths[first.file].display(),
                        first.line
                    ),
                ));
            }
            let head = head(&fields).map_err(|m| at(path, line_no, m))?;
            each(head);
            count += 1;
            Ok(ControlFlow::Continue(()))
        })?;
    }
    progress(read_bytes);
    Ok(count)
}

/// Reads the exports again and returns the transcripts of the conversations whose
/// numbers (as `read_exports` counted them) are in `wanted`.
pub fn read_transcripts(
    paths: &[PathBuf],
    wanted: &std::collections::BTreeSet<u64>,
) -> Result<HashMap<u64, Transcript>, Diagnostic> {
    let mut found = HashMap::new();
    let mut index = 0u64;
    for path in paths {
        if found.len() == wanted.len() {
            break;
        }
        for_each_line(path, |line_no, _, value| {
            if wanted.contains(&index) {
                let fields = object(value).map_err(|m| at(path, line_no, m))?;
                found.insert(index, transcript(fields).map_err(|m| at(path, line_no, m))?);
            }
            index += 1;
            // The sample is usually a few hundred conversations of a large export.
            Ok(if found.len() == wanted.len() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        })?;
    }
    Ok(found)
}

/// Where the conversation `id` first appears before `before`, if it does.
fn first_place(paths: &[PathBuf], id: &str, before: Place) -> Result<Option<Place>, Diagnostic> {
    let mut found = None;
    for (file, path) in paths.iter().enumerate().take(before.file + 1) {
        for_each_line(path, |line_no, _, value| {
            if file == before.file && line_no >= before.line {
                return Ok(ControlFlow::Break(()));
            }
            if matches!(&value, Value::Object(m) if m.get("id").and_then(Value::as_str) == Some(id))
            {
                found = Some(Place {
                    file,
                    line: line_no,
                });
                return Ok(ControlFlow::Break(()));
            }
            Ok(ControlFlow::Continue(()))
        })?;
        if found.is_some() {
            break;
        }
    }
    Ok(found)
}

/// Calls `each` with the number, length and JSON of every non-blank line of `path`, until
/// it breaks.
fn for_each_line(
    path: &Path,
    mut each: impl FnMut(u64, u64, Value) -> Result<ControlFlow<()>, Diagnostic>,
) -> Result<(), Diagnostic> {
    let file = std::fs::File::open(path)
        .map_err(|e| Diagnostic::new(path, format!("cannot read the export: {e}")))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| Diagnostic::new(path, format!("cannot read the export: {e}")))?;
        if n == 0 {
            return Ok(());
        }
        line_no += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value: Value = serde_json::from_slice(&buf).map_err(|e| {
            Diagnostic::new(path, format!("not a JSON object: {e}")).at(line_no, e.column() as u64)
        })?;
        if each(line_no, n as u64, value)?.is_break() {
            return Ok(());
        }
    }
}

fn at(path: &Path, line: u64, message: String) -> Diagnostic {
    Diagnostic::new(path, message).at(line, 0)
}

fn object(value: Value) -> Result<Map<String, Value>, String> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(format!(
            "expected one conversation as a JSON object, got {}",
            kind(&other)
        )),
    }
}

fn head(fields: &Map<String, Value>) -> Result<ConversationHead<'_>, String> {
    let customer = string_field(fields, "customer_id")?;
    let language = string_field(fields, "language")?;
    let started = string_field(fields, "started_at")?;
    let started_at = parse_rfc3339(started).map_err(|m| format!("field `started_at`: {m}"))?;
    let messages = messages(fields)?;
    let handoff = match fields.get("handoff") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            return Err(format!(
                "field `handoff`: expected true or false, got {}",
                kind(other)
            ));
        }
    };
    let reached_agent = messages.iter().any(|(who, _)| *who == Speaker::Agent);
    let csat = match fields.get("csat") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(other) => {
            return Err(format!(
                "field `csat`: expected a number, got {}",
                kind(other)
            ));
        }
    };
    Ok(ConversationHead {
        customer: stable_hash(customer),
        language,
        started_at,
        // An explicit flag is the system of record; the agent's message is the fallback.
        contained: !handoff.unwrap_or(reached_agent),
        csat,
    })
}

fn transcript(fields: Map<String, Value>) -> Result<Transcript, String> {
    let messages = messages(&fields)?
        .into_iter()
        .map(|(who, text)| (who, text.to_string()))
        .collect();
    Ok(Transcript {
        id: string_field(&fields, "id")?.to_string(),
        language: string_field(&fields, "language")?.to_string(),
        messages,
    })
}

fn messages(fields: &Map<String, Value>) -> Result<Vec<(Speaker, &str)>, String> {
    let list = match fields.get("messages") {
        Some(Value::Array(list)) => list,
        None => return Err("field `messages` is missing".into()),
        Some(other) => {
            return Err(format!(
                "field `messages`: expected a list of messages, got {}",
                kind(other)
            ));
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            let field = format!("messages[{i}]");
            let Value::Object(m) = m else {
                return Err(format!(
                    "field `{field}`: expected {{\"role\", \"text\"}}, got {}",
                    kind(m)
                ));
            };
            let role = match m.get("role") {
                Some(Value::String(r)) => r.as_str(),
                Some(other) => {
                    return Err(format!(
                        "field `{field}.role`: expected a string, got {}",
                        kind(other)
                    ));
                }
                None => return Err(format!("field `{field}.role` is missing")),
            };
            let speaker = match role {
                "customer" => Speaker::Customer,
                "bot" => Speaker::Bot,
                "agent" => Speaker::Agent,
                other => {
                    return Err(format!(
                        "field `{field}.role`: expected customer, bot or agent, got {other:?}"
                    ));
                }
            };
            let text = match m.get("text") {
                Some(Value::String(t)) => t.as_str(),
                Some(other) => {
                    return Err(format!(
                        "field `{field}.text`: expected a string, got {}",
                        kind(other)
                    ));
                }
                None => return Err(format!("field `{field}.text` is missing")),
            };
            Ok((speaker, text))
        })
        .collect()
}

fn string_field<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match fields.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) => Err(format!("field `{name}` is empty")),
        Some(other) => Err(format!(
            "field `{name}`: expected a string, got {}",
            kind(other)
        )),
        None => Err(format!("field `{name}` is missing")),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;

    fn line(extra: &str) -> String {
        format!(
            r#"{{"id": "c-1", "customer_id": "u-1", "language": "pl", "started_at": "2026-11-02T09:14:00Z", "messages": [{{"role": "customer", "text": "Gdzie jest zwrot?"}}, {{"role": "bot", "text": "Jutro."}}]{extra}}}"#
        )
    }

    fn heads(text: &str) -> Result<Vec<(bool, Option<f64>)>, Diagnostic> {
        let dir = TempDir::new("export");
        let path = dir.join("export.jsonl");
        std::fs::write(&path, text).unwrap();
        let mut out = Vec::new();
        read_exports(&[path], |_| {}, |h| out.push((h.contained, h.csat)))?;
        Ok(out)
    }

    fn problem(text: &str) -> String {
        let e = heads(text).unwrap_err();
        format!("line {}: {}", e.line.unwrap_or(0), e.message)
    }

    #[test]
    fn handoff_flag_decides_and_agent_message_is_the_fallback() {
        let agent = r#"{"id": "c-2", "customer_id": "u-1", "language": "pl", "started_at": "2026-11-02T10:00:00Z", "messages": [{"role": "customer", "text": "?"}, {"role": "agent", "text": "Anna here."}]}"#;
        let flagged_no = agent
            .replace("c-2", "c-3")
            .replace("]}", "], \"handoff\": false}");
        let text = format!(
            "{}\n{}\n\n{agent}\n{flagged_no}\n",
            line(""),
            line(", \"handoff\": true, \"csat\": 4").replace("c-1", "c-4")
        );
        assert_eq!(
            heads(&text).unwrap(),
            vec![
                (true, None),
                (false, Some(4.0)),
                (false, None),
                (true, None)
            ]
        );
    }

    #[test]
    fn a_bad_line_names_its_line_and_field() {
        let good = line("");
        let cases = [
            (
                line(", \"csat\": \"good\"").replace("c-1", "c-9"),
                "line 2: field `csat`: expected a number, got a string",
            ),
            (
                good.replace("c-1", "c-9")
                    .replace("2026-11-02T09:14:00Z", "yesterday"),
                "line 2: field `started_at`: expected an RFC 3339 time",
            ),
            (
                good.replace("c-1", "c-9")
                    .replace("\"role\": \"bot\"", "\"role\": \"robot\""),
                "line 2: field `messages[1].role`: expected customer, bot or agent, got \"robot\"",
            ),
            (
                good.replace("c-1", "c-9")
                    .replace("\"customer_id\": \"u-1\"", "\"customer_id\": 7"),
                "line 2: field `customer_id`: expected a string, got a number",
            ),
            (
                good.replace("c-1", "c-9")
                    .replace("\"language\": \"pl\", ", ""),
                "line 2: field `language` is missing",
            ),
            (
                line(", \"handoff\": \"yes\"").replace("c-1", "c-9"),
                "line 2: field `handoff`: expected true or false",
            ),
            (
                good.clone(),
                "line 2: field `id`: conversation \"c-1\" appears twice",
            ),
            (
                "{\"id\": \"c-9\", ".to_string(),
                "line 2: not a JSON object",
            ),
            (
                "[1, 2]".to_string(),
                "line 2: expected one conversation as a JSON object, got a list",
            ),
        ];
        for (bad, expected) in cases {
            let message = problem(&format!("{good}\n{bad}\n"));
            assert!(
                message.starts_with(expected),
                "{message}\nexpected: {expected}"
            );
        }
    }

    #[test]
    fn transcripts_are_fetched_by_number_on_a_second_read() {
        let dir = TempDir::new("export2");
        let a = dir.join("a.jsonl");
        let b = dir.join("b.jsonl");
        std::fs::write(&a, format!("{}\n\n", line(""))).unwrap();
        std::fs::write(&b, line("").replace("c-1", "c-2")).unwrap();
        let wanted = [1u64].into_iter().collect();
        let found = read_transcripts(&[a, b], &wanted).unwrap();
        assert_eq!(found.len(), 1);
        let t = &found[&1];
        assert_eq!(t.id, "c-2");
        assert_eq!(t.messages[1], (Speaker::Bot, "Jutro.".to_string()));
    }

    #[test]
    fn a_conversation_repeated_in_another_export_names_both_places() {
        let dir = TempDir::new("export3");
        let a = dir.join("a.jsonl");
        let b = dir.join("b.jsonl");
        std::fs::write(
            &a,
            format!("\n{}\n{}\n", line("").replace("c-1", "c-0"), line("")),
        )
        .unwrap();
        std::fs::write(
            &b,
            format!("{}\n{}\n", line("").replace("c-1", "c-5"), line("")),
        )
        .unwrap();
        let e = read_exports(&[a.clone(), b.clone()], |_| {}, |_| {}).unwrap_err();
        assert_eq!((e.path.as_path(), e.line), (b.as_path(), Some(2)));
        assert!(
            e.message.contains(&format!("first at {}:3", a.display())),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_customer_hash_is_stable() {
        assert_eq!(stable_hash("u-77"), stable_hash("u-77"));
        assert_ne!(stable_hash("u-77"), stable_hash("u-78"));
    }
}
