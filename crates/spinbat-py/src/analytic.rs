//! `spinbat.analytic`: the closed forms of physics.md (`spinbat::analytic`), vectorised over
//! times. Units: hbar = 1, energies in B, times in 1/B.

use crate::chain::PyChain;
use crate::errors::invalid;
use numpy::{AllowTypeChange, IntoPyArray, PyArrayLikeDyn};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt};
use spinbat::analytic as a;

/// `f` applied to `t`: a float for a Python number, else a float64 array of `t`'s shape.
fn map_t<'py>(t: &Bound<'py, PyAny>, f: impl Fn(f64) -> f64) -> PyResult<Bound<'py, PyAny>> {
    let py = t.py();
    if t.is_instance_of::<PyFloat>() || t.is_instance_of::<PyInt>() {
        let x: f64 = t.extract()?;
        return Ok(PyFloat::new(py, f(x)).into_any());
    }
    let arr: PyArrayLikeDyn<'py, f64, AllowTypeChange> = t.extract()?;
    Ok(arr.as_array().mapv(f).into_pyarray(py).into_any())
}

fn positive(name: &'static str, v: f64) -> PyResult<f64> {
    if !v.is_finite() {
        return Err(invalid(name, v, "must be a finite number"));
    }
    if v <= 0.0 {
        return Err(invalid(name, v, "must be > 0"));
    }
    Ok(v)
}

/// Optimal phase of one spin, x* = omega T* = 1.16556118520721...: the root of
/// tan x = 2x in (0, pi/2), where sin^2(x)/x is largest.
#[pyfunction]
fn one_spin_optimal_phase() -> f64 {
    a::one_spin_optimal_phase()
}

/// max_x sin^2(x)/x = 0.72461135377... (at x = one_spin_optimal_phase()).
#[pyfunction]
fn one_spin_power_factor() -> f64 {
    a::one_spin_power_factor()
}

/// Maximal power of one spin and its time:
/// P1 = 2 B omega * 0.72461135377... = 1.44922270755... omega B (units of B^2) at
/// T* = 1.16556118520721... / omega (units of 1/B).
///
/// Returns (P1, T*). Raises ValueError unless b and omega are finite and > 0.
#[pyfunction]
#[pyo3(signature = (b=1.0, omega=4.0))]
fn one_spin_max_power(b: f64, omega: f64) -> PyResult<(f64, f64)> {
    Ok(a::one_spin_max_power(positive("b", b)?, positive("omega", omega)?))
}

/// Work on one spin, W(t) = 2 B sin^2(omega t) (units of B; t in 1/B).
///
/// `t` is a float or an array (the result has its shape).
#[pyfunction]
#[pyo3(signature = (t, b=1.0, omega=4.0))]
fn one_spin_work<'py>(t: &Bound<'py, PyAny>, b: f64, omega: f64) -> PyResult<Bound<'py, PyAny>> {
    let (b, omega) = (positive("b", b)?, positive("omega", omega)?);
    map_t(t, |t| a::one_spin_work(b, omega, t))
}

/// Work of N independent spins, W(t) = 2 B N sin^2(omega t) (units of B). Exact for
/// alpha = 1 (XXX, any couplings) and for g = 0.
///
/// `t` is a float or an array (the result has its shape).
#[pyfunction]
#[pyo3(signature = (t, n, b=1.0, omega=4.0))]
fn independent_work<'py>(t: &Bound<'py, PyAny>, n: i64, b: f64, omega: f64) -> PyResult<Bound<'py, PyAny>> {
    if n < 1 {
        return Err(invalid("n_sites", n, "a chain needs at least one site"));
    }
    let (b, omega) = (positive("b", b)?, positive("omega", omega)?);
    map_t(t, |t| a::independent_work(n as usize, b, omega, t))
}

/// Weak-coupling work of the paper's Eq. 18,
/// W(t) = 2 B N sin^2(omega t) + (1 - alpha) G sin^2(2 omega t), G = sum_{i<j} g_ij
/// (units of B); first order in g, error O(g^2 t^2).
///
/// `t` is a float or an array (the result has its shape).
#[pyfunction]
fn weak_coupling_work<'py>(chain: &PyChain, t: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let w = a::WeakCoupling::new(&chain.inner);
    map_t(t, |t| w.work(t))
}

/// Rate dW/dt of Eq. 18, 2 B N omega sin(2 omega t) + 2 (1 - alpha) G omega sin(4 omega t)
/// (units of B^2).
///
/// `t` is a float or an array (the result has its shape).
#[pyfunction]
fn weak_coupling_rate<'py>(chain: &PyChain, t: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let w = a::WeakCoupling::new(&chain.inner);
    map_t(t, |t| w.rate(t))
}

