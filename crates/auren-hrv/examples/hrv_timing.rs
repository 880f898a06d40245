//! Timing harness for `cargo xtask bench hrv`: runs one workload on an RR file and prints one JSON line.
//!
//! usage: hrv_timing <panel|corrected-panel|kubios-panel|rolling> FILE.rr REPEATS TILE
//! - `panel`: the full metric panel; `corrected-panel`: artifact correction, then the full panel;
//!   `kubios-panel`: the panel with Kubios's settings (ApEn and the AR spectrum included);
//!   `rolling`: per-beat updates of the 60 s and 5 min live windows, reporting latency percentiles.
//! - TILE repeats the series end to end (24 × nsr_60min.rr = a 24-hour recording).
//!
//! Peak memory is the process's high-water mark (VmHWM), so run one workload per process.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use auren_hrv::{artifacts, panel, rolling::RollingWindow, settings::Settings};
use std::hint::black_box;
use std::time::Instant;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, file, repeats, tile] = args.as_slice() else {
        return Err(
            "usage: hrv_timing <panel|corrected-panel|kubios-panel|rolling> FILE.rr REPEATS TILE".into(),
        );
    };
    let repeats: usize = repeats
        .parse()
        .map_err(|_| format!("REPEATS {repeats:?} is not a count"))?;
    let tile: usize = tile
        .parse()
        .map_err(|_| format!("TILE {tile:?} is not a count"))?;
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let one: Vec<f64> = text
        .split_whitespace()
        .map(|v| {
            v.parse::<f64>()
                .map_err(|_| format!("{file}: {v:?} is not a number"))
        })
        .collect::<Result<_, _>>()?;
    let rr: Vec<f64> = std::iter::repeat_n(one.as_slice(), tile)
        .flatten()
        .copied()
        .collect();
    let options = panel::PanelOptions::default();
    let kubios = Settings::kubios();

    let mut times = Vec::with_capacity(repeats);
    match mode.as_str() {
        "panel" | "corrected-panel" | "kubios-panel" => {
            for _ in 0..repeats.max(1) {
                let start = Instant::now();
                match mode.as_str() {
                    "panel" => {
                        black_box(panel::analyze(black_box(&rr), &options));
                    }
                    "kubios-panel" => {
                        black_box(panel::analyze_with(black_box(&rr), &kubios));
                    }
                    _ => {
                        let correction = artifacts::correct(black_box(&rr));
                        black_box(panel::analyze(&correction.corrected, &options));
                    }
                }
                times.push(start.elapsed().as_secs_f64());
            }
            times.sort_by(f64::total_cmp);
            println!(
                "{{\"ok\": true, \"n_beats\": {}, \"median_s\": {:e}, \"min_s\": {:e}, \"peak_rss_mb\": {:.1}}}",
                rr.len(),
                times[times.len() / 2],
                times[0],
                peak_rss_mb()
            );
        }
        "rolling" => {
            let mut minute = RollingWindow::new(60_000.0).map_err(|e| e.to_string())?;
            let mut five = RollingWindow::new(300_000.0).map_err(|e| e.to_string())?;
            let mut t = 0.0;
            let mut per_beat = Vec::with_capacity(rr.len());
            for &x in &rr {
                t += x;
                let start = Instant::now();
                black_box(minute.push(t, x).map_err(|e| e.to_string())?);
                black_box(five.push(t, x).map_err(|e| e.to_string())?);
                per_beat.push(start.elapsed().as_secs_f64());
            }
            per_beat.sort_by(f64::total_cmp);
            let pct = |p: f64| per_beat[((per_beat.len() - 1) as f64 * p) as usize] * 1e6;
            println!(
                "p50 {:.2} µs, p99 {:.2} µs, max {:.2} µs per beat (both windows)",
                pct(0.5),
                pct(0.99),
                pct(1.0)
            );
        }
        other => return Err(format!("unknown mode {other:?}")),
    }
    Ok(())
}

/// The process's peak resident set (VmHWM) in MB, from /proc on Linux; 0 where it cannot be read.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
