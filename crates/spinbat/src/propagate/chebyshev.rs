//! Matrix-free Chebyshev propagator.
//!
//! `e^{−iHδ} = e^{−icδ} Σ_k (2 − δ_k0) (−i)^k J_k(rδ) T_k(H̃)`, `H̃ = (H − c)/r`, where
//! `[c − r, c + r]` encloses the spectrum of `H` (Gershgorin's enclosure intersected with the
//! two-site one of [`crate::model::BondEnclosure`], see [`Operators::spectral_bounds_h`]).
//! `T_k(H̃)ψ` follows from the three-term recurrence, one application of `H` per term,
//! fused with the accumulation of the results: all the requested times of a batch (up to
//! [`MAX_BATCH`]) come from *one* expansion, so dense output costs little more than the
//! longest step.
//!
//! **Two paths.** `H` is real and `ψ_0 = |↓…↓⟩` is real, so from `t = 0` every
//! `T_k(H̃)ψ_0` is real: `ψ(t) = a(t) − i b(t)` with the even terms building `a` and the
//! odd ones `b` (physics.md). This *real path* moves half the bytes of a complex
//! recurrence and needs no stored state, so a batch is computed from `t = 0` whenever that
//! costs less (counting a real term as half a complex one, with the exact series lengths)
//! than continuing with the *complex path* from the current state or the anchor. The scan of
//! the maximum search takes the real path; its refinement continues from the anchor kept
//! out of the scan's accumulators (a few complex terms per evaluation).
//!
//! **Spaces and precision.** The propagator runs on any [`Space`]: all `2^N` states, or the
//! reflection-even sector ([`ReflectionSector`], half the rows) that the planner picks for
//! mirror-symmetric chains with `N ≥ 14`. States are `f64`, or `f32` with
//! `Chebyshev<_, f32>` (single precision, `super::Precision::Single`).
//!
//! **Error control.** Each expansion is cut at the smallest `K` with
//! `Σ_{k>K} 2|J_k(rδ)| ≤ ε_step`, a rigorous bound on its state error because
//! `‖T_k(H̃)‖ ≤ 1`. State errors add up along a path of complex steps (unitary steps do not
//! amplify them), and a state error `ε` moves `W` by at most `2‖H0‖ε`
//! ([`Operators::h0_norm_bound`]). `ε_step = tol / (2‖H0‖) · 10⁻³` (floored at `10⁻¹⁵`, and
//! at `0.1u` for a storage type of unit roundoff `u`), so `tol` holds for a thousand chained
//! steps; [`Propagator::error_bound`] reports the accumulated bound, with an estimate of
//! rounding (`4u` per term) added. Tested against dense ED, against the bound, between the
//! sector and the full space, single against double, and against QuTiP.
//!
//! **States handed out while the work propagates** ([`Propagator::tap_states`]). A Gram
//! segment keeps its terms `v_a`; the state at a time `s` into it is `Σ_a c_a(s) v_a`
//! ([`combine_terms`], for up to 32 times at once). Each time takes only the terms its own
//! series needs at the step tolerance (about `rs + 15`, fewer than the segment keeps), and
//! the dropped coefficients' sum `Σ_{a ≥ K_s} |c_a| (1 + ε₀)` is added to its state-error
//! bound with the segment's own (start error, tail beyond the kept terms, rounding). A time
//! the segments have passed (`T*`, found after the scan) comes from one real series from
//! all-down in the same store, with its own tail.

use super::checkpoint::{Checkpoint, Saved};
use super::gram::Segment;
use super::method::{
    check_times, Propagator, SpaceKind, StatePropagator, StateTap, StateView, StateVisitor, TapOutcome, TapVisitor,
    WorkSample,
};
use crate::error::{Result, SpinbatError};
use crate::model::Chain;
use crate::numeric::bessel::{bessel_sequence, minus_i_pow, step_coefficients};
use crate::numeric::{Real, Widen};
use crate::operator::{
    chebyshev_step, chebyshev_step_into, combine_terms, energy_and_rate_multi, energy_and_rate_split, gram_sums,
    Moments, Operators,
};
use crate::symmetry::{DickeSpace, OrbitSpace, ReflectionSector, Space, SymmetricTiles};
use num_complex::{Complex, Complex64};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Rounding error per Chebyshev term (relative to the unit state norm), an estimate: `4u`
/// with `u` the unit roundoff of the storage type (`4.4·10⁻¹⁶` in double, `2.4·10⁻⁷`
/// in single precision).
fn rounding_per_term<R: Real>() -> f64 {
    4.0 * R::UNIT_ROUNDOFF
}

/// Most sample times accumulated in one expansion.
pub const MAX_BATCH: usize = 32;

/// Most terms a complex Gram segment keeps (a real one from all-down twice as many, in the
/// same memory): past about this many the `K²` products per row cost more than the
/// series they save (BENCHMARKS.md).
pub const GRAM_MAX_TERMS: usize = 128;

/// Fewest terms a complex Gram segment keeps where memory holds them (twice as many real):
/// a segment pays a tail of about 15 terms beyond the time it reaches, so shorter ones
/// waste most of their terms. Where memory holds fewer, the segments keep what it holds,
/// down to [`GRAM_FIT_TERMS`].
pub const GRAM_MIN_TERMS: usize = 40;

/// Fewest complex terms the memory must hold for Gram segments at all; below, the
/// propagator accumulates batches instead. Short segments spend about half their terms
/// on the tail, but a batch of `m` times reads and writes its `m` accumulators at every
/// term, and at the sizes where memory binds that traffic costs more: `N = 26` (p = 1,
/// the default command, 24 GiB) holds 29 complex terms and ran in 519 s by segments of
/// 29 against 743 s by batches, side by side (BENCHMARKS.md). A segment of `K` terms
/// reaches about `K − 15` in `rt`: by that count segments of 24 would cost about what the
/// batches do.
pub const GRAM_FIT_TERMS: usize = 26;

/// Share of the available memory the Gram segments' terms may take. At `N = 24` (p = 1,
/// 24 GiB) 70 % holds the default window's series in one real segment (241 terms) where
/// half held 180 real terms and two complex segments of 61: 38.9 → 33.9 s (medians),
/// 12.4 → 16.4 GB peak (BENCHMARKS.md).
const GRAM_MEMORY_SHARE: f64 = 0.7;

/// Share of the available memory the Gram segments' terms and a [`StateTap`]'s buffers
/// may take together: the terms keep [`GRAM_MEMORY_SHARE`] beside a tap whose group takes
/// up to [`TAP_MEMORY_SHARE`] (`N = 24`, p = 1: one real segment of 241 terms with a group
/// of 17 states, 17.8 GiB peak; at half the memory the same run took a real segment of 178
/// and two complex ones of 85, and that propagation cost more than the longer series the
/// tap's states then combine from, BENCHMARKS.md).
const GRAM_WITH_TAP_SHARE: f64 = 0.82;

/// Terms a complex Gram segment may keep on `ops` with states in `R`: up to
/// [`GRAM_MAX_TERMS`] within [`GRAM_MEMORY_SHARE`] of the available memory; `None` where
/// the space does not measure by Gram products ([`Space::gram_output`]) or fewer than
/// [`GRAM_FIT_TERMS`] fit.
fn gram_terms<S: Space, R: Real>(ops: &S) -> Option<usize> {
    gram_terms_beside::<S, R>(ops, 0.0)
}

/// [`gram_terms`] with `reserved` bytes of the available memory `a` left to others (a
/// [`StateTap`]'s buffers): the terms take `min(0.7a, 0.82a − reserved)`
/// ([`GRAM_MEMORY_SHARE`], [`GRAM_WITH_TAP_SHARE`]), so a tap's buffers shorten the
/// segments only where the two together would pass the latter.
fn gram_terms_beside<S: Space, R: Real>(ops: &S, reserved: f64) -> Option<usize> {
    if !ops.gram_output() {
        return None;
    }
    let per_term = ops.dim() as f64 * 2.0 * std::mem::size_of::<R>() as f64;
    // inside a parallel job (a study's small jobs) the other threads may hold theirs
    let jobs = if rayon::current_thread_index().is_some() { rayon::current_num_threads() } else { 1 } as f64;
    let fit = crate::resources::bytes_available().map_or(f64::INFINITY, |a| {
        (GRAM_MEMORY_SHARE * a).min(GRAM_WITH_TAP_SHARE * a - reserved).max(0.0) / jobs / per_term
    });
    let k = fit.min(GRAM_MAX_TERMS as f64).floor() as usize;
    (k >= GRAM_FIT_TERMS).then_some(k)
}

/// The Gram segments built so far (see [`super::gram`]) and where the next one starts.
struct GramOutput<R: Real> {
    segments: Vec<Segment>,
    /// most terms of a complex segment
    max_terms: usize,
    /// `H0 − E_0 ≥ 0` is proved, so `‖(H0 − E_0)ψ‖²` is bounded without `G2`
    nonneg: bool,
    /// the state at the end of the last segment (global phase dropped), once combined
    end_state: Vec<Complex<R>>,
    /// `Some(real)` while the end state of the last segment is not combined yet: its
    /// terms (real ones if `real`) are still in the store. Combined only when asked for
    /// (the next segment, the state handed out): a run whose last segment ends its
    /// requests never reads its store a last time.
    end_pending: Option<bool>,
    /// reused storage of the complex segments' terms
    store: Vec<Complex<R>>,
    /// how many real terms `T_a(H̃)|↓…↓⟩` of the series from all-down the store holds
    /// (a real first segment's, or a late tap's), `0` once a complex segment wrote it:
    /// a late tap within them combines its states without running the series again
    real_terms_held: usize,
    /// requests are expected to reach this time ([`Propagator::expect_until`])
    horizon: f64,
    /// the work of the segments built so far ([`segment_cost`] plus the first touches)
    cost_done: f64,
    /// states asked for while the segments are built ([`Propagator::tap_states`])
    tap: Option<Tap>,
    /// the buffers of the last tap (full-space operators, expanded state, group of
    /// states), kept for the next: fresh memory costs a page clearing on first touch
    spare: Option<(Option<Operators>, Vec<Complex64>, Vec<Complex64>)>,
}

