//! `evalgate run`: flags + config → a validated run plan → the runner → an exit code.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cache::Cache;
use crate::cli::RunArgs;
use crate::config::Project;
use crate::evalset::{Selection, Stratum, Suite};
use crate::exit::{Failure, Outcome};
use crate::judge::{Judge, JudgeSettings};
use crate::language::LanguageDetector;
use crate::prompt::PromptTemplate;
use crate::provider::BotClient;
use crate::ratelimit::RateLimiter;
use crate::retry::RetryPolicy;
use crate::rundir::{RESULTS_FILE, RunDir};
use crate::runner::{RunPlan, execute};
use crate::scoring::{OUTCOME_MODE_JUDGE, OUTCOME_MODE_RULES, Scorer};
use crate::summary::{
    BotInfo, PromptInfo, RunMeta, SCORING_VERSION, SelectionInfo, new_run_id, now_rfc3339,
};

pub fn run(config: &Path, args: &RunArgs) -> Result<Outcome, Failure> {
    let loaded = super::load::load(config)?;
    let project = &loaded.project;
    // A resumed run keeps what it was started with; it is read before anything else.
    let resumed = match &args.resume {
        Some(dir) => Some(Resumed::read(dir).map_err(|message| {
            Failure::bad_input(format!("--resume {}: {message}", dir.display()))
        })?),
        None => None,
    };
    let old_meta = resumed.as_ref().map(|r| &r.meta);
    let shard = super::shard::for_run(args, old_meta)?;
    let mut requested = requested_selection(args).map_err(Failure::bad_input)?;
    if let Some(old) = old_meta {
        // Counted when the run started; not part of what the flags ask for.
        requested.drafts = old.selection.drafts;
    }
    let selection_info = match old_meta {
        Some(old) if !requested.is_partial() => old.selection.clone(),
        Some(old) if old.selection != requested => {
            return Err(Failure::bad_input(format!(
                "--resume: that run was started with the selection `{}`; resume it with the same flags, or with none",
                old.selection.describe()
            )));
        }
        _ => requested,
    };
    let (selection, case_count) =
        select_cases(&loaded.suite, &selection_info, shard).map_err(Failure::bad_input)?;
    let mut selection_info = selection_info;
    selection_info.drafts = selection.count_drafts(&loaded.suite) as u64;
    if selection_info.drafts > 0 && args.resume.is_none() {
        eprintln!(
            "including {}: this run is for review, the gate will not pass it",
            crate::report::count_of(selection_info.drafts, "unreviewed draft case")
        );
    }
    let repeats = match (args.repeats, old_meta) {
        (Some(k), Some(old)) if k != old.repeats => {
            return Err(Failure::bad_input(format!(
                "--resume: that run was started with --repeats {}; resume it with the same count",
                old.repeats
            )));
        }
        (Some(k), _) => k,
        (None, Some(old)) => old.repeats,
        (None, None) => project.config.run.repeats,
    };
    let concurrency = args.concurrency.unwrap_or(project.config.run.concurrency);
    if repeats == 0 || concurrency == 0 {
        return Err(Failure::bad_input(
            "--repeats and --concurrency must be at least 1",
        ));
    }
    // Everything the review needs is checked before the first request is sent.
    let gate = super::review::gate_for(project, args.review.gate.as_deref())?;
    let calibration = super::review::calibration_for(Some(project))?;
    // A shard is diffed only once merged.
    let baseline = super::review::baseline_for(
        project,
        args.review.baseline.as_deref(),
        args.review.no_baseline || shard.is_some(),
    )?;
    let old_prompt = match &args.baseline_prompt_rev {
        Some(rev) => Some((
            rev.clone(),
            prompt_at_revision(project, rev).map_err(|message| {
                Failure::bad_input(format!("--baseline-prompt-rev {rev}: {message}"))
            })?,
        )),
        None => None,
    };
    let run_id = match old_meta {
        Some(old) => old.run_id.clone(),
        None => new_run_id(),
    };
    let out_dir = match &args.resume {
        Some(dir) => dir.clone(),
        None => {
            let dir = args
                .out
                .clone()
                .unwrap_or_else(|| project.root.join("reports").join(&run_id));
            if dir.join(RESULTS_FILE).exists() {
                return Err(Failure::bad_input(format!(
                    "{} already holds a run; choose another --out, or continue it with --resume",
                    dir.display()
                )));
            }
            dir
        }
    };
    // N shards together keep to the bot's and the judge's limits.
    let share = shard.map_or(1, |s| s.share());
    let bot = build_bot(project, concurrency, !args.no_cache, &out_dir, share)
        .map(Arc::new)
        .map_err(|message| {
            Failure::bad_input(format!("{}: {message}", project.config_path.display()))
        })?;
    let judge = build_judge_sharing(project, !args.no_cache, share)?
        .map(|(judge, hash)| (Arc::new(judge), hash));
    let simulator = super::simulator::build_simulator(project, concurrency)?.map(Arc::new);
    if let Some(simulator) = &simulator {
        super::simulator::check_prompt(simulator, &loaded.suite)?;
    }
    let scorer = Arc::new(Scorer {
        detector: LanguageDetector::for_languages(&loaded.suite.languages()),
        handoff: project.config.bot.handoff().clone(),
        refusal: project.config.refusal.clone(),
    });
    let runtime = super::runtime()?;
    let job = RunJob {
        project,
        suite: &loaded.suite,
        selection: &selection,
        selection_info: &selection_info,
        shard,
        case_count,
        repeats,
        bot_version: args
            .bot_version
            .clone()
            .or_else(|| project.config.bot.version().map(str::to_string)),
        concurrency,
        quiet: args.quiet,
        bot: &bot,
        scorer: &scorer,
        judge: judge.as_ref().map(|(j, _)| j),
        simulator: simulator.as_ref(),
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
            let summary = runtime.block_on(job.execute(
                Some(Arc::new(prompt)),
                meta,
                dir.clone(),
                Default::default(),
            ))?;
            if summary.interrupted {
                return Ok(Outcome::Interrupted);
            }
            Some(RunDir::open(&dir).map_err(Failure::internal)?)
        }
        None => None,
    };
    let prompt = loaded.prompt.map(Arc::new);
    let mut meta = job.meta(run_id, prompt.as_deref(), None);
    let mut skip = std::collections::HashSet::new();
    if let (Some(resumed), Some(dir)) = (&resumed, &args.resume) {
        let conflicts = resume_conflicts(&resumed.meta, &meta);
        if !conflicts.is_empty() {
            let listed: String = conflicts.iter().map(|c| format!("\n  {c}")).collect();
            return Err(Failure::bad_input(format!(
                "--resume {}: that run cannot be continued with this setup; start a new run:{listed}",
                dir.display()
            )));
        }
        skip = resumed.finished(dir).map_err(|message| {
            Failure::bad_input(format!("--resume {}: {message}", dir.display()))
        })?;
        eprintln!(
            "resuming {}: {} kept",
            dir.display(),
            crate::report::count_of(skip.len(), "result")
        );
        meta.started_at = resumed.meta.started_at.clone();
    }
    runtime.block_on(job.execute(prompt, meta, out_dir.clone(), skip))?;
    let run = RunDir::open(&out_dir).map_err(Failure::internal)?;
    if let Some(shard) = shard {
        return super::shard::finish(project, &run, shard, gate.as_ref());
    }
    let baseline = same_run_baseline.or(baseline);
    // The cases are no longer needed. Freeing 20,000 of them takes about 25 ms (1.5 % of
    // such a run): done on a thread of its own, it overlaps the writing of the reports.
    let suite = loaded.suite;
    let freeing = std::thread::spawn(move || drop(suite));
    let outcome = super::review::finish(
        project,
        &run,
        gate.as_ref(),
        baseline.as_ref(),
        calibration.as_ref(),
    );
    let _ = freeing.join();
    outcome
}

