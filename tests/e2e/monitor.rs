//! `evalgate monitor` on real files: figures checked against a hand count (window and
//! pending edges on both sides, handoff by flag and by agent message), bad lines named,
//! the README's command firing for the drifting language only, `--eval`, the judge sample
//! against a stub judge on 127.0.0.1, and monitor.html in a real browser.

use std::path::Path;

use serde_json::Value;

use crate::{TempProject, assert_exit, chromium, headless, repo_root, stderr, stdout, stub};

fn conversation(id: &str, customer: &str, language: &str, start: &str, how: &str) -> String {
    // `how`: contained by flag, contained by messages, escalated by flag, escalated by an
    // agent's message, or the flag saying contained although an agent wrote.
    let (messages, extra) = match how {
        "contained-flag" => ("", ", \"handoff\": false"),
        "contained" => ("", ""),
        "escalated-flag" => ("", ", \"handoff\": true"),
        "escalated-agent" => (", {\"role\": \"agent\", \"text\": \"Anna here.\"}", ""),
        "flag-overrides-agent" => (
            ", {\"role\": \"agent\", \"text\": \"Survey: rate us\"}",
            ", \"handoff\": false",
        ),
        other => panic!("unknown {other}"),
    };
    format!(
        "{{\"id\": \"{id}\", \"customer_id\": \"{customer}\", \"language\": \"{language}\", \"started_at\": \"{start}\", \"messages\": [{{\"role\": \"customer\", \"text\": \"Where is my refund?\"}}, {{\"role\": \"bot\", \"text\": \"It is on its way.\"}}{messages}]{extra}}}"
    )
}

/// Ten conversations worked out by hand (window 7 days; latest start 11-20T10:00Z, so a
/// conversation is pending when it started after 11-13T10:00Z):
///
/// | id | customer | lang | start (UTC)       | handoff            | repeat? | pending? |
/// | a  | u-1      | pl   | 11-02 09:00       | no (messages)      | yes: b exactly 7 × 24 h later | no |
/// | b  | u-1      | pl   | 11-09 09:00       | yes (flag)         | -       | no |
/// | c  | u-2      | pl   | 11-03 10:00       | no (flag over an agent's message) | no: d is 7 days and a minute later | no |
/// | d  | u-2      | pl   | 11-10 10:01       | yes (agent message)| -       | no |
/// | e  | u-3      | en   | 11-04 07:00 (+01:00 offset) | no (flag) | yes: f 2 h later | no |
/// | f  | u-3      | en   | 11-04 09:00       | no                 | no      | no |
/// | g  | u-4      | en   | 11-10 00:00       | no                 | no      | no |
/// | h  | u-5      | en   | 11-20 10:00       | no                 | -       | yes (the latest start) |
/// | i  | u-6      | en   | 11-13 10:00       | no                 | no      | no: its window ends exactly at the latest start |
/// | j  | u-7      | en   | 11-13 10:00:01    | yes (flag)         | -       | yes: a second later |
///
/// pl: 4 settled, contained a c, escalated b d, 1 repeat (a), durable 1 (c): containment
/// 50%, repeat 50%, durable 25%; CSAT contained (2 + 5) / 2 = 3.5, escalated 4.
/// en: 6 conversations, 2 pending (h j), 4 settled all contained, 1 repeat (e), durable 3.
/// overall: 10, pending 2, settled 8, contained 6, escalated 2, repeats 2, durable 4.
fn hand_export() -> String {
    let mut lines = vec![
        conversation("a", "u-1", "pl", "2026-11-02T09:00:00Z", "contained")
            .replace("]}", "], \"csat\": 2}"),
        conversation("b", "u-1", "pl", "2026-11-09T09:00:00Z", "escalated-flag")
            .replace("true}", "true, \"csat\": 4}"),
        conversation(
            "c",
            "u-2",
            "pl",
            "2026-11-03T10:00:00Z",
            "flag-overrides-agent",
        )
        .replace("false}", "false, \"csat\": 5}"),
        conversation("d", "u-2", "pl", "2026-11-10T10:01:00Z", "escalated-agent"),
        conversation(
            "e",
            "u-3",
            "en",
            "2026-11-04T08:00:00+01:00",
            "contained-flag",
        ),
        conversation("f", "u-3", "en", "2026-11-04T09:00:00Z", "contained"),
        conversation("g", "u-4", "en", "2026-11-10T00:00:00Z", "contained"),
        conversation("h", "u-5", "en", "2026-11-20T10:00:00Z", "contained"),
        conversation("i", "u-6", "en", "2026-11-13T10:00:00Z", "contained"),
        conversation("j", "u-7", "en", "2026-11-13T10:00:01Z", "escalated-flag"),
    ];
    // Order does not matter: the export is not sorted by time.
    lines.swap(0, 7);
    lines.join("\n") + "\n"
}

