//! [`Window`]: the xdg-shell toplevel and everything the event loop
//! touches — the connection ([`EventLoop`]), [`State`], the optional globals
//! ([`Extras`]) and the video's surfaces ([`Scaled`], or the toplevel
//! itself). It opens the window, pumps events, answers configures, lays the
//! video out, and keeps the idle inhibitor and surface hints.
//!
//! Title and app id from [`WindowOptions`] (`vreqplay — <file name>`);
//! [`WindowOptions::fullscreen`] asks `set_fullscreen` before the first
//! commit. `zwp_idle_inhibitor_v1` on the toplevel surface while playing
//! (from the first frame; destroyed while paused and by
//! [`crate::Sink::finish`]). `wp_content_type_v1` `video` on both surfaces,
//! when available.
//!
//! The window size is the last `xdg_toplevel.configure` size; when the
//! compositor leaves it to us (0x0, or before any sized configure) it is the
//! display size in logical pixels (divided by the preferred scale:
//! `wp_fractional_scale_v1`, else `wl_surface.preferred_buffer_scale`),
//! shrunk keeping aspect to fit the largest output (mpv's autofit; the
//! maths in [`geometry`]). All sizes given to the protocol are logical
//! (surface-local) pixels.
//!
//! Without `wp_viewporter` (or `wl_subcompositor`) the frames go on the
//! toplevel surface unscaled (also with `VREQPLAY_NO_VIEWPORTER=1`, for
//! tests; the window takes the buffer's size; the compositor places it in a
//! larger configure) and the reason is logged. Every configure is answered
//! by a commit (sctk sends `ack_configure`; the commit makes it take
//! effect): weston's kiosk shell re-configures the toplevel right after it
//! maps it, and without that commit the surface was not shown. Nothing is
//! committed before the first frame (an xdg toplevel maps with its first
//! buffer).

use std::time::{Duration, Instant};

use smithay_client_toolkit::compositor::CompositorState;
use smithay_client_toolkit::reexports::client::globals::GlobalList;
use smithay_client_toolkit::reexports::client::protocol::wl_surface;
use smithay_client_toolkit::reexports::client::QueueHandle;
use smithay_client_toolkit::shell::xdg::window::{Window as XdgWindow, WindowDecorations};
use smithay_client_toolkit::shell::xdg::XdgShell;
use smithay_client_toolkit::shell::WaylandSurface;
use smithay_client_toolkit::shm::Shm;
use wayland_protocols::wp::content_type::v1::client::wp_content_type_v1;

use super::event_loop::{wl_err, EventLoop};
use super::geometry;
use super::globals::{Extras, NoEvents};
use super::input;
use super::linux_dmabuf::LinuxDmabuf;
use super::osd_planes::OsdPlanes;
use super::scaled::Scaled;
use super::state::{FractionalScaleData, State};
use super::test_keys::TestKeys;
use super::WindowOptions;
use crate::PresentError;

/// How long to wait for the compositor during setup (first configure,
/// globals, the first dmabuf `created`/`failed`).
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// What an attach put on the video surface: the buffer's size and the
/// rectangle of it to show (x, y, w, h in buffer pixels) — the viewport's
/// source (`wp_viewport.set_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attached {
    pub buffer_size: (u32, u32),
    pub source: (u32, u32, u32, u32),
}

/// The window: connection, protocol state and surfaces (see the module docs).
pub(super) struct Window {
    events: EventLoop,
    /// Handle for creating objects whose events go to [`State`].
    pub(super) qh: QueueHandle<State>,
    /// What the event handlers update.
    pub(super) state: State,
    /// Optional globals (viewporter, idle inhibit, …).
    extras: Extras,
    /// Video on a scaled subsurface; `None`: on the toplevel, unscaled.
    scaled: Option<Scaled>,
    /// Display size (pixels, pixel aspect applied) of the last picture.
    display: Option<(u32, u32)>,
    /// Buffer size in pixels of the last attach; `None` until the first
    /// frame (configures are answered by that frame's commit until then).
    pub(super) size: Option<(u32, u32)>,
    /// The test hook's key names ([`WindowOptions::test_keys`]).
    test_keys: Option<TestKeys>,
    /// The OSD's subsurfaces; `None` without `wl_subcompositor`.
    osd: Option<OsdPlanes>,
}

