//! The paper's figures as data: every curve of Figs. 2–6 of Le et al. with the paper's
//! parameters, plus two studies that go past it (the scaling of `P_max/N`, and
//! quantum-vs-classical power against entanglement), each with the paper's claim and a
//! verdict computed from the data.
//!
//! Rendering (PNG/SVG, report) is the CLI's job; here a figure is panels of labelled
//! curves ([`Curve`]), the parameters, the method and its accuracy.

use super::floquet::{figure_frequencies, scan_drive, DriveParameter, FIGURE_AMPLITUDE_SHARE};
use super::scan::{point, scan, ScanOptions, ScanRow, ScanSolver};
use super::sweep::{Parameter, Sweep};
use crate::error::{invalid, Result};
use crate::model::{Chain, Couplings, Drive};
use crate::propagate::{self, Solver};
use crate::{analytic, Progress};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use std::time::Instant;

/// Which figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FigureId {
    /// Fig. 2: maximal power vs `α`, `N = 4`, LR (`p = 1`) and NN, `g = B`, `ω = 4B`.
    Fig2,
    /// Fig. 3: work vs time, two spins, `ω = 3B`, `α = 0`, `g = 20B`; exact, slow part
    /// (Eq. 14) and slow + fast (Eq. 13).
    Fig3,
    /// Fig. 4: maximal work and power vs `N` at `g = 100B`, `ω = 4B`: XXX, NN, LR.
    Fig4,
    /// Fig. 5: work and power vs time, `N = 7`, `ω = 10B`, `g = B`, `α = 0`, `p = 1`;
    /// exact vs Eq. 18.
    Fig5,
    /// Fig. 6: quantum vs classical maximal power vs `N`, `g = B`, `ω = 4B`.
    Fig6,
    /// Beyond the paper: `P_max/N` vs `N` for NN, `p = 2`, `p = 1`, `p = 0` with fitted laws.
    Scaling,
    /// Beyond the paper: how much faster the classical chain charges, against the
    /// half-chain entanglement the quantum chain builds up before `T*`, across `N` and `α`.
    Correlations,
    /// Beyond the paper: the ergotropy locked in correlations at `T*`
    /// (`ℰ(ρ, H_B) − Σ_i ℰ(ρ_i, BZ_i)`), across `N` and `α`, quantum vs mean field.
    Locked,
    /// Beyond the paper (issue 17): `P_max` of a periodic drive `ω + A cos(νt)` against `ν`
    /// for NN and `p = 1`, beside the static charge ([`super::scan_drive`]).
    Floquet,
}

impl FigureId {
    /// Every figure, in report order.
    pub const ALL: [FigureId; 9] = [
        FigureId::Fig2,
        FigureId::Fig3,
        FigureId::Fig4,
        FigureId::Fig5,
        FigureId::Fig6,
        FigureId::Scaling,
        FigureId::Correlations,
        FigureId::Locked,
        FigureId::Floquet,
    ];

    /// File stem and command-line name (`fig2`, ..., `scaling`).
    pub fn as_str(&self) -> &'static str {
        match self {
            FigureId::Fig2 => "fig2",
            FigureId::Fig3 => "fig3",
            FigureId::Fig4 => "fig4",
            FigureId::Fig5 => "fig5",
            FigureId::Fig6 => "fig6",
            FigureId::Scaling => "scaling",
            FigureId::Correlations => "correlations",
            FigureId::Locked => "locked",
            FigureId::Floquet => "floquet",
        }
    }
}

impl fmt::Display for FigureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FigureId {
    type Err = crate::SpinbatError;
    fn from_str(s: &str) -> Result<Self> {
        let key = s.trim().to_ascii_lowercase();
        let key = key.strip_prefix("fig").unwrap_or(&key);
        let key = if key.chars().all(|c| c.is_ascii_digit()) { format!("fig{key}") } else { key.to_string() };
        FigureId::ALL.iter().copied().find(|f| f.as_str() == key).ok_or_else(|| {
            invalid(
                "figure",
                s,
                "choose one of 2, 3, 4, 5, 6, scaling, correlations, locked, floquet or all (fig2..fig6 also work)",
            )
        })
    }
}

/// What a curve is, so renderers can draw exact results solid, approximations dashed and
/// classical results dotted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CurveKind {
    /// Exact quantum dynamics.
    Exact,
    /// Classical mean-field model.
    MeanField,
    /// A perturbative or closed-form approximation (Eq. 13, 18, ...).
    Approximation,
    /// An effective (low-energy) description, e.g. the slow oscillation of Eq. 14.
    Effective,
    /// A fitted law.
    Fit,
    /// Quantum dynamics by matrix-product states (`--solver mps`): past the exact sizes,
    /// with an error estimate rather than a bound.
    MatrixProduct,
}

/// One labelled curve; `family` groups curves of one model (same colour).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curve {
    /// Legend text.
    pub label: String,
    /// Exact data, an approximation or a fit (drawn solid, dashed, ...).
    pub kind: CurveKind,
    /// Curves of one model share a family (and a colour).
    pub family: usize,
    /// Abscissae.
    pub x: Vec<f64>,
    /// Ordinates, one per abscissa.
    pub y: Vec<f64>,
}

/// One panel of a figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelData {
    /// Panel title, e.g. `(a) W(T), g = 0.5`.
    pub title: String,
    /// Label of the horizontal axis, with its unit.
    pub x_label: String,
    /// Label of the vertical axis, with its unit.
    pub y_label: String,
    /// Logarithmic horizontal axis.
    pub log_x: bool,
    /// Logarithmic vertical axis.
    pub log_y: bool,
    /// The curves drawn.
    pub curves: Vec<Curve>,
}

impl PanelData {
    fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        PanelData {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_x: false,
            log_y: false,
            curves: Vec::new(),
        }
    }
    fn curve(&mut self, label: impl Into<String>, kind: CurveKind, family: usize, x: Vec<f64>, y: Vec<f64>) {
        self.curves.push(Curve { label: label.into(), kind, family, x, y });
    }
}

/// The paper's claim about a figure and whether spinbat's data bear it out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The claim, in one sentence.
    pub claim: String,
    /// Whether the data support it.
    pub holds: bool,
    /// The numbers behind the verdict.
    pub evidence: String,
}

/// A figure's data, parameters, method and verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureData {
    /// Which figure.
    pub id: FigureId,
    /// Its title, as in the paper.
    pub title: String,
    /// The physical parameters, as in the paper's caption.
    pub parameters: String,
    /// Solvers used and their error control.
    pub method: String,
    /// The panels, in the paper's order.
    pub panels: Vec<PanelData>,
    /// The paper's claim and whether the data bear it out.
    pub verdict: Verdict,
    /// Scan rows behind the figure, where it is built from scans.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<ScanRow>,
    /// Wall-clock time of the computation, in seconds.
    pub run_time_s: f64,
}

