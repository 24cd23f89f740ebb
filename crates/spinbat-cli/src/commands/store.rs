//! `spinbat store`: charge, then hold the battery under `H0` with noise; the work and the
//! ergotropy family over the storage times, and their half-lives (`observe::storage`).

use crate::output::sig;
use crate::plot::chart::{self, Figure, Panel, Series, Style};
use crate::{model_args::ModelArgs, noise_args::NoiseArgs, output::OutputArgs, progress::Bar, CliError};
use anyhow::{anyhow, Context};
use clap::Args;
use spinbat::observe::ergotropy::ErgotropyPoint;
use spinbat::observe::storage::{self, HalfLife, NoiseDuring, StorageSpec};
use spinbat::observe::trajectory::ObservableSet;
use spinbat::record::StoreRecord;
use spinbat::Chain;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Physics and numerics of `spinbat store`.
#[derive(Debug, Args)]
#[command(
    mut_arg("csv", |a| a.help("Write t (storage time), work, rate and the ergotropy keys (and z_i with --observe bloch) as CSV")),
    mut_arg("plot", |a| a.help("Plot the work and the ergotropies in storage, with the half-lives, to FILE.png or FILE.svg")),
    after_help = "\
Storage (hbar = 1, energies in units of B, times in 1/B): charge from all-down for T
(--charge-time, default T* of the closed chain) under H = H_g + V, then hold under
  H0 = B sum_i Z_i - sum_{i<j} g_ij [Z_i Z_j + alpha (X_i X_j + Y_i Y_j)]   (field off)
for storage times s >= 0 from the end of charging, with the Lindblad noise (--dephasing,
--decay, --temperature, --collective-decay) acting while charging, in storage or both
(--noise-during). With noise: the density matrix (N <= 12: the ergotropy needs its
spectrum; any N on the N + 1 Dicke states for --p 0 with --collective-decay the only
channel); without: pure states (psi(T), then e^(-i H0 s) = e^(-i H_B s) e^(-i H_g s) by
Chebyshev), any N whose state fits, and --observe entanglement works.

Reported at each storage time: W(s) = Tr(H0 rho) - E0 and dW/ds; the ergotropy family
(ergotropy for H0, ergotropy_hb for H_B, local, locked, coherent, incoherent, capacity,
variance_hb); with --observe also bloch, zz, variance. Half-lives: the first s where W
(resp. the ergotropy for H0, for H_B) falls to half its value at s = 0: W from the dense
output, the ergotropies between output times (a crossing between two output times that
comes back up is not seen: use finer --times). Without noise in storage W and the
ergotropies for H0 and H_B stay (H0 and H_B commute with the dynamics); the local
ergotropy moves.

Quantum trajectories (--solver trajectories --trajectories K --seed S): each trajectory
charges to T under its noise, then is stored from its own state with the same random stream
(dephasing kicks, decay jumps); the means of W, dW/ds, the Bloch vectors and the local
ergotropy of the mean one-site states, each with one standard error (series.work_stderr,
ensemble in JSON; a band in the plot). Any N whose 2^N amplitudes fit per thread; the global
ergotropies and their half-lives are not linear in rho and are not estimated (null).

Thermal start (--initial-temperature T0): the charge starts from the Gibbs state of H0,
rho_beta = exp(-H0/T0)/Z (k_B = 1), instead of all-down, and W(s) = Tr(H0 rho) - Tr(H0 rho_beta)
(charge.initial_energy in JSON). A mixed state: the density matrix runs (N <= 12), noise or not;
the default T is T* of the closed charge from the same start. With --charge-time 0, g = 0 and
--decay gamma --temperature T0 the Gibbs state of H_B is the bath's fixed point: W stays 0. For
g != 0 it is not (the local jumps do not satisfy detailed balance for H_g).

