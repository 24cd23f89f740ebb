//! Ergotropy, its local, locked, coherent and incoherent parts, the capacity, the spread of
//! the field energy and the Robertson bound on the power: the figures of merit of a charged
//! state beyond its energy (physics.md, "Extractable work").
//!
//! For a state `ρ` and a Hamiltonian `A` the **ergotropy** (Allahverdyan, Balian,
//! Nieuwenhuizen, EPL 67, 565 (2004)) is `ℰ(ρ, A) = Tr ρA − Σ_k r_k ε_k`, the `r_k`
//! eigenvalues of `ρ` decreasing and the `ε_k` of `A` increasing (the passive state). The
//! **capacity** (Yang et al., PRL 131, 030402 (2023)) is `C = Σ_k r_k (ε_{d+1−k} − ε_k)`.
//! For the pure states of the closed charge both need only the extremes of the spectrum:
//! `ℰ = ⟨A⟩ − ε_min`, `C = ε_max − ε_min`. Measured here for a pure state `ψ` of `N` sites:
//!
//! | key | formula |
//! |---|---|
//! | `ergotropy` | `ℰ(ψ, H0) = ⟨H0⟩ − E_min(H0)` (`E_min` from [`super::ground`]; `null` where not known) |
//! | `ergotropy_hb` | `ℰ(ψ, H_B) = ⟨H_B⟩ + N\|B\|`, `H_B = B Σ Z_i` |
//! | `local_ergotropy` | `Σ_i ℰ(ρ_i, B Z_i) = Σ_i (B z_i + \|B\| \|r_i\|)`, `r_i` the Bloch vector of site `i` |
//! | `locked_ergotropy` | `ergotropy_hb − local_ergotropy ≥ 0` (`= \|B\| Σ_i (1 − \|r_i\|)` for a pure state with `B > 0`) |
//! | `incoherent_ergotropy` | `ℰ(Δ[ρ], H_B)`, `Δ` the dephasing onto the **eigenspaces** of `H_B` (fixed magnetisation; Francica et al., PRL 125, 180603 (2020)): the populations `p_M = ‖P_M ψ‖²` filled into the levels of `H_B` from below, each level `M` holding `C(N, M)` of them |
//! | `coherent_ergotropy` | `ergotropy_hb − incoherent_ergotropy` |
//! | `capacity` | `E_max(H0) − E_min(H0)` (`null` where the range is not computed) |
//! | `variance_hb` | `Var(H_B) = B² (Σ_M p_M (2M − N)² − (Σ_M p_M (2M − N))²)` |
//! | `power_bound` | Robertson: `\|dW/dt\| = \|⟨i[H, H0]⟩\| ≤ 2 ΔH ΔH0`, with `ΔH² = Nω²` (conserved, its value on all-down) and `ΔH0² = Var(H0)` |
//! | `qsl_time` | Mandelstam–Tamm: `T_QSL = arccos\|⟨ψ0\|ψ_t⟩\| / ΔH ≤ t` (J. Phys. USSR 9, 249 (1945)), `ψ0` all-down, `\|⟨ψ0\|ψ_t⟩\|² = p_0` (the one state with no up spin), `ΔH = \|ω\|√N` |
//!
//! The dephasing convention: `H_B` is highly degenerate (level `M` up spins has `C(N, M)`
//! states), and the dephasing onto its eigenspaces keeps the coherences within a
//! magnetisation sector (the other convention, onto a chosen eigenbasis, depends on that
//! choice). For a pure state `Δ[ρ]` has one non-zero eigenvalue `p_M` per sector.
//!
//! Cost per state: one pass over the `2^N` amplitudes for the populations, `O(N 2^N)` for
//! the Bloch vectors, one application of `H0` for `Var(H0)`.
//!
//! **Mixed states** ([`ErgotropyContext::measure_density`], `N ≤` [`MAX_DENSITY_SITES`]):
//! the same keys from a density matrix by the general definitions, the eigenvalues of `ρ`,
//! of its dephased blocks and of `H0` ([`H0Spectrum`]); `power_bound` is not reported there
//! (under noise `dW/dt` has a dissipative part Robertson's bound does not cap). Two cautions
//! for mixed states: `locked_ergotropy` is then not only correlations (ergotropy is
//! superadditive: a product of mixed one-site states can hold more global than local
//! ergotropy), and of the keys only the linear ones (`W`, the Bloch vectors, hence
//! `local_ergotropy`, the populations, `variance_hb`'s moments) are exact as averages over
//! quantum trajectories; the ergotropy of the averaged state is not the average of the
//! trajectories' ergotropies (it is at most that: ergotropy is convex).

