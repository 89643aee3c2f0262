//! `evalgate monitor EXPORT...`: production figures and the rollback trigger. Flags become
//! one plan; the library reads, measures, judges and renders; this file prints and picks
//! the exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::config::Project;
use crate::exit::{Failure, Outcome};
use crate::gate::Gate;
use crate::monitor::report::{MonitorReport, RollbackSection};
use crate::monitor::rollback::{self, DEFAULT_WINDOW_DAYS, RollbackVerdict};
use crate::monitor::{eval_rates, export, measure, sample, write_reports};
use crate::timefmt;

#[derive(Debug, clap::Args)]
pub struct MonitorArgs {
    /// Conversations exported from production, JSONL, one a line: {"id", "customer_id",
    /// "language", "started_at" (RFC 3339), "messages": [{"role": customer|bot|agent,
    /// "text"}], "handoff" (optional), "csat" (optional)}. Several files are read as one
    /// export.
    #[arg(required = true, value_name = "EXPORT")]
    pub exports: Vec<PathBuf>,
    /// The launch eval's run directory: `max_drop_vs_eval` compares durable resolution
    /// with its resolution_rate, per language and overall.
    #[arg(long, value_name = "RUN")]
    pub eval: Option<PathBuf>,
    /// The gate file whose `rollback:` block is the trigger (default: the config's `gate:`).
    #[arg(long, value_name = "FILE")]
    pub gate: Option<PathBuf>,
    /// Write monitor.json, monitor.md and monitor.html here (default:
    /// reports/monitor-<time> beside the config, or in the current folder without one).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Have the config's judge read N settled, contained conversations per language (a
    /// seeded sample): the live deflection and hallucination rates.
    #[arg(long, value_name = "N")]
    pub judge_sample: Option<usize>,
    /// Seed of the judge sample: the same seed and export give the same conversations.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// A later conversation of the same customer at most this many days after one is a
    /// repeat contact (default: rollback.repeat_window_days, else 7).
    #[arg(long, value_name = "DAYS")]
    pub repeat_window_days: Option<u32>,
    /// Neither read nor write the judge's response cache.
    #[arg(long)]
    pub no_cache: bool,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The validated plan.
struct Plan {
    exports: Vec<PathBuf>,
    gate: Option<Gate>,
    window_days: u32,
    eval: Option<rollback::EvalRates>,
    judge: Option<(crate::judge::Judge, usize, u64)>,
    out: PathBuf,
}

pub fn run(config: &Path, args: &MonitorArgs) -> Result<Outcome, Failure> {
    let plan = plan(config, args)?;
    let progress = read_progress(&plan.exports, args.quiet);
    let (figures, contained) = measure(
        &plan.exports,
        plan.window_days,
        plan.judge.is_some(),
        |bytes| {
            if let Some(bar) = &progress {
                bar.set_position(bytes);
            }
        },
    )
    .map_err(Failure::from)?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let judge_sample = match &plan.judge {
        None => None,
        Some((judge, per_language, seed)) => {
            let chosen = sample::choose(&contained, *per_language, *seed);
            let transcripts = export::read_transcripts(&plan.exports, &sample::wanted(&chosen))
                .map_err(Failure::from)?;
            if !args.quiet {
                eprintln!(
                    "judging {} sampled conversations with {}…",
                    transcripts.len(),
                    judge.identity()
                );
            }
            let runtime = super::runtime()?;
            Some(runtime.block_on(sample::judge_sample(
                judge,
                &chosen,
                &contained,
                &transcripts,
            )))
        }
    };
    let verdict = match plan.gate.as_ref().and_then(|g| g.spec.rollback.as_ref()) {
        Some(spec) => rollback::evaluate(spec, &figures, plan.eval.as_ref()),
        None => RollbackVerdict {
            passed: true,
            criteria: Vec::new(),
        },
    };
    let report = MonitorReport {
        generated_at: crate::summary::now_rfc3339(),
        exports: plan
            .exports
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        figures,
        rollback: RollbackSection {
            gate: plan
                .gate
                .as_ref()
                .filter(|g| g.spec.rollback.is_some())
                .map(|g| g.path.display().to_string()),
            verdict,
        },
        eval: plan.eval,
        judge_sample,
    };
    write_reports(&plan.out, &report).map_err(|e| {
        Failure::internal(format!(
            "cannot write the monitor reports into {}: {e}",
            plan.out.display()
        ))
    })?;
    print!("{}", crate::monitor::report::render_terminal(&report));
    println!(
        "wrote {}/{{{},{},{}}}",
        plan.out.display(),
        crate::monitor::JSON_FILE,
        crate::monitor::MARKDOWN_FILE,
        crate::monitor::HTML_FILE
    );
    if report.rollback.verdict.passed {
        Ok(Outcome::Passed)
    } else {
        eprintln!("Roll back: live figures broke the trigger written before launch (exit 1).");
        Ok(Outcome::GateFailed)
    }
}

fn plan(config: &Path, args: &MonitorArgs) -> Result<Plan, Failure> {
    if args.repeat_window_days == Some(0) {
        return Err(Failure::bad_input(
            "--repeat-window-days must be at least 1",
        ));
    }
    if args.judge_sample == Some(0) {
        return Err(Failure::bad_input(
            "--judge-sample must be at least 1 (leave it out to judge nothing)",
        ));
    }
    for export in &args.exports {
        if !export.is_file() {
            // A pipe cannot be read twice, and an id seen twice or a judge sample sends
            // the monitor back to the export.
            let why = if export.exists() {
                "not a regular file: the export may be read more than once, so save it to a file first"
            } else {
                "no such export file"
            };
            return Err(Failure::bad_input(format!("{}: {why}", export.display())));
        }
    }
    // The config is optional: it only names the default gate and the judge.
    let project = if config.exists() {
        Some(Project::load(config).map_err(|p| Failure::problems(&p))?)
    } else {
        None
    };
    let gate = match (&project, &args.gate) {
        (Some(p), flag) => super::review::gate_for(p, flag.as_deref())?,
        (None, Some(path)) => Some(Gate::load(path)?),
        (None, None) => None,
    };
    let window_days = args
        .repeat_window_days
        .or(gate
            .as_ref()
            .and_then(|g| g.spec.rollback.as_ref()?.repeat_window_days))
        .unwrap_or(DEFAULT_WINDOW_DAYS);
    let eval = args
        .eval
        .as_deref()
        .map(|run| eval_rates(run).map_err(|e| Failure::bad_input(format!("--eval: {e}"))))
        .transpose()?;
    let judge = match args.judge_sample {
        None => None,
        Some(n) => {
            let Some(project) = &project else {
                return Err(Failure::bad_input(format!(
                    "--judge-sample needs a judge, and there is no config at {} (pass --config FILE with a `judge:` block)",
                    config.display()
                )));
            };
            let Some((judge, _)) = super::run::build_judge(project, !args.no_cache)? else {
                return Err(Failure::bad_input(format!(
                    "--judge-sample needs a judge: {} has no `judge:` block",
                    project.config_path.display()
                )));
            };
            Some((judge, n, args.seed))
        }
    };
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None => {
            // Printed as `reports/…` when the config is in the current folder.
            let base = project
                .as_ref()
                .map(|p| p.root.clone())
                .filter(|root| root != Path::new("."))
                .unwrap_or_default();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            base.join("reports")
                .join(format!("monitor-{}", timefmt::compact_stamp(now)))
        }
    };
    Ok(Plan {
        exports: args.exports.clone(),
        gate,
        window_days,
        eval,
        judge,
        out,
    })
}

/// A bar over the bytes of the exports, on a terminal only.
fn read_progress(exports: &[PathBuf], quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let total: u64 = exports
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "reading {bar:30} {bytes}/{total_bytes}  {bytes_per_sec}  eta {eta}",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}
