//! `spinbat.Chain`: a validated spin chain and the three computations on it (`charge`,
//! `max_power`, `work`).

use crate::charging::PyCharging;
use crate::errors::{invalid, to_py};
use numpy::ndarray::Array2;
use numpy::{AllowTypeChange, IntoPyArray, PyArray1, PyArray2, PyArrayLike1, PyArrayLikeDyn};
use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyType;
use spinbat::model::{MatrixSpec, Protocol, Schedule};
use spinbat::mps::{MpsReport, MpsSettings};
use spinbat::observe::trajectory::{self, ObservableSet};
use spinbat::observe::{self, Charging};
use spinbat::open::{Noise, Start};
use spinbat::propagate::{self, Precision, DEFAULT_TOL};
use spinbat::record::{ChargeRecord, ModelRecord, ObservablesRecord};
use spinbat::{Boundary, Chain, ChainSpec, CouplingKind, Couplings, Silent, Solver, SpinbatError};
use std::path::Path;
use std::time::Instant;

// the signatures below write the library's default tolerance as the literal 1e-10
const _: () = assert!(DEFAULT_TOL == 1e-10);
// and the library's model and output-grid defaults as literals too (Python shows them in
// help() and the stubs): a changed default fails to compile here
const _: () = {
    use spinbat::model::defaults as d;
    assert!(d::N_SITES == 8 && d::B == 1.0 && d::G == 1.0 && d::ALPHA == 0.0);
    assert!(d::OMEGA == 4.0 && d::P == 1.0 && d::POINTS == 201);
};

/// A spin-1/2 chain battery (Le et al., PRA 97, 022106 (2018)).
///
/// Units: hbar = 1, energies in units of the storage field B, times in units of 1/B.
///
/// Storage Hamiltonian
///     H0 = B sum_i Z_i - sum_{i<j} g_ij [Z_i Z_j + alpha (X_i X_j + Y_i Y_j)],
/// charging Hamiltonian (0 < t < T; the field B is off while charging)
///     H = H0 - B sum_i Z_i + omega sum_i X_i,
/// initial state all spins down, energy E0 = -N B - sum_{i<j} g_ij.
///
/// Parameters
/// ----------
/// n : int
///     Number of spins N >= 1 (the exact solvers need 2^N amplitudes; mean field takes
///     millions of sites).
/// b : float
///     Storage field B > 0 (single-spin level splitting 2B).
/// g : float
///     Coupling strength g >= 0; scales every coupling pattern, the matrix included.
/// alpha : float
///     Anisotropy: 0 Ising, 1 XXX (isotropic: charges like N independent spins).
/// omega : float
///     Transverse charging field omega > 0.
/// coupling : str
///     "power-law" (g_ij = g / d_ij^p; p = 0 all-to-all), "nn" or "nearest-neighbour"
///     (g_ij = g for d_ij = 1), or "matrix" (g_ij = g M_ij, needs `matrix`).
/// p : float
///     Power-law exponent p >= 0 (used by "power-law" only).
/// boundary : str
///     "open" (d_ij = |i - j|) or "periodic" (d_ij = min(|i - j|, N - |i - j|));
///     ignored for an explicit matrix.
/// matrix : array_like, optional
///     N x N coupling matrix M, symmetric with zero diagonal. Giving it implies
///     coupling="matrix" (as --matrix does on the command line).
///
/// Raises
/// ------
/// ValueError
///     A parameter out of its domain (N = 0, NaN, B <= 0, omega <= 0, g < 0, p < 0, unknown
///     coupling or boundary, malformed matrix), with the message `spinbat charge` prints.
///
/// Examples
/// --------
/// >>> import spinbat
/// >>> chain = spinbat.Chain(n=6, alpha=0.5, coupling="nn")
/// >>> result = chain.charge()
/// >>> result.max_power, result.t_star
#[pyclass(name = "Chain", module = "spinbat", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub struct PyChain {
    pub(crate) inner: Chain,
}

/// `(work, rate)` as float64 arrays.
type ArrayPair<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// The constructor's arguments `(n, b, g, alpha, omega, coupling, p, boundary, matrix)`.
type ChainArgs<'py> = (
    usize,
    f64,
    f64,
    f64,
    f64,
    &'static str,
    f64,
    &'static str,
    Option<Bound<'py, PyArray2<f64>>>,
    f64,
    Option<Vec<f64>>,
    bool,
);

/// Parses a coupling name (the CLI's `--coupling` values and the record's `kind`) with the
/// library's names ([`CouplingKind`]).
fn coupling_kind(name: &str) -> PyResult<CouplingKind> {
    name.parse::<CouplingKind>().map_err(to_py)
}

/// `matrix` as rows of floats: any array-like of shape `(N, N)` convertible to float64.
fn matrix_rows(matrix: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<f64>>> {
    let arr: PyArrayLikeDyn<'_, f64, AllowTypeChange> = matrix.extract().map_err(|e: PyErr| {
        to_py(SpinbatError::InvalidMatrix { reason: format!("cannot be read as an array of numbers ({e})") })
    })?;
    let view = arr.as_array();
    if view.ndim() != 2 {
        return Err(to_py(SpinbatError::InvalidMatrix {
            reason: format!("must be a 2-d N x N array, got {} dimension(s)", view.ndim()),
        }));
    }
    Ok(view.outer_iter().map(|row| row.iter().copied().collect()).collect())
}

