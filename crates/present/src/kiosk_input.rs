//! Keys without a compositor (the kiosk, `--vo=drm`): every local keyboard
//! under `/dev/input/event*` read through evdev, non-blocking, and the
//! `VREQ_TEST_KEYS` hook ([`crate::test_keys`]), mapped to the same actions
//! as the window's keys ([`crate::keys`], mpv's default bindings) with two
//! kiosk differences: `Escape` quits and `f` does nothing
//! ([`crate::keys::kiosk_command`]).
//!
//! A keyboard is an event device whose `EV_KEY` capabilities include
//! `KEY_Q` and `KEY_SPACE` (linux/input-event-codes.h), so power buttons,
//! lid switches and mice are left alone. Its key codes become keysyms as a
//! compositor would make them: a keymap compiled by libxkbcommon from the
//! default RMLVO names (`xkb_keymap_new_from_names` with empty names, so
//! `XKB_DEFAULT_RULES` / `XKB_DEFAULT_MODEL` / `XKB_DEFAULT_LAYOUT` /
//! `XKB_DEFAULT_VARIANT` / `XKB_DEFAULT_OPTIONS` apply, else libxkbcommon's
//! built-in `evdev` / `pc105` / `us`), and `xkb_state_key_get_one_sym` on
//! the evdev code + 8 (the evdev → XKB keycode offset of the `evdev`
//! rules), with Shift / Ctrl / Alt / the locks tracked by
//! `xkb_state_update_key` on presses and releases. On AZERTY
//! (`XKB_DEFAULT_LAYOUT=fr`) the key labelled `Q` quits, as in the window.
//!
//! A held key repeats through the kernel's own autorepeat (`EV_KEY` events
//! of value 2, at the device's `EV_REP` delay and period): only the seek keys
//! act on repeats ([`crate::keys::repeats`]), as in the window. A key with
//! Ctrl, Alt or Super held does nothing.
//!
//! No readable keyboard (none plugged, or no permission: the `input` group)
//! is one info line and no keys. A keyboard unplugged while playing is one
//! info line and dropped. Devices plugged in later are not picked up. The
//! keyboards are not grabbed (`EVIOCGRAB`): the VT under the KMS picture
//! receives the same keys, as under mpv's `--vo=drm`.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use evdev::{Device, EventSummary, KeyCode};
use xkbcommon::xkb;

use crate::keys::{key_press_action, keysym_action, kiosk_command, repeats, Keysym};
use crate::test_keys::TestKeys;
use crate::{PresentError, UserCommand};

/// Where keyboards are looked for (the kernel's evdev nodes).
pub const INPUT_DIR: &str = "/dev/input";

/// The evdev → XKB keycode offset (`evdev` rules: XKB keycode = evdev code + 8).
const EVDEV_OFFSET: u32 = 8;

/// Most read calls per keyboard per [`KioskInput::read`] (each returns at
/// most one kernel buffer of events): the rest waits for the next call.
const MAX_READS: usize = 16;

/// Key codes → keysyms → kiosk commands for one keymap, with the modifier
/// state of the keys seen so far (all keyboards share it, as a seat does).
pub struct KeyMapper {
    state: xkb::State,
}

impl std::fmt::Debug for KeyMapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyMapper")
    }
}

impl KeyMapper {
    /// The keymap libxkbcommon compiles from the default names (the
    /// `XKB_DEFAULT_*` environment, else `evdev` / `pc105` / `us`).
    /// Errors: the keymap does not compile (no xkb-data, or an unknown
    /// layout in the environment), naming the environment's values.
    pub fn from_env() -> Result<Self, String> {
        Self::from_names("", "", "", "", None).ok_or_else(|| {
            let env = |k: &str| std::env::var(k).unwrap_or_default();
            format!(
                "no xkb keymap for XKB_DEFAULT_RULES={:?} XKB_DEFAULT_MODEL={:?} \
                 XKB_DEFAULT_LAYOUT={:?} XKB_DEFAULT_VARIANT={:?} (is xkb-data installed?)",
                env("XKB_DEFAULT_RULES"),
                env("XKB_DEFAULT_MODEL"),
                env("XKB_DEFAULT_LAYOUT"),
                env("XKB_DEFAULT_VARIANT"),
            )
        })
    }

