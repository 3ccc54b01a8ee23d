//! Where decoded frames go: a Wayland window ([`wayland`]), a Y4M file
//! ([`y4m::Y4mSink`]) or nowhere ([`NullSink`]). Nothing here knows V4L2:
//! sinks see [`DecodedFrame`]s plus a [`FrameSource`] (this crate's trait,
//! implemented by whoever made the frames) for pixels / dmabufs.
//! The copy path's dmabufs come from [`vreq_frame::dmaheap`].

#![forbid(unsafe_code)]

use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use vreq_frame::{DecodedFrame, PlanesRef};

pub mod keys;
pub mod kiosk_input;
pub mod kms;
pub mod test_keys;
pub mod wayland;
pub mod y4m;

/// Access to a frame's memory, provided by the decoder that made it.
pub trait FrameSource {
    /// CPU view of the frame's visible planes. Only the sinks that read
    /// pixels call this (Y4M, the window's and the kiosk's copy paths): the
    /// decoder maps a CAPTURE buffer into the process on its first read
    /// (vreq-v4l2's `capture_map`), so a zero-copy sink, which needs only
    /// [`FrameSource::dmabufs`], must not call it.
    ///
    /// Errors: [`PresentError::Frame`] when the frame's memory cannot be
    /// mapped (the decoder's one-line error).
    fn planes(&self, frame: &DecodedFrame) -> Result<PlanesRef<'_>, PresentError>;
    /// The frame's dmabufs, one per memory plane (maps nothing).
    fn dmabufs(&self, frame: &DecodedFrame) -> Vec<BorrowedFd<'_>>;
}

/// Errors from a sink.
#[derive(Debug, thiserror::Error)]
pub enum PresentError {
    #[error("{0}")]
    Io(String),
    #[error("wayland: {0}")]
    Wayland(String),
    /// The kiosk output (`--vo=drm`): one line naming the card, connector,
    /// mode or plane and what exists instead.
    #[error("drm: {0}")]
    Kms(String),
    /// The user closed the window.
    #[error("window closed")]
    Closed,
    /// A frame's memory could not be read ([`FrameSource::planes`]): the
    /// decoder's one-line error, e.g. `/dev/video0 (visl): mmap(CAPTURE 3
    /// plane 0): ENOMEM: Cannot allocate memory`.
    #[error("{0}")]
    Frame(String),
}

/// What the user asked for through the sink (keys and pointer of the
/// window), named after mpv's default bindings (`etc/input.conf`). Keys the
/// window handles itself (`f`, double-click, `Esc` leaving fullscreen) never
/// show up here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserCommand {
    /// `space` / `p`: pause, or resume where it paused (mpv: `cycle pause`).
    TogglePause,
    /// `q`, `Q`, or `Esc` when not fullscreen (the close button gives
    /// [`PresentError::Closed`]).
    Quit,
    /// `9`: volume − 2 (mpv's default `input.conf`: `9 add volume -2`).
    VolumeDown,
    /// `0`: volume + 2 (mpv: `0 add volume 2`).
    VolumeUp,
    /// `m`: mute on / off (mpv: `m cycle mute`).
    ToggleMute,
    /// Relative seek by this many seconds: `←` / `→` −5 / +5, `↓` / `↑`
    /// −60 / +60 (mpv: `LEFT seek -5`, `UP seek 60`). Held keys repeat.
    Seek(i32),
    /// `PgDn` / `PgUp`: previous (−1) / next (+1) chapter, or −10 % / +10 %
    /// of the duration when the file has no chapters (mpv: `add chapter ±1`).
    Chapter(i32),
    /// `>` or `Enter`: next file of the playlist (mpv: `playlist-next`).
    PlaylistNext,
    /// `<`: previous file (mpv: `playlist-prev`).
    PlaylistPrev,
    /// `.`: show the next frame and pause (mpv: `frame-step`).
    FrameStep,
    /// `,`: go back one frame and pause (mpv: `frame-back-step`).
    FrameBackStep,
    /// `o`: show the progress bar and time for a moment (mpv: `show-progress`).
    ShowProgress,
    /// `i`: show playback statistics for a moment (mpv: stats.lua's
    /// `display-stats`).
    ShowStats,
}

