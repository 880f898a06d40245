//! The tools over a simulated history in a real SQLite file: every tool answers, every number has a
//! receipt, receipt ids are unique, the statistics equal `stats` on the same mornings, a planted tag effect
//! is found and null data shows none, bad arguments are refused naming the problem.

use std::collections::HashSet;

use auren_agents::stats;
use auren_agents::tools::days::format_day;
use auren_agents::{ToolError, ToolName};
use serde_json::json;

use crate::fixture::{Plan, history};

fn day(h: &crate::fixture::History, offset: i64) -> String {
    format_day(h.today + offset)
}

#[tokio::test]
async fn every_tool_answers_with_receipts_and_unique_ids() {
    let h = history(Plan::default()).await;
    let calls = [
        ("get_readiness", json!({"day": null})),
        ("get_trend", json!({"metric": null, "from": null, "to": null})),
        ("list_sessions", json!({"limit": null, "kind": null})),
        ("get_session", json!({"id": null})),
        ("get_alerts", json!({"from": day(&h, -29), "to": null})),
        (
            "compare_periods",
            json!({"metric": null, "a_from": day(&h, -6), "a_to": day(&h, 0), "b_from": day(&h, -13), "b_to": day(&h, -7)}),
        ),
        (
            "tag_effect",
            json!({"tag": "alcohol", "metric": null, "lag_days": null, "from": null, "to": null}),
        ),
        ("recall", json!({"query": "sleep", "limit": null})),
        (
            "remember",
            json!({"text": "Works night shifts on Fridays", "kind": null, "importance": null}),
        ),
        ("list_hypotheses", json!({})),
        (
            "propose_hypothesis",
            json!({"statement": "alcohol lowers my next-morning HRV", "metric": "ln_rmssd", "exposure_tag": "alcohol",
                   "lag_days": null, "direction": null, "test": null, "alpha": null, "min_n": null}),
        ),
    ];
    let mut ids = HashSet::new();
    for (name, args) in calls {
        let out = h
            .toolbox
            .call(name, args)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for r in &out.receipts {
            assert!(ids.insert(r.id.clone()), "{name}: receipt id {:?} repeated", r.id);
            assert_eq!(r.tool, name);
            assert!(r.values.iter().all(|v| v.value.is_finite()));
        }
        if let Some(id) = out.content.get("receipt") {
            assert_eq!(
                id,
                &json!(out.receipts[0].id),
                "{name}: the content names its receipt"
            );
        }
    }
    assert_eq!(ToolName::ALL.len(), 12);
}

