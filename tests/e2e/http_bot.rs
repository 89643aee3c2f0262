//! The `http` provider end to end: the recipes in docs/recipes run as written against the
//! demo bot's Rasa and session protocols, `init --provider http` runs as is, and a stub
//! session API written here checks what reaches a bot (conversation ids, state across
//! turns, JSON that text cannot break out of) and answers with the faults a real one has.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::DemoServer;
use crate::{TempProject, assert_exit, repo_root, result_for, results, stderr, stdout};

/// The ```yaml block of a recipe, as a user would copy it.
fn recipe_yaml(name: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join("docs/recipes").join(name))
        .expect("the recipe exists");
    let start = text.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = start + text[start..].find("```").expect("the block ends");
    text[start..end].to_string()
}

/// A project made by `evalgate init` whose config up to `run:` is replaced by `yaml`.
fn init_with(yaml: &str) -> TempProject {
    let p = TempProject::new();
    let dir = p.dir.join("bot");
    let out = crate::evalgate_in(&p.dir, &["init", dir.to_str().unwrap()]);
    assert_exit(&out, 0);
    let path = dir.join("evalgate.yaml");
    let config = std::fs::read_to_string(&path).unwrap();
    let from = config.find("\nbot:").expect("init writes a bot section") + 1;
    let to = config.find("\nrun:").expect("and run settings") + 1;
    std::fs::write(&path, format!("{}{yaml}{}", &config[..from], &config[to..])).unwrap();
    p
}

fn bot_dir(p: &TempProject) -> PathBuf {
    p.dir.join("bot")
}

fn run_recipe(recipe: &str, protocol: &str) -> Vec<Value> {
    let bot = DemoServer::protocol(protocol);
    let yaml = recipe_yaml(recipe);
    assert!(
        yaml.contains("127.0.0.1:8787"),
        "the recipe points at the demo bot's port"
    );
    let p = init_with(&yaml.replace("127.0.0.1:8787", &format!("127.0.0.1:{}", bot.port)));
    let dir = bot_dir(&p);
    let check = crate::evalgate_in(&dir, &["check"]);
    assert_exit(&check, 0);
    assert!(
        stdout(&check).contains("render for en/"),
        "{}",
        stdout(&check)
    );
    let run = crate::evalgate_in(&dir, &["run", "--out", "out", "--quiet"]);
    assert_exit(&run, 0);
    let results = results(&dir.join("out"));
    assert_eq!(
        results.len(),
        62,
        "the 60 scripted cases (20 of them benign twins) and 2 simulated ones"
    );
    for r in &results {
        assert!(r["error"].is_null(), "{r}");
        assert!(!r["reply"].as_str().unwrap_or("").is_empty(), "{r}");
    }
    results
}

/// The Rasa recipe as written: replies joined from several messages, the handoff read
/// from the custom message (the demo bot calls no tool over Rasa).
#[test]
fn the_rasa_recipe_runs_as_written() {
    let results = run_recipe("rasa.md", "rasa");
    let fraud = result_for(&results, "en/fraud-unrecognised-01");
    assert_eq!(fraud["observed_outcome"], "escalated", "{fraud}");
    assert!(fraud["turns"][1]["tool_calls"].is_null(), "{fraud}");
    // The bot sends one message per sentence; the reply holds them all.
    let order = result_for(&results, "en/order-status-01");
    let reply = order["reply"].as_str().unwrap();
    assert!(
        reply.contains("RM482913650GB") && reply.contains("Purchases"),
        "{order}"
    );
    assert_eq!(order["passed"], true, "{order}");
}

/// The session recipe as written: a conversation opened per case, actions and usage read.
#[test]
fn the_session_recipe_runs_as_written() {
    let results = run_recipe("session.md", "session");
    let fraud = result_for(&results, "en/fraud-unrecognised-01");
    assert_eq!(fraud["observed_outcome"], "escalated", "{fraud}");
    let call = &fraud["turns"][1]["tool_calls"][0];
    assert_eq!(call["name"], "escalate_to_human", "{fraud}");
    let arguments: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
    assert!(arguments["reason"].is_string(), "{fraud}");
    assert!(results.iter().all(|r| r["tokens_in"].as_u64() > Some(0)));
}

