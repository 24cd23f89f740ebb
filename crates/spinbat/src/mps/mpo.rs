//! The battery's Hamiltonians as matrix-product operators (MPOs): the charging
//! Hamiltonian `H = H_g + V`, the storage Hamiltonian `H0 = H_B + H_g` and the rate
//! operator `R = i[H, H0]` whose expectation is `W'(t)`.
//!
//! Every one is a sum of one-site terms and pair terms `Σ_{i<j} g_ij Σ_c κ_c A_c^{(i)} B_c^{(j)}`
//! over a few channels `c` (physics.md):
//!
//! * `H_g = −Σ_{i<j} g_ij [Z_i Z_j + 2α (σ⁺_i σ⁻_j + σ⁻_i σ⁺_j)]` (`XX + YY = 2(σ⁺σ⁻ + σ⁻σ⁺)`);
//! * `H = H_g + ω Σ_i X_i`, `H0 = H_g + B Σ_i Z_i`;
//! * `R = i[H, H0] = 2ωB Σ_i Y_i − 2ω(1 − α) Σ_{i<j} g_ij (Y_i Z_j + Z_i Y_j)` (one field:
//!   `[H_g, H_B] = 0`), so `W' = ⟨R⟩`: `i[ωX, BZ] = 2ωB Y` and
//!   `i[ω(X_i + X_j), −g(Z_iZ_j + α(X_iX_j + Y_iY_j))] = −2ωg(1 − α)(Y_iZ_j + Z_iY_j)`.
//!
//! **The couplings as an MPO, for any `g_ij`.** Across the bond `l | l+1` the pair terms
//! need the block `G_l = [g_ij]_{i ≤ l < j}`. Its thin SVD `G_l ≈ U_l S_l V_lᵀ`, keeping the
//! singular values above `MPO_SVD_CUTOFF · max|g_ij|`, gives `r_l` "open pair" states per
//! channel on that bond, and the MPO of bond dimension `D_l = 2 + (channels) · r_l`
//! (the state "nothing placed yet", the open pairs, "done"):
//!
//! * site `s` opens a pair: `start → (c, k)` with weight `U_s[s, k] A_c`;
//! * an open pair passes site `s`: `(c, k') → (c, k)` with `T_s = U_{s−1}ᵀ U_s[0..s, :]`, times `1`;
//! * site `s` closes it: `(c, k') → done` with `κ_c (U_{s−1}ᵀ g[0..s, s])_{k'} B_c`;
//! * one-site terms `start → done`, identities `start → start`, `done → done`.
//!
//! The pair `(i, j)` then carries `g̃_ij = U_i[i, :] T_{i+1} ⋯ T_{j−1} U_{j−1}ᵀ g[0..j, j]`,
//! which is `g_ij` exactly when nothing is cut (the column space of `G_s[0..s, :]` lies in
//! that of `G_{s−1}`, whose column `g[0..s, s]` it projects without loss): nearest neighbours
//! give `r_l = 1` (bond dimension 5 for XXZ, 3 for Ising), a power law `1/r^p` a rank that
//! grows like `log N` at a fixed cutoff. The represented couplings are computed after the
//! construction and `max_{i<j} |g̃_ij − g_ij|` is reported as the fit error
//! ([`CouplingFactors::fit_error`]). This is the exact finite construction compressed by
//! SVD (rather than a sum-of-exponentials fit of `1/r^p`, which needs translation
//! invariance and an open chain): it serves every coupling pattern and boundary.

use super::tensor::Tensor;
use crate::model::Chain;
use faer::Mat;
use num_complex::Complex64;

/// Relative cutoff on the singular values of the coupling blocks `G_l`: kept where
/// `σ > MPO_SVD_CUTOFF · max|g_ij|`. The resulting fit error is measured, not assumed.
pub const MPO_SVD_CUTOFF: f64 = 1e-13;

/// A 2×2 one-site operator, `op[s'][s] = ⟨s'|O|s⟩`, with `s = 0` down and `s = 1` up
/// (bit set: up, as in [`crate::basis`]).
pub type SiteOp = [[Complex64; 2]; 2];

const fn c(re: f64, im: f64) -> Complex64 {
    Complex64::new(re, im)
}

