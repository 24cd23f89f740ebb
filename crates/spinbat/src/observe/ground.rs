//! Is the all-down start the ground state of the storage Hamiltonian `H0`?
//!
//! The work `W(t) = ⟨H0⟩_t − E_0` is always measured from the energy `E_0 = −NB − G` of
//! the all-down state `|D⟩`. When `|D⟩` is the ground state, `W ≥ 0` and the battery can
//! only be charged; when it is not (`|α| > 1`, antiferromagnetic couplings), `W` can go
//! negative and "maximal work 0 at T = 0" is no failure of the charger. [`ground_state`]
//! decides which, by the cheapest argument that settles it:
//!
//! 1. **Proof** (any `N`): for `B > 0`, `g_ij ≥ 0` and `|α| ≤ 1`,
//!    `H0 − E_0 = B Σ_i (Z_i + 1) + Σ_{i<j} g_ij [1 − Z_iZ_j − α(X_iX_j + Y_iY_j)]`; each
//!    pair term has eigenvalues `0, 0` (aligned), `2 − 2α` (triplet) and `2 + 2α` (singlet),
//!    all `≥ 0`, and every term annihilates `|D⟩`: `E_0` is the ground energy.
//! 2. **One magnon** (`N ≤ 2000`): `H0` conserves `Σ Z_i`; on the `N` states with one spin
//!    up it is `M_ii = E_0 + 2B + 2 Σ_j g_ij`, `M_ij = −2α g_ij`. If `λ_min(M) < E_0`, `|D⟩`
//!    is not the ground state (and `λ_min(M)` bounds the ground energy from above).
//! 3. **Exact ground energy**: for `α = 0` the minimum of the diagonal over all `2^N`
//!    basis states (`N ≤ 30`, streamed); otherwise Lanczos on `H0` in the full space from a fixed
//!    pseudo-random start (`N ≤ 16`), to `10⁻¹⁰` relative in the lowest Ritz value (an upper
//!    bound on the ground energy).
//!
//! Beyond those sizes, outside the proven case and unless one magnon settles it, the answer
//! is "not checked" (`None`).

use crate::error::{Result, SpinbatError};
use crate::model::Chain;
use crate::operator::Operators;
use num_complex::Complex64;
use serde::Serialize;

/// Largest `N` of the one-magnon check (an `N × N` symmetric eigenproblem).
pub const ONE_MAGNON_MAX_SITES: usize = 2000;
/// Largest `N` for the exact extremes of the Ising diagonal (`α = 0`): `2^N` energies
/// streamed, none stored ([`ising_extremes`]; 0.11 s at `N = 26`, 0.38 s at `N = 28` on two
/// cores, about four times more per two sites).
pub const DIAGONAL_MAX_SITES: usize = 30;
/// Largest `N` for Lanczos on `H0` (`α ≠ 0`).
pub const LANCZOS_MAX_SITES: usize = 16;

/// What is known of the ground state of `H0` relative to the all-down start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroundState {
    /// `Some(true)`: `|D⟩` is a ground state of `H0`; `Some(false)`: some state lies below
    /// it; `None`: not checked (too large for the exact methods, outside the proven case).
    pub initial_is_ground: Option<bool>,
    /// The ground energy of `H0` (units `B`) where it is known: `E_0` when proved, the
    /// exact minimum or a Lanczos value otherwise; an upper bound from one magnon when only
    /// that ran (see `method`). `None` when not checked.
    pub ground_energy: Option<f64>,
    /// How it was decided, in words.
    pub method: String,
}

/// Whether all-down is proved a ground state of `H0`: `B > 0`, `g_ij ≥ 0` and `|α| ≤ 1`
/// make `H0 − E_0` a sum of positive semi-definite terms that annihilate it.
pub fn all_down_is_proved_ground(chain: &Chain) -> bool {
    chain.all_down_is_proved_ground()
}

