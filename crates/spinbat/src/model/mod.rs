//! The spin chain: sites, fields and couplings of the battery Hamiltonians
//!
//! * storage Hamiltonian `H0 = B Σ_i Z_i − Σ_{i<j} g_ij [Z_i Z_j + α (X_i X_j + Y_i Y_j)]`
//! * charging Hamiltonian `H = H_g + V`, `V = ω Σ_i X_i` (the field `B` is off while charging)
//!
//! A [`Chain`] is built by [`ChainBuilder`], which validates every parameter before
//! anything is allocated, and expands the couplings into the `N × N` matrix `g_ij`.
//! [`ChainSpec`] is the same chain as data (serde): the one specification that the CLI
//! flags, study files and Python parse into, with the [`defaults`] and the checks.

mod couplings;
mod disorder;
mod enclosure;
mod fields;
mod matrix_file;
mod protocol;
mod spec;

pub use couplings::{Boundary, CouplingKind, Couplings};
pub use disorder::{Disorder, DEFAULT_REALISATIONS, MAX_DISORDERED_COUPLING_SITES};
pub use enclosure::BondEnclosure;
pub use fields::FieldEnergy;
pub use matrix_file::parse_matrix;
pub use protocol::{Drive, Protocol, ProtocolSpec, Schedule};
pub use spec::{ChainSpec, MatrixSpec};

use crate::error::{invalid, Result};
use serde::Serialize;

/// Largest chain the library accepts at all (the mean-field model handles millions of
/// sites); what fits in memory is decided per solver by [`crate::propagate::bytes_needed`], and
/// the exact solvers need `2^N` amplitudes.
pub const MAX_SITES: usize = 100_000_000;

/// A validated spin chain with its coupling matrix `g_ij` (units of `B`, `ħ = 1`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chain {
    n_sites: usize,
    b: f64,
    g: f64,
    alpha: f64,
    omega: f64,
    couplings: Couplings,
    boundary: Boundary,
    /// `g·M_ij` row-major for an explicit matrix; distance-based patterns are computed on
    /// the fly, so a chain of `10⁶` sites costs nothing to build.
    #[serde(skip)]
    matrix: Option<Vec<f64>>,
    /// Per-site storage fields `B_i` of `H_B = Σ_i B_i Z_i` (`None`: `B_i = B` on every
    /// site, the clean chain); [`ChainBuilder::site_fields`].
    #[serde(skip_serializing_if = "Option::is_none")]
    site_fields: Option<Vec<f64>>,
    /// XYZ anisotropy `γ` of `H_g = −Σ g_ij [Z_iZ_j + α((1+γ) X_iX_j + (1−γ) Y_iY_j)]`
    /// (0: the XXZ chain of the paper). Recorded only when set, like the two below: a
    /// study's settings hash (the chain serialised) stays that of the paper's chain.
    #[serde(skip_serializing_if = "is_zero")]
    gamma: f64,
    /// Whether the storage field stays on while charging, `H = H0 + V` (else `H = H_g + V`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    keep_field: bool,
    /// Per-site multipliers `w_i` of the charging field, `V = ω Σ_i w_i X_i` (`None`: every
    /// `w_i = 1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    omega_sites: Option<Vec<f64>>,
}

/// The defaults of spinbat, written once: the builder, the CLI flags, study files and the
/// Python signatures (which assert them at compile time) all take them from here.
pub mod defaults {
    use super::{Boundary, Couplings};
    /// Sites `N` when none are given (the CLI, study files, Python).
    pub const N_SITES: usize = 8;
    /// Storage field `B` (the unit of energy).
    pub const B: f64 = 1.0;
    /// Coupling scale `g`.
    pub const G: f64 = 1.0;
    /// Anisotropy `α` (0: Ising).
    pub const ALPHA: f64 = 0.0;
    /// Charging field `ω`.
    pub const OMEGA: f64 = 4.0;
    /// Power-law exponent `p` (`g_ij = g/|i−j|^p`).
    pub const P: f64 = 1.0;
    /// XYZ anisotropy `γ` (0: the XXZ chain).
    pub const GAMMA: f64 = 0.0;
    /// The coupling pattern: power law with [`P`].
    pub const COUPLINGS: Couplings = Couplings::PowerLaw { p: P };
    /// Open chain.
    pub const BOUNDARY: Boundary = Boundary::Open;
    /// Output times of a charging curve, equally spaced on `[0, t_max]`.
    pub const POINTS: usize = 201;
    /// The default window `t_max = 2π/ω`: two periods of a lone spin's charging.
    pub fn t_max(omega: f64) -> f64 {
        2.0 * std::f64::consts::PI / omega
    }
}