/// How far and how finely figures are computed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FigureSettings {
    /// Absolute tolerance on `W`.
    pub tol: f64,
    /// Points per time curve (Figs. 3 and 5).
    pub points: usize,
    /// Step in `α` (Fig. 2).
    pub alpha_step: f64,
    /// Largest `N` of exact runs in Figs. 4 and 6 and the scaling study.
    pub n_max_exact: usize,
    /// Largest `N` of the strong-coupling Fig. 4 (dense parity sectors).
    pub n_max_strong: usize,
    /// Largest `N` of the mean-field and Dicke runs of the scaling study (powers of two).
    pub n_max_classical: usize,
    /// Largest `N` of the Floquet figure (a drive costs ~100 static charges a point).
    pub n_max_floquet: usize,
    /// Largest `N` of the matrix-product-state runs of the scaling study (`N = 8, 16, 32,
    /// …`, powers of two; `0`: none). The long-range ones take minutes from `N = 128` on
    /// (`p = 1` on two cores: 1 minute at `N = 128` measured alone, 11 at `N = 256` in the
    /// figure before the certifying tail; NN seconds), so the defaults leave them out.
    pub n_max_mps: usize,
}

impl FigureSettings {
    /// The defaults of `spinbat figure`: the paper's ranges and beyond.
    pub fn full() -> Self {
        FigureSettings {
            tol: 1e-10,
            points: 1001,
            alpha_step: 0.05,
            n_max_exact: 16,
            n_max_strong: 10,
            n_max_classical: 4096,
            n_max_floquet: 16,
            n_max_mps: 0,
        }
    }
    /// Small settings that run in about a second (tests, smoke runs).
    pub fn quick() -> Self {
        FigureSettings {
            tol: 1e-8,
            points: 101,
            alpha_step: 0.25,
            n_max_exact: 6,
            n_max_strong: 4,
            n_max_classical: 64,
            n_max_floquet: 6,
            n_max_mps: 0,
        }
    }
}

/// Computes one figure.
///
/// # Errors
/// Solver errors, or settings out of range (`n_max_exact < 4`, `points < 2`).
pub fn figure(id: FigureId, settings: &FigureSettings, progress: &dyn Progress) -> Result<FigureData> {
    if settings.points < 2 {
        return Err(invalid("points", settings.points, "at least 2"));
    }
    if settings.n_max_exact < 4 || settings.n_max_strong < 2 {
        return Err(invalid("n_max_exact", settings.n_max_exact, "figures need N up to at least 4"));
    }
    let start = Instant::now();
    let mut data = match id {
        FigureId::Fig2 => fig2(settings, progress)?,
        FigureId::Fig3 => fig3(settings)?,
        FigureId::Fig4 => fig4(settings, progress)?,
        FigureId::Fig5 => fig5(settings)?,
        FigureId::Fig6 => fig6(settings, progress)?,
        FigureId::Scaling => scaling(settings, progress)?,
        FigureId::Correlations => correlations(settings, progress)?,
        FigureId::Locked => locked(settings, progress)?,
        FigureId::Floquet => floquet(settings, progress)?,
    };
    data.run_time_s = start.elapsed().as_secs_f64();
    Ok(data)
}

fn chain(n: usize, g: f64, omega: f64, alpha: f64, couplings: Couplings) -> Result<Chain> {
    Chain::builder(n).b(1.0).g(g).omega(omega).alpha(alpha).couplings(couplings).build()
}

fn column(rows: &[ScanRow], solver: &str, f: impl Fn(&ScanRow) -> f64) -> (Vec<f64>, Vec<f64>) {
    rows.iter().filter(|r| r.solver == solver).map(|r| (r.value, f(r))).unzip()
}

fn max_error<'a>(rows: impl IntoIterator<Item = &'a ScanRow>) -> f64 {
    rows.into_iter().filter_map(|r| r.error_bound).fold(0.0, f64::max)
}

/// Family index renderers draw in black.
pub const BLACK: usize = 8;

const LR: Couplings = Couplings::PowerLaw { p: 1.0 };

fn fig2(s: &FigureSettings, progress: &dyn Progress) -> Result<FigureData> {
    let steps = (1.0 / s.alpha_step).round().max(1.0) as usize;
    let alphas: Vec<f64> = (0..=steps).map(|k| k as f64 / steps as f64).collect();
    let sweep = Sweep::new(Parameter::Alpha, alphas)?;
    let opts = ScanOptions { tol: s.tol, window: None, max_work: true };
    let mut panel = PanelData::new("maximal power, N = 4", "anisotropy alpha", "P_max / P_ind");
    let mut rows = Vec::new();
    let mut evidence = Vec::new();
    let mut holds = true;
    for (family, (name, couplings)) in [("LR (p = 1)", LR), ("NN", Couplings::NearestNeighbour)].into_iter().enumerate()
    {
        let base = chain(4, 1.0, 4.0, 0.0, couplings)?;
        let r = scan(&base, &sweep, &[ScanSolver::QUANTUM], &opts, progress)?;
        let p_ind = r.last().map_or(1.0, |r| r.max_power.power);
        let (x, y) = column(&r, "quantum", |row| row.max_power.power / p_ind);
        let decreasing = y.windows(2).all(|w| w[1] < w[0]);
        holds &= decreasing;
        evidence.push(format!(
            "{name}: P_max/P_ind = {:.4} at alpha = 0, {} as alpha goes 0 -> 1",
            y[0],
            if decreasing { "strictly decreasing" } else { "NOT monotonic" }
        ));
        panel.curve(name, CurveKind::Exact, family, x, y);
        rows.extend(r);
    }
    Ok(FigureData {
        id: FigureId::Fig2,
        title: "Fig. 2: maximal power vs anisotropy".into(),
        parameters: "N = 4, g = B, omega = 4B, open chain; LR p = 1 and NN; P_ind = P_max at alpha = 1 (4 independent spins)"
            .into(),
        method: format!("exact (dense), certified P_max, |error of W| <= {:.1e}", max_error(&rows)),
        panels: vec![panel],
        verdict: Verdict {
            claim: "The maximal power grows as the anisotropy grows (alpha decreasing from 1 to 0), for LR and NN couplings."
                .into(),
            holds,
            evidence: evidence.join("; "),
        },
        rows,
        run_time_s: 0.0,
    })
}