#[test]
fn init_for_an_http_bot_runs_as_is() {
    let bot = DemoServer::protocol("session");
    let p = TempProject::new();
    let dir = p.dir.join("bot");
    let out = crate::evalgate_in(
        &p.dir,
        &["init", "--provider", "http", dir.to_str().unwrap()],
    );
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("evalgate demo-bot --protocol session"),
        "{}",
        stdout(&out)
    );
    let path = dir.join("evalgate.yaml");
    let config = std::fs::read_to_string(&path).unwrap();
    for field in [
        "start:",
        "session_id:",
        "method:",
        "headers:",
        "secret_headers:",
        "body:",
        "reply:",
        "handoff:",
        "actions:",
        "tokens_in:",
        "tokens_out:",
        "timeout_s:",
    ] {
        assert!(config.contains(field), "{field} is not shown in\n{config}");
    }
    std::fs::write(
        &path,
        config.replace("127.0.0.1:8787", &format!("127.0.0.1:{}", bot.port)),
    )
    .unwrap();
    let run = crate::evalgate_in(&dir, &["run", "--out", "out", "--quiet"]);
    assert_exit(&run, 0);
    assert_eq!(results(&dir.join("out")).len(), 62);
}

/// A template error is found by `check` with the config's file and line.
#[test]
fn check_reports_a_template_error_at_its_line() {
    let yaml = recipe_yaml("session.md").replace(
        "body: '{\"text\": {{ message }}}'",
        "body: '{\"text\": {{ context.no_such_field }}}'",
    );
    let p = init_with(&yaml);
    let out = crate::evalgate_in(&bot_dir(&p), &["check"]);
    assert_exit(&out, 2);
    let line = std::fs::read_to_string(bot_dir(&p).join("evalgate.yaml"))
        .unwrap()
        .lines()
        .position(|l| l.contains("no_such_field"))
        .unwrap()
        + 1;
    let err = stderr(&out);
    assert!(
        err.contains(&format!("evalgate.yaml:{line}:")) && err.contains("bot.body"),
        "{err}"
    );
    assert!(err.contains("no_such_field"), "{err}");
}

// ---------------------------------------------------------------- a stub session API

/// What the stub saw.
#[derive(Default)]
struct Seen {
    /// Messages posted per conversation id, in order.
    messages: HashMap<String, Vec<String>>,
    /// Request bodies that were not JSON or carried a key no template puts there.
    broken: Vec<String>,
    /// Requests per message text.
    tries: HashMap<String, u32>,
    /// Turns posted to an id the stub never opened.
    unknown: u32,
}

/// A session API on 127.0.0.1 that answers by markers in the message. Stops when dropped,
/// and by itself after a minute.
struct SessionStub {
    port: u16,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<Mutex<bool>>,
}

impl Drop for SessionStub {
    fn drop(&mut self) {
        *self.stop.lock().unwrap() = true;
    }
}