use super::correlations::{bloch_vectors, energy_variance, StateMoments};
use crate::error::Result;
use crate::model::Chain;
use crate::operator::Operators;
use num_complex::Complex64;
use rayon::prelude::*;
use serde::Serialize;

/// The ergotropy family of one state (module docs; energies in units of `B`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ErgotropyPoint {
    /// `ℰ(ρ, H0)`; `None` where the ground energy of `H0` is not known.
    pub ergotropy: Option<f64>,
    /// `ℰ(ρ, H_B)`.
    pub ergotropy_hb: f64,
    /// `Σ_i ℰ(ρ_i, B Z_i)`.
    pub local_ergotropy: f64,
    /// `ℰ(ρ, H_B) − Σ_i ℰ(ρ_i, B Z_i)`.
    pub locked_ergotropy: f64,
    /// `ℰ(ρ, H_B) − ℰ(Δ[ρ], H_B)`.
    pub coherent_ergotropy: f64,
    /// `ℰ(Δ[ρ], H_B)`, eigenspace dephasing.
    pub incoherent_ergotropy: f64,
    /// `C(ρ, H0)`; `None` where the spectral range of `H0` is not known.
    pub capacity: Option<f64>,
    /// `Var(H_B)` (units `B²`).
    pub variance_hb: f64,
    /// `2 ΔH ΔH0`, the Robertson bound on `|dW/dt|` (units `B²`); `None` for the mean
    /// field's product state (a bound on quantum dynamics).
    pub power_bound: Option<f64>,
    /// `arccos|⟨ψ0|ψ_t⟩| / ΔH`, the Mandelstam–Tamm quantum-speed-limit time of the
    /// evolution from all-down `ψ0` to this state: no unitary evolution under `H` reaches
    /// it sooner, so `qsl_time ≤ t` (units `1/B`; equality for one spin before `ωt = π/2`).
    /// `None` where the state is not the pure state of the closed charge from all-down (a
    /// density matrix, the mean field's product state) or `ΔH` is not `|ω|√N`.
    pub qsl_time: Option<f64>,
    /// `Σ_b ℰ(ρ_b, B Σ_{i∈b} Z_i)` over the blocks `b` of `K` neighbouring sites
    /// (`[0, K), [K, 2K), …`, the last one shorter), where asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_ergotropy: Option<f64>,
}

impl ErgotropyPoint {
    /// The keys of the family in records, in the order of the fields (`block_ergotropy`,
    /// present only when asked for, apart).
    pub const KEYS: [&'static str; 10] = [
        "ergotropy",
        "ergotropy_hb",
        "local_ergotropy",
        "locked_ergotropy",
        "coherent_ergotropy",
        "incoherent_ergotropy",
        "capacity",
        "variance_hb",
        "power_bound",
        "qsl_time",
    ];

    /// The values in the order of [`ErgotropyPoint::KEYS`] (`None` where not known).
    pub fn values(&self) -> [Option<f64>; 10] {
        [
            self.ergotropy,
            Some(self.ergotropy_hb),
            Some(self.local_ergotropy),
            Some(self.locked_ergotropy),
            Some(self.coherent_ergotropy),
            Some(self.incoherent_ergotropy),
            self.capacity,
            Some(self.variance_hb),
            self.power_bound,
            self.qsl_time,
        ]
    }
}

/// Largest block of the block ergotropy (its reduced density matrix has `4^K` entries and
/// costs `O(2^N 2^K)` per block).
pub const MAX_BLOCK_SITES: usize = 12;

/// What the measurement needs of the chain, computed once for a trajectory: the ground
/// energy and spectral range of `H0` where known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErgotropyContext {
    n_sites: usize,
    b: f64,
    omega: f64,
    e0: f64,
    e_min: Option<f64>,
    range: Option<(f64, f64)>,
    block: Option<usize>,
}

impl ErgotropyContext {
    /// The block size of the block ergotropy, where asked for ([`ErgotropyContext::with_block`]).
    pub fn block(&self) -> Option<usize> {
        self.block
    }

    /// The field `B` of `H_B = B Σ Z_i`.
    pub fn field(&self) -> f64 {
        self.b
    }

