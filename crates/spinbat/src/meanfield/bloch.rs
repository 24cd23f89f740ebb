//! The classical spin model of paper Sec. IV: one unit Bloch vector `S_m = (x_m, y_m, z_m)`
//! per site, all starting at `(0, 0, −1)` (spin down). Units `ħ = 1`, energies in units of
//! `B`, times in units of `1/B`.
//!
//! * charging energy `H_C = −Σ_{i<j} g_ij [z_i z_j + α (x_i x_j + y_i y_j)] + ω Σ_i x_i`
//! * storage energy `E0(S) = B Σ_i z_i − Σ_{i<j} g_ij [z_i z_j + α (x_i x_j + y_i y_j)]`
//! * equations of motion `dS_m/dt = 2 (∂H_C/∂S_m) × S_m`, with
//!   `∂H_C/∂S_m = (ω − α M_m^x, −α M_m^y, −M_m^z)` and the mean field
//!   `M_m = Σ_j g_mj S_j`
//! * work `W_C = E0(S(t)) − E0(S(0))` and its rate
//!   `W_C' = Σ_m ∇_{S_m}E0 · dS_m/dt`, `∇_{S_m}E0 = (−α M_m^x, −α M_m^y, B − M_m^z)`.
//!
//! `|S_m|` and `H_C` are conserved by the exact flow (the right-hand side is a rotation of
//! each `S_m` about `2 ∂H_C/∂S_m`). Every function here costs `O(N²)` (dense `g_ij`).
//!
//! States are flat slices `[x_0, y_0, z_0, x_1, …]` of length `3N`, as the integrator
//! ([`super::dop853::Dop853`]) wants them.

use crate::model::Chain;

/// The classical Bloch-vector model of a chain: parameters and the dense coupling matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct BlochModel {
    n: usize,
    b: f64,
    alpha: f64,
    omega: f64,
    /// `g_ij`, row-major `N × N`, zero diagonal
    g: Vec<f64>,
    /// `|B| + max(1, |α|) Σ_j g_mj ≥ |∇_{S_m} E0|` for unit vectors
    grad_bounds: Vec<f64>,
}

impl BlochModel {
    /// The model of `chain` (copies its coupling matrix, `8N²` bytes).
    pub fn new(chain: &Chain) -> Self {
        let n = chain.n_sites();
        let mut g = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    g[i * n + j] = chain.coupling(i, j);
                }
            }
        }
        let a = chain.alpha().abs().max(1.0);
        let grad_bounds =
            (0..n).map(|m| chain.b().abs() + a * g[m * n..(m + 1) * n].iter().map(|v| v.abs()).sum::<f64>()).collect();
        BlochModel { n, b: chain.b(), alpha: chain.alpha(), omega: chain.omega(), g, grad_bounds }
    }

    /// Number of sites `N` (the state has `3N` components).
    pub fn n_sites(&self) -> usize {
        self.n
    }

    /// The initial state: every spin down, `S_m = (0, 0, −1)`.
    pub fn initial_state(&self) -> Vec<[f64; 3]> {
        vec![[0.0, 0.0, -1.0]; self.n]
    }

    /// Mean field `M_m = Σ_j g_mj S_j` on site `m`.
    #[inline]
    fn mean_field(&self, s: &[f64], m: usize) -> [f64; 3] {
        let row = &self.g[m * self.n..(m + 1) * self.n];
        let mut acc = [0.0; 3];
        for (gj, sj) in row.iter().zip(s.chunks_exact(3)) {
            acc[0] += gj * sj[0];
            acc[1] += gj * sj[1];
            acc[2] += gj * sj[2];
        }
        acc
    }

    /// `dS/dt` for the state `s` (length `3N`), written into `ds`.
    pub fn rhs(&self, s: &[f64], ds: &mut [f64]) {
        for m in 0..self.n {
            let mf = self.mean_field(s, m);
            let h = self.field(mf);
            let v = cross2(h, [s[3 * m], s[3 * m + 1], s[3 * m + 2]]);
            ds[3 * m..3 * m + 3].copy_from_slice(&v);
        }
    }

    /// `∂H_C/∂S_m` from the mean field on site `m`.
    #[inline]
    fn field(&self, mf: [f64; 3]) -> [f64; 3] {
        [self.omega - self.alpha * mf[0], -self.alpha * mf[1], -mf[2]]
    }

    /// Coupling energy `−Σ_{i<j} g_ij [z_i z_j + α (x_i x_j + y_i y_j)]`.
    fn coupling_energy(&self, s: &[f64]) -> f64 {
        let mut e = 0.0;
        for m in 0..self.n {
            let mf = self.mean_field(s, m);
            e += s[3 * m + 2] * mf[2] + self.alpha * (s[3 * m] * mf[0] + s[3 * m + 1] * mf[1]);
        }
        -0.5 * e
    }

    /// Storage energy `E0(S) = B Σ z_i − Σ_{i<j} g_ij [z_i z_j + α (x_i x_j + y_i y_j)]`.
    pub fn storage_energy(&self, s: &[f64]) -> f64 {
        let field: f64 = s.chunks_exact(3).map(|v| v[2]).sum();
        self.b * field + self.coupling_energy(s)
    }

    /// Charging energy `H_C = −Σ_{i<j} g_ij [z_i z_j + α (x_i x_j + y_i y_j)] + ω Σ x_i`,
    /// a constant of the motion.
    pub fn charging_energy(&self, s: &[f64]) -> f64 {
        let field: f64 = s.chunks_exact(3).map(|v| v[0]).sum();
        self.omega * field + self.coupling_energy(s)
    }

    /// Exact rate of the work, `W_C' = Σ_m ∇_{S_m}E0 · dS_m/dt`, from the state alone.
    pub fn work_rate(&self, s: &[f64]) -> f64 {
        let mut rate = 0.0;
        for m in 0..self.n {
            let mf = self.mean_field(s, m);
            let v = cross2(self.field(mf), [s[3 * m], s[3 * m + 1], s[3 * m + 2]]);
            let grad = [-self.alpha * mf[0], -self.alpha * mf[1], self.b - mf[2]];
            rate += grad[0] * v[0] + grad[1] * v[1] + grad[2] * v[2];
        }
        rate
    }

    /// `√(Σ_m b_m²)` with `b_m = |B| + max(1, |α|) Σ_j g_mj ≥ |∇_{S_m}E0|`: a state error
    /// `δ` (Euclidean norm over all `3N` components) moves `E0`, hence `W`, by at most
    /// about this times `‖δ‖` (to first order).
    pub fn gradient_bound(&self) -> f64 {
        self.grad_bounds.iter().map(|b| b * b).sum::<f64>().sqrt()
    }

    /// `Σ_m b_m ≥ |E0(S)|` for unit vectors: the scale of the rounding error of `W`.
    pub fn energy_scale(&self) -> f64 {
        self.grad_bounds.iter().sum()
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

    #[test]
    fn energies_match_pair_sums() {
        let c = chain();
        let model = BlochModel::new(&c);
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
        let model = BlochModel::new(&c);
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
}
