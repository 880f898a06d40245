//! The report drawing, generic over plotters' `DrawingBackend` so the PNG and the SVG are one picture.
//!
//! Sizes are given for the default 1600×1200 image and scaled by the smaller of the two ratios to it.

use crate::fonts::{self, FAMILY};
use crate::prepare::{Column, Poincare, Report, SPECTRUM_MAX_HZ, SpectrumPanel, Tachogram};
use crate::{ARTIFACT_RGB, DEFAULT_HEIGHT, DEFAULT_WIDTH, ReportError, TACHOGRAM_RGB};
use auren_hrv::frequency::{Band, HF, LF, VLF};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const INK: RGBColor = RGBColor(0x1f, 0x29, 0x37);
const MUTED: RGBColor = RGBColor(0x6b, 0x72, 0x80);
const RULE: RGBColor = RGBColor(0xd1, 0xd5, 0xdb);
const GRID: RGBColor = RGBColor(0xee, 0xf0, 0xf3);
const STRIPE: RGBColor = RGBColor(0xf6, 0xf7, 0xf9);
const TACHO: RGBColor = RGBColor(TACHOGRAM_RGB[0], TACHOGRAM_RGB[1], TACHOGRAM_RGB[2]);
const ARTIFACT: RGBColor = RGBColor(ARTIFACT_RGB[0], ARTIFACT_RGB[1], ARTIFACT_RGB[2]);
const GAP: RGBColor = RGBColor(0xe5, 0xe7, 0xeb);
const ELLIPSE: RGBColor = RGBColor(0xea, 0x58, 0x0c);
const BANNER_REAL: RGBColor = RGBColor(0xe0, 0xf2, 0xfe);
const BANNER_REAL_EDGE: RGBColor = RGBColor(0x7d, 0xd3, 0xfc);
const BANNER_SIM: RGBColor = RGBColor(0xfe, 0xf3, 0xc7);
const BANNER_SIM_EDGE: RGBColor = RGBColor(0xf5, 0x9e, 0x0b);
const BANNER_SIM_INK: RGBColor = RGBColor(0x92, 0x40, 0x0e);
const BANDS: [(&str, Band, RGBColor); 3] = [
    ("VLF", VLF, RGBColor(0x94, 0xa3, 0xb8)),
    ("LF", LF, RGBColor(0xf5, 0x9e, 0x0b)),
    ("HF", HF, RGBColor(0x10, 0xb9, 0x81)),
];

pub fn failed<E: std::fmt::Display>(e: E) -> ReportError {
    ReportError::Drawing(e.to_string())
}

/// Pixel sizes scaled from the 1600×1200 design: geometry by the image's ratio to it, text (and the
/// room kept for text) by no less than [`MIN_TEXT_SCALE`], so small images stay legible.
#[derive(Clone, Copy)]
struct Scale {
    geometry: f64,
    text: f64,
}

/// Text never shrinks below this fraction of its design size (10 px axis labels at 800×600).
const MIN_TEXT_SCALE: f64 = 0.7;

impl Scale {
    fn px(self, v: f64) -> i32 {
        (v * self.geometry).round() as i32
    }
    fn u(self, v: f64) -> u32 {
        (v * self.geometry).round().max(1.0) as u32
    }
    fn tpx(self, v: f64) -> i32 {
        (v * self.text).round() as i32
    }
    fn tu(self, v: f64) -> u32 {
        (v * self.text).round().max(1.0) as u32
    }
    fn font(self, size: f64) -> FontDesc<'static> {
        (FAMILY, size * self.text).into_font()
    }
    fn bold(self, size: f64) -> FontDesc<'static> {
        (FAMILY, size * self.text, FontStyle::Bold).into_font()
    }
}

