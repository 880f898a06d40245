//! "Where did this memory come from" stays true on every device. Conversations do not sync, so a memory drawn
//! from a message on A names, on B, A's message (A's replica and its id there), never B's own message that
//! happens to have the same id; back on A, and for a replacement made on B from the same message, it is A's
//! own message again.

use crate::support::{Device, TestServer, memory_with_text, round};
use auren_store::conversations::{NewMessage, Role};
use auren_store::memory::{MemoryKind, NewMemory, Provenance};
use auren_store::{MessageId, Store};
use auren_sync::SignIn;

const T: i64 = 1_780_000_000_000;

/// A conversation of one question on `store`; returns the question's id.
async fn said(store: &Store, text: &str) -> MessageId {
    let conversations = store.conversations();
    let id = conversations.create("talk", T).await.unwrap();
    let question = NewMessage {
        parent: None,
        role: Role::User,
        specialist: None,
        model: None,
        text: text.into(),
        usage: None,
        offline: false,
        created_at: T,
    };
    conversations.append_message(id, &question).await.unwrap()
}

fn drawn_from(message: Provenance, text: &str) -> NewMemory {
    NewMemory {
        kind: MemoryKind::Fact,
        text: text.into(),
        provenance: message,
        importance: 0.5,
        valid_from: T,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_drawn_from_a_message_names_that_devices_message_everywhere() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "mia@example.org", SignIn::Create).await;
    let b = Device::sign_in(dir.path(), "b", &server, "mia@example.org", SignIn::Login).await;
    let a_replica = a.store.replica_id().await.unwrap();

    let on_a = said(&a.store, "I work night shifts on Tuesdays").await;
    let on_b = said(&b.store, "How was my sleep?").await;
    assert_eq!(
        on_a, on_b,
        "both databases number their messages alike: the ids collide"
    );

    let shifts = "Works night shifts on Tuesdays";
    a.store
        .memories()
        .remember(&drawn_from(Provenance::Message(on_a), shifts), T + 1)
        .await
        .unwrap();
    round(&[&a, &b]).await;
    let elsewhere = Provenance::DeviceMessage {
        replica: a_replica.clone(),
        message: on_a,
    };
    assert_eq!(
        memory_with_text(&a.store, shifts).await.provenance,
        Provenance::Message(on_a)
    );
    assert_eq!(
        memory_with_text(&b.store, shifts).await.provenance,
        elsewhere,
        "on B it is A's message, not B's own message {on_b}"
    );

    // B replaces the memory, keeping where it came from: on A the replacement is A's own message again.
    let wednesdays = "Works night shifts on Wednesdays";
    let old = memory_with_text(&b.store, shifts).await.id;
    b.store
        .memories()
        .supersede(old, &drawn_from(elsewhere.clone(), wednesdays), "moved", T + 2)
        .await
        .unwrap();
    round(&[&b, &a]).await;
    assert_eq!(memory_with_text(&b.store, wednesdays).await.provenance, elsewhere);
    assert_eq!(
        memory_with_text(&a.store, wednesdays).await.provenance,
        Provenance::Message(on_a)
    );

    // A third device signing in later agrees with B.
    let c = Device::sign_in(dir.path(), "c", &server, "mia@example.org", SignIn::Login).await;
    round(&[&c]).await;
    for text in [shifts, wednesdays] {
        assert_eq!(
            memory_with_text(&c.store, text).await.provenance,
            elsewhere,
            "{text}"
        );
    }
}
