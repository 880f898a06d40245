//! `auren strap scan [--seconds N]`: the heart-rate straps in range (service 0x180D) with name, address
//! and signal strength.

use anyhow::bail;
use std::time::Duration;

use crate::places::runtime;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: StrapCommand,
}

#[derive(clap::Subcommand)]
pub enum StrapCommand {
    /// Scan for heart-rate straps.
    Scan {
        /// How long to listen.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Which Bluetooth adapter (0 = the first).
        #[arg(long, default_value_t = 0)]
        adapter: usize,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        StrapCommand::Scan { seconds, adapter } => runtime()?.block_on(scan(seconds, adapter)),
    }
}

async fn scan(seconds: u64, adapter: usize) -> anyhow::Result<()> {
    if seconds == 0 {
        bail!("--seconds must be at least 1");
    }
    let adapters = auren_strap::ble::adapters()
        .await
        .map_err(crate::record::no_bluetooth)?;
    if adapters.is_empty() {
        bail!("no Bluetooth adapter found: plug one in or start BlueZ, then try again");
    }
    println!("Scanning for {seconds} s on adapter {adapter}…");
    let straps = auren_strap::ble::scan(adapter, Duration::from_secs(seconds)).await?;
    if straps.is_empty() {
        println!("No heart-rate strap seen. Wear it (a dry strap sleeps) and scan again.");
        return Ok(());
    }
    println!("{:<19}  {:>9}  name", "address", "RSSI");
    for strap in straps {
        let rssi = strap.rssi.map_or("–".to_owned(), |r| format!("{r} dBm"));
        println!(
            "{:<19}  {:>9}  {}",
            strap.address,
            rssi,
            strap.name.as_deref().unwrap_or("(no name)")
        );
    }
    println!("Record with: auren record --strap ADDRESS");
    Ok(())
}
