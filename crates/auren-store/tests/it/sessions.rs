//! Sessions end to end on a real database file: every table written through the store and the
//! SessionWriter reads back, the queries agree, the outbox follows each commit and is acknowledged, bad input
//! is refused with an error naming it and leaves stored data intact, and reopening migrates nothing twice.

use auren_store::{
    BeatRow, GapRow, NewSession, OutboxKind, SessionId, SessionKind, Store, StoreError, WriterConfig,
};
use std::collections::BTreeMap;
use std::path::Path;

const T0: i64 = 1_763_683_200_000; // 2025-11-21T00:00:00Z

async fn open(dir: &Path) -> Store {
    Store::open(&dir.join("auren.db")).await.expect("open")
}

fn new_session(started_at: i64, kind: SessionKind, strap: Option<&str>) -> NewSession {
    NewSession {
        started_at,
        kind,
        source: strap.map_or("simulator:rest".into(), |a| format!("ble:{a}")),
        strap_address: strap.map(Into::into),
        label: Some("evening rest".into()),
    }
}

/// Records one session with every kind of row and returns its id.
async fn record_full_session(store: &Store) -> SessionId {
    store
        .upsert_strap(
            "AA:BB:CC:DD:EE:FF",
            "Polar H10 1234",
            Some("Polar"),
            None,
            T0 - 5_000,
        )
        .await
        .expect("strap");
    let id = store
        .start_session(&new_session(T0, SessionKind::Rest, Some("AA:BB:CC:DD:EE:FF")))
        .await
        .expect("start");
    let writer = store.session_writer(id).await.expect("writer");
    let mut t = 0.0;
    for i in 0..1_000 {
        let rr = 800.0 + f64::from(i % 7) * 10.0;
        t += rr;
        let artifact = match i {
            100 => Some("ectopic"),
            200 | 300 => Some("missed"),
            _ => None,
        };
        writer.beat(t, rr, artifact);
        if i % 10 == 0 {
            writer.hr_sample(t, 60_000.0 / rr);
        }
        if i % 100 == 99 {
            writer.metrics(
                t,
                &[("rmssd_60s", 40.0 + f64::from(i) / 100.0), ("sdnn_60s", 55.0)],
            );
        }
    }
    writer.gap(120_000.0, 125_500.0);
    writer.gap(300_000.0, 301_000.0);
    writer.alert(
        200_000.0,
        "artifact_burst",
        "warning",
        "7 % of beats in 1 min are artifacts",
        r#"{"window_s":60,"artifact_share":0.07}"#,
    );
    writer.alert(
        600_000.0,
        "signal_lost",
        "critical",
        "no beats for 12 s",
        r#"{"gap_s":12}"#,
    );
    writer.tag(10_000.0, "coffee");
    writer.tag(700_000.0, "stand up");
    let summary = writer.finish().await.expect("finish");
    assert_eq!(
        (
            summary.beats,
            summary.gaps,
            summary.hr_samples,
            summary.metric_values
        ),
        (1_000, 2, 100, 20)
    );
    assert_eq!(
        (summary.alerts, summary.tags, summary.rejected, summary.dropped),
        (2, 2, 0, 0)
    );
    store.end_session(id, T0 + 900_000).await.expect("end");
    id
}

