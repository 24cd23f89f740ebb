//! What every propagation method provides: `W`, `W'` at requested times ([`Propagator`]),
//! and for the exact methods on the full space the state itself ([`StatePropagator`]).
//! The bottom of `propagate/`: the methods implement these traits, the planner and the
//! figures of merit (`observe`) use them.

use crate::error::{Result, SpinbatError};
use crate::model::{Chain, Protocol};
use serde::Serialize;

/// Work and its time derivative at one time (energies in units of `B` when `B = 1`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WorkSample {
    /// Time `t` (units `1/B`).
    pub t: f64,
    /// Deposited work `W(t) = ⟨H0⟩_t − E_0`.
    pub work: f64,
    /// `dW/dt`, exact from the state: `2 Im⟨H0ψ|Vψ⟩` (quantum) or `Σ_m ∇E0·Ṡ_m` (mean field).
    pub rate: f64,
}

/// A solver that can report `W(t)` and `W'(t)` for a fixed chain.
pub trait Propagator: Send {
    /// Short solver name (`dense`, `chebyshev`, ...).
    fn name(&self) -> &'static str;

    /// `W` and `W'` at `times`, which must be sorted ascending and `≥ 0`. Requests before
    /// the solver's current time are served from the anchor (see [`Propagator::anchor`])
    /// or by restarting at `t = 0`.
    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>>;

    /// Keeps the state at time `t` so later requests at `≥ t` start there
    /// (the maximum search anchors at the bracket it refines). A no-op where sampling is
    /// random access anyway.
    fn anchor(&mut self, _t: f64) -> Result<()> {
        Ok(())
    }

    /// A bound on `W(t)` for all `t`, which certifies the maximal power. Exact dynamics and
    /// the mean-field model conserve energy, so `W ≤ N(|B| + B) + min(N|ω|, λ_max(H_g) + G)`
    /// ([`Chain::work_bound`]);
    /// approximations that do not conserve it override this.
    fn work_bound(&self, chain: &Chain) -> f64 {
        chain.work_bound()
    }

    /// The polarisation `−⟨H_B⟩_0/(N B)` of the start, in `[0, 1]`: `1` from all-down
    /// (the default), `tanh(B/T0)` for independent spins from a thermal start. `N`
    /// independent spins charge in proportion to it (`W = 2BN sin²(ωt) · polarisation`), so
    /// the maximum search's plan ([`crate::observe::ScanPlan`]) scales its estimate of the
    /// certification horizon by `1/polarisation`.
    fn start_polarisation(&self) -> f64 {
        1.0
    }

    /// Grid step of the maximum search: `π/(16Λ)` with `Λ` the largest single-site energy
    /// scale of the dynamics ([`scan_step`]). A solver whose dynamics is
    /// known to be slower (Dicke: only `(1 − α)g` acts) overrides it.
    fn scan_step(&self, chain: &Chain) -> f64 {
        scan_step(chain)
    }

    /// A hint: requests will reach at least `t` (the end of the curve's window), so a
    /// propagator that serves many times from one expansion can size its expansions for
    /// the whole way at once. Ignored by default.
    fn expect_until(&mut self, _t: f64) {}

    /// The time up to which the work of any request is already done (a Gram segment's
    /// reach: later requests before it cost only their evaluation), for progress reports:
    /// the maximum search counts its scan as done up to there, so an estimate made right
    /// after a long expansion does not extrapolate the expansion's time over the rest of
    /// the way. `0` by default (every request costs propagation).
    fn computed_until(&self) -> f64 {
        0.0
    }

    /// Where a long [`Propagator::sample`] has got to while it runs, readable from another
    /// thread (the `f64` bits of a time): a propagator whose one call may do a long
    /// expansion (a Chebyshev Gram segment: seconds to minutes at `N ≥ 22`) stores there
    /// the time up to which that expansion's work is done, counted in proportion to the
    /// work, so a progress display can move (and estimate) before the call returns.
    /// `None` by default: nothing reported while a call runs.
    fn live_reach(&self) -> Option<std::sync::Arc<std::sync::atomic::AtomicU64>> {
        None
    }

    /// A hint: keep the state at `t` as the anchor if it is at hand now (a time of the
    /// last call of [`Propagator::sample`]), at no propagation cost; otherwise do nothing.
    /// The maximum search calls it during its scan for the best interval so far.
    fn anchor_if_at_hand(&mut self, _t: f64) -> Result<()> {
        Ok(())
    }

