//! Two-site time-dependent variational principle (TDVP; Haegeman et al., PRB 94, 165116
//! (2016); Paeckel et al., Ann. Phys. 411, 167998 (2019), Sec. 5): `e^{−iHδ}` on a
//! matrix-product state, second order by the symmetric sweep.
//!
//! One step `δ`: a left-to-right half sweep with `δ/2` (each bond `(i, i+1)`: the two-site
//! tensor `θ = A_i A_{i+1}` evolves forward by `e^{−iH_eff^{(2)} δ/2}`, is split by SVD and
//! truncated, the new centre `A_{i+1}` evolves backward by `e^{+iH_eff^{(1)} δ/2}`), then the
//! mirror right-to-left half sweep with `δ/2`. The local exponentials are Lanczos
//! ([`super::krylov`]); the effective Hamiltonians are applied as four faer products,
//! `O(χ³ D d² + χ² D² d³)` each (left environment, the two MPO tensors, right
//! environment). Two-site TDVP grows the bond dimension (one-site TDVP would keep the
//! product start at bond dimension 1). From a product state each half sweep is preceded by
//! the subspace expansion (`mps::expand`) into the gauge it starts from, so that both
//! halves see it alike and the step stays symmetric.
//!
//! **Truncation.** Each SVD keeps the fewest singular values `λ_k` (at most `χ`) whose
//! discarded weight `Σ_{k > r} λ_k² / Σ_k λ_k²` is `≤ ε`, then renormalises; the discarded
//! weights are summed ([`Tdvp::discarded_weight`]). The error of a step is `O(δ³)`, of a
//! time `O(δ²)` (Richardson: [`crate::mps`]'s propagator compares with a step `2δ`).

use super::expand::{expand_by_hamiltonian, Centre};
use super::krylov::expm_apply;
use super::mpo::Mpo;
use super::state::{extend_left, extend_right, left_boundary, right_boundary, svd_error, Mps};
use super::tensor::{contract, Tensor};
use std::sync::Arc;

/// Tolerance of the Lanczos exponentials, relative to the norm of the local tensor.
pub const KRYLOV_TOL: f64 = 1e-12;

/// Singular values below this fraction of the largest are dropped whatever `ε` (numerical
/// zeros: a weight of `10⁻²⁸`).
const SVD_ZERO: f64 = 1e-14;

/// How the bond dimension is limited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Truncation {
    /// Maximal bond dimension `χ`.
    pub max_bond: usize,
    /// Largest discarded weight `ε` per SVD.
    pub max_discarded: f64,
}

/// A matrix-product state evolving under one MPO by two-site TDVP, with its
/// environments. Between steps the orthogonality centre is site 0 and every right
/// environment is current.
#[derive(Debug, Clone)]
pub struct Tdvp {
    mps: Mps,
    h: Arc<Mpo>,
    /// `L[i]`: sites `0..i` contracted (bra, MPO, ket); `L[0]` the boundary.
    left: Vec<Tensor>,
    /// `R[i]`: sites `i..N` contracted (ket, MPO, bra); `R[N]` the boundary.
    right: Vec<Tensor>,
    trunc: Truncation,
    time: f64,
    discarded: f64,
    discarded_norm: f64,
    max_bond_seen: usize,
    applications: usize,
}

impl Tdvp {
    /// Starts from `mps` (its centre at site 0: every other site right-orthonormal, as the
    /// product state all-down is) under `h`.
    pub fn new(mps: Mps, h: Arc<Mpo>, trunc: Truncation) -> Tdvp {
        let n = mps.n_sites();
        let mut right = vec![Tensor::zeros(&[0]); n + 1];
        right[n] = right_boundary(&h);
        for i in (1..n).rev() {
            right[i] = extend_right(&right[i + 1], &mps.sites[i], &h.sites[i]);
        }
        let mut left = vec![Tensor::zeros(&[0]); n + 1];
        left[0] = left_boundary(&h);
        let max_bond_seen = mps.max_bond();
        Tdvp {
            mps,
            h,
            left,
            right,
            trunc,
            time: 0.0,
            discarded: 0.0,
            discarded_norm: 0.0,
            max_bond_seen,
            applications: 0,
        }
    }

    /// The state.
    pub fn state(&self) -> &Mps {
        &self.mps
    }

    /// The time reached.
    pub fn time(&self) -> f64 {
        self.time
    }

    /// `Σ` over every SVD so far of its discarded weight.
    pub fn discarded_weight(&self) -> f64 {
        self.discarded
    }

