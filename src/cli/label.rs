//! `evalgate label RUN`: a page where a person labels a sample of the run's results, for
//! `evalgate calibrate`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::cli::LabelArgs;
use crate::evalset::Case;
use crate::exit::{Failure, Outcome};
use crate::label::render;
use crate::label::sample::{labellable_result, sample};
use crate::result::CaseResult;
use crate::rundir::RunDir;

/// Where the page goes unless `--out` says otherwise: beside the run's results.
pub const LABEL_FILE: &str = "label.html";

pub fn run(config: &Path, args: &LabelArgs) -> Result<Outcome, Failure> {
    if args.per_language == 0 {
        return Err(Failure::bad_input("--per-language must be at least 1"));
    }
    let run = RunDir::open(&args.run).map_err(Failure::bad_input)?;
    // The rubric, context and reference live in the eval sets, not in the results.
    let loaded = super::load::load(config)?;
    let cases: HashMap<String, Arc<Case>> = match loaded.suite.all_cases() {
        Ok(cases) => cases.into_iter().map(|c| (c.key.clone(), c)).collect(),
        Err(problems) => return Err(Failure::problems(&problems)),
    };
    let mut results = Vec::new();
    let mut gone = 0u64;
    run.for_each_result(|r| {
        if cases.contains_key(&r.key) {
            results.push(r);
        } else {
            gone += 1;
        }
    })
    .map_err(Failure::bad_input)?;
    if gone > 0 {
        eprintln!(
            "warning: {} name cases that are no longer in the eval sets; they were left out",
            crate::report::count_of(gone, "result")
        );
    }
    if !results.iter().any(labellable_result) {
        return Err(Failure::bad_input(nothing_to_label(&args.run, &results)));
    }
    let sampled = sample(results, args.per_language, args.seed);
    let html = render(&run.summary.meta.run_id, &sampled, &cases)
        .map_err(|e| Failure::internal(e.to_string()))?;
    let out = args.out.clone().unwrap_or_else(|| run.dir.join(LABEL_FILE));
    std::fs::write(&out, html)
        .map_err(|e| Failure::internal(format!("cannot write {}: {e}", out.display())))?;
    println!(
        "wrote {} ({} to label)",
        out.display(),
        crate::report::count_of(sampled.len() as u64, "result")
    );
    Ok(Outcome::Passed)
}

/// Why a run has no result a label could be matched to, and what to do about it: labels
/// are only ever compared with a judge's verdicts.
fn nothing_to_label(run: &Path, results: &[CaseResult]) -> String {
    let run = run.display();
    if results.iter().all(|r| r.judge.is_none()) {
        format!(
            "{run}: no result has a judge's verdict, so labels would have nothing to be \
             compared with; add a `judge:` to the config and run again, or \
             `evalgate rescore {run}` with one"
        )
    } else {
        format!(
            "{run}: no result can be labelled: every judged result ended in an error or its \
             judge failed, so labels would have nothing to be compared with"
        )
    }
}