/// Decides whether the all-down state is the ground state of `H0` (see the module docs).
///
/// # Errors
/// [`SpinbatError::NotConverged`] if an eigensolver fails.
pub fn ground_state(chain: &Chain) -> Result<GroundState> {
    let n = chain.n_sites();
    let e0 = chain.initial_energy();
    // tolerance of "below E_0": rounding of sums of the couplings
    let scale = chain.field_abs_sum() + chain.total_abs_coupling() * chain.pair_norm();
    let tol = 1e-10 * scale.max(1.0);
    if all_down_is_proved_ground(chain) {
        return Ok(GroundState {
            initial_is_ground: Some(true),
            ground_energy: Some(e0),
            method: "proved: B > 0, g_ij >= 0 and |alpha| <= 1 make H0 - E0 a sum of positive semi-definite terms that annihilate all-down".into(),
        });
    }
    let magnon = if (2..=ONE_MAGNON_MAX_SITES).contains(&n) { Some(one_magnon_min(chain, e0)?) } else { None };
    if let Some(m) = magnon.filter(|&m| m < e0 - tol) {
        // exact where the full space is small; one magnon already decides the question
        let exact = exact_ground(chain)?;
        let (energy, how) = match exact {
            Some((e, how)) => (e.min(m), how),
            None => (m, "upper bound from the one-magnon sector".to_string()),
        };
        return Ok(GroundState {
            initial_is_ground: Some(false),
            ground_energy: Some(energy),
            method: format!("a state with one spin up lies below all-down; ground energy: {how}"),
        });
    }
    match exact_ground(chain)? {
        Some((e, how)) => Ok(GroundState {
            initial_is_ground: Some(e >= e0 - tol),
            ground_energy: Some(e.min(e0)),
            method: how,
        }),
        None => Ok(GroundState {
            initial_is_ground: None,
            ground_energy: None,
            method: format!(
                "not checked: outside the proven case (B > 0, g_ij >= 0, |alpha| <= 1), one magnon does not go below all-down, and N = {n} is beyond the exact check (N <= {} for alpha = 0, N <= {} otherwise)",
                DIAGONAL_MAX_SITES, LANCZOS_MAX_SITES
            ),
        }),
    }
}

/// `λ_min` of `H0` on the one-magnon states (see the module docs).
fn one_magnon_min(chain: &Chain, e0: f64) -> Result<f64> {
    let n = chain.n_sites();
    let mut m = faer::Mat::<f64>::zeros(n, n);
    for i in 0..n {
        m[(i, i)] = e0 + 2.0 * chain.field(i);
    }
    for (i, j, g) in chain.pairs() {
        m[(i, i)] += 2.0 * g;
        m[(j, j)] += 2.0 * g;
        m[(i, j)] = -2.0 * chain.alpha() * g;
        m[(j, i)] = -2.0 * chain.alpha() * g;
    }
    let ev = m
        .self_adjoint_eigenvalues(faer::Side::Lower)
        .map_err(|e| SpinbatError::NotConverged { what: "one-magnon eigenvalues", reason: format!("{e:?}") })?;
    // the propagation that follows runs this crate's kernels (numeric::simd)
    crate::numeric::simd::clear_upper_state();
    Ok(ev.first().copied().unwrap_or(f64::INFINITY))
}

/// The spectral range `(E_min, E_max)` of `H0` where an exact method reaches it: the
/// extremes of the Ising energy over all `2^N` basis states for `α = 0` (`N ≤ 30`), Lanczos
/// on `±H0` otherwise (`N ≤ 16`, to `10⁻¹⁰` relative); `None` beyond. The battery's capacity
/// of a pure state is `E_max − E_min` ([`crate::observe::ergotropy`]).
///
/// # Errors
/// [`SpinbatError::NotConverged`] if Lanczos fails; [`SpinbatError::TooLarge`] from the
/// operators.
pub fn spectral_range(chain: &Chain) -> Result<Option<(f64, f64)>> {
    let n = chain.n_sites();
    if chain.alpha() == 0.0 && n <= DIAGONAL_MAX_SITES {
        return Ok(Some(ising_extremes(chain)));
    }
    if n <= LANCZOS_MAX_SITES {
        let ops = Operators::new(chain)?;
        return Ok(Some((lanczos_extreme(&ops, 1.0)?, -lanczos_extreme(&ops, -1.0)?)));
    }
    Ok(None)
}

