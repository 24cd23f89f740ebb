//! The classical spin model of paper Sec. IV: one unit Bloch vector `S_m = (x_m, y_m, z_m)`
//! per site, all starting at `(0, 0, −1)` (spin down). Units `ħ = 1`, energies in units of
//! `B`, times in units of `1/B`.
//!
//! * charging energy `H_C = −Σ_{i<j} g_ij [z_i z_j + α_x x_i x_j + α_y y_i y_j] + ω Σ_i w_i x_i`
//!   (`+ Σ_i B_i z_i` with the field kept on), `α_x = α(1+γ)`, `α_y = α(1−γ)` (XYZ;
//!   `α_x = α_y = α` for the paper's XXZ chain), `w_i` the per-site weights of `ω` (1)
//! * storage energy `E0(S) = B Σ_i z_i − Σ_{i<j} g_ij [z_i z_j + α_x x_i x_j + α_y y_i y_j]`
//! * equations of motion `dS_m/dt = 2 (∂H_C/∂S_m) × S_m`, with
//!   `∂H_C/∂S_m = (ω w_m − α_x M_m^x, −α_y M_m^y, −M_m^z [+ B_m])` and the mean field
//!   `M_m = Σ_j g_mj S_j`
//! * work `W_C = E0(S(t)) − E0(S(0))` and its rate
//!   `W_C' = Σ_m ∇_{S_m}E0 · dS_m/dt`, `∇_{S_m}E0 = (−α_x M_m^x, −α_y M_m^y, B_m − M_m^z)`.
//!
//! `|S_m|` and `H_C` are conserved by the exact flow (the right-hand side is a rotation of
//! each `S_m` about `2 ∂H_C/∂S_m`).
//!
//! **Cost.** Everything here is one evaluation of the mean field `M = G S` plus `O(N)`: the
//! pair sums are `Σ_{i<j} g_ij u_i v_j = ½ Σ_i u_i (G v)_i` (`G` symmetric, zero diagonal).
//! The mean field is evaluated in one of two ways ([`ProductKind`]):
//! * **dense**: the `N × N` matrix `g_ij` is stored and multiplied, `O(N²)` time and `8N²`
//!   bytes; any couplings (required for an explicit matrix);
//! * **FFT**: for couplings that depend only on `|i − j|` (nearest neighbour and power law,
//!   open or periodic boundary, [`Chain::toeplitz_kernel`]) `G` is a symmetric Toeplitz
//!   matrix and `M` is computed by [`ToeplitzProduct`] in `O(N log N)` time and `O(N)`
//!   memory (`≈ 180 N` bytes); nothing `O(N²)` is ever formed, the constructor included.
//!
//! For `α = 0` (Ising) only `M^z` is needed and only it is computed (`M^x = M^y = 0` in the
//! work array; they enter multiplied by `α`). Work arrays are kept in the model (behind a
//! mutex, so every method takes `&self`): no evaluation allocates.
//!
//! **Rounding.** [`BlochModel::mean_field_rounding`] estimates `‖δM‖₂` (over all `3N`
//! components, unit Bloch vectors): for the FFT `ρ √N` with the rounding coefficient
//! `ρ = 2 ε log₂ L (‖c‖₁ + ‖c‖₂)` of [`ToeplitzProduct::rounding`] (`L ≈ 2N` the FFT length,
//! `‖c‖₁ ≈ 2 max_m Σ_j g_mj`), checked against exact sums in its unit tests; for the dense
//! sum the random-walk estimate `ε √(3N) ‖R‖₂`, `R_m = Σ_j |g_mj|` (worst case `√N` times
//! more). The mean-field integrator turns it into an error on `W`
//! ([`super::MeanField`]).
//!
//! States are flat slices `[x_0, y_0, z_0, x_1, …]` of length `3N`, as the integrator
//! ([`crate::numeric::dop853::Dop853`]) wants them.

