//! Checks a YAML tree against one of evalgate's generated schemas and reports every
//! problem at its own line: unknown keys (with a "did you mean"), missing keys, values
//! outside their choices, values of the wrong kind. serde stops at the first problem of a
//! file; this walks all of it, so a PM fixes a file in one pass instead of once per typo.
//!
//! It understands what schemars writes for evalgate's types (`$ref`, `type`, `enum`,
//! `const`, `oneOf`/`anyOf`, `properties`, `required`, `additionalProperties`, `items`,
//! `minimum`, `maximum`), not all of JSON Schema.

use std::path::Path;

use serde_json::Value as Json;

use super::tree::{Node, Value};
use crate::diagnostic::{Diagnostic, Diagnostics};

/// Every problem `root` has against `schema`, in document order.
pub fn check(path: &Path, schema: &Json, root: &Node) -> Diagnostics {
    let mut checker = Checker {
        path,
        root: schema,
        problems: Vec::new(),
    };
    checker.node(schema, root, &Place::default());
    let mut problems = checker.problems;
    problems.sort_by_key(|d| (d.line, d.column));
    Diagnostics(problems)
}

/// The problems of one item of a list (`items[index]`, e.g. `cases[3]`) against the
/// schema at `pointer` in `schema` (e.g. `/$defs/CaseSpec`).
pub fn check_item(
    path: &Path,
    schema: &Json,
    pointer: &str,
    list: &str,
    index: usize,
    node: &Node,
) -> Diagnostics {
    let Some(item_schema) = schema.pointer(pointer) else {
        return Diagnostics::default();
    };
    let mut checker = Checker {
        path,
        root: schema,
        problems: Vec::new(),
    };
    let place = Place::default().field(list).item(index, node);
    checker.node(item_schema, node, &place);
    Diagnostics(checker.problems)
}

/// Where in the file a value is, for the start of a message: the case (an item with an
/// `id`) and the field path inside it, e.g. "case `refund-01`: expect.outcome".
#[derive(Debug, Clone, Default)]
struct Place {
    case: Option<String>,
    field: String,
}

impl Place {
    fn field(&self, name: &str) -> Place {
        let field = if self.field.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.field)
        };
        Place {
            case: self.case.clone(),
            field,
        }
    }

    fn item(&self, index: usize, node: &Node) -> Place {
        if let Some(id) = id_of(node) {
            return Place {
                case: Some(id),
                field: String::new(),
            };
        }
        Place {
            case: self.case.clone(),
            field: format!("{}[{index}]", self.field),
        }
    }

    fn prefix(&self) -> String {
        match (&self.case, self.field.is_empty()) {
            (Some(case), true) => format!("case `{case}`: "),
            (Some(case), false) => format!("case `{case}`: {}: ", self.field),
            (None, false) => format!("{}: ", self.field),
            (None, true) => String::new(),
        }
    }
}

/// The `id` of a list item that has one (an eval case).
fn id_of(node: &Node) -> Option<String> {
    let Value::Map(entries) = &node.value else {
        return None;
    };
    entries
        .iter()
        .find(|(k, _)| k.value == Value::Str("id".into()))
        .and_then(|(_, v)| v.value.scalar_text())
}

