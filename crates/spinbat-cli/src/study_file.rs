//! Study files for `spinbat run` and `spinbat merge`: a base chain (`[model]`, with an
//! optional field schedule `omega_schedule`), the noise while charging (`[noise]`,
//! optional: the open battery), a periodic drive (`[drive]`, optional), a grid (`[sweep]`,
//! which may vary the noise rates and the drive too), solvers and numerics (`[run]`) and
//! output files (`[output]`) in TOML.
//!
//! The whole file is checked before anything runs, and every problem is reported with its
//! line (`study.toml:7: unknown key 'alpah' in [model]`): unknown tables and keys, wrong
//! types, empty or malformed ranges, values the library refuses, unknown solvers and
//! observables, observables a solver cannot give (weak coupling has no state), a plot of
//! more than two varied parameters.
//!
//! `[model]` is the library's [`ChainSpec`] (same keys; its defaults, its checks): this
//! file only checks each key's TOML type with its line, deserialises the well-typed keys
//! into the spec (serde) and puts each of [`ChainSpec::problems`] on its key's line.
//! `[model] omega_schedule` is read beside the spec (the protocol is not the chain's): a
//! schedule file (relative to the study file's folder, the format of `spinbat charge
//! --omega-schedule`) or the segments inline, `[[t_end, omega], ...]`.

use crate::CliError;
use anyhow::anyhow;
use spinbat::model::{ProtocolSpec, Schedule};
use spinbat::observe::trajectory::ObservableSet;
use spinbat::open::Noise;
use spinbat::study::{
    Grid, GridStudy, ObserveOptions, Parameter, ScanOptions, ScanSolver, Sweep, DEFAULT_OBSERVE_POINTS,
};
use spinbat::{Boundary, Chain, ChainSpec, CouplingKind, SpinbatError};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml_edit::{Document, Item, TableLike, Value};

const TABLES: [&str; 6] = ["model", "noise", "drive", "sweep", "run", "output"];
const DRIVE_KEYS: [&str; 2] = ["amplitude", "frequency"];
const NOISE_KEYS: [&str; 4] = ["dephasing", "decay", "temperature", "collective_decay"];
const RUN_KEYS: [&str; 7] = ["solvers", "tol", "max_work", "window", "observe", "cut", "points"];
const OUTPUT_KEYS: [&str; 3] = ["records", "csv", "plot"];

/// A checked study file.
#[derive(Debug)]
pub struct StudyFile {
    /// The file, as named on the command line.
    pub path: PathBuf,
    /// Base chain, grid, solvers and numerics.
    pub study: GridStudy,
    /// One JSON line per (point, solver); relative paths are relative to the file's folder.
    pub records: PathBuf,
    /// CSV table of the records, if asked for.
    pub csv: Option<PathBuf>,
    /// Plot (`.png` or `.svg`), if asked for; only with one or two varied parameters.
    pub plot: Option<PathBuf>,
}

/// Reads and checks `path`.
///
/// # Errors
/// Exit status 2 with every problem of the file, one per line, or the error reading it.
pub fn load(path: &Path) -> Result<StudyFile, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::input(anyhow!("reading study file {}: {e}", path.display())))?;
    // "" for a file in the working folder, so that outputs are named `study.jsonl`, not `./study.jsonl`
    let dir = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    let mut c = Checker { text: &text, problems: Vec::new(), lines: HashMap::new(), protocol: ProtocolSpec::default() };
    let study = c.study(path, &dir);
    match study {
        Some(s) if c.problems.is_empty() => Ok(s),
        _ => {
            c.problems.sort_by_key(|p| p.line);
            let n = c.problems.len();
            let mut msg = format!(
                "{n} problem{} in study file {} (nothing was run):",
                if n == 1 { "" } else { "s" },
                path.display()
            );
            for p in &c.problems {
                let _ = write!(msg, "\n{}:{}: {}", path.display(), p.line, p.message);
            }
            Err(CliError::input(anyhow!(msg)))
        }
    }
}

#[derive(Debug)]
struct Problem {
    line: usize,
    message: String,
}

/// Collects problems; remembers the line of every key it saw (`"model.n"`, `"sweep"`, ...).
struct Checker<'a> {
    text: &'a str,
    problems: Vec<Problem>,
    lines: HashMap<String, usize>,
    /// `[model] omega_schedule` and `[drive]` as read
    protocol: ProtocolSpec,
}

