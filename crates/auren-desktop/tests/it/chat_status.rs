//! The chat's status line and where its numbers link.
//!
//! Which providers are up is what a probe found — a model lookup (`GET …/models/{model}`), which costs
//! nothing, books nothing and is no chat request, cached for a while — or what the gateway's breaker knows,
//! never a guess: a provider nobody asked yet is untested, one whose port is closed is down with the reason,
//! one refusing the key or not knowing the model is down saying so, the scripted fake LLM is up; real turns
//! that failed until the breaker opened say down too. A turn no model answered makes the next probe ask
//! again, and a probe that was under way then is not taken for news.
//!
//! And every grounded number links somewhere: an alert's evidence opens the session the alert fired in
//! (get_alerts reads alerts, not sessions), the very alert whose evidence holds that number.

use std::path::Path;
use std::time::Duration;

use auren_desktop::chat_dto::{ChatEventDto, ChatSendDto, ChatStatusDto, ProviderHealthDto, RoleDto};
use auren_desktop::{ChatSink, Desktop};
use auren_engine::dto::{EvidenceDto, EvidenceValueDto};
use auren_fake_llm::{Catalog, FakeLlm};
use auren_store::{NewSession, SessionKind, Store, UsageFilter};
use tokio::sync::mpsc;

use crate::support::open;

/// Long enough for a turn to end; a turn that hangs fails here, not forever.
const EVENT_WAIT: Duration = Duration::from_secs(60);

/// A loopback address nothing listens on.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/v1")
}

/// A desktop with three providers: `fake` (the scripted fake, routed by the alias `other`), `gone` (a
/// closed port, the default model's only route) and `spare` (no alias routes to it). One failed request
/// opens a breaker, for ten minutes.
async fn desktop_with_three(dir: &Path, fake: &FakeLlm) -> Desktop {
    let config = dir.join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("gateway.toml"),
        format!(
            "default_model = \"smart\"\n\n[retry]\nmax_retries = 0\n\n\
             [breaker]\nfailure_threshold = 1\nopen_ms = 600000\n\n\
             [[provider]]\nname = \"fake\"\nkind = \"openai-compatible\"\nbase_url = \"{fake}\"\n\n\
             [[provider]]\nname = \"gone\"\nkind = \"openai-compatible\"\nbase_url = \"{gone}\"\n\n\
             [[provider]]\nname = \"spare\"\nkind = \"openai-compatible\"\nbase_url = \"{fake}\"\n\n\
             [alias.smart]\nroutes = [\"gone:m1\"]\n\n\
             [alias.other]\nroutes = [\"fake:m1\"]\n",
            fake = fake.openai_base_url(),
            gone = closed_port().await,
        ),
    )
    .unwrap();
    open(dir).await
}

/// The paths of the model lookups the fake received, oldest first.
fn lookups(fake: &FakeLlm) -> Vec<String> {
    fake.model_lookups().into_iter().map(|r| r.path).collect()
}

/// How many model calls the usage ledger of the desktop in `dir` holds.
async fn usage_rows(dir: &Path) -> u64 {
    let store = Store::open(&dir.join("data").join("auren.db")).await.unwrap();
    let days = store.usage_by_day(&UsageFilter::default()).await.unwrap();
    days.iter().map(|d| d.calls).sum()
}

/// Each provider's state: "untested", "up" or "down: <reason>".
fn states(status: &ChatStatusDto) -> Vec<(String, String)> {
    status
        .providers
        .iter()
        .map(|p| {
            let state = match &p.health {
                ProviderHealthDto::Untested => "untested".to_owned(),
                ProviderHealthDto::Up { .. } => "up".to_owned(),
                ProviderHealthDto::Down { reason } => format!("down: {reason}"),
            };
            (p.name.clone(), state)
        })
        .collect()
}

fn state_of<'s>(states: &'s [(String, String)], name: &str) -> &'s str {
    states
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, s)| s.as_str())
        .unwrap_or_else(|| panic!("no provider {name} in {states:?}"))
}

