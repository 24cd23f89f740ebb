//! Floquet studies: the certified `P_max` of a periodic drive `ω(t) = ω + A cos(νt)`
//! ([`crate::model::Drive`]) along its frequency `ν` or amplitude `A` ([`scan_drive`], the
//! same [`ScanRow`]s as [`super::scan`]); the figure `floquet` built on it is in
//! `figures.rs` (`P_max` against `ν` for NN and `p = 1` beside the static charge).
//!
//! Each point is the `charge` of its drive: CFET4:2 in the exact methods
//! ([`crate::propagate::magnus`]), the Bloch equations in the mean field, certified with the
//! drive's bound `W(t)/t ≤ c/t + d` ([`crate::propagate::drive_power_bound`]); `A = 0` is
//! the static charge itself.

use super::scan::{point_of, run_rows, ScanOptions, ScanRow, ScanSolver};
use crate::error::{invalid, Result};
use crate::model::{Chain, Drive, Protocol};
use crate::propagate::{Plan, Precision, Request, Solver};
use crate::Progress;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a Floquet scan varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriveParameter {
    /// The amplitude `A` (`--drive`).
    Drive,
    /// The angular frequency `ν` (`--drive-frequency`).
    DriveFrequency,
}

impl DriveParameter {
    /// The name on the command line and in records: `drive`, `drive_frequency`.
    pub fn as_str(&self) -> &'static str {
        match self {
            DriveParameter::Drive => "drive",
            DriveParameter::DriveFrequency => "drive_frequency",
        }
    }

    /// `drive` with this parameter set to `value`, checked ([`Drive::new`]).
    ///
    /// # Errors
    /// [`crate::SpinbatError::InvalidParameter`] for a non-finite value or `ν < 0`.
    pub fn apply(&self, drive: Drive, value: f64) -> Result<Drive> {
        match self {
            DriveParameter::Drive => Drive::new(drive.omega, value, drive.frequency),
            DriveParameter::DriveFrequency => Drive::new(drive.omega, drive.amplitude, value),
        }
    }
}

impl fmt::Display for DriveParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DriveParameter {
    type Err = crate::SpinbatError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "drive" => Ok(DriveParameter::Drive),
            "drive_frequency" => Ok(DriveParameter::DriveFrequency),
            _ => Err(invalid("vary", s, "a drive parameter is drive (the amplitude A) or drive_frequency (nu)")),
        }
    }
}

/// Scans the drive of `base` (`ω` its field, `drive` the amplitude and frequency held
/// fixed) along `parameter` over `values`, with each of `solvers`: one [`ScanRow`] per
/// (value, solver), in the order values × solvers, each the charge of its drive
/// ([`Plan::protocol_propagator`]; `A = 0` the static charge, bit for bit); `quantum` runs
/// Chebyshev on the chain's sector (never dense: every CFET4:2 exponential has its own field,
/// so dense would diagonalise `2^N × 2^N` for each). Memory is
/// checked for every point before any runs; small points run in parallel.
///
/// # Errors
/// An invalid drive value, a solver that refuses a drive (weak coupling, single
/// precision: [`crate::SpinbatError::Unsupported`]), memory, or the first error of a point.
pub fn scan_drive(
    base: &Chain,
    drive: Drive,
    parameter: DriveParameter,
    values: &[f64],
    solvers: &[ScanSolver],
    options: &ScanOptions,
    progress: &dyn Progress,
) -> Result<Vec<ScanRow>> {
    if solvers.is_empty() {
        return Err(invalid("solvers", "[]", "name at least one solver"));
    }
    if values.is_empty() {
        return Err(invalid(parameter.as_str(), "[]", "a sweep needs at least one value"));
    }
    options.validate()?;
    let drive = Drive::new(base.omega(), drive.amplitude, drive.frequency)?;
    let mut jobs = Vec::with_capacity(values.len() * solvers.len());
    for &value in values {
        let d = parameter.apply(drive, value)?;
        for s in solvers {
            // `quantum` under a drive is Chebyshev: dense would diagonalise 2^N x 2^N for every
            // exponential (each has its own effective field)
            // (A = 0 is the static charge: its solver as in every scan)
            let solver = if s.solver == Solver::Auto && d.amplitude != 0.0 { Solver::Chebyshev } else { s.solver };
            let plan = Plan::new(base, solver, options.tol, Precision::Double, Request::Work)?;
            jobs.push((value, d, *s, plan));
        }
    }
    run_rows(
        &jobs,
        |job| job.3.bytes(),
        |(value, d, s, plan)| {
            plan.protocol_propagator(base, &Protocol::Drive(*d))
                .and_then(|prop| point_of(*value, base, *s, options, prop))
        },
        progress,
    )
}

/// The drive's amplitude in the figure, relative to the static field: `A = ω/2`.
pub const FIGURE_AMPLITUDE_SHARE: f64 = 0.5;

/// The frequencies `ν` of the figure (units of `B`): `quick` three, else eight from
/// `ν = 0.5` to `64` (the static field is `ω = 4`, the NN bandwidth `≈ 2g + 2B`).
pub fn figure_frequencies(quick: bool) -> Vec<f64> {
    if quick {
        vec![2.0, 8.0, 32.0]
    } else {
        vec![0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
    }
}
