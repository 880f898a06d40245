//! `auren_engine::recording`: every format from inline fixtures and the reference recordings, format and
//! unit detection, errors that name the file and the line, and a capture that replays as it was recorded.

use std::path::{Path, PathBuf};

use auren_engine::recording::{
    self, ContentError, Format, Gap, RR_RANGE_MS, Recording, RecordingError, Unit,
};
use auren_hrm::capture::{CaptureHeader, format_header, format_record};
use auren_hrm::{HeartRateMeasurement, HrFormat, RrInterval, SensorContact, encode_heart_rate_measurement};
use auren_strap::replay::{Replay, group_per_second};
use auren_strap::{HeartSource, Pace, SourceEvent, start};
use proptest::prelude::*;
use tokio_util::sync::CancellationToken;

use crate::support::reference;

/// The values of a reference `.rr` file, one per line.
pub fn rr_values(name: &str) -> Vec<f64> {
    std::fs::read_to_string(reference(name))
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

/// One notification's bytes as a strap sends them.
pub fn payload(rr_ms: &[f64], contact: SensorContact) -> Vec<u8> {
    let m = HeartRateMeasurement {
        heart_rate_bpm: 60,
        contact,
        energy_expended_kj: None,
        rr: rr_ms.iter().map(|ms| RrInterval::from_ms(*ms).unwrap()).collect(),
    };
    encode_heart_rate_measurement(&m, HrFormat::U8)
}

/// A capture of `rr` as a strap sends it, one notification per second. Notifications whose second is in
/// `missing` are left out (a dropped link); those in `no_contact` say the strap is off the skin and carry
/// no beats.
pub fn capture_of(rr: &[f64], missing: std::ops::Range<u64>, no_contact: std::ops::Range<u64>) -> String {
    let mut text = format_header(&CaptureHeader::new().with_device_name("Test Strap"));
    for second in group_per_second(rr) {
        let k = second.at_ms / 1000;
        if missing.contains(&k) {
            continue;
        }
        let bytes = if no_contact.contains(&k) {
            payload(&[], SensorContact::NotDetected)
        } else {
            payload(&second.rr_ms, SensorContact::Detected)
        };
        text.push_str(&format_record(second.at_ms, &bytes));
    }
    text
}

fn ms_lines(rr: &[f64]) -> String {
    rr.iter().map(|v| format!("{v}\n")).collect()
}

fn assert_same_series(got: &[f64], want: &[f64], tolerance: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tolerance, "{what}: beat {i}: {g} vs {w}");
    }
}

