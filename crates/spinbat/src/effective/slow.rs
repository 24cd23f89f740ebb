//! The slow oscillation of the work at strong coupling and its first maximum.

use super::{effective_coupling, EffectiveCoupling};
use crate::error::{invalid, Result, SpinbatError};
use crate::model::Chain;
use crate::symmetry::parity::{ParitySector, MAX_SITES};
use rayon::prelude::*;
use serde::Serialize;

/// `W_slow(t) = C + A cos(Δt)` and its first maximum (see the [module docs](super)).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlowOscillation {
    /// The effective coupling that sets `Δ`.
    #[serde(skip)]
    pub coupling: EffectiveCoupling,
    /// `C = Σ_m a_m² ⟨m|H0|m⟩ − E_0`, the dephased average of `W` (units `B`).
    pub mean: f64,
    /// `A = 2 a_+ a_− ⟨+|H_B|−⟩` (units `B`; `≈ −NB` at strong coupling).
    pub amplitude: f64,
    /// `Δ = 2|J_eff|`, from the partitioning (not from the eigenvalues).
    pub delta: f64,
    /// `T_w`: `π/Δ` when `A < 0`, else `2π/Δ` (units `1/B`).
    pub time: f64,
    /// `W_slow(T_w) = C + |A|` (units `B`).
    pub work: f64,
    /// `W_slow(T_w) / T_w` (units `B²`).
    pub power: f64,
    /// `2a_+²`, the weight of `(|D⟩ + |U⟩)/√2` in `|+⟩` (compare `z_even`).
    pub weight_even: f64,
    /// `2a_−²`, the weight of `(|D⟩ − |U⟩)/√2` in `|−⟩` (compare `z_odd`).
    pub weight_odd: f64,
    /// `|E_+ − E_−|` from the two dense eigensolvers, for comparison only: its error is
    /// `~ε_mach ‖H‖`, so it is meaningless once `Δ` is that small.
    pub delta_eigen: f64,
    /// Lowest frequency of a dropped term that involves `|+⟩` or `|−⟩`:
    /// `min(E_1^+, E_1^−) − max(E_+, E_−)` (the next level of either sector). `Δ` must be
    /// far below it for the slow part to be meaningful.
    pub fast_gap: f64,
}

impl SlowOscillation {
    /// `W_slow(t) = C + A cos(Δt)` (units `B`).
    pub fn work_at(&self, t: f64) -> f64 {
        self.mean + self.amplitude * (self.delta * t).cos()
    }
}

/// The slow oscillation of the work from the all-down state and its first maximum.
///
/// Diagonalises `H` in both parity sectors (faer), picks `|±⟩`, the eigenvectors of each
/// sector with the largest overlap with `|D⟩`, and combines
/// `C = NB + Σ_clusters ⟨D_c|H_g − E_d|D_c⟩` (`D_c` the projection of `|D⟩` on a cluster
/// of degenerate levels, `⟨m|H_g − E_d|m⟩ = E_m − E_d − ⟨m|V|m⟩`),
/// `A = 2 a_+ a_− ⟨+|H_B|−⟩` and `Δ` from [`effective_coupling`].
/// Cost: two dense eigendecompositions of size `2^{N−1}` plus the partitioning.
///
/// # Errors
/// [`SpinbatError::InvalidParameter`] for `N > 14` ([`crate::symmetry::parity::MAX_SITES`]);
/// [`SpinbatError::TooLarge`] when the sectors do not fit in memory; every error of
/// [`effective_coupling`]; [`SpinbatError::Unsupported`] when the state of largest overlap
/// with `|D⟩` is not the non-degenerate ground state of its sector (not the strong-coupling
/// regime).
pub fn slow_oscillation(chain: &Chain) -> Result<SlowOscillation> {
    slow_with(chain, true)
}

