//! `auren`: the command-line face of Auren.
//!
//! Layout: one module per subcommand (`analyze`, ...); recordings in every supported format are read by
//! `auren_engine::recording`.

mod account;
mod analyze;
mod ask;
mod chat;
mod conversations;
mod duration;
mod hypotheses;
mod import;
mod mcp;
mod memory;
mod morning;
mod mornings;
mod places;
mod record;
mod replay;
mod rules;
mod serve;
mod sessions;
mod simulate;
mod strap;
mod sync;
mod tags;
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
    /// Ask the AI coach about your own data: the steps and the answer stream, every number checked.
    Ask(ask::Args),
    /// Conversations with the coach: list, show, search, export.
    Conversations(conversations::Args),
    /// What the coach remembers about you: list (as of a moment), remember, retract, forget, proposals.
    Memory(memory::Args),
    /// Your hypotheses, re-tested on the mornings stored so far.
    Hypotheses(hypotheses::Args),
    /// An MCP server over stdio exposing the coach's tools (for Claude Desktop and other MCP clients).
    Mcp(mcp::Args),
    /// Tokens and cost of LLM calls by day and model.
    Usage(usage::Args),
    /// Heart-rate straps over Bluetooth: `auren strap scan`.
    Strap(strap::Args),
    /// The guided 3-minute morning readiness reading (stored; verdict against your normal range).
    Morning(morning::Args),
    /// The stored morning readings of the last days (`--athlete EMAIL`: an athlete's, on a coach's device).
    Mornings(mornings::Args),
    /// Record a live session from a strap or the simulator (HR, RMSSD and alerts as they come; stored).
    Record(record::Args),
    /// Write a simulated recording to a `.hrmcap` capture, as fast as possible; `simulate history`: a
    /// simulated person's days in the database.
    Simulate(simulate::Args),
    /// Store a recording at its real start time, or a history export (HRV4Training, Elite HRV) as
    /// morning readings.
    Import(import::Args),
    /// Play a capture or RR file through the engine (metrics and alerts; stored as a session).
    Replay(replay::Args),
    /// The recorded sessions, most recent first.
    Sessions(sessions::Args),
    /// A session's tags and note: `list SESSION_ID`, `rename|move|delete TAG_ID`, `note|clear-note SESSION_ID`.
    Tags(tags::Args),
    /// Alert rules: `auren rules check FILE`.
    Rules(rules::Args),
    /// Run the sync server (PostgreSQL, Redis, Kafka from AUREN_* variables or --config FILE).
    Serve(serve::Args),
    /// The sync account of this database: `create`, `login` (password or device code), `approve` a code.
    Account(account::Args),
    /// Sign this database out of its sync account (the data stays).
    Logout(account::DbArgs),
    /// Send the outbox and fetch what other devices and the server wrote; `--watch` keeps going.
    Sync(sync::Args),
    /// The devices of the sync account; `remove ID` removes another one.
    Devices(account::DevicesArgs),
    /// Coach access: `grant EMAIL`, `revoke EMAIL`, `list`.
    Coach(account::CoachArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Chat(args) => chat::run(args),
        Command::Ask(args) => ask::run(args),
        Command::Conversations(args) => conversations::run(args),
        Command::Memory(args) => memory::run(args),
        Command::Hypotheses(args) => hypotheses::run(args),
        Command::Mcp(args) => mcp::run(args),
        Command::Usage(args) => usage::run(args),
        Command::Strap(args) => strap::run(args),
        Command::Record(args) => record::run(args),
        Command::Morning(args) => morning::run(args),
        Command::Mornings(args) => mornings::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Import(args) => import::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Sessions(args) => sessions::run(args),
        Command::Tags(args) => tags::run(args),
        Command::Rules(args) => rules::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Account(args) => account::run(args),
        Command::Logout(args) => account::logout(args),
        Command::Sync(args) => sync::run(args),
        Command::Devices(args) => account::devices(args),
        Command::Coach(args) => account::coach(args),
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
