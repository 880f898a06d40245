//! A number that came from a memory links to the memory panel: the claim's conversation with the panel
//! open on that memory — as it is now while the memory stands, as of the answer's day once it was retracted
//! later (or of the last day it stood through), and nowhere once it is forgotten or never stood through a
//! day's end (no view of the panel could show it).

use auren_agents::{Receipt, ReceiptId, ReceiptValue, Source, Unit};
use auren_store::Store;
use auren_store::conversations::{ClaimRow, Grounding, MessageUsage, NewMessage, Role};
use auren_store::memory::{MemoryKind, NewMemory, Provenance};

use crate::support::{rig, today};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
const ANSWER: &str = "Your max HR is 188 bpm.";

/// What happens to the memory after the answer cited it.
#[derive(Clone, Copy, Debug)]
enum Later {
    Nothing,
    /// Retracted at this time.
    Retracted(i64),
    Forgotten,
}

/// The answer's time: noon, three days ago.
fn answered_at() -> i64 {
    (today() - 3) * DAY + 12 * HOUR
}

fn date(day: i64) -> String {
    auren_clock::UtcDate::from_days(day).to_string()
}

/// A memory recorded at `recorded`, and a conversation whose answer states its number, grounded by a
/// recall receipt that names the memory. Returns (conversation, memory).
async fn cited(store: &Store, case: usize, recorded: i64) -> (i64, i64) {
    let memory = store
        .memories()
        .remember(
            &NewMemory {
                kind: MemoryKind::Fact,
                text: "max HR 188 bpm in the spring test".into(),
                provenance: Provenance::Person,
                importance: 0.7,
                valid_from: recorded,
            },
            recorded,
        )
        .await
        .unwrap();
    let receipt = Receipt {
        id: ReceiptId(format!("r-recall-{case}")),
        tool: "recall".into(),
        computed: "memories recalled for \"max HR\"".into(),
        method: "SQLite FTS5 BM25".into(),
        sources: vec![Source::Memory { id: memory.0 }],
        values: vec![ReceiptValue {
            label: "max HR".into(),
            value: 188.0,
            unit: Unit::Bpm,
            day: None,
        }],
    };
    let c = store.conversations();
    let at = answered_at();
    let conversation = c.create("max HR", at).await.unwrap();
    let message = |parent, role, text: &str| NewMessage {
        parent,
        role,
        specialist: None,
        model: None,
        text: text.into(),
        usage: (role == Role::Assistant).then(MessageUsage::default),
        offline: true,
        created_at: at,
    };
    let question = c
        .append_message(conversation, &message(None, Role::User, "What is my max HR?"))
        .await
        .unwrap();
    let answer = c
        .append_message(conversation, &message(Some(question), Role::Assistant, ANSWER))
        .await
        .unwrap();
    c.save_receipt(&receipt.id.0, &serde_json::to_string(&receipt).unwrap(), at)
        .await
        .unwrap();
    c.add_claims(
        answer,
        &[ClaimRow {
            text: "188 bpm".into(),
            value: 188.0,
            unit: "bpm".into(),
            grounding: Grounding::Grounded {
                receipt: receipt.id.0.clone(),
            },
        }],
    )
    .await
    .unwrap();
    (conversation.0, memory.0)
}

#[tokio::test]
async fn a_number_from_a_memory_links_to_the_memory_panel_as_it_stood() {
    let r = rig().await;
    let store = Store::open(&r.dir.path().join("data").join("auren.db"))
        .await
        .unwrap();
    let at = answered_at();
    let answer_day = today() - 3;
    // (what happens later, recorded, the route: None, or Some((panel as of a day?)))
    let cases: [(Later, i64, Option<Option<String>>); 5] = [
        (Later::Nothing, at - 10 * DAY, Some(None)),
        // Retracted since: the panel as of the answer's day, which showed it.
        (
            Later::Retracted(at + DAY),
            at - 10 * DAY,
            Some(Some(date(answer_day))),
        ),
        // Retracted later that same day: the day before, the last it stood through.
        (
            Later::Retracted(at + HOUR),
            at - 10 * DAY,
            Some(Some(date(answer_day - 1))),
        ),
        // Recorded and retracted within the answer's day: no day's view holds it.
        (Later::Retracted(at + HOUR), at - HOUR, None),
        (Later::Forgotten, at - 10 * DAY, None),
    ];
    for (case, (later, recorded, expected)) in cases.into_iter().enumerate() {
        let (conversation, memory) = cited(&store, case, recorded).await;
        match later {
            Later::Nothing => {}
            Later::Retracted(when) => store
                .memories()
                .retract(auren_store::MemoryId(memory), "wrong test", when)
                .await
                .unwrap(),
            Later::Forgotten => {
                store
                    .memories()
                    .forget(auren_store::MemoryId(memory))
                    .await
                    .unwrap();
            }
        }
        let messages = r.desktop.conversation_messages(conversation, None).await.unwrap();
        let claim = messages[1]
            .claims
            .first()
            .unwrap_or_else(|| panic!("case {case}: no claim in {:?}", messages[1]));
        let route = expected.map(|day| {
            let panel = format!("chat/{conversation}/memory/{memory}");
            day.map_or(panel.clone(), |d| format!("{panel}/{d}"))
        });
        assert_eq!(
            (claim.grounded, &claim.route),
            (true, &route),
            "case {case}: {later:?}, recorded {recorded}"
        );
    }
}
