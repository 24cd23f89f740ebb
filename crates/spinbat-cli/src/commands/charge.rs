//! `spinbat charge`: one chain, one solver; summary, JSON, CSV and plot.

use crate::{model_args::ModelArgs, noise_args::NoiseArgs, output::OutputArgs, plot, progress::Bar, CliError};
use anyhow::{anyhow, Context};
use clap::Args;
use spinbat::model::{Drive, Protocol, Schedule};
use spinbat::observe::ergotropy::ErgotropyPoint;
use spinbat::observe::trajectory::{self, ObservableSet, Trajectory};
use spinbat::observe::{self, Charging};
use spinbat::propagate;
use spinbat::record::{ChargeRecord, ObservablesRecord};
use spinbat::{Chain, Solver};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Physics and numerics of `spinbat charge`.
#[derive(Debug, Args)]
#[command(
    mut_arg("csv", |a| a.help("Write t, work, power as CSV (with header)")),
    mut_arg("plot", |a| a.help("Plot W(t) and P(t) (and the entropy with --observe entanglement) to FILE.png or FILE.svg")),
    after_help = "\
Model (hbar = 1, energies in units of B, times in 1/B):
  H0 = B sum_i Z_i - sum_{i<j} g_ij [Z_i Z_j + alpha (X_i X_j + Y_i Y_j)]   (storage)
  H  = H0 - B sum_i Z_i + omega sum_i X_i                                (charging, 0 < t < T)
  W(T) = <psi(T)|H0|psi(T)> - E0 from the all-down state; P(T) = W(T)/T.
P_max is a certified global maximum over all T > 0 (energy conservation bounds the work,
W <= N(|B| + B) + min(N|omega|, lambda_max(H_g) + G), so no later T can beat it),
refined to ~1e-13 in T; it does not depend on --points or --times.

