//! The LLM judge: shows a judge model the transcript, the case's context, reference and
//! numbered rubric criteria, and parses its verdict strictly. Its own concurrency limit,
//! retries and response cache keep it from slowing the run or paying twice.

pub mod demo;
pub mod parse;

use std::path::Path;
use std::sync::Arc;

use minijinja::{Environment, UndefinedBehavior, context};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::cache::Cache;
use crate::config::ResponseFormat;
use crate::diagnostic::Diagnostic;
use crate::evalset::Case;
use crate::provider::{BotTurn, JsonMode, LlmClient, LlmRequest, Message, ProviderError};
use crate::ratelimit::RateLimiter;
use crate::result::{ErrorCause, ErrorSource, JudgeVerdict, ResultError, Role, TranscriptTurn};
use crate::retry::{RetryPolicy, Retrying, with_retries};

/// The built-in rubric prompt; `judge.prompt` in the config overrides it.
pub const DEFAULT_PROMPT: &str = include_str!("../../prompts/judge/rubric.j2");
const SYSTEM: &str = "You are a strict, fair evaluator of customer-support conversations. You answer only with one JSON object.";
const TEMPLATE: &str = "rubric";

/// Who reads the conversations: an LLM, or the built-in rules of the demo judge.
enum Backend {
    Llm(Arc<dyn LlmClient>),
    Demo,
}

pub struct Judge {
    backend: Backend,
    model: String,
    env: Environment<'static>,
    pub prompt_hash: String,
    permits: Arc<Semaphore>,
    retry: RetryPolicy,
    cache: Option<Cache>,
    knowledge: String,
    response_format: ResponseFormat,
    limiter: Option<RateLimiter>,
}

/// A judged result, or why there is no verdict.
pub enum Judged {
    Verdict {
        verdict: JudgeVerdict,
        tokens_in: u64,
        tokens_out: u64,
    },
    /// The judge could not be reached: the result is an error, not a failure.
    Unreachable(ResultError),
}

#[derive(Serialize, Deserialize)]
struct CachedAnswer {
    text: String,
}

pub struct JudgeSettings {
    pub client: Arc<dyn LlmClient>,
    pub model: String,
    pub prompt_text: Option<(String, std::path::PathBuf)>,
    pub concurrency: usize,
    pub retries: u32,
    pub cache: Option<Cache>,
    pub knowledge: String,
    pub response_format: ResponseFormat,
    pub limiter: Option<RateLimiter>,
}

impl Judge {
    pub fn new(settings: JudgeSettings) -> Result<Judge, Diagnostic> {
        let (text, path) = settings.prompt_text.unwrap_or_else(|| {
            (
                DEFAULT_PROMPT.to_string(),
                "prompts/judge/rubric.j2 (built in)".into(),
            )
        });
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.add_template_owned(TEMPLATE, text.clone())
            .map_err(|e| Diagnostic::new(&path, format!("judge prompt: {e}")))?;
        Ok(Judge {
            backend: Backend::Llm(settings.client),
            model: settings.model,
            env,
            prompt_hash: format!("sha256:{:x}", Sha256::digest(text.as_bytes())),
            permits: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            retry: RetryPolicy::new(settings.retries),
            cache: settings.cache,
            knowledge: settings.knowledge,
            response_format: settings.response_format,
            limiter: settings.limiter,
        })
    }

    /// The built-in deterministic judge: no model, no network (see [`demo`]).
    pub fn demo(knowledge: String) -> Judge {
        Judge {
            backend: Backend::Demo,
            model: demo::MODEL.to_string(),
            env: Environment::new(),
            prompt_hash: format!("sha256:{:x}", Sha256::digest(demo::RULES.as_bytes())),
            permits: Arc::new(Semaphore::new(1)),
            retry: RetryPolicy::new(0),
            cache: None,
            knowledge,
            response_format: ResponseFormat::None,
            limiter: None,
        }
    }

