//! `auren analyze`: every input format, both output formats, and every error a person can provoke.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn reference(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/reference")
        .join(name)
}

fn auren(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_auren"))
        .args(args)
        .output()
        .expect("the auren binary runs")
}

fn analyze_json(path: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "analyze",
        path.to_str().expect("UTF-8 temp path"),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = auren(&args);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("analyze prints JSON")
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("the temp dir is writable");
    path
}

fn rr_values(name: &str) -> Vec<f64> {
    std::fs::read_to_string(reference(name))
        .expect("reference data is in the repo")
        .split_whitespace()
        .map(|v| v.parse().expect("reference RR values are numbers"))
        .collect()
}

#[test]
fn json_metrics_reproduce_the_reference_values_under_their_reference_names() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(reference("expected.json")).unwrap()).unwrap();
    for file in ["nsr_5min.rr", "nsr_60min.rr"] {
        // The reference values are defined on the series as recorded.
        let got = analyze_json(&reference(file), &["--no-correction"]);
        assert_eq!(got["n_beats_raw"], expected[file]["n_beats"], "{file}");
        assert_eq!(got["corrected"], Value::Bool(false));
        let metrics = got["metrics"].as_object().unwrap();
        for (key, want) in expected[file].as_object().unwrap() {
            let have = metrics
                .get(key)
                .unwrap_or_else(|| panic!("{file}: metric {key} missing"));
            let (want, have) = (want.as_f64().unwrap(), have.as_f64().unwrap());
            // The CLI's own tolerance is the loosest of the reference README's (spectral, 0.5 %): the HRV
            // crate's tests hold each family to its own tighter bound.
            assert!(
                (have - want).abs() <= 5e-3 * want.abs(),
                "{file}: {key} = {have}, reference {want}"
            );
        }
        for extra in ["tri_index", "tinn_ms", "stress_index"] {
            assert!(
                metrics[extra].as_f64().is_some_and(f64::is_finite),
                "{file}: {extra}"
            );
        }
    }
}

#[test]
fn default_correction_leaves_a_clean_recording_alone() {
    // The pattern labeller finds no artifact in the clean nsr_5min.rr (it used to flag one borderline
    // long beat at raw index 73), so the corrected panel is the reference panel.
    let got = analyze_json(&reference("nsr_5min.rr"), &[]);
    assert_eq!(got["corrected"], Value::Bool(true));
    assert_eq!(got["artifacts"], serde_json::json!([]));
    assert_eq!(got["metrics"]["n_beats"], 337);
    let rmssd = got["metrics"]["rmssd_ms"].as_f64().unwrap();
    assert!(
        (rmssd - 101.30063401766522).abs() / 101.30063401766522 < 1e-9,
        "RMSSD {rmssd}"
    );
}

#[test]
fn artifacts_are_listed_by_raw_index_and_kind_and_correction_restores_rmssd() {
    let got = analyze_json(&reference("nsr_5min_artifacts.rr"), &[]);
    let kinds: Vec<&str> = got["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    for kind in ["missed", "extra", "ectopic"] {
        assert!(kinds.contains(&kind), "{kind} not found in {kinds:?}");
    }
    for artifact in got["artifacts"].as_array().unwrap() {
        let index = artifact["index"].as_u64().unwrap();
        assert!(
            [99, 100, 101, 199, 200, 201, 249, 250, 251, 252].contains(&index),
            "unexpected artifact at {index}"
        );
    }
    let rmssd = got["metrics"]["rmssd_ms"].as_f64().unwrap();
    assert!(
        (rmssd - 101.30063401766522).abs() / 101.30063401766522 < 0.05,
        "corrected RMSSD {rmssd}"
    );

    let raw = analyze_json(&reference("nsr_5min_artifacts.rr"), &["--no-correction"]);
    assert_eq!(raw["corrected"], Value::Bool(false));
    assert_eq!(raw["metrics"]["n_beats"], 337);
    assert!(
        raw["metrics"]["rmssd_ms"].as_f64().unwrap() > 120.0,
        "raw RMSSD keeps the artifacts"
    );
    assert_eq!(
        raw["artifacts"], got["artifacts"],
        "detection does not depend on correction"
    );
}

