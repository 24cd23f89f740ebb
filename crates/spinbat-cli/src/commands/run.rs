//! `spinbat run STUDY.toml`: a grid study from a TOML file; every finished (point, solver)
//! is stored at once, a rerun skips what is stored, `--shard K/M` runs one slice of the
//! jobs for a cluster's job array (`spinbat merge` joins the slices).

use crate::commands::scan::{csv_row, scaling_fits, CSV_COLUMNS};
use crate::model_args::set_threads;
use crate::plot::chart;
use crate::plot::heatmap;
use crate::records::{self, Appender, Contents, Line};
use crate::study_file::{self, StudyFile};
use crate::{progress::Bar, CliError};
use anyhow::anyhow;
use clap::Args;
use spinbat::study::{GridStudy, Job, ObservableSummary, Parameter, PointRecord, ScanRow};
use spinbat::{Chain, Couplings};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Instant;

/// Options of `spinbat run`.
#[derive(Debug, Args)]
#[command(after_help = "\
The study file (TOML) holds the base chain, the grid and the solvers:
  [model]   n, b, g, alpha, omega, coupling (\"nn\", \"power-law\", \"matrix\"), p, matrix, boundary,
            gamma, keep_field, omega_sites; omega_schedule = \"FILE\" (lines t_end omega, as
            charge --omega-schedule) or inline [[t_end, omega], ...]: a piecewise-constant field
  [noise]   dephasing, decay, temperature, collective_decay (the open battery, as charge's flags)
  [drive]   amplitude = A, frequency = nu: omega(t) = omega + A cos(nu t) (as charge --drive A
            --drive-frequency nu)
  [sweep]   parameters to vary together (n, alpha, p, g, omega, b, gamma, the noise rates,
            drive, drive_frequency): a list [0.0, 0.5] or a
            string \"4..10\" (integers), \"0:1:0.1\" (start:stop:step) or \"1,2,4\"
  [run]     solvers = [\"quantum\", \"mean-field\"], tol = 1e-10, max_work = true, window = 1.57,
            observe = [\"entanglement\", \"variance\"] (also \"bloch\", \"zz\", \"all\"; as
            spinbat charge --observe), cut = K (entropy of sites 0..K, default N/2),
            points = 201 (times on [0, window] where observables are sampled)
  [output]  records = \"study.jsonl\", csv = \"study.csv\", plot = \"study.png\" (relative to the
            study file's folder)
The whole file is checked first and every problem reported with its line (exit status 2).
With a schedule or a drive every job is `spinbat charge --omega-schedule/--drive` of its point
(the closed chain from all-down; the maximal-work window defaults to the schedule's end); the
fixed field is part of the settings hash, a varied drive setting part of each job's key.

With observe, each job also follows its state over [0, window] (default 2 pi / omega) and
records the peak entanglement entropy (nats), max Var(H0) [B^2], the shortest single-site
Bloch vector and the largest connected ZZ correlation, each with its time, in the JSON
line (\"observables\") and as CSV columns. The exact solvers give the full state (dense
for N <= 10, chebyshev beyond), mean-field its product state (entropy 0, no Var(H0));
weak-coupling has no state and is refused.

Every (point, solver) is a job with a key such as n=8,alpha=0.5|quantum. Each finished job
is appended to the records file at once (one JSON line); running the study again skips the
jobs already there, so a killed run resumes where it stopped. Records carry a hash of the
model and run settings: if the study changed since they were made, nothing runs until the
old records are moved away or --fresh discards them.

--shard K/M runs the points whose index is K-1 modulo M (with all their solvers) and writes
STEM.shard-K-of-M.jsonl; `spinbat merge STUDY.toml` checks that the shards hold every job
exactly once and writes the records, CSV and plot. `spinbat slurm STUDY.toml --tasks M`
writes (with --submit, submits) the Slurm job array of the M shards and the merge job.

Examples:
  spinbat run examples/study.toml
  spinbat run examples/study.toml --check
  spinbat run study.toml --shard 3/8
  spinbat merge study.toml")]
pub struct RunArgs {
    /// The study file (TOML), e.g. examples/study.toml.
    #[arg(value_name = "STUDY.toml")]
    pub study: PathBuf,
    /// Only check the study file and report how many jobs are done; run nothing.
    #[arg(long)]
    pub check: bool,
    /// List every (point, solver) job and whether it is done; run nothing.
    #[arg(long, conflicts_with = "check")]
    pub dry_run: bool,
    /// Run only shard K of M (1 <= K <= M): the grid points whose index is K-1 modulo M, with
    /// every solver; records go to STEM.shard-K-of-M.EXT beside the study's records file.
    #[arg(long, value_name = "K/M")]
    pub shard: Option<String>,
    /// Discard the existing records file (of this shard) and start over.
    #[arg(long)]
    pub fresh: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Shard `k` of `m` (1-based `k`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: usize,
    pub m: usize,
}

impl Shard {
    /// Whether the job belongs to this shard: its point's index is `k − 1` modulo `m`
    /// (every solver of a point in the same shard; points dealt round robin, so each shard
    /// gets a share of the cheap and of the expensive points).
    pub fn owns(&self, job: &Job) -> bool {
        job.point_index % self.m == self.k - 1
    }
}

impl FromStr for Shard {
    type Err = CliError;
    fn from_str(s: &str) -> Result<Self, CliError> {
        let bad = || CliError::input(anyhow!("--shard {s}: expected K/M with 1 <= K <= M, e.g. --shard 2/8"));
        let (k, m) = s.split_once('/').ok_or_else(bad)?;
        let (k, m): (usize, usize) = (k.trim().parse().map_err(|_| bad())?, m.trim().parse().map_err(|_| bad())?);
        if k == 0 || k > m {
            return Err(bad());
        }
        Ok(Shard { k, m })
    }
}

/// `study.jsonl` → `study.shard-K-of-M.jsonl`.
pub fn shard_path(records: &Path, shard: Shard) -> PathBuf {
    let stem = records.file_stem().and_then(|s| s.to_str()).unwrap_or("records");
    let name = match records.extension().and_then(|e| e.to_str()) {
        Some(ext) => format!("{stem}.shard-{}-of-{}.{ext}", shard.k, shard.m),
        None => format!("{stem}.shard-{}-of-{}", shard.k, shard.m),
    };
    records.with_file_name(name)
}

/// Refuses records made with other settings than `study`'s, naming the keys that changed
/// (from the settings stored in the records; records written before spinbat stored them
/// give the hashes only).
pub fn check_hash(path: &Path, contents: &Contents, study: &GridStudy) -> Result<(), CliError> {
    let stale: Vec<&Line> = contents.lines.iter().filter(|l| l.record.study != study.hash()).collect();
    let Some(first) = stale.first() else {
        return Ok(());
    };
    // the first stale record that stored its settings, and every other set of settings
    let stored = stale.iter().find_map(|l| l.record.settings.as_ref());
    let changes = stored.map(|s| spinbat::study::settings_diff(s, study.settings())).unwrap_or_default();
    let kinds: HashSet<&str> = stale.iter().map(|l| l.record.study.as_str()).collect();
    let what = if changes.is_empty() {
        "[model] or [run] changed since they were computed (these records do not store their settings)".to_string()
    } else {
        let more = if kinds.len() > 1 { format!(" (and {} other settings)", kinds.len() - 1) } else { String::new() };
        format!("{}{more}", changes.join("; "))
    };
    Err(CliError::input(anyhow!(
        "{} holds {} record{} of a different study (settings hash {}, this study {}): {what}. They cannot be \
         reused; nothing was run: move the file away, set [output] records to another file, or pass --fresh to \
         discard them",
        path.display(),
        stale.len(),
        if stale.len() == 1 { "" } else { "s" },
        first.record.study,
        study.hash()
    )))
}

pub fn run(args: RunArgs) -> Result<(), CliError> {
    set_threads(args.threads)?;
    let shard = args.shard.as_deref().map(str::parse::<Shard>).transpose()?;
    let file = study_file::load(&args.study)?;
    let study = &file.study;
    let path = shard.map_or_else(|| file.records.clone(), |s| shard_path(&file.records, s));
    let all_jobs = study.jobs();
    let jobs: Vec<Job> = all_jobs.iter().filter(|j| shard.iter().all(|s| s.owns(j))).cloned().collect();
    let contents = if args.fresh { Contents::default() } else { records::read(&path)? };
    check_hash(&path, &contents, study)?;

    // the stored records, first of each key
    let mut tidy = args.fresh || contents.torn || contents.untidy;
    let mut stored: Vec<Line> = Vec::new();
    let mut seen = HashSet::new();
    for line in contents.lines {
        if seen.insert(line.record.key.clone()) {
            stored.push(line);
        } else {
            tidy = true;
        }
    }
    let todo: Vec<Job> = jobs.iter().filter(|j| !seen.contains(&j.key)).cloned().collect();
    let done_before = jobs.len() - todo.len();

    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "spinbat {} - {}", env!("CARGO_PKG_VERSION"), describe(&file, shard, jobs.len()));
    if args.check || args.dry_run {
        let _ = writeln!(
            out,
            "records     {}: {done_before} of {} jobs done, {} to run{}",
            path.display(),
            jobs.len(),
            todo.len(),
            if contents.torn { " (a torn last line will be dropped)" } else { "" }
        );
        if args.dry_run {
            for j in &jobs {
                let status = if seen.contains(&j.key) { "done" } else { "todo" };
                let _ = writeln!(out, "{:>7} {status} {}", j.index, j.key);
            }
        }
        let _ = writeln!(out, "ok          {} is valid; nothing was run", file.path.display());
        return Ok(());
    }
    drop(out);

    records::ensure_parent(&path)?;
    if tidy {
        records::write_atomic(&path, stored.iter().map(|l| l.text.as_str()))?;
    }
    let start = Instant::now();
    let appender = Appender::open(&path)?;
    let new_lines: Mutex<Vec<Line>> = Mutex::new(Vec::new());
    let failures: Mutex<Vec<(usize, String, String)>> = Mutex::new(Vec::new());
    let write_error: Mutex<Option<CliError>> = Mutex::new(None);
    let bar = Bar::new(true, "running").counting("jobs");
    let saved = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(done_before));
    {
        // Ctrl-C: every finished job is already on disk (one unbuffered write a record), so
        // say how many and how to go on, and stop at once
        let (saved, total, path) = (saved.clone(), jobs.len(), path.display().to_string());
        let _ = ctrlc::set_handler(move || {
            eprintln!(
                "\nspinbat: interrupted: {} of {total} jobs saved in {path}; run the same command again to \
                 resume (saved jobs are not recomputed)",
                saved.load(std::sync::atomic::Ordering::SeqCst)
            );
            std::process::exit(130);
        });
    }
    study.run(
        &todo,
        &|job, result| {
            let record = match result {
                Ok(r) => r,
                Err(e) => {
                    if let Ok(mut f) = failures.lock() {
                        f.push((job.index, job.key.clone(), e.to_string()));
                    }
                    return ControlFlow::Continue(());
                }
            };
            match Line::of(record).and_then(|l| appender.append(&l.text).map(|()| l)) {
                Ok(l) => {
                    saved.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if let Ok(mut n) = new_lines.lock() {
                        n.push(l);
                    }
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    if let Ok(mut w) = write_error.lock() {
                        *w = Some(e);
                    }
                    ControlFlow::Break(())
                }
            }
        },
        &bar,
    );
    bar.finish();
    drop(appender);
    if let Some(e) = write_error.into_inner().ok().flatten() {
        return Err(e);
    }
    let new_lines = new_lines.into_inner().unwrap_or_default();
    let computed = new_lines.len();
    let elapsed = start.elapsed().as_secs_f64();

    // the final file: this run's jobs in grid order, then records of other jobs kept as they were
    let ordered = in_job_order(&jobs, stored.into_iter().chain(new_lines));
    records::write_atomic(&path, ordered.iter().map(|l| l.text.as_str()))?;

    let mut failures = failures.into_inner().unwrap_or_default();
    failures.sort();
    let mut wrote = Vec::new();
    let complete = failures.is_empty();
    if shard.is_none() && complete {
        let by_key: HashMap<&str, &PointRecord> = ordered.iter().map(|l| (l.record.key.as_str(), &l.record)).collect();
        let grid: Vec<&PointRecord> = all_jobs.iter().filter_map(|j| by_key.get(j.key.as_str()).copied()).collect();
        wrote = write_outputs(&file, &grid)?;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "records     {}: {done_before} done before, {computed} computed, {} failed, in {elapsed:.3} s on {} threads",
        path.display(),
        failures.len(),
        rayon::current_num_threads()
    );
    if !wrote.is_empty() {
        let _ = writeln!(out, "wrote       {}", wrote.join(", "));
    }
    if shard.is_some() {
        let _ = writeln!(out, "next        when every shard is done: spinbat merge {}", file.path.display());
    }
    drop(out);
    if !complete {
        let mut msg = format!(
            "{} of {} jobs failed (their records are missing; run the study again to retry them):",
            failures.len(),
            jobs.len()
        );
        for (_, key, e) in &failures {
            msg.push_str(&format!("\n  {key}: {e}"));
        }
        return Err(CliError::runtime(anyhow!(msg)));
    }
    Ok(())
}

/// The records of `jobs` in job order, then any others (kept as they came).
pub fn in_job_order(jobs: &[Job], lines: impl IntoIterator<Item = Line>) -> Vec<Line> {
    let position: HashMap<&str, usize> = jobs.iter().enumerate().map(|(k, j)| (j.key.as_str(), k)).collect();
    let mut slots: Vec<Option<Line>> = vec![None; jobs.len()];
    let mut others = Vec::new();
    for l in lines {
        match position.get(l.record.key.as_str()) {
            Some(&k) if slots[k].is_none() => slots[k] = Some(l),
            Some(_) => {}
            None => others.push(l),
        }
    }
    slots.into_iter().flatten().chain(others).collect()
}

/// One line on the study: its file, grid and solvers (and shard).
fn describe(file: &StudyFile, shard: Option<Shard>, jobs: usize) -> String {
    let s = &file.study;
    let names: Vec<&str> = s.grid().sweeps().iter().map(|w| w.parameter.as_str()).collect();
    let sizes: Vec<String> = s.grid().sweeps().iter().map(|w| w.values.len().to_string()).collect();
    let shard = shard.map(|sh| format!(" (shard {} of {}: {jobs} jobs)", sh.k, sh.m)).unwrap_or_default();
    let grid = if names.len() == 1 {
        format!("{}: {} points", names[0], s.grid().len())
    } else {
        format!("{} = {} = {} points", names.join(" x "), sizes.join(" x "), s.grid().len())
    };
    let n_solvers = s.solvers().len();
    let observe = s.observables().map_or(String::new(), |o| {
        let cut = o.set.cut.map_or("N/2".to_string(), |c| c.to_string());
        let window = s.options().window.map_or("2 pi / omega".to_string(), |w| w.to_string());
        format!("\nobserve     {} at {} times in [0, {window}], entropy cut {cut}", o.set, o.points)
    });
    format!(
        "study {}: {grid} x {n_solvers} solver{} ({}) = {} jobs{shard}\nfixed       {}{observe}",
        file.path.display(),
        if n_solvers == 1 { "" } else { "s" },
        s.solvers().iter().map(|v| v.label).collect::<Vec<_>>().join(", "),
        s.grid().len() * n_solvers,
        describe_fixed(s.base(), &s.grid().parameters())
    )
}

/// The base chain's parameters that the grid does not vary.
pub fn describe_fixed(base: &Chain, varied: &[Parameter]) -> String {
    let mut parts = Vec::new();
    let fixed = |p: Parameter| !varied.contains(&p);
    if fixed(Parameter::N) {
        parts.push(format!("N = {}", base.n_sites()));
    }
    for (p, name, v) in [
        (Parameter::B, "B", base.b()),
        (Parameter::G, "g", base.g()),
        (Parameter::Alpha, "alpha", base.alpha()),
        (Parameter::Omega, "omega", base.omega()),
    ] {
        if fixed(p) {
            parts.push(format!("{name} = {v}"));
        }
    }
    let boundary = base.boundary().as_str();
    parts.push(match base.couplings() {
        Couplings::NearestNeighbour => format!("nearest neighbour, {boundary}"),
        Couplings::PowerLaw { p } if fixed(Parameter::P) => format!("power law p = {p}, {boundary}"),
        Couplings::PowerLaw { .. } => format!("power law, {boundary}"),
        Couplings::Matrix { .. } => "explicit matrix".to_string(),
    });
    parts.join(", ")
}

/// Writes the study's CSV and plot (if asked for) from the complete records, in job order.
/// Returns what was written.
pub fn write_outputs(file: &StudyFile, records: &[&PointRecord]) -> Result<Vec<String>, CliError> {
    let mut wrote = Vec::new();
    let study = &file.study;
    if let Some(path) = &file.csv {
        records::ensure_parent(path)?;
        write_csv(path, study, records).map_err(|e| CliError::runtime(anyhow!("writing {}: {e}", path.display())))?;
        wrote.push(path.display().to_string());
    }
    if let Some(path) = &file.plot {
        records::ensure_parent(path)?;
        write_plot(path, file, records).map_err(CliError::runtime)?;
        wrote.push(path.display().to_string());
    }
    Ok(wrote)
}

/// CSV header of a study: `key`, the varied parameters, then the columns of `spinbat scan`
/// (without `value`, and `n` under the library's name `n_sites`, so that a varied `n` keeps
/// its own column),
/// then for each observable recorded its summary and time ([`OBSERVABLE_COLUMNS`]).
pub fn csv_header(study: &GridStudy) -> Vec<String> {
    let mut h = vec!["key".to_string()];
    h.extend(study.grid().parameters().iter().map(|p| p.as_str().to_string()));
    h.extend(CSV_COLUMNS[1..].iter().map(|c| c.to_string()));
    for (name, _) in observable_columns(study) {
        h.push(name.to_string());
        h.push(format!("t_{name}"));
    }
    h
}

/// A summary of an observable of a job, by name.
type Summary = fn(&ObservableSummary) -> Option<spinbat::observe::trajectory::Peak>;

/// The study's CSV columns of observables: (name, summary), each followed by its time.
/// `peak_entropy` in nats, `max_variance` in B^2, `min_bloch_length` and `max_zz`
/// dimensionless, `max_ergotropy` and `max_locked_ergotropy` in B.
pub const OBSERVABLE_COLUMNS: [(&str, Summary); 6] = [
    ("peak_entropy", |o| o.peak_entropy),
    ("max_variance", |o| o.max_variance),
    ("min_bloch_length", |o| o.min_bloch_length),
    ("max_zz", |o| o.max_zz),
    ("max_ergotropy", |o| o.max_ergotropy),
    ("max_locked_ergotropy", |o| o.max_locked_ergotropy),
];

/// The columns of [`OBSERVABLE_COLUMNS`] this study records.
fn observable_columns(study: &GridStudy) -> Vec<(&'static str, Summary)> {
    let Some(o) = study.observables() else { return Vec::new() };
    let on = [o.set.entanglement, o.set.variance, o.set.bloch, o.set.zz, o.set.ergotropy, o.set.ergotropy];
    OBSERVABLE_COLUMNS.iter().zip(on).filter(|(_, on)| *on).map(|(c, _)| *c).collect()
}

fn write_csv(path: &Path, study: &GridStudy, records: &[&PointRecord]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(csv_header(study))?;
    let columns = observable_columns(study);
    let f = |v: f64| format!("{v:.15e}");
    for r in records {
        let mut row = vec![r.key.clone()];
        row.extend(r.point.values().iter().map(|(_, v)| format!("{v}")));
        row.extend(csv_row(&r.row).into_iter().skip(1));
        for (_, summary) in &columns {
            // empty where the solver does not define it (the mean field's Var(H0))
            let peak = r.observables.as_ref().and_then(summary);
            row.push(peak.map(|p| f(p.value)).unwrap_or_default());
            row.push(peak.map(|p| f(p.time)).unwrap_or_default());
        }
        w.write_record(row)?;
    }
    w.flush()?;
    Ok(())
}

/// The peak entropy of a record (nats), NaN when not recorded.
fn peak_entropy(r: &PointRecord) -> f64 {
    r.observables.as_ref().and_then(|o| o.peak_entropy).map_or(f64::NAN, |p| p.value)
}

fn write_plot(path: &Path, file: &StudyFile, records: &[&PointRecord]) -> anyhow::Result<()> {
    let study = &file.study;
    let params = study.grid().parameters();
    let labels: Vec<String> = study.solvers().iter().map(|s| s.label.to_string()).collect();
    let name = file.path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let swept: Vec<String> =
        study.grid().sweeps().iter().map(|s| crate::commands::scan::describe_swept(s.parameter, &s.values)).collect();
    let title = format!("spinbat run {name}: {}; fixed {}", swept.join(", "), describe_fixed(study.base(), &params));
    match params.as_slice() {
        [p] => {
            let rows: Vec<ScanRow> = records.iter().map(|r| r.row.clone()).collect();
            let scaling = if *p == Parameter::N { scaling_fits(&rows, study.solvers()) } else { Vec::new() };
            let values = &study.grid().sweeps()[0].values;
            let mut extra = Vec::new();
            if study.observables().is_some_and(|o| o.set.entanglement) {
                let mut panel =
                    chart::Panel::new("peak entanglement entropy", crate::commands::scan::symbol(*p), "S_max [nats]");
                let style = if values.len() > 12 { chart::Style::Line } else { chart::Style::LineMarkers };
                for (k, label) in labels.iter().enumerate() {
                    let pts = records.iter().filter(|r| &r.row.solver == label).map(|r| (r.row.value, peak_entropy(r)));
                    panel.series.push(chart::Series::new(label.clone(), pts.collect(), style, k));
                }
                extra.push(panel);
            }
            let figure = crate::commands::scan::figure(&title, *p, values, &labels, &rows, &scaling, extra);
            chart::write(path, &figure)
        }
        [px, py] => {
            let mut maps = Vec::new();
            for label in &labels {
                let mine: Vec<&&PointRecord> = records.iter().filter(|r| &r.row.solver == label).collect();
                let cells = |f: &dyn Fn(&ScanRow) -> f64| -> Vec<(f64, f64, f64)> {
                    mine.iter().filter_map(|r| Some((r.point.get(*px)?, r.point.get(*py)?, f(&r.row)))).collect()
                };
                maps.push(heatmap::HeatMap::new(
                    format!("{label}: maximal power"),
                    *px,
                    *py,
                    "P_max [B^2]",
                    &cells(&|r| r.max_power.power),
                ));
                maps.push(heatmap::HeatMap::new(
                    format!("{label}: gain over N independent spins"),
                    *px,
                    *py,
                    "P_max / (N P1)",
                    &cells(&|r| r.power_ratio),
                ));
                if study.observables().is_some_and(|o| o.set.entanglement) {
                    let cells: Vec<(f64, f64, f64)> = mine
                        .iter()
                        .filter_map(|r| Some((r.point.get(*px)?, r.point.get(*py)?, peak_entropy(r))))
                        .collect();
                    maps.push(heatmap::HeatMap::new(
                        format!("{label}: peak entanglement entropy"),
                        *px,
                        *py,
                        "S_max [nats]",
                        &cells,
                    ));
                }
            }
            // one row per solver: P_max, the gain (and the peak entropy)
            heatmap::write(path, &title, &maps, maps.len() / labels.len().max(1))
        }
        _ => Err(anyhow!("a plot needs one or two varied parameters")),
    }
}
