//! Two-panel plot of a charging curve: W(t) above, P(t) below, maximal power (and, on the
//! work panel, maximal work) marked; a third panel with the entanglement entropy S(t)
//! when it was recorded (`--observe entanglement`).

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use spinbat::observe::Charging;
use std::path::Path;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn register() {
    // DejaVu Sans is embedded: no system fonts or libraries are needed.
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
}

/// Writes the plot to `path`, PNG or SVG by extension; `entropy` adds a panel of
/// `(t, S(t))`.
pub fn write(path: &Path, title: &str, result: &Charging, entropy: Option<&[(f64, f64)]>) -> Result<()> {
    register();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let size = if entropy.is_some() { (900, 1150) } else { (900, 800) };
    match ext.as_str() {
        "png" => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            draw(&root, title, result, entropy)?;
            root.present().with_context(|| format!("writing {}", path.display()))?;
        }
        "svg" => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            draw(&root, title, result, entropy)?;
            root.present().with_context(|| format!("writing {}", path.display()))?;
        }
        _ => return Err(anyhow!("plot file {} must end in .png or .svg", path.display())),
    }
    Ok(())
}

/// One panel: axis label, values, marked point and its legend.
type Panel<'a> = (&'a str, Vec<f64>, (f64, f64), &'a str);

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    r: &Charging,
    entropy: Option<&[(f64, f64)]>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing the plot: {e:?}");
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(title, ("sans-serif", 22)).map_err(err)?;
    let panels = root.split_evenly((if entropy.is_some() { 3 } else { 2 }, 1));
    let t: Vec<f64> = r.series.iter().map(|p| p.t).collect();
    let t_max = t.last().copied().unwrap_or(1.0).max(r.max_power.time * 1.05).max(1e-12);
    let star = r.max_power;
    let curves: [Panel; 2] = [
        ("work W [B]", r.series.iter().map(|p| p.work).collect(), (star.time, star.work), "W(T*) at maximal power"),
        (
            "power P = W/t [B^2]",
            r.series.iter().map(|p| p.power).collect(),
            (star.time, star.power),
            "maximal power P_max",
        ),
    ];
    for (area, (label, ys, mark, mark_label)) in panels.iter().zip(curves) {
        let (lo, hi) =
            ys.iter().chain(std::iter::once(&mark.1)).fold((0.0f64, 0.0f64), |(lo, hi), &y| (lo.min(y), hi.max(y)));
        let pad = 0.05 * (hi - lo).max(1e-12);
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..t_max, (lo - pad)..(hi + pad))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("time t [1/B]")
            .y_desc(label)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(t.iter().copied().zip(ys.iter().copied()), BLUE.stroke_width(2)))
            .map_err(err)?
            .label(format!("{} ({})", label.split(' ').next().unwrap_or(""), r.solver))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        chart
            .draw_series(std::iter::once(Circle::new(mark, 6, RED.filled())))
            .map_err(err)?
            .label(format!("{mark_label}: T* = {:.4}, {:.4}", mark.0, mark.1))
            .legend(|(x, y)| Circle::new((x + 10, y), 5, RED.filled()));
        if label.starts_with("work") {
            let mw = (r.max_work.time, r.max_work.work);
            chart
                .draw_series(std::iter::once(TriangleMarker::new(mw, 8, GREEN.filled())))
                .map_err(err)?
                .label(format!("maximal work in window: T = {:.4}, {:.4}", mw.0, mw.1))
                .legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, GREEN.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(err)?;
    }
    if let (Some(points), Some(area)) = (entropy, panels.get(2)) {
        let hi = points.iter().fold(0.0f64, |m, p| m.max(p.1)).max(1e-12);
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..t_max, 0.0..hi * 1.05)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("time t [1/B]")
            .y_desc("entanglement entropy S [nats]")
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .draw()
            .map_err(err)?;
        chart.draw_series(LineSeries::new(points.iter().copied(), MAGENTA.stroke_width(2))).map_err(err)?;
    }
    Ok(())
}
