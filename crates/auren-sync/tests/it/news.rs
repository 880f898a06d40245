//! A device running its loop hears of new data by a long poll: another device's session of the same account,
//! or, on a coach's device, a session of an athlete who granted access, arrives while the loop's timer is an
//! hour away; and on a coach's device, a grant or its revocation.

use crate::support::{Device, TestServer, record_with_signals};
use auren_server::redis::Quota;
use auren_store::Store;
use auren_sync::{CoachAccess, SignIn, SyncClient, SyncConfig, SyncStatus, TokenPlace, TokenVault};
use std::num::NonZeroU32;
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

/// A coach's running device learns of a grant the moment it is given (the athlete's session, recorded
/// before, arrives), and of its revocation the moment it is taken back (the copies go), though its timer is
/// an hour away: its one long poll watches the account's grants beside its athletes' data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coachs_running_device_takes_an_athlete_at_the_grant_and_lets_go_at_the_revocation() {
    const ATHLETE: &str = "swimmer@example.org";
    const COACH: &str = "mentor@example.org";
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let athlete = Device::sign_in(dir.path(), "athlete", &server, ATHLETE, SignIn::Create).await;
    let coach = Device::sign_in(dir.path(), "coach", &server, COACH, SignIn::Create).await;
    record_with_signals(&athlete.store, 1_780_000_000_000, 120).await;
    let pushed = athlete.client.sync_once().await.unwrap();
    assert!(pushed.pushed > 0 && pushed.pending == 0, "{pushed:?}");
    let mut watcher = RunningLoop::start(&coach.store, dir.path(), "coach").await;
    assert!(coach.store.athletes().await.unwrap().is_empty());

    let access = |how| athlete.client.coach_access(COACH, how);
    access(CoachAccess::Grant).await.unwrap();
    let sessions = || coach.store.athlete_sessions(ATHLETE, 10, 0);
    watcher
        .until("the new athlete's session", || async {
            sessions().await.unwrap().len() == 1
        })
        .await;
    assert_eq!(coach.store.athletes().await.unwrap(), [ATHLETE]);

    access(CoachAccess::Revoke).await.unwrap();
    watcher
        .until("the revocation", || async {
            coach.store.athletes().await.unwrap().is_empty()
        })
        .await;
    assert!(
        sessions().await.unwrap().is_empty(),
        "the copies went with the grant"
    );
    watcher.stop().await;
}

/// The requests to the pull route that the server refused as rate-limited, as its metrics count them.
async fn refused_pulls(server: &TestServer) -> u64 {
    let text = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|line| {
            line.starts_with("auren_http_requests_total{")
                && line.contains("route=\"/v1/sync/pull\"")
                && line.contains("status=\"429\"")
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|n| n as u64)
        .sum()
}

/// A long poll the server's rate limit refuses asks again a moment later, so the device still hears of news
/// while its timer is far away. The server here takes one sync request per device every 4 s: the round
/// spends it, the poll right after is refused, and only asking again can bring the grant that follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_the_rate_limit_refused_asks_again() {
    const COACH: &str = "patient@example.org";
    let server = TestServer::start_with(|config| {
        config.quotas.sync = Quota::new(NonZeroU32::MIN, Duration::from_secs(4));
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let coach = Device::sign_in(dir.path(), "coach", &server, COACH, SignIn::Create).await;
    let athlete = Device::sign_in(dir.path(), "athlete", &server, "keen@example.org", SignIn::Create).await;
    // Whether the round's pull was its one request or a second one was refused, the quota is spent now.
    let _ = coach.client.sync_once().await;
    let refused_before = refused_pulls(&server).await;

    let heard = tokio::time::timeout(Duration::from_secs(60), coach.client.news());
    let grant = async {
        let granted = athlete.client.coach_access(COACH, CoachAccess::Grant).await;
        granted.unwrap();
    };
    let (heard, ()) = tokio::join!(heard, grant);
    assert!(
        heard.is_ok(),
        "the device never heard of the grant after its poll was refused"
    );
    assert!(
        refused_pulls(&server).await > refused_before,
        "the poll was never refused, so this tested nothing"
    );
}