fn fig3(s: &FigureSettings) -> Result<FigureData> {
    let (b, g, omega) = (1.0, 20.0, 3.0);
    let c = chain(2, g, omega, 0.0, LR)?;
    let t_end = 1.1 * std::f64::consts::PI * g / (omega * omega);
    let times = crate::observe::uniform_times(t_end, s.points.max(2001));
    let mut prop = propagate::plan(&c, Solver::Dense, s.tol)?;
    let exact: Vec<f64> = prop.sample(&times)?.iter().map(|w| w.work).collect();
    let (fast, slow): (Vec<f64>, Vec<f64>) =
        times.iter().map(|&t| analytic::two_spin_strong_coupling(b, g, omega, t)).unzip();
    // Eq. 13 + Eq. 14 without counting the fast part's mean 2ω²/g twice
    let both: Vec<f64> = fast.iter().zip(&slow).map(|(f, s)| f + s - 2.0 * omega * omega / g).collect();
    // the exact curve averaged over one fast period π/g against the slow part, Eq. 14
    let dt = times[1] - times[0];
    let half = ((std::f64::consts::PI / g) / dt / 2.0).round() as usize;
    let mut dev = 0.0f64;
    for k in half..times.len().saturating_sub(half) {
        let mean = exact[k - half..=k + half].iter().sum::<f64>() / (2 * half + 1) as f64;
        dev = dev.max((mean - slow[k]).abs());
    }
    let slow_peak = exact.iter().copied().fold(0.0, f64::max);
    let mut panel = PanelData::new("two spins, strong coupling", "time t [1/B]", "work W [B]");
    panel.curve("exact", CurveKind::Exact, 0, times.clone(), exact);
    panel.curve("slow part, Eq. 14 (effective Hamiltonian, Eq. 15)", CurveKind::Effective, BLACK, times.clone(), slow);
    panel.curve("slow + fast, Eqs. 13 + 14", CurveKind::Approximation, 1, times, both);
    let scale = 4.0 * b;
    let ratio = omega / g;
    Ok(FigureData {
        id: FigureId::Fig3,
        title: "Fig. 3: work vs time, two spins at strong coupling".into(),
        parameters: "N = 2, omega = 3B, alpha = 0, g = 20B".into(),
        method: format!("exact (dense) at {} times; Eqs. 13-14 closed forms", s.points.max(2001)),
        panels: vec![panel],
        verdict: Verdict {
            claim: "The work is a fast oscillation (4 omega^2/g) sin^2(gt) on a slow one 2 omega^2/g + 4B sin^2(omega^2 t/g): \
                    the slow charging from all-down to all-up through the effective coupling omega^2/g (Eq. 15)."
                .into(),
            holds: dev < ratio * scale,
            evidence: format!(
                "the exact work averaged over a fast period pi/g follows Eq. 14 to {dev:.3} B ({:.1}% of the slow amplitude 4B; \
                 omega/g = {ratio:.2}) over 1.1 slow periods; the exact work peaks at {slow_peak:.3} B (Eqs. 13 + 14: {:.3} B)",
                100.0 * dev / scale,
                4.0 * b + 4.0 * omega * omega / g
            ),
        },
        rows: Vec::new(),
        run_time_s: 0.0,
    })
}

fn fig4(s: &FigureSettings, progress: &dyn Progress) -> Result<FigureData> {
    let (g, omega) = (100.0, 4.0);
    let ns: Vec<f64> = (2..=s.n_max_strong).map(|n| n as f64).collect();
    let sweep = Sweep::new(Parameter::N, ns.clone())?;
    // the fast peak sits at T ~ 1/g: a window of a few fast periods holds it
    let opts = ScanOptions { tol: s.tol, window: Some(1.0), max_work: true };
    let mut work = PanelData::new("(a) maximal work (first slow peak)", "N", "W_max [B]");
    let mut power = PanelData::new("(b) maximal power", "N", "P_max [B^2]");
    let mut power_at_work = PanelData::new("(c) power at maximal work", "N", "W_max / T_w [B^2]");
    power_at_work.log_y = true;
    let mut work_at_power = PanelData::new("(d) work at maximal power", "N", "W(T*) [B]");
    let mut rows = Vec::new();
    let mut evidence = Vec::new();
    let mut holds = true;
    let families = [("XXX", 1.0, LR), ("NN", 0.0, Couplings::NearestNeighbour), ("LR (p = 1)", 0.0, LR)];
    for (family, (name, alpha, couplings)) in families.into_iter().enumerate() {
        let base = chain(2, g, omega, alpha, couplings)?;
        let r = scan(&base, &sweep, &[ScanSolver::QUANTUM], &opts, progress)?;
        let (x, y) = column(&r, "quantum", |row| row.max_power.power);
        power.curve(name, CurveKind::Exact, family, x, y);
        let (x, y) = column(&r, "quantum", |row| row.max_power.work);
        work_at_power.curve(name, CurveKind::Exact, family, x, y);
        // maximal work: XXX spins are independent (2BN at pi/(2 omega)); Ising chains reach
        // it at the first peak of the slow oscillation (crate::effective)
        let (mut wx, mut wy, mut py, mut pert) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for &n in &ns {
            let c = base.to_builder().n_sites(n as usize).build()?;
            let (w, t) = if alpha == 1.0 {
                (2.0 * n, std::f64::consts::FRAC_PI_2 / omega)
            } else {
                let slow = crate::effective::slow_oscillation(&c)?;
                // the same peak with the leading-order coupling c_N omega^N / g^(N-1)
                let j0 = slow.coupling.c_n.abs() * omega.powi(n as i32) / g.powi(n as i32 - 1);
                pert.push(slow.work / (std::f64::consts::PI / (2.0 * j0)));
                (slow.work, slow.time)
            };
            wx.push(n);
            wy.push(w);
            py.push(w / t);
        }
        if alpha != 1.0 {
            let falls = py.windows(2).all(|p| p[1] < p[0]);
            holds &= falls;
            evidence.push(format!(
                "{name}: power at maximal work falls from {:.3e} (N = 2) to {:.3e} (N = {}), W_max/(2BN) {:.3}..{:.3}",
                py[0],
                py[py.len() - 1],
                s.n_max_strong,
                wy[0] / 4.0,
                wy[wy.len() - 1] / (2.0 * s.n_max_strong as f64)
            ));
            power_at_work.curve(
                format!("{name}, leading order c_N omega^N/g^(N-1)"),
                CurveKind::Approximation,
                family,
                wx.clone(),
                pert,
            );
        }
        work.curve(name, CurveKind::Exact, family, wx.clone(), wy);
        power_at_work.curve(name, CurveKind::Exact, family, wx, py);
        rows.extend(r);
    }
    Ok(FigureData {
        id: FigureId::Fig4,
        title: "Fig. 4: maximal work and power vs N at strong coupling".into(),
        parameters: "g = 100B, omega = 4B; XXX (alpha = 1), NN and LR (p = 1) Ising (alpha = 0)".into(),
        method: format!(
            "P_max: exact (dense / Chebyshev), certified, |error of W| <= {:.1e}. Maximal work: first peak of the slow \
             oscillation W_slow = C + A cos(Delta t), C and A from the two spin-flip parity sectors (dense), Delta = 2|J_eff| \
             from Lowdin partitioning with a recursive Green's function (no eigenvalue differences; checked against \
             direct evolution for N = 2..4 to 2.4e-5)",
            max_error(&rows)
        ),
        panels: vec![work, power, power_at_work, work_at_power],
        verdict: Verdict {
            claim: "The maximal power comes from the fast oscillation and deposits little work; the maximal work (first slow \
                    peak, about 2BN) is reached at times growing like g^(N-1)/omega^N, so its power falls like \
                    B omega (omega/g)^N."
                .into(),
            holds,
            evidence: evidence.join("; "),
        },
        rows,
        run_time_s: 0.0,
    })
}

