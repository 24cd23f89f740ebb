//! `spinbat.scan`: one parameter swept, several solvers side by side — the library's
//! [`spinbat::study::scan_noisy`] (the noise rates swept too), as `spinbat scan --vary NAME=SPEC --solvers ...` runs it. This is
//! the native half (`spinbat._spinbat.scan`, rows as dicts); `python/spinbat/_scan.py` makes
//! the DataFrame and builds the chain from keywords.

use crate::chain::PyChain;
use crate::errors::to_py;
use numpy::{AllowTypeChange, PyArrayLike1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use spinbat::open::Noise;
use spinbat::study::{self, Cell, Parameter, ScanOptions, ScanRow, ScanSolver, Sweep};
use spinbat::Silent;

/// The sweep of `vary` (`"alpha"` with `values`, or `"alpha=0:1:0.1"` alone). A string
/// `values` is a CLI spec and is parsed as `NAME=SPEC`, so errors read as `--vary`'s.
fn sweep(vary: &str, values: Option<&Bound<'_, PyAny>>) -> PyResult<Sweep> {
    let Some(values) = values else {
        return vary.parse::<Sweep>().map_err(to_py);
    };
    if vary.contains('=') {
        return Err(PyValueError::new_err(format!(
            "vary = '{vary}' has its values already; give values either there (\"alpha=0:1:0.1\") or as values=, not both"
        )));
    }
    if let Ok(spec) = values.cast::<PyString>() {
        return format!("{vary}={}", spec.to_cow()?).parse::<Sweep>().map_err(to_py);
    }
    let parameter: Parameter = vary.parse().map_err(to_py)?;
    let values: PyArrayLike1<'_, f64, AllowTypeChange> = values.extract().map_err(|e: PyErr| {
        PyValueError::new_err(format!("values must be a spec such as \"0:1:0.1\" or a 1-d sequence of numbers ({e})"))
    })?;
    Sweep::new(parameter, values.as_array().to_vec()).map_err(to_py)
}

/// Solver labels from a comma-separated string or a sequence of names.
fn solver_list(solvers: &Bound<'_, PyAny>) -> PyResult<Vec<ScanSolver>> {
    let text = match solvers.cast::<PyString>() {
        Ok(s) => s.to_cow()?.into_owned(),
        Err(_) => {
            let names: Vec<String> = solvers.extract().map_err(|_| {
                PyValueError::new_err("solvers must be a name, a comma-separated string or a sequence of names")
            })?;
            names.join(",")
        }
    };
    ScanSolver::parse_list(&text).map_err(to_py)
}

/// One row as a flat dict: the library's table of a scan row ([`ScanRow::COLUMNS`], the
/// fields of `spinbat scan --json`'s rows with nested ones flattened), in its order; `None`
/// where the row has no value (maximal work with `power_only`).
fn row_dict<'py>(py: Python<'py>, r: &ScanRow) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, cell) in ScanRow::COLUMNS.iter().zip(r.cells()) {
        match cell {
            Cell::Number(v) => d.set_item(name, v)?,
            Cell::Count(n) => d.set_item(name, n)?,
            Cell::Text(s) => d.set_item(name, s)?,
        }
    }
    Ok(d)
}

/// Native half of `spinbat.scan` (see its docstring there): the varied parameter's name
/// and the rows as dicts, in the order values x solvers, every point charged under the
/// noise `dephasing`, `decay`, `temperature`, `collective_decay` (the varied rate replaced
/// when a noise rate is varied). The GIL is released while the scan runs.
#[pyfunction]
#[pyo3(signature = (chain, vary, values, solvers, tol, power_only, window, dephasing=0.0, decay=0.0, temperature=None, collective_decay=0.0))]
#[allow(clippy::too_many_arguments)]
pub fn scan<'py>(
    py: Python<'py>,
    chain: &PyChain,
    vary: &str,
    values: Option<&Bound<'py, PyAny>>,
    solvers: &Bound<'py, PyAny>,
    tol: f64,
    power_only: bool,
    window: Option<f64>,
    dephasing: f64,
    decay: f64,
    temperature: Option<f64>,
    collective_decay: f64,
) -> PyResult<(&'static str, Vec<Bound<'py, PyDict>>)> {
    let sweep = sweep(vary, values)?;
    let solvers = solver_list(solvers)?;
    let options = ScanOptions { tol, window, max_work: !power_only };
    let noise = Noise { dephasing, decay, temperature, collective_decay };
    let base = &chain.inner;
    let rows = py.detach(|| study::scan_noisy(base, &noise, &sweep, &solvers, &options, &Silent)).map_err(to_py)?;
    let rows = rows.iter().map(|r| row_dict(py, r)).collect::<PyResult<_>>()?;
    Ok((sweep.parameter.as_str(), rows))
}

/// The points of `spinbat.scan(..., executor=...)`: the varied parameter's name and its
/// values, after every check that needs no computation — the values, the solvers, `tol`
/// and `window`, every point's chain (`Sweep::chains`) and noise (`Sweep::noises`). The
/// memory of each point is checked where it runs (by [`scan`] on the worker that runs
/// it), since that machine's memory is the one that counts.
#[pyfunction]
#[pyo3(signature = (chain, vary, values, solvers, tol, power_only, window, dephasing=0.0, decay=0.0, temperature=None, collective_decay=0.0))]
#[allow(clippy::too_many_arguments)]
pub fn scan_points<'py>(
    chain: &PyChain,
    vary: &str,
    values: Option<&Bound<'py, PyAny>>,
    solvers: &Bound<'py, PyAny>,
    tol: f64,
    power_only: bool,
    window: Option<f64>,
    dephasing: f64,
    decay: f64,
    temperature: Option<f64>,
    collective_decay: f64,
) -> PyResult<(&'static str, Vec<f64>)> {
    let sweep = sweep(vary, values)?;
    if solver_list(solvers)?.is_empty() {
        return Err(PyValueError::new_err("solvers = []: name at least one solver"));
    }
    ScanOptions { tol, window, max_work: !power_only }.validate().map_err(to_py)?;
    let noise = Noise { dephasing, decay, temperature, collective_decay };
    let base = &chain.inner;
    sweep.chains(base).map_err(to_py)?;
    sweep.noises(&noise, base.b()).map_err(to_py)?;
    Ok((sweep.parameter.as_str(), sweep.values.clone()))
}
