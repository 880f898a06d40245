//! Shared helpers: reference files, a sink that keeps everything, driving a pipeline from a source.

use std::path::PathBuf;

use auren_cep::Alert;
use auren_engine::dto::LiveUpdateDto;
use auren_engine::{LabelledBeat, Sink};

pub fn reference(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/reference")
        .join(name)
}

/// Keeps every output of a pipeline.
#[derive(Default)]
pub struct Collected {
    pub beats: Vec<LabelledBeat>,
    pub gaps: Vec<(f64, f64)>,
    pub hr: Vec<(f64, f64)>,
    pub metrics: Vec<(f64, Vec<(&'static str, f64)>)>,
    pub alerts: Vec<Alert>,
    pub updates: Vec<LiveUpdateDto>,
}

impl Sink for Collected {
    fn beat(&mut self, beat: &LabelledBeat) {
        self.beats.push(beat.clone());
    }
    fn gap(&mut self, from_ms: f64, to_ms: f64) {
        self.gaps.push((from_ms, to_ms));
    }
    fn heart_rate(&mut self, at_ms: f64, bpm: f64) {
        self.hr.push((at_ms, bpm));
    }
    fn metrics(&mut self, at_ms: f64, values: &[(&'static str, f64)]) {
        self.metrics.push((at_ms, values.to_vec()));
    }
    fn alert(&mut self, alert: &Alert) {
        self.alerts.push(alert.clone());
    }
    fn update(&mut self, update: LiveUpdateDto) {
        self.updates.push(update);
    }
}