fn fig5(s: &FigureSettings) -> Result<FigureData> {
    let c = chain(7, 1.0, 10.0, 0.0, LR)?;
    let t_end = 2.0 * std::f64::consts::PI / c.omega();
    let times = crate::observe::uniform_times(t_end, s.points);
    let mut exact = propagate::plan(&c, Solver::Auto, s.tol)?;
    let q = crate::observe::charge(exact.as_mut(), &c, &times, &crate::Silent)?;
    let mut weak = propagate::plan(&c, Solver::WeakCoupling, s.tol)?;
    let w = crate::observe::charge(weak.as_mut(), &c, &times, &crate::Silent)?;
    let t: Vec<f64> = q.series.iter().map(|p| p.t).collect();
    let mut work = PanelData::new("(a) work", "time t [1/B]", "W [B]");
    work.curve("exact", CurveKind::Exact, 0, t.clone(), q.series.iter().map(|p| p.work).collect());
    work.curve("Eq. 18", CurveKind::Approximation, 1, t.clone(), w.series.iter().map(|p| p.work).collect());
    let mut power = PanelData::new("(b) power", "time t [1/B]", "P = W/t [B^2]");
    power.curve("exact", CurveKind::Exact, 0, t.clone(), q.series.iter().map(|p| p.power).collect());
    power.curve("Eq. 18", CurveKind::Approximation, 1, t, w.series.iter().map(|p| p.power).collect());
    let rel_p = (w.max_power.power - q.max_power.power) / q.max_power.power;
    let rel_w = (w.max_work.work - q.max_work.work) / q.max_work.work;
    let g_total = c.total_coupling();
    Ok(FigureData {
        id: FigureId::Fig5,
        title: "Fig. 5: weak coupling, exact vs Eq. 18".into(),
        parameters: format!("N = 7, omega = 10B, g = B, alpha = 0, p = 1 (G = {g_total:.4} B)"),
        method: format!("exact ({}), |error of W| <= {:.1e}; Eq. 18 closed form", q.solver, q.error_bound.unwrap_or(f64::NAN)),
        panels: vec![work, power],
        verdict: Verdict {
            claim: "Eq. 18 is a good approximation at short times G t < 1, which is enough for the maximal power and work."
                .into(),
            holds: rel_p.abs() < 0.05 && rel_w.abs() < 0.05,
            evidence: format!(
                "P_max: exact {:.4}, Eq. 18 {:.4} ({:+.2}%) at T* = {:.4} (G T* = {:.2}); W_max: exact {:.4}, Eq. 18 {:.4} ({:+.2}%)",
                q.max_power.power,
                w.max_power.power,
                100.0 * rel_p,
                q.max_power.time,
                g_total * q.max_power.time,
                q.max_work.work,
                w.max_work.work,
                100.0 * rel_w
            ),
        },
        rows: Vec::new(),
        run_time_s: 0.0,
    })
}

fn fig6(s: &FigureSettings, progress: &dyn Progress) -> Result<FigureData> {
    let ns: Vec<f64> = (1..=s.n_max_exact.min(14)).map(|n| n as f64).collect();
    let sweep = Sweep::new(Parameter::N, ns)?;
    let opts = ScanOptions { tol: s.tol, window: None, max_work: true };
    let mut total = PanelData::new("(a) maximal power", "N", "P_max [B^2]");
    let mut gain = PanelData::new("(b) gain over independent spins (solid Q, dotted C)", "N", "P_max / (N P1)");
    let mut rows = Vec::new();
    let mut evidence = Vec::new();
    let mut holds = true;
    let families = [("XXX", 1.0, LR), ("LR Ising", 0.0, LR), ("NN Ising", 0.0, Couplings::NearestNeighbour)];
    for (family, (name, alpha, couplings)) in families.into_iter().enumerate() {
        let base = chain(1, 1.0, 4.0, alpha, couplings)?;
        let r = scan(&base, &sweep, &[ScanSolver::QUANTUM, ScanSolver::MEAN_FIELD], &opts, progress)?;
        for (solver, kind, tag) in [("quantum", CurveKind::Exact, "Q"), ("mean-field", CurveKind::MeanField, "C")] {
            let (x, y) = column(&r, solver, |row| row.max_power.power);
            total.curve(format!("{name} ({tag})"), kind, family, x, y);
            let (x, y) = column(&r, solver, |row| row.power_ratio);
            gain.curve(format!("{name} ({tag})"), kind, family, x, y);
        }
        let (_, q) = column(&r, "quantum", |row| row.max_power.power);
        let (_, c) = column(&r, "mean-field", |row| row.max_power.power);
        let worst = q.iter().zip(&c).map(|(q, c)| (c - q) / q).fold(f64::INFINITY, f64::min);
        let best = q.iter().zip(&c).map(|(q, c)| (c - q) / q).fold(f64::NEG_INFINITY, f64::max);
        // mean-field error estimate ~1e-10 relative: differences below 1e-8 are "equal"
        let ok = if alpha == 1.0 { best.abs().max(worst.abs()) < 1e-8 } else { worst > -1e-8 };
        holds &= ok;
        evidence.push(format!("{name}: (P_C - P_Q)/P_Q from {worst:+.2e} to {best:+.2e}"));
        rows.extend(r);
    }
    Ok(FigureData {
        id: FigureId::Fig6,
        title: "Fig. 6: quantum vs classical maximal power".into(),
        parameters: format!("g = B, omega = 4B, N = 1..{}; XXX (alpha = 1), LR (p = 1) and NN Ising (alpha = 0)", s.n_max_exact.min(14)),
        method: format!(
            "exact (dense / Chebyshev) and mean-field (DOP853), certified P_max, |error of W| <= {:.1e}",
            max_error(&rows)
        ),
        panels: vec![total, gain],
        verdict: Verdict {
            claim: "XXX chains charge identically in the quantum and classical models; for LR and NN Ising the classical chain \
                    charges at least as fast as the quantum one, so correlations are not what boosts the power."
                .into(),
            holds,
            evidence: evidence.join("; "),
        },
        rows,
        run_time_s: 0.0,
    })
}

/// The solver of the scaling study's matrix-product-state series.
const MPS_SCAN: ScanSolver = ScanSolver { label: "mps", solver: Solver::Mps };

/// Smallest `N` of the scaling study's matrix-product-state series: it overlaps the exact
/// runs from there, so the two can be compared on the figure.
const MPS_N_MIN: usize = 8;

