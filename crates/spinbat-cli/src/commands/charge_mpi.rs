//! `mpiexec -n R spinbat charge ...`: the charge with one state vector partitioned over `R`
//! MPI processes (cargo feature `mpi`; [`spinbat::propagate::distributed`]). Every rank
//! runs the same certified search; rank 0 prints the summary and writes the files.

use super::charge::ChargeArgs;
use crate::CliError;
use spinbat::{Chain, Solver};

/// Refuses what the partitioned state does not do (yet), with one line each.
fn check(args: &ChargeArgs, solver: Solver, has_protocol: bool) -> Result<(), CliError> {
    let refuse = |what: &str| Err(CliError::input(anyhow::anyhow!("under mpiexec {what}")));
    if !matches!(solver, Solver::Auto | Solver::Chebyshev) {
        return refuse(&format!(
            "the state is partitioned for the Chebyshev solver only (--solver auto or chebyshev, not {})",
            solver.as_str()
        ));
    }
    if args.noise.any() || args.disorder_g.is_some() || args.disorder_field.is_some() || args.trajectories.is_some() {
        return refuse(
            "only the closed, clean battery is partitioned: no noise, thermal start, disorder or trajectories",
        );
    }
    if args.noise.start().map(|s| s.temperature().is_some()).unwrap_or(true) {
        return refuse("only the all-down start is partitioned (no --initial-temperature)");
    }
    if has_protocol || args.observe.is_some() {
        return refuse("--omega-schedule, --drive and --observe are not supported yet (constant field, work only)");
    }
    Ok(())
}

/// Without the `mpi` feature: several processes started by a launcher are refused, since
/// each would run the whole chain alone.
#[cfg(not(feature = "mpi"))]
pub fn run(
    _args: &ChargeArgs,
    _chain: &Chain,
    _solver: Solver,
    _times: &[f64],
    _protocol: bool,
) -> Result<(), CliError> {
    Err(CliError::input(anyhow::anyhow!("{}", crate::distributed::WITHOUT_MPI)))
}

/// The partitioned charge: checks, starts MPI, runs [`spinbat::observe::charge`] on
/// [`spinbat::propagate::Distributed`] on every rank, and on rank 0 writes the record
/// (with `processes`), the CSV, the plot and the summary.
#[cfg(feature = "mpi")]
pub fn run(args: &ChargeArgs, chain: &Chain, solver: Solver, times: &[f64], protocol: bool) -> Result<(), CliError> {
    use crate::plot;
    use crate::progress::Bar;
    use anyhow::Context;
    use spinbat::partition::Communicator;
    use spinbat::propagate::{Distributed, Precision};
    use spinbat::record::ChargeRecord;

    check(args, solver, protocol)?;
    let precision: Precision = args.precision.parse()?;
    let (_universe, comm) = crate::distributed::start()?;
    let rank = comm.rank();
    crate::model_args::set_threads(args.threads)?;
    args.output.check()?;
    let ground = spinbat::observe::ground::ground_state(chain)?;
    let json_stdout = args.output.json_stdout();
    let start = std::time::Instant::now();
    // no --max-time limit: each process would stop at its own estimate, out of step
    let bar = Bar::new(rank == 0 && !json_stdout, "charging");
    let silent = spinbat::Silent;
    let progress: &dyn spinbat::Progress = if rank == 0 { &bar } else { &silent };
    let (result, report) = match precision {
        Precision::Double => {
            let mut p = Distributed::<_, f64>::new(comm, chain, args.tol)?;
            (spinbat::observe::charge(&mut p, chain, times, progress), p.report())
        }
        Precision::Single => {
            let mut p = Distributed::<_, f32>::new(comm, chain, args.tol)?;
            (spinbat::observe::charge(&mut p, chain, times, progress), p.report())
        }
    };
    bar.finish();
    let result = result?;
    let elapsed = start.elapsed().as_secs_f64();
    if rank != 0 {
        return Ok(());
    }
    let mut record = ChargeRecord::new(chain, solver, args.tol, &result, elapsed);
    record.precision = precision;
    record.initial_is_ground = ground.initial_is_ground;
    record.ground_energy = ground.ground_energy;
    record.partition = Some(report);
    args.output.json.write(&record)?;
    if let Some(path) = &args.output.csv {
        super::charge::write_csv(path, &result, None)
            .with_context(|| format!("writing {}", path.display()))
            .map_err(CliError::runtime)?;
    }
    if let Some(path) = &args.output.plot {
        let title = crate::output::describe_chain(chain);
        let ind = plot::Independent { n: chain.n_sites(), b: chain.b(), omega: chain.omega() };
        plot::write(path, &title, &result, Some(ind), &[]).map_err(CliError::runtime)?;
    }
    if !json_stdout {
        super::charge::print_summary(chain, solver, args.tol, &result, elapsed, args, &ground);
    }
    Ok(())
}

#[cfg(not(feature = "mpi"))]
const _: fn(&ChargeArgs, Solver, bool) -> Result<(), CliError> = check;
