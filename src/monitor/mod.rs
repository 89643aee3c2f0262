//! `evalgate monitor`: from launch to live. Reads conversations exported from production
//! (streaming: only a few numbers per conversation stay in memory), computes containment,
//! repeat contacts and durable resolution per language and ISO week, optionally has a
//! seeded sample judged, and holds the figures to the gate file's `rollback:` trigger.

pub mod export;
pub mod html;
pub mod metrics;
pub mod report;
pub mod rollback;
pub mod sample;

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use metrics::{ContainedByLanguage, Figures, Tally};
use report::MonitorReport;
use rollback::EvalRates;

/// The files `monitor` writes into its output folder.
pub const JSON_FILE: &str = "monitor.json";
pub const MARKDOWN_FILE: &str = "monitor.md";
pub const HTML_FILE: &str = "monitor.html";

/// Reads every export once and computes the figures with a `window_days` repeat window;
/// with `with_contained`, also the settled contained conversations a judge sample is
/// drawn from. `progress` hears the bytes read so far.
pub fn measure(
    exports: &[PathBuf],
    window_days: u32,
    with_contained: bool,
    progress: impl FnMut(u64),
) -> Result<(Figures, ContainedByLanguage), Diagnostic> {
    let mut tally = Tally::default();
    let mut too_many_languages = None;
    export::read_exports(exports, progress, |head| {
        if tally.language_room(head.language) {
            tally.add(&head);
        } else if too_many_languages.is_none() {
            too_many_languages = Some(head.language.to_string());
        }
    })?;
    if let Some(language) = too_many_languages {
        return Err(Diagnostic::new(
            &exports[0],
            format!(
                "more than 65,536 languages (the first beyond them {language:?}): is `language` the right field?"
            ),
        ));
    }
    if tally.is_empty() {
        return Err(Diagnostic::new(
            &exports[0],
            "no conversations in the export: nothing to monitor",
        ));
    }
    Ok(tally.figures(window_days, with_contained))
}

/// The launch eval's resolution rates, overall and per language, from its summary.json.
pub fn eval_rates(run: &Path) -> Result<EvalRates, String> {
    let summary = crate::summary::RunSummary::read(&run.join(crate::rundir::SUMMARY_FILE))?;
    Ok(EvalRates {
        run: run.display().to_string(),
        overall: summary.metrics.overall.resolution_rate,
        by_language: summary
            .metrics
            .by_language
            .iter()
            .map(|(language, m)| (language.clone(), m.resolution_rate))
            .collect(),
    })
}

/// Writes monitor.json, monitor.md and monitor.html into `dir`.
pub fn write_reports(dir: &Path, report: &MonitorReport) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(JSON_FILE), json + "\n")?;
    std::fs::write(dir.join(MARKDOWN_FILE), report::render_markdown(report))?;
    std::fs::write(dir.join(HTML_FILE), html::render(report))?;
    Ok(())
}
