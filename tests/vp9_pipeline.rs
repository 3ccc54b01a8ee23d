//! VP9 end to end on the host: container → VP9 codec → engine → fake visl
//! device (frame-based) → sink.
//!
//! * every VP9 profile 0 / 2 clip of the shared corpus outputs exactly the
//!   frames `ffprobe -count_frames` counts (MANIFEST.tsv: shown frames, a
//!   `show_existing_frame` counting as one), and the fake device saw no uAPI
//!   rule broken;
//! * profile 1 / 3 clips stop with a clear "unsupported" error;
//! * truncated and bit-flipped variants: no panic, no hang, clear messages,
//!   and decoding resumes at the next key frame.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vreq_container as container;
use vreq_engine::Engine;
use vreq_present::NullSink;
use vreq_testkit::fake::FakeDevice;
use vreq_testkit::{damaged_copy, manifest, media_dir, xorshift};
use vreq_v4l2::profile;
use vreqplay::player::{self, PlayOptions, PlayReport};

/// Runs the player's loop over a fake visl. Returns the report, the device's
/// rule violations and the (width, height, bit depth) of each configuration.
type FakeRun = (PlayReport, Vec<String>, Vec<(u32, u32, u8)>);

fn play_fake(path: &Path) -> Result<FakeRun, String> {
    let opts = PlayOptions::null(path);
    let mut demux = container::open(path).map_err(|e| e.to_string())?;
    let (track, kind) = player::pick_track(path, demux.as_ref()).map_err(|e| e.to_string())?;
    let codec = player::codec_for_track(path, &track, kind).map_err(|e| e.to_string())?;
    let mut dec = Engine::new(codec, FakeDevice::new(profile::for_driver("visl", "visl")));
    let mut sink = NullSink::default();
    let report = player::run(&opts, demux.as_mut(), &track, &mut dec, &mut sink, false)
        .map_err(|e| e.to_string())?;
    // VP9_FRAME (bit depth) is set before the CAPTURE format, as GStreamer's
    // negotiate does.
    for (_, _, first, _) in dec.device().configures() {
        if !first.contains(&v4l2r::bindings::V4L2_CID_STATELESS_VP9_FRAME) {
            return Err(format!("configure without VP9_FRAME first: {first:?}"));
        }
    }
    let configs = dec
        .device()
        .configures()
        .iter()
        .map(|(_, p, _, _)| (p.coded_width, p.coded_height, p.bit_depth))
        .collect();
    Ok((report, dec.device().violations(), configs))
}

fn vp9_clips() -> Vec<(PathBuf, u64, String, u32)> {
    manifest()
        .into_iter()
        .filter(|e| e.codec == "vp9")
        .map(|e| (media_dir().join(&e.path), e.frames, e.profile, e.bit_depth))
        .collect()
}

