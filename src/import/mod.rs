//! `evalgate import`: real tickets (CSV or JSON lines) become draft cases, one per ticket,
//! the customer's words as the first turn, personal data masked. Everything is read and
//! checked before anything is written: a bad row stops the import with its file and line.

pub mod csv;
pub mod pii;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::evalset::append::{self, DraftCase};
use crate::evalset::{ExpectedOutcome, Stratum, load_file};
use crate::language::{self, LanguageDetector};
pub use pii::Masked;

/// Which columns hold what, and what every draft gets.
#[derive(Debug, Clone)]
pub struct ImportSpec {
    pub input: PathBuf,
    pub text_column: String,
    /// Without one, a ticket's id is its row number.
    pub id_column: Option<String>,
    /// The language column; without it, `language` for every row, or detection.
    pub language_column: Option<String>,
    pub language: Option<String>,
    pub intent_column: Option<String>,
    pub stratum: Stratum,
    pub outcome: ExpectedOutcome,
    /// The suite folder: one file per language, `<language>.yaml`, appended to if it
    /// exists; or one eval-set file (`.yaml`), when every ticket is in its language.
    pub out: PathBuf,
    pub keep_pii: bool,
}

/// One ticket as read: the line it starts on and its columns.
#[derive(Debug, Clone)]
struct Ticket {
    line: usize,
    columns: HashMap<String, String>,
}

/// An eval-set file as the import leaves it.
#[derive(Debug, Clone)]
pub struct PlannedFile {
    pub path: PathBuf,
    pub language: String,
    pub text: String,
    pub added: usize,
    pub created: bool,
}

/// What the import will write, checked and ready.
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    pub files: Vec<PlannedFile>,
    pub masked: Masked,
    /// Tickets whose id the target file already has (imported before).
    pub already_imported: Vec<String>,
    /// Lines of tickets with no text.
    pub empty: Vec<usize>,
    /// Tickets whose language was detected, not given.
    pub detected: usize,
}

impl ImportPlan {
    pub fn added(&self) -> usize {
        self.files.iter().map(|f| f.added).sum()
    }

    /// Writes every file; each one whole or not at all.
    pub fn write(&self) -> Result<(), Diagnostic> {
        for file in &self.files {
            if let Some(dir) = file.path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Diagnostic::new(dir, format!("cannot create the folder: {e}")))?;
            }
            append::write_whole(&file.path, &file.text)
                .map_err(|e| Diagnostic::new(&file.path, format!("cannot write: {e}")))?;
        }
        Ok(())
    }
}