struct Checker<'a> {
    path: &'a Path,
    root: &'a Json,
    problems: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    fn report(&mut self, node: &Node, place: &Place, message: String) {
        let diagnostic = Diagnostic::new(self.path, format!("{}{message}", place.prefix()));
        self.problems.push(diagnostic.at_location(node.at));
    }

    /// A schema with its `$ref` followed (once per level; schemars never chains them).
    fn resolve(&self, schema: &'a Json) -> &'a Json {
        match schema.get("$ref").and_then(Json::as_str) {
            Some(reference) => reference
                .strip_prefix('#')
                .and_then(|pointer| self.root.pointer(pointer))
                .unwrap_or(&Json::Bool(true)),
            None => schema,
        }
    }

    fn node(&mut self, schema: &'a Json, node: &Node, place: &Place) {
        let schema = self.resolve(schema);
        let Some(keywords) = schema.as_object() else {
            if schema == &Json::Bool(false) {
                self.report(node, place, "no value is allowed here".into());
            }
            return;
        };
        if let Some(types) = keywords.get("type")
            && !type_admits(types, &node.value)
        {
            let message = format!(
                "expected {}, found {}",
                words_for_types(types),
                describe(&node.value)
            );
            self.report(node, place, message);
            return;
        }
        if let Some(branches) = keywords
            .get("oneOf")
            .or_else(|| keywords.get("anyOf"))
            .and_then(Json::as_array)
        {
            self.branches(branches, node, place);
            return;
        }
        if let Some(choices) = choices_of(schema)
            && !choices.contains(&node.value.to_json())
        {
            self.unknown_value(&choices, node, place);
            return;
        }
        self.range(keywords, node, place);
        match &node.value {
            Value::Map(entries) => self.map(keywords, entries, node, place),
            Value::Seq(items) => {
                if let Some(item_schema) = keywords.get("items") {
                    for (index, item) in items.iter().enumerate() {
                        self.node(item_schema, item, &place.item(index, item));
                    }
                }
            }
            _ => {}
        }
    }

    fn map(
        &mut self,
        keywords: &'a serde_json::Map<String, Json>,
        entries: &[(Node, Node)],
        node: &Node,
        place: &Place,
    ) {
        let properties = keywords.get("properties").and_then(Json::as_object);
        let known: Vec<&str> = properties
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let extra = keywords.get("additionalProperties");
        for (key, value) in entries {
            let name = key.value.scalar_text().unwrap_or_default();
            match properties.and_then(|p| p.get(&name)) {
                Some(property) => self.node(property, value, &place.field(&name)),
                None => match extra {
                    Some(Json::Bool(false)) => {
                        let listed: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
                        let mut message =
                            format!("unknown field `{name}`, expected {}", one_of_words(&listed));
                        if let Some(best) = crate::yaml::closest(&name, &known) {
                            message.push_str(&format!(" (did you mean `{best}`?)"));
                        }
                        self.report(key, place, message);
                    }
                    Some(schema) => self.node(schema, value, &place.field(&name)),
                    None => {}
                },
            }
        }
        let required = keywords.get("required").and_then(Json::as_array);
        for name in required.into_iter().flatten().filter_map(Json::as_str) {
            let given = entries
                .iter()
                .any(|(k, _)| k.value.scalar_text().as_deref() == Some(name));
            if !given {
                self.report(node, place, format!("missing field `{name}`"));
            }
        }
    }

    /// `oneOf`/`anyOf`: an optional value, a choice of constants, or shapes told apart by
    /// a field (the bot's `provider`).
    fn branches(&mut self, branches: &'a [Json], node: &Node, place: &Place) {
        let resolved: Vec<&'a Json> = branches.iter().map(|b| self.resolve(b)).collect();
        if let Some(choices) = all_choices(&resolved) {
            if !choices.contains(&node.value.to_json()) {
                self.unknown_value(&choices, node, place);
            }
            return;
        }
        let fitting: Vec<&'a Json> = resolved
            .iter()
            .copied()
            .filter(|b| kind_admits(b, &node.value))
            .collect();
        match fitting.as_slice() {
            [] => {
                let mut kinds: Vec<&str> = Vec::new();
                for b in &resolved {
                    for kind in type_names(b) {
                        if !kinds.contains(&kind) {
                            kinds.push(kind);
                        }
                    }
                }
                let words: Vec<String> = kinds.iter().map(|k| word_for_type(k).into()).collect();
                let message = format!(
                    "expected {}, found {}",
                    either_words(&words),
                    describe(&node.value)
                );
                self.report(node, place, message);
            }
            [only] => self.node(only, node, place),
            several => {
                if let (Value::Map(entries), Some(field)) = (&node.value, discriminator(several)) {
                    self.discriminated(several, field, entries, node, place);
                    return;
                }
                let mut fewest: Option<Vec<Diagnostic>> = None;
                for branch in several {
                    let found = self.trial(branch, node, place);
                    if found.is_empty() {
                        return;
                    }
                    if fewest.as_ref().is_none_or(|f| found.len() < f.len()) {
                        fewest = Some(found);
                    }
                }
                self.problems.extend(fewest.unwrap_or_default());
            }
        }
    }

    fn discriminated(
        &mut self,
        branches: &[&'a Json],
        field: &str,
        entries: &[(Node, Node)],
        node: &Node,
        place: &Place,
    ) {
        let Some((_, given)) = entries
            .iter()
            .find(|(k, _)| k.value.scalar_text().as_deref() == Some(field))
        else {
            self.report(node, place, format!("missing field `{field}`"));
            return;
        };
        let constant = |b: &&'a Json| b.pointer(&format!("/properties/{field}/const")).cloned();
        match branches
            .iter()
            .find(|b| constant(b) == Some(given.value.to_json()))
        {
            Some(branch) => self.node(branch, node, place),
            None => {
                let choices: Vec<Json> = branches.iter().filter_map(constant).collect();
                self.unknown_value(&choices, given, &place.field(field));
            }
        }
    }

    /// The problems `node` would have against `schema`, without reporting them.
    fn trial(&mut self, schema: &'a Json, node: &Node, place: &Place) -> Vec<Diagnostic> {
        let before = self.problems.len();
        self.node(schema, node, place);
        self.problems.split_off(before)
    }

    fn unknown_value(&mut self, choices: &[Json], node: &Node, place: &Place) {
        let names: Vec<String> = choices
            .iter()
            .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_string))
            .collect();
        let listed: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        let given = node.value.scalar_text();
        let mut message = match &given {
            Some(text) => format!("unknown value `{text}`, expected {}", one_of_words(&listed)),
            None => format!(
                "expected {}, found {}",
                one_of_words(&listed),
                describe(&node.value)
            ),
        };
        let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
        if let Some(best) = given.and_then(|g| crate::yaml::closest(&g, &candidates)) {
            message.push_str(&format!(" (did you mean `{best}`?)"));
        }
        self.report(node, place, message);
    }

    fn range(&mut self, keywords: &serde_json::Map<String, Json>, node: &Node, place: &Place) {
        let number = match node.value {
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
            _ => return,
        };
        if let Some(min) = keywords.get("minimum").and_then(Json::as_f64)
            && number < min
        {
            self.report(node, place, format!("must be at least {min}, not {number}"));
        }
        if let Some(max) = keywords.get("maximum").and_then(Json::as_f64)
            && number > max
        {
            self.report(node, place, format!("must be at most {max}, not {number}"));
        }
    }
}