    /// A hint from the maximum search: the samples after `t` (the time of the last
    /// [`Propagator::sample`]) serve only to certify that `W(t')/t'` stays below `power`, the
    /// best power found (the window and every requested time are done; a later call may
    /// raise `power`). A propagator whose cost grows with its accuracy (MPS) may loosen it
    /// from a sample whose power has fallen [`crate::observe::CERTIFY_ONLY_MARGIN`] below
    /// `power` on, as long as each later sample keeps its estimated error inside its margin
    /// `power·t' − W(t')`, returning to full accuracy where it cannot; the error it reports
    /// stays that of the other samples. Ignored by default.
    fn certify_only(&mut self, _t: f64, _power: f64) -> Result<()> {
        Ok(())
    }

    /// Most times one call of [`Propagator::sample`] serves from one expansion (memory
    /// bound); the maximum search sizes its scan chunks by it so that the anchor it asks for
    /// is still at hand. Unlimited by default.
    fn batch_capacity(&self) -> usize {
        usize::MAX
    }

    /// The time after which no power `W(t)/t` can reach `power`: the maximum search stops
    /// there. Default: `W_bound / power` ([`Propagator::work_bound`]); a drive, whose work
    /// bound grows with the field's total variation, overrides it
    /// ([`protocol_certify_time`]).
    fn certify_time(&self, chain: &Chain, power: f64) -> f64 {
        self.work_bound(chain) / power
    }

    /// The estimate of the time-discretisation error of `W` of a periodic drive in an
    /// exact method (CFET4:2 step doubling, [`super::magnus`]); `None` for other methods.
    fn drive_step_error_estimate(&self) -> Option<f64> {
        None
    }

    /// The rounding floor of that estimate's step-doubling differences on `W`
    /// ([`super::magnus::Driven::step_error_floor`]); `None` for other methods.
    fn drive_step_error_floor(&self) -> Option<f64> {
        None
    }

    /// Where the dynamics ends: the last segment end of a schedule
    /// ([`crate::model::Protocol::end`]); requests past it are refused and the maximum
    /// search stops there. `None` (the default): no end.
    fn end_time(&self) -> Option<f64> {
        None
    }

    /// Bound (or, for `dense`, estimate) of the absolute error of every `W` returned so far;
    /// `f64::INFINITY` for an approximation whose error is not bounded (weak coupling).
    fn error_bound(&self) -> f64;

    /// One line on how the error is controlled, for summaries and records.
    fn accuracy_note(&self) -> String;

    /// Asks for the states at `tap.times` to be handed to `tap.visit` while the work is
    /// propagated, so that one propagation serves the curve and the observables of the
    /// states. A method that can (Chebyshev by Gram segments: the states of a segment come
    /// from its kept terms, [`crate::operator::combine_terms`]) takes the tap and returns
    /// `Ok`; any other hands it back, and the caller propagates the states separately
    /// ([`StatePropagator`]). Call it before the first [`Propagator::sample`]; what the tap
    /// has not served by the end is reported by [`Propagator::end_tap`].
    ///
    /// # Errors
    /// The tap itself, handed back, where the method does not serve taps.
    fn tap_states(&mut self, tap: StateTap) -> std::result::Result<(), StateTap> {
        Err(tap)
    }

    /// Ends the tap of [`Propagator::tap_states`]: the times not served (propagation did
    /// not reach them), and the bound on the error of the states served; `None` where no
    /// tap was taken.
    ///
    /// # Errors
    /// The first error of the tap's `visit` (the tap stopped there).
    fn end_tap(&mut self) -> Result<Option<TapOutcome>> {
        Ok(None)
    }

    /// The settings and accuracy figures of a matrix-product-state run (bond dimension,
    /// discarded weight, time-step and MPO-fit error estimates); `None` for other methods.
    fn mps_report(&self) -> Option<crate::mps::MpsReport> {
        None
    }
}