/// Reads and checks the tickets and the files they go to; writes nothing.
pub fn plan(spec: &ImportSpec) -> Result<ImportPlan, Diagnostics> {
    let one = |d: Diagnostic| Diagnostics(vec![d]);
    let path = &spec.input;
    let bytes =
        std::fs::read(path).map_err(|e| one(Diagnostic::new(path, format!("cannot read: {e}"))))?;
    let text = crate::yaml::decode_utf8(path, &bytes).map_err(one)?;
    let tickets = read_tickets(path, text, spec).map_err(one)?;
    if let Some(language) = &spec.language
        && !language::is_known_tag(language)
    {
        return Err(one(Diagnostic::new(
            path,
            format!(
                "--lang {language}: not a language evalgate can detect (known: {})",
                language::known_tags().join(", ")
            ),
        )));
    }
    let known: Vec<String> = language::known_tags()
        .into_iter()
        .map(str::to_string)
        .collect();
    let detector = LanguageDetector::for_languages(&known);
    let out_file = is_yaml(&spec.out).then_some(spec.out.as_path());
    // An existing file says the language of every ticket that goes into it.
    let file_language = match out_file {
        Some(file) if file.exists() => Some(language_of_file(file)?),
        _ => None,
    };
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );

    let mut plan = ImportPlan::default();
    let mut problems = Diagnostics::default();
    let mut by_language: BTreeMap<String, Vec<(String, DraftCase)>> = BTreeMap::new();
    let mut first_line_of_id: HashMap<String, usize> = HashMap::new();
    for ticket in &tickets {
        let at = |message: String| Diagnostic::new(path, message).at(ticket.line as u64, 0);
        let words = ticket.columns[&spec.text_column].trim();
        if words.is_empty() {
            plan.empty.push(ticket.line);
            continue;
        }
        let (words, masked) = if spec.keep_pii {
            (words.to_string(), Masked::default())
        } else {
            pii::mask(words)
        };
        plan.masked.add(masked);
        let language = match (&spec.language_column, &spec.language) {
            (Some(column), _) => {
                let tag = ticket.columns[column].trim().to_ascii_lowercase();
                if !language::is_known_tag(&tag) {
                    problems.push(at(format!(
                        "column `{column}`: `{tag}` is not a language evalgate can detect (known: {})",
                        language::known_tags().join(", ")
                    )));
                    continue;
                }
                tag
            }
            (None, Some(language)) => language.clone(),
            (None, None) if file_language.is_some() => file_language.clone().unwrap_or_default(),
            (None, None) => match detector.detect(&words) {
                Some(tag) => {
                    plan.detected += 1;
                    tag.to_string()
                }
                None => {
                    problems.push(at(
                        "cannot tell the ticket's language; give --lang or --lang-column".into(),
                    ));
                    continue;
                }
            },
        };
        let id = match &spec.id_column {
            Some(column) => format!("ticket-{}", safe_id(&ticket.columns[column])),
            None => format!("ticket-{}", ticket.line),
        };
        if let Some(first) = first_line_of_id.get(&id) {
            problems.push(at(format!(
                "ticket id `{id}` repeats the ticket at line {first}"
            )));
            continue;
        }
        first_line_of_id.insert(id.clone(), ticket.line);
        let mut fields = Map::new();
        fields.insert("stratum".into(), spec.stratum.name().into());
        if let Some(column) = &spec.intent_column {
            let intent = ticket.columns[column].trim();
            if !intent.is_empty() {
                fields.insert("intent".into(), intent.into());
            }
        }
        fields.insert("turns".into(), json!([{ "user": words }]));
        fields.insert("expect".into(), json!({ "outcome": spec.outcome.name() }));
        let draft = DraftCase {
            id: id.clone(),
            source: format!("import:{file_name}:{}", ticket.line),
            fields,
            note: Some(format!(
                "imported: review the expected outcome ({}) and add checks (must_include, rubric) before approving",
                spec.outcome.name()
            )),
        };
        by_language.entry(language).or_default().push((id, draft));
    }
    problems.into_result(())?;
    if let Some(file) = out_file
        && by_language.len() > 1
    {
        let found: Vec<String> = by_language
            .iter()
            .map(|(l, d)| format!("{l} ({})", d.len()))
            .collect();
        return Err(one(Diagnostic::new(
            file,
            format!(
                "one eval-set file holds one language, but the tickets are in several: {}; give --out a suite folder (one file per language), or --lang",
                found.join(", ")
            ),
        )));
    }

    for (language, drafts) in by_language {
        let target = match out_file {
            Some(file) => file.to_path_buf(),
            None => spec.out.join(format!("{language}.yaml")),
        };
        let (existing, created) = match std::fs::read(&target) {
            Ok(bytes) => (
                crate::yaml::decode_utf8(&target, &bytes)
                    .map_err(one)?
                    .to_string(),
                false,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                (append::file_header(&language, None), true)
            }
            Err(e) => {
                return Err(one(Diagnostic::new(&target, format!("cannot read: {e}"))));
            }
        };
        let taken: HashSet<String> = if created {
            HashSet::new()
        } else {
            let cases = load_file(&target, &existing)?;
            if let Some(case) = cases.first()
                && case.language != language
            {
                return Err(one(Diagnostic::new(
                    &target,
                    format!(
                        "holds language `{}`, but the tickets are in `{language}`",
                        case.language
                    ),
                )));
            }
            cases.into_iter().map(|c| c.id).collect()
        };
        let mut fresh = Vec::new();
        for (id, draft) in drafts {
            if taken.contains(&id) {
                plan.already_imported.push(format!("{language}/{id}"));
            } else {
                fresh.push(draft);
            }
        }
        if fresh.is_empty() {
            continue;
        }
        let text = append::append(&target, &existing, &fresh)?;
        plan.files.push(PlannedFile {
            path: target,
            language,
            text,
            added: fresh.len(),
            created,
        });
    }
    Ok(plan)
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// The `language:` of an existing eval-set file, which must be valid.
fn language_of_file(path: &Path) -> Result<String, Diagnostics> {
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostics(vec![Diagnostic::new(path, format!("cannot read: {e}"))]))?;
    let text = crate::yaml::decode_utf8(path, &bytes).map_err(|d| Diagnostics(vec![d]))?;
    let cases = load_file(path, text)?;
    Ok(cases
        .first()
        .map(|c| c.language.clone())
        .unwrap_or_default())
}