Examples:
  spinbat store --n 1 --omega 1 --charge-time 1.5707963 --decay 0.5 --noise-during storage --json -
  spinbat store --n 6 --dephasing 0.05 --t-max 20 --plot storage.png
  spinbat store --n 4 --decay 0.1 --noise-during charge --times 0,1,2,5 --csv s.csv
  spinbat store --n 6 --initial-temperature 0.5 --dephasing 0.05 --json warm.json
  spinbat store --n 10 --dephasing 0.05 --solver trajectories --trajectories 500 --plot band.png"
)]
pub struct StoreArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub noise: NoiseArgs,
    /// When the noise acts: charge (while charging only), storage (in storage only) or both.
    #[arg(long, default_value = "both", value_name = "charge|storage|both", help_heading = "Noise (open battery)")]
    pub noise_during: String,
    /// Charging time T before storage [units 1/B]; default the certified T* of the closed chain.
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub charge_time: Option<f64>,
    /// End of the storage window [units 1/B, from the end of charging]; default four
    /// half-lives 4 ln2/kappa of the slowest channel in storage (kappa = 2 gamma for
    /// dephasing, gamma for decay), or 2 pi/omega without noise in storage.
    #[arg(long, allow_negative_numbers = true)]
    pub t_max: Option<f64>,
    /// Number of equally spaced storage times in [0, t-max].
    #[arg(long, default_value_t = storage::DEFAULT_POINTS)]
    pub points: usize,
    /// Explicit storage times from the end of charging, comma separated and ascending
    /// (overrides --t-max/--points).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true, value_name = "S1,S2,...")]
    pub times: Option<Vec<f64>>,
    /// Solver: auto (pure states without noise, the density matrix with noise), dense or
    /// chebyshev (the closed charge; storage by chebyshev), density-matrix (always), or
    /// trajectories (quantum trajectories through charge and storage, with --trajectories
    /// and --seed: W, the Bloch vectors and the local ergotropy with standard errors).
    #[arg(long, default_value = "auto")]
    pub solver: String,
    /// With --solver trajectories: the number K >= 2 of trajectories averaged (default 1000).
    #[arg(long, value_name = "K")]
    pub trajectories: Option<usize>,
    /// With --solver trajectories: the seed (trajectory k draws from ChaCha8 stream k of it,
    /// so the same seed gives the same numbers on any number of threads; default 0).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Absolute tolerance on W [units of B].
    #[arg(long, default_value = "1e-10", allow_negative_numbers = true)]
    pub tol: f64,
    /// Observables beside the ergotropy family (always measured), comma separated: bloch,
    /// zz, variance, ergotropy, entanglement (without noise only: with noise the state is
    /// mixed), or all (every one that applies).
    #[arg(long, value_name = "LIST")]
    pub observe: Option<String>,
    /// Also the block ergotropy of blocks of K neighbouring sites (key block_ergotropy).
    #[arg(long, value_name = "K")]
    pub block: Option<usize>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// --json, --csv, --plot.
    #[command(flatten)]
    pub output: OutputArgs,
}

impl StoreArgs {
    /// The library's spec, checked as far as the flags go (the library checks the rest).
    fn spec(&self, chain: &Chain) -> Result<StorageSpec, CliError> {
        let noise_during: NoiseDuring = self.noise_during.parse()?;
        let noise = self.noise.noise();
        let times = match &self.times {
            Some(t) if t.is_empty() => return Err(CliError::input(anyhow!("--times needs at least one time"))),
            Some(t) => t.clone(),
            None => storage::window_times(chain, &noise_during.storage(&noise), self.t_max, self.points)?,
        };
        let solver: spinbat::Solver = self.solver.parse()?;
        let trajectories = solver == spinbat::Solver::Trajectories;
        if !trajectories && (self.trajectories.is_some() || self.seed.is_some()) {
            return Err(CliError::input(anyhow!("--trajectories and --seed need --solver trajectories")));
        }
        let mut observe = match &self.observe {
            Some(list) if trajectories => spinbat::observe::ensemble::trajectory_observables(list).map_err(|e| {
                CliError::input(anyhow!(
                    "--observe {list} with --solver trajectories: {e}; the mean over trajectories estimates bloch and \
                     the local ergotropy"
                ))
            })?,
            Some(list) if list.trim() == "all" => ObservableSet::all(),
            Some(list) => list.parse()?,
            None => ObservableSet::default(),
        };
        if trajectories && self.block.is_some() {
            return Err(CliError::input(anyhow!(
                "--block does not apply to --solver trajectories (a block ergotropy is not linear in the state); use \
                 --solver density-matrix"
            )));
        }
        observe.ergotropy = true;
        observe.block = self.block;
        let mut spec = StorageSpec::new(times);
        spec.charge_time = self.charge_time;
        spec.noise = noise;
        spec.noise_during = noise_during;
        spec.observe = observe;
        spec.solver = solver;
        spec.tol = self.tol;
        spec.start = self.noise.start()?;
        spec.trajectories = self.trajectories.unwrap_or(spec.trajectories);
        spec.seed = self.seed.unwrap_or(spec.seed);
        if trajectories && spec.trajectories < 2 {
            return Err(CliError::input(anyhow!(
                "--trajectories must be at least 2 (a standard error needs two trajectories), got {}",
                spec.trajectories
            )));
        }
        if !trajectories && self.observe.as_deref().map(str::trim) == Some("all") {
            // every observable that applies (no entanglement of a mixed state)
            spec.observe.entanglement = storage::runs_on_pure_states(chain, &spec);
        }
        Ok(spec)
    }
}

