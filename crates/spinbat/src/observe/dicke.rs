//! The ergotropy family of a density matrix on the `N + 1` Dicke states (physics.md,
//! "Collective decay in the Dicke space"): the permutation-symmetric chain (`p = 0`, one
//! field `B`) under collective decay keeps `ρ` on the symmetric states `|k⟩ = |J = N/2,
//! J_z = k − N/2⟩`, so every key of [`super::ergotropy`] follows from the `(N + 1)²` matrix
//! `ρ_rc = ⟨r|ρ|c⟩`, at any `N` whose matrix fits (`N = 1000`: 16 MB), by the general
//! definitions on the full `2^N`-dimensional space:
//!
//! * **`H0` is diagonal in the total spin.** With `g_ij = g'` for every pair,
//!   `Σ_{i<j} Z_iZ_j = 2J_z² − N/2` and `Σ_{i<j} (X_iX_j + Y_iY_j) = 2(J² − J_z²) − N`, so
//!   `H0 = 2BJ_z − g'[2(1 − α)J_z² + 2αJ(J + 1) − N/2 − αN]`: on `|J, m⟩` the level
//!   `E(J, m) = 2Bm − g'[2(1 − α)m² + 2αJ(J + 1) − N/2 − αN]`, each with the multiplicity
//!   `d_J = C(N, N/2 − J) − C(N, N/2 − J − 1)` of the total spin `J`. `ρ` has at most `N + 1`
//!   non-zero eigenvalues, so the passive state fills the lowest `N + 1` levels of the full
//!   spectrum (counted with multiplicity), and the capacity's most active state the highest
//!   `N + 1`: `ergotropy = Tr ρH0 − Σ_k r_k↓ ε_k↑`, `capacity = Σ_k r_k↓ (ε_{d+1−k} − ε_k)`.
//! * **`H_B = 2BJ_z`**: levels `−NB + 2|B|M` with `C(N, M)` states each (the same filling
//!   as on the full space). The dephasing onto its eigenspaces keeps, of a symmetric `ρ`,
//!   only the diagonal: `P_M ρ P_M = ρ_MM |M⟩⟨M|` (`|M⟩` is the one symmetric state of the
//!   sector), so `Δ[ρ]` has the eigenvalues `ρ_MM`.
//! * **One-site states** are the same on every site: `z = 2⟨J_z⟩/N`,
//!   `x + iy = 2⟨J_+⟩/N`, `⟨J_+⟩ = Σ_k ρ_{k,k+1} √((N − k)(k + 1))` (the local ergotropy
//!   `N(Bz + |B||r|)`).
//! * `variance_hb = 4B² Var(J_z)`; `power_bound` is not reported for density matrices
//!   (under noise `dW/dt` has a dissipative part Robertson's bound does not cap).
//!
//! Cost per state: one Hermitian eigenvalue problem of size `N + 1` (faer, `O(N³)`).
//! Checked against the full-space density matrix's measurements of the embedded `ρ` for
//! `N ≤ 6` (`tests/contract/open_dicke.rs`).

use super::ergotropy::{passive_energy, ErgotropyPoint};
use crate::error::{invalid, Result, SpinbatError};
use crate::model::Chain;
use num_complex::Complex64;

/// What the measurements of a Dicke density matrix need of the chain: `N`, `B`, the
/// diagonal `⟨k|H0|k⟩` and the lowest and highest `N + 1` levels of `H0` on the full space.
#[derive(Debug, Clone, PartialEq)]
pub struct DickeObserver {
    n_sites: usize,
    b: f64,
    /// `⟨k|H0|k⟩` of the symmetric states (`J = N/2`)
    diagonal: Vec<f64>,
    /// the lowest `N + 1` levels of `H0` (increasing) and the highest (decreasing)
    lowest: Vec<f64>,
    highest: Vec<f64>,
}

