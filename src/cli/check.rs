//! `evalgate check`: everything a run needs is valid, and the eval sets' coverage.

use std::path::Path;

use crate::check::coverage_table;
use crate::exit::{Failure, Outcome};

pub fn run(config: &Path) -> Result<Outcome, Failure> {
    let loaded = super::load::load(config)?;
    // The gate file, the judge and its calibration are part of the contract a run will be
    // held to.
    let gate = super::review::gate_for(&loaded.project, None)?;
    super::review::calibration_for(Some(&loaded.project))?;
    super::run::build_judge(&loaded.project, false)?;
    let suite = &loaded.suite;
    let coverage = suite.coverage();
    print!("{}", coverage_table(&coverage));
    let drafts = suite.drafts();
    let draft_count: usize = drafts.values().flat_map(|cells| cells.values()).sum();
    if draft_count > 0 {
        print!("{}", crate::check::drafts_table(&drafts));
    }
    println!(
        "ok: {} · eval-set hash {}",
        [
            crate::report::count_of(suite.len() - draft_count, "case")
                + &if draft_count > 0 {
                    format!(" (and {})", crate::report::count_of(draft_count, "draft"))
                } else {
                    String::new()
                },
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
    if let crate::config::BotConfig::Http(bot) = &loaded.project.config.bot {
        check_http_bot(&loaded, bot)?;
    }
    if let Some(g) = gate {
        println!("gate: {} ({})", g.path.display(), g.hash);
    }
    Ok(Outcome::Passed)
}

/// An http bot's request templates rendered for the suite's first case (its expressions
/// were compiled when the config loaded).
fn check_http_bot(
    loaded: &super::load::Loaded,
    bot: &crate::config::HttpBotConfig,
) -> Result<(), Failure> {
    let Some(case) = loaded.suite.cases().next() else {
        return Ok(());
    };
    let case = case.map_err(|p| Failure::problems(&p))?;
    let prompt = match &loaded.prompt {
        Some(p) => Some(
            p.render(&case)
                .map_err(|d| Failure::problems(&crate::diagnostic::Diagnostics(vec![d])))?,
        ),
        None => None,
    };
    let config_path = &loaded.project.config_path;
    let problems = crate::provider::http::check(bot, config_path, &case, prompt.as_deref());
    problems
        .into_result(())
        .map_err(|p| Failure::problems(&p))?;
    println!(
        "bot: {} render for {}; {} compile",
        crate::report::count_of(bot.templates().len(), "request template"),
        case.key,
        crate::report::count_of(bot.expressions().len(), "response expression"),
    );
    Ok(())
}
