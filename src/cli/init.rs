//! `evalgate init [DIR]`: a new project that runs out of the box on the demo bot, to be
//! edited into the real one: config, an English eval set of wave 1 (40 cases), the
//! support prompt, the judge's prompt and a launch gate.

use std::path::{Path, PathBuf};

use crate::exit::{Failure, Outcome};

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

const GATE: &str = include_str!("../../gates/launch.yaml");

/// The files a new project starts with, relative to its folder.
fn files() -> [(&'static str, &'static str); 5] {
    [
        ("evalgate.yaml", CONFIG),
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

pub fn run(dir: Option<&Path>) -> Result<Outcome, Failure> {
    let root = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let existing: Vec<PathBuf> = files()
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
    for (relative, text) in files() {
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
    println!(
        "\nNext: `evalgate check` (coverage), `evalgate run` (the demo bot), then point `bot:` in {} at your bot and add a file per language under evalsets/.",
        root.join("evalgate.yaml").display()
    );
    Ok(Outcome::Passed)
}