    /// The context of `chain`: `E_min(H0) = E_0` where all-down is proved the ground state
    /// ([`super::ground::all_down_is_proved_ground`]), else the bottom of
    /// [`super::ground::spectral_range`] (exact or Lanczos where `N` allows), else unknown
    /// (never the one-magnon upper bound, which would understate the ergotropy); the range
    /// from the same call.
    ///
    /// # Errors
    /// Those of [`super::ground::spectral_range`]; [`crate::SpinbatError::Unsupported`] for
    /// per-site fields `B_i` (the keys for `H_B`, its eigenspaces and the local ergotropy
    /// take one field `B`).
    pub fn new(chain: &Chain) -> Result<Self> {
        if chain.has_site_fields() {
            return Err(crate::SpinbatError::Unsupported {
                solver: "ergotropy",
                reason: "the ergotropy family takes one field B on every site (H_B = B sum Z_i and its eigenspaces); \
                         this chain has per-site fields"
                    .to_string(),
            });
        }
        let range = super::ground::spectral_range(chain)?;
        let proved = super::ground::all_down_is_proved_ground(chain).then(|| chain.initial_energy());
        let e_min = proved.or(range.map(|r| r.0));
        Ok(ErgotropyContext {
            n_sites: chain.n_sites(),
            b: chain.b(),
            // the Robertson bound 2|omega| sqrt(N) Delta H0 is derived for V = omega sum_i X_i
            // with [H_g, H0] = 0: not for per-site weights or XYZ pair flips
            omega: if chain.has_omega_sites() || chain.has_pair_creation() { f64::NAN } else { chain.omega() },
            e0: chain.initial_energy(),
            e_min,
            range: range.map(|(lo, hi)| (e_min.unwrap_or(lo).min(lo), hi)),
            block: None,
        })
    }

    /// The same context measuring the block ergotropy of blocks of `k` sites too.
    pub fn with_block(mut self, k: Option<usize>) -> Self {
        self.block = k;
        self
    }

    /// The same context for work measured from `e_ref` (`W = ⟨H0⟩ − e_ref`) instead of
    /// `E_0` of all-down: a thermal start measures it from `E_β = Tr(H0ρ_β)`
    /// ([`crate::open::Gibbs::energy`]); `⟨H0⟩ = W + e_ref` in the ergotropy.
    pub fn with_reference(mut self, e_ref: f64) -> Self {
        self.e0 = e_ref;
        self
    }

    /// The ground energy of `H0`, where known.
    pub fn ground_energy(&self) -> Option<f64> {
        self.e_min
    }

