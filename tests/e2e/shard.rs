//! Beyond one machine: `run --shard I/N` partitions a suite, `merge` makes the shards one
//! run equal to an unsharded run's, and refuses shards that are not parts of one run.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    TempProject, assert_exit, repo_root, results, shipped_demo_project, stderr, stdout, summary,
};

/// The documented partition, computed here apart from evalgate: the first 8 bytes of the
/// key's SHA-256 as a big-endian u64, mod N, plus 1.
fn shard_of(key: &str, count: u64) -> u64 {
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % count + 1
}

fn ids(run: &Path) -> Vec<(String, u64)> {
    results(run)
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                r["repeat"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A result without what depends on the clock: latencies (the run's and each turn's) and
/// the transcript hash that covers them.
fn timeless(mut r: Value) -> Value {
    let o = r.as_object_mut().unwrap();
    o.remove("latency_ms");
    o.remove("transcript_sha256");
    for turn in o["turns"].as_array_mut().unwrap() {
        turn.as_object_mut().unwrap().remove("latency_ms");
    }
    r
}

/// Every metric of a summary slice map, without latency percentiles.
fn timeless_metrics(s: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for part in [
        "overall",
        "by_language",
        "by_stratum",
        "by_language_stratum",
        "by_intent",
        "repeat_stats",
    ] {
        let mut v = s[part].clone();
        strip_latency(&mut v);
        out.insert(part.to_string(), v);
    }
    Value::Object(out)
}

fn strip_latency(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.remove("latency_ms");
            o.values_mut().for_each(strip_latency);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_latency),
        _ => {}
    }
}

fn run_shards(p: &TempProject, count: u32, extra: &[&str]) -> Vec<String> {
    (1..=count)
        .map(|i| {
            let dir = format!("shards/{i}");
            let shard = format!("{i}/{count}");
            let mut args = vec!["run", "--shard", &shard, "--out", &dir, "--quiet"];
            args.extend_from_slice(extra);
            let out = p.evalgate(&args);
            assert_exit(&out, 0);
            dir
        })
        .collect()
}