#[test]
fn lomb_scargle_gives_the_same_keys_and_comparable_band_powers() {
    let welch = analyze_json(&reference("nsr_5min.rr"), &[]);
    let lomb = analyze_json(&reference("nsr_5min.rr"), &["--lomb"]);
    assert_eq!(lomb["spectrum"], "lomb_scargle");
    for key in ["lf_ms2", "hf_ms2", "lf_nu", "hf_nu"] {
        let (w, l) = (
            welch["metrics"][key].as_f64().unwrap(),
            lomb["metrics"][key].as_f64().unwrap(),
        );
        assert!(
            l > 0.0 && l / w > 0.5 && l / w < 2.0,
            "{key}: Welch {w}, Lomb {l}"
        );
    }
}

#[test]
fn every_text_format_reads_to_the_same_series() {
    let dir = tempfile::tempdir().unwrap();
    let rr = rr_values("nsr_5min.rr");
    let seconds: String = rr.iter().map(|v| format!("{}\n", v / 1000.0)).collect();
    let polar: String = std::iter::once("Phone timestamp;RR-interval [ms]\n".to_string())
        .chain(
            rr.iter()
                .enumerate()
                .map(|(i, v)| format!("2026-11-21T07:{:02}:00.000;{v}\n", i % 60)),
        )
        .collect();
    let elite: String = std::iter::once("timestamp,HR,RR\n".to_string())
        .chain(rr.iter().map(|v| format!("1,{:.0},{v}\n", 60000.0 / v)))
        .collect();
    let ibi_seconds: String = std::iter::once("\"Time\",\"IBI (s)\"\n".to_string())
        .chain(rr.iter().map(|v| format!("0,{}\n", v / 1000.0)))
        .collect();
    let baseline = analyze_json(&reference("nsr_5min.rr"), &[]);
    for (name, text, format) in [
        ("kubios.txt", seconds.as_str(), "rr_seconds"),
        ("polar.csv", polar.as_str(), "csv"),
        ("elite.csv", elite.as_str(), "csv"),
        ("ibi.csv", ibi_seconds.as_str(), "csv"),
    ] {
        let got = analyze_json(&write(&dir, name, text), &[]);
        assert_eq!(got["format"], format, "{name}");
        assert_eq!(got["n_beats_raw"], 337, "{name}");
        let (a, b) = (
            got["metrics"]["rmssd_ms"].as_f64().unwrap(),
            baseline["metrics"]["rmssd_ms"].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-6, "{name}: RMSSD {a} vs {b}");
    }
}