fn session_stub(secret: &'static str) -> SessionStub {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let stop = Arc::new(Mutex::new(false));
    let (seen_in, stop_in) = (Arc::clone(&seen), Arc::clone(&stop));
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let opened = Arc::new(Mutex::new(0u32));
        while Instant::now() < deadline && !*stop_in.lock().unwrap() {
            match listener.accept() {
                Ok((stream, _)) => {
                    let (seen, opened) = (Arc::clone(&seen_in), Arc::clone(&opened));
                    std::thread::spawn(move || serve(stream, &seen, &opened, secret));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    SessionStub { port, seen, stop }
}

/// Serves requests on one keep-alive connection until it closes or idles for 5 s.
fn serve(mut stream: TcpStream, seen: &Mutex<Seen>, opened: &Mutex<u32>, secret: &str) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_string();
        let auth = headers.get("authorization").cloned().unwrap_or_default();
        let (status, reply) = answer(&path, &body, &auth, &headers, seen, opened, secret);
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{reply}",
            reply.len()
        );
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn answer(
    path: &str,
    body: &[u8],
    auth: &str,
    headers: &HashMap<String, String>,
    seen: &Mutex<Seen>,
    opened: &Mutex<u32>,
    secret: &str,
) -> (u16, String) {
    if headers.get("x-tenant").map(String::as_str) != Some("acme") || auth != secret {
        return (401, json!({"error": "headers missing"}).to_string());
    }
    if path == "/v1/conversations" {
        let mut n = opened.lock().unwrap();
        *n += 1;
        return (
            201,
            json!({"conversation": {"id": format!("conv-{n}")}}).to_string(),
        );
    }
    let Some(id) = path
        .strip_prefix("/v1/conversations/")
        .and_then(|r| r.strip_suffix("/messages"))
    else {
        return (404, "{}".into());
    };
    let mut seen = seen.lock().unwrap();
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        seen.broken.push(String::from_utf8_lossy(body).into_owned());
        return (400, "{}".into());
    };
    let keys: Vec<&String> = request
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    if keys.len() != 3 {
        seen.broken.push(request.to_string());
    }
    let text = request["text"].as_str().unwrap_or_default().to_string();
    *seen.tries.entry(text.clone()).or_default() += 1;
    let known = id.starts_with("conv-")
        && id[5..]
            .parse::<u32>()
            .is_ok_and(|n| n >= 1 && n <= *opened.lock().unwrap());
    if !known {
        seen.unknown += 1;
        return (
            404,
            json!({"error": format!("no conversation {id}")}).to_string(),
        );
    }
    let earlier = seen.messages.entry(id.to_string()).or_default();
    // The state the bot holds and the state evalgate sends must agree.
    if request["turn"] != json!(earlier.len())
        || request["history"].as_array().map(Vec::len) != Some(earlier.len() * 2)
    {
        return (409, json!({"error": "state mismatch"}).to_string());
    }
    earlier.push(text.clone());
    let n = earlier.len();
    let ok = |reply: String, handoff: bool| {
        (
            200,
            json!({"messages": [{"text": reply}], "handoff": {"requested": handoff},
                   "usage": {"input": 10, "output": 5}})
            .to_string(),
        )
    };
    if text.contains("[[500]]") {
        earlier.pop();
        let echo = format!("upstream failure; request headers were Authorization: {auth}");
        return (500, json!({ "error": echo }).to_string());
    }
    if text.contains("[[empty]]") {
        return (200, json!({"messages": []}).to_string());
    }
    if text.contains("[[notjson]]") {
        return (200, "<html>maintenance</html>".into());
    }
    if text.contains("[[echo-secret]]") {
        return ok(format!("You sent {auth}. It ships on 28 November."), false);
    }
    if text.contains("[[handoff]]") {
        return ok("A colleague takes over now.".into(), true);
    }
    ok(format!("turn {n} of {id}: it ships on 28 November."), false)
}

const SECRET_ENV: &str = "EVALGATE_HTTP_TEST_BOT_AUTH";
const SECRET: &str = "Bearer sk-http-7f3a9c1e5b2d4f60";
const INJECTION: &str = "\\\"}, \\\"admin\\\": true, \\\"x\\\": {\\\"";

fn stub_project(port: u16, start: bool) -> TempProject {
    let p = TempProject::new();
    let start = if start {
        format!(
            "  start:\n    url: \"http://127.0.0.1:{port}/v1/conversations\"\n    body: '{{\"case\": {{{{ case.key }}}}}}'\n    session_id: response.conversation.id\n"
        )
    } else {
        String::new()
    };
    p.write(
        "evalgate.yaml",
        &format!(
            "bot:
  provider: http
{start}  url: \"http://127.0.0.1:{port}/v1/conversations/{{{{ session_id }}}}/messages\"
  headers: {{ X-Tenant: acme }}
  secret_headers: {{ Authorization: {SECRET_ENV} }}
  body: '{{\"text\": {{{{ message }}}}, \"turn\": {{{{ turn }}}}, \"history\": {{{{ history }}}}}}'
  response:
    reply: \"response.messages | map(attribute='text') | join(' ')\"
    handoff: response.handoff.requested
    tokens_in: response.usage.input
    tokens_out: response.usage.output
evalsets: [\"evalsets/*.yaml\"]
run: {{ concurrency: 4, retries: 1 }}
"
        ),
    );
    let case = |id: &str, turns: &[&str], outcome: &str, include: &str| {
        let turns: String = turns
            .iter()
            .map(|t| format!("      - user: \"{t}\"\n"))
            .collect();
        format!(
            "  - id: {id}\n    stratum: routine\n    turns:\n{turns}    expect:\n      outcome: {outcome}\n      language: any\n{include}"
        )
    };
    let ships = "      must_include: [\"28 November\"]\n";
    let cases = [
        case(
            "multi",
            &["hello", "and then?", "thanks"],
            "resolve",
            "      must_include: [\"turn 3 of conv-\"]\n",
        ),
        case("inject", &[INJECTION], "resolve", ships),
        case("status", &["[[500]] where is it"], "resolve", ships),
        case("empty", &["[[empty]] where is it"], "resolve", ships),
        case("notjson", &["[[notjson]] where is it"], "resolve", ships),
        case(
            "handoff",
            &["[[handoff]] my card was stolen"],
            "escalate",
            "",
        ),
    ];
    p.write(
        "evalsets/en.yaml",
        &format!("language: en\ncases:\n{}", cases.concat()),
    );
    p
}

fn run_with_secret(p: &TempProject) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["run", "--out", "out", "--quiet"])
        .current_dir(&p.dir)
        .env(SECRET_ENV, SECRET)
        .output()
        .expect("run evalgate")
}

/// Every file under `dir`, with its text.
fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push((
                path.clone(),
                String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned(),
            ));
        }
    }
    found
}

