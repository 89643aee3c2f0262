//! The customer simulator: plays the customer of a `simulate:` case, one message at a
//! time, from its persona, goal and facts. An LLM under a prompt in the case's language,
//! or the built-in deterministic customer. It never sees the case's `expect` block.

pub mod demo;
pub mod transcript;

use std::sync::Arc;

use minijinja::{Environment, UndefinedBehavior, context};
use sha2::{Digest, Sha256};

use crate::diagnostic::Diagnostic;
use crate::evalset::{Case, Simulation};
use crate::provider::{JsonMode, LlmClient, LlmRequest, Message};
use crate::result::{ErrorCause, ErrorSource, ResultError, Role, TranscriptTurn};
use crate::retry::{RetryPolicy, Retrying, with_retries};

/// Written by the customer to end the conversation; never sent to the bot.
pub const STOP_MARKER: &str = "###STOP###";

/// The built-in customer prompts, by language; any other language takes the last one,
/// which names the language to write in.
const BUILT_IN: [(&str, &str); 6] = [
    ("en", include_str!("../../prompts/simulator/customer.en.j2")),
    ("sv", include_str!("../../prompts/simulator/customer.sv.j2")),
    ("de", include_str!("../../prompts/simulator/customer.de.j2")),
    ("pl", include_str!("../../prompts/simulator/customer.pl.j2")),
    ("es", include_str!("../../prompts/simulator/customer.es.j2")),
    (
        OTHER_LANGUAGES,
        include_str!("../../prompts/simulator/customer.j2"),
    ),
];
const OTHER_LANGUAGES: &str = "any";
/// The template name of a `simulator.prompt` override.
const OVERRIDE: &str = "custom";

/// What opens the conversation in the simulator's view: the APIs want a conversation
/// that starts with the other side, and the customer speaks first.
const CHAT_OPENS: &str = "(The support chat is open. Write your first message.)";

/// The customer's next message.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerMessage {
    /// Without the stop marker.
    pub text: String,
    /// The customer ended the conversation (goal reached or given up).
    pub stop: bool,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

enum Player {
    Llm(Arc<dyn LlmClient>),
    Demo,
}

pub struct Simulator {
    player: Player,
    model: String,
    env: Environment<'static>,
    custom: bool,
    /// Of the prompt text (every built-in one, or the override): part of the run's
    /// comparability key, since a changed customer changes the conversations.
    pub prompt_hash: String,
    retry: RetryPolicy,
}

impl Simulator {
    /// An LLM customer; `prompt` overrides the built-in prompts (text and where it came from).
    pub fn llm(
        client: Arc<dyn LlmClient>,
        model: String,
        prompt: Option<(String, std::path::PathBuf)>,
        retries: u32,
    ) -> Result<Simulator, Diagnostic> {
        let (env, custom, hash) = templates(prompt)?;
        Ok(Simulator {
            player: Player::Llm(client),
            model,
            env,
            custom,
            prompt_hash: hash,
            retry: RetryPolicy::new(retries),
        })
    }

