//! Heat maps of a study over two varied parameters: one coloured cell per point, a colour
//! bar with its scale, values written in the cells when the grid is small. PNG or SVG by
//! file extension, like [`super::chart`].

use super::file::{self, Picture};
use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use spinbat::study::Parameter;
use std::path::Path;

/// One heat map: `z` over the grid of `x` × `y` values.
#[derive(Debug, Clone)]
pub struct HeatMap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// What the colours mean (colour bar label).
    pub z_label: String,
    /// Distinct `x` values, ascending.
    pub x: Vec<f64>,
    /// Distinct `y` values, ascending.
    pub y: Vec<f64>,
    /// `z[iy][ix]`; NaN for a missing point (drawn grey).
    pub z: Vec<Vec<f64>>,
}

impl HeatMap {
    /// A heat map of the cells `(x, y, z)` (any order; axes from the distinct values).
    pub fn new(title: String, x: Parameter, y: Parameter, z_label: &str, cells: &[(f64, f64, f64)]) -> Self {
        let axis = |f: fn(&(f64, f64, f64)) -> f64| {
            let mut v: Vec<f64> = cells.iter().map(f).filter(|v| v.is_finite()).collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        };
        let (xs, ys) = (axis(|c| c.0), axis(|c| c.1));
        let mut z = vec![vec![f64::NAN; xs.len()]; ys.len()];
        for &(cx, cy, cz) in cells {
            if let (Some(ix), Some(iy)) = (xs.iter().position(|&v| v == cx), ys.iter().position(|&v| v == cy)) {
                z[iy][ix] = cz;
            }
        }
        HeatMap {
            title,
            x_label: crate::commands::scan::symbol(x).to_string(),
            y_label: crate::commands::scan::symbol(y).to_string(),
            z_label: z_label.to_string(),
            x: xs,
            y: ys,
            z,
        }
    }

    /// The colour scale of the finite values ([`scale`]).
    pub fn scale(&self) -> Scale {
        scale(self.z.iter().flatten().copied())
    }
}

/// Values closer than this (absolute near zero, relative otherwise) are one value: the
/// rounding of double-precision sums of terms of order one is about 1e-15.
pub const SAME: f64 = 1e-12;

/// How values map to colours.
#[derive(Debug, Clone, PartialEq)]
pub enum Scale {
    /// Viridis from `lo` to `hi`.
    Spread { lo: f64, hi: f64 },
    /// Every value is `value` to within [`SAME`] (e.g. an entropy that is zero up to
    /// rounding): one colour, and the colour bar says so in `note`.
    Single { value: f64, note: String },
}

/// The colour scale of `values` (non-finite ones ignored): [`Scale::Single`] when they
/// spread by less than [`SAME`] (times their size when that exceeds one), else the range.
pub fn scale(values: impl IntoIterator<Item = f64>) -> Scale {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return Scale::Single { value: f64::NAN, note: "no data".into() };
    }
    let size = lo.abs().max(hi.abs());
    if size < SAME {
        Scale::Single { value: 0.0, note: format!("0 (all values |x| < {SAME:.0e})") }
    } else if hi - lo <= SAME * size.max(1.0) {
        let v = 0.5 * (lo + hi);
        Scale::Single { value: v, note: format!("{} (all values within {SAME:.0e})", label(v)) }
    } else {
        Scale::Spread { lo, hi }
    }
}

impl Scale {
    /// Position of `z` on the colour bar, `0..=1` (the middle for a single value).
    pub fn position(&self, z: f64) -> f64 {
        match *self {
            Scale::Spread { lo, hi } => ((z - lo) / (hi - lo)).clamp(0.0, 1.0),
            Scale::Single { .. } => 0.5,
        }
    }
    /// Labelled values of the colour bar with their positions: nice numbers inside the range
    /// (a value within `1e-9` of the range of zero printed as `0`), or the single value.
    pub fn ticks(&self) -> Vec<(f64, String)> {
        match self {
            Scale::Spread { lo, hi } => {
                let span = hi - lo;
                super::chart::linear_ticks(*lo, *hi, 5, false)
                    .major
                    .into_iter()
                    .filter(|v| *v >= lo - 1e-9 * span && *v <= hi + 1e-9 * span)
                    .map(|v| {
                        let v = if v.abs() < 1e-9 * span { 0.0 } else { v };
                        (self.position(v), label(v))
                    })
                    .collect()
            }
            Scale::Single { note, .. } => vec![(0.5, note.clone())],
        }
    }
}

