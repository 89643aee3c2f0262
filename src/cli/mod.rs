//! The command line: clap types live here and nowhere else. Each command turns its
//! flags into a validated plan once, calls the library, and maps the result to an exit code.

mod calibrate;
mod check;
mod demo_bot;
mod init;
mod label;
mod load;
mod rescore;
mod review;
mod run;
mod schema;
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
        after_help = "Examples:\n  evalgate run\n  evalgate run --lang pl --lang sv --stratum edge --out reports/pl-edge\n  evalgate run --filter 'en/refund-*' --repeats 3\n  evalgate run --resume reports/20261123-101500-ab12   # after Ctrl-C or a crash\n\nWrites results.jsonl (one line per case × repeat, as each finishes), summary.json and prompt.txt."
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
        after_help = "Examples:\n  evalgate label reports/20261123-101500-ab12\n  evalgate label RUN --per-language 50 --seed 7 --out label-pl.html\n\nOpen the page in a browser (it works offline), mark each criterion pass/fail and the outcome,\nthen \"Download labels\" and pass the file to `evalgate calibrate RUN --labels FILE`.\nThe page shows nothing of the judge's verdicts. Results that ended in an error are left out."
    )]
    Label(LabelArgs),
    /// Write the JSON Schemas of evalgate.yaml, eval-set files and gate files, for editors
    /// that complete and check YAML as you type.
    #[command(
        after_help = "Examples:\n  evalgate schema                      # writes schemas/*.json here\n  evalgate schema --out docs/schemas\n  evalgate schema --print evalset > evalset.schema.json\n\nThen name the schema on a YAML file's first line (VS Code with the YAML extension, or any\neditor with a YAML language server):\n  # yaml-language-server: $schema=../../schemas/evalset.schema.json\nThe schemas are generated from the types evalgate loads, so they always match this version."
    )]
    Schema(schema::SchemaArgs),
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
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    /// Neither read nor write the response cache (.evalgate/cache/).
    #[arg(long)]
    pub no_cache: bool,
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
