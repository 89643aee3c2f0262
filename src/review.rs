//! Reviewing a finished run: diff it against a baseline, hold it to the gate, write the
//! reports, and decide what the exit code says. Shared by `run`, `gate` and `report`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::calibrate::trust::{self, CalibrationFile};
use crate::diff::{self, Diff};
use crate::exit::Outcome;
use crate::gate::{self, Gate};
use crate::report::export::{EXPORTERS, Exporter, ReportError};
use crate::report::model::ReportModel;
use crate::report::{gate_text, markdown};
use crate::result_index::ResultIndex;
use crate::rundir::{RunDir, SUMMARY_FILE};
use crate::summary::GateRef;

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// A run directory the user named is broken: its results cannot be read.
    #[error("{0}")]
    Input(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// evalgate's own failure.
    #[error("{0}")]
    Internal(String),
}

impl From<ReviewError> for crate::exit::Failure {
    fn from(e: ReviewError) -> crate::exit::Failure {
        crate::exit::Failure {
            outcome: e.outcome(),
            message: format!("error: {e}"),
        }
    }
}

impl ReviewError {
    /// A broken run directory is bad input (2); anything else is evalgate's failure (4).
    pub fn outcome(&self) -> Outcome {
        match self {
            ReviewError::Input(_) => Outcome::BadInput,
            ReviewError::Write { .. } | ReviewError::Internal(_) => Outcome::Internal,
        }
    }

    /// An exporter's error, told where it was writing to.
    pub fn writing(path: &Path, e: ReportError) -> ReviewError {
        match e {
            ReportError::Input(m) => ReviewError::Input(m),
            ReportError::Write(source) => ReviewError::Write {
                path: path.to_path_buf(),
                source,
            },
            ReportError::Internal(m) => ReviewError::Internal(format!("{}: {m}", path.display())),
        }
    }
}

/// Builds the report model of a run (its diff against `baseline` and its gate verdict)
/// and the index of its results that the per-case reports are written from.
pub fn review(
    run: &RunDir,
    gate: Option<&Gate>,
    baseline: Option<&RunDir>,
    calibration: Option<&CalibrationFile>,
) -> Result<(ReportModel, ResultIndex), ReviewError> {
    let index = ResultIndex::build(&run.results_path()).map_err(ReviewError::Input)?;
    let diff: Option<Diff> = baseline
        .map(|b| diff::compare(b, run))
        .transpose()
        .map_err(ReviewError::Input)?;
    let judge_trust = trust::assess(&run.summary, calibration);
    let verdict = gate.map(|g| {
        let mut verdict = gate::evaluate(g, &run.summary, diff.as_ref());
        if let (Some(spec), Some(t)) = (&g.spec.judge_calibration, &judge_trust) {
            trust::hold(&mut verdict, spec, t);
        }
        verdict
    });
    let mut summary = run.summary.clone();
    if let (Some(g), Some(v)) = (gate, &verdict) {
        summary.gate = Some(GateRef {
            path: g.path.display().to_string(),
            hash: g.hash.clone(),
            passed: v.passed,
            failed: v.failing().map(|c| gate_text::failure_line(v, c)).collect(),
        });
    }
    let model = ReportModel {
        summary,
        gate: verdict,
        diff,
        missed_escalations: index.missed_escalations(),
        unauthorised_actions: index.unauthorised_actions(),
        judge_trust,
    };
    Ok((model, index))
}

/// Where [`write_reports`] writes, and what else it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportsFor {
    /// The run's own review (`run`, `rescore`): the reports go into the run directory,
    /// the gate is recorded in its summary.json, and report.md reaches
    /// `$GITHUB_STEP_SUMMARY` when CI provides one: once per run.
    TheRun,
    /// Another look at a finished run (`gate --out DIR`): only the reports, only in `dir`.
    Elsewhere,
}

/// Writes every report of [`EXPORTERS`] into `dir`; for the run's own review also
/// records the gate in its summary.json and appends report.md to `$GITHUB_STEP_SUMMARY`.
pub fn write_reports(
    run: &RunDir,
    dir: &Path,
    model: &ReportModel,
    index: ResultIndex,
    purpose: ReportsFor,
) -> Result<(), ReviewError> {
    std::fs::create_dir_all(dir).map_err(|source| ReviewError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    // Each report on its own thread: junit.xml and report.html read every result back,
    // and neither need wait for the other.
    let index = &index;
    std::thread::scope(|scope| {
        let writers: Vec<_> = EXPORTERS
            .iter()
            .map(|exporter| {
                let path = dir.join(exporter.file_name());
                let written = scope.spawn(move || write_file(*exporter, &path, model, index));
                (exporter.file_name(), written)
            })
            .collect();
        // All of them finish; the first failure in list order is the one reported.
        let results: Vec<Result<(), ReviewError>> = writers
            .into_iter()
            .map(|(name, written)| {
                written.join().unwrap_or_else(|_| {
                    Err(ReviewError::Internal(format!(
                        "evalgate bug: writing {name} stopped"
                    )))
                })
            })
            .collect();
        results.into_iter().collect::<Result<(), ReviewError>>()
    })?;
    if purpose == ReportsFor::Elsewhere {
        return Ok(());
    }
    if model.summary.gate != run.summary.gate {
        let path = run.dir.join(SUMMARY_FILE);
        model
            .summary
            .write(&path)
            .map_err(|source| ReviewError::Write { path, source })?;
    }
    if let Some(step_summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(step_summary);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(markdown::render(model).as_bytes()))
            .map_err(|source| ReviewError::Write { path, source })?;
    }
    Ok(())
}

