//! The project config (`evalgate.yaml`): what bot to test, with which prompt, on which
//! eval sets, and how hard to push it. Loaded strictly; secrets only come from env vars.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::yaml;

mod http;
pub use http::{HttpBotConfig, HttpResponseConfig, HttpStartConfig, template_error};

#[derive(Debug, Clone)]
pub struct Config {
    pub bot: BotConfig,
    /// Glob patterns, relative to the config file's folder.
    pub evalsets: Vec<Spanned<String>>,
    pub run: RunConfig,
    /// The launch-gate file, relative to the config file's folder.
    pub gate: Option<Spanned<String>>,
    pub pricing: Option<Pricing>,
    /// The LLM judge; without one, rubric criteria are reported `unjudged`.
    pub judge: Option<JudgeConfig>,
    /// Help-centre files the judge checks claims against (glob patterns).
    pub knowledge: Vec<Spanned<String>>,
}

/// The config file as written, with the bot's section in the shape its provider takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile<B> {
    bot: B,
    evalsets: Vec<Spanned<String>>,
    #[serde(default)]
    run: RunConfig,
    #[serde(default)]
    gate: Option<Spanned<String>>,
    #[serde(default)]
    pricing: Option<Pricing>,
    #[serde(default)]
    judge: Option<JudgeConfig>,
    #[serde(default)]
    knowledge: Vec<Spanned<String>>,
}

impl<B> ConfigFile<B> {
    fn with_bot(self, bot: impl FnOnce(B) -> BotConfig) -> Config {
        Config {
            bot: bot(self.bot),
            evalsets: self.evalsets,
            run: self.run,
            gate: self.gate,
            pricing: self.pricing,
            judge: self.judge,
            knowledge: self.knowledge,
        }
    }
}

/// Only the bot's provider, read first to know which fields the bot section may have.
#[derive(Debug, Deserialize)]
struct ProviderOnly {
    bot: ProviderField,
}

#[derive(Debug, Deserialize)]
struct ProviderField {
    provider: ProviderKind,
}

impl Config {
    /// Parses a config file. The bot section is read in the shape its provider takes, so
    /// each provider's fields are checked strictly (a `base_url` on the demo bot is an
    /// error at its line, not silently ignored). serde's internally tagged enums would
    /// lose the line numbers, hence two passes over a file of a few lines.
    pub fn parse(path: &Path, text: &str) -> Result<Config, Diagnostic> {
        let only: ProviderOnly = yaml::parse(path, text)?;
        Ok(match only.bot.provider {
            ProviderKind::Openai => {
                yaml::parse::<ConfigFile<OpenaiBotConfig>>(path, text)?.with_bot(BotConfig::Openai)
            }
            ProviderKind::Demo => {
                yaml::parse::<ConfigFile<DemoBotConfig>>(path, text)?.with_bot(BotConfig::Demo)
            }
            ProviderKind::Http => yaml::parse::<ConfigFile<HttpBotConfig>>(path, text)?
                .with_bot(|b| BotConfig::Http(Box::new(b))),
        })
    }
}

/// The LLM judge: any OpenAI-compatible chat-completions endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeConfig {
    pub provider: ProviderKind,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub api_key_env: Option<Spanned<String>>,
    /// A rubric prompt template overriding the built-in one.
    #[serde(default)]
    pub prompt: Option<Spanned<String>>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default = "default_judge_timeout_s")]
    pub timeout_s: f64,
    /// Judge requests in flight at once, apart from the bot's concurrency.
    #[serde(default = "default_judge_concurrency")]
    pub concurrency: usize,
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// How to ask for JSON: `json_object` (OpenAI, llama.cpp, vLLM), `json_schema` (a
    /// strict schema; best for small local models), or `none` for servers that reject
    /// `response_format`.
    #[serde(default)]
    pub response_format: ResponseFormat,
    /// Client-side limits on the judge, apart from the bot's.
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    #[serde(default)]
    pub tokens_per_minute: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormat {
    #[default]
    JsonObject,
    /// A JSON schema with exactly one entry per criterion and bounded strings: small
    /// local models under a grammar otherwise ramble until the token limit.
    JsonSchema,
    None,
}

fn default_judge_timeout_s() -> f64 {
    60.0
}
fn default_judge_concurrency() -> usize {
    4
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI-compatible chat completions (OpenAI, Azure, Ollama, vLLM, llama.cpp, LiteLLM).
    Openai,
    /// The built-in deterministic reference bot.
    Demo,
    /// Any bot behind HTTP: request templates, response expressions.
    Http,
}