use crate::error::{invalid, Result};
use crate::model::Chain;
use crate::numeric::toeplitz::{ToeplitzProduct, ToeplitzWorkspace};
use rayon::prelude::*;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Smallest `N` for which [`ProductKind::Auto`] takes the FFT (below it the dense product
/// is as fast or faster: measured crossover `N ≈ 16–20`).
pub const FFT_MIN_SITES: usize = 24;

/// Sites per rayon task of the right-hand side (larger chains are split).
const PAR_SITES: usize = 1 << 13;

/// How the mean field `M_m = Σ_j g_mj S_j` is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProductKind {
    /// FFT when the couplings depend only on `|i − j|` and `N ≥ FFT_MIN_SITES`, dense
    /// otherwise.
    #[default]
    Auto,
    /// Dense `N × N` coupling matrix: `O(N²)` time and memory, any couplings.
    Dense,
    /// Toeplitz product by FFT: `O(N log N)` time, `O(N)` memory; couplings that depend
    /// only on `|i − j|`.
    Fft,
}

/// The mean-field product in use.
#[derive(Debug, Clone)]
enum Product {
    /// `g_ij`, row-major `N × N`, zero diagonal
    Dense(Vec<f64>),
    Fft(ToeplitzProduct),
}

/// Work arrays of one evaluation.
struct Work {
    /// mean field `M_m` (only `z` when `α = 0`)
    mf: Vec<[f64; 3]>,
    fft: Option<ToeplitzWorkspace>,
}

/// The classical Bloch-vector model of a chain: parameters and the mean-field product
/// (dense coupling matrix or Toeplitz FFT, see the module docs).
pub struct BlochModel {
    n: usize,
    b: f64,
    /// per-site fields `B_m` (`None`: every site `B`)
    fields: Option<Vec<f64>>,
    alpha: f64,
    /// `α_x = α(1+γ)`, `α_y = α(1−γ)` (both `α` for XXZ)
    alpha_x: f64,
    alpha_y: f64,
    omega: f64,
    /// per-site weights `w_m` of `ω` (`None`: all 1)
    weights: Option<Vec<f64>>,
    /// `H_C` holds `Σ_m B_m z_m` (the storage field kept on while charging)
    keep_field: bool,
    product: Product,
    /// `|B_m| + max(1, |α_x|, |α_y|) Σ_j |g_mj| ≥ |∇_{S_m} E0|`
    grad_bounds: Vec<f64>,
    /// estimate of `‖δM‖₂` for unit Bloch vectors
    mf_rounding: f64,
    work: Mutex<Work>,
}

impl fmt::Debug for BlochModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlochModel")
            .field("n", &self.n)
            .field("b", &self.b)
            .field("alpha", &self.alpha)
            .field("omega", &self.omega)
            .field("product", &self.product_kind())
            .finish_non_exhaustive()
    }
}

impl Clone for BlochModel {
    fn clone(&self) -> Self {
        BlochModel {
            n: self.n,
            b: self.b,
            fields: self.fields.clone(),
            alpha: self.alpha,
            alpha_x: self.alpha_x,
            alpha_y: self.alpha_y,
            omega: self.omega,
            weights: self.weights.clone(),
            keep_field: self.keep_field,
            product: self.product.clone(),
            grad_bounds: self.grad_bounds.clone(),
            mf_rounding: self.mf_rounding,
            work: Mutex::new(Work::for_product(self.n, &self.product)),
        }
    }
}

impl Work {
    fn for_product(n: usize, product: &Product) -> Self {
        Work {
            mf: vec![[0.0; 3]; n],
            fft: match product {
                Product::Dense(_) => None,
                Product::Fft(t) => Some(t.workspace(3)),
            },
        }
    }
}

impl BlochModel {
    /// The model of `chain` with the product chosen by [`ProductKind::Auto`]: the FFT for
    /// couplings that depend only on `|i − j|` from `N = FFT_MIN_SITES` on (`O(N)` memory),
    /// otherwise the dense coupling matrix (`8N²` bytes).
    pub fn new(chain: &Chain) -> Self {
        let kernel = if chain.n_sites() >= FFT_MIN_SITES { chain.toeplitz_kernel() } else { None };
        Self::build(chain, kernel)
    }

