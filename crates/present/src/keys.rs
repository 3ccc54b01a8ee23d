//! Keys → player commands, shared by the window ([`crate::wayland`]) and
//! the kiosk ([`crate::kiosk_input`]): **keysyms** (what the user's layout
//! puts on the key, through xkbcommon — in the window sctk's `xkbcommon`
//! feature translates each `wl_keyboard.key` with the compositor's keymap,
//! in the kiosk [`crate::kiosk_input`] translates evdev codes with the
//! keymap libxkbcommon compiles from `XKB_DEFAULT_*`) mapped to actions,
//! after mpv's default bindings (`etc/input.conf`). On AZERTY the quit key
//! is the one labelled `Q`, wherever it sits.
//!
//! | keysym (xkbcommon name) | action | mpv binding |
//! |---|---|---|
//! | `space`, `p` | [`UserCommand::TogglePause`] | `SPACE` / `p cycle pause` |
//! | `q`, `Q` | [`UserCommand::Quit`] | `q quit`, `Q quit-watch-later` (no watch-later here) |
//! | `Left` / `Right` | [`UserCommand::Seek`] −5 / +5 | `LEFT seek -5`, `RIGHT seek 5` |
//! | `Down` / `Up` | [`UserCommand::Seek`] −60 / +60 | `DOWN seek -60`, `UP seek 60` |
//! | `Page_Down` / `Page_Up` | [`UserCommand::Chapter`] −1 / +1 | `PGDWN` / `PGUP add chapter ±1` |
//! | `greater`, `Return`, `KP_Enter` | [`UserCommand::PlaylistNext`] | `>` / `ENTER playlist-next` (mpv leaves `KP_ENTER` unbound; bound here as the brief of issue 13 asks) |
//! | `less` | [`UserCommand::PlaylistPrev`] | `< playlist-prev` |
//! | `period` / `comma` | [`UserCommand::FrameStep`] / [`UserCommand::FrameBackStep`] | `. frame-step`, `, frame-back-step` |
//! | `9`, `slash`, `KP_Divide` | [`UserCommand::VolumeDown`] | `9` / `/` / `KP_DIVIDE add volume -2` |
//! | `0`, `asterisk`, `KP_Multiply` | [`UserCommand::VolumeUp`] | `0` / `*` / `KP_MULTIPLY add volume 2` |
//! | `m` | [`UserCommand::ToggleMute`] | `m cycle mute` |
//! | `o`, `P` | [`UserCommand::ShowProgress`] | `o` / `P show-progress` |
//! | `i` | [`UserCommand::ShowStats`] | `i script-binding stats/display-stats` |
//! | `f` | [`KeyAction::ToggleFullscreen`] (the window; nothing in the kiosk) | `f cycle fullscreen` |
//! | `Escape` | [`KeyAction::Escape`]: leave fullscreen, else quit (the kiosk: quit) | `ESC set fullscreen no` (mpv quits on `ESC` only when encoding; the player's interface asks quit) |
//!
//! The keypad's digits (`KP_9`, `KP_0`) are other keysyms and do nothing, as
//! in mpv (which binds `KP9` to `video-zoom`). A key pressed with Ctrl, Alt
//! or Super does nothing (mpv looks such a press up as `Ctrl+x`, which these
//! bindings are not). Only the seek keys repeat while held
//! ([`repeats`]; mpv repeats every key but quits / toggles make no sense
//! repeated): in the window at the compositor's `wl_keyboard.repeat_info` rate
//! and delay, in the kiosk on the kernel's autorepeat events (`EV_KEY` value 2).
//!
//! The test hook (`VREQ_TEST_KEYS`, [`crate::test_keys`]) names keysyms as
//! xkbcommon does ([`keysym_from_name`]) and feeds them to the same
//! [`keysym_action`].

pub use xkbcommon::xkb::Keysym;

use crate::UserCommand;

/// What a key press asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAction {
    /// Handed to the player through [`crate::Sink::take_commands`].
    Command(UserCommand),
    /// `f`: the window toggles fullscreen itself.
    ToggleFullscreen,
    /// `Escape`: the window leaves fullscreen when fullscreen, else
    /// [`UserCommand::Quit`] ([`escape_action`]).
    Escape,
}

/// One row of [`BINDINGS`]: the keys that do one thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// The keysyms, each with its xkbcommon name (`keysym_from_name(name)`
    /// gives the keysym: a test checks every row).
    pub keys: &'static [(Keysym, &'static str)],
    /// What a press does.
    pub action: KeyAction,
    /// What it does, one line for `vreqplay --help` and the man page's KEYS
    /// (mpv's wording where mpv has the binding).
    pub help: &'static str,
}

use KeyAction::Command as C;
use UserCommand as U;