#[tokio::test]
async fn readiness_and_trend_state_the_stored_mornings() {
    let h = history(Plan::default()).await;
    let readings = h.store.morning_readings(h.today - 6, h.today).await.unwrap();
    let out = h.toolbox.call("get_readiness", json!({})).await.unwrap();
    let today_ln = readings.last().unwrap().ln_rmssd;
    assert_eq!(out.content["morning_ln_rmssd"], json!(today_ln));
    assert!(
        out.content["verdict"].is_string(),
        "90 days give a normal range: {}",
        out.content
    );
    let receipt = &out.receipts[0];
    let rmssd = receipt
        .values
        .iter()
        .find(|v| v.label.starts_with("RMSSD on"))
        .unwrap();
    assert!((rmssd.value - today_ln.exp()).abs() < 1e-9);
    assert_eq!(rmssd.day.as_deref(), Some(format_day(h.today).as_str()));

    let out = h.toolbox.call("get_trend", json!({})).await.unwrap();
    let mean = readings.iter().map(|r| r.ln_rmssd).sum::<f64>() / 7.0;
    assert!((out.content["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
    assert_eq!(out.content["days"].as_array().unwrap().len(), 7);
    assert_eq!(out.receipts[0].sources.len(), 7);
}

#[tokio::test]
async fn compare_periods_states_what_stats_computes() {
    let h = history(Plan {
        last_week_shift: -0.4,
        ..Plan::default()
    })
    .await;
    let args =
        json!({"a_from": day(&h, -6), "a_to": day(&h, 0), "b_from": day(&h, -13), "b_to": day(&h, -7)});
    let out = h.toolbox.call("compare_periods", args).await.unwrap();
    let ln = |from: i64, to: i64| {
        let store = h.store.clone();
        async move {
            store
                .morning_readings(from, to)
                .await
                .unwrap()
                .iter()
                .map(|r| r.ln_rmssd)
                .collect::<Vec<_>>()
        }
    };
    let (a, b) = (
        ln(h.today - 6, h.today).await,
        ln(h.today - 13, h.today - 7).await,
    );
    let expected = stats::compare(&a, &b).unwrap();
    assert_eq!(
        out.content["comparison"],
        serde_json::to_value(&expected).unwrap()
    );
    assert!(
        expected.welch.unwrap().p < 0.05,
        "a 0.4 drop over a week is visible: {expected:?}"
    );
    let labels: Vec<&str> = out.receipts[0].values.iter().map(|v| v.label.as_str()).collect();
    for needed in [
        "Welch t",
        "Welch p (two-sided)",
        "Mann–Whitney U",
        "Hedges' g",
        "difference as % of RMSSD",
    ] {
        assert!(labels.contains(&needed), "{needed} missing from {labels:?}");
    }
}

#[tokio::test]
async fn a_planted_tag_effect_is_found_and_null_data_shows_none() {
    let planted = history(Plan {
        days: 180,
        ..Plan::default()
    })
    .await;
    let out = planted
        .toolbox
        .call("tag_effect", json!({"tag": "Alcohol"}))
        .await
        .unwrap();
    let c = &out.content["comparison"];
    assert!(c["welch"]["p"].as_f64().unwrap() < 0.001, "{c}");
    assert!(c["mann_whitney"]["p"].as_f64().unwrap() < 0.001, "{c}");
    assert!((c["difference"].as_f64().unwrap() + 0.3).abs() < 0.1, "{c}");
    assert_eq!(c["a"]["n"].as_u64().unwrap() as usize, planted.alcohol_days.len());

    let null = history(Plan {
        days: 180,
        alcohol_effect: 0.0,
        ..Plan::default()
    })
    .await;
    let out = null
        .toolbox
        .call("tag_effect", json!({"tag": "alcohol"}))
        .await
        .unwrap();
    let c = &out.content["comparison"];
    assert!(c["welch"]["p"].as_f64().unwrap() > 0.05, "{c}");
    assert!(c["effect"]["hedges_g"].as_f64().unwrap().abs() < 0.5, "{c}");
    // Lag 0 compares the tagged evening's own morning, which the simulation leaves alone.
    let out = planted
        .toolbox
        .call("tag_effect", json!({"tag": "alcohol", "lag_days": 0}))
        .await
        .unwrap();
    assert!(out.content["comparison"]["welch"]["p"].as_f64().unwrap() > 0.01);
}

#[tokio::test]
async fn sessions_and_alerts_come_with_their_numbers() {
    let h = history(Plan::default()).await;
    let out = h.toolbox.call("get_session", json!({})).await.unwrap();
    let rmssd = out.content["panel"]["rmssd_ms"].as_f64().unwrap();
    assert!(rmssd > 20.0, "{}", out.content);
    let v = out.receipts[0]
        .values
        .iter()
        .find(|v| v.label.starts_with("rmssd_ms"))
        .unwrap();
    assert_eq!(v.unit, auren_agents::Unit::Ms);
    let out = h
        .toolbox
        .call("list_sessions", json!({"kind": "exercise", "limit": 3}))
        .await
        .unwrap();
    assert_eq!(out.content["sessions"].as_array().unwrap().len(), 3);
    let out = h
        .toolbox
        .call("get_alerts", json!({"from": day(&h, -29)}))
        .await
        .unwrap();
    assert_eq!(
        out.content["count"],
        json!(2),
        "every tenth day: days 69 and 79 of 90"
    );
    assert!(
        out.receipts[0]
            .values
            .iter()
            .any(|v| v.value == 11.6 && v.unit == auren_agents::Unit::Ms)
    );
}

#[tokio::test]
async fn bad_arguments_are_refused_naming_the_problem() {
    let h = history(Plan {
        days: 10,
        ..Plan::default()
    })
    .await;
    let cases = [
        ("get_readinesss", json!({}), "unknown tool"),
        ("get_readiness", json!({"day": "3/12/2026"}), "is not a date"),
        (
            "get_readiness",
            json!({"day": "2026-02-30"}),
            "not a calendar date",
        ),
        ("get_readiness", json!({"when": "today"}), "unknown field"),
        (
            "get_trend",
            json!({"from": "2026-12-03", "to": "2026-12-01"}),
            "starts",
        ),
        ("get_trend", json!({"from": "2024-01-01"}), "at most 400"),
        ("get_trend", json!({"metric": "sdnn"}), "unknown variant"),
        ("list_sessions", json!({"limit": 0}), "limit 0"),
        (
            "tag_effect",
            json!({"tag": "alcohol", "lag_days": 3}),
            "lag_days 3",
        ),
        ("tag_effect", json!({"tag": "  "}), "empty"),
        ("get_session", json!({"id": 999}), "999"),
        (
            "compare_periods",
            json!({"a_from": "2026-12-01"}),
            "missing field",
        ),
        (
            "propose_hypothesis",
            json!({"statement": "x", "metric": "ln_rmssd", "exposure_tag": "a", "alpha": 0.5}),
            "alpha 0.5",
        ),
        (
            "remember",
            json!({"text": "x", "importance": 2.0}),
            "importance 2",
        ),
        ("retract", json!({"id": 1, "reason": ""}), "needs a reason"),
    ];
    for (name, args, needle) in cases {
        let err = h.toolbox.call(name, args.clone()).await.unwrap_err();
        assert!(err.to_string().contains(needle), "{name} {args}: {err}");
        if name == "get_readinesss" {
            assert!(matches!(err, ToolError::Unknown(_)));
        }
    }
}

#[tokio::test]
async fn memories_are_remembered_recalled_and_retracted() {
    let h = history(Plan {
        days: 3,
        ..Plan::default()
    })
    .await;
    let out = h
        .toolbox
        .call(
            "remember",
            json!({"text": "Prefers evening runs by the river", "kind": "preference"}),
        )
        .await
        .unwrap();
    let id = out.content["memory_id"].as_i64().unwrap();
    let out = h
        .toolbox
        .call("recall", json!({"query": "runs river"}))
        .await
        .unwrap();
    assert_eq!(out.content["memories"][0]["id"], json!(id));
    assert_eq!(out.receipts[0].sources, vec![auren_agents::Source::Memory { id }]);
    h.toolbox
        .call("retract", json!({"id": id, "reason": "moved away"}))
        .await
        .unwrap();
    let out = h
        .toolbox
        .call("recall", json!({"query": "runs river"}))
        .await
        .unwrap();
    assert!(out.content["memories"].as_array().unwrap().is_empty());

    let asking = h
        .toolbox
        .clone()
        .with_memory_writes(auren_agents::tools::MemoryWrites::Propose);
    let out = asking
        .call("remember", json!({"text": "Goal: a half marathon in April"}))
        .await
        .unwrap();
    assert_eq!(out.content["applied"], json!(false));
    let out = h
        .toolbox
        .call("recall", json!({"query": "marathon"}))
        .await
        .unwrap();
    assert!(
        out.content["memories"].as_array().unwrap().is_empty(),
        "a proposal is not a memory yet"
    );
}

/// A session of `beats` one-second beats started at `started_at`, never ended: what a recording process
/// killed mid-session leaves, or one still being recorded — only the last beat's age tells them apart.
async fn unended(h: &crate::fixture::History, started_at: i64, beats: u32) -> i64 {
    let id = h
        .store
        .start_session(&auren_store::NewSession {
            started_at,
            kind: auren_store::SessionKind::Rest,
            source: "ble:AA:BB:CC:DD:EE:FF".into(),
            strap_address: None,
            label: None,
        })
        .await
        .unwrap();
    let w = h.store.session_writer(id).await.unwrap();
    for i in 1..=beats {
        let rr = 1_000.0 + if i % 2 == 0 { 20.0 } else { -20.0 };
        w.beat(f64::from(i) * 1_000.0, rr, None);
    }
    w.finish().await.unwrap();
    id.0
}

#[tokio::test]
async fn the_session_tools_state_how_each_session_ended() {
    use auren_clock::Clock;
    use auren_store::{RecordingHere, SessionId};
    let h = history(Plan {
        days: 10,
        ..Plan::default()
    })
    .await;
    let now = h.clock.now().0;
    // Killed an hour ago after 38 minutes; another whose last beat is a second old.
    let killed_start = now - 60 * 60_000 - 38 * 60_000;
    let killed = unended(&h, killed_start, 38 * 60).await;
    let recording = unended(&h, now - 61_000, 60).await;
    let killed_end = json!({
        "state": "no_end_recorded",
        "last_beat_at": auren_clock::UnixMillis(killed_start + 38 * 60_000).to_string(),
        "note": "no end recorded and nothing stored for 10 minutes: most likely the recording stopped (the \
                 app or the device stopped mid-session), though an end may still arrive by sync; its length \
                 runs to its last beat",
    });
    let recording_end = json!({
        "state": "recording",
        "note": "being recorded now: its length and numbers cover the beats stored so far",
    });

    let listed = h
        .toolbox
        .call("list_sessions", json!({"limit": 3}))
        .await
        .unwrap();
    let ends: Vec<(i64, serde_json::Value)> = listed.content["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_i64().unwrap(), s["end"].clone()))
        .collect();
    assert_eq!(ends[0], (recording, recording_end.clone()));
    assert_eq!(ends[1], (killed, killed_end.clone()));
    assert_eq!(ends[2].1["state"], "ended", "the morning: {:?}", ends[2]);
    assert!(ends[2].1["at"].is_string(), "{:?}", ends[2]);
    let listed_killed = &listed.content["sessions"][1];
    assert_eq!(listed_killed["duration_min"], json!(38.0), "{listed_killed}");

    for (id, end) in [(killed, &killed_end), (recording, &recording_end)] {
        let out = h.toolbox.call("get_session", json!({"id": id})).await.unwrap();
        assert_eq!(&out.content["end"], end, "session {id}");
    }
    let last = "How did my last session go?";
    let said = auren_agents::offline::answer(&h.toolbox, last)
        .await
        .unwrap()
        .text;
    assert!(said.contains(", still recording):"), "{said}");
    // Ten minutes after its last beat the second one is over too, with no end recorded, and the offline
    // analyst says so with the last beat's time (a time, not a claim to ground).
    h.clock.advance(std::time::Duration::from_secs(11 * 60));
    let out = h
        .toolbox
        .call("get_session", json!({"id": recording}))
        .await
        .unwrap();
    assert_eq!(out.content["end"]["state"], "no_end_recorded", "{}", out.content);
    let a = auren_agents::offline::answer(&h.toolbox, last).await.unwrap();
    // The last beat in the analyst's words: the minute, in UTC, with the date only when it is not the
    // start's (the analyst does not know the person's time zone; History shows local time).
    let last_beat = auren_clock::UnixMillis(now - 1_000);
    let start = auren_clock::UnixMillis(now - 61_000);
    let minute = last_beat.civil_minute();
    let shown = if last_beat.utc_date() == start.utc_date() {
        format!("{} UTC", &minute[11..])
    } else {
        format!("{minute} UTC")
    };
    assert!(
        a.text.contains(&format!(
            ", no end recorded and nothing stored since its last beat at {shown}: most likely stopped):"
        )),
        "{}",
        a.text
    );
    assert!(
        a.text.contains(&format!("started {} UTC", start.civil_minute())),
        "{}",
        a.text
    );
    let claims = auren_agents::grounding::ground(&a.text, &a.receipts);
    assert!(claims.iter().all(|c| c.grounded), "{claims:?} in {}", a.text);

    // The app recording that session knows it is not over: its toolbox says recording, as its History
    // does, however long the strap has been silent; another session recorded there changes nothing.
    let rows = [
        (
            RecordingHere::Session(SessionId(recording)),
            recording,
            "recording",
        ),
        (
            RecordingHere::Session(SessionId(killed)),
            recording,
            "no_end_recorded",
        ),
        (RecordingHere::Nothing, recording, "no_end_recorded"),
        (
            RecordingHere::Session(SessionId(recording)),
            killed,
            "no_end_recorded",
        ),
    ];
    for (here, id, state) in rows {
        let tb = h.toolbox.clone().with_recording_here(here);
        let got = tb.call("get_session", json!({"id": id})).await.unwrap();
        assert_eq!(got.content["end"]["state"], state, "session {id}, {here:?}");
        let listed = tb.call("list_sessions", json!({"limit": 3})).await.unwrap();
        let item = listed.content["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone();
        assert_eq!(item["end"]["state"], state, "listed {id}, {here:?}");
    }
    let here = h
        .toolbox
        .clone()
        .with_recording_here(RecordingHere::Session(SessionId(recording)));
    let said = auren_agents::offline::answer(&here, last).await.unwrap().text;
    assert!(said.contains(", still recording):"), "{said}");
}
