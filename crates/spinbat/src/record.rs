//! Output records with provenance: what was computed, with which version and parameters.

use serde::{Deserialize, Serialize};

/// Where a result came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// spinbat version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// Git revision at build time, when known.
    pub git_rev: Option<String>,
    /// Seconds since the Unix epoch when the record was made.
    pub created_unix: u64,
    /// Worker threads used.
    pub threads: usize,
}

impl Provenance {
    /// Provenance of this build and run.
    pub fn current() -> Self {
        Provenance {
            version: env!("CARGO_PKG_VERSION").to_string(),
            git_rev: option_env!("SPINBAT_GIT_REV").map(str::to_string),
            created_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            threads: rayon::current_num_threads(),
        }
    }
}

/// The chain as recorded: its parameters plus the derived `G`, `E_0` and work bound.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRecord {
    /// The chain's parameters (N, B, g, α, ω, couplings, boundary).
    #[serde(flatten)]
    pub chain: crate::Chain,
    /// `G = Σ_{i<j} g_ij`.
    pub total_coupling: f64,
    /// `E_0 = −NB − G`.
    pub initial_energy: f64,
    /// `W_bound = N(|B| + B) + min(N|ω|, λ_max(H_g) + G)`, the bound on `W` that certifies
    /// `P_max` ([`crate::Chain::work_bound`]; the exact solvers may tighten it).
    pub work_bound: f64,
}

impl ModelRecord {
    /// Records `chain` with its derived quantities.
    pub fn of(chain: &crate::Chain) -> Self {
        ModelRecord {
            chain: chain.clone(),
            total_coupling: chain.total_coupling(),
            initial_energy: chain.initial_energy(),
            work_bound: chain.work_bound(),
        }
    }
}

/// The charging curve as columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesRecord {
    /// Times (units `1/B`).
    pub t: Vec<f64>,
    /// `W(t)` (units `B`).
    pub work: Vec<f64>,
    /// `P(t) = W(t)/t` (units `B²`).
    pub power: Vec<f64>,
    /// One standard error of the mean `W(t)` over quantum trajectories (units `B`); absent
    /// for the deterministic solvers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_stderr: Option<Vec<f64>>,
}

