//! Short, constant and invalid inputs: every metric is a finite value or absent with its reason.

use auren_hrv::Absent;
use auren_hrv::nonlinear::{dfa_alpha1, dfa_alpha2, sample_entropy};
use auren_hrv::panel::{PanelOptions, analyze};

/// What a table row expects of one key.
#[derive(Debug, Clone, PartialEq)]
enum Want {
    Finite,
    Absent(Absent),
}

/// One table row: a name, the input, and what each listed key must be.
type Case = (&'static str, Vec<f64>, Vec<(&'static str, Want)>);

fn few(needed: usize, got: usize) -> Want {
    Want::Absent(Absent::TooFewBeats { needed, got })
}

fn constant(n: usize) -> Vec<f64> {
    vec![1000.0; n]
}

#[test]
fn degenerate_inputs_give_values_or_reasons() {
    let short_hf = Want::Absent(Absent::TooShort {
        needed_s: 60,
        got_s: 0,
    });
    let cases: Vec<Case> = vec![
        (
            "empty",
            vec![],
            vec![
                ("duration_s", few(1, 0)),
                ("mean_nn_ms", few(1, 0)),
                ("rmssd_ms", few(1, 0)),
                ("max_hr_bpm", few(1, 0)),
                ("hf_ms2", short_hf.clone()),
                ("sampen", few(4, 0)),
                ("dfa_alpha1", few(64, 0)),
                ("tri_index", few(50, 0)),
            ],
        ),
        (
            "one beat",
            vec![900.0],
            vec![
                ("duration_s", Want::Finite),
                ("mean_nn_ms", Want::Finite),
                ("min_hr_bpm", Want::Finite),
                ("sdnn_ms", few(2, 1)),
                ("rmssd_ms", few(2, 1)),
                ("pnn50_pct", few(2, 1)),
                ("sd_hr_bpm", few(2, 1)),
                ("sdsd_ms", few(3, 1)),
                ("sd1_ms", few(3, 1)),
                ("lf_hf", short_hf.clone()),
                ("dfa_alpha2", few(256, 1)),
                ("stress_index", few(50, 1)),
            ],
        ),
        (
            "two beats",
            vec![900.0, 950.0],
            vec![
                ("sdnn_ms", Want::Finite),
                ("rmssd_ms", Want::Finite),
                ("ln_rmssd", Want::Finite),
                ("pnn20_pct", Want::Finite),
                ("sdsd_ms", few(3, 2)),
                ("sd2_ms", few(3, 2)),
                ("sampen", few(4, 2)),
            ],
        ),
        (
            "three beats",
            vec![900.0, 950.0, 880.0],
            vec![
                ("sdsd_ms", Want::Finite),
                ("sd1_ms", Want::Finite),
                // With ddof-1 SDs of three beats, 2·SDNN² − ½·SDSD² = 2600 − 3600 < 0.
                ("sd2_ms", Want::Absent(Absent::Undefined("SD2² is negative"))),
                ("sd2_sd1", Want::Absent(Absent::Undefined("SD2² is negative"))),
                ("sampen", few(4, 3)),
                ("tinn_ms", few(50, 3)),
            ],
        ),
        (
            "constant, 10 minutes",
            constant(600),
            vec![
                ("sdnn_ms", Want::Finite),
                ("rmssd_ms", Want::Finite),
                ("ln_rmssd", Want::Absent(Absent::ZeroVariance)),
                ("sd2_sd1", Want::Absent(Absent::ZeroVariance)),
                ("sampen", Want::Absent(Absent::ZeroVariance)),
                ("dfa_alpha1", Want::Absent(Absent::ZeroVariance)),
                ("dfa_alpha2", Want::Absent(Absent::ZeroVariance)),
                ("vlf_ms2", Want::Absent(Absent::ZeroVariance)),
                ("lf_peak_hz", Want::Absent(Absent::ZeroVariance)),
                ("tri_index", Want::Finite),
                ("tinn_ms", Want::Absent(Absent::ZeroVariance)),
                ("stress_index", Want::Absent(Absent::ZeroVariance)),
            ],
        ),
        (
            "90 s: HF only",
            (0..100).map(|i| 900.0 + 30.0 * (i as f64 * 1.3).sin()).collect(),
            vec![
                ("hf_ms2", Want::Finite),
                ("hf_peak_hz", Want::Finite),
                (
                    "lf_ms2",
                    Want::Absent(Absent::TooShort {
                        needed_s: 120,
                        got_s: 89,
                    }),
                ),
                (
                    "lf_nu",
                    Want::Absent(Absent::TooShort {
                        needed_s: 120,
                        got_s: 89,
                    }),
                ),
                (
                    "vlf_ms2",
                    Want::Absent(Absent::TooShort {
                        needed_s: 240,
                        got_s: 89,
                    }),
                ),
                (
                    "total_power_ms2",
                    Want::Absent(Absent::TooShort {
                        needed_s: 120,
                        got_s: 89,
                    }),
                ),
                ("dfa_alpha1", Want::Finite),
                ("dfa_alpha2", few(256, 100)),
            ],
        ),
        (
            "two alternating values",
            (0..40).map(|i| if i % 2 == 0 { 700.0 } else { 1100.0 }).collect(),
            vec![("sampen", Want::Finite), ("rmssd_ms", Want::Finite)],
        ),
        (
            "a straight ramp: the detrend leaves no spectrum",
            (0..400).map(|i| 800.0 + 0.25 * i as f64).collect(),
            vec![
                ("lf_ms2", Want::Absent(Absent::ZeroVariance)),
                ("lf_hf", Want::Absent(Absent::ZeroVariance)),
                ("sdnn_ms", Want::Finite),
            ],
        ),
        (
            "a NaN",
            vec![900.0, f64::NAN, 950.0],
            vec![("mean_nn_ms", Want::Absent(Absent::InvalidRr { index: 1 }))],
        ),
        (
            "infinite",
            vec![f64::INFINITY],
            vec![("hf_ms2", Want::Absent(Absent::InvalidRr { index: 0 }))],
        ),
        (
            "zero and negative",
            vec![900.0, 910.0, 0.0, -5.0],
            vec![("sampen", Want::Absent(Absent::InvalidRr { index: 2 }))],
        ),
    ];
    for (name, rr, expectations) in cases {
        let panel = analyze(&rr, &PanelOptions::default());
        assert_eq!(panel.n_beats, rr.len(), "{name}");
        for (key, want) in expectations {
            let got = panel.get(key).unwrap_or_else(|| panic!("{key} is a panel key"));
            match &want {
                Want::Finite => assert!(got.as_ref().is_ok_and(|v| v.is_finite()), "{name} {key}: {got:?}"),
                Want::Absent(why) => assert_eq!(got, &Err(why.clone()), "{name} {key}"),
            }
        }
        for (key, metric) in panel.entries() {
            if let Ok(v) = metric {
                assert!(v.is_finite(), "{name} {key} = {v}");
            }
        }
    }
}

#[test]
fn invalid_input_is_refused_by_every_family() {
    let panel = analyze(&[800.0, -1.0], &PanelOptions::default());
    for (key, metric) in panel.entries() {
        assert_eq!(metric, &Err(Absent::InvalidRr { index: 1 }), "{key}");
    }
}

#[test]
fn standalone_functions_check_their_input() {
    let bad = [800.0, 810.0, f64::NEG_INFINITY];
    assert_eq!(dfa_alpha1(&bad), Err(Absent::InvalidRr { index: 2 }));
    assert_eq!(dfa_alpha2(&bad), Err(Absent::InvalidRr { index: 2 }));
    assert_eq!(sample_entropy(&bad), Err(Absent::InvalidRr { index: 2 }));
}
