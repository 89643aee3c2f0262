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

#[cfg(test)]
mod tests {
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
                "6: simulator.model has no use with provider `demo` (the built-in customer needs no model)"
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
        assert_eq!(simulator.model_name(), "m");
        let path = std::env::var("PATH").unwrap();
        let secrets = p.secrets();
        assert_eq!(
            secrets.redact(&format!("echo {path}")),
            "echo [redacted:PATH]"
        );
    }
}