/// Output times for `charge`: `times` as given, or `points` equally spaced in `[0, t_max]`
/// (`t_max` defaults to `2π/ω`). Same rules and messages as `spinbat charge`.
fn output_times(chain: &Chain, times: Option<Vec<f64>>, t_max: Option<f64>, points: i64) -> PyResult<Vec<f64>> {
    output_times_until(chain, times, t_max, points, None)
}

/// [`output_times`] for a charge that ends at `end` (a field schedule's last `t_end`):
/// `t_max` defaults to it, and no time may pass it (as `spinbat charge --omega-schedule`).
fn output_times_until(
    chain: &Chain,
    times: Option<Vec<f64>>,
    t_max: Option<f64>,
    points: i64,
    end: Option<f64>,
) -> PyResult<Vec<f64>> {
    if let (Some(t), Some(e)) = (t_max, end) {
        if t > e {
            return Err(PyValueError::new_err(format!(
                "t_max {t} is past the end of the omega_schedule at t = {e} (the charge ends there)"
            )));
        }
    }
    if let Some(times) = times {
        if t_max.is_some() {
            return Err(PyValueError::new_err("give either times or t_max (with points), not both"));
        }
        if times.is_empty() {
            return Err(PyValueError::new_err("times needs at least one time"));
        }
        propagate::check_times(&times).map_err(to_py)?;
        propagate::check_within(&times, end).map_err(to_py)?;
        return Ok(times);
    }
    let t_max = t_max.or(end).unwrap_or(spinbat::model::defaults::t_max(chain.omega()));
    if !(t_max.is_finite() && t_max > 0.0) {
        return Err(PyValueError::new_err(format!("invalid t_max {t_max}: must be a finite time > 0")));
    }
    if points < 2 {
        return Err(PyValueError::new_err(format!("points must be at least 2, got {points}")));
    }
    // the times, the samples, the curve and its three arrays: about 10 doubles per point
    let bytes = 80.0 * points as f64;
    if let Some(available) = spinbat::resources::bytes_available() {
        if bytes > available {
            return Err(PyMemoryError::new_err(format!(
                "points = {points} needs about {} but only {} is available",
                spinbat::error::human_bytes(bytes),
                spinbat::error::human_bytes(available)
            )));
        }
    }
    Ok(observe::uniform_times(t_max, points as usize))
}

/// A 1-d array-like of times as a vector.
fn times_vec(times: &PyArrayLike1<'_, f64, AllowTypeChange>) -> Vec<f64> {
    times.as_array().to_vec()
}

/// A solver name; `trajectories` (an ensemble, not one propagation) is refused with the
/// command that runs it.
fn parse_solver(solver: &str) -> PyResult<Solver> {
    match solver.parse::<Solver>().map_err(to_py)? {
        Solver::Trajectories => Err(PyValueError::new_err(
            "the trajectories solver is not available from Python yet: run `spinbat charge --solver trajectories \
             --trajectories K --seed S --dephasing G` (or use solver='density-matrix' here)",
        )),
        s => Ok(s),
    }
}

/// `Chain.charge(solver="trajectories")`: the mean over `K` quantum trajectories with its
/// standard errors (`to_dict()["series"]["work_stderr"]`, `to_dict()["trajectories"]`), and
/// with `observe` the mean Bloch vectors and the local ergotropy of the mean one-site states.
#[allow(clippy::too_many_arguments)]
fn charge_trajectories(
    py: Python<'_>,
    slf: &Bound<'_, PyChain>,
    times: &[f64],
    tol: f64,
    observe: Option<&str>,
    noise: &Noise,
    start: Start,
    trajectories: Option<i64>,
    seed: Option<u64>,
) -> PyResult<PyCharging> {
    let chain = &slf.get().inner;
    if noise.is_closed() && start.is_all_down(chain) {
        return Err(PyValueError::new_err(
            "solver='trajectories' needs noise (dephasing, decay [temperature]) or a thermal start: without it every \
             trajectory is the closed evolution; use the closed solvers",
        ));
    }
    let count = match trajectories {
        None => spinbat::observe::ensemble::DEFAULT_TRAJECTORIES,
        Some(k) if k >= 2 => k as usize,
        Some(k) => return Err(invalid("trajectories", k, "needs at least 2 (a standard error needs two)")),
    };
    let set = match observe {
        None => ObservableSet::default(),
        Some(list) => spinbat::observe::ensemble::trajectory_observables(list).map_err(to_py)?,
    };
    let seed = seed.unwrap_or(0);
    let (result, elapsed, initial_energy) = py
        .detach(|| {
            let clock = Instant::now();
            let plan = work_plan(chain, Solver::Trajectories, tol, noise, start, None)?;
            let unravelling = plan.unravelling(chain)?;
            let r = spinbat::observe::ensemble::charge_trajectories_observed(
                &unravelling,
                chain,
                noise,
                count,
                seed,
                times,
                &set,
                &Silent,
            )?;
            Ok::<_, SpinbatError>((r, clock.elapsed().as_secs_f64(), plan.gibbs().map(|g| g.energy())))
        })
        .map_err(to_py)?;
    let mut record = ChargeRecord::of_ensemble(chain, Solver::Trajectories, tol, &result, elapsed);
    if let Some(tr) = &result.observables {
        record = record.with_observables(ObservablesRecord::new(tr.clone(), elapsed));
    }
    record.noise = (!noise.is_closed()).then_some(*noise);
    record.initial_temperature = start.temperature();
    record.initial_energy = initial_energy;
    PyCharging::new(py, slf.clone().unbind(), &result.charging, &record)
}

