//! The project config (`evalgate.yaml`): what bot to test, with which prompt, on which
//! eval sets, and how hard to push it. Loaded strictly; secrets only come from env vars.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::yaml;

mod exec;
pub use exec::ExecBotConfig;
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
    /// The model that plays the customer in `simulate:` cases.
    pub simulator: Option<SimulatorConfig>,
    /// The model `evalgate expand` drafts cases with (the judge's when absent).
    pub expand: Option<JudgeConfig>,
    /// How the bot's replies say it declined, for scoring without a judge.
    pub refusal: RefusalConfig,
}

/// The config file as written, with the bot's section in the shape its provider takes.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ConfigFile<B> {
    /// The bot under test; `provider` decides which other fields apply.
    bot: B,
    /// Glob patterns of the eval-set files, relative to this file's folder.
    #[schemars(with = "Vec<String>")]
    evalsets: Vec<Spanned<String>>,
    /// How hard to push the bot: concurrency, repeats, retries.
    #[serde(default)]
    run: RunConfig,
    /// The launch-gate file, relative to this file's folder.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    gate: Option<Spanned<String>>,
    /// Money per million tokens, for the cost report.
    #[serde(default)]
    pricing: Option<Pricing>,
    /// The LLM judge; without one, rubric criteria are reported `unjudged`.
    #[serde(default)]
    judge: Option<JudgeConfig>,
    /// Help-centre files (glob patterns) the judge checks the bot's claims against.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    knowledge: Vec<Spanned<String>>,
    /// The model that plays the customer in `simulate:` cases (`provider: demo` for the
    /// built-in customer).
    #[serde(default)]
    simulator: Option<SimulatorConfig>,
    /// The model `evalgate expand` drafts with: the fields of `judge:` (the judge's model
    /// when absent; `provider: demo` writes typo drafts by fixed rules).
    #[serde(default)]
    expand: Option<JudgeConfig>,
    /// How the bot's replies say it declined, so that without a judge a refused benign
    /// request counts as over-refusal rather than deflection.
    #[serde(default)]
    refusal: RefusalConfig,
}

/// Phrases by which the bot declines a request, e.g. "I'm sorry, but I can't".
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefusalConfig {
    /// Text in a reply (any case) that means the bot declined. Without a judge, a reply
    /// to a case expecting `resolve` that fails its checks and holds one of these is
    /// `refused` (an over-refusal), not `deflected`.
    #[serde(default)]
    pub markers: Vec<String>,
}

impl RefusalConfig {
    /// Whether the reply says, in one of the marker phrases, that the bot declined.
    pub fn declines(&self, reply: &str) -> bool {
        if self.markers.is_empty() {
            return false;
        }
        let reply = reply.to_lowercase();
        self.markers
            .iter()
            .any(|m| !m.trim().is_empty() && reply.contains(&m.to_lowercase()))
    }
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
            simulator: self.simulator,
            expand: self.expand,
            refusal: self.refusal,
        }
    }
}

/// The JSON Schema of `evalgate.yaml`, generated from the types [`Config::parse`] reads.
pub fn json_schema() -> schemars::Schema {
    crate::schema::root_for::<ConfigFile<BotConfig>>()
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
            ProviderKind::Anthropic => yaml::parse::<ConfigFile<AnthropicBotConfig>>(path, text)?
                .with_bot(BotConfig::Anthropic),
            ProviderKind::Demo => {
                yaml::parse::<ConfigFile<DemoBotConfig>>(path, text)?.with_bot(BotConfig::Demo)
            }
            ProviderKind::Exec => {
                yaml::parse::<ConfigFile<ExecBotConfig>>(path, text)?.with_bot(BotConfig::Exec)
            }
            ProviderKind::Http => yaml::parse::<ConfigFile<HttpBotConfig>>(path, text)?
                .with_bot(|b| BotConfig::Http(Box::new(b))),
        })
    }
}

