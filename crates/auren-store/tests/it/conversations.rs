//! Conversations on a real database file: messages, usage, steps, receipts and claims read back as stored;
//! branches give each leaf its own path and siblings; FTS5 search finds words inside messages (stemmed, query
//! syntax typed by a person is plain text) and forgets deleted conversations; the Markdown and JSON exports
//! are snapshots; bad input is refused naming the problem; an answer keeps its context figure; what a
//! conversation cost counts every branch.

use auren_store::conversations::{
    ClaimRow, ContextUse, ConversationUsage, Grounding, MessageUsage, NewMessage, Role,
};
use auren_store::{ConversationId, MessageId, Store, StoreError};
use std::path::Path;

const T0: i64 = 1_764_748_800_000; // 2025-12-03T08:00:00Z

async fn open(dir: &Path) -> Store {
    Store::open(&dir.join("auren.db")).await.expect("open")
}

fn question(parent: Option<MessageId>, text: &str, at: i64) -> NewMessage {
    NewMessage {
        parent,
        role: Role::User,
        specialist: None,
        model: None,
        text: text.into(),
        usage: None,
        offline: false,
        created_at: at,
    }
}

fn answer(parent: MessageId, text: &str, at: i64) -> NewMessage {
    NewMessage {
        parent: Some(parent),
        role: Role::Assistant,
        specialist: Some("analyst".into()),
        model: Some("gpt-4o-mini".into()),
        text: text.into(),
        usage: Some(MessageUsage {
            tokens_in: 1_234,
            tokens_out: 56,
            cost_usd: 0.000_219,
            estimated: false,
            model_calls: 2,
            context: Some(ContextUse {
                tokens: 1_100,
                window: Some(128_000),
            }),
        }),
        offline: false,
        created_at: at,
    }
}

const RECEIPT: &str = r#"{"id":"r-1","tool":"get_trend","computed":"mean morning lnRMSSD, 2025-11-26..2025-12-02","method":"arithmetic mean of daily readings","sources":[{"kind":"day","date":"2025-12-02"}],"values":[{"label":"mean lnRMSSD","value":3.91,"unit":"ln_ms","day":null}]}"#;

/// A conversation with a question, an answer citing a receipt, and an edited question (a second branch)
/// with an offline answer. Returns (conversation, first answer, second answer).
async fn sample(store: &Store) -> (ConversationId, MessageId, MessageId) {
    let c = store.conversations();
    let id = c.create("Why is my HRV down?", T0).await.unwrap();
    let q1 = c
        .append_message(id, &question(None, "Why is my HRV down this week?", T0))
        .await
        .unwrap();
    c.save_receipt("r-1", RECEIPT, T0 + 500).await.unwrap();
    let a1 = c
        .append_message(
            id,
            &answer(
                q1,
                "Your mean lnRMSSD this week was 3.91, and resting HR 58 bpm.",
                T0 + 2_000,
            ),
        )
        .await
        .unwrap();
    c.append_step(a1, "routed", r#"{"specialist":"analyst","by":"rules"}"#, T0 + 100)
        .await
        .unwrap();
    c.append_step(
        a1,
        "tool_call",
        r#"{"name":"get_trend","arguments":{"days":7}}"#,
        T0 + 200,
    )
    .await
    .unwrap();
    c.link_receipts(a1, &["r-1"]).await.unwrap();
    c.add_claims(
        a1,
        &[
            ClaimRow {
                text: "3.91".into(),
                value: 3.91,
                unit: "ln_ms".into(),
                grounding: Grounding::Grounded {
                    receipt: "r-1".into(),
                },
            },
            ClaimRow {
                text: "58 bpm".into(),
                value: 58.0,
                unit: "bpm".into(),
                grounding: Grounding::Ungrounded,
            },
        ],
    )
    .await
    .unwrap();
    let q2 = c
        .append_message(id, &question(None, "Why is my sleeping HRV low?", T0 + 60_000))
        .await
        .unwrap();
    let mut offline = answer(
        q2,
        "Offline: your readiness today is within your normal range.",
        T0 + 61_000,
    );
    offline.specialist = Some("offline".into());
    offline.model = None;
    offline.offline = true;
    offline.usage = None;
    let a2 = c.append_message(id, &offline).await.unwrap();
    (id, a1, a2)
}

#[tokio::test]
async fn messages_steps_receipts_and_claims_read_back_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let (id, a1, _) = sample(&store).await;
    let c = store.conversations();

    let row = c.get(id).await.unwrap();
    assert_eq!(
        (row.title.as_str(), row.message_count, row.updated_at),
        ("Why is my HRV down?", 4, T0 + 61_000)
    );

    let stored = c.message(a1).await.unwrap();
    assert_eq!(stored.conversation, id);
    let expected = answer(
        stored.parent.unwrap(),
        "Your mean lnRMSSD this week was 3.91, and resting HR 58 bpm.",
        T0 + 2_000,
    );
    assert_eq!(
        (
            stored.role,
            &stored.specialist,
            &stored.model,
            &stored.usage,
            stored.offline
        ),
        (
            Role::Assistant,
            &expected.specialist,
            &expected.model,
            &expected.usage,
            false
        )
    );

    let steps = c.steps(a1).await.unwrap();
    assert_eq!(
        steps.iter().map(|s| (s.seq, s.kind.as_str())).collect::<Vec<_>>(),
        [(0, "routed"), (1, "tool_call")]
    );
    let receipts = c.message_receipts(a1).await.unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].body_json, RECEIPT);
    let claims = c.claims(a1).await.unwrap();
    assert_eq!(claims.len(), 2);
    assert_eq!(claims[1].grounding, Grounding::Ungrounded);

    c.rename(id, "HRV this week", T0 + 90_000).await.unwrap();
    let listed = c.list().await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|r| (r.id, r.title.as_str(), r.updated_at))
            .collect::<Vec<_>>(),
        [(id, "HRV this week", T0 + 90_000)]
    );
}

