//! `auren`: the command-line face of Auren.
//!
//! Layout: one module per subcommand (`analyze`, ...); `input` reads recordings in every supported format.

mod analyze;
mod chat;
mod input;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Chat(args) => chat::run(args),
        Command::Usage(args) => usage::run(args),
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
