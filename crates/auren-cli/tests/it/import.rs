//! `auren import`: recordings keep their real start time (the file's own, or --at), history exports of
//! HRV4Training and Elite HRV become morning readings, and bad input is one line naming the problem.

use crate::run::{auren, db, fails_with, json, ok};
use std::path::Path;

const NSR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/data/reference/nsr_5min.rr"
);

fn rr_lines(n: usize) -> String {
    let rr = std::fs::read_to_string(NSR).unwrap();
    rr.lines()
        .filter(|l| !l.trim().is_empty())
        .take(n)
        .map(|l| format!("{}\n", l.trim()))
        .collect()
}

/// A file `name` in `dir` holding the first `beats` intervals of the NSR reference; returns its path.
fn rr_file(dir: &Path, name: &str, beats: usize) -> String {
    let file = dir.join(name);
    std::fs::write(&file, rr_lines(beats)).unwrap();
    file.display().to_string()
}

#[test]
fn a_recording_keeps_the_start_its_csv_carries_and_at_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = db(dir.path());
    let mut csv = String::from("Phone timestamp;RR-interval [ms]\n");
    for (k, rr) in rr_lines(200).lines().enumerate() {
        csv.push_str(&format!("2025-11-21T04:40:{:02}.000;{rr}\n", k % 60));
    }
    let file = dir.path().join("polar.csv");
    std::fs::write(&file, csv).unwrap();
    let file = file.display().to_string();

    let got = json(&ok(auren(dir.path(), &["import", &file, "--db", &db, "--json"])));
    assert_eq!(got["beats"], 200);
    let from_file = got["session_id"].as_i64().unwrap();
    let got = json(&ok(auren(
        dir.path(),
        &[
            "import",
            &file,
            "--at",
            "2024-01-02T06:00:00+01:00",
            "--kind",
            "morning",
            "--db",
            &db,
            "--json",
        ],
    )));
    let overridden = got["session_id"].as_i64().unwrap();

    let sessions = json(&ok(auren(dir.path(), &["sessions", "--json", "--db", &db])));
    let started = |id: i64| {
        sessions
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .map(|s| (s["started_at_unix_ms"].as_i64().unwrap(), s["kind"].clone()))
            .unwrap()
    };
    assert_eq!(started(from_file).0, 1_763_700_000_000);
    assert_eq!(started(overridden).0, 1_704_171_600_000);
    assert_eq!(started(overridden).1, "morning");
}

#[test]
fn a_recording_without_a_start_time_asks_for_at() {
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = db(dir.path());
    let file = rr_file(dir.path(), "plain.rr", 100);
    fails_with(
        auren(dir.path(), &["import", &file, "--db", &db]),
        &["plain.rr", "--at"],
    );
    fails_with(
        auren(dir.path(), &["import", &file, "--at", "soon", "--db", &db]),
        &["\"soon\"", "not a time"],
    );
    fails_with(
        auren(
            dir.path(),
            &[
                "import",
                &file,
                "--at",
                "2025-01-01",
                "--kind",
                "nap",
                "--db",
                &db,
            ],
        ),
        &["unknown session kind \"nap\""],
    );
    // An Elite HRV raw export's file name is its start.
    let named = rr_file(dir.path(), "2025-11-21 04-40-00.txt", 100);
    let got = json(&ok(auren(dir.path(), &["import", &named, "--db", &db, "--json"])));
    assert_eq!(got["beats"], 100);
}

