//! The command line: clap types live here and nowhere else. Each command turns its
//! flags into a validated plan once, calls the library, and maps the result to an exit code.

mod check;
mod demo_bot;
mod load;
mod run;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::exit::Outcome;

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
    #[arg(long, global = true, default_value = "evalgate.yaml", value_name = "FILE")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate config, eval sets and prompt; print the coverage table.
    #[command(after_help = "Example:\n  evalgate check --config evalgate.yaml\n\nExit: 0 valid, 2 invalid (every problem is listed with file and line).")]
    Check,
    /// Run the eval sets against the bot and write a run directory.
    #[command(after_help = "Examples:\n  evalgate run\n  evalgate run --lang pl --lang sv --stratum edge --out reports/pl-edge\n  evalgate run --filter 'en/refund-*' --repeats 3\n\nWrites results.jsonl (one line per case × repeat, as each finishes), summary.json and prompt.txt.")]
    Run(RunArgs),
    /// Serve the built-in demo bot as an OpenAI-compatible API on 127.0.0.1.
    #[command(name = "demo-bot", after_help = "Example:\n  evalgate demo-bot --port 8787\n  curl -s 127.0.0.1:8787/v1/chat/completions -d '{\"messages\":[{\"role\":\"user\",\"content\":\"Where is my refund?\"}]}'")]
    DemoBot(DemoBotArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Run directory to write (default: reports/<run-id> beside the config).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Only these languages (repeatable).
    #[arg(long = "lang", value_name = "L")]
    pub langs: Vec<String>,
    /// Only these strata: routine, edge, refusal, adversarial (repeatable).
    #[arg(long = "stratum", value_name = "S")]
    pub strata: Vec<String>,
    /// Only cases whose key (`<language>/<id>`) matches this glob, e.g. 'pl/refund-*'.
    #[arg(long, value_name = "GLOB")]
    pub filter: Option<String>,
    /// Run every case K times (overrides run.repeats).
    #[arg(long, value_name = "K")]
    pub repeats: Option<u32>,
    /// Conversations in flight at once (overrides run.concurrency).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct DemoBotArgs {
    /// Port on 127.0.0.1; 0 picks a free one (printed on start).
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Stop by itself after this many seconds (for scripts and tests).
    #[arg(long, value_name = "SECS")]
    pub stop_after: Option<u64>,
}

/// Parses the command line, runs the command and returns what the exit code should say.
pub fn main() -> Outcome {
    let cli = Cli::parse();
    match cli.command {
        Command::Check => check::run(&cli.config),
        Command::Run(args) => run::run(&cli.config, &args),
        Command::DemoBot(args) => demo_bot::run(&args),
    }
}

/// A multi-threaded runtime without the extras evalgate does not use.
fn runtime() -> Result<tokio::runtime::Runtime, Outcome> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the async runtime: {e}");
            Outcome::Internal
        })
}
