//! The text exports: CSV of the raw beats, Kubios RR text, and their round trips.

use crate::reference;
use auren_report::{ReportBeat, csv, kubios_rr};

#[test]
fn csv_rows_are_stable() {
    let cases: &[(&str, &[ReportBeat<'_>], &str)] = &[
        ("no beats", &[], "time_s,rr_ms,artifact\n"),
        (
            "clean and labelled beats",
            &[
                ReportBeat {
                    t_s: 0.812,
                    rr_ms: 812.0,
                    artifact: None,
                },
                ReportBeat {
                    t_s: 1.6245,
                    rr_ms: 812.5,
                    artifact: Some("ectopic"),
                },
                ReportBeat {
                    t_s: 3000.1,
                    rr_ms: 1200.125,
                    artifact: Some("long_short"),
                },
            ],
            "time_s,rr_ms,artifact\n0.812,812,\n1.625,812.5,ectopic\n3000.1,1200.125,long_short\n",
        ),
        (
            "a kind that needs quoting",
            &[ReportBeat {
                t_s: 1.0,
                rr_ms: 1000.0,
                artifact: Some("odd, \"kind\""),
            }],
            "time_s,rr_ms,artifact\n1,1000,\"odd, \"\"kind\"\"\"\n",
        ),
    ];
    for (name, beats, want) in cases {
        assert_eq!(csv(beats), *want, "{name}");
    }
}

#[test]
fn csv_round_trips_the_reference() {
    let rr = reference("nsr_5min_artifacts.rr");
    let kinds = ["ectopic", "missed", "extra", "long_short"];
    let mut t = 0.0;
    let beats: Vec<ReportBeat<'_>> = rr
        .iter()
        .enumerate()
        .map(|(i, &rr_ms)| {
            t += rr_ms / 1000.0;
            ReportBeat {
                t_s: t,
                rr_ms,
                artifact: (i % 37 == 5).then(|| kinds[i % 4]),
            }
        })
        .collect();
    let text = csv(&beats);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("time_s,rr_ms,artifact"));
    let back: Vec<(f64, f64, String)> = lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 3, "{line}");
            (
                fields[0].parse().expect("time"),
                fields[1].parse().expect("rr"),
                fields[2].to_owned(),
            )
        })
        .collect();
    assert_eq!(back.len(), beats.len());
    for (beat, (t_s, rr_ms, kind)) in beats.iter().zip(&back) {
        assert!((beat.t_s - t_s).abs() <= 0.0005, "{t_s} vs {}", beat.t_s);
        assert!((beat.rr_ms - rr_ms).abs() <= 0.0005, "{rr_ms} vs {}", beat.rr_ms);
        assert_eq!(beat.artifact.unwrap_or(""), kind);
    }
}

#[test]
fn kubios_lines_are_seconds_with_three_decimals() {
    let cases: &[(&[f64], &str)] = &[
        (&[], ""),
        (&[812.0], "0.812\n"),
        (&[812.4, 1000.0, 1999.6], "0.812\n1.000\n2.000\n"),
        (&[1234.5678], "1.235\n"),
    ];
    for (rr, want) in cases {
        assert_eq!(kubios_rr(rr), *want, "{rr:?}");
    }
}

/// auren-cli's reader (crates/auren-cli/src/input.rs, `read_single_column`) reads a single column
/// whose median is under 10 as seconds, skipping blank and `#` lines, and refuses intervals outside
/// 200–3000 ms. This is that rule, applied to our output: it must come back as the same intervals.
#[test]
fn kubios_text_reads_back_as_the_cli_reads_seconds() {
    for name in ["nsr_5min.rr", "nsr_5min_artifacts.rr", "nsr_60min.rr"] {
        let rr = reference(name);
        let text = kubios_rr(&rr);
        assert!(
            !text.lines().next().unwrap_or("").contains(char::is_alphabetic),
            "{name}: a header"
        );
        let values: Vec<f64> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.parse().unwrap_or_else(|e| panic!("{name}: {l:?}: {e}")))
            .collect();
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        assert!(
            sorted[sorted.len() / 2] < 10.0,
            "{name}: the reader would take these as ms"
        );
        let back: Vec<f64> = values.iter().map(|s| s * 1000.0).collect();
        assert_eq!(back.len(), rr.len(), "{name}");
        for (i, (a, b)) in rr.iter().zip(&back).enumerate() {
            assert!(
                (a - b).abs() <= 0.5,
                "{name} line {}: {a} ms came back as {b} ms",
                i + 1
            );
            assert!(
                (200.0..=3000.0).contains(b),
                "{name} line {}: {b} ms out of the reader's range",
                i + 1
            );
        }
    }
}
