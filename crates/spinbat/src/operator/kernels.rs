//! The hot loops of the Chebyshev propagator, written once for every [`Space`]: the fused
//! recurrence step and the blocked observation of `⟨H0⟩` and `W'`.

use super::{Amplitude, Real, Space};
use num_complex::Complex;
use rayon::prelude::*;

/// Adds per-state partial sums `(norm, energy, rate)`.
fn add_sums(mut a: Vec<(f64, f64, f64)>, b: Vec<(f64, f64, f64)>) -> Vec<(f64, f64, f64)> {
    for (x, y) in a.iter_mut().zip(b) {
        x.0 += y.0;
        x.1 += y.1;
        x.2 += y.2;
    }
    a
}

/// One Chebyshev recurrence step for `H̃ = (H − c)/r`, fused with the accumulation of
/// the states at `m = coef_new.len()` times, in one pass over memory. `acc` holds the
/// `m` states interleaved, `acc[s·m + j]` (row `s`, time `j`):
/// * `first`: `T_1 = H̃ T_0` with `x = T_0`; `prev ← T_1`,
///   `acc[·, j] ← coef_x[j]·x + coef_new[j]·T_1`;
/// * otherwise: `T_{k+1} = 2 H̃ T_k − T_{k−1}` with `x = T_k`, `prev = T_{k−1}` on entry;
///   `prev ← T_{k+1}`, `acc[·, j] += coef_new[j]·T_{k+1}` for `j ≥ j_lo`.
///
/// Cost: one application of `H` ([`Space::h_block`] per block, in parallel) plus
/// `m − j_lo` multiply-adds per row. `T` is `Complex64` for general states, `f64` for the
/// real recurrence `T_k(H̃)ψ_0` of a real start state (then the caller passes the real or
/// imaginary accumulators).
///
/// # Panics
/// If the vectors do not have the space's dimension (a programming error).
#[allow(clippy::too_many_arguments)]
pub fn chebyshev_step<S, T>(
    space: &S,
    x: &[T],
    prev: &mut [T],
    acc: &mut [T],
    c: f64,
    r: f64,
    first: bool,
    coef_x: &[T],
    coef_new: &[T],
    j_lo: usize,
) where
    S: Space,
    T: Amplitude,
{
    let m = coef_new.len();
    let dim = space.dim();
    assert!(x.len() == dim && prev.len() == dim, "state vectors must have length {dim}");
    assert!(m > 0 && acc.len() == m * dim && (!first || coef_x.len() == m), "accumulator shape");
    let scale = if first { 1.0 / r } else { 2.0 / r };
    let chunk = space.block_len();
    prev.par_chunks_mut(chunk).zip(acc.par_chunks_mut(chunk * m)).enumerate().for_each_init(
        || vec![T::default(); chunk],
        |hx, (ch, (prev, acc))| {
            let base = ch * chunk;
            space.h_block(x, ch, hx);
            for (o, ((p, a), &h)) in prev.iter_mut().zip(acc.chunks_exact_mut(m)).zip(hx.iter()).enumerate() {
                let xs = x[base + o];
                let hx = (h - xs.scale(c)).scale(scale);
                if first {
                    *p = hx;
                    for ((a, cx), cn) in a.iter_mut().zip(coef_x).zip(coef_new) {
                        *a = xs * *cx + hx * *cn;
                    }
                } else {
                    let t = hx - *p;
                    *p = t;
                    for (a, cn) in a[j_lo..].iter_mut().zip(&coef_new[j_lo..]) {
                        *a += t * *cn;
                    }
                }
            }
        },
    );
}