Observables (--observe), along the exact quantum state psi(t) (dense for N <= 10,
chebyshev beyond, in the reflection-even sector for mirror-symmetric chains with N >= 14 and
in the --precision asked; with --solver mean-field the classical product state instead; with
--solver mps the matrix-product state, measured by contractions while the charge runs (one
propagation), every key extrapolated from the runs at steps delta and 2 delta as W is; not
--block):
  entanglement  von Neumann entropy S = -Tr rho_A ln rho_A (nats; ln 2 = one Bell pair) of
                sites 0..K against K..N (--cut K, default N/2); 0 for a product state,
                which is all the classical mean-field model can describe
  bloch         per-site Bloch vector (<X_i>, <Y_i>, <Z_i>); all-down is (0, 0, -1), and
                <Z_i> = 1 means site i fully charged (compare with --solver mean-field)
  zz            connected correlations <Z_i Z_j> - <Z_i><Z_j> (0 between independent spins)
  variance      energy variance <H0^2> - <H0>^2 [B^2]: the spread of the stored energy
                (0 at the start, an H0 eigenstate)
  ergotropy     the work unitaries can extract [B]: ergotropy (for H0: <H0> - E_min),
                ergotropy_hb (for H_B = B sum Z_i), local_ergotropy (from the one-site
                states), locked_ergotropy (ergotropy_hb - local: held in correlations; 0 for
                the mean field's product state), coherent_ergotropy and
                incoherent_ergotropy (dephasing onto the eigenspaces of H_B), capacity
                (E_max - E_min), variance_hb [B^2], power_bound (Robertson,
                |dW/dt| <= 2 dH dH0) [B^2] and qsl_time (Mandelstam-Tamm: no evolution
                reaches the state sooner than arccos|<psi0|psi(t)>| / dH <= t, dH =
                |omega| sqrt(N)) [1/B]; null where E_min or E_max of H0 is not known
  all           every one of them
Each output time costs one extra pass over the state per site (bloch), one H0
application (variance) and one 2^K x 2^(N-K) SVD (entanglement).

Noise (open battery, --dephasing, --decay, --temperature, --collective-decay): the density
matrix rho(t) under the Lindblad equation
  d rho/dt = -i[H, rho] + sum_k (L_k rho L_k^+ - {L_k^+ L_k, rho}/2)
while charging, from all-down; W(T) = Tr(H0 rho(T)) - E0. Solver density-matrix (auto picks
it when a noise flag is set; 48 * 4^N bytes, N <= 12 or so), error bound as for the other
solvers; P_max is certified with the bound W <= lambda_max(H0) - E0 (noise does not conserve
energy). All couplings equal (--p 0) with --collective-decay the only channel: the state
stays in the N + 1 symmetric (Dicke) states, and the density matrix is (N + 1) x (N + 1)
(48 (N + 1)^2 bytes; about (N + 1)^2 b t operations, b ~ |2g(1 - alpha)| N^2/4 + 2 omega N +
Gamma N^2/4, so N = 1000 runs where the symmetric energies are narrow: alpha near 1, g ~ 1/N).
--observe with noise measures rho(t) itself (a second propagation): bloch, zz (from
the diagonal), variance and the ergotropy family by the general definitions (eigenvalues of
rho, of its dephased blocks and of H0; power_bound left out); entanglement is refused (the
entropy of a part of a mixed state is not its entanglement).

Quantum trajectories (--solver trajectories --trajectories K --seed S, with --dephasing
and/or --decay [--temperature]; not collective decay): K pure states of 2^N amplitudes
(16 * 2^N bytes each, a few per thread: N = 20 and beyond) whose mean is rho(t). Dephasing is
Z_i kicks at Poisson times of rate N gamma (between them the closed Chebyshev propagation);
decay a non-Hermitian step exp(-i H_eff t) with jumps by the waiting-time algorithm. Every mean
carries one standard error (series.work_stderr in JSON, a CSV column, a band in the plot);
W and its rate are linear in the state, so their means are unbiased. P_max and T* are those of
the mean curve over the window (statistical, not certified). The same seed gives the same
numbers on any number of threads. --observe bloch,ergotropy with trajectories: the mean
one-site Bloch vectors and the local ergotropy of the mean one-site states, each with its
standard error (the rest of the ergotropy family and entropies are not linear in rho: refused).

Thermal start (--initial-temperature T0): the battery starts in the Gibbs state of H0,
  rho_beta = exp(-H0/T0)/Z  (k_B = 1, T0 in units of B; H0 is diagonalised block by block in
its magnetisation sectors, or is diagonal at alpha = 0), instead of all-down, and
  W(t) = Tr(H0 rho(t)) - Tr(H0 rho_beta),  the energy put in since the start (W(0) = 0; the
Gibbs state is passive: its ergotropy is 0). A mixed state: auto runs the density matrix
(with or without noise; dense, chebyshev, dicke, mean-field and weak-coupling refuse), and
--solver trajectories starts each trajectory in an eigenstate of H0 drawn with its Boltzmann
weight (exact: the mean is the density matrix's). Without noise P_max is certified with the
bound W <= N|B| - <H_B> + min(N|omega|, lambda_max(H_g) - <H_g>) (H_g + V is conserved and
<V> = 0 at the start). T0 = 0 is the ground state: all-down where it is proved so, the same
numbers as without the flag; a hot start charges more slowly (N independent spins: by
tanh(B/T0)) and T0 -> infinity (1/2^N) takes no work at all.

Disorder (--disorder-g DELTA, --disorder-field DELTA, --realisations R (default 20), --seed S):
R random realisations, g_ij -> g_ij (1 + DELTA u_ij) and B_i = B (1 + DELTA v_i) in
H_B = sum_i B_i Z_i, u, v uniform in [-1, 1], 0 <= DELTA < 1; each charged with its own E0 and
certified P_max (with noise: the density matrix). Reported: the mean W(t) with one standard
error (series.work_stderr, CSV work_stderr and work_0..work_(R-1), a band in the plot) and
JSON disorder: mean +- standard error and quantiles of P_max, T* and the maximal work, and
realisations[] {seed_index, p_max, t_star, work_at_t_star, max_work, max_work_time}. The mean
P_max is that of the realisations, not of the mean curve. Realisation r draws from ChaCha8
stream r of the seed and runs on one thread, the realisations in parallel: the same seed
gives the same numbers on any number of threads. Random fields break the chain's symmetries
(the full space is used; dicke refused); a thermal bath and --observe are refused.

Time-dependent field (--omega-schedule FILE, --drive A --drive-frequency NU):
  H(t) = H_g + omega(t) sum_i X_i.  A schedule holds omega_k on (t_(k-1), t_k] (file lines
`t_end omega`, times strictly increasing, omega >= 0); the charge ends at the last t_end (the
default window; --t-max may not pass it). Exact in dense, chebyshev (every sector), dicke
(segment by segment) and the mean field; P_max is searched over (0, t_end] and certified with
W <= N(|B| + B) + min(N (max|omega| + sum_k |omega_(k+1) - omega_k|), lambda_max(H_g) + G)
(jumps of the field pump energy into H_g: max|omega| alone does not bound W). A drive
omega + A cos(nu t) runs in the mean field and in dense, chebyshev (every sector, double
precision) and dicke by the commutator-free Magnus integrator CFET4:2 (two exponentials of
constant effective fields per step; the steps chosen by step doubling from --tol, not from
the sample times, which are served by a partial step from the last step end; JSON
drive_step_error_estimate, an estimate of W's time-discretisation error with the rounding
floor of the step differences taken out, and drive_step_error_floor, that floor); P_max is
certified with W(t) <= N(|B| + B) + N(|omega| + |A| + TV(t)), TV(t) <= |A|(1 + 2 nu t/pi) the
drive's total variation on [0, t], i.e. W(t)/t <= c/t + d with c = N(|B| + B) + N(|omega| +
2|A|), d = 2N|A|nu/pi (printed, JSON drive_power_bound {c, d}), or the spectral bound. A = 0 is the static charge. Noise, thermal
starts, disorder, trajectories and --observe are refused with a time-dependent field.

One state across processes (MPI; the CLI built with --features mpi):
  mpiexec -n R spinbat charge ...   R a power of two; each process holds 2^N/R amplitudes
(split by the highest bits), all run the same certified search on the summed W, W', and
process 0 alone prints and writes. Chebyshev on the full space, both precisions, any
couplings; no noise, thermal start, disorder, --observe or time-dependent field; --max-time
does not apply. The record adds processes, chebyshev_terms, applications,
bytes_per_application and bytes_exchanged. A build without the feature started as several
processes exits with status 2 and says how to build it.

Examples:
  spinbat charge --n 10 --plot charge.png
  spinbat charge --n 8 --dephasing 0.1 --json noisy.json
  spinbat charge --n 6 --decay 0.2 --temperature 1.5 --csv thermal.csv
  spinbat charge --n 6 --initial-temperature 0.5 --observe ergotropy --json gibbs.json
  spinbat charge --n 16 --dephasing 0.1 --solver trajectories --trajectories 1000 --seed 1 --t-max 0.3
  spinbat charge --n 10 --disorder-g 0.3 --disorder-field 0.2 --realisations 50 --seed 1 --plot disorder.png
  spinbat charge --n 12 --observe all --cut 6 --json obs.json
  spinbat charge --n 8 --coupling nn --alpha 0.5 --json - 
  spinbat charge --n 16 --solver chebyshev --tol 1e-8 --csv curve.csv
  spinbat charge --n 8 --coupling nn --omega-schedule schedule.txt --json scheduled.json
  spinbat charge --n 12 --coupling nn --drive 1 --drive-frequency 8 --solver chebyshev --tol 1e-8"
)]
pub struct ChargeArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub noise: NoiseArgs,
    /// End of the time window [units 1/B]; default 2 pi / omega (two single-spin periods),
    /// with --omega-schedule the schedule's last segment end.
    #[arg(long, allow_negative_numbers = true)]
    pub t_max: Option<f64>,
    /// Piecewise-constant transverse field omega(t) from FILE: one segment a line,
    /// `t_end omega` (omega held on (t_prev, t_end], t_prev = 0 for the first; `#` comments,
    /// blank lines allowed); the charge ends at the last t_end. Replaces --omega while
    /// charging (--omega still sets the independent spins' reference).
    #[arg(long, value_name = "FILE", help_heading = "Time-dependent field")]
    pub omega_schedule: Option<PathBuf>,
    /// Periodic drive omega(t) = omega + A cos(nu t) with amplitude A (needs
    /// --drive-frequency); A = 0 is the static charge.
    #[arg(long, value_name = "A", allow_negative_numbers = true, help_heading = "Time-dependent field")]
    pub drive: Option<f64>,
    /// Angular frequency nu of --drive [units B/hbar].
    #[arg(long, value_name = "NU", allow_negative_numbers = true, help_heading = "Time-dependent field")]
    pub drive_frequency: Option<f64>,
    /// Number of equally spaced output times in [0, t-max].
    #[arg(long, default_value_t = spinbat::model::defaults::POINTS)]
    pub points: usize,
    /// Explicit output times, comma separated and ascending (overrides --t-max/--points).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_name = "T1,T2,...")]
    pub times: Option<Vec<f64>>,
    /// Solver: auto (dicke for all-to-all couplings, dense for N <= 10, beyond that
    /// free-fermion for the open nearest-neighbour Ising chain and chebyshev for the rest;
    /// density-matrix with noise), dense, chebyshev, dicke, mean-field, weak-coupling (paper
    /// Eq. 18), density-matrix (the open battery), trajectories (the open battery by quantum
    /// trajectories, with --trajectories and --seed), mps (a matrix-product state by two-site
    /// TDVP, for chains beyond exact diagonalisation: --bond-dim, --truncation, --time-step;
    /// its accuracy is an estimate, not a bound; never chosen by auto), free-fermion (exact
    /// W(t) of the open nearest-neighbour chain at alpha = 0 by Jordan-Wigner fermions and
    /// Pfaffians, up to N = 1024, no state vector; --observe takes its states from chebyshev).
    #[arg(long, default_value = "auto")]
    pub solver: String,
    /// Absolute tolerance on W [units of B] (chebyshev, mean-field).
    #[arg(long, default_value = "1e-10", allow_negative_numbers = true)]
    pub tol: f64,
    /// Precision of the Chebyshev solver's states: double (f64), or single (f32: half the
    /// memory and bandwidth, for the largest chains; rounding adds ~2.4e-7 per Chebyshev term to
    /// the state error, reported in the accuracy line). Single implies --solver chebyshev;
    /// --observe follows it (the observables themselves are summed in double).
    #[arg(long, default_value = "double", value_name = "double|single")]
    pub precision: String,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Refuse runs estimated to take longer than SECONDS (measured over the first 2 s and
    /// extrapolated over the planned scan; a note is printed for anything over 20 s);
    /// 'inf' lifts the limit.
    #[arg(long, default_value_t = 3600.0, value_name = "SECONDS")]
    pub max_time: f64,
    /// --json, --csv, --plot.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Observables to record at every output time along the quantum trajectory, comma
    /// separated: entanglement, bloch, zz, variance, or all (see below). Adds
    /// "observables" to --json, columns to --csv and the entropy panel to --plot.
    #[arg(long, value_name = "LIST")]
    pub observe: Option<String>,
    /// Cut of the entanglement entropy: sites 0..K against K..N, 1 <= K <= N-1
    /// (default N/2).
    #[arg(long, value_name = "K")]
    pub cut: Option<usize>,
    /// With --solver trajectories: the number K >= 2 of quantum trajectories averaged
    /// (default 1000); the mean W(t) carries one standard error, series.work_stderr.
    #[arg(long, value_name = "K")]
    pub trajectories: Option<usize>,
    /// With --solver trajectories or disorder: the seed of the random numbers (trajectory or
    /// realisation k draws from ChaCha8 stream k of it, so the same seed gives the same numbers
    /// on any number of threads; default 0).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Disorder in the couplings: each realisation draws g_ij -> g_ij (1 + delta u_ij), u_ij
    /// uniform in [-1, 1], 0 <= delta < 1 (couplings keep their sign). Runs --realisations
    /// charges and reports their mean curve and the statistics of P_max, T* and the maximal work.
    #[arg(long, value_name = "DELTA", allow_negative_numbers = true, help_heading = "Disorder (ensembles)")]
    pub disorder_g: Option<f64>,
    /// Disorder in the storage fields: B_i = B (1 + delta v_i) in H_B = sum_i B_i Z_i, v_i uniform
    /// in [-1, 1], 0 <= delta < 1 (fields stay positive).
    #[arg(long, value_name = "DELTA", allow_negative_numbers = true, help_heading = "Disorder (ensembles)")]
    pub disorder_field: Option<f64>,
    /// With --disorder-g or --disorder-field: the number R >= 2 of realisations (default 20).
    #[arg(long, value_name = "R", help_heading = "Disorder (ensembles)")]
    pub realisations: Option<usize>,
    /// With --solver mps: the maximal bond dimension chi of the matrix-product state (memory
    /// ~ N chi^2, time ~ N chi^3 per step).
    #[arg(long, value_name = "CHI", help_heading = "Matrix-product states (--solver mps)")]
    pub bond_dim: Option<usize>,
    /// With --solver mps: the largest discarded weight per SVD (sum of the squared Schmidt
    /// values dropped, relative; default 1e-10). Each truncation moves the state by the
    /// square root of its weight; the accuracy estimate takes their energy shifts as
    /// independent, 2 dH0 sqrt(sum of the weights) (JSON truncation_estimate), and reports
    /// the bound 2 ||H0 - E0|| sum of the square roots beside it (truncation_bound).
    #[arg(
        long,
        value_name = "EPS",
        allow_negative_numbers = true,
        help_heading = "Matrix-product states (--solver mps)"
    )]
    pub truncation: Option<f64>,
    /// With --solver mps: the TDVP time step [1/B] (default h/4, h = pi/(16 Lambda) the grid
    /// step of the maximum search). A second run at twice the step gives the Richardson
    /// estimate of the step error.
    #[arg(
        long,
        value_name = "DT",
        allow_negative_numbers = true,
        help_heading = "Matrix-product states (--solver mps)"
    )]
    pub time_step: Option<f64>,
    /// With the ergotropy observable: also the block ergotropy (key block_ergotropy), the
    /// sum of the ergotropies of blocks of K neighbouring sites (0..K, K..2K, ...; the last
    /// shorter) for their share of H_B: K = 1 is local_ergotropy, K = N ergotropy_hb;
    /// 1 <= K <= min(N, 12).
    #[arg(long, value_name = "K")]
    pub block: Option<usize>,
}

