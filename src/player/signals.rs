//! SIGINT and SIGTERM end the player as the `q` key does (mpv's
//! behaviour): the flag [`install`] returns is set by the signal handler
//! (`signal_hook::flag::register`, async-signal-safe: one atomic store),
//! the play loop reads it where it reads the keys ([`super::Controls::quit`])
//! and the playlist stops before the next file
//! ([`super::run_playlist_until`]). So every output's sink is dropped
//! normally — the kiosk puts the CRTC back as it found it — and the exit
//! status is [`EXIT_SIGNAL`] (mpv's 4, "quit due to a signal";
//! `DOCS/man/mpv.rst`, EXIT CODES).
//!
//! A second SIGINT / SIGTERM while quitting does what the signal does by
//! default (terminates the process:
//! `signal_hook::flag::register_conditional_default`), so a player stuck
//! on the way out can still be stopped with Ctrl+C.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

/// mpv's exit status after a quit by signal.
pub const EXIT_SIGNAL: u8 = 4;

/// The signals that quit.
pub const QUIT_SIGNALS: [i32; 2] = [SIGINT, SIGTERM];

/// Registers the handlers for [`QUIT_SIGNALS`] and returns the flag they
/// set. Errors: `sigaction` refused (the message of the OS error).
pub fn install() -> std::io::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in QUIT_SIGNALS {
        // first: a signal arriving with the flag already set (a second
        // one) terminates as by default; then: set the flag
        signal_hook::flag::register_conditional_default(sig, Arc::clone(&flag))?;
        signal_hook::flag::register(sig, Arc::clone(&flag))?;
    }
    Ok(flag)
}

/// Whether `flag` (from [`install`]) was set by a signal.
pub fn raised(flag: Option<&Arc<AtomicBool>>) -> bool {
    flag.is_some_and(|f| f.load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raised_reads_the_flag() {
        assert!(!raised(None));
        let f = Arc::new(AtomicBool::new(false));
        assert!(!raised(Some(&f)));
        f.store(true, Ordering::Relaxed);
        assert!(raised(Some(&f)));
    }
}
