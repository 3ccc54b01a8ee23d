//! The Wayland window: an xdg-shell toplevel showing decoded frames.
//!
//! Protocols (XML names): `wl_compositor`, `xdg_wm_base` (xdg-shell),
//! `wl_shm`, `wl_seat` / `wl_keyboard` (keymap through xkbcommon) /
//! `wl_pointer`; optionally `zwp_linux_dmabuf_v1`
//! v3–v5 (linux-dmabuf-v1), `wp_viewporter` + `wl_subcompositor`
//! (scaling; `wl_subcompositor` also for the OSD), `wp_cursor_shape_manager_v1`
//! (the pointer's cursor, else the XCursor theme), `wp_single_pixel_buffer_manager_v1` (black borders),
//! `zxdg_decoration_manager_v1` (server-side decorations: sctk binds it and
//! sends `set_mode(server_side)` for `WindowDecorations::RequestServer`),
//! `zwp_idle_inhibit_manager_v1`, `wp_fractional_scale_manager_v1`,
//! `wp_content_type_manager_v1`, `wp_presentation` (pacing). The optional
//! globals found are logged at info when the window opens. Built on
//! smithay-client-toolkit (registry, surfaces, subsurfaces, seat, xdg
//! window, shm pool).
//!
//! Frames take one of **two paths**: zero-copy (the decoder's CAPTURE
//! dmabuf wrapped in a `wl_buffer`, kept until `wl_buffer.release`) or copy
//! (detiled / converted on the CPU into a linear dmabuf or `wl_shm`; always
//! with `--hwdec-copy`, which skips `zwp_linux_dmabuf_v1`).
//!
//! # Files
//! | file | owns |
//! |---|---|
//! | `sink.rs` | [`WaylandSink`] and its [`Sink`](crate::Sink) impl: pacing → path choice → attach → commit; [`WindowStats`], [`PathChoice`] |
//! | `options.rs` | [`WindowOptions`], [`open_window`], [`open_window_with`] |
//! | `window.rs` | `Window`: connection + protocol state + surfaces; opening, event pumping, configures, layout, idle inhibitor, surface hints |
//! | `event_loop.rs` | `EventLoop`: connect, flush, poll / read / dispatch, protocol errors as [`PresentError`](crate::PresentError) |
//! | `state.rs` | `State` (what events are dispatched to) and the toolkit handlers: registry, outputs, shm, surface, xdg toplevel, seat / keyboard (keysyms, repeat) / pointer (double click, cursor hiding), fractional scale |
//! | `osd_planes.rs` | `OsdPlanes`: the OSD's two `wl_shm` subsurfaces (text, seek bar), fade, detach |
//! | `globals.rs` | `Extras` (the optional globals) and `NoEvents` |
//! | `scaled.rs` | `Scaled`: the video subsurface, both `wp_viewport`s, the black background |
//! | `zero_copy.rs` | `ZeroCopy` (CAPTURE dmabufs → `wl_buffer`s) and `DmabufBuffers` (the cache per generation / capture index, released frames) |
//! | `copy.rs` | `CopyPath`: the copy `Plan` per format, the linear dmabuf pool, the `wl_shm` buffers |
//! | `linux_dmabuf.rs` | `LinuxDmabuf`: the `zwp_linux_dmabuf_v1` global, v3 `modifier` events, v4+ feedback |
//! | [`dmabuf`] | pure: DRM format / modifier choice, format tables, plane offsets |
//! | [`osd`] | pure: the OSD's pixels (text, seek bar), fade steps, the font via fontconfig |
//! | [`pacing`] | the scheduler (`Pacer`, pure), clocks, `wp_presentation` feedback |
//! | [`geometry`] | pure: display size, fit / centre, viewport source, initial size |
//! | [`input`] | pure: double click, cursor autohide; re-exports [`crate::keys`] (keysyms → actions, mpv's key map, shared with the kiosk) |
//! | [`test_keys`] | the test hook (`VREQ_TEST_KEYS`): key names from a file / FIFO ([`crate::test_keys`], shared with the kiosk) |
//!
//! # Tested
//! Unit tests cover the pure parts (format table, modifier choice, plane
//! offsets with crop; display size, fit/centre, source rectangle, initial
//! size in [`geometry`]; keysym mapping in [`crate::keys`], double click and
//! cursor hiding in [`input`]; the test hook's file / FIFO reading in [`test_keys`]; the OSD's
//! rasteriser and fade in [`osd`]; the pacing simulator in [`pacing`]; the copy plan; the colour conversion in `frame::convert`).
//! `tests/vm/window-test.sh` runs `examples/wl_pattern` (the real engine with
//! a fake device) against weston 14 headless-GL in the VM through both paths
//! and checks the screenshots' pixels (`tests/vm/check-pattern.py`);
//! `examples/osd_demo` (this crate) shows the OSD over a plain picture and
//! prints the commands keys / `VREQ_TEST_KEYS` give, for looking at it there.
//!
//! # Errors
//! Nothing here panics on compositor behaviour: connection and protocol
//! errors become [`PresentError::Wayland`](crate::PresentError::Wayland)
//! (with the protocol error's interface, code and message), the close button
//! [`PresentError::Closed`](crate::PresentError::Closed).

mod copy;
pub mod dmabuf;
mod event_loop;
pub mod geometry;
mod globals;
pub mod input;
mod linux_dmabuf;
mod options;
pub mod osd;
mod osd_planes;
pub mod pacing;
mod scaled;
mod sink;
mod state;
pub use crate::test_keys;
mod window;
mod zero_copy;

pub use copy::SHM_BUFFERS;
pub use options::{open_window, open_window_with, WindowOptions, APP_ID};
pub use sink::{PathChoice, WaylandSink, WindowStats, MAX_HELD_FRAMES};
pub use window::SETUP_TIMEOUT;