impl Window {
    /// Connects (`WAYLAND_DISPLAY`), binds the globals (`wl_compositor`,
    /// `xdg_wm_base`, `wl_shm` required; `zwp_linux_dmabuf_v1` unless
    /// [`WindowOptions::force_shm`]; the optional ones), creates the toplevel
    /// and the video surfaces, and waits (at most [`SETUP_TIMEOUT`]) for the
    /// first configure and, with `zwp_linux_dmabuf_v1` v4+, the default
    /// feedback.
    pub(super) fn open(opts: &WindowOptions) -> Result<Self, PresentError> {
        let test_keys = match &opts.test_keys {
            Some(p) => {
                Some(TestKeys::open(p).map_err(|e| PresentError::Io(format!("test keys: {e}")))?)
            }
            None => None,
        };
        let (events, globals) = EventLoop::connect()?;
        let qh = events.handle();
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
        let toplevel = xdg.create_window(surface, WindowDecorations::RequestServer, &qh);
        toplevel.set_title(opts.title.clone());
        toplevel.set_app_id(opts.app_id.clone());
        if opts.fullscreen {
            toplevel.set_fullscreen(None);
        }
        let scaled = Self::scaled_or_not(&globals, &compositor, &extras, &shm, &toplevel, &qh);
        // after the video's subsurface: stacked above it
        let osd = match OsdPlanes::new(&globals, &compositor, toplevel.wl_surface(), &qh) {
            Ok(o) => Some(o),
            Err(why) => {
                tracing::warn!("wayland: {why}: no OSD");
                None
            }
        };
        toplevel.commit();
        let cursor_surface = compositor.create_surface(&qh);
        let state = State::new(&globals, &qh, shm, toplevel, dmabuf, cursor_surface);
        let mut win = Window {
            events,
            qh,
            state,
            extras,
            scaled,
            display: None,
            size: None,
            test_keys,
            osd,
        };
        win.setup_surface_hints();
        // v4+: ask for the default feedback (v3 sends `modifier` events on bind).
        win.state.dmabuf.request_default_feedback(&win.qh);
        win.wait_for_setup()?;
        Ok(win)
    }

    /// [`Scaled::new`], or `None` with the reason logged (info).
    fn scaled_or_not(
        globals: &GlobalList,
        compositor: &CompositorState,
        extras: &Extras,
        shm: &Shm,
        toplevel: &XdgWindow,
        qh: &QueueHandle<State>,
    ) -> Option<Scaled> {
        match Scaled::new(globals, compositor, extras, shm, toplevel.wl_surface(), qh) {
            Ok(s) => Some(s),
            Err(why) => {
                tracing::info!(
                    "wayland: {why}: the video is not scaled (the window takes the picture's size)"
                );
                None
            }
        }
    }

    /// Waits for the first configure (and the v4+ dmabuf feedback), then one
    /// roundtrip so every v3 `modifier` event is in; logs what was found.
    fn wait_for_setup(&mut self) -> Result<(), PresentError> {
        let deadline = Instant::now() + SETUP_TIMEOUT;
        let v4 = self.state.dmabuf.is_v4();
        let ready = self.wait_until(deadline, |s| {
            s.configured && (!v4 || s.dmabuf.feedback_done)
        })?;
        if !ready {
            if !self.state.configured {
                return Err(PresentError::Wayland(format!(
                    "no xdg_surface.configure within {SETUP_TIMEOUT:?} (is the compositor alive?)"
                )));
            }
            tracing::warn!(
                "wayland: no zwp_linux_dmabuf_feedback_v1.done within {SETUP_TIMEOUT:?}"
            );
        }
        // one more roundtrip so every v3 `modifier` event is in
        self.events.roundtrip(&mut self.state)?;
        if let Some(e) = &self.state.dmabuf.feedback_error {
            tracing::warn!("wayland: dmabuf feedback: {e}");
        }
        tracing::info!(
            "wayland: window up; zwp_linux_dmabuf_v1 {}; {} format/modifier pairs ({} formats){}",
            self.state.dmabuf.version_text(),
            self.state.dmabuf.formats.len(),
            self.state.dmabuf.formats.fourccs(),
            self.state
                .dmabuf
                .formats
                .main_device
                .map(|d| {
                    use nix::sys::stat::{major, minor};
                    format!("; feedback main device {}:{}", major(d), minor(d))
                })
                .unwrap_or_default()
        );
        Ok(())
    }

    /// Flushes requests, reads events for at most `timeout`, handles them,
    /// then does what they asked for ([`Self::after_events`]).
    /// Waits no longer than the next timer (a held key's repeat).
    pub(super) fn pump(&mut self, timeout: Duration) -> Result<(), PresentError> {
        let timeout = match self.next_timer() {
            Some(t) => timeout.min(t.saturating_duration_since(Instant::now())),
            None => timeout,
        };
        let extra = self.test_keys.as_ref().and_then(|t| t.fd());
        self.events.pump(&mut self.state, timeout, extra)?;
        self.after_events();
        Ok(())
    }