impl Checker<'_> {
    fn line(&self, span: Option<Range<usize>>) -> usize {
        span.map_or(1, |s| 1 + self.text[..s.start.min(self.text.len())].matches('\n').count())
    }

    fn add(&mut self, line: usize, message: impl Into<String>) {
        self.problems.push(Problem { line, message: message.into() });
    }

    /// The source text of an item (for messages), shortened.
    fn source(&self, item: &Item) -> String {
        let s = item.span().and_then(|s| self.text.get(s)).unwrap_or("?").trim();
        if s.chars().count() > 40 {
            format!("{}...", s.chars().take(37).collect::<String>())
        } else {
            s.to_string()
        }
    }

    /// `(key, item, line)` of every entry of a table, in file order.
    fn entries<'t>(&mut self, table: &'t dyn TableLike, prefix: &str) -> Vec<(&'t str, &'t Item, usize)> {
        let out: Vec<(&str, &Item, usize)> = table
            .iter()
            .map(|(k, item)| (k, item, self.line(table.key(k).and_then(|k| k.span()).or_else(|| item.span()))))
            .collect();
        for (k, _, line) in &out {
            let name = if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
            self.lines.insert(name, *line);
        }
        out
    }

    fn unknown_key(&mut self, line: usize, key: &str, table: &str, known: &[&str]) {
        let hint = suggest(key, known).map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default();
        self.add(line, format!("unknown key '{key}' in [{table}]{hint}; expected one of {}", known.join(", ")));
    }

    fn wrong_type(&mut self, line: usize, what: &str, expected: &str, item: &Item) {
        self.add(line, format!("wrong type for {what}: expected {expected}, found {}", type_name(item)));
    }

    fn number(&mut self, item: &Item, line: usize, what: &str) -> Option<f64> {
        match item.as_value() {
            Some(Value::Integer(i)) => Some(*i.value() as f64),
            Some(Value::Float(f)) => Some(*f.value()),
            _ => {
                self.wrong_type(line, what, "a number", item);
                None
            }
        }
    }

    fn string<'t>(&mut self, item: &'t Item, line: usize, what: &str) -> Option<&'t str> {
        match item.as_str() {
            Some(s) => Some(s),
            None => {
                self.wrong_type(line, what, "a string", item);
                None
            }
        }
    }

    /// A table-valued top-level entry (`[model]` or `model = { ... }`).
    fn table<'t>(&mut self, item: &'t Item, line: usize, name: &str) -> Option<&'t dyn TableLike> {
        match item.as_table_like() {
            Some(t) => Some(t),
            None => {
                self.add(line, format!("'{name}' must be a table [{name}], found {}", type_name(item)));
                None
            }
        }
    }

    fn study(&mut self, path: &Path, dir: &Path) -> Option<StudyFile> {
        let doc = match Document::parse(self.text) {
            Ok(doc) => doc,
            Err(e) => {
                let line = self.line(e.span());
                self.add(line, format!("TOML syntax error: {}", e.message().trim()));
                return None;
            }
        };
        let root = doc.as_table();
        let mut tables: HashMap<&str, (&dyn TableLike, usize)> = HashMap::new();
        for (key, item, line) in self.entries(root, "") {
            if TABLES.contains(&key) {
                if let Some(t) = self.table(item, line, key) {
                    tables.insert(key, (t, line));
                }
            } else if item.is_table_like() {
                let hint = suggest(key, &TABLES).map(|s| format!(" (did you mean [{s}]?)")).unwrap_or_default();
                self.add(
                    line,
                    format!(
                        "unknown table [{key}]{hint}; expected [model], [noise], [drive], [sweep], [run] and [output]"
                    ),
                );
            } else {
                self.add(
                    line,
                    format!(
                        "unknown key '{key}' outside the tables [model], [noise], [drive], [sweep], [run], [output]"
                    ),
                );
            }
        }
        let base = self.model(tables.get("model").map(|t| t.0), dir);
        if let Some(&(_, line)) = tables.get("noise") {
            self.lines.insert("noise".to_string(), line);
        }
        let noise = self.noise(tables.get("noise").map(|t| t.0), base.as_ref().map_or(1.0, Chain::b));
        if let Some(&(_, line)) = tables.get("drive") {
            self.lines.insert("drive".to_string(), line);
        }
        self.drive(tables.get("drive").map(|t| t.0));
        let sweeps = self.sweeps(tables.get("sweep").copied(), base.as_ref());
        let (solvers, options, observe) = self.run(tables.get("run").map(|t| t.0));
        let outputs = self.outputs(tables.get("output").map(|t| t.0), path, dir, sweeps.len());
        if !self.problems.is_empty() {
            return None;
        }
        let sweep_line = self.lines.get("sweep").copied().unwrap_or(1);
        let grid = match Grid::new(sweeps) {
            Ok(g) => g,
            Err(e) => {
                self.add(sweep_line, format!("[sweep]: {}", explain(&e)));
                return None;
            }
        };
        let noisy = tables.contains_key("noise") || grid.parameters().iter().any(Parameter::is_noise);
        let driven = !self.protocol.is_empty() || grid.parameters().iter().any(Parameter::is_field);
        let made = if driven {
            GridStudy::new_driven(base?, noise, self.protocol.clone(), grid, solvers, options)
        } else if noisy {
            GridStudy::new_open(base?, noise, grid, solvers, options)
        } else {
            GridStudy::new(base?, grid, solvers, options)
        };
        let study = match made {
            Ok(s) => s,
            Err(e) => {
                let line = self.line_of_error(&e);
                self.add(line, format!("the grid cannot run: {e}"));
                return None;
            }
        };
        let study = match observe {
            None => study,
            Some(o) => match study.with_observables(o) {
                Ok(s) => s,
                Err(e) => {
                    let key = match &e {
                        SpinbatError::InvalidParameter { name: "cut", .. } => "run.cut",
                        SpinbatError::InvalidParameter { name: "points", .. } => "run.points",
                        _ => "run.observe",
                    };
                    let line = self.find(&[key, "run.observe"]);
                    self.add(line, format!("[run] observe: the observables cannot be recorded: {e}"));
                    return None;
                }
            },
        };
        let (records, csv, plot) = outputs;
        Some(StudyFile { path: path.to_path_buf(), study, records, csv, plot })
    }

    /// The line a grid-wide error belongs to: the varied parameter it names, else the
    /// model key, else the `[sweep]` header.
    fn line_of_error(&self, e: &SpinbatError) -> usize {
        let key = match e {
            SpinbatError::TooLarge { .. } => "n",
            // a time-dependent field refused (with noise, the generalised charging): its table
            SpinbatError::Unsupported { solver: "study", reason } if reason.contains("time-dependent field") => {
                return self.find(&["drive", "model.omega_schedule", "sweep.drive", "sweep.drive_frequency"])
            }
            SpinbatError::Unsupported { .. } => return self.find(&["run.solvers", "run"]),
            SpinbatError::InvalidMatrix { .. } => "matrix",
            SpinbatError::InvalidParameter { name, .. } if *name == "n_sites" => "n",
            SpinbatError::InvalidParameter { name: "drive", .. } => {
                return self.find(&["sweep.drive", "drive.amplitude", "drive"])
            }
            SpinbatError::InvalidParameter { name: "drive_frequency", .. } => {
                return self.find(&["sweep.drive_frequency", "drive.frequency", "drive"])
            }
            SpinbatError::InvalidParameter { name: "omega_schedule", .. } => {
                return self.find(&["model.omega_schedule", "drive", "sweep.drive"])
            }
            SpinbatError::InvalidParameter { name: "window", .. } => return self.find(&["run.window", "run"]),
            SpinbatError::InvalidParameter { name, .. } => name,
            _ => "",
        };
        self.find(&[&format!("sweep.{key}"), &format!("model.{key}"), "sweep"])
    }

    fn find(&self, keys: &[&str]) -> usize {
        keys.iter().find_map(|k| self.lines.get(*k)).copied().unwrap_or(1)
    }

    /// `[model]`: the library's [`ChainSpec`]. Each key is checked for its TOML type (with
    /// its line); the well-typed ones are deserialised (serde) into the spec, absent keys
    /// take its defaults, and every problem the spec finds ([`ChainSpec::problems`], then
    /// its matrix) is reported on the line of the key it names. The base chain, built from
    /// the spec with any refused field at its default (so that the sweep is still checked),
    /// or `None` when that is refused too.
    fn model(&mut self, table: Option<&dyn TableLike>, dir: &Path) -> Option<Chain> {
        let mut typed = toml_edit::DocumentMut::new();
        let mut sources: HashMap<&str, String> = HashMap::new();
        for (key, item, line) in table.map(|t| self.entries(t, "model")).unwrap_or_default() {
            let what = format!("[model] {key}");
            let ok = match key {
                "n" => match item.as_integer() {
                    Some(n) if n >= 0 => true,
                    Some(n) => {
                        self.add(line, format!("{what} = {n}: the number of sites must be >= 1"));
                        false
                    }
                    None => {
                        self.wrong_type(line, &what, "a whole number", item);
                        false
                    }
                },
                "b" | "g" | "alpha" | "omega" | "p" | "gamma" => self.number(item, line, &what).is_some(),
                "omega_schedule" => {
                    self.schedule(item, line, dir);
                    continue;
                }
                "keep_field" => {
                    let ok = item.as_bool().is_some();
                    if !ok {
                        self.wrong_type(line, &what, "true or false", item);
                    }
                    ok
                }
                "omega_sites" => {
                    let number = |v: &Value| v.is_integer() || v.is_float();
                    let ok = item.as_array().is_some_and(|a| a.iter().all(number));
                    if !ok {
                        self.wrong_type(line, &what, "a list of numbers (one weight per site)", item);
                    }
                    ok
                }
                "coupling" => self.string(item, line, &what).is_some_and(|s| {
                    let known = s.parse::<CouplingKind>().is_ok();
                    if !known {
                        self.add(line, format!("{what} = \"{s}\": choose \"nn\", \"power-law\" or \"matrix\""));
                    }
                    known
                }),
                "boundary" => self.string(item, line, &what).is_some_and(|s| {
                    let known = s.parse::<Boundary>().is_ok();
                    if !known {
                        self.add(line, format!("{what} = \"{s}\": choose \"open\" or \"periodic\""));
                    }
                    known
                }),
                // a file, or the rows themselves
                "matrix" => {
                    let number = |v: &Value| v.is_integer() || v.is_float();
                    let ok = match item.as_value() {
                        Some(Value::String(_)) => true,
                        Some(Value::Array(rows)) => {
                            rows.iter().all(|r| r.as_array().is_some_and(|r| r.iter().all(number)))
                        }
                        _ => false,
                    };
                    if !ok {
                        self.wrong_type(line, &what, "a file name or a list of rows of numbers", item);
                    }
                    ok
                }
                other => {
                    let known: Vec<&str> = ChainSpec::KEYS.iter().copied().chain(["omega_schedule"]).collect();
                    self.unknown_key(line, other, "model", &known);
                    false
                }
            };
            if ok {
                sources.insert(key, self.source(item));
                typed.insert(key, item.clone());
            }
        }
        let header = self.find(&["model"]);
        let mut spec: ChainSpec = match toml_edit::de::from_document(typed) {
            Ok(spec) => spec,
            Err(e) => {
                self.add(header, format!("[model]: {}", e.message().trim()));
                return None;
            }
        };
        let defaults = ChainSpec::default();
        for e in spec.problems() {
            let SpinbatError::InvalidParameter { name, ref reason, .. } = e else {
                self.add(header, format!("[model]: {e}"));
                continue;
            };
            let key = if name == "n_sites" { "n" } else { name };
            let line = self.find(&[&format!("model.{key}"), "model"]);
            let source = sources.get(key).map_or("?", String::as_str);
            match key {
                "coupling" => {
                    self.add(line, "[model] coupling = \"matrix\" needs matrix = \"FILE\" (an N x N coupling matrix)");
                    return None;
                }
                "matrix" => {
                    self.add(line, "[model] matrix is given but coupling is not \"matrix\"; drop one of them");
                    return None;
                }
                _ => self.add(line, format!("[model] {key} = {source}: {reason}")),
            }
            // the rest of the file is checked against the default instead
            match key {
                "n" => spec.n = defaults.n,
                "b" => spec.b = defaults.b,
                "g" => spec.g = defaults.g,
                "alpha" => spec.alpha = defaults.alpha,
                "omega" => spec.omega = defaults.omega,
                "gamma" => spec.gamma = defaults.gamma,
                "omega_sites" => spec.omega_sites = None,
                _ => spec.p = defaults.p,
            }
        }
        match spec.build(dir) {
            Ok(chain) => Some(chain),
            Err(e) => {
                let line = self.find(&["model.matrix", "model"]);
                let message = match &e {
                    SpinbatError::InvalidParameter { name: "matrix", reason, .. } => {
                        format!("[model] matrix = {}: {reason}", sources.get("matrix").map_or("?", String::as_str))
                    }
                    SpinbatError::InvalidMatrix { .. } => format!("[model] matrix: {e}"),
                    _ => format!("[model]: {e}"),
                };
                self.add(line, message);
                None
            }
        }
    }

    fn sweeps(&mut self, table: Option<(&dyn TableLike, usize)>, base: Option<&Chain>) -> Vec<Sweep> {
        let Some((table, header)) = table else {
            self.add(1, "no [sweep] table: vary at least one parameter, e.g. [sweep] n = \"4..10\"");
            return Vec::new();
        };
        let mut sweeps: Vec<Sweep> = Vec::new();
        let entries = self.entries(table, "sweep");
        if entries.is_empty() {
            self.add(header, "[sweep] is empty: vary at least one parameter, e.g. n = \"4..10\"");
        }
        let names: Vec<&str> =
            Parameter::ALL.iter().chain(&Parameter::NOISE).chain(&Parameter::FIELD).map(|p| p.as_str()).collect();
        for (key, item, line) in entries {
            let Ok(parameter) = key.parse::<Parameter>() else {
                let hint = suggest(key, &names).map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default();
                self.add(
                    line,
                    format!("unknown parameter '{key}' in [sweep]{hint}; choose one of {}", names.join(", ")),
                );
                continue;
            };
            self.lines.insert(format!("sweep.{parameter}"), line);
            let what = format!("[sweep] {key}");
            let sweep = match item.as_value() {
                Some(Value::String(s)) => Sweep::parse_spec(parameter, s.value()),
                Some(Value::Integer(_) | Value::Float(_)) => {
                    Sweep::new(parameter, vec![self.number(item, line, &what).unwrap_or(f64::NAN)])
                }
                Some(Value::Array(a)) => {
                    let values: Option<Vec<f64>> = a
                        .iter()
                        .map(|v| match v {
                            Value::Integer(i) => Some(*i.value() as f64),
                            Value::Float(f) => Some(*f.value()),
                            _ => None,
                        })
                        .collect();
                    match values {
                        Some(v) if v.is_empty() => {
                            self.add(line, format!("{what} = []: empty list; give at least one value"));
                            continue;
                        }
                        Some(v) => Sweep::new(parameter, v),
                        None => {
                            self.add(line, format!("wrong type for {what}: every value of the list must be a number"));
                            continue;
                        }
                    }
                }
                _ => {
                    self.wrong_type(
                        line,
                        &what,
                        "a list of numbers or a string such as \"4..10\", \"0:1:0.1\" or \"1,2,4\"",
                        item,
                    );
                    continue;
                }
            };
            let sweep = match sweep {
                Ok(s) => s,
                Err(e) => {
                    let msg = format!("{what} = {}: {}", self.source(item), reason(&e));
                    self.add(line, msg);
                    continue;
                }
            };
            if sweeps.iter().any(|s| s.parameter == parameter) {
                self.add(line, format!("{what}: the parameter {parameter} is varied twice"));
                continue;
            }
            if let Some(base) = base {
                let bad: Vec<(f64, SpinbatError)> = sweep
                    .values
                    .iter()
                    .filter_map(|&v| {
                        if parameter.is_field() {
                            // a drive setting: checked as the drive checks it
                            let (a, nu) = if parameter == Parameter::Drive { (v, 0.0) } else { (0.0, v) };
                            return spinbat::model::Drive::new(0.0, a, nu).err().map(|e| (v, e));
                        }
                        parameter
                            .apply(base.to_builder(), base.couplings(), v)
                            .and_then(|b| b.build())
                            .err()
                            .map(|e| (v, e))
                    })
                    .collect();
                if let Some((v, e)) = bad.first() {
                    let more =
                        if bad.len() > 1 { format!(" (and {} more values)", bad.len() - 1) } else { String::new() };
                    self.add(line, format!("{what}: the value {v} is invalid: {}{more}", reason(e)));
                    continue;
                }
            }
            sweeps.push(sweep);
        }
        sweeps
    }

    /// `[noise]`: the rates while charging (`dephasing`, `decay`, `temperature`,
    /// `collective_decay`, as `spinbat charge` takes them), each a number, checked together
    /// with the model's field `b` (each problem on its key's line).
    fn noise(&mut self, table: Option<&dyn TableLike>, b: f64) -> Noise {
        let mut noise = Noise::default();
        let Some(table) = table else { return noise };
        for (key, item, line) in self.entries(table, "noise") {
            let what = format!("[noise] {key}");
            if !NOISE_KEYS.contains(&key) {
                let hint = suggest(key, &NOISE_KEYS).map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default();
                self.add(line, format!("unknown key '{key}' in [noise]{hint}; expected {}", NOISE_KEYS.join(", ")));
                continue;
            }
            let Some(v) = self.number(item, line, &what) else { continue };
            self.lines.insert(format!("noise.{key}"), line);
            match key {
                "dephasing" => noise.dephasing = v,
                "decay" => noise.decay = v,
                "temperature" => noise.temperature = Some(v),
                _ => noise.collective_decay = v,
            }
        }
        for e in noise.problems(b) {
            let key = match &e {
                SpinbatError::InvalidParameter { name, .. } => format!("noise.{name}"),
                _ => "noise".to_string(),
            };
            let line = self.find(&[&key, "noise"]);
            self.add(line, format!("[noise]: {}", explain(&e)));
        }
        noise
    }

    /// `[model] omega_schedule`: a schedule file (relative to the study file's folder;
    /// lines `t_end omega`, as `spinbat charge --omega-schedule`) or the segments inline,
    /// `[[t_end, omega], ...]`; either under the rules of [`Schedule::parse`].
    fn schedule(&mut self, item: &Item, line: usize, dir: &Path) {
        let what = "[model] omega_schedule";
        let schedule = match item.as_value() {
            Some(Value::String(f)) => {
                let path = dir.join(f.value());
                match std::fs::read_to_string(&path) {
                    Ok(text) => Schedule::parse(&text),
                    Err(e) => {
                        self.add(line, format!("{what} = {}: cannot read {}: {e}", self.source(item), path.display()));
                        return;
                    }
                }
            }
            Some(Value::Array(rows)) => {
                let pair = |v: &Value| -> Option<(f64, f64)> {
                    let num = |v: &Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
                    match v.as_array().map(|a| a.iter().collect::<Vec<_>>()).as_deref() {
                        Some([t, w]) => Some((num(t)?, num(w)?)),
                        _ => None,
                    }
                };
                match rows.iter().map(pair).collect::<Option<Vec<_>>>() {
                    Some(pairs) => Schedule::from_pairs(&pairs),
                    None => {
                        self.wrong_type(line, what, "a file name or a list of [t_end, omega] pairs of numbers", item);
                        return;
                    }
                }
            }
            _ => {
                self.wrong_type(line, what, "a file name or a list of [t_end, omega] pairs of numbers", item);
                return;
            }
        };
        match schedule {
            Ok(s) => self.protocol.omega_schedule = Some(s),
            Err(e) => self.add(line, format!("{what} = {}: {}", self.source(item), explain(&e))),
        }
    }

    /// `[drive]`: the periodic drive `omega(t) = omega + A cos(nu t)` of every point,
    /// `amplitude` (A) and `frequency` (nu), each a number (either may be varied in
    /// `[sweep]` as `drive` and `drive_frequency` instead).
    fn drive(&mut self, table: Option<&dyn TableLike>) {
        let Some(table) = table else { return };
        for (key, item, line) in self.entries(table, "drive") {
            let what = format!("[drive] {key}");
            if !DRIVE_KEYS.contains(&key) {
                self.unknown_key(line, key, "drive", &DRIVE_KEYS);
                continue;
            }
            let Some(v) = self.number(item, line, &what) else { continue };
            let checked = if key == "amplitude" {
                spinbat::model::Drive::new(0.0, v, 0.0)
            } else {
                spinbat::model::Drive::new(0.0, 0.0, v)
            };
            if let Err(e) = checked {
                self.add(line, format!("{what} = {}: {}", self.source(item), reason(&e)));
                continue;
            }
            match key {
                "amplitude" => self.protocol.drive = Some(v),
                _ => self.protocol.drive_frequency = Some(v),
            }
        }
    }

    fn run(&mut self, table: Option<&dyn TableLike>) -> (Vec<ScanSolver>, ScanOptions, Option<ObserveOptions>) {
        let mut solvers = vec![ScanSolver::QUANTUM];
        let mut options = ScanOptions::default();
        let (mut set, mut cut, mut points) = (None::<ObservableSet>, None::<(usize, usize)>, None::<(usize, usize)>);
        let Some(table) = table else { return (solvers, options, None) };
        for (key, item, line) in self.entries(table, "run") {
            let what = format!("[run] {key}");
            match key {
                "solvers" => {
                    let Some(names) = self.names(item, line, &what, "solver") else { continue };
                    if item.as_array().is_some_and(|a| a.is_empty()) {
                        self.add(line, format!("{what} = []: name at least one solver"));
                    }
                    let mut list = Vec::new();
                    for (name, l) in names {
                        match ScanSolver::parse_list(&name) {
                            Ok(parsed) => {
                                for s in parsed {
                                    if !list.contains(&s) {
                                        list.push(s);
                                    }
                                }
                            }
                            Err(e) => self.add(l, format!("{what}: '{name}': {}", reason(&e))),
                        }
                    }
                    if !list.is_empty() {
                        solvers = list;
                    }
                }
                "tol" | "window" => {
                    let Some(v) = self.number(item, line, &what) else { continue };
                    let o = if key == "tol" {
                        ScanOptions { tol: v, ..options }
                    } else {
                        ScanOptions { window: Some(v), ..options }
                    };
                    match o.validate() {
                        Ok(()) => options = o,
                        Err(e) => {
                            let msg = format!("{what} = {}: {}", self.source(item), reason(&e));
                            self.add(line, msg)
                        }
                    }
                }
                "max_work" => match item.as_bool() {
                    Some(b) => options.max_work = b,
                    None => self.wrong_type(line, &what, "true or false", item),
                },
                "observe" => set = self.observables(item, line, &what),
                "cut" | "points" => {
                    let least = if key == "cut" { 1 } else { 2 };
                    match item.as_integer() {
                        Some(v) if v >= least => {
                            let slot = if key == "cut" { &mut cut } else { &mut points };
                            *slot = Some((v as usize, line));
                        }
                        Some(v) => self.add(line, format!("{what} = {v}: must be at least {least}")),
                        None => self.wrong_type(line, &what, "a whole number", item),
                    }
                }
                other => self.unknown_key(line, other, "run", &RUN_KEYS),
            }
        }
        let observe = match set {
            Some(set) => {
                let set = cut.map_or(set, |(c, _)| set.with_cut(c));
                Some(ObserveOptions { set, points: points.map_or(DEFAULT_OBSERVE_POINTS, |(p, _)| p) })
            }
            None => {
                for (key, found) in [("cut", cut), ("points", points)] {
                    if let Some((_, line)) = found {
                        if !self.lines.contains_key("run.observe") {
                            self.add(
                                line,
                                format!("[run] {key} sets how observables are recorded, but [run] observe is missing"),
                            );
                        }
                    }
                }
                None
            }
        };
        (solvers, options, observe)
    }

    /// A list of `kind` names (or one string) with the line of each; elements that are not
    /// strings are reported. `None` (reported) when the value is neither.
    fn names(&mut self, item: &Item, line: usize, what: &str, kind: &str) -> Option<Vec<(String, usize)>> {
        match item.as_value() {
            Some(Value::String(s)) => Some(vec![(s.value().clone(), line)]),
            Some(Value::Array(a)) => {
                let mut names = Vec::new();
                for v in a.iter() {
                    let l = self.line(v.span()).max(line);
                    match v.as_str() {
                        Some(s) => names.push((s.to_string(), l)),
                        None => self.add(l, format!("wrong type in {what}: {kind} names are strings")),
                    }
                }
                Some(names)
            }
            _ => {
                self.wrong_type(line, what, &format!("a list of {kind} names"), item);
                None
            }
        }
    }

    /// `[run] observe`: a list of observable names (or one comma-separated string), each
    /// checked with its line. `None` when a name is wrong (reported) or the list is empty.
    fn observables(&mut self, item: &Item, line: usize, what: &str) -> Option<ObservableSet> {
        let names = self.names(item, line, what, "observable")?;
        if names.is_empty() {
            let choose = ObservableSet::NAMES.join("\", \"");
            self.add(
                line,
                format!("{what} = []: name at least one observable (\"{choose}\" or \"all\"), or leave the key out"),
            );
            return None;
        }
        let mut set = ObservableSet::default();
        let mut ok = true;
        for (name, l) in names {
            match name.parse::<ObservableSet>() {
                Ok(s) => {
                    set.entanglement |= s.entanglement;
                    set.bloch |= s.bloch;
                    set.zz |= s.zz;
                    set.variance |= s.variance;
                }
                Err(e) => {
                    self.add(l, format!("{what}: '{name}': {}", reason(&e)));
                    ok = false;
                }
            }
        }
        ok.then_some(set)
    }

    fn outputs(
        &mut self,
        table: Option<&dyn TableLike>,
        path: &Path,
        dir: &Path,
        varied: usize,
    ) -> (PathBuf, Option<PathBuf>, Option<PathBuf>) {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("study");
        let mut records = dir.join(format!("{stem}.jsonl"));
        let (mut csv, mut plot) = (None, None);
        let Some(table) = table else { return (records, csv, plot) };
        for (key, item, line) in self.entries(table, "output") {
            let what = format!("[output] {key}");
            if !OUTPUT_KEYS.contains(&key) {
                self.unknown_key(line, key, "output", &OUTPUT_KEYS);
                continue;
            }
            let Some(s) = self.string(item, line, &what) else { continue };
            let file = dir.join(s);
            if s.trim().is_empty() {
                self.add(line, format!("{what}: empty file name"));
                continue;
            }
            if file == path || path.file_name().is_some_and(|n| file == dir.join(n)) {
                self.add(line, format!("{what} = \"{s}\" would overwrite the study file itself"));
                continue;
            }
            match key {
                "records" => records = file,
                "csv" => csv = Some(file),
                _ => {
                    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
                    if ext != "png" && ext != "svg" {
                        self.add(line, format!("{what} = \"{s}\": a plot file must end in .png or .svg"));
                    } else if varied > 2 {
                        self.add(
                            line,
                            format!(
                                "{what}: a plot shows one varied parameter (curves) or two (heat maps), but [sweep] \
                                 varies {varied}; drop the plot or vary fewer parameters"
                            ),
                        );
                    } else {
                        plot = Some(file);
                    }
                }
            }
        }
        (records, csv, plot)
    }
}

