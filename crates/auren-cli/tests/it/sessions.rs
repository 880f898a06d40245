//! `auren simulate`, `record`, `replay`, `sessions`, `rules check|show|set|reset` and `strap scan`: the real
//! binary on temporary files and databases, and every mistake a person can make getting one clear line.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn auren(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_auren"))
        .args(args)
        .current_dir(dir)
        // Nothing may land in the home directory, and no test may reach a real Bluetooth stack.
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env(
            "DBUS_SYSTEM_BUS_ADDRESS",
            format!("unix:path={}", dir.join("no-bus").display()),
        )
        .output()
        .expect("the auren binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    out
}

/// A failed command: non-zero exit and exactly one line on stderr, which contains `expected`.
fn fails_with_one_line(out: Output, expected: &str) {
    assert!(!out.status.success(), "succeeded: {}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(expected), "{err:?} does not say {expected:?}");
}

fn sessions_json(dir: &Path) -> Vec<Value> {
    let out = ok(auren(dir, &["sessions", "--json", "--db", "auren.db"]));
    let json: Value = serde_json::from_slice(&out.stdout).expect("sessions --json prints JSON");
    json.as_array().expect("a JSON array of sessions").clone()
}

#[test]
fn simulate_then_replay_then_sessions_lists_the_replayed_session() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let simulate_exercise = |out: &str| {
        ok(auren(
            d,
            &[
                "simulate",
                "--scenario",
                "exercise",
                "--duration",
                "22m",
                "--seed",
                "3",
                "--out",
                out,
            ],
        ))
    };
    let out = simulate_exercise("ex.hrmcap");
    assert!(
        stdout(&out).contains("Wrote 1320 notifications"),
        "{}",
        stdout(&out)
    );
    let text = std::fs::read_to_string(d.join("ex.hrmcap")).unwrap();
    assert!(text.starts_with("# auren-capture"));
    // Deterministic by seed.
    simulate_exercise("again.hrmcap");
    assert_eq!(text, std::fs::read_to_string(d.join("again.hrmcap")).unwrap());

    let out = ok(auren(
        d,
        &["replay", "ex.hrmcap", "--kind", "exercise", "--db", "auren.db"],
    ));
    let printed = stdout(&out);
    assert!(printed.contains("ALERT [info] aerobic_threshold"), "{printed}");
    assert!(printed.contains("DFA α1"), "{printed}");
    assert!(printed.contains("Session 1 stored"), "{printed}");

    let sessions = sessions_json(d);
    assert_eq!(sessions.len(), 1);
    let s = &sessions[0];
    assert_eq!(s["id"], 1);
    assert_eq!(s["kind"], "exercise");
    assert_eq!(s["source"], "replay: ex.hrmcap");
    assert!(s["beat_count"].as_i64().unwrap() > 2_500, "{s}");
    assert!(s["ended_at_unix_ms"].is_i64());
    let table = stdout(&ok(auren(d, &["sessions", "--db", "auren.db"])));
    assert!(table.contains("exercise") && table.contains("22:00"), "{table}");
}

#[test]
fn record_from_the_simulator_stores_the_session_and_writes_the_capture() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = ok(auren(
        d,
        &[
            "record",
            "--simulate",
            "rest",
            "--duration",
            "2m",
            "--speed",
            "1000",
            "--out",
            "rest.hrmcap",
            "--db",
            "auren.db",
        ],
    ));
    assert!(stdout(&out).contains("HR "), "{}", stdout(&out));
    let sessions = sessions_json(d);
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["kind"], "rest");
    assert!(sessions[0]["beat_count"].as_i64().unwrap() > 100);
    let capture = std::fs::read_to_string(d.join("rest.hrmcap")).unwrap();
    assert!(
        capture.starts_with("# auren-capture v1 device=Auren%20simulator"),
        "{capture}"
    );
    // The capture replays to the same beats.
    ok(auren(d, &["replay", "rest.hrmcap", "--db", "auren.db"]));
    let sessions = sessions_json(d);
    assert_eq!(sessions[0]["beat_count"], sessions[1]["beat_count"]);
}

