//! Thermal starting states: the Gibbs state of the storage Hamiltonian
//!
//! `ρ_β = e^{−βH0}/Z`, `Z = Tr e^{−βH0}`, `β = 1/T0` (`k_B = 1`, `T0` in units of `B`),
//!
//! of `H0 = H_B + H_g` (physics.md, "Thermal starting states"). `H0` keeps the total
//! magnetisation `Σ_i Z_i` (the uniform field is diagonal, `Z_iZ_j` is, and the flip-flops
//! `X_iX_j + Y_iY_j` swap an up and a down spin), so it is block diagonal on the sectors of
//! `M` up spins (`C(N, M)` states each) and `ρ_β = Σ_k p_k |k⟩⟨k|` with `|k⟩` the eigenvectors
//! of the blocks and `p_k = e^{−β(E_k − E_min)} / Σ_j e^{−β(E_j − E_min)}` (shifted by the
//! lowest level, so no exponential overflows). Each block is diagonalised densely (faer's
//! self-adjoint eigendecomposition, `O(C(N, M)³)`); at `α = 0` `H0` is diagonal and the
//! eigenvectors are the basis states, any `N`. `T0 = 0` is the ground state (the levels
//! within `10⁻¹⁰` of the scale of `H0` above the lowest, with equal weights); `T0 → ∞` tends
//! to `1/2^N`.
//!
//! [`Start`] says which state a charge starts from: all-down (the paper's, the default) or
//! thermal. `Start::Thermal { temperature: 0 }` where all-down is proved the (unique, `B > 0`)
//! ground state is all-down itself, and runs the all-down code paths: the same numbers as
//! without it.
//!
//! Tested against a dense `e^{−βH0}` (scaling and squaring of the Taylor series of a dense
//! matrix built from Kronecker products) on random chains; the energy against the canonical
//! mean energy `−∂ ln Z/∂β`, and its ergotropy (zero: the Gibbs state is passive)
//! (`tests/contract/gibbs.rs`).

use crate::basis::dimension;
use crate::error::{invalid, Result, SpinbatError};
use crate::model::Chain;
use crate::operator::Operators;
use num_complex::Complex64;
use serde::{Deserialize, Serialize};

/// Largest magnetisation block diagonalised densely (`C(14, 7)`, `N ≤ 14` at `α ≠ 0`).
pub const MAX_BLOCK: usize = 3432;

/// The state a charge starts from.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// All down, `|↓…↓⟩` (the paper's start).
    #[default]
    AllDown,
    /// The Gibbs state of `H0` at `temperature` `T0 ≥ 0` (units `B`, `k_B = 1`).
    Thermal {
        /// `T0`.
        temperature: f64,
    },
}

impl Start {
    /// All-down for `None`, else the Gibbs state at `T0`.
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] (`initial_temperature`) for a negative or
    /// non-finite `T0`.
    pub fn from_temperature(initial_temperature: Option<f64>) -> Result<Start> {
        match initial_temperature {
            None => Ok(Start::AllDown),
            Some(t) if t.is_finite() && t >= 0.0 => Ok(Start::Thermal { temperature: t }),
            Some(t) => Err(invalid("initial_temperature", t, "must be a finite temperature >= 0 (units of B)")),
        }
    }

    /// `T0`, `None` for all-down.
    pub fn temperature(&self) -> Option<f64> {
        match *self {
            Start::AllDown => None,
            Start::Thermal { temperature } => Some(temperature),
        }
    }

    /// Whether the start is the pure all-down state for `chain`: [`Start::AllDown`], or the
    /// Gibbs state at `T0 = 0` where all-down is proved the ground state
    /// ([`Chain::all_down_is_proved_ground`]; then it is the unique one, `B > 0`).
    pub fn is_all_down(&self, chain: &Chain) -> bool {
        match *self {
            Start::AllDown => true,
            Start::Thermal { temperature } => temperature == 0.0 && chain.all_down_is_proved_ground(),
        }
    }

    /// The Gibbs state of a mixed start, `None` where the start is all-down
    /// ([`Start::is_all_down`]). Check its memory first ([`Gibbs::bytes_needed`]).
    ///
    /// # Errors
    /// As [`Gibbs::new`].
    pub fn gibbs(&self, chain: &Chain) -> Result<Option<Gibbs>> {
        match *self {
            _ if self.is_all_down(chain) => Ok(None),
            Start::Thermal { temperature } => Gibbs::new(chain, temperature).map(Some),
            Start::AllDown => Ok(None),
        }
    }

    /// A short description (`all down`, `Gibbs state of H0 at T0 = 0.5`).
    pub fn describe(&self) -> String {
        match *self {
            Start::AllDown => "all down".to_string(),
            Start::Thermal { temperature } => format!("Gibbs state of H0 at T0 = {temperature}"),
        }
    }
}