/// The extremes `(min, max)` of the Ising energy `E(s) = Σ_i B_i z_i − Σ_{i<j} g_ij z_i z_j`
/// (`z_i = ±1`, bit `i` of `s` set for up) over all `2^N` basis states: the spectrum's ends
/// of `H0` at `α = 0`. Streamed without storing a state: the low `L ≤ 16` sites' energies
/// `E_L(l)` and the fields `f_j(l) = Σ_{i<L} g_ij z_i` they put on each higher site `j` are
/// tabulated once; each configuration `h` of the higher sites then adds
/// `E_H(h) − Σ_{j≥L} z_j(h) f_j(l)` to the whole table (`2^N (N − L + 1)` operations, in
/// parallel over `h`).
pub fn ising_extremes(chain: &Chain) -> (f64, f64) {
    use rayon::prelude::*;
    let n = chain.n_sites();
    let low = n.min(16);
    let b = |i: usize| chain.field(i);
    let z = |s: usize, i: usize| if (s >> i) & 1 == 1 { 1.0 } else { -1.0 };
    let pairs = chain.pairs();
    let nl = 1usize << low;
    let mut e_low = vec![0.0f64; nl];
    let mut field = vec![vec![0.0f64; nl]; n - low];
    for (l, e) in e_low.iter_mut().enumerate() {
        *e = (0..low).map(|i| b(i) * z(l, i)).sum();
        for &(i, j, g) in pairs.iter() {
            if j < low {
                *e -= g * z(l, i) * z(l, j);
            } else if i < low {
                field[j - low][l] += g * z(l, i);
            }
        }
    }
    let fold = |(lo, hi): (f64, f64), e: f64| (lo.min(e), hi.max(e));
    (0..1usize << (n - low))
        .into_par_iter()
        .fold(
            || ((f64::INFINITY, f64::NEG_INFINITY), vec![0.0f64; nl]),
            |(acc, mut buf), h| {
                // the high sites' own energy, then their coupling to the low ones
                let zh = |j: usize| z(h, j - low);
                let mut e_high: f64 = (low..n).map(|j| b(j) * zh(j)).sum();
                for &(i, j, g) in pairs.iter().filter(|p| p.0 >= low) {
                    e_high -= g * zh(i) * zh(j);
                }
                buf.copy_from_slice(&e_low);
                for (j, f) in (low..n).zip(&field) {
                    let zj = zh(j);
                    for (x, &fl) in buf.iter_mut().zip(f) {
                        *x -= zj * fl;
                    }
                }
                let acc = buf.iter().fold(acc, |a, &e| fold(a, e + e_high));
                (acc, buf)
            },
        )
        .map(|(acc, _)| acc)
        .reduce(|| (f64::INFINITY, f64::NEG_INFINITY), |a, b| (a.0.min(b.0), a.1.max(b.1)))
}

/// The ground energy of `H0` by an exact method where `N` allows, and how.
fn exact_ground(chain: &Chain) -> Result<Option<(f64, String)>> {
    let n = chain.n_sites();
    if chain.alpha() == 0.0 && n <= DIAGONAL_MAX_SITES {
        let (min, _) = ising_extremes(chain);
        return Ok(Some((min, format!("exact: minimum of the Ising energy over all 2^{n} basis states"))));
    }
    if n <= LANCZOS_MAX_SITES {
        let ops = Operators::new(chain)?;
        let e = lanczos_min(&ops)?;
        return Ok(Some((e, "Lanczos on H0 (full space), lowest Ritz value to 1e-10 relative".to_string())));
    }
    Ok(None)
}

/// Lowest eigenvalue of `H0` by Lanczos without reorthogonalisation (enough for the
/// extremal eigenvalue), from a deterministic pseudo-random start with weight on every
/// basis state; stops when the lowest Ritz value changes by less than `10⁻¹⁰` relative
/// over 5 steps, at an invariant subspace, or after 400 steps.
fn lanczos_min(ops: &Operators) -> Result<f64> {
    lanczos_extreme(ops, 1.0)
}