#[tokio::test]
async fn each_leaf_has_its_own_path_and_edits_are_siblings() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let (id, a1, _) = sample(&store).await;
    let c = store.conversations();

    let texts = |path: Vec<auren_store::conversations::MessageRow>| {
        path.into_iter().map(|m| m.text).collect::<Vec<_>>()
    };
    assert_eq!(
        texts(c.path(a1).await.unwrap()),
        [
            "Why is my HRV down this week?",
            "Your mean lnRMSSD this week was 3.91, and resting HR 58 bpm."
        ]
    );
    assert_eq!(
        texts(c.latest_path(id).await.unwrap()),
        [
            "Why is my sleeping HRV low?",
            "Offline: your readiness today is within your normal range."
        ]
    );
    let first_question = c.path(a1).await.unwrap()[0].id;
    let siblings = c.siblings(first_question).await.unwrap();
    assert_eq!(siblings.len(), 2, "the edited question is a sibling of the first");
    assert_eq!(c.siblings(a1).await.unwrap().len(), 1);
    assert_eq!(c.messages(id).await.unwrap().len(), 4);

    // Flipping to a branch by its question shows that branch's answer too, not the path cut at the question;
    // a message with nothing below is its own end.
    let edited_question = siblings[1].id;
    for (through, expected) in [
        (first_question, texts(c.path(a1).await.unwrap())),
        (edited_question, texts(c.latest_path(id).await.unwrap())),
        (a1, texts(c.path(a1).await.unwrap())),
    ] {
        assert_eq!(texts(c.latest_path_through(through).await.unwrap()), expected);
    }
    assert!(c.latest_path_through(MessageId(9_999)).await.is_err());
}

#[tokio::test]
async fn search_finds_words_inside_messages() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let (id, a1, _) = sample(&store).await;
    let other = store.conversations().create("Travel", T0).await.unwrap();
    store
        .conversations()
        .append_message(other, &question(None, "Jet lag after the flight to Tokyo", T0))
        .await
        .unwrap();
    let c = store.conversations();

    // (query, expected hits as (conversation, snippet))
    let table: [(&str, Vec<(ConversationId, &str)>); 5] = [
        (
            "resting",
            vec![(
                id,
                "Your mean lnRMSSD this week was 3.91, and [resting] HR 58 bpm.",
            )],
        ),
        // Stemmed: "sleep" finds "sleeping".
        ("sleep", vec![(id, "Why is my [sleeping] HRV low?")]),
        (
            "tokyo FLIGHT",
            vec![(other, "Jet lag after the [flight] to [Tokyo]")],
        ),
        // Query syntax a person types is plain words.
        (
            "\"lnRMSSD\" AND -week*",
            vec![(
                id,
                "Your mean [lnRMSSD] this [week] was 3.91, [and] resting HR 58 bpm.",
            )],
        ),
        ("marathon", vec![]),
    ];
    for (query, expected) in table {
        let hits = c.search(query, 10).await.unwrap();
        let got: Vec<_> = hits
            .iter()
            .map(|h| (h.conversation, h.snippet.as_str()))
            .collect();
        assert_eq!(got, expected, "{query:?}");
    }
    assert_eq!(c.search("resting", 10).await.unwrap()[0].message, a1);
    assert!(matches!(
        c.search("?!", 10).await,
        Err(StoreError::Invalid { .. })
    ));

    c.delete(id).await.unwrap();
    assert!(c.search("resting", 10).await.unwrap().is_empty());
    assert!(
        c.receipt("r-1").await.unwrap().is_none(),
        "a receipt nothing else cites goes with it"
    );
    assert!(matches!(c.get(id).await, Err(StoreError::NotFound { .. })));
}