#[tokio::test]
async fn every_table_round_trips_through_the_queries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path()).await;
    let id = record_full_session(&store).await;

    let straps = store.straps().await.expect("straps");
    assert_eq!(straps.len(), 1);
    assert_eq!(straps[0].manufacturer.as_deref(), Some("Polar"));
    // A later sighting refreshes the name and keeps the known manufacturer.
    store
        .upsert_strap("AA:BB:CC:DD:EE:FF", "H10", None, Some("H10"), T0 + 1)
        .await
        .expect("upsert");
    let strap = &store.straps().await.expect("straps")[0];
    assert_eq!(
        (
            strap.name.as_str(),
            strap.manufacturer.as_deref(),
            strap.model.as_deref()
        ),
        ("H10", Some("Polar"), Some("H10"))
    );
    assert_eq!((strap.first_seen_at, strap.last_seen_at), (T0 - 5_000, T0 + 1));

    let detail = store.session_detail(id).await.expect("detail").expect("exists");
    let s = &detail.session;
    assert_eq!((s.id, s.started_at, s.ended_at), (id, T0, Some(T0 + 900_000)));
    assert_eq!(s.kind, SessionKind::Rest);
    assert_eq!(s.source, "ble:AA:BB:CC:DD:EE:FF");
    assert_eq!(s.label.as_deref(), Some("evening rest"));
    assert_eq!((s.beat_count, s.artifact_count), (1_000, 3));
    assert_eq!(s.last_beat_ms, detail.beats.last().map(|b| b.t_ms));
    assert_eq!(
        detail.artifact_counts,
        vec![("ectopic".to_owned(), 1), ("missed".to_owned(), 2)]
    );
    assert_eq!(
        detail.gaps,
        vec![
            GapRow {
                from_ms: 120_000.0,
                to_ms: 125_500.0
            },
            GapRow {
                from_ms: 300_000.0,
                to_ms: 301_000.0
            }
        ]
    );
    let last = detail.last_metrics.as_ref().expect("metrics");
    assert_eq!(last.t_ms, detail.beats[999].t_ms);
    assert_eq!(
        last.values,
        vec![("rmssd_60s".to_owned(), 49.99), ("sdnn_60s".to_owned(), 55.0)]
    );
    assert_eq!(detail.alerts.len(), 2);
    assert_eq!(detail.alerts[0].at, T0 + 200_000);
    assert_eq!(detail.alerts[1].severity, "critical");
    assert_eq!(detail.alerts[1].evidence_json, r#"{"gap_s":12}"#);
    let tags: Vec<_> = detail.tags.iter().map(|t| (t.at_ms, t.name.as_str())).collect();
    assert_eq!(tags, vec![(10_000.0, "coffee"), (700_000.0, "stand up")]);

    // The raw series comes back exactly, in order, with its labels.
    let mut t = 0.0;
    let expected: Vec<BeatRow> = (0..1_000)
        .map(|i| {
            let rr = 800.0 + f64::from(i % 7) * 10.0;
            t += rr;
            BeatRow {
                t_ms: t,
                rr_ms: rr,
                artifact: match i {
                    100 => Some("ectopic".into()),
                    200 | 300 => Some("missed".into()),
                    _ => None,
                },
            }
        })
        .collect();
    assert_eq!(detail.beats, expected);
    assert_eq!(store.beats(id).await.expect("beats"), expected);

    let hr = store.hr_samples(id).await.expect("hr");
    assert_eq!(hr.len(), 100);
    assert_eq!(hr[0], (800.0, 75.0));
    let rmssd = store.metric_series(id, "rmssd_60s").await.expect("series");
    assert_eq!(rmssd.len(), 10);
    assert!(rmssd.windows(2).all(|w| w[0].0 < w[1].0));

    let listed = store.sessions(10, 0).await.expect("list");
    assert_eq!(listed, vec![detail.session.clone()]);
}

