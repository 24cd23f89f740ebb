//! Line charts for scans and paper figures: panels of labelled series, optional log axes,
//! PNG or SVG by file extension (fonts embedded, no system libraries).

use anyhow::{anyhow, Result};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

use super::file::{self, Picture};
use super::legend::{legend_size, place_legend, Corner};

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
    /// A translucent filled band: the points run along the upper edge and back along the
    /// lower one (one standard error about a mean: [`band`]).
    Band,
}

/// The band `y ± e` about a curve: its upper edge forwards, its lower edge backwards.
pub fn band(curve: &[(f64, f64)], err: &[f64]) -> Vec<(f64, f64)> {
    let upper = curve.iter().zip(err).map(|(&(x, y), e)| (x, y + e));
    let lower = curve.iter().zip(err).rev().map(|(&(x, y), e)| (x, y - e));
    upper.chain(lower).collect()
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
    let cols = fig.cols.max(1);
    let rows = fig.panels.len().div_ceil(cols).max(1);
    let size = if fig.panels.len() == 1 { (900, 650) } else { (600 * cols as u32 + 40, 450 * rows as u32 + 50) };
    file::write(path, size, &Grid { fig, rows, cols })
}

/// What [`write`] draws: the figure's panels in `rows` x `cols`.
struct Grid<'a> {
    fig: &'a Figure,
    rows: usize,
    cols: usize,
}

impl Picture for Grid<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        draw(root, self.fig, self.rows, self.cols)
    }
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

/// Tick positions of one axis, in plotted coordinates: labelled (`major`) and grid-only
/// (`minor`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ticks {
    pub major: Vec<f64>,
    pub minor: Vec<f64>,
}

/// Ticks of a linear axis `lo..hi`: at most about `max` labelled ticks at multiples of
/// 1, 2 or 5 times a power of ten (whole numbers only if `integer`), minor ticks at fifths
/// (quarters for steps of 2) of a step.
pub fn linear_ticks(lo: f64, hi: f64, max: usize, integer: bool) -> Ticks {
    let span = hi - lo;
    if !span.is_finite() || span <= 0.0 {
        return Ticks { major: vec![lo], minor: vec![] };
    }
    let raw = span / max.max(2) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let (mut mult, mut step) = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| (m, m * mag))
        .find(|&(_, s)| s >= raw * (1.0 - 1e-9))
        .unwrap_or((10.0, 10.0 * mag));
    if integer && step < 1.0 {
        (mult, step) = (1.0, 1.0);
    }
    let multiples = |step: f64| -> Vec<f64> {
        let (k0, k1) = ((lo / step - 1e-9).ceil() as i64, (hi / step + 1e-9).floor() as i64);
        (k0..=k1).map(|k| if k == 0 { 0.0 } else { k as f64 * step }).collect()
    };
    let major = multiples(step);
    let minor = if integer && step <= 1.0 {
        Vec::new()
    } else {
        let sub = step / if mult == 2.0 { 4.0 } else { 5.0 };
        multiples(sub).into_iter().filter(|v| major.iter().all(|m| (m - v).abs() > 1e-6 * sub)).collect()
    };
    Ticks { major, minor }
}

