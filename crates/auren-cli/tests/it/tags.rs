//! `auren tags`: a session's tags and note listed, renamed, moved, deleted and set through the real binary on
//! a real database, each change queued in the outbox for `auren sync`; every mistake gets one clear line and
//! changes nothing.

use crate::run::{auren, db, fails_with, ok, stdout};
use auren_store::{NewSession, SessionKind, Store};

/// A 100-beat rest session (about 80 s) with the tag "coffee" 20 s in; the session's and the tag's ids.
async fn tagged_session(store: &Store) -> (i64, i64) {
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
    let tag = store.session_detail(id).await.unwrap().unwrap().tags[0].id;
    (id.0, tag)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_and_notes_are_listed_edited_and_queued_for_sync() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (path, db) = db(d);
    let store = Store::open(&path).await.unwrap();
    let (session, tag) = tagged_session(&store).await;
    let (s, t) = (session.to_string(), tag.to_string());
    let queued = store.outbox_len().await.unwrap();

    let listed = stdout(&ok(auren(d, &["tags", "list", &s, "--db", &db])));
    assert!(listed.contains("No note."), "{listed}");
    assert!(
        listed
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == [t.as_str(), "0:20", "coffee"]),
        "{listed}"
    );

    ok(auren(
        d,
        &["tags", "rename", &t, " double espresso ", "--db", &db],
    ));
    ok(auren(d, &["tags", "move", &t, "1m5s", "--db", &db]));
    ok(auren(
        d,
        &["tags", "note", &s, "felt flat after a short night", "--db", &db],
    ));
    let listed = stdout(&ok(auren(d, &["tags", "list", &s, "--db", &db])));
    assert!(listed.contains("Note: felt flat after a short night"), "{listed}");
    assert!(listed.contains("1:05  double espresso"), "{listed}");
    let detail = store
        .session_detail(auren_store::SessionId(session))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (detail.tags[0].name.as_str(), detail.tags[0].at_ms),
        ("double espresso", 65_000.0)
    );
    assert_eq!(
        store.outbox_len().await.unwrap() - queued,
        3,
        "each edit is an outbox row for the next sync"
    );

    // Mistakes: one line each, and nothing changes.
    let cases: [(&[&str], &[&str]); 6] = [
        (&["tags", "rename", "999", "tea"], &["there is no tag 999"]),
        (
            &["tags", "rename", &t, "   "],
            &["a tag name has 1–64 characters"],
        ),
        (
            &["tags", "move", &t, "2m"],
            &["2m is past the end of session", "(1:20 long)"],
        ),
        (&["tags", "move", &t, "soon"], &["\"soon\" is not a duration"]),
        (&["tags", "list", "999"], &["there is no session 999"]),
        (&["tags", "note", &s, " "], &["the note is empty", "clear-note"]),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().copied().chain(["--db", db.as_str()]).collect();
        fails_with(auren(d, &args), expected);
    }
    let unchanged = store
        .session_detail(auren_store::SessionId(session))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.tags, detail.tags);
    assert_eq!(unchanged.session.label, detail.session.label);

    ok(auren(d, &["tags", "clear-note", &s, "--db", &db]));
    ok(auren(d, &["tags", "delete", &t, "--db", &db]));
    let listed = stdout(&ok(auren(d, &["tags", "list", &s, "--db", &db])));
    assert!(
        listed.contains("No note.") && listed.contains("No tags."),
        "{listed}"
    );
    assert_eq!(
        store.outbox_len().await.unwrap() - queued,
        5,
        "the clear and the tombstone too"
    );
    store.close().await;
}
