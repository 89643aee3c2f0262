//! The command line: clap types live here and nowhere else. Each command turns its
//! flags into a validated plan once, calls the library, and maps the result to an exit code.

mod approve;
mod calibrate;
mod check;
mod demo_bot;
mod expand;
mod import;
mod init;
mod label;
mod load;
mod merge;
mod monitor;
mod rescore;
mod review;
mod run;
mod schema;
mod shard;
mod simulator;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::exit::{Failure, Outcome};

#[derive(Debug, Parser)]
#[command(
    name = "evalgate",
    version,
    about = "Evaluation harness and CI gate for customer-support bots",
    long_about = "Runs per-language, stratified eval sets (routine, edge, refusal, adversarial) against \
a support bot, scores every answer, classifies what the bot really did (resolved, escalated, refused, \
deflected) and reports quality per language and stratum.",
    after_help = "Exit codes: 0 passed · 1 gate failed · 2 bad input (nothing sent) · 3 run incomplete \
(bot unreachable or too many errors) · 4 internal error · 130 interrupted\n\nExample:\n  evalgate check\n  evalgate run --lang pl --stratum edge"
)]
pub struct Cli {
    /// The project config; paths inside it are relative to its folder.
    #[arg(
        long,
        global = true,
        default_value = "evalgate.yaml",
        value_name = "FILE"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a project: config, an English eval set, prompts and a launch gate that run as
    /// is on the demo bot; with --ci, also the CI workflow for your repository.
    #[command(
        after_help = "Examples:\n  evalgate init my-bot && cd my-bot && evalgate run\n  evalgate init --ci github my-bot   # a new project and its workflow\n  evalgate init --ci gitlab          # in a folder that already has evalgate.yaml: only .gitlab-ci.yml\n\nDIR is meant to be the repository's root: the workflow runs evalgate there.\nNever overwrites: exits 2 naming every file that exists, and writes nothing."
    )]
    Init {
        /// Folder of the project (default: the current one); with --ci, the repository's root.
        dir: Option<PathBuf>,
        /// Also write the CI workflow for your repository: github
        /// (.github/workflows/evalgate.yml) or gitlab (.gitlab-ci.yml). It runs the eval on
        /// every pull/merge request, against the base branch's baseline, and posts one
        /// sticky comment with report.md. In a folder that already has evalgate.yaml, only
        /// the workflow is written.
        #[arg(long, value_enum, value_name = "PROVIDER")]
        ci: Option<CiProvider>,
        /// The bot the new project's config points at: demo (the built-in bot) or http
        /// (a bot behind HTTP; every request and response field commented, pointed at
        /// `evalgate demo-bot --protocol session`).
        #[arg(long = "provider", value_enum, value_name = "BOT", default_value_t = InitBot::Demo)]
        bot: InitBot,
    },
    /// Validate config, eval sets and prompt; print the coverage table.
    #[command(
        after_help = "Example:\n  evalgate check --config evalgate.yaml\n\nExit: 0 valid, 2 invalid (every problem is listed with file and line)."
    )]
    Check,
    /// Run the eval sets against the bot and write a run directory.
    #[command(
        after_help = "Examples:\n  evalgate run\n  evalgate run --lang pl --lang sv --stratum edge --out reports/pl-edge\n  evalgate run --filter 'en/refund-*' --repeats 3\n  evalgate run --resume reports/20261123-101500-ab12   # after Ctrl-C or a crash\n  evalgate run --shard 2/8 --out shards/2   # one of 8 machines; then `evalgate merge`\n\nWrites results.jsonl (one line per case × repeat, as each finishes), summary.json and prompt.txt."
    )]
    Run(RunArgs),
    /// Score a saved run's transcripts again with the current rules and judge (no bot calls).
    #[command(
        after_help = "Example:\n  evalgate rescore reports/20261123-101500-ab12 --out reports/rescored"
    )]
    Rescore(RescoreArgs),
    /// Compare two runs case by case and slice by slice.
    #[command(
        after_help = "Examples:\n  evalgate diff reports/baseline reports/20261123-101500-ab12\n  evalgate diff BASE NEW --format md > comment.md\n  evalgate diff BASE NEW --fail-on-regression   # exit 1 on any significant slice regression"
    )]
    Diff(DiffArgs),
    /// Check a run against the launch criteria (gates/launch.yaml).
    #[command(
        after_help = "Examples:\n  evalgate gate reports/20261123-101500-ab12\n  evalgate gate RUN --gate gates/launch.yaml --baseline reports/baseline --out reports/regate\n\nRead-only: prints the verdict; writes reports only into --out DIR.\nExit: 0 pass, 1 fail, 3 incomplete (interrupted, results missing, or too many errors to judge)."
    )]
    Gate(GateArgs),
    /// Render a run's report (with its diff against a baseline, if given).
    #[command(
        after_help = "Examples:\n  evalgate report RUN --format md\n  evalgate report RUN --format junit --out junit.xml\n  evalgate report RUN --format json --baseline reports/baseline"
    )]
    Report(ReportArgs),
    /// Manage the committed baseline (reports/baseline/) that runs are diffed against.
    #[command(
        after_help = "Example:\n  evalgate baseline accept reports/20261123-101500-ab12 && git add reports/baseline"
    )]
    Baseline(BaselineArgs),
    /// Serve the built-in demo bot on 127.0.0.1 over a real bot API (OpenAI by default).
    #[command(
        name = "demo-bot",
        after_help = "Example:\n  evalgate demo-bot --port 8787\n  curl -s 127.0.0.1:8787/v1/chat/completions -d '{\"messages\":[{\"role\":\"user\",\"content\":\"Where is my refund?\"}]}'"
    )]
    DemoBot(DemoBotArgs),
    /// Measure how far a run's judge agrees with human labels, per language and overall.
    #[command(
        after_help = "Examples:\n  evalgate calibrate reports/20261123-101500-ab12 --labels labels-ola.jsonl labels-jan.jsonl\n  evalgate calibrate RUN --labels pl.jsonl --labels sv.jsonl --out calibration.json\n\nEach labels line: {\"key\", \"repeat\", \"transcript_sha256\", \"labeler\", \"criteria\": [{\"n\", \"passed\"}], \"outcome\", \"note\"}.\nLabels match results by key, repeat and transcript_sha256; the rest are counted as unmatched.\nExit: 0 written, 2 a bad labels line (file and line named; nothing written)."
    )]
    Calibrate(CalibrateArgs),
    /// Write label.html: a page where a person labels a sample of a run's results.
    #[command(
        after_help = "Examples:\n  evalgate label reports/20261123-101500-ab12\n  evalgate label RUN --per-language 50 --seed 7 --out label-pl.html\n\nOpen the page in a browser (it works offline), mark each criterion pass/fail and the outcome,\nthen \"Download labels\" and pass the file to `evalgate calibrate RUN --labels FILE`.\nThe page shows nothing of the judge's verdicts. Only results the judge gave a verdict on are\nsampled: those that ended in an error, or whose judge failed, are left out."
    )]
    Label(LabelArgs),
    /// Production, from launch to live: containment, repeat contacts and durable
    /// resolution per language and ISO week from an export of real conversations, held to
    /// the gate file's `rollback:` trigger.
    #[command(
        after_help = "Examples:\n  evalgate monitor examples/production/export.jsonl --gate gates/launch.yaml\n  evalgate monitor week45.jsonl week46.jsonl --eval reports/launch-run --out reports/monitor-w46\n  evalgate monitor export.jsonl --judge-sample 50 --seed 7   # needs `judge:` in the config\n\nA repeat contact: the same customer starts another conversation later and at most the\nwindow after (a start exactly 7 × 24 h later is a repeat; a minute more is not). Durable\nresolution: contained and no repeat contact, among all conversations. A conversation whose\nwindow ends after the export's latest start is pending: counted, left out of every rate.\nWrites monitor.json, monitor.md and monitor.html.\nExit: 0 hold, 1 roll back (a rollback criterion failed), 2 bad input (file, line and field named; nothing written)."
    )]
    Monitor(monitor::MonitorArgs),
    /// Draft new cases from existing ones with an LLM: paraphrases, typos, code-switching,
    /// translations into another language's file, benign twins, attack variants.
    #[command(
        after_help = "Examples:\n  evalgate expand --file evalsets/support/pl.yaml --kind paraphrase --count 3\n  evalgate expand --lang pl --case refund-eta-01 --kind typo\n  evalgate expand --file evalsets/support/en.yaml --kind translate --to sv\n  evalgate expand --lang en --kind benign-twin      # from refusal and adversarial cases\n  evalgate expand --lang en --kind attack-variant --sample 5 --seed 7\n\nThe model is the config's `expand:` block (the fields of `judge:`), else the judge.\nDrafts are appended to the eval-set file (the text already there is kept as it is) with\n`status: draft` and `source: <key>`; invalid drafts are reported and dropped. Runs skip\ndrafts until `evalgate approve` (or deleting the status line); the gate never counts them.\nExit: 0 drafted, 2 bad flags or files (nothing sent), 3 the model could not be reached."
    )]
    Expand(ExpandArgs),
    /// Approve reviewed drafts: removes their `status: draft` line, keeping the rest of
    /// the file as it is.
    #[command(
        after_help = "Examples:\n  evalgate approve evalsets/support/pl.yaml                      # every draft in the file\n  evalgate approve evalsets/support/pl.yaml refund-eta-01-para-1 refund-eta-01-para-3\n\nExit: 0 approved, 2 an unknown id (named) or an invalid file (nothing changed)."
    )]
    Approve(ApproveArgs),
    /// Turn real tickets (CSV with a header row, or JSON lines) into draft cases, one per
    /// ticket, the customer's words as the first turn, personal data masked.
    #[command(
        after_help = "Examples:\n  evalgate import tickets.csv --text-column message --id-column ticket_id --lang-column lang --out evalsets/tickets\n  evalgate import export.jsonl --text-column body --lang pl --out evalsets/support\n  evalgate import export.csv --text-column body --out evalsets/support/pl.yaml   # all in that file's language\n\nEach language's drafts go to OUT/<language>.yaml (appended when it exists), or into OUT itself\nwhen it is a .yaml file. Drafts expect `outcome: resolve` (--outcome) with no checks:\nset both when you review them.\nEmails, IBANs, card numbers (Luhn-checked) and phone numbers become [email], [iban],\n[card] and [phone] unless --keep-pii. Tickets already imported (same id) are skipped.\nExit: 0 imported, 2 bad input (file and line named; nothing written)."
    )]
    Import(ImportArgs),
    /// Merge the run directories of `run --shard I/N` into one run; gate and diff it like a run.
    #[command(
        after_help = "Examples:\n  evalgate merge reports/merged shards/1 shards/2 shards/3 shards/4\n  evalgate merge reports/merged shards/* --gate gates/launch.yaml --baseline reports/baseline\n\nEvery result once, ordered by key and repeat; metrics as an unsharded run's; every report\nrendered; run_seconds is the longest shard's. Like `run`, the config's gate and reports/baseline/\napply unless told otherwise.\nRefuses (exit 2, nothing written) shards of different eval sets, prompt, bot, judge, simulator,\nscoring version, repeats, selection or shard count, a shard missing or given twice, and an\nincomplete shard (`evalgate run --resume DIR` finishes it).\nExit: as `run`: 0 pass, 1 gate failed, 2 refused, 3 too many errors."
    )]
    Merge(MergeArgs),
    /// Write the JSON Schemas of evalgate.yaml, eval-set files and gate files, for editors
    /// that complete and check YAML as you type.
    #[command(
        after_help = "Examples:\n  evalgate schema                      # writes schemas/*.json here\n  evalgate schema --out docs/schemas\n  evalgate schema --print evalset > evalset.schema.json\n\nThen name the schema on a YAML file's first line (VS Code with the YAML extension, or any\neditor with a YAML language server):\n  # yaml-language-server: $schema=../../schemas/evalset.schema.json\nThe schemas are generated from the types evalgate loads, so they always match this version."
    )]
    Schema(schema::SchemaArgs),
}

