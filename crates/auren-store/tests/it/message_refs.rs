//! The law of synced message references: whichever device made a memory, from a message held on whichever
//! device, every device that reads it resolves it to that message of that device: its own message when it
//! holds it (a plain id), another device's otherwise (`"<replica>:<id>"`), never a same-numbered message of
//! its own; memories pulled before that rule are qualified by `0009_memory_message_refs.sql`.

use auren_store::memory::{local_message_ref, message_ref};
use proptest::prelude::*;

/// Replica ids as the store makes them (hex), few of them so maker, holder and reader often coincide.
fn replica() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["9f3a0c", "41bd77", "e05521"]).prop_map(str::to_owned)
}

proptest! {
    #[test]
    fn every_reader_resolves_the_holders_message(
        maker in replica(),
        holder in replica(),
        reader in replica(),
        message in 1i64..1_000_000,
        local in 1i64..1_000,
    ) {
        // What the maker's `created` field says: its own message plain, another device's qualified.
        let written = if holder == maker { message.to_string() } else { format!("{holder}:{message}") };
        let key = format!("{maker}:{local}");
        let kept = local_message_ref(&written, &key, &reader).unwrap();
        let (replica, id) = message_ref(&kept).unwrap();
        prop_assert_eq!(id.0, message);
        prop_assert_eq!(replica.is_none(), holder == reader, "{}", kept);
        prop_assert_eq!(replica.unwrap_or(&reader), holder.as_str());
    }

    #[test]
    fn anything_else_is_not_a_message_reference(text in "[a-z0-9:]{0,12}") {
        let parsed = message_ref(&text);
        let well_formed = match text.rsplit_once(':') {
            Some((replica, id)) => !replica.is_empty() && id.parse::<i64>().is_ok(),
            None => text.parse::<i64>().is_ok(),
        };
        prop_assert_eq!(parsed.is_some(), well_formed);
    }
}

/// Memories pulled before `0009_memory_message_refs.sql` kept the other device's plain message id; the
/// migration qualifies them with the replica of the device that made them, and leaves this database's own.
#[tokio::test]
async fn memories_pulled_before_the_fix_name_the_other_devices_message() {
    use auren_store::MessageId;
    use auren_store::memory::Provenance;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auren.db");
    crate::memory_sync::migrate_up_to(&path, 8).await;
    {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        for statement in [
            "INSERT INTO memories (kind, text, importance, source_kind, source_ref, valid_from, recorded_at) \
             VALUES ('fact', 'Said here', 0.5, 'message', '12', 100, 200)",
            "INSERT INTO memories (key, kind, text, importance, source_kind, source_ref, valid_from, recorded_at) \
             VALUES ('41bd77:5', 'fact', 'Said on the laptop', 0.5, 'message', '12', 100, 200)",
        ] {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let store = auren_store::Store::open(&path).await.unwrap();
    let history = store.memories().history().await.unwrap();
    let provenance = |text: &str| {
        let memory = history.iter().find(|m| m.text == text);
        memory.map(|m| m.provenance.clone())
    };
    assert_eq!(provenance("Said here"), Some(Provenance::Message(MessageId(12))));
    assert_eq!(
        provenance("Said on the laptop"),
        Some(Provenance::DeviceMessage {
            replica: "41bd77".into(),
            message: MessageId(12)
        })
    );
}