/// Identity.
pub const ID: SiteOp = [[c(1.0, 0.0), c(0.0, 0.0)], [c(0.0, 0.0), c(1.0, 0.0)]];
/// `X`.
pub const X: SiteOp = [[c(0.0, 0.0), c(1.0, 0.0)], [c(1.0, 0.0), c(0.0, 0.0)]];
/// `Y`: `Y|↓⟩ = −i|↑⟩`, `Y|↑⟩ = i|↓⟩`.
pub const Y: SiteOp = [[c(0.0, 0.0), c(0.0, 1.0)], [c(0.0, -1.0), c(0.0, 0.0)]];
/// `Z = diag(−1, +1)` (down, up).
pub const Z: SiteOp = [[c(-1.0, 0.0), c(0.0, 0.0)], [c(0.0, 0.0), c(1.0, 0.0)]];
/// `σ⁺ = |↑⟩⟨↓|`.
pub const SP: SiteOp = [[c(0.0, 0.0), c(0.0, 0.0)], [c(1.0, 0.0), c(0.0, 0.0)]];
/// `σ⁻ = |↓⟩⟨↑|`.
pub const SM: SiteOp = [[c(0.0, 0.0), c(1.0, 0.0)], [c(0.0, 0.0), c(0.0, 0.0)]];

fn scaled(op: SiteOp, a: f64) -> SiteOp {
    let mut o = op;
    for row in &mut o {
        for z in row {
            *z *= a;
        }
    }
    o
}

/// The SVD factors of the coupling blocks `G_l` ([module docs](self)), shared by every
/// MPO of one chain.
#[derive(Debug, Clone)]
pub struct CouplingFactors {
    n: usize,
    /// `p_s = U_s[s, :]` (length `r_s`; empty for `s = N − 1`).
    open: Vec<Vec<f64>>,
    /// `T_s = U_{s−1}ᵀ U_s[0..s, :]`, `r_{s−1} × r_s`, row-major (`s = 1 … N − 2`; empty otherwise).
    pass: Vec<Vec<f64>>,
    /// `v_s = U_{s−1}ᵀ g[0..s, s]` (length `r_{s−1}`; empty for `s = 0`).
    close: Vec<Vec<f64>>,
    /// `r_l`, `l = 0 … N − 2`, and `r_{N−1} = 0`.
    ranks: Vec<usize>,
    fit_error: f64,
    fit_error_sum: f64,
}

impl CouplingFactors {
    /// Factors of `chain`'s couplings `g_ij`, `O(N⁴)` at worst (one SVD of each block),
    /// then the represented couplings `g̃_ij` in `O(N² r²)` for the fit error.
    ///
    /// # Errors
    /// [`crate::SpinbatError::NotConverged`] if an SVD fails.
    pub fn new(chain: &Chain) -> crate::Result<CouplingFactors> {
        let n = chain.n_sites();
        let g = |i: usize, j: usize| chain.coupling(i, j);
        let gmax = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))).map(|(i, j)| g(i, j).abs()).fold(0.0, f64::max);
        let cutoff = MPO_SVD_CUTOFF * gmax;
        // U_l for each bond: (l + 1) × r_l, column-major
        let mut us: Vec<Mat<f64>> = Vec::with_capacity(n.saturating_sub(1));
        for l in 0..n.saturating_sub(1) {
            let block = Mat::<f64>::from_fn(l + 1, n - l - 1, |i, j| g(i, l + 1 + j));
            if gmax == 0.0 {
                us.push(Mat::<f64>::zeros(l + 1, 0));
                continue;
            }
            let svd = block.thin_svd().map_err(|e| crate::SpinbatError::NotConverged {
                what: "SVD of a coupling block",
                reason: format!("{e:?}"),
            })?;
            let s = svd.S().column_vector();
            let r = (0..s.nrows()).take_while(|&k| s[k] > cutoff).count();
            us.push(svd.U().subcols(0, r).to_owned());
        }
        let mut ranks: Vec<usize> = us.iter().map(|u| u.ncols()).collect();
        ranks.push(0);
        let mut open = vec![Vec::new(); n];
        let mut pass = vec![Vec::new(); n];
        let mut close = vec![Vec::new(); n];
        for s in 0..n {
            if s + 1 < n {
                open[s] = (0..ranks[s]).map(|k| us[s][(s, k)]).collect();
            }
            if s >= 1 {
                let up = &us[s - 1];
                close[s] = (0..ranks[s - 1]).map(|k| (0..s).map(|i| up[(i, k)] * g(i, s)).sum()).collect();
                if s + 1 < n {
                    let (rl, rr) = (ranks[s - 1], ranks[s]);
                    let mut t = vec![0.0; rl * rr];
                    for a in 0..rl {
                        for b in 0..rr {
                            t[a * rr + b] = (0..s).map(|i| up[(i, a)] * us[s][(i, b)]).sum();
                        }
                    }
                    pass[s] = t;
                }
            }
        }
        let mut f = CouplingFactors { n, open, pass, close, ranks, fit_error: 0.0, fit_error_sum: 0.0 };
        let (mut max, mut sum) = (0.0f64, 0.0);
        for i in 0..n {
            f.for_each_represented(i, |j, gt| {
                let e = (gt - g(i, j)).abs();
                max = max.max(e);
                sum += e;
            });
        }
        f.fit_error = max;
        f.fit_error_sum = sum;
        Ok(f)
    }

    /// Calls `visit(j, g̃_ij)` for every `j > i`: the couplings the MPO represents.
    fn for_each_represented(&self, i: usize, mut visit: impl FnMut(usize, f64)) {
        let mut x = self.open[i].clone();
        for j in i + 1..self.n {
            visit(j, x.iter().zip(&self.close[j]).map(|(a, b)| a * b).sum());
            if j + 1 < self.n {
                let (rl, rr) = (self.ranks[j - 1], self.ranks[j]);
                let t = &self.pass[j];
                x = (0..rr).map(|b| (0..rl).map(|a| x[a] * t[a * rr + b]).sum()).collect();
            }
        }
    }

    /// `max_{i<j} |g̃_ij − g_ij|`: how far the MPO's couplings are from the chain's.
    pub fn fit_error(&self) -> f64 {
        self.fit_error
    }

    /// `Σ_{i<j} |g̃_ij − g_ij|`: bounds the operator-norm error of `H_g`,
    /// `‖H̃_g − H_g‖ ≤ (1 + 2|α|) Σ|g̃_ij − g_ij|`.
    pub fn fit_error_sum(&self) -> f64 {
        self.fit_error_sum
    }

    /// `r_l` for the bonds `l = 0 … N − 2`: open pairs per channel.
    pub fn ranks(&self) -> &[usize] {
        &self.ranks[..self.n.saturating_sub(1)]
    }
}

