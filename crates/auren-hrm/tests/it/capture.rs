//! The `.hrmcap` capture format: header and record formatting, malformed first lines, malformed record
//! lines with their line numbers, and parse/format round trips.

use auren_hrm::capture::{
    Capture, CaptureError, CaptureHeader, CaptureRecord, LineError, RecordError, format_header,
    format_record, parse,
};
use proptest::prelude::*;

fn record(line: usize, at_ms: u64, payload: &[u8]) -> CaptureRecord {
    CaptureRecord {
        line,
        at_ms,
        payload: payload.to_vec(),
    }
}

#[test]
fn parses_the_documented_example() {
    let text = "# auren-capture v1 device=Polar%20H10%20A1B2C3D4 address=A0:9E:1A:12:34:56\n\
                # lines starting with '#' are comments; blank lines are ignored\n\
                0 16460403c503\n\
                1007 1045\n\
                \n\
                1996 -\n";
    let capture = parse(text).unwrap();
    assert_eq!(capture.header.device_name(), Some("Polar H10 A1B2C3D4"));
    assert_eq!(capture.header.address(), Some("A0:9E:1A:12:34:56"));
    assert_eq!(capture.header.get("firmware"), None);
    assert_eq!(
        capture.records,
        [
            record(3, 0, &[0x16, 0x46, 0x04, 0x03, 0xC5, 0x03]),
            record(4, 1007, &[0x10, 0x45]),
            record(6, 1996, &[]),
        ]
    );
    assert_eq!(capture.bad_lines, []);
}

#[test]
fn header_formats_with_percent_escapes() {
    let table: &[(CaptureHeader, &str)] = &[
        (CaptureHeader::new(), "# auren-capture v1\n"),
        (
            CaptureHeader::new()
                .with_device_name("Polar H10 A1B2C3D4")
                .with_address("A0:9E:1A:12:34:56"),
            "# auren-capture v1 device=Polar%20H10%20A1B2C3D4 address=A0:9E:1A:12:34:56\n",
        ),
        (
            CaptureHeader::new().with("note", "50%=half\nline\ttab"),
            "# auren-capture v1 note=50%25%3Dhalf%0Aline%09tab\n",
        ),
        (
            CaptureHeader::new().with("a=b c", ""),
            "# auren-capture v1 a%3Db%20c=\n",
        ),
        (
            CaptureHeader::new().with("device", "Gürtel ♥"),
            "# auren-capture v1 device=Gürtel%20♥\n",
        ),
    ];
    for (header, line) in table {
        assert_eq!(format_header(header), *line);
        assert_eq!(parse(line).unwrap().header, *header, "{line}");
    }
}

#[test]
fn header_set_replaces_in_place_and_keeps_order() {
    let mut header = CaptureHeader::new()
        .with("device", "A")
        .with("address", "X")
        .with("firmware", "1.0");
    header.set("device", "B");
    assert_eq!(
        header.fields().collect::<Vec<_>>(),
        [("device", "B"), ("address", "X"), ("firmware", "1.0")]
    );
    assert!(!header.is_empty());
    assert!(CaptureHeader::new().is_empty());
}

#[test]
fn header_variants_that_are_accepted() {
    let table: &[(&str, &[(&str, &str)])] = &[
        ("# auren-capture v1", &[]),
        ("# auren-capture v1   ", &[]),
        ("\u{feff}# auren-capture v1 device=x\r\n0 00", &[("device", "x")]),
        (
            "# auren-capture\tv1\tdevice=x   address=y",
            &[("device", "x"), ("address", "y")],
        ),
        ("# auren-capture v1 device=G%c3%bcrtel", &[("device", "Gürtel")]),
        ("# auren-capture v1 =", &[("", "")]),
        ("# auren-capture v1 k=a=b", &[("k", "a=b")]),
    ];
    for (text, fields) in table {
        let capture = parse(text).unwrap();
        assert_eq!(capture.header.fields().collect::<Vec<_>>(), *fields, "{text:?}");
    }
}

