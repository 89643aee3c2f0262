//! The walk-through README gives a PM: a judged run on the demo bot (with the demo judge)
//! is blocked while its judge is uncalibrated; labels, `calibrate` and `judge.calibration`
//! let the gate count the judge's figures; labels that disagree, or a calibration of
//! another judge, block it again with a line naming the language, κ, labels and threshold.

use serde_json::{Value, json};

use crate::{TempProject, assert_exit, results, shipped_demo_project, stdout};

fn judged_demo_project() -> TempProject {
    let p = shipped_demo_project("support.md.j2", true);
    let config = std::fs::read_to_string(p.dir.join("evalgate.yaml")).expect("config");
    p.write(
        "evalgate.yaml",
        &format!("{config}judge:\n  provider: demo\n"),
    );
    p
}

fn calibrated(p: &TempProject) {
    let config = std::fs::read_to_string(p.dir.join("evalgate.yaml")).expect("config");
    p.write(
        "evalgate.yaml",
        &format!("{config}  calibration: calibration.json\n"),
    );
}

/// A person's labels of every judged result: the judge's own verdicts, except in the
/// languages of `disagree_in`, where the person marks every criterion the other way.
fn labels(results: &[Value], disagree_in: &[&str]) -> String {
    let mut lines = Vec::new();
    for r in results {
        let judge = &r["judge"];
        let contrary = disagree_in.contains(&r["language"].as_str().unwrap_or_default());
        let criteria: Vec<Value> = judge["criteria"]
            .as_array()
            .expect("judged criteria")
            .iter()
            .map(|c| json!({"n": c["n"], "passed": c["passed"].as_bool() != Some(contrary)}))
            .collect();
        lines.push(
            json!({
                "key": r["key"],
                "repeat": r["repeat"],
                "transcript_sha256": r["transcript_sha256"],
                "labeler": "pm",
                "criteria": criteria,
                "outcome": judge["outcome"],
                "note": "",
            })
            .to_string(),
        );
    }
    lines.join("\n") + "\n"
}

fn calibrate(p: &TempProject, labels: &str) {
    p.write("labels.jsonl", labels);
    let out = p.evalgate(&[
        "calibrate",
        "run",
        "--labels",
        "labels.jsonl",
        "--out",
        "calibration.json",
    ]);
    assert_exit(&out, 0);
}

/// README's walk-through, in a project `evalgate init` made, with the browser's labels
/// written here.
#[test]
fn an_uncalibrated_judge_blocks_until_labels_show_it_agrees_with_people() {
    let root = TempProject::new();
    assert_exit(&root.evalgate(&["init", "judged"]), 0);
    let p = TempProject {
        dir: root.dir.join("judged"),
    };
    let config = std::fs::read_to_string(p.dir.join("evalgate.yaml")).expect("config");
    p.write(
        "evalgate.yaml",
        &format!("{config}judge:\n  provider: demo\n"),
    );
    let out = p.evalgate(&["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains(
            "Blocked: the judge is not trusted in en (en: uncalibrated: no judge.calibration in the config; needs κ ≥ 0.60 on at least 30 labelled results), so "
        ),
        "{text}"
    );
    let blocked = text
        .lines()
        .find(|l| l.starts_with("Blocked:"))
        .unwrap_or_default();
    for judged in [
        "pass_rate",
        "deflection_rate",
        "over_refusal_rate",
        "unverified_rate",
    ] {
        assert!(blocked.contains(judged), "{blocked}");
    }
    assert!(blocked.ends_with("do not count."), "{blocked}");
    assert!(
        text.contains("— judge-scored, and the judge is not calibrated for en\n"),
        "{text}"
    );
    assert!(text.contains("  PASS language_match_rate"), "{text}");
    assert!(text.contains("all  judge\n"), "{text}");
    assert!(text.contains("uncalibrated\n"), "{text}");

    assert_exit(&p.evalgate(&["label", "run", "--per-language", "30"]), 0);
    assert!(p.dir.join("run/label.html").is_file());

    let judged = results(&p.dir.join("run"));
    calibrate(&p, &labels(&judged, &[]));
    calibrated(&p);
    let out = p.evalgate(&["gate", "run", "--out", "reviewed"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("PASS judge_calibration (>= κ 0.60)"),
        "{text}"
    );
    assert!(text.contains("en κ 1.00"), "{text}");
    let md = std::fs::read_to_string(p.dir.join("reviewed/report.md")).expect("report.md");
    assert!(md.contains("| κ 1.00 (62 labelled) |"), "{md}");
    assert!(
        md.contains("Judge κ: agreement with people beyond chance, from "),
        "{md}"
    );
    let html = std::fs::read_to_string(p.dir.join("reviewed/report.html")).expect("html");
    assert!(html.contains("<td class=\"judge\">κ 1.00 (62 labelled)</td>"));
}

#[test]
fn labels_that_disagree_or_a_calibration_of_another_judge_block_the_gate() {
    let p = judged_demo_project();
    assert_exit(&p.evalgate(&["run", "--out", "run", "--quiet"]), 1);
    let judged = results(&p.dir.join("run"));
    calibrate(&p, &labels(&judged, &["pl"]));
    calibrated(&p);
    let out = p.evalgate(&["gate", "run"]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("FAIL judge_calibration (>= κ 0.60): pl: κ -"),
        "{text}"
    );
    assert!(
        text.contains(
            " on 62 labelled results falls short: needs κ ≥ 0.60 on at least 30 labelled results"
        ),
        "{text}"
    );
    assert!(
        text.contains("PASS judge_calibration (>= κ 0.60): de κ 1.00"),
        "{text}"
    );
    assert!(
        text.contains("judge-scored, and the judge is not calibrated for pl"),
        "{text}"
    );
    assert!(text.contains("  PASS language_match_rate"), "{text}");

    let mut other: Value = serde_json::from_str(
        &std::fs::read_to_string(p.dir.join("calibration.json")).expect("calibration.json"),
    )
    .expect("json");
    other["judge"]["model"] = json!("gpt-judge");
    p.write("calibration.json", &other.to_string());
    let text = stdout(&p.evalgate(&["gate", "run"]));
    assert!(
        text.contains("de, en, es, pl, sv: uncalibrated: calibration.json was made for judge gpt-judge, not this run's evalgate-demo-judge"),
        "{text}"
    );

    p.write("calibration.json", "{\"judge\": {}}\n");
    let out = p.evalgate(&["gate", "run"]);
    assert_exit(&out, 2);
    assert!(
        crate::stderr(&out).contains("not a calibration.json written by `evalgate calibrate`"),
        "{}",
        crate::stderr(&out)
    );
}

/// A calibration the config names but that is missing stops `check`, and `run` before the
/// first conversation, naming the file: not after a whole run.
#[test]
fn a_missing_calibration_is_reported_before_the_run() {
    let p = judged_demo_project();
    calibrated(&p);
    let out = p.evalgate(&["check"]);
    assert_exit(&out, 2);
    assert!(
        crate::stderr(&out).contains("calibration.json: cannot read the judge's calibration"),
        "{}",
        crate::stderr(&out)
    );
    let out = p.evalgate(&["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 2);
    assert!(!p.dir.join("run").exists(), "nothing ran");
}