    /// The ergotropy family of a state with populations `p_M` of the magnetisation sectors
    /// (`M` up spins), Bloch vectors `r_i`, work `W`, and `Var(H0)` (`None` for the mean
    /// field's product state: no Robertson bound and no speed limit are reported there).
    /// For a pure state `p_0 = |⟨↓…↓|ψ⟩|²` (the sector of no up spin is all-down alone),
    /// whence the speed-limit time `arccos √p_0 / (|ω|√N)`.
    pub fn measure(&self, populations: &[f64], bloch: &[[f64; 3]], work: f64, var_h0: Option<f64>) -> ErgotropyPoint {
        let (n, b) = (self.n_sites, self.b);
        let m = |k: usize| 2.0 * k as f64 - n as f64;
        let mean: f64 = populations.iter().enumerate().map(|(k, p)| p * m(k)).sum();
        let mean_sq: f64 = populations.iter().enumerate().map(|(k, p)| p * m(k) * m(k)).sum();
        let e_hb = b * mean;
        let ergotropy_hb = e_hb + n as f64 * b.abs();
        let local: f64 =
            bloch.iter().map(|r| b * r[2] + b.abs() * (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt()).sum();
        let incoherent = e_hb - passive_energy(populations, n, b);
        let h0 = work + self.e0;
        ErgotropyPoint {
            ergotropy: self.e_min.map(|e| (h0 - e).max(0.0)),
            ergotropy_hb,
            local_ergotropy: local,
            locked_ergotropy: ergotropy_hb - local,
            coherent_ergotropy: ergotropy_hb - incoherent,
            incoherent_ergotropy: incoherent,
            capacity: self.range.map(|(lo, hi)| hi - lo),
            variance_hb: b * b * (mean_sq - mean * mean).max(0.0),
            power_bound: var_h0
                .filter(|_| self.omega.is_finite())
                .map(|v| 2.0 * self.omega.abs() * (n as f64).sqrt() * v.max(0.0).sqrt()),
            qsl_time: var_h0
                .filter(|_| self.omega.is_finite() && self.omega != 0.0)
                .and_then(|_| populations.first())
                .map(|&p0| p0.clamp(0.0, 1.0).sqrt().acos() / (self.omega.abs() * (n as f64).sqrt())),
            // a product of pure one-site states: every block is pure, its ergotropy local
            block_ergotropy: self.block.map(|_| local),
        }
    }

    /// [`ErgotropyContext::measure`] of a pure state `ψ` on the full space (`ops` its
    /// operators; `work` its `W`).
    ///
    /// # Errors
    /// Those of [`bloch_vectors`] and [`energy_variance`] (bad lengths).
    pub fn measure_pure(&self, ops: &Operators, psi: &[Complex64], work: f64) -> Result<ErgotropyPoint> {
        let bloch = bloch_vectors(psi, self.n_sites)?;
        self.measure_pure_with(psi, &bloch, energy_variance(ops, psi)?, work)
    }

    /// [`ErgotropyContext::measure_pure`] with the state's Bloch vectors and `Var(H0)`
    /// measured already (a trajectory that records them too computes them once).
    ///
    /// # Errors
    /// Those of [`block_ergotropy`] (bad lengths).
    pub fn measure_pure_with(
        &self,
        psi: &[Complex64],
        bloch: &[[f64; 3]],
        var_h0: f64,
        work: f64,
    ) -> Result<ErgotropyPoint> {
        let mut point = self.measure(&populations(psi, self.n_sites), bloch, work, Some(var_h0));
        if let Some(k) = self.block {
            point.block_ergotropy = Some(block_ergotropy(psi, self.n_sites, k, self.b)?);
        }
        Ok(point)
    }
}

impl ErgotropyContext {
    /// [`ErgotropyContext::measure_pure`] from one pass's [`StateMoments`]
    /// ([`super::correlations::state_moments`]); `ψ` only for the block ergotropy.
    ///
    /// # Errors
    /// Those of [`block_ergotropy`] (bad lengths).
    pub fn measure_moments(&self, psi: &[Complex64], moments: &StateMoments, work: f64) -> Result<ErgotropyPoint> {
        let mut point = self.measure(&moments.populations, &moments.bloch, work, Some(moments.variance));
        if let Some(k) = self.block {
            point.block_ergotropy = Some(block_ergotropy(psi, self.n_sites, k, self.b)?);
        }
        Ok(point)
    }
}

/// `Σ_b ℰ(ρ_b, B Σ_{i∈b} Z_i)` over the blocks `[0, K), [K, 2K), …` of a pure state `ψ`
/// (the last block shorter): each block's reduced density matrix
/// `ρ_b[a][a'] = Σ_rest ψ(a, rest) ψ̄(a', rest)` (`O(2^N 2^K)`), its eigenvalues (faer)
/// filled into the levels `−K|B| + 2|B|j` of the block's field, `C(K, j)` to a level.
/// `K = 1` is the local ergotropy, `K = N` the global one for `H_B`.
///
/// # Errors
/// [`crate::SpinbatError::InvalidParameter`] for `K` outside `1..=min(N, 12)` or a bad `ψ`;
/// [`crate::SpinbatError::NotConverged`] if an eigensolver fails.
pub fn block_ergotropy(psi: &[Complex64], n_sites: usize, k: usize, b: f64) -> Result<f64> {
    check_block_size(n_sites, k)?;
    if psi.len() != 1usize << n_sites {
        return Err(crate::error::invalid(
            "psi",
            psi.len(),
            format!("must hold 2^N = {} amplitudes", 1usize << n_sites),
        ));
    }
    let norm: f64 = psi.par_iter().map(|v| v.norm_sqr()).sum();
    sum_over_blocks(n_sites, k, b, |start, len| {
        let dim = 1usize << len;
        let low = (1usize << start) - 1;
        let rest = psi.len() >> len;
        let zero = Complex64::new(0.0, 0.0);
        let rho = (0..rest)
            .into_par_iter()
            .with_min_len(1 << 8)
            .fold(
                || (vec![zero; dim * dim], vec![zero; dim]),
                |(mut rho, mut v), r| {
                    let base = ((r & !low) << len) | (r & low);
                    for (a, x) in v.iter_mut().enumerate() {
                        *x = psi[base | (a << start)];
                    }
                    for (a, &va) in v.iter().enumerate() {
                        if va != zero {
                            for (entry, vb) in rho[a * dim..(a + 1) * dim].iter_mut().zip(&v) {
                                *entry += va * vb.conj();
                            }
                        }
                    }
                    (rho, v)
                },
            )
            .map(|(rho, _)| rho)
            .reduce(
                || vec![zero; dim * dim],
                |mut x, y| {
                    x.iter_mut().zip(y).for_each(|(p, q)| *p += q);
                    x
                },
            );
        faer::Mat::<Complex64>::from_fn(dim, dim, |i, j| rho[i * dim + j] / norm)
    })
}

/// [`block_ergotropy`] from the blocks' reduced density matrices `reduced` (`[0, K),
/// [K, 2K), …`, each `2^len × 2^len` in that function's order, unit trace) made by another
/// state kind (a matrix-product state's contractions).
///
/// # Errors
/// [`crate::SpinbatError::InvalidParameter`] for `K` outside `1..=min(N, 12)` or a matrix
/// of the wrong size; [`crate::SpinbatError::NotConverged`] if an eigensolver fails.
pub fn block_ergotropy_of(n_sites: usize, k: usize, b: f64, reduced: &[faer::Mat<Complex64>]) -> Result<f64> {
    check_block_size(n_sites, k)?;
    let blocks = n_sites.div_ceil(k);
    if reduced.len() != blocks {
        return Err(crate::error::invalid(
            "block",
            k,
            format!("needs one matrix a block ({blocks}), not {}", reduced.len()),
        ));
    }
    for (i, rho) in reduced.iter().enumerate() {
        let dim = 1usize << k.min(n_sites - i * k);
        if rho.nrows() != dim || rho.ncols() != dim {
            return Err(crate::error::invalid("block", k, format!("block {i}'s matrix is not {dim} x {dim}")));
        }
    }
    sum_over_blocks(n_sites, k, b, |start, _| reduced[start / k].clone())
}

/// Most sites of a density matrix the ergotropy family measures: `ρ` and the dense `H0`
/// it needs the spectrum of are `4^N` entries (`N = 12`: 256 MiB and 128 MiB).
pub const MAX_DENSITY_SITES: usize = 12;

/// The spectrum of `H0` (increasing), for the ergotropy and capacity of mixed states: the
/// sorted diagonal for `α = 0`, else the eigenvalues of the dense matrix (faer).
#[derive(Debug, Clone, PartialEq)]
pub struct H0Spectrum {
    levels: Vec<f64>,
}

impl H0Spectrum {
    /// The spectrum of `H0` of `chain` (`N ≤` [`MAX_DENSITY_SITES`]).
    ///
    /// # Errors
    /// [`crate::SpinbatError::Unsupported`] beyond [`MAX_DENSITY_SITES`];
    /// [`crate::SpinbatError::NotConverged`] if the eigensolver fails.
    pub fn new(chain: &Chain) -> Result<Self> {
        let n = chain.n_sites();
        if n > MAX_DENSITY_SITES {
            return Err(crate::SpinbatError::Unsupported {
                solver: "density-matrix",
                reason: format!("the ergotropy of a density matrix needs N <= {MAX_DENSITY_SITES}, got N = {n}"),
            });
        }
        let ops = Operators::new(chain)?;
        let dim = ops.dim();
        let mut levels = if ops.h0_is_diagonal() {
            (0..dim).map(|s| ops.field_energy(s) + ops.diag_g()[s]).collect::<Vec<f64>>()
        } else {
            let mut h = faer::Mat::<f64>::zeros(dim, dim);
            for s in 0..dim {
                ops.column_h0(s, |row, v| h[(row, s)] += v);
            }
            let eig = h.self_adjoint_eigenvalues(faer::Side::Lower).map_err(|e| crate::SpinbatError::NotConverged {
                what: "the spectrum of H0",
                reason: format!("{e:?}"),
            })?;
            crate::numeric::simd::clear_upper_state();
            eig
        };
        levels.sort_by(f64::total_cmp);
        Ok(H0Spectrum { levels })
    }

