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

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use smithay_client_toolkit::compositor::CompositorState;
use smithay_client_toolkit::dispatch2::Dispatch2;
use smithay_client_toolkit::reexports::client::globals::registry_queue_init;
use smithay_client_toolkit::reexports::client::protocol::{wl_buffer, wl_shm, wl_surface};
use smithay_client_toolkit::reexports::client::{
    backend::ObjectId, Connection, DispatchError, EventQueue, QueueHandle,
};
use smithay_client_toolkit::shell::xdg::window::WindowDecorations;
use smithay_client_toolkit::shell::xdg::XdgShell;
use smithay_client_toolkit::shell::WaylandSurface;
use smithay_client_toolkit::shm::slot::{Buffer, SlotPool};
use smithay_client_toolkit::shm::Shm;

use super::{FrameSource, PresentError, Sink, UserCommand};
use vreq_frame::convert::{to_xrgb8888, ColorMatrix};
use vreq_frame::DecodedFrame;
use vreq_frame::PixelFormat;

mod copy;
pub mod dmabuf;
pub mod geometry;
mod globals;
pub mod input;
mod linux_dmabuf;
pub mod pacing;
mod scaled;
mod state;
mod window;
mod zero_copy;

use dmabuf::DmabufFormats;
use globals::Extras;
use linux_dmabuf::LinuxDmabuf;
use scaled::Scaled;
use state::State;
use zero_copy::ParamsData;

/// Most `wl_shm` buffers the copy path allocates (one on screen, one queued, one being filled).
pub const SHM_BUFFERS: usize = 3;
/// How long to wait for the compositor during setup (first configure,
/// globals, the first dmabuf `created`/`failed`).
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

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

/// What an attach put on the video surface: the buffer's size and the
/// rectangle of it to show (x, y, w, h in buffer pixels) — the viewport's
/// source (`wp_viewport.set_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attached {
    pub buffer_size: (u32, u32),
    pub source: (u32, u32, u32, u32),
}

/// The window sink. Use through [`open_window`] or directly for its
/// [`WaylandSink::stats`] / [`WaylandSink::path`].
pub struct WaylandSink {
    conn: Connection,
    queue: EventQueue<State>,
    qh: QueueHandle<State>,
    state: State,
    force_shm: bool,
    dmabuf_immed: bool,
    path: PathChoice,
    /// The pixel format `path` was chosen for.
    path_format: Option<PixelFormat>,
    /// Generation whose dmabuf import the compositor accepted (`created`).
    proven: Option<u64>,
    pool: Option<SlotPool>,
    shm_buffers: Vec<Buffer>,
    /// Buffer size in pixels of the last commit.
    size: Option<(u32, u32)>,
    /// Optional globals (viewporter, idle inhibit, …).
    extras: Extras,
    /// Video on a scaled subsurface; `None`: on the toplevel, unscaled.
    scaled: Option<Scaled>,
    /// Display size (pixels, pixel aspect applied) of the last picture.
    display: Option<(u32, u32)>,
    /// The copy path's plan, unpack scratch and linear dmabuf pool.
    copy: copy::CopyState,
}

fn wl_err(what: &str, e: impl std::fmt::Display) -> PresentError {
    PresentError::Wayland(format!("{what}: {e}"))
}

