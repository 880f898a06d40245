//! The gateway's speed (issue "Speed"): added latency per call (p50/p99 over 10,000 calls, direct reqwest
//! vs through the gateway, interleaved in one run against the fake server answering at once), added time
//! per streamed chunk, the time from a refused connection to the next route's first byte, and how soon a
//! call to a provider nobody answers for gives up (what the offline answer waits for): a black-holed
//! address at the default connect timeout, then the same provider once its breaker knows.
//!
//! Run: `cargo bench -p auren-gateway --bench gateway` (what `cargo xtask bench gateway` runs).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use auren_fake_llm::{FakeLlm, Reply, Script};
use auren_gateway::{
    ChatRequest, Clock, Gateway, GatewayConfig, MemoryLedger, MemorySecrets, StreamEvent, SystemClock,
    UsageLedger,
};
use futures::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CALLS: usize = 10_000;
const CHUNKS: usize = 1_000;
const KEY: &str = "sk-bench";

fn config(fake: &FakeLlm, refused: &str) -> GatewayConfig {
    let text = format!(
        r#"
max_tokens = 64
[breaker]
# The refused route must be tried on every call (an open breaker would skip it; nobody answering opens it
# at once, so it reopens for no time at all).
failure_threshold = 1000000
open_ms = 0
[[provider]]
name = "local"
kind = "openai-compatible"
base_url = "{base}"
[[provider]]
name = "openai"
kind = "openai"
base_url = "{base}"
[[provider]]
name = "down"
kind = "openai-compatible"
base_url = "{refused}"
[alias.failover]
routes = ["down:llama3.1", "local:llama3.1"]
[budget]
daily_usd = 1000000.0
monthly_usd = 1000000.0
"#,
        base = fake.openai_base_url()
    );
    match GatewayConfig::parse(&text, "bench.toml") {
        Ok(config) => config,
        Err(e) => panic!("bench config: {e}"),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// What a bare client does for the same call: POST the same body, read the SSE body to its end.
async fn direct_call(client: &reqwest::Client, url: &str, body: &serde_json::Value) -> usize {
    let response = client.post(url).json(body).send().await.expect("direct call");
    let mut bytes = response.bytes_stream();
    let mut n = 0;
    while let Some(chunk) = bytes.next().await {
        n += chunk.expect("body").len();
    }
    n
}

async fn gateway_call(gateway: &Gateway, model: &str, request: &ChatRequest) -> usize {
    let mut stream = gateway
        .stream(model, request.clone())
        .await
        .expect("gateway call");
    let mut n = 0;
    while let Some(event) = stream.next().await {
        if let StreamEvent::TextDelta { text } = event.expect("event") {
            n += text.len();
        }
    }
    n
}

async fn bench() {
    let fake = FakeLlm::start().await.expect("fake server");
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("addr"))
    };
    let ledger: Arc<dyn UsageLedger> = Arc::new(MemoryLedger::new());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let secrets = Arc::new(MemorySecrets::new().with("openai", KEY));
    let gateway = Gateway::start(config(&fake, &refused), secrets, ledger, clock)
        .await
        .expect("gateway");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .expect("client");
    let url = format!("{}/chat/completions", fake.openai_base_url());
    let request = ChatRequest::user("How is my HRV today?");
    let body = auren_gateway::providers::openai::request_body("llama3.1", &request, 64, true).expect("body");
    fake.set_default(Script::Reply(Reply::text(["Your ", "HRV ", "is ", "fine."])));

    println!(
        "auren-gateway bench: {CALLS} calls each way, interleaved, fake server on loopback answering at once"
    );
    for (label, model) in [
        ("openai-compatible, unpriced", "local:llama3.1"),
        ("openai, priced + budget", "openai:gpt-4.1"),
    ] {
        for _ in 0..500 {
            direct_call(&client, &url, &body).await;
            gateway_call(&gateway, model, &request).await;
        }
        let mut direct = Vec::with_capacity(CALLS);
        let mut through = Vec::with_capacity(CALLS);
        for i in 0..CALLS {
            // Alternate which goes first so neither gets a systematically warmer connection.
            let order = [i % 2 == 0, i % 2 != 0];
            for direct_first in order {
                let started = Instant::now();
                if direct_first {
                    direct_call(&client, &url, &body).await;
                    direct.push(started.elapsed());
                } else {
                    gateway_call(&gateway, model, &request).await;
                    through.push(started.elapsed());
                }
            }
            if i % 1000 == 999 {
                fake.clear_requests();
            }
        }
        direct.sort();
        through.sort();
        let (d50, d99, g50, g99) = (
            percentile(&direct, 0.5),
            percentile(&direct, 0.99),
            percentile(&through, 0.5),
            percentile(&through, 0.99),
        );
        println!(
            "  {label:<28} direct p50 {:>7.1} µs p99 {:>7.1} µs | gateway p50 {:>7.1} µs p99 {:>7.1} µs | added p50 {:>6.1} µs p99 {:>6.1} µs",
            us(d50),
            us(d99),
            us(g50),
            us(g99),
            us(g50) - us(d50),
            us(g99) - us(d99)
        );
    }

    // Added time per streamed chunk: a 1,000-chunk answer, direct vs gateway, median of 41 runs each.
    let chunks: Vec<String> = (0..CHUNKS).map(|i| format!("w{i} ")).collect();
    fake.set_default(Script::Reply(Reply::text(chunks)));
    let mut direct = Vec::new();
    let mut through = Vec::new();
    for _ in 0..41 {
        let started = Instant::now();
        direct_call(&client, &url, &body).await;
        direct.push(started.elapsed());
        let started = Instant::now();
        gateway_call(&gateway, "local:llama3.1", &request).await;
        through.push(started.elapsed());
    }
    direct.sort();
    through.sort();
    let per_chunk = (us(percentile(&through, 0.5)) - us(percentile(&direct, 0.5))) / CHUNKS as f64;
    println!(
        "  streamed chunks: {CHUNKS}-chunk answer direct {:.0} µs, gateway {:.0} µs (medians): added {per_chunk:.2} µs per chunk",
        us(percentile(&direct, 0.5)),
        us(percentile(&through, 0.5))
    );

    // A refused connection, then the next route's first byte.
    fake.set_default(Script::Reply(Reply::text(["Your ", "HRV ", "is ", "fine."])));
    let mut failover = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let stream = gateway
            .stream("failover", request.clone())
            .await
            .expect("failover answers");
        failover.push(started.elapsed());
        assert_eq!(stream.route().provider, "local");
        drop(stream);
    }
    failover.sort();
    println!(
        "  refused connection → next route's first token: p50 {:.0} µs, p99 {:.0} µs (200 calls)",
        us(percentile(&failover, 0.5)),
        us(percentile(&failover, 0.99))
    );
}

