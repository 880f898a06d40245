//! `auren`: the command-line face of Auren.
//!
//! Layout: one module per subcommand (`analyze`, ...); `input` reads recordings in every supported format.

mod analyze;
mod input;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "auren", version, about = "Heart-rate variability coach: analysis, recording and AI chat")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyze a recording (RR file, CSV export, Kubios RR text or .hrmcap capture) and print its HRV panel.
    Analyze(analyze::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args),
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
