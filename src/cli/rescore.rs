//! `evalgate rescore RUN`: the saved transcripts, scored again with today's rules and
//! judge, into a new run directory. The bot is not called.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::cli::RescoreArgs;
use crate::exit::{Failure, Outcome};
use crate::language::LanguageDetector;
use crate::rundir::{RESULTS_FILE, RunDir};
use crate::runner::{Rescore, rescore};
use crate::scoring::{OUTCOME_MODE_JUDGE, OUTCOME_MODE_RULES, Scorer};
use crate::summary::{SCORING_VERSION, new_run_id, now_rfc3339};

pub fn run(config: &Path, args: &RescoreArgs) -> Result<Outcome, Failure> {
    let loaded = super::load::load(config)?;
    let project = &loaded.project;
    let source = RunDir::open(&args.run).map_err(Failure::bad_input)?;
    let judge = super::run::build_judge(project, !args.no_cache)?;
    let run_id = new_run_id();
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| project.root.join("reports").join(&run_id));
    if out_dir.join(RESULTS_FILE).exists() {
        return Err(Failure::bad_input(format!(
            "{} already holds a run; choose another --out",
            out_dir.display()
        )));
    }
    let mut meta = source.summary.meta.clone();
    meta.run_id = run_id;
    meta.started_at = now_rfc3339();
    meta.evalgate_version = env!("CARGO_PKG_VERSION").to_string();
    meta.scoring_version = SCORING_VERSION;
    meta.evalset_hash = loaded.suite.hash.clone();
    meta.judge = judge.as_ref().map(|(j, _)| j.identity());
    meta.judge_model = judge.as_ref().map(|(j, _)| j.model().to_string());
    meta.knowledge_hash = judge.as_ref().and_then(|(_, h)| h.clone());
    meta.outcome_mode = if judge.is_some() {
        OUTCOME_MODE_JUDGE
    } else {
        OUTCOME_MODE_RULES
    }
    .to_string();
    meta.rubric = if judge.is_some() {
        "judged"
    } else {
        "unjudged"
    }
    .to_string();
    // Where the transcripts came from; not a filter: two runs re-scored alike stay
    // comparable.
    meta.rescored_from = Some(source.summary.meta.run_id.clone());
    let cases: HashMap<String, Arc<crate::evalset::Case>> = match loaded.suite.all_cases() {
        Ok(cases) => cases.into_iter().map(|c| (c.key.clone(), c)).collect(),
        Err(problems) => return Err(Failure::problems(&problems)),
    };
    let scorer = Arc::new(Scorer {
        detector: LanguageDetector::for_languages(&loaded.suite.languages()),
        handoff: project.config.bot.handoff().clone(),
        refusal: project.config.refusal.clone(),
    });
    let job = Rescore {
        source: &source,
        cases,
        out_dir: out_dir.clone(),
        concurrency: project.config.run.concurrency,
        quiet: args.quiet,
        judge: judge.map(|(j, _)| Arc::new(j)),
        pricing: project.config.pricing.clone(),
        meta,
    };
    let runtime = super::runtime()?;
    let (_summary, skipped) = runtime.block_on(rescore(job, scorer))?;
    if skipped > 0 {
        eprintln!(
            "warning: {} name cases that are no longer in the eval sets; they were left out",
            crate::report::count_of(skipped, "result")
        );
    }
    let run = RunDir::open(&out_dir).map_err(Failure::internal)?;
    let gate = super::review::gate_for(project, None)?;
    let calibration = super::review::calibration_for(Some(project))?;
    super::review::finish(project, &run, gate.as_ref(), None, calibration.as_ref())
}
