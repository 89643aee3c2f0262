//! Never lose a result, never leak a secret: exact accounting under faults, resume after
//! SIGINT and SIGKILL, secrets kept out of every file written, hostile input refused
//! cleanly.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{
    TempProject, assert_exit, results, routine_cases as cases, signal, start_run, stderr, stdout,
    stub, summary, verdicts,
};

fn config(base_url: &str, extra_bot: &str, extra_run: &str) -> String {
    format!(
        "bot:\n  provider: openai\n  base_url: {base_url}\n  model: stub\n  timeout_s: 1\n{extra_bot}evalsets: [\"evalsets/*.yaml\"]\nrun:\n  concurrency: 16\n  retries: 2\n{extra_run}"
    )
}

fn keys(dir: &Path) -> Vec<String> {
    results(dir)
        .iter()
        .map(|r| format!("{}#{}", r["key"].as_str().unwrap(), r["repeat"]))
        .collect()
}

#[test]
fn exact_accounting_under_faults() {
    let stub = stub::start();
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        &config(&stub.base_url, "", "  max_error_rate: 1\n"),
    );
    let fault = |i: usize| match i % 10 {
        0 => "[[500]]",
        1 => "[[429-once]]",
        2 => "[[garbage]]",
        3 => "[[reset]]",
        4 => "[[truncated]]",
        5 => "[[400]]",
        _ => "",
    };
    p.write(
        "evalsets/en.yaml",
        &cases(300, |i| format!("{} question {i}", fault(i))),
    );
    let out = p.evalgate(&["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 0);
    let rs = results(&p.dir.join("run"));
    let ks = keys(&p.dir.join("run"));
    assert_eq!(ks.len(), 300, "every case exactly once");
    assert_eq!(
        ks.iter().collect::<HashSet<_>>().len(),
        300,
        "no duplicates"
    );
    let errors = rs
        .iter()
        .filter(|r| r["observed_outcome"] == "error")
        .count();
    assert_eq!(
        errors,
        30 * 5,
        "500, garbage, reset, truncated and 400 end as errors"
    );
    let passed = rs.iter().filter(|r| r["passed"] == true).count();
    assert_eq!(passed, 30 * 5, "the rest pass, 429-once after one retry");
    for r in &rs {
        let key = r["key"].as_str().unwrap();
        let i: usize = key.trim_start_matches("en/c").parse().unwrap();
        let attempts = r["attempts"].as_u64().unwrap();
        let expected = match i % 10 {
            0 | 3 | 4 => 3,
            1 => 2,
            _ => 1,
        };
        assert_eq!(attempts, expected, "{key}: {r}");
    }
    let s = summary(&p.dir.join("run"));
    assert_eq!(s["by_language"]["en"]["errors"], 150);
    assert_eq!(s["by_language"]["en"]["error_rate"], 0.5);
}

#[test]
fn interrupted_and_killed_runs_resume_to_the_same_results() {
    let stub = stub::start();
    let p = TempProject::new();
    p.write("evalgate.yaml", &config(&stub.base_url, "", ""));
    p.write(
        "evalsets/en.yaml",
        &cases(80, |i| {
            if i % 3 == 0 {
                format!("[[slow]] q{i}")
            } else {
                format!("[[slow]] [[marker]] q{i}")
            }
        }),
    );

    let whole = p.evalgate(&["run", "--out", "whole", "--quiet"]);
    assert!(whole.status.code().is_some());

    // Ctrl-C: in-flight conversations finish, the summary says incomplete, exit 130.
    let mut child = start_run(&p, "sigint", &["--concurrency", "4"], 8);
    signal(&child, "-INT");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let s = summary(&p.dir.join("sigint"));
    assert_eq!(s["interrupted"], true);
    assert_eq!(s["complete"], false);
    let kept = keys(&p.dir.join("sigint")).len();
    assert!(kept > 0 && kept < 80, "{kept}");
    let out = p.evalgate(&["run", "--resume", "sigint", "--quiet"]);
    assert!(out.status.code().is_some(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{kept} results kept")),
        "{}",
        stderr(&out)
    );
    let ks = keys(&p.dir.join("sigint"));
    assert_eq!(ks.len(), 80);
    assert_eq!(ks.iter().collect::<HashSet<_>>().len(), 80);
    assert_eq!(
        verdicts(&p.dir.join("sigint")),
        verdicts(&p.dir.join("whole"))
    );
    assert_eq!(summary(&p.dir.join("sigint"))["complete"], true);

    // SIGKILL: no summary, maybe a torn line; resume repairs and completes.
    let mut child = start_run(&p, "sigkill", &["--concurrency", "4"], 8);
    signal(&child, "-KILL");
    let _ = child.wait();
    // The summary written when the run started says it never finished.
    p.write("gate.yaml", "max_error_rate: 0\n");
    let out = p.evalgate(&["gate", "sigkill", "--gate", "gate.yaml"]);
    assert_exit(&out, 3);
    assert!(
        stderr(&out).contains("stopped before it finished"),
        "{}",
        stderr(&out)
    );
    let results_file = p.dir.join("sigkill/results.jsonl");
    let mut text = std::fs::read_to_string(&results_file).unwrap();
    text.push_str("{\"key\": \"en/c00"); // a torn write
    std::fs::write(&results_file, text).unwrap();
    let out = p.evalgate(&["run", "--resume", "sigkill", "--quiet"]);
    assert!(out.status.code().is_some(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("dropped a torn last line"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        verdicts(&p.dir.join("sigkill")),
        verdicts(&p.dir.join("whole"))
    );
}

#[test]
fn secrets_never_reach_a_file_or_a_log() {
    const KEY: &str = "sk-evalgate-FAKE-KEY-0123456789abcdef";
    const JUDGE_KEY: &str = "sk-judge-FAKE-KEY-9876543210fedcba";
    let stub = stub::start();
    let p = TempProject::new();
    let judge = format!(
        "judge:\n  provider: openai\n  base_url: {}\n  model: stub-judge\n  api_key_env: EVALGATE_JUDGE_SECRET_TEST\n",
        stub.base_url
    );
    p.write(
        "evalgate.yaml",
        &(config(
            &stub.base_url,
            "  api_key_env: EVALGATE_SECRET_TEST\n  temperature: 0\n",
            "  max_error_rate: 1\n",
        ) + &judge),
    );
    p.write(
        "evalsets/en.yaml",
        &cases(20, |i| match i % 3 {
            0 => format!("[[echo-auth]] q{i}"),
            1 => format!("[[echo-auth-reply]] q{i}"),
            _ => format!("[[judge-echo-auth]] q{i}"),
        }),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["run", "--out", "run"])
        .current_dir(&p.dir)
        .env("EVALGATE_SECRET_TEST", KEY)
        .env("EVALGATE_JUDGE_SECRET_TEST", JUDGE_KEY)
        .output()
        .unwrap();
    assert!(out.status.code().is_some());
    let rs = results(&p.dir.join("run"));
    assert!(
        rs.iter().any(|r| r["error"]
            .as_str()
            .is_some_and(|e| e.contains("[redacted:EVALGATE_SECRET_TEST]"))),
        "the server did echo the key"
    );
    assert!(
        rs.iter().any(|r| r["reply"]
            .as_str()
            .is_some_and(|e| e.contains("carried Bearer [redacted:EVALGATE_SECRET_TEST]"))),
        "the bot did echo the key in a reply"
    );
    assert!(
        rs.iter().any(|r| r["judge"]["unsupported_claims"][0]
            .as_str()
            .is_some_and(|e| e.contains("Bearer [redacted:EVALGATE_JUDGE_SECRET_TEST]"))),
        "the judge did echo its key"
    );
    for secret in [KEY, JUDGE_KEY] {
        assert!(!stdout(&out).contains(secret) && !stderr(&out).contains(secret));
    }
    let mut files = 0;
    let mut stack = vec![p.dir.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files += 1;
                let bytes = std::fs::read(&path).unwrap();
                let text = String::from_utf8_lossy(&bytes);
                assert!(
                    !text.contains(KEY) && !text.contains(JUDGE_KEY),
                    "a key leaked into {}",
                    path.display()
                );
            }
        }
    }
    assert!(
        files >= 8,
        "results, summary, reports and cache entries were all checked ({files})"
    );
    assert!(
        p.dir.join(".evalgate/cache/bot").is_dir(),
        "temperature 0 responses are cached"
    );
}

#[test]
fn hostile_case_text_is_data() {
    let stub = stub::start();
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        &config(&stub.base_url, "  prompt: prompt.j2\n", ""),
    );
    p.write("prompt.j2", "Context: {{ context | tojson }}\n");
    let big = "A".repeat(1_000_000);
    let evalset = format!(
        "language: en\ncases:\n  - id: hostile\n    stratum: adversarial\n    context: {{ note: \"{{{{ config }}}} {{% for x in range(99999999) %}}\" }}\n    turns:\n      - user: \"{{{{ 7*7 }}}} {{% raw %}} \\0 nul \\u202Eevil\\u202C <script>alert(1)</script>\"\n      - user: \"{big}\"\n    expect:\n      outcome: resolve\n      language: any\n"
    );
    p.write("evalsets/en.yaml", &evalset);
    let out = p.evalgate(&["run", "--out", "run", "--quiet"]);
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    let rs = results(&p.dir.join("run"));
    assert_eq!(rs.len(), 1);
    let turns = rs[0]["turns"].as_array().unwrap();
    assert!(
        turns[0]["content"]
            .as_str()
            .unwrap()
            .starts_with("{{ 7*7 }} {% raw %} \u{0} nul \u{202E}evil"),
        "sent literally: {}",
        turns[0]
    );
    assert_eq!(turns[2]["content"].as_str().unwrap().len(), 1_000_000);
    assert!(std::fs::read_to_string(p.dir.join("run/prompt.txt")).is_ok());
}

#[test]
fn yaml_bombs_and_deep_nesting_are_refused() {
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        "bot:\n  provider: demo\nevalsets: [\"evalsets/*.yaml\"]\n",
    );
    let mut bomb = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        bomb += &format!("a{i}: &a{i} [{}]\n", [prev.as_str(); 9].join(","));
    }
    bomb += "language: en\ncases: []\n";
    p.write("evalsets/bomb.yaml", &bomb);
    let deep = format!(
        "language: en\ncases: {}{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    p.write("evalsets/deep.yaml", &deep);
    let out = p.evalgate(&["check"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("bomb.yaml") && err.contains("deep.yaml"),
        "{err}"
    );
}

#[test]
fn temperature_zero_answers_are_cached_and_corrupt_entries_rewritten() {
    let stub = stub::start();
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        &config(&stub.base_url, "  temperature: 0\n", ""),
    );
    p.write("evalsets/en.yaml", &cases(10, |i| format!("q{i}")));
    let bot_calls = || stub.seen.lock().unwrap().values().sum::<u32>();
    let out = p.evalgate(&["run", "--out", "a", "--quiet"]);
    assert_exit(&out, 0);
    assert_eq!(bot_calls(), 10);
    let out = p.evalgate(&["run", "--out", "b", "--quiet"]);
    assert_exit(&out, 0);
    assert_eq!(bot_calls(), 10, "the second run is answered from the cache");
    assert!(
        results(&p.dir.join("b"))
            .iter()
            .all(|r| r["turns"][1]["cached"] == true)
    );
    assert_eq!(verdicts(&p.dir.join("a")), verdicts(&p.dir.join("b")));

    // Corrupt every entry: each becomes a miss, is asked again and rewritten.
    let mut stack = vec![p.dir.join(".evalgate/cache/bot")];
    let mut corrupted = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                std::fs::write(entry.path(), "{not json").unwrap();
                corrupted += 1;
            }
        }
    }
    assert_eq!(corrupted, 10);
    let out = p.evalgate(&["run", "--out", "c", "--quiet"]);
    assert_exit(&out, 0);
    assert_eq!(bot_calls(), 20);
    let out = p.evalgate(&["run", "--out", "d", "--quiet"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(bot_calls(), 20, "rewritten entries serve again");
    let out = p.evalgate(&["run", "--out", "e", "--quiet", "--no-cache"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(bot_calls(), 30, "--no-cache asks the bot");
}

#[test]
fn request_rate_limit_spaces_requests() {
    let stub = stub::start();
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        &config(&stub.base_url, "", "  requests_per_minute: 600\n"),
    );
    p.write("evalsets/en.yaml", &cases(11, |i| format!("q{i}")));
    let started = Instant::now();
    let out = p.evalgate(&["run", "--out", "a", "--quiet"]);
    assert_exit(&out, 0);
    // Eleven requests at ten a second need at least one second, however fast the machine.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}
