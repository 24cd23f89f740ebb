//! The one planner: from a chain, a solver name, a precision and what is asked of the
//! dynamics (the work, or the state itself) to a checked [`Plan`], after one memory check;
//! then to the propagator, built from the plan without checking again.
//!
//! A plan fixes the method ([`Solver`], `auto` resolved: [`resolve`] for work,
//! [`resolve_states`] for states), the space it runs on ([`SpaceKind`]: the full `2^N`
//! space, the reflection-even sector for mirror-symmetric chains with `N ≥ 14`, the
//! `N + 1` Dicke states, or none for the classical and closed-form models) and the
//! precision, and it knows the bytes all of that needs. A new kind of state (a density
//! matrix, trajectories, a matrix-product state) is a new [`Solver`] or [`SpaceKind`] here
//! and one more arm of [`Plan::propagator`] / [`Plan::state_propagator`]: the maximum search,
//! the CLI and Python see only `dyn Propagator` and `dyn StatePropagator`.

use super::memory;
use super::method::SpaceKind;
use super::solver::{resolve_noisy, resolve_states, Precision, Solver};
use super::unravelling::{self, Unravelling};
use super::{chebyshev, density, dicke, Dense, Propagator, StatePropagator};
use crate::error::{Result, SpinbatError};
use crate::model::{Chain, Protocol};
use crate::mps::MpsSettings;
use crate::open::{Gibbs, Noise, Start};
use crate::operator::Operators;
use crate::symmetry::{DickeSpace, OrbitSpace, ReflectionSector};
use std::sync::Arc;

/// What is asked of the dynamics.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Request {
    /// `W(t)` and `W'(t)` only (the curve and the certified maximum search).
    Work,
    /// The state itself at requested times, handed out on the full space for measurements
    /// that hold `bytes_per_amplitude` bytes per full-space amplitude beside it.
    States {
        /// Buffers of the measurements per full-space amplitude (e.g.
        /// [`crate::observe::trajectory::OBSERVABLE_BYTES_PER_AMPLITUDE`]).
        bytes_per_amplitude: f64,
    },
}

/// Bytes per full-space amplitude a sector's state propagator adds when it hands out states
/// on the full space: the full-space operators' diagonal (`8`), the expanded state (`16`)
/// and the row of each full-space state (`4`, the orbit space).
pub const SECTOR_EXPANSION_BYTES_PER_AMPLITUDE: f64 = 8.0 + 16.0 + 4.0;

/// A checked plan (module docs): build its propagator with [`Plan::propagator`] or
/// [`Plan::state_propagator`].
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    solver: Solver,
    precision: Precision,
    space: SpaceKind,
    request: Request,
    tol: f64,
    bytes: f64,
    noise: Noise,
    start: Start,
    /// the Gibbs state of a thermal start (built once, after the memory check)
    gibbs: Option<Arc<Gibbs>>,
    /// the settings of the MPS solver (read only by it)
    mps: MpsSettings,
    /// the solver as asked (before `auto` was resolved)
    asked: Solver,
}

impl Plan {
    /// Checks `tol` (the absolute tolerance on `W`, read by Chebyshev, Dicke and the mean
    /// field; in `(0, 1)`), resolves `solver` for `request`, picks the space and checks once
    /// that everything
    /// fits in memory: the method's own estimate ([`memory::bytes_needed_with`]), and for
    /// state requests the measurements' buffers and a sector's expansion onto the full
    /// space.
    ///
    /// # Errors
    /// [`SpinbatError::TooLarge`] when it does not fit; [`SpinbatError::InvalidParameter`]
    /// for `tol` outside `(0, 1)` and for single precision with a solver other than `auto` or `chebyshev`;
    /// [`SpinbatError::Unsupported`] for states of the weak-coupling formula, and for a
    /// permutation-symmetric chain whose full state does not fit (observables are not
    /// computed from the `N + 1` Dicke amplitudes).
    pub fn new(chain: &Chain, solver: Solver, tol: f64, precision: Precision, request: Request) -> Result<Plan> {
        Plan::with_noise(chain, solver, tol, precision, request, &Noise::default())
    }

    /// [`Plan::new`] for the open battery: `noise` is checked ([`Noise::check`]); with any
    /// channel acting, `auto` is the density matrix ([`resolve_noisy`]) on the operator space
    /// ([`SpaceKind::DensityMatrix`]), whose matrices ([`density::bytes_needed`]) must fit.
    /// For the work of a chain with all couplings equal and collective decay the only
    /// channel ([`crate::open::keeps_dicke_states`], `N ≥ 2`), the density matrix runs on the
    /// `N + 1` Dicke states instead ([`SpaceKind::DickeDensityMatrix`],
    /// [`density::bytes_needed_dicke`]), any `N` whose `48(N + 1)²` bytes fit.
    ///
    /// # Errors
    /// As [`Plan::new`]; [`SpinbatError::InvalidParameter`] for bad noise settings;
    /// [`SpinbatError::Unsupported`] for noise with a solver of the closed battery. A
    /// request for states gets the density matrix's own (`StateView::Density`), with its
    /// measurements' memory ([`DENSITY_OBSERVABLE_BYTES_PER_ENTRY`]).
    pub fn with_noise(
        chain: &Chain,
        solver: Solver,
        tol: f64,
        precision: Precision,
        request: Request,
        noise: &Noise,
    ) -> Result<Plan> {
        Plan::with_start(chain, solver, tol, precision, request, noise, Start::AllDown)
    }

