//! `auren simulate history`: a simulated person's days, labelled as simulated, the same for a seed, with the
//! planted alcohol effect found by the coach's own `tag_effect` tool and the null `meditation` tag not.

use std::sync::Arc;

use auren_agents::Toolbox;
use auren_clock::{ManualClock, UnixMillis, UtcDate};
use auren_store::Store;

use crate::run::{auren, json, ok};

const UNTIL: &str = "2025-06-30";

fn simulate(dir: &std::path::Path, days: &str, seed: &str) -> serde_json::Value {
    let db = dir.join("auren.db").display().to_string();
    json(&ok(auren(
        dir,
        &[
            "simulate", "history", "--days", days, "--seed", seed, "--until", UNTIL, "--db", &db, "--json",
        ],
    )))
}

fn toolbox(store: Store) -> Toolbox {
    let until = UtcDate {
        year: 2025,
        month: 6,
        day: 30,
    };
    let noon = UnixMillis(until.start().0 + 12 * 3_600_000);
    Toolbox::new(store, Arc::new(ManualClock::new(noon)))
}

async fn open(dir: &std::path::Path) -> Store {
    Store::open(&dir.join("auren.db")).await.unwrap()
}

#[tokio::test]
async fn ninety_days_are_labelled_simulated_and_carry_the_planted_alcohol_effect() {
    let dir = tempfile::tempdir().unwrap();
    let summary = tokio::task::spawn_blocking({
        let dir = dir.path().to_owned();
        move || simulate(&dir, "90", "11")
    })
    .await
    .unwrap();
    assert_eq!(summary["mornings"], 90);
    assert_eq!(summary["first_day"], "2025-04-02");
    assert!(summary["alcohol_evenings"].as_u64().unwrap() >= 8, "{summary}");
    assert!(summary["alerts"].as_u64().unwrap() >= 1, "{summary}");

    let store = open(dir.path()).await;
    let sessions = store.sessions(1000, 0).await.unwrap();
    assert!(!sessions.is_empty());
    assert!(
        sessions
            .iter()
            .all(|s| s.source == "Simulated strap — history (seed 11)"),
        "{:?}",
        sessions[0]
    );
    let mornings = store.morning_readings(0, i64::MAX / 2).await.unwrap();
    assert_eq!(mornings.len(), 90);

    let tb = toolbox(store.clone());
    let effect = |tag: &str| {
        let tb = tb.clone();
        let tag = tag.to_owned();
        async move {
            tb.call(
                "tag_effect",
                serde_json::json!({ "tag": tag, "from": "2025-04-02", "to": UNTIL }),
            )
            .await
            .unwrap()
            .content
        }
    };
    let alcohol = effect("alcohol").await;
    let text = alcohol.to_string();
    let difference = find_number(&alcohol, "difference").unwrap_or_else(|| panic!("{text}"));
    assert!(
        difference < -0.1,
        "alcohol should lower next-morning lnRMSSD: {text}"
    );
    let p = find_number(&alcohol, "p").unwrap_or_else(|| panic!("{text}"));
    assert!(p < 0.05, "{text}");
    let meditation = effect("meditation").await;
    let p = find_number(&meditation, "p").unwrap_or_else(|| panic!("{meditation}"));
    assert!(p > 0.01, "no effect was planted for meditation: {meditation}");
    store.close().await;
}

/// The first number under `key` anywhere in `value`.
fn find_number(value: &serde_json::Value, key: &str) -> Option<f64> {
    match value {
        serde_json::Value::Object(map) => map
            .get(key)
            .and_then(serde_json::Value::as_f64)
            .or_else(|| map.values().find_map(|v| find_number(v, key))),
        serde_json::Value::Array(items) => items.iter().find_map(|v| find_number(v, key)),
        _ => None,
    }
}

#[tokio::test]
async fn a_seed_gives_the_same_history_and_another_seed_another() {
    let run = |seed: &'static str| {
        tokio::task::spawn_blocking(move || {
            let dir = tempfile::tempdir().unwrap();
            simulate(dir.path(), "6", seed);
            (dir, seed)
        })
    };
    let mut readings = Vec::new();
    for seed in ["5", "5", "6"] {
        let (dir, _) = run(seed).await.unwrap();
        let store = open(dir.path()).await;
        let rows: Vec<(i64, f64, Option<f64>)> = store
            .morning_readings(0, i64::MAX / 2)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.day, r.ln_rmssd, r.resting_hr))
            .collect();
        store.close().await;
        readings.push(rows);
    }
    assert_eq!(readings[0].len(), 6);
    assert_eq!(readings[0], readings[1]);
    assert_ne!(readings[0], readings[2]);
}

#[test]
fn bad_history_arguments_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (args, words) in [
        (
            vec!["simulate", "history", "--days", "0"],
            vec!["--days 0", "1 to 3650"],
        ),
        (
            vec!["simulate", "history", "--until", "June"],
            vec!["--until \"June\"", "not a date"],
        ),
    ] {
        crate::run::fails_with(auren(dir.path(), &args), &words);
    }
}