impl DickeObserver {
    /// The observer of a permutation-symmetric `chain` (module docs).
    ///
    /// # Errors
    /// [`SpinbatError::Unsupported`] for couplings that are not all equal, per-site fields
    /// or XYZ pair flips.
    pub fn new(chain: &Chain) -> Result<Self> {
        let refuse = |reason: &str| SpinbatError::Unsupported { solver: "dicke", reason: reason.to_string() };
        let g = crate::symmetry::uniform_coupling(chain)
            .ok_or_else(|| refuse("the Dicke states need all couplings equal (p = 0)"))?;
        if chain.has_site_fields() {
            return Err(refuse("the Dicke states need one field B on every site"));
        }
        if chain.has_pair_creation() {
            return Err(refuse("XYZ pair flips (gamma) do not keep H0 diagonal in the total spin"));
        }
        let n = chain.n_sites();
        let (b, alpha) = (chain.b(), chain.alpha());
        let nf = n as f64;
        // E(J, m) with m = k − N/2 (k up spins within the total spin J: |m| ≤ J)
        let level = |j: f64, m: f64| {
            2.0 * b * m - g * (2.0 * (1.0 - alpha) * m * m + 2.0 * alpha * j * (j + 1.0) - 0.5 * nf - alpha * nf)
        };
        let top = 0.5 * nf;
        let diagonal = (0..=n).map(|k| level(top, k as f64 - top)).collect();
        // every (J, m) level with its multiplicity d_J, capped at N + 1 (only that many are
        // filled): q = N/2 − J = 0, 1, …, ⌊N/2⌋
        let want = n + 1;
        let mut levels: Vec<(f64, usize)> = Vec::new();
        // d_J = C(N, q)(N − 2q + 1)/(N − q + 1) ≥ C(N, q)/(N + 1) for q ≤ N/2: once C(N, q)
        // passes 1e30 every later d_J exceeds N + 1 (and the binomial stops there, finite)
        let mut binom = 1.0f64; // C(N, q)
        let mut previous = 0.0f64; // C(N, q − 1)
        for q in 0..=n / 2 {
            if q > 0 && binom < 1e30 {
                previous = binom;
                binom = binom * (n + 1 - q) as f64 / q as f64;
            }
            let d = binom - previous;
            let count = if binom >= 1e30 || d >= want as f64 { want } else { d.round() as usize };
            if count == 0 {
                continue;
            }
            let j = top - q as f64;
            for step in 0..=(2 * (n / 2 - q) + n % 2) {
                levels.push((level(j, -j + step as f64), count));
            }
        }
        levels.sort_by(|a, b| a.0.total_cmp(&b.0));
        let fill = |iter: &mut dyn Iterator<Item = &(f64, usize)>| -> Vec<f64> {
            let mut out = Vec::with_capacity(want);
            for &(e, count) in iter {
                let take = count.min(want - out.len());
                out.extend(std::iter::repeat_n(e, take));
                if out.len() == want {
                    break;
                }
            }
            out
        };
        let lowest = fill(&mut levels.iter());
        let highest = fill(&mut levels.iter().rev());
        Ok(DickeObserver { n_sites: n, b, diagonal, lowest, highest })
    }

    /// `⟨k|H0|k⟩`, `k = 0…N` up spins.
    pub fn diagonal(&self) -> &[f64] {
        &self.diagonal
    }

