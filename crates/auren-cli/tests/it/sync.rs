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

/// `ARGS` as the owned strings [`auren_with_input`] takes.
fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// Signs the database `db` (the CLI's) in to `server` as `email` (`create` or `login`), device `name`.
async fn cli_sign_in(dir: &Path, server: &TestServer, (how, email, name): (&str, &str, &str), db: &str) {
    let args = [
        "account",
        how,
        "--server",
        &server.base,
        "--email",
        email,
        "--password-stdin",
        "--device-name",
        name,
        "--db",
        db,
    ];
    ok(auren_with_input(dir, owned(&args), &format!("{PASSWORD}\n")).await);
}

/// A session of today with a CNS-fatigue alert (what earns a proactive message), recorded on `store`.
async fn fatigued_run_today(store: &Store) {
    use auren_store::{NewSession, SessionKind};
    let day_start = auren_clock::now_unix_ms().div_euclid(auren_clock::MS_PER_DAY) * auren_clock::MS_PER_DAY;
    let run = store
        .start_session(&NewSession {
            started_at: day_start,
            kind: SessionKind::Exercise,
            source: "simulator:rest".into(),
            strap_address: None,
            label: None,
        })
        .await
        .unwrap();
    let writer = store.session_writer(run).await.unwrap();
    let evidence = serde_json::json!({
        "values": [{"name": "rmssd_60s", "value": 10.2}, {"name": "hr", "value": 151.0}],
        "window_from_ms": 600_000, "window_to_ms": 660_000, "held_since_ms": 630_000, "steps_at_ms": []
    });
    writer.alert(
        660_000.0,
        "cns_fatigue",
        "warning",
        "RMSSD stayed low at a moderate heart rate",
        &evidence.to_string(),
    );
    writer.finish().await.unwrap();
    store.end_session(run, day_start + 1_800_000).await.unwrap();
}

/// The proactive messages stored in the database `db`: (text, written offline, model).
async fn proactive_messages(db: &str) -> Vec<(String, bool, Option<String>)> {
    let store = Store::open(Path::new(db)).await.unwrap();
    let mut messages = Vec::new();
    for conversation in store.conversations().list().await.unwrap() {
        for m in store.conversations().messages(conversation.id).await.unwrap() {
            messages.push((m.text, m.offline, m.model));
        }
    }
    store.close().await;
    messages
}

/// `auren sync` writes a pulled CNS-fatigue alert's proactive message with the coach of the gateway
/// configuration (the specialist's text through the fake provider), and without one with the offline
/// template — as the desktop does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_with_a_gateway_configuration_has_the_specialist_write_the_proactive_message() {
    use auren_fake_llm::{FakeLlm, Reply, Script};
    const WRITTEN: &str =
        "Your run held RMSSD low at a moderate heart rate. Did it feel harder than planned?";
    let server = TestServer::start().await;
    let fake = FakeLlm::start().await.unwrap();
    fake.set_default(Script::Reply(Reply::text([WRITTEN])));
    let dir = tempfile::tempdir().unwrap();
    let email = format!("coach-{}@example.com", uuid::Uuid::new_v4().simple());
    let a = Device::sign_in(dir.path(), "a", &server, &email, SignIn::Create).await;
    fatigued_run_today(&a.store).await;
    assert_eq!(a.client.sync_once().await.unwrap().parked, 0);

    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            "default_model = \"smart\"\n\n[retry]\nmax_retries = 0\n\n\
             [[provider]]\nname = \"fake\"\nkind = \"openai-compatible\"\nbase_url = \"{}\"\n\n\
             [alias.smart]\nroutes = [\"fake:m1\"]\n",
            fake.openai_base_url()
        ),
    )
    .unwrap();
    let with_model = dir.path().join("b.db").display().to_string();
    cli_sign_in(dir.path(), &server, ("login", &email, "b"), &with_model).await;
    let config_arg = config.display().to_string();
    let args = ["sync", "--config", &config_arg, "--db", &with_model];
    let said = stdout(&ok(auren_with_input(dir.path(), owned(&args), "").await));
    assert!(said.contains("proactive message"), "{said}");
    let written = proactive_messages(&with_model).await;
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(written[0].0.starts_with(WRITTEN), "{written:?}");
    assert!(!written[0].1 && written[0].2.is_some(), "{written:?}");
    assert_eq!(fake.requests().len(), 1, "one model call for one message");

    // No configuration (none in the platform's config folder either): the offline template.
    let offline = dir.path().join("c.db").display().to_string();
    cli_sign_in(dir.path(), &server, ("login", &email, "c"), &offline).await;
    ok(auren_with_input(dir.path(), owned(&["sync", "--db", &offline]), "").await);
    let templated = proactive_messages(&offline).await;
    assert_eq!(templated.len(), 1, "{templated:?}");
    assert!(templated[0].1 && templated[0].2.is_none(), "{templated:?}");
    assert_eq!(fake.requests().len(), 1, "no model call without a configuration");
}

