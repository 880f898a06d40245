//! The memory panel: memories as of a date (an edit or retraction made later does not rewrite the past),
//! pending proposals confirmed or rejected, hypotheses with status and evidence, forgetting that leaves no
//! trace, and input the panel refuses with a sentence.

use auren_desktop::memory_dto::{
    DirectionDto, HypothesisStatusDto, MemoryEditDto, MemoryKindDto, MemoryPanelDto, MemoryStateDto,
    ProposalOpDto, ProvenanceDto,
};
use auren_desktop::{ErrorCode, IpcError};
use auren_store::Store;
use auren_store::memory::{
    Direction, HypothesisStatus, MemoryKind, MemoryOp, NewHypothesis, NewMemory, Provenance,
};
use std::path::Path;

use crate::support::{rig, today};

const DAY: i64 = 86_400_000;

fn date(days_ago: i64) -> String {
    auren_clock::UtcDate::from_days(today() - days_ago).to_string()
}

async fn store(dir: &Path) -> Store {
    Store::open(&dir.join("data").join("auren.db")).await.unwrap()
}

/// Two memories recorded ten days ago, valid from then: a fact told directly and a goal from a receipt.
async fn seed(dir: &Path) -> (i64, i64) {
    let store = store(dir).await;
    let ten_days_ago = (today() - 10) * DAY + 1_000;
    let memories = store.memories();
    let fact = NewMemory {
        kind: MemoryKind::Fact,
        text: "works night shifts".into(),
        provenance: Provenance::Person,
        importance: 0.8,
        valid_from: ten_days_ago,
    };
    let goal = NewMemory {
        kind: MemoryKind::Goal,
        text: "half marathon in April".into(),
        provenance: Provenance::Receipt("r-42".into()),
        importance: 0.5,
        valid_from: ten_days_ago,
    };
    let fact = memories.remember(&fact, ten_days_ago).await.unwrap();
    let goal = memories.remember(&goal, ten_days_ago).await.unwrap();
    (fact.0, goal.0)
}

fn texts(panel: &MemoryPanelDto) -> Vec<&str> {
    panel.memories.iter().map(|m| m.text.as_str()).collect()
}

#[tokio::test]
async fn memories_show_kind_provenance_importance_and_dates() {
    let r = rig().await;
    let (fact, goal) = seed(r.dir.path()).await;
    let panel = r.desktop.memory_panel(None).await.unwrap();
    assert_eq!(panel.as_of, date(0));
    assert_eq!(panel.memories.len(), 2);
    let f = &panel.memories[0];
    assert_eq!(
        (f.id, f.kind, f.state),
        (fact, MemoryKindDto::Fact, MemoryStateDto::Active)
    );
    assert_eq!(f.provenance, ProvenanceDto::Person);
    assert_eq!(f.importance_label, "0.80");
    assert_eq!(
        (f.valid_from.as_str(), f.recorded.as_str()),
        (date(10).as_str(), date(10).as_str())
    );
    assert_eq!(f.valid_to, None);
    let g = &panel.memories[1];
    assert_eq!((g.id, g.kind), (goal, MemoryKindDto::Goal));
    assert_eq!(
        g.provenance,
        ProvenanceDto::Receipt {
            receipt: "r-42".into()
        }
    );
    // Before they were recorded, Auren knew nothing.
    let before = r.desktop.memory_panel(Some(date(11))).await.unwrap();
    assert_eq!((before.as_of, before.memories.len()), (date(11), 0));
}

