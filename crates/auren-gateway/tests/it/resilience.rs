//! Failover order, retries and Retry-After, breakers, timeouts, broken and malformed streams, rate limits.

use crate::support::{drain, models_asked, rig, rig_with, status, text_of};
use auren_fake_llm::{Reply, Script};
use auren_gateway::breaker::BreakerState;
use auren_gateway::{AttemptFailure, ChatRequest, GatewayError, StreamEvent};
use std::time::{Duration, Instant};

#[tokio::test]
async fn fails_over_in_order_and_lists_every_attempt() {
    let rig = rig().await;
    rig.fake.script("claude-sonnet-4-5", [status(529)]);
    rig.fake.script("gpt-4.1", [status(401)]);
    rig.fake
        .script("llama3.1", [Script::Reply(Reply::text(["local ", "answer"]))]);
    let stream = rig.ask_streaming("smart").await.expect("the third route answers");
    assert_eq!(stream.route().to_string(), "local:llama3.1");
    let failed: Vec<String> = stream.failed_attempts().iter().map(ToString::to_string).collect();
    assert_eq!(
        failed,
        [
            "anthropic:claude-sonnet-4-5 (try 1): HTTP 529: Overloaded",
            "openai:gpt-4.1 (try 1): HTTP 401: Incorrect API key provided.",
        ]
    );
    assert_eq!(
        stream.collect_response().await.expect("answer").text,
        "local answer"
    );
    assert_eq!(
        models_asked(&rig.fake),
        ["claude-sonnet-4-5", "gpt-4.1", "llama3.1"]
    );
}

#[tokio::test]
async fn all_failed_names_each_route_and_why() {
    let rig = rig().await;
    rig.fake.script("claude-sonnet-4-5", [status(400)]);
    rig.fake.script("gpt-4.1", [Script::MalformedJson]);
    rig.fake.script("llama3.1", [status(503)]);
    let error = rig.ask_streaming("smart").await.expect_err("all fail");
    let GatewayError::AllProvidersFailed { model, attempts } = &error else {
        panic!("{error}")
    };
    assert_eq!(model, "smart");
    let kinds: Vec<&str> = attempts.iter().map(|a| a.failure.kind()).collect();
    assert_eq!(kinds, ["http_status", "malformed", "http_status"]);
    let text = error.to_string();
    assert!(
        text.starts_with(
            "every route for \"smart\" failed:\n  - anthropic:claude-sonnet-4-5 (try 1): HTTP 400"
        ),
        "{text}"
    );
    assert!(
        text.contains("openai:gpt-4.1 (try 1): the provider sent malformed data"),
        "{text}"
    );
    assert!(text.contains("local:llama3.1 (try 1): HTTP 503"), "{text}");
}

#[tokio::test]
async fn refused_connection_fails_over_to_the_next_route() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let rig = rig_with(|c| {
        c.providers[1].base_url = format!("http://{closed}");
    })
    .await;
    let response = rig.ask("smart").await.expect("openai answers");
    assert_eq!(response.provider, "openai");
    assert_eq!(models_asked(&rig.fake), ["gpt-4.1"]);
}

#[tokio::test]
async fn a_refused_connection_keeps_the_io_error_as_its_cause() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let rig = rig_with(|c| c.providers[1].base_url = format!("http://{closed}")).await;
    let error = rig
        .ask("anthropic:claude-sonnet-4-5")
        .await
        .expect_err("nobody listens");
    let GatewayError::AllProvidersFailed { attempts, .. } = &error else {
        panic!("{error}")
    };
    let failure = &attempts[0].failure;
    assert!(matches!(failure, AttemptFailure::Refused(_)), "{failure}");
    let mut cause = std::error::Error::source(failure);
    let mut kinds = Vec::new();
    while let Some(error) = cause {
        kinds.extend(error.downcast_ref::<std::io::Error>().map(std::io::Error::kind));
        cause = error.source();
    }
    assert!(
        kinds.contains(&std::io::ErrorKind::ConnectionRefused),
        "{kinds:?} {failure}"
    );
    // The text still names the refusal, for a person reading the list of attempts.
    assert!(
        failure.to_string().to_lowercase().contains("connection refused"),
        "{failure}"
    );
}

