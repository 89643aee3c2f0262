//! `evalgate init [DIR]`: a new project that runs out of the box on the demo bot, to be
//! edited into the real one: config, an English eval set of wave 1 (40 cases), the
//! support prompt, the judge's prompt and a launch gate. With `--ci github|gitlab`, also the
//! workflow that runs it on every pull/merge request of the team's repository (alone, in a
//! folder that already holds a project).

use std::path::{Path, PathBuf};

use super::{CiProvider, InitBot};
use crate::exit::{Failure, Outcome};

/// The GitHub Actions workflow `init --ci github` writes.
const GITHUB_WORKFLOW: &str = include_str!("../../templates/github-workflow.yml");
/// The GitLab CI file `init --ci gitlab` writes.
const GITLAB_CI: &str = include_str!("../../templates/gitlab-ci.yml");

/// Where a CI provider's workflow goes, relative to the repository's root, and its text.
fn workflow(ci: CiProvider) -> (&'static str, &'static str) {
    match ci {
        CiProvider::Github => (".github/workflows/evalgate.yml", GITHUB_WORKFLOW),
        CiProvider::Gitlab => (".gitlab-ci.yml", GITLAB_CI),
    }
}

const CONFIG: &str =
    "# evalgate project config. Runs as is on the built-in demo bot; point `bot` at yours:
#   provider: openai, base_url, model, api_key_env (the key is read from that env var).
bot:
  provider: demo
  prompt: prompts/support.md.j2
  handoff:
    tool: escalate_to_human
    markers: [\"[HANDOFF]\"]
evalsets: [\"evalsets/**/*.yaml\"]
gate: gates/launch.yaml
run:
  concurrency: 16
  repeats: 1
  retries: 3
# judge:                      # optional: an LLM judge for rubric criteria and outcomes
#   provider: openai
#   base_url: https://api.openai.com/v1
#   model: gpt-4o-mini
#   api_key_env: JUDGE_API_KEY
";

/// The config of `init --provider http`: a bot behind HTTP, every field commented.
const HTTP_CONFIG: &str = include_str!("../../templates/evalgate-http.yaml");

const GATE: &str = include_str!("../../gates/launch.yaml");

/// The files a new project starts with, relative to its folder.
fn files(bot: InitBot) -> [(&'static str, &'static str); 5] {
    let config = match bot {
        InitBot::Demo => CONFIG,
        InitBot::Http => HTTP_CONFIG,
    };
    [
        ("evalgate.yaml", config),
        (
            "evalsets/support/en.yaml",
            include_str!("../../evalsets/support/en.yaml"),
        ),
        (
            "prompts/support.md.j2",
            include_str!("../../prompts/support.md.j2"),
        ),
        ("prompts/judge/rubric.j2", crate::judge::DEFAULT_PROMPT),
        ("gates/launch.yaml", GATE),
    ]
}

pub fn run(dir: Option<&Path>, ci: Option<CiProvider>, bot: InitBot) -> Result<Outcome, Failure> {
    let root = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    // `--ci` in a folder that already holds a project adds the workflow and nothing else.
    let adopting = ci.is_some() && root.join("evalgate.yaml").exists();
    let mut planned: Vec<(&str, &str)> = if adopting {
        Vec::new()
    } else {
        files(bot).to_vec()
    };
    planned.extend(ci.map(workflow));
    let existing: Vec<PathBuf> = planned
        .iter()
        .map(|(p, _)| root.join(p))
        .filter(|p| p.exists())
        .collect();
    if !existing.is_empty() {
        let listed: Vec<String> = existing
            .iter()
            .map(|p| format!("{} already exists", p.display()))
            .collect();
        return Err(Failure::bad_input(format!(
            "{}\nnothing was written; remove those files or choose another folder",
            listed.join("\nerror: ")
        )));
    }
    for &(relative, text) in &planned {
        let path = root.join(relative);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        if let Err(e) = written {
            return Err(Failure::internal(format!(
                "cannot write {}: {e}",
                path.display()
            )));
        }
        println!("wrote {}", path.display());
    }
    if !adopting && bot == InitBot::Http {
        println!(
            "\nNext: `evalgate demo-bot --protocol session &` (the demo bot as a conversation API on 127.0.0.1:8787), then `evalgate check` and `evalgate run`; then point the URLs and expressions of `bot:` in {} at your bot.",
            root.join("evalgate.yaml").display()
        );
    } else if !adopting {
        println!(
            "\nNext: `evalgate check` (coverage), `evalgate run` (the demo bot), then point `bot:` in {} at your bot and add a file per language under evalsets/.",
            root.join("evalgate.yaml").display()
        );
    }
    if let Some(ci) = ci {
        let (relative, _) = workflow(ci);
        let (edit, requests) = match ci {
            CiProvider::Github => (
                "where evalgate comes from, the secret with your bot's API key",
                "Pull requests",
            ),
            CiProvider::Gitlab => (
                "where evalgate comes from; add your bot's API key and GITLAB_TOKEN as masked CI/CD variables",
                "Merge requests",
            ),
        };
        println!(
            "\nCI: edit the lines marked EDIT in {} ({edit}), then commit it with a baseline: \
`evalgate run --out reports/first && evalgate baseline accept reports/first && git add reports/baseline`. \
{requests} are judged against the base branch's reports/baseline/.",
            root.join(relative).display()
        );
    }
    Ok(Outcome::Passed)
}