    /// The levels, increasing (with multiplicity).
    pub fn levels(&self) -> &[f64] {
        &self.levels
    }

    /// `Σ_k r_k ε_k` with the `r_k` decreasing and the levels `ε_k` increasing: the energy
    /// of the passive state of eigenvalues `r`.
    fn passive(&self, r: &[f64]) -> f64 {
        let mut r = r.to_vec();
        r.sort_by(|a, b| b.total_cmp(a));
        r.iter().zip(&self.levels).map(|(p, e)| p * e).sum()
    }

    /// `Σ_k r_k ε_{d+1−k}`: the most energy a unitary can put into eigenvalues `r`.
    fn active(&self, r: &[f64]) -> f64 {
        let mut r = r.to_vec();
        r.sort_by(|a, b| b.total_cmp(a));
        r.iter().zip(self.levels.iter().rev()).map(|(p, e)| p * e).sum()
    }
}

impl ErgotropyContext {
    /// The ergotropy family of a density matrix `ρ` of the `N` sites (`2^N × 2^N`,
    /// column-major: `ρ[s' + 2^N s] = ⟨s'|ρ|s⟩`, Hermitian; divided by its trace), with
    /// `W = Tr ρH0 − E_0` given (`work`) and the spectrum of `H0`:
    /// * `ergotropy = Tr ρH0 − Σ_k r_k ε_k` (the `r_k` eigenvalues of `ρ` decreasing, the
    ///   `ε_k` of `H0` increasing) and `capacity = Σ_k r_k (ε_{d+1−k} − ε_k)`;
    /// * `ergotropy_hb` the same for `H_B` (its levels `−NB + 2|B|M`, `C(N, M)` each);
    /// * `local_ergotropy = Σ_i (B z_i + |B| |r_i|)` from the one-site Bloch vectors
    ///   `x_i + i y_i = 2 Σ_{s: bit i down} ρ[s, s + 2^i]`, `z_i = Σ_s ρ_ss z_i(s)` (a mixed
    ///   one-site state has `|r_i| < 1`), `locked = ergotropy_hb − local`;
    /// * `incoherent_ergotropy = ℰ(Δ[ρ], H_B)` from the eigenvalues of the diagonal blocks
    ///   of `ρ` on the magnetisation sectors (the dephasing onto the eigenspaces of `H_B`),
    ///   `coherent = ergotropy_hb − incoherent`;
    /// * `variance_hb` from the populations of the sectors;
    /// * `power_bound`: not reported (`None`). Robertson's `|⟨i[H, H0]⟩| ≤ 2ΔHΔH0` holds for
    ///   mixed states too, but under noise `dW/dt` has a dissipative part it does not cap.
    /// * `block_ergotropy` (with a block size) from the blocks' reduced density matrices.
    ///
    /// Cost: one Hermitian eigenvalue problem of size `2^N` and one per magnetisation
    /// sector, `O(8^N)`.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] for a matrix of the wrong size or a
    /// non-positive trace; [`crate::SpinbatError::NotConverged`] if an eigensolver fails.
    pub fn measure_density(&self, rho: &[Complex64], spectrum: &H0Spectrum, work: f64) -> Result<ErgotropyPoint> {
        let (n, b) = (self.n_sites, self.b);
        let dim = 1usize << n;
        if rho.len() != dim * dim || spectrum.levels.len() != dim {
            return Err(crate::error::invalid(
                "rho",
                format!("{} entries", rho.len()),
                format!("must be 2^N x 2^N = {dim} x {dim} with the spectrum of the same chain"),
            ));
        }
        let at = |row: usize, col: usize| rho[row + dim * col];
        let trace: f64 = (0..dim).map(|s| at(s, s).re).sum();
        if !(trace.is_finite() && trace > 0.0) {
            return Err(crate::error::invalid("rho", format!("trace {trace}"), "must be finite and positive"));
        }
        let eig_err = |what: &'static str| {
            move |e: faer::linalg::evd::EvdError| crate::SpinbatError::NotConverged { what, reason: format!("{e:?}") }
        };
        let r: Vec<f64> = faer::Mat::<Complex64>::from_fn(dim, dim, |i, j| at(i, j) / trace)
            .self_adjoint_eigenvalues(faer::Side::Lower)
            .map_err(eig_err("density matrix"))?;
        // the dephased state: one block per magnetisation sector
        let mut sectors: Vec<Vec<usize>> = vec![Vec::new(); n + 1];
        (0..dim).for_each(|s| sectors[s.count_ones() as usize].push(s));
        let mut dephased = Vec::with_capacity(dim);
        for states in &sectors {
            let block =
                faer::Mat::<Complex64>::from_fn(states.len(), states.len(), |i, j| at(states[i], states[j]) / trace);
            dephased.extend(block.self_adjoint_eigenvalues(faer::Side::Lower).map_err(eig_err("dephased block"))?);
        }
        crate::numeric::simd::clear_upper_state();
        let populations: Vec<f64> =
            sectors.iter().map(|states| states.iter().map(|&s| at(s, s).re).sum::<f64>() / trace).collect();
        let bloch = super::correlations::density_bloch(rho, n)?;
        let m = |k: usize| 2.0 * k as f64 - n as f64;
        let mean: f64 = populations.iter().enumerate().map(|(k, p)| p * m(k)).sum();
        let mean_sq: f64 = populations.iter().enumerate().map(|(k, p)| p * m(k) * m(k)).sum();
        let e_hb = b * mean;
        let ergotropy_hb = e_hb - passive_energy(&r, n, b);
        let incoherent = e_hb - passive_energy(&dephased, n, b);
        let local: f64 =
            bloch.iter().map(|v| b * v[2] + b.abs() * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()).sum();
        let block_ergotropy = match self.block {
            Some(k) => Some(density_block_ergotropy(rho, trace, n, k, b)?),
            None => None,
        };
        let h0 = work + self.e0;
        Ok(ErgotropyPoint {
            ergotropy: Some(h0 - spectrum.passive(&r)),
            ergotropy_hb,
            local_ergotropy: local,
            locked_ergotropy: ergotropy_hb - local,
            coherent_ergotropy: ergotropy_hb - incoherent,
            incoherent_ergotropy: incoherent,
            capacity: Some(spectrum.active(&r) - spectrum.passive(&r)),
            variance_hb: b * b * (mean_sq - mean * mean).max(0.0),
            power_bound: None,
            qsl_time: None,
            block_ergotropy,
        })
    }
}

