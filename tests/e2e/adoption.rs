//! Adopting evalgate in a team's own repository: `evalgate init --ci github|gitlab`, the
//! composite action (action.yml) and the container image (Dockerfile). CI systems and Docker
//! are not available here, so the files they read are checked for the properties that
//! matter: what triggers a run, which baseline it is judged against, what it may write,
//! where the report goes and how the check fails.

use serde_json::Value;

use crate::{TempProject, assert_exit, repo_root, stderr, stdout};

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

/// Every `run:` script of a job's steps, joined.
fn scripts(job: &Value) -> String {
    job["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn step<'a>(job: &'a Value, name_contains: &str) -> &'a Value {
    job["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| {
            s["name"]
                .as_str()
                .is_some_and(|n| n.contains(name_contains))
        })
        .unwrap_or_else(|| panic!("no step named like {name_contains:?}"))
}

#[test]
fn init_ci_github_writes_a_project_and_a_workflow_that_judges_against_the_base_branch() {
    let p = TempProject::new();
    let out = p.evalgate(&["init", "--ci", "github", "bot"]);
    assert_exit(&out, 0);
    let root = p.dir.join("bot");
    assert!(root.join("evalgate.yaml").exists(), "the scaffold too");
    assert!(stdout(&out).contains("EDIT"), "{}", stdout(&out));
    let w = yaml(&read(&root.join(".github/workflows/evalgate.yml")));

    // Triggers: every file that changes what is measured or the bar it is measured by.
    let paths = strings(&w["on"]["pull_request"]["paths"]);
    for expected in [
        "prompts/**",
        "evalsets/**",
        "gates/**",
        "evalgate.yaml",
        "kb/**",
        "reports/baseline/**",
        ".github/workflows/evalgate.yml",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} in {paths:?}"
        );
    }
    assert!(w["on"]["workflow_dispatch"].is_object());

    // Least privilege: read at the top, comment rights only on the job that comments.
    assert_eq!(w["permissions"], serde_json::json!({"contents": "read"}));
    let eval = &w["jobs"]["eval"];
    assert_eq!(eval["permissions"]["pull-requests"], "write");
    assert_eq!(eval["permissions"]["contents"], "read");
    assert!(
        w["concurrency"]["group"]
            .as_str()
            .unwrap()
            .contains("github.event.pull_request.number")
    );
    assert_eq!(w["concurrency"]["cancel-in-progress"], true);

    // The baseline comes from the base branch, not from the pull request.
    let base = step(eval, "baseline");
    let script = base["run"].as_str().unwrap();
    assert!(script.contains("git archive \"origin/$BASE_REF\" reports/baseline"));
    assert!(script.contains("--baseline=$base/reports/baseline"));
    assert_eq!(base["env"]["BASE_REF"], "${{ github.base_ref }}");
    let run = step(eval, "Run, diff and gate");
    assert!(run["uses"].as_str().unwrap().starts_with("OWNER/evalgate@"));
    let args = run["with"]["args"].as_str().unwrap();
    assert!(args.starts_with("run --out reports/pr") && args.contains("EVALGATE_BASELINE"));
    assert_eq!(run["continue-on-error"], true);

    // One sticky comment, through gh api only.
    let all = scripts(eval);
    assert!(all.contains("<!-- evalgate-report -->"));
    assert!(all.contains("gh api --method PATCH") && all.contains("gh api --method POST"));
    for s in eval["steps"].as_array().unwrap() {
        if let Some(uses) = s["uses"].as_str() {
            assert!(
                uses.starts_with("actions/") || uses.starts_with("OWNER/evalgate@"),
                "only GitHub's own actions and evalgate: {uses}"
            );
        }
    }

    // The reports are kept, and the check fails last, with evalgate's exit code.
    let upload = step(eval, "Keep the reports");
    assert!(
        upload["uses"]
            .as_str()
            .unwrap()
            .starts_with("actions/upload-artifact@")
    );
    let kept = upload["with"]["path"].as_str().unwrap();
    for file in [
        "report.html",
        "report.md",
        "junit.xml",
        "summary.json",
        "prompt.txt",
    ] {
        assert!(kept.contains(&format!("reports/pr/{file}")), "{file}");
    }
    let steps = eval["steps"].as_array().unwrap();
    let last = steps.last().unwrap();
    assert_eq!(last["if"], "always()");
    assert_eq!(
        last["env"]["CODE"],
        "${{ steps.evalgate.outputs.exit-code }}"
    );
    assert!(last["run"].as_str().unwrap().starts_with("exit \"${CODE"));

    // Accepting a new baseline is a deliberate, manual act that ends in a pull request.
    let accept = &w["jobs"]["accept-baseline"];
    assert_eq!(accept["if"], "github.event_name == 'workflow_dispatch'");
    assert_eq!(eval["if"], "github.event_name == 'pull_request'");
    let all = scripts(accept);
    assert!(all.contains("evalgate baseline accept reports/candidate"));
    assert!(all.contains("git add reports/baseline") && all.contains("gh pr create"));
}

