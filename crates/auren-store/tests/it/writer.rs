//! The SessionWriter on arbitrary input: it stores exactly the finite, positive-RR, strictly increasing
//! beats and counts every other one as rejected; a commit that fails is reported by `finish` with the
//! session and the rows lost, and leaves no outbox row behind.

use auren_store::{NewSession, OutboxKind, SessionKind, Store, StoreError, WriterConfig};
use proptest::prelude::*;

fn new_session() -> NewSession {
    NewSession {
        started_at: 1_763_683_200_000,
        kind: SessionKind::Breathing,
        source: "replay:test.hrmcap".into(),
        strap_address: None,
        label: None,
    }
}

fn value(range: std::ops::Range<f64>) -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => range,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(0.0),
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn stores_exactly_the_valid_increasing_beats(
        beats in proptest::collection::vec((value(-500.0..5_000.0), value(-10.0..2_000.0)), 0..400),
        flush_rows in 1usize..64,
    ) {
        let mut last = f64::NEG_INFINITY;
        let expected: Vec<(f64, f64)> = beats
            .iter()
            .copied()
            .filter(|&(t, rr)| {
                let keep = t.is_finite() && rr.is_finite() && rr > 0.0 && t > last;
                if keep {
                    last = t;
                }
                keep
            })
            .collect();
        let (stored, summary) = runtime().block_on(async {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(&dir.path().join("auren.db")).await.expect("open");
            let id = store.start_session(&new_session()).await.expect("session");
            let config = WriterConfig { flush_rows, ..WriterConfig::default() };
            let writer = store.session_writer_with(id, config).await.expect("writer");
            for &(t, rr) in &beats {
                writer.beat(t, rr, None);
            }
            let summary = writer.finish().await.expect("finish");
            let stored: Vec<(f64, f64)> =
                store.beats(id).await.expect("beats").iter().map(|b| (b.t_ms, b.rr_ms)).collect();
            store.close().await;
            (stored, summary)
        });
        prop_assert_eq!(&stored, &expected);
        prop_assert_eq!(summary.beats, expected.len() as u64);
        prop_assert_eq!(summary.rejected, (beats.len() - expected.len()) as u64);
        prop_assert_eq!(summary.dropped, 0);
    }
}

#[tokio::test]
async fn a_failed_commit_is_reported_by_finish_and_leaves_no_outbox_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("auren.db")).await.expect("open");
    let id = store.start_session(&new_session()).await.expect("session");
    let writer = store.session_writer(id).await.expect("writer");
    // The session disappears under the writer (as if deleted from another window): its rows cannot commit.
    sqlx::query("DELETE FROM sessions WHERE id = ?")
        .bind(id.0)
        .execute(store.pool())
        .await
        .expect("delete");
    writer.beat(800.0, 800.0, None);
    writer.beat(1_600.0, 800.0, Some("missed"));
    writer.tag(900.0, "yawn");
    match writer.finish().await {
        Err(StoreError::WriteFailed {
            session,
            rows,
            source,
        }) => {
            assert_eq!((session, rows), (id.0, 3));
            // The cause is kept as sqlx's error, so its kind can be asked, not its text searched.
            let kind = source.as_database_error().map(|e| e.kind());
            assert!(
                matches!(kind, Some(sqlx::error::ErrorKind::ForeignKeyViolation)),
                "{source:?}"
            );
        }
        other => panic!("expected WriteFailed, got {other:?}"),
    }
    let kinds: Vec<OutboxKind> = store
        .outbox_pending(100)
        .await
        .expect("outbox")
        .iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![OutboxKind::Session],
        "only the session start, nothing of the failed commit"
    );
}

#[tokio::test]
async fn strap_details_ride_with_the_next_commit_and_keep_what_is_not_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("auren.db")).await.expect("open");
    store
        .upsert_strap("A0:9E:1A:00:00:0A", "Polar H10", None, None, 1_000)
        .await
        .expect("strap");
    let id = store.start_session(&new_session()).await.expect("session");
    let writer = store.session_writer(id).await.expect("writer");
    writer.strap("A0:9E:1A:00:00:0A", "Polar H10 ABC", None, None, 2_000);
    writer.strap(
        "A0:9E:1A:00:00:0A",
        "Polar H10 ABC",
        Some("Polar Electro Oy"),
        Some("H10"),
        3_000,
    );
    // An empty address is refused like any bad row, not stored.
    writer.strap(" ", "nobody", None, None, 3_000);
    let summary = writer.finish().await.expect("finish");
    assert_eq!(summary.rejected, 1);
    let straps = store.straps().await.expect("straps");
    assert_eq!(straps.len(), 1);
    let s = &straps[0];
    assert_eq!(
        (s.name.as_str(), s.manufacturer.as_deref(), s.model.as_deref()),
        ("Polar H10 ABC", Some("Polar Electro Oy"), Some("H10"))
    );
    assert_eq!((s.first_seen_at, s.last_seen_at), (1_000, 3_000));
}