pub fn report<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report<'_>) -> Result<(), ReportError> {
    fonts::ensure_registered().map_err(ReportError::Drawing)?;
    let ratio =
        (f64::from(r.width) / f64::from(DEFAULT_WIDTH)).min(f64::from(r.height) / f64::from(DEFAULT_HEIGHT));
    let s = Scale {
        geometry: ratio,
        text: ratio.max(MIN_TEXT_SCALE),
    };
    root.fill(&WHITE).map_err(failed)?;
    let h = f64::from(r.height);
    // The table takes what its longest column needs (title, header, one line a row), within 16–32 %
    // of the height; the spectrum and Poincaré row gets the rest.
    let longest = r.table.iter().map(|c| c.rows.len()).max().unwrap_or(1) as f64;
    let table_h = (s.text * (72.0 + 24.0 * (longest + 1.0))).clamp(h * 0.16, h * 0.32);
    let (header, rest) = root.split_vertically((h * 0.10).round() as u32);
    let (tacho, rest) = rest.split_vertically((h * 0.30).round() as u32);
    let (middle, table) = rest.split_vertically((h * 0.60 - table_h).round() as u32);
    draw_header(&header, r, s)?;
    draw_tachogram(&tacho, &r.tachogram, s)?;

    let (mw, mh) = middle.dim_in_pixel();
    // The Poincaré plot is about square (its plotting area as tall as the panel's, plus the axis
    // labels), but never narrower than 30 % of the row, or its title and ticks would collide.
    let poincare_w = (mh + s.tu(40.0)).clamp(mw * 3 / 10, mw * 2 / 5);
    let (psd, poincare) = middle.split_horizontally(mw - poincare_w);
    match &r.spectrum {
        Ok(panel) => draw_spectrum(&psd, panel, s)?,
        Err(why) => draw_missing(&psd, "Power spectral density", &format!("No spectrum: {why}"), s)?,
    }
    match &r.poincare {
        Ok(p) => draw_poincare(&poincare, p, s)?,
        Err(why) => draw_missing(&poincare, "Poincaré plot", &format!("No Poincaré plot: {why}"), s)?,
    }
    draw_table(&table, &r.table, s)
}

fn draw_header<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &Report<'_>,
    s: Scale,
) -> Result<(), ReportError> {
    let (w, _) = area.dim_in_pixel();
    let w = w as i32;
    area.draw_text(r.title, &s.bold(30.0).color(&INK), (s.px(28.0), s.px(22.0)))
        .map_err(failed)?;
    let t = &r.tachogram;
    let summary = format!(
        "{} beats · {} · {} artifact{}",
        t.beats,
        duration(t.duration_s),
        t.artifacts.len(),
        if t.artifacts.len() == 1 { "" } else { "s" }
    );
    let right = s.font(17.0).color(&MUTED).pos(Pos::new(HPos::Right, VPos::Top));
    area.draw_text(&summary, &right, (w - s.px(28.0), s.px(30.0)))
        .map_err(failed)?;

    let (fill, edge, ink) = if r.simulated {
        (BANNER_SIM, BANNER_SIM_EDGE, BANNER_SIM_INK)
    } else {
        (BANNER_REAL, BANNER_REAL_EDGE, INK)
    };
    let (top, bottom) = (s.px(70.0), s.px(108.0));
    let (left, right_x) = (s.px(24.0), w - s.px(24.0));
    area.draw(&Rectangle::new([(left, top), (right_x, bottom)], fill.filled()))
        .map_err(failed)?;
    area.draw(&Rectangle::new(
        [(left, top), (right_x, bottom)],
        edge.stroke_width(s.u(1.5)),
    ))
    .map_err(failed)?;
    let mid = (top + bottom) / 2;
    let label = s.bold(17.0).color(&ink).pos(Pos::new(HPos::Left, VPos::Center));
    area.draw_text("Source:", &label, (left + s.px(14.0), mid))
        .map_err(failed)?;
    let offset = area
        .estimate_text_size("Source:", &TextStyle::from(s.bold(17.0)))
        .map_err(failed)?
        .0 as i32;
    let text = s.font(17.0).color(&ink).pos(Pos::new(HPos::Left, VPos::Center));
    area.draw_text(r.source, &text, (left + s.px(22.0) + offset, mid))
        .map_err(failed)?;
    if r.simulated {
        let warn = s.bold(17.0).color(&ink).pos(Pos::new(HPos::Right, VPos::Center));
        area.draw_text(
            "SIMULATED DATA — not a real recording",
            &warn,
            (right_x - s.px(14.0), mid),
        )
        .map_err(failed)?;
    }
    Ok(())
}

/// The panel's title at its top left; returns the area below it.
fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    s: Scale,
) -> Result<DrawingArea<DB, Shift>, ReportError> {
    area.draw_text(title, &s.bold(19.0).color(&INK), (s.px(28.0), s.px(14.0)))
        .map_err(failed)?;
    Ok(area.margin(s.tpx(40.0), s.px(14.0), s.px(16.0), s.px(28.0)))
}

