//! `evalgate import TICKETS`: real tickets become draft cases for a person to review.

use std::path::Path;

use crate::cli::ImportArgs;
use crate::evalset::{ExpectedOutcome, Stratum};
use crate::exit::{Failure, Outcome};
use crate::import::{ImportSpec, plan};

pub fn run(config: &Path, args: &ImportArgs) -> Result<Outcome, Failure> {
    let stratum = Stratum::parse(&args.stratum).ok_or_else(|| {
        Failure::bad_input(format!(
            "--stratum {}: unknown stratum (routine, edge, refusal or adversarial)",
            args.stratum
        ))
    })?;
    let outcome = ExpectedOutcome::ALL
        .into_iter()
        .find(|o| o.name() == args.outcome)
        .ok_or_else(|| {
            Failure::bad_input(format!(
                "--outcome {}: unknown outcome (resolve, escalate or refuse)",
                args.outcome
            ))
        })?;
    let spec = ImportSpec {
        input: args.tickets.clone(),
        text_column: args.text_column.clone(),
        id_column: args.id_column.clone(),
        language_column: args.lang_column.clone(),
        language: args.lang.clone(),
        intent_column: args.intent_column.clone(),
        stratum,
        outcome,
        out: args.out.clone(),
        keep_pii: args.keep_pii,
    };
    let plan = plan(&spec).map_err(|p| Failure::problems(&p))?;
    plan.write().map_err(Failure::internal)?;
    for file in &plan.files {
        println!(
            "{}: {} draft{} ({}){}",
            file.path.display(),
            file.added,
            if file.added == 1 { "" } else { "s" },
            file.language,
            if file.created { ", new file" } else { "" }
        );
    }
    println!(
        "imported {} as drafts{}",
        crate::report::count_of(plan.added(), "ticket"),
        if plan.detected > 0 {
            format!(
                " ({} by detection: check them)",
                crate::report::count_of(plan.detected, "language")
            )
        } else {
            String::new()
        }
    );
    if args.keep_pii {
        println!("personal data kept as written (--keep-pii)");
    } else if plan.masked.total() == 0 {
        println!("masked: no personal data found");
    } else {
        println!("masked: {} (--keep-pii keeps them)", plan.masked.describe());
    }
    if !plan.already_imported.is_empty() {
        println!(
            "skipped {} already in the suite: {}",
            crate::report::count_of(plan.already_imported.len(), "ticket"),
            plan.already_imported.join(", ")
        );
    }
    if !plan.empty.is_empty() {
        let lines: Vec<String> = plan.empty.iter().map(ToString::to_string).collect();
        println!(
            "skipped {} with no text (line {})",
            crate::report::count_of(plan.empty.len(), "ticket"),
            lines.join(", ")
        );
    }
    for file in &plan.files {
        if let Some(note) = outside_the_suite(config, &file.path) {
            eprintln!("note: {note}");
        }
    }
    if plan.added() > 0 {
        println!(
            "next: review each draft (set its expected outcome and checks), then `evalgate approve FILE`; `evalgate check` counts drafts apart"
        );
    }
    Ok(Outcome::Passed)
}

/// A written file that the config's `evalsets:` patterns do not take: its drafts would
/// never be checked or run.
fn outside_the_suite(config: &Path, written: &Path) -> Option<String> {
    let project = crate::config::Project::load(config).ok()?;
    let written = std::fs::canonicalize(written).ok()?;
    let matched = project.config.evalsets.iter().any(|pattern| {
        let full = project.root.join(&pattern.value);
        glob::glob(&full.to_string_lossy()).is_ok_and(|paths| {
            paths
                .flatten()
                .filter_map(|p| std::fs::canonicalize(p).ok())
                .any(|p| p == written)
        })
    });
    (!matched).then(|| {
        format!(
            "{} is not among the config's `evalsets:` patterns, so check and run will not see it",
            written.display()
        )
    })
}