impl Chain {
    /// Starts a builder with the defaults of spinbat ([`defaults`]): `B = 1`, `g = 1`,
    /// `α = 0`, `ω = 4`, power law `p = 1`, open boundary.
    pub fn builder(n_sites: usize) -> ChainBuilder {
        ChainBuilder {
            n_sites,
            b: defaults::B,
            g: defaults::G,
            alpha: defaults::ALPHA,
            omega: defaults::OMEGA,
            couplings: defaults::COUPLINGS,
            boundary: defaults::BOUNDARY,
            site_fields: None,
            gamma: defaults::GAMMA,
            keep_field: false,
            omega_sites: None,
        }
    }

    /// Number of sites `N`.
    pub fn n_sites(&self) -> usize {
        self.n_sites
    }
    /// Storage field `B` (the nominal one, and every site's unless the chain has per-site
    /// fields, [`Chain::field`]).
    pub fn b(&self) -> f64 {
        self.b
    }
    /// The storage field `B_i` of site `i` in `H_B = Σ_i B_i Z_i`: `B` for the clean chain.
    pub fn field(&self, i: usize) -> f64 {
        self.site_fields.as_ref().map_or(self.b, |f| f[i])
    }
    /// The per-site fields `B_i`, `None` for a clean chain (every `B_i = B`).
    pub fn site_fields(&self) -> Option<&[f64]> {
        self.site_fields.as_deref()
    }
    /// Whether the sites have their own fields `B_i` (not all `B`): the methods that need
    /// one field (Dicke states, the analytic strong coupling, storage with flip-flops)
    /// refuse such a chain.
    pub fn has_site_fields(&self) -> bool {
        self.site_fields.is_some()
    }
    /// Whether `H_B` commutes with the couplings, `[H_g, H_B] = 0`: one field on every site
    /// (the flip-flops keep the magnetisation), or no flip-flops (`α = 0`). Otherwise the
    /// rate `W' = i⟨[H, H0]⟩` has the part `i⟨[H_g, H_B]⟩` besides `i⟨[V, H0]⟩`, which the
    /// full space measures and the symmetry sectors refuse.
    ///
    /// XYZ pair flips (`αγ ≠ 0`, [`Chain::gamma`]) change the magnetisation by `±2`, so they
    /// never commute with `H_B`.
    pub fn fields_commute_with_couplings(&self) -> bool {
        self.alpha == 0.0
            || (self.gamma == 0.0 && self.site_fields.as_ref().is_none_or(|f| f.iter().all(|&b| b == f[0])))
    }
    /// XYZ anisotropy `γ`: `H_g = −Σ g_ij [Z_iZ_j + α((1+γ) X_iX_j + (1−γ) Y_iY_j)]`.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
    /// Whether `H_g` flips parallel pairs `↓↓ ↔ ↑↑` (`αγ ≠ 0`): the magnetisation is not
    /// conserved, and the methods built on it (Dicke states, blocks of fixed
    /// magnetisation, the weak-coupling formula) refuse the chain.
    pub fn has_pair_creation(&self) -> bool {
        self.alpha != 0.0 && self.gamma != 0.0
    }
    /// Whether the storage field stays on while charging: `H = H0 + V` (else `H_g + V`).
    pub fn keep_field(&self) -> bool {
        self.keep_field
    }
    /// The per-site multipliers `w_i` of `V = ω Σ_i w_i X_i` as given (`None`: all 1).
    pub fn omega_sites(&self) -> Option<&[f64]> {
        self.omega_sites.as_deref()
    }
    /// The multiplier `w_i` of site `i` (1 unless [`Chain::omega_sites`] says otherwise).
    pub fn omega_weight(&self, i: usize) -> f64 {
        self.omega_sites.as_ref().map_or(1.0, |w| w[i])
    }
    /// Whether the charging field is not the same on every site (some `w_i ≠ 1`).
    pub fn has_omega_sites(&self) -> bool {
        self.omega_sites.as_ref().is_some_and(|w| w.iter().any(|&v| v != 1.0))
    }
    /// `Σ_i |w_i|` (`N` for a uniform field): `‖V‖ = |ω| Σ_i |w_i|`.
    pub fn omega_weight_abs_sum(&self) -> f64 {
        self.omega_sites.as_ref().map_or(self.n_sites as f64, |w| w.iter().map(|v| v.abs()).sum())
    }
    /// `max_i |w_i|` (1 for a uniform field).
    pub fn omega_weight_abs_max(&self) -> f64 {
        self.omega_sites.as_ref().map_or(1.0, |w| w.iter().fold(0.0, |a, v| a.max(v.abs())))
    }
    /// Whether the charging Hamiltonian is the paper's, `H = H_g + V` with `V = ω Σ_i X_i`
    /// and XXZ couplings: no `γ`, no field kept on, no per-site weights. The methods that
    /// are built on it alone refuse other chains with [`Chain::charging_extensions`].
    pub fn has_paper_charging(&self) -> bool {
        self.gamma == 0.0 && !self.keep_field && !self.has_omega_sites()
    }
    /// The generalisations of the charging Hamiltonian this chain uses, by their keys
    /// (`gamma`, `keep_field`, `omega_sites`), for refusals.
    pub fn charging_extensions(&self) -> String {
        let mut out = Vec::new();
        if self.gamma != 0.0 {
            out.push("gamma");
        }
        if self.keep_field {
            out.push("keep_field");
        }
        if self.has_omega_sites() {
            out.push("omega_sites");
        }
        out.join(", ")
    }
    /// `1 + |α|(|1+γ| + |1−γ|) = 1 + 2|α| max(1, |γ|) ≥ ‖Z_iZ_j + α((1+γ)X_iX_j + (1−γ)Y_iY_j)‖`
    /// (triangle inequality; `1 + 2|α|` for XXZ).
    pub fn pair_norm(&self) -> f64 {
        1.0 + 2.0 * self.alpha.abs() * self.gamma.abs().max(1.0)
    }
    /// The largest single-site energy scale of the charging Hamiltonian,
    /// `Λ = |ω| max_i|w_i| + (1 + |α| max(1, |γ|)) max_i Σ_j |g_ij|`, plus `max_i |B_i|` with
    /// the field kept on: it sets the grid step `h = π/(16Λ)` of the maximum search.
    pub fn local_energy_scale(&self) -> f64 {
        let field = if self.keep_field {
            self.site_fields.as_ref().map_or(self.b.abs(), |f| f.iter().fold(0.0, |a, b| a.max(b.abs())))
        } else {
            0.0
        };
        self.omega.abs() * self.omega_weight_abs_max()
            + (1.0 + self.alpha.abs() * self.gamma.abs().max(1.0)) * self.max_abs_row_sum()
            + field
    }
    /// `Σ_i B_i` (`N B` for a clean chain).
    pub fn field_sum(&self) -> f64 {
        match &self.site_fields {
            None => self.n_sites as f64 * self.b,
            Some(f) => f.iter().sum(),
        }
    }
    /// `Σ_i |B_i|` (`N|B|` for a clean chain): `‖H_B‖`.
    pub fn field_abs_sum(&self) -> f64 {
        match &self.site_fields {
            None => self.n_sites as f64 * self.b.abs(),
            Some(f) => f.iter().map(|b| b.abs()).sum(),
        }
    }
    /// Coupling scale `g`.
    pub fn g(&self) -> f64 {
        self.g
    }
    /// Anisotropy `α` (0 Ising, 1 XXX).
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// Charging field `ω`.
    pub fn omega(&self) -> f64 {
        self.omega
    }
    /// The coupling pattern.
    pub fn couplings(&self) -> &Couplings {
        &self.couplings
    }
    /// Open or periodic boundary.
    pub fn boundary(&self) -> Boundary {
        self.boundary
    }

