//! A forgotten memory's text leaves PostgreSQL's table files, not only its rows: after the forget commits the
//! server sweeps the dead row versions (`VACUUM FULL`, see `push/erasure.rs`), and the bytes of the files of
//! `records` and its TOAST table, flushed by a CHECKPOINT and read straight from the data directory, no longer
//! hold the text. (WAL and backups still do; that is said where forgetting is documented.)

use crate::support::{TestServer, row};
use auren_protocol::auth::SignedIn;
use auren_protocol::change::{Collection, MemoryChange, TombstoneChange};
use auren_protocol::lww::Lww;
use auren_protocol::{Change, Hlc};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// The forgotten text: long enough that a plain VACUUM's page compaction leaves its start in the page's free
/// space (it did, measured before the sweep was a `VACUUM FULL`).
const SECRET: &str = "Zanzibarella: the clinic on Quayside Road treats my arrhythmia";

fn stamp(device: &SignedIn, wall_ms: i64) -> Hlc {
    Hlc {
        wall_ms,
        counter: 0,
        device: device.device_id.clone(),
    }
}

/// A memory record with one field, `name`, stamped at `wall_ms`.
fn memory(device: &SignedIn, key: &str, name: &str, value: serde_json::Value, wall_ms: i64) -> Change {
    let mut fields = BTreeMap::new();
    fields.insert(name.to_owned(), Lww::new(value, stamp(device, wall_ms)));
    Change::Memory(MemoryChange {
        key: key.to_owned(),
        fields,
    })
}

/// Every byte of the files of the relation `relation` (all of its 1 GB segments), flushed to disk first.
async fn relation_bytes(owner: &sqlx::PgPool, relation: &str) -> Vec<u8> {
    sqlx::query("CHECKPOINT").execute(owner).await.unwrap();
    let data: String = sqlx::query_scalar("SELECT current_setting('data_directory')")
        .fetch_one(owner)
        .await
        .unwrap();
    let path: String = sqlx::query_scalar("SELECT pg_relation_filepath($1::regclass)")
        .bind(relation)
        .fetch_one(owner)
        .await
        .unwrap();
    let first = format!("{data}/{path}");
    let mut bytes = std::fs::read(&first).unwrap_or_else(|e| panic!("{first}: {e}"));
    for segment in 1.. {
        match std::fs::read(format!("{first}.{segment}")) {
            Ok(more) => bytes.extend(more),
            Err(_) => break,
        }
    }
    bytes
}

/// The bytes of `records` and of its TOAST table.
async fn records_files(owner: &sqlx::PgPool) -> Vec<u8> {
    let toast: String = sqlx::query_scalar(
        "SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = 'records'::regclass",
    )
    .fetch_one(owner)
    .await
    .unwrap();
    let mut bytes = relation_bytes(owner, "records").await;
    bytes.extend(relation_bytes(owner, &toast).await);
    bytes
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_memory_leaves_no_byte_in_the_table_files() {
    let server = TestServer::start().await;
    let device = server.account("forgets@example.org").await;
    let replica = &device.device_id.0;
    let mut rows = Vec::new();
    for i in 0..40 {
        let text = json!({"kind": "insight", "text": format!("note {i}: sleep and coffee on day {i}")});
        rows.push(memory(
            &device,
            &format!("{replica}:{i}"),
            "created",
            text,
            1_000 + i,
        ));
    }
    let key = format!("{replica}:100");
    let created = json!({"kind": "fact", "text": format!("{SECRET}. {}", "Said twice. ".repeat(20))});
    rows.push(memory(&device, &key, "created", created, 2_000));
    // An edit of the same record: one more dead row version quoting the text.
    let superseded = json!({"at": 3_000, "reason": format!("moved: {SECRET}")});
    rows.push(memory(&device, &key, "superseded", superseded, 3_000));
    let rows: Vec<_> = rows
        .into_iter()
        .enumerate()
        .map(|(i, change)| row(i as i64 + 1, change))
        .collect();
    let next = rows.len() as i64 + 1;
    server.push(&device, rows).await;
    assert!(
        holds(&records_files(&server.owner).await, SECRET),
        "the text must be in the files before the forget, or this test proves nothing"
    );

    let before = server.state.erasures.latest_request();
    let tombstone = Change::Tombstone(TombstoneChange {
        collection: Collection::Memory,
        key: key.clone(),
        hlc: stamp(&device, 4_000),
    });
    let answer = server.push(&device, vec![row(next, tombstone)]).await;
    assert!(answer.rejected.is_empty(), "{answer:?}");
    let request = server.state.erasures.latest_request();
    assert!(request > before, "the forget asked for a sweep");
    tokio::time::timeout(Duration::from_secs(300), server.state.erasures.swept(request))
        .await
        .expect("the sweep completes within 300 s (it waits for older transactions anywhere in the cluster)")
        .unwrap();

    let files = records_files(&server.owner).await;
    assert!(
        !holds(&files, "Zanzibarella"),
        "the forgotten text is gone from the files"
    );
    assert!(!holds(&files, "Said twice"), "and so is every part of it");
    assert!(
        holds(&files, "note 39: sleep and coffee on day 39"),
        "the other memories stay"
    );
    let body: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT body FROM records WHERE collection = 'memory' AND key = $1")
            .bind(&key)
            .fetch_one(&server.owner)
            .await
            .unwrap();
    assert_eq!(body, None, "the row keeps its tombstone only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgets_arriving_together_are_swept_together() {
    let server = TestServer::start().await;
    let device = server.account("forgets-many@example.org").await;
    let replica = &device.device_id.0;
    let mut rows: Vec<_> = (0..10)
        .map(|i| {
            let text = json!({"kind": "fact", "text": format!("fact {i}")});
            memory(&device, &format!("{replica}:{i}"), "created", text, 1_000 + i)
        })
        .collect();
    rows.extend((0..10).map(|i| {
        Change::Tombstone(TombstoneChange {
            collection: Collection::Memory,
            key: format!("{replica}:{i}"),
            hlc: stamp(&device, 2_000 + i),
        })
    }));
    let rows = rows
        .into_iter()
        .enumerate()
        .map(|(i, change)| row(i as i64 + 1, change))
        .collect();

    let before = server.state.erasures.latest_request();
    server.push(&device, rows).await;

    assert_eq!(
        server.state.erasures.latest_request(),
        before + 1,
        "ten forgets in one push ask for one sweep"
    );
}