#[tokio::test]
async fn an_edit_supersedes_and_the_past_still_shows_the_old_text() {
    let r = rig().await;
    let (fact, _) = seed(r.dir.path()).await;
    let new_id = r
        .desktop
        .edit_memory(MemoryEditDto {
            id: fact,
            text: "works day shifts since December".into(),
            reason: "changed jobs".into(),
        })
        .await
        .unwrap();
    let now = r.desktop.memory_panel(None).await.unwrap();
    assert_eq!(
        texts(&now),
        ["half marathon in April", "works day shifts since December"]
    );
    let edited = now.memories.iter().find(|m| m.id == new_id).unwrap();
    assert_eq!(
        (edited.kind, edited.importance_label.as_str()),
        (MemoryKindDto::Fact, "0.80")
    );
    let past = r.desktop.memory_panel(Some(date(5))).await.unwrap();
    assert_eq!(texts(&past), ["works night shifts", "half marathon in April"]);
    assert!(past.memories.iter().all(|m| m.state == MemoryStateDto::Active));
    // The old version cannot be edited twice.
    let again = r
        .desktop
        .edit_memory(MemoryEditDto {
            id: fact,
            text: "x".into(),
            reason: "y".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(IpcError::from(again).code, ErrorCode::InvalidInput);
}

#[tokio::test]
async fn a_retraction_needs_a_reason_and_hides_the_memory_from_now_on() {
    let r = rig().await;
    let (fact, goal) = seed(r.dir.path()).await;
    let refused = r.desktop.retract_memory(goal, "  ".into()).await.unwrap_err();
    let refused = IpcError::from(refused);
    assert_eq!(refused.code, ErrorCode::InvalidInput);
    assert!(refused.message.contains("reason"), "{}", refused.message);
    r.desktop
        .retract_memory(goal, "never said that".into())
        .await
        .unwrap();
    let now = r.desktop.memory_panel(None).await.unwrap();
    assert_eq!(now.memories.iter().map(|m| m.id).collect::<Vec<_>>(), [fact]);
    let past = r.desktop.memory_panel(Some(date(1))).await.unwrap();
    assert_eq!(past.memories.len(), 2);
}

#[tokio::test]
async fn forgetting_removes_every_version_from_every_date() {
    let r = rig().await;
    let (fact, _) = seed(r.dir.path()).await;
    let new_id = r
        .desktop
        .edit_memory(MemoryEditDto {
            id: fact,
            text: "works day shifts".into(),
            reason: "changed jobs".into(),
        })
        .await
        .unwrap();
    let forgotten = r.desktop.forget_memory(new_id).await.unwrap();
    let mut ids = forgotten.memories.clone();
    ids.sort_unstable();
    assert_eq!(ids, [fact, new_id]);
    for as_of in [None, Some(date(5))] {
        let panel = r.desktop.memory_panel(as_of).await.unwrap();
        assert_eq!(texts(&panel), ["half marathon in April"]);
    }
}

#[tokio::test]
async fn proposals_wait_until_confirmed_or_rejected() {
    let r = rig().await;
    let (_, goal) = seed(r.dir.path()).await;
    let store = store(r.dir.path()).await;
    let now = auren_clock::now_unix_ms();
    let add = MemoryOp::Add(NewMemory {
        kind: MemoryKind::Preference,
        text: "prefers short answers".into(),
        provenance: Provenance::Person,
        importance: 0.3,
        valid_from: now,
    });
    let retract = MemoryOp::Retract {
        id: auren_store::MemoryId(goal),
        reason: "race cancelled".into(),
    };
    let add = store.memories().propose(&add, now).await.unwrap();
    let retract = store.memories().propose(&retract, now).await.unwrap();
    let panel = r.desktop.memory_panel(None).await.unwrap();
    let ops: Vec<_> = panel.proposals.iter().map(|p| (p.id, p.op, p.target)).collect();
    assert_eq!(
        ops,
        [
            (add.0, ProposalOpDto::Add, None),
            (retract.0, ProposalOpDto::Retract, Some(goal))
        ]
    );
    assert_eq!(panel.proposals[0].text.as_deref(), Some("prefers short answers"));
    assert_eq!(panel.proposals[0].kind, Some(MemoryKindDto::Preference));
    assert_eq!(panel.proposals[1].reason.as_deref(), Some("race cancelled"));

    let created = r.desktop.confirm_memory_proposal(add.0).await.unwrap();
    r.desktop.reject_memory_proposal(retract.0).await.unwrap();
    let panel = r.desktop.memory_panel(None).await.unwrap();
    assert!(panel.proposals.is_empty());
    assert!(
        panel
            .memories
            .iter()
            .any(|m| Some(m.id) == created && m.kind == MemoryKindDto::Preference)
    );
    assert!(
        panel.memories.iter().any(|m| m.id == goal),
        "the rejected retraction left the goal"
    );
}

#[tokio::test]
async fn hypotheses_show_status_and_evidence_lines() {
    let r = rig().await;
    let store = store(r.dir.path()).await;
    let now = auren_clock::now_unix_ms();
    let id = store
        .hypotheses()
        .create(
            &NewHypothesis {
                statement: "alcohol lowers my next-morning HRV".into(),
                metric: "ln_rmssd".into(),
                exposure_tag: "alcohol".into(),
                lag_days: 1,
                direction: Direction::Lower,
                test: "welch_t".into(),
                alpha: 0.05,
                min_n: 5,
                memory: None,
            },
            now,
        )
        .await
        .unwrap();
    let open = r.desktop.memory_panel(None).await.unwrap();
    assert_eq!(open.hypotheses[0].status, HypothesisStatusDto::Open);
    assert!(open.hypotheses[0].evidence.is_empty());
    store
        .hypotheses()
        .record_test(
            id,
            HypothesisStatus::Supported,
            r#"{"n_exposed":7,"p":0.01234,"test":"welch_t"}"#,
            now,
        )
        .await
        .unwrap();
    let panel = r.desktop.memory_panel(None).await.unwrap();
    let h = &panel.hypotheses[0];
    assert_eq!(
        (h.id, h.status, h.direction),
        (id.0, HypothesisStatusDto::Supported, DirectionDto::Lower)
    );
    assert_eq!(
        (h.metric.as_str(), h.exposure_tag.as_str(), h.lag_days),
        ("ln_rmssd", "alcohol", 1)
    );
    assert_eq!(h.evidence, ["n_exposed: 7", "p: 0.012", "test: welch_t"]);
    assert_eq!(h.last_tested.as_deref(), Some(date(0).as_str()));
}

#[tokio::test]
async fn bad_dates_and_unknown_ids_are_refused_with_a_sentence() {
    let r = rig().await;
    for bad in [
        "yesterday",
        "2026-02-30",
        "2026-1-01",
        "2026-13-01",
        "2026-01-01-01",
    ] {
        let e = IpcError::from(r.desktop.memory_panel(Some(bad.into())).await.unwrap_err());
        assert_eq!(e.code, ErrorCode::InvalidInput, "{bad}");
        assert!(e.message.contains("YYYY-MM-DD"), "{bad}: {}", e.message);
    }
    let cases = [
        (
            "retract",
            r.desktop.retract_memory(999, "wrong".into()).await.err(),
        ),
        ("confirm", r.desktop.confirm_memory_proposal(999).await.err()),
        ("reject", r.desktop.reject_memory_proposal(999).await.err()),
        (
            "edit",
            r.desktop
                .edit_memory(MemoryEditDto {
                    id: 999,
                    text: "a".into(),
                    reason: "b".into(),
                })
                .await
                .err(),
        ),
    ];
    for (what, e) in cases {
        let e = IpcError::from(e.unwrap());
        assert_eq!(e.code, ErrorCode::InvalidInput, "{what}: {}", e.message);
    }
}
