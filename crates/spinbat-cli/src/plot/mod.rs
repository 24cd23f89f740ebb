//! Every picture the CLI writes, PNG or SVG by the file's extension, with the embedded
//! DejaVu Sans font: the charging curve ([`charge`]), the figures' and scans' panel grids
//! ([`chart`]), heat maps of two-parameter studies ([`heatmap`]); legends placed where they
//! cover no data ([`legend`]), text laid out by the font's metrics ([`typeset`]), and the
//! file written by its extension ([`file`]).

pub mod charge;
pub mod chart;
pub mod file;
pub mod heatmap;
pub mod legend;
pub mod typeset;

pub use charge::{write, write_with_band, Extra, Independent};