/// Most states of one segment combined at once for a [`StateTap`] (memory permitting).
const TAP_GROUP: usize = MAX_BATCH;

/// Share of the available memory a [`StateTap`]'s group of states may take.
const TAP_MEMORY_SHARE: f64 = 0.1;

/// A [`StateTap`] being served from the Gram segments: each segment, once built, hands the
/// states at the tap's times it reaches to the visitor, combined from its kept terms
/// ([`combine_terms`]) in groups of up to `group` times.
struct Tap {
    times: Vec<f64>,
    /// the first time not served yet
    next: usize,
    visit: TapVisitor,
    /// full-space operators for a sector's states, which are expanded before `visit`
    /// sees them (`None` on the full space)
    full: Option<Operators>,
    expanded: Vec<Complex64>,
    /// the states of one group (`group` columns of `dim`)
    states: Vec<Complex64>,
    group: usize,
    /// states handed out in the sector's layout ([`StateView::Rows`]), not expanded
    rows: bool,
    state_err: f64,
    /// the visitor's first error: the tap stops there
    error: Option<SpinbatError>,
}

impl<R: Real> GramOutput<R> {
    /// No segment yet, on `ops` for `chain`; `None` where Gram segments do not apply
    /// ([`gram_terms`]).
    fn for_space<S: Space>(ops: &S, chain: &Chain) -> Option<Self> {
        gram_terms::<S, R>(ops).map(|max_terms| GramOutput {
            segments: Vec::new(),
            max_terms,
            nonneg: chain.all_down_is_proved_ground(),
            end_state: Vec::new(),
            end_pending: None,
            real_terms_held: 0,
            store: Vec::new(),
            horizon: 0.0,
            cost_done: 0.0,
            tap: None,
            spare: None,
        })
    }
}

/// Bytes per stored row that do not depend on the batch, at the peak: the complex state
/// (materialised when a complex expansion continues it), the second recurrence vector
/// (complex, or the two real ones of the real path), the anchor and the diagonal of `H_g`.
pub const FIXED_BYTES_PER_AMPLITUDE: f64 = 16.0 + 16.0 + 16.0 + 8.0;

/// Times per expansion: up to [`MAX_BATCH`], as many as 85% of the available memory holds
/// beside the fixed buffers (16 bytes per row and time), at least one.
fn batch_size<R: Real>(dim: usize) -> usize {
    let per_time = bytes_per_row_and_time::<R>() * dim as f64;
    let fixed = fixed_bytes_per_row::<R>();
    let budget = crate::resources::bytes_available().map_or(f64::INFINITY, |a| 0.85 * a - fixed * dim as f64);
    ((budget / per_time).floor().max(1.0) as usize).clamp(1, MAX_BATCH)
}

/// [`FIXED_BYTES_PER_AMPLITUDE`] for storage type `R` (the diagonal stays in double).
pub fn fixed_bytes_per_row<R: Real>() -> f64 {
    (FIXED_BYTES_PER_AMPLITUDE - 8.0) * std::mem::size_of::<R>() as f64 / 8.0 + 8.0
}

/// Bytes per stored row and time of the accumulators: `16` in double, `8` in single precision.
pub fn bytes_per_row_and_time<R: Real>() -> f64 {
    2.0 * std::mem::size_of::<R>() as f64
}

/// The space [`Solver::Chebyshev`](super::Solver) runs on for `chain`:
/// * the coupling orbits ([`OrbitSpace`]) for a translation-symmetric chain (a ring) with
///   `ORBIT_MIN_SITES ≤ N < 32`: its dihedral group leaves about `2^N/(2N)` states, few enough
///   that the sparse rows beat the bit-flip kernels (BENCHMARKS.md), unless those rows
///   (with the long-range flip-flops of `α ≠ 0`) do not fit in memory where the next space
///   would;
/// * the reflection-even sector for other mirror-symmetric chains with `N ≥ 14` (below, the
///   `64 × 64` tiles make the sector one whole tile, the full space relabelled);
/// * the full `2^N` space otherwise. The field kept on and per-site weights of `ω` leave
///   the orbits (the reflection sector takes mirror-symmetric weights and the field kept
///   on); XYZ couplings (`γ ≠ 0`) keep every symmetry of the couplings, so they run on the
///   orbits and the sector like XXZ (their pair flips and the rate's part `i⟨[H_g, H_B]⟩`
///   in each space).
pub fn space_for(chain: &Chain) -> SpaceKind {
    let n = chain.n_sites();
    if chain.keep_field() || chain.has_omega_sites() {
        // the coupling orbits hold H = H_g + omega sum_i X_i (XXZ or XYZ) only; the
        // reflection sector takes mirror-symmetric weights and the field kept on
        return if n >= REFLECTION_MIN_SITES && ReflectionSector::applies(chain) {
            SpaceKind::ReflectionEven
        } else {
            SpaceKind::Full
        };
    }
    let reflection = n >= REFLECTION_MIN_SITES && ReflectionSector::applies(chain);
    if (ORBIT_MIN_SITES..32).contains(&n) && crate::symmetry::Symmetries::of(chain).translation {
        // the orbits' sparse rows hold one entry per flip-flop pair (long range, alpha != 0):
        // where they do not fit in memory but the reflection sector's dense rows would, the
        // sector runs instead (e.g. N = 28, p = 1, alpha = 0.5 on 24 GB: about 17 GB of
        // orbit rows against 10 GB)
        let per_row = fixed_bytes_per_row::<f64>() + bytes_per_row_and_time::<f64>();
        let orbits =
            (per_row + OrbitSpace::bytes_per_row(chain)) * OrbitSpace::dimension_bound(chain) + 4.0 * (n as f64).exp2();
        let other = per_row * if reflection { ReflectionSector::dimension(n) as f64 } else { (n as f64).exp2() };
        let fits = |bytes: f64| crate::resources::bytes_available().is_none_or(|a| bytes <= a);
        if fits(orbits) || !fits(other) {
            return SpaceKind::Orbits;
        }
    }
    if reflection {
        SpaceKind::ReflectionEven
    } else {
        SpaceKind::Full
    }
}

/// Whether [`Solver::Chebyshev`](super::Solver) runs in the reflection-even sector
/// ([`space_for`]).
pub fn uses_reflection_sector(chain: &Chain) -> bool {
    space_for(chain) == SpaceKind::ReflectionEven
}

/// Smallest `N` for which the Chebyshev solver works in the coupling orbits of a ring.
pub const ORBIT_MIN_SITES: usize = 12;

/// Smallest `N` for which the Chebyshev solver works in the reflection sector.
pub const REFLECTION_MIN_SITES: usize = 14;

/// Stored rows of the Chebyshev solver for `chain` ([`space_for`]): `2^N`, the reflection
/// sector's, or (at most) the orbit space's.
pub fn rows(chain: &Chain) -> f64 {
    let full = (chain.n_sites() as f64).exp2();
    match space_for(chain) {
        SpaceKind::Orbits => OrbitSpace::dimension_bound(chain),
        // past what any index type holds: the sector is about half the space
        SpaceKind::ReflectionEven if chain.n_sites() > crate::basis::MAX_EXACT_SITES => full / 2.0,
        SpaceKind::ReflectionEven => ReflectionSector::dimension(chain.n_sites()) as f64,
        _ => full,
    }
}

/// Bytes the space itself holds beyond the per-row buffers of the propagator: the orbit
/// space's sparse rows and, while it is built, a `u32` per basis state.
pub fn space_bytes(chain: &Chain) -> f64 {
    match space_for(chain) {
        SpaceKind::Orbits => OrbitSpace::bytes_per_row(chain) * rows(chain) + 4.0 * (chain.n_sites() as f64).exp2(),
        _ => 0.0,
    }
}

/// Bessel coefficients `J_k(rδ)` of one expansion and the bound on its truncated tail.
type Series = (Vec<f64>, f64);

/// Chebyshev propagator on a [`Space`]: the full `2^N` space ([`Operators`], the default)
/// or the reflection-even sector ([`ReflectionSector`]). Memory per stored row: two real
/// recurrence vectors and `2·batch` real accumulators on the real path; the complex state
/// (only once a complex expansion continues it), the second complex recurrence vector and
/// `batch` complex accumulators on the complex path; the anchor (only once one is needed);
/// the diagonal of `H_g`: `(56 + 16·batch)` bytes at most.
/// States are stored in `R`: `f64` (default), or `f32` for single precision (half the
/// memory and bandwidth; rounding `~10⁻⁷` per term, in the reported estimate); observables
/// are summed in double either way.
pub struct Chebyshev<S: Space = Operators, R: Real = f64> {
    ops: S,
    /// rigorous bound on `W` for the certified search (exact Ising diagonal)
    work_bound: f64,
    h0_norm: f64,
    /// bound on `‖H0 − E_0‖`
    work_op_norm: f64,
    center: f64,
    radius: f64,
    eps_step: f64,
    /// current state, its time and accumulated state-error bound; after a real batch the
    /// state stays in its accumulators (`psi` empty, `current_real` its column)
    psi: Vec<Complex<R>>,
    current_real: Option<usize>,
    /// times and state-error bounds of the last batch, and its path (its states are still
    /// in the accumulators, so an anchor at one of them costs a copy)
    last: Vec<(f64, f64)>,
    last_path: Option<Path>,
    t: f64,
    err: f64,
    /// requested anchor time; the checkpoint keeps the anchored state once the complex
    /// path needed it, and the base (all-down at `t = 0`, or a handed-over state)
    anchor_time: Option<f64>,
    checkpoint: Checkpoint<Vec<Complex<R>>>,
    /// complex path: second recurrence vector and accumulated states (`2^N × batch`)
    work: Vec<Complex<R>>,
    acc: Vec<Complex<R>>,
    /// real path: recurrence vectors and the real and imaginary accumulators
    rcur: Vec<R>,
    rprev: Vec<R>,
    acc_re: Vec<R>,
    acc_im: Vec<R>,
    /// most times propagated together (bounded by memory)
    batch: usize,
    max_err: f64,
    /// largest state-error bound of a returned sample
    max_state_err: f64,
    terms: u64,
    /// the chain, for full-space operators when states leave a sector
    chain: Chain,
    /// dense output of [`Propagator::sample`] by Gram segments, where it applies
    gram: Option<GramOutput<R>>,
    /// state-error bound at the end of the last Gram segment
    gram_err: f64,
    /// how far the segment being built has got, for another thread ([`Propagator::live_reach`])
    live: Arc<AtomicU64>,
}

