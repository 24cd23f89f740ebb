//! Where a legend goes: the corner of a plotting area whose box covers no data (exact
//! segment-box tests in unit coordinates), or an upper corner with the axis raised.

use plotters::prelude::SeriesLabelPosition;

/// A legend corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corner {
    UpperRight,
    UpperLeft,
    LowerRight,
    LowerLeft,
}

impl Corner {
    pub const ALL: [Corner; 4] = [Corner::UpperRight, Corner::UpperLeft, Corner::LowerRight, Corner::LowerLeft];
    pub fn position(self) -> SeriesLabelPosition {
        match self {
            Corner::UpperRight => SeriesLabelPosition::UpperRight,
            Corner::UpperLeft => SeriesLabelPosition::UpperLeft,
            Corner::LowerRight => SeriesLabelPosition::LowerRight,
            Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
        }
    }
    /// The legend box in unit coordinates of the plotting area (x right, y up):
    /// `(x0, x1, y0, y1)` for a box `w × h` (fractions of the area), with a small gap.
    pub fn rect(self, w: f64, h: f64) -> (f64, f64, f64, f64) {
        let g = 0.01;
        let (x0, x1) = match self {
            Corner::UpperLeft | Corner::LowerLeft => (0.0, w + 2.0 * g),
            _ => (1.0 - w - 2.0 * g, 1.0),
        };
        let (y0, y1) = match self {
            Corner::LowerLeft | Corner::LowerRight => (0.0, h + 2.0 * g),
            _ => (1.0 - h - 2.0 * g, 1.0),
        };
        (x0, x1, y0, y1)
    }
}

/// Whether the segment between two unit-coordinate points meets the rectangle
/// `(x0, x1, y0, y1)` (exact: Liang-Barsky clipping).
fn hits(r: (f64, f64, f64, f64), a: (f64, f64), b: (f64, f64)) -> bool {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, a.0 - r.0), (dx, r.1 - a.0), (-dy, a.1 - r.2), (dy, r.3 - a.1)] {
        if p == 0.0 {
            if q < 0.0 {
                return false;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
            if t0 > t1 {
                return false;
            }
        }
    }
    true
}

/// How many points and segments of `series` (unit coordinates) meet the rectangle `r`; a
/// series of one point counts that point.
pub fn covered(series: &[Vec<(f64, f64)>], r: (f64, f64, f64, f64)) -> usize {
    series
        .iter()
        .map(|s| match s.len() {
            1 => usize::from(hits(r, s[0], s[0])),
            _ => s.windows(2).filter(|p| hits(r, p[0], p[1])).count(),
        })
        .sum()
}

/// The legend corner whose box (`w × h`, fractions of the plotting area) meets the fewest
/// points and segments of `series`, given in unit coordinates of the plotting area; the first
/// free one in the order upper right, upper left, lower right, lower left.
pub fn legend_corner(series: &[Vec<(f64, f64)>], w: f64, h: f64) -> Corner {
    Corner::ALL.into_iter().min_by_key(|&c| covered(series, c.rect(w, h))).unwrap_or(Corner::UpperRight)
}

/// Where a legend of `w × h` (fractions of the plotting area) goes on axes `x`, `y` showing
/// `series` (data coordinates): a corner that covers no data if there is one, else an upper
/// corner with the top of the `y` axis raised until every point lies below the legend box.
/// Returns the corner and the (possibly raised) `y` range.
pub fn place_legend(series: &[Vec<(f64, f64)>], x: (f64, f64), y: (f64, f64), w: f64, h: f64) -> (Corner, (f64, f64)) {
    let units = |y: (f64, f64)| series.iter().map(|s| unit(s, x, y)).collect::<Vec<_>>();
    let c = legend_corner(&units(y), w, h);
    if covered(&units(y), c.rect(w, h)) == 0 {
        return (c, y);
    }
    // data at most at the fraction f of the new axis, the box from 1 - h - 2 gaps up
    let f = (1.0 - h - 0.04).max(0.3);
    let raised = (y.0, y.0 + (y.1 - y.0) / f);
    let upper = [Corner::UpperRight, Corner::UpperLeft];
    let u = units(raised);
    let c = upper.into_iter().min_by_key(|&c| covered(&u, c.rect(w, h))).unwrap_or(Corner::UpperRight);
    (c, raised)
}

/// Legend box size in fractions of a `plot_w × plot_h` pixel plotting area for `labels` at a
/// `font` px font, as plotters lays it out: the widest label (typeset width) plus 30 px for
/// the sample and 10 px margins, rows of 1.25 line heights, the box 5 px from the edges.
pub fn legend_size(labels: &[String], font: f64, plot_w: f64, plot_h: f64) -> (f64, f64) {
    let text = labels.iter().map(|l| f64::from(super::typeset::layout(l, font).1)).fold(0.0, f64::max);
    let rows = labels.len() as f64;
    let w = text + 30.0 + 20.0 + 5.0;
    let h = rows * font / 1.24 * 1.25 + 20.0 + 5.0;
    (w / plot_w.max(1.0), h / plot_h.max(1.0))
}

/// Maps data points to unit coordinates of the axes `x0..x1`, `y0..y1`.
pub fn unit(points: &[(f64, f64)], (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> Vec<(f64, f64)> {
    points.iter().map(|&(x, y)| ((x - x0) / (x1 - x0), (y - y0) / (y1 - y0))).collect()
}