impl ProviderKind {
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Demo => "demo",
            ProviderKind::Http => "http",
        }
    }
}

/// The bot under test: one shape per provider.
#[derive(Debug, Clone)]
pub enum BotConfig {
    Openai(OpenaiBotConfig),
    Demo(DemoBotConfig),
    /// Boxed: its templates and expressions make it several times the others' size.
    Http(Box<HttpBotConfig>),
}

/// An OpenAI-compatible chat-completions endpoint as the bot.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenaiBotConfig {
    pub provider: ProviderKind,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    /// Name of the environment variable that holds the API key.
    #[serde(default)]
    pub api_key_env: Option<Spanned<String>>,
    /// The system-prompt template, relative to the config file's folder.
    #[serde(default)]
    pub prompt: Option<Spanned<String>>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: f64,
    #[serde(default)]
    pub handoff: HandoffConfig,
    /// A label for the bot under test (`--bot-version` overrides it).
    #[serde(default)]
    pub version: Option<String>,
}

/// The built-in demo bot: a prompt (its v1/v2 story), the handoff signal, a label.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoBotConfig {
    pub provider: ProviderKind,
    #[serde(default)]
    pub prompt: Option<Spanned<String>>,
    #[serde(default)]
    pub handoff: HandoffConfig,
    #[serde(default)]
    pub version: Option<String>,
}

impl BotConfig {
    pub fn provider(&self) -> ProviderKind {
        match self {
            BotConfig::Openai(_) => ProviderKind::Openai,
            BotConfig::Demo(_) => ProviderKind::Demo,
            BotConfig::Http(_) => ProviderKind::Http,
        }
    }

    /// The system-prompt template, relative to the config file's folder.
    pub fn prompt(&self) -> Option<&Spanned<String>> {
        match self {
            BotConfig::Openai(b) => b.prompt.as_ref(),
            BotConfig::Demo(b) => b.prompt.as_ref(),
            BotConfig::Http(b) => b.prompt.as_ref(),
        }
    }

    /// How the bot signals "I am handing you to a human".
    pub fn handoff(&self) -> &HandoffConfig {
        match self {
            BotConfig::Openai(b) => &b.handoff,
            BotConfig::Demo(b) => &b.handoff,
            BotConfig::Http(b) => &b.handoff,
        }
    }

    /// A label of the bot under test (for bots whose prompt evalgate does not hold, the
    /// only record of which build was measured).
    pub fn version(&self) -> Option<&str> {
        match self {
            BotConfig::Openai(b) => b.version.as_deref(),
            BotConfig::Demo(b) => b.version.as_deref(),
            BotConfig::Http(b) => b.version.as_deref(),
        }
    }

    /// Where the bot is, for the summary and `--resume`'s check.
    pub fn base_url(&self) -> Option<&str> {
        match self {
            BotConfig::Openai(b) => b.base_url.as_deref(),
            BotConfig::Demo(_) => None,
            BotConfig::Http(b) => Some(b.url.value.as_str()),
        }
    }
}

fn default_timeout_s() -> f64 {
    30.0
}

/// How the bot signals "I am handing you to a human".
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffConfig {
    #[serde(default = "default_handoff_tool")]
    pub tool: Option<String>,
    #[serde(default)]
    pub markers: Vec<String>,
}

fn default_handoff_tool() -> Option<String> {
    Some("escalate_to_human".to_string())
}

impl Default for HandoffConfig {
    fn default() -> Self {
        HandoffConfig {
            tool: default_handoff_tool(),
            markers: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default = "default_repeats")]
    pub repeats: u32,
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Share of results that may be errors before the run counts as incomplete (exit 3).
    #[serde(default)]
    pub max_error_rate: f64,
    /// Client-side limits on the bot, so a large suite does not trip its own limiter.
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    #[serde(default)]
    pub tokens_per_minute: Option<u64>,
}

fn default_concurrency() -> usize {
    16
}
fn default_repeats() -> u32 {
    1
}
fn default_retries() -> u32 {
    3
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            concurrency: default_concurrency(),
            repeats: default_repeats(),
            retries: default_retries(),
            max_error_rate: 0.0,
            requests_per_minute: None,
            tokens_per_minute: None,
        }
    }
}

/// Money per million tokens: defaults, and per-model overrides.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    #[serde(default)]
    pub input_per_mtok: Option<f64>,
    #[serde(default)]
    pub output_per_mtok: Option<f64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub models: BTreeMap<String, ModelPrice>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

