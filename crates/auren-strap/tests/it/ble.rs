//! BLE against a fake BlueZ on a private D-Bus bus, through the unmodified btleplug code: discovery,
//! connect with battery and device information, decoded RR, a dropped link and the reconnect (with the gap
//! recorded and no beat invented), malformed payloads, and straps that never answer or are not there.
//!
//! Each test runs twice: as the parent it serves the fake and scripts the strap; as the child (re-run with
//! the private bus in `DBUS_SYSTEM_BUS_ADDRESS`) it is the btleplug client and makes the assertions.

use std::time::Duration;

use auren_hrm::{HeartRateMeasurement, HrFormat, RrInterval, SensorContact, encode_heart_rate_measurement};
use auren_strap::ble::{self, BleConfig, BleError, BleStrap, FoundStrap};
use auren_strap::{EndReason, SourceError, SourceEvent, SourceSummary, start};
use tokio_util::sync::CancellationToken;

use crate::fake_bluez::{
    Answer, DeviceSpec, FakeBluez, FakeEvent, HEART_RATE_SERVICE, is_client, run_as_child,
};

const STRAP_A: &str = "A0:9E:1A:00:00:0A";
const STRAP_B: &str = "A0:9E:1A:00:00:0B";
const STRAP_C: &str = "A0:9E:1A:00:00:0C";
const SILENT: &str = "A0:9E:1A:00:00:0D";
const HEADPHONES: &str = "11:22:33:44:55:66";

/// The notification a strap sends for `rr_raw` (1/1024 s) at 64 bpm.
fn payload(rr_raw: &[u16]) -> Vec<u8> {
    let m = HeartRateMeasurement {
        heart_rate_bpm: 64,
        contact: SensorContact::Detected,
        energy_expended_kj: None,
        rr: rr_raw.iter().map(|&r| RrInterval(r)).collect(),
    };
    encode_heart_rate_measurement(&m, HrFormat::U8)
}

fn config(address: &str) -> BleConfig {
    BleConfig {
        scan_timeout: Duration::from_secs(20),
        connect_timeout: Duration::from_secs(20),
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(400),
        ..BleConfig::new(address)
    }
}

/// Runs a strap until `samples` samples arrived, then shuts it down; returns all events and the summary.
async fn run_strap(address: &str, samples: usize) -> (Vec<SourceEvent>, SourceSummary) {
    run_strap_until(config(address), |events| {
        events
            .iter()
            .filter(|e| matches!(e, SourceEvent::Sample(_)))
            .count()
            == samples
    })
    .await
}

/// Runs a strap until `done` holds for the events so far, then shuts it down.
async fn run_strap_until(
    config: BleConfig,
    done: impl Fn(&[SourceEvent]) -> bool,
) -> (Vec<SourceEvent>, SourceSummary) {
    let shutdown = CancellationToken::new();
    let mut running = start(
        Box::new(BleStrap::new(config).expect("valid config")),
        shutdown.clone(),
    );
    let mut events = Vec::new();
    while let Some(event) = running.events.recv().await {
        events.push(event);
        if !shutdown.is_cancelled() && done(&events) {
            shutdown.cancel();
        }
    }
    let summary = running.task.await.expect("joins").expect("the link ran");
    (events, summary)
}

fn rr_ms(events: &[SourceEvent]) -> Vec<f64> {
    events
        .iter()
        .filter_map(|e| {
            if let SourceEvent::Sample(s) = e {
                Some(s.rr_ms.clone())
            } else {
                None
            }
        })
        .flatten()
        .collect()
}

fn raw_ms(raw: &[u16]) -> Vec<f64> {
    raw.iter().map(|&r| RrInterval(r).as_ms()).collect()
}

/// The attempt numbers of the reconnections, in order.
fn reconnect_attempts(events: &[SourceEvent]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| {
            if let SourceEvent::Reconnecting { attempt, .. } = e {
                Some(*attempt)
            } else {
                None
            }
        })
        .collect()
}

