//! evalgate: an evaluation harness and CI gate for customer-support bots.
//!
//! The modules follow the data's journey: `config` and `evalset` load what the user
//! wrote, `provider` talks to the bot, `runner` drives conversations, `scoring` turns
//! replies into checks and outcomes, `metrics` aggregates them, `report` renders them,
//! and `cli` sits on top.

pub mod cache;
pub mod calibrate;
pub mod check;
pub mod cli;
pub mod config;
pub(crate) mod demo_server;
pub mod diagnostic;
pub mod diff;
pub mod evalset;
pub mod exit;

pub mod expand;
pub mod gate;
pub mod import;
pub mod judge;
pub mod label;
pub mod language;
pub mod merge;
pub mod metrics;
pub mod monitor;
pub mod prompt;
pub mod provider;
pub mod ratelimit;
pub mod report;
pub mod result;
pub mod result_index;
pub mod retry;
pub mod review;
pub mod rundir;
pub mod runner;
pub mod schema;
pub mod scoring;
pub mod secrets;
pub mod shard;
pub mod simulator;
pub mod stats;
pub mod summary;
#[cfg(test)]
pub mod test_support;
pub mod timefmt;
pub mod transport;
pub mod yaml;
