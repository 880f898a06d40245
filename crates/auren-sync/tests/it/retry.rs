//! The retry loop: backoff bounds with jitter, and an unreachable server shown as offline with the next try
//! scheduled (not a wedge, not a crash), then synced again once it answers.

use crate::support::{Device, TestServer};
use auren_sync::{SignIn, SyncConfig, SyncStatus, backoff};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[test]
fn backoff_doubles_up_to_the_cap_with_full_jitter() {
    let config = SyncConfig {
        backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(2),
        ..SyncConfig::default()
    };
    let cases = [(1, 100), (2, 200), (3, 400), (5, 1600), (6, 2000), (40, 2000)];
    for (failures, cap_ms) in cases {
        let delays: Vec<Duration> = (0..200).map(|_| backoff(&config, failures)).collect();
        assert!(
            delays.iter().all(|d| *d <= Duration::from_millis(cap_ms)),
            "failure {failures}"
        );
        // Jitter: not all the same, and some in the lower half.
        assert!(
            delays.iter().any(|d| *d != delays[0]),
            "failure {failures}: no jitter"
        );
        assert!(
            delays.iter().any(|d| *d < Duration::from_millis(cap_ms / 2)),
            "failure {failures}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_offline_with_a_retry_scheduled() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "off@example.org", SignIn::Create).await;
    assert!(a.client.sync_once().await.is_ok());
    drop(server);
    // The listener closes once the server task sees the cancellation; poll for that, not sleep.
    let mut error = None;
    for _ in 0..200 {
        match a.client.sync_once().await {
            Err(e) => {
                error = Some(e);
                break;
            }
            Ok(_) => tokio::task::yield_now().await,
        }
    }
    let error = error.expect("the stopped server must stop answering");
    assert!(error.is_offline(), "{error}");

    let shutdown = CancellationToken::new();
    let mut status = a.client.status();
    let run = {
        let shutdown = shutdown.clone();
        async move { a.client.run(shutdown).await }
    };
    let watch = async {
        loop {
            status.changed().await.unwrap();
            if let SyncStatus::Offline { retry_in, .. } = status.borrow_and_update().clone() {
                assert!(retry_in <= SyncConfig::default().backoff);
                shutdown.cancel();
                return;
            }
        }
    };
    tokio::join!(run, watch);
}