/// One pair channel `κ A_i B_j` of an MPO.
#[derive(Debug, Clone, Copy)]
pub struct PairChannel {
    /// Operator on the left site `i`.
    pub a: SiteOp,
    /// Operator on the right site `j`.
    pub b: SiteOp,
    /// Factor `κ` multiplying `g_ij`.
    pub kappa: f64,
}

/// A matrix-product operator: one tensor `W[w, s, s', v]` a site (left bond `w`, input
/// `s`, output `s'`, right bond `v`; first index fastest). The left boundary selects
/// `w = 0` ("nothing placed") and the right one `v = D − 1` ("done").
#[derive(Debug, Clone)]
pub struct Mpo {
    /// The site tensors.
    pub sites: Vec<Tensor>,
}

impl Mpo {
    /// `O + c·1`: `c` added to the on-site term of site 0 (the channel from the start, index
    /// `0`, to the end, the last index, as [`Mpo::build`] lays them out). `O(d²)`.
    pub fn shifted(&self, c: f64) -> Mpo {
        let mut out = self.clone();
        let w = &mut out.sites[0];
        let dr = w.dims[3];
        for s in 0..2 {
            let k = w.offset(&[0, s, s, dr - 1]);
            w.data[k] += c;
        }
        out
    }

    /// `Σ_s onsite[s] + Σ_{i<j} g̃_ij Σ_c κ_c A_c^{(i)} B_c^{(j)}` from the coupling factors.
    pub fn build(f: &CouplingFactors, channels: &[PairChannel], onsite: &[SiteOp]) -> Mpo {
        let n = f.n;
        let nc = channels.len();
        let dim = |l: Option<usize>| 2 + nc * l.map_or(0, |l| f.ranks[l]);
        let mut sites = Vec::with_capacity(n);
        for (s, here) in onsite.iter().enumerate().take(n) {
            let (rl, rr) = (if s == 0 { 0 } else { f.ranks[s - 1] }, f.ranks[s]);
            let (dl, dr) = (dim(s.checked_sub(1)), dim(Some(s)));
            let mut w = Tensor::zeros(&[dl, 2, 2, dr]);
            let mut put = |wl: usize, wr: usize, op: &SiteOp, a: f64| {
                for (so, row) in op.iter().enumerate() {
                    for (si, z) in row.iter().enumerate() {
                        let k = w.offset(&[wl, si, so, wr]);
                        w.data[k] += z * a;
                    }
                }
            };
            put(0, 0, &ID, 1.0);
            put(dl - 1, dr - 1, &ID, 1.0);
            put(0, dr - 1, here, 1.0);
            for (ci, ch) in channels.iter().enumerate() {
                for k in 0..rr {
                    put(0, 1 + ci * rr + k, &ch.a, f.open[s][k]);
                }
                for kp in 0..rl {
                    put(1 + ci * rl + kp, dr - 1, &ch.b, ch.kappa * f.close[s][kp]);
                    for k in 0..rr {
                        let t = f.pass[s][kp * rr + k];
                        if t != 0.0 {
                            put(1 + ci * rl + kp, 1 + ci * rr + k, &ID, t);
                        }
                    }
                }
            }
            sites.push(w);
        }
        Mpo { sites }
    }

