//! Reading a model's drafts strictly: one JSON object `{"drafts": [...]}`, each draft with
//! only the keys its kind allows and every value of the type the eval-set format wants.
//! A draft that breaks a rule is dropped with the reason; nothing half-formed goes on.

use serde_json::{Map, Value};

use super::Kind;

/// The most customer messages a draft may have.
pub const MAX_TURNS: usize = 10;

/// The `expect` keys a model may fill in, and that they are lists of text (or text).
const EXPECT_LISTS: [&str; 5] = [
    "must_include",
    "must_not_include",
    "regex",
    "not_regex",
    "rubric",
];

/// One draft as the model proposed it, its shape checked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Proposal {
    pub turns: Vec<String>,
    pub intent: Option<String>,
    pub context: Option<Map<String, Value>>,
    pub expect: Option<Map<String, Value>>,
}

/// The drafts of one answer, each checked or with why it was dropped; `Err` when the
/// answer as a whole is not the object asked for. `turns` is how many customer messages
/// each draft must have, when the kind keeps the case's conversation.
pub fn parse_answer(
    text: &str,
    kind: Kind,
    turns: Option<usize>,
) -> Result<Vec<Result<Proposal, String>>, String> {
    let value: Value = serde_json::from_str(text.trim()).map_err(|e| {
        format!(
            "the answer is not a JSON object ({e}); it begins: {}",
            excerpt(text)
        )
    })?;
    let Value::Object(mut top) = value else {
        return Err(format!(
            "the answer is JSON but not an object; it begins: {}",
            excerpt(text)
        ));
    };
    let drafts = match top.remove("drafts") {
        Some(Value::Array(drafts)) => drafts,
        Some(_) => return Err("`drafts` is not a list".into()),
        None => return Err("the answer has no `drafts` list".into()),
    };
    if let Some(extra) = top.keys().next() {
        return Err(format!("the answer has a key `{extra}` besides `drafts`"));
    }
    Ok(drafts
        .into_iter()
        .map(|d| proposal(d, kind, turns))
        .collect())
}

fn proposal(value: Value, kind: Kind, turns: Option<usize>) -> Result<Proposal, String> {
    let Value::Object(map) = value else {
        return Err("a draft is not an object".into());
    };
    let allowed = kind.answer_keys();
    if let Some(key) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "key `{key}` is not one a {} draft may have ({})",
            kind.name(),
            allowed.join(", ")
        ));
    }
    let mut p = Proposal::default();
    for (key, value) in map {
        match key.as_str() {
            "turns" => p.turns = texts(&value, "turns")?,
            "intent" => {
                let Value::String(s) = value else {
                    return Err("`intent` is not text".into());
                };
                let s = s.trim();
                if !s.is_empty() {
                    p.intent = Some(s.to_string());
                }
            }
            "context" => {
                let Value::Object(m) = value else {
                    return Err("`context` is not an object".into());
                };
                p.context = Some(m);
            }
            "expect" => p.expect = Some(expect(value, kind)?),
            _ => {}
        }
    }
    if p.turns.is_empty() {
        return Err("no customer message in `turns`".into());
    }
    match turns {
        Some(n) if p.turns.len() != n => {
            return Err(format!(
                "{} customer messages, but the case has {n}",
                p.turns.len()
            ));
        }
        _ if p.turns.len() > MAX_TURNS => {
            return Err(format!(
                "{} customer messages; at most {MAX_TURNS}",
                p.turns.len()
            ));
        }
        _ => {}
    }
    Ok(p)
}

fn expect(value: Value, kind: Kind) -> Result<Map<String, Value>, String> {
    let Value::Object(map) = value else {
        return Err("`expect` is not an object".into());
    };
    for (key, value) in &map {
        if EXPECT_LISTS.contains(&key.as_str()) {
            texts(value, &format!("expect.{key}"))?;
        } else if key == "reference" {
            if !value.is_string() {
                return Err("`expect.reference` is not text".into());
            }
        } else {
            return Err(format!(
                "`expect.{key}` is not one a {} draft may set (only {}, reference)",
                kind.name(),
                EXPECT_LISTS.join(", ")
            ));
        }
    }
    Ok(map)
}

/// A list of non-empty texts.
fn texts(value: &Value, field: &str) -> Result<Vec<String>, String> {
    let Value::Array(items) = value else {
        return Err(format!("`{field}` is not a list"));
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            Value::String(_) => Err(format!("`{field}` has an empty entry")),
            _ => Err(format!("`{field}` has an entry that is not text")),
        })
        .collect()
}

fn excerpt(text: &str) -> String {
    let t: String = text.trim().chars().take(80).collect();
    format!("{t:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_answer_gives_its_drafts() {
        let answer =
            r#" {"drafts": [{"turns": ["Kiedy zwrot?"]}, {"turns": ["Gdzie moje pieniądze?"]}]} "#;
        let drafts = parse_answer(answer, Kind::Paraphrase, Some(1)).unwrap();
        assert_eq!(drafts.len(), 2);
        assert_eq!(drafts[1].as_ref().unwrap().turns, ["Gdzie moje pieniądze?"]);
    }

    #[test]
    fn answers_that_are_not_the_object_asked_for_are_refused() {
        for (answer, words) in [
            ("Sure! Here are the drafts:", "not a JSON object"),
            ("[1, 2]", "not an object"),
            (r#"{"cases": []}"#, "no `drafts` list"),
            (r#"{"drafts": {}}"#, "not a list"),
            (r#"{"drafts": [], "note": "x"}"#, "key `note`"),
        ] {
            let err = parse_answer(answer, Kind::Typo, Some(1)).unwrap_err();
            assert!(err.contains(words), "{answer}: {err}");
        }
    }

    #[test]
    fn each_bad_draft_is_dropped_with_its_reason() {
        let answer = r#"{"drafts": [
            {"turns": ["ok"]},
            {"turns": "not a list"},
            {"turns": ["a", "b"]},
            {"turns": ["x"], "expect": {"outcome": "refuse"}},
            {"turns": [""]},
            {"turns": ["x"], "id": "mine"},
            "text"
        ]}"#;
        let drafts = parse_answer(answer, Kind::Paraphrase, Some(1)).unwrap();
        let reasons: Vec<String> = drafts
            .iter()
            .map(|d| d.as_ref().err().cloned().unwrap_or_default())
            .collect();
        assert_eq!(reasons[0], "");
        assert!(reasons[1].contains("`turns` is not a list"), "{reasons:?}");
        assert!(
            reasons[2].contains("2 customer messages, but the case has 1"),
            "{reasons:?}"
        );
        assert!(
            reasons[3].contains("key `expect` is not one a paraphrase draft may have"),
            "{reasons:?}"
        );
        assert!(reasons[4].contains("empty entry"), "{reasons:?}");
        assert!(reasons[5].contains("key `id`"), "{reasons:?}");
        assert!(reasons[6].contains("not an object"), "{reasons:?}");
    }

    #[test]
    fn a_benign_twin_may_not_choose_its_outcome() {
        let answer = r#"{"drafts": [{"turns": ["x"], "intent": "card_info", "expect": {"outcome": "refuse"}}, {"turns": ["y"], "expect": {"must_include": ["card"], "rubric": ["Helps"]}}]}"#;
        let drafts = parse_answer(answer, Kind::BenignTwin, None).unwrap();
        assert!(drafts[0].as_ref().unwrap_err().contains("`expect.outcome`"));
        assert_eq!(
            drafts[1].as_ref().unwrap().expect.as_ref().unwrap()["must_include"][0],
            "card"
        );
    }
}
