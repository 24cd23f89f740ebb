//! Grid sweeps: several parameters varied at once (the Cartesian product of [`Sweep`]s),
//! each point run with several solvers, each (point, solver) a [`Job`] with a stable key.
//!
//! A study is a base chain, a [`Grid`], solvers and [`ScanOptions`] ([`GridStudy`]), and
//! optionally observables along each job's trajectory ([`GridStudy::with_observables`]), and
//! optionally the open battery: noise while charging, fixed or varied as grid parameters
//! ([`GridStudy::new_open`]: each point's `charge` on the density matrix, as
//! [`super::scan_noisy`] runs it). Its
//! jobs come in a fixed order: points with the first parameter varying slowest, and for
//! each point the solvers in the order given. Every finished job is a [`PointRecord`]: the
//! point's values, the figures of merit of [`ScanRow`], the observables' summary if asked
//! for ([`ObservableSummary`]), the key, the study's settings hash and provenance. The runner hands each record to a sink as soon as it exists, so a caller
//! can store it at once and resume a killed study by skipping the keys it has.
//!
//! ```
//! use spinbat::study::{Grid, GridStudy, ScanOptions, ScanSolver, Sweep};
//! use spinbat::{Chain, Silent};
//! use std::ops::ControlFlow;
//! use std::sync::Mutex;
//!
//! let grid = Grid::new(vec!["n=2..3".parse()?, "alpha=0,1".parse()?])?;
//! let options = ScanOptions { max_work: false, ..ScanOptions::default() };
//! let study = GridStudy::new(Chain::builder(2).build()?, grid, vec![ScanSolver::QUANTUM], options)?;
//! let jobs = study.jobs();
//! assert_eq!(jobs[1].key, "n=2,alpha=1|quantum");
//! let records = Mutex::new(Vec::new());
//! study.run(&jobs, &|_job, record| {
//!     records.lock().unwrap().push(record.unwrap());
//!     ControlFlow::Continue(())
//! }, &Silent);
//! assert_eq!(records.into_inner().unwrap().len(), 4);
//! # Ok::<(), spinbat::SpinbatError>(())
//! ```

use super::observables::{self, ObservableSummary, ObserveOptions};
use super::scan::{default_window, for_each_job, point, point_planned, ScanOptions, ScanRow, ScanSolver};
use super::sweep::{Parameter, Sweep};
use crate::error::{invalid, Result, SpinbatError};
use crate::model::{Chain, Protocol, ProtocolSpec};
use crate::observe::trajectory::ObservableSet;
use crate::open::Noise;
use crate::propagate::{self, memory, Plan, Precision, Request, Solver};
use crate::record::Provenance;
use crate::Progress;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Most points one grid may hold (a product of sweeps grows fast; a typo is refused, not run).
pub const MAX_GRID_POINTS: usize = 100_000;

/// Version of the settings that [`settings_hash`] covers; bump it when the meaning of a
/// record changes, so that old records are not reused.
const HASH_FORMAT: u32 = 1;

/// Several parameters varied together: every combination of their values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grid {
    sweeps: Vec<Sweep>,
}

impl Grid {
    /// The grid of all combinations of `sweeps`' values; the first sweep varies slowest.
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for no sweep, a parameter varied twice, or more
    /// than [`MAX_GRID_POINTS`] points.
    pub fn new(sweeps: Vec<Sweep>) -> Result<Self> {
        if sweeps.is_empty() {
            return Err(invalid("sweep", "{}", "vary at least one parameter"));
        }
        for (k, s) in sweeps.iter().enumerate() {
            if sweeps[..k].iter().any(|t| t.parameter == s.parameter) {
                return Err(invalid("sweep", s.parameter, "this parameter is varied twice"));
            }
        }
        let len = sweeps.iter().try_fold(1usize, |acc, s| acc.checked_mul(s.values.len()));
        match len {
            Some(len) if len <= MAX_GRID_POINTS => Ok(Grid { sweeps }),
            _ => Err(invalid(
                "sweep",
                sweeps.iter().map(|s| s.values.len().to_string()).collect::<Vec<_>>().join(" x "),
                format!("more than {MAX_GRID_POINTS} points"),
            )),
        }
    }

    /// The sweeps, slowest first.
    pub fn sweeps(&self) -> &[Sweep] {
        &self.sweeps
    }

    /// The varied parameters, slowest first.
    pub fn parameters(&self) -> Vec<Parameter> {
        self.sweeps.iter().map(|s| s.parameter).collect()
    }

    /// Number of points (the product of the sweeps' lengths).
    pub fn len(&self) -> usize {
        self.sweeps.iter().map(|s| s.values.len()).product()
    }

    /// Always `false`: a grid has at least one point.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Point number `index` (`0 ≤ index < len`): mixed-radix digits, the last sweep fastest.
    ///
    /// # Panics
    /// If `index ≥ len()`.
    pub fn point(&self, index: usize) -> Point {
        assert!(index < self.len(), "point {index} of a grid of {}", self.len());
        let mut rest = index;
        let mut values = vec![(Parameter::N, 0.0); self.sweeps.len()];
        for (slot, s) in values.iter_mut().zip(&self.sweeps).rev() {
            let k = rest % s.values.len();
            rest /= s.values.len();
            *slot = (s.parameter, s.values[k]);
        }
        Point(values)
    }

