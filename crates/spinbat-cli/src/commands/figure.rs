//! `spinbat figure`: the paper's figures (data, plots) and a report of its claims.

use crate::plot::chart::{self, Figure, Panel, Series, Style};
use crate::{progress::Bar, CliError};
use anyhow::{anyhow, Context};
use clap::Args;
use serde::Serialize;
use spinbat::record::Provenance;
use spinbat::study::{self, CurveKind, FigureData, FigureId, FigureSettings};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options of `spinbat figure`.
#[derive(Debug, Args)]
#[command(after_help = "\
Writes, for each figure, FIG.csv (panel, curve, kind, x, y), FIG.json (data, parameters,
method, verdict, provenance), FIG.png and FIG.svg, and then report.md and report.html with
every figure produced so far in DIR, its parameters, the solver and accuracy, the paper's
claim and whether spinbat's data bear it out.

Figures (paper's parameters):
  2        max power vs alpha, N = 4, g = B, omega = 4B, LR (p = 1) and NN
  3        work vs time, N = 2, omega = 3B, alpha = 0, g = 20B: exact, Eq. 13, Eq. 14
  4        max work / power vs N at g = 100B, omega = 4B: XXX, NN, LR
  5        work and power vs time, N = 7, omega = 10B, g = B, alpha = 0, p = 1: exact vs Eq. 18
  6        quantum vs classical max power vs N, g = B, omega = 4B
  scaling  P_max/N vs N for NN, p = 2, 1, 0 (exact, mean field, Eq. 18) with fitted laws
  correlations  (P_C - P_Q)/P_Q against the peak half-chain entanglement, across N and alpha
  locked   ergotropy locked in correlations at T*, quantum vs mean field, across N (to --n-max) and alpha
  floquet  P_max of a drive omega + A cos(nu t) (A = omega/2 = 2B) vs nu = 0.5..64 for NN and p = 1, N = 8..16
           (to --n-max; N = 4, 6 and three frequencies with --quick), beside the static charge at omega
           and at omega + A; verdict against Puri et al. (arXiv:2412.00921)
  all      every one of these

Examples:
  spinbat figure all --out figures
  spinbat figure 6 --n-max 12 --out fig6
  spinbat figure all --quick --out /tmp/smoke")]
pub struct FigureArgs {
    /// Which figure: 2, 3, 4, 5, 6, scaling, correlations, locked or all.
    #[arg(value_name = "FIGURE")]
    pub which: String,
    /// Output directory (created if missing).
    #[arg(long, default_value = "figures")]
    pub out: PathBuf,
    /// Small settings (N <= 6, coarse grids, tol 1e-8): seconds, for a first look or a test.
    #[arg(long)]
    pub quick: bool,
    /// Largest N of the exact runs (Figs. 6, scaling, locked; default 16, 6 with --quick) and
    /// of the Floquet figure (default 16, 6 with --quick).
    #[arg(long)]
    pub n_max: Option<usize>,
    /// Largest N of the strong-coupling Fig. 4; default 10 (4 with --quick).
    #[arg(long)]
    pub n_max_strong: Option<usize>,
    /// Largest N of the mean-field and Dicke runs of the scaling study; default 4096.
    #[arg(long)]
    pub n_max_classical: Option<usize>,
    /// Largest N of the scaling study's matrix-product-state runs (two-site TDVP at the
    /// default settings of `charge --solver mps`, N = 8, 16, 32, ... up to this, for NN,
    /// p = 2, p = 1 and p = 0.5): the quantum P_max/N past the exact sizes. Default 0 (none):
    /// they take minutes each from N = 128 on; 256 takes about an hour on two cores.
    #[arg(long, default_value_t = 0)]
    pub n_max_mps: usize,
    /// Absolute tolerance on W [units of B].
    #[arg(long, allow_negative_numbers = true)]
    pub tol: Option<f64>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Serialize)]
struct FigureRecord<'a> {
    #[serde(flatten)]
    figure: &'a FigureData,
    settings: FigureSettings,
    provenance: Provenance,
}

