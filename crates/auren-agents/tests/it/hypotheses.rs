//! Hypotheses and milestones: statuses computed by code (planted effect supported, null data not, too few
//! mornings open), re-tested when new mornings arrive; milestones detected from the readings.

use auren_agents::hypothesis::{Direction, Spec, Status, TestKind, evaluate, retest_all};
use auren_agents::milestone::{DayPoint, MilestoneKind, detect};
use auren_agents::tools::args::MorningMetric;
use serde_json::json;

use crate::fixture::{Plan, Rng, history};

fn spec(direction: Direction, test: TestKind) -> Spec {
    Spec {
        statement: "alcohol lowers my next-morning HRV".into(),
        metric: MorningMetric::LnRmssd,
        exposure_tag: "alcohol".into(),
        lag_days: 1,
        direction,
        test,
        alpha: 0.05,
        min_n: 8,
    }
}

#[test]
fn status_is_computed_from_the_data() {
    let mut rng = Rng(3);
    let mut sample = |n: usize, mean: f64| (0..n).map(|_| mean + 0.1 * rng.gauss()).collect::<Vec<_>>();
    let (low, base, few) = (sample(20, 3.8), sample(60, 4.1), sample(5, 3.8));
    // Plenty of mornings and no effect at all.
    let same: Vec<f64> = base.iter().map(|v| v + 0.001).collect();

    let cases = [
        (
            spec(Direction::Lower, TestKind::Welch),
            &low,
            &base,
            Status::Supported,
        ),
        (
            spec(Direction::Lower, TestKind::MannWhitney),
            &low,
            &base,
            Status::Supported,
        ),
        (
            spec(Direction::Either, TestKind::Welch),
            &low,
            &base,
            Status::Supported,
        ),
        (
            spec(Direction::Higher, TestKind::Welch),
            &low,
            &base,
            Status::Refuted,
        ),
        (spec(Direction::Lower, TestKind::Welch), &few, &base, Status::Open),
        (
            spec(Direction::Lower, TestKind::Welch),
            &same,
            &base,
            Status::Refuted,
        ),
    ];
    for (s, exposed, other, want) in cases {
        let ev = evaluate(&s, exposed, other);
        assert_eq!(ev.status, want, "{s:?}: {}", ev.reason);
    }
    let short = sample(9, 4.05);
    let ev = evaluate(&spec(Direction::Lower, TestKind::Welch), &short, &sample(9, 4.1));
    assert!(
        matches!(ev.status, Status::Inconclusive | Status::Supported),
        "{}",
        ev.reason
    );
}

#[tokio::test]
async fn a_stored_hypothesis_is_tested_and_retested_when_mornings_arrive() {
    let h = history(Plan {
        days: 120,
        ..Plan::default()
    })
    .await;
    let args = json!({"statement": "alcohol lowers my next-morning HRV", "metric": "ln_rmssd", "exposure_tag": "alcohol"});
    let out = h.toolbox.call("propose_hypothesis", args).await.unwrap();
    assert_eq!(out.content["status"], json!("supported"), "{}", out.content);
    let wrong = json!({"statement": "alcohol raises my HRV", "metric": "ln_rmssd", "exposure_tag": "alcohol", "direction": "higher"});
    assert_eq!(
        h.toolbox.call("propose_hypothesis", wrong).await.unwrap().content["status"],
        json!("refuted")
    );
    let sauna = json!({"statement": "sauna helps", "metric": "ln_rmssd", "exposure_tag": "sauna", "direction": "higher"});
    assert_eq!(
        h.toolbox.call("propose_hypothesis", sauna).await.unwrap().content["status"],
        json!("open")
    );

    let listed = h.toolbox.call("list_hypotheses", json!({})).await.unwrap();
    assert_eq!(listed.content["hypotheses"].as_array().unwrap().len(), 3);
    assert_eq!(listed.receipts.len(), 3, "each test's receipt is kept");

    // A new morning arrives the next day: every hypothesis is tested again on the data up to it.
    h.clock.advance(std::time::Duration::from_secs(86_400));
    h.store
        .add_morning_reading(h.today + 1, 3.7, Some(58.0), None)
        .await
        .unwrap();
    let retests = retest_all(&h.toolbox, h.today + 1).await.unwrap();
    assert_eq!(retests.len(), 3);
    assert!(retests.iter().all(|r| !r.changed()), "{retests:?}");
    let id = auren_store::memory::HypothesisId(retests[0].id);
    assert_eq!(h.store.hypotheses().tests(id).await.unwrap().len(), 2);
}

#[test]
fn milestones_are_detected_by_code() {
    let day0 = 20_000;
    let point = |d: i64, mean: f64, lo: f64| DayPoint {
        day: day0 + d,
        has_reading: true,
        rolling_mean_7d: Some(mean),
        normal_range: Some((lo, lo + 0.4)),
    };
    // 30 mornings in a row; with a rising mean, a 60-day high once 30 days of means stand behind it.
    let rising: Vec<DayPoint> = (0..61).map(|d| point(d, 4.0 + d as f64 * 0.001, 3.9)).collect();
    let kinds: Vec<MilestoneKind> = detect(&rising[..30], day0 + 29)
        .into_iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(kinds, vec![MilestoneKind::Streak { days: 30 }]);
    let high = detect(&rising[..41], day0 + 40);
    assert!(
        high.iter()
            .any(|m| matches!(m.kind, MilestoneKind::SixtyDayHigh { .. })),
        "{high:?}"
    );
    assert!(
        detect(&rising[..31], day0 + 30)
            .iter()
            .all(|m| !matches!(m.kind, MilestoneKind::Streak { .. }))
    );
    // A missed morning breaks the streak.
    let mut gap = rising[..30].to_vec();
    gap[20].has_reading = false;
    assert!(
        detect(&gap, day0 + 29)
            .iter()
            .all(|m| !matches!(m.kind, MilestoneKind::Streak { .. }))
    );
    // Below the range for 4 days, then back in it.
    let mut dip: Vec<DayPoint> = (0..10).map(|d| point(d, 4.0, 3.9)).collect();
    for p in &mut dip[5..9] {
        p.rolling_mean_7d = Some(3.8);
    }
    let kinds: Vec<MilestoneKind> = detect(&dip, day0 + 9).into_iter().map(|m| m.kind).collect();
    assert_eq!(kinds, vec![MilestoneKind::BackInRange { days_below: 4 }]);
    // Flat data: no high.
    let flat: Vec<DayPoint> = (0..40).map(|d| point(d, 4.0, 3.9)).collect();
    assert!(
        detect(&flat, day0 + 39)
            .iter()
            .all(|m| !matches!(m.kind, MilestoneKind::SixtyDayHigh { .. }))
    );
}

#[tokio::test]
async fn milestones_read_the_store() {
    let h = history(Plan {
        days: 30,
        ..Plan::default()
    })
    .await;
    let found = auren_agents::milestone::detect_in_store(&h.store, h.today)
        .await
        .unwrap();
    assert!(
        found.iter().any(|m| m.kind == MilestoneKind::Streak { days: 30 }),
        "{found:?}"
    );
}