/// The kinds of draft `evalgate expand` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExpandKind {
    /// The same request in other words.
    Paraphrase,
    /// The same request, typed in a hurry.
    Typo,
    /// The same request with English mixed in.
    CodeSwitch,
    /// The case in another language's file (--to), market values localized.
    Translate,
    /// From a refusal or adversarial case: a legitimate request that sounds alike and
    /// must be resolved (the over-refusal probe).
    BenignTwin,
    /// From an adversarial case: another attack of the same family.
    AttackVariant,
}

impl From<ExpandKind> for crate::expand::Kind {
    fn from(k: ExpandKind) -> Self {
        use crate::expand::Kind;
        match k {
            ExpandKind::Paraphrase => Kind::Paraphrase,
            ExpandKind::Typo => Kind::Typo,
            ExpandKind::CodeSwitch => Kind::CodeSwitch,
            ExpandKind::Translate => Kind::Translate,
            ExpandKind::BenignTwin => Kind::BenignTwin,
            ExpandKind::AttackVariant => Kind::AttackVariant,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ExpandArgs {
    /// What to draft.
    #[arg(long, value_enum, value_name = "KIND")]
    pub kind: ExpandKind,
    /// Draft from the cases of this eval-set file (repeatable).
    #[arg(long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Draft from the cases of this language (repeatable).
    #[arg(long = "lang", value_name = "L")]
    pub langs: Vec<String>,
    /// Draft from this case, by id or key (repeatable).
    #[arg(long = "case", value_name = "ID")]
    pub cases: Vec<String>,
    /// For --kind translate: the language whose file the translations go to.
    #[arg(long, value_name = "LANG")]
    pub to: Option<String>,
    /// Drafts per case (default 3; 1 for translate).
    #[arg(long, value_name = "N")]
    pub count: Option<usize>,
    /// Draft from N of the chosen cases, picked at random with --seed.
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// Seed of --sample: the same seed picks the same cases.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    /// The eval-set file.
    pub file: PathBuf,
    /// Ids of the drafts to approve (default: every draft in the file).
    pub ids: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The tickets: a .csv file with a header row, or .jsonl with one JSON object a line.
    pub tickets: PathBuf,
    /// The suite folder the drafts go to, one file per language: OUT/<language>.yaml;
    /// or one eval-set file (.yaml), when every ticket is in its language.
    #[arg(long, value_name = "DIR|FILE")]
    pub out: PathBuf,
    /// The column (or JSON field) with the customer's words.
    #[arg(long, value_name = "C", default_value = "text")]
    pub text_column: String,
    /// The column with the ticket's id, which becomes the case id `ticket-<id>`
    /// (default: the line number).
    #[arg(long, value_name = "C")]
    pub id_column: Option<String>,
    /// The column with each ticket's language tag (e.g. pl).
    #[arg(long, value_name = "C", conflicts_with = "lang")]
    pub lang_column: Option<String>,
    /// Every ticket is in this language. Without it or --lang-column, each ticket's
    /// language is detected.
    #[arg(long, value_name = "L")]
    pub lang: Option<String>,
    /// The column with an intent label for slicing.
    #[arg(long, value_name = "C")]
    pub intent_column: Option<String>,
    /// The stratum of every draft.
    #[arg(long, value_name = "S", default_value = "routine")]
    pub stratum: String,
    /// The expected outcome every draft starts with, until a reviewer sets it.
    #[arg(long, value_name = "O", default_value = "resolve")]
    pub outcome: String,
    /// Keep emails, IBANs, card and phone numbers as written.
    #[arg(long)]
    pub keep_pii: bool,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The merged run directory to write (must not hold a run yet).
    pub out: PathBuf,
    /// The run directory of every shard, each once, in any order.
    #[arg(value_name = "SHARD_DIR", required = true, num_args = 1..)]
    pub shards: Vec<PathBuf>,
    #[command(flatten)]
    pub review: ReviewFlags,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct LabelArgs {
    /// The run directory whose results are labelled.
    pub run: PathBuf,
    /// Results sampled per language, spread over the strata.
    #[arg(long, value_name = "N", default_value_t = crate::label::DEFAULT_PER_LANGUAGE)]
    pub per_language: usize,
    /// Seed of the random sample: the same seed gives the same results to label.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Write the page here (default: label.html in the run directory).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// The run directory whose judge verdicts are calibrated.
    pub run: PathBuf,
    /// Labels files (JSONL); takes several and may be repeated.
    #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
    pub labels: Vec<PathBuf>,
    /// Write calibration.json here (default: in the run directory).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// The bot `evalgate init --provider` sets up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InitBot {
    Demo,
    Http,
}

/// Where `evalgate init --ci` writes a workflow for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CiProvider {
    Github,
    Gitlab,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Run directory to write (default: reports/<run-id> beside the config).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue an interrupted run in DIR: finished cases are kept, the rest run.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "baseline_prompt_rev"])]
    pub resume: Option<PathBuf>,
    /// Only these languages (repeatable).
    #[arg(long = "lang", value_name = "L")]
    pub langs: Vec<String>,
    /// Only these strata: routine, edge, refusal, adversarial (repeatable).
    #[arg(long = "stratum", value_name = "S")]
    pub strata: Vec<String>,
    /// Only cases whose key (`<language>/<id>`) matches this glob, e.g. 'pl/refund-*'
    /// (repeatable: a case matching any of them runs).
    #[arg(long, value_name = "GLOB")]
    pub filter: Vec<String>,
    /// Run every case K times (overrides run.repeats).
    #[arg(long, value_name = "K")]
    pub repeats: Option<u32>,
    /// Label the bot under test in the summary and reports (overrides bot.version).
    #[arg(long, value_name = "V")]
    pub bot_version: Option<String>,
    /// Conversations in flight at once (overrides run.concurrency).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Run only shard I of N (1 ≤ I ≤ N): the cases whose key hashes to it, with 1/N of
    /// the configured rate limits. The gate and the diff are left to `evalgate merge`.
    #[arg(long, value_name = "I/N", value_parser = shard::parse_flag)]
    pub shard: Option<crate::shard::Shard>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    /// Neither read nor write the response cache (.evalgate/cache/).
    #[arg(long)]
    pub no_cache: bool,
    /// Also run the draft cases (`status: draft`) nobody has approved yet. The reports
    /// say how many ran, and the gate never passes such a run.
    #[arg(long)]
    pub include_drafts: bool,
    #[command(flatten)]
    pub review: ReviewFlags,
    /// Also run the prompt as it was at this git revision, in the same invocation (same
    /// bot, same time), and diff against it.
    #[arg(long, value_name = "REV", conflicts_with = "baseline")]
    pub baseline_prompt_rev: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RescoreArgs {
    /// The saved run directory.
    pub run: std::path::PathBuf,
    /// Where to write the re-scored run (default: reports/<run-id>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
    /// Neither read nor write the judge's response cache.
    #[arg(long)]
    pub no_cache: bool,
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    Md,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The baseline run directory.
    pub base: PathBuf,
    /// The new run directory.
    pub new: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// Exit 1 when any slice regressed significantly.
    #[arg(long)]
    pub fail_on_regression: bool,
}

#[derive(Debug, clap::Args)]
pub struct GateArgs {
    /// The run directory (only read: the verdict is printed, nothing in it changes).
    pub run: PathBuf,
    #[command(flatten)]
    pub review: ReviewFlags,
    /// Write report.md, report.json, junit.xml and report.html with this verdict into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Which gate and baseline a run is reviewed against; shared by `run` and `gate`.
#[derive(Debug, clap::Args)]
pub struct ReviewFlags {
    /// Launch criteria (default: the config's `gate:`).
    #[arg(long, value_name = "FILE")]
    pub gate: Option<PathBuf>,
    /// Run to diff against (default: reports/baseline/ when it exists).
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// Do not diff against reports/baseline/.
    #[arg(long, conflicts_with = "baseline")]
    pub no_baseline: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ReportFormat {
    Html,
    Md,
    Junit,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The run directory.
    pub run: PathBuf,
    #[arg(long, value_enum)]
    pub format: ReportFormat,
    /// The gate and the baseline, as for `run` and `gate`.
    #[command(flatten)]
    pub review: ReviewFlags,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub command: BaselineCommand,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Make a run the committed baseline (copied to reports/baseline/). Refuses an
    /// incomplete run, and a run whose gate failed unless --force.
    #[command(
        after_help = "Examples:\n  evalgate baseline accept reports/20261123-101500-ab12 && git add reports/baseline\n  evalgate baseline accept --force reports/20261123-101500-ab12   # a run whose gate failed, on purpose"
    )]
    Accept {
        /// The run directory.
        run: PathBuf,
        /// Accept a run whose gate failed (the failing criteria are printed).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct DemoBotArgs {
    /// Port on 127.0.0.1; 0 picks a free one (printed on start).
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Stop by itself after this many seconds (for scripts and tests).
    #[arg(long, value_name = "SECS")]
    pub stop_after: Option<u64>,
    /// The API to serve the demo bot as.
    #[arg(long, value_enum, default_value_t = DemoProtocol::Openai)]
    pub protocol: DemoProtocol,
}

/// The APIs `evalgate demo-bot` serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoProtocol {
    /// OpenAI-compatible chat completions: POST /v1/chat/completions.
    Openai,
    /// Anthropic's Messages API: POST /v1/messages.
    Anthropic,
    /// A Rasa REST channel: POST /webhooks/rest/webhook.
    Rasa,
    /// A conversation API: POST /v1/conversations, then /v1/conversations/{id}/messages.
    Session,
}

/// Parses the command line, runs the command and returns what the exit code should say.
/// A command that fails says why here, and only here.
pub fn main() -> Outcome {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init { dir, ci, bot } => init::run(dir.as_deref(), ci, bot),
        Command::Check => check::run(&cli.config),
        Command::Run(args) => run::run(&cli.config, &args),
        Command::Rescore(args) => rescore::run(&cli.config, &args),
        Command::Diff(args) => review::diff(&args),
        Command::Gate(args) => review::gate(&cli.config, &args),
        Command::Report(args) => review::report(&cli.config, &args),
        Command::Baseline(args) => review::baseline(&cli.config, &args),
        Command::DemoBot(args) => demo_bot::run(&args),
        Command::Calibrate(args) => calibrate::run(&args),
        Command::Label(args) => label::run(&cli.config, &args),
        Command::Monitor(args) => monitor::run(&cli.config, &args),
        Command::Expand(args) => expand::run(&cli.config, &args),
        Command::Approve(args) => approve::run(&args),
        Command::Import(args) => import::run(&cli.config, &args),
        Command::Merge(args) => merge::run(&cli.config, &args),
        Command::Schema(args) => schema::run(&args),
    };
    result.unwrap_or_else(|failure| {
        eprintln!("{failure}");
        failure.outcome
    })
}

/// A multi-threaded runtime without the extras evalgate does not use.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::internal(format!("cannot start the async runtime: {e}")))
}
