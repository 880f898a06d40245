//! The wire shapes: one example of every change (snapshot, so a change of shape is seen in review), lenient
//! reading of what a newer peer sends, and secrets kept out of `Debug`.

use auren_protocol::auth::{Login, SignedIn, TokenPair};
use auren_protocol::change::{Gap, HrSample, MetricValue, MorningValue, Signal, SignalChange, StrapInfo};
use auren_protocol::*;
use std::collections::BTreeMap;

fn stamp(wall_ms: i64) -> Hlc {
    Hlc {
        wall_ms,
        counter: 0,
        device: DeviceId("d1".into()),
    }
}

fn every_change() -> Vec<Change> {
    let key = "d1:7".to_owned();
    vec![
        Change::Session(SessionChange {
            session_key: key.clone(),
            started_at: 1_780_000_000_000,
            ended_at: None,
            kind: "rest".into(),
            source: "ble:AA:BB".into(),
            strap: Some(StrapInfo {
                address: "AA:BB".into(),
                name: "H10".into(),
                manufacturer: None,
                model: None,
            }),
        }),
        Change::Beats(BeatsChunk {
            session_key: key.clone(),
            start_ms: 781.25,
            rr_raw: vec![800, 812],
            t_breaks: Vec::new(),
            rr_overrides: Vec::new(),
            artifacts: vec![ArtifactMark {
                index: 1,
                label: "ectopic".into(),
            }],
        }),
        Change::Gaps(GapsChange {
            session_key: key.clone(),
            gaps: vec![Gap {
                from_ms: 5000.0,
                to_ms: 9000.0,
            }],
        }),
        Change::HrSamples(HrSamplesChange {
            session_key: key.clone(),
            samples: vec![HrSample {
                t_ms: 1000.0,
                bpm: 61.0,
            }],
        }),
        Change::Metrics(MetricsChange {
            session_key: key.clone(),
            values: vec![MetricValue {
                t_ms: 60_000.0,
                name: "rmssd_60s".into(),
                value: 42.5,
            }],
        }),
        Change::Alert(AlertChange {
            session_key: key.clone(),
            at_ms: 120_000.0,
            at: 1_780_000_120_000,
            window_start_ms: 1_780_000_000_000,
            rule: "cns_fatigue".into(),
            severity: "warning".into(),
            message: "DFA a1 low at rest".into(),
            evidence: serde_json::json!({"values": [["dfa_a1", 0.6]]}),
        }),
        Change::Tag(TagChange {
            key: "d1:3".into(),
            session_key: key.clone(),
            at_ms: Lww::new(1500.0, stamp(10)),
            name: Lww::new("coffee".into(), stamp(10)),
        }),
        Change::Note(NoteChange {
            session_key: key.clone(),
            text: Lww::new(Some("slept badly".into()), stamp(11)),
        }),
        Change::Morning(MorningChange {
            day: 20_600,
            reading: Lww::new(
                MorningValue {
                    ln_rmssd: 4.1,
                    resting_hr: Some(52.0),
                    session_key: None,
                },
                stamp(12),
            ),
        }),
        Change::Memory(MemoryChange {
            key: "d1:m1".into(),
            fields: BTreeMap::from([(
                "text".to_owned(),
                Lww::new(serde_json::json!("likes mornings"), stamp(13)),
            )]),
        }),
        Change::Setting(SettingChange {
            key: "units".into(),
            value: Lww::new(serde_json::json!("metric"), stamp(14)),
        }),
        Change::Tombstone(TombstoneChange {
            collection: Collection::Tag,
            key: "d1:3".into(),
            hlc: stamp(15),
        }),
        // Added within version 1 (last, so the rows before it keep their outbox ids).
        Change::Signals(SignalsChange {
            session_key: key,
            changes: vec![
                SignalChange {
                    t_ms: 0.0,
                    signal: Signal::Link,
                    up: true,
                },
                SignalChange {
                    t_ms: 64_000.0,
                    signal: Signal::Contact,
                    up: false,
                },
            ],
        }),
    ]
}

#[test]
fn a_push_of_every_change_round_trips_and_keeps_its_shape() {
    let push = PushRequest {
        protocol_version: PROTOCOL_VERSION,
        device_id: DeviceId("d1".into()),
        rows: every_change()
            .into_iter()
            .zip(1..)
            .map(|(change, outbox_id)| PushRow { outbox_id, change })
            .collect(),
    };
    let json = serde_json::to_value(&push).unwrap();
    assert_eq!(serde_json::from_value::<PushRequest>(json.clone()).unwrap(), push);
    insta::assert_json_snapshot!("push_request", json);
}

