//! `evalgate init [DIR]`: a new project that runs out of the box on the demo bot, to be
//! edited into the real one: config, an English eval set of wave 1 (62 cases, 20 of them
//! benign twins), the support prompt, the judge's prompt and a launch gate. With
//! `--ci github|gitlab`, also the workflow that runs it on every pull/merge request of the
//! team's repository (alone, in a folder that already holds a project).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::{CiProvider, InitBot};
use crate::exit::{Failure, Outcome};
use crate::schema::SchemaFile;

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

const CONFIG: &str = "# yaml-language-server: $schema=schemas/evalgate.schema.json
# evalgate project config. Runs as is on the built-in demo bot; point `bot` at yours:
#   provider: openai, base_url, model, api_key_env (the key is read from that env var).
bot:
  provider: demo
  prompt: prompts/support.md.j2
  handoff:
    tool: escalate_to_human
    markers: [\"[HANDOFF]\"]
evalsets: [\"evalsets/**/*.yaml\"]
refusal:                      # how the bot declines: without a judge, a benign request it
  markers:                    #   refuses counts as over-refusal, not as a deflection
    [\"I'm sorry, but I can't\", \"Leider kann ich\", \"Das kann ich leider nicht\", \"Tyvärr kan jag inte\", \"Niestety nie mogę\", \"Lo siento, pero no puedo\"]
gate: gates/launch.yaml
run:
  concurrency: 16
  repeats: 1
  retries: 3
simulator:                    # plays the customer in `simulate:` cases
  provider: demo              # the built-in customer; or an LLM (openai, anthropic)
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

/// Where a project sits in its git repository: the workflow goes to the repository's
/// root, and names the project's folder.
struct Placement {
    repo_root: PathBuf,
    /// The project's folder relative to the repository root; `None` at the root.
    folder: Option<String>,
}

/// The git repository around `project` (the nearest folder above with a `.git`), or the
/// project folder itself when it is in none yet.
fn placement(project: &Path) -> Result<Placement, Failure> {
    let at_root = || Placement {
        repo_root: project.to_path_buf(),
        folder: None,
    };
    let Ok(absolute) = std::fs::canonicalize(project) else {
        return Ok(at_root());
    };
    let Some(repo_root) = absolute.ancestors().find(|a| a.join(".git").exists()) else {
        return Ok(at_root());
    };
    let relative = absolute.strip_prefix(repo_root).unwrap_or(Path::new(""));
    if relative.as_os_str().is_empty() {
        return Ok(at_root());
    }
    let folder = relative
        .to_str()
        .filter(|f| {
            f.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
        })
        .ok_or_else(|| {
            Failure::bad_input(format!(
                "the project folder {} has characters a CI path filter cannot hold; use letters, digits, `.`, `_`, `-` and `/`",
                relative.display()
            ))
        })?;
    Ok(Placement {
        repo_root: repo_root.to_path_buf(),
        folder: Some(folder.to_string()),
    })
}

/// The workflow for a project in `folder` of its repository: path filters, the working
/// directory and the artifact paths name the folder. Lines are rewritten by their shape
/// in the templates, which a test runs in a subfolder.
fn in_folder(ci: CiProvider, template: &str, folder: &str) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut in_filters = false;
    for line in template.lines() {
        let trimmed = line.trim_start();
        let rewritten = match ci {
            CiProvider::Github => {
                if line == "    paths:" {
                    in_filters = true;
                } else if !trimmed.starts_with("- ") {
                    in_filters = false;
                }
                if in_filters && trimmed.starts_with("- \"") && !trimmed.contains(".github/") {
                    Some(line.replacen("- \"", &format!("- \"{folder}/"), 1))
                } else if trimmed.starts_with("working-directory: .") {
                    Some(line.replacen(
                        "working-directory: .",
                        &format!("working-directory: {folder}"),
                        1,
                    ))
                } else if trimmed.starts_with("reports/") && line.starts_with("            ") {
                    Some(line.replacen("reports/", &format!("{folder}/reports/"), 1))
                } else {
                    None
                }
            }
            CiProvider::Gitlab => {
                if trimmed == "changes:" || trimmed == "paths:" {
                    in_filters = true;
                } else if !trimmed.starts_with("- ") {
                    in_filters = false;
                }
                if in_filters
                    && trimmed.starts_with("- ")
                    && !trimmed.starts_with("- .gitlab-ci.yml")
                {
                    Some(line.replacen("- ", &format!("- {folder}/"), 1))
                } else if trimmed.starts_with("EVALGATE_PROJECT: \".\"") {
                    Some(line.replacen("\".\"", &format!("\"{folder}\""), 1))
                } else if trimmed.starts_with("junit: reports/")
                    || trimmed.starts_with("paths: [reports/")
                {
                    Some(line.replacen("reports/", &format!("{folder}/reports/"), 1))
                } else {
                    None
                }
            }
        };
        out.push_str(rewritten.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

pub fn run(dir: Option<&Path>, ci: Option<CiProvider>, bot: InitBot) -> Result<Outcome, Failure> {
    let root = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    // `--ci` in a folder that already holds a project adds the workflow and nothing else.
    let adopting = ci.is_some() && root.join("evalgate.yaml").exists();
    let mut planned: Vec<(PathBuf, Cow<'static, str>)> = if adopting {
        Vec::new()
    } else {
        let mut files: Vec<(PathBuf, Cow<'static, str>)> = files(bot)
            .iter()
            .map(|&(p, text)| (root.join(p), Cow::Borrowed(text)))
            .collect();
        // The YAML files name these on their first line, for editors that check as a PM
        // types; in the project itself, so that works offline.
        files.extend(SchemaFile::ALL.iter().map(|kind| {
            let path = root.join(crate::schema::DEFAULT_DIR).join(kind.file_name());
            (path, Cow::Owned(kind.text()))
        }));
        files
    };
    if let Some(ci) = ci {
        let (relative, template) = workflow(ci);
        let placed = placement(&root)?;
        let text = match &placed.folder {
            Some(folder) => Cow::Owned(in_folder(ci, template, folder)),
            None => Cow::Borrowed(template),
        };
        planned.push((placed.repo_root.join(relative), text));
    }
    let existing: Vec<&PathBuf> = planned
        .iter()
        .map(|(p, _)| p)
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
    for (path, text) in &planned {
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(path, text.as_bytes()));
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
    if let Some((ci, (workflow_path, _))) = ci.zip(planned.last()) {
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
            workflow_path.display()
        );
    }
    Ok(Outcome::Passed)
}
