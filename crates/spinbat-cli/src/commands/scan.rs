//! `spinbat scan`: one parameter swept, several solvers side by side.

use crate::model_args::{set_threads, ModelArgs};
use crate::noise_args::NoiseArgs;
use crate::output::OutputArgs;
use crate::plot::chart::{self, Figure, Panel, Series, Style};
use crate::{progress::Bar, CliError};
use anyhow::Context;
use clap::Args;
use serde::Serialize;
use spinbat::record::{ModelRecord, Provenance};
use spinbat::study::{self, Cell, Parameter, ScalingFit, ScanOptions, ScanRow, ScanSolver, Sweep};
use spinbat::Chain;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Options of `spinbat scan`.
#[derive(Debug, Args)]
#[command(
    mut_arg("csv", |a| a.help("Write one CSV row per (value, solver)")),
    mut_arg("plot", |a| a.help("Plot P_max, P_max/(N P1) and W_max against the parameter to FILE.png or FILE.svg")),
    after_help = "\
For every value of the varied parameter and every solver: the certified maximal power
P_max, its time T*, W(T*), the maximal work in [0, window] and its time, and the gains
P_max / (N P1) and W_max / (2BN) over N independent spins (P1 = 1.4492 omega B).
Solvers: quantum (exact; dicke, dense or chebyshev chosen per point), mean-field
(classical Bloch vectors, paper Sec. IV), weak-coupling (paper Eq. 18), or a method name.
With --vary n the scaling of P_max/N is fitted by a constant, a + b ln N and a + b N.

The open battery: the noise flags set the noise of every point, and --vary dephasing,
decay, collective_decay (or collective-decay) or temperature varies one of its rates; each
point with noise is the density-matrix charge that 'spinbat charge' with the same flags runs
(on the N + 1 Dicke states for p = 0 with collective decay only), P_max certified with
the open battery's bound W <= lambda_max(H0) - E0; a point whose rates are all zero is the
closed battery (its exact solver).

A periodic drive omega(t) = omega + A cos(nu t): --vary drive_frequency=SPEC with --drive A,
or --vary drive=SPEC with --drive-frequency NU; each point is the charge 'spinbat charge
--drive A --drive-frequency NU' runs (CFET4:2 in the exact solvers, the Bloch equations in
mean-field; weak-coupling refused), P_max certified with W(t)/t <= c/t + d. The record adds
drive (the fixed part) and static_rows (A = 0: the static charge, one row per solver).

