//! `evalgate merge OUT SHARD_DIR...`: the shards' run directories made into one run, then
//! reviewed like a run: the config's gate (or `--gate`), the committed baseline (or
//! `--baseline`), every report, the same exit codes.

use std::path::Path;

use crate::cli::MergeArgs;
use crate::exit::{Failure, Outcome};
use crate::gate::Gate;
use crate::merge::MergePlan;
use crate::rundir::RunDir;

pub fn run(config: &Path, args: &MergeArgs) -> Result<Outcome, Failure> {
    // Like `gate` and `report`, merge also works on bare run directories; with a config,
    // its gate, baseline, pricing and error allowance apply as they do to `run`.
    let project = super::review::optional_project(config);
    let gate = match (&project, &args.review.gate) {
        (Some(p), flag) => super::review::gate_for(p, flag.as_deref())?,
        (None, Some(path)) => Some(Gate::load(path)?),
        (None, None) => None,
    };
    let calibration = super::review::calibration_for(project.as_ref())?;
    let baseline = match &project {
        Some(p) => super::review::baseline_for(
            p,
            args.review.baseline.as_deref(),
            args.review.no_baseline,
        )?,
        None => args
            .review
            .baseline
            .as_deref()
            .map(|dir| RunDir::open(dir).map_err(Failure::bad_input))
            .transpose()?,
    };
    let plan = MergePlan::new(&args.shards, &args.out)?;
    let total = plan.result_count();
    if !args.quiet {
        eprintln!(
            "merging {} into {}: {}",
            crate::report::count_of(plan.shard_count(), "shard"),
            args.out.display(),
            crate::report::count_of(total, "result")
        );
    }
    let quiet = args.quiet;
    let progress = |written: usize| {
        if !quiet {
            eprintln!("  {written} of {total} results merged");
        }
    };
    let pricing = project.as_ref().and_then(|p| p.config.pricing.as_ref());
    plan.write(pricing, progress)?;
    let run = RunDir::open(&args.out).map_err(Failure::internal)?;
    super::review::finish_in(
        project.as_ref(),
        &run,
        gate.as_ref(),
        baseline.as_ref(),
        calibration.as_ref(),
    )
}
