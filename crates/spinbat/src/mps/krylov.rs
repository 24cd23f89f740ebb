//! `e^{−iτH} v` for a Hermitian `H` given by its action, by Lanczos (Krylov) with full
//! reorthogonalisation: the local exponentials of TDVP (Paeckel et al., Ann. Phys. 411,
//! 167998 (2019), Sec. 2.3).
//!
//! After `m` steps `e^{−iτH} v ≈ ‖v‖ Q_m e^{−iτT_m} e_1` (`T_m` the tridiagonal Lanczos
//! matrix, `Q_m` the orthonormal Krylov basis); the a-posteriori estimate of the error is
//! `‖v‖ β_m |e_mᵀ e^{−iτT_m} e_1|` (Saad 1992), stopped below `tol ‖v‖`. A step that does
//! not converge within [`KRYLOV_MAX_DIM`] vectors is split in two halves.

use super::tensor::Tensor;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};
use num_complex::Complex64;

/// Largest Krylov space before a step is split.
pub const KRYLOV_MAX_DIM: usize = 40;

/// A second Gram–Schmidt pass runs when the first kept less than this fraction of the
/// norm (`1/√2`, Daniel–Gragg–Kaufman–Stewart).
const REORTH_KEEP: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// Deepest splitting of one step (`2^8` sub-steps) before giving up.
const MAX_SPLITS: u32 = 8;

/// `e^{−iτH} v` to the estimate `tol ‖v‖`, and the number of applications of `H`.
///
/// # Errors
/// [`crate::SpinbatError::NotConverged`] if even `τ/2^8` does not converge, or the small
/// eigenproblem fails.
pub fn expm_apply(
    apply: &mut dyn FnMut(&Tensor) -> Tensor,
    v: &Tensor,
    tau: f64,
    tol: f64,
) -> crate::Result<(Tensor, usize)> {
    let mut applications = 0;
    let out = expm_split(apply, v, tau, tol, 0, &mut applications)?;
    Ok((out, applications))
}

fn expm_split(
    apply: &mut dyn FnMut(&Tensor) -> Tensor,
    v: &Tensor,
    tau: f64,
    tol: f64,
    depth: u32,
    applications: &mut usize,
) -> crate::Result<Tensor> {
    match lanczos(apply, v, tau, tol, applications)? {
        Some(out) => Ok(out),
        None if depth < MAX_SPLITS => {
            let half = expm_split(apply, v, 0.5 * tau, 0.5 * tol, depth + 1, applications)?;
            expm_split(apply, &half, 0.5 * tau, 0.5 * tol, depth + 1, applications)
        }
        None => Err(crate::SpinbatError::NotConverged {
            what: "Lanczos exponential of an effective Hamiltonian",
            reason: format!("no convergence to {tol:e} within {KRYLOV_MAX_DIM} vectors even for a step {tau:e}"),
        }),
    }
}

