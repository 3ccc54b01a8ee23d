//! [`State`], what the event queue dispatches to, and its handlers for the
//! toolkit (smithay-client-toolkit): registry, outputs, `wl_shm`,
//! `wl_surface` (preferred buffer scale, frame callbacks → pacing),
//! `xdg_toplevel` (configure, close), the seat's `wl_keyboard` (sctk's
//! xkbcommon keyboard: keysyms via [`super::input`], key repeat for the
//! seek keys at the compositor's `repeat_info`) and `wp_fractional_scale_v1`. The handlers of the other
//! objects sit with the code that owns them (linux_dmabuf.rs, zero_copy.rs,
//! copy.rs, pacing.rs, globals.rs).

use smithay_client_toolkit::compositor::CompositorHandler;
use smithay_client_toolkit::dispatch2::Dispatch2;
use smithay_client_toolkit::output::{OutputHandler, OutputState};
use smithay_client_toolkit::reexports::client::globals::GlobalList;
use smithay_client_toolkit::reexports::client::protocol::{
    wl_keyboard, wl_output, wl_pointer, wl_seat, wl_surface,
};
use smithay_client_toolkit::reexports::client::{Connection, Proxy, QueueHandle};
use smithay_client_toolkit::registry::{ProvidesRegistryState, RegistryState};
use smithay_client_toolkit::seat::keyboard::{
    KeyEvent, KeyboardHandler, Keysym, Modifiers, RawModifiers, RepeatInfo,
};
use smithay_client_toolkit::seat::pointer::{
    CursorIcon, PointerEvent, PointerEventKind, PointerHandler, PointerThemeError, ThemeSpec,
    ThemedPointer,
};
use smithay_client_toolkit::seat::{Capability, SeatHandler, SeatState};
use smithay_client_toolkit::shell::xdg::window::{
    Window as XdgWindow, WindowConfigure, WindowHandler,
};
use smithay_client_toolkit::shell::WaylandSurface;
use smithay_client_toolkit::shm::{Shm, ShmHandler};
use wayland_protocols::wp::content_type::v1::client::wp_content_type_v1;
use wayland_protocols::wp::fractional_scale::v1::client::wp_fractional_scale_v1;
use wayland_protocols::wp::idle_inhibit::zv1::client::zwp_idle_inhibitor_v1;

use super::input::{self, KeyAction};
use super::linux_dmabuf::LinuxDmabuf;
use super::pacing::Pacing;
use super::zero_copy::DmabufBuffers;
use super::WindowStats;
use crate::UserCommand;

use std::time::{Duration, Instant};

/// A held key that repeats (a seek key; [`input::repeats`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct HeldKey {
    /// `wl_keyboard.key`'s code (its release stops the repeat).
    pub raw_code: u32,
    pub action: KeyAction,
    /// When it fires next.
    pub next: Instant,
}

