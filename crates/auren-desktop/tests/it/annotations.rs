//! A session's tags and note edited from History through the façade over a real database: renamed, moved,
//! noted, cleared and deleted — each an outbox row for the next sync, and what `session_detail` then shows;
//! a move past the session's length, a blank name, a too-long note and unknown ids are refused with nothing
//! changed; an athlete's session stays read-only.

use auren_desktop::ErrorCode;
use auren_desktop::dto::{SessionTagDto, TagEditDto};
use auren_store::{NewSession, PulledSession, SessionKind, Store};
use std::path::Path;

use crate::support::open;

/// An 80-second rest session with the tag "coffee" 20 s in, in the database the desktop opens in `dir`; its id.
async fn tagged_session(dir: &Path) -> i64 {
    let store = Store::open(&dir.join("data").join("auren.db")).await.unwrap();
    let id = store
        .start_session(&NewSession {
            started_at: 1_780_000_000_000,
            kind: SessionKind::Rest,
            source: "simulator:rest".into(),
            strap_address: None,
            label: None,
        })
        .await
        .unwrap();
    let writer = store.session_writer(id).await.unwrap();
    let mut t = 0.0;
    for _ in 0..100 {
        t += 800.0;
        writer.beat(t, 800.0, None);
    }
    writer.tag(20_000.0, "coffee");
    writer.finish().await.unwrap();
    store.end_session(id, 1_780_000_080_000).await.unwrap();
    store.close().await;
    id.0
}

async fn queued(dir: &Path) -> i64 {
    let store = Store::open(&dir.join("data").join("auren.db")).await.unwrap();
    let n = store.outbox_len().await.unwrap();
    store.close().await;
    n
}

#[tokio::test]
async fn tags_and_the_note_are_edited_queued_for_sync_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let session = tagged_session(dir.path()).await;
    let desktop = open(dir.path()).await;
    let view = desktop.session_detail(session).await.unwrap().annotations;
    assert_eq!(
        desktop.session_annotations(session).await.unwrap(),
        view,
        "History's card reads what the view holds"
    );
    assert_eq!(view.note, None);
    let [SessionTagDto { id: tag, at_ms, name }] = view.tags.as_slice() else {
        panic!("one tag: {:?}", view.tags);
    };
    let tag = *tag;
    assert_eq!((*at_ms, name.as_str()), (20_000, "coffee"));
    let before = queued(dir.path()).await;

    desktop
        .edit_tag(
            tag,
            TagEditDto::Rename {
                name: " double espresso ".into(),
            },
        )
        .await
        .unwrap();
    desktop
        .edit_tag(tag, TagEditDto::Move { at_ms: 65_000 })
        .await
        .unwrap();
    desktop.set_session_note(session, " felt flat ").await.unwrap();
    let edited = desktop.session_detail(session).await.unwrap().annotations;
    let expected = SessionTagDto {
        id: tag,
        at_ms: 65_000,
        name: "double espresso".into(),
    };
    assert_eq!(edited.tags, std::slice::from_ref(&expected));
    assert_eq!(edited.note.as_deref(), Some("felt flat"));
    assert_eq!(queued(dir.path()).await - before, 3, "an outbox row per edit");

    let refusals = [
        (
            desktop.edit_tag(tag, TagEditDto::Move { at_ms: 80_001 }).await,
            ErrorCode::InvalidInput,
        ),
        (
            desktop.edit_tag(tag, TagEditDto::Move { at_ms: -1 }).await,
            ErrorCode::InvalidInput,
        ),
        (
            desktop.edit_tag(tag, TagEditDto::Move { at_ms: i64::MAX }).await,
            ErrorCode::InvalidInput,
        ),
        (
            desktop
                .edit_tag(tag, TagEditDto::Rename { name: "  ".into() })
                .await,
            ErrorCode::InvalidInput,
        ),
        (
            desktop
                .edit_tag(999, TagEditDto::Rename { name: "tea".into() })
                .await,
            ErrorCode::InvalidInput,
        ),
        (desktop.delete_tag(999).await, ErrorCode::InvalidInput),
        (
            desktop.set_session_note(session, &"n".repeat(2_001)).await,
            ErrorCode::InvalidInput,
        ),
        (desktop.set_session_note(999, "x").await, ErrorCode::NoSuchSession),
    ];
    for (n, (refused, code)) in refusals.into_iter().enumerate() {
        assert_eq!(refused.unwrap_err().code(), code, "refusal {n}");
    }
    let unchanged = desktop.session_detail(session).await.unwrap().annotations;
    assert_eq!(
        (unchanged.tags, unchanged.note),
        (vec![expected], Some("felt flat".into()))
    );
    assert_eq!(queued(dir.path()).await - before, 3, "refusals queue nothing");

    // A blank note removes it; a deleted tag is gone (its tombstone queued).
    desktop.set_session_note(session, "   ").await.unwrap();
    desktop.delete_tag(tag).await.unwrap();
    let cleared = desktop.session_detail(session).await.unwrap().annotations;
    assert_eq!((cleared.tags.len(), cleared.note), (0, None));
    assert_eq!(queued(dir.path()).await - before, 5);
}

#[tokio::test]
async fn an_athletes_session_keeps_its_tags_and_note_as_synced() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data").join("auren.db"))
        .await
        .unwrap();
    store
        .forget_athletes_except(&[("u-runner".into(), "runner@example.org".into())])
        .await
        .unwrap();
    let mut tx = store.begin_sync().await.unwrap();
    let theirs = tx
        .upsert_session(
            "athlete-replica:7",
            &PulledSession {
                started_at: 1_763_800_000_000,
                ended_at: Some(1_763_800_180_000),
                kind: SessionKind::Morning,
                source: "ble:AA:BB".into(),
                athlete: Some("runner@example.org".into()),
            },
        )
        .await
        .unwrap();
    tx.put_tag("athlete-replica:7/tag/1", theirs, 30_000.0, "hill")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    store.close().await;
    let desktop = open(dir.path()).await;
    let view = desktop.session_detail(theirs.0).await.unwrap().annotations;
    let tag = view.tags[0].id;
    for refused in [
        desktop
            .edit_tag(tag, TagEditDto::Rename { name: "flat".into() })
            .await,
        desktop.delete_tag(tag).await,
        desktop.set_session_note(theirs.0, "mine now").await,
    ] {
        assert!(refused.unwrap_err().to_string().contains("runner@example.org"));
    }
    let after = desktop.session_detail(theirs.0).await.unwrap().annotations;
    assert_eq!((after.tags, after.note), (view.tags, None));
}