impl WaylandSink {
    /// Connects (`WAYLAND_DISPLAY`), binds the globals, maps the toplevel and
    /// waits for its first configure. See [`open_window`] for errors.
    pub fn open(opts: &WindowOptions) -> Result<Self, PresentError> {
        let conn = Connection::connect_to_env().map_err(|e| {
            PresentError::Wayland(format!(
                "cannot connect to a Wayland compositor (WAYLAND_DISPLAY={}, XDG_RUNTIME_DIR={}): {e}",
                std::env::var("WAYLAND_DISPLAY").unwrap_or_else(|_| "unset".into()),
                std::env::var("XDG_RUNTIME_DIR").unwrap_or_else(|_| "unset".into()),
            ))
        })?;
        let (globals, queue) =
            registry_queue_init::<State>(&conn).map_err(|e| wl_err("wl_registry", e))?;
        let qh = queue.handle();
        let compositor =
            CompositorState::bind(&globals, &qh).map_err(|e| wl_err("wl_compositor", e))?;
        let xdg = XdgShell::bind(&globals, &qh).map_err(|e| wl_err("xdg_wm_base", e))?;
        let shm = Shm::bind(&globals, &qh).map_err(|e| wl_err("wl_shm", e))?;
        let dmabuf = if opts.force_shm {
            LinuxDmabuf::default()
        } else {
            LinuxDmabuf::bind(&globals, &qh)
        };
        let extras = Extras::bind(&globals, &qh);
        let surface = compositor.create_surface(&qh);
        // sctk binds zxdg_decoration_manager_v1 when offered and asks for server-side mode
        let window = xdg.create_window(surface, WindowDecorations::RequestServer, &qh);
        window.set_title(opts.title.clone());
        window.set_app_id(opts.app_id.clone());
        if opts.fullscreen {
            window.set_fullscreen(None);
        }
        let scaled = match Scaled::new(
            &globals,
            &compositor,
            &extras,
            &shm,
            window.wl_surface(),
            &qh,
        ) {
            Ok(s) => Some(s),
            Err(why) => {
                tracing::info!(
                    "wayland: {why}: the video is not scaled (the window takes the picture's size)"
                );
                None
            }
        };
        window.commit();
        let state = State::new(&globals, &qh, shm, window, dmabuf);
        let mut sink = WaylandSink {
            conn,
            queue,
            qh,
            state,
            force_shm: opts.force_shm,
            dmabuf_immed: opts.dmabuf_immed,
            path: PathChoice::Undecided,
            path_format: None,
            proven: None,
            pool: None,
            shm_buffers: Vec::new(),
            size: None,
            extras,
            scaled,
            display: None,
            copy: Default::default(),
        };
        sink.setup_surface_hints();
        // v4+: ask for the default feedback (v3 sends `modifier` events on bind).
        sink.state.dmabuf.request_default_feedback(&sink.qh);
        let deadline = Instant::now() + SETUP_TIMEOUT;
        let v4 = sink.state.dmabuf.is_v4();
        let ready = sink.wait_until(deadline, |s| {
            s.configured && (!v4 || s.dmabuf.feedback_done)
        })?;
        if !ready {
            if !sink.state.configured {
                return Err(PresentError::Wayland(format!(
                    "no xdg_surface.configure within {SETUP_TIMEOUT:?} (is the compositor alive?)"
                )));
            }
            tracing::warn!(
                "wayland: no zwp_linux_dmabuf_feedback_v1.done within {SETUP_TIMEOUT:?}"
            );
        }
        // one more roundtrip so every v3 `modifier` event is in
        sink.queue
            .roundtrip(&mut sink.state)
            .map_err(|e| sink.dispatch_err(e))?;
        if let Some(e) = &sink.state.dmabuf.feedback_error {
            tracing::warn!("wayland: dmabuf feedback: {e}");
        }
        tracing::info!(
            "wayland: window up; zwp_linux_dmabuf_v1 {}; {} format/modifier pairs ({} formats){}",
            sink.state.dmabuf.version_text(),
            sink.state.dmabuf.formats.len(),
            sink.state.dmabuf.formats.fourccs(),
            sink.state
                .dmabuf
                .formats
                .main_device
                .map(|d| {
                    use nix::sys::stat::{major, minor};
                    format!("; feedback main device {}:{}", major(d), minor(d))
                })
                .unwrap_or_default()
        );
        Ok(sink)
    }

    /// What the window did so far.
    pub fn stats(&self) -> WindowStats {
        self.state.stats
    }

    /// The path frames take (decided at the first frame).
    pub fn path(&self) -> &PathChoice {
        &self.path
    }

    /// The (fourcc, modifier) pairs the compositor announced.
    pub fn dmabuf_formats(&self) -> &DmabufFormats {
        &self.state.dmabuf.formats
    }

    fn dispatch_err(&self, e: DispatchError) -> PresentError {
        match self.conn.protocol_error() {
            Some(p) => PresentError::Wayland(format!(
                "protocol error on {}@{}: code {}: {}",
                p.object_interface, p.object_id, p.code, p.message
            )),
            None => wl_err("connection", e),
        }
    }

    /// Flushes requests, reads events for at most `timeout`, handles them.
    fn pump(&mut self, timeout: Duration) -> Result<(), PresentError> {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        self.queue
            .dispatch_pending(&mut self.state)
            .map_err(|e| self.dispatch_err(e))?;
        if let Err(e) = self.conn.flush() {
            let would_block = matches!(&e, smithay_client_toolkit::reexports::client::backend::WaylandError::Io(io)
                if io.kind() == std::io::ErrorKind::WouldBlock);
            if !would_block {
                return Err(match self.conn.protocol_error() {
                    Some(_) => self.dispatch_err(DispatchError::Backend(e)),
                    None => wl_err("flush", e),
                });
            }
        }
        if let Some(guard) = self.queue.prepare_read() {
            let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
            let readable = {
                let fd = guard.connection_fd();
                let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
                match poll(
                    &mut fds,
                    PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
                ) {
                    Ok(n) => n > 0,
                    Err(nix::errno::Errno::EINTR) => false,
                    Err(e) => return Err(wl_err("poll", e)),
                }
            };
            if readable {
                if let Err(e) = guard.read() {
                    let would_block = matches!(&e, smithay_client_toolkit::reexports::client::backend::WaylandError::Io(io)
                        if io.kind() == std::io::ErrorKind::WouldBlock);
                    if !would_block {
                        return Err(self.dispatch_err(DispatchError::Backend(e)));
                    }
                }
            }
        }
        self.queue
            .dispatch_pending(&mut self.state)
            .map_err(|e| self.dispatch_err(e))?;
        self.after_events();
        Ok(())
    }