/// Which expansion produced the last batch, and so where its states are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// `acc_re + i acc_im` (from all-down at `t = 0`, global phase `e^{−ict}` dropped)
    Real,
    /// `acc`
    Complex,
}

impl Chebyshev<Operators> {
    /// Sets up the propagator on the full `2^N` space at `t = 0` in the all-down state.
    /// `tol` is the target absolute error on `W` (units of `B`).
    ///
    /// # Errors
    /// [`crate::SpinbatError::TooLarge`] for chains beyond any full-space solver.
    pub fn new(chain: &Chain, tol: f64) -> Result<Self> {
        Ok(Self::with_space(Operators::new(chain)?, chain, tol))
    }

    /// The current state `ψ(t)` (up to a global phase) and its time `t`: where the
    /// propagator stands. After [`Propagator::sample`] by Gram segments that is the end of
    /// the last segment, which may lie past the last requested time.
    pub fn state(&mut self) -> (&[Complex64], f64) {
        if self.gram.as_ref().is_some_and(|g| !g.segments.is_empty()) {
            self.settle_end();
            let g = self.gram.as_ref().expect("checked just above");
            return (&g.end_state, g.segments.last().map_or(0.0, Segment::end));
        }
        self.materialise();
        (&self.psi, self.t)
    }

    /// The matrix-free operators the propagator uses.
    pub fn operators(&self) -> &Operators {
        &self.ops
    }
}

impl Chebyshev<ReflectionSector, f64> {
    /// Sets up the propagator in the reflection-even sector (half the rows of the full
    /// space; the chain must be reflection symmetric, [`ReflectionSector::applies`]).
    ///
    /// # Errors
    /// As [`ReflectionSector::new`].
    pub fn in_reflection_sector(chain: &Chain, tol: f64) -> Result<Self> {
        Ok(Self::with_space(ReflectionSector::new(chain)?, chain, tol))
    }
}

impl<S: Space + ExpandState, R: Real> Chebyshev<S, R> {
    /// Sets up the propagator on `ops` (built for `chain`) at `t = 0` in the all-down
    /// state (row 0 of every [`Space`]).
    pub fn with_space(ops: S, chain: &Chain, tol: f64) -> Self {
        Self::with_checkpoint(ops, chain, tol, Checkpoint::initial())
    }

    /// Sets up the propagator on `ops` starting at `start.t` from the state `start.state`
    /// (rows of `ops`, up to a global phase) whose distance from the exact state is at most
    /// `start.err`: the hand-over of another scheme (the Dicke solver's eigen window).
    /// Requests before `start.t` are refused. The real path (from all-down at `t = 0`) is
    /// not used.
    ///
    /// # Panics
    /// If the state does not have the space's dimension (a programming error).
    pub fn with_start(ops: S, chain: &Chain, tol: f64, start: Saved<Vec<Complex64>>) -> Self {
        assert_eq!(start.state.len(), ops.dim(), "the start state must live on the space");
        let state = start.state.iter().map(|z| Complex::new(R::from_f64(z.re), R::from_f64(z.im))).collect();
        Self::with_checkpoint(ops, chain, tol, Checkpoint::from_base(Saved { t: start.t, err: start.err, state }))
    }

    fn with_checkpoint(ops: S, chain: &Chain, tol: f64, checkpoint: Checkpoint<Vec<Complex<R>>>) -> Self {
        let (lo, hi) = ops.spectral_bounds_h();
        let center = 0.5 * (lo + hi);
        let radius = 0.5 * (hi - lo) * (1.0 + 1e-12) + 1e-12;
        let h0_norm = Operators::h0_norm_bound(chain).max(1e-300);
        // no point cutting the series far below the rounding of the storage type
        let eps_step = (tol / (2.0 * h0_norm) * 1e-3).max(1e-15).max(0.1 * R::UNIT_ROUNDOFF);
        let dim = ops.dim();
        let (psi, t, err) = match checkpoint.base() {
            Some(b) => (b.state.clone(), b.t, b.err),
            None => {
                let mut psi = vec![Complex::<R>::default(); dim];
                psi[crate::basis::ALL_DOWN] = Complex::new(R::from_f64(1.0), R::default());
                (psi, 0.0, 0.0)
            }
        };
        Chebyshev {
            work_bound: chain.work_bound_with(ops.h_g_max_bound()).min(chain.work_bound()),
            h0_norm,
            // ‖H0 − E_0‖ ≤ ‖H0‖ + |E_0| ≤ 2‖H0‖
            work_op_norm: 2.0 * h0_norm,
            center,
            radius,
            eps_step,
            psi,
            current_real: None,
            last: Vec::new(),
            last_path: None,
            t,
            err,
            anchor_time: None,
            checkpoint,
            work: Vec::new(),
            acc: Vec::new(),
            rcur: Vec::new(),
            rprev: Vec::new(),
            acc_re: Vec::new(),
            acc_im: Vec::new(),
            batch: batch_size::<R>(dim).min(ops.batch_hint()),
            max_err: 0.0,
            max_state_err: 0.0,
            terms: 0,
            chain: chain.clone(),
            gram: GramOutput::for_space(&ops, chain),
            gram_err: 0.0,
            live: Arc::new(AtomicU64::new(0f64.to_bits())),
            ops,
        }
    }

    /// Whether [`Propagator::sample`] measures by Gram segments (dense output at any time
    /// of a series, [`super::gram`]) rather than by accumulating batches of states. On by
    /// default wherever the space measures by Gram products and memory holds
    /// [`GRAM_FIT_TERMS`] terms; `false` turns it off (the batches then serve every
    /// request, as the states of [`StatePropagator`] always are). Turning it on where it
    /// does not apply leaves it off.
    pub fn with_gram_output(mut self, on: bool) -> Self {
        self.gram = if on { GramOutput::for_space(&self.ops, &self.chain) } else { None };
        self
    }

    /// Keeps at most `k` complex terms a Gram segment (`2k` real ones for the real first
    /// segment), fewer than the memory would hold: the segments' memory, `k · dim` complex
    /// amplitudes, capped. Below [`GRAM_FIT_TERMS`] Gram output is turned off (the batches
    /// serve every request), as where the memory holds fewer.
    pub fn with_gram_max_terms(mut self, k: usize) -> Self {
        if k < GRAM_FIT_TERMS {
            self.gram = None;
        }
        if let Some(g) = self.gram.as_mut() {
            g.max_terms = g.max_terms.min(k);
        }
        self
    }

    /// Whether [`Propagator::sample`] measures by Gram segments ([`Self::with_gram_output`]).
    pub fn gram_output(&self) -> bool {
        self.gram.is_some()
    }

    /// `W`, `W'` at sorted `times` from the Gram segments, building new ones until the last
    /// time is reached.
    fn sample_gram(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        let Some(&t_last) = times.last() else {
            return Ok(Vec::new());
        };
        let end = |g: &GramOutput<R>| g.segments.last().map_or(f64::NEG_INFINITY, Segment::end);
        while let Some(before) = self.gram.as_ref().map(end).filter(|&e| e < t_last) {
            self.extend_gram(t_last);
            // every segment reaches past its start (at least GRAM_FIT_TERMS terms); should one
            // not, stop here rather than loop
            if self.gram.as_ref().is_some_and(|g| end(g) <= before) {
                return Err(SpinbatError::NotConverged {
                    what: "Chebyshev Gram segments",
                    reason: format!("a segment from t = {before} reaches no further"),
                });
            }
        }
        self.last.clear();
        self.last_path = None;
        let Some(gram) = self.gram.as_ref().filter(|g| !g.segments.is_empty()) else {
            return Ok(Vec::new());
        };
        // each time's forms are independent (`O(k²)` each): in parallel
        let (op_norm, h0_norm, segments) = (self.work_op_norm, self.h0_norm, &gram.segments);
        let evaluated: Vec<(WorkSample, f64, f64)> = {
            use rayon::prelude::*;
            times
                .par_iter()
                .with_min_len(8)
                .map(|&t| {
                    let i = segments.partition_point(|s| s.end() < t).min(segments.len() - 1);
                    gram_sample::<R>(&segments[i], t, op_norm, h0_norm)
                })
                .collect()
        };
        let mut out = Vec::with_capacity(times.len());
        for (sample, work_err, state_err) in evaluated {
            self.max_err = self.max_err.max(work_err);
            self.max_state_err = self.max_state_err.max(state_err);
            out.push(sample);
        }
        Ok(out)
    }

    /// Whether a late tap (after segments were built) can be served by one real series from
    /// all-down: its last time within the terms the store holds as real columns.
    fn late_tap_reaches(&self, times: &[f64]) -> bool {
        let (Some(gram), Some(&t)) = (self.gram.as_ref(), times.last()) else {
            return false;
        };
        let terms = bessel_sequence(self.radius * t, self.eps_step).0.len();
        terms <= 2 * gram.max_terms && 2 * gram.store.len() >= terms * self.ops.dim()
    }