#[test]
fn small_inline_fixtures_of_every_format_read_to_their_series() {
    let capture = {
        let mut text = format_header(&CaptureHeader::new());
        text.push_str(&format_record(800, &payload(&[800.0], SensorContact::Detected)));
        text.push_str(&format_record(
            2_450,
            &payload(&[810.0, 840.0], SensorContact::Detected),
        ));
        text
    };
    let cases: Vec<(&str, String, Format, Vec<f64>)> = vec![
        (
            "a.rr",
            "800\n810\n790\n".into(),
            Format::RrMs,
            vec![800.0, 810.0, 790.0],
        ),
        // A `.rr` is ms by definition; without the extension a median above 10 is ms too.
        ("a.txt", "800\n810\n".into(), Format::RrMs, vec![800.0, 810.0]),
        (
            "comments.rr",
            "# exported\n\n800\r\n 810 \n# end\n".into(),
            Format::RrMs,
            vec![800.0, 810.0],
        ),
        (
            "bom.rr",
            "\u{feff}800\n810\n".into(),
            Format::RrMs,
            vec![800.0, 810.0],
        ),
        (
            "kubios.txt",
            "0.800\n0.810\n0.790\n".into(),
            Format::KubiosSeconds,
            vec![800.0, 810.0, 790.0],
        ),
        (
            "polar.txt",
            "Phone timestamp;RR-interval [ms]\n2026-11-21T07:00:00.000;800\n2026-11-21T07:00:01.000;810\n"
                .into(),
            Format::Csv,
            vec![800.0, 810.0],
        ),
        (
            "elite.csv",
            "timestamp,HR,RR\n1,75,800\n2,74,810\n".into(),
            Format::Csv,
            vec![800.0, 810.0],
        ),
        (
            "hrvlogger.csv",
            "date,time,rr\n2026-11-21,07:00:00,800\n2026-11-21,07:00:02,810\n".into(),
            Format::Csv,
            vec![800.0, 810.0],
        ),
        (
            "decimal-comma-seconds.txt",
            "0,800\n0,810\n".into(),
            Format::KubiosSeconds,
            vec![800.0, 810.0],
        ),
        (
            "decimal-comma-ms.txt",
            "800,5\n810,25\n".into(),
            Format::RrMs,
            vec![800.5, 810.25],
        ),
        (
            "polar-flow-rr.txt",
            "0.000\t800\n0.800\t810\n1.610\t790\n".into(),
            Format::TimeAndRr,
            vec![800.0, 810.0, 790.0],
        ),
        (
            "time-rr-seconds.txt",
            "0.800 0.800\n1.610  0.810\n".into(),
            Format::TimeAndRr,
            vec![800.0, 810.0],
        ),
        (
            "time-rr-decimal-comma.txt",
            "0,800;0,800\n1,610;0,810\n".into(),
            Format::TimeAndRr,
            vec![800.0, 810.0],
        ),
        (
            "time-rr-comma.csv",
            "0.8,800\n1.61,810\n".into(),
            Format::TimeAndRr,
            vec![800.0, 810.0],
        ),
        (
            "cr-only.rr",
            "800\r810\r\r790\r".into(),
            Format::RrMs,
            vec![800.0, 810.0, 790.0],
        ),
        (
            "ibi.csv",
            "\"Time\",\"IBI (s)\"\n0,0.8\n1,0.81\n".into(),
            Format::Csv,
            vec![800.0, 810.0],
        ),
        (
            "tab.tsv",
            "time\tRRI (ms)\n0\t800\n1\t810\n".into(),
            Format::Csv,
            vec![800.0, 810.0],
        ),
        (
            "decimal-comma.csv",
            "Zeit;RR (s)\n0;0,800\n1;0,810\n".into(),
            Format::Csv,
            vec![800.0, 810.0],
        ),
        (
            "no-unit-seconds.csv",
            "t,NN\n0,0.8\n1,0.81\n".into(),
            Format::Csv,
            vec![800.0, 810.0],
        ),
        ("s.hrmcap", capture, Format::Capture, vec![800.0, 810.0, 840.0]),
    ];
    for (name, text, format, want) in cases {
        let got = recording::parse(&text, Path::new(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.format, format, "{name}");
        // Captures carry 1/1024 s: within a millisecond of the written value.
        let tolerance = if format == Format::Capture { 1.0 } else { 1e-9 };
        assert_same_series(&got.rr_ms, &want, tolerance, name);
        assert!(got.warnings.is_empty(), "{name}: {:?}", got.warnings);
        assert!(got.gaps.is_empty(), "{name}: {:?}", got.gaps);
        assert_eq!(got.capture.is_some(), format == Format::Capture, "{name}");
    }
}

#[test]
fn the_reference_recordings_read_as_ms_files_with_one_beat_per_line() {
    for name in ["nsr_5min.rr", "nsr_5min_artifacts.rr", "nsr_60min.rr"] {
        let got = recording::read(&reference(name)).unwrap();
        let lines = std::fs::read_to_string(reference(name))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count();
        assert_eq!(got.format, Format::RrMs, "{name}");
        assert_eq!(got.rr_ms.len(), lines, "{name}");
        assert_eq!(got.rr_ms, rr_values(name), "{name}");
        assert!(got.warnings.is_empty() && got.capture.is_none(), "{name}");
    }
}

#[test]
fn the_reference_series_round_trips_through_every_format() {
    let rr = rr_values("nsr_5min.rr");
    let seconds: String = rr.iter().map(|v| format!("{}\n", v / 1000.0)).collect();
    let polar: String = std::iter::once("Phone timestamp;RR-interval [ms]\n".to_string())
        .chain(
            rr.iter()
                .enumerate()
                .map(|(i, v)| format!("2026-11-21T07:{:02}:00.000;{v}\n", i % 60)),
        )
        .collect();
    let elite: String = std::iter::once("timestamp,HR,RR\n".to_string())
        .chain(rr.iter().map(|v| format!("1,{:.0},{v}\n", 60000.0 / v)))
        .collect();
    let hrv_logger: String = std::iter::once("date,rr\n".to_string())
        .chain(rr.iter().map(|v| format!("2026-11-21 07:00:00,{v}\n")))
        .collect();
    let cases = [
        ("copy.rr", ms_lines(&rr), Format::RrMs, 0.0),
        ("kubios.txt", seconds, Format::KubiosSeconds, 1e-9),
        ("polar.txt", polar, Format::Csv, 0.0),
        ("elite.csv", elite, Format::Csv, 0.0),
        ("hrvlogger.csv", hrv_logger, Format::Csv, 0.0),
        // The strap's resolution is 1/1024 s: at most half a unit (0.49 ms) from the ms value.
        ("strap.hrmcap", capture_of(&rr, 0..0, 0..0), Format::Capture, 0.5),
    ];
    for (name, text, format, tolerance) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, &text).unwrap();
        let got = recording::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.format, format, "{name}");
        assert_eq!(
            got,
            recording::parse(&text, &path).unwrap(),
            "{name}: read = parse"
        );
        assert_same_series(&got.rr_ms, &rr, tolerance, name);
    }
}