fn draw_tachogram<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    t: &Tachogram,
    s: Scale,
) -> Result<(), ReportError> {
    let plot = titled(area, "RR tachogram (raw beats as recorded)", s)?;
    let minutes = t.unit_s > 1.0;
    let mut chart = ChartBuilder::on(&plot)
        .x_label_area_size(s.tu(46.0))
        .y_label_area_size(s.tu(74.0))
        .build_cartesian_2d(t.x_range.0..t.x_range.1, t.y_range.0..t.y_range.1)
        .map_err(failed)?;
    chart
        .configure_mesh()
        .x_desc(if minutes { "Time (min)" } else { "Time (s)" })
        .y_desc("RR interval (ms)")
        .x_labels(12)
        .y_labels(6)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(s.font(14.0).color(&INK))
        .axis_desc_style(s.font(15.0).color(&INK))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(RULE.stroke_width(1))
        .draw()
        .map_err(failed)?;

    let (y0, y1) = t.y_range;
    chart
        .draw_series(
            t.gaps
                .iter()
                .map(|&(a, b)| Rectangle::new([(a, y0), (b, y1)], GAP.mix(0.6).filled())),
        )
        .map_err(failed)?;
    // A line more than a pixel wide reads well while beats are a few pixels apart; denser, it would
    // be a solid band, so it thins to one pixel.
    let (plot_w, _) = chart.plotting_area().dim_in_pixel();
    let width = if t.beats as f64 > 0.4 * f64::from(plot_w) {
        1
    } else {
        s.u(1.6)
    };
    for segment in &t.segments {
        polyline(&mut chart, segment, TACHO.stroke_width(width))?;
    }
    // Beats far apart (a very short recording) also get a dot each, or three beats look like a line.
    if (t.beats as f64) < 0.05 * f64::from(plot_w) {
        let dot = s.u(3.5);
        let beats = t.segments.iter().flatten();
        chart
            .draw_series(beats.map(|&p| Circle::new(p, dot, TACHO.filled())))
            .map_err(failed)?;
    }
    let legend_w = s.tpx(22.0);
    chart
        .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
        .map_err(failed)?
        .label("RR interval")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + legend_w, y)], TACHO.stroke_width(3)));
    let marker = s.tu(6.0);
    if !t.artifacts.is_empty() {
        chart
            .draw_series(
                t.artifacts
                    .iter()
                    .map(|&p| TriangleMarker::new(p, marker, ARTIFACT.filled())),
            )
            .map_err(failed)?
            .label(format!("artifact ({})", t.artifacts.len()))
            .legend(move |(x, y)| TriangleMarker::new((x + legend_w / 2, y), marker, ARTIFACT.filled()));
    }
    if !t.gaps.is_empty() {
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
            .map_err(failed)?
            .label(format!("gap ({})", t.gaps.len()))
            .legend(move |(x, y)| {
                Rectangle::new(
                    [(x, y - legend_w / 4), (x + legend_w, y + legend_w / 4)],
                    GAP.filled(),
                )
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .margin(s.tu(8.0))
        .legend_area_size(s.tu(30.0))
        .label_font(s.font(14.0).color(&INK))
        .background_style(WHITE.mix(0.9))
        .border_style(RULE)
        .draw()
        .map_err(failed)?;
    Ok(())
}

fn draw_spectrum<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &SpectrumPanel,
    s: Scale,
) -> Result<(), ReportError> {
    let plot = titled(area, &format!("Power spectral density ({})", p.method), s)?;
    // Large densities read better as thousands with the factor in the axis title than as "150000".
    let (factor, y_desc) = if p.max_power >= 10_000.0 {
        (1000.0, "PSD (10³ ms²/Hz)")
    } else {
        (1.0, "PSD (ms²/Hz)")
    };
    let top = p.max_power * 1.15;
    let mut chart = ChartBuilder::on(&plot)
        .x_label_area_size(s.tu(46.0))
        .y_label_area_size(s.tu(84.0))
        .build_cartesian_2d(0.0..SPECTRUM_MAX_HZ, 0.0..top)
        .map_err(failed)?;
    chart
        .configure_mesh()
        .x_desc("Frequency (Hz)")
        .y_desc(y_desc)
        .x_labels(11)
        .y_labels(6)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| power_tick(*v / factor))
        .label_style(s.font(14.0).color(&INK))
        .axis_desc_style(s.font(15.0).color(&INK))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(RULE.stroke_width(1))
        .draw()
        .map_err(failed)?;

    for (_, band, colour) in BANDS {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(band.lo, 0.0), (band.hi, top)],
                colour.mix(0.08).filled(),
            )))
            .map_err(failed)?;
        let area_under = band_polygon(&p.points, band);
        chart
            .draw_series(std::iter::once(Polygon::new(
                area_under,
                colour.mix(0.45).filled(),
            )))
            .map_err(failed)?;
    }
    polyline(&mut chart, &p.points, INK.stroke_width(s.u(1.6)))?;
    let label_style = |colour: RGBColor| {
        s.bold(15.0)
            .color(&darker(colour))
            .pos(Pos::new(HPos::Center, VPos::Center))
    };
    for (name, band, colour) in BANDS {
        chart
            .draw_series(std::iter::once(Text::new(
                name,
                ((band.lo + band.hi) / 2.0, p.max_power * 1.075),
                label_style(colour),
            )))
            .map_err(failed)?;
    }
    Ok(())
}

