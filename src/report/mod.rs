//! Views of a finished run: one model ([`model::ReportModel`]), many renderers.

pub mod diff_text;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod terminal;
pub mod titles;

/// A rate as a whole percentage, or `-` when there was nothing to measure.
pub fn pct(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{:.0}%", r * 100.0),
        None => "-".to_string(),
    }
}
