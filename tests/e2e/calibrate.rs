//! `evalgate calibrate` on a run judged by the stub judge: labels written here from the
//! run's own transcript hashes, agreement figures checked against hand arithmetic, and bad
//! labels refused with file and line before anything is written.

use std::path::Path;

use serde_json::{Value, json};

use crate::{TempProject, assert_exit, result_for, results, stderr, stdout, stub};

fn config(url: &str) -> String {
    format!(
        "bot:\n  provider: openai\n  base_url: {url}\n  model: stub\n  timeout_s: 5\njudge:\n  provider: openai\n  base_url: {url}\n  model: stub-judge\n  retries: 1\n  timeout_s: 5\nevalsets: [\"evalsets/*.yaml\"]\nrun:\n  retries: 0\n  max_error_rate: 1\n"
    )
}

fn evalset(language: &str, cases: &[(&str, &str)]) -> String {
    let mut s = format!("language: {language}\ncases:\n");
    for (id, user) in cases {
        s += &format!(
            "  - id: {id}\n    stratum: routine\n    turns:\n      - user: \"{user}\"\n    expect:\n      outcome: resolve\n      language: any\n      rubric: [\"Gives 28 November as the date\"]\n"
        );
    }
    s
}

/// A judged run in `run/`: the stub judge passes criterion 1 unless told `[[judge-fail]]`,
/// and calls the outcome `resolved` unless told `[[judge-deflected]]`.
fn judged_run(p: &TempProject) {
    let stub = stub::start();
    p.write("evalgate.yaml", &config(&stub.base_url));
    p.write(
        "evalsets/en.yaml",
        &evalset(
            "en",
            &[
                ("good1", "when does it ship"),
                ("good2", "when will it ship"),
                ("fails1", "[[judge-fail]] when"),
                ("fails2", "[[judge-fail]] when now"),
                ("deflected", "[[judge-deflected]] when"),
                ("garbage", "[[judge-garbage]] when"),
            ],
        ),
    );
    p.write(
        "evalsets/pl.yaml",
        &evalset(
            "pl",
            &[("good", "kiedy wysyłka"), ("fails", "[[judge-fail]] kiedy")],
        ),
    );
    let out = p.evalgate(&["run", "--out", "run", "--quiet", "--no-baseline"]);
    assert_exit(&out, 0);
}

fn label(results: &[Value], key: &str, labeler: &str, passed: bool, outcome: &str) -> String {
    let r = result_for(results, key);
    json!({
        "key": key,
        "repeat": r["repeat"],
        "transcript_sha256": r["transcript_sha256"],
        "labeler": labeler,
        "criteria": [{"n": 1, "passed": passed}],
        "outcome": outcome,
        "note": "",
    })
    .to_string()
}

fn calibration(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("calibration.json")).unwrap()
}

#[track_caller]
fn close(v: &Value, expected: f64) {
    let got = v.as_f64().unwrap_or(f64::NAN);
    assert!((got - expected).abs() < 1e-9, "{v} != {expected}");
}