struct RunJob<'a> {
    project: &'a Project,
    suite: &'a Suite,
    selection: &'a Selection,
    selection_info: &'a SelectionInfo,
    shard: Option<crate::shard::Shard>,
    /// How many cases the selection takes.
    case_count: u64,
    repeats: u32,
    bot_version: Option<String>,
    concurrency: usize,
    quiet: bool,
    bot: &'a Arc<BotClient>,
    scorer: &'a Arc<Scorer>,
    judge: Option<&'a Arc<Judge>>,
    simulator: Option<&'a Arc<crate::simulator::Simulator>>,
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
            .prompt()
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
                provider: project.config.bot.provider().name().to_string(),
                model: self.bot.model(),
                base_url: project.config.bot.base_url().map(str::to_string),
                version: self.bot_version.clone(),
            },
            prompt: PromptInfo {
                path,
                hash: prompt.map(|p| p.hash.clone()),
                label: prompt.and_then(|p| p.label.clone()),
            },
            judge: self.judge.map(|j| j.identity()),
            judge_model: self.judge.map(|j| j.model().to_string()),
            judge_prompt_hash: self.judge.map(|j| j.prompt_hash.clone()),
            simulator: self.simulator.map(|s| s.identity()),
            simulator_model: self.simulator.map(|s| s.model().to_string()),
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
            shard: self.shard,
            filters: filter_record(self.selection_info),
            selection: self.selection_info.clone(),
            rescored_from: None,
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
            simulator: self.simulator.cloned(),
            pricing: self.project.config.pricing.clone(),
            skip,
            meta,
        };
        execute(plan, Arc::clone(self.bot), Arc::clone(self.scorer)).await
    }
}