    /// Distance `d_ij` between sites (`|i − j|`, or the shorter way round a ring).
    pub fn distance(&self, i: usize, j: usize) -> usize {
        let d = i.abs_diff(j);
        match self.boundary {
            Boundary::Open => d,
            Boundary::Periodic => d.min(self.n_sites - d),
        }
    }

    /// Coupling `g_ij` between sites `i` and `j` (0-based; `g_ii = 0`).
    pub fn coupling(&self, i: usize, j: usize) -> f64 {
        if i == j {
            return 0.0;
        }
        match &self.matrix {
            Some(m) => m[i * self.n_sites + j],
            None => self.couplings.at_distance(self.g, self.distance(i, j)).unwrap_or(0.0),
        }
    }

    /// For couplings that depend only on `|i − j|` (nearest neighbour and power law, open or
    /// periodic), the Toeplitz kernel `f(d) = g_{i, i+d}`, `d = 0..N` (`f(0) = 0`): the
    /// mean field `Σ_j g_ij S_j` is then a convolution. `None` for an explicit matrix.
    pub fn toeplitz_kernel(&self) -> Option<Vec<f64>> {
        if self.matrix.is_some() {
            return None;
        }
        Some((0..self.n_sites).map(|d| if d == 0 { 0.0 } else { self.coupling(0, d) }).collect())
    }