/// 1990-01-01: before the earliest time the server stores, as a strap with a reset clock stamps it.
const WRONG_CLOCK_MS: i64 = 631_152_000_000;

/// `auren sync` says which rows the server refused and why, and how to send them again; `--retry-parked`
/// queues them again and the round sends them (refused again here: the cause stands).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_shows_the_refused_rows_and_retry_parked_sends_them_again() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let email = format!("parked-{}@example.com", uuid::Uuid::new_v4().simple());
    let db = dir.path().join("a.db").display().to_string();
    cli_sign_in(dir.path(), &server, ("create", &email, "a"), &db).await;
    let store = Store::open(Path::new(&db)).await.unwrap();
    let bad = record_nsr(&store, WRONG_CLOCK_MS).await;
    record_nsr(&store, 1_763_700_000_000).await;
    store.close().await;

    let said = stdout(&ok(auren_with_input(
        dir.path(),
        owned(&["sync", "--db", &db]),
        "",
    )
    .await));
    assert!(said.contains(", parked "), "{said}");
    assert!(said.contains("(session): invalid_row — started_at"), "{said}");
    assert!(said.contains("unknown_session"), "{said}");
    assert!(
        said.contains("`auren sync --retry-parked` sends them again"),
        "{said}"
    );
    let store = Store::open(Path::new(&db)).await.unwrap();
    let parked = store.parked_rows().await.unwrap();
    assert!(!parked.is_empty());
    assert!(
        store.session(SessionId(bad.session_id)).await.unwrap().is_some(),
        "the data stays"
    );
    store.close().await;

    let args = ["sync", "--retry-parked", "--db", &db];
    let said = stdout(&ok(auren_with_input(dir.path(), owned(&args), "").await));
    assert!(
        said.starts_with(&format!("Queued {} parked rows again.\n", parked.len())),
        "{said}"
    );
    assert!(said.contains(&format!(", parked {} ", parked.len())), "{said}");
    let store = Store::open(Path::new(&db)).await.unwrap();
    let again = store.parked_rows().await.unwrap();
    let kinds = |rows: &[auren_store::ParkedRow]| -> Vec<(String, String)> {
        rows.iter().map(|p| (p.kind.clone(), p.code.clone())).collect()
    };
    assert_eq!(
        kinds(&again),
        kinds(&parked),
        "refused again, for the same reasons"
    );
    assert!(
        again[0].outbox_id > parked.last().unwrap().outbox_id,
        "sent under new ids"
    );
    store.close().await;
}