    /// The model of `chain` with the dense coupling matrix (`O(N²)` time and memory), for
    /// any couplings: the reference the FFT path is tested against.
    pub fn new_dense(chain: &Chain) -> Self {
        Self::build(chain, None)
    }

    /// The model of `chain` with the mean-field product `kind`.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] for [`ProductKind::Fft`] on couplings that
    /// are not a function of `|i − j|` (an explicit matrix).
    pub fn with_product(chain: &Chain, kind: ProductKind) -> Result<Self> {
        Ok(match kind {
            ProductKind::Auto => Self::new(chain),
            ProductKind::Dense => Self::new_dense(chain),
            ProductKind::Fft => {
                let kernel = chain.toeplitz_kernel().ok_or_else(|| {
                    invalid("product", "fft", "the FFT mean field needs couplings that depend only on |i - j|")
                })?;
                Self::build(chain, Some(kernel))
            }
        })
    }

    /// Dense product when `kernel` is `None`, Toeplitz FFT otherwise.
    fn build(chain: &Chain, kernel: Option<Vec<f64>>) -> Self {
        let n = chain.n_sites();
        let eps = f64::EPSILON;
        let (product, row_sums, mf_rounding) = match kernel {
            Some(f) => {
                // row m of |T| sums the distances 1..m and 1..N−1−m
                let mut prefix = vec![0.0; n];
                for d in 1..n {
                    prefix[d] = prefix[d - 1] + f[d].abs();
                }
                let rows: Vec<f64> = (0..n).map(|m| prefix[m] + prefix[n - 1 - m]).collect();
                let t = ToeplitzProduct::new(&f);
                let rounding = t.rounding() * (n as f64).sqrt();
                (Product::Fft(t), rows, rounding)
            }
            None => {
                let mut g = vec![0.0; n * n];
                for i in 0..n {
                    for j in 0..n {
                        if i != j {
                            g[i * n + j] = chain.coupling(i, j);
                        }
                    }
                }
                let rows: Vec<f64> = g.chunks_exact(n.max(1)).map(|r| r.iter().map(|v| v.abs()).sum()).collect();
                let r2 = rows.iter().map(|r| r * r).sum::<f64>().sqrt();
                (Product::Dense(g), rows, eps * (3.0 * n as f64).sqrt() * r2)
            }
        };
        let (alpha_x, alpha_y) = if chain.gamma() == 0.0 {
            (chain.alpha(), chain.alpha())
        } else {
            (chain.alpha() * (1.0 + chain.gamma()), chain.alpha() * (1.0 - chain.gamma()))
        };
        let a = alpha_x.abs().max(alpha_y.abs()).max(1.0);
        let grad_bounds = row_sums.iter().enumerate().map(|(m, r)| chain.field(m).abs() + a * r).collect();
        let work = Mutex::new(Work::for_product(n, &product));
        BlochModel {
            n,
            b: chain.b(),
            fields: chain.site_fields().map(<[f64]>::to_vec),
            alpha: chain.alpha(),
            alpha_x,
            alpha_y,
            omega: chain.omega(),
            weights: chain.has_omega_sites().then(|| (0..n).map(|i| chain.omega_weight(i)).collect()),
            keep_field: chain.keep_field(),
            product,
            grad_bounds,
            mf_rounding,
            work,
        }
    }

    /// Number of sites `N` (the state has `3N` components).
    pub fn n_sites(&self) -> usize {
        self.n
    }

    /// The product in use: [`ProductKind::Dense`] or [`ProductKind::Fft`].
    pub fn product_kind(&self) -> ProductKind {
        match self.product {
            Product::Dense(_) => ProductKind::Dense,
            Product::Fft(_) => ProductKind::Fft,
        }
    }

