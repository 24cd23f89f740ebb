//! Quantum trajectories of the open battery: the jump unravelling of the Lindblad equation
//! `dρ/dt = −i[H, ρ] + Σ_k (L_k ρ L_k† − ½{L_k†L_k, ρ})` into pure states of `2^N`
//! amplitudes, whose average over trajectories is `ρ(t)`: `E[|ψ⟩⟨ψ|/⟨ψ|ψ⟩] = ρ(t)`.
//!
//! **The unravelling.** Between jumps a trajectory follows `dψ/dt = −iH_eff ψ`,
//! `H_eff = H − (i/2) Σ_k L_k†L_k`; a jump `ψ → L_kψ/‖L_kψ‖` happens at the rate
//! `⟨L_k†L_k⟩`. The channels of [`crate::open::Noise`] split in two:
//! * **dephasing** `L_i = √γ_φ Z_i`: `L_i†L_i = γ_φ·1`, so its part of `H_eff` is the
//!   constant `−(i/2)Nγ_φ`, a norm factor and nothing else. Its jumps are `Z_i` kicks at the
//!   times of a Poisson process of rate `Nγ_φ`, the site uniform, independent of the state
//!   (the probability of a record of kicks factors out of the rest, whose conditional map is
//!   trace preserving). They are drawn ahead; between them the closed propagation applies
//!   as is;
//! * **decay and the thermal bath** `L_i⁻ = √γ↓ σ_i⁻`, `L_i⁺ = √γ↑ σ_i⁺`:
//!   `Σ_i (γ↓ σ_i⁺σ_i⁻ + γ↑ σ_i⁻σ_i⁺) = 2D`, `D = diag(d_s)`,
//!   `d_s = ½(γ↓ n_s + γ↑(N − n_s))`, `n_s` the up spins of basis state `s`. The
//!   unnormalised state follows `dψ̃/dt = Mψ̃`, `M = −iH − D`, from the last decay jump;
//!   the next one happens when `‖ψ̃‖²` falls to a uniform `u ∈ (0, 1]` drawn at the last
//!   (the waiting-time algorithm: `‖ψ̃(t)‖²` is the probability of no decay jump so far),
//!   located by safeguarded Newton on `ln‖ψ̃‖² − ln u` (`d ln‖ψ̃‖²/dt = −2⟨D⟩`) to
//!   [`JUMP_TOL`]; the channel is drawn with probabilities `∝ ⟨L_k†L_k⟩`
//!   (`γ↓ p_i` for `σ_i⁻`, `γ↑(1 − p_i)` for `σ_i⁺`, `p_i` the up population of site `i`).
//!
//! Collective decay (`L = √Γ Σ_i σ_i⁻`) is not unravelled here: refused by
//! [`Unravelling::new`].
//!
//! **The step: Chebyshev on an ellipse.** The numerical range of `M` lies in the
//! rectangle `[−d_max, −d_min] + i[−E_max, −E_min]` (`[E_min, E_max]` the Gershgorin
//! enclosure of `H`). With its centre `a = −d̄ − ic` and half-extents `h = (d_max − d_min)/2`,
//! `b = (E_max − E_min)/2`, the operator `A = (M − a)/(ib) = −(H − c)/b + i(D − d̄)/b` has
//! its numerical range in `[−1, 1] × i[−η, η]`, `η = h/b`, inside the Bernstein ellipse
//! `E_ϱ` ([`super::density::bernstein_parameter`]), and a step of length `τ` is the
//! Jacobi–Anger series
//!
//! `e^{τM} = e^{τa} Σ_k (2 − δ_k0) i^k J_k(bτ) T_k(A)`,
//!
//! one application of `H` per term (the full-space kernel of [`Operators`], `H_g + V`
//! charging, `H0 − E_0` in storage), every requested time of a batch accumulated from the
//! same terms (dense output, up to [`MAX_BATCH`] times an expansion). Without decay
//! (`D = 0`) `A` is real symmetric, `ϱ = 1`, and this is the closed Chebyshev propagator's
//! expansion.
//!
//! **Error control.** By the Crouzeix–Palencia theorem `‖T_k(A)‖ ≤ C max_{E_ϱ}|T_k| =
//! C(ϱ^k + ϱ^{−k})/2` (`C = 1 + √2`; `C = 1` for the normal `A` without decay), so cutting
//! each series where `C e^{−d̄τ} Σ_{k>K} 2|J_k(bτ)| (ϱ^k + ϱ^{−k})/2 ≤ ε_step` bounds the
//! error of the state by `ε_step ‖ψ‖`, a rigorous bound known before the step. `M` is
//! dissipative (`e^{Ms}` is a contraction) and the `Z_i` kicks are unitary, so the errors
//! of the steps add; a decay jump renormalises by `1/‖L_kψ‖`, which multiplies the error
//! so far by at most `2/√p` (`p` the population the jump empties), included. A state error
//! `e` moves `W` by at most `2‖H0‖e` ([`Operators::h0_norm_bound`]); `ε_step = 10⁻³ tol /
//! (2‖H0‖)` (floored at `10⁻¹⁵`), as for the closed Chebyshev solver. Rounding is
//! estimated at `4u` per term (times the growth `(ϱ^k + ϱ^{−k})/2`). This bounds the
//! error of each trajectory against the exact trajectory of the same random record; the
//! mean over `K` trajectories carries a statistical error `∝ 1/√K`, which the caller
//! estimates (`crate::observe::ensemble`).
//!
//! **Shared prefix.** Without decay a trajectory is the closed evolution until its first
//! kick, and at `Nγ_φ t ≲ 1` most trajectories have none: the kick-free trajectory is run
//! once, its state kept at the end of each of its steps (up to 512 MiB, a quarter of the
//! free memory at most), and every trajectory copies it up to the last of these before its
//! first kick and goes on from there with the same steps, so with the same numbers as if
//! it had started at `t = 0`.
//!
//! **Reproducible.** Trajectory `k` draws from its own ChaCha8 stream (seeded by the seed,
//! stream number `k`), runs on one thread with no parallel reduction inside, and its
//! numbers do not depend on which thread runs it: the same seed gives the same numbers
//! whatever the thread count.
//!
//! **The rate `W'`.** Every output carries `W` and the rate of the *averaged* work,
//! `⟨𝓛†(H0)⟩`, linear in `ρ` and so exact in the mean: the coherent `i⟨[H, H0]⟩ =
//! 2 Im⟨H0ψ|Vψ⟩` while charging, plus the dissipator on `H0 = (diagonal) + H_ff`: on the
//! diagonal (field and `Z_iZ_j`) `⟨r⟩`, `r_s = Σ_i [γ↓ if i up, γ↑ if down] (E_{s⊕2^i} − E_s)`
//! (the classical rate of the diagonal energy), and on the flip-flops `H_ff`
//! `−(4γ_φ + γ↓ + γ↑)⟨H_ff⟩` (each `σ_i⁺σ_j⁻` decays at `2γ_φ + (γ↓ + γ↑)/2` per site).