/// The plan of the work from the start `initial` (a thermal start: the density matrix),
/// with the MPS settings where the solver is `mps`.
fn work_plan(
    chain: &Chain,
    solver: Solver,
    tol: f64,
    noise: &Noise,
    initial: Start,
    mps: Option<MpsSettings>,
) -> spinbat::Result<propagate::Plan> {
    let plan =
        propagate::Plan::with_start(chain, solver, tol, Precision::Double, propagate::Request::Work, noise, initial)?;
    match mps {
        Some(settings) => plan.with_mps(chain, settings),
        None => Ok(plan),
    }
}

/// `bond_dim`, `truncation`, `time_step` as the library's [`MpsSettings`] of a run with
/// `solver` (`None` for other solvers, which refuse them; the defaults for those not given).
fn mps_settings(
    solver: Solver,
    bond_dim: Option<i64>,
    truncation: Option<f64>,
    time_step: Option<f64>,
) -> PyResult<Option<MpsSettings>> {
    let bond_dim = bond_dim
        .map(|chi| usize::try_from(chi).map_err(|_| invalid("bond_dim", chi, "must be at least 1")))
        .transpose()?;
    spinbat::propagate::mps_settings(solver, bond_dim, truncation, time_step).map_err(to_py)
}

/// Runs the certified search with the GIL released; the MPS solver's report beside it.
#[allow(clippy::too_many_arguments)]
fn run_charge(
    py: Python<'_>,
    chain: &Chain,
    solver: Solver,
    tol: f64,
    noise: &Noise,
    initial: Start,
    mps: Option<MpsSettings>,
    times: &[f64],
) -> PyResult<(Charging, f64, Option<MpsReport>)> {
    py.detach(|| {
        let start = Instant::now();
        let mut prop = work_plan(chain, solver, tol, noise, initial, mps)?.propagator(chain)?;
        let result = observe::charge(prop.as_mut(), chain, times, &Silent)?;
        Ok::<_, SpinbatError>((result, start.elapsed().as_secs_f64(), prop.mps_report()))
    })
    .map_err(to_py)
}

/// `omega_schedule=[(t_end, omega), ...]` (any sequence of pairs, a `(K, 2)` array
/// included) as the library's [`Schedule`], under the rules of a schedule file.
fn schedule_of(pairs: Option<Vec<Vec<f64>>>) -> PyResult<Option<Schedule>> {
    let Some(rows) = pairs else { return Ok(None) };
    let mut pairs = Vec::with_capacity(rows.len());
    for (k, row) in rows.iter().enumerate() {
        match row[..] {
            [t, w] => pairs.push((t, w)),
            _ => {
                return Err(invalid(
                    "omega_schedule",
                    format!("segment {} {row:?}", k + 1),
                    "each segment is a pair (t_end, omega)",
                ))
            }
        }
    }
    Schedule::from_pairs(&pairs).map(Some).map_err(to_py)
}

/// `Chain.charge` with a time-dependent field ([`Protocol`]): the closed chain from
/// all-down, the certified search with the protocol's work bound
/// ([`propagate::Plan::protocol_propagator`]), the record `spinbat charge --omega-schedule`
/// / `--drive` writes (its `protocol` and `drive_step_error_estimate`).
fn charge_protocol(
    py: Python<'_>,
    slf: &Bound<'_, PyChain>,
    protocol: Protocol,
    times: &[f64],
    solver: Solver,
    tol: f64,
    mps: Option<MpsSettings>,
) -> PyResult<PyCharging> {
    let chain = &slf.get().inner;
    let (result, elapsed, estimate, report) = py
        .detach(|| {
            let start = Instant::now();
            let mut plan = propagate::Plan::new(chain, solver, tol, Precision::Double, propagate::Request::Work)?;
            if let Some(settings) = mps {
                plan = plan.with_mps(chain, settings)?;
            }
            let mut prop = plan.protocol_propagator(chain, &protocol)?;
            drop(plan);
            let result = observe::charge(prop.as_mut(), chain, times, &Silent)?;
            let (estimate, report) = (prop.drive_step_error_estimate(), prop.mps_report());
            Ok::<_, SpinbatError>((result, start.elapsed().as_secs_f64(), estimate, report))
        })
        .map_err(to_py)?;
    let mut record = ChargeRecord::new(chain, solver, tol, &result, elapsed);
    record.protocol = Some(protocol);
    record.drive_step_error_estimate = estimate;
    record.mps = report;
    PyCharging::new(py, slf.clone().unbind(), &result, &record)
}

impl PyChain {
    fn coupling_name(&self) -> &'static str {
        self.inner.couplings().kind().long_name()
    }

    fn boundary_name(&self) -> &'static str {
        self.inner.boundary().as_str()
    }

    fn p_value(&self) -> Option<f64> {
        match self.inner.couplings() {
            Couplings::PowerLaw { p } => Some(*p),
            _ => None,
        }
    }

    fn matrix_array<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f64>>>> {
        match self.inner.couplings() {
            Couplings::Matrix { m } => {
                Ok(Some(PyArray2::from_vec2(py, m).map_err(|e| PyValueError::new_err(e.to_string()))?))
            }
            _ => Ok(None),
        }
    }
}

