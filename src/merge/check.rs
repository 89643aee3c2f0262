//! Which shard directories may be merged: every shard of one count exactly once, each
//! complete, all of them runs of the same thing. Every problem is found before anything
//! is written, and each names the shard and what is wrong with it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::rundir::RunDir;
use crate::shard::Shard;
use crate::summary::{RunMeta, RunSummary};

/// A shard's run directory, read and found fit to merge.
pub struct ShardDir {
    pub shard: Shard,
    pub run: RunDir,
}

impl ShardDir {
    /// `shard 2/8 (shards/2)`: how every message names it.
    pub fn name(&self) -> String {
        format!("shard {} ({})", self.shard, self.run.dir.display())
    }
}

/// Opens every directory and checks the shards against each other; returns them ordered
/// by index, or every reason they cannot be merged.
pub fn check(dirs: &[PathBuf]) -> Result<Vec<ShardDir>, Vec<String>> {
    let mut problems = Vec::new();
    let mut shards: Vec<ShardDir> = Vec::new();
    for dir in dirs {
        let run = match RunDir::open(dir) {
            Ok(run) => run,
            Err(e) => {
                problems.push(format!("{e}: not a run directory"));
                continue;
            }
        };
        match run.summary.meta.shard {
            Some(shard) => shards.push(ShardDir { shard, run }),
            None => problems.push(format!(
                "{} is not a shard: it was run without --shard",
                dir.display()
            )),
        }
    }
    shards.sort_by_key(|s| s.shard.index);
    let Some(reference) = shards.first() else {
        return Err(problems);
    };
    let count = reference.shard.count;
    let mut by_index: BTreeMap<u32, &ShardDir> = BTreeMap::new();
    for s in &shards {
        if s.shard.count != count {
            problems.push(format!(
                "{}: the shard count differs: {} here, {} in {}",
                s.name(),
                s.shard.count,
                count,
                reference.name()
            ));
            continue;
        }
        if let Some(first) = by_index.insert(s.shard.index, s) {
            problems.push(format!(
                "shard {} is given twice: {} and {}",
                s.shard,
                first.run.dir.display(),
                s.run.dir.display()
            ));
        }
        if let Some(why) = incomplete(&s.run.summary) {
            problems.push(format!(
                "{} is incomplete: {why} — `evalgate run --resume {}` finishes it",
                s.name(),
                s.run.dir.display()
            ));
        }
        if !std::ptr::eq(s, reference) {
            for field in disagreements(&reference.run.summary.meta, &s.run.summary.meta) {
                problems.push(format!(
                    "{}: the {} differs from {}'s: {} here, {} there",
                    s.name(),
                    field.name,
                    reference.name(),
                    field.here,
                    field.there
                ));
            }
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        let given: Vec<String> = by_index.keys().map(u32::to_string).collect();
        problems.push(format!(
            "shard{} {} of {count} {} missing (given: {})",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "is" } else { "are" },
            given.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(shards)
    } else {
        Err(problems)
    }
}

/// Why a shard's summary does not describe a whole shard, if it does not.
fn incomplete(s: &RunSummary) -> Option<String> {
    if s.complete {
        return None;
    }
    Some(if s.finished_at.is_empty() {
        format!(
            "{} of {} results, and it stopped before it finished (killed?)",
            s.written, s.planned
        )
    } else if s.interrupted {
        format!("{} of {} results, interrupted", s.written, s.planned)
    } else {
        format!("{} of {} results", s.written, s.planned)
    })
}

/// A field two shards disagree on, as each has it.
struct Disagreement {
    name: &'static str,
    here: String,
    there: String,
}

/// What must be the same for the shards to be parts of one run: the comparability key
/// of a run (eval sets, prompt, bot, judge, simulator, scoring) and what the run planned
/// (repeats, selection).
fn disagreements(reference: &RunMeta, shard: &RunMeta) -> Vec<Disagreement> {
    let none = || "none".to_string();
    let bot = |m: &RunMeta| {
        let b = &m.bot;
        let mut s = format!("{} {}", b.provider, b.model);
        if let Some(url) = &b.base_url {
            s += &format!(" at {url}");
        }
        if let Some(v) = &b.version {
            s += &format!(" version {v}");
        }
        s
    };
    let judge = |m: &RunMeta| match (&m.judge, &m.knowledge_hash) {
        (Some(j), Some(k)) => format!("{j} with knowledge {k}"),
        (Some(j), None) => j.clone(),
        (None, _) => none(),
    };
    let selection = |m: &RunMeta| match m.selection.describe() {
        s if s.is_empty() => "every case".to_string(),
        s => s,
    };
    let compared: Vec<(&'static str, String, String)> = vec![
        (
            "eval-set hash",
            shard.evalset_hash.clone(),
            reference.evalset_hash.clone(),
        ),
        (
            "prompt hash",
            shard.prompt.hash.clone().unwrap_or_else(none),
            reference.prompt.hash.clone().unwrap_or_else(none),
        ),
        ("bot", bot(shard), bot(reference)),
        ("judge", judge(shard), judge(reference)),
        (
            "simulator",
            shard.simulator.clone().unwrap_or_else(none),
            reference.simulator.clone().unwrap_or_else(none),
        ),
        (
            "scoring version",
            shard.scoring_version.to_string(),
            reference.scoring_version.to_string(),
        ),
        (
            "repeats",
            shard.repeats.to_string(),
            reference.repeats.to_string(),
        ),
        ("selection", selection(shard), selection(reference)),
    ];
    // Compared whole, shown short: a hash's first 12 digits tell two runs apart.
    let shown = |name: &str, value: String| {
        if name.ends_with("hash") {
            crate::summary::short_hash(&value).to_string()
        } else {
            value
        }
    };
    compared
        .into_iter()
        .filter(|(_, here, there)| here != there)
        .map(|(name, here, there)| Disagreement {
            name,
            here: shown(name, here),
            there: shown(name, there),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricsBuilder;

    fn meta() -> RunMeta {
        RunSummary::fixture(MetricsBuilder::default().finish()).meta
    }

    #[test]
    fn names_every_field_the_shards_disagree_on() {
        let a = meta();
        assert!(disagreements(&a, &a.clone()).is_empty());
        let mut b = a.clone();
        b.evalset_hash = "sha256:other".into();
        b.prompt.hash = Some("sha256:p".into());
        b.bot.model = "other".into();
        b.judge = Some("judge-model sha256:j".into());
        b.simulator = Some("demo".into());
        b.scoring_version += 1;
        b.repeats = 3;
        b.selection.languages = vec!["pl".into()];
        let names: Vec<&str> = disagreements(&a, &b).iter().map(|d| d.name).collect();
        assert_eq!(
            names,
            [
                "eval-set hash",
                "prompt hash",
                "bot",
                "judge",
                "simulator",
                "scoring version",
                "repeats",
                "selection"
            ]
        );
        // The run id, start time and evalgate version may differ: each shard is its own run.
        let mut c = a.clone();
        c.run_id = "other".into();
        c.started_at = "2026-12-05T00:00:00Z".into();
        c.evalgate_version = "9.9.9".into();
        assert!(disagreements(&a, &c).is_empty());
    }
}