    /// The earliest instant a timer of the window fires: the held seek key's
    /// next repeat, hiding the pointer.
    fn next_timer(&self) -> Option<Instant> {
        let s = &self.state;
        let repeat = s.held.filter(|_| s.repeat_info.is_some()).map(|h| h.next);
        let hide = (s.pointer.is_some() && s.cursor_settable)
            .then(|| s.autohide.hide_at(s.fullscreen))
            .flatten();
        let osd = self.osd.as_ref().and_then(|o| o.next_change());
        [repeat, hide, osd].into_iter().flatten().min()
    }

    /// Replaces what the OSD shows ([`crate::Sink::set_osd`]); drawn at once
    /// when a frame is on screen, else with the first frame.
    pub(super) fn set_osd(&mut self, osd: Option<crate::Osd>) {
        if let Some(o) = self.osd.as_mut() {
            o.set(osd, Instant::now());
        }
        self.update_osd();
    }

    /// The window's size in logical pixels as laid out now.
    fn logical_window(&self) -> Option<(u32, u32)> {
        match &self.scaled {
            Some(sc) => sc.window_size(),
            None => self.state.window_size.or(self.size),
        }
    }

    /// Draws / fades / hides the OSD for the current window size and scale
    /// (nothing before the first frame: the window is not mapped).
    fn update_osd(&mut self) {
        if self.size.is_none() {
            return;
        }
        let Some(window) = self.logical_window() else {
            return;
        };
        let scale = self.scale_120().div_ceil(120);
        let Some(o) = self.osd.as_mut() else { return };
        if o.update(&self.state.shm, window, scale, Instant::now()) {
            // subsurface positions apply at the parent's commit
            self.state.toplevel.wl_surface().commit();
        }
        self.events.flush();
    }