    /// The keymap of these RMLVO names (empty = libxkbcommon's default for
    /// that name); `None` when it does not compile.
    pub fn from_names(
        rules: &str,
        model: &str,
        layout: &str,
        variant: &str,
        options: Option<String>,
    ) -> Option<Self> {
        let nul = |s: &str| s.contains('\0');
        if nul(rules) || nul(model) || nul(layout) || nul(variant) {
            return None;
        }
        if options.as_deref().is_some_and(nul) {
            return None;
        }
        let ctx = xkb::Context::new(xkb::CONTEXT_NO_FLAGS);
        let km = xkb::Keymap::new_from_names(
            &ctx,
            rules,
            model,
            layout,
            variant,
            options,
            xkb::COMPILE_NO_FLAGS,
        )?;
        Some(KeyMapper {
            state: xkb::State::new(&km),
        })
    }

    /// The keysym the key with evdev code `code` gives now (with the
    /// modifiers held), `NoSymbol` for a key the keymap lacks.
    pub fn keysym(&self, code: u16) -> Keysym {
        self.state
            .key_get_one_sym(xkb::Keycode::new(u32::from(code) + EVDEV_OFFSET))
    }

    /// One `EV_KEY` event (`value`: 0 release, 1 press, 2 autorepeat): the
    /// kiosk command it gives, if any. Presses and releases update the
    /// modifier state; a repeat acts only for the seek keys.
    pub fn key_event(&mut self, code: u16, value: i32) -> Option<UserCommand> {
        let keycode = xkb::Keycode::new(u32::from(code) + EVDEV_OFFSET);
        match value {
            0 => {
                self.state.update_key(keycode, xkb::KeyDirection::Up);
                None
            }
            1 => {
                // the keysym with the modifiers before this key (xkbcommon's
                // order: look up, then update)
                let sym = self.state.key_get_one_sym(keycode);
                let action = self.action(sym);
                self.state.update_key(keycode, xkb::KeyDirection::Down);
                action.and_then(kiosk_command)
            }
            2 => {
                let sym = self.state.key_get_one_sym(keycode);
                self.action(sym)
                    .filter(|a| repeats(*a))
                    .and_then(kiosk_command)
            }
            _ => None,
        }
    }

    fn action(&self, sym: Keysym) -> Option<crate::keys::KeyAction> {
        let active = |m: &str| self.state.mod_name_is_active(m, xkb::STATE_MODS_EFFECTIVE);
        key_press_action(
            sym,
            active(xkb::MOD_NAME_CTRL),
            active(xkb::MOD_NAME_ALT),
            active(xkb::MOD_NAME_LOGO),
        )
    }
}

/// Whether a device's `EV_KEY` capabilities make it a keyboard here: it has
/// both `KEY_Q` and `KEY_SPACE`.
pub fn is_keyboard(dev: &Device) -> bool {
    dev.supported_keys()
        .is_some_and(|k| k.contains(KeyCode::KEY_Q) && k.contains(KeyCode::KEY_SPACE))
}

#[derive(Debug)]
struct Keyboard {
    path: PathBuf,
    dev: Device,
}

/// Local keyboards (and the `VREQ_TEST_KEYS` hook) for a sink without a
/// compositor.
#[derive(Debug, Default)]
pub struct KioskInput {
    keyboards: Vec<Keyboard>,
    mapper: Option<KeyMapper>,
    test_keys: Option<TestKeys>,
}

impl KioskInput {
    /// Opens every keyboard under `/dev/input` ([`KioskInput::open_keyboards`])
    /// and the test hook file when given. Errors: the test hook file cannot
    /// be opened (`test keys: <path>: <error>`); no keyboard is not an error.
    pub fn open(test_keys: Option<&Path>) -> Result<Self, PresentError> {
        let mut me = Self::open_test_keys(test_keys)?;
        me.open_keyboards(Path::new(INPUT_DIR));
        Ok(me)
    }

