//! Strong coupling (paper Sec. III B, Fig. 4): the emergent `N`-body coupling between
//! all-down and all-up, and the slow oscillation of the work it drives.
//!
//! ## The effective Hamiltonian
//! For `g ≫ ω` the all-down `|D⟩` and all-up `|U⟩` states are the degenerate ground states
//! of `H_g` (energy `E_d = −Σ_{i<j} g_ij`, any `|α| < 1`); `V = ω Σ_i X_i` couples them
//! only at `N`-th order, through every number `k = 1..N−1` of up spins. Projected on
//! `P = {|D⟩, |U⟩}` (Löwdin / Brillouin–Wigner partitioning, `Q = 1 − P`,
//! `R(E) = (E − QHQ)^{−1}`, `v = QH|D⟩`, `w = QH|U⟩`):
//! ```text
//! H_eff(E) = [ E_d + s(E)   t(E)      ]     s = ⟨v|R|v⟩ = ⟨w|R|w⟩,  t = ⟨w|R|v⟩,
//!            [ t(E)         E_d + s(E) ]
//! ```
//! exactly: the eigenvalues of `H` with weight on `P` solve `E = E_d + s(E) ± t(E)`, the
//! `+` root in the even parity sector (`P = Π X_i`, state `(|D⟩ + |U⟩)/√2`), the `−`
//! root in the odd one. This module defines
//! `J_eff = (E_+ − E_−)/2`, so that `H_eff ≈ E̅ + J_eff (|U⟩⟨D| + |D⟩⟨U|)`, and the splitting
//! `Δ = 2|J_eff|`. Paper: `J_eff → ω²/g` (`N = 2`, Eq. 15) and `3ω³/(8g²)` (three
//! all-coupled spins), up to the sign: with basis kets of phase `+1` and `α = 0`,
//! `J_eff` has the sign `(−1)^{N−1}` (the even state lies lowest for even `N`).
//!
//! ## How it is computed without cancellation
//! At `g = 100B`, `ω = 4B` the splitting is `~10⁻⁹` (nearest neighbour) or `~10⁻¹²`
//! (`p = 1`) by `N = 8`, while the eigenvalues are `O(gN)`: a difference of eigenvalues
//! in double precision keeps no digit of it. Instead:
//! 1. *Resolvent by recursion* ([`Partition`]). `H_g` conserves `k`, `V` changes it by
//!    `±1`, so `QHQ` is block tridiagonal with blocks of size `C(N, k)`. Right-connected
//!    Schur complements `K_{N−1} = D_{N−1} − E`,
//!    `K_k = D_k − E − V_{k,k+1} K_{k+1}^{−1} V_{k+1,k}` (Cholesky, faer), then
//!    `x_1 = −K_1^{−1} v`, `x_{k+1} = −K_{k+1}^{−1} V_{k+1,k} x_k` give `x = R v`, and
//!    `s = v·x_1`, `t = w·x_{N−1}`, `⟨v|R²|v⟩ = |x|²`, `⟨w|R²|v⟩ = x·Px`.
//!    Energies are measured from `E_d` (`H_g − E_d` has the exact diagonal
//!    `2 Σ_{anti-parallel} g_ij`), and for `α ≥ 0` every term of `t` has the same sign, so
//!    nothing cancels. Every `K_k` positive definite ⇔ `E` below the spectrum of `QHQ`:
//!    the Cholesky factorisations certify it (else a typed error).
//! 2. *The two roots.* `f_±(ε) = ε − s(ε) ∓ t(ε)` (`ε = E − E_d`) is increasing and
//!    convex below the spectrum of `QHQ`, and `f_±(0) = −⟨u_±|R(E_d)|u_±⟩ ≥ 0`
//!    (`u_± = (v ± w)/√2`), so Newton's method from `ε = 0` converges monotonically to
//!    `ε_± ≤ 0`, which is the ground level of each sector (`f'_± = 1 + |x|² ± x·Px`).
//! 3. *The splitting from an identity.* The resolvent identity
//!    `s(E_+) − s(E_−) = −(E_+ − E_−) ⟨v|R(E_+) R(E_−)|v⟩` turns the difference of the two
//!    root equations into
//!    `J_eff = Z t̄`, `t̄ = (t(E_+) + t(E_−))/2`, `Z = 1/(1 + x_+·x_−)`:
//!    exact, with no difference of large numbers (`x_+·x_− > 0`). Compared with the
//!    textbook `J ≈ Z t(E̅)` at `E̅ = E_d + s(E̅)`, it has no `O((J/gap)²)` error, which
//!    matters where `Δ` is large. `Z` is the weight of `|D⟩, |U⟩` in the doublet:
//!    exactly `z_± = 1/(1 + |x_±|² ± x_±·Px_±)` in `|±⟩`.
//!
//! The leading order `J_eff ≈ c_N ω^N/g^{N−1}` ([`Partition::leading_transfer`]) is the
//! same recursion without `V` inside `Q` and at `E = E_d`:
//! `t_0 = ⟨w|G_{N−1} V ⋯ V G_1|v⟩`, `G_k = (E_d − D_k)^{−1}`, which is exactly of that form;
//! the relative corrections are `O((ω/g)²)` (two extra virtual flips).
//! `N = 1` has no `Q` space: `J_eff = ω`, `c_1 = 1`.
//!
//! **Accuracy.** `J_eff` to a few `ε_mach` relative (the conditioning of the positive
//! definite `K_k` and the `O(ε_mach)` roots). Checked in `tests/contract/effective.rs`
//! against closed forms (`N = 2`, any `α`; three all-coupled spins), against the dense
//! parity-sector eigenvalues where `Δ ≫ ε_mach ‖H‖`, and against the textbook `Z t(E̅)`.
//! **Cost.** `≈ 3 Σ_k C(N,k)³` flops per evaluation, `~7` evaluations (two Newton runs
//! of about 3 steps each, and `c_N`; 7 in all at `g = 100`, `ω = 4`); memory `Σ_k C(N,k)² = C(2N, N)` numbers; `N ≤ 16`.
//!
//! ## The slow oscillation of the work ([`slow_oscillation`])
//! With real eigenvectors `|m⟩` of `H` and `a_m = ⟨m|D⟩`,
//! `W(t) = Σ_{m,n} a_m a_n ⟨m|H0|n⟩ cos((E_m − E_n)t) − E_0`. The *slow part* keeps
//! * the diagonal terms (the dephased average; clusters of degenerate levels together),
//! * the tunnelling term between `|+⟩` and `|−⟩`, the eigenstates of the even and odd
//!   sectors with the largest overlap with `|D⟩` (at strong coupling, the two ground
//!   states), at frequency `Δ` from the partitioning (not from the eigenvalues):
//!
//! `W_slow(t) = C + A cos(Δt)`, `C = Σ_m a_m² ⟨m|H_g|m⟩ − E_0`,
//! `A = 2 a_+ a_− ⟨+|H_B|−⟩` (`⟨m|H_B|m⟩ = 0`: `H_B` anticommutes with `P`, and
//! `⟨m|H_g|n⟩ = 0` across sectors). Every dropped term oscillates at a frequency of at
//! least the gap to the rest of the spectrum (`fast_gap`, `O(g)` for the terms involving
//! the doublet, `O(ω)` or more between excited states, whose amplitudes are `O((ω/g)²)`),
//! so averaging `W` over a window of many fast periods but `≪ 1/Δ` gives `W_slow`. The
//! first maximum is at `T_w = π/Δ` (`A < 0`, the strong-coupling case, `A ≈ −NB`), where
//! `W_slow = C + |A| ≈ 2NB`; for two spins, `W_slow = 2ω²/g + 4B sin²(ω²t/g)` (Eq. 14) to
//! leading order. Checked against direct evolution (window averages, `N = 2, 3, 4`,
//! `g = 100`) in `tests/contract/effective.rs`. The parity sectors are diagonalised densely,
//! `N ≤ 14`.