    /// The ergotropy family of `ρ` on the Dicke states (`(N + 1)²` entries by columns,
    /// `rho[c·(N+1) + r] = ⟨r|ρ|c⟩`, Hermitian, divided by its trace; module docs), and the
    /// Bloch vector `(x, y, z)` every site shares.
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for a matrix of the wrong size or a trace that is
    /// not positive; [`SpinbatError::NotConverged`] if the eigensolver fails.
    pub fn measure(&self, rho: &[Complex64]) -> Result<(ErgotropyPoint, [f64; 3])> {
        let (n, b) = (self.n_sites, self.b);
        let d = n + 1;
        if rho.len() != d * d {
            return Err(invalid("rho", rho.len(), format!("must be (N + 1)^2 = {} entries", d * d)));
        }
        let at = |r: usize, c: usize| rho[c * d + r];
        let trace: f64 = (0..d).map(|k| at(k, k).re).sum();
        if !(trace.is_finite() && trace > 0.0) {
            return Err(invalid("rho", format!("trace {trace}"), "must be finite and positive"));
        }
        let populations: Vec<f64> = (0..d).map(|k| at(k, k).re / trace).collect();
        let mut r: Vec<f64> = faer::Mat::<Complex64>::from_fn(d, d, |i, j| at(i, j) / trace)
            .self_adjoint_eigenvalues(faer::Side::Lower)
            .map_err(|e| SpinbatError::NotConverged { what: "the Dicke density matrix", reason: format!("{e:?}") })?;
        crate::numeric::simd::clear_upper_state();
        r.sort_by(|a, b| b.total_cmp(a));
        let m = |k: usize| 2.0 * k as f64 - n as f64;
        let mean: f64 = populations.iter().enumerate().map(|(k, p)| p * m(k)).sum();
        let mean_sq: f64 = populations.iter().enumerate().map(|(k, p)| p * m(k) * m(k)).sum();
        let e_hb = b * mean;
        let ergotropy_hb = e_hb - passive_energy(&r, n, b);
        let incoherent = e_hb - passive_energy(&populations, n, b);
        // ⟨J_+⟩ = Σ_k ρ_{k,k+1} √((N − k)(k + 1)); x + iy = 2⟨J_+⟩/N, z = 2⟨J_z⟩/N
        let j_plus: Complex64 =
            (0..n).map(|k| at(k, k + 1) * (((n - k) * (k + 1)) as f64).sqrt()).sum::<Complex64>() / trace;
        let nf = n as f64;
        let bloch = [2.0 * j_plus.re / nf, 2.0 * j_plus.im / nf, mean / nf];
        let length = (bloch[0] * bloch[0] + bloch[1] * bloch[1] + bloch[2] * bloch[2]).sqrt();
        let local = nf * (b * bloch[2] + b.abs() * length);
        let h0: f64 = populations.iter().zip(&self.diagonal).map(|(p, e)| p * e).sum();
        let passive: f64 = r.iter().zip(&self.lowest).map(|(p, e)| p * e).sum();
        let active: f64 = r.iter().zip(&self.highest).map(|(p, e)| p * e).sum();
        Ok((
            ErgotropyPoint {
                ergotropy: Some(h0 - passive),
                ergotropy_hb,
                local_ergotropy: local,
                locked_ergotropy: ergotropy_hb - local,
                coherent_ergotropy: ergotropy_hb - incoherent,
                incoherent_ergotropy: incoherent,
                capacity: Some(active - passive),
                variance_hb: b * b * (mean_sq - mean * mean).max(0.0),
                power_bound: None,
                qsl_time: None,
                block_ergotropy: None,
            },
            bloch,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Couplings;

    #[test]
    fn the_levels_are_those_of_the_dense_full_space_hamiltonian() {
        // N = 5 (odd) and 6, XXZ: the lowest and highest N + 1 levels of H0 against the
        // sorted spectrum of the full space (H0Spectrum: dense eigenvalues)
        for (n, alpha) in [(5, 0.4), (6, -0.3), (4, 1.0)] {
            let chain =
                Chain::builder(n).couplings(Couplings::PowerLaw { p: 0.0 }).alpha(alpha).g(0.7).b(1.3).build().unwrap();
            let o = DickeObserver::new(&chain).unwrap();
            let full = crate::observe::ergotropy::H0Spectrum::new(&chain).unwrap();
            let levels = full.levels();
            for k in 0..=n {
                assert!(
                    (o.lowest[k] - levels[k]).abs() < 1e-10,
                    "N = {n}: lowest {k}: {} vs {}",
                    o.lowest[k],
                    levels[k]
                );
                let hi = levels[levels.len() - 1 - k];
                assert!((o.highest[k] - hi).abs() < 1e-10, "N = {n}: highest {k}: {} vs {hi}", o.highest[k]);
            }
        }
    }
}
