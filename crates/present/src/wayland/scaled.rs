//! Scaled presentation: the video on a **desynchronised subsurface** of the
//! toplevel with its own `wp_viewport` (viewporter.xml), the toplevel
//! surface showing a black 1×1 buffer stretched to the window size (the
//! borders). [`geometry`] has the maths; this file only sends it:
//! * `set_source` on the video viewport = the attach's
//!   [`Attached::source`] (the visible rectangle in buffer pixels: crop
//!   without copying; a rectangle outside the buffer is replaced by the
//!   whole buffer with a warning, since the protocol would otherwise raise
//!   `out_of_buffer`);
//! * `set_destination` = the **display size** (visible size corrected by
//!   [`vreq_frame::DecodedFrame::pixel_aspect`]: 1440x1080 with 4:3 →
//!   1920x1080; ratios capped at [`geometry::MAX_PIXEL_ASPECT`]) fitted
//!   into the window keeping aspect ([`Layout::video`], logical pixels),
//!   and `wl_subsurface.set_position` centres it;
//! * the background's viewport: `set_destination` = the window size
//!   ([`Layout::window`]).
//!
//! The black buffer is `wp_single_pixel_buffer_manager_v1`'s, else a 1×1
//! `wl_shm` XRGB8888 of 0. Buffers are never scaled or copied for this: the
//! compositor scales through the viewports.

use smithay_client_toolkit::compositor::CompositorState;
use smithay_client_toolkit::reexports::client::globals::GlobalList;
use smithay_client_toolkit::reexports::client::protocol::{
    wl_buffer, wl_shm, wl_subsurface, wl_surface,
};
use smithay_client_toolkit::reexports::client::QueueHandle;
use smithay_client_toolkit::shm::slot::{Buffer, SlotPool};
use smithay_client_toolkit::shm::Shm;
use smithay_client_toolkit::subcompositor::SubcompositorState;
use wayland_protocols::wp::viewporter::client::wp_viewport;

use super::geometry::{self, Layout, Rect};
use super::globals::{Extras, NoEvents};
use super::state::State;
use super::window::Attached;

/// Environment variable: `1` makes the window behave as if the compositor
/// had no `wp_viewporter` (unscaled video on the toplevel), to test that path.
pub const NO_VIEWPORTER_ENV: &str = "VREQPLAY_NO_VIEWPORTER";

/// The black 1×1 buffer the toplevel surface shows, stretched by its viewport.
enum Background {
    /// `wp_single_pixel_buffer_manager_v1.create_u32_rgba_buffer(0, 0, 0, max)`.
    SinglePixel(wl_buffer::WlBuffer),
    /// A 1×1 `wl_shm` XRGB8888 buffer of 0 (kept with its pool).
    Shm(
        #[allow(dead_code)] // never read: kept so the buffer's memory (its pool) lives
        SlotPool,
        Buffer,
    ),
}

/// Scaled presentation: the video on a desynchronised subsurface with its own
/// viewport, the toplevel surface black and as large as the window.
pub(super) struct Scaled {
    subsurface: wl_subsurface::WlSubsurface,
    video_surface: wl_surface::WlSurface,
    video_viewport: wp_viewport::WpViewport,
    bg_viewport: wp_viewport::WpViewport,
    background: Background,
    bg_attached: bool,
    /// What the protocol objects were last set to.
    applied_source: Option<Rect>,
    applied: Option<Layout>,
}