/// Each app's layout (as GoldenCheetah's importer reads them) and the days it must store.
#[test]
fn history_exports_become_morning_readings_and_a_normal_range() {
    let cases: [(&str, String, &str); 3] = [
        (
            "hrv4t_ios.csv",
            (1..=28)
                .map(|d| {
                    format!(
                        "2025-02-{d:02} 07:0{}:00,{},{}\n",
                        d % 10,
                        50 + d % 5,
                        40 + (d * 7) % 13
                    )
                })
                .fold("timestamp_measurement,HR,rMSSD\n".to_owned(), |a, l| a + &l),
            "HRV4Training (iPhone)",
        ),
        (
            "hrv4t_android.csv",
            (1..=28)
                .map(|d| format!("2025-{d:02}-02,07:01,{},{}\n", 50 + d % 5, 40 + (d * 7) % 13))
                .fold("date,time,HR_lying,rMSSD_lying\n".to_owned(), |a, l| a + &l),
            "HRV4Training (Android)",
        ),
        (
            "elite.csv",
            (1..=28)
                .map(|d| format!("2025-02-{d:02}T07:00:00Z,{},{}\n", 50 + d % 5, 40 + (d * 7) % 13))
                .fold("Datetime,HR,Rmssd\n".to_owned(), |a, l| a + &l),
            "Elite HRV",
        ),
    ];
    for (name, text, app) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (_, db) = db(dir.path());
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let out = ok(auren(
            dir.path(),
            &["import", file.to_str().unwrap(), "--db", &db],
        ));
        let said = crate::run::stdout(&out);
        assert!(
            said.contains("28 morning readings") && said.contains(app),
            "{name}: {said}"
        );
        assert!(said.contains("2025-02-01 to 2025-02-28"), "{name}: {said}");
    }
}

#[test]
fn a_bad_history_row_names_its_line_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (db_path, db) = db(dir.path());
    let file = dir.path().join("elite.csv");
    std::fs::write(
        &file,
        "Datetime,HR,Rmssd\n2025-02-01T07:00:00,55,42\n2025-02-02T07:00:00,55,n/a\n",
    )
    .unwrap();
    let file = file.display().to_string();
    fails_with(
        auren(dir.path(), &["import", &file, "--db", &db]),
        &["elite.csv", "line 3", "\"n/a\""],
    );
    fails_with(
        auren(dir.path(), &["import", &file, "--at", "2025-01-01", "--db", &db]),
        &["history export", "--at"],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let readings = rt.block_on(async {
        let store = auren_store::Store::open(&db_path).await.unwrap();
        let r = store.morning_readings(i64::MIN / 2, i64::MAX / 2).await.unwrap();
        store.close().await;
        r
    });
    assert!(readings.is_empty(), "{readings:?}");
}

/// The imported session's panel is stored and current when the command returns, and a panel left by an
/// older computation is recomputed by the import that follows, which says how many it brought up to date.
#[test]
fn an_import_stores_the_session_panel_and_brings_stale_ones_up_to_date() {
    use auren_engine::panels::{compute_panel, panel_is_current};
    let dir = tempfile::tempdir().unwrap();
    let (db_path, db) = db(dir.path());
    let file = rr_file(dir.path(), "nsr.rr", 300);
    let import_at = |at: &str, json_out: bool| {
        let mut args = vec!["import", &file, "--at", at, "--db", &db];
        if json_out {
            args.push("--json");
        }
        ok(auren(dir.path(), &args))
    };

    let got = json(&import_at("2025-11-20T06:00:00", true));
    assert_eq!(got["panel_stored"], true, "{got}");
    assert_eq!(
        got["panels_refreshed"]["stored"], 0,
        "stored at the replay's end: {got}"
    );
    let first = got["session_id"].as_i64().unwrap();

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = auren_store::Store::open(&db_path).await.unwrap();
        assert!(panel_is_current(&store, first).await.unwrap());
        // Left by an older computation: the next refresh must recompute it.
        let stale = auren_store::StoredPanel {
            method: "auren-engine session panel; an older computation".into(),
            ..compute_panel(&store, first).await.unwrap().stored()
        };
        store.put_session_panel(&stale, 0).await.unwrap();
        assert!(!panel_is_current(&store, first).await.unwrap());
        store.close().await;
    });

    let out = import_at("2025-11-21T06:00:00", false);
    let said = crate::run::stdout(&out);
    assert!(
        said.contains("Session panel stored; 1 other session panel brought up to date."),
        "{said}"
    );
    let second: i64 = said
        .split("as session ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no session id in {said}"));
    rt.block_on(async {
        let store = auren_store::Store::open(&db_path).await.unwrap();
        for id in [first, second] {
            assert!(panel_is_current(&store, id).await.unwrap(), "session {id}");
            let stored = store
                .session_panel_view(auren_store::SessionId(id))
                .await
                .unwrap()
                .unwrap();
            let computed = compute_panel(&store, id).await.unwrap();
            assert_eq!(stored.panel.unwrap().values, computed.values, "session {id}");
        }
        store.close().await;
    });
}

