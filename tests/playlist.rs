//! The playlist on the host (fake visl device): three files looped three
//! times end with every file played and no file descriptor left behind
//! between loops; a file that cannot be opened in the middle is skipped
//! with one message and the exit status is mpv's (3: some files failed).
//! One test in this binary: `/proc/self/fd` is counted for the whole
//! process, which no other test shares.

mod common;

use std::path::{Path, PathBuf};

use vreq_container as container;
use vreq_present::NullSink;
use vreqplay::player::{
    self, queues, Controls, FileEnd, Loop, Pacing, PlayError, PlayOptions, PlayReport, Playlist,
    Source,
};

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Plays `path` on a fake visl device: through the demux thread (`queued`)
/// or read directly, as the player does with and without sound.
fn play_fake(path: &Path, queued: bool) -> Result<PlayReport, PlayError> {
    let opts = PlayOptions::null(path);
    let (mut demux, track, mut dec) = common::open_on_fake_visl(path)?;
    let mut sink = NullSink::default();
    let c = Controls::default();
    if queued {
        let p = path.to_owned();
        let audio = player::audio::select_audio_track(demux.tracks(), player::Aid::Auto)
            .ok()
            .flatten()
            .map(|t| t.id);
        let (q, h) = queues::spawn_demux(
            Box::new(move || container::open(&p).map(|d| d as Box<dyn container::Demuxer>)),
            Some(track.id),
            audio,
        );
        let r = player::run_file(
            &opts,
            &c,
            &mut Source::Queued(q.clone()),
            &track,
            &mut dec,
            &mut sink,
            Pacing::Unpaced,
        );
        q.stop();
        h.join().unwrap();
        r
    } else {
        player::run_file(
            &opts,
            &c,
            &mut Source::Direct(demux.as_mut()),
            &track,
            &mut dec,
            &mut sink,
            Pacing::Unpaced,
        )
    }
}

#[test]
fn three_files_looped_three_times_without_fd_growth_and_a_bad_file_skipped() {
    let media = vreq_testkit::media_dir();
    let files: Vec<PathBuf> = [
        "debian-src-firefox-esr/bipbop_short_vp8.webm",
        "debian-src-firefox-esr/gizmo.mp4",
        "debian-src-firefox-esr/test_case_1224361.vp8.ivf",
    ]
    .iter()
    .map(|r| media.join(r))
    .collect();
    let mut pl = Playlist::new(3, Loop::No, "3".parse().unwrap());
    let mut order = Vec::new();
    let mut fd_after_round = Vec::new();
    let out = player::run_playlist(
        &mut pl,
        |i, _| play_fake(&files[i], i != 2),
        |i, r| {
            let r = r.as_ref().expect("every file plays");
            assert!(r.frames_shown > 0);
            assert_eq!(r.end, FileEnd::Eof);
            order.push(i);
            if i == 2 {
                fd_after_round.push(fds());
            }
        },
    );
    assert_eq!(order, [0, 1, 2, 0, 1, 2, 0, 1, 2]);
    assert_eq!(out.played, 9);
    assert_eq!(out.exit_code(), 0);
    assert_eq!(fd_after_round.len(), 3);
    assert_eq!(
        fd_after_round[0], fd_after_round[2],
        "fds after each round: {fd_after_round:?}"
    );

    // a file in the middle that does not open: one message, the next file
    // plays, mpv's exit status 3
    let mut with_bad = files.clone();
    with_bad[1] = media.join("no-such-file.mp4");
    let mut pl = Playlist::new(3, Loop::No, Loop::No);
    let mut messages = Vec::new();
    let mut played = Vec::new();
    let out = player::run_playlist(
        &mut pl,
        |i, _| play_fake(&with_bad[i], true),
        |i, r| match r {
            Ok(_) => played.push(i),
            Err(e) => messages.push(e.to_string()),
        },
    );
    assert_eq!(played, [0, 2]);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains("no-such-file.mp4") && !messages[0].contains('\n'),
        "{messages:?}"
    );
    assert_eq!((out.played, out.failed, out.exit_code()), (2, 1, 3));
}
