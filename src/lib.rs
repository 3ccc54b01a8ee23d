//! vreqplay: the player. [`cli`] is the command line (clap; `main.rs` acts
//! on it, the `xtask` crate makes the man page and completions of it);
//! [`player`] wires the crates together. The data path (`docs/ARCHITECTURE.md`):
//!
//! ```text
//! file ─► vreq-container ─► vreq-codec ──┐ CodecEvent (Configure, Decode, Output, Unref)
//! VA client ─► vreq-va (VA buffers) ─────┤
//!                                        ▼
//!                                   vreq-engine ─► vreq-v4l2 ─► kernel
//!                                        │   DecodeJob ─► media request
//!                                        │   Completed ◄─ CAPTURE DQBUF
//!                                        ▼
//!                 DecodedFrame (vreq-frame: format, planes, dmabufs)
//!                  │                                      │
//!  vreqplay ─► vreq-present: wayland | y4m | null     vreq-va: the client's surfaces
//!
//! file ─► vreq-container ─► vreq-audio: decode ─► mix ─► output (cpal / ALSA)
//!         (audio packets)                                  │ AudioClock: the pts being heard
//!                                                          ▼
//!                                   vreqplay: each frame due at its pts on that clock
//! ```
//!
//! This is the only crate that depends on both the device crate
//! (`vreq-v4l2`) and the presentation crate (`vreq-present`).

#![forbid(unsafe_code)]

pub mod cli;
pub mod player;

/// Makes every panic of this process abort it: the standard hook prints the
/// message (thread, file:line, `RUST_BACKTRACE`) as before, then
/// `std::process::abort()` (SIGABRT; exit status 134 from a shell). Whichever
/// thread panics, nothing unwinds past the hook: no `Drop` runs and no
/// `JoinHandle::join` sees an `Err`, so a bug cannot leave a half-torn player
/// running. `main` installs it first. This is the player's `panic = "abort"`:
/// the `release` profile unwinds (Cargo.toml says why: the VA driver, built
/// from the same profile, catches panics at its C boundary, and one profile
/// is one build of the dependency graph). Tested in `tests/abort_on_panic.rs`.
pub fn abort_on_panic() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        std::process::abort();
    }));
}
