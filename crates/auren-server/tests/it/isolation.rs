//! Isolation. Every route of the router — the table below is checked against the router's source and
//! `/openapi.json`, so a new route or method cannot slip by — asked by another account, naming the victim's
//! ids wherever there is an id to name, answers nothing of the victim's: no user id, email, device id or
//! name, session key, tag, note, memory, setting, morning value, coach or token (the detector is shown to
//! find each of them in the victim's own answers). Tampered, expired and garbage tokens get 401 on each
//! route that takes a token; writes naming the victim's keys change only the writer's own rows. A revoked
//! coach sees nothing; the access token of a device that was removed, signed out or whose refresh token
//! was reused gets `401 token_revoked` on every route at once (also from another server process, through
//! Redis). The app role cannot get around row-level security in SQL, and every table of users' rows it can
//! touch has row-level security (read from the catalog, so a new table is covered the day it is made).

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::{TestClient, TestServer, chunk, recent_ms, row, session, session_key};
use auren_protocol::auth::SignedIn;
use auren_protocol::{Change, PushRow, paths};
use auren_server::auth::password::HashCost;
use auren_server::server::{Server, ServerConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const VICTIM_EMAIL: &str = "victim@example.com";
/// The coach the victim granted: only the victim's own answers name them.
const VICTIMS_COACH: &str = "victims-coach-q7@example.com";
/// The coach the other account grants (it must exist for the grant to succeed).
const OTHERS_COACH: &str = "mallorys-coach@example.com";
/// The days of the victim's morning readings, and of the trend the other account asks for.
const FIRST_DAY: i64 = 20_400;
const LAST_DAY: i64 = 20_410;
/// The victim's morning values: numbers no other answer holds, so a trend or pull that shows them leaked.
const VICTIMS_LN_RMSSD: &str = "3.987654";
const VICTIMS_RESTING_HR: &str = "47.123";

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    /// An access token is required: tampered, expired and garbage ones get 401.
    Bearer,
    /// No token: sign-in, device codes, health and the API document.
    Public,
}

/// One request of the isolation table.
#[derive(Clone, Debug)]
struct Probe {
    method: Method,
    /// The route as the router and `/openapi.json` name it (`{device_id}` unfilled).
    route: &'static str,
    /// The path sent: the route filled in, with its query.
    path: String,
    caller: Caller,
    body: Value,
    /// The status the server answers the other account with (a valid token, or none on a public route).
    expect: StatusCode,
}

impl Probe {
    fn new(method: Method, route: &'static str, caller: Caller, body: Value, expect: StatusCode) -> Self {
        Self {
            method,
            route,
            path: route.to_owned(),
            caller,
            body,
            expect,
        }
    }

    fn at(mut self, path: String) -> Self {
        self.path = path;
        self
    }

    /// What the caller sent: a value found here and in the answer is an echo, not a leak.
    fn sent(&self) -> String {
        format!("{} {}", self.path, self.body)
    }
}

/// What the requests name of the other account.
struct Target {
    user_id: String,
    email: String,
    device_ids: Vec<String>,
    session_key: String,
    /// A coach the other account granted: revoking it as someone else must not touch their grant.
    coach_email: String,
}

impl Target {
    /// `other`'s first device and session, and a coach they may not have.
    fn of(other: &SignedIn) -> Self {
        Self {
            user_id: other.user_id.0.clone(),
            email: other.email.clone(),
            device_ids: vec![other.device_id.0.clone()],
            session_key: session_key(other, 1),
            coach_email: VICTIMS_COACH.to_owned(),
        }
    }
}

/// A refresh token of the right shape that the server never issued.
const FORGED_REFRESH: &str = "v4.local.forged-refresh-token";

/// Every route, each method, as `me` asks it naming `target`'s ids wherever there is an id to name.
fn probes(me: &SignedIn, target: &Target) -> Vec<Probe> {
    let mut all = public_probes(target);
    all.extend(account_probes(target));
    all.extend(sync_probes(me, target));
    all
}

fn public(method: Method, route: &'static str, body: Value, expect: StatusCode) -> Probe {
    Probe::new(method, route, Caller::Public, body, expect)
}

fn bearer(method: Method, route: &'static str, body: Value, expect: StatusCode) -> Probe {
    Probe::new(method, route, Caller::Bearer, body, expect)
}