Examples:
  spinbat scan --vary alpha=0:1:0.1 --n 4 --solvers quantum,mean-field
  spinbat scan --vary n=2..14 --coupling nn --solvers quantum,mean-field --plot nn.png
  spinbat scan --vary p=0,0.5,1,2,3 --n 8 --json -
  spinbat scan --vary dephasing=0,0.05,0.1,0.2 --n 6 --plot dephasing.png
  spinbat scan --vary collective_decay=0:0.2:0.05 --n 100 --p 0 --power-only
  spinbat scan --vary drive_frequency=1,2,4,8,16 --drive 2 --n 8 --coupling nn --power-only"
)]
pub struct ScanArgs {
    /// The varied parameter and its values: NAME=SPEC with NAME one of n, alpha, p, g,
    /// omega, b, gamma, a noise setting dephasing, decay, collective_decay, temperature,
    /// or a periodic drive's drive (amplitude A) or drive_frequency (nu), and SPEC a list
    /// (1,2,4), an integer range (2..14) or start:stop:step (-1:1:0.1).
    #[arg(long, value_name = "NAME=SPEC")]
    pub vary: String,
    /// With --vary drive_frequency: the drive's amplitude A of every point.
    #[arg(long, value_name = "A", allow_negative_numbers = true)]
    pub drive: Option<f64>,
    /// With --vary drive: the drive's angular frequency nu of every point [units B/hbar].
    #[arg(long, value_name = "NU")]
    pub drive_frequency: Option<f64>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// The noise of every point (the varied rate replaced at each point).
    #[command(flatten)]
    pub noise: NoiseArgs,
    /// Comma-separated solvers: quantum, mean-field, weak-coupling (or dense, chebyshev, dicke).
    #[arg(long, default_value = "quantum")]
    pub solvers: String,
    /// Absolute tolerance on W [units of B].
    #[arg(long, default_value = "1e-10", allow_negative_numbers = true)]
    pub tol: f64,
    /// End of the maximal-work window [1/B]; default 2 pi / omega of each point.
    #[arg(long, allow_negative_numbers = true)]
    pub window: Option<f64>,
    /// Only the maximal power: stop each propagation at its certified stopping time
    /// (no maximal work; much cheaper for large N).
    #[arg(long)]
    pub power_only: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// --json, --csv, --plot.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The JSON record of a scan.
#[derive(Debug, Serialize)]
pub struct ScanRecord {
    /// Name of the varied parameter.
    pub vary: Parameter,
    /// Its values.
    pub values: Vec<f64>,
    /// The chain before the parameter is set.
    pub model: ModelRecord,
    /// Solver labels.
    pub solvers: Vec<String>,
    /// Absolute tolerance on `W`.
    pub tolerance: f64,
    /// The noise of every point before the varied rate is set (absent without noise flags
    /// or a noise parameter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<spinbat::open::Noise>,
    /// One row per (value, solver).
    pub rows: Vec<ScanRow>,
    /// With `--vary n`: the fitted law of `P_max/N` per solver.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scaling: Vec<SolverScaling>,
    /// Wall time (seconds).
    pub run_time_s: f64,
    pub provenance: Provenance,
}

/// Fit of `P_max/N` against `N` for one solver.
#[derive(Debug, Serialize)]
pub struct SolverScaling {
    pub solver: String,
    #[serde(flatten)]
    pub fit: ScalingFit,
}

/// `P_max/N` fits per solver (for `--vary n` with at least three values).
pub fn scaling_fits(rows: &[ScanRow], solvers: &[ScanSolver]) -> Vec<SolverScaling> {
    solvers
        .iter()
        .filter_map(|s| {
            let (n, y): (Vec<f64>, Vec<f64>) = rows
                .iter()
                .filter(|r| r.solver == s.label)
                .map(|r| (r.n_sites as f64, r.max_power.power / r.n_sites as f64))
                .unzip();
            Some(SolverScaling { solver: s.label.to_string(), fit: study::fit_scaling(&n, &y)? })
        })
        .collect()
}

pub fn run(args: ScanArgs) -> Result<(), CliError> {
    if let Some(parameter) = super::scan_drive::drive_parameter(&args.vary) {
        return super::scan_drive::run(args, parameter);
    }
    if args.drive.is_some() || args.drive_frequency.is_some() {
        return Err(CliError::input(anyhow::anyhow!(
            "--drive and --drive-frequency in scan go with --vary drive=SPEC or --vary drive_frequency=SPEC"
        )));
    }
    let sweep: Sweep = args.vary.parse()?;
    let solvers = ScanSolver::parse_list(&args.solvers)?;
    let base = args.model.chain()?;
    set_threads(args.threads)?;
    args.output.check()?;
    let options = ScanOptions { tol: args.tol, window: args.window, max_work: !args.power_only };
    let json_stdout = args.output.json_stdout();

    let noise = args.noise.noise();
    noise.check(base.b())?;
    let open = args.noise.any() || sweep.parameter.is_noise();
    let start = Instant::now();
    let bar = Bar::new(!json_stdout, "scanning").counting("points");
    let rows = study::scan_noisy(&base, &noise, &sweep, &solvers, &options, &bar);
    bar.finish();
    let rows = rows?;
    let elapsed = start.elapsed().as_secs_f64();
    let scaling = if sweep.parameter == Parameter::N { scaling_fits(&rows, &solvers) } else { Vec::new() };
    let record = ScanRecord {
        vary: sweep.parameter,
        values: sweep.values.clone(),
        model: ModelRecord::of(&base),
        solvers: solvers.iter().map(|s| s.label.to_string()).collect(),
        tolerance: args.tol,
        noise: open.then_some(noise),
        rows,
        scaling,
        run_time_s: elapsed,
        provenance: Provenance::current(),
    };
    args.output.json.write(&record)?;
    if let Some(path) = &args.output.csv {
        write_csv(path, &record.rows)
            .with_context(|| format!("writing {}", path.display()))
            .map_err(CliError::runtime)?;
    }
    if let Some(path) = &args.output.plot {
        let mut title = scan_title(sweep.parameter, &sweep.values, &base);
        if open && !noise.is_closed() {
            title.push_str(&format!("; noise {}", noise.describe()));
        }
        let fig =
            figure(&title, record.vary, &record.values, &record.solvers, &record.rows, &record.scaling, Vec::new());
        chart::write(path, &fig).map_err(CliError::runtime)?;
    }
    if !json_stdout {
        print_summary(&record, &args);
    }
    Ok(())
}

/// The columns of `spinbat scan --csv`, in order: a selection of the library's
/// [`ScanRow::COLUMNS`] (no independent-spin references, no accuracy sentence), named as
/// there except `n_sites`, whose header is `n` ([`csv_header`]).
pub const CSV_COLUMNS: [&str; 15] = [
    "value",
    "solver",
    "method",
    "n_sites",
    "max_power",
    "t_star",
    "work_at_max_power",
    "max_work",
    "t_max_work",
    "power_at_max_work",
    "power_ratio",
    "work_ratio",
    "window",
    "error_bound",
    "run_time_s",
];

/// The CSV header of scan rows: [`CSV_COLUMNS`], `n_sites` as `n`.
pub fn csv_header() -> Vec<&'static str> {
    CSV_COLUMNS.iter().map(|&c| if c == "n_sites" { "n" } else { c }).collect()
}

