//! The noise flags of the open battery (`--dephasing`, `--decay`, `--temperature`,
//! `--collective-decay`) -> the library's `open::Noise`, which checks them; and the mixed
//! start beside them (`--initial-temperature` -> `open::Start`).

use clap::Args;
use spinbat::open::{Noise, Start};

/// Lindblad noise while charging (rates in units of B, like every energy; times in 1/B).
#[derive(Debug, Args, Clone, Default)]
pub struct NoiseArgs {
    /// Local dephasing rate gamma >= 0 [units of B]: L_i = sqrt(gamma) Z_i on every site; a
    /// lone spin's coherence decays as exp(-2 gamma t). Needs --solver density-matrix (or auto).
    #[arg(long, value_name = "GAMMA", allow_negative_numbers = true, help_heading = "Noise (open battery)")]
    pub dephasing: Option<f64>,
    /// Local decay rate gamma >= 0 [units of B]: L_i = sqrt(gamma) sigma_i^-, sigma^- = |down><up|
    /// (towards the ground state of H_B); with --temperature the thermal pair below.
    #[arg(long, value_name = "GAMMA", allow_negative_numbers = true, help_heading = "Noise (open battery)")]
    pub decay: Option<f64>,
    /// Temperature T >= 0 of the local bath [units of B, k_B = 1], with --decay gamma:
    /// L_i = sqrt(gamma (n+1)) sigma_i^- and sqrt(gamma n) sigma_i^+, n = 1/(exp(2B/T) - 1).
    #[arg(long, value_name = "T", allow_negative_numbers = true, help_heading = "Noise (open battery)")]
    pub temperature: Option<f64>,
    /// Collective decay rate Gamma >= 0 [units of B]: one operator L = sqrt(Gamma) sum_i sigma_i^-
    /// (superradiant decay).
    #[arg(long, value_name = "GAMMA", allow_negative_numbers = true, help_heading = "Noise (open battery)")]
    pub collective_decay: Option<f64>,
    /// Start from the Gibbs (thermal) state of H0 at temperature T0 >= 0 [units of B, k_B = 1],
    /// rho = exp(-H0/T0)/Z, instead of all-down; W is measured from its energy Tr(H0 rho).
    /// A mixed state: the density matrix runs it (auto), or --solver trajectories (each
    /// trajectory starts in an eigenstate of H0 drawn with its Boltzmann weight). T0 = 0 is
    /// the ground state (all-down where it is proved so: the same numbers as without the flag).
    #[arg(long, value_name = "T0", allow_negative_numbers = true, help_heading = "Initial state")]
    pub initial_temperature: Option<f64>,
}

impl NoiseArgs {
    /// The library's noise spec (unchecked: `Noise::check` and the planner check it).
    pub fn noise(&self) -> Noise {
        Noise {
            dephasing: self.dephasing.unwrap_or(0.0),
            decay: self.decay.unwrap_or(0.0),
            temperature: self.temperature,
            collective_decay: self.collective_decay.unwrap_or(0.0),
        }
    }

    /// The starting state: all-down, or the Gibbs state at `--initial-temperature`.
    ///
    /// # Errors
    /// A negative or non-finite temperature (exit status 2).
    pub fn start(&self) -> spinbat::Result<Start> {
        Start::from_temperature(self.initial_temperature)
    }

    /// Whether any noise flag was given (a zero rate counts: the density matrix then runs
    /// the closed battery).
    pub fn any(&self) -> bool {
        self.dephasing.is_some()
            || self.decay.is_some()
            || self.temperature.is_some()
            || self.collective_decay.is_some()
    }
}
