//! A budget refusal's "switch to a local model": the refused question asked again on the local alias for
//! that turn alone. The turn runs on the local server, and `gateway.toml` — the saved default model — is
//! left exactly as it was, so the next question asks the default model again.

use std::path::Path;
use std::time::Duration;

use auren_desktop::chat_dto::{ChatEventDto, ChatSendDto, GuardDto, RoleDto};
use auren_desktop::{ChatSink, Desktop, ErrorCode, IpcError};
use auren_fake_llm::FakeLlm;
use tokio::sync::mpsc;

use crate::support::open;

const EVENT_WAIT: Duration = Duration::from_secs(60);
const QUESTION: &str = "Write me a short note about recovery habits";

/// A desktop whose default alias `smart` goes to a priced OpenAI-kind provider (`paid`, at `paid`) with a
/// daily budget of $0, and whose alias `local` goes to an unpriced server on this machine (`free`, at
/// `free`). Returns the desktop and the path of its `gateway.toml`.
async fn desktop_refusing_paid(dir: &Path, paid: &FakeLlm, free: &FakeLlm) -> (Desktop, std::path::PathBuf) {
    let config = dir.join("config");
    std::fs::create_dir_all(&config).unwrap();
    let path = config.join("gateway.toml");
    std::fs::write(
        &path,
        format!(
            "default_model = \"smart\"\n\n[budget]\ndaily_usd = 0.0\n\n[retry]\nmax_retries = 0\n\n\
             [[provider]]\nname = \"paid\"\nkind = \"openai\"\nbase_url = \"{paid}\"\n\n\
             [[provider]]\nname = \"free\"\nkind = \"openai-compatible\"\nbase_url = \"{free}\"\n\n\
             [alias.smart]\nroutes = [\"paid:gpt-4.1\"]\n\n\
             [alias.local]\nroutes = [\"free:m1\"]\n",
            paid = paid.openai_base_url(),
            free = free.openai_base_url(),
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
    let desktop = open(dir)
        .await
        .with_provider_keys(keys as std::sync::Arc<dyn auren_desktop::ProviderKeys>);
    (desktop, path)
}

fn sink() -> (ChatSink, mpsc::UnboundedReceiver<ChatEventDto>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Box::new(move |event| tx.send(event).is_ok()), rx)
}

/// Sends `request` and returns its conversation and the events up to its `done`.
async fn turn(desktop: &Desktop, request: ChatSendDto) -> (i64, Vec<ChatEventDto>) {
    let (sink, mut events) = sink();
    let started = desktop.chat_send(request, sink).await.unwrap();
    let mut heard = Vec::new();
    loop {
        match tokio::time::timeout(EVENT_WAIT, events.recv()).await {
            Ok(Some(event @ ChatEventDto::Done { .. })) => {
                heard.push(event);
                return (started.conversation, heard);
            }
            Ok(Some(event)) => heard.push(event),
            Ok(None) => panic!("the turn's events ended without `done`: {heard:?}"),
            Err(_) => panic!("no event from the turn in {EVENT_WAIT:?}"),
        }
    }
}

fn refused(events: &[ChatEventDto]) -> bool {
    events.iter().any(|e| {
        matches!(
            e,
            ChatEventDto::Guard {
                guard: GuardDto::Budget,
                ..
            }
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_to_the_local_model_asks_it_for_that_turn_and_leaves_gateway_toml_as_it_was() {
    let (paid, free) = (FakeLlm::start().await.unwrap(), FakeLlm::start().await.unwrap());
    let dir = tempfile::tempdir().unwrap();
    let (desktop, path) = desktop_refusing_paid(dir.path(), &paid, &free).await;
    let saved = std::fs::read(&path).unwrap();
    // Both servers are on loopback, but only the unpriced one is a local model to switch to: `paid` is a
    // priced model behind a local address (a proxy), which the refusal must not offer as free.
    let status = desktop.chat_status().await.unwrap();
    let local: Vec<(&str, bool)> = status
        .providers
        .iter()
        .map(|p| (p.name.as_str(), p.local))
        .collect();
    assert_eq!(local, [("paid", false), ("free", true)]);
    let ask = |conversation, replaces, model| ChatSendDto {
        conversation,
        text: QUESTION.into(),
        replaces,
        model,
    };

    // The default model's budget is spent: refused, nothing sent anywhere.
    let (conversation, events) = turn(&desktop, ask(None, None, None)).await;
    assert!(refused(&events), "{events:?}");
    assert_eq!((paid.requests().len(), free.requests().len()), (0, 0));
    let question = desktop.conversation_messages(conversation, None).await.unwrap()[0].id;

    // The way on: the refused question again, on the local alias, for this turn.
    let (_, events) = turn(
        &desktop,
        ask(Some(conversation), Some(question), Some("local".into())),
    )
    .await;
    assert!(!refused(&events), "the local model is free: {events:?}");
    assert_eq!(free.requests().len(), 1, "the local server answered the turn");
    assert_eq!(paid.requests().len(), 0);
    let stored = desktop.conversation_messages(conversation, None).await.unwrap();
    let answer = stored.last().unwrap();
    assert_eq!(
        (answer.role, answer.offline, answer.model.as_deref()),
        (RoleDto::Assistant, false, Some("free:m1")),
        "stored as the local model's answer, beside the refused one"
    );
    assert_eq!(answer.parent_id, Some(stored[0].id));

    // Nothing was saved: the file is byte for byte what it was, the status still names the default model,
    // and the next question asks it (and is refused again) instead of the local one.
    assert_eq!(std::fs::read(&path).unwrap(), saved, "gateway.toml was rewritten");
    assert_eq!(desktop.chat_status().await.unwrap().model, "smart");
    let (_, events) = turn(&desktop, ask(Some(conversation), None, None)).await;
    assert!(
        refused(&events),
        "the next turn asks the default model: {events:?}"
    );
    assert_eq!(free.requests().len(), 1);
}

#[tokio::test]
async fn a_turn_on_an_alias_gateway_toml_does_not_name_is_refused_before_anything_starts() {
    let (paid, free) = (FakeLlm::start().await.unwrap(), FakeLlm::start().await.unwrap());
    let dir = tempfile::tempdir().unwrap();
    let (desktop, _) = desktop_refusing_paid(dir.path(), &paid, &free).await;
    let (sink, _events) = sink();
    let request = ChatSendDto {
        conversation: None,
        text: QUESTION.into(),
        replaces: None,
        model: Some("nowhere".into()),
    };
    let error = IpcError::from(desktop.chat_send(request, sink).await.unwrap_err());
    assert_eq!(error.code, ErrorCode::InvalidInput, "{error:?}");
    assert!(error.message.contains("nowhere"), "{error:?}");
    assert!(
        desktop.conversations().await.unwrap().is_empty(),
        "no conversation was started"
    );
}