    /// Only the test hook file (no keyboards: `--no-input` with
    /// `VREQ_TEST_KEYS`). Errors as [`KioskInput::open`].
    pub fn open_test_keys(test_keys: Option<&Path>) -> Result<Self, PresentError> {
        let test_keys = match test_keys {
            Some(p) => {
                Some(TestKeys::open(p).map_err(|e| PresentError::Io(format!("test keys: {e}")))?)
            }
            None => None,
        };
        Ok(KioskInput {
            keyboards: Vec::new(),
            mapper: None,
            test_keys,
        })
    }

    /// Opens the keyboards among `dir`'s `event*` nodes, non-blocking, and
    /// the keymap; logs one info line with what it found (or that there is
    /// no readable keyboard: no keys then).
    pub fn open_keyboards(&mut self, dir: &Path) {
        let mut unreadable = 0usize;
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("event"))
                })
                .collect(),
            Err(e) => {
                tracing::info!("kiosk keys: {}: {e}; no keyboard, no keys", dir.display());
                return;
            }
        };
        entries.sort();
        for path in entries {
            match Device::open(&path) {
                Ok(dev) if is_keyboard(&dev) => {
                    if let Err(e) = dev.set_nonblocking(true) {
                        tracing::warn!("kiosk keys: {}: O_NONBLOCK: {e}", path.display());
                        continue;
                    }
                    self.keyboards.push(Keyboard { path, dev });
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!("kiosk keys: {}: {e}", path.display());
                    unreadable += 1;
                }
            }
        }
        if self.keyboards.is_empty() {
            tracing::info!(
                "kiosk keys: no readable keyboard in {}/event* ({unreadable} not readable: \
                 the input group); no keys",
                dir.display()
            );
            return;
        }
        match KeyMapper::from_env() {
            Ok(m) => self.mapper = Some(m),
            Err(e) => {
                tracing::warn!("kiosk keys: {e}; no keys");
                self.keyboards.clear();
                return;
            }
        }
        let names: Vec<String> = self
            .keyboards
            .iter()
            .map(|k| {
                format!(
                    "{} ({})",
                    k.path.display(),
                    k.dev.name().unwrap_or("unnamed")
                )
            })
            .collect();
        tracing::info!("kiosk keys: {}", names.join(", "));
    }

    /// How many keyboards are open.
    pub fn keyboards(&self) -> usize {
        self.keyboards.len()
    }

    /// The fds to poll for input (readable = [`KioskInput::read`] has work).
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        let mut fds: Vec<BorrowedFd<'_>> = self.keyboards.iter().map(|k| k.dev.as_fd()).collect();
        fds.extend(self.test_keys.as_ref().and_then(|t| t.fd()));
        fds
    }

    /// Commands from the keys pressed since the last call, oldest first
    /// per source (the test hook's, then each keyboard's; never blocks).
    pub fn read(&mut self) -> Vec<UserCommand> {
        let mut out = Vec::new();
        if let Some(t) = self.test_keys.as_mut() {
            for sym in t.take_keysyms() {
                // as a key press, without modifiers or repeat
                if let Some(c) = keysym_action(sym).and_then(kiosk_command) {
                    tracing::debug!("kiosk keys: test key {sym:?}: {c:?}");
                    out.push(c);
                }
            }
            if t.is_done() {
                self.test_keys = None;
            }
        }
        let Some(mapper) = self.mapper.as_mut() else {
            return out;
        };
        let mut gone = Vec::new();
        for (i, kb) in self.keyboards.iter_mut().enumerate() {
            for _ in 0..MAX_READS {
                match kb.dev.fetch_events() {
                    Ok(events) => {
                        let mut any = false;
                        for ev in events {
                            any = true;
                            if let EventSummary::Key(_, code, value) = ev.destructure() {
                                if let Some(c) = mapper.key_event(code.code(), value) {
                                    tracing::debug!(
                                        "kiosk keys: {} {code:?} {value}: {c:?}",
                                        kb.path.display()
                                    );
                                    out.push(c);
                                }
                            }
                        }
                        if !any {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        tracing::info!("kiosk keys: {}: {e}; dropped", kb.path.display());
                        gone.push(i);
                        break;
                    }
                }
            }
        }
        for i in gone.into_iter().rev() {
            self.keyboards.remove(i);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const KEY_ESC: u16 = 1;
    const KEY_Q: u16 = 16;
    const KEY_P: u16 = 25;
    const KEY_A: u16 = 30;
    const KEY_F: u16 = 33;
    const KEY_SEMICOLON: u16 = 39;
    const KEY_LEFTSHIFT: u16 = 42;
    const KEY_M: u16 = 50;
    const KEY_DOT: u16 = 52;
    const KEY_LEFTCTRL: u16 = 29;
    const KEY_SPACE: u16 = 57;
    const KEY_LEFT: u16 = 105;
    const KEY_RIGHT: u16 = 106;

    fn mapper(layout: &str) -> KeyMapper {
        KeyMapper::from_names("evdev", "pc105", layout, "", None)
            .unwrap_or_else(|| panic!("xkb layout {layout} (xkb-data, scripts/setup-host.sh)"))
    }

    fn press(m: &mut KeyMapper, code: u16) -> Option<UserCommand> {
        let c = m.key_event(code, 1);
        assert_eq!(m.key_event(code, 0), None, "a release does nothing");
        c
    }

    #[test]
    fn evdev_codes_to_keysyms_us_and_azerty() {
        let us = mapper("us");
        assert_eq!(us.keysym(KEY_Q), Keysym::q);
        assert_eq!(us.keysym(KEY_A), Keysym::a);
        assert_eq!(us.keysym(KEY_SPACE), Keysym::space);
        assert_eq!(us.keysym(KEY_LEFT), Keysym::Left);
        assert_eq!(us.keysym(KEY_DOT), Keysym::period);
        let fr = mapper("fr");
        assert_eq!(fr.keysym(KEY_A), Keysym::q, "AZERTY: Q where US has A");
        assert_eq!(fr.keysym(KEY_Q), Keysym::a);
        assert_eq!(fr.keysym(KEY_SEMICOLON), Keysym::m);
        assert_eq!(fr.keysym(KEY_M), Keysym::comma);
        // an evdev code past the keymap: no symbol, no command
        assert_eq!(us.keysym(0x2ff), Keysym::NoSymbol);
    }

    #[test]
    fn kiosk_commands_follow_the_layout() {
        let mut us = mapper("us");
        assert_eq!(press(&mut us, KEY_Q), Some(UserCommand::Quit));
        assert_eq!(press(&mut us, KEY_A), None);
        assert_eq!(press(&mut us, KEY_SPACE), Some(UserCommand::TogglePause));
        assert_eq!(
            press(&mut us, KEY_ESC),
            Some(UserCommand::Quit),
            "Esc quits"
        );
        assert_eq!(press(&mut us, KEY_F), None, "f does nothing in the kiosk");
        let mut fr = mapper("fr");
        assert_eq!(press(&mut fr, KEY_A), Some(UserCommand::Quit));
        assert_eq!(press(&mut fr, KEY_Q), None, "labelled A");
        assert_eq!(press(&mut fr, KEY_SEMICOLON), Some(UserCommand::ToggleMute));
        assert_eq!(press(&mut fr, KEY_M), Some(UserCommand::FrameBackStep));
    }

    #[test]
    fn modifiers_are_tracked_across_events() {
        let mut us = mapper("us");
        // Shift+p is P: show-progress, not pause
        assert_eq!(us.key_event(KEY_LEFTSHIFT, 1), None);
        assert_eq!(press(&mut us, KEY_P), Some(UserCommand::ShowProgress));
        assert_eq!(us.key_event(KEY_LEFTSHIFT, 0), None);
        assert_eq!(press(&mut us, KEY_P), Some(UserCommand::TogglePause));
        // Ctrl+q does nothing; q after Ctrl's release quits
        assert_eq!(us.key_event(KEY_LEFTCTRL, 1), None);
        assert_eq!(press(&mut us, KEY_Q), None);
        assert_eq!(us.key_event(KEY_LEFTCTRL, 0), None);
        assert_eq!(press(&mut us, KEY_Q), Some(UserCommand::Quit));
    }

    #[test]
    fn only_seek_keys_act_on_autorepeat() {
        let mut us = mapper("us");
        assert_eq!(us.key_event(KEY_RIGHT, 1), Some(UserCommand::Seek(5)));
        assert_eq!(us.key_event(KEY_RIGHT, 2), Some(UserCommand::Seek(5)));
        assert_eq!(us.key_event(KEY_RIGHT, 2), Some(UserCommand::Seek(5)));
        assert_eq!(us.key_event(KEY_RIGHT, 0), None);
        assert_eq!(us.key_event(KEY_LEFT, 2), Some(UserCommand::Seek(-5)));
        assert_eq!(us.key_event(KEY_SPACE, 1), Some(UserCommand::TogglePause));
        assert_eq!(us.key_event(KEY_SPACE, 2), None, "pause does not repeat");
        assert_eq!(us.key_event(KEY_Q, 2), None);
        assert_eq!(us.key_event(KEY_Q, 7), None, "not a key event value");
    }

    #[test]
    fn bad_rmlvo_names_do_not_compile() {
        assert!(KeyMapper::from_names("evdev", "pc105", "no-such-layout", "", None).is_none());
        assert!(KeyMapper::from_names("evdev", "pc105", "u\0s", "", None).is_none());
    }

    fn tmp(name: &str) -> PathBuf {
        // one directory per test (tests run in parallel), removed by done_with_tmp
        let d =
            std::env::temp_dir().join(format!("vreq-kiosk-input-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        let _ = std::fs::remove_file(&p);
        p
    }

    #[test]
    fn test_keys_file_gives_kiosk_commands() {
        let p = tmp("keys.txt");
        std::fs::write(&p, "Right\nf\nspace\nbogus\nEscape\nq\n").unwrap();
        let mut k = KioskInput::open_test_keys(Some(&p)).unwrap();
        assert_eq!(k.fds().len(), 1);
        assert_eq!(
            k.read(),
            vec![
                UserCommand::Seek(5),
                UserCommand::TogglePause,
                UserCommand::Quit,
                UserCommand::Quit
            ]
        );
        assert!(k.fds().is_empty(), "read out and closed");
        assert!(k.read().is_empty());
        done_with_tmp(&p);
    }

    #[test]
    fn test_keys_fifo_is_polled_and_read_as_written() {
        let p = tmp("keys.fifo");
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let mut k = KioskInput::open_test_keys(Some(&p)).unwrap();
        assert!(k.read().is_empty());
        let mut w = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        w.write_all(b"Left\nperiod\n").unwrap();
        assert_eq!(
            k.read(),
            vec![UserCommand::Seek(-5), UserCommand::FrameStep]
        );
        drop(w);
        assert!(k.read().is_empty());
        assert_eq!(k.fds().len(), 1, "a FIFO stays open for the next writer");
        done_with_tmp(&p);
    }

    #[test]
    fn missing_test_keys_file_is_an_error_naming_it() {
        let p = tmp("absent-keys");
        let e = KioskInput::open_test_keys(Some(&p))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("test keys: ") && e.contains("absent-keys"),
            "{e}"
        );
        done_with_tmp(&p);
    }

    #[test]
    fn a_directory_without_keyboards_gives_no_keys() {
        let d = tmp("no-input-dir");
        std::fs::create_dir_all(&d).unwrap();
        // a regular file named like an event node is not an input device
        std::fs::write(d.join("event0"), b"").unwrap();
        let mut k = KioskInput::default();
        k.open_keyboards(&d);
        assert_eq!(k.keyboards(), 0);
        assert!(k.fds().is_empty());
        assert!(k.read().is_empty());
        k.open_keyboards(&d.join("absent"));
        assert_eq!(k.keyboards(), 0);
        done_with_tmp(&d);
    }

    /// Removes the directory [`tmp`] made for `p`.
    fn done_with_tmp(p: &Path) {
        if let Some(d) = p.parent() {
            std::fs::remove_dir_all(d).unwrap();
        }
    }
}