fn monitor_json(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("monitor.json")).expect("monitor.json");
    serde_json::from_str(&text).expect("monitor.json is JSON")
}

fn counts(m: &Value) -> Vec<u64> {
    [
        "conversations",
        "settled",
        "pending",
        "contained",
        "escalated",
        "repeat_contacts",
        "durably_resolved",
    ]
    .iter()
    .map(|k| m[*k].as_u64().unwrap_or_else(|| panic!("{k} in {m}")))
    .collect()
}

#[test]
fn figures_match_the_hand_count_with_both_sides_of_every_edge() {
    let p = TempProject::new();
    p.write("export.jsonl", &hand_export());
    let out = p.evalgate(&["monitor", "export.jsonl", "--out", "mon", "--quiet"]);
    assert_exit(&out, 0);
    let m = monitor_json(&p.dir.join("mon"));
    assert_eq!(m["repeat_window_days"], 7);
    assert_eq!(m["latest_started_at"], "2026-11-20T10:00:00Z");
    let pl = &m["by_language"]["pl"];
    assert_eq!(counts(pl), vec![4, 4, 0, 2, 2, 1, 1]);
    assert_eq!(pl["containment_rate"], 0.5);
    assert_eq!(pl["escalation_rate"], 0.5);
    assert_eq!(pl["repeat_contact_rate"], 0.5);
    assert_eq!(pl["durable_resolution_rate"], 0.25);
    assert_eq!(pl["csat_contained"], 3.5);
    assert_eq!(pl["csat_escalated"], 4.0);
    let en = &m["by_language"]["en"];
    assert_eq!(counts(en), vec![6, 4, 2, 4, 0, 1, 3]);
    assert_eq!(en["durable_resolution_rate"], 0.75);
    assert!(en.get("csat_contained").is_none(), "no CSAT, no mean: {en}");
    let overall = &m["overall"];
    assert_eq!(counts(overall), vec![10, 8, 2, 6, 2, 2, 4]);
    assert_eq!(overall["containment_rate"], 0.75);
    assert_eq!(overall["durable_resolution_rate"], 0.5);
    let weeks: Vec<(String, Vec<u64>)> = m["by_week"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(w, v)| (w.clone(), counts(v)))
        .collect();
    assert_eq!(
        weeks,
        vec![
            ("2026-W45".to_string(), vec![4, 4, 0, 4, 0, 2, 2]),
            ("2026-W46".to_string(), vec![5, 4, 1, 2, 2, 0, 2]),
            ("2026-W47".to_string(), vec![1, 0, 1, 0, 0, 0, 0]),
        ]
    );
    assert_eq!(m["by_week"]["2026-W47"]["containment_rate"], Value::Null);
    assert_eq!(m["rollback"]["criteria"].as_array().unwrap().len(), 0);
    for file in ["monitor.md", "monitor.html"] {
        assert!(p.dir.join("mon").join(file).is_file(), "{file}");
    }

    // A window of 8 days takes in d (7 days and a minute after c): c becomes a repeat.
    let out = p.evalgate(&[
        "monitor",
        "export.jsonl",
        "--out",
        "mon8",
        "--repeat-window-days",
        "8",
        "--quiet",
    ]);
    assert_exit(&out, 0);
    let m = monitor_json(&p.dir.join("mon8"));
    assert_eq!(m["by_language"]["pl"]["repeat_contacts"], 2);
    assert_eq!(m["repeat_window_days"], 8);
}

