//! A verdict you can trust: the gate never passes what it has not measured, and never
//! misses what it measured. One test per rule of DESIGN.md "Gate file".

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::{
    TempProject, assert_exit, repo_root, results, routine_cases as cases, shipped_demo_project,
    signal, start_run, stderr, stdout, stub, summary,
};

/// A bot behind the stub at `base_url`, answering at temperature 0 (so answers are cached).
fn stub_config(base_url: &str, extra: &str) -> String {
    format!(
        "bot:\n  provider: openai\n  base_url: {base_url}\n  model: stub\n  temperature: 0\n  timeout_s: 5\n{extra}evalsets: [\"evalsets/*.yaml\"]\ngate: gate.yaml\nrun:\n  concurrency: 4\n  retries: 0\n"
    )
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file of a run directory with its bytes, to show a command left them alone.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Starts a run of slow cases, waits for `after` results, interrupts it with SIGINT and
/// returns what it printed and its exit code.
fn interrupt_run(p: &TempProject, out: &str, after: usize) -> (String, Option<i32>) {
    let child = start_run(p, out, &[], after);
    signal(&child, "-INT");
    let output = child.wait_with_output().expect("wait");
    (
        format!("{}{}", stdout(&output), stderr(&output)),
        output.status.code(),
    )
}

#[test]
fn an_interrupted_run_is_incomplete_everywhere_and_stays_so() {
    let stub = stub::start();
    let p = TempProject::new();
    p.write("evalgate.yaml", &stub_config(&stub.base_url, ""));
    // A gate this bot passes when it finishes.
    p.write(
        "gate.yaml",
        "pass_rate: { routine: 0.9 }\nmax_error_rate: 0\n",
    );
    p.write("evalsets/en.yaml", &cases(80, |i| format!("[[slow]] q{i}")));

    let (printed, code) = interrupt_run(&p, "partial", 8);
    assert_eq!(code, Some(130), "{printed}");
    assert!(printed.contains("evalgate: INCOMPLETE"), "{printed}");
    assert!(printed.contains("Gate INCOMPLETE"), "{printed}");
    assert!(!printed.contains("evalgate: PASS"), "{printed}");
    assert!(!printed.contains("Gate PASS"), "{printed}");
    let run = p.dir.join("partial");
    let md = read(&run.join("report.md"));
    assert!(md.starts_with("## evalgate: INCOMPLETE"), "{md}");
    assert!(md.contains("Gate INCOMPLETE"), "{md}");
    assert!(
        md.contains("- FAIL complete (every planned result): overall"),
        "{md}"
    );
    assert!(md.contains("Not a verdict: the run holds"), "{md}");
    let html = read(&run.join("report.html"));
    assert!(
        html.contains(r#"<span class="verdict INCOMPLETE">evalgate: INCOMPLETE</span>"#),
        "the badge"
    );
    assert!(!html.contains("verdict PASS"));
    let s = summary(&run);
    assert_eq!(s["complete"], false);
    assert_eq!(s["gate"]["passed"], false);
    let kept = results(&run).len();
    assert!(kept < 80, "{kept}");

    // `gate` reads the partial run: incomplete (3), and it changes nothing.
    let before = snapshot(&run);
    let out = p.evalgate(&["gate", "partial"]);
    assert_exit(&out, 3);
    assert!(
        stdout(&out).contains("evalgate: INCOMPLETE"),
        "{}",
        stdout(&out)
    );
    assert_eq!(snapshot(&run), before, "gate wrote into the run directory");

    // A partial run re-scored is still partial.
    let out = p.evalgate(&["rescore", "partial", "--out", "rescored", "--quiet"]);
    assert_exit(&out, 3);
    assert!(
        stdout(&out).contains("evalgate: INCOMPLETE"),
        "{}",
        stdout(&out)
    );
    let s = summary(&p.dir.join("rescored"));
    assert_eq!(s["complete"], false);
    assert_eq!(s["planned"], 80);
    assert_eq!(s["written"].as_u64(), Some(kept as u64));

    // Neither becomes the baseline.
    for dir in ["partial", "rescored"] {
        let out = p.evalgate(&["baseline", "accept", dir]);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains("incomplete"), "{}", stderr(&out));
        let out = p.evalgate(&["baseline", "accept", "--force", dir]);
        assert_exit(&out, 2);
    }
    assert!(!p.dir.join("reports/baseline").exists());
}

#[test]
fn a_failed_gate_becomes_the_baseline_only_with_force() {
    let p = shipped_demo_project("support.md.j2", true);
    // The shipped gate with 12 cases per cell: the shipped sets have 11 routine and 11 edge cases.
    let strict = read(&repo_root().join("gates/launch.yaml"))
        .replace("per_language_stratum: 10", "per_language_stratum: 12");
    p.write("strict.yaml", &strict);
    let out = p.evalgate(&[
        "run",
        "--out",
        "r",
        "--quiet",
        "--no-baseline",
        "--gate",
        "strict.yaml",
        "--lang",
        "en",
    ]);
    assert_exit(&out, 1);
    let out = p.evalgate(&["baseline", "accept", "r"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("failed its gate"), "{err}");
    assert!(
        err.contains("FAIL min_cases en/routine: measured 11"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert!(!p.dir.join("reports/baseline").exists());
    let out = p.evalgate(&["baseline", "accept", "--force", "r"]);
    assert_exit(&out, 0);
    assert!(p.dir.join("reports/baseline/summary.json").is_file());
}

/// Rewrites a run's results so that the cases `fail` fail, as a regressed prompt would.
fn fail_cases(run: &Path, fail: &[String]) {
    let path = run.join("results.jsonl");
    let mut out = String::new();
    for line in read(&path).lines() {
        let mut r: Value = serde_json::from_str(line).unwrap();
        if fail.iter().any(|k| r["key"] == k.as_str()) {
            r["passed"] = Value::Bool(false);
        }
        out += &serde_json::to_string(&r).unwrap();
        out.push('\n');
    }
    std::fs::write(&path, out).unwrap();
}

#[test]
fn a_significant_regression_in_the_overall_slice_counts() {
    let p = shipped_demo_project("support.md.j2", true);
    p.write("gate.yaml", "max_significant_regressions: 0\n");
    let out = p.evalgate(&["run", "--out", "base", "--quiet", "--no-baseline"]);
    assert_exit(&out, 0);
    // Three cases per language fail, spread over the strata so that no language and no
    // stratum regresses significantly on its own: only the whole does.
    let mut by_cell: std::collections::BTreeMap<(String, String), Vec<String>> = Default::default();
    for r in results(&p.dir.join("base")) {
        let key = r["key"].as_str().unwrap().to_string();
        let cell = (
            r["language"].as_str().unwrap().to_string(),
            r["stratum"].as_str().unwrap().to_string(),
        );
        by_cell.entry(cell).or_default().push(key);
    }
    let strata = ["routine", "edge", "refusal", "adversarial"];
    let mut fail = Vec::new();
    for (i, lang) in ["de", "en", "es", "pl", "sv"].iter().enumerate() {
        for j in 0..3 {
            let stratum = strata[(i + j) % 4];
            let mut keys = by_cell[&(lang.to_string(), stratum.to_string())].clone();
            keys.sort();
            fail.push(keys[0].clone());
        }
    }
    std::fs::create_dir_all(p.dir.join("new")).unwrap();
    for f in ["results.jsonl", "summary.json", "prompt.txt"] {
        std::fs::copy(p.dir.join("base").join(f), p.dir.join("new").join(f)).unwrap();
    }
    fail_cases(&p.dir.join("new"), &fail);

    let out = p.evalgate(&["diff", "base", "new", "--format", "json"]);
    assert_exit(&out, 0);
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let significant: Vec<String> = d["slices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["significant_regression"] == true)
        .map(|s| format!("{} {}", s["dimension"], s["slice"]))
        .collect();
    assert_eq!(significant, [r#""overall" "all""#], "{d}");
    assert_eq!(d["significant_regressions"], 1);

    let out = p.evalgate(&["diff", "base", "new", "--fail-on-regression"]);
    assert_exit(&out, 1);
    assert!(
        stdout(&out).contains("Holm-adjusted p < 0.05): 1\n"),
        "{}",
        stdout(&out)
    );

    let out = p.evalgate(&["gate", "new", "--baseline", "base"]);
    assert_exit(&out, 1);
    assert!(
        stdout(&out).contains("FAIL significant_regressions"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn min_cases_counts_cases_and_intervals_use_them() {
    let stub = stub::start();
    let p = TempProject::new();
    p.write("evalgate.yaml", &stub_config(&stub.base_url, ""));
    p.write("gate.yaml", "min_cases: { per_language_stratum: 10 }\n");
    p.write("evalsets/en.yaml", &cases(4, |i| format!("q{i}")));
    let out = p.evalgate(&[
        "run",
        "--out",
        "r",
        "--quiet",
        "--repeats",
        "10",
        "--no-cache",
    ]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains(
            "  FAIL min_cases (>= 10): en/edge 0 · en/refusal 0 · en/adversarial 0 · en/routine 4\n"
        ),
        "{text}"
    );
    let cell = &summary(&p.dir.join("r"))["by_language_stratum"]["en/routine"];
    assert_eq!(cell["cases"], 4);
    assert_eq!(cell["results"], 40);
    // 4 of 4 cases: the interval reaches down to about 51%, not to 91% as 40 of 40 would.
    let low = cell["pass_rate_ci95"]["low"].as_f64().unwrap();
    assert!((0.45..0.55).contains(&low), "{low}");
}

#[test]
fn repeats_are_fresh_samples_not_cached_copies() {
    let stub = stub::start();
    let p = TempProject::new();
    p.write("evalgate.yaml", &stub_config(&stub.base_url, ""));
    p.write("gate.yaml", "max_error_rate: 0\n");
    p.write("evalsets/en.yaml", &cases(2, |i| format!("sample {i}")));
    let out = p.evalgate(&["run", "--out", "one", "--quiet"]);
    assert_exit(&out, 0);
    let out = p.evalgate(&["run", "--out", "three", "--quiet", "--repeats", "3"]);
    assert_exit(&out, 0);
    let seen = stub.seen.lock().unwrap().clone();
    // Repeat 0 came from the cache; repeats 1 and 2 asked the bot.
    assert_eq!(seen.get("sample 0"), Some(&3), "{seen:?}");
    assert_eq!(seen.get("sample 1"), Some(&3), "{seen:?}");
    for r in results(&p.dir.join("three")) {
        let cached = r["turns"][1]["cached"] == true;
        assert_eq!(cached, r["repeat"] == 0, "{r}");
    }
}

#[test]
fn a_filtered_run_is_gated_on_what_it_ran() {
    let p = shipped_demo_project("support.md.j2", true);
    // The example of `evalgate --help`.
    let out = p.evalgate(&[
        "run",
        "--out",
        "r",
        "--quiet",
        "--lang",
        "pl",
        "--stratum",
        "edge",
    ]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("min_cases (>= 10): pl/edge 11\n"), "{text}");
    assert!(
        text.contains("partial selection: --lang pl --stratum edge"),
        "{text}"
    );
    for report in ["report.md", "report.html"] {
        let body = read(&p.dir.join("r").join(report));
        assert!(body.contains("partial selection"), "{report}");
    }
    let s = summary(&p.dir.join("r"));
    assert_eq!(s["selection"]["languages"][0], "pl");
    assert_eq!(s["selection"]["strata"][0], "edge");
}

#[test]
fn resume_refuses_another_bot_judge_prompt_or_eval_sets() {
    let stub = stub::start();
    let other = stub::start();
    let p = TempProject::new();
    p.write("prompt.j2", "You are a support bot.");
    let config = |base_url: &str, extra: &str| {
        stub_config(base_url, &format!("  prompt: prompt.j2\n{extra}"))
    };
    p.write("evalgate.yaml", &config(&stub.base_url, ""));
    p.write("gate.yaml", "max_error_rate: 0\n");
    p.write("evalsets/en.yaml", &cases(6, |i| format!("q{i}")));
    let out = p.evalgate(&["run", "--out", "r", "--quiet", "--repeats", "2"]);
    assert_exit(&out, 0);
    let results_file = p.dir.join("r/results.jsonl");
    let whole = read(&results_file);

    let refused = |what: &str, args: &[&str]| {
        let mut all = vec!["run", "--resume", "r", "--quiet"];
        all.extend_from_slice(args);
        let out = p.evalgate(&all);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(what), "{what}: {}", stderr(&out));
        assert_eq!(read(&results_file), whole, "{what}: results were touched");
    };
    p.write(
        "evalgate.yaml",
        &config(&stub.base_url, "").replace("model: stub", "model: stub-2"),
    );
    refused("the bot model changed: stub → stub-2", &[]);
    p.write("evalgate.yaml", &config(&other.base_url, ""));
    refused("the bot base URL changed", &[]);
    p.write("evalgate.yaml", &config(&stub.base_url, ""));
    refused(
        "the bot version changed: none → v2",
        &["--bot-version", "v2"],
    );
    p.write(
        "evalgate.yaml",
        &format!(
            "{}judge:\n  provider: openai\n  base_url: {}\n  model: judge\n",
            config(&stub.base_url, ""),
            stub.base_url
        ),
    );
    refused("the judge changed: none →", &[]);
    p.write("evalgate.yaml", &config(&stub.base_url, ""));
    p.write("prompt.j2", "You are a different support bot.");
    refused("the prompt changed", &[]);
    p.write("prompt.j2", "You are a support bot.");
    p.write("evalsets/en.yaml", &cases(7, |i| format!("q{i}")));
    refused("the eval sets changed", &[]);
    p.write("evalsets/en.yaml", &cases(6, |i| format!("q{i}")));
    refused("--repeats 2", &["--repeats", "3"]);
    refused("the selection", &["--stratum", "edge"]);

    // Interrupted between repeats: some second repeats are missing. Resuming runs exactly
    // those, with the run's own repeat count.
    let kept: String = whole
        .lines()
        .filter(|l| {
            let r: Value = serde_json::from_str(l).unwrap();
            !(r["repeat"] == 1 && ["en/c0001", "en/c0004"].contains(&r["key"].as_str().unwrap()))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&results_file, kept).unwrap();
    let out = p.evalgate(&["run", "--resume", "r", "--quiet"]);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("10 results kept"), "{}", stderr(&out));
    let mut ids: Vec<String> = results(&p.dir.join("r"))
        .iter()
        .map(|r| format!("{}#{}", r["key"].as_str().unwrap(), r["repeat"]))
        .collect();
    ids.sort();
    let mut expected: Vec<String> = (0..6)
        .flat_map(|i| (0..2).map(move |k| format!("en/c{i:04}#{k}")))
        .collect();
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(summary(&p.dir.join("r"))["complete"], true);
}

#[test]
fn gate_is_read_only() {
    let p = shipped_demo_project("support.md.j2", true);
    let out = p.evalgate(&["run", "--out", "r", "--quiet", "--no-baseline"]);
    assert_exit(&out, 0);
    let run = p.dir.join("r");
    let before = snapshot(&run);
    p.write(
        "other.yaml",
        "pass_rate: { overall: 1.0 }\nmin_cases: { per_language_stratum: 12 }\n",
    );
    let step_summary = p.write("step-summary.md", "earlier step\n");
    let out = Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["gate", "r", "--gate", "other.yaml", "--no-baseline"])
        .current_dir(&p.dir)
        .env("GITHUB_STEP_SUMMARY", &step_summary)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(stdout(&out).contains("evalgate: FAIL"), "{}", stdout(&out));
    assert_eq!(snapshot(&run), before, "gate wrote into the run directory");
    assert_eq!(read(&step_summary), "earlier step\n");

    // Reports with another gate's verdict go where --out says.
    let out = p.evalgate(&["gate", "r", "--gate", "other.yaml", "--out", "regated"]);
    assert_exit(&out, 1);
    assert_eq!(snapshot(&run), before);
    let md = read(&p.dir.join("regated/report.md"));
    assert!(md.starts_with("## evalgate: FAIL"), "{md}");
    for f in ["junit.xml", "report.html", "report.json"] {
        assert!(p.dir.join("regated").join(f).is_file(), "{f}");
    }
}

#[test]
fn outcome_labels_say_what_happened() {
    let p = shipped_demo_project("support.md.j2", true);
    p.write(
        "evalgate.yaml",
        &read(&p.dir.join("evalgate.yaml")).replace("support.md.j2", "support-v2.md.j2"),
    );
    let out = p.evalgate(&[
        "run",
        "--out",
        "v2",
        "--quiet",
        "--no-baseline",
        "--lang",
        "de",
    ]);
    assert_exit(&out, 1);
    let rs = results(&p.dir.join("v2"));
    // The v2 prompt makes the bot answer in English: right answers, wrong language.
    let r = crate::result_for(&rs, "de/refund-eta-01");
    assert_eq!(r["observed_outcome"], "resolved", "{r}");
    assert_eq!(r["passed"], false);
    let s = summary(&p.dir.join("v2"));
    assert_eq!(s["by_language"]["de"]["deflection_rate"], 0.0);
    let junit = read(&p.dir.join("v2/junit.xml"));
    assert!(
        junit.contains(r#"<failure message="language: expected de, detected en">"#),
        "{junit}"
    );
    let html = read(&p.dir.join("v2/report.html"));
    assert!(html.contains("· language: expected de, detected en</summary>"));
}

#[test]
fn a_near_miss_is_never_shown_as_perfect() {
    let p = shipped_demo_project("support.md.j2", true);
    let root = repo_root();
    // The shipped English set with one case no reply can pass: 61 of 62.
    let en = read(&root.join("evalsets/support/en.yaml")).replacen(
        "must_include: [\"RM482913650GB\"]",
        "must_include: [\"no bot says this\"]",
        1,
    );
    p.write("evalsets/en.yaml", &en);
    p.write(
        "evalgate.yaml",
        &format!(
            "bot:\n  provider: demo\n  prompt: {}\nevalsets: [\"evalsets/*.yaml\"]\nsimulator:\n  provider: demo\n",
            root.join("prompts/support.md.j2").display()
        ),
    );
    let out = p.evalgate(&["run", "--out", "r", "--no-baseline"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("98.4% 61/62"), "{text}");
    assert!(text.contains("90.9% 10/11"), "{text}");
    assert!(!text.contains("100% 61/62"), "{text}");
    let md = read(&p.dir.join("r/report.md"));
    assert!(md.contains("98.4% (61/62)"), "{md}");
}

#[test]
fn results_no_rule_could_fail_are_unverified_and_capped() {
    let stub = stub::start();
    let p = TempProject::new();
    p.write("evalgate.yaml", &stub_config(&stub.base_url, ""));
    p.write("gate.yaml", "max_unverified_rate: 0\n");
    p.write(
        "evalsets/en.yaml",
        "language: en\ncases:\n  - id: advice\n    stratum: refusal\n    turns:\n      - user: \"bitcoin or an index fund?\"\n    expect:\n      outcome: refuse\n      language: any\n  - id: advice-checked\n    stratum: refusal\n    turns:\n      - user: \"bitcoin or an index fund, really?\"\n    expect:\n      outcome: refuse\n      language: any\n      must_not_include: [\"bitcoin\"]\n",
    );
    let out = p.evalgate(&["check"]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("unverified without a judge: 1 case"),
        "{}",
        stdout(&out)
    );
    let out = p.evalgate(&["run", "--out", "r"]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("  FAIL unverified_rate (<= 0%): overall 50%\n"),
        "{text}"
    );
    assert!(text.contains("Unverified: 1 result"), "{text}");
    let rs = results(&p.dir.join("r"));
    assert_eq!(crate::result_for(&rs, "en/advice")["unverified"], true);
    assert!(crate::result_for(&rs, "en/advice-checked")["unverified"].is_null());
    let s = summary(&p.dir.join("r"));
    assert_eq!(s["overall"]["unverified"], 1);
    assert!(read(&p.dir.join("r/report.md")).contains("Unverified: 1 result"));
    assert!(read(&p.dir.join("r/report.html")).contains(r#"<span class="badge unverified""#));
}

#[test]
fn exit_3_names_the_most_frequent_error() {
    let port = crate::closed_port();
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        &stub_config(&format!("http://127.0.0.1:{port}/v1"), ""),
    );
    // Even a gate that tolerates every error cannot make an unmeasured run a verdict.
    p.write("gate.yaml", "max_error_rate: 1\n");
    p.write("evalsets/en.yaml", &cases(40, |i| format!("q{i}")));
    let out = p.evalgate(&["run", "--out", "r", "--quiet"]);
    assert_exit(&out, 3);
    let err = stderr(&out);
    let cause = "Most frequent error (40 of 40 errors): connection error";
    assert!(err.contains(cause), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    let md = read(&p.dir.join("r/report.md"));
    // The verdict sentence, then the cause, before anything else.
    let head: Vec<&str> = md.split("\n\n").take(3).collect();
    assert!(
        head[1].contains("Not a verdict: 40 of 40 results are errors"),
        "{md}"
    );
    assert!(head[2].contains(cause), "{md}");
}
