//! The artifact sweep on the shipped recordings (`auren_hrv::sweep`): one injected artifact at a
//! time, every 20 beats, in every 400-beat stretch of the clean reference recordings, per kind.
//! `cargo xtask bench hrv` prints the same figures.

use auren_hrv::sweep::{self, Injection, Summary, SweepConfig, Verdict};

fn load(name: &str) -> Vec<f64> {
    let path = format!("{}/../../tests/data/reference/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("reference file is readable");
    text.split_whitespace()
        .map(|v| v.parse().expect("one number per line"))
        .collect()
}

fn run() -> Summary {
    let (five, hour) = (load("nsr_5min.rr"), load("nsr_60min.rr"));
    let stretches = sweep::stretches(&[&five, &hour]);
    assert_eq!(
        stretches.len(),
        12,
        "the 5-minute recording and 11 stretches of the hour"
    );
    sweep::sweep(&stretches, &SweepConfig::default())
}

#[test]
fn the_sweep_labels_nearly_every_injection_exactly_and_nothing_else() {
    let summary = run();
    assert_eq!(summary.outcomes.len(), 672);
    assert_eq!(summary.clean_flags, 0, "the clean stretches get no label");
    // Measured: 660 of 672 exact (98.2 %), none missed, one label elsewhere in all 672 runs.
    assert!(
        summary.exact_share() >= 0.97,
        "exact {:.3}",
        summary.exact_share()
    );
    assert_eq!(summary.count(Verdict::Missed), 0);
    assert!(
        summary.false_flags() <= 2,
        "{} false flags",
        summary.false_flags()
    );
}

#[test]
fn each_kind_is_labelled_exactly_at_its_measured_rate() {
    // (kind, least exact share, most wrong-kind labels): measured 216, 220 and 224 of 224 exact
    // (5, 4 and 0 of the wrong kind).
    // The ectopic beats that go wrong are premature beats whose pause lands on an interval that
    // was already long: premature beat, pause and a missed beat then fit about equally well.
    let table = [
        (Injection::Ectopic, 0.95, 8),
        (Injection::Missed, 0.97, 5),
        (Injection::Extra, 1.0, 0),
    ];
    let summary = run();
    for (injection, exact, wrong_kind) in table {
        let of = summary.of(injection);
        assert_eq!(of.outcomes.len(), 224, "{injection:?}");
        assert!(
            of.exact_share() >= exact,
            "{injection:?}: exact {:.3}",
            of.exact_share()
        );
        assert!(
            of.count(Verdict::WrongKind) <= wrong_kind,
            "{injection:?}: {} of the wrong kind",
            of.count(Verdict::WrongKind)
        );
    }
}

#[test]
fn corrected_rmssd_stays_close_to_the_clean_stretch() {
    let summary = run();
    // Measured: 5 of 672 injections more than 2 % off, 20 more than 1 %, the worst 3.2 %. The
    // goal (2 % for every single injection) is not reached, and two of the five show why it cannot
    // be by correction alone: at beat 120 of stretch 6 the clean series jumps 734 → 1031 ms, and
    // the injection (a missed beat merging the two, or an ectopic pair 514 + 1251) leaves only
    // their sum; the smoothest split of that sum keeps 18 500 of the 95 600 ms² the two intervals
    // add to the squared differences, 6 % of the stretch's total. The worst (3.2 %) is a split
    // interval labelled exactly whose thresholds put a long_short label on a sinus 734 → 1016 ms
    // jump 24 beats later.
    assert!(
        summary.rmssd_off_by_more_than(0.02) <= 5,
        "{} injections more than 2 % off",
        summary.rmssd_off_by_more_than(0.02)
    );
    let worst = summary.worst_rmssd().expect("injections were made");
    assert!(worst.rmssd_error < 0.035, "{worst:?}");
    assert!(
        summary.rmssd_off_by_more_than(0.01) <= 20,
        "{} injections more than 1 % off",
        summary.rmssd_off_by_more_than(0.01)
    );
}

#[test]
fn injections_change_the_series_as_described() {
    let clean = [800.0, 900.0, 1000.0, 1100.0];
    let table: [(Injection, Vec<f64>); 3] = [
        (Injection::Ectopic, vec![800.0, 630.0, 1270.0, 1100.0]),
        (Injection::Missed, vec![800.0, 1900.0, 1100.0]),
        (Injection::Extra, vec![800.0, 360.0, 540.0, 1000.0, 1100.0]),
    ];
    for (injection, want) in table {
        let got = injection.apply(&clean, 1);
        assert_eq!(got.len(), want.len(), "{injection:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-9, "{injection:?}: {got:?}");
        }
    }
    assert_eq!(
        Injection::Missed.apply(&clean, 3),
        clean,
        "no interval after the last"
    );
}
