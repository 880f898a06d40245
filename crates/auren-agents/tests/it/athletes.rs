//! A coach's device holds the sessions, alerts, tags and mornings of the athletes who granted it access (pulled
//! by sync, read-only): the AI coach's tools and the offline analyst speak of the person's own data only. An
//! athlete's alert is not the coach's, their tag not the coach's habit, their session not one the coach can
//! be told about; the background panel refresh leaves their sessions alone too.

use std::sync::Arc;

use auren_agents::Toolbox;
use auren_agents::intent::Intent;
use auren_agents::offline::answer;
use auren_agents::receipt::{Source, Unit};
use auren_clock::{MS_PER_DAY, ManualClock, UnixMillis};
use auren_store::{AlertRow, BeatRow, NewSession, PulledSession, SessionKind, Store};
use serde_json::{Value, json};

use crate::fixture::today;

const ATHLETE: &str = "runner@example.org";

/// A CNS-fatigue alert's evidence with the given RMSSD and HR.
fn evidence(rmssd: f64, hr: f64) -> String {
    json!({
        "values": [{"name": "rmssd_60s", "value": rmssd}, {"name": "hr", "value": hr}],
        "window_from_ms": 60_000, "window_to_ms": 120_000, "held_since_ms": 90_000, "steps_at_ms": []
    })
    .to_string()
}

/// 300 alternating beats around 1000 ms.
fn beats() -> Vec<BeatRow> {
    (0..300)
        .map(|i| BeatRow {
            t_ms: f64::from(i + 1) * 1000.0,
            rr_ms: if i % 2 == 0 { 1030.0 } else { 970.0 },
            artifact: None,
        })
        .collect()
}

struct Coach {
    _dir: tempfile::TempDir,
    store: Store,
    toolbox: Toolbox,
    own: i64,
    theirs: i64,
}