#[test]
fn bad_first_lines_stop_the_parse() {
    let missing = |found: &str| CaptureError::MissingHeader {
        found: found.to_owned(),
    };
    let table: &[(&str, CaptureError)] = &[
        ("", missing("")),
        ("0 0048\n1 0048", missing("0 0048")),
        ("\n# auren-capture v1", missing("")),
        ("# auren-capture", missing("# auren-capture")),
        ("# auren-capturev1", missing("# auren-capturev1")),
        ("# auren-capture device=x", missing("# auren-capture device=x")),
        ("# AUREN-CAPTURE v1", missing("# AUREN-CAPTURE v1")),
        ("# auren-capture v", missing("# auren-capture v")),
        (
            "# auren-capture v2",
            CaptureError::UnsupportedVersion { version: "v2".into() },
        ),
        (
            "# auren-capture v10 device=x",
            CaptureError::UnsupportedVersion {
                version: "v10".into(),
            },
        ),
        (
            "# auren-capture v1 device",
            CaptureError::HeaderFieldWithoutEquals {
                field: "device".into(),
            },
        ),
        (
            "# auren-capture v1 device=Polar%2",
            CaptureError::BadHeaderEscape {
                field: "device=Polar%2".into(),
            },
        ),
        (
            "# auren-capture v1 device=%zz",
            CaptureError::BadHeaderEscape {
                field: "device=%zz".into(),
            },
        ),
        (
            "# auren-capture v1 na%FFme=x",
            CaptureError::BadHeaderEscape {
                field: "na%FFme=x".into(),
            },
        ),
        (
            "# auren-capture v1 a=1 b=2 a=3",
            CaptureError::DuplicateHeaderKey { key: "a".into() },
        ),
    ];
    for (text, expected) in table {
        assert_eq!(parse(text).as_ref(), Err(expected), "{text:?}");
    }
}

#[test]
fn a_long_wrong_first_line_is_shortened_in_the_error() {
    let line = "x".repeat(200);
    let error = parse(&line).unwrap_err();
    assert_eq!(
        error,
        CaptureError::MissingHeader {
            found: format!("{}…", "x".repeat(60))
        }
    );
    // Every other error that quotes the file quotes as little.
    let huge = "9".repeat(100_000);
    let header_errors = [
        format!("# auren-capture v{huge}"),
        format!("# auren-capture v1 {huge}"),
        format!("# auren-capture v1 a={huge}%"),
        format!("# auren-capture v1 {huge}=1 {huge}=2"),
    ];
    for header in header_errors {
        let shown = parse(&header).unwrap_err().to_string();
        assert!(shown.chars().count() < 150, "{} chars", shown.chars().count());
    }
    let bad = parse(&format!("# auren-capture v1\nx{huge} 00\n"))
        .unwrap()
        .bad_lines;
    assert!(bad[0].to_string().chars().count() < 150, "{}", bad[0]);
    assert_eq!(
        CaptureError::UnsupportedVersion { version: "v2".into() }.to_string(),
        "capture format version \"v2\" is not supported (this build reads v1)"
    );
}