/// Ticks of a log axis over `log10` values `lo..hi`: labelled ticks at the decades 1, 10,
/// 100, ... (every second or more decade when there are more than eight); at 1, 2 and 5
/// times a decade when fewer than three decades fall in the range, at every integer
/// multiple when fewer than two of those do, and on a linear scale of the values for a
/// range narrower still. Minor ticks at the other integer multiples of a decade (at the
/// remaining decades beyond six decades).
pub fn log_ticks(lo: f64, hi: f64) -> Ticks {
    if !lo.is_finite() || !hi.is_finite() || hi <= lo {
        return Ticks { major: vec![lo], minor: vec![] };
    }
    let within = |v: f64| v >= lo - 1e-9 && v <= hi + 1e-9;
    let multiples = |ms: &[f64]| -> Vec<f64> {
        let mut out = Vec::new();
        for k in (lo.floor() as i64)..=(hi.ceil() as i64) {
            for &m in ms {
                let v = k as f64 + f64::log10(m);
                if within(v) {
                    out.push(v);
                }
            }
        }
        out
    };
    let all: Vec<f64> = (1..10).map(f64::from).collect();
    let decades = multiples(&[1.0]);
    let every = decades.len().div_ceil(8).max(1) as i64;
    let mut major: Vec<f64> = decades.iter().copied().filter(|d| (d.round() as i64).rem_euclid(every) == 0).collect();
    if major.len() < 3 {
        major = multiples(&[1.0, 2.0, 5.0]);
    }
    if major.len() < 2 {
        major = multiples(&all);
    }
    if major.len() < 2 {
        // less than a factor of two: a linear scale of the values
        let lin = linear_ticks(10f64.powf(lo), 10f64.powf(hi), 5, false);
        let to_log = |v: &Vec<f64>| v.iter().filter(|&&x| x > 0.0).map(|x| x.log10()).collect::<Vec<_>>();
        return Ticks { major: to_log(&lin.major), minor: to_log(&lin.minor) };
    }
    let candidates = if hi - lo <= 6.0 { multiples(&all) } else { decades };
    let minor = candidates.into_iter().filter(|v| major.iter().all(|m| (m - v).abs() > 1e-9)).collect();
    Ticks { major, minor }
}

/// Whether a log axis with these labelled ticks writes them all as powers (`1e-6`): when
/// one lies outside `1e-3 ..= 1e4`, so that an axis does not mix `0.001` and `1e-6`.
pub fn exponent_labels(major: &[f64]) -> bool {
    major.iter().any(|v| !(-3..=4).contains(&(v.floor() as i32)))
}

/// The label of the log-axis tick at `log10` value `v`: `1`, `20`, `0.05`, or with
/// `exponent` `1e-6`, `2e3` (and `1` for `1e0`); four significant digits where `10^v` is not a whole multiple
/// of its decade.
pub fn log_tick(v: f64, exponent: bool) -> String {
    let trim = |s: String| if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    let x = 10f64.powf(v);
    let k = v.floor() as i32;
    let mantissa = x / 10f64.powi(k);
    let m = mantissa.round();
    let whole = (m - mantissa).abs() < 1e-6 && m < 10.0;
    match (exponent, whole) {
        (true, true) if k == 0 => format!("{m}"),
        (true, true) if m == 1.0 => format!("1e{k}"),
        (true, true) => format!("{m}e{k}"),
        (true, false) => format!("{x:.3e}"),
        (false, true) => trim(format!("{:.*}", (-k).max(0) as usize, m * 10f64.powi(k))),
        (false, false) => trim(format!("{:.*}", (3 - k).max(0) as usize, x)),
    }
}

/// A tick label: on a log axis the value `10^v` ([`log_tick`], powers outside
/// `1e-3 ..= 1e4`), otherwise `v`; at most four decimals, trailing zeros dropped.
pub fn tick(v: f64, log: bool) -> String {
    let trim = |s: String| if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if log {
        log_tick(v, exponent_labels(&[v]))
    } else if v != 0.0 && (v.abs() >= 1e4 || v.abs() < 1e-3) {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.4}");
        let s = trim(s);
        if s == "-0" {
            "0".into()
        } else {
            s
        }
    }
}

/// What a panel's axes show, in plotted coordinates (`log10` on log axes): the series, the
/// ranges, the ticks and the legend's corner and box (`x0, x1, y0, y1` in unit coordinates
/// of the plotting area).
#[derive(Debug, Clone)]
pub struct PanelPlan {
    pub points: Vec<Vec<(f64, f64)>>,
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub x_ticks: Ticks,
    pub y_ticks: Ticks,
    pub legend: Option<(Corner, (f64, f64, f64, f64))>,
}

