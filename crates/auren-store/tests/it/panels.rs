//! A session panel's gap count (`SessionPanelView::outages`): how many times the beats stopped, stored gaps
//! that overlap or touch counted once.

use auren_store::{GapRow, SessionPanelView};

fn gaps(spans: &[(f64, f64)]) -> Vec<GapRow> {
    spans
        .iter()
        .map(|&(from_ms, to_ms)| GapRow { from_ms, to_ms })
        .collect()
}

#[test]
fn overlapping_gaps_are_one_outage() {
    // What happened, the stored gaps, the outages a person counts.
    type Case = (&'static str, Vec<(f64, f64)>, usize);
    let cases: [Case; 8] = [
        ("none", vec![], 0),
        ("one", vec![(1_000.0, 4_000.0)], 1),
        (
            "a contact loss with a late notification: two gaps from one start",
            vec![(1_000.0, 4_000.0), (1_000.0, 9_000.0)],
            1,
        ),
        (
            "the link lost while contact was lost: a gap within another",
            vec![(1_000.0, 12_000.0), (4_000.0, 9_000.0)],
            1,
        ),
        (
            "contact back on a new link: two gaps to one end",
            vec![(1_000.0, 9_000.0), (4_000.0, 9_000.0)],
            1,
        ),
        ("overlapping", vec![(1_000.0, 5_000.0), (4_000.0, 9_000.0)], 1),
        ("touching", vec![(1_000.0, 4_000.0), (4_000.0, 9_000.0)], 1),
        (
            "two losses, the first twice stored, out of order",
            vec![(20_000.0, 25_000.0), (1_000.0, 9_000.0), (1_000.0, 4_000.0)],
            2,
        ),
    ];
    for (what, spans, expected) in cases {
        assert_eq!(SessionPanelView::outages(&gaps(&spans)), expected, "{what}");
    }
}
