//! Typed errors of the library. Every invalid input is caught before anything large is
//! allocated; callers (the CLI, Python) turn these into messages and exit codes.

use thiserror::Error;

/// Everything that can go wrong in spinbat.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SpinbatError {
    /// A physics or numerical parameter is out of its domain (negative, NaN, ...).
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter { name: &'static str, value: String, reason: String },
    /// An explicit coupling matrix is malformed.
    #[error("invalid coupling matrix: {reason}")]
    InvalidMatrix { reason: String },
    /// Requested sample times are not usable (negative, NaN, unsorted).
    #[error("invalid times: {reason}")]
    InvalidTimes { reason: String },
    /// The chosen solver would need more memory than the machine has.
    #[error(
        "{solver} solver for N = {n_sites} needs about {} but only {} is available",
        human_bytes(*bytes_needed), human_bytes(*bytes_available)
    )]
    TooLarge { solver: &'static str, n_sites: usize, bytes_needed: f64, bytes_available: f64 },
    /// The chosen solver cannot handle this chain at all.
    #[error("{solver} solver cannot be used here: {reason}")]
    Unsupported { solver: &'static str, reason: String },
    /// An iterative procedure failed to reach its tolerance.
    #[error("{what} did not converge: {reason}")]
    NotConverged { what: &'static str, reason: String },
}

/// Result alias used across the crate.
pub type Result<T> = std::result::Result<T, SpinbatError>;

/// Formats a byte count as `12.3 GiB`.
pub fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if !v.is_finite() {
        return "an astronomical amount".to_string();
    }
    format!("{v:.1} {}", UNITS[u])
}

pub(crate) fn invalid(name: &'static str, value: impl ToString, reason: impl Into<String>) -> SpinbatError {
    SpinbatError::InvalidParameter { name, value: value.to_string(), reason: reason.into() }
}