    /// Serves a tap taken after the segments were built (the state at `T*`, found by the
    /// maximum search once the scan's segments are gone): one real series from all-down
    /// as long as its last time needs, in the store the segments left, each time's state
    /// combined from its terms; `W`, `W'` from the segments.
    fn serve_late_tap(&mut self) {
        let Some(mut tap) = self.gram.as_mut().and_then(|g| g.tap.take()) else {
            return;
        };
        let Some(&t_last) = tap.times.last() else {
            self.gram.as_mut().expect("taken from it").tap = Some(tap);
            return;
        };
        let samples = match self.sample_gram(&tap.times) {
            Ok(samples) => samples,
            Err(e) => {
                tap.error = Some(e);
                self.gram.as_mut().expect("taken from it").tap = Some(tap);
                return;
            }
        };
        let dim = self.ops.dim();
        let k = bessel_sequence(self.radius * t_last, self.eps_step).0.len();
        // the terms may still be in the store (one real segment built, or a late tap's
        // series as long): else the series runs again, over the store, the last segment's
        // end state combined first
        let held = self.gram.as_ref().map_or(0, |g| g.real_terms_held);
        if k > held {
            self.settle_end();
        }
        let gram = self.gram.as_mut().expect("taken from it");
        // SAFETY: as in `extend_gram`: the store's complex values are pairs of `R`, and
        // `late_tap_reaches` checked that they hold `k` real columns
        let flat: &mut [R] =
            unsafe { std::slice::from_raw_parts_mut(gram.store.as_mut_ptr().cast::<R>(), 2 * gram.store.len()) };
        let flat = &mut flat[..dim * k];
        if k > held {
            flat[..dim].fill(R::default());
            flat[crate::basis::ALL_DOWN] = R::from_f64(1.0);
            run_terms(&self.ops, flat, k, self.center, self.radius, &|_| {});
            self.terms += k as u64;
            gram.real_terms_held = k;
        }
        let rounding = rounding_per_term::<R>() * k as f64;
        let times = tap.times.clone();
        for (group, chunk) in times.chunks(tap.group).zip(samples.chunks(tap.group)) {
            let seqs: Vec<Series> = group.iter().map(|&t| bessel_sequence(self.radius * t, self.eps_step)).collect();
            for (_, tail) in &seqs {
                tap.state_err = tap.state_err.max(tail + rounding);
                self.max_state_err = self.max_state_err.max(tail + rounding);
            }
            // term a of time j at coef[j·k + a]
            let ones = vec![Complex64::new(1.0, 0.0); group.len()];
            let by_term: Vec<Vec<Complex64>> = (0..k).map(|a| step_coefficients(&seqs, &ones, a)).collect();
            let coef: Vec<Complex64> = (0..group.len()).flat_map(|j| by_term.iter().map(move |c| c[j])).collect();
            if !combine_and_visit(&self.ops, &mut tap, &*flat, k, &coef, chunk) {
                break;
            }
        }
        gram.tap = Some(tap);
    }

    /// Hands the tap's states in the segment just built (the last one, its `k` terms still
    /// in the store: real ones from all-down if `real`) to its visitor, reporting to `live`
    /// group by group in proportion to [`tap_cost`].
    fn serve_tap(&mut self, real: bool, k: usize, live: &LiveSegment) {
        let Some(gram) = self.gram.as_mut() else {
            return;
        };
        let (Some(tap), Some(seg)) = (gram.tap.as_mut(), gram.segments.last()) else {
            return;
        };
        if tap.error.is_some() {
            return;
        }
        let dim = self.ops.dim();
        let end = tap.times[tap.next..].partition_point(|&t| t <= seg.end()) + tap.next;
        // a time `s` into the segment needs only the terms its series needs at the step
        // tolerance (about `rs + 15`, fewer than the segment keeps): each group combines
        // as many as its last (latest) time needs, the terms dropped bounded in the error
        let (radius, eps) = (self.radius, self.eps_step);
        let needed = |t: f64| terms_needed(radius, eps, t - seg.t0, k);
        let mut coef = Vec::new();
        let mut samples = Vec::new();
        let total = tap_cost(&tap.times[tap.next..end], tap.group, real, needed);
        let mut done = 0.0;
        while tap.next < end {
            let group = tap.next..end.min(tap.next + tap.group);
            let kg = needed(tap.times[group.end - 1]);
            done += group_cost(group.len(), kg, real);
            coef.clear();
            samples.clear();
            for &t in &tap.times[group.clone()] {
                let (sample, work_err, state_err) = gram_sample::<R>(seg, t, self.work_op_norm, self.h0_norm);
                let c = seg.coefficients(t - seg.t0).0;
                // ‖v_a‖ ≤ ‖ψ(t₀)‖ ≤ 1 + err₀ for the dropped terms `a ≥ kg`
                let dropped: f64 = c[kg..].iter().map(|z| z.norm()).sum::<f64>() * (1.0 + seg.err0);
                self.max_err = self.max_err.max(work_err);
                self.max_state_err = self.max_state_err.max(state_err + dropped);
                tap.state_err = tap.state_err.max(state_err + dropped);
                samples.push(sample);
                coef.extend_from_slice(&c[..kg]);
            }
            let going = if real {
                // SAFETY: as in `extend_gram`: the store's complex values are pairs of `R`
                let flat: &[R] = unsafe { std::slice::from_raw_parts(gram.store.as_ptr().cast::<R>(), dim * kg) };
                combine_and_visit(&self.ops, tap, flat, kg, &coef, &samples)
            } else {
                combine_and_visit(&self.ops, tap, &gram.store[..dim * kg], kg, &coef, &samples)
            };
            if !going {
                return;
            }
            live.tapped(if total > 0.0 { done / total } else { 1.0 });
        }
    }

    /// The work [`Chebyshev::serve_tap`] will do for the tap's times still to come in a
    /// segment from `t0` of `k` terms reaching `span` ([`tap_cost`]); `0` without a tap.
    fn planned_tap_cost(&self, t0: f64, span: f64, k: usize, real: bool) -> f64 {
        let Some(tap) = self.gram.as_ref().and_then(|g| g.tap.as_ref()).filter(|t| t.error.is_none()) else {
            return 0.0;
        };
        let times = &tap.times[tap.next..];
        let (from, to) = (times.partition_point(|&t| t < t0), times.partition_point(|&t| t <= t0 + span));
        tap_cost(&times[from..to], tap.group, real, |t| terms_needed(self.radius, self.eps_step, t - t0, k))
    }

    /// Builds the next Gram segment towards `target`: from all-down at `t = 0` with real
    /// terms (twice as many in the same memory), else from the end of the last segment (or
    /// the handed-over base) with complex ones; as many terms as reaching `target` needs,
    /// between the minimum and the memory's maximum.
    fn extend_gram(&mut self, target: f64) {
        // a complex segment starts from the last one's end, and overwrites its terms
        self.settle_end();
        let Some(gram) = self.gram.as_mut() else {
            return;
        };
        let first = gram.segments.is_empty();
        let real = first && self.checkpoint.starts_initial();
        let (t0, err0) = match (first, self.checkpoint.base()) {
            (false, _) => (gram.segments.last().map_or(0.0, Segment::end), self.gram_err),
            (true, Some(b)) => (b.t, b.err),
            (true, None) => (0.0, 0.0),
        };
        let end = gram.horizon.max(target);
        let k = segment_terms(self.radius, self.eps_step, gram.max_terms, real, end - t0);
        // the complex segments after a real one may keep more columns than it: the store
        // takes the most at once (growing it later would touch fresh memory twice)
        let k_next = if real {
            let reach = super::gram::reach(k, self.radius, self.eps_step);
            if end > t0 + reach {
                segment_terms(self.radius, self.eps_step, gram.max_terms, false, end - t0 - reach)
            } else {
                0
            }
        } else {
            0
        };
        let dim = self.ops.dim();
        let (c, r) = (self.center, self.radius);
        let (nonneg, max_terms) = (gram.nonneg, gram.max_terms);
        // one store for every segment (every column is written before it is read, so it is
        // never cleared); a real segment uses it as twice as many real columns
        let len = if real { (dim * k).div_ceil(2) } else { dim * k };
        let want = len.max(dim * k_next);
        let held = gram.store.len();
        let grows = held < want;
        let span = super::gram::reach(k, r, self.eps_step);
        // the reach reported while the segment is built: in proportion to the work of every
        // segment planned to `end` (this one, then equal complex ones), and of a tap's
        // states in each, so that a progress estimate made during the first (real, cheaper
        // per unit time) segment holds
        let touch = if grows { TOUCH_PER_COLUMN * 2.0 * (want - held) as f64 / dim as f64 } else { 0.0 };
        let tapped = self.planned_tap_cost(t0, span, k, real);
        let (n_rest, k_rest) = planned_segments(r, self.eps_step, max_terms, t0 + span, end);
        let reach_rest = super::gram::reach(k_rest, r, self.eps_step);
        let rest_taps: f64 = (0..n_rest)
            .map(|i| self.planned_tap_cost(t0 + span + i as f64 * reach_rest, reach_rest, k_rest, false))
            .sum();
        let gram = self.gram.as_mut().expect("checked at the top");
        let mut store = std::mem::take(&mut gram.store);
        let parts = [touch, k as f64 * term_cost(real), products_cost(k, real), tapped];
        let this: f64 = parts.iter().sum();
        let rest = n_rest as f64 * segment_cost(k_rest, false) + rest_taps;
        // mapped onto the way to `end` (what a progress display counts to), the last
        // segment's true end (past `end`) set only once it is built
        let base = gram.segments.first().map_or(t0, |s| s.t0);
        let total = gram.cost_done + this + rest;
        let at = |cost: f64| base + (end - base).max(0.0) * (cost / total).min(1.0);
        let (from, to) = (at(gram.cost_done), at(gram.cost_done + this));
        let last = if n_rest == 0 { t0 + span } else { to };
        let cell = Arc::clone(&self.live);
        let live = LiveSegment::start(&cell, from, (to - from).max(0.0), parts, last);
        gram.cost_done += this;
        if grows {
            grow_in_parallel(&mut store, want, &|f| live.touched(f));
        }
        store.truncate(len);
        let segment = if real {
            // SAFETY: `Complex<R>` is `#[repr(C)]` `{ re, im }`: the store is `2·len` values
            // of `R`, with `R`'s alignment
            let flat: &mut [R] = unsafe { std::slice::from_raw_parts_mut(store.as_mut_ptr().cast::<R>(), 2 * len) };
            let flat = &mut flat[..dim * k];
            flat[..dim].fill(R::default());
            flat[crate::basis::ALL_DOWN] = R::from_f64(1.0);
            build_segment(&self.ops, flat, k, c, r, nonneg, t0, err0, self.eps_step, &live)
        } else {
            match (first, self.checkpoint.base()) {
                (true, Some(b)) => store[..dim].copy_from_slice(&b.state),
                _ => store[..dim].copy_from_slice(&gram.end_state),
            }
            build_segment(&self.ops, &mut store, k, c, r, nonneg, t0, err0, self.eps_step, &live)
        };
        gram.store = store;
        gram.real_terms_held = if real { k } else { 0 };
        let (_, _, tail) = segment.coefficients(segment.reach);
        self.gram_err = err0 + tail + rounding_per_term::<R>() * k as f64;
        self.terms += k as u64;
        gram.end_pending = Some(real);
        gram.segments.push(segment);
        self.serve_tap(real, k, &live);
        live.done();
    }