#[test]
fn rules_check_reports_every_error_with_rule_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let broken = "[[rule]]\nname = \"fast\"\nseverity = \"warning\"\nwhen = \"hr > > 3\"\n\n[[rule]]\nname = \"slow\"\nseverity = \"info\"\nwhen = \"hrr < 40\"\n";
    std::fs::write(d.join("broken.toml"), broken).unwrap();
    let out = auren(d, &["rules", "check", "broken.toml"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("rule `fast`") && err.contains("line 4, column"),
        "{err}"
    );
    assert!(
        err.contains("rule `slow`") && err.contains("line 9, column") && err.contains("hrr"),
        "{err}"
    );
    assert!(err.lines().last().unwrap().contains("2 error(s)"), "{err}");

    // An unknown key (a typo) is an error too, never silently ignored.
    std::fs::write(
        d.join("typo.toml"),
        "[[rule]]\nname = \"slow\"\nseverity = \"info\"\nwhen = \"hr < 40\"\ncooldwn = \"1m\"\n",
    )
    .unwrap();
    let out = auren(d, &["rules", "check", "typo.toml"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("line 5, column 1: rule `slow`: unknown field `cooldwn`"),
        "{}",
        stderr(&out)
    );

    std::fs::write(
        d.join("good.toml"),
        "[[rule]]\nname = \"fast\"\nseverity = \"warning\"\nwhen = \"hr > 180\"\n",
    )
    .unwrap();
    let out = ok(auren(d, &["rules", "check", "good.toml"]));
    assert!(stdout(&out).contains("1 rules, all valid"), "{}", stdout(&out));
    // A session refuses a broken rules file before it stores anything.
    fails_with_one_line(
        auren(
            d,
            &[
                "replay",
                "good.toml",
                "--rules",
                "broken.toml",
                "--db",
                "auren.db",
            ],
        ),
        "broken.toml",
    );
    assert!(!d.join("auren.db").exists());
}

#[test]
fn bad_input_gets_one_clear_line_and_keeps_what_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(auren(
        d,
        &[
            "simulate",
            "--scenario",
            "rest",
            "--duration",
            "3m",
            "--out",
            "rest.hrmcap",
        ],
    ));
    ok(auren(d, &["replay", "rest.hrmcap", "--db", "auren.db"]));
    let cases: [(&[&str], &str); 7] = [
        (
            &[
                "simulate",
                "--scenario",
                "sprint",
                "--duration",
                "5m",
                "--out",
                "x.hrmcap",
            ],
            "unknown scenario \"sprint\"",
        ),
        (
            &[
                "simulate",
                "--scenario",
                "rest",
                "--duration",
                "5 minutes",
                "--out",
                "x.hrmcap",
            ],
            "is not a duration",
        ),
        (
            &["record", "--simulate", "sprint", "--db", "auren.db"],
            "unknown scenario",
        ),
        (
            &[
                "record",
                "--simulate",
                "rest",
                "--duration",
                "90",
                "--db",
                "auren.db",
            ],
            "\"90\" is not a duration",
        ),
        (
            &[
                "record",
                "--strap",
                "A0:9E:1A:12:34:56",
                "--duration",
                "1m",
                "--db",
                "auren.db",
            ],
            "no Bluetooth adapter available",
        ),
        (
            &["strap", "scan", "--seconds", "1"],
            "no Bluetooth adapter available",
        ),
        (
            &["replay", "missing.hrmcap", "--db", "auren.db"],
            "missing.hrmcap",
        ),
    ];
    for (args, expected) in cases {
        fails_with_one_line(auren(d, args), expected);
    }
    let sessions = sessions_json(d);
    assert_eq!(
        sessions.len(),
        1,
        "nothing stored is lost, nothing half-made is added"
    );
    assert!(sessions[0]["beat_count"].as_i64().unwrap() > 150);
}

