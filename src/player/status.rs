//! The terminal status line, mpv's shape (`player/osd.c`
//! `get_term_status_msg`): `(Paused) AV: 00:01:02 / 00:10:00 (10%) A-V:  0.003 Dropped: 2`
//! — `AV:` with sound and picture, `V:` without sound; the A-V difference
//! only with both (seconds, `%7.3f` as mpv); `Dropped:` only once a frame
//! was dropped. Rewritten in place (`\r` + erase line) about ten times a
//! second while stderr is a terminal and neither `--quiet` nor
//! `--really-quiet` is given.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A status line is on the terminal now (not yet ended by a newline).
static ON_SCREEN: AtomicBool = AtomicBool::new(false);

/// stderr for log messages: the first write after a status line was drawn
/// erases it (`\r` + erase line) so the message starts at the line's start;
/// the status line is drawn again below it at its next update (mpv's
/// terminal output does the same). `main` gives it to the log subscriber.
pub struct LogStderr;

impl Write for LogStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut e = std::io::stderr().lock();
        if ON_SCREEN.swap(false, Ordering::AcqRel) {
            e.write_all(b"\r\x1b[K")?;
        }
        e.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// How often the line is rewritten.
pub const STATUS_INTERVAL: Duration = Duration::from_millis(100);

/// What the status line shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    pub paused: bool,
    /// A sound track plays.
    pub audio: bool,
    /// Position (ns) and duration (ns, if known).
    pub pos_ns: i64,
    pub duration_ns: Option<i64>,
    /// Frame pts minus the audio clock (s), with sound.
    pub av_s: Option<f64>,
    /// Frames dropped by the window.
    pub dropped: u64,
}

/// `hh:mm:ss` of `ns` (mpv's `mp_format_time` without fractions; negative
/// values with a leading `-`).
pub fn format_time(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let s = ns.unsigned_abs() / 1_000_000_000;
    format!("{sign}{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// The status line's text (no `\r`, no newline).
pub fn format_status(s: &Status) -> String {
    let mut l = String::new();
    if s.paused {
        l.push_str("(Paused) ");
    }
    l.push_str(if s.audio { "AV: " } else { "V: " });
    l.push_str(&format_time(s.pos_ns));
    if let Some(d) = s.duration_ns {
        l.push_str(" / ");
        l.push_str(&format_time(d));
        if d > 0 {
            let pct = (s.pos_ns.clamp(0, d) as i128 * 100 / d as i128) as i64;
            l.push_str(&format!(" ({pct}%)"));
        }
    }
    if s.audio {
        if let Some(av) = s.av_s {
            l.push_str(&format!(" A-V:{av:7.3}"));
        }
    }
    if s.dropped > 0 {
        l.push_str(&format!(" Dropped: {}", s.dropped));
    }
    l
}

/// The line on stderr: written only when enabled, at most every
/// [`STATUS_INTERVAL`] (unless forced).
#[derive(Debug, Default)]
pub struct StatusLine {
    enabled: bool,
    last: Option<Instant>,
    shown: bool,
}

impl StatusLine {
    /// `enabled`: stderr is a terminal and no `--quiet`.
    pub fn new(enabled: bool) -> Self {
        StatusLine {
            enabled,
            ..Default::default()
        }
    }

    /// Rewrites the line if due (or `force`).
    pub fn update(&mut self, s: &Status, force: bool) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if !force && self.last.is_some_and(|t| now - t < STATUS_INTERVAL) {
            return;
        }
        self.last = Some(now);
        self.shown = true;
        let mut e = std::io::stderr().lock();
        let _ = write!(e, "\r\x1b[K{}", format_status(s));
        let _ = e.flush();
        ON_SCREEN.store(true, Ordering::Release);
    }

    /// Ends the line (a newline after it), so later output starts clean.
    pub fn end(&mut self) {
        if self.enabled && self.shown {
            if ON_SCREEN.swap(false, Ordering::AcqRel) {
                eprintln!();
            }
            self.shown = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const S: i64 = 1_000_000_000;

    #[test]
    fn the_line_has_mpvs_shape() {
        let s = Status {
            paused: false,
            audio: true,
            pos_ns: 62 * S + 400_000_000,
            duration_ns: Some(600 * S),
            av_s: Some(0.003),
            dropped: 2,
        };
        assert_eq!(
            format_status(&s),
            "AV: 00:01:02 / 00:10:00 (10%) A-V:  0.003 Dropped: 2"
        );
        let v = Status {
            paused: true,
            audio: false,
            pos_ns: 3723 * S,
            duration_ns: None,
            av_s: Some(0.5),
            dropped: 0,
        };
        assert_eq!(format_status(&v), "(Paused) V: 01:02:03");
        let neg = Status {
            audio: true,
            pos_ns: 0,
            duration_ns: Some(10 * S),
            av_s: Some(-0.042),
            ..Default::default()
        };
        assert_eq!(
            format_status(&neg),
            "AV: 00:00:00 / 00:00:10 (0%) A-V: -0.042"
        );
        assert_eq!(format_time(-5 * S), "-00:00:05");
    }
}