    /// Number of sites.
    pub fn n_sites(&self) -> usize {
        self.sites.len()
    }

    /// Largest bond dimension.
    pub fn max_bond(&self) -> usize {
        self.sites.iter().map(|w| w.dims[3]).max().unwrap_or(0)
    }

    /// The dense `2^N × 2^N` matrix (row-major, `m[x·2^N + y] = ⟨x|O|y⟩`, bit `i` of a
    /// basis index is site `i`): for checks at small `N` only.
    ///
    /// # Panics
    /// For `N > 12` (a programming error: `4^N` entries).
    pub fn to_dense(&self) -> Vec<Complex64> {
        let n = self.n_sites();
        assert!(n <= 12, "Mpo::to_dense is for small chains");
        let dim = 1usize << n;
        let mut m = vec![Complex64::new(0.0, 0.0); dim * dim];
        for x in 0..dim {
            for y in 0..dim {
                // row vector over the bond, from the left boundary
                let mut v = vec![Complex64::new(1.0, 0.0)];
                for (s, w) in self.sites.iter().enumerate() {
                    let (so, si) = ((x >> s) & 1, (y >> s) & 1);
                    let (dl, dr) = (w.dims[0], w.dims[3]);
                    let mut next = vec![Complex64::new(0.0, 0.0); dr];
                    for (a, &va) in v.iter().enumerate().take(dl) {
                        if va == Complex64::new(0.0, 0.0) {
                            continue;
                        }
                        for (b, nb) in next.iter_mut().enumerate() {
                            *nb += va * w.data[w.offset(&[a, si, so, b])];
                        }
                    }
                    v = next;
                }
                m[x * dim + y] = v[v.len() - 1];
            }
        }
        m
    }
}

/// The three MPOs of one chain (charging `H`, storage `H0`, rate `R = i[H, H0]`) and
/// the fit of its couplings.
#[derive(Debug, Clone)]
pub struct BatteryMpos {
    /// `H = H_g + ω Σ X_i`.
    pub h: Mpo,
    /// `H0 = H_g + B Σ Z_i`.
    pub h0: Mpo,
    /// `R = i[H, H0]`, `W' = ⟨R⟩`.
    pub rate: Mpo,
    /// The SVD factors of the couplings.
    pub factors: CouplingFactors,
}

impl BatteryMpos {
    /// The MPOs of `chain` (one field `B` on every site: `R` uses `[H_g, H_B] = 0`).
    ///
    /// # Errors
    /// [`crate::SpinbatError::Unsupported`] for per-site fields; those of
    /// [`CouplingFactors::new`].
    pub fn new(chain: &Chain) -> crate::Result<BatteryMpos> {
        if chain.has_site_fields() {
            return Err(crate::SpinbatError::Unsupported {
                solver: "mps",
                reason: "per-site fields are not implemented in the MPOs (the rate uses [H_g, H_B] = 0)".to_string(),
            });
        }
        if !chain.has_paper_charging() {
            return Err(crate::SpinbatError::Unsupported {
                solver: "mps",
                reason: format!(
                    "its MPOs implement the paper's charging H = H_g + omega sum_i X_i with XXZ couplings, not {}",
                    chain.charging_extensions()
                ),
            });
        }
        let factors = CouplingFactors::new(chain)?;
        let n = chain.n_sites();
        let (alpha, omega, b) = (chain.alpha(), chain.omega(), chain.b());
        let mut hg = vec![PairChannel { a: Z, b: Z, kappa: -1.0 }];
        if alpha != 0.0 {
            hg.push(PairChannel { a: SP, b: SM, kappa: -2.0 * alpha });
            hg.push(PairChannel { a: SM, b: SP, kappa: -2.0 * alpha });
        }
        let h = Mpo::build(&factors, &hg, &vec![scaled(X, omega); n]);
        let h0 = Mpo::build(&factors, &hg, &vec![scaled(Z, b); n]);
        let k = -2.0 * omega * (1.0 - alpha);
        let rate_pairs: Vec<PairChannel> = if k != 0.0 {
            vec![PairChannel { a: Y, b: Z, kappa: k }, PairChannel { a: Z, b: Y, kappa: k }]
        } else {
            Vec::new()
        };
        let rate = Mpo::build(&factors, &rate_pairs, &vec![scaled(Y, 2.0 * omega * b); n]);
        Ok(BatteryMpos { h, h0, rate, factors })
    }
}