#[tokio::test]
async fn transient_errors_are_retried_but_client_errors_are_not() {
    let rig = rig_with(|c| c.retry.max_retries = 2).await;
    rig.fake.script(
        "claude-sonnet-4-5",
        [
            status(500),
            status(503),
            Script::Reply(Reply::text(["third time"])),
        ],
    );
    let response = rig.ask("anthropic:claude-sonnet-4-5").await.expect("answer");
    assert_eq!(response.text, "third time");
    assert_eq!(models_asked(&rig.fake).len(), 3);

    rig.fake.script("gpt-4.1", [status(401)]);
    let error = rig.ask("openai:gpt-4.1").await.expect_err("401");
    let GatewayError::AllProvidersFailed { attempts, .. } = error else {
        panic!("expected AllProvidersFailed")
    };
    assert_eq!(attempts.len(), 1, "a 401 is not retried");
}

#[tokio::test]
async fn retry_after_is_honoured_and_a_long_one_fails_over_at_once() {
    let rig = rig_with(|c| c.retry.max_retries = 1).await;
    rig.fake.script(
        "claude-sonnet-4-5",
        [
            Script::Status {
                status: 429,
                retry_after: Some("1".into()),
            },
            Script::Reply(Reply::text(["after waiting"])),
        ],
    );
    let started = Instant::now();
    let response = rig.ask("anthropic:claude-sonnet-4-5").await.expect("answer");
    assert_eq!(response.text, "after waiting");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited the Retry-After second"
    );

    // Longer than max_retry_after (2 s): the next route instead of a stall.
    rig.fake.script(
        "claude-sonnet-4-5",
        [Script::Status {
            status: 429,
            retry_after: Some("120".into()),
        }],
    );
    let stream = rig.ask_streaming("smart").await.expect("openai answers");
    assert_eq!(stream.route().provider, "openai");
    assert_eq!(
        stream.failed_attempts()[0].failure.retry_after(),
        Some(Duration::from_secs(120)),
        "the attempt keeps the server's Retry-After"
    );
}

#[tokio::test]
async fn no_retry_or_failover_once_a_token_reached_the_caller() {
    let rig = rig_with(|c| c.retry.max_retries = 2).await;
    // message_start, content_block_start, ping, "Hello", " from" — then the connection breaks.
    rig.fake.script(
        "claude-sonnet-4-5",
        [Script::ResetAfter {
            events: 5,
            reply: Reply::text(["Hello", " from", " the fake."]),
        }],
    );
    let (events, error) = drain(&rig.gateway, "smart", ChatRequest::user("hi")).await;
    assert_eq!(text_of(&events), "Hello from");
    let Some(GatewayError::StreamInterrupted { route, failure }) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(route.to_string(), "anthropic:claude-sonnet-4-5");
    assert!(matches!(failure, AttemptFailure::Broken(_)), "{failure}");
    assert!(
        error
            .map(|e| e.to_string())
            .unwrap_or_default()
            .starts_with("the answer from anthropic:claude-sonnet-4-5 broke off after it had started")
    );
    assert_eq!(
        models_asked(&rig.fake),
        ["claude-sonnet-4-5"],
        "neither retried nor failed over"
    );
    assert!(!events.iter().any(|e| matches!(e, StreamEvent::Finish { .. })));
    assert_eq!(
        rig.ledger.records().len(),
        1,
        "the broken call is still accounted"
    );

    // Broken before any token (only message_start went out): retried on the same route.
    rig.fake.script(
        "claude-sonnet-4-5",
        [
            Script::ResetAfter {
                events: 1,
                reply: Reply::text(["x"]),
            },
            Script::Reply(Reply::text(["ok"])),
        ],
    );
    let response = rig.ask("smart").await.expect("retried");
    assert_eq!(
        (response.provider.as_str(), response.text.as_str()),
        ("anthropic", "ok")
    );
}