/// The LLM judge: any OpenAI-compatible chat-completions endpoint, Anthropic's Messages
/// API, or the deterministic demo judge (`provider: demo`, no model and no network).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JudgeConfig {
    pub provider: ProviderKind,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub api_key_env: Option<Spanned<String>>,
    /// A rubric prompt template overriding the built-in one.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
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
    /// The `calibration.json` that `evalgate calibrate` wrote for this judge: how far it
    /// agrees with people, per language, for the gate's `judge_calibration`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub calibration: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI-compatible chat completions (OpenAI, Azure, Ollama, vLLM, llama.cpp, LiteLLM).
    Openai,
    /// Anthropic's Messages API.
    Anthropic,
    /// The built-in deterministic reference bot.
    Demo,
    /// A local program that answers turns as JSON lines on its stdin and stdout.
    Exec,
    /// Any bot behind HTTP: request templates, response expressions.
    Http,
}

impl ProviderKind {
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Demo => "demo",
            ProviderKind::Exec => "exec",
            ProviderKind::Http => "http",
        }
    }
}

/// The bot under test: one shape per provider.
#[derive(Debug, Clone)]
pub enum BotConfig {
    Openai(OpenaiBotConfig),
    Anthropic(AnthropicBotConfig),
    Demo(DemoBotConfig),
    Exec(ExecBotConfig),
    /// Boxed: its templates and expressions make it several times the others' size.
    Http(Box<HttpBotConfig>),
}

/// The bot section's schema: one shape per provider, told apart by `provider`, the way
/// [`Config::parse`] reads it. Written by hand because the loader picks the shape in a
/// pass of its own rather than through serde; each shape is still derived from its type.
impl schemars::JsonSchema for BotConfig {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "BotConfig".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let kinds = ProviderKind::json_schema(generator);
        let shapes = [
            (
                ProviderKind::Openai,
                OpenaiBotConfig::json_schema(generator),
            ),
            (
                ProviderKind::Anthropic,
                AnthropicBotConfig::json_schema(generator),
            ),
            (ProviderKind::Http, HttpBotConfig::json_schema(generator)),
            (ProviderKind::Exec, ExecBotConfig::json_schema(generator)),
            (ProviderKind::Demo, DemoBotConfig::json_schema(generator)),
        ];
        let one_of: Vec<serde_json::Value> = shapes
            .into_iter()
            .map(|(kind, mut shape)| {
                // Each shape takes its own provider only, so an editor knows which
                // fields apply once `provider` is typed.
                let described = kinds
                    .get("oneOf")
                    .and_then(|v| v.as_array())
                    .and_then(|all| all.iter().find(|v| v["const"] == kind.name()))
                    .cloned()
                    .unwrap_or_else(|| serde_json::json!({ "const": kind.name() }));
                if let Some(provider) = shape.pointer_mut("/properties/provider") {
                    *provider = described;
                }
                shape.to_value()
            })
            .collect();
        schemars::json_schema!({
            "description": "The bot under test. `provider` decides which other fields apply.",
            "type": "object",
            "oneOf": one_of,
        })
    }
}

/// An OpenAI-compatible chat-completions endpoint as the bot.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenaiBotConfig {
    pub provider: ProviderKind,
    /// The API's root, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`
    /// (Ollama); requests go to `{base_url}/chat/completions`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The model name the endpoint serves.
    #[serde(default)]
    pub model: Option<String>,
    /// Name of the environment variable that holds the API key.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub api_key_env: Option<Spanned<String>>,
    /// The system-prompt template, relative to the config file's folder.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub prompt: Option<Spanned<String>>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Seconds one turn may take before it is an error result (retried per `run.retries`).
    #[serde(default = "default_timeout_s")]
    pub timeout_s: f64,
    /// How the bot signals "I am handing you to a human".
    #[serde(default)]
    pub handoff: HandoffConfig,
    /// A label for the bot under test (`--bot-version` overrides it).
    #[serde(default)]
    pub version: Option<String>,
}

/// Where Anthropic's Messages API is when the config names no `base_url`.
pub const ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
/// What `max_tokens` (which the Messages API requires) is when the config names none.
pub const ANTHROPIC_MAX_TOKENS: u32 = 1024;