#[tokio::test]
async fn sessions_list_pages_newest_first_and_alerts_are_found_by_period() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path()).await;
    let mut ids = Vec::new();
    for day in 0..5 {
        let id = store
            .start_session(&new_session(
                T0 + day * 86_400_000,
                SessionKind::ALL[day as usize],
                None,
            ))
            .await
            .expect("start");
        let writer = store.session_writer(id).await.expect("writer");
        writer.alert(
            1_000.0 * day as f64,
            "hr_above_max",
            "info",
            "HR above zone 5",
            "{}",
        );
        writer.finish().await.expect("finish");
        ids.push(id);
    }
    let page: Vec<_> = store
        .sessions(2, 1)
        .await
        .expect("page")
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(page, vec![ids[3], ids[2]]);
    let kinds: Vec<_> = store
        .sessions(10, 0)
        .await
        .expect("all")
        .iter()
        .map(|s| s.kind)
        .collect();
    assert_eq!(kinds, SessionKind::ALL.iter().rev().copied().collect::<Vec<_>>());
    for kind in SessionKind::ALL {
        assert_eq!(SessionKind::parse(kind.as_str()), Some(kind));
    }

    let cases = [
        // (from, to) → which sessions' alerts, half-open range
        ((T0, T0 + 5 * 86_400_000), vec![0, 1, 2, 3, 4]),
        ((T0 + 86_400_000 + 1_000, T0 + 3 * 86_400_000 + 3_000), vec![1, 2]),
        ((T0 + 86_400_000 + 1_001, T0 + 3 * 86_400_000 + 3_001), vec![2, 3]),
        ((T0 - 10, T0), vec![]),
    ];
    for ((from, to), expected) in cases {
        let alerts = store.alerts_between(from, to).await.expect("alerts");
        let got: Vec<_> = alerts.iter().map(|a| a.session_id).collect();
        let want: Vec<_> = expected.iter().map(|&i: &usize| ids[i]).collect();
        assert_eq!(got, want, "alerts in [{from}, {to})");
    }
}

/// Sums the outbox `rows` per kind.
async fn outbox_rows(store: &Store) -> BTreeMap<&'static str, i64> {
    let mut sums = BTreeMap::new();
    for row in store.outbox_pending(u32::MAX).await.expect("outbox") {
        *sums.entry(row.kind.as_str()).or_insert(0) += row.rows;
    }
    sums
}

