//! The report files a run gets: one [`Exporter`] per format, each in its own module, and
//! [`EXPORTERS`], the one list that both the run's review (`run`, `rescore`,
//! `gate --out`) and `evalgate report --format` take them from.

use std::io::Write;

use crate::report::model::ReportModel;
use crate::result_index::ResultIndex;

/// The formats a run's report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Md,
    Json,
    Junit,
    Html,
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The run directory is broken: a result cannot be read back from results.jsonl.
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Write(#[from] std::io::Error),
    /// evalgate's own failure, such as a template that does not render.
    #[error("{0}")]
    Internal(String),
}

/// One report format. Every format renders the same model; those that list cases read
/// them one at a time through the index, so a large run is never held in memory.
pub trait Exporter: Sync {
    fn format(&self) -> ReportFormat;

    /// Its file in a run directory, e.g. `report.md`.
    fn file_name(&self) -> &'static str;

    fn write(
        &self,
        model: &ReportModel,
        index: &ResultIndex,
        out: &mut dyn Write,
    ) -> Result<(), ReportError>;
}

/// Every report a run gets, in the order they are written.
pub static EXPORTERS: [&dyn Exporter; 4] = [
    &super::markdown::Markdown,
    &super::json::Json,
    &super::junit::Junit,
    &super::html::Html,
];

/// The exporter of one format.
pub fn exporter(format: ReportFormat) -> Option<&'static dyn Exporter> {
    EXPORTERS.iter().copied().find(|e| e.format() == format)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each format is written by exactly one exporter, to a file of its own.
    #[test]
    fn every_format_has_one_exporter_and_one_file() {
        use ReportFormat::*;
        for format in [Md, Json, Junit, Html] {
            let count = EXPORTERS.iter().filter(|e| e.format() == format).count();
            assert_eq!(count, 1, "{format:?}");
        }
        let mut files: Vec<&str> = EXPORTERS.iter().map(|e| e.file_name()).collect();
        files.sort_unstable();
        assert_eq!(
            files,
            ["junit.xml", "report.html", "report.json", "report.md"]
        );
    }
}
