//! Measurements of a matrix-product state beyond one-site states ([`super::Mps`]): the
//! magnetisation populations, the `ZZ` correlations, `⟨O²⟩` of an MPO, the Schmidt values
//! across a bond, and the overlap of two states. Every one is a contraction of transfer
//! matrices, `O(N χ³ d)` per sweep; none builds the `2^N` amplitudes. The figures of merit
//! they feed (`crate::observe`) take them from here.

use super::mpo::Mpo;
use super::state::{lq_right, qr_left, svd_error, transfer_left, transfer_right, Mps};
use super::tensor::{contract, Tensor};
use num_complex::Complex64;

/// `E'[b', b] = Σ_{a', a, s, s'} conj(A[a', s', b']) E[a', a] O[s', s] A[a, s, b]`: the
/// transfer matrix from the left with the one-site operator `O` (`O[s'][s] = ⟨s'|O|s⟩`)
/// between ket and bra, `O(χ³ d)`.
fn transfer_left_op(e: &Tensor, a: &Tensor, op: [[Complex64; 2]; 2]) -> Tensor {
    let (dl, dr) = (a.dims[0], a.dims[2]);
    let mut oa = Tensor::zeros(&[dl, 2, dr]);
    for b in 0..dr {
        for (sp, row) in op.iter().enumerate() {
            for (s, &o) in row.iter().enumerate() {
                if o == Complex64::new(0.0, 0.0) {
                    continue;
                }
                for x in 0..dl {
                    oa.data[x + dl * (sp + 2 * b)] += o * a.data[x + dl * (s + 2 * b)];
                }
            }
        }
    }
    // Σ conj(A[a', s', b']) E[a', a] (OA)[a, s', b]
    let t = contract(e, false, 1, &oa, false); // [a', s', b]
    let t = t.permute(&[2, 0, 1]); // [b, a', s']
    let t = contract(&t, false, 2, a, true); // [b, b']
    t.permute(&[1, 0])
}

/// `Z = diag(−1, +1)` (spin index `0` down).
const Z: [[Complex64; 2]; 2] =
    [[Complex64::new(-1.0, 0.0), Complex64::new(0.0, 0.0)], [Complex64::new(0.0, 0.0), Complex64::new(1.0, 0.0)]];

impl Mps {
    /// The reduced density matrices of the blocks `[0, K), [K, 2K), …` (the last one
    /// shorter), `ρ_b[s, s'] = Σ L[a', a] M[a, s, b] R[b, b'] conj(M[a', s', b']) / ⟨ψ|ψ⟩`
    /// with `M = A_{i₀}^{s₀} ⋯ A_{i₀+K−1}^{s_{K−1}}` the block's product (`s = Σ_j s_j 2^j`,
    /// bit `j` up at site `i₀ + j`, as [`crate::observe::ergotropy::block_ergotropy`]
    /// indexes) and `L`, `R` the norm's transfer environments of the sites left and right of
    /// it (any gauge): one sweep of each, `O(N χ³ d + (N/K) χ² 4^K)` and `χ² 2^K` amplitudes
    /// held per block.
    ///
    /// # Panics
    /// If `k == 0` (a programming error: callers check `1 ≤ K ≤ N`).
    pub fn block_states(&self, k: usize) -> Vec<faer::Mat<Complex64>> {
        assert!(k > 0, "block_states: K = 0");
        let n = self.n_sites();
        let one = Tensor::from_data(&[1, 1], vec![Complex64::new(1.0, 0.0)]);
        let starts: Vec<usize> = (0..n).step_by(k).collect();
        // right[b]: the sites after block b contracted, [b, b']
        let mut right = vec![one.clone(); starts.len()];
        let mut env = one.clone();
        for (b, &start) in starts.iter().enumerate().rev() {
            right[b] = env.clone();
            for a in self.sites[start..(start + k).min(n)].iter().rev() {
                env = transfer_right(&env, a);
            }
        }
        let mut left = one;
        let mut out = Vec::with_capacity(starts.len());
        for (b, &start) in starts.iter().enumerate() {
            let end = (start + k).min(n);
            let mut m = self.sites[start].clone();
            for a in &self.sites[start + 1..end] {
                // [a, s, s_j, b] with the first index fastest: (s, s_j) is s + 2^j s_j
                let t = contract(&m, false, 1, a, false);
                let (dl, ds, dr) = (t.dims[0], t.dims[1] * t.dims[2], t.dims[3]);
                m = t.reshape(&[dl, ds, dr]);
            }
            let x = contract(&left, false, 1, &m, false); // [a', s, b]
            let y = contract(&x, false, 1, &right[b], false); // [a', s, b']
            let ds = m.dims[1];
            // ρ[s, s'] = Σ_{a', b'} y[a', s, b'] conj(m[a', s', b']): rows s, columns (a', b')
            let (yt, mt) = (y.permute(&[1, 0, 2]), m.permute(&[1, 0, 2]));
            let rho = yt.as_mat(1) * mt.as_mat(1).adjoint();
            let trace: f64 = (0..ds).map(|i| rho[(i, i)].re).sum();
            out.push(faer::Mat::from_fn(ds, ds, |i, j| rho[(i, j)] / trace));
            for a in &self.sites[start..end] {
                left = transfer_left(&left, a);
            }
        }
        out
    }

