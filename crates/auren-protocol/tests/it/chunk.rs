//! Beat chunks: exact round trips on any valid series, compact for strap data, untrusted input refused.

use auren_protocol::change::{Beat, ChunkError, raw_to_ms};
use auren_protocol::{BeatsChunk, TimeBreak};
use proptest::prelude::*;

/// A series like a strap's: whole 1/1024 s RR, times the running sum from a start, a few gaps, some
/// millisecond-valued RR (an imported file) and artifact labels.
fn series() -> impl Strategy<Value = Vec<Beat>> {
    (
        0.0f64..10_000.0,
        prop::collection::vec(
            (300u16..2000, 0u8..20, proptest::option::of(0.0f64..5000.0)),
            0..300,
        ),
    )
        .prop_map(|(start, steps)| {
            let mut t = start;
            let mut beats: Vec<Beat> = Vec::with_capacity(steps.len());
            for (i, (raw, roll, gap)) in steps.into_iter().enumerate() {
                let rr_ms = if roll == 1 {
                    f64::from(raw) * 0.97
                } else {
                    raw_to_ms(raw)
                };
                t = if i == 0 {
                    start
                } else {
                    t + rr_ms + if roll == 2 { gap.unwrap_or(1.0) + 1.0 } else { 0.0 }
                };
                let artifact = (roll == 3).then(|| "ectopic".to_owned());
                beats.push(Beat {
                    t_ms: t,
                    rr_ms,
                    artifact,
                });
            }
            beats
        })
}

proptest! {
    #[test]
    fn decode_inverts_encode_exactly(beats in series()) {
        let chunk = BeatsChunk::encode("dev:1", &beats).unwrap();
        prop_assert_eq!(chunk.decode().unwrap(), beats.clone());
        let wire: BeatsChunk = serde_json::from_str(&serde_json::to_string(&chunk).unwrap()).unwrap();
        prop_assert_eq!(wire.decode().unwrap(), beats);
    }

    #[test]
    fn decoding_arbitrary_chunks_never_panics(
        raw in prop::collection::vec(any::<u16>(), 0..20),
        breaks in prop::collection::vec((0u32..25, -1e3f64..1e6), 0..4),
        start in -1e3f64..1e6,
    ) {
        let chunk = BeatsChunk {
            session_key: "k".into(),
            start_ms: start,
            rr_raw: raw,
            t_breaks: breaks.into_iter().map(|(index, t_ms)| TimeBreak { index, t_ms }).collect(),
            rr_overrides: Vec::new(),
            artifacts: Vec::new(),
        };
        if let Ok(beats) = chunk.decode() {
            prop_assert!(beats.windows(2).all(|w| w[1].t_ms > w[0].t_ms));
            prop_assert!(beats.iter().all(|b| b.rr_ms > 0.0));
        }
    }
}

#[test]
fn strap_data_needs_no_breaks_or_overrides() {
    let mut t = 1000.0;
    let beats: Vec<Beat> = [800u16, 812, 790, 1023]
        .iter()
        .map(|&raw| {
            t += raw_to_ms(raw);
            Beat {
                t_ms: t,
                rr_ms: raw_to_ms(raw),
                artifact: None,
            }
        })
        .collect();
    let chunk = BeatsChunk::encode("dev:1", &beats).unwrap();
    assert_eq!(chunk.rr_raw, vec![800, 812, 790, 1023]);
    assert!(chunk.t_breaks.is_empty() && chunk.rr_overrides.is_empty() && chunk.artifacts.is_empty());
    assert_eq!(
        serde_json::to_string(&chunk).unwrap(),
        r#"{"session_key":"dev:1","start_ms":1781.25,"rr_raw":[800,812,790,1023]}"#
    );
}

#[test]
fn bad_chunks_name_the_problem() {
    let base = BeatsChunk {
        session_key: "k".into(),
        start_ms: 0.0,
        rr_raw: vec![800, 800],
        t_breaks: Vec::new(),
        rr_overrides: Vec::new(),
        artifacts: Vec::new(),
    };
    let cases = [
        (
            BeatsChunk {
                t_breaks: vec![TimeBreak { index: 5, t_ms: 1.0 }],
                ..base.clone()
            },
            ChunkError::BadIndex {
                what: "time break",
                index: 5,
            },
        ),
        (
            BeatsChunk {
                t_breaks: vec![TimeBreak { index: 1, t_ms: -1.0 }],
                ..base.clone()
            },
            ChunkError::BadValue {
                index: 1,
                reason: "its time is not after the previous beat's",
            },
        ),
        (
            BeatsChunk {
                rr_raw: vec![0],
                ..base.clone()
            },
            ChunkError::BadValue {
                index: 0,
                reason: "its RR interval is not a positive finite number",
            },
        ),
    ];
    for (chunk, expected) in cases {
        assert_eq!(chunk.decode().unwrap_err(), expected);
    }
    let nan = [Beat {
        t_ms: f64::NAN,
        rr_ms: 800.0,
        artifact: None,
    }];
    assert!(matches!(
        BeatsChunk::encode("k", &nan),
        Err(ChunkError::BadValue { index: 0, .. })
    ));
}
