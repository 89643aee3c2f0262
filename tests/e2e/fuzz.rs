//! Mutation fuzzing of the two parsers that read untrusted text: eval-set YAML and the
//! judge's answers. Seeds are real inputs; mutations flip, insert, delete and splice
//! bytes and YAML/JSON syntax. Any panic fails the test. Runs for EVALGATE_FUZZ_SECS
//! seconds per target (2 by default; CI gives it 60), with a fixed seed per run printed
//! so a failure can be replayed with EVALGATE_FUZZ_SEED.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::repo_root;

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ": ",
    "- ",
    "\n",
    "\n  - ",
    "\"",
    "'",
    "\\",
    "&a ",
    "*a",
    "!!str ",
    "? ",
    "|",
    ">",
    "#",
    "\u{0}",
    "\u{202E}",
    "\u{FEFF}",
    "{{ x }}",
    "{% if %}",
    "~",
    "null",
    "true",
    "1e999",
    "-1",
    "\t",
    "---\n",
    "...\n",
    "\"n\": 1",
    "\"passed\": true",
    "\"criteria\": [",
    "\"outcome\": \"resolved\"",
    "```json\n",
    "```",
];

fn budget() -> Duration {
    let secs = std::env::var("EVALGATE_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    Duration::from_secs(secs)
}

fn rng() -> fastrand::Rng {
    let seed = std::env::var("EVALGATE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("fuzz seed {seed} (replay with EVALGATE_FUZZ_SEED={seed})");
    fastrand::Rng::with_seed(seed)
}

fn mutate(rng: &mut fastrand::Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..rng.usize(1..8) {
        let at = if out.is_empty() {
            0
        } else {
            rng.usize(..=out.len())
        };
        match rng.u8(..6) {
            0 if !out.is_empty() => {
                let i = rng.usize(..out.len());
                out[i] ^= 1 << rng.u8(..8);
            }
            1 => {
                let t = TOKENS[rng.usize(..TOKENS.len())].as_bytes();
                out.splice(at..at, t.iter().copied());
            }
            2 if !out.is_empty() => {
                let end = (at + rng.usize(..64)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 if !out.is_empty() => {
                let from = rng.usize(..out.len());
                let end = (from + rng.usize(..256)).min(out.len());
                let chunk: Vec<u8> = out[from..end].to_vec();
                out.splice(at..at, chunk);
            }
            4 => out.insert(at, rng.u8(..)),
            _ => out.truncate(at),
        }
    }
    out
}

fn fuzz(seeds: &[Vec<u8>], mut target: impl FnMut(&[u8])) -> u64 {
    let mut rng = rng();
    let deadline = Instant::now() + budget();
    let mut runs = 0;
    while Instant::now() < deadline {
        let seed = &seeds[rng.usize(..seeds.len())];
        let input = mutate(&mut rng, seed);
        target(&input);
        runs += 1;
    }
    runs
}

#[test]
fn fuzz_evalset_loading() {
    let dir = repo_root().join("evalsets/support");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("shipped eval sets")
        .flatten()
        .map(|e| std::fs::read(e.path()).expect("read"))
        .collect();
    seeds.push(b"language: en\ncases:\n  - id: a\n    stratum: routine\n    turns:\n      - user: hi\n    expect:\n      outcome: resolve\n      regex: [\"a+\"]\n".to_vec());
    let path = Path::new("fuzz.yaml");
    let runs = fuzz(&seeds, |input| {
        if let Ok(text) = std::str::from_utf8(input) {
            let _ = evalgate::evalset::load_file(path, text);
        } else {
            let _ = evalgate::yaml::decode_utf8(path, input);
        }
    });
    eprintln!("eval-set loading: {runs} inputs, no panic");
    assert!(runs > 0);
}

#[test]
fn fuzz_judge_output_parsing() {
    let seeds: Vec<Vec<u8>> = [
        r#"{"criteria":[{"n":1,"passed":true,"reason":"ok"},{"n":2,"passed":false,"reason":"no"}],"outcome":"resolved","unsupported_claims":["x"]}"#,
        "Here you go:\n```json\n{\"criteria\":[],\"outcome\":\"refused\",\"unsupported_claims\":[]}\n```",
        "{\"criteria\": [{\"n\": 2, \"passed\": true}], \"outcome\": \"deflected\"}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let criteria = vec!["first".to_string(), "second".to_string()];
    let runs = fuzz(&seeds, |input| {
        let text = String::from_utf8_lossy(input);
        if let Ok(parsed) = evalgate::judge::parse::parse(&text, &criteria) {
            // Whatever parses has exactly one verdict per criterion.
            assert_eq!(parsed.criteria.len(), criteria.len(), "{text}");
        }
    });
    eprintln!("judge parsing: {runs} inputs, no panic");
    assert!(runs > 0);
}
