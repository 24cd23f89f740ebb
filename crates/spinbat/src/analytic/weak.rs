//! The paper's weak-coupling (first order in `g`) results, Eqs. 18–19.

use crate::error::Result;
use crate::model::Chain;
use crate::propagate::{check_times, Propagator, WorkSample};

/// Eq. 18 as a solver: `W(t) = 2BN sin²(ωt) + (1 − α) G sin²(2ωt)`, `G = Σ_{i<j} g_ij`,
/// and its derivative `W' = 2BNω sin 2ωt + 2(1 − α)Gω sin 4ωt`. Exact when the
/// interactions are switched off during charging; for the real dynamics the error is
/// `O(g²)` at fixed `t` (tested).
#[derive(Debug, Clone)]
pub struct WeakCoupling {
    bn: f64,
    omega: f64,
    a: f64,
}

impl WeakCoupling {
    /// Reads `B`, `N`, `ω`, `α` and `G` off the chain. With per-site fields `BN` is
    /// `Σ_i B_i`: the field is off while charging, so each site's share of the zeroth order
    /// is `2B_i sin²(ωt)`, and the first order in `g` moves no `⟨Z_i⟩` (a pair's correction is
    /// the same on both its sites and their sum vanishes, Eq. 18), so the `G` term stays.
    pub fn new(chain: &Chain) -> Self {
        WeakCoupling { bn: chain.field_sum(), omega: chain.omega(), a: (1.0 - chain.alpha()) * chain.total_coupling() }
    }

    /// `W(t)` of Eq. 18.
    pub fn work(&self, t: f64) -> f64 {
        let w = self.omega * t;
        2.0 * self.bn * w.sin().powi(2) + self.a * (2.0 * w).sin().powi(2)
    }

    /// `dW/dt` of Eq. 18.
    pub fn rate(&self, t: f64) -> f64 {
        let w = self.omega * t;
        2.0 * self.bn * self.omega * (2.0 * w).sin() + 2.0 * self.a * self.omega * (4.0 * w).sin()
    }

    /// Maximal work of Eq. 18 and its first time (paper, text around Eq. 19): if
    /// `2(1 − α)G/BN ≤ 1`, `W = 2BN` at `T = π/2ω`; otherwise
    /// `W = (BN)² (1 + 2(1 − α)G/BN)² / (4(1 − α)G)` at `T = arccos(−BN/(2(1 − α)G))/(2ω)`.
    pub fn max_work(&self) -> (f64, f64) {
        if 2.0 * self.a <= self.bn {
            (2.0 * self.bn, std::f64::consts::FRAC_PI_2 / self.omega)
        } else {
            let ratio = 2.0 * self.a / self.bn;
            let w = self.bn * self.bn * (1.0 + ratio).powi(2) / (4.0 * self.a);
            let t = (-self.bn / (2.0 * self.a)).acos() / (2.0 * self.omega);
            (w, t)
        }
    }
}

impl Propagator for WeakCoupling {
    fn name(&self) -> &'static str {
        "weak-coupling"
    }

    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        Ok(times.iter().map(|&t| WorkSample { t, work: self.work(t), rate: self.rate(t) }).collect())
    }

    /// Eq. 18 does not conserve energy (for `(1 − α)G ≫ BN` it exceeds `N(2B + ω)`), but
    /// `W ≤ 2BN + |(1 − α)G|` term by term.
    fn work_bound(&self, _chain: &Chain) -> f64 {
        2.0 * self.bn.abs() + self.a.abs()
    }

    /// Not bounded: Eq. 18 is first order in `g`, and its model error (second order in
    /// `g`, `O(g² t²)`) has no rigorous bound; `∞` marks that ([`Propagator::error_bound`]).
    fn error_bound(&self) -> f64 {
        f64::INFINITY
    }

    fn accuracy_note(&self) -> String {
        "first-order perturbation theory in g (paper Eq. 18); evaluation exact to rounding, model error O(g^2 t^2)"
            .into()
    }
}
