//! Two-panel plot of a charging curve: W(t) above, P(t) below, maximal power (and, on the
//! work panel, maximal work) marked; a third panel with the entanglement entropy S(t)
//! when it was recorded (`--observe entanglement`).

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use spinbat::observe::Charging;
use std::path::Path;

use super::chart::{tick, TickedAxis};
use super::file::{self, Picture};
use super::legend::{legend_size, place_legend, Corner};

/// A panel below W and P: axis label and `(t, value)` points (entropy with its cut, Var(H0)),
/// and further labelled curves drawn on the same axes with a legend (the ergotropy panel).
pub struct Extra {
    pub y_label: String,
    pub points: Vec<(f64, f64)>,
    /// `(label, points)`; with any, the first curve is labelled `label`.
    pub more: Vec<(String, Vec<(f64, f64)>)>,
    pub label: String,
}

impl Extra {
    /// One curve, no legend.
    pub fn single(y_label: String, points: Vec<(f64, f64)>) -> Self {
        Extra { y_label, points, more: Vec::new(), label: String::new() }
    }
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

/// Legend of the band of [`write_with_band`].
/// The band's legend for a mean over trajectories.
pub const BAND_TRAJECTORIES: &str = "one standard error (mean of the trajectories)";
/// The band's legend for a mean over disorder realisations.
pub const BAND_REALISATIONS: &str = "one standard error (mean over the disorder)";

/// Font size of the charge plot's legends [px].
const LEGEND_FONT: f64 = 15.0;

/// Writes the plot to `path`, PNG or SVG by extension; `extra` adds panels below W and P.
pub fn write(path: &Path, title: &str, result: &Charging, ind: Option<Independent>, extra: &[Extra]) -> Result<()> {
    write_with_band(path, title, result, ind, extra, None, "")
}

/// [`write`] with a band of one standard error `band[k]` around `W` at each output time
/// (and `band[k]/t` around `P`): the statistical error of a mean over trajectories or
/// disorder realisations, with the legend `band_label` ([`BAND_TRAJECTORIES`],
/// [`BAND_REALISATIONS`]).
pub fn write_with_band(
    path: &Path,
    title: &str,
    result: &Charging,
    ind: Option<Independent>,
    extra: &[Extra],
    band: Option<&[f64]>,
    band_label: &str,
) -> Result<()> {
    let size = (900, 800 + 350 * extra.len() as u32);
    file::write(path, size, &ChargePlot { title, result, ind, extra, band, band_label })
}

/// What [`write`] draws.
struct ChargePlot<'a> {
    title: &'a str,
    result: &'a Charging,
    ind: Option<Independent>,
    extra: &'a [Extra],
    band: Option<&'a [f64]>,
    band_label: &'a str,
}

impl Picture for ChargePlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        draw(root, self.title, self.result, self.ind, self.extra, self.band, self.band_label)
    }
}

