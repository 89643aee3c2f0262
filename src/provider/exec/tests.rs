use std::path::Path;

use super::*;
use crate::evalset::Case;
use crate::test_support::TempDir;

/// A bot steered by the customer's message; it logs every `end` line to stderr.
const BOT: &str = r#"
import json, os, sys, time
for line in sys.stdin:
    request = json.loads(line)
    if "end" in request:
        print("end " + request["end"], file=sys.stderr, flush=True)
        continue
    message = request["message"]
    if message == "hang":
        time.sleep(30)
    if message == "crash":
        print("going down", file=sys.stderr, flush=True)
        sys.exit(3)
    if message == "junk":
        print("this is not json", flush=True)
        continue
    if message == "fail":
        print(json.dumps({"error": "backend down"}), flush=True)
        continue
    reply = "%d %s %d" % (os.getpid(), request["conversation_id"], request["turn"])
    print(json.dumps({"reply": reply, "tokens_in": 3}), flush=True)
"#;

fn bot(dir: &Path) -> ExecBot {
    std::fs::write(dir.join("bot.py"), BOT).unwrap();
    ExecBot::new(
        Launch {
            label: "python3 bot.py".into(),
            program: "python3".into(),
            args: vec!["bot.py".into()],
            env: Default::default(),
            dir: dir.to_path_buf(),
            stderr_log: dir.join(STDERR_LOG),
        },
        Duration::from_secs(1),
    )
}

fn case(id: &str) -> Case {
    let yaml = format!(
        "language: en\ncases:\n  - id: {id}\n    stratum: routine\n    turns:\n      - user: hi\n    expect:\n      outcome: resolve\n"
    );
    crate::evalset::load_file(Path::new("en.yaml"), &yaml)
        .unwrap()
        .remove(0)
}

async fn open(bot: &ExecBot, case: &Case) -> Box<dyn Session> {
    let opening = Opening {
        case,
        repeat: 0,
        system_prompt: None,
    };
    bot.open(opening).await.unwrap()
}

/// The reply's first word: the pid of the process that answered.
fn pid_of(turn: &BotTurn) -> String {
    turn.content.split(' ').next().unwrap().to_string()
}

fn alive(pid: &str) -> bool {
    Path::new("/proc").join(pid).exists()
        && !std::fs::read_to_string(Path::new("/proc").join(pid).join("stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// Conversations one after another share one process, each told its own id and turn; the
/// program hears the end of each, and shutdown ends the process.
#[tokio::test]
async fn a_process_serves_one_conversation_after_another_and_ends_with_the_run() {
    let dir = TempDir::new("exec-pool");
    let bot = bot(&dir);
    assert_eq!(
        bot.model(),
        "python3 bot.py",
        "the command as the config writes it"
    );
    assert_eq!(bot.cache_identity(), None);
    let (a, b) = (case("a"), case("b"));
    let mut first = open(&bot, &a).await;
    let one = first.send("hi").await.unwrap();
    let two = first.send("again").await.unwrap();
    assert!(one.content.ends_with(" en/a#0 0"), "{}", one.content);
    assert!(two.content.ends_with(" en/a#0 1"), "{}", two.content);
    assert_eq!((one.tokens_in, one.tokens_out), (3, 0));
    first.close().await;
    let mut second = open(&bot, &b).await;
    let three = second.send("hi").await.unwrap();
    second.close().await;
    assert_eq!(pid_of(&one), pid_of(&three), "the process is kept");
    assert!(alive(&pid_of(&one)));

    bot.shutdown().await;
    assert!(!alive(&pid_of(&one)), "shutdown ends the idle processes");
    let log = std::fs::read_to_string(dir.join(STDERR_LOG)).unwrap();
    assert!(
        log.contains("end en/a#0\n") && log.contains("end en/b#0\n"),
        "{log}"
    );
}

/// Each failure ends its conversation with a final error; the process is killed when it
/// is out of step and kept when it answered with an error of its own.
#[tokio::test]
async fn failures_end_the_conversation_and_are_not_retried() {
    let dir = TempDir::new("exec-failures");
    let bot = bot(&dir);
    let c = case("a");
    let expectations = [
        ("hang", "timeout after 1.0s", true),
        ("crash", "exit status: 3", true),
        ("junk", "not JSON", true),
        ("fail", "the bot reported an error: backend down", false),
    ];
    for (message, expected, killed) in expectations {
        let mut session = open(&bot, &c).await;
        let pid = pid_of(&session.send("hi").await.unwrap());
        let error = session.send(message).await.unwrap_err();
        assert!(error.to_string().contains(expected), "{message}: {error}");
        assert!(!error.is_retryable(), "{message}: {error:?}");
        assert_eq!(!alive(&pid), killed, "{message}");
        session.close().await;
        let mut next = open(&bot, &c).await;
        let next_pid = pid_of(&next.send("hi").await.unwrap());
        assert_eq!(
            next_pid != pid,
            killed,
            "{message}: a new process only after a kill"
        );
        next.close().await;
    }
    bot.shutdown().await;
    let log = std::fs::read_to_string(dir.join(STDERR_LOG)).unwrap();
    assert!(log.contains("going down"), "{log}");
}

/// A program that cannot start is a final error at the opening, naming the command.
#[tokio::test]
async fn a_program_that_cannot_start_is_a_final_error() {
    let dir = TempDir::new("exec-missing");
    let bot = ExecBot::new(
        Launch {
            label: "no-such-bot".into(),
            program: dir.join("no-such-bot"),
            args: Vec::new(),
            env: Default::default(),
            dir: dir.to_path_buf(),
            stderr_log: dir.join(STDERR_LOG),
        },
        Duration::from_secs(1),
    );
    let c = case("a");
    let opening = Opening {
        case: &c,
        repeat: 0,
        system_prompt: None,
    };
    let Err(error) = bot.open(opening).await else {
        panic!("a missing program opened a conversation")
    };
    assert!(error.to_string().contains("no-such-bot"), "{error}");
    assert!(!error.is_retryable());
}