/// One CSV row of a scan row: the library's cells of [`CSV_COLUMNS`]; numbers to 16
/// significant digits, the error bound to 3 and the run time to 0.1 ms, empty where the
/// row has none.
pub fn csv_row(r: &ScanRow) -> Vec<String> {
    CSV_COLUMNS
        .iter()
        .map(|&column| match (column, r.cell(column).expect("CSV_COLUMNS are columns of ScanRow")) {
            (_, Cell::Text(s)) => s.to_string(),
            (_, Cell::Count(n)) => n.to_string(),
            (_, Cell::Number(None)) => String::new(),
            ("value", Cell::Number(Some(v))) => format!("{v}"),
            ("error_bound", Cell::Number(Some(b))) => format!("{b:.2e}"),
            ("run_time_s", Cell::Number(Some(t))) => format!("{t:.4}"),
            (_, Cell::Number(Some(v))) => format!("{v:.15e}"),
        })
        .collect()
}

pub fn write_csv(path: &Path, rows: &[ScanRow]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(csv_header())?;
    for r in rows {
        w.write_record(csv_row(r))?;
    }
    w.flush()?;
    Ok(())
}

/// The symbol of a parameter on axes and in titles (`N`, `alpha`, `p`, `g`, `omega`, `B`;
/// the noise: `gamma_phi`, `gamma`, `Gamma`, `T`).
pub fn symbol(p: Parameter) -> &'static str {
    match p {
        Parameter::N => "N",
        Parameter::B => "B",
        Parameter::Dephasing => "gamma_phi",
        Parameter::Decay => "gamma",
        Parameter::CollectiveDecay => "Gamma",
        Parameter::Temperature => "T",
        other => other.as_str(),
    }
}

/// A swept parameter in words: `alpha swept from 0 to 1 (5 values)`.
pub fn describe_swept(vary: Parameter, values: &[f64]) -> String {
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    if values.len() > 1 {
        format!("{} swept from {lo} to {hi} ({} values)", symbol(vary), values.len())
    } else {
        format!("{} = {lo}", symbol(vary))
    }
}

/// The title of a scan plot: the swept parameter with its range and number of values, then
/// only the parameters held fixed (the chain's own value of the swept one is not shown).
pub fn scan_title(vary: Parameter, values: &[f64], chain: &Chain) -> String {
    format!(
        "spinbat scan: {}; fixed {}",
        describe_swept(vary, values),
        crate::commands::run::describe_fixed(chain, &[vary])
    )
}

/// The plot of a scan: `P_max`, `P_max/(N P1)`, (when computed) `W_max`, and with `n`
/// varied `P_max/N` with its fitted law, otherwise the time `T*` of maximal power, against
/// the varied parameter, one curve per solver; `extra` panels (at most one) go before the
/// last, in place of `T*` (or of `P_max`, which is `N` times the per-spin panel). Two
/// columns for four panels, one row else, so that no cell of the grid is empty.
pub fn figure(
    title: &str,
    vary: Parameter,
    values: &[f64],
    solvers: &[String],
    rows: &[ScanRow],
    scaling: &[SolverScaling],
    extra: Vec<Panel>,
) -> Figure {
    figure_over(title, symbol(vary), vary == Parameter::N, values, solvers, rows, scaling, extra)
}

