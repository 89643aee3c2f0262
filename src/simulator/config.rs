//! The `simulator:` block of `evalgate.yaml`: which model plays the customer.

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::config::{Endpoint, JudgeConfig, ProviderKind, ResponseFormat, endpoint_problems};

/// Any LLM provider, or `demo` (the built-in deterministic customer).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorConfig {
    pub provider: Spanned<ProviderKind>,
    #[serde(default)]
    pub base_url: Option<Spanned<String>>,
    #[serde(default)]
    pub model: Option<Spanned<String>>,
    #[serde(default)]
    pub api_key_env: Option<Spanned<String>>,
    /// A customer prompt template overriding the built-in one.
    #[serde(default)]
    pub prompt: Option<Spanned<String>>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default = "default_timeout_s")]
    pub timeout_s: f64,
    #[serde(default = "default_retries")]
    pub retries: u32,
}

fn default_timeout_s() -> f64 {
    60.0
}
fn default_retries() -> u32 {
    3
}

impl SimulatorConfig {
    pub fn provider(&self) -> ProviderKind {
        self.provider.value
    }

    /// The names of the environment variables whose values are secrets.
    pub fn secret_envs(&self) -> Vec<&str> {
        self.api_key_env.iter().map(|v| v.value.as_str()).collect()
    }

    /// The model the summary records: the LLM's, or the built-in customer's.
    pub fn model_name(&self) -> String {
        match self.provider() {
            ProviderKind::Demo => crate::simulator::demo::MODEL.to_string(),
            _ => self
                .model
                .as_ref()
                .map(|m| m.value.clone())
                .unwrap_or_default(),
        }
    }

    /// The block as the LLM client builder takes it (the judge's shape).
    pub fn as_llm(&self) -> JudgeConfig {
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
            concurrency: 4,
            retries: self.retries,
            response_format: ResponseFormat::None,
            requests_per_minute: None,
            tokens_per_minute: None,
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
                ];
                unused
                    .into_iter()
                    .filter_map(|(field, value)| {
                        value.map(|v| {
                            (
                                format!(
                                    "simulator.{field} has no use with provider `demo` (the built-in customer needs no model)"
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
