//! The demo bot, in-process and over HTTP, on the shipped eval sets.

use crate::DemoServer;
use crate::{TempProject, assert_exit, repo_root, stderr, summary, verdicts};

fn shipped_project(bot: &str) -> TempProject {
    let p = TempProject::new();
    let root = repo_root();
    let config = format!(
        "bot:\n{bot}  prompt: {}\nevalsets: [\"{}/evalsets/**/*.yaml\"]\nsimulator:\n  provider: demo\nrun:\n  concurrency: 8\n",
        root.join("prompts/support.md.j2").display(),
        root.display()
    );
    p.write("evalgate.yaml", &config);
    p
}

#[test]
fn demo_bot_over_http_passes_the_shipped_suite_like_in_process() {
    let server = DemoServer::protocol("openai");
    let http = shipped_project(&format!(
        "  provider: openai\n  base_url: {}\n  model: evalgate-demo\n",
        server.base_url
    ));
    let out = http.evalgate(&["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 0);
    let s = summary(&http.dir.join("run"));
    let overall = &s["overall"];
    assert_eq!(overall["errors"], 0);
    assert!(overall["scored"].as_u64().unwrap() >= 200, "{overall}");
    assert!(overall["pass_rate"].as_f64().unwrap() >= 0.9, "{overall}");
    assert_eq!(overall["missed_escalations"], 0, "{overall}");

    // The same bot in-process gives the same verdict on every case.
    let local = shipped_project("  provider: demo\n");
    let out = local.evalgate(&["run", "--out", "run", "--quiet"]);
    assert_exit(&out, 0);
    assert_eq!(
        verdicts(&http.dir.join("run")),
        verdicts(&local.dir.join("run"))
    );
}

#[test]
fn check_prints_the_coverage_table_for_the_shipped_sets() {
    let p = shipped_project("  provider: demo\n");
    let out = p.evalgate(&["check"]);
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    for lang in ["de", "en", "es", "pl", "sv"] {
        let row = text
            .lines()
            .find(|l| l.starts_with(lang))
            .unwrap_or_else(|| panic!("no row for {lang}:\n{text}"));
        // Routine and edge hold one simulated case each besides their ten scripted ones;
        // refusal and adversarial hold a benign twin of each of their ten.
        assert_eq!(row.matches("11 w1").count(), 2, "{row}");
        assert_eq!(row.matches("20 w1").count(), 2, "{row}");
    }
}

#[test]
fn quickstart_config_runs_from_the_repo() {
    let out = crate::evalgate_in(&repo_root(), &["check"]);
    assert_exit(&out, 0);
}

#[test]
fn init_scaffolds_a_project_that_runs_and_never_overwrites() {
    let p = TempProject::new();
    let out = p.evalgate(&["init", "proj"]);
    assert_exit(&out, 0);
    let proj = p.dir.join("proj");
    let out = crate::evalgate_in(&proj, &["check"]);
    assert_exit(&out, 0);
    let out = crate::evalgate_in(&proj, &["run", "--quiet", "--out", "r"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the scaffold passes its own gate: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::write(proj.join("prompts/support.md.j2"), "edited").unwrap();
    let out = p.evalgate(&["init", "proj"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(proj.join("prompts/support.md.j2")).unwrap(),
        "edited"
    );
}