#[test]
fn a_history_of_thirty_mornings_in_a_row_becomes_one_milestone_however_often_it_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = db(dir.path());
    let file = dir.path().join("elite.csv");
    let rows: String = (1..=30)
        .map(|d| format!("2025-11-{d:02}T07:00:00Z,{},{}\n", 50 + d % 5, 40 + (d * 7) % 13))
        .collect();
    std::fs::write(&file, format!("Datetime,HR,Rmssd\n{rows}")).unwrap();
    let file = file.display().to_string();

    let first = ok(auren(dir.path(), &["import", &file, "--db", &db]));
    let said = crate::run::stdout(&first);
    assert!(said.contains("After the import: 1 milestone."), "{said}");
    let again = json(&ok(auren(dir.path(), &["import", &file, "--json", "--db", &db])));
    assert_eq!(
        again["after_new_data"]["milestones"],
        serde_json::json!([]),
        "{again}"
    );

    let listed = crate::run::stdout(&ok(auren(dir.path(), &["memory", "list", "--db", &db])));
    assert_eq!(
        listed
            .matches("30 morning readings in a row, up to 2025-11-30")
            .count(),
        1,
        "{listed}"
    );
}

/// An Elite HRV export of one morning a day over `days` (UTC days since the epoch), in `dir`.
fn elite_export(dir: &Path, days: impl Iterator<Item = i64>) -> String {
    let rows: String = days
        .enumerate()
        .map(|(i, day)| {
            let date = auren_clock::UtcDate::from_days(day);
            format!("{date}T07:00:00Z,{},{}\n", 50 + i % 5, 40 + (i * 7) % 13)
        })
        .collect();
    let file = dir.join("elite.csv");
    std::fs::write(&file, format!("Datetime,HR,Rmssd\n{rows}")).unwrap();
    file.display().to_string()
}

#[test]
fn the_morning_reading_that_makes_thirty_in_a_row_is_a_milestone() {
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = db(dir.path());
    let today = auren_clock::now_unix_ms().div_euclid(auren_clock::MS_PER_DAY);
    let file = elite_export(dir.path(), today - 29..today);
    ok(auren(dir.path(), &["import", &file, "--db", &db]));
    let args = ["morning", "--simulate", "rest", "--speed", "1000"];
    let reading = json(&ok(auren(
        dir.path(),
        &[&args[..], &["--json", "--db", &db]].concat(),
    )));
    let milestones = reading["after_new_data"]["milestones"].to_string();
    assert!(milestones.contains("30 morning readings in a row"), "{reading}");
}

#[test]
fn a_refresh_that_fails_after_the_import_is_a_warning_and_the_import_stands() {
    let dir = tempfile::tempdir().unwrap();
    let (db_path, db) = db(dir.path());
    // The hypotheses cannot be read: the refresh's first step fails, after the import committed.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = auren_store::Store::open(&db_path).await.unwrap();
        sqlx::query("ALTER TABLE hypotheses RENAME TO hypotheses_unreadable")
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    });
    let file = elite_export(dir.path(), 20_000..20_030);

    let out = ok(auren(dir.path(), &["import", &file, "--json", "--db", &db]));
    let said = json(&out);
    let error = said["after_new_data"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("re-testing the hypotheses"), "{said}");
    assert_eq!(
        error.matches("no such table").count(),
        1,
        "each cause once: {error}"
    );
    assert_eq!(said["readings"], 30, "{said}");
    let warned = crate::run::stderr(&out);
    assert!(
        warned.starts_with("warning: the refresh after new data"),
        "{warned}"
    );

    let text = ok(auren(dir.path(), &["import", &file, "--db", &db]));
    assert!(
        crate::run::stdout(&text).contains("Imported"),
        "{}",
        crate::run::stdout(&text)
    );
}
