//! The metric panel against `tests/data/reference/expected.json`, key by key, within the README's
//! tolerances.

use auren_hrv::panel::{KEYS, PanelOptions, analyze};
use serde_json::Value;

pub fn reference_path(name: &str) -> String {
    format!("{}/../../tests/data/reference/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub fn load_rr(name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(reference_path(name)).expect("reference file readable");
    text.split_whitespace()
        .map(|v| v.parse().expect("RR value parses"))
        .collect()
}

fn expected() -> Value {
    let text = std::fs::read_to_string(reference_path("expected.json")).expect("expected.json readable");
    serde_json::from_str(&text).expect("expected.json parses")
}

/// How close a key must come to the reference (README, "Tolerances").
#[derive(Debug, Clone, Copy)]
enum Tolerance {
    Relative(f64),
    Exact,
}

fn tolerance(key: &str) -> Tolerance {
    match key {
        "sampen" | "dfa_alpha1" | "dfa_alpha2" => Tolerance::Relative(1e-6),
        "lf_peak_hz" | "hf_peak_hz" => Tolerance::Exact,
        "vlf_ms2" | "lf_ms2" | "hf_ms2" | "total_power_ms2" | "lf_hf" | "lf_nu" | "hf_nu" => {
            Tolerance::Relative(5e-3)
        }
        _ => Tolerance::Relative(1e-9),
    }
}

/// The artifact-free reference recordings (the artifact file is the artifact helper's business).
const FILES: [&str; 2] = ["nsr_5min.rr", "nsr_60min.rr"];

#[test]
fn every_reference_value_is_reproduced_within_tolerance() {
    let expected = expected();
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in FILES {
        let rr = load_rr(file);
        let panel = analyze(&rr, &PanelOptions::default());
        let want = expected[file].as_object().expect("file entry is an object");
        assert_eq!(
            panel.n_beats as u64,
            want["n_beats"].as_u64().expect("n_beats is an integer"),
            "{file}"
        );
        for (key, value) in want.iter().filter(|(k, _)| k.as_str() != "n_beats") {
            let want = value.as_f64().expect("reference value is a number");
            let got = match panel.get(key) {
                Some(Ok(v)) => *v,
                other => {
                    failures.push(format!("{file} {key}: expected {want}, got {other:?}"));
                    continue;
                }
            };
            checked += 1;
            let ok = match tolerance(key) {
                Tolerance::Exact => got == want,
                Tolerance::Relative(tol) => ((got - want) / want).abs() <= tol,
            };
            if !ok {
                failures.push(format!(
                    "{file} {key}: expected {want}, got {got} (rel. {:.2e})",
                    ((got - want) / want).abs()
                ));
            }
        }
    }
    assert_eq!(
        checked,
        2 * 28,
        "every float key of both files was compared; failures: {failures:#?}"
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_reference_key_is_a_panel_key() {
    let expected = expected();
    for file in FILES {
        for key in expected[file]
            .as_object()
            .expect("object")
            .keys()
            .filter(|k| k.as_str() != "n_beats")
        {
            assert!(KEYS.contains(&key.as_str()), "{key} missing from the panel keys");
        }
    }
}

#[test]
fn entries_follow_the_key_order_and_get_finds_each() {
    let panel = analyze(&load_rr("nsr_5min.rr"), &PanelOptions::default());
    let keys: Vec<&str> = panel.entries().map(|(k, _)| k).collect();
    assert_eq!(keys, KEYS);
    for (key, metric) in panel.entries() {
        assert_eq!(panel.get(key), Some(metric));
        assert!(
            metric.is_ok(),
            "{key} is present for a clean 5-minute recording: {metric:?}"
        );
    }
    assert_eq!(panel.get("no_such_metric"), None);
}