#[tokio::test]
async fn a_provider_is_untested_until_probed_then_up_or_down_with_the_reason() {
    let fake = FakeLlm::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let desktop = desktop_with_three(dir.path(), &fake).await;

    // Never probed: nothing is claimed, and the status asked nobody.
    let before = states(&desktop.chat_status().await.unwrap());
    for name in ["fake", "gone", "spare"] {
        assert_eq!(state_of(&before, name), "untested", "{before:?}");
    }
    assert!(fake.requests().is_empty(), "the status itself sends nothing");

    let probed = states(&desktop.probe_providers().await.unwrap());
    let cases = [
        ("fake", "up"),
        ("gone", "down: nothing answered at the base URL"),
        // No alias routes to it: there is no model to ask for.
        ("spare", "untested"),
    ];
    for (name, expected) in cases {
        let state = state_of(&probed, name);
        assert!(
            state.starts_with(expected),
            "{name}: {state:?}, expected {expected:?}"
        );
    }
    // The chat's own gateway heard it: the address that answered no lookup is skipped by the next turn
    // (its breaker is open), so that turn's offline answer costs no connect attempt.
    assert!(
        state_of(&probed, "gone").ends_with("; the gateway tries it again in 600 s"),
        "{probed:?}"
    );
    assert_eq!(
        lookups(&fake),
        ["/v1/models/m1"],
        "one lookup of fake's model, none of spare"
    );
    // A lookup is no chat request: nothing scripted is taken, nothing is spent or booked.
    assert!(fake.requests().is_empty(), "the probe sent a chat request");
    assert_eq!(
        usage_rows(dir.path()).await,
        0,
        "the probe was booked in the ledger"
    );

    // Within the cache's time a second probe asks nobody, and the plain status shows what was found.
    let again = states(&desktop.probe_providers().await.unwrap());
    assert_eq!(again, probed);
    assert_eq!(fake.model_lookups().len(), 1, "the probe is cached");
    assert_eq!(states(&desktop.chat_status().await.unwrap()), probed);
}

/// A sink that hands every event to the test.
fn sink() -> (ChatSink, mpsc::UnboundedReceiver<ChatEventDto>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Box::new(move |event| tx.send(event).is_ok()), rx)
}

/// Asks `question` in a new conversation and waits for the turn's `done`; returns the conversation and
/// whether the offline analyst answered.
async fn ask(desktop: &Desktop, question: &str) -> (i64, bool) {
    let (sink, mut events) = sink();
    let request = ChatSendDto {
        conversation: None,
        text: question.into(),
        replaces: None,
        model: None,
    };
    let started = desktop.chat_send(request, sink).await.unwrap();
    loop {
        match tokio::time::timeout(EVENT_WAIT, events.recv()).await {
            Ok(Some(ChatEventDto::Done { offline, .. })) => return (started.conversation, offline),
            Ok(Some(_)) => {}
            Ok(None) => panic!("the turn's events ended without `done`"),
            Err(_) => panic!("no event from the turn in {EVENT_WAIT:?}"),
        }
    }
}

#[tokio::test]
async fn a_turn_no_model_answered_makes_the_next_probe_ask_again() {
    let fake = FakeLlm::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let desktop = desktop_with_three(dir.path(), &fake).await;
    desktop.probe_providers().await.unwrap();
    assert_eq!(fake.model_lookups().len(), 1);

    // The default model's only route is the closed port: the offline analyst answers.
    let (_, offline) = ask(&desktop, "Write me a short note about recovery habits").await;
    assert!(offline, "the closed port cannot answer");
    assert!(fake.requests().is_empty(), "the turn never asked fake");
    // What the breaker knows comes first, before any new probe (the probe found the port closed and opened
    // it, so the turn did not try it).
    let status = states(&desktop.chat_status().await.unwrap());
    let gone = state_of(&status, "gone");
    assert!(
        gone.starts_with("down: ") && gone.contains("the gateway tries it again in"),
        "{gone:?}"
    );

    let status = states(&desktop.probe_providers().await.unwrap());
    assert_eq!(
        fake.model_lookups().len(),
        2,
        "the failed turn made the cached probe stale"
    );
    assert_eq!(state_of(&status, "fake"), "up");
    assert!(state_of(&status, "gone").starts_with("down: "), "{status:?}");
}

/// One session an hour ago (`ago_min` minutes before now) with one alert whose evidence is `rmssd`.
async fn session_with_alert(store: &Store, ago_min: i64, rmssd: f64) -> i64 {
    let started = auren_clock::now_unix_ms() - ago_min * 60_000;
    let session = store
        .start_session(&NewSession {
            started_at: started,
            kind: SessionKind::Rest,
            source: "simulator:rest".into(),
            strap_address: None,
            label: None,
        })
        .await
        .unwrap();
    store.end_session(session, started + 600_000).await.unwrap();
    let evidence = EvidenceDto {
        values: vec![EvidenceValueDto {
            name: "rmssd".into(),
            value: rmssd,
        }],
        window_from_ms: 0,
        window_to_ms: 300_000,
        held_since_ms: None,
        steps_at_ms: Vec::new(),
    };
    sqlx::query(
        "INSERT INTO alerts (session_id, at_ms, at, rule, severity, message, evidence) \
         VALUES (?, 300000, ?, 'low_rmssd', 'warning', 'RMSSD is low', ?)",
    )
    .bind(session.0)
    .bind(started + 300_000)
    .bind(serde_json::to_string(&evidence).unwrap())
    .execute(store.pool())
    .await
    .unwrap();
    session.0
}