    /// The populations `p_M = ⟨ψ|P_M|ψ⟩/⟨ψ|ψ⟩` of the magnetisation sectors (`M = 0..=N` up
    /// spins, `P_M` the projector onto them), by transfer matrices resolved by the count of
    /// up spins so far: `E_M(i + 1) = Σ_s A_i^{s†} E_{M−s}(i) A_i^s`, `p_M = E_M(N)`. Each
    /// `E_M` is a Gram matrix (`P_M ψ` restricted to the left sites), so the `p_M` come out
    /// as sums of non-negative terms, without the cancellations of a Fourier transform of
    /// `⟨e^{iθM}⟩`. `O(N² χ³ d / 2)`.
    pub fn populations(&self) -> Vec<f64> {
        let n = self.n_sites();
        let zero = Complex64::new(0.0, 0.0);
        let down = [[Complex64::new(1.0, 0.0), zero], [zero, zero]];
        let up = [[zero, zero], [zero, Complex64::new(1.0, 0.0)]];
        let mut env = vec![Tensor::from_data(&[1, 1], vec![Complex64::new(1.0, 0.0)])];
        for a in &self.sites {
            let mut next: Vec<Tensor> = env.iter().map(|e| transfer_left_op(e, a, down)).collect();
            next.push(transfer_left_op(&env[env.len() - 1], a, up));
            for m in 1..env.len() {
                let t = transfer_left_op(&env[m - 1], a, up);
                next[m].axpy(Complex64::new(1.0, 0.0), &t);
            }
            env = next;
        }
        let p: Vec<f64> = env.iter().map(|e| e.data[0].re.max(0.0)).collect();
        let total: f64 = p.iter().sum();
        debug_assert_eq!(p.len(), n + 1);
        if total > 0.0 {
            p.iter().map(|x| x / total).collect()
        } else {
            p
        }
    }

    /// The connected correlations `C_ij = ⟨Z_iZ_j⟩ − ⟨Z_i⟩⟨Z_j⟩` (`N` rows of `N`; `C_ii =
    /// 1 − ⟨Z_i⟩²`), normalised by `⟨ψ|ψ⟩`: for each `i` one sweep to the right carrying
    /// `Z_i` in the transfer matrix, closed at each `j > i` with `Z_j` and the right
    /// environment. `O(N² χ³ d)`.
    pub fn zz_connected(&self) -> Vec<Vec<f64>> {
        let n = self.n_sites();
        let one = Tensor::from_data(&[1, 1], vec![Complex64::new(1.0, 0.0)]);
        let mut left = vec![one.clone(); n + 1];
        for i in 0..n {
            left[i + 1] = transfer_left(&left[i], &self.sites[i]);
        }
        let mut right = vec![one; n + 1];
        for i in (0..n).rev() {
            right[i] = transfer_right(&right[i + 1], &self.sites[i]);
        }
        let norm = left[n].data[0].re;
        // ⟨E| R⟩ = Σ E[b', b] R[b, b']
        let close = |e: &Tensor, r: &Tensor| -> f64 {
            let d = e.dims[0];
            let mut acc = Complex64::new(0.0, 0.0);
            for bp in 0..d {
                for b in 0..d {
                    acc += e.data[bp + d * b] * r.data[b + d * bp];
                }
            }
            acc.re / norm
        };
        let z: Vec<f64> =
            (0..n).map(|i| close(&transfer_left_op(&left[i], &self.sites[i], Z), &right[i + 1])).collect();
        let mut c = vec![vec![0.0; n]; n];
        for i in 0..n {
            c[i][i] = 1.0 - z[i] * z[i];
            let mut e = transfer_left_op(&left[i], &self.sites[i], Z);
            for j in i + 1..n {
                let zz = close(&transfer_left_op(&e, &self.sites[j], Z), &right[j + 1]);
                c[i][j] = zz - z[i] * z[j];
                c[j][i] = c[i][j];
                if j + 1 < n {
                    e = transfer_left(&e, &self.sites[j]);
                }
            }
        }
        c
    }

