//! The Sync pane's façade against the real `auren-server`, started in-process on the real PostgreSQL
//! (127.0.0.1:5432, a fresh database per test): sign in (account creation, password, device code), a
//! recording sent by "Sync now" and fetched on a second desktop, the status chip's updates, devices, coach
//! access, the errors a person sees (wrong password, taken email, unreachable server, a bad address), the
//! loop resumed when the app starts again, and signing out forgetting the tokens.

use auren_desktop::sync_dto::{DeviceCodeStateDto, SignInDto, SignInModeDto, SyncStateDto, SyncStatusDto};
use auren_desktop::{Desktop, ErrorCode, SyncSink, TokenChoice};
use auren_server::auth::password::HashCost;
use auren_server::server::{Server, ServerConfig};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::settings::reference;
use crate::support::open;

pub const PASSWORD: &str = "correct horse battery";

/// The server on a database of its own; stops when dropped.
pub struct TestServer {
    pub base: String,
    shutdown: CancellationToken,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestServer {
    pub async fn start() -> Self {
        let name = format!("auren_desktop_sync_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/postgres")
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL must run on 127.0.0.1:5432: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        let mut config = ServerConfig::new(url, "127.0.0.1:0".parse().unwrap());
        config.hash_cost = HashCost::Minimal;
        let shutdown = CancellationToken::new();
        let server = Server::start(config, shutdown.clone()).await.unwrap();
        let base = format!("http://{}", server.local_addr().unwrap());
        tokio::spawn(server.serve(shutdown.clone()));
        Self { base, shutdown }
    }
}

/// A desktop over `dir` that keeps its tokens in the file next to its database.
pub async fn desktop(dir: &Path) -> Desktop {
    let desktop = open(dir).await;
    desktop.keep_sync_tokens(TokenChoice::File);
    desktop
}

pub fn form(mode: SignInModeDto, server: &str, email: &str, password: &str, device: &str) -> SignInDto {
    SignInDto {
        mode,
        server: server.to_owned(),
        email: email.to_owned(),
        password: password.to_owned(),
        device_name: device.to_owned(),
    }
}

fn tokens_file(dir: &Path) -> std::path::PathBuf {
    dir.join("data").join("auren.db.tokens")
}

/// Every status the chip was sent, and a signal per arrival.
struct Chip {
    seen: Arc<Mutex<Vec<SyncStatusDto>>>,
    arrived: watch::Receiver<usize>,
}

impl Chip {
    fn sink() -> (SyncSink, Self) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let keep = seen.clone();
        let (count, arrived) = watch::channel(0);
        let sink: SyncSink = Box::new(move |s| {
            keep.lock().unwrap().push(s);
            count.send_modify(|n| *n += 1);
            true
        });
        (sink, Self { seen, arrived })
    }

