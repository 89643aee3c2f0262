//! Views of a finished run for people: the terminal summary (reports in other formats
//! render the same model).

pub mod terminal;

/// A rate as a whole percentage, or `-` when there was nothing to measure.
pub fn pct(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{:.0}%", r * 100.0),
        None => "-".to_string(),
    }
}
