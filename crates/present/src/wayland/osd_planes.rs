//! The OSD on screen: two desynchronised `wl_subsurface`s of the toplevel
//! above the video (created after the video's subsurface, so stacked above
//! it), each with its own `wl_shm` ARGB8888 buffer (premultiplied alpha) and
//! an empty input region (clicks and motion go to the window below): the
//! **text** plane at the top-left, the **bar** plane across the window's
//! width at the bottom. [`super::osd`] draws their pixels; this file sizes,
//! places, fades and detaches them. The video's buffers are never touched.
//!
//! The font is looked up on a thread at open ([`OsdFont::system`]:
//! fontconfig's first call reads its cache or scans the fonts) so the window
//! does not wait for it; until it is there the OSD draws without text.
//!
//! Buffers are `logical size × the integer buffer scale` physical pixels
//! with `wl_surface.set_buffer_scale` (the fractional scale rounded up: the
//! compositor scales down a little rather than up). A plane is detached
//! (null buffer) when the OSD is hidden or has faded out. Positions
//! (`wl_subsurface.set_position`) take effect at the toplevel's next commit,
//! which [`OsdPlanes::update`] asks for by returning `true`.

use std::time::Instant;

use smithay_client_toolkit::compositor::{CompositorState, Region};
use smithay_client_toolkit::reexports::client::globals::GlobalList;
use smithay_client_toolkit::reexports::client::protocol::{wl_shm, wl_subsurface, wl_surface};
use smithay_client_toolkit::reexports::client::QueueHandle;
use smithay_client_toolkit::shm::slot::{Buffer, SlotPool};
use smithay_client_toolkit::shm::Shm;
use smithay_client_toolkit::subcompositor::SubcompositorState;

use super::osd::{self, Canvas, OsdFont};
use super::state::State;
use crate::Osd;

/// Margin between the window's edge and the planes (logical pixels, per
/// font pixel: `font_px / 2`).
fn margin(font_px: u32) -> u32 {
    font_px / 2
}

/// One subsurface with its buffer.
struct Plane {
    subsurface: wl_subsurface::WlSubsurface,
    surface: wl_surface::WlSurface,
    pool: Option<SlotPool>,
    /// The buffer attached now (kept until the next one is; sctk destroys a
    /// dropped buffer once the compositor releases it).
    current: Option<Buffer>,
    position: Option<(i32, i32)>,
}

impl Plane {
    fn new(
        compositor: &CompositorState,
        sub: &SubcompositorState,
        parent: &wl_surface::WlSurface,
        qh: &QueueHandle<State>,
    ) -> Self {
        let (subsurface, surface) = sub.create_subsurface(parent.clone(), qh);
        // its commits apply at once, not at the parent's next commit
        subsurface.set_desync();
        match Region::new(compositor) {
            // empty input region: pointer events go to the surfaces below
            Ok(r) => surface.set_input_region(Some(r.wl_region())),
            Err(e) => tracing::warn!("wayland: OSD input region: {e}"),
        }
        Plane {
            subsurface,
            surface,
            pool: None,
            current: None,
            position: None,
        }
    }

    /// Shows `canvas` (faded to `alpha`) at logical `pos` with buffer scale
    /// `scale`. Returns whether the position changed (the parent must commit).
    fn show(
        &mut self,
        shm: &Shm,
        canvas: &Canvas,
        alpha: u8,
        scale: u32,
        pos: (i32, i32),
    ) -> Result<bool, String> {
        let (w, h) = (canvas.w as i32, canvas.h as i32);
        let stride = w * 4;
        if self.pool.is_none() {
            let size = (stride * h).max(4096) as usize;
            self.pool = Some(SlotPool::new(size, shm).map_err(|e| format!("wl_shm pool: {e}"))?);
        }
        let pool = self.pool.as_mut().expect("just set");
        let (buffer, bytes) = pool
            .create_buffer(w, h, stride, wl_shm::Format::Argb8888)
            .map_err(|e| format!("wl_shm buffer {w}x{h}: {e}"))?;
        canvas.write_argb8888(alpha, bytes);
        buffer
            .attach_to(&self.surface)
            .map_err(|e| format!("attach: {e}"))?;
        self.surface.set_buffer_scale(scale as i32);
        self.surface.damage_buffer(0, 0, w, h);
        self.surface.commit();
        self.current = Some(buffer);
        let moved = self.position != Some(pos);
        if moved {
            self.subsurface.set_position(pos.0, pos.1);
            self.position = Some(pos);
        }
        Ok(moved)
    }

