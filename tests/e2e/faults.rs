//! The openai provider against the fault-injecting stub: multi-turn history, handoffs,
//! retries, timeouts and bad bodies. Every case must end as exactly one result line.

use crate::{TempProject, assert_exit, result_for, results, stderr, stdout, stub, summary};

fn config(base_url: &str, extra: &str) -> String {
    format!(
        "bot:\n  provider: openai\n  base_url: {base_url}\n  model: stub\n  prompt: prompt.j2\n  timeout_s: 1\n  handoff:\n    tool: escalate_to_human\n    markers: [\"[HANDOFF]\"]\nevalsets: [\"evalsets/*.yaml\"]\nrun:\n  concurrency: 4\n  retries: 2\n{extra}"
    )
}

const PROMPT: &str = "You help {{ language }} customers. Context: {{ context | tojson }}\n";

fn case(id: &str, stratum: &str, outcome: &str, turns: &[&str]) -> String {
    let turns: String = turns
        .iter()
        .map(|t| format!("      - user: \"{t}\"\n"))
        .collect();
    format!(
        "  - id: {id}\n    stratum: {stratum}\n    turns:\n{turns}    expect:\n      outcome: {outcome}\n      language: any\n"
    )
}

#[test]
fn every_fault_ends_as_exactly_one_result() {
    let stub = stub::start();
    let p = TempProject::new();
    p.write("evalgate.yaml", &config(&stub.base_url, ""));
    p.write("prompt.j2", PROMPT);
    let mut cases = String::from("language: en\ncases:\n");
    cases += &case(
        "multi",
        "routine",
        "resolve",
        &["first question", "second question", "third {{ not_a_var }}"],
    );
    cases += &case("tool", "edge", "escalate", &["[[tool]] my card was stolen"]);
    cases += &case(
        "marker",
        "edge",
        "escalate",
        &["[[marker]] I was charged twice", "never sent"],
    );
    cases += &case(
        "rate-limited",
        "routine",
        "resolve",
        &["[[429-once]] where is my order"],
    );
    cases += &case("stall", "routine", "resolve", &["[[stall]] hello"]);
    cases += &case("server-error", "routine", "resolve", &["[[500]] hello"]);
    cases += &case("client-error", "routine", "resolve", &["[[400]] hello"]);
    cases += &case("garbage", "routine", "resolve", &["[[garbage]] hello"]);
    cases += &case("reset", "routine", "resolve", &["[[reset]] hello"]);
    p.write("evalsets/en.yaml", &cases);

    let out = p.evalgate(&["run", "--out", "run", "--quiet"]);
    let rs = results(&p.dir.join("run"));
    assert_eq!(rs.len(), 9, "one line per case: {}", stderr(&out));

    let multi = result_for(&rs, "en/multi");
    assert_eq!(multi["passed"], true, "{multi}");
    let turns = multi["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 6);
    // The third request carried the system prompt and the whole history.
    assert!(
        multi["reply"]
            .as_str()
            .unwrap()
            .contains("turn 3; I saw 6 messages with system=true"),
        "{multi}"
    );
    assert_eq!(
        turns[4]["content"], "third {{ not_a_var }}",
        "case text is sent literally"
    );
    assert_eq!(multi["tokens_in"], 20 + 40 + 60);

    let tool = result_for(&rs, "en/tool");
    assert_eq!(tool["observed_outcome"], "escalated");
    assert_eq!(tool["passed"], true);
    let marker = result_for(&rs, "en/marker");
    assert_eq!(marker["observed_outcome"], "escalated");
    assert_eq!(
        marker["turns"].as_array().unwrap().len(),
        2,
        "the script stops at a handoff"
    );

    let limited = result_for(&rs, "en/rate-limited");
    assert_eq!(limited["passed"], true, "{limited}");
    assert_eq!(limited["attempts"], 2);
    assert!(
        limited["latency_ms"].as_u64().unwrap() >= 900,
        "Retry-After: 1 was honoured: {limited}"
    );

    for (key, needle, attempts) in [
        ("en/stall", "timeout", 3),
        ("en/server-error", "HTTP 500", 3),
        ("en/client-error", "HTTP 400", 1),
        ("en/garbage", "invalid response", 1),
        ("en/reset", "connection error", 3),
    ] {
        let r = result_for(&rs, key);
        assert_eq!(r["observed_outcome"], "error", "{r}");
        assert_eq!(r["passed"], false, "{r}");
        assert!(r["error"].as_str().unwrap().contains(needle), "{key}: {r}");
        assert_eq!(r["attempts"], attempts, "{key}: {r}");
    }

    assert_eq!(
        out.status.code(),
        Some(3),
        "errors make the run incomplete: {}",
        stderr(&out)
    );
    let s = summary(&p.dir.join("run"));
    assert_eq!(s["overall"]["errors"], 5);
    assert_eq!(s["overall"]["scored"], 4);
    assert_eq!(s["overall"]["pass_rate"], 1.0);
    assert_eq!(s["overall"]["missed_escalations"], 0);
    assert!(stdout(&out).contains("Errors: 5 of 9"), "{}", stdout(&out));
}

#[test]
fn a_clean_run_exits_zero_and_an_error_budget_is_respected() {
    let stub = stub::start();
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        &config(&stub.base_url, "  max_error_rate: 0.5\n"),
    );
    p.write("prompt.j2", PROMPT);
    let mut cases = String::from("language: en\ncases:\n");
    cases += &case("a", "routine", "resolve", &["hello"]);
    cases += &case("b", "routine", "resolve", &["[[400]] hello"]);
    p.write("evalsets/en.yaml", &cases);
    let out = p.evalgate(&["run", "--out", "run"]);
    assert_exit(&out, 0);
}

