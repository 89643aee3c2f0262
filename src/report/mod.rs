//! Views of a finished run: one model ([`model::ReportModel`]), many renderers; the
//! files among them are listed in [`export::EXPORTERS`].

pub mod breakdown;
pub mod diff_text;
pub mod export;
pub mod gate_text;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod terminal;
pub mod titles;
pub mod verdict;

/// "1 case", "2 cases", "1 criterion", "3 criteria": a count with its noun, singular
/// when it is one.
pub fn count_of(n: impl TryInto<u64> + std::fmt::Display + Copy, noun: &str) -> String {
    if n.try_into().ok() == Some(1) {
        return format!("1 {noun}");
    }
    let plural = match noun {
        "criterion" => "criteria".to_string(),
        _ if noun.ends_with('y') && !noun.ends_with("ey") => {
            format!("{}ies", &noun[..noun.len() - 1])
        }
        _ => format!("{noun}s"),
    };
    format!("{n} {plural}")
}

/// A rate as a percentage, or `-` when there was nothing to measure.
pub fn pct(rate: Option<f64>) -> String {
    match rate {
        Some(r) => percent(r),
        None => "-".to_string(),
    }
}

/// A share as a percentage: whole when it is whole, else with as many decimals as it takes
/// (up to three) never to round onto 0% or 100%: 199 of 200 is 99.5%, never 100%.
pub fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        return format!("{p:.0}%");
    }
    for decimals in 1..=3 {
        let text = format!("{p:.decimals$}");
        let rounded: f64 = text.parse().unwrap_or(p);
        if (rounded - 100.0).abs() > 1e-12 && rounded.abs() > 1e-12 {
            return format!("{text}%");
        }
    }
    // Closer to an end than three decimals show: round away from it.
    let thousandths = if p > 50.0 {
        (p * 1000.0).floor()
    } else {
        (p * 1000.0).ceil()
    };
    format!("{:.3}%", thousandths / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_near_miss_never_reads_as_perfect() {
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.75), "75%");
        assert_eq!(percent(199.0 / 200.0), "99.5%");
        assert_eq!(percent(1999.0 / 2000.0), "99.95%");
        assert_eq!(percent(2.0 / 3.0), "66.7%");
        assert_eq!(percent(1.0 / 30000.0), "0.003%");
        assert_eq!(percent(1.0 - 1e-9), "99.999%");
        assert_eq!(percent(1e-9), "0.001%");
        assert_eq!(pct(None), "-");
    }

    #[test]
    fn one_is_singular() {
        assert_eq!(count_of(1, "file"), "1 file");
        assert_eq!(count_of(0, "file"), "0 files");
        assert_eq!(count_of(2, "case"), "2 cases");
        assert_eq!(count_of(1u64, "criterion"), "1 criterion");
        assert_eq!(count_of(77u64, "criterion"), "77 criteria");
        assert_eq!(count_of(3, "reply"), "3 replies");
    }
}
