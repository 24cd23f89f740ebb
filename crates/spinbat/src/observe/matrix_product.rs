//! The observables of a matrix-product state (`--solver mps`,
//! [`crate::propagate::StateView::MatrixProduct`]), with the same keys as those of the exact
//! states ([`super::trajectory::ObservablePoint`], [`super::ergotropy::ErgotropyPoint`]),
//! from contractions of the state ([`crate::mps::Mps`]), never its `2^N` amplitudes:
//!
//! | observable | contraction |
//! |---|---|
//! | `bloch` | the one-site states from transfer environments ([`Mps::bloch_vectors`]) |
//! | `entropy`, `renyi2` | the Schmidt values across the cut's bond ([`Mps::schmidt_values`]) |
//! | `zz` | `⟨Z_iZ_j⟩` by transfer matrices with `Z_i`, `Z_j` inserted ([`Mps::zz_connected`]) |
//! | `variance` | `⟨H0²⟩ − ⟨H0⟩²`, `⟨H0²⟩ = ‖H0ψ‖²` by double-layer MPO environments ([`Mps::square_expectation`]), `⟨H0⟩ = W + E_0` |
//! | the ergotropy family | [`super::ergotropy::ErgotropyContext::measure`] of the magnetisation populations `p_M` (transfer matrices resolved by the number of up spins, [`Mps::populations`]: `ergotropy_hb`, `coherent_ergotropy`, `incoherent_ergotropy`, `variance_hb`, and `qsl_time` from `p_0 = \|⟨↓…↓\|ψ⟩\|²`), the Bloch vectors (`local_ergotropy`, `locked_ergotropy`), `W` and `Var(H0)` (`ergotropy`, `capacity`, `power_bound` where `E_min`, `E_max` are known, as for the exact states) |
//!
//! **Richardson.** The MPS solver runs two TDVP evolutions, steps `δ` and `2δ`, and
//! reports `W = (4W_δ − W_{2δ})/3`. Every quantity linear in `ρ = |ψ⟩⟨ψ|` (Bloch vectors,
//! `p_M`, `⟨Z_iZ_j⟩`, `⟨H0²⟩`) is extrapolated the same way, and the nonlinear keys are
//! formed from the extrapolated ones (`|r_i|`, variances, the passive energies), so that
//! they are consistent with the reported `W` (`g = 0`: `ergotropy_hb = W` exactly). The
//! entropies are extrapolated as they are (smooth functions of the state away from zero
//! Schmidt values).
//!
//! Not measured: the block ergotropy (`--block`): refused ([`check_set`]).

use super::ergotropy::{ErgotropyContext, ErgotropyPoint};
use super::trajectory::{ObservablePoint, ObservableSet};
use crate::error::{Result, SpinbatError};
use crate::mps::{entropies, Mpo, Mps};

/// Refuses what the matrix-product state does not measure: the block ergotropy.
///
/// # Errors
/// [`SpinbatError::Unsupported`] for a set with a block size.
pub fn check_set(set: &ObservableSet) -> Result<()> {
    if set.block.is_some() {
        return Err(SpinbatError::Unsupported {
            solver: "mps",
            reason: "the block ergotropy (--block) of a matrix-product state is not implemented; the other ergotropy \
                     keys are measured"
                .into(),
        });
    }
    Ok(())
}

/// `(4x − y)/3`: the Richardson extrapolation of a second-order method from the values
/// `x` at step `δ` and `y` at `2δ`.
fn richardson(x: f64, y: f64) -> f64 {
    (4.0 * x - y) / 3.0
}

/// The selected observables of the MPS pair `psi` (step `δ`), `coarse` (step `2δ`) at
/// time `t` with work `work` (extrapolated), `e0` the energy of all-down (`⟨H0⟩ = W + E_0`)
/// and `h0` the MPO of `H0` (module docs). Cost: `O(N χ³ d)` for the Bloch vectors and the
/// entropy, `O(N² χ³ d)` for the populations and `ZZ`, `O(N χ³ D² d)` for `⟨H0²⟩`, each
/// twice (both runs).
///
/// # Errors
/// [`SpinbatError::Unsupported`] for the block ergotropy; [`SpinbatError::NotConverged`] if
/// an SVD fails.
#[allow(clippy::too_many_arguments)]
pub fn observe(
    psi: &Mps,
    coarse: &Mps,
    h0: &Mpo,
    set: &ObservableSet,
    cut: usize,
    t: f64,
    work: f64,
    e0: f64,
    context: Option<&ErgotropyContext>,
) -> Result<ObservablePoint> {
    check_set(set)?;
    let ergotropy = context.is_some() && set.ergotropy;
    let bloch = (set.bloch || ergotropy).then(|| {
        let (a, b) = (psi.bloch_vectors(), coarse.bloch_vectors());
        a.iter().zip(&b).map(|(x, y)| [0, 1, 2].map(|c| richardson(x[c], y[c]))).collect::<Vec<[f64; 3]>>()
    });
    let variance = (set.variance || ergotropy).then(|| {
        let sq = richardson(psi.square_expectation(h0), coarse.square_expectation(h0));
        let mean = work + e0;
        (sq - mean * mean).max(0.0)
    });
    let entropy = if set.entanglement {
        let (s, r) = entropies(&psi.schmidt_values(cut - 1)?);
        let (sc, rc) = entropies(&coarse.schmidt_values(cut - 1)?);
        Some((richardson(s, sc).max(0.0), richardson(r, rc).max(0.0)))
    } else {
        None
    };
    let zz = set.zz.then(|| {
        let (a, b) = (psi.zz_connected(), coarse.zz_connected());
        a.iter().zip(&b).map(|(x, y)| x.iter().zip(y).map(|(&u, &v)| richardson(u, v)).collect()).collect()
    });
    let point: Option<ErgotropyPoint> = match (context, &bloch, variance) {
        (Some(c), Some(bloch), Some(var)) if set.ergotropy => {
            let (a, b) = (psi.populations(), coarse.populations());
            let p: Vec<f64> = a.iter().zip(&b).map(|(&x, &y)| richardson(x, y).max(0.0)).collect();
            let total: f64 = p.iter().sum();
            let p: Vec<f64> = p.iter().map(|x| x / total).collect();
            Some(c.measure(&p, bloch, work, Some(var)))
        }
        _ => None,
    };
    Ok(ObservablePoint {
        t,
        work,
        entropy: entropy.map(|e| e.0),
        renyi2: entropy.map(|e| e.1),
        bloch: bloch.filter(|_| set.bloch),
        zz,
        variance: variance.filter(|_| set.variance),
        ergotropy: point,
        work_stderr: None,
        bloch_stderr: None,
        mean_local_ergotropy: None,
        local_ergotropy_stderr: None,
    })
}
