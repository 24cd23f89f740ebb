//! Two-panel plot of a charging curve: W(t) above, P(t) below, maximal power (and, on the
//! work panel, maximal work) marked; a third panel with the entanglement entropy S(t)
//! when it was recorded (`--observe entanglement`).

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use spinbat::observe::Charging;
use std::path::Path;

use crate::typeset::{register_font, Typeset};

/// A panel below W and P: axis label and `(t, value)` points (entropy with its cut, Var(H0)).
pub struct Extra {
    pub y_label: String,
    pub points: Vec<(f64, f64)>,
}

/// The reference of N independent spins (`W_ind = 2BN sin^2(omega t)`, physics.md check 1),
/// drawn dashed on the W and P panels.
#[derive(Debug, Clone, Copy)]
pub struct Independent {
    pub n: usize,
    pub b: f64,
    pub omega: f64,
}

impl Independent {
    pub fn work(&self, t: f64) -> f64 {
        2.0 * self.b * self.n as f64 * (self.omega * t).sin().powi(2)
    }
    pub fn power(&self, t: f64) -> f64 {
        if t > 0.0 {
            self.work(t) / t
        } else {
            0.0
        }
    }
}

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

/// Whether the segment between two unit-coordinate points crosses the rectangle (sampled).
fn hits(r: (f64, f64, f64, f64), a: (f64, f64), b: (f64, f64)) -> bool {
    (0..=16).any(|k| {
        let s = k as f64 / 16.0;
        let (x, y) = (a.0 + s * (b.0 - a.0), a.1 + s * (b.1 - a.1));
        x >= r.0 && x <= r.1 && y >= r.2 && y <= r.3
    })
}

/// The legend corner whose box (`w × h`, fractions of the plotting area) meets the fewest
/// points and segments of `series`, given in unit coordinates of the plotting area; the first
/// free one in the order upper right, upper left, lower right, lower left.
pub fn legend_corner(series: &[Vec<(f64, f64)>], w: f64, h: f64) -> Corner {
    let cost = |c: Corner| {
        let r = c.rect(w, h);
        series.iter().map(|s| s.windows(2).filter(|p| hits(r, p[0], p[1])).count()).sum::<usize>()
    };
    Corner::ALL.into_iter().min_by_key(|&c| cost(c)).unwrap_or(Corner::UpperRight)
}

/// Legend box size in fractions of a `plot_w × plot_h` pixel plotting area for `labels` at a
/// 15 px font (about 8.5 px a character, 20 px a row, 40 px for the sample and padding).
pub fn legend_size(labels: &[String], plot_w: f64, plot_h: f64) -> (f64, f64) {
    let chars = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64;
    ((chars * 8.5 + 45.0) / plot_w, (labels.len() as f64 * 20.0 + 12.0) / plot_h)
}

/// Maps data points to unit coordinates of the axes `x0..x1`, `y0..y1`.
pub fn unit(points: &[(f64, f64)], (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> Vec<(f64, f64)> {
    points.iter().map(|&(x, y)| ((x - x0) / (x1 - x0), (y - y0) / (y1 - y0))).collect()
}

/// Writes the plot to `path`, PNG or SVG by extension; `extra` adds panels below W and P.
pub fn write(path: &Path, title: &str, result: &Charging, ind: Option<Independent>, extra: &[Extra]) -> Result<()> {
    register_font();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let size = (900, 800 + 350 * extra.len() as u32);
    match ext.as_str() {
        "png" => {
            let root = Typeset::new(BitMapBackend::new(path, size)).into_drawing_area();
            draw(&root, title, result, ind, extra)?;
            root.present().with_context(|| format!("writing {}", path.display()))?;
        }
        "svg" => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            draw(&root, title, result, ind, extra)?;
            root.present().with_context(|| format!("writing {}", path.display()))?;
        }
        _ => return Err(anyhow!("plot file {} must end in .png or .svg", path.display())),
    }
    Ok(())
}

/// One panel: axis label, values, reference values, marked point and its legend.
type Panel<'a> = (&'a str, Vec<f64>, Vec<f64>, (f64, f64), &'a str);

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    r: &Charging,
    ind: Option<Independent>,
    extra: &[Extra],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing the plot: {e:?}");
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(title, ("sans-serif", 22)).map_err(err)?;
    let panels = root.split_evenly((2 + extra.len(), 1));
    let t: Vec<f64> = r.series.iter().map(|p| p.t).collect();
    let t_max = t.last().copied().unwrap_or(1.0).max(r.max_power.time * 1.05).max(1e-12);
    let star = r.max_power;
    let reference = |f: &dyn Fn(&Independent, f64) -> f64| -> Vec<f64> {
        ind.map(|i| t.iter().map(|&x| f(&i, x)).collect()).unwrap_or_default()
    };
    let curves: [Panel; 2] = [
        (
            "work W [B]",
            r.series.iter().map(|p| p.work).collect(),
            reference(&|i, x| i.work(x)),
            (star.time, star.work),
            "W(T*) at maximal power",
        ),
        (
            "power P = W/t [B^2]",
            r.series.iter().map(|p| p.power).collect(),
            reference(&|i, x| i.power(x)),
            (star.time, star.power),
            "maximal power P_max",
        ),
    ];
    for (area, (label, ys, refs, mark, mark_label)) in panels.iter().zip(curves) {
        let (lo, hi) = ys
            .iter()
            .chain(&refs)
            .chain(std::iter::once(&mark.1))
            .fold((0.0f64, 0.0f64), |(lo, hi), &y| (lo.min(y), hi.max(y)));
        let pad = 0.05 * (hi - lo).max(1e-12);
        let (y0, y1) = (lo - pad, hi + pad);
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..t_max, y0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("time t [1/B]")
            .y_desc(label)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .draw()
            .map_err(err)?;
        let name = label.split(' ').next().unwrap_or("");
        let mut labels = vec![format!("{name} ({})", r.solver)];
        chart
            .draw_series(LineSeries::new(t.iter().copied().zip(ys.iter().copied()), BLUE.stroke_width(2)))
            .map_err(err)?
            .label(&labels[0])
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        let grey = RGBColor(90, 90, 90);
        if !refs.is_empty() {
            labels.push("N independent spins".to_string());
            chart
                .draw_series(DashedLineSeries::new(
                    t.iter().copied().zip(refs.iter().copied()),
                    8,
                    5,
                    grey.stroke_width(2),
                ))
                .map_err(err)?
                .label(&labels[1])
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (7, 0)], grey.stroke_width(2))
                        + PathElement::new(vec![(12, 0), (20, 0)], grey.stroke_width(2))
                });
        }
        labels.push(format!("{mark_label}: T* = {:.4}, {:.4}", mark.0, mark.1));
        chart
            .draw_series(std::iter::once(Circle::new(mark, 6, RED.filled())))
            .map_err(err)?
            .label(labels.last().cloned().unwrap_or_default())
            .legend(|(x, y)| Circle::new((x + 10, y), 5, RED.filled()));
        let mut marks = vec![mark];
        if label.starts_with("work") {
            let mw = (r.max_work.time, r.max_work.work);
            marks.push(mw);
            labels.push(format!("maximal work in window: T = {:.4}, {:.4}", mw.0, mw.1));
            chart
                .draw_series(std::iter::once(TriangleMarker::new(mw, 8, GREEN.filled())))
                .map_err(err)?
                .label(labels.last().cloned().unwrap_or_default())
                .legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, GREEN.filled()));
        }
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let (w, h) = legend_size(&labels, pw as f64, ph as f64);
        let corner = legend_corner(&layout_series(&t, &ys, &refs, &marks, t_max, (y0, y1)), w, h);
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .position(corner.position())
            .draw()
            .map_err(err)?;
    }
    for (area, panel) in panels.iter().skip(2).zip(extra) {
        let hi = panel.points.iter().fold(0.0f64, |m, p| m.max(p.1)).max(1e-12);
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..t_max, 0.0..hi * 1.05)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("time t [1/B]")
            .y_desc(&panel.y_label)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .draw()
            .map_err(err)?;
        chart.draw_series(LineSeries::new(panel.points.iter().copied(), MAGENTA.stroke_width(2))).map_err(err)?;
    }
    Ok(())
}

