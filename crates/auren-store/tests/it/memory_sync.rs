//! Memories and sync on a real database file: every memory operation queues its memory (by key) with the
//! stamped field it wrote, in its own transaction (a refused operation queues nothing); a proposal waiting for
//! the person queues nothing; forgetting leaves a tombstone per version and no field or unsent row of them;
//! memories stored before `0008_memory_sync.sql` get keys, stamped fields and outbox rows when it runs.

use auren_store::memory::{MemoryField, MemoryKind, MemoryOp, NewMemory, Provenance};
use auren_store::{OutboxKind, Store};
use std::path::Path;

const T0: i64 = 1_764_748_800_000;

fn memory(text: &str, valid_from: i64) -> NewMemory {
    NewMemory {
        kind: MemoryKind::Fact,
        text: text.into(),
        provenance: Provenance::Person,
        importance: 0.5,
        valid_from,
    }
}

/// The unsent rows as (kind, key, collection).
async fn queued(store: &Store) -> Vec<(OutboxKind, String, Option<String>)> {
    store
        .outbox_pending(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.kind, r.entity_key.unwrap_or_default(), r.collection))
        .collect()
}

/// The synchronised fields of memory `key` by name.
async fn fields(store: &Store, key: &str) -> Vec<String> {
    store
        .sync_fields_of("memory", key)
        .await
        .unwrap()
        .into_iter()
        .map(|(name, _, _)| name)
        .collect()
}

#[tokio::test]
async fn each_memory_operation_queues_its_memory_in_its_own_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("auren.db")).await.unwrap();
    let replica = store.replica_id().await.unwrap();
    let key = |id: auren_store::MemoryId| format!("{replica}:{id}");
    let m = store.memories();
    let memory_row = |k: String| (OutboxKind::Memory, k, None);

    let first = m.remember(&memory("Runs on Sundays", T0), T0).await.unwrap();
    assert_eq!(queued(&store).await, [memory_row(key(first))]);
    assert_eq!(fields(&store, &key(first)).await, ["created"]);
    let (_, created, stamp) = store
        .sync_fields_of("memory", &key(first))
        .await
        .unwrap()
        .remove(0);
    let created: serde_json::Value = serde_json::from_str(&created).unwrap();
    assert_eq!(created["text"], "Runs on Sundays");
    assert_eq!(
        (created["recorded_at"].as_i64(), stamp.device.as_str()),
        (Some(T0), replica.as_str())
    );
    MemoryField::Created.check(&created).unwrap();

    let second = m
        .supersede(
            first,
            &memory("Runs on Saturdays", T0 + 10),
            "moved her long run",
            T0 + 10,
        )
        .await
        .unwrap();
    m.retract(second, "she stopped running", T0 + 20).await.unwrap();
    // Refused (already retracted): nothing queued, nothing stamped.
    assert!(m.retract(second, "again", T0 + 30).await.is_err());
    let pending = m
        .propose(&MemoryOp::Add(memory("Likes tea", T0 + 40)), T0 + 40)
        .await
        .unwrap();
    assert_eq!(
        queued(&store).await.len(),
        4,
        "a proposal waiting for a yes queues nothing"
    );
    let confirmed = m.confirm(pending, T0 + 50).await.unwrap().unwrap();
    assert_eq!(
        queued(&store).await,
        [
            memory_row(key(first)),
            memory_row(key(second)),
            memory_row(key(first)),
            memory_row(key(second)),
            memory_row(key(confirmed)),
        ]
    );
    assert_eq!(fields(&store, &key(first)).await, ["created", "superseded"]);
    assert_eq!(fields(&store, &key(second)).await, ["created", "retracted"]);
    let superseded = store
        .sync_fields_of("memory", &key(first))
        .await
        .unwrap()
        .remove(1);
    let superseded: serde_json::Value = serde_json::from_str(&superseded.1).unwrap();
    assert_eq!(
        superseded["by"],
        key(second).as_str(),
        "the replacement is named by key"
    );
    MemoryField::Superseded.check(&superseded).unwrap();

    // Forgetting: a tombstone per version, no fields, no unsent memory rows of the chain.
    m.forget_at(first, T0 + 60).await.unwrap();
    let tombstone = |k: String| (OutboxKind::Tombstone, k, Some("memory".to_owned()));
    assert_eq!(
        queued(&store).await,
        [
            memory_row(key(confirmed)),
            tombstone(key(first)),
            tombstone(key(second))
        ]
    );
    for forgotten in [first, second] {
        assert!(fields(&store, &key(forgotten)).await.is_empty());
        let stamp = store
            .sync_tombstone("memory", &key(forgotten))
            .await
            .unwrap()
            .unwrap();
        assert!(stamp.wall_ms >= T0 + 60, "{stamp:?}");
    }
}

