//! Inputs the renderer refuses, each with an error naming the problem.

use crate::{Fixture, reference};
use auren_report::{ReportError, render_png, render_svg};

#[test]
fn bad_inputs_are_refused_by_both_renderers() {
    let five_min = || Fixture::from_rr(&reference("nsr_5min.rr"));
    let cases: Vec<(&str, Fixture, (u32, u32), &str)> = vec![
        (
            "zero beats",
            Fixture::new(Vec::new(), Vec::new(), Vec::new()),
            (1600, 1200),
            "no beats to draw",
        ),
        (
            "only non-finite beats",
            Fixture::new(vec![(f64::NAN, 800.0, None)], Vec::new(), Vec::new()),
            (1600, 1200),
            "no beats to draw",
        ),
        (
            "spectrum lengths differ",
            Fixture {
                spectrum: Some((vec![0.0, 0.1], vec![1.0], "Welch")),
                ..five_min()
            },
            (1600, 1200),
            "the spectrum has 2 frequencies but 1 power values",
        ),
        (
            "too small",
            five_min(),
            (400, 300),
            "image size 400×300 is outside 800×600–8000×8000",
        ),
        (
            "too large",
            five_min(),
            (9000, 1200),
            "image size 9000×1200 is outside 800×600–8000×8000",
        ),
    ];
    for (name, fixture, (w, h), message) in cases {
        let png = fixture.with_input(|input| render_png(input, w, h));
        let svg = fixture.with_input(|input| render_svg(input, w, h));
        for (kind, err) in [("png", png.err()), ("svg", svg.err())] {
            let err: ReportError = err.unwrap_or_else(|| panic!("{name} ({kind}): rendered"));
            assert_eq!(err.to_string(), message, "{name} ({kind})");
        }
    }
}
