//! The Wayland window: an xdg-shell toplevel showing decoded frames.
//!
//! Protocols (XML names): `wl_compositor`, `xdg_wm_base` (xdg-shell),
//! `wl_shm`, `wl_seat` / `wl_keyboard`; optionally `zwp_linux_dmabuf_v1`
//! v3–v5 (linux-dmabuf-v1), `wp_viewporter` + `wl_subcompositor`
//! (scaling), `wp_single_pixel_buffer_manager_v1` (black borders),
//! `zxdg_decoration_manager_v1` (server-side decorations: sctk binds it and
//! sends `set_mode(server_side)` for [`WindowDecorations::RequestServer`]),
//! `zwp_idle_inhibit_manager_v1`, `wp_fractional_scale_manager_v1`,
//! `wp_content_type_manager_v1`. The optional globals found are logged at
//! info when the window opens. Built on smithay-client-toolkit (registry,
//! surfaces, subsurfaces, seat, xdg window, shm pool).
//!
//! # Two paths
//! * **Zero-copy (dmabuf)**: [`dmabuf::choose_dmabuf`] maps the frame's
//!   CAPTURE format to a DRM (fourcc, modifier) — NV12 / YUV420 / P010 / NV15
//!   with `DRM_FORMAT_MOD_LINEAR` or `DRM_FORMAT_MOD_INVALID`, NC12 → NV12 and
//!   NC30 → P030 with `DRM_FORMAT_MOD_BROADCOM_SAND128_COL_HEIGHT(h)` — and
//!   takes it when the compositor announced the pair (v3 `modifier` events or
//!   v4+ feedback tranches). Each CAPTURE buffer (key:
//!   [`DecodedFrame::generation`], [`DecodedFrame::capture_index`]) is wrapped
//!   once, whole (its allocated size; the visible rectangle goes to the
//!   viewport as [`Attached::source`]), in a `wl_buffer`
//!   (`zwp_linux_buffer_params_v1.add` per plane with the fd
//!   `FrameSource::dmabufs(frame)[plane.memory_plane]`). The first buffer of a
//!   configuration is created with the asynchronous `create` and its
//!   `created`/`failed` answer awaited: `failed` switches this window to the
//!   copy path (a `create_immed` failure would instead be a fatal protocol
//!   error). Once one buffer was accepted, the rest use `create_immed`. The
//!   [`DecodedFrame`] is kept until the compositor sends `wl_buffer.release`,
//!   and only then dropped — which is what gives the CAPTURE buffer back to
//!   the decoder. Nothing ever writes into a buffer the compositor holds.
//! * **Copy** (`copy.rs`; always with `--hwdec-copy`, which skips
//!   `zwp_linux_dmabuf_v1`): linear decoder formats are converted to `wl_shm`
//!   XRGB8888 by [`vreq_frame::convert`] (BT.601 limited range below 720
//!   lines, BT.709 from 720); NC12 / NC30 / NV15 are detiled / unpacked by
//!   [`vreq_frame::detile`] into a linear NV12 / P010 dmabuf from
//!   `/dev/dma_heap/system` or `/dev/udmabuf` (a pool reused after release),
//!   else a `wl_shm` NV12 buffer, else XRGB8888 (see `copy::fallback_plan`).
//!   The frame is dropped right after the copy.
//!
//! # Pacing
//! The player hands each frame over [`Sink::lead`] before its due time;
//! [`Sink::show`] asks the scheduler in [`pacing`] when to commit it (after
//! the last predicted vblank before due, from `wp_presentation` feedback; at
//! due without it), waits for that while handling events, or drops the frame
//! when it is late (counted in [`WindowStats::dropped`] too; its buffer goes
//! straight back to the decoder). Each commit asks for its
//! `wp_presentation_feedback` (without `wp_presentation`: a `wl_surface.frame`
//! callback, one commit in flight). [`Sink::dispatch`] reads and handles
//! events without blocking; [`Sink::finish`] waits (at most
//! [`pacing::FINISH_WAIT`]) for the outstanding answers so that
//! [`Sink::present_stats`] adds up (`presented + dropped` = frames shown).
//!
//! # Geometry ([`geometry`] has the maths and its tests)
//! With `wp_viewporter` and `wl_subcompositor` the video goes on a
//! **desynchronised subsurface** of the toplevel with its own `wp_viewport`:
//! * `set_source` = the attach's [`Attached::source`] (the visible
//!   rectangle in buffer pixels: crop without copying; a rectangle outside
//!   the buffer is replaced by the whole buffer with a warning, since the
//!   protocol would otherwise raise `out_of_buffer`);
//! * `set_destination` = the **display size** (visible size corrected by
//!   [`DecodedFrame::pixel_aspect`]: 1440x1080 with 4:3 → 1920x1080; ratios
//!   capped at [`geometry::MAX_PIXEL_ASPECT`]) fitted into the window keeping
//!   aspect, and `wl_subsurface.set_position` centres it.
//!
//! The toplevel surface itself shows a **black 1×1 buffer**
//! (`wp_single_pixel_buffer_manager_v1`, else a 1×1 `wl_shm` XRGB8888 of 0)
//! stretched by its own viewport to the window size: the borders. The window
//! size is the last `xdg_toplevel.configure` size; when the compositor leaves
//! it to us (0x0, or before any sized configure) it is the display size in
//! logical pixels (divided by the preferred scale: `wp_fractional_scale_v1`,
//! else `wl_surface.preferred_buffer_scale`), shrunk keeping aspect to fit
//! the largest output (mpv's autofit). All sizes given to the protocol are
//! logical (surface-local) pixels; buffers are never scaled or copied for
//! this, the compositor scales through the viewports.
//!
//! Without `wp_viewporter` (or `wl_subcompositor`) the frames go on the
//! toplevel surface unscaled (also with `VREQPLAY_NO_VIEWPORTER=1`, for
//! tests; the window takes the buffer's size; the
//! compositor places it in a larger configure) and the reason is logged.
//! Every configure is answered by a commit (sctk sends `ack_configure`; the
//! commit makes it take effect): weston's kiosk shell re-configures the
//! toplevel right after it maps it, and without that commit the surface was
//! not shown. Nothing is committed before the first frame (an xdg toplevel
//! maps with its first buffer).
//!
//! # Window
//! Title and app id from [`WindowOptions`] (`vreqplay — <file name>`);
//! [`WindowOptions::fullscreen`] asks `set_fullscreen` before the first commit.
//! `zwp_idle_inhibitor_v1` on the toplevel surface while playing (from the
//! first frame; destroyed while paused and by [`Sink::finish`]).
//! `wp_content_type_v1` `video` on both surfaces, when available.
//!
//! # Keys ([`input`])
//! `space` → [`UserCommand::TogglePause`], `q` / `Esc` →
//! [`UserCommand::Quit`] (both through [`Sink::take_commands`]), `f` toggles
//! fullscreen (`set_fullscreen` / `unset_fullscreen` from the last
//! configure's state). Keys are raw evdev codes from `wl_keyboard.key`
//! (no xkbcommon): physical US-QWERTY positions, whatever the layout
//! (on AZERTY, quit is the key labelled `A`).
//!
//! # Tested
//! Unit tests cover the pure parts (format table, modifier choice, plane
//! offsets with crop; display size, fit/centre, source rectangle, initial
//! size in [`geometry`]; key mapping in [`input`]; the colour conversion in
//! `frame::convert`).
//! `tests/vm/window-test.sh` runs `examples/wl_pattern` (the real engine with
//! a fake device) against weston 14 headless-GL in the VM through both paths
//! and checks the screenshots' pixels (`tests/vm/check-pattern.py`).
//!
//! # Errors
//! Nothing here panics on compositor behaviour: connection and protocol
//! errors become [`PresentError::Wayland`] (with the protocol error's
//! interface, code and message), the close button [`PresentError::Closed`].