/// [`slow_oscillation`] with (`reduce`) or without the symmetry reduction of the sectors.
fn slow_with(chain: &Chain, reduce: bool) -> Result<SlowOscillation> {
    let n = chain.n_sites();
    if n > MAX_SITES {
        return Err(invalid(
            "n_sites",
            n,
            format!("the slow oscillation diagonalises the parity sectors densely: N <= {MAX_SITES}"),
        ));
    }
    if chain.has_site_fields() {
        return Err(SpinbatError::Unsupported {
            solver: "slow oscillation",
            reason: "the strong-coupling analysis takes one field B on every site; this chain has per-site fields"
                .to_string(),
        });
    }
    let coupling = effective_coupling(chain)?;
    let mut mean = n as f64 * chain.b();
    let mut sectors: Vec<ParitySector> = Vec::with_capacity(2);
    let mut next_levels = Vec::with_capacity(2);
    for parity in [1i8, -1] {
        let sector =
            if reduce { ParitySector::new(chain, parity)? } else { ParitySector::without_symmetry(chain, parity)? };
        let levels = sector.levels();
        let norm = levels.iter().fold(0.0f64, |a, l| a.max(l.abs())).max(chain.omega());
        let degenerate = 1e3 * f64::EPSILON * norm;
        let best = (0..sector.dim())
            .max_by(|&a, &b| sector.overlap(a).abs().total_cmp(&sector.overlap(b).abs()))
            .expect("a sector has at least one state");
        let ground_is_isolated = levels.len() < 2 || levels[1] - levels[0] > degenerate;
        if best != 0 || !ground_is_isolated {
            return Err(SpinbatError::Unsupported {
                solver: "slow oscillation",
                reason: format!(
                    "in the {} sector the eigenstate with the largest overlap with |D> is level {best}, not an \
                     isolated ground state: not the strong-coupling regime (g too small compared with omega?)",
                    if parity > 0 { "even" } else { "odd" }
                ),
            });
        }
        mean += diagonal_sum(&sector, degenerate);
        next_levels.push(if levels.len() > 1 { levels[1] } else { f64::INFINITY });
        sectors.push(sector);
    }
    let (even, odd) = (&sectors[0], &sectors[1]);
    let (e_plus, e_minus) = (even.levels()[0], odd.levels()[0]);
    let (u_plus, u_minus) = (even.vector(0), odd.vector(0));
    // 2 a_+ a_− = u_+[0] u_−[0] (a = u[0]/√2)
    let amplitude = u_plus[0] * u_minus[0] * even.field_element(chain.b(), u_plus, odd, u_minus);
    let delta = coupling.delta;
    let time = if amplitude < 0.0 { std::f64::consts::PI / delta } else { 2.0 * std::f64::consts::PI / delta };
    let work = mean + amplitude.abs();
    Ok(SlowOscillation {
        mean,
        amplitude,
        delta,
        time,
        work,
        power: work / time,
        weight_even: u_plus[0] * u_plus[0],
        weight_odd: u_minus[0] * u_minus[0],
        delta_eigen: (e_plus - e_minus).abs(),
        fast_gap: next_levels[0].min(next_levels[1]) - e_plus.max(e_minus),
        coupling,
    })
}

/// `Σ_m a_m² ⟨m|H_g − E_d|m⟩` over one sector, with levels closer than `degenerate`
/// grouped: a cluster contributes `⟨D_c|H_g − E_d|D_c⟩`, `D_c = Σ_{m∈c} a_m |m⟩`, since
/// its cross terms do not oscillate either.
fn diagonal_sum(sector: &ParitySector, degenerate: f64) -> f64 {
    let levels = sector.levels();
    let mut clusters = Vec::new();
    let mut start = 0;
    for m in 1..=levels.len() {
        if m == levels.len() || levels[m] - levels[m - 1] > degenerate {
            clusters.push(start..m);
            start = m;
        }
    }
    clusters
        .into_par_iter()
        .map(|c| {
            let d = sector.dim();
            let mut dc = vec![0.0; d];
            let mut energy = 0.0;
            for m in c {
                let a = sector.overlap(m);
                energy += a * a * levels[m];
                for (x, u) in dc.iter_mut().zip(sector.vector(m)) {
                    *x += a * u;
                }
            }
            energy - sector.v_element(&dc, &dc)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Boundary, Couplings};

    /// The symmetry-reduced sectors give the same slow oscillation as the plain ones.
    #[test]
    fn reduced_sectors_agree_with_the_plain_basis() {
        for (n, alpha, couplings, boundary) in [
            (5, 0.0, Couplings::NearestNeighbour, Boundary::Open),
            (6, 0.3, Couplings::PowerLaw { p: 1.0 }, Boundary::Open),
            (6, 0.0, Couplings::NearestNeighbour, Boundary::Periodic),
            (4, -0.2, Couplings::PowerLaw { p: 0.0 }, Boundary::Open),
        ] {
            let chain = Chain::builder(n)
                .g(40.0)
                .omega(4.0)
                .alpha(alpha)
                .couplings(couplings)
                .boundary(boundary)
                .build()
                .unwrap();
            let (r, p) = (slow_with(&chain, true).unwrap(), slow_with(&chain, false).unwrap());
            for (a, b) in [
                (r.mean, p.mean),
                (r.amplitude, p.amplitude),
                (r.weight_even, p.weight_even),
                (r.weight_odd, p.weight_odd),
                (r.delta_eigen, p.delta_eigen),
            ] {
                assert!((a - b).abs() < 1e-11 * b.abs().max(1.0), "N {n}: reduced {a} vs plain {b}");
            }
            let even = ParitySector::new(&chain, 1).unwrap();
            assert!(even.dim() < 1 << (n - 1), "N {n}: no reduction");
        }
    }
}