pub fn run(args: FigureArgs) -> Result<(), CliError> {
    let ids: Vec<FigureId> = if args.which.trim().eq_ignore_ascii_case("all") {
        FigureId::ALL.to_vec()
    } else {
        vec![args.which.parse()?]
    };
    let mut settings = if args.quick { FigureSettings::quick() } else { FigureSettings::full() };
    if let Some(n) = args.n_max {
        settings.n_max_exact = n;
        settings.n_max_floquet = n;
    }
    if let Some(n) = args.n_max_strong {
        settings.n_max_strong = n;
    }
    if let Some(n) = args.n_max_classical {
        settings.n_max_classical = n;
    }
    settings.n_max_mps = args.n_max_mps;
    if let Some(t) = args.tol {
        if !(t.is_finite() && t > 0.0 && t < 1.0) {
            return Err(CliError::input(anyhow!("invalid --tol {t}: must be a number in (0, 1)")));
        }
        settings.tol = t;
    }
    crate::model_args::set_threads(args.threads)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))
        .map_err(CliError::runtime)?;

    let start = Instant::now();
    let mut out = std::io::stdout().lock();
    for id in ids {
        let bar = Bar::new(true, &format!("figure {id}"));
        let data = study::figure(id, &settings, &bar);
        bar.finish();
        let data = data?;
        write_figure(&args.out, &data, &settings).map_err(CliError::runtime)?;
        let _ = writeln!(
            out,
            "{:<8} {:>8.2} s  {}  {}",
            id.as_str(),
            data.run_time_s,
            if data.verdict.holds { "claim holds:" } else { "claim NOT borne out:" },
            data.verdict.evidence
        );
    }
    let report = write_report(&args.out).map_err(CliError::runtime)?;
    let _ = writeln!(
        out,
        "wrote {} (and report.md) in {:.1} s on {} threads",
        report.display(),
        start.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
    Ok(())
}

fn style(kind: CurveKind, points: usize) -> Style {
    match kind {
        CurveKind::Exact if points <= 40 => Style::LineMarkers,
        CurveKind::Exact => Style::Line,
        CurveKind::MeanField => Style::Dotted,
        CurveKind::Approximation | CurveKind::Fit => Style::Dashed,
        CurveKind::Effective => Style::Line,
        CurveKind::MatrixProduct => Style::LineMarkers,
    }
}

/// The chart of a figure.
pub fn chart_of(data: &FigureData) -> Figure {
    let panels = data
        .panels
        .iter()
        .map(|p| {
            let mut panel = Panel::new(&p.title, &p.x_label, &p.y_label).log(p.log_x, p.log_y);
            for c in &p.curves {
                let pts: Vec<(f64, f64)> = c.x.iter().copied().zip(c.y.iter().copied()).collect();
                let st = style(c.kind, pts.len());
                panel = panel.with(Series::new(&c.label, pts, st, c.family));
            }
            panel
        })
        .collect::<Vec<_>>();
    let cols = if panels.len() >= 4 { 2 } else { panels.len().max(1) };
    Figure { title: data.title.clone(), panels, cols }
}

fn write_figure(dir: &Path, data: &FigureData, settings: &FigureSettings) -> anyhow::Result<()> {
    let stem = dir.join(data.id.as_str());
    let record = FigureRecord { figure: data, settings: *settings, provenance: Provenance::current() };
    let json = stem.with_extension("json");
    std::fs::write(&json, serde_json::to_string_pretty(&record)? + "\n")
        .with_context(|| format!("writing {}", json.display()))?;
    let csv_path = stem.with_extension("csv");
    let mut w = csv::Writer::from_path(&csv_path).with_context(|| format!("writing {}", csv_path.display()))?;
    w.write_record(["panel", "curve", "kind", "x", "y"])?;
    for p in &data.panels {
        for c in &p.curves {
            let kind = serde_json::to_value(c.kind)?.as_str().unwrap_or("").to_string();
            for (x, y) in c.x.iter().zip(&c.y) {
                w.write_record([p.title.as_str(), &c.label, &kind, &format!("{x:.15e}"), &format!("{y:.15e}")])?;
            }
        }
    }
    w.flush()?;
    let fig = chart_of(data);
    chart::write(&stem.with_extension("png"), &fig)?;
    chart::write(&stem.with_extension("svg"), &fig)?;
    Ok(())
}