impl Pricing {
    /// The price of a model's tokens, if the config states one.
    pub fn for_model(&self, model: &str) -> Option<ModelPrice> {
        if let Some(p) = self.models.get(model) {
            return Some(p.clone());
        }
        match (self.input_per_mtok, self.output_per_mtok) {
            (Some(i), Some(o)) => Some(ModelPrice {
                input_per_mtok: i,
                output_per_mtok: o,
            }),
            _ => None,
        }
    }
}

/// A config together with where it was loaded from, so relative paths resolve.
#[derive(Debug, Clone)]
pub struct Project {
    pub config_path: PathBuf,
    pub root: PathBuf,
    pub config: Config,
}

impl Project {
    /// Loads and validates the config file. Every problem is reported at once.
    pub fn load(config_path: &Path) -> Result<Project, Diagnostics> {
        let bytes = std::fs::read(config_path).map_err(|e| {
            Diagnostics(vec![Diagnostic::new(
                config_path,
                format!("cannot read file: {e}"),
            )])
        })?;
        let config = yaml::decode_utf8(config_path, &bytes)
            .and_then(|text| Config::parse(config_path, text))
            .map_err(|d| Diagnostics(vec![d]))?;
        let root = match config_path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let project = Project {
            config_path: config_path.to_path_buf(),
            root,
            config,
        };
        project.validate().into_result(project)
    }

    pub fn resolve(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    pub fn prompt_path(&self) -> Option<PathBuf> {
        self.config.bot.prompt().map(|p| self.resolve(&p.value))
    }

    /// Checks that need more than the file's shape: values in range, files present, the
    /// API key's env var set.
    fn validate(&self) -> Diagnostics {
        let mut problems = Diagnostics::default();
        let here = |msg: String| Diagnostic::new(&self.config_path, msg);
        if let BotConfig::Openai(bot) = &self.config.bot {
            for (message, at) in endpoint_problems("bot", &bot.endpoint()) {
                problems.push(at.map_or_else(
                    || here(message.clone()),
                    |l| here(message.clone()).at_location(l),
                ));
            }
        }
        if let BotConfig::Http(bot) = &self.config.bot {
            for problem in bot.problems(&self.config_path) {
                problems.push(problem);
            }
        }
        if let Some(judge) = &self.config.judge {
            if judge.provider != ProviderKind::Openai {
                problems.push(here(
                    "judge.provider must be `openai` (any OpenAI-compatible endpoint)".into(),
                ));
            }
            for (message, at) in endpoint_problems("judge", &judge.endpoint()) {
                problems.push(at.map_or_else(
                    || here(message.clone()),
                    |l| here(message.clone()).at_location(l),
                ));
            }
            if judge.concurrency == 0 {
                problems.push(here("judge.concurrency must be at least 1".into()));
            }
        }
        let prompts = [
            ("bot.prompt", self.config.bot.prompt()),
            (
                "judge.prompt",
                self.config.judge.as_ref().and_then(|j| j.prompt.as_ref()),
            ),
        ];
        for (field, prompt) in prompts {
            if let Some(p) = prompt
                && !self.resolve(&p.value).is_file()
            {
                problems.push(
                    here(format!(
                        "{field}: prompt file {} does not exist",
                        self.resolve(&p.value).display()
                    ))
                    .at_location(p.referenced),
                );
            }
        }
        let run = &self.config.run;
        if run.concurrency == 0 {
            problems.push(here("run.concurrency must be at least 1".into()));
        }
        if run.repeats == 0 {
            problems.push(here("run.repeats must be at least 1".into()));
        }
        if !(0.0..=1.0).contains(&run.max_error_rate) {
            problems.push(here("run.max_error_rate must be between 0 and 1".into()));
        }
        if self.config.evalsets.is_empty() {
            problems.push(here("evalsets must list at least one glob pattern".into()));
        }
        problems
    }

    /// The bot's API key, read from the environment variable the config names.
    pub fn api_key(&self) -> Option<String> {
        match &self.config.bot {
            BotConfig::Openai(b) => key_from(b.api_key_env.as_ref().map(|v| v.value.as_str())),
            BotConfig::Demo(_) | BotConfig::Http(_) => None,
        }
    }

    pub fn judge_api_key(&self) -> Option<String> {
        key_from(
            self.config
                .judge
                .as_ref()
                .and_then(|j| j.api_key_env.as_ref().map(|v| v.value.as_str())),
        )
    }
}

fn key_from(var: Option<&str>) -> Option<String> {
    var.and_then(|v| std::env::var(v).ok())
        .filter(|k| !k.is_empty())
}

/// The connection fields the bot and the judge share. The two config structs spell them
/// out each: serde's `flatten` cannot be combined with `deny_unknown_fields`, and
/// rejecting unknown keys matters more than the repetition.
struct Endpoint<'a> {
    provider: ProviderKind,
    base_url: Option<&'a str>,
    model: Option<&'a str>,
    api_key_env: Option<&'a Spanned<String>>,
    timeout_s: f64,
}