/// A line through `points`. Wider than a pixel it goes segment by segment: plotters joins the
/// segments of a wide path with unlimited mitres, which turn a sharp RR zigzag into spikes shooting
/// out of the chart.
fn polyline<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    points: &[(f64, f64)],
    style: ShapeStyle,
) -> Result<(), ReportError> {
    if style.stroke_width <= 1 {
        chart
            .draw_series(LineSeries::new(points.iter().copied(), style))
            .map_err(failed)?;
    } else {
        chart
            .draw_series(points.windows(2).map(|w| PathElement::new([w[0], w[1]], style)))
            .map_err(failed)?;
    }
    Ok(())
}

/// The area under the curve between the band's edges, the edges interpolated.
fn band_polygon(points: &[(f64, f64)], band: Band) -> Vec<(f64, f64)> {
    let mut out = vec![(band.lo, 0.0), (band.lo, interpolate(points, band.lo))];
    out.extend(
        points
            .iter()
            .copied()
            .filter(|(f, _)| *f > band.lo && *f < band.hi),
    );
    out.push((band.hi, interpolate(points, band.hi)));
    out.push((band.hi, 0.0));
    out
}

fn interpolate(points: &[(f64, f64)], f: f64) -> f64 {
    let i = points.partition_point(|(x, _)| *x < f);
    match (i.checked_sub(1).and_then(|j| points.get(j)), points.get(i)) {
        (Some(&(x0, y0)), Some(&(x1, y1))) if x1 > x0 => y0 + (y1 - y0) * (f - x0) / (x1 - x0),
        (_, Some(&(_, y))) | (Some(&(_, y)), None) => y,
        (None, None) => 0.0,
    }
}

fn draw_poincare<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Poincare,
    s: Scale,
) -> Result<(), ReportError> {
    let plot = titled(area, "Poincaré plot (NN)", s)?;
    let (lo, hi) = p.range;
    let mut chart = ChartBuilder::on(&plot)
        .x_label_area_size(s.tu(46.0))
        .y_label_area_size(s.tu(74.0))
        .build_cartesian_2d(lo..hi, lo..hi)
        .map_err(failed)?;
    chart
        .configure_mesh()
        .x_desc("RR n (ms)")
        .y_desc("RR n+1 (ms)")
        .x_labels(5)
        .y_labels(6)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(s.font(14.0).color(&INK))
        .axis_desc_style(s.font(15.0).color(&INK))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(RULE.stroke_width(1))
        .draw()
        .map_err(failed)?;
    chart
        .draw_series(LineSeries::new([(lo, lo), (hi, hi)], RULE.stroke_width(1)))
        .map_err(failed)?;
    // Few pairs get big dots so each one shows; many get small ones.
    let dot = if p.pairs.len() < 200 { s.tu(4.0) } else { s.u(2.6) };
    // Fainter dots as they get more numerous, so the dense centre still shows its shape.
    let alpha = (6.0 / (p.pairs.len() as f64).sqrt()).clamp(0.12, 0.45);
    chart
        .draw_series(
            p.pairs
                .iter()
                .map(|&xy| Circle::new(xy, dot, TACHO.mix(alpha).filled())),
        )
        .map_err(failed)?;
    if let Ok((sd1, sd2)) = p.sd {
        let c = p.mean_ms;
        let r = std::f64::consts::FRAC_1_SQRT_2;
        let ellipse: Vec<(f64, f64)> = (0..=120)
            .map(|k| {
                let a = f64::from(k) / 120.0 * std::f64::consts::TAU;
                let (u, v) = (sd2 * a.cos(), sd1 * a.sin());
                (c + r * (u - v), c + r * (u + v))
            })
            .collect();
        let axes = [
            [(c - r * sd2, c - r * sd2), (c + r * sd2, c + r * sd2)],
            [(c + r * sd1, c - r * sd1), (c - r * sd1, c + r * sd1)],
        ];
        // A white halo keeps the ellipse visible on top of a dense cloud of dots.
        for pen in [WHITE.stroke_width(s.u(5.0)), ELLIPSE.stroke_width(s.u(2.2))] {
            polyline(&mut chart, &ellipse, pen)?;
            for axis in &axes {
                polyline(&mut chart, axis, pen)?;
            }
        }
    }
    let inner = chart.plotting_area().strip_coord_spec();
    let note = match &p.sd {
        Ok((sd1, sd2)) => vec![format!("SD1 = {sd1:.1} ms"), format!("SD2 = {sd2:.1} ms")],
        Err(why) => vec![format!("SD1/SD2: {why}")],
    };
    let style = s.font(14.0).color(&INK);
    let note_w = note
        .iter()
        .map(|l| inner.estimate_text_size(l, &style).map(|(w, _)| w as i32))
        .try_fold(0, |acc, w| w.map(|w| acc.max(w)))
        .map_err(failed)?;
    inner
        .draw(&Rectangle::new(
            [
                (s.tpx(4.0), s.tpx(4.0)),
                (
                    s.tpx(16.0) + note_w,
                    s.tpx(12.0) + s.tpx(20.0) * note.len() as i32,
                ),
            ],
            WHITE.mix(0.85).filled(),
        ))
        .map_err(failed)?;
    for (i, line) in note.iter().enumerate() {
        inner
            .draw_text(line, &style, (s.tpx(10.0), s.tpx(8.0) + s.tpx(20.0) * i as i32))
            .map_err(failed)?;
    }
    Ok(())
}

