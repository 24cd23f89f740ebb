//! The machine's resources, at the ground of the library: the memory this process may use,
//! and the one check that a computation fits before anything large is allocated.

use crate::error::{Result, SpinbatError};

/// Memory available to this process: `MemAvailable` from `/proc/meminfo`, capped by a
/// cgroup limit when one is set. `None` where it cannot be read.
pub fn bytes_available() -> Option<f64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let avail =
        meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?.split_whitespace().nth(1)?.parse::<f64>().ok()?
            * 1024.0;
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok().and_then(|s| s.trim().parse::<f64>().ok());
    Some(match cgroup {
        Some(limit) => avail.min(limit),
        None => avail,
    })
}

/// Refuses `bytes` for `what` (a solver or structure, named in the error) on `n_sites`
/// sites when they exceed the available memory; passes where it cannot be read.
///
/// # Errors
/// [`SpinbatError::TooLarge`] with the bytes needed and available.
pub fn ensure_fits(what: &'static str, n_sites: usize, bytes: f64) -> Result<()> {
    ensure_fits_share(what, n_sites, bytes, 1.0)
}

/// [`ensure_fits`] within `share` (`0 < share ≤ 1`) of the available memory, for
/// outputs that must leave room for the computation that fills them.
///
/// # Errors
/// [`SpinbatError::TooLarge`] with the bytes needed and the share available.
pub fn ensure_fits_share(what: &'static str, n_sites: usize, bytes: f64, share: f64) -> Result<()> {
    match bytes_available() {
        Some(available) if bytes > share * available => Err(too_large(what, n_sites, bytes, share * available)),
        _ => Ok(()),
    }
}

/// The error for a structure that cannot exist at all (its indices overflow), whatever
/// the machine: the bytes it would need against what is available.
pub fn cannot_index(what: &'static str, n_sites: usize, bytes: f64) -> SpinbatError {
    too_large(what, n_sites, bytes, bytes_available().unwrap_or(0.0))
}

fn too_large(what: &'static str, n_sites: usize, bytes: f64, available: f64) -> SpinbatError {
    SpinbatError::TooLarge { solver: what, n_sites, bytes_needed: bytes, bytes_available: available }
}