    /// Waits (woken by each status sent, never by a timer) until one satisfies `check`, for at most
    /// `within`.
    async fn until(&mut self, within: Duration, check: impl Fn(&SyncStatusDto) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if self.seen.lock().unwrap().iter().any(&check) {
                return true;
            }
            if !matches!(
                tokio::time::timeout_at(deadline, self.arrived.changed()).await,
                Ok(Ok(()))
            ) {
                return self.seen.lock().unwrap().iter().any(&check);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_syncs_to_a_second_desktop_and_signing_out_forgets_the_tokens() {
    let server = TestServer::start().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = desktop(dir_a.path()).await;

    let before = a.sync_status().await.unwrap();
    assert_eq!(
        (before.state, before.label.as_str(), before.account.is_none()),
        (SyncStateDto::SignedOut, "Not syncing", true)
    );
    let (sink, mut chip) = Chip::sink();
    a.watch_sync(sink).await.unwrap();

    let signed = a
        .sync_sign_in(form(
            SignInModeDto::CreateAccount,
            &server.base,
            "ada@example.org",
            PASSWORD,
            "laptop",
        ))
        .await
        .unwrap();
    let account = signed.account.clone().unwrap();
    assert_eq!(
        (account.email.as_str(), account.server.as_str()),
        ("ada@example.org", server.base.as_str())
    );
    assert!(account.tokens_in.unwrap().contains("auren.db.tokens"));
    assert!(
        tokens_file(dir_a.path()).exists(),
        "the tokens are in the 0600 file"
    );
    let stored =
        std::fs::read_to_string(dir_a.path().join("config").join("settings.json")).unwrap_or_default();
    assert!(!stored.contains("token"), "no token in the settings: {stored}");

    let imported = a.import_recording(&reference("nsr_5min.rr")).await.unwrap();
    assert!(
        a.sync_status().await.unwrap().pending_rows > 0,
        "the import waits in the outbox"
    );

    // The loop may have sent some rows already: "Sync now" waits for its round, then sends the rest.
    let report = a.sync_now().await.unwrap();
    assert_eq!(report.parked, 0, "{report:?}");
    assert_eq!(
        (
            report.status.state,
            report.status.pending_rows,
            report.status.label.as_str()
        ),
        (SyncStateDto::Synced, 0, "Synced")
    );
    assert!(report.summary.ends_with("synced."), "{}", report.summary);
    assert!(report.status.last_synced.is_some());
    assert!(
        chip.until(Duration::from_secs(30), |s| s.state == SyncStateDto::Synced)
            .await,
        "the chip was told: {:?}",
        chip.seen.lock().unwrap()
    );

    let b = desktop(dir_b.path()).await;
    b.sync_sign_in(form(
        SignInModeDto::Login,
        &server.base,
        " ada@example.org ",
        PASSWORD,
        "desk",
    ))
    .await
    .unwrap();
    // The loop's first round or this one fetched it; either way it is there once "Sync now" returns.
    let fetched = b.sync_now().await.unwrap();
    assert_eq!(fetched.status.state, SyncStateDto::Synced, "{fetched:?}");
    let sessions = b.list_sessions(10, 0).await.unwrap();
    assert_eq!(sessions.len(), 1, "the recording arrived");
    let (on_a, on_b) = (
        a.session_detail(imported.session_id).await.unwrap().detail,
        b.session_detail(sessions[0].summary.id).await.unwrap().detail,
    );
    assert_eq!(on_b.summary.beat_count, on_a.summary.beat_count);

    let devices = a.sync_devices().await.unwrap();
    let mut names: Vec<(&str, bool)> = devices.iter().map(|d| (d.name.as_str(), d.current)).collect();
    names.sort_unstable();
    assert_eq!(names, [("desk", false), ("laptop", true)]);

    let out = a.sync_sign_out().await.unwrap();
    assert_eq!(
        (out.state, out.account.is_none()),
        (SyncStateDto::SignedOut, true)
    );
    assert!(!tokens_file(dir_a.path()).exists(), "the tokens are gone");
    let error = a.sync_now().await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::SyncSignedOut, "{error}");
    assert_eq!(a.list_sessions(10, 0).await.unwrap().len(), 1, "the data stays");
    a.shut_down().await;
    b.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_failures_give_a_code_and_a_sentence() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let first = desktop(dir.path()).await;
    first
        .sync_sign_in(form(
            SignInModeDto::CreateAccount,
            &server.base,
            "bo@example.org",
            PASSWORD,
            "one",
        ))
        .await
        .unwrap();

    let other = tempfile::tempdir().unwrap();
    let d = desktop(other.path()).await;
    let cases = [
        (
            form(
                SignInModeDto::Login,
                &server.base,
                "bo@example.org",
                "wrong password",
                "two",
            ),
            ErrorCode::SyncBadCredentials,
            "the email or password is wrong",
        ),
        (
            form(
                SignInModeDto::CreateAccount,
                &server.base,
                "bo@example.org",
                PASSWORD,
                "two",
            ),
            ErrorCode::SyncEmailTaken,
            "already exists",
        ),
        (
            form(
                SignInModeDto::Login,
                "http://127.0.0.1:1",
                "bo@example.org",
                PASSWORD,
                "two",
            ),
            ErrorCode::SyncUnreachable,
            "cannot reach the sync server",
        ),
        (
            form(
                SignInModeDto::Login,
                "sync.example.org",
                "bo@example.org",
                PASSWORD,
                "two",
            ),
            ErrorCode::InvalidInput,
            "must start with http:// or https://",
        ),
        (
            form(SignInModeDto::Login, &server.base, "bo@example.org", "", "two"),
            ErrorCode::InvalidInput,
            "a password is needed",
        ),
    ];
    for (form, code, words) in cases {
        let error = d.sync_sign_in(form.clone()).await.unwrap_err();
        assert_eq!(error.code(), code, "{form:?}: {error}");
        assert!(error.to_string().contains(words), "{form:?}: {error}");
        assert!(!error.to_string().contains(PASSWORD), "the password never shows");
    }
    let status = d.sync_status().await.unwrap();
    assert_eq!((status.state, status.account), (SyncStateDto::SignedOut, None));
    assert!(!tokens_file(other.path()).exists());

    // The server goes away: "Sync now" says so, and the chip turns offline with the reason and the next try.
    let (sink, mut chip) = Chip::sink();
    first.watch_sync(sink).await.unwrap();
    drop(server);
    let error = first.sync_now().await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::SyncUnreachable, "{error}");
    assert!(
        chip.until(Duration::from_secs(30), |s| s.state == SyncStateDto::Offline
            && s.label == "Offline"
            && s.reason.as_deref().is_some_and(|r| r.contains("cannot reach"))
            && s.retry_in_s.is_some())
            .await,
        "{:?}",
        chip.seen.lock().unwrap()
    );
    first.shut_down().await;
    d.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_added_by_code_resumes_at_start_and_a_coach_is_granted_and_revoked() {
    let server = TestServer::start().await;
    let (dir_a, dir_b, dir_c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let a = desktop(dir_a.path()).await;
    a.sync_sign_in(form(
        SignInModeDto::CreateAccount,
        &server.base,
        "cy@example.org",
        PASSWORD,
        "phone",
    ))
    .await
    .unwrap();

    let b = desktop(dir_b.path()).await;
    let code = b
        .sync_device_code_start(server.base.clone(), "tablet".into())
        .await
        .unwrap();
    assert!(
        !code.user_code.is_empty() && code.poll_every_ms >= 500,
        "{code:?}"
    );
    assert_eq!(
        b.sync_device_code_poll().await.unwrap(),
        DeviceCodeStateDto::Waiting
    );
    a.sync_approve_device(code.user_code.clone()).await.unwrap();
    assert_eq!(
        b.sync_device_code_poll().await.unwrap(),
        DeviceCodeStateDto::SignedIn
    );
    let on_b = b.sync_status().await.unwrap();
    assert_eq!(on_b.account.unwrap().email, "cy@example.org");
    assert_eq!(
        b.sync_device_code_poll().await.unwrap_err().code(),
        ErrorCode::InvalidInput,
        "the code was used"
    );

    // The app starts again: the loop resumes from the stored account and tokens, and the chip hears it.
    b.shut_down().await;
    drop(b);
    let b = open(dir_b.path()).await;
    let (sink, mut chip) = Chip::sink();
    b.watch_sync(sink).await.unwrap();
    assert!(
        chip.until(Duration::from_secs(30), |s| s.state == SyncStateDto::Synced)
            .await,
        "resumed: {:?}",
        chip.seen.lock().unwrap()
    );
    assert_eq!(a.sync_devices().await.unwrap().len(), 2);

    let c = desktop(dir_c.path()).await;
    c.sync_sign_in(form(
        SignInModeDto::CreateAccount,
        &server.base,
        "coach@example.org",
        PASSWORD,
        "club",
    ))
    .await
    .unwrap();
    let granted = a.sync_grant_coach("coach@example.org".into()).await.unwrap();
    let coaches: Vec<&str> = granted.coaches.iter().map(|g| g.email.as_str()).collect();
    assert_eq!(coaches, ["coach@example.org"]);
    let athletes = c.sync_coach_access().await.unwrap().athletes;
    let athletes: Vec<&str> = athletes.iter().map(|g| g.email.as_str()).collect();
    assert_eq!(athletes, ["cy@example.org"]);
    let revoked = a.sync_revoke_coach("coach@example.org".into()).await.unwrap();
    assert!(revoked.coaches.is_empty());
    assert!(c.sync_coach_access().await.unwrap().athletes.is_empty());
    let unknown = a.sync_grant_coach("nobody@example.org".into()).await.unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::SyncRefused, "{unknown}");
    for d in [a, b, c] {
        d.shut_down().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_removed_from_another_desktop_is_signed_out_at_its_next_round_and_keeps_its_data() {
    let server = TestServer::start().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (desktop(dir_a.path()).await, desktop(dir_b.path()).await);
    a.sync_sign_in(form(
        SignInModeDto::CreateAccount,
        &server.base,
        "grace@example.org",
        PASSWORD,
        "laptop",
    ))
    .await
    .unwrap();
    b.sync_sign_in(form(
        SignInModeDto::Login,
        &server.base,
        "grace@example.org",
        PASSWORD,
        "old desk",
    ))
    .await
    .unwrap();
    b.import_recording(&reference("nsr_5min.rr")).await.unwrap();
    assert_eq!(b.sync_now().await.unwrap().status.state, SyncStateDto::Synced);

    let devices = a.sync_devices().await.unwrap();
    let here = devices.iter().find(|d| d.current).unwrap().device_id.clone();
    let desk = devices.iter().find(|d| !d.current).unwrap().device_id.clone();
    let refused = a.sync_remove_device(here).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::InvalidInput, "{refused}");
    let left = a.sync_remove_device(desk).await.unwrap();
    let names: Vec<&str> = left.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["laptop"]);

    let (sink, mut chip) = Chip::sink();
    b.watch_sync(sink).await.unwrap();
    let error = b.sync_now().await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::SyncSignedOut, "{error}");
    assert!(
        chip.until(Duration::from_secs(30), |s| s.state == SyncStateDto::SignedOut)
            .await,
        "the removed desktop's chip says signed out: {:?}",
        chip.seen.lock().unwrap()
    );
    assert!(
        !tokens_file(dir_b.path()).exists(),
        "its dead tokens are forgotten"
    );
    assert_eq!(
        b.list_sessions(10, 0).await.unwrap().len(),
        1,
        "its data stays on it"
    );
    let fetched = a.sync_now().await.unwrap();
    assert_eq!(fetched.status.state, SyncStateDto::Synced);
    assert_eq!(
        a.list_sessions(10, 0).await.unwrap().len(),
        1,
        "and in the account"
    );
    a.shut_down().await;
    b.shut_down().await;
}

/// Sixty days of the person's mornings on the database in `dir`, written as another device records them
/// (each with its outbox row): a drink every third evening (a tagged rest session) and the next morning's
/// lnRMSSD 0.3 lower; and this morning's session with a CNS-fatigue alert when `fatigue`.
async fn recorded_elsewhere(dir: &Path, today: i64) {
    use auren_clock::MS_PER_DAY;
    use auren_store::{NewSession, SessionKind, Store};
    let store = Store::open(&dir.join("data").join("auren.db")).await.unwrap();
    let session = |day: i64, hour: i64, kind| NewSession {
        started_at: day * MS_PER_DAY + hour * 3_600_000,
        kind,
        source: "simulator:rest".into(),
        strap_address: None,
        label: None,
    };
    for (i, day) in (today - 59..=today).enumerate() {
        // A fixed wobble instead of noise: the test reads the same data every run.
        let wobble = 0.1 * ((i as f64) * 1.7).sin();
        let after_drink = i % 3 == 1;
        let ln = 4.1 + wobble - if after_drink { 0.3 } else { 0.0 };
        store
            .add_morning_reading(day, ln, Some(52.0), None)
            .await
            .unwrap();
        if i % 3 == 0 && day < today {
            let evening = store
                .start_session(&session(day, 21, SessionKind::Rest))
                .await
                .unwrap();
            let w = store.session_writer(evening).await.unwrap();
            w.tag(60_000.0, "alcohol");
            w.finish().await.unwrap();
            store
                .end_session(evening, day * MS_PER_DAY + 21 * 3_600_000 + 120_000)
                .await
                .unwrap();
        }
    }
    let run = store
        .start_session(&session(today, 0, SessionKind::Exercise))
        .await
        .unwrap();
    let w = store.session_writer(run).await.unwrap();
    let evidence = serde_json::json!({
        "values": [{"name": "rmssd_60s", "value": 10.2}, {"name": "hr", "value": 151.0}],
        "window_from_ms": 600_000, "window_to_ms": 660_000, "held_since_ms": 630_000, "steps_at_ms": []
    });
    w.alert(
        660_000.0,
        "cns_fatigue",
        "warning",
        "RMSSD stayed low at a moderate heart rate",
        &evidence.to_string(),
    );
    w.finish().await.unwrap();
    store
        .end_session(run, today * MS_PER_DAY + 1_800_000)
        .await
        .unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_sync_round_pulls_retests_hypotheses_and_earns_one_proactive_message() {
    use auren_agents::Toolbox;
    let server = TestServer::start().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = desktop(dir_a.path()).await;
    let create = form(
        SignInModeDto::CreateAccount,
        &server.base,
        "ada@example.org",
        PASSWORD,
        "laptop",
    );
    a.sync_sign_in(create).await.unwrap();
    let b = desktop(dir_b.path()).await;
    let login = form(
        SignInModeDto::Login,
        &server.base,
        "ada@example.org",
        PASSWORD,
        "desk",
    );
    b.sync_sign_in(login).await.unwrap();
    b.sync_now().await.unwrap();

    // B holds the person's hypothesis; with no mornings yet it waits for data.
    let store_b = auren_store::Store::open(&dir_b.path().join("data").join("auren.db"))
        .await
        .unwrap();
    let toolbox = Toolbox::new(store_b.clone(), Arc::new(auren_gateway::SystemClock));
    let args = serde_json::json!({"statement": "alcohol lowers my next-morning HRV",
                                  "metric": "ln_rmssd", "exposure_tag": "alcohol"});
    let proposed = toolbox.call("propose_hypothesis", args).await.unwrap();
    assert_eq!(proposed.content["status"], "open", "{}", proposed.content);
    let id = auren_store::memory::HypothesisId(proposed.content["id"].as_i64().unwrap());
    let (sink, seen) = proactive_collector();
    b.watch_proactive(sink).await.unwrap();

    // The mornings, the drinks and this morning's fatigued run come from A.
    let today = auren_clock::now_unix_ms().div_euclid(auren_clock::MS_PER_DAY);
    recorded_elsewhere(dir_a.path(), today).await;
    assert_eq!(a.sync_now().await.unwrap().parked, 0);
    // "Sync now" answers after the round's refresh: what it stored is there. The round that pulled it is this
    // one, or the loop's, woken by its long poll at A's push (both hold the same round lock).
    b.sync_now().await.unwrap();
    assert!(
        !b.list_sessions(10, 0).await.unwrap().is_empty(),
        "A's run is on B"
    );
    // A second pull (a setting A changed) refreshes again over the same alert: still one message. Whichever
    // round pulled it (this one or B's timer, which holds the same round lock), its refresh has run once
    // "Sync now" answers with the setting in effect.
    a.set_memory_apply(auren_desktop::settings::MemoryApplyDto::Immediate)
        .await
        .unwrap();
    assert_eq!(a.sync_now().await.unwrap().parked, 0);
    b.sync_now().await.unwrap();
    assert_eq!(
        b.get_memory_apply(),
        auren_desktop::settings::MemoryApplyDto::Immediate,
        "round 2 pulled A's setting"
    );

    let row = store_b.hypotheses().get(id).await.unwrap();
    assert_eq!(row.status.as_str(), "supported", "{:?}", row.evidence_json);
    let keys: Vec<String> = sqlx::query_scalar("SELECT trigger_key FROM proactive_messages")
        .fetch_all(store_b.pool())
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("alert:"), "{keys:?}");
    let list = b.conversations().await.unwrap();
    assert_eq!(list.len(), 1, "one conversation, the proactive one");
    let mut told = seen.clone();
    let announced = tokio::time::timeout(Duration::from_secs(10), told.wait_for(|m| !m.is_empty()))
        .await
        .expect("the window is told of the message")
        .unwrap()
        .clone();
    assert_eq!(
        announced[0].trigger,
        auren_desktop::ProactiveTriggerDto::CnsFatigue
    );
    store_b.close().await;
    a.shut_down().await;
    b.shut_down().await;
}

/// A proactive-message sink whose receiver sees every message it was sent so far.
fn proactive_collector() -> (
    auren_desktop::ProactiveSink,
    watch::Receiver<Vec<auren_desktop::ProactiveMessageDto>>,
) {
    let (tx, rx) = watch::channel(Vec::new());
    let sink: auren_desktop::ProactiveSink = Box::new(move |m| {
        tx.send_modify(|seen| seen.push(m));
        true
    });
    (sink, rx)
}

/// "Sync now" on a desktop with an AI provider: the proactive message of a pulled CNS-fatigue alert is the
/// specialist's text through the desktop's gateway, not the offline template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_with_a_provider_has_the_specialist_write_a_pulled_alerts_message() {
    use auren_fake_llm::{FakeLlm, Reply, Script};
    const WRITTEN: &str =
        "Your run this morning held RMSSD low at a moderate heart rate. Did it feel harder than planned?";
    let server = TestServer::start().await;
    let fake = FakeLlm::start().await.unwrap();
    fake.set_default(Script::Reply(Reply::text([WRITTEN])));
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    with_a_fake_provider(dir_b.path(), &fake);
    let a = desktop(dir_a.path()).await;
    let create = form(
        SignInModeDto::CreateAccount,
        &server.base,
        "ada@example.org",
        PASSWORD,
        "laptop",
    );
    a.sync_sign_in(create).await.unwrap();
    let b = desktop(dir_b.path()).await;
    let login = form(
        SignInModeDto::Login,
        &server.base,
        "ada@example.org",
        PASSWORD,
        "desk",
    );
    b.sync_sign_in(login).await.unwrap();
    let (sink, seen) = proactive_collector();
    b.watch_proactive(sink).await.unwrap();