#[test]
fn morning_reading_stores_today_and_explains_a_missing_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = ok(auren(
        d,
        &[
            "morning",
            "--simulate",
            "fatigued",
            "--speed",
            "1000",
            "--json",
            "--db",
            "auren.db",
        ],
    ));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ln = result["ln_rmssd"].as_f64().unwrap();
    assert!((1.8..2.9).contains(&ln), "{result}");
    assert!(
        result["readiness"]["verdict"].is_null(),
        "one morning is too few: {result}"
    );
    let sessions = sessions_json(d);
    assert_eq!(sessions[0]["kind"], "morning");
    assert_eq!(sessions[0]["id"], result["session_id"]);

    let text = stdout(&ok(auren(
        d,
        &[
            "morning",
            "--simulate",
            "rest",
            "--speed",
            "1000",
            "--db",
            "auren.db",
        ],
    )));
    assert!(text.contains("Not enough mornings yet"), "{text}");
    fails_with_one_line(
        auren(
            d,
            &["morning", "--strap", "A0:9E:1A:12:34:56", "--db", "auren.db"],
        ),
        "no Bluetooth adapter available",
    );
    fails_with_one_line(
        auren(
            d,
            &[
                "morning",
                "--strap",
                "A0:9E:1A:12:34:56",
                "--speed",
                "5",
                "--db",
                "auren.db",
            ],
        ),
        "--speed applies to the simulator only",
    );
    assert_eq!(sessions_json(d).len(), 2);
}

/// `auren sessions` says where each recording stands: a session whose recording process was killed has
/// no end and shows its last beat, one whose last beat is seconds old is recording, an ended one ended —
/// in the table and in the JSON, by name.
#[test]
fn sessions_show_a_killed_recording_as_having_no_end_and_its_last_beat() {
    use auren_store::{NewSession, SessionKind, Store};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let now = auren_clock::now_unix_ms();
    // Whole minutes, so the table's UTC minute of the last beat is known exactly.
    let killed_start = (now - 3 * 3_600_000) / 60_000 * 60_000;
    let seed = |started_at: i64, beats: u32, ended: bool| async move {
        let store = Store::open(&d.join("auren.db")).await.unwrap();
        let id = store
            .start_session(&NewSession {
                started_at,
                kind: SessionKind::Rest,
                source: "simulator:rest".into(),
                strap_address: None,
                label: None,
            })
            .await
            .unwrap();
        let writer = store.session_writer(id).await.unwrap();
        for i in 1..=beats {
            writer.beat(f64::from(i) * 1_000.0, 1_000.0, None);
        }
        writer.finish().await.unwrap();
        if ended {
            let end = started_at + i64::from(beats) * 1_000;
            store.end_session(id, end).await.unwrap();
        }
        store.close().await;
        id.0
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ended = rt.block_on(seed(killed_start - 3_600_000, 600, true));
    let killed = rt.block_on(seed(killed_start, 38 * 60, false));
    let recording = rt.block_on(seed(now - 60_000, 55, false));

    let listed = sessions_json(d);
    let end_of = |id: i64| {
        listed
            .iter()
            .find(|s| s["id"] == id)
            .map(|s| s["end"].clone())
            .unwrap()
    };
    assert_eq!(
        end_of(killed),
        serde_json::json!({"state": "no_end_recorded", "last_beat_at_unix_ms": killed_start + 38 * 60_000})
    );
    assert_eq!(end_of(recording), serde_json::json!({"state": "recording"}));
    assert_eq!(
        end_of(ended),
        serde_json::json!({"state": "ended", "at_unix_ms": killed_start - 3_600_000 + 600_000})
    );

    let table = stdout(&ok(auren(d, &["sessions", "--db", "auren.db"])));
    let line = |id: i64| {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no line for session {id} in\n{table}"))
            .to_owned()
    };
    let last_beat = auren_clock::UnixMillis(killed_start + 38 * 60_000).civil_minute();
    assert!(
        line(killed).ends_with(&format!(" (no end recorded; last beat {last_beat} UTC)")),
        "{table}"
    );
    assert!(
        line(killed).contains("38:00"),
        "its length runs to the last beat: {table}"
    );
    assert!(line(recording).ends_with(" (recording)"), "{table}");
    assert!(line(ended).ends_with("simulator:rest"), "{table}");
}

/// `auren rules show|set|reset --db`: the person's rules are the synced rules setting of the database, each
/// change with its outbox row (what `auren sync` sends to the other devices and the server); a file that
/// does not compile is refused and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_set_and_reset_change_the_synced_setting_and_show_prints_what_runs() {
    use auren_protocol::person_rules::{PersonRules, SETTING_KEY};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let show = |d: &Path| {
        let out = ok(auren(d, &["rules", "show", "--db", "auren.db"]));
        (stdout(&out), stderr(&out))
    };
    let (text, note) = show(d);
    assert_eq!(text, auren_cep::DEFAULT_RULES);
    assert!(note.contains("default rules"), "{note}");

    let own = "[[rule]]\nname = \"fast\"\nseverity = \"warning\"\nwhen = \"hr > 150\"\n";
    std::fs::write(d.join("own.toml"), own).unwrap();
    std::fs::write(
        d.join("broken.toml"),
        "[[rule]]\nname = \"x\"\nwhen = \"hr > > 3\"\n",
    )
    .unwrap();
    ok(auren(d, &["rules", "set", "own.toml", "--db", "auren.db"]));
    let (text, note) = show(d);
    assert_eq!(text, own);
    assert!(note.contains("your own rules; sessions run 1 rules"), "{note}");
    assert!(
        !auren(d, &["rules", "set", "broken.toml", "--db", "auren.db"])
            .status
            .success()
    );
    assert_eq!(show(d).0, own, "a broken file changes nothing");
    ok(auren(d, &["rules", "reset", "--db", "auren.db"]));
    assert_eq!(show(d).0, auren_cep::DEFAULT_RULES);

    let store = auren_store::Store::open(&d.join("auren.db")).await.unwrap();
    let fields = store.setting_fields().await.unwrap();
    let setting: Vec<_> = fields.iter().filter(|(key, ..)| key == SETTING_KEY).collect();
    assert_eq!(setting.len(), 1);
    assert_eq!(PersonRules::from_json(&setting[0].1), Ok(PersonRules::Defaults));
    let rows = store.outbox_pending(100).await.unwrap();
    let queued = rows
        .iter()
        .filter(|row| row.entity_key.as_deref() == Some(SETTING_KEY))
        .count();
    assert_eq!(queued, 2, "set, then reset: {rows:?}");
}