#[test]
fn agreement_figures_match_hand_arithmetic() {
    let p = TempProject::new();
    judged_run(&p);
    let rs = results(&p.dir.join("run"));
    assert!(result_for(&rs, "en/garbage")["judge"]["error"].is_string());
    let ola = [
        // (judge, human) on criterion 1; outcome (judge, human).
        label(&rs, "en/good1", "ola", true, "resolved"), // P,P  r,r
        label(&rs, "en/good2", "ola", false, "resolved"), // P,F  r,r  lenient
        label(&rs, "en/fails1", "ola", false, "resolved"), // F,F  r,r
        label(&rs, "en/fails2", "ola", true, "escalated"), // F,P  r,e  harsh
        label(&rs, "en/deflected", "ola", true, "deflected"), // P,P  d,d
        label(&rs, "pl/good", "ola", true, "resolved"),  // P,P  r,r
        label(&rs, "pl/fails", "ola", false, "resolved"), // F,F  r,r
    ];
    let jan = [
        label(&rs, "en/good1", "jan", true, "resolved"), // P,P  r,r
        label(&rs, "en/fails1", "jan", false, "resolved"), // F,F  r,r
        label(&rs, "pl/good", "jan", false, "resolved"), // P,F  r,r  lenient
        label(&rs, "pl/fails", "jan", false, "resolved"), // F,F  r,r
        // Unmatched: another transcript, no such result, a judge that gave no verdict.
        label(&rs, "en/good2", "jan", true, "resolved").replace(
            result_for(&rs, "en/good2")["transcript_sha256"]
                .as_str()
                .unwrap(),
            &"0".repeat(64),
        ),
        label(&rs, "en/good1", "jan", true, "resolved").replace("en/good1", "en/gone"),
        label(&rs, "en/garbage", "jan", true, "resolved"),
    ];
    p.write("ola.jsonl", &(ola.join("\n") + "\n"));
    p.write("jan.jsonl", &(jan.join("\n") + "\n\n"));

    let out = p.evalgate(&["calibrate", "run", "--labels", "ola.jsonl", "jan.jsonl"]);
    assert_exit(&out, 0);
    let c = calibration(&p.dir.join("run/calibration.json"));
    assert_eq!(c["judge"]["model"], "stub-judge");
    assert!(
        c["judge"]["prompt_hash"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"),
        "{c}"
    );
    assert_eq!(c["unmatched"], 3, "{c}");

    let en = &c["by_language"]["en"];
    assert_eq!(
        (en["results"].as_u64(), en["criteria"].as_u64()),
        (Some(7), Some(7))
    );
    assert_eq!(
        (en["lenient"].as_u64(), en["harsh"].as_u64()),
        (Some(1), Some(1))
    );
    // Pass/pass 3, lenient 1, harsh 1, fail/fail 2: p_o = 5/7; both raters pass 4/7,
    // p_e = 16/49 + 9/49 = 25/49; κ = (35 − 25)/(49 − 25) = 5/12.
    close(&en["agreement"], 5.0 / 7.0);
    close(&en["kappa"], 5.0 / 12.0);
    // Outcomes r/r ×5, r/e, d/d: p_o = 6/7; judge r 6/7 d 1/7, human r 5/7 e 1/7 d 1/7;
    // p_e = 30/49 + 1/49 = 31/49; κ = (42 − 31)/(49 − 31) = 11/18.
    close(&en["outcome_agreement"], 6.0 / 7.0);
    close(&en["outcome_kappa"], 11.0 / 18.0);
    // ola and jan on good1 (P,P) and fails1 (F,F): p_o = 1, p_e = 1/2, κ = 1.
    close(&en["labeler_kappa"], 1.0);

    let pl = &c["by_language"]["pl"];
    assert_eq!(
        (
            pl["results"].as_u64(),
            pl["lenient"].as_u64(),
            pl["harsh"].as_u64()
        ),
        (Some(4), Some(1), Some(0))
    );
    // Pass/pass 1, lenient 1, fail/fail 2: p_o = 3/4; judge passes 1/2, humans 1/4;
    // p_e = 1/2·1/4 + 1/2·3/4 = 1/2; κ = (3/4 − 1/2)/(1/2) = 1/2.
    close(&pl["kappa"], 0.5);
    // Every outcome resolved on both sides: p_e = 1, κ undefined.
    close(&pl["outcome_agreement"], 1.0);
    assert!(pl["outcome_kappa"].is_null(), "{pl}");
    // ola P/F vs jan F/F: p_o = 1/2; ola passes 1/2, jan 0; p_e = 1/2; κ = 0.
    close(&pl["labeler_kappa"], 0.0);

    let all = &c["overall"];
    assert_eq!(
        (all["results"].as_u64(), all["criteria"].as_u64()),
        (Some(11), Some(11))
    );
    assert_eq!(
        (all["lenient"].as_u64(), all["harsh"].as_u64()),
        (Some(2), Some(1))
    );
    // Pass/pass 4, lenient 2, harsh 1, fail/fail 4: p_o = 8/11; judge passes 6/11,
    // humans 5/11; p_e = 30/121 + 30/121 = 60/121; κ = (88 − 60)/(121 − 60) = 28/61.
    close(&all["agreement"], 8.0 / 11.0);
    close(&all["kappa"], 28.0 / 61.0);
    // Outcomes r/r ×9, r/e, d/d: p_o = 10/11; p_e = 10/11·9/11 + 1/11·1/11 = 91/121;
    // κ = (110 − 91)/(121 − 91) = 19/30.
    close(&all["outcome_agreement"], 10.0 / 11.0);
    close(&all["outcome_kappa"], 19.0 / 30.0);
    // Labeler pairs P/P, F/F, P/F, F/F: p_o = 3/4, ola 2/4, jan 1/4, p_e = 1/2; κ = 1/2.
    close(&all["labeler_kappa"], 0.5);
    for f in [en, pl, all] {
        let (lo, hi) = (
            f["kappa_ci"][0].as_f64().unwrap(),
            f["kappa_ci"][1].as_f64().unwrap(),
        );
        let k = f["kappa"].as_f64().unwrap();
        assert!(lo <= k && k <= hi, "{f}");
        assert!(f.get("kappa_note").is_none(), "{f}");
    }

    let printed = stdout(&out);
    assert!(
        printed.contains("overall") && printed.contains("unmatched labels: 3"),
        "{printed}"
    );

    // Elsewhere with --out, and the same figures again: the interval is seeded.
    let out = p.evalgate(&[
        "calibrate",
        "run",
        "--labels",
        "ola.jsonl",
        "--labels",
        "jan.jsonl",
        "--out",
        "elsewhere.json",
    ]);
    assert_exit(&out, 0);
    assert_eq!(calibration(&p.dir.join("elsewhere.json")), c);
}

#[test]
fn constant_raters_leave_kappa_null_with_a_reason() {
    let p = TempProject::new();
    judged_run(&p);
    let rs = results(&p.dir.join("run"));
    p.write(
        "labels.jsonl",
        &[
            label(&rs, "en/good1", "ola", true, "resolved"),
            label(&rs, "en/good2", "ola", true, "resolved"),
        ]
        .join("\n"),
    );
    let out = p.evalgate(&["calibrate", "run", "--labels", "labels.jsonl"]);
    assert_exit(&out, 0);
    let all = &calibration(&p.dir.join("run/calibration.json"))["overall"];
    close(&all["agreement"], 1.0);
    assert!(all["kappa"].is_null() && all["kappa_ci"].is_null(), "{all}");
    assert!(
        all["kappa_note"]
            .as_str()
            .unwrap()
            .contains("chance agreement is 1"),
        "{all}"
    );
}

#[test]
fn bad_labels_stop_with_file_and_line_and_write_nothing() {
    let p = TempProject::new();
    judged_run(&p);
    let rs = results(&p.dir.join("run"));
    let good = label(&rs, "en/good1", "ola", true, "resolved");
    let cases = [
        ("malformed", format!("{good}\n{{\"key\": \"en/good1\",\n")),
        (
            "unknown field",
            format!("{good}\n{}", good.replace("\"note\"", "\"comment\"")),
        ),
        (
            "outcome",
            format!("{good}\n{}", good.replace("\"resolved\"", "\"solved\"")),
        ),
        (
            "criterion",
            format!("{good}\n{}", good.replace("\"n\":1", "\"n\":2")),
        ),
    ];
    for (what, text) in cases {
        p.write("labels.jsonl", &text);
        let out = p.evalgate(&["calibrate", "run", "--labels", "labels.jsonl"]);
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("labels.jsonl:2: "),
            "{what}: {}",
            stderr(&out)
        );
        assert!(
            !p.dir.join("run/calibration.json").exists(),
            "{what}: nothing written"
        );
    }
}
