//! `spinbat scan --vary drive_frequency=SPEC --drive A` (or `--vary drive=SPEC
//! --drive-frequency NU`): a Floquet scan, the library's `study::scan_drive`, with the same
//! rows, CSV and plot as every other scan, and the static charge beside it.

use super::scan::{figure_over, write_csv, ScanArgs};
use crate::model_args::set_threads;
use crate::plot::chart;
use crate::{progress::Bar, CliError};
use anyhow::{anyhow, Context};
use serde::Serialize;
use spinbat::model::Drive;
use spinbat::record::{ModelRecord, Provenance};
use spinbat::study::{self, DriveParameter, Parameter, ScanOptions, ScanRow, ScanSolver, Sweep};
use std::io::Write;
use std::time::Instant;

/// The drive parameter `--vary` names (`drive=…`, `drive_frequency=…`, `drive-frequency=…`),
/// `None` for any other.
pub fn drive_parameter(vary: &str) -> Option<DriveParameter> {
    let (name, _) = vary.split_once('=')?;
    name.parse().ok()
}

/// The JSON record of a Floquet scan: the fields of every scan's record, with the drive.
#[derive(Debug, Serialize)]
pub struct DriveScanRecord {
    /// `drive` or `drive_frequency`.
    pub vary: DriveParameter,
    /// Its values.
    pub values: Vec<f64>,
    /// The chain (its `omega` the drive's static part).
    pub model: ModelRecord,
    /// The drive with the varied part at the first value.
    pub drive: Drive,
    /// Solver labels.
    pub solvers: Vec<String>,
    /// Absolute tolerance on `W`.
    pub tolerance: f64,
    /// One row per (value, solver).
    pub rows: Vec<ScanRow>,
    /// The static charge (`A = 0`), one row per solver (value 0).
    pub static_rows: Vec<ScanRow>,
    /// Wall time (seconds).
    pub run_time_s: f64,
    pub provenance: Provenance,
}

pub fn run(args: ScanArgs, parameter: DriveParameter) -> Result<(), CliError> {
    let (name, spec) = args.vary.split_once('=').expect("drive_parameter found the '='");
    // the values as every sweep parses them (the parameter only names errors)
    let values = Sweep::parse_spec(Parameter::Omega, spec)
        .map_err(|e| CliError::input(anyhow!("--vary {name}: {}", e.to_string().replace("omega", name))))?
        .values;
    let (amplitude, frequency) = match (parameter, args.drive, args.drive_frequency) {
        (DriveParameter::DriveFrequency, Some(a), None) => (a, values[0]),
        (DriveParameter::Drive, None, Some(nu)) => (values[0], nu),
        (DriveParameter::DriveFrequency, _, _) => {
            return Err(CliError::input(anyhow!(
                "--vary drive_frequency needs --drive A (the amplitude of every point) and no --drive-frequency"
            )))
        }
        (DriveParameter::Drive, _, _) => {
            return Err(CliError::input(anyhow!(
                "--vary drive needs --drive-frequency NU (the frequency of every point) and no --drive"
            )))
        }
    };
    if args.noise.any() {
        return Err(CliError::input(anyhow!("a periodic drive charges the closed battery: no noise flags")));
    }
    let solvers = ScanSolver::parse_list(&args.solvers)?;
    let base = args.model.chain()?;
    let drive = Drive::new(base.omega(), amplitude, frequency)?;
    for &v in &values {
        parameter.apply(drive, v)?;
    }
    set_threads(args.threads)?;
    args.output.check()?;
    let options = ScanOptions { tol: args.tol, window: args.window, max_work: !args.power_only };
    let json_stdout = args.output.json_stdout();
    let start = Instant::now();
    let bar = Bar::new(!json_stdout, "scanning").counting("points");
    let rows = study::scan_drive(&base, drive, parameter, &values, &solvers, &options, &bar);
    bar.finish();
    let rows = rows?;
    // the static charge beside it: the same chain, no drive
    let static_rows =
        study::scan(&base, &Sweep::new(Parameter::Omega, vec![base.omega()])?, &solvers, &options, &spinbat::Silent)?
            .into_iter()
            .map(|mut r| {
                r.value = 0.0;
                r
            })
            .collect();
    let record = DriveScanRecord {
        vary: parameter,
        values: values.clone(),
        model: ModelRecord::of(&base),
        drive,
        solvers: solvers.iter().map(|s| s.label.to_string()).collect(),
        tolerance: args.tol,
        rows,
        static_rows,
        run_time_s: start.elapsed().as_secs_f64(),
        provenance: Provenance::current(),
    };
    args.output.json.write(&record)?;
    if let Some(path) = &args.output.csv {
        write_csv(path, &record.rows)
            .with_context(|| format!("writing {}", path.display()))
            .map_err(CliError::runtime)?;
    }
    let symbol = match parameter {
        DriveParameter::Drive => "A",
        DriveParameter::DriveFrequency => "nu",
    };
    if let Some(path) = &args.output.plot {
        let title = format!(
            "spinbat scan: drive omega + A cos(nu t), {symbol} swept ({} values); fixed {}, {}",
            values.len(),
            match parameter {
                DriveParameter::Drive => format!("nu = {frequency}"),
                DriveParameter::DriveFrequency => format!("A = {amplitude}"),
            },
            crate::output::describe_chain(&base)
        );
        let fig = figure_over(&title, symbol, false, &record.values, &record.solvers, &record.rows, &[], Vec::new());
        chart::write(path, &fig).map_err(CliError::runtime)?;
    }
    if !json_stdout {
        print_summary(&record, symbol, &args);
    }
    Ok(())
}

fn print_summary(rec: &DriveScanRecord, symbol: &str, args: &ScanArgs) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "spinbat {} - scan over the drive's {} ({} values x {} solvers; energies in B, times in 1/B)",
        env!("CARGO_PKG_VERSION"),
        rec.vary,
        rec.values.len(),
        rec.solvers.len()
    );
    let _ = writeln!(out, "base chain  {}", crate::output::describe_chain(&rec.model.chain));
    let _ = writeln!(
        out,
        "drive       omega(t) = {} + A cos(nu t), {}",
        rec.drive.omega,
        match rec.vary {
            DriveParameter::Drive => format!("nu = {}, A varied", rec.drive.frequency),
            DriveParameter::DriveFrequency => format!("A = {}, nu varied", rec.drive.amplitude),
        }
    );
    let _ = writeln!(
        out,
        "{:>10} {:>14} {:>14} {:>15} {:>13} {:>13} {:>15} {:>9}",
        symbol, "solver", "method", "P_max", "T*", "P/(N P1)", "P_max/static", "error"
    );
    for r in &rec.rows {
        let stat = rec.static_rows.iter().find(|s| s.solver == r.solver).map_or(f64::NAN, |s| s.max_power.power);
        let _ = writeln!(
            out,
            "{:>10} {:>14} {:>14} {:>15.10} {:>13.8} {:>13.8} {:>15.8} {:>9}",
            format!("{}", r.value),
            r.solver,
            r.method,
            r.max_power.power,
            r.max_power.time,
            r.power_ratio,
            r.max_power.power / stat,
            r.error_bound.map_or("unbounded".into(), |b| format!("{b:.1e}"))
        );
    }
    for s in &rec.static_rows {
        let _ = writeln!(
            out,
            "static      {}: P_max = {:.10} at T* = {:.8} (A = 0)",
            s.solver, s.max_power.power, s.max_power.time
        );
    }
    let _ = writeln!(
        out,
        "run         {:.3} s on {} threads{}",
        rec.run_time_s,
        rayon::current_num_threads(),
        args.output.written()
    );
}