/// `auren account login` without `--password-stdin` at a terminal does not show the password as it is
/// typed: run under `script` (a pseudo-terminal), the password is typed once the prompt shows and never
/// comes back in the terminal's output.
#[test]
fn a_password_typed_at_a_terminal_is_not_shown() {
    use std::io::Read as _;
    const SECRET: &str = "hunter2-not-echoed";
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db").display().to_string();
    let auren = command(dir.path());
    // Port 1 refuses at once: the command fails after reading the password, which is all this needs.
    let line = format!(
        "{} account login --server http://127.0.0.1:1 --email t@example.com --db {db}",
        auren.get_program().to_string_lossy()
    );
    let mut script = std::process::Command::new("script");
    script.args(["-qfec", &line, "/dev/null"]);
    for (key, value) in auren.get_envs() {
        if let Some(value) = value {
            script.env(key, value);
        }
    }
    let mut child = script
        .env("AUREN_SYNC_TOKENS", "file")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    let mut terminal = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("Password") {
        let n = terminal.read(&mut buf).unwrap();
        assert!(n > 0, "no prompt: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    let mut typing = child.stdin.take().unwrap();
    typing.write_all(format!("{SECRET}\n").as_bytes()).unwrap();
    terminal.read_to_end(&mut seen).unwrap();
    drop(typing);
    let status = child.wait().unwrap();
    let shown = String::from_utf8_lossy(&seen);
    assert!(!status.success(), "the server at port 1 cannot answer: {shown}");
    assert!(
        shown.contains("cannot sign in to http://127.0.0.1:1"),
        "the password was read: {shown}"
    );
    assert!(!shown.contains(SECRET), "the password was shown: {shown}");
}

/// `auren …` in `dir` with nothing on stdin.
async fn auren_in(dir: &Path, args: &[&str]) -> Output {
    auren_with_input(dir, owned(args), "").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_coach_access_and_logout_from_the_command_line() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    cli_sign_in(d, &server, ("create", "ada@example.org", "laptop"), "a.db").await;
    cli_sign_in(d, &server, ("login", "ada@example.org", "phone"), "b.db").await;
    cli_sign_in(d, &server, ("create", "cy@example.org", "coach-desk"), "c.db").await;

    // Both devices listed, this one marked.
    let listed = stdout(&ok(auren_in(d, &["devices", "--db", "a.db"]).await));
    // The lines under the header.
    let rows: Vec<&str> = listed.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{listed}");
    assert!(
        rows.iter()
            .any(|r| r.contains("laptop") && r.trim_end().ends_with("this device")),
        "{listed}"
    );
    let phone = rows
        .iter()
        .find(|r| r.contains("phone"))
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_owned();

    // A coach granted access pulls the athlete's session, shown as hers; revoked, the next sync forgets it.
    let store = Store::open(&d.join("a.db")).await.unwrap();
    record_nsr(&store, 1_780_000_000_000).await;
    store.close().await;
    ok(auren_in(d, &["sync", "--db", "a.db"]).await);
    let granted = ok(auren_in(d, &["coach", "grant", "cy@example.org", "--db", "a.db"]).await);
    assert!(stdout(&granted).contains("cy@example.org may now read your data"));
    let coach_sees = stdout(&ok(auren_in(d, &["coach", "list", "--db", "c.db"]).await));
    assert!(
        coach_sees.contains("Athletes whose data you may read: ada@example.org"),
        "{coach_sees}"
    );
    ok(auren_in(d, &["sync", "--db", "c.db"]).await);
    let hers = ok(auren_in(
        d,
        &[
            "sessions",
            "--json",
            "--athlete",
            "ada@example.org",
            "--db",
            "c.db",
        ],
    )
    .await);
    let hers: serde_json::Value = serde_json::from_slice(&hers.stdout).unwrap();
    assert_eq!(hers.as_array().map(Vec::len), Some(1), "{hers}");
    ok(auren_in(d, &["coach", "revoke", "cy@example.org", "--db", "a.db"]).await);
    ok(auren_in(d, &["sync", "--db", "c.db"]).await);
    let gone = auren_in(d, &["sessions", "--athlete", "ada@example.org", "--db", "c.db"]).await;
    assert!(!gone.status.success(), "{}", stdout(&gone));
    assert!(
        String::from_utf8_lossy(&gone.stderr).contains("not an athlete whose data this database holds"),
        "{}",
        String::from_utf8_lossy(&gone.stderr)
    );

    // The removed phone cannot sync any more; the laptop signs out and keeps its data.
    let removed = ok(auren_in(d, &["devices", "remove", &phone, "--db", "a.db"]).await);
    assert!(stdout(&removed).contains("Removed phone"), "{}", stdout(&removed));
    assert!(!auren_in(d, &["sync", "--db", "b.db"]).await.status.success());
    let out = ok(auren_in(d, &["logout", "--db", "a.db"]).await);
    assert!(
        stdout(&out).contains("Signed out ada@example.org"),
        "{}",
        stdout(&out)
    );
    assert!(!d.join("a.db.tokens").exists(), "the tokens file is removed");
    let after = auren_in(d, &["sync", "--db", "a.db"]).await;
    assert!(
        String::from_utf8_lossy(&after.stderr).contains("not signed in"),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    let store = Store::open(&d.join("a.db")).await.unwrap();
    assert_eq!(store.sessions(10, 0).await.unwrap().len(), 1, "the data stays");
    store.close().await;
}