/// One case saying `message` to a bot at a port nothing listens on, without retries.
fn project_with_unreachable_bot(message: &str) -> TempProject {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = crate::closed_port();
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        &config(&format!("http://127.0.0.1:{port}/v1"), "").replace("retries: 2", "retries: 0"),
    );
    p.write("prompt.j2", PROMPT);
    p.write(
        "evalsets/en.yaml",
        &format!(
            "language: en\ncases:\n{}",
            case("a", "routine", "resolve", &[message])
        ),
    );
    p
}

#[test]
fn an_unreachable_bot_is_incomplete_not_a_failure() {
    let p = project_with_unreachable_bot("hi");
    let out = p.evalgate(&["run", "--out", "run"]);
    assert_exit(&out, 3);
    assert!(
        stderr(&out).contains("every request failed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(results(&p.dir.join("run")).len(), 1);
}

/// An `http://` bot with `HTTP_PROXY` set is reached through the proxy, as users behind one
/// expect: nothing listens at the bot's own address, so only the proxy can answer.
#[test]
fn an_http_proxy_in_the_environment_is_used() {
    let proxy = stub::start();
    let proxy_url = proxy.base_url.trim_end_matches("/v1").to_string();
    let p = project_with_unreachable_bot("through the proxy");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["run", "--out", "run", "--no-cache"])
        .current_dir(&p.dir)
        .env("http_proxy", &proxy_url)
        .env("HTTP_PROXY", &proxy_url)
        .env("no_proxy", "")
        .env("NO_PROXY", "")
        .output()
        .expect("run evalgate");
    assert_exit(&out, 0);
    let seen = proxy.seen.lock().expect("lock");
    assert_eq!(seen.get("through the proxy"), Some(&1), "{}", stderr(&out));
}

/// A bot that asks to slow down shows in the progress output while the run goes, not
/// only in the results afterwards.
#[test]
fn a_retry_shows_in_the_progress_output() {
    let stub = stub::start();
    let p = TempProject::new();
    p.write("evalgate.yaml", &config(&stub.base_url, ""));
    p.write("prompt.j2", PROMPT);
    p.write(
        "evalsets/en.yaml",
        &format!(
            "language: en\ncases:\n{}",
            case("slow-down", "routine", "resolve", &["[[429-once]] hello"])
        ),
    );
    let out = p.evalgate(&["run", "--out", "run"]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains("retrying en/slow-down: bot call failed (HTTP 429"),
        "{err}"
    );
    assert!(err.contains("retry 1 of 2 in 1.0 s"), "{err}");
    // --quiet keeps it to the results.
    p.write(
        "evalsets/en.yaml",
        &format!(
            "language: en\ncases:\n{}",
            case(
                "slow-down",
                "routine",
                "resolve",
                &["[[429-once]] hello again"]
            )
        ),
    );
    let quiet = p.evalgate(&["run", "--out", "quiet", "--quiet"]);
    assert_exit(&quiet, 0);
    assert_eq!(
        stub.seen.lock().unwrap().get("[[429-once]] hello again"),
        Some(&2)
    );
    assert!(!stderr(&quiet).contains("retrying"), "{}", stderr(&quiet));
}
