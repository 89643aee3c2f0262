//! `evalgate expand`: an LLM drafts new cases from existing ones (paraphrases, typos,
//! code-switching, translations, benign twins, attack variants). The model's answer is
//! read strictly, every draft is checked by the eval-set loader, and the survivors are
//! appended to their file with `status: draft` and `source: <key>`: a person approves them
//! before they count.

pub mod demo;
mod kind;
pub mod parse;
mod prompt;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::StreamExt;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::evalset::append::{self, DraftCase};
use crate::evalset::{Case, load_file};
use crate::provider::{JsonMode, LlmClient};
use crate::retry::{RetryPolicy, with_retries};
pub use kind::Kind;
pub use parse::Proposal;
pub use prompt::{DEFAULT_SYSTEM, Prompts};

/// The eval-set file drafts of a case go to.
#[derive(Debug, Clone)]
pub struct Target {
    pub path: PathBuf,
    pub language: String,
    pub market: Option<String>,
}

/// A case to draft from, and where its drafts go.
#[derive(Debug, Clone)]
pub struct Source {
    pub case: Arc<Case>,
    pub target: Target,
}

/// Who writes the drafts: a model, or the demo drafter's fixed rules (typos only).
pub enum Drafter {
    Llm(Arc<dyn LlmClient>),
    Demo,
}

/// The model and how to ask it.
pub struct Settings {
    pub drafter: Drafter,
    pub prompts: Prompts,
    pub kind: Kind,
    /// Drafts asked for per source case.
    pub count: usize,
    pub retry: RetryPolicy,
    pub json: JsonMode,
    /// Requests in flight at once.
    pub concurrency: usize,
}

/// What one request gave, as the progress line reports it.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    pub done: usize,
    pub total: usize,
    pub key: &'a str,
    /// Drafts kept, after checks.
    pub kept: usize,
    pub dropped: usize,
    /// Why the whole request gave nothing, when it did.
    pub failed: Option<&'a str>,
    pub tokens: u64,
}

/// A draft that did not make it, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropped {
    pub source: String,
    pub why: String,
}

/// A file with drafts appended, checked and ready to write.
#[derive(Debug, Clone)]
pub struct ExpandedFile {
    pub path: PathBuf,
    pub text: String,
    pub ids: Vec<String>,
}

/// Everything an expansion produced; nothing is written until the caller says so.
#[derive(Debug, Clone, Default)]
pub struct Expansion {
    pub files: Vec<ExpandedFile>,
    pub dropped: Vec<Dropped>,
    /// Requests whose answer was not the object asked for, even when asked again.
    pub failed: Vec<Dropped>,
    /// Requests that never got an answer: the model could not be reached.
    pub unreachable: Vec<Dropped>,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

impl Expansion {
    pub fn added(&self) -> usize {
        self.files.iter().map(|f| f.ids.len()).sum()
    }

