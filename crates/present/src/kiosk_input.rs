//! Keys without a compositor (the kiosk): local keyboards read through evdev
//! (`/dev/input/event*`), mapped to the same actions as the window's keys
//! (mpv's default bindings). Skeleton: filled by the input work.

use std::os::fd::BorrowedFd;

use crate::{PresentError, UserCommand};

/// Local keyboards (and the `VREQ_TEST_KEYS` hook) for a sink without a
/// compositor.
#[derive(Debug, Default)]
pub struct KioskInput {}

impl KioskInput {
    /// Opens every keyboard under `/dev/input` (none readable: one warning,
    /// no keys) and the test hook file when given.
    pub fn open(test_keys: Option<&std::path::Path>) -> Result<Self, PresentError> {
        let _ = test_keys;
        Ok(KioskInput {})
    }
    /// The fds to poll for input (readable = [`KioskInput::read`] has work).
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        Vec::new()
    }
    /// Commands from the keys pressed since the last call, oldest first
    /// (never blocks).
    pub fn read(&mut self) -> Vec<UserCommand> {
        Vec::new()
    }
}
