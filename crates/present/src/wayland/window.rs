//! The window around the video: optional globals (viewporter, subcompositor,
//! single-pixel buffers, idle inhibit, fractional scale, content type, the
//! seat's keyboard), the black background, placing the video subsurface
//! ([`geometry`] does the maths) and the key handling. See the module docs
//! of [`super`] for the whole picture.

use smithay_client_toolkit::reexports::client::protocol::{wl_keyboard, wl_seat, wl_subsurface};
use smithay_client_toolkit::seat::{Capability, SeatHandler, SeatState};
use smithay_client_toolkit::subcompositor::SubcompositorState;
use wayland_protocols::wp::content_type::v1::client::{
    wp_content_type_manager_v1, wp_content_type_v1,
};
use wayland_protocols::wp::fractional_scale::v1::client::{
    wp_fractional_scale_manager_v1, wp_fractional_scale_v1,
};
use wayland_protocols::wp::idle_inhibit::zv1::client::{
    zwp_idle_inhibit_manager_v1, zwp_idle_inhibitor_v1,
};
use wayland_protocols::wp::single_pixel_buffer::v1::client::wp_single_pixel_buffer_manager_v1;
use wayland_protocols::wp::viewporter::client::{wp_viewport, wp_viewporter};

use super::geometry::{self, Layout, Rect};
use super::input::{key_action, KeyAction};
use super::*;

/// Environment variable: `1` makes the window behave as if the compositor
/// had no `wp_viewporter` (unscaled video on the toplevel), to test that path.
pub const NO_VIEWPORTER_ENV: &str = "VREQPLAY_NO_VIEWPORTER";

/// The optional globals, bound if the compositor has them.
#[derive(Default)]
pub(super) struct Extras {
    pub viewporter: Option<wp_viewporter::WpViewporter>,
    pub single_pixel: Option<wp_single_pixel_buffer_manager_v1::WpSinglePixelBufferManagerV1>,
    pub idle: Option<zwp_idle_inhibit_manager_v1::ZwpIdleInhibitManagerV1>,
    pub fractional: Option<wp_fractional_scale_manager_v1::WpFractionalScaleManagerV1>,
    pub content_type: Option<wp_content_type_manager_v1::WpContentTypeManagerV1>,
}

impl Extras {
    /// Binds what is there; logs (info) which were found.
    pub(super) fn bind(globals: &GlobalList, qh: &QueueHandle<State>) -> Self {
        let e = Extras {
            viewporter: globals.bind(qh, 1..=1, NoEvents).ok(),
            single_pixel: globals.bind(qh, 1..=1, NoEvents).ok(),
            idle: globals.bind(qh, 1..=1, NoEvents).ok(),
            fractional: globals.bind(qh, 1..=1, NoEvents).ok(),
            content_type: globals.bind(qh, 1..=1, NoEvents).ok(),
        };
        let has = |b: bool| if b { "yes" } else { "no" };
        tracing::info!(
            "wayland: optional globals: wp_viewporter {}, wp_single_pixel_buffer_manager_v1 {}, \
             zwp_idle_inhibit_manager_v1 {}, wp_fractional_scale_manager_v1 {}, wp_content_type_manager_v1 {}",
            has(e.viewporter.is_some()),
            has(e.single_pixel.is_some()),
            has(e.idle.is_some()),
            has(e.fractional.is_some()),
            has(e.content_type.is_some()),
        );
        e
    }
}

/// The black 1×1 buffer the toplevel surface shows, stretched by its viewport.
enum Background {
    /// `wp_single_pixel_buffer_manager_v1.create_u32_rgba_buffer(0, 0, 0, max)`.
    SinglePixel(wl_buffer::WlBuffer),
    /// A 1×1 `wl_shm` XRGB8888 buffer of 0 (kept with its pool).
    Shm(#[allow(dead_code)] SlotPool, Buffer),
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

    pub(super) fn video_surface(&self) -> &wl_surface::WlSurface {
        &self.video_surface
    }
}

impl WaylandSink {
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
        if sc.applied_source != Some(src) {
            sc.video_viewport
                .set_source(src.x.into(), src.y.into(), src.w.into(), src.h.into());
            sc.applied_source = Some(src);
        }
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
    pub(super) fn relayout(&mut self) -> bool {
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
        let mut dirty = false;
        if !sc.bg_attached {
            let top = self.state.window.wl_surface();
            match &sc.background {
                Background::SinglePixel(b) => top.attach(Some(b), 0, 0),
                Background::Shm(_, b) => {
                    if let Err(e) = b.attach_to(top) {
                        tracing::warn!("wayland: black background: {e}");
                    }
                }
            }
            top.damage_buffer(0, 0, i32::MAX, i32::MAX);
            sc.bg_attached = true;
            dirty = true;
        }
        if sc.applied != Some(l) {
            tracing::debug!("wayland: layout {l:?} (scale {scale}/120, output {output:?})");
            sc.bg_viewport
                .set_destination(l.window.0 as i32, l.window.1 as i32);
            sc.video_viewport
                .set_destination(l.video.w as i32, l.video.h as i32);
            sc.subsurface.set_position(l.video.x, l.video.y);
            self.state
                .window
                .wl_surface()
                .damage(0, 0, i32::MAX, i32::MAX);
            sc.applied = Some(l);
            dirty = true;
        }
        dirty
    }