    /// Combines the end state of the last Gram segment from its terms in the store
    /// (`Σ_a c_a(s_K) v_a`), if not done yet.
    fn settle_end(&mut self) {
        let Some(gram) = self.gram.as_mut() else {
            return;
        };
        let (Some(real), Some(seg)) = (gram.end_pending.take(), gram.segments.last()) else {
            return;
        };
        let k = seg.terms();
        let dim = self.ops.dim();
        gram.end_state = if real {
            // SAFETY: as in `extend_gram`: the store's complex values are pairs of `R`, and
            // the real segment's `k` columns lie in its first `dim·k` of them
            let flat: &[R] = unsafe { std::slice::from_raw_parts(gram.store.as_ptr().cast::<R>(), dim * k) };
            segment_end(dim, flat, seg)
        } else {
            segment_end(dim, &gram.store[..dim * k], seg)
        };
    }

    /// Ends the propagator: its space back (to be reused with another `ω`,
    /// [`Space::set_omega`]) and the state where it stands, with its time and state-error
    /// bound (the space's rows, up to a global phase): the last time sampled, or where
    /// Gram segments ran, the end of the last one. The segments of a field schedule are
    /// chained this way ([`super::schedule`]).
    pub fn into_state(mut self) -> (S, Saved<Vec<Complex64>>) {
        self.settle_end();
        let wide = |v: &[Complex<R>]| v.iter().map(|z| Complex64::new(z.re.to_f64(), z.im.to_f64())).collect();
        let saved = match self.gram.as_mut().filter(|g| !g.segments.is_empty()) {
            Some(g) => {
                Saved { t: g.segments.last().map_or(0.0, Segment::end), err: self.gram_err, state: wide(&g.end_state) }
            }
            None => {
                self.materialise();
                Saved { t: self.t, err: self.err, state: wide(&self.psi) }
            }
        };
        (self.ops, saved)
    }

    /// Total number of Chebyshev terms (applications of `H`) so far; a real term counts
    /// as one, like a complex one.
    pub fn terms(&self) -> u64 {
        self.terms
    }

    /// The basis the propagator runs on.
    pub fn space(&self) -> &S {
        &self.ops
    }

    /// The rigorous bound on each expansion's truncated tail (its state error).
    pub fn step_tail(&self) -> f64 {
        self.eps_step
    }

    /// Column `j` of the last batch's accumulators as a complex state.
    fn column(&self, j: usize) -> Vec<Complex<R>> {
        let m = self.last.len();
        match self.last_path {
            Some(Path::Real) => {
                (0..self.ops.dim()).map(|k| Complex::new(self.acc_re[k * m + j], self.acc_im[k * m + j])).collect()
            }
            _ => self.acc.chunks_exact(m).map(|row| row[j]).collect(),
        }
    }

    /// Moves the current state out of the real accumulators into `psi`, if it is there.
    fn materialise(&mut self) {
        if let Some(j) = self.current_real.take() {
            self.psi = self.column(j);
        }
    }

    /// Bessel sequences for the steps `ts[j] − from`, their lengths and the longest.
    fn series(&self, ts: &[f64], from: f64) -> (Vec<Series>, Vec<usize>, usize) {
        let seqs: Vec<Series> =
            ts.iter().map(|&t| bessel_sequence(self.radius * (t - from).max(0.0), self.eps_step)).collect();
        let lens: Vec<usize> = seqs.iter().map(|q| q.0.len()).collect();
        let k_max = lens.iter().copied().max().unwrap_or(1);
        (seqs, lens, k_max)
    }

    /// Records the samples of a batch and their error bounds (`base_err` is the state
    /// error the expansion started from); returns the error of the last one. A state
    /// error `e` moves `W` by at most [`Moments::work_error`]: `2ê‖(H0 − E_0)ψ‖` to first
    /// order, capped by `2‖H0‖e`.
    fn record(
        &mut self,
        ts: &[f64],
        obs: &[Moments],
        seqs: &[Series],
        base_err: f64,
        out: &mut Vec<WorkSample>,
    ) -> f64 {
        let mut last = base_err;
        self.last.clear();
        for (j, (&t, m)) in ts.iter().zip(obs).enumerate() {
            let err = base_err + seqs[j].1 + rounding_per_term::<R>() * seqs[j].0.len() as f64;
            self.max_err = self.max_err.max(m.work_error(err, self.work_op_norm, self.h0_norm));
            self.max_state_err = self.max_state_err.max(err);
            self.last.push((t, err));
            last = err;
            out.push(WorkSample { t, work: m.unit_work(), rate: m.unit_rate() });
        }
        last
    }

    /// Real path: the batch `ts` from `ψ_0` at `t = 0` with real recurrence vectors; the
    /// state moves to the last time.
    fn batch_from_start(&mut self, ts: &[f64], out: &mut Vec<WorkSample>) {
        let m = ts.len();
        let dim = self.ops.dim();
        let (c, r) = (self.center, self.radius);
        let (seqs, lens, k_max) = self.series(ts, 0.0);
        // the state moves to the end of this batch: nothing of the old one is needed
        self.current_real = None;
        self.psi = Vec::new();
        self.work = Vec::new();
        self.acc = Vec::new();
        for v in [&mut self.rcur, &mut self.rprev] {
            v.clear();
            v.resize(dim, R::default());
        }
        for v in [&mut self.acc_re, &mut self.acc_im] {
            v.clear();
            v.resize(dim * m, R::default());
        }
        // ψ(t) = Σ_k (2 − δ_k0) (−i)^k J_k(rt) T_k(H̃)ψ_0 up to the phase e^{−ict}: even k
        // are real, odd k imaginary. T_0 ψ_0 = ψ_0 = e_0.
        self.rcur[crate::basis::ALL_DOWN] = R::from_f64(1.0);
        for (j, q) in seqs.iter().enumerate() {
            self.acc_re[crate::basis::ALL_DOWN * m + j] = R::from_f64(q.0[0]);
        }
        let coef = |k: usize| -> Vec<R> {
            let p = minus_i_pow(k) * 2.0;
            (0..m)
                .map(|j| {
                    R::from_f64(seqs[j].0.get(k).map_or(0.0, |jk| if k.is_multiple_of(2) { p.re } else { p.im } * jk))
                })
                .collect()
        };
        if k_max > 1 {
            let zeros = vec![R::default(); m];
            chebyshev_step(&self.ops, &self.rcur, &mut self.rprev, &mut self.acc_im, c, r, true, &zeros, &coef(1), 0);
            let (mut cur, mut prev) = (&mut self.rprev, &mut self.rcur);
            for k in 2..k_max {
                let j_lo = lens.iter().position(|&l| l > k).unwrap_or(m);
                let acc = if k.is_multiple_of(2) { &mut self.acc_re } else { &mut self.acc_im };
                chebyshev_step(&self.ops, cur, prev, acc, c, r, false, &[], &coef(k), j_lo);
                std::mem::swap(&mut cur, &mut prev);
            }
        }
        self.terms += k_max as u64;
        let obs = energy_and_rate_split(&self.ops, &self.acc_re, &self.acc_im, m);
        let err = self.record(ts, &obs, &seqs, 0.0, out);
        self.last_path = Some(Path::Real);
        self.current_real = Some(m - 1);
        self.t = ts[m - 1];
        self.err = err;
    }

    /// Complex path: the batch `ts` (all `≥ self.t`) from the current state; the state
    /// moves to the last time.
    fn batch_from_current(&mut self, ts: &[f64], out: &mut Vec<WorkSample>) {
        let m = ts.len();
        let dim = self.ops.dim();
        let (c, r) = (self.center, self.radius);
        let (seqs, lens, k_max) = self.series(ts, self.t);
        self.materialise();
        self.rcur = Vec::new();
        self.rprev = Vec::new();
        self.acc_re = Vec::new();
        self.acc_im = Vec::new();
        self.work.resize(dim, Complex::default());
        self.acc.clear();
        self.acc.resize(dim * m, Complex::default());
        // the global phase e^{−icδ} keeps the states exact (it drops out of every observable)
        let phases: Vec<Complex64> = ts.iter().map(|&t| Complex64::from_polar(1.0, -c * (t - self.t))).collect();
        let coef = |k: usize| -> Vec<Complex<R>> {
            step_coefficients(&seqs, &phases, k)
                .iter()
                .map(|z| Complex::new(R::from_f64(z.re), R::from_f64(z.im)))
                .collect()
        };
        if k_max == 1 {
            let c0 = coef(0);
            for (row, p) in self.acc.chunks_exact_mut(m).zip(&self.psi) {
                for (a, cj) in row.iter_mut().zip(&c0) {
                    *a = *p * *cj;
                }
            }
        } else {
            // T_0 = ψ lives in `psi`, T_1 goes to `work`; afterwards the two alternate as
            // (T_{k−1}, T_k), the recurrence overwriting T_{k−1} with T_{k+1}.
            chebyshev_step(&self.ops, &self.psi, &mut self.work, &mut self.acc, c, r, true, &coef(0), &coef(1), 0);
            let (mut cur, mut prev) = (&mut self.work, &mut self.psi);
            for k in 2..k_max {
                let j_lo = lens.iter().position(|&l| l > k).unwrap_or(m);
                chebyshev_step(&self.ops, cur, prev, &mut self.acc, c, r, false, &[], &coef(k), j_lo);
                std::mem::swap(&mut cur, &mut prev);
            }
        }
        self.terms += k_max as u64;
        let obs = energy_and_rate_multi(&self.ops, &self.acc, m);
        let err = self.record(ts, &obs, &seqs, self.err, out);
        self.last_path = Some(Path::Complex);
        for (p, row) in self.psi.iter_mut().zip(self.acc.chunks_exact(m)) {
            *p = row[m - 1];
        }
        self.t = ts[m - 1];
        self.err = err;
    }