/// What is wrong, without the parameter's name when the message names it already.
fn reason(e: &SpinbatError) -> String {
    match e {
        SpinbatError::InvalidParameter { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// A library error in words, with its parameter.
fn explain(e: &SpinbatError) -> String {
    match e {
        SpinbatError::InvalidParameter { name, value, reason } => format!("{name} = {value}: {reason}"),
        other => other.to_string(),
    }
}

fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Value(Value::String(_)) => "a string",
        Item::Value(Value::Integer(_)) => "an integer",
        Item::Value(Value::Float(_)) => "a float",
        Item::Value(Value::Boolean(_)) => "a boolean",
        Item::Value(Value::Datetime(_)) => "a date-time",
        Item::Value(Value::Array(_)) => "an array",
        Item::Value(Value::InlineTable(_)) => "an inline table",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
    }
}

/// The closest of `known` to `word`, if at most two edits away.
fn suggest<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    let distance = |a: &str, b: &str| {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, &cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    };
    known
        .iter()
        .map(|k| (distance(word, k), *k))
        .filter(|(d, k)| *d <= 2 && 2 * d <= word.chars().count().max(k.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::suggest;

    #[test]
    fn suggestions_are_close_words() {
        assert_eq!(suggest("alpah", &["n", "alpha", "omega"]), Some("alpha"));
        assert_eq!(suggest("modle", &["model", "sweep"]), Some("model"));
        assert_eq!(suggest("zzzzzz", &["model", "sweep"]), None);
        assert_eq!(suggest("q", &["n", "p"]), None);
    }
}