#[test]
fn init_ci_gitlab_writes_rules_changes_a_note_and_artifacts() {
    let p = TempProject::new();
    let out = p.evalgate(&["init", "--ci", "gitlab", "bot"]);
    assert_exit(&out, 0);
    let w = yaml(&read(&p.dir.join("bot/.gitlab-ci.yml")));
    let job = &w["evalgate"];
    let rule = &job["rules"][0];
    assert_eq!(rule["if"], "$CI_PIPELINE_SOURCE == \"merge_request_event\"");
    let changes = strings(&rule["changes"]);
    for expected in [
        "prompts/**/*",
        "evalsets/**/*",
        "gates/**/*",
        "evalgate.yaml",
        "kb/**/*",
        "reports/baseline/**/*",
        ".gitlab-ci.yml",
    ] {
        assert!(changes.iter().any(|c| c == expected), "{expected}");
    }
    let script = strings(&job["script"]).join("\n");
    assert!(script.contains("git fetch --no-tags origin \"$CI_MERGE_REQUEST_TARGET_BRANCH_NAME\""));
    assert!(script.contains("git archive FETCH_HEAD reports/baseline"));
    assert!(script.contains("<!-- evalgate-report -->"));
    assert!(script.contains("PRIVATE-TOKEN: $GITLAB_TOKEN"));
    assert!(script.trim_end().ends_with("exit \"$code\""));
    assert_eq!(job["artifacts"]["when"], "always");
    let kept = strings(&job["artifacts"]["paths"]);
    for file in [
        "report.html",
        "report.md",
        "junit.xml",
        "summary.json",
        "prompt.txt",
    ] {
        assert!(kept.contains(&format!("reports/mr/{file}")), "{file}");
    }
    assert_eq!(job["artifacts"]["reports"]["junit"], "reports/mr/junit.xml");
    let accept = strings(&w["evalgate-accept-baseline"]["script"]).join("\n");
    assert!(accept.contains("evalgate baseline accept reports/candidate"));
    assert!(accept.contains("merge_request.create"));
}