    let today = auren_clock::now_unix_ms().div_euclid(auren_clock::MS_PER_DAY);
    recorded_elsewhere(dir_a.path(), today).await;
    assert_eq!(a.sync_now().await.unwrap().parked, 0);
    b.sync_now().await.unwrap();

    // A model-written message is posted in the background: the window is told when it is stored.
    let mut told = seen.clone();
    let announced = tokio::time::timeout(Duration::from_secs(30), told.wait_for(|m| !m.is_empty()))
        .await
        .expect("the window is told of the message")
        .unwrap()
        .clone();
    let store_b = auren_store::Store::open(&dir_b.path().join("data").join("auren.db"))
        .await
        .unwrap();
    let messages = store_b
        .conversations()
        .messages(auren_store::ConversationId(announced[0].conversation))
        .await
        .unwrap();
    assert!(messages[0].text.starts_with(WRITTEN), "{}", messages[0].text);
    assert!(
        !messages[0].offline && messages[0].model.is_some(),
        "{:?}",
        messages[0]
    );
    store_b.close().await;
    a.shut_down().await;
    b.shut_down().await;
}

/// Writes a `gateway.toml` in `dir`'s config folder whose default model is `fake`'s.
fn with_a_fake_provider(dir: &Path, fake: &auren_fake_llm::FakeLlm) {
    let config = dir.join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("gateway.toml"),
        format!(
            "default_model = \"smart\"\n\n[retry]\nmax_retries = 0\n\n\
             [[provider]]\nname = \"fake\"\nkind = \"openai-compatible\"\nbase_url = \"{}\"\n\n\
             [alias.smart]\nroutes = [\"fake:m1\"]\n",
            fake.openai_base_url()
        ),
    )
    .unwrap();
}