#[tokio::test]
async fn discovery_lists_straps_with_name_address_and_rssi() {
    if is_client() {
        let adapters = ble::adapters().await.expect("adapters");
        assert_eq!(adapters.len(), 1);
        assert_eq!(adapters[0].info, "hci0 (usb:v1D6Bp0246d0540)");
        let found = ble::scan(0, Duration::from_secs(2)).await.expect("scan");
        assert_eq!(
            found,
            vec![
                FoundStrap {
                    name: Some("Polar H10 0000000A".into()),
                    address: STRAP_A.into(),
                    rssi: Some(-58)
                },
                FoundStrap {
                    name: Some("Garmin HRM-Pro".into()),
                    address: STRAP_B.into(),
                    rssi: Some(-71)
                },
            ]
        );
        return;
    }
    let headphones = DeviceSpec {
        uuids: &["0000110b-0000-1000-8000-00805f9b34fb"],
        ..DeviceSpec::strap(HEADPHONES, "Headphones")
    };
    let garmin = DeviceSpec {
        rssi: -71,
        ..DeviceSpec::strap(STRAP_B, "Garmin HRM-Pro")
    };
    let fake = FakeBluez::start(vec![
        DeviceSpec::strap(STRAP_A, "Polar H10 0000000A"),
        garmin,
        headphones,
    ])
    .await;
    let seen = run_as_child(
        "ble::discovery_lists_straps_with_name_address_and_rssi",
        fake,
        |_, _| async {},
    )
    .await;
    assert!(
        seen.contains(&FakeEvent::DiscoveryFilter {
            uuids: vec![HEART_RATE_SERVICE.into()]
        }),
        "the scan asks BlueZ for heart-rate straps only: {seen:?}"
    );
}

