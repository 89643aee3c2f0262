//! The `exec` bot's section: a local program evalgate starts and talks to in JSON lines.
//! Its checks look at the disk, so a mistyped script path is an error at its line before
//! anything runs, not one "process exited" result per case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::{HandoffConfig, ProviderKind, default_timeout_s};

/// A local program as the bot: started once per concurrency lane, one JSON line per turn.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecBotConfig {
    pub provider: ProviderKind,
    /// The program and its arguments, e.g. `["python3", "bots/bot.py"]`; it runs in the
    /// config file's folder.
    #[schemars(with = "Vec<String>")]
    pub command: Spanned<Vec<String>>,
    /// Added to the environment evalgate inherits.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// How long one turn may take, writing the line included.
    #[serde(default = "default_timeout_s")]
    pub timeout_s: f64,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub prompt: Option<Spanned<String>>,
    #[serde(default)]
    pub handoff: HandoffConfig,
    #[serde(default)]
    pub version: Option<String>,
}

/// Arguments with these extensions are taken for script files the program is to run, so
/// they must exist; any other argument is the program's business.
const SCRIPT_EXTENSIONS: [&str; 11] = [
    "py", "js", "mjs", "cjs", "ts", "rb", "sh", "pl", "php", "jar", "lua",
];

impl ExecBotConfig {
    /// The program to start. A path with a folder in it is relative to the config file's
    /// folder (`root`); a bare name is looked up on `PATH` when started.
    pub fn program(&self, root: &Path) -> Option<PathBuf> {
        let program = self.command.value.first()?;
        Some(if has_folder(program) {
            absolute(&root.join(program))
        } else {
            PathBuf::from(program)
        })
    }

    /// The program's arguments, as written.
    pub fn args(&self) -> &[String] {
        self.command.value.get(1..).unwrap_or_default()
    }

    /// The env vars that hold secrets for this bot: none, since `env` values are written
    /// in the file itself.
    pub fn secret_envs(&self) -> Vec<&str> {
        Vec::new()
    }

    /// Problems found on disk or in the values, each at the line of `command` where that
    /// helps. `root` is the config file's folder, where the program runs.
    pub fn problems(&self, root: &Path) -> Vec<(String, Option<Location>)> {
        let at = Some(self.command.referenced);
        let mut problems = Vec::new();
        let Some(program) = self.command.value.first() else {
            problems.push((
                "bot.command must name the program to run, e.g. [\"python3\", \"bot.py\"]".into(),
                at,
            ));
            return problems;
        };
        if program.is_empty() {
            problems.push(("bot.command: the program name is empty".into(), at));
        } else if has_folder(program) {
            let path = root.join(program);
            if !path.is_file() {
                problems.push((
                    format!("bot.command: the program {} does not exist", path.display()),
                    at,
                ));
            }
        } else if !on_path(program) {
            problems.push((format!("bot.command: `{program}` is not found on PATH"), at));
        }
        for arg in self.args() {
            let path = Path::new(arg);
            let script = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| SCRIPT_EXTENSIONS.contains(&e));
            if script && path.is_relative() && !arg.starts_with('-') && !root.join(path).is_file() {
                problems.push((
                    format!(
                        "bot.command: the script {} does not exist",
                        root.join(path).display()
                    ),
                    at,
                ));
            }
        }
        if !(self.timeout_s > 0.0 && self.timeout_s.is_finite()) {
            problems.push((
                "bot.timeout_s must be a positive number of seconds".into(),
                None,
            ));
        }
        problems
    }
}

fn has_folder(program: &str) -> bool {
    Path::new(program).components().count() > 1 || Path::new(program).is_absolute()
}

/// `std::process::Command` leaves a relative program path ambiguous once the working
/// directory is set; an absolute one is not.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether a bare program name is a file in one of the `PATH` folders.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BotConfig, Config};
    use crate::test_support::TempDir;

    fn exec_config(bot: &str) -> ExecBotConfig {
        let text = format!("bot:\n  provider: exec\n{bot}evalsets: [a]\n");
        match Config::parse(Path::new("evalgate.yaml"), &text)
            .unwrap()
            .bot
        {
            BotConfig::Exec(b) => b,
            other => panic!("not an exec bot: {other:?}"),
        }
    }

    #[test]
    fn an_empty_command_is_an_error_at_its_line() {
        let bot = exec_config("  timeout_s: 5\n  command: []\n");
        let problems = bot.problems(Path::new("."));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].0.contains("must name the program"));
        assert_eq!(problems[0].1.map(|l| l.line()), Some(4));
    }

    #[test]
    fn a_missing_script_or_program_is_an_error_and_a_present_one_is_not() {
        let dir = TempDir::new("exec-config");
        std::fs::create_dir_all(dir.join("bots")).unwrap();
        std::fs::write(dir.join("bots/bot.py"), "").unwrap();
        let ok = exec_config("  command: [\"python3\", \"bots/bot.py\", \"--mode=x.py\"]\n");
        assert_eq!(ok.problems(&dir), vec![]);
        assert_eq!(ok.args(), ["bots/bot.py", "--mode=x.py"]);
        assert_eq!(ok.program(&dir), Some(PathBuf::from("python3")));

        let typo = exec_config("  command: [\"python3\", \"bots/bto.py\"]\n");
        let problems = typo.problems(&dir);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].0.contains("bto.py does not exist"),
            "{problems:?}"
        );

        let local = exec_config("  command: [\"bots/run\"]\n");
        assert!(local.problems(&dir)[0].0.contains("does not exist"));
        assert!(local.program(&dir).unwrap().is_absolute());

        let unknown = exec_config("  command: [\"no-such-program-evalgate\"]\n");
        assert!(unknown.problems(&dir)[0].0.contains("not found on PATH"));
    }

    #[test]
    fn fields_of_other_providers_are_refused_and_timeouts_checked() {
        let err = Config::parse(
            Path::new("evalgate.yaml"),
            "bot:\n  provider: exec\n  command: [a]\n  base_url: http://x\nevalsets: [a]\n",
        )
        .unwrap_err();
        assert!(err.message.contains("unknown field `base_url`"), "{err}");
        assert_eq!(err.line, Some(4));
        let bot = exec_config("  command: [\"python3\"]\n  timeout_s: 0\n");
        assert!(
            bot.problems(Path::new("."))
                .iter()
                .any(|(m, _)| m.contains("timeout_s"))
        );
        assert!(bot.secret_envs().is_empty());
    }
}
