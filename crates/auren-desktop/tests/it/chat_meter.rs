//! The chat's meter after a reload: a stored answer keeps the context figure it showed live ("ctx 1.2k /
//! 1M"), and what a conversation cost is the store's one sum over every answer of every branch — the
//! abandoned branch of an edit-and-resend included, which the branch shown no longer holds.

use std::path::Path;
use std::time::Duration;

use auren_desktop::chat_dto::{ChatEventDto, ChatSendDto, UsageDto};
use auren_desktop::{ChatSink, Desktop};
use auren_fake_llm::{FakeLlm, Reply, Script};
use tokio::sync::mpsc;

use crate::support::open;

const EVENT_WAIT: Duration = Duration::from_secs(60);

/// A desktop whose default alias goes to `fake` as OpenAI's priced gpt-4.1 (its context window is in the
/// bundled price table).
async fn desktop_on(dir: &Path, fake: &FakeLlm) -> Desktop {
    let config = dir.join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("gateway.toml"),
        format!(
            "default_model = \"smart\"\n\n[retry]\nmax_retries = 0\n\n\
             [[provider]]\nname = \"paid\"\nkind = \"openai\"\nbase_url = \"{}\"\n\n\
             [alias.smart]\nroutes = [\"paid:gpt-4.1\"]\n",
            fake.openai_base_url()
        ),
    )
    .unwrap();
    let keys = std::sync::Arc::new(auren_desktop::MemoryKeys::default());
    auren_desktop::ProviderKeys::set_key(
        keys.as_ref(),
        "paid",
        &auren_gateway::ApiKey::new("sk-test".to_owned()),
    )
    .unwrap();
    open(dir)
        .await
        .with_provider_keys(keys as std::sync::Arc<dyn auren_desktop::ProviderKeys>)
}

/// Sends `request` and returns its conversation and its `done`'s usage.
async fn turn(desktop: &Desktop, request: ChatSendDto) -> (i64, UsageDto) {
    let (tx, mut events) = mpsc::unbounded_channel();
    let sink: ChatSink = Box::new(move |event| tx.send(event).is_ok());
    let started = desktop.chat_send(request, sink).await.unwrap();
    loop {
        match tokio::time::timeout(EVENT_WAIT, events.recv()).await {
            Ok(Some(ChatEventDto::Done { usage, .. })) => return (started.conversation, usage),
            Ok(Some(_)) => {}
            Ok(None) => panic!("the turn's events ended without `done`"),
            Err(_) => panic!("no event from the turn in {EVENT_WAIT:?}"),
        }
    }
}

fn ask(conversation: Option<i64>, text: &str, replaces: Option<i64>) -> ChatSendDto {
    ChatSendDto {
        conversation,
        text: text.into(),
        replaces,
        model: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_answer_keeps_the_context_figure_it_showed_live() {
    let fake = FakeLlm::start().await.unwrap();
    fake.set_default(Script::Reply(
        Reply::text(["Sleep ", "and an easy day."]).with_usage(1_200, 300),
    ));
    let dir = tempfile::tempdir().unwrap();
    let desktop = desktop_on(dir.path(), &fake).await;
    let (conversation, live) = turn(
        &desktop,
        ask(None, "Write me a short note about recovery habits", None),
    )
    .await;
    assert!(
        live.context_tokens > 0 && live.context_window.is_some(),
        "{live:?}"
    );

    // Read back as after a reload (a new desktop over the same files).
    drop(desktop);
    let desktop = desktop_on(dir.path(), &fake).await;
    let messages = desktop.conversation_messages(conversation, None).await.unwrap();
    let stored = messages[1].usage.clone().expect("the answer has its usage");
    assert_eq!(
        (stored.context_tokens, stored.context_window),
        (live.context_tokens, live.context_window),
        "stored {stored:?}, live {live:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_conversation_cost_counts_the_abandoned_branch_too() {
    let fake = FakeLlm::start().await.unwrap();
    fake.set_default(Script::Reply(
        Reply::text(["Sleep ", "and an easy day."]).with_usage(1_200, 300),
    ));
    let dir = tempfile::tempdir().unwrap();
    let desktop = desktop_on(dir.path(), &fake).await;
    let (conversation, first) = turn(
        &desktop,
        ask(None, "Write me a short note about recovery habits", None),
    )
    .await;
    let question = desktop.conversation_messages(conversation, None).await.unwrap()[0].id;
    fake.set_default(Script::Reply(Reply::text(["Walk."]).with_usage(2_000, 100)));
    let (_, second) = turn(
        &desktop,
        ask(
            Some(conversation),
            "Write me a shorter note about recovery",
            Some(question),
        ),
    )
    .await;

    // The branch shown holds only the second answer; the conversation cost both.
    let shown = desktop.conversation_messages(conversation, None).await.unwrap();
    let answers: Vec<&UsageDto> = shown.iter().filter_map(|m| m.usage.as_ref()).collect();
    assert_eq!(answers.len(), 1, "{shown:?}");
    let listed = desktop.conversations().await.unwrap();
    let spent = &listed.iter().find(|c| c.id == conversation).unwrap().spent;
    assert_eq!(
        (
            spent.input_tokens,
            spent.output_tokens,
            spent.model_calls,
            spent.estimated
        ),
        (
            first.input_tokens + second.input_tokens,
            first.output_tokens + second.output_tokens,
            first.model_calls + second.model_calls,
            false
        )
    );
    let both = first.cost_usd + second.cost_usd;
    assert!(
        second.cost_usd > 0.0 && (spent.cost_usd - both).abs() < 1e-12,
        "spent {spent:?}, the two turns {first:?} {second:?}"
    );
}