/// The curves and marks of a W or P panel in unit coordinates of its axes (`0..t_max`,
/// `y0..y1`), as the legend placement sees them; a mark is a short cross.
pub fn layout_series(
    t: &[f64],
    ys: &[f64],
    refs: &[f64],
    marks: &[(f64, f64)],
    t_max: f64,
    y: (f64, f64),
) -> Vec<Vec<(f64, f64)>> {
    let x = (0.0, t_max);
    let mut out = vec![unit(&t.iter().copied().zip(ys.iter().copied()).collect::<Vec<_>>(), x, y)];
    if !refs.is_empty() {
        out.push(unit(&t.iter().copied().zip(refs.iter().copied()).collect::<Vec<_>>(), x, y));
    }
    for &(mx, my) in marks {
        let dx = 0.015 * t_max;
        out.push(unit(&[(mx - dx, my), (mx + dx, my)], x, y));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(r: (f64, f64, f64, f64), p: (f64, f64)) -> bool {
        p.0 >= r.0 && p.0 <= r.1 && p.1 >= r.2 && p.1 <= r.3
    }

    /// The default charge curve's shape (N = 8, omega = 4): a power peak near the left, a
    /// tail near 15 % of the peak; the old fixed lower-right legend sat on that tail.
    #[test]
    fn legend_box_misses_the_power_curve() {
        let t: Vec<f64> = (1..400).map(|k| k as f64 * 1.57 / 400.0).collect();
        let p: Vec<f64> =
            t.iter().map(|&t| 107.0 * (t / 0.16) * (1.0 - t / 0.16).exp() + 13.0 * (1.0 - (-t).exp())).collect();
        let ind = Independent { n: 8, b: 1.0, omega: 4.0 };
        let refs: Vec<f64> = t.iter().map(|&x| ind.power(x)).collect();
        let labels = vec![
            "power (dense)".to_string(),
            "N independent spins".to_string(),
            "maximal power P_max: T* = 0.1609, 107.5228".to_string(),
        ];
        let (w, h) = legend_size(&labels, 800.0, 230.0);
        let series = layout_series(&t, &p, &refs, &[(0.16, 107.5)], 1.57, (-5.0, 115.0));
        let c = legend_corner(&series, w, h);
        let r = c.rect(w, h);
        assert!(series.iter().flatten().all(|&q| !inside(r, q)), "{c:?} covers data");
        // the old placement covered the tail
        let old = Corner::LowerRight.rect(w, h);
        assert!(series.iter().flatten().any(|&q| inside(old, q)));
    }

    #[test]
    fn independent_spins_follow_check_one() {
        let ind = Independent { n: 8, b: 0.5, omega: 4.0 };
        let t = std::f64::consts::PI / 8.0;
        assert!((ind.work(t) - 8.0).abs() < 1e-12);
        assert_eq!(ind.power(0.0), 0.0);
    }
}