/// Legend font size of the charts [px].
const LEGEND_FONT: f64 = 13.0;

/// Lays out `panel` on a plotting area of `plot_px` pixels: data ranges with a little
/// padding, whole-number ticks on an axis whose values are all whole numbers, decades on
/// log axes, and the legend in a corner that covers no data (the `y` axis raised if needed,
/// [`place_legend`]).
pub fn plan(panel: &Panel, plot_px: (f64, f64)) -> PanelPlan {
    let points: Vec<Vec<(f64, f64)>> = panel
        .series
        .iter()
        .map(|s| s.points.iter().filter_map(|&(x, y)| Some((axis(x, panel.log_x)?, axis(y, panel.log_y)?))).collect())
        .collect();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in points.iter().flatten() {
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
    let x = (x0 - xpad, x1 + xpad);
    let mut y = (y0 - ypad, y1 + ypad);
    let labels: Vec<String> = panel.series.iter().filter(|s| !s.label.is_empty()).map(|s| s.label.clone()).collect();
    let legend = if labels.is_empty() {
        None
    } else {
        let (w, h) = legend_size(&labels, LEGEND_FONT, plot_px.0, plot_px.1);
        let (corner, raised) = place_legend(&points, x, y, w, h);
        y = raised;
        Some((corner, corner.rect(w, h)))
    };
    let whole = |get: fn(&(f64, f64)) -> f64| {
        let mut it = points.iter().flatten().map(get).peekable();
        it.peek().is_some() && it.all(|v| v == v.round() && v.abs() < 1e15)
    };
    let x_ticks = if panel.log_x { log_ticks(x.0, x.1) } else { linear_ticks(x.0, x.1, 8, whole(|p| p.0)) };
    let y_ticks = if panel.log_y { log_ticks(y.0, y.1) } else { linear_ticks(y.0, y.1, 8, false) };
    PanelPlan { points, x, y, x_ticks, y_ticks, legend }
}

/// How a series is drawn: colour, line width [px], and whether it goes on top of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub color: RGBColor,
    pub width: u32,
    pub on_top: bool,
}

/// The look of `s`: its family's colour, 2 px; dashed series (approximations, fits) in a
/// darker shade of it (grey for black) and on top, so that a dashed line lying on the
/// solid curve it approximates stays visible (dotted ones, mean field, show the solid
/// curve between their dots).
pub fn look(s: &Series) -> Look {
    let base = PALETTE[s.color % PALETTE.len()];
    match s.style {
        Style::Dashed => {
            let RGBColor(r, g, b) = base;
            let dark = |v: u8| (f64::from(v) * 0.55).round() as u8;
            let color = if u32::from(r) + u32::from(g) + u32::from(b) < 150 {
                RGBColor(140, 140, 140)
            } else {
                RGBColor(dark(r), dark(g), dark(b))
            };
            Look { color, width: 2, on_top: true }
        }
        _ => Look { color: base, width: 2, on_top: false },
    }
}

/// A linear axis over plotted values with the ticks of a [`PanelPlan`] (plotters' own
/// `f64` axes choose their ticks themselves).
pub struct TickedAxis {
    range: (f64, f64),
    ticks: Ticks,
}