fn draw_missing<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    why: &str,
    s: Scale,
) -> Result<(), ReportError> {
    let plot = titled(area, title, s)?;
    let (w, h) = plot.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    plot.draw(&Rectangle::new([(0, 0), (w - 1, h - 1)], STRIPE.filled()))
        .map_err(failed)?;
    plot.draw(&Rectangle::new([(0, 0), (w - 1, h - 1)], RULE.stroke_width(1)))
        .map_err(failed)?;
    let font = s.font(16.0);
    let text = fit(&plot, why, &font, (w - s.px(24.0)).max(1) as u32)?;
    let style = font.color(&MUTED).pos(Pos::new(HPos::Center, VPos::Center));
    plot.draw_text(&text, &style, (w / 2, h / 2)).map_err(failed)?;
    Ok(())
}

/// A table cell's lines: label and value on one line when they fit, else the value on its own line.
enum Cell {
    One,
    Two,
}

fn draw_table<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    columns: &[Column<'_>],
    s: Scale,
) -> Result<(), ReportError> {
    let plot = titled(area, "Metrics", s)?;
    if columns.is_empty() {
        let style = s.font(15.0).color(&MUTED);
        return plot
            .draw_text("No metrics were given.", &style, (0, s.px(8.0)))
            .map_err(failed);
    }
    let (w, h) = plot.dim_in_pixel();
    let gutter = s.px(24.0);
    let col_w = ((w as i32 - gutter * (columns.len() as i32 - 1)) / columns.len() as i32).max(1);
    let pad = s.px(8.0);

    // The largest font size whose tallest column fits; at the smallest, columns are cut with "… N more".
    let sizes = [16.0, 15.0, 14.0, 13.0, 12.0, 11.0];
    let mut chosen = None;
    for &size in &sizes {
        let font = s.font(size);
        let line_h = (size * 1.5 * s.text).round() as i32;
        let mut tallest = 0;
        let mut cells_per_column = Vec::with_capacity(columns.len());
        for column in columns {
            let cells = column
                .rows
                .iter()
                .map(|(label, value)| cell_lines(&plot, label, value, &font, col_w - 2 * pad))
                .collect::<Result<Vec<_>, _>>()?;
            let lines: i32 = cells
                .iter()
                .map(|c| if matches!(c, Cell::One) { 1 } else { 2 })
                .sum();
            tallest = tallest.max(lines + 1);
            cells_per_column.push(cells);
        }
        let fits = tallest * line_h <= h as i32;
        if fits || size == sizes[sizes.len() - 1] {
            chosen = Some((size, line_h, cells_per_column));
            if fits {
                break;
            }
        }
    }
    let Some((size, line_h, cells_per_column)) = chosen else {
        return Ok(());
    };
    let font = s.font(size);
    let header = s.bold(size).color(&INK).pos(Pos::new(HPos::Left, VPos::Center));
    let max_lines = (h as i32 / line_h).max(2);

    for (ci, (column, cells)) in columns.iter().zip(&cells_per_column).enumerate() {
        let x0 = ci as i32 * (col_w + gutter);
        let x1 = x0 + col_w;
        plot.draw_text(column.group, &header, (x0 + pad, line_h / 2))
            .map_err(failed)?;
        plot.draw(&PathElement::new(
            [(x0, line_h - 1), (x1, line_h - 1)],
            INK.stroke_width(s.u(1.5)),
        ))
        .map_err(failed)?;
        let mut line = 1;
        for (ri, ((label, value), cell)) in column.rows.iter().zip(cells).enumerate() {
            let need = if matches!(cell, Cell::One) { 1 } else { 2 };
            let rows_left = column.rows.len() - ri;
            // Keep one line for "… N more" when the rest will not fit.
            if line + need > max_lines || (line + need == max_lines && rows_left > 1) {
                let more = s.font(size).color(&MUTED).pos(Pos::new(HPos::Left, VPos::Center));
                let text = format!("… {rows_left} more");
                plot.draw_text(&text, &more, (x0 + pad, line * line_h + line_h / 2))
                    .map_err(failed)?;
                break;
            }
            let top = line * line_h;
            if ri % 2 == 1 {
                plot.draw(&Rectangle::new(
                    [(x0, top), (x1, top + need * line_h)],
                    STRIPE.filled(),
                ))
                .map_err(failed)?;
            }
            let value_colour = if value.starts_with('—') { MUTED } else { INK };
            let left = font.color(&MUTED).pos(Pos::new(HPos::Left, VPos::Center));
            let right = font.color(&value_colour).pos(Pos::new(HPos::Right, VPos::Center));
            let label = fit(&plot, label, &font, (col_w - 2 * pad) as u32)?;
            plot.draw_text(&label, &left, (x0 + pad, top + line_h / 2))
                .map_err(failed)?;
            let value_line = top + (need - 1) * line_h + line_h / 2;
            let value = fit(&plot, value, &font, (col_w - 2 * pad) as u32)?;
            plot.draw_text(&value, &right, (x1 - pad, value_line))
                .map_err(failed)?;
            line += need;
        }
    }
    Ok(())
}

