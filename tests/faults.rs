//! Fault injection through the player (issue 15, host, fake visl device):
//! the device vanishing mid-stream (`ENODEV` from every call) ends the file
//! with one line naming the file, the device and the frame, and a non-zero
//! exit status; a picture whose CAPTURE buffer comes back with
//! `V4L2_BUF_FLAG_ERROR` costs the pictures from it up to the next keyframe
//! and playback goes on. Each play runs on a thread that must return within
//! 30 s (a hang fails the test instead of CI).

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use v4l2r::bindings;
use vreq_core::Control;
use vreq_present::NullSink;
use vreq_testkit::fake::{FakeDevice, Fault};
use vreqplay::player::{self, Controls, Loop, Pacing, PlayOptions, Playlist, Source};

fn gizmo() -> PathBuf {
    vreq_testkit::media_dir().join("debian-src-firefox-esr/gizmo.mp4")
}

/// What playing `path` on a fake visl changed by `fault` gave: the
/// report's frames shown or the error's text, and the pictures the device
/// got in decode order (timestamp, IDR).
struct Played {
    result: Result<u64, String>,
    pictures: Vec<(u64, bool)>,
}

/// A fault to inject into the fake (`None`: a clean play).
type Inject = Option<Box<dyn FnOnce(FakeDevice) -> FakeDevice + Send>>;

fn play(path: &Path, fault: Inject) -> Played {
    let path = path.to_owned();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let opts = PlayOptions::null(&path);
        let (mut demux, track, mut dec) = match fault {
            Some(f) => common::open_on_faulty_visl(&path, f),
            None => common::open_on_fake_visl(&path),
        }
        .unwrap();
        let r = player::run_file(
            &opts,
            &Controls::default(),
            &mut Source::Direct(demux.as_mut()),
            &track,
            &mut dec,
            &mut NullSink::default(),
            Pacing::Unpaced,
        );
        let pictures = dec
            .device()
            .jobs()
            .iter()
            .filter(|j| j.starts_picture)
            .map(|j| {
                let idr = j.controls.iter().any(|c| match c {
                    Control::H264DecodeParams(dp) => {
                        dp.flags & bindings::V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC != 0
                    }
                    _ => false,
                });
                (j.timestamp_ns, idr)
            })
            .collect();
        let _ = tx.send(Played {
            result: r.map(|r| r.frames_shown).map_err(|e| e.to_string()),
            pictures,
        });
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the player did not return within 30 s (hang) or panicked")
}

#[test]
fn device_vanishing_mid_stream_fails_the_file_with_one_line_and_a_non_zero_status() {
    let clean = play(&gizmo(), None);
    let all = clean.result.expect("plays without the fault");
    assert!(all > 100, "{all}");
    let vanish = || -> Inject { Some(Box::new(|d| d.with_fault(Fault::Vanish { after: 50 }))) };
    let gone = play(&gizmo(), vanish());
    let e = gone.result.expect_err("ENODEV must fail the file");
    eprintln!("{e}");
    assert!(!e.contains('\n'), "{e}");
    for part in ["gizmo.mp4", "fake visl", "No such device", "at frame 5"] {
        assert!(e.contains(part), "{part:?} not in {e:?}");
    }
    // the exit status of a playlist whose only file failed: mpv's 2
    let mut pl = Playlist::new(1, Loop::No, Loop::No);
    let out = player::run_playlist_until(
        &mut pl,
        || false,
        |_, _| {
            play(&gizmo(), vanish())
                .result
                .map_err(player::PlayError::Decode)
                .map(|_| unreachable!("the file failed above"))
        },
        |_, _| {},
    );
    assert_ne!(out.exit_code(), 0);
    assert_eq!(out.exit_code(), 2);
}

#[test]
fn errored_capture_buffer_costs_the_rest_of_its_gop_and_playback_goes_on() {
    let clean = play(&gizmo(), None);
    let all = clean.result.expect("plays without the fault");
    assert_eq!(all as usize, clean.pictures.len(), "one frame per picture");
    let keys: Vec<usize> = (0..clean.pictures.len())
        .filter(|&i| clean.pictures[i].1)
        .collect();
    assert!(keys.len() >= 3, "{keys:?}");
    // the 10th picture after the second keyframe goes bad
    let bad = keys[1] + 10;
    let next_key = keys[2];
    let bad_ts = clean.pictures[bad].0;
    let r = play(&gizmo(), Some(Box::new(move |d| d.with_error_on(bad_ts))));
    let shown = r.result.expect("an errored picture does not fail the file");
    assert_eq!(
        shown as usize,
        clean.pictures.len() - (next_key - bad),
        "all frames but {bad}..{next_key}"
    );
}