/// One magnetisation sector: its basis states, the eigenvalues of `H0` on it and their
/// eigenvectors (by columns, `len × len`; `None` where `H0` is diagonal: basis states).
#[derive(Debug, Clone, PartialEq)]
struct Sector {
    states: Vec<usize>,
    levels: Vec<f64>,
    vectors: Option<Vec<f64>>,
    /// the Boltzmann weights `p_k` of the levels
    weights: Vec<f64>,
}

/// The Gibbs state `ρ_β = e^{−βH0}/Z` of a chain's `H0` (module docs), by its eigenpairs.
#[derive(Debug, Clone, PartialEq)]
pub struct Gibbs {
    n_sites: usize,
    temperature: f64,
    sectors: Vec<Sector>,
    /// `Σ_{k ≤ j} p_k` in the order (sector, level), for sampling
    cumulative: Vec<f64>,
    /// index of each sector's first level in `cumulative`
    offsets: Vec<usize>,
    energy: f64,
    field_energy: f64,
    lowest: f64,
}

impl Gibbs {
    /// Bytes [`Gibbs::new`] holds for `chain`: the eigenvectors of the blocks
    /// (`8 Σ_M C(N, M)² = 8 C(2N, N)`, none at `α = 0`) and per basis state its sector
    /// index, level, weight and cumulative weight (`32·2^N`), with the largest block's
    /// dense matrix and eigensolver workspace (`≈ 4·8 C(N, N/2)²`) while it is built.
    pub fn bytes_needed(chain: &Chain) -> f64 {
        let n = chain.n_sites();
        let per_state = 32.0 * (n as f64).exp2();
        if chain.alpha() == 0.0 || chain.total_abs_coupling() == 0.0 {
            return per_state;
        }
        let largest = binomial(n, n / 2);
        8.0 * binomial(2 * n, n) + per_state + 32.0 * largest * largest
    }

    /// The Gibbs state of `chain`'s `H0` at `temperature` `T0 ≥ 0` (module docs).
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for a negative or non-finite `T0`;
    /// [`SpinbatError::Unsupported`] at `α ≠ 0` when a magnetisation block exceeds
    /// [`MAX_BLOCK`] states (`N > 14`), and for per-site fields; [`SpinbatError::TooLarge`]
    /// past the indexable size;
    /// [`SpinbatError::NotConverged`] if an eigensolver fails.
    pub fn new(chain: &Chain, temperature: f64) -> Result<Gibbs> {
        if !(temperature.is_finite() && temperature >= 0.0) {
            return Err(invalid("initial_temperature", temperature, "must be a finite temperature >= 0 (units of B)"));
        }
        if chain.has_site_fields() {
            return Err(SpinbatError::Unsupported {
                solver: "gibbs",
                reason: "the Gibbs state is built for one field B on every site; this chain has per-site fields"
                    .to_string(),
            });
        }
        let ops = Operators::new(chain)?;
        let n = chain.n_sites();
        let dim = dimension(n);
        let mut sectors: Vec<Sector> = (0..=n)
            .map(|_| Sector { states: Vec::new(), levels: Vec::new(), vectors: None, weights: Vec::new() })
            .collect();
        (0..dim).for_each(|s| sectors[s.count_ones() as usize].states.push(s));
        let diagonal = ops.h0_is_diagonal();
        if !diagonal {
            let largest = sectors.iter().map(|s| s.states.len()).max().unwrap_or(0);
            if largest > MAX_BLOCK {
                return Err(SpinbatError::Unsupported {
                    solver: "gibbs",
                    reason: format!(
                        "the Gibbs state at alpha != 0 diagonalises H0 on each magnetisation sector; the largest has \
                         {largest} states at N = {n} (at most {MAX_BLOCK}, N <= 14); at alpha = 0 any N"
                    ),
                });
            }
        }
        let mut position = vec![0u32; if diagonal { 0 } else { dim }];
        for sector in &sectors {
            for (k, &s) in sector.states.iter().enumerate() {
                if !diagonal {
                    position[s] = k as u32;
                }
            }
        }
        for sector in &mut sectors {
            let len = sector.states.len();
            if diagonal {
                sector.levels = sector.states.iter().map(|&s| ops.field_energy(s) + ops.diag_g()[s]).collect();
                continue;
            }
            let mut h = faer::Mat::<f64>::zeros(len, len);
            for (j, &s) in sector.states.iter().enumerate() {
                ops.column_h0(s, |row, v| h[(position[row] as usize, j)] += v);
            }
            let evd = h.self_adjoint_eigen(faer::Side::Lower).map_err(|e| SpinbatError::NotConverged {
                what: "Gibbs state: eigendecomposition of a magnetisation block",
                reason: format!("{e:?}"),
            })?;
            let u = evd.U();
            sector.levels = (0..len).map(|k| evd.S().column_vector()[k]).collect();
            let mut vectors = vec![0.0; len * len];
            for k in 0..len {
                for a in 0..len {
                    vectors[k * len + a] = u[(a, k)];
                }
            }
            sector.vectors = Some(vectors);
        }
        crate::numeric::simd::clear_upper_state();
        let lowest = sectors.iter().flat_map(|s| s.levels.iter().copied()).fold(f64::INFINITY, f64::min);
        // T0 = 0: the levels within rounding of the lowest, equally weighted
        let degenerate = 1e-10 * Operators::h0_norm_bound(chain).max(1.0);
        let boltzmann = |e: f64| {
            if temperature == 0.0 {
                if e - lowest <= degenerate {
                    1.0
                } else {
                    0.0
                }
            } else {
                (-(e - lowest) / temperature).exp()
            }
        };
        let mut z = 0.0;
        for sector in &mut sectors {
            sector.weights = sector.levels.iter().map(|&e| boltzmann(e)).collect();
            z += sector.weights.iter().sum::<f64>();
        }
        let (mut energy, mut field_energy) = (0.0, 0.0);
        let mut cumulative = Vec::with_capacity(dim);
        let mut offsets = Vec::with_capacity(n + 1);
        let mut running = 0.0;
        for (m, sector) in sectors.iter_mut().enumerate() {
            offsets.push(cumulative.len());
            let mut sector_weight = 0.0;
            for (w, &e) in sector.weights.iter_mut().zip(&sector.levels) {
                *w /= z;
                energy += *w * e;
                sector_weight += *w;
                running += *w;
                cumulative.push(running);
            }
            field_energy += sector_weight * chain.b() * (2.0 * m as f64 - n as f64);
        }
        Ok(Gibbs { n_sites: n, temperature, sectors, cumulative, offsets, energy, field_energy, lowest })
    }