/// One Lanczos run; `None` when it does not converge within [`KRYLOV_MAX_DIM`].
///
/// The Krylov basis is kept as the columns of one column-major block `Q`, so that the
/// Gram–Schmidt passes `c = Q† w`, `w ← w − Q c` and the result `‖v‖ Q y` are faer
/// matrix–vector products (vectorised, one pass over `Q` each), not one scalar loop per
/// basis vector.
fn lanczos(
    apply: &mut dyn FnMut(&Tensor) -> Tensor,
    v: &Tensor,
    tau: f64,
    tol: f64,
    applications: &mut usize,
) -> crate::Result<Option<Tensor>> {
    let beta0 = v.norm();
    if beta0 == 0.0 || tau == 0.0 {
        return Ok(Some(v.clone()));
    }
    let len = v.len();
    let mut q = v.clone();
    q.scale(Complex64::new(1.0 / beta0, 0.0));
    let mut basis: Vec<Complex64> = Vec::with_capacity(len * 16);
    basis.extend_from_slice(&q.data);
    let mut coef = vec![Complex64::new(0.0, 0.0); KRYLOV_MAX_DIM];
    let mut alphas: Vec<f64> = Vec::new();
    let mut betas: Vec<f64> = Vec::new();
    let (one, minus_one) = (Complex64::new(1.0, 0.0), Complex64::new(-1.0, 0.0));
    for m in 1..=KRYLOV_MAX_DIM {
        let mut w = apply(&q);
        *applications += 1;
        let a = q.dot(&w).re;
        alphas.push(a);
        // full reorthogonalisation, repeated only when it cancelled most of `w` (the DGKS
        // criterion: one classical Gram–Schmidt pass leaves `O(ε‖w_before‖/‖w_after‖)`)
        let qm = MatRef::from_column_major_slice(&basis, len, m);
        let mut b = w.norm();
        for _ in 0..2 {
            let before = b;
            let c = MatMut::from_column_major_slice_mut(&mut coef[..m], m, 1);
            matmul(c, Accum::Replace, qm.adjoint(), MatRef::from_column_major_slice(&w.data, len, 1), one, Par::Seq);
            let c = MatRef::from_column_major_slice(&coef[..m], m, 1);
            matmul(MatMut::from_column_major_slice_mut(&mut w.data, len, 1), Accum::Add, qm, c, minus_one, Par::Seq);
            b = w.norm();
            if b > REORTH_KEEP * before {
                break;
            }
        }
        let y = small_exponential(&alphas, &betas, tau)?;
        let estimate = b * y[m - 1].norm();
        // invariant subspace found, or the estimate is below tol
        if b <= 1e-14 * (a.abs() + betas.last().copied().unwrap_or(0.0)).max(1e-300) || estimate <= tol {
            let mut out = Tensor::zeros(&v.dims);
            let y = MatRef::from_column_major_slice(&y, m, 1);
            let dst = MatMut::from_column_major_slice_mut(&mut out.data, len, 1);
            matmul(dst, Accum::Replace, qm, y, Complex64::new(beta0, 0.0), Par::Seq);
            return Ok(Some(out));
        }
        if m == KRYLOV_MAX_DIM {
            break;
        }
        betas.push(b);
        w.scale(Complex64::new(1.0 / b, 0.0));
        basis.extend_from_slice(&w.data);
        q = w;
    }
    Ok(None)
}

/// `e^{−iτT} e_1` for the symmetric tridiagonal `T` (diagonal `alphas`, off-diagonal
/// `betas`), by its eigendecomposition.
fn small_exponential(alphas: &[f64], betas: &[f64], tau: f64) -> crate::Result<Vec<Complex64>> {
    let m = alphas.len();
    let t = Mat::<f64>::from_fn(m, m, |i, j| {
        if i == j {
            alphas[i]
        } else if i + 1 == j {
            betas[i]
        } else if j + 1 == i {
            betas[j]
        } else {
            0.0
        }
    });
    let evd = t.self_adjoint_eigen(Side::Lower).map_err(|e| crate::SpinbatError::NotConverged {
        what: "Lanczos tridiagonal eigenproblem",
        reason: format!("{e:?}"),
    })?;
    let (u, s) = (evd.U(), evd.S().column_vector());
    Ok((0..m).map(|i| (0..m).map(|k| Complex64::from_polar(u[(i, k)] * u[(0, k)], -tau * s[k])).sum()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn krylov_exponential_matches_the_eigendecomposition() {
        // a random-ish Hermitian 12 × 12 matrix, e^{-iτH}v against the dense exponential
        let n = 12;
        let h = Mat::<Complex64>::from_fn(n, n, |i, j| {
            let (a, b) = (i.min(j) as f64, i.max(j) as f64);
            let re = ((a * 1.3 + b * 0.7).sin() + if i == j { a } else { 0.0 }) * 0.5;
            let im = if i == j { 0.0 } else { (a - b).cos() * 0.3 * if i < j { 1.0 } else { -1.0 } };
            Complex64::new(re, im)
        });
        let v = Tensor::from_data(&[n], (0..n).map(|k| Complex64::new(1.0 + k as f64, 0.5)).collect());
        let mut apply = |x: &Tensor| {
            let xm = faer::MatRef::from_column_major_slice(&x.data, n, 1);
            let y = &h * xm;
            Tensor::from_data(&[n], (0..n).map(|i| y[(i, 0)]).collect())
        };
        let tau = 0.7;
        let (got, _) = expm_apply(&mut apply, &v, tau, 1e-13).unwrap();
        let evd = h.self_adjoint_eigen(Side::Lower).unwrap();
        let (u, s) = (evd.U(), evd.S().column_vector());
        for i in 0..n {
            let mut want = Complex64::new(0.0, 0.0);
            for k in 0..n {
                let proj: Complex64 = (0..n).map(|j| u[(j, k)].conj() * v.data[j]).sum();
                want += u[(i, k)] * Complex64::from_polar(1.0, -tau * s[k].re) * proj;
            }
            assert!((got.data[i] - want).norm() < 1e-11 * v.norm(), "{i}: {} vs {want}", got.data[i]);
        }
    }
}