    /// Detaches the buffer (the plane disappears).
    fn hide(&mut self) {
        if self.current.take().is_some() {
            self.surface.attach(None, 0, 0);
            self.surface.commit();
        }
    }
}

/// What the planes show now, to skip redrawing the same thing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Drawn {
    osd: Osd,
    alpha: u8,
    window: (u32, u32),
    scale: u32,
}

/// The font: looked up and parsed on a thread of its own at open
/// (fontconfig's first call reads its configuration and cache; slow under
/// the VM's emulation), so the window opens at once; the text appears when
/// it is ready.
enum FontLoad {
    Loading(std::thread::JoinHandle<Result<OsdFont, String>>),
    Ready(Option<OsdFont>),
}

impl FontLoad {
    /// Takes the thread's result once it finished; whether it just did.
    fn poll(&mut self) -> bool {
        let FontLoad::Loading(h) = self else {
            return false;
        };
        if !h.is_finished() {
            return false;
        }
        let FontLoad::Loading(h) = std::mem::replace(self, FontLoad::Ready(None)) else {
            return false;
        };
        let font = match h.join() {
            Ok(Ok(f)) => {
                tracing::info!("wayland: OSD font {}", f.path.display());
                Some(f)
            }
            Ok(Err(e)) => {
                tracing::warn!("wayland: OSD text off: {e}");
                None
            }
            Err(_) => {
                tracing::warn!("wayland: OSD text off: the font lookup failed");
                None
            }
        };
        *self = FontLoad::Ready(font);
        true
    }

    fn font(&self) -> Option<&OsdFont> {
        match self {
            FontLoad::Ready(f) => f.as_ref(),
            FontLoad::Loading(_) => None,
        }
    }
}

/// How often a window with an OSD up checks whether the font is ready.
const FONT_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// The OSD's two planes, its font and what it shows.
pub(super) struct OsdPlanes {
    text: Plane,
    bar: Plane,
    font: FontLoad,
    /// The OSD set last and when.
    osd: Option<(Osd, Instant)>,
    drawn: Option<Drawn>,
    /// The canvases of `drawn` (without fade), reused for the fade steps.
    canvases: (Option<Canvas>, Option<Canvas>),
    failed: bool,
}

impl OsdPlanes {
    /// Creates both (empty) planes as subsurfaces of `toplevel` and finds
    /// the font ([`OsdFont::system`]; none → text off, one warning). `Err`:
    /// no `wl_subcompositor` (then there is no OSD).
    pub(super) fn new(
        globals: &GlobalList,
        compositor: &CompositorState,
        toplevel: &wl_surface::WlSurface,
        qh: &QueueHandle<State>,
    ) -> Result<Self, String> {
        let sub = SubcompositorState::bind(compositor.wl_compositor().clone(), globals, qh)
            .map_err(|e| format!("no wl_subcompositor ({e})"))?;
        let font = match std::thread::Builder::new()
            .name("osd-font".into())
            .spawn(OsdFont::system)
        {
            Ok(h) => FontLoad::Loading(h),
            Err(e) => {
                tracing::warn!("wayland: OSD text off: no thread for the font lookup: {e}");
                FontLoad::Ready(None)
            }
        };
        Ok(OsdPlanes {
            text: Plane::new(compositor, &sub, toplevel, qh),
            bar: Plane::new(compositor, &sub, toplevel, qh),
            font,
            osd: None,
            drawn: None,
            canvases: (None, None),
            failed: false,
        })
    }