#[test]
fn init_ci_in_an_existing_project_adds_only_the_workflow_and_never_overwrites_it() {
    let p = TempProject::new();
    assert_exit(&p.evalgate(&["init", "bot"]), 0);
    let root = p.dir.join("bot");
    std::fs::write(root.join("prompts/support.md.j2"), "edited").unwrap();

    let out = p.evalgate(&["init", "--ci", "github", "bot"]);
    assert_exit(&out, 0);
    assert!(root.join(".github/workflows/evalgate.yml").exists());
    assert_eq!(
        read(&root.join("prompts/support.md.j2")),
        "edited",
        "the project is left alone"
    );
    assert!(!stdout(&out).contains("wrote bot/evalgate.yaml"));

    std::fs::write(root.join(".github/workflows/evalgate.yml"), "mine").unwrap();
    let out = p.evalgate(&["init", "--ci", "github", "bot"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(".github/workflows/evalgate.yml already exists"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&root.join(".github/workflows/evalgate.yml")), "mine");

    // A new folder with a workflow already in it: nothing at all is written.
    p.write("fresh/.gitlab-ci.yml", "mine");
    let out = p.evalgate(&["init", "--ci", "gitlab", "fresh"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains(".gitlab-ci.yml already exists"));
    assert!(!p.dir.join("fresh/evalgate.yaml").exists());
}

#[test]
fn the_composite_action_builds_from_its_own_checkout_caches_and_passes_the_exit_code() {
    let a = yaml(&read(&repo_root().join("action.yml")));
    assert_eq!(a["runs"]["using"], "composite");
    assert_eq!(a["inputs"]["args"]["default"], "run");
    assert_eq!(a["inputs"]["working-directory"]["default"], ".");
    assert_eq!(
        a["outputs"]["exit-code"]["value"],
        "${{ steps.run.outputs.exit-code }}"
    );
    let steps = a["runs"]["steps"].as_array().unwrap();
    let cache = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/cache@"))
        })
        .expect("actions/cache");
    let key_script = steps[0]["run"].as_str().unwrap();
    assert!(key_script.contains("github.action_ref") && key_script.contains("runner.os"));
    assert_eq!(cache["with"]["key"], "${{ steps.key.outputs.key }}");
    let build = steps
        .iter()
        .find(|s| s["name"] == "Build evalgate")
        .expect("build step");
    assert_eq!(build["if"], "steps.cache.outputs.cache-hit != 'true'");
    assert_eq!(build["env"]["ACTION_PATH"], "${{ github.action_path }}");
    assert!(
        build["run"]
            .as_str()
            .unwrap()
            .starts_with("cargo install --locked --path \"$ACTION_PATH\" --root")
    );
    let run = steps.iter().find(|s| s["id"] == "run").expect("run step");
    assert_eq!(run["working-directory"], "${{ inputs.working-directory }}");
    assert_eq!(run["env"]["EVALGATE_ARGS"], "${{ inputs.args }}");
    let script = run["run"].as_str().unwrap();
    assert!(script.contains("exit-code=$code") && script.contains("exit \"$code\""));
    for s in steps {
        if let Some(r) = s["run"].as_str() {
            assert!(
                !r.contains("inputs."),
                "inputs reach scripts only through env: {r}"
            );
        }
    }
}

#[test]
fn this_repository_runs_the_same_workflow_with_its_own_action() {
    let template = read(&repo_root().join("templates/github-workflow.yml"));
    let ours = read(&repo_root().join(".github/workflows/evalgate.yml"));
    let expected = template.replace(
        "OWNER/evalgate@REF # EDIT: the evalgate repository and a release tag or commit SHA you trust",
        "./ # this repository's own action.yml",
    );
    let expected = expected.replace("OWNER/evalgate@REF # EDIT: the same as above", "./");
    let ours_steps = yaml(&ours);
    assert_eq!(
        ours_steps["jobs"]["eval"]["steps"][2]["uses"], "./",
        "the composite action from this repository"
    );
    // Past its header, the file is the template users get, with `uses: ./`.
    let body = |t: &str| t[t.find("\nname: evalgate").expect("name")..].to_string();
    assert_eq!(body(&ours), body(&expected));
}

