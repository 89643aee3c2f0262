//! `evalgate run --shard I/N`: the flag, what it may be combined with, and how a shard's
//! run ends. A shard is a part of a run, so it never gives a verdict: its gate and diff
//! are those of the merged run (`evalgate merge`).

use crate::cli::RunArgs;
use crate::config::Project;
use crate::exit::{Failure, Outcome};
use crate::gate::Gate;
use crate::report::model::ReportModel;
use crate::review::outcome;
use crate::rundir::RunDir;
use crate::shard::Shard;
use crate::summary::RunMeta;

/// clap's parser for `--shard`.
pub fn parse_flag(text: &str) -> Result<Shard, String> {
    Shard::parse(text).map_err(|e| e.to_string())
}

/// The shard this run takes: `--shard`, or for `--resume` the shard the run was started
/// as. Refuses what a shard cannot do: gate or diff (that is the merged run's), or
/// continue a run of another shard.
pub fn for_run(args: &RunArgs, resumed: Option<&RunMeta>) -> Result<Option<Shard>, Failure> {
    let shard = match (args.shard, resumed.map(|m| m.shard)) {
        (Some(asked), Some(Some(was))) if asked != was => {
            return Err(Failure::bad_input(format!(
                "--resume: that run is shard {was}; resume it with --shard {was}, or without --shard"
            )));
        }
        (Some(asked), Some(None)) => {
            return Err(Failure::bad_input(format!(
                "--resume: that run is not a shard; resume it without --shard {asked}"
            )));
        }
        (asked, was) => asked.or(was.flatten()),
    };
    let Some(shard) = shard else {
        return Ok(None);
    };
    let refused = [
        (args.review.gate.is_some(), "--gate"),
        (args.review.baseline.is_some(), "--baseline"),
        (args.baseline_prompt_rev.is_some(), "--baseline-prompt-rev"),
    ];
    if let Some((_, flag)) = refused.iter().find(|(given, _)| *given) {
        return Err(Failure::bad_input(format!(
            "{flag} with --shard {shard}: a shard is one part of a run, so it is neither gated nor diffed; \
pass {flag} to `evalgate merge OUT SHARD_DIR...`, which gates and diffs the merged run"
        )));
    }
    Ok(Some(shard))
}

/// Ends a shard's run: one line on what it wrote and where its verdict comes from, and the
/// exit code of a run without a gate: 0 when it finished, 3 when it is incomplete or above
/// the allowed error rate (the config's gate `max_error_rate`, else `run.max_error_rate`),
/// 130 when interrupted. Never PASS: a part of a suite passes nothing.
pub fn finish(
    project: &Project,
    run: &RunDir,
    shard: Shard,
    gate: Option<&Gate>,
) -> Result<Outcome, Failure> {
    let model = ReportModel {
        summary: run.summary.clone(),
        gate: None,
        diff: None,
        missed_escalations: Vec::new(),
        unauthorised_actions: Vec::new(),
        judge_trust: None,
    };
    let max_error_rate = gate
        .and_then(|g| g.spec.max_error_rate)
        .unwrap_or(project.config.run.max_error_rate);
    let result = outcome(&model, max_error_rate, true);
    let s = &run.summary;
    println!(
        "shard {shard}: {} of {} in {}{}; the gate and the diff run on the merged run (`evalgate merge OUT SHARD_DIR...`)",
        crate::report::count_of(s.written, "result"),
        s.planned,
        run.dir.display(),
        match s.metrics.overall.errors {
            0 => String::new(),
            n => format!(", {}", crate::report::count_of(n, "error")),
        },
    );
    super::review::explain(&model, run, result);
    Ok(result)
}