    /// Where a complex expansion towards `t_first` would start: the current time, the
    /// anchor (kept, or only requested), or the base (a restart).
    fn complex_start(&self, t_first: f64) -> f64 {
        if t_first >= self.t {
            self.t
        } else {
            match (self.checkpoint.anchor(), self.anchor_time) {
                (Some(a), _) if a.t <= t_first => a.t,
                (None, Some(ta)) if ta <= t_first => ta,
                _ => self.checkpoint.base_time(),
            }
        }
    }

    /// One batch of sorted times, by the cheaper path (see the module docs); returns the
    /// path taken.
    fn sample_batch(&mut self, ts: &[f64], out: &mut Vec<WorkSample>) -> Path {
        let t_last = ts[ts.len() - 1];
        let start = self.complex_start(ts[0]);
        // exact series lengths; a real term moves half the bytes of a complex one
        let len = |dt: f64| bessel_sequence(self.radius * dt.max(0.0), self.eps_step).0.len() as f64;
        let complex_terms = len(t_last - start);
        let real_terms = 0.5 * len(t_last);
        if self.checkpoint.starts_initial() && real_terms <= complex_terms {
            self.batch_from_start(ts, out);
            return Path::Real;
        }
        if ts[0] < self.t {
            // back to the anchor (materialising it if it was only requested) or to ψ_0
            match self.anchor_time {
                Some(ta) if ta <= ts[0] && ta >= self.checkpoint.base_time() => {
                    if !matches!(self.checkpoint.anchor(), Some(a) if a.t == ta) {
                        self.go_forward(ta);
                        self.materialise();
                        self.checkpoint.keep_anchor(self.t, self.err, &self.psi);
                    }
                    if let Some(a) = self.checkpoint.anchor() {
                        self.current_real = None;
                        self.psi.clear();
                        self.psi.extend_from_slice(&a.state);
                        self.t = a.t;
                        self.err = a.err;
                    }
                }
                _ => self.restart(),
            }
        }
        self.batch_from_current(ts, out);
        Path::Complex
    }

    /// Moves the state to `t`, forwards from the current state or restarting at 0.
    fn go_forward(&mut self, t: f64) {
        if t < self.t {
            self.restart();
        }
        if t > self.t {
            let mut scratch = Vec::with_capacity(1);
            let _ = self.sample_batch(&[t], &mut scratch);
        }
    }

    /// Resets to the base: the all-down state at `t = 0`, or the handed-over state.
    fn restart(&mut self) {
        self.current_real = None;
        self.psi.clear();
        match self.checkpoint.base() {
            Some(b) => {
                self.psi.extend_from_slice(&b.state);
                self.t = b.t;
                self.err = b.err;
            }
            None => {
                self.psi.resize(self.ops.dim(), Complex::default());
                self.psi[crate::basis::ALL_DOWN] = Complex::new(R::from_f64(1.0), R::default());
                self.t = 0.0;
                self.err = 0.0;
            }
        }
    }

    /// Refuses times before the base (a handed-over start serves nothing earlier).
    fn check_after_base(&self, times: &[f64]) -> Result<()> {
        let t0 = self.checkpoint.base_time();
        match times.first() {
            Some(&t) if t < t0 => Err(SpinbatError::InvalidTimes {
                reason: format!("time {t} is before the start of this propagator at t = {t0}"),
            }),
            _ => Ok(()),
        }
    }
}

impl<S: Space + ExpandState, R: Real> Propagator for Chebyshev<S, R> {
    fn name(&self) -> &'static str {
        "chebyshev"
    }

    fn sample(&mut self, times: &[f64]) -> Result<Vec<WorkSample>> {
        check_times(times)?;
        self.check_after_base(times)?;
        if self.gram.is_some() {
            return self.sample_gram(times);
        }
        let mut out = Vec::with_capacity(times.len());
        for batch in times.chunks(self.batch) {
            let _ = self.sample_batch(batch, &mut out);
        }
        Ok(out)
    }

    /// Requests an anchor at `t`: the state there is kept only when a later complex
    /// expansion can start from it (the real path needs none). A time of the last batch is
    /// copied out of its accumulators at once (no propagation); any other is computed when
    /// first needed.
    fn anchor(&mut self, t: f64) -> Result<()> {
        check_times(&[t])?;
        self.check_after_base(&[t])?;
        if self.anchor_time != Some(t) {
            self.anchor_time = Some(t);
            self.checkpoint.clear_anchor();
            if let Some(j) = self.last.iter().position(|&(tl, _)| tl == t) {
                let err = self.last[j].1;
                self.checkpoint.set_anchor(t, err, self.column(j));
            }
        }
        Ok(())
    }

    /// [`Chain::work_bound_with`] the top of `H_g` from its diagonal (exact for `α = 0`):
    /// tighter than [`Chain::work_bound`] for long-range Ising chains.
    fn work_bound(&self, _chain: &Chain) -> f64 {
        self.work_bound
    }

    fn expect_until(&mut self, t: f64) {
        if let Some(g) = self.gram.as_mut() {
            g.horizon = g.horizon.max(t);
        }
    }

    /// The end of the last Gram segment (its terms and products are done; `0` without).
    fn computed_until(&self) -> f64 {
        self.gram.as_ref().and_then(|g| g.segments.last()).map_or(0.0, Segment::end)
    }

    /// A Gram segment under way: its start plus its span times the share of its work done
    /// (fixed shares of the first touch of its store, its terms and its products: 0.3,
    /// 0.5, 0.2, measured at `N = 24`).
    fn live_reach(&self) -> Option<Arc<AtomicU64>> {
        self.gram.is_some().then(|| Arc::clone(&self.live))
    }

    fn anchor_if_at_hand(&mut self, t: f64) -> Result<()> {
        if self.last.iter().any(|&(tl, _)| tl == t) {
            self.anchor(t)?;
        }
        Ok(())
    }

    fn batch_capacity(&self) -> usize {
        if self.gram.is_some() {
            usize::MAX
        } else {
            self.batch
        }
    }

    fn error_bound(&self) -> f64 {
        self.max_err
    }

    /// Served where `W` comes from Gram segments and none is built yet, with the states
    /// of each segment combined from its kept terms (`dim·K` multiply-adds per state,
    /// in groups of up to 32 times) and, in a sector, expanded onto the full space. The
    /// segments keep fewer terms to leave room for the group, the expanded state, the
    /// full-space operators and the visitor's buffers; where [`GRAM_FIT_TERMS`] no longer
    /// fit, the tap is handed back.
    fn tap_states(&mut self, tap: StateTap) -> std::result::Result<(), StateTap> {
        if self.gram.as_ref().is_none_or(|g| g.tap.is_some()) {
            return Err(tap);
        }
        let late = self.gram.as_ref().is_some_and(|g| !g.segments.is_empty());
        if late && !(self.checkpoint.starts_initial() && self.late_tap_reaches(&tap.times)) {
            return Err(tap);
        }
        if check_times(&tap.times).is_err() || self.check_after_base(&tap.times).is_err() {
            return Err(tap);
        }
        let dim = self.ops.dim();
        let full_dim = (1usize << self.chain.n_sites()) as f64;
        let rows = tap.rows && self.ops.has_rows();
        // a sector's states are expanded, with full-space operators, unless handed out by rows
        let sector = self.ops.as_full().is_none() && !rows;
        let available = crate::resources::bytes_available().unwrap_or(f64::INFINITY);
        let per_state = 16.0 * dim as f64;
        let group = ((TAP_MEMORY_SHARE * available / per_state).floor() as usize)
            .clamp(1, TAP_GROUP)
            .min(tap.times.len().max(1));
        // expanded state and full-space operators (8 bytes a row at most) in a sector
        let full_bytes = if sector { (16.0 + 8.0) * full_dim } else { 0.0 };
        let reserved = group as f64 * per_state + full_bytes + tap.visitor_bytes_per_amplitude * full_dim;
        let max_terms = match gram_terms_beside::<S, R>(&self.ops, reserved) {
            Some(k) => k,
            // a late tap uses the store the segments left
            None if late => usize::MAX,
            None => return Err(tap),
        };
        let (full, mut expanded, mut states) = self.gram.as_mut().and_then(|g| g.spare.take()).unwrap_or_default();
        let full = match (full, sector) {
            (Some(ops), true) => Some(ops),
            (None, true) => match Operators::new(&self.chain) {
                Ok(ops) => Some(ops),
                Err(_) => return Err(tap),
            },
            (_, false) => None,
        };
        if sector && expanded.len() != 1 << self.chain.n_sites() {
            expanded.clear();
            grow_in_parallel(&mut expanded, 1 << self.chain.n_sites(), &|_| {});
        }
        states.truncate(group * dim);
        grow_in_parallel(&mut states, group * dim, &|_| {});
        let gram = self.gram.as_mut().expect("checked at the top");
        gram.max_terms = gram.max_terms.min(max_terms);
        gram.tap = Some(Tap {
            times: tap.times,
            next: 0,
            visit: tap.visit,
            expanded,
            full,
            states,
            group,
            rows,
            state_err: 0.0,
            error: None,
        });
        if late {
            self.serve_late_tap();
        }
        Ok(())
    }

    fn end_tap(&mut self) -> Result<Option<TapOutcome>> {
        let Some(gram) = self.gram.as_mut() else {
            return Ok(None);
        };
        let Some(tap) = gram.tap.take() else {
            return Ok(None);
        };
        gram.spare = Some((tap.full, tap.expanded, tap.states));
        if let Some(e) = tap.error {
            return Err(e);
        }
        Ok(Some(TapOutcome { remaining: tap.times[tap.next..].to_vec(), state_error: tap.state_err }))
    }

    fn accuracy_note(&self) -> String {
        let precision = if R::PRECISION == "single" {
            format!("; single precision (f32 states, rounding estimate {:.1e} per term)", rounding_per_term::<R>())
        } else {
            String::new()
        };
        let gram = if self.gram.is_some() {
            "; W from the Gram products of each segment's kept terms (their rounding, 4u sum|c_a c_b G_ab|, included)"
        } else {
            ""
        };
        format!(
            "Chebyshev series cut at tail <= {:.1e} per step (rigorous); |dW| <= min(2||H0|| e, 2e'(2||(H0 - E0)psi|| + ||H0 - E0|| e')) = {:.1e} so far (e = sum of tails, e' = e + |1 - ||psi|||){gram}; {}{}",
            self.eps_step,
            self.max_err,
            self.ops.description(),
            precision
        )
    }
}

