//! The planner: from a chain, a solver name, a tolerance and a precision to a ready
//! propagator, after one memory check.

use super::memory;
use super::solver::{resolve, resolve_states, Precision, Solver};
use super::{chebyshev, dicke, Dense, Propagator, StatePropagator};
use crate::error::{Result, SpinbatError};
use crate::model::Chain;
use crate::operator::Operators;
use crate::symmetry::ReflectionSector;

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

/// The planner for requests of the state itself (observables): dense, or Chebyshev on the
/// full space or in the reflection-even sector ([`chebyshev::uses_reflection_sector`]), in
/// double or single precision, as [`plan_with`] would choose them, the solver resolved by
/// [`resolve_states`].
///
/// No memory check here: the caller checks the propagator and its own buffers together
/// (see [`crate::observe::trajectory::check_with`]).
///
/// # Errors
/// [`SpinbatError::InvalidParameter`] for a bad `tol` or single precision with a solver
/// other than Chebyshev;
/// [`SpinbatError::Unsupported`] for the mean field and the weak-coupling formula (no state
/// vector).
pub fn plan_states(chain: &Chain, solver: Solver, tol: f64, precision: Precision) -> Result<Box<dyn StatePropagator>> {
    check_tol(tol)?;
    let solver = resolve_states(chain, solver, precision)?;
    let sector = chebyshev::uses_reflection_sector(chain);
    match (solver, precision) {
        (Solver::Dense, Precision::Double) => Ok(Box::new(Dense::new(chain)?)),
        (Solver::Chebyshev, Precision::Double) if sector => {
            Ok(Box::new(chebyshev::Chebyshev::<_, f64>::with_space(ReflectionSector::new(chain)?, chain, tol)))
        }
        (Solver::Chebyshev, Precision::Double) => Ok(Box::new(chebyshev::Chebyshev::new(chain, tol)?)),
        (Solver::Chebyshev, Precision::Single) if sector => {
            Ok(Box::new(chebyshev::Chebyshev::<_, f32>::with_space(ReflectionSector::new(chain)?, chain, tol)))
        }
        (Solver::Chebyshev, Precision::Single) => {
            Ok(Box::new(chebyshev::Chebyshev::<_, f32>::with_space(Operators::new(chain)?, chain, tol)))
        }
        (other, _) => Err(SpinbatError::Unsupported {
            solver: other.as_str(),
            reason: "no state vector: observables need dense or chebyshev (the mean field has its own trajectory)"
                .to_string(),
        }),
    }
}