#[test]
fn the_dockerfile_builds_locked_in_two_stages_and_runs_as_a_user() {
    let text = read(&repo_root().join("Dockerfile"));
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let froms: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "{froms:?}");
    assert!(froms[0].starts_with("FROM rust:1-slim AS "));
    assert_eq!(*froms[1], "FROM debian:stable-slim");
    assert!(lines.contains(&"RUN cargo build --release --locked -p evalgate"));
    assert!(lines.iter().any(|l| l.starts_with("COPY --from=")));
    let user = lines
        .iter()
        .rfind(|l| l.starts_with("USER "))
        .expect("a USER");
    assert!(
        !matches!(*user, "USER root" | "USER 0" | "USER 0:0"),
        "{user}"
    );
    assert!(lines.contains(&"WORKDIR /project"));
    assert_eq!(
        lines.iter().rfind(|l| l.starts_with("ENTRYPOINT")),
        Some(&"ENTRYPOINT [\"evalgate\"]")
    );
    let ignore = read(&repo_root().join(".dockerignore"));
    for dir in ["target/", "reports/", ".git/"] {
        assert!(ignore.lines().any(|l| l == dir), "{dir} in .dockerignore");
    }
}

/// Runs `script` with bash in `dir` (errexit and pipefail on, as GitHub runs `run:` steps).
fn bash(dir: &std::path::Path, script: &str, env: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .expect("bash")
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A new project in `repo` with `init --ci github`, and the script of its eval job's step
/// named `name`, to run as the runner would.
fn eval_step_script(p: &TempProject, name: &str) -> (std::path::PathBuf, String) {
    assert_exit(&p.evalgate(&["init", "--ci", "github", "repo"]), 0);
    let repo = p.dir.join("repo");
    let w = yaml(&read(&repo.join(".github/workflows/evalgate.yml")));
    let script = step(&w["jobs"]["eval"], name)["run"]
        .as_str()
        .unwrap()
        .to_string();
    (repo, script)
}

#[test]
fn a_pull_request_is_judged_against_the_base_branchs_baseline_not_its_own() {
    let p = TempProject::new();
    let (repo, step_script) = eval_step_script(&p, "baseline");

    git(&repo, &["init", "-q"]);
    git(&repo, &["config", "user.email", "ci@example.invalid"]);
    git(&repo, &["config", "user.name", "ci"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "a project without a baseline"]);
    git(&repo, &["update-ref", "refs/remotes/origin/young", "HEAD"]);
    assert_exit(
        &crate::evalgate_in(&repo, &["run", "--quiet", "--out", "reports/first"]),
        0,
    );
    assert_exit(
        &crate::evalgate_in(&repo, &["baseline", "accept", "reports/first"]),
        0,
    );
    git(&repo, &["add", "reports/baseline"]);
    git(&repo, &["commit", "-qm", "the baseline"]);
    git(&repo, &["update-ref", "refs/remotes/origin/main", "HEAD"]);
    let base_summary = read(&repo.join("reports/baseline/summary.json"));

    // The pull request moves the bar it would be judged by.
    git(&repo, &["switch", "-qc", "pr"]);
    std::fs::write(repo.join("reports/baseline/summary.json"), "{}").unwrap();
    git(&repo, &["commit", "-qam", "a lower bar"]);

    let temp = p.dir.join("runner-temp");
    std::fs::create_dir_all(&temp).unwrap();
    let env_file = temp.join("github-env");
    let env = |base: &'static str| {
        [
            ("BASE_REF", base),
            ("RUNNER_TEMP", temp.to_str().unwrap()),
            ("GITHUB_ENV", env_file.to_str().unwrap()),
        ]
    };
    let out = bash(&repo, &step_script, &env("main").map(|(k, v)| (k, v)));
    assert_exit(&out, 0);
    let written = read(&env_file);
    let arg = written
        .trim()
        .strip_prefix("EVALGATE_BASELINE=")
        .unwrap_or_else(|| panic!("{written}"));
    let extracted = temp.join("evalgate-base/reports/baseline");
    assert_eq!(arg, format!("--baseline={}", extracted.display()));
    assert_eq!(read(&extracted.join("summary.json")), base_summary);

    // evalgate takes the argument as the workflow passes it.
    let out = crate::evalgate_in(&repo, &["run", "--quiet", "--out", "reports/pr", arg]);
    assert_exit(&out, 0);

    // A base branch without a baseline yet: the run is not diffed (and says so).
    std::fs::remove_file(&env_file).unwrap();
    let out = bash(&repo, &step_script, &env("young").map(|(k, v)| (k, v)));
    assert_exit(&out, 0);
    assert_eq!(read(&env_file).trim(), "EVALGATE_BASELINE=--no-baseline");
    assert!(stdout(&out).contains("has no reports/baseline/ yet"));
}