/// Anthropic's Messages API as the bot.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnthropicBotConfig {
    pub provider: ProviderKind,
    /// Defaults to [`ANTHROPIC_BASE_URL`]; requests go to `{base_url}/v1/messages`.
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    /// Name of the environment variable that holds the API key (required: the API
    /// refuses requests without one).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub api_key_env: Option<Spanned<String>>,
    /// The system-prompt template, relative to the config file's folder.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub prompt: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Option<f64>")]
    pub temperature: Option<Spanned<f64>>,
    /// Defaults to [`ANTHROPIC_MAX_TOKENS`].
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub max_tokens: Option<Spanned<u32>>,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: f64,
    #[serde(default)]
    pub handoff: HandoffConfig,
    /// A label for the bot under test (`--bot-version` overrides it).
    #[serde(default)]
    pub version: Option<String>,
}

impl AnthropicBotConfig {
    /// The names of the environment variables whose values are secrets.
    pub fn secret_envs(&self) -> Vec<&str> {
        self.api_key_env.iter().map(|v| v.value.as_str()).collect()
    }

    pub fn base_url(&self) -> &str {
        self.base_url.as_deref().unwrap_or(ANTHROPIC_BASE_URL)
    }

    pub fn max_tokens(&self) -> u32 {
        self.max_tokens
            .as_ref()
            .map_or(ANTHROPIC_MAX_TOKENS, |m| m.value)
    }

    /// Values the API would refuse, each at its line.
    fn range_problems(&self) -> Vec<(String, Option<serde_saphyr::Location>)> {
        let mut problems = Vec::new();
        if let Some(t) = &self.temperature
            && !(0.0..=1.0).contains(&t.value)
        {
            problems.push((
                "bot.temperature must be between 0 and 1 for provider `anthropic`".to_string(),
                Some(t.referenced),
            ));
        }
        if let Some(m) = &self.max_tokens
            && m.value == 0
        {
            problems.push((
                "bot.max_tokens must be at least 1".to_string(),
                Some(m.referenced),
            ));
        }
        problems
    }
}

/// The built-in demo bot: a prompt (its v1/v2 story), the handoff signal, a label.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DemoBotConfig {
    pub provider: ProviderKind,
    /// The system-prompt template, relative to this file's folder.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
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
            BotConfig::Anthropic(_) => ProviderKind::Anthropic,
            BotConfig::Demo(_) => ProviderKind::Demo,
            BotConfig::Exec(_) => ProviderKind::Exec,
            BotConfig::Http(_) => ProviderKind::Http,
        }
    }

    /// The system-prompt template, relative to the config file's folder.
    pub fn prompt(&self) -> Option<&Spanned<String>> {
        match self {
            BotConfig::Openai(b) => b.prompt.as_ref(),
            BotConfig::Anthropic(b) => b.prompt.as_ref(),
            BotConfig::Demo(b) => b.prompt.as_ref(),
            BotConfig::Exec(b) => b.prompt.as_ref(),
            BotConfig::Http(b) => b.prompt.as_ref(),
        }
    }

    /// How the bot signals "I am handing you to a human".
    pub fn handoff(&self) -> &HandoffConfig {
        match self {
            BotConfig::Openai(b) => &b.handoff,
            BotConfig::Anthropic(b) => &b.handoff,
            BotConfig::Demo(b) => &b.handoff,
            BotConfig::Exec(b) => &b.handoff,
            BotConfig::Http(b) => &b.handoff,
        }
    }

    /// A label of the bot under test (for bots whose prompt evalgate does not hold, the
    /// only record of which build was measured).
    pub fn version(&self) -> Option<&str> {
        match self {
            BotConfig::Openai(b) => b.version.as_deref(),
            BotConfig::Anthropic(b) => b.version.as_deref(),
            BotConfig::Demo(b) => b.version.as_deref(),
            BotConfig::Exec(b) => b.version.as_deref(),
            BotConfig::Http(b) => b.version.as_deref(),
        }
    }

    /// The environment variables that hold the bot's secrets (keys, secret headers).
    pub fn secret_envs(&self) -> Vec<&str> {
        match self {
            BotConfig::Openai(b) => b.api_key_env.iter().map(|v| v.value.as_str()).collect(),
            BotConfig::Anthropic(b) => b.secret_envs(),
            BotConfig::Exec(b) => b.secret_envs(),
            BotConfig::Http(b) => b.secret_envs(),
            BotConfig::Demo(_) => Vec::new(),
        }
    }

    /// Where the bot is, for the summary and `--resume`'s check.
    pub fn base_url(&self) -> Option<&str> {
        match self {
            BotConfig::Openai(b) => b.base_url.as_deref(),
            BotConfig::Anthropic(b) => Some(b.base_url()),
            BotConfig::Http(b) => Some(b.url.value.as_str()),
            BotConfig::Demo(_) | BotConfig::Exec(_) => None,
        }
    }
}