/// A record's time and payload, as a table expects it.
type ParsedRecord = (u64, &'static [u8]);

/// Each case is the third line of a capture whose second line is a good record at 1000 ms.
#[test]
fn record_lines_table() {
    let bad_ts = |text: &str| {
        Err(RecordError::BadTimestamp {
            text: text.to_owned(),
        })
    };
    let table: &[(&str, Result<ParsedRecord, RecordError>)] = &[
        ("1000 0048", Ok((1000, &[0x00, 0x48]))),
        ("1001 ABcd", Ok((1001, &[0xAB, 0xCD]))),
        ("1000 -", Ok((1000, &[]))),
        ("  1001\t\t0048  ", Ok((1001, &[0x00, 0x48]))),
        ("18446744073709551615 ff", Ok((u64::MAX, &[0xFF]))),
        ("x 0048", bad_ts("x")),
        ("-5 0048", bad_ts("-5")),
        ("+1005 0048", bad_ts("+1005")),
        ("1000.5 0048", bad_ts("1000.5")),
        ("18446744073709551616 00", bad_ts("18446744073709551616")),
        ("1000", Err(RecordError::MissingPayload)),
        ("1000   ", Err(RecordError::MissingPayload)),
        ("1000 004", Err(RecordError::OddHexLength { digits: 3 })),
        (
            "1000 00g8",
            Err(RecordError::InvalidHexDigit {
                column: 8,
                found: 'g',
            }),
        ),
        (
            "1000 0x48",
            Err(RecordError::InvalidHexDigit {
                column: 7,
                found: 'x',
            }),
        ),
        (
            "1000 00é8",
            Err(RecordError::InvalidHexDigit {
                column: 8,
                found: 'é',
            }),
        ),
        (
            "1000 --",
            Err(RecordError::InvalidHexDigit {
                column: 6,
                found: '-',
            }),
        ),
        (
            "\t1000\t00zz",
            Err(RecordError::InvalidHexDigit {
                column: 9,
                found: 'z',
            }),
        ),
        (
            "1000 0048 extra",
            Err(RecordError::UnexpectedField { column: 11 }),
        ),
        ("1000 00 48", Err(RecordError::UnexpectedField { column: 9 })),
        (
            "999 0048",
            Err(RecordError::TimeWentBackwards {
                at_ms: 999,
                previous_ms: 1000,
            }),
        ),
        (
            "0 -",
            Err(RecordError::TimeWentBackwards {
                at_ms: 0,
                previous_ms: 1000,
            }),
        ),
    ];
    for (line, expected) in table {
        let text = format!("# auren-capture v1\n1000 0048\n{line}\n");
        let capture = parse(&text).unwrap();
        assert_eq!(capture.records[0], record(2, 1000, &[0x00, 0x48]), "{line:?}");
        match expected {
            Ok((at_ms, payload)) => {
                assert_eq!(
                    capture.records.get(1),
                    Some(&record(3, *at_ms, payload)),
                    "{line:?}"
                );
                assert_eq!(capture.bad_lines, [], "{line:?}");
            }
            Err(error) => {
                assert_eq!(capture.records.len(), 1, "{line:?}");
                assert_eq!(
                    capture.bad_lines,
                    [LineError {
                        line: 3,
                        error: error.clone()
                    }],
                    "{line:?}"
                );
            }
        }
    }
}

#[test]
fn bad_lines_carry_their_line_numbers_and_do_not_stop_the_parse() {
    let text = "# auren-capture v1 device=H10\r\n\
                # started\r\n\
                0 0648\r\n\
                \r\n\
                12x 0648\r\n\
                500 064\r\n\
                \t# a comment after a tab\r\n\
                1000 0648\r\n\
                900 0648\r\n\
                1000 06q8\r\n\
                2000 0648 0648\r\n\
                3000\r\n\
                3000 06480a04";
    let capture = parse(text).unwrap();
    assert_eq!(
        capture,
        Capture {
            header: CaptureHeader::new().with_device_name("H10"),
            records: vec![
                record(3, 0, &[0x06, 0x48]),
                record(8, 1000, &[0x06, 0x48]),
                record(13, 3000, &[0x06, 0x48, 0x0A, 0x04]),
            ],
            bad_lines: vec![
                LineError {
                    line: 5,
                    error: RecordError::BadTimestamp { text: "12x".into() }
                },
                LineError {
                    line: 6,
                    error: RecordError::OddHexLength { digits: 3 }
                },
                LineError {
                    line: 9,
                    error: RecordError::TimeWentBackwards {
                        at_ms: 900,
                        previous_ms: 1000
                    }
                },
                LineError {
                    line: 10,
                    error: RecordError::InvalidHexDigit {
                        column: 8,
                        found: 'q'
                    }
                },
                LineError {
                    line: 11,
                    error: RecordError::UnexpectedField { column: 11 }
                },
                LineError {
                    line: 12,
                    error: RecordError::MissingPayload
                },
            ],
        }
    );
    assert_eq!(
        capture.bad_lines[2].to_string(),
        "line 9: time goes backwards: 900 ms comes after a record at 1000 ms"
    );
    assert_eq!(
        capture.bad_lines[3].to_string(),
        "line 10: invalid hex digit 'q' at column 8"
    );
}

#[test]
fn record_lines_format_lowercase_hex_and_dash_for_empty() {
    let table: &[(u64, &[u8], &str)] = &[
        (0, &[0x16, 0x3C], "0 163c\n"),
        (5, &[], "5 -\n"),
        (1007, &[0xAB, 0xCD, 0xEF, 0x00], "1007 abcdef00\n"),
        (u64::MAX, &[0xFF], "18446744073709551615 ff\n"),
    ];
    for &(at_ms, payload, line) in table {
        assert_eq!(format_record(at_ms, payload), line);
    }
}

fn any_header() -> impl Strategy<Value = CaptureHeader> {
    proptest::collection::vec((any::<String>(), any::<String>()), 0..6).prop_map(|fields| {
        fields
            .into_iter()
            .fold(CaptureHeader::new(), |h, (k, v)| h.with(k, v))
    })
}

fn any_records() -> impl Strategy<Value = Vec<(u64, Vec<u8>)>> {
    proptest::collection::vec(
        (0..5_000u64, proptest::collection::vec(any::<u8>(), 0..24)),
        0..30,
    )
    .prop_map(|steps| {
        let mut at_ms = 0;
        steps
            .into_iter()
            .map(|(delta, payload)| {
                at_ms += delta;
                (at_ms, payload)
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn format_then_parse_gives_back_header_and_records(header in any_header(), records in any_records()) {
        let mut text = format_header(&header);
        for (at_ms, payload) in &records {
            text.push_str(&format_record(*at_ms, payload));
        }
        let capture = parse(&text).unwrap();
        prop_assert_eq!(capture.header, header);
        prop_assert_eq!(capture.bad_lines, []);
        let expected: Vec<CaptureRecord> =
            records.iter().enumerate().map(|(i, (at_ms, payload))| record(i + 2, *at_ms, payload)).collect();
        prop_assert_eq!(capture.records, expected);
    }

    #[test]
    fn formatted_lines_are_single_lines(header in any_header(), at_ms in any::<u64>(), payload in proptest::collection::vec(any::<u8>(), 0..24)) {
        for line in [format_header(&header), format_record(at_ms, &payload)] {
            prop_assert!(line.ends_with('\n'));
            prop_assert_eq!(line.lines().count(), 1);
        }
    }

    #[test]
    fn parse_never_panics_and_numbers_lines_in_order(body in "(\\PC{0,12}[ \t0-9a-fA-F#\r\n-]{0,12}){0,20}") {
        for text in [body.clone(), format!("# auren-capture v1\n{body}")] {
            if let Ok(capture) = parse(&text) {
                let mut lines: Vec<usize> = capture.records.iter().map(|r| r.line).collect();
                lines.extend(capture.bad_lines.iter().map(|b| b.line));
                lines.sort_unstable();
                lines.dedup();
                prop_assert_eq!(lines.len(), capture.records.len() + capture.bad_lines.len());
                prop_assert!(lines.iter().all(|&l| l >= 2 && l <= text.lines().count()));
                prop_assert!(capture.records.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
            }
        }
    }

    #[test]
    fn parse_never_panics_on_arbitrary_text(text in any::<String>()) {
        // Any text after a good first line is a capture, however damaged its records.
        let _ = parse(&text);
        let with_header = format!("# auren-capture v1\n{text}");
        prop_assert!(parse(&with_header).is_ok());
    }
}