#[test]
fn format_names_are_the_serde_names() {
    let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
    assert_eq!(names, ["rr_ms", "rr_seconds", "csv", "time_rr", "hrmcap"]);
    for format in Format::ALL {
        assert_eq!(
            serde_json::to_value(format).unwrap(),
            serde_json::Value::from(format.as_str())
        );
    }
}

#[test]
fn bad_content_is_an_error_naming_the_file_the_line_the_text_and_what_was_expected() {
    let out_of_range = |line, value, unit| ContentError::OutOfRange { line, value, unit };
    let cases: Vec<(&str, &str, ContentError, &str)> = vec![
        ("empty.rr", "", ContentError::Empty, "the file is empty"),
        ("blank.rr", "\n \n", ContentError::Empty, "the file is empty"),
        (
            "comments.rr",
            "# nothing\n",
            ContentError::NoIntervals,
            "the file holds no RR intervals",
        ),
        (
            "word.rr",
            "800\n810\nabc\n",
            ContentError::NotANumber {
                line: 3,
                text: "abc".into(),
            },
            "line 3: \"abc\" is not a number",
        ),
        (
            "nan.rr",
            "800\nNaN\n",
            ContentError::NotFinite {
                line: 2,
                text: "NaN".into(),
            },
            "line 2: \"NaN\" is not a finite number",
        ),
        (
            "short.rr",
            "800\n150\n",
            out_of_range(2, 150.0, Unit::Millis),
            "line 2: RR interval 150 ms is outside 200–3000 ms (20–300 bpm)",
        ),
        (
            "long.rr",
            "800\n3500\n",
            out_of_range(2, 3500.0, Unit::Millis),
            "line 2: RR interval 3500 ms is outside 200–3000 ms",
        ),
        // Seconds by the median, one value is ms: the mix-up is named in the unit it was read in.
        (
            "mixed.txt",
            "0.8\n0.81\n800\n",
            out_of_range(3, 800.0, Unit::Seconds),
            "line 3: RR interval 800 s is outside 200–3000 ms",
        ),
        (
            "nocol.csv",
            "time,hr\n1,60\n",
            ContentError::NoRrColumn {
                line: 1,
                columns: vec!["time".into(), "hr".into()],
            },
            "line 1: no RR or IBI column in the header (columns: time, hr)",
        ),
        (
            "ragged.csv",
            "time,hr,rr\n1,60,800\n2,61\n",
            ContentError::MissingField {
                line: 3,
                fields: 2,
                column: 3,
            },
            "line 3: has 2 fields, the RR column is field 3",
        ),
        (
            "cell.csv",
            "time,rr\n1,800\n2,n/a\n",
            ContentError::CellNotANumber {
                line: 3,
                text: "n/a".into(),
            },
            "line 3: \"n/a\" in the RR column is not a number",
        ),
        (
            "cellinf.csv",
            "time,rr\n1,inf\n",
            ContentError::CellNotFinite {
                line: 2,
                text: "inf".into(),
            },
            "line 2: \"inf\" in the RR column is not a finite number",
        ),
        (
            "csvrange.csv",
            "time,RR (ms)\n1,800\n2,0.8\n",
            out_of_range(3, 0.8, Unit::Millis),
            "line 3: RR interval 0.8 ms is outside",
        ),
        (
            "ragged-time-rr.txt",
            "0.0\t800\n0.8\t810\t5\n",
            ContentError::NotTwoColumns {
                line: 2,
                text: "0.8\t810\t5".into(),
            },
            "line 2: \"0.8\\t810\\t5\" is not two numbers (elapsed time, then RR)",
        ),
        (
            "time-rr-range.txt",
            "0.0\t800\n0.8\t0\n",
            out_of_range(2, 0.0, Unit::Millis),
            "line 2: RR interval 0 ms is outside",
        ),
        (
            "unknown.bin",
            "\u{1}\u{2}garbage",
            ContentError::UnknownFormat {
                first_line: "\u{1}\u{2}garbage".into(),
            },
            "unknown format: expected RR values one per line",
        ),
    ];
    for (name, text, problem, message) in cases {
        let err = recording::parse(text, Path::new(name)).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("{name}: ")) && shown.contains(message),
            "{name}: {shown:?} does not say {message:?}"
        );
        assert_eq!(err.path(), Path::new(name));
        assert_eq!(err.line(), problem.line(), "{name}");
        match err {
            RecordingError::Invalid { problem: got, .. } => assert_eq!(got, problem, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn a_capture_with_a_bad_header_names_the_version_and_line_one() {
    let err = recording::parse("# auren-capture v9\n0 1000\n", Path::new("bad.hrmcap")).unwrap_err();
    assert!(err.to_string().starts_with("bad.hrmcap: "), "{err}");
    assert!(err.to_string().contains("v9"), "{err}");
    assert_eq!(err.line(), Some(1));
    assert!(matches!(
        err,
        RecordingError::Invalid {
            problem: ContentError::Capture(_),
            ..
        }
    ));
}

#[test]
fn files_that_cannot_be_read_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.rr");
    let binary = dir.path().join("binary.rr");
    std::fs::write(&binary, b"800\n\xff\xfe\n").unwrap();
    let cases: [(PathBuf, &str); 2] = [
        (missing, "cannot read "),
        (binary, "not a text file (invalid UTF-8 at byte 4)"),
    ];
    for (path, message) in cases {
        let err = recording::read(&path).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.contains(&path.display().to_string()) && shown.contains(message),
            "{shown}"
        );
        assert_eq!(err.path(), path);
        assert_eq!(err.line(), None);
    }
}

