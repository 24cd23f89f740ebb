//! `spinbat.Charging`: the result of `Chain.charge`.

use crate::chain::PyChain;
use numpy::{PyArray1, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use spinbat::observe::Charging;
use spinbat::record::ChargeRecord;

/// The result of `Chain.charge`: the charging curve and the battery's figures of merit.
///
/// Units: hbar = 1, energies (work) in units of B, powers in B^2, times in 1/B.
///
/// Attributes
/// ----------
/// t, work, power : numpy.ndarray
///     The curve at the output times: t, W(t) = <H0>_t - E0, P(t) = W(t)/t (P(0) = 0);
///     read-only float64 arrays of equal length.
/// max_power, t_star, work_at_max_power : float
///     Certified P_max = max_{T>0} W(T)/T, its time T* and W(T*).
/// max_work, t_max_work, power_at_max_work : float
///     Largest W(T) on [0, window] (the earliest of equal maxima), its time, W/T there.
/// power_ratio : float
///     P_max / (N P1), P1 = 2 B omega * 0.72461... the maximal power of one spin.
/// solver, accuracy, error_bound
///     Solver that ran ("auto" resolved), how its error is controlled, and the bound
///     (dense: estimate) on the absolute error of every W computed (units of B).
#[pyclass(name = "Charging", module = "spinbat", frozen)]
pub struct PyCharging {
    chain: Py<PyChain>,
    t: Py<PyArray1<f64>>,
    work: Py<PyArray1<f64>>,
    power: Py<PyArray1<f64>>,
    /// Certified maximal power P_max = max_{T>0} W(T)/T (units of B^2).
    #[pyo3(get)]
    max_power: f64,
    /// Time T* of the maximal power (units of 1/B).
    #[pyo3(get)]
    t_star: f64,
    /// Work W(T*) at the maximal power (units of B).
    #[pyo3(get)]
    work_at_max_power: f64,
    /// Maximal work W_max on [0, window] (units of B).
    #[pyo3(get)]
    max_work: f64,
    /// Time of the maximal work (units of 1/B).
    #[pyo3(get)]
    t_max_work: f64,
    /// Average power W_max / T at the maximal work (units of B^2).
    #[pyo3(get)]
    power_at_max_work: f64,
    /// P_max / (N P1): the gain over N independent spins (P1 = 2 B omega * 0.72461...).
    #[pyo3(get)]
    power_ratio: f64,
    /// Maximal power of N independent spins, N P1 = 2 B N omega * 0.72461... (units of B^2).
    #[pyo3(get)]
    independent_max_power: f64,
    /// Maximal work of N independent spins, 2 B N (units of B).
    #[pyo3(get)]
    independent_max_work: f64,
    /// No T beyond this time can beat P_max: W_bound / P_max, with the solver's bound
    /// W_bound = N(|B| + B) + min(N|omega|, lambda_max(H_g) + G) (units of 1/B).
    #[pyo3(get)]
    certified_until: f64,
    /// End of the window of the maximal work, the last output time (units of 1/B).
    #[pyo3(get)]
    window: f64,
    /// Number of W evaluations the search made.
    #[pyo3(get)]
    evaluations: usize,
    /// Solver that ran ("auto" resolved): dense, chebyshev, dicke, mean-field, weak-coupling.
    #[pyo3(get)]
    solver: String,
    /// Solver asked for.
    #[pyo3(get)]
    solver_requested: String,
    /// Absolute tolerance on W asked for (units of B).
    #[pyo3(get)]
    tol: f64,
    /// How the solver's error is controlled (one line).
    #[pyo3(get)]
    accuracy: String,
    /// Bound (dense: estimate) on the absolute error of every W computed (units of B);
    /// None where it is not bounded (weak coupling, a first-order formula).
    #[pyo3(get)]
    error_bound: Option<f64>,
    /// Wall time of the computation (seconds).
    #[pyo3(get)]
    run_time_s: f64,
    record_json: String,
}

/// A read-only float64 array.
fn frozen_array<'py>(py: Python<'py>, v: Vec<f64>) -> PyResult<Py<PyArray1<f64>>> {
    let a = PyArray1::from_vec(py, v);
    a.getattr("flags")?.setattr("writeable", false)?;
    Ok(a.unbind())
}

impl PyCharging {
    /// Wraps a finished run and its record.
    pub fn new(py: Python<'_>, chain: Py<PyChain>, r: &Charging, record: &ChargeRecord) -> PyResult<Self> {
        let record_json = serde_json::to_string(record)
            .map_err(|e| PyValueError::new_err(format!("cannot serialise the record: {e}")))?;
        Ok(PyCharging {
            chain,
            t: frozen_array(py, r.series.iter().map(|p| p.t).collect())?,
            work: frozen_array(py, r.series.iter().map(|p| p.work).collect())?,
            power: frozen_array(py, r.series.iter().map(|p| p.power).collect())?,
            max_power: r.max_power.power,
            t_star: r.max_power.time,
            work_at_max_power: r.max_power.work,
            max_work: r.max_work.work,
            t_max_work: r.max_work.time,
            power_at_max_work: r.max_work.power,
            power_ratio: r.power_ratio,
            independent_max_power: r.independent.max_power.power,
            independent_max_work: r.independent.max_work.work,
            certified_until: r.certified_until,
            window: r.window,
            evaluations: r.evaluations,
            solver: r.solver.clone(),
            solver_requested: record.solver_requested.clone(),
            tol: record.tolerance,
            accuracy: r.accuracy.clone(),
            error_bound: r.error_bound,
            run_time_s: record.run_time_s,
            record_json,
        })
    }
}

#[pymethods]
impl PyCharging {
    /// Output times t (units of 1/B), read-only float64.
    #[getter]
    fn t(&self, py: Python<'_>) -> Py<PyArray1<f64>> {
        self.t.clone_ref(py)
    }

    /// Work W(t) = <psi(t)|H0|psi(t)> - E0 at the output times (units of B), read-only
    /// float64.
    #[getter]
    fn work(&self, py: Python<'_>) -> Py<PyArray1<f64>> {
        self.work.clone_ref(py)
    }

    /// Average power P(t) = W(t)/t at the output times (units of B^2; P(0) = 0), read-only
    /// float64.
    #[getter]
    fn power(&self, py: Python<'_>) -> Py<PyArray1<f64>> {
        self.power.clone_ref(py)
    }

    /// The chain that was charged.
    #[getter]
    fn chain(&self, py: Python<'_>) -> Py<PyChain> {
        self.chain.clone_ref(py)
    }

    /// The full record as plain Python objects, the same as `spinbat charge --json`
    /// writes: model (parameters, G, E0, work bound), solver, solver_requested, tolerance,
    /// error_bound, accuracy, series {t, work, power} (lists), max_power {power, time,
    /// work}, certified_until, max_work {power, time, work}, window, independent,
    /// power_ratio, evaluations, run_time_s, provenance (version, git revision, time,
    /// threads).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?.call_method1("loads", (&self.record_json,))
    }

    /// The record of `to_dict` as a JSON string (compact).
    fn to_json(&self) -> String {
        self.record_json.clone()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Charging(solver='{}', max_power={:?}, t_star={:?}, max_work={:?}, t_max_work={:?}, points={})",
            self.solver,
            self.max_power,
            self.t_star,
            self.max_work,
            self.t_max_work,
            self.t.bind(py).len()
        )
    }
}
