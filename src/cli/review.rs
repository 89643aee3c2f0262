//! `evalgate gate`, `diff`, `report` and `baseline accept`, and the review step that
//! ends `evalgate run`: diff against the baseline, hold to the gate, write reports.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::calibrate::trust::CalibrationFile;
use crate::cli::{BaselineArgs, DiffArgs, DiffFormat, GateArgs, ReportArgs, ReportFormat};
use crate::config::Project;
use crate::diff;
use crate::exit::{Failure, Outcome};
use crate::gate::Gate;
use crate::report::gate_text::render_text;
use crate::report::model::ReportModel;
use crate::report::{diff_text, export, markdown, terminal, titles};
use crate::review::{ReportsFor, ReviewError, outcome, review, write_reports};
use crate::rundir::{PROMPT_FILE, RESULTS_FILE, RunDir, SUMMARY_FILE};

/// Where `evalgate baseline accept` puts the baseline, relative to the project.
pub const BASELINE_DIR: &str = "reports/baseline";

/// The gate file: `--gate` if given, else the config's `gate:`; loaded now so a bad one
/// is reported before anything runs.
pub fn gate_for(project: &Project, flag: Option<&Path>) -> Result<Option<Gate>, Failure> {
    let path = match (flag, &project.config.gate) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(p)) => project.resolve(&p.value),
        (None, None) => return Ok(None),
    };
    Ok(Some(
        Gate::load_all(&path).map_err(|p| Failure::problems(&p))?,
    ))
}

/// The judge's calibration the config names (`judge.calibration`), read with the gate,
/// before anything runs, so that a missing or broken one is reported with its file before
/// the run rather than after it.
pub fn calibration_for(project: Option<&Project>) -> Result<Option<CalibrationFile>, Failure> {
    let Some(project) = project else {
        return Ok(None);
    };
    let path = project
        .config
        .judge
        .as_ref()
        .and_then(|j| j.calibration.as_ref());
    path.map(|p| CalibrationFile::load(&project.resolve(&p.value)))
        .transpose()
        .map_err(Failure::from)
}

/// The baseline run: `--baseline` if given, else the committed `reports/baseline/` when
/// it exists (and `--no-baseline` was not given).
pub fn baseline_for(
    project: &Project,
    flag: Option<&Path>,
    disabled: bool,
) -> Result<Option<RunDir>, Failure> {
    let path = match flag {
        Some(p) => p.to_path_buf(),
        None if disabled => return Ok(None),
        None => {
            let default = project.root.join(BASELINE_DIR);
            if !default.join(SUMMARY_FILE).is_file() {
                return Ok(None);
            }
            default
        }
    };
    open_run(&path).map(Some)
}

/// A run directory the user named: one that cannot be read is bad input.
fn open_run(path: &Path) -> Result<RunDir, Failure> {
    RunDir::open(path).map_err(Failure::bad_input)
}

fn max_error_rate(project: Option<&Project>, gate: Option<&Gate>) -> f64 {
    gate.and_then(|g| g.spec.max_error_rate)
        .or(project.map(|p| p.config.run.max_error_rate))
        .unwrap_or(0.0)
}

/// Reviews a run that this invocation just wrote (`run`, `rescore`): writes its reports,
/// prints the summary, and says what the exit code is.
pub fn finish(
    project: &Project,
    run: &RunDir,
    gate: Option<&Gate>,
    baseline: Option<&RunDir>,
    calibration: Option<&CalibrationFile>,
) -> Result<Outcome, Failure> {
    finish_in(Some(project), run, gate, baseline, calibration)
}

/// [`finish`] for a run written without a project at hand (`merge` of bare run
/// directories): the error allowance is the gate's alone.
pub fn finish_in(
    project: Option<&Project>,
    run: &RunDir,
    gate: Option<&Gate>,
    baseline: Option<&RunDir>,
    calibration: Option<&CalibrationFile>,
) -> Result<Outcome, Failure> {
    let (model, index) = review(run, gate, baseline, calibration)?;
    write_reports(run, &run.dir, &model, index, ReportsFor::TheRun)?;
    print!("{}", terminal::render(&model, &run.dir));
    let result = outcome(&model, max_error_rate(project, gate), true);
    explain(&model, run, result);
    Ok(result)
}

