//! The on-screen display's pixels (pure: no Wayland objects): text lines
//! and the seek bar rasterised into premultiplied ARGB canvases, the fade
//! timing, the font lookup. The window puts the canvases on `wl_shm`
//! subsurfaces above the video (`osd_planes.rs`); nothing here touches the
//! video frame.
//!
//! * **Font**: fontconfig's match for `sans-serif` (DejaVu Sans on Debian,
//!   `fonts-dejavu-core`; the `fontconfig` crate on the system
//!   libfontconfig, so the user's font configuration applies), read into
//!   memory and parsed by `ab_glyph` ([`OsdFont::system`]). ab_glyph reads
//!   each glyph's outline from the file's bytes when it is drawn: DejaVu
//!   Sans costs its 0.7 MB file; fontdue, tried first, pre-processes every
//!   glyph at load and took 19 MB of RSS for it. No font → the OSD
//!   draws its bar and boxes without text (one warning), never a panic.
//! * **Text** ([`render_text`]): white glyph coverage (ab_glyph's
//!   rasteriser, kerning applied) on a translucent black box, lines
//!   top-to-bottom — the top-left block (file name, `Paused`, `Volume: 52%`,
//!   the stats of `i`).
//! * **Seek bar** ([`render_progress`]): `HH:MM:SS / HH:MM:SS` (mpv's
//!   `show-progress` shape, [`format_hms`]) above a bar whose left part up
//!   to `position / duration` is filled white, the rest translucent black,
//!   inside a white border.
//! * **Sizes** ([`font_px`]): the font is 1/24 of the window height
//!   (logical pixels, clamped to 12–48; mpv scales its OSD with the window
//!   too), everything else in proportion; canvases are in physical pixels
//!   (logical × the integer buffer scale) so text stays sharp on HiDPI.
//! * **Fade** ([`fade_alpha`]): an OSD with `hold: Some(d)` stays opaque for
//!   `d`, then fades out over [`FADE`] in [`FADE_STEPS`] alpha steps and is
//!   detached; `hold: None` stays until replaced.
//!
//! Pixel format: `wl_shm` `ARGB8888`, premultiplied alpha (how Wayland
//! compositors blend shm buffers), one `u32` per pixel `0xAARRGGBB`.

use std::path::PathBuf;
use std::time::Duration;

use ab_glyph::{point, Font, FontVec, PxScale, PxScaleFont, ScaleFont};

/// How long the fade-out lasts after `hold`.
pub const FADE: Duration = Duration::from_millis(250);
/// Alpha steps of the fade (each a commit of the faded canvases).
pub const FADE_STEPS: u32 = 5;

/// Opacity of the black boxes behind text and of the bar's unplayed part (of 255).
pub const BOX_ALPHA: u8 = 160;

/// A parsed font (the file's bytes; glyph outlines are read from them when
/// drawn, nothing is pre-computed per glyph).
pub struct OsdFont {
    font: FontVec,
    /// Where it came from (for the log).
    pub path: PathBuf,
}

impl std::fmt::Debug for OsdFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsdFont").field("path", &self.path).finish()
    }
}

impl OsdFont {
    /// The system's `sans-serif` font through fontconfig (`FcFontMatch`),
    /// parsed. Errors: no fontconfig configuration, no match, an unreadable
    /// or unparsable file (`<path>: <reason>`).
    pub fn system() -> Result<Self, String> {
        let fc = fontconfig::Fontconfig::new().ok_or("fontconfig: cannot initialise")?;
        let m = fc
            .find("sans-serif", None)
            .ok_or("fontconfig: no match for sans-serif")?;
        let index = m.index.unwrap_or(0).max(0) as u32;
        Self::from_file(m.path, index)
    }

    /// Parses face `index` of the font file at `path` (TrueType / OpenType,
    /// or a collection).
    pub fn from_file(path: PathBuf, index: u32) -> Result<Self, String> {
        let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let font = FontVec::try_from_vec_and_index(data, index)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(OsdFont { font, path })
    }

