//! The kinds of draft `evalgate expand` writes, and what each takes from its source case.

use serde_json::{Map, Value};

use super::parse::Proposal;
use crate::evalset::{Case, Stratum};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The same request in other words, same language.
    Paraphrase,
    /// The same request with a hurried customer's typos.
    Typo,
    /// The same request with English mixed in.
    CodeSwitch,
    /// The scenario carried over to another language's file, market values localized.
    Translate,
    /// A legitimate request that sounds like a refusal or attack case: the over-refusal probe.
    BenignTwin,
    /// Another attack of the same family.
    AttackVariant,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Paraphrase,
        Kind::Typo,
        Kind::CodeSwitch,
        Kind::Translate,
        Kind::BenignTwin,
        Kind::AttackVariant,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Paraphrase => "paraphrase",
            Kind::Typo => "typo",
            Kind::CodeSwitch => "code-switch",
            Kind::Translate => "translate",
            Kind::BenignTwin => "benign-twin",
            Kind::AttackVariant => "attack-variant",
        }
    }

    /// How a draft's id ends: `<source-id>-<suffix>-<n>`; a translation keeps the
    /// source's id when it is free, so the languages line up.
    pub fn id_suffix(self) -> Option<&'static str> {
        match self {
            Kind::Paraphrase => Some("para"),
            Kind::Typo => Some("typo"),
            Kind::CodeSwitch => Some("mix"),
            Kind::Translate => None,
            Kind::BenignTwin => Some("twin"),
            Kind::AttackVariant => Some("var"),
        }
    }

    pub fn default_count(self) -> usize {
        match self {
            Kind::Translate => 1,
            _ => 3,
        }
    }

    /// The keys a draft of this kind may have in the model's answer.
    pub fn answer_keys(self) -> &'static [&'static str] {
        match self {
            Kind::Paraphrase | Kind::Typo | Kind::CodeSwitch | Kind::AttackVariant => &["turns"],
            Kind::Translate => &["turns", "context", "expect"],
            Kind::BenignTwin => &["turns", "intent", "context", "expect"],
        }
    }

    /// The shape of one draft, as the prompt shows it to the model.
    pub fn answer_shape(self) -> &'static str {
        match self {
            Kind::Paraphrase | Kind::Typo | Kind::CodeSwitch | Kind::AttackVariant => {
                r#"{"turns": ["<customer message>", ...]}"#
            }
            Kind::Translate => {
                r#"{"turns": ["<customer message>", ...], "context": {...}, "expect": {"must_include": ["..."], "rubric": ["..."], "reference": "..."}}"#
            }
            Kind::BenignTwin => {
                r#"{"turns": ["<customer message>", ...], "intent": "<snake_case>", "context": {...}, "expect": {"must_include": ["..."], "rubric": ["..."]}}"#
            }
        }
    }

    /// The kind's instructions, a template under prompts/expand/.
    pub fn instructions(self) -> &'static str {
        match self {
            Kind::Paraphrase => include_str!("../../prompts/expand/paraphrase.j2"),
            Kind::Typo => include_str!("../../prompts/expand/typo.j2"),
            Kind::CodeSwitch => include_str!("../../prompts/expand/code-switch.j2"),
            Kind::Translate => include_str!("../../prompts/expand/translate.j2"),
            Kind::BenignTwin => include_str!("../../prompts/expand/benign-twin.j2"),
            Kind::AttackVariant => include_str!("../../prompts/expand/attack-variant.j2"),
        }
    }

    /// Whether each draft keeps the case's conversation, message for message.
    pub fn keeps_turn_count(self) -> bool {
        matches!(
            self,
            Kind::Paraphrase | Kind::Typo | Kind::CodeSwitch | Kind::Translate
        )
    }

    /// Why a case cannot be a source of this kind, if it cannot.
    pub fn refuses(self, case: &Case) -> Option<String> {
        if case.draft {
            return Some("it is a draft itself (approve it first)".into());
        }
        if case.turns.is_empty() {
            return Some("it is simulated: there are no scripted messages to vary".into());
        }
        match self {
            Kind::BenignTwin
                if !matches!(case.stratum, Stratum::Refusal | Stratum::Adversarial) =>
            {
                Some(format!(
                    "benign twins are made from refusal and adversarial cases; it is {}",
                    case.stratum
                ))
            }
            Kind::CodeSwitch if case.language == "en" => Some(
                "code-switching mixes English into another language, and the case is in English"
                    .into(),
            ),
            Kind::AttackVariant if case.stratum != Stratum::Adversarial => Some(format!(
                "attack variants are made from adversarial cases; it is {}",
                case.stratum
            )),
            _ => None,
        }
    }

    /// The draft's fields: the source's, with what the model proposed in their place.
    pub fn draft_fields(
        self,
        source: &Case,
        base: &Map<String, Value>,
        proposal: Proposal,
    ) -> Map<String, Value> {
        let turns: Vec<Value> = proposal
            .turns
            .into_iter()
            .map(|t| serde_json::json!({ "user": t }))
            .collect();
        match self {
            Kind::Paraphrase | Kind::Typo | Kind::CodeSwitch | Kind::AttackVariant => {
                let mut fields = base.clone();
                fields.insert("turns".into(), Value::Array(turns));
                fields
            }
            Kind::Translate => {
                let mut fields = base.clone();
                // The same scenario in both languages: the parity report lines them up.
                let scenario = source.scenario.clone().unwrap_or_else(|| source.id.clone());
                fields.insert("scenario".into(), scenario.into());
                fields.insert("turns".into(), Value::Array(turns));
                if let Some(context) = proposal.context {
                    fields.insert("context".into(), Value::Object(context));
                }
                if let Some(Value::Object(expect)) = fields.get_mut("expect") {
                    // A reply language set apart from the file's would now be wrong;
                    // `any` still holds.
                    if expect.get("language").and_then(Value::as_str) != Some("any") {
                        expect.remove("language");
                    }
                    for (key, value) in proposal.expect.unwrap_or_default() {
                        expect.insert(key, value);
                    }
                }
                fields
            }
            Kind::BenignTwin => {
                let mut fields = Map::new();
                fields.insert("stratum".into(), Stratum::Routine.name().into());
                if let Some(intent) = proposal.intent.or_else(|| source.intent.clone()) {
                    fields.insert("intent".into(), intent.into());
                }
                if let Some(tags) = base.get("tags") {
                    fields.insert("tags".into(), tags.clone());
                }
                if let Some(context) = proposal
                    .context
                    .or_else(|| base.get("context").and_then(Value::as_object).cloned())
                {
                    fields.insert("context".into(), Value::Object(context));
                }
                fields.insert("turns".into(), Value::Array(turns));
                let mut expect = Map::new();
                expect.insert("outcome".into(), "resolve".into());
                expect.extend(proposal.expect.unwrap_or_default());
                fields.insert("expect".into(), Value::Object(expect));
                fields
            }
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn case(language: &str, stratum: &str, extra: &str) -> Case {
        let text = format!(
            "language: {language}\ncases:\n  - id: a\n    stratum: {stratum}\n{extra}    turns:\n      - user: hi\n    expect:\n      outcome: resolve\n"
        );
        crate::evalset::load_file(Path::new("x.yaml"), &text)
            .unwrap()
            .remove(0)
    }

    #[test]
    fn each_kind_takes_the_sources_it_can_vary() {
        let routine = case("pl", "routine", "");
        assert_eq!(Kind::Paraphrase.refuses(&routine), None);
        assert!(
            Kind::BenignTwin
                .refuses(&routine)
                .unwrap()
                .contains("refusal and adversarial")
        );
        assert!(
            Kind::AttackVariant
                .refuses(&case("pl", "refusal", ""))
                .is_some()
        );
        assert_eq!(
            Kind::AttackVariant.refuses(&case("pl", "adversarial", "")),
            None
        );
        assert_eq!(Kind::BenignTwin.refuses(&case("pl", "refusal", "")), None);
        assert!(
            Kind::CodeSwitch
                .refuses(&case("en", "routine", ""))
                .is_some()
        );
        let draft = case("pl", "routine", "    status: draft\n");
        assert!(Kind::Typo.refuses(&draft).unwrap().contains("draft"));
    }

    #[test]
    fn a_benign_twin_is_a_routine_case_expected_to_be_resolved() {
        let source = case("pl", "refusal", "    intent: other_persons_data\n");
        let base = crate::evalset::append::fields_of(&source);
        let proposal = Proposal {
            turns: vec!["Jaka karta jest na moim koncie?".into()],
            ..Proposal::default()
        };
        let fields = Kind::BenignTwin.draft_fields(&source, &base, proposal);
        assert_eq!(fields["stratum"], "routine");
        assert_eq!(fields["intent"], "other_persons_data");
        assert_eq!(fields["expect"], serde_json::json!({"outcome": "resolve"}));
    }
}