/// The coach's own: mornings of the last 14 days around 4.4, yesterday's exercise session with beats, an
/// alert (RMSSD 11.6, HR 148) and the tag "alcohol". The athlete's, as a sync leaves them: this morning's
/// session with beats, an alert (RMSSD 9.9, HR 171) and the tag "sauna", and mornings around 3.2.
async fn coach() -> Coach {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("auren.db")).await.unwrap();
    let today = today();
    let clock = Arc::new(ManualClock::new(UnixMillis(today * MS_PER_DAY + 8 * 3_600_000)));

    let own = store
        .start_session(&NewSession {
            started_at: (today - 1) * MS_PER_DAY + 17 * 3_600_000,
            kind: SessionKind::Exercise,
            source: "simulator:rest".into(),
            strap_address: None,
            label: None,
        })
        .await
        .unwrap();
    let w = store.session_writer(own).await.unwrap();
    for b in beats() {
        w.beat(b.t_ms, b.rr_ms, None);
    }
    w.tag(60_000.0, "alcohol");
    w.alert(
        120_000.0,
        "cns_fatigue",
        "warning",
        "RMSSD stayed low at a moderate heart rate",
        &evidence(11.6, 148.0),
    );
    w.finish().await.unwrap();
    store
        .end_session(own, (today - 1) * MS_PER_DAY + 17 * 3_600_000 + 300_000)
        .await
        .unwrap();
    for k in 0..14 {
        let wobble = if k % 2 == 0 { 0.05 } else { -0.05 };
        store
            .add_morning_reading(today - k, 4.4 + wobble, Some(60.0), None)
            .await
            .unwrap();
    }

    store
        .forget_athletes_except(&[("u-runner".into(), ATHLETE.into())])
        .await
        .unwrap();
    let started_at = today * MS_PER_DAY + 7 * 3_600_000;
    let mut tx = store.begin_sync().await.unwrap();
    let theirs = tx
        .upsert_session(
            "athlete-replica:7",
            &PulledSession {
                started_at,
                ended_at: Some(started_at + 300_000),
                kind: SessionKind::Exercise,
                source: "ble:AA:BB".into(),
                athlete: Some(ATHLETE.into()),
            },
        )
        .await
        .unwrap();
    tx.insert_beats(theirs, &beats()).await.unwrap();
    tx.put_tag("athlete-replica:tag:1", theirs, 60_000.0, "sauna")
        .await
        .unwrap();
    let alert = AlertRow {
        id: 0,
        session_id: theirs,
        at_ms: 120_000.0,
        at: started_at + 120_000,
        rule: "cns_fatigue".into(),
        severity: "warning".into(),
        message: "RMSSD stayed low at a moderate heart rate".into(),
        evidence_json: evidence(9.9, 171.0),
    };
    assert!(tx.insert_alert(&alert, started_at + 60_000).await.unwrap());
    for k in 0..14 {
        let wobble = if k % 2 == 0 { 0.05 } else { -0.05 };
        tx.put_athlete_morning(ATHLETE, today - k, 3.2 + wobble, Some(45.0), None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let toolbox = Toolbox::new(store.clone(), clock);
    Coach {
        _dir: dir,
        store,
        toolbox,
        own: own.0,
        theirs: theirs.0,
    }
}

fn day(offset: i64) -> String {
    auren_agents::tools::days::format_day(today() + offset)
}

/// The `session_id` of each alert a get_alerts answer lists.
fn alert_sessions(content: &Value) -> Vec<i64> {
    content["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["session_id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_coachs_tools_see_only_their_own_sessions_alerts_tags_and_mornings() {
    let c = coach().await;
    let tb = &c.toolbox;

    // The background refresh stores the coach's own session's panel, never the athlete's.
    let now = today() * MS_PER_DAY + 8 * 3_600_000;
    let refreshed = auren_engine::panels::refresh_panels(&c.store, now).await.unwrap();
    assert_eq!(refreshed.stored, 1, "{refreshed:?}");
    assert!(
        auren_engine::panels::panel_is_current(&c.store, c.own)
            .await
            .unwrap()
    );
    assert!(
        !auren_engine::panels::panel_is_current(&c.store, c.theirs)
            .await
            .unwrap()
    );

    let alerts = tb
        .call("get_alerts", json!({"from": day(-6), "to": day(0)}))
        .await
        .unwrap();
    assert_eq!(alert_sessions(&alerts.content), [c.own], "{}", alerts.content);
    assert_eq!(alerts.content["count"], json!(1));
    let receipt_values: Vec<f64> = alerts.receipts[0].values.iter().map(|v| v.value).collect();
    assert!(!receipt_values.contains(&171.0), "{receipt_values:?}");

    let listed = tb.call("list_sessions", json!({"limit": 10})).await.unwrap();
    let ids: Vec<i64> = listed.content["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [c.own]);

    // The latest session is the coach's own, though the athlete's started later; the athlete's is unknown here.
    let latest = tb.call("get_session", json!({})).await.unwrap();
    assert_eq!(latest.content["id"], json!(c.own));
    let refused = tb.call("get_session", json!({"id": c.theirs})).await;
    assert!(
        matches!(
            &refused,
            Err(auren_agents::ToolError::Engine {
                source: auren_engine::EngineError::NoSuchSession(id),
                ..
            }) if *id == c.theirs
        ),
        "{refused:?}"
    );

    let compared = tb
        .call(
            "compare_periods",
            json!({"a_from": day(-6), "a_to": day(0), "b_from": day(-13), "b_to": day(-7)}),
        )
        .await
        .unwrap();
    for group in ["a", "b"] {
        let mean = compared.content["comparison"][group]["mean"].as_f64().unwrap();
        assert!((mean - 4.4).abs() < 0.05, "{group}: {}", compared.content);
    }

    let trend = tb
        .call("get_trend", json!({"from": day(-13), "to": day(0)}))
        .await
        .unwrap();
    // Every morning's lnRMSSD the trend states is the coach's, around 4.4 (the athlete's are around 3.2).
    let ln: Vec<f64> = trend
        .receipts
        .iter()
        .flat_map(|r| &r.values)
        .filter(|v| v.unit == Unit::LnMs && v.day.is_some())
        .map(|v| v.value)
        .collect();
    assert!(!ln.is_empty(), "{}", trend.content);
    assert!(ln.len() >= 14, "{ln:?}");
    assert!(ln.iter().all(|v| (v - 4.4).abs() < 0.06), "{ln:?}");

    // The athlete's tag is no day of the coach's: no exposed morning to compare.
    let sauna = tb
        .call("tag_effect", json!({"tag": "sauna", "lag_days": 0}))
        .await;
    assert!(
        matches!(sauna, Err(auren_agents::ToolError::NotEnoughData { .. })),
        "{sauna:?}"
    );
    // A morning of the coach's linked to an athlete's session (the store refuses that link; a row written by
    // hand) gives the trend of a panel metric no value that day, never the athlete's session's.
    sqlx::query("UPDATE morning_readings SET session_id = ? WHERE day = ?")
        .bind(c.theirs)
        .bind(today())
        .execute(c.store.pool())
        .await
        .unwrap();
    let sdnn = tb
        .call(
            "get_trend",
            json!({"metric": "sdnn_ms", "from": day(0), "to": day(0)}),
        )
        .await
        .unwrap();
    assert_eq!(sdnn.content["days"][0]["value"], Value::Null, "{}", sdnn.content);

    let alcohol = tb
        .call("tag_effect", json!({"tag": "alcohol", "lag_days": 1}))
        .await
        .unwrap();
    assert_eq!(alcohol.content["exposed_days"], json!([day(0)]));
}

#[tokio::test]
async fn the_offline_analyst_answers_from_the_coachs_own_data() {
    let c = coach().await;
    let alerts = answer(&c.toolbox, "Why did the alerts fire this week?")
        .await
        .unwrap();
    assert_eq!(alerts.intent, Intent::Alerts { days: 7 });
    assert!(alerts.text.contains("148 bpm"), "{}", alerts.text);
    assert!(!alerts.text.contains("171"), "{}", alerts.text);

    // "sauna" is the athlete's tag, not a word the coach's data knows.
    assert_eq!(
        auren_agents::tools::tags::tag_names(&c.store).await.unwrap(),
        [("alcohol".to_owned(), 1)]
    );
    let sauna = answer(&c.toolbox, "What about sauna?").await.unwrap();
    assert_eq!(sauna.intent, Intent::Unknown, "{}", sauna.text);
    let last = answer(&c.toolbox, "How did my last session go?").await.unwrap();
    assert_eq!(last.intent, Intent::LastSession);
    let sessions: Vec<&Source> = last
        .receipts
        .iter()
        .flat_map(|r| &r.sources)
        .filter(|s| matches!(s, Source::Session { .. }))
        .collect();
    assert_eq!(sessions, [&Source::Session { id: c.own }], "{}", last.text);
}