#[test]
fn malformed_memory_fields_are_refused_naming_the_problem() {
    use serde_json::json;
    let created = json!({"kind": "fact", "text": "x", "importance": 0.5,
                         "source": {"kind": "person", "ref": null}, "valid_from": 1, "recorded_at": 2});
    let cases = [
        (MemoryField::Created, created.clone(), None),
        (
            MemoryField::Created,
            json!({"kind": "rumour"}),
            Some("its kind is not a memory kind"),
        ),
        (
            MemoryField::Created,
            json!({"kind": "fact", "text": " "}),
            Some("its text is empty or too long"),
        ),
        (
            MemoryField::Created,
            json!({"kind": "fact", "text": "x", "importance": 2}),
            Some("its importance is not between 0 and 1"),
        ),
        (
            MemoryField::Created,
            json!({"kind": "fact", "text": "x", "importance": 0.5, "source": {"kind": "message", "ref": "A:three"}}),
            Some("its source is not a message, a receipt or the person"),
        ),
        (
            MemoryField::Retracted,
            json!({"at": 5, "reason": ""}),
            Some("its reason is missing or empty"),
        ),
        (
            MemoryField::Retracted,
            json!({"at": "soon", "reason": "x"}),
            Some("a time is missing or not an integer"),
        ),
        (
            MemoryField::Superseded,
            json!({"at": 5, "by": 7, "reason": "x", "valid_to": 5}),
            Some("its replacement is not a key"),
        ),
        (
            MemoryField::Superseded,
            json!({"at": 5, "by": null, "reason": "x", "valid_to": 5}),
            None,
        ),
    ];
    for (field, value, expected) in cases {
        assert_eq!(field.check(&value).err(), expected, "{field:?} {value}");
    }
}

/// Applies migrations up to `last` (by number) to a new database at `path`, as an older build would have.
pub(crate) async fn migrate_up_to(path: &Path, last: u32) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/local");
    let older = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let number: u32 = name[..4].parse().unwrap();
        if number <= last {
            std::fs::copy(entry.path(), older.path().join(&name)).unwrap();
        }
    }
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::migrate::Migrator::new(older.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    pool.close().await;
}

#[tokio::test]
async fn memories_stored_before_the_migration_get_keys_stamps_and_outbox_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auren.db");
    migrate_up_to(&path, 7).await;
    {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        for statement in [
            "INSERT INTO memories (id, kind, text, importance, source_kind, source_ref, valid_from, recorded_at) \
             VALUES (1, 'goal', 'Half marathon in April', 0.9, 'message', '12', 100, 200)",
            "INSERT INTO memories (id, kind, text, importance, source_kind, source_ref, valid_from, recorded_at) \
             VALUES (2, 'goal', 'Half marathon in May', 0.9, 'person', NULL, 300, 400)",
            "UPDATE memories SET valid_to = 300, superseded_at = 400, superseded_by = 2, \
             supersede_reason = 'race moved' WHERE id = 1",
            "UPDATE memories SET retracted_at = 500, retract_reason = 'injured' WHERE id = 2",
        ] {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }

    let store = Store::open(&path).await.unwrap();
    let replica = store.replica_id().await.unwrap();
    let (k1, k2) = (format!("{replica}:1"), format!("{replica}:2"));
    let rows = queued(&store).await;
    assert_eq!(
        rows,
        [
            (OutboxKind::Memory, k1.clone(), None),
            (OutboxKind::Memory, k2.clone(), None)
        ]
    );
    let of = |fields: Vec<(String, String, auren_store::Stamp)>| {
        fields
            .into_iter()
            .map(|(name, json, stamp)| (name, serde_json::from_str(&json).unwrap(), stamp.wall_ms))
            .collect::<Vec<(String, serde_json::Value, i64)>>()
    };
    let first = of(store.sync_fields_of("memory", &k1).await.unwrap());
    assert_eq!(
        first,
        [
            (
                "created".to_owned(),
                serde_json::json!({"kind": "goal", "text": "Half marathon in April", "importance": 0.9,
                                   "source": {"kind": "message", "ref": "12"}, "valid_from": 100,
                                   "recorded_at": 200}),
                200
            ),
            (
                "superseded".to_owned(),
                serde_json::json!({"at": 400, "by": k2, "reason": "race moved", "valid_to": 300}),
                400
            ),
        ]
    );
    let second = of(store.sync_fields_of("memory", &k2).await.unwrap());
    assert_eq!(
        second[1],
        (
            "retracted".to_owned(),
            serde_json::json!({"at": 500, "reason": "injured"}),
            500
        )
    );
    for (field, value, _) in first.iter().chain(&second) {
        MemoryField::parse(field).unwrap().check(value).unwrap();
    }
    // A new memory is keyed and stamped after the old stamps.
    let m = store.memories();
    let third = m.remember(&memory("Swims on Fridays", 600), 600).await.unwrap();
    let stamp = store
        .sync_fields_of("memory", &format!("{replica}:{third}"))
        .await
        .unwrap()
        .remove(0)
        .2;
    assert!(stamp.wall_ms >= 600);
    assert_eq!(m.history().await.unwrap().len(), 3);
}
