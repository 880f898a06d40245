//! A device running its loop hears of new data by a long poll: another device's session of the same account,
//! or, on a coach's device, a session of an athlete who granted access, arrives while the loop's timer is an
//! hour away.

use crate::support::{Device, TestServer, record_with_signals};
use auren_store::Store;
use auren_sync::{CoachAccess, SignIn, SyncClient, SyncConfig, SyncStatus, TokenPlace, TokenVault};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A device's sync loop with its timer an hour away: within these tests only a long poll can bring news.
struct RunningLoop {
    status: watch::Receiver<SyncStatus>,
    stop: CancellationToken,
    running: JoinHandle<()>,
}

impl RunningLoop {
    /// Starts the loop of the device signed in as `name` and waits for its first round (nothing to pull yet).
    async fn start(store: &Store, dir: &Path, name: &str) -> Self {
        let config = SyncConfig {
            interval: Duration::from_secs(3600),
            ..SyncConfig::default()
        };
        let vault = TokenVault::new(TokenPlace::File(dir.join(format!("{name}.tokens"))));
        let client = Arc::new(SyncClient::open(store, vault, config).await.unwrap());
        let mut status = client.status();
        let stop = CancellationToken::new();
        let running = tokio::spawn({
            let stop = stop.clone();
            async move { client.run(stop).await }
        });
        drop(
            status
                .wait_for(|s| matches!(s, SyncStatus::Synced { .. }))
                .await
                .unwrap(),
        );
        Self {
            status,
            stop,
            running,
        }
    }

    /// Waits for a round ending in `Synced` after which `arrived` holds. (The bound only keeps a broken build
    /// from hanging: without the long poll the next round is an hour away.)
    async fn until<F: std::future::Future<Output = bool>>(&mut self, what: &str, arrived: impl Fn() -> F) {
        let waited = tokio::time::timeout(Duration::from_secs(120), async {
            loop {
                self.status.changed().await.unwrap();
                let now = self.status.borrow_and_update().clone();
                if matches!(now, SyncStatus::Synced { .. }) && arrived().await {
                    return;
                }
            }
        })
        .await;
        assert!(
            waited.is_ok(),
            "the loop did not take {what} before its timer; status {:?}",
            *self.status.borrow()
        );
    }

    async fn stop(self) {
        self.stop.cancel();
        self.running.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_device_takes_another_devices_session_without_waiting_for_its_timer() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "ada@example.org", SignIn::Create).await;
    let b = Device::sign_in(dir.path(), "b", &server, "ada@example.org", SignIn::Login).await;
    let mut watcher = RunningLoop::start(&b.store, dir.path(), "b").await;
    assert!(b.store.sessions(10, 0).await.unwrap().is_empty());

    let recorded = record_with_signals(&a.store, 1_780_000_000_000, 120).await;
    let pushed = a.client.sync_once().await.unwrap();
    assert!(pushed.pushed > 0 && pushed.pending == 0, "{pushed:?}");

    watcher
        .until("A's session", || async {
            !b.store.sessions(10, 0).await.unwrap().is_empty()
        })
        .await;
    let on_b = b.store.sessions(10, 0).await.unwrap();
    assert_eq!(on_b.len(), 1);
    let (da, db) = (
        a.store.session_detail(recorded).await.unwrap().unwrap(),
        b.store.session_detail(on_b[0].id).await.unwrap().unwrap(),
    );
    assert_eq!(db.beats, da.beats, "the same beats, bit for bit");
    watcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coachs_running_device_takes_an_athletes_session_without_waiting_for_its_timer() {
    const ATHLETE: &str = "runner@example.org";
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let athlete = Device::sign_in(dir.path(), "athlete", &server, ATHLETE, SignIn::Create).await;
    let coach = Device::sign_in(
        dir.path(),
        "coach",
        &server,
        "trainer@example.org",
        SignIn::Create,
    )
    .await;
    athlete
        .client
        .coach_access("trainer@example.org", CoachAccess::Grant)
        .await
        .unwrap();
    // The coach's first round learns of the grant (nothing of the athlete's to pull yet); the loop's polls
    // then include the athlete's account.
    let mut watcher = RunningLoop::start(&coach.store, dir.path(), "coach").await;
    assert_eq!(coach.store.athletes().await.unwrap(), [ATHLETE]);
    assert!(
        coach
            .store
            .athlete_sessions(ATHLETE, 10, 0)
            .await
            .unwrap()
            .is_empty()
    );

    let recorded = record_with_signals(&athlete.store, 1_780_000_000_000, 120).await;
    let pushed = athlete.client.sync_once().await.unwrap();
    assert!(pushed.pushed > 0 && pushed.pending == 0, "{pushed:?}");

    watcher
        .until("the athlete's session", || async {
            !coach
                .store
                .athlete_sessions(ATHLETE, 10, 0)
                .await
                .unwrap()
                .is_empty()
        })
        .await;
    let theirs = coach.store.athlete_sessions(ATHLETE, 10, 0).await.unwrap();
    assert_eq!(theirs.len(), 1);
    let (sent, copy) = (
        athlete.store.session_detail(recorded).await.unwrap().unwrap(),
        coach.store.session_detail(theirs[0].id).await.unwrap().unwrap(),
    );
    assert_eq!(copy.beats, sent.beats, "the same beats, bit for bit");
    assert!(
        coach.store.sessions(10, 0).await.unwrap().is_empty(),
        "kept as the athlete's, not among the coach's own"
    );
    watcher.stop().await;
}