impl ChargeArgs {
    /// The MPS settings with `--solver mps` (defaults for what is not given); `None` for
    /// other solvers, which refuse the MPS flags.
    fn mps_settings(&self, solver: Solver) -> Result<Option<spinbat::mps::MpsSettings>, CliError> {
        let any = self.bond_dim.is_some() || self.truncation.is_some() || self.time_step.is_some();
        if solver != Solver::Mps {
            if any {
                return Err(CliError::input(anyhow!("--bond-dim, --truncation and --time-step need --solver mps")));
            }
            return Ok(None);
        }
        Ok(spinbat::propagate::mps_settings(solver, self.bond_dim, self.truncation, self.time_step)?)
    }

    /// The observables asked for and their plan, checked against the chain, solver and
    /// memory before anything runs (`None` without `--observe`).
    fn observables(
        &self,
        chain: &Chain,
        solver: Solver,
        precision: propagate::Precision,
        noise: &spinbat::open::Noise,
        start: spinbat::open::Start,
        times: &[f64],
    ) -> Result<Option<(ObservableSet, propagate::Plan)>, CliError> {
        let Some(list) = &self.observe else {
            if self.cut.is_some() {
                return Err(CliError::input(anyhow!("--cut needs --observe entanglement (or all)")));
            }
            if self.block.is_some() {
                return Err(CliError::input(anyhow!("--block needs --observe ergotropy (or all)")));
            }
            return Ok(None);
        };
        let mut set: ObservableSet = list.parse()?;
        if let Some(k) = self.cut {
            set = set.with_cut(k);
        }
        if let Some(k) = self.block {
            set = set.with_block(k);
        }
        set.cut_for(chain.n_sites())?;
        set.check_block(chain.n_sites())?;
        let plan = trajectory::plan_start(chain, solver, self.tol, precision, noise, start)?;
        if plan.solver() == Solver::DensityMatrix && list.trim() == "all" {
            // every observable that applies to a mixed state
            set.entanglement = false;
        }
        if plan.solver() == Solver::DensityMatrix && set.entanglement {
            return Err(CliError::input(anyhow!(
                "--observe entanglement with noise or a thermal start: the entropy of a part of a mixed state is not its entanglement; \
                 observe bloch, zz, variance or ergotropy"
            )));
        }
        trajectory::check_output(plan.solver(), chain.n_sites(), times.len(), &set)?;
        Ok(Some((set, plan)))
    }

    /// The certified power bound `W(t)/t <= c/t + d` of `--drive` with an amplitude
    /// (`None` otherwise: a drive of amplitude 0 is the static charge).
    fn drive_bound(&self, chain: &Chain) -> Option<spinbat::propagate::DrivePowerBound> {
        let (a, nu) = (self.drive?, self.drive_frequency?);
        let drive = spinbat::model::Drive::new(chain.omega(), a, nu).ok().filter(|d| d.amplitude != 0.0)?;
        Some(spinbat::propagate::drive_power_bound(chain, &drive))
    }

