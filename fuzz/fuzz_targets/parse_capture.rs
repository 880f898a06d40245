//! Fuzzes the `.hrmcap` parser: no text panics, and a parsed capture formats back to text that parses to
//! the same header and records.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]
#![no_main]

use auren_hrm::capture::{Capture, format_header, format_record, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    // Random bytes almost never spell the first line, so the record-line parser is also fed the input
    // behind a good header (and then must accept it, whatever the records look like).
    if let Ok(capture) = parse(text) {
        check_round_trip(&capture);
    }
    let with_header = format!("# auren-capture v1 device=fuzz\n{text}");
    match parse(&with_header) {
        Ok(capture) => check_round_trip(&capture),
        Err(error) => panic!("a capture with a good first line was refused: {error}"),
    }
});

fn check_round_trip(capture: &Capture) {
    assert!(
        capture.records.windows(2).all(|w| w[0].at_ms <= w[1].at_ms),
        "records out of time order"
    );

    let mut again = format_header(&capture.header);
    for record in &capture.records {
        again.push_str(&format_record(record.at_ms, &record.payload));
    }
    let reparsed = match parse(&again) {
        Ok(reparsed) => reparsed,
        Err(error) => panic!("a formatted capture was refused: {error}\n{again}"),
    };
    assert_eq!(reparsed.header, capture.header);
    assert!(
        reparsed.bad_lines.is_empty(),
        "formatted records failed: {:?}",
        reparsed.bad_lines
    );
    let times_and_payloads = |c: &Capture| {
        c.records
            .iter()
            .map(|r| (r.at_ms, r.payload.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(times_and_payloads(&reparsed), times_and_payloads(capture));
}