/// The routes without a token: signing up and in as the target, refresh and sign-out with a forged token,
/// device codes, health and the API document.
fn public_probes(target: &Target) -> Vec<Probe> {
    let password = "correct horse battery";
    let sign_up = json!({"email": target.email, "password": password, "device_name": "mallory"});
    let sign_in = json!({"email": target.email, "password": "wrong horse", "device_name": "mallory"});
    let forged = json!({"refresh_token": FORGED_REFRESH});
    let device_code = json!({"device_name": "mallory tv"});
    vec![
        public(Method::POST, paths::ACCOUNTS, sign_up, StatusCode::CONFLICT),
        public(Method::POST, paths::LOGIN, sign_in, StatusCode::UNAUTHORIZED),
        public(
            Method::POST,
            paths::REFRESH,
            forged.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        public(Method::POST, paths::LOGOUT, forged, StatusCode::NO_CONTENT),
        public(Method::POST, paths::DEVICE_CODE, device_code, StatusCode::OK),
        public(
            Method::POST,
            paths::DEVICE_CODE_POLL,
            json!({"device_code": "forged"}),
            StatusCode::NOT_FOUND,
        ),
        public(Method::GET, "/livez", Value::Null, StatusCode::OK),
        public(Method::GET, "/readyz", Value::Null, StatusCode::OK),
        public(Method::GET, "/metrics", Value::Null, StatusCode::OK),
        public(Method::GET, "/openapi.json", Value::Null, StatusCode::OK),
    ]
}

/// Devices, device-code approval and coach grants, with the target's device ids and coach.
fn account_probes(target: &Target) -> Vec<Probe> {
    let approve = json!({"user_code": "BCDFGHJK"});
    let their_coach = json!({"coach_email": target.coach_email});
    let mut all = vec![
        bearer(
            Method::POST,
            paths::DEVICE_CODE_APPROVE,
            approve,
            StatusCode::NOT_FOUND,
        ),
        bearer(Method::GET, paths::DEVICES, Value::Null, StatusCode::OK),
        bearer(Method::GET, paths::COACH_GRANTS, Value::Null, StatusCode::OK),
        bearer(
            Method::POST,
            paths::COACH_GRANTS,
            json!({"coach_email": OTHERS_COACH}),
            StatusCode::NO_CONTENT,
        ),
        bearer(
            Method::DELETE,
            paths::COACH_GRANTS,
            their_coach,
            StatusCode::NOT_FOUND,
        ),
        bearer(Method::GET, paths::ATHLETES, Value::Null, StatusCode::OK),
    ];
    for device in &target.device_ids {
        let remove = bearer(Method::DELETE, paths::DEVICE, Value::Null, StatusCode::NOT_FOUND);
        all.push(remove.at(format!("/v1/devices/{device}")));
    }
    all
}

/// Push, pull and trend: as the target's device, into the target's session, of the target as an athlete (and
/// watching the target as one).
fn sync_probes(me: &SignedIn, target: &Target) -> Vec<Probe> {
    let span = format!("from={FIRST_DAY}&to={LAST_DAY}");
    let trend = format!("{}?metric=ln_rmssd&{span}", paths::TREND);
    let their_trend = format!(
        "{}?metric=resting_hr&{span}&athlete={}",
        paths::TREND,
        target.user_id
    );
    let as_their_device = json!({"protocol_version": 1, "device_id": target.device_ids[0], "rows": []});
    let into_their_session = json!({"protocol_version": 1, "device_id": me.device_id.0,
        "rows": rows_on_session(&me.device_id.0, &target.session_key)});
    let pull = json!({"protocol_version": 1, "cursor": 0});
    let their_pull = json!({"protocol_version": 1, "cursor": 0, "athlete": target.user_id});
    // Watching them as an athlete who never granted anything: an answer, with nothing of theirs in it.
    let watching_them = json!({"protocol_version": 1, "cursor": 0,
        "watch": [{"athlete": target.user_id, "cursor": 0}]});
    vec![
        bearer(Method::POST, paths::PULL, pull, StatusCode::OK),
        bearer(Method::POST, paths::PULL, their_pull, StatusCode::FORBIDDEN),
        bearer(Method::POST, paths::PULL, watching_them, StatusCode::OK),
        bearer(Method::POST, paths::PUSH, as_their_device, StatusCode::FORBIDDEN),
        bearer(Method::POST, paths::PUSH, into_their_session, StatusCode::OK),
        bearer(Method::GET, paths::TREND, Value::Null, StatusCode::OK).at(trend),
        bearer(Method::GET, paths::TREND, Value::Null, StatusCode::FORBIDDEN).at(their_trend),
    ]
}

/// A stamp of `device` (editable values carry one).
fn stamp(device: &str, wall_ms: i64) -> Value {
    json!({"wall_ms": wall_ms, "counter": 0, "device": device})
}

/// Rows of every kind that names a session, written by `device` into session `key` (another account's). The
/// session's own data (beats, gaps) needs a session of the writer's and is refused as `unknown_session`; a
/// note and a tag are records of the writer's own, keyed in the writer's namespace (records never require
/// their session: a tag may arrive before or outlive it), so they are stored as the writer's and touch
/// nothing of the other account's.
fn rows_on_session(device: &str, key: &str) -> Value {
    let at = stamp(device, recent_ms());
    json!([
        {"outbox_id": 1, "change": {"type": "beats", "session_key": key, "start_ms": 0.0, "rr_raw": [800]}},
        {"outbox_id": 2, "change": {"type": "gaps", "session_key": key,
            "gaps": [{"from_ms": 1.0, "to_ms": 2.0}]}},
        {"outbox_id": 3, "change": {"type": "note", "session_key": key,
            "text": {"value": "mallory", "hlc": at}}},
        {"outbox_id": 4, "change": {"type": "tag", "key": format!("{device}:1"), "session_key": key,
            "at_ms": {"value": 5.0, "hlc": at}, "name": {"value": "mallory", "hlc": at}}},
    ])
}

/// The victim's values no answer to another account may hold, each with what it is.
struct Secrets(Vec<(&'static str, String)>);

impl Secrets {
    /// What of the victim's `answer` shows that the caller did not name in `sent` itself (an echo of the
    /// caller's own words is no leak).
    fn leaked(&self, sent: &str, answer: &Value) -> Vec<&'static str> {
        let text = match answer {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        self.0
            .iter()
            .filter(|(_, value)| text.contains(value.as_str()) && !sent.contains(value.as_str()))
            .map(|(what, _)| *what)
            .collect()
    }
}

/// The victim: two devices, a coach, and a row of every kind a response could carry.
struct Victim {
    laptop: SignedIn,
    target: Target,
    secrets: Secrets,
    coach: SignedIn,
}

/// The victim's account, made and seeded on `server`.
async fn seed_victim(server: &TestServer) -> Victim {
    let body = json!({"email": VICTIM_EMAIL, "password": "correct horse battery",
        "device_name": "victims-laptop-q7"});
    let (status, answer) = server.post(paths::ACCOUNTS, None, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let laptop: SignedIn = serde_json::from_value(answer).unwrap();
    let phone = server.login(VICTIM_EMAIL, "victims-phone-q7").await;
    let coach = server.account(VICTIMS_COACH).await;
    let status = server.grant_coach(&laptop, VICTIMS_COACH).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let key = session_key(&laptop, 1);
    let pushed = server.push(&laptop, victims_rows(&laptop, &key)).await;
    assert!(pushed.rejected.is_empty(), "{:?}", pushed.rejected);
    let device = &laptop.device_id.0;
    let secrets = Secrets(vec![
        ("user id", laptop.user_id.0.clone()),
        ("email", VICTIM_EMAIL.to_owned()),
        ("laptop's device id", device.clone()),
        ("phone's device id", phone.device_id.0.clone()),
        ("laptop's name", "victims-laptop-q7".to_owned()),
        ("phone's name", "victims-phone-q7".to_owned()),
        ("session key", key.clone()),
        ("tag key", format!("{device}:7")),
        ("tag name", "victims-tag-q7".to_owned()),
        ("note", "victims-note-q7".to_owned()),
        ("memory key", "victims-memory-q7".to_owned()),
        ("memory text", "victims memory text q7".to_owned()),
        ("setting key", "victims.setting.q7".to_owned()),
        ("setting value", "victims-setting-value-q7".to_owned()),
        ("morning lnRMSSD", VICTIMS_LN_RMSSD.to_owned()),
        ("morning resting HR", VICTIMS_RESTING_HR.to_owned()),
        ("coach's user id", coach.user_id.0.clone()),
        ("coach's email", VICTIMS_COACH.to_owned()),
        ("laptop's access token", laptop.tokens.access_token.clone()),
        ("laptop's refresh token", laptop.tokens.refresh_token.clone()),
        ("phone's access token", phone.tokens.access_token.clone()),
        ("phone's refresh token", phone.tokens.refresh_token.clone()),
    ]);
    let mut target = Target::of(&laptop);
    target.device_ids.push(phone.device_id.0.clone());
    Victim {
        laptop,
        target,
        secrets,
        coach,
    }
}

/// The victim's rows: a session with beats, a tag, a note, a memory, a setting and eleven mornings.
fn victims_rows(laptop: &SignedIn, key: &str) -> Vec<PushRow> {
    let device = &laptop.device_id.0;
    let at = stamp(device, recent_ms());
    let editable = [
        json!({"type": "tag", "key": format!("{device}:7"), "session_key": key,
            "at_ms": {"value": 5.0, "hlc": at}, "name": {"value": "victims-tag-q7", "hlc": at}}),
        json!({"type": "note", "session_key": key, "text": {"value": "victims-note-q7", "hlc": at}}),
        json!({"type": "memory", "key": "victims-memory-q7",
            "fields": {"text": {"value": "victims memory text q7", "hlc": at}}}),
        json!({"type": "setting", "key": "victims.setting.q7",
            "value": {"value": "victims-setting-value-q7", "hlc": at}}),
    ];
    let mornings = (FIRST_DAY..=LAST_DAY).map(|day| {
        json!({"type": "morning", "day": day, "reading": {"hlc": at, "value": {
            "ln_rmssd": VICTIMS_LN_RMSSD.parse::<f64>().unwrap(),
            "resting_hr": VICTIMS_RESTING_HR.parse::<f64>().unwrap(), "session_key": key}}})
    });
    let changes: Vec<Change> = editable
        .into_iter()
        .chain(mornings)
        .map(|c| serde_json::from_value(c).unwrap())
        .collect();
    [session(key, recent_ms()), chunk(key, 0.0, 30)]
        .into_iter()
        .chain(changes)
        .zip(1..)
        .map(|(change, id)| row(id, change))
        .collect()
}

/// Sends `probe` with `token` (as Bearer, when given); returns the status and the answer (JSON, else its
/// text; Null when empty).
async fn send(client: &TestClient, probe: &Probe, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = client
        .http
        .request(probe.method.clone(), format!("{}{}", client.base, probe.path));
    if !probe.body.is_null() {
        request = request.json(&probe.body);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let answer = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, answer)
}

/// `me`'s expired and tampered access tokens.
fn bad_tokens(server: &TestServer, me: &SignedIn) -> (String, String) {
    let expired = server
        .state
        .tokens
        .issue_until(
            uuid::Uuid::parse_str(&me.user_id.0).unwrap(),
            uuid::Uuid::parse_str(&me.device_id.0).unwrap(),
            1,
        )
        .unwrap()
        .0;
    let mut tampered = me.tokens.access_token.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    (expired, String::from_utf8(tampered).unwrap())
}

#[tokio::test]
async fn no_route_shows_another_account_anything_and_bad_tokens_get_nothing() {
    let server = TestServer::start().await;
    let victim = seed_victim(&server).await;
    let me = server.account("mallory@example.com").await;
    server.account(OTHERS_COACH).await;
    let (_, victims_rows_before) = server.pull_all(&victim.laptop, None).await;
    let (expired, tampered) = bad_tokens(&server, &me);

    let mut into_their_session = None;
    for probe in probes(&me, &victim.target) {
        let what = format!("{} {}", probe.method, probe.path);
        let token = (probe.caller == Caller::Bearer).then_some(me.tokens.access_token.as_str());
        let (status, answer) = send(&server, &probe, token).await;
        assert_eq!(status, probe.expect, "{what}: {answer}");
        if probe.route == paths::PUSH && status == StatusCode::OK {
            into_their_session = Some(answer.clone());
        }
        let leaked = victim.secrets.leaked(&probe.sent(), &answer);
        assert!(
            leaked.is_empty(),
            "{what} leaked the victim's {leaked:?}: {answer}"
        );
        if probe.caller == Caller::Public {
            continue;
        }
        for (token, code) in [
            (expired.as_str(), "token_expired"),
            (tampered.as_str(), "unauthenticated"),
            ("v4.local.garbage", "unauthenticated"),
        ] {
            let (status, answer) = send(&server, &probe, Some(token)).await;
            assert_eq!(
                (status, answer["code"].as_str()),
                (StatusCode::UNAUTHORIZED, Some(code)),
                "{what}: {answer}"
            );
        }
    }
    session_rows_into_theirs_stay_the_writers(&server, &me, &victim, into_their_session).await;
    writes_naming_the_victims_keys_change_only_the_writers_rows(&server, &me, &victim).await;
    let (_, victims_rows_after) = server.pull_all(&victim.laptop, None).await;
    assert_eq!(
        victims_rows_after, victims_rows_before,
        "the victim's data is all theirs, unchanged"
    );
    let (_, devices) = server
        .get(paths::DEVICES, Some(&victim.laptop.tokens.access_token))
        .await;
    assert_eq!(devices["devices"].as_array().map(Vec::len), Some(2), "{devices}");
    let (status, coached) = server
        .pull_all(&victim.coach, Some(&victim.laptop.user_id.0))
        .await;
    // A coach never reads memories and settings (migration 0002): everything else of the victim's.
    let coachable: Vec<&Value> = victims_rows_before
        .iter()
        .filter(|c| !["memory", "setting"].contains(&c["change"]["type"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        (status, coached.iter().collect::<Vec<_>>()),
        (StatusCode::OK, coachable),
        "the victim's grant to their coach survived another account's revoke"
    );
}

/// The push of [`rows_on_session`] into the victim's session: its beats and gaps refused, its note and tag
/// stored as `me`'s own (the caller then finds the victim's rows unchanged).
async fn session_rows_into_theirs_stay_the_writers(
    server: &TestServer,
    me: &SignedIn,
    victim: &Victim,
    answer: Option<Value>,
) {
    let answer = answer.expect("the push into the victim's session was sent");
    let refused: Vec<(i64, &str)> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["outbox_id"].as_i64().unwrap(), r["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        refused,
        [(1, "unknown_session"), (2, "unknown_session")],
        "beats and gaps need a session of the writer's: {answer}"
    );
    let (_, own) = server.pull_all(me, None).await;
    let stored: Vec<(&str, &str, &str)> = own
        .iter()
        .map(|c| {
            (
                c["change"]["type"].as_str().unwrap(),
                c["change"]["session_key"].as_str().unwrap(),
                c["origin"]["device_id"].as_str().unwrap(),
            )
        })
        .collect();
    let (key, mine) = (victim.target.session_key.as_str(), me.device_id.0.as_str());
    assert_eq!(
        stored,
        [("note", key, mine), ("tag", key, mine)],
        "only the note and tag, as the writer's own records: {own:?}"
    );
}

/// Edits and deletes of the victim's memory, setting and tag keys, pushed by `me`: applied to `me`'s own
/// records (the caller compares the victim's rows before and after).
async fn writes_naming_the_victims_keys_change_only_the_writers_rows(
    server: &TestServer,
    me: &SignedIn,
    victim: &Victim,
) {
    let later = stamp(&me.device_id.0, recent_ms() + 60_000);
    let tag_key = format!("{}:7", victim.laptop.device_id.0);
    let changes = [
        json!({"type": "memory", "key": "victims-memory-q7",
            "fields": {"text": {"value": "overwritten", "hlc": later}}}),
        json!({"type": "setting", "key": "victims.setting.q7",
            "value": {"value": "overwritten", "hlc": later}}),
        json!({"type": "tombstone", "collection": "memory", "key": "victims-memory-q7", "hlc": later}),
        json!({"type": "tombstone", "collection": "tag", "key": tag_key, "hlc": later}),
        json!({"type": "tombstone", "collection": "setting", "key": "victims.setting.q7", "hlc": later}),
    ];
    let rows = changes
        .into_iter()
        .zip(10..)
        .map(|(change, id)| row(id, serde_json::from_value(change).unwrap()))
        .collect();
    let answer = server.push(me, rows).await;
    assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
}

#[tokio::test]
async fn the_leak_detector_finds_each_victim_value_and_the_victims_own_answers() {
    let server = TestServer::start().await;
    let victim = seed_victim(&server).await;
    let me = server.account("mallory@example.com").await;
    // Each value, in an answer to a request that did not name it, is found; named by the request, it is an
    // echo.
    for (what, value) in &victim.secrets.0 {
        let answer = json!({"rows": [{"field": format!("…{value}…")}]});
        assert!(
            victim
                .secrets
                .leaked("GET /v1/devices null", &answer)
                .contains(what),
            "{what} not found"
        );
        let sent = format!("POST /v1/sync/pull {{\"x\": \"{value}\"}}");
        assert!(
            !victim.secrets.leaked(&sent, &answer).contains(what),
            "{what} echoed"
        );
    }
    assert!(victim.secrets.leaked("", &json!({"devices": []})).is_empty());

    // The victim's own answers to the other account's requests: had the server sent them to the other one,
    // the isolation test would have failed, naming what they hold.
    let expected: [(&str, Method, &[&str]); 4] = [
        (
            paths::DEVICES,
            Method::GET,
            &["laptop's device id", "phone's device id", "phone's name"],
        ),
        (
            paths::COACH_GRANTS,
            Method::GET,
            &["coach's user id", "coach's email"],
        ),
        (
            paths::PULL,
            Method::POST,
            &[
                "session key",
                "tag name",
                "note",
                "memory text",
                "setting value",
                "morning lnRMSSD",
                "morning resting HR",
            ],
        ),
        (paths::TREND, Method::GET, &["morning lnRMSSD"]),
    ];
    let probes = probes(&me, &victim.target);
    for (route, method, holds) in expected {
        let probe = probes
            .iter()
            .find(|p| p.route == route && p.method == method && p.expect == StatusCode::OK)
            .unwrap();
        let (status, theirs) = send(&server, probe, Some(&victim.laptop.tokens.access_token)).await;
        assert_eq!(status, StatusCode::OK, "{route}: {theirs}");
        let found = victim.secrets.leaked(&probe.sent(), &theirs);
        for what in holds {
            assert!(
                found.contains(what),
                "{method} {route}: {what} not found in {theirs}"
            );
        }
    }
}

/// The protocol's route constants by name, as the router's source names them.
const PROTOCOL_PATHS: [(&str, &str); 14] = [
    ("ACCOUNTS", paths::ACCOUNTS),
    ("LOGIN", paths::LOGIN),
    ("REFRESH", paths::REFRESH),
    ("LOGOUT", paths::LOGOUT),
    ("DEVICE_CODE", paths::DEVICE_CODE),
    ("DEVICE_CODE_APPROVE", paths::DEVICE_CODE_APPROVE),
    ("DEVICE_CODE_POLL", paths::DEVICE_CODE_POLL),
    ("DEVICES", paths::DEVICES),
    ("DEVICE", paths::DEVICE),
    ("COACH_GRANTS", paths::COACH_GRANTS),
    ("ATHLETES", paths::ATHLETES),
    ("PUSH", paths::PUSH),
    ("PULL", paths::PULL),
    ("TREND", paths::TREND),
];

/// The paths of the router's `.route(…)` calls, read from its source (axum cannot list a router's routes).
fn router_paths(source: &str) -> BTreeSet<String> {
    source
        .split(".route(")
        .skip(1)
        .map(|call| {
            let first = call.split(',').next().unwrap_or_default().trim();
            if let Some(literal) = first.strip_prefix('"') {
                return literal.trim_end_matches('"').to_owned();
            }
            let name = first.trim_start_matches("paths::");
            let (_, path) = PROTOCOL_PATHS
                .iter()
                .find(|(known, _)| *known == name)
                .unwrap_or_else(|| {
                    panic!("the router has a route {first} this test does not know: add it to PROTOCOL_PATHS")
                });
            (*path).to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_isolation_table_covers_every_route_and_method_of_the_router_and_the_api_document() {
    let server = TestServer::start().await;
    let me = server.account("mallory@example.com").await;
    let covered: BTreeSet<(String, String)> = probes(&me, &Target::of(&me))
        .into_iter()
        .map(|p| (p.method.to_string(), p.route.to_owned()))
        .collect();
    let covered_paths: BTreeSet<String> = covered.iter().map(|(_, path)| path.clone()).collect();
    assert_eq!(
        router_paths(include_str!("../../src/app.rs")),
        covered_paths,
        "the router's routes (left) and the isolation table's (right)"
    );

    let (_, doc) = server.get("/openapi.json", None).await;
    let mut documented = BTreeSet::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let undocumented: Vec<_> = covered.difference(&documented).collect();
    assert_eq!(
        undocumented,
        [&("GET".to_owned(), "/openapi.json".to_owned())],
        "only the document itself is not in the document"
    );
    assert!(
        documented.is_subset(&covered),
        "{:?}",
        documented.difference(&covered).collect::<Vec<_>>()
    );

    // Every other method of every route is refused by the router itself: the table misses no method.
    for path in &covered_paths {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            if covered.contains(&(method.to_string(), path.clone())) {
                continue;
            }
            let url = format!("{}{}", server.base, path.replace("{device_id}", &me.device_id.0));
            let status = server
                .http
                .request(method.clone(), url)
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        }
    }
}

#[tokio::test]
async fn a_reused_refresh_token_gives_nothing_and_a_revoked_coach_sees_nothing() {
    let server = TestServer::start().await;
    let athlete = server.account("athlete@example.com").await;
    let coach = server.account("coach@example.com").await;
    server.push_recording(&athlete, 40).await;

    let (status, _) = server.pull_all(&coach, Some(&athlete.user_id.0)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no grant yet");
    let status = server.grant_coach(&athlete, "coach@example.com").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, athletes) = server
        .get("/v1/coach/athletes", Some(&coach.tokens.access_token))
        .await;
    assert_eq!(athletes["athletes"][0]["email"], "athlete@example.com");
    let (status, seen) = server.pull_all(&coach, Some(&athlete.user_id.0)).await;
    assert_eq!(
        (status, seen.len()),
        (StatusCode::OK, 2),
        "the coach reads the athlete's session and beats"
    );
    let (_, own) = server.pull_all(&coach, None).await;
    assert!(own.is_empty(), "the athlete's rows are not the coach's own");

    let status = server.revoke_coach(&athlete, "coach@example.com").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, after) = server.pull_all(&coach, Some(&athlete.user_id.0)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{after:?}");
    let (_, athletes) = server
        .get("/v1/coach/athletes", Some(&coach.tokens.access_token))
        .await;
    assert_eq!(athletes["athletes"], json!([]));

    let spent = athlete.tokens.refresh_token.clone();
    server
        .post("/v1/auth/refresh", None, &json!({"refresh_token": spent}))
        .await;
    let (status, answer) = server
        .post("/v1/auth/refresh", None, &json!({"refresh_token": spent}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(answer.get("access_token").is_none() && answer.get("refresh_token").is_none());
}

#[tokio::test]
async fn the_app_role_cannot_read_across_users_or_switch_row_security_off() {
    let server = TestServer::start().await;
    let a = server.account("one@example.com").await;
    let b = server.account("two@example.com").await;
    let key = session_key(&a, 1);
    server.push(&a, vec![row(1, session(&key, recent_ms()))]).await;
    let app = &server.state.pools.app;
    let mut tx = app.begin().await.unwrap();
    let role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(role, "auren_app");
    for table in [
        "users",
        "devices",
        "sessions",
        "beat_chunks",
        "refresh_tokens",
        "records",
        "alerts",
    ] {
        let sql = format!("SELECT count(*) FROM {table}");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(n, 0, "{table}: no user set, no rows");
    }
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(&b.user_id.0)
        .execute(&mut *tx)
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(n, 0, "b sees none of a's sessions");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(users, 1, "b sees only b");
    let forged = sqlx::query(
        "INSERT INTO sessions (user_id, session_key, started_at, kind, source, version) \
         VALUES ($1::uuid, 'x', 1, 'rest', 's', 1)",
    )
    .bind(&a.user_id.0)
    .execute(&mut *tx)
    .await;
    assert!(forged.is_err(), "b cannot write a row as a");
    tx.rollback().await.unwrap();
    for escape in [
        "SET row_security = off; SELECT count(*) FROM sessions",
        "ALTER TABLE sessions DISABLE ROW LEVEL SECURITY",
        "SELECT * FROM server_keys",
        "SELECT * FROM device_codes",
    ] {
        let mut conn = app.acquire().await.unwrap();
        let result = sqlx::raw_sql(sqlx::AssertSqlSafe(escape))
            .execute(&mut *conn)
            .await;
        assert!(result.is_err(), "{escape} must fail for auren_app");
    }
}

/// How many of `athlete`'s rows `reader` sees in each table a pull reads, as the app role with `reader` set
/// — what row-level security alone shows, whatever the server's code asks.
async fn rows_seen(server: &TestServer, reader: &SignedIn, athlete: &SignedIn) -> Vec<(&'static str, i64)> {
    let reader = uuid::Uuid::parse_str(&reader.user_id.0).unwrap();
    let mut tx = auren_server::db::begin_as(&server.state.pools.app, reader)
        .await
        .unwrap();
    let mut seen = Vec::new();
    for (table, owner) in [
        ("users", "id"),
        ("user_versions", "user_id"),
        ("sessions", "user_id"),
        ("beat_chunks", "user_id"),
        ("beat_versions", "user_id"),
    ] {
        let sql = format!("SELECT count(*) FROM {table} WHERE {owner} = $1::uuid");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(&athlete.user_id.0)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        seen.push((table, n));
    }
    tx.rollback().await.unwrap();
    seen
}

#[tokio::test]
async fn the_coach_policies_show_an_athletes_rows_only_while_the_grant_is_live() {
    let server = TestServer::start().await;
    let athlete = server.account("athlete@example.com").await;
    let coach = server.account("coach@example.com").await;
    server.push_recording(&athlete, 40).await;
    let own = rows_seen(&server, &athlete, &athlete).await;
    assert!(
        own.iter().all(|(_, n)| *n > 0),
        "the athlete sees its own rows: {own:?}"
    );
    let none: Vec<_> = own.iter().map(|(table, _)| (*table, 0)).collect();
    assert_eq!(rows_seen(&server, &coach, &athlete).await, none, "no grant yet");

    let status = server.grant_coach(&athlete, "coach@example.com").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        rows_seen(&server, &coach, &athlete).await,
        own,
        "a live grant shows the coach what the athlete sees"
    );
    let stranger = server.account("stranger@example.com").await;
    assert_eq!(
        rows_seen(&server, &stranger, &athlete).await,
        none,
        "the grant is the coach's alone"
    );

    let status = server.revoke_coach(&athlete, "coach@example.com").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        rows_seen(&server, &coach, &athlete).await,
        none,
        "revoked: nothing"
    );
}

/// A table holding users' rows (a `user_id` column, a foreign key to `users`, or `users` itself), as the
/// catalog describes it.
#[derive(Debug)]
struct UserTable {
    name: String,
    row_security: bool,
    forced: bool,
    /// The app role owns it (an owner bypasses row-level security unless it is forced).
    app_owns: bool,
    /// The app role can name it: it holds a privilege on it and USAGE on its schema.
    app_may_touch: bool,
}

async fn user_tables(owner: &sqlx::PgPool) -> Vec<UserTable> {
    let rows: Vec<(String, bool, bool, bool, bool)> = sqlx::query_as(
        "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity, \
                pg_get_userbyid(c.relowner) = 'auren_app', \
                has_table_privilege('auren_app', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE') \
                AND has_schema_privilege('auren_app', n.oid, 'USAGE') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
           AND c.relkind IN ('r', 'p') \
           AND (c.oid = 'users'::regclass \
                OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'user_id' \
                           AND a.attnum > 0 AND NOT a.attisdropped) \
                OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'f' \
                           AND k.confrelid = 'users'::regclass)) \
         ORDER BY 1",
    )
    .fetch_all(owner)
    .await
    .unwrap();
    rows.into_iter()
        .map(
            |(name, row_security, forced, app_owns, app_may_touch)| UserTable {
                name,
                row_security,
                forced,
                app_owns,
                app_may_touch,
            },
        )
        .collect()
}

/// The tables the app role can touch without row-level security guarding them.
fn unguarded(tables: &[UserTable]) -> Vec<&str> {
    tables
        .iter()
        .filter(|t| t.app_may_touch && !(t.row_security && (t.forced || !t.app_owns)))
        .map(|t| t.name.as_str())
        .collect()
}

#[tokio::test]
async fn every_table_of_users_rows_the_app_role_can_touch_has_row_level_security() {
    let server = TestServer::start().await;
    sqlx::query(
        "INSERT INTO beat_chunks (user_id, session_key, start_ms, wall_ms, rr_raw, version) \
         VALUES (gen_random_uuid(), 's', 0, (extract(epoch FROM now()) * 1000)::bigint, '{800}', 1)",
    )
    .execute(&server.owner)
    .await
    .unwrap();
    let tables = user_tables(&server.owner).await;
    let names: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    for known in [
        "users",
        "user_versions",
        "devices",
        "refresh_families",
        "refresh_tokens",
        "device_codes",
        "coach_grants",
        "sessions",
        "beat_chunks",
        "beat_versions",
        "alerts",
        "session_batches",
        "records",
        "rejected_rows",
        "newer_type_rows",
    ] {
        assert!(
            names.contains(known),
            "{known} is not found as a table of users' rows: {names:?}"
        );
    }
    // Where TimescaleDB keeps the beats, its chunks (tables of their own, in its schema) exist once a row
    // needs one; a monthly partition gets the row too.
    assert!(
        tables
            .iter()
            .any(|t| t.name.starts_with("beat_chunks_") || t.name.starts_with("_hyper_")),
        "the beat partitions (or TimescaleDB's chunks) are read too: {names:?}"
    );
    assert_eq!(unguarded(&tables), Vec::<&str>::new(), "{tables:#?}");

    // The check names a table whose row-level security is switched off.
    sqlx::query("ALTER TABLE newer_type_rows DISABLE ROW LEVEL SECURITY")
        .execute(&server.owner)
        .await
        .unwrap();
    assert_eq!(unguarded(&user_tables(&server.owner).await), ["newer_type_rows"]);
}

/// Every route that takes a token, for a device whose sign-in ended: each must answer `401 token_revoked`
/// with nothing but the error.
async fn assert_revoked_everywhere(server: &TestClient, device: &SignedIn, other: &SignedIn, why: &str) {
    let probes = probes(device, &Target::of(other));
    for probe in probes.iter().filter(|p| p.caller == Caller::Bearer) {
        let (status, answer) = send(server, probe, Some(&device.tokens.access_token)).await;
        let what = format!("{why}: {} {}", probe.method, probe.path);
        assert_eq!(
            (status, answer["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("token_revoked")),
            "{what}: {answer}"
        );
        let keys: Vec<&String> = answer.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        assert_eq!(keys, ["code", "message"], "{what}: 0 rows, only the error");
    }
}

#[tokio::test]
async fn removed_signed_out_and_reused_devices_get_401_everywhere_at_once_and_their_data_stays() {
    let server = TestServer::start().await;
    let laptop = server.account("owner@example.com").await;
    let old = server.login("owner@example.com", "old phone").await;
    let phone = server.login("owner@example.com", "phone").await;
    let tablet = server.login("owner@example.com", "tablet").await;
    let stranger = server.account("stranger@example.com").await;
    server.push_recording(&old, 25).await;
    // The old phone's token is known live to the server's cache before it is removed.
    let (status, _) = server.get("/v1/devices", Some(&old.tokens.access_token)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, answer) = server.remove_device(&laptop, &laptop).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid")),
        "the calling device is not removed by mistake: {answer}"
    );
    let (status, _) = server.remove_device(&stranger, &laptop).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another account's device is not found"
    );
    let (status, _) = server
        .get("/v1/devices", Some(&stranger.tokens.access_token))
        .await;
    assert_eq!(status, StatusCode::OK, "and stays signed in");
    let (status, _) = server
        .delete("/v1/devices/not-an-id", &laptop.tokens.access_token, &Value::Null)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, answer) = server.remove_device(&old, &laptop).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    assert_revoked_everywhere(&server, &old, &laptop, "removed").await;
    let (status, answer) = server.remove_device(&old, &laptop).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "removed once: {answer}");
    let (status, answer) = server
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": old.tokens.refresh_token}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");

    let (status, _) = server.sign_out(&phone).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_revoked_everywhere(&server, &phone, &laptop, "signed out").await;

    let spent = json!({"refresh_token": tablet.tokens.refresh_token});
    let (status, _) = server.post("/v1/auth/refresh", None, &spent).await;
    assert_eq!(status, StatusCode::OK);
    let (_, answer) = server.post("/v1/auth/refresh", None, &spent).await;
    assert_eq!(answer["code"], "token_reused");
    assert_revoked_everywhere(&server, &tablet, &laptop, "refresh token reused").await;

    // The account and the data the removed phone sent are still there for the devices still signed in.
    let (status, own) = server.pull_all(&laptop, None).await;
    assert_eq!((status, own.len()), (StatusCode::OK, 2), "{own:?}");
    let (_, devices) = server.get("/v1/devices", Some(&laptop.tokens.access_token)).await;
    let names: Vec<&str> = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["laptop"], "only the signed-in devices are listed");
}

#[tokio::test]
async fn a_device_removed_through_one_server_process_is_refused_by_another_at_once() {
    let database_url = crate::support::fresh_database().await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let mut bases = Vec::new();
    let mut states = Vec::new();
    for _ in 0..2 {
        let mut config = ServerConfig::new(database_url.clone(), "127.0.0.1:0".parse().unwrap());
        config.hash_cost = HashCost::Minimal;
        config.redis_url = Some(crate::redis::redis_url());
        let started = Server::start(config, shutdown.clone()).await.unwrap();
        bases.push(format!("http://{}", started.local_addr().unwrap()));
        states.push(started.state().clone());
        tokio::spawn(started.serve(shutdown.clone()));
    }
    let _stop = shutdown.drop_guard();
    let (one, two) = (TestClient::new(&bases[0]), TestClient::new(&bases[1]));
    // Both processes listen for revocations before anything is revoked (polled: an outside connection).
    let subscribed = crate::broker::eventually(Duration::from_secs(20), async || {
        states.iter().all(|s| s.revocations.shared())
    })
    .await;
    assert!(subscribed, "the revocation subscriptions did not start");
    let laptop = one.account("two-processes@example.com").await;
    let phone = one.login("two-processes@example.com", "phone").await;
    let (status, _) = two.get("/v1/devices", Some(&phone.tokens.access_token)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "process two now holds the phone as live for 30 s"
    );

    let (status, _) = one.remove_device(&phone, &laptop).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Pub/sub delivers asynchronously: poll, with a deadline far below the 30 s a lost message would take.
    let refused = crate::broker::eventually(Duration::from_secs(5), async || {
        two.get("/v1/devices", Some(&phone.tokens.access_token)).await.0 == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(refused, "process two still accepts the removed phone");
    let (_, answer) = two.get("/v1/devices", Some(&phone.tokens.access_token)).await;
    assert_eq!(answer["code"], "token_revoked", "{answer}");
}