    /// Replaces what the OSD shows (`None`: hide), from `now`.
    pub(super) fn set(&mut self, osd: Option<Osd>, now: Instant) {
        self.osd = osd.map(|o| (o, now));
    }

    /// When the OSD's look changes next (a fade step), if it does.
    pub(super) fn next_change(&self) -> Option<Instant> {
        let (o, t) = self.osd.as_ref()?;
        let (_, next) = osd::fade_alpha(t.elapsed(), o.hold);
        let fade = next.map(|d| *t + d);
        let font = matches!(self.font, FontLoad::Loading(_)).then(|| Instant::now() + FONT_POLL);
        [fade, font].into_iter().flatten().min()
    }

    /// Brings the planes up to date for a window of `window` logical pixels
    /// at buffer scale `scale`: draws, fades, places or detaches. Returns
    /// whether the toplevel needs a commit (a plane moved).
    pub(super) fn update(
        &mut self,
        shm: &Shm,
        window: (u32, u32),
        scale: u32,
        now: Instant,
    ) -> bool {
        let scale = scale.max(1);
        // the font just arrived: draw again, now with text
        let font_arrived = self.font.poll();
        let alpha = match &self.osd {
            Some((o, t)) => osd::fade_alpha(now.saturating_duration_since(*t), o.hold).0,
            None => None,
        };
        let Some(alpha) = alpha else {
            if self.drawn.take().is_some() {
                tracing::debug!("wayland: OSD hidden");
                self.text.hide();
                self.bar.hide();
            }
            self.osd = None;
            return false;
        };
        let osd = self.osd.as_ref().expect("alpha implies an OSD").0.clone();
        let want = Drawn {
            osd: osd.clone(),
            alpha,
            window,
            scale,
        };
        if (self.drawn.as_ref() == Some(&want) && !font_arrived) || self.failed {
            return false;
        }
        let same_pixels = !font_arrived
            && self
                .drawn
                .as_ref()
                .is_some_and(|d| d.osd == osd && d.window == window && d.scale == scale);
        if !same_pixels {
            let fpx = osd::font_px(window.1);
            let m = margin(fpx);
            let text = osd::render_text(
                &osd.text,
                self.font.font(),
                fpx,
                scale,
                (
                    window.0.saturating_sub(2 * m).max(1) * scale,
                    window.1.saturating_sub(2 * m).max(1) * scale,
                ),
            );
            let bar = osd.progress.map(|(pos, dur)| {
                osd::render_progress(pos, dur, self.font.font(), fpx, scale, window.0 * scale)
            });
            // wl_surface: a buffer's size must be a multiple of its scale
            self.canvases = (
                text.map(|c| c.padded_to(scale)),
                bar.map(|c| c.padded_to(scale)),
            );
        }
        tracing::debug!(
            "wayland: OSD {:?} alpha {alpha} window {window:?} scale {scale}: text {:?}, bar {:?}",
            osd.text,
            self.canvases.0.as_ref().map(|c| (c.w, c.h)),
            self.canvases.1.as_ref().map(|c| (c.w, c.h)),
        );
        let mut moved = false;
        let fpx = osd::font_px(window.1);
        let m = margin(fpx) as i32;
        let result = (|| -> Result<(), String> {
            match &self.canvases.0 {
                Some(c) => moved |= self.text.show(shm, c, alpha, scale, (m, m))?,
                None => self.text.hide(),
            }
            match &self.canvases.1 {
                Some(c) => {
                    let h = (c.h / scale) as i32;
                    let y = (window.1 as i32 - h - m).max(0);
                    moved |= self.bar.show(shm, c, alpha, scale, (0, y))?;
                }
                None => self.bar.hide(),
            }
            Ok(())
        })();
        if let Err(e) = result {
            tracing::warn!("wayland: OSD off: {e}");
            self.failed = true;
            self.text.hide();
            self.bar.hide();
        }
        self.drawn = Some(want);
        moved
    }
}
