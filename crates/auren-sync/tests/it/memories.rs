//! The cognitive twin across devices, through the real server: a memory made on A is listed on B with the
//! same two timelines; a retraction on B reaches A with its history; a retraction on one device and an edit
//! (supersession) on the other converge to the same memories everywhere; forgetting on A leaves none of the
//! text in B's database files nor in the server's database, and a device that signs in later never sees it.

use crate::support::{Device, TestServer, memory_with_text, round};
use auren_store::memory::{AsOf, MemoryKind, MemoryRow, NewMemory, Provenance};
use auren_store::{MemoryId, Store};
use auren_sync::SignIn;
use std::path::Path;

/// A system time in the past the memories are recorded at (their stamps still follow the wall clock).
const T: i64 = 1_780_000_000_000;
const HOUR: i64 = 3_600_000;

fn memory(kind: MemoryKind, text: &str, valid_from: i64) -> NewMemory {
    NewMemory {
        kind,
        text: text.into(),
        provenance: Provenance::Person,
        importance: 0.6,
        valid_from,
    }
}

/// One memory as every device must see it: local ids replaced by the texts they point at.
#[derive(Debug, PartialEq)]
struct Seen {
    kind: MemoryKind,
    text: String,
    valid: (i64, Option<i64>),
    recorded_at: i64,
    superseded: Option<(i64, Option<String>, String)>,
    retracted: Option<(i64, String)>,
}

fn seen(all: &[MemoryRow], m: &MemoryRow) -> Seen {
    let text_of = |id: MemoryId| all.iter().find(|o| o.id == id).map(|o| o.text.clone());
    Seen {
        kind: m.kind,
        text: m.text.clone(),
        valid: (m.valid_from, m.valid_to),
        recorded_at: m.recorded_at,
        superseded: m
            .superseded
            .as_ref()
            .map(|s| (s.at, s.by.and_then(text_of), s.reason.clone())),
        retracted: m.retracted.as_ref().map(|r| (r.at, r.reason.clone())),
    }
}

/// Every memory of `store` (history), in an order that does not depend on local ids.
async fn history(store: &Store) -> Vec<Seen> {
    let all = store.memories().history().await.unwrap();
    let mut seen: Vec<Seen> = all.iter().map(|m| seen(&all, m)).collect();
    seen.sort_by(|a, b| (a.recorded_at, &a.text).cmp(&(b.recorded_at, &b.text)));
    seen
}

/// The texts listed as of `t`.
async fn listed(store: &Store, t: i64) -> Vec<String> {
    let mut texts: Vec<String> = store
        .memories()
        .list(AsOf::at(t))
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    texts.sort();
    texts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memories_made_retracted_and_edited_on_two_devices_converge() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "mia@example.org", SignIn::Create).await;
    let b = Device::sign_in(dir.path(), "b", &server, "mia@example.org", SignIn::Login).await;

    // Remember on A: listed on B with the same timelines.
    let shifts = "Works night shifts on Tuesdays";
    a.store
        .memories()
        .remember(&memory(MemoryKind::Fact, shifts, T), T + 1)
        .await
        .unwrap();
    round(&[&a, &b]).await;
    assert_eq!(listed(&b.store, T + 2).await, [shifts]);
    assert_eq!(history(&b.store).await, history(&a.store).await);

    // Retract on B: retracted on A, with the reason, and still in A's history and past "as of" views.
    let on_b = memory_with_text(&b.store, shifts).await.id;
    b.store
        .memories()
        .retract(on_b, "it is Wednesdays", T + HOUR)
        .await
        .unwrap();
    round(&[&b, &a]).await;
    let on_a = a
        .store
        .memories()
        .get(memory_with_text(&a.store, shifts).await.id)
        .await
        .unwrap();
    let retracted = on_a.retracted.expect("retracted on A");
    assert_eq!(
        (retracted.at, retracted.reason.as_str()),
        (T + HOUR, "it is Wednesdays")
    );
    assert_eq!(
        listed(&a.store, T + 2).await,
        [shifts],
        "as of before the retraction"
    );
    assert!(listed(&a.store, T + 2 * HOUR).await.is_empty());
    assert!(
        a.store
            .memories()
            .recall("night shifts", 5, T + 2 * HOUR)
            .await
            .unwrap()
            .is_empty()
    );

    // A retraction on one device and an edit on the other, before either syncs: both stand everywhere.
    let runs = "Prefers morning runs";
    let evening = "Prefers evening runs";
    a.store
        .memories()
        .remember(&memory(MemoryKind::Preference, runs, T + 3 * HOUR), T + 3 * HOUR)
        .await
        .unwrap();
    round(&[&a, &b]).await;
    let (runs_a, runs_b) = (
        memory_with_text(&a.store, runs).await.id,
        memory_with_text(&b.store, runs).await.id,
    );
    a.store
        .memories()
        .supersede(
            runs_a,
            &memory(MemoryKind::Preference, evening, T + 4 * HOUR),
            "changed her mind",
            T + 4 * HOUR,
        )
        .await
        .unwrap();
    b.store
        .memories()
        .retract(runs_b, "never said that", T + 4 * HOUR + 1)
        .await
        .unwrap();
    round(&[&a, &b, &a]).await;
    let everywhere = history(&a.store).await;
    assert_eq!(history(&b.store).await, everywhere);
    let old = everywhere.iter().find(|m| m.text == runs).unwrap();
    assert_eq!(
        old.superseded,
        Some((
            T + 4 * HOUR,
            Some(evening.to_owned()),
            "changed her mind".to_owned()
        ))
    );
    assert_eq!(
        old.retracted,
        Some((T + 4 * HOUR + 1, "never said that".to_owned()))
    );
    for t in [T + 3 * HOUR + 1, T + 5 * HOUR] {
        assert_eq!(listed(&a.store, t).await, listed(&b.store, t).await, "as of {t}");
    }
    assert_eq!(listed(&b.store, T + 5 * HOUR).await, [evening]);
    assert_eq!(
        b.store
            .memories()
            .chain(memory_with_text(&b.store, evening).await.id)
            .await
            .unwrap()
            .len(),
        2,
        "the edit is linked to the version it replaced on B too"
    );

    // Nothing more to send, and another round changes nothing.
    round(&[&a, &b]).await;
    for device in [&a, &b] {
        let again = device.client.sync_once().await.unwrap();
        assert_eq!((again.pushed, again.pending), (0, 0), "{again:?}");
    }
    assert_eq!(history(&b.store).await, everywhere);
}

