//! Library errors as Python exceptions, with the message text the Rust error (and the CLI)
//! displays:
//! * [`SpinbatError::TooLarge`] (the solver would need more memory than the machine has) →
//!   `MemoryError`;
//! * [`SpinbatError::NotConverged`] (not bad input: the CLI exits with status 1) →
//!   `RuntimeError`;
//! * everything else is bad input (the CLI exits with status 2) → `ValueError`.

use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyValueError};
use pyo3::PyErr;
use spinbat::SpinbatError;

/// The Python exception for a library error.
pub fn to_py(e: SpinbatError) -> PyErr {
    match e {
        SpinbatError::TooLarge { .. } => PyMemoryError::new_err(e.to_string()),
        SpinbatError::NotConverged { .. } => PyRuntimeError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// `ValueError` worded like [`SpinbatError::InvalidParameter`]:
/// `invalid parameter {name} = {value}: {reason}`.
pub fn invalid(name: &'static str, value: impl ToString, reason: impl Into<String>) -> PyErr {
    to_py(SpinbatError::InvalidParameter { name, value: value.to_string(), reason: reason.into() })
}
