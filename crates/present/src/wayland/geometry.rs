//! Pure window geometry: the display size of a picture (visible size
//! corrected by its pixel aspect ratio), fitting it into a window keeping
//! aspect (centred, black borders around it), the viewport source rectangle,
//! and the initial window size. No Wayland objects here, only numbers.
//!
//! Units: *buffer pixels* are pixels of the decoder's buffer
//! (`wp_viewport.set_source` takes them); *logical pixels* are Wayland
//! surface-local coordinates (window sizes from `xdg_toplevel.configure`,
//! `wp_viewport.set_destination`, `wl_subsurface.set_position`). With a
//! fractional scale `s` (`wp_fractional_scale_v1.preferred_scale`, in 120ths)
//! one logical pixel covers `s / 120` physical pixels.
//!
//! The aspect rule is mpv's (`mp_image_params_get_dsize`, video/mp_image.c):
//! a pixel aspect ratio wider than tall widens the picture, one taller than
//! wide makes it taller; the other dimension stays the visible one.

/// Largest pixel aspect ratio (either way) applied; beyond it the ratio is
/// clamped. Real streams stay below 4 (H.264 Table E-1's largest is 160:99 ≈ 1.6;
/// anamorphic DV 2:1); a `sar_width` of 65535 over 1 would make a
/// million-pixel-wide window.
pub const MAX_PIXEL_ASPECT: u32 = 16;

/// Largest display / window dimension this module produces, in pixels (the
/// Wayland protocol carries them as `int`; compositors cap far below this).
pub const MAX_DIM: u32 = 1 << 16;

/// An axis-aligned rectangle: origin and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub w: u32,
    pub h: u32,
}

/// The picture's display size in (square) pixels: `visible` (w, h) corrected
/// by `par` (pixel aspect ratio width : height, as
/// [`vreq_frame::DecodedFrame::pixel_aspect`]). A `par` with a zero term
/// counts as square (1:1, "unspecified" in H.264 Table E-1); a ratio beyond
/// [`MAX_PIXEL_ASPECT`] is clamped to it. `None` for a zero visible size.
/// Result rounded to the nearest pixel, at least 1, at most [`MAX_DIM`].
///
/// Example: 1440x1080 with 4:3 → 1920x1080; 720x576 with 16:15 → 768x576.
pub fn display_size(visible: (u32, u32), par: (u32, u32)) -> Option<(u32, u32)> {
    let (w, h) = visible;
    if w == 0 || h == 0 {
        return None;
    }
    let (mut pw, mut ph) = (u64::from(par.0), u64::from(par.1));
    if pw == 0 || ph == 0 {
        pw = 1;
        ph = 1;
    }
    let cap = u64::from(MAX_PIXEL_ASPECT);
    if pw > ph * cap {
        pw = cap;
        ph = 1;
    } else if ph > pw * cap {
        pw = 1;
        ph = cap;
    }
    let (mut dw, mut dh) = (u64::from(w), u64::from(h));
    if pw > ph {
        dw = div_round(dw * pw, ph);
    } else if ph > pw {
        dh = div_round(dh * ph, pw);
    }
    let clamp = |v: u64| v.clamp(1, u64::from(MAX_DIM)) as u32;
    Some((clamp(dw), clamp(dh)))
}

/// `a / b` rounded to nearest (b > 0).
fn div_round(a: u64, b: u64) -> u64 {
    (a + b / 2) / b
}

/// The largest rectangle of `content`'s aspect that fits in `window`,
/// centred (the letterbox / pillarbox placement). Sizes rounded to the
/// nearest pixel, at least 1, never larger than the window; the origin is
/// the (floored) centring offset, so the borders differ by at most one pixel.
/// `None` if any size is zero.
///
/// Example: content 1920x1080 in a 1024x768 window → (0, 96) 1024x576.
pub fn fit(content: (u32, u32), window: (u32, u32)) -> Option<Rect> {
    let (cw, ch) = (u64::from(content.0), u64::from(content.1));
    let (ww, wh) = (u64::from(window.0), u64::from(window.1));
    if cw == 0 || ch == 0 || ww == 0 || wh == 0 {
        return None;
    }
    // width-limited when ww / wh <= cw / ch
    let (w, h) = if ww * ch <= wh * cw {
        (ww, div_round(ww * ch, cw).clamp(1, wh))
    } else {
        (div_round(wh * cw, ch).clamp(1, ww), wh)
    };
    Some(Rect {
        x: ((ww - w) / 2) as i32,
        y: ((wh - h) / 2) as i32,
        w: w as u32,
        h: h as u32,
    })
}