    /// The time-dependent field of `--omega-schedule` or `--drive` (`None`: the constant
    /// `--omega`).
    fn protocol(&self, chain: &Chain) -> Result<Option<Protocol>, CliError> {
        match (&self.omega_schedule, self.drive, self.drive_frequency) {
            (None, None, None) => Ok(None),
            (Some(_), Some(_), _) => {
                Err(CliError::input(anyhow!("--omega-schedule and --drive exclude each other: give one field")))
            }
            (Some(path), None, None) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| CliError::input(anyhow!("cannot read --omega-schedule {}: {e}", path.display())))?;
                let schedule = Schedule::parse(&text)
                    .map_err(|e| CliError::input(anyhow!("--omega-schedule {}: {e}", path.display())))?;
                Ok(Some(Protocol::Schedule(schedule)))
            }
            (Some(_), None, Some(_)) => Err(CliError::input(anyhow!("--drive-frequency needs --drive"))),
            (None, Some(a), Some(nu)) => Ok(Some(Protocol::Drive(Drive::new(chain.omega(), a, nu)?))),
            (None, Some(_), None) => Err(CliError::input(anyhow!("--drive needs --drive-frequency"))),
            (None, None, Some(_)) => Err(CliError::input(anyhow!("--drive-frequency needs --drive"))),
        }
    }

    /// Output times: `--times` or `--points` equally spaced in `[0, t_max]` (with a field
    /// schedule, `t_max` defaults to its end and may not pass it).
    fn times(&self, chain: &Chain, protocol: Option<&Protocol>) -> Result<Vec<f64>, CliError> {
        let end = protocol.and_then(Protocol::end);
        if let Some(times) = &self.times {
            if times.is_empty() {
                return Err(CliError::input(anyhow!("--times needs at least one time")));
            }
            propagate::check_times(times)?;
            propagate::check_within(times, end)?;
            return Ok(times.clone());
        }
        if let (Some(t), Some(e)) = (self.t_max, end) {
            if t > e {
                return Err(CliError::input(anyhow!(
                    "--t-max {t} is past the end of the --omega-schedule at t = {e} (the charge ends there)"
                )));
            }
        }
        let t_max = self.t_max.or(end).unwrap_or(spinbat::model::defaults::t_max(chain.omega()));
        if !(t_max.is_finite() && t_max > 0.0) {
            return Err(CliError::input(anyhow!("invalid --t-max {t_max}: must be a finite time > 0")));
        }
        if self.points < 2 {
            return Err(CliError::input(anyhow!("--points must be at least 2, got {}", self.points)));
        }
        Ok(observe::uniform_times(t_max, self.points))
    }
}

pub fn run(args: ChargeArgs) -> Result<(), CliError> {
    let solver: Solver = args.solver.parse()?;
    if args.max_time.is_nan() || args.max_time <= 0.0 {
        return Err(CliError::input(anyhow!("invalid --max-time {}: must be > 0 seconds (or inf)", args.max_time)));
    }
    let chain = args.model.chain()?;
    let noise = args.noise.noise();
    noise.check(chain.b())?;
    let start_state = args.noise.start()?;
    let protocol = args.protocol(&chain)?;
    let times = args.times(&chain, protocol.as_ref())?;
    if protocol.is_some() {
        if args.disorder_g.is_some() || args.disorder_field.is_some() || solver == Solver::Trajectories {
            return Err(CliError::input(anyhow!(
                "--omega-schedule/--drive charge one closed chain: disorder and trajectories are not supported with them"
            )));
        }
        if args.observe.is_some() {
            return Err(CliError::input(anyhow!("--observe is not supported with --omega-schedule/--drive yet")));
        }
    }
    // one state vector across MPI processes (the `mpi` feature), or, without it, a refusal
    // where an MPI launcher started several copies
    if crate::distributed::launched() {
        return super::charge_mpi::run(&args, &chain, solver, &times, protocol.is_some());
    }
    crate::model_args::set_threads(args.threads)?;
    args.output.check()?;
    let ground = spinbat::observe::ground::ground_state(&chain)?;
    let json_stdout = args.output.json_stdout();
    let precision: propagate::Precision = args.precision.parse()?;
    let mps_settings = args.mps_settings(solver)?;
    if mps_settings.is_some() && (args.disorder_g.is_some() || args.disorder_field.is_some()) {
        return Err(CliError::input(anyhow!(
            "--solver mps with disorder is not implemented yet; use chebyshev for the realisations"
        )));
    }
    if args.disorder_g.is_some() || args.disorder_field.is_some() {
        return run_disorder(&args, &chain, solver, &noise, &times, precision, &ground);
    }
    if args.realisations.is_some() {
        return Err(CliError::input(anyhow!("--realisations needs --disorder-g or --disorder-field")));
    }
    if solver == Solver::Trajectories {
        return run_trajectories(&args, &chain, &noise, start_state, &times, precision, &ground);
    }
    if args.trajectories.is_some() || args.seed.is_some() {
        return Err(CliError::input(anyhow!(
            "--trajectories and --seed need --solver trajectories (--seed also goes with --disorder-g/--disorder-field)"
        )));
    }
    let observables = args.observables(&chain, solver, precision, &noise, start_state, &times)?;
    // the states' plan of --solver mps takes the same settings (memory checked for them)
    let observables = match (observables, mps_settings) {
        (Some((set, plan)), Some(settings)) => Some((set, plan.with_mps(&chain, settings)?)),
        (o, _) => o,
    };

    let start = Instant::now();
    let plan = propagate::Plan::with_start(
        &chain,
        solver,
        args.tol,
        precision,
        propagate::Request::Work,
        &noise,
        start_state,
    )?;
    let plan = match mps_settings {
        Some(settings) => plan.with_mps(&chain, settings)?,
        None => plan,
    };
    let initial_energy = plan.gibbs().map(|g| g.energy());
    let prop = match &protocol {
        Some(p) => plan.protocol_propagator(&chain, p)?,
        None => plan.propagator(&chain)?,
    };
    drop(plan);
    let bar = Bar::new(!json_stdout, "charging").with_limit(args.max_time, "--max-time");
    // with observables, the charge hands its states to them where its method can (one
    // propagation); its kept terms go before any second propagation of the states
    let mps_report;
    let mut drive_estimate = None;
    let mut drive_floor = None;
    let (result, elapsed, observed) = match &observables {
        Some((set, plan)) => {
            let states_bar = Bar::new(!json_stdout, "observables");
            let run = trajectory::charge_observed(prop, plan, &chain, &times, set, &bar, &states_bar);
            bar.finish();
            states_bar.finish();
            let run = run?;
            let mut obs = ObservablesRecord::new(run.trajectory, run.observables_s);
            obs.at_t_star = run.at_t_star;
            mps_report = run.mps;
            (run.charge, run.charge_s, Some(obs))
        }
        None => {
            let mut prop = prop;
            let result = observe::charge(prop.as_mut(), &chain, &times, &bar);
            bar.finish();
            mps_report = prop.mps_report();
            drive_estimate = prop.drive_step_error_estimate();
            drive_floor = prop.drive_step_error_floor();
            (result?, start.elapsed().as_secs_f64(), None)
        }
    };
    let mut record = ChargeRecord::new(&chain, solver, args.tol, &result, elapsed);
    record.precision = precision;
    record.initial_is_ground = ground.initial_is_ground;
    record.ground_energy = ground.ground_energy;
    record.noise = args.noise.any().then_some(noise);
    record.initial_temperature = start_state.temperature();
    record.initial_energy = initial_energy;
    record.protocol = protocol;
    record.mps = mps_report;
    record.drive_step_error_estimate = drive_estimate;
    record.drive_step_error_floor = drive_floor;
    record.drive_power_bound = args.drive_bound(&chain);
    if let Some(obs) = observed {
        record = record.with_observables(obs);
    }
    let traj = record.observables.as_ref().map(|o| &o.trajectory);

    args.output.json.write(&record)?;
    if let Some(path) = &args.output.csv {
        write_csv(path, &result, traj)
            .with_context(|| format!("writing {}", path.display()))
            .map_err(CliError::runtime)?;
    }
    if let Some(path) = &args.output.plot {
        let title = crate::output::describe_chain(&chain);
        let n = chain.n_sites();
        let mut extra = Vec::new();
        if let Some(t) = traj {
            if t.selected.entanglement {
                extra.push(plot::Extra::single(
                    format!("S(sites 1-{} | {}-{}) [nats]", t.cut, t.cut + 1, n),
                    t.points.iter().filter_map(|p| p.entropy.map(|s| (p.t, s))).collect(),
                ));
            }
            if t.selected.variance {
                extra.push(plot::Extra::single(
                    "Var(H0) [B^2]".to_string(),
                    t.points.iter().filter_map(|p| p.variance.map(|v| (p.t, v))).collect(),
                ));
            }
            if t.selected.ergotropy {
                // stored energy against what unitaries extract: globally, locally, locked
                let curve = |f: &dyn Fn(&spinbat::observe::ergotropy::ErgotropyPoint) -> f64| -> Vec<(f64, f64)> {
                    t.points.iter().filter_map(|p| p.ergotropy.map(|e| (p.t, f(&e)))).collect()
                };
                extra.push(plot::Extra {
                    y_label: "energy [B]".to_string(),
                    label: "work W (stored, H0)".to_string(),
                    points: t.points.iter().map(|p| (p.t, p.work)).collect(),
                    more: vec![
                        ("ergotropy for H_B (extractable)".to_string(), curve(&|e| e.ergotropy_hb)),
                        ("local ergotropy (site by site)".to_string(), curve(&|e| e.local_ergotropy)),
                        ("locked ergotropy (in correlations)".to_string(), curve(&|e| e.locked_ergotropy)),
                    ],
                });
            }
        }
        let ind = plot::Independent { n, b: chain.b(), omega: chain.omega() };
        plot::write(path, &title, &result, Some(ind), &extra).map_err(CliError::runtime)?;
    }
    if !json_stdout {
        print_summary(&chain, solver, args.tol, &result, elapsed, &args, &ground);
        if let Some(obs) = &record.observables {
            print_observables(&chain, obs);
        }
    }
    Ok(())
}

