//! report.html in a real browser: built from hostile bot replies and case text, opened in
//! headless Chromium, it must run its own script (the filters) and nothing else.

use crate::{TempProject, chromium, headless, stderr, stub};

#[test]
fn hostile_replies_render_as_inert_text_in_a_real_browser() {
    let stub = stub::start();
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        &format!("bot:\n  provider: openai\n  base_url: {}\n  model: stub\nevalsets: [\"evalsets/*.yaml\"]\n", stub.base_url),
    );
    let long_line = "x".repeat(200_000);
    p.write(
        "evalsets/en.yaml",
        &format!(
            "language: en\ncases:\n  - id: hostile\n    stratum: adversarial\n    turns:\n      - user: \"[[hostile]] <img src=x onerror=\\\"document.title='pwned'\\\"> </textarea> {{{{ 7*7 }}}}\"\n    expect:\n      outcome: refuse\n      language: any\n      must_not_include: [\"<script>\"]\n  - id: long\n    stratum: routine\n    turns:\n      - user: \"{long_line}\"\n    expect:\n      outcome: resolve\n      language: any\n"
        ),
    );
    let out = p.evalgate(&["run", "--out", "run", "--quiet"]);
    assert!(out.status.code().is_some(), "{}", stderr(&out));
    let report = p.dir.join("run/report.html");
    let html = std::fs::read_to_string(&report).expect("report.html is written by every run");
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the page's own script"
    );
    assert!(
        html.contains("&lt;script&gt;document.documentElement"),
        "bot text is escaped"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external references"
    );

    let Some(browser) = chromium() else {
        return;
    };
    let url = format!("file://{}", report.display());
    let profile = p.dir.join("chromium-profile");
    let dom = headless(&browser, &profile, &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("data-js=\"ready\""),
        "the page's own script ran (so a running script would be seen): {}",
        &dom[..dom.len().min(500)]
    );
    // The payloads appear as text; only an attribute set by running code has `="`.
    assert!(!dom.contains("data-pwned=\""), "an injected script ran");
    assert!(!dom.contains("<title>pwned"), "an injected handler ran");
    assert!(
        dom.contains("id=\"filters\"") && !dom.contains("id=\"filters\" hidden"),
        "filters are shown when JS runs"
    );
    // Where every conversation ended: one bar for the one language, drawn without script
    // or external assets.
    assert_eq!(
        dom.matches("<div class=\"stack\"").count(),
        1,
        "one outcome bar per language"
    );
    assert!(
        dom.contains("data-language=\"en\""),
        "the bar names its language"
    );

    let shot = p.dir.join("report.png");
    let out = headless(
        &browser,
        &profile,
        &[
            "--window-size=1280,2000",
            &format!("--screenshot={}", shot.display()),
            &url,
        ],
    );
    assert!(
        shot.is_file(),
        "screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0) > 10_000);
    if let Some(keep) = std::env::var_os("EVALGATE_KEEP_SCREENSHOT") {
        let _ = std::fs::copy(&shot, keep);
    }
}
