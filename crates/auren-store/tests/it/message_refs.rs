//! The law of synced message references: whichever device made a memory, from a message held on whichever
//! device, every device that reads it resolves it to that message of that device: its own message when it
//! holds it (a plain id), another device's otherwise (`"<replica>:<id>"`), never a same-numbered message of
//! its own.

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