    /// [`Plan::with_noise`] from the starting state `start`. A thermal start
    /// ([`Start::Thermal`], the Gibbs state of `H0`) is a mixed state: the density matrix
    /// (`auto`, `density-matrix`) or trajectories run it, with or without noise, the solvers
    /// of pure states refuse; its Gibbs state ([`Gibbs::bytes_needed`]) and the density
    /// matrix's copy of its start are counted in the memory check, then the Gibbs state is
    /// built once. A start that is all-down ([`Start::is_all_down`]: `T0 = 0` where
    /// all-down is the proved ground state) plans exactly as [`Plan::with_noise`].
    ///
    /// # Errors
    /// As [`Plan::with_noise`]; [`SpinbatError::Unsupported`] for a thermal start with a
    /// solver of pure states or in single precision, and those of [`Gibbs::new`].
    pub fn with_start(
        chain: &Chain,
        solver: Solver,
        tol: f64,
        precision: Precision,
        request: Request,
        noise: &Noise,
        start: Start,
    ) -> Result<Plan> {
        check_tol(tol)?;
        noise.check_for(chain)?;
        if let Some(t) = start.temperature() {
            Start::from_temperature(Some(t))?;
        }
        let mixed = !start.is_all_down(chain);
        if mixed {
            if precision == Precision::Single {
                return Err(crate::error::invalid(
                    "precision",
                    "single",
                    "single precision is implemented for the closed chebyshev solver, not from a thermal start",
                ));
            }
            match solver {
                Solver::Auto | Solver::DensityMatrix | Solver::Trajectories => {}
                other => {
                    return Err(SpinbatError::Unsupported {
                        solver: other.as_str(),
                        reason: format!(
                            "it evolves one pure state, but the start is mixed ({}); use --solver density-matrix (or \
                             auto) or trajectories",
                            start.describe()
                        ),
                    })
                }
            }
        }
        let asked = solver;
        let solver = match (solver, mixed) {
            (Solver::Auto, true) => Solver::DensityMatrix,
            (s, _) => s,
        };
        let solver = match request {
            Request::Work => {
                if precision == Precision::Single && !matches!(solver, Solver::Auto | Solver::Chebyshev) {
                    return Err(crate::error::invalid(
                        "precision",
                        "single",
                        format!("single precision is implemented for the chebyshev solver, not {solver}"),
                    ));
                }
                match precision {
                    Precision::Single if !noise.is_closed() => {
                        return Err(crate::error::invalid(
                            "precision",
                            "single",
                            "single precision is implemented for the closed chebyshev solver, not with noise",
                        ))
                    }
                    Precision::Single => Solver::Chebyshev,
                    Precision::Double => resolve_noisy(chain, solver, noise)?,
                }
            }
            Request::States { .. } if !noise.is_closed() || solver == Solver::DensityMatrix => {
                if precision == Precision::Single {
                    return Err(crate::error::invalid(
                        "precision",
                        "single",
                        "single precision is implemented for the closed chebyshev solver, not for density matrices",
                    ));
                }
                resolve_noisy(chain, solver, noise)?
            }
            Request::States { .. } => resolve_states(chain, solver, precision)?,
        };
        if solver == Solver::Mps {
            check_mps(chain)?;
        }
        check_charging(chain, solver)?;
        if let (Solver::Trajectories, Request::States { .. }) = (solver, request) {
            return Err(SpinbatError::Unsupported {
                solver: "trajectories",
                reason: "observables along the trajectories are not implemented; observe with --solver density-matrix"
                    .to_string(),
            });
        }
        let space = match solver {
            Solver::Dense => SpaceKind::Full,
            Solver::Chebyshev => chebyshev::space_for(chain),
            Solver::Dicke => SpaceKind::Dicke,
            // the work of a permutation-symmetric chain under collective decay from all-down:
            // the N + 1 Dicke states (states for measurements are handed out on the full
            // space; a thermal start is spread over every total spin, not only J = N/2)
            Solver::DensityMatrix
                if request == Request::Work
                    && !mixed
                    && chain.n_sites() > 1
                    && crate::open::keeps_dicke_states(chain, noise) =>
            {
                SpaceKind::DickeDensityMatrix
            }
            Solver::DensityMatrix => SpaceKind::DensityMatrix,
            Solver::Trajectories => SpaceKind::Full,
            Solver::Mps => SpaceKind::MatrixProduct,
            _ => SpaceKind::None,
        };
        let mut bytes = match solver {
            Solver::DensityMatrix if space == SpaceKind::DickeDensityMatrix => {
                density::bytes_needed_dicke(chain.n_sites())
            }
            Solver::DensityMatrix => density::bytes_needed(chain.n_sites(), noise),
            // the smallest batch; Plan::unravelling takes more where memory allows
            Solver::Trajectories => unravelling::bytes_needed(chain.n_sites(), rayon::current_num_threads(), 1),
            Solver::Mps => super::mps::bytes_needed(chain, &MpsSettings::default()),
            _ => memory::bytes_needed_with(chain, solver, precision),
        };
        if let (Request::States { .. }, SpaceKind::DensityMatrix) = (request, space) {
            // the measurements' copies: ρ for its eigenvalues, H0ρ, the dense H0 and its
            // eigenvalue workspace
            bytes += DENSITY_OBSERVABLE_BYTES_PER_ENTRY * (2.0 * chain.n_sites() as f64).exp2();
        } else if let (Request::States { .. }, SpaceKind::MatrixProduct) = (request, space) {
            bytes += super::mps::observable_bytes(chain, &MpsSettings::default());
        } else if let (Request::States { bytes_per_amplitude }, false) = (request, space == SpaceKind::None) {
            let full = (chain.n_sites() as f64).exp2();
            bytes += bytes_per_amplitude * full;
            if matches!(space, SpaceKind::ReflectionEven | SpaceKind::Orbits) {
                bytes += SECTOR_EXPANSION_BYTES_PER_AMPLITUDE * full;
            }
            if let Some(available) = crate::resources::bytes_available().filter(|&a| bytes > a) {
                if crate::symmetry::is_permutation_symmetric(chain) {
                    return Err(SpinbatError::Unsupported {
                        solver: "dicke",
                        reason: format!(
                            "observables need the full 2^N state ({} with the {} solver at N = {}, {} available); \
                             they are not computed from the N + 1 Dicke amplitudes",
                            crate::error::human_bytes(bytes),
                            solver.as_str(),
                            chain.n_sites(),
                            crate::error::human_bytes(available)
                        ),
                    });
                }
            }
        }
        if mixed {
            bytes += Gibbs::bytes_needed(chain);
            if solver == Solver::DensityMatrix {
                // the propagator's copy of its start, for restarts
                bytes += 16.0 * (2.0 * chain.n_sites() as f64).exp2();
            }
        }
        crate::resources::ensure_fits(solver.as_str(), chain.n_sites(), bytes)?;
        let gibbs = if mixed { start.gibbs(chain)?.map(Arc::new) } else { None };
        Ok(Plan {
            solver,
            precision,
            space,
            request,
            tol,
            bytes,
            noise: *noise,
            start,
            gibbs,
            mps: MpsSettings::default(),
            asked,
        })
    }