    /// Pumps events until `cond` holds or `deadline` passes; returns whether
    /// it held. [`PresentError::Closed`] when the window was closed meanwhile.
    pub(super) fn wait_until(
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

    /// Sends the queued requests (errors show at the next pump).
    pub(super) fn flush(&self) {
        self.events.flush();
    }

    /// The surface frames are attached to.
    pub(super) fn video_surface(&self) -> &wl_surface::WlSurface {
        match &self.scaled {
            Some(s) => s.video_surface(),
            None => self.state.toplevel.wl_surface(),
        }
    }

    /// Commits what was attached to the video surface: the layout first
    /// ([`Self::relayout`]), damage, the commit's `wp_presentation_feedback`
    /// (or frame callback) for the pacer, `wl_surface.commit`, then the
    /// toplevel's commit if its state changed or a configure waits for one;
    /// then handles events.
    pub(super) fn commit_video(&mut self, pts_ns: i64, due_ns: i64) -> Result<(), PresentError> {
        let parent_dirty = self.relayout();
        let surface = self.video_surface().clone();
        surface.damage_buffer(0, 0, i32::MAX, i32::MAX);
        // feedback or frame callback
        self.state
            .pacing
            .before_commit(&surface, &self.qh, pts_ns, due_ns);
        surface.commit();
        if self.scaled.is_some() && (parent_dirty || self.state.configure_pending) {
            // the toplevel: background, subsurface position, an acknowledged configure
            self.state.toplevel.wl_surface().commit();
        }
        self.state.configure_pending = false;
        self.update_inhibitor();
        self.update_osd();
        self.pump(Duration::ZERO)
    }

    /// The largest output's logical size (by area), if any output is known.
    fn largest_output(&self) -> Option<(u32, u32)> {
        let o = &self.state.outputs;
        o.outputs()
            .filter_map(|out| o.info(&out))
            .filter_map(|i| {
                let (w, h) = match i.logical_size {
                    Some(s) => s,
                    None => {
                        let m = i.modes.iter().find(|m| m.current)?;
                        let s = i.scale_factor.max(1);
                        (m.dimensions.0 / s, m.dimensions.1 / s)
                    }
                };
                (w > 0 && h > 0).then_some((w as u32, h as u32))
            })
            .max_by_key(|&(w, h)| u64::from(w) * u64::from(h))
    }

    /// The preferred scale in 120ths (fractional scale, else the integer
    /// `wl_surface.preferred_buffer_scale`, else 1).
    fn scale_120(&self) -> u32 {
        self.state
            .fractional_scale
            .unwrap_or_else(|| self.state.buffer_scale.max(1) as u32 * 120)
    }

    /// Sets the video viewport's source for what was attached, remembers the
    /// picture's display size. Without [`Scaled`] (no viewporter) nothing.
    pub(super) fn set_source(&mut self, a: &Attached, display: Option<(u32, u32)>) {
        let Some(sc) = self.scaled.as_mut() else {
            return;
        };
        let src = sc.set_source(a);
        let shown = display.unwrap_or((src.w, src.h));
        if self.display != Some(shown) {
            tracing::info!(
                "wayland: picture {}x{} shown as {}x{} (pixel aspect applied)",
                src.w,
                src.h,
                shown.0,
                shown.1
            );
            self.display = Some(shown);
        }
    }

    /// Brings the subsurface position, both viewport destinations and the
    /// background up to date with the window size and the display size.
    /// Returns whether the toplevel surface needs a commit (the video
    /// surface's own state changes take effect at its next commit).
    fn relayout(&mut self) -> bool {
        let scale = self.scale_120();
        let output = self.largest_output();
        let window = self.state.window_size;
        let Some(display) = self.display else {
            return false;
        };
        let Some(sc) = self.scaled.as_mut() else {
            return false;
        };
        let Some(l) = geometry::layout(display, window, scale, output) else {
            return false;
        };
        sc.apply_layout(l, self.state.toplevel.wl_surface(), scale, output)
    }

    /// After events: the test hook's keys, key repeat, answer an acknowledged configure, follow
    /// size / scale changes, act on `f` / `Escape`.
    fn after_events(&mut self) {
        if let Some(t) = self.test_keys.as_mut() {
            for sym in t.take_keysyms() {
                // as a key press, without modifiers or repeat
                if let Some(a) = input::keysym_action(sym) {
                    tracing::debug!("wayland: test key {sym:?}: {a:?}");
                    self.state.act(a);
                }
            }
            if t.is_done() {
                self.test_keys = None;
            }
        }
        let now = Instant::now();
        self.state.fire_repeat(now);
        self.state.autohide_cursor(now);
        if !self.state.fullscreen && self.state.autohide.left_fullscreen() {
            let conn = self.events.connection();
            self.state.show_cursor(&conn);
        }
        if std::mem::take(&mut self.state.fullscreen_toggle) {
            if self.state.fullscreen {
                self.state.toplevel.unset_fullscreen();
            } else {
                self.state.toplevel.set_fullscreen(None);
            }
        }
        if std::mem::take(&mut self.state.fullscreen_leave) && self.state.fullscreen {
            self.state.toplevel.unset_fullscreen();
        }
        if self.size.is_none() {
            // nothing shown yet: the first frame's commit answers the configure
            return;
        }
        let configure = std::mem::take(&mut self.state.configure_pending);
        let relayout = std::mem::take(&mut self.state.layout_dirty);
        if self.scaled.is_some() {
            if (configure || relayout) && self.relayout() {
                // the new video destination takes effect at the video surface's commit
                if let Some(sc) = &self.scaled {
                    sc.video_surface().commit();
                }
                self.state.toplevel.wl_surface().commit();
            } else if configure {
                self.state.toplevel.wl_surface().commit();
            }
        } else if configure {
            // finish the acknowledged configure; the buffer stays as it is
            self.state.toplevel.wl_surface().commit();
        }
        self.update_osd();
        self.events.flush();
    }

    /// Creates / destroys the idle inhibitor: on while playing, off while
    /// paused and after the end.
    pub(super) fn update_inhibitor(&mut self) {
        let want = !self.state.paused && !self.state.finished;
        match (&self.state.inhibitor, want) {
            (None, true) => {
                if let Some(m) = &self.extras.idle {
                    let i =
                        m.create_inhibitor(self.state.toplevel.wl_surface(), &self.qh, NoEvents);
                    tracing::debug!("wayland: idle inhibitor on");
                    self.state.inhibitor = Some(i);
                }
            }
            (Some(_), false) => {
                if let Some(i) = self.state.inhibitor.take() {
                    i.destroy();
                    tracing::debug!("wayland: idle inhibitor off");
                }
            }
            _ => {}
        }
    }

    /// `wp_content_type_v1.set_content_type(video)` and
    /// `wp_fractional_scale_v1` on the window's surfaces, where available.
    fn setup_surface_hints(&mut self) {
        let top = self.state.toplevel.wl_surface().clone();
        if let Some(m) = &self.extras.content_type {
            let mut surfaces = vec![top.clone()];
            if let Some(sc) = &self.scaled {
                surfaces.push(sc.video_surface().clone());
            }
            for s in surfaces {
                let ct = m.get_surface_content_type(&s, &self.qh, NoEvents);
                ct.set_content_type(wp_content_type_v1::Type::Video);
                self.state.content_types.push(ct);
            }
        }
        if let Some(m) = &self.extras.fractional {
            self.state.fractional =
                Some(m.get_fractional_scale(&top, &self.qh, FractionalScaleData));
        }
    }
}