/// Creates `path` and writes one report into it through a buffer.
fn write_file(
    exporter: &dyn Exporter,
    path: &Path,
    model: &ReportModel,
    index: &ResultIndex,
) -> Result<(), ReviewError> {
    let file = std::fs::File::create(path).map_err(|source| ReviewError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = std::io::BufWriter::new(file);
    exporter
        .write(model, index, &mut out)
        .and_then(|()| out.flush().map_err(ReportError::Write))
        .map_err(|e| ReviewError::writing(path, e))
}

/// What a reviewed run means for the exit code. An incomplete run (interrupted, results
/// missing, too many errors) is never reported as a quality verdict. `max_error_rate` is
/// the gate's when it sets one, else the config's `run.max_error_rate`.
///
/// The invocation that was interrupted says so (130); anything that reviews the run later
/// (`gate`, `rescore`) finds it incomplete (3).
pub fn outcome(model: &ReportModel, max_error_rate: f64, just_interrupted: bool) -> Outcome {
    let s = &model.summary;
    if just_interrupted && s.interrupted {
        return Outcome::Interrupted;
    }
    if !s.complete {
        return Outcome::Incomplete;
    }
    let overall = &s.metrics.overall;
    let too_many_errors = overall.error_rate.unwrap_or(0.0) > max_error_rate + 1e-12;
    match &model.gate {
        _ if overall.measured_nothing() || too_many_errors => Outcome::Incomplete,
        Some(v) if v.incomplete => Outcome::Incomplete,
        Some(v) if !v.passed => Outcome::GateFailed,
        _ => Outcome::Passed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evalset::{ExpectedOutcome, Stratum};
    use crate::metrics::MetricsBuilder;
    use crate::result::{CaseResult, ObservedOutcome};
    use crate::summary::RunSummary;

    /// A reviewed run of `passed` passing and `errors` error results, without a gate.
    fn model(passed: u64, errors: u64) -> ReportModel {
        let mut b = MetricsBuilder::default();
        for i in 0..passed + errors {
            let observed = if i < passed {
                ObservedOutcome::Resolved
            } else {
                ObservedOutcome::Error
            };
            let r = CaseResult::fixture(
                "en",
                Stratum::Routine,
                ExpectedOutcome::Resolve,
                observed,
                i < passed,
            );
            b.add(&r);
        }
        ReportModel {
            summary: RunSummary::fixture(b.finish()),
            gate: None,
            diff: None,
            missed_escalations: vec![],
            unauthorised_actions: vec![],
            judge_trust: None,
        }
    }

    #[test]
    fn only_a_whole_measured_run_is_a_verdict() {
        assert_eq!(outcome(&model(10, 0), 0.0, false), Outcome::Passed);
        // Errors within the allowance are no reason to stop; above it, or all, they are.
        assert_eq!(outcome(&model(9, 1), 0.1, false), Outcome::Passed);
        assert_eq!(outcome(&model(9, 1), 0.05, false), Outcome::Incomplete);
        assert_eq!(outcome(&model(0, 3), 1.0, false), Outcome::Incomplete);
        let mut partial = model(10, 0);
        partial.summary.complete = false;
        assert_eq!(outcome(&partial, 0.0, false), Outcome::Incomplete);
        partial.summary.interrupted = true;
        assert_eq!(outcome(&partial, 0.0, true), Outcome::Interrupted);
        assert_eq!(
            outcome(&partial, 0.0, false),
            Outcome::Incomplete,
            "reviewed later, an interrupted run is incomplete"
        );
    }

    #[test]
    fn the_headline_of_a_partial_run_is_incomplete_with_or_without_a_gate() {
        let mut m = model(10, 0);
        assert_eq!(m.headline(), "NO GATE");
        m.summary.complete = false;
        assert_eq!(m.headline(), "INCOMPLETE");
        m.gate = Some(crate::gate::Verdict::fixture(true, false));
        assert_eq!(m.headline(), "INCOMPLETE", "even a passing verdict");
        m.summary.complete = true;
        assert_eq!(m.headline(), "PASS");
        m.gate = Some(crate::gate::Verdict::fixture(false, false));
        assert_eq!(m.headline(), "FAIL");
        m.gate = Some(crate::gate::Verdict::fixture(false, true));
        assert_eq!(m.headline(), "INCOMPLETE");
    }
}
