//! `spinbat.store` and `spinbat.Storage`: charge, then hold the chain under `H0` with
//! noise (the library's [`spinbat::observe::storage`], as `spinbat store` runs it).

use crate::chain::PyChain;
use crate::errors::{invalid, to_py};
use numpy::{AllowTypeChange, PyArray1, PyArrayLike1, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use spinbat::observe::storage::{self, HalfLife, NoiseDuring, StorageSpec};
use spinbat::observe::trajectory::ObservableSet;
use spinbat::open::Noise;
use spinbat::record::StoreRecord;
use spinbat::Silent;
use std::time::Instant;

// the signature below writes the library's default number of storage times as a literal
const _: () = assert!(storage::DEFAULT_POINTS == 41);

/// A read-only float64 array.
fn frozen_array(py: Python<'_>, v: Vec<f64>) -> PyResult<Py<PyArray1<f64>>> {
    let a = PyArray1::from_vec(py, v);
    a.getattr("flags")?.setattr("writeable", false)?;
    Ok(a.unbind())
}

/// The result of `spinbat.store`: the work and the ergotropies over the storage times and
/// their half-lives.
///
/// Units: hbar = 1, energies in units of B, times in 1/B (storage times from the end of
/// charging).
///
/// Attributes
/// ----------
/// t, work, rate : numpy.ndarray
///     Storage times s, W(s) = Tr(H0 rho) - E0 and dW/ds (read-only float64).
/// ergotropy, ergotropy_hb, local_ergotropy : numpy.ndarray
///     The ergotropy for H0 and for H_B, and the local ergotropy at the storage times
///     (NaN where not known: the global ones by trajectories).
/// work_stderr : numpy.ndarray or None
///     By trajectories: one standard error of the mean W(s).
/// charge_time, work_at_charge : float
///     The charging time T and W(T), the work at the start of storage.
/// work_half_life, ergotropy_half_life, ergotropy_hb_half_life : float or None
///     The first storage time where W (the ergotropy for H0, for H_B) falls to half its
///     value at s = 0; None where not reached (`to_dict()["half_lives"]` says why).
/// noise_during, solver, error_bound
///     When the noise acted, the solver, and the bound on the error of every W.
#[pyclass(name = "Storage", module = "spinbat", frozen)]
pub struct PyStorage {
    chain: Py<PyChain>,
    t: Py<PyArray1<f64>>,
    work: Py<PyArray1<f64>>,
    rate: Py<PyArray1<f64>>,
    ergotropy: Py<PyArray1<f64>>,
    ergotropy_hb: Py<PyArray1<f64>>,
    local_ergotropy: Py<PyArray1<f64>>,
    work_stderr: Option<Py<PyArray1<f64>>>,
    /// The charging time T (units of 1/B).
    #[pyo3(get)]
    charge_time: f64,
    /// W(T), the work at the start of storage (units of B).
    #[pyo3(get)]
    work_at_charge: f64,
    /// First storage time where W falls to half its value at s = 0, or None.
    #[pyo3(get)]
    work_half_life: Option<f64>,
    /// First storage time where the ergotropy for H0 falls to half, or None.
    #[pyo3(get)]
    ergotropy_half_life: Option<f64>,
    /// First storage time where the ergotropy for H_B falls to half, or None.
    #[pyo3(get)]
    ergotropy_hb_half_life: Option<f64>,
    /// When the noise acted: "charge", "storage" or "both".
    #[pyo3(get)]
    noise_during: String,
    /// The solver that ran.
    #[pyo3(get)]
    solver: String,
    /// Bound on the absolute error of every W (units of B).
    #[pyo3(get)]
    error_bound: f64,
    record_json: String,
}

#[pymethods]
impl PyStorage {
    /// Storage times s from the end of charging (units of 1/B), read-only float64.
    #[getter]
    fn t(&self, py: Python<'_>) -> Py<PyArray1<f64>> {
        self.t.clone_ref(py)
    }

    /// W(s) = Tr(H0 rho(T + s)) - E0 (units of B), read-only float64.
    #[getter]
    fn work(&self, py: Python<'_>) -> Py<PyArray1<f64>> {
        self.work.clone_ref(py)
    }

    /// dW/ds (units of B^2): 0 in closed storage, the self-discharge rate under noise.
    #[getter]
    fn rate(&self, py: Python<'_>) -> Py<PyArray1<f64>> {
        self.rate.clone_ref(py)
    }

    /// The ergotropy for H0 at the storage times (units of B; NaN where not known).
    #[getter]
    fn ergotropy(&self, py: Python<'_>) -> Py<PyArray1<f64>> {
        self.ergotropy.clone_ref(py)
    }

    /// The ergotropy for H_B = B sum_i Z_i at the storage times (units of B).
    #[getter]
    fn ergotropy_hb(&self, py: Python<'_>) -> Py<PyArray1<f64>> {
        self.ergotropy_hb.clone_ref(py)
    }

    /// The local ergotropy sum_i E(rho_i, B Z_i) at the storage times (units of B).
    #[getter]
    fn local_ergotropy(&self, py: Python<'_>) -> Py<PyArray1<f64>> {
        self.local_ergotropy.clone_ref(py)
    }

    /// By trajectories: one standard error of the mean W(s) (units of B, read-only
    /// float64); None for the exact solvers.
    #[getter]
    fn work_stderr(&self, py: Python<'_>) -> Option<Py<PyArray1<f64>>> {
        self.work_stderr.as_ref().map(|a| a.clone_ref(py))
    }
    /// The chain that was stored.
    #[getter]
    fn chain(&self, py: Python<'_>) -> Py<PyChain> {
        self.chain.clone_ref(py)
    }

    /// The full record as plain Python objects, the same as `spinbat store --json` writes:
    /// model, solver, noise, noise_during, charge {time, time_from, noise, work, ...},
    /// storage_noise, error_bound, accuracy, series {t, work, rate}, start (the observables
    /// at s = 0), observables {points: [{t, work, ergotropy, ergotropy_hb, ...}], ...},
    /// half_lives {work, ergotropy, ergotropy_hb: {initial, time, reason}}, run_time_s,
    /// provenance.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?.call_method1("loads", (&self.record_json,))
    }

    /// The record of `to_dict` as a JSON string (compact).
    fn to_json(&self) -> String {
        self.record_json.clone()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Storage(charge_time={:?}, work_at_charge={:?}, work_half_life={:?}, ergotropy_half_life={:?}, points={})",
            self.charge_time,
            self.work_at_charge,
            self.work_half_life,
            self.ergotropy_half_life,
            self.t.bind(py).len()
        )
    }
}

