//! `spinbat.optimize`: the piecewise-constant field that charges most by `T`
//! ([`spinbat::control`], as `spinbat optimize` runs it), returned as a dict with the CLI's
//! JSON keys.

use crate::chain::PyChain;
use crate::errors::to_py;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use spinbat::control::{self, ControlSpec, Objective};

/// Optimal charging: the piecewise-constant field |omega_k| <= omega_max on `segments`
/// equal segments of [0, charge_time] that maximises the objective at T, from all-down.
///
/// H(t) = H_g + omega_k sum_i X_i on ((k-1) T/K, k T/K]; exact gradients (adjoint through
/// the Chebyshev series, or the adjoint of the Bloch equations with solver="mean-field"),
/// projected L-BFGS from `starts` starts (the first the best constant field, the others
/// uniform random from `seed`). The objectives work W(T), power W(T)/T and ergotropy
/// <H0>_T - E_min share the optimum.
///
/// Parameters
/// ----------
/// chain : Chain
///     The chain (its omega is not used).
/// charge_time : float
///     T (units of 1/B).
/// segments : int
///     K equal segments.
/// omega_max : float
///     The bound W on |omega_k| (units of B).
/// objective : {"work", "power", "ergotropy"}
/// seed, starts, max_iterations : int
///     Random starts and the L-BFGS iterations per start.
/// solver : {"chebyshev", "mean-field"}
///     Exact on the full 2^N space, or the classical Bloch vectors (any N).
/// tol : float
///     Tolerance of each segment's propagation.
///
/// Returns
/// -------
/// dict
///     The keys of `spinbat optimize --json`: work, power, ergotropy (None with the mean
///     field), schedule {ends, omegas}, constant_field {omega, work}, gradient_check
///     {segments, adjoint, finite_difference, step, max_relative_difference},
///     start_work, evaluations, objective.
///
/// Raises
/// ------
/// ValueError
///     Bad parameters, an unknown solver or objective.
/// MemoryError
///     The states do not fit.
///
/// The GIL is released while computing.
#[pyfunction]
#[pyo3(signature = (
    chain, charge_time, *, segments=20, omega_max, objective="work", seed=1, starts=4, max_iterations=200,
    solver="chebyshev", tol=1e-10
))]
#[allow(clippy::too_many_arguments)]
pub fn optimize(
    py: Python<'_>,
    chain: Py<PyChain>,
    charge_time: f64,
    segments: usize,
    omega_max: f64,
    objective: &str,
    seed: u64,
    starts: usize,
    max_iterations: usize,
    solver: &str,
    tol: f64,
) -> PyResult<Py<PyAny>> {
    let inner = chain.get().inner.clone();
    let objective: Objective = objective.parse().map_err(to_py)?;
    let mean_field = match solver {
        "chebyshev" => false,
        "mean-field" => true,
        other => {
            return Err(PyValueError::new_err(format!(
                "solver {other:?}: optimize runs with chebyshev (the exact full space) or mean-field"
            )))
        }
    };
    let spec = ControlSpec { charge_time, segments, omega_max, objective, seed, starts, tol, max_iterations };
    spec.check().map_err(to_py)?;
    let result = py
        .detach(|| {
            if mean_field {
                control::optimize_mean_field(&inner, &spec)
            } else {
                let ground = spinbat::observe::ground::ground_state(&inner)?;
                let ground_energy = match ground.initial_is_ground {
                    Some(true) => Some(inner.initial_energy()),
                    Some(false) => ground.ground_energy,
                    None => None,
                };
                control::optimize(&inner, &spec, ground_energy)
            }
        })
        .map_err(to_py)?;
    let text = serde_json::to_string(&result)
        .map_err(|e| PyValueError::new_err(format!("cannot serialise the result: {e}")))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}