    /// What identifies this judge for comparability: model and prompt hash.
    pub fn identity(&self) -> String {
        format!(
            "{} (prompt {})",
            self.model,
            &self.prompt_hash[..self.prompt_hash.len().min(19)]
        )
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// The judge's prompt for one conversation.
    pub fn render(&self, case: &Case, transcript: &[TranscriptTurn]) -> Result<String, String> {
        let turns: Vec<_> = transcript
            .iter()
            .map(|t| {
                context! {
                    role => match t.role { Role::User => "customer", Role::Assistant => "assistant" },
                    content => t.content.as_str(),
                    tool_calls => t.tool_calls.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                }
            })
            .collect();
        let context_text = serde_json::to_string_pretty(&case.context).unwrap_or_default();
        self.env
            .get_template(TEMPLATE)
            .and_then(|t| {
                t.render(context! {
                    transcript => turns,
                    context => context_text,
                    reference => case.expect.reference.as_deref(),
                    criteria => case.expect.rubric.clone(),
                    language => case.language.as_str(),
                    stratum => case.stratum.name(),
                    expected_outcome => case.expect.outcome.name(),
                    knowledge => self.knowledge.as_str(),
                })
            })
            .map_err(|e| format!("judge prompt: {e}"))
    }

    /// Judges a conversation; `on_retry` hears of each call that is tried again.
    pub async fn judge(
        &self,
        case: &Case,
        transcript: &[TranscriptTurn],
        mut on_retry: impl FnMut(Retrying<'_>),
    ) -> Judged {
        let client = match &self.backend {
            Backend::Llm(client) => client,
            Backend::Demo => {
                return self.verdict(demo::judge(case, transcript, &self.knowledge), 0, 0);
            }
        };
        let prompt = match self.render(case, transcript) {
            Ok(p) => p,
            Err(e) => return self.error_verdict(e),
        };
        let key = Cache::key(&[&self.model, &self.prompt_hash, &prompt]);
        if let Some(cached) = self.cache.as_ref().and_then(|c| c.get(&key))
            && let Ok(answer) = serde_json::from_str::<CachedAnswer>(&cached)
            && let Ok(parsed) = parse::parse(&answer.text, &case.expect.rubric)
        {
            return self.verdict(parsed, 0, 0);
        }
        let mut request = LlmRequest {
            system: SYSTEM.to_string(),
            messages: vec![Message {
                role: Role::User,
                content: prompt,
            }],
            json: self.json_mode(case.expect.rubric.len()),
        };
        let (mut tokens_in, mut tokens_out) = (0, 0);
        let mut last_error = String::new();
        // One retry for an answer that breaks the protocol, with the reason attached.
        for attempt in 0..2 {
            let answer = match self.call(client, &request, &mut on_retry).await {
                Ok(a) => a,
                Err(gave_up) => {
                    return Judged::Unreachable(ResultError {
                        message: format!("judge unreachable: {gave_up}"),
                        source: ErrorSource::Judge,
                        cause: ErrorCause::of(&gave_up.error),
                    });
                }
            };
            tokens_in += answer.tokens_in;
            tokens_out += answer.tokens_out;
            match parse::parse(&answer.content, &case.expect.rubric) {
                Ok(parsed) => {
                    if let Some(cache) = &self.cache
                        && let Ok(v) = serde_json::to_string(&CachedAnswer {
                            text: answer.content.clone(),
                        })
                    {
                        cache.put(&key, &v);
                    }
                    return self.verdict(parsed, tokens_in, tokens_out);
                }
                Err(e) => {
                    last_error = e;
                    if attempt == 0 {
                        request.messages.push(Message {
                            role: Role::Assistant,
                            content: answer.content,
                        });
                        request.messages.push(Message {
                            role: Role::User,
                            content: format!("That answer does not follow the protocol ({last_error}). Reply with only the JSON object, one entry per criterion."),
                        });
                    }
                }
            }
        }
        let mut judged = self.error_verdict(format!("judge answer invalid twice: {last_error}"));
        if let Judged::Verdict {
            tokens_in: i,
            tokens_out: o,
            ..
        } = &mut judged
        {
            *i = tokens_in;
            *o = tokens_out;
        }
        judged
    }

    fn json_mode(&self, criteria: usize) -> JsonMode {
        match self.response_format {
            ResponseFormat::JsonObject => JsonMode::Object,
            ResponseFormat::JsonSchema => JsonMode::Schema(verdict_schema(criteria)),
            ResponseFormat::None => JsonMode::None,
        }
    }

    /// One request, with the judge's own concurrency limit, rate limits and retries.
    async fn call(
        &self,
        client: &Arc<dyn LlmClient>,
        request: &LlmRequest,
        on_retry: &mut impl FnMut(Retrying<'_>),
    ) -> Result<BotTurn, crate::retry::GaveUp> {
        let attempt = || async {
            let _permit = self.permits.acquire().await;
            if let Some(limiter) = &self.limiter {
                limiter.acquire().await;
            }
            let result: Result<BotTurn, ProviderError> = client.complete(request).await;
            if let (Some(limiter), Ok(turn)) = (&self.limiter, &result) {
                limiter.consumed(turn.tokens_in + turn.tokens_out);
            }
            result
        };
        with_retries(self.retry, attempt, on_retry)
            .await
            .map(|(turn, _)| turn)
    }

    fn verdict(&self, parsed: parse::Parsed, tokens_in: u64, tokens_out: u64) -> Judged {
        Judged::Verdict {
            verdict: JudgeVerdict {
                model: self.model.clone(),
                criteria: parsed.criteria,
                outcome: Some(parsed.outcome),
                unsupported_claims: parsed.unsupported_claims,
                error: None,
            },
            tokens_in,
            tokens_out,
        }
    }

    fn error_verdict(&self, error: String) -> Judged {
        Judged::Verdict {
            verdict: JudgeVerdict {
                model: self.model.clone(),
                criteria: Vec::new(),
                outcome: None,
                unsupported_claims: Vec::new(),
                error: Some(error),
            },
            tokens_in: 0,
            tokens_out: 0,
        }
    }
}

/// The verdict protocol as a JSON schema, with exactly `criteria` entries.
pub fn verdict_schema(criteria: usize) -> serde_json::Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["criteria", "outcome", "unsupported_claims"],
        "properties": {
            "criteria": {
                "type": "array",
                "minItems": criteria,
                "maxItems": criteria,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["n", "passed", "reason"],
                    "properties": {
                        "n": { "type": "integer", "minimum": 1, "maximum": criteria.max(1) },
                        "passed": { "type": "boolean" },
                        "reason": { "type": "string", "maxLength": 200 }
                    }
                }
            },
            "outcome": { "type": "string", "enum": ["resolved", "escalated", "refused", "deflected"] },
            "unsupported_claims": { "type": "array", "maxItems": 5, "items": { "type": "string", "maxLength": 200 } }
        }
    })
}

