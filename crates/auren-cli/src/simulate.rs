//! `auren simulate --scenario S --duration D [--seed N] --out FILE.hrmcap`: a simulated recording written
//! straight to a capture file, as fast as the machine goes; `auren simulate history --days 90 --seed N`: a
//! simulated person's history in the database (see `history`).

use anyhow::Context;
use auren_hrm::capture::{CaptureHeader, format_header, format_record};
use auren_strap::simulator::{SIMULATOR_ADDRESS, Scenario, Simulator, SimulatorConfig, notifications};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use crate::duration::parse_duration;

mod history;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    pub what: Option<What>,
    /// rest, fatigued, exercise or breathing.
    #[arg(long, required = true)]
    pub scenario: Option<String>,
    /// Simulated time: 90s, 5m, 1h, …
    #[arg(long, required = true)]
    pub duration: Option<String>,
    /// The same seed gives the same recording.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The capture to write (`.hrmcap`).
    #[arg(long, required = true)]
    pub out: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
pub enum What {
    /// A simulated person's days (mornings, sessions, tags, alerts) stored in the database, labelled
    /// "Simulated strap"; the same seed gives the same history.
    History(history::Args),
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(What::History(history)) = args.what {
        return history::run(history);
    }
    let (Some(scenario), Some(duration), Some(out)) = (args.scenario, args.duration, args.out) else {
        anyhow::bail!("auren simulate needs --scenario, --duration and --out (or the `history` subcommand)");
    };
    capture(&scenario, &duration, args.seed, &out)
}

fn capture(scenario: &str, duration: &str, seed: u64, path: &std::path::Path) -> anyhow::Result<()> {
    let scenario: Scenario = scenario.parse()?;
    let duration = parse_duration(duration)?;
    let mut config = SimulatorConfig::new(scenario, seed);
    config.duration = Some(duration);
    let simulator = Simulator::new(config.clone())?;
    let header = CaptureHeader::new()
        .with_device_name(simulator.device_name())
        .with_address(SIMULATOR_ADDRESS)
        .with("scenario", scenario.name())
        .with("seed", seed.to_string());
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    let write_error = || format!("cannot write {}", path.display());
    out.write_all(format_header(&header).as_bytes())
        .with_context(write_error)?;
    let mut count = 0_u64;
    for n in notifications(&config)? {
        out.write_all(format_record(n.at_ms, &n.payload).as_bytes())
            .with_context(write_error)?;
        count += 1;
    }
    out.flush().with_context(write_error)?;
    println!(
        "Wrote {count} notifications ({} s of {scenario}, seed {}) to {}",
        duration.as_secs(),
        seed,
        path.display()
    );
    Ok(())
}
