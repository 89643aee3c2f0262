//! `evalgate run`: flags + config → a validated run plan → the runner → an exit code.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::cache::Cache;
use crate::cli::RunArgs;
use crate::config::{Project, ProviderKind};
use crate::evalset::{Selection, Stratum, Suite};
use crate::exit::Outcome;
use crate::judge::{Judge, JudgeSettings};
use crate::prompt::PromptTemplate;
use crate::provider::openai::{OpenaiBot, OpenaiSettings};
use crate::provider::{Bot, BotClient, demo};
use crate::ratelimit::RateLimiter;
use crate::rundir::{RESULTS_FILE, RunDir};
use crate::runner::retry::RetryPolicy;
use crate::runner::{RunPlan, execute};
use crate::scoring::language::LanguageDetector;
use crate::scoring::{OUTCOME_MODE_JUDGE, OUTCOME_MODE_RULES, Scorer};
use crate::summary::{BotInfo, PromptInfo, RunMeta, SCORING_VERSION, new_run_id, now_rfc3339};

pub fn run(config: &Path, args: &RunArgs) -> Outcome {
    let loaded = match super::load::load(config) {
        Ok(l) => l,
        Err(o) => return o,
    };
    let project = &loaded.project;
    let (selection, case_count, filters) = match select_cases(&loaded.suite, args) {
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
    // Everything the review needs is checked before the first request is sent.
    let gate = match super::review::gate_for(project, args.review.gate.as_deref()) {
        Ok(g) => g,
        Err(o) => return o,
    };
    let baseline = match super::review::baseline_for(
        project,
        args.review.baseline.as_deref(),
        args.review.no_baseline,
    ) {
        Ok(b) => b,
        Err(o) => return o,
    };
    let old_prompt = match &args.baseline_prompt_rev {
        Some(rev) => match prompt_at_revision(project, rev) {
            Ok(p) => Some((rev.clone(), p)),
            Err(message) => {
                eprintln!("error: --baseline-prompt-rev {rev}: {message}");
                return Outcome::BadInput;
            }
        },
        None => None,
    };
    let bot = match build_bot(project, concurrency, !args.no_cache) {
        Ok(b) => Arc::new(b),
        Err(message) => {
            eprintln!("error: {}: {message}", project.config_path.display());
            return Outcome::BadInput;
        }
    };
    let judge = match build_judge(project, !args.no_cache) {
        Ok(j) => j.map(|(judge, hash)| (Arc::new(judge), hash)),
        Err(o) => return o,
    };
    let mut run_id = new_run_id();
    let mut skip = std::collections::HashSet::new();
    let out_dir = match &args.resume {
        Some(dir) => {
            let resumed = match resume_state(
                dir,
                &loaded.suite.hash,
                loaded.prompt.as_ref().map(|p| p.hash.as_str()),
            ) {
                Ok(r) => r,
                Err(message) => {
                    eprintln!("error: --resume {}: {message}", dir.display());
                    return Outcome::BadInput;
                }
            };
            if let Some(id) = resumed.run_id {
                run_id = id;
            }
            eprintln!(
                "resuming {}: {} results kept",
                dir.display(),
                resumed.done.len()
            );
            skip = resumed.done;
            dir.clone()
        }
        None => {
            let dir = args
                .out
                .clone()
                .unwrap_or_else(|| project.root.join("reports").join(&run_id));
            if dir.join(RESULTS_FILE).exists() {
                eprintln!(
                    "error: {} already holds a run; choose another --out, or continue it with --resume",
                    dir.display()
                );
                return Outcome::BadInput;
            }
            dir
        }
    };
    let scorer = Arc::new(Scorer {
        detector: LanguageDetector::for_languages(&loaded.suite.languages()),
        handoff: project.config.bot.handoff.clone(),
    });
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(o) => return o,
    };
    let job = RunJob {
        project,
        suite: &loaded.suite,
        selection: &selection,
        case_count,
        filters: &filters,
        repeats,
        concurrency,
        quiet: args.quiet,
        bot: &bot,
        scorer: &scorer,
        judge: judge.as_ref().map(|(j, _)| j),
        knowledge_hash: judge.as_ref().and_then(|(_, h)| h.clone()),
    };

    // Same bot, same time: the previous prompt runs first, into a folder of the run.
    let same_run_baseline = match old_prompt {
        Some((rev, prompt)) => {
            let dir = out_dir.join("baseline-prompt");
            eprintln!(
                "running the prompt as of {rev} first, into {}",
                dir.display()
            );
            let meta = job.meta(format!("{run_id}-base"), Some(&prompt), Some(&rev));
            match runtime.block_on(job.execute(
                Some(Arc::new(prompt)),
                meta,
                dir.clone(),
                Default::default(),
            )) {
                Ok(s) if s.interrupted => return Outcome::Interrupted,
                Ok(_) => match RunDir::open(&dir) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return Outcome::Internal;
                    }
                },
                Err(e) => return failed(&e),
            }
        }
        None => None,
    };
    let prompt = loaded.prompt.map(Arc::new);
    let meta = job.meta(run_id, prompt.as_deref(), None);
    if let Err(e) = runtime.block_on(job.execute(prompt, meta, out_dir.clone(), skip)) {
        return failed(&e);
    }
    let run = match RunDir::open(&out_dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Internal;
        }
    };
    let baseline = same_run_baseline.or(baseline);
    let outcome = super::review::finish(project, &run, gate.as_ref(), baseline.as_ref(), true);
    // The process ends next: freeing a large suite case by case would only delay the exit.
    std::mem::forget(loaded.suite);
    outcome
}