    /// Sites `N`.
    pub fn n_sites(&self) -> usize {
        self.n_sites
    }

    /// `T0` (units `B`).
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// `E_β = Tr(H0 ρ_β) = Σ_k p_k E_k`, the energy the work of a thermal start is measured
    /// from (units `B`).
    pub fn energy(&self) -> f64 {
        self.energy
    }

    /// `Tr(H_B ρ_β) = B Σ_M P_M (2M − N)`, `P_M` the weight of the sector of `M` up spins.
    pub fn field_energy(&self) -> f64 {
        self.field_energy
    }

    /// `Tr(H_g ρ_β) = E_β − Tr(H_B ρ_β)`.
    pub fn coupling_energy(&self) -> f64 {
        self.energy - self.field_energy
    }

    /// The lowest eigenvalue of `H0` (the ground energy; exact up to the eigensolver's
    /// rounding).
    pub fn ground_energy(&self) -> f64 {
        self.lowest
    }

    /// The eigenvalues `E_k` of `H0` with their weights `p_k`, in the order (sector of
    /// `M = 0, 1, …, N` up spins, level).
    pub fn levels(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.sectors.iter().flat_map(|s| s.levels.iter().copied().zip(s.weights.iter().copied()))
    }

    /// `ρ_β` as a dense `2^N × 2^N` matrix by columns (`ρ[c·2^N + r] = ρ_rc`): each sector's
    /// block `V diag(p) Vᵀ` (a faer product), the diagonal at `α = 0`. `16·4^N` bytes.
    pub fn density_matrix(&self) -> Vec<Complex64> {
        let d = dimension(self.n_sites);
        let mut rho = vec![Complex64::new(0.0, 0.0); d * d];
        for sector in &self.sectors {
            let len = sector.states.len();
            match &sector.vectors {
                None => {
                    for (&s, &p) in sector.states.iter().zip(&sector.weights) {
                        rho[s * d + s] = Complex64::new(p, 0.0);
                    }
                }
                Some(v) => {
                    let scaled = faer::Mat::<f64>::from_fn(len, len, |a, k| v[k * len + a] * sector.weights[k]);
                    let plain = faer::Mat::<f64>::from_fn(len, len, |a, k| v[k * len + a]);
                    let block = &scaled * plain.transpose();
                    for (j, &c) in sector.states.iter().enumerate() {
                        for (i, &r) in sector.states.iter().enumerate() {
                            rho[c * d + r] = Complex64::new(block[(i, j)], 0.0);
                        }
                    }
                }
            }
        }
        crate::numeric::simd::clear_upper_state();
        rho
    }