    /// All pairs `(i, j, g_ij)` with `i < j` and `g_ij ≠ 0` (`O(N²)`: for the exact solvers).
    pub fn pairs(&self) -> Vec<(usize, usize, f64)> {
        let n = self.n_sites;
        let mut out = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                let gij = self.coupling(i, j);
                if gij != 0.0 {
                    out.push((i, j, gij));
                }
            }
        }
        out
    }

    /// `Σ_{i<j} h(g_ij)`, in `O(N)` for Toeplitz couplings.
    fn pair_sum(&self, h: impl Fn(f64) -> f64) -> f64 {
        match self.toeplitz_kernel() {
            Some(f) => (1..self.n_sites).map(|d| (self.n_sites - d) as f64 * h(f[d])).sum(),
            None => self.pairs().iter().map(|p| h(p.2)).sum(),
        }
    }

    /// Total coupling `G = Σ_{i<j} g_ij` (paper, Eq. 18).
    pub fn total_coupling(&self) -> f64 {
        self.pair_sum(|g| g)
    }

    /// `Σ_{i<j} |g_ij|`.
    pub fn total_abs_coupling(&self) -> f64 {
        self.pair_sum(f64::abs)
    }

    /// Largest row sum `max_i Σ_j |g_ij|` (the strongest local field), `O(N)` for Toeplitz
    /// couplings.
    pub fn max_abs_row_sum(&self) -> f64 {
        let n = self.n_sites;
        match self.toeplitz_kernel() {
            Some(f) => {
                // prefix[k] = Σ_{d=1..k} |f(d)|; row i sums the distances 1..i and 1..N−1−i
                let mut prefix = vec![0.0; n];
                for d in 1..n {
                    prefix[d] = prefix[d - 1] + f[d].abs();
                }
                (0..n).map(|i| prefix[i] + prefix[n - 1 - i]).fold(0.0, f64::max)
            }
            None => (0..n).map(|i| (0..n).map(|j| self.coupling(i, j).abs()).sum::<f64>()).fold(0.0, f64::max),
        }
    }

    /// Whether all-down is proved a ground state of `H0`: `B > 0`, `g_ij ≥ 0` and `|α| ≤ 1`
    /// make `H0 − E_0` a sum of positive semi-definite terms that annihilate it (so
    /// `H0 − E_0 ≥ 0`).
    pub fn all_down_is_proved_ground(&self) -> bool {
        self.b() > 0.0
            && self.site_fields().is_none_or(|f| f.iter().all(|&b| b > 0.0))
            && self.alpha().abs() <= 1.0
            && !self.has_pair_creation()
            && self.pairs().iter().all(|&(_, _, g)| g >= 0.0)
    }

    /// Energy of the all-down initial state, `E_0 = −Σ_i B_i − Σ_{i<j} g_ij` (`−N B − G`
    /// for a clean chain).
    pub fn initial_energy(&self) -> f64 {
        -self.field_sum() - self.total_coupling()
    }

    /// Rigorous bound on the deposited work (physics.md), from energy conservation:
    /// `W = (⟨H_B⟩_t + N B) + (⟨H_g⟩_t + G)` with `⟨H_B⟩_t ≤ N|B|` and
    /// `⟨H_g⟩_t + G = −⟨V⟩_t ≤ ‖V‖ = |ω| Σ_i |w_i|`, but also
    /// `⟨H_g⟩_t ≤ ‖H_g‖ ≤ (1 + 2|α| max(1, |γ|)) Σ_{i<j}|g_ij|`:
    ///
    /// `W(t) ≤ N(|B| + B) + min(|ω| Σ_i |w_i|, (1 + 2|α| max(1, |γ|)) Σ|g_ij| + G)`,
    ///
    /// with `N(|B| + B)` read as `Σ_i (|B_i| + B_i)` for per-site fields and `Σ_i |w_i| = N`
    /// for a uniform charging field. With the field kept on ([`Chain::keep_field`],
    /// `H = H0 + V`) energy conservation gives `W = −⟨V⟩_t` (all-down has `⟨V⟩ = 0`), and
    /// `W ≤ λ_max(H0) − E_0` always: `W(t) ≤ min(|ω| Σ_i |w_i|, Σ_i (|B_i| + B_i) +
    /// λ_max(H_g) + G)` ([`Chain::work_bound_with`]).
    ///
    /// The second term is what makes nearest-neighbour chains stop early (`2G = 2(N − 1)g`
    /// instead of `Nω`); the Chebyshev solver tightens it further with the exact top of the
    /// Ising diagonal ([`crate::operator::Operators::h_g_max_bound`]). The same holds for
    /// the classical model (its `H_g` on unit vectors is bounded by the same sum).
    pub fn work_bound(&self) -> f64 {
        self.work_bound_with(self.h_g_max_bound())
    }

    /// [`Chain::work_bound`] with a given upper bound `h_g_max ≥ λ_max(H_g)`:
    /// `Σ_i (|B_i| + B_i) + min(|ω| Σ_i |w_i|, h_g_max + G)`, or with the field kept on
    /// `min(|ω| Σ_i |w_i|, Σ_i (|B_i| + B_i) + h_g_max + G)`.
    pub fn work_bound_with(&self, h_g_max: f64) -> f64 {
        self.work_bound_reach(h_g_max, self.omega.abs())
    }

    /// [`Chain::work_bound_with`] for a time-dependent field `ω(t)` (physics.md,
    /// "Time-dependent charging"): with `V1 = Σ_i X_i` and `⟨V1⟩_0 = 0`,
    /// `d⟨H(t)⟩/dt = ω'(t)⟨V1⟩_t` gives
    /// `⟨H_g⟩_t + G = −ω(t)⟨V1⟩_t + ∫_0^t ω'(s)⟨V1⟩_s ds ≤ N(|ω(t)| + ∫_0^t |ω'|)`
    /// (a jump `Δω` of a schedule counts `|Δω|`), so `field_reach = max_t |ω(t)| +` the
    /// total variation of `ω` over the charge takes the place of `|ω|`:
    /// `Σ_i (|B_i| + B_i) + min(N · field_reach, h_g_max + G)`. A drive without end has
    /// unbounded variation: `field_reach = ∞` leaves the spectral bound `h_g_max + G`.
    pub fn work_bound_reach(&self, h_g_max: f64, field_reach: f64) -> f64 {
        let n = self.n_sites as f64;
        let fields = match &self.site_fields {
            None => n * (self.b.abs() + self.b),
            Some(_) => self.field_abs_sum() + self.field_sum(),
        };
        // ‖V‖ with the reach of the field in place of |ω|: N|ω| bit for bit for a uniform,
        // constant field
        let v_norm = match &self.omega_sites {
            None => n * field_reach,
            Some(_) => field_reach * self.omega_weight_abs_sum(),
        };
        if self.keep_field {
            v_norm.min(fields + h_g_max + self.total_coupling())
        } else {
            fields + v_norm.min(h_g_max + self.total_coupling())
        }
    }

    /// The spectral bound `λ_max(H_g) ≤ (1 + 2|α| max(1, |γ|)) Σ_{i<j} |g_ij|` that
    /// [`Chain::work_bound`] uses (the exact solvers have tighter ones).
    pub fn h_g_max_bound(&self) -> f64 {
        self.total_abs_coupling() * self.pair_norm()
    }

    /// Bound on the rate of the work per unit field, `‖[V1, H0]‖ ≤ R` with `V1 = Σ_i X_i`,
    /// so that `|W'(t)| = |ω(t)| |⟨i[V1, H0]⟩_t| ≤ |ω(t)| R` for any field `ω(t)`
    /// (`[H_g, H0] = 0`): `[X_i, B_i Z_i] = −2iB_i Y_i` and
    /// `[X_i + X_j, Z_iZ_j + α(X_iX_j + Y_iY_j)] = −2i(1 − α)(Y_iZ_j + Z_iY_j)`, hence
    /// `R = 2 Σ_i |B_i| + 4|1 − α| Σ_{i<j} |g_ij|` (physics.md, "Time-dependent charging").
    /// For the paper's charging Hamiltonian ([`Chain::has_paper_charging`]): time-dependent
    /// protocols refuse the other chains.
    pub fn rate_bound_per_field(&self) -> f64 {
        2.0 * self.field_abs_sum() + 4.0 * (1.0 - self.alpha).abs() * self.total_abs_coupling()
    }

    /// A copy with a different anisotropy (used by studies and tests).
    pub fn with_alpha(&self, alpha: f64) -> Result<Chain> {
        self.to_builder().alpha(alpha).build()
    }

    /// The same chain with the transverse field off, `ω = 0`: its charging Hamiltonian is
    /// `H_g` alone. Storage needs it: `[H_B, H_g] = 0` (the couplings keep the
    /// magnetisation), so `e^{−iH0 s} = e^{−iH_B s} e^{−iH_g s}` with the second factor the
    /// closed propagators' dynamics of this chain ([`crate::observe::storage`]). Not for
    /// charging (the builder refuses `ω ≤ 0` there).
    pub(crate) fn field_off(&self) -> Chain {
        Chain { omega: 0.0, keep_field: false, omega_sites: None, ..self.clone() }
    }

    /// The builder that reproduces this chain.
    pub fn to_builder(&self) -> ChainBuilder {
        ChainBuilder {
            n_sites: self.n_sites,
            b: self.b,
            g: self.g,
            alpha: self.alpha,
            omega: self.omega,
            couplings: self.couplings.clone(),
            boundary: self.boundary,
            site_fields: self.site_fields.clone(),
            gamma: self.gamma,
            keep_field: self.keep_field,
            omega_sites: self.omega_sites.clone(),
        }
    }
}

