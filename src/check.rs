//! `evalgate check`: the coverage table, language × stratum case counts against the
//! waves of 10, 100 and 1000 cases per cell.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::evalset::Stratum;

/// Case counts per cell that each wave asks for.
pub const WAVES: [(u64, &str); 3] = [(10, "w1"), (100, "w2"), (1000, "w3")];

/// The highest wave a cell's count reaches, if any.
pub fn wave_reached(count: u64) -> Option<&'static str> {
    WAVES
        .iter()
        .rev()
        .find(|(target, _)| count >= *target)
        .map(|(_, name)| *name)
}

pub fn coverage_table(coverage: &BTreeMap<String, BTreeMap<Stratum, usize>>) -> String {
    let mut out = String::new();
    let _ = write!(out, "{:<10}", "language");
    for s in Stratum::ALL {
        let _ = write!(out, "{:>14}", s.name());
    }
    let _ = writeln!(out, "{:>8}  lowest wave", "total");
    for (language, cells) in coverage {
        let _ = write!(out, "{language:<10}");
        let mut lowest: Option<u64> = None;
        let mut total = 0;
        for s in Stratum::ALL {
            let n = cells.get(&s).copied().unwrap_or(0) as u64;
            total += n;
            lowest = Some(lowest.map_or(n, |l: u64| l.min(n)));
            let mark = wave_reached(n).unwrap_or("--");
            let _ = write!(out, "{:>14}", format!("{n} {mark}"));
        }
        let lowest = lowest.unwrap_or(0);
        let _ = writeln!(out, "{total:>8}  {}", wave_label(lowest));
    }
    let _ = writeln!(
        out,
        "waves: w1 = 10, w2 = 100, w3 = 1000 cases per language × stratum; -- = below wave 1"
    );
    out
}

/// Per cell, the cases whose results will be `unverified` without a judge: no content
/// check, so any answer in the right language passes as resolved or refused.
pub fn rule_blind_table(blind: &BTreeMap<String, BTreeMap<Stratum, usize>>) -> String {
    let mut out = String::new();
    let total: usize = blind.values().flat_map(|cells| cells.values()).sum();
    let _ = writeln!(
        out,
        "unverified without a judge: {total} case{} expect resolve or refuse and have no content check (must_include, must_not_include, regex, not_regex); any reply in the right language passes them",
        if total == 1 { "" } else { "s" }
    );
    let _ = write!(out, "{:<10}", "language");
    for s in Stratum::ALL {
        let _ = write!(out, "{:>14}", s.name());
    }
    let _ = writeln!(out);
    for (language, cells) in blind {
        let _ = write!(out, "{language:<10}");
        for s in Stratum::ALL {
            let n = cells.get(&s).copied().unwrap_or(0);
            let _ = write!(out, "{n:>14}");
        }
        let _ = writeln!(out);
    }
    out
}

/// Per cell, the draft cases (`status: draft`) the coverage table leaves out: they count
/// towards a wave once a person approves them.
pub fn drafts_table(drafts: &BTreeMap<String, BTreeMap<Stratum, usize>>) -> String {
    let mut out = String::new();
    let total: usize = drafts.values().flat_map(|cells| cells.values()).sum();
    let _ = writeln!(
        out,
        "drafts, not counted above: {} awaiting review (evalgate approve FILE [IDS]; `run --include-drafts` runs them)",
        crate::report::count_of(total, "case")
    );
    let _ = write!(out, "{:<10}", "language");
    for s in Stratum::ALL {
        let _ = write!(out, "{:>14}", s.name());
    }
    let _ = writeln!(out, "{:>8}", "total");
    for (language, cells) in drafts {
        let _ = write!(out, "{language:<10}");
        let mut row = 0;
        for s in Stratum::ALL {
            let n = cells.get(&s).copied().unwrap_or(0);
            row += n;
            let _ = write!(out, "{n:>14}");
        }
        let _ = writeln!(out, "{row:>8}");
    }
    out
}

fn wave_label(count: u64) -> String {
    match wave_reached(count) {
        Some(w) => {
            let next = WAVES.iter().find(|(t, _)| *t > count);
            match next {
                Some((target, name)) => format!("{w} (next: {name} needs {target} per cell)"),
                None => w.to_string(),
            }
        }
        None => "below w1 (needs 10 per cell)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waves_are_reached_at_their_targets() {
        assert_eq!(wave_reached(9), None);
        assert_eq!(wave_reached(10), Some("w1"));
        assert_eq!(wave_reached(99), Some("w1"));
        assert_eq!(wave_reached(100), Some("w2"));
        assert_eq!(wave_reached(1000), Some("w3"));
    }

    #[test]
    fn table_marks_each_cell_and_the_lowest() {
        let mut cov = BTreeMap::new();
        let mut cells = BTreeMap::new();
        cells.insert(Stratum::Routine, 120);
        cells.insert(Stratum::Edge, 10);
        cells.insert(Stratum::Refusal, 10);
        cov.insert("pl".to_string(), cells);
        let t = coverage_table(&cov);
        assert!(t.contains("120 w2"), "{t}");
        assert!(t.contains("0 --"), "{t}");
        assert!(t.contains("below w1"), "{t}");
    }
}