#[tokio::test]
async fn the_outbox_accounts_for_every_row_and_forgets_acknowledged_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path()).await;
    // A tiny batch size: many commits, each with its own outbox rows.
    let id = store
        .start_session(&new_session(T0, SessionKind::Exercise, None))
        .await
        .expect("start");
    let config = WriterConfig {
        flush_rows: 7,
        ..WriterConfig::default()
    };
    let writer = store.session_writer_with(id, config).await.expect("writer");
    for i in 1..=100 {
        writer.beat(f64::from(i) * 500.0, 500.0, None);
        writer.hr_sample(f64::from(i) * 500.0, 120.0);
    }
    writer.tag(1.0, "start");
    writer.alert(
        2.0,
        "aerobic_threshold",
        "info",
        "DFA a1 below 0.75 for 1 min",
        r#"{"a1":0.7}"#,
    );
    writer.finish().await.expect("finish");
    store
        .add_morning_reading(20_413, 4.1, Some(52.0), Some(id))
        .await
        .expect("reading");
    store.end_session(id, T0 + 60_000).await.expect("end");

    let sums = outbox_rows(&store).await;
    let expected: BTreeMap<_, _> = [
        ("alert", 1),
        ("beats", 100),
        ("hr_samples", 100),
        ("morning_reading", 1),
        ("session", 2),
        ("tag", 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(sums, expected);

    let pending = store.outbox_pending(u32::MAX).await.expect("pending");
    assert!(pending.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
    assert_eq!(pending[0].kind, OutboxKind::Session);
    // Beat batches cover disjoint, increasing ranges that together hold every beat.
    let ranges: Vec<_> = pending
        .iter()
        .filter(|r| r.kind == OutboxKind::Beats)
        .map(|r| (r.from_ms.expect("from"), r.to_ms.expect("to")))
        .collect();
    assert!(ranges.len() > 1, "several commits");
    assert_eq!(ranges.first().map(|r| r.0), Some(500.0));
    assert_eq!(ranges.last().map(|r| r.1), Some(50_000.0));
    assert!(ranges.windows(2).all(|w| w[0].1 < w[1].0));
    for kind in OutboxKind::ALL {
        assert_eq!(OutboxKind::parse(kind.as_str()), Some(kind));
    }

    let first_three: Vec<i64> = pending[..3].iter().map(|r| r.id).collect();
    assert_eq!(
        store
            .outbox_pending(3)
            .await
            .expect("limit")
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        first_three
    );
    assert_eq!(store.outbox_ack(&first_three).await.expect("ack"), 3);
    assert_eq!(
        store.outbox_ack(&first_three).await.expect("ack again"),
        0,
        "a repeated ack is harmless"
    );
    assert_eq!(store.outbox_len().await.expect("len"), pending.len() as i64 - 3);
    let all: Vec<i64> = pending.iter().map(|r| r.id).collect();
    store.outbox_ack(&all).await.expect("ack all");
    assert_eq!(store.outbox_len().await.expect("len"), 0);
    // Ids are never reused after an acknowledgement.
    store
        .add_morning_reading(20_414, 4.0, None, None)
        .await
        .expect("reading");
    let next = store.outbox_pending(10).await.expect("pending");
    assert_eq!(next.len(), 1);
    assert!(next[0].id > *all.iter().max().expect("ids"));
    assert_eq!(
        (next[0].kind, next[0].entity_id),
        (OutboxKind::MorningReading, Some(20_414))
    );
}

#[tokio::test]
async fn bad_input_is_refused_by_name_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path()).await;
    let id = record_full_session(&store).await;
    store
        .add_morning_reading(20_413, 4.2, Some(50.0), Some(id))
        .await
        .expect("reading");
    let snapshot = async |store: &Store| {
        (
            store.session_detail(id).await.expect("detail"),
            store.sessions(100, 0).await.expect("sessions"),
            store
                .morning_readings(i64::MIN, i64::MAX)
                .await
                .expect("readings"),
            store.outbox_pending(u32::MAX).await.expect("outbox"),
        )
    };
    let before = snapshot(&store).await;

    let unknown = SessionId(9_999);
    let cases: Vec<(&str, Result<(), StoreError>)> = vec![
        ("unknown session id 9999", store.end_session(unknown, T0).await),
        (
            "unknown session id 9999",
            store.session_writer(unknown).await.map(drop),
        ),
        ("unknown session id 9999", store.beats(unknown).await.map(drop)),
        (
            "unknown session id 9999",
            store.hr_samples(unknown).await.map(drop),
        ),
        (
            "unknown session id 9999",
            store.add_morning_reading(20_414, 4.0, None, Some(unknown)).await,
        ),
        (
            "ln_rmssd must be a finite number, got NaN",
            store.add_morning_reading(20_413, f64::NAN, None, None).await,
        ),
        (
            "resting_hr must be a finite number, got inf",
            store
                .add_morning_reading(20_413, 4.0, Some(f64::INFINITY), None)
                .await,
        ),
        (
            "invalid resting_hr: -3 bpm is not positive",
            store.add_morning_reading(20_413, 4.0, Some(-3.0), None).await,
        ),
        ("before it started", store.end_session(id, T0 - 1).await),
        (
            "unknown strap \"11:22\"",
            store
                .start_session(&new_session(T0, SessionKind::Rest, Some("11:22")))
                .await
                .map(drop),
        ),
        (
            "invalid strap address",
            store.upsert_strap(" ", "x", None, None, T0).await,
        ),
        (
            "invalid writer configuration",
            store
                .session_writer_with(
                    id,
                    WriterConfig {
                        capacity: 0,
                        ..WriterConfig::default()
                    },
                )
                .await
                .map(drop),
        ),
    ];
    for (expected, result) in cases {
        let error = result.expect_err(expected).to_string();
        assert!(error.contains(expected), "{error:?} should contain {expected:?}");
    }
    assert_eq!(store.session_detail(unknown).await.expect("detail"), None);
    assert_eq!(snapshot(&store).await, before, "refused input changed nothing");

    // The writer refuses bad rows one by one and stores the good ones around them.
    let writer = store.session_writer(id).await.expect("writer");
    let last_t = before
        .0
        .as_ref()
        .expect("detail")
        .beats
        .last()
        .expect("beats")
        .t_ms;
    writer.beat(f64::NAN, 800.0, None);
    writer.beat(last_t + 800.0, f64::INFINITY, None);
    writer.beat(last_t + 800.0, -1.0, None);
    // New to this writer, but the time of a stored beat: kept once, without error or double count.
    writer.beat(last_t, 800.0, None);
    writer.beat(last_t + 800.0, 800.0, None);
    writer.beat(last_t + 800.0, 800.0, None); // repeated time
    writer.gap(5.0, 4.0);
    writer.hr_sample(1.0, f64::NAN);
    writer.metrics(f64::NAN, &[("rmssd_60s", 1.0)]);
    writer.metrics(last_t + 800.0, &[("rmssd_60s", f64::NAN), ("sdnn_60s", 33.0)]);
    writer.alert(1.0, "r", "urgent", "unknown severity", "{}");
    writer.alert(1.0, "r", "info", "evidence is not JSON", "{oops");
    writer.tag(f64::NEG_INFINITY, "never");
    let summary = writer.finish().await.expect("finish");
    assert_eq!((summary.beats, summary.metric_values), (1, 1));
    assert_eq!(summary.rejected, 11);
    let after = store.session_detail(id).await.expect("detail").expect("exists");
    assert_eq!(after.beats.len(), 1_001);
    assert_eq!(after.session.beat_count, 1_001);
    assert_eq!(after.beats[..1_000], before.0.as_ref().expect("detail").beats[..]);
}