    /// The plan with the MPS solver's `settings` (bond dimension, truncation, time step):
    /// checked, and the memory checked again for them. Other solvers ignore them.
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for bad settings; [`SpinbatError::TooLarge`] when
    /// the MPS run at that bond dimension does not fit.
    pub fn with_mps(mut self, chain: &Chain, settings: MpsSettings) -> Result<Plan> {
        settings.check()?;
        self.mps = settings;
        if self.solver == Solver::Mps {
            self.bytes = super::mps::bytes_needed(chain, &settings);
            if let Request::States { .. } = self.request {
                self.bytes += super::mps::observable_bytes(chain, &settings);
            }
            crate::resources::ensure_fits("mps", chain.n_sites(), self.bytes)?;
        }
        Ok(self)
    }

    /// The MPS solver's settings.
    pub fn mps(&self) -> MpsSettings {
        self.mps
    }

    /// The solver that will run (`auto` resolved).
    pub fn solver(&self) -> Solver {
        self.solver
    }

    /// The precision of the states.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The space the method runs on.
    pub fn space(&self) -> SpaceKind {
        self.space
    }

    /// What was asked.
    pub fn request(&self) -> Request {
        self.request
    }

    /// The bytes checked against the available memory.
    pub fn bytes(&self) -> f64 {
        self.bytes
    }

    /// The tolerance on `W`.
    pub fn tol(&self) -> f64 {
        self.tol
    }

    /// The noise (every rate zero for the closed battery).
    pub fn noise(&self) -> &Noise {
        &self.noise
    }

    /// The starting state asked for.
    pub fn start(&self) -> Start {
        self.start
    }

    /// The Gibbs state of a mixed start (`None` where the start is all-down).
    pub fn gibbs(&self) -> Option<&Gibbs> {
        self.gibbs.as_deref()
    }