#[tokio::test]
async fn an_alerts_evidence_links_to_the_session_the_alert_fired_in() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data").join("auren.db"))
        .await
        .unwrap();
    let first = session_with_alert(&store, 120, 18.4).await;
    let second = session_with_alert(&store, 60, 27.9).await;
    drop(store);
    // No gateway.toml: the offline analyst answers from get_alerts.
    let desktop = open(dir.path()).await;
    let (conversation, offline) = ask(&desktop, "Why did the alerts fire?").await;
    assert!(offline);

    let messages = desktop.conversation_messages(conversation, None).await.unwrap();
    let answer = messages.iter().find(|m| m.role == RoleDto::Assistant).unwrap();
    let route_of = |number: &str| {
        answer
            .claims
            .iter()
            .find(|c| c.text.contains(number))
            .unwrap_or_else(|| panic!("no claim of {number} in {:?}: {:?}", answer.text, answer.claims))
            .clone()
    };
    // Shown as whole milliseconds; each links to its own alert's session, not the receipt's first alert.
    for (number, session) in [("18 ms", first), ("28 ms", second)] {
        let claim = route_of(number);
        assert!(claim.grounded, "{claim:?}");
        assert_eq!(claim.route, Some(format!("history/{session}")), "{claim:?}");
    }
}

#[tokio::test]
async fn a_mornings_value_links_to_its_day_on_the_trend_chart() {
    let dir = tempfile::tempdir().unwrap();
    crate::support::seed_baselines(dir.path(), 3.9, 55.0).await;
    let desktop = open(dir.path()).await;
    let (conversation, offline) = ask(&desktop, "How was my readiness yesterday?").await;
    assert!(offline);

    let messages = desktop.conversation_messages(conversation, None).await.unwrap();
    let answer = messages.iter().find(|m| m.role == RoleDto::Assistant).unwrap();
    // Yesterday's seeded lnRMSSD (one day back: 3.9 - 0.05).
    let yesterday = auren_agents::tools::days::format_day(crate::support::today() - 1);
    let claim = answer
        .claims
        .iter()
        .find(|c| c.text.contains("3.85"))
        .unwrap_or_else(|| panic!("no claim of 3.85 in {:?}: {:?}", answer.text, answer.claims));
    assert_eq!(claim.route, Some(format!("history/day/{yesterday}")), "{claim:?}");
}

