//! The matrix-product state `|ψ⟩ = Σ A_0^{s_0} A_1^{s_1} ⋯ A_{N−1}^{s_{N−1}} |s_0 … s_{N−1}⟩`:
//! site tensors `A_i[a, s, b]` (left bond `a`, spin `s`: 0 down, 1 up, right bond `b`),
//! the environments of an MPO sandwiched between it and its conjugate, expectation values.

use super::mpo::Mpo;
use super::tensor::{contract, Tensor};
use num_complex::Complex64;

/// A matrix-product state of `N` spins-1/2 with open ends (bond dimension 1 at both).
#[derive(Debug, Clone)]
pub struct Mps {
    /// `A_i[a, s, b]`, first index fastest.
    pub sites: Vec<Tensor>,
}

impl Mps {
    /// The product state all-down `|↓…↓⟩`: every `A_i` is `1×2×1` with `A[0, ↓, 0] = 1`
    /// (bond dimension 1; trivially in every canonical form).
    pub fn all_down(n: usize) -> Mps {
        let mut a = Tensor::zeros(&[1, 2, 1]);
        a.data[0] = Complex64::new(1.0, 0.0);
        Mps { sites: vec![a; n] }
    }

    /// Number of sites.
    pub fn n_sites(&self) -> usize {
        self.sites.len()
    }

    /// Bond dimensions `χ_l` of the bonds `l | l+1`, `l = 0 … N − 2`.
    pub fn bond_dims(&self) -> Vec<usize> {
        self.sites.iter().take(self.sites.len().saturating_sub(1)).map(|a| a.dims[2]).collect()
    }

    /// Largest bond dimension.
    pub fn max_bond(&self) -> usize {
        self.bond_dims().into_iter().max().unwrap_or(1)
    }

    /// `⟨ψ|O|ψ⟩` by one sweep of left environments, `O(N χ³ D d)`.
    pub fn expectation(&self, mpo: &Mpo) -> Complex64 {
        let mut env = left_boundary(mpo);
        for (a, w) in self.sites.iter().zip(&mpo.sites) {
            env = extend_left(&env, a, w);
        }
        // right boundary: "done", the last MPO bond index
        let d = env.dims[1];
        env.data[d - 1]
    }

    /// `⟨ψ|ψ⟩` by transfer matrices, `O(N χ³ d)`.
    pub fn norm_sqr(&self) -> f64 {
        let mut e = Tensor::from_data(&[1, 1], vec![Complex64::new(1.0, 0.0)]);
        for a in &self.sites {
            // e[a', a] → Σ conj(A[a', s, b']) e[a', a] A[a, s, b] = [b', b]
            let t = contract(&e, false, 1, a, false); // [a', s, b]
            let t = t.permute(&[2, 0, 1]); // [b, a', s]
            let t = contract(&t, false, 2, a, true); // [b, b']
            e = t.permute(&[1, 0]);
        }
        e.data[0].re
    }

    /// The `2^N` amplitudes (bit `i` of the index is site `i`): for checks at small `N`.
    ///
    /// # Panics
    /// For `N > 24` (a programming error).
    pub fn to_dense(&self) -> Vec<Complex64> {
        let n = self.n_sites();
        assert!(n <= 24, "Mps::to_dense is for small chains");
        // psi[x, b] over the sites so far, x the basis index of those sites (first fastest)
        let mut psi = Tensor::from_data(&[1, 1], vec![Complex64::new(1.0, 0.0)]);
        for a in &self.sites {
            let t = contract(&psi, false, 1, a, false); // [x, s, b]: x + 2^k s is the new index
            let (x, b) = (t.dims[0], t.dims[2]);
            psi = t.reshape(&[x * 2, b]);
        }
        psi.data
    }