use std::path::Path;
use std::time::Duration;

use super::{FrameSource, PresentError, Sink, UserCommand};
use vreq_frame::DecodedFrame;
use vreq_frame::PixelFormat;

mod copy;
pub mod dmabuf;
mod event_loop;
pub mod geometry;
mod globals;
pub mod input;
mod linux_dmabuf;
pub mod pacing;
mod scaled;
mod state;
mod window;
mod zero_copy;

use copy::CopyPath;
pub use copy::SHM_BUFFERS;
use dmabuf::DmabufFormats;
use state::State;
pub use window::SETUP_TIMEOUT;
use window::{Attached, Window};
use zero_copy::{Refused, ZeroCopy};

/// Most decoder frames the compositor may hold (committed, not yet
/// `wl_buffer.release`d) before further frames are dropped instead of
/// committed: one on screen, up to two queued ([`pacing::MAX_IN_FLIGHT`]), one
/// being released. Keeps a stalled compositor from taking every CAPTURE
/// buffer (the engine allots [`vreq_engine::CAPTURE_HEADROOM`] beyond the DPB).
pub const MAX_HELD_FRAMES: usize = 4;

/// How to open the window.
#[derive(Debug, Clone)]
pub struct WindowOptions {
    /// `xdg_toplevel.set_title`.
    pub title: String,
    /// `xdg_toplevel.set_app_id`.
    pub app_id: String,
    /// Never use `zwp_linux_dmabuf_v1`, always copy into `wl_shm` buffers.
    pub force_shm: bool,
    /// After the first accepted import, create further dmabuf `wl_buffer`s with
    /// `create_immed` (true, default) or keep using `create` + waiting for `created`.
    pub dmabuf_immed: bool,
    /// Ask for fullscreen at start (`xdg_toplevel.set_fullscreen`).
    pub fullscreen: bool,
}