#[test]
fn a_capture_goes_through_the_strap_decoder_and_bad_notifications_are_reported_with_their_line() {
    use auren_hrm::{
        HeartRateMeasurement, HrFormat, RrInterval, SensorContact, encode_heart_rate_measurement,
    };
    let dir = tempfile::tempdir().unwrap();
    let rr = rr_values("nsr_5min.rr");
    let mut text = String::from("# auren-capture v1 device=Test%20Strap\n");
    let mut at = 0u64;
    for pair in rr.chunks(2) {
        let m = HeartRateMeasurement {
            heart_rate_bpm: 60,
            contact: SensorContact::Detected,
            energy_expended_kj: None,
            rr: pair.iter().map(|ms| RrInterval::from_ms(*ms).unwrap()).collect(),
        };
        at += pair.iter().sum::<f64>() as u64;
        let payload = encode_heart_rate_measurement(&m, HrFormat::U8);
        text.push_str(&auren_hrm::capture::format_record(at, &payload));
    }
    // Line 171: an RR-present notification with an odd number of RR bytes.
    text.push_str(&format!("{} 1040ff0301\n", at + 1000));
    let path = write(&dir, "session.hrmcap", &text);
    let out = auren(&["analyze", path.to_str().unwrap(), "--format", "json"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 171") && stderr.contains("malformed"),
        "stderr: {stderr}"
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["format"], "hrmcap");
    assert_eq!(got["n_beats_raw"], 337);
    // Strap resolution is 1/1024 s: RMSSD agrees with the ms file to well under a percent.
    let rmssd = got["metrics"]["rmssd_ms"].as_f64().unwrap();
    assert!(
        (rmssd - 101.30063401766522).abs() < 0.5,
        "RMSSD from the capture {rmssd}"
    );
}

#[test]
fn text_report_is_grouped_like_kubios() {
    let out = auren(&[
        "analyze",
        reference("nsr_5min.rr").to_str().unwrap(),
        "--no-correction",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let positions: Vec<usize> = [
        "RR interval series",
        "Time domain",
        "Frequency domain",
        "Nonlinear",
    ]
    .iter()
    .map(|h| {
        text.find(h)
            .unwrap_or_else(|| panic!("no {h} section in\n{text}"))
    })
    .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "sections out of order:\n{text}"
    );
    assert!(text.contains("RMSSD") && text.contains("101.3 ms"), "{text}");
    assert!(text.contains("DFA α1") && text.contains("0.665"), "{text}");
}

#[test]
fn bad_input_gets_one_clear_line_and_a_failing_exit() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(PathBuf, &str)> = vec![
        (dir.path().join("missing.rr"), "cannot read"),
        (write(&dir, "empty.rr", ""), "empty"),
        (write(&dir, "blank.rr", "\n \n"), "empty"),
        (
            write(&dir, "word.rr", "800\n810\nabc\n"),
            "line 3: \"abc\" is not a number",
        ),
        (
            write(&dir, "short.rr", "800\n150\n"),
            "line 2: RR interval 150 ms is outside 200–3000 ms",
        ),
        (
            write(&dir, "long.rr", "800\n3500\n"),
            "line 2: RR interval 3500 ms is outside",
        ),
        (write(&dir, "nocol.csv", "time,hr\n1,60\n"), "no RR or IBI column"),
        (write(&dir, "unknown.bin", "\u{1}\u{2}garbage"), "unknown format"),
        (write(&dir, "badcap.hrmcap", "# auren-capture v9\n0 1000\n"), "v9"),
        (write(&dir, "nan.rr", "800\nNaN\n"), "line 2"),
    ];
    for (path, needle) in cases {
        let out = auren(&["analyze", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{}: succeeded", path.display());
        assert!(out.stdout.is_empty(), "{}: printed a report", path.display());
        assert_eq!(
            stderr.lines().count(),
            1,
            "{}: not one line: {stderr}",
            path.display()
        );
        assert!(
            stderr.contains(needle),
            "{}: {stderr:?} does not say {needle:?}",
            path.display()
        );
    }
}

#[test]
fn default_output_states_the_reference_settings() {
    let got = analyze_json(&reference("nsr_5min.rr"), &["--no-correction"]);
    let settings = &got["settings"];
    assert_eq!(settings["preset"], "reference");
    assert_eq!(settings["spectrum"], "welch");
    assert_eq!(settings["detrend"], "smoothness_priors");
    assert_eq!(settings["detrend_lambda"], 500.0);
    assert_eq!(settings["window_s"], 256.0);
    assert_eq!(settings["points_per_hz"], "segment_bins");
    assert_eq!(settings["dfa_alpha1_beats"], serde_json::json!([4, 16]));
    assert_eq!(settings["minmax_hr_beats"], 1);
    assert_eq!(settings["mean_hr"], "mean_of_beat_hr");
    assert_eq!(settings["ar_order"], "not_computed");
    assert!(
        got["notes"][0].as_str().unwrap().contains("equally"),
        "{}",
        got["notes"]
    );
    // The extras are not computed by default; the cheap Kubios additions always are.
    let metrics = got["metrics"].as_object().unwrap();
    assert!(!metrics.contains_key("apen") && !metrics.contains_key("ar_lf_ms2"));
    for key in ["lf_rel", "hf_log", "pns_index", "sns_index"] {
        assert!(metrics[key].as_f64().is_some_and(f64::is_finite), "{key}");
    }
}

#[test]
fn the_kubios_preset_uses_kubios_definitions_and_options_override_it() {
    let file = reference("nsr_5min.rr");
    let kubios = analyze_json(&file, &["--no-correction", "--preset", "kubios"]);
    let s = &kubios["settings"];
    assert_eq!(s["preset"], "kubios");
    assert_eq!(s["window_s"], 300.0);
    assert_eq!(s["points_per_hz"], 300.0);
    assert_eq!(s["dfa_alpha1_beats"], serde_json::json!([4, 12]));
    assert_eq!(s["dfa_alpha2_beats"], serde_json::json!([13, 64]));
    assert_eq!(s["minmax_hr_beats"], 5);
    assert_eq!(s["mean_hr"], "60000_over_mean_rr");
    assert_eq!(s["stress_index"], "sqrt_baevsky_median_mo");
    assert_eq!(s["ar_order"], 16);
    assert_eq!(s["vlf_band_hz"], serde_json::json!([0.0, 0.04]));
    let m = &kubios["metrics"];
    let mean_hr = m["mean_hr_bpm"].as_f64().unwrap();
    assert!((mean_hr - 60000.0 / 888.9554896142433).abs() < 1e-9, "{mean_hr}");
    for key in ["apen", "ar_lf_ms2", "ar_hf_nu", "pns_index", "sns_index"] {
        assert!(m[key].as_f64().is_some_and(f64::is_finite), "{key}: {}", m[key]);
    }
    // Kubios's stress index is a square root: around 10, not around 100.
    assert!(
        m["stress_index"].as_f64().unwrap() < 30.0,
        "{}",
        m["stress_index"]
    );

    let overridden = analyze_json(
        &file,
        &[
            "--no-correction",
            "--preset",
            "kubios",
            "--dfa",
            "4-16,16-64",
            "--window",
            "256",
            "--detrend",
            "none",
            "--minmax-beats",
            "1",
        ],
    );
    let s = &overridden["settings"];
    assert_eq!(s["preset"], "kubios");
    assert_eq!(s["dfa_alpha1_beats"], serde_json::json!([4, 16]));
    assert_eq!(s["window_s"], 256.0);
    assert_eq!(s["detrend"], "none");
    assert_eq!(s["minmax_hr_beats"], 1);
    assert_eq!(
        s["mean_hr"], "60000_over_mean_rr",
        "not overridden, so still Kubios's"
    );
    let reference = analyze_json(&file, &["--no-correction"]);
    // With the reference DFA ranges the α values are the reference's.
    assert_eq!(
        overridden["metrics"]["dfa_alpha1"],
        reference["metrics"]["dfa_alpha1"]
    );
    assert_eq!(
        overridden["metrics"]["max_hr_bpm"],
        reference["metrics"]["max_hr_bpm"]
    );
}

#[test]
fn single_options_change_the_reference_pipeline() {
    let file = reference("nsr_5min.rr");
    let got = analyze_json(
        &file,
        &[
            "--no-correction",
            "--detrend",
            "priors:300",
            "--points-per-hz",
            "300",
            "--extras",
        ],
    );
    assert_eq!(got["settings"]["preset"], "reference");
    assert_eq!(got["settings"]["detrend_lambda"], 300.0);
    assert_eq!(got["settings"]["ar_order"], 16);
    assert!(got["metrics"]["apen"].as_f64().is_some_and(|v| v > 0.0));
    let peak = got["metrics"]["hf_peak_hz"].as_f64().unwrap() * 300.0;
    assert!(
        (peak - peak.round()).abs() < 1e-9,
        "HF peak not on the 1/300 Hz grid"
    );
}

#[test]
fn the_text_report_lists_the_settings_and_the_weighting_note() {
    let out = auren(&[
        "analyze",
        reference("nsr_5min.rr").to_str().unwrap(),
        "--preset",
        "kubios",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "\nSettings\n",
        "preset                      kubios",
        "dfa_alpha1_beats            4-12",
        "Stress index (√, Kubios)",
        "AR spectrum, Burg, order 16",
        "Approximate entropy",
        "PNS index",
        "weight their three z-scores equally",
    ] {
        assert!(text.contains(needle), "no {needle:?} in\n{text}");
    }
}

#[test]
fn bad_option_values_get_one_clear_line() {
    let file = reference("nsr_5min.rr");
    let file = file.to_str().unwrap();
    let cases: [(&[&str], &str); 11] = [
        (
            &["--preset", "hrvanalysis"],
            "--preset \"hrvanalysis\": expected reference or kubios",
        ),
        (
            &["--detrend", "wavelet"],
            "--detrend \"wavelet\": expected none, priors or priors:LAMBDA",
        ),
        (&["--detrend", "priors:-5"], "priors: \"-5\""),
        (
            &["--window", "abc"],
            "--window \"abc\": expected a number of seconds",
        ),
        (&["--window", "0.5"], "at least 1 second"),
        (&["--dfa", "4-12"], "--dfa \"4-12\": expected two box-size ranges"),
        (&["--dfa", "12-4,13-64"], "3 ≤ N1 < N2"),
        (
            &["--minmax-beats", "0"],
            "--minmax-beats \"0\": expected a whole number of at least 1",
        ),
        (&["--points-per-hz", "many"], "--points-per-hz \"many\""),
        (
            &["--placement", "middle"],
            "--placement \"middle\": expected even, trend or levels",
        ),
        (
            &["--no-correction", "--placement", "trend"],
            "--placement \"trend\": places corrected intervals, and --no-correction corrects none",
        ),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["analyze", file];
        args.extend_from_slice(extra);
        let out = auren(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{extra:?}: succeeded");
        assert!(out.stdout.is_empty(), "{extra:?}: printed a report");
        assert_eq!(stderr.lines().count(), 1, "{extra:?}: not one line: {stderr}");
        assert!(
            stderr.contains(needle),
            "{extra:?}: {stderr:?} does not say {needle:?}"
        );
    }
}

#[test]
fn a_row_without_rr_is_a_gap_that_no_metric_spans() {
    // nsr_5min.rr as an Elite HRV CSV whose row 101 (line 102) has no RR: 100 intervals, a gap,
    // then 236. The panel must be the panel of the longest segment alone, every metric equal.
    let dir = tempfile::tempdir().unwrap();
    let rr = rr_values("nsr_5min.rr");
    let mut csv = String::from("timestamp,HR,RR\n");
    for (i, v) in rr.iter().enumerate() {
        if i == 100 {
            csv.push_str("1,70,\n");
        } else {
            csv.push_str(&format!("1,{:.0},{v}\n", 60000.0 / v));
        }
    }
    let after: String = rr[101..].iter().map(|v| format!("{v}\n")).collect();
    let with_gap = write(&dir, "gap.csv", &csv);
    let segment = analyze_json(&write(&dir, "after.rr", &after), &[]);

    let out = auren(&["analyze", with_gap.to_str().unwrap(), "--format", "json"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("102"), "stderr names the row's line: {stderr}");
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["n_beats_raw"], 336);
    assert_eq!(got["analysed_intervals"], serde_json::json!([100, 336]));
    let notes = got["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("longest segment")),
        "{notes:?}"
    );
    for (key, want) in segment["metrics"].as_object().unwrap() {
        assert_eq!(&got["metrics"][key], want, "{key}");
    }
    // Without the gap the difference across it would enter RMSSD: the values differ.
    let joined: String = rr.iter().map(|v| format!("{v}\n")).collect();
    let whole = analyze_json(&write(&dir, "whole.rr", &joined), &[]);
    assert_ne!(whole["metrics"]["rmssd_ms"], got["metrics"]["rmssd_ms"]);

    let text = auren(&["analyze", with_gap.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Gaps") && text.contains("longest segment"),
        "{text}"
    );
}

#[test]
fn the_placement_of_corrected_intervals_is_an_option_and_a_stated_setting() {
    // nsr_5min_artifacts.rr has a missed beat and an ectopic pair, whose restored intervals the
    // placements put differently. Without --placement the preset chooses: levels in the reference
    // pipeline (the library's default), even with --preset kubios (the paper's correction, which
    // Kubios's automatic correction is); --placement overrides either.
    let file = reference("nsr_5min_artifacts.rr");
    let cases: [(&[&str], &str, &str); 9] = [
        (&[], "lipponen_tarvainen_2019", "levels"),
        (&["--preset", "reference"], "lipponen_tarvainen_2019", "levels"),
        (&["--placement", "levels"], "lipponen_tarvainen_2019", "levels"),
        (&["--placement", "even"], "lipponen_tarvainen_2019", "even"),
        (&["--placement", "trend"], "lipponen_tarvainen_2019", "trend"),
        (&["--preset", "kubios"], "lipponen_tarvainen_2019", "even"),
        (
            &["--preset", "kubios", "--placement", "levels"],
            "lipponen_tarvainen_2019",
            "levels",
        ),
        (
            &["--preset", "kubios", "--placement", "trend"],
            "lipponen_tarvainen_2019",
            "trend",
        ),
        (&["--no-correction"], "none", "not_applied"),
    ];
    let mut rmssd = std::collections::BTreeMap::new();
    for (extra, correction, placement) in cases {
        let got = analyze_json(&file, extra);
        assert_eq!(got["settings"]["artifact_correction"], correction, "{extra:?}");
        assert_eq!(got["settings"]["correction_placement"], placement, "{extra:?}");
        assert_eq!(got["corrected"], Value::Bool(correction != "none"), "{extra:?}");
        if !extra.contains(&"kubios") {
            let value = got["metrics"]["rmssd_ms"].as_f64().unwrap();
            if let Some(before) = rmssd.insert(placement, value) {
                // The default is levels itself, not a look-alike: the same panel to the bit.
                assert_eq!(before, value, "{extra:?}");
            }
        }
    }
    // The same artifacts are corrected either way, but not to the same intervals.
    let even = rmssd["even"];
    for placement in ["trend", "levels"] {
        let other = rmssd[placement];
        assert_ne!(even, other, "{placement}");
        assert!(
            (even - other).abs() / even < 0.05,
            "even {even}, {placement} {other}"
        );
    }

    // The text report says the same, in its Settings section and on its Artifacts line.
    let cases: [(&[&str], [&str; 2]); 3] = [
        (
            &[],
            [
                "correction_placement        levels",
                "corrected (Lipponen & Tarvainen 2019, placed at the two sides' levels across a jump)",
            ],
        ),
        (
            &["--preset", "kubios"],
            [
                "correction_placement        even",
                "corrected (Lipponen & Tarvainen 2019, split evenly and interpolated)",
            ],
        ),
        (
            &["--placement", "trend"],
            [
                "correction_placement        trend",
                "corrected (Lipponen & Tarvainen 2019, placed along the trend)",
            ],
        ),
    ];
    for (extra, needles) in cases {
        let mut args = vec!["analyze", file.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = auren(&args);
        assert!(out.status.success(), "{extra:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        for needle in ["artifact_correction         lipponen_tarvainen_2019"]
            .into_iter()
            .chain(needles)
        {
            assert!(text.contains(needle), "{extra:?}: no {needle:?} in\n{text}");
        }
    }
}

#[test]
fn a_kubios_report_is_reproduced_from_its_parameters_block() {
    // tests/data/kubios/series_1_kubios_3.1.txt is Kubios HRV Premium 3.1.0's report of
    // nsr_60min.rr; its Parameters block: no detrending, min/max HR of 1 beat, DFA 4-16 / 17-64,
    // no artifact correction. The values below are copied from that report.
    let got = analyze_json(
        &reference("nsr_60min.rr"),
        &[
            "--preset",
            "kubios",
            "--detrend",
            "none",
            "--minmax-beats",
            "1",
            "--dfa",
            "4-16,17-64",
            "--no-correction",
        ],
    );
    assert_eq!(got["settings"]["poincare_sd2"], "sd_of_pair_sums");
    assert_eq!(got["settings"]["welch_mean_removed"], "whole_series");
    assert_eq!(got["settings"]["band_integration"], "trapezoid");
    let cases = [
        ("mean_hr_bpm", 78.0804, 5e-5),
        ("max_hr_bpm", 106.7616, 5e-5),
        ("rmssd_ms", 60.5235, 5e-5),
        ("tri_index", 11.5086, 5e-5),
        ("sd1_ms", 42.801133, 1e-4),
        ("sd2_ms", 112.849357, 5e-6),
        ("lf_peak_hz", 0.04, 5e-7),
        ("hf_peak_hz", 0.16, 5e-7),
        // Spectral powers within 0.3 % (Kubios's interpolation details are not published).
        ("vlf_ms2", 2725.9687, 8.0),
        ("lf_ms2", 2776.5983, 8.0),
        ("hf_ms2", 1606.912, 5.0),
    ];
    for (key, kubios, bound) in cases {
        let have = got["metrics"][key].as_f64().unwrap();
        assert!((have - kubios).abs() <= bound, "{key}: {have}, Kubios {kubios}");
    }
}