    /// The built-in deterministic customer: no model, no network.
    pub fn demo() -> Simulator {
        Simulator {
            player: Player::Demo,
            model: demo::MODEL.to_string(),
            env: Environment::new(),
            custom: false,
            prompt_hash: format!("sha256:{:x}", Sha256::digest(demo::RULES.as_bytes())),
            retry: RetryPolicy::new(0),
        }
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// `simulator.prompt` replaced the built-in prompts.
    pub fn has_custom_prompt(&self) -> bool {
        self.custom
    }

    /// What identifies this simulator for comparability: model and prompt hash.
    pub fn identity(&self) -> String {
        format!(
            "{} (prompt {})",
            self.model,
            &self.prompt_hash[..self.prompt_hash.len().min(19)]
        )
    }

    /// The system prompt the simulator gets for a case.
    pub fn render(&self, case: &Case, simulation: &Simulation) -> Result<String, String> {
        let name = if self.custom {
            OVERRIDE
        } else {
            built_in_name(&case.language)
        };
        let facts: Vec<(String, String)> = simulation
            .facts
            .iter()
            .map(|(k, v)| (k.clone(), fact_text(v)))
            .collect();
        self.env
            .get_template(name)
            .and_then(|t| {
                t.render(context! {
                    persona => simulation.persona.as_str(),
                    goal => simulation.goal.as_str(),
                    facts => facts.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
                    language => case.language.as_str(),
                    market => case.market.as_deref(),
                    max_turns => simulation.max_turns,
                    case => context! {
                        id => case.id.as_str(),
                        key => case.key.as_str(),
                        stratum => case.stratum.name(),
                        intent => case.intent.as_deref(),
                        tags => case.tags.clone(),
                    },
                })
            })
            .map_err(|e| format!("simulator prompt: {e}"))
    }

    /// The customer's next message after `transcript`. A failure is the simulator's, never
    /// the bot's.
    pub async fn next(
        &self,
        case: &Case,
        simulation: &Simulation,
        transcript: &[TranscriptTurn],
        on_retry: impl FnMut(Retrying<'_>),
    ) -> Result<CustomerMessage, ResultError> {
        let (text, tokens_in, tokens_out) = match &self.player {
            Player::Demo => (demo::next_message(case, simulation, transcript), 0, 0),
            Player::Llm(client) => {
                let system = self
                    .render(case, simulation)
                    .map_err(|message| ResultError {
                        message,
                        source: ErrorSource::Simulator,
                        cause: ErrorCause::Prompt,
                    })?;
                let request = LlmRequest {
                    system,
                    messages: swapped(transcript),
                    json: JsonMode::None,
                };
                let (turn, _) = with_retries(self.retry, || client.complete(&request), on_retry)
                    .await
                    .map_err(|gave_up| ResultError {
                        message: format!("simulator unreachable: {gave_up}"),
                        source: ErrorSource::Simulator,
                        cause: ErrorCause::of(&gave_up.error),
                    })?;
                (turn.content, turn.tokens_in, turn.tokens_out)
            }
        };
        let message = read_message(&text, tokens_in, tokens_out);
        if message.text.is_empty() && !message.stop {
            return Err(ResultError {
                message: "the simulator wrote an empty customer message".into(),
                source: ErrorSource::Simulator,
                cause: ErrorCause::BadResponse,
            });
        }
        Ok(message)
    }
}

/// The customer's message with the stop marker taken out.
fn read_message(text: &str, tokens_in: u64, tokens_out: u64) -> CustomerMessage {
    let stop = text.contains(STOP_MARKER);
    CustomerMessage {
        text: text.replace(STOP_MARKER, "").trim().to_string(),
        stop,
        tokens_in,
        tokens_out,
    }
}

/// The conversation as the customer sees it: the bot's turns are what it is told, its own
/// turns what it said.
fn swapped(transcript: &[TranscriptTurn]) -> Vec<Message> {
    let mut messages = vec![Message {
        role: Role::User,
        content: CHAT_OPENS.to_string(),
    }];
    messages.extend(transcript.iter().map(|t| Message {
        role: match t.role {
            Role::User => Role::Assistant,
            Role::Assistant => Role::User,
        },
        content: t.content.clone(),
    }));
    messages
}

fn built_in_name(language: &str) -> &'static str {
    BUILT_IN
        .iter()
        .map(|(name, _)| *name)
        .find(|name| *name == language)
        .unwrap_or(OTHER_LANGUAGES)
}

/// A fact as the customer would say it: strings without their quotes.
pub(crate) fn fact_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The prompt templates, whether one overrides the built-in ones, and their hash.
fn templates(
    prompt: Option<(String, std::path::PathBuf)>,
) -> Result<(Environment<'static>, bool, String), Diagnostic> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    let mut hasher = Sha256::new();
    let custom = prompt.is_some();
    match prompt {
        Some((text, path)) => {
            hasher.update(text.as_bytes());
            env.add_template_owned(OVERRIDE, text)
                .map_err(|e| Diagnostic::new(&path, format!("simulator prompt: {e}")))?;
        }
        None => {
            for (name, text) in BUILT_IN {
                hasher.update(name.as_bytes());
                hasher.update(text.as_bytes());
                env.add_template(name, text).map_err(|e| {
                    Diagnostic::new(
                        std::path::Path::new("prompts/simulator (built in)"),
                        format!("simulator prompt {name}: {e}"),
                    )
                })?;
            }
        }
    }
    Ok((env, custom, format!("sha256:{:x}", hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{BotTurn, BoxFuture, ProviderError};
    use std::path::Path;
    use std::sync::Mutex;

    fn case(language: &str) -> Case {
        let yaml = format!(
            "language: {language}\nmarket: XX\ncases:\n  - id: s\n    stratum: routine\n    intent: refund\n    simulate:\n      persona: Anna, 67\n      goal: Get the refund\n      facts: {{ order_id: PL-1234, email: anna@example.pl }}\n      max_turns: 4\n    expect:\n      outcome: resolve\n      rubric: [\"SECRET-RUBRIC\"]\n"
        );
        crate::evalset::load_file(Path::new("x.yaml"), &yaml)
            .unwrap()
            .remove(0)
    }

    struct Scripted {
        answers: Mutex<Vec<Result<String, ProviderError>>>,
        seen: Mutex<Vec<LlmRequest>>,
    }

    impl LlmClient for Scripted {
        fn model(&self) -> &str {
            "sim"
        }
        fn complete<'a>(
            &'a self,
            request: &'a LlmRequest,
        ) -> BoxFuture<'a, Result<BotTurn, ProviderError>> {
            self.seen.lock().unwrap().push(request.clone());
            let next = self.answers.lock().unwrap().remove(0);
            Box::pin(async move {
                next.map(|content| BotTurn {
                    content,
                    tokens_in: 11,
                    tokens_out: 3,
                    ..BotTurn::default()
                })
            })
        }
    }

    fn llm(answers: Vec<Result<String, ProviderError>>) -> (Simulator, Arc<Scripted>) {
        let client = Arc::new(Scripted {
            answers: Mutex::new(answers),
            seen: Mutex::new(Vec::new()),
        });
        let sim = Simulator::llm(client.clone(), "sim".into(), None, 0).unwrap();
        (sim, client)
    }

    #[test]
    fn the_built_in_prompt_is_in_the_case_language_and_never_shows_the_expectation() {
        let (sim, _) = llm(vec![]);
        for (language, words) in [
            ("en", "in English"),
            ("sv", "på svenska"),
            ("de", "auf Deutsch"),
            ("pl", "po polsku"),
            ("es", "en español"),
            ("fr", "the tag `fr`"),
        ] {
            let c = case(language);
            let prompt = sim.render(&c, c.simulate.as_ref().unwrap()).unwrap();
            assert!(prompt.contains(words), "{language}: {prompt}");
            for part in [
                "Anna, 67",
                "Get the refund",
                "PL-1234",
                "anna@example.pl",
                STOP_MARKER,
                "4",
            ] {
                assert!(prompt.contains(part), "{language} lacks {part}: {prompt}");
            }
            assert!(!prompt.contains("SECRET-RUBRIC"));
        }
    }

    #[test]
    fn an_override_sees_the_documented_variables() {
        let text = "{{ persona }}|{{ goal }}|{{ facts.order_id }}|{{ language }}|{{ market }}|{{ max_turns }}|{{ case.id }}|{{ case.key }}|{{ case.stratum }}|{{ case.intent }}|{{ case.tags|length }}";
        let client = Arc::new(Scripted {
            answers: Mutex::new(vec![]),
            seen: Mutex::new(vec![]),
        });
        let sim =
            Simulator::llm(client, "m".into(), Some((text.into(), "c.j2".into())), 0).unwrap();
        let c = case("pl");
        assert_eq!(
            sim.render(&c, c.simulate.as_ref().unwrap()).unwrap(),
            "Anna, 67|Get the refund|PL-1234|pl|XX|4|s|pl/s|routine|refund|0"
        );
        let (built_in, _) = llm(vec![]);
        assert_ne!(sim.prompt_hash, built_in.prompt_hash);
    }

    #[tokio::test]
    async fn the_marker_ends_the_conversation_and_is_taken_out() {
        let (sim, client) = llm(vec![
            Ok("Thanks, that's all! ###STOP###".into()),
            Ok("   ".into()),
        ]);
        let c = case("en");
        let s = c.simulate.as_ref().unwrap();
        let transcript = vec![TranscriptTurn {
            role: Role::User,
            content: "where is my refund".into(),
            tool_calls: vec![],
            latency_ms: None,
            cached: false,
            handoff: false,
        }];
        let m = sim.next(&c, s, &transcript, |_| {}).await.unwrap();
        assert_eq!(m.text, "Thanks, that's all!");
        assert!(m.stop);
        assert_eq!((m.tokens_in, m.tokens_out), (11, 3));
        let seen = client.seen.lock().unwrap()[0].clone();
        let roles: Vec<Role> = seen.messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::User, Role::Assistant]);
        let err = sim.next(&c, s, &transcript, |_| {}).await.unwrap_err();
        assert_eq!(err.source, ErrorSource::Simulator);
        assert!(err.message.contains("empty"), "{}", err.message);
    }
}
