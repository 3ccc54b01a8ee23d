//! Keys: `wl_keyboard.key` codes mapped to what the window does. `space` →
//! [`UserCommand::TogglePause`], `q` / `Esc` → [`UserCommand::Quit`] (both
//! through [`crate::Sink::take_commands`]), `f` toggles fullscreen
//! (`set_fullscreen` / `unset_fullscreen` from the last configure's state);
//! `9` / `0` → [`UserCommand::VolumeDown`] / [`UserCommand::VolumeUp`] and
//! `m` → [`UserCommand::ToggleMute`], mpv's default bindings
//! (`etc/input.conf`: `9 add volume -2`, `0 add volume 2`, `m cycle mute`).
//!
//! The codes are Linux evdev key codes (`linux/input-event-codes.h`;
//! wl_keyboard.key's `key` with the `xkb_v1` keymap is the evdev code, the
//! XKB keycode minus 8). They name **physical keys by their US-QWERTY
//! position**, not the symbol the user's layout puts there: no xkbcommon
//! (a system library) is used to translate them, so on AZERTY the quit key is
//! the one labelled `A`. `space`, `Esc` and `f` sit at the same place on
//! common layouts.

use crate::UserCommand;

/// `KEY_ESC` (linux/input-event-codes.h).
pub const KEY_ESC: u32 = 1;
/// `KEY_9` (the main row, not the keypad).
pub const KEY_9: u32 = 10;
/// `KEY_0`.
pub const KEY_0: u32 = 11;
/// `KEY_Q`.
pub const KEY_Q: u32 = 16;
/// `KEY_F`.
pub const KEY_F: u32 = 33;
/// `KEY_M`.
pub const KEY_M: u32 = 50;
/// `KEY_SPACE`.
pub const KEY_SPACE: u32 = 57;

/// What a key press asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAction {
    /// Handed to the player through [`crate::Sink::take_commands`].
    Command(UserCommand),
    /// `f`: the window toggles fullscreen itself.
    ToggleFullscreen,
}

/// The action of a pressed key (evdev code), `None` for keys without one.
pub fn key_action(code: u32) -> Option<KeyAction> {
    match code {
        KEY_SPACE => Some(KeyAction::Command(UserCommand::TogglePause)),
        KEY_Q | KEY_ESC => Some(KeyAction::Command(UserCommand::Quit)),
        KEY_F => Some(KeyAction::ToggleFullscreen),
        KEY_9 => Some(KeyAction::Command(UserCommand::VolumeDown)),
        KEY_0 => Some(KeyAction::Command(UserCommand::VolumeUp)),
        KEY_M => Some(KeyAction::Command(UserCommand::ToggleMute)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_actions() {
        assert_eq!(
            key_action(57),
            Some(KeyAction::Command(UserCommand::TogglePause))
        );
        assert_eq!(key_action(16), Some(KeyAction::Command(UserCommand::Quit)));
        assert_eq!(key_action(1), Some(KeyAction::Command(UserCommand::Quit)));
        assert_eq!(key_action(33), Some(KeyAction::ToggleFullscreen));
        assert_eq!(
            key_action(10),
            Some(KeyAction::Command(UserCommand::VolumeDown))
        );
        assert_eq!(
            key_action(11),
            Some(KeyAction::Command(UserCommand::VolumeUp))
        );
        assert_eq!(
            key_action(50),
            Some(KeyAction::Command(UserCommand::ToggleMute))
        );
        // KEY_A, KEY_ENTER, KEY_W, 0, the XKB code of space (57 + 8), KEY_1 and
        // the keypad's 9 / 0 (KEY_KP9, KEY_KP0) do nothing
        for c in [30, 28, 17, 0, 65, 2, 73, 82, u32::MAX] {
            assert_eq!(key_action(c), None, "code {c}");
        }
    }
}
