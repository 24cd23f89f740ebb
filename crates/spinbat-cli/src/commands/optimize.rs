//! `spinbat optimize`: the piecewise-constant field `ω(t) ∈ [−W, W]` on `K` equal segments
//! that charges most by `T` ([`spinbat::control`]); JSON, CSV of the schedule, plot of
//! `ω(t)` and `W(t)`.

use crate::model_args::ModelArgs;
use crate::output::{sig, OutputArgs};
use crate::plot::chart::{self, Figure, Panel, Series, Style};
use crate::CliError;
use anyhow::{anyhow, Context};
use clap::Args;
use serde::Serialize;
use spinbat::control::{self, ConstantField, ControlSpec, GradientCheck, Objective};
use spinbat::model::{Protocol, Schedule};
use spinbat::propagate::{Plan, Precision, Request};
use spinbat::record::{ModelRecord, Provenance};
use spinbat::Solver;
use std::io::Write;
use std::time::Instant;

/// Arguments of `spinbat optimize`.
#[derive(Debug, Args)]
#[command(
    mut_arg("csv", |a| a.help("Write the schedule as CSV: segment, t_start, t_end, omega")),
    mut_arg("plot", |a| a.help("Plot omega(t) and W(t) of the best schedule (and the best constant field's W(t)) to FILE.png or FILE.svg")),
    after_help = "\
Maximises the objective at the charging time T over piecewise-constant fields
  H(t) = H_g + omega_k sum_i X_i  on  ((k-1) T/K, k T/K],  |omega_k| <= W,  k = 1..K,