/// The timer's round — here the loop's first, which starts at once when B signs in; nothing calls "Sync
/// now" on B — writes a pulled alert's message with the desktop's coach, as "Sync now" does: the specialist's
/// text, not the offline template.
#[tokio::test]
async fn the_timer_round_with_a_provider_has_the_specialist_write_a_pulled_alerts_message() {
    use auren_fake_llm::{FakeLlm, Reply, Script};
    const WRITTEN: &str =
        "Your run held RMSSD low at a moderate heart rate. Did it feel harder than planned?";
    let server = TestServer::start().await;
    let fake = FakeLlm::start().await.unwrap();
    fake.set_default(Script::Reply(Reply::text([WRITTEN])));
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    with_a_fake_provider(dir_b.path(), &fake);
    let a = desktop(dir_a.path()).await;
    let create = form(
        SignInModeDto::CreateAccount,
        &server.base,
        "ada@example.org",
        PASSWORD,
        "laptop",
    );
    a.sync_sign_in(create).await.unwrap();
    let today = auren_clock::now_unix_ms().div_euclid(auren_clock::MS_PER_DAY);
    recorded_elsewhere(dir_a.path(), today).await;
    assert_eq!(a.sync_now().await.unwrap().parked, 0);

    let b = desktop(dir_b.path()).await;
    let (sink, seen) = proactive_collector();
    b.watch_proactive(sink).await.unwrap();
    let login = form(
        SignInModeDto::Login,
        &server.base,
        "ada@example.org",
        PASSWORD,
        "desk",
    );
    b.sync_sign_in(login).await.unwrap();

    let mut told = seen.clone();
    let announced = tokio::time::timeout(Duration::from_secs(30), told.wait_for(|m| !m.is_empty()))
        .await
        .expect("the window is told of the message")
        .unwrap()
        .clone();
    let store_b = auren_store::Store::open(&dir_b.path().join("data").join("auren.db"))
        .await
        .unwrap();
    let messages = store_b
        .conversations()
        .messages(auren_store::ConversationId(announced[0].conversation))
        .await
        .unwrap();
    assert!(messages[0].text.starts_with(WRITTEN), "{}", messages[0].text);
    assert!(
        !messages[0].offline && messages[0].model.is_some(),
        "{:?}",
        messages[0]
    );
    store_b.close().await;
    a.shut_down().await;
    b.shut_down().await;
}