#[tokio::test]
async fn exports_are_markdown_and_json_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let (id, a1, _) = sample(&store).await;
    let c = store.conversations();

    let first_branch = c.export(id, Some(a1)).await.unwrap();
    insta::assert_snapshot!("export_first_branch_markdown", first_branch.to_markdown());
    insta::assert_snapshot!(
        "export_first_branch_json",
        serde_json::to_string_pretty(&first_branch.to_json()).unwrap()
    );
    let latest = c.export(id, None).await.unwrap();
    insta::assert_snapshot!("export_latest_markdown", latest.to_markdown());
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let (id, a1, _) = sample(&store).await;
    let c = store.conversations();
    let other = c.create("Other", T0).await.unwrap();

    let refused = [
        (
            "a parent from another conversation",
            c.append_message(other, &question(Some(a1), "x", T0)).await.err(),
        ),
        ("an empty title", c.create("  ", T0).await.err()),
        (
            "a step payload that is not JSON",
            c.append_step(a1, "x", "{", T0).await.err(),
        ),
        (
            "a receipt changed after it was stored",
            c.save_receipt("r-1", "{}", T0).await.err(),
        ),
        (
            "a link to an unknown receipt",
            c.link_receipts(a1, &["r-404"]).await.err(),
        ),
        (
            "a claim with a NaN value",
            c.add_claims(
                a1,
                &[ClaimRow {
                    text: "x".into(),
                    value: f64::NAN,
                    unit: "ms".into(),
                    grounding: Grounding::Ungrounded,
                }],
            )
            .await
            .err(),
        ),
        (
            "an unknown conversation",
            c.rename(ConversationId(999), "x", T0).await.err(),
        ),
    ];
    for (what, error) in refused {
        let error = error.unwrap_or_else(|| panic!("{what} was accepted"));
        assert!(
            matches!(
                error,
                StoreError::Invalid { .. } | StoreError::NotFound { .. } | StoreError::NotFinite { .. }
            ),
            "{what}: {error}"
        );
    }
    // The same receipt saved twice with the same body is fine.
    c.save_receipt("r-1", RECEIPT, T0).await.unwrap();
    assert_eq!(
        c.get(id).await.unwrap().message_count,
        4,
        "nothing refused was stored"
    );
    assert_eq!(c.claims(a1).await.unwrap().len(), 2);
}

#[tokio::test]
async fn an_answer_keeps_its_context_figure_and_one_without_reads_back_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let c = store.conversations();
    let id = c.create("ctx", T0).await.unwrap();
    let q = c
        .append_message(id, &question(None, "How full is it?", T0))
        .await
        .unwrap();
    let context = |tokens, window| Some(ContextUse { tokens, window });
    // (context stored, read back)
    let cases = [
        (context(3_100, Some(128_000)), context(3_100, Some(128_000))),
        (context(812, None), context(812, None)),
        (None, None),
    ];
    for (i, (stored, read)) in cases.into_iter().enumerate() {
        let mut a = answer(q, "Quite full.", T0 + 1_000 + i as i64);
        if let Some(usage) = a.usage.as_mut() {
            usage.context = stored;
        }
        let message = c.append_message(id, &a).await.unwrap();
        let back = c.message(message).await.unwrap();
        assert_eq!(back.usage.and_then(|u| u.context), read, "case {i}");
    }
    // A figure of nothing is no figure: refused, not stored as 0.
    for bad in [context(0, Some(128_000)), context(10, Some(0))] {
        let mut a = answer(q, "Empty.", T0 + 9_000);
        if let Some(usage) = a.usage.as_mut() {
            usage.context = bad;
        }
        let refused = c.append_message(id, &a).await;
        assert!(
            matches!(
                refused,
                Err(StoreError::Invalid {
                    what: "message context",
                    ..
                })
            ),
            "{bad:?}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn what_a_conversation_cost_counts_every_branch_in_the_list_and_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let (id, _, offline) = sample(&store).await;
    let c = store.conversations();
    let one = ConversationUsage {
        tokens_in: 1_234,
        tokens_out: 56,
        cost_usd: 0.000_219,
        estimated: false,
        model_calls: 2,
    };
    assert_eq!(
        c.get(id).await.unwrap().spent,
        one,
        "the first branch's answer; the offline one cost nothing"
    );
    // The offline branch asked again, with an estimated count: both branches are counted, the abandoned
    // one too (it was paid for).
    let question_2 = c.message(offline).await.unwrap().parent.unwrap();
    let mut estimated = answer(question_2, "Estimated.", T0 + 70_000);
    if let Some(usage) = estimated.usage.as_mut() {
        usage.estimated = true;
        usage.tokens_in = 100;
        usage.tokens_out = 4;
        usage.cost_usd = 0.000_031;
        usage.model_calls = 1;
    }
    c.append_message(id, &estimated).await.unwrap();
    let both = ConversationUsage {
        tokens_in: 1_334,
        tokens_out: 60,
        cost_usd: 0.000_219 + 0.000_031,
        estimated: true,
        model_calls: 3,
    };
    let alone = c.get(id).await.unwrap().spent;
    let listed = c.list().await.unwrap().remove(0).spent;
    assert_eq!(alone, listed, "the list and the conversation say the same");
    assert_eq!(
        (
            alone.tokens_in,
            alone.tokens_out,
            alone.estimated,
            alone.model_calls
        ),
        (both.tokens_in, both.tokens_out, both.estimated, both.model_calls)
    );
    assert!((alone.cost_usd - both.cost_usd).abs() < 1e-15, "{alone:?}");
    // A conversation with no answer yet cost nothing.
    let empty = c.create("nothing yet", T0).await.unwrap();
    assert_eq!(c.get(empty).await.unwrap().spent, ConversationUsage::default());
}