/// Checks a source rectangle (x, y, w, h in buffer pixels, as
/// the window's `Attached::source`) against the buffer size: it must be
/// non-empty and inside the buffer, else `wp_viewport` raises the protocol
/// error `out_of_buffer` (viewporter.xml, `wp_viewport.set_source`). Returns
/// the rectangle, or a description of what is wrong.
pub fn viewport_source(
    buffer_size: (u32, u32),
    source: (u32, u32, u32, u32),
) -> Result<Rect, String> {
    let (bw, bh) = buffer_size;
    let (x, y, w, h) = source;
    if w == 0 || h == 0 {
        return Err(format!("empty source rectangle {w}x{h}"));
    }
    if u64::from(x) + u64::from(w) > u64::from(bw) || u64::from(y) + u64::from(h) > u64::from(bh) {
        return Err(format!(
            "source {w}x{h}+{x}+{y} outside the {bw}x{bh} buffer"
        ));
    }
    if bw > MAX_DIM || bh > MAX_DIM {
        return Err(format!("buffer {bw}x{bh} larger than {MAX_DIM}"));
    }
    Ok(Rect {
        x: x as i32,
        y: y as i32,
        w,
        h,
    })
}

/// Converts a size in physical pixels to logical pixels at fractional scale
/// `scale_120` (120ths: 120 = 1.0, 180 = 1.5); rounded, at least 1. A zero
/// scale counts as 1.0.
pub fn to_logical(size: (u32, u32), scale_120: u32) -> (u32, u32) {
    let s = u64::from(if scale_120 == 0 { 120 } else { scale_120 });
    let f = |v: u32| div_round(u64::from(v) * 120, s).clamp(1, u64::from(MAX_DIM)) as u32;
    (f(size.0), f(size.1))
}

/// The window size (logical pixels) to choose when the compositor leaves it
/// to us (no configure yet, or a configure of 0x0): the display size shown
/// 1:1 on physical pixels (divided by the scale), shrunk keeping aspect to
/// fit `output` (the largest output's logical size, if known; mpv's autofit).
pub fn initial_window(
    display: (u32, u32),
    scale_120: u32,
    output: Option<(u32, u32)>,
) -> (u32, u32) {
    let natural = to_logical(display, scale_120);
    match output {
        Some(o) if o.0 > 0 && o.1 > 0 && (natural.0 > o.0 || natural.1 > o.1) => {
            fit(natural, o).map(|r| (r.w, r.h)).unwrap_or(natural)
        }
        _ => natural,
    }
}

/// Where everything goes for one window size and one picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Window size, logical pixels (the black background's viewport destination).
    pub window: (u32, u32),
    /// The picture inside the window, logical pixels (the video subsurface's
    /// position and viewport destination).
    pub video: Rect,
}