/// A run that could not go on: an eval-set file changed under it is the user's to fix
/// (exit 2); anything else is evalgate's (exit 4).
fn failed(e: &crate::runner::RunError) -> Outcome {
    eprintln!("error: {e}");
    match e {
        crate::runner::RunError::Evalset(_) => Outcome::BadInput,
        _ => Outcome::Internal,
    }
}

struct RunJob<'a> {
    project: &'a Project,
    suite: &'a Suite,
    selection: &'a Selection,
    /// How many cases the selection takes.
    case_count: u64,
    filters: &'a [String],
    repeats: u32,
    concurrency: usize,
    quiet: bool,
    bot: &'a Arc<BotClient>,
    scorer: &'a Arc<Scorer>,
    judge: Option<&'a Arc<Judge>>,
    knowledge_hash: Option<String>,
}

impl RunJob<'_> {
    fn meta(
        &self,
        run_id: String,
        prompt: Option<&PromptTemplate>,
        revision: Option<&str>,
    ) -> RunMeta {
        let project = self.project;
        let path = project
            .config
            .bot
            .prompt
            .as_ref()
            .map(|p| p.value.clone())
            .map(|p| match revision {
                Some(rev) => format!("{p}@{rev}"),
                None => p,
            });
        RunMeta {
            run_id,
            started_at: now_rfc3339(),
            evalgate_version: env!("CARGO_PKG_VERSION").to_string(),
            bot: BotInfo {
                provider: project.config.bot.provider.name().to_string(),
                model: self.bot.bot.model(),
            },
            prompt: PromptInfo {
                path,
                hash: prompt.map(|p| p.hash.clone()),
                label: prompt.and_then(|p| p.label.clone()),
            },
            judge: self.judge.map(|j| j.identity()),
            judge_model: self.judge.map(|j| j.model().to_string()),
            outcome_mode: if self.judge.is_some() {
                OUTCOME_MODE_JUDGE
            } else {
                OUTCOME_MODE_RULES
            }
            .to_string(),
            rubric: if self.judge.is_some() {
                "judged"
            } else {
                "unjudged"
            }
            .to_string(),
            knowledge_hash: self.knowledge_hash.clone(),
            evalset_hash: self.suite.hash.clone(),
            evalset_files: self
                .suite
                .files
                .iter()
                .map(|f| relative_to(&f.path, &project.root))
                .collect(),
            scoring_version: SCORING_VERSION,
            repeats: self.repeats,
            shard: None,
            filters: self.filters.to_vec(),
        }
    }

    async fn execute(
        &self,
        prompt: Option<Arc<PromptTemplate>>,
        meta: RunMeta,
        out_dir: PathBuf,
        skip: std::collections::HashSet<(String, u32)>,
    ) -> Result<crate::summary::RunSummary, crate::runner::RunError> {
        let selection = self.selection.clone();
        let cases = self
            .suite
            .cases()
            .filter(move |case| case.as_ref().map_or(true, |c| selection.takes(c)));
        let plan = RunPlan {
            cases: Box::new(cases),
            case_count: self.case_count,
            repeats: self.repeats,
            concurrency: self.concurrency,
            retry: RetryPolicy::new(self.project.config.run.retries),
            prompt,
            out_dir,
            quiet: self.quiet,
            judge: self.judge.cloned(),
            pricing: self.project.config.pricing.clone(),
            skip,
            meta,
        };
        execute(plan, Arc::clone(self.bot), Arc::clone(self.scorer)).await
    }
}

