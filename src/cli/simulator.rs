//! The customer simulator the config names, built before anything is sent.

use std::sync::Arc;

use crate::config::{Project, ProviderKind};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::evalset::Suite;
use crate::exit::Failure;
use crate::simulator::Simulator;

/// The simulator of the `simulator:` block, if there is one, for `concurrency` lanes.
pub fn build_simulator(
    project: &Project,
    concurrency: usize,
) -> Result<Option<Simulator>, Failure> {
    let Some(cfg) = &project.config.simulator else {
        return Ok(None);
    };
    let at = |message: String| Failure::from(Diagnostic::new(&project.config_path, message));
    if cfg.provider() == ProviderKind::Demo {
        return Ok(Some(Simulator::demo()));
    }
    let client = crate::provider::build_llm(&cfg.as_llm(concurrency), project.simulator_api_key())
        .map_err(|m| at(format!("simulator: {m}")))?;
    let client = Arc::new(crate::provider::Redacting {
        inner: client,
        secrets: Arc::new(project.secrets()),
    });
    let prompt = match &cfg.prompt {
        Some(p) => {
            let path = project.resolve(&p.value);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Failure::from(Diagnostic::new(
                    &path,
                    format!("cannot read simulator prompt: {e}"),
                ))
            })?;
            Some((text, path))
        }
        None => None,
    };
    let model = cfg
        .model
        .as_ref()
        .map(|m| m.value.clone())
        .unwrap_or_default();
    Simulator::llm(client, model, prompt, cfg.retries)
        .map(Some)
        .map_err(Failure::from)
}

/// Renders the simulator's prompt for every simulated case, so a template that fails on
/// some case (a variable it does not have) is found before anything is sent.
pub fn check_prompt(simulator: &Simulator, suite: &Suite) -> Result<(), Failure> {
    if !simulator.has_custom_prompt() {
        return Ok(());
    }
    let mut problems = Diagnostics::default();
    for case in suite.cases() {
        let case = case.map_err(|p| Failure::problems(&p))?;
        if let Some(simulation) = &case.simulate
            && let Err(message) = simulator.render(&case, simulation)
        {
            problems.push(
                Diagnostic::new(&case.source, format!("case `{}`: {message}", case.id))
                    .at(case.line, 0),
            );
        }
    }
    problems.into_result(()).map_err(|p| Failure::problems(&p))
}