/// Whether the start is mixed (a thermal start that is not all-down).
fn mixed_start(args: &ChargeArgs, chain: &Chain) -> bool {
    args.noise.start().is_ok_and(|s| !s.is_all_down(chain))
}

/// `charge --solver trajectories`: the open battery by quantum trajectories, the mean curve
/// with its standard errors (JSON `series.work_stderr`, a CSV column, a band in the plot).
fn run_trajectories(
    args: &ChargeArgs,
    chain: &Chain,
    noise: &spinbat::open::Noise,
    start_state: spinbat::open::Start,
    times: &[f64],
    precision: propagate::Precision,
    ground: &spinbat::observe::ground::GroundState,
) -> Result<(), CliError> {
    if !args.noise.any() && start_state.is_all_down(chain) {
        return Err(CliError::input(anyhow!(
            "--solver trajectories needs noise (--dephasing, --decay [--temperature]) or a thermal start \
             (--initial-temperature): without them every trajectory is the closed evolution; use the closed solvers"
        )));
    }
    // linear in the state, so exact in the mean: one-site states and the local ergotropy
    let set = match &args.observe {
        None => ObservableSet::default(),
        Some(list) => {
            if args.cut.is_some() || args.block.is_some() {
                return Err(CliError::input(anyhow!(
                    "--cut and --block do not apply to --solver trajectories (entropies and block ergotropies are not \
                     linear in the state); use --solver density-matrix"
                )));
            }
            spinbat::observe::ensemble::trajectory_observables(list).map_err(|e| {
                CliError::input(anyhow!(
                    "--observe {list} with --solver trajectories: {e}; the mean over trajectories estimates bloch and \
                     the local ergotropy (--observe bloch,ergotropy)"
                ))
            })?
        }
    };
    let count = args.trajectories.unwrap_or(spinbat::observe::ensemble::DEFAULT_TRAJECTORIES);
    if count < 2 {
        return Err(CliError::input(anyhow!(
            "--trajectories must be at least 2 (a standard error needs two trajectories), got {count}"
        )));
    }
    let seed = args.seed.unwrap_or(0);
    let json_stdout = args.output.json_stdout();
    let start = Instant::now();
    let plan = propagate::Plan::with_start(
        chain,
        Solver::Trajectories,
        args.tol,
        precision,
        propagate::Request::Work,
        noise,
        start_state,
    )?;
    let unravelling = plan.unravelling(chain)?;
    let initial_energy = plan.gibbs().map(|g| g.energy());
    let bar = Bar::new(!json_stdout, "charging").with_limit(args.max_time, "--max-time");
    let result = spinbat::observe::ensemble::charge_trajectories_observed(
        &unravelling,
        chain,
        noise,
        count,
        seed,
        times,
        &set,
        &bar,
    );
    bar.finish();
    let result = result?;
    let elapsed = start.elapsed().as_secs_f64();
    let mut record = ChargeRecord::of_ensemble(chain, Solver::Trajectories, args.tol, &result, elapsed);
    if let Some(tr) = &result.observables {
        record = record.with_observables(ObservablesRecord::new(tr.clone(), elapsed));
    }
    record.precision = precision;
    record.initial_is_ground = ground.initial_is_ground;
    record.ground_energy = ground.ground_energy;
    record.noise = args.noise.any().then_some(*noise);
    record.initial_temperature = start_state.temperature();
    record.initial_energy = initial_energy;
    args.output.json.write(&record)?;
    if let Some(path) = &args.output.csv {
        write_csv_with_stderr(path, &result.charging, &result.work_stderr)
            .with_context(|| format!("writing {}", path.display()))
            .map_err(CliError::runtime)?;
    }
    if let Some(path) = &args.output.plot {
        let title = format!("{} - mean of {count} trajectories", crate::output::describe_chain(chain));
        let ind = plot::Independent { n: chain.n_sites(), b: chain.b(), omega: chain.omega() };
        let mut extra = Vec::new();
        if let Some(tr) = result.observables.as_ref().filter(|t| t.selected.ergotropy) {
            extra.push(plot::Extra {
                y_label: "energy [B]".to_string(),
                label: "work W (mean)".to_string(),
                points: tr.points.iter().map(|p| (p.t, p.work)).collect(),
                more: vec![(
                    "local ergotropy of the mean one-site states".to_string(),
                    tr.points.iter().filter_map(|p| p.mean_local_ergotropy.map(|e| (p.t, e))).collect(),
                )],
            });
        }
        plot::write_with_band(
            path,
            &title,
            &result.charging,
            Some(ind),
            &extra,
            Some(&result.work_stderr),
            plot::charge::BAND_TRAJECTORIES,
        )
        .map_err(CliError::runtime)?;
    }
    if !json_stdout {
        print_ensemble_summary(chain, args, &result, elapsed);
        if let Some(tr) = &result.observables {
            print_ensemble_observables(tr);
        }
    }
    Ok(())
}

