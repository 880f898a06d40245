//! Session exports for the desktop app: CSV, Kubios-style RR text, and the report image (PNG and SVG)
//! with tachogram, spectrum, Poincaré plot and metrics table, drawn with plotters.
//!
//! Nothing here touches the file system: every export comes back as bytes or a string and the caller
//! writes it. The PNG and the SVG come from the same drawing code (generic over plotters'
//! `DrawingBackend`), so the two images show the same report.
//!
//! Layout of the report (fractions of the image height): title and source banner in the top 10 %,
//! the tachogram down to 40 %, spectrum and Poincaré plot side by side down to 72 %, the metrics
//! table below.

mod draw;
mod export;
mod fonts;
mod prepare;

use plotters::prelude::{BitMapBackend, IntoDrawingArea, SVGBackend};

pub use export::{csv, kubios_rr};

/// The report size that reads well on a screen and in print (px).
pub const DEFAULT_WIDTH: u32 = 1600;
/// See [`DEFAULT_WIDTH`].
pub const DEFAULT_HEIGHT: u32 = 1200;
/// Smallest image the layout fits into without overlapping text.
pub const MIN_SIZE: (u32, u32) = (800, 600);
/// Largest image accepted: bounds the RGB buffer (8000² × 3 bytes = 192 MB).
pub const MAX_SIZE: (u32, u32) = (8000, 8000);
/// The colour of the RR line in the tachogram (sRGB).
pub const TACHOGRAM_RGB: [u8; 3] = [0x25, 0x63, 0xeb];
/// The colour of the artifact markers in the tachogram (sRGB).
pub const ARTIFACT_RGB: [u8; 3] = [0xdc, 0x26, 0x26];

/// One beat as recorded, before artifact correction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportBeat<'a> {
    /// Session time of the beat (s); a jump larger than the interval (plus 1 s) is drawn as a gap.
    pub t_s: f64,
    /// The interval ending at this beat (ms).
    pub rr_ms: f64,
    /// The artifact kind this beat was labelled with (`ectopic`, `missed`, `extra`, `long_short`).
    pub artifact: Option<&'a str>,
}

/// A precomputed one-sided power spectral density.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spectrum<'a> {
    pub freq_hz: &'a [f64],
    /// Power per bin (ms²/Hz), same length as `freq_hz`.
    pub power_ms2_hz: &'a [f64],
    /// How it was estimated, printed in the panel title (e.g. "Welch").
    pub method: &'a str,
}

/// One line of the metrics table.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow<'a> {
    /// Column of the table: "Time domain", "Frequency domain", "Nonlinear", "Artifacts" (columns appear
    /// in the order their first row does).
    pub group: &'a str,
    pub label: &'a str,
    /// Formatted with its unit, or "— (reason)" when absent (drawn in grey).
    pub value: String,
}

/// Everything the report image shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportInput<'a> {
    /// e.g. "Rest session — 2026-11-21 07:02".
    pub title: &'a str,
    /// Where the beats came from, e.g. "Simulated strap — scenario fatigued"; printed in a banner.
    pub source: &'a str,
    /// Data from the simulator: the banner turns amber and says it is not a real recording.
    pub simulated: bool,
    /// Raw beats as recorded (tachogram, artifact markers, gaps).
    pub beats: &'a [ReportBeat<'a>],
    /// Corrected NN intervals (ms): the Poincaré plot, and the spectrum when none is given.
    pub nn_ms: &'a [f64],
    /// `None`: computed from `nn_ms` with the reference Welch pipeline, or the panel says why not.
    pub spectrum: Option<Spectrum<'a>>,
    pub metrics: &'a [MetricRow<'a>],
}

/// Why a report could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("no beats to draw")]
    NoBeats,
    #[error("the spectrum has {freqs} frequencies but {powers} power values")]
    SpectrumLengths { freqs: usize, powers: usize },
    #[error(
        "image size {width}×{height} is outside {}×{}–{}×{}",
        MIN_SIZE.0, MIN_SIZE.1, MAX_SIZE.0, MAX_SIZE.1
    )]
    ImageSize { width: u32, height: u32 },
    #[error("drawing failed: {0}")]
    Drawing(String),
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
}

/// The report as a PNG image of `width`×`height` pixels.
pub fn render_png(input: &ReportInput<'_>, width: u32, height: u32) -> Result<Vec<u8>, ReportError> {
    let report = prepare::Report::new(input, width, height)?;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw::report(&root, &report)?;
        root.present().map_err(draw::failed)?;
    }
    encode_png(&rgb, width, height)
}

/// The report as an SVG document of `width`×`height` user units.
pub fn render_svg(input: &ReportInput<'_>, width: u32, height: u32) -> Result<String, ReportError> {
    let report = prepare::Report::new(input, width, height)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw::report(&root, &report)?;
        root.present().map_err(draw::failed)?;
    }
    Ok(svg)
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ReportError> {
    let mut out = Vec::with_capacity(rgb.len() / 8);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}
