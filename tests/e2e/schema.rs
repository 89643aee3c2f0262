//! Schemas and large or broken files: the committed `schemas/` is what `evalgate schema`
//! writes, the YAML files evalgate ships and `init` writes name their schema, `check`
//! lists every problem of a file in one pass, a 20,000-case file loads, and alias bombs
//! and deep nesting are still refused.

use std::path::Path;

use crate::{TempProject, assert_exit, evalgate_in, repo_root, routine_cases, stderr, stdout};

const SCHEMAS: [&str; 3] = [
    "evalgate.schema.json",
    "evalset.schema.json",
    "gate.schema.json",
];

const CONFIG: &str = "bot:\n  provider: demo\nevalsets: [\"evalsets/*.yaml\"]\n";

/// `EVALGATE_UPDATE_SCHEMAS=1 cargo test --test e2e schema` rewrites the committed
/// schemas instead of comparing them (after a change to a config, eval-set or gate type).
#[test]
fn committed_schemas_are_what_the_loader_reads() {
    let committed = repo_root().join("schemas");
    if std::env::var_os("EVALGATE_UPDATE_SCHEMAS").is_some() {
        let out = evalgate_in(&repo_root(), &["schema", "--out", "schemas"]);
        assert_exit(&out, 0);
        return;
    }
    let p = TempProject::new();
    let out = p.evalgate(&["schema", "--out", "fresh"]);
    assert_exit(&out, 0);
    for name in SCHEMAS {
        let fresh = std::fs::read_to_string(p.dir.join("fresh").join(name)).unwrap();
        let shipped = std::fs::read_to_string(committed.join(name)).unwrap_or_default();
        assert!(
            fresh == shipped,
            "schemas/{name} differs from what this build of evalgate accepts (a field of \
             the config, eval-set or gate types changed). Regenerate and commit it:\n  \
             cargo run -- schema --out schemas\nor\n  EVALGATE_UPDATE_SCHEMAS=1 cargo test --test e2e schema"
        );
        // Valid JSON, draft 2020-12.
        let schema: serde_json::Value = serde_json::from_str(&fresh).unwrap();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
    let printed = stdout(&p.evalgate(&["schema", "--print", "gate"]));
    assert_eq!(
        printed,
        std::fs::read_to_string(p.dir.join("fresh/gate.schema.json")).unwrap()
    );
}

/// The schema a YAML file names on its first line, resolved from the file's folder.
fn named_schema(file: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(file).unwrap();
    let first = text.lines().next().unwrap_or_default();
    let relative = first
        .strip_prefix("# yaml-language-server: $schema=")
        .unwrap_or_else(|| panic!("{} does not name its schema: {first}", file.display()));
    file.parent().unwrap().join(relative)
}

#[test]
fn shipped_yaml_files_name_their_schema() {
    let root = repo_root();
    let mut expected = vec![
        (root.join("evalgate.yaml"), "evalgate.schema.json"),
        (root.join("gates/launch.yaml"), "gate.schema.json"),
    ];
    for entry in std::fs::read_dir(root.join("evalsets/support")).unwrap() {
        expected.push((entry.unwrap().path(), "evalset.schema.json"));
    }
    for (file, schema) in expected {
        let named = named_schema(&file);
        assert!(
            named.ends_with(schema),
            "{}: {}",
            file.display(),
            named.display()
        );
        assert!(
            named.is_file(),
            "{} names {}",
            file.display(),
            named.display()
        );
    }
}

#[test]
fn init_writes_the_schemas_its_files_name() {
    for provider in ["demo", "http"] {
        let p = TempProject::new();
        let out = p.evalgate(&["init", "--provider", provider, "proj"]);
        assert_exit(&out, 0);
        let project = p.dir.join("proj");
        for (file, schema) in [
            ("evalgate.yaml", "evalgate.schema.json"),
            ("evalsets/support/en.yaml", "evalset.schema.json"),
            ("gates/launch.yaml", "gate.schema.json"),
        ] {
            let named = named_schema(&project.join(file));
            assert!(named.ends_with(schema), "{file}: {}", named.display());
            let written = std::fs::read_to_string(&named)
                .unwrap_or_else(|e| panic!("{file} names {}: {e}", named.display()));
            let kind = schema.trim_end_matches(".schema.json");
            let kind = if kind == "evalgate" { "config" } else { kind };
            assert_eq!(written, stdout(&p.evalgate(&["schema", "--print", kind])));
        }
        if provider == "demo" {
            let out = evalgate_in(&project, &["check"]);
            assert_exit(&out, 0);
        }
    }
}

#[test]
fn check_lists_every_problem_of_an_eval_set_with_lines() {
    let p = TempProject::new();
    p.write("evalgate.yaml", CONFIG);
    p.write(
        "evalsets/en.yaml",
        concat!(
            "language: en\ncases:\n",
            "  - id: typo-stratum\n    stratum: rutine\n    turns: [{user: hi}]\n    expect: {outcome: resolve}\n",
            "  - id: typo-key\n    stratum: edge\n    turns: [{user: hi}]\n    expect:\n      outcome: escalate\n      must_inclde: [human]\n",
            "  - id: bad-regex\n    stratum: refusal\n    turns: [{user: hi}]\n    expect: {outcome: refuse, regex: [\"(unclosed\"]}\n",
            "  - id: fine\n    stratum: routine\n    turns: [{user: hi}]\n    expect: {outcome: resolve}\n",
        ),
    );
    let out = p.evalgate(&["check"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    for needle in [
        "evalsets/en.yaml:4:14: case `typo-stratum`: stratum: unknown value `rutine`",
        "(did you mean `routine`?)",
        "evalsets/en.yaml:12:7: case `typo-key`: expect: unknown field `must_inclde`",
        "(did you mean `must_include`?)",
        "evalsets/en.yaml:16:",
        "case `bad-regex`: invalid regex `(unclosed`",
        "3 problems found; nothing was sent.",
    ] {
        assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    }
}

#[test]
fn check_lists_every_problem_of_the_config_and_of_the_gate() {
    let p = TempProject::new();
    p.write(
        "evalgate.yaml",
        "bot:\n  provider: demo\n  modle: x\nevalsets: [\"evalsets/*.yaml\"]\nrun:\n  concurency: 4\n  repeats: twice\n",
    );
    p.write("evalsets/en.yaml", &routine_cases(1, |_| "hi".into()));
    let out = p.evalgate(&["check"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    for needle in [
        "evalgate.yaml:3:3: bot: unknown field `modle`",
        "evalgate.yaml:6:3: run: unknown field `concurency`",
        "(did you mean `concurrency`?)",
        "evalgate.yaml:7:12: run.repeats: expected a whole number, found text `twice`",
        "3 problems found",
    ] {
        assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    }

    p.write("evalgate.yaml", &format!("{CONFIG}gate: gate.yaml\n"));
    p.write(
        "gate.yaml",
        "pass_rate: { routin: 0.9 }\nmax_error_rat: 0.01\nper_language: maybe\n",
    );
    let out = p.evalgate(&["check"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    for needle in [
        "gate.yaml:1:14: pass_rate: unknown field `routin`",
        "gate.yaml:2:1: unknown field `max_error_rat`",
        "(did you mean `max_error_rate`?)",
        "gate.yaml:3:15: per_language: expected true or false, found text `maybe`",
    ] {
        assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    }
}

#[test]
fn a_20000_case_eval_set_checks() {
    let p = TempProject::new();
    p.write("evalgate.yaml", CONFIG);
    p.write(
        "evalsets/en.yaml",
        &routine_cases(20_000, |i| format!("Where is my refund for order {i}?")),
    );
    let out = p.evalgate(&["check"]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("ok: 20000 cases in 1 file"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn alias_bombs_and_deep_nesting_are_refused() {
    let p = TempProject::new();
    p.write("evalgate.yaml", CONFIG);
    // Billion laughs in a case's context, which takes any YAML value.
    let mut bomb = String::from(
        "language: en\ncases:\n  - id: lol\n    stratum: routine\n    turns: [{user: hi}]\n    expect: {outcome: resolve}\n    context:\n      a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for level in 1..10 {
        let list = vec![format!("*a{}", level - 1); 10].join(", ");
        bomb.push_str(&format!("      a{level}: &a{level} [{list}]\n"));
    }
    p.write("evalsets/en.yaml", &bomb);
    let out = p.evalgate(&["check"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("evalsets/en.yaml:") && err.contains("aliases (`*name`)"),
        "{err}"
    );

    let deep = format!(
        "language: en\ncases:\n  - id: deep\n    stratum: routine\n    turns: [{{user: hi}}]\n    expect: {{outcome: resolve}}\n    context: {{deep: {}{}}}\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    p.write("evalsets/en.yaml", &deep);
    let out = p.evalgate(&["check"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("evalsets/en.yaml:7:") && err.contains("deeper than 64 levels"),
        "{err}"
    );
}