fn scaling(s: &FigureSettings, progress: &dyn Progress) -> Result<FigureData> {
    let exact_ns: Vec<f64> = (2..=s.n_max_exact).map(|n| n as f64).collect();
    let powers_of_two = |from: usize, to: usize| -> Vec<f64> {
        std::iter::successors(Some(from), |n| n.checked_mul(2)).take_while(|&n| n <= to).map(|n| n as f64).collect()
    };
    let classical_ns = powers_of_two(2, s.n_max_classical);
    let mps_ns = powers_of_two(MPS_N_MIN, s.n_max_mps);
    let opts = ScanOptions { tol: s.tol, window: None, max_work: false };
    let mut panel = PanelData::new(
        if mps_ns.is_empty() {
            "(a) full dynamics: exact (solid), mean field (dotted), fits (dashed)"
        } else {
            "(a) full dynamics: exact (solid), MPS (markers), mean field (dotted), fits (dashed)"
        },
        "N",
        "P_max / N [B^2]",
    );
    panel.log_x = true;
    panel.log_y = true;
    let mut weak_panel = PanelData::new("(b) Eq. 18: interactions off while charging", "N", "P_max / N [B^2]");
    weak_panel.log_x = true;
    weak_panel.log_y = true;
    let mut ratio_panel = PanelData::new(
        "(c) quantum charging advantage P_max / (N P1): exact (solid), MPS (markers)",
        "N",
        "P_max / (N P1)",
    );
    // the ratio spans less than a decade (1 at N = 2 to about 4): a linear axis
    ratio_panel.log_x = true;
    let mut rows = Vec::new();
    let mut evidence = Vec::new();
    let (mut quantum_ok, mut classical_ok, mut weak_ok) = (true, true, true);
    // the paper's claims (Sec. III C); p = 0.5 (between p = 0 and p = 1, no claim) is
    // shown and fitted, not judged
    let families = [
        ("NN", Couplings::NearestNeighbour, Some(super::Law::Constant)),
        ("p = 2", Couplings::PowerLaw { p: 2.0 }, Some(super::Law::Constant)),
        ("p = 1", LR, Some(super::Law::Log)),
        ("p = 0", Couplings::PowerLaw { p: 0.0 }, Some(super::Law::Linear)),
        ("p = 0.5", Couplings::PowerLaw { p: 0.5 }, None),
    ];
    for (family, (name, couplings, expected)) in families.into_iter().enumerate() {
        let base = chain(2, 1.0, 4.0, 0.0, couplings.clone())?;
        // p = 0 is exact in the N + 1 Dicke states: as far as the classical model
        let dicke = matches!(couplings, Couplings::PowerLaw { p } if p == 0.0);
        let quantum_ns = if dicke {
            let mut v = exact_ns.clone();
            v.extend(classical_ns.iter().filter(|&&n| n > s.n_max_exact as f64));
            v
        } else {
            exact_ns.clone()
        };
        let q = scan(&base, &Sweep::new(Parameter::N, quantum_ns)?, &[ScanSolver::QUANTUM], &opts, progress)?;
        let far = Sweep::new(Parameter::N, classical_ns.clone())?;
        let c = scan(&base, &far, &[ScanSolver::MEAN_FIELD, ScanSolver::WEAK_COUPLING], &opts, progress)?;
        // matrix-product states past the exact sizes (p = 0 needs none: Dicke is exact)
        let m = if dicke || mps_ns.is_empty() {
            Vec::new()
        } else {
            scan(&base, &Sweep::new(Parameter::N, mps_ns.clone())?, &[MPS_SCAN], &opts, progress)?
        };
        let per_spin = |r: &ScanRow| r.max_power.power / r.n_sites as f64;
        let (xq, yq) = column(&q, "quantum", per_spin);
        let (xc, yc) = column(&c, "mean-field", per_spin);
        let (xw, yw) = column(&c, "weak-coupling", per_spin);
        let (xm, ym) = column(&m, MPS_SCAN.label, per_spin);
        let mut verdicts = Vec::new();
        for (label, x, y) in [("quantum", &xq, &yq), ("MPS", &xm, &ym), ("classical", &xc, &yc), ("Eq. 18", &xw, &yw)] {
            // fit the upper half in N, away from small-N transients
            let from = x.len() / 2;
            if let Some(fit) = super::fit_scaling(&x[from..], &y[from..]) {
                if label != "quantum" {
                    if let Some(best) = fit.fits.iter().find(|f| f.law == fit.best) {
                        let target = if label == "Eq. 18" { &mut weak_panel } else { &mut panel };
                        target.curve(
                            format!("{name} {label} fit: {}", best.law.formula()),
                            CurveKind::Fit,
                            family,
                            x[from..].to_vec(),
                            x[from..].iter().map(|&n| best.eval(n)).collect(),
                        );
                    }
                }
                if let Some(expected) = expected {
                    let flag = match label {
                        "quantum" | "MPS" => &mut quantum_ok,
                        "classical" => &mut classical_ok,
                        _ => &mut weak_ok,
                    };
                    *flag &= fit.best == expected;
                }
                verdicts.push(format!("{label} N = {}..{}: {}", x[from], x[x.len() - 1], fit.best.formula()));
            }
        }
        // do correlations matter at large N: the quantum P_max against the mean field's at
        // the largest N both reach
        if let Some((n, ratio)) =
            xm.iter().zip(&ym).rev().find_map(|(&n, &y)| xc.iter().position(|&x| x == n).map(|i| (n, y / yc[i])))
        {
            verdicts.push(format!("MPS / mean field at N = {n}: {ratio:.4}"));
        }
        let claimed = expected.map_or_else(|| "no claim".to_string(), |law| format!("claimed {}", law.formula()));
        evidence.push(format!("{name} ({claimed}): {}", verdicts.join(", ")));
        let (xr, yr) = column(&q, "quantum", |r| r.power_ratio);
        ratio_panel.curve(format!("{name} quantum"), CurveKind::Exact, family, xr, yr);
        if !m.is_empty() {
            let (xr, yr) = column(&m, MPS_SCAN.label, |r| r.power_ratio);
            ratio_panel.curve(format!("{name} MPS"), CurveKind::MatrixProduct, family, xr, yr);
        }
        panel.curve(format!("{name} quantum"), CurveKind::Exact, family, xq, yq);
        if !xm.is_empty() {
            panel.curve(format!("{name} MPS"), CurveKind::MatrixProduct, family, xm, ym);
        }
        panel.curve("", CurveKind::MeanField, family, xc, yc);
        weak_panel.curve(format!("{name} Eq. 18"), CurveKind::Exact, family, xw, yw);
        rows.extend(q);
        rows.extend(m);
        rows.extend(c);
    }
    let mps_text = if mps_ns.is_empty() {
        "; no matrix-product-state runs (spinbat figure scaling --n-max-mps 256 adds them)".to_string()
    } else {
        format!(
            "; matrix-product states (two-site TDVP, default settings: chi <= 64, truncation 1e-10) N = {}..{} (powers of \
             2; largest estimate of |error of W| {:.1e}, an estimate, not a bound)",
            mps_ns[0],
            mps_ns[mps_ns.len() - 1],
            max_error(rows.iter().filter(|r| r.solver == MPS_SCAN.label))
        )
    };
    let exact_error = max_error(rows.iter().filter(|r| r.solver != MPS_SCAN.label));
    Ok(FigureData {
        id: FigureId::Scaling,
        title: "Scaling of P_max/N with N (paper Sec. III C)".into(),
        parameters: format!(
            "g = B, omega = 4B, alpha = 0; exact N = 2..{} (p = 0: Dicke to {}), mean field N = 2..{} (powers of 2){}",
            s.n_max_exact,
            s.n_max_classical,
            s.n_max_classical,
            if mps_ns.is_empty() {
                String::new()
            } else {
                format!(", MPS N = {}..{} (powers of 2)", mps_ns[0], mps_ns[mps_ns.len() - 1])
            }
        ),
        method: format!(
            "exact (dense / Chebyshev / Dicke) and mean field{mps_text}; least-squares fits of a, a + b ln N, a + b N to \
             the upper half of each range (the windows are named in the verdict); the law is chosen from how the slope \
             dy/d ln N grows (exponent k of |dy/d ln N| ~ N^k nearest to -1: constant, 0: ln N, 1: N; slopes changing \
             sign: constant), not from residuals; |error of W| <= {exact_error:.1e} (exact and mean field)"
        ),
        panels: vec![panel, weak_panel, ratio_panel],
        verdict: Verdict {
            claim: "P_max/N tends to a constant for NN and p > 1, grows like ln N for p = 1 and like N for p = 0 \
                    (derived from Eq. 18, i.e. with the interactions off during charging)."
                .into(),
            holds: weak_ok && quantum_ok && classical_ok,
            evidence: format!(
                "{}. Eq. 18 follows the claimed laws: {}; the full dynamics ({}) {}.",
                evidence.join("; "),
                if weak_ok { "yes" } else { "no" },
                if mps_ns.is_empty() { "exact and mean field" } else { "exact, MPS and mean field" },
                if quantum_ok && classical_ok {
                    "follows them too"
                } else {
                    "does not everywhere: once the interaction energy per spin G/N exceeds omega the chain is in the \
                     strong-coupling regime, where P_max/N saturates at order omega^2 instead of growing"
                }
            ),
        },
        rows,
        run_time_s: 0.0,
    })
}

