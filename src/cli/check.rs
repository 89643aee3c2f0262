//! `evalgate check`.

use std::path::Path;

use crate::check::coverage_table;
use crate::exit::Outcome;

pub fn run(config: &Path) -> Outcome {
    let loaded = match super::load::load(config) {
        Ok(l) => l,
        Err(outcome) => return outcome,
    };
    let suite = &loaded.suite;
    print!("{}", coverage_table(&suite.coverage()));
    println!(
        "ok: {} cases in {} files, {} languages · eval-set hash {}",
        suite.cases.len(),
        suite.files.len(),
        suite.coverage().len(),
        suite.hash
    );
    Outcome::Passed
}
