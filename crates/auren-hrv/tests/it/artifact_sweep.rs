//! The artifact sweep on the shipped recordings (`auren_hrv::sweep`): one injected artifact at a
//! time, every 20 beats, in every 400-beat stretch of the clean reference recordings, per kind.
//! `cargo xtask bench hrv` prints the same figures.

use auren_hrv::artifacts::{CorrectionConfig, Placement};
use auren_hrv::sweep::{self, Injection, Summary, SweepConfig, Verdict};

fn load(name: &str) -> Vec<f64> {
    let path = format!("{}/../../tests/data/reference/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("reference file is readable");
    text.split_whitespace()
        .map(|v| v.parse().expect("one number per line"))
        .collect()
}

fn run() -> Summary {
    run_with(Placement::Even)
}

fn run_with(placement: Placement) -> Summary {
    let (five, hour) = (load("nsr_5min.rr"), load("nsr_60min.rr"));
    let stretches = sweep::stretches(&[&five, &hour]);
    assert_eq!(
        stretches.len(),
        12,
        "the 5-minute recording and 11 stretches of the hour"
    );
    let config = SweepConfig {
        correction: CorrectionConfig {
            placement,
            ..CorrectionConfig::default()
        },
        ..SweepConfig::default()
    };
    sweep::sweep(&stretches, &config)
}

#[test]
fn the_sweep_labels_nearly_every_injection_exactly_and_nothing_else() {
    let summary = run();
    assert_eq!(summary.outcomes.len(), 672);
    assert_eq!(summary.clean_flags, 0, "the clean stretches get no label");
    // Measured: 662 of 672 exact (98.5 %), none missed, no label elsewhere in all 672 runs (the
    // one there was, a sinus slowing 24 beats after a split interval, is now confirmed on the
    // series without the split and dropped; see `auren_hrv::artifacts`).
    assert!(
        summary.exact_share() >= 0.97,
        "exact {:.3}",
        summary.exact_share()
    );
    assert_eq!(summary.count(Verdict::Missed), 0);
    assert_eq!(summary.false_flags(), 0);
}

#[test]
fn each_kind_is_labelled_exactly_at_its_measured_rate() {
    // (kind, least exact share, most wrong-kind labels): measured 218, 220 and 224 of 224 exact
    // (3, 4 and 0 of the wrong kind).
    // The ectopic beats that go wrong are premature beats whose pause lands on an interval that
    // was already long: premature beat, pause and a missed beat then fit about equally well.
    let table = [
        (Injection::Ectopic, 0.97, 3),
        (Injection::Missed, 0.98, 4),
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
    // (placement, most injections over 2 %, most over 1 %, worst error). Measured with even
    // placement (the reference pipeline): 3 over 2 %, 17 over 1 %, worst 3.12 %; with trend
    // placement: 3, 12 and 2.97 %, mean error 0.082 % instead of 0.127 %.
    //
    // The goal (2 % for every single injection) is not reached, and the three show why it cannot be
    // by correction alone. Two are one place: at beat 120 of stretch 6 the clean series jumps
    // 734 → 1031 ms, and the injection (a missed beat merging the two, or an ectopic pair
    // 514 + 1251) leaves only their sum; the smoothest split of it keeps 18 500 of the 95 600 ms²
    // the two intervals add to the squared differences, 6 % of the stretch's total. The third
    // (beat 260 of stretch 10, labelled exactly) is a premature beat on a sinus peak: the clean pair
    // 1022 + 898 ms after 852 ms is 263 ms over two normal intervals, too far for a compensated
    // pause, so its sum is not trusted and the pair is interpolated (836 and 821 ms), which loses
    // the peak.
    let table = [(Placement::Even, 3, 17, 0.032), (Placement::Trend, 3, 12, 0.030)];
    for (placement, over_2, over_1, worst_at_most) in table {
        let summary = run_with(placement);
        assert!(
            summary.rmssd_off_by_more_than(0.02) <= over_2,
            "{placement:?}: {} injections more than 2 % off",
            summary.rmssd_off_by_more_than(0.02)
        );
        assert!(
            summary.rmssd_off_by_more_than(0.01) <= over_1,
            "{placement:?}: {} injections more than 1 % off",
            summary.rmssd_off_by_more_than(0.01)
        );
        let worst = summary.worst_rmssd().expect("injections were made");
        assert!(worst.rmssd_error < worst_at_most, "{placement:?}: {worst:?}");
    }
}

#[test]
fn trend_placement_restores_rmssd_better_with_the_same_labels() {
    let (even, trend) = (run_with(Placement::Even), run_with(Placement::Trend));
    let labels = |s: &Summary| -> Vec<(Verdict, usize)> {
        s.outcomes.iter().map(|o| (o.verdict, o.false_flags)).collect()
    };
    assert_eq!(labels(&even), labels(&trend));
    // Measured: mean error 0.082 % against 0.127 %.
    assert!(
        trend.mean_rmssd_error() < 0.7 * even.mean_rmssd_error(),
        "trend {} vs even {}",
        trend.mean_rmssd_error(),
        even.mean_rmssd_error()
    );
}

#[test]
fn leaving_out_corrected_differences_restores_rmssd_worse() {
    // RMSSD over only the differences between two untouched intervals ("NN-only"), as some tools
    // compute it, drops the three differences around each artifact instead of estimating them.
    // On this sweep that is the worse estimate of the clean RMSSD: measured mean error 0.301 %
    // against 0.127 % for the interpolated series, 28 injections over 1 % against 17. So the
    // reference pipeline keeps every difference of the corrected series, as Kubios does.
    let summary = run();
    assert!(
        summary.mean_rmssd_nn_only_error() > 2.0 * summary.mean_rmssd_error(),
        "NN-only {} vs corrected {}",
        summary.mean_rmssd_nn_only_error(),
        summary.mean_rmssd_error()
    );
    assert!(summary.nn_only_off_by_more_than(0.01) > summary.rmssd_off_by_more_than(0.01));
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
