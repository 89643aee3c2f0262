//! `provider: anthropic` end to end: against `evalgate demo-bot --protocol anthropic`
//! (the shipped cases, handoffs as `tool_use`, the recipe in docs/ run as written), and
//! against a stub of the Messages API written here that refuses requests without its
//! headers, is overloaded once, and echoes the key, which must never reach a file.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::DemoServer;
use crate::{TempProject, assert_exit, repo_root, result_for, results, stderr, summary, verdicts};

const KEY_ENV: &str = "ANTHROPIC_TEST_KEY";
const KEY: &str = "sk-ant-e2e-0123456789abcdefghijklmnopqrstuvwxyz";
const JUDGE_KEY_ENV: &str = "ANTHROPIC_TEST_JUDGE_KEY";
const JUDGE_KEY: &str = "sk-ant-judge-9876543210zyxwvutsrqponmlkjihgfedcba";

/// `evalgate ARGS` in `dir` with the test keys in its environment.
fn evalgate_with_keys(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(args)
        .current_dir(dir)
        .env(KEY_ENV, KEY)
        .env(JUDGE_KEY_ENV, JUDGE_KEY)
        .env("ANTHROPIC_API_KEY", "demo-key")
        .output()
        .expect("run evalgate")
}

/// The shipped English cases over the Messages API give the in-process demo bot's verdict
/// on every case, and its handoffs arrive as `tool_use` blocks: the demo server calls only
/// tools it is offered, so this also shows the handoff tool goes out in `tools`.
#[test]
fn the_demo_bot_over_the_messages_api_matches_the_demo_bot_in_process() {
    let server = DemoServer::protocol("anthropic");
    assert!(
        server.banner.contains("POST /v1/messages"),
        "{}",
        server.banner
    );
    let root = repo_root();
    let project = |bot: &str| {
        let p = TempProject::new();
        p.write(
            "evalgate.yaml",
            &format!(
                "bot:\n{bot}  prompt: {}\nevalsets: [\"{}/evalsets/support/en.yaml\"]\nsimulator:\n  provider: demo\nrun:\n  concurrency: 8\n",
                root.join("prompts/support.md.j2").display(),
                root.display()
            ),
        );
        p
    };
    let remote = project(&format!(
        "  provider: anthropic\n  base_url: {}\n  model: claude-demo\n  api_key_env: {KEY_ENV}\n  temperature: 0\n",
        server.base_url
    ));
    let out = evalgate_with_keys(&remote.dir, &["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 0);
    let run = remote.dir.join("run");
    let s = summary(&run);
    assert_eq!(s["overall"]["errors"], 0, "{}", s["overall"]);
    assert_eq!(s["overall"]["missed_escalations"], 0, "{}", s["overall"]);
    assert_eq!(s["bot"]["provider"], "anthropic", "{}", s["bot"]);
    let rs = results(&run);
    let by_tool = rs
        .iter()
        .filter(|r| r["handoff"] == "tool call escalate_to_human")
        .count();
    assert!(by_tool >= 5, "handoffs came as tool_use blocks: {by_tool}");
    assert!(rs.iter().all(|r| r["tokens_in"].as_u64() > Some(0)));

    let local = project("  provider: demo\n");
    let out = local.evalgate(&["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 0);
    assert_eq!(verdicts(&run), verdicts(&local.dir.join("run")));
}

/// docs/recipes/anthropic.md, as a user follows it: a project from `evalgate init` whose
/// `bot:` section is the recipe's, against the demo bot (on another port than 8787).
#[test]
fn the_recipe_runs_as_written_against_the_demo_bot() {
    let recipe = std::fs::read_to_string(repo_root().join("docs/recipes/anthropic.md"))
        .expect("docs/recipes/anthropic.md");
    assert!(
        recipe.contains("evalgate demo-bot --protocol anthropic --port 8787"),
        "{recipe}"
    );
    let yaml = fenced_block(&recipe, "yaml").expect("a ```yaml block");
    assert!(yaml.contains("127.0.0.1:8787"), "{yaml}");
    let server = DemoServer::protocol("anthropic");
    assert!(
        server.banner.contains("POST /v1/messages"),
        "{}",
        server.banner
    );
    let address = server.base_url.trim_start_matches("http://");
    let bot = yaml.replace("127.0.0.1:8787", address);

    let p = TempProject::new();
    assert_exit(&p.evalgate(&["init", "proj"]), 0);
    let proj = p.dir.join("proj");
    let config = std::fs::read_to_string(proj.join("evalgate.yaml")).unwrap();
    let start = config.find("\nbot:\n").expect("a bot section") + 1;
    let end = config.find("\nevalsets:").expect("evalsets after bot") + 1;
    let config = format!("{}{bot}{}", &config[..start], &config[end..]);
    std::fs::write(proj.join("evalgate.yaml"), &config).unwrap();

    // The recipe's key is ANTHROPIC_API_KEY, which evalgate_with_keys sets.
    let out = evalgate_with_keys(&proj, &["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 0);
    let s = summary(&proj.join("run"));
    assert_eq!(s["bot"]["provider"], "anthropic", "{}", s["bot"]);
    assert_eq!(s["overall"]["errors"], 0, "{}", s["overall"]);
    assert!(
        s["overall"]["scored"].as_u64() >= Some(40),
        "{}",
        s["overall"]
    );
}

/// The first ```LANG block of a Markdown text.
fn fenced_block(markdown: &str, lang: &str) -> Option<String> {
    let opening = format!("```{lang}\n");
    let start = markdown.find(&opening)? + opening.len();
    let end = start + markdown[start..].find("```")?;
    Some(markdown[start..end].to_string())
}

fn case(id: &str, stratum: &str, outcome: &str, turns: &[&str], rubric: bool) -> String {
    let turns: String = turns
        .iter()
        .map(|t| format!("      - user: \"{t}\"\n"))
        .collect();
    let rubric = if rubric {
        "      rubric: [\"Gives 28 November as the date\"]\n"
    } else {
        ""
    };
    format!(
        "  - id: {id}\n    stratum: {stratum}\n    turns:\n{turns}    expect:\n      outcome: {outcome}\n      language: any\n{rubric}"
    )
}

/// Headers, retries and secrets against the stub: every request carried the key and the
/// version (the stub refuses it otherwise), an overloaded answer was retried after its
/// `retry-after`, and the key a careless server echoed is in no file evalgate wrote.
#[test]
fn headers_go_out_overload_is_retried_and_an_echoed_key_is_never_written() {
    let stub = AnthropicStub::start(KEY, JUDGE_KEY);
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        &format!(
            "bot:\n  provider: anthropic\n  base_url: {}/\n  model: claude-stub\n  api_key_env: {KEY_ENV}\n  prompt: prompt.j2\n  max_tokens: 77\n  timeout_s: 5\nevalsets: [\"evalsets/*.yaml\"]\nrun:\n  concurrency: 4\n  retries: 1\n",
            stub.base_url
        ),
    );
    p.write("prompt.j2", "You help {{ language }} customers.\n");
    let mut cases = String::from("language: en\ncases:\n");
    cases += &case(
        "two-turns",
        "routine",
        "resolve",
        &["where is my order", "and when"],
        false,
    );
    cases += &case(
        "overloaded",
        "routine",
        "resolve",
        &["[[529-once]] where is my order"],
        false,
    );
    cases += &case(
        "tool",
        "edge",
        "escalate",
        &["[[tool]] my card was stolen"],
        false,
    );
    cases += &case("echo", "routine", "resolve", &["[[echo]] hello"], false);
    p.write("evalsets/en.yaml", &cases);

    let out = evalgate_with_keys(&p.dir, &["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 3);
    let rs = results(&p.dir.join("run"));
    assert_eq!(rs.len(), 4, "{}", stderr(&out));

    let two = result_for(&rs, "en/two-turns");
    assert_eq!(two["passed"], true, "{two}");
    // Usage is the stub's: 10 per message sent (1, then 3), 7 out per answer.
    assert_eq!(
        (two["tokens_in"].as_u64(), two["tokens_out"].as_u64()),
        (Some(40), Some(14))
    );

    let overloaded = result_for(&rs, "en/overloaded");
    assert_eq!(overloaded["passed"], true, "{overloaded}");
    assert_eq!(overloaded["attempts"], 2);
    assert!(
        overloaded["latency_ms"].as_u64().unwrap() >= 900,
        "retry-after: 1 was honoured: {overloaded}"
    );

    let tool = result_for(&rs, "en/tool");
    assert_eq!(tool["observed_outcome"], "escalated", "{tool}");
    assert_eq!(tool["handoff"], "tool call escalate_to_human");
    assert_eq!(tool["passed"], true);

    let echo = result_for(&rs, "en/echo");
    assert_eq!(echo["observed_outcome"], "error", "{echo}");
    let error = echo["error"].as_str().unwrap();
    assert!(error.contains("HTTP 500"), "{error}");
    assert!(error.contains(&format!("[redacted:{KEY_ENV}]")), "{error}");
    assert_eq!(echo["attempts"], 2, "a 500 is retried: {echo}");

    let requests = stub.requests.lock().unwrap();
    assert!(!requests.is_empty());
    for r in requests.iter() {
        assert_eq!(
            r.refused, None,
            "a request without the API's headers: {}",
            r.head
        );
        assert_eq!(r.body["max_tokens"], 77);
        assert_eq!(
            r.body["system"].as_str().map(str::trim),
            Some("You help en customers.")
        );
        assert_eq!(r.body["tools"][0]["name"], "escalate_to_human");
    }
    drop(requests);
    assert_no_file_holds(&p.dir, KEY);
}

/// `judge.provider: anthropic`: the verdict asked for in the system prompt (no
/// `response_format`), sent with the judge's own key, and honoured both ways.
#[test]
fn an_anthropic_judge_gives_verdicts_that_are_honoured() {
    let stub = AnthropicStub::start(KEY, JUDGE_KEY);
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        &format!(
            "bot:\n  provider: anthropic\n  base_url: {url}\n  model: claude-stub\n  api_key_env: {KEY_ENV}\n  timeout_s: 5\njudge:\n  provider: anthropic\n  base_url: {url}\n  model: claude-judge\n  api_key_env: {JUDGE_KEY_ENV}\n  timeout_s: 5\n  retries: 0\nevalsets: [\"evalsets/*.yaml\"]\nrun:\n  retries: 0\n",
            url = stub.base_url
        ),
    );
    let mut cases = String::from("language: en\ncases:\n");
    cases += &case("good", "routine", "resolve", &["when does it ship"], true);
    cases += &case(
        "fails",
        "routine",
        "resolve",
        &["[[judge-fail]] when does it ship"],
        true,
    );
    p.write("evalsets/en.yaml", &cases);

    let out = evalgate_with_keys(&p.dir, &["run", "--out", "run", "--quiet"]);
    // Without a gate a failed case is a finding, not a failed command.
    assert_exit(&out, 0);
    let rs = results(&p.dir.join("run"));
    let good = result_for(&rs, "en/good");
    assert_eq!(good["passed"], true, "{good}");
    assert_eq!(good["judge"]["model"], "claude-judge");
    assert_eq!(good["judge"]["criteria"][0]["passed"], true, "{good}");
    assert_eq!(good["judge_tokens_in"], 300);
    assert_eq!(good["judge_tokens_out"], 40);
    let fails = result_for(&rs, "en/fails");
    assert_eq!(fails["passed"], false, "{fails}");
    assert_eq!(fails["judge"]["criteria"][0]["passed"], false, "{fails}");

    let requests = stub.requests.lock().unwrap();
    let judged: Vec<&Seen> = requests.iter().filter(|r| r.judge).collect();
    assert_eq!(judged.len(), 2);
    for r in judged {
        assert_eq!(r.refused, None, "{}", r.head);
        assert_eq!(r.key.as_deref(), Some(JUDGE_KEY), "the judge's own key");
        assert_eq!(r.body["model"], "claude-judge");
        assert_eq!(r.body["temperature"], 0.0);
        assert!(r.body.get("response_format").is_none(), "{}", r.body);
        assert!(r.body.get("tools").is_none(), "{}", r.body);
        let system = r.body["system"].as_str().unwrap();
        assert!(system.contains("Answer with one JSON object"), "{system}");
    }
    drop(requests);
    assert_no_file_holds(&p.dir, JUDGE_KEY);
}

/// The key's env var unset: an error at the line that names it, before anything is sent.
#[test]
fn a_missing_key_is_a_config_error_at_its_line() {
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        "bot:\n  provider: anthropic\n  model: claude-x\n  api_key_env: EVALGATE_E2E_SURELY_UNSET\nevalsets: [\"evalsets/*.yaml\"]\n",
    );
    p.write(
        "evalsets/en.yaml",
        &format!(
            "language: en\ncases:\n{}",
            case("a", "routine", "resolve", &["hi"], false)
        ),
    );
    let out = p.evalgate(&["check"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("evalgate.yaml:4"), "{err}");
    assert!(err.contains("EVALGATE_E2E_SURELY_UNSET"), "{err}");
}

/// No file under `dir` contains `secret` (nor its first half).
fn assert_no_file_holds(dir: &Path, secret: &str) {
    let needle = &secret[..secret.len() / 2];
    let mut stack = vec![dir.to_path_buf()];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files += 1;
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(needle),
                    "{} holds the key",
                    path.display()
                );
            }
        }
    }
    assert!(files >= 5, "the run wrote its files");
}

/// A request the stub read.
struct Seen {
    head: String,
    key: Option<String>,
    body: Value,
    judge: bool,
    /// The status it was refused with, for want of the API's headers.
    refused: Option<u16>,
}

/// A stub of the Messages API on 127.0.0.1, steered by markers in the last user message;
/// judge requests (system prompt of an evaluator) get a verdict. Stops when dropped, and
/// by itself after a time limit.
struct AnthropicStub {
    base_url: String,
    requests: Arc<Mutex<Vec<Seen>>>,
    _server: crate::stub::ServerThread,
}

#[derive(Clone)]
struct StubState {
    requests: Arc<Mutex<Vec<Seen>>>,
    /// How often each user message was seen, for answering differently the second time.
    counts: Arc<Mutex<HashMap<String, u32>>>,
}

impl AnthropicStub {
    fn start(bot_key: &'static str, judge_key: &'static str) -> AnthropicStub {
        let state = StubState {
            requests: Arc::default(),
            counts: Arc::default(),
        };
        let requests = Arc::clone(&state.requests);
        let server = crate::stub::ServerThread::spawn(move |stream| {
            connection(stream, state.clone(), [bot_key, judge_key])
        });
        AnthropicStub {
            base_url: format!("http://{}", server.addr),
            requests,
            _server: server,
        }
    }
}

async fn connection(mut stream: TcpStream, state: StubState, keys: [&str; 2]) {
    let mut buf = Vec::new();
    while let Some((head, body)) = read_request(&mut stream, &mut buf).await {
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let (status, extra, answer, seen) = answer(&head, request, &state, keys);
        state.requests.lock().expect("lock").push(seen);
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n{answer}",
            answer.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn api_error(kind: &str, message: &str) -> String {
    json!({ "type": "error", "error": { "type": kind, "message": message } }).to_string()
}

fn message(content: Value, input_tokens: usize, output_tokens: usize) -> String {
    json!({
        "id": "msg_stub", "type": "message", "role": "assistant", "model": "claude-stub",
        "content": content,
        "stop_reason": if content.as_array().is_some_and(|c| c.iter().any(|b| b["type"] == "tool_use")) { "tool_use" } else { "end_turn" },
        "usage": { "input_tokens": input_tokens, "output_tokens": output_tokens }
    })
    .to_string()
}

/// The text of a message's content: a string, or its text blocks.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// (status line, extra headers, body, what was seen) for one request.
fn answer(
    head: &str,
    body: Value,
    state: &StubState,
    keys: [&str; 2],
) -> (&'static str, &'static str, String, Seen) {
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let key = header("x-api-key");
    let judge = body["system"]
        .as_str()
        .is_some_and(|s| s.contains("evaluator"));
    let mut seen = Seen {
        head: head.to_string(),
        key: key.clone(),
        body: body.clone(),
        judge,
        refused: None,
    };
    if !key.as_deref().is_some_and(|k| keys.contains(&k)) {
        seen.refused = Some(401);
        let e = api_error("authentication_error", "invalid x-api-key");
        return ("401 Unauthorized", "", e, seen);
    }
    if header("anthropic-version").as_deref() != Some("2023-06-01") {
        seen.refused = Some(400);
        let e = api_error(
            "invalid_request_error",
            "anthropic-version: header is required",
        );
        return ("400 Bad Request", "", e, seen);
    }
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(|m| text_of(&m["content"]))
        .unwrap_or_default();
    if judge {
        let passed = !last_user.contains("[[judge-fail]]");
        let verdict = json!({
            "criteria": [{ "n": 1, "passed": passed, "reason": "checked the date" }],
            "outcome": "resolved",
            "unsupported_claims": []
        });
        let text = message(
            json!([{ "type": "text", "text": verdict.to_string() }]),
            300,
            40,
        );
        return ("200 OK", "", text, seen);
    }
    let count = {
        let mut counts = state.counts.lock().expect("lock");
        let n = counts.entry(last_user.clone()).or_insert(0);
        *n += 1;
        *n
    };
    if last_user.contains("[[529-once]]") && count == 1 {
        let e = api_error("overloaded_error", "Overloaded");
        return ("529 Overloaded", "retry-after: 1\r\n", e, seen);
    }
    if last_user.contains("[[echo]]") {
        // A careless server that echoes the request, headers and all, in its error.
        let e = api_error("api_error", &format!("could not serve: {head}"));
        return ("500 Internal Server Error", "", e, seen);
    }
    let tokens_in = messages.len() * 10;
    let text = if last_user.contains("[[tool]]") {
        message(
            json!([
                { "type": "text", "text": "Let me get a colleague for you." },
                { "type": "tool_use", "id": "toolu_1", "name": "escalate_to_human", "input": { "reason": "stolen card" } }
            ]),
            tokens_in,
            7,
        )
    } else {
        message(
            json!([{ "type": "text", "text": "Thanks for asking. Your order ships on 28 November." }]),
            tokens_in,
            7,
        )
    };
    ("200 OK", "", text, seen)
}

/// Reads one request from `buf` and the stream: its head and body.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(String, Vec<u8>)> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let length = head
                .to_lowercase()
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(str::trim)
                        .map(str::to_string)
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[end + 4..end + 4 + length].to_vec();
            buf.drain(..end + 4 + length);
            return Some((head, body));
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}