    /// Eigenstate `k` of the Boltzmann distribution drawn by a uniform `u ∈ [0, 1)`
    /// (inverse transform on the cumulative weights), written into `psi` (`2^N`
    /// amplitudes, normalised); returns its level `E_k`. Averaged over `u`, `|k⟩⟨k|` is
    /// `ρ_β`: the exact unravelling of the initial mixture into pure states.
    ///
    /// # Panics
    /// If `psi` does not have `2^N` amplitudes (a programming error).
    pub fn sample_into(&self, u: f64, psi: &mut [Complex64]) -> f64 {
        assert_eq!(psi.len(), dimension(self.n_sites), "a state of N = {} sites has 2^N amplitudes", self.n_sites);
        let total = *self.cumulative.last().expect("at least one level");
        let target = u * total;
        let k = self.cumulative.partition_point(|&c| c <= target).min(self.cumulative.len() - 1);
        // never a level of zero weight (T0 = 0 above the ground space, or underflow)
        let k = (0..=k).rev().find(|&j| self.weight_at(j) > 0.0).unwrap_or(k);
        let m = self.offsets.partition_point(|&o| o <= k) - 1;
        let sector = &self.sectors[m];
        let j = k - self.offsets[m];
        psi.fill(Complex64::new(0.0, 0.0));
        match &sector.vectors {
            None => psi[sector.states[j]] = Complex64::new(1.0, 0.0),
            Some(v) => {
                let len = sector.states.len();
                for (a, &s) in sector.states.iter().enumerate() {
                    psi[s] = Complex64::new(v[j * len + a], 0.0);
                }
            }
        }
        sector.levels[j]
    }

    fn weight_at(&self, k: usize) -> f64 {
        self.cumulative[k] - if k == 0 { 0.0 } else { self.cumulative[k - 1] }
    }
}

/// `C(n, k)` as a float.
fn binomial(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Couplings;

    #[test]
    fn weights_sum_to_one_and_limits_hold() {
        let chain = Chain::builder(5).couplings(Couplings::PowerLaw { p: 1.0 }).alpha(0.4).build().unwrap();
        // T0 = 0: all-down, the proved unique ground state
        let cold = Gibbs::new(&chain, 0.0).unwrap();
        assert!((cold.energy() - chain.initial_energy()).abs() < 1e-12);
        assert_eq!(cold.levels().filter(|&(_, p)| p > 0.0).count(), 1);
        // very hot: every level 1/2^N
        let hot = Gibbs::new(&chain, 1e12).unwrap();
        assert!(hot.levels().all(|(_, p)| (p - 1.0 / 32.0).abs() < 1e-12));
        for t in [0.3, 1.0, 7.0] {
            let g = Gibbs::new(&chain, t).unwrap();
            assert!((g.levels().map(|(_, p)| p).sum::<f64>() - 1.0).abs() < 1e-13);
            let rho = g.density_matrix();
            let trace: f64 = (0..32).map(|s| rho[s * 32 + s].re).sum();
            assert!((trace - 1.0).abs() < 1e-13);
        }
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(Gibbs::new(&chain, bad).is_err());
            assert!(Start::from_temperature(Some(bad)).is_err());
        }
        assert!(Start::Thermal { temperature: 0.0 }.is_all_down(&chain));
        assert!(!Start::Thermal { temperature: 0.1 }.is_all_down(&chain));
    }

    #[test]
    fn sampled_states_are_normalised_eigenstates_with_boltzmann_frequencies() {
        let chain = Chain::builder(4).couplings(Couplings::NearestNeighbour).alpha(0.7).g(1.3).build().unwrap();
        let g = Gibbs::new(&chain, 2.0).unwrap();
        let ops = Operators::new(&chain).unwrap();
        let mut psi = vec![Complex64::new(0.0, 0.0); 16];
        let mut h = vec![Complex64::new(0.0, 0.0); 16];
        let mut mean = 0.0;
        let draws = 4000;
        for i in 0..draws {
            let e = g.sample_into((i as f64 + 0.5) / draws as f64, &mut psi);
            ops.apply_h0(&psi, &mut h);
            let res: f64 = h.iter().zip(&psi).map(|(a, b)| (a - b * e).norm_sqr()).sum();
            assert!(res.sqrt() < 1e-10, "an eigenvector of H0");
            assert!((psi.iter().map(|z| z.norm_sqr()).sum::<f64>() - 1.0).abs() < 1e-12);
            mean += e;
        }
        // stratified draws: the mean level is the Gibbs energy to O(1/draws)
        assert!((mean / draws as f64 - g.energy()).abs() < 1e-2);
    }
}
