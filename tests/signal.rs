//! SIGTERM ends playback as `q` does (host, fake visl device): the play loop
//! sees the flag set by the handler (`player::signals`), returns with the
//! file ended by a quit, the playlist plays nothing more, and the exit
//! status is mpv's 4. Also while paused (the loop waits in the key poll).
//! One binary and one test of its own: the handlers are process-wide (a
//! signal raised here sets every registered flag), and a signal arriving
//! while a flag is already set terminates the process (the second-signal
//! rule), so the flag is reset between the two raises.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use vreq_frame::DecodedFrame;
use vreq_present::{FrameSource, PresentError, Sink};
use vreqplay::player::{
    self, signals, Controls, FileEnd, Loop, Pacing, PlayError, PlayOptions, PlayReport, Playlist,
    Source,
};

/// Counts frames; raises SIGTERM when the `at`-th frame is shown.
struct RaisingSink {
    shown: u64,
    at: u64,
}

impl Sink for RaisingSink {
    fn show(
        &mut self,
        _frame: DecodedFrame,
        _src: &dyn FrameSource,
        _due: Option<Instant>,
    ) -> Result<(), PresentError> {
        self.shown += 1;
        if self.shown == self.at {
            signal_hook::low_level::raise(signal_hook::consts::SIGTERM).unwrap();
        }
        Ok(())
    }
}

fn play_fake(
    path: &Path,
    quit: &Arc<AtomicBool>,
    at: u64,
    pause: bool,
) -> Result<(PlayReport, u64), PlayError> {
    let opts = PlayOptions::null(path);
    let (mut demux, track, mut dec) = common::open_on_fake_visl(path)?;
    let mut sink = RaisingSink { shown: 0, at };
    let c = Controls {
        quit: Some(quit.clone()),
        pause,
        ..Default::default()
    };
    let r = player::run_file(
        &opts,
        &c,
        &mut Source::Direct(demux.as_mut()),
        &track,
        &mut dec,
        &mut sink,
        Pacing::Unpaced,
    )?;
    Ok((r, sink.shown))
}

#[test]
fn sigterm_quits_paused_or_playing_the_playlist_ends_with_status_4() {
    let media = vreq_testkit::media_dir();
    let files: Vec<PathBuf> = [
        "debian-src-firefox-esr/gizmo.mp4",
        "debian-src-firefox-esr/bipbop_short_vp8.webm",
    ]
    .iter()
    .map(|r| media.join(r))
    .collect();

    // the file without a signal: all its frames
    let never = Arc::new(AtomicBool::new(false));
    let (full, _) = play_fake(&files[0], &never, 0, false).unwrap();
    assert_eq!(full.end, FileEnd::Eof);
    assert!(full.frames_shown > 10, "{}", full.frames_shown);

    let quit = signals::install().unwrap();

    // paused (--pause: the first frame is shown, then the loop waits for
    // keys): SIGTERM at that frame ends the wait (on a thread, so a loop
    // that never looks at the flag fails here instead of hanging)
    let (tx, rx) = std::sync::mpsc::channel();
    let (p, q) = (files[0].clone(), quit.clone());
    std::thread::spawn(move || {
        let t = Instant::now();
        let r = play_fake(&p, &q, 1, true).map(|(r, shown)| (r.end, shown));
        tx.send((r.ok(), t.elapsed())).unwrap();
    });
    let (r, took) = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the paused player did not quit on SIGTERM");
    assert_eq!(r, Some((FileEnd::Quit, 1)));
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert!(signals::raised(Some(&quit)));

    // playing a looping playlist: the file stops right after the frame that
    // raised it, nothing more plays, status 4
    quit.store(false, Ordering::Relaxed);
    let mut pl = Playlist::new(2, Loop::No, Loop::Inf);
    let mut ends = Vec::new();
    let out = player::run_playlist_until(
        &mut pl,
        || signals::raised(Some(&quit)),
        |i, _| play_fake(&files[i], &quit, 5, false).map(|(r, _)| r),
        |i, r| ends.push((i, r.as_ref().map(|r| (r.end, r.frames_shown)).ok())),
    );
    assert!(signals::raised(Some(&quit)), "SIGTERM set the flag");
    assert_eq!(ends.len(), 1, "{ends:?}");
    let (i, Some((end, shown))) = ends[0] else {
        panic!("{ends:?}")
    };
    assert_eq!((i, end), (0, FileEnd::Quit));
    assert!(
        (5..full.frames_shown).contains(&shown),
        "{shown} of {}",
        full.frames_shown
    );
    assert!(out.quit && out.signalled);
    assert_eq!(out.exit_code(), signals::EXIT_SIGNAL);
    assert_eq!(out.exit_code(), 4);
}
