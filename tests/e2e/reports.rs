//! `evalgate report`: every format comes from the same exporters a run writes its files
//! with, and a broken run directory is bad input (exit 2) whatever the format.

use std::path::Path;

use serde_json::Value;

use crate::{TempProject, assert_exit, stderr, stdout};

/// `--format` values and the file a run writes for each.
const FORMATS: [(&str, &str); 4] = [
    ("md", "report.md"),
    ("html", "report.html"),
    ("junit", "junit.xml"),
    ("json", "report.json"),
];

/// A project with a finished demo run of the Swedish cases in `r`.
fn demo_run() -> TempProject {
    let p = crate::shipped_demo_project("support.md.j2", false);
    let out = p.evalgate(&[
        "run",
        "--out",
        "r",
        "--quiet",
        "--no-baseline",
        "--lang",
        "sv",
    ]);
    assert_exit(&out, 0);
    p
}

/// Replaces the middle line of the run's results.jsonl; returns its line number.
fn replace_middle_result(run: &Path, replace: impl FnOnce(&str) -> String) -> usize {
    let path = run.join("results.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(lines.len() > 2, "{text}");
    let middle = lines.len() / 2;
    lines[middle] = replace(&lines[middle]);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    middle + 1
}

#[test]
fn report_prints_what_the_run_wrote_in_every_format() {
    let p = demo_run();
    for (format, file) in FORMATS {
        let written = std::fs::read(p.dir.join("r").join(file)).unwrap();
        let out = p.evalgate(&["report", "r", "--format", format]);
        assert_exit(&out, 0);
        assert!(out.stdout == written, "{format} differs from {file}");
        let out = p.evalgate(&["report", "r", "--format", format, "--out", "one"]);
        assert_exit(&out, 0);
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
        assert!(
            std::fs::read(p.dir.join("one")).unwrap() == written,
            "{format}"
        );
    }
}

/// A results line that is not a result, between good ones (two writers interleaved, a
/// disk that filled up): the run directory is broken, and every format says so alike.
#[test]
fn a_corrupt_results_line_is_bad_input_for_every_format() {
    let p = demo_run();
    let line = replace_middle_result(&p.dir.join("r"), |good| good[..good.len() / 2].into());
    for (format, _) in FORMATS {
        let out = p.evalgate(&["report", "r", "--format", format, "--out", "out"]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(
            err.contains(&format!("results.jsonl:{line}: not a result")),
            "{format}: {err}"
        );
        assert!(!p.dir.join("out").exists(), "{format} left a half report");
    }
}

/// A result whose verdict the index reads but whose transcript is broken: the formats
/// that read each case in full fail alike. (report.md and report.json never read a case
/// in full.)
#[test]
fn a_broken_case_is_bad_input_for_every_format_that_reads_it() {
    let p = demo_run();
    let mut key = String::new();
    replace_middle_result(&p.dir.join("r"), |good| {
        let mut r: Value = serde_json::from_str(good).unwrap();
        key = r["key"].as_str().unwrap().to_string();
        // A failure: junit.xml reads only failures in full, report.html every case.
        r["passed"] = Value::Bool(false);
        r["turns"] = Value::String("torn".into());
        r.to_string()
    });
    for format in ["html", "junit"] {
        let out = p.evalgate(&["report", "r", "--format", format]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains(&key), "{format}: {err}");
        assert!(stdout(&out).is_empty(), "{format}: {}", stdout(&out));
    }
}

/// The same broken run directory is the same failure from every command that reads it:
/// bad input (2), whether it is the run or the baseline.
#[test]
fn a_corrupt_run_is_bad_input_for_every_command() {
    let p = demo_run();
    let out = p.evalgate(&[
        "run",
        "--out",
        "good",
        "--quiet",
        "--no-baseline",
        "--lang",
        "sv",
    ]);
    assert_exit(&out, 0);
    p.write("gate.yaml", "max_significant_regressions: 0\n");
    replace_middle_result(&p.dir.join("r"), |good| good[..good.len() / 2].into());
    let commands: [&[&str]; 6] = [
        &["gate", "r", "--gate", "gate.yaml"],
        &["gate", "good", "--gate", "gate.yaml", "--baseline", "r"],
        &["diff", "r", "good"],
        &["diff", "good", "r", "--format", "md"],
        &["report", "good", "--format", "md", "--baseline", "r"],
        &["rescore", "r", "--out", "rescored"],
    ];
    for args in commands {
        let out = p.evalgate(args);
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("not a result"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// A count of one reads as one: "1 result", "1 criterion", never "1 results".
#[test]
fn counts_of_one_are_singular() {
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        "bot:\n  provider: demo\nevalsets: [\"evalsets/*.yaml\"]\ngate: gate.yaml\n",
    );
    p.write(
        "evalsets/en.yaml",
        "language: en\ncases:\n  - id: hi\n    stratum: routine\n    turns:\n      - user: \"Where is my refund?\"\n    expect:\n      outcome: resolve\n      must_include: [\"refund\"]\n",
    );
    p.write("gate.yaml", "max_missed_escalations: 0\n");
    let out = p.evalgate(&["run", "--out", "one", "--no-baseline"]);
    let text = stdout(&out);
    assert!(text.contains("· 1 result\n"), "{text}");
    assert!(text.contains("0 of 1 criterion failed"), "{text}");
    assert!(text.contains("met on 1 result in 1 language."), "{text}");
    for plural_of_one in ["1 results", "1 criteria", "1 languages", "1 errors"] {
        assert!(!text.contains(plural_of_one), "{plural_of_one}: {text}");
    }
}

/// A bot whose prompt evalgate does not hold is told apart by its version label: in the
/// summary, in every report's run line and in the diff.
#[test]
fn the_bot_version_is_recorded_reported_and_diffed() {
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        "bot:\n  provider: demo\n  version: build-1\nevalsets: [\"evalsets/*.yaml\"]\n",
    );
    p.write(
        "evalsets/en.yaml",
        "language: en\ncases:\n  - id: hi\n    stratum: routine\n    turns:\n      - user: \"Where is my refund?\"\n    expect:\n      outcome: resolve\n      must_include: [\"refund\"]\n",
    );
    assert_exit(
        &p.evalgate(&["run", "--out", "a", "--no-baseline", "--quiet"]),
        0,
    );
    let out = p.evalgate(&[
        "run",
        "--out",
        "b",
        "--baseline",
        "a",
        "--quiet",
        "--bot-version",
        "build-2",
    ]);
    assert_exit(&out, 0);
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(p.dir.join("b/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["bot"]["version"], "build-2", "{}", summary["bot"]);
    assert!(
        stdout(&out).contains("bot demo/evalgate-demo build-2"),
        "{}",
        stdout(&out)
    );
    let md = std::fs::read_to_string(p.dir.join("b/report.md")).unwrap();
    assert!(md.contains("build-2"), "{md}");
    let diff = p.evalgate(&["diff", "a", "b"]);
    assert!(
        stdout(&diff).contains("(prompt no prompt, bot build-1) →")
            && stdout(&diff).contains(", bot build-2)"),
        "{}",
        stdout(&diff)
    );
}
