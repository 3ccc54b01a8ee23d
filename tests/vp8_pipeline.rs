//! VP8 end to end on the host: container (IVF, WebM) → VP8 codec → engine →
//! fake visl device (frame-based) → sink.
//!
//! * every VP8 clip of the shared corpus outputs exactly the frames
//!   `ffprobe -count_frames` counts (MANIFEST.tsv), with no frame skipped and
//!   no uAPI rule broken on the fake device;
//! * the WPT resize clip configures 400x300, then 200x150 at its key frame;
//! * truncated and bit-flipped variants: no panic, no hang, clear messages,
//!   and decoding resumes at the next key frame.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vreq_core::CodecKind;
use vreq_present::NullSink;
use vreq_testkit::{damaged_copy, manifest, media_dir, xorshift};
use vreqplay::player::{self, PlayOptions, PlayReport};

type Played = (PlayReport, Vec<String>, Vec<(u32, u32)>);

/// Runs the player's loop over a fake visl. Returns the report, the device's
/// rule violations and the (width, height) of each configuration.
fn play_fake(path: &Path) -> Result<Played, String> {
    let opts = PlayOptions::null(path);
    let (mut demux, track, mut dec) = common::open_on_fake_visl(path).map_err(|e| e.to_string())?;
    assert_eq!(
        track.codec,
        vreq_container::TrackCodec::Video(CodecKind::Vp8)
    );
    let mut sink = NullSink::default();
    let report = player::run(&opts, demux.as_mut(), &track, &mut dec, &mut sink, false)
        .map_err(|e| e.to_string())?;
    let configs = dec
        .device()
        .configures()
        .iter()
        .map(|(_, p, _, _)| (p.coded_width, p.coded_height))
        .collect();
    Ok((report, dec.device().violations(), configs))
}

fn vp8_clips() -> Vec<(PathBuf, u64)> {
    manifest()
        .into_iter()
        .filter(|e| e.codec == "vp8")
        .map(|e| (media_dir().join(&e.path), e.frames))
        .collect()
}

fn name(path: &Path) -> String {
    path.strip_prefix(media_dir())
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn every_vp8_clip_outputs_ffprobe_frame_count() {
    let clips = vp8_clips();
    assert!(clips.len() >= 7, "corpus shrank: {} VP8 clips", clips.len());
    let mut failures = Vec::new();
    for (path, frames) in &clips {
        let name = name(path);
        let t = Instant::now();
        match play_fake(path) {
            Ok((r, violations, configs)) => {
                if r.frames_shown != *frames
                    || !violations.is_empty()
                    || r.stats.bad != 0
                    || r.stats.skipped != 0
                {
                    failures.push(format!(
                        "{name}: {} frames (ffprobe {frames}), {} skipped, {} bad, configs {configs:?}, violations {:?}, warnings {:?}",
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
fn resolution_change_reconfigures_at_the_key_frame() {
    let path = media_dir().join("debian-src-firefox-esr/wpt-400x300-red-resize-200x150-green.webm");
    let (r, violations, configs) = play_fake(&path).unwrap();
    assert!(violations.is_empty(), "{violations:?}");
    assert_eq!(r.frames_shown, 119);
    assert_eq!(configs, vec![(400, 300), (200, 150)]);
}

const DAMAGE_CLIPS: [&str; 3] = [
    "debian-src-firefox-esr/bunny.webm",
    "crates-cros-codecs/test-25fps.vp8.ivf",
    "debian-src-firefox-esr/wpt-400x300-red-resize-200x150-green.webm",
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
                Ok((r, violations, ..)) => {
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

/// Bit flips hit the codec through IVF only: a flip in a Matroska block
/// header makes the container stop (its own error, tested there).
#[test]
fn bit_flipped_ivf_resumes_at_next_keyframe() {
    let clip = "crates-cros-codecs/test-25fps.vp8.ivf";
    let src = media_dir().join(clip);
    let (full, ..) = play_fake(&src).expect("undamaged clip plays");
    let data = std::fs::read(&src).unwrap();
    // IVF frame headers: 12 bytes before each frame; damage only payloads.
    let mut payloads = Vec::new();
    let mut keys = Vec::new();
    let mut at = u16::from_le_bytes([data[6], data[7]]) as usize;
    while at + 12 <= data.len() {
        let n = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        if data[at + 12] & 1 == 0 {
            keys.push(payloads.len());
        }
        payloads.push((at + 12, n));
        at += 12 + n;
    }
    assert!(keys.len() >= 2, "clip has {} key frames", keys.len());
    let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ data.len() as u64;
    // Damage the first frames after the first key frame (headers included),
    // never a key frame: output must resume at the next key frame.
    let path = damaged_copy(&src, "flip", |d| {
        for (i, &(off, n)) in payloads.iter().enumerate().skip(1).take(20) {
            if keys.contains(&i) || n < 4 {
                continue;
            }
            for _ in 0..4 {
                let at = off + (xorshift(&mut seed) as usize) % n.min(64);
                d[at] ^= 1 << (xorshift(&mut seed) % 8);
            }
        }
    });
    let t = Instant::now();
    let (r, violations, ..) =
        play_fake(&path).unwrap_or_else(|e| panic!("{clip} bit-flipped: {e}"));
    assert!(
        t.elapsed() < Duration::from_secs(60),
        "{clip}: took {:?}",
        t.elapsed()
    );
    assert!(violations.is_empty(), "{clip}: {violations:?}");
    // Everything from the second key frame on still comes out.
    let after_key = (payloads.len() - keys[1]) as u64;
    assert!(
        r.frames_shown >= after_key && r.frames_shown <= full.frames_shown,
        "{clip}: {} of {} frames after damage (second key frame at {}); warnings {:?}",
        r.frames_shown,
        full.frames_shown,
        keys[1],
        r.warnings.iter().take(5).collect::<Vec<_>>()
    );
}