    /// The energy the work is measured from: `E_β = Tr(H0ρ_β)` from a thermal start,
    /// else `E_0` of all-down (`W = Tr(H0ρ(t)) − E_ref`).
    pub fn reference_energy(&self, chain: &Chain) -> f64 {
        self.gibbs.as_ref().map_or_else(|| chain.initial_energy(), |g| g.energy())
    }

    /// The density-matrix propagator of this plan's noise and start.
    fn density(&self, chain: &Chain) -> Result<density::DensityMatrix> {
        match &self.gibbs {
            Some(g) => density::DensityMatrix::thermal(chain, &self.noise, g, self.tol),
            None => density::DensityMatrix::new(chain, &self.noise, self.tol),
        }
    }

    /// The propagator of `W`, `W'` for `chain` (the chain the plan was made for).
    ///
    /// # Errors
    /// The method's own construction errors.
    pub fn propagator(&self, chain: &Chain) -> Result<Box<dyn Propagator>> {
        let tol = self.tol;
        Ok(match (self.solver, self.precision, self.space) {
            (Solver::Dense, _, _) => Box::new(Dense::new(chain)?),
            (Solver::Chebyshev, Precision::Double, SpaceKind::ReflectionEven) => {
                Box::new(chebyshev::Chebyshev::<_, f64>::with_space(ReflectionSector::new(chain)?, chain, tol))
            }
            (Solver::Chebyshev, Precision::Double, SpaceKind::Orbits) => {
                Box::new(chebyshev::Chebyshev::<_, f64>::with_space(OrbitSpace::new(chain)?, chain, tol))
            }
            (Solver::Chebyshev, Precision::Single, SpaceKind::Orbits) => {
                Box::new(chebyshev::Chebyshev::<_, f32>::with_space(OrbitSpace::new(chain)?, chain, tol))
            }
            (Solver::Chebyshev, Precision::Double, _) => Box::new(chebyshev::Chebyshev::new(chain, tol)?),
            (Solver::Chebyshev, Precision::Single, SpaceKind::ReflectionEven) => {
                Box::new(chebyshev::Chebyshev::<_, f32>::with_space(ReflectionSector::new(chain)?, chain, tol))
            }
            (Solver::Chebyshev, Precision::Single, _) => {
                Box::new(chebyshev::Chebyshev::<_, f32>::with_space(Operators::new(chain)?, chain, tol))
            }
            (Solver::Dicke, _, _) => Box::new(dicke::Dicke::new(chain, tol)?),
            (Solver::MeanField, _, _) => Box::new(crate::meanfield::MeanField::new(chain, tol)?),
            (Solver::WeakCoupling, _, _) => Box::new(crate::analytic::WeakCoupling::new(chain)),
            (Solver::DensityMatrix, _, SpaceKind::DickeDensityMatrix) => {
                Box::new(density::DensityMatrix::dicke(chain, &self.noise, tol)?)
            }
            (Solver::DensityMatrix, _, _) => Box::new(self.density(chain)?),
            (Solver::Mps, _, _) => Box::new(super::MpsPropagator::new(chain, self.mps)?),
            (Solver::FreeFermion, _, _) => Box::new(super::fermion::FreeFermion::new(chain)?),
            (Solver::Trajectories, _, _) => {
                return Err(SpinbatError::Unsupported {
                    solver: "trajectories",
                    reason: "an ensemble of trajectories is not one propagator of W(t): build it with \
                             Plan::unravelling and average it with observe::ensemble::charge_trajectories"
                        .to_string(),
                })
            }
            (Solver::Auto, _, _) => unreachable!("resolved in Plan::new"),
        })
    }