/// `charge --disorder-g/--disorder-field`: `R` realisations of the disordered chain, each a
/// certified charge; the mean curve with its standard errors (JSON `series.work_stderr` and
/// `disorder`, CSV columns, a band in the plot) and the statistics of `P_max`, `T*`, `W_max`.
fn run_disorder(
    args: &ChargeArgs,
    chain: &Chain,
    solver: Solver,
    noise: &spinbat::open::Noise,
    times: &[f64],
    precision: propagate::Precision,
    ground: &spinbat::observe::ground::GroundState,
) -> Result<(), CliError> {
    if solver == Solver::Trajectories || args.trajectories.is_some() {
        return Err(CliError::input(anyhow!(
            "disorder with --solver trajectories is not implemented: each realisation is one certified charge (with \
             noise, the density matrix)"
        )));
    }
    if args.observe.is_some() || args.cut.is_some() || args.block.is_some() {
        return Err(CliError::input(anyhow!(
            "--observe with disorder is not implemented: the ensemble reports W(t), P_max, T* and the maximal work"
        )));
    }
    if args.noise.initial_temperature.is_some() {
        return Err(CliError::input(anyhow!(
            "--initial-temperature with disorder is not implemented: each realisation starts from all-down"
        )));
    }
    let disorder = spinbat::model::Disorder {
        disorder_g: args.disorder_g.unwrap_or(0.0),
        disorder_field: args.disorder_field.unwrap_or(0.0),
        realisations: args.realisations.unwrap_or(spinbat::model::DEFAULT_REALISATIONS),
        seed: args.seed.unwrap_or(0),
    };
    disorder.check_for(chain)?;
    let json_stdout = args.output.json_stdout();
    let start = Instant::now();
    let bar = Bar::new(!json_stdout, "realisations").with_limit(args.max_time, "--max-time");
    let result =
        spinbat::observe::disorder::charge_disorder(chain, &disorder, solver, args.tol, precision, noise, times, &bar);
    bar.finish();
    let result = result?;
    let elapsed = start.elapsed().as_secs_f64();
    let mut record = ChargeRecord::of_disorder(chain, solver, args.tol, &result, elapsed);
    record.precision = precision;
    // the clean chain's: 0 <= delta < 1 keeps B_i > 0 and g_ij >= 0, so the proof holds for
    // every realisation where it holds for the clean chain
    record.initial_is_ground = ground.initial_is_ground;
    record.ground_energy = ground.ground_energy;
    record.noise = args.noise.any().then_some(*noise);
    args.output.json.write(&record)?;
    if let Some(path) = &args.output.csv {
        write_csv_disorder(path, &result)
            .with_context(|| format!("writing {}", path.display()))
            .map_err(CliError::runtime)?;
    }
    if let Some(path) = &args.output.plot {
        let title = format!(
            "{} - mean of {} disorder realisations",
            crate::output::describe_chain(chain),
            disorder.realisations
        );
        let ind = plot::Independent { n: chain.n_sites(), b: chain.b(), omega: chain.omega() };
        let band = Some(result.work_stderr.as_slice());
        plot::write_with_band(path, &title, &result.charging, Some(ind), &[], band, plot::charge::BAND_REALISATIONS)
            .map_err(CliError::runtime)?;
    }
    if !json_stdout {
        print_disorder_summary(chain, args, &result, elapsed);
    }
    Ok(())
}

