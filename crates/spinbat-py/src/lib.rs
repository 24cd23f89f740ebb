//! Python bindings of spinbat (PyO3): the extension module `spinbat._spinbat`, re-exported
//! by the pure-Python package `spinbat` (`python/spinbat/`).
//!
//! A thin layer, like the CLI: argument conversion (numpy arrays in and out), the GIL
//! released around every computation, and library errors mapped to Python exceptions with
//! the CLI's messages ([`errors`]). All physics lives in the `spinbat` crate.
//!
//! * [`chain::PyChain`] — `spinbat.Chain`: parameters, `charge`, `max_power`, `work`;
//! * [`charging::PyCharging`] — `spinbat.Charging`: the curve and figures of merit;
//! * [`scan::scan`] — the native half of `spinbat.scan`: one parameter swept, several
//!   solvers side by side (`spinbat::study::scan`), rows as dicts; [`scan::scan_points`]
//!   the checked values that `spinbat.scan(..., executor=...)` hands out one by one;
//! * [`storage::store`] — `spinbat.store`: charge, then hold under `H0` with noise
//!   (`spinbat::observe::storage`), a [`storage::PyStorage`] (`spinbat.Storage`);
//! * [`control::optimize`] — `spinbat.optimize`: optimal charging (`spinbat::control`), the
//!   CLI's JSON keys as a dict;
//! * [`analytic`] — `spinbat.analytic`: closed forms, vectorised over times.

mod analytic;
mod chain;
mod charging;
mod control;
mod errors;
mod scan;
mod storage;

use pyo3::prelude::*;

/// Spin-chain quantum batteries (Le et al., PRA 97, 022106 (2018)), native part.
#[pymodule]
fn _spinbat(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("SOLVERS", spinbat::Solver::ALL.map(|s| s.as_str()).to_vec())?;
    m.add("DEFAULT_TOL", spinbat::propagate::DEFAULT_TOL)?;
    m.add("SCAN_COLUMNS", spinbat::study::ScanRow::COLUMNS.to_vec())?;
    m.add_class::<chain::PyChain>()?;
    m.add_class::<charging::PyCharging>()?;
    m.add_function(wrap_pyfunction!(scan::scan, m)?)?;
    m.add_function(wrap_pyfunction!(scan::scan_points, m)?)?;
    m.add_class::<storage::PyStorage>()?;
    m.add_function(wrap_pyfunction!(storage::store, m)?)?;
    m.add_function(wrap_pyfunction!(control::optimize, m)?)?;
    let sub = PyModule::new(py, "analytic")?;
    analytic::register(&sub)?;
    m.add_submodule(&sub)?;
    Ok(())
}