/// The milestone memories (their texts) in the database in `dir`.
async fn milestones_in(dir: &Path) -> Vec<String> {
    let store = auren_store::Store::open(&dir.join("data").join("auren.db"))
        .await
        .unwrap();
    let texts = sqlx::query_scalar("SELECT text FROM memories WHERE kind = 'milestone'")
        .fetch_all(store.pool())
        .await
        .unwrap();
    store.close().await;
    texts
}

/// A milestone made on A reaches B; the person forgets it on A; B pulls the tombstone and refreshes after
/// that pull. No device makes it again (B keeps no receipt of it: receipts are local).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_milestone_forgotten_on_one_desktop_does_not_come_back_through_another() {
    use auren_agents::Coach;
    use auren_agents::refresh::{Arrival, after_new_data};
    let server = TestServer::start().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = desktop(dir_a.path()).await;
    let create = form(
        SignInModeDto::CreateAccount,
        &server.base,
        "ada@example.org",
        PASSWORD,
        "laptop",
    );
    a.sync_sign_in(create).await.unwrap();
    let b = desktop(dir_b.path()).await;
    let login = form(
        SignInModeDto::Login,
        &server.base,
        "ada@example.org",
        PASSWORD,
        "desk",
    );
    b.sync_sign_in(login).await.unwrap();

    // Thirty mornings in a row stored on A, whose refresh makes the milestone.
    let today = auren_clock::now_unix_ms().div_euclid(auren_clock::MS_PER_DAY);
    let store_a = auren_store::Store::open(&dir_a.path().join("data").join("auren.db"))
        .await
        .unwrap();
    for day in today - 29..=today {
        store_a
            .add_morning_reading(day, 4.0, Some(55.0), None)
            .await
            .unwrap();
    }
    let days = (today - 29..=today).collect();
    let made = after_new_data(&Coach::offline(store_a.clone()), &Arrival::Mornings { days })
        .await
        .unwrap();
    assert_eq!(made.milestones.len(), 1, "{made:?}");
    store_a.close().await;
    a.sync_now().await.unwrap();
    b.sync_now().await.unwrap();
    assert_eq!(milestones_in(dir_b.path()).await.len(), 1, "B has A's milestone");

    // Forgotten on A; B pulls the tombstone (and refreshes after that pull); then each syncs once more.
    let id = made.milestones[0].memory.0;
    a.forget_memory(id).await.unwrap();
    a.sync_now().await.unwrap();
    b.sync_now().await.unwrap();
    b.sync_now().await.unwrap();
    a.sync_now().await.unwrap();

    assert_eq!(milestones_in(dir_b.path()).await, Vec::<String>::new());
    assert_eq!(milestones_in(dir_a.path()).await, Vec::<String>::new());
    a.shut_down().await;
    b.shut_down().await;
}