    /// The propagator of `W`, `W'` for `chain` charged with the time-dependent field
    /// `ω(t)` of `protocol` (physics.md, "Time-dependent charging"): a static protocol is
    /// [`Plan::propagator`] itself (a drive with `A = 0` bypasses every integrator); a
    /// schedule runs segment by segment ([`super::schedule::Scheduled`]: Chebyshev on the
    /// plan's space and precision, the Dicke states by Chebyshev, dense by products of
    /// exponentials; free fermions by one rotation a segment,
    /// [`super::fermion::FreeFermion::with_schedule`]) or in the mean field
    /// ([`crate::meanfield::MeanField::with_protocol`]); under free fermions a drive is
    /// planned again on Chebyshev when the solver was `auto` (refused when asked by name);
    /// a drive by the commutator-free Magnus integrator CFET4:2 over the same segment
    /// methods ([`super::magnus::Driven`]; double precision) or in the mean field.
    ///
    /// # Errors
    /// [`SpinbatError::Unsupported`] for the open battery, a thermal start, the weak-coupling
    /// formula and trajectories, and for a drive in single precision; the method's own
    /// construction errors.
    pub fn protocol_propagator(&self, chain: &Chain, protocol: &Protocol) -> Result<Box<dyn Propagator>> {
        use super::schedule::{ChebyshevSegments, DenseSegments, Scheduled};
        if matches!(protocol, Protocol::Constant(_)) || (matches!(protocol, Protocol::Drive(_)) && protocol.is_static())
        {
            return self.propagator(chain);
        }
        let refuse =
            |reason: &str| SpinbatError::Unsupported { solver: self.solver.as_str(), reason: reason.to_string() };
        if !self.noise.is_closed() || self.start != Start::AllDown {
            return Err(refuse(
                "a time-dependent field (--omega-schedule, --drive) charges the closed battery from all-down only",
            ));
        }
        if !chain.has_paper_charging() {
            // the segments' field switch (Space::set_omega) and the rate bound
            // (Chain::rate_bound_per_field) are those of V = ω(t) Σ_i X_i with the field off
            return Err(refuse(&format!(
                "a time-dependent field is not combined with {} yet (V(t) = omega(t) sum_i X_i, XXZ, the field off)",
                chain.charging_extensions()
            )));
        }
        if self.solver == Solver::FreeFermion {
            // free fermions serve a schedule segment by segment; `auto` runs a drive by
            // Chebyshev (planned again: its memory checked)
            if let Protocol::Schedule(s) = protocol {
                return Ok(Box::new(super::fermion::FreeFermion::with_schedule(chain, s)?));
            }
            if self.asked != Solver::Auto {
                return Err(refuse(
                    "free fermions serve a constant field or a schedule; a drive runs with chebyshev (or auto)",
                ));
            }
            let request = self.request;
            let plan =
                Plan::with_start(chain, Solver::Chebyshev, self.tol, self.precision, request, &self.noise, self.start)?;
            return plan.protocol_propagator(chain, protocol);
        }
        let tol = self.tol;
        if let Protocol::Drive(d) = protocol {
            // the exact methods by CFET4:2 over the schedule's segment methods (propagate/magnus.rs)
            use super::magnus::Driven;
            let d = *d;
            return Ok(match (self.solver, self.precision, self.space) {
                (Solver::MeanField, _, _) => {
                    Box::new(crate::meanfield::MeanField::new(chain, tol)?.with_protocol(protocol.clone()))
                }
                (Solver::Dense, _, _) => Box::new(Driven::new(DenseSegments::new(chain)?, chain, d, tol)),
                (Solver::Chebyshev, Precision::Double, SpaceKind::ReflectionEven) => Box::new(Driven::new(
                    ChebyshevSegments::<_, f64>::new(ReflectionSector::new(chain)?, chain, tol * super::magnus::EXPONENTIAL_TOL),
                    chain,
                    d,
                    tol,
                )),
                (Solver::Chebyshev, Precision::Double, SpaceKind::Orbits) => Box::new(Driven::new(
                    ChebyshevSegments::<_, f64>::new(OrbitSpace::new(chain)?, chain, tol * super::magnus::EXPONENTIAL_TOL),
                    chain,
                    d,
                    tol,
                )),
                (Solver::Chebyshev, Precision::Double, _) => Box::new(Driven::new(
                    ChebyshevSegments::<_, f64>::new(Operators::new(chain)?, chain, tol * super::magnus::EXPONENTIAL_TOL),
                    chain,
                    d,
                    tol,
                )),
                (Solver::Chebyshev, Precision::Single, _) => {
                    return Err(refuse(
                        "a periodic drive runs in double precision only (its step-doubling estimate compares                          states far below single precision's rounding)",
                    ))
                }
                (Solver::Dicke, _, _) => {
                    let space =
                        DickeSpace::new(chain).ok_or_else(|| refuse("the chain is not permutation symmetric"))?;
                    Box::new(Driven::new(ChebyshevSegments::<_, f64>::new(space, chain, tol * super::magnus::EXPONENTIAL_TOL), chain, d, tol))
                }
                _ => return Err(refuse("a periodic drive runs with dense, chebyshev, dicke or mean-field")),
            });
        }
        let Protocol::Schedule(s) = protocol else { unreachable!("constant and drive handled above") };
        let s = s.clone();
        let runs = super::schedule::merge_runs(&s);
        if runs.len() == 1 && !matches!(self.solver, Solver::MeanField) {
            // one field throughout: the static charge, ended at the schedule's end
            if let Ok(single) = chain.to_builder().omega(runs.omegas()[0].abs()).build() {
                let inner = self.propagator(&single)?;
                return Ok(Box::new(super::schedule::StaticRun::new(inner, single, s.end())));
            }
        }
        Ok(match (self.solver, self.precision, self.space) {
            (Solver::Dense, _, _) => Box::new(Scheduled::new(DenseSegments::new(chain)?, s)),
            (Solver::Chebyshev, Precision::Double, SpaceKind::ReflectionEven) => {
                Box::new(Scheduled::new(ChebyshevSegments::<_, f64>::new(ReflectionSector::new(chain)?, chain, tol), s))
            }
            (Solver::Chebyshev, Precision::Double, SpaceKind::Orbits) => {
                Box::new(Scheduled::new(ChebyshevSegments::<_, f64>::new(OrbitSpace::new(chain)?, chain, tol), s))
            }
            (Solver::Chebyshev, Precision::Single, SpaceKind::Orbits) => {
                Box::new(Scheduled::new(ChebyshevSegments::<_, f32>::new(OrbitSpace::new(chain)?, chain, tol), s))
            }
            (Solver::Chebyshev, Precision::Double, _) => {
                Box::new(Scheduled::new(ChebyshevSegments::<_, f64>::new(Operators::new(chain)?, chain, tol), s))
            }
            (Solver::Chebyshev, Precision::Single, SpaceKind::ReflectionEven) => {
                Box::new(Scheduled::new(ChebyshevSegments::<_, f32>::new(ReflectionSector::new(chain)?, chain, tol), s))
            }
            (Solver::Chebyshev, Precision::Single, _) => {
                Box::new(Scheduled::new(ChebyshevSegments::<_, f32>::new(Operators::new(chain)?, chain, tol), s))
            }
            (Solver::Dicke, _, _) => {
                let space = DickeSpace::new(chain).ok_or_else(|| refuse("the chain is not permutation symmetric"))?;
                Box::new(Scheduled::new(ChebyshevSegments::<_, f64>::new(space, chain, tol), s))
            }
            (Solver::MeanField, _, _) => {
                Box::new(crate::meanfield::MeanField::new(chain, tol)?.with_protocol(protocol.clone()))
            }
            _ => return Err(refuse("a field schedule runs with dense, chebyshev, dicke or mean-field")),
        })
    }