impl WindowOptions {
    /// Title `vreqplay — <file name>`, app id `vreqplay`, dmabuf allowed.
    pub fn for_input(input: &Path) -> Self {
        let name = input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| input.display().to_string());
        WindowOptions {
            title: format!("vreqplay — {name}"),
            app_id: "vreqplay".into(),
            force_shm: false,
            dmabuf_immed: true,
            fullscreen: false,
        }
    }
}

/// Opens a toplevel window titled `vreqplay — <file name of input>`.
/// Errors: no compositor (`WAYLAND_DISPLAY`), a missing required global
/// (`wl_compositor`, `xdg_wm_base`, `wl_shm`), no configure within [`SETUP_TIMEOUT`].
pub fn open_window(input: &Path) -> Result<Box<dyn Sink>, PresentError> {
    Ok(Box::new(WaylandSink::open(&WindowOptions::for_input(
        input,
    ))?))
}

/// Opens a window with explicit [`WindowOptions`].
pub fn open_window_with(opts: &WindowOptions) -> Result<Box<dyn Sink>, PresentError> {
    Ok(Box::new(WaylandSink::open(opts)?))
}

/// Counters of what the window did (for logs and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowStats {
    /// Frames committed through dmabuf `wl_buffer`s (zero-copy).
    pub shown_dmabuf: u64,
    /// Frames committed through `wl_shm` copies.
    pub shown_shm: u64,
    /// Frames not committed: dropped by the pacer (late, or too many commits
    /// unanswered; see [`pacing`]) or because every shm buffer was still held.
    pub dropped: u64,
    /// dmabuf `wl_buffer`s created (one per CAPTURE buffer and configuration).
    pub dmabuf_buffers: u64,
    /// `wl_buffer.release` events for dmabuf buffers (frames given back).
    pub dmabuf_releases: u64,
    /// pts (ns) of the last frame committed, if any.
    pub last_pts_ns: Option<i64>,
}

/// Which path frames take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathChoice {
    /// Not decided yet (no frame shown).
    Undecided,
    /// Zero-copy dmabuf with this modifier.
    Dmabuf { modifier: u64 },
    /// CPU copy into `wl_shm`; the reason dmabuf is not used.
    Shm(String),
}

/// The window sink. Use through [`open_window`] or directly for its
/// [`WaylandSink::stats`] / [`WaylandSink::path`].
pub struct WaylandSink {
    /// The connection, protocol state and surfaces.
    window: Window,
    force_shm: bool,
    path: PathChoice,
    /// The pixel format `path` was chosen for.
    path_format: Option<PixelFormat>,
    /// The zero-copy path (dmabuf `wl_buffer`s of the CAPTURE buffers).
    zero_copy: ZeroCopy,
    /// The copy path (detile / convert into linear dmabufs or `wl_shm`).
    copy: CopyPath,
}

impl WaylandSink {
    /// Connects (`WAYLAND_DISPLAY`), binds the globals, maps the toplevel and
    /// waits for its first configure. See [`open_window`] for errors.
    pub fn open(opts: &WindowOptions) -> Result<Self, PresentError> {
        Ok(WaylandSink {
            window: Window::open(opts)?,
            force_shm: opts.force_shm,
            path: PathChoice::Undecided,
            path_format: None,
            zero_copy: ZeroCopy::new(opts.dmabuf_immed),
            copy: CopyPath::new(opts.force_shm),
        })
    }

    /// What the window did so far.
    pub fn stats(&self) -> WindowStats {
        self.window.state.stats
    }

    /// The path frames take (decided at the first frame).
    pub fn path(&self) -> &PathChoice {
        &self.path
    }

    /// The (fourcc, modifier) pairs the compositor announced.
    pub fn dmabuf_formats(&self) -> &DmabufFormats {
        &self.window.state.dmabuf.formats
    }

