//! `auren simulate --scenario S --duration D [--seed N] --out FILE.hrmcap`: a simulated recording written
//! straight to a capture file, as fast as the machine goes.

use anyhow::Context;
use auren_hrm::capture::{CaptureHeader, format_header, format_record};
use auren_strap::simulator::{SIMULATOR_ADDRESS, Scenario, Simulator, SimulatorConfig, notifications};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use crate::duration::parse_duration;

#[derive(clap::Args)]
pub struct Args {
    /// rest, fatigued, exercise or breathing.
    #[arg(long)]
    pub scenario: String,
    /// Simulated time: 90s, 5m, 1h, …
    #[arg(long)]
    pub duration: String,
    /// The same seed gives the same recording.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The capture to write (`.hrmcap`).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let scenario: Scenario = args.scenario.parse()?;
    let duration = parse_duration(&args.duration)?;
    let mut config = SimulatorConfig::new(scenario, args.seed);
    config.duration = Some(duration);
    let simulator = Simulator::new(config.clone())?;
    let header = CaptureHeader::new()
        .with_device_name(simulator.device_name())
        .with_address(SIMULATOR_ADDRESS)
        .with("scenario", scenario.name())
        .with("seed", args.seed.to_string());
    let file =
        std::fs::File::create(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut out = BufWriter::new(file);
    let write_error = || format!("cannot write {}", args.out.display());
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
        args.seed,
        args.out.display()
    );
    Ok(())
}
