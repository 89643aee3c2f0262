//! Writing draft cases into an eval-set file. Drafts are appended after the text that is
//! there, which stays byte for byte (a PM's comments and layout survive), and the whole
//! file is checked by the loader before anything is written: a draft is valid exactly when
//! a case typed by hand would be.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Map, Value};

use super::{Case, DRAFT_STATUS, load_file};
use crate::diagnostic::{Diagnostic, Diagnostics};

/// A case to append with `status: draft`.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftCase {
    pub id: String,
    /// Where it came from: a case key, or `import:<file>:<line>`.
    pub source: String,
    /// Every other field of the case, as in the file (`stratum`, `turns`, `expect`, …).
    pub fields: Map<String, Value>,
    /// A line for the reviewer, written as a YAML comment above `expect`.
    pub note: Option<String>,
}

/// The order fields are written in: the order of the eval-set format's documentation.
const FIELD_ORDER: [&str; 8] = [
    "scenario", "stratum", "intent", "tags", "context", "turns", "simulate", "expect",
];

impl DraftCase {
    /// The case as YAML list item, its dash at `indent` spaces.
    pub fn to_yaml(&self, indent: usize) -> String {
        let status = [
            format!("status: {DRAFT_STATUS}"),
            format!("source: {}", scalar(&self.source)),
        ];
        item_yaml(
            &self.id,
            &status,
            &self.fields,
            self.note.as_deref(),
            indent,
        )
    }
}

/// A case as the file would have it (without status or source), for showing a model.
pub fn case_yaml(id: &str, fields: &Map<String, Value>) -> String {
    item_yaml(id, &[], fields, None, 0)
}

fn item_yaml(
    id: &str,
    head: &[String],
    fields: &Map<String, Value>,
    note: Option<&str>,
    indent: usize,
) -> String {
    let pad = " ".repeat(indent + 2);
    let mut out = format!("{}- id: {}\n", " ".repeat(indent), scalar(id));
    for line in head {
        let _ = writeln!(out, "{pad}{line}");
    }
    let mut keys: Vec<&String> = fields.keys().collect();
    keys.sort_by_key(|k| {
        FIELD_ORDER
            .iter()
            .position(|f| f == k)
            .unwrap_or(FIELD_ORDER.len())
    });
    for key in keys {
        if key == "expect"
            && let Some(note) = note
        {
            for line in note.lines() {
                let _ = writeln!(out, "{pad}# {line}");
            }
        }
        entry(&mut out, indent + 2, key, &fields[key]);
    }
    out
}

/// The order of keys inside `expect` and its actions, as the format documents them;
/// other keys follow in name order.
const NESTED_ORDER: [&str; 13] = [
    "outcome",
    "must_include",
    "must_not_include",
    "regex",
    "not_regex",
    "language",
    "max_words",
    "rubric",
    "reference",
    "actions",
    "forbidden_actions",
    "name",
    "arguments",
];

fn ordered(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by_key(|(k, _)| {
        NESTED_ORDER
            .iter()
            .position(|o| o == k)
            .unwrap_or(NESTED_ORDER.len())
    });
    entries
}

/// One `key: value` at `indent`, block style for mappings and lists of mappings.
fn entry(out: &mut String, indent: usize, key: &str, value: &Value) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let _ = writeln!(out, "{pad}{}:", scalar_key(key));
            for (k, v) in ordered(map) {
                entry(out, indent + 2, k, v);
            }
        }
        Value::Array(items) if items.iter().any(|v| v.is_object()) => {
            let _ = writeln!(out, "{pad}{}:", scalar_key(key));
            for item in items {
                list_item(out, indent + 2, item);
            }
        }
        _ => {
            let _ = writeln!(out, "{pad}{}: {}", scalar_key(key), flow(value));
        }
    }
}

/// One `- …` of a block list at `indent`.
fn list_item(out: &mut String, indent: usize, value: &Value) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut inner = String::new();
            for (k, v) in ordered(map) {
                entry(&mut inner, indent + 2, k, v);
            }
            // The first key goes on the dash's line.
            let _ = write!(out, "{pad}- {}", &inner[indent + 2..]);
        }
        other => {
            let _ = writeln!(out, "{pad}- {}", flow(other));
        }
    }
}