/// One `charge` run: parameters, solver, accuracy, curve, maxima and provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChargeRecord {
    /// The chain.
    pub model: ModelRecord,
    /// Solver that ran (`auto` resolved).
    pub solver: String,
    /// Solver the user asked for.
    pub solver_requested: String,
    /// Absolute tolerance on `W` asked for.
    pub tolerance: f64,
    /// Floating-point precision of the states (`double`, or `single` for `--precision single`).
    pub precision: crate::propagate::Precision,
    /// Whether the all-down start is the ground state of `H0` (`null`: not checked), see
    /// [`crate::observe::ground`]; `W` is measured from `E_0` either way.
    pub initial_is_ground: Option<bool>,
    /// Ground energy of `H0` where known (units `B`).
    pub ground_energy: Option<f64>,
    /// Bound (dense: estimate) on the absolute error of `W` reached; `null` where the
    /// solver's error is not bounded (weak coupling).
    pub error_bound: Option<f64>,
    /// How the error is controlled.
    pub accuracy: String,
    /// The curve at the requested times.
    pub series: SeriesRecord,
    /// Certified maximal power.
    pub max_power: crate::observe::Extremum,
    /// No `T` beyond this can beat `max_power`.
    pub certified_until: f64,
    /// Maximal work over `[0, window]`.
    pub max_work: crate::observe::Extremum,
    /// End of the window of `max_work`.
    pub window: f64,
    /// `N` independent spins.
    pub independent: crate::observe::Independent,
    /// `P_max / (N P⁽¹⁾)`.
    pub power_ratio: f64,
    /// `W` evaluations made by the search.
    pub evaluations: usize,
    /// Wall time of the computation (seconds).
    pub run_time_s: f64,
    /// The noise of the open battery (`--dephasing`, `--decay`, `--temperature`,
    /// `--collective-decay`); absent for the closed battery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<crate::open::Noise>,
    /// `T0` of a thermal start, the Gibbs state of `H0` (units `B`); absent for all-down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_temperature: Option<f64>,
    /// `E_β = Tr(H0ρ_β)`, the energy the work is measured from after a thermal start
    /// (`W = Tr(H0ρ(t)) − E_β`); absent where the start is all-down (`E_0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_energy: Option<f64>,
    /// Observables along the trajectory, when asked for ([`ChargeRecord::with_observables`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observables: Option<ObservablesRecord>,
    /// The quantum-trajectory ensemble (`--solver trajectories`): count, seed, jumps, the
    /// standard errors of the maxima and how to read them; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trajectories: Option<crate::observe::ensemble::EnsembleSummary>,
    /// Disorder ensembles (`--disorder-g`, `--disorder-field`): spreads, realisations, seed,
    /// mean ± standard error and quantiles of `P_max`, `T*` and the maximal work, and every
    /// realisation's values (`realisations[]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disorder: Option<crate::observe::disorder::DisorderSummary>,
    /// The time-dependent field `ω(t)` (`--omega-schedule`: `{"schedule": {"ends": [..],
    /// "omegas": [..]}}`; `--drive`: `{"drive": {"omega", "amplitude", "frequency"}}`);
    /// absent for the constant field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<crate::model::Protocol>,
    /// One state vector partitioned over processes (`mpiexec -n R spinbat charge`, the
    /// CLI's `mpi` feature; [`crate::propagate::distributed`]), as top-level keys
    /// (`processes`, `chebyshev_terms`, `applications`, `bytes_per_application`,
    /// `bytes_exchanged`); absent for a one-process run.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub partition: Option<crate::partition::PartitionReport>,
    /// The MPS solver's settings and accuracy figures, as top-level keys (`bond_dim`,
    /// `truncation`, `discarded_weight`, `step_error_estimate`, `mpo_fit_error`, ...);
    /// absent for the other solvers.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub mps: Option<crate::mps::MpsReport>,
    /// A periodic drive in an exact method (CFET4:2, `propagate::magnus`): the estimate
    /// `2‖H0 − E_0‖ (Σ_n d_n + p)` of the time-discretisation error of `W` from step
    /// doubling, the differences' rounding floor taken out (an estimate, not a bound);
    /// absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drive_step_error_estimate: Option<f64>,
    /// With `drive_step_error_estimate`: the rounding floor `2‖H0 − E_0‖ Σ_n f_n` of the
    /// step-doubling differences (rounding and series truncation, bounded in the
    /// exponentials' own error bound), below which step doubling cannot resolve the
    /// discretisation error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drive_step_error_floor: Option<f64>,
    /// A periodic drive: the certified power bound `W(t)/t ≤ c/t + d` of the search
    /// (`propagate::drive_power_bound`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drive_power_bound: Option<crate::propagate::DrivePowerBound>,
    /// Version, git revision, time, threads.
    pub provenance: Provenance,
}

/// Observables along the charging trajectory ([`crate::observe::trajectory`]): the
/// trajectory (solver, selection, cut, error bounds, one point per output time with only
/// the selected observables) and its summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservablesRecord {
    /// The trajectory.
    #[serde(flatten)]
    pub trajectory: crate::observe::trajectory::Trajectory,
    /// Largest entropy over the output times (nats) and its time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_entropy: Option<crate::observe::trajectory::Peak>,
    /// Largest `Var(H0)` over the output times (`B²`) and its time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_variance: Option<crate::observe::trajectory::Peak>,
    /// The selected observables at the certified `T*` itself (not an output time in
    /// general), where the caller measured them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_t_star: Option<crate::observe::trajectory::ObservablePoint>,
    /// Wall time of the trajectory (seconds).
    pub run_time_s: f64,
}

impl ObservablesRecord {
    /// Records a trajectory and its peaks.
    pub fn new(trajectory: crate::observe::trajectory::Trajectory, run_time_s: f64) -> Self {
        ObservablesRecord {
            peak_entropy: trajectory.peak_entropy(),
            max_variance: trajectory.max_variance(),
            trajectory,
            at_t_star: None,
            run_time_s,
        }
    }
}