    /// After events: answer an acknowledged configure, follow size / scale
    /// changes, act on `f`.
    pub(super) fn after_events(&mut self) {
        if self.state.fullscreen_toggle {
            self.state.fullscreen_toggle = false;
            if self.state.fullscreen {
                self.state.window.unset_fullscreen();
            } else {
                self.state.window.set_fullscreen(None);
            }
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
                    sc.video_surface.commit();
                }
                self.state.window.wl_surface().commit();
            } else if configure {
                self.state.window.wl_surface().commit();
            }
        } else if configure {
            // finish the acknowledged configure; the buffer stays as it is
            self.state.window.wl_surface().commit();
        }
        let _ = self.conn.flush();
    }

    /// Creates / destroys the idle inhibitor: on while playing, off while
    /// paused and after the end.
    pub(super) fn update_inhibitor(&mut self) {
        let want = !self.state.paused && !self.state.finished;
        match (&self.state.inhibitor, want) {
            (None, true) => {
                if let Some(m) = &self.extras.idle {
                    let i = m.create_inhibitor(self.state.window.wl_surface(), &self.qh, NoEvents);
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
    pub(super) fn setup_surface_hints(&mut self) {
        let top = self.state.window.wl_surface().clone();
        if let Some(m) = &self.extras.content_type {
            let mut surfaces = vec![top.clone()];
            if let Some(sc) = &self.scaled {
                surfaces.push(sc.video_surface.clone());
            }
            for s in surfaces {
                let ct = m.get_surface_content_type(&s, &self.qh, NoEvents);
                ct.set_content_type(wp_content_type_v1::Type::Video);
                self.state.content_types.push(ct);
            }
        }
        if let Some(m) = &self.extras.fractional {
            self.state.fractional = Some(m.get_fractional_scale(&top, &self.qh, NoEvents));
        }
    }
}

/// User data of protocol objects whose events are ignored or have none.
pub(super) struct NoEvents;

macro_rules! no_events {
    ($($i:ty),* $(,)?) => {$(
        impl Dispatch2<$i, State> for NoEvents {
            fn event(
                &self,
                _: &mut State,
                _: &$i,
                _: <$i as Proxy>::Event,
                _: &Connection,
                _: &QueueHandle<State>,
            ) {
            }
        }
    )*};
}

no_events!(
    wp_viewporter::WpViewporter,
    wp_viewport::WpViewport,
    wp_single_pixel_buffer_manager_v1::WpSinglePixelBufferManagerV1,
    // the black buffer's `release`: it stays attached, nothing to do
    wl_buffer::WlBuffer,
    zwp_idle_inhibit_manager_v1::ZwpIdleInhibitManagerV1,
    zwp_idle_inhibitor_v1::ZwpIdleInhibitorV1,
    wp_fractional_scale_manager_v1::WpFractionalScaleManagerV1,
    wp_content_type_manager_v1::WpContentTypeManagerV1,
    wp_content_type_v1::WpContentTypeV1,
);

impl Dispatch2<wp_fractional_scale_v1::WpFractionalScaleV1, State> for NoEvents {
    fn event(
        &self,
        state: &mut State,
        _: &wp_fractional_scale_v1::WpFractionalScaleV1,
        event: wp_fractional_scale_v1::Event,
        _: &Connection,
        _: &QueueHandle<State>,
    ) {
        if let wp_fractional_scale_v1::Event::PreferredScale { scale } = event {
            tracing::debug!("wayland: preferred fractional scale {scale}/120");
            if scale > 0 && state.fractional_scale != Some(scale) {
                state.fractional_scale = Some(scale);
                state.layout_dirty = true;
            }
        }
    }
}

/// User data of the seat's `wl_keyboard`.
pub(super) struct KeyboardData;

impl Dispatch2<wl_keyboard::WlKeyboard, State> for KeyboardData {
    fn event(
        &self,
        state: &mut State,
        _: &wl_keyboard::WlKeyboard,
        event: wl_keyboard::Event,
        _: &Connection,
        _: &QueueHandle<State>,
    ) {
        // the keymap's fd is dropped (closed) unread: keys are taken as evdev codes (input.rs)
        if let wl_keyboard::Event::Key {
            key,
            state:
                smithay_client_toolkit::reexports::client::WEnum::Value(wl_keyboard::KeyState::Pressed),
            ..
        } = event
        {
            match key_action(key) {
                Some(KeyAction::Command(c)) => {
                    tracing::debug!("wayland: key {key}: {c:?}");
                    if c == UserCommand::TogglePause {
                        state.paused = !state.paused;
                    }
                    state.commands.push(c);
                }
                Some(KeyAction::ToggleFullscreen) => state.fullscreen_toggle = true,
                None => {}
            }
        }
    }
}

impl SeatHandler for State {
    fn seat_state(&mut self) -> &mut SeatState {
        &mut self.seats
    }
    fn new_seat(&mut self, _: &Connection, _: &QueueHandle<Self>, _: wl_seat::WlSeat) {}
    fn new_capability(
        &mut self,
        _: &Connection,
        qh: &QueueHandle<Self>,
        seat: wl_seat::WlSeat,
        capability: Capability,
    ) {
        if capability == Capability::Keyboard && self.keyboard.is_none() {
            self.keyboard = Some(seat.get_keyboard(qh, KeyboardData));
        }
    }
    fn remove_capability(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: wl_seat::WlSeat,
        capability: Capability,
    ) {
        if capability == Capability::Keyboard {
            if let Some(k) = self.keyboard.take() {
                if k.version() >= 3 {
                    k.release();
                }
            }
        }
    }
    fn remove_seat(&mut self, _: &Connection, _: &QueueHandle<Self>, _: wl_seat::WlSeat) {}
}