impl OpenaiBotConfig {
    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint {
            provider: self.provider,
            base_url: self.base_url.as_deref(),
            model: self.model.as_deref(),
            api_key_env: self.api_key_env.as_ref(),
            timeout_s: self.timeout_s,
        }
    }
}

impl JudgeConfig {
    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint {
            provider: self.provider,
            base_url: self.base_url.as_deref(),
            model: self.model.as_deref(),
            api_key_env: self.api_key_env.as_ref(),
            timeout_s: self.timeout_s,
        }
    }
}

/// Problems with an endpoint's fields, each with the position of the field when known.
fn endpoint_problems(
    section: &str,
    e: &Endpoint<'_>,
) -> Vec<(String, Option<serde_saphyr::Location>)> {
    let mut problems = Vec::new();
    if e.provider == ProviderKind::Openai {
        if e.base_url.is_none_or(str::is_empty) {
            problems.push((
                format!("{section}.base_url is required for provider `openai`"),
                None,
            ));
        }
        if e.model.is_none_or(str::is_empty) {
            problems.push((
                format!("{section}.model is required for provider `openai`"),
                None,
            ));
        }
    }
    if let Some(var) = e.api_key_env {
        let why = match std::env::var_os(&var.value) {
            None => Some("that environment variable is not set"),
            Some(v) if v.is_empty() => Some("that environment variable is set but empty"),
            Some(_) => None,
        };
        if let Some(why) = why {
            problems.push((
                format!("{section}.api_key_env names `{}`, but {why}", var.value),
                Some(var.referenced),
            ));
        }
    }
    if !(e.timeout_s > 0.0 && e.timeout_s.is_finite()) {
        problems.push((
            format!("{section}.timeout_s must be a positive number of seconds"),
            None,
        ));
    }
    problems
}

/// Key-value account state handed to prompts; kept sorted so renders are stable.
pub type Context = BTreeMap<String, serde_json::Value>;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Diagnostic> {
        Config::parse(Path::new("evalgate.yaml"), text)
    }

    #[test]
    fn unknown_key_is_an_error_with_a_suggestion_and_a_line() {
        let err =
            parse("bot:\n  provider: demo\nevalsets: [a]\nrun:\n  concurency: 4\n").unwrap_err();
        assert!(err.message.contains("concurency"), "{err}");
        assert!(err.message.contains("did you mean `concurrency`"), "{err}");
        assert_eq!(err.line, Some(5), "{err}");
    }

    #[test]
    fn unknown_provider_is_an_error() {
        let err = parse("bot:\n  provider: gpt\nevalsets: [a]\n").unwrap_err();
        assert!(err.message.contains("gpt"), "{err}");
        assert_eq!(err.line, Some(2), "{err}");
    }

    #[test]
    fn defaults_apply() {
        let c = parse("bot:\n  provider: demo\nevalsets: [a]\n").unwrap();
        assert_eq!(c.run.concurrency, 16);
        assert_eq!(c.bot.handoff().tool.as_deref(), Some("escalate_to_human"));
    }

    /// Each provider takes its own fields: what one needs is a mistake on another.
    #[test]
    fn each_provider_checks_its_own_fields_at_their_line() {
        let err =
            parse("bot:\n  provider: demo\n  prompt: p.j2\n  base_url: http://x\nevalsets: [a]\n")
                .unwrap_err();
        assert!(err.message.contains("unknown field `base_url`"), "{err}");
        assert_eq!(err.line, Some(4), "{err}");
        let err =
            parse("bot:\n  provider: openai\n  base_url: http://x\n  modle: m\nevalsets: [a]\n")
                .unwrap_err();
        assert!(err.message.contains("did you mean `model`"), "{err}");
        assert_eq!(err.line, Some(4), "{err}");
        let ok = parse("bot:\n  provider: openai\n  base_url: http://x\n  model: m\n  temperature: 0\nevalsets: [a]\n")
            .unwrap();
        assert_eq!(ok.bot.base_url(), Some("http://x"));
    }
}
