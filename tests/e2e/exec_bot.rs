//! The `exec` provider: a local program as the bot, driven by the real binary. The recipe
//! runs as written against the demo bot; a misbehaving program costs only the
//! conversations it spoils; no process outlives a run, finished or interrupted.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::DemoServer;
use crate::{
    TempProject, assert_exit, repo_root, result_for, results, signal, start_run, stderr, summary,
    verdicts,
};

/// The recipe's blocks of one kind (```yaml, ```sh), in order.
fn blocks(recipe: &str, kind: &str) -> Vec<String> {
    let fence = format!("```{kind}\n");
    recipe
        .split(fence.as_str())
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(block, _)| block.to_string()))
        .collect()
}

/// `evalgate demo-bot` started from the recipe's command line, on a free port instead of
/// 8787.
fn demo_from_recipe(command: &str) -> DemoServer {
    let args: Vec<&str> = command
        .split_whitespace()
        .skip(2) // `evalgate demo-bot`
        .collect();
    assert!(command.contains("demo-bot"), "{command}");
    let without_port: Vec<&str> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| **a != "--port" && (*i == 0 || args[i - 1] != "--port"))
        .map(|(_, a)| *a)
        .collect();
    DemoServer::start(&without_port)
}

/// The recipe in docs/recipes/exec.md, as written but for the port: the example bot in
/// Python forwards every turn to the demo bot and gets the verdicts the demo bot gets
/// in-process, handoffs included.
#[test]
fn the_exec_recipe_runs_as_written_against_the_demo_bot() {
    let root = repo_root();
    let recipe = std::fs::read_to_string(root.join("docs/recipes/exec.md")).unwrap();
    let commands = blocks(&recipe, "sh");
    let serve = commands
        .iter()
        .find(|c| c.contains("demo-bot"))
        .expect("the recipe starts the demo bot");
    let run = commands
        .iter()
        .find(|c| c.trim().starts_with("evalgate run"))
        .expect("the recipe runs evalgate");
    let yaml = &blocks(&recipe, "yaml")[0];
    assert!(yaml.contains("8787"), "{yaml}");
    let server = demo_from_recipe(serve.trim());

    let p = TempProject::new();
    p.write(
        "examples/exec_bot.py",
        &std::fs::read_to_string(root.join("examples/exec_bot.py")).unwrap(),
    );
    p.write(
        "prompts/support.md.j2",
        &std::fs::read_to_string(root.join("prompts/support.md.j2")).unwrap(),
    );
    let evalsets = format!(
        "evalsets: [\"{}/evalsets/**/*.yaml\"]\nsimulator:\n  provider: demo\n",
        root.display()
    );
    p.write(
        "evalgate.yaml",
        &format!(
            "{}{evalsets}",
            yaml.replace("8787", &server.port.to_string())
        ),
    );
    let mut args: Vec<&str> = run.split_whitespace().skip(1).collect();
    args.extend(["--out", "run", "--quiet"]);
    let out = p.evalgate(&args);
    assert_exit(&out, 0);
    let run_dir = p.dir.join("run");
    let overall = &summary(&run_dir)["overall"];
    assert_eq!(overall["errors"], 0, "{overall}");
    assert!(overall["tokens_in"].as_u64().unwrap() > 0, "{overall}");
    assert!(
        results(&run_dir).iter().any(|r| r["turns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["tool_calls"][0]["name"] == "escalate_to_human")),
        "the handoff is reported as an action"
    );
    let log = std::fs::read_to_string(run_dir.join("exec-stderr.log")).unwrap();
    assert!(log.contains("started, forwarding to"), "{log}");

    let local = TempProject::new();
    local.write(
        "evalgate.yaml",
        &format!(
            "bot:\n  provider: demo\n  prompt: {}\n{evalsets}",
            root.join("prompts/support.md.j2").display()
        ),
    );
    let out = local.evalgate(&["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 0);
    assert_eq!(verdicts(&run_dir), verdicts(&local.dir.join("run")));
}

/// A bot that records its pid in `pids/`, logs each `end` line to stderr, and misbehaves
/// on the cases named for it.
const MISBEHAVING_BOT: &str = r#"
import json, os, sys, time
open(os.path.join("pids", str(os.getpid())), "w").close()
print("bot %d started" % os.getpid(), file=sys.stderr, flush=True)
for line in sys.stdin:
    request = json.loads(line)
    if "end" in request:
        print("end " + request["end"], file=sys.stderr, flush=True)
        continue
    case = request["case"]["id"]
    if case == "hang":
        time.sleep(60)
    if case == "crash":
        print("crashing on purpose", file=sys.stderr, flush=True)
        sys.exit(7)
    if case == "junk":
        print("Traceback (most recent call last): not an answer", flush=True)
        continue
    if case == "fail":
        print(json.dumps({"error": "inventory service down"}), flush=True)
        continue
    if case == "human":
        actions = [{"name": "open_ticket", "arguments": {"queue": "refunds"}}]
        print(json.dumps({"reply": "A colleague takes over.", "handoff": True, "actions": actions}), flush=True)
        continue
    reply = os.environ["GREETING"] + " Your order ships on 28 November."
    print(json.dumps({"reply": reply, "tokens_in": 5, "tokens_out": 7}), flush=True)
print("bot %d saw its stdin close" % os.getpid(), file=sys.stderr, flush=True)
"#;

/// A project whose bot is [`MISBEHAVING_BOT`], with one routine case per id.
fn misbehaving_project(ids: &[&str], timeout_s: u32, concurrency: u32) -> TempProject {
    let p = TempProject::new();
    std::fs::create_dir_all(p.dir.join("pids")).unwrap();
    p.write("bot.py", MISBEHAVING_BOT);
    p.write(
        "evalgate.yaml",
        &format!(
            "bot:\n  provider: exec\n  command: [\"python3\", \"bot.py\"]\n  env: {{ GREETING: \"Hej!\" }}\n  timeout_s: {timeout_s}\nevalsets: [\"evalsets/*.yaml\"]\nrun:\n  concurrency: {concurrency}\n"
        ),
    );
    let mut cases = String::from("language: en\ncases:\n");
    for id in ids {
        cases += &format!(
            "  - id: {id}\n    stratum: routine\n    turns:\n      - user: \"Where is my order?\"\n      - user: \"Thanks.\"\n    expect:\n      outcome: resolve\n      language: any\n      must_include: [\"Hej! Your order ships on 28 November\"]\n"
        );
    }
    p.write("evalsets/en.yaml", &cases);
    p
}

/// The pids the bot's processes recorded.
fn pids(p: &TempProject) -> Vec<String> {
    std::fs::read_dir(p.dir.join("pids"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Whether a process still runs (a zombie waiting for its parent does not).
fn running(pid: &str) -> bool {
    std::fs::read_to_string(Path::new("/proc").join(pid).join("stat"))
        .is_ok_and(|stat| !stat.contains(") Z "))
}

/// A hang, a crash, a line that is not JSON and an error answer each cost only their own
/// conversation, none is retried, the run is incomplete (exit 3), the program's stderr is
/// in exec-stderr.log, every finished conversation was told its end, the processes still
/// in step are let go at the end of the run, and no process is left behind.
#[test]
fn a_misbehaving_program_spoils_only_its_own_conversations() {
    let p = misbehaving_project(
        &[
            "ok0", "hang", "ok1", "crash", "ok2", "junk", "fail", "ok3", "human",
        ],
        1,
        2,
    );
    let out = p.evalgate(&["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 3);
    let run_dir = p.dir.join("run");
    let all = results(&run_dir);
    assert_eq!(all.len(), 9);
    let expected_errors = [
        ("en/hang", "timeout after 1.0s", "timeout"),
        ("en/crash", "exit status: 7", "connection"),
        ("en/junk", "not JSON", "bad_response"),
        (
            "en/fail",
            "the bot reported an error: inventory service down",
            "bad_response",
        ),
    ];
    for (key, message, cause) in expected_errors {
        let r = result_for(&all, key);
        let error = r["error"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{key}: {r}");
        assert_eq!(r["error_kind"]["cause"], cause, "{key}: {r}");
        assert_eq!(r["passed"], false, "{key}");
        assert_eq!(
            r["attempts"], 1,
            "{key}: a failure that ends a conversation is not retried"
        );
    }
    for key in ["en/ok0", "en/ok1", "en/ok2", "en/ok3"] {
        let r = result_for(&all, key);
        assert_eq!(r["passed"], true, "{key}: {r}");
        assert_eq!(
            (r["tokens_in"].as_u64(), r["tokens_out"].as_u64()),
            (Some(10), Some(14))
        );
    }
    // The bot's own handoff signal stops the script; its actions are kept as JSON text.
    let human = result_for(&all, "en/human");
    assert_eq!(human["observed_outcome"], "escalated", "{human}");
    assert_eq!(human["turns"].as_array().unwrap().len(), 2, "{human}");
    assert_eq!(human["turns"][1]["tool_calls"][0]["name"], "open_ticket");
    assert_eq!(
        human["turns"][1]["tool_calls"][0]["arguments"],
        r#"{"queue":"refunds"}"#
    );
    assert_eq!(
        (human["tokens_in"].as_u64(), human["tokens_out"].as_u64()),
        (Some(0), Some(0))
    );
    let overall = &summary(&run_dir)["overall"];
    assert_eq!(
        (overall["errors"].as_u64(), overall["passed"].as_u64()),
        (Some(4), Some(4))
    );

    let log = std::fs::read_to_string(run_dir.join("exec-stderr.log")).unwrap();
    assert!(log.contains("crashing on purpose"), "{log}");
    for id in ["ok0", "ok1", "ok2", "ok3", "fail", "human"] {
        assert!(
            log.contains(&format!("end en/{id}#0\n")),
            "no end for {id}:\n{log}"
        );
    }
    for id in ["hang", "crash", "junk"] {
        assert!(
            !log.contains(&format!("end en/{id}#0")),
            "{id}: its process was killed\n{log}"
        );
    }
    let started = pids(&p);
    assert!(
        started.len() >= 3,
        "each killed process is replaced: {started:?}"
    );
    assert_eq!(log.matches(" started\n").count(), started.len(), "{log}");
    // The three killed get no say; the others are let go by closing their stdin.
    assert_eq!(
        log.matches(" saw its stdin close\n").count(),
        started.len() - 3,
        "{log}"
    );
    let left: Vec<&String> = started.iter().filter(|pid| running(pid)).collect();
    assert!(left.is_empty(), "processes left behind: {left:?}");
}

/// Ctrl-C twice abandons the conversation in flight: its process is killed too.
#[test]
fn an_interrupted_run_leaves_no_process_behind() {
    let p = misbehaving_project(&["ok0", "ok1", "hang", "ok2"], 60, 1);
    let mut child = start_run(&p, "run", &[], 2);
    // The lane is now on `hang`, whose process sleeps for a minute.
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "-INT");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "evalgate did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    let started = pids(&p);
    assert!(!started.is_empty());
    let left: Vec<&String> = started.iter().filter(|pid| running(pid)).collect();
    assert!(left.is_empty(), "processes left behind: {left:?}");
}

/// A mistyped script is an error at the `command` line, before anything runs.
#[test]
fn a_missing_script_is_an_error_at_its_line() {
    let p = misbehaving_project(&["ok0"], 1, 1);
    let config = std::fs::read_to_string(p.dir.join("evalgate.yaml")).unwrap();
    p.write(
        "evalgate.yaml",
        &config.replace("\"bot.py\"", "\"bots/bot.py\""),
    );
    let out = p.evalgate(&["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("evalgate.yaml:3"), "{err}");
    assert!(err.contains("bots/bot.py does not exist"), "{err}");
    assert!(pids(&p).is_empty());
}
