//! The regression story end to end with the demo bot: the v2 prompt regresses the
//! non-English languages, the diff names them, the gate blocks; v1 against v1 is clean.

use std::path::Path;

use serde_json::Value;

use crate::{TempProject, assert_exit, repo_root, stderr, stdout};

/// A project using the shipped eval sets, gate and prompt, with its own reports folder.
fn project(prompt: &str) -> TempProject {
    crate::shipped_demo_project(prompt, true)
}

fn diff_json(p: &TempProject, base: &str, new: &str) -> Value {
    let out = p.evalgate(&["diff", base, new, "--format", "json"]);
    assert_exit(&out, 0);
    serde_json::from_slice(&out.stdout).expect("diff json")
}

fn significant_languages(d: &Value) -> Vec<String> {
    let mut langs: Vec<String> = d["slices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["dimension"] == "language" && s["significant_regression"] == true)
        .map(|s| s["slice"].as_str().unwrap().to_string())
        .collect();
    langs.sort();
    langs
}

#[test]
fn v2_prompt_regresses_non_english_languages_and_the_gate_blocks_it() {
    let v1 = project("support.md.j2");
    let out = v1.evalgate(&["run", "--out", "base", "--quiet", "--no-baseline"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "v1 passes the shipped gate:\n{}{}",
        stdout(&out),
        stderr(&out)
    );

    let v2 = project("support-v2.md.j2");
    let base = v1.dir.join("base");
    let base = base.to_str().unwrap();
    let out = v2.evalgate(&["run", "--out", "new", "--quiet", "--baseline", base]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the gate blocks v2:\n{text}{}",
        stderr(&out)
    );
    assert!(text.contains("FAIL significant_regressions"), "{text}");
    // The terminal leads with the likely cause, as report.md does: the prompt diff comes
    // right after the verdict, before the gate's criteria.
    let diff_at = text
        .find("\nPrompt diff\n")
        .expect("the terminal shows the prompt diff");
    let gate_at = text
        .find("\nGate FAIL")
        .expect("the terminal shows the gate");
    assert!(diff_at < gate_at, "{text}");
    assert!(
        text[diff_at..gate_at].contains(
            "+- To keep answers consistent for our quality team, always reply in English."
        ),
        "{text}"
    );

    let d = diff_json(&v2, base, "new");
    assert_eq!(significant_languages(&d), ["de", "es", "pl", "sv"]);
    assert!(d["significant_regressions"].as_u64().unwrap() >= 4);
    assert!(d["comparable"].as_bool().unwrap(), "{}", d["warnings"]);
    assert!(
        d["prompt_diff"].as_str().unwrap().contains("English"),
        "the prompt diff shows the edit"
    );
    let regressed = d["regressions"].as_array().unwrap();
    assert!(!regressed.is_empty());
    assert!(
        regressed.iter().all(|r| r["language"] != "en"),
        "English is unaffected"
    );
    let first = &regressed[0];
    assert!(
        first["failing_checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "language"),
        "{first}"
    );
    assert!(!first["reply_diff"].as_array().unwrap().is_empty());

    // --fail-on-regression turns the diff into a verdict.
    let out = v2.evalgate(&["diff", base, "new", "--fail-on-regression"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("Significant regressions"),
        "{}",
        stdout(&out)
    );

    // The run directory has the CI outputs.
    let md = std::fs::read_to_string(v2.dir.join("new/report.md")).unwrap();
    assert!(md.starts_with("## evalgate: FAIL"), "{md}");
    let junit = std::fs::read_to_string(v2.dir.join("new/junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).expect("junit.xml is XML");
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert!(cases >= 200, "one testcase per eval case");
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(v2.dir.join("new/summary.json")).unwrap())
            .unwrap();
    assert!(
        summary["gate"]["hash"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(summary["gate"]["passed"], false);
}

#[test]
fn the_same_prompt_twice_has_no_regressions() {
    let p = project("support.md.j2");
    let out = p.evalgate(&["run", "--out", "a", "--quiet", "--no-baseline"]);
    assert_exit(&out, 0);
    let out = p.evalgate(&["run", "--out", "b", "--quiet", "--baseline", "a"]);
    assert_exit(&out, 0);
    let d = diff_json(&p, "a", "b");
    assert_eq!(d["significant_regressions"], 0);
    assert_eq!(d["counts"]["regressed"], Value::Null);
    assert!(d["prompt_diff"].is_null());
    let out = p.evalgate(&["gate", "b", "--baseline", "a"]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("Gate PASS"), "{}", stdout(&out));
}

#[test]
fn baseline_accept_then_runs_diff_against_it_by_default() {
    let p = project("support.md.j2");
    let out = p.evalgate(&["run", "--out", "first", "--quiet", "--lang", "en"]);
    assert_exit(&out, 0);
    let out = p.evalgate(&["baseline", "accept", "first"]);
    assert_exit(&out, 0);
    for f in ["results.jsonl", "summary.json", "prompt.txt"] {
        assert!(p.dir.join("reports/baseline").join(f).is_file(), "{f}");
    }
    let out = p.evalgate(&["run", "--out", "second", "--quiet", "--lang", "en"]);
    assert!(stdout(&out).contains("vs baseline"), "{}", stdout(&out));
}

#[test]
fn same_run_comparison_against_a_git_revision() {
    let p = TempProject::new();
    let root = repo_root();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&p.dir)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["config", "user.email", "ci@example.invalid"]);
    git(&["config", "user.name", "ci"]);
    let v1 = std::fs::read_to_string(root.join("prompts/support.md.j2")).unwrap();
    let v2 = std::fs::read_to_string(root.join("prompts/support-v2.md.j2")).unwrap();
    p.write("prompts/support.md.j2", &v1);
    p.write(
        "evalgate.yaml",
        &format!("bot:\n  provider: demo\n  prompt: prompts/support.md.j2\nevalsets: [\"{}/evalsets/**/*.yaml\"]\nsimulator:\n  provider: demo\n", root.display()),
    );
    git(&["add", "."]);
    git(&["commit", "-qm", "v1"]);
    p.write("prompts/support.md.j2", &v2);
    let out = p.evalgate(&[
        "run",
        "--out",
        "pr",
        "--quiet",
        "--baseline-prompt-rev",
        "HEAD",
        "--lang",
        "pl",
        "--lang",
        "en",
    ]);
    let text = stdout(&out);
    assert!(p.dir.join("pr/baseline-prompt/results.jsonl").is_file());
    assert!(
        text.contains("regressed: language pl"),
        "{text}{}",
        stderr(&out)
    );
    assert!(!text.contains("regressed: language en"), "{text}");
    let out = p.evalgate(&[
        "run",
        "--out",
        "bad",
        "--baseline-prompt-rev",
        "no-such-rev",
    ]);
    assert_exit(&out, 2);
}

/// Run ids, timestamps, latencies, hashes and temp paths vary between runs.
fn redact(text: &str, dirs: &[&Path]) -> String {
    let mut s = text.to_string();
    for d in dirs {
        s = s.replace(&d.display().to_string(), "[DIR]");
    }
    let rules = [
        (r"\d{8}-\d{6}-[0-9a-f]{4}", "[RUN]"),
        (r"p(50|95|99) \d+ ms", "p$1 [N] ms"),
        (r#"time="[0-9.]+""#, r#"time="[T]""#),
        (r"\b[0-9a-f]{12}\b", "[HASH]"),
    ];
    for (pattern, replacement) in rules {
        s = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&s, replacement)
            .into_owned();
    }
    s
}

/// Compares with the snapshot in tests/snapshots/. The snapshots are the reports exactly as
/// a user gets them (report.md, junit.xml), so a reviewer reads them as they are, with no
/// tool; `EVALGATE_UPDATE_SNAPSHOTS=1` accepts a deliberate change. insta's format and
/// review tool would add little here.
fn assert_snapshot(name: &str, actual: &str) {
    let path = repo_root().join("tests/snapshots").join(name);
    if std::env::var_os("EVALGATE_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with EVALGATE_UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "snapshot {name} changed; rerun with EVALGATE_UPDATE_SNAPSHOTS=1 if intended"
    );
}

#[test]
fn report_snapshots() {
    let v1 = project("support.md.j2");
    let out = v1.evalgate(&[
        "run",
        "--out",
        "base",
        "--quiet",
        "--no-baseline",
        "--lang",
        "en",
        "--lang",
        "pl",
    ]);
    assert!(out.status.code().is_some());
    let v2 = project("support-v2.md.j2");
    let base = v1.dir.join("base");
    let out = v2.evalgate(&[
        "run",
        "--out",
        "new",
        "--quiet",
        "--baseline",
        base.to_str().unwrap(),
        "--lang",
        "en",
        "--lang",
        "pl",
    ]);
    assert_exit(&out, 1);
    let md = std::fs::read_to_string(v2.dir.join("new/report.md")).unwrap();
    assert_snapshot("report.md", &redact(&md, &[&v1.dir, &v2.dir, &repo_root()]));
    let junit = std::fs::read_to_string(v2.dir.join("new/junit.xml")).unwrap();
    roxmltree::Document::parse(&junit).expect("junit.xml is XML");
    assert_snapshot(
        "junit.xml",
        &redact(&junit, &[&v1.dir, &v2.dir, &repo_root()]),
    );
}

#[test]
fn step_summary_is_appended_in_ci() {
    let p = project("support.md.j2");
    let summary_file = p.dir.join("step-summary.md");
    std::fs::write(&summary_file, "previous step\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args([
            "run",
            "--out",
            "r",
            "--quiet",
            "--no-baseline",
            "--lang",
            "sv",
        ])
        .current_dir(&p.dir)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .output()
        .unwrap();
    assert!(out.status.code().is_some());
    let text = std::fs::read_to_string(&summary_file).unwrap();
    assert!(text.starts_with("previous step\n## evalgate:"), "{text}");
}

/// Two runs re-scored alike stay comparable: re-scoring is not a selection of cases.
#[test]
fn two_rescored_runs_are_comparable() {
    let p = project("support.md.j2");
    for (run, rescored) in [("a", "a-re"), ("b", "b-re")] {
        let out = p.evalgate(&[
            "run",
            "--out",
            run,
            "--quiet",
            "--no-baseline",
            "--lang",
            "sv",
        ]);
        assert_exit(&out, 0);
        let out = p.evalgate(&["rescore", run, "--out", rescored, "--quiet"]);
        assert!(out.status.code().is_some(), "{}", stderr(&out));
    }
    let out = p.evalgate(&["diff", "a-re", "b-re"]);
    assert_exit(&out, 0);
    assert!(!stdout(&out).contains("not comparable"), "{}", stdout(&out));
    let s = crate::summary(&p.dir.join("a-re"));
    assert_eq!(
        s["rescored_from"],
        crate::summary(&p.dir.join("a"))["run_id"]
    );
}