mod partition;
mod slow;

pub use crate::symmetry::parity::{ParitySector, MAX_SITES as MAX_SLOW_SITES};
pub use partition::{Partition, ResolventTerms, MAX_SITES};
pub use slow::{slow_oscillation, SlowOscillation};

use crate::error::{Result, SpinbatError};
use crate::model::Chain;
use serde::Serialize;

/// Newton steps allowed per root (the convergence is quadratic after the first few).
const MAX_NEWTON: usize = 60;

/// The exact effective coupling between `|D⟩` and `|U⟩` and what it is made of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectiveCoupling {
    /// Number of sites `N`.
    pub n_sites: usize,
    /// `J_eff = (E_+ − E_−)/2 = Z t̄` (units `B`).
    pub j_eff: f64,
    /// `Δ = 2|J_eff|`, the splitting of the doublet (units `B`).
    pub delta: f64,
    /// `Z = 1/(1 + ⟨v|R(E_+) R(E_−)|v⟩)`.
    pub z: f64,
    /// Weight of `(|D⟩ + |U⟩)/√2` in the even ground state, `1/(1 + ⟨u_+|R(E_+)²|u_+⟩)`.
    pub z_even: f64,
    /// Weight of `(|D⟩ − |U⟩)/√2` in the odd ground state.
    pub z_odd: f64,
    /// `E_d = −Σ_{i<j} g_ij`.
    pub e_d: f64,
    /// `E_+ − E_d` (even ground level; accurate to `ε_mach` relative, no cancellation).
    pub shift_even: f64,
    /// `E_− − E_d` (odd ground level).
    pub shift_odd: f64,
    /// `c_N` in `J_eff ≈ c_N ω^N / g^{N−1}` as `g/ω → ∞`.
    pub c_n: f64,
    /// `J_pert = c_N ω^N / g^{N−1}`, the leading perturbative coupling.
    pub j_pert: f64,
    /// `ε_mach ‖H‖` with `‖H‖ ≤ Σ|g_ij|(1 + 2|α|) + Nω`: the rounding error a plain
    /// difference of eigenvalues would carry.
    pub eigen_rounding: f64,
    /// Resolvent evaluations made.
    pub evaluations: usize,
}

