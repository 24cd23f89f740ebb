//! The planner: from a chain, a solver name, a tolerance and a precision to a ready
//! propagator, after one memory check.

use super::memory;
use super::solver::{resolve, Precision, Solver};
use super::{chebyshev, dicke, Dense, Propagator};
use crate::error::Result;
use crate::model::Chain;

/// Builds the propagator for `chain`, checking the memory it needs first.
///
/// `tol` is the absolute tolerance on `W` (Chebyshev, mean field); it must be in `(0, 1)`.
///
/// # Errors
/// [`SpinbatError::TooLarge`](crate::SpinbatError::TooLarge) when the estimate of [`memory::bytes_needed`] exceeds what
/// the machine has; [`SpinbatError::InvalidParameter`](crate::SpinbatError::InvalidParameter) for a bad `tol`.
pub fn plan(chain: &Chain, solver: Solver, tol: f64) -> Result<Box<dyn Propagator>> {
    check_tol(tol)?;
    let solver = resolve(chain, solver);
    memory::check(chain, solver)?;
    Ok(match solver {
        Solver::Dense => Box::new(Dense::new(chain)?),
        Solver::Chebyshev => chebyshev::plan(chain, tol)?,
        Solver::Dicke => Box::new(dicke::Dicke::new(chain, tol)?),
        Solver::MeanField => Box::new(crate::meanfield::MeanField::new(chain, tol)?),
        Solver::WeakCoupling => Box::new(crate::analytic::WeakCoupling::new(chain)),
        Solver::Auto => unreachable!("resolved above"),
    })
}

/// [`plan`] in the given precision. Single precision runs the Chebyshev solver with `f32`
/// states (`auto` then means Chebyshev, whatever the size); other solvers are double only.
///
/// # Errors
/// As [`plan`]; [`SpinbatError::InvalidParameter`](crate::SpinbatError::InvalidParameter) for single precision with a solver other
/// than `auto` or `chebyshev`.
pub fn plan_with(chain: &Chain, solver: Solver, tol: f64, precision: Precision) -> Result<Box<dyn Propagator>> {
    match precision {
        Precision::Double => plan(chain, solver, tol),
        Precision::Single => {
            check_tol(tol)?;
            if !matches!(solver, Solver::Auto | Solver::Chebyshev) {
                return Err(crate::error::invalid(
                    "precision",
                    "single",
                    format!("single precision is implemented for the chebyshev solver, not {solver}"),
                ));
            }
            memory::check_with(chain, Solver::Chebyshev, Precision::Single)?;
            chebyshev::plan_in::<f32>(chain, tol)
        }
    }
}

/// Checks that the tolerance on `W` is a number in `(0, 1)`.
fn check_tol(tol: f64) -> Result<()> {
    if tol.is_finite() && tol > 0.0 && tol < 1.0 {
        Ok(())
    } else {
        Err(crate::error::invalid("tol", tol, "must be a number in (0, 1)"))
    }
}