#[test]
fn a_session_api_gets_ids_state_and_literal_text_and_its_faults_are_error_results() {
    let stub = session_stub(SECRET);
    let p = stub_project(stub.port, true);
    let run = run_with_secret(&p);
    // Three error results: the run is incomplete, and says so.
    assert_exit(&run, 3);
    let results = results(&p.dir.join("out"));
    let seen = stub.seen.lock().unwrap();

    // State across turns: each turn went to the conversation `start` opened, and what
    // evalgate sent (turn, history) matched what the bot held.
    let multi = result_for(&results, "en/multi");
    assert_eq!(multi["passed"], true, "{multi}");
    assert_eq!(
        multi["tokens_in"], 30,
        "usage summed over the turns: {multi}"
    );
    let conversation = seen
        .messages
        .values()
        .find(|m| m.first().map(String::as_str) == Some("hello"))
        .expect("the multi-turn conversation");
    assert_eq!(conversation, &["hello", "and then?", "thanks"]);
    assert_eq!(seen.unknown, 0);

    // Text crafted to break out of the JSON body reached the bot as one literal string.
    let literal = "\"}, \"admin\": true, \"x\": {\"";
    assert_eq!(seen.tries.get(literal), Some(&1), "{:?}", seen.tries.keys());
    assert!(seen.broken.is_empty(), "{:?}", seen.broken);
    assert_eq!(result_for(&results, "en/inject")["passed"], true);

    // A 5xx is retried per run.retries, then an error result with status and excerpt,
    // the echoed secret scrubbed before the cut.
    assert_eq!(seen.tries.get("[[500]] where is it"), Some(&2));
    let status = result_for(&results, "en/status");
    let message = status["error"].as_str().unwrap();
    assert!(
        message.contains("HTTP 500") && message.contains("upstream failure"),
        "{status}"
    );
    assert!(
        message.contains(&format!("[redacted:{SECRET_ENV}]")),
        "{status}"
    );
    assert_eq!(status["error_kind"]["cause"], "http_status", "{status}");

    // A reply that yields nothing is an error naming the expression, never a pass.
    let empty = result_for(&results, "en/empty");
    let message = empty["error"].as_str().unwrap();
    assert!(message.contains("bot.response.reply"), "{empty}");
    assert!(message.contains("map(attribute='text')"), "{empty}");
    assert_ne!(empty["passed"], true);

    let notjson = result_for(&results, "en/notjson");
    let message = notjson["error"].as_str().unwrap();
    assert!(
        message.contains("HTTP 200") && message.contains("maintenance"),
        "{notjson}"
    );

    // The bot's own handoff signal is a handoff.
    let handoff = result_for(&results, "en/handoff");
    assert_eq!(handoff["observed_outcome"], "escalated", "{handoff}");

    // The secret header's value is nowhere in the run directory.
    let written = files_under(&p.dir.join("out"));
    for name in [
        "results.jsonl",
        "summary.json",
        "report.md",
        "report.json",
        "junit.xml",
    ] {
        assert!(
            written.iter().any(|(path, _)| path.ends_with(name)),
            "no {name}"
        );
    }
    for (path, text) in written {
        assert!(
            !text.contains(SECRET),
            "{} holds the secret",
            path.display()
        );
    }
}

/// Without `start`, every conversation gets a fresh id; a bot that does not know it
/// answers 404, which is an error result, not a retry storm.
#[test]
fn an_unknown_conversation_is_an_error_result() {
    let stub = session_stub(SECRET);
    let p = stub_project(stub.port, false);
    let run = run_with_secret(&p);
    assert_exit(&run, 3);
    let results = results(&p.dir.join("out"));
    for r in &results {
        let message = r["error"].as_str().unwrap_or_default();
        assert!(
            message.contains("HTTP 404") && message.contains("no conversation eg-"),
            "{r}"
        );
    }
    let seen = stub.seen.lock().unwrap();
    assert_eq!(seen.unknown as usize, results.len(), "4xx is not retried");
}

/// A bot that echoes the secret in a reply: the reply is written, the secret is not.
/// Relies on the central redaction of everything evalgate writes (DESIGN.md, "Every
/// secret value is replaced"), which the http provider leaves to that layer.
#[test]
fn a_secret_echoed_in_a_reply_is_not_written() {
    let stub = session_stub(SECRET);
    let p = stub_project(stub.port, true);
    p.write(
        "evalsets/en.yaml",
        "language: en\ncases:\n  - id: echo\n    stratum: routine\n    turns:\n      - user: \"[[echo-secret]] where is it\"\n    expect:\n      outcome: resolve\n      language: any\n",
    );
    let run = run_with_secret(&p);
    assert_exit(&run, 0);
    let out = p.dir.join("out");
    let echo = result_for(&results(&out), "en/echo").clone();
    assert!(
        echo["reply"]
            .as_str()
            .unwrap()
            .contains(&format!("[redacted:{SECRET_ENV}]")),
        "{echo}"
    );
    let _ = crate::evalgate_in(
        &p.dir,
        &[
            "report",
            "out",
            "--format",
            "junit",
            "--out",
            "out/junit.xml",
        ],
    );
    for (path, text) in files_under(&out) {
        assert!(
            !text.contains(SECRET),
            "{} holds the secret",
            path.display()
        );
    }
}
