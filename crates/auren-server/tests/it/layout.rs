//! Migration 0011 on a database that already holds beats: whichever layout it picks (TimescaleDB's hypertable
//! where the extension is present, the monthly partitions elsewhere), every stored chunk, every
//! `beat_versions` row, the policies, the app role's grants and the trigger come through unchanged.

use auren_server::db::{BeatLayout, MIGRATOR, beat_layout};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

/// The last migration before the layout is chosen.
const BEFORE_LAYOUT: i64 = 10;

/// Everything about `beat_chunks` that must survive a change of layout, as text to compare.
#[derive(Debug, PartialEq, Eq)]
struct Kept {
    chunks: Vec<String>,
    versions: Vec<String>,
    policies: Vec<String>,
    grants: Vec<String>,
    triggers: Vec<String>,
    indexes: Vec<String>,
}

async fn texts(pool: &PgPool, sql: &'static str) -> Vec<String> {
    sqlx::query_scalar(sql).fetch_all(pool).await.unwrap()
}

async fn kept(pool: &PgPool) -> Kept {
    Kept {
        chunks: texts(pool, "SELECT b::text FROM beat_chunks b ORDER BY 1").await,
        versions: texts(pool, "SELECT v::text FROM beat_versions v ORDER BY 1").await,
        policies: texts(
            pool,
            "SELECT concat_ws(' | ', policyname, permissive, roles::text, cmd, qual, with_check) \
             FROM pg_policies WHERE schemaname = 'public' AND tablename = 'beat_chunks' ORDER BY 1",
        )
        .await,
        grants: texts(
            pool,
            "SELECT grantee || ' ' || privilege_type FROM information_schema.role_table_grants \
             WHERE table_schema = 'public' AND table_name = 'beat_chunks' AND grantee = 'auren_app' ORDER BY 1",
        )
        .await,
        triggers: texts(
            pool,
            "SELECT tgname::text FROM pg_trigger WHERE tgrelid = 'beat_chunks'::regclass AND NOT tgisinternal \
             ORDER BY 1",
        )
        .await,
        indexes: texts(
            pool,
            "SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = 'beat_chunks'::regclass ORDER BY 1",
        )
        .await,
    }
}

#[tokio::test]
async fn choosing_the_beat_layout_keeps_every_stored_chunk_and_what_guards_them() {
    let pool = PgPool::connect(&crate::support::fresh_database().await)
        .await
        .unwrap();
    let before = Migrator::with_migrations(
        MIGRATOR
            .iter()
            .filter(|m| m.version <= BEFORE_LAYOUT)
            .cloned()
            .collect(),
    );
    before.run(&pool).await.unwrap();
    // Two users' chunks over three months (one of them 2015's), a version spanning two months.
    sqlx::query("SELECT auren_ensure_beat_partitions(1420070400000, 1420070400000)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("SELECT auren_ensure_beat_partitions(1767225600000, 1772323200000)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO beat_chunks (user_id, session_key, start_ms, wall_ms, device_id, rr_raw, extras, version) \
         VALUES ('00000000-0000-4000-8000-000000000001', 'a', 0, 1420070400000, NULL, '{800,-32000}', NULL, 1), \
                ('00000000-0000-4000-8000-000000000001', 'b', 0, 1767225600000, gen_random_uuid(), '{900}', \
                 '{\"breaks\": [1]}', 2), \
                ('00000000-0000-4000-8000-000000000001', 'b', 60000, 1772323200000, NULL, '{901}', NULL, 2), \
                ('00000000-0000-4000-8000-000000000002', 'c', 0.5, 1767225600500, NULL, '{1000}', NULL, 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let old = kept(&pool).await;
    assert_eq!(old.chunks.len(), 4);
    assert_eq!(old.versions.len(), 3, "the trigger noted each user's versions");

    MIGRATOR.run(&pool).await.unwrap();

    let layout = beat_layout(&pool).await.unwrap();
    let timescale: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')")
            .fetch_one(&pool)
            .await
            .unwrap();
    let expected = if timescale {
        BeatLayout::TimescaleHypertable
    } else {
        BeatLayout::MonthlyPartitions
    };
    assert_eq!(layout, expected);
    assert_eq!(kept(&pool).await, old, "{layout:?}");
    // The trigger still notes a new version, and a new chunk finds its place (a new month or chunk).
    sqlx::query(
        "INSERT INTO beat_chunks (user_id, session_key, start_ms, wall_ms, rr_raw, version) \
         VALUES ('00000000-0000-4000-8000-000000000002', 'd', 0, 1420070400000, '{700}', 2)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let noted: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM beat_versions WHERE user_id = '00000000-0000-4000-8000-000000000002' AND version = 2",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(noted, 1, "{layout:?}");
    let stray: i64 = sqlx::query_scalar("SELECT auren_default_partition_rows()")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stray, 0, "{layout:?}");
}
