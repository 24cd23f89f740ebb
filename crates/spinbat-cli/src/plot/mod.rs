//! Every picture the CLI writes, PNG or SVG by the file's extension, with the embedded
//! DejaVu Sans font: the charging curve ([`charge`]), the figures' and scans' panel grids
//! ([`chart`]), heat maps of two-parameter studies ([`heatmap`]); legends placed where they
//! cover no data ([`legend`]) and text laid out by the font's metrics ([`typeset`]).

pub mod charge;
pub mod chart;
pub mod heatmap;
pub mod legend;
pub mod typeset;

pub use charge::{write, Extra, Independent};