    /// The font at an em size of `px` pixels (ab_glyph's [`PxScale`] is
    /// the ascent-to-descent height: em × height / units per em).
    fn scaled(&self, px: f32) -> PxScaleFont<&FontVec> {
        let scale = match self.font.units_per_em() {
            Some(upem) if upem > 0.0 => px * self.font.height_unscaled() / upem,
            _ => px,
        };
        self.font.as_scaled(PxScale::from(scale))
    }
}

/// A premultiplied ARGB canvas, `w × h` physical pixels, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canvas {
    pub w: u32,
    pub h: u32,
    pub px: Vec<u32>,
}

impl Canvas {
    /// Transparent.
    pub fn new(w: u32, h: u32) -> Self {
        Canvas {
            w,
            h,
            px: vec![0; w as usize * h as usize],
        }
    }

    /// The alpha of pixel (x, y).
    pub fn alpha(&self, x: u32, y: u32) -> u8 {
        (self.px[(y * self.w + x) as usize] >> 24) as u8
    }

    /// Draws `rgb` with coverage `a` (0–255) over pixel (x, y) (source-over).
    fn blend(&mut self, x: i64, y: i64, rgb: (u8, u8, u8), a: u8) {
        if a == 0 || x < 0 || y < 0 || x >= i64::from(self.w) || y >= i64::from(self.h) {
            return;
        }
        let i = (y as u32 * self.w + x as u32) as usize;
        let d = self.px[i];
        let inv = 255 - u32::from(a);
        let ch = |s: u8, shift: u32| {
            let dc = (d >> shift) & 0xff;
            (u32::from(s) * u32::from(a) + dc * inv + 127) / 255
        };
        let out_a = (u32::from(a) * 255 + ((d >> 24) & 0xff) * inv + 127) / 255;
        self.px[i] = (out_a << 24) | (ch(rgb.0, 16) << 16) | (ch(rgb.1, 8) << 8) | ch(rgb.2, 0);
    }

    /// Fills a rectangle with `rgb` at opacity `a` (clipped).
    fn fill(&mut self, x: i64, y: i64, w: i64, h: i64, rgb: (u8, u8, u8), a: u8) {
        for yy in y.max(0)..(y + h).min(i64::from(self.h)) {
            for xx in x.max(0)..(x + w).min(i64::from(self.w)) {
                self.blend(xx, yy, rgb, a);
            }
        }
    }

    /// The pixels as `wl_shm` ARGB8888 bytes (little-endian `u32`s), each
    /// multiplied by `alpha / 255` (the fade), into `out` (`w·h·4` bytes).
    pub fn write_argb8888(&self, alpha: u8, out: &mut [u8]) {
        let a = u32::from(alpha);
        for (p, o) in self.px.iter().zip(out.chunks_exact_mut(4)) {
            let v = if a == 255 {
                *p
            } else {
                let m = |shift: u32| ((((p >> shift) & 0xff) * a + 127) / 255) << shift;
                m(24) | m(16) | m(8) | m(0)
            };
            o.copy_from_slice(&v.to_le_bytes());
        }
    }
}

const WHITE: (u8, u8, u8) = (255, 255, 255);
const BLACK: (u8, u8, u8) = (0, 0, 0);

/// The OSD font size in logical pixels for a window `height` logical
/// pixels tall: 1/24 of it, clamped to 12–48.
pub fn font_px(height: u32) -> u32 {
    (height / 24).clamp(12, 48)
}