#[test]
fn a_malformed_line_is_exit_2_naming_file_line_and_field_and_writes_nothing() {
    let p = TempProject::new();
    let good = conversation("a", "u-1", "pl", "2026-11-02T09:00:00Z", "contained");
    for (bad, field) in [
        (
            good.replace("\"a\"", "\"z\"")
                .replace("2026-11-02T09:00:00Z", "2026-11-02 9am"),
            "field `started_at`",
        ),
        (
            good.replace("\"a\"", "\"z\"")
                .replace("]}", "], \"csat\": \"great\"}"),
            "field `csat`",
        ),
        (
            good.replace("\"a\"", "\"z\"")
                .replace("\"role\": \"bot\"", "\"role\": \"assistant\""),
            "field `messages[1].role`",
        ),
        (good.clone(), "field `id`: conversation \"a\" appears twice"),
        ("{\"id\": \"z\"".to_string(), "not a JSON object"),
    ] {
        p.write("export.jsonl", &format!("{good}\n\n{bad}\n"));
        let out = p.evalgate(&["monitor", "export.jsonl", "--out", "mon"]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(
            err.contains("export.jsonl:3"),
            "names the file and line: {err}"
        );
        assert!(err.contains(field), "names the field {field}: {err}");
        assert!(!p.dir.join("mon").exists(), "nothing written");
    }
    let out = p.evalgate(&["monitor", "missing.jsonl"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("missing.jsonl: no such export file"),
        "{}",
        stderr(&out)
    );
    std::fs::create_dir(p.dir.join("exports")).unwrap();
    let out = p.evalgate(&["monitor", "exports"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("exports: not a regular file"),
        "{}",
        stderr(&out)
    );
    p.write("empty.jsonl", "\n");
    let out = p.evalgate(&["monitor", "empty.jsonl", "--out", "mon"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("empty.jsonl: no conversations in the export: nothing to monitor"),
        "{}",
        stderr(&out)
    );
    assert!(!p.dir.join("mon").exists(), "nothing written");
}

/// README "From launch to live", as written, in a project `evalgate init` made.
#[test]
fn the_readme_command_fires_for_the_drifting_language_only() {
    let p = TempProject::new();
    let out = p.evalgate(&["init", "."]);
    assert_exit(&out, 0);
    let export = repo_root().join("examples/production/export.jsonl");
    std::fs::create_dir_all(p.dir.join("examples/production")).unwrap();
    std::fs::copy(&export, p.dir.join("examples/production/export.jsonl")).unwrap();
    let out = p.evalgate(&[
        "monitor",
        "examples/production/export.jsonl",
        "--gate",
        "gates/launch.yaml",
    ]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("Rollback trigger FIRED"), "{text}");
    let fails: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("FAIL"))
        .collect();
    assert!(!fails.is_empty(), "{text}");
    assert!(
        fails.iter().all(|l| l.contains(" pl: ")),
        "only pl fires: {fails:?}"
    );
    assert!(text.contains("WAIT max_drop_vs_eval"), "{text}");
    let reports: Vec<_> = std::fs::read_dir(p.dir.join("reports"))
        .expect("reports/ written")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("monitor-"))
        .collect();
    assert_eq!(reports.len(), 1, "the default output folder");
    let m = monitor_json(&reports[0].path());
    assert_eq!(m["rollback"]["passed"], false);
    let failed: Vec<&str> = m["rollback"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["scope"].as_str().unwrap())
        .collect();
    assert_eq!(failed, vec!["pl"], "{m}");
    for c in m["rollback"]["criteria"].as_array().unwrap() {
        for key in ["criterion", "scope", "threshold", "measured", "passed"] {
            assert!(c.get(key).is_some(), "{key} in {c}");
        }
    }
    assert!(m["by_language"].as_object().unwrap().len() >= 5);
}

#[test]
fn min_conversations_holds_criteria_back_and_the_eval_sets_the_drop() {
    // A launch eval of English only, against the stub bot, which resolves every case.
    let bot = stub::start();
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        &format!("bot:\n  provider: openai\n  base_url: {}\n  model: stub\nevalsets: [\"evalsets/*.yaml\"]\n", bot.base_url),
    );
    p.write(
        "evalsets/en.yaml",
        &crate::routine_cases(3, |i| format!("when does order {i} ship")),
    );
    let out = p.evalgate(&["run", "--out", "launch", "--quiet"]);
    assert_exit(&out, 0);
    let launch = crate::summary(&p.dir.join("launch"));
    let launch_en = launch["by_language"]["en"]["resolution_rate"]
        .as_f64()
        .expect("en resolution rate");
    p.write("export.jsonl", &hand_export());
    p.write(
        "rollback.yaml",
        "rollback:\n  min_conversations: 4\n  max_repeat_contact_rate: 0.40\n  max_drop_vs_eval: 0.10\n  per_language: true\n",
    );
    let out = p.evalgate(&[
        "monitor",
        "export.jsonl",
        "--gate",
        "rollback.yaml",
        "--eval",
        "launch",
        "--out",
        "mon",
        "--quiet",
    ]);
    assert_exit(&out, 1);
    let m = monitor_json(&p.dir.join("mon"));
    let find = |name: &str, scope: &str| {
        m["rollback"]["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["criterion"] == name && c["scope"] == scope)
            .unwrap_or_else(|| panic!("{name} {scope} in {m}"))
            .clone()
    };
    // pl: 50% repeats > 40% with exactly 4 settled conversations: enough, fires.
    assert_eq!(find("max_repeat_contact_rate", "pl")["passed"], false);
    // en: durable 75%, the eval resolved launch_en: the drop is measured against it.
    let drop = find("max_drop_vs_eval", "en");
    let measured = drop["measured"].as_f64().unwrap();
    assert!((measured - (launch_en - 0.75)).abs() < 1e-9, "{drop}");
    assert_eq!(drop["passed"], Value::Bool(measured <= 0.10 + 1e-12));
    // pl was not in the eval: that criterion waits.
    let pl_drop = find("max_drop_vs_eval", "pl");
    assert_eq!(pl_drop["passed"], Value::Null);
    assert_eq!(pl_drop["waiting"], "not_in_eval");

    // One more settled conversation needed: every criterion of the language waits.
    p.write(
        "rollback.yaml",
        "rollback:\n  min_conversations: 5\n  max_repeat_contact_rate: 0.40\n  per_language: true\n",
    );
    let out = p.evalgate(&[
        "monitor",
        "export.jsonl",
        "--gate",
        "rollback.yaml",
        "--out",
        "mon5",
    ]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out)
            .contains("WAIT max_repeat_contact_rate en · pl: not enough conversations (4 < 5)"),
        "{}",
        stdout(&out)
    );
    let bad = p.write("bad.yaml", "rollback:\n  max_repeat_contact_rate: 15\n");
    let out = p.evalgate(&["monitor", "export.jsonl", "--gate", bad.to_str().unwrap()]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("rollback.max_repeat_contact_rate must be a share"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_judge_sample_gives_live_deflection_and_hallucination() {
    let judge = stub::start();
    let p = TempProject::new();
    let mut lines = Vec::new();
    for i in 0..6 {
        let marker = match i {
            0 | 1 => "[[judge-deflected]] ",
            2 => "[[judge-claim]] ",
            _ => "",
        };
        lines.push(
            conversation(
                &format!("c{i}"),
                &format!("u{i}"),
                "en",
                &format!("2026-11-0{}T09:00:00Z", i + 1),
                "contained",
            )
            .replace("It is on its way.", &format!("{marker}It is on its way.")),
        );
    }
    // Escalated and pending conversations are never sampled.
    lines.push(
        conversation("esc", "u-e", "en", "2026-11-02T09:00:00Z", "escalated-flag")
            .replace("It is on its way.", "[[judge-down]]"),
    );
    lines.push(
        conversation("late", "u-l", "en", "2026-11-30T09:00:00Z", "contained")
            .replace("It is on its way.", "[[judge-down]]"),
    );
    p.write("export.jsonl", &(lines.join("\n") + "\n"));

    let out = p.evalgate(&[
        "monitor",
        "export.jsonl",
        "--judge-sample",
        "10",
        "--out",
        "mon",
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("--judge-sample needs a judge"),
        "{}",
        stderr(&out)
    );

    p.write(
        "evalgate.yaml",
        &format!("bot:\n  provider: demo\nevalsets: [\"evalsets/*.yaml\"]\njudge:\n  provider: openai\n  base_url: {}\n  model: stub-judge\n  retries: 0\n  timeout_s: 5\n", judge.base_url),
    );
    let out = p.evalgate(&[
        "monitor",
        "export.jsonl",
        "--judge-sample",
        "10",
        "--out",
        "mon",
        "--no-cache",
        "--quiet",
    ]);
    assert_exit(&out, 0);
    let m = monitor_json(&p.dir.join("mon"));
    let en = &m["judge_sample"]["en"];
    assert_eq!(en["population"], 6, "{en}");
    assert_eq!(en["sampled"], 6);
    assert_eq!(en["judged"], 6);
    assert_eq!(en["deflected"], 2);
    assert_eq!(en["with_unsupported_claims"], 1);
    assert_eq!(en["live_deflection_rate"], 2.0 / 6.0);
    assert_eq!(
        judge.judge_requests.lock().unwrap().len(),
        6,
        "one judge call per sampled conversation"
    );
    assert!(
        stdout(&out).contains("live deflection 33.3%"),
        "{}",
        stdout(&out)
    );

    // A seeded sample of 3: the same conversations twice.
    let ids = |dir: &str| {
        let out = p.evalgate(&[
            "monitor",
            "export.jsonl",
            "--judge-sample",
            "3",
            "--seed",
            "9",
            "--out",
            dir,
            "--quiet",
        ]);
        assert_exit(&out, 0);
        monitor_json(&p.dir.join(dir))["judge_sample"]["en"]["conversation_ids"].clone()
    };
    let first = ids("s1");
    assert_eq!(first.as_array().unwrap().len(), 3);
    assert_eq!(first, ids("s2"));
}

#[test]
fn monitor_html_draws_funnels_and_trends_in_a_real_browser() {
    let p = TempProject::new();
    let mut export =
        std::fs::read_to_string(repo_root().join("examples/production/export.jsonl")).unwrap();
    // A hostile language tag must stay text.
    export.push_str(&conversation(
        "x",
        "u-x",
        "<img src=x onerror=\\\"document.title='pwned'\\\">",
        "2026-11-02T09:00:00Z",
        "contained",
    ));
    export.push('\n');
    p.write("export.jsonl", &export);
    let out = p.evalgate(&[
        "monitor",
        "export.jsonl",
        "--gate",
        &repo_root().join("gates/launch.yaml").display().to_string(),
        "--out",
        "mon",
    ]);
    assert_exit(&out, 1);
    let page = p.dir.join("mon/monitor.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("<script") && !html.contains("http://") && !html.contains("https://"),
        "self-contained, no script"
    );
    assert!(html.contains("&lt;img src=x"), "export text is escaped");

    let Some(browser) = chromium() else {
        return;
    };
    let url = format!("file://{}", page.display());
    let profile = p.dir.join("chromium-profile");
    let dom = headless(&browser, &profile, &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(!dom.contains("<title>pwned"), "an injected handler ran");
    assert!(
        !dom.contains("<img src=\"x\""),
        "the hostile tag became an element"
    );
    for language in ["de", "en", "es", "pl", "sv"] {
        assert!(
            dom.contains(&format!(
                "<div class=\"funnel\" data-language=\"{language}\">"
            )),
            "funnel of {language}"
        );
        assert!(
            dom.contains(&format!(
                "<div class=\"trend\" data-language=\"{language}\">"
            )),
            "trend of {language}"
        );
    }
    // Each trend has its two lines, with a point for every settled week (7 of 8).
    let pl = dom
        .split("<div class=\"trend\" data-language=\"pl\">")
        .nth(1)
        .unwrap();
    let pl = &pl[..pl.find("</svg>").unwrap()];
    for series in ["containment", "durable"] {
        let line = pl
            .split(&format!("<polyline class=\"{series}\""))
            .nth(1)
            .expect(series);
        let points = line
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(points.split(' ').count(), 7, "{series}: {points}");
    }
    assert!(
        dom.contains("data-status=\"FAIL\""),
        "the failed criterion is shown"
    );

    let shot = p.dir.join("monitor.png");
    let out = headless(
        &browser,
        &profile,
        &[
            "--window-size=1200,2400",
            &format!("--screenshot={}", shot.display()),
            &url,
        ],
    );
    assert!(
        out.status.success() || shot.is_file(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::metadata(&shot)
            .map(|m| m.len() > 20_000)
            .unwrap_or(false),
        "a page was drawn"
    );
}
