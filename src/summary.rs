//! `summary.json`: what was run (bot, prompt, eval sets, scoring) and the metrics.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;

/// Bumped whenever a change to scoring could change a verdict, or a metric the diff
/// compares is computed differently: runs with different scoring versions are not
/// comparable.
///
/// 2: a failed language or length check no longer makes a rule-verified outcome
/// `deflected`; results no rule could fail are marked `unverified`.
/// 3: containment is computed among cases expecting `resolve`, resolution's denominator,
/// not among all cases; a diff against a run of version 2 would show a containment change
/// that is only the new definition.
pub const SCORING_VERSION: u32 = 4;

/// The bot under test. `--resume` refuses to mix results of two bots into one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotInfo {
    pub provider: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// `bot.version` or `--bot-version`: a label for bots whose prompt evalgate does not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The part of the eval sets a run took. Empty lists take everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SelectionInfo {
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub strata: Vec<crate::evalset::Stratum>,
    /// `--filter` globs over case keys.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// `--include-drafts`: cases nobody has reviewed were asked for too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_drafts: bool,
    /// How many of the cases the run took are drafts; the gate never passes such a run.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub drafts: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl SelectionInfo {
    /// A run of only some of the cases: gated on what it ran, and said so in every report.
    pub fn is_partial(&self) -> bool {
        !(self.languages.is_empty() && self.strata.is_empty() && self.patterns.is_empty())
    }

    /// The selection in words, e.g. `--lang pl --stratum edge`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(self.languages.iter().map(|l| format!("--lang {l}")));
        parts.extend(self.strata.iter().map(|s| format!("--stratum {s}")));
        parts.extend(self.patterns.iter().map(|p| format!("--filter {p}")));
        if self.include_drafts {
            parts.push("--include-drafts".into());
        }
        parts.join(" ")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptInfo {
    pub path: Option<String>,
    pub hash: Option<String>,
    pub label: Option<String>,
}

/// What a run is: fixed before the first request is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    pub run_id: String,
    pub started_at: String,
    pub evalgate_version: String,
    pub bot: BotInfo,
    pub prompt: PromptInfo,
    /// The judge's identity (model and prompt hash), when there is one.
    pub judge: Option<String>,
    #[serde(default)]
    pub judge_model: Option<String>,
    /// The judge's whole prompt hash (`judge` shows it cut short): what a calibration of
    /// the judge is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_prompt_hash: Option<String>,
    /// The customer simulator's identity (model and prompt hash), when the run had one:
    /// part of the comparability key, since another customer holds other conversations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulator_model: Option<String>,
    /// How observed outcomes were decided: `judge`, or `rule-verified` without one.
    pub outcome_mode: String,
    /// `judged`, or `unjudged` when rubric criteria did not decide `passed`.
    pub rubric: String,
    /// Hash of the knowledge-base files the judge checked claims against.
    #[serde(default)]
    pub knowledge_hash: Option<String>,
    pub evalset_hash: String,
    pub evalset_files: Vec<String>,
    pub scoring_version: u32,
    pub repeats: u32,
    /// `{index, count}` of a run of one shard (`--shard I/N`); null for a whole run,
    /// merged or not.
    #[serde(default)]
    pub shard: Option<crate::shard::Shard>,
    /// The `--lang`, `--stratum` and `--filter` restrictions, as given.
    pub filters: Vec<String>,
    /// The same restrictions, for the gate and the reports.
    #[serde(default)]
    pub selection: SelectionInfo,
    /// The run whose transcripts `rescore` scored again, for a re-scored run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescored_from: Option<String>,
}

