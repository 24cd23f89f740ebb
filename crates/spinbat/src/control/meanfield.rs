//! Optimal control of the mean-field battery ([`crate::meanfield`]): `W_C(T)` of the
//! piecewise-constant field `ω_k` on `K` equal segments and its exact gradient by the
//! adjoint of the Bloch equations (physics.md, "Optimal charging").
//!
//! **The model.** `dS_m/dt = f_m = 2 h_m × S_m`, `h_m = ∂H_C/∂S_m = (ω − αM^x_m, −αM^y_m,
//! −M^z_m)`, `M_m = Σ_j g_mj S_j`; `W_C(T) = E0(S(T)) − E0(S(0))`.
//!
//! **The adjoint.** With `p(t) = ∂W_C(T)/∂S(t)`: `p(T) = ∇E0(S(T)) = (−αM^x_m, −αM^y_m,
//! B_m − M^z_m)`, `dp/dt = −Jᵀp` with
//! `(Jᵀp)_j = 2 p_j × h_j − 2 D Σ_m g_jm (S_m × p_m)`, `D = diag(α, α, 1)` (from
//! `p·δf = Σ_m 2 δh_m·(S_m × p_m) + 2 δS_m·(p_m × h_m)` and `δh_m = −D Σ_j g_mj δS_j`), and
//! `∂W_C/∂ω_k = ∫_{segment k} Σ_m p_m · (2 e_x × S_m) dt = ∫ Σ_m 2(p^z_m y_m − p^y_m z_m) dt`.
//! Backwards, segment by segment from `T`, the system `(S, p, ∫)` is integrated in the
//! reversed time by the same DOP853 (each segment starts from the forward pass's `S` at its
//! end, so the backward `S` drifts by one segment's integration error at most). The
//! gradient is that of the exact flow to the integrator's tolerance (an estimate, like the
//! mean field's `W`); checked against central differences (`gradient_check`, and the
//! contract tests).
//!
//! **Cost.** A gradient: one forward pass (`3N` unknowns) and one backward pass (`6N + 1`
//! unknowns, two mean-field products per evaluation): about three forward passes, each
//! `O(N log N)` per right-hand side on the FFT path.

use super::ControlModel;
use crate::error::{Result, SpinbatError};
use crate::meanfield::{BlochModel, MeanField};
use crate::model::Chain;
use crate::numeric::dop853::Dop853;

/// The mean-field control problem (module docs).
pub struct MeanFieldControl {
    model: BlochModel,
    alpha: f64,
    /// `B_m` of every site
    fields: Vec<f64>,
    tau: f64,
    charge_time: f64,
    state_tol: f64,
    e_init: f64,
    evaluations: usize,
}

/// `a × b`.
fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

impl MeanFieldControl {
    /// The problem for `chain` with `K` segments of `τ = T/K`, the integrator's tolerance
    /// set from `tol` as [`MeanField::new`] sets it.
    ///
    /// # Errors
    /// [`SpinbatError::Unsupported`] for the generalised charging (`--gamma`,
    /// `--keep-field`, `--omega-sites`: the adjoint is written for `V = ω Σ_i X_i`);
    /// [`SpinbatError::InvalidParameter`] for a bad `tol`.
    pub fn new(chain: &Chain, charge_time: f64, segments: usize, tol: f64) -> Result<Self> {
        if !chain.has_paper_charging() {
            return Err(SpinbatError::Unsupported {
                solver: "mean-field",
                reason: format!(
                    "optimize with the mean field takes V = omega(t) sum_i X_i with the field off, not {}",
                    chain.charging_extensions()
                ),
            });
        }
        let state_tol = MeanField::new(chain, tol)?.state_tolerance();
        let model = BlochModel::new(chain);
        let e_init = model.storage_energy(model.initial_state().as_flattened());
        Ok(MeanFieldControl {
            alpha: chain.alpha(),
            fields: (0..chain.n_sites()).map(|m| chain.field(m)).collect(),
            model,
            tau: charge_time / segments as f64,
            charge_time,
            state_tol,
            e_init,
            evaluations: 0,
        })
    }

    fn integrator(&self, n: usize) -> Result<Dop853> {
        Dop853::new(n, self.state_tol, self.state_tol)
    }

