//! The merge laws of per-field LWW (commutative, associative, idempotent) and the HLC's ordering rules.

use auren_protocol::lww::{merge_fields, merge_opt};
use auren_protocol::{DeviceId, Hlc, Lww};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn hlc() -> impl Strategy<Value = Hlc> {
    // Few distinct values, so equal stamps and equal walls with different devices happen often.
    (0i64..4, 0u32..3, 0u8..3).prop_map(|(wall_ms, counter, d)| Hlc {
        wall_ms,
        counter,
        device: DeviceId(format!("device-{d}")),
    })
}

fn field() -> impl Strategy<Value = Lww<String>> {
    (prop::sample::select(vec!["a", "b", "c"]), hlc()).prop_map(|(v, h)| Lww::new(v.to_owned(), h))
}

fn record() -> impl Strategy<Value = BTreeMap<String, Lww<String>>> {
    prop::collection::btree_map(
        prop::sample::select(vec!["name".to_owned(), "at".to_owned(), "text".to_owned()]),
        field(),
        0..3,
    )
}

proptest! {
    #[test]
    fn field_merge_is_commutative(a in field(), b in field()) {
        prop_assert_eq!(a.merge(&b), b.merge(&a));
    }

    #[test]
    fn field_merge_is_associative(a in field(), b in field(), c in field()) {
        prop_assert_eq!(a.merge(&b).merge(&c), a.merge(&b.merge(&c)));
    }

    #[test]
    fn field_merge_is_idempotent(a in field(), b in field()) {
        prop_assert_eq!(a.merge(&a), a.clone());
        let ab = a.merge(&b);
        prop_assert_eq!(ab.merge(&b), ab.clone());
    }

    #[test]
    fn the_later_stamp_wins(a in field(), b in field()) {
        let winner = a.merge(&b);
        prop_assert!(winner.hlc >= a.hlc && winner.hlc >= b.hlc);
    }

    #[test]
    fn record_merge_is_a_join(a in record(), b in record(), c in record()) {
        prop_assert_eq!(merge_fields(&a, &b), merge_fields(&b, &a));
        prop_assert_eq!(merge_fields(&merge_fields(&a, &b), &c), merge_fields(&a, &merge_fields(&b, &c)));
        prop_assert_eq!(merge_fields(&a, &a), a.clone());
    }

    #[test]
    fn any_order_of_edits_converges(edits in prop::collection::vec(field(), 1..8), seed in any::<u64>()) {
        let forward = edits.iter().skip(1).fold(edits[0].clone(), |acc, e| acc.merge(e));
        let mut shuffled = edits.clone();
        // A deterministic permutation from the seed (rotate, then reverse when odd).
        let n = shuffled.len();
        shuffled.rotate_left(usize::try_from(seed % n as u64).unwrap());
        if seed % 2 == 1 {
            shuffled.reverse();
        }
        let other = shuffled.iter().skip(1).fold(shuffled[0].clone(), |acc, e| acc.merge(e));
        prop_assert_eq!(forward, other);
    }

    #[test]
    fn optional_fields_merge_like_fields(a in proptest::option::of(field()), b in proptest::option::of(field())) {
        prop_assert_eq!(merge_opt(a.as_ref(), b.as_ref()), merge_opt(b.as_ref(), a.as_ref()));
    }

    #[test]
    fn tick_is_after_the_last_stamp_whatever_the_wall_clock(last in proptest::option::of(hlc()), now in -2i64..6) {
        let device = DeviceId("device-1".into());
        let next = Hlc::tick(last.as_ref(), now, &device);
        prop_assert!(next.wall_ms >= now);
        if let Some(last) = &last {
            prop_assert!((next.wall_ms, next.counter) > (last.wall_ms, last.counter));
        }
    }

    #[test]
    fn observe_then_tick_is_after_the_remote_stamp(last in proptest::option::of(hlc()), remote in hlc(), now in -2i64..6) {
        let device = DeviceId("device-9".into());
        let state = Hlc::observe(last.as_ref(), &remote, now, &device);
        let next = Hlc::tick(Some(&state), now, &device);
        prop_assert!(next > remote);
        if let Some(last) = &last {
            prop_assert!(next > *last);
        }
    }
}

#[test]
fn stamps_order_by_wall_then_counter_then_device() {
    let at = |wall_ms, counter, d: &str| Hlc {
        wall_ms,
        counter,
        device: DeviceId(d.into()),
    };
    let cases = [
        (
            at(1, 0, "b"),
            at(2, 0, "a"),
            "a later wall wins over a greater device",
        ),
        (
            at(1, 0, "b"),
            at(1, 1, "a"),
            "a greater counter wins at the same wall",
        ),
        (at(1, 1, "a"), at(1, 1, "b"), "the device breaks a tie"),
    ];
    for (lower, higher, why) in cases {
        assert!(lower < higher, "{why}");
        let a = Lww::new("old".to_owned(), lower);
        let b = Lww::new("new".to_owned(), higher);
        assert_eq!(a.merge(&b).value, "new", "{why}");
        assert_eq!(b.merge(&a).value, "new", "{why}");
    }
}
