//! `evalgate check`: everything a run needs is valid, and the eval sets' coverage.

use std::path::Path;

use crate::check::coverage_table;
use crate::exit::{Failure, Outcome};

pub fn run(config: &Path) -> Result<Outcome, Failure> {
    let loaded = super::load::load(config)?;
    // The gate file and the judge are part of the contract a run will be held to.
    let gate = super::review::gate_for(&loaded.project, None)?;
    super::run::build_judge(&loaded.project, false)?;
    let suite = &loaded.suite;
    let coverage = suite.coverage();
    print!("{}", coverage_table(&coverage));
    println!(
        "ok: {} · eval-set hash {}",
        [
            crate::report::count_of(suite.len(), "case"),
            crate::report::count_of(suite.files.len(), "file"),
            crate::report::count_of(coverage.len(), "language"),
        ]
        .join(", ")
        .replacen(", ", " in ", 1),
        suite.hash
    );
    let judged = loaded.project.config.judge.is_some();
    let blind = suite.rule_blind();
    if !judged && !blind.is_empty() {
        print!("{}", crate::check::rule_blind_table(&blind));
    }
    if let Some(g) = gate {
        println!("gate: {} ({})", g.path.display(), g.hash);
    }
    Ok(Outcome::Passed)
}