/// The layout for `window` (logical size; `None`: choose, see
/// [`initial_window`]) showing a picture of `display` size.
pub fn layout(
    display: (u32, u32),
    window: Option<(u32, u32)>,
    scale_120: u32,
    output: Option<(u32, u32)>,
) -> Option<Layout> {
    let window = match window {
        Some((w, h)) if w > 0 && h > 0 => (w.min(MAX_DIM), h.min(MAX_DIM)),
        _ => initial_window(display, scale_120, output),
    };
    let video = fit(display, window)?;
    Some(Layout { window, video })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anamorphic_1440x1080_par_4_3_is_1920x1080() {
        assert_eq!(display_size((1440, 1080), (4, 3)), Some((1920, 1080)));
        assert_eq!(display_size((720, 576), (16, 15)), Some((768, 576)));
        // taller pixels make the picture taller
        assert_eq!(display_size((100, 100), (1, 2)), Some((100, 200)));
        assert_eq!(display_size((1920, 1080), (1, 1)), Some((1920, 1080)));
    }

    #[test]
    fn zero_par_is_square_and_zero_size_rejected() {
        assert_eq!(display_size((640, 480), (0, 0)), Some((640, 480)));
        assert_eq!(display_size((640, 480), (0, 7)), Some((640, 480)));
        assert_eq!(display_size((0, 480), (1, 1)), None);
        assert_eq!(display_size((640, 0), (4, 3)), None);
    }

    #[test]
    fn huge_par_is_capped() {
        assert_eq!(
            display_size((100, 100), (65535, 1)),
            Some((100 * MAX_PIXEL_ASPECT, 100))
        );
        assert_eq!(
            display_size((100, 100), (1, 65535)),
            Some((100, 100 * MAX_PIXEL_ASPECT))
        );
        let (w, h) = display_size((u32::MAX, u32::MAX), (u32::MAX, 1)).unwrap();
        assert!(w <= MAX_DIM && h <= MAX_DIM);
    }

    #[test]
    fn fit_letterbox_1440x1080_par_4_3_into_1024x768() {
        let d = display_size((1440, 1080), (4, 3)).unwrap();
        assert_eq!(
            fit(d, (1024, 768)),
            Some(Rect {
                x: 0,
                y: 96,
                w: 1024,
                h: 576
            })
        );
    }

    #[test]
    fn fit_pillarbox_and_exact() {
        // 4:3 in 16:9 -> bars left and right
        assert_eq!(
            fit((640, 480), (1920, 1080)),
            Some(Rect {
                x: 240,
                y: 0,
                w: 1440,
                h: 1080
            })
        );
        assert_eq!(
            fit((320, 240), (320, 240)),
            Some(Rect {
                x: 0,
                y: 0,
                w: 320,
                h: 240
            })
        );
    }

    #[test]
    fn fit_odd_sizes_stay_inside_and_centred() {
        for &(c, win) in &[
            ((1921u32, 1081u32), (1001u32, 333u32)),
            ((3, 7), (1000, 1)),
            ((1, 1), (5, 3)),
            ((65536, 1), (7, 7)),
            ((17, 13), (640, 481)),
        ] {
            let r = fit(c, win).unwrap();
            assert!(r.w >= 1 && r.h >= 1, "{c:?} in {win:?}: {r:?}");
            assert!(r.x >= 0 && r.y >= 0);
            assert!(
                r.x as u32 + r.w <= win.0 && r.y as u32 + r.h <= win.1,
                "{r:?}"
            );
            // one side touches the window
            assert!(r.w == win.0 || r.h == win.1, "{r:?}");
            // borders differ by at most a pixel
            let (l, rr) = (r.x as u32, win.0 - r.w - r.x as u32);
            let (t, b) = (r.y as u32, win.1 - r.h - r.y as u32);
            assert!(l.abs_diff(rr) <= 1 && t.abs_diff(b) <= 1, "{r:?}");
        }
        assert_eq!(fit((0, 5), (5, 5)), None);
        assert_eq!(fit((5, 5), (5, 0)), None);
    }

    #[test]
    fn source_of_a_1088_buffer_is_the_visible_1080() {
        assert_eq!(
            viewport_source((1920, 1088), (0, 0, 1920, 1080)),
            Ok(Rect {
                x: 0,
                y: 0,
                w: 1920,
                h: 1080
            })
        );
        assert_eq!(
            viewport_source((1920, 1088), (8, 4, 1904, 1080)).map(|r| (r.x, r.y)),
            Ok((8, 4))
        );
        assert!(viewport_source((1920, 1088), (0, 0, 1920, 1089)).is_err());
        assert!(viewport_source((1920, 1088), (1, 0, 1920, 1080)).is_err());
        assert!(viewport_source((1920, 1088), (0, 0, 0, 1080)).is_err());
        assert!(viewport_source((0, 0), (0, 0, 1, 1)).is_err());
        assert!(viewport_source((10, 10), (u32::MAX, 0, 2, 2)).is_err());
    }

    #[test]
    fn initial_window_is_display_size_shrunk_to_the_output() {
        assert_eq!(initial_window((1920, 1080), 120, None), (1920, 1080));
        assert_eq!(
            initial_window((1920, 1080), 120, Some((1280, 1024))),
            (1280, 720)
        );
        assert_eq!(
            initial_window((640, 480), 120, Some((1280, 1024))),
            (640, 480)
        );
        // 2x: shown 1:1 on physical pixels = half the logical size
        assert_eq!(initial_window((1920, 1080), 240, None), (960, 540));
        assert_eq!(initial_window((1920, 1080), 180, None), (1280, 720));
        assert_eq!(to_logical((3, 3), 0), (3, 3));
        assert_eq!(to_logical((1, 1), 240), (1, 1));
    }

    #[test]
    fn layout_uses_the_configured_size_or_chooses() {
        let l = layout((1920, 1080), Some((1024, 768)), 120, None).unwrap();
        assert_eq!(l.window, (1024, 768));
        assert_eq!((l.video.y, l.video.h), (96, 576));
        let l = layout((1920, 1080), Some((0, 0)), 120, Some((960, 600))).unwrap();
        assert_eq!(l.window, (960, 540));
        assert_eq!(
            l.video,
            Rect {
                x: 0,
                y: 0,
                w: 960,
                h: 540
            }
        );
        assert_eq!(layout((0, 1080), None, 120, None), None);
    }
}
