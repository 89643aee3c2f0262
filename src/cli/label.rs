//! `evalgate label RUN`: a page where a person labels a sample of the run's results, for
//! `evalgate calibrate`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::cli::LabelArgs;
use crate::evalset::Case;
use crate::exit::{Failure, Outcome};
use crate::label::{render, sample::sample};
use crate::rundir::RunDir;

/// Where the page goes unless `--out` says otherwise: beside the run's results.
pub const LABEL_FILE: &str = "label.html";

pub fn run(config: &Path, args: &LabelArgs) -> Result<Outcome, Failure> {
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