impl ChargeRecord {
    /// Assembles the record of a finished run.
    pub fn new(
        chain: &crate::Chain,
        requested: crate::Solver,
        tolerance: f64,
        result: &crate::observe::Charging,
        run_time_s: f64,
    ) -> Self {
        ChargeRecord {
            model: ModelRecord::of(chain),
            solver: result.solver.clone(),
            solver_requested: requested.as_str().to_string(),
            tolerance,
            precision: crate::propagate::Precision::Double,
            initial_is_ground: None,
            ground_energy: None,
            error_bound: result.error_bound,
            accuracy: result.accuracy.clone(),
            series: SeriesRecord {
                t: result.series.iter().map(|p| p.t).collect(),
                work: result.series.iter().map(|p| p.work).collect(),
                power: result.series.iter().map(|p| p.power).collect(),
                work_stderr: None,
            },
            max_power: result.max_power,
            certified_until: result.certified_until,
            max_work: result.max_work,
            window: result.window,
            independent: result.independent,
            power_ratio: result.power_ratio,
            evaluations: result.evaluations,
            run_time_s,
            noise: None,
            initial_temperature: None,
            initial_energy: None,
            observables: None,
            trajectories: None,
            disorder: None,
            protocol: None,
            partition: None,
            mps: None,
            drive_step_error_estimate: None,
            drive_step_error_floor: None,
            drive_power_bound: None,
            provenance: Provenance::current(),
        }
    }

    /// The record of a quantum-trajectory charge: the mean curve's, with the standard
    /// errors (`series.work_stderr`) and the ensemble's summary attached.
    pub fn of_ensemble(
        chain: &crate::Chain,
        requested: crate::Solver,
        tolerance: f64,
        result: &crate::observe::ensemble::EnsembleCharging,
        run_time_s: f64,
    ) -> Self {
        let mut record = ChargeRecord::new(chain, requested, tolerance, &result.charging, run_time_s);
        record.series.work_stderr = Some(result.work_stderr.clone());
        record.trajectories = Some(result.summary.clone());
        record
    }

    /// The record of a disorder ensemble ([`crate::observe::disorder::charge_disorder`]) on
    /// the clean `chain`: the mean curve with `series.work_stderr`, the means of the figures
    /// of merit, and `disorder`.
    pub fn of_disorder(
        chain: &crate::Chain,
        requested: crate::Solver,
        tolerance: f64,
        result: &crate::observe::disorder::DisorderCharging,
        run_time_s: f64,
    ) -> Self {
        let mut record = ChargeRecord::new(chain, requested, tolerance, &result.charging, run_time_s);
        record.series.work_stderr = Some(result.work_stderr.clone());
        record.disorder = Some(result.summary.clone());
        record
    }

    /// The record with observables along the trajectory attached.
    pub fn with_observables(mut self, observables: ObservablesRecord) -> Self {
        self.observables = Some(observables);
        self
    }
}

/// A closed form of the paper for `|J_eff|` at leading order, where one exists.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClosedFormRecord {
    /// The formula, e.g. `omega^2/g (Eq. 15)`.
    pub formula: String,
    /// Its value (units `B`).
    pub value: f64,
    /// `|J_eff| / value`, which tends to 1 as `g/ω → ∞`.
    pub ratio: f64,
}

/// One `effective` run: the exact effective coupling of `|D⟩` and `|U⟩`, its leading
/// order, the paper's closed form where it applies, and the slow oscillation's maximum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectiveRecord {
    /// The chain.
    pub model: ModelRecord,
    /// `J_eff`, `Δ`, `Z`, `c_N`, ... (see [`crate::effective::EffectiveCoupling`]).
    pub coupling: crate::effective::EffectiveCoupling,
    /// `J_eff / (c_N ω^N / g^{N−1})`.
    pub ratio_to_leading_order: f64,
    /// Eq. 15 (`N = 2`) or `3ω³/(8g²)` (three all-coupled spins), for `α = 0`.
    pub closed_form: Option<ClosedFormRecord>,
    /// The slow oscillation and its first maximum (`None` when not computed).
    pub slow: Option<crate::effective::SlowOscillation>,
    /// Why the slow oscillation was not computed, if it was not.
    pub slow_skipped: Option<String>,
    /// How accurate the numbers are.
    pub accuracy: String,
    /// Wall time (seconds).
    pub run_time_s: f64,
    /// Version, git revision, time, threads.
    pub provenance: Provenance,
}