/// `(⟨ψ_j|ψ_j⟩, ⟨ψ_j|H0|ψ_j⟩, 2 Im⟨H0ψ_j|Vψ_j⟩)` for `m` complex states stored
/// interleaved, `psi[s·m + j]`, in one blocked pass (full-space sums: rows weighted by
/// [`Space::block_weight`]). The last is `dW/dt = i⟨[H, H0]⟩`, since `[H_g, H0] = 0`
/// leaves only `i⟨[V, H0]⟩` (physics.md).
///
/// Sums are taken in double precision whatever the storage type `R`.
///
/// # Panics
/// If `psi.len() != m · dim`.
pub fn energy_and_rate_multi<S: Space, R: Real>(space: &S, psi: &[Complex<R>], m: usize) -> Vec<(f64, f64, f64)> {
    assert!(m > 0 && psi.len() == m * space.dim(), "state block must be dim x m");
    let chunk = space.block_len();
    let zero = Complex::<R>::default();
    let wide = |z: &Complex<R>| (z.re.to_f64(), z.im.to_f64());
    let sums = (0..space.dim() / chunk)
        .into_par_iter()
        .fold(
            || (vec![(0.0, 0.0, 0.0); m], vec![zero; chunk * m], vec![zero; chunk * m]),
            |(mut sums, mut vp, mut h0), c| {
                space.flip_sum_block(psi, m, c, &mut vp);
                space.h0_block(psi, m, c, &mut h0);
                let w = space.block_weight(c);
                let rows = &psi[c * chunk * m..(c + 1) * chunk * m];
                for ((xrow, vrow), hrow) in rows.chunks_exact(m).zip(vp.chunks_exact(m)).zip(h0.chunks_exact(m)) {
                    for (acc, ((x, v), h)) in sums.iter_mut().zip(xrow.iter().zip(vrow).zip(hrow)) {
                        let ((xr, xi), (vr, vi), (hr, hi)) = (wide(x), wide(v), wide(h));
                        acc.0 += w * (xr * xr + xi * xi);
                        acc.1 += w * (xr * hr + xi * hi);
                        acc.2 += w * (hr * vi - hi * vr);
                    }
                }
                (sums, vp, h0)
            },
        )
        .map(|(sums, _, _)| sums)
        .reduce(|| vec![(0.0, 0.0, 0.0); m], add_sums);
    let omega = space.omega();
    sums.into_iter().map(|(n, e, r)| (n, e, 2.0 * omega * r)).collect()
}

/// [`energy_and_rate_multi`] for states given by real and imaginary parts in separate
/// interleaved blocks, `ψ_j[s] = re[s·m + j] + i·im[s·m + j]`:
/// `⟨H0⟩ = a·H0a + b·H0b`, `W' = 2ω (H0a·Σb − H0b·Σa)` with `Σ` the flip sums.
///
/// # Panics
/// If the blocks are not `dim × m`.
pub fn energy_and_rate_split<S: Space, R: Real>(space: &S, re: &[R], im: &[R], m: usize) -> Vec<(f64, f64, f64)> {
    assert!(m > 0 && re.len() == m * space.dim() && im.len() == re.len(), "state blocks must be dim x m");
    let chunk = space.block_len();
    let n = chunk * m;
    let sums = (0..space.dim() / chunk)
        .into_par_iter()
        .fold(
            || (vec![(0.0, 0.0, 0.0); m], vec![R::default(); 4 * n]),
            |(mut sums, mut buf), c| {
                let (va, rest) = buf.split_at_mut(n);
                let (vb, rest) = rest.split_at_mut(n);
                let (ha, hb) = rest.split_at_mut(n);
                space.flip_sum_block(re, m, c, va);
                space.flip_sum_block(im, m, c, vb);
                space.h0_block(re, m, c, ha);
                space.h0_block(im, m, c, hb);
                let w = space.block_weight(c);
                let (ra, ia) = (&re[c * n..(c + 1) * n], &im[c * n..(c + 1) * n]);
                for row in 0..chunk {
                    for (j, acc) in sums.iter_mut().enumerate() {
                        let q = row * m + j;
                        let (a, b) = (ra[q].to_f64(), ia[q].to_f64());
                        let (ha, hb, va, vb) = (ha[q].to_f64(), hb[q].to_f64(), va[q].to_f64(), vb[q].to_f64());
                        acc.0 += w * (a * a + b * b);
                        acc.1 += w * (a * ha + b * hb);
                        acc.2 += w * (ha * vb - hb * va);
                    }
                }
                (sums, buf)
            },
        )
        .map(|(sums, _)| sums)
        .reduce(|| vec![(0.0, 0.0, 0.0); m], add_sums);
    let omega = space.omega();
    sums.into_iter().map(|(n, e, r)| (n, e, 2.0 * omega * r)).collect()
}
