//! The numerical settings of the MPS solver and what it reports about its accuracy.

use crate::error::{invalid, Result};
use serde::Serialize;

/// Default maximal bond dimension `χ`.
pub const DEFAULT_BOND_DIM: usize = 64;

/// Default largest discarded weight `ε` per SVD.
pub const DEFAULT_TRUNCATION: f64 = 1e-10;

/// Default time step as a fraction of the maximum search's grid step `π/(16Λ)`
/// ([`crate::propagate::scan_step`]): `δ = h/4`.
pub const DEFAULT_STEPS_PER_GRID_STEP: f64 = 4.0;

/// The settings of the MPS solver (`--bond-dim`, `--truncation`, `--time-step`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MpsSettings {
    /// Maximal bond dimension `χ ≥ 1`.
    pub bond_dim: usize,
    /// Largest discarded weight `ε ∈ [0, 1)` per SVD (relative to the squared norm).
    pub truncation: f64,
    /// TDVP time step `δ > 0` (units `1/B`); `None`: `h/4` with `h = π/(16Λ)` the grid
    /// step of the maximum search.
    pub time_step: Option<f64>,
}

impl Default for MpsSettings {
    fn default() -> Self {
        MpsSettings { bond_dim: DEFAULT_BOND_DIM, truncation: DEFAULT_TRUNCATION, time_step: None }
    }
}

impl MpsSettings {
    /// Checks every field.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] (`bond-dim`, `truncation`, `time-step`).
    pub fn check(&self) -> Result<()> {
        if self.bond_dim == 0 {
            return Err(invalid("bond-dim", self.bond_dim, "must be at least 1"));
        }
        if !(self.truncation.is_finite() && (0.0..1.0).contains(&self.truncation)) {
            return Err(invalid("truncation", self.truncation, "must be a number in [0, 1)"));
        }
        if let Some(dt) = self.time_step {
            if !(dt.is_finite() && dt > 0.0) {
                return Err(invalid("time-step", dt, "must be a number > 0"));
            }
        }
        Ok(())
    }
}

/// What an MPS run reports beside `W` (the JSON keys of `charge --solver mps`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MpsReport {
    /// The maximal bond dimension `χ` asked for.
    pub bond_dim: usize,
    /// The largest bond dimension the state reached.
    pub bond_dim_reached: usize,
    /// The discarded weight `ε` allowed per SVD.
    pub truncation: f64,
    /// The TDVP time step `δ`.
    pub time_step: f64,
    /// `Σ` of the discarded weights of every SVD of the reported run (step `δ`).
    pub discarded_weight: f64,
    /// Estimate of the truncations' share of the error of `W`: `2 ΔH0 √(Σ_k ε_k)`, the
    /// largest over the times served (the first-order energy shifts of the truncations
    /// summed as independent; capped by the bound).
    pub truncation_estimate: f64,
    /// Bound on the truncations' share of the error of `W` (against TDVP without
    /// truncation): `2‖H0 − E_0‖ Σ_k √ε_k` at the latest time reached.
    pub truncation_bound: f64,
    /// Richardson estimate of the time-step error of `W`: `max |W_δ − W_{2δ}|/3` over the
    /// times served (second order: the error at `2δ` is four times that at `δ`); the `W`
    /// reported is the extrapolation `(4W_δ − W_{2δ})/3`, whose leading error cancels.
    pub step_error_estimate: f64,
    /// `max_{i<j} |g̃_ij − g_ij|` of the MPO's couplings.
    pub mpo_fit_error: f64,
    /// Largest bond dimension of the MPO of `H`.
    pub mpo_bond_dim: usize,
    /// Where the maximum search's samples began to serve only its certification (the
    /// power at least 5 % below its best): from there on both runs discard up to
    /// `certify_truncation` per SVD; `None` when they never did.
    pub certify_from: Option<f64>,
    /// The discarded weight per SVD allowed past `certify_from`.
    pub certify_truncation: f64,
    /// Largest estimate of `|ΔW|` (step + truncation) of a sample past `certify_from`;
    /// each stayed below half its margin `P_max·t − W(t)` (a sample that did not sent the
    /// runs back to full accuracy).
    pub certify_error_estimate: f64,
}
