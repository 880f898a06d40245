//! `auren`: the command-line face of Auren.
//!
//! Layout: one module per subcommand (`analyze`, ...); recordings in every supported format are read by
//! `auren_engine::recording`.

mod analyze;
mod chat;
mod duration;
mod ledger;
mod morning;
mod places;
mod record;
mod replay;
mod rules;
mod sessions;
mod simulate;
mod strap;
mod usage;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "auren",
    version,
    about = "Heart-rate variability coach: analysis, recording and AI chat"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyze a recording (RR file, CSV export, Kubios RR text or .hrmcap capture) and print its HRV panel.
    Analyze(analyze::Args),
    /// Ask a model through the LLM gateway; the answer streams to stdout as it arrives.
    Chat(chat::Args),
    /// Tokens and cost of LLM calls by day and model.
    Usage(usage::Args),
    /// Heart-rate straps over Bluetooth: `auren strap scan`.
    Strap(strap::Args),
    /// The guided 3-minute morning readiness reading (stored; verdict against your normal range).
    Morning(morning::Args),
    /// Record a live session from a strap or the simulator (HR, RMSSD and alerts as they come; stored).
    Record(record::Args),
    /// Write a simulated recording to a `.hrmcap` capture, as fast as possible.
    Simulate(simulate::Args),
    /// Play a capture or RR file through the engine (metrics and alerts; stored as a session).
    Replay(replay::Args),
    /// The recorded sessions, most recent first.
    Sessions(sessions::Args),
    /// Alert rules: `auren rules check FILE`.
    Rules(rules::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Chat(args) => chat::run(args),
        Command::Usage(args) => usage::run(args),
        Command::Strap(args) => strap::run(args),
        Command::Record(args) => record::run(args),
        Command::Morning(args) => morning::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Sessions(args) => sessions::run(args),
        Command::Rules(args) => rules::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line a person can act on: the chain of causes, outermost first.
            eprintln!("auren: {err:#}");
            ExitCode::FAILURE
        }
    }
}