impl RunMeta {
    /// The judge's prompt hash: whole, or for a run written before that was recorded, the
    /// shortened one inside `judge` ("MODEL (prompt HASH)").
    pub fn judge_prompt_hash(&self) -> Option<&str> {
        self.judge_prompt_hash.as_deref().or_else(|| {
            let (_, rest) = self.judge.as_deref()?.rsplit_once("(prompt ")?;
            rest.strip_suffix(')')
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    #[serde(flatten)]
    pub meta: RunMeta,
    pub finished_at: String,
    /// False when the run was interrupted or results are missing.
    pub complete: bool,
    pub interrupted: bool,
    /// Case × repeat results the run planned and wrote.
    pub planned: u64,
    pub written: u64,
    /// Wall time from the first conversation to the last result of this invocation, in
    /// seconds: the harness's speed apart from loading the suite and writing reports.
    #[serde(default)]
    pub run_seconds: Option<f64>,
    /// The launch gate the run was held to, once it was.
    #[serde(default)]
    pub gate: Option<GateRef>,
    /// pass@1, pass^k and flaky cases, when cases ran more than once.
    #[serde(default)]
    pub repeat_stats: Option<RepeatStats>,
    /// The error most results ended in, when some did: what an exit 3 names first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_error: Option<TopError>,
    /// Money and tokens, reported apart from quality.
    pub cost: Cost,
    #[serde(flatten)]
    pub metrics: Metrics,
}

pub use crate::metrics::RepeatStats;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenCost {
    pub model: Option<String>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// `null` when the config gives no price for the model.
    pub money: Option<f64>,
}

/// The cost section: what the run's tokens cost, per conversation and per resolved one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub currency: Option<String>,
    pub bot: TokenCost,
    pub judge: TokenCost,
    /// The customer simulator's tokens, when the run had simulated cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulator: Option<TokenCost>,
    pub total_money: Option<f64>,
    pub conversations: u64,
    /// Bot cost per conversation (the judge is the harness's cost, not the bot's).
    pub bot_per_conversation: Option<f64>,
    pub resolved: u64,
    /// Bot cost divided by resolved conversations: the honest unit cost, which a bot that
    /// deflects cannot flatter.
    pub cost_per_resolved: Option<f64>,
}

impl Cost {
    pub fn compute(
        m: &Metrics,
        pricing: Option<&crate::config::Pricing>,
        bot_model: &str,
        judge_model: Option<&str>,
        simulator_model: Option<&str>,
    ) -> Cost {
        let o = &m.overall;
        let money = |model: Option<&str>, tin: u64, tout: u64| -> Option<f64> {
            let price = pricing?.for_model(model?)?;
            Some(
                tin as f64 / 1e6 * price.input_per_mtok + tout as f64 / 1e6 * price.output_per_mtok,
            )
        };
        let bot = TokenCost {
            model: Some(bot_model.to_string()),
            tokens_in: o.tokens_in,
            tokens_out: o.tokens_out,
            money: money(Some(bot_model), o.tokens_in, o.tokens_out),
        };
        let judge = TokenCost {
            model: judge_model.map(str::to_string),
            tokens_in: o.judge_tokens_in,
            tokens_out: o.judge_tokens_out,
            money: if judge_model.is_some() {
                money(judge_model, o.judge_tokens_in, o.judge_tokens_out)
            } else {
                Some(0.0)
            },
        };
        let simulator = simulator_model.map(|model| TokenCost {
            model: Some(model.to_string()),
            tokens_in: o.simulator_tokens_in,
            tokens_out: o.simulator_tokens_out,
            // The built-in customer costs nothing; an LLM's tokens cost what the config says.
            money: if o.simulator_tokens_in + o.simulator_tokens_out == 0 {
                Some(0.0)
            } else {
                money(Some(model), o.simulator_tokens_in, o.simulator_tokens_out)
            },
        });
        let simulator_money = simulator.as_ref().map_or(Some(0.0), |s| s.money);
        let total_money = match (bot.money, judge.money, simulator_money) {
            (Some(b), Some(j), Some(s)) => Some(b + j + s),
            _ => None,
        };
        let conversations = o.results;
        Cost {
            currency: pricing.and_then(|p| p.currency.clone()),
            bot_per_conversation: bot
                .money
                .filter(|_| conversations > 0)
                .map(|b| b / conversations as f64),
            cost_per_resolved: bot
                .money
                .filter(|_| o.resolved > 0)
                .map(|b| b / o.resolved as f64),
            resolved: o.resolved,
            conversations,
            total_money,
            bot,
            judge,
            simulator,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopError {
    /// The error, without its attempt count.
    pub message: String,
    /// Results that ended in it, and in any error.
    pub count: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRef {
    pub path: String,
    pub hash: String,
    pub passed: bool,
    /// Each failing criterion in one line, for `baseline accept` to say what failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
}

impl RunSummary {
    pub fn read(path: &Path) -> Result<RunSummary, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a run summary: {e}", path.display()))
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, json + "\n")
    }
}

#[cfg(test)]
impl RunSummary {
    /// A complete run summary around the given metrics, for tests.
    pub fn fixture(metrics: Metrics) -> RunSummary {
        RunSummary {
            meta: RunMeta {
                run_id: "r".into(),
                started_at: String::new(),
                evalgate_version: String::new(),
                bot: BotInfo {
                    provider: "demo".into(),
                    model: "m".into(),
                    base_url: None,
                    version: None,
                },
                prompt: PromptInfo {
                    path: None,
                    hash: None,
                    label: None,
                },
                judge: None,
                judge_model: None,
                judge_prompt_hash: None,
                simulator: None,
                simulator_model: None,
                outcome_mode: "rule-verified".into(),
                rubric: "unjudged".into(),
                knowledge_hash: None,
                evalset_hash: String::new(),
                evalset_files: vec![],
                scoring_version: SCORING_VERSION,
                repeats: 1,
                shard: None,
                filters: vec![],
                selection: SelectionInfo::default(),
                rescored_from: None,
            },
            finished_at: String::new(),
            complete: true,
            interrupted: false,
            planned: 0,
            written: 0,
            run_seconds: None,
            gate: None,
            repeat_stats: None,
            top_error: None,
            cost: Cost::compute(&metrics, None, "m", None, None),
            metrics,
        }
    }
}

/// The first 12 hex digits of a `sha256:` hash: enough to tell runs apart in a line a
/// person reads.
pub fn short_hash(hash: &str) -> &str {
    let h = hash.strip_prefix("sha256:").unwrap_or(hash);
    h.get(..12).unwrap_or(h)
}

/// Now, as RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    crate::timefmt::format_rfc3339(now_seconds())
}

/// A fresh run id: sortable by time, unique enough for concurrent runs.
pub fn new_run_id() -> String {
    format!(
        "{}-{:04x}",
        crate::timefmt::compact_stamp(now_seconds()),
        fastrand::u16(..)
    )
}

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
