//! Dense propagator: full eigendecomposition `H = U diag(E) Uᵀ` (faer, real symmetric).
//!
//! `ψ(t) = U (e^{−iEt} ∘ Uᵀψ_0)`, so every time costs one product with `U`
//! (`O(4^N)`, batched into matrix–matrix products), exact at any `t`. The accuracy is that
//! of a backward-stable eigensolver: eigenpairs with residual `~ ε_mach ‖H‖`, i.e. a state
//! error `≲ ε_mach (2^N + ‖H‖ t)`, an *estimate* rather than a bound, reported through
//! [`Propagator::error_bound`] as `2‖H0‖` times that.

use super::method::{check_times, Propagator, StatePropagator, StateView, StateVisitor, WorkSample};
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
    h0_norm: f64,
    h_norm: f64,
    energies: Vec<f64>,
    u: Mat<f64>,
    /// overlaps `c_m = ⟨m|ψ_0⟩ = U[0, m]`
    c: Vec<f64>,
    max_err: f64,
    max_state_err: f64,
}

impl Dense {
    /// Builds `H` densely and diagonalises it (`O(8^N)` time; `H`, `U` and the eigensolver's
    /// workspace, `≈ 40·4^N` bytes as [`super::memory::bytes_needed`] counts them).
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
            h0_norm: Operators::h0_norm_bound(chain),
            h_norm,
            energies,
            u,
            c,
            max_err: 0.0,
            max_state_err: 0.0,
            ops,
        })
    }

    /// Eigenvalues of the charging Hamiltonian, ascending.
    pub fn energies(&self) -> &[f64] {
        &self.energies
    }

    /// `ψ(t)` for a batch of times: column `2k` the real part, `2k + 1` the imaginary
    /// part of the state at `times[k]` (one `2^N × 2^N` by `2^N × 2m` product).
    fn states_batch(&self, times: &[f64]) -> Mat<f64> {
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
        &self.u * &x
    }

    /// Rounding estimate of the state error at `t`: `ε_mach (2^N + ‖H‖ t)`.
    fn state_error_at(&self, t: f64) -> f64 {
        f64::EPSILON * (self.ops.dim() as f64 + self.h_norm * t)
    }

    /// Samples a batch, handing each state to `visit` after recording its work.
    fn visit_batch(&mut self, times: &[f64], visit: &mut StateVisitor<'_>) -> Result<()> {
        let d = self.ops.dim();
        let psi = self.states_batch(times);
        let mut state = vec![Complex64::new(0.0, 0.0); d];
        for (k, &t) in times.iter().enumerate() {
            for (s, v) in state.iter_mut().enumerate() {
                *v = Complex64::new(psi[(s, 2 * k)], psi[(s, 2 * k + 1)]);
            }
            let moments = self.ops.work_and_rate(&state);
            let state_err = self.state_error_at(t);
            self.max_state_err = self.max_state_err.max(state_err);
            self.max_err = self.max_err.max(2.0 * self.h0_norm * state_err);
            visit(
                &WorkSample { t, work: moments.unit_work(), rate: moments.unit_rate() },
                StateView::Pure { psi: &state, ops: &self.ops, mirror_even: false },
            )?;
        }
        Ok(())
    }
}

impl Propagator for Dense {
    fn name(&self) -> &'static str {
        "dense"
    }

    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        let mut out = Vec::with_capacity(times.len());
        self.for_each_state(times, &mut |s, _| {
            out.push(*s);
            Ok(())
        })?;
        Ok(out)
    }

    fn error_bound(&self) -> f64 {
        self.max_err
    }

    fn accuracy_note(&self) -> String {
        format!("exact diagonalisation; rounding estimate 2||H0|| eps (2^N + ||H|| t) = {:.1e} so far", self.max_err)
    }
}

impl StatePropagator for Dense {
    /// Batches of up to 64 times, one matrix product each; one extra `16·2^N`-byte buffer.
    fn for_each_state(&mut self, times: &[f64], visit: &mut StateVisitor<'_>) -> Result<()> {
        check_times(times)?;
        for chunk in times.chunks(BATCH) {
            self.visit_batch(chunk, visit)?;
        }
        Ok(())
    }

    fn state_error(&self) -> f64 {
        self.max_state_err
    }
}