/// Validating builder for [`Chain`].
#[derive(Debug, Clone)]
pub struct ChainBuilder {
    n_sites: usize,
    b: f64,
    g: f64,
    alpha: f64,
    omega: f64,
    couplings: Couplings,
    boundary: Boundary,
    site_fields: Option<Vec<f64>>,
    gamma: f64,
    keep_field: bool,
    omega_sites: Option<Vec<f64>>,
}

impl ChainBuilder {
    /// Number of sites `N ≥ 1` (an explicit coupling matrix must then be `N × N`).
    pub fn n_sites(mut self, n_sites: usize) -> Self {
        self.n_sites = n_sites;
        self
    }
    /// Storage field `B > 0`.
    pub fn b(mut self, b: f64) -> Self {
        self.b = b;
        self
    }
    /// Coupling scale `g ≥ 0` (multiplies every pattern, the explicit matrix included).
    pub fn g(mut self, g: f64) -> Self {
        self.g = g;
        self
    }
    /// Anisotropy `α` (any finite value; the paper uses `|α| ≤ 1`).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
    /// Charging field `ω > 0`.
    pub fn omega(mut self, omega: f64) -> Self {
        self.omega = omega;
        self
    }
    /// Coupling pattern.
    pub fn couplings(mut self, couplings: Couplings) -> Self {
        self.couplings = couplings;
        self
    }
    /// Boundary condition (ignored for an explicit matrix).
    pub fn boundary(mut self, boundary: Boundary) -> Self {
        self.boundary = boundary;
        self
    }