/// Reads every `FIG.json` in `dir` and writes `report.md` and `report.html`.
fn write_report(dir: &Path) -> anyhow::Result<PathBuf> {
    let mut figures = Vec::new();
    for id in FigureId::ALL {
        let path = dir.join(id.as_str()).with_extension("json");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let v: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
            figures.push((id, v));
        }
    }
    let s = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let mut md = String::from("# spinbat: the paper's figures and claims\n\n");
    let _ = writeln!(
        md,
        "Le, Levinsen, Modi, Parish, Pollock, *Spin-chain model of a many-body quantum battery*, PRA 97, 022106 (2018). \
         Units: hbar = 1, energies in B, times in 1/B. Regenerate with `spinbat figure all --out {}`.\n",
        dir.display()
    );
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>spinbat report</title>\n<style>body{font-family:sans-serif;max-width:1200px;margin:auto}\
         img{max-width:100%}.ok{color:#1a7f37}.no{color:#b42318}td,th{padding:2px 8px;text-align:left}</style></head><body>\n\
         <h1>spinbat: the paper's figures and claims</h1>\n<p>Le <i>et al.</i>, PRA 97, 022106 (2018). Units: &#295; = 1, energies in B, times in 1/B.</p>\n",
    );
    html.push_str("<table><tr><th>figure</th><th>claim</th><th>verdict</th></tr>\n");
    let _ = writeln!(md, "| figure | claim | verdict |\n|---|---|---|");
    for (id, v) in &figures {
        let verdict = v.get("verdict").cloned().unwrap_or_default();
        let holds = verdict.get("holds").and_then(|h| h.as_bool()).unwrap_or(false);
        let word = if holds { "holds" } else { "not borne out" };
        let _ = writeln!(md, "| [{}](#{}) | {} | **{}** |", s(v, "title"), id, s(&verdict, "claim"), word);
        let _ = writeln!(
            html,
            "<tr><td><a href=\"#{id}\">{}</a></td><td>{}</td><td class=\"{}\">{word}</td></tr>",
            esc(&s(v, "title")),
            esc(&s(&verdict, "claim")),
            if holds { "ok" } else { "no" }
        );
    }
    html.push_str("</table>\n");
    md.push('\n');
    for (id, v) in &figures {
        let verdict = v.get("verdict").cloned().unwrap_or_default();
        let holds = verdict.get("holds").and_then(|h| h.as_bool()).unwrap_or(false);
        let rt = v.get("run_time_s").and_then(|x| x.as_f64()).unwrap_or(0.0);
        let _ = writeln!(md, "## {}\n<a id=\"{id}\"></a>\n", s(v, "title"));
        let _ = writeln!(md, "![{id}]({id}.svg)\n");
        let _ = writeln!(md, "- **Parameters:** {}", s(v, "parameters"));
        let _ = writeln!(md, "- **Method and accuracy:** {}", s(v, "method"));
        let _ = writeln!(md, "- **Paper's claim:** {}", s(&verdict, "claim"));
        let _ = writeln!(
            md,
            "- **Verdict:** {}. {}",
            if holds { "the data bear it out" } else { "the data do NOT bear it out" },
            s(&verdict, "evidence")
        );
        let _ = writeln!(md, "- **Data:** [{id}.csv]({id}.csv), [{id}.json]({id}.json); computed in {rt:.2} s\n");
        let _ = writeln!(
            html,
            "<h2 id=\"{id}\">{}</h2>\n<img src=\"{id}.svg\" alt=\"{id}\">\n<ul><li><b>Parameters:</b> {}</li>\
             <li><b>Method and accuracy:</b> {}</li><li><b>Paper's claim:</b> {}</li>\
             <li><b>Verdict:</b> <span class=\"{}\">{}</span>. {}</li>\
             <li><b>Data:</b> <a href=\"{id}.csv\">{id}.csv</a>, <a href=\"{id}.json\">{id}.json</a>; computed in {rt:.2} s</li></ul>",
            esc(&s(v, "title")),
            esc(&s(v, "parameters")),
            esc(&s(v, "method")),
            esc(&s(&verdict, "claim")),
            if holds { "ok" } else { "no" },
            if holds { "the data bear it out" } else { "the data do NOT bear it out" },
            esc(&s(&verdict, "evidence"))
        );
    }
    let prov = Provenance::current();
    let footer = format!(
        "spinbat {} (git {}), {} threads.",
        prov.version,
        prov.git_rev.as_deref().unwrap_or("unknown"),
        prov.threads
    );
    let _ = writeln!(md, "---\n{footer}");
    let _ = writeln!(html, "<hr><p>{footer}</p></body></html>");
    std::fs::write(dir.join("report.md"), md).context("writing report.md")?;
    let path = dir.join("report.html");
    std::fs::write(&path, html).context("writing report.html")?;
    Ok(path)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