    /// Every point, in order.
    pub fn points(&self) -> impl Iterator<Item = Point> + '_ {
        (0..self.len()).map(|k| self.point(k))
    }
}

/// One point of a grid: the value of each varied parameter, slowest first. Serialised as a
/// JSON object in that order (`{"n": 8.0, "alpha": 0.5}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Point(Vec<(Parameter, f64)>);

impl Point {
    /// A point from its values, in grid order.
    pub fn new(values: Vec<(Parameter, f64)>) -> Self {
        Point(values)
    }

    /// The values, in grid order.
    pub fn values(&self) -> &[(Parameter, f64)] {
        &self.0
    }

    /// The value of `parameter`, if varied.
    pub fn get(&self, parameter: Parameter) -> Option<f64> {
        self.0.iter().find(|(p, _)| *p == parameter).map(|&(_, v)| v)
    }

    /// `name=value` pairs joined by `,` (`n=8,alpha=0.5`), values in Rust's shortest
    /// round-trip form (`-0` written `0`): equal points have equal keys, on any machine.
    pub fn key(&self) -> String {
        self.0.iter().map(|(p, v)| format!("{p}={}", if *v == 0.0 { 0.0 } else { *v })).collect::<Vec<_>>().join(",")
    }

    /// `base` with every varied noise setting ([`Parameter::is_noise`]) set to this
    /// point's value (unchecked: [`Noise::check`] with the chain's field).
    pub fn noise(&self, base: &Noise) -> Noise {
        self.0.iter().fold(*base, |noise, &(p, v)| p.apply_noise(noise, v))
    }

    /// `base` with every varied parameter set to this point's value.
    ///
    /// # Errors
    /// The builder's error for an invalid combination (e.g. `N = 0`, `p` on
    /// nearest-neighbour couplings, a matrix of another size than `N`).
    pub fn chain(&self, base: &Chain) -> Result<Chain> {
        let mut builder = base.to_builder();
        for &(p, v) in self.0.iter().filter(|(p, _)| !p.is_field()) {
            builder = p.apply(builder, base.couplings(), v)?;
        }
        builder.build()
    }

    /// This point's charging protocol: `spec` with the drive settings the grid varies
    /// ([`Parameter::FIELD`]) taken from the point, about the point's field `omega`
    /// (`ω(t) = ω + A cos(νt)`); `None` for the constant field.
    ///
    /// # Errors
    /// As [`ProtocolSpec::build`]: a drive amplitude without a frequency (or the reverse),
    /// a drive together with a schedule, a frequency `< 0`.
    pub fn protocol(&self, spec: &ProtocolSpec, omega: f64) -> Result<Option<Protocol>> {
        let mut spec = spec.clone();
        for &(p, v) in &self.0 {
            match p {
                Parameter::Drive => spec.drive = Some(v),
                Parameter::DriveFrequency => spec.drive_frequency = Some(v),
                _ => {}
            }
        }
        spec.build(omega)
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

impl Serialize for Point {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (p, v) in &self.0 {
            map.serialize_entry(p.as_str(), v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct PointVisitor;
        impl<'de> Visitor<'de> for PointVisitor {
            type Value = Point;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map from parameter names to numbers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Point, A::Error> {
                let mut values = Vec::new();
                while let Some((p, v)) = map.next_entry::<Parameter, f64>()? {
                    values.push((p, v));
                }
                Ok(Point(values))
            }
        }
        deserializer.deserialize_map(PointVisitor)
    }
}

/// The key of a (point, solver) job: `"n=8,alpha=0.5|quantum"`.
pub fn job_key(point: &Point, solver: &str) -> String {
    format!("{}|{solver}", point.key())
}

/// One (point, solver) of a study.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Position in [`GridStudy::jobs`]: `point_index · solvers + solver index`.
    pub index: usize,
    /// Position of the point in the grid.
    pub point_index: usize,
    /// The point.
    pub point: Point,
    /// The solver.
    pub solver: ScanSolver,
    /// [`job_key`] of point and solver.
    pub key: String,
}

/// One finished job: what [`GridStudy::run`] hands to its sink, and one line of a study's
/// records file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointRecord {
    /// [`job_key`]: the point and the solver label.
    pub key: String,
    /// [`settings_hash`] of the study that made it.
    pub study: String,
    /// The settings that hash covers ([`settings`]), so that a refused file can say which
    /// key changed ([`settings_diff`]). Absent in records written before spinbat stored them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<serde_json::Value>,
    /// The varied parameters' values.
    pub point: Point,
    /// The figures of merit; `value` is the first varied parameter's value.
    #[serde(flatten)]
    pub row: ScanRow,
    /// The observables along the trajectory, for a study that asks for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observables: Option<ObservableSummary>,
    /// Version, git revision, time and threads of the run that made this record.
    pub provenance: Provenance,
}

/// A grid study: base chain, grid, solvers and numerics, all checked.
#[derive(Debug, Clone, PartialEq)]
pub struct GridStudy {
    base: Chain,
    grid: Grid,
    solvers: Vec<ScanSolver>,
    options: ScanOptions,
    observe: Option<ObserveOptions>,
    /// the noise while charging (its varied settings from each point)
    noise: Noise,
    /// the time-dependent field (its varied drive settings from each point)
    protocol: ProtocolSpec,
    settings: serde_json::Value,
    hash: String,
}

impl GridStudy {
    /// Checks the options, every point's chain and every (chain, solver): the memory it
    /// needs, and for `dicke` that the couplings are permutation-symmetric. Nothing runs.
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for bad options, no solver, an invalid chain or
    /// a noise setting among the swept parameters ([`Parameter::is_noise`]: a grid study is
    /// of the closed battery); [`SpinbatError::TooLarge`] or [`SpinbatError::Unsupported`]
    /// for a solver that cannot run a point.
    pub fn new(base: Chain, grid: Grid, solvers: Vec<ScanSolver>, options: ScanOptions) -> Result<Self> {
        if let Some(p) = grid.parameters().into_iter().find(Parameter::is_noise) {
            return Err(invalid(
                "sweep",
                p.as_str(),
                "a noise rate is varied: make an open-battery study (GridStudy::new_open, [noise] in a study file)",
            ));
        }
        Self::build(base, grid, solvers, options, Noise::default(), ProtocolSpec::default())
    }

