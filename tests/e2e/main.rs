//! End-to-end tests: the real `evalgate` binary against real servers on 127.0.0.1.

#![allow(clippy::unwrap_used)]

mod actions;
mod adoption;
mod anthropic;
mod bad_input;
mod calibrate;
mod demo;
mod drafts;
mod exec_bot;
mod faults;
mod fuzz;
mod html;
mod http_bot;
mod judge;
mod judge_trust;
mod label;
mod monitor;
mod over_refusal;
mod real_llm;
mod regression;
mod reports;
mod robustness;
mod schema;
mod shard;
mod simulated;
mod stub;
mod verdict;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

/// A throwaway project folder, removed when dropped.
pub struct TempProject {
    pub dir: PathBuf,
}

impl Default for TempProject {
    fn default() -> Self {
        Self::new()
    }
}

impl TempProject {
    pub fn new() -> TempProject {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "evalgate-e2e-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("evalsets")).expect("temp dir");
        TempProject { dir }
    }

    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write");
        path
    }

    pub fn evalgate(&self, args: &[&str]) -> Output {
        evalgate_in(&self.dir, args)
    }
}

impl Drop for TempProject {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn evalgate_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(args)
        .current_dir(dir)
        .env_remove("EVALGATE_TEST_KEY")
        .output()
        .expect("run evalgate")
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every line of a run's results.jsonl, parsed.
pub fn results(run_dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(run_dir.join("results.jsonl")).expect("results.jsonl");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("result line is JSON"))
        .collect()
}

pub fn summary(run_dir: &Path) -> Value {
    let text = std::fs::read_to_string(run_dir.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("summary is JSON")
}

pub fn result_for<'a>(results: &'a [Value], key: &str) -> &'a Value {
    let matching: Vec<&Value> = results.iter().filter(|r| r["key"] == key).collect();
    assert_eq!(matching.len(), 1, "{key} should appear exactly once");
    matching[0]
}

/// Every result's (key, passed, observed outcome), sorted: what two runs must agree on.
pub fn verdicts(run_dir: &Path) -> Vec<(String, bool, String)> {
    let mut v: Vec<(String, bool, String)> = results(run_dir)
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap_or_default().to_string(),
                r["passed"].as_bool().unwrap_or_default(),
                r["observed_outcome"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// An English eval set of `n` routine cases `c0000`, `c0001`, … whose user text is
/// `text(i)`; the stub's answer ("… ships on 28 November") passes them.
pub fn routine_cases(n: usize, text: impl Fn(usize) -> String) -> String {
    let mut s = String::from("language: en\ncases:\n");
    for i in 0..n {
        s += &format!(
            "  - id: c{i:04}\n    stratum: routine\n    turns:\n      - user: \"{}\"\n    expect:\n      outcome: resolve\n      language: any\n      must_include: [\"28 November\"]\n",
            text(i)
        );
    }
    s
}

/// A project on the shipped eval sets with the demo bot and the prompt `prompt` (a file in
/// prompts/), held to the shipped launch gate when `gate`.
pub fn shipped_demo_project(prompt: &str, gate: bool) -> TempProject {
    let p = TempProject::new();
    let root = repo_root();
    let gate = if gate {
        format!("gate: {}\n", root.join("gates/launch.yaml").display())
    } else {
        String::new()
    };
    p.write(
        "evalgate.yaml",
        &format!(
            "bot:\n  provider: demo\n  prompt: {}\nevalsets: [\"{}/evalsets/**/*.yaml\"]\nsimulator:\n  provider: demo\n{gate}",
            root.join("prompts").join(prompt).display(),
            root.display(),
        ),
    );
    p
}

/// Starts `evalgate run --out OUT --quiet EXTRA…` in `p` and returns once it has written
/// `lines` results (or 20 s passed), its output piped.
pub fn start_run(p: &TempProject, out: &str, extra: &[&str], lines: usize) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["run", "--out", out, "--quiet"])
        .args(extra)
        .current_dir(&p.dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start evalgate");
    let results = p.dir.join(out).join("results.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        let written = std::fs::read_to_string(&results)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if written >= lines {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}

/// Sends a signal (`-INT`, `-KILL`, …) to a child process.
pub fn signal(child: &std::process::Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Asserts a command's exit code, showing everything it printed when it differs.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}

/// `evalgate demo-bot ARGS --port 0` on a free port; killed when dropped, and stops by
/// itself after five minutes anyway.
pub struct DemoServer {
    child: Child,
    pub port: u16,
    /// The address the banner names: `http://127.0.0.1:<port>/v1` for the OpenAI protocol,
    /// `http://127.0.0.1:<port>` for the others.
    pub base_url: String,
    /// The line it printed on start.
    pub banner: String,
}

impl DemoServer {
    /// The demo bot over `protocol` (`openai`, `anthropic`, `rasa`, `session`).
    pub fn protocol(protocol: &str) -> DemoServer {
        DemoServer::start(&["--protocol", protocol])
    }

    /// `args` go after `demo-bot`; the port and the stop are evalgate's own.
    pub fn start(args: &[&str]) -> DemoServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_evalgate"))
            .arg("demo-bot")
            .args(args)
            .args(["--port", "0", "--stop-after", "300"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start demo bot");
        let mut banner = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut banner)
            .expect("banner");
        let base_url = banner
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("the banner names no address: {banner}"))
            .to_string();
        let port = base_url["http://127.0.0.1:".len()..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the banner names no port: {banner}"));
        DemoServer {
            child,
            port,
            base_url,
            banner,
        }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's chromium, or EVALGATE_CHROMIUM. CI sets EVALGATE_REQUIRE_BROWSER so a missing
/// browser fails instead of skipping.
/// The browser for a test's browser half; without one the half is skipped with a note,
/// unless `EVALGATE_REQUIRE_BROWSER` is set (CI), where a missing browser fails the test.
pub fn chromium() -> Option<PathBuf> {
    let found = match std::env::var_os("EVALGATE_CHROMIUM") {
        Some(p) => Some(PathBuf::from(p)),
        None => ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file()),
    };
    if found.is_none() {
        assert!(
            std::env::var_os("EVALGATE_REQUIRE_BROWSER").is_none(),
            "chromium is required here but missing"
        );
        eprintln!("skipped the browser half: no chromium (apt-get install chromium)");
    }
    found
}

pub fn headless(browser: &Path, profile: &Path, args: &[&str]) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run chromium")
}

/// Whether shellcheck is installed. CI installs it and sets EVALGATE_REQUIRE_SHELLCHECK,
/// so there a check cannot pass by being skipped.
pub fn has_shellcheck() -> bool {
    let installed = Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        installed || std::env::var_os("EVALGATE_REQUIRE_SHELLCHECK").is_none(),
        "shellcheck is required here but not installed"
    );
    installed
}

/// Fails the test with shellcheck's findings on a CI step's script, read as `dialect`
/// (`bash` or `sh`) with GitHub's `${{ … }}` expressions replaced; skipped without
/// shellcheck (see [`has_shellcheck`]).
pub fn shellcheck(dialect: &str, name: &str, script: &str) {
    use std::io::Write;
    if !has_shellcheck() {
        return;
    }
    let expr = regex::Regex::new(r"\$\{\{[^}]*\}\}").unwrap();
    let options = if dialect == "bash" {
        "-eo pipefail"
    } else {
        "-e"
    };
    let text = format!(
        "#!/usr/bin/env {dialect}\nset {options}\n{}\n",
        expr.replace_all(script, "EXPR")
    );
    let mut child = Command::new("shellcheck")
        .args(["-s", dialect, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{name}:\n{}", stdout(&out));
}
