//! Bad input: every kind of mistake gives exit 2 and a message naming the file and line,
//! all problems are listed in one pass, and nothing panics.

use crate::{TempProject, assert_exit, stderr};

const CONFIG: &str =
    "bot:\n  provider: demo\n  prompt: prompt.j2\nevalsets: [\"evalsets/*.yaml\"]\n";
const PROMPT: &str = "Reply in {{ language }}.\n";
const GOOD_CASE: &str = "  - id: ok\n    stratum: routine\n    turns:\n      - user: hi\n    expect:\n      outcome: resolve\n";

fn project(config: &str, evalset: &str) -> TempProject {
    let p = TempProject::new();
    p.write("evalgate.yaml", config);
    p.write("prompt.j2", PROMPT);
    p.write("evalsets/en.yaml", evalset);
    p
}

/// Runs `check`, expects exit 2 and every `(needle)` in stderr, and no panic.
fn expect_invalid(p: &TempProject, needles: &[&str]) -> String {
    let out = p.evalgate(&["check"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    }
    // `run` refuses the same input before sending anything.
    let out = p.evalgate(&["run", "--out", "never"]);
    assert_exit(&out, 2);
    assert!(
        !p.dir.join("never").exists(),
        "nothing may be written for bad input"
    );
    err
}

#[test]
fn yaml_syntax_error() {
    let p = project(
        CONFIG,
        "language: en\ncases:\n  - id: a\n    stratum: [routine\n",
    );
    expect_invalid(&p, &["evalsets/en.yaml:"]);
}

#[test]
fn unknown_stratum_and_outcome() {
    let text = format!(
        "language: en\ncases:\n{GOOD_CASE}  - id: b\n    stratum: tricky\n    turns:\n      - user: hi\n    expect:\n      outcome: resolve\n"
    );
    let p = project(CONFIG, &text);
    expect_invalid(&p, &["en.yaml:10:", "tricky"]);
    let text = format!(
        "language: en\ncases:\n{}",
        GOOD_CASE.replace("outcome: resolve", "outcome: solve")
    );
    let p = project(CONFIG, &text);
    expect_invalid(&p, &["en.yaml:8:", "solve", "did you mean `resolve`"]);
}

#[test]
fn every_problem_in_one_pass() {
    let text = format!(
        "language: en\ncases:\n{GOOD_CASE}{GOOD_CASE}  - id: empty\n    stratum: edge\n    turns: []\n    expect:\n      outcome: escalate\n      regex: [\"([a-z\"]\n"
    );
    let p = project(CONFIG, &text);
    let err = expect_invalid(
        &p,
        &[
            "en.yaml:9:",
            "duplicate case id `ok`",
            "en.yaml:15:",
            "no turns",
            "en.yaml:20:",
            "invalid regex",
        ],
    );
    assert!(err.contains("3 problems found"), "{err}");
}

#[test]
fn missing_prompt_file() {
    let p = project(
        &CONFIG.replace("prompt.j2", "prompts/nope.j2"),
        &format!("language: en\ncases:\n{GOOD_CASE}"),
    );
    expect_invalid(
        &p,
        &["evalgate.yaml:3:", "prompts/nope.j2", "does not exist"],
    );
}

#[test]
fn missing_api_key_env_var() {
    let config = "bot:\n  provider: openai\n  base_url: http://127.0.0.1:9/v1\n  model: m\n  api_key_env: EVALGATE_TEST_KEY\nevalsets: [\"evalsets/*.yaml\"]\n";
    let p = project(config, &format!("language: en\ncases:\n{GOOD_CASE}"));
    expect_invalid(&p, &["evalgate.yaml:5:", "EVALGATE_TEST_KEY", "not set"]);
}

#[test]
fn unknown_config_key_suggests_the_right_one() {
    let p = project(
        &format!("{CONFIG}run:\n  concurency: 4\n"),
        &format!("language: en\ncases:\n{GOOD_CASE}"),
    );
    expect_invalid(
        &p,
        &[
            "evalgate.yaml:6:",
            "concurency",
            "did you mean `concurrency`",
        ],
    );
}

#[test]
fn prompt_template_errors_are_found_before_sending() {
    let p = project(CONFIG, &format!("language: en\ncases:\n{GOOD_CASE}"));
    p.write("prompt.j2", "Hello\n{{ context.order_id }}\n");
    expect_invalid(&p, &["prompt.j2:2", "en/ok"]);
}

#[test]
fn invalid_utf8_and_unknown_language() {
    let p = project(CONFIG, &format!("language: en\ncases:\n{GOOD_CASE}"));
    std::fs::write(
        p.dir.join("evalsets/bad.yaml"),
        b"language: en\ncases: \xff\n",
    )
    .unwrap();
    p.write(
        "evalsets/xx.yaml",
        &format!("language: klingon\ncases:\n{GOOD_CASE}"),
    );
    expect_invalid(
        &p,
        &["bad.yaml:2:8", "not valid UTF-8", "xx.yaml:1:", "klingon"],
    );
}

#[test]
fn missing_config_and_no_matching_evalsets() {
    let p = TempProject::new();
    let out = p.evalgate(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("evalgate.yaml: no such config file"),
        "{}",
        stderr(&out)
    );
    p.write(
        "evalgate.yaml",
        &CONFIG.replace("evalsets/*.yaml", "nowhere/*.yaml"),
    );
    p.write("prompt.j2", PROMPT);
    expect_invalid(&p, &["evalgate.yaml:4:", "matches no file"]);
}

#[test]
fn a_bad_gate_file_fails_check() {
    let p = project(
        &format!("{CONFIG}gate: gate.yaml\n"),
        &format!("language: en\ncases:\n{GOOD_CASE}"),
    );
    p.write(
        "gate.yaml",
        "pass_rate: { routine: 0.9 }\nmax_mised_escalations: 0\n",
    );
    expect_invalid(
        &p,
        &["gate.yaml:2:", "did you mean `max_missed_escalations`"],
    );
}

/// A key variable that is set but holds nothing is told apart from one that is not set.
#[test]
fn an_empty_api_key_variable_says_so() {
    let config = "bot:\n  provider: openai\n  base_url: http://127.0.0.1:9/v1\n  model: m\n  api_key_env: EVALGATE_EMPTY_KEY\n  prompt: prompt.j2\nevalsets: [\"evalsets/*.yaml\"]\n";
    let p = project(config, &format!("language: en\ncases:\n{GOOD_CASE}"));
    let check = |key: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_evalgate"));
        cmd.arg("check")
            .current_dir(&p.dir)
            .env_remove("EVALGATE_EMPTY_KEY");
        if let Some(k) = key {
            cmd.env("EVALGATE_EMPTY_KEY", k);
        }
        cmd.output().unwrap()
    };
    let out = check(Some(""));
    assert_exit(&out, 2);
    assert!(
        stderr(&out)
            .contains("names `EVALGATE_EMPTY_KEY`, but that environment variable is set but empty"),
        "{}",
        stderr(&out)
    );
    let out = check(None);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("is not set"), "{}", stderr(&out));
    assert_exit(&check(Some("sk-test")), 0);
}
