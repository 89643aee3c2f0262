//! `evalgate expand`: flags → the source cases and their target files → drafts from the
//! model, checked and appended → a summary of what was written, dropped and spent.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::ExpandArgs;
use crate::config::{JudgeConfig, ProviderKind, ResponseFormat};
use crate::diagnostic::Diagnostic;
use crate::evalset::Case;
use crate::exit::{Failure, Outcome};
use crate::expand::{Drafter, Kind, Prompts, Settings, Source, Target, expand};
use crate::provider::JsonMode;
use crate::retry::RetryPolicy;

pub fn run(config: &Path, args: &ExpandArgs) -> Result<Outcome, Failure> {
    let kind = args.kind.into();
    if args.files.is_empty() && args.langs.is_empty() && args.cases.is_empty() {
        return Err(Failure::bad_input(
            "name the cases to draft from: --file FILE, --lang L or --case ID (each repeatable)",
        ));
    }
    match (kind, &args.to) {
        (Kind::Translate, None) => {
            return Err(Failure::bad_input(
                "--kind translate needs --to LANG: the language of the file the translations go to",
            ));
        }
        (k, Some(_)) if k != Kind::Translate => {
            return Err(Failure::bad_input("--to is only for --kind translate"));
        }
        _ => {}
    }
    let count = args.count.unwrap_or(kind.default_count());
    if count == 0 {
        return Err(Failure::bad_input("--count must be at least 1"));
    }
    let loaded = super::load::load(config)?;
    let project = &loaded.project;
    let cfg = llm_config(project)?;
    let cases = loaded
        .suite
        .all_cases()
        .map_err(|p| Failure::problems(&p))?;

    let chosen = choose(&cases, args)?;
    let mut skipped: Vec<String> = Vec::new();
    let mut eligible: Vec<Arc<Case>> = Vec::new();
    for case in chosen {
        match kind.refuses(&case) {
            Some(why) => skipped.push(format!("{}: {why}", case.key)),
            None => eligible.push(case),
        }
    }
    for line in &skipped {
        eprintln!("skipped {line}");
    }
    if eligible.is_empty() {
        return Err(Failure::bad_input(format!(
            "no case to draft {kind} cases from"
        )));
    }
    if let Some(n) = args.sample {
        // A seeded sample: the same seed drafts from the same cases.
        let mut rng = fastrand::Rng::with_seed(args.seed);
        let mut order: Vec<usize> = (0..eligible.len()).collect();
        rng.shuffle(&mut order);
        order.truncate(n);
        order.sort_unstable();
        eligible = order
            .into_iter()
            .map(|i| Arc::clone(&eligible[i]))
            .collect();
    }
    let sources = eligible
        .into_iter()
        .map(|case| {
            let target = target_of(&case, args.to.as_deref(), &cases)?;
            Ok(Source { case, target })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let mut taken: HashMap<String, HashSet<String>> = HashMap::new();
    for case in &cases {
        taken
            .entry(case.language.clone())
            .or_default()
            .insert(case.id.clone());
    }

    let at_config = |message: String| Failure::from(Diagnostic::new(&project.config_path, message));
    if let Some(var) = &cfg.api_key_env
        && project.expand_api_key().is_none()
    {
        return Err(Failure::from(
            Diagnostic::new(
                &project.config_path,
                format!(
                    "api_key_env names `{}`, but that environment variable is not set",
                    var.value
                ),
            )
            .at_location(var.referenced),
        ));
    }
    let drafter = if cfg.provider == ProviderKind::Demo {
        if kind != Kind::Typo {
            return Err(at_config(format!(
                "the demo drafter (`provider: demo`) writes only --kind typo; {kind} drafts need an LLM in `expand:` (provider openai or anthropic)"
            )));
        }
        Drafter::Demo
    } else {
        let client = crate::provider::build_llm(&cfg, project.expand_api_key())
            .map_err(|m| at_config(format!("expand: {m}")))?;
        Drafter::Llm(Arc::new(crate::provider::Redacting {
            inner: client,
            secrets: Arc::new(project.secrets()),
        }))
    };
    let system = match &cfg.prompt {
        Some(p) => {
            let path = project.resolve(&p.value);
            Some(std::fs::read_to_string(&path).map_err(|e| {
                Failure::from(Diagnostic::new(
                    &path,
                    format!("cannot read expand prompt: {e}"),
                ))
            })?)
        }
        None => None,
    };
    let prompts = Prompts::new(system).map_err(at_config)?;
    let settings = Settings {
        drafter,
        prompts,
        kind,
        count,
        retry: RetryPolicy::new(cfg.retries),
        json: match cfg.response_format {
            ResponseFormat::None => JsonMode::None,
            ResponseFormat::JsonObject | ResponseFormat::JsonSchema => JsonMode::Object,
        },
        concurrency: cfg.concurrency,
    };
    let model = match cfg.provider {
        ProviderKind::Demo => crate::expand::demo::MODEL.to_string(),
        _ => cfg.model.clone().unwrap_or_default(),
    };
    eprintln!(
        "drafting {kind} cases from {} with {model}, {count} each",
        crate::report::count_of(sources.len(), "case")
    );
    let runtime = super::runtime()?;
    let expansion = runtime
        .block_on(expand(&settings, &sources, taken, |p| {
            let what = match p.failed {
                Some(why) => format!("nothing: {why}"),
                None if p.dropped > 0 => format!(
                    "{} kept, {} dropped",
                    crate::report::count_of(p.kept, "draft"),
                    p.dropped
                ),
                None => crate::report::count_of(p.kept, "draft"),
            };
            eprintln!(
                "[{}/{}] {}: {what} · {} tokens",
                p.done, p.total, p.key, p.tokens
            );
        }))
        .map_err(|p| Failure::problems(&p))?;
    expansion.write().map_err(Failure::internal)?;

    for d in &expansion.dropped {
        println!("dropped a draft of {}: {}", d.source, d.why);
    }
    for d in expansion.failed.iter().chain(&expansion.unreachable) {
        println!("no drafts from {}: {}", d.source, d.why);
    }
    for f in &expansion.files {
        println!(
            "{}: {} appended as drafts: {}",
            f.path.display(),
            crate::report::count_of(f.ids.len(), "case"),
            f.ids.join(", ")
        );
    }
    println!(
        "drafted {} ({} dropped) · tokens: {} in, {} out ({model})",
        crate::report::count_of(expansion.added(), "case"),
        expansion.dropped.len(),
        expansion.tokens_in,
        expansion.tokens_out
    );
    if expansion.added() > 0 {
        println!(
            "next: review the drafts, then `evalgate approve FILE [IDS]`; until then runs skip them (`run --include-drafts` runs them, never towards a gate)"
        );
    }
    if !expansion.unreachable.is_empty() {
        return Err(Failure {
            outcome: Outcome::Incomplete,
            message: format!(
                "error: {} could not be reached; the drafts it did give were written",
                crate::report::count_of(expansion.unreachable.len(), "request")
            ),
        });
    }
    Ok(Outcome::Passed)
}

/// The `expand:` block, else the judge's: an LLM, not the demo bot.
fn llm_config(project: &crate::config::Project) -> Result<JudgeConfig, Failure> {
    let cfg = project
        .config
        .expand
        .clone()
        .or_else(|| project.config.judge.clone());
    match cfg {
        Some(cfg)
            if matches!(
                cfg.provider,
                ProviderKind::Openai | ProviderKind::Anthropic | ProviderKind::Demo
            ) =>
        {
            Ok(cfg)
        }
        _ => Err(Failure::from(Diagnostic::new(
            &project.config_path,
            "expand needs an LLM: add an `expand:` block (the fields of `judge:`, provider openai or anthropic; or provider demo for typo drafts without a model), or a judge that is one",
        ))),
    }
}

/// The cases the flags name: in files given by --file, of languages given by --lang,
/// with ids or keys given by --case (every flag narrows). A --case or --file that names
/// nothing is an error.
fn choose(cases: &[Arc<Case>], args: &ExpandArgs) -> Result<Vec<Arc<Case>>, Failure> {
    let files: Vec<PathBuf> = args
        .files
        .iter()
        .map(|f| {
            std::fs::canonicalize(f)
                .map_err(|e| Failure::bad_input(format!("--file {}: {e}", f.display())))
        })
        .collect::<Result<_, _>>()?;
    let in_file = |case: &Case| {
        files.is_empty() || std::fs::canonicalize(&case.source).is_ok_and(|p| files.contains(&p))
    };
    for (given, canonical) in args.files.iter().zip(&files) {
        if !cases
            .iter()
            .any(|c| std::fs::canonicalize(&c.source).is_ok_and(|p| p == *canonical))
        {
            return Err(Failure::bad_input(format!(
                "--file {}: not one of the config's eval-set files",
                given.display()
            )));
        }
    }
    let named = |case: &Case| {
        args.cases.is_empty() || args.cases.iter().any(|c| *c == case.id || *c == case.key)
    };
    let chosen: Vec<Arc<Case>> = cases
        .iter()
        .filter(|c| in_file(c))
        .filter(|c| args.langs.is_empty() || args.langs.contains(&c.language))
        .filter(|c| named(c))
        .cloned()
        .collect();
    let unknown: Vec<&String> = args
        .cases
        .iter()
        .filter(|c| !chosen.iter().any(|case| **c == case.id || **c == case.key))
        .collect();
    if !unknown.is_empty() {
        let listed: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
        return Err(Failure::bad_input(format!(
            "--case: no such case among the chosen files and languages: {}",
            listed.join(", ")
        )));
    }
    if chosen.is_empty() {
        return Err(Failure::bad_input("no case matches --file/--lang/--case"));
    }
    Ok(chosen)
}

/// The file a case's drafts go to: its own, or for a translation the suite's file of the
/// target language, in the same folder when there is one.
fn target_of(case: &Case, to: Option<&str>, cases: &[Arc<Case>]) -> Result<Target, Failure> {
    let Some(to) = to else {
        return Ok(Target {
            path: case.source.clone(),
            language: case.language.clone(),
            market: case.market.clone(),
        });
    };
    if to == case.language {
        return Err(Failure::bad_input(format!(
            "--to {to}: {} is in {to} already",
            case.key
        )));
    }
    let folder = case.source.parent();
    let mut files: Vec<&Case> = cases
        .iter()
        .map(|c| c.as_ref())
        .filter(|c| c.language == to)
        .collect();
    files.sort_by_key(|c| (c.source.parent() != folder, c.source.clone()));
    match files.first() {
        Some(c) => Ok(Target {
            path: c.source.clone(),
            language: c.language.clone(),
            market: c.market.clone(),
        }),
        None => Err(Failure::bad_input(format!(
            "--to {to}: the suite has no eval-set file in {to}; start one (e.g. {}) with `language: {to}` and one case, then translate into it",
            folder
                .map(|f| f.join(format!("{to}.yaml")).display().to_string())
                .unwrap_or_else(|| format!("{to}.yaml"))
        ))),
    }
}