fn name(path: &Path) -> String {
    path.strip_prefix(media_dir())
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn every_vp9_clip_outputs_ffprobe_frame_count() {
    let clips: Vec<_> = vp9_clips()
        .into_iter()
        .filter(|(_, _, p, _)| p == "Profile 0" || p == "Profile 2")
        .collect();
    assert!(
        clips.len() >= 15,
        "corpus shrank: {} VP9 clips",
        clips.len()
    );
    let mut failures = Vec::new();
    for (path, frames, _profile, depth) in &clips {
        let name = name(path);
        let t = Instant::now();
        match play_fake(path) {
            Ok((r, violations, configs)) => {
                let depth_ok = configs.iter().all(|c| u32::from(c.2) == *depth);
                if r.frames_shown != *frames
                    || !violations.is_empty()
                    || r.stats.bad != 0
                    || r.stats.skipped != 0
                    || !depth_ok
                {
                    failures.push(format!(
                        "{name}: {} frames (ffprobe {frames}), {} skipped, {} bad, configs {configs:?} (depth {depth}), violations {:?}, warnings {:?}",
                        r.frames_shown,
                        r.stats.skipped,
                        r.stats.bad,
                        violations.iter().take(3).collect::<Vec<_>>(),
                        r.warnings.iter().take(3).collect::<Vec<_>>()
                    ));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
        eprintln!("{name}: {:?}", t.elapsed());
    }
    assert!(
        failures.is_empty(),
        "{} of {} clips wrong:\n{}",
        failures.len(),
        clips.len(),
        failures.join("\n")
    );
}

#[test]
fn resolution_change_reconfigures_on_each_new_size() {
    let path = media_dir().join("crates-cros-codecs/resolution_change_500frames-vp9.ivf");
    let (r, violations, configs) = play_fake(&path).unwrap();
    assert!(violations.is_empty(), "{violations:?}");
    assert_eq!(r.frames_shown, 500);
    // ffprobe: 640x360 -> 426x240 -> 640x360 -> 854x480 (three key frames) -> 1280x720
    let sizes: Vec<(u32, u32)> = configs.iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(
        sizes,
        vec![(640, 360), (426, 240), (640, 360), (854, 480), (1280, 720)]
    );
}

#[test]
fn profile_1_and_3_are_refused_clearly() {
    let clips: Vec<_> = vp9_clips()
        .into_iter()
        .filter(|(_, _, p, _)| p == "Profile 1" || p == "Profile 3")
        .collect();
    assert!(!clips.is_empty(), "no profile 1/3 clip in the corpus");
    for (path, ..) in clips {
        let e = play_fake(&path).expect_err("profile 1/3 must not play");
        assert!(
            e.contains("unsupported") && e.contains("profile"),
            "{}: {e}",
            name(&path)
        );
    }
}

const DAMAGE_CLIPS: [&str; 3] = [
    "debian-src-firefox-esr/gizmo.webm",
    "crates-cros-codecs/test-25fps.vp9.ivf",
    "remuxed-by-us/gizmo.vp9.mp4",
];

#[test]
fn truncated_clips_end_cleanly() {
    for clip in DAMAGE_CLIPS {
        let src = media_dir().join(clip);
        let len = std::fs::metadata(&src).unwrap().len() as usize;
        let (full, ..) = play_fake(&src).expect("undamaged clip plays");
        for frac in [0.01, 0.3, 0.77] {
            let cut = (len as f64 * frac) as usize;
            let path = damaged_copy(&src, &format!("cut{cut}"), |d| d.truncate(cut));
            let t = Instant::now();
            let r = play_fake(&path);
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "{clip} cut at {cut}: took {:?}",
                t.elapsed()
            );
            match r {
                Ok((r, violations, _)) => {
                    assert!(violations.is_empty(), "{clip} cut at {cut}: {violations:?}");
                    assert!(
                        r.frames_shown <= full.frames_shown,
                        "{clip} cut at {cut}: more frames than whole"
                    );
                }
                Err(e) => assert!(
                    e.contains(path.file_name().unwrap().to_str().unwrap()),
                    "{clip}: {e}"
                ),
            }
        }
    }
}

/// Bit flips hit the codec through IVF and MP4 only: a flip in a Matroska
/// block header makes the container stop (its own error, tested there).
const FLIP_CLIPS: [&str; 3] = [
    "crates-cros-codecs/test-25fps.vp9.ivf",
    "remuxed-by-us/gizmo.vp9.mp4",
    "crates-cros-codecs/resolution_change_500frames-vp9.ivf",
];

#[test]
fn bit_flipped_clips_resume_at_next_keyframe() {
    for clip in FLIP_CLIPS {
        let src = media_dir().join(clip);
        let (full, ..) = play_fake(&src).expect("undamaged clip plays");
        let len = std::fs::metadata(&src).unwrap().len() as usize;
        let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ len as u64;
        // flip bytes between 5 % and 25 % of the file (past the headers); the
        // clips have later key frames (ffprobe: gizmo every 30 frames...), so
        // output must keep coming.
        let path = damaged_copy(&src, "flip", |d| {
            for _ in 0..40 {
                let at = len / 20 + (xorshift(&mut seed) as usize) % (len / 5);
                d[at] ^= 1 << (xorshift(&mut seed) % 8);
            }
        });
        let t = Instant::now();
        let (r, violations, _) =
            play_fake(&path).unwrap_or_else(|e| panic!("{clip} bit-flipped: {e}"));
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{clip}: took {:?}",
            t.elapsed()
        );
        assert!(violations.is_empty(), "{clip}: {violations:?}");
        assert!(
            r.frames_shown >= full.frames_shown / 2,
            "{clip}: {} of {} frames after damage; warnings {:?}",
            r.frames_shown,
            full.frames_shown,
            r.warnings.iter().take(5).collect::<Vec<_>>()
        );
    }
}
