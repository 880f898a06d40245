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

/// The sweep with the default correction, whatever it is: the goal below holds the default to it.
fn run() -> Summary {
    sweep_with(&SweepConfig::default())
}

fn run_with(placement: Placement) -> Summary {
    sweep_with(&SweepConfig {
        correction: CorrectionConfig {
            placement,
            ..CorrectionConfig::default()
        },
        ..SweepConfig::default()
    })
}

fn sweep_with(config: &SweepConfig) -> Summary {
    let (five, hour) = (load("nsr_5min.rr"), load("nsr_60min.rr"));
    let stretches = sweep::stretches(&[&five, &hour]);
    assert_eq!(
        stretches.len(),
        12,
        "the 5-minute recording and 11 stretches of the hour"
    );
    sweep::sweep(&stretches, config)
}

#[test]
fn the_default_correction_meets_the_goal_on_every_injection() {
    // Issue 10's goal: ≥ 97 % exact labels, no label on clean data, and the corrected RMSSD within
    // 2 % of the clean stretch's for every single injection. Measured with the default (levels)
    // placement: 662 of 672 exact (98.5 %), none missed, no label elsewhere in all 672 runs (the
    // one there was, a sinus slowing 24 beats after a split interval, is now confirmed on the
    // series without the split and dropped; see `auren_hrv::artifacts`), worst RMSSD error 1.82 %.
    // With even placement as the default this fails: 3 injections over 2 %, worst 3.12 %.
    let summary = run();
    assert_eq!(summary.outcomes.len(), 672);
    assert_eq!(summary.clean_flags, 0, "the clean stretches get no label");
    assert!(
        summary.exact_share() >= 0.97,
        "exact {:.3}",
        summary.exact_share()
    );
    assert_eq!(summary.count(Verdict::Missed), 0);
    assert_eq!(summary.false_flags(), 0);
    assert_eq!(
        summary.rmssd_off_by_more_than(0.02),
        0,
        "worst {:?}",
        summary.worst_rmssd()
    );
    let worst = summary.worst_rmssd().expect("injections were made");
    assert!(worst.rmssd_error <= 0.02, "{worst:?}");
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
    // (placement, most injections over 2 %, most over 1 %, worst error). Measured: even placement
    // (the paper's correction, and `--preset kubios`'s) 3 over 2 %, 17 over 1 %, worst 3.12 %;
    // trend 2, 9 and 2.97 %; levels (the default) 0, 19 and 1.82 %: levels is the placement that
    // meets the goal of 2 % for every single injection, trading for it more injections between 1
    // and 2 % (see `Placement::Levels`).
    //
    // Even and trend miss the goal at one place: at beat 120 of stretch 6 the clean series jumps
    // 734 → 1031 ms, and the injection (a missed beat merging the two, or an ectopic pair
    // 514 + 1251) leaves only their sum between neighbours 734 and 945 ms. RMSSD stays within 2 %
    // only for a first part of 700–783 or 912–995 ms; the even split (882.5) gives 2.68 %, its
    // interpolation as an ectopic pair 3.12 %, the line (847.5) 2.97 %, the two sides' levels (777)
    // 1.82 %. Even also misses it at beat 260 of stretch 10, a premature beat on a sinus peak
    // (852 → 1022 + 898 → 805 ms): even placement interpolates every ectopic pair (836 and
    // 821 ms, 2.27 %), where trend and levels keep the pair's sum (968 + 952 ms, 0.76 %), since a
    // pause is never more than compensatory.
    let table = [
        (Placement::Even, 3, 17, 0.032),
        (Placement::Trend, 2, 9, 0.030),
        (Placement::Levels, 0, 19, 0.02),
    ];
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
fn placements_change_rmssd_but_never_the_labels() {
    let even = run_with(Placement::Even);
    let labels = |s: &Summary| -> Vec<(Verdict, usize)> {
        s.outcomes.iter().map(|o| (o.verdict, o.false_flags)).collect()
    };
    // (placement, most mean error relative to even's, least mean signed change relative to
    // even's). Measured mean errors: even 0.127 %, trend 0.075 %, levels 0.107 %; with their sign
    // −0.103 %, −0.069 % and −0.014 %: smooth placements lose variability, levels the least.
    let table = [(Placement::Trend, 0.7, 0.8), (Placement::Levels, 0.9, 0.2)];
    for (placement, error_share, change_share) in table {
        let other = run_with(placement);
        assert_eq!(labels(&even), labels(&other), "{placement:?}");
        assert!(
            other.mean_rmssd_error() < error_share * even.mean_rmssd_error(),
            "{placement:?}: {} vs even {}",
            other.mean_rmssd_error(),
            even.mean_rmssd_error()
        );
        assert!(even.mean_rmssd_change() < 0.0, "even loses variability");
        assert!(
            other.mean_rmssd_change().abs() < change_share * even.mean_rmssd_change().abs(),
            "{placement:?}: {} vs even {}",
            other.mean_rmssd_change(),
            even.mean_rmssd_change()
        );
    }
}

#[test]
fn leaving_out_corrected_differences_restores_rmssd_worse() {
    // RMSSD over only the differences between two untouched intervals ("NN-only"), as some tools
    // compute it, drops the three differences around each artifact instead of estimating them.
    // On this sweep that is the worse estimate of the clean RMSSD: measured mean error 0.301 %
    // (the same labels, so the same in every placement) against 0.107 % for the default
    // correction's series (0.127 % with even placement), 28 injections over 1 % against 19 (17).
    // So the reference pipeline keeps every difference of the corrected series, as Kubios does.
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
