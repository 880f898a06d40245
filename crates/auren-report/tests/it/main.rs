//! Integration tests of auren-report: the images (PNG, SVG), the text exports, the refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod images;
mod refusals;
mod text;

use auren_report::{MetricRow, ReportBeat, ReportInput, Spectrum};
use std::path::PathBuf;

/// A reference recording (ms per line) from tests/data/reference.
pub fn reference(name: &str) -> Vec<f64> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/reference")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.parse().unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// An owned report input; [`Fixture::input`] borrows it as the renderer wants it.
pub struct Fixture {
    pub title: String,
    pub source: String,
    pub simulated: bool,
    /// (session time s, RR ms, artifact kind).
    pub beats: Vec<(f64, f64, Option<&'static str>)>,
    pub nn_ms: Vec<f64>,
    pub spectrum: Option<(Vec<f64>, Vec<f64>, &'static str)>,
    pub metrics: Vec<(&'static str, &'static str, String)>,
}

impl Fixture {
    /// Beats at their cumulative times, artifacts labelled and corrected by auren-hrv, a few metrics.
    pub fn from_rr(rr: &[f64]) -> Fixture {
        let correction = auren_hrv::artifacts::correct(rr);
        let mut kinds = vec![None; rr.len()];
        for a in &correction.artifacts {
            kinds[a.index] = Some(a.kind.as_str());
        }
        let mut t = 0.0;
        let beats = rr
            .iter()
            .zip(kinds)
            .map(|(&v, kind)| {
                t += v / 1000.0;
                (t, v, kind)
            })
            .collect();
        let mean = correction.corrected.iter().sum::<f64>() / correction.corrected.len().max(1) as f64;
        Fixture::new(
            beats,
            correction.corrected,
            vec![
                ("Time domain", "Mean RR", format!("{mean:.0} ms")),
                ("Time domain", "RMSSD", "42.0 ms".to_owned()),
                (
                    "Frequency domain",
                    "VLF power",
                    "— (needs at least 240 s of recording, got 2 s)".to_owned(),
                ),
                ("Nonlinear", "SD1", "30.1 ms".to_owned()),
                ("Artifacts", "Corrected beats", "0 of 3".to_owned()),
            ],
        )
    }

    pub fn new(
        beats: Vec<(f64, f64, Option<&'static str>)>,
        nn_ms: Vec<f64>,
        metrics: Vec<(&'static str, &'static str, String)>,
    ) -> Fixture {
        Fixture {
            title: "Rest session — 2026-11-21 07:02".to_owned(),
            source: "Imported file nsr_5min.rr".to_owned(),
            simulated: false,
            beats,
            nn_ms,
            spectrum: None,
            metrics,
        }
    }

    /// Runs `f` on the input borrowing this fixture (the renderer takes borrowed rows).
    pub fn with_input<R>(&self, f: impl FnOnce(&ReportInput<'_>) -> R) -> R {
        let beats: Vec<ReportBeat<'_>> = self
            .beats
            .iter()
            .map(|&(t_s, rr_ms, artifact)| ReportBeat { t_s, rr_ms, artifact })
            .collect();
        let metrics: Vec<MetricRow<'_>> = self
            .metrics
            .iter()
            .map(|(group, label, value)| MetricRow {
                group,
                label,
                value: value.clone(),
            })
            .collect();
        let input = ReportInput {
            title: &self.title,
            source: &self.source,
            simulated: self.simulated,
            beats: &beats,
            nn_ms: &self.nn_ms,
            spectrum: self
                .spectrum
                .as_ref()
                .map(|(freq_hz, power_ms2_hz, method)| Spectrum {
                    freq_hz,
                    power_ms2_hz,
                    method,
                }),
            metrics: &metrics,
        };
        f(&input)
    }
}
