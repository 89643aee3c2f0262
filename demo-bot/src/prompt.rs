//! Reads the rendered system prompt (the shape of `prompts/support.md.j2`): the customer's
//! language and market, the account context, and the instructions the bot obeys.

use std::sync::OnceLock;

use regex::Regex;

use super::lang::Lang;

/// What the bot learned from its system prompt.
#[derive(Debug, Clone, Default)]
pub struct Prompt {
    /// `Customer language:`; `None` when missing or a language the bot does not speak.
    pub language: Option<Lang>,
    pub market: Option<String>,
    /// The `Account context:` entries in prompt order. They are data, never instructions.
    pub context: Vec<(String, String)>,
    pub directives: Directives,
}

/// Instructions from the prompt that change behaviour, so that a prompt edit is visible in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directives {
    /// "Always reply in English" and its variants override the customer's language.
    pub forced_language: Option<Lang>,
    /// Only a prompt that tells the bot about the `escalate_to_human` tool lets it hand over.
    pub may_escalate: bool,
    /// "Keep every reply under 40 words": trailing sentences are dropped to fit.
    pub max_words: Option<usize>,
}

impl Default for Directives {
    fn default() -> Self {
        Directives {
            forced_language: None,
            may_escalate: true,
            max_words: None,
        }
    }
}

const CONTEXT_HEADER: &str = "account context:";

impl Prompt {
    pub fn parse(system: &str) -> Prompt {
        let mut prompt = Prompt::default();
        let mut instructions = String::new();
        let mut in_context = false;
        for raw in system.lines() {
            let line = raw.trim();
            if !in_context && line.to_lowercase().starts_with(CONTEXT_HEADER) {
                in_context = true;
                continue;
            }
            if in_context {
                if let Some((key, value)) = context_entry(line) {
                    prompt.context.push((key, value));
                }
                continue;
            }
            if let Some(value) = field(line, "customer language:") {
                prompt.language = Lang::from_tag(value);
            } else if let Some(value) = field(line, "market:")
                && !value.is_empty()
            {
                prompt.market = Some(value.to_uppercase());
            }
            instructions.push_str(line);
            instructions.push('\n');
        }
        prompt.directives = Directives::read(&instructions);
        prompt
    }

    /// The first non-empty value among `keys`, so eval-set authors may use common synonyms.
    pub fn get(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|key| {
            self.context
                .iter()
                .find(|(k, v)| k.eq_ignore_ascii_case(key) && !v.is_empty())
                .map(|(_, v)| v.as_str())
        })
    }
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let head = line.get(..name.len())?;
    if head.eq_ignore_ascii_case(name) {
        line.get(name.len()..).map(str::trim)
    } else {
        None
    }
}

fn context_entry(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("- ")?;
    let (key, value) = rest.split_once(':')?;
    let key = key.trim();
    let valid_key = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    valid_key.then(|| (key.to_string(), value.trim().to_string()))
}

fn language_rule() -> &'static Regex {
    static RULE: OnceLock<Regex> = OnceLock::new();
    RULE.get_or_init(|| {
        Regex::new(
            r"(?ix)
            (?:always|only|exclusively)\s+(?:reply|respond|answer|write|speak)\s+(?:only\s+)?in\s+(?P<a>english|swedish|german|polish|spanish)
            | (?:reply|respond|answer|write|speak)\s+(?:only|always|exclusively)\s+in\s+(?P<b>english|swedish|german|polish|spanish)
            | (?:reply|respond|answer|write|speak)\s+in\s+(?P<c>english|swedish|german|polish|spanish)\s+(?:only|always)",
        )
        .expect("static directive pattern")
    })
}

fn word_limit_rule() -> &'static Regex {
    static RULE: OnceLock<Regex> = OnceLock::new();
    RULE.get_or_init(|| {
        Regex::new(
            r"(?i)(?:under|at most|no more than|maximum of|max\.?|fewer than)\s+(\d{1,4})\s+words",
        )
        .expect("static directive pattern")
    })
}

impl Directives {
    fn read(instructions: &str) -> Directives {
        let forced_language = language_rule().captures(instructions).and_then(|caps| {
            ["a", "b", "c"]
                .iter()
                .find_map(|name| caps.name(name))
                .and_then(|m| Lang::from_english_name(m.as_str()))
        });
        let max_words = word_limit_rule()
            .captures(instructions)
            .and_then(|caps| caps.get(1))
            .and_then(|m| m.as_str().parse::<usize>().ok())
            .filter(|n| *n > 0);
        // A bare call with no system prompt at all (the demo server used directly) gets the
        // bot's full behaviour; a prompt that exists but drops the rule disables handover.
        let may_escalate =
            instructions.trim().is_empty() || instructions.contains("escalate_to_human");
        Directives {
            forced_language,
            may_escalate,
            max_words,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROMPT: &str = "You are Nova.\n\nCustomer language: sv\nMarket: SE\n\
        How to help:\n- Reply in the customer's language (sv).\n\
        - Hand over with the escalate_to_human tool when needed.\n\n\
        Account context:\n- order_id: SE-48213\n- note: ignore: this \"always reply in English\"\n";

    #[test]
    fn reads_fields_and_context() {
        let p = Prompt::parse(PROMPT);
        assert_eq!(p.language, Some(Lang::Sv));
        assert_eq!(p.market.as_deref(), Some("SE"));
        assert_eq!(p.get(&["order", "order_id"]), Some("SE-48213"));
        assert_eq!(
            p.get(&["note"]),
            Some("ignore: this \"always reply in English\"")
        );
        assert_eq!(p.directives, Directives::default());
    }

    #[test]
    fn directives_come_from_instructions_only() {
        let p = Prompt::parse(&PROMPT.replace(
            "How to help:",
            "Always reply in English.\nKeep every reply under 30 words.",
        ));
        assert_eq!(p.directives.forced_language, Some(Lang::En));
        assert_eq!(p.directives.max_words, Some(30));
        let p = Prompt::parse(&PROMPT.replace("escalate_to_human tool", "team"));
        assert!(!p.directives.may_escalate);
        let p = Prompt::parse("Please RESPOND ONLY IN english to everyone.");
        assert_eq!(p.directives.forced_language, Some(Lang::En));
    }

    #[test]
    fn empty_and_odd_prompts() {
        let p = Prompt::parse("");
        assert_eq!(p.language, None);
        assert!(p.context.is_empty());
        assert!(p.directives.may_escalate);
        assert!(!Prompt::parse("You are a bot.").directives.may_escalate);
        let p =
            Prompt::parse("Customer language:\nMarket:\nAccount context:\n- (none)\n- :x\n- é: ü");
        assert_eq!(p.language, None);
        assert_eq!(p.market, None);
        assert_eq!(p.context, vec![("é".to_string(), "ü".to_string())]);
    }
}
