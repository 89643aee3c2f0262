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

/// The v2 prompt answers every customer in English: Polish customers are kept (contained)
/// but not helped (resolved). Containment and resolution share the cases expecting
/// `resolve`, their gap says how many were kept but not helped, and the breakdown puts
/// every conversation in one end state, in summary.json, the terminal, report.md and one
/// bar per language in report.html.
#[test]
fn the_headline_pair_shares_a_denominator_and_every_conversation_ends_once() {
    let p = crate::shipped_demo_project("support-v2.md.j2", false);
    let out = p.evalgate(&[
        "run",
        "--out",
        "r",
        "--no-baseline",
        "--lang",
        "en",
        "--lang",
        "pl",
    ]);
    assert_exit(&out, 0);
    let s = crate::summary(&p.dir.join("r"));
    let slices = [
        "by_language",
        "by_stratum",
        "by_language_stratum",
        "by_intent",
    ]
    .iter()
    .flat_map(|d| s[d].as_object().unwrap().values())
    .chain(std::iter::once(&s["overall"]));
    let mut checked = 0;
    for slice in slices {
        let b = slice["outcome_breakdown"].as_object().unwrap();
        assert_eq!(b.len(), 10, "{b:?}");
        let total: u64 = b.values().map(|n| n.as_u64().unwrap()).sum();
        assert_eq!(total, slice["results"].as_u64().unwrap(), "{slice}");
        if let (Some(c), Some(r)) = (
            slice["containment_rate"].as_f64(),
            slice["resolution_rate"].as_f64(),
        ) {
            assert!(r <= c, "resolution above containment: {slice}");
            let gap = slice["deflection_gap"].as_f64().unwrap();
            assert!((c - r - gap).abs() < 1e-9, "{slice}");
        }
        checked += 1;
    }
    assert!(checked > 10, "{checked}");
    let pl = &s["by_language"]["pl"];
    assert_eq!(
        (
            &pl["containment_rate"],
            &pl["resolution_rate"],
            &pl["deflection_gap"]
        ),
        (&Value::from(1.0), &Value::from(0.0), &Value::from(1.0)),
        "{pl}"
    );
    assert_eq!(pl["outcome_breakdown"]["resolved_wrong"], 34, "{pl}");
    assert_eq!(s["overall"]["deflection_gap"], 0.5);

    let terminal = stdout(&out);
    assert!(
        terminal.contains("language    containment  resolution     gap  deflection"),
        "{terminal}"
    );
    assert!(
        terminal.contains("\npl                 100%          0%    100%          0%"),
        "{terminal}"
    );
    assert!(
        terminal.contains(
            "Where every conversation ended\nlanguage    escalated  refused  resolved  resolved_wrong\n"
        ),
        "{terminal}"
    );
    assert!(
        terminal.contains("\npl                 10       18         0              34\n"),
        "{terminal}"
    );

    let md = std::fs::read_to_string(p.dir.join("r/report.md")).unwrap();
    assert!(
        md.contains("| pl | 100% | 0% | 100% | 0% | 0 | 0 |"),
        "{md}"
    );
    assert!(
        md.contains("| language | escalated | refused | resolved | resolved\\_wrong |"),
        "{md}"
    );
    assert!(md.contains("| pl | 10 | 18 | 0 | 34 |"), "{md}");
    assert!(md.contains("| all | 20 | 36 | 34 | 34 |"), "{md}");

    let html = std::fs::read_to_string(p.dir.join("r/report.html")).unwrap();
    assert!(
        html.contains(
            "<td class=\"num\">100%</td><td class=\"num\">0%</td><td class=\"num\">100%</td>"
        ),
        "the gap next to the pair"
    );
    assert_eq!(
        html.matches("<div class=\"stack\"").count(),
        2,
        "one bar per language"
    );
    for language in ["en", "pl"] {
        let at = html
            .find(&format!("data-language=\"{language}\""))
            .unwrap_or_else(|| panic!("no bar for {language}"));
        let bar = &html[at..at + html[at..].find("</div>").unwrap()];
        let widths: f64 = bar
            .split("width: ")
            .skip(1)
            .map(|w| w[..w.find('%').unwrap()].parse::<f64>().unwrap())
            .sum();
        assert!((widths - 100.0).abs() < 1e-6, "{language}: {bar}");
    }
    let pl_bar = &html[html.find("data-language=\"pl\"").unwrap()..];
    assert!(
        pl_bar.starts_with(
            "data-language=\"pl\" aria-label=\"pl: escalated 10, refused 18, resolved_wrong 34\""
        ),
        "{}",
        &pl_bar[..200]
    );

    // A run scored before the shared denominator (scoring version 2, no breakdown) says
    // so rather than showing its old containment under the new title, or empty counts.
    let mut old = s.clone();
    old["scoring_version"] = Value::from(2);
    for dimension in [
        "by_language",
        "by_stratum",
        "by_language_stratum",
        "by_intent",
    ] {
        for slice in old[dimension].as_object_mut().unwrap().values_mut() {
            slice.as_object_mut().unwrap().remove("outcome_breakdown");
        }
    }
    old["overall"]
        .as_object_mut()
        .unwrap()
        .remove("outcome_breakdown");
    std::fs::write(
        p.dir.join("r/summary.json"),
        serde_json::to_string_pretty(&old).unwrap(),
    )
    .unwrap();
    let out = p.evalgate(&["report", "r", "--format", "md", "--no-baseline"]);
    assert_exit(&out, 0);
    let md = stdout(&out);
    assert!(
        md.contains(
            "This run was scored with scoring version 2: its containment is over all cases"
        ),
        "{md}"
    );
    assert!(
        md.contains("### Where every conversation ended\n\nNot recorded: this run's summary.json predates the outcome breakdown"),
        "{md}"
    );
    assert!(!md.contains("| language | escalated |"), "{md}");
}