/// [`block_ergotropy`] of a density matrix (column-major `2^N × 2^N`, trace `trace`): each
/// block's reduced state `ρ_b[a, a'] = Σ_rest ρ[(a, rest), (a', rest)]`.
fn density_block_ergotropy(rho: &[Complex64], trace: f64, n_sites: usize, k: usize, b: f64) -> Result<f64> {
    check_block_size(n_sites, k)?;
    let full = 1usize << n_sites;
    sum_over_blocks(n_sites, k, b, |start, len| {
        let low = (1usize << start) - 1;
        let index = |a: usize, r: usize| ((r & !low) << len) | (r & low) | (a << start);
        faer::Mat::<Complex64>::from_fn(1 << len, 1 << len, |a, c| {
            (0..full >> len).map(|r| rho[index(a, r) + full * index(c, r)]).sum::<Complex64>() / trace
        })
    })
}

/// Checks a block size `K` of the block ergotropy for `N` sites: `1 ≤ K ≤ min(N, 12)`
/// ([`MAX_BLOCK_SITES`]).
///
/// # Errors
/// [`crate::SpinbatError::InvalidParameter`] otherwise.
pub fn check_block_size(n_sites: usize, k: usize) -> Result<()> {
    if k == 0 || k > n_sites.min(MAX_BLOCK_SITES) {
        return Err(crate::error::invalid(
            "block",
            k,
            format!("must be in 1..={} for N = {n_sites}", n_sites.min(MAX_BLOCK_SITES)),
        ));
    }
    Ok(())
}

