//! Reviewing a finished run: diff it against a baseline, hold it to the gate, write the
//! reports, and decide what the exit code says. Shared by `run`, `gate` and `report`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::diff::{self, Diff};
use crate::exit::Outcome;
use crate::gate::{self, Gate};
use crate::report::html::CaseList;
use crate::report::model::ReportModel;
use crate::report::{gate_text, junit, markdown};
use crate::result_index::{IndexEntry, ResultIndex};
use crate::rundir::{RunDir, SUMMARY_FILE};
use crate::summary::GateRef;

pub const REPORT_MD: &str = "report.md";
pub const REPORT_JSON: &str = "report.json";
pub const JUNIT_XML: &str = "junit.xml";
pub const REPORT_HTML: &str = "report.html";

/// Cases listed in full in report.html; past it, only failing cases are (the page
/// must stay a size a browser opens quickly).
pub const MAX_HTML_CASES: usize = 5_000;

/// Writes the page for a run whose index is sorted by key. It lists every failing case,
/// then passing ones up to [`MAX_HTML_CASES`], each group in key order, and counts the rest.
fn write_html(
    index: &ResultIndex,
    model: &ReportModel,
    out: &mut impl Write,
) -> Result<(), ReviewError> {
    let failing = index.entries.iter().filter(|e| !e.passed);
    let passing = index.entries.iter().filter(|e| e.passed);
    let listed: Vec<&IndexEntry> = failing
        .chain(passing.clone().take(MAX_HTML_CASES))
        .collect();
    let hidden = passing.count().saturating_sub(MAX_HTML_CASES) as u64;
    let mut languages: Vec<String> = listed.iter().map(|e| e.language().to_string()).collect();
    languages.sort_unstable();
    languages.dedup();
    let list = CaseList {
        entries: listed,
        index,
        languages,
        hidden,
    };
    crate::report::html::write(model, list, out).map_err(ReviewError::Read)
}

