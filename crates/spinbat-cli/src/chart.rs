//! Line charts for scans and paper figures: panels of labelled series, optional log axes,
//! PNG or SVG by file extension (fonts embedded, no system libraries).

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

use crate::typeset::{register_font, Typeset};

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Solid line.
    Line,
    /// Dashed line.
    Dashed,
    /// Dotted line.
    Dotted,
    /// Solid line with markers.
    LineMarkers,
}

/// One labelled curve.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub style: Style,
    /// Index into the palette.
    pub color: usize,
}

impl Series {
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>, style: Style, color: usize) -> Self {
        Series { label: label.into(), points, style, color }
    }
}

/// One set of axes.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub log_x: bool,
    pub log_y: bool,
}

impl Panel {
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>) -> Self {
        Panel { title: title.into(), x_label: x_label.into(), y_label: y_label.into(), ..Default::default() }
    }
    pub fn with(mut self, s: Series) -> Self {
        self.series.push(s);
        self
    }
    pub fn log(mut self, log_x: bool, log_y: bool) -> Self {
        self.log_x = log_x;
        self.log_y = log_y;
        self
    }
}

/// A titled grid of panels (`rows × cols`, filled row by row).
#[derive(Debug, Clone)]
pub struct Figure {
    pub title: String,
    pub panels: Vec<Panel>,
    pub cols: usize,
}

/// Colours by family index; index 8 is black.
const PALETTE: [RGBColor; 9] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 0),
];

/// Writes `fig` to `path` (`.png` or `.svg`).
pub fn write(path: &Path, fig: &Figure) -> Result<()> {
    register_font();
    let cols = fig.cols.max(1);
    let rows = fig.panels.len().div_ceil(cols).max(1);
    let size = if fig.panels.len() == 1 { (900, 650) } else { (600 * cols as u32 + 40, 450 * rows as u32 + 50) };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "png" => {
            let root = Typeset::new(BitMapBackend::new(path, size)).into_drawing_area();
            draw(&root, fig, rows, cols)?;
            root.present().with_context(|| format!("writing {}", path.display()))?;
        }
        "svg" => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            draw(&root, fig, rows, cols)?;
            root.present().with_context(|| format!("writing {}", path.display()))?;
        }
        _ => return Err(anyhow!("plot file {} must end in .png or .svg", path.display())),
    }
    Ok(())
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, fig: &Figure, rows: usize, cols: usize) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing the plot: {e:?}");
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(&fig.title, ("sans-serif", 20)).map_err(err)?;
    let areas = root.split_evenly((rows, cols));
    for (area, panel) in areas.iter().zip(&fig.panels) {
        draw_panel(area, panel)?;
    }
    Ok(())
}

/// Value on the plotted axis (log axes plot `log10 v`; non-positive values are dropped).
fn axis(v: f64, log: bool) -> Option<f64> {
    if !v.is_finite() {
        None
    } else if log {
        (v > 0.0).then(|| v.log10())
    } else {
        Some(v)
    }
}

fn tick(v: f64, log: bool) -> String {
    if log {
        let x = 10f64.powf(v);
        if (1e-3..1e5).contains(&x) {
            let s = format!("{:.3}", x);
            let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
            // three significant digits
            let digits = x.log10().floor() as i32;
            if digits >= 2 {
                format!("{:.0}", x)
            } else if digits >= 0 {
                format!("{:.*}", (2 - digits) as usize, x).trim_end_matches('0').trim_end_matches('.').to_string()
            } else {
                s
            }
        } else {
            format!("{x:.1e}")
        }
    } else if v != 0.0 && (v.abs() >= 1e4 || v.abs() < 1e-3) {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing the plot: {e:?}");
    let series: Vec<(&Series, Vec<(f64, f64)>)> = panel
        .series
        .iter()
        .map(|s| {
            let pts = s
                .points
                .iter()
                .filter_map(|&(x, y)| Some((axis(x, panel.log_x)?, axis(y, panel.log_y)?)))
                .collect::<Vec<_>>();
            (s, pts)
        })
        .collect();
    let all = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 - x0 < 1e-300 {
        (x0, x1) = (x0 - 0.5, x1 + 0.5);
    }
    if y1 - y0 < 1e-12 * y1.abs().max(1e-300) {
        let d = 0.05 * y1.abs().max(1e-12);
        (y0, y1) = (y0 - d, y1 + d);
    }
    let ypad = 0.06 * (y1 - y0);
    let xpad = 0.02 * (x1 - x0);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((x0 - xpad)..(x1 + xpad), (y0 - ypad)..(y1 + ypad))
        .map_err(err)?;
    let (lx, ly) = (panel.log_x, panel.log_y);
    chart
        .configure_mesh()
        .x_desc(&panel.x_label)
        .y_desc(&panel.y_label)
        .x_label_formatter(&|v| tick(*v, lx))
        .y_label_formatter(&|v| tick(*v, ly))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    for (s, pts) in &series {
        let color = PALETTE[s.color % PALETTE.len()];
        let stroke = color.stroke_width(2);
        let line = match s.style {
            Style::Line | Style::LineMarkers => {
                Some(chart.draw_series(LineSeries::new(pts.iter().copied(), stroke)).map_err(err)?)
            }
            Style::Dashed => {
                Some(chart.draw_series(DashedLineSeries::new(pts.iter().copied(), 8, 5, stroke)).map_err(err)?)
            }
            Style::Dotted => Some(
                chart
                    .draw_series(DottedLineSeries::new(pts.iter().copied(), 0, 5, move |c| {
                        Circle::new(c, 2, color.filled())
                    }))
                    .map_err(err)?,
            ),
        };
        if let Some(l) = line {
            if s.style != Style::LineMarkers && !s.label.is_empty() {
                let style = s.style;
                // three segments: contiguous (solid), long (dashed) or short (dotted)
                let segs: [(i32, i32); 3] = match style {
                    Style::Dashed => [(0, 5), (8, 13), (16, 21)],
                    Style::Dotted => [(0, 2), (9, 11), (18, 20)],
                    _ => [(0, 7), (7, 14), (14, 21)],
                };
                l.label(&s.label).legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(segs[0].0, 0), (segs[0].1, 0)], stroke)
                        + PathElement::new(vec![(segs[1].0, 0), (segs[1].1, 0)], stroke)
                        + PathElement::new(vec![(segs[2].0, 0), (segs[2].1, 0)], stroke)
                });
            }
        }
        if s.style == Style::LineMarkers {
            let markers = chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled()))).map_err(err)?;
            if !s.label.is_empty() {
                markers.label(&s.label).legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (20, 0)], stroke)
                        + Circle::new((10, 0), 4, color.filled())
                });
            }
        }
    }
    if panel.series.iter().any(|s| !s.label.is_empty()) {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)?;
    }
    Ok(())
}