/// The constants a schema allows (`enum`, or a `const`), if it is a choice of them.
fn choices_of(schema: &Json) -> Option<Vec<Json>> {
    if let Some(values) = schema.get("enum").and_then(Json::as_array) {
        return Some(values.clone());
    }
    schema.get("const").map(|c| vec![c.clone()])
}

/// The constants of branches that are all choices of constants (a documented enum).
fn all_choices(branches: &[&Json]) -> Option<Vec<Json>> {
    let mut all = Vec::new();
    for branch in branches {
        all.extend(choices_of(branch)?);
    }
    Some(all)
}

/// A field every branch fixes to a constant of its own.
fn discriminator<'j>(branches: &[&'j Json]) -> Option<&'j str> {
    let first = branches.first()?.get("properties")?.as_object()?;
    first.iter().map(|(name, _)| name.as_str()).find(|name| {
        branches
            .iter()
            .all(|b| b.pointer(&format!("/properties/{name}/const")).is_some())
    })
}

fn type_names(schema: &Json) -> Vec<&str> {
    match schema.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether a branch could describe a value of this kind (it names no type, or one that fits).
fn kind_admits(schema: &Json, value: &Value) -> bool {
    match schema.get("type") {
        Some(types) => type_admits(types, value),
        None => true,
    }
}

fn type_admits(types: &Json, value: &Value) -> bool {
    let fits = |t: &str| match (t, value) {
        ("null", Value::Null)
        | ("boolean", Value::Bool(_))
        | ("object", Value::Map(_))
        | ("array", Value::Seq(_))
        | ("integer", Value::Int(_))
        | ("number", Value::Int(_) | Value::Float(_)) => true,
        ("integer", Value::Float(f)) => f.fract() == 0.0,
        // serde-saphyr reads a plain scalar into a text field as written (`28`, `true`).
        ("string", Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_)) => true,
        _ => false,
    };
    match types {
        Json::String(t) => fits(t),
        Json::Array(ts) => ts.iter().filter_map(Json::as_str).any(fits),
        _ => true,
    }
}

fn word_for_type(t: &str) -> &'static str {
    match t {
        "object" => "a map of `key: value` lines",
        "array" => "a list",
        "string" => "text",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        "null" => "nothing",
        _ => "a value",
    }
}

