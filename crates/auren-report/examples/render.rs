//! Renders a recording (default: the 5-minute reference) to /tmp/auren-report.png and .svg, to look at.
//!
//! `cargo run -p auren-report --release --example render -- [file.rr (ms per line)] [--simulated]
//! [--size 800x600]`
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use auren_hrv::artifacts;
use auren_hrv::panel::{PanelOptions, analyze};
use auren_report::{
    DEFAULT_HEIGHT, DEFAULT_WIDTH, MetricRow, ReportBeat, ReportInput, render_png, render_svg,
};
use std::path::PathBuf;
use std::time::Instant;

/// (panel key, table column, label, unit, decimals) for the rows the report shows.
const ROWS: &[(&str, &str, &str, &str, usize)] = &[
    ("mean_nn_ms", "Time domain", "Mean RR", "ms", 0),
    ("sdnn_ms", "Time domain", "SDNN", "ms", 1),
    ("rmssd_ms", "Time domain", "RMSSD", "ms", 1),
    ("ln_rmssd", "Time domain", "ln RMSSD", "", 2),
    ("pnn50_pct", "Time domain", "pNN50", "%", 1),
    ("mean_hr_bpm", "Time domain", "Mean HR", "bpm", 0),
    ("min_hr_bpm", "Time domain", "Min HR", "bpm", 0),
    ("max_hr_bpm", "Time domain", "Max HR", "bpm", 0),
    ("vlf_ms2", "Frequency domain", "VLF power", "ms²", 0),
    ("lf_ms2", "Frequency domain", "LF power", "ms²", 0),
    ("hf_ms2", "Frequency domain", "HF power", "ms²", 0),
    ("total_power_ms2", "Frequency domain", "Total power", "ms²", 0),
    ("lf_hf", "Frequency domain", "LF/HF", "", 2),
    ("lf_nu", "Frequency domain", "LF", "n.u.", 1),
    ("hf_nu", "Frequency domain", "HF", "n.u.", 1),
    ("lf_peak_hz", "Frequency domain", "LF peak", "Hz", 3),
    ("hf_peak_hz", "Frequency domain", "HF peak", "Hz", 3),
    ("sd1_ms", "Nonlinear", "SD1", "ms", 1),
    ("sd2_ms", "Nonlinear", "SD2", "ms", 1),
    ("sd2_sd1", "Nonlinear", "SD2/SD1", "", 2),
    ("sampen", "Nonlinear", "SampEn", "", 2),
    ("dfa_alpha1", "Nonlinear", "DFA α1", "", 2),
    ("dfa_alpha2", "Nonlinear", "DFA α2", "", 2),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let simulated = args.iter().any(|a| a == "--simulated");
    let size = args
        .iter()
        .position(|a| a == "--size")
        .and_then(|i| args.get(i + 1));
    let (width, height) = match size.and_then(|s| s.split_once('x')) {
        Some((w, h)) => (w.parse()?, h.parse()?),
        None => (DEFAULT_WIDTH, DEFAULT_HEIGHT),
    };
    let path = args
        .iter()
        .find(|a| !a.starts_with("--") && Some(*a) != size)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/reference/nsr_5min.rr")
        });
    let text = std::fs::read_to_string(&path)?;
    let rr: Vec<f64> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::parse)
        .collect::<Result<_, _>>()?;

    let correction = artifacts::correct(&rr);
    let mut kinds = vec![None; rr.len()];
    for a in &correction.artifacts {
        kinds[a.index] = Some(a.kind.as_str());
    }
    let mut t = 0.0;
    let beats: Vec<ReportBeat<'_>> = rr
        .iter()
        .zip(&kinds)
        .map(|(&rr_ms, &artifact)| {
            t += rr_ms / 1000.0;
            ReportBeat {
                t_s: t,
                rr_ms,
                artifact,
            }
        })
        .collect();

    let panel = analyze(&correction.corrected, &PanelOptions::default());
    let mut metrics: Vec<MetricRow<'_>> = ROWS
        .iter()
        .map(|&(key, group, label, unit, decimals)| MetricRow {
            group,
            label,
            value: match panel.get(key) {
                Some(Ok(v)) if unit.is_empty() => format!("{v:.decimals$}"),
                Some(Ok(v)) => format!("{v:.decimals$} {unit}"),
                Some(Err(why)) => format!("— ({why})"),
                None => "— (unknown metric)".to_owned(),
            },
        })
        .collect();
    let counts = |kind: &str| kinds.iter().filter(|k| **k == Some(kind)).count();
    let total = correction.artifacts.len();
    metrics.push(MetricRow {
        group: "Artifacts",
        label: "Corrected beats",
        value: format!(
            "{total} of {} ({:.1} %)",
            rr.len(),
            100.0 * total as f64 / rr.len() as f64
        ),
    });
    for (kind, label) in [
        ("ectopic", "Ectopic"),
        ("missed", "Missed"),
        ("extra", "Extra"),
        ("long_short", "Long/short"),
    ] {
        metrics.push(MetricRow {
            group: "Artifacts",
            label,
            value: counts(kind).to_string(),
        });
    }

    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let source = if simulated {
        "Simulated strap — scenario fatigued".to_owned()
    } else {
        format!("Imported file {name} (RR in ms)")
    };
    let input = ReportInput {
        title: "Rest session — 2026-11-21 07:02",
        source: &source,
        simulated,
        beats: &beats,
        nn_ms: &correction.corrected,
        spectrum: None,
        metrics: &metrics,
    };
    let started = Instant::now();
    let png = render_png(&input, width, height)?;
    let png_time = started.elapsed();
    let started = Instant::now();
    let svg = render_svg(&input, width, height)?;
    let svg_time = started.elapsed();
    std::fs::write("/tmp/auren-report.png", &png)?;
    std::fs::write("/tmp/auren-report.svg", &svg)?;
    println!(
        "{} beats: render_png {:.1} ms ({} bytes), render_svg {:.1} ms ({} bytes) -> /tmp/auren-report.png, .svg",
        rr.len(),
        png_time.as_secs_f64() * 1000.0,
        png.len(),
        svg_time.as_secs_f64() * 1000.0,
        svg.len()
    );
    Ok(())
}
