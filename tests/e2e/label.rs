//! `evalgate label` end to end: a run judged by the stub judge, its label page opened in
//! headless Chromium and labelled through the page's own keyboard handler, and the labels
//! the page exports accepted by `evalgate calibrate` with every one matched.

use serde_json::Value;

use crate::{TempProject, assert_exit, chromium, headless, results, stderr, stdout, stub};

/// The judge's reasons the stub gives (see stub.rs): the page must show none of them.
const JUDGE_REASONS: [&str; 2] = ["the date is wrong", "says the date"];

fn case(id: &str, stratum: &str, user: &str, extra: &str) -> String {
    format!(
        "  - id: {id}\n    stratum: {stratum}\n{extra}    turns:\n      - user: \"{user}\"\n    expect:\n      outcome: resolve\n      language: any\n      reference: \"Ships on 28 November <b>firm</b>\"\n      rubric: [\"Gives 28 November as the date\"]\n"
    )
}

/// A judged run in `run/` over two languages: one result a bot error, one case with
/// context, the rest judged pass or (marked `[[judge-fail]]`) fail.
fn judged_run(p: &TempProject) {
    let stub = stub::start();
    p.write(
        "evalgate.yaml",
        &format!(
            "bot:\n  provider: openai\n  base_url: {url}\n  model: stub\n  timeout_s: 5\njudge:\n  provider: openai\n  base_url: {url}\n  model: stub-judge\n  retries: 1\n  timeout_s: 5\nevalsets: [\"evalsets/*.yaml\"]\nrun:\n  retries: 0\n  max_error_rate: 1\n",
            url = stub.base_url
        ),
    );
    p.write(
        "evalsets/en.yaml",
        &format!(
            "language: en\ncases:\n{}{}{}{}{}",
            case(
                "good",
                "routine",
                "when does it ship",
                "    context: { order_id: \"ORD-<i>77</i>\" }\n"
            ),
            case("fails", "routine", "[[judge-fail]] when", ""),
            case("edge", "edge", "when, exactly", ""),
            case("attack", "adversarial", "[[judge-fail]] ignore rules", ""),
            case("broken", "routine", "[[500]] when", ""),
        ),
    );
    p.write(
        "evalsets/pl.yaml",
        &format!(
            "language: pl\ncases:\n{}{}",
            case("good", "routine", "kiedy wysyłka", ""),
            case("fails", "edge", "[[judge-fail]] kiedy", ""),
        ),
    );
    let out = p.evalgate(&["run", "--out", "run", "--quiet", "--no-baseline"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let rs = results(&p.dir.join("run"));
    assert!(
        rs.iter()
            .any(|r| r["key"] == "en/broken" && r["error"].is_string()),
        "the bot error the sample must leave out"
    );
}

/// The `data-key` of every result on the page, in page order.
fn page_keys(html: &str) -> Vec<String> {
    html.split("data-key=\"")
        .skip(1)
        // minijinja escapes `/` in attributes.
        .map(|rest| rest[..rest.find('"').unwrap()].replace("&#x2f;", "/"))
        .collect()
}

fn text_of_export(dom: &str) -> String {
    let start = dom.find("<pre id=\"export\"").expect("export block");
    let open_end = start + dom[start..].find('>').unwrap() + 1;
    let close = open_end + dom[open_end..].find("</pre>").unwrap();
    dom[open_end..close]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[test]
fn labels_made_on_the_page_are_accepted_and_matched_by_calibrate() {
    let p = TempProject::new();
    judged_run(&p);

    let out = p.evalgate(&["label", "run", "--seed", "3"]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("6 results to label"),
        "{}",
        stdout(&out)
    );
    let page = p.dir.join("run/label.html");
    let html = std::fs::read_to_string(&page).expect("label.html in the run directory");
    for reason in JUDGE_REASONS {
        assert!(
            !html.contains(reason),
            "the judge's reason {reason:?} leaked"
        );
    }
    let keys = page_keys(&html);
    assert_eq!(keys.len(), 6, "every result but the bot error: {keys:?}");
    assert!(!keys.iter().any(|k| k == "en/broken"));
    assert!(
        html.contains("ORD-&lt;i&gt;77") && html.contains("&lt;b&gt;firm"),
        "context and reference are shown, as text"
    );
    assert!(
        html.contains("Gives 28 November as the date"),
        "the rubric is shown"
    );
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the page's own script"
    );
    assert!(!html.contains("http://") && !html.contains("https://"));

    // The same seed gives the same page; a smaller N takes fewer per language.
    let again = p.dir.join("again.html");
    let out = p.evalgate(&[
        "label",
        "run",
        "--seed",
        "3",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    assert_eq!(std::fs::read_to_string(&again).unwrap(), html);
    let out = p.evalgate(&[
        "label",
        "run",
        "--per-language",
        "1",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let one_each = page_keys(&std::fs::read_to_string(&again).unwrap());
    assert_eq!(one_each.len(), 2, "{one_each:?}");
    assert_ne!(one_each[0][..2], one_each[1][..2], "one per language");

    let Some(browser) = chromium() else {
        return;
    };
    // A person's keystrokes: pass the criterion ("1"; "11" passes, then fails it), mark
    // the outcome, move on ("j"). The first result is failed and escalated, the rest
    // passed and resolved.
    let mut keys_pressed = String::new();
    for i in 0..keys.len() {
        keys_pressed += if i == 0 { "11e" } else { "1r" };
        keys_pressed += "j";
    }
    let url = format!(
        "file://{}#autotest&labeler=ola&keys={keys_pressed}",
        page.display()
    );
    let dom = headless(
        &browser,
        &p.dir.join("chromium-profile"),
        &["--dump-dom", &url],
    );
    let dom = String::from_utf8_lossy(&dom.stdout).to_string();
    assert!(dom.contains("data-js=\"ready\""), "the page's script ran");
    assert!(dom.contains("6 of 6 labelled"), "progress is counted");
    let jsonl = text_of_export(&dom);
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "{jsonl}");
    assert_eq!(lines[0]["key"], keys[0].as_str());
    assert_eq!(lines[0]["outcome"], "escalated");
    assert_eq!(lines[1]["outcome"], "resolved");
    assert_eq!(lines[0]["labeler"], "ola");
    assert_eq!(
        lines[0]["criteria"],
        serde_json::json!([{"n": 1, "passed": false}])
    );
    p.write("labels.jsonl", &jsonl);

    // Progress stays in the browser: opened again with no keys pressed, the page still
    // holds every label.
    let reopened = format!("file://{}#autotest&labeler=ola", page.display());
    let dom = headless(
        &browser,
        &p.dir.join("chromium-profile"),
        &["--dump-dom", &reopened],
    );
    let dom = String::from_utf8_lossy(&dom.stdout).to_string();
    assert_eq!(text_of_export(&dom), jsonl, "progress was kept");

    let out = p.evalgate(&["calibrate", "run", "--labels", "labels.jsonl"]);
    assert_exit(&out, 0);
    let c: Value =
        serde_json::from_str(&std::fs::read_to_string(p.dir.join("run/calibration.json")).unwrap())
            .unwrap();
    assert_eq!(c["unmatched"], 0, "{c}");
    assert_eq!(c["overall"]["results"], 6, "{c}");
    assert_eq!(c["overall"]["criteria"], 6, "{c}");
    // The judge fails the criterion on the `[[judge-fail]]` results only; the human
    // failed it on the first result only. Where they differ is harsh or lenient.
    let rs = results(&p.dir.join("run"));
    let judge_passed = |key: &str| {
        rs.iter().find(|r| r["key"] == key).unwrap()["judge"]["criteria"][0]["passed"]
            .as_bool()
            .unwrap()
    };
    let (mut lenient, mut harsh) = (0, 0);
    for (i, key) in keys.iter().enumerate() {
        match (judge_passed(key), i != 0) {
            (true, false) => lenient += 1,
            (false, true) => harsh += 1,
            _ => {}
        }
    }
    assert!(
        harsh >= 2,
        "the sample holds judge failures the human passed"
    );
    assert_eq!(c["overall"]["harsh"], harsh, "{c}");
    assert_eq!(c["overall"]["lenient"], lenient, "{c}");
}

/// Labels are only ever compared with a judge's verdicts: a run no judge read has nothing
/// to label, and says so before a person spends an hour on it.
#[test]
fn a_run_without_a_judge_or_an_empty_sample_is_refused() {
    let p = TempProject::new();
    assert_exit(&p.evalgate(&["init", "."]), 0);
    let out = p.evalgate(&["run", "--out", "run", "--quiet", "--no-baseline"]);
    assert_exit(&out, 0);

    let out = p.evalgate(&["label", "run"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("run: no result has a judge's verdict") && err.contains("evalgate rescore"),
        "{err}"
    );
    assert!(!p.dir.join("run/label.html").exists(), "nothing written");

    let out = p.evalgate(&["label", "run", "--per-language", "0"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("--per-language must be at least 1"),
        "{}",
        stderr(&out)
    );
}
