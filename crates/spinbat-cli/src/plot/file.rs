//! A picture written to a file: PNG (text laid out by the embedded font, [`Typeset`]) or
//! SVG, by the file's extension; the one place every plot is turned into a file.

use super::typeset::{register_font, Typeset};
use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Something plotters can draw on any backend (bitmap or SVG).
pub trait Picture {
    /// Draws the whole picture on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

/// Writes `picture`, `size` pixels (width, height), to `path`: `.png` or `.svg`, any
/// other extension refused.
pub fn write(path: &Path, size: (u32, u32), picture: &impl Picture) -> Result<()> {
    register_font();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "png" => {
            let root = Typeset::new(BitMapBackend::new(path, size)).into_drawing_area();
            picture.draw(&root)?;
            root.present().with_context(|| format!("writing {}", path.display()))?;
        }
        "svg" => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            picture.draw(&root)?;
            root.present().with_context(|| format!("writing {}", path.display()))?;
        }
        _ => return Err(anyhow!("plot file {} must end in .png or .svg", path.display())),
    }
    Ok(())
}
