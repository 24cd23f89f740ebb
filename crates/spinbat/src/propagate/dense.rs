//! Dense propagator: full eigendecomposition `H = U diag(E) Uᵀ` (faer, real symmetric).
//!
//! `ψ(t) = U (e^{−iEt} ∘ Uᵀψ_0)`, so every time costs one product with `U`
//! (`O(4^N)`, batched into matrix–matrix products), exact at any `t`. The accuracy is that
//! of a backward-stable eigensolver: eigenpairs with residual `~ ε_mach ‖H‖`, i.e. a state
//! error `≲ ε_mach (2^N + ‖H‖ t)`, an *estimate* rather than a bound, reported through
//! [`Propagator::error_bound`] as `2‖H0‖` times that.

use super::{check_times, Propagator, WorkSample};
use crate::error::{Result, SpinbatError};
use crate::model::Chain;
use crate::operator::Operators;
use faer::{Mat, Side};
use num_complex::Complex64;

/// Times evaluated per matrix–matrix product.
const BATCH: usize = 64;

/// Dense eigendecomposition propagator for small chains.
pub struct Dense {
    ops: Operators,
    e0: f64,
    h0_norm: f64,
    h_norm: f64,
    energies: Vec<f64>,
    u: Mat<f64>,
    /// overlaps `c_m = ⟨m|ψ_0⟩ = U[0, m]`
    c: Vec<f64>,
    max_err: f64,
}

impl Dense {
    /// Builds `H` densely and diagonalises it (`O(8^N)` time, `24·4^N` bytes).
    ///
    /// # Errors
    /// [`SpinbatError::NotConverged`] if the eigensolver fails.
    pub fn new(chain: &Chain) -> Result<Self> {
        let ops = Operators::new(chain)?;
        let d = ops.dim();
        let mut h = Mat::<f64>::zeros(d, d);
        for s in 0..d {
            ops.column_h(s, |row, v| h[(row, s)] += v);
        }
        let evd = h
            .self_adjoint_eigen(Side::Lower)
            .map_err(|e| SpinbatError::NotConverged { what: "dense eigendecomposition", reason: format!("{e:?}") })?;
        let u = evd.U().to_owned();
        let energies: Vec<f64> = (0..d).map(|m| evd.S().column_vector()[m]).collect();
        let c: Vec<f64> = (0..d).map(|m| u[(crate::basis::ALL_DOWN, m)]).collect();
        let h_norm = energies.iter().fold(0.0f64, |a, e| a.max(e.abs()));
        Ok(Dense {
            e0: chain.initial_energy(),
            h0_norm: Operators::h0_norm_bound(chain),
            h_norm,
            energies,
            u,
            c,
            max_err: 0.0,
            ops,
        })
    }

    /// Eigenvalues of the charging Hamiltonian, ascending.
    pub fn energies(&self) -> &[f64] {
        &self.energies
    }

    fn sample_batch(&mut self, times: &[f64], out: &mut Vec<WorkSample>) {
        let d = self.ops.dim();
        // columns 2k and 2k+1: cos and −sin parts of e^{−iEt} ∘ c
        let x = Mat::<f64>::from_fn(d, 2 * times.len(), |m, col| {
            let phase = self.energies[m] * times[col / 2];
            if col % 2 == 0 {
                self.c[m] * phase.cos()
            } else {
                -self.c[m] * phase.sin()
            }
        });
        let psi = &self.u * &x;
        let mut state = vec![Complex64::new(0.0, 0.0); d];
        for (k, &t) in times.iter().enumerate() {
            for (s, v) in state.iter_mut().enumerate() {
                *v = Complex64::new(psi[(s, 2 * k)], psi[(s, 2 * k + 1)]);
            }
            let (norm, e, rate) = self.ops.energy_and_rate(&state);
            let err = 2.0 * self.h0_norm * f64::EPSILON * (d as f64 + self.h_norm * t);
            self.max_err = self.max_err.max(err);
            out.push(WorkSample { t, work: e / norm - self.e0, rate: rate / norm });
        }
    }
}

impl Propagator for Dense {
    fn name(&self) -> &'static str {
        "dense"
    }

    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        let mut out = Vec::with_capacity(times.len());
        for chunk in times.chunks(BATCH) {
            self.sample_batch(chunk, &mut out);
        }
        Ok(out)
    }

    fn error_bound(&self) -> f64 {
        self.max_err
    }

    fn accuracy_note(&self) -> String {
        format!("exact diagonalisation; rounding estimate 2||H0|| eps (2^N + ||H|| t) = {:.1e} so far", self.max_err)
    }
}