/// The key map: [`keysym_action`] dispatches on it, and `vreqplay --help` /
/// `vreqplay.1` (KEYS) are generated from it (`vreqplay::cli`). A keysym is in
/// at most one row (a test checks).
pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[(Keysym::space, "space"), (Keysym::p, "p")],
        action: C(U::TogglePause),
        help: "pause / resume (picture and sound)",
    },
    Binding {
        keys: &[(Keysym::q, "q"), (Keysym::Q, "Q")],
        action: C(U::Quit),
        help: "quit",
    },
    Binding {
        keys: &[(Keysym::Escape, "Escape")],
        action: KeyAction::Escape,
        help: "leave fullscreen; quit when not fullscreen (--vo=drm: quit)",
    },
    Binding {
        keys: &[(Keysym::f, "f")],
        action: KeyAction::ToggleFullscreen,
        help: "fullscreen on / off, as a double click does (--vo=drm: nothing, always full screen)",
    },
    Binding {
        keys: &[(Keysym::Left, "Left")],
        action: C(U::Seek(-5)),
        help: "seek 5 s back (keyframe seek unless --hr-seek=yes; repeats while held)",
    },
    Binding {
        keys: &[(Keysym::Right, "Right")],
        action: C(U::Seek(5)),
        help: "seek 5 s forward (keyframe seek unless --hr-seek=yes; repeats while held)",
    },
    Binding {
        keys: &[(Keysym::Down, "Down")],
        action: C(U::Seek(-60)),
        help: "seek 60 s back (repeats while held)",
    },
    Binding {
        keys: &[(Keysym::Up, "Up")],
        action: C(U::Seek(60)),
        help: "seek 60 s forward (repeats while held)",
    },
    Binding {
        keys: &[(Keysym::Page_Down, "Page_Down")],
        action: C(U::Chapter(-1)),
        help: "previous chapter; without chapters 10 % of the duration back",
    },
    Binding {
        keys: &[(Keysym::Page_Up, "Page_Up")],
        action: C(U::Chapter(1)),
        help: "next chapter; without chapters 10 % of the duration forward",
    },
    Binding {
        keys: &[
            (Keysym::greater, "greater"),
            (Keysym::Return, "Return"),
            (Keysym::KP_Enter, "KP_Enter"),
        ],
        action: C(U::PlaylistNext),
        help: "next file of the playlist",
    },
    Binding {
        keys: &[(Keysym::less, "less")],
        action: C(U::PlaylistPrev),
        help: "previous file of the playlist",
    },
    Binding {
        keys: &[(Keysym::period, "period")],
        action: C(U::FrameStep),
        help: "show the next frame, then pause (frame step)",
    },
    Binding {
        keys: &[(Keysym::comma, "comma")],
        action: C(U::FrameBackStep),
        help: "go back one frame, then pause: keyframe-bound, it decodes from the keyframe \
               at or before the previous frame and shows only that frame",
    },
    Binding {
        keys: &[
            (Keysym::_9, "9"),
            (Keysym::slash, "slash"),
            (Keysym::KP_Divide, "KP_Divide"),
        ],
        action: C(U::VolumeDown),
        help: "volume down by 2 (of 0..100)",
    },
    Binding {
        keys: &[
            (Keysym::_0, "0"),
            (Keysym::asterisk, "asterisk"),
            (Keysym::KP_Multiply, "KP_Multiply"),
        ],
        action: C(U::VolumeUp),
        help: "volume up by 2 (of 0..100)",
    },
    Binding {
        keys: &[(Keysym::m, "m")],
        action: C(U::ToggleMute),
        help: "mute on / off",
    },
    Binding {
        keys: &[(Keysym::o, "o"), (Keysym::P, "P")],
        action: C(U::ShowProgress),
        help: "show the seek bar and time",
    },
    Binding {
        keys: &[(Keysym::i, "i")],
        action: C(U::ShowStats),
        help: "show statistics (decoder device, codec, sizes, zero-copy / copied, dropped, A-V)",
    },
];

/// How the docs write a key: its character for a printable ASCII keysym
/// (`>`, `.`, `9`, `P`), else its xkbcommon name (`space`, `Left`,
/// `Page_Up`, `KP_Enter`).
pub fn key_label(sym: Keysym, name: &'static str) -> String {
    match char::from_u32(sym.raw()) {
        Some(c) if c.is_ascii_graphic() => c.to_string(),
        _ => name.to_string(),
    }
}

/// The action of a pressed key's keysym ([`BINDINGS`]), `None` for keys
/// without one.
pub fn keysym_action(sym: Keysym) -> Option<KeyAction> {
    BINDINGS
        .iter()
        .find(|b| b.keys.iter().any(|&(k, _)| k == sym))
        .map(|b| b.action)
}

