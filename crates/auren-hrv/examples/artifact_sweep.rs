//! The artifact sweep of `cargo xtask bench hrv`: the shipped clean recordings cut into stretches,
//! one injected artifact at a time (see `auren_hrv::sweep`); prints the figures.
//!
//! usage: artifact_sweep DIR [--list] [--placement even|trend|levels]  (DIR holds nsr_5min.rr and
//! nsr_60min.rr; `--list` also prints every injection that was not labelled exactly, brought other
//! labels or moved RMSSD more than 1 %; `--placement` chooses where the correction puts restored
//! intervals, levels by default as in `auren_hrv::artifacts::correct`)
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use auren_hrv::artifacts::{CorrectionConfig, Placement};
use auren_hrv::sweep::{self, Injection, Summary, SweepConfig, Verdict};

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        return Err("usage: artifact_sweep DIR [--list] [--placement even|trend|levels]".into());
    };
    let list = args.iter().any(|a| a == "--list");
    let placement = match args
        .iter()
        .position(|a| a == "--placement")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
    {
        None => CorrectionConfig::default().placement,
        Some("even") => Placement::Even,
        Some("trend") => Placement::Trend,
        Some("levels") => Placement::Levels,
        Some(other) => return Err(format!("--placement {other:?}: even, trend or levels")),
    };
    let load = |name: &str| -> Result<Vec<f64>, String> {
        let path = format!("{dir}/{name}");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        text.split_whitespace()
            .map(|v| v.parse().map_err(|_| format!("{path}: {v:?} is not a number")))
            .collect()
    };
    let five = load("nsr_5min.rr")?;
    let hour = load("nsr_60min.rr")?;
    let stretches = sweep::stretches(&[&five, &hour]);
    let config = SweepConfig {
        correction: CorrectionConfig {
            placement,
            ..CorrectionConfig::default()
        },
        ..SweepConfig::default()
    };
    let summary = sweep::sweep(&stretches, &config);

    if list {
        for o in &summary.outcomes {
            if o.verdict != Verdict::Exact || o.false_flags > 0 || o.rmssd_error > 0.01 {
                println!("{o:?}");
            }
        }
    }
    println!(
        "Artifact sweep ({placement:?} placement{}): {} single injections (ectopic {:.0} % premature + compensatory pause, missed = two \
         merged, extra = one split {:.0}/{:.0}; one every 20 beats) in {} clean stretches of the shipped \
         recordings ({} beats)",
        if placement == CorrectionConfig::default().placement {
            ", the default"
        } else {
            ""
        },
        summary.outcomes.len(),
        sweep::ECTOPIC_PREMATURITY * 100.0,
        sweep::EXTRA_SPLIT * 100.0,
        (1.0 - sweep::EXTRA_SPLIT) * 100.0,
        stretches.len(),
        stretches.iter().map(|s| s.len()).sum::<usize>(),
    );
    println!(
        "  {:<10} {:>6} {:>15} {:>11} {:>11} {:>12} {:>13} {:>13} {:>15}",
        "kind",
        "count",
        "exact",
        "right kind",
        "wrong kind",
        "missed",
        "RMSSD > 2 %",
        "RMSSD > 1 %",
        "NN-only > 2 %"
    );
    for injection in Injection::ALL {
        row(&format!("{injection:?}").to_lowercase(), &summary.of(injection));
    }
    row("all", &summary);
    println!(
        "  false flags: {} (labels besides the injected one, all runs), {} on the clean stretches themselves",
        summary.false_flags(),
        summary.clean_flags
    );
    if let Some(w) = summary.worst_rmssd() {
        println!(
            "  worst corrected RMSSD error: {:.2} % ({:?} at beat {} of stretch {}, labelled {:?})",
            w.rmssd_error * 100.0,
            w.injection,
            w.at,
            w.stretch,
            w.verdict
        );
    }
    let worst_nn = summary
        .outcomes
        .iter()
        .map(|o| o.rmssd_nn_only_error)
        .fold(0.0, f64::max);
    println!(
        "  mean corrected RMSSD error {:.3} % (with its sign {:+.3} %); leaving out differences that touch a corrected interval \
         (NN-only): mean {:.3} %, worst {:.2} %, {} over 1 %, {} over 2 %",
        100.0 * summary.mean_rmssd_error(),
        100.0 * summary.mean_rmssd_change(),
        100.0 * summary.mean_rmssd_nn_only_error(),
        100.0 * worst_nn,
        summary.nn_only_off_by_more_than(0.01),
        summary.nn_only_off_by_more_than(0.02),
    );
    Ok(())
}

fn row(name: &str, s: &Summary) {
    let n = s.outcomes.len();
    let cell = |k: usize| format!("{k} ({:.1} %)", 100.0 * k as f64 / n.max(1) as f64);
    println!(
        "  {name:<10} {n:>6} {:>15} {:>11} {:>11} {:>12} {:>13} {:>13} {:>15}",
        cell(s.count(Verdict::Exact)),
        s.count(Verdict::RightKind),
        s.count(Verdict::WrongKind),
        s.count(Verdict::Missed),
        s.rmssd_off_by_more_than(0.02),
        s.rmssd_off_by_more_than(0.01),
        s.nn_only_off_by_more_than(0.02),
    );
}
