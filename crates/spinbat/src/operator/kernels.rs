//! The hot loops of the Chebyshev propagator, written once for every [`Space`]: the fused
//! recurrence step and the blocked observation of `⟨H0⟩` and `W'`.

use crate::numeric::{Amplitude, Real, Widen};
use crate::symmetry::Space;
use num_complex::Complex;
use num_complex::Complex64;
use rayon::prelude::*;

/// What one pass over a state measures: its norm, the work and its rate, and the norm of
/// the work operator applied to it (for the error bound on `W`, see
/// [`Moments::work_error`]). All unnormalised: divide by `norm` for a unit state.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    /// `⟨ψ|ψ⟩`.
    pub norm: f64,
    /// `⟨ψ|H0 − E_0|ψ⟩`.
    pub work: f64,
    /// `2 Im⟨H0ψ|Vψ⟩ = i⟨ψ|[H, H0]|ψ⟩` (`[H_g, H0] = 0` leaves only `i⟨[V, H0]⟩`,
    /// physics.md; the shift by `E_0` drops out).
    pub rate: f64,
    /// `‖(H0 − E_0)ψ‖²`.
    pub work_sq: f64,
}

impl Moments {
    /// `W = ⟨ψ|H0 − E_0|ψ⟩ / ⟨ψ|ψ⟩`.
    pub fn unit_work(&self) -> f64 {
        self.work / self.norm
    }

    /// `W' / ⟨ψ|ψ⟩`.
    pub fn unit_rate(&self) -> f64 {
        self.rate / self.norm
    }

    /// Bound on `|W(ψ_exact) − W(ψ̂)|` for the normalised computed state `ψ̂ = φ/‖φ‖` when
    /// the computed state `φ` is within `e` of the exact unit state: then
    /// `‖ψ̂ − ψ_exact‖ ≤ ê = e + |1 − ‖φ‖|` (`‖φ‖` as measured) and, with `A = H0 − E_0`,
    /// `|⟨ψ|A|ψ⟩ − ⟨ψ̂|A|ψ̂⟩| ≤ ê (2‖Aψ̂‖ + ‖A‖ ê)`; `a_norm` bounds `‖A‖`. This uses the
    /// energy the state has rather than `‖H0‖` (which grows like `N²` for all-to-all
    /// chains), capped by the plain `2‖H0‖e` (`h0_norm = ‖H0‖`).
    pub fn work_error(&self, e: f64, a_norm: f64, h0_norm: f64) -> f64 {
        if e == 0.0 {
            return 0.0;
        }
        let e_hat = e + (1.0 - self.norm.sqrt()).abs();
        let a_psi = (self.work_sq / self.norm).sqrt();
        (e_hat * (2.0 * a_psi + a_norm * e_hat)).min(2.0 * h0_norm * e)
    }
}