/// `Σ_b ℰ(ρ_b, B Σ_{i∈b} Z_i)` over the blocks `[0, K), [K, 2K), …` (the last shorter),
/// with `reduced(start, len)` the normalised reduced density matrix of sites
/// `start..start + len` (row and column `a`: bit `j` of `a` is site `start + j`).
fn sum_over_blocks(
    n_sites: usize,
    k: usize,
    b: f64,
    reduced: impl Fn(usize, usize) -> faer::Mat<Complex64>,
) -> Result<f64> {
    let mut total = 0.0;
    let mut start = 0;
    while start < n_sites {
        let len = k.min(n_sites - start);
        let rho = reduced(start, len);
        // Tr ρ_b H_b from the diagonal: B Σ_i z_i
        let energy: f64 =
            (0..1usize << len).map(|a| rho[(a, a)].re * b * (2.0 * a.count_ones() as f64 - len as f64)).sum();
        let eig = rho.self_adjoint_eigenvalues(faer::Side::Lower).map_err(|e| crate::SpinbatError::NotConverged {
            what: "block reduced density matrix",
            reason: format!("{e:?}"),
        })?;
        crate::numeric::simd::clear_upper_state();
        total += energy - passive_energy(&eig, len, b);
        start += len;
    }
    Ok(total)
}