    /// The one-site reduced density matrices `ρ_i[s, s'] = ⟨s|Tr_{≠i} |ψ⟩⟨ψ| |s'⟩ / ⟨ψ|ψ⟩`
    /// (`s = 0` down, `1` up) of every site, from the left and right transfer environments
    /// `E^L_i = Σ_s A^{s†} ⋯` and `E^R_i` (any gauge), `O(N χ³ d)`.
    pub fn one_site_states(&self) -> Vec<[[Complex64; 2]; 2]> {
        let n = self.n_sites();
        let one = Tensor::from_data(&[1, 1], vec![Complex64::new(1.0, 0.0)]);
        // left[i][a', a]: sites 0..i contracted (bra index first); right[i][b, b']: sites i..N
        let mut left = vec![one.clone(); n + 1];
        for i in 0..n {
            left[i + 1] = transfer_left(&left[i], &self.sites[i]);
        }
        let mut right = vec![one; n + 1];
        for i in (0..n).rev() {
            right[i] = transfer_right(&right[i + 1], &self.sites[i]);
        }
        let norm = left[n].data[0].re;
        (0..n)
            .map(|i| {
                // x[a', s, b] = Σ_a L[a', a] A[a, s, b]; then Σ_b x[a', s, b] R[b, b'] = y[a', s, b']
                let a = &self.sites[i];
                let x = contract(&left[i], false, 1, a, false);
                let y = contract(&x, false, 1, &right[i + 1], false); // [a', s, b']
                                                                      // ρ[s, s'] = Σ_{a', b'} y[a', s, b'] conj(A[a', s', b'])
                let (dl, dr) = (a.dims[0], a.dims[2]);
                let mut rho = [[Complex64::new(0.0, 0.0); 2]; 2];
                for (sp, row) in rho.iter_mut().enumerate() {
                    for (spp, entry) in row.iter_mut().enumerate() {
                        let mut acc = Complex64::new(0.0, 0.0);
                        for b in 0..dr {
                            for ap in 0..dl {
                                acc += y.data[ap + dl * (sp + 2 * b)] * a.data[ap + dl * (spp + 2 * b)].conj();
                            }
                        }
                        *entry = acc / norm;
                    }
                }
                rho
            })
            .collect()
    }

    /// The Bloch vectors `r_i = (⟨X_i⟩, ⟨Y_i⟩, ⟨Z_i⟩)` of every site from
    /// [`Mps::one_site_states`]: `⟨X⟩ = 2 Re ρ_↓↑`, `⟨Y⟩ = 2 Im ρ_↓↑`, `⟨Z⟩ = ρ_↑↑ − ρ_↓↓`
    /// (physics.md: `Y|↓⟩ = −i|↑⟩`, `Z = diag(−1, +1)`), `O(N χ³ d)`.
    pub fn bloch_vectors(&self) -> Vec<[f64; 3]> {
        self.one_site_states()
            .into_iter()
            .map(|rho| [2.0 * rho[0][1].re, 2.0 * rho[0][1].im, rho[1][1].re - rho[0][0].re])
            .collect()
    }

    /// Entanglement (von Neumann) entropy `−Σ λ² ln λ²` in nats across the bond `l | l+1`
    /// from the Schmidt values: the state is brought into mixed canonical form on a copy
    /// (QR sweeps, then one SVD), `O(N χ³ d)`.
    ///
    /// # Errors
    /// [`crate::SpinbatError::NotConverged`] if an SVD fails.
    pub fn entropy(&self, l: usize) -> crate::Result<f64> {
        // −Σ p ln p over the normalised Schmidt values' squares (`Mps::schmidt_values`)
        let s = self.schmidt_values(l)?;
        Ok(s.iter().map(|x| x * x).filter(|&p| p > 0.0).map(|p| -p * p.ln()).sum())
    }
}

/// `E'[b', b] = Σ_{a', a, s} conj(A[a', s, b']) E[a', a] A[a, s, b]` (the norm's transfer
/// matrix from the left).
pub(super) fn transfer_left(e: &Tensor, a: &Tensor) -> Tensor {
    let t = contract(e, false, 1, a, false); // [a', s, b]
    let t = t.permute(&[2, 0, 1]); // [b, a', s]
    let t = contract(&t, false, 2, a, true); // [b, b']
    t.permute(&[1, 0])
}

/// `E'[a, a'] = Σ_{b, b', s} A[a, s, b] E[b, b'] conj(A[a', s, b'])` (from the right).
pub(super) fn transfer_right(e: &Tensor, a: &Tensor) -> Tensor {
    let t = contract(a, false, 1, e, false); // [a, s, b']
    let ap = a.permute(&[1, 2, 0]); // [s, b', a']
    contract(&t, false, 2, &ap, true) // [a, a']
}

