//! `spinbat`: command-line front end of the spinbat library (a thin layer: argument
//! parsing, output files, plots and progress bars).

mod commands;
mod distributed;
mod error;
mod model_args;
mod noise_args;
mod output;
mod plot;
mod progress;
mod records;
mod study_file;

use commands::{charge, effective, figure, merge, optimize, run, scan, slurm, store};
pub use error::CliError;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Simulate the charging of a spin-chain quantum battery (Le et al., PRA 97, 022106).
///
/// Units: hbar = 1, energies in units of the storage field B, times in units of 1/B.
#[derive(Debug, Parser)]
#[command(name = "spinbat", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Progress as plain lines on stderr every few seconds (phase, elapsed, remaining), also
    /// when stderr is not a terminal (logs, batch jobs); never on stdout.
    #[arg(long, global = true)]
    progress: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Charge a chain from the all-down state: W(t), P(t) = W/t, certified maximal power
    /// P_max and its time T*, maximal work, and the comparison with N independent spins.
    Charge(Box<charge::ChargeArgs>),
    /// Charge, then store: hold the charged chain under H0 (field off) with noise while
    /// charging, in storage or both; W(s), the ergotropy family over the storage times and
    /// the half-lives of the work and the ergotropy (self-discharge).
    Store(Box<store::StoreArgs>),
    /// Sweep one parameter (n, alpha, p, g, omega, b) and tabulate P_max, T*, W(T*), maximal
    /// work and the gain over independent spins for several solvers (quantum, mean-field,
    /// weak-coupling); with n, fit the scaling of P_max/N.
    Scan(Box<scan::ScanArgs>),
    /// Reproduce the paper's figures (2, 3, 4, 5, 6), the scaling study, or all: data (CSV,
    /// JSON), plots (PNG, SVG) and a report of each claim and whether the data bear it out.
    Figure(Box<figure::FigureArgs>),
    /// Strong coupling (paper Fig. 4): the exact effective N-body coupling J_eff of all-down
    /// and all-up, its splitting, c_N in J_eff ~ c_N omega^N/g^(N-1), and the first maximum
    /// of the slow oscillation of the work.
    Effective(Box<effective::EffectiveArgs>),
    /// Optimal charging: the piecewise-constant field |omega(t)| <= W on K segments that
    /// maximises the work (power, ergotropy) at T, with exact gradients; the gain over the
    /// best constant field.
    Optimize(Box<optimize::OptimizeArgs>),
    /// Run a study file (TOML): a grid over several parameters x solvers, every finished
    /// point stored at once as a JSON line; resumable, shardable (--shard K/M), with CSV and
    /// plots (curves for one varied parameter, heat maps for two).
    Run(Box<run::RunArgs>),
    /// Merge the shard files of `spinbat run --shard K/M` into the study's records, CSV and
    /// plot, after checking that every (point, solver) appears exactly once.
    Merge(Box<merge::MergeArgs>),
    /// Write (and with --submit, submit) a Slurm job array of `spinbat run --shard K/M`, one
    /// task a shard, and a merge job that runs `spinbat merge` after every task succeeded.
    Slurm(Box<slurm::SlurmArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    progress::set_lines(cli.progress);
    let result = match cli.command {
        Command::Charge(args) => charge::run(*args),
        Command::Store(args) => store::run(*args),
        Command::Scan(args) => scan::run(*args),
        Command::Figure(args) => figure::run(*args),
        Command::Effective(args) => effective::run(*args),
        Command::Optimize(args) => optimize::run(*args),
        Command::Run(args) => run::run(*args),
        Command::Merge(args) => merge::run(*args),
        Command::Slurm(args) => slurm::run(*args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // under mpiexec only rank 0 speaks
            if !distributed::secondary_rank() {
                eprintln!("spinbat: error: {}", e.message());
            }
            ExitCode::from(e.status())
        }
    }
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks of the command tree (the ids named by `mut_arg`, value
    /// names, conflicts), which otherwise run only when a command is parsed.
    #[test]
    fn command_tree_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