    /// The quantum-trajectory propagator of a plan made for [`Solver::Trajectories`], with
    /// as many output times per expansion (up to [`unravelling::MAX_BATCH`]) as half the
    /// free memory holds beside the plan's minimum.
    ///
    /// # Errors
    /// [`SpinbatError::Unsupported`] for a plan of another solver; those of
    /// [`Unravelling::new`].
    pub fn unravelling(&self, chain: &Chain) -> Result<Unravelling> {
        if self.solver != Solver::Trajectories {
            return Err(SpinbatError::Unsupported {
                solver: self.solver.as_str(),
                reason: "not a plan for trajectories".to_string(),
            });
        }
        let workers = rayon::current_num_threads();
        let room = crate::resources::bytes_available().map_or(f64::INFINITY, |a| 0.5 * a);
        let batch = (1..=unravelling::MAX_BATCH)
            .rev()
            .find(|&b| unravelling::bytes_needed(chain.n_sites(), workers, b) <= room)
            .unwrap_or(1);
        let u = Unravelling::new(chain, &self.noise, self.tol)?.with_batch(batch);
        match &self.gibbs {
            Some(g) => u.with_thermal_start(Arc::clone(g)),
            None => Ok(u),
        }
    }

    /// The propagator of the state itself (dense, or Chebyshev on the full space or in the
    /// reflection-even sector, `f64` or `f32`), for a plan made for
    /// [`Request::States`].
    ///
    /// # Errors
    /// [`SpinbatError::Unsupported`] for the mean field (no state vector: it has its own
    /// trajectory) and for a plan made for [`Request::Work`] (its memory check did not
    /// count the states handed out).
    pub fn state_propagator(&self, chain: &Chain) -> Result<Box<dyn StatePropagator>> {
        let tol = self.tol;
        if self.request == Request::Work {
            return Err(SpinbatError::Unsupported {
                solver: self.solver.as_str(),
                reason: "this plan was made for the work only; plan with Request::States for states".to_string(),
            });
        }
        match (self.solver, self.precision, self.space) {
            (Solver::Dense, Precision::Double, _) => Ok(Box::new(Dense::new(chain)?)),
            (Solver::DensityMatrix, Precision::Double, _) => Ok(Box::new(self.density(chain)?)),
            (Solver::Chebyshev, Precision::Double, SpaceKind::ReflectionEven) => {
                Ok(Box::new(chebyshev::Chebyshev::<_, f64>::with_space(ReflectionSector::new(chain)?, chain, tol)))
            }
            (Solver::Chebyshev, Precision::Double, SpaceKind::Orbits) => {
                Ok(Box::new(chebyshev::Chebyshev::<_, f64>::with_space(OrbitSpace::new(chain)?, chain, tol)))
            }
            (Solver::Chebyshev, Precision::Single, SpaceKind::Orbits) => {
                Ok(Box::new(chebyshev::Chebyshev::<_, f32>::with_space(OrbitSpace::new(chain)?, chain, tol)))
            }
            (Solver::Chebyshev, Precision::Double, _) => Ok(Box::new(chebyshev::Chebyshev::new(chain, tol)?)),
            (Solver::Chebyshev, Precision::Single, SpaceKind::ReflectionEven) => {
                Ok(Box::new(chebyshev::Chebyshev::<_, f32>::with_space(ReflectionSector::new(chain)?, chain, tol)))
            }
            (Solver::Chebyshev, Precision::Single, _) => {
                Ok(Box::new(chebyshev::Chebyshev::<_, f32>::with_space(Operators::new(chain)?, chain, tol)))
            }
            (Solver::Mps, _, _) => Ok(Box::new(super::MpsPropagator::new(chain, self.mps)?)),
            (other, _, _) => Err(SpinbatError::Unsupported {
                solver: other.as_str(),
                reason: "no state vector: observables need dense or chebyshev (the mean field has its own trajectory)"
                    .to_string(),
            }),
        }
    }
}