/// The lowest eigenvalue of `sign · H0` by [`lanczos_min`]'s iteration (`sign = −1`: minus
/// the highest eigenvalue of `H0`).
fn lanczos_extreme(ops: &Operators, sign: f64) -> Result<f64> {
    let d = ops.dim();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut v: Vec<Complex64> = (0..d)
        .map(|_| {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let r = (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
            Complex64::new(r - 0.5, 0.0)
        })
        .collect();
    let norm = v.iter().map(|x| x.norm_sqr()).sum::<f64>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    let mut v_prev = vec![Complex64::new(0.0, 0.0); d];
    let mut w = vec![Complex64::new(0.0, 0.0); d];
    let (mut alphas, mut betas) = (Vec::new(), Vec::new());
    let mut history: Vec<f64> = Vec::new();
    let mut beta_prev = 0.0;
    for _ in 0..400.min(d + 1) {
        ops.apply_h0(&v, &mut w);
        if sign != 1.0 {
            w.iter_mut().for_each(|x| *x *= sign);
        }
        let a: f64 = v.iter().zip(&w).map(|(x, y)| (x.conj() * y).re).sum();
        for k in 0..d {
            w[k] -= v[k] * a + v_prev[k] * beta_prev;
        }
        let b = w.iter().map(|x| x.norm_sqr()).sum::<f64>().sqrt();
        alphas.push(a);
        let theta = tridiagonal_min(&alphas, &betas);
        history.push(theta);
        let k = history.len();
        let scale = theta.abs().max(1.0);
        if b <= 1e-12 * scale || (k > 5 && (history[k - 6] - theta).abs() <= 1e-10 * scale) {
            return Ok(theta);
        }
        betas.push(b);
        std::mem::swap(&mut v_prev, &mut v);
        for k in 0..d {
            v[k] = w[k] / b;
        }
        beta_prev = b;
    }
    history
        .last()
        .copied()
        .ok_or(SpinbatError::NotConverged { what: "Lanczos ground energy", reason: "no step".into() })
}

/// Lowest eigenvalue of the symmetric tridiagonal matrix with diagonal `a` and
/// off-diagonal `b` (`b.len() = a.len() − 1`), by Sturm-sequence bisection.
fn tridiagonal_min(a: &[f64], b: &[f64]) -> f64 {
    let radius = a
        .iter()
        .enumerate()
        .map(|(i, &ai)| {
            let l = if i > 0 { b[i - 1].abs() } else { 0.0 };
            let r = b.get(i).map_or(0.0, |x| x.abs());
            (ai - l - r, ai + l + r)
        })
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (l, h)| (lo.min(l), hi.max(h)));
    let (mut lo, mut hi) = radius;
    // number of eigenvalues below x
    let count_below = |x: f64| {
        let mut count = 0;
        let mut q = 1.0;
        for i in 0..a.len() {
            let off = if i > 0 { b[i - 1] * b[i - 1] } else { 0.0 };
            q = a[i] - x - if i > 0 { off / q } else { 0.0 };
            if q == 0.0 {
                q = -1e-300;
            }
            if q < 0.0 {
                count += 1;
            }
        }
        count
    };
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if count_below(mid) >= 1 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::basis::magnetisation;
    use crate::model::Couplings;

    /// Lowest eigenvalue of `H0` from a dense eigendecomposition built from Pauli
    /// matrices with explicit Kronecker products (independent of `Operators`).
    fn dense_ground(chain: &Chain) -> f64 {
        let n = chain.n_sites();
        let d = 1usize << n;
        let mut h = faer::Mat::<f64>::zeros(d, d);
        for s in 0..d {
            // B Σ Z_i − Σ g_ij Z_i Z_j on the diagonal; bit i of s set = site i up
            let zi = |i: usize| if (s >> i) & 1 == 1 { 1.0 } else { -1.0 };
            let mut diag: f64 = (0..n).map(|i| chain.b() * zi(i)).sum();
            for i in 0..n {
                for j in i + 1..n {
                    let g = chain.coupling(i, j);
                    diag -= g * zi(i) * zi(j);
                    // α (XX + YY) = 2α (σ⁺σ⁻ + σ⁻σ⁺): flips an anti-parallel pair
                    if zi(i) != zi(j) {
                        h[(s ^ (1 << i) ^ (1 << j), s)] += -2.0 * chain.alpha() * g;
                    }
                }
            }
            h[(s, s)] += diag;
        }
        h.self_adjoint_eigenvalues(faer::Side::Lower).unwrap()[0]
    }

    #[test]
    fn streamed_ising_extremes_equal_the_stored_diagonal() {
        // against the full space's stored diagonal of H_g plus B times the magnetisation,
        // on chains with and without high sites (N > 16), open, periodic and long range
        for (n, couplings, boundary) in [
            (5, crate::Couplings::NearestNeighbour, crate::Boundary::Open),
            (11, crate::Couplings::PowerLaw { p: 0.7 }, crate::Boundary::Periodic),
            (18, crate::Couplings::PowerLaw { p: 1.3 }, crate::Boundary::Open),
            (19, crate::Couplings::NearestNeighbour, crate::Boundary::Periodic),
        ] {
            let chain = Chain::builder(n).b(0.8).g(1.7).couplings(couplings).boundary(boundary).build().unwrap();
            let ops = Operators::new(&chain).unwrap();
            let (lo, hi) = ops
                .diag_g()
                .iter()
                .enumerate()
                .map(|(s, g)| chain.b() * magnetisation(s, n) + g)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), e| (lo.min(e), hi.max(e)));
            let (a, b) = ising_extremes(&chain);
            let scale = 1.0 + lo.abs().max(hi.abs());
            assert!(
                (a - lo).abs() < 1e-12 * scale && (b - hi).abs() < 1e-12 * scale,
                "N = {n}: {a}, {b} vs {lo}, {hi}"
            );
        }
    }

    #[test]
    fn proved_case_is_the_ground_state_and_matches_dense() {
        let chain = Chain::builder(6).alpha(0.7).g(1.3).build().unwrap();
        let gs = ground_state(&chain).unwrap();
        assert_eq!(gs.initial_is_ground, Some(true));
        assert!((dense_ground(&chain) - chain.initial_energy()).abs() < 1e-10);
    }

    #[test]
    fn large_anisotropy_two_spins_is_not_ground() {
        // N = 2: the triplet state (|↑↓⟩ + |↓↑⟩)/√2 has energy 2g − 2αg against
        // E_0 = −2B − g, below it for α > 1 + B/g (here 5 > 2)
        let chain = Chain::builder(2).alpha(5.0).build().unwrap();
        let gs = ground_state(&chain).unwrap();
        assert_eq!(gs.initial_is_ground, Some(false));
        let e = gs.ground_energy.unwrap();
        assert!((e - dense_ground(&chain)).abs() < 1e-10, "{e} vs {}", dense_ground(&chain));
        // and just below the threshold α = 1 + B/g = 2 it is the ground state again
        let chain = Chain::builder(2).alpha(1.9).build().unwrap();
        assert_eq!(ground_state(&chain).unwrap().initial_is_ground, Some(true));
    }

    #[test]
    fn antiferromagnetic_ising_and_xxz_match_dense() {
        // negative couplings: an explicit matrix, α = 0 (diagonal) and α = 0.4 (Lanczos)
        let n = 7;
        let m: Vec<Vec<f64>> = (0..n)
            .map(|i| (0..n).map(|j| if i == j { 0.0 } else { -1.0 / (i as f64 - j as f64).abs() }).collect())
            .collect();
        for alpha in [0.0, 0.4, 1.6] {
            let chain =
                Chain::builder(n).g(1.7).alpha(alpha).couplings(Couplings::Matrix { m: m.clone() }).build().unwrap();
            let gs = ground_state(&chain).unwrap();
            let exact = dense_ground(&chain);
            assert_eq!(gs.initial_is_ground, Some(false), "alpha {alpha}");
            let e = gs.ground_energy.unwrap();
            assert!((e - exact).abs() < 1e-8 * exact.abs(), "alpha {alpha}: {e} vs {exact}");
        }
    }

    #[test]
    fn beyond_the_exact_sizes_is_not_checked_unless_one_magnon_decides() {
        // |α| slightly above 1 on a ferromagnetic chain: one magnon stays above E_0 (the
        // gap 2B + 2(1 − |α|)Σ_j g_ij > 0 for small excess), N too large for Lanczos
        let chain = Chain::builder(30).alpha(1.01).build().unwrap();
        let gs = ground_state(&chain).unwrap();
        assert_eq!(gs.initial_is_ground, None);
        assert_eq!(gs.ground_energy, None);
        // |α| = 3: the magnon band drops below E_0 at any N
        let chain = Chain::builder(30).alpha(3.0).build().unwrap();
        assert_eq!(ground_state(&chain).unwrap().initial_is_ground, Some(false));
    }
}