    /// `Σ_k √ε_k` over every SVD so far: each truncation moves the (normalised) state by
    /// `√ε_k` in norm and the evolution keeps norms, so this bounds the truncations' share
    /// of `‖ψ_MPS − ψ_TDVP without truncation‖`.
    pub fn discarded_norm(&self) -> f64 {
        self.discarded_norm
    }

    /// Largest bond dimension reached so far.
    pub fn max_bond_seen(&self) -> usize {
        self.max_bond_seen
    }

    /// Limits the bond dimension by `trunc` from the next step on.
    pub fn set_truncation(&mut self, trunc: Truncation) {
        self.trunc = trunc;
    }

    /// Applications of effective Hamiltonians so far (the cost).
    pub fn applications(&self) -> usize {
        self.applications
    }

    /// One second-order step `e^{−iHδ}` (module docs).
    ///
    /// # Errors
    /// [`crate::SpinbatError::NotConverged`] from a Lanczos exponential or an SVD.
    pub fn step(&mut self, delta: f64) -> crate::Result<()> {
        let n = self.mps.n_sites();
        let half = 0.5 * delta;
        // a product state (all-down at t = 0): its bond bases are enlarged by those of Hψ
        // before each half sweep ([`super::expand`]), so that a long-range H reaches it (not
        // at χ = 1: the step's SVDs would cut it back to a product state). Before both: the
        // left-to-right sweep sees the expansion in the bases to its right, the mirror sweep
        // must see it in those to its left, or the step is not symmetric and its error is
        // first order in δ where the state stays a product (α = 1)
        let expand = n > 1 && self.mps.max_bond() == 1 && self.trunc.max_bond > 1;
        if expand {
            self.mps = expand_by_hamiltonian(&self.mps, &self.h, Centre::First);
            for i in (1..n).rev() {
                self.right[i] = extend_right(&self.right[i + 1], &self.mps.sites[i], &self.h.sites[i]);
            }
        }
        if n == 1 {
            let c = self.evolve_one(0, &self.mps.sites[0].clone(), delta)?;
            self.mps.sites[0] = c;
            self.time += delta;
            return Ok(());
        }
        for i in 0..n - 1 {
            let theta = contract(&self.mps.sites[i], false, 1, &self.mps.sites[i + 1], false);
            let theta = self.evolve_two(i, &theta, half)?;
            let (a, b) = self.split(theta, true)?;
            self.mps.sites[i] = a;
            self.left[i + 1] = extend_left(&self.left[i], &self.mps.sites[i], &self.h.sites[i]);
            self.mps.sites[i + 1] = if i + 2 < n { self.evolve_one(i + 1, &b, -half)? } else { b };
        }
        if expand {
            self.mps = expand_by_hamiltonian(&self.mps, &self.h, Centre::Last);
            for i in 0..n - 1 {
                self.left[i + 1] = extend_left(&self.left[i], &self.mps.sites[i], &self.h.sites[i]);
            }
        }
        for i in (0..n - 1).rev() {
            let theta = contract(&self.mps.sites[i], false, 1, &self.mps.sites[i + 1], false);
            let theta = self.evolve_two(i, &theta, half)?;
            let (a, b) = self.split(theta, false)?;
            self.mps.sites[i + 1] = b;
            self.right[i + 1] = extend_right(&self.right[i + 2], &self.mps.sites[i + 1], &self.h.sites[i + 1]);
            self.mps.sites[i] = if i > 0 { self.evolve_one(i, &a, -half)? } else { a };
        }
        self.time += delta;
        Ok(())
    }

    /// `e^{−iH_eff^{(2)} τ} θ` on the bond `(i, i+1)`.
    fn evolve_two(&mut self, i: usize, theta: &Tensor, tau: f64) -> crate::Result<Tensor> {
        let (l, w1, w2, r) = (&self.left[i], &self.h.sites[i], &self.h.sites[i + 1], &self.right[i + 2]);
        let mut apply = |x: &Tensor| apply_two(l, w1, w2, r, x);
        let (out, k) = expm_apply(&mut apply, theta, tau, KRYLOV_TOL)?;
        self.applications += k;
        Ok(out)
    }

    /// `e^{−iH_eff^{(1)} τ} C` on site `i` (`τ < 0`: backward).
    fn evolve_one(&mut self, i: usize, c: &Tensor, tau: f64) -> crate::Result<Tensor> {
        let (l, w, r) = (&self.left[i], &self.h.sites[i], &self.right[i + 1]);
        let mut apply = |x: &Tensor| apply_one(l, w, r, x);
        let (out, k) = expm_apply(&mut apply, c, tau, KRYLOV_TOL)?;
        self.applications += k;
        Ok(out)
    }

