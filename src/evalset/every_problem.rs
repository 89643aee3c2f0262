//! The second look at an eval-set file that did not load: every problem in it, not just
//! the first one serde met. The file is checked against its schema as a whole (each case
//! on its own, so a typo in one case does not hide another case's), and the cases with
//! no problem of shape are read again and given the checks past shape (ids, regexes,
//! the conversation), so one run of `evalgate check` lists everything to fix.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::{CaseSpec, RegexCache, check_cases};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::schema::SchemaFile;
use crate::schema::check::{check, check_item};
use crate::schema::tree::{Node, Value};
use crate::yaml;

/// Every problem of the file at `path`, whose strict parse failed with `first`.
pub(super) fn find(
    path: &Path,
    text: &str,
    first: Diagnostic,
    regexes: &mut RegexCache,
) -> Diagnostics {
    let Ok(root) = yaml::parse::<Node>(path, text) else {
        // Not even a YAML tree (a syntax error, a refused bomb): serde's word is all.
        return Diagnostics(vec![first]);
    };
    let schema = SchemaFile::EvalSet.schema();
    let mut problems = check(path, &schema, &root).0;
    let skipped: HashSet<usize> = case_nodes(&root)
        .iter()
        .enumerate()
        .filter(|(index, node)| {
            !check_item(path, &schema, "/$defs/CaseSpec", "cases", *index, node).is_empty()
        })
        .map(|(index, _)| index)
        .collect();
    let seed = FileSeed { skip: &skipped };
    let reread = serde_saphyr::with_deserializer_from_str_with_options(
        text,
        yaml::options(text.len()),
        |deserializer| seed.deserialize(deserializer),
    );
    if let Ok(file) = reread
        && let Err(found) = check_cases(
            path,
            file.language.as_ref(),
            file.market,
            file.cases,
            false,
            regexes,
        )
    {
        problems.extend(found.0);
    }
    if !problems.iter().any(|d| d.line == first.line) {
        problems.push(first);
    }
    problems.sort_by_key(|d| (d.line, d.column));
    problems.dedup();
    Diagnostics(problems)
}

/// The items of the top-level `cases:` list.
fn case_nodes(root: &Node) -> &[Node] {
    let Value::Map(entries) = &root.value else {
        return &[];
    };
    entries
        .iter()
        .find(|(key, _)| key.value == Value::Str("cases".into()))
        .and_then(|(_, cases)| match &cases.value {
            Value::Seq(items) => Some(items.as_slice()),
            _ => None,
        })
        .unwrap_or(&[])
}

/// What is left of a file once the cases with problems are skipped.
struct PartialFile {
    language: Option<Spanned<String>>,
    market: Option<String>,
    cases: Vec<Spanned<CaseSpec>>,
}

/// Reads the file, skipping the cases whose index is in `skip` (their problems are
/// reported already) and keys the schema check has reported.
struct FileSeed<'a> {
    skip: &'a HashSet<usize>,
}

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = PartialFile;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<PartialFile, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = PartialFile;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an eval-set file")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PartialFile, A::Error> {
        let mut file = PartialFile {
            language: None,
            market: None,
            cases: Vec::new(),
        };
        while let Some(key) = map.next_key::<Node>()? {
            match key.value.scalar_text().as_deref() {
                Some("language") => {
                    let node: Node = map.next_value()?;
                    if let Value::Str(language) = node.value {
                        file.language = Some(Spanned::new(language, node.at, node.at));
                    }
                }
                Some("market") => {
                    let node: Node = map.next_value()?;
                    file.market = match node.value {
                        Value::Null => None,
                        other => other.scalar_text(),
                    };
                }
                Some("cases") => {
                    file.cases = map.next_value_seed(CasesSeed { skip: self.skip })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(file)
    }
}

struct CasesSeed<'a> {
    skip: &'a HashSet<usize>,
}

impl<'de> DeserializeSeed<'de> for CasesSeed<'_> {
    type Value = Vec<Spanned<CaseSpec>>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for CasesSeed<'_> {
    type Value = Vec<Spanned<CaseSpec>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of cases")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut cases = Vec::new();
        for index in 0.. {
            if self.skip.contains(&index) {
                if seq.next_element::<IgnoredAny>()?.is_none() {
                    break;
                }
            } else {
                match seq.next_element::<Spanned<CaseSpec>>()? {
                    Some(case) => cases.push(case),
                    None => break,
                }
            }
        }
        Ok(cases)
    }
}