#[tokio::test]
async fn with_the_budget_spent_a_priced_provider_is_not_probed() {
    let fake = FakeLlm::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    // `paid` is an OpenAI-kind provider (priced by its model, wherever it runs); `free` is an unpriced
    // OpenAI-compatible server. A daily budget of $0 is spent before anything is sent.
    std::fs::write(
        config.join("gateway.toml"),
        format!(
            "default_model = \"smart\"\n\n[budget]\ndaily_usd = {daily}\n\n\
             [[provider]]\nname = \"paid\"\nkind = \"openai\"\nbase_url = \"{fake}\"\n\n\
             [[provider]]\nname = \"free\"\nkind = \"openai-compatible\"\nbase_url = \"{fake}\"\n\n\
             [alias.smart]\nroutes = [\"paid:gpt-4.1\", \"free:m1\"]\n",
            daily = "0.0",
            fake = fake.openai_base_url(),
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
    let desktop = open(dir.path())
        .await
        .with_provider_keys(keys as std::sync::Arc<dyn auren_desktop::ProviderKeys>);

    let status = states(&desktop.probe_providers().await.unwrap());
    assert_eq!(state_of(&status, "free"), "up");
    assert_eq!(state_of(&status, "paid"), "untested");
    assert_eq!(
        lookups(&fake),
        ["/v1/models/m1"],
        "only the free provider was asked"
    );
}

/// A desktop whose one provider `p` (of `kind`, at `base`, key "sk-test" in its keychain) the default
/// alias routes to, for model `m1`.
async fn desktop_with_one(dir: &Path, kind: &str, base: &str) -> Desktop {
    let config = dir.join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("gateway.toml"),
        format!(
            "default_model = \"smart\"\n\n\
             [[provider]]\nname = \"p\"\nkind = \"{kind}\"\nbase_url = \"{base}\"\n\n\
             [alias.smart]\nroutes = [\"p:m1\"]\n"
        ),
    )
    .unwrap();
    let keys = std::sync::Arc::new(auren_desktop::MemoryKeys::default());
    auren_desktop::ProviderKeys::set_key(
        keys.as_ref(),
        "p",
        &auren_gateway::ApiKey::new("sk-test".to_owned()),
    )
    .unwrap();
    open(dir)
        .await
        .with_provider_keys(keys as std::sync::Arc<dyn auren_desktop::ProviderKeys>)
}

#[tokio::test]
async fn the_probe_is_a_free_model_lookup_in_the_providers_own_format() {
    let wrong = "down: the base URL or the model name is wrong";
    let refused = "down: the provider refused the key";
    let other = || Catalog::Only(vec!["other".into()]);
    // (kind, what the lookup answers, the state, the paths asked)
    let cases = [
        ("openai", Catalog::AnyModel, "up", vec!["/v1/models/m1"]),
        ("openai", other(), wrong, vec!["/v1/models/m1"]),
        ("openai", Catalog::Status(401), refused, vec!["/v1/models/m1"]),
        (
            "openai-compatible",
            Catalog::Only(vec!["m1".into()]),
            "up",
            vec!["/v1/models/m1"],
        ),
        // A server without the one-model route is asked for its list, which lacks the model.
        (
            "openai-compatible",
            other(),
            concat!(
                "down: the base URL or the model name is wrong ",
                "(HTTP 404: the server lists no model \"m1\"; it has: other)"
            ),
            vec!["/v1/models/m1", "/v1/models"],
        ),
        ("anthropic", Catalog::AnyModel, "up", vec!["/v1/models/m1"]),
        ("anthropic", other(), wrong, vec!["/v1/models/m1"]),
        ("anthropic", Catalog::Status(403), refused, vec!["/v1/models/m1"]),
    ];
    for (kind, catalog, expected, paths) in cases {
        let fake = FakeLlm::start().await.unwrap();
        fake.set_catalog(catalog.clone());
        let dir = tempfile::tempdir().unwrap();
        let base = match kind {
            "anthropic" => fake.anthropic_base_url(),
            _ => fake.openai_base_url(),
        };
        let desktop = desktop_with_one(dir.path(), kind, &base).await;
        let status = states(&desktop.probe_providers().await.unwrap());
        let case = format!("{kind} answering {catalog:?}");
        let state = state_of(&status, "p");
        assert!(state.starts_with(expected), "{case}: {state:?}");
        assert_eq!(lookups(&fake), paths, "{case}");
        // The key goes as the format wants it: a refused key is the provider's word, not a missing one.
        let key = match kind {
            "anthropic" => ("x-api-key", "sk-test"),
            "openai" => ("authorization", "Bearer sk-test"),
            _ => ("authorization", ""),
        };
        for lookup in fake.model_lookups() {
            assert_eq!(lookup.header(key.0).unwrap_or(""), key.1, "{case}");
        }
        assert!(
            fake.requests().is_empty(),
            "{case}: the probe sent a chat request"
        );
        assert_eq!(usage_rows(dir.path()).await, 0, "{case}: the probe was booked");
    }
}

/// Answers each HTTP request on `listener` 200 `{}`: the first only once `release` fires (after telling
/// `accepted` it arrived). Counts the answers in `answered`.
async fn held_server(
    listener: tokio::net::TcpListener,
    accepted: tokio::sync::oneshot::Sender<()>,
    release: tokio::sync::oneshot::Receiver<()>,
    answered: tokio::sync::watch::Sender<usize>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let answer = |mut socket: tokio::net::TcpStream| {
        let answered = answered.clone();
        async move {
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buffer).await.unwrap();
                assert!(n > 0, "the client hung up before its request ended");
                request.extend_from_slice(&buffer[..n]);
            }
            let response = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\
                            connection: close\r\n\r\n{}";
            socket.write_all(response.as_bytes()).await.unwrap();
            answered.send_modify(|n| *n += 1);
        }
    };
    let (first, _) = listener.accept().await.unwrap();
    accepted.send(()).unwrap();
    release.await.unwrap();
    answer(first).await;
    loop {
        let (next, _) = listener.accept().await.unwrap();
        answer(next).await;
    }
}