/// Protocol state the event handlers update.
pub(super) struct State {
    /// sctk's registry (globals appearing / going).
    pub(super) registry: RegistryState,
    /// The `wl_output`s and their modes / logical sizes.
    pub(super) outputs: OutputState,
    /// `wl_shm` and the formats it announced.
    pub(super) shm: Shm,
    /// The xdg toplevel (`xdg_surface` + `xdg_toplevel` on the window's `wl_surface`).
    pub(super) toplevel: XdgWindow,
    /// The first `xdg_surface.configure` arrived.
    pub(super) configured: bool,
    /// A configure was acknowledged (sctk acks in its handler) and needs a commit
    /// to take effect (xdg_surface.ack_configure: "…the client must then commit").
    pub(super) configure_pending: bool,
    /// `xdg_toplevel.close`: the user closed the window.
    pub(super) closed: bool,
    /// Frame pacing and presentation feedback (pacing.rs).
    pub(super) pacing: Pacing,
    /// `zwp_linux_dmabuf_v1` and the formats it announced (linux_dmabuf.rs).
    pub(super) dmabuf: LinuxDmabuf,
    /// The CAPTURE buffers wrapped as `wl_buffer`s (zero_copy.rs).
    pub(super) dmabuf_buffers: DmabufBuffers,
    /// What the window did (`WaylandSink::stats`).
    pub(super) stats: WindowStats,
    /// The last configure's size (logical pixels); `None`: 0x0 or none yet, we choose.
    pub(super) window_size: Option<(u32, u32)>,
    /// The last configure had the `fullscreen` state.
    pub(super) fullscreen: bool,
    /// Key `f` was pressed: toggle fullscreen after the events.
    pub(super) fullscreen_toggle: bool,
    /// `Escape` while fullscreen: leave fullscreen after the events.
    pub(super) fullscreen_leave: bool,
    /// Ctrl / Alt / Super held (keys with them do nothing).
    pub(super) modifiers: Modifiers,
    /// `wl_keyboard.repeat_info`: (delay, interval); `None`: no repeat.
    pub(super) repeat_info: Option<(Duration, Duration)>,
    /// The seek key held down, repeating.
    pub(super) held: Option<HeldKey>,
    /// The scale changed: recompute the layout after the events.
    pub(super) layout_dirty: bool,
    /// Keys for the player, oldest first ([`crate::Sink::take_commands`]).
    pub(super) commands: Vec<UserCommand>,
    /// Paused by `space` (tracks the `TogglePause` commands handed out).
    pub(super) paused: bool,
    /// [`crate::Sink::finish`] was called: no idle inhibitor any more.
    pub(super) finished: bool,
    /// The toplevel's `zwp_idle_inhibitor_v1` while playing.
    pub(super) inhibitor: Option<zwp_idle_inhibitor_v1::ZwpIdleInhibitorV1>,
    /// `wp_fractional_scale_v1.preferred_scale` (120ths), if received.
    pub(super) fractional_scale: Option<u32>,
    /// `wl_surface.preferred_buffer_scale` of the toplevel (integer scale).
    pub(super) buffer_scale: i32,
    /// The toplevel's `wp_fractional_scale_v1`, if the global exists.
    pub(super) fractional: Option<wp_fractional_scale_v1::WpFractionalScaleV1>,
    /// `wp_content_type_v1` (type `video`) of each surface, kept alive.
    pub(super) content_types: Vec<wp_content_type_v1::WpContentTypeV1>,
    /// The `wl_seat`s.
    pub(super) seats: SeatState,
    /// The seat's `wl_keyboard` (the first seat with one).
    pub(super) keyboard: Option<wl_keyboard::WlKeyboard>,
    /// The surface the pointer's cursor image goes on, until the pointer
    /// takes it ([`ThemedPointer`]).
    cursor_surface: Option<wl_surface::WlSurface>,
    /// The seat's `wl_pointer` with sctk's cursor theme (the compositor's
    /// `wp_cursor_shape_v1` when offered, else the XCursor theme).
    pub(super) pointer: Option<ThemedPointer>,
    /// Double clicks of the left button (→ fullscreen).
    double_click: input::DoubleClick,
    /// Pointer hiding in fullscreen.
    pub(super) autohide: input::CursorAutohide,
    /// `false` once no cursor image could be set: then the pointer is never
    /// hidden (it could not be shown again).
    pub(super) cursor_settable: bool,
}

impl State {
    /// The state right after the globals are bound. Binds the `wl_output`s
    /// (sctk's [`OutputState`]), `wp_presentation` ([`Pacing::bind`]) and the
    /// `wl_seat`s, in that order.
    pub(super) fn new(
        globals: &GlobalList,
        qh: &QueueHandle<State>,
        shm: Shm,
        toplevel: XdgWindow,
        dmabuf: LinuxDmabuf,
        cursor_surface: wl_surface::WlSurface,
    ) -> Self {
        State {
            registry: RegistryState::new(globals),
            outputs: OutputState::new(globals, qh),
            shm,
            toplevel,
            configured: false,
            configure_pending: false,
            closed: false,
            pacing: Pacing::bind(globals, qh),
            dmabuf,
            dmabuf_buffers: DmabufBuffers::default(),
            stats: WindowStats::default(),
            window_size: None,
            fullscreen: false,
            fullscreen_toggle: false,
            fullscreen_leave: false,
            modifiers: Modifiers::default(),
            // wl_keyboard < v4 sends no repeat_info: X's defaults, as sctk assumes
            repeat_info: Some((Duration::from_millis(200), Duration::from_millis(40))),
            held: None,
            layout_dirty: false,
            commands: Vec::new(),
            paused: false,
            finished: false,
            inhibitor: None,
            fractional_scale: None,
            buffer_scale: 1,
            fractional: None,
            content_types: Vec::new(),
            seats: SeatState::new(globals, qh),
            keyboard: None,
            cursor_surface: Some(cursor_surface),
            pointer: None,
            double_click: input::DoubleClick::default(),
            autohide: input::CursorAutohide::new(Instant::now()),
            cursor_settable: true,
        }
    }
}

impl CompositorHandler for State {
    fn scale_factor_changed(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        surface: &wl_surface::WlSurface,
        factor: i32,
    ) {
        if surface == self.toplevel.wl_surface() && factor != self.buffer_scale {
            tracing::debug!("wayland: preferred buffer scale {factor}");
            self.buffer_scale = factor;
            self.layout_dirty = true;
        }
    }
    fn transform_changed(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_surface::WlSurface,
        _: wl_output::Transform,
    ) {
    }
    fn frame(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_surface::WlSurface,
        time: u32,
    ) {
        tracing::debug!("wayland: frame callback done ({time} ms)");
        self.pacing.frame_callback();
    }
    fn surface_enter(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_surface::WlSurface,
        _: &wl_output::WlOutput,
    ) {
    }
    fn surface_leave(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_surface::WlSurface,
        _: &wl_output::WlOutput,
    ) {
    }
}