from all-down, on the full 2^N space (exact Chebyshev propagation, N up to about 20), or with
--solver mean-field on the classical Bloch vectors (any N the mean field takes, e.g. N = 1000;
gradients by the adjoint of the Bloch equations; ergotropy null).
Objectives: work W(T) = <H0>_T - E0; power W(T)/T at the fixed T; ergotropy <H0>_T - E_min(H0)
(the pure state's global ergotropy). All three have the same optimal schedule: for a pure
state they differ by constants (1/T, E0 - E_min); the ergotropy exceeds the work only where
all-down is not the ground state of H0 (B < 0, |alpha| > 1, negative couplings).
Gradients are exact (adjoint/GRAPE: forward states, backward co-state, the derivative of each
segment's Chebyshev series by the augmented recurrence), checked against central differences
at the best schedule (JSON gradient_check). Optimiser: projected L-BFGS (bounds by projection);
start 1 is the best constant field (so the result never falls below it), starts 2..M uniform
random in [-W, W]^K (ChaCha8 stream m of --seed).
JSON: work, power, ergotropy, schedule {ends, omegas}, constant_field {omega, work} (the best
constant field in [0, W]; W(T) is even in omega), gradient_check, start_work, curve {t, work}.

Examples:
  spinbat optimize --n 1 --charge-time 0.5 --segments 8 --omega-max 2
  spinbat optimize --n 12 --coupling nn --charge-time 0.6 --segments 20 --omega-max 1 --json opt.json --plot opt.png
  spinbat optimize --n 2 --alpha 0 --coupling nn --g 1 --charge-time 2 --segments 40 --omega-max 1 --csv schedule.csv
  spinbat optimize --n 1000 --coupling nn --charge-time 0.3 --segments 10 --omega-max 4 --solver mean-field --starts 2"
)]
pub struct OptimizeArgs {
    /// The chain: N, B, g, alpha, couplings, boundary (--omega is not used: the field is
    /// what is optimised).
    #[command(flatten)]
    pub model: ModelArgs,
    /// Charging time T [units 1/B].
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub charge_time: f64,
    /// Number K of equal segments of [0, T].
    #[arg(long, value_name = "K", default_value_t = 20)]
    pub segments: usize,
    /// Bound W on |omega(t)| [units B].
    #[arg(long, value_name = "W", allow_negative_numbers = true)]
    pub omega_max: f64,
    /// Objective at T: work, power or ergotropy.
    #[arg(long, default_value = "work", value_name = "work|power|ergotropy")]
    pub objective: String,
    /// Seed of the random starts.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of starts M (the first from the best constant field).
    #[arg(long, default_value_t = 4)]
    pub starts: usize,
    /// Most L-BFGS iterations per start.
    #[arg(long, default_value_t = 200)]
    pub max_iterations: usize,
    /// Solver: chebyshev (exact, full space) or mean-field (the Bloch equations, any N).
    #[arg(long, default_value = "chebyshev", value_name = "chebyshev|mean-field")]
    pub solver: String,
    /// Absolute tolerance of each segment's series.
    #[arg(long, default_value = "1e-10", allow_negative_numbers = true)]
    pub tol: f64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `W(t)` of a schedule on a grid.
#[derive(Debug, Serialize)]
struct Curve {
    t: Vec<f64>,
    work: Vec<f64>,
}

/// What `--json` writes.
#[derive(Debug, Serialize)]
struct OptimizeRecord {
    model: ModelRecord,
    objective: Objective,
    charge_time: f64,
    segments: usize,
    omega_max: f64,
    seed: u64,
    starts: usize,
    solver: &'static str,
    work: f64,
    power: f64,
    ergotropy: Option<f64>,
    schedule: Schedule,
    constant_field: ConstantField,
    /// `work / constant_field.work`
    gain_over_constant: f64,
    gradient_check: GradientCheck,
    start_work: Vec<f64>,
    evaluations: usize,
    curve: Curve,
    run_time_s: f64,
    provenance: Provenance,
}

/// `W(t)` on 201 times of `[0, T]` by the segment-by-segment Chebyshev propagator.
fn curve(chain: &spinbat::Chain, schedule: &Schedule, tol: f64, solver: Solver) -> Result<Curve, CliError> {
    let plan = Plan::new(chain, solver, tol, Precision::Double, Request::Work)?;
    let mut prop = plan.protocol_propagator(chain, &Protocol::Schedule(schedule.clone()))?;
    let t = spinbat::observe::uniform_times(schedule.end(), 201);
    let work = prop.sample(&t)?.iter().map(|s| s.work).collect();
    Ok(Curve { t, work })
}

pub fn run(args: OptimizeArgs) -> Result<(), CliError> {
    let objective: Objective = args.objective.parse()?;
    let solver = match args.solver.as_str() {
        "chebyshev" => Solver::Chebyshev,
        "mean-field" | "meanfield" => Solver::MeanField,
        other => {
            return Err(CliError::input(anyhow!(
                "--solver {other}: optimize runs with chebyshev (the exact full space) or mean-field"
            )))
        }
    };
    let chain = args.model.chain()?;
    crate::model_args::set_threads(args.threads)?;
    args.output.check()?;
    let spec = ControlSpec {
        charge_time: args.charge_time,
        segments: args.segments,
        omega_max: args.omega_max,
        objective,
        seed: args.seed,
        starts: args.starts,
        tol: args.tol,
        max_iterations: args.max_iterations,
    };
    spec.check()?;
    let start = Instant::now();
    let r = if solver == Solver::MeanField {
        control::optimize_mean_field(&chain, &spec)?
    } else {
        let ground = spinbat::observe::ground::ground_state(&chain)?;
        let ground_energy = match ground.initial_is_ground {
            Some(true) => Some(chain.initial_energy()),
            Some(false) => ground.ground_energy,
            None => None,
        };
        control::optimize(&chain, &spec, ground_energy)?
    };
    let best_curve = curve(&chain, &r.schedule, args.tol, solver)?;
    let constant = Schedule::new(vec![args.charge_time], vec![r.constant_field.omega])?;
    let constant_curve = curve(&chain, &constant, args.tol, solver)?;
    let elapsed = start.elapsed().as_secs_f64();
    let record = OptimizeRecord {
        model: ModelRecord::of(&chain),
        objective,
        charge_time: args.charge_time,
        segments: args.segments,
        omega_max: args.omega_max,
        seed: args.seed,
        starts: args.starts,
        solver: solver.as_str(),
        work: r.work,
        power: r.power,
        ergotropy: r.ergotropy,
        gain_over_constant: r.work / r.constant_field.work,
        schedule: r.schedule.clone(),
        constant_field: r.constant_field,
        gradient_check: r.gradient_check.clone(),
        start_work: r.start_work.clone(),
        evaluations: r.evaluations,
        curve: best_curve,
        run_time_s: elapsed,
        provenance: Provenance::current(),
    };
    args.output.json.write(&record)?;
    if let Some(path) = &args.output.csv {
        let write = || -> anyhow::Result<()> {
            let mut w = csv::Writer::from_path(path)?;
            w.write_record(["segment", "t_start", "t_end", "omega"])?;
            for k in 0..r.schedule.len() {
                w.write_record([
                    (k + 1).to_string(),
                    r.schedule.start_of(k).to_string(),
                    r.schedule.ends()[k].to_string(),
                    r.schedule.omegas()[k].to_string(),
                ])?;
            }
            w.flush()?;
            Ok(())
        };
        write().with_context(|| format!("writing {}", path.display())).map_err(CliError::runtime)?;
    }
    if let Some(path) = &args.output.plot {
        // ω(t) as steps
        let mut steps = Vec::new();
        for k in 0..r.schedule.len() {
            steps.push((r.schedule.start_of(k), r.schedule.omegas()[k]));
            steps.push((r.schedule.ends()[k], r.schedule.omegas()[k]));
        }
        let title =
            format!("{}: optimal charge by T = {}", crate::output::describe_chain(&chain), sig(args.charge_time, 4));
        let field = Panel::new("field", "t [1/B]", "omega(t) [B]")
            .with(Series::new("optimal schedule", steps, Style::Line, 0))
            .with(Series::new(
                "best constant field",
                vec![(0.0, r.constant_field.omega), (args.charge_time, r.constant_field.omega)],
                Style::Dashed,
                1,
            ));
        let pts = |c: &Curve| c.t.iter().copied().zip(c.work.iter().copied()).collect::<Vec<_>>();
        let work = Panel::new("work", "t [1/B]", "W(t) [B]")
            .with(Series::new("optimal schedule", pts(&record.curve), Style::Line, 0))
            .with(Series::new("best constant field", pts(&constant_curve), Style::Dashed, 1));
        chart::write(path, &Figure { title, panels: vec![field, work], cols: 2 }).map_err(CliError::runtime)?;
    }
    if !args.output.json_stdout() {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "{}\noptimal {} segments |omega| <= {} by T = {}: W(T) = {} B, P = W/T = {} B^2 ({} x the best constant field omega = {}: W = {}); gradient check max rel. diff {:.1e}; {} gradient evaluations, {:.2} s{}",
            crate::output::describe_chain(&chain),
            args.segments,
            sig(args.omega_max, 4),
            sig(args.charge_time, 6),
            sig(r.work, 10),
            sig(r.power, 10),
            sig(record.gain_over_constant, 6),
            sig(r.constant_field.omega, 8),
            sig(r.constant_field.work, 10),
            r.gradient_check.max_relative_difference,
            r.evaluations,
            elapsed,
            args.output.written()
        );
    }
    Ok(())
}