#[test]
fn malformed_notifications_and_unreadable_lines_are_warnings_in_line_order() {
    let mut text = format_header(&CaptureHeader::new());
    text.push_str(&format_record(1_000, &payload(&[800.0], SensorContact::Detected)));
    // Line 3: an RR-present notification with an odd number of RR bytes.
    text.push_str("1500 1040ff0301\n");
    // Line 4: not hex.
    text.push_str("2000 zz\n");
    text.push_str(&format_record(2_500, &payload(&[810.0], SensorContact::Detected)));
    let got = recording::parse(&text, Path::new("s.hrmcap")).unwrap();
    assert_eq!(got.rr_ms.len(), 2);
    assert_eq!(got.warnings.len(), 2, "{:?}", got.warnings);
    assert!(
        got.warnings[0].starts_with("line 3: malformed notification skipped"),
        "{:?}",
        got.warnings
    );
    assert!(
        got.warnings[1].starts_with("line 4: skipped"),
        "{:?}",
        got.warnings
    );
    let capture = got.capture.unwrap();
    assert_eq!(
        capture.records.len(),
        3,
        "the malformed notification is replayed as live"
    );
    assert_eq!(capture.bad_lines.len(), 1);
}

/// Every event a source sends, until it ends.
async fn events(source: Box<dyn HeartSource>) -> Vec<SourceEvent> {
    let mut running = start(source, CancellationToken::new());
    let mut all = Vec::new();
    while let Some(event) = running.events.recv().await {
        all.push(event);
    }
    running.task.await.unwrap().unwrap();
    all
}