    /// Decides the path for a frame of this format (once per pixel format —
    /// a stream may switch between 8 and 10 bits at a reconfiguration — or
    /// again after a dmabuf failure).
    pub(super) fn choose_path(&mut self, frame: &DecodedFrame) {
        let pf = frame.format.pixel_format;
        if self.path != PathChoice::Undecided && self.path_format == Some(pf) {
            return;
        }
        self.path_format = Some(pf);
        let mut fourcc = pf.drm_fourcc();
        self.path = if self.force_shm {
            PathChoice::Shm("dmabuf disabled by option".into())
        } else if self.window.state.dmabuf.global.is_none() {
            PathChoice::Shm("compositor has no zwp_linux_dmabuf_v1".into())
        } else {
            match dmabuf::choose_dmabuf(&self.window.state.dmabuf.formats, &frame.format) {
                Ok((f, modifier)) => {
                    fourcc = f;
                    PathChoice::Dmabuf { modifier }
                }
                Err(why) => PathChoice::Shm(why),
            }
        };
        let name = String::from_utf8_lossy(&fourcc.to_le_bytes()).into_owned();
        match &self.path {
            PathChoice::Dmabuf { modifier } => {
                tracing::info!(
                    "wayland: zero-copy: {name} dmabufs, modifier {modifier:#x}{}",
                    if self
                        .window
                        .state
                        .dmabuf
                        .formats
                        .is_scanout(fourcc, *modifier)
                    {
                        " (in a scanout tranche)"
                    } else {
                        ""
                    }
                )
            }
            PathChoice::Shm(why) => {
                tracing::info!("wayland: copying {pf:?} frames on the CPU: {why}")
            }
            PathChoice::Undecided => {}
        }
    }

    /// Attaches `frame` to the video surface through the chosen path: zero-copy
    /// (a frame it refuses goes to the copy path; with a reason, so do all
    /// further frames), else the copy path. `Ok(None)`: no free buffer, the
    /// frame was dropped.
    fn attach(
        &mut self,
        frame: DecodedFrame,
        src: &dyn FrameSource,
    ) -> Result<Option<Attached>, PresentError> {
        let frame = match self.path {
            PathChoice::Dmabuf { modifier } => {
                match self
                    .zero_copy
                    .attach(&mut self.window, frame, src, modifier)?
                {
                    Ok(a) => return Ok(Some(a)),
                    Err(Refused { frame, why }) => {
                        if let Some(why) = why {
                            self.path = PathChoice::Shm(why);
                        }
                        frame
                    }
                }
            }
            _ => frame,
        };
        self.copy.attach(&mut self.window, frame, src)
    }
}

impl Sink for WaylandSink {
    fn show(
        &mut self,
        frame: DecodedFrame,
        src: &dyn FrameSource,
        due: Option<std::time::Instant>,
    ) -> Result<(), PresentError> {
        self.window.pump(Duration::ZERO)?;
        if self.window.state.closed {
            return Err(PresentError::Closed);
        }
        // pacing: wait for the commit time, or drop (pacing.rs)
        let pts_ns = frame.pts_ns;
        let Some(due_ns) = pacing::pace(&mut self.window, pts_ns, due)? else {
            return Ok(());
        };
        self.choose_path(&frame);
        if matches!(self.path, PathChoice::Dmabuf { .. })
            && self.window.state.dmabuf_buffers.held() >= MAX_HELD_FRAMES
        {
            // A compositor that stops releasing (weston under TCG froze for seconds) must
            // not collect CAPTURE buffers until the decoder starves: drop instead.
            tracing::debug!(
                "wayland: frame pts {pts_ns} ns dropped: the compositor holds {MAX_HELD_FRAMES} unreleased frames"
            );
            self.window.state.pacing.no_buffer(pts_ns, due_ns);
            return Ok(());
        }
        let display =
            geometry::display_size((frame.visible.2, frame.visible.3), frame.pixel_aspect);
        let Some(attached) = self.attach(frame, src)? else {
            self.window.state.pacing.no_buffer(pts_ns, due_ns);
            return Ok(());
        };
        self.window.set_source(&attached, display);
        self.window.commit_video(pts_ns, due_ns)
    }

    fn lead(&self) -> Duration {
        self.window.state.pacing.lead()
    }

    fn present_stats(&self) -> Option<super::PresentStats> {
        Some(
            self.window
                .state
                .pacing
                .present_stats(&self.window.state.stats),
        )
    }

    fn dispatch(&mut self) -> Result<(), PresentError> {
        self.window.pump(Duration::ZERO)?;
        if self.window.state.closed {
            return Err(PresentError::Closed);
        }
        Ok(())
    }

    fn take_commands(&mut self) -> Vec<UserCommand> {
        let c = std::mem::take(&mut self.window.state.commands);
        if !c.is_empty() {
            self.window.update_inhibitor();
        }
        c
    }

    fn finish(&mut self) -> Result<(), PresentError> {
        pacing::finish(&mut self.window)?;
        self.window.state.finished = true;
        self.window.update_inhibitor();
        self.window.flush();
        let s = self.window.state.stats;
        tracing::info!(
            "wayland: {} frames zero-copy ({} dmabuf wl_buffers, {} releases), {} copied, {} dropped",
            s.shown_dmabuf,
            s.dmabuf_buffers,
            s.dmabuf_releases,
            s.shown_shm,
            s.dropped
        );
        Ok(())
    }
}

impl Drop for WaylandSink {
    fn drop(&mut self) {
        self.window.state.dmabuf_buffers.destroy_all();
        self.window.flush();
    }
}
