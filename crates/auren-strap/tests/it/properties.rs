//! Property tests: RR grouping keeps every interval in its second, any notification bytes are either a
//! sample or a counted malformed notification, captures written by the recorder parse back to the same
//! bytes, and every simulated notification is a plausible strap notification.

use std::time::Duration;

use auren_hrm::capture::{self, CaptureHeader};
use auren_strap::record::CaptureWriter;
use auren_strap::replay::{Replay, group_per_second};
use auren_strap::simulator::{Scenario, SimulatorConfig, notifications};
use auren_strap::{Pace, SourceEvent, start};
use proptest::prelude::*;
use tokio_util::sync::CancellationToken;

fn scenario() -> impl Strategy<Value = Scenario> {
    prop::sample::select(Scenario::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn grouping_keeps_every_interval_in_its_second(rr in prop::collection::vec(200.0f64..3000.0, 1..300)) {
        let seconds = group_per_second(&rr);
        let flat: Vec<f64> = seconds.iter().flat_map(|s| s.rr_ms.iter().copied()).collect();
        prop_assert_eq!(&flat, &rr);
        let mut t = 0.0;
        for (k, second) in seconds.iter().enumerate() {
            prop_assert_eq!(second.at_ms, 1000 * (k as u64 + 1));
            for r in &second.rr_ms {
                t += r;
                prop_assert!(t <= second.at_ms as f64 && t > second.at_ms as f64 - 1000.0);
            }
        }
    }

    #[test]
    fn any_bytes_are_a_sample_or_a_counted_malformed_notification(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..40)
    ) {
        let mut text = capture::format_header(&CaptureHeader::new());
        for (i, p) in payloads.iter().enumerate() {
            text.push_str(&capture::format_record(i as u64 * 1000, p));
        }
        let replay = Replay::capture_text(&text, "prop", Pace::AsFastAsPossible).expect("valid capture");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let (events, summary) = rt.block_on(async {
            let mut running = start(Box::new(replay), CancellationToken::new());
            let mut events = Vec::new();
            while let Some(e) = running.events.recv().await {
                events.push(e);
            }
            (events, running.task.await.expect("joins").expect("runs"))
        });
        let decodable = payloads.iter().filter(|p| auren_hrm::decode_heart_rate_measurement(p).is_ok()).count() as u64;
        prop_assert_eq!(summary.samples, decodable);
        prop_assert_eq!(summary.samples + summary.malformed, payloads.len() as u64);
        let malformed = events.iter().filter(|e| matches!(e, SourceEvent::Malformed { .. })).count() as u64;
        prop_assert_eq!(malformed, summary.malformed);
    }

    #[test]
    fn recorded_bytes_parse_back_unchanged(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 0..40),
        name in "\\PC{0,20}",
    ) {
        let header = CaptureHeader::new().with_device_name(name.clone());
        let mut writer = CaptureWriter::new(Vec::new(), &header).expect("header");
        for (i, p) in payloads.iter().enumerate() {
            let event = match auren_strap::Sample::decode(i as u64 * 1000, p.clone()) {
                Ok(sample) => SourceEvent::Sample(sample),
                Err(error) => SourceEvent::Malformed { at_ms: i as u64 * 1000, payload: p.clone(), error, total: 1 },
            };
            writer.write_event(&event).expect("writes");
            writer.write_event(&SourceEvent::Disconnected { at_ms: i as u64 * 1000, reason: name.clone() }).expect("writes");
        }
        let text = String::from_utf8(writer.into_inner().expect("flush")).expect("utf-8");
        let parsed = capture::parse(&text).expect("parses");
        prop_assert!(parsed.bad_lines.is_empty(), "{:?}", parsed.bad_lines);
        prop_assert_eq!(parsed.header.device_name(), Some(name.as_str()));
        let back: Vec<Vec<u8>> = parsed.records.into_iter().map(|r| r.payload).collect();
        prop_assert_eq!(back, payloads);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn simulated_notifications_are_plausible(seed in any::<u64>(), scenario in scenario(), ectopy in 0.0f64..50.0) {
        let config = SimulatorConfig {
            duration: Some(Duration::from_secs(180)),
            ectopic_per_1000_beats: ectopy,
            dropouts_per_hour: 60.0,
            ..SimulatorConfig::new(scenario, seed)
        };
        let mut expected_at = 1000;
        for n in notifications(&config).expect("valid") {
            prop_assert_eq!(n.at_ms, expected_at);
            expected_at += 1000;
            let m = auren_hrm::decode_heart_rate_measurement(&n.payload).expect("decodes");
            prop_assert!(m.rr.len() <= 5, "{} RR in one second", m.rr.len());
            for rr in m.rr_ms() {
                prop_assert!((150.0..=2100.0).contains(&rr), "RR {rr}");
            }
            prop_assert!(m.heart_rate_bpm == 0 || (30..=220).contains(&m.heart_rate_bpm), "HR {}", m.heart_rate_bpm);
        }
    }
}