/// A ticket id as part of a case id: letters, digits, `-`, `_` and `.` only.
fn safe_id(raw: &str) -> String {
    let id: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    id.trim_start_matches('.').to_string()
}

/// The tickets of a CSV file (with a header row) or of JSON lines, by file extension;
/// every column the spec names must be there.
fn read_tickets(path: &Path, text: &str, spec: &ImportSpec) -> Result<Vec<Ticket>, Diagnostic> {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let tickets = match extension.as_str() {
        "csv" => read_csv(path, text, spec)?,
        "jsonl" | "ndjson" => read_jsonl(path, text, spec)?,
        _ => {
            return Err(Diagnostic::new(
                path,
                "tickets must be a .csv file (with a header row) or .jsonl (one JSON object a line)",
            ));
        }
    };
    if tickets.is_empty() {
        return Err(Diagnostic::new(path, "has no tickets"));
    }
    Ok(tickets)
}

fn columns_named(spec: &ImportSpec) -> Vec<(&'static str, &str)> {
    let mut named = vec![("--text-column", spec.text_column.as_str())];
    let optional = [
        ("--id-column", &spec.id_column),
        ("--lang-column", &spec.language_column),
        ("--intent-column", &spec.intent_column),
    ];
    named.extend(
        optional
            .into_iter()
            .filter_map(|(flag, c)| c.as_deref().map(|c| (flag, c))),
    );
    named
}

fn read_csv(path: &Path, text: &str, spec: &ImportSpec) -> Result<Vec<Ticket>, Diagnostic> {
    let records =
        csv::parse(text).map_err(|e| Diagnostic::new(path, e.message).at(e.line as u64, 0))?;
    let Some((header, rows)) = records.split_first() else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = header.fields.iter().map(|h| h.trim().to_string()).collect();
    for (flag, column) in columns_named(spec) {
        if !names.iter().any(|n| n == column) {
            return Err(Diagnostic::new(
                path,
                format!(
                    "{flag} {column}: no such column (the header has: {})",
                    names.join(", ")
                ),
            )
            .at(header.line as u64, 0));
        }
    }
    Ok(rows
        .iter()
        .map(|r| Ticket {
            line: r.line,
            columns: names
                .iter()
                .cloned()
                .zip(r.fields.iter().cloned())
                .collect(),
        })
        .collect())
}