fn words_for_types(types: &Json) -> String {
    let words: Vec<String> = type_names(&serde_json::json!({ "type": types }))
        .into_iter()
        .filter(|t| *t != "null")
        .map(|t| word_for_type(t).to_string())
        .collect();
    either_words(&words)
}

fn describe(value: &Value) -> String {
    match value {
        Value::Seq(_) => "a list".into(),
        Value::Map(_) => "a map".into(),
        Value::Null => "nothing".into(),
        Value::Str(s) => format!("text `{s}`"),
        other => format!("`{}`", other.scalar_text().unwrap_or_default()),
    }
}

fn either_words(words: &[String]) -> String {
    match words {
        [] => "a value".into(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn one_of_words(words: &[String]) -> String {
    match words {
        [only] => only.clone(),
        _ => format!("one of {}", words.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(schema: Json, yaml: &str) -> Vec<String> {
        let root: Node = serde_saphyr::from_str(yaml).unwrap();
        check(Path::new("f.yaml"), &schema, &root)
            .0
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn case_schema() -> Json {
        serde_json::json!({
            "type": "object",
            "properties": { "cases": { "type": "array", "items": { "$ref": "#/$defs/Case" } } },
            "required": ["cases"],
            "additionalProperties": false,
            "$defs": {
                "Case": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "string" },
                        "stratum": { "type": "string", "enum": ["routine", "edge"] },
                        "max_words": { "type": ["integer", "null"], "minimum": 0 },
                        "expect": { "anyOf": [{ "$ref": "#/$defs/Expect" }, { "type": "null" }] }
                    },
                    "required": ["id", "stratum"],
                    "additionalProperties": false
                },
                "Expect": {
                    "type": "object",
                    "properties": { "outcome": { "oneOf": [
                        { "type": "string", "const": "resolve", "description": "x" },
                        { "type": "string", "const": "escalate" }
                    ] } },
                    "additionalProperties": false
                }
            }
        })
    }

    #[test]
    fn reports_every_problem_with_its_case_and_line() {
        let yaml = "cases:\n  - id: a\n    stratum: routin\n  - id: b\n    stratun: edge\n  - id: c\n    stratum: edge\n    max_words: many\n    expect: { outcome: resolved }\n";
        let found = problems(case_schema(), yaml);
        assert_eq!(found.len(), 5, "{found:#?}");
        assert!(
            found[0].starts_with("f.yaml:3:14: case `a`: stratum: unknown value `routin`")
                && found[0].ends_with("(did you mean `routine`?)"),
            "{found:#?}"
        );
        assert!(
            found[1].starts_with("f.yaml:4:5: case `b`: missing field `stratum`"),
            "{found:#?}"
        );
        assert!(
            found[2].starts_with("f.yaml:5:5: case `b`: unknown field `stratun`")
                && found[2].ends_with("(did you mean `stratum`?)"),
            "{found:#?}"
        );
        assert!(
            found[3]
                .contains(":8:16: case `c`: max_words: expected a whole number, found text `many`"),
            "{found:#?}"
        );
        assert!(
            found[4].contains(":9:24: case `c`: expect.outcome: unknown value `resolved`")
                && found[4].ends_with("(did you mean `resolve`?)"),
            "{found:#?}"
        );
    }

    #[test]
    fn a_valid_file_has_no_problems() {
        let yaml = "cases:\n  - id: 7\n    stratum: edge\n    max_words: 3\n    expect:\n";
        assert_eq!(problems(case_schema(), yaml), Vec::<String>::new());
    }

    #[test]
    fn shapes_are_told_apart_by_their_constant_field() {
        let schema = serde_json::json!({
            "type": "object",
            "oneOf": [
                { "type": "object", "properties": { "provider": { "const": "demo" } }, "additionalProperties": false },
                { "type": "object", "properties": { "provider": { "const": "openai" }, "model": { "type": "string" } }, "additionalProperties": false }
            ]
        });
        assert!(problems(schema.clone(), "provider: openai\nmodel: m\n").is_empty());
        let found = problems(schema.clone(), "provider: demo\nmodel: m\n");
        assert!(found[0].contains("unknown field `model`"), "{found:?}");
        let found = problems(schema, "provider: opneai\n");
        assert!(
            found[0].contains("unknown value `opneai`")
                && found[0].contains("did you mean `openai`"),
            "{found:?}"
        );
    }
}
