//! The strap's contact and link changes (`0010_signal_changes.sql`): the writer stores them in the order
//! given with a `signals` outbox row per commit, and a database made before 0010 upgrades with its pending
//! outbox rows and its outbox id high-water mark intact.

use auren_store::{GapRow, NewSession, OutboxKind, SessionKind, Signal, SignalRow, Store, WriterConfig};
use sqlx::Row;

fn new_session() -> NewSession {
    NewSession {
        started_at: 1_763_683_200_000,
        kind: SessionKind::Rest,
        source: "simulator:rest".into(),
        strap_address: None,
        label: None,
    }
}

fn change(t_ms: f64, signal: Signal, up: bool) -> SignalRow {
    SignalRow { t_ms, signal, up }
}

#[tokio::test]
async fn the_writer_keeps_contact_and_link_changes_in_order_with_their_outbox_rows() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("auren.db")).await.unwrap();
    let id = store.start_session(&new_session()).await.unwrap();
    // One row per commit, so each change is its own commit and outbox row.
    let config = WriterConfig {
        flush_rows: 1,
        ..WriterConfig::default()
    };
    let writer = store.session_writer_with(id, config).await.unwrap();
    let given = [
        (0.0, Signal::Link, true),
        (0.0, Signal::Contact, true),
        (64_000.0, Signal::Contact, false),
        (70_000.0, Signal::Link, false),
        // Of one moment: kept in the order given, whatever their names' order.
        (75_000.0, Signal::Link, true),
        (75_000.0, Signal::Contact, true),
        // A second change of one signal at one moment is kept once; a time that is not finite is refused.
        (75_000.0, Signal::Contact, false),
        (f64::NAN, Signal::Contact, false),
    ];
    for (t, signal, up) in given {
        writer.signal(t, signal, up);
    }
    let summary = writer.finish().await.unwrap();
    assert_eq!((summary.signals, summary.rejected), (6, 1), "{summary:?}");
    let expected: Vec<SignalRow> = given[..6]
        .iter()
        .map(|&(t, signal, up)| change(t, signal, up))
        .collect();
    assert_eq!(store.signal_changes(id).await.unwrap(), expected);
    assert_eq!(
        store.signals_between(id, 1.0, 75_000.0).await.unwrap(),
        expected[2..]
    );
    let rows: Vec<(Option<f64>, Option<f64>)> = store
        .outbox_pending(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == OutboxKind::Signals && r.session_id == Some(id))
        .map(|r| (r.from_ms, r.to_ms))
        .collect();
    assert_eq!(rows.len(), 7, "one row per commit: {rows:?}");
    assert!(rows.iter().all(|&(from, to)| from == to), "{rows:?}");
}

/// The strap's emitter sends two gaps from one moment: a late notification without contact (the missing
/// notifications) and contact coming back later (the whole time without it, from the last notification
/// that had it). Both are kept, each commit's outbox row reaching its own.
#[tokio::test]
async fn two_gaps_from_one_moment_are_both_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("auren.db")).await.unwrap();
    let id = store.start_session(&new_session()).await.unwrap();
    let config = WriterConfig {
        flush_rows: 1,
        ..WriterConfig::default()
    };
    let writer = store.session_writer_with(id, config).await.unwrap();
    writer.gap(10_000.0, 14_000.0);
    writer.gap(10_000.0, 21_000.0);
    // The same gap again is one gap.
    writer.gap(10_000.0, 21_000.0);
    assert_eq!(writer.finish().await.unwrap().gaps, 2);
    let both = [
        GapRow {
            from_ms: 10_000.0,
            to_ms: 14_000.0,
        },
        GapRow {
            from_ms: 10_000.0,
            to_ms: 21_000.0,
        },
    ];
    assert_eq!(store.gaps_between(id, 10_000.0, 10_000.0).await.unwrap(), both);
    let rows: Vec<(Option<f64>, Option<f64>)> = store
        .outbox_pending(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == OutboxKind::Gaps)
        .map(|r| (r.from_ms, r.to_ms))
        .collect();
    assert_eq!(rows, [(Some(10_000.0), Some(10_000.0)); 3]);
}

/// An outbox row, every column.
type OutboxColumns = (
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<f64>,
    Option<f64>,
    i64,
    i64,
    Option<String>,
    Option<String>,
);

async fn outbox_rows(pool: &sqlx::SqlitePool) -> Vec<OutboxColumns> {
    sqlx::query(
        "SELECT id, kind, session_id, entity_id, from_ms, to_ms, rows, created_at, entity_key, collection \
         FROM outbox ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.get(0),
            r.get(1),
            r.get(2),
            r.get(3),
            r.get(4),
            r.get(5),
            r.get(6),
            r.get(7),
            r.get(8),
            r.get(9),
        )
    })
    .collect()
}