#[tokio::test]
async fn a_read_capture_replays_exactly_as_the_capture_file_with_its_gaps_and_contact() {
    let rr = rr_values("nsr_5min.rr");
    let text = capture_of(&rr, 100..110, 200..205);
    let read = recording::parse(&text, Path::new("s.hrmcap")).unwrap();
    let replayed = events(Box::new(read.replay("s.hrmcap", Pace::AsFastAsPossible).unwrap())).await;
    let original = events(Box::new(
        Replay::capture_text(&text, "s.hrmcap", Pace::AsFastAsPossible).unwrap(),
    ))
    .await;
    assert_eq!(replayed, original);
    let gaps: Vec<(u64, u64)> = replayed
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Gap { from_ms, to_ms } => Some((*from_ms, *to_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(gaps, [(99_000, 110_000), (199_000, 205_000)]);
    let contact_lost = replayed.iter().any(|e| {
        matches!(
            e,
            SourceEvent::ContactChanged {
                at_ms: 200_000,
                contact: SensorContact::NotDetected
            }
        )
    });
    assert!(contact_lost);
}

#[tokio::test]
async fn an_rr_recording_replays_one_sample_per_second_with_every_beat() {
    let rr = rr_values("nsr_5min.rr");
    let read = Recording {
        format: Format::RrMs,
        rr_ms: rr.clone(),
        gaps: Vec::new(),
        warnings: Vec::new(),
        capture: None,
    };
    let got = events(Box::new(read.replay("x.rr", Pace::AsFastAsPossible).unwrap())).await;
    let beats: Vec<f64> = got
        .iter()
        .filter_map(|e| match e {
            SourceEvent::Sample(s) => Some(s.rr_ms.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(beats, rr);
    assert!(!got.iter().any(|e| matches!(e, SourceEvent::Gap { .. })));
}

#[test]
fn an_empty_rr_cell_is_a_gap_with_its_rows_named() {
    let text = "t,hr,rr\n1,70,800\n2,70,810\n3,71,\n4,71,\n5,70,790\n6,70,\n7,70,820\n8,70,\n";
    let got = recording::parse(text, Path::new("gaps.csv")).unwrap();
    assert_eq!(got.rr_ms, [800.0, 810.0, 790.0, 820.0]);
    assert_eq!(
        got.gaps,
        [
            Gap {
                before: 2,
                first_line: 4,
                last_line: 5
            },
            Gap {
                before: 3,
                first_line: 7,
                last_line: 7
            },
        ]
    );
    assert_eq!(
        got.segments(),
        [&[800.0, 810.0][..], &[790.0][..], &[820.0][..]],
        "no interval follows another across a gap"
    );
    assert_eq!(
        got.warnings,
        [
            "lines 4–5: no RR value: a gap, no interval is computed across it",
            "line 7: no RR value: a gap, no interval is computed across it",
            "line 9: no RR value",
        ]
    );

    // Past twenty gaps one line counts the rest, so a file of HR-only rows does not flood stderr.
    let many: String = std::iter::once("t,rr\n".to_string())
        .chain((0..30).map(|i| format!("{i},800\n{i},\n")))
        .chain(["99,800\n".to_string()])
        .collect();
    let got = recording::parse(&many, Path::new("many.csv")).unwrap();
    assert_eq!(got.gaps.len(), 30);
    assert_eq!(got.segments().len(), 31);
    assert_eq!(got.warnings.len(), 21);
    assert_eq!(
        got.warnings[20],
        "10 more gaps (rows without an RR value) up to line 61"
    );
}

#[tokio::test]
async fn an_rr_recording_with_a_gap_replays_a_gap_event_between_its_segments() {
    let rr = rr_values("nsr_5min.rr");
    let mut text = String::from("t,rr\n");
    for (i, v) in rr.iter().enumerate() {
        if i == 150 {
            text.push_str("x,\n");
        }
        text.push_str(&format!("{i},{v}\n"));
    }
    let read = recording::parse(&text, Path::new("gap.csv")).unwrap();
    let got = events(Box::new(read.replay("gap.csv", Pace::AsFastAsPossible).unwrap())).await;
    // Every beat arrives, and the Gap comes exactly between the 150th and the 151st.
    let mut before_gap: Vec<f64> = Vec::new();
    let mut after_gap: Vec<f64> = Vec::new();
    let mut gaps = 0;
    for event in &got {
        match event {
            SourceEvent::Gap { from_ms, to_ms } => {
                assert!(from_ms < to_ms, "{event:?}");
                gaps += 1;
            }
            SourceEvent::Sample(s) if gaps == 0 => before_gap.extend(&s.rr_ms),
            SourceEvent::Sample(s) => after_gap.extend(&s.rr_ms),
            _ => {}
        }
    }
    assert_eq!(gaps, 1);
    assert_eq!(before_gap, rr[..150]);
    assert_eq!(after_gap, rr[150..]);
    let times: Vec<u64> = got.iter().map(SourceEvent::at_ms).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "time never runs back");
}

#[test]
fn utf16_with_a_byte_order_mark_reads_like_utf8() {
    let rr = rr_values("nsr_5min.rr");
    let text = format!(
        "RR (ms)\r\n{}",
        rr.iter().map(|v| format!("{v}\r\n")).collect::<String>()
    );
    let units: Vec<u16> = text.encode_utf16().collect();
    let le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(units.iter().flat_map(|u| u.to_le_bytes()))
        .collect();
    let be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain(units.iter().flat_map(|u| u.to_be_bytes()))
        .collect();
    let want = recording::parse(&text, Path::new("notepad.txt")).unwrap();
    assert_eq!(want.rr_ms, rr);
    for (name, bytes) in [("le.txt", le), ("be.txt", be)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(recording::read(&path).unwrap(), want, "{name}");
        assert_eq!(
            recording::parse_bytes(bytes, Path::new(name)).unwrap(),
            want,
            "{name}"
        );
    }

    // A lone surrogate or an odd byte count is not text.
    let cases: [(&str, Vec<u8>, usize); 2] = [
        (
            "surrogate.txt",
            vec![0xFF, 0xFE, b'8', 0, 0x00, 0xD8, b'\n', 0],
            4,
        ),
        ("odd.txt", vec![0xFF, 0xFE, b'8', 0, b'0'], 4),
    ];
    for (name, bytes, byte) in cases {
        let err = recording::parse_bytes(bytes, Path::new(name)).unwrap_err();
        assert!(
            matches!(err, RecordingError::NotUtf16 { byte: b, .. } if b == byte),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains("invalid UTF-16"), "{err}");
    }
}

/// A one-notification payload with raw 1/1024 s RR values, as a confused strap may send them.
fn raw_rr_payload(raw: &[u16]) -> Vec<u8> {
    // Flags 0x10: 8-bit heart rate, RR intervals present.
    let mut bytes = vec![0x10, 60];
    for r in raw {
        bytes.extend(r.to_le_bytes());
    }
    bytes
}

#[test]
fn a_capture_interval_no_heart_produces_is_reported_with_its_line_and_left_out() {
    let mut text = format_header(&CaptureHeader::new());
    text.push_str(&format_record(1_000, &payload(&[800.0], SensorContact::Detected)));
    // Line 3: 0 ms; line 4: 65 535 / 1024 s = 64 s; line 5 a good beat after a bad one in the same
    // notification.
    text.push_str(&format_record(1_500, &raw_rr_payload(&[0])));
    text.push_str(&format_record(2_000, &raw_rr_payload(&[u16::MAX])));
    text.push_str(&format_record(2_800, &raw_rr_payload(&[0, 829])));
    text.push_str(&format_record(3_600, &payload(&[810.0], SensorContact::Detected)));
    let got = recording::parse(&text, Path::new("bad-rr.hrmcap")).unwrap();
    assert_eq!(got.rr_ms.len(), 3, "{:?}", got.rr_ms);
    assert!(got.rr_ms.iter().all(|rr| RR_RANGE_MS.contains(rr)));
    assert_eq!(
        got.gaps,
        [Gap {
            before: 1,
            first_line: 3,
            last_line: 5
        }]
    );
    assert_eq!(got.warnings.len(), 3, "{:?}", got.warnings);
    for (warning, (line, value)) in got.warnings.iter().zip([(3, "0"), (4, "63999"), (5, "0")]) {
        assert!(
            warning.starts_with(&format!(
                "line {line}: RR interval {value} ms is outside 200–3000 ms"
            )),
            "{warning}"
        );
    }
}

#[test]
fn messages_quote_a_short_excerpt_of_a_huge_line() {
    let huge = "9".repeat(5_000_000);
    let cases: Vec<(&str, String)> = vec![
        ("word.rr", format!("800\nx{huge}\n")),
        ("inf.txt", format!("800\n{huge}e999\n")),
        ("range.rr", format!("800\n{huge}\n")),
        ("ragged.txt", format!("0\t800\n1\t{huge}x\t2\n")),
        ("cell.csv", format!("t,rr\n1,800\n2,x{huge}\n")),
        (
            "header.csv",
            format!("t,{huge},{}\n1,2\n", "col,".repeat(100_000)),
        ),
        ("unknown.bin", format!("\u{1}{huge}")),
        ("bad.hrmcap", format!("# auren-capture v1 {huge}\n")),
    ];
    for (name, text) in cases {
        let err = recording::parse(&text, Path::new(name)).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.chars().count() < 1_200,
            "{name}: {} chars",
            shown.chars().count()
        );
        assert!(shown.starts_with(&format!("{name}: ")), "{shown}");
    }
    // Within a capture, a damaged record line is a warning, quoted as briefly.
    let mut text = format_header(&CaptureHeader::new());
    text.push_str(&format!("x{huge} 00\n"));
    text.push_str(&format_record(1_000, &payload(&[800.0], SensorContact::Detected)));
    let got = recording::parse(&text, Path::new("lines.hrmcap")).unwrap();
    assert!(
        got.warnings.iter().all(|w| w.chars().count() < 200),
        "{:?}",
        got.warnings[0].len()
    );
}

/// One generated file: its name, its lines (without line ends) and the format it must read as.
fn generated_file(
    rr: &[f64],
    format: usize,
    comma: bool,
    gaps_before: &[usize],
) -> (&'static str, Vec<String>, Format) {
    let num = |v: f64| {
        let s = format!("{v}");
        if comma { s.replacen('.', ",", 1) } else { s }
    };
    let seconds = |v: f64| num(v / 1000.0);
    match format {
        0 => ("g.rr", rr.iter().map(|&v| num(v)).collect(), Format::RrMs),
        1 => (
            "g.txt",
            rr.iter().map(|&v| seconds(v)).collect(),
            Format::KubiosSeconds,
        ),
        2 => {
            let mut t = 0.0;
            let rows = rr.iter().map(|&v| {
                let row = format!("{}\t{}", seconds(t), num(v));
                t += v;
                row
            });
            ("flow.txt", rows.collect(), Format::TimeAndRr)
        }
        // The CSV exports may have rows without an RR value: a gap before interval k.
        3 | 4 => {
            let (header, sep, cell): (&str, &str, &dyn Fn(f64) -> String) = if format == 3 {
                ("time;RR (s)", ";", &seconds)
            } else {
                ("time,rr", ",", &|v: f64| format!("{v}"))
            };
            let mut lines = vec![header.to_string()];
            for (i, &v) in rr.iter().enumerate() {
                if gaps_before.contains(&i) {
                    lines.push(format!("{i}{sep}"));
                }
                lines.push(format!("{i}{sep}{}", cell(v)));
            }
            ("g.csv", lines, Format::Csv)
        }
        _ => unreachable!("five formats"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn generated_files_of_every_text_format_read_back_their_series(
        // Whole milliseconds, or three decimals of a second: exact in either writing.
        rr in prop::collection::vec(300u32..2000, 1..40).prop_map(|v| v.into_iter().map(f64::from).collect::<Vec<f64>>()),
        format in 0usize..5,
        ends in prop::sample::select(vec!["\n", "\r\n", "\r"]),
        comma in any::<bool>(),
        gaps in prop::collection::btree_set(1usize..40, 0..4),
    ) {
        let gaps_before: Vec<usize> = gaps.into_iter().filter(|&k| k < rr.len()).collect();
        let (name, lines, want_format) = generated_file(&rr, format, comma, &gaps_before);
        let text = lines.join(ends) + ends;
        let got = recording::parse(&text, Path::new(name));
        prop_assert!(got.is_ok(), "{:?}\n{:?}", got, text);
        let got = got.unwrap();
        prop_assert_eq!(got.format, want_format, "{:?}", text);
        prop_assert_eq!(got.rr_ms.len(), rr.len());
        for (g, w) in got.rr_ms.iter().zip(&rr) {
            prop_assert!((g - w).abs() <= 1e-9, "{} vs {}", g, w);
        }
        let want_gaps: Vec<usize> = if format >= 3 { gaps_before } else { Vec::new() };
        let got_gaps: Vec<usize> = got.gaps.iter().map(|g| g.before).collect();
        prop_assert_eq!(&got_gaps, &want_gaps);
        prop_assert_eq!(got.warnings.len(), want_gaps.len());
        prop_assert_eq!(got.segments().len(), want_gaps.len() + 1);
    }

    #[test]
    fn any_input_is_read_or_refused_without_a_panic(
        prefix in prop::sample::select(vec![
            &b""[..], &[0xFF, 0xFE][..], &[0xFE, 0xFF][..], &[0xEF, 0xBB, 0xBF][..], &b"t,rr\n"[..],
            &b"# auren-capture v1\n"[..],
        ]),
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            "[0-9.,;\t \r\n#eE+xRr()ms\u{feff}\u{fffd}-]{0,200}".prop_map(String::into_bytes),
        ],
    ) {
        let bytes: Vec<u8> = prefix.iter().copied().chain(body).collect();
        if let Ok(read) = recording::parse_bytes(bytes, Path::new("any.txt")) {
            prop_assert!(!read.rr_ms.is_empty());
            prop_assert!(read.rr_ms.iter().all(|rr| RR_RANGE_MS.contains(rr)));
            prop_assert!(read.gaps.iter().all(|g| 0 < g.before && g.before < read.rr_ms.len()));
        }
    }
}