pub fn run(args: StoreArgs) -> Result<(), CliError> {
    let chain = args.model.chain()?;
    let spec = args.spec(&chain)?;
    crate::model_args::set_threads(args.threads)?;
    args.output.check()?;
    // every refusal before anything runs
    storage::plan(&chain, &spec)?;
    let json_stdout = args.output.json_stdout();
    let start = Instant::now();
    let bar = Bar::new(!json_stdout, "store");
    let result = storage::store(&chain, &spec, &bar);
    bar.finish();
    let result = result?;
    let elapsed = start.elapsed().as_secs_f64();
    let record = StoreRecord::new(&chain, &spec, result, elapsed);
    args.output.json.write(&record)?;
    if let Some(path) = &args.output.csv {
        write_csv(path, &record).with_context(|| format!("writing {}", path.display())).map_err(CliError::runtime)?;
    }
    if let Some(path) = &args.output.plot {
        let title = format!("storage: {}", crate::output::describe_chain(&chain));
        let subtitle = format!(
            "after charging for T = {}; noise {} (during {})",
            sig(record.charge.time, 5),
            spec.noise.describe(),
            spec.noise_during
        );
        chart::write(path, &figure(&record, title, subtitle)).map_err(CliError::runtime)?;
    }
    if !json_stdout {
        print_summary(&chain, &spec, &record, &args);
    }
    Ok(())
}