#[tokio::test]
async fn first_token_and_idle_timeouts() {
    let rig = rig_with(|c| {
        c.timeouts.first_token = Duration::from_millis(300);
        c.timeouts.idle = Duration::from_millis(300);
    })
    .await;
    rig.fake
        .script("claude-sonnet-4-5", [Script::StallBeforeFirstToken]);
    let stream = rig.ask_streaming("smart").await.expect("openai answers");
    assert_eq!(
        stream.failed_attempts()[0].failure,
        AttemptFailure::FirstTokenTimeout(Duration::from_millis(300))
    );
    assert_eq!(stream.route().provider, "openai");
    drop(stream);

    rig.fake.script(
        "gpt-4.1",
        [Script::StallAfter {
            events: 2,
            reply: Reply::text(["first", " second"]),
        }],
    );
    let (events, error) = drain(&rig.gateway, "openai:gpt-4.1", ChatRequest::user("hi")).await;
    assert_eq!(text_of(&events), "first");
    let Some(GatewayError::StreamInterrupted { failure, .. }) = error else {
        panic!("{error:?}")
    };
    assert_eq!(failure, AttemptFailure::IdleTimeout(Duration::from_millis(300)));
}

#[tokio::test]
async fn in_stream_provider_errors_before_content_fail_over() {
    let rig = rig().await;
    rig.fake.script(
        "claude-sonnet-4-5",
        [Script::StreamError {
            events: 1,
            kind: "overloaded_error".into(),
            message: "Overloaded".into(),
            reply: Reply::text(["x"]),
        }],
    );
    let stream = rig.ask_streaming("smart").await.expect("openai answers");
    assert_eq!(
        stream.failed_attempts()[0].failure,
        AttemptFailure::StreamError {
            kind: "overloaded_error".into(),
            message: "Overloaded".into()
        }
    );
}

#[tokio::test]
async fn breaker_opens_is_skipped_probes_half_open_and_closes() {
    let rig = rig_with(|c| c.breaker.failure_threshold = 2).await;
    let breaker = rig.gateway.breaker("anthropic", "claude-sonnet-4-5");
    rig.fake.script("claude-sonnet-4-5", [status(500), status(500)]);
    for _ in 0..2 {
        let answer = rig.ask("smart").await.expect("openai answers");
        assert_eq!(answer.provider, "openai");
    }
    let now = rig.gateway_now();
    let until = now.plus(Duration::from_secs(30));
    assert_eq!(breaker.state(now), BreakerState::Open { until });

    // Open: the route is skipped without a request.
    let stream = rig.ask_streaming("smart").await.expect("openai answers");
    assert_eq!(
        stream.failed_attempts()[0].failure,
        AttemptFailure::BreakerOpen(until)
    );
    drop(stream);
    assert_eq!(
        models_asked(&rig.fake),
        [
            "claude-sonnet-4-5",
            "gpt-4.1",
            "claude-sonnet-4-5",
            "gpt-4.1",
            "gpt-4.1"
        ]
    );

    // After the pause: half-open; a failed probe opens it again.
    rig.clock.advance(Duration::from_secs(30));
    assert_eq!(
        breaker.state(rig.gateway_now()),
        BreakerState::HalfOpen { probing: false }
    );
    rig.fake.script("claude-sonnet-4-5", [status(503)]);
    rig.ask("smart").await.expect("openai answers");
    assert!(matches!(
        breaker.state(rig.gateway_now()),
        BreakerState::Open { .. }
    ));

    // A successful probe closes it.
    rig.clock.advance(Duration::from_secs(30));
    let answer = rig.ask("smart").await.expect("anthropic answers");
    assert_eq!(answer.provider, "anthropic");
    assert_eq!(breaker.state(rig.gateway_now()), BreakerState::Closed);
}

#[tokio::test]
async fn rate_limit_skips_the_provider_until_the_bucket_refills() {
    let rig = rig_with(|c| c.providers[2].requests_per_minute = Some(1)).await;
    rig.ask("local:llama3.1").await.expect("first call passes");
    let error = rig.ask("local:llama3.1").await.expect_err("limited");
    let GatewayError::AllProvidersFailed { attempts, .. } = error else {
        panic!("expected AllProvidersFailed")
    };
    assert_eq!(
        attempts[0].failure,
        AttemptFailure::RateLimited(Duration::from_secs(60))
    );
    rig.clock.advance(Duration::from_secs(60));
    rig.ask("local:llama3.1").await.expect("refilled");
    assert_eq!(models_asked(&rig.fake).len(), 2);
}

impl crate::support::Rig {
    fn gateway_now(&self) -> auren_gateway::UnixMillis {
        use auren_gateway::Clock;
        self.clock.now()
    }
}