fn correlations(s: &FigureSettings, progress: &dyn Progress) -> Result<FigureData> {
    use crate::observe::trajectory::{trajectory, ObservableSet};
    let n_max = s.n_max_exact.min(12);
    let ns: Vec<f64> = (2..=n_max).map(|n| n as f64).collect();
    let sweep = Sweep::new(Parameter::N, ns)?;
    let opts = ScanOptions { tol: s.tol, window: None, max_work: false };
    let set = ObservableSet { entanglement: true, ..Default::default() };
    let mut scatter = PanelData::new(
        "(a) classical advantage vs entanglement",
        "peak half-chain entropy S [nats] before T*",
        "(P_C - P_Q) / P_Q",
    );
    let mut growth = PanelData::new("(b) peak entanglement before T*", "N", "S_max [nats]");
    let mut rows = Vec::new();
    let (mut points, mut slower) = (Vec::new(), 0usize);
    let families: [(&str, f64, Couplings); 5] = [
        ("LR, alpha = 0", 0.0, LR),
        ("LR, alpha = 0.25", 0.25, LR),
        ("LR, alpha = 0.5", 0.5, LR),
        ("LR, alpha = 0.75", 0.75, LR),
        ("NN, alpha = 0", 0.0, Couplings::NearestNeighbour),
    ];
    for (family, (name, alpha, couplings)) in families.into_iter().enumerate() {
        let base = chain(2, 1.0, 4.0, alpha, couplings)?;
        let r = scan(&base, &sweep, &[ScanSolver::QUANTUM, ScanSolver::MEAN_FIELD], &opts, progress)?;
        let (mut xs, mut ys, mut ns) = (Vec::new(), Vec::new(), Vec::new());
        for pair in r.chunks(2) {
            let (q, c) = (&pair[0], &pair[1]);
            let n = q.n_sites;
            let chain_n = base.to_builder().n_sites(n).build()?;
            let times = crate::observe::uniform_times(q.max_power.time, 41);
            let tr = trajectory(&chain_n, Solver::Auto, &times, &set, s.tol, &crate::Silent)?;
            let peak = tr.peak_entropy().map_or(0.0, |p| p.value);
            let gain = (c.max_power.power - q.max_power.power) / q.max_power.power;
            if gain < -1e-8 {
                slower += 1;
            }
            points.push((peak, gain));
            xs.push(peak);
            ys.push(gain);
            ns.push(n as f64);
        }
        scatter.curve(name, CurveKind::Exact, family, xs.clone(), ys);
        growth.curve(name, CurveKind::Exact, family, ns, xs);
        rows.extend(r);
    }
    let rho = spearman(&points);
    let largest = points.iter().copied().fold((0.0, 0.0), |a, p| if p.1 > a.1 { p } else { a });
    Ok(FigureData {
        id: FigureId::Correlations,
        title: "Do correlations matter? Classical vs quantum power against entanglement".into(),
        parameters: format!("g = B, omega = 4B, N = 2..{n_max}; LR (p = 1) with alpha = 0, 0.25, 0.5, 0.75 and NN with alpha = 0"),
        method: format!(
            "exact (dense / Chebyshev) and mean-field certified P_max; half-chain von Neumann entropy of the exact state at 41 \
             times in [0, T*_Q] (SVD of the Schmidt matrix); |error of W| <= {:.1e}",
            max_error(&rows)
        ),
        panels: vec![scatter, growth],
        verdict: Verdict {
            claim: "Correlations are not what boosts the power: the classical (correlation-free) chain charges at least as fast \
                    as the quantum one (paper Sec. IV)."
                .into(),
            holds: slower == 0,
            evidence: format!(
                "classical slower than quantum at {slower} of {} points; the classical advantage rises with the entanglement \
                 built up before T* (Spearman rank correlation {rho:.2}), up to {:+.2}% at S = {:.3} nats",
                points.len(),
                100.0 * largest.1,
                largest.0
            ),
        },
        rows,
        run_time_s: 0.0,
    })
}

/// Share of the field ergotropy `ℰ(ρ, H_B)` that correlations lock away from local
/// operations, above which the figure `locked` says they matter.
pub const LOCKED_SHARE_LIMIT: f64 = 0.1;

