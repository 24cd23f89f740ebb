//! Typed errors of the library. Every invalid input is caught before anything large is
//! allocated; callers (the CLI, Python) turn these into messages and exit codes.

use thiserror::Error;

/// Everything that can go wrong in spinbat. New kinds of failure may be added (new
/// solvers bring their own), so a `match` needs a catch-all arm.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum SpinbatError {
    /// A physics or numerical parameter is out of its domain (negative, NaN, ...).
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter's name as the library spells it (`n_sites`, `tol`, ...).
        name: &'static str,
        /// The value given, as text.
        value: String,
        /// Why it is refused, and what is allowed.
        reason: String,
    },
    /// An explicit coupling matrix is malformed.
    #[error("invalid coupling matrix: {reason}")]
    InvalidMatrix {
        /// What is wrong (shape, symmetry, diagonal, a bad entry and where).
        reason: String,
    },
    /// Requested sample times are not usable (negative, NaN, unsorted).
    #[error("invalid times: {reason}")]
    InvalidTimes {
        /// Which time and why.
        reason: String,
    },
    /// The chosen solver would need more memory than the machine has.
    #[error("{}", too_large(solver, *n_sites, *bytes_needed, *bytes_available))]
    TooLarge {
        /// The solver or structure that would not fit.
        solver: &'static str,
        /// Sites of the chain.
        n_sites: usize,
        /// Its estimate, in bytes.
        bytes_needed: f64,
        /// What the process may use, in bytes (0 where unknown).
        bytes_available: f64,
    },
    /// The chosen solver cannot handle this chain at all.
    #[error("{solver} solver cannot be used here: {reason}")]
    Unsupported {
        /// The solver asked for.
        solver: &'static str,
        /// Why, and what to use instead.
        reason: String,
    },
    /// A computation would run far too long: `what` needs `needed` steps (grid points,
    /// say), more than the `limit` any practical run takes; `advice` says what to change.
    #[error("{what} would need {} {unit}, more than the limit of {}: {advice}", sig_count(*needed), sig_count(*limit))]
    TooLong {
        /// The computation refused.
        what: &'static str,
        /// How many steps it would need.
        needed: f64,
        /// The most any practical run takes.
        limit: f64,
        /// What a step is (`grid points`).
        unit: &'static str,
        /// What to change.
        advice: String,
    },
    /// The caller asked a running computation to stop ([`crate::Progress::stop_reason`]).
    #[error("stopped: {reason}")]
    Stopped {
        /// The caller's reason (an estimate past a time limit, say).
        reason: String,
    },
    /// An iterative procedure failed to reach its tolerance.
    #[error("{what} did not converge: {reason}")]
    NotConverged {
        /// The procedure (`dense eigendecomposition`, `DOP853 integration`, ...).
        what: &'static str,
        /// What happened: the library's message, the step or size where it failed.
        reason: String,
    },
}

/// Result alias used across the crate.
pub type Result<T> = std::result::Result<T, SpinbatError>;

/// The message of [`SpinbatError::TooLarge`]: bytes in binary units up to PiB; beyond an
/// exbibyte (no machine has one) the state's `2^N` amplitudes instead of a number of bytes
/// that means nothing to anyone.
fn too_large(solver: &str, n_sites: usize, needed: f64, available: f64) -> String {
    if needed >= EXBIBYTE {
        format!(
            "{solver} solver for N = {n_sites} needs about {} (a state of 2^{n_sites} = {} amplitudes: far beyond any \
             machine) but only {} is available",
            human_bytes(needed),
            sig_count((n_sites as f64).exp2()),
            human_bytes(available)
        )
    } else {
        format!(
            "{solver} solver for N = {n_sites} needs about {} but only {} is available",
            human_bytes(needed),
            human_bytes(available)
        )
    }
}

const EXBIBYTE: f64 = 1_152_921_504_606_846_976.0;

/// A large count in three significant digits: `1.27e30`, or plainly below a million.
pub fn sig_count(x: f64) -> String {
    if !x.is_finite() {
        "an unbounded number of".to_string()
    } else if x.abs() < 1e6 {
        format!("{}", x.round())
    } else {
        format!("{x:.2e}")
    }
}

/// Formats a byte count as `12.3 GiB`, up to PiB; beyond an exbibyte (no machine has one)
/// as `4.6e31 bytes`, not `4.1e16 PiB`.
pub fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if !bytes.is_finite() {
        return "an astronomical amount".to_string();
    }
    if bytes >= EXBIBYTE {
        return format!("{bytes:.1e} bytes");
    }
    let mut v = bytes;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

pub(crate) fn invalid(name: &'static str, value: impl ToString, reason: impl Into<String>) -> SpinbatError {
    SpinbatError::InvalidParameter { name, value: value.to_string(), reason: reason.into() }
}
