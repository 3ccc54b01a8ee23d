//! How to open the window ([`WindowOptions`]) and the two entry points that
//! open it as a boxed [`Sink`].

use std::path::Path;

use super::sink::WaylandSink;
use crate::{PresentError, Sink};

/// The window's `xdg_toplevel` app id: the desktop entry's name without
/// `.desktop` (`assets/vreqplay.desktop`, as the xdg-shell protocol asks, so
/// that the compositor shows its name and icon; the root crate's
/// `tests/assets.rs` compares them).
pub const APP_ID: &str = "vreqplay";

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
    /// Test hook (`VREQ_TEST_KEYS`, read by the player): a file or FIFO of
    /// key names, one per line, as xkbcommon names keysyms (`Right`,
    /// `space`, `o`, `period`, `Escape`, `Page_Up`), fed to the same
    /// keysym → action mapping as the keyboard; `None` in normal use.
    /// Read from the window's event loop, so keys act when the player
    /// pumps it ([`crate::Sink::dispatch`], `show`). A file that cannot be
    /// opened fails the window's opening ([`PresentError::Io`]); see
    /// [`super::test_keys`] for FIFOs and bad lines.
    pub test_keys: Option<std::path::PathBuf>,
}

impl WindowOptions {
    /// Title `vreqplay — <file name>`, app id [`APP_ID`], dmabuf allowed.
    pub fn for_input(input: &Path) -> Self {
        let name = input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| input.display().to_string());
        WindowOptions {
            title: format!("vreqplay — {name}"),
            app_id: APP_ID.into(),
            force_shm: false,
            dmabuf_immed: true,
            fullscreen: false,
            test_keys: None,
        }
    }
}

/// Opens a toplevel window titled `vreqplay — <file name of input>`.
/// Errors: no compositor (`WAYLAND_DISPLAY`), a missing required global
/// (`wl_compositor`, `xdg_wm_base`, `wl_shm`), no configure within [`super::SETUP_TIMEOUT`].
pub fn open_window(input: &Path) -> Result<Box<dyn Sink>, PresentError> {
    Ok(Box::new(WaylandSink::open(&WindowOptions::for_input(
        input,
    ))?))
}

/// Opens a window with explicit [`WindowOptions`].
pub fn open_window_with(opts: &WindowOptions) -> Result<Box<dyn Sink>, PresentError> {
    Ok(Box::new(WaylandSink::open(opts)?))
}
