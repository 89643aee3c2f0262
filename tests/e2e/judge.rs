//! The LLM judge against a stub judge server: verdicts honoured, protocol violations
//! retried once then recorded as judge errors (never passes), an unreachable judge makes
//! the run incomplete, the cache saves the second call, and rescore reproduces verdicts.

use crate::{TempProject, assert_exit, result_for, results, stub, summary, verdicts};

fn config(bot_url: &str, judge_url: &str) -> String {
    format!(
        "bot:\n  provider: openai\n  base_url: {bot_url}\n  model: stub\n  timeout_s: 5\njudge:\n  provider: openai\n  base_url: {judge_url}\n  model: stub-judge\n  retries: 1\n  concurrency: 2\n  timeout_s: 5\nevalsets: [\"evalsets/*.yaml\"]\nrun:\n  retries: 0\n  max_error_rate: 1\npricing:\n  currency: EUR\n  models:\n    stub: {{ input_per_mtok: 1000, output_per_mtok: 2000 }}\n    stub-judge: {{ input_per_mtok: 10, output_per_mtok: 10 }}\n"
    )
}

fn case(id: &str, user: &str, rubric: bool) -> String {
    let rubric = if rubric {
        "      rubric: [\"Gives 28 November as the date\"]\n"
    } else {
        ""
    };
    format!(
        "  - id: {id}\n    stratum: routine\n    turns:\n      - user: \"{user}\"\n    expect:\n      outcome: resolve\n      language: any\n{rubric}"
    )
}

fn evalset() -> String {
    let mut s = String::from("language: en\ncases:\n");
    for (id, user) in [
        ("good", "when does it ship"),
        ("fenced", "[[judge-fenced]] when"),
        ("fails", "[[judge-fail]] when"),
        ("garbage", "[[judge-garbage]] when"),
        ("extra", "[[judge-extra]] when"),
        ("missing", "[[judge-missing]] when"),
        ("bad-once", "[[judge-bad-once]] when"),
        ("deflected", "[[judge-deflected]] when"),
        ("claim", "[[judge-claim]] when"),
    ] {
        s += &case(id, user, true);
    }
    s += &case("no-rubric", "hello there", false);
    s
}

#[test]
fn verdicts_are_honoured_and_bad_ones_never_pass() {
    let stub = stub::start();
    let p = TempProject::new();
    p.write("evalgate.yaml", &config(&stub.base_url, &stub.base_url));
    p.write("evalsets/en.yaml", &evalset());
    let out = p.evalgate(&["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 0);
    let rs = results(&p.dir.join("run"));
    assert_eq!(rs.len(), 10);

    let good = result_for(&rs, "en/good");
    assert_eq!(good["passed"], true, "{good}");
    assert_eq!(good["observed_outcome"], "resolved");
    assert_eq!(
        good["judge"]["criteria"][0]["criterion"],
        "Gives 28 November as the date"
    );
    assert_eq!(result_for(&rs, "en/fenced")["passed"], true);
    assert_eq!(
        result_for(&rs, "en/bad-once")["passed"],
        true,
        "one retry fixes a single bad answer"
    );
    assert_eq!(result_for(&rs, "en/no-rubric")["passed"], true);

    let fails = result_for(&rs, "en/fails");
    assert_eq!(fails["passed"], false);
    assert!(
        fails["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "rubric 1"),
        "{fails}"
    );

    for key in ["en/garbage", "en/extra", "en/missing"] {
        let r = result_for(&rs, key);
        assert_eq!(r["passed"], false, "{key} must not pass: {r}");
        assert!(
            r["judge"]["error"]
                .as_str()
                .unwrap()
                .contains("invalid twice"),
            "{key}: {r}"
        );
        assert_ne!(
            r["observed_outcome"], "error",
            "a judge error is a failure, not a run error"
        );
    }
    let deflected = result_for(&rs, "en/deflected");
    assert_eq!(deflected["observed_outcome"], "deflected");
    assert_eq!(deflected["passed"], false);

    let s = summary(&p.dir.join("run"));
    assert_eq!(s["outcome_mode"], "judge");
    assert_eq!(s["rubric"], "judged");
    assert_eq!(s["overall"]["judge_errors"], 3);
    // 7 judged, 1 with an unsupported claim.
    assert!(
        (s["overall"]["unsupported_claim_rate"].as_f64().unwrap() - 1.0 / 7.0).abs() < 1e-9,
        "{}",
        s["overall"]
    );
    let cost = &s["cost"];
    assert_eq!(cost["currency"], "EUR");
    assert!(cost["bot"]["money"].as_f64().unwrap() > 0.0);
    assert!(cost["judge"]["tokens_in"].as_u64().unwrap() > 0);
    assert!(
        cost["cost_per_resolved"].as_f64().unwrap()
            > cost["bot_per_conversation"].as_f64().unwrap()
    );
    assert!(
        stub.judge_requests
            .lock()
            .unwrap()
            .iter()
            .all(|json_asked| *json_asked),
        "response_format is sent"
    );

    // Rerun: every valid verdict comes from the cache; only the invalid ones are asked again.
    let before = stub.judge_requests.lock().unwrap().len();
    let out = p.evalgate(&["run", "--out", "again", "--quiet"]);
    assert_exit(&out, 0);
    let asked_again = stub.judge_requests.lock().unwrap().len() - before;
    assert_eq!(
        asked_again,
        3 * 2,
        "only the three invalid verdicts are asked again, twice each"
    );

    // Rescore reproduces the verdicts from the transcripts without calling the bot.
    let bot_calls = |s: &stub::Stub| s.seen.lock().unwrap().values().sum::<u32>();
    let bot_before = bot_calls(&stub);
    let out = p.evalgate(&["rescore", "run", "--out", "rescored", "--quiet"]);
    assert_exit(&out, 0);
    assert_eq!(bot_calls(&stub), bot_before, "rescore never calls the bot");
    assert_eq!(
        verdicts(&p.dir.join("run")),
        verdicts(&p.dir.join("rescored"))
    );
}

#[test]
fn an_unreachable_judge_makes_the_run_incomplete() {
    let stub = stub::start();
    let port = crate::closed_port();
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        &config(&stub.base_url, &format!("http://127.0.0.1:{port}/v1"))
            .replace("max_error_rate: 1", "max_error_rate: 0"),
    );
    p.write(
        "evalsets/en.yaml",
        &format!("language: en\ncases:\n{}", case("a", "hello", true)),
    );
    let out = p.evalgate(&["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 3);
    let rs = results(&p.dir.join("run"));
    assert_eq!(rs[0]["observed_outcome"], "error");
    assert!(
        rs[0]["error"]
            .as_str()
            .unwrap()
            .contains("judge unreachable"),
        "{}",
        rs[0]
    );

    // A judge answering 503 is retried, then the same.
    let p2 = TempProject::new();
    p2.write(
        "evalgate.yaml",
        &config(&stub.base_url, &stub.base_url).replace("max_error_rate: 1", "max_error_rate: 0"),
    );
    p2.write(
        "evalsets/en.yaml",
        &format!(
            "language: en\ncases:\n{}",
            case("a", "[[judge-down]] hi", true)
        ),
    );
    let out = p2.evalgate(&["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 3);
}