impl WindowHandler for State {
    fn request_close(&mut self, _: &Connection, _: &QueueHandle<Self>, _: &XdgWindow) {
        self.closed = true;
    }
    fn configure(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &XdgWindow,
        c: WindowConfigure,
        _: u32,
    ) {
        tracing::debug!(
            "wayland: configure {:?} {:?} {:?}",
            c.new_size,
            c.state,
            c.decoration_mode
        );
        self.window_size = match c.new_size {
            (Some(w), Some(h)) => Some((w.get(), h.get())),
            _ => None,
        };
        self.fullscreen = c.is_fullscreen();
        self.configured = true;
        self.configure_pending = true;
    }
}

impl ShmHandler for State {
    fn shm_state(&mut self) -> &mut Shm {
        &mut self.shm
    }
}

impl ProvidesRegistryState for State {
    fn registry(&mut self) -> &mut RegistryState {
        &mut self.registry
    }
    smithay_client_toolkit::registry_handlers![OutputState, SeatState];
}

impl OutputHandler for State {
    fn output_state(&mut self) -> &mut OutputState {
        &mut self.outputs
    }
    fn new_output(&mut self, _: &Connection, _: &QueueHandle<Self>, _: wl_output::WlOutput) {}
    fn update_output(&mut self, _: &Connection, _: &QueueHandle<Self>, _: wl_output::WlOutput) {}
    fn output_destroyed(&mut self, _: &Connection, _: &QueueHandle<Self>, _: wl_output::WlOutput) {}
}

/// User data of the toplevel's `wp_fractional_scale_v1`.
pub(super) struct FractionalScaleData;

impl Dispatch2<wp_fractional_scale_v1::WpFractionalScaleV1, State> for FractionalScaleData {
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

impl State {
    /// Acts on a key press (keyboard or test hook): a command for the player,
    /// fullscreen on `f`, `Escape` per [`input::escape_action`]. Returns the action.
    pub(super) fn key_pressed(&mut self, sym: Keysym) -> Option<KeyAction> {
        let m = self.modifiers;
        let action = input::key_press_action(sym, m.ctrl, m.alt, m.logo)?;
        self.act(action);
        tracing::debug!("wayland: key {sym:?}: {action:?}");
        Some(action)
    }

    /// Does what `action` asks (also for its repeats).
    pub(super) fn act(&mut self, action: KeyAction) {
        match action {
            KeyAction::Command(c) => self.command(c),
            KeyAction::ToggleFullscreen => self.fullscreen_toggle = true,
            KeyAction::Escape => match input::escape_action(self.fullscreen) {
                Some(c) => self.command(c),
                None => self.fullscreen_leave = true,
            },
        }
    }

    fn command(&mut self, c: UserCommand) {
        if c == UserCommand::TogglePause {
            self.paused = !self.paused;
        }
        self.commands.push(c);
    }

    /// Fires the held key's repeat if due at `now` (at most once per call:
    /// a player that did not pump for a while gets one repeat, not a burst).
    pub(super) fn fire_repeat(&mut self, now: Instant) {
        let (Some(h), Some((_, interval))) = (self.held, self.repeat_info) else {
            return;
        };
        if now >= h.next {
            self.act(h.action);
            self.held = Some(HeldKey {
                next: (h.next + interval).max(now),
                ..h
            });
        }
    }
}

impl State {
    /// Shows the default cursor (`left_ptr`; on enter and after hiding).
    pub(super) fn show_cursor(&mut self, conn: &Connection) {
        let Some(p) = &self.pointer else { return };
        match p.set_cursor(conn, CursorIcon::Default) {
            Ok(()) => {}
            Err(PointerThemeError::MissingEnterSerial) => {}
            Err(e) => {
                if self.cursor_settable {
                    tracing::warn!(
                        "wayland: cannot set a cursor ({e}: no wp_cursor_shape_v1 and no XCursor theme); the pointer will not be hidden in fullscreen"
                    );
                }
                self.cursor_settable = false;
            }
        }
    }

