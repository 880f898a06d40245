//! The strap's contact and link changes (`0010_signal_changes.sql`): the writer stores them in the order
//! given with a `signals` outbox row per commit, and a database made before 0010 upgrades with its pending
//! outbox rows and its outbox id high-water mark intact.

use auren_store::{NewSession, OutboxKind, SessionKind, Signal, SignalRow, Store, WriterConfig};
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

/// A database built up to 0009, with rows waiting in its outbox and acknowledged ones before them.
#[tokio::test]
async fn an_older_database_upgrades_with_its_outbox_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auren.db");
    crate::memory_sync::migrate_up_to(&path, 9).await;
    let before: Vec<(i64, String, Option<String>)> = {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        for statement in [
            "INSERT INTO sessions (id, started_at, kind, source) VALUES (1, 1763683200000, 'rest', 'simulator:rest')",
            "INSERT INTO outbox (kind, session_id, rows, created_at) VALUES ('session', 1, 1, 1)",
            "INSERT INTO outbox (kind, session_id, from_ms, to_ms, rows, created_at) VALUES ('hr_samples', 1, 0, 900, 2, 2)",
            "INSERT INTO outbox (kind, rows, created_at, entity_key) VALUES ('setting', 1, 3, 'theme')",
            "INSERT INTO outbox (kind, rows, created_at, entity_key, collection) VALUES ('tombstone', 1, 4, 'd:3', 'tag')",
            // The first two were acknowledged: the next id must still be past them.
            "DELETE FROM outbox WHERE id <= 2",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&pool)
                .await
                .unwrap();
        }
        let rows = sqlx::query("SELECT id, kind, entity_key FROM outbox ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        pool.close().await;
        rows
    };
    assert_eq!(before.len(), 2);

    let store = Store::open(&path).await.unwrap();
    let pending: Vec<(i64, String, Option<String>)> = store
        .outbox_pending(100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.kind.as_str().to_owned(), r.entity_key))
        .collect();
    assert_eq!(pending, before, "every pending row is kept as it was");
    let writer = store.session_writer(auren_store::SessionId(1)).await.unwrap();
    writer.signal(5_000.0, Signal::Contact, false);
    assert_eq!(writer.finish().await.unwrap().signals, 1);
    let after = store.outbox_pending(100).await.unwrap();
    let new = after.last().unwrap();
    assert_eq!(new.kind, OutboxKind::Signals);
    assert_eq!(new.id, 5, "ids go on after the highest ever handed out");
    assert_eq!(
        store.signal_changes(auren_store::SessionId(1)).await.unwrap(),
        [change(5_000.0, Signal::Contact, false)]
    );
}
