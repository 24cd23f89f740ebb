//! What every command does with its outputs: paths checked before computing, text written
//! to a file or stdout, and numbers and chains described the same way everywhere.

use crate::CliError;
use anyhow::{anyhow, Context};
use spinbat::{Chain, Couplings};
use std::io::Write;
use std::path::Path;

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
pub fn write_text(target: &str, text: &str) -> Result<(), CliError> {
    if target == "-" {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}").map_err(CliError::runtime)
    } else {
        std::fs::write(target, format!("{text}\n"))
            .with_context(|| format!("writing {target}"))
            .map_err(CliError::runtime)
    }
}

/// One line: `N = .., B = .., g = .., alpha = .., omega = .., <couplings>`.
pub fn describe_chain(chain: &Chain) -> String {
    format!(
        "N = {}, B = {}, g = {}, alpha = {}, omega = {}, {}",
        chain.n_sites(),
        chain.b(),
        chain.g(),
        chain.alpha(),
        chain.omega(),
        describe_couplings(chain)
    )
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

/// Checks every output a command was asked for before it computes anything (exit 2): the
/// JSON file (`-` is stdout), the CSV file and the plot (its extension, and that it can be
/// written), so that a long run is never lost to a typo in a path.
pub fn check_outputs(json: Option<&str>, csv: Option<&Path>, plot: Option<&Path>) -> Result<(), CliError> {
    if let Some(p) = plot {
        check_plot_path(p)?;
        check_writable(p)?;
    }
    if let Some(j) = json.filter(|j| *j != "-") {
        check_writable(Path::new(j))?;
    }
    if let Some(c) = csv {
        check_writable(c)?;
    }
    Ok(())
}