#[tokio::test]
async fn connects_reads_battery_and_device_info_and_decodes_rr() {
    let notifications: [&[u16]; 4] = [&[1024], &[1000, 980], &[], &[1010]];
    if is_client() {
        let (events, summary) = run_strap(STRAP_A, 4).await;
        assert!(
            matches!(&events[0], SourceEvent::Connected { name, address, .. } if name == "Polar H10 0000000A" && address == STRAP_A),
            "{events:?}"
        );
        assert!(events.iter().any(|e| matches!(e, SourceEvent::DeviceInfo { manufacturer: Some(m), model: Some(d), .. } if m == "Polar Electro Oy" && d == "H10")));
        assert!(
            events
                .iter()
                .any(|e| matches!(e, SourceEvent::Battery { percent: 87, .. }))
        );
        assert!(events.iter().any(|e| matches!(
            e,
            SourceEvent::ContactChanged {
                contact: SensorContact::Detected,
                ..
            }
        )));
        assert_eq!(rr_ms(&events), raw_ms(&notifications.concat()));
        assert!(
            matches!(events.last(), Some(SourceEvent::Disconnected { reason, .. }) if reason == "shutdown")
        );
        assert_eq!(
            summary,
            SourceSummary {
                samples: 4,
                malformed: 0,
                ended: EndReason::Shutdown
            }
        );
        return;
    }
    let fake = FakeBluez::start(vec![DeviceSpec::strap(STRAP_A, "Polar H10 0000000A")]).await;
    run_as_child(
        "ble::connects_reads_battery_and_device_info_and_decodes_rr",
        fake,
        |event, fake| async move {
            if let FakeEvent::Subscribed { .. } = event {
                for rr in notifications {
                    fake.notify(STRAP_A, &payload(rr)).await;
                }
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_dropped_link_is_reconnected_with_a_gap_and_no_invented_beats() {
    let before: [&[u16]; 3] = [&[1024], &[1000], &[990]];
    let after: [&[u16]; 3] = [&[1100], &[1090, 1080], &[1070]];
    if is_client() {
        let (events, summary) = run_strap(STRAP_B, 6).await;
        let expected: Vec<u16> = before.concat().into_iter().chain(after.concat()).collect();
        assert_eq!(
            rr_ms(&events),
            raw_ms(&expected),
            "only what the strap sent, nothing bridged"
        );
        assert_eq!(summary.samples, 6);

        let kinds: Vec<&str> = events
            .iter()
            .map(|e| match e {
                SourceEvent::Sample(_) => "sample",
                SourceEvent::Connected { .. } => "connected",
                SourceEvent::DeviceInfo { .. }
                | SourceEvent::Battery { .. }
                | SourceEvent::ContactChanged { .. } => "info",
                SourceEvent::Disconnected { .. } => "disconnected",
                SourceEvent::Reconnecting { .. } => "reconnecting",
                SourceEvent::Gap { .. } => "gap",
                SourceEvent::Malformed { .. } => "malformed",
            })
            .filter(|k| *k != "info")
            .collect();
        assert_eq!(
            kinds,
            [
                "connected",
                "sample",
                "sample",
                "sample",
                "disconnected",
                "reconnecting",
                "reconnecting",
                "connected",
                "gap",
                "sample",
                "sample",
                "sample",
                "disconnected"
            ],
            "{events:?}"
        );
        let attempts = reconnect_attempts(&events);
        assert_eq!(
            attempts,
            [1, 2],
            "the first reconnection is refused, the second succeeds"
        );
        let sample_times: Vec<u64> = events
            .iter()
            .filter_map(|e| {
                if let SourceEvent::Sample(s) = e {
                    Some(s.at_ms)
                } else {
                    None
                }
            })
            .collect();
        let gap = events.iter().find_map(|e| {
            if let SourceEvent::Gap { from_ms, to_ms } = e {
                Some((*from_ms, *to_ms))
            } else {
                None
            }
        });
        assert_eq!(
            gap,
            Some((sample_times[2], sample_times[3])),
            "the gap spans the lost link"
        );
        return;
    }
    let strap = DeviceSpec {
        answer: Answer::RefuseAttempts(&[2]),
        ..DeviceSpec::strap(STRAP_B, "Garmin HRM-Pro")
    };
    let fake = FakeBluez::start(vec![strap]).await;
    let seen = run_as_child(
        "ble::a_dropped_link_is_reconnected_with_a_gap_and_no_invented_beats",
        fake,
        |event, fake| async move {
            match event {
                FakeEvent::Subscribed { times: 1, .. } => {
                    for rr in before {
                        fake.notify(STRAP_B, &payload(rr)).await;
                    }
                    fake.drop_link(STRAP_B).await;
                }
                FakeEvent::Subscribed { times: 2, .. } => {
                    for rr in after {
                        fake.notify(STRAP_B, &payload(rr)).await;
                    }
                }
                _ => {}
            }
        },
    )
    .await;
    let connects = seen
        .iter()
        .filter(|e| matches!(e, FakeEvent::ConnectCalled { .. }))
        .count();
    assert_eq!(
        connects, 3,
        "connect, a refused reconnection, a successful one: {seen:?}"
    );
}

#[tokio::test]
async fn malformed_notifications_are_counted_and_skipped() {
    let good = payload(&[1024]);
    let bad: [&[u8]; 3] = [&[], &[0x10], &[0x16, 0x40, 0x00]];
    if is_client() {
        let (events, summary) = run_strap(STRAP_C, 2).await;
        let malformed: Vec<(Vec<u8>, u64)> = events
            .iter()
            .filter_map(|e| {
                if let SourceEvent::Malformed { payload, total, .. } = e {
                    Some((payload.clone(), *total))
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(
            malformed,
            vec![(bad[0].to_vec(), 1), (bad[1].to_vec(), 2), (bad[2].to_vec(), 3)]
        );
        assert_eq!(rr_ms(&events), raw_ms(&[1024, 1024]));
        assert_eq!(
            summary,
            SourceSummary {
                samples: 2,
                malformed: 3,
                ended: EndReason::Shutdown
            }
        );
        return;
    }
    let fake = FakeBluez::start(vec![DeviceSpec::strap(STRAP_C, "Wahoo TICKR")]).await;
    run_as_child(
        "ble::malformed_notifications_are_counted_and_skipped",
        fake,
        move |event, fake| {
            let good = good.clone();
            async move {
                if let FakeEvent::Subscribed { .. } = event {
                    fake.notify(STRAP_C, &good).await;
                    for b in bad {
                        fake.notify(STRAP_C, b).await;
                    }
                    fake.notify(STRAP_C, &good).await;
                }
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_strap_that_never_answers_is_a_clear_timeout() {
    if is_client() {
        let strap = BleStrap::new(BleConfig {
            connect_timeout: Duration::from_secs(1),
            ..config(SILENT)
        })
        .expect("valid");
        let running = start(Box::new(strap), CancellationToken::new());
        let error = running.task.await.expect("joins").expect_err("times out");
        assert!(
            matches!(
                error,
                SourceError::Ble(BleError::Timeout {
                    step: "connecting",
                    ..
                })
            ),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!(
                "Bluetooth: strap {SILENT} did not answer within 1 s while connecting \
                 (is it worn, charged, and not held by another app?)"
            )
        );
        return;
    }
    let silent = DeviceSpec {
        answer: Answer::Never,
        ..DeviceSpec::strap(SILENT, "Polar H10 silent")
    };
    let fake = FakeBluez::start(vec![silent]).await;
    let seen = run_as_child(
        "ble::a_strap_that_never_answers_is_a_clear_timeout",
        fake,
        |_, _| async {},
    )
    .await;
    assert!(
        seen.iter().any(|e| matches!(e, FakeEvent::ConnectCalled { .. })),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_refused_bluetooth_permission_is_its_own_kind_and_not_retried() {
    if is_client() {
        let strap = BleStrap::new(config(STRAP_A)).expect("valid");
        let error = start(Box::new(strap), CancellationToken::new())
            .task
            .await
            .expect("joins")
            .expect_err("refused");
        assert!(error.is_permission_denied(), "{error:?}");
        assert!(
            matches!(
                error,
                SourceError::Ble(BleError::PermissionDenied {
                    step: "connecting",
                    ..
                })
            ),
            "{error:?}"
        );
        return;
    }
    let denied = DeviceSpec {
        answer: Answer::Deny,
        ..DeviceSpec::strap(STRAP_A, "Polar H10 denied")
    };
    let fake = FakeBluez::start(vec![denied]).await;
    let seen = run_as_child(
        "ble::a_refused_bluetooth_permission_is_its_own_kind_and_not_retried",
        fake,
        |_, _| async {},
    )
    .await;
    let attempts = seen
        .iter()
        .filter(|e| matches!(e, FakeEvent::ConnectCalled { .. }))
        .count();
    assert_eq!(attempts, 1, "{seen:?}");
}

#[test]
fn a_permission_refusal_is_recognised_by_kind_not_by_text() {
    let io = |kind| btleplug::Error::Other(Box::new(std::io::Error::from(kind)));
    // An error whose text says "permission" but whose kind does not is not a refusal.
    let worded = btleplug::Error::Other("Permission denied by the user".into());
    let table = [
        ("btleplug's own kind", btleplug::Error::PermissionDenied, true),
        ("an I/O refusal", io(std::io::ErrorKind::PermissionDenied), true),
        (
            "an I/O failure of another kind",
            io(std::io::ErrorKind::ConnectionRefused),
            false,
        ),
        ("not connected", btleplug::Error::NotConnected, false),
        ("only the words", worded, false),
    ];
    for (what, source, denied) in table {
        let error = BleError::from_stack("connecting", source);
        assert_eq!(error.is_permission_denied(), denied, "{what}: {error:?}");
        assert_eq!(SourceError::Ble(error).is_permission_denied(), denied, "{what}");
    }
    assert!(!SourceError::Ble(BleError::NoAdapter).is_permission_denied());
}

#[tokio::test]
async fn a_strap_that_is_not_there_is_not_found() {
    if is_client() {
        let strap = BleStrap::new(BleConfig {
            scan_timeout: Duration::from_secs(1),
            ..config(STRAP_A)
        })
        .expect("valid");
        let error = start(Box::new(strap), CancellationToken::new())
            .task
            .await
            .expect("joins")
            .expect_err("not found");
        assert_eq!(
            error.to_string(),
            format!("Bluetooth: strap {STRAP_A} not found within 1 s of scanning (is it worn and awake?)")
        );
        return;
    }
    let fake = FakeBluez::start(vec![DeviceSpec::strap(STRAP_B, "Someone else's strap")]).await;
    run_as_child(
        "ble::a_strap_that_is_not_there_is_not_found",
        fake,
        |_, _| async {},
    )
    .await;
}

#[test]
fn addresses_are_checked_before_any_bluetooth_call() {
    let table = [
        ("A0:9E:1A:12:34:56", true),
        (" a0:9e:1a:12:34:56 ", true),
        ("A0-9E-1A-12-34-56", true),
        ("A0:9E", false),
        ("polar", false),
    ];
    for (address, valid) in table {
        match BleStrap::new(BleConfig::new(address)) {
            Ok(_) => assert!(valid, "{address:?} accepted"),
            Err(e) => {
                assert!(!valid, "{address:?} refused: {e}");
                assert_eq!(
                    e.to_string(),
                    format!(
                        "{address:?} is not a Bluetooth address (expected six hex pairs like A0:9E:1A:12:34:56)"
                    )
                );
            }
        }
    }
}

#[tokio::test]
async fn the_battery_is_read_again_while_connected() {
    let levels = |events: &[SourceEvent]| -> Vec<u8> {
        events
            .iter()
            .filter_map(|e| {
                if let SourceEvent::Battery { percent, .. } = e {
                    Some(*percent)
                } else {
                    None
                }
            })
            .collect()
    };
    if is_client() {
        let config = BleConfig {
            battery_refresh: Duration::from_millis(100),
            ..config(STRAP_A)
        };
        let (events, _) = run_strap_until(config, |events| levels(events).contains(&80)).await;
        // Unchanged readings are not repeated; the change is reported once.
        assert_eq!(levels(&events), [87, 80], "{events:?}");
        return;
    }
    let fake = FakeBluez::start(vec![DeviceSpec::strap(STRAP_A, "Polar H10 0000000A")]).await;
    run_as_child(
        "ble::the_battery_is_read_again_while_connected",
        fake,
        |event, fake| async move {
            if let FakeEvent::ValueRead { uuid, times: 1 } = event
                && uuid.starts_with("00002a19")
            {
                fake.set_battery(STRAP_A, 80).await;
            }
        },
    )
    .await;
}

#[test]
fn backoff_doubles_up_to_its_cap() {
    let c = BleConfig::new(STRAP_A);
    let table = [
        (1, 250),
        (2, 500),
        (3, 1000),
        (4, 2000),
        (5, 2000),
        (40, 2000),
        (u32::MAX, 2000),
    ];
    for (attempt, ms) in table {
        assert_eq!(c.backoff(attempt), Duration::from_millis(ms), "attempt {attempt}");
    }
}

#[test]
fn bad_settings_are_refused_with_the_setting_named() {
    let base = BleConfig::new(STRAP_A);
    let table = [
        (
            BleConfig {
                connect_timeout: Duration::ZERO,
                ..base.clone()
            },
            "BLE setting connect_timeout: must be above 0",
        ),
        (
            BleConfig {
                scan_timeout: Duration::ZERO,
                ..base.clone()
            },
            "BLE setting scan_timeout: must be above 0",
        ),
        (
            BleConfig {
                initial_backoff: Duration::from_secs(3),
                ..base.clone()
            },
            "BLE setting initial_backoff: must be above 0 and at most max_backoff",
        ),
        (
            BleConfig {
                max_backoff: Duration::from_secs(10),
                ..base.clone()
            },
            "BLE setting max_backoff: must be at most 4 s, so that a strap that comes back is reconnected within 5 s",
        ),
    ];
    for (config, message) in table {
        assert_eq!(BleStrap::new(config).expect_err("refused").to_string(), message);
    }
}

#[tokio::test]
async fn a_strap_that_stays_away_ends_the_run_after_the_set_attempts() {
    const GONE: &str = "A0:9E:1A:00:00:0E";
    if is_client() {
        let config = BleConfig {
            max_reconnect_attempts: Some(2),
            ..config(GONE)
        };
        let mut running = start(
            Box::new(BleStrap::new(config).expect("valid")),
            CancellationToken::new(),
        );
        let mut events = Vec::new();
        while let Some(e) = running.events.recv().await {
            events.push(e);
        }
        let error = running.task.await.expect("joins").expect_err("gives up");
        assert_eq!(
            error.to_string(),
            format!("Bluetooth: strap {GONE} did not come back after 2 reconnection attempts")
        );
        let attempts = reconnect_attempts(&events);
        assert_eq!(attempts, [1, 2]);
        assert_eq!(rr_ms(&events), raw_ms(&[1024]));
        return;
    }
    let strap = DeviceSpec {
        answer: Answer::RefuseAttempts(&[2, 3, 4, 5]),
        ..DeviceSpec::strap(GONE, "Polar H10 gone")
    };
    let fake = FakeBluez::start(vec![strap]).await;
    run_as_child(
        "ble::a_strap_that_stays_away_ends_the_run_after_the_set_attempts",
        fake,
        |event, fake| async move {
            if let FakeEvent::Subscribed { .. } = event {
                fake.notify(GONE, &payload(&[1024])).await;
                fake.drop_link(GONE).await;
            }
        },
    )
    .await;
}
