//! Peak memory per beat of the science in `auren analyze`, for `cargo xtask bench hrv`: one workload on
//! an RR file repeated end to end to BEATS intervals, then one JSON line with the process's peak resident
//! memory (VmHWM) above what it held once the series was built.
//!
//! usage: memory_per_beat <correct|panel|corrected-panel> FILE.rr BEATS
//!
//! The high-water mark is per process, so run one workload per process.

use auren_hrv::{artifacts, panel};
use std::hint::black_box;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, file, beats] = args.as_slice() else {
        return Err("usage: memory_per_beat <correct|panel|corrected-panel> FILE.rr BEATS".into());
    };
    let beats: usize = beats
        .parse()
        .map_err(|_| format!("BEATS {beats:?} is not a count"))?;
    let one: Vec<f64> = {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
        text.split_whitespace()
            .map(|v| v.parse().map_err(|_| format!("{file}: {v:?} is not a number")))
            .collect::<Result<_, _>>()?
    };
    if one.is_empty() {
        return Err(format!("{file} holds no intervals"));
    }
    let mut rr = Vec::with_capacity(beats);
    rr.extend(one.iter().cycle().take(beats));
    drop(one);
    let before = status_kb("VmRSS:").ok_or("cannot read /proc/self/status")?;

    let options = panel::PanelOptions::default();
    match mode.as_str() {
        "correct" => {
            black_box(artifacts::correct(black_box(&rr)));
        }
        "panel" => {
            black_box(panel::analyze(black_box(&rr), &options));
        }
        "corrected-panel" => {
            // As `auren analyze` does: the raw series stays, the corrected one is analysed, and the
            // raw-index map is not kept through the panel.
            let artifacts::Correction { corrected, .. } = artifacts::correct(black_box(&rr));
            black_box(panel::analyze(&corrected, &options));
        }
        other => return Err(format!("unknown mode {other:?}")),
    }
    let peak = status_kb("VmHWM:").ok_or("cannot read /proc/self/status")?;
    println!(
        "{{\"mode\": \"{mode}\", \"beats\": {beats}, \"series_mb\": {:.1}, \"peak_mb\": {:.1}, \
         \"bytes_per_beat_above_series\": {:.1}}}",
        before / 1024.0,
        peak / 1024.0,
        (peak - before) * 1024.0 / beats as f64
    );
    Ok(())
}

/// A `kB` field of /proc/self/status (Linux).
fn status_kb(field: &str) -> Option<f64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