#[tokio::test]
async fn a_probe_under_way_when_a_turn_fails_is_not_taken_for_news() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let (accepted_tx, accepted) = tokio::sync::oneshot::channel();
    let (release, release_rx) = tokio::sync::oneshot::channel();
    let (answered_tx, mut answered) = tokio::sync::watch::channel(0usize);
    let server = tokio::spawn(held_server(listener, accepted_tx, release_rx, answered_tx));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("gateway.toml"),
        format!(
            "default_model = \"smart\"\n\n[retry]\nmax_retries = 0\n\n\
             [[provider]]\nname = \"held\"\nkind = \"openai-compatible\"\nbase_url = \"{base}\"\n\n\
             [[provider]]\nname = \"gone\"\nkind = \"openai-compatible\"\nbase_url = \"{gone}\"\n\n\
             [alias.smart]\nroutes = [\"gone:m1\"]\n\n[alias.other]\nroutes = [\"held:m1\"]\n",
            gone = closed_port().await,
        ),
    )
    .unwrap();
    let desktop = open(dir.path()).await;

    // The probe of `held` is answered "up" only after a turn failed while it was under way.
    let probe = async { states(&desktop.probe_providers().await.unwrap()) };
    let failing_turn = async {
        accepted.await.unwrap();
        let (_, offline) = ask(&desktop, "Write me a short note about recovery habits").await;
        assert!(offline, "the closed port cannot answer");
        release.send(()).unwrap();
    };
    let (status, ()) = tokio::join!(probe, failing_turn);
    assert_eq!(*answered.borrow(), 1);
    assert_eq!(
        state_of(&status, "held"),
        "untested",
        "an answer begun before the failure was recorded as fresh"
    );

    // So the next probe asks again.
    let status = states(&desktop.probe_providers().await.unwrap());
    answered.wait_for(|n| *n == 2).await.unwrap();
    assert_eq!(state_of(&status, "held"), "up");
    server.abort();
}

/// A stored answer whose two bare "52"s are RMSSD and resting HR, grounded by one trend receipt holding a
/// resting HR of 52 on 28 Nov and an RMSSD of 52 on 30 Nov: each claim links the day of its own metric's
/// value (the route re-matched the first value that rounds to 52 and sent RMSSD to 28 Nov) and says which
/// "52" of the answer it is.
#[tokio::test]
async fn a_claim_links_the_day_of_its_own_metrics_value() {
    use auren_agents::{Receipt, ReceiptId, ReceiptValue, Source, Unit};
    use auren_store::conversations::{ClaimRow, Grounding, NewMessage, Role};

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data").join("auren.db"))
        .await
        .unwrap();
    let value = |label: &str, day: &str, unit: Unit| ReceiptValue {
        label: label.into(),
        value: 52.0,
        unit,
        day: Some(day.into()),
    };
    let receipt = Receipt {
        id: ReceiptId("r-trend".into()),
        tool: "get_trend".into(),
        computed: "trend".into(),
        method: "test".into(),
        sources: ["2026-11-28", "2026-11-30"]
            .map(|date| Source::Day { date: date.into() })
            .into(),
        values: vec![
            value("resting_hr_bpm on 2026-11-28", "2026-11-28", Unit::Bpm),
            value("rmssd_ms on 2026-11-30", "2026-11-30", Unit::Ms),
        ],
    };
    let conversations = store.conversations();
    conversations
        .save_receipt("r-trend", &serde_json::to_string(&receipt).unwrap(), 0)
        .await
        .unwrap();
    let text = "Your RMSSD was 52 and your resting HR 52.";
    let conversation = conversations.create("52", 0).await.unwrap();
    let message = conversations
        .append_message(
            conversation,
            &NewMessage {
                parent: None,
                role: Role::Assistant,
                specialist: Some("coach".into()),
                model: None,
                text: text.into(),
                usage: None,
                offline: false,
                created_at: 0,
            },
        )
        .await
        .unwrap();
    let rows: Vec<ClaimRow> = auren_agents::grounding::ground(text, &[receipt])
        .into_iter()
        .map(|c| ClaimRow {
            text: c.text,
            value: c.value,
            unit: serde_json::to_value(c.unit).unwrap().as_str().unwrap().to_owned(),
            grounding: Grounding::Grounded {
                receipt: c.receipt.unwrap().0,
            },
        })
        .collect();
    conversations.add_claims(message, &rows).await.unwrap();
    drop(store);

    let desktop = open(dir.path()).await;
    let messages = desktop.conversation_messages(conversation.0, None).await.unwrap();
    let claims: Vec<(&str, u32, Option<&str>)> = messages[0]
        .claims
        .iter()
        .map(|c| (c.text.as_str(), c.occurrence, c.route.as_deref()))
        .collect();
    assert_eq!(
        claims,
        [
            ("52", 0, Some("history/day/2026-11-30")),
            ("52", 1, Some("history/day/2026-11-28")),
        ]
    );
}