/// One panel: axis label, values, reference values, marked point and its legend.
type Panel<'a> = (&'a str, Vec<f64>, Vec<f64>, (f64, f64), &'a str);

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    r: &Charging,
    ind: Option<Independent>,
    extra: &[Extra],
    band: Option<&[f64]>,
    band_label: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing the plot: {e:?}");
    root.fill(&WHITE).map_err(err)?;
    // one standard error of W, and of P = W/t
    let spread: Option<[Vec<f64>; 2]> = band.map(|se| {
        let p = r.series.iter().zip(se).map(|(pt, e)| if pt.t > 0.0 { e / pt.t } else { 0.0 }).collect();
        [se.to_vec(), p]
    });
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
    for (panel_index, (area, (label, ys, refs, mark, mark_label))) in panels.iter().zip(curves).enumerate() {
        let spread = spread.as_ref().map(|s| &s[panel_index]);
        let name = label.split(' ').next().unwrap_or("");
        let mut labels = vec![format!("{name} ({})", r.solver)];
        if !refs.is_empty() {
            labels.push("N independent spins".to_string());
        }
        labels.push(format!("{mark_label}: T* = {:.4}, {:.4}", mark.0, mark.1));
        let mut marks = vec![mark];
        let max_work = label.starts_with("work").then_some((r.max_work.time, r.max_work.work));
        if let Some(mw) = max_work {
            marks.push(mw);
            labels.push(format!("maximal work in window: T = {:.4}, {:.4}", mw.0, mw.1));
        }
        let (w, h) = area.dim_in_pixel();
        let plot_px =
            (f64::from(w) - f64::from(2 * MARGIN + Y_LABEL_AREA), f64::from(h) - f64::from(2 * MARGIN + X_LABEL_AREA));
        let upper: Vec<f64> = match spread {
            Some(se) => ys.iter().zip(se).map(|(y, e)| y + e).collect(),
            None => ys.clone(),
        };
        let mut layout_labels = labels.clone();
        if spread.is_some() {
            layout_labels.push(band_label.to_string());
        }
        let (corner, y) = panel_layout(&t, &upper, &refs, &marks, &layout_labels, t_max, plot_px);
        let mut chart = time_panel(area, t_max, y, label)?;
        if let Some(se) = spread {
            // the band of one standard error, under the curve
            let outline: Vec<(f64, f64)> = t
                .iter()
                .zip(ys.iter().zip(se))
                .map(|(&x, (y, e))| (x, y + e))
                .chain(t.iter().zip(ys.iter().zip(se)).rev().map(|(&x, (y, e))| (x, y - e)))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(outline, BLUE.mix(0.2).filled())))
                .map_err(err)?
                .label(band_label)
                .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], BLUE.mix(0.2).filled()));
        }
        chart
            .draw_series(LineSeries::new(t.iter().copied().zip(ys.iter().copied()), BLUE.stroke_width(2)))
            .map_err(err)?
            .label(&labels[0])
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        let grey = RGBColor(90, 90, 90);
        if !refs.is_empty() {
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
        let k = labels.len() - 1 - usize::from(max_work.is_some());
        chart
            .draw_series(std::iter::once(Circle::new(mark, 6, RED.filled())))
            .map_err(err)?
            .label(&labels[k])
            .legend(|(x, y)| Circle::new((x + 10, y), 5, RED.filled()));
        if let Some(mw) = max_work {
            chart
                .draw_series(std::iter::once(TriangleMarker::new(mw, 8, GREEN.filled())))
                .map_err(err)?
                .label(&labels[k + 1])
                .legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, GREEN.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", LEGEND_FONT))
            .position(corner.position())
            .draw()
            .map_err(err)?;
    }
    for (area, panel) in panels.iter().skip(2).zip(extra) {
        let all = || panel.points.iter().chain(panel.more.iter().flat_map(|m| m.1.iter()));
        let hi = all().fold(0.0f64, |m, p| m.max(p.1)).max(1e-12);
        let lo = all().fold(0.0f64, |m, p| m.min(p.1));
        if panel.more.is_empty() {
            let mut chart = time_panel(area, t_max, (0.0, hi * 1.05), &panel.y_label)?;
            chart.draw_series(LineSeries::new(panel.points.iter().copied(), MAGENTA.stroke_width(2))).map_err(err)?;
            continue;
        }
        // several curves: a legend where it covers none of them (the band between their
        // lower and upper envelopes counts as data)
        let mut labels = vec![panel.label.clone()];
        labels.extend(panel.more.iter().map(|m| m.0.clone()));
        let (w, h) = area.dim_in_pixel();
        let plot_px =
            (f64::from(w) - f64::from(2 * MARGIN + Y_LABEL_AREA), f64::from(h) - f64::from(2 * MARGIN + X_LABEL_AREA));
        let pt: Vec<f64> = panel.points.iter().map(|p| p.0).collect();
        let at = |k: usize| {
            std::iter::once(panel.points[k].1).chain(panel.more.iter().filter_map(move |m| m.1.get(k).map(|p| p.1)))
        };
        let upper: Vec<f64> = (0..pt.len()).map(|k| at(k).fold(f64::NEG_INFINITY, f64::max)).collect();
        let lower: Vec<f64> = (0..pt.len()).map(|k| at(k).fold(f64::INFINITY, f64::min)).collect();
        let (corner, _) = panel_layout(&pt, &upper, &lower, &[], &labels, t_max, plot_px);
        let pad = 0.05 * (hi - lo).max(1e-12);
        let mut chart = time_panel(area, t_max, (lo - pad, hi + 0.35 * (hi - lo).max(1e-12)), &panel.y_label)?;
        let colours = [MAGENTA, BLUE, GREEN, RED, BLACK];
        let curves = std::iter::once((&panel.label, &panel.points)).chain(panel.more.iter().map(|m| (&m.0, &m.1)));
        for ((label, points), colour) in curves.zip(colours.iter().cycle()) {
            let style = colour.stroke_width(2);
            chart
                .draw_series(LineSeries::new(points.iter().copied(), style))
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", LEGEND_FONT))
            .position(corner.position())
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

/// Margin around each panel and the sizes of its axis-label areas [px].
const MARGIN: u32 = 12;
const X_LABEL_AREA: u32 = 45;
const Y_LABEL_AREA: u32 = 70;

/// A panel against time `0..t_max` with values in `y` (`lo, hi`) and `y_label` on its axis:
/// margins, axes and mesh (ticks, labels, fonts), the same on every panel of the plot.
fn time_panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    t_max: f64,
    y: (f64, f64),
    y_label: &str,
) -> Result<ChartContext<'a, DB, Cartesian2d<TickedAxis, TickedAxis>>>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing the plot: {e:?}");
    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(TickedAxis::linear(0.0, t_max), TickedAxis::linear(y.0, y.1))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("time t [1/B]")
        .y_desc(y_label)
        .y_label_formatter(&|v| tick(*v, false))
        .x_label_formatter(&|v| tick(*v, false))
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// The curves and marks of a W or P panel in data coordinates, as the legend placement
/// sees them; a mark is a short horizontal bar (1.5 % of the window each side).
pub fn panel_series(t: &[f64], ys: &[f64], refs: &[f64], marks: &[(f64, f64)], t_max: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![t.iter().copied().zip(ys.iter().copied()).collect::<Vec<_>>()];
    if !refs.is_empty() {
        out.push(t.iter().copied().zip(refs.iter().copied()).collect());
    }
    for &(mx, my) in marks {
        let dx = 0.015 * t_max;
        out.push(vec![(mx - dx, my), (mx + dx, my)]);
    }
    out
}

/// Legend corner and `y` range of a W or P panel with legend `labels` on a plotting area of
/// `plot_px` pixels: the range spans the curve, the reference and the marks (and 0) with 5 %
/// padding, raised at the top if no corner is free of data ([`place_legend`]).
pub fn panel_layout(
    t: &[f64],
    ys: &[f64],
    refs: &[f64],
    marks: &[(f64, f64)],
    labels: &[String],
    t_max: f64,
    plot_px: (f64, f64),
) -> (Corner, (f64, f64)) {
    let (lo, hi) = ys
        .iter()
        .chain(refs)
        .chain(marks.iter().map(|m| &m.1))
        .fold((0.0f64, 0.0f64), |(lo, hi), &y| (lo.min(y), hi.max(y)));
    let pad = 0.05 * (hi - lo).max(1e-12);
    let (w, h) = legend_size(labels, LEGEND_FONT, plot_px.0, plot_px.1);
    place_legend(&panel_series(t, ys, refs, marks, t_max), (0.0, t_max), (lo - pad, hi + pad), w, h)
}

#[cfg(test)]
mod tests {
    use super::super::legend::{covered, legend_corner, unit};
    use super::*;

    /// The same in unit coordinates of the axes `0..t_max`, `y0..y1`.
    fn layout_series(
        t: &[f64],
        ys: &[f64],
        refs: &[f64],
        marks: &[(f64, f64)],
        t_max: f64,
        y: (f64, f64),
    ) -> Vec<Vec<(f64, f64)>> {
        panel_series(t, ys, refs, marks, t_max).iter().map(|s| unit(s, (0.0, t_max), y)).collect()
    }

    /// The work panel of `spinbat charge --n 6` (its shape, with the independent-spin
    /// reference 2BN sin^2(omega t) over two of its half periods): every corner of the
    /// old axis range meets a curve; the legend placed by `panel_layout` meets none.
    #[test]
    fn work_legend_misses_curve_and_reference() {
        use std::f64::consts::FRAC_PI_2;
        let t: Vec<f64> = (0..=400).map(|k| k as f64 * FRAC_PI_2 / 400.0).collect();
        let ind = Independent { n: 6, b: 1.0, omega: 4.0 };
        let refs: Vec<f64> = t.iter().map(|&x| ind.work(x)).collect();
        let w: Vec<f64> = t
            .iter()
            .map(|&x| {
                15.0 * (1.0 - (-x * x / 0.02).exp())
                    - 4.0 * (x / 0.78 * std::f64::consts::PI).sin().powi(2) * (x / 1.57)
            })
            .collect();
        let marks = [(0.1644, 12.0157), (0.2472, 14.9684)];
        let labels = vec![
            "work (dense)".to_string(),
            "N independent spins".to_string(),
            "W(T*) at maximal power: T* = 0.1644, 12.0157".to_string(),
            "maximal work in window: T = 0.2472, 14.9684".to_string(),
        ];
        let plot_px = (900.0 - 24.0 - 70.0, 400.0 - 24.0 - 45.0);
        let (lw, lh) = legend_size(&labels, LEGEND_FONT, plot_px.0, plot_px.1);
        // the old range: data and 5 % padding; every corner covers something
        let (lo, hi) = (0.0f64, 15.0f64);
        let old = (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo));
        let old_units = layout_series(&t, &w, &refs, &marks, FRAC_PI_2, old);
        assert!(Corner::ALL.iter().all(|c| covered(&old_units, c.rect(lw, lh)) > 0));
        let (corner, y) = panel_layout(&t, &w, &refs, &marks, &labels, FRAC_PI_2, plot_px);
        let units = layout_series(&t, &w, &refs, &marks, FRAC_PI_2, y);
        assert_eq!(covered(&units, corner.rect(lw, lh)), 0, "{corner:?} on {y:?}");
        assert!(units.iter().flatten().all(|&q| !inside(corner.rect(lw, lh), q)));
    }

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
        let (w, h) = legend_size(&labels, LEGEND_FONT, 800.0, 230.0);
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