/// 1990-01-01: before the earliest wall time the server stores (2000), as a strap with a reset clock stamps a
/// recording.
const WRONG_CLOCK_MS: i64 = 631_152_000_000;

/// Moves session `id`'s start (and its end, five minutes later) to `started_at`, as a clock error or its fix
/// would have recorded it.
async fn restamp(store: &auren_store::Store, id: i64, started_at: i64) {
    sqlx::query("UPDATE sessions SET started_at = ?1, ended_at = ?1 + 300000 WHERE id = ?2")
        .bind(started_at)
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_rows_show_why_and_whether_they_can_go_again_and_retry_sends_them() {
    use auren_desktop::sync_dto::ParkedResendDto;
    let server = TestServer::start().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = desktop(dir_a.path()).await;
    let store = a.chat_store().await;
    let bad = a.import_recording(&reference("nsr_5min.rr")).await.unwrap();
    restamp(&store, bad.session_id, WRONG_CLOCK_MS).await;
    // A row parked by a version that kept nothing of what it pointed at.
    sqlx::query(
        "INSERT INTO sync_parked (outbox_id, kind, code, message, parked_at) \
         VALUES (0, 'tag', 'invalid_row', 'refused long ago', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    a.sync_sign_in(form(
        SignInModeDto::CreateAccount,
        &server.base,
        "lin@example.org",
        PASSWORD,
        "laptop",
    ))
    .await
    .unwrap();
    // The loop's first round or this one parks the refused rows; nothing waits behind them.
    let status = a.sync_now().await.unwrap().status;
    assert_eq!(status.pending_rows, 0, "{status:?}");
    let parked = &status.parked;
    assert!(parked.len() > 2, "{parked:?}");
    let old = &parked[0];
    assert_eq!(
        (old.outbox_id, old.points_at.as_str(), &old.resend),
        (0, "a tag in a session", &ParkedResendDto::Never),
        "{old:?}"
    );
    let refused = &parked[1];
    assert_eq!(
        (refused.kind.as_str(), refused.code.as_str()),
        ("session", "invalid_row"),
        "the session row is refused first: {parked:?}"
    );
    assert!(refused.message.contains("started_at"), "{refused:?}");
    let session = "the session of 1990-01-01 00:00 UTC";
    assert_eq!(
        (refused.points_at.as_str(), refused.session_id),
        (session, Some(bad.session_id))
    );
    assert!(
        parked[1..].iter().all(|p| p.resend == ParkedResendDto::OnRetry
            && p.session_id == Some(bad.session_id)
            && p.points_at.ends_with(session)
            && (p.kind == "session" || p.code == "unknown_session")),
        "its beats and the rest follow it, each saying what it is: {parked:?}"
    );
    let beats: Vec<&str> = parked
        .iter()
        .filter(|p| p.kind == "beats")
        .map(|p| p.points_at.as_str())
        .collect();
    assert!(
        !beats.is_empty()
            && beats.iter().all(|b| b.starts_with("beats ")
                && b.contains('–')
                && b.ends_with(&format!(" of {session}"))),
        "each batch of beats names its stretch of the session: {beats:?}"
    );
    assert!(
        status.detail.contains("refused by the server"),
        "{}",
        status.detail
    );

    // Retried while the cause stands: sent, refused and parked again, under new ids.
    let again = a.sync_retry_parked().await.unwrap();
    let ids = |rows: &[auren_desktop::sync_dto::ParkedRowDto]| -> Vec<i64> {
        rows.iter().map(|p| p.outbox_id).collect()
    };
    assert_eq!(again.parked.len(), parked.len(), "{again:?}");
    let last = parked.last().unwrap().outbox_id;
    assert!(
        again.parked[1..].iter().all(|p| p.outbox_id > last),
        "{:?} after {:?}",
        ids(&again.parked),
        ids(parked)
    );

    // The cause fixed (the recording's start corrected), a retry sends them all and they are taken.
    let fixed_start = auren_clock::now_unix_ms() - auren_clock::MS_PER_DAY;
    restamp(&store, bad.session_id, fixed_start).await;
    let after = a.sync_retry_parked().await.unwrap();
    assert_eq!(
        (after.state, after.pending_rows, ids(&after.parked)),
        (SyncStateDto::Synced, 0, vec![0]),
        "only the row that cannot be sent again stays: {after:?}"
    );
    let b = desktop(dir_b.path()).await;
    b.sync_sign_in(form(
        SignInModeDto::Login,
        &server.base,
        "lin@example.org",
        PASSWORD,
        "desk",
    ))
    .await
    .unwrap();
    b.sync_now().await.unwrap();
    let on_b = b.list_sessions(10, 0).await.unwrap();
    assert_eq!(on_b.len(), 1, "the retried recording arrived");
    assert_eq!(
        (on_b[0].summary.started_at_unix_ms, on_b[0].summary.beat_count),
        (fixed_start, bad.beats as i64),
        "{:?}",
        on_b[0]
    );
    a.shut_down().await;
    b.shut_down().await;
}