/// The ergotropy locked in correlations at the optimal charging time `T*`:
/// `ℰ_lock = ℰ(ρ, H_B) − Σ_i ℰ(ρ_i, BZ_i)` (pure states: `B Σ_i (1 − |r_i|)`), as a share
/// of `ℰ(ρ, H_B)`, for the exact state at the quantum `T*` and the mean-field product
/// state at the classical `T*` (zero by construction: it has no correlations).
fn locked(s: &FigureSettings, progress: &dyn Progress) -> Result<FigureData> {
    use crate::observe::trajectory::{trajectory, ObservableSet};
    let n_max = s.n_max_exact;
    let ns: Vec<f64> = (2..=n_max).map(|n| n as f64).collect();
    let sweep = Sweep::new(Parameter::N, ns)?;
    let opts = ScanOptions { tol: s.tol, window: None, max_work: false };
    let set = ObservableSet { ergotropy: true, ..Default::default() };
    let mut share = PanelData::new("(a) locked share of the field ergotropy at T*", "N", "E_lock / E(H_B)");
    let mut absolute = PanelData::new("(b) locked ergotropy at T*", "N", "E_lock [B]");
    let mut rows = Vec::new();
    let (mut worst, mut mf_max) = ((0.0f64, String::new(), 0usize), 0.0f64);
    let families: [(&str, f64, Couplings); 4] = [
        ("LR, alpha = 0", 0.0, LR),
        ("LR, alpha = 0.5", 0.5, LR),
        ("NN, alpha = 0", 0.0, Couplings::NearestNeighbour),
        ("NN, alpha = 0.5", 0.5, Couplings::NearestNeighbour),
    ];
    for (family, (name, alpha, couplings)) in families.into_iter().enumerate() {
        let base = chain(2, 1.0, 4.0, alpha, couplings)?;
        let r = scan(&base, &sweep, &[ScanSolver::QUANTUM, ScanSolver::MEAN_FIELD], &opts, progress)?;
        let (mut xs, mut q_share, mut q_abs, mut c_share, mut c_abs) = (vec![], vec![], vec![], vec![], vec![]);
        for pair in r.chunks(2) {
            let (q, c) = (&pair[0], &pair[1]);
            let chain_n = base.to_builder().n_sites(q.n_sites).build()?;
            let at = |solver: Solver, t: f64| -> Result<(f64, f64)> {
                let tr = trajectory(&chain_n, solver, &[t], &set, s.tol, &crate::Silent)?;
                let e = tr.points.first().and_then(|p| p.ergotropy.as_ref()).ok_or_else(|| {
                    crate::SpinbatError::NotConverged {
                        what: "locked ergotropy",
                        reason: "no ergotropy measured".into(),
                    }
                })?;
                let frac = if e.ergotropy_hb > 0.0 { e.locked_ergotropy / e.ergotropy_hb } else { 0.0 };
                Ok((e.locked_ergotropy, frac))
            };
            let (lq, fq) = at(Solver::Auto, q.max_power.time)?;
            let (lc, fc) = at(Solver::MeanField, c.max_power.time)?;
            if fq > worst.0 {
                worst = (fq, name.to_string(), q.n_sites);
            }
            mf_max = mf_max.max(lc.abs());
            xs.push(q.n_sites as f64);
            q_share.push(fq);
            q_abs.push(lq);
            c_share.push(fc);
            c_abs.push(lc);
        }
        share.curve(format!("{name} quantum"), CurveKind::Exact, family, xs.clone(), q_share);
        share.curve(format!("{name} mean field"), CurveKind::MeanField, family, xs.clone(), c_share);
        absolute.curve(format!("{name} quantum"), CurveKind::Exact, family, xs.clone(), q_abs);
        absolute.curve(format!("{name} mean field"), CurveKind::MeanField, family, xs, c_abs);
        rows.extend(r);
    }
    Ok(FigureData {
        id: FigureId::Locked,
        title: "Do correlations matter? Ergotropy locked in correlations at the optimal time".into(),
        parameters: format!("g = B, omega = 4B, N = 2..{n_max}; LR (p = 1) and NN, alpha = 0 and 0.5"),
        method: format!(
            "exact (dense / Chebyshev) and mean-field certified T*; at T* the global ergotropy for H_B = B sum Z_i \
             (<H_B> + NB for a pure state) and the local one from the Bloch vectors, E_lock = E(H_B) - sum_i E(rho_i, B Z_i) \
             (Allahverdyan et al. 2004; pure states: B sum_i (1 - |r_i|)); |error of W| <= {:.1e}",
            max_error(&rows)
        ),
        panels: vec![share, absolute],
        verdict: Verdict {
            claim: format!(
                "The power is a mean-field effect, not one of correlations (paper Sec. IV): at T* correlations lock less \
                 than {:.0}% of the field ergotropy, and none in the mean-field state.",
                100.0 * LOCKED_SHARE_LIMIT
            ),
            holds: worst.0 < LOCKED_SHARE_LIMIT && mf_max <= 1e-9,
            evidence: format!(
                "largest locked share {:.2}% ({}, N = {}); mean-field locked ergotropy at most {:.1e} B",
                100.0 * worst.0,
                worst.1,
                worst.2,
                mf_max
            ),
        },
        rows,
        run_time_s: 0.0,
    })
}