const SECRET: &str = "My sister Zanzibarella lives in Quokkatown";
const SECRET_NEXT: &str = "My sister Zanzibarella moved to Wombatville";
/// What must not survive: both texts, their distinctive words, and the tails FTS5 keeps of lowercased stems.
const TRACES: &[&str] = &[
    SECRET,
    SECRET_NEXT,
    "Zanzibarella",
    "Quokkatown",
    "Wombatville",
    "barella",
    "katown",
    "batvill",
];

/// The bytes of every file of database `name` in `dir` (main, WAL, shared memory), concatenated.
fn raw_files(dir: &Path, name: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(content) = std::fs::read(dir.join(format!("{name}.db{suffix}"))) {
            bytes.extend(content);
        }
    }
    bytes
}

fn traces_in(haystack: &[u8]) -> Vec<&'static str> {
    TRACES
        .iter()
        .copied()
        .filter(|t| {
            [t.to_string(), t.to_lowercase()]
                .iter()
                .any(|n| haystack.windows(n.len()).any(|w| w == n.as_bytes()))
        })
        .collect()
}

/// Every row the server keeps for users, as text: synced records, refused rows, the Kafka outbox.
async fn server_text(server: &TestServer) -> String {
    let pool = sqlx::PgPool::connect(&server.database).await.unwrap();
    let text: String = sqlx::query_scalar(
        "SELECT concat((SELECT string_agg(r::text, ' ') FROM records r), \
                       (SELECT string_agg(j::text, ' ') FROM rejected_rows j), \
                       (SELECT string_agg(encode(o.payload, 'escape'), ' ') FROM server_outbox o))",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgetting_on_a_erases_the_text_on_b_and_on_the_server() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "zoe@example.org", SignIn::Create).await;
    let b = Device::sign_in(dir.path(), "b", &server, "zoe@example.org", SignIn::Login).await;

    let m = a.store.memories();
    for i in 0..50 {
        let text = format!("note {i}: sleep and coffee on day {i}");
        m.remember(&memory(MemoryKind::Insight, &text, T), T)
            .await
            .unwrap();
    }
    let first = m
        .remember(&memory(MemoryKind::Fact, SECRET, T), T + 1)
        .await
        .unwrap();
    m.supersede(
        first,
        &memory(MemoryKind::Fact, SECRET_NEXT, T + HOUR),
        "she moved",
        T + HOUR,
    )
    .await
    .unwrap();
    // Another memory quotes the secret in its retraction reason: the quote goes, the memory stays.
    let twice = m
        .remember(&memory(MemoryKind::Fact, "Has a sister abroad", T), T + 2)
        .await
        .unwrap();
    m.retract(twice, &format!("said better as: {SECRET}"), T + 3)
        .await
        .unwrap();
    round(&[&a, &b]).await;
    assert_eq!(
        traces_in(&raw_files(dir.path(), "b")),
        TRACES,
        "B must hold the text before forgetting, or this test proves nothing"
    );
    assert!(server_text(&server).await.contains("Zanzibarella"));

    // B edits the memory A is about to forget; the forget still wins everywhere.
    let on_b = memory_with_text(&b.store, SECRET_NEXT).await.id;
    b.store
        .memories()
        .retract(on_b, "not sure", T + 2 * HOUR)
        .await
        .unwrap();

    let newest = memory_with_text(&a.store, SECRET_NEXT).await.id;
    a.store.memories().forget(newest).await.unwrap();
    round(&[&a, &b, &a, &b]).await;

    assert_eq!(
        traces_in(&raw_files(dir.path(), "b")),
        Vec::<&str>::new(),
        "B's files"
    );
    assert_eq!(
        traces_in(&raw_files(dir.path(), "a")),
        Vec::<&str>::new(),
        "A's files"
    );
    let stored = server_text(&server).await;
    assert_eq!(
        traces_in(stored.as_bytes()),
        Vec::<&str>::new(),
        "the server's rows"
    );

    for device in [&a, &b] {
        let all = history(&device.store).await;
        assert_eq!(all.len(), 51, "the 50 notes and the sister memory stay");
        let sister = all.iter().find(|s| s.text == "Has a sister abroad").unwrap();
        assert_eq!(
            sister.retracted,
            Some((T + 3, "said better as: [forgotten]".to_owned()))
        );
        assert_eq!(
            device
                .store
                .memories()
                .recall("sister", 5, T + 3 * HOUR)
                .await
                .unwrap()
                .len(),
            0
        );
    }

    // A device signing in afterwards never receives the forgotten memory.
    let c = Device::sign_in(dir.path(), "c", &server, "zoe@example.org", SignIn::Login).await;
    round(&[&c]).await;
    assert_eq!(history(&c.store).await, history(&a.store).await);
    assert_eq!(
        traces_in(&raw_files(dir.path(), "c")),
        Vec::<&str>::new(),
        "C's files"
    );
}