fn cell_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    label: &str,
    value: &str,
    font: &FontDesc<'_>,
    width: i32,
) -> Result<Cell, ReportError> {
    let font = &TextStyle::from(font.clone());
    let lw = area.estimate_text_size(label, font).map_err(failed)?.0 as i32;
    let vw = area.estimate_text_size(value, font).map_err(failed)?.0 as i32;
    let space = area.estimate_text_size("  ", font).map_err(failed)?.0 as i32;
    Ok(if lw + space + vw <= width {
        Cell::One
    } else {
        Cell::Two
    })
}

/// `text`, cut with "…" to fit `width` pixels.
fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    font: &FontDesc<'_>,
    width: u32,
) -> Result<String, ReportError> {
    let font = &TextStyle::from(font.clone());
    if area.estimate_text_size(text, font).map_err(failed)?.0 <= width {
        return Ok(text.to_owned());
    }
    let chars: Vec<char> = text.chars().collect();
    let (mut lo, mut hi) = (0, chars.len());
    // Longest prefix that fits with the ellipsis: binary search on the character count.
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let candidate: String = chars[..mid].iter().chain(std::iter::once(&'…')).collect();
        if area.estimate_text_size(&candidate, font).map_err(failed)?.0 <= width {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok(chars[..lo].iter().collect::<String>().trim_end().to_owned() + "…")
}

fn darker(c: RGBColor) -> RGBColor {
    let f = |v: u8| (f64::from(v) * 0.62).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

/// An axis tick with up to 3 decimals and no trailing zeros.
fn tick(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_owned() } else { s.to_owned() }
}

fn power_tick(v: f64) -> String {
    if v >= 10.0 || v == 0.0 {
        format!("{v:.0}")
    } else {
        tick(v)
    }
}

/// "5:00 min" for a recording's length, "1 h 02 min" past an hour.
fn duration(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (h, m, sec) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h} h {m:02} min")
    } else {
        format!("{m}:{sec:02} min")
    }
}
