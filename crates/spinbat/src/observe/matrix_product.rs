//! The observables of a matrix-product state (`--solver mps`,
//! [`crate::propagate::StateView::MatrixProduct`]), with the same keys as those of the exact
//! states (`observe::trajectory::ObservablePoint`, [`super::ergotropy::ErgotropyPoint`]),
//! from contractions of the state ([`crate::mps::Mps`]), never its `2^N` amplitudes:
//!
//! | observable | contraction |
//! |---|---|
//! | `bloch` | the one-site states from transfer environments ([`Mps::bloch_vectors`]) |
//! | `entropy`, `renyi2` | the Schmidt values across the cut's bond ([`Mps::schmidt_values`]) |
//! | `zz` | `⟨Z_iZ_j⟩` by transfer matrices with `Z_i`, `Z_j` inserted ([`Mps::zz_connected`]) |
//! | `variance` | `⟨(H0 − c)²⟩ = ‖(H0 − c)ψ‖²` about `c = ⟨H0⟩ = W + E_0`, by double-layer MPO environments ([`Mps::square_expectation`] of [`Mpo::shifted`]) |
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
//! The block ergotropy (`--block K`): the blocks' reduced density matrices
//! ([`Mps::block_states`], linear in `ρ`) extrapolated entry by entry, then their spectra
//! ([`super::ergotropy::block_ergotropy_of`]).

use super::ergotropy::{ErgotropyContext, ErgotropyPoint};
use crate::error::Result;
use crate::mps::{entropies, Mpo, Mps};
use num_complex::Complex64;

/// Which observables to measure (those of the observable set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// The entropies across the cut.
    pub entanglement: bool,
    /// The Bloch vectors.
    pub bloch: bool,
    /// The connected `ZZ` matrix.
    pub zz: bool,
    /// `Var(H0)`.
    pub variance: bool,
    /// The ergotropy family.
    pub ergotropy: bool,
}

/// What [`measure`] returns: the selected observables (the Bloch vectors and `Var(H0)` also
/// where only the ergotropy asked for them).
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Von Neumann and Rényi-2 entropies (nats) across the cut.
    pub entropy: Option<(f64, f64)>,
    /// Per-site `[⟨X_i⟩, ⟨Y_i⟩, ⟨Z_i⟩]`.
    pub bloch: Option<Vec<[f64; 3]>>,
    /// `C_ij = ⟨Z_iZ_j⟩ − ⟨Z_i⟩⟨Z_j⟩`.
    pub zz: Option<Vec<Vec<f64>>>,
    /// `Var(H0)` (units `B²`).
    pub variance: Option<f64>,
    /// The ergotropy family.
    pub ergotropy: Option<ErgotropyPoint>,
}

/// `(4x − y)/3`: the Richardson extrapolation of a second-order method from the values
/// `x` at step `δ` and `y` at `2δ`.
fn richardson(x: f64, y: f64) -> f64 {
    (4.0 * x - y) / 3.0
}

/// The selected observables of the MPS pair `psi` (step `δ`), `coarse` (step `2δ`) with
/// work `work` (extrapolated), `e0` the energy of all-down (`⟨H0⟩ = W + E_0`), `h0` the MPO
/// of `H0` and the entropies across `cut` (sites `0..cut` against the rest; module docs).
/// Cost: `O(N χ³ d)` for the Bloch vectors and the entropy, `O(N² χ³ d)` for the populations
/// and `ZZ`, `O(N (χ³ D² d + χ² D³ d²))` for `Var(H0)`, each twice (both runs).
///
/// # Errors
/// [`crate::SpinbatError::NotConverged`] if an SVD or an eigensolver fails.
#[allow(clippy::too_many_arguments)]
pub fn measure(
    psi: &Mps,
    coarse: &Mps,
    h0: &Mpo,
    what: Selection,
    cut: usize,
    work: f64,
    e0: f64,
    context: Option<&ErgotropyContext>,
) -> Result<Measured> {
    let ergotropy = context.is_some() && what.ergotropy;
    let bloch = (what.bloch || ergotropy).then(|| {
        let (a, b) = (psi.bloch_vectors(), coarse.bloch_vectors());
        a.iter().zip(&b).map(|(x, y)| [0, 1, 2].map(|c| richardson(x[c], y[c]))).collect::<Vec<[f64; 3]>>()
    });
    // ⟨(H0 − c)²⟩ about c = ⟨H0⟩ = W + E_0 (extrapolated), linear in ρ: its extrapolation
    // is Var(H0), without the cancellation of ⟨H0²⟩ − ⟨H0⟩² (both ~ E_0², rounding ~10⁻¹⁶ E_0²)
    let variance = (what.variance || ergotropy).then(|| {
        let centred = h0.shifted(-(work + e0));
        richardson(psi.square_expectation(&centred), coarse.square_expectation(&centred)).max(0.0)
    });
    let entropy = if what.entanglement {
        let (s, r) = entropies(&psi.schmidt_values(cut - 1)?);
        let (sc, rc) = entropies(&coarse.schmidt_values(cut - 1)?);
        Some((richardson(s, sc).max(0.0), richardson(r, rc).max(0.0)))
    } else {
        None
    };
    let zz = what.zz.then(|| {
        let (a, b) = (psi.zz_connected(), coarse.zz_connected());
        a.iter().zip(&b).map(|(x, y)| x.iter().zip(y).map(|(&u, &v)| richardson(u, v)).collect()).collect()
    });
    let point = match (context, &bloch, variance) {
        (Some(c), Some(bloch), Some(var)) if what.ergotropy => {
            let (a, b) = (psi.populations(), coarse.populations());
            let p: Vec<f64> = a.iter().zip(&b).map(|(&x, &y)| richardson(x, y).max(0.0)).collect();
            let total: f64 = p.iter().sum();
            let p: Vec<f64> = p.iter().map(|x| x / total).collect();
            let mut point = c.measure(&p, bloch, work, Some(var));
            if let Some(k) = c.block() {
                let (a, b) = (psi.block_states(k), coarse.block_states(k));
                let rho: Vec<faer::Mat<Complex64>> = a
                    .iter()
                    .zip(&b)
                    .map(|(x, y)| {
                        faer::Mat::from_fn(x.nrows(), x.ncols(), |i, j| {
                            let (u, v) = (x[(i, j)], y[(i, j)]);
                            Complex64::new(richardson(u.re, v.re), richardson(u.im, v.im))
                        })
                    })
                    .collect();
                point.block_ergotropy = Some(super::ergotropy::block_ergotropy_of(psi.n_sites(), k, c.field(), &rho)?);
            }
            Some(point)
        }
        _ => None,
    };
    Ok(Measured { entropy, bloch, zz, variance, ergotropy: point })
}