/// A database built up to 0009 with four outbox rows handed out, some or all of them acknowledged, and two
/// gaps: after the upgrade the pending rows and the gaps are as they were, the next outbox id is 5 (an id
/// handed out again would be skipped by the server as already applied), and the rebuilt gaps still go with
/// their session.
#[tokio::test]
async fn an_older_database_upgrades_with_its_outbox_and_gaps_intact() {
    for (acknowledged_through, pending) in [(2, 2), (4, 0)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auren.db");
        crate::memory_sync::migrate_up_to(&path, 9).await;
        let before = {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            for statement in [
                "INSERT INTO sessions (id, started_at, kind, source) VALUES (1, 1763683200000, 'rest', 'simulator:rest')",
                "INSERT INTO gaps (session_id, from_ms, to_ms) VALUES (1, 1000, 5000), (1, 9000, 9500)",
                "INSERT INTO outbox (kind, session_id, rows, created_at) VALUES ('session', 1, 1, 1)",
                "INSERT INTO outbox (kind, session_id, from_ms, to_ms, rows, created_at) VALUES ('hr_samples', 1, 0, 900, 2, 2)",
                "INSERT INTO outbox (kind, rows, created_at, entity_key) VALUES ('setting', 1, 3, 'theme')",
                "INSERT INTO outbox (kind, rows, created_at, entity_key, collection) VALUES ('tombstone', 1, 4, 'd:3', 'tag')",
            ] {
                sqlx::query(sqlx::AssertSqlSafe(statement))
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            sqlx::query("DELETE FROM outbox WHERE id <= ?")
                .bind(acknowledged_through)
                .execute(&pool)
                .await
                .unwrap();
            let rows = outbox_rows(&pool).await;
            pool.close().await;
            rows
        };
        assert_eq!(before.len(), pending);

        let store = Store::open(&path).await.unwrap();
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        assert_eq!(
            outbox_rows(&pool).await,
            before,
            "every pending row is kept as it was"
        );
        let writer = store.session_writer(auren_store::SessionId(1)).await.unwrap();
        writer.signal(5_000.0, Signal::Contact, false);
        assert_eq!(writer.finish().await.unwrap().signals, 1);
        let after = outbox_rows(&pool).await;
        assert_eq!(
            after[..pending],
            before[..],
            "acknowledged through {acknowledged_through}"
        );
        assert_eq!(
            after[pending..],
            [(
                5,
                "signals".to_owned(),
                Some(1),
                None,
                Some(5_000.0),
                Some(5_000.0),
                1,
                after[pending].7,
                None,
                None
            )],
            "the next id goes on after the highest ever handed out (acknowledged through {acknowledged_through})"
        );
        assert_eq!(
            store.signal_changes(auren_store::SessionId(1)).await.unwrap(),
            [change(5_000.0, Signal::Contact, false)]
        );
        assert_eq!(
            store
                .gaps_between(auren_store::SessionId(1), 0.0, 10_000.0)
                .await
                .unwrap(),
            [
                GapRow {
                    from_ms: 1_000.0,
                    to_ms: 5_000.0
                },
                GapRow {
                    from_ms: 9_000.0,
                    to_ms: 9_500.0
                },
            ]
        );
        // The rebuilt table still goes with its session.
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(foreign_keys, 1, "the check below needs foreign keys enforced");
        sqlx::query("DELETE FROM sessions WHERE id = 1")
            .execute(&pool)
            .await
            .unwrap();
        let gaps_left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM gaps")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(
            gaps_left, 0,
            "deleting a session deletes its gaps (ON DELETE CASCADE)"
        );
        pool.close().await;
    }
}

/// In one commit the beats' outbox row comes after the gaps', the changes' and the heart-rate samples':
/// pushes keep outbox order, so a push's beats come after the other inputs their commit holds.
#[tokio::test]
async fn a_commits_beats_follow_its_other_inputs_in_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("auren.db")).await.unwrap();
    let id = store.start_session(&new_session()).await.unwrap();
    let writer = store.session_writer(id).await.unwrap();
    writer.beat(900.0, 900.0, None);
    writer.hr_sample(1_000.0, 66.0);
    writer.signal(1_000.0, Signal::Contact, true);
    writer.gap(1_000.0, 4_000.0);
    writer.finish().await.unwrap();
    let kinds: Vec<OutboxKind> = store
        .outbox_pending(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.session_id == Some(id) && r.kind != OutboxKind::Session)
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            OutboxKind::Gaps,
            OutboxKind::Signals,
            OutboxKind::HrSamples,
            OutboxKind::Beats
        ]
    );
}