/// The error of a failed SVD.
pub(crate) fn svd_error(e: faer::linalg::svd::SvdError) -> crate::SpinbatError {
    crate::SpinbatError::NotConverged { what: "SVD of a two-site tensor", reason: format!("{e:?}") }
}

/// `A[a, s, b] = Q[(a, s), k] R[k, b]` with `Q` left-orthonormal.
pub(crate) fn qr_left(a: &Tensor) -> (Tensor, Tensor) {
    let (dl, d, dr) = (a.dims[0], a.dims[1], a.dims[2]);
    let qr = a.as_mat(2).qr();
    let q = qr.compute_thin_Q();
    let r = qr.thin_R().to_owned();
    let k = q.ncols();
    (
        Tensor::from_data(&[dl, d, k], super::tensor::mat_to_vec(q.as_ref())),
        Tensor::from_data(&[k, dr], super::tensor::mat_to_vec(r.as_ref())),
    )
}

/// `A[a, s, b] = L[a, k] Q[k, (s, b)]` with `Q` right-orthonormal (the QR of `Aᵀ`... of `A†`).
pub(crate) fn lq_right(a: &Tensor) -> (Tensor, Tensor) {
    let (dl, d, dr) = (a.dims[0], a.dims[1], a.dims[2]);
    // A = L Q  ⇔  A† = Q† L†: QR of A† (columns (s, b))
    let adj = a.as_mat(1).adjoint().to_owned();
    let qr = adj.qr();
    let q = qr.compute_thin_Q(); // (d dr) × k
    let r = qr.thin_R().to_owned(); // k × dl
    let k = q.ncols();
    let l = r.adjoint().to_owned(); // dl × k
    let qa = q.adjoint().to_owned(); // k × (d dr)
    (
        Tensor::from_data(&[dl, k], super::tensor::mat_to_vec(l.as_ref())),
        Tensor::from_data(&[k, d, dr], super::tensor::mat_to_vec(qa.as_ref())),
    )
}

/// The left boundary environment `L[a', w, a] = δ_{w,0}` (`1 × D × 1`).
pub(crate) fn left_boundary(mpo: &Mpo) -> Tensor {
    let mut e = Tensor::zeros(&[1, mpo.sites[0].dims[0], 1]);
    e.data[0] = Complex64::new(1.0, 0.0);
    e
}

/// The right boundary environment `R[c, v, c'] = δ_{v,D−1}` (`1 × D × 1`).
pub(crate) fn right_boundary(mpo: &Mpo) -> Tensor {
    let d = mpo.sites[mpo.sites.len() - 1].dims[3];
    let mut e = Tensor::zeros(&[1, d, 1]);
    e.data[d - 1] = Complex64::new(1.0, 0.0);
    e
}

/// `L'[b', v, b] = Σ conj(A[a', s', b']) L[a', w, a] W[w, s, s', v] A[a, s, b]`
/// (environments: bra, MPO, ket), `O(χ³ D d + χ² D² d²)`.
pub(crate) fn extend_left(env: &Tensor, a: &Tensor, w: &Tensor) -> Tensor {
    let t = contract(env, false, 1, a, false); // [a', w, s, b]
    let t = t.permute(&[0, 3, 1, 2]); // [a', b, w, s]
    let t = contract(&t, false, 2, w, false); // [a', b, s', v]
    let t = t.permute(&[1, 3, 0, 2]); // [b, v, a', s']
    let t = contract(&t, false, 2, a, true); // [b, v, b']
    t.permute(&[2, 1, 0])
}

/// `R'[b, w, b'] = Σ A[b, t, c] W[w, t, t', v] R[c, v, c'] conj(A[b', t', c'])`
/// (environments: ket, MPO, bra), `O(χ³ D d + χ² D² d²)`.
pub(crate) fn extend_right(env: &Tensor, a: &Tensor, w: &Tensor) -> Tensor {
    let t = contract(a, false, 1, env, false); // [b, t, v, c']
    let t = t.permute(&[0, 3, 1, 2]); // [b, c', t, v]
    let wp = w.permute(&[1, 3, 0, 2]); // [t, v, w, t']
    let t = contract(&t, false, 2, &wp, false); // [b, c', w, t']
    let t = t.permute(&[0, 2, 3, 1]); // [b, w, t', c']
    let ap = a.permute(&[1, 2, 0]); // [t, c, b']
    contract(&t, false, 2, &ap, true) // [b, w, b']
}