/// Charge `chain`, then store it: hold it under H0 (the charging field off) with noise
/// while charging, in storage or both, as `spinbat store` does.
///
/// Units: hbar = 1, energies in units of B, times in 1/B.
///
/// Parameters
/// ----------
/// chain : Chain
///     The battery.
/// times : array_like of float, optional
///     Storage times s >= 0 from the end of charging, ascending. Default: `points` equally
///     spaced in [0, t_max].
/// charge_time : float, optional
///     The charging time T; default the certified T* of the closed chain.
/// t_max : float, optional
///     End of the storage window; default four half-lives 4 ln2/kappa of the slowest
///     channel acting in storage (kappa = 2 dephasing, decay, collective_decay), or
///     2 pi/omega without noise in storage.
/// points : int
///     Number of storage times with `t_max` (>= 2).
/// noise_during : {"both", "charge", "storage"}
///     When the noise acts.
/// dephasing, decay, temperature, collective_decay : float, optional
///     The Lindblad noise (rates in units of B), as in `Chain.charge`.
/// initial_temperature : float, optional
///     Charge from the Gibbs state of H0 at T0 >= 0 (units of B) instead of all-down, as in
///     `Chain.charge`: W is measured from its energy (`to_dict()["charge"]["initial_energy"]`);
///     the density matrix runs (N <= 12), noise or not.
/// observe : str, optional
///     Observables beside the ergotropy family (always measured): "bloch", "zz",
///     "variance" or "all", comma separated (in `to_dict()["observables"]["points"]`).
/// block : int, optional
///     Also the block ergotropy of blocks of `block` neighbouring sites.
/// solver : {"auto", "dense", "chebyshev", "density-matrix", "trajectories"}
///     auto: pure states without noise (any N whose state fits), the density matrix
///     with noise (N <= 12). trajectories: quantum trajectories through charge and
///     storage (any N whose 2^N amplitudes fit per thread): the mean W, the Bloch vectors
///     and the local ergotropy of the mean one-site states, with standard errors
///     (`work_stderr`, `to_dict()["ensemble"]`); the global ergotropies are NaN.
/// trajectories : int, optional
///     With solver="trajectories": the number K >= 2 of trajectories (default 1000).
/// seed : int, optional
///     With solver="trajectories": the seed (the same seed gives the same numbers).
/// tol : float
///     Absolute tolerance on W (units of B).
///
/// Returns
/// -------
/// Storage
///
/// Raises
/// ------
/// ValueError
///     Bad times, rates, noise_during, solver, or N > 12 with noise.
/// MemoryError
///     The density matrices would not fit.
///
/// The GIL is released while computing.
#[pyfunction]
#[pyo3(signature = (
    chain, times=None, *, charge_time=None, t_max=None, points=41, noise_during="both", dephasing=0.0, decay=0.0,
    temperature=None, collective_decay=0.0, observe=None, block=None, solver="auto", tol=1e-10,
    initial_temperature=None, trajectories=None, seed=None
))]
#[allow(clippy::too_many_arguments)]
pub fn store(
    py: Python<'_>,
    chain: Py<PyChain>,
    times: Option<PyArrayLike1<'_, f64, AllowTypeChange>>,
    charge_time: Option<f64>,
    t_max: Option<f64>,
    points: i64,
    noise_during: &str,
    dephasing: f64,
    decay: f64,
    temperature: Option<f64>,
    collective_decay: f64,
    observe: Option<&str>,
    block: Option<i64>,
    solver: &str,
    tol: f64,
    initial_temperature: Option<f64>,
    trajectories: Option<i64>,
    seed: Option<u64>,
) -> PyResult<PyStorage> {
    let inner = chain.get().inner.clone();
    let noise = Noise { dephasing, decay, temperature, collective_decay };
    let noise_during: NoiseDuring = noise_during.parse().map_err(to_py)?;
    let times = match times {
        Some(t) => t.as_array().to_vec(),
        None => {
            let points = usize::try_from(points).map_err(|_| invalid("points", points, "must be at least 2"))?;
            storage::window_times(&inner, &noise_during.storage(&noise), t_max, points).map_err(to_py)?
        }
    };
    let solver: spinbat::Solver = solver.parse().map_err(to_py)?;
    let by_trajectories = solver == spinbat::Solver::Trajectories;
    if !by_trajectories && (trajectories.is_some() || seed.is_some()) {
        return Err(PyValueError::new_err("trajectories and seed need solver=\"trajectories\""));
    }
    let observe_all = !by_trajectories && observe.map(str::trim) == Some("all");
    let mut observe = match observe {
        Some(list) if by_trajectories => spinbat::observe::ensemble::trajectory_observables(list).map_err(to_py)?,
        Some(list) if list.trim() == "all" => ObservableSet::all(),
        Some(list) => list.parse().map_err(to_py)?,
        None => ObservableSet::default(),
    };
    observe.ergotropy = true;
    if let Some(k) = block {
        let k = usize::try_from(k).map_err(|_| PyValueError::new_err(format!("block = {k}: must be >= 1")))?;
        observe.block = Some(k);
    }
    let mut spec = StorageSpec::new(times);
    spec.charge_time = charge_time;
    spec.noise = noise;
    spec.noise_during = noise_during;
    spec.observe = observe;
    spec.solver = solver;
    spec.tol = tol;
    if let Some(k) = trajectories {
        spec.trajectories = usize::try_from(k).map_err(|_| invalid("trajectories", k, "must be at least 2"))?;
    }
    spec.seed = seed.unwrap_or(spec.seed);
    spec.start = spinbat::open::Start::from_temperature(initial_temperature).map_err(to_py)?;
    if observe_all {
        // every observable that applies (no entanglement of a mixed state)
        spec.observe.entanglement = storage::runs_on_pure_states(&inner, &spec);
    }
    storage::plan(&inner, &spec).map_err(to_py)?;
    let start = Instant::now();
    let result = py.detach(|| storage::store(&inner, &spec, &Silent)).map_err(to_py)?;
    let record = StoreRecord::new(&inner, &spec, result, start.elapsed().as_secs_f64());
    let record_json = serde_json::to_string(&record)
        .map_err(|e| PyValueError::new_err(format!("cannot serialise the record: {e}")))?;
    let points = &record.observables.trajectory.points;
    let key = |f: &dyn Fn(&spinbat::observe::ergotropy::ErgotropyPoint) -> Option<f64>| -> Vec<f64> {
        points.iter().map(|p| p.ergotropy.as_ref().and_then(f).unwrap_or(f64::NAN)).collect()
    };
    let half = |h: &HalfLife| h.time;
    Ok(PyStorage {
        t: frozen_array(py, record.series.t.clone())?,
        work: frozen_array(py, record.series.work.clone())?,
        rate: frozen_array(py, record.series.rate.clone())?,
        ergotropy: frozen_array(py, key(&|e| e.ergotropy))?,
        ergotropy_hb: frozen_array(py, key(&|e| Some(e.ergotropy_hb)))?,
        local_ergotropy: match &record.series.work_stderr {
            // trajectories: the local ergotropy of the mean one-site states
            Some(_) => frozen_array(py, points.iter().map(|p| p.mean_local_ergotropy.unwrap_or(f64::NAN)).collect())?,
            None => frozen_array(py, key(&|e| Some(e.local_ergotropy)))?,
        },
        work_stderr: record.series.work_stderr.clone().map(|v| frozen_array(py, v)).transpose()?,
        charge_time: record.charge.time,
        work_at_charge: record.charge.work,
        work_half_life: half(&record.half_lives.work),
        ergotropy_half_life: half(&record.half_lives.ergotropy),
        ergotropy_hb_half_life: half(&record.half_lives.ergotropy_hb),
        noise_during: record.noise_during.to_string(),
        solver: record.solver.clone(),
        error_bound: record.error_bound,
        chain,
        record_json,
    })
}