/// What the on-screen display shows above the video (mpv's OSD): drawn by a
/// window in a subsurface of its own, never into the video frame. Sinks
/// without a screen ignore it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Osd {
    /// Lines of text, top-left (file name at start, `Paused`, `Volume: 52%`,
    /// `Mute`, the stats of `i`).
    pub text: Vec<String>,
    /// Seek bar: `(position_ns, duration_ns)`; drawn with the time as
    /// `00:01:02 / 00:10:00` (mpv's `show-progress`).
    pub progress: Option<(i64, i64)>,
    /// How long it stays before it fades out (mpv's `--osd-duration`, 1 s);
    /// `None`: until the next [`Sink::set_osd`].
    pub hold: Option<Duration>,
}

/// What a presenting sink did, for `-v`, the exit line and tests.
///
/// Invariant at the end of playback: `presented + dropped` equals the frames
/// handed to [`Sink::show`] (each frame is either seen on screen or counted
/// as dropped: by the sink because it was late or superseded, or by the
/// compositor, `wp_presentation_feedback.discarded`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PresentStats {
    /// Frames the compositor reports on screen (`wp_presentation_feedback.presented`;
    /// without wp_presentation: frames whose frame callback fired).
    pub presented: u64,
    /// Frames never shown: not committed (late, or a commit still pending) or
    /// committed and `discarded`.
    pub dropped: u64,
    /// Of `presented`: shown later than one refresh interval after their due time.
    pub late: u64,
    /// Frames committed zero-copy (the decoder's dmabuf).
    pub zero_copy: u64,
    /// Frames committed through a CPU copy / detile.
    pub copied: u64,
}

impl std::fmt::Display for PresentStats {
    /// `presented 248, dropped 2, late 0 (zero-copy 250, copied 0)` — the format
    /// the exit line and `tests/vm` checks read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "presented {}, dropped {}, late {} (zero-copy {}, copied {})",
            self.presented, self.dropped, self.late, self.zero_copy, self.copied
        )
    }
}

/// A frame consumer. `show` takes ownership; the sink drops the frame (giving
/// the buffer back) when it no longer needs it (for Wayland: on `wl_buffer.release`).
pub trait Sink {
    /// Presents `frame`. `due` is the monotonic instant (`CLOCK_MONOTONIC`, as
    /// [`Instant`]) the frame should appear at, `None` for unpaced sinks
    /// (files, null). The player calls `show` about [`Sink::lead`] before
    /// `due`; a pacing sink may block until it is time to commit, must not
    /// put the frame on screen before `due`, and may drop it when it is late.
    fn show(
        &mut self,
        frame: DecodedFrame,
        src: &dyn FrameSource,
        due: Option<Instant>,
    ) -> Result<(), PresentError>;
    /// How long before its due time the sink wants each frame (e.g. one
    /// refresh interval, so the commit lands in the vblank at or after due).
    fn lead(&self) -> Duration {
        Duration::ZERO
    }
    /// Lets the sink process events (releases, close, keys); called when idle.
    fn dispatch(&mut self) -> Result<(), PresentError> {
        Ok(())
    }
    /// Commands the user gave since the last call (keys), oldest first.
    fn take_commands(&mut self) -> Vec<UserCommand> {
        Vec::new()
    }
    /// Shows `osd` above the video, replacing what the OSD showed; `None`
    /// hides it. Sinks without a screen ignore it.
    fn set_osd(&mut self, _osd: Option<Osd>) {}
    /// Seek / flush: drops every frame handed to [`Sink::show`] that is not
    /// on screen yet (counted as dropped), so its buffer goes back to the
    /// decoder; the frame on screen stays until the next one replaces it.
    fn discard_queued(&mut self) {}
    /// The window title (`--title`; at start `vreqplay — <file name>`): the
    /// player sets it again when the playlist moves to another file.
    fn set_title(&mut self, _title: &str) {}
    /// End of stream: flush files, wait for the last frame to be shown.
    fn finish(&mut self) -> Result<(), PresentError> {
        Ok(())
    }
    /// Presentation counters, for sinks that present (windows).
    fn present_stats(&self) -> Option<PresentStats> {
        None
    }
}

/// Discards every frame (`--vo null`: decode only).
#[derive(Debug, Default)]
pub struct NullSink {
    pub frames: u64,
}

impl Sink for NullSink {
    fn show(
        &mut self,
        _frame: DecodedFrame,
        _src: &dyn FrameSource,
        _due: Option<Instant>,
    ) -> Result<(), PresentError> {
        self.frames += 1;
        Ok(())
    }
}