    /// Pumps events until `cond` holds or `deadline` passes; returns whether it held.
    fn wait_until(
        &mut self,
        deadline: Instant,
        cond: impl Fn(&State) -> bool,
    ) -> Result<bool, PresentError> {
        loop {
            if cond(&self.state) {
                return Ok(true);
            }
            if self.state.closed {
                return Err(PresentError::Closed);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            self.pump((deadline - now).min(Duration::from_millis(100)))?;
        }
    }

    /// The surface frames are attached to.
    pub(super) fn video_surface(&self) -> &wl_surface::WlSurface {
        match &self.scaled {
            Some(s) => s.video_surface(),
            None => self.state.toplevel.wl_surface(),
        }
    }
}

impl Sink for WaylandSink {
    fn show(
        &mut self,
        frame: DecodedFrame,
        src: &dyn FrameSource,
        due: Option<std::time::Instant>,
    ) -> Result<(), PresentError> {
        self.pump(Duration::ZERO)?;
        if self.state.closed {
            return Err(PresentError::Closed);
        }
        // pacing: wait for the commit time, or drop (pacing.rs)
        let pts_ns = frame.pts_ns;
        let Some(due_ns) = self.pace(pts_ns, due)? else {
            return Ok(());
        };
        self.choose_path(&frame);
        if matches!(self.path, PathChoice::Dmabuf { .. })
            && self.state.dmabuf_buffers.held() >= MAX_HELD_FRAMES
        {
            // A compositor that stops releasing (weston under TCG froze for seconds) must
            // not collect CAPTURE buffers until the decoder starves: drop instead.
            tracing::debug!(
                "wayland: frame pts {pts_ns} ns dropped: the compositor holds {MAX_HELD_FRAMES} unreleased frames"
            );
            self.pace_no_buffer(pts_ns, due_ns);
            return Ok(());
        }
        let display =
            geometry::display_size((frame.visible.2, frame.visible.3), frame.pixel_aspect);
        let (frame, mut attached) = match self.path.clone() {
            PathChoice::Dmabuf { modifier } => match self.attach_dmabuf(frame, src, modifier)? {
                Ok(a) => (None, Some(a)),
                Err(f) => (Some(f), None),
            },
            _ => (Some(frame), None),
        };
        if let Some(frame) = frame {
            attached = self.attach_shm(frame, src)?;
            if attached.is_none() {
                self.pace_no_buffer(pts_ns, due_ns);
                return Ok(());
            }
        }
        if let Some(a) = &attached {
            self.set_source(a, display);
        }
        let parent_dirty = self.relayout();
        let surface = self.video_surface().clone();
        surface.damage_buffer(0, 0, i32::MAX, i32::MAX);
        self.pace_commit(pts_ns, due_ns); // feedback or frame callback
        surface.commit();
        if self.scaled.is_some() && (parent_dirty || self.state.configure_pending) {
            // the toplevel: background, subsurface position, an acknowledged configure
            self.state.toplevel.wl_surface().commit();
        }
        self.state.configure_pending = false;
        self.update_inhibitor();
        self.pump(Duration::ZERO)
    }

    fn lead(&self) -> Duration {
        self.pacing_lead()
    }

    fn present_stats(&self) -> Option<super::PresentStats> {
        Some(self.pacing_stats())
    }

    fn dispatch(&mut self) -> Result<(), PresentError> {
        self.pump(Duration::ZERO)?;
        if self.state.closed {
            return Err(PresentError::Closed);
        }
        Ok(())
    }

    fn take_commands(&mut self) -> Vec<UserCommand> {
        let c = std::mem::take(&mut self.state.commands);
        if !c.is_empty() {
            self.update_inhibitor();
        }
        c
    }

    fn finish(&mut self) -> Result<(), PresentError> {
        self.pace_finish()?;
        self.state.finished = true;
        self.update_inhibitor();
        let _ = self.conn.flush();
        let s = self.state.stats;
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
        self.state.dmabuf_buffers.destroy_all();
        let _ = self.conn.flush();
    }
}