/// [`figure`] over an axis named `x` (`n_varied`: the per-spin panel with its fitted law).
#[allow(clippy::too_many_arguments)]
pub fn figure_over(
    title: &str,
    x: &str,
    n_varied: bool,
    values: &[f64],
    solvers: &[String],
    rows: &[ScanRow],
    scaling: &[SolverScaling],
    extra: Vec<Panel>,
) -> Figure {
    let style = if values.len() > 12 { Style::Line } else { Style::LineMarkers };
    let curve = |f: &dyn Fn(&ScanRow) -> f64, label: &str| -> Vec<Series> {
        solvers
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let pts = rows.iter().filter(|r| &r.solver == s).map(|r| (r.value, f(r))).collect();
                Series::new(if label.is_empty() { s.clone() } else { format!("{s} {label}") }, pts, style, k)
            })
            .collect()
    };
    let mut p1 = Panel::new("maximal power", x, "P_max [B^2]");
    p1.series = curve(&|r| r.max_power.power, "");
    let mut p2 = Panel::new("gain over N independent spins", x, "P_max / (N P1)");
    p2.series = curve(&|r| r.power_ratio, "");
    let mut p3 = Panel::new("maximal work in the window", x, "W_max [B]");
    p3.series = curve(&|r| r.max_work.map_or(f64::NAN, |m| m.work), "");
    let mut panels = vec![p1, p2];
    if rows.iter().any(|r| r.max_work.is_some()) {
        panels.push(p3);
    }
    if n_varied {
        let mut p4 = Panel::new("maximal power per spin, with fitted law", "N", "P_max / N [B^2]");
        p4.series = curve(&|r| r.max_power.power / r.n_sites as f64, "");
        for (k, s) in scaling.iter().enumerate() {
            let fit = s.fit.fits.iter().find(|f| f.law == s.fit.best);
            if let Some(fit) = fit {
                let pts = values.iter().map(|&n| (n, fit.eval(n))).collect();
                let label = format!("{} fit: P_max/N = {}", s.solver, fit.law.formula());
                p4.series.push(Series::new(label, pts, Style::Dashed, k));
            }
        }
        panels.extend(extra);
        panels.push(p4);
        if panels.len() > 4 {
            // P_max is N times the per-spin panel
            panels.remove(0);
        }
    } else {
        panels.extend(extra);
        if panels.len() < 4 {
            let mut p4 = Panel::new("time of maximal power", x, "T* [1/B]");
            p4.series = curve(&|r| r.max_power.time, "");
            panels.push(p4);
        }
    }
    let cols = if panels.len() == 4 { 2 } else { panels.len() };
    Figure { title: title.to_string(), panels, cols }
}

