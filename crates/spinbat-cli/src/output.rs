//! What every command does with its outputs: the output flags (`--json`, `--csv`, `--plot`,
//! declared once and flattened into each command), paths checked before computing, text
//! written to a file or stdout, and numbers and chains described the same way everywhere.

use crate::CliError;
use anyhow::{anyhow, Context};
use clap::Args;
use serde::Serialize;
use spinbat::{Chain, Couplings};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `--json FILE|-`, the command's record as JSON: alone in `spinbat effective`, inside
/// [`OutputArgs`] in the commands that also write CSV and plots.
#[derive(Debug, Args)]
pub struct JsonArg {
    /// Write the record as JSON to FILE, or to stdout with '-' (then nothing else is printed).
    #[arg(long = "json", id = "json", value_name = "FILE|-")]
    pub target: Option<String>,
}

impl JsonArg {
    /// `--json -`: the record goes to stdout, so the command prints nothing else there (no
    /// summary) and shows no progress bar.
    pub fn to_stdout(&self) -> bool {
        self.target.as_deref() == Some("-")
    }

    /// Fails with exit status 2 before any computation if the JSON file cannot be written.
    pub fn check(&self) -> Result<(), CliError> {
        match self.target.as_deref().filter(|j| *j != "-") {
            Some(j) => check_writable(Path::new(j)),
            None => Ok(()),
        }
    }

    /// Writes `record` as pretty-printed JSON to the target, if `--json` was given.
    pub fn write(&self, record: &impl Serialize) -> Result<(), CliError> {
        match &self.target {
            Some(target) => write_text(target, &serde_json::to_string_pretty(record).map_err(CliError::runtime)?),
            None => Ok(()),
        }
    }

    /// `json FILE` for the summary's list of files written (`None` without `--json`).
    fn written(&self) -> Option<String> {
        self.target.as_ref().map(|j| format!("json {j}"))
    }
}

/// The output files of a command that writes a record, a table and a picture: `--json`,
/// `--csv`, `--plot`, flattened into it (`#[command(flatten)]`). What the CSV columns and the
/// plot's panels are differs by command: each states it in its own help of `--csv` and
/// `--plot` (`mut_arg`).
#[derive(Debug, Args)]
pub struct OutputArgs {
    #[command(flatten)]
    pub json: JsonArg,
    /// Write the data as CSV (with header) to FILE.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Plot the data to FILE.png or FILE.svg.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

impl OutputArgs {
    /// Checks every output asked for before anything is computed (exit 2): the JSON file
    /// (`-` is stdout), the CSV file and the plot (its extension, and that it can be
    /// written), so that a long run is never lost to a typo in a path.
    pub fn check(&self) -> Result<(), CliError> {
        if let Some(p) = &self.plot {
            check_plot_path(p)?;
            check_writable(p)?;
        }
        self.json.check()?;
        if let Some(c) = &self.csv {
            check_writable(c)?;
        }
        Ok(())
    }

    /// `--json -`: see [`JsonArg::to_stdout`].
    pub fn json_stdout(&self) -> bool {
        self.json.to_stdout()
    }

    /// The end of a summary's last line: `; wrote json A, csv B, plot C` for the outputs
    /// asked for, empty when there are none.
    pub fn written(&self) -> String {
        let files: Vec<String> = [
            self.json.written(),
            self.csv.as_ref().map(|c| format!("csv {}", c.display())),
            self.plot.as_ref().map(|p| format!("plot {}", p.display())),
        ]
        .into_iter()
        .flatten()
        .collect();
        if files.is_empty() {
            String::new()
        } else {
            format!("; wrote {}", files.join(", "))
        }
    }
}

fn check_plot_path(p: &Path) -> Result<(), CliError> {
    let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if ext != "png" && ext != "svg" {
        return Err(CliError::input(anyhow!("--plot {} must end in .png or .svg", p.display())));
    }
    Ok(())
}

/// Fails with exit status 2 before any computation if `path` cannot be written: its folder
/// is missing or it cannot be created there (a file made only for the test is removed).
fn check_writable(path: &std::path::Path) -> Result<(), CliError> {
    let existed = path.exists();
    match std::fs::OpenOptions::new().append(true).create(true).open(path) {
        Ok(_) => {
            if !existed {
                let _ = std::fs::remove_file(path);
            }
            Ok(())
        }
        Err(e) => Err(CliError::input(anyhow!("cannot write output file {}: {e}", path.display()))),
    }
}

/// Writes `text` to `target`, or stdout for `-`.
fn write_text(target: &str, text: &str) -> Result<(), CliError> {
    if target == "-" {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}").map_err(CliError::runtime)
    } else {
        std::fs::write(target, format!("{text}\n"))
            .with_context(|| format!("writing {target}"))
            .map_err(CliError::runtime)
    }
}

/// One line: `N = .., B = .., g = .., alpha = .., omega = .., <couplings>`, then the
/// generalised charging where set (`gamma = ..`, `omega_i = omega x (..)`, `field kept on`).
pub fn describe_chain(chain: &Chain) -> String {
    let mut text = format!(
        "N = {}, B = {}, g = {}, alpha = {}, omega = {}, {}",
        chain.n_sites(),
        chain.b(),
        chain.g(),
        chain.alpha(),
        chain.omega(),
        describe_couplings(chain)
    );
    if chain.gamma() != 0.0 {
        text += &format!(", gamma = {}", chain.gamma());
    }
    if let Some(w) = chain.omega_sites().filter(|_| chain.has_omega_sites()) {
        let w: Vec<String> = w.iter().map(|v| v.to_string()).collect();
        text += &format!(", omega_i = omega x ({})", w.join(", "));
    }
    if chain.keep_field() {
        text += ", field kept on (H = H0 + V)";
    }
    text
}

/// `x` with `digits` significant digits (fixed notation for `10⁻⁴ ≤ |x| < 10⁷`, exponent
/// otherwise); `0` (also `−0`) as `0`.
pub fn sig(x: f64, digits: usize) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x == 0.0 { "0".into() } else { format!("{x}") };
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-4..7).contains(&mag) {
        return format!("{:.*e}", digits.saturating_sub(1), x);
    }
    let decimals = (digits as i32 - 1 - mag).max(0) as usize;
    format!("{x:.decimals$}")
}

/// The coupling pattern and boundary in words.
pub fn describe_couplings(chain: &Chain) -> String {
    let b = chain.boundary().as_str();
    match chain.couplings() {
        Couplings::NearestNeighbour => format!("nearest neighbour, {b}"),
        Couplings::PowerLaw { p } => format!("power law p = {p}, {b}"),
        Couplings::Matrix { .. } => "explicit matrix".to_string(),
    }
}