#[test]
fn the_sticky_comment_is_updated_when_it_exists_and_posted_once_otherwise() {
    let p = TempProject::new();
    let (repo, script) = eval_step_script(&p, "sticky comment");
    // A stand-in for `gh`: lists the comment ids in $FAKE_IDS, logs every other call.
    p.write(
        "bin/gh",
        "#!/usr/bin/env bash\nif [ \"$2\" = --paginate ]; then printf '%s' \"$FAKE_IDS\"; exit 0; fi\necho \"$*\" >> \"$FAKE_LOG\"\nfor a in \"$@\"; do case \"$a\" in body=@*) cp \"${a#body=@}\" \"$FAKE_LOG.body\";; esac; done\n",
    );
    let gh = p.dir.join("bin/gh");
    let made = std::process::Command::new("chmod")
        .args(["+x", gh.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(made.success());
    p.write("repo/reports/pr/report.md", "# evalgate: PASS\n");
    let path = format!(
        "{}:{}",
        p.dir.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let temp = p.dir.join("runner-temp");
    std::fs::create_dir_all(&temp).unwrap();
    let log = p.dir.join("gh.log");
    let call = |ids: &str| {
        let _ = std::fs::remove_file(&log);
        let out = bash(
            &repo,
            &script,
            &[
                ("PATH", path.as_str()),
                ("RUNNER_TEMP", temp.to_str().unwrap()),
                ("REPO", "acme/support-bot"),
                ("PR", "7"),
                ("CODE", "0"),
                ("FAKE_IDS", ids),
                ("FAKE_LOG", log.to_str().unwrap()),
            ],
        );
        assert_exit(&out, 0);
        read(&log)
    };
    let posted = call("");
    assert!(
        posted.starts_with("api --method POST repos/acme/support-bot/issues/7/comments"),
        "{posted}"
    );
    assert_eq!(posted.lines().count(), 1);
    assert_eq!(
        read(&p.dir.join("gh.log.body")),
        "<!-- evalgate-report -->\n# evalgate: PASS\n"
    );
    let patched = call("4242\n4343\n");
    assert!(
        patched.starts_with("api --method PATCH repos/acme/support-bot/issues/comments/4242"),
        "{patched}"
    );
    assert_eq!(patched.lines().count(), 1);
}

#[test]
fn the_ci_scripts_pass_shellcheck_when_it_is_installed() {
    if !crate::has_shellcheck() {
        eprintln!("shellcheck is not installed: skipped");
        return;
    }
    let mut scripts: Vec<(String, String)> = Vec::new();
    let github = yaml(&read(&repo_root().join("templates/github-workflow.yml")));
    for (name, job) in github["jobs"].as_object().unwrap() {
        for (i, s) in job["steps"].as_array().unwrap().iter().enumerate() {
            if let Some(r) = s["run"].as_str() {
                scripts.push((format!("github {name} step {i}"), r.to_string()));
            }
        }
    }
    let action = yaml(&read(&repo_root().join("action.yml")));
    for (i, s) in action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        if let Some(r) = s["run"].as_str() {
            scripts.push((format!("action.yml step {i}"), r.to_string()));
        }
    }
    let gitlab = yaml(&read(&repo_root().join("templates/gitlab-ci.yml")));
    for job in [".evalgate", "evalgate", "evalgate-accept-baseline"] {
        for part in ["before_script", "script"] {
            if gitlab[job][part].is_array() {
                let s = strings(&gitlab[job][part]).join("\n");
                scripts.push((format!("gitlab {job} {part}"), s));
            }
        }
    }
    for (name, script) in scripts {
        crate::shellcheck("bash", &name, &script);
    }
}

#[test]
fn the_action_passes_the_arguments_as_words_and_the_exit_code_through() {
    let p = TempProject::new();
    let action = yaml(&read(&repo_root().join("action.yml")));
    let steps = action["runs"]["steps"].as_array().unwrap();
    let run = steps.iter().find(|s| s["id"] == "run").expect("run step");
    let script = run["run"].as_str().unwrap();
    // A stand-in for evalgate: prints one argument a line and exits 3 (run incomplete).
    p.write(
        "bin/evalgate",
        "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\"\nexit 3\n",
    );
    let made = std::process::Command::new("chmod")
        .args(["+x", p.dir.join("bin/evalgate").to_str().unwrap()])
        .status()
        .unwrap();
    assert!(made.success());
    p.write("a-file-a-glob-would-match", "");
    let output = p.dir.join("github-output");
    let out = bash(
        &p.dir,
        script,
        &[
            ("EVALGATE_BIN", p.dir.join("bin/evalgate").to_str().unwrap()),
            (
                "EVALGATE_ARGS",
                "run --filter 'en/*' --out reports/pr * $(touch pwned)",
            ),
            ("GITHUB_OUTPUT", output.to_str().unwrap()),
        ],
    );
    assert_exit(&out, 3);
    assert_eq!(read(&output), "exit-code=3\n");
    assert_eq!(
        stdout(&out),
        "run\n--filter\n'en/*'\n--out\nreports/pr\n*\n$(touch\npwned)\n",
        "split on whitespace, never globbed or evaluated"
    );
    assert!(!p.dir.join("pwned").exists());
}

/// The platform's own actions are the only third-party ones, each pinned by commit SHA.
#[test]
fn actions_are_pinned_by_commit_sha() {
    let pinned =
        regex::Regex::new(r"^actions/(checkout|cache|upload-artifact)@[0-9a-f]{40} # v\d").unwrap();
    for file in [
        "templates/github-workflow.yml",
        ".github/workflows/evalgate.yml",
        "action.yml",
    ] {
        let text = read(&repo_root().join(file));
        for line in text.lines() {
            let Some((_, used)) = line.split_once("uses: ") else {
                continue;
            };
            if used.starts_with("OWNER/evalgate@") || used.starts_with("./") {
                continue;
            }
            assert!(pinned.is_match(used), "{file}: {line}");
        }
    }
}

/// A project in a folder of a larger repository: the workflow goes to the repository's
/// root and names the folder in its path filters, working directory and artifact paths;
/// its baseline step, run where the workflow runs it, finds the folder's baseline.
#[test]
fn init_ci_in_a_subfolder_of_a_repository_writes_the_workflow_at_the_root() {
    let p = TempProject::new();
    let repo = p.dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["config", "user.email", "ci@example.invalid"]);
    git(&repo, &["config", "user.name", "ci"]);
    let folder = "bots/support";
    let project = repo.join(folder);
    std::fs::create_dir_all(&project).unwrap();
    for ci in ["github", "gitlab"] {
        let out = crate::evalgate_in(&project, &["init", "--ci", ci, "."]);
        assert_exit(&out, 0);
    }
    assert!(project.join("evalgate.yaml").exists());
    assert!(!project.join(".github").exists() && !project.join(".gitlab-ci.yml").exists());

    let w = yaml(&read(&repo.join(".github/workflows/evalgate.yml")));
    let paths = strings(&w["on"]["pull_request"]["paths"]);
    assert!(paths.contains(&format!("{folder}/prompts/**")), "{paths:?}");
    assert!(
        paths.contains(&format!("{folder}/reports/baseline/**")),
        "{paths:?}"
    );
    assert!(
        paths.contains(&".github/workflows/evalgate.yml".to_string()),
        "{paths:?}"
    );
    assert_eq!(w["defaults"]["run"]["working-directory"], folder);
    assert_eq!(
        step(&w["jobs"]["eval"], "Run, diff and gate")["with"]["working-directory"],
        folder
    );
    let kept = step(&w["jobs"]["eval"], "Keep the reports")["with"]["path"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        kept.lines()
            .all(|l| l.starts_with(&format!("{folder}/reports/pr/"))),
        "{kept}"
    );

    let g = yaml(&read(&repo.join(".gitlab-ci.yml")));
    assert_eq!(g["variables"]["EVALGATE_PROJECT"], folder);
    let changes = strings(&g["evalgate"]["rules"][0]["changes"]);
    assert!(
        changes.contains(&format!("{folder}/evalsets/**/*")),
        "{changes:?}"
    );
    assert!(
        changes.contains(&".gitlab-ci.yml".to_string()),
        "{changes:?}"
    );
    let artifacts = strings(&g["evalgate"]["artifacts"]["paths"]);
    assert!(
        artifacts
            .iter()
            .all(|a| a.starts_with(&format!("{folder}/reports/mr/"))),
        "{artifacts:?}"
    );
    assert_eq!(
        g["evalgate"]["artifacts"]["reports"]["junit"],
        format!("{folder}/reports/mr/junit.xml")
    );

    // The base branch's baseline, found from the folder the job runs in.
    assert_exit(
        &crate::evalgate_in(&project, &["run", "--quiet", "--out", "reports/first"]),
        0,
    );
    assert_exit(
        &crate::evalgate_in(&project, &["baseline", "accept", "reports/first"]),
        0,
    );
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "a project and its baseline"]);
    git(&repo, &["update-ref", "refs/remotes/origin/main", "HEAD"]);
    let temp = p.dir.join("runner-temp");
    std::fs::create_dir_all(&temp).unwrap();
    let env_file = temp.join("github-env");
    let script = step(&w["jobs"]["eval"], "baseline")["run"]
        .as_str()
        .unwrap()
        .to_string();
    let out = bash(
        &project,
        &script,
        &[
            ("BASE_REF", "main"),
            ("RUNNER_TEMP", temp.to_str().unwrap()),
            ("GITHUB_ENV", env_file.to_str().unwrap()),
        ],
    );
    assert_exit(&out, 0);
    let extracted = temp.join("evalgate-base/reports/baseline");
    assert_eq!(
        read(&env_file).trim(),
        format!("EVALGATE_BASELINE=--baseline={}", extracted.display())
    );
    assert_eq!(
        read(&extracted.join("summary.json")),
        read(&project.join("reports/baseline/summary.json"))
    );
}

/// The README's recipes are the tested ones: each recipe file's configuration appears in
/// README.md word for word, so the two cannot drift apart.
#[test]
fn the_readme_carries_every_tested_recipe_word_for_word() {
    let readme = read(&repo_root().join("README.md"));
    let recipes = repo_root().join("docs/recipes");
    let mut seen = 0;
    for entry in std::fs::read_dir(&recipes).unwrap() {
        let path = entry.unwrap().path();
        let text = read(&path);
        let start = text.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
        let end = start + text[start..].find("```").expect("closed");
        assert!(
            readme.contains(&text[start..end]),
            "README.md lacks the configuration of {}",
            path.display()
        );
        assert!(
            readme.contains(&format!(
                "(docs/recipes/{})",
                path.file_name().unwrap().to_string_lossy()
            )),
            "README.md does not link {}",
            path.display()
        );
        seen += 1;
    }
    assert_eq!(seen, 4, "anthropic, exec, rasa, session");
}