    /// A study of the open battery: every point charges under `noise` while charging, with
    /// the noise settings the grid varies ([`Parameter::NOISE`]) taken from the point; a
    /// point with noise is the `charge` of the density matrix (on the Dicke states for
    /// `p = 0` with collective decay only), certified with the open battery's work bound,
    /// as [`super::scan_noisy`] runs it; a point whose rates are all zero runs the closed
    /// battery's solver. The settings (and so the hash) gain `noise`, without its varied
    /// settings; a closed study hashes as [`GridStudy::new`]'s.
    ///
    /// # Errors
    /// As [`GridStudy::new`]; a refused noise setting at some point ([`Noise::check`]); a
    /// solver of the closed battery, or trajectories, at a point with noise
    /// ([`SpinbatError::Unsupported`]).
    pub fn new_open(
        base: Chain,
        noise: Noise,
        grid: Grid,
        solvers: Vec<ScanSolver>,
        options: ScanOptions,
    ) -> Result<Self> {
        Self::build(base, grid, solvers, options, noise, ProtocolSpec::default())
    }

    /// A study charging with a time-dependent field: `protocol` (a field schedule, or a
    /// drive `ω(t) = ω + A cos(νt)` about each point's `ω`) with the drive settings the grid
    /// varies ([`Parameter::FIELD`]) taken from the point ([`Point::protocol`]); each job
    /// is the certified charge of [`Plan::protocol_propagator`], as `spinbat charge
    /// --omega-schedule / --drive` runs it. A point whose field is constant (`A = 0`) is the
    /// static charge. The settings (and so the hash) gain `protocol`, without its varied
    /// settings; an empty `protocol` with no drive varied hashes as [`GridStudy::new_open`]'s.
    ///
    /// # Errors
    /// As [`GridStudy::new_open`]; [`SpinbatError::InvalidParameter`] for a protocol that
    /// does not pair up at some point ([`ProtocolSpec::build`]) or a `window` past a
    /// schedule's end; [`SpinbatError::Unsupported`] for a time-dependent field with noise,
    /// with the generalised charging (`gamma`, `omega_sites`, `keep_field`) or with a
    /// method other than dense, chebyshev, dicke and mean field.
    pub fn new_driven(
        base: Chain,
        noise: Noise,
        protocol: ProtocolSpec,
        grid: Grid,
        solvers: Vec<ScanSolver>,
        options: ScanOptions,
    ) -> Result<Self> {
        Self::build(base, grid, solvers, options, noise, protocol)
    }

    /// Whether the points charge with a time-dependent field (one given or a drive
    /// setting varied).
    pub fn is_driven(&self) -> bool {
        !self.protocol.is_empty() || self.grid.parameters().iter().any(Parameter::is_field)
    }

    /// The time-dependent field (the varied drive settings come from each point).
    pub fn protocol(&self) -> &ProtocolSpec {
        &self.protocol
    }

    /// Checks a point's protocol: its noise is closed, its chain charges as the paper
    /// does, its methods step a time-dependent field, its window lies within a schedule.
    fn check_protocol(
        chain: &Chain,
        point: &Point,
        protocol: &Protocol,
        noise: &Noise,
        solvers: &[ScanSolver],
        options: &ScanOptions,
    ) -> Result<()> {
        if let (Some(end), Some(w)) = (protocol.end(), options.window) {
            if options.max_work && w > end {
                return Err(invalid(
                    "window",
                    w,
                    format!("is past the end of the field schedule at t = {end} (the charge ends there)"),
                ));
            }
        }
        if protocol.is_static() {
            return Ok(());
        }
        let refuse = |solver: &'static str, reason: String| SpinbatError::Unsupported { solver, reason };
        if !noise.is_closed() {
            return Err(refuse(
                "study",
                format!("point {point}: a time-dependent field charges the closed battery from all-down only"),
            ));
        }
        if !chain.has_paper_charging() {
            return Err(refuse(
                "study",
                format!(
                    "point {point}: a time-dependent field is not combined with {} yet",
                    chain.charging_extensions()
                ),
            ));
        }
        for s in solvers {
            let method = propagate::resolve(chain, s.solver);
            if !matches!(method, Solver::Dense | Solver::Chebyshev | Solver::Dicke | Solver::MeanField) {
                return Err(refuse(
                    method.as_str(),
                    "a time-dependent field runs with dense, chebyshev, dicke or mean-field".into(),
                ));
            }
        }
        Ok(())
    }