/// Says on stderr why a run is not a quality verdict: what is missing, or which error
/// most results ended in.
pub(super) fn explain(model: &ReportModel, run: &RunDir, result: Outcome) {
    let s = &model.summary;
    let overall = &s.metrics.overall;
    match result {
        Outcome::Interrupted => eprintln!(
            "interrupted: {} of {} result{} kept in {} — `evalgate run --resume {}` continues it",
            s.written,
            s.planned,
            if s.planned == 1 { "" } else { "s" },
            run.dir.display(),
            run.dir.display()
        ),
        Outcome::Incomplete if s.finished_at.is_empty() => eprintln!(
            "incomplete: the run in {} stopped before it finished (killed?) — this is not a quality verdict; `evalgate run --resume {}` continues it",
            run.dir.display(),
            run.dir.display()
        ),
        Outcome::Incomplete if !s.complete => eprintln!(
            "incomplete: {} of {} planned result{} in {}{} — this is not a quality verdict",
            s.written,
            s.planned,
            if s.planned == 1 { "" } else { "s" },
            run.dir.display(),
            if s.interrupted {
                " (the run was interrupted; `evalgate run --resume` continues it)"
            } else {
                ""
            }
        ),
        Outcome::Incomplete if overall.measured_nothing() => eprintln!(
            "incomplete: every request failed — is the bot (or judge) reachable? See `error` in {}",
            run.results_path().display()
        ),
        Outcome::Incomplete => eprintln!(
            "incomplete: {} of {} {} ({}), above the allowed error rate — this is not a quality verdict",
            overall.errors,
            crate::report::count_of(overall.results, "result"),
            if overall.errors == 1 {
                "is an error"
            } else {
                "are errors"
            },
            crate::report::pct(overall.error_rate)
        ),
        _ => {}
    }
    if result == Outcome::Incomplete
        && let Some(line) = titles::top_error_line(s)
    {
        eprintln!("{line}");
    }
}

pub fn gate(config: &Path, args: &GateArgs) -> Result<Outcome, Failure> {
    let project = optional_project(config);
    let run = open_run(&args.run)?;
    let gate = match (&project, &args.review.gate) {
        (Some(p), flag) => gate_for(p, flag.as_deref())?,
        (None, Some(path)) => Some(Gate::load_all(path).map_err(|p| Failure::problems(&p))?),
        (None, None) => None,
    };
    let gate = gate.ok_or_else(|| {
        Failure::bad_input("no gate file: pass --gate FILE or set `gate:` in the config")
    })?;
    let baseline = match &project {
        Some(p) => baseline_for(p, args.review.baseline.as_deref(), args.review.no_baseline)?,
        None => args.review.baseline.as_deref().map(open_run).transpose()?,
    };
    let calibration = calibration_for(project.as_ref())?;
    let (model, index) = review(&run, Some(&gate), baseline.as_ref(), calibration.as_ref())?;
    // Read-only: the run directory is the record of the run and of the gate it was held
    // to; another gate's verdict goes only where `--out` says.
    if let Some(out) = &args.out {
        write_reports(&run, out, &model, index, ReportsFor::Elsewhere)?;
    }
    println!("{}", titles::headline(&model));
    if let Some(v) = &model.gate {
        print!("{}", render_text(v));
    }
    let result = outcome(&model, max_error_rate(project.as_ref(), Some(&gate)), false);
    explain(&model, &run, result);
    Ok(result)
}

pub fn diff(args: &DiffArgs) -> Result<Outcome, Failure> {
    let base = open_run(&args.base)?;
    let new = open_run(&args.new)?;
    let d = diff::compare(&base, &new).map_err(Failure::bad_input)?;
    match args.format {
        DiffFormat::Text => print!("{}", diff_text::render(&d)),
        DiffFormat::Json => {
            let json = serde_json::to_string_pretty(&d).map_err(Failure::internal)?;
            println!("{json}");
        }
        DiffFormat::Md => {
            let (model, _) = review(&new, None, Some(&base), None)?;
            print!("{}", markdown::render(&model));
        }
    }
    if args.fail_on_regression && d.significant_regressions > 0 {
        return Ok(Outcome::GateFailed);
    }
    Ok(Outcome::Passed)
}

