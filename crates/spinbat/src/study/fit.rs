//! Scaling laws of `P_max/N` with `N` (paper Sec. III C): least-squares fits of a
//! constant, `a + b ln N` and `a + b N`, and the choice between them.
//!
//! **Which law.** Residuals alone cannot tell "tends to a constant" from "grows slowly"
//! on smooth, nearly exact data (a `1/N` approach to a constant is fitted better by
//! `a + b ln N` than by `a`). The choice therefore uses the growth of the slope
//! `s = dy/d ln N`: `s ∝ 1/N` (or faster decay) for a constant limit, `s → b` for
//! `a + b ln N`, `s ∝ N` for `a + b N`. The exponent `κ` of `|s| ∝ N^κ` is the
//! least-squares slope of `ln |s_k|` against `ln N` over successive differences, and the
//! law is the nearest of `κ = −1, 0, 1` (cuts at `∓1/2`). Slopes that change sign
//! (noise about a plateau) mean a constant.

use serde::Serialize;

/// A candidate growth law of `y(N)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Law {
    /// `y = a` (tends to a constant: nearest neighbour, `p > 1`).
    Constant,
    /// `y = a + b ln N` (`p = 1`).
    Log,
    /// `y = a + b N` (`p = 0`, all-to-all).
    Linear,
}

impl Law {
    /// Every law, simplest first.
    pub const ALL: [Law; 3] = [Law::Constant, Law::Log, Law::Linear];

    /// Short formula.
    pub fn formula(&self) -> &'static str {
        match self {
            Law::Constant => "a",
            Law::Log => "a + b ln N",
            Law::Linear => "a + b N",
        }
    }

    fn basis(&self, n: f64) -> f64 {
        match self {
            Law::Constant => 0.0,
            Law::Log => n.ln(),
            Law::Linear => n,
        }
    }
}

/// One least-squares fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fit {
    /// The law.
    pub law: Law,
    /// `a`.
    pub a: f64,
    /// `b` (0 for the constant).
    pub b: f64,
    /// Root-mean-square residual relative to the mean of `y`.
    pub rms_rel: f64,
}

impl Fit {
    /// `a + b f(N)`.
    pub fn eval(&self, n: f64) -> f64 {
        self.a + self.b * self.law.basis(n)
    }
}

/// All three fits and the preferred one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingFit {
    /// Fits of every [`Law`].
    pub fits: Vec<Fit>,
    /// The law the data follow, from the growth exponent (module docs).
    pub best: Law,
    /// `κ` in `|dy/d ln N| ∝ N^κ` (`None` when the slopes change sign).
    pub growth_exponent: Option<f64>,
}

/// Fits `y(N)` with every [`Law`] by linear least squares.
///
/// Returns `None` for fewer than three points, non-finite data or `N ≤ 0`.
pub fn fit_scaling(n: &[f64], y: &[f64]) -> Option<ScalingFit> {
    if n.len() != y.len() || n.len() < 3 || n.iter().chain(y).any(|v| !v.is_finite()) || n.iter().any(|&v| v <= 0.0) {
        return None;
    }
    let m = n.len() as f64;
    let mean_y = y.iter().sum::<f64>() / m;
    let fits: Vec<Fit> = Law::ALL
        .iter()
        .map(|&law| {
            let (a, b) = if law == Law::Constant {
                (mean_y, 0.0)
            } else {
                let x: Vec<f64> = n.iter().map(|&v| law.basis(v)).collect();
                let mx = x.iter().sum::<f64>() / m;
                let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
                let sxy: f64 = x.iter().zip(y).map(|(xv, yv)| (xv - mx) * (yv - mean_y)).sum();
                let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
                (mean_y - b * mx, b)
            };
            let rss: f64 = n.iter().zip(y).map(|(&nv, &yv)| (yv - a - b * law.basis(nv)).powi(2)).sum::<f64>();
            let rms_rel = (rss / m).sqrt() / mean_y.abs().max(f64::MIN_POSITIVE);
            Fit { law, a, b, rms_rel }
        })
        .collect();
    let kappa = growth_exponent(n, y);
    let best = match kappa {
        None => Law::Constant,
        Some(k) if k < -0.5 => Law::Constant,
        Some(k) if k < 0.5 => Law::Log,
        Some(_) => Law::Linear,
    };
    Some(ScalingFit { fits, best, growth_exponent: kappa })
}

/// `κ` of `|dy/d ln N| ∝ N^κ` from successive differences (`None` if they change sign or
/// vanish, or fewer than two differences).
fn growth_exponent(n: &[f64], y: &[f64]) -> Option<f64> {
    let mut pts = Vec::new();
    for k in 0..n.len() - 1 {
        let dl = n[k + 1].ln() - n[k].ln();
        if dl <= 0.0 {
            return None;
        }
        pts.push((0.5 * (n[k + 1].ln() + n[k].ln()), (y[k + 1] - y[k]) / dl));
    }
    let sign = pts[0].1.signum();
    if pts.len() < 2 || pts.iter().any(|p| p.1 == 0.0 || p.1.signum() != sign) {
        return None;
    }
    let m = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / m;
    let my = pts.iter().map(|p| p.1.abs().ln()).sum::<f64>() / m;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1.abs().ln() - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_the_law_of_synthetic_data() {
        let n: Vec<f64> = (2..=20).map(f64::from).collect();
        let wiggle = |k: usize| 1e-9 * ((k * 7919) % 13) as f64 / 13.0;
        for (law, f) in [
            (Law::Constant, Box::new(|_: f64| 3.0) as Box<dyn Fn(f64) -> f64>),
            (Law::Constant, Box::new(|x: f64| 3.0 - 1.0 / x + 0.3 / (x * x))),
            (Law::Log, Box::new(|x: f64| 2.0 + 0.5 * x.ln())),
            (Law::Log, Box::new(|x: f64| 2.0 + 0.5 * x.ln() + 0.2 / x)),
            (Law::Linear, Box::new(|x: f64| 1.0 + 0.2 * x)),
            (Law::Linear, Box::new(|x: f64| 1.0 + 0.2 * x + x.ln())),
        ] {
            let y: Vec<f64> = n.iter().enumerate().map(|(k, &x)| f(x) + wiggle(k)).collect();
            let fit = fit_scaling(&n, &y).unwrap();
            assert_eq!(fit.best, law);
        }
        assert!(fit_scaling(&n[..2], &[1.0, 2.0]).is_none());
    }
}