struct Resumed {
    run_id: Option<String>,
    done: std::collections::HashSet<(String, u32)>,
}

/// What an interrupted run already holds. Refuses to mix results of other eval sets or
/// another prompt into one run.
fn resume_state(
    dir: &Path,
    evalset_hash: &str,
    prompt_hash: Option<&str>,
) -> Result<Resumed, String> {
    let results = dir.join(RESULTS_FILE);
    if !results.is_file() {
        return Err("no results.jsonl there to continue".into());
    }
    let dropped = crate::rundir::repair_results(&results)
        .map_err(|e| format!("{}: {e}", results.display()))?;
    if dropped > 0 {
        eprintln!(
            "dropped a torn last line ({dropped} bytes) from {}",
            results.display()
        );
    }
    let mut run_id = None;
    if let Ok(old) = crate::summary::RunSummary::read(&dir.join(crate::rundir::SUMMARY_FILE)) {
        if old.meta.evalset_hash != evalset_hash {
            return Err("the eval sets changed since that run started; start a new run".into());
        }
        if old.meta.prompt.hash.as_deref() != prompt_hash {
            return Err("the prompt changed since that run started; start a new run".into());
        }
        run_id = Some(old.meta.run_id);
    }
    let done = crate::rundir::finished_ids(&results)?;
    Ok(Resumed { run_id, done })
}

/// The prompt template as committed at a git revision.
fn prompt_at_revision(project: &Project, rev: &str) -> Result<PromptTemplate, String> {
    let path = project
        .prompt_path()
        .ok_or("the config names no bot.prompt")?;
    let absolute = path
        .canonicalize()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let folder = absolute.parent().ok_or("the prompt has no folder")?;
    let git = |args: &[&str]| -> Result<String, String> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(folder)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let top = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?.trim());
    let top = top.canonicalize().unwrap_or(top);
    let relative = absolute
        .strip_prefix(&top)
        .map_err(|_| "the prompt is outside the git repository".to_string())?;
    let spec = format!("{rev}:{}", relative.to_string_lossy().replace('\\', "/"));
    let text = git(&["show", &spec])?;
    PromptTemplate::from_text(&path, text).map_err(|d| d.to_string())
}

/// Reads `--lang`, `--stratum` and `--filter`; returns the selection, how many cases it
/// takes and a record of the filters. A selection that takes no case is an error.
fn select_cases(suite: &Suite, args: &RunArgs) -> Result<(Selection, u64, Vec<String>), String> {
    let mut selection = Selection {
        languages: args.langs.clone(),
        ..Selection::default()
    };
    for name in &args.strata {
        selection.strata.push(Stratum::parse(name).ok_or_else(|| {
            format!("--stratum {name}: unknown stratum (routine, edge, refusal or adversarial)")
        })?);
    }
    for g in &args.filter {
        selection
            .patterns
            .push(glob::Pattern::new(g).map_err(|e| format!("--filter {g}: {e}"))?);
    }
    let count = selection.count(suite) as u64;
    if count == 0 {
        return Err("no case matches the --lang/--stratum/--filter selection".into());
    }
    let mut filters = Vec::new();
    filters.extend(args.langs.iter().map(|l| format!("lang={l}")));
    filters.extend(args.strata.iter().map(|s| format!("stratum={s}")));
    filters.extend(args.filter.iter().map(|f| format!("filter={f}")));
    Ok((selection, count, filters))
}

