//! What the density-matrix propagator needs of a Lindblad generator on a `d × d` matrix,
//! whatever space the matrix lives on: the full `2^N` space ([`Liouvillian`]) or the
//! `N + 1` Dicke states ([`super::DickeLiouvillian`]).
//!
//! The ellipse-Chebyshev steps of [`crate::propagate::DensityMatrix`] use only: the
//! action of `𝓛` by columns (`prepare` once per matrix, then `column_rows` for the rows on
//! and below the diagonal of each column, the rest mirrored: the matrices are Hermitian or
//! anti-Hermitian), the
//! rectangle holding the numerical range of `𝓛` (Hilbert–Schmidt inner product), the norm
//! of the work operator `H0 − E_0` (its error bound) and the sums of a matrix that the
//! propagator measures (`Tr((H0 − E_0)X)`, `Tr X`, `‖X‖_F²`) — and, for the certified
//! maximum search, an upper bound on `W` and the fastest dissipative rate.

use super::liouvillian::{Liouvillian, MatrixSums, Workspace};
use super::noise::Rates;
use crate::model::Chain;
use num_complex::Complex64;
use rayon::prelude::*;

/// A Lindblad generator `𝓛` acting on a dense `d × d` complex matrix stored by columns
/// (`X[c·d + r] = X_rc`), never forming the `d² × d²` superoperator (module docs).
pub trait LindbladGenerator: Sync {
    /// Buffers that [`LindbladGenerator::prepare`] fills once per matrix (`()` where a
    /// column needs nothing beyond `X`).
    type Workspace: Send + Sync;

    /// Sites `N`.
    fn n_sites(&self) -> usize;

    /// `d`: a matrix has `d²` entries (`2^N` on the full space, `N + 1` on the Dicke states).
    fn dim(&self) -> usize;

    /// The channels' rates.
    fn rates(&self) -> Rates;

    /// A rectangle `{a + x + iy : |x| ≤ h, |y| ≤ b}` holding the numerical range of `𝓛`
    /// in the Hilbert–Schmidt inner product, as `(a, h, b)`.
    fn numerical_range(&self) -> (f64, f64, f64);

    /// The matrix in words, for accuracy notes.
    fn describe(&self) -> String {
        format!("density matrix ({0} x {0})", self.dim())
    }

    /// The fewest columns a parallel task of the propagator takes (rayon's
    /// `with_min_len`): `1` for the full space, more where a column is short (the Dicke
    /// states), so a task is not dominated by its scheduling.
    fn columns_per_task(&self) -> usize {
        1
    }

    /// Whether no channel acts (`𝓛 = −i[H, ·]`, normal).
    fn is_closed(&self) -> bool {
        self.rates() == Rates::default()
    }

    /// `‖H0 − E_0‖` on the space (or an upper bound): a state error `δ` moves the work by at
    /// most `‖H0 − E_0‖ ‖δ‖_1`.
    fn work_operator_norm(&self) -> f64;

    /// Upper bound on the work `W(t)` of `chain` under this generator, for the certified
    /// maximum search: with `conserves_energy` (no channel, from all-down, charging) the
    /// closed battery's bound, else a bound on `λ_max(H0) − E_0` over the space.
    fn work_bound(&self, chain: &Chain, conserves_energy: bool) -> f64;

    /// A fresh workspace.
    fn workspace(&self) -> Self::Workspace;

    /// What [`LindbladGenerator::column`] needs beyond `x`, computed once per matrix.
    fn prepare(&self, x: &[Complex64], ws: &mut Self::Workspace);

    /// Column `c` of `𝓛x` into `out` (`d` long), after [`LindbladGenerator::prepare`].
    fn column(&self, x: &[Complex64], c: usize, out: &mut [Complex64], ws: &Self::Workspace);

    /// Rows `r0..d` of column `c` of `𝓛x` into `out[r0..]` (`r0` from
    /// [`super::lower_start`]), after [`LindbladGenerator::prepare`]; rows above `r0` may be
    /// written too (the default computes the whole column).
    fn column_rows(&self, x: &[Complex64], c: usize, r0: usize, out: &mut [Complex64], ws: &Self::Workspace) {
        let _ = r0;
        self.column(x, c, out, ws);
    }

    /// The [`MatrixSums`] of column `c` of a matrix.
    fn column_sums(&self, c: usize, col: &[Complex64]) -> MatrixSums;