/// A session started without `--rules` runs the person's own rules (`auren rules set`, or pulled by
/// `auren sync`), and `--rules FILE` still wins: the defaults with `artifact_burst`'s share lowered from 5 %
/// to 0.5 % fire it on a recording where the defaults do not.
#[test]
fn a_replay_without_rules_runs_the_rules_set_for_the_person() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let recording = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/reference/nsr_5min_artifacts.rr")
        .display()
        .to_string();
    let lowered =
        auren_cep::DEFAULT_RULES.replacen("avg(artifact, 60s) > 5%", "avg(artifact, 60s) > 0.5%", 1);
    assert_ne!(
        lowered,
        auren_cep::DEFAULT_RULES,
        "the defaults' artifact_burst threshold moved"
    );
    std::fs::write(d.join("lowered.toml"), &lowered).unwrap();
    std::fs::write(d.join("defaults.toml"), auren_cep::DEFAULT_RULES).unwrap();
    let burst_alerts = |extra: &[&str]| {
        let mut args = vec!["replay", recording.as_str(), "--db", "auren.db"];
        args.extend_from_slice(extra);
        let printed = stdout(&ok(auren(d, &args)));
        printed
            .lines()
            .filter(|line| line.contains("ALERT") && line.contains("artifact_burst"))
            .count()
    };

    assert_eq!(
        burst_alerts(&[]),
        0,
        "the defaults do not fire artifact_burst here"
    );
    ok(auren(d, &["rules", "set", "lowered.toml", "--db", "auren.db"]));
    assert_eq!(burst_alerts(&[]), 1, "the person's lowered threshold fires it");
    assert_eq!(
        burst_alerts(&["--rules", "defaults.toml"]),
        0,
        "a rules file given for the session wins over the person's"
    );
    ok(auren(d, &["rules", "reset", "--db", "auren.db"]));
    assert_eq!(burst_alerts(&[]), 0, "reset: the defaults run again");
}