    fn build(
        base: Chain,
        grid: Grid,
        solvers: Vec<ScanSolver>,
        options: ScanOptions,
        noise: Noise,
        protocol: ProtocolSpec,
    ) -> Result<Self> {
        options.validate()?;
        if solvers.is_empty() {
            return Err(invalid("solvers", "[]", "name at least one solver"));
        }
        let mut checked = HashSet::new();
        for point in grid.points() {
            let chain = point.chain(&base)?;
            let point_noise = point.noise(&noise);
            point_noise.check_for(&chain)?;
            if let Some(p) = point.protocol(&protocol, chain.omega())? {
                Self::check_protocol(&chain, &point, &p, &point_noise, &solvers, &options)?;
            }
            for s in &solvers {
                if !point_noise.is_closed() {
                    // the open battery: each point planned (small N, its memory known)
                    if s.solver == Solver::Trajectories {
                        return Err(SpinbatError::Unsupported {
                            solver: "trajectories",
                            reason: "a study's points are certified charges; quantum trajectories give statistical \
                                     means (use 'spinbat charge --solver trajectories' for one point)"
                                .into(),
                        });
                    }
                    Plan::with_noise(&chain, s.solver, options.tol, Precision::Double, Request::Work, &point_noise)?;
                    continue;
                }
                let method = propagate::resolve(&chain, s.solver);
                if method == Solver::Dicke && !propagate::dicke::is_permutation_symmetric(&chain) {
                    return Err(SpinbatError::Unsupported {
                        solver: "dicke",
                        reason: format!("the couplings of point {point} are not all equal"),
                    });
                }
                // the memory needed depends on N, the method, the space and whether flip-flop
                // terms are stored (alpha != 0, the orbit space) only
                let key = (chain.n_sites(), method.as_str(), propagate::space_for(&chain), chain.alpha() == 0.0);
                if checked.insert(key) {
                    Plan::new(&chain, s.solver, options.tol, Precision::Double, Request::Work)?;
                }
            }
        }
        let mut study = GridStudy {
            base,
            grid,
            solvers,
            options,
            observe: None,
            noise,
            protocol,
            settings: serde_json::Value::Null,
            hash: String::new(),
        };
        study.settle();
        Ok(study)
    }

    /// Whether any point charges with noise (a noise rate set or varied).
    pub fn is_noisy(&self) -> bool {
        !self.noise.is_closed() || self.grid.parameters().iter().any(Parameter::is_noise)
    }

    /// The noise while charging (the varied settings come from each point).
    pub fn noise(&self) -> &Noise {
        &self.noise
    }

    /// [`settings`] of this study and their hash; with noise, `noise` without its varied
    /// settings.
    fn settle(&mut self) {
        let parameters = self.grid.parameters();
        let mut settings = settings(&self.base, &parameters, &self.options, self.observe.as_ref());
        if self.is_noisy() {
            let mut noise = serde_json::to_value(self.noise).unwrap_or(serde_json::Value::Null);
            if let Some(m) = noise.as_object_mut() {
                for p in parameters.iter().filter(|p| p.is_noise()) {
                    m.remove(p.as_str());
                }
            }
            if let Some(m) = settings.as_object_mut() {
                m.insert("noise".into(), noise);
            }
        }
        if self.is_driven() {
            let mut protocol = serde_json::to_value(&self.protocol).unwrap_or(serde_json::Value::Null);
            if let Some(m) = protocol.as_object_mut() {
                for p in parameters.iter().filter(|p| p.is_field()) {
                    m.remove(p.as_str());
                }
            }
            if let Some(m) = settings.as_object_mut() {
                m.insert("protocol".into(), protocol);
            }
        }
        self.hash = hash_settings(&settings);
        self.settings = settings;
    }

    /// The same study recording, for every job, the observables of `observe` along the
    /// trajectory on `[0, window]` ([`ObservableSummary`]). Checks every (point, solver)
    /// first: the cut, the memory of the full state, and that the solver has a state.
    /// The settings hash changes, so records without these observables are not reused.
    ///
    /// # Errors
    /// [`SpinbatError::InvalidParameter`] for an empty set, fewer than two points or a cut
    /// outside `1..N` of some point; [`SpinbatError::Unsupported`] for `weak-coupling`
    /// (no state) or a permutation-symmetric point too large for the full state;
    /// [`SpinbatError::TooLarge`] for a state that does not fit.
    pub fn with_observables(mut self, observe: ObserveOptions) -> Result<Self> {
        observe.validate()?;
        if self.is_driven() {
            return Err(SpinbatError::Unsupported {
                solver: "study",
                reason: "observables along the trajectory are not recorded with a time-dependent field yet".into(),
            });
        }
        if self.is_noisy() {
            return Err(SpinbatError::Unsupported {
                solver: "study",
                reason: "observables along the trajectory are recorded for the closed battery only; run \
                         'spinbat charge --observe ... --dephasing ...' for one point"
                    .into(),
            });
        }
        let mut checked = HashSet::new();
        for point in self.grid.points() {
            let chain = point.chain(&self.base)?;
            for s in &self.solvers {
                // the outcome depends on N, the solver and (Dicke beyond memory) the symmetry
                let key = (chain.n_sites(), s.solver.as_str(), propagate::dicke::is_permutation_symmetric(&chain));
                if checked.insert(key) {
                    observe.check(&chain, s.solver)?;
                }
            }
        }
        self.observe = Some(observe);
        self.settle();
        Ok(self)
    }

