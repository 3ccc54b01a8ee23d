//! The window's keys and pointer. The keysym → action map is shared with
//! the kiosk and lives in [`crate::keys`] (re-exported here); the window
//! handles [`KeyAction::ToggleFullscreen`] and [`KeyAction::Escape`] itself.
//! Only the seek keys repeat while held ([`repeats`]), at the compositor's
//! `wl_keyboard.repeat_info` rate and delay.
//!
//! # Pointer
//! A double click of the left button (two presses within
//! [`DOUBLE_CLICK_MS`], mpv's `--input-doubleclick-time` default; Wayland
//! does not tell clients the desktop's setting) toggles fullscreen (mpv:
//! `MBTN_LEFT_DBL cycle fullscreen`): [`DoubleClick`]. In fullscreen the
//! pointer is hidden after [`CURSOR_AUTOHIDE`] without motion over the
//! window and shown again on motion (mpv's `--cursor-autohide=1000`, here
//! in fullscreen only): [`CursorAutohide`].
//!
//! The test hook ([`super::WindowOptions::test_keys`]) names keysyms as
//! xkbcommon does ([`keysym_from_name`]) and feeds them to the same
//! [`keysym_action`].

use std::time::{Duration, Instant};

pub use crate::keys::{
    escape_action, key_press_action, keysym_action, keysym_from_name, repeats, KeyAction,
};

/// Two left-button presses at most this far apart (ms, `wl_pointer.button`
/// times) are a double click (mpv: `--input-doubleclick-time=300`).
pub const DOUBLE_CLICK_MS: u32 = 300;

/// `BTN_LEFT` (linux/input-event-codes.h), `wl_pointer.button`'s `button`.
pub const BTN_LEFT: u32 = 0x110;

/// How long the pointer may rest over a fullscreen window before it is
/// hidden (mpv: `--cursor-autohide=1000`, ms).
pub const CURSOR_AUTOHIDE: Duration = Duration::from_millis(1000);

/// Double-click detection on the left button's press times.
#[derive(Debug, Default, Clone, Copy)]
pub struct DoubleClick {
    /// Time (ms) of the previous press that did not complete a double click.
    last: Option<u32>,
}

impl DoubleClick {
    /// A left-button press at `time_ms` (the event's millisecond clock,
    /// wrapping): whether it completes a double click. A third press starts
    /// a new pair.
    pub fn press(&mut self, time_ms: u32) -> bool {
        match self.last {
            Some(t) if time_ms.wrapping_sub(t) <= DOUBLE_CLICK_MS => {
                self.last = None;
                true
            }
            _ => {
                self.last = Some(time_ms);
                false
            }
        }
    }
}

/// When to hide / show the pointer over the window.
#[derive(Debug, Clone, Copy)]
pub struct CursorAutohide {
    /// The pointer is over one of the window's surfaces.
    pub inside: bool,
    /// The cursor is hidden (null `wl_pointer.set_cursor`).
    pub hidden: bool,
    /// The last enter / motion.
    pub last_motion: Instant,
}

impl CursorAutohide {
    /// Outside the window, shown.
    pub fn new(now: Instant) -> Self {
        CursorAutohide {
            inside: false,
            hidden: false,
            last_motion: now,
        }
    }

    /// When the cursor is to be hidden, if it is shown over a fullscreen window.
    pub fn hide_at(&self, fullscreen: bool) -> Option<Instant> {
        (fullscreen && self.inside && !self.hidden).then_some(self.last_motion + CURSOR_AUTOHIDE)
    }

    /// Enter / motion at `now`: returns whether the cursor must be shown again.
    pub fn motion(&mut self, now: Instant) -> bool {
        self.inside = true;
        self.last_motion = now;
        std::mem::take(&mut self.hidden)
    }

    /// Whether to hide the cursor at `now` (then it counts as hidden).
    pub fn hide_now(&mut self, now: Instant, fullscreen: bool) -> bool {
        match self.hide_at(fullscreen) {
            Some(t) if now >= t => {
                self.hidden = true;
                true
            }
            _ => false,
        }
    }

    /// Fullscreen ended: whether the hidden cursor must be shown again.
    pub fn left_fullscreen(&mut self) -> bool {
        std::mem::take(&mut self.hidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_click_within_300_ms() {
        let mut d = DoubleClick::default();
        assert!(!d.press(1000));
        assert!(d.press(1300), "300 ms apart");
        // a third press starts a new pair
        assert!(!d.press(1350));
        assert!(!d.press(1700), "350 ms apart");
        assert!(d.press(1750));
        // the millisecond clock wraps
        assert!(!d.press(u32::MAX - 50));
        assert!(d.press(100));
    }

    #[test]
    fn cursor_hides_after_a_second_still_in_fullscreen_only() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut c = CursorAutohide::new(t0);
        // outside the window: never
        assert_eq!(c.hide_at(true), None);
        assert!(!c.motion(t0));
        // windowed: never
        assert_eq!(c.hide_at(false), None);
        assert!(!c.hide_now(t0 + ms(5000), false));
        // fullscreen: at 1 s after the last motion
        assert_eq!(c.hide_at(true), Some(t0 + ms(1000)));
        assert!(!c.hide_now(t0 + ms(999), true));
        assert!(!c.motion(t0 + ms(500)));
        assert!(!c.hide_now(t0 + ms(1499), true), "motion at 500 ms");
        assert!(c.hide_now(t0 + ms(1500), true));
        assert!(c.hidden);
        assert_eq!(c.hide_at(true), None, "already hidden");
        // motion shows it again (once)
        assert!(c.motion(t0 + ms(2000)));
        assert!(!c.motion(t0 + ms(2001)));
        assert!(c.hide_now(t0 + ms(3001), true));
        // leaving fullscreen shows it
        assert!(c.left_fullscreen());
        assert!(!c.left_fullscreen());
    }
}