/// An interrupted or killed run to continue: what it was started with.
struct Resumed {
    meta: RunMeta,
}

impl Resumed {
    /// Reads the run's summary (written when it started, so a killed run has one too).
    fn read(dir: &Path) -> Result<Resumed, String> {
        if !dir.join(RESULTS_FILE).is_file() {
            return Err("no results.jsonl there to continue".into());
        }
        let summary = crate::summary::RunSummary::read(&dir.join(crate::rundir::SUMMARY_FILE))
            .map_err(|e| {
                format!("{e}; without it evalgate cannot tell which bot, prompt and eval sets the run used")
            })?;
        Ok(Resumed { meta: summary.meta })
    }

    /// The (key, repeat) of every result kept, after dropping a torn last line.
    fn finished(&self, dir: &Path) -> Result<std::collections::HashSet<(String, u32)>, String> {
        let results = dir.join(RESULTS_FILE);
        let dropped = crate::rundir::repair_results(&results)
            .map_err(|e| format!("{}: {e}", results.display()))?;
        if dropped > 0 {
            eprintln!(
                "dropped a torn last line ({dropped} bytes) from {}",
                results.display()
            );
        }
        crate::rundir::finished_ids(&results)
    }
}

/// Why results of the `old` run and of a run set up as `new` must not be mixed into one:
/// another bot, prompt, judge or eval sets would make a run of two halves that measure
/// different things.
fn resume_conflicts(old: &RunMeta, new: &RunMeta) -> Vec<String> {
    let mut conflicts = Vec::new();
    let mut differ = |what: &str, a: String, b: String| {
        if a != b {
            conflicts.push(format!("{what} changed: {a} → {b}"));
        }
    };
    let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
    differ(
        "the bot provider",
        old.bot.provider.clone(),
        new.bot.provider.clone(),
    );
    differ(
        "the bot model",
        old.bot.model.clone(),
        new.bot.model.clone(),
    );
    differ(
        "the bot base URL",
        or_none(&old.bot.base_url),
        or_none(&new.bot.base_url),
    );
    differ(
        "the bot version",
        or_none(&old.bot.version),
        or_none(&new.bot.version),
    );
    differ(
        "the prompt",
        or_none(&old.prompt.hash),
        or_none(&new.prompt.hash),
    );
    differ(
        "the eval sets",
        old.evalset_hash.clone(),
        new.evalset_hash.clone(),
    );
    differ("the judge", or_none(&old.judge), or_none(&new.judge));
    differ(
        "the customer simulator",
        or_none(&old.simulator),
        or_none(&new.simulator),
    );
    differ(
        "the judge's knowledge files",
        or_none(&old.knowledge_hash),
        or_none(&new.knowledge_hash),
    );
    if old.scoring_version != new.scoring_version {
        conflicts.push(format!(
            "the scoring version changed: {} → {}",
            old.scoring_version, new.scoring_version
        ));
    }
    conflicts
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

/// The selection `--lang`, `--stratum` and `--filter` ask for, as given.
fn requested_selection(args: &RunArgs) -> Result<SelectionInfo, String> {
    let mut strata = Vec::new();
    for name in &args.strata {
        strata.push(Stratum::parse(name).ok_or_else(|| {
            format!("--stratum {name}: unknown stratum (routine, edge, refusal or adversarial)")
        })?);
    }
    Ok(SelectionInfo {
        languages: args.langs.clone(),
        strata,
        patterns: args.filter.clone(),
        include_drafts: args.include_drafts,
        drafts: 0,
    })
}

/// The selection as the summary's `filters` records it.
fn filter_record(selection: &SelectionInfo) -> Vec<String> {
    let mut filters = Vec::new();
    filters.extend(selection.languages.iter().map(|l| format!("lang={l}")));
    filters.extend(selection.strata.iter().map(|s| format!("stratum={s}")));
    filters.extend(selection.patterns.iter().map(|f| format!("filter={f}")));
    filters
}

/// The cases a selection takes, and how many. A selection that takes no case, an unknown
/// stratum or a bad glob is an error.
fn select_cases(
    suite: &Suite,
    info: &SelectionInfo,
    shard: Option<crate::shard::Shard>,
) -> Result<(Selection, u64), String> {
    let mut selection = Selection {
        languages: info.languages.clone(),
        strata: info.strata.clone(),
        include_drafts: info.include_drafts,
        shard,
        ..Selection::default()
    };
    for g in &info.patterns {
        selection
            .patterns
            .push(glob::Pattern::new(g).map_err(|e| format!("--filter {g}: {e}"))?);
    }
    let count = selection.count(suite) as u64;
    if count == 0
        && let Some(shard) = shard
    {
        let whole = Selection {
            shard: None,
            ..selection.clone()
        }
        .count(suite);
        return Err(format!(
            "no case of the selection ({}) falls in shard {shard}; run fewer shards",
            crate::report::count_of(whole, "case")
        ));
    }
    if count == 0 {
        let with_drafts = Selection {
            include_drafts: true,
            ..selection.clone()
        };
        if !info.include_drafts && with_drafts.count(suite) > 0 {
            return Err(
                "every case the selection takes is a draft (`status: draft`): approve them with `evalgate approve FILE`, or run them with --include-drafts"
                    .into(),
            );
        }
        return Err("no case matches the --lang/--stratum/--filter selection".into());
    }
    Ok((selection, count))
}

/// The judge, if the config has one, and the hash of its knowledge-base files.
pub fn build_judge(
    project: &Project,
    use_cache: bool,
) -> Result<Option<(Judge, Option<String>)>, Failure> {
    build_judge_sharing(project, use_cache, 1)
}

/// [`build_judge`] for one of `share` shards: it takes 1/`share` of the judge's limits.
fn build_judge_sharing(
    project: &Project,
    use_cache: bool,
    share: u32,
) -> Result<Option<(Judge, Option<String>)>, Failure> {
    let Some(cfg) = &project.config.judge else {
        return Ok(None);
    };
    let fail = Failure::from;
    let knowledge_files = if project.config.knowledge.is_empty() {
        Vec::new()
    } else {
        crate::evalset::find_files(
            &project.root,
            &project.config.knowledge,
            &project.config_path,
        )
        .map_err(|d| Failure::problems(&d))?
    };
    let (knowledge, hash) =
        crate::judge::load_knowledge(&knowledge_files, &project.root).map_err(fail)?;
    if cfg.provider == crate::config::ProviderKind::Demo {
        return Ok(Some((Judge::demo(knowledge), hash)));
    }
    let client = crate::provider::build_llm(cfg, project.judge_api_key()).map_err(|m| {
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
    let client = Arc::new(crate::provider::Redacting {
        inner: client,
        secrets: Arc::new(project.secrets()),
    });
    let judge = Judge::new(JudgeSettings {
        client,
        model: cfg.model.clone().unwrap_or_default(),
        prompt_text,
        concurrency: cfg.concurrency,
        retries: cfg.retries,
        cache: use_cache.then(|| Cache::new(project.root.join(CACHE_DIR).join("judge"))),
        knowledge,
        response_format: cfg.response_format,
        limiter: RateLimiter::share_of(cfg.requests_per_minute, cfg.tokens_per_minute, share),
    })
    .map_err(fail)?;
    Ok(Some((judge, hash)))
}

/// Where response caches live, relative to the project (git-ignored).
pub const CACHE_DIR: &str = ".evalgate/cache";

/// The bot behind its cache and rate limits. The provider says whether its answers may
/// be replayed from the cache.
fn build_bot(
    project: &Project,
    concurrency: usize,
    use_cache: bool,
    run_dir: &Path,
    share: u32,
) -> Result<BotClient, String> {
    let provider = crate::provider::build(project, concurrency, run_dir)?;
    let cache = use_cache.then(|| Cache::new(project.root.join(CACHE_DIR).join("bot")));
    let limiter = RateLimiter::share_of(
        project.config.run.requests_per_minute,
        project.config.run.tokens_per_minute,
        share,
    );
    Ok(BotClient::new(provider, cache, limiter).redacting(Arc::new(project.secrets())))
}

fn relative_to(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .map(PathBuf::from)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}