    /// The initial state: every spin down, `S_m = (0, 0, −1)`.
    pub fn initial_state(&self) -> Vec<[f64; 3]> {
        vec![[0.0, 0.0, -1.0]; self.n]
    }

    fn lock(&self) -> MutexGuard<'_, Work> {
        self.work.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Mean field `M_m = Σ_j g_mj S_j` of every site into `w.mf` (only `z` when `α = 0`).
    fn fill_mean_field(&self, s: &[f64], w: &mut Work) {
        assert_eq!(s.len(), 3 * self.n, "the state has 3N components");
        let xy = self.alpha != 0.0;
        match &self.product {
            Product::Dense(g) => {
                for (row, mf) in g.chunks_exact(self.n).zip(w.mf.iter_mut()) {
                    let mut acc = [0.0; 3];
                    if xy {
                        for (gj, sj) in row.iter().zip(s.chunks_exact(3)) {
                            acc[0] += gj * sj[0];
                            acc[1] += gj * sj[1];
                            acc[2] += gj * sj[2];
                        }
                    } else {
                        for (gj, sj) in row.iter().zip(s.chunks_exact(3)) {
                            acc[2] += gj * sj[2];
                        }
                    }
                    *mf = acc;
                }
            }
            Product::Fft(t) => {
                let comps: &[usize] = if xy { &[0, 1, 2] } else { &[2] };
                let ws = w.fft.get_or_insert_with(|| t.workspace(3));
                t.apply(s, 3, comps, w.mf.as_flattened_mut(), ws);
            }
        }
    }

    /// The mean field `M_m = Σ_j g_mj S_j` of every site for the state `s` (allocates; the
    /// evaluations below do not). For `α = 0` only `M^z` is computed, `M^x = M^y = 0`.
    pub fn mean_field(&self, s: &[f64]) -> Vec<[f64; 3]> {
        let mut w = self.lock();
        self.fill_mean_field(s, &mut w);
        w.mf.clone()
    }

    /// `dS/dt` for the state `s` (length `3N`), written into `ds`.
    pub fn rhs(&self, s: &[f64], ds: &mut [f64]) {
        let mut w = self.lock();
        self.fill_mean_field(s, &mut w);
        let sites = |first: usize, ds: &mut [f64], s: &[f64], mf: &[[f64; 3]]| {
            for (k, ((d, sm), mf)) in ds.chunks_exact_mut(3).zip(s.chunks_exact(3)).zip(mf).enumerate() {
                d.copy_from_slice(&cross2(self.field(first + k, *mf), [sm[0], sm[1], sm[2]]));
            }
        };
        if self.n > PAR_SITES {
            ds.par_chunks_mut(3 * PAR_SITES)
                .zip(s.par_chunks(3 * PAR_SITES).zip(w.mf.par_chunks(PAR_SITES)))
                .enumerate()
                .for_each(|(c, (ds, (s, mf)))| sites(c * PAR_SITES, ds, s, mf));
        } else {
            sites(0, ds, s, &w.mf);
        }
    }

    /// `∂H_C/∂S_m = (ω w_m − α_x M^x, −α_y M^y, −M^z [+ B_m])` from the mean field on site
    /// `m` (module docs).
    #[inline]
    fn field(&self, m: usize, mf: [f64; 3]) -> [f64; 3] {
        let w = self.weights.as_ref().map_or(1.0, |w| w[m]);
        let z = if self.keep_field { self.field_of(m) - mf[2] } else { -mf[2] };
        [self.omega * w - self.alpha_x * mf[0], -self.alpha_y * mf[1], z]
    }

    /// Coupling energy `−Σ_{i<j} g_ij [z_i z_j + α_x x_i x_j + α_y y_i y_j]` and `Σ_i S_i`.
    fn coupling_energy(&self, s: &[f64]) -> (f64, [f64; 3]) {
        let mut w = self.lock();
        self.fill_mean_field(s, &mut w);
        let mut e = 0.0;
        let mut total = [0.0; 3];
        for (sm, mf) in s.chunks_exact(3).zip(&w.mf) {
            e += sm[2] * mf[2] + self.alpha_x * sm[0] * mf[0] + self.alpha_y * sm[1] * mf[1];
            for k in 0..3 {
                total[k] += sm[k];
            }
        }
        (-0.5 * e, total)
    }