/// The callback of a [`StateTap`]: `(W and W' at t, the state at t)`, as
/// [`StatePropagator::for_each_state`]'s, owned by the propagator while it runs.
pub type TapVisitor = Box<dyn FnMut(&WorkSample, StateView<'_>) -> Result<()> + Send>;

/// States asked of a propagator while it propagates the work ([`Propagator::tap_states`]).
pub struct StateTap {
    /// The times (sorted ascending, `≥ 0`).
    pub times: Vec<f64>,
    /// Bytes per full-space amplitude (`2^N`) the visitor needs for its own buffers: the
    /// propagator leaves them free when it sizes its store.
    pub visitor_bytes_per_amplitude: f64,
    /// Called once for each time, in order.
    pub visit: TapVisitor,
    /// The visitor measures [`StateView::Rows`] too (sums over the basis: one-site
    /// quantities, magnetisation populations, energy moments): a sector whose `H0` is
    /// diagonal then hands its states out in its own layout instead of expanding them.
    pub rows: bool,
}

impl std::fmt::Debug for StateTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateTap").field("times", &self.times.len()).finish_non_exhaustive()
    }
}

/// What a [`StateTap`] served ([`Propagator::end_tap`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TapOutcome {
    /// The times not handed to the visitor, in order.
    pub remaining: Vec<f64>,
    /// Bound on `‖ψ_computed − ψ(t)‖` (up to a global phase) of every state served, as
    /// [`StatePropagator::state_error`].
    pub state_error: f64,
}

/// A state handed out by a [`StatePropagator`] at one time, in the form its method holds
/// it. Measurements (`observe`) take a view and support the kinds they can: a new kind of
/// state (a density matrix, an ensemble of trajectories, a matrix-product state) is a new
/// variant, and the compiler then points at every measurement that must learn it, while
/// the maximum search (which needs only [`WorkSample`]s), the CLI and Python stay as they
/// are.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum StateView<'a> {
    /// A pure state: its `2^N` amplitudes on the full space (up to a global phase; a
    /// sector's state expanded) and the chain's matrix-free operators.
    Pure {
        /// `ψ(s)` for every basis state `s` (bit `i` set: site `i` up).
        psi: &'a [num_complex::Complex64],
        /// `H`, `H0` on the full space.
        ops: &'a crate::operator::Operators,
        /// The state is even under the reflection `i → N − 1 − i` of the sites (it came
        /// from the reflection-even sector): one-site measurements need only half the
        /// sites. `false` claims nothing.
        mirror_even: bool,
    },
    /// A pure reflection-even state in the sector's own layout
    /// ([`crate::symmetry::SymmetricTiles`]): read in place, never expanded to `2^N`
    /// amplitudes. Only to a [`StateTap`] that asked for it ([`StateTap::rows`]) and where
    /// `H0` is diagonal.
    Rows {
        /// The state's stored tiles, with `H0_ss`.
        rows: &'a dyn crate::symmetry::SymmetricTiles,
    },
    /// A density matrix `ρ` of the `N` sites (the open battery): `2^N × 2^N` entries by
    /// columns, `rho[c·2^N + r] = ρ_rc`, and the chain's full-space operators.
    Density {
        /// The entries of `ρ`, column by column.
        rho: &'a [num_complex::Complex64],
        /// `H`, `H0` on the full space.
        ops: &'a crate::operator::Operators,
    },
    /// A matrix-product state (the `mps` solver, [`super::MpsPropagator`]): the state of
    /// the run with step `δ` and that of the run with step `2δ` at the same time, so that a
    /// measurement `X` is extrapolated as `W` is, `(4X(ψ_δ) − X(ψ_{2δ}))/3`, and the MPO of
    /// `H0`. Never expanded to `2^N` amplitudes: the measurements are contractions
    /// ([`crate::mps::Mps`]).
    MatrixProduct {
        /// The state of the run with step `δ`.
        psi: &'a crate::mps::Mps,
        /// The state of the run with step `2δ`.
        psi_coarse: &'a crate::mps::Mps,
        /// `H0` as an MPO.
        h0: &'a crate::mps::Mpo,
    },
}

impl<'a> StateView<'a> {
    /// The amplitudes and operators of a pure state, `None` for other kinds.
    pub fn pure(self) -> Option<(&'a [num_complex::Complex64], &'a crate::operator::Operators)> {
        match self {
            StateView::Pure { psi, ops, .. } => Some((psi, ops)),
            StateView::Rows { .. } | StateView::Density { .. } | StateView::MatrixProduct { .. } => None,
        }
    }
}