/// `p_M = Σ_{s: M up spins} |ψ_s|²`, `M = 0..N`, normalised to 1.
pub fn populations(psi: &[Complex64], n_sites: usize) -> Vec<f64> {
    let mut p = psi
        .par_iter()
        .enumerate()
        .with_min_len(1 << 12)
        .fold(
            || vec![0.0; n_sites + 1],
            |mut acc, (s, a)| {
                acc[s.count_ones() as usize] += a.norm_sqr();
                acc
            },
        )
        .reduce(
            || vec![0.0; n_sites + 1],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let total: f64 = p.iter().sum();
    if total > 0.0 {
        p.iter_mut().for_each(|x| *x /= total);
    }
    p
}

/// The populations of the product state `⊗_i |r_i⟩` (a Poisson-binomial distribution of
/// the number of up spins, `q_i = (1 + z_i)/2`), for the mean field.
pub fn product_populations(bloch: &[[f64; 3]]) -> Vec<f64> {
    let mut p = vec![1.0];
    for r in bloch {
        let q = ((1.0 + r[2]) / 2.0).clamp(0.0, 1.0);
        let mut next = vec![0.0; p.len() + 1];
        for (k, &x) in p.iter().enumerate() {
            next[k] += x * (1.0 - q);
            next[k + 1] += x * q;
        }
        p = next;
    }
    p
}

/// Energy of the passive state for the field `B Σ Z_i` of `n` sites: the eigenvalues of the
/// state (for `Δ[ρ]` the `p_M`, one per sector, the rest zero) in decreasing order filled
/// into the levels from the lowest, `ε = −n|B| + 2|B|j` holding `C(n, j)` states each.
pub(crate) fn passive_energy(populations: &[f64], n: usize, b: f64) -> f64 {
    let mut p: Vec<f64> = populations.to_vec();
    p.sort_by(|a, b| b.total_cmp(a));
    let mut energy = 0.0;
    let (mut level, mut room, mut binom) = (0usize, 1.0f64, 1.0f64);
    for x in p {
        while room < 0.5 {
            level += 1;
            binom = binom * (n + 1 - level) as f64 / level as f64;
            room = binom;
        }
        energy += x * (-(n as f64) * b.abs() + 2.0 * b.abs() * level as f64);
        room -= 1.0;
    }
    energy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passive_levels_fill_by_degeneracy() {
        // N = 3: levels -3, -1 (x3), 1 (x3), 3; four populations fill -3, -1, -1, -1
        let e = passive_energy(&[0.1, 0.4, 0.3, 0.2], 3, 1.0);
        assert!((e - (0.4 * -3.0 - (0.3 + 0.2 + 0.1))).abs() < 1e-15);
        // one spin: levels -|B|, +|B|
        assert!((passive_energy(&[0.25, 0.75], 1, 2.0) - (0.75 * -2.0 + 0.25 * 2.0)).abs() < 1e-15);
    }

    #[test]
    fn an_upper_bound_on_the_ground_energy_is_never_taken_for_it() {
        // alpha = 1.5: outside the proven case; one magnon lies below all-down, so the
        // ground-state check reports an upper bound, but N = 20 is beyond Lanczos: the
        // ergotropy for H0 must be unknown, not computed from that bound
        let chain = Chain::builder(20).alpha(1.5).build().unwrap();
        let ground = super::super::ground::ground_state(&chain).unwrap();
        assert!(ground.ground_energy.is_some_and(|e| e < chain.initial_energy()), "{ground:?}");
        let ctx = ErgotropyContext::new(&chain).unwrap();
        assert_eq!(ctx.ground_energy(), None);
        let p = ctx.measure(&[1.0], &[[0.0, 0.0, -1.0]; 20], 0.0, None);
        assert_eq!((p.ergotropy, p.capacity), (None, None));
        // proved case: E_0 exactly, whatever the spectral range's method
        let proved = Chain::builder(6).alpha(0.4).build().unwrap();
        assert_eq!(ErgotropyContext::new(&proved).unwrap().ground_energy(), Some(proved.initial_energy()));
    }

    #[test]
    fn keys_are_the_serialised_names_in_order() {
        let e = ErgotropyPoint {
            ergotropy: Some(1.0),
            ergotropy_hb: 2.0,
            local_ergotropy: 3.0,
            locked_ergotropy: 4.0,
            coherent_ergotropy: 5.0,
            incoherent_ergotropy: 6.0,
            capacity: Some(7.0),
            variance_hb: 8.0,
            power_bound: Some(9.0),
            qsl_time: Some(10.0),
            block_ergotropy: None,
        };
        let v = serde_json::to_value(e).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = ErgotropyPoint::KEYS.to_vec();
        want.sort_unstable();
        let mut got = keys.clone();
        got.sort_unstable();
        assert_eq!(got, want, "every serialised key is listed, and no other");
        for (k, x) in ErgotropyPoint::KEYS.iter().zip(e.values()) {
            assert_eq!(v[*k].as_f64(), x, "{k} in the order of KEYS");
        }
    }

    #[test]
    fn product_populations_are_binomial_for_equal_spins() {
        let p = product_populations(&[[0.0, 0.0, 0.2]; 4]);
        let q: f64 = 0.6;
        for (k, &x) in p.iter().enumerate() {
            let c = [1.0, 4.0, 6.0, 4.0, 1.0][k];
            assert!((x - c * q.powi(k as i32) * (1.0 - q).powi(4 - k as i32)).abs() < 1e-15);
        }
    }
}