/// A value on one line. JSON is YAML's flow style, so nested values stay exact.
fn flow(value: &Value) -> String {
    match value {
        Value::String(s) => scalar(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", quoted(k), flow(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        other => other.to_string(),
    }
}

fn scalar_key(key: &str) -> String {
    scalar(key)
}

/// A string plain when YAML cannot read it as anything else, double-quoted otherwise
/// (JSON's escapes are YAML's).
fn scalar(s: &str) -> String {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain { s.to_string() } else { quoted(s) }
}

fn quoted(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// The indentation of the dash of the file's case items, so appended cases line up.
fn item_indent(text: &str) -> usize {
    let mut in_cases = false;
    for line in text.lines() {
        if line.starts_with("cases:") {
            in_cases = true;
            continue;
        }
        if in_cases {
            let trimmed = line.trim_start();
            if trimmed.starts_with("- ") || trimmed == "-" {
                return line.len() - trimmed.len();
            }
        }
    }
    2
}

/// The text of an eval-set file for `language` (and `market`), before its first case.
pub fn file_header(language: &str, market: Option<&str>) -> String {
    match market {
        Some(m) => format!(
            "language: {}\nmarket: {}\ncases:\n",
            scalar(language),
            scalar(m)
        ),
        None => format!("language: {}\ncases:\n", scalar(language)),
    }
}

/// `text` with `drafts` appended, checked by the loader as a whole. Every problem is
/// reported; the caller writes nothing unless this succeeds.
pub fn append(path: &Path, text: &str, drafts: &[DraftCase]) -> Result<String, Diagnostics> {
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    let indent = item_indent(text);
    for draft in drafts {
        out.push_str(&draft.to_yaml(indent));
    }
    let cases = load_file(path, &out)?;
    let drafted: HashSet<&str> = drafts.iter().map(|d| d.id.as_str()).collect();
    let found = cases
        .iter()
        .filter(|c| c.draft && drafted.contains(c.id.as_str()))
        .count();
    if found != drafts.len() {
        // `cases:` is not the file's last key, or not a block list: appended text would
        // land somewhere else.
        return Err(Diagnostics(vec![Diagnostic::new(
            path,
            "cannot append cases to this file: `cases:` must be its last key, written as a block list (`- id: ...`)",
        )]));
    }
    Ok(out)
}

/// Why one draft cannot be a case of a file that starts with `header` (its `language:`
/// and `market:`, see [`file_header`]), in the loader's words; `None` when it can. Checked
/// on its own, so checking many drafts for a large file stays cheap; ids are the caller's
/// to keep unique, and [`append`] checks the whole file again.
pub fn problems_of(path: &Path, header: &str, draft: &DraftCase) -> Option<String> {
    let first_new_line = header.lines().count() as u64 + 1;
    match append(path, header, std::slice::from_ref(draft)) {
        Ok(_) => None,
        Err(problems) => Some(
            problems
                .0
                .iter()
                .map(|d| match d.line {
                    // Lines of the draft as it would be written, counted from its `- id:`.
                    Some(line) if line >= first_new_line => {
                        format!(
                            "line {} of the draft: {}",
                            line - first_new_line + 1,
                            d.message
                        )
                    }
                    _ => d.message.clone(),
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
    }
}

/// `base-1`, `base-2`, … : the first not in `taken`, which then holds it.
pub fn fresh_id(base: &str, taken: &mut HashSet<String>) -> String {
    let id = (1..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken.contains(id))
        .unwrap_or_else(|| base.to_string());
    taken.insert(id.clone());
    id
}

/// A case's fields as the file would spell them, for building a draft from it.
pub fn fields_of(case: &Case) -> Map<String, Value> {
    let mut f = Map::new();
    if let Some(s) = &case.scenario {
        f.insert("scenario".into(), s.as_str().into());
    }
    f.insert("stratum".into(), case.stratum.name().into());
    if let Some(i) = &case.intent {
        f.insert("intent".into(), i.as_str().into());
    }
    if !case.tags.is_empty() {
        f.insert("tags".into(), case.tags.clone().into());
    }
    if !case.context.is_empty() {
        let context: Map<String, Value> = case.context.clone().into_iter().collect();
        f.insert("context".into(), Value::Object(context));
    }
    let turns: Vec<Value> = case
        .turns
        .iter()
        .map(|t| serde_json::json!({ "user": t }))
        .collect();
    f.insert("turns".into(), Value::Array(turns));
    f.insert("expect".into(), Value::Object(expect_of(case)));
    f
}

fn expect_of(case: &Case) -> Map<String, Value> {
    let e = &case.expect;
    let mut m = Map::new();
    m.insert("outcome".into(), e.outcome.name().into());
    let mut list = |name: &str, items: Vec<String>| {
        if !items.is_empty() {
            m.insert(name.into(), items.into());
        }
    };
    list("must_include", e.must_include.clone());
    list("must_not_include", e.must_not_include.clone());
    list(
        "regex",
        e.regex.iter().map(|r| r.as_str().to_string()).collect(),
    );
    list(
        "not_regex",
        e.not_regex.iter().map(|r| r.as_str().to_string()).collect(),
    );
    list("rubric", e.rubric.clone());
    list("forbidden_actions", e.forbidden_actions.clone());
    match &e.language {
        None => {
            m.insert("language".into(), "any".into());
        }
        Some(l) if *l != case.language => {
            m.insert("language".into(), l.as_str().into());
        }
        Some(_) => {}
    }
    if let Some(n) = e.max_words {
        m.insert("max_words".into(), n.into());
    }
    if let Some(r) = &e.reference {
        m.insert("reference".into(), r.as_str().into());
    }
    if !e.actions.is_empty() {
        let actions: Vec<Value> = e
            .actions
            .iter()
            .map(|a| {
                let mut o = Map::new();
                o.insert("name".into(), a.name.as_str().into());
                if !a.arguments.is_empty() {
                    o.insert("arguments".into(), Value::Object(a.arguments.clone()));
                }
                Value::Object(o)
            })
            .collect();
        m.insert("actions".into(), Value::Array(actions));
    }
    m
}

/// Replaces `path` with `text` all at once: a reader never sees half a file.
pub fn write_whole(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".evalgate-tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FILE: &str = "# Polish cases, reviewed by Ola\nlanguage: pl\ncases:\n  - id: a   # the first\n    stratum: routine\n    turns:\n      - user: \"Gdzie jest zwrot?\"\n    expect:\n      outcome: resolve\n      must_include: [\"28\"]\n";

    fn draft(id: &str, fields: Value) -> DraftCase {
        DraftCase {
            id: id.into(),
            source: "pl/a".into(),
            fields: fields.as_object().unwrap().clone(),
            note: None,
        }
    }

    fn path() -> &'static Path {
        Path::new("evalsets/s/pl.yaml")
    }

    #[test]
    fn appended_drafts_keep_the_file_and_load_as_drafts() {
        let d = draft(
            "a-para-1",
            json!({"stratum": "routine", "turns": [{"user": "Kiedy \"zwrot\"?\nDzięki: 100%"}], "context": {"order": {"id": "PL-1", "n": 3}, "yes": "no"}, "expect": {"outcome": "resolve", "must_include": ["28", "true"], "actions": [{"name": "lookup", "arguments": {"id": "PL-1"}}]}}),
        );
        let out = append(path(), FILE, std::slice::from_ref(&d)).unwrap();
        assert!(out.starts_with(FILE), "{out}");
        let cases = load_file(path(), &out).unwrap();
        let c = &cases[1];
        assert!(c.draft && !cases[0].draft);
        assert_eq!(c.derived_from.as_deref(), Some("pl/a"));
        assert_eq!(c.turns, vec!["Kiedy \"zwrot\"?\nDzięki: 100%".to_string()]);
        assert_eq!(c.context["yes"], json!("no"));
        assert_eq!(c.context["order"], json!({"id": "PL-1", "n": 3}));
        assert_eq!(c.expect.must_include, vec!["28", "true"]);
        assert_eq!(c.expect.actions[0].arguments["id"], json!("PL-1"));
        // A case rebuilt from the loaded one comes out the same.
        assert_eq!(fields_of(c), d.fields);
    }

    #[test]
    fn an_invalid_draft_is_refused_in_the_loaders_words() {
        let d = draft(
            "a-para-1",
            json!({"stratum": "sometimes", "turns": [{"user": "x"}], "expect": {"outcome": "resolve"}}),
        );
        let why = problems_of(path(), &file_header("pl", Some("PL")), &d).unwrap();
        assert!(
            why.contains("line 4 of the draft") && why.contains("sometimes"),
            "{why}"
        );
    }

    #[test]
    fn a_file_whose_cases_are_not_last_is_refused() {
        let text = format!("{FILE}market: PL\n");
        let d = draft(
            "b",
            json!({"stratum": "routine", "turns": [{"user": "x"}], "expect": {"outcome": "resolve"}}),
        );
        assert!(append(path(), &text, &[d]).is_err());
    }

    #[test]
    fn fresh_ids_skip_those_taken() {
        let mut taken: HashSet<String> = ["a-para-1".to_string()].into();
        assert_eq!(fresh_id("a-para", &mut taken), "a-para-2");
        assert_eq!(fresh_id("a-para", &mut taken), "a-para-3");
    }

    #[test]
    fn notes_become_comments_above_expect() {
        let mut d = draft(
            "t-1",
            json!({"stratum": "routine", "turns": [{"user": "x"}], "expect": {"outcome": "resolve"}}),
        );
        d.note = Some("set the expected outcome".into());
        let yaml = d.to_yaml(2);
        assert!(
            yaml.contains("    # set the expected outcome\n    expect:\n"),
            "{yaml}"
        );
    }
}
