//! The cognitive twin on a real database file: remember/supersede/retract/as-of agree with a model that
//! replays the operations (property test); forgetting leaves none of the text's bytes in the database, WAL or
//! shared-memory files (read raw) while the rest keeps working; recall ranks by words, importance and recency
//! and never returns a dropped memory; proposals wait for a yes or apply at once; hypotheses keep every test;
//! bad operations are refused naming the problem.

use auren_store::conversations::{NewMessage, Role};
use auren_store::memory::{
    AsOf, Direction, HypothesisStatus, MemoryKind, MemoryOp, NewHypothesis, NewMemory, ProposalStatus,
    Provenance,
};
use auren_store::{MemoryId, Store, StoreError};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

const T0: i64 = 1_764_748_800_000; // 2025-12-03T08:00:00Z
const DAY: i64 = 86_400_000;

async fn open(dir: &Path) -> Store {
    Store::open(&dir.join("auren.db")).await.expect("open")
}

fn memory(kind: MemoryKind, text: &str, importance: f64, valid_from: i64) -> NewMemory {
    NewMemory {
        kind,
        text: text.into(),
        provenance: Provenance::Person,
        importance,
        valid_from,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// One generated operation: targets are indices into the memories active at that moment.
#[derive(Clone, Debug)]
enum Op {
    Remember { valid_offset: i64 },
    Supersede { target: usize, valid_shift: i64 },
    Retract { target: usize },
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (-10 * DAY..2 * DAY).prop_map(|valid_offset| Op::Remember { valid_offset }),
        2 => (any::<usize>(), 0..5 * DAY).prop_map(|(target, valid_shift)| Op::Supersede { target, valid_shift }),
        1 => any::<usize>().prop_map(|target| Op::Retract { target }),
    ]
}

/// What happened, at which system time: the model replays these.
#[derive(Clone, Debug)]
enum Event {
    Recorded { id: i64, valid_from: i64 },
    Superseded { id: i64, valid_to: i64 },
    Retracted { id: i64 },
}

/// The ids visible as of `as_of`, by replaying the events known at `known_at`.
fn model_visible(log: &[(i64, Event)], as_of: AsOf) -> Vec<i64> {
    // id → (valid_from, valid_to, retracted)
    let mut state: BTreeMap<i64, (i64, Option<i64>, bool)> = BTreeMap::new();
    for (_, event) in log.iter().filter(|(at, _)| *at <= as_of.known_at) {
        match event {
            Event::Recorded { id, valid_from } => {
                state.insert(*id, (*valid_from, None, false));
            }
            Event::Superseded { id, valid_to } => {
                if let Some(s) = state.get_mut(id) {
                    s.1 = Some(*valid_to);
                }
            }
            Event::Retracted { id } => {
                if let Some(s) = state.get_mut(id) {
                    s.2 = true;
                }
            }
        }
    }
    state
        .into_iter()
        .filter(|(_, (from, to, retracted))| {
            !retracted && *from <= as_of.valid_at && to.is_none_or(|to| as_of.valid_at < to)
        })
        .map(|(id, _)| id)
        .collect()
}

/// Applies the operations to the store and the log; returns the log and the last system time.
async fn run_ops(store: &Store, ops: &[(Op, i64)]) -> Vec<(i64, Event)> {
    let memories = store.memories();
    let mut log = Vec::new();
    let mut active: Vec<(i64, i64)> = Vec::new(); // (id, valid_from)
    let mut now = T0;
    for (n, (op, step)) in ops.iter().enumerate() {
        now += step;
        let text = format!("memory number {n}");
        // With nothing active, any operation becomes a remember.
        let op = if active.is_empty() {
            Op::Remember { valid_offset: 0 }
        } else {
            op.clone()
        };
        match op {
            Op::Remember { valid_offset } => {
                let valid_from = now + valid_offset;
                let id = memories
                    .remember(&memory(MemoryKind::Fact, &text, 0.5, valid_from), now)
                    .await
                    .unwrap();
                log.push((now, Event::Recorded { id: id.0, valid_from }));
                active.push((id.0, valid_from));
            }
            Op::Supersede { target, valid_shift } => {
                let (old, old_from) = active.remove(target % active.len());
                let valid_from = old_from + valid_shift;
                let new = memories
                    .supersede(
                        MemoryId(old),
                        &memory(MemoryKind::Fact, &text, 0.5, valid_from),
                        "changed",
                        now,
                    )
                    .await
                    .unwrap();
                log.push((
                    now,
                    Event::Recorded {
                        id: new.0,
                        valid_from,
                    },
                ));
                log.push((
                    now,
                    Event::Superseded {
                        id: old,
                        valid_to: valid_from,
                    },
                ));
                active.push((new.0, valid_from));
            }
            Op::Retract { target } => {
                let (id, _) = active.remove(target % active.len());
                memories.retract(MemoryId(id), "wrong", now).await.unwrap();
                log.push((now, Event::Retracted { id }));
            }
        }
    }
    log
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn as_of_reads_agree_with_replaying_the_operations(
        ops in prop::collection::vec((any_op(), 1..DAY), 1..30),
        probes in prop::collection::vec((0.0..1.0_f64, 0.0..1.0_f64), 12),
    ) {
        let dir = tempfile::tempdir().unwrap();
        runtime().block_on(async {
            let store = open(dir.path()).await;
            let log = run_ops(&store, &ops).await;
            let end = log.last().map_or(T0, |(at, _)| *at);
            let span = (end - T0 + 20 * DAY) as f64;
            // Random points plus every event's own system and world time (the boundaries).
            let mut points: Vec<AsOf> = probes
                .iter()
                .map(|(k, v)| AsOf {
                    known_at: T0 - 10 * DAY + (k * span) as i64,
                    valid_at: T0 - 10 * DAY + (v * span) as i64,
                })
                .collect();
            for (at, event) in &log {
                let world = match event {
                    Event::Recorded { valid_from, .. } => *valid_from,
                    Event::Superseded { valid_to, .. } => *valid_to,
                    Event::Retracted { .. } => *at,
                };
                points.push(AsOf { known_at: *at, valid_at: world });
                points.push(AsOf { known_at: *at - 1, valid_at: world - 1 });
            }
            points.push(AsOf::at(end + DAY));
            for as_of in points {
                let stored: Vec<i64> = store.memories().list(as_of).await.unwrap().iter().map(|m| m.id.0).collect();
                let mut stored_sorted = stored.clone();
                stored_sorted.sort_unstable();
                prop_assert_eq!(stored_sorted, model_visible(&log, as_of), "as of {:?}", as_of);
            }
            // History keeps every row, whatever happened to it.
            let recorded = log.iter().filter(|(_, e)| matches!(e, Event::Recorded { .. })).count();
            prop_assert_eq!(store.memories().history().await.unwrap().len(), recorded);
            Ok(())
        })?;
    }
}

/// The bytes of every file of the database (main, WAL, shared memory), concatenated.
fn raw_files(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for name in ["auren.db", "auren.db-wal", "auren.db-shm"] {
        if let Ok(content) = std::fs::read(dir.join(name)) {
            bytes.extend(content);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

const SECRET: &str = "My sister Zanzibarella lives in Quokkatown";
const SECRET_NEXT: &str = "My sister Zanzibarella moved to Wombatville";
/// What must not survive anywhere: both texts, their distinctive words, and the tails of the stems FTS5 keeps
/// lowercased (its leaf pages store a term's prefix shared with the previous one only once).
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

async fn filler(store: &Store, from: usize, count: usize, now: i64) {
    let words = [
        "sleep", "coffee", "run", "stress", "work", "travel", "meal", "breath", "yoga", "swim",
    ];
    for i in from..from + count {
        let text = format!(
            "note {i}: {} then {} before {} on day {}",
            words[i % 10],
            words[(i / 10) % 10],
            words[(i / 100) % 10],
            i % 31
        );
        store
            .memories()
            .remember(&memory(MemoryKind::Insight, &text, 0.3, now), now)
            .await
            .unwrap();
    }
}

/// Quotes the secret the ways a turn would: the person's message, an answer, a step's request body, a
/// receipt, a pending proposal, a hypothesis on the memory.
async fn quote_everywhere(store: &Store, id: MemoryId, now: i64) {
    let c = store.conversations();
    let conversation = c.create("Family", now).await.unwrap();
    let said = NewMessage {
        parent: None,
        role: Role::User,
        specialist: None,
        model: None,
        text: format!("Remember this: {SECRET}."),
        usage: None,
        offline: false,
        created_at: now,
    };
    let q = c.append_message(conversation, &said).await.unwrap();
    let request =
        serde_json::json!({"messages": [{"role": "system", "content": format!("Memories:\n- {SECRET}")}]});
    c.append_step(q, "model_request", &request.to_string(), now)
        .await
        .unwrap();
    let receipt = serde_json::json!({"computed": "recall", "values": [], "memories": [SECRET]});
    c.save_receipt("r-secret", &receipt.to_string(), now)
        .await
        .unwrap();
    c.link_receipts(q, &["r-secret"]).await.unwrap();
    store
        .memories()
        .propose(&MemoryOp::Add(memory(MemoryKind::Fact, SECRET, 0.5, now)), now)
        .await
        .unwrap();
    store
        .hypotheses()
        .create(
            &NewHypothesis {
                statement: format!("Visiting: {SECRET_NEXT}"),
                metric: "ln_rmssd".into(),
                exposure_tag: "visit".into(),
                lag_days: 1,
                direction: Direction::Lower,
                test: "welch_t".into(),
                alpha: 0.05,
                min_n: 5,
                memory: Some(id),
            },
            now,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn forget_leaves_no_bytes_of_the_text_in_any_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    filler(&store, 0, 300, T0).await;
    let first = store
        .memories()
        .remember(&memory(MemoryKind::Fact, SECRET, 0.8, T0), T0 + 1)
        .await
        .unwrap();
    quote_everywhere(&store, first, T0 + 2).await;
    filler(&store, 300, 300, T0 + 3).await;
    let second = store
        .memories()
        .supersede(
            first,
            &memory(MemoryKind::Fact, SECRET_NEXT, 0.8, T0 + DAY),
            "she moved",
            T0 + 4,
        )
        .await
        .unwrap();
    filler(&store, 600, 300, T0 + 5).await;

    let before = raw_files(dir.path());
    for trace in TRACES {
        assert!(
            contains(&before, trace) || contains(&before, &trace.to_lowercase()),
            "{trace:?} should be in the files before forgetting, or this test proves nothing"
        );
    }

    let forgotten = store.memories().forget(second).await.unwrap();
    assert_eq!(
        forgotten.memories,
        [first, second],
        "the whole chain is forgotten"
    );
    // The message, the step and the receipt; the proposal and the hypothesis were deleted.
    assert_eq!(forgotten.scrubbed_rows, 3, "{forgotten:?}");

    let after = raw_files(dir.path());
    for trace in TRACES {
        assert!(!contains(&after, trace), "{trace:?} survived forgetting");
        assert!(
            !contains(&after, &trace.to_lowercase()),
            "{trace:?} (lowercase) survived forgetting"
        );
    }

    // The rest still works, and quotes read as forgotten.
    let m = store.memories();
    assert!(matches!(m.get(first).await, Err(StoreError::NotFound { .. })));
    assert!(store.hypotheses().list().await.unwrap().is_empty());
    assert!(m.proposals(None).await.unwrap().is_empty());
    assert_eq!(m.recall("coffee sleep", 3, T0 + DAY).await.unwrap().len(), 3);
    let c = store.conversations();
    let convo = c.list().await.unwrap()[0].id;
    let messages = c.messages(convo).await.unwrap();
    assert_eq!(messages[0].text, "Remember this: [forgotten].");
    let step: serde_json::Value =
        serde_json::from_str(&c.steps(messages[0].id).await.unwrap()[0].payload_json).unwrap();
    assert_eq!(step["messages"][0]["content"], "Memories:\n- [forgotten]");
    assert!(c.search("Zanzibarella", 5).await.unwrap().is_empty());

    store.close().await;
    let closed = raw_files(dir.path());
    assert!(
        TRACES
            .iter()
            .all(|t| !contains(&closed, t) && !contains(&closed, &t.to_lowercase()))
    );
}

#[tokio::test]
async fn recall_ranks_by_words_importance_and_recency_and_skips_dropped_memories() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let m = store.memories();
    let now = T0 + 400 * DAY;
    // (name, kind, text, importance, recorded days before `now`)
    let rows = [
        (
            "marathon",
            MemoryKind::Goal,
            "Run a half marathon in April",
            0.9,
            400,
        ),
        (
            "coffee_habit",
            MemoryKind::Fact,
            "Drinks coffee after 3 pm most days",
            0.5,
            2,
        ),
        (
            "coffee_trivia",
            MemoryKind::Fact,
            "Thinks coffee tastes better in Italy",
            0.1,
            2,
        ),
        ("coffee_wrong", MemoryKind::Fact, "Is allergic to coffee", 0.9, 1),
        ("night", MemoryKind::Fact, "Works night shifts", 0.7, 300),
        ("short", MemoryKind::Preference, "Prefers short answers", 0.6, 30),
        (
            "sleep_rule",
            MemoryKind::Insight,
            "Sleep before 22:00 lifts morning HRV",
            0.9,
            200,
        ),
        (
            "sleep_note",
            MemoryKind::Insight,
            "Sleep was short on a Tuesday",
            0.1,
            1,
        ),
        (
            "future",
            MemoryKind::Goal,
            "Coffee-free month in the future",
            0.9,
            1,
        ),
    ];
    let mut ids = BTreeMap::new();
    for (name, kind, text, importance, days_ago) in rows {
        let recorded = now - days_ago * DAY;
        let valid_from = if name == "future" {
            now + 30 * DAY
        } else {
            recorded
        };
        let id = m
            .remember(&memory(kind, text, importance, valid_from), recorded)
            .await
            .unwrap();
        ids.insert(id, name);
    }
    let id_of = |name: &str| *ids.iter().find(|(_, n)| **n == name).unwrap().0;
    m.retract(id_of("coffee_wrong"), "never said that", now - DAY / 2)
        .await
        .unwrap();
    let day = m
        .supersede(
            id_of("night"),
            &memory(
                MemoryKind::Fact,
                "Works day shifts since March",
                0.7,
                now - 10 * DAY,
            ),
            "changed job",
            now - 10 * DAY,
        )
        .await
        .unwrap();
    ids.insert(day, "day");

    let table: [(&str, &[&str]); 6] = [
        // "HRV" is the rarer word, so the HRV insight leads; the coffee memories follow by importance.
        (
            "How does coffee affect my HRV?",
            &["sleep_rule", "coffee_habit", "coffee_trivia"],
        ),
        ("marathon training plan", &["marathon"]),
        ("what about my shifts at work", &["day"]),
        // Equal words: the important insight beats the recent trivia.
        ("sleep", &["sleep_rule", "sleep_note"]),
        // Both words first; then one word each, where the important insight edges out the recent preference.
        ("Is SHORT sleep bad?", &["sleep_note", "sleep_rule", "short"]),
        // No searchable word: importance and recency alone (the recent day-shift fact beats the older
        // insight; the year-old marathon goal falls behind).
        ("what do I", &["day", "sleep_rule", "short"]),
    ];
    for (question, expected) in table {
        let hits = m.recall(question, 3, now).await.unwrap();
        let got: Vec<&str> = hits.iter().map(|h| ids[&h.memory.id]).collect();
        assert_eq!(got, expected, "{question:?}: {hits:#?}");
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    }
}

#[tokio::test]
async fn proposals_wait_for_a_yes_or_apply_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let m = store.memories();
    let add = MemoryOp::Add(memory(MemoryKind::Preference, "Prefers metric units", 0.4, T0));
    let pending = m.propose(&add, T0).await.unwrap();
    assert!(
        m.list(AsOf::at(T0 + 1)).await.unwrap().is_empty(),
        "a proposal changes nothing by itself"
    );
    let created = m.confirm(pending, T0 + 10).await.unwrap().unwrap();
    assert_eq!(m.get(created).await.unwrap().text, "Prefers metric units");
    assert!(matches!(
        m.confirm(pending, T0 + 11).await,
        Err(StoreError::Invalid { .. })
    ));

    let retract = MemoryOp::Retract {
        id: created,
        reason: "misheard".into(),
    };
    let refused = m.propose(&retract, T0 + 20).await.unwrap();
    m.reject(refused, T0 + 30).await.unwrap();
    assert!(m.get(created).await.unwrap().is_active());

    let replacement = MemoryOp::Supersede {
        old: created,
        replacement: memory(MemoryKind::Preference, "Prefers imperial units", 0.4, T0 + 40),
        reason: "said so".into(),
    };
    let newer = m.apply(&replacement, T0 + 40).await.unwrap().unwrap();
    assert_eq!(m.get(created).await.unwrap().superseded.unwrap().by, Some(newer));

    let statuses: Vec<_> = m
        .proposals(None)
        .await
        .unwrap()
        .iter()
        .map(|p| p.status)
        .collect();
    assert_eq!(
        statuses,
        [
            ProposalStatus::Applied,
            ProposalStatus::Rejected,
            ProposalStatus::Applied
        ]
    );
    assert!(
        m.proposals(Some(ProposalStatus::Pending))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn hypotheses_keep_every_test_and_show_the_latest() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let h = store.hypotheses();
    let new = NewHypothesis {
        statement: "Alcohol lowers my next-morning HRV".into(),
        metric: "ln_rmssd".into(),
        exposure_tag: "alcohol".into(),
        lag_days: 1,
        direction: Direction::Lower,
        test: "welch_t".into(),
        alpha: 0.05,
        min_n: 5,
        memory: None,
    };
    let id = h.create(&new, T0).await.unwrap();
    assert_eq!(h.get(id).await.unwrap().status, HypothesisStatus::Open);
    h.record_test(id, HypothesisStatus::Open, r#"{"n_exposed":2}"#, T0 + DAY)
        .await
        .unwrap();
    h.record_test(
        id,
        HypothesisStatus::Supported,
        r#"{"n_exposed":6,"p":0.01}"#,
        T0 + 9 * DAY,
    )
    .await
    .unwrap();
    let row = &h.list().await.unwrap()[0];
    assert_eq!(
        (row.status, row.evidence_json.as_deref(), row.last_tested_at),
        (
            HypothesisStatus::Supported,
            Some(r#"{"n_exposed":6,"p":0.01}"#),
            Some(T0 + 9 * DAY)
        )
    );
    let tests: Vec<_> = h.tests(id).await.unwrap().iter().map(|t| t.status).collect();
    assert_eq!(tests, [HypothesisStatus::Open, HypothesisStatus::Supported]);

    let bad = [
        NewHypothesis {
            alpha: 1.5,
            ..new.clone()
        },
        NewHypothesis {
            min_n: 1,
            ..new.clone()
        },
        NewHypothesis {
            lag_days: 9,
            ..new.clone()
        },
        NewHypothesis {
            metric: " ".into(),
            ..new.clone()
        },
        NewHypothesis {
            memory: Some(MemoryId(404)),
            ..new.clone()
        },
    ];
    for hypothesis in bad {
        let error = h.create(&hypothesis, T0).await.unwrap_err();
        assert!(
            matches!(error, StoreError::Invalid { .. } | StoreError::NotFound { .. }),
            "{error}"
        );
    }
    assert!(matches!(
        h.record_test(id, HypothesisStatus::Refuted, "{", T0).await,
        Err(StoreError::Invalid { .. })
    ));
}

#[tokio::test]
async fn bad_memory_operations_are_refused_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let m = store.memories();
    let a = m
        .remember(&memory(MemoryKind::Fact, "Lives in Lyon", 0.5, T0), T0)
        .await
        .unwrap();
    let gone = m
        .remember(&memory(MemoryKind::Fact, "Has a dog", 0.5, T0), T0)
        .await
        .unwrap();
    m.retract(gone, "no dog", T0 + 1).await.unwrap();
    let b = m
        .supersede(
            a,
            &memory(MemoryKind::Fact, "Lives in Paris", 0.5, T0 + DAY),
            "moved",
            T0 + DAY,
        )
        .await
        .unwrap();

    let cases: Vec<(&str, Result<(), StoreError>)> = vec![
        (
            "empty text",
            m.remember(&memory(MemoryKind::Fact, " ", 0.5, T0), T0)
                .await
                .map(drop),
        ),
        (
            "importance above 1",
            m.remember(&memory(MemoryKind::Fact, "x", 1.5, T0), T0)
                .await
                .map(drop),
        ),
        (
            "importance NaN",
            m.remember(&memory(MemoryKind::Fact, "x", f64::NAN, T0), T0)
                .await
                .map(drop),
        ),
        (
            "superseding a superseded memory",
            m.supersede(
                a,
                &memory(MemoryKind::Fact, "x", 0.5, T0 + DAY),
                "r",
                T0 + 2 * DAY,
            )
            .await
            .map(drop),
        ),
        (
            "retracting a retracted memory",
            m.retract(gone, "again", T0 + 2 * DAY).await,
        ),
        ("an empty reason", m.retract(b, "  ", T0 + 2 * DAY).await),
        (
            "a replacement valid before the original",
            m.supersede(b, &memory(MemoryKind::Fact, "x", 0.5, T0), "r", T0 + 2 * DAY)
                .await
                .map(drop),
        ),
        ("retracting before it was recorded", m.retract(b, "r", T0).await),
        (
            "forgetting an unknown memory",
            m.forget(MemoryId(999)).await.map(drop),
        ),
    ];
    for (what, result) in cases {
        let error = result.expect_err(what);
        assert!(
            matches!(error, StoreError::Invalid { .. } | StoreError::NotFound { .. }),
            "{what}: {error}"
        );
    }
    assert_eq!(m.history().await.unwrap().len(), 3, "nothing refused was stored");
    assert_eq!(
        m.list(AsOf::at(T0 + 3 * DAY))
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        [b]
    );
    // Known before the move was recorded, Lyon was still true on the day after.
    let before_move = AsOf {
        known_at: T0 + DAY - 1,
        valid_at: T0 + 2 * DAY,
    };
    assert_eq!(
        m.list(before_move)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        [a]
    );
}