impl EffectiveCoupling {
    /// `J_eff / J_pert`, which tends to 1 as `g/ω → ∞`.
    pub fn ratio_to_leading_order(&self) -> f64 {
        self.j_eff / self.j_pert
    }
}

/// The exact effective coupling `J_eff` of `|D⟩` and `|U⟩`, its splitting `Δ = 2|J_eff|`,
/// the weights `Z` and the leading coefficient `c_N` (see the [module docs](self)).
///
/// # Errors
/// [`SpinbatError::InvalidParameter`] for `N > MAX_SITES`; [`SpinbatError::TooLarge`] when
/// the blocks do not fit in memory; [`SpinbatError::Unsupported`] when `|D⟩, |U⟩` are not
/// an isolated ground doublet (`E_d` not below the spectrum of `QHQ`: weak coupling,
/// `|α| ≥ 1`, or couplings that leave sites disconnected); [`SpinbatError::NotConverged`]
/// if Newton's method fails (not expected: it is monotone).
///
/// ```
/// use spinbat::{Chain, Couplings, effective};
/// let chain = Chain::builder(2).g(100.0).omega(4.0).couplings(Couplings::NearestNeighbour).build()?;
/// let j = effective::effective_coupling(&chain)?;
/// // two spins, alpha = 0: J = -(sqrt(g^2 + 4 omega^2) - g)/2 = -omega^2/g (1 - omega^2/g^2 + ...)
/// let exact = -2.0 * 16.0 / (100.0 + (100.0f64 * 100.0 + 64.0).sqrt());
/// assert!((j.j_eff - exact).abs() < 1e-15 * exact.abs());
/// assert!((j.c_n + 1.0).abs() < 1e-15); // J ≈ c_2 ω²/g, |c_2| = 1 (Eq. 15)
/// # Ok::<(), spinbat::SpinbatError>(())
/// ```
pub fn effective_coupling(chain: &Chain) -> Result<EffectiveCoupling> {
    if !chain.has_paper_charging() {
        return Err(crate::SpinbatError::Unsupported {
            solver: "effective coupling",
            reason: format!(
                "the strong-coupling analysis takes the paper's charging H = H_g + omega sum_i X_i with XXZ couplings \
                 (its spin-flip parity sectors and the N-body coupling of all-down and all-up), not {}",
                chain.charging_extensions()
            ),
        });
    }
    let n = chain.n_sites();
    let omega = chain.omega();
    let h_norm = chain.total_abs_coupling() * (1.0 + 2.0 * chain.alpha().abs()) + n as f64 * omega;
    if n == 1 {
        // H = ω X on {|D⟩, |U⟩}: E_± = ±ω exactly
        return Ok(EffectiveCoupling {
            n_sites: 1,
            j_eff: omega,
            delta: 2.0 * omega,
            z: 1.0,
            z_even: 1.0,
            z_odd: 1.0,
            e_d: 0.0,
            shift_even: omega,
            shift_odd: -omega,
            c_n: 1.0,
            j_pert: omega,
            eigen_rounding: f64::EPSILON * h_norm,
            evaluations: 0,
        });
    }
    let partition = Partition::new(chain)?;
    let mut evaluations = 0;
    let even = ground_root(&partition, 1.0, &mut evaluations)?;
    let odd = ground_root(&partition, -1.0, &mut evaluations)?;
    let overlap: f64 = even.x.iter().zip(&odd.x).map(|(a, b)| a * b).sum();
    let z = 1.0 / (1.0 + overlap);
    let j_eff = 0.5 * (even.t + odd.t) * z;
    let j_pert = partition.leading_transfer()?;
    evaluations += 1;
    Ok(EffectiveCoupling {
        n_sites: n,
        j_eff,
        delta: 2.0 * j_eff.abs(),
        z,
        z_even: 1.0 / (1.0 + even.norm2 + even.cross),
        z_odd: 1.0 / (1.0 + odd.norm2 - odd.cross),
        e_d: partition.e_d(),
        shift_even: even.eps,
        shift_odd: odd.eps,
        c_n: j_pert * chain.g().powi(n as i32 - 1) / omega.powi(n as i32),
        j_pert,
        eigen_rounding: f64::EPSILON * h_norm,
        evaluations,
    })
}