/// Full-space states (double or single precision): each state is copied out of the
/// accumulators into one extra `16·2^N`-byte buffer before `visit` sees it.
impl<R: Real> StatePropagator for Chebyshev<Operators, R> {
    /// Batches of up to `MAX_BATCH` (32) times from one expansion each (as
    /// [`Propagator::sample`]). States from the real path lack the global phase `e^{−ict}`,
    /// which no observable sees.
    fn for_each_state(&mut self, times: &[f64], visit: &mut StateVisitor<'_>) -> Result<()> {
        self.visit_states(times, None, visit)
    }

    fn state_error(&self) -> f64 {
        self.max_state_err
    }
}

/// Reflection-sector states, handed out on the full space: `ψ(s) = φ(row(s))` for every
/// basis state `s` (a stored amplitude is that of both `s` and `Rs`), with the full-space
/// operators built once a call (`8·2^N` bytes) beside the `16·2^N`-byte full state and
/// the `16·dim` sector copy. The propagation itself runs in the sector: half the work.
impl<R: Real> StatePropagator for Chebyshev<ReflectionSector, R> {
    fn for_each_state(&mut self, times: &[f64], visit: &mut StateVisitor<'_>) -> Result<()> {
        let full = Operators::new(&self.chain)?;
        self.visit_states(times, Some(&full), visit)
    }

    fn state_error(&self) -> f64 {
        self.max_state_err
    }
}

/// Orbit-space states, handed out on the full space: `ψ(s) = φ(O(s))/√|O(s)|`, with the
/// full-space operators built once a call, as for the reflection sector.
impl<R: Real> StatePropagator for Chebyshev<OrbitSpace, R> {
    fn for_each_state(&mut self, times: &[f64], visit: &mut StateVisitor<'_>) -> Result<()> {
        let full = Operators::new(&self.chain)?;
        self.visit_states(times, Some(&full), visit)
    }

    fn state_error(&self) -> f64 {
        self.max_state_err
    }
}