    /// Per-site storage fields `B_i`, `H_B = Σ_i B_i Z_i` (one for each site, each finite and
    /// `> 0`, so all-down stays the ground state of `H_B`); `B` ([`ChainBuilder::b`]) stays
    /// the nominal field, the unit of the disorder ([`Disorder`]). The charging dynamics
    /// does not see them (the field is off while charging); the work `W = ⟨H0⟩ − E_0` does.
    pub fn site_fields(mut self, fields: Vec<f64>) -> Self {
        self.site_fields = Some(fields);
        self
    }

    /// XYZ anisotropy `γ` (finite): `H_g = −Σ g_ij [Z_iZ_j + α((1+γ) X_iX_j + (1−γ) Y_iY_j)]`.
    /// `(1+γ)XX + (1−γ)YY = (XX + YY) + γ(XX − YY)`: besides the flip-flop of anti-parallel
    /// pairs, `α γ ≠ 0` flips parallel pairs `↓↓ ↔ ↑↑` with amplitude `−2αγ g_ij`, so the
    /// magnetisation is no longer conserved (only the parity of the up spins is).
    pub fn gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }

    /// Keeps the storage field on while charging: `H = H0 + V` instead of `H_g + V`.
    pub fn keep_field(mut self, keep: bool) -> Self {
        self.keep_field = keep;
        self
    }

    /// Per-site multipliers `w_i` of the charging field, `V = ω Σ_i w_i X_i` (`N` finite
    /// numbers; `1, 0, …, 0` charges one end of the chain).
    pub fn omega_sites(mut self, weights: Vec<f64>) -> Self {
        self.omega_sites = Some(weights);
        self
    }

    /// Validates the parameters and expands the couplings.
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] for `N = 0`, `N > MAX_SITES`, non-finite
    /// values, `B ≤ 0`, `ω ≤ 0`, `g < 0`, `p < 0`, per-site fields that are not `N`
    /// finite numbers `> 0`; [`crate::SpinbatError::InvalidMatrix`]
    /// for a matrix of the wrong shape, asymmetric, with a non-zero diagonal or non-finite.
    pub fn build(self) -> Result<Chain> {
        let n = self.n_sites;
        check_n_sites(n)?;
        check_b(self.b)?;
        check_omega(self.omega)?;
        check_g(self.g)?;
        check_alpha(self.alpha)?;
        let matrix = self.couplings.validate(n, self.g)?;
        if let Some(f) = &self.site_fields {
            if f.len() != n {
                return Err(invalid("site_fields", f.len(), format!("needs one field for each of the {n} sites")));
            }
            if let Some(b) = f.iter().find(|b| !(b.is_finite() && **b > 0.0)) {
                return Err(invalid("site_fields", b, "every site field B_i must be a finite number > 0"));
            }
        }
        check_gamma(self.gamma)?;
        if let Some(w) = &self.omega_sites {
            check_omega_sites(w, n)?;
        }
        Ok(Chain {
            n_sites: n,
            b: self.b,
            g: self.g,
            alpha: self.alpha,
            omega: self.omega,
            couplings: self.couplings,
            boundary: self.boundary,
            matrix,
            site_fields: self.site_fields,
            gamma: self.gamma,
            keep_field: self.keep_field,
            omega_sites: self.omega_sites,
        })
    }
}