#[pymethods]
impl PyChain {
    #[new]
    #[pyo3(signature = (n=8, b=1.0, g=1.0, alpha=0.0, omega=4.0, coupling="power-law", p=1.0, boundary="open", matrix=None, gamma=0.0, omega_sites=None, keep_field=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        n: i64,
        b: f64,
        g: f64,
        alpha: f64,
        omega: f64,
        coupling: &str,
        p: f64,
        boundary: &str,
        matrix: Option<&Bound<'_, PyAny>>,
        gamma: f64,
        omega_sites: Option<Vec<f64>>,
        keep_field: bool,
    ) -> PyResult<Self> {
        if n < 0 {
            return Err(invalid("n_sites", n, "a chain needs at least one site"));
        }
        // giving a matrix implies coupling="matrix" (as --matrix does)
        let coupling = if matrix.is_some() { CouplingKind::Matrix } else { coupling_kind(coupling)? };
        let matrix = matrix.map(matrix_rows).transpose()?.map(MatrixSpec::Rows);
        let spec = ChainSpec {
            n: n as usize,
            b,
            g,
            alpha,
            omega,
            coupling: Some(coupling),
            p,
            matrix,
            boundary: boundary.parse::<Boundary>().map_err(to_py)?,
            gamma,
            keep_field,
            omega_sites,
        };
        let inner = spec.build(Path::new("")).map_err(|e| match e {
            SpinbatError::InvalidParameter { name: "coupling", .. } => {
                PyValueError::new_err("coupling=\"matrix\" needs matrix= (an N x N array)")
            }
            other => to_py(other),
        })?;
        Ok(PyChain { inner })
    }

    /// Number of spins N.
    #[getter]
    fn n(&self) -> usize {
        self.inner.n_sites()
    }

    /// Storage field B (units of B: 1 by default).
    #[getter]
    fn b(&self) -> f64 {
        self.inner.b()
    }

    /// Coupling strength g (units of B).
    #[getter]
    fn g(&self) -> f64 {
        self.inner.g()
    }

    /// Anisotropy alpha (0 Ising, 1 XXX).
    #[getter]
    fn alpha(&self) -> f64 {
        self.inner.alpha()
    }

    /// Charging field omega (units of B).
    #[getter]
    fn omega(&self) -> f64 {
        self.inner.omega()
    }

    /// Coupling pattern: "nearest-neighbour", "power-law" or "matrix".
    #[getter]
    fn coupling(&self) -> &'static str {
        self.coupling_name()
    }

    /// Power-law exponent p (g_ij = g / d_ij^p), or None for other patterns.
    #[getter]
    fn p(&self) -> Option<f64> {
        self.p_value()
    }

    /// Boundary condition: "open" or "periodic".
    #[getter]
    fn boundary(&self) -> &'static str {
        self.boundary_name()
    }

    /// The explicit N x N matrix M (g_ij = g M_ij) as given, or None.
    #[getter]
    fn matrix<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f64>>>> {
        self.matrix_array(py)
    }

    /// Total coupling G = sum_{i<j} g_ij (units of B; paper Eq. 18). O(N) for
    /// distance-based couplings.
    #[getter]
    fn total_coupling(&self) -> f64 {
        self.inner.total_coupling()
    }

    /// XYZ anisotropy gamma: H_g = -sum g_ij [Z_iZ_j + alpha((1+gamma) X_iX_j + (1-gamma) Y_iY_j)]
    /// (0: the XXZ chain).
    #[getter]
    fn gamma(&self) -> f64 {
        self.inner.gamma()
    }

    /// Per-site multipliers w_i of the charging field, V = omega sum_i w_i X_i (None: all 1).
    #[getter]
    fn omega_sites(&self) -> Option<Vec<f64>> {
        self.inner.omega_sites().map(<[f64]>::to_vec)
    }

    /// Whether the storage field stays on while charging (H = H0 + V instead of H_g + V).
    #[getter]
    fn keep_field(&self) -> bool {
        self.inner.keep_field()
    }

    /// Energy of the all-down initial state, E0 = -N B - sum_{i<j} g_ij (units of B).
    #[getter]
    fn initial_energy(&self) -> f64 {
        self.inner.initial_energy()
    }

    /// Rigorous bound on the work (units of B), from energy conservation during charging:
    /// W(t) <= N(|B| + B) + min(|omega| sum_i |w_i|, (1 + 2|alpha| max(1, |gamma|)) sum|g_ij| + G),
    /// or min(|omega| sum_i |w_i|, N(|B| + B) + ... + G) with the field kept on.
    #[getter]
    fn work_bound(&self) -> f64 {
        self.inner.work_bound()
    }

    /// The N x N matrix of couplings g_ij (units of B, zero diagonal) as float64.
    ///
    /// Costs 8 N^2 bytes; raises MemoryError when that exceeds the available memory.
    fn coupling_matrix<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let n = self.inner.n_sites();
        let bytes = 8.0 * (n as f64) * (n as f64);
        if let Some(available) = spinbat::resources::bytes_available() {
            if bytes > available {
                return Err(PyMemoryError::new_err(format!(
                    "the coupling matrix for N = {n} needs about {} but only {} is available",
                    spinbat::error::human_bytes(bytes),
                    spinbat::error::human_bytes(available)
                )));
            }
        }
        let chain = &self.inner;
        let m = Array2::from_shape_fn((n, n), |(i, j)| chain.coupling(i, j));
        Ok(m.into_pyarray(py))
    }

    /// Charges the battery from the all-down state: the curve W(t), P(t) = W(t)/t, the
    /// certified maximal power P_max = max_{T>0} W(T)/T and its time T*, and the maximal
    /// work on [0, times[-1]].
    ///
    /// Work deposited W(t) = <psi(t)|H0|psi(t)> - E0, psi(t) = exp(-i H t) |down...down>
    /// (units of B); power P(t) = W(t)/t (units of B^2; P(0) = 0); times in 1/B.
    ///
    /// P_max is a certified global maximum over all T > 0: W <= N(|B| + B) +
    /// min(N|omega|, lambda_max(H_g) + G) bounds
    /// the search, and T* is refined by Brent's method on T W'(T) - W(T) = 0 to 1e-13
    /// relative. It does not depend on `times`/`points`.
    ///
    /// Parameters
    /// ----------
    /// times : array_like of float, optional
    ///     Output times (ascending, >= 0, at least one). Excludes `t_max`.
    /// t_max : float, optional
    ///     End of an equally spaced grid of `points` times on [0, t_max]; default
    ///     2 pi / omega (two single-spin periods).
    /// points : int
    ///     Number of grid points (>= 2), default 201.
    /// solver : str
    ///     "auto" (dicke for all-to-all couplings, dense for N <= 10, beyond that
    ///     free-fermion for the open nearest-neighbour Ising chain and chebyshev for the
    ///     rest), "dense", "chebyshev", "dicke", "free-fermion" (exact W(t) of the open
    ///     nearest-neighbour chain at alpha = 0, up to N = 1024), "mean-field" (classical Bloch vectors, paper
    ///     Sec. IV), "weak-coupling" (paper Eq. 18) or "mps" (matrix-product states: see
    ///     bond_dim).
    /// tol : float
    ///     Absolute tolerance on W in units of B, in (0, 1) (chebyshev, dicke, mean-field).
    /// observe : str, optional
    ///     Observables along the state at every output time and at T*, as
    ///     `spinbat charge --observe` takes them: comma separated names out of
    ///     entanglement, bloch, zz, variance, ergotropy, or "all". They appear in
    ///     `to_dict()["observables"]` (`points`, `at_t_star`), with the ergotropy keys
    ///     `ergotropy`, `ergotropy_hb`, `local_ergotropy`, `locked_ergotropy`,
    ///     `coherent_ergotropy`, `incoherent_ergotropy`, `capacity`, `variance_hb`,
    ///     `power_bound` and `qsl_time` (Mandelstam–Tamm) in each point.
    /// block : int, optional
    ///     With the ergotropy observable: also `block_ergotropy`, the sum of the
    ///     ergotropies of blocks of `block` neighbouring sites (0..K, K..2K, ...; the last
    ///     shorter), 1 <= K <= min(N, 12), as `spinbat charge --block K`.
    /// dephasing, decay, temperature, collective_decay : float, optional
    ///     Lindblad noise while charging (rates in units of B), as `spinbat charge
    ///     --dephasing --decay --temperature --collective-decay`: L_i = sqrt(dephasing) Z_i,
    ///     L_i = sqrt(decay) sigma_i^- (with a temperature T the thermal pair at
    ///     n = 1/(e^(2B/T) - 1)), L = sqrt(collective_decay) sum_i sigma_i^-. Any of them
    ///     runs the density matrix (N <= 12 or so); `observe` then measures rho(t) (no
    ///     entanglement) and `to_dict()["noise"]` records the rates.
    /// initial_temperature : float, optional
    ///     Start from the Gibbs state of H0 at this temperature T0 >= 0 (units of B, k_B = 1),
    ///     rho = exp(-H0/T0)/Z, instead of all-down, as `spinbat charge
    ///     --initial-temperature`: W(t) = Tr(H0 rho(t)) - Tr(H0 rho_beta) (so W(0) = 0). A
    ///     mixed state: the density matrix runs it (solver "auto" or "density-matrix").
    ///     T0 = 0 is the ground state (all-down where proved so: the same numbers as without
    ///     it). `to_dict()` records `initial_temperature` and `initial_energy` (E_beta).
    /// disorder_g, disorder_field : float, optional
    ///     Disorder ensembles, as `spinbat charge --disorder-g --disorder-field`: each of
    ///     `realisations` realisations draws g_ij -> g_ij (1 + disorder_g u_ij) and
    ///     B_i = B (1 + disorder_field v_i), u, v uniform in [-1, 1], 0 <= delta < 1, and is
    ///     charged with its certified P_max. The result's curve is the ensemble mean;
    ///     `to_dict()["series"]["work_stderr"]` its standard error and `to_dict()["disorder"]`
    ///     the mean +- standard error and quantiles of P_max, T* and the maximal work and
    ///     every realisation's values (`realisations`). Not with `observe`.
    /// realisations : int, optional
    ///     Number R >= 2 of realisations (default 20), with a disorder.
    /// seed : int, optional
    ///     Seed of the disorder (default 0): realisation r draws from ChaCha8 stream r, so
    ///     the same seed gives the same numbers on any number of threads; with
    ///     solver="trajectories" the seed of the trajectories (trajectory k: stream k).
    /// trajectories : int, optional
    ///     With solver="trajectories" (the open battery by quantum trajectories, as
    ///     `spinbat charge --solver trajectories --trajectories K --seed S`): the number
    ///     K >= 2 of trajectories (default 1000). The curve is their mean,
    ///     `to_dict()["series"]["work_stderr"]` its standard error, `to_dict()["trajectories"]`
    ///     the ensemble (P_max of the mean curve, statistical, not certified). `observe` may
    ///     ask for "bloch" and "ergotropy" (the local ergotropy of the mean one-site states),
    ///     each with its standard error; the rest is not linear in the state and is refused.
    /// omega_schedule : sequence of (t_end, omega) pairs, optional
    ///     A piecewise-constant field, as `spinbat charge --omega-schedule FILE` (one pair a
    ///     line of the file): omega(t) = omega_k on (t_(k-1), t_k], t_0 = 0, times strictly
    ///     increasing, fields finite and >= 0; the charge ends at the last t_end (the
    ///     default t_max; later times are refused). P_max is certified with
    ///     W <= N(|B| + B) + N(max_k|omega_k| + sum_k |omega_(k+1) - omega_k|).
    /// drive, drive_frequency : float, optional
    ///     A periodic drive omega(t) = omega + A cos(nu t), A = `drive`, nu =
    ///     `drive_frequency` >= 0 (units of B/hbar), as `spinbat charge --drive A
    ///     --drive-frequency NU`: the exact solvers step it by the commutator-free Magnus
    ///     integrator CFET4:2 (`to_dict()["drive_step_error_estimate"]`), mean field by
    ///     DOP853. A = 0 is the static charge. Neither with `omega_schedule`; both (as the
    ///     CLI) refuse noise, a thermal start, disorder, trajectories and `observe`, and
    ///     need the paper's charging (gamma = 0, no omega_sites, keep_field off).
    ///     `to_dict()["protocol"]` records the field.
    /// bond_dim, truncation, time_step : optional
    ///     With solver="mps" (a matrix-product state by two-site TDVP, for chains past the
    ///     exact solvers; `auto` never picks it), as `spinbat charge --solver mps
    ///     --bond-dim CHI --truncation EPS --time-step DT`: the maximal bond dimension
    ///     (int >= 1, default 64), the largest discarded weight per SVD (in [0, 1), default
    ///     1e-10) and the TDVP step (units of 1/B, > 0; default h/4, h = pi/(16 Lambda)).
    ///     The accuracy is an estimate, not a bound; `to_dict()` carries its figures as the
    ///     CLI's JSON does: `bond_dim`, `bond_dim_reached`, `truncation`, `time_step`,
    ///     `discarded_weight`, `truncation_estimate`, `truncation_bound`,
    ///     `step_error_estimate`, `mpo_fit_error`, `mpo_bond_dim`, `certify_from`,
    ///     `certify_truncation`, `certify_error_estimate` (the looser truncation of the
    ///     samples past T* that only certify P_max). ValueError with another
    ///     solver, or with disorder.
    ///
    /// Returns
    /// -------
    /// Charging
    ///     Arrays `t`, `work`, `power` and the figures of merit; `to_dict()` gives the
    ///     record `spinbat charge --json` writes.
    ///
    /// Raises
    /// ------
    /// ValueError
    ///     Bad times, points, solver or tol, or a solver that does not apply.
    /// MemoryError
    ///     The solver would need more memory than the machine has (e.g. dense for N = 16),
    ///     or so would `points` output times.
    /// RuntimeError
    ///     The certified search did not converge.
    ///
    /// The GIL is released while computing.
    #[pyo3(signature = (
        times=None, t_max=None, points=201, solver="auto", tol=1e-10, observe=None, block=None,
        dephasing=0.0, decay=0.0, temperature=None, collective_decay=0.0, initial_temperature=None,
        disorder_g=None, disorder_field=None, realisations=None, seed=None, trajectories=None,
        omega_schedule=None, drive=None, drive_frequency=None, bond_dim=None, truncation=None, time_step=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn charge(
        slf: &Bound<'_, Self>,
        times: Option<PyArrayLike1<'_, f64, AllowTypeChange>>,
        t_max: Option<f64>,
        points: i64,
        solver: &str,
        tol: f64,
        observe: Option<&str>,
        block: Option<i64>,
        dephasing: f64,
        decay: f64,
        temperature: Option<f64>,
        collective_decay: f64,
        initial_temperature: Option<f64>,
        disorder_g: Option<f64>,
        disorder_field: Option<f64>,
        realisations: Option<i64>,
        seed: Option<u64>,
        trajectories: Option<i64>,
        omega_schedule: Option<Vec<Vec<f64>>>,
        drive: Option<f64>,
        drive_frequency: Option<f64>,
        bond_dim: Option<i64>,
        truncation: Option<f64>,
        time_step: Option<f64>,
    ) -> PyResult<PyCharging> {
        // the MPS settings first: refused with another solver whatever else is asked
        let mps = mps_settings(solver.parse::<Solver>().map_err(to_py)?, bond_dim, truncation, time_step)?;
        let noise = Noise { dephasing, decay, temperature, collective_decay };
        let start = Start::from_temperature(initial_temperature).map_err(to_py)?;
        let py = slf.py();
        let chain = &slf.get().inner;
        let protocol = Protocol::from_options(chain.omega(), schedule_of(omega_schedule)?, drive, drive_frequency)
            .map_err(to_py)?;
        if let Some(protocol) = protocol {
            // as `spinbat charge --omega-schedule/--drive`: one closed chain, the work only
            if disorder_g.is_some()
                || disorder_field.is_some()
                || realisations.is_some()
                || seed.is_some()
                || trajectories.is_some()
                || solver.parse::<Solver>().map_err(to_py)? == Solver::Trajectories
            {
                return Err(PyValueError::new_err(
                    "omega_schedule/drive charge one closed chain: disorder and trajectories are not supported with them",
                ));
            }
            if observe.is_some() || block.is_some() {
                return Err(PyValueError::new_err("observe is not supported with omega_schedule/drive yet"));
            }
            if !noise.is_closed() || initial_temperature.is_some() {
                return Err(PyValueError::new_err(
                    "omega_schedule/drive charge the closed battery from all-down: no noise, no initial_temperature",
                ));
            }
            let requested = parse_solver(solver)?;
            let times = output_times_until(chain, times.as_ref().map(times_vec), t_max, points, protocol.end())?;
            return charge_protocol(py, slf, protocol, &times, requested, tol, mps);
        }
        if solver.parse::<Solver>().map_err(to_py)? == Solver::Trajectories {
            if disorder_g.is_some() || disorder_field.is_some() || realisations.is_some() {
                return Err(PyValueError::new_err("disorder with solver='trajectories' is not implemented"));
            }
            if block.is_some() {
                return Err(PyValueError::new_err(
                    "block does not apply to trajectories (a block ergotropy is not linear in the state)",
                ));
            }
            let times = output_times(chain, times.as_ref().map(times_vec), t_max, points)?;
            return charge_trajectories(py, slf, &times, tol, observe, &noise, start, trajectories, seed);
        }
        if trajectories.is_some() {
            return Err(PyValueError::new_err("trajectories needs solver='trajectories'"));
        }
        let requested = parse_solver(solver)?;
        let times = output_times(chain, times.as_ref().map(times_vec), t_max, points)?;
        if disorder_g.is_some() || disorder_field.is_some() {
            if mps.is_some() {
                return Err(PyValueError::new_err(
                    "solver='mps' with disorder is not implemented yet; use chebyshev for the realisations",
                ));
            }
            if observe.is_some() || block.is_some() {
                return Err(PyValueError::new_err(
                    "observe with disorder is not implemented: the ensemble reports W(t), P_max, T* and the maximal work",
                ));
            }
            if initial_temperature.is_some() {
                return Err(PyValueError::new_err(
                    "initial_temperature with disorder is not implemented: each realisation starts from all-down",
                ));
            }
            let realisations = match realisations {
                None => spinbat::model::DEFAULT_REALISATIONS,
                Some(r) => usize::try_from(r).map_err(|_| invalid("realisations", r, "needs at least 2"))?,
            };
            let disorder = spinbat::model::Disorder {
                disorder_g: disorder_g.unwrap_or(0.0),
                disorder_field: disorder_field.unwrap_or(0.0),
                realisations,
                seed: seed.unwrap_or(0),
            };
            let (result, elapsed) = py
                .detach(|| {
                    let start = Instant::now();
                    let r = spinbat::observe::disorder::charge_disorder(
                        chain,
                        &disorder,
                        requested,
                        tol,
                        Precision::Double,
                        &noise,
                        &times,
                        &Silent,
                    )?;
                    Ok::<_, SpinbatError>((r, start.elapsed().as_secs_f64()))
                })
                .map_err(to_py)?;
            let mut record = ChargeRecord::of_disorder(chain, requested, tol, &result, elapsed);
            record.noise = (!noise.is_closed()).then_some(noise);
            return PyCharging::new(py, slf.clone().unbind(), &result.charging, &record);
        }
        if realisations.is_some() || seed.is_some() {
            return Err(PyValueError::new_err(
                "realisations and seed need disorder_g or disorder_field (or seed with solver='trajectories')",
            ));
        }
        // the observables' plan first: refused before the long run, as `spinbat charge` does
        if block.is_some() && observe.is_none() {
            return Err(PyValueError::new_err("block needs observe='ergotropy' (or 'all')"));
        }
        let observables = match observe {
            Some(list) => {
                let mut set: ObservableSet = list.parse().map_err(to_py)?;
                if let Some(k) = block {
                    let k =
                        usize::try_from(k).map_err(|_| PyValueError::new_err(format!("block = {k}: must be >= 1")))?;
                    set = set.with_block(k);
                }
                set.check_block(chain.n_sites()).map_err(to_py)?;
                set.cut_for(chain.n_sites()).map_err(to_py)?;
                let plan =
                    trajectory::plan_start(chain, requested, tol, Precision::Double, &noise, start).map_err(to_py)?;
                // the states' plan of solver='mps' takes the same settings (memory checked for them)
                let plan = match mps {
                    Some(settings) => plan.with_mps(chain, settings).map_err(to_py)?,
                    None => plan,
                };
                Some((set, plan))
            }
            None => None,
        };
        let (result, record) = match observables {
            // one propagation for the curve and the states where the method allows
            Some((set, plan)) => {
                let run = py
                    .detach(|| {
                        let prop = work_plan(chain, requested, tol, &noise, start, mps)?.propagator(chain)?;
                        trajectory::charge_observed(prop, &plan, chain, &times, &set, &Silent, &Silent)
                    })
                    .map_err(to_py)?;
                let mut obs = ObservablesRecord::new(run.trajectory, run.observables_s);
                obs.at_t_star = run.at_t_star;
                let mut record = ChargeRecord::new(chain, requested, tol, &run.charge, run.charge_s);
                record.mps = run.mps;
                (run.charge, record.with_observables(obs))
            }
            None => {
                let (result, elapsed, report) = run_charge(py, chain, requested, tol, &noise, start, mps, &times)?;
                let mut record = ChargeRecord::new(chain, requested, tol, &result, elapsed);
                record.mps = report;
                (result, record)
            }
        };
        let mut record = record;
        record.noise = (!noise.is_closed()).then_some(noise);
        record.initial_temperature = start.temperature();
        if !start.is_all_down(chain) {
            record.initial_energy = start.gibbs(chain).map_err(to_py)?.map(|g| g.energy());
        }
        PyCharging::new(py, slf.clone().unbind(), &result, &record)
    }

    /// Maximal average power P_max = max_{T>0} W(T)/T (units of B^2) and the time T* where
    /// it is reached (units of 1/B): a certified global maximum (see `charge`), without an
    /// output curve.
    ///
    /// Parameters as in `charge`. Raises ValueError, MemoryError or RuntimeError as
    /// `charge` does. The GIL is released while computing.
    ///
    /// Returns
    /// -------
    /// (float, float)
    ///     (P_max, T*).
    #[pyo3(signature = (solver="auto", tol=1e-10))]
    fn max_power(&self, py: Python<'_>, solver: &str, tol: f64) -> PyResult<(f64, f64)> {
        let solver = parse_solver(solver)?;
        let (result, _, _) = run_charge(py, &self.inner, solver, tol, &Noise::default(), Start::AllDown, None, &[])?;
        Ok((result.max_power.power, result.max_power.time))
    }

    /// Work W(t) = <psi(t)|H0|psi(t)> - E0 (units of B) and its exact rate
    /// dW/dt = i <[H, H0]> (units of B^2) at the given times (units of 1/B).
    ///
    /// Parameters
    /// ----------
    /// times : array_like of float
    ///     1-d, ascending, >= 0.
    /// solver, tol
    ///     As in `charge`.
    ///
    /// Returns
    /// -------
    /// (numpy.ndarray, numpy.ndarray)
    ///     `work` and `rate`, float64 arrays of the shape of `times`.
    ///
    /// Raises ValueError for bad times, solver or tol, MemoryError when the solver does not
    /// fit in memory. The GIL is released while computing.
    #[pyo3(signature = (times, solver="auto", tol=1e-10))]
    fn work<'py>(
        &self,
        py: Python<'py>,
        times: PyArrayLike1<'py, f64, AllowTypeChange>,
        solver: &str,
        tol: f64,
    ) -> PyResult<ArrayPair<'py>> {
        let solver = parse_solver(solver)?;
        let times = times_vec(&times);
        propagate::check_times(&times).map_err(to_py)?;
        let chain = &self.inner;
        let samples = py
            .detach(|| {
                let mut prop = propagate::plan(chain, solver, tol)?;
                if times.is_empty() {
                    return Ok(Vec::new());
                }
                prop.sample(&times)
            })
            .map_err(to_py)?;
        let work: Vec<f64> = samples.iter().map(|s| s.work).collect();
        let rate: Vec<f64> = samples.iter().map(|s| s.rate).collect();
        Ok((PyArray1::from_vec(py, work), PyArray1::from_vec(py, rate)))
    }

    /// The chain as a dict: parameters, G = sum_{i<j} g_ij, E0 and the work bound (the
    /// `model` record of `spinbat charge --json`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let text = serde_json::to_string(&ModelRecord::of(&self.inner))
            .map_err(|e| PyValueError::new_err(format!("cannot serialise the chain: {e}")))?;
        py.import("json")?.call_method1("loads", (text,))
    }

    fn __repr__(&self) -> String {
        let c = &self.inner;
        let pattern = match c.couplings() {
            Couplings::NearestNeighbour => "coupling='nearest-neighbour'".to_string(),
            Couplings::PowerLaw { p } => format!("coupling='power-law', p={}", py_float(*p)),
            Couplings::Matrix { .. } => "coupling='matrix', matrix=...".to_string(),
        };
        let mut extra = String::new();
        if c.gamma() != 0.0 {
            extra += &format!(", gamma={}", py_float(c.gamma()));
        }
        if let Some(w) = c.omega_sites() {
            let w: Vec<String> = w.iter().map(|v| py_float(*v)).collect();
            extra += &format!(", omega_sites=[{}]", w.join(", "));
        }
        if c.keep_field() {
            extra += ", keep_field=True";
        }
        format!(
            "Chain(n={}, b={}, g={}, alpha={}, omega={}, {pattern}, boundary='{}'{extra})",
            c.n_sites(),
            py_float(c.b()),
            py_float(c.g()),
            py_float(c.alpha()),
            py_float(c.omega()),
            self.boundary_name()
        )
    }

    /// Pickle support: the constructor and its arguments.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyType>, ChainArgs<'py>)> {
        let me = slf.get();
        let c = &me.inner;
        let args = (
            c.n_sites(),
            c.b(),
            c.g(),
            c.alpha(),
            c.omega(),
            me.coupling_name(),
            me.p_value().unwrap_or(1.0),
            me.boundary_name(),
            me.matrix_array(slf.py())?,
            c.gamma(),
            c.omega_sites().map(<[f64]>::to_vec),
            c.keep_field(),
        );
        Ok((slf.get_type(), args))
    }
}

/// A float the way Python's `repr` writes it (`1.0`, not `1`); the chain's values are finite.
fn py_float(x: f64) -> String {
    format!("{x:?}")
}