impl<S: Space + ExpandState, R: Real> Chebyshev<S, R> {
    /// Calls `visit` on the states at `times`: in the stored layout with `S`'s own full-space
    /// operators (`full = None`, `S` is the full space), or expanded onto the full space for
    /// `full`'s operators.
    fn visit_states(&mut self, times: &[f64], full: Option<&Operators>, visit: &mut StateVisitor<'_>) -> Result<()> {
        check_times(times)?;
        self.check_after_base(times)?;
        let mut stored = vec![Complex64::new(0.0, 0.0); self.ops.dim()];
        let mut expanded = match full {
            Some(ops) => vec![Complex64::new(0.0, 0.0); ops.dim()],
            None => Vec::new(),
        };
        let mut samples = Vec::with_capacity(self.batch);
        for batch in times.chunks(self.batch) {
            samples.clear();
            let path = self.sample_batch(batch, &mut samples);
            let m = batch.len();
            for (j, sample) in samples.iter().enumerate() {
                match path {
                    Path::Real => {
                        let (re, im) = (&self.acc_re, &self.acc_im);
                        for (k, v) in stored.iter_mut().enumerate() {
                            *v = Complex64::new(re[k * m + j].to_f64(), im[k * m + j].to_f64());
                        }
                    }
                    Path::Complex => {
                        for (v, row) in stored.iter_mut().zip(self.acc.chunks_exact(m)) {
                            *v = Complex64::new(row[j].re.to_f64(), row[j].im.to_f64());
                        }
                    }
                }
                match full {
                    Some(ops) => {
                        self.ops.expand_state(&stored, &mut expanded);
                        visit(sample, StateView::Pure { psi: &expanded, ops, mirror_even: S::MIRROR_EVEN })?;
                    }
                    None => {
                        let ops = self.ops.as_full().ok_or_else(|| SpinbatError::Unsupported {
                            solver: "chebyshev",
                            reason: "states of a sector need full-space operators".into(),
                        })?;
                        visit(sample, StateView::Pure { psi: &stored, ops, mirror_even: false })?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Combines the states of one group of a tap's times from `k` kept terms (`cols`,
/// `dim × k`; coefficients `coef[j·k + a]`) into the tap's buffer and hands each, with its
/// sample, to the visitor ([`visit_tapped`]); returns whether the tap goes on (no error).
fn combine_and_visit<S: Space + ExpandState, T: Widen>(
    ops: &S,
    tap: &mut Tap,
    cols: &[T],
    k: usize,
    coef: &[Complex64],
    samples: &[WorkSample],
) -> bool {
    let (dim, m) = (ops.dim(), samples.len());
    let mut states = std::mem::take(&mut tap.states);
    combine_terms(cols, dim, k, coef, m, &mut states[..m * dim]);
    for (sample, psi) in samples.iter().zip(states.chunks_exact(dim)) {
        if let Err(e) = visit_tapped(ops, tap, sample, psi) {
            tap.error = Some(e);
            break;
        }
        tap.next += 1;
    }
    tap.states = states;
    tap.error.is_none()
}

/// Hands one state of a tap (rows of `ops`) to its visitor: expanded onto the full space
/// for a sector.
fn visit_tapped<S: Space + ExpandState>(ops: &S, tap: &mut Tap, sample: &WorkSample, psi: &[Complex64]) -> Result<()> {
    if tap.rows {
        if let Some(rows) = ops.row_source(psi) {
            return (tap.visit)(sample, StateView::Rows { rows: &*rows });
        }
    }
    match (&tap.full, ops.as_full()) {
        (Some(full), _) => {
            ops.expand_state(psi, &mut tap.expanded);
            (tap.visit)(sample, StateView::Pure { psi: &tap.expanded, ops: full, mirror_even: S::MIRROR_EVEN })
        }
        (None, Some(full)) => (tap.visit)(sample, StateView::Pure { psi, ops: full, mirror_even: false }),
        (None, None) => Err(SpinbatError::Unsupported {
            solver: "chebyshev",
            reason: "states of a sector need full-space operators".into(),
        }),
    }
}

/// `W`, `W'` at `t` in `seg` (normalised), with the bound on the error of `W` (the
/// state error's effect, [`Moments::work_error`], plus the rounding of the quadratic forms)
/// and on the state error (the segment's start, its tail at `t`, rounding per term).
fn gram_sample<R: Real>(seg: &Segment, t: f64, work_op_norm: f64, h0_norm: f64) -> (WorkSample, f64, f64) {
    let ev = seg.evaluate(t, work_op_norm);
    let state_err = seg.err0 + ev.tail + rounding_per_term::<R>() * seg.terms() as f64;
    let m = ev.moments;
    let form_rounding = 4.0 * f64::EPSILON * 0.5 * ev.magnitude / m.norm;
    let work_err = m.work_error(state_err, work_op_norm, h0_norm) + form_rounding;
    (WorkSample { t, work: m.unit_work(), rate: m.unit_rate() }, work_err, state_err)
}

/// Runs the series of `k` terms from the state in column 0 of `store` (`dim × k`, column
/// `a` receives `v_a = T_a(H̃)v_0`), measures its Gram products and returns the segment
/// from `t0` (its end state is combined later, [`segment_end`]).
#[allow(clippy::too_many_arguments)]
fn build_segment<S: Space, T: Widen>(
    ops: &S,
    store: &mut [T],
    k: usize,
    c: f64,
    r: f64,
    nonneg: bool,
    t0: f64,
    err0: f64,
    eps: f64,
    live: &LiveSegment,
) -> Segment {
    run_terms(ops, store, k, c, r, &|a| live.terms(a as f64 / k as f64));
    let sums = gram_sums(ops, store, k, !nonneg);
    live.built();
    Segment::new(t0, err0, r, eps, sums)
}

/// The state at the end of `seg` from its terms (`store`, `dim × k`): `Σ_a c_a(s_K) v_a`.
fn segment_end<T: Widen, R: Real>(dim: usize, store: &[T], seg: &Segment) -> Vec<Complex<R>> {
    use rayon::prelude::*;
    let (coef, _, _) = seg.coefficients(seg.reach);
    let mut end = vec![Complex::<R>::default(); dim];
    end.par_chunks_mut(4096).enumerate().for_each(|(ch, out)| {
        let base = ch * 4096;
        let mut acc = vec![Complex64::new(0.0, 0.0); out.len()];
        for (a, ca) in coef.iter().enumerate() {
            let col = &store[a * dim + base..a * dim + base + out.len()];
            for (z, &v) in acc.iter_mut().zip(col) {
                *z += ca * T::to_c64(v.widen());
            }
        }
        for (o, z) in out.iter_mut().zip(&acc) {
            *o = Complex::new(R::from_f64(z.re), R::from_f64(z.im));
        }
    });
    end
}

/// Fills columns `1..k` of `store` (`dim × k`) with `v_a = T_a(H̃)v_0` from column 0 by
/// the three-term recurrence (one application of `H` a term).
fn run_terms<S: Space, T: Widen>(ops: &S, store: &mut [T], k: usize, c: f64, r: f64, on_term: &dyn Fn(usize)) {
    let dim = ops.dim();
    for a in 1..k {
        let (done, rest) = store.split_at_mut(a * dim);
        let x = &done[(a - 1) * dim..];
        let prev = (a >= 2).then(|| &done[(a - 2) * dim..(a - 1) * dim]);
        chebyshev_step_into(ops, x, prev, &mut rest[..dim], c, r);
        on_term(a + 1);
    }
}

/// The work of a real Chebyshev term, in the units of [`segment_cost`]; a complex term
/// moves twice the bytes.
fn term_cost(real: bool) -> f64 {
    if real {
        1.0
    } else {
        2.0
    }
}

/// The Gram products of `k` terms relative to one real term (`k²` pairs): 6 s against
/// 15.1 s for 241 real terms at `N = 24` (p = 1, the default command, the development
/// machine, BENCHMARKS.md), so `95.8 / 241²` a pair; complex terms twice that.
fn products_cost(k: usize, real: bool) -> f64 {
    const PER_PAIR: f64 = 0.00165;
    term_cost(real) * PER_PAIR * (k * k) as f64
}

/// First touch of one fresh column of the store (`dim` values of `R`), relative to one
/// real term: 10.3 s for the 241 real columns of that run.
const TOUCH_PER_COLUMN: f64 = 0.68;

/// A segment's terms and products (without the first touch of its store), in units of one
/// real term's time.
fn segment_cost(k: usize, real: bool) -> f64 {
    k as f64 * term_cost(real) + products_cost(k, real)
}

/// Combining one group of a tap's states, per kept term: reading its part of the rows
/// (`combine_terms` copies a block of every term, then multiplies), relative to one real
/// term's time; a complex term moves twice the bytes. Fitted with
/// [`COMBINE_PER_STATE_TERM`] and [`MEASURE_PER_STATE`] to the development machine,
/// `N = 24`, p = 1 (BENCHMARKS.md).
const COMBINE_PER_TERM: f64 = 0.12;

/// Combining, per state and kept term (the product's multiply-adds), relative to one real
/// term.
const COMBINE_PER_STATE_TERM: f64 = 0.0053;

/// Measuring one tapped state (the ergotropy family by one pass over the sector's tiles,
/// `observe::correlations::row_moments`), relative to one real term.
const MEASURE_PER_STATE: f64 = 0.75;

/// A group of `m` tapped states combined from `kg` kept terms and measured, in the units of
/// [`segment_cost`].
fn group_cost(m: usize, kg: usize, real: bool) -> f64 {
    term_cost(real) * kg as f64 * (COMBINE_PER_TERM + COMBINE_PER_STATE_TERM * m as f64) + MEASURE_PER_STATE * m as f64
}

/// Terms of a segment of `k` a state `s` into it needs at the step tolerance `eps`
/// (`1..=k`; the spectral radius `radius`).
fn terms_needed(radius: f64, eps: f64, s: f64, k: usize) -> usize {
    bessel_sequence(radius * s.max(0.0), eps).0.len().clamp(1, k)
}

/// The work of serving a tap's `times` from one segment ([`Chebyshev::serve_tap`]): groups
/// of up to `group` times, each combined from the terms its last time `needed`.
fn tap_cost(times: &[f64], group: usize, real: bool, needed: impl Fn(f64) -> usize) -> f64 {
    times
        .chunks(group.max(1))
        .map(|g| group_cost(g.len(), needed(*g.last().expect("chunks are not empty")), real))
        .sum()
}

/// The complex segments [`Chebyshev::extend_gram`] builds from `t` to `end`: their number
/// and the terms of each (equal segments; none where `t ≥ end`).
fn planned_segments(radius: f64, eps: f64, max_terms: usize, t: f64, end: f64) -> (usize, usize) {
    if end <= t {
        return (0, 0);
    }
    let k = segment_terms(radius, eps, max_terms, false, end - t);
    let reach = super::gram::reach(k, radius, eps);
    if reach <= 0.0 {
        return (0, 0);
    }
    (((end - t) / reach).ceil().max(1.0) as usize, k)
}

/// Reports a segment under way into a shared cell ([`Propagator::live_reach`]): from `t0`
/// to `t0 + span` in proportion to the work done, its parts (the first touch of a fresh
/// store, the terms, the products, a tap's states) weighted by their costs; `last` once
/// it is done.
struct LiveSegment<'a> {
    cell: &'a AtomicU64,
    t0: f64,
    span: f64,
    /// the shares of the first touch, the terms, the products and the tap
    shares: [f64; 4],
    /// reported once the segment is done, its tap's states too (its true end, for the
    /// last one)
    last: f64,
}

impl<'a> LiveSegment<'a> {
    fn start(cell: &'a AtomicU64, t0: f64, span: f64, costs: [f64; 4], last: f64) -> Self {
        let sum: f64 = costs.iter().sum();
        let shares = if sum > 0.0 { costs.map(|c| c / sum) } else { [0.0, 1.0, 0.0, 0.0] };
        let live = LiveSegment { cell, t0, span, shares, last };
        live.set(0.0);
        live
    }

    /// Never backwards: the threads touching the store report their parts out of order, and
    /// non-negative floats order as their bits.
    fn set(&self, frac: f64) {
        let t = (self.t0 + self.span * frac.clamp(0.0, 1.0)).max(0.0);
        self.cell.fetch_max(t.to_bits(), Ordering::Relaxed);
    }

    /// A fraction `f` of the store first touched.
    fn touched(&self, f: f64) {
        self.set(self.shares[0] * f);
    }

    /// A fraction `f` of the terms computed.
    fn terms(&self, f: f64) {
        self.set(self.shares[0] + self.shares[1] * f);
    }

    /// Terms and products done.
    fn built(&self) {
        self.set(self.shares[0] + self.shares[1] + self.shares[2]);
    }

    /// A fraction `f` of the tap's states served.
    fn tapped(&self, f: f64) {
        self.set(1.0 - self.shares[3] * (1.0 - f));
    }

    /// Everything done, the tap's states too.
    fn done(&self) {
        self.set(1.0);
        self.cell.fetch_max(self.last.max(0.0).to_bits(), Ordering::Relaxed);
    }
}

/// Terms of the next Gram segment for the way `span` (time) still expected: one segment if
/// `max_terms` (complex; twice as many real) reach it, else equal segments of at most that;
/// at least [`GRAM_MIN_TERMS`] where the memory holds them (a shorter segment wastes most
/// of its terms on the tail).
fn segment_terms(radius: f64, eps: f64, max_terms: usize, real: bool, span: f64) -> usize {
    let scale = if real { 2 } else { 1 };
    let cap = max_terms * scale;
    let x_rem = radius * span.max(0.0);
    let x_cap = radius * super::gram::reach(cap, radius, eps);
    // a real term costs about half a complex one: the real segment reaches as far as it can
    let x = if x_rem <= x_cap || real { x_rem.min(x_cap) } else { x_rem / (x_rem / x_cap.max(1e-300)).ceil() };
    bessel_sequence(x, eps).0.len().clamp((GRAM_MIN_TERMS * scale).min(cap), cap).max(2)
}

/// Grows `v` to `len` zeros, the new memory first touched by all threads: a fresh page
/// is cleared by the kernel when first written, at about 1 GB/s per thread on the
/// development machine (3.7 s for the 2.5 GB of a Gram store at `N = 22` from one thread).
/// (Asking for transparent huge pages, `madvise(MADV_HUGEPAGE)`, cut the user time but
/// tripled the system time of the run on that machine, a virtual one: `N = 22`, maximum
/// only, 0.9 → 3.0 s of system time; BENCHMARKS.md.)
fn grow_in_parallel<T: Copy + Default + Send>(v: &mut Vec<T>, len: usize, on_part: &(dyn Fn(f64) + Sync)) {
    use rayon::prelude::*;
    let old = v.len();
    if len <= old {
        return;
    }
    v.reserve_exact(len - old);
    let spare = &mut v.spare_capacity_mut()[..len - old];
    let chunks = spare.len().div_ceil(1 << 16).max(1);
    let touched = AtomicU64::new(0);
    spare.par_chunks_mut(1 << 16).for_each(|chunk| {
        for x in chunk {
            x.write(T::default());
        }
        on_part((touched.fetch_add(1, Ordering::Relaxed) + 1) as f64 / chunks as f64);
    });
    // SAFETY: the `len - old` elements past the old length were all written just above
    unsafe { v.set_len(len) };
}

/// How a [`Space`]'s stored states map onto the full `2^N` space, for measurements that
/// need the full state.
pub trait ExpandState {
    /// Every expanded state is even under the reflection `i → N − 1 − i`
    /// ([`StateView::Pure`]'s `mirror_even`).
    const MIRROR_EVEN: bool = false;
    /// The space's own full-space operators, if it is the full space.
    fn as_full(&self) -> Option<&Operators> {
        None
    }
    /// Writes the full-space amplitudes of `stored` into `full` (`2^N` of them).
    fn expand_state(&self, stored: &[Complex64], full: &mut [Complex64]);
    /// Whether [`ExpandState::row_source`] hands states out in their own layout.
    fn has_rows(&self) -> bool {
        false
    }
    /// The stored state in its own layout ([`SymmetricTiles`]), without expanding it, where
    /// the space can ([`ExpandState::has_rows`]).
    fn row_source<'a>(&'a self, _stored: &'a [Complex64]) -> Option<Box<dyn SymmetricTiles + 'a>> {
        None
    }
}

impl ExpandState for Operators {
    fn as_full(&self) -> Option<&Operators> {
        Some(self)
    }
    fn expand_state(&self, stored: &[Complex64], full: &mut [Complex64]) {
        full.copy_from_slice(stored);
    }
}

impl ExpandState for ReflectionSector {
    const MIRROR_EVEN: bool = true;
    fn expand_state(&self, stored: &[Complex64], full: &mut [Complex64]) {
        self.expand(stored, full);
    }
    fn has_rows(&self) -> bool {
        self.h0_is_diagonal()
    }
    fn row_source<'a>(&'a self, stored: &'a [Complex64]) -> Option<Box<dyn SymmetricTiles + 'a>> {
        self.rows(stored).map(|r| Box::new(r) as Box<dyn SymmetricTiles + 'a>)
    }
}

/// `ψ(s) = φ_k / √C(N, k)` with `k` the up spins of `s`: the Dicke state `|k⟩` is the
/// normalised sum of its `C(N, k)` basis states.
impl ExpandState for DickeSpace {
    fn expand_state(&self, stored: &[Complex64], full: &mut [Complex64]) {
        use rayon::prelude::*;
        let n = self.n_sites();
        let mut binom = 1.0f64;
        let scale: Vec<f64> = (0..=n)
            .map(|k| {
                let s = 1.0 / binom.sqrt();
                binom = binom * (n - k) as f64 / (k + 1) as f64;
                s
            })
            .collect();
        full.par_iter_mut().enumerate().with_min_len(1 << 12).for_each(|(s, v)| {
            let k = s.count_ones() as usize;
            *v = stored[k] * scale[k];
        });
    }
}

impl ExpandState for OrbitSpace {
    fn expand_state(&self, stored: &[Complex64], full: &mut [Complex64]) {
        self.expand(stored, full);
    }
}