/// The action of a key press with the modifiers held: none with Ctrl, Alt or
/// Super (Logo); Shift and the locks are already in the keysym (`Q`, `>`).
pub fn key_press_action(sym: Keysym, ctrl: bool, alt: bool, logo: bool) -> Option<KeyAction> {
    if ctrl || alt || logo {
        return None;
    }
    keysym_action(sym)
}

/// Whether a held key repeats: only the relative seeks (`Left`, `Right`,
/// `Up`, `Down`).
pub fn repeats(action: KeyAction) -> bool {
    matches!(action, KeyAction::Command(UserCommand::Seek(_)))
}

/// What `Escape` does: `None` = the window leaves fullscreen (it is
/// fullscreen), else [`UserCommand::Quit`].
pub fn escape_action(fullscreen: bool) -> Option<UserCommand> {
    (!fullscreen).then_some(UserCommand::Quit)
}

/// The keysym named `name` (`xkb_keysym_from_name`, case-sensitive: `q` and
/// `Q` differ), `None` for an unknown name (`NoSymbol`) or one containing NUL.
pub fn keysym_from_name(name: &str) -> Option<Keysym> {
    if name.is_empty() || name.contains('\0') {
        return None;
    }
    let sym = xkbcommon::xkb::keysym_from_name(name, xkbcommon::xkb::KEYSYM_NO_FLAGS);
    (sym != Keysym::NoSymbol).then_some(sym)
}