    pub fn write(&self) -> Result<(), Diagnostic> {
        for f in &self.files {
            append::write_whole(&f.path, &f.text)
                .map_err(|e| Diagnostic::new(&f.path, format!("cannot write: {e}")))?;
        }
        Ok(())
    }
}

/// The model's drafts for one source, before ids and checks.
struct Answer {
    proposals: Result<Vec<Result<Proposal, String>>, String>,
    unreachable: bool,
    tokens_in: u64,
    tokens_out: u64,
}

/// Asks for drafts of every source, `concurrency` at a time, and checks them.
/// `taken` holds, per language, the ids in use across the suite: new ids avoid them.
pub async fn expand(
    settings: &Settings,
    sources: &[Source],
    mut taken: HashMap<String, HashSet<String>>,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<Expansion, Diagnostics> {
    let total = sources.len();
    let mut answers = futures_util::stream::iter(sources.iter().map(|s| ask(settings, s)))
        .buffered(settings.concurrency.max(1));
    let mut expansion = Expansion::default();
    let mut pending: BTreeMap<PathBuf, Pending> = BTreeMap::new();
    let mut done = 0;
    while let Some(answer) = answers.next().await {
        let source = &sources[done];
        done += 1;
        expansion.tokens_in += answer.tokens_in;
        expansion.tokens_out += answer.tokens_out;
        let tokens = answer.tokens_in + answer.tokens_out;
        let key = source.case.key.as_str();
        let proposals = match answer.proposals {
            Ok(p) => p,
            Err(why) => {
                progress(Progress {
                    done,
                    total,
                    key,
                    kept: 0,
                    dropped: 0,
                    failed: Some(&why),
                    tokens,
                });
                let failed = Dropped {
                    source: key.to_string(),
                    why,
                };
                if answer.unreachable {
                    expansion.unreachable.push(failed);
                } else {
                    expansion.failed.push(failed);
                }
                continue;
            }
        };
        let file = match pending.entry(source.target.path.clone()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(Pending::read(&source.target.path)?)
            }
        };
        let ids = taken.entry(source.target.language.clone()).or_default();
        let before = expansion.dropped.len();
        let kept = file.take(settings, source, proposals, ids, &mut expansion.dropped);
        progress(Progress {
            done,
            total,
            key,
            kept,
            dropped: expansion.dropped.len() - before,
            failed: None,
            tokens,
        });
    }
    for (path, file) in pending {
        if file.drafts.is_empty() {
            continue;
        }
        let text = append::append(&path, &file.original, &file.drafts)?;
        expansion.files.push(ExpandedFile {
            path,
            text,
            ids: file.drafts.into_iter().map(|d| d.id).collect(),
        });
    }
    Ok(expansion)
}

/// One request, retried as the judge's are; an answer that is not the object asked for
/// is asked again once.
async fn ask(settings: &Settings, source: &Source) -> Answer {
    let mut answer = Answer {
        proposals: Err(String::new()),
        unreachable: false,
        tokens_in: 0,
        tokens_out: 0,
    };
    let client = match &settings.drafter {
        Drafter::Llm(client) => client,
        Drafter::Demo => {
            answer.proposals = match settings.kind {
                Kind::Typo => Ok(demo::typos(&source.case, settings.count)
                    .into_iter()
                    .map(Ok)
                    .collect()),
                other => Err(format!(
                    "the demo drafter writes only typos, not {other} drafts: set `expand:` to an LLM"
                )),
            };
            return answer;
        }
    };
    let request =
        match settings
            .prompts
            .request(settings.kind, settings.count, source, settings.json.clone())
        {
            Ok(r) => r,
            Err(why) => {
                answer.proposals = Err(why);
                return answer;
            }
        };
    let turns = settings
        .kind
        .keeps_turn_count()
        .then_some(source.case.turns.len());
    for _ in 0..2 {
        let called = with_retries(settings.retry, || client.complete(&request), |_| {}).await;
        let turn = match called {
            Ok((turn, _)) => turn,
            Err(gave_up) => {
                answer.proposals = Err(format!("the model could not be reached: {gave_up}"));
                answer.unreachable = true;
                return answer;
            }
        };
        answer.tokens_in += turn.tokens_in;
        answer.tokens_out += turn.tokens_out;
        answer.proposals = parse::parse_answer(&turn.content, settings.kind, turns);
        if answer.proposals.is_ok() {
            break;
        }
    }
    answer
}

/// A target file's text as read, and the drafts that will join it.
struct Pending {
    original: String,
    /// The file's cases' turns, and the drafts' so far: a draft that repeats one is no news.
    seen_turns: HashSet<Vec<String>>,
    drafts: Vec<DraftCase>,
}

impl Pending {
    fn read(path: &std::path::Path) -> Result<Pending, Diagnostics> {
        let one = |d: Diagnostic| Diagnostics(vec![d]);
        let bytes = std::fs::read(path)
            .map_err(|e| one(Diagnostic::new(path, format!("cannot read: {e}"))))?;
        let original = crate::yaml::decode_utf8(path, &bytes)
            .map_err(one)?
            .to_string();
        let seen_turns = load_file(path, &original)?
            .into_iter()
            .map(|c| c.turns)
            .collect();
        Ok(Pending {
            original,
            seen_turns,
            drafts: Vec::new(),
        })
    }

    /// Checks each proposal and keeps those that pass; returns how many.
    fn take(
        &mut self,
        settings: &Settings,
        source: &Source,
        proposals: Vec<Result<Proposal, String>>,
        ids: &mut HashSet<String>,
        dropped: &mut Vec<Dropped>,
    ) -> usize {
        let case = &source.case;
        let kind = settings.kind;
        let base = append::fields_of(case);
        let header = append::file_header(&source.target.language, source.target.market.as_deref());
        let mut kept = 0;
        let mut drop = |why: String| {
            dropped.push(Dropped {
                source: case.key.clone(),
                why,
            })
        };
        let extra = proposals.len().saturating_sub(settings.count);
        if extra > 0 {
            drop(format!(
                "{extra} draft{} more than the {} asked for, ignored",
                if extra == 1 { "" } else { "s" },
                settings.count
            ));
        }
        for proposal in proposals.into_iter().take(settings.count) {
            let proposal = match proposal {
                Ok(p) => p,
                Err(why) => {
                    drop(why);
                    continue;
                }
            };
            if self.seen_turns.contains(&proposal.turns) {
                drop("its customer messages repeat a case the file already has".into());
                continue;
            }
            let turns = proposal.turns.clone();
            let fields = kind.draft_fields(case, &base, proposal);
            let id = match kind.id_suffix() {
                Some(suffix) => append::fresh_id(&format!("{}-{suffix}", case.id), ids),
                None if !ids.contains(&case.id) => {
                    ids.insert(case.id.clone());
                    case.id.clone()
                }
                None => append::fresh_id(&case.id, ids),
            };
            let draft = DraftCase {
                id,
                source: case.key.clone(),
                fields,
                note: None,
            };
            if let Some(why) = append::problems_of(&source.target.path, &header, &draft) {
                ids.remove(&draft.id);
                drop(format!("not a valid case: {why}"));
                continue;
            }
            self.seen_turns.insert(turns);
            self.drafts.push(draft);
            kept += 1;
        }
        kept
    }
}
