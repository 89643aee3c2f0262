//! A YAML document as a tree of values, each with the line and column it was written at:
//! what a file that failed to load is checked against its schema on, so that every
//! problem in it can be reported at its own line, not just the first one serde met.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

/// One value of the document and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub at: Location,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in the order written, each with its own position.
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// What kind of value this is, in a schema's words.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "array",
            Value::Map(_) => "object",
        }
    }

    /// A scalar as written (keys, enum values), or `None` for lists and maps.
    pub fn scalar_text(&self) -> Option<String> {
        Some(match self {
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Str(s) => s.clone(),
            Value::Seq(_) | Value::Map(_) => return None,
        })
    }

    /// The value as JSON, for comparing with a schema's `const` and `enum`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => i64::try_from(*i)
                .map(Into::into)
                .or_else(|_| u64::try_from(*i).map(Into::into))
                .unwrap_or_else(|_| (*i as f64).into()),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::Str(s) => s.clone().into(),
            Value::Seq(items) => items.iter().map(|n| n.value.to_json()).collect(),
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| {
                    let key = k.value.scalar_text().unwrap_or_default();
                    (key, v.value.to_json())
                })
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            at: spanned.referenced,
            value: spanned.value,
        })
    }
}

/// How deep a tree is built. Each level costs several frames of the YAML deserializer
/// (the position wrapper doubles them), and a file that nests deeper than any eval set
/// would could overflow a thread's stack before the parser's own depth limit is reached;
/// past this depth the tree is not built and the file's first problem is reported alone.
pub const MAX_DEPTH: usize = 24;

thread_local! {
    static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let depth = DEPTH.with(|d| d.get());
        if depth >= MAX_DEPTH {
            return Err(de::Error::custom(format!(
                "nested deeper than {MAX_DEPTH} levels"
            )));
        }
        DEPTH.with(|d| d.set(depth + 1));
        let value = deserializer.deserialize_any(ValueVisitor);
        DEPTH.with(|d| d.set(depth));
        value
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(i128::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Node, Node>()? {
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_capped_without_exhausting_the_stack() {
        let nested = |depth: usize| format!("a: {}{}\n", "[".repeat(depth), "]".repeat(depth));
        assert!(serde_saphyr::from_str::<Node>(&nested(MAX_DEPTH - 1)).is_ok());
        // In a thread with the default stack (those that check eval-set files), which a
        // tree 100 levels deep overflowed in a debug build before the parser's own limit
        // of 64 levels stopped it.
        let deep = nested(100);
        let refusal = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || match serde_saphyr::from_str::<Node>(&deep) {
                Ok(_) => String::new(),
                Err(e) => e.to_string(),
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(
            refusal.contains(&format!("nested deeper than {MAX_DEPTH} levels")),
            "{refusal}"
        );
        // The count starts again from zero after a refusal.
        assert!(serde_saphyr::from_str::<Node>(&nested(MAX_DEPTH - 1)).is_ok());
    }

    #[test]
    fn every_value_keeps_its_position() {
        let text = "a: 1\nb:\n  - x\n  - {c: true, d: 2.5}\n";
        let root: Node = serde_saphyr::from_str(text).unwrap();
        let Value::Map(entries) = &root.value else {
            panic!("{root:?}")
        };
        let (b_key, b) = &entries[1];
        assert_eq!((b_key.at.line(), b_key.at.column()), (2, 1));
        let Value::Seq(items) = &b.value else {
            panic!("{b:?}")
        };
        assert_eq!(items[0].value, Value::Str("x".into()));
        assert_eq!(items[1].at.line(), 4);
        let Value::Map(inner) = &items[1].value else {
            panic!("{items:?}")
        };
        assert_eq!(inner[1].1.value, Value::Float(2.5));
        assert_eq!(inner[1].0.at.column(), 15);
    }
}