/// The root `ε_σ ≤ 0` of `f_σ(ε) = ε − s(ε) − σ t(ε)` by Newton's method from `ε = 0`
/// (monotone: `f_σ` is increasing and convex below the spectrum of `QHQ`, `f_σ(0) ≥ 0`),
/// with the resolvent terms at the last iterate.
fn ground_root(partition: &Partition, sigma: f64, evaluations: &mut usize) -> Result<ResolventTerms> {
    let mut eps = 0.0;
    let mut last_step = f64::NAN;
    for _ in 0..MAX_NEWTON {
        let r = partition.evaluate(eps)?;
        *evaluations += 1;
        let f = eps - r.s - sigma * r.t;
        let slope = 1.0 + r.norm2 + sigma * r.cross;
        let step = f / slope;
        // converged once the step is at rounding level of the terms that make f
        if step <= 4.0 * f64::EPSILON * (eps.abs() + r.s.abs() + r.t.abs()) {
            return Ok(r);
        }
        eps -= step;
        last_step = step;
    }
    Err(SpinbatError::NotConverged {
        what: "effective coupling (Newton on E = E_d + s(E) +- t(E))",
        reason: format!("no convergence in {MAX_NEWTON} steps; last step {last_step:e} at E - E_d = {eps:e}"),
    })
}

/// The paper's closed form of `|J_eff|` at leading order, where one applies (`α = 0`):
/// two spins, `ω²/g_12` (Eq. 15); three spins all coupled with the same `g'`,
/// `3ω³/(8g'²)`. Returns the formula's name and value.
pub fn closed_form(chain: &Chain) -> Option<(&'static str, f64)> {
    if chain.alpha() != 0.0 {
        return None;
    }
    match chain.n_sites() {
        2 => Some((
            "omega^2/g (Eq. 15)",
            crate::analytic::two_spin_effective_coupling(chain.coupling(0, 1), chain.omega()),
        )),
        3 if crate::propagate::dicke::is_permutation_symmetric(chain) => Some((
            "3 omega^3/(8 g^2) (three spins all coupled)",
            crate::analytic::three_spin_effective_coupling(chain.coupling(0, 1), chain.omega()),
        )),
        _ => None,
    }
}