/// Bytes per entry of a density matrix (`4^N`) that its measurements need beside the
/// propagator ([`crate::observe::ergotropy::ErgotropyContext::measure_density`],
/// [`crate::observe::correlations::density_variance`]): copies of `ρ` and `H0ρ` (16 each),
/// the dense `H0` (8) and the eigenvalue solver's workspace (about 32).
pub const DENSITY_OBSERVABLE_BYTES_PER_ENTRY: f64 = 72.0;

/// Builds the propagator for `chain`, checking the memory it needs first:
/// `Plan::new(chain, solver, tol, Double, Work)` then [`Plan::propagator`].
///
/// `tol` is the absolute tolerance on `W` (Chebyshev, mean field); it must be in `(0, 1)`.
///
/// # Errors
/// [`SpinbatError::TooLarge`] when the estimate of [`memory::bytes_needed`] exceeds what
/// the machine has; [`SpinbatError::InvalidParameter`] for a bad `tol`.
pub fn plan(chain: &Chain, solver: Solver, tol: f64) -> Result<Box<dyn Propagator>> {
    plan_with(chain, solver, tol, Precision::Double)
}

/// [`plan`] in the given precision. Single precision runs the Chebyshev solver with `f32`
/// states (`auto` then means Chebyshev, whatever the size); other solvers are double only.
///
/// # Errors
/// As [`plan`]; [`SpinbatError::InvalidParameter`] for single precision with a solver other
/// than `auto` or `chebyshev`.
pub fn plan_with(chain: &Chain, solver: Solver, tol: f64, precision: Precision) -> Result<Box<dyn Propagator>> {
    Plan::new(chain, solver, tol, precision, Request::Work)?.propagator(chain)
}

/// [`plan`] for the open battery: `Plan::with_noise(chain, solver, tol, Double, Work,
/// noise)` then [`Plan::propagator`].
///
/// # Errors
/// As [`Plan::with_noise`].
pub fn plan_noisy(chain: &Chain, solver: Solver, tol: f64, noise: &Noise) -> Result<Box<dyn Propagator>> {
    Plan::with_noise(chain, solver, tol, Precision::Double, Request::Work, noise)?.propagator(chain)
}

/// What the MPS solver refuses: per-site fields (its rate operator uses one field). Noise
/// and a thermal start are refused before, as for every solver of one pure state; states
/// for observables are its own ([`super::method::StateView::MatrixProduct`], never `2^N` amplitudes).
fn check_mps(chain: &Chain) -> Result<()> {
    if chain.has_site_fields() {
        return Err(SpinbatError::Unsupported {
            solver: "mps",
            reason: "per-site fields (disorder in B) are not implemented in its MPOs; use chebyshev".to_string(),
        });
    }
    Ok(())
}

/// Checks that `solver` implements `chain`'s charging Hamiltonian: the paper's
/// (`H = H_g + V`, `V = ω Σ_i X_i`, XXZ couplings) everywhere; its generalisations
/// (XYZ `γ`, the field kept on, per-site weights `w_i` of `ω`;
/// [`Chain::has_paper_charging`]) in the dense and Chebyshev solvers
/// ([`chebyshev::space_for`]: the full `2^N` space, or the reflection sector for
/// mirror-symmetric weights without `γ`) and the mean field; the Dicke states take the field
/// kept on (not `γ` or weights). The weak-coupling formula (Eq. 18) and the open battery
/// (density matrix, trajectories) refuse them all.
///
/// # Errors
/// [`SpinbatError::Unsupported`] naming the generalisations the solver lacks.
pub fn check_charging(chain: &Chain, solver: Solver) -> Result<()> {
    if chain.has_paper_charging()
        || matches!(solver, Solver::Dense | Solver::Chebyshev | Solver::MeanField | Solver::Auto | Solver::FreeFermion)
        || (solver == Solver::Dicke && chain.gamma() == 0.0 && !chain.has_omega_sites())
    {
        return Ok(());
    }
    Err(SpinbatError::Unsupported {
        solver: solver.as_str(),
        reason: format!(
            "it implements the paper's charging H = H_g + omega sum_i X_i with XXZ couplings, not {} (use dense, \
             chebyshev or mean-field)",
            chain.charging_extensions()
        ),
    })
}