/// How many migrations the store embeds: the `.sql` files of `migrations/local` (numbered 1, 2, …).
fn shipped_migrations() -> i64 {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/local");
    std::fs::read_dir(dir)
        .expect("the migrations folder")
        .filter(|e| {
            e.as_ref()
                .expect("entry")
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count() as i64
}

#[tokio::test]
async fn reopening_applies_no_migration_twice_and_keeps_the_pragmas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = {
        let store = open(dir.path()).await;
        let id = record_full_session(&store).await;
        store.close().await;
        id
    };
    for _ in 0..3 {
        let store = open(dir.path()).await;
        let migrations: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(store.pool())
                .await
                .expect("migrations");
        assert_eq!(
            migrations,
            (1..=shipped_migrations()).collect::<Vec<i64>>(),
            "each migration once"
        );
        let pragmas = [
            ("PRAGMA journal_mode", "wal".to_owned()),
            ("PRAGMA synchronous", "1".to_owned()),
            ("PRAGMA foreign_keys", "1".to_owned()),
            ("PRAGMA busy_timeout", "5000".to_owned()),
        ];
        for (pragma, expected) in pragmas {
            let row = sqlx::query(pragma).fetch_one(store.pool()).await.expect(pragma);
            let value: String = sqlx::Row::try_get::<String, _>(&row, 0)
                .or_else(|_| sqlx::Row::try_get::<i64, _>(&row, 0).map(|v| v.to_string()))
                .expect("value");
            assert_eq!(value, expected, "{pragma}");
        }
        let detail = store.session_detail(id).await.expect("detail").expect("kept");
        assert_eq!(detail.beats.len(), 1_000);
        store.close().await;
    }
}

/// The quiet span the engine applies (`auren_engine::panels::UNENDED_SESSION_QUIET_MS`, 10 minutes; the
/// store sits below the engine, so the test names the value).
const QUIET_MS: i64 = 10 * 60_000;

/// Runs the crash test's recorder on `db` and SIGKILLs it once it reported a beat 1.1 s into its session —
/// what an app crash or a power loss leaves: a session with committed beats and no end time. The crash test
/// shows a kill loses at most the last second of reported beats, so the first beat is stored whatever the
/// machine's load. Returns its id.
fn killed_recording(db: &Path) -> SessionId {
    crate::crash::record_and_kill(db, |reported| reported.last().is_some_and(|t| *t >= 1_100.0)).session
}

#[tokio::test]
async fn a_killed_session_shows_no_end_and_its_last_beat_a_live_one_recording_an_ended_one_its_end() {
    use auren_store::{LastBeat, RecordingHere, SessionStatus};
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("auren.db");
    let killed = killed_recording(&db);
    let store = Store::open(&db).await.expect("reopen after the kill");

    let killed_row = store.session(killed).await.expect("session").expect("stored");
    assert_eq!(killed_row.ended_at, None, "a killed recorder leaves no end time");
    let beats = store.beats(killed).await.expect("beats");
    let last_t = beats
        .last()
        .expect("the recorder committed beats before the kill")
        .t_ms;
    // The recorder's session starts at Unix time 0: its last beat's wall time is its session time.
    let killed_last = last_t.floor() as i64;
    assert_eq!(killed_row.last_beat_at(), Some(killed_last));

    // Recorded up to a second before `now` and not ended: still being recorded.
    let now = T0 + 3_600_000;
    let live = store
        .start_session(&new_session(now - 60_000, SessionKind::Rest, None))
        .await
        .expect("start");
    let writer = store.session_writer(live).await.expect("writer");
    for i in 1..=59 {
        writer.beat(f64::from(i) * 1_000.0, 1_000.0, None);
    }
    writer.finish().await.expect("commit");
    let ended = record_full_session(&store).await;
    let beatless = store
        .start_session(&new_session(now - QUIET_MS, SessionKind::Other, None))
        .await
        .expect("start");

    let row = |id| {
        let store = store.clone();
        async move { store.session(id).await.expect("session").expect("stored") }
    };
    let live_last = now - 1_000;
    let cases = [
        (
            "killed, an hour later",
            killed,
            now,
            SessionStatus::NoEndRecorded {
                last_beat: LastBeat::At(killed_last),
            },
        ),
        (
            "killed, within the quiet span of its last beat",
            killed,
            killed_last + QUIET_MS,
            SessionStatus::Recording,
        ),
        (
            "killed, just past the quiet span",
            killed,
            killed_last + QUIET_MS + 1,
            SessionStatus::NoEndRecorded {
                last_beat: LastBeat::At(killed_last),
            },
        ),
        (
            "live, its last beat a second old",
            live,
            now,
            SessionStatus::Recording,
        ),
        (
            "live, silent past the quiet span",
            live,
            live_last + QUIET_MS + 1,
            SessionStatus::NoEndRecorded {
                last_beat: LastBeat::At(live_last),
            },
        ),
        ("ended", ended, now, SessionStatus::Ended { at: T0 + 900_000 }),
        (
            "ended, long after",
            ended,
            now + 365 * 86_400_000,
            SessionStatus::Ended { at: T0 + 900_000 },
        ),
        (
            "no beat, started at the quiet span",
            beatless,
            now,
            SessionStatus::Recording,
        ),
        (
            "no beat, started before it",
            beatless,
            now + 1,
            SessionStatus::NoEndRecorded {
                last_beat: LastBeat::NoBeats,
            },
        ),
    ];
    for (what, id, at, expected) in cases {
        let row = row(id).await;
        assert_eq!(
            row.status(at, QUIET_MS, RecordingHere::Nothing),
            expected,
            "{what}"
        );
        // The process recording a session knows it is not over, however long its strap is silent; a
        // session another process records is judged by the rule alone.
        let here = row.status(at, QUIET_MS, RecordingHere::Session(id));
        let want_here = match expected {
            SessionStatus::NoEndRecorded { .. } => SessionStatus::Recording,
            other => other,
        };
        assert_eq!(here, want_here, "{what}, recorded here");
        let other = RecordingHere::Session(SessionId(id.0 + 1_000));
        assert_eq!(
            row.status(at, QUIET_MS, other),
            expected,
            "{what}, another recorded here"
        );
    }
    // The list carries the same rows: a reader of `sessions` tells them apart the same way.
    let listed = store.sessions(10, 0).await.expect("list");
    let status_of = |id| {
        listed
            .iter()
            .find(|r| r.id == id)
            .expect("listed")
            .status(now, QUIET_MS, RecordingHere::Nothing)
    };
    assert_eq!(
        status_of(killed),
        SessionStatus::NoEndRecorded {
            last_beat: LastBeat::At(killed_last)
        }
    );
    assert_eq!(status_of(live), SessionStatus::Recording);
    assert_eq!(status_of(ended), SessionStatus::Ended { at: T0 + 900_000 });
    store.close().await;
}