/// The callback of [`StatePropagator::for_each_state`]: `(W and W' at t, the state at t)`.
pub type StateVisitor<'a> = dyn FnMut(&WorkSample, StateView<'_>) -> Result<()> + 'a;

/// A full-space propagator that can hand out the state `ψ(t)` itself (dense and
/// Chebyshev), for observables beyond the work (see [`crate::observe::trajectory`]).
pub trait StatePropagator: Propagator {
    /// Calls `visit(sample, state)` for each of `times` (sorted ascending, `≥ 0`), in
    /// order, with `W`, `W'` at `t` and the state ([`StateView::Pure`] for the exact
    /// methods: the `2^N` amplitudes of `ψ(t)`, up to a global phase, and the chain's
    /// matrix-free operators; only valid during the call).
    /// Stops at the first error of `visit`.
    ///
    /// # Errors
    /// [`SpinbatError::InvalidTimes`] for bad `times`; whatever `visit` returns.
    fn for_each_state(&mut self, times: &[f64], visit: &mut StateVisitor<'_>) -> Result<()>;

    /// Bound (dense: estimate) on the norm `‖ψ_computed − ψ(t)‖` of the state error, up
    /// to a global phase, for every state handed out so far.
    fn state_error(&self) -> f64;
}

/// The basis a planned method runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpaceKind {
    /// All `2^N` basis states ([`crate::operator::Operators`]).
    Full,
    /// The reflection-even sector ([`crate::symmetry::ReflectionSector`]), about half of them.
    ReflectionEven,
    /// The coupling orbits ([`crate::symmetry::OrbitSpace`]): a ring's dihedral group, about
    /// `2N` times fewer states.
    Orbits,
    /// The `N + 1` Dicke states ([`crate::symmetry::DickeSpace`]).
    Dicke,
    /// No state vector: the mean field (Bloch vectors) and the weak-coupling formula.
    None,
    /// All `4^N` entries of a density matrix on the full space
    /// ([`crate::propagate::DensityMatrix`]).
    DensityMatrix,
    /// The `(N + 1)²` entries of a density matrix on the Dicke states
    /// ([`crate::propagate::DensityMatrix::dicke`]): all couplings equal, collective decay
    /// the only channel ([`crate::open::keeps_dicke_states`]).
    DickeDensityMatrix,
    /// A matrix-product state ([`crate::mps::Mps`]): `N` site tensors of bond dimension
    /// at most `χ`.
    MatrixProduct,
}

/// Checks that `times` are finite, `≥ 0` and sorted ascending.
pub fn check_times(times: &[f64]) -> Result<()> {
    for (k, &t) in times.iter().enumerate() {
        if !t.is_finite() || t < 0.0 {
            return Err(SpinbatError::InvalidTimes {
                reason: format!("time #{} = {t} must be finite and >= 0", k + 1),
            });
        }
        if k > 0 && t < times[k - 1] {
            return Err(SpinbatError::InvalidTimes {
                reason: format!("times must be sorted ascending, but {} comes after {}", t, times[k - 1]),
            });
        }
    }
    Ok(())
}

/// Grid step of the maximum search, `h = π/(16Λ)` with
/// `Λ = |ω| + (1 + |α|) max_i Σ_j |g_ij|` the largest single-site energy scale
/// (see [`crate::observe`]), for a propagator that knows no better
/// ([`Propagator::scan_step`]); for the generalised charging
/// `Λ = |ω| max_i|w_i| + (1 + |α| max(1, |γ|)) max_i Σ_j |g_ij| (+ max_i |B_i|` with the
/// field kept on`)`, [`Chain::local_energy_scale`].
pub fn scan_step(chain: &Chain) -> f64 {
    scan_step_for(chain.local_energy_scale())
}

/// `h = π/(16Λ)` for the local energy scale `Λ`.
pub fn scan_step_for(lambda: f64) -> f64 {
    std::f64::consts::PI / (16.0 * lambda)
}

/// Refuses times past `end` (a schedule's last segment end, [`Propagator::end_time`]).
///
/// # Errors
/// [`SpinbatError::InvalidTimes`] for a time `> end`.
pub fn check_within(times: &[f64], end: Option<f64>) -> Result<()> {
    match (times.last(), end) {
        (Some(&t), Some(e)) if t > e => Err(SpinbatError::InvalidTimes {
            reason: format!("time {t} is past the end of the field schedule at t = {e} (the charge ends there)"),
        }),
        _ => Ok(()),
    }
}