/// A loopback address whose connections never complete (a listener with a backlog of 0 that never accepts,
/// its one queue place taken: Linux drops the SYNs that follow, as a firewall's black hole does), and what
/// holds it so.
fn black_hole() -> (String, impl Sized) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
    let listener = socket.listen(0).expect("listen");
    let addr = listener.local_addr().expect("addr");
    let filler = std::net::TcpStream::connect(addr).expect("the queue place is taken");
    (format!("http://{addr}/v1"), (listener, filler))
}

/// A call to a black-holed provider under the default timeouts, retries and breaker: how long the first
/// call takes to give up (a new gateway each time, so nothing is known of the address), and how long the
/// calls after it take once its breaker knows.
async fn unreachable() {
    let (base, _hole) = black_hole();
    let text =
        format!("[[provider]]\nname = \"hole\"\nkind = \"openai-compatible\"\nbase_url = \"{base}\"\n");
    let config = GatewayConfig::parse(&text, "hole.toml").expect("config");
    let mut cold = Vec::new();
    let mut known = Vec::new();
    for _ in 0..5 {
        let ledger: Arc<dyn UsageLedger> = Arc::new(MemoryLedger::new());
        let gateway = Gateway::start(
            config.clone(),
            Arc::new(MemorySecrets::new()),
            ledger,
            Arc::new(SystemClock),
        )
        .await
        .expect("gateway");
        let request = ChatRequest::user("How is my HRV today?");
        let started = Instant::now();
        gateway
            .stream("hole:m", request.clone())
            .await
            .expect_err("nobody answers");
        cold.push(started.elapsed());
        for _ in 0..200 {
            let started = Instant::now();
            gateway
                .stream("hole:m", request.clone())
                .await
                .expect_err("skipped");
            known.push(started.elapsed());
        }
    }
    cold.sort();
    known.sort();
    println!(
        "  black-holed provider, default timeouts: first call gives up after {:.0}–{:.0} ms (5 new gateways); \
         once known, p50 {:.0} µs, p99 {:.0} µs (1,000 calls)",
        cold[0].as_secs_f64() * 1e3,
        cold[cold.len() - 1].as_secs_f64() * 1e3,
        us(percentile(&known, 0.5)),
        us(percentile(&known, 0.99))
    );
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("auren-gateway bench: run with `cargo bench -p auren-gateway --bench gateway`");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
    runtime.block_on(unreachable());
}