use super::density::bernstein_parameter;
use crate::basis::ALL_DOWN;
use crate::error::{invalid, Result, SpinbatError};
use crate::model::Chain;
use crate::numeric::bessel::bessel_sequence;
use crate::open::{Generator, Gibbs, Noise, Rates};
use crate::operator::Operators;
use crate::symmetry::Space;
use crate::Progress;
use num_complex::Complex64 as C;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Most output times accumulated from one expansion (each one a state of `16·2^N` bytes
/// per worker thread).
pub const MAX_BATCH: usize = 8;

/// Tolerance of the located decay jumps: `|ln‖ψ̃(t)‖² − ln u| ≤ JUMP_TOL` (the jump time to
/// a relative `JUMP_TOL/(2⟨D⟩t)`, a perturbation of the uniform `u` far below any
/// statistical resolution).
pub const JUMP_TOL: f64 = 1e-12;

/// Largest `ln` of the growth `ϱ^{bτ}` one step allows (as the density matrix's steps).
const MAX_GROWTH_LOG: f64 = 6.0;

/// Largest phase `bτ` of one step (bounds the Bessel sequences and the work a decay jump
/// inside a step throws away).
const MAX_STEP_PHASE: f64 = 400.0;

/// Crouzeix–Palencia constant `1 + √2`.
const CROUZEIX: f64 = 1.0 + std::f64::consts::SQRT_2;

/// Unit roundoff of `f64`.
const U: f64 = f64::EPSILON / 2.0;

/// Bytes of an ensemble run: the operators' diagonal and the dissipator's rate diagonal
/// (`16·2^N`, shared), and per worker thread the state, two Chebyshev terms, a block and
/// `batch` accumulated states (`16(3 + batch)·2^N`).
pub fn bytes_needed(n_sites: usize, workers: usize, batch: usize) -> f64 {
    let dim = (n_sites as f64).exp2();
    16.0 * dim + workers as f64 * 16.0 * (3.0 + batch as f64) * dim + 1e6
}

/// What one trajectory recorded at the requested times.
#[derive(Debug, Clone, PartialEq)]
pub struct TrajectoryRecord {
    /// `W(t) = ⟨ψ|H0 − E_0|ψ⟩/⟨ψ|ψ⟩` at each time (from a thermal start `E_0` is the energy
    /// of the trajectory's initial eigenstate: [`Unravelling::with_thermal_start`]).
    pub work: Vec<f64>,
    /// `⟨𝓛†(H0)⟩` at each time (module docs): its mean is `dW/dt` of the mean.
    pub rate: Vec<f64>,
    /// Jumps on the way (dephasing kicks and decay jumps).
    pub jumps: usize,
    /// Bound on the state error `‖ψ̂_computed − ψ̂‖` at the last time (module docs).
    pub state_error: f64,
    /// Per-site Bloch vectors `(⟨X_i⟩, ⟨Y_i⟩, ⟨Z_i⟩)` of the normalised state at each time
    /// of [`Unravelling::with_bloch_at`] (in time order, `N` entries a time); empty
    /// without.
    pub bloch: Vec<[f64; 3]>,
}

/// The trajectories of an ensemble run, in the order of their index.
#[derive(Debug, Clone, PartialEq)]
pub struct Ensemble {
    /// The times (sorted ascending).
    pub times: Vec<f64>,
    /// One record per trajectory, trajectory `k` at index `k`.
    pub trajectories: Vec<TrajectoryRecord>,
    /// Bound on `|W_computed − W|` of every value of every trajectory: `2‖H0‖ e_max`.
    pub work_error: f64,
}

/// The quantum-trajectory propagator (module docs): set up once, then
/// [`Unravelling::run`] for `K` trajectories.
#[derive(Debug, Clone)]
pub struct Unravelling {
    ops: Operators,
    generator: Generator,
    rates: Rates,
    n_sites: usize,
    initial: Option<Vec<C>>,
    /// a thermal start: each trajectory's initial state drawn from the Gibbs state
    gibbs: Option<Arc<Gibbs>>,
    /// centre and half-width of the spectrum of the generator's Hamiltonian
    c: f64,
    b: f64,
    /// `d̄`, the centre of `d_s`, and whether `D ≠ 0`
    d_mid: f64,
    decays: bool,
    rho: f64,
    constant: f64,
    eps_step: f64,
    h0_norm: f64,
    max_step: f64,
    /// `r_s`, the dissipator's rate of the diagonal energy (empty without decay)
    rate_diag: Vec<f64>,
    kappa_ff: f64,
    e0: f64,
    batch: usize,
    /// the times whose Bloch vectors are recorded (sorted)
    bloch_at: Vec<f64>,
    /// storage after a charge ([`Unravelling::storing`]): the charging unravelling each
    /// trajectory runs first, and the charging time `T`
    stage: Option<(Arc<Unravelling>, f64)>,
}

/// The trajectory without jumps, shared by every trajectory of a dephasing-only run until
/// its first kick: its record, and its state at the end of its steps (up to a memory
/// budget), where a trajectory whose first kick comes later resumes.
struct ClosedPrefix {
    record: TrajectoryRecord,
    /// `(t, outputs recorded up to t, state error, ψ(t))`, ascending in `t`
    checkpoints: Vec<(f64, usize, f64, Vec<C>)>,
    /// most checkpoints kept
    capacity: usize,
}

/// Memory the checkpoints of the shared kick-free trajectory may take.
const PREFIX_BYTES: f64 = 512.0 * 1024.0 * 1024.0;

/// Per-thread buffers of one trajectory.
struct Workspace {
    psi: Vec<C>,
    p: Vec<C>,
    q: Vec<C>,
    hx: Vec<C>,
    vx: Vec<C>,
    acc: Vec<Vec<C>>,
}

/// The measurements of one (unnormalised) state.
#[derive(Debug, Clone, Copy, Default)]
struct Measured {
    work: f64,
    rate: f64,
}

/// Appends the per-site Bloch vectors of `ψ/‖ψ‖` (bit `i` set: site `i` up):
/// `⟨X_i⟩ + i⟨Y_i⟩ = 2 Σ_{s: i down} ψ̄_{s+2^i} ψ_s / ‖ψ‖²`,
/// `⟨Z_i⟩ = Σ_s (±1) |ψ_s|² / ‖ψ‖²` (`+` where site `i` is up).
fn push_bloch(out: &mut Vec<[f64; 3]>, psi: &[C], n: usize) {
    let norm: f64 = psi.iter().map(|z| z.norm_sqr()).sum();
    let inv = 1.0 / norm.max(f64::MIN_POSITIVE);
    for i in 0..n {
        let bit = 1usize << i;
        let (mut c, mut z) = (C::default(), 0.0);
        for pair in psi.chunks_exact(2 * bit) {
            let (down, up) = pair.split_at(bit);
            for (&d, &u) in down.iter().zip(up) {
                c += u.conj() * d;
                z += u.norm_sqr() - d.norm_sqr();
            }
        }
        out.push([2.0 * c.re * inv, 2.0 * c.im * inv, z * inv]);
    }
}

/// Uniform in `[0, 1)` from 53 random bits.
fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `i^k`.
fn i_pow(k: usize) -> C {
    match k % 4 {
        0 => C::new(1.0, 0.0),
        1 => C::new(0.0, 1.0),
        2 => C::new(-1.0, 0.0),
        _ => C::new(0.0, -1.0),
    }
}

impl Unravelling {
    /// Trajectories of `chain` from all-down under `noise` while charging, to a tolerance
    /// `tol` on each trajectory's `W` (units of `B`; module docs). Allocates the operators
    /// (`8·2^N` bytes, `16·2^N` with decay): plan first ([`super::Plan`]).
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for bad noise; [`SpinbatError::Unsupported`] for
    /// collective decay (not unravelled here: use the density matrix);
    /// [`SpinbatError::TooLarge`] past the indexable size.
    pub fn new(chain: &Chain, noise: &Noise, tol: f64) -> Result<Self> {
        Self::build(chain, noise, Generator::Charging, None, tol)
    }

    /// From a given pure state `psi0` (`2^N` amplitudes, bit `i` set: site `i` up; it is
    /// normalised here) under the Hamiltonian of `generator`.
    ///
    /// # Errors
    /// As [`Unravelling::new`]; [`SpinbatError::InvalidParameter`] for a `psi0` of the wrong
    /// length or of zero (or non-finite) norm.
    pub fn with_initial(chain: &Chain, noise: &Noise, generator: Generator, psi0: Vec<C>, tol: f64) -> Result<Self> {
        let d = 1usize << chain.n_sites();
        if psi0.len() != d {
            return Err(invalid("psi0", psi0.len(), format!("needs 2^N = {d} amplitudes")));
        }
        let norm = psi0.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            return Err(invalid("psi0", norm, "needs a finite, non-zero norm"));
        }
        let psi0 = psi0.into_iter().map(|z| z / norm).collect();
        Self::build(chain, noise, generator, Some(psi0), tol)
    }

    fn build(chain: &Chain, noise: &Noise, generator: Generator, initial: Option<Vec<C>>, tol: f64) -> Result<Self> {
        noise.check_for(chain)?;
        if chain.has_site_fields() {
            return Err(SpinbatError::Unsupported {
                solver: "trajectories",
                reason: "per-site fields B_i: the trajectories' rate (with flip-flops, i<[H_g, H_B]>) and their \
                         local ergotropy take one field; use the density matrix"
                    .to_string(),
            });
        }
        if noise.collective_decay != 0.0 {
            return Err(SpinbatError::Unsupported {
                solver: "trajectories",
                reason: "collective decay (L = sqrt(Gamma) sum_i sigma_i^-) is not unravelled; use --solver \
                         density-matrix"
                    .to_string(),
            });
        }
        if !(tol.is_finite() && tol > 0.0 && tol < 1.0) {
            return Err(invalid("tol", tol, "must be a number in (0, 1)"));
        }
        let ops = Operators::new(chain)?;
        let n = chain.n_sites();
        let rates = noise.rates(chain.b());
        let e0 = ops.all_down_energy();
        let (lo, hi) = match generator {
            Generator::Charging => ops.spectral_bounds_h(),
            Generator::Storage => {
                // H0 − E_0: the diagonal's range widened by the flip-flops' row sum
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                for s in 0..ops.dim() {
                    let d = ops.field_energy(s) + ops.diag_g()[s] - e0;
                    lo = lo.min(d);
                    hi = hi.max(d);
                }
                let off = 2.0 * chain.alpha().abs() * chain.total_abs_coupling();
                (lo - off, hi + off)
            }
        };
        let c = 0.5 * (lo + hi);
        let b = (0.5 * (hi - lo)).max(f64::MIN_POSITIVE);
        let nf = n as f64;
        let decays = rates.down != 0.0 || rates.up != 0.0;
        let (d_min, d_max) = (0.5 * nf * rates.down.min(rates.up), 0.5 * nf * rates.down.max(rates.up));
        let d_mid = 0.5 * (d_min + d_max);
        let eta = 0.5 * (d_max - d_min) / b;
        let rho = bernstein_parameter(eta);
        let constant = if decays { CROUZEIX } else { 1.0 };
        let h0_norm = Operators::h0_norm_bound(chain);
        let eps_step = (tol / (2.0 * h0_norm.max(f64::MIN_POSITIVE)) * 1e-3).max(1e-15);
        let max_phase = match rho.ln() {
            l if l > 0.0 => MAX_STEP_PHASE.min(MAX_GROWTH_LOG / l),
            _ => MAX_STEP_PHASE,
        };
        let rate_diag = if decays {
            let energy = |s: usize| ops.field_energy(s) + ops.diag_g()[s];
            let mut r = vec![0.0; ops.dim()];
            r.par_iter_mut().enumerate().for_each(|(s, r)| {
                let e = energy(s);
                *r = (0..n)
                    .map(|i| {
                        let gamma = if s >> i & 1 == 1 { rates.down } else { rates.up };
                        gamma * (energy(s ^ (1 << i)) - e)
                    })
                    .sum();
            });
            r
        } else {
            Vec::new()
        };
        Ok(Unravelling {
            generator,
            rates,
            n_sites: n,
            initial,
            gibbs: None,
            c,
            b,
            d_mid,
            decays,
            rho,
            constant,
            eps_step,
            h0_norm,
            max_step: max_phase / b,
            rate_diag,
            kappa_ff: -(4.0 * rates.dephasing + rates.down + rates.up),
            e0,
            batch: MAX_BATCH,
            bloch_at: Vec::new(),
            stage: None,
            ops,
        })
    }

    /// Storage after a charge, trajectory by trajectory: each trajectory first runs
    /// `charger` (the charging unravelling, [`Generator::Charging`], from its start: all-down
    /// or a thermal one) to `charge_time`, then, from its normalised state there and with the
    /// same random stream, the storage under `H0` (the field off) with `storage_noise`
    /// ([`Generator::Storage`]); the run's times are storage times `s` from the end of
    /// charging. `W(s) = ⟨H0⟩ − E_0` (minus the start's energy after a thermal start) and
    /// its rate as for one stage; the jumps and the state-error bound of both stages are
    /// the trajectory's. No shared kick-free prefix (the storage starts wherever the charge
    /// left it).
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for a `charge_time` that is not finite and `≥ 0`
    /// or a charger that is not a charging unravelling of the chain's `N` sites; those of
    /// [`Unravelling::new`] for `storage_noise`.
    pub fn storing(
        chain: &Chain,
        storage_noise: &Noise,
        charger: Unravelling,
        charge_time: f64,
        tol: f64,
    ) -> Result<Self> {
        if !(charge_time.is_finite() && charge_time >= 0.0) {
            return Err(invalid("charge_time", charge_time, "must be a finite time >= 0"));
        }
        if charger.generator != Generator::Charging || charger.n_sites != chain.n_sites() || charger.stage.is_some() {
            return Err(invalid(
                "charger",
                charger.n_sites,
                format!("a one-stage charging unravelling of the chain's {} sites", chain.n_sites()),
            ));
        }
        let mut u = Self::build(chain, storage_noise, Generator::Storage, None, tol)?;
        u.batch = u.batch.min(charger.batch);
        u.stage = Some((Arc::new(charger), charge_time));
        Ok(u)
    }

    /// Trajectories from the Gibbs state `ρ_β = Σ_k p_k |k⟩⟨k|` of `H0` (physics.md,
    /// "Thermal starting states"): trajectory `k` first draws its initial eigenstate `|k⟩`
    /// with probability `p_k` from its own stream ([`Gibbs::sample_into`]), so the mean over
    /// trajectories is `e^{𝓛t}ρ_β` exactly (the mixture unravelled, no bias), and records
    /// `W_k(t) = ⟨H0⟩_{ψ_k(t)} − ⟨H0⟩_{ψ_k(0)}` (the energy put into it since its start;
    /// `E[⟨H0⟩_{ψ_k(0)}] = E_β`, so the mean estimates `Tr(H0ρ(t)) − E_β` without bias and
    /// `W_k(0) = 0`). The trajectories no longer share their kick-free prefix (each starts
    /// elsewhere).
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for a Gibbs state of another number of sites;
    /// [`SpinbatError::Unsupported`] on top of a given initial state.
    pub fn with_thermal_start(mut self, gibbs: Arc<Gibbs>) -> Result<Self> {
        if gibbs.n_sites() != self.n_sites {
            return Err(invalid("gibbs", gibbs.n_sites(), "a Gibbs state of the chain's N sites"));
        }
        if self.initial.is_some() {
            return Err(SpinbatError::Unsupported {
                solver: "trajectories",
                reason: "a thermal start replaces the initial state; not both".to_string(),
            });
        }
        if self.stage.is_some() {
            return Err(SpinbatError::Unsupported {
                solver: "trajectories",
                reason: "storage starts where its charge left it: give the thermal start to the charger".to_string(),
            });
        }
        self.gibbs = Some(gibbs);
        Ok(self)
    }

    /// At most `batch` (`≥ 1`) output times per expansion (memory: [`bytes_needed`]).
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.clamp(1, MAX_BATCH);
        self
    }

    /// The output times an expansion holds (its workspace's accumulated states), the
    /// charging stage's included.
    fn batch_capacity(&self) -> usize {
        self.stage.as_ref().map_or(self.batch, |(c, _)| c.batch.max(self.batch))
    }

    /// Records the per-site Bloch vectors of every trajectory at those of the run's times
    /// that are in `times` ([`TrajectoryRecord::bloch`]; `24N` bytes a time and trajectory).
    pub fn with_bloch_at(mut self, times: &[f64]) -> Self {
        self.bloch_at = times.to_vec();
        self.bloch_at.sort_by(f64::total_cmp);
        self
    }

    /// Whether the Bloch vectors at `t` are recorded.
    fn records_bloch(&self, t: f64) -> bool {
        self.bloch_at.binary_search_by(|x| x.total_cmp(&t)).is_ok()
    }

    /// The Bernstein parameter `ϱ` of the step's ellipse (`1` without decay).
    pub fn ellipse_parameter(&self) -> f64 {
        self.rho
    }

    /// The truncation bound per step, `ε_step` (relative to the state's norm).
    pub fn step_tolerance(&self) -> f64 {
        self.eps_step
    }

    /// One line on the method and its error control, for summaries and records.
    pub fn accuracy_note(&self) -> String {
        format!(
            "quantum trajectories (jump unravelling): Chebyshev steps of exp(-i H_eff t) on {} (rho = {:.4}), \
             rigorous truncation bound {:.1e} per step{}; |dW| <= 2||H0|| e per trajectory{}",
            if self.decays { "an ellipse (Crouzeix)" } else { "the real interval (H_eff = H, no decay)" },
            self.rho,
            self.eps_step,
            if self.rates.dephasing > 0.0 { "; dephasing: Z_i kicks at Poisson times of rate N gamma" } else { "" },
            if self.decays { "; decay jumps located to |ln||psi||^2 - ln u| <= 1e-12" } else { "" },
        )
    }

    /// Runs trajectories `0..count` with seed `seed` to the sorted `times`, in parallel
    /// (rayon, over trajectories), reporting the trajectories done to `progress` (phase
    /// `trajectories`, after the shared jump-free one where there is one) and asking it
    /// whether to stop between trajectories.
    ///
    /// # Errors
    /// [`SpinbatError::InvalidTimes`] for bad `times`; [`SpinbatError::InvalidParameter`]
    /// for `count = 0`; [`SpinbatError::NotConverged`] if a step's series or a jump time
    /// cannot be resolved; [`SpinbatError::Stopped`] when `progress` asks.
    pub fn run(&self, times: &[f64], count: usize, seed: u64, progress: &dyn Progress) -> Result<Ensemble> {
        super::method::check_times(times)?;
        if count == 0 {
            return Err(invalid("trajectories", 0, "needs at least one trajectory"));
        }
        let done = AtomicUsize::new(0);
        let dim = self.ops.dim();
        let batch = self.batch_capacity();
        let block = self.ops.block_len();
        let workspace = || Workspace {
            psi: vec![C::default(); dim],
            p: vec![C::default(); dim],
            q: vec![C::default(); dim],
            hx: vec![C::default(); block],
            vx: vec![C::default(); block],
            acc: (0..batch).map(|_| vec![C::default(); dim]).collect(),
        };
        // without decay, a trajectory is the closed evolution until its first kick: computed
        // once, and each trajectory starts at its last checkpoint before that kick
        let prefix = if self.decays || self.gibbs.is_some() || self.stage.is_some() {
            None
        } else {
            let budget = crate::resources::bytes_available().map_or(PREFIX_BYTES, |a| (0.25 * a).min(PREFIX_BYTES));
            let capacity = ((budget / (16.0 * dim as f64)).floor() as usize).max(1);
            let mut sink = ClosedPrefix {
                record: TrajectoryRecord {
                    work: Vec::new(),
                    rate: Vec::new(),
                    jumps: 0,
                    state_error: 0.0,
                    bloch: Vec::new(),
                },
                checkpoints: Vec::new(),
                capacity,
            };
            progress.phase("the jump-free trajectory");
            let record = self.trajectory(None, seed, times, &mut workspace(), None, Some(&mut sink))?;
            sink.record = record;
            Some(sink)
        };
        // the time per trajectory is estimated from here (the prefix is not one of them)
        progress.phase("trajectories");
        let records: Vec<TrajectoryRecord> = (0..count)
            .into_par_iter()
            .map_init(workspace, |ws, k| {
                if let Some(reason) = progress.stop_reason() {
                    return Err(SpinbatError::Stopped { reason });
                }
                let r = self.trajectory(Some(k as u64), seed, times, ws, prefix.as_ref(), None);
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress.update(d as f64, count as f64);
                r
            })
            .collect::<Result<_>>()?;
        let e_max = records.iter().map(|r| r.state_error).fold(0.0, f64::max);
        Ok(Ensemble { times: times.to_vec(), trajectories: records, work_error: 2.0 * self.h0_norm * e_max })
    }

    /// `d_s − d̄` for the decay part of `H_eff`.
    #[inline(always)]
    fn d_shift(&self, s: usize) -> f64 {
        let up = s.count_ones() as f64;
        0.5 * (self.rates.down * up + self.rates.up * (self.n_sites as f64 - up)) - self.d_mid
    }

    /// The coefficients `c_k = e^{τa}(2 − δ_k0) i^k J_k(bτ)` of a step of length `tau`, cut
    /// where the weighted tail is below `ε_step` (module docs), and that tail.
    fn series(&self, tau: f64) -> Result<(Vec<C>, f64)> {
        if tau == 0.0 {
            return Ok((vec![C::new(1.0, 0.0)], 0.0));
        }
        let (j, _) = bessel_sequence(self.b * tau, 0.0);
        let weight = |k: usize| 0.5 * (self.rho.powi(k as i32) + self.rho.powi(-(k as i32)));
        let damp = (-self.d_mid * tau).exp();
        let front = self.constant * damp;
        let mut tail = 0.0;
        let mut cut = None;
        for k in (0..j.len()).rev() {
            let next = tail + front * 2.0 * j[k].abs() * weight(k);
            if next > self.eps_step {
                cut = Some((k, tail));
                break;
            }
            tail = next;
        }
        let (k_max, tail) = cut.unwrap_or((0, tail));
        let last = j.len() - 1;
        if k_max + 1 >= last && front * j[last].abs() * weight(last) > self.eps_step {
            return Err(SpinbatError::NotConverged {
                what: "trajectory Chebyshev step",
                reason: format!("the series of b tau = {:.3} with rho = {} does not converge", self.b * tau, self.rho),
            });
        }
        let phase = C::from_polar(damp, -self.c * tau);
        let coef = (0..=k_max).map(|k| phase * i_pow(k) * (if k == 0 { 1.0 } else { 2.0 } * j[k])).collect();
        Ok((coef, tail))
    }

    /// `e^{τ_j M} ψ` into `ws.acc[j]` for each `τ_j` of `taus` (ascending, `≥ 0`), from
    /// `ws.psi`, by one Chebyshev expansion (module docs). Returns the bound on the
    /// truncation and rounding error relative to `‖ψ‖` (the largest over the `τ_j`).
    fn expand(&self, taus: &[f64], ws: &mut Workspace) -> Result<f64> {
        let m = taus.len();
        let mut coefs = Vec::with_capacity(m);
        let mut err: f64 = 0.0;
        for &tau in taus {
            let (cf, tail) = self.series(tau)?;
            let growth: f64 = cf.iter().enumerate().map(|(k, c)| c.norm() * self.rho.powi(k as i32)).sum();
            // rounding: 4u relative per term, on terms of norm up to C ϱ^k
            err = err.max(tail + 4.0 * U * self.constant * growth);
            coefs.push(cf);
        }
        let k_max = coefs.iter().map(|c| c.len() - 1).max().unwrap_or(0);
        let Workspace { psi, p, q, hx, acc, .. } = ws;
        if k_max == 0 {
            for (a, cf) in acc.iter_mut().zip(&coefs) {
                for (a, &x) in a.iter_mut().zip(psi.iter()) {
                    *a = cf[0] * x;
                }
            }
            return Ok(err);
        }
        // T_1 = Aψ into p, with acc_j = c_j0 ψ + c_j1 T_1
        self.pass(psi, p, true, &mut acc[..m], &coefs, 1, hx);
        if k_max >= 2 {
            q.copy_from_slice(psi);
        }
        // T_{k+1} = 2A T_k − T_{k−1}, written over T_{k−1}: p holds the odd terms, q the even
        for k in 1..k_max {
            if k % 2 == 1 {
                self.pass(p, q, false, &mut acc[..m], &coefs, k + 1, hx);
            } else {
                self.pass(q, p, false, &mut acc[..m], &coefs, k + 1, hx);
            }
        }
        Ok(err)
    }

    /// One pass of the recurrence over every block, sequentially: `out = A x` (`first`) or
    /// `out = 2A x − out`, and the accumulation of the new term `T_{k_new}` into every
    /// state whose series reaches it (`first`: `acc_j = c_j0 x + c_j1 T_1`).
    #[allow(clippy::too_many_arguments)]
    fn pass(
        &self,
        x: &[C],
        out: &mut [C],
        first: bool,
        acc: &mut [Vec<C>],
        coefs: &[Vec<C>],
        k_new: usize,
        hx: &mut [C],
    ) {
        let block = self.ops.block_len();
        let inv_b = 1.0 / self.b;
        let scale = if first { inv_b } else { 2.0 * inv_b };
        for c in 0..self.ops.blocks() {
            let rows = self.ops.block_rows(c);
            let base = rows.start;
            let hx = &mut hx[..rows.len()];
            match self.generator {
                Generator::Charging => Space::h_block(&self.ops, x, c, hx),
                Generator::Storage => Space::work_block(&self.ops, x, 1, c, hx),
            }
            debug_assert!(rows.len() <= block);
            let xb = &x[rows.clone()];
            let ob = &mut out[rows.clone()];
            // A x = (−(H − c) x + i(D − d̄) x)/b, then the recurrence
            for (o, ((t, &h), &xs)) in ob.iter_mut().zip(hx.iter()).zip(xb).enumerate() {
                let mut ax = xs * self.c - h;
                if self.decays {
                    ax += C::new(0.0, self.d_shift(base + o)) * xs;
                }
                *t = if first { ax * scale } else { ax * scale - *t };
            }
            // the new term into every state whose series reaches it, a contiguous pass each
            for (a, cf) in acc.iter_mut().zip(coefs) {
                let ab = &mut a[rows.clone()];
                if first {
                    let (c0, c1) = (cf[0], cf.get(1).copied().unwrap_or_default());
                    for ((a, &xs), &t) in ab.iter_mut().zip(xb).zip(ob.iter()) {
                        *a = c0 * xs + c1 * t;
                    }
                } else if let Some(&ck) = cf.get(k_new) {
                    for (a, &t) in ab.iter_mut().zip(ob.iter()) {
                        *a += ck * t;
                    }
                }
            }
        }
    }

    /// Norm, work and rate of the averaged work (module docs) of an unnormalised state, in
    /// one sequential pass.
    fn measure(&self, psi: &[C], hx: &mut [C], vx: &mut [C]) -> Measured {
        let (mut norm, mut work, mut coherent, mut diag_work, mut diag_rate) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let charging = self.generator == Generator::Charging;
        for c in 0..self.ops.blocks() {
            let rows = self.ops.block_rows(c);
            let len = rows.len();
            Space::work_block(&self.ops, psi, 1, c, &mut hx[..len]);
            if charging {
                Space::flip_sum_block(&self.ops, psi, 1, c, &mut vx[..len]);
            }
            for (o, &h) in hx[..len].iter().enumerate() {
                let s = rows.start + o;
                let x = psi[s];
                let p = x.norm_sqr();
                norm += p;
                work += x.re * h.re + x.im * h.im;
                if charging {
                    let v = vx[o];
                    coherent += h.re * v.im - h.im * v.re;
                }
                diag_work += p * (self.ops.field_energy(s) + self.ops.diag_g()[s] - self.e0);
                if self.decays {
                    diag_rate += p * self.rate_diag[s];
                }
            }
        }
        let coherent = 2.0 * self.ops_omega() * coherent;
        let rate = coherent + diag_rate + self.kappa_ff * (work - diag_work);
        Measured { work: work / norm, rate: rate / norm }
    }

    fn ops_omega(&self) -> f64 {
        Space::omega(&self.ops)
    }

    /// `⟨ψ|D|ψ⟩` and `‖ψ‖²` (for the Newton steps on the jump time).
    fn norm_and_decay(&self, psi: &[C]) -> (f64, f64) {
        let (mut norm, mut d) = (0.0, 0.0);
        for (s, x) in psi.iter().enumerate() {
            let p = x.norm_sqr();
            norm += p;
            d += p * (self.d_shift(s) + self.d_mid);
        }
        (norm, d)
    }

    /// One trajectory (module docs): its index `k` picks the random stream; `k = None` is
    /// the trajectory without jumps, whose steps' end states go to `sink`. With `prefix`
    /// (no decay: the jump-free trajectory), the trajectory copies it up to its last
    /// checkpoint before the first kick and goes on from there (the same steps, so the
    /// same numbers as from the start).
    fn trajectory(
        &self,
        k: Option<u64>,
        seed: u64,
        times: &[f64],
        ws: &mut Workspace,
        prefix: Option<&ClosedPrefix>,
        sink: Option<&mut ClosedPrefix>,
    ) -> Result<TrajectoryRecord> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(k.unwrap_or(0));
        let (start_energy, err, jumps) = match &self.stage {
            Some((charger, charge_time)) => charger.charge_into(&mut rng, ws, *charge_time)?,
            None => (self.start_state(&mut rng, ws), 0.0, 0),
        };
        let mut record = self.evolve(k.is_some(), &mut rng, times, ws, prefix, sink, err)?;
        record.jumps += jumps;
        if start_energy != 0.0 {
            record.work.iter_mut().for_each(|w| *w -= start_energy);
        }
        Ok(record)
    }

    /// The start of a trajectory in `ws.psi`: all-down, the given state, or (a thermal
    /// start) an eigenstate of `H0` drawn from `rng`; returns the energy `W` is measured
    /// from beside `E_0` (the drawn eigenstate's `⟨H0⟩ − E_0`, else `0`).
    fn start_state(&self, rng: &mut ChaCha8Rng, ws: &mut Workspace) -> f64 {
        match (&self.gibbs, &self.initial) {
            (Some(g), _) => {
                g.sample_into(uniform(rng), &mut ws.psi);
                self.measure(&ws.psi, &mut ws.hx, &mut ws.vx).work
            }
            (None, Some(psi0)) => {
                ws.psi.copy_from_slice(psi0);
                0.0
            }
            (None, None) => {
                ws.psi.fill(C::default());
                ws.psi[ALL_DOWN] = C::new(1.0, 0.0);
                0.0
            }
        }
    }

    /// The charge of a two-stage trajectory ([`Unravelling::storing`]): its start, then this
    /// (charging) unravelling to `charge_time` with the trajectory's stream `rng`, leaving
    /// the normalised state at `T` in `ws.psi`. Returns the start energy
    /// ([`Self::start_state`]), the state-error bound at `T` (renormalising `ψ̃(T)` of norm
    /// `ν` multiplies it by `2/ν` with decay) and the jumps on the way. The storage stage
    /// then draws its own next kick and decay threshold: both processes are memoryless
    /// given the normalised state, so the two stages together are one unravelling.
    fn charge_into(&self, rng: &mut ChaCha8Rng, ws: &mut Workspace, charge_time: f64) -> Result<(f64, f64, usize)> {
        let start_energy = self.start_state(rng, ws);
        if charge_time == 0.0 {
            return Ok((start_energy, 0.0, 0));
        }
        let record = self.evolve(true, rng, &[charge_time], ws, None, None, 0.0)?;
        let norm = ws.psi.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
        ws.psi.iter_mut().for_each(|z| *z /= norm);
        let err = if self.decays { 2.0 * record.state_error / norm.max(f64::MIN_POSITIVE) } else { record.state_error };
        Ok((start_energy, err, record.jumps))
    }

    /// The trajectory from the state in `ws.psi` at `t = 0` to the last of `times`, with
    /// the stream `rng` (the next kick and the decay threshold drawn first; `jumps = false`:
    /// none, the jump-free trajectory), carrying the state error `err` from before; on
    /// return `ws.psi` holds the (unnormalised) state at the last time, except where the
    /// trajectory is the shared kick-free one (`prefix`). `W` is measured from `E_0`.
    #[allow(clippy::too_many_arguments)]
    fn evolve(
        &self,
        jumps: bool,
        rng: &mut ChaCha8Rng,
        times: &[f64],
        ws: &mut Workspace,
        prefix: Option<&ClosedPrefix>,
        mut sink: Option<&mut ClosedPrefix>,
        err: f64,
    ) -> Result<TrajectoryRecord> {
        let n = self.n_sites;
        let kick_rate = n as f64 * self.rates.dephasing;
        let mut next_kick =
            if kick_rate > 0.0 && jumps { -(1.0 - uniform(rng)).ln() / kick_rate } else { f64::INFINITY };
        let mut threshold = if self.decays { 1.0 - uniform(rng) } else { 0.0 };
        let mut record = TrajectoryRecord {
            work: vec![0.0; times.len()],
            rate: vec![0.0; times.len()],
            jumps: 0,
            state_error: 0.0,
            bloch: Vec::new(),
        };
        let mut err = err;
        let mut t = 0.0;
        let mut idx = 0;
        if let Some(p) = prefix {
            if times.last().is_none_or(|&last| next_kick > last) {
                return Ok(p.record.clone());
            }
            let c = p.checkpoints.partition_point(|cp| cp.0 <= next_kick);
            if c > 0 {
                let (tc, ic, ec, psi) = &p.checkpoints[c - 1];
                record.work[..*ic].copy_from_slice(&p.record.work[..*ic]);
                record.rate[..*ic].copy_from_slice(&p.record.rate[..*ic]);
                let blochs = times[..*ic].iter().filter(|&&t| self.records_bloch(t)).count();
                record.bloch.extend_from_slice(&p.record.bloch[..blochs * n]);
                ws.psi.copy_from_slice(psi);
                (t, idx, err) = (*tc, *ic, *ec);
            }
        }
        // the step's targets: (time, output index)
        let mut targets: Vec<(f64, Option<usize>)> = Vec::with_capacity(self.batch + 1);
        let mut taus = Vec::with_capacity(self.batch + 1);
        while idx < times.len() {
            if times[idx] <= t {
                let m = self.measure(&ws.psi, &mut ws.hx, &mut ws.vx);
                record.work[idx] = m.work;
                record.rate[idx] = m.rate;
                if self.records_bloch(times[idx]) {
                    push_bloch(&mut record.bloch, &ws.psi, n);
                }
                idx += 1;
                continue;
            }
            let end_limit = next_kick.min(t + self.max_step);
            targets.clear();
            let mut j = idx;
            while j < times.len() && targets.len() < self.batch && times[j] <= end_limit {
                targets.push((times[j], Some(j)));
                j += 1;
            }
            if targets.is_empty() || (j < times.len() && targets.len() < self.batch) {
                // the step ends at the kick (or the longest step) before the next output
                if targets.last().is_none_or(|l| l.0 < end_limit) {
                    targets.push((end_limit, None));
                }
            }
            taus.clear();
            taus.extend(targets.iter().map(|(s, _)| s - t));
            let step_err = self.expand(&taus, ws)?;
            let m = targets.len();
            // a decay jump inside the step: the first target whose norm fell below u
            let crossed = if self.decays {
                (0..m).find(|&i| ws.acc[i].iter().map(|z| z.norm_sqr()).sum::<f64>() <= threshold)
            } else {
                None
            };
            let valid = crossed.unwrap_or(m);
            for (i, &(_, out)) in targets[..valid].iter().enumerate() {
                if let Some(o) = out {
                    let r = self.measure(&ws.acc[i], &mut ws.hx, &mut ws.vx);
                    record.work[o] = r.work;
                    record.rate[o] = r.rate;
                    if self.records_bloch(times[o]) {
                        push_bloch(&mut record.bloch, &ws.acc[i], n);
                    }
                    idx = o + 1;
                }
            }
            err += step_err;
            if let Some(i) = crossed {
                let t_lo = if i == 0 { t } else { targets[i - 1].0 };
                if i > 0 {
                    ws.psi.copy_from_slice(&ws.acc[i - 1]);
                }
                t = self.locate_jump(t_lo, targets[i].0, threshold, ws, &mut err)?;
                err = self.decay_jump(rng, &mut ws.psi, err);
                threshold = 1.0 - uniform(rng);
                record.jumps += 1;
                continue;
            }
            ws.psi.copy_from_slice(&ws.acc[m - 1]);
            t = targets[m - 1].0;
            if let Some(sink) = sink.as_deref_mut().filter(|s| s.checkpoints.len() < s.capacity) {
                sink.checkpoints.push((t, idx, err, ws.psi.clone()));
            }
            if t == next_kick {
                let site = ((uniform(rng) * n as f64) as usize).min(n - 1);
                let bit = 1usize << site;
                for (s, x) in ws.psi.iter_mut().enumerate() {
                    if s & bit != 0 {
                        *x = -*x;
                    }
                }
                next_kick = t - (1.0 - uniform(rng)).ln() / kick_rate;
                record.jumps += 1;
            }
        }
        record.state_error = err;
        Ok(record)
    }

    /// The time in `(t_lo, t_hi]` where `‖ψ̃‖²` reaches `threshold`, `ws.psi` holding the
    /// state at `t_lo` (norm above it); on return `ws.psi` holds the state there.
    /// Safeguarded Newton on `f = ln‖ψ̃‖² − ln u`, `f' = −2⟨D⟩/‖ψ̃‖²`, inside the bracket,
    /// bisecting where Newton leaves it.
    fn locate_jump(&self, t_lo: f64, t_hi: f64, threshold: f64, ws: &mut Workspace, err: &mut f64) -> Result<f64> {
        let target = threshold.ln();
        let (mut lo, mut hi) = (t_lo, t_hi);
        // the state at lo is ws.psi; the last evaluated point
        let (n0, d0) = self.norm_and_decay(&ws.psi);
        let (mut x, mut f, mut df) = (lo, n0.ln() - target, -2.0 * d0 / n0);
        for _ in 0..200 {
            let newton = x - f / df;
            let next = if df < 0.0 && newton > lo && newton < hi { newton } else { 0.5 * (lo + hi) };
            let step_err = self.expand(&[next - lo], ws)?;
            let (nn, dn) = self.norm_and_decay(&ws.acc[0]);
            let fn_ = nn.ln() - target;
            if fn_.abs() <= JUMP_TOL || hi - lo <= 4.0 * f64::EPSILON * hi.abs().max(1.0) {
                ws.psi.copy_from_slice(&ws.acc[0]);
                *err += step_err;
                return Ok(next);
            }
            if fn_ > 0.0 {
                lo = next;
                ws.psi.copy_from_slice(&ws.acc[0]);
                *err += step_err;
            } else {
                hi = next;
            }
            (x, f, df) = (next, fn_, -2.0 * dn / nn);
        }
        Err(SpinbatError::NotConverged {
            what: "decay jump time",
            reason: format!("no time in ({t_lo}, {t_hi}] brought the norm to {threshold} within 200 steps"),
        })
    }

    /// A decay or pumping jump on `psi` (channel drawn `∝ ⟨L_k†L_k⟩`), normalised; returns
    /// the state-error bound carried through the renormalisation (`2e/√p`).
    fn decay_jump(&self, rng: &mut ChaCha8Rng, psi: &mut [C], err: f64) -> f64 {
        let n = self.n_sites;
        let mut up = vec![0.0; n];
        let mut norm = 0.0;
        for (s, x) in psi.iter().enumerate() {
            let p = x.norm_sqr();
            norm += p;
            for (i, u) in up.iter_mut().enumerate() {
                if s >> i & 1 == 1 {
                    *u += p;
                }
            }
        }
        // channel weights: σ_i⁻ (γ↓ p_i), then σ_i⁺ (γ↑ (1 − p_i))
        let weights: Vec<f64> =
            up.iter().map(|&u| self.rates.down * u).chain(up.iter().map(|&u| self.rates.up * (norm - u))).collect();
        let total: f64 = weights.iter().sum();
        let mut pick = uniform(rng) * total;
        let mut channel = weights.len() - 1;
        for (k, &w) in weights.iter().enumerate() {
            if pick < w {
                channel = k;
                break;
            }
            pick -= w;
        }
        let (site, lower) = (channel % n, channel < n);
        let bit = 1usize << site;
        let emptied = if lower { up[site] } else { norm - up[site] } / norm;
        for s in 0..psi.len() {
            if s & bit == 0 {
                let (from, to) = if lower { (s | bit, s) } else { (s, s | bit) };
                psi[to] = psi[from];
                psi[from] = C::default();
            }
        }
        let new_norm = psi.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
        for x in psi.iter_mut() {
            *x /= new_norm;
        }
        2.0 * err / emptied.max(f64::MIN_POSITIVE).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Couplings;
    use crate::Silent;

    #[test]
    fn without_noise_every_trajectory_is_the_closed_evolution() {
        let chain = Chain::builder(6).couplings(Couplings::PowerLaw { p: 1.0 }).alpha(0.4).build().unwrap();
        let u = Unravelling::new(&chain, &Noise::default(), 1e-10).unwrap();
        let times: Vec<f64> = (0..40).map(|k| 0.025 * k as f64).collect();
        let e = u.run(&times, 3, 7, &Silent).unwrap();
        let mut dense = crate::propagate::Dense::new(&chain).unwrap();
        let want = crate::propagate::Propagator::sample(&mut dense, &times).unwrap();
        for tr in &e.trajectories {
            assert_eq!(tr.jumps, 0);
            for (k, w) in want.iter().enumerate() {
                assert!((tr.work[k] - w.work).abs() < 1e-9, "t = {}: {} vs {}", w.t, tr.work[k], w.work);
                assert!((tr.rate[k] - w.rate).abs() < 1e-8, "t = {}: {} vs {}", w.t, tr.rate[k], w.rate);
            }
        }
    }

    #[test]
    fn a_decay_step_equals_the_dense_exponential_of_the_effective_generator() {
        // one spin in storage under decay: ψ̃(t) = e^{−iBZt − (γ/2) n t} ψ0, norm of the up
        // part e^{−γt}: a step of the ellipse series against the closed form
        let chain = Chain::builder(1).b(0.8).build().unwrap();
        let noise = Noise { decay: 0.6, ..Noise::default() };
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let u =
            Unravelling::with_initial(&chain, &noise, Generator::Storage, vec![C::new(s, 0.0), C::new(0.0, s)], 1e-12)
                .unwrap();
        let mut ws = Workspace {
            psi: vec![C::new(s, 0.0), C::new(0.0, s)],
            p: vec![C::default(); 2],
            q: vec![C::default(); 2],
            hx: vec![C::default(); 2],
            vx: vec![C::default(); 2],
            acc: (0..3).map(|_| vec![C::default(); 2]).collect(),
        };
        let taus = [0.3, 1.1, 2.0];
        let err = u.expand(&taus, &mut ws).unwrap();
        assert!(err < 1e-14);
        for (k, &t) in taus.iter().enumerate() {
            // H0 − E0 = B(Z + 1): down 0, up 2B
            let down = C::new(s, 0.0);
            let up = C::new(0.0, s) * C::from_polar((-0.3 * t).exp(), -2.0 * 0.8 * t);
            assert!((ws.acc[k][0] - down).norm() < 1e-13 && (ws.acc[k][1] - up).norm() < 1e-13, "t = {t}");
        }
    }
}