    /// `θ[a, s, t, c] = U S V†` truncated: `(U, S V†)` with the centre moving right, or
    /// `(U S, V†)` with it moving left.
    fn split(&mut self, theta: Tensor, centre_right: bool) -> crate::Result<(Tensor, Tensor)> {
        let (dl, d1, d2, dr) = (theta.dims[0], theta.dims[1], theta.dims[2], theta.dims[3]);
        let svd = theta.as_mat(2).thin_svd().map_err(svd_error)?;
        let (u, s, v) = (svd.U(), svd.S().column_vector(), svd.V());
        let sv: Vec<f64> = (0..s.nrows()).map(|k| s[k].re).collect();
        let total: f64 = sv.iter().map(|x| x * x).sum();
        let (r, discarded) = truncation_rank(&sv, total, self.trunc);
        self.discarded += discarded;
        self.discarded_norm += discarded.sqrt();
        self.max_bond_seen = self.max_bond_seen.max(r);
        let kept: f64 = sv[..r].iter().map(|x| x * x).sum::<f64>().sqrt();
        let norm = 1.0 / kept.max(f64::MIN_POSITIVE);
        // renormalised singular values: Σ λ² = 1
        let lam: Vec<f64> = sv[..r].iter().map(|x| x * norm).collect();
        let mut a = Tensor::zeros(&[dl, d1, r]);
        let mut b = Tensor::zeros(&[r, d2, dr]);
        let m = dl * d1;
        let nn = d2 * dr;
        for k in 0..r {
            let fa = if centre_right { 1.0 } else { lam[k] };
            for row in 0..m {
                a.data[row + m * k] = u[(row, k)] * fa;
            }
            let fb = if centre_right { lam[k] } else { 1.0 };
            for col in 0..nn {
                b.data[k + r * col] = v[(col, k)].conj() * fb;
            }
        }
        Ok((a, b))
    }
}

/// The kept rank and the discarded weight (relative) of singular values `sv` (descending),
/// `total = Σ sv²`: the fewest values, at most `max_bond`, whose tail weight is `≤ ε·total`.
fn truncation_rank(sv: &[f64], total: f64, trunc: Truncation) -> (usize, f64) {
    if total == 0.0 || sv.is_empty() {
        return (1, 0.0);
    }
    let zero = SVD_ZERO * sv[0];
    let mut r = sv.iter().take_while(|&&x| x > zero).count().clamp(1, trunc.max_bond.max(1));
    // tail weights from the end: shrink r while the discarded weight stays ≤ ε
    let mut tail: f64 = sv[r..].iter().map(|x| x * x).sum();
    while r > 1 {
        let t = tail + sv[r - 1] * sv[r - 1];
        if t > trunc.max_discarded * total {
            break;
        }
        tail = t;
        r -= 1;
    }
    (r, tail / total)
}

/// `(H_eff^{(2)} θ)[a', s', t', c'] = Σ L[a', w, a] W1[w, s, s', u] W2[u, t, t', v]
/// R[c, v, c'] θ[a, s, t, c]`, as four faer products in the order
/// `O(χ³ D d² + χ² D² d³ + χ³ D d²)`.
pub(crate) fn apply_two(l: &Tensor, w1: &Tensor, w2: &Tensor, r: &Tensor, theta: &Tensor) -> Tensor {
    let x = contract(l, false, 1, theta, false); // [a', w, s, t, c]
    let x = x.permute(&[0, 3, 4, 1, 2]); // [a', t, c, w, s]
    let x = contract(&x, false, 2, w1, false); // [a', t, c, s', u]
    let x = x.permute(&[0, 2, 3, 4, 1]); // [a', c, s', u, t]
    let x = contract(&x, false, 2, w2, false); // [a', c, s', t', v]
    let x = x.permute(&[0, 2, 3, 1, 4]); // [a', s', t', c, v]
    contract(&x, false, 2, r, false) // [a', s', t', c']
}

/// `(H_eff^{(1)} C)[a', s', b'] = Σ L[a', w, a] W[w, s, s', v] R[b, v, b'] C[a, s, b]`.
pub(crate) fn apply_one(l: &Tensor, w: &Tensor, r: &Tensor, c: &Tensor) -> Tensor {
    let x = contract(l, false, 1, c, false); // [a', w, s, b]
    let x = x.permute(&[0, 3, 1, 2]); // [a', b, w, s]
    let x = contract(&x, false, 2, w, false); // [a', b, s', v]
    let x = x.permute(&[0, 2, 1, 3]); // [a', s', b, v]
    contract(&x, false, 2, r, false) // [a', s', b']
}
