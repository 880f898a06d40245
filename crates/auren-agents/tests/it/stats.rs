//! stats: table tests against scipy 1.17 (inputs and outputs copied by hand, `method="asymptotic"` for
//! Mann–Whitney), and properties: symmetry, invariance to a shift and to a common scale.

use auren_agents::stats::{
    effect_size, erfc, ln_gamma, mann_whitney_u, regularized_incomplete_beta, student_t_two_sided_p, welch_t,
};
use proptest::prelude::*;

fn close(actual: f64, expected: f64, rel: f64) {
    let tol = rel * expected.abs().max(1e-300);
    assert!(
        (actual - expected).abs() <= tol,
        "got {actual}, expected {expected} (rel tol {rel})"
    );
}

const A: [f64; 7] = [4.12, 4.05, 3.98, 4.30, 4.21, 4.15, 4.02];
const B: [f64; 8] = [3.85, 3.92, 4.01, 3.78, 3.95, 3.88, 3.99, 3.80];
const C: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];
const D: [f64; 6] = [2.0, 4.0, 6.0, 8.0, 10.0, 12.0];

/// (a, b, t, df, p).
type WelchCase<'a> = (&'a [f64], &'a [f64], f64, f64, f64);

#[test]
fn welch_matches_scipy() {
    let cases: [WelchCase; 3] = [
        (
            &A,
            &B,
            4.249873026050513,
            11.101023525113668,
            0.0013386161468746506,
        ),
        (
            &C,
            &D,
            -2.3763541031440183,
            6.972255729794934,
            0.04928433820673053,
        ),
        (
            &[10.5, 11.2, 9.8, 10.1],
            &[10.4, 10.9, 10.0, 10.3, 10.6],
            -0.11833145702765478,
            4.45837605249756,
            0.9109482126767771,
        ),
    ];
    for (a, b, t, df, p) in cases {
        let w = welch_t(a, b).unwrap();
        close(w.t, t, 1e-10);
        close(w.df, df, 1e-10);
        close(w.p, p, 1e-9);
    }
}

#[test]
fn mann_whitney_matches_scipy() {
    let cases: [(&[f64], &[f64], f64, f64); 3] = [
        (&A, &B, 54.0, 0.0031669403816566894),
        (
            &[1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0],
            &[3.0, 4.0, 4.0, 5.0, 5.0, 6.0],
            3.5,
            0.012999854364387305,
        ),
        (&C, &D, 5.0, 0.08143973230450288),
    ];
    for (a, b, u, p) in cases {
        let m = mann_whitney_u(a, b).unwrap();
        close(m.u, u, 1e-12);
        close(m.p, p, 1e-9);
    }
}

#[test]
fn effect_sizes_match_hand_computation() {
    let e = effect_size(&A, &B).unwrap();
    close(e.cohen_d, 2.2434333567432003, 1e-10);
    close(e.hedges_g, 2.1110314556352967, 1e-10);
    let e = effect_size(&C, &D).unwrap();
    close(e.cohen_d, -1.3416407864998738, 1e-10);
    close(e.hedges_g, -1.2260918285870472, 1e-10);
}

#[test]
fn special_functions_match_scipy() {
    for (t, df, p) in [
        (2.0, 5.0, 0.10193947882985835),
        (1.0, 1.0, 0.5000000000000001),
        (3.5, 12.7, 0.004043839925700646),
        (0.5, 30.0, 0.6207230048851272),
        (10.0, 3.0, 0.0021283990584141503),
    ] {
        close(student_t_two_sided_p(t, df), p, 1e-10);
    }
    for (a, b, x, i) in [
        (2.0, 3.0, 0.4, 0.5247999999999999),
        (0.5, 0.5, 0.1, 0.20483276469913345),
        (10.0, 0.5, 0.9, 0.15164090963470994),
        (1.5, 20.0, 0.05, 0.44342120168569027),
    ] {
        close(regularized_incomplete_beta(a, b, x), i, 1e-11);
    }
    for (x, e) in [
        (0.1, 0.8875370839817152),
        (0.5, 0.4795001221869535),
        (1.0, 0.15729920705028516),
        (2.0, 0.004677734981047266),
        (5.0, 1.5374597944280347e-12),
        (10.0, 2.0884875837625446e-45),
    ] {
        close(erfc(x), e, 1e-11);
    }
    for (x, g) in [
        (0.5, 0.5723649429247),
        (2.5, 0.2846828704729192),
        (10.0, 12.801827480081469),
        (100.5, 361.43554046777757),
    ] {
        close(ln_gamma(x), g, 1e-12);
    }
    assert!(ln_gamma(1.0).abs() < 1e-14);
}