fn default_timeout_s() -> f64 {
    30.0
}

/// How the bot signals "I am handing you to a human".
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoffConfig {
    /// A tool (function) call with this name means the bot handed over.
    #[serde(default = "default_handoff_tool")]
    pub tool: Option<String>,
    /// Text in a reply that means the bot handed over, e.g. `[HANDOFF]`.
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

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Conversations in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Times each case is run; with more than 1, pass^k counts a case passed only when
    /// every repeat passed.
    #[serde(default = "default_repeats")]
    pub repeats: u32,
    /// Retries of a failed call (429 and 5xx) before the result is an error.
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
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
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

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
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
        let text = yaml::decode_utf8(config_path, &bytes).map_err(|d| Diagnostics(vec![d]))?;
        let config = Config::parse(config_path, text).map_err(|first| {
            crate::schema::every_problem(
                crate::schema::SchemaFile::Config,
                config_path,
                text,
                first,
            )
        })?;
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
        if let BotConfig::Anthropic(bot) = &self.config.bot {
            let mut found = endpoint_problems("bot", &bot.endpoint());
            found.extend(bot.range_problems());
            for (message, at) in found {
                problems.push(at.map_or_else(
                    || here(message.clone()),
                    |l| here(message.clone()).at_location(l),
                ));
            }
        }
        if let BotConfig::Exec(bot) = &self.config.bot {
            for (message, at) in bot.problems(&self.root) {
                problems.push(match at {
                    Some(at) => here(message).at_location(at),
                    None => here(message),
                });
            }
        }
        if let BotConfig::Http(bot) = &self.config.bot {
            for problem in bot.problems(&self.config_path) {
                problems.push(problem);
            }
        }
        if let Some(judge) = &self.config.judge {
            if !matches!(
                judge.provider,
                ProviderKind::Openai | ProviderKind::Anthropic | ProviderKind::Demo
            ) {
                problems.push(here(
                    "judge.provider must be `openai` (any OpenAI-compatible endpoint), `anthropic` or `demo`"
                        .into(),
                ));
            }
            if judge.provider == ProviderKind::Demo {
                let unused = [
                    ("base_url", judge.base_url.is_some()),
                    ("model", judge.model.is_some()),
                    ("api_key_env", judge.api_key_env.is_some()),
                    ("prompt", judge.prompt.is_some()),
                ];
                for (field, _) in unused.into_iter().filter(|(_, set)| *set) {
                    problems.push(here(format!(
                        "judge.{field} has no use with provider `demo` (the demo judge follows fixed rules: no model, no prompt)"
                    )));
                }
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
        if let Some(expand) = &self.config.expand {
            if !matches!(
                expand.provider,
                ProviderKind::Openai | ProviderKind::Anthropic | ProviderKind::Demo
            ) {
                problems.push(here(
                    "expand.provider must be `openai` (any OpenAI-compatible endpoint), `anthropic` or `demo` (typo drafts by fixed rules)"
                        .into(),
                ));
            }
            // Only `evalgate expand` needs this model: a key that is not set fails that
            // command (cli/expand.rs), never a run or a check in CI. The key check is the
            // one problem `endpoint_problems` places at a line.
            for (message, _) in endpoint_problems("expand", &expand.endpoint())
                .into_iter()
                .filter(|(_, at)| at.is_none())
            {
                problems.push(here(message));
            }
        }
        if let Some(simulator) = &self.config.simulator {
            for (message, at) in simulator.problems() {
                problems.push(at.map_or_else(
                    || here(message.clone()),
                    |l| here(message.clone()).at_location(l),
                ));
            }
        }
        let prompts = [
            ("bot.prompt", self.config.bot.prompt()),
            (
                "judge.prompt",
                self.config.judge.as_ref().and_then(|j| j.prompt.as_ref()),
            ),
            (
                "simulator.prompt",
                self.config
                    .simulator
                    .as_ref()
                    .and_then(|s| s.prompt.as_ref()),
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
            BotConfig::Anthropic(b) => key_from(b.api_key_env.as_ref().map(|v| v.value.as_str())),
            BotConfig::Demo(_) | BotConfig::Exec(_) | BotConfig::Http(_) => None,
        }
    }

    /// Every secret value the config points at (the bot's and the judge's), to be taken
    /// out of everything evalgate writes or prints.
    pub fn secrets(&self) -> crate::secrets::Secrets {
        let judge = self.config.judge.as_ref();
        let names = self
            .config
            .bot
            .secret_envs()
            .into_iter()
            .chain(judge.and_then(|j| j.api_key_env.as_ref().map(|v| v.value.as_str())))
            .chain(
                self.config
                    .expand
                    .as_ref()
                    .and_then(|j| j.api_key_env.as_ref().map(|v| v.value.as_str())),
            )
            .chain(
                self.config
                    .simulator
                    .iter()
                    .flat_map(SimulatorConfig::secret_envs),
            );
        crate::secrets::Secrets::from_env(names)
    }

    /// The key of the model `evalgate expand` uses: the `expand:` block's, else the judge's.
    pub fn expand_api_key(&self) -> Option<String> {
        match &self.config.expand {
            Some(e) => key_from(e.api_key_env.as_ref().map(|v| v.value.as_str())),
            None => self.judge_api_key(),
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

impl Project {
    pub fn simulator_api_key(&self) -> Option<String> {
        key_from(
            self.config
                .simulator
                .as_ref()
                .and_then(|s| s.api_key_env.as_ref().map(|v| v.value.as_str())),
        )
    }
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

impl AnthropicBotConfig {
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
    if e.provider == ProviderKind::Anthropic {
        if e.model.is_none_or(str::is_empty) {
            problems.push((
                format!("{section}.model is required for provider `anthropic`"),
                None,
            ));
        }
        if e.api_key_env.is_none() {
            problems.push((
                format!(
                    "{section}.api_key_env is required for provider `anthropic`: the API refuses requests without a key"
                ),
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

/// The `simulator:` block: which model plays the customer in `simulate:` cases.
/// Any LLM provider, or `demo` (the built-in deterministic customer).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulatorConfig {
    #[schemars(with = "ProviderKind")]
    pub provider: Spanned<ProviderKind>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub base_url: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub model: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub api_key_env: Option<Spanned<String>>,
    /// A customer prompt template overriding the built-in one.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub prompt: Option<Spanned<String>>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default = "default_simulator_timeout_s")]
    pub timeout_s: f64,
    #[serde(default = "default_retries")]
    pub retries: u32,
}

fn default_simulator_timeout_s() -> f64 {
    60.0
}

impl SimulatorConfig {
    pub fn provider(&self) -> ProviderKind {
        self.provider.value
    }

    /// The names of the environment variables whose values are secrets.
    pub fn secret_envs(&self) -> Vec<&str> {
        self.api_key_env.iter().map(|v| v.value.as_str()).collect()
    }

    /// The block as the LLM client builder takes it (the judge's shape), with a connection
    /// for each conversation in flight: every lane waits on its customer.
    pub fn as_llm(&self, concurrency: usize) -> JudgeConfig {
        JudgeConfig {
            provider: self.provider(),
            base_url: self.base_url.as_ref().map(|v| v.value.clone()),
            model: self.model.as_ref().map(|v| v.value.clone()),
            api_key_env: self.api_key_env.clone(),
            prompt: None,
            // A customer who says the same thing every time is what makes repeats comparable.
            temperature: Some(self.temperature.unwrap_or(0.0)),
            max_tokens: self.max_tokens,
            timeout_s: self.timeout_s,
            concurrency: concurrency.max(1),
            retries: self.retries,
            response_format: ResponseFormat::None,
            requests_per_minute: None,
            tokens_per_minute: None,
            calibration: None,
        }
    }

    /// Problems with the block's values, each with its line when known.
    pub(crate) fn problems(&self) -> Vec<(String, Option<serde_saphyr::Location>)> {
        match self.provider() {
            ProviderKind::Openai | ProviderKind::Anthropic => {
                let endpoint = Endpoint {
                    provider: self.provider(),
                    base_url: self.base_url.as_ref().map(|v| v.value.as_str()),
                    model: self.model.as_ref().map(|v| v.value.as_str()),
                    api_key_env: self.api_key_env.as_ref(),
                    timeout_s: self.timeout_s,
                };
                let mut found = endpoint_problems("simulator", &endpoint);
                // A missing field has no line of its own: point at the block's provider.
                for entry in found.iter_mut().filter(|(_, at)| at.is_none()) {
                    entry.1 = Some(self.provider.referenced);
                }
                found
            }
            ProviderKind::Demo => {
                let unused = [
                    ("base_url", self.base_url.as_ref()),
                    ("model", self.model.as_ref()),
                    ("api_key_env", self.api_key_env.as_ref()),
                    ("prompt", self.prompt.as_ref()),
                ];
                unused
                    .into_iter()
                    .filter_map(|(field, value)| {
                        value.map(|v| {
                            (
                                format!(
                                    "simulator.{field} has no use with provider `demo` (the built-in customer needs no model and no prompt)"
                                ),
                                Some(v.referenced),
                            )
                        })
                    })
                    .collect()
            }
            #[allow(unreachable_patterns)]
            other => vec![(
                format!(
                    "simulator.provider `{}` is not an LLM: use `openai`, `anthropic` or `demo`",
                    other.name()
                ),
                Some(self.provider.referenced),
            )],
        }
    }
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

    fn problems(text: &str) -> Vec<Diagnostic> {
        let project = Project {
            config_path: PathBuf::from("evalgate.yaml"),
            root: PathBuf::from("."),
            config: parse(text).unwrap(),
        };
        project.validate().0
    }

    #[test]
    fn anthropic_takes_its_own_fields_with_defaults() {
        let c = parse("bot:\n  provider: anthropic\n  model: claude-x\n  api_key_env: PATH\n  temperature: 0\n  max_tokens: 300\nevalsets: [a]\n").unwrap();
        let BotConfig::Anthropic(bot) = &c.bot else {
            panic!("{:?}", c.bot)
        };
        assert_eq!(bot.max_tokens(), 300);
        assert_eq!(bot.secret_envs(), ["PATH"]);
        assert_eq!(c.bot.base_url(), Some(ANTHROPIC_BASE_URL));
        assert_eq!(c.bot.provider().name(), "anthropic");
        let err = parse(
            "bot:\n  provider: anthropic\n  model: m\n  response_format: none\nevalsets: [a]\n",
        )
        .unwrap_err();
        assert!(
            err.message.contains("unknown field `response_format`"),
            "{err}"
        );
        assert_eq!(err.line, Some(4), "{err}");
    }

    #[test]
    fn anthropic_needs_a_model_and_a_key_and_values_the_api_takes() {
        let found = problems("bot:\n  provider: anthropic\nevalsets: [a]\n");
        let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
        assert!(
            messages.iter().any(|m| m.contains("bot.model is required")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("bot.api_key_env is required")),
            "{messages:?}"
        );
        let found = problems(
            "bot:\n  provider: anthropic\n  model: m\n  api_key_env: EVALGATE_SURELY_UNSET_KEY\n  temperature: 1.5\n  max_tokens: 0\nevalsets: [a]\n",
        );
        let line_of = |needle: &str| {
            found
                .iter()
                .find(|d| d.message.contains(needle))
                .unwrap_or_else(|| panic!("no {needle:?} in {found:?}"))
                .line
        };
        assert_eq!(line_of("EVALGATE_SURELY_UNSET_KEY"), Some(4));
        assert_eq!(line_of("temperature must be between 0 and 1"), Some(5));
        assert_eq!(line_of("max_tokens must be at least 1"), Some(6));
    }

    #[test]
    fn an_expand_key_that_is_not_set_does_not_stop_a_run() {
        let expand = |block: &str| {
            problems(&format!(
                "bot:\n  provider: demo\nexpand:\n{block}evalsets: [a]\n"
            ))
        };
        let unset = expand(
            "  provider: openai\n  base_url: http://x/v1\n  model: m\n  api_key_env: EVALGATE_NO_SUCH_VAR\n",
        );
        assert!(unset.is_empty(), "{unset:?}");
        let no_model = expand("  provider: openai\n  base_url: http://x/v1\n");
        assert!(
            no_model
                .iter()
                .any(|d| d.message.contains("expand.model is required")),
            "{no_model:?}"
        );
        assert!(expand("  provider: demo\n").is_empty());
        let exec = expand("  provider: exec\n");
        assert!(
            exec.iter()
                .any(|d| d.message.contains("expand.provider must be")),
            "{exec:?}"
        );
    }

    #[test]
    fn the_judge_may_be_anthropic_or_the_demo_judge_but_not_a_bot() {
        let judge = |provider: &str| {
            problems(&format!(
                "bot:\n  provider: demo\njudge:\n  provider: {provider}\n  model: claude-x\n  api_key_env: PATH\nevalsets: [a]\n"
            ))
        };
        assert!(judge("anthropic").is_empty(), "{:?}", judge("anthropic"));
        let exec = judge("exec");
        assert!(
            exec.iter().any(|d| d
                .message
                .contains("`openai` (any OpenAI-compatible endpoint), `anthropic` or `demo`")),
            "{exec:?}"
        );
        let demo = judge("demo");
        let messages: Vec<&str> = demo.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "judge.model has no use with provider `demo` (the demo judge follows fixed rules: no model, no prompt)",
                "judge.api_key_env has no use with provider `demo` (the demo judge follows fixed rules: no model, no prompt)"
            ]
        );
        assert!(
            problems("bot:\n  provider: demo\njudge:\n  provider: demo\nevalsets: [a]\n")
                .is_empty()
        );
        let keyless = problems(
            "bot:\n  provider: demo\njudge:\n  provider: anthropic\n  model: claude-x\nevalsets: [a]\n",
        );
        assert!(
            keyless
                .iter()
                .any(|d| d.message.contains("judge.api_key_env is required")),
            "{keyless:?}"
        );
    }
}

#[cfg(test)]
mod simulator_tests {
    use std::path::{Path, PathBuf};

    use crate::config::{Config, Project};

    fn project(simulator: &str) -> Result<Project, String> {
        let text = format!("bot:\n  provider: demo\nevalsets: [a]\n{simulator}");
        let config = Config::parse(Path::new("evalgate.yaml"), &text).map_err(|d| d.to_string())?;
        Ok(Project {
            config_path: PathBuf::from("evalgate.yaml"),
            root: PathBuf::from("."),
            config,
        })
    }

    fn problems(simulator: &str) -> Vec<String> {
        let p = project(simulator).unwrap();
        p.config
            .simulator
            .as_ref()
            .unwrap()
            .problems()
            .into_iter()
            .map(|(m, at)| format!("{}: {m}", at.map_or(0, |l| l.line())))
            .collect()
    }

    #[test]
    fn the_demo_customer_takes_no_model_and_an_llm_needs_one() {
        assert!(problems("simulator:\n  provider: demo\n").is_empty());
        assert_eq!(
            problems("simulator:\n  provider: demo\n  model: gpt\n"),
            [
                "6: simulator.model has no use with provider `demo` (the built-in customer needs no model and no prompt)"
            ]
        );
        let found = problems("simulator:\n  provider: openai\n");
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("5: simulator.model is required")),
            "{found:?}"
        );
        let err = project("simulator:\n  provider: openai\n  modle: x\n").unwrap_err();
        assert!(
            err.contains("evalgate.yaml:6") && err.contains("modle"),
            "{err}"
        );
    }

    #[test]
    fn the_simulator_key_is_a_secret_of_the_project() {
        let p = project("simulator:\n  provider: openai\n  base_url: http://x\n  model: m\n  api_key_env: PATH\n").unwrap();
        let simulator = p.config.simulator.as_ref().unwrap();
        assert_eq!(simulator.secret_envs(), ["PATH"]);
        let path = std::env::var("PATH").unwrap();
        let secrets = p.secrets();
        assert_eq!(
            secrets.redact(&format!("echo {path}")),
            "echo [redacted:PATH]"
        );
    }
}