    /// Storage energy `E0(S) = Σ_i B_i z_i − Σ_{i<j} g_ij [z_i z_j + α_x x_i x_j + α_y y_i y_j]`
    /// (`B_i = B` for a clean chain).
    pub fn storage_energy(&self, s: &[f64]) -> f64 {
        let (e, total) = self.coupling_energy(s);
        match &self.fields {
            None => self.b * total[2] + e,
            Some(f) => f.iter().zip(s.chunks_exact(3)).map(|(b, sm)| b * sm[2]).sum::<f64>() + e,
        }
    }

    /// The field `B_m` of site `m`.
    #[inline]
    fn field_of(&self, m: usize) -> f64 {
        self.fields.as_ref().map_or(self.b, |f| f[m])
    }

    /// Charging energy `H_C = −Σ_{i<j} g_ij [z_i z_j + α_x x_i x_j + α_y y_i y_j] + ω Σ w_i x_i`
    /// (`+ Σ_i B_i z_i` with the field kept on), a constant of the motion.
    pub fn charging_energy(&self, s: &[f64]) -> f64 {
        let (e, total) = self.coupling_energy(s);
        let v = match &self.weights {
            None => self.omega * total[0],
            Some(w) => self.omega * w.iter().zip(s.chunks_exact(3)).map(|(w, sm)| w * sm[0]).sum::<f64>(),
        };
        let field = if self.keep_field { self.storage_energy(s) - e } else { 0.0 };
        v + e + field
    }

    /// Exact rate of the work, `W_C' = Σ_m ∇_{S_m}E0 · dS_m/dt`, from the state alone.
    pub fn work_rate(&self, s: &[f64]) -> f64 {
        let mut w = self.lock();
        self.fill_mean_field(s, &mut w);
        let mut rate = 0.0;
        for (m, (sm, mf)) in s.chunks_exact(3).zip(&w.mf).enumerate() {
            let v = cross2(self.field(m, *mf), [sm[0], sm[1], sm[2]]);
            let grad = [-self.alpha_x * mf[0], -self.alpha_y * mf[1], self.field_of(m) - mf[2]];
            rate += grad[0] * v[0] + grad[1] * v[1] + grad[2] * v[2];
        }
        rate
    }

    /// `√(Σ_m b_m²)` with `b_m = |B_m| + max(1, |α_x|, |α_y|) Σ_j g_mj ≥ |∇_{S_m}E0|`: a state error
    /// `δ` (Euclidean norm over all `3N` components) moves `E0`, hence `W`, by at most
    /// about this times `‖δ‖` (to first order).
    pub fn gradient_bound(&self) -> f64 {
        self.grad_bounds.iter().map(|b| b * b).sum::<f64>().sqrt()
    }

    /// `Σ_m b_m ≥ |E0(S)|` for unit vectors: the scale of the rounding error of `W`.
    pub fn energy_scale(&self) -> f64 {
        self.grad_bounds.iter().sum()
    }

    /// Estimate of the rounding error `‖δM‖₂` of one mean-field evaluation (all `3N`
    /// components, unit Bloch vectors); see the module docs.
    pub fn mean_field_rounding(&self) -> f64 {
        self.mf_rounding
    }

    /// Estimate of the rounding error `‖δ(dS/dt)‖₂` of one right-hand-side evaluation:
    /// `δ(dS_m/dt) = 2 δ(∂H_C/∂S_m) × S_m` with `|δ(∂H_C/∂S_m)| ≤ max(1, |α_x|, |α_y|) |δM_m|`.
    pub fn rhs_rounding(&self) -> f64 {
        2.0 * self.coupling_scale() * self.mf_rounding
    }