#[test]
fn degenerate_samples_are_refused_with_a_reason() {
    assert!(
        welch_t(&[1.0], &[2.0, 3.0])
            .unwrap_err()
            .to_string()
            .contains("at least 2")
    );
    assert!(
        welch_t(&[1.0, 1.0], &[1.0, 1.0])
            .unwrap_err()
            .to_string()
            .contains("spread is zero")
    );
    assert!(mann_whitney_u(&[2.0, 2.0], &[2.0]).is_err());
    assert!(welch_t(&[1.0, f64::NAN], &[2.0, 3.0]).is_err());
}

fn sample() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-50.0f64..50.0, 3..30)
}

proptest! {
    #[test]
    fn swapping_groups_negates_t_and_keeps_p(a in sample(), b in sample()) {
        if let (Ok(ab), Ok(ba)) = (welch_t(&a, &b), welch_t(&b, &a)) {
            prop_assert!((ab.t + ba.t).abs() < 1e-9 * ab.t.abs().max(1.0));
            prop_assert!((ab.p - ba.p).abs() < 1e-9);
            prop_assert!((0.0..=1.0).contains(&ab.p));
        }
        if let (Ok(ab), Ok(ba)) = (mann_whitney_u(&a, &b), mann_whitney_u(&b, &a)) {
            prop_assert!((ab.u + ba.u - (a.len() * b.len()) as f64).abs() < 1e-9);
            prop_assert!((ab.p - ba.p).abs() < 1e-12);
            prop_assert!((0.0..=1.0).contains(&ab.p));
        }
    }

    #[test]
    fn shifting_and_scaling_both_groups_changes_nothing(a in sample(), b in sample(), shift in -1e3f64..1e3, scale in 0.1f64..10.0) {
        let moved = |s: &[f64]| s.iter().map(|v| v * scale + shift).collect::<Vec<_>>();
        let (ma, mb) = (moved(&a), moved(&b));
        if let (Ok(w0), Ok(w1)) = (welch_t(&a, &b), welch_t(&ma, &mb)) {
            prop_assert!((w0.t - w1.t).abs() < 1e-6 * w0.t.abs().max(1.0));
            prop_assert!((w0.p - w1.p).abs() < 1e-6);
        }
        if let (Ok(e0), Ok(e1)) = (effect_size(&a, &b), effect_size(&ma, &mb)) {
            prop_assert!((e0.hedges_g - e1.hedges_g).abs() < 1e-6 * e0.hedges_g.abs().max(1.0));
        }
        // Ranks survive any increasing map (ties may appear by rounding only at extreme scales).
        if let (Ok(m0), Ok(m1)) = (mann_whitney_u(&a, &b), mann_whitney_u(&ma, &mb)) {
            prop_assert!((m0.u - m1.u).abs() < 1e-9 || (m0.p - m1.p).abs() < 1e-3);
        }
    }

    #[test]
    fn hedges_g_is_smaller_than_d_in_magnitude(a in sample(), b in sample()) {
        if let Ok(e) = effect_size(&a, &b) {
            prop_assert!(e.hedges_g.abs() <= e.cohen_d.abs() + 1e-12);
        }
    }
}
