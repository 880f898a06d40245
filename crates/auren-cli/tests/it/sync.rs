//! `auren sync` against the real `auren-server`, started in-process on the real PostgreSQL (127.0.0.1:5432,
//! a fresh database): a session recorded on another device arrives without a panel (derived data is not
//! synced), and the round that pulled it stores it, saying how many.

use auren_cep::{Baselines, DEFAULT_RULES, compile};
use auren_engine::import::{ImportConfig, import_recording};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_pulls_a_session_stores_its_panel_and_says_so() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let email = format!("panels-{}@example.com", uuid::Uuid::new_v4().simple());

    // Device A records (imports) a session and sends it.
    let a = Device::sign_in(dir.path(), "a", &server, &email, SignIn::Create).await;
    let config = ImportConfig::new(
        1_763_700_000_000,
        compile(DEFAULT_RULES).unwrap(),
        Baselines::new(),
    );
    let imported = import_recording(&a.store, Path::new(NSR), config).await.unwrap();
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
    assert!(
        store
            .sessions_needing_panel(panel_method())
            .await
            .unwrap()
            .is_empty()
    );
    store.close().await;

    // A round that pulls nothing leaves the panels alone and says nothing of them.
    let again = ok(auren_with_input(dir.path(), args(&["sync", "--db", &b_db]), "").await);
    assert!(!stdout(&again).contains("session panel"), "{}", stdout(&again));
}