#[test]
fn shards_partition_the_suite_and_merge_into_the_unsharded_run() {
    let p = shipped_demo_project("support.md.j2", true);
    let whole = p.evalgate(&["run", "--out", "whole", "--quiet", "--repeats", "2"]);
    let shards = run_shards(&p, 3, &["--repeats", "2"]);

    // The shards partition the suite, each by the written-down hash of the key.
    let mut seen = BTreeSet::new();
    for (i, dir) in shards.iter().enumerate() {
        let s = summary(&p.dir.join(dir));
        assert_eq!(s["shard"], serde_json::json!({"index": i + 1, "count": 3}));
        assert_eq!(s["complete"], true);
        assert!(s["gate"].is_null(), "a shard is not gated");
        assert!(
            !p.dir.join(dir).join("report.md").exists(),
            "a shard renders no verdict"
        );
        for (key, repeat) in ids(&p.dir.join(dir)) {
            assert_eq!(
                shard_of(&key, 3),
                i as u64 + 1,
                "{key} is in shard {}",
                i + 1
            );
            assert!(seen.insert((key, repeat)), "in two shards");
        }
    }
    let all: BTreeSet<(String, u64)> = ids(&p.dir.join("whole")).into_iter().collect();
    assert_eq!(seen, all, "the shards together are the whole suite");

    let mut args = vec!["merge", "merged"];
    args.extend(shards.iter().map(String::as_str));
    let merged = p.evalgate(&args);
    assert_eq!(
        merged.status.code(),
        whole.status.code(),
        "the same verdict\n{}\n{}",
        stdout(&merged),
        stderr(&merged)
    );
    let m = p.dir.join("merged");

    // Every result once, in key and repeat order, equal to the unsharded run's.
    let merged_ids = ids(&m);
    let mut sorted = merged_ids.clone();
    sorted.sort();
    assert_eq!(merged_ids, sorted, "ordered by key and repeat");
    let mut expected: Vec<Value> = results(&p.dir.join("whole"));
    expected.sort_by_key(|r| (r["key"].as_str().unwrap().to_string(), r["repeat"].as_u64()));
    let expected: Vec<Value> = expected.into_iter().map(timeless).collect();
    let got: Vec<Value> = results(&m).into_iter().map(timeless).collect();
    assert_eq!(got.len(), expected.len());
    assert!(
        got == expected,
        "merged results differ from the unsharded run's"
    );

    // The same metrics, the same gate, and a whole run.
    let (ws, ms) = (summary(&p.dir.join("whole")), summary(&m));
    assert_eq!(timeless_metrics(&ms), timeless_metrics(&ws));
    for field in [
        "planned",
        "written",
        "complete",
        "evalset_hash",
        "prompt",
        "repeats",
        "selection",
        "cost",
    ] {
        assert_eq!(ms[field], ws[field], "{field}");
    }
    assert!(ms["shard"].is_null());
    assert_eq!(ms["gate"]["passed"], ws["gate"]["passed"]);
    assert_eq!(ms["gate"]["failed"], ws["gate"]["failed"]);
    let longest = shards
        .iter()
        .map(|d| summary(&p.dir.join(d))["run_seconds"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert_eq!(ms["run_seconds"].as_f64(), Some(longest));
    for report in [
        "report.md",
        "report.html",
        "junit.xml",
        "report.json",
        "prompt.txt",
    ] {
        assert!(m.join(report).is_file(), "{report} written");
    }
    let md = std::fs::read_to_string(m.join("report.md")).unwrap();
    let whole_md = std::fs::read_to_string(p.dir.join("whole/report.md")).unwrap();
    assert_eq!(
        md.lines().next(),
        whole_md.lines().next(),
        "the same headline"
    );
}

#[test]
fn a_shard_leaves_its_verdict_to_the_merged_run() {
    // The config names a gate, and the demo bot passes it: a shard still says no PASS.
    let p = shipped_demo_project("support.md.j2", true);
    let out = p.evalgate(&["run", "--shard", "2/4", "--out", "s2", "--lang", "en"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("shard 2/4:"), "{text}");
    assert!(text.contains("evalgate merge"), "{text}");
    assert!(!text.contains("PASS"), "{text}");
    assert!(summary(&p.dir.join("s2"))["gate"].is_null());

    for (flag, value) in [
        ("--gate", repo_root().join("gates/launch.yaml")),
        ("--baseline", p.dir.join("s2")),
        ("--baseline-prompt-rev", "HEAD".into()),
    ] {
        let out = p.evalgate(&[
            "run",
            "--shard",
            "1/4",
            "--out",
            "refused",
            flag,
            value.to_str().unwrap(),
        ]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains(&format!("{flag} with --shard 1/4")), "{err}");
        assert!(err.contains("evalgate merge"), "{err}");
        assert!(!p.dir.join("refused").exists(), "nothing written");
    }
    // A shard the selection leaves empty is refused, naming it, rather than passing empty.
    let other = (1..=4)
        .find(|i| shard_of("en/refund-eta-01", 4) != *i)
        .unwrap();
    let shard = format!("{other}/4");
    let out = p.evalgate(&[
        "run",
        "--shard",
        &shard,
        "--out",
        "refused",
        "--filter",
        "en/refund-eta-01",
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(&format!(
            "no case of the selection (1 case) falls in shard {shard}; run fewer shards"
        )),
        "{}",
        stderr(&out)
    );
    for bad in ["0/4", "5/4", "2", "x/4", "1/0"] {
        let out = p.evalgate(&["run", "--shard", bad, "--out", "refused"]);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains("--shard"), "{}", stderr(&out));
    }
    assert!(!p.dir.join("refused").exists());
}

/// Copies a run directory's files to `to`, changing its summary with `change`.
fn copy_run(from: &Path, to: &Path, change: impl FnOnce(&mut Value)) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
    let mut s = summary(to);
    change(&mut s);
    std::fs::write(
        to.join("summary.json"),
        serde_json::to_string_pretty(&s).unwrap(),
    )
    .unwrap();
}

#[test]
fn merge_refuses_shards_that_are_not_parts_of_one_run() {
    let p = shipped_demo_project("support.md.j2", false);
    let shards = run_shards(&p, 2, &["--lang", "en"]);
    let (one, two) = (p.dir.join(&shards[0]), p.dir.join(&shards[1]));
    let merge = |dirs: &[&str]| {
        let mut args = vec!["merge", "out"];
        args.extend_from_slice(dirs);
        let out = p.evalgate(&args);
        assert_exit(&out, 2);
        assert!(!p.dir.join("out").exists(), "nothing written");
        stderr(&out)
    };

    // Each field the shards must agree on, changed in a copy of shard 2.
    type Change = Box<dyn Fn(&mut Value)>;
    let changes: Vec<(&str, Change)> = vec![
        (
            "eval-set hash",
            Box::new(|s| s["evalset_hash"] = "sha256:another".into()),
        ),
        (
            "prompt hash",
            Box::new(|s| s["prompt"]["hash"] = "sha256:another".into()),
        ),
        ("bot", Box::new(|s| s["bot"]["model"] = "another".into())),
        (
            "judge",
            Box::new(|s| s["judge"] = "judge-model (prompt sha256:0)".into()),
        ),
        ("simulator", Box::new(|s| s["simulator"] = Value::Null)),
        (
            "scoring version",
            Box::new(|s| s["scoring_version"] = 1.into()),
        ),
    ];
    for (field, change) in changes {
        let dir = format!("changed-{}", field.replace(' ', "-"));
        copy_run(&two, &p.dir.join(&dir), change);
        let err = merge(&[&shards[0], &dir]);
        assert!(
            err.contains(&format!("shard 2/2 ({dir}): the {field} differs")),
            "{field}: {err}"
        );
    }

    // Repeats, selection and shard count, from real runs.
    let out = p.evalgate(&[
        "run",
        "--shard",
        "2/2",
        "--out",
        "rep",
        "--quiet",
        "--lang",
        "en",
        "--repeats",
        "2",
    ]);
    assert_exit(&out, 0);
    let err = merge(&[&shards[0], "rep"]);
    assert!(
        err.contains(
            "shard 2/2 (rep): the repeats differs from shard 1/2 (shards/1)'s: 2 here, 1 there"
        ),
        "{err}"
    );
    let out = p.evalgate(&[
        "run",
        "--shard",
        "2/2",
        "--out",
        "sel",
        "--quiet",
        "--lang",
        "en",
        "--stratum",
        "edge",
    ]);
    assert_exit(&out, 0);
    let err = merge(&[&shards[0], "sel"]);
    assert!(
        err.contains("shard 2/2 (sel): the selection differs"),
        "{err}"
    );
    assert!(
        err.contains("--lang en --stratum edge here, --lang en there"),
        "{err}"
    );
    let out = p.evalgate(&[
        "run", "--shard", "2/3", "--out", "of3", "--quiet", "--lang", "en",
    ]);
    assert_exit(&out, 0);
    let err = merge(&[&shards[0], &shards[1], "of3"]);
    assert!(
        err.contains("shard 2/3 (of3): the shard count differs: 3 here, 2 in shard 1/2"),
        "{err}"
    );

    // A shard missing, one given twice, an unsharded run.
    let err = merge(&[&shards[1]]);
    assert!(err.contains("shard 1 of 2 is missing (given: 2)"), "{err}");
    copy_run(&two, &p.dir.join("again"), |_| {});
    let err = merge(&[&shards[0], &shards[1], "again"]);
    assert!(
        err.contains("shard 2/2 is given twice: ") && err.contains("again"),
        "{err}"
    );
    let out = p.evalgate(&["run", "--out", "unsharded", "--quiet", "--lang", "en"]);
    assert_exit(&out, 0);
    let err = merge(&[&shards[0], &shards[1], "unsharded"]);
    assert!(
        err.contains("unsharded is not a shard: it was run without --shard"),
        "{err}"
    );

    // An incomplete shard: interrupted, or killed before its summary was final.
    copy_run(&two, &p.dir.join("interrupted"), |s| {
        s["complete"] = false.into();
        s["interrupted"] = true.into();
    });
    let err = merge(&[&shards[0], "interrupted"]);
    assert!(
        err.contains("shard 2/2 (interrupted) is incomplete:")
            && err.contains("`evalgate run --resume interrupted` finishes it"),
        "{err}"
    );
    // Results that are not where they belong: one of shard 1's copied into shard 2.
    copy_run(&two, &p.dir.join("stray"), |s| {
        s["written"] = (s["written"].as_u64().unwrap() + 1).into();
        s["planned"] = s["written"].clone();
    });
    let first_line = std::fs::read_to_string(one.join("results.jsonl"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let stray = p.dir.join("stray/results.jsonl");
    let mut text = std::fs::read_to_string(&stray).unwrap();
    text += &format!("{first_line}\n");
    std::fs::write(&stray, text).unwrap();
    let err = merge(&[&shards[0], "stray"]);
    assert!(
        err.contains("shard 2/2 (stray): 1 result is of other shards, e.g. ")
            && err.contains("(shard 1/2)")
            && err.contains("repeat 0 appears in shard 1/2 (shards/1) and in shard 2/2 (stray)"),
        "{err}"
    );
    // Every problem at once, and an OUT that already holds a run.
    let err = merge(&[&shards[0], "rep", "sel"]);
    assert!(
        err.contains("given twice") && err.contains("repeats differs"),
        "{err}"
    );
    let out = p.evalgate(&["merge", &shards[0], &shards[0], &shards[1]]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("already holds a run"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_interrupted_shard_resumes_as_that_shard_and_then_merges() {
    let p = shipped_demo_project("support.md.j2", false);
    let shards = run_shards(&p, 2, &["--lang", "de"]);
    let fresh = ids(&p.dir.join(&shards[1]));
    // Shard 2 as a kill mid-run leaves it: a few results, the summary written at the start.
    let dir = p.dir.join(&shards[1]);
    let text = std::fs::read_to_string(dir.join("results.jsonl")).unwrap();
    let kept: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join("results.jsonl"), kept).unwrap();
    let mut s = summary(&dir);
    s["complete"] = false.into();
    s["finished_at"] = "".into();
    s["written"] = 0.into();
    std::fs::write(dir.join("summary.json"), s.to_string()).unwrap();

    let out = p.evalgate(&["merge", "merged", &shards[0], &shards[1]]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("shard 2/2 (shards/2) is incomplete"),
        "{}",
        stderr(&out)
    );

    let out = p.evalgate(&["run", "--resume", &shards[1], "--shard", "1/2", "--quiet"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("that run is shard 2/2; resume it with --shard 2/2"),
        "{}",
        stderr(&out)
    );
    let out = p.evalgate(&["run", "--resume", &shards[1], "--quiet"]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("shard 2/2:"), "{}", stdout(&out));
    let s = summary(&dir);
    assert_eq!(s["shard"], serde_json::json!({"index": 2, "count": 2}));
    assert_eq!(s["complete"], true);
    let mut resumed = ids(&dir);
    resumed.sort();
    let mut fresh = fresh;
    fresh.sort();
    assert_eq!(resumed, fresh, "the same shard, each result once");

    let out = p.evalgate(&["merge", "merged", &shards[0], &shards[1]]);
    assert_exit(&out, 0);
    assert_eq!(summary(&p.dir.join("merged"))["complete"], true);
}

/// An OpenAI-compatible bot that answers at once and notes when each request arrived.
fn arrival_recording_bot() -> (
    crate::stub::ServerThread,
    std::sync::Arc<std::sync::Mutex<Vec<std::time::Instant>>>,
) {
    let arrivals = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let noted = std::sync::Arc::clone(&arrivals);
    let server = crate::stub::ServerThread::spawn(move |mut stream| {
        let noted = std::sync::Arc::clone(&noted);
        async move {
            let mut buf = Vec::new();
            while let Some((head, len)) = crate::stub::read_request(&mut stream, &mut buf).await {
                buf.drain(..head + len);
                noted.lock().unwrap().push(std::time::Instant::now());
                let answer = "Your refund is on its way.";
                if !crate::stub::reply_chat(&mut stream, answer, (10, 7)).await {
                    return;
                }
            }
        }
    });
    (server, arrivals)
}

/// Two cases of shard 1 of 8 against a bot limited to 60 requests a minute: the shard
/// keeps to its eighth, one request every 8 s, where the whole limit would allow one a
/// second. Measured between the bot's arrivals, so a slow start of evalgate does not count.
#[test]
fn a_shard_takes_its_share_of_the_rate_limit() {
    let p = TempProject::new();
    let (bot, arrivals) = arrival_recording_bot();
    let mine: Vec<String> = (0..100)
        .map(|i| format!("c{i:04}"))
        .filter(|id| shard_of(&format!("en/{id}"), 8) == 1)
        .take(2)
        .collect();
    let mut cases = String::from("language: en\ncases:\n");
    for id in &mine {
        cases += &format!(
            "  - id: {id}\n    stratum: routine\n    turns:\n      - user: \"Where is my refund?\"\n    expect:\n      outcome: resolve\n      language: any\n"
        );
    }
    p.write("evalsets/en.yaml", &cases);
    p.write(
        "evalgate.yaml",
        &format!(
            "bot:\n  provider: openai\n  base_url: http://{}/v1\n  model: stub\nevalsets: [\"evalsets/*.yaml\"]\nrun:\n  concurrency: 4\n  requests_per_minute: 60\n",
            bot.addr
        ),
    );
    let out = p.evalgate(&[
        "run",
        "--shard",
        "1/8",
        "--out",
        "s1",
        "--quiet",
        "--no-cache",
    ]);
    assert_exit(&out, 0);
    assert_eq!(summary(&p.dir.join("s1"))["written"], 2);
    let arrivals = arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 2);
    let gap = arrivals[1].duration_since(arrivals[0]).as_secs_f64();
    assert!(
        gap >= 7.5,
        "the second request came {gap:.2} s after the first"
    );
}

fn yaml_file(relative: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(relative)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The shipped workflow, run as GitHub would: each matrix entry's `evalgate` arguments in
/// the project, the uploads downloaded where the merge job looks, then the merge's.
#[test]
fn the_sharded_workflow_runs_every_shard_and_merges_them_all() {
    let wf = yaml_file(".github/workflows/evalgate-sharded.yml");
    let shard_job = &wf["jobs"]["shard"];
    let matrix: Vec<u64> = shard_job["strategy"]["matrix"]["shard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let n = matrix.len() as u64;
    assert_eq!(matrix, (1..=n).collect::<Vec<_>>());
    assert_eq!(shard_job["strategy"]["fail-fast"], false);
    let steps = shard_job["steps"].as_array().unwrap();
    let run = steps
        .iter()
        .find(|s| s["uses"] == "./")
        .expect("the shard runs evalgate");
    let run_args = run["with"]["args"].as_str().unwrap();
    assert!(
        run_args.contains(&format!("--shard ${{{{ matrix.shard }}}}/{n} ")),
        "{run_args}"
    );
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
        })
        .expect("the shard uploads its run directory");
    assert_eq!(upload["if"], "always()");
    assert_eq!(upload["with"]["name"], "evalgate-shard-${{ matrix.shard }}");
    assert_eq!(upload["with"]["path"], "shards/${{ matrix.shard }}/");

    let merge_job = &wf["jobs"]["merge"];
    assert_eq!(merge_job["needs"], "shard");
    assert_eq!(merge_job["if"], "always()");
    let steps = merge_job["steps"].as_array().unwrap();
    let download = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/download-artifact@"))
        })
        .expect("the merge downloads the shards");
    assert_eq!(download["with"]["pattern"], "evalgate-shard-*");
    let into = download["with"]["path"].as_str().unwrap();
    let merge = steps
        .iter()
        .find(|s| s["uses"] == "./")
        .expect("the merge runs evalgate");
    let merge_args = merge["with"]["args"].as_str().unwrap();
    let dirs: Vec<String> = (1..=n)
        .map(|i| format!("{into}/evalgate-shard-{i}"))
        .collect();
    assert_eq!(
        merge_args,
        format!("merge reports/merged {} --quiet", dirs.join(" ")),
        "every shard of the matrix, once"
    );
    for job in ["shard", "merge"] {
        for (i, s) in wf["jobs"][job]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            if let Some(script) = s["run"].as_str() {
                crate::shellcheck("bash", &format!("{job} step {i}"), script);
            }
        }
    }

    // As GitHub runs it, on the demo bot.
    let p = shipped_demo_project("support.md.j2", true);
    let words = |args: &str, shard: u64| -> Vec<String> {
        args.replace("${{ matrix.shard }}", &shard.to_string())
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    for shard in 1..=n {
        let args = words(run_args, shard);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_exit(&p.evalgate(&args), 0);
        let uploaded = upload["with"]["path"]
            .as_str()
            .unwrap()
            .replace("${{ matrix.shard }}", &shard.to_string());
        let name = format!("evalgate-shard-{shard}");
        copy_run(&p.dir.join(uploaded), &p.dir.join(into).join(name), |_| {});
    }
    let args = words(merge_args, 0);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = p.evalgate(&args);
    assert_exit(&out, 0);
    let s = summary(&p.dir.join("reports/merged"));
    assert_eq!(s["complete"], true);
    assert_eq!(s["gate"]["passed"], true);
}

/// The shipped Kubernetes manifest, its scripts run as the pods would run them (the
/// shared volume and the image's /project replaced by folders here).
#[test]
fn the_kubernetes_indexed_job_runs_every_shard_and_merges_them_all() {
    let text = std::fs::read_to_string(repo_root().join("deploy/k8s/evalgate-job.yaml")).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let kind = |k: &str, name: &str| {
        docs.iter()
            .find(|d| d["kind"] == k && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {k} {name}"))
            .clone()
    };
    let config = kind("ConfigMap", "evalgate-run");
    let n: u64 = config["data"]["EVALGATE_SHARDS"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let shards = kind("Job", "evalgate-shards");
    assert_eq!(shards["spec"]["completionMode"], "Indexed");
    assert_eq!(shards["spec"]["completions"].as_u64(), Some(n));
    assert_eq!(shards["spec"]["parallelism"].as_u64(), Some(n));
    let merge = kind("Job", "evalgate-merge");
    let claim = kind("PersistentVolumeClaim", "evalgate-runs");
    assert_eq!(claim["spec"]["accessModes"][0], "ReadWriteMany");
    for job in [&shards, &merge] {
        assert_eq!(
            job["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
            "evalgate-runs"
        );
    }
    let script = |job: &Value, part: &str| -> String {
        job["spec"]["template"]["spec"][part][0]["args"][0]
            .as_str()
            .unwrap()
            .to_string()
    };
    let shard_script = script(&shards, "containers");
    let wait_script = script(&merge, "initContainers");
    let merge_script = script(&merge, "containers");
    assert!(shard_script.contains("JOB_COMPLETION_INDEX"));
    let listed: Vec<String> = (1..=n).map(|i| format!("shard-{i}")).collect();
    let words: Vec<&str> = merge_script
        .split_whitespace()
        .filter(|w| *w != "\\")
        .collect();
    let at = words.iter().position(|w| *w == "merge").unwrap();
    assert_eq!(
        words[at + 1..],
        [
            &["merged"],
            &listed.iter().map(String::as_str).collect::<Vec<_>>()[..]
        ]
        .concat(),
        "the merge names every shard once:\n{merge_script}"
    );
    for (name, s) in [
        ("shard", &shard_script),
        ("wait", &wait_script),
        ("merge", &merge_script),
    ] {
        crate::shellcheck("sh", name, s);
    }

    // As the pods run them, on the demo bot; the last shard is killed once and retried.
    let p = shipped_demo_project("support.md.j2", true);
    let volume = p.dir.join("volume");
    let here = |s: &str| {
        s.replace("/runs", volume.to_str().unwrap())
            .replace("/project", p.dir.to_str().unwrap())
    };
    let bin = Path::new(env!("CARGO_BIN_EXE_evalgate")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let sh = |script: &str, index: Option<u64>| {
        let mut cmd = std::process::Command::new("sh");
        cmd.args(["-c", &here(script)])
            .current_dir(&p.dir)
            .env("PATH", &path)
            .env("EVALGATE_RUN", "nightly")
            .env("EVALGATE_SHARDS", n.to_string());
        if let Some(i) = index {
            cmd.env("JOB_COMPLETION_INDEX", i.to_string());
        }
        cmd.output().unwrap()
    };
    for index in 0..n {
        assert_exit(&sh(&shard_script, Some(index)), 0);
    }
    let last = volume.join(format!("nightly/shard-{n}"));
    assert_eq!(
        summary(&last)["shard"],
        serde_json::json!({"index": n, "count": n})
    );
    // The pod of the last shard dies mid-run; its retry continues the same directory.
    let mut s = summary(&last);
    s["complete"] = false.into();
    s["finished_at"] = "".into();
    std::fs::write(last.join("summary.json"), s.to_string()).unwrap();
    std::fs::write(last.join("results.jsonl"), "").unwrap();
    let retried = sh(&shard_script, Some(n - 1));
    assert_exit(&retried, 0);
    assert!(
        stderr(&retried).contains("resuming"),
        "{}",
        stderr(&retried)
    );
    assert_exit(&sh(&wait_script, None), 0);
    let out = sh(&merge_script, None);
    assert_exit(&out, 0);
    let merged = summary(&volume.join("nightly/merged"));
    assert_eq!(merged["complete"], true);
    assert_eq!(merged["gate"]["passed"], true);
}
