//! The report images: PNG bytes that decode to a drawn picture, SVG holding the same texts.

use crate::{Fixture, reference};
use auren_report::{ARTIFACT_RGB, TACHOGRAM_RGB, render_png, render_svg};
use std::collections::HashSet;

struct Case {
    name: &'static str,
    fixture: fn() -> Fixture,
    size: (u32, u32),
    /// The spectrum panel is drawn (its band labels appear).
    spectrum: bool,
    /// Text nodes the SVG must hold besides title and source.
    texts: &'static [&'static str],
}

fn five_min() -> Fixture {
    Fixture::from_rr(&reference("nsr_5min.rr"))
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "5-min reference",
            fixture: five_min,
            size: (1600, 1200),
            spectrum: true,
            texts: &[
                "Power spectral density (Welch)",
                "Time (min)",
                "RR interval (ms)",
                "Frequency (Hz)",
                "RR n (ms)",
                "Time domain",
                "Artifacts",
            ],
        },
        Case {
            name: "5-min with artifacts",
            fixture: || Fixture::from_rr(&reference("nsr_5min_artifacts.rr")),
            size: (1600, 1200),
            spectrum: true,
            texts: &[],
        },
        Case {
            name: "60-min reference",
            fixture: || Fixture::from_rr(&reference("nsr_60min.rr")),
            size: (1600, 1200),
            spectrum: true,
            texts: &[],
        },
        Case {
            name: "smallest size",
            fixture: five_min,
            size: (800, 600),
            spectrum: true,
            texts: &[],
        },
        Case {
            name: "wide and short",
            fixture: five_min,
            size: (2400, 900),
            spectrum: true,
            texts: &[],
        },
        Case {
            name: "three beats",
            fixture: || Fixture::from_rr(&[800.0, 820.0, 830.0]),
            size: (1600, 1200),
            spectrum: false,
            texts: &[
                "No spectrum: needs at least 60 s of recording, got 1 s",
                "Time (s)",
                "SD1 = 5.0 ms",
                "SD2 = 21.0 ms",
            ],
        },
        Case {
            name: "simulated source",
            fixture: || Fixture {
                source: "Simulated strap — scenario fatigued".to_owned(),
                simulated: true,
                ..five_min()
            },
            size: (1600, 1200),
            spectrum: true,
            texts: &["SIMULATED DATA — not a real recording"],
        },
        Case {
            name: "precomputed spectrum",
            fixture: || {
                let freq: Vec<f64> = (0..200).map(|k| f64::from(k) * 0.0025).collect();
                let power = freq
                    .iter()
                    .map(|f| 1000.0 * (-((f - 0.25) / 0.02_f64).powi(2)).exp())
                    .collect();
                Fixture {
                    spectrum: Some((freq, power, "Lomb–Scargle")),
                    ..five_min()
                }
            },
            size: (1600, 1200),
            spectrum: true,
            texts: &["Power spectral density (Lomb–Scargle)"],
        },
        Case {
            name: "a gap in the beats",
            fixture: || {
                let mut f = five_min();
                for beat in f.beats.iter_mut().skip(150) {
                    beat.0 += 30.0;
                }
                f
            },
            size: (1600, 1200),
            spectrum: true,
            texts: &["gap (1)"],
        },
        Case {
            name: "markup in the title",
            fixture: || Fixture {
                title: "A <b> & \"c\"".to_owned(),
                ..five_min()
            },
            size: (1600, 1200),
            spectrum: true,
            texts: &[],
        },
    ]
}

fn rgb_at(pixels: &[u8], width: u32, x: u32, y: u32) -> [u8; 3] {
    let i = (y as usize * width as usize + x as usize) * 3;
    [pixels[i], pixels[i + 1], pixels[i + 2]]
}

/// Pixels of rows `from..to` (fractions of the height) and columns `0..right` (fraction of the width).
fn region(pixels: &[u8], (w, h): (u32, u32), from: f64, to: f64, right: f64) -> Vec<[u8; 3]> {
    let rows = (f64::from(h) * from) as u32..(f64::from(h) * to) as u32;
    let cols = 0..(f64::from(w) * right) as u32;
    rows.flat_map(|y| cols.clone().map(move |x| (x, y)))
        .map(|(x, y)| rgb_at(pixels, w, x, y))
        .collect()
}