/// Cell edges around ascending `v`: midpoints between neighbours, half a spacing beyond
/// the ends (±0.5 for a single value). Uneven grids get uneven cells.
fn edges(v: &[f64]) -> Vec<f64> {
    match v.len() {
        0 => vec![0.0, 1.0],
        1 => vec![v[0] - 0.5, v[0] + 0.5],
        n => {
            let mut e = Vec::with_capacity(n + 1);
            e.push(v[0] - 0.5 * (v[1] - v[0]));
            e.extend(v.windows(2).map(|w| 0.5 * (w[0] + w[1])));
            e.push(v[n - 1] + 0.5 * (v[n - 1] - v[n - 2]));
            e
        }
    }
}

/// Viridis, sampled at nine points and interpolated linearly (perceptually uniform,
/// readable in grey and by colour-blind readers).
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// Colour of `t` in `[0, 1]`.
pub fn colour(t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let x = t * (VIRIDIS.len() - 1) as f64;
    let k = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - k as f64;
    let (a, b) = (VIRIDIS[k], VIRIDIS[k + 1]);
    let mix = |p: u8, q: u8| (f64::from(p) + f * (f64::from(q) - f64::from(p))).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn scale_is_zero(s: &Scale) -> bool {
    matches!(s, Scale::Single { value, .. } if *value == 0.0)
}

fn label(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e4 || v.abs() < 1e-3) {
        format!("{v:.2e}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Writes `maps` in a grid of `cols` columns to `path` (`.png` or `.svg`).
pub fn write(path: &Path, title: &str, maps: &[HeatMap], cols: usize) -> Result<()> {
    let cols = cols.clamp(1, maps.len().max(1));
    let rows = maps.len().div_ceil(cols).max(1);
    let size = (660 * cols as u32 + 20, 500 * rows as u32 + 50);
    file::write(path, size, &Maps { title, maps, rows, cols })
}

/// What [`write`] draws: the maps in `rows` x `cols` under a title.
struct Maps<'a> {
    title: &'a str,
    maps: &'a [HeatMap],
    rows: usize,
    cols: usize,
}

impl Picture for Maps<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        draw(root, self.title, self.maps, self.rows, self.cols)
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    maps: &[HeatMap],
    rows: usize,
    cols: usize,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing the heat map: {e:?}");
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(title, ("sans-serif", 18)).map_err(err)?;
    for (area, map) in root.split_evenly((rows, cols)).iter().zip(maps) {
        draw_map(area, map)?;
    }
    Ok(())
}

fn draw_map<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, map: &HeatMap) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing the heat map: {e:?}");
    let (width, _) = area.dim_in_pixel();
    let (main, bar) = area.split_horizontally(width.saturating_sub(110));
    let (xe, ye) = (edges(&map.x), edges(&map.y));
    let (x0, x1) = (xe[0], xe[xe.len() - 1]);
    let (y0, y1) = (ye[0], ye[ye.len() - 1]);
    let mut chart = ChartBuilder::on(&main)
        .caption(&map.title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    let few = |v: &[f64]| v.len() <= 12;
    let (nx, ny) = (if few(&map.x) { map.x.len() } else { 10 }, if few(&map.y) { map.y.len() } else { 10 });
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(&map.x_label)
        .y_desc(&map.y_label)
        .x_labels(nx.max(2))
        .y_labels(ny.max(2))
        .x_label_formatter(&|v| label(*v))
        .y_label_formatter(&|v| label(*v))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    let scale = map.scale();
    let single = matches!(scale, Scale::Single { .. });
    let t = |z: f64| scale.position(z);
    let grey = RGBColor(200, 200, 200);
    let mut cells = Vec::new();
    for (iy, row) in map.z.iter().enumerate() {
        for (ix, &z) in row.iter().enumerate() {
            let c = if z.is_finite() { colour(t(z)) } else { grey };
            cells.push(Rectangle::new([(xe[ix], ye[iy]), (xe[ix + 1], ye[iy + 1])], c.filled()));
        }
    }
    chart.draw_series(cells).map_err(err)?;
    // the values in the cells, when there is room for them
    if map.x.len() <= 10 && map.y.len() <= 12 {
        let mut texts = Vec::new();
        for (iy, row) in map.z.iter().enumerate() {
            for (ix, &z) in row.iter().enumerate() {
                if !z.is_finite() {
                    continue;
                }
                let ink = if t(z) > 0.6 { BLACK } else { WHITE };
                let style = ("sans-serif", 12).into_font().color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
                let centre = (0.5 * (xe[ix] + xe[ix + 1]), 0.5 * (ye[iy] + ye[iy + 1]));
                let text = if single && scale_is_zero(&scale) { "0".to_string() } else { format!("{z:.4}") };
                texts.push(Text::new(text, centre, style));
            }
        }
        chart.draw_series(texts).map_err(err)?;
    }
    // colour bar, aligned with the plotting area
    let (_, py) = chart.plotting_area().get_pixel_range();
    let base = bar.get_base_pixel();
    let (top, bottom) = (py.start - base.1, py.end - base.1);
    let (bx0, bx1) = (8, 30);
    let steps = (bottom - top).max(1);
    for k in 0..steps {
        let f = if single { 0.5 } else { 1.0 - f64::from(k) / f64::from(steps) };
        bar.draw(&Rectangle::new([(bx0, top + k), (bx1, top + k + 1)], colour(f).filled())).map_err(err)?;
    }
    bar.draw(&Rectangle::new([(bx0, top), (bx1, bottom)], BLACK.stroke_width(1))).map_err(err)?;
    let tick_style = ("sans-serif", 12).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    for (f, text) in scale.ticks() {
        let y = bottom - (f * f64::from(bottom - top)).round() as i32;
        bar.draw(&PathElement::new(vec![(bx1, y), (bx1 + 4, y)], BLACK)).map_err(err)?;
        if single {
            // the note is long: written upwards along the bar
            let up = ("sans-serif", 12)
                .into_font()
                .transform(FontTransform::Rotate270)
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top));
            bar.draw(&Text::new(text, (bx1 + 7, y), up)).map_err(err)?;
        } else {
            bar.draw(&Text::new(text, (bx1 + 7, y), tick_style.clone())).map_err(err)?;
        }
    }
    let title_style = ("sans-serif", 12).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Bottom));
    bar.draw(&Text::new(map.z_label.clone(), (2, top - 12), title_style)).map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_surround_the_values() {
        assert_eq!(edges(&[1.0, 2.0, 4.0]), vec![0.5, 1.5, 3.0, 5.0]);
        assert_eq!(edges(&[3.0]), vec![2.5, 3.5]);
        let m = HeatMap::new(
            "t".into(),
            Parameter::N,
            Parameter::Alpha,
            "z",
            &[(2.0, 0.5, 1.0), (2.0, 0.0, 2.0), (3.0, 0.0, 3.0)],
        );
        assert_eq!((m.x.clone(), m.y.clone()), (vec![2.0, 3.0], vec![0.0, 0.5]));
        assert_eq!(m.z[0], vec![2.0, 3.0]);
        assert!(m.z[1][1].is_nan());
        assert_eq!(colour(0.0), RGBColor(68, 1, 84));
        assert_eq!(colour(1.0), RGBColor(253, 231, 37));
    }
}