/// Adds per-state partial sums.
fn add_sums(mut a: Vec<Moments>, b: Vec<Moments>) -> Vec<Moments> {
    for (x, y) in a.iter_mut().zip(b) {
        x.norm += y.norm;
        x.work += y.work;
        x.rate += y.rate;
        x.work_sq += y.work_sq;
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
    let step_block = |hx: &mut Vec<T>, ch: usize, prev: &mut [T], acc: &mut [T]| {
        let base = ch * chunk;
        // the last block may be shorter
        let hx = &mut hx[..prev.len()];
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
    };
    if space.blocks() == 1 {
        // one block (small spaces): no parallel overhead
        step_block(&mut vec![T::default(); dim], 0, prev, acc);
    } else {
        prev.par_chunks_mut(chunk)
            .zip(acc.par_chunks_mut(chunk * m))
            .enumerate()
            .for_each_init(|| vec![T::default(); chunk], |hx, (ch, (prev, acc))| step_block(hx, ch, prev, acc));
    }
}

/// The [`Moments`] (`⟨ψ_j|ψ_j⟩`, `⟨ψ_j|H0 − E_0|ψ_j⟩`, `2 Im⟨H0ψ_j|Vψ_j⟩`,
/// `‖(H0 − E_0)ψ_j‖²`) of `m` complex states stored interleaved, `psi[s·m + j]`, in one
/// blocked pass (full-space sums: rows weighted by [`Space::block_weight`]). The rate is
/// `dW/dt = i⟨[H, H0]⟩`, since `[H_g, H0] = 0` leaves only `i⟨[V, H0]⟩` (physics.md).
///
/// Sums are taken in double precision whatever the storage type `R`.
///
/// # Panics
/// If `psi.len() != m · dim`.
pub fn energy_and_rate_multi<S: Space, R: Real>(space: &S, psi: &[Complex<R>], m: usize) -> Vec<Moments> {
    assert!(m > 0 && psi.len() == m * space.dim(), "state block must be dim x m");
    let chunk = space.block_len();
    let needs_extra = space.has_field_flip_rate();
    let zero = Complex::<R>::default();
    let wide = |z: &Complex<R>| (z.re.to_f64(), z.im.to_f64());
    let sums = (0..space.blocks())
        .into_par_iter()
        .fold(
            || (vec![Moments::default(); m], vec![zero; chunk * m], vec![zero; chunk * m]),
            |(mut sums, mut vp, mut h0), c| {
                let rows = space.block_rows(c);
                let len = rows.len() * m;
                space.flip_sum_block(psi, m, c, &mut vp[..len]);
                space.work_block(psi, m, c, &mut h0[..len]);
                let w = space.block_weight(c);
                // per-site fields with flip-flops: i⟨[H_g, H_B]⟩, added after the scaling by 2ω
                let im_pair = |r: usize, s: usize, j: usize| {
                    let (a, b) = (wide(&psi[r * m + j]), wide(&psi[s * m + j]));
                    a.0 * b.1 - a.1 * b.0
                };
                if needs_extra {
                    let mut extra = vec![0.0; m];
                    space.field_flip_rate(c, m, &im_pair, &mut extra);
                    // the sums are scaled by 2ω at the end (ω > 0 for a charging chain)
                    for (acc, e) in sums.iter_mut().zip(&extra) {
                        acc.rate += w * e / (2.0 * space.omega());
                    }
                }
                let rows = &psi[rows.start * m..rows.end * m];
                for ((xrow, vrow), hrow) in rows.chunks_exact(m).zip(vp.chunks_exact(m)).zip(h0.chunks_exact(m)) {
                    for (acc, ((x, v), h)) in sums.iter_mut().zip(xrow.iter().zip(vrow).zip(hrow)) {
                        let ((xr, xi), (vr, vi), (hr, hi)) = (wide(x), wide(v), wide(h));
                        acc.norm += w * (xr * xr + xi * xi);
                        acc.work += w * (xr * hr + xi * hi);
                        acc.rate += w * (hr * vi - hi * vr);
                        acc.work_sq += w * (hr * hr + hi * hi);
                    }
                }
                (sums, vp, h0)
            },
        )
        .map(|(sums, _, _)| sums)
        .reduce(|| vec![Moments::default(); m], add_sums);
    let omega = space.omega();
    sums.into_iter().map(|s| Moments { rate: 2.0 * omega * s.rate, ..s }).collect()
}

/// [`energy_and_rate_multi`] for states given by real and imaginary parts in separate
/// interleaved blocks, `ψ_j[s] = re[s·m + j] + i·im[s·m + j]`:
/// `⟨A⟩ = a·Aa + b·Ab`, `W' = 2ω (Aa·Σb − Ab·Σa)` with `A = H0 − E_0` and `Σ` the flip
/// sums, `‖Aψ‖² = ‖Aa‖² + ‖Ab‖²`.
///
/// # Panics
/// If the blocks are not `dim × m`.
pub fn energy_and_rate_split<S: Space, R: Real>(space: &S, re: &[R], im: &[R], m: usize) -> Vec<Moments> {
    assert!(m > 0 && re.len() == m * space.dim() && im.len() == re.len(), "state blocks must be dim x m");
    let chunk = space.block_len();
    let needs_extra = space.has_field_flip_rate();
    let n = chunk * m;
    let sums = (0..space.blocks())
        .into_par_iter()
        .fold(
            || (vec![Moments::default(); m], vec![R::default(); 4 * n]),
            |(mut sums, mut buf), c| {
                // the last block may be shorter
                let rows = space.block_rows(c);
                let len = rows.len() * m;
                let (va, rest) = buf.split_at_mut(n);
                let (vb, rest) = rest.split_at_mut(n);
                let (ha, hb) = rest.split_at_mut(n);
                let (va, vb, ha, hb) = (&mut va[..len], &mut vb[..len], &mut ha[..len], &mut hb[..len]);
                space.flip_sum_block(re, m, c, va);
                space.flip_sum_block(im, m, c, vb);
                space.work_block(re, m, c, ha);
                space.work_block(im, m, c, hb);
                let w = space.block_weight(c);
                // per-site fields with flip-flops: i⟨[H_g, H_B]⟩, added after the scaling by 2ω
                let im_pair = |r: usize, s: usize, j: usize| {
                    let (p, q) = (r * m + j, s * m + j);
                    re[p].to_f64() * im[q].to_f64() - im[p].to_f64() * re[q].to_f64()
                };
                if needs_extra {
                    let mut extra = vec![0.0; m];
                    space.field_flip_rate(c, m, &im_pair, &mut extra);
                    // the sums are scaled by 2ω at the end (ω > 0 for a charging chain)
                    for (acc, e) in sums.iter_mut().zip(&extra) {
                        acc.rate += w * e / (2.0 * space.omega());
                    }
                }
                let (ra, ia) = (&re[rows.start * m..rows.end * m], &im[rows.start * m..rows.end * m]);
                for row in 0..rows.len() {
                    for (j, acc) in sums.iter_mut().enumerate() {
                        let q = row * m + j;
                        let (a, b) = (ra[q].to_f64(), ia[q].to_f64());
                        let (ha, hb, va, vb) = (ha[q].to_f64(), hb[q].to_f64(), va[q].to_f64(), vb[q].to_f64());
                        acc.norm += w * (a * a + b * b);
                        acc.work += w * (a * ha + b * hb);
                        acc.rate += w * (ha * vb - hb * va);
                        acc.work_sq += w * (ha * ha + hb * hb);
                    }
                }
                (sums, buf)
            },
        )
        .map(|(sums, _)| sums)
        .reduce(|| vec![Moments::default(); m], add_sums);
    let omega = space.omega();
    sums.into_iter().map(|s| Moments { rate: 2.0 * omega * s.rate, ..s }).collect()
}

/// One Chebyshev recurrence step for `H̃ = (H − c)/r` into a fresh vector, for a series
/// whose terms are all kept (the Gram segments of the propagator): `out = H̃x` when
/// `prev` is `None` (`T_1` from `x = T_0`), else `out = 2H̃x − prev`
/// (`T_{k+1}` from `x = T_k`, `prev = T_{k−1}`). One pass over memory, in parallel by blocks.
///
/// # Panics
/// If the vectors do not have the space's dimension (a programming error).
pub fn chebyshev_step_into<S: Space, T: Amplitude>(
    space: &S,
    x: &[T],
    prev: Option<&[T]>,
    out: &mut [T],
    c: f64,
    r: f64,
) {
    let dim = space.dim();
    assert!(
        x.len() == dim && out.len() == dim && prev.is_none_or(|p| p.len() == dim),
        "state vectors must have length {dim}"
    );
    let scale = if prev.is_none() { 1.0 / r } else { 2.0 / r };
    let chunk = space.block_len();
    let step_block = |ch: usize, out: &mut [T]| {
        let base = ch * chunk;
        space.h_block(x, ch, out);
        let xs = &x[base..base + out.len()];
        match prev {
            None => {
                for (o, &xv) in out.iter_mut().zip(xs) {
                    *o = (*o - xv.scale(c)).scale(scale);
                }
            }
            Some(p) => {
                let ps = &p[base..base + out.len()];
                for ((o, &xv), &pv) in out.iter_mut().zip(xs).zip(ps) {
                    *o = (*o - xv.scale(c)).scale(scale) - pv;
                }
            }
        }
    };
    if space.blocks() == 1 {
        step_block(0, out);
    } else {
        out.par_chunks_mut(chunk).enumerate().for_each(|(ch, o)| step_block(ch, o));
    }
}

/// The products of `k` stored states `v_0 … v_{k−1}` (column `j` is `cols[j·dim..(j+1)·dim]`)
/// that a Chebyshev series needs to measure the work at *any* time it reaches
/// (`crate::propagate` Gram segments), in the full-space inner product (rows weighted by
/// [`Space::block_weight`]), with `A = H0 − E_0`. A series `Σ_a c_a v_a` has
/// `c_a = (−i)^a x_a` with `x_a` real, so with `w_a = (−i)^a v_a` every quadratic form
/// `Σ_ab c̄_a c_b ⟨v_a|X|v_b⟩ = Σ_ab x_a x_b Re⟨w_a|X|w_b⟩` (the imaginary parts cancel
/// for Hermitian `X`) needs only the real symmetric matrices
/// * `g[a·k + b] = Re⟨w_a|A|w_b⟩ = Re(i^a (−i)^b ⟨v_a|A|v_b⟩)`;
/// * with `squares`, `g2[a·k + b] = Re⟨Aw_a|Aw_b⟩`;
/// * and `diag[a] = ⟨v_a|v_a⟩`, `sup[a] = Re⟨v_a|v_{a+1}⟩` (the norms of all combinations
///   follow from these by `T_a T_b = (T_{a+b} + T_{|a−b|})/2`).
///
/// One pass over the states, block by block in parallel; each block's products are one
/// real dense matrix product (faer, upper triangle) in double precision: for complex
/// states over the `2b` real rows `(Re w_a, Im w_a)` (half the flops of the Hermitian
/// product), for real states over the even and the odd columns apart (`w_a` is real for
/// even `a`, imaginary for odd: the products of unequal parity have no real part, half
/// the flops again).
///
/// # Panics
/// If `cols.len() != k · dim` or `k == 0` (a programming error).
pub fn gram_sums<S: Space, T: Widen>(space: &S, cols: &[T], k: usize, squares: bool) -> GramSums {
    use faer::linalg::matmul::triangular::{matmul, BlockStructure};
    use faer::{Accum, Mat, Par};
    let dim = space.dim();
    assert!(k > 0 && cols.len() == k * dim, "Gram columns must be dim x k");
    let chunk = space.block_len();
    let parts = T::PARTS;
    // real states: the even columns first, then the odd ones (column `slot[a]` of a block)
    let real = parts == 1;
    let ke = if real { k.div_ceil(2) } else { k };
    let slot = |a: usize| {
        if real {
            if a.is_multiple_of(2) {
                a / 2
            } else {
                ke + a / 2
            }
        } else {
            a
        }
    };
    type Acc = (Mat<f64>, Option<Mat<f64>>, Vec<f64>, Vec<f64>);
    let zero_acc = || -> Acc {
        (Mat::zeros(k, k), squares.then(|| Mat::zeros(k, k)), vec![0.0; k], vec![0.0; k.saturating_sub(1)])
    };
    // rows of a block taken at once where the work operator is diagonal: the columns'
    // copies (`vb`, `ab`: 2 · parts · rows · k values) stay in L2 for the product
    let sub_rows = (GRAM_SUB_BYTES / (16 * parts * k)).clamp(64, chunk.max(64)) / 64 * 64;
    let (g, g2, diag, sup) = (0..space.blocks())
        .into_par_iter()
        .fold(
            || {
                let scratch = (Mat::<f64>::zeros(parts * chunk, k), Mat::<f64>::zeros(parts * chunk, k));
                (zero_acc(), scratch, vec![T::default(); chunk], vec![0.0f64; chunk])
            },
            |(mut acc, (mut vb, mut ab), mut tmp, mut wd), c| {
                let rows = space.block_rows(c);
                let b = rows.len();
                let w = space.block_weight(c);
                // the work operator by a row scaling where it is diagonal, else column by column
                let diagonal = space.work_diagonal(c, &mut wd[..b]);
                for d in &mut wd[..b] {
                    *d *= w;
                }
                let step = if diagonal { sub_rows.min(b) } else { b };
                for sub in (0..b).step_by(step.max(1)) {
                    let sb = step.min(b - sub);
                    let part_rows = rows.start + sub..rows.start + sub + sb;
                    for j in 0..k {
                        let col = &cols[j * dim..(j + 1) * dim];
                        let block = &col[part_rows.clone()];
                        acc.2[j] += w * lane_re_dot(block, block);
                        if j + 1 < k {
                            let next = &cols[(j + 1) * dim..(j + 2) * dim][part_rows.clone()];
                            acc.3[j] += w * lane_re_dot(block, next);
                        }
                        let sj = slot(j);
                        // w_j = (−i)^j v_j as real rows (Re, Im); real states unrotated
                        rotate_into::<T>(block, j, &mut vb.col_as_slice_mut(sj)[..parts * sb]);
                        if diagonal {
                            let vj = &vb.col_as_slice(sj)[..parts * sb];
                            let aj = &mut ab.col_as_slice_mut(sj)[..parts * sb];
                            for (ap, vp) in aj.chunks_exact_mut(sb).zip(vj.chunks_exact(sb)) {
                                for ((a, &v), &d) in ap.iter_mut().zip(vp).zip(&wd[sub..sub + sb]) {
                                    *a = v * d;
                                }
                            }
                        } else {
                            space.work_block(col, 1, c, &mut tmp[..b]);
                            let aj = &mut ab.col_as_slice_mut(sj)[..parts * b];
                            rotate_into::<T>(&tmp[..b], j, aj);
                            for a in aj.iter_mut() {
                                *a *= w;
                            }
                        }
                    }
                    // the upper triangles only (half the flops); real states by parity
                    let (upper, full) = (BlockStructure::TriangularUpper, BlockStructure::Rectangular);
                    let groups = if real { [(0, ke), (ke, k - ke)] } else { [(0, k), (k, 0)] };
                    for (at, n) in groups.into_iter().filter(|g| g.1 > 0) {
                        let vr = vb.as_ref().submatrix(0, at, parts * sb, n);
                        let ar = ab.as_ref().submatrix(0, at, parts * sb, n);
                        let gm = acc.0.as_mut().submatrix_mut(at, at, n, n);
                        matmul(gm, upper, Accum::Add, vr.transpose(), full, ar, full, 1.0, Par::Seq);
                        if let Some(g2) = acc.1.as_mut() {
                            let gm = g2.as_mut().submatrix_mut(at, at, n, n);
                            matmul(gm, upper, Accum::Add, ar.transpose(), full, ar, full, 1.0 / w, Par::Seq);
                        }
                    }
                }
                (acc, (vb, ab), tmp, wd)
            },
        )
        .map(|(acc, ..)| acc)
        .reduce(zero_acc, |mut a, b| {
            a.0 += &b.0;
            if let (Some(x), Some(y)) = (a.1.as_mut(), b.1.as_ref()) {
                *x += y;
            }
            for (x, y) in a.2.iter_mut().zip(&b.2) {
                *x += y;
            }
            for (x, y) in a.3.iter_mut().zip(&b.3) {
                *x += y;
            }
            a
        });
    // back to the order of the terms, the lower triangle by symmetry; real states: the
    // rotation's sign Re(i^a (−i)^b) = cos(π(a − b)/2), zero for unequal parity
    let flat = |m: &Mat<f64>| -> Vec<f64> {
        (0..k * k)
            .map(|i| {
                let (a, b) = (i / k, i % k);
                if real && (a + b) % 2 == 1 {
                    return 0.0;
                }
                let (sa, sb) = (slot(a), slot(b));
                let v = if sa <= sb { m[(sa, sb)] } else { m[(sb, sa)] };
                if real && a.abs_diff(b) % 4 == 2 {
                    -v
                } else {
                    v
                }
            })
            .collect()
    };
    crate::numeric::simd::clear_upper_state();
    GramSums { k, g: flat(&g), g2: g2.as_ref().map(flat), diag, sup }
}

/// Bytes of column copies [`gram_sums`] keeps per sub-block (both `vb` and `ab`): within
/// a core's L2 (1 MiB on the machine of BENCHMARKS.md), so the product reads them from there.
const GRAM_SUB_BYTES: usize = 1536 << 10;

/// `Σ Re(ā_r b_r)` over two equal slices ([`lane_sums`](crate::numeric::simd::lane_sums)).
#[inline(always)]
fn lane_re_dot<T: Widen>(a: &[T], b: &[T]) -> f64 {
    crate::numeric::simd::lane_sums([a, b], |[x, y]| [T::re_dot(x.widen(), y.widen())])[0]
}

/// `w_j = (−i)^j v_j` as real rows: `out[..b]` the real parts and, for complex values,
/// `out[b..2b]` the imaginary ones (`b = v.len()`); real values are copied unrotated.
#[inline(always)]
fn rotate_into<T: Widen>(v: &[T], j: usize, out: &mut [f64]) {
    let b = v.len();
    if T::PARTS == 1 {
        for (o, &x) in out[..b].iter_mut().zip(v) {
            *o = x.part(0);
        }
        return;
    }
    let (re, im) = out[..2 * b].split_at_mut(b);
    for ((r, i), &x) in re.iter_mut().zip(im.iter_mut()).zip(v) {
        let (a, c) = (x.part(0), x.part(1));
        (*r, *i) = match j % 4 {
            0 => (a, c),
            1 => (c, -a),
            2 => (-a, -c),
            _ => (-c, a),
        };
    }
}

/// What [`gram_sums`] measures of `k` stored states (`w_a = (−i)^a v_a`).
#[derive(Debug, Clone, PartialEq)]
pub struct GramSums {
    /// Number of states.
    pub k: usize,
    /// `Re⟨w_a|H0 − E_0|w_b⟩` at `a·k + b` (symmetric).
    pub g: Vec<f64>,
    /// `Re⟨(H0 − E_0)w_a|(H0 − E_0)w_b⟩` at `a·k + b`, when asked for.
    pub g2: Option<Vec<f64>>,
    /// `⟨v_a|v_a⟩`.
    pub diag: Vec<f64>,
    /// `Re⟨v_a|v_{a+1}⟩`.
    pub sup: Vec<f64>,
}

/// Rows per block of [`combine_terms`]: a block's parts of the kept terms (up to 256
/// real columns, 2 MiB) stay in cache for the product.
const COMBINE_ROWS: usize = 1024;

/// The real columns one part (`Re` or `Im`) of the combined states takes, with their
/// coefficients: `(term, part of the term, coefficient of state j at j)`. A term's part
/// whose coefficient vanishes for every state is left out.
fn combine_inputs<T: Widen>(c: &[Complex64], k: usize, m: usize) -> [Vec<(usize, usize, Vec<f64>)>; 2] {
    let (mut re, mut im) = (Vec::new(), Vec::new());
    for a in 0..k {
        let x: Vec<f64> = (0..m).map(|j| c[j * k + a].re).collect();
        let y: Vec<f64> = (0..m).map(|j| c[j * k + a].im).collect();
        let (has_x, has_y) = (x.iter().any(|&v| v != 0.0), y.iter().any(|&v| v != 0.0));
        // (x + iy)(p + iq) = (xp − yq) + i(xq + yp); real terms have p alone
        if has_y {
            if T::PARTS == 2 {
                re.push((a, 1, y.iter().map(|v| -v).collect()));
            }
            im.push((a, 0, y));
        }
        if has_x {
            if T::PARTS == 2 {
                im.push((a, 1, x.clone()));
            }
            re.push((a, 0, x));
        }
    }
    [re, im]
}

/// States from the kept terms of a Chebyshev series: `out_j = Σ_a c[j·k + a] v_a` for
/// `j < m`, with `v_a` the column `cols[a·dim..(a+1)·dim]` and state `j` written to
/// `out[j·dim..(j+1)·dim]` (the states at `m` times of one segment, `c_a(s_j)`).
///
/// One pass over the terms, block by block in parallel; each block is two real dense
/// matrix products (faer) in double precision, `Re out` and `Im out`, written in place.
/// A part of a term whose coefficient is zero at every time is skipped: a Chebyshev
/// series' coefficients `c_a ∝ (−i)^a J_a` are real for even `a` and imaginary for odd
/// `a`, so a real term feeds one part only and a complex term each part by one of its
/// own (`dim·k·m` real multiply-adds for real terms, `2·dim·k·m` for complex ones,
/// instead of `2` and `4` times that for general coefficients).
///
/// # Panics
/// If `cols.len() != k · dim`, `c.len() != k · m` or `out.len() != m · dim` (a programming
/// error).
pub fn combine_terms<T: Widen>(cols: &[T], dim: usize, k: usize, c: &[Complex64], m: usize, out: &mut [Complex64]) {
    use faer::linalg::matmul::matmul;
    use faer::{Accum, Mat, MatMut, Par};
    assert!(cols.len() == k * dim && c.len() == k * m && out.len() == m * dim, "combine_terms: shapes");
    if m == 0 || dim == 0 {
        return;
    }
    let inputs = combine_inputs::<T>(c, k, m);
    let coefs: Vec<Mat<f64>> = inputs.iter().map(|cols| Mat::from_fn(cols.len(), m, |r, j| cols[r].2[j])).collect();
    struct Out(*mut f64);
    // SAFETY: the blocks write disjoint rows of `out` (below), so sharing the pointer
    // between threads races on nothing
    unsafe impl Sync for Out {}
    let base = Out(out.as_mut_ptr().cast::<f64>());
    let base = &base;
    let (inputs, coefs) = (&inputs, &coefs);
    (0..dim.div_ceil(COMBINE_ROWS)).into_par_iter().for_each_init(
        || [Mat::<f64>::zeros(COMBINE_ROWS, inputs[0].len()), Mat::<f64>::zeros(COMBINE_ROWS, inputs[1].len())],
        |vb, block| {
            let start = block * COMBINE_ROWS;
            let b = COMBINE_ROWS.min(dim - start);
            for (part, (vb, (input, coef))) in vb.iter_mut().zip(inputs.iter().zip(coefs)).enumerate() {
                for (col, &(a, p, _)) in input.iter().enumerate() {
                    let src = &cols[a * dim + start..a * dim + start + b];
                    for (v, &x) in vb.col_as_slice_mut(col)[..b].iter_mut().zip(src) {
                        *v = x.part(p);
                    }
                }
                // SAFETY: part `part` of rows `start..start + b` of the `m` states of `out`
                // (complex values as pairs of f64: row stride 2, state stride 2·dim), inside
                // `out` (checked above); this block alone writes these rows
                let mut dst =
                    unsafe { MatMut::from_raw_parts_mut(base.0.add(2 * start + part), b, m, 2, 2 * dim as isize) };
                if input.is_empty() {
                    dst.fill(0.0);
                } else {
                    matmul(dst, Accum::Replace, vb.as_ref().subrows(0, b), coef.as_ref(), 1.0, Par::Seq);
                }
            }
        },
    );
    crate::numeric::simd::clear_upper_state();
}