/// Checks that the tolerance on `W` is a number in `(0, 1)`.
fn check_tol(tol: f64) -> Result<()> {
    if tol.is_finite() && tol > 0.0 && tol < 1.0 {
        Ok(())
    } else {
        Err(crate::error::invalid("tol", tol, "must be a number in (0, 1)"))
    }
}

/// The propagator of the state itself for measurements holding `bytes_per_amplitude`
/// bytes per full-space amplitude: `Plan::new(.., Request::States { .. })` then
/// [`Plan::state_propagator`].
///
/// # Errors
/// As [`Plan::new`] and [`Plan::state_propagator`].
pub fn plan_states(
    chain: &Chain,
    solver: Solver,
    tol: f64,
    precision: Precision,
    bytes_per_amplitude: f64,
) -> Result<Box<dyn StatePropagator>> {
    Plan::new(chain, solver, tol, precision, Request::States { bytes_per_amplitude })?.state_propagator(chain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Couplings;
    use crate::observe::trajectory::OBSERVABLE_BYTES_PER_AMPLITUDE;

    const STATES: Request = Request::States { bytes_per_amplitude: OBSERVABLE_BYTES_PER_AMPLITUDE };

    #[test]
    fn plans_pick_the_method_and_space_and_count_every_buffer_once() {
        // mirror-symmetric, N = 14: Chebyshev in the reflection-even sector for both requests
        let chain = Chain::builder(14).couplings(Couplings::NearestNeighbour).alpha(0.3).build().unwrap();
        let work = Plan::new(&chain, Solver::Auto, 1e-10, Precision::Double, Request::Work).unwrap();
        let states = Plan::new(&chain, Solver::Auto, 1e-10, Precision::Double, STATES).unwrap();
        for p in [&work, &states] {
            assert_eq!((p.solver(), p.space()), (Solver::Chebyshev, SpaceKind::ReflectionEven));
        }
        let full = 2f64.powi(14);
        assert_eq!(work.bytes(), memory::bytes_needed_with(&chain, Solver::Chebyshev, Precision::Double));
        let extra = (OBSERVABLE_BYTES_PER_AMPLITUDE + SECTOR_EXPANSION_BYTES_PER_AMPLITUDE) * full;
        assert!((states.bytes() - work.bytes() - extra).abs() < 1e-6, "states add the measurements and the expansion");
        // a plan for the work alone did not count states: it refuses to hand them out
        assert!(matches!(work.state_propagator(&chain), Err(SpinbatError::Unsupported { .. })));
        assert_eq!(states.state_propagator(&chain).unwrap().name(), "chebyshev");
        // single precision halves the states
        let single = Plan::new(&chain, Solver::Auto, 1e-10, Precision::Single, Request::Work).unwrap();
        assert!(single.bytes() < 0.7 * work.bytes());

        // all couplings equal: Dicke for the work, the full state (dense, N <= 10) for observables
        let chain = Chain::builder(9).couplings(Couplings::PowerLaw { p: 0.0 }).build().unwrap();
        let work = Plan::new(&chain, Solver::Auto, 1e-10, Precision::Double, Request::Work).unwrap();
        assert_eq!((work.solver(), work.space()), (Solver::Dicke, SpaceKind::Dicke));
        assert_eq!(work.propagator(&chain).unwrap().name(), "dicke");
        let states = Plan::new(&chain, Solver::Auto, 1e-10, Precision::Double, STATES).unwrap();
        assert_eq!((states.solver(), states.space()), (Solver::Dense, SpaceKind::Full));
    }

    #[test]
    fn plans_refuse_what_cannot_run_before_anything_is_allocated() {
        let chain = Chain::builder(6).build().unwrap();
        for tol in [0.0, -1.0, 1.0, f64::NAN] {
            assert!(matches!(
                Plan::new(&chain, Solver::Auto, tol, Precision::Double, Request::Work),
                Err(SpinbatError::InvalidParameter { name: "tol", .. })
            ));
        }
        assert!(matches!(
            Plan::new(&chain, Solver::Dense, 1e-10, Precision::Single, Request::Work),
            Err(SpinbatError::InvalidParameter { name: "precision", .. })
        ));
        assert!(matches!(
            Plan::new(&chain, Solver::WeakCoupling, 1e-10, Precision::Double, STATES),
            Err(SpinbatError::Unsupported { .. })
        ));
        let mf = Plan::new(&chain, Solver::MeanField, 1e-10, Precision::Double, STATES).unwrap();
        assert_eq!(mf.space(), SpaceKind::None);
        assert!(matches!(mf.state_propagator(&chain), Err(SpinbatError::Unsupported { .. })));
        // 2^44 amplitudes fit no machine this runs on
        let huge = Chain::builder(44).build().unwrap();
        assert!(matches!(
            Plan::new(&huge, Solver::Chebyshev, 1e-10, Precision::Double, Request::Work),
            Err(SpinbatError::TooLarge { .. })
        ));
    }
}