#[cfg(test)]
mod scale_tests {
    use super::*;

    /// Values that are zero up to rounding (a mean-field entropy) get one colour and a bar
    /// that says so, not a scale from -5e-14 to 5e-14.
    #[test]
    fn zero_data_give_a_single_value_bar() {
        let s = scale([5e-14, -5e-14, 0.0, f64::NAN]);
        match &s {
            Scale::Single { value, note } => {
                assert_eq!(*value, 0.0);
                assert!(note.starts_with("0 (") && note.contains("1e-12"), "{note}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.ticks().len(), 1);
        assert_eq!(s.position(5e-14), s.position(-5e-14));
        let m = HeatMap::new(
            "t".into(),
            Parameter::N,
            Parameter::Alpha,
            "S",
            &[(2.0, 0.0, 1e-15), (3.0, 0.0, -2e-14), (2.0, 1.0, 0.0)],
        );
        assert!(matches!(m.scale(), Scale::Single { .. }));
        assert_eq!(m.x_label, "N");
        // equal non-zero values: one value too
        assert!(matches!(scale([2.5, 2.5 + 1e-13]), Scale::Single { .. }));
        // real spread: a range, its bar labelled at round numbers inside it, 0 not 8.9e-16
        let s = scale([8.88e-16, 0.4, 1.0016]);
        assert_eq!(s, Scale::Spread { lo: 8.88e-16, hi: 1.0016 });
        let ticks = s.ticks();
        assert!(ticks.len() >= 2 && ticks.iter().all(|(f, _)| (0.0..=1.0).contains(f)));
        assert_eq!(ticks[0].1, "0");
        assert!(scale([1e-13, 1e-6]) != scale([0.0]));
    }
}