    /// `max(1, |α_x|, |α_y|)`: how much a rounding of the mean field moves the energies.
    fn coupling_scale(&self) -> f64 {
        self.alpha_x.abs().max(self.alpha_y.abs()).max(1.0)
    }

    /// Estimate of the rounding error of [`BlochModel::storage_energy`] from the mean field:
    /// `½ max(1, |α_x|, |α_y|) ‖S‖₂ ‖δM‖₂` with `‖S‖₂ = √N` (the plain sums add `~ε Σ_m b_m`).
    pub fn energy_rounding(&self) -> f64 {
        0.5 * self.coupling_scale() * (self.n as f64).sqrt() * self.mf_rounding
    }

    /// Bytes the model holds for `chain` with the product `Auto` would choose (estimate):
    /// dense `8N² + 40N`, FFT [`ToeplitzProduct::bytes`] for a batch of 3 plus `40N`
    /// (mean-field array and gradient bounds).
    pub fn bytes_needed(chain: &Chain) -> f64 {
        let n = chain.n_sites();
        let per_site = 40.0 * n as f64;
        let fft = n >= FFT_MIN_SITES && !matches!(chain.couplings(), crate::model::Couplings::Matrix { .. });
        if fft {
            ToeplitzProduct::bytes(n, 3) + per_site
        } else {
            8.0 * (n as f64) * (n as f64) + per_site
        }
    }
}