#[test]
fn a_pull_answer_round_trips() {
    let pull = PullResponse {
        changes: every_change()
            .into_iter()
            .zip(1..)
            .map(|(change, version)| PulledChange {
                version,
                origin: if version % 2 == 0 {
                    Origin::Server
                } else {
                    Origin::Device {
                        device_id: DeviceId("d2".into()),
                    }
                },
                change,
            })
            .collect(),
        cursor: 12,
        more: false,
        athletes: Some(AthletesNews {
            ahead: vec![UserId("a1".into())],
            grants_changed: true,
        }),
    };
    let text = serde_json::to_string(&pull).unwrap();
    assert_eq!(serde_json::from_str::<PullResponse>(&text).unwrap(), pull);
}

#[test]
fn what_a_newer_peer_sends_is_read_leniently() {
    let row: PushRow =
        serde_json::from_str(r#"{"outbox_id": 3, "change": {"type": "hologram", "x": 1}}"#).unwrap();
    assert_eq!(row.change, Change::Unknown);
    let tomb: TombstoneChange = serde_json::from_str(
        r#"{"collection": "playlist", "key": "k", "hlc": {"wall_ms": 1, "counter": 0, "device": "d"}}"#,
    )
    .unwrap();
    assert_eq!(tomb.collection, Collection::Unknown);
    let pull: PullRequest = serde_json::from_str(r#"{"protocol_version": 1, "cursor": 5}"#).unwrap();
    assert_eq!(
        (pull.athlete, pull.wait_ms, pull.limit, pull.watch),
        (None, None, None, None)
    );
    // An older server answers a watching poll without `athletes`: read as "not watched", not as an error.
    let answer: PullResponse =
        serde_json::from_str(r#"{"changes": [], "cursor": 5, "more": false}"#).unwrap();
    assert_eq!(answer.athletes, None);
    // And a request that watches nothing says nothing of it, as before the field.
    let unwatched = serde_json::to_value(PullRequest {
        protocol_version: 1,
        cursor: 5,
        athlete: None,
        limit: None,
        wait_ms: None,
        watch: None,
    })
    .unwrap();
    assert!(unwatched.get("watch").is_none(), "{unwatched}");
}

/// Contact and link changes came within protocol version 1, so both sides of a version-1 peer meet them: a
/// peer built before them reads the new change as `Unknown` (a server refuses that row alone, a client skips
/// it), and this build reads a newer peer's unknown signal as `Signal::Unknown`. The old peer is modelled by
/// the same tagging with the variants it had.
#[test]
fn contact_and_link_changes_meet_older_and_newer_peers() {
    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum BeforeSignals {
        Gaps(GapsChange),
        HrSamples(HrSamplesChange),
        #[serde(other)]
        Unknown,
    }
    let changes = every_change();
    let signals = changes.iter().find(|c| matches!(c, Change::Signals(_))).unwrap();
    let json = serde_json::to_value(signals).unwrap();
    assert_eq!(json["type"], "signals");
    assert_eq!(
        serde_json::from_value::<BeforeSignals>(json).unwrap(),
        BeforeSignals::Unknown
    );
    let hr = changes
        .iter()
        .find(|c| matches!(c, Change::HrSamples(_)))
        .unwrap();
    assert!(matches!(
        serde_json::from_value::<BeforeSignals>(serde_json::to_value(hr).unwrap()).unwrap(),
        BeforeSignals::HrSamples(_)
    ));

    let newer: Change = serde_json::from_str(
        r#"{"type": "signals", "session_key": "d1:7", "changes": [
            {"t_ms": 5.0, "signal": "battery", "up": false, "level": 3},
            {"t_ms": 6.0, "signal": "contact", "up": true}]}"#,
    )
    .unwrap();
    let Change::Signals(newer) = newer else {
        panic!("{newer:?}")
    };
    assert_eq!(
        newer.changes.iter().map(|c| c.signal).collect::<Vec<_>>(),
        [Signal::Unknown, Signal::Contact]
    );
    assert_eq!(newer.changes[1].t_ms, 6.0);
}

#[test]
fn debug_output_never_shows_secrets() {
    let login = Login {
        email: "a@example.org".into(),
        password: "hunter2-secret".into(),
        device_name: "laptop".into(),
    };
    let signed = SignedIn {
        user_id: UserId("u".into()),
        email: "a@example.org".into(),
        device_id: DeviceId("d".into()),
        tokens: TokenPair {
            access_token: "v4.local.ACCESS-SECRET".into(),
            access_expires_at_ms: 1,
            refresh_token: "REFRESH-SECRET".into(),
        },
    };
    let shown = format!("{login:?} {signed:?}");
    for secret in ["hunter2-secret", "ACCESS-SECRET", "REFRESH-SECRET"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("a@example.org"));
}

#[test]
fn error_bodies_carry_a_code_and_a_message() {
    let body = ErrorBody::new(error::codes::TOKEN_REUSED, "this refresh token was already used");
    assert_eq!(
        serde_json::to_string(&body).unwrap(),
        r#"{"code":"token_reused","message":"this refresh token was already used"}"#
    );
}

/// Every change type is listed, the base set is what a server before the list took, and an answer without
/// a list means the base set (and is written without one, as before).
#[test]
fn change_types_are_listed_and_an_answer_without_the_list_means_the_base_set() {
    let mut built: Vec<&str> = every_change().iter().map(Change::type_name).collect();
    built.sort_unstable();
    let mut listed = Change::TYPES.to_vec();
    listed.sort_unstable();
    assert_eq!(built, listed);
    let newer: Vec<&str> = Change::TYPES
        .into_iter()
        .filter(|t| !Change::is_base_type(t))
        .collect();
    assert_eq!(newer, Change::NEWER_TYPES);
    assert_eq!(
        Change::base_types().count(),
        Change::TYPES.len() - Change::NEWER_TYPES.len()
    );
    assert!(
        !Change::is_base_type("unknown"),
        "a type this build does not know is not a base type"
    );

    let old: PushResponse = serde_json::from_str(r#"{"last_applied": 4, "rejected": []}"#).unwrap();
    assert_eq!(old.accepts, None);
    assert!(!serde_json::to_string(&old).unwrap().contains("accepts"));
    let cases = [
        (r#"{"last_applied": 4}"#, "beats", true),
        (r#"{"last_applied": 4}"#, "signals", false),
        (
            r#"{"last_applied": 4, "accepts": ["beats", "signals"]}"#,
            "signals",
            true,
        ),
        (
            r#"{"last_applied": 4, "accepts": ["beats", "signals"]}"#,
            "session",
            false,
        ),
        (r#"{"last_applied": 4, "accepts": []}"#, "beats", false),
    ];
    for (answer, type_name, sendable) in cases {
        let answer: PushResponse = serde_json::from_str(answer).unwrap();
        let types = AcceptedTypes::from_answer(answer.accepts.as_deref());
        assert_eq!(types.accepts(type_name), sendable, "{answer:?} {type_name}");
    }
}

#[test]
fn a_trend_query_is_a_url_query_and_a_trend_round_trips() {
    use auren_protocol::trend::{Trend, TrendDay, TrendMetric, TrendQuery, TrendVerdict};
    let own = TrendQuery {
        metric: TrendMetric::LnRmssd,
        from: 20_400,
        to: 20_489,
        athlete: None,
    };
    assert_eq!(own.to_query_string(), "metric=ln_rmssd&from=20400&to=20489");
    let odd = TrendQuery {
        metric: TrendMetric::RestingHr,
        athlete: Some(UserId("a b&c=é".into())),
        ..own
    };
    assert_eq!(
        odd.to_query_string(),
        "metric=resting_hr&from=20400&to=20489&athlete=a%20b%26c%3D%C3%A9"
    );
    let trend = Trend {
        metric: TrendMetric::RestingHr,
        from: 20_400,
        to: 20_401,
        days: vec![
            TrendDay {
                day: 20_400,
                value: Some(52.0),
                rolling_mean_7d: Some(53.5),
                normal_range: Some([51.0, 55.0]),
                verdict: Some(TrendVerdict::Within),
            },
            TrendDay {
                day: 20_401,
                value: None,
                rolling_mean_7d: None,
                normal_range: None,
                verdict: None,
            },
        ],
    };
    let text = serde_json::to_string(&trend).unwrap();
    assert!(text.contains(r#""metric":"resting_hr""#), "{text}");
    assert_eq!(serde_json::from_str::<Trend>(&text).unwrap(), trend);
}
