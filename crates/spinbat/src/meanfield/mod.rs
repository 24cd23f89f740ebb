//! Classical mean-field model (paper Sec. IV). Placeholder until the integrator lands.

use crate::error::{Result, SpinbatError};
use crate::model::Chain;
use crate::propagate::{Propagator, WorkSample};

/// Mean-field propagator (classical Bloch vectors).
pub struct MeanField;

impl MeanField {
    /// Not yet available.
    pub fn new(_chain: &Chain, _tol: f64) -> Result<Self> {
        Err(SpinbatError::Unsupported {
            solver: "mean-field",
            reason: "not implemented yet".into(),
        })
    }
}

impl Propagator for MeanField {
    fn name(&self) -> &'static str {
        "mean-field"
    }
    fn sample(&mut self, _times: &[f64]) -> Result<Vec<WorkSample>> {
        unreachable!()
    }
    fn error_bound(&self) -> f64 {
        0.0
    }
    fn accuracy_note(&self) -> String {
        String::new()
    }
}