/// `2 h × s`.
#[inline]
fn cross2(h: [f64; 3], s: [f64; 3]) -> [f64; 3] {
    [2.0 * (h[1] * s[2] - h[2] * s[1]), 2.0 * (h[2] * s[0] - h[0] * s[2]), 2.0 * (h[0] * s[1] - h[1] * s[0])]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Couplings;

    fn random_state(n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let mut s = Vec::with_capacity(3 * n);
        for _ in 0..n {
            let v = [next(), next(), next()];
            let r = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            s.extend(v.iter().map(|c| c / r));
        }
        s
    }

    fn chain() -> Chain {
        Chain::builder(5).couplings(Couplings::PowerLaw { p: 1.3 }).alpha(0.4).g(0.8).omega(2.5).b(1.3).build().unwrap()
    }

    /// Both products of the model of `c`.
    fn models(c: &Chain) -> [BlochModel; 2] {
        [BlochModel::new_dense(c), BlochModel::with_product(c, ProductKind::Fft).unwrap()]
    }

    #[test]
    fn energies_match_pair_sums() {
        let c = chain();
        for model in models(&c) {
            energies_match_pair_sums_for(&c, &model);
        }
    }

    fn energies_match_pair_sums_for(c: &Chain, model: &BlochModel) {
        let s = random_state(5, 7);
        let mut pair = 0.0;
        for (i, j, g) in c.pairs() {
            let (a, b) = (&s[3 * i..3 * i + 3], &s[3 * j..3 * j + 3]);
            pair -= g * (a[2] * b[2] + c.alpha() * (a[0] * b[0] + a[1] * b[1]));
        }
        let zs: f64 = (0..5).map(|m| s[3 * m + 2]).sum();
        let xs: f64 = (0..5).map(|m| s[3 * m]).sum();
        assert!((model.storage_energy(&s) - (c.b() * zs + pair)).abs() < 1e-13);
        assert!((model.charging_energy(&s) - (c.omega() * xs + pair)).abs() < 1e-13);
        let down = model.initial_state();
        assert!((model.storage_energy(down.as_flattened()) - c.initial_energy()).abs() < 1e-13);
    }

    #[test]
    fn rhs_is_the_spin_bracket_and_rate_its_directional_derivative() {
        // dS_m/dt = 2 ∇_m H_C × S_m, with ∇ H_C by central differences; and
        // W' = d/dε E0(S + ε Ṡ) at ε = 0
        let c = chain();
        for model in models(&c) {
            bracket_and_rate_for(&model);
        }
    }

    fn bracket_and_rate_for(model: &BlochModel) {
        let s = random_state(5, 11);
        let mut ds = vec![0.0; 15];
        model.rhs(&s, &mut ds);
        let eps = 1e-6;
        for m in 0..5 {
            let mut grad = [0.0; 3];
            for (k, gk) in grad.iter_mut().enumerate() {
                let (mut p, mut q) = (s.clone(), s.clone());
                p[3 * m + k] += eps;
                q[3 * m + k] -= eps;
                *gk = (model.charging_energy(&p) - model.charging_energy(&q)) / (2.0 * eps);
            }
            let expect = cross2(grad, [s[3 * m], s[3 * m + 1], s[3 * m + 2]]);
            for k in 0..3 {
                assert!((ds[3 * m + k] - expect[k]).abs() < 1e-8, "site {m} component {k}");
            }
            // rotation: dS_m/dt ⟂ S_m
            let dot: f64 = (0..3).map(|k| ds[3 * m + k] * s[3 * m + k]).sum();
            assert!(dot.abs() < 1e-13);
        }
        let shifted = |e: f64| -> Vec<f64> { s.iter().zip(&ds).map(|(a, b)| a + e * b).collect() };
        let fd = (model.storage_energy(&shifted(eps)) - model.storage_energy(&shifted(-eps))) / (2.0 * eps);
        assert!((model.work_rate(&s) - fd).abs() < 1e-7, "{} vs {fd}", model.work_rate(&s));
        // H_C is constant along the flow: dH_C/dt = Σ ∇H_C · Ṡ = 0
        let fd_h = (model.charging_energy(&shifted(eps)) - model.charging_energy(&shifted(-eps))) / (2.0 * eps);
        assert!(fd_h.abs() < 1e-7);
    }

    #[test]
    fn auto_takes_the_fft_for_toeplitz_chains_only() {
        let c = Chain::builder(FFT_MIN_SITES).build().unwrap();
        assert_eq!(BlochModel::new(&c).product_kind(), ProductKind::Fft);
        let small = Chain::builder(FFT_MIN_SITES - 1).build().unwrap();
        assert_eq!(BlochModel::new(&small).product_kind(), ProductKind::Dense);
        let n = FFT_MIN_SITES + 1;
        let m: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| if i == j { 0.0 } else { 1.0 }).collect()).collect();
        let matrix = Chain::builder(n).couplings(Couplings::Matrix { m }).build().unwrap();
        assert_eq!(BlochModel::new(&matrix).product_kind(), ProductKind::Dense);
        assert!(BlochModel::with_product(&matrix, ProductKind::Fft).is_err());
        assert_eq!(BlochModel::with_product(&c, ProductKind::Dense).unwrap().product_kind(), ProductKind::Dense);
    }

    #[test]
    fn ising_skips_the_transverse_mean_field_without_changing_anything() {
        // α = 0: M^x, M^y are not computed; the energies and rhs agree with α = 1e-300
        // (where they are computed but contribute nothing)
        for kind in [ProductKind::Dense, ProductKind::Fft] {
            let c0 = chain().with_alpha(0.0).unwrap();
            let c1 = chain().with_alpha(1e-300).unwrap();
            let (m0, m1) = (BlochModel::with_product(&c0, kind).unwrap(), BlochModel::with_product(&c1, kind).unwrap());
            let s = random_state(5, 13);
            let (mut d0, mut d1) = (vec![0.0; 15], vec![0.0; 15]);
            m0.rhs(&s, &mut d0);
            m1.rhs(&s, &mut d1);
            for (a, b) in d0.iter().zip(&d1) {
                assert!((a - b).abs() < 1e-14);
            }
            assert!((m0.storage_energy(&s) - m1.storage_energy(&s)).abs() < 1e-14);
            assert!((m0.work_rate(&s) - m1.work_rate(&s)).abs() < 1e-13);
            let mf = m0.mean_field(&s);
            assert!(mf.iter().all(|v| v[0] == 0.0 && v[1] == 0.0));
            assert!(m1.mean_field(&s).iter().any(|v| v[0] != 0.0));
        }
    }
}
