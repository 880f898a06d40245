//! The window is told when a proactive message is stored: one notice per stored message, naming its
//! conversation, message, specialist and trigger, and none for a trigger that already had its message.

use auren_desktop::chat_dto::SpecialistDto;
use auren_desktop::dto::{ScenarioDto, SourceChoiceDto};
use auren_desktop::{ProactiveMessageDto, ProactiveTriggerDto};
use auren_store::Store;
use std::time::Duration;

use crate::support::{collector, open, today};

/// Six low mornings after 53 high ones: today's reading puts the 7-day mean far below the normal range
/// (the 60-day mean ± 0.5 SD), whatever the simulated morning measures.
async fn seed_a_low_week(dir: &std::path::Path) {
    let store = Store::open(&dir.join("data").join("auren.db")).await.unwrap();
    let today = today();
    for k in 1..=59 {
        let value = if k <= 6 {
            2.0
        } else {
            4.5 + if k % 2 == 0 { 0.05 } else { -0.05 }
        };
        store
            .add_morning_reading(today - k, value, Some(60.0), None)
            .await
            .unwrap();
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_stored_proactive_message_is_announced_once_and_a_repeated_trigger_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    seed_a_low_week(dir.path()).await;
    let desktop = open(dir.path()).await;
    let (tx, mut notices) = tokio::sync::mpsc::unbounded_channel::<ProactiveMessageDto>();
    desktop
        .watch_proactive(Box::new(move |m| tx.send(m).is_ok()))
        .await
        .unwrap();

    let morning = || SourceChoiceDto::Simulator {
        scenario: ScenarioDto::Rest,
        speed: 60.0,
    };
    // Two readings the same morning: one trigger (the day's), so one message.
    for _ in 0..2 {
        let (sink, _seen) = collector();
        let result = desktop.start_morning(morning(), sink).await.unwrap();
        assert_eq!(
            result.readiness.verdict,
            Some(auren_engine::dto::VerdictDto::Below),
            "{result:?}"
        );
    }
    // The simulated mornings may also fire a CNS-fatigue alert (a trigger of its own, with its own
    // message); the morning's trigger has exactly one.
    let conversations = desktop.conversations().await.unwrap();
    let below: Vec<_> = conversations
        .iter()
        .filter(|c| c.title.starts_with("Below your range"))
        .collect();
    assert_eq!(below.len(), 1, "{conversations:?}");
    let messages = desktop.conversation_messages(below[0].id, None).await.unwrap();
    assert_eq!(messages.len(), 1);

    // The app quits: the watch delivers what was announced, then ends (the sender is dropped with it).
    drop(desktop);
    let mut got = Vec::new();
    while let Some(notice) = tokio::time::timeout(Duration::from_secs(30), notices.recv())
        .await
        .expect("the watch ends when the desktop goes")
    {
        got.push(notice);
    }
    // One notice per stored message: as many as there are proactive conversations, each naming its own.
    let mut announced: Vec<i64> = got.iter().map(|n| n.conversation).collect();
    announced.sort_unstable();
    let mut stored: Vec<i64> = conversations.iter().map(|c| c.id).collect();
    stored.sort_unstable();
    assert_eq!(announced, stored, "{got:?}");
    let morning_notices: Vec<_> = got
        .into_iter()
        .filter(|n| n.trigger == ProactiveTriggerDto::MorningBelowRange)
        .collect();
    assert_eq!(
        morning_notices,
        vec![ProactiveMessageDto {
            conversation: below[0].id,
            message: messages[0].id,
            specialist: SpecialistDto::Coach,
            trigger: ProactiveTriggerDto::MorningBelowRange,
        }]
    );
}