/// The text of the knowledge-base files, and its hash for the run summary.
pub fn load_knowledge(
    files: &[std::path::PathBuf],
    root: &Path,
) -> Result<(String, Option<String>), Diagnostic> {
    if files.is_empty() {
        return Ok((String::new(), None));
    }
    let mut text = String::new();
    let mut hasher = Sha256::new();
    for f in files {
        let bytes = std::fs::read(f)
            .map_err(|e| Diagnostic::new(f, format!("cannot read knowledge file: {e}")))?;
        let body = crate::yaml::decode_utf8(f, &bytes)?;
        let name = f.strip_prefix(root).unwrap_or(f).display().to_string();
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(&bytes);
        text.push_str(&format!("--- {name}\n{}\n", body.trim_end()));
    }
    Ok((text, Some(format!("sha256:{:x}", hasher.finalize()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knowledge_text_and_hash() {
        let dir = crate::test_support::TempDir::new("kb");
        std::fs::create_dir_all(dir.join("kb")).unwrap();
        std::fs::write(
            dir.join("kb/refunds.md"),
            "Refunds take 5-10 business days.\n",
        )
        .unwrap();
        std::fs::write(dir.join("kb/cards.md"), "Change your card in the app.\n").unwrap();
        let files = vec![dir.join("kb/cards.md"), dir.join("kb/refunds.md")];
        let (text, hash) = load_knowledge(&files, &dir).unwrap();
        assert!(
            text.contains("--- kb/refunds.md\nRefunds take 5-10 business days."),
            "{text}"
        );
        let (_, again) = load_knowledge(&files, &dir).unwrap();
        assert_eq!(hash, again);
        std::fs::write(dir.join("kb/cards.md"), "Cards cannot be changed.\n").unwrap();
        assert_ne!(
            load_knowledge(&files, &dir).unwrap().1,
            hash,
            "the hash follows the content"
        );
        assert_eq!(load_knowledge(&[], &dir).unwrap(), (String::new(), None));
    }

    #[test]
    fn the_schema_pins_the_number_of_criteria() {
        let s = verdict_schema(3);
        assert_eq!(s["properties"]["criteria"]["minItems"], 3);
        assert_eq!(s["properties"]["criteria"]["maxItems"], 3);
    }
}