/// `HH:MM:SS` of a time in ns (negative counts as 0; mpv's OSD time format).
pub fn format_hms(ns: i64) -> String {
    let s = ns.max(0) / 1_000_000_000;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// The bar's text: `HH:MM:SS / HH:MM:SS`.
pub fn progress_text(pos_ns: i64, dur_ns: i64) -> String {
    format!("{} / {}", format_hms(pos_ns), format_hms(dur_ns))
}

/// Width of `text` at `px` (pixels, kerning applied).
fn text_width(font: &OsdFont, text: &str, px: f32) -> f32 {
    let f = font.scaled(px);
    let mut w = 0.0;
    let mut prev = None;
    for ch in text.chars() {
        let id = f.glyph_id(ch);
        if let Some(p) = prev {
            w += f.kern(p, id);
        }
        w += f.h_advance(id);
        prev = Some(id);
    }
    w
}

/// (ascent, line height) at `px`.
fn line_metrics(font: &OsdFont, px: f32) -> (f32, f32) {
    let f = font.scaled(px);
    let line = f.height() + f.line_gap();
    (f.ascent(), line.max(px))
}

/// Draws `text` in white with its baseline at (x, baseline).
fn draw_text(c: &mut Canvas, font: &OsdFont, text: &str, px: f32, x: f32, baseline: f32) {
    let f = font.scaled(px);
    let mut pen = x;
    let mut prev = None;
    for ch in text.chars() {
        let id = f.glyph_id(ch);
        if let Some(p) = prev {
            pen += f.kern(p, id);
        }
        let glyph = id.with_scale_and_position(f.scale(), point(pen, baseline));
        if let Some(og) = f.outline_glyph(glyph) {
            let b = og.px_bounds();
            let (gx, gy) = (b.min.x as i64, b.min.y as i64);
            og.draw(|dx, dy, cov| {
                let a = (cov.clamp(0.0, 1.0) * 255.0).round() as u8;
                c.blend(gx + i64::from(dx), gy + i64::from(dy), WHITE, a);
            });
        }
        pen += f.h_advance(id);
        prev = Some(id);
    }
}

/// Most characters of one line drawn (longer lines are cut; bounded work).
pub const MAX_LINE_CHARS: usize = 200;
/// Most lines drawn.
pub const MAX_LINES: usize = 24;

/// The top-left text block: `lines` in white on a translucent black box, at
/// `font_px` logical pixels × `scale` (the integer buffer scale), no larger
/// than `max` (w, h) physical pixels (longer lines are cut, lines that do
/// not fit left out). `None` without lines, without a font, or without
/// room for one line.
pub fn render_text(
    lines: &[String],
    font: Option<&OsdFont>,
    font_px: u32,
    scale: u32,
    max: (u32, u32),
) -> Option<Canvas> {
    let font = font?;
    let px = (font_px * scale.max(1)) as f32;
    let pad = (px * 0.3).ceil();
    let (ascent, line_h) = line_metrics(font, px);
    let room = ((max.1 as f32 - 2.0 * pad) / line_h).floor().max(0.0) as usize;
    let lines: Vec<String> = lines
        .iter()
        .take(MAX_LINES.min(room))
        .map(|l| l.chars().take(MAX_LINE_CHARS).collect())
        .collect();
    if lines.is_empty() {
        return None;
    }
    let max_w = max.0;
    let widest = lines
        .iter()
        .map(|l| text_width(font, l, px))
        .fold(0.0f32, f32::max);
    let w = ((widest + 2.0 * pad).ceil() as u32).clamp(1, max_w.max(1));
    let h = (line_h * lines.len() as f32 + 2.0 * pad).ceil().max(1.0) as u32;
    let mut c = Canvas::new(w, h);
    c.fill(0, 0, w.into(), h.into(), BLACK, BOX_ALPHA);
    for (i, l) in lines.iter().enumerate() {
        draw_text(&mut c, font, l, px, pad, pad + ascent + i as f32 * line_h);
    }
    Some(c)
}

/// Where the bar sits in a [`render_progress`] canvas: (x, y, w, h) of the
/// bar's inside (the fillable part), physical pixels.
pub fn bar_inner(w: u32, h: u32, font_px: u32, scale: u32) -> (u32, u32, u32, u32) {
    let s = scale.max(1);
    let margin = font_px * s;
    let bar_h = (font_px * s * 2 / 3).max(4);
    let border = s.max(font_px * s / 16).max(1);
    let x = margin.min(w / 4) + border;
    let inner_w = w.saturating_sub(2 * x).max(1);
    let y = h.saturating_sub(bar_h) + border;
    let inner_h = bar_h.saturating_sub(2 * border).max(1);
    (x, y, inner_w, inner_h)
}

/// The seek-bar plane, `w` physical pixels wide (the window's width): the
/// time text (if a font) on a box above a bar filled up to
/// `pos_ns / dur_ns` (clamped to 0–1; a duration ≤ 0 fills nothing).
pub fn render_progress(
    pos_ns: i64,
    dur_ns: i64,
    font: Option<&OsdFont>,
    font_px: u32,
    scale: u32,
    w: u32,
) -> Canvas {
    let s = scale.max(1);
    let px = (font_px * s) as f32;
    let pad = (px * 0.3).ceil();
    let text_h = match font {
        Some(f) => (line_metrics(f, px).1 + 2.0 * pad).ceil() as u32,
        None => 0,
    };
    let bar_h = (font_px * s * 2 / 3).max(4);
    let gap = (px * 0.3) as u32;
    let h = text_h + gap + bar_h;
    let w = w.max(1);
    let mut c = Canvas::new(w, h);
    let (ix, iy, iw, ih) = bar_inner(w, h, font_px, s);
    let border = iy - (h - bar_h);
    // border (white), inside: unplayed translucent black, played white
    let (bx, by) = (i64::from(ix - border), i64::from(iy - border));
    let (bw, bh) = (i64::from(iw + 2 * border), i64::from(ih + 2 * border));
    c.fill(bx, by, bw, bh, WHITE, 255);
    c.px_fill_clear(ix, iy, iw, ih);
    c.fill(ix.into(), iy.into(), iw.into(), ih.into(), BLACK, BOX_ALPHA);
    let frac = if dur_ns > 0 {
        (pos_ns.max(0) as f64 / dur_ns as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let filled = (f64::from(iw) * frac).round() as i64;
    c.fill(ix.into(), iy.into(), filled, ih.into(), WHITE, 255);
    if let Some(f) = font {
        let text = progress_text(pos_ns, dur_ns);
        let tw = text_width(f, &text, px);
        let box_w = tw + 2.0 * pad;
        let x0 = (f64::from(w) / 2.0 - f64::from(box_w) / 2.0).max(0.0) as i64;
        c.fill(x0, 0, box_w.ceil() as i64, text_h.into(), BLACK, BOX_ALPHA);
        let (ascent, _) = line_metrics(f, px);
        draw_text(&mut c, f, &text, px, x0 as f32 + pad, pad + ascent);
    }
    c
}

impl Canvas {
    /// This canvas grown (transparent) to multiples of `n` pixels each way.
    pub fn padded_to(self, n: u32) -> Canvas {
        let n = n.max(1);
        let (w, h) = (self.w.div_ceil(n) * n, self.h.div_ceil(n) * n);
        if (w, h) == (self.w, self.h) {
            return self;
        }
        let mut c = Canvas::new(w, h);
        for y in 0..self.h {
            let src = &self.px[(y * self.w) as usize..][..self.w as usize];
            c.px[(y * w) as usize..][..self.w as usize].copy_from_slice(src);
        }
        c
    }

    /// Makes a rectangle transparent again.
    fn px_fill_clear(&mut self, x: u32, y: u32, w: u32, h: u32) {
        for yy in y..(y + h).min(self.h) {
            for xx in x..(x + w).min(self.w) {
                self.px[(yy * self.w + xx) as usize] = 0;
            }
        }
    }
}

/// The OSD's opacity `elapsed` after it was set: 255 during `hold`, then
/// [`FADE_STEPS`] decreasing steps over [`FADE`], then `None` (detach).
/// `hold: None`: always 255. Also returns when the value changes next.
pub fn fade_alpha(elapsed: Duration, hold: Option<Duration>) -> (Option<u8>, Option<Duration>) {
    let Some(hold) = hold else {
        return (Some(255), None);
    };
    if elapsed < hold {
        return (Some(255), Some(hold));
    }
    let into = elapsed - hold;
    if into >= FADE {
        return (None, None);
    }
    let step_len = FADE / FADE_STEPS;
    let k = (into.as_nanos() / step_len.as_nanos().max(1)) as u32;
    let k = k.min(FADE_STEPS - 1);
    let alpha = 255 * (FADE_STEPS - k) / (FADE_STEPS + 1);
    (Some(alpha as u8), Some(hold + step_len * (k + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn font() -> OsdFont {
        OsdFont::system().unwrap_or_else(|e| {
            panic!("no system font ({e}); scripts/setup-host.sh installs fonts-dejavu-core")
        })
    }

    fn covered(c: &Canvas, x0: u32, y0: u32, w: u32, h: u32) -> usize {
        let mut n = 0;
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                let p = c.px[(y * c.w + x) as usize];
                // white-ish text over the box: red channel well above the box's black
                if (p >> 16) & 0xff > 128 {
                    n += 1;
                }
            }
        }
        n
    }

    #[test]
    fn fontconfig_finds_a_sans_font() {
        let f = font();
        assert!(f.path.exists(), "{:?}", f.path);
    }

    #[test]
    fn text_has_glyph_coverage_and_grows_with_the_text() {
        let f = font();
        let big = (4000, 4000);
        let one = render_text(&["Paused".into()], Some(&f), 20, 1, big).unwrap();
        let two = render_text(
            &["Paused".into(), "Volume: 52%".into()],
            Some(&f),
            20,
            1,
            big,
        )
        .unwrap();
        assert!(
            two.h > one.h && two.w > one.w,
            "{}x{} vs {}x{}",
            two.w,
            two.h,
            one.w,
            one.h
        );
        let lit = covered(&one, 0, 0, one.w, one.h);
        // "Paused" at 20 px: strokes cover a few hundred pixels, the box does not count
        assert!(
            lit > 100 && lit < (one.w * one.h / 2) as usize,
            "{lit} of {}x{}",
            one.w,
            one.h
        );
        // the box is translucent black where there is no glyph (corner)
        assert_eq!(one.alpha(0, 0), BOX_ALPHA);
        assert_eq!(one.px[0] & 0xffffff, 0);
        // scale 2 doubles the canvas (±rounding)
        let hi = render_text(&["Paused".into()], Some(&f), 20, 2, big).unwrap();
        assert!(
            (hi.w as i64 - 2 * one.w as i64).abs() <= 2,
            "{} vs {}",
            hi.w,
            one.w
        );
        // no font, no lines: nothing
        assert!(render_text(&["Paused".into()], None, 20, 1, big).is_none());
        assert!(render_text(&[], Some(&f), 20, 1, big).is_none());
        // capped width
        let long = render_text(&["x".repeat(500)], Some(&f), 20, 1, (300, 4000)).unwrap();
        assert_eq!(long.w, 300);
        // capped height: the lines that fit (two of ten), none if not even one
        let ten: Vec<String> = (0..10).map(|i| format!("line {i}")).collect();
        let fits = render_text(&ten, Some(&f), 20, 1, (4000, two.h)).unwrap();
        assert_eq!(fits.h, two.h);
        assert!(render_text(&ten, Some(&f), 20, 1, (4000, 10)).is_none());
    }

    #[test]
    fn bar_fill_is_proportional_to_the_position() {
        let f = font();
        let w = 800;
        for (pos, dur) in [
            (0i64, 100i64),
            (25, 100),
            (50, 100),
            (75, 100),
            (100, 100),
            (150, 100),
        ] {
            let sec = 1_000_000_000;
            let c = render_progress(pos * sec, dur * sec, Some(&f), 24, 1, w);
            let (ix, iy, iw, ih) = bar_inner(c.w, c.h, 24, 1);
            // count opaque white pixels along the bar's middle row
            let y = iy + ih / 2;
            let filled = (ix..ix + iw)
                .filter(|&x| c.px[(y * c.w + x) as usize] == 0xffff_ffff)
                .count() as f64;
            let want = f64::from(iw) * (pos.min(dur) as f64 / dur as f64);
            assert!(
                (filled - want).abs() <= 1.0,
                "{pos}/{dur}: {filled} of {iw}, want {want}"
            );
            // the unplayed rest is the translucent box
            if pos < dur {
                assert_eq!(c.alpha(ix + iw - 1, y), BOX_ALPHA);
            }
        }
        // the time text sits above the bar and has glyphs
        let c = render_progress(62 * 1_000_000_000, 600 * 1_000_000_000, Some(&f), 24, 1, w);
        let (_, iy, _, _) = bar_inner(c.w, c.h, 24, 1);
        assert!(covered(&c, 0, 0, c.w, iy.saturating_sub(4)) > 100);
        // without a font: only the bar, still proportional
        let nf = render_progress(50, 100, None, 24, 1, w);
        let (ix, iy, iw, ih) = bar_inner(nf.w, nf.h, 24, 1);
        let y = iy + ih / 2;
        let filled = (ix..ix + iw)
            .filter(|&x| nf.px[(y * nf.w + x) as usize] == 0xffff_ffff)
            .count();
        assert!((filled as i64 - i64::from(iw / 2)).abs() <= 1);
        // a zero duration fills nothing
        let z = render_progress(5, 0, None, 24, 1, w);
        let (ix, iy, iw, ih) = bar_inner(z.w, z.h, 24, 1);
        let y = iy + ih / 2;
        assert!((ix..ix + iw).all(|x| z.px[(y * z.w + x) as usize] != 0xffff_ffff));
    }

    #[test]
    fn padding_keeps_pixels_and_reaches_a_multiple() {
        let mut c = Canvas::new(3, 2);
        c.px = (1..=6).collect();
        let p = c.clone().padded_to(2);
        assert_eq!((p.w, p.h), (4, 2));
        assert_eq!(p.px, vec![1, 2, 3, 0, 4, 5, 6, 0]);
        assert_eq!(c.clone().padded_to(1), c);
    }

    #[test]
    fn hms() {
        assert_eq!(format_hms(0), "00:00:00");
        assert_eq!(format_hms(62_999_999_999), "00:01:02");
        assert_eq!(
            format_hms(3_600_000_000_000 * 25 + 61_000_000_000),
            "25:01:01"
        );
        assert_eq!(format_hms(-5), "00:00:00");
        assert_eq!(
            progress_text(62_000_000_000, 600_000_000_000),
            "00:01:02 / 00:10:00"
        );
    }

    #[test]
    fn fade_holds_then_steps_down_then_detaches() {
        let ms = Duration::from_millis;
        let hold = Some(ms(1000));
        assert_eq!(fade_alpha(ms(0), hold), (Some(255), Some(ms(1000))));
        assert_eq!(fade_alpha(ms(999), hold).0, Some(255));
        let mut last = 255u8;
        let mut steps = 0;
        for t in (1000..1250).step_by(10) {
            let (a, next) = fade_alpha(ms(t), hold);
            let a = a.expect("fading");
            assert!(a <= last && a > 0, "{t} ms: {a}");
            assert!(next.unwrap() > ms(t));
            if a < last {
                steps += 1;
            }
            last = a;
        }
        assert_eq!(steps, FADE_STEPS, "distinct alpha steps");
        assert_eq!(fade_alpha(ms(1250), hold), (None, None));
        assert_eq!(fade_alpha(ms(99_999), None), (Some(255), None));
    }

    #[test]
    fn fade_scales_premultiplied_pixels() {
        let mut c = Canvas::new(2, 1);
        c.px = vec![0xffff_ffff, 0xa000_0000];
        let mut out = [0u8; 8];
        c.write_argb8888(255, &mut out);
        assert_eq!(out, [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0xa0]);
        c.write_argb8888(128, &mut out);
        assert_eq!(out, [0x80, 0x80, 0x80, 0x80, 0, 0, 0, 0x50]);
    }
}