    /// Hides the cursor if it rested [`input::CURSOR_AUTOHIDE`] in fullscreen.
    pub(super) fn autohide_cursor(&mut self, now: Instant) {
        if !self.cursor_settable || self.pointer.is_none() {
            return;
        }
        if self.autohide.hide_now(now, self.fullscreen) {
            if let Some(p) = &self.pointer {
                let _ = p.hide_cursor();
                tracing::debug!("wayland: pointer hidden");
            }
        }
    }
}

impl PointerHandler for State {
    fn pointer_frame(
        &mut self,
        conn: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_pointer::WlPointer,
        events: &[PointerEvent],
    ) {
        let now = Instant::now();
        for e in events {
            match e.kind {
                PointerEventKind::Enter { .. } => {
                    // a client sets its cursor on every enter (wl_pointer.enter)
                    self.autohide.motion(now);
                    self.show_cursor(conn);
                }
                PointerEventKind::Leave { .. } => self.autohide.inside = false,
                PointerEventKind::Motion { .. } if self.autohide.motion(now) => {
                    self.show_cursor(conn);
                }
                PointerEventKind::Press { button, time, .. }
                    if button == input::BTN_LEFT && self.double_click.press(time) =>
                {
                    tracing::debug!("wayland: double click: toggle fullscreen");
                    self.fullscreen_toggle = true;
                }
                _ => {}
            }
        }
    }
}

impl KeyboardHandler for State {
    fn enter(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_keyboard::WlKeyboard,
        _: &wl_surface::WlSurface,
        _: u32,
        _: &[u32],
        _: &[Keysym],
    ) {
    }
    fn leave(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_keyboard::WlKeyboard,
        _: &wl_surface::WlSurface,
        _: u32,
    ) {
        self.held = None;
    }
    fn press_key(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_keyboard::WlKeyboard,
        _: u32,
        event: KeyEvent,
    ) {
        let action = self.key_pressed(event.keysym);
        self.held = match (action, self.repeat_info) {
            (Some(a), Some((delay, _))) if input::repeats(a) => Some(HeldKey {
                raw_code: event.raw_code,
                action: a,
                next: Instant::now() + delay,
            }),
            _ => None,
        };
    }
    fn repeat_key(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_keyboard::WlKeyboard,
        _: u32,
        event: KeyEvent,
    ) {
        // wl_keyboard v10 `repeated`: the compositor repeats; only seek keys act
        let m = self.modifiers;
        if let Some(a) = input::key_press_action(event.keysym, m.ctrl, m.alt, m.logo) {
            if input::repeats(a) {
                self.act(a);
            }
        }
    }
    fn release_key(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_keyboard::WlKeyboard,
        _: u32,
        event: KeyEvent,
    ) {
        if self.held.is_some_and(|h| h.raw_code == event.raw_code) {
            self.held = None;
        }
    }
    fn update_modifiers(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_keyboard::WlKeyboard,
        _: u32,
        modifiers: Modifiers,
        _: RawModifiers,
        _: u32,
    ) {
        self.modifiers = modifiers;
    }
    fn update_repeat_info(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: &wl_keyboard::WlKeyboard,
        info: RepeatInfo,
    ) {
        self.repeat_info = match info {
            RepeatInfo::Repeat { rate, delay } => Some((
                Duration::from_millis(delay.into()),
                Duration::from_micros(1_000_000 / u64::from(rate.get())),
            )),
            RepeatInfo::Disable => None,
        };
        tracing::debug!("wayland: key repeat {:?}", self.repeat_info);
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
            // sctk's keyboard: the compositor's keymap through xkbcommon, keysyms out
            match self.seats.get_keyboard(qh, &seat, None) {
                Ok(k) => self.keyboard = Some(k),
                Err(e) => tracing::warn!("wayland: no keyboard: {e}"),
            }
        }
        if capability == Capability::Pointer && self.pointer.is_none() {
            if let Some(surface) = self.cursor_surface.take() {
                let shm = self.shm.wl_shm().clone();
                match self.seats.get_pointer_with_theme::<_, ()>(
                    qh,
                    &seat,
                    &shm,
                    surface,
                    ThemeSpec::System,
                ) {
                    Ok(p) => self.pointer = Some(p),
                    Err(e) => tracing::warn!("wayland: no pointer: {e}"),
                }
            }
        }
    }
    fn remove_capability(
        &mut self,
        _: &Connection,
        _: &QueueHandle<Self>,
        _: wl_seat::WlSeat,
        capability: Capability,
    ) {
        if capability == Capability::Pointer {
            // ThemedPointer's drop releases the wl_pointer and its cursor surface
            self.pointer = None;
            self.autohide.inside = false;
        }
        if capability == Capability::Keyboard {
            self.held = None;
            if let Some(k) = self.keyboard.take() {
                if k.version() >= 3 {
                    k.release();
                }
            }
        }
    }
    fn remove_seat(&mut self, _: &Connection, _: &QueueHandle<Self>, _: wl_seat::WlSeat) {}
}

smithay_client_toolkit::delegate_registry!(State);
smithay_client_toolkit::delegate_dispatch2!(State);