/// What a key does in the kiosk (no window, always full screen): `Escape`
/// quits, `f` does nothing, every other action is its command.
pub fn kiosk_command(action: KeyAction) -> Option<UserCommand> {
    match action {
        KeyAction::Command(c) => Some(c),
        KeyAction::Escape => Some(UserCommand::Quit),
        KeyAction::ToggleFullscreen => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(name: &str) -> Option<KeyAction> {
        keysym_action(keysym_from_name(name).unwrap_or_else(|| panic!("no keysym {name}")))
    }

    #[test]
    fn mpv_key_map_by_keysym_name() {
        use KeyAction::Command as C;
        use UserCommand as U;
        let want = [
            ("space", C(U::TogglePause)),
            ("p", C(U::TogglePause)),
            ("q", C(U::Quit)),
            ("Q", C(U::Quit)),
            ("Left", C(U::Seek(-5))),
            ("Right", C(U::Seek(5))),
            ("Down", C(U::Seek(-60))),
            ("Up", C(U::Seek(60))),
            ("Page_Down", C(U::Chapter(-1))),
            ("Next", C(U::Chapter(-1))), // Page_Down's other name, same keysym
            ("Page_Up", C(U::Chapter(1))),
            ("greater", C(U::PlaylistNext)),
            ("Return", C(U::PlaylistNext)),
            ("KP_Enter", C(U::PlaylistNext)),
            ("less", C(U::PlaylistPrev)),
            ("period", C(U::FrameStep)),
            ("comma", C(U::FrameBackStep)),
            ("9", C(U::VolumeDown)),
            ("slash", C(U::VolumeDown)),
            ("KP_Divide", C(U::VolumeDown)),
            ("0", C(U::VolumeUp)),
            ("asterisk", C(U::VolumeUp)),
            ("KP_Multiply", C(U::VolumeUp)),
            ("m", C(U::ToggleMute)),
            ("o", C(U::ShowProgress)),
            ("P", C(U::ShowProgress)),
            ("i", C(U::ShowStats)),
            ("f", KeyAction::ToggleFullscreen),
            ("Escape", KeyAction::Escape),
        ];
        for (name, action) in want {
            assert_eq!(cmd(name), Some(action), "{name}");
        }
        // keys without a binding: other letters, the keypad digits (mpv: KP9 is
        // video-zoom), F (capital: mpv's sub-scale), M, O, I, BackSpace, a, 1
        for name in [
            "a",
            "F",
            "M",
            "O",
            "I",
            "KP_9",
            "KP_0",
            "KP_Left",
            "BackSpace",
            "1",
            "w",
            "Tab",
        ] {
            assert_eq!(cmd(name), None, "{name}");
        }
    }

    /// What sctk does with each `wl_keyboard.key` (xkbcommon: evdev code + 8
    /// → keysym in the compositor's keymap), here with the French AZERTY
    /// layout compiled from the system's xkb-data: bindings follow the labels.
    #[test]
    fn azerty_keys_act_by_their_label_not_their_position() {
        use xkbcommon::xkb;
        let keysym_of = |layout: &str, evdev: u32| {
            let ctx = xkb::Context::new(xkb::CONTEXT_NO_FLAGS);
            let km = xkb::Keymap::new_from_names(
                &ctx,
                "evdev",
                "pc105",
                layout,
                "",
                None,
                xkb::COMPILE_NO_FLAGS,
            )
            .unwrap_or_else(|| panic!("xkb layout {layout} (xkb-data, scripts/setup-host.sh)"));
            xkb::State::new(&km).key_get_one_sym(xkb::Keycode::new(evdev + 8))
        };
        const KEY_Q: u32 = 16;
        const KEY_A: u32 = 30;
        const KEY_SEMICOLON: u32 = 39;
        const KEY_M: u32 = 50;
        let quit = Some(KeyAction::Command(UserCommand::Quit));
        // US: the key at Q quits
        assert_eq!(keysym_action(keysym_of("us", KEY_Q)), quit);
        // AZERTY: the key labelled Q sits where US has A
        assert_eq!(keysym_of("fr", KEY_A), Keysym::q);
        assert_eq!(keysym_action(keysym_of("fr", KEY_A)), quit);
        assert_eq!(keysym_action(keysym_of("fr", KEY_Q)), None, "labelled A");
        // m (mute) is right of L, and US's m position gives a comma (frame back step)
        assert_eq!(
            keysym_action(keysym_of("fr", KEY_SEMICOLON)),
            Some(KeyAction::Command(UserCommand::ToggleMute))
        );
        assert_eq!(
            keysym_action(keysym_of("fr", KEY_M)),
            Some(KeyAction::Command(UserCommand::FrameBackStep))
        );
    }

    #[test]
    fn binding_table_names_are_xkbcommons_and_each_keysym_is_in_one_row() {
        let mut seen = std::collections::HashSet::new();
        for b in BINDINGS {
            assert!(!b.keys.is_empty() && !b.help.is_empty(), "{b:?}");
            for &(sym, name) in b.keys {
                assert_eq!(keysym_from_name(name), Some(sym), "{name}");
                assert!(seen.insert(sym), "{name} in two rows");
                assert_eq!(keysym_action(sym), Some(b.action), "{name}");
            }
        }
        assert_eq!(key_label(Keysym::greater, "greater"), ">");
        assert_eq!(key_label(Keysym::_9, "9"), "9");
        assert_eq!(key_label(Keysym::space, "space"), "space");
        assert_eq!(key_label(Keysym::KP_Multiply, "KP_Multiply"), "KP_Multiply");
        assert_eq!(key_label(Keysym::Page_Up, "Page_Up"), "Page_Up");
    }

    #[test]
    fn keysym_names_are_case_sensitive_and_unknown_names_fail() {
        assert_eq!(keysym_from_name("q"), Some(Keysym::q));
        assert_eq!(keysym_from_name("Q"), Some(Keysym::Q));
        assert_eq!(keysym_from_name("right"), None);
        assert_eq!(keysym_from_name("Right"), Some(Keysym::Right));
        for bad in ["", "NoSymbol", "nonsense", "Ri\0ght", " space"] {
            assert_eq!(keysym_from_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn modifiers_disable_bindings_shift_does_not() {
        assert_eq!(
            key_press_action(Keysym::q, true, false, false),
            None,
            "Ctrl+q"
        );
        assert_eq!(key_press_action(Keysym::Left, false, true, false), None);
        assert_eq!(key_press_action(Keysym::f, false, false, true), None);
        // Shift is already in the keysym: Shift+q arrives as Q
        assert_eq!(
            key_press_action(Keysym::Q, false, false, false),
            Some(KeyAction::Command(UserCommand::Quit))
        );
    }

    #[test]
    fn only_seeks_repeat() {
        for s in [Keysym::Left, Keysym::Right, Keysym::Up, Keysym::Down] {
            assert!(repeats(keysym_action(s).unwrap()), "{s:?}");
        }
        for s in [
            Keysym::space,
            Keysym::q,
            Keysym::Page_Up,
            Keysym::period,
            Keysym::f,
            Keysym::Escape,
            Keysym::_9,
            Keysym::greater,
        ] {
            assert!(!repeats(keysym_action(s).unwrap()), "{s:?}");
        }
    }

    #[test]
    fn kiosk_escape_quits_and_f_does_nothing() {
        assert_eq!(
            kiosk_command(keysym_action(Keysym::Escape).unwrap()),
            Some(UserCommand::Quit)
        );
        assert_eq!(kiosk_command(keysym_action(Keysym::f).unwrap()), None);
        assert_eq!(
            kiosk_command(keysym_action(Keysym::space).unwrap()),
            Some(UserCommand::TogglePause)
        );
        assert_eq!(
            kiosk_command(keysym_action(Keysym::Left).unwrap()),
            Some(UserCommand::Seek(-5))
        );
    }

    #[test]
    fn escape_leaves_fullscreen_else_quits() {
        assert_eq!(escape_action(true), None);
        assert_eq!(escape_action(false), Some(UserCommand::Quit));
    }
}
