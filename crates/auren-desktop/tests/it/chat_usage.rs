//! The chat's meter against the budget's ledger, through the desktop: a turn stopped mid-answer stores
//! the usage the ledger booked for its cut call, its `done` carries the same, and the window heard it as
//! that call's (estimated) usage.

use std::path::Path;
use std::time::Duration;

use auren_agents::ledger::SqliteLedger;
use auren_desktop::chat_dto::{ChatCancelDto, ChatEventDto, ChatSendDto, UsageDto};
use auren_desktop::{ChatSink, Desktop};
use auren_fake_llm::{FakeLlm, Reply, Script};
use auren_gateway::{UsageLedger, UsageQuery};
use tokio::sync::mpsc;

use crate::support::open;

/// Long enough for a test to end before any event is missed; a turn that hangs fails here, not forever.
const EVENT_WAIT: Duration = Duration::from_secs(60);

fn sink() -> (ChatSink, mpsc::UnboundedReceiver<ChatEventDto>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Box::new(move |event| tx.send(event).is_ok()), rx)
}

async fn next(events: &mut mpsc::UnboundedReceiver<ChatEventDto>) -> ChatEventDto {
    match tokio::time::timeout(EVENT_WAIT, events.recv()).await {
        Ok(Some(event)) => event,
        Ok(None) => panic!("the turn's events ended without `done`"),
        Err(_) => panic!("no event from the turn in {EVENT_WAIT:?}"),
    }
}

/// A desktop whose chat goes to `fake`, a local server with a configured context window.
async fn desktop_on(dir: &Path, fake: &FakeLlm) -> Desktop {
    let config = dir.join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("gateway.toml"),
        format!(
            "default_model = \"smart\"\n\n[retry]\nmax_retries = 0\n\n\
             [timeouts]\nidle_ms = 600000\nfirst_token_ms = 600000\n\n\
             [[provider]]\nname = \"fake\"\nkind = \"openai-compatible\"\nbase_url = \"{}\"\n\
             context_window = 32768\n\n\
             [alias.smart]\nroutes = [\"fake:m1\"]\n",
            fake.openai_base_url()
        ),
    )
    .unwrap();
    open(dir).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_stopped_mid_answer_stores_the_usage_the_ledger_booked() {
    let fake = FakeLlm::start().await.unwrap();
    let words: Vec<String> = (0..40).map(|i| format!("word{i} ")).collect();
    // The role chunk and five words, then silence until the client goes away.
    fake.set_default(Script::StallAfter {
        events: 6,
        reply: Reply::text(words),
    });
    let dir = tempfile::tempdir().unwrap();
    let desktop = desktop_on(dir.path(), &fake).await;
    let (sink, mut events) = sink();
    let request = ChatSendDto {
        conversation: None,
        text: "Write me a short note about recovery habits".into(),
        replaces: None,
        model: None,
    };
    let started = desktop.chat_send(request, sink).await.unwrap();
    let mut streamed = String::new();
    let mut heard: Vec<UsageDto> = Vec::new();
    while !streamed.contains("word4") {
        match next(&mut events).await {
            ChatEventDto::Text { delta } => streamed.push_str(&delta),
            ChatEventDto::Usage { usage } => heard.push(usage),
            _ => {}
        }
    }
    assert_eq!(
        desktop.chat_cancel(started.turn, None).unwrap(),
        ChatCancelDto::Stopped
    );
    let done = loop {
        match next(&mut events).await {
            ChatEventDto::Usage { usage } => heard.push(usage),
            ChatEventDto::Done { usage, .. } => break usage,
            _ => {}
        }
    };
    let ledger = SqliteLedger::new(desktop.chat_store().await);
    let booked = ledger.summary(&UsageQuery::default()).await.unwrap();
    let booked = booked.first().expect("the cut call was booked");
    assert!(booked.calls == 1 && booked.output_tokens > 0, "{booked:?}");
    let messages = desktop
        .conversation_messages(started.conversation, None)
        .await
        .unwrap();
    let stored = messages[1].usage.clone().expect("the answer has its usage");
    let tokens = |u: &UsageDto| (u64::from(u.input_tokens), u64::from(u.output_tokens), u.estimated);
    let expected = (booked.input_tokens, booked.output_tokens, true);
    assert_eq!(
        tokens(&stored),
        expected,
        "stored with the turn: what the budget counts"
    );
    assert_eq!(tokens(&done), expected, "the done carries it");
    let last = heard.last().expect("usage events while the call streamed");
    assert_eq!(
        (last.call, tokens(last)),
        (1, expected),
        "heard as call 1's usage: {heard:?}"
    );
    assert_eq!(
        (last.context_tokens, last.context_window),
        (stored.input_tokens, Some(32_768)),
        "context used over the configured window"
    );
}