    /// The [`MatrixSums`] of a matrix `X` with `X† = sign·X` (`±1`) from the rows `r ≥ c`
    /// of its column `c` (the rows above are not read): `‖X‖_F² = Σ_c (|X_cc|² +
    /// 2 Σ_{r>c} |X_rc|²)` and `Tr((H0 − E_0)X)` from the lower triangle
    /// ([`Liouvillian::lower_column_sums`]).
    fn lower_column_sums(&self, c: usize, col: &[Complex64], sign: f64) -> MatrixSums;

    /// The [`MatrixSums`] of `x` (`d²` long, by columns).
    fn sums(&self, x: &[Complex64]) -> MatrixSums {
        let d = self.dim();
        assert_eq!(x.len(), d * d, "a matrix of d = {d} has d^2 entries");
        x.par_chunks(d)
            .enumerate()
            .map(|(c, col)| self.column_sums(c, col))
            .reduce(MatrixSums::default, MatrixSums::join)
    }

    /// `out = 𝓛x` (both `d²` long); returns the [`MatrixSums`] of `out`.
    fn apply(&self, x: &[Complex64], out: &mut [Complex64], ws: &mut Self::Workspace) -> MatrixSums {
        let d = self.dim();
        assert!(x.len() == d * d && out.len() == d * d, "matrices of d = {d} have d^2 entries");
        self.prepare(x, ws);
        let ws = &*ws;
        out.par_chunks_mut(d)
            .enumerate()
            .map(|(c, o)| {
                self.column(x, c, o, ws);
                self.column_sums(c, o)
            })
            .reduce(MatrixSums::default, MatrixSums::join)
    }
}

/// The full-space generator: every method is the [`Liouvillian`]'s own.
impl LindbladGenerator for Liouvillian {
    type Workspace = Workspace;

    fn n_sites(&self) -> usize {
        Liouvillian::n_sites(self)
    }

    fn dim(&self) -> usize {
        Liouvillian::dim(self)
    }

    fn rates(&self) -> Rates {
        Liouvillian::rates(self)
    }

    fn numerical_range(&self) -> (f64, f64, f64) {
        Liouvillian::numerical_range(self)
    }

    fn is_closed(&self) -> bool {
        Liouvillian::is_closed(self)
    }

    fn work_operator_norm(&self) -> f64 {
        Liouvillian::work_operator_norm(self)
    }

    /// Closed: `Σ_i(|B_i| + B_i) + min(N|ω|, λ_max(H_g) + G)`; open:
    /// `λ_max(H0) − E_0 ≤ Σ_i(|B_i| + B_i) + λ_max(H_g) + G` (`λ_max(H_g)` by Gershgorin;
    /// `B_i = B` without per-site fields).
    fn work_bound(&self, chain: &Chain, conserves_energy: bool) -> f64 {
        if conserves_energy {
            chain.work_bound_with(self.h_g_max_bound())
        } else {
            chain.field_abs_sum() + chain.field_sum() + self.h_g_max_bound() + chain.total_coupling()
        }
    }

    fn workspace(&self) -> Workspace {
        Liouvillian::workspace(self)
    }

    fn prepare(&self, x: &[Complex64], ws: &mut Workspace) {
        Liouvillian::prepare(self, x, ws)
    }

    #[inline]
    fn column(&self, x: &[Complex64], c: usize, out: &mut [Complex64], ws: &Workspace) {
        Liouvillian::column(self, x, c, out, ws)
    }

    #[inline]
    fn column_rows(&self, x: &[Complex64], c: usize, r0: usize, out: &mut [Complex64], ws: &Workspace) {
        Liouvillian::column_rows(self, x, c, r0, out, ws)
    }

    fn column_sums(&self, c: usize, col: &[Complex64]) -> MatrixSums {
        Liouvillian::column_sums(self, c, col)
    }

    fn lower_column_sums(&self, c: usize, col: &[Complex64], sign: f64) -> MatrixSums {
        Liouvillian::lower_column_sums(self, c, col, sign)
    }

    fn sums(&self, x: &[Complex64]) -> MatrixSums {
        Liouvillian::sums(self, x)
    }

    fn apply(&self, x: &[Complex64], out: &mut [Complex64], ws: &mut Workspace) -> MatrixSums {
        Liouvillian::apply(self, x, out, ws)
    }
}