    /// The base chain (varied parameters take their values from the grid).
    pub fn base(&self) -> &Chain {
        &self.base
    }
    /// The grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }
    /// The solvers, in job order.
    pub fn solvers(&self) -> &[ScanSolver] {
        &self.solvers
    }
    /// The numerics.
    pub fn options(&self) -> &ScanOptions {
        &self.options
    }
    /// The observables recorded per job, if any.
    pub fn observables(&self) -> Option<&ObserveOptions> {
        self.observe.as_ref()
    }
    /// [`settings_hash`] of this study.
    pub fn hash(&self) -> &str {
        &self.hash
    }
    /// The settings [`GridStudy::hash`] covers ([`settings`]); stored in every record.
    pub fn settings(&self) -> &serde_json::Value {
        &self.settings
    }

    /// Every job, points × solvers, in the fixed order (first parameter slowest, solvers
    /// fastest).
    pub fn jobs(&self) -> Vec<Job> {
        let mut jobs = Vec::with_capacity(self.grid.len() * self.solvers.len());
        for (point_index, point) in self.grid.points().enumerate() {
            for s in &self.solvers {
                let key = job_key(&point, s.label);
                jobs.push(Job { index: jobs.len(), point_index, point: point.clone(), solver: *s, key });
            }
        }
        jobs
    }

    /// Runs one job: `P_max`, `T*`, maximal work ... of its chain with its solver, as
    /// [`super::scan`] computes them, and the observables if the study asks for them.
    ///
    /// # Errors
    /// The chain's or the solver's error (e.g. [`SpinbatError::NotConverged`]).
    pub fn run_job(&self, job: &Job) -> Result<PointRecord> {
        let chain = job.point.chain(&self.base)?;
        let value = job.point.values().first().map_or(0.0, |&(_, v)| v);
        let noise = job.point.noise(&self.noise);
        let protocol = job.point.protocol(&self.protocol, chain.omega())?;
        let row = if let Some(protocol) = protocol {
            point_driven(value, &chain, job.solver, &self.options, &protocol)?
        } else if noise.is_closed() {
            point(value, &chain, job.solver, &self.options)?
        } else {
            noise.check_for(&chain)?;
            let plan = Plan::with_noise(
                &chain,
                job.solver.solver,
                self.options.tol,
                Precision::Double,
                Request::Work,
                &noise,
            )?;
            point_planned(value, &chain, job.solver, &self.options, &plan)?
        };
        let observables = match &self.observe {
            Some(o) => {
                let window = self.options.window.unwrap_or_else(|| default_window(&chain));
                Some(observables::summarise_observables(&chain, job.solver.solver, window, o, self.options.tol)?)
            }
            None => None,
        };
        Ok(PointRecord {
            key: job.key.clone(),
            study: self.hash.clone(),
            settings: Some(self.settings.clone()),
            point: job.point.clone(),
            row,
            observables,
            provenance: Provenance::current(),
        })
    }

