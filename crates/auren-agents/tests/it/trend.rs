//! get_trend over every kind of metric and get_session's stored panel: a table of metrics against the values
//! computed independently (the readings, the engine's panel recomputed from the beats), the normal-range band
//! by its definition, panels stored once and recomputed when beats arrive.

use std::sync::Arc;

use auren_agents::Toolbox;
use auren_agents::stats;
use auren_agents::tools::args::{TrendMetric, TrendSource};
use auren_agents::tools::days::format_day;
use auren_clock::{MS_PER_DAY, ManualClock, UnixMillis};
use auren_store::{NewSession, SessionId, SessionKind, Store};
use serde_json::{Value, json};

use crate::fixture::{Rng, today};

/// Days of mornings recorded with beats: enough for a band (14) on the last 6 days of the period.
const DAYS: i64 = 20;

struct Mornings {
    _dir: tempfile::TempDir,
    store: Store,
    toolbox: Toolbox,
    /// (day, session) of each morning, oldest first.
    sessions: Vec<(i64, SessionId)>,
}

/// `n` beats around `mean` ms alternating by `swing` (RSA-like), with noise.
async fn record(store: &Store, id: SessionId, n: usize, mean: f64, swing: f64, rng: &mut Rng) -> f64 {
    let w = store.session_writer(id).await.unwrap();
    let mut t = 0.0;
    for i in 0..n {
        let rr = mean + swing * (i as f64 * 0.9).sin() + 8.0 * rng.gauss();
        t += rr;
        w.beat(t, rr, None);
    }
    w.finish().await.unwrap();
    t
}

async fn mornings() -> Mornings {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("auren.db")).await.unwrap();
    let today = today();
    let clock = Arc::new(ManualClock::new(UnixMillis(today * MS_PER_DAY + 8 * 3_600_000)));
    let mut rng = Rng(3);
    let mut sessions = Vec::new();
    for day in today - DAYS + 1..=today {
        let id = store
            .start_session(&NewSession {
                started_at: day * MS_PER_DAY + 6 * 3_600_000,
                kind: SessionKind::Morning,
                source: "simulator:rest".into(),
                strap_address: None,
                label: None,
            })
            .await
            .unwrap();
        let swing = 30.0 + 15.0 * rng.uniform();
        record(&store, id, 150, 1000.0 + 60.0 * rng.gauss(), swing, &mut rng).await;
        let ln = 4.0 + 0.1 * rng.gauss();
        store
            .add_morning_reading(day, ln, Some(55.0 + 2.0 * rng.gauss()), Some(id))
            .await
            .unwrap();
        sessions.push((day, id));
    }
    let toolbox = Toolbox::new(store.clone(), clock);
    Mornings {
        _dir: dir,
        store,
        toolbox,
        sessions,
    }
}

/// Metric `key` of session `id` as the engine computes it from the beats, bypassing any stored panel.
async fn recomputed(store: &Store, id: SessionId, key: &str) -> Option<f64> {
    auren_engine::query::session_detail(store, id.0)
        .await
        .unwrap()
        .panel
        .iter()
        .find(|m| m.key == key)
        .and_then(|m| m.value)
}