impl TickedAxis {
    /// A linear axis `lo..hi` with [`linear_ticks`] (about eight labels).
    pub fn linear(lo: f64, hi: f64) -> Self {
        TickedAxis { range: (lo, hi), ticks: linear_ticks(lo, hi, 8, false) }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let f = (v - self.range.0) / (self.range.1 - self.range.0);
        limit.0 + (f * f64::from(limit.1 - limit.0)).round() as i32
    }
    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.ticks.minor.clone()
        } else {
            self.ticks.major.clone()
        }
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.range.0..self.range.1
    }
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing the plot: {e:?}");
    let (w, h) = area.dim_in_pixel();
    // margins 10, label areas 70 and 40, the caption about 26 px
    let plot_px = (f64::from(w) - 20.0 - 70.0, f64::from(h) - 20.0 - 40.0 - 26.0);
    let plan = plan(panel, plot_px);
    let mut series: Vec<(&Series, &Vec<(f64, f64)>)> = panel.series.iter().zip(&plan.points).collect();
    // approximations and fits (dashed) on top of the curves they are compared with
    series.sort_by_key(|(s, _)| look(s).on_top);
    let x_axis = TickedAxis { range: plan.x, ticks: plan.x_ticks.clone() };
    let y_axis = TickedAxis { range: plan.y, ticks: plan.y_ticks.clone() };
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x_axis, y_axis)
        .map_err(err)?;
    let label = |log: bool, major: &[f64]| {
        let exponent = exponent_labels(major);
        move |v: &f64| if log { log_tick(*v, exponent) } else { tick(*v, false) }
    };
    let (fx, fy) = (label(panel.log_x, &plan.x_ticks.major), label(panel.log_y, &plan.y_ticks.major));
    chart
        .configure_mesh()
        .x_desc(&panel.x_label)
        .y_desc(&panel.y_label)
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    for (s, pts) in &series {
        let Look { color, width, .. } = look(s);
        let stroke = color.stroke_width(width);
        let line = match s.style {
            Style::Band => {
                let fill = color.mix(0.25).filled();
                let area = chart.draw_series(std::iter::once(Polygon::new(pts.to_vec(), fill))).map_err(err)?;
                if !s.label.is_empty() {
                    area.label(&s.label).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], fill));
                }
                None
            }
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
            .label_font(("sans-serif", LEGEND_FONT))
            .position(plan.legend.map_or(SeriesLabelPosition::UpperLeft, |l| l.0.position()))
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::legend::{covered, unit};
    use super::*;
    use spinbat::study::{figure, FigureId, FigureSettings};

    /// `10^v / 10^floor(v)`: the leading digit of a log tick.
    fn mantissa(v: f64) -> f64 {
        10f64.powf(v - v.floor())
    }

    /// Log axes get their labels at 1, 10, 100 (and 2, 5 times a decade on short ranges),
    /// never at the half decades 3.16, 31.6 or the 7.94 that linear ticks of log10 give.
    #[test]
    fn log_ticks_are_decades() {
        for (lo, hi) in [(3.0f64, 300.0f64), (0.5, 2000.0), (1e-4, 20.0), (2.0, 64.0), (7.0, 60.0), (1e-12, 1e3)] {
            let t = log_ticks(lo.log10(), hi.log10());
            assert!(t.major.len() >= 2, "{lo}..{hi}: {:?}", t.major);
            for &v in &t.major {
                let m = mantissa(v);
                assert!(
                    [1.0, 2.0, 5.0, 10.0].iter().any(|d| (m - d).abs() < 1e-9),
                    "{lo}..{hi}: tick {}",
                    10f64.powf(v)
                );
                assert!(v >= lo.log10() - 1e-9 && v <= hi.log10() + 1e-9);
            }
            // three or more decades in range: decades only
            if hi / lo >= 1000.0 {
                assert!(t.major.iter().all(|v| (v - v.round()).abs() < 1e-12), "{lo}..{hi}: {:?}", t.major);
            }
            assert!(t.minor.iter().all(|v| t.major.iter().all(|m| (m - v).abs() > 1e-9)));
        }
        // the scaling figure's axes (quick settings), as drawn
        let data = figure(FigureId::Scaling, &FigureSettings::quick(), &spinbat::Silent).unwrap();
        for panel in &chart_of_for_test(&data).panels {
            let p = plan(panel, (520.0, 360.0));
            for (log, ticks) in [(panel.log_x, &p.x_ticks), (panel.log_y, &p.y_ticks)] {
                if log {
                    assert!(ticks
                        .major
                        .iter()
                        .all(|&v| [1.0, 2.0, 5.0, 10.0].iter().any(|d| (mantissa(v) - d).abs() < 1e-9)));
                }
            }
        }
        assert_eq!(tick(20f64.log10(), true), "20");
        assert_eq!(tick(0.05f64.log10(), true), "0.05");
        assert_eq!(tick(-6.0, true), "1e-6");
        assert_eq!(tick(5.0, true), "1e5");
        // narrow ranges: values, not rounded leading digits
        assert_eq!(log_tick(3.5f64.log10(), false), "3.5");
        // one axis, one style
        assert!(exponent_labels(&[-6.0, -3.0, 0.0]) && log_tick(-3.0, true) == "1e-3");
        assert_eq!(log_tick(0.0, true), "1");
    }

    /// An axis of whole numbers (N) is labelled at whole numbers only.
    #[test]
    fn whole_number_axes_have_whole_ticks() {
        let t = linear_ticks(1.9, 6.1, 8, true);
        assert_eq!(t.major, vec![2.0, 3.0, 4.0, 5.0, 6.0]);
        assert!(t.minor.is_empty());
        let t = linear_ticks(-0.02, 1.02, 8, false);
        assert!(t.major.iter().all(|v| ((v * 10.0) - (v * 10.0).round()).abs() < 1e-9), "{:?}", t.major);
        assert!(t.major.len() >= 4 && t.major.len() <= 9);
        let panel =
            Panel::new("", "N", "y").with(Series::new("a", vec![(2.0, 1.0), (3.0, 2.0), (6.0, 0.5)], Style::Line, 0));
        let p = plan(&panel, (500.0, 350.0));
        assert!(p.x_ticks.major.iter().all(|v| v.fract() == 0.0), "{:?}", p.x_ticks.major);
    }

    /// In every figure (quick settings), no point or segment of any series meets its panel's
    /// legend box.
    #[test]
    fn legends_cover_no_data() {
        for id in FigureId::ALL {
            let data = figure(id, &FigureSettings::quick(), &spinbat::Silent).unwrap();
            let fig = chart_of_for_test(&data);
            for panel in &fig.panels {
                let p = plan(panel, (520.0, 360.0));
                let Some((corner, rect)) = p.legend else { continue };
                let units: Vec<_> = p.points.iter().map(|s| unit(s, p.x, p.y)).collect();
                assert_eq!(covered(&units, rect), 0, "{id}: panel '{}' legend {corner:?} covers data", panel.title);
            }
        }
    }

    /// Fig. 4(c): the leading-order lines are dashed, 2 px wide, in a colour other than the
    /// exact curve of their family, and drawn after it.
    #[test]
    fn fig4_leading_order_lines_are_visible() {
        let data = figure(FigureId::Fig4, &FigureSettings::quick(), &spinbat::Silent).unwrap();
        let fig = chart_of_for_test(&data);
        let panel = fig.panels.iter().find(|p| p.title.starts_with("(c)")).expect("panel (c)");
        let dashed: Vec<&Series> = panel.series.iter().filter(|s| s.style == Style::Dashed).collect();
        assert!(!dashed.is_empty(), "no dashed series in (c)");
        for d in dashed {
            let solid =
                panel.series.iter().find(|s| s.color == d.color && s.style != Style::Dashed).expect("its solid curve");
            let (ld, ls) = (look(d), look(solid));
            assert!(ld.width > 0 && ld.on_top && !ls.on_top, "{}", d.label);
            assert_ne!(ld.color, ls.color, "{} drawn in the colour of {}", d.label, solid.label);
            assert!(d.points.iter().all(|p| p.1 > 0.0), "{}: points dropped on the log axis", d.label);
        }
    }

    fn chart_of_for_test(data: &spinbat::study::FigureData) -> Figure {
        crate::commands::figure::chart_of(data)
    }
}