/// `t, work, rate`, the ergotropy keys (empty where `null`), `block_ergotropy` where asked
/// for, and `z_0 … z_{N−1}` with `bloch`.
fn write_csv(path: &Path, r: &StoreRecord) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    let points = &r.observables.trajectory.points;
    let stderr = r.series.work_stderr.as_deref();
    let mut header: Vec<String> = ["t", "work", "rate"].map(String::from).to_vec();
    if stderr.is_some() {
        header.extend(["work_stderr", "local_ergotropy", "local_ergotropy_stderr"].map(String::from));
    } else {
        header.extend(ErgotropyPoint::KEYS.map(String::from));
    }
    let block = points.first().and_then(|p| p.ergotropy).and_then(|e| e.block_ergotropy).is_some();
    if block {
        header.push("block_ergotropy".into());
    }
    let n_z = points.first().and_then(|p| p.bloch.as_ref()).map_or(0, Vec::len);
    header.extend((0..n_z).map(|i| format!("z_{i}")));
    w.write_record(&header)?;
    let f = |x: f64| format!("{x:.17e}");
    for (k, p) in points.iter().enumerate() {
        let mut row = vec![f(r.series.t[k]), f(r.series.work[k]), f(r.series.rate[k])];
        if let Some(se) = stderr {
            // trajectories: what the mean estimates (linear in rho)
            let opt = |x: Option<f64>| x.map_or(String::new(), f);
            row.extend([f(se[k]), opt(p.mean_local_ergotropy), opt(p.local_ergotropy_stderr)]);
        } else if let Some(e) = &p.ergotropy {
            row.extend(e.values().map(|x| x.map_or(String::new(), f)));
            if block {
                row.extend(e.block_ergotropy.map(f));
            }
        }
        row.extend(p.bloch.iter().flatten().map(|b| f(b[2])));
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

/// One panel: `W`, the ergotropies for `H0` and `H_B` and the local ergotropy against the
/// storage time, with a dotted vertical line at each half-life found.
fn figure(r: &StoreRecord, title: String, subtitle: String) -> Figure {
    let points = &r.observables.trajectory.points;
    let curve = |f: &dyn Fn(&ErgotropyPoint) -> Option<f64>| -> Vec<(f64, f64)> {
        points.iter().filter_map(|p| p.ergotropy.as_ref().and_then(f).map(|v| (p.t, v))).collect()
    };
    let work: Vec<(f64, f64)> = r.series.t.iter().zip(&r.series.work).map(|(&t, &w)| (t, w)).collect();
    let mut panel = Panel::new(subtitle, "storage time s [1/B]", "energy [B]");
    if let Some(se) = &r.series.work_stderr {
        // trajectories: the means with one standard error, the local ergotropy of the mean
        // one-site states (the global ergotropies are not linear in rho)
        let local: Vec<(f64, f64)> = points.iter().filter_map(|p| Some((p.t, p.mean_local_ergotropy?))).collect();
        let local_se: Vec<f64> = points.iter().filter_map(|p| p.local_ergotropy_stderr).collect();
        panel = panel
            .with(Series::new("W +- one standard error", chart::band(&work, se), Style::Band, 8))
            .with(Series::new("work W (mean over trajectories)", work, Style::Line, 8))
            .with(Series::new("", chart::band(&local, &local_se), Style::Band, 2))
            .with(Series::new("local ergotropy (mean one-site states)", local, Style::Dotted, 2));
        if let Some(s) = r.half_lives.work.time {
            let top = r.series.work.iter().copied().fold(0.0f64, f64::max);
            panel = panel.with(Series::new(
                format!("half-life of W: s = {}", sig(s, 5)),
                vec![(s, 0.0), (s, top.max(1e-12))],
                Style::Dotted,
                8,
            ));
        }
        return Figure { title, panels: vec![panel], cols: 1 };
    }
    let mut panel = panel
        .with(Series::new("work W (stored, H0)", work, Style::Line, 8))
        .with(Series::new("ergotropy for H0", curve(&|e| e.ergotropy), Style::LineMarkers, 0))
        .with(Series::new("ergotropy for H_B", curve(&|e| Some(e.ergotropy_hb)), Style::Dashed, 1))
        .with(Series::new("local ergotropy", curve(&|e| Some(e.local_ergotropy)), Style::Dotted, 2));
    let top = r
        .series
        .work
        .iter()
        .copied()
        .chain(points.iter().filter_map(|p| p.ergotropy.and_then(|e| e.ergotropy)))
        .fold(0.0f64, f64::max);
    let halves = [("W", &r.half_lives.work, 8), ("E(H0)", &r.half_lives.ergotropy, 0)];
    for (name, h, color) in halves {
        if let Some(s) = h.time {
            panel = panel.with(Series::new(
                format!("half-life of {name}: s = {}", sig(s, 5)),
                vec![(s, 0.0), (s, top.max(1e-12))],
                Style::Dotted,
                color,
            ));
        }
    }
    Figure { title, panels: vec![panel], cols: 1 }
}

fn half_life_line(name: &str, h: &HalfLife) -> String {
    match (h.time, &h.reason) {
        (Some(s), _) => {
            format!("{name}: s = {} /B (from {} B)", sig(s, 10), h.initial.map_or("?".to_string(), |v| sig(v, 8)))
        }
        (None, Some(reason)) => format!("{name}: none ({reason})"),
        (None, None) => format!("{name}: none"),
    }
}

fn print_summary(chain: &Chain, spec: &StorageSpec, r: &StoreRecord, args: &StoreArgs) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "spinbat {} - storing a charged spin-chain battery (hbar = 1, energies in B, times in 1/B)",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "chain      {}", crate::output::describe_chain(chain));
    let from = match &r.charge.closed_max_power {
        Some(p) => format!("T* of the closed chain (P_max = {})", sig(p.power, 10)),
        None => "given".to_string(),
    };
    if let (Some(t0), Some(e)) = (r.charge.initial_temperature, r.charge.initial_energy) {
        let _ = writeln!(
            out,
            "start      Gibbs state of H0 at T0 = {t0} (mixed), energy {} B: W is measured from it",
            sig(e, 10)
        );
    }
    let _ = writeln!(
        out,
        "charge     T = {} /B ({from}), noise {}: W(T) = {} B",
        sig(r.charge.time, 12),
        r.charge.noise.describe(),
        sig(r.charge.work, 12)
    );
    let _ = writeln!(
        out,
        "storage    under H0 (field off), noise {} (--noise-during {}), {} storage times to s = {}",
        r.storage_noise.describe(),
        spec.noise_during,
        r.series.t.len(),
        sig(r.series.t.last().copied().unwrap_or(0.0), 6)
    );
    let _ = writeln!(out, "solver     {}, tol = {:e}", r.solver, spec.tol);
    let _ = writeln!(out, "accuracy   |error of W| <= {:.1e}: {}", r.error_bound, r.accuracy);
    let e = |p: &spinbat::observe::trajectory::ObservablePoint| {
        p.ergotropy.map_or("?".to_string(), |e| {
            format!(
                "W = {}, E(H0) = {}, E(H_B) = {}, local {}",
                sig(p.work, 9),
                e.ergotropy.map_or("?".to_string(), |x| sig(x, 9)),
                sig(e.ergotropy_hb, 9),
                sig(e.local_ergotropy, 9)
            )
        })
    };
    if let Some(ens) = &r.ensemble {
        let _ = writeln!(
            out,
            "ensemble   {} trajectories (seed {}), {:.2} jumps each on average: means with one standard error",
            ens.trajectories, ens.seed, ens.mean_jumps
        );
        let m = |p: &spinbat::observe::trajectory::ObservablePoint, se: f64| {
            format!(
                "W = {} +- {}, local ergotropy {} +- {}",
                sig(p.work, 8),
                sig(se, 2),
                p.mean_local_ergotropy.map_or("?".to_string(), |x| sig(x, 8)),
                p.local_ergotropy_stderr.map_or("?".to_string(), |x| sig(x, 2))
            )
        };
        let se = r.series.work_stderr.as_deref().unwrap_or_default();
        let _ = writeln!(out, "start      s = 0: {}", m(&r.start, r.start.work_stderr.unwrap_or(f64::NAN)));
        if let (Some(last), Some(&s)) = (r.observables.trajectory.points.last(), se.last()) {
            let _ = writeln!(out, "end        s = {}: {}", sig(last.t, 6), m(last, s));
        }
        let _ = writeln!(out, "half-life  {} (of the mean W)", half_life_line("work", &r.half_lives.work));
        let _ = writeln!(
            out,
            "           the global ergotropies are not linear in rho: not estimated (use --solver density-matrix)"
        );
        let _ = writeln!(
            out,
            "run        {:.3} s on {} threads{}",
            r.run_time_s,
            rayon::current_num_threads(),
            args.output.written()
        );
        return;
    }
    let _ = writeln!(out, "start      s = 0: {}", e(&r.start));
    if let Some(last) = r.observables.trajectory.points.last() {
        let _ = writeln!(out, "end        s = {}: {}", sig(last.t, 6), e(last));
    }
    let _ = writeln!(out, "half-life  {}", half_life_line("work", &r.half_lives.work));
    let _ = writeln!(out, "           {}", half_life_line("ergotropy (H0)", &r.half_lives.ergotropy));
    let _ = writeln!(out, "           {}", half_life_line("ergotropy (H_B)", &r.half_lives.ergotropy_hb));
    let _ = writeln!(
        out,
        "run        {:.3} s on {} threads{}",
        r.run_time_s,
        rayon::current_num_threads(),
        args.output.written()
    );
}
