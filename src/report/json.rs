//! `report.json`: the report model itself, for tools. Every other view renders it.

use std::io::Write;

use crate::report::export::{Exporter, ReportError, ReportFormat};
use crate::report::model::ReportModel;
use crate::result_index::ResultIndex;

pub struct Json;

impl Exporter for Json {
    fn format(&self) -> ReportFormat {
        ReportFormat::Json
    }

    fn file_name(&self) -> &'static str {
        "report.json"
    }

    fn write(
        &self,
        model: &ReportModel,
        _index: &ResultIndex,
        out: &mut dyn Write,
    ) -> Result<(), ReportError> {
        serde_json::to_writer_pretty(&mut *out, model).map_err(|e| {
            if e.is_io() {
                ReportError::Write(e.into())
            } else {
                ReportError::Internal(format!("report.json: {e}"))
            }
        })?;
        out.write_all(b"\n")?;
        Ok(())
    }
}
