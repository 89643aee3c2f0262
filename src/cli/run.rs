//! `evalgate run`: flags + config → a validated run plan → the runner → an exit code.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::cli::RunArgs;
use crate::config::{Project, ProviderKind};
use crate::evalset::{Case, ExpectedOutcome, Stratum};
use crate::exit::Outcome;
use crate::provider::openai::{OpenaiBot, OpenaiSettings};
use crate::provider::{Bot, demo};
use crate::report::terminal;
use crate::result::ObservedOutcome;
use crate::runner::output::{RESULTS_FILE, read_results};
use crate::runner::retry::RetryPolicy;
use crate::runner::{RunPlan, execute};
use crate::scoring::Scorer;
use crate::scoring::language::LanguageDetector;
use crate::summary::{BotInfo, PromptInfo, RunMeta, SCORING_VERSION, new_run_id, now_rfc3339};

pub fn run(config: &Path, args: &RunArgs) -> Outcome {
    let loaded = match super::load::load(config) {
        Ok(l) => l,
        Err(o) => return o,
    };
    let project = &loaded.project;
    let (cases, filters) = match select_cases(&loaded.suite.cases, args) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("error: {message}");
            return Outcome::BadInput;
        }
    };
    let repeats = args.repeats.unwrap_or(project.config.run.repeats);
    let concurrency = args.concurrency.unwrap_or(project.config.run.concurrency);
    if repeats == 0 || concurrency == 0 {
        eprintln!("error: --repeats and --concurrency must be at least 1");
        return Outcome::BadInput;
    }
    let bot = match build_bot(project, concurrency) {
        Ok(b) => b,
        Err(message) => {
            eprintln!("error: {}: {message}", project.config_path.display());
            return Outcome::BadInput;
        }
    };
    let run_id = new_run_id();
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| project.root.join("reports").join(&run_id));
    if out_dir.join(RESULTS_FILE).exists() {
        eprintln!(
            "error: {} already holds a run; choose another --out",
            out_dir.display()
        );
        return Outcome::BadInput;
    }
    let prompt = loaded.prompt.map(Arc::new);
    let meta = RunMeta {
        run_id,
        started_at: now_rfc3339(),
        evalgate_version: env!("CARGO_PKG_VERSION").to_string(),
        bot: BotInfo {
            provider: project.config.bot.provider.name().to_string(),
            model: bot.model(),
        },
        prompt: PromptInfo {
            path: project.config.bot.prompt.clone(),
            hash: prompt.as_ref().map(|p| p.hash.clone()),
            label: prompt.as_ref().and_then(|p| p.label.clone()),
        },
        judge: None,
        evalset_hash: loaded.suite.hash.clone(),
        evalset_files: loaded
            .suite
            .files
            .iter()
            .map(|f| relative_to(f, &project.root))
            .collect(),
        scoring_version: SCORING_VERSION,
        repeats,
        shard: None,
        filters,
    };
    let scorer = Scorer {
        detector: LanguageDetector::for_languages(&loaded.suite.languages()),
        handoff: project.config.bot.handoff.clone(),
    };
    let plan = RunPlan {
        cases,
        repeats,
        concurrency,
        retry: RetryPolicy::new(project.config.run.retries),
        prompt,
        out_dir: out_dir.clone(),
        quiet: args.quiet,
        meta,
    };
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(o) => return o,
    };
    let summary = match runtime.block_on(execute(plan, Arc::new(bot), Arc::new(scorer))) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Internal;
        }
    };
    let missed = missed_escalations(&out_dir.join(RESULTS_FILE));
    print!("{}", terminal::render(&summary, &out_dir, &missed));
    if summary.interrupted {
        eprintln!("interrupted: {} of {} results kept in {}", summary.written, summary.planned, out_dir.display());
        return Outcome::Interrupted;
    }
    let overall = &summary.metrics.overall;
    let error_rate = overall.error_rate.unwrap_or(0.0);
    let max_error_rate = project.config.run.max_error_rate;
    if overall.results > 0 && overall.errors == overall.results {
        eprintln!("incomplete: every request failed — is the bot reachable? (see `error` in results.jsonl)");
        return Outcome::Incomplete;
    }
    if error_rate > max_error_rate {
        eprintln!(
            "incomplete: {} of {} results are errors ({:.1}%), above run.max_error_rate {:.1}%",
            overall.errors,
            overall.results,
            error_rate * 100.0,
            max_error_rate * 100.0
        );
        return Outcome::Incomplete;
    }
    Outcome::Passed
}

/// Applies `--lang`, `--stratum` and `--filter`; returns the cases and a record of the filters.
fn select_cases(all: &[Arc<Case>], args: &RunArgs) -> Result<(Vec<Arc<Case>>, Vec<String>), String> {
    let mut strata = Vec::new();
    for name in &args.strata {
        strata.push(Stratum::parse(name).ok_or_else(|| {
            format!("--stratum {name}: unknown stratum (routine, edge, refusal or adversarial)")
        })?);
    }
    let pattern = match &args.filter {
        Some(g) => Some(glob::Pattern::new(g).map_err(|e| format!("--filter {g}: {e}"))?),
        None => None,
    };
    let cases: Vec<Arc<Case>> = all
        .iter()
        .filter(|c| args.langs.is_empty() || args.langs.iter().any(|l| l == &c.language))
        .filter(|c| strata.is_empty() || strata.contains(&c.stratum))
        .filter(|c| pattern.as_ref().is_none_or(|p| p.matches(&c.key)))
        .cloned()
        .collect();
    if cases.is_empty() {
        return Err("no case matches the --lang/--stratum/--filter selection".into());
    }
    let mut filters = Vec::new();
    filters.extend(args.langs.iter().map(|l| format!("lang={l}")));
    filters.extend(args.strata.iter().map(|s| format!("stratum={s}")));
    filters.extend(args.filter.iter().map(|f| format!("filter={f}")));
    Ok((cases, filters))
}

fn build_bot(project: &Project, concurrency: usize) -> Result<Bot, String> {
    let bot = &project.config.bot;
    match bot.provider {
        ProviderKind::Demo => Ok(Bot::Demo(demo::DemoBot)),
        ProviderKind::Openai => {
            let settings = OpenaiSettings {
                base_url: bot.base_url.clone().unwrap_or_default(),
                model: bot.model.clone().unwrap_or_default(),
                api_key: project.api_key(),
                temperature: bot.temperature,
                max_tokens: bot.max_tokens,
                timeout: Duration::from_secs_f64(bot.timeout_s),
                handoff_tool: bot.handoff.tool.clone(),
                max_connections: concurrency,
            };
            OpenaiBot::new(settings).map(Bot::Openai)
        }
    }
}

fn missed_escalations(results: &Path) -> Vec<String> {
    let mut missed = Vec::new();
    let _ = read_results(results, |r| {
        if r.expected_outcome == ExpectedOutcome::Escalate
            && !matches!(r.observed_outcome, ObservedOutcome::Escalated | ObservedOutcome::Error)
        {
            missed.push(r.key);
        }
    });
    missed.sort();
    missed.dedup();
    missed
}

fn relative_to(path: &Path, root: &Path) -> String {
    path.strip_prefix(root).map(PathBuf::from).unwrap_or_else(|_| path.to_path_buf()).display().to_string()
}
