//! A provider nobody answers for: a black-holed address is given up after one connect timeout (no retry)
//! and its breaker opens at once, so the next call is not sent there; a free lookup nobody answers opens it
//! too, one that is answered closes it. What keeps the offline answer within a second of the question.

use crate::support::{rig_with, status};
use auren_fake_llm::{Reply, Script};
use auren_gateway::breaker::{BreakerState, OpenedBy};
use auren_gateway::{AttemptFailure, Clock, GatewayError, Reach, Route};
use std::net::SocketAddr;
use std::time::Duration;

/// A loopback address whose connections never complete: a listener with a backlog of 0 that never accepts,
/// its one queue place taken by `filler`; Linux drops the SYNs that follow, as a firewall's black hole does.
struct BlackHole {
    addr: SocketAddr,
    _listener: tokio::net::TcpListener,
    _filler: std::net::TcpStream,
}

fn black_hole() -> BlackHole {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
    let listener = socket.listen(0).expect("listen");
    let addr = listener.local_addr().expect("addr");
    let filler = std::net::TcpStream::connect(addr).expect("the one queue place is taken");
    BlackHole {
        addr,
        _listener: listener,
        _filler: filler,
    }
}

/// A loopback address that accepts connections and never answers (a hung server).
async fn silent() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (addr, task)
}

fn closed_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
}

fn attempts(error: GatewayError) -> Vec<(u32, AttemptFailure)> {
    let GatewayError::AllProvidersFailed { attempts, .. } = error else {
        panic!("expected AllProvidersFailed, got {error}")
    };
    attempts.into_iter().map(|a| (a.try_number, a.failure)).collect()
}

#[tokio::test]
async fn a_black_holed_provider_is_tried_once_then_skipped() {
    let hole = black_hole();
    let rig = rig_with(|c| {
        c.providers[1].base_url = format!("http://{}", hole.addr);
        c.timeouts.connect = Duration::from_millis(200);
        // Retries allowed: a connection that never came is still not tried again.
        c.retry.max_retries = 2;
    })
    .await;
    let first = attempts(
        rig.ask("anthropic:claude-sonnet-4-5")
            .await
            .expect_err("no answer"),
    );
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(matches!(first[0], (1, AttemptFailure::Connect(_))), "{first:?}");
    let breaker = rig.gateway.breaker("anthropic", "claude-sonnet-4-5");
    let until = rig.clock.now().plus(Duration::from_secs(30));
    assert_eq!(breaker.state(rig.clock.now()), BreakerState::Open { until });
    assert_eq!(breaker.opened_by(), Some(OpenedBy::Unreachable));

    // The next call is not sent to the address: the breaker refuses it before any connection.
    let second = attempts(rig.ask("anthropic:claude-sonnet-4-5").await.expect_err("skipped"));
    assert_eq!(second, [(1, AttemptFailure::BreakerOpen(until))]);
    // An alias goes on to its next route at once.
    let answer = rig.ask("smart").await.expect("openai answers");
    assert_eq!(answer.provider, "openai");
}

#[tokio::test]
async fn a_free_lookup_tells_the_breaker_whether_anyone_answered() {
    let (hung, _task) = silent().await;
    let refused = closed_port();
    // (where the provider is, what the lookup fails with, whether the route's breaker is open after it)
    type Expect = fn(&AttemptFailure) -> bool;
    let cases: [(&str, String, Expect); 2] = [
        ("refused", format!("http://{refused}"), |f| {
            matches!(f, AttemptFailure::Refused(_))
        }),
        ("accepts, never answers", format!("http://{hung}"), |f| {
            matches!(f, AttemptFailure::FirstTokenTimeout(_))
        }),
    ];
    for (name, base_url, expected) in cases {
        let rig = rig_with(|c| {
            c.providers[2].base_url = base_url;
            c.timeouts.first_token = Duration::from_millis(200);
        })
        .await;
        let route = Route::parse("local:llama3.1").unwrap();
        let failure = rig.gateway.check(&route).await.expect_err(name);
        assert!(expected(&failure), "{name}: {failure}");
        let breaker = rig.gateway.breaker("local", "llama3.1");
        assert_eq!(breaker.opened_by(), Some(OpenedBy::Unreachable), "{name}");
        let skipped = attempts(rig.ask("local:llama3.1").await.expect_err(name));
        assert!(
            matches!(skipped[..], [(1, AttemptFailure::BreakerOpen(_))]),
            "{name}: {skipped:?}"
        );
    }
}

#[tokio::test]
async fn an_answered_lookup_closes_a_breaker_nobody_answering_opened_but_not_one_failures_did() {
    let rig = rig_with(|c| c.breaker.failure_threshold = 1).await;
    let route = Route::parse("local:llama3.1").unwrap();
    let breaker = rig.gateway.breaker("local", "llama3.1");
    // Told by a lookup through another gateway (the desktop's status): nobody answered.
    rig.gateway.record_reach(&route, Reach::NoAnswer);
    assert!(matches!(
        attempts(rig.ask("local:llama3.1").await.expect_err("skipped"))[..],
        [(1, AttemptFailure::BreakerOpen(_))]
    ));
    assert!(
        rig.fake.requests().is_empty(),
        "a skipped call reached the server"
    );
    // The server answers a lookup again (a 404 is an answer): the route is tried.
    rig.fake
        .set_catalog(auren_fake_llm::Catalog::Only(vec!["qwen3".into()]));
    rig.gateway.check(&route).await.expect_err("not listed");
    assert_eq!(breaker.state(rig.clock.now()), BreakerState::Closed);
    rig.fake
        .script("llama3.1", [Script::Reply(Reply::text(["back"]))]);
    let answer = rig.ask("local:llama3.1").await.expect("the server answers");
    assert_eq!(answer.provider, "local");

    // Opened by a failed call, an answered lookup leaves it open: completions may still fail.
    rig.fake.script("llama3.1", [status(500)]);
    rig.ask("local:llama3.1").await.expect_err("500");
    assert_eq!(breaker.opened_by(), Some(OpenedBy::Failures));
    rig.gateway.check(&route).await.expect_err("not listed");
    assert!(matches!(
        breaker.state(rig.clock.now()),
        BreakerState::Open { .. }
    ));
}
