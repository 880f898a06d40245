//! `auren analyze FILE`: the full HRV panel of one recording, as JSON or a Kubios-style text report.

#[derive(clap::Args)]
pub struct Args {
    /// The recording to analyze.
    pub file: std::path::PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    anyhow::bail!("{}: analysis is being written", args.file.display())
}