fn read_jsonl(path: &Path, text: &str, spec: &ImportSpec) -> Result<Vec<Ticket>, Diagnostic> {
    let mut tickets = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let at = |message: String| Diagnostic::new(path, message).at(number as u64, 0);
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| at(format!("not JSON: {e}")))?;
        let Value::Object(object) = value else {
            return Err(at("a ticket must be a JSON object".into()));
        };
        let mut columns = HashMap::new();
        for (key, value) in object {
            let text = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
                _ => continue,
            };
            columns.insert(key, text);
        }
        for (flag, column) in columns_named(spec) {
            if !columns.contains_key(column) {
                return Err(at(format!(
                    "{flag} {column}: the ticket has no such field (or it is not text)"
                )));
            }
        }
        tickets.push(Ticket {
            line: number,
            columns,
        });
    }
    Ok(tickets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;

    fn spec(dir: &Path, input: &str, contents: &str) -> ImportSpec {
        let input = dir.join(input);
        std::fs::write(&input, contents).unwrap();
        ImportSpec {
            input,
            text_column: "message".into(),
            id_column: Some("id".into()),
            language_column: Some("lang".into()),
            language: None,
            intent_column: None,
            stratum: Stratum::Routine,
            outcome: ExpectedOutcome::Resolve,
            out: dir.join("evalsets").join("tickets"),
            keep_pii: false,
        }
    }

    #[test]
    fn one_masked_draft_per_ticket_per_language_file() {
        let dir = TempDir::new("import-plan");
        let s = spec(
            &dir,
            "t.csv",
            "id,lang,message\n7,pl,\"Gdzie jest zwrot? Mój mail: jan@example.pl\"\n8,en,\"Refund, please\nCall +44 20 7946 0958\"\n9,pl,\n",
        );
        let plan = plan(&s).unwrap();
        assert_eq!(plan.added(), 2);
        assert_eq!(plan.empty, vec![5]);
        assert_eq!(plan.masked.emails, 1);
        assert_eq!(plan.masked.phones, 1);
        plan.write().unwrap();
        let pl = dir.join("evalsets/tickets/pl.yaml");
        let cases = load_file(&pl, &std::fs::read_to_string(&pl).unwrap()).unwrap();
        assert_eq!(cases[0].id, "ticket-7");
        assert!(cases[0].draft);
        assert_eq!(cases[0].turns, vec!["Gdzie jest zwrot? Mój mail: [email]"]);
        assert_eq!(cases[0].derived_from.as_deref(), Some("import:t.csv:2"));
        // Importing again adds nothing: the tickets are there.
        let again = super::plan(&s).unwrap();
        assert_eq!(again.added(), 0);
        assert_eq!(again.already_imported, vec!["en/ticket-8", "pl/ticket-7"]);
    }

    #[test]
    fn keep_pii_keeps_the_words() {
        let dir = TempDir::new("import-keep");
        let mut s = spec(
            &dir,
            "t.jsonl",
            "{\"id\": 1, \"lang\": \"en\", \"message\": \"I am jan@example.com\"}\n",
        );
        s.keep_pii = true;
        let plan = plan(&s).unwrap();
        assert!(plan.files[0].text.contains("jan@example.com"));
        assert_eq!(plan.masked.total(), 0);
    }

    #[test]
    fn bad_input_names_the_file_and_line() {
        let dir = TempDir::new("import-bad");
        let cases = [
            (
                "a.csv",
                "id,lang,text\n1,en,hi\n",
                1,
                "--text-column message: no such column",
            ),
            (
                "b.csv",
                "id,lang,message\n1,en,hi\n2,en\n",
                3,
                "2 fields, but the header has 3",
            ),
            (
                "c.jsonl",
                "{\"id\":1,\"lang\":\"en\",\"message\":\"hi\"}\n{oops\n",
                2,
                "not JSON",
            ),
            (
                "d.jsonl",
                "{\"id\":1,\"message\":\"hi\"}\n",
                1,
                "--lang-column lang",
            ),
            (
                "e.csv",
                "id,lang,message\n1,xx,hi\n",
                2,
                "`xx` is not a language",
            ),
            (
                "f.csv",
                "id,lang,message\n1,en,hi\n1,en,ho\n",
                3,
                "repeats the ticket at line 2",
            ),
        ];
        for (name, text, line, words) in cases {
            let err = plan(&spec(&dir, name, text)).unwrap_err();
            let d = &err.0[0];
            assert_eq!(d.line, Some(line), "{name}: {err}");
            assert!(d.path.ends_with(name), "{name}: {err}");
            assert!(d.message.contains(words), "{name}: {err}");
        }
        assert!(!dir.join("evalsets").exists(), "nothing written");
    }

    #[test]
    fn one_file_takes_the_tickets_of_its_language() {
        let dir = TempDir::new("import-file");
        let target = dir.join("pl.yaml");
        let existing = "language: pl\ncases:\n  - id: a\n    stratum: routine\n    turns:\n      - user: hej\n    expect:\n      outcome: resolve\n";
        std::fs::write(&target, existing).unwrap();
        let mut s = spec(&dir, "t.csv", "id,message\n1,Gdzie jest moja paczka?\n");
        s.language_column = None;
        s.out = target.clone();
        let plan = plan(&s).unwrap();
        assert_eq!(plan.files[0].path, target);
        assert_eq!(
            plan.files[0].language, "pl",
            "the file's language, not detection"
        );
        assert!(plan.files[0].text.starts_with(existing));

        let mut mixed = spec(&dir, "m.csv", "id,lang,message\n1,pl,a\n2,en,b\n");
        mixed.out = dir.join("new.yaml");
        let err = super::plan(&mixed).unwrap_err().to_string();
        assert!(err.contains("in several: en (1), pl (1)"), "{err}");
        assert!(!dir.join("new.yaml").exists());
    }

    #[test]
    fn languages_are_detected_without_a_column() {
        let dir = TempDir::new("import-detect");
        let mut s = spec(
            &dir,
            "t.csv",
            "id,message\n1,\"Dzień dobry, kiedy dostanę zwrot pieniędzy za zamówienie?\"\n2,\"Hello, when will I get my money back for the order?\"\n",
        );
        s.language_column = None;
        let plan = plan(&s).unwrap();
        let languages: Vec<&str> = plan.files.iter().map(|f| f.language.as_str()).collect();
        assert_eq!(languages, ["en", "pl"]);
        assert_eq!(plan.detected, 2);
    }
}