/// Whether `v` is zero (serde: a default `γ` is not recorded).
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// `1 ≤ N ≤ MAX_SITES`, checked alone (the builder and [`ChainSpec::problems`] share it).
pub(crate) fn check_n_sites(n: usize) -> Result<()> {
    if n == 0 {
        return Err(invalid("n_sites", n, "a chain needs at least one site"));
    }
    if n > MAX_SITES {
        return Err(invalid(
            "n_sites",
            n,
            format!("at most {MAX_SITES} sites are supported (the state has 2^N amplitudes)"),
        ));
    }
    Ok(())
}

/// `B > 0` and finite.
pub(crate) fn check_b(b: f64) -> Result<()> {
    positive("b", b)
}

/// `ω > 0` and finite.
pub(crate) fn check_omega(omega: f64) -> Result<()> {
    positive("omega", omega)
}

/// `g ≥ 0` and finite.
pub(crate) fn check_g(g: f64) -> Result<()> {
    finite("g", g)?;
    if g < 0.0 {
        return Err(invalid("g", g, "must be >= 0 (attractive couplings, as in the paper)"));
    }
    Ok(())
}

/// `α` finite.
pub(crate) fn check_alpha(alpha: f64) -> Result<()> {
    finite("alpha", alpha)
}

/// `γ` finite.
pub(crate) fn check_gamma(gamma: f64) -> Result<()> {
    finite("gamma", gamma)
}