    /// `⟨ψ|O†O|ψ⟩/⟨ψ|ψ⟩ = ‖Oψ‖²/‖ψ‖²` (for a Hermitian `O`, `⟨O²⟩`) by one sweep of
    /// double-layer environments `E[a', u, w, a]` (bra, the bra's MPO, the ket's MPO, ket),
    /// `O(N (χ³ D² d + χ² D³ d²))`.
    pub fn square_expectation(&self, mpo: &Mpo) -> f64 {
        let d0 = mpo.sites[0].dims[0];
        let mut env = Tensor::zeros(&[1, d0, d0, 1]);
        env.data[0] = Complex64::new(1.0, 0.0);
        for (a, w) in self.sites.iter().zip(&mpo.sites) {
            // W[w, s, s', v]: ⟨s'|O|s⟩; the bra layer conj(W[u, t, s', u']) as [u, s', t, u']
            let wb = w.permute(&[0, 2, 1, 3]);
            let t = contract(&env, false, 1, a, false); // [a', u, w, s, b]
            let t = t.permute(&[0, 1, 4, 2, 3]); // [a', u, b, w, s]
            let t = contract(&t, false, 2, w, false); // [a', u, b, s', v]
            let t = t.permute(&[0, 2, 4, 1, 3]); // [a', b, v, u, s']
            let t = contract(&t, false, 2, &wb, true); // [a', b, v, t, u']
            let t = t.permute(&[1, 2, 4, 0, 3]); // [b, v, u', a', t]
            let t = contract(&t, false, 2, a, true); // [b, v, u', b']
            env = t.permute(&[3, 2, 1, 0]); // [b', u', v, b]
        }
        let d = env.dims[1];
        let last = (d - 1) + d * (d - 1);
        env.data[last].re / self.norm_sqr()
    }

    /// The Schmidt values `λ_k` (normalised: `Σ λ_k² = 1`, descending) across the bond
    /// `l | l+1`: the state brought into mixed canonical form on a copy (QR sweeps), then
    /// one SVD, `O(N χ³ d)`.
    ///
    /// # Errors
    /// [`crate::SpinbatError::NotConverged`] if an SVD fails.
    pub fn schmidt_values(&self, l: usize) -> crate::Result<Vec<f64>> {
        let n = self.n_sites();
        let mut sites = self.sites.clone();
        for i in 0..l {
            let (q, r) = qr_left(&sites[i]);
            sites[i] = q;
            sites[i + 1] = contract(&r, false, 1, &sites[i + 1], false);
        }
        for i in (l + 2..n).rev() {
            let (lq, q) = lq_right(&sites[i]);
            sites[i] = q;
            sites[i - 1] = contract(&sites[i - 1], false, 1, &lq, false);
        }
        let theta = contract(&sites[l], false, 1, &sites[l + 1], false);
        let svd = theta.as_mat(2).thin_svd().map_err(svd_error)?;
        let s = svd.S().column_vector();
        let sv: Vec<f64> = (0..s.nrows()).map(|k| s[k].re).collect();
        let norm = sv.iter().map(|x| x * x).sum::<f64>().sqrt();
        Ok(sv.iter().map(|x| x / norm).collect())
    }

    /// `⟨self|other⟩` by transfer matrices, `O(N χ³ d)`.
    ///
    /// # Panics
    /// If the chains differ in length (a programming error).
    pub fn overlap(&self, other: &Mps) -> Complex64 {
        assert_eq!(self.n_sites(), other.n_sites(), "Mps::overlap: lengths");
        let mut e = Tensor::from_data(&[1, 1], vec![Complex64::new(1.0, 0.0)]);
        for (a, b) in self.sites.iter().zip(&other.sites) {
            // e[a', a] → Σ conj(A[a', s, b']) e[a', a] B[a, s, b] = [b', b]
            let t = contract(&e, false, 1, b, false); // [a', s, b]
            let t = t.permute(&[2, 0, 1]); // [b, a', s]
            let t = contract(&t, false, 2, a, true); // [b, b']
            e = t.permute(&[1, 0]);
        }
        e.data[0]
    }
}

/// The von Neumann entropy `−Σ λ² ln λ²` and the Rényi-2 entropy `−ln Σ λ⁴` (nats) of
/// Schmidt values `λ` (normalised).
pub fn entropies(schmidt: &[f64]) -> (f64, f64) {
    let p = schmidt.iter().map(|x| x * x).filter(|&p| p > 0.0);
    let s: f64 = p.clone().map(|p| -p * p.ln()).sum();
    let purity: f64 = p.map(|p| p * p).sum();
    (s, -purity.ln())
}
