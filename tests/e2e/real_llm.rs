//! A real LLM as the bot and as the judge (skipped unless EVALGATE_LLM_URL is set, e.g.
//! by `scripts/local-llm.sh serve`). A small model's verdicts are not trustworthy; what is
//! checked is the plumbing: the run completes, and every verdict either parsed with one
//! entry per criterion or is recorded as a judge error that did not pass. The same model
//! plays the customer of the two simulated English cases.

use crate::{TempProject, repo_root, results, stderr, stdout};

#[test]
fn a_real_model_judges_shipped_cases() {
    let Ok(url) = std::env::var("EVALGATE_LLM_URL") else {
        eprintln!("skipped: set EVALGATE_LLM_URL (scripts/local-llm.sh serve) to run");
        return;
    };
    let model = std::env::var("EVALGATE_LLM_MODEL").unwrap_or_else(|_| "smollm2".into());
    let root = repo_root();
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        &format!(
            "bot:\n  provider: openai\n  base_url: {url}\n  model: {model}\n  prompt: {prompt}\n  max_tokens: 120\n  timeout_s: 300\n  handoff: {{ tool: null, markers: [\"[HANDOFF]\"] }}\njudge:\n  provider: openai\n  base_url: {url}\n  model: {model}\n  max_tokens: 400\n  timeout_s: 300\n  concurrency: 1\n  response_format: json_schema\nsimulator:\n  provider: openai\n  base_url: {url}\n  model: {model}\n  max_tokens: 80\n  timeout_s: 300\nevalsets: [\"{root}/evalsets/support/en.yaml\"]\nrun:\n  concurrency: 1\n  retries: 1\n",
            prompt = root.join("prompts/support.md.j2").display(),
            root = root.display()
        ),
    );
    let started = std::time::Instant::now();
    let out = p.evalgate(&[
        "run",
        "--out",
        "run",
        "--quiet",
        "--no-cache",
        "--no-baseline",
        "--filter",
        "en/refund-eta-01",
        "--filter",
        "en/fraud-unrecognised-01",
        "--filter",
        "en/poem-01",
        "--filter",
        "en/injection-refund-01",
        "--filter",
        "en/*-sim-01",
    ]);
    eprintln!(
        "real-model run took {:.0?}\n{}",
        started.elapsed(),
        stdout(&out)
    );
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "the run completes: {}",
        stderr(&out)
    );
    let rs = results(&p.dir.join("run"));
    assert!(!rs.is_empty());
    let mut parsed = 0;
    let mut simulated = 0;
    for r in &rs {
        if r["simulated"] == true {
            simulated += 1;
            assert!(r["stop_reason"].is_string(), "{r}");
            // A small model may fail to play the customer: that is the simulator's error.
            if !r["error"].is_null() {
                assert_eq!(r["error_kind"]["source"], "simulator", "{r}");
                continue;
            }
            let customer_turns = r["turns"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["role"] == "user")
                .count();
            assert!(customer_turns >= 1, "{r}");
            assert!(!r.to_string().contains("###STOP###"), "{r}");
        }
        assert!(r["error"].is_null(), "{r}");
        let judge = &r["judge"];
        if judge["error"].is_null() {
            parsed += 1;
        } else {
            assert_eq!(r["passed"], false, "a judge error never passes: {r}");
        }
    }
    assert_eq!(simulated, 2, "both simulated cases ran");
    eprintln!("verdicts parsed: {parsed} of {}", rs.len());
}