/// The work bound of the maximum search under `protocol`
/// ([`crate::model::Chain::work_bound_reach`]): `|ω|` for a constant field, `max_k |ω_k|`
/// plus the total variation `Σ_k |ω_{k+1} − ω_k|` for a schedule, and for a drive (no end,
/// unbounded variation) the spectral bound alone; `h_g_max ≥ λ_max(H_g)` as the method
/// knows it.
pub fn protocol_work_bound(chain: &Chain, protocol: &Protocol, h_g_max: f64) -> f64 {
    let reach = match protocol {
        Protocol::Constant(w) => w.abs(),
        Protocol::Schedule(s) => s.max_abs_omega() + s.omegas().windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>(),
        Protocol::Drive(d) if d.amplitude == 0.0 => d.max_abs_omega(),
        Protocol::Drive(_) => f64::INFINITY,
    };
    chain.work_bound_reach(h_g_max, reach)
}

/// The certified power bound of a drive `ω + A cos(νt)` (physics.md, "Time-dependent
/// charging"): `W(t) ≤ Σ_i(|B_i| + B_i) + N(max|ω| + TV_[0,t](ω))` with the total variation
/// `TV_[0,t] = |A|(2⌊νt/π⌋ + 1 − cos(νt mod π)) ≤ |A|(1 + 2νt/π)`
/// ([`crate::model::Drive::total_variation`]), so `W(t)/t ≤ c/t + d` with
/// `c = Σ_i(|B_i| + B_i) + N(|ω| + 2|A|)` and `d = 2N|A|ν/π`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DrivePowerBound {
    /// `c = Σ_i(|B_i| + B_i) + N(|ω| + 2|A|)` (units of `B`).
    pub c: f64,
    /// `d = 2N|A|ν/π` (units of `B²`): the bound's power at long times.
    pub d: f64,
}

impl DrivePowerBound {
    /// `c + d t`, the bound on `W(t)`.
    pub fn work_at(&self, t: f64) -> f64 {
        self.c + self.d * t
    }

    /// The time after which no power `≥ p` occurs, `c/(p − d)`; infinite for `p ≤ d`.
    pub fn time_for(&self, power: f64) -> f64 {
        if power > self.d {
            self.c / (power - self.d)
        } else {
            f64::INFINITY
        }
    }
}

/// [`DrivePowerBound`] of `drive` on `chain`.
pub fn drive_power_bound(chain: &Chain, drive: &crate::model::Drive) -> DrivePowerBound {
    let a = drive.amplitude.abs();
    // the reach of V without the spectral cap (h_g_max = ∞): linear in the reach
    let c = chain.work_bound_reach(f64::INFINITY, drive.omega.abs() + 2.0 * a);
    let d = chain.work_bound_reach(f64::INFINITY, 2.0 * a * drive.frequency / std::f64::consts::PI)
        - chain.work_bound_reach(f64::INFINITY, 0.0);
    DrivePowerBound { c, d }
}

/// The time after which no power `W(t)/t` under `protocol` reaches `power`
/// ([`Propagator::certify_time`]): the constant `protocol_work_bound / power`, and for a
/// drive the earlier [`DrivePowerBound::time_for`] (no power `≥ p > d` after `c/(p − d)`).
pub fn protocol_certify_time(chain: &Chain, protocol: &Protocol, h_g_max: f64, power: f64) -> f64 {
    let spectral = protocol_work_bound(chain, protocol, h_g_max) / power;
    let Protocol::Drive(d) = protocol else {
        return spectral;
    };
    spectral.min(drive_power_bound(chain, d).time_for(power))
}

/// Grid step of the maximum search under `protocol`: [`scan_step_for`] with
/// `Λ = max_t |ω(t)| + (1 + |α|) max_i Σ_j |g_ij|` (plus the drive's frequency `ν`, the
/// rate at which `ω(t)` itself turns).
pub fn protocol_scan_step(chain: &Chain, protocol: &Protocol) -> f64 {
    let turn = match protocol {
        Protocol::Drive(d) => d.frequency,
        _ => 0.0,
    };
    scan_step_for(protocol.max_abs_omega() + turn + (1.0 + chain.alpha().abs()) * chain.max_abs_row_sum())
}