/// `t, work, work_stderr, power` of the mean curve, then each realisation's work
/// `work_0 … work_{R−1}`.
fn write_csv_disorder(path: &PathBuf, result: &spinbat::observe::disorder::DisorderCharging) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    let mut header: Vec<String> = ["t", "work", "work_stderr", "power"].map(String::from).to_vec();
    header.extend((0..result.curves.len()).map(|r| format!("work_{r}")));
    w.write_record(&header)?;
    let f = |x: f64| format!("{x:.17e}");
    for (k, (p, se)) in result.charging.series.iter().zip(&result.work_stderr).enumerate() {
        let mut row = vec![f(p.t), f(p.work), f(*se), f(p.power)];
        row.extend(result.curves.iter().map(|c| f(c[k])));
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

fn print_disorder_summary(
    chain: &Chain,
    args: &ChargeArgs,
    e: &spinbat::observe::disorder::DisorderCharging,
    elapsed: f64,
) {
    let mut out = std::io::stdout().lock();
    let (r, s) = (&e.charging, &e.summary);
    let sig = |x: f64, d: usize| crate::output::sig(x, d);
    banner(&mut out);
    let _ = writeln!(out, "chain      {} (the clean chain)", crate::output::describe_chain(chain));
    let _ = writeln!(
        out,
        "disorder   g_ij (1 + {} u_ij), B_i = B (1 + {} v_i), u, v uniform in [-1, 1]: {} realisations, seed {}",
        s.disorder_g, s.disorder_field, s.count, s.seed
    );
    if args.noise.any() {
        let _ = writeln!(out, "noise      {} (rates in units of B)", args.noise.noise().describe());
    }
    let bound = r.error_bound.map_or("not bounded".to_string(), |b| format!("<= {b:.1e}"));
    let _ = writeln!(out, "solver     {} for each realisation; |error of W| {bound} in every realisation", r.solver);
    let _ = writeln!(
        out,
        "accuracy   statistical over the disorder: means +- one standard error s/sqrt(R); each realisation's P_max certified"
    );
    let q = |x: &spinbat::observe::disorder::Quantiles| {
        format!(
            "min {}, quartiles {} | {} | {}, max {}",
            sig(x.min, 6),
            sig(x.q25, 6),
            sig(x.median, 6),
            sig(x.q75, 6),
            sig(x.max, 6)
        )
    };
    let _ = writeln!(
        out,
        "max power  P_max = {} +- {} B^2 at T* = {} +- {} /B (mean over the realisations)",
        sig(s.max_power.mean, 8),
        sig(s.max_power.stderr, 2),
        sig(s.t_star.mean, 8),
        sig(s.t_star.stderr, 2)
    );
    let _ = writeln!(out, "           P_max: {}", q(&s.quantiles.p_max));
    let _ = writeln!(out, "           T*:    {}", q(&s.quantiles.t_star));
    let _ = writeln!(
        out,
        "           clean N independent spins: N P1 = {}; ratio of the mean P_max = {}",
        sig(r.independent.max_power.power, 10),
        sig(r.power_ratio, 6)
    );
    let _ = writeln!(
        out,
        "max work   W_max = {} +- {} B at T = {} +- {} /B (window [0, {}]){}",
        sig(s.max_work.mean, 8),
        sig(s.max_work.stderr, 2),
        sig(s.max_work_time.mean, 8),
        sig(s.max_work_time.stderr, 2),
        sig(r.window, 5),
        if r.max_work.at_window_end { " (some at the window end: may grow beyond)" } else { "" }
    );
    let _ = writeln!(out, "           W_max: {}", q(&s.quantiles.max_work));
    let _ = writeln!(
        out,
        "run        {:.3} s, {} realisations {} at a time (each on one thread), {} W evaluations, {} output points{}",
        elapsed,
        s.count,
        s.concurrent,
        r.evaluations,
        r.series.len(),
        args.output.written()
    );
}

/// The observables of a mean over trajectories: what was recorded and the local ergotropy
/// at its largest.
fn print_ensemble_observables(tr: &spinbat::observe::trajectory::Trajectory) {
    use crate::output::sig;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "observables {} as means over the trajectories at {} times, each with one standard error (JSON \
         observables.points[])",
        tr.selected,
        tr.points.len()
    );
    let best = tr
        .points
        .iter()
        .filter_map(|p| Some((p.t, p.mean_local_ergotropy?, p.local_ergotropy_stderr?)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((t, e, se)) = best {
        let _ = writeln!(
            out,
            "           max local ergotropy (of the mean one-site states) = {} +- {} B at t = {}; the global \
             ergotropy is not linear in the state (use --solver density-matrix)",
            sig(e, 8),
            sig(se, 2),
            sig(t, 7)
        );
    }
}

/// `t, work, work_stderr, power` of a mean over trajectories.
fn write_csv_with_stderr(path: &PathBuf, result: &Charging, stderr: &[f64]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(["t", "work", "work_stderr", "power"])?;
    let f = |x: f64| format!("{x:.17e}");
    for (p, se) in result.series.iter().zip(stderr) {
        w.write_record([f(p.t), f(p.work), f(*se), f(p.power)])?;
    }
    w.flush()?;
    Ok(())
}

fn print_ensemble_summary(
    chain: &Chain,
    args: &ChargeArgs,
    e: &spinbat::observe::ensemble::EnsembleCharging,
    elapsed: f64,
) {
    let mut out = std::io::stdout().lock();
    let (r, s) = (&e.charging, &e.summary);
    let sig = |x: f64, d: usize| crate::output::sig(x, d);
    banner(&mut out);
    let _ = writeln!(out, "chain      {}", crate::output::describe_chain(chain));
    let _ = writeln!(out, "noise      {} (rates in units of B)", args.noise.noise().describe());
    if let Some(t0) = args.noise.initial_temperature {
        let _ = writeln!(
            out,
            "start      Gibbs state of H0 at T0 = {t0}: each trajectory from an eigenstate of H0 drawn with its \
             Boltzmann weight; W from its energy"
        );
    }
    let _ = writeln!(
        out,
        "solver     trajectories: {} quantum trajectories, seed {}, {} jumps each on average, tol = {:e}",
        s.trajectories,
        s.seed,
        sig(s.mean_jumps, 4),
        args.tol
    );
    let _ = writeln!(
        out,
        "accuracy   statistical: every mean is given +- one standard error; each trajectory |error of W| <= {:.1e}",
        s.trajectory_error_bound
    );
    let _ = writeln!(
        out,
        "max power  P_max = {} +- {} B^2 at T* = {} /B, W(T*) = {} B (of the mean curve)",
        sig(r.max_power.power, 8),
        sig(s.max_power_stderr, 2),
        sig(r.max_power.time, 8),
        sig(r.max_power.work, 8)
    );
    let _ = writeln!(
        out,
        "           statistical and over the window [0, {}] only: not certified{}",
        sig(r.window, 5),
        if r.max_power.at_window_end { " (at the window end: may grow beyond)" } else { "" }
    );
    let _ = writeln!(
        out,
        "           N independent spins (closed): N P1 = {} at T = {}; ratio P_max / (N P1) = {}",
        sig(r.independent.max_power.power, 12),
        sig(r.independent.max_power.time, 12),
        sig(r.power_ratio, 6)
    );
    let _ = writeln!(
        out,
        "max work   W_max = {} +- {} B at T = {} /B (window [0, {}]){}",
        sig(r.max_work.work, 8),
        sig(s.max_work_stderr, 2),
        sig(r.max_work.time, 8),
        sig(r.window, 5),
        if r.max_work.at_window_end { " (window end: may grow beyond)" } else { "" }
    );
    let _ = writeln!(
        out,
        "run        {:.3} s on {} threads, {} trajectories x {} recorded times, {} output points{}",
        elapsed,
        rayon::current_num_threads(),
        s.trajectories,
        r.evaluations / s.trajectories.max(1),
        r.series.len(),
        args.output.written()
    );
}

/// `t, work, power`, then with observables the scalar ones: `entropy`, `variance`, the
/// ergotropy family ([`ErgotropyPoint::KEYS`], empty where `null`) and the per-site `z_0 … z_{N−1}` (`⟨Z_i⟩`),
/// each where selected.
pub(super) fn write_csv(path: &PathBuf, result: &Charging, traj: Option<&Trajectory>) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    let mut header: Vec<String> = ["t", "work", "power"].map(String::from).to_vec();
    let set = traj.map(|t| t.selected).unwrap_or_default();
    let n_z = traj.and_then(|t| t.points.first()).and_then(|p| p.bloch.as_ref()).map_or(0, Vec::len);
    if set.entanglement {
        header.push("entropy".into());
    }
    if set.variance {
        header.push("variance".into());
    }
    if set.ergotropy {
        header.extend(ErgotropyPoint::KEYS.map(String::from));
        if set.block.is_some() {
            header.push("block_ergotropy".into());
        }
    }
    header.extend((0..n_z).map(|i| format!("z_{i}")));
    w.write_record(&header)?;
    let f = |x: f64| format!("{x:.17e}");
    for (k, p) in result.series.iter().enumerate() {
        let mut row = vec![f(p.t), f(p.work), f(p.power)];
        if let Some(q) = traj.map(|t| &t.points[k]) {
            row.extend(q.entropy.map(f));
            row.extend(q.variance.map(f));
            if let Some(e) = &q.ergotropy {
                row.extend(e.values().map(|x| x.map_or(String::new(), f)));
                row.extend(e.block_ergotropy.map(f));
            }
            row.extend(q.bloch.iter().flatten().map(|b| f(b[2])));
        }
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

fn print_observables(chain: &Chain, obs: &ObservablesRecord) {
    let mut out = std::io::stdout().lock();
    let tr = &obs.trajectory;
    let n = chain.n_sites();
    let error = match tr.state_error {
        Some(e) if tr.solver == Solver::Mps.as_str() => format!("state error ~ {e:.1e} (estimate)"),
        Some(e) => format!("state error <= {e:.1e}"),
        None => "classical product state: entropy and connected ZZ are 0".to_string(),
    };
    let _ = writeln!(
        out,
        "observables {} along the {} trajectory, {} times, {error}, {:.3} s",
        tr.selected,
        tr.solver,
        tr.points.len(),
        obs.run_time_s
    );
    if let Some(p) = obs.peak_entropy {
        let bound = tr.bounds.map_or(String::new(), |b| format!(" (+- {:.1e})", b.entropy));
        let _ = writeln!(
            out,
            "           peak entanglement S(sites 0..{} | {}..{}) = {:.8} nats{bound} = {:.8} bits at t = {} (max {:.4} nats)",
            tr.cut,
            tr.cut,
            n,
            p.value,
            p.value / std::f64::consts::LN_2,
            crate::output::sig(p.time, 7),
            (tr.cut.min(n - tr.cut) as f64) * std::f64::consts::LN_2
        );
    }
    if let Some(p) = obs.max_variance {
        let _ = writeln!(
            out,
            "           max energy variance Var(H0) = {} B^2 at t = {}",
            crate::output::sig(p.value, 9),
            crate::output::sig(p.time, 7)
        );
    }
    // the ergotropy family at T*
    if let Some(p) = obs.at_t_star.as_ref().filter(|p| p.ergotropy.is_some()) {
        let e = p.ergotropy.expect("filtered");
        let g = |x: f64| crate::output::sig(x, 7);
        let opt = |x: Option<f64>| x.map_or("not known".to_string(), g);
        let _ = writeln!(
            out,
            "           ergotropy at T* = {}: E(H0) = {}, E(H_B) = {} = local {} + locked {}; \
             coherent {}, incoherent {}; capacity {}",
            g(p.t),
            opt(e.ergotropy),
            g(e.ergotropy_hb),
            g(e.local_ergotropy),
            g(e.locked_ergotropy),
            g(e.coherent_ergotropy),
            g(e.incoherent_ergotropy),
            opt(e.capacity)
        );
        if let (Some(qsl), Some(bound)) = (e.qsl_time, e.power_bound) {
            let _ = writeln!(
                out,
                "           speed limits at T*: Mandelstam-Tamm time arccos|<psi0|psi>|/dH = {} <= T*; \
                 |dW/dt| <= 2 dH dH0 = {} (Robertson)",
                g(qsl),
                g(bound)
            );
        }
    }
}

pub(super) fn print_summary(
    chain: &Chain,
    solver: Solver,
    tol: f64,
    r: &Charging,
    elapsed: f64,
    args: &ChargeArgs,
    ground: &spinbat::observe::ground::GroundState,
) {
    let mut out = std::io::stdout().lock();
    banner(&mut out);
    let _ = writeln!(out, "chain      {}", crate::output::describe_chain(chain));
    if let Some(bound) = args.drive_bound(chain) {
        // the drive's bound grows with the field's total variation: W(t)/t <= c/t + d
        let t = r.max_power.time;
        let _ = writeln!(
            out,
            "           G = sum g_ij = {}, E0 = {}, bound W(t)/t <= c/t + d, c = N(|B| + B) + N(|omega| + 2|A|) = {}, \
             d = 2N|A|nu/pi = {} (the drive's total variation; or lambda_max(H_g) + G + N(|B| + B)); \
             at T*: W(T*) = {} <= {}",
            crate::output::sig(chain.total_coupling(), 7),
            crate::output::sig(chain.initial_energy(), 7),
            crate::output::sig(bound.c, 8),
            crate::output::sig(bound.d, 8),
            crate::output::sig(r.max_power.work, 8),
            crate::output::sig(bound.work_at(t), 8)
        );
    } else if args.omega_schedule.is_some() {
        let _ = writeln!(
            out,
            "           G = sum g_ij = {}, E0 = {}, bound W <= N(|B| + B) + min(N (max|omega| + sum_k |omega_(k+1) - omega_k|), \
             lambda_max(H_g) + G) = {}",
            crate::output::sig(chain.total_coupling(), 7),
            crate::output::sig(chain.initial_energy(), 7),
            crate::output::sig(
                if r.max_power.power > 0.0 { r.certified_until * r.max_power.power } else { chain.work_bound() },
                8
            )
        );
    } else {
        let _ = writeln!(
            out,
            "           G = sum g_ij = {}, E0 = {}, bound W <= {} = {}",
            crate::output::sig(chain.total_coupling(), 7),
            crate::output::sig(chain.initial_energy(), 7),
            if args.noise.noise().is_closed() && mixed_start(args, chain) {
                "N|B| - <H_B> + min(N|omega|, lambda_max(H_g) - <H_g>) (<.> in the Gibbs state)"
            } else if args.noise.noise().is_closed() {
                "N(|B| + B) + min(N|omega|, lambda_max(H_g) + G)"
            } else if mixed_start(args, chain) {
                "lambda_max(H0) - E_beta <= N|B| + lambda_max(H_g) - E_beta (noise: no energy conservation)"
            } else {
                "lambda_max(H0) - E0 <= N(|B| + B) + lambda_max(H_g) + G (noise: no energy conservation)"
            },
            // the bound the solver certified with (the Chebyshev solver's uses the exact top of
            // the Ising diagonal): certified_until = bound / P_max
            crate::output::sig(
                if r.max_power.power > 0.0 { r.certified_until * r.max_power.power } else { chain.work_bound() },
                8
            )
        );
    }
    let requested = if solver == Solver::Auto { " (chosen by auto)" } else { "" };
    // only the settings the solver reads
    let uses_tol = r.solver.parse::<Solver>().is_ok_and(|s| s.uses_tolerance());
    let tol_note = if uses_tol { format!(", tol = {tol:e}") } else { String::new() };
    let _ = writeln!(out, "solver     {}{requested}{tol_note}", r.solver);
    if args.noise.any() {
        let _ = writeln!(out, "noise      {} (rates in units of B)", args.noise.noise().describe());
    }
    if let Some(t0) = args.noise.initial_temperature.filter(|_| !mixed_start(args, chain)) {
        let _ = writeln!(out, "start      all-down: the ground state of H0, so the Gibbs state at T0 = {t0}");
    }
    if let Some(t0) = args.noise.initial_temperature.filter(|_| mixed_start(args, chain)) {
        let _ = writeln!(
            out,
            "start      Gibbs state of H0 at T0 = {t0} (mixed); W measured from its energy Tr(H0 rho_beta), so W(0) = 0"
        );
    }
    match r.error_bound {
        Some(b) if r.solver == Solver::Mps.as_str() => {
            let _ = writeln!(out, "accuracy   |error of W| ~ {b:.1e} (estimate): {}", r.accuracy);
        }
        Some(b) => {
            let _ = writeln!(out, "accuracy   |error of W| <= {b:.1e}: {}", r.accuracy);
        }
        None => {
            let _ = writeln!(out, "accuracy   |error of W| not bounded: {}", r.accuracy);
        }
    }
    let _ = writeln!(
        out,
        "max power  P_max = {} B^2 at T* = {} /B, W(T*) = {} B",
        crate::output::sig(r.max_power.power, 12),
        crate::output::sig(r.max_power.time, 12),
        crate::output::sig(r.max_power.work, 12)
    );
    let _ = writeln!(
        out,
        "           certified: W/T < P_max for every T > {} (bound / P_max)",
        crate::output::sig(r.certified_until, 5)
    );
    let _ = writeln!(
        out,
        "           N independent spins: N P1 = {} at T = {}; ratio P_max / (N P1) = {}",
        crate::output::sig(r.independent.max_power.power, 12),
        crate::output::sig(r.independent.max_power.time, 12),
        crate::output::sig(r.power_ratio, 9)
    );
    let _ = writeln!(
        out,
        "           charging advantage per site (ratio / N) = {}: the advantage grows at most like N \
         (Gyhm, Safranek, Rosa, PRL 128, 140501 (2022))",
        crate::output::sig(r.power_ratio / chain.n_sites() as f64, 6)
    );
    let _ = writeln!(
        out,
        "max work   W_max = {} B at T = {} /B, P there = {} (window [0, {}]){}",
        crate::output::sig(r.max_work.work, 12),
        crate::output::sig(r.max_work.time, 12),
        crate::output::sig(r.max_work.power, 12),
        crate::output::sig(r.window, 5),
        if r.max_work.at_window_end { " (window end: may grow beyond)" } else { "" }
    );
    match (ground.initial_is_ground, ground.ground_energy) {
        (Some(true), _) => {
            let _ = writeln!(out, "initial    all-down is the ground state of H0 ({})", ground.method);
        }
        (Some(false), e) => {
            let _ = writeln!(
                out,
                "warning    all-down is NOT the ground state of H0: ground energy {} < E0 = {} ({}); W is measured from E0 and can be negative",
                e.map_or("?".into(), |e| crate::output::sig(e, 10)),
                crate::output::sig(chain.initial_energy(), 10),
                ground.method
            );
        }
        (None, _) => {
            let _ = writeln!(out, "initial    whether all-down is the ground state of H0 was {}", ground.method);
        }
    }
    let _ = writeln!(
        out,
        "           N independent spins: 2BN = {} at T = {}; ratio {}",
        crate::output::sig(r.independent.max_work.work, 12),
        crate::output::sig(r.independent.max_work.time, 12),
        crate::output::sig(r.max_work.work / r.independent.max_work.work, 9)
    );
    let _ = writeln!(
        out,
        "run        {:.3} s on {} threads, {} W evaluations, {} output points{}",
        elapsed,
        rayon::current_num_threads(),
        r.evaluations,
        r.series.len(),
        args.output.written()
    );
}

/// The first line of every `charge` summary: the version and the units.
fn banner(out: &mut impl Write) {
    let _ = writeln!(
        out,
        "spinbat {} - charging a spin-chain quantum battery (hbar = 1, energies in B, times in 1/B)",
        env!("CARGO_PKG_VERSION")
    );
}
