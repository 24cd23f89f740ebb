//! Text of the PNG plots, typeset from the embedded DejaVu Sans.
//!
//! plotters 0.3.7 draws text through its `ab_glyph` font backend, which drops every glyph's
//! left side bearing (it draws the outline's pixel box at the pen position instead of at the
//! pen plus `px_bounds().min.x`) and truncates each pen position to whole pixels. Letters
//! then sit too close or too far apart by up to a pixel and a half at 13-17 px ("tim e" in
//! "time t"). [`Typeset`] wraps a raster backend and draws text itself: pen positions kept
//! fractional, kerning applied, each glyph rasterised at its true position. SVG output keeps
//! its `<text>` elements, which the viewer typesets.

use ab_glyph::{point, Font, FontRef, GlyphId, PxScale, ScaleFont};
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::FontStyle;
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind};
use std::sync::OnceLock;

/// DejaVu Sans, embedded: no system fonts or libraries are needed.
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Registers the embedded DejaVu Sans as `sans-serif` with plotters (used for text sizes in
/// SVG output and by the stock text path).
pub fn register_font() {
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
}

fn font() -> &'static FontRef<'static> {
    static PARSED: OnceLock<FontRef<'static>> = OnceLock::new();
    // the embedded file is a valid TrueType font (checked by the tests)
    PARSED.get_or_init(|| FontRef::try_from_slice(FONT).expect("embedded DejaVu Sans parses"))
}

/// One glyph of a laid-out line: its id and the pen position of its origin [px].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    pub id: GlyphId,
    pub x: f32,
}

/// A line of text at `size` px (plotters' convention: `size` is ascent minus descent): the
/// glyphs with fractional pen positions (advances plus kerning), the advance width and the
/// line height [px].
pub fn layout(text: &str, size: f64) -> (Vec<Placed>, f32, f32) {
    let f = font().as_scaled(PxScale::from(size as f32));
    let mut pen = 0.0f32;
    let mut prev: Option<GlyphId> = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            pen += f.kern(p, id);
        }
        glyphs.push(Placed { id, x: pen });
        pen += f.h_advance(id);
        prev = Some(id);
    }
    (glyphs, pen, f.ascent() - f.descent())
}

/// Calls `ink(x, y, coverage)` for every pixel of `text` at `size` px, `(x, y)` relative to
/// the top left corner of its line box (baseline at the font's ascent).
pub fn rasterise(text: &str, size: f64, mut ink: impl FnMut(i32, i32, f32)) {
    let scale = PxScale::from(size as f32);
    let f = font().as_scaled(scale);
    let (glyphs, _, _) = layout(text, size);
    for g in glyphs {
        let glyph = g.id.with_scale_and_position(scale, point(g.x, f.ascent()));
        if let Some(outline) = f.outline_glyph(glyph) {
            let b = outline.px_bounds();
            let (x0, y0) = (b.min.x as i32, b.min.y as i32);
            outline.draw(|x, y, c| ink(x0 + x as i32, y0 + y as i32, c));
        }
    }
}

/// A raster backend whose text is typeset by [`rasterise`]; everything else is passed on.
pub struct Typeset<B: DrawingBackend> {
    inner: B,
}

impl<B: DrawingBackend> Typeset<B> {
    pub fn new(inner: B) -> Self {
        Typeset { inner }
    }
}

impl<B: DrawingBackend> DrawingBackend for Typeset<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }
    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let (_, w, h) = layout(text, style.size());
        Ok((w.ceil() as u32, h.round() as u32))
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let (_, w, h) = layout(text, style.size());
        let (w, h) = (w.ceil() as i32, h.round() as i32);
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0,
            HPos::Center => -w / 2,
            HPos::Right => -w,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0,
            VPos::Center => -h / 2,
            VPos::Bottom => -h,
        };
        let turn = style.transform();
        let (width, height) = self.get_size();
        let mut result = Ok(());
        rasterise(text, style.size(), |x, y, c| {
            if result.is_err() || c <= 0.0 {
                return;
            }
            let (x, y) = turn.transform(x + dx, y + dy);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && y >= 0 && x < width as i32 && y < height as i32 {
                let ink = BackendColor { alpha: color.alpha * f64::from(c.min(1.0)), rgb: color.rgb };
                result = self.inner.draw_pixel((x, y), ink);
            }
        });
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    /// Inked column runs (left, right) of a text rendered black on white, scanning `img`
    /// (RGB, `w` px wide) for columns with a pixel darker than mid grey.
    fn runs(img: &[u8], w: usize) -> Vec<(usize, usize)> {
        let h = img.len() / (3 * w);
        let dark = |x: usize| (0..h).any(|y| img[3 * (y * w + x)] < 128);
        let mut out = Vec::new();
        let mut start = None;
        for x in 0..w {
            match (dark(x), start) {
                (true, None) => start = Some(x),
                (false, Some(s)) => {
                    out.push((s, x - 1));
                    start = None;
                }
                _ => {}
            }
        }
        out
    }

    /// The gaps between letters of "time" as drawn in a PNG match the font's own metrics:
    /// gap = (pen + left bearing of the next glyph) - (pen + right ink edge of this one), from
    /// the unscaled TrueType values (font units / units per em), to within a pixel. The stock
    /// plotters path misplaces them by up to 1.5 px ("tim e").
    #[test]
    fn letters_are_spaced_by_the_font_metrics() {
        register_font();
        let (w, h) = (120usize, 40usize);
        let size = 17.0;
        let mut buf = vec![0u8; w * h * 3];
        {
            let root = Typeset::new(BitMapBackend::with_buffer(&mut buf, (w as u32, h as u32))).into_drawing_area();
            root.fill(&WHITE).unwrap();
            root.draw(&Text::new("time", (5, 5), ("sans-serif", size).into_font().color(&BLACK))).unwrap();
            root.present().unwrap();
        }
        let r = runs(&buf, w);
        assert_eq!(r.len(), 4, "four separate letters, got {r:?}");
        // independent metrics: unscaled font units of each glyph
        let f = font();
        let px = size as f32 / (f.ascent_unscaled() - f.descent_unscaled());
        let chars: Vec<char> = "time".chars().collect();
        for k in 0..3 {
            let (a, b) = (f.glyph_id(chars[k]), f.glyph_id(chars[k + 1]));
            let ink_a = f.outline(a).unwrap().bounds;
            let ink_b = f.outline(b).unwrap().bounds;
            // distance from a's right ink edge to b's left ink edge
            let gap = (f.h_advance_unscaled(a) + f.kern_unscaled(a, b) - ink_a.max.x + ink_b.min.x) * px;
            let measured = (r[k + 1].0 - r[k].1 - 1) as f32;
            assert!((measured - gap).abs() <= 1.0, "gap {k}: {measured} px drawn, {gap:.2} px in the font");
        }
    }

    /// Anchors: centred text is centred on its position, the advance width is the layout's.
    #[test]
    fn text_size_is_the_layout_advance() {
        let (glyphs, w, h) = layout("P_max", 15.0);
        assert_eq!(glyphs.len(), 5);
        assert!(glyphs.windows(2).all(|p| p[1].x > p[0].x));
        assert!((h - 15.0).abs() < 1e-3, "line height {h}");
        assert!(w > 5.0 * 5.0 && w < 5.0 * 15.0);
    }
}
