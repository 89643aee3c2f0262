//! Loading a project for a command: config, eval sets and prompt, with every problem
//! printed once and turned into exit 2.

use std::path::Path;

use crate::config::Project;
use crate::diagnostic::Diagnostics;
use crate::evalset::{Suite, find_files, load_suite};
use crate::exit::Failure;
use crate::prompt::PromptTemplate;

pub struct Loaded {
    pub project: Project,
    pub suite: Suite,
    pub prompt: Option<PromptTemplate>,
}

/// Loads everything a run needs, renders the prompt for every case once (so a template
/// error is found before anything is sent) and reports all problems together. Only the
/// cases of small suites stay in memory; see [`crate::evalset::Suite::cases`].
pub fn load(config_path: &Path) -> Result<Loaded, Failure> {
    if !config_path.exists() {
        return Err(Failure::bad_input(format!(
            "{}: no such config file (pass --config FILE, or run from the folder that holds evalgate.yaml)",
            config_path.display()
        )));
    }
    let project = Project::load(config_path).map_err(|p| Failure::problems(&p))?;
    let mut problems = Diagnostics::default();
    let prompt = match project.prompt_path() {
        Some(path) if path.is_file() => match PromptTemplate::load(&path) {
            Ok(p) => Some(p),
            Err(d) => {
                problems.push(d);
                None
            }
        },
        _ => None,
    };
    let suite = match find_files(
        &project.root,
        &project.config.evalsets,
        &project.config_path,
    )
    .and_then(|files| {
        // The prompt must render for every case before anything is sent.
        let has_simulator = project.config.simulator.is_some();
        let render = |case: &crate::evalset::Case| {
            if case.simulate.is_some() && !has_simulator {
                return Err(crate::diagnostic::Diagnostic::new(
                    &case.source,
                    format!(
                        "case `{}` is simulated, but {} has no `simulator:` block to play the customer (add `simulator: {{ provider: demo }}`, or an LLM)",
                        case.id,
                        project.config_path.display()
                    ),
                )
                .at(case.line, 0));
            }
            prompt
                .as_ref()
                .map_or(Ok(()), |p| p.render(case).map(|_| ()))
        };
        load_suite(&files, Some(&render))
    }) {
        Ok(s) => s,
        Err(d) => {
            problems.extend(d);
            Suite::default()
        }
    };
    problems
        .into_result(())
        .map_err(|p| Failure::problems(&p))?;
    Ok(Loaded {
        project,
        suite,
        prompt,
    })
}