/// `N` finite weights `w_i`, not all zero (the field must act somewhere).
pub(crate) fn check_omega_sites(w: &[f64], n: usize) -> Result<()> {
    if w.len() != n {
        return Err(invalid(
            "omega_sites",
            w.len(),
            format!("needs one weight for each of the {n} sites, got {}", w.len()),
        ));
    }
    if let Some(v) = w.iter().find(|v| !v.is_finite()) {
        return Err(invalid("omega_sites", v, "every weight w_i must be a finite number"));
    }
    if w.iter().all(|&v| v == 0.0) {
        return Err(invalid("omega_sites", "0,...,0", "at least one weight must be non-zero"));
    }
    Ok(())
}

pub(crate) fn finite(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(invalid(name, v, "must be a finite number"))
    }
}

fn positive(name: &'static str, v: f64) -> Result<()> {
    finite(name, v)?;
    if v > 0.0 {
        Ok(())
    } else {
        Err(invalid(name, v, "must be > 0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_neighbour_open_and_periodic() {
        let c = Chain::builder(4).couplings(Couplings::NearestNeighbour).g(2.0).build().unwrap();
        assert_eq!(c.pairs().len(), 3);
        assert_eq!(c.total_coupling(), 6.0);
        let c = c.to_builder().boundary(Boundary::Periodic).build().unwrap();
        assert_eq!(c.pairs().len(), 4);
        assert_eq!(c.coupling(0, 3), 2.0);
    }

    #[test]
    fn power_law_periodic_uses_minimum_image() {
        let c =
            Chain::builder(6).couplings(Couplings::PowerLaw { p: 2.0 }).boundary(Boundary::Periodic).build().unwrap();
        assert_eq!(c.coupling(0, 5), 1.0);
        assert_eq!(c.coupling(0, 4), 0.25);
        assert_eq!(c.coupling(0, 3), 1.0 / 9.0);
    }

    #[test]
    fn fast_sums_equal_pairwise_sums() {
        for couplings in [Couplings::NearestNeighbour, Couplings::PowerLaw { p: 1.3 }, Couplings::PowerLaw { p: 0.0 }] {
            for boundary in [Boundary::Open, Boundary::Periodic] {
                for n in [1, 2, 3, 7, 10] {
                    let c = Chain::builder(n).couplings(couplings.clone()).boundary(boundary).g(0.7).build().unwrap();
                    let pairs = c.pairs();
                    let g: f64 = pairs.iter().map(|p| p.2).sum();
                    assert!((c.total_coupling() - g).abs() < 1e-12 * g.max(1.0));
                    let rows = (0..n).map(|i| (0..n).map(|j| c.coupling(i, j).abs()).sum::<f64>()).fold(0.0, f64::max);
                    assert!((c.max_abs_row_sum() - rows).abs() < 1e-12 * rows.max(1.0));
                    let f = c.toeplitz_kernel().unwrap();
                    for (i, j, gij) in pairs {
                        assert_eq!(f[j - i], gij);
                    }
                }
            }
        }
    }

    #[test]
    fn bad_parameters_are_rejected() {
        assert!(Chain::builder(0).build().is_err());
        assert!(Chain::builder(3).b(f64::NAN).build().is_err());
        assert!(Chain::builder(3).omega(-1.0).build().is_err());
        assert!(Chain::builder(3).g(-1.0).build().is_err());
        assert!(Chain::builder(3).couplings(Couplings::PowerLaw { p: -0.5 }).build().is_err());
        assert!(Chain::builder(3).alpha(f64::INFINITY).build().is_err());
    }
}