impl Scaled {
    /// Builds the subsurface, viewports and background; `Err` says why
    /// scaling is not possible (then the video goes on the toplevel itself).
    pub(super) fn new(
        globals: &GlobalList,
        compositor: &CompositorState,
        extras: &Extras,
        shm: &Shm,
        toplevel: &wl_surface::WlSurface,
        qh: &QueueHandle<State>,
    ) -> Result<Self, String> {
        if std::env::var_os(NO_VIEWPORTER_ENV).is_some_and(|v| v == "1") {
            return Err(format!("{NO_VIEWPORTER_ENV}=1"));
        }
        let viewporter = extras
            .viewporter
            .as_ref()
            .ok_or("the compositor has no wp_viewporter")?;
        let sub = SubcompositorState::bind(compositor.wl_compositor().clone(), globals, qh)
            .map_err(|e| format!("no wl_subcompositor ({e})"))?;
        let background = match &extras.single_pixel {
            Some(m) => {
                Background::SinglePixel(m.create_u32_rgba_buffer(0, 0, 0, u32::MAX, qh, NoEvents))
            }
            None => {
                let mut pool =
                    SlotPool::new(4, shm).map_err(|e| format!("wl_shm pool for black: {e}"))?;
                let (b, canvas) = pool
                    .create_buffer(1, 1, 4, wl_shm::Format::Xrgb8888)
                    .map_err(|e| format!("wl_shm black buffer: {e}"))?;
                canvas.fill(0);
                Background::Shm(pool, b)
            }
        };
        let (subsurface, video_surface) = sub.create_subsurface(toplevel.clone(), qh);
        // desync: the video's commits apply at once, not at the toplevel's next commit
        subsurface.set_desync();
        let video_viewport = viewporter.get_viewport(&video_surface, qh, NoEvents);
        let bg_viewport = viewporter.get_viewport(toplevel, qh, NoEvents);
        Ok(Scaled {
            subsurface,
            video_surface,
            video_viewport,
            bg_viewport,
            background,
            bg_attached: false,
            applied_source: None,
            applied: None,
        })
    }

    /// The window size of the layout applied last (logical pixels).
    pub(super) fn window_size(&self) -> Option<(u32, u32)> {
        self.applied.map(|l| l.window)
    }

    /// The video subsurface's `wl_surface` (frames are attached to it).
    pub(super) fn video_surface(&self) -> &wl_surface::WlSurface {
        &self.video_surface
    }

    /// Sets the video viewport's source (`wp_viewport.set_source`, buffer
    /// pixels) for what was attached, when it changed; returns that rectangle.
    pub(super) fn set_source(&mut self, a: &Attached) -> Rect {
        let src = match geometry::viewport_source(a.buffer_size, a.source) {
            Ok(r) => r,
            Err(why) => {
                tracing::warn!("wayland: {why}; showing the whole buffer");
                Rect {
                    x: 0,
                    y: 0,
                    w: a.buffer_size.0.max(1),
                    h: a.buffer_size.1.max(1),
                }
            }
        };
        if self.applied_source != Some(src) {
            self.video_viewport
                .set_source(src.x.into(), src.y.into(), src.w.into(), src.h.into());
            self.applied_source = Some(src);
        }
        src
    }

    /// Attaches the black background to `toplevel` the first time, then
    /// applies `l` if it changed: both viewport destinations, the subsurface
    /// position, damage on the toplevel. `scale_120` and `output` are only
    /// logged. Returns whether the toplevel surface needs a commit (the video
    /// surface's own state changes take effect at its next commit).
    pub(super) fn apply_layout(
        &mut self,
        l: Layout,
        toplevel: &wl_surface::WlSurface,
        scale_120: u32,
        output: Option<(u32, u32)>,
    ) -> bool {
        let mut dirty = false;
        if !self.bg_attached {
            match &self.background {
                Background::SinglePixel(b) => toplevel.attach(Some(b), 0, 0),
                Background::Shm(_, b) => {
                    if let Err(e) = b.attach_to(toplevel) {
                        tracing::warn!("wayland: black background: {e}");
                    }
                }
            }
            toplevel.damage_buffer(0, 0, i32::MAX, i32::MAX);
            self.bg_attached = true;
            dirty = true;
        }
        if self.applied != Some(l) {
            tracing::debug!("wayland: layout {l:?} (scale {scale_120}/120, output {output:?})");
            self.bg_viewport
                .set_destination(l.window.0 as i32, l.window.1 as i32);
            self.video_viewport
                .set_destination(l.video.w as i32, l.video.h as i32);
            self.subsurface.set_position(l.video.x, l.video.y);
            toplevel.damage(0, 0, i32::MAX, i32::MAX);
            self.applied = Some(l);
            dirty = true;
        }
        dirty
    }
}