/// The judge, if the config has one, and the hash of its knowledge-base files.
pub fn build_judge(
    project: &Project,
    use_cache: bool,
) -> Result<Option<(Judge, Option<String>)>, Outcome> {
    let Some(cfg) = &project.config.judge else {
        return Ok(None);
    };
    let fail = |d: crate::diagnostic::Diagnostic| {
        eprintln!("error: {d}");
        Outcome::BadInput
    };
    let client = OpenaiBot::new(OpenaiSettings {
        base_url: cfg.base_url.clone().unwrap_or_default(),
        model: cfg.model.clone().unwrap_or_default(),
        api_key: project.judge_api_key(),
        temperature: Some(cfg.temperature.unwrap_or(0.0)),
        max_tokens: cfg.max_tokens,
        timeout: Duration::from_secs_f64(cfg.timeout_s),
        handoff_tool: None,
        max_connections: cfg.concurrency,
    })
    .map_err(|m| {
        fail(crate::diagnostic::Diagnostic::new(
            &project.config_path,
            format!("judge: {m}"),
        ))
    })?;
    let prompt_text = match &cfg.prompt {
        Some(p) => {
            let path = project.resolve(&p.value);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                fail(crate::diagnostic::Diagnostic::new(
                    &path,
                    format!("cannot read judge prompt: {e}"),
                ))
            })?;
            Some((text, path))
        }
        None => None,
    };
    let knowledge_files = if project.config.knowledge.is_empty() {
        Vec::new()
    } else {
        crate::evalset::find_files(
            &project.root,
            &project.config.knowledge,
            &project.config_path,
        )
        .map_err(|d| {
            eprintln!("{d}");
            Outcome::BadInput
        })?
    };
    let (knowledge, hash) =
        crate::judge::load_knowledge(&knowledge_files, &project.root).map_err(fail)?;
    let judge = Judge::new(JudgeSettings {
        client,
        model: cfg.model.clone().unwrap_or_default(),
        prompt_text,
        concurrency: cfg.concurrency,
        retries: cfg.retries,
        cache: use_cache.then(|| Cache::new(project.root.join(CACHE_DIR).join("judge"))),
        knowledge,
        response_format: cfg.response_format,
        limiter: RateLimiter::new(cfg.requests_per_minute, cfg.tokens_per_minute),
    })
    .map_err(fail)?;
    Ok(Some((judge, hash)))
}

/// Where response caches live, relative to the project (git-ignored).
pub const CACHE_DIR: &str = ".evalgate/cache";

/// The bot behind its cache and rate limits. Responses are cached only where a repeat is
/// expected to give the same answer: an LLM endpoint at temperature 0.
fn build_bot(project: &Project, concurrency: usize, use_cache: bool) -> Result<BotClient, String> {
    let cfg = &project.config.bot;
    let bot = raw_bot(project, concurrency)?;
    let cacheable = use_cache && cfg.provider != ProviderKind::Demo && cfg.temperature == Some(0.0);
    let identity = format!(
        "{}\u{0}{}\u{0}{}\u{0}{:?}\u{0}{:?}\u{0}{:?}",
        cfg.provider.name(),
        cfg.base_url.as_deref().unwrap_or(""),
        bot.model(),
        cfg.temperature,
        cfg.max_tokens,
        cfg.handoff.tool
    );
    let cache = cacheable.then(|| Cache::new(project.root.join(CACHE_DIR).join("bot")));
    let limiter = RateLimiter::new(
        project.config.run.requests_per_minute,
        project.config.run.tokens_per_minute,
    );
    Ok(BotClient::new(bot, cache, identity, limiter))
}

fn raw_bot(project: &Project, concurrency: usize) -> Result<Bot, String> {
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
            OpenaiBot::new(settings).map(|b| Bot::Openai(Box::new(b)))
        }
    }
}

fn relative_to(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .map(PathBuf::from)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}