fn print_summary(rec: &ScanRecord, args: &ScanArgs) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "spinbat {} - scan over {} ({} values x {} solvers; energies in B, times in 1/B)",
        env!("CARGO_PKG_VERSION"),
        rec.vary,
        rec.values.len(),
        rec.solvers.len()
    );
    let _ = writeln!(out, "base chain  {}", crate::output::describe_chain(&rec.model.chain));
    if let Some(noise) = &rec.noise {
        let _ = writeln!(
            out,
            "noise       {}{} (rates in units of B; P_max certified with W <= lambda_max(H0) - E0)",
            noise.describe(),
            if rec.vary.is_noise() { format!(", {} varied", rec.vary) } else { String::new() }
        );
    }
    let width = rec.vary.as_str().len().max(10);
    let _ = writeln!(
        out,
        "{:>width$} {:>14} {:>14} {:>15} {:>13} {:>13} {:>13} {:>13} {:>9}",
        rec.vary.as_str(),
        "solver",
        "method",
        "P_max",
        "T*",
        "P/(N P1)",
        "W_max",
        "T(W_max)",
        "error"
    );
    for r in &rec.rows {
        let _ = writeln!(
            out,
            "{:>width$} {:>14} {:>14} {:>15.10} {:>13.8} {:>13.8} {:>13} {:>13} {:>9}",
            format!("{}", r.value),
            r.solver,
            r.method,
            r.max_power.power,
            r.max_power.time,
            r.power_ratio,
            r.max_work.map_or("-".into(), |m| format!("{:.8}", m.work)),
            r.max_work.map_or("-".into(), |m| format!("{:.8}", m.time)),
            r.error_bound.map_or("unbounded".into(), |b| format!("{b:.1e}"))
        );
    }
    for s in &rec.scaling {
        let fits: Vec<String> = s
            .fit
            .fits
            .iter()
            .map(|f| format!("{}: a = {:.4}, b = {:.4}, rms {:.1e}", f.law.formula(), f.a, f.b, f.rms_rel))
            .collect();
        let _ =
            writeln!(out, "scaling     {} P_max/N ~ {} (best); {}", s.solver, s.fit.best.formula(), fits.join("; "));
    }
    let _ = writeln!(
        out,
        "run         {:.3} s on {} threads{}",
        rec.run_time_s,
        rayon::current_num_threads(),
        args.output.written()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinbat::Couplings;

    fn chain() -> Chain {
        Chain::builder(4).b(1.0).g(1.0).alpha(0.0).omega(4.0).couplings(Couplings::PowerLaw { p: 1.0 }).build().unwrap()
    }

    /// The title names what is swept and only the fixed parameters: no "alpha = 0" while
    /// alpha is swept, no "N = 4" while N is.
    #[test]
    fn scan_title_names_only_fixed_parameters() {
        let c = chain();
        let t = scan_title(Parameter::Alpha, &[0.0, 0.5, 1.0], &c);
        assert!(!t.contains("alpha ="), "{t}");
        assert!(t.contains("alpha swept from 0 to 1 (3 values)"), "{t}");
        assert!(t.contains("N = 4") && t.contains("omega = 4") && t.contains("p = 1"), "{t}");
        let t = scan_title(Parameter::N, &[2.0, 3.0], &c);
        assert!(!t.contains("N = 4") && t.contains("N swept") && t.contains("alpha = 0"), "{t}");
        let t = scan_title(Parameter::P, &[0.0, 1.0], &c);
        assert!(!t.contains("p = 1") && t.contains("p swept"), "{t}");
    }

    /// The CSV takes its columns from the library's table (a column renamed there fails
    /// here, not in a user's run) and writes them as before: header, digits, empty cells.
    #[test]
    fn csv_columns_are_the_librarys() {
        assert!(CSV_COLUMNS.iter().all(|c| ScanRow::COLUMNS.contains(c)), "{CSV_COLUMNS:?}");
        assert_eq!(csv_header()[3], "n");
        let solvers = ScanSolver::parse_list("quantum,weak-coupling").unwrap();
        let sweep = Sweep { parameter: Parameter::Alpha, values: vec![0.5] };
        let options = ScanOptions { tol: 1e-8, window: None, max_work: false };
        let rows = study::scan(&chain(), &sweep, &solvers, &options, &spinbat::Silent).unwrap();
        let (r, row) = (&rows[1], csv_row(&rows[1]));
        assert_eq!(row.len(), csv_header().len());
        assert_eq!(&row[..4], ["0.5", "weak-coupling", "weak-coupling", "4"]);
        assert_eq!(row[4], format!("{:.15e}", r.max_power.power));
        assert_eq!(row[7..10], ["", "", ""], "no maximal work asked for");
        assert_eq!(row[10], format!("{:.15e}", r.power_ratio));
        assert_eq!(row[13], "", "weak coupling has no error bound");
        assert_eq!(row[14], format!("{:.4}", r.run_time_s));
        let quantum = csv_row(&rows[0]);
        assert_eq!(quantum[13], format!("{:.2e}", rows[0].error_bound.unwrap()));
    }

    /// Every cell of the scan figure's grid holds a panel with data, for any sweep, with and
    /// without the maximal work, with and without an extra panel.
    #[test]
    fn scan_figure_fills_its_grid() {
        let solvers = ScanSolver::parse_list("quantum,mean-field").unwrap();
        let labels: Vec<String> = solvers.iter().map(|s| s.label.to_string()).collect();
        for (vary, values) in [(Parameter::Alpha, vec![0.0, 0.5]), (Parameter::N, vec![2.0, 3.0, 4.0])] {
            for max_work in [true, false] {
                for extra in [false, true] {
                    let sweep = Sweep { parameter: vary, values: values.clone() };
                    let options = ScanOptions { tol: 1e-8, window: None, max_work };
                    let rows = study::scan(&chain(), &sweep, &solvers, &options, &spinbat::Silent).unwrap();
                    let scaling = if vary == Parameter::N { scaling_fits(&rows, &solvers) } else { Vec::new() };
                    let more = if extra {
                        vec![Panel::new("x", "y", "z").with(Series::new("s", vec![(0.0, 1.0)], Style::Line, 0))]
                    } else {
                        Vec::new()
                    };
                    let fig = figure("t", vary, &values, &labels, &rows, &scaling, more);
                    let n = fig.panels.len();
                    assert!(
                        n >= 3 && (n / fig.cols) * fig.cols == n,
                        "{vary:?} work {max_work} extra {extra}: {n} panels in {} columns",
                        fig.cols
                    );
                    for p in &fig.panels {
                        assert!(
                            p.series.iter().any(|s| s.points.iter().any(|q| q.1.is_finite())),
                            "empty panel {}",
                            p.title
                        );
                    }
                }
            }
        }
    }
}
