//! Simulated customers end to end: an OpenAI-shaped server on 127.0.0.1 plays both the bot
//! (under `/bot`) and the customer simulator (under `/sim`), each steered by markers: the
//! bot by the `mode` in its system prompt, the simulator by the persona in its own.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{TempProject, result_for, results, stderr, summary};

/// Longest the server lives, whatever the test does.
const LIFETIME: Duration = Duration::from_secs(60);

/// A request the server answered: its path and body.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    body: Value,
}

struct Server {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let flaky = Arc::new(AtomicU32::new(0));
        let (seen_in, stop_in) = (Arc::clone(&seen), Arc::clone(&stop));
        std::thread::spawn(move || {
            let until = Instant::now() + LIFETIME;
            while !stop_in.load(Ordering::Relaxed) && Instant::now() < until {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (seen, flaky) = (Arc::clone(&seen_in), Arc::clone(&flaky));
                        std::thread::spawn(move || serve(stream, &seen, &flaky, until));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server { port, seen, stop }
    }

    fn requests(&self, prefix: &str) -> Vec<Seen> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|s| s.path.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// Simulator requests whose system prompt names `persona`.
    fn simulator_calls(&self, persona: &str) -> usize {
        self.requests("/sim")
            .iter()
            .filter(|s| {
                s.body["messages"][0]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains(persona))
            })
            .count()
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Seen>>, flaky: &AtomicU32, until: Instant) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    while Instant::now() < until {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_string();
        let mut length = 0usize;
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            head.push_str(&line);
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        seen.lock().unwrap().push(Seen {
            path: path.clone(),
            body: body.clone(),
        });
        let (status, answer) = if path.starts_with("/sim") {
            customer(&body, &head)
        } else if path.starts_with("/judge") {
            (
                "200 OK",
                completion(
                    r#"{"criteria":[{"n":1,"passed":true,"reason":"gave the date"}],"outcome":"resolved","unsupported_claims":[]}"#,
                    None,
                ),
            )
        } else {
            ("200 OK", bot(&body, flaky))
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn completion(content: &str, tool: Option<&str>) -> String {
    let mut message = json!({ "role": "assistant", "content": content });
    if let Some(name) = tool {
        message["tool_calls"] = json!([{ "id": "c1", "type": "function", "function": { "name": name, "arguments": "{}" } }]);
    }
    json!({
        "choices": [{ "index": 0, "message": message, "finish_reason": "stop" }],
        "usage": { "prompt_tokens": 20, "completion_tokens": 5 }
    })
    .to_string()
}

fn texts<'a>(body: &'a Value, role: &str) -> Vec<&'a str> {
    body["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["role"] == role)
                .filter_map(|m| m["content"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

const ASK: &str = "Which order is it? Please give me the order number.";
const ANSWER: &str = "Found it: your refund of 42 EUR arrives on 3 May.";

/// The bot, by the mode its system prompt names.
fn bot(body: &Value, flaky: &AtomicU32) -> String {
    let system = texts(body, "system").join("");
    let users = texts(body, "user");
    let has_order = users.iter().any(|u| u.contains("ORD-1"));
    if system.contains("mode: handoff") {
        return completion("Let me get a colleague for you.", Some("escalate_to_human"));
    }
    if system.contains("mode: useless") {
        return completion("I am not sure I can help with that.", None);
    }
    if system.contains("mode: flaky") {
        // Every second conversation the bot refuses refunds, and sticks to it.
        const NO: &str = "Sorry, refunds are not something I can look at.";
        let refused = texts(body, "assistant").contains(&NO);
        if refused || (users.len() == 1 && flaky.fetch_add(1, Ordering::SeqCst) % 2 == 1) {
            return completion(NO, None);
        }
    }
    completion(if has_order { ANSWER } else { ASK }, None)
}

/// The simulated customer, by the marker in the persona of its system prompt.
fn customer(body: &Value, head: &str) -> (&'static str, String) {
    let system = texts(body, "system").join("");
    if system.contains("[[sim-echo-key]]") {
        // A careless server that repeats the request's headers, key and all.
        let body = json!({ "error": format!("rejected: {head}") }).to_string();
        return ("500 Internal Server Error", body);
    }
    if system.contains("[[sim-down]]") {
        return ("503 Service Unavailable", r#"{"error":"down"}"#.into());
    }
    if system.contains("[[sim-garbage]]") {
        return ("200 OK", "{\"choices\": [ not json".into());
    }
    if system.contains("[[sim-empty]]") {
        return ("200 OK", completion("", None));
    }
    // What the bot said last is, in the customer's view, the last `user` message.
    let heard = texts(body, "user").last().copied().unwrap_or("");
    let text = if heard.contains("order number") {
        "It's ORD-1."
    } else if heard.contains("arrives") {
        "Great, thanks! ###STOP###"
    } else if texts(body, "assistant").is_empty() {
        "Where is my refund?"
    } else {
        "Hello? I need my refund."
    };
    ("200 OK", completion(text, None))
}

/// A project whose bot and simulator are the server, with the given cases.
fn project(server: &Server, cases: &str) -> TempProject {
    let p = TempProject::new();
    p.write("prompts/bot.j2", "mode: {{ context.mode }}\n");
    p.write(
        "evalgate.yaml",
        &format!(
            "bot:\n  provider: openai\n  base_url: http://127.0.0.1:{port}/bot/v1\n  model: stub-bot\n  prompt: prompts/bot.j2\nsimulator:\n  provider: openai\n  base_url: http://127.0.0.1:{port}/sim/v1\n  model: stub-customer\n  retries: 0\nevalsets: [\"evalsets/*.yaml\"]\nrun:\n  retries: 0\n  concurrency: 4\n",
            port = server.port
        ),
    );
    p.write(
        "evalsets/en.yaml",
        &format!("language: en\ncases:\n{cases}"),
    );
    p
}

/// A simulated case: its id, the bot's mode, the simulator's persona, extra `simulate:` lines.
fn case(id: &str, mode: &str, persona: &str, extra: &str) -> String {
    format!(
        "  - id: {id}\n    stratum: routine\n    context: {{ mode: {mode} }}\n    simulate:\n      persona: \"{persona}\"\n      goal: Get the refund\n      facts: {{ order_id: ORD-1 }}\n{extra}    expect:\n      outcome: resolve\n      must_include: [\"3 May\"]\n"
    )
}

fn roles_and_texts(result: &Value) -> Vec<(String, String)> {
    result["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["role"].as_str().unwrap().to_string(),
                t["content"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_simulated_customer_gives_the_fact_asked_for_and_stops_when_helped() {
    let server = Server::start();
    let cases = [
        case("two-turn", "helpful", "Ann two-turn", ""),
        case("handoff", "handoff", "Hal handoff-case", ""),
        case("stuck", "useless", "Sam stuck-case", "      max_turns: 3\n"),
    ]
    .concat();
    let p = project(&server, &cases);
    let out = p.evalgate(&["run", "--out", "run", "--quiet", "--no-baseline"]);
    let all = results(&p.dir.join("run"));
    assert_eq!(all.len(), 3, "{}", stderr(&out));

    // Resolution over two bot turns; the customer's last words stay, without the marker.
    let r = result_for(&all, "en/two-turn");
    assert_eq!(
        roles_and_texts(r),
        [
            ("user".to_string(), "Where is my refund?".to_string()),
            ("assistant".into(), ASK.into()),
            ("user".into(), "It's ORD-1.".into()),
            ("assistant".into(), ANSWER.into()),
            ("user".into(), "Great, thanks!".into()),
        ]
    );
    assert_eq!(r["simulated"], true, "{r}");
    assert_eq!(r["stop_reason"], "customer_stop", "{r}");
    assert_eq!(r["passed"], true, "{r}");
    assert_eq!(r["reply"], ANSWER);
    assert_eq!(server.simulator_calls("Ann two-turn"), 3);
    assert_eq!(
        (
            r["simulator_tokens_in"].as_u64(),
            r["simulator_tokens_out"].as_u64()
        ),
        (Some(60), Some(15))
    );

    // The stop marker, and the message that carried it, never reach the bot.
    for request in server.requests("/bot") {
        let text = request.body.to_string();
        assert!(
            !text.contains("###STOP###") && !text.contains("Great, thanks"),
            "{text}"
        );
    }

    // A handoff ends the conversation: the simulator is not asked again.
    let r = result_for(&all, "en/handoff");
    assert_eq!(r["stop_reason"], "handoff", "{r}");
    assert_eq!(r["observed_outcome"], "escalated", "{r}");
    assert_eq!(r["turns"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(server.simulator_calls("Hal handoff-case"), 1);

    // A bot that never helps meets max_turns: three customer messages, no fourth call.
    let r = result_for(&all, "en/stuck");
    assert_eq!(r["stop_reason"], "max_turns", "{r}");
    assert_eq!(r["passed"], false, "{r}");
    let customer_turns = r["turns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["role"] == "user")
        .count();
    assert_eq!(customer_turns, 3, "{r}");
    assert_eq!(server.simulator_calls("Sam stuck-case"), 3);

    // The simulator's tokens are counted apart, and it joins the comparability key.
    let s = summary(&p.dir.join("run"));
    assert_eq!(s["cost"]["simulator"]["model"], "stub-customer", "{s}");
    assert_eq!(s["cost"]["simulator"]["tokens_in"], 140, "{s}");
    assert_eq!(s["cost"]["bot"]["tokens_in"], 20 * 6, "{s}");
    assert!(
        s["simulator"]
            .as_str()
            .unwrap()
            .starts_with("stub-customer (prompt sha256:"),
        "{s}"
    );
    // The reports show each simulated transcript turn by turn, marked, with its stop reason.
    let html = std::fs::read_to_string(p.dir.join("run/report.html")).unwrap();
    assert!(
        html.contains("simulated · stopped: customer_stop"),
        "report.html"
    );
    assert!(
        html.contains("simulated · stopped: max_turns"),
        "report.html"
    );
    assert!(
        html.contains("<b>customer (simulated)</b>\nIt&#x27;s ORD-1.")
            || html.contains("<b>customer (simulated)</b>\nIt's ORD-1."),
        "report.html"
    );
    let junit = std::fs::read_to_string(p.dir.join("run/junit.xml")).unwrap();
    assert!(junit.contains("simulated conversation (stopped: max_turns):\n  customer (simulated): Where is my refund?\n  assistant: I am not sure"), "{junit}");
    // Re-scoring keeps the simulated transcripts as they were, without a new conversation.
    let calls_before = server.requests("").len();
    let rescored = p.evalgate(&["rescore", "run", "--out", "rescored", "--quiet"]);
    let again = results(&p.dir.join("rescored"));
    assert_eq!(again.len(), 3, "{}", stderr(&rescored));
    let r = result_for(&again, "en/two-turn");
    assert_eq!(
        (r["simulated"].as_bool(), r["stop_reason"].as_str()),
        (Some(true), Some("customer_stop")),
        "{r}"
    );
    assert_eq!(r["simulator_tokens_in"], 60, "{r}");
    assert_eq!(server.requests("").len(), calls_before);
    assert_eq!(
        summary(&p.dir.join("rescored"))["simulator"],
        s["simulator"]
    );
    let printed = crate::stdout(&out);
    assert!(
        printed.contains("simulator tokens (stub-customer): 140 in"),
        "{printed}"
    );
}

#[test]
fn a_broken_simulator_is_an_error_of_the_simulator_never_of_the_bot() {
    let server = Server::start();
    let cases = [
        case("down", "helpful", "Dan [[sim-down]]", ""),
        case("garbage", "helpful", "Gus [[sim-garbage]]", ""),
        case("empty", "helpful", "Em [[sim-empty]]", ""),
    ]
    .concat();
    let p = project(&server, &cases);
    let out = p.evalgate(&["run", "--out", "run", "--quiet", "--no-baseline"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let all = results(&p.dir.join("run"));
    for key in ["en/down", "en/garbage", "en/empty"] {
        let r = result_for(&all, key);
        assert_eq!(r["observed_outcome"], "error", "{r}");
        assert_eq!(r["error_kind"]["source"], "simulator", "{r}");
        assert_eq!(r["stop_reason"], "error", "{r}");
        assert_eq!(r["passed"], false, "{r}");
    }
    assert!(
        result_for(&all, "en/empty")["error"]
            .as_str()
            .unwrap()
            .contains("empty")
    );
    // Without a customer message, nothing was sent to the bot.
    assert!(server.requests("/bot").is_empty());
}

#[test]
fn repeats_of_a_simulated_case_give_pass_k_and_mark_it_flaky() {
    let server = Server::start();
    let p = project(&server, &case("sometimes", "flaky", "Flo", ""));
    let out = p.evalgate(&[
        "run",
        "--out",
        "run",
        "--quiet",
        "--no-baseline",
        "--repeats",
        "4",
    ]);
    let all = results(&p.dir.join("run"));
    assert_eq!(all.len(), 4, "{}", stderr(&out));
    let passed = all.iter().filter(|r| r["passed"] == true).count();
    assert_eq!(passed, 2, "{all:?}");
    let s = summary(&p.dir.join("run"));
    let stats = &s["repeat_stats"];
    assert_eq!(stats["flaky"], json!(["en/sometimes"]), "{s}");
    assert_eq!(stats["pass_pow_k"], 0.0, "{s}");
    assert_eq!(stats["pass_at_1"], 0.5, "{s}");
}

/// Each mistake in a simulated case or the simulator block: exit 2, its file and line,
/// and nothing sent.
#[test]
fn bad_simulated_input_is_refused_at_its_line_before_anything_is_sent() {
    let server = Server::start();
    let good = case("ok", "helpful", "Ann", "");
    let bad_cases = [
        (
            good.replace("    simulate:\n", "    turns:\n      - user: hi\n    simulate:\n"),
            "en.yaml:9:",
            "both `turns` and `simulate`",
        ),
        (
            good.replace("      persona: \"Ann\"\n      goal: Get the refund\n      facts: { order_id: ORD-1 }\n", "").replace("    simulate:\n", ""),
            "en.yaml:3:",
            "no turns",
        ),
        (
            case("zero", "helpful", "Ann", "      max_turns: 0\n"),
            "en.yaml:10:",
            "between 1 and 50",
        ),
        (
            case("many", "helpful", "Ann", "      max_turns: 51\n"),
            "en.yaml:10:",
            "between 1 and 50",
        ),
        (
            case("typo", "helpful", "Ann", "      max_turn: 3\n"),
            "en.yaml:10:",
            "max_turn",
        ),
    ];
    for (cases, at, says) in bad_cases {
        let p = project(&server, &cases);
        let out = p.evalgate(&["run", "--out", "run", "--quiet", "--no-baseline"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(at) && err.contains(says), "{at} {says}: {err}");
    }
    // A simulated case with no simulator to play the customer.
    let p = project(&server, &good);
    let config = std::fs::read_to_string(p.dir.join("evalgate.yaml")).unwrap();
    let (bot, rest) = config.split_once("simulator:\n").unwrap();
    let evalsets = &rest[rest.find("evalsets:").unwrap()..];
    p.write("evalgate.yaml", &format!("{bot}{evalsets}"));
    let out = p.evalgate(&["run", "--out", "run", "--quiet", "--no-baseline"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("en.yaml:3") && err.contains("no `simulator:` block"),
        "{err}"
    );
    // An unknown key in the simulator block.
    let p = project(&server, &good);
    let config = std::fs::read_to_string(p.dir.join("evalgate.yaml")).unwrap();
    p.write(
        "evalgate.yaml",
        &config.replace(
            "  model: stub-customer\n",
            "  model: stub-customer\n  temprature: 0\n",
        ),
    );
    let out = p.evalgate(&["run", "--out", "run", "--quiet", "--no-baseline"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("evalgate.yaml:10") && err.contains("temprature"),
        "{err}"
    );
    // A customer prompt that does not render for a case.
    let p = project(&server, &good);
    p.write(
        "customer.j2",
        "You are {{ persona }} and want {{ facts.account_pin }}.",
    );
    let config = std::fs::read_to_string(p.dir.join("evalgate.yaml")).unwrap();
    p.write(
        "evalgate.yaml",
        &config.replace(
            "  model: stub-customer\n",
            "  model: stub-customer\n  prompt: customer.j2\n",
        ),
    );
    let out = p.evalgate(&["run", "--out", "run", "--quiet", "--no-baseline"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("en.yaml:3") && err.contains("simulator prompt"),
        "{err}"
    );
    assert!(server.requests("").is_empty(), "something was sent");
}

/// The judge reads the whole simulated conversation, the customer's last words included;
/// the simulator's key is scrubbed from what a careless simulator server echoes.
#[test]
fn the_judge_sees_the_whole_conversation_and_the_simulator_key_is_never_written() {
    let server = Server::start();
    let cases = [
        case("judged", "helpful", "Jo", "").replace(
            "must_include: [\"3 May\"]\n",
            "must_include: [\"3 May\"]\n      rubric: [\"Gives the date\"]\n",
        ),
        case("echo", "helpful", "Eve [[sim-echo-key]]", ""),
    ]
    .concat();
    let p = project(&server, &cases);
    let config = std::fs::read_to_string(p.dir.join("evalgate.yaml")).unwrap();
    let config = config
        .replace("  model: stub-customer\n", "  model: stub-customer\n  api_key_env: EVALGATE_E2E_SIM_KEY\n")
        .replace(
            "evalsets:",
            &format!(
                "judge:\n  provider: openai\n  base_url: http://127.0.0.1:{}/judge/v1\n  model: stub-judge\n  response_format: none\n  retries: 0\nevalsets:",
                server.port
            ),
        );
    p.write("evalgate.yaml", &config);
    const KEY: &str = "sk-sim-0123456789abcdef";
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args([
            "run",
            "--out",
            "run",
            "--quiet",
            "--no-baseline",
            "--no-cache",
        ])
        .current_dir(&p.dir)
        .env("EVALGATE_E2E_SIM_KEY", KEY)
        .output()
        .unwrap();
    let all = results(&p.dir.join("run"));
    assert_eq!(all.len(), 2, "{}", stderr(&out));
    let judged = result_for(&all, "en/judged");
    assert_eq!(judged["passed"], true, "{judged}");
    let prompts: Vec<String> = server
        .requests("/judge")
        .iter()
        .map(|s| s.body.to_string())
        .collect();
    assert_eq!(prompts.len(), 1, "{prompts:?}");
    for said in [
        "Where is my refund?",
        "It's ORD-1.",
        "Great, thanks!",
        ASK,
        ANSWER,
    ] {
        assert!(
            prompts[0].contains(said),
            "the judge missed {said:?}: {}",
            prompts[0]
        );
    }
    let echo = result_for(&all, "en/echo");
    assert_eq!(echo["error_kind"]["source"], "simulator", "{echo}");
    assert!(
        echo["error"]
            .as_str()
            .unwrap()
            .contains("[redacted:EVALGATE_E2E_SIM_KEY]"),
        "{echo}"
    );
    for file in [
        "results.jsonl",
        "report.html",
        "junit.xml",
        "report.md",
        "summary.json",
    ] {
        let text = std::fs::read_to_string(p.dir.join("run").join(file)).unwrap_or_default();
        assert!(!text.contains(KEY), "{file} holds the simulator's key");
    }
}

/// A simulated case that regresses shows its new conversation in report.md; a run whose
/// customer was played by another simulator is flagged loudly by `diff`.
#[test]
fn regressions_show_the_simulated_conversation_and_diff_flags_another_simulator() {
    let server = Server::start();
    let p = project(&server, &case("regress", "helpful", "Rae", ""));
    let out = p.evalgate(&["run", "--out", "base", "--quiet", "--no-baseline"]);
    assert_eq!(
        result_for(&results(&p.dir.join("base")), "en/regress")["passed"],
        true,
        "{}",
        stderr(&out)
    );

    p.write(
        "evalsets/en.yaml",
        &format!(
            "language: en\ncases:\n{}",
            case("regress", "useless", "Rae", "      max_turns: 2\n")
        ),
    );
    let out = p.evalgate(&["run", "--out", "new", "--quiet", "--baseline", "base"]);
    let md = std::fs::read_to_string(p.dir.join("new/report.md")).unwrap();
    assert!(
        md.contains("  - simulated conversation (stopped: max\\_turns):\n    - customer (simulated): Where is my refund?\n    - assistant: I am not sure I can help with that.\n"),
        "{}\n{md}",
        stderr(&out)
    );

    let config = std::fs::read_to_string(p.dir.join("evalgate.yaml")).unwrap();
    p.write(
        "evalgate.yaml",
        &config.replace("model: stub-customer", "model: stub-customer-2"),
    );
    let _ = p.evalgate(&["run", "--out", "other", "--quiet", "--no-baseline"]);
    let out = p.evalgate(&["diff", "new", "other"]);
    let text = crate::stdout(&out) + &stderr(&out);
    assert!(
        text.contains("THE CUSTOMER SIMULATOR DIFFERS (stub-customer (prompt sha256:"),
        "{text}"
    );
    assert!(
        text.contains("vs stub-customer-2 (prompt sha256:"),
        "{text}"
    );
    let out = p.evalgate(&["diff", "base", "new"]);
    let text = crate::stdout(&out) + &stderr(&out);
    assert!(!text.contains("SIMULATOR DIFFERS"), "{text}");
}

/// The shipped simulated cases run as is on the demo bot with the demo customer: the bot
/// asks for the order number, the customer gives it, the bot answers from that order and the
/// customer thanks and stops, in every language.
#[test]
fn the_shipped_simulated_cases_run_on_the_demo_bot_with_the_demo_customer() {
    let p = crate::shipped_demo_project("support.md.j2", false);
    let out = p.evalgate(&[
        "run",
        "--out",
        "run",
        "--quiet",
        "--no-baseline",
        "--filter",
        "*-sim-01",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let all = results(&p.dir.join("run"));
    assert_eq!(all.len(), 10);
    for r in &all {
        assert_eq!(r["passed"], true, "{r}");
        assert_eq!(r["stop_reason"], "customer_stop", "{r}");
        let turns = r["turns"].as_array().unwrap();
        assert_eq!(turns.len(), 5, "{r}");
        let given = turns[2]["content"].as_str().unwrap();
        let looked_up = r["actions"][0]["arguments"].as_str().unwrap();
        let id = looked_up.split('"').nth(3).unwrap();
        assert!(
            given.contains(id),
            "the order looked up is the one the customer gave: {r}"
        );
    }
    let s = summary(&p.dir.join("run"));
    assert_eq!(s["simulator_model"], "evalgate-demo-customer", "{s}");
}