/// The storage curve as columns (storage times from the end of charging).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StorageSeriesRecord {
    /// Storage times `s` (units `1/B`).
    pub t: Vec<f64>,
    /// `W(s)` (units `B`).
    pub work: Vec<f64>,
    /// `dW/ds` (units `B²`): `0` in closed storage, the self-discharge rate under noise.
    pub rate: Vec<f64>,
    /// By trajectories: one standard error of the mean `W(s)` (units `B`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_stderr: Option<Vec<f64>>,
}

/// One `store` run ([`crate::observe::storage`]): the chain, the noise and when it acts,
/// the charge, the storage curve, the observables at the storage times (the ergotropy
/// family always), the half-lives and provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreRecord {
    /// The chain.
    pub model: ModelRecord,
    /// Solver that ran.
    pub solver: String,
    /// Solver the user asked for.
    pub solver_requested: String,
    /// Absolute tolerance on `W` asked for.
    pub tolerance: f64,
    /// The noise as given (its channels act as `noise_during` says).
    pub noise: crate::open::Noise,
    /// When the noise acts: `charge`, `storage` or `both`.
    pub noise_during: crate::observe::storage::NoiseDuring,
    /// `T0` of a thermal start, the Gibbs state of `H0` (units `B`); absent for all-down
    /// (`charge.initial_energy` is then `E_β`, the energy `W` is measured from).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_temperature: Option<f64>,
    /// The charge before storage: `T`, where it came from, its noise, `W(T)`.
    pub charge: crate::observe::storage::ChargeStage,
    /// The noise in storage.
    pub storage_noise: crate::open::Noise,
    /// Bound on the absolute error of every `W`.
    pub error_bound: f64,
    /// How the error is controlled.
    pub accuracy: String,
    /// `W(s)` and its rate at the storage times.
    pub series: StorageSeriesRecord,
    /// The observables at the start of storage (`s = 0`).
    pub start: crate::observe::trajectory::ObservablePoint,
    /// The observables at the storage times (`points[].t` the storage time).
    pub observables: ObservablesRecord,
    /// Half-lives of the work and of the ergotropies for `H0` and `H_B`.
    pub half_lives: crate::observe::storage::HalfLives,
    /// By trajectories: their number, seed, mean jumps, the standard errors of `W(s)` and
    /// how to read them; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<crate::observe::storage::StorageEnsemble>,
    /// Wall time (seconds).
    pub run_time_s: f64,
    /// Version, git revision, time, threads.
    pub provenance: Provenance,
}

impl StoreRecord {
    /// Assembles the record of a finished storage run.
    pub fn new(
        chain: &crate::Chain,
        spec: &crate::observe::storage::StorageSpec,
        storage: crate::observe::storage::Storage,
        run_time_s: f64,
    ) -> Self {
        let s = storage;
        StoreRecord {
            model: ModelRecord::of(chain),
            solver: s.trajectory.solver.clone(),
            solver_requested: spec.solver.as_str().to_string(),
            tolerance: spec.tol,
            noise: spec.noise,
            noise_during: s.noise_during,
            initial_temperature: spec.start.temperature(),
            charge: s.charge,
            storage_noise: s.storage_noise,
            error_bound: s.work_error,
            accuracy: s.trajectory.accuracy.clone(),
            series: StorageSeriesRecord {
                t: s.series.iter().map(|p| p.t).collect(),
                work: s.series.iter().map(|p| p.work).collect(),
                rate: s.series.iter().map(|p| p.rate).collect(),
                work_stderr: s.ensemble.as_ref().map(|e| e.work_stderr.clone()),
            },
            start: s.start,
            observables: ObservablesRecord::new(s.trajectory, run_time_s),
            half_lives: s.half_lives,
            ensemble: s.ensemble,
            run_time_s,
            provenance: Provenance::current(),
        }
    }
}