    /// Runs `jobs` and hands each result to `sink` as soon as it exists (from a worker
    /// thread; calls may come concurrently). Small jobs run in parallel, large ones one at
    /// a time, as in [`super::scan`]. When `sink` answers [`ControlFlow::Break`], jobs not
    /// yet started are skipped. `progress` receives the number of finished jobs. Returns
    /// the number of jobs that ran.
    pub fn run(
        &self,
        jobs: &[Job],
        sink: &(dyn Fn(&Job, Result<PointRecord>) -> ControlFlow<()> + Sync),
        progress: &dyn Progress,
    ) -> usize {
        let total = jobs.len() as f64;
        let done = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        progress.update(0.0, total);
        let bytes = |k: usize| {
            job_chain_bytes(&self.base, &self.noise, &jobs[k], self.options.tol, self.observe.as_ref()).unwrap_or(0.0)
            // an invalid chain fails fast in run_job
        };
        for_each_job(jobs.len(), bytes, |k| {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let record = self.run_job(&jobs[k]);
            if sink(&jobs[k], record).is_break() {
                stop.store(true, Ordering::Relaxed);
            }
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress.update(d as f64, total);
        });
        done.into_inner()
    }
}

/// A point charged with a time-dependent field: [`point`]'s row from
/// [`Plan::protocol_propagator`]; the maximal-work window defaults to a schedule's end
/// (else [`default_window`]).
fn point_driven(
    value: f64,
    chain: &Chain,
    s: ScanSolver,
    options: &ScanOptions,
    protocol: &Protocol,
) -> Result<ScanRow> {
    let start = std::time::Instant::now();
    let window = options.max_work.then(|| options.window.or(protocol.end()).unwrap_or_else(|| default_window(chain)));
    let plan = Plan::new(chain, s.solver, options.tol, Precision::Double, Request::Work)?;
    let prop = plan.protocol_propagator(chain, protocol)?;
    drop(plan);
    super::scan::row_of(value, chain, s, window, prop, start)
}

/// The memory a job needs: its propagator (the density matrix's with noise), or its
/// trajectory when observed (one after the other).
fn job_chain_bytes(base: &Chain, noise: &Noise, job: &Job, tol: f64, observe: Option<&ObserveOptions>) -> Result<f64> {
    let chain = job.point.chain(base)?;
    let noise = job.point.noise(noise);
    if !noise.is_closed() {
        return Ok(Plan::with_noise(&chain, job.solver.solver, tol, Precision::Double, Request::Work, &noise)?.bytes());
    }
    let scan = memory::bytes_needed(&chain, job.solver.solver);
    Ok(observe.map_or(scan, |o| scan.max(o.bytes_needed(&chain, job.solver.solver))))
}

/// A hash (16 hex digits, FNV-1a 64) of everything besides the varied parameters' values
/// and the solver that decides a job's result: the base chain without the varied
/// parameters (its matrix included), `tol`, `window`, `max_work`, the observables (set,
/// cut, points) when there are any, and a format version ([`settings`], hashed by
/// [`hash_settings`]).
///
/// Together with a job's key it identifies the computation, so records can be reused
/// safely: a changed model, tolerance or list of observables changes the hash, while
/// adding values to a sweep or a solver to the list does not. A study without observables
/// hashes as before they existed, so its records stay valid.
pub fn settings_hash(
    base: &Chain,
    parameters: &[Parameter],
    options: &ScanOptions,
    observe: Option<&ObserveOptions>,
) -> String {
    hash_settings(&settings(base, parameters, options, observe))
}

/// The settings [`settings_hash`] covers, as a JSON object: `format`, `model` (the base
/// chain as serialised, without the varied parameters: `n_sites`, `b`, `g`, `alpha`,
/// `omega`, `couplings {kind, p | m}`, `boundary`), `tol`, `window`, `max_work` and, when
/// observed, `observe {set {entanglement, bloch, zz, variance, cut}, points}`.
pub fn settings(
    base: &Chain,
    parameters: &[Parameter],
    options: &ScanOptions,
    observe: Option<&ObserveOptions>,
) -> serde_json::Value {
    let mut model = serde_json::to_value(base).unwrap_or(serde_json::Value::Null);
    if let Some(m) = model.as_object_mut() {
        for p in parameters {
            match p {
                Parameter::N => m.remove("n_sites"),
                Parameter::P => m.get_mut("couplings").and_then(|c| c.as_object_mut()).and_then(|c| c.remove("p")),
                other => m.remove(other.as_str()),
            };
        }
    }
    let mut settings = serde_json::json!({
        "format": HASH_FORMAT,
        "model": model,
        "tol": options.tol,
        "window": options.window,
        "max_work": options.max_work,
    });
    if let (Some(o), Some(m)) = (observe, settings.as_object_mut()) {
        m.insert("observe".into(), serde_json::to_value(o).unwrap_or(serde_json::Value::Null));
    }
    settings
}

/// The hash of [`settings_hash`] from the settings object itself (keys in sorted order,
/// so the layout of the JSON does not matter).
pub fn hash_settings(settings: &serde_json::Value) -> String {
    let mut text = String::new();
    canonical(settings, &mut text);
    // FNV-1a, 64 bit: stable across platforms and Rust versions (unlike DefaultHasher)
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// What changed between the [`settings`] of stored records (`file`) and those of a study
/// (`this`), one line per key in the study file's terms:
/// `[model] alpha: 0.5 in the file, 0.3 in this study`. Empty when they are equal.
///
/// Keys are named as in a study file (`n_sites` is `[model] n`, `couplings.kind`
/// `[model] coupling`, `observe.set` `[run] observe`, `observe.points` `[run] points`); a
/// key present on one side only is "not set" on the other (then the default applies,
/// or the parameter is varied in that study); a coupling matrix is summarised by how many
/// entries differ.
pub fn settings_diff(file: &serde_json::Value, this: &serde_json::Value) -> Vec<String> {
    let (a, b) = (leaves(file), leaves(this));
    let observed = |s: &BTreeMap<String, serde_json::Value>| s.keys().any(|k| k.starts_with("observe."));
    let (a_observed, b_observed) = (observed(&a), observed(&b));
    let mut out = Vec::new();
    let mut set_changed = false;
    let paths: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for path in paths {
        let (x, y) = (a.get(path.as_str()), b.get(path.as_str()));
        if x == y {
            continue;
        }
        if let Some(rest) = path.strip_prefix("observe.") {
            // observed on one side only: one line for the whole set
            if !(a_observed && b_observed) || (rest.starts_with("set.") && rest != "set.cut") {
                set_changed = true;
                continue;
            }
        }
        if path == "model.couplings.m" {
            if let (Some(serde_json::Value::Array(x)), Some(serde_json::Value::Array(y))) = (x, y) {
                let (x, y) = (entries(x), entries(y));
                if x.len() == y.len() {
                    let differ = x.iter().zip(&y).filter(|(u, v)| u != v).count();
                    out.push(format!("[model] matrix: {differ} of {} entries differ", x.len()));
                    continue;
                }
            }
        }
        out.push(format!("{}: {} in the file, {} in this study", label(path), show(path, x), show(path, y)));
    }
    if set_changed {
        let list = |s: &BTreeMap<String, serde_json::Value>, observed: bool| {
            if !observed {
                return "none".to_string();
            }
            let names: Vec<String> = ObservableSet::NAMES
                .iter()
                .filter(|n| s.get(&format!("observe.set.{n}")) == Some(&serde_json::Value::Bool(true)))
                .map(|n| format!("\"{n}\""))
                .collect();
            format!("[{}]", names.join(", "))
        };
        out.push(format!(
            "[run] observe: {} in the file, {} in this study",
            list(&a, a_observed),
            list(&b, b_observed)
        ));
    }
    out
}

/// The entries of a matrix (an array of rows), row by row.
fn entries(rows: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    rows.iter()
        .flat_map(|row| match row {
            serde_json::Value::Array(r) => r.iter().collect::<Vec<_>>(),
            other => vec![other],
        })
        .collect()
}

/// Every leaf of a JSON object by its dotted path (arrays are leaves).
fn leaves(v: &serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    fn walk(v: &serde_json::Value, prefix: &str, out: &mut BTreeMap<String, serde_json::Value>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(x, &path, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(v, "", &mut out);
    out
}

/// A settings path in the study file's terms: `model.n_sites` → `[model] n`.
fn label(path: &str) -> String {
    match path {
        "format" => "record format".to_string(),
        "model.n_sites" => "[model] n".to_string(),
        "model.couplings.kind" => "[model] coupling".to_string(),
        "model.couplings.p" => "[model] p".to_string(),
        "observe.points" => "[run] points".to_string(),
        "observe.set.cut" => "[run] cut".to_string(),
        "protocol.drive" => "[drive] amplitude".to_string(),
        "protocol.drive_frequency" => "[drive] frequency".to_string(),
        p if p.starts_with("protocol.omega_schedule") => "[model] omega_schedule".to_string(),
        p => match (p.strip_prefix("model."), p.strip_prefix("noise.")) {
            (Some(key), _) => format!("[model] {key}"),
            (_, Some(key)) => format!("[noise] {key}"),
            _ => format!("[run] {p}"),
        },
    }
}

/// A settings value as a study file writes it; `None` (absent) is "not set".
fn show(path: &str, v: Option<&serde_json::Value>) -> String {
    match (path, v) {
        (_, None) => "not set".to_string(),
        ("model.couplings.kind", Some(serde_json::Value::String(k))) if k == "nearest-neighbour" => "\"nn\"".into(),
        ("window", Some(serde_json::Value::Null)) => "not set (2 pi / omega)".to_string(),
        ("observe.set.cut", Some(serde_json::Value::Null)) => "not set (N/2)".to_string(),
        (p, Some(serde_json::Value::Array(v))) if p.starts_with("protocol.omega_schedule") => {
            format!("a schedule of {} segments", v.len())
        }
        (_, Some(serde_json::Value::Array(rows))) => format!("a {}-row matrix", rows.len()),
        (_, Some(x)) => x.to_string(),
    }
}

/// JSON with object keys sorted, whatever serde_json's map type.
fn canonical(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (k, key) in keys.into_iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                canonical(&m[key], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(a) => {
            out.push('[');
            for (k, x) in a.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Couplings;

    fn grid(specs: &[&str]) -> Grid {
        Grid::new(specs.iter().map(|s| s.parse().unwrap()).collect()).unwrap()
    }

    #[test]
    fn points_come_first_parameter_slowest() {
        let g = grid(&["n=2..4", "alpha=0,0.5"]);
        assert_eq!(g.len(), 6);
        let keys: Vec<String> = g.points().map(|p| p.key()).collect();
        assert_eq!(
            keys,
            ["n=2,alpha=0", "n=2,alpha=0.5", "n=3,alpha=0", "n=3,alpha=0.5", "n=4,alpha=0", "n=4,alpha=0.5"]
        );
        assert_eq!(g.point(3).get(Parameter::Alpha), Some(0.5));
        assert_eq!(g.point(3).get(Parameter::G), None);
    }

    #[test]
    fn bad_grids_are_refused() {
        assert!(Grid::new(vec![]).is_err());
        assert!(Grid::new(vec!["n=2..3".parse().unwrap(), "n=4".parse().unwrap()]).is_err());
        let big = Sweep::new(Parameter::G, (0..1000).map(f64::from).collect()).unwrap();
        assert!(Grid::new(vec![big.clone(), Sweep { parameter: Parameter::B, ..big }]).is_err());
    }

    #[test]
    fn keys_are_stable_and_negative_zero_is_zero() {
        let p = Point::new(vec![(Parameter::Alpha, -0.0), (Parameter::G, 0.1), (Parameter::N, 8.0)]);
        assert_eq!(job_key(&p, "mean-field"), "alpha=0,g=0.1,n=8|mean-field");
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"alpha":-0.0,"g":0.1,"n":8.0}"#);
        let back: Point = serde_json::from_str(&json).unwrap();
        assert_eq!(back.key(), p.key());
    }

    #[test]
    fn the_hash_ignores_varied_parameters_and_solvers_but_not_the_rest() {
        let base = Chain::builder(4).build().unwrap();
        let opts = ScanOptions::default();
        let h = |chain: &Chain, params: &[Parameter], o: &ScanOptions| settings_hash(chain, params, o, None);
        let other_n = Chain::builder(6).build().unwrap();
        assert_eq!(h(&base, &[Parameter::N], &opts), h(&other_n, &[Parameter::N], &opts));
        assert_ne!(h(&base, &[Parameter::Alpha], &opts), h(&other_n, &[Parameter::Alpha], &opts));
        let other_p = base.to_builder().couplings(Couplings::PowerLaw { p: 2.0 }).build().unwrap();
        assert_eq!(h(&base, &[Parameter::P], &opts), h(&other_p, &[Parameter::P], &opts));
        assert_ne!(h(&base, &[Parameter::N], &opts), h(&other_p, &[Parameter::N], &opts));
        let tighter = ScanOptions { tol: 1e-12, ..opts };
        assert_ne!(h(&base, &[Parameter::N], &opts), h(&base, &[Parameter::N], &tighter));
        assert_eq!(h(&base, &[Parameter::N], &opts).len(), 16);
        // observables: absent hashes as before; each change of them is a new study
        let watch = |s: &str| ObserveOptions::new(s.parse().unwrap());
        let with = |o: &ObserveOptions| settings_hash(&base, &[Parameter::N], &opts, Some(o));
        let plain = h(&base, &[Parameter::N], &opts);
        let entropy = with(&watch("entanglement"));
        assert_ne!(entropy, plain);
        assert_ne!(entropy, with(&watch("entanglement,variance")));
        assert_ne!(entropy, with(&ObserveOptions { points: 101, ..watch("entanglement") }));
        assert_ne!(entropy, with(&ObserveOptions { set: watch("entanglement").set.with_cut(1), points: 201 }));
        assert_eq!(entropy, with(&watch("entropy")));
    }

    #[test]
    fn the_settings_diff_names_each_changed_key_as_a_study_file_does() {
        let base = Chain::builder(4).alpha(0.5).build().unwrap();
        let opts = ScanOptions::default();
        let s = |c: &Chain, o: &ScanOptions, obs: Option<&ObserveOptions>| settings(c, &[Parameter::N], o, obs);
        let plain = s(&base, &opts, None);
        assert_eq!(hash_settings(&plain), settings_hash(&base, &[Parameter::N], &opts, None));
        assert!(settings_diff(&plain, &plain).is_empty());
        // the varied N is not a setting; alpha is
        let other = base.to_builder().n_sites(6).alpha(0.3).build().unwrap();
        assert_eq!(
            settings_diff(&plain, &s(&other, &opts, None)),
            ["[model] alpha: 0.5 in the file, 0.3 in this study"]
        );
        let run = ScanOptions { tol: 1e-8, window: Some(2.0), ..opts };
        assert_eq!(
            settings_diff(&plain, &s(&base, &run, None)),
            [
                "[run] tol: 1e-10 in the file, 1e-8 in this study",
                "[run] window: not set (2 pi / omega) in the file, 2.0 in this study"
            ]
        );
        let nn = base.to_builder().couplings(Couplings::NearestNeighbour).build().unwrap();
        assert_eq!(
            settings_diff(&plain, &s(&nn, &opts, None)),
            [
                "[model] coupling: \"power-law\" in the file, \"nn\" in this study",
                "[model] p: 1.0 in the file, not set in this study"
            ]
        );
        let watch = |t: &str| ObserveOptions::new(t.parse().unwrap());
        let entropy = s(&base, &opts, Some(&watch("entanglement")));
        assert_eq!(
            settings_diff(&plain, &entropy),
            ["[run] observe: none in the file, [\"entanglement\"] in this study"]
        );
        let both = ObserveOptions { points: 101, ..watch("entanglement,variance") };
        assert_eq!(
            settings_diff(&entropy, &s(&base, &opts, Some(&both))),
            [
                "[run] points: 201 in the file, 101 in this study",
                "[run] observe: [\"entanglement\"] in the file, [\"entanglement\", \"variance\"] in this study"
            ]
        );
        let m = |x: f64| vec![vec![0.0, x, 1.0], vec![x, 0.0, 1.0], vec![1.0, 1.0, 0.0]];
        let with_matrix = |x| Chain::builder(3).couplings(Couplings::Matrix { m: m(x) }).build().unwrap();
        let (a, b) = (settings(&with_matrix(1.0), &[], &opts, None), settings(&with_matrix(2.0), &[], &opts, None));
        assert_eq!(settings_diff(&a, &b), ["[model] matrix: 2 of 9 entries differ"]);
    }

    #[test]
    fn studies_check_every_point_before_running() {
        let base = Chain::builder(4).couplings(Couplings::NearestNeighbour).build().unwrap();
        let solvers = vec![ScanSolver::QUANTUM];
        let opts = ScanOptions::default();
        assert!(GridStudy::new(base.clone(), grid(&["n=2,0"]), solvers.clone(), opts).is_err());
        assert!(GridStudy::new(base.clone(), grid(&["p=1,2"]), solvers.clone(), opts).is_err());
        let dicke = vec![ScanSolver { label: "dicke", solver: Solver::Dicke }];
        assert!(matches!(
            GridStudy::new(base.clone(), grid(&["n=3"]), dicke, opts),
            Err(SpinbatError::Unsupported { .. })
        ));
        let bad_tol = ScanOptions { tol: 2.0, ..opts };
        assert!(GridStudy::new(base.clone(), grid(&["n=3"]), solvers.clone(), bad_tol).is_err());
        let study = GridStudy::new(base, grid(&["n=2..3", "g=0.5,1"]), solvers, opts).unwrap();
        let jobs = study.jobs();
        assert_eq!(jobs.len(), 4);
        assert_eq!(jobs[3].key, "n=3,g=1|quantum");
        assert_eq!(jobs[3].point_index, 3);
    }
}