/// The band by its definition: mean ± 0.5 SD of the metric's mornings in the 60 days up to `day`, ≥ 14.
fn band(values: &[(i64, f64)], day: i64) -> Option<(f64, f64)> {
    let window: Vec<f64> = values
        .iter()
        .filter(|(d, _)| *d > day - 60 && *d <= day)
        .map(|(_, v)| *v)
        .collect();
    if window.len() < 14 {
        return None;
    }
    let s = stats::summary(&window)?;
    Some((s.mean - 0.5 * s.sd?, s.mean + 0.5 * s.sd?))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[tokio::test]
async fn every_kind_of_metric_is_followed_with_its_band() {
    let m = mornings().await;
    let readings = m.store.morning_readings(0, i64::MAX / 2).await.unwrap();
    // A reading metric of each unit, and panel metrics of each family (time, frequency, nonlinear).
    let table = [
        TrendMetric::LnRmssd,
        TrendMetric::RmssdMs,
        TrendMetric::RestingHr,
        TrendMetric::SdnnMs,
        TrendMetric::MeanHrBpm,
        TrendMetric::Pnn50Pct,
        TrendMetric::HfMs2,
        TrendMetric::Sd1Ms,
        TrendMetric::DfaAlpha1,
    ];
    let today = today();
    let from = format_day(today - 6);
    for metric in table {
        let name = metric.as_str();
        let out = m
            .toolbox
            .call("get_trend", json!({"metric": name, "from": from, "to": null}))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(out.content["metric"], json!(name));
        // Each morning's value, computed independently of the tool.
        let mut expected: Vec<(i64, f64)> = Vec::new();
        for (r, (day, session)) in readings.iter().zip(&m.sessions) {
            let v = match metric.source() {
                TrendSource::Reading(reading) => reading.of(r),
                TrendSource::Panel(key) => recomputed(&m.store, *session, key).await,
            };
            if let Some(v) = v {
                expected.push((*day, v));
            }
        }
        assert_eq!(expected.len() as i64, DAYS, "{name}: every morning has a value");
        let days = out.content["days"].as_array().unwrap();
        assert_eq!(days.len(), 7, "{name}");
        for shown in days {
            let day = today - 6 + days.iter().position(|d| d == shown).unwrap() as i64;
            assert_eq!(shown["day"], json!(format_day(day)));
            let want = expected.iter().find(|(d, _)| *d == day).map(|(_, v)| *v);
            let got = shown["value"].as_f64();
            assert!(
                matches!((got, want), (Some(g), Some(w)) if close(g, w)),
                "{name} on {day}: {got:?} vs {want:?}"
            );
            let want_band = match metric {
                TrendMetric::LnRmssd => shown["normal_range_ln_rmssd"]
                    .as_array()
                    .map(|b| (b[0].as_f64().unwrap(), b[1].as_f64().unwrap())),
                TrendMetric::RmssdMs => shown["normal_range_ln_rmssd"]
                    .as_array()
                    .map(|b| (b[0].as_f64().unwrap().exp(), b[1].as_f64().unwrap().exp())),
                _ => band(&expected, day),
            };
            let got_band = shown["normal_range"]
                .as_array()
                .map(|b| (b[0].as_f64().unwrap(), b[1].as_f64().unwrap()));
            match (got_band, want_band) {
                (Some(g), Some(w)) => {
                    assert!(close(g.0, w.0) && close(g.1, w.1), "{name} {day}: {g:?} vs {w:?}")
                }
                (None, None) => {}
                other => panic!("{name} on {day}: band {other:?}"),
            }
        }
        // The generic band, applied to lnRMSSD, is the engine's readiness range: one definition.
        if metric == TrendMetric::LnRmssd {
            let last = &days[6]["normal_range"];
            let generic = band(&expected, today).unwrap();
            assert!(
                close(last[0].as_f64().unwrap(), generic.0),
                "{last} vs {generic:?}"
            );
        }
        // The last band is in the receipt, so a model may state it.
        let receipt = &out.receipts[0];
        let high = out.content["normal_range"]["high"].as_f64().unwrap();
        assert!(
            receipt
                .values
                .iter()
                .any(|v| v.label.starts_with("normal range high") && v.value == high),
            "{name}: {:?}",
            receipt.values
        );
        let values = receipt
            .values
            .iter()
            .filter(|v| v.label.contains(" on 20"))
            .count();
        assert!(values >= 7, "{name}: one receipt value a day");
    }
}

#[tokio::test]
async fn every_panel_metric_of_the_trend_is_a_key_of_get_session() {
    let m = mornings().await;
    let out = m.toolbox.call("get_session", json!({})).await.unwrap();
    let keys: Vec<&String> = out.content["panel"].as_object().unwrap().keys().collect();
    for metric in TrendMetric::ALL {
        assert_eq!(serde_json::to_value(metric).unwrap(), json!(metric.as_str()));
        if let TrendSource::Panel(key) = metric.source() {
            assert!(
                keys.iter().any(|k| *k == key),
                "{key} is not a panel key: {keys:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_sessions_panel_is_stored_once_and_recomputed_when_beats_arrive() {
    let m = mornings().await;
    let (_, id) = *m.sessions.last().unwrap();
    assert!(
        m.store
            .session_panel_view(id)
            .await
            .unwrap()
            .unwrap()
            .panel
            .is_none()
    );
    let first = m.toolbox.call("get_session", json!({"id": id.0})).await.unwrap();
    let stored = m.store.session_panel_view(id).await.unwrap().unwrap().panel;
    assert!(stored.is_some(), "the first read stores the panel");
    let second = m.toolbox.call("get_session", json!({"id": id.0})).await.unwrap();
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("receipt");
        v
    };
    assert_eq!(
        strip(first.content.clone()),
        strip(second.content.clone()),
        "read back as computed"
    );
    let values = |o: &auren_agents::tools::ToolOutput| -> Vec<(String, f64)> {
        o.receipts[0]
            .values
            .iter()
            .map(|v| (v.label.clone(), v.value))
            .collect()
    };
    assert_eq!(
        values(&first),
        values(&second),
        "the same receipt values in the same order"
    );

    // More beats: the stored panel is stale, the next read recomputes it from all of them.
    let mut rng = Rng(9);
    record(&m.store, id, 150, 700.0, 10.0, &mut rng).await;
    let third = m.toolbox.call("get_session", json!({"id": id.0})).await.unwrap();
    assert_eq!(third.content["beats"], json!(300));
    let mean_nn = third.content["panel"]["mean_nn_ms"].as_f64().unwrap();
    let fresh = recomputed(&m.store, id, "mean_nn_ms").await.unwrap();
    assert!(close(mean_nn, fresh), "{mean_nn} vs {fresh}");
    assert_ne!(
        first.content["panel"]["mean_nn_ms"],
        third.content["panel"]["mean_nn_ms"]
    );
}

#[tokio::test]
async fn a_morning_without_beats_has_no_panel_value() {
    let m = mornings().await;
    let today = today();
    // Today's reading moved to a session that recorded nothing.
    let empty = m
        .store
        .start_session(&NewSession {
            started_at: today * MS_PER_DAY + 7 * 3_600_000,
            kind: SessionKind::Morning,
            source: "import".into(),
            strap_address: None,
            label: None,
        })
        .await
        .unwrap();
    m.store
        .add_morning_reading(today, 4.0, Some(55.0), Some(empty))
        .await
        .unwrap();
    let out = m
        .toolbox
        .call(
            "get_trend",
            json!({"metric": "sdnn_ms", "from": format_day(today - 1), "to": null}),
        )
        .await
        .unwrap();
    let days = out.content["days"].as_array().unwrap();
    assert!(days[0]["value"].is_f64());
    assert!(days[1]["value"].is_null(), "{}", days[1]);
    assert_eq!(out.content["mornings"], json!(1));
}