/// Maximal work of Eq. 18 and its first time (paper, Eq. 19): if 2(1 - alpha)G / (BN) <= 1,
/// W = 2BN at T = pi / (2 omega); otherwise
/// W = (BN)^2 (1 + 2(1 - alpha)G/BN)^2 / (4 (1 - alpha) G) at
/// T = arccos(-BN / (2 (1 - alpha) G)) / (2 omega).
///
/// Returns (W_max, T) in units of B and 1/B.
#[pyfunction]
fn weak_coupling_max_work(chain: &PyChain) -> (f64, f64) {
    a::WeakCoupling::new(&chain.inner).max_work()
}

/// Two spins, alpha = 0, strong coupling g >> omega (paper Eqs. 13-14): the fast part
/// (4 omega^2 / g) sin^2(g t) and the slow part 2 omega^2 / g + 4 B sin^2(omega^2 t / g)
/// of the work (units of B).
///
/// Returns (fast, slow), each a float or an array of the shape of `t`. Raises ValueError
/// unless b, g, omega are finite and > 0.
#[pyfunction]
#[pyo3(signature = (t, *, g, b=1.0, omega=4.0))]
fn two_spin_strong_coupling<'py>(
    t: &Bound<'py, PyAny>,
    g: f64,
    b: f64,
    omega: f64,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let (b, g, omega) = (positive("b", b)?, positive("g", g)?, positive("omega", omega)?);
    let fast = map_t(t, |t| a::two_spin_strong_coupling(b, g, omega, t).0)?;
    let slow = map_t(t, |t| a::two_spin_strong_coupling(b, g, omega, t).1)?;
    Ok((fast, slow))
}

/// Effective coupling between |down down> and |up up> of two spins at strong coupling,
/// paper Eq. 15: omega^2 / g (units of B). Raises ValueError unless g, omega are finite
/// and > 0.
#[pyfunction]
#[pyo3(signature = (g, omega=4.0))]
fn two_spin_effective_coupling(g: f64, omega: f64) -> PyResult<f64> {
    Ok(a::two_spin_effective_coupling(positive("g", g)?, positive("omega", omega)?))
}

/// Effective coupling between all-down and all-up of three all-coupled spins, alpha = 0,
/// strong coupling: 3 omega^3 / (8 g^2) (units of B). For N spins it scales like
/// omega^N / g^(N-1). Raises ValueError unless g, omega are finite and > 0.
#[pyfunction]
#[pyo3(signature = (g, omega=4.0))]
fn three_spin_effective_coupling(g: f64, omega: f64) -> PyResult<f64> {
    Ok(a::three_spin_effective_coupling(positive("g", g)?, positive("omega", omega)?))
}

/// Slow part of the work of three all-coupled spins, alpha = 0, strong coupling:
/// 6 B sin^2(3 omega^3 t / (8 g^2)) (units of B).
///
/// `t` is a float or an array (the result has its shape). Raises ValueError unless b, g,
/// omega are finite and > 0.
#[pyfunction]
#[pyo3(signature = (t, *, g, b=1.0, omega=4.0))]
fn three_spin_strong_coupling_slow<'py>(
    t: &Bound<'py, PyAny>,
    g: f64,
    b: f64,
    omega: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let (b, g, omega) = (positive("b", b)?, positive("g", g)?, positive("omega", omega)?);
    map_t(t, |t| a::three_spin_strong_coupling_slow(b, g, omega, t))
}

/// Adds the functions to the `analytic` submodule.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(one_spin_optimal_phase, m)?)?;
    m.add_function(wrap_pyfunction!(one_spin_power_factor, m)?)?;
    m.add_function(wrap_pyfunction!(one_spin_max_power, m)?)?;
    m.add_function(wrap_pyfunction!(one_spin_work, m)?)?;
    m.add_function(wrap_pyfunction!(independent_work, m)?)?;
    m.add_function(wrap_pyfunction!(weak_coupling_work, m)?)?;
    m.add_function(wrap_pyfunction!(weak_coupling_rate, m)?)?;
    m.add_function(wrap_pyfunction!(weak_coupling_max_work, m)?)?;
    m.add_function(wrap_pyfunction!(two_spin_strong_coupling, m)?)?;
    m.add_function(wrap_pyfunction!(two_spin_effective_coupling, m)?)?;
    m.add_function(wrap_pyfunction!(three_spin_effective_coupling, m)?)?;
    m.add_function(wrap_pyfunction!(three_spin_strong_coupling_slow, m)?)?;
    Ok(())
}
