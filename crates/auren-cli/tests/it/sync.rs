//! `auren sync` against the real `auren-server`, started in-process on the real PostgreSQL (127.0.0.1:5432,
//! a fresh database): a session recorded on another device arrives without a panel (derived data is not
//! synced), and the round that pulled it stores it, saying how many — in one round and in `--watch`.

use auren_cep::{Baselines, DEFAULT_RULES, compile};
use auren_engine::import::{ImportConfig, ImportSummary, import_recording};
use auren_engine::panels::{compute_panel, panel_is_current, panel_method};
use auren_store::{SessionId, Store};
use auren_sync::SignIn;
use std::io::Write as _;
use std::path::Path;
use std::process::{Output, Stdio};

use crate::run::{command, ok, stdout};

/// auren-sync's own test server and devices, not a copy of them.
#[path = "../../../auren-sync/tests/it/support.rs"]
#[expect(
    dead_code,
    reason = "auren-sync's support: these tests read the server's address, not its database URL"
)]
mod support;

use support::{Device, PASSWORD, TestServer};

const NSR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/data/reference/nsr_5min.rr"
);

/// `auren ARGS` in `dir`, tokens in the file next to the database, `stdin` written to its standard input;
/// off the runtime that serves the server.
async fn auren_with_input(dir: &Path, args: Vec<String>, stdin: &str) -> Output {
    let (dir, stdin) = (dir.to_owned(), stdin.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut child = command(&dir)
            .args(&args)
            .env("AUREN_SYNC_TOKENS", "file")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the auren binary runs");
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(stdin.as_bytes())
            .expect("stdin written");
        child.wait_with_output().expect("auren ends")
    })
    .await
    .expect("process task")
}

/// Records (imports) the 5-minute NSR reference on `store` as a session recorded at `at_ms`.
async fn record_nsr(store: &Store, at_ms: i64) -> ImportSummary {
    let config = ImportConfig::new(at_ms, compile(DEFAULT_RULES).unwrap(), Baselines::new());
    import_recording(store, Path::new(NSR), config).await.unwrap()
}

async fn assert_no_panel_missing(store: &Store) {
    // Ended sessions only (i64::MIN: no session without an end time is taken as over).
    let missing = store
        .sessions_needing_panel(panel_method(), i64::MIN)
        .await
        .unwrap();
    assert!(
        missing.is_empty(),
        "sessions without a current panel: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_pulls_a_session_stores_its_panel_and_says_so() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let email = format!("panels-{}@example.com", uuid::Uuid::new_v4().simple());

    // Device A records (imports) a session and sends it.
    let a = Device::sign_in(dir.path(), "a", &server, &email, SignIn::Create).await;
    let imported = record_nsr(&a.store, 1_763_700_000_000).await;
    assert!(panel_is_current(&a.store, imported.session_id).await.unwrap());
    let recorded = a
        .store
        .session(SessionId(imported.session_id))
        .await
        .unwrap()
        .unwrap();
    assert!(recorded.beat_count > 250, "{recorded:?}");
    let sent = a.client.sync_once().await.unwrap();
    assert!(sent.pushed > 0 && sent.pending == 0, "{sent:?}");

    // Device B is the CLI: it signs in, and its first round pulls the session.
    let b_db = dir.path().join("b.db").display().to_string();
    let login = [
        "account",
        "login",
        "--server",
        &server.base,
        "--email",
        &email,
        "--password-stdin",
        "--device-name",
        "b",
        "--db",
        &b_db,
    ];
    let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    ok(auren_with_input(dir.path(), args(&login), &format!("{PASSWORD}\n")).await);
    let synced = ok(auren_with_input(dir.path(), args(&["sync", "--db", &b_db]), "").await);
    let said = stdout(&synced);
    assert!(said.contains("Stored 1 session panel."), "{said}");

    let store = Store::open(Path::new(&b_db)).await.unwrap();
    let sessions = store.sessions(10, 0).await.unwrap();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let id = sessions[0].id.0;
    assert_eq!(sessions[0].beat_count, recorded.beat_count, "the beats arrived");
    assert!(panel_is_current(&store, id).await.unwrap());
    let stored = store.session_panel_view(SessionId(id)).await.unwrap().unwrap();
    assert_eq!(
        stored.panel.unwrap().values,
        compute_panel(&store, id).await.unwrap().values
    );
    assert_no_panel_missing(&store).await;
    store.close().await;

    // A round that pulls nothing leaves the panels alone and says nothing of them.
    let again = ok(auren_with_input(dir.path(), args(&["sync", "--db", &b_db]), "").await);
    assert!(!stdout(&again).contains("session panel"), "{}", stdout(&again));

    // `--watch` does the same after its rounds: A sends a second session, B's watch pulls it and says so.
    record_nsr(&a.store, 1_763_790_000_000).await;
    a.client.sync_once().await.unwrap();
    let said = watch_until_panels(dir.path(), &b_db).await;
    assert!(said.ends_with("Stored 1 session panel."), "{said}");
    let store = Store::open(Path::new(&b_db)).await.unwrap();
    assert_eq!(store.sessions(10, 0).await.unwrap().len(), 2);
    assert_no_panel_missing(&store).await;
    store.close().await;
}

/// Runs `auren sync --watch --db DB` until it prints a line about session panels (returned), then stops
/// it as Ctrl-C does and checks that it exits cleanly.
async fn watch_until_panels(dir: &Path, db: &str) -> String {
    let mut child = command(dir)
        .args(["sync", "--watch", "--db", db])
        .env("AUREN_SYNC_TOKENS", "file")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the auren binary runs");
    let out = child.stdout.take().expect("piped stdout");
    let reading = tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(out));
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let line = line.expect("a line of output");
            if line.contains("session panel") {
                return Ok(line);
            }
            seen.push(line);
        }
        Err(seen)
    });
    let line = tokio::time::timeout(std::time::Duration::from_secs(60), reading).await;
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("wait task")
        .expect("the watch ends");
    assert!(status.success(), "{status}");
    match line {
        Ok(Ok(Ok(line))) => line,
        Ok(Ok(Err(seen))) => panic!("the watch ended without a panel line: {seen:?}"),
        Ok(Err(error)) => panic!("reading the watch's output failed: {error}"),
        Err(_) => panic!("no panel line within 60 s"),
    }
}