#[test]
fn png_decodes_to_a_drawn_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    for case in cases() {
        let fixture = (case.fixture)();
        let (w, h) = case.size;
        let bytes = fixture
            .with_input(|input| render_png(input, w, h))
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{}: no PNG signature",
            case.name
        );
        std::fs::write(dir.path().join(format!("{}.png", case.name)), &bytes).expect("write png");

        let mut reader = png::Decoder::new(std::io::Cursor::new(&bytes))
            .read_info()
            .expect("png header");
        let mut pixels = vec![0; reader.output_buffer_size().expect("buffer size")];
        let info = reader.next_frame(&mut pixels).expect("png frame");
        assert_eq!((info.width, info.height), (w, h), "{}", case.name);
        assert_eq!(info.color_type, png::ColorType::Rgb, "{}", case.name);

        let distinct: HashSet<[u8; 3]> = pixels.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
        assert!(
            distinct.len() > 64,
            "{}: only {} colours",
            case.name,
            distinct.len()
        );
        let title = region(&pixels, (w, h), 0.0, 0.06, 0.5);
        let dark = title
            .iter()
            .filter(|p| p.iter().map(|&c| u32::from(c)).sum::<u32>() < 200)
            .count();
        assert!(
            dark > 100,
            "{}: {dark} dark pixels in the title region",
            case.name
        );
        let tachogram = region(&pixels, (w, h), 0.12, 0.38, 1.0);
        assert!(
            tachogram.contains(&TACHOGRAM_RGB),
            "{}: no RR line in the tachogram region",
            case.name
        );
        let has_artifacts = fixture.beats.iter().any(|b| b.2.is_some());
        assert_eq!(
            tachogram.contains(&ARTIFACT_RGB),
            has_artifacts,
            "{}: artifact markers",
            case.name
        );
    }
}

/// The text of every `<text>` element, unescaped.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..t.find("</text>")?];
            Some(
                body.trim()
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

#[test]
fn svg_holds_the_report_texts_and_lines() {
    for case in cases() {
        let fixture = (case.fixture)();
        let (w, h) = case.size;
        let svg = fixture
            .with_input(|input| render_svg(input, w, h))
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert!(svg.starts_with("<svg"), "{}", case.name);
        assert!(svg.trim_end().ends_with("</svg>"), "{}", case.name);
        assert!(
            svg.contains(&format!("width=\"{w}\" height=\"{h}\"")),
            "{}",
            case.name
        );
        assert_eq!(
            svg.matches("<text").count(),
            svg.matches("</text>").count(),
            "{}",
            case.name
        );
        assert!(
            svg.contains("<polyline") || svg.contains("<path"),
            "{}: no line element",
            case.name
        );

        let texts = svg_texts(&svg);
        let has = |t: &str| texts.iter().any(|x| x == t);
        assert!(has(&fixture.title), "{}: title missing from {texts:?}", case.name);
        assert!(has(&fixture.source), "{}: source line missing", case.name);
        for band in ["VLF", "LF", "HF"] {
            assert_eq!(has(band), case.spectrum, "{}: band label {band}", case.name);
        }
        for text in case.texts {
            assert!(has(text), "{}: {text:?} missing from {texts:?}", case.name);
        }
        assert_eq!(
            has("SIMULATED DATA — not a real recording"),
            fixture.simulated,
            "{}",
            case.name
        );
    }
}

#[test]
fn svg_escapes_markup_in_texts() {
    let fixture = Fixture {
        title: "A <b> & c".to_owned(),
        ..five_min()
    };
    let svg = fixture
        .with_input(|input| render_svg(input, 1600, 1200))
        .expect("svg");
    assert!(!svg.contains("<b>"), "raw markup in the SVG");
    assert!(svg.contains("A &lt;b"), "title not escaped");
}