pub fn report(config: &Path, args: &ReportArgs) -> Result<Outcome, Failure> {
    let project = optional_project(config);
    let run = open_run(&args.run)?;
    // Like `run` and `gate`: the committed baseline unless told otherwise.
    let baseline = match &project {
        Some(p) => baseline_for(p, args.review.baseline.as_deref(), args.review.no_baseline)?,
        None => args.review.baseline.as_deref().map(open_run).transpose()?,
    };
    let gate = match (&project, &args.review.gate) {
        (Some(p), flag) => gate_for(p, flag.as_deref())?,
        (None, Some(path)) => Some(Gate::load_all(path).map_err(|p| Failure::problems(&p))?),
        (None, None) => None,
    };
    let calibration = calibration_for(project.as_ref())?;
    let (model, index) = review(&run, gate.as_ref(), baseline.as_ref(), calibration.as_ref())?;
    // clap's `--format` values, as the formats the library knows.
    let format = match args.format {
        ReportFormat::Md => export::ReportFormat::Md,
        ReportFormat::Json => export::ReportFormat::Json,
        ReportFormat::Junit => export::ReportFormat::Junit,
        ReportFormat::Html => export::ReportFormat::Html,
    };
    let exporter = export::exporter(format)
        .ok_or_else(|| Failure::internal(format!("evalgate bug: no exporter writes {format:?}")))?;
    // Rendered whole before anything is written: a broken run leaves no half report
    // where the user asked for one.
    let mut text = Vec::new();
    if let Err(e) = exporter.write(&model, &index, &mut text) {
        let target = args.out.as_deref().unwrap_or(Path::new("standard output"));
        return Err(ReviewError::writing(target, e).into());
    }
    let written = match &args.out {
        Some(path) => std::fs::write(path, &text).map_err(|e| (path.display().to_string(), e)),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&text)
                .and_then(|()| stdout.flush())
                .map_err(|e| ("standard output".to_string(), e))
        }
    };
    if let Err((target, e)) = written {
        return Err(Failure::internal(format!("cannot write {target}: {e}")));
    }
    Ok(Outcome::Passed)
}

pub fn baseline(config: &Path, args: &BaselineArgs) -> Result<Outcome, Failure> {
    let crate::cli::BaselineCommand::Accept { run, force } = &args.command;
    let source = open_run(run)?;
    let summary = &source.summary;
    if !summary.complete {
        return Err(Failure::bad_input(format!(
            "{} is incomplete ({} of {}{}); a baseline must be a whole run",
            run.display(),
            summary.written,
            crate::report::count_of(summary.planned, "result"),
            if summary.interrupted {
                ", interrupted"
            } else {
                ""
            }
        )));
    }
    if let Some(gate) = &summary.gate
        && !gate.passed
    {
        if !*force {
            let failing: String = gate
                .failed
                .iter()
                .map(|line| format!("\n  FAIL {line}"))
                .collect();
            return Err(Failure::bad_input(format!(
                "{} failed its gate ({}); a failing run as the baseline lowers the bar every later run is held to:{failing}\naccept it anyway with `evalgate baseline accept --force {}`",
                run.display(),
                gate.path,
                run.display()
            )));
        }
        eprintln!(
            "warning: accepting {} although it failed its gate ({} failed)",
            run.display(),
            crate::report::count_of(gate.failed.len(), "criterion")
        );
    }
    let root = optional_project(config)
        .map(|p| p.root)
        .unwrap_or_else(|| PathBuf::from("."));
    let target = root.join(BASELINE_DIR);
    let copy = || -> std::io::Result<()> {
        std::fs::create_dir_all(&target)?;
        for name in [RESULTS_FILE, SUMMARY_FILE, PROMPT_FILE] {
            let from = source.dir.join(name);
            let to = target.join(name);
            if from.is_file() {
                // Write beside, then rename, so a failure never leaves a half-copied baseline.
                let tmp = target.join(format!(".{name}.tmp"));
                std::fs::copy(&from, &tmp)?;
                std::fs::rename(&tmp, &to)?;
            } else if to.exists() {
                std::fs::remove_file(&to)?;
            }
        }
        Ok(())
    };
    copy().map_err(|e| Failure::internal(format!("cannot write {}: {e}", target.display())))?;
    println!(
        "baseline is now run {} ({}) in {} — commit it so CI diffs against it",
        source.summary.meta.run_id,
        crate::report::count_of(source.summary.written, "result"),
        target.display()
    );
    Ok(Outcome::Passed)
}

/// The config, when there is one: `gate`, `report` and `baseline` also work on bare run
/// directories.
pub(super) fn optional_project(config: &Path) -> Option<Project> {
    if !config.exists() {
        return None;
    }
    match Project::load(config) {
        Ok(p) => Some(p),
        Err(d) => {
            eprintln!("warning: ignoring {}: {d}", config.display());
            None
        }
    }
}