/// The figure `floquet`: for NN and `p = 1` (`g = B`, `ω = 4B`, `α = 0`) and `N` from 8
/// in steps of 2 to `n_max_floquet` (from 4 where that is below 8, with three frequencies
/// only), the certified `P_max`
/// of the drive `A = ω/2` against `ν` ([`super::figure_frequencies`]), beside two static charges
/// drawn flat: at the mean field `ω` (what a fast drive averages to) and at the drive's
/// peak `ω + A` (what a slow drive holds near `t = 0`). The verdict asks Puri et al.'s
/// question (arXiv:2412.00921: Floquet driving makes long-range chains super-extensive):
/// does the drive beat the static charge, where, by how much, and does its best gain grow
/// with `N`? Rows: `solver` = `"{nn|p=1} drive"` (value `ν`), `"{..} static"` and
/// `"{..} static peak"` (value 0).
///
/// # Errors
/// As [`super::scan_drive`].
fn floquet(s: &FigureSettings, progress: &dyn Progress) -> Result<FigureData> {
    let n_max = s.n_max_floquet;
    let first = if n_max >= 8 { 8 } else { 4 };
    let ns: Vec<usize> = (first..=n_max).step_by(2).collect();
    if ns.is_empty() {
        return Err(invalid("n_max_floquet", n_max, "the Floquet figure needs N up to at least 4"));
    }
    let omega = 4.0;
    let amplitude = FIGURE_AMPLITUDE_SHARE * omega;
    // below N = 8 (the quick settings) three frequencies
    let nus = figure_frequencies(n_max < 8);
    let opts = ScanOptions { tol: s.tol, window: None, max_work: false };
    let families = [("nn", "NN", Couplings::NearestNeighbour), ("p=1", "LR p = 1", Couplings::PowerLaw { p: 1.0 })];
    let mut panels = Vec::new();
    let mut rows = Vec::new();
    let mut evidence = Vec::new();
    let mut beats_peak_somewhere = false;
    let mut lr_gain_grows = true;
    for (tag, name, couplings) in families {
        let mut panel = PanelData::new(
            &format!(
                "{name}: P_max vs drive frequency (A = omega/2); flat: static at omega (dashed), at omega + A (dotted)"
            ),
            "nu [B]",
            "P_max [B^2]",
        );
        panel.log_x = true;
        let mut gains = Vec::new();
        for (family, &n) in ns.iter().enumerate() {
            let chain = Chain::builder(n).b(1.0).g(1.0).omega(omega).alpha(0.0).couplings(couplings.clone()).build()?;
            let drive = Drive::new(omega, amplitude, nus[0])?;
            let driven = scan_drive(
                &chain,
                drive,
                DriveParameter::DriveFrequency,
                &nus,
                &[ScanSolver::QUANTUM],
                &opts,
                progress,
            )?;
            let mut stat = point(0.0, &chain, ScanSolver::QUANTUM, &opts)?;
            let peak_chain = chain.to_builder().omega(omega + amplitude).build()?;
            let mut peak = point(0.0, &peak_chain, ScanSolver::QUANTUM, &opts)?;
            let (x, y): (Vec<f64>, Vec<f64>) = driven.iter().map(|r| (r.value, r.max_power.power)).unzip();
            panel.curve(format!("N = {n} drive"), CurveKind::Exact, family, x, y);
            let ends = vec![nus[0], nus[nus.len() - 1]];
            panel.curve(
                format!("N = {n} static omega"),
                CurveKind::Approximation,
                family,
                ends.clone(),
                vec![stat.max_power.power; 2],
            );
            panel.curve(
                format!("N = {n} static omega + A"),
                CurveKind::MeanField,
                family,
                ends,
                vec![peak.max_power.power; 2],
            );
            let best = driven.iter().fold(None::<&ScanRow>, |b, r| match b {
                Some(b) if b.max_power.power >= r.max_power.power => Some(b),
                _ => Some(r),
            });
            let best = best.expect("at least one frequency");
            let gain = best.max_power.power / stat.max_power.power;
            // the fair comparison under bounded control: the same largest field omega + A
            let over_peak = best.max_power.power / peak.max_power.power;
            beats_peak_somewhere |= over_peak > 1.0 + err_rel(best, &peak);
            gains.push(over_peak);
            // the fastest drive: what is left of it once it averages out
            let fast = driven.last().expect("at least one frequency");
            evidence.push(format!(
                "{name} N = {n}: best nu = {} gives P_max = {:.4} = {:.3} x static at omega ({:.4}) but {:.6} x static at \
                 omega + A ({:.4}); at nu = {} {:.4} x static at omega",
                best.value,
                best.max_power.power,
                gain,
                stat.max_power.power,
                over_peak,
                peak.max_power.power,
                fast.value,
                fast.max_power.power / stat.max_power.power,
            ));
            stat.solver = format!("{tag} static");
            peak.solver = format!("{tag} static peak");
            rows.extend(driven.into_iter().map(|mut r| {
                r.solver = format!("{tag} drive");
                r
            }));
            rows.push(stat);
            rows.push(peak);
        }
        if tag == "p=1" {
            // growing: at every step, and by more than 10⁻³ over the range (else flat)
            lr_gain_grows = gains.len() > 1
                && gains.windows(2).all(|w| w[1] > w[0])
                && gains[gains.len() - 1] > gains[0] * (1.0 + FLOQUET_GROWTH);
        }
        panels.push(panel);
    }
    let err = max_error(&rows);
    Ok(FigureData {
        id: FigureId::Floquet,
        title: "Floquet charging: P_max under omega + A cos(nu t) against the static field".into(),
        parameters: format!(
            "g = B, omega = 4B, alpha = 0, A = {amplitude}B, nu = {:?} B, N = {:?}; NN and LR (p = 1), open chains",
            nus, ns
        ),
        method: format!(
            "exact: CFET4:2 (commutator-free Magnus, step doubling) over Chebyshev; certified P_max with \
             W(t)/t <= c/t + d; |error of W| <= {err:.1e} (bounds plus the drive's step-error estimate)"
        ),
        panels,
        verdict: Verdict {
            claim: "A Floquet drive charges faster than a static field of the same strength (its peak omega + A), and \
                    for long-range (p = 1) chains that gain grows with N (super-extensive power, Puri et al., \
                    arXiv:2412.00921)."
                .into(),
            holds: beats_peak_somewhere && lr_gain_grows,
            evidence: format!(
                "{}; {}; {}",
                evidence.join("; "),
                if beats_peak_somewhere {
                    "the drive beats the static charge at its peak field somewhere"
                } else {
                    "the drive beats the static charge at the mean field omega only as a stronger field does: nowhere \
                     does it beat the static charge at its peak field omega + A"
                },
                if lr_gain_grows {
                    "the p = 1 ratio to the peak-field static charge grows with N at these N (by more than 0.1%)"
                } else {
                    "the p = 1 ratio to the peak-field static charge does not grow with N at these N (flat within 0.1% or falling)"
                }
            ),
        },
        rows,
        run_time_s: 0.0,
    })
}

/// The least relative growth of the drive's gain over the Floquet figure's `N` range that
/// counts as growing (below it the gain is flat to the figure's resolution).
pub const FLOQUET_GROWTH: f64 = 1e-3;

/// The relative size of the two rows' error bounds on `P_max` (`error/T*` each), at
/// least `10⁻⁹`: a ratio of powers within it is "equal".
fn err_rel(a: &ScanRow, b: &ScanRow) -> f64 {
    let e = |r: &ScanRow| r.error_bound.unwrap_or(0.0) / r.max_power.time / r.max_power.power;
    (e(a) + e(b)).max(1e-9)
}

/// Spearman rank correlation of `(x, y)` pairs (ties broken by order; 0 for < 2 points).
fn spearman(points: &[(f64, f64)]) -> f64 {
    let n = points.len();
    if n < 2 {
        return 0.0;
    }
    let rank = |key: &dyn Fn(&(f64, f64)) -> f64| {
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| key(&points[a]).total_cmp(&key(&points[b])));
        let mut r = vec![0.0; n];
        for (k, &i) in idx.iter().enumerate() {
            r[i] = k as f64;
        }
        r
    };
    let (rx, ry) = (rank(&|p| p.0), rank(&|p| p.1));
    let d2: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - b).powi(2)).sum();
    let nf = n as f64;
    1.0 - 6.0 * d2 / (nf * (nf * nf - 1.0))
}