    /// `S` at `T` under `ω_k` on segments of length `tau`, with the states at every segment
    /// end when `keep` (first the initial state).
    fn forward(&self, omegas: &[f64], tau: f64, keep: bool) -> Result<(Vec<f64>, Vec<Vec<f64>>)> {
        let mut s = self.model.initial_state().as_flattened().to_vec();
        let mut kept = Vec::new();
        if keep {
            kept.push(s.clone());
        }
        let mut integ = self.integrator(s.len())?;
        for &w in omegas {
            integ.reset();
            let mut rhs = |_t: f64, y: &[f64], d: &mut [f64]| self.model.rhs_with(w, y, d);
            let mut t = 0.0;
            integ.advance(&mut rhs, &mut t, &mut s, tau)?;
            if keep {
                kept.push(s.clone());
            }
        }
        Ok((s, kept))
    }

    /// `∇E0(S) = (−αM^x_m, −αM^y_m, B_m − M^z_m)`.
    fn energy_gradient(&self, s: &[f64]) -> Vec<f64> {
        let mf = self.model.mean_field(s);
        mf.iter().zip(&self.fields).flat_map(|(m, b)| [-self.alpha * m[0], -self.alpha * m[1], b - m[2]]).collect()
    }

    /// The reversed-time right-hand side of `(S, p, g)` (module docs) under `omega`.
    fn backward_rhs(&self, omega: f64, y: &[f64], d: &mut [f64]) {
        let n3 = self.fields.len() * 3;
        let (s, rest) = y.split_at(n3);
        let p = &rest[..n3];
        let mf = self.model.mean_field(s);
        let u: Vec<f64> = s
            .chunks_exact(3)
            .zip(p.chunks_exact(3))
            .flat_map(|(sm, pm)| cross([sm[0], sm[1], sm[2]], [pm[0], pm[1], pm[2]]))
            .collect();
        let gu = self.model.mean_field(&u);
        let mut integrand = 0.0;
        let (ds, drest) = d.split_at_mut(n3);
        let (dp, dg) = drest.split_at_mut(n3);
        for m in 0..self.fields.len() {
            let sm = [s[3 * m], s[3 * m + 1], s[3 * m + 2]];
            let pm = [p[3 * m], p[3 * m + 1], p[3 * m + 2]];
            let h = [omega - self.alpha * mf[m][0], -self.alpha * mf[m][1], -mf[m][2]];
            // dS/dτ' = −f = −2 h × S
            let f = cross(h, sm);
            // dp/dτ' = +Jᵀp = 2 p × h − 2 D (G u)
            let ph = cross(pm, h);
            let dd = [self.alpha, self.alpha, 1.0];
            for c in 0..3 {
                ds[3 * m + c] = -2.0 * f[c];
                dp[3 * m + c] = 2.0 * ph[c] - 2.0 * dd[c] * gu[m][c];
            }
            integrand += 2.0 * (pm[2] * sm[1] - pm[1] * sm[2]);
        }
        dg[0] = integrand;
    }
}

impl ControlModel for MeanFieldControl {
    fn work(&mut self, omegas: &[f64]) -> Result<f64> {
        let (s, _) = self.forward(omegas, self.tau, false)?;
        Ok(self.model.storage_energy(&s) - self.e_init)
    }

    fn constant_work(&mut self, omega: f64) -> Result<f64> {
        let (s, _) = self.forward(&[omega], self.charge_time, false)?;
        Ok(self.model.storage_energy(&s) - self.e_init)
    }

    fn work_and_gradient(&mut self, omegas: &[f64]) -> Result<(f64, Vec<f64>)> {
        self.evaluations += 1;
        let (s_t, kept) = self.forward(omegas, self.tau, true)?;
        let work = self.model.storage_energy(&s_t) - self.e_init;
        let n3 = s_t.len();
        let mut y = vec![0.0; 2 * n3 + 1];
        y[n3..2 * n3].copy_from_slice(&self.energy_gradient(&s_t));
        let mut integ = self.integrator(y.len())?;
        let mut grad = vec![0.0; omegas.len()];
        for k in (0..omegas.len()).rev() {
            y[..n3].copy_from_slice(&kept[k + 1]);
            y[2 * n3] = 0.0;
            integ.reset();
            let w = omegas[k];
            let mut rhs = |_t: f64, yy: &[f64], d: &mut [f64]| self.backward_rhs(w, yy, d);
            let mut t = 0.0;
            integ.advance(&mut rhs, &mut t, &mut y, self.tau)?;
            grad[k] = y[2 * n3];
        }
        Ok((work, grad))
    }

    fn evaluations(&self) -> usize {
        self.evaluations
    }
}