/// The page for a run, from its index.
pub fn render_html(mut index: ResultIndex, model: &ReportModel) -> Result<String, ReviewError> {
    index.sort_by_key();
    let mut page = Vec::new();
    write_html(&index, model, &mut page)?;
    String::from_utf8(page).map_err(|e| ReviewError::Read(e.to_string()))
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("{0}")]
    Read(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Builds the report model of a run (its diff against `baseline` and its gate verdict)
/// and the index of its results that the per-case reports are written from.
pub fn review(
    run: &RunDir,
    gate: Option<&Gate>,
    baseline: Option<&RunDir>,
) -> Result<(ReportModel, ResultIndex), ReviewError> {
    let index = ResultIndex::build(&run.results_path()).map_err(ReviewError::Read)?;
    let diff: Option<Diff> = baseline
        .map(|b| diff::compare(b, run))
        .transpose()
        .map_err(ReviewError::Read)?;
    let verdict = gate.map(|g| gate::evaluate(g, &run.summary, diff.as_ref()));
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

/// Writes report.md, report.json, junit.xml and report.html into `dir`; for the run's own
/// review also records the gate in its summary.json and appends report.md to
/// `$GITHUB_STEP_SUMMARY`.
pub fn write_reports(
    run: &RunDir,
    dir: &Path,
    model: &ReportModel,
    mut index: ResultIndex,
    purpose: ReportsFor,
) -> Result<(), ReviewError> {
    std::fs::create_dir_all(dir).map_err(|source| ReviewError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| ReviewError::Write { path, source })
    };
    let md = markdown::render(model);
    write(REPORT_MD, &md)?;
    let json = serde_json::to_string_pretty(model).map_err(|e| ReviewError::Read(e.to_string()))?;
    write(REPORT_JSON, &(json + "\n"))?;
    // The per-case reports read one result at a time, each on its own core.
    index.sort_by_key();
    std::thread::scope(|scope| {
        let junit = scope.spawn(|| {
            write_with(&dir.join(JUNIT_XML), |out| {
                junit::write(&index, &model.summary.meta.run_id, out).map_err(ReviewError::Read)
            })
        });
        let html = write_with(&dir.join(REPORT_HTML), |out| write_html(&index, model, out));
        let junit = junit.join().unwrap_or_else(|_| {
            Err(ReviewError::Read(
                "evalgate bug: writing junit.xml stopped".into(),
            ))
        });
        junit.and(html)
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
            .and_then(|mut f| f.write_all(md.as_bytes()))
            .map_err(|source| ReviewError::Write { path, source })?;
    }
    Ok(())
}

/// Creates `path` and writes it through a buffer.
fn write_with(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<(), ReviewError>,
) -> Result<(), ReviewError> {
    let file = std::fs::File::create(path).map_err(|source| ReviewError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    write(&mut std::io::BufWriter::new(file)).map_err(|e| match e {
        ReviewError::Read(m) => ReviewError::Read(format!("{}: {m}", path.display())),
        other => other,
    })
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
    let all_failed = overall.results > 0 && overall.errors == overall.results;
    let too_many_errors = overall.error_rate.unwrap_or(0.0) > max_error_rate + 1e-12;
    match &model.gate {
        _ if all_failed || too_many_errors => Outcome::Incomplete,
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

    /// The page for `results` (key, stratum, passed), written in that order.
    fn page_for(dir: &Path, results: &[(String, Stratum, bool)]) -> String {
        let mut lines = String::new();
        for (key, stratum, passed) in results {
            let mut r = CaseResult::fixture(
                "en",
                *stratum,
                ExpectedOutcome::Resolve,
                ObservedOutcome::Resolved,
                *passed,
            );
            r.key = key.clone();
            r.language = key[..2].into();
            lines.push_str(&serde_json::to_string(&r).unwrap());
            lines.push('\n');
        }
        std::fs::write(dir.join(crate::rundir::RESULTS_FILE), lines).unwrap();
        let summary = RunSummary::fixture(MetricsBuilder::default().finish());
        let run = RunDir {
            dir: dir.to_path_buf(),
            summary: summary.clone(),
        };
        let model = ReportModel {
            summary,
            gate: None,
            diff: None,
            missed_escalations: vec![],
        };
        let index = ResultIndex::build(&run.results_path()).unwrap();
        render_html(index, &model).unwrap()
    }

    /// The keys of the cases on the page, in page order.
    fn listed(page: &str) -> Vec<&str> {
        page.split("<details id=\"case-")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .collect()
    }

    #[test]
    fn the_page_lists_failing_cases_first_then_by_key() {
        let dir = crate::test_support::TempDir::new("review");
        // Written in completion order, not key order; classes differ from key order too.
        let results: Vec<(String, Stratum, bool)> = [
            ("en/b", Stratum::Routine, true),
            ("de/z", Stratum::Edge, false),
            ("en/a", Stratum::Adversarial, true),
            ("de/c", Stratum::Routine, false),
            ("de/y", Stratum::Adversarial, true),
        ]
        .into_iter()
        .map(|(k, s, p)| (k.to_string(), s, p))
        .collect();
        let page = page_for(&dir, &results);
        assert_eq!(
            listed(&page),
            ["de-c-0", "de-z-0", "de-y-0", "en-a-0", "en-b-0"]
        );
    }

    /// Cases rendered on several threads still come out in page order, each once.
    #[test]
    fn a_long_case_list_keeps_its_order() {
        let dir = crate::test_support::TempDir::new("review-long");
        let results: Vec<(String, Stratum, bool)> = (0..1000)
            .rev()
            .map(|i| (format!("en/c{i:04}"), Stratum::Routine, i % 7 != 0))
            .collect();
        let page = page_for(&dir, &results);
        let failing = (0..1000).filter(|i| i % 7 == 0);
        let passing = (0..1000).filter(|i| i % 7 != 0);
        let expected: Vec<String> = failing
            .chain(passing)
            .map(|i| format!("en-c{i:04}-0"))
            .collect();
        assert_eq!(listed(&page), expected);
    }
}
