//! A device running its loop hears of another device's push by a long poll: the session arrives while the
//! loop's timer is an hour away.

use crate::support::{Device, TestServer, record_with_signals};
use auren_sync::{SignIn, SyncClient, SyncConfig, SyncStatus, TokenPlace, TokenVault};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_device_takes_another_devices_session_without_waiting_for_its_timer() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "ada@example.org", SignIn::Create).await;
    let b = Device::sign_in(dir.path(), "b", &server, "ada@example.org", SignIn::Login).await;
    // B's loop with its timer an hour away: within this test only a long poll can bring A's session.
    let config = SyncConfig {
        interval: Duration::from_secs(3600),
        ..SyncConfig::default()
    };
    let vault = TokenVault::new(TokenPlace::File(dir.path().join("b.tokens")));
    let watcher = Arc::new(SyncClient::open(&b.store, vault, config).await.unwrap());
    let mut status = watcher.status();
    let stop = CancellationToken::new();
    let running = tokio::spawn({
        let (watcher, stop) = (watcher.clone(), stop.clone());
        async move { watcher.run(stop).await }
    });
    // B's first round has run (nothing to pull yet) before A records.
    drop(
        status
            .wait_for(|s| matches!(s, SyncStatus::Synced { .. }))
            .await
            .unwrap(),
    );
    assert!(b.store.sessions(10, 0).await.unwrap().is_empty());

    let recorded = record_with_signals(&a.store, 1_780_000_000_000, 120).await;
    let pushed = a.client.sync_once().await.unwrap();
    assert!(pushed.pushed > 0 && pushed.pending == 0, "{pushed:?}");

    // Every round of B's loop ends in a status; the one after A's push finds the session. (The bound only
    // keeps a broken build from hanging: without the long poll the next round is an hour away.)
    let arrived = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            status.changed().await.unwrap();
            let now = status.borrow_and_update().clone();
            if matches!(now, SyncStatus::Synced { .. }) && !b.store.sessions(10, 0).await.unwrap().is_empty()
            {
                return;
            }
        }
    })
    .await;
    assert!(
        arrived.is_ok(),
        "B's loop did not take A's session before its timer; status {:?}",
        *status.borrow()
    );
    let on_b = b.store.sessions(10, 0).await.unwrap();
    assert_eq!(on_b.len(), 1);
    let (da, db) = (
        a.store.session_detail(recorded).await.unwrap().unwrap(),
        b.store.session_detail(on_b[0].id).await.unwrap().unwrap(),
    );
    assert_eq!(db.beats, da.beats, "the same beats, bit for bit");

    stop.cancel();
    running.await.unwrap();
}
