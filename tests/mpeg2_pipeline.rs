//! MPEG-2 end to end on the host: container (Matroska, elementary stream,
//! MPEG-PS, MPEG-TS) →
//! MPEG-2 codec → engine → fake visl device (frame-based) → sink.
//!
//! * every MPEG-2 clip of the shared corpus in a container vreqplay reads
//!   (Matroska, elementary stream, MPEG-PS, MPEG-TS: all of them)
//!   outputs exactly the frames `ffprobe -count_frames` counts
//!   (MANIFEST.tsv), and the fake device saw no uAPI rule broken;
//! * truncated and bit-flipped variants: no panic, no hang, clear messages,
//!   and decoding resumes at the next I picture.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vreq_container as container;
use vreq_core::CodecKind;
use vreq_engine::Engine;
use vreq_present::NullSink;
use vreq_testkit::fake::FakeDevice;
use vreq_testkit::{damaged_copy, manifest, media_dir, xorshift};
use vreq_v4l2::profile;
use vreqplay::player::{self, PlayOptions, PlayReport};

/// Runs the player's loop over a fake visl. Returns the report, the device's
/// rule violations and the (width, height) of each configuration.
type FakeRun = (PlayReport, Vec<String>, Vec<(u32, u32)>);

fn play_fake(path: &Path) -> Result<FakeRun, String> {
    let opts = PlayOptions::null(path);
    let mut demux = container::open(path).map_err(|e| e.to_string())?;
    let (track, kind) = player::pick_track(path, demux.as_ref()).map_err(|e| e.to_string())?;
    assert_eq!(kind, CodecKind::Mpeg2);
    let codec = player::codec_for_track(path, &track, kind).map_err(|e| e.to_string())?;
    let mut dec = Engine::new(
        codec,
        FakeDevice::for_codec(profile::for_driver("visl", "visl"), CodecKind::Mpeg2),
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

/// Every MPEG-2 clip of the corpus (all its containers are read: a clip
/// that fails to open is a test failure, not skipped).
fn mpeg2_clips() -> Vec<(PathBuf, u64)> {
    manifest()
        .into_iter()
        .filter(|e| e.codec == "mpeg2video")
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
fn every_mpeg2_clip_outputs_ffprobe_frame_count() {
    let clips = mpeg2_clips();
    assert!(
        clips.len() >= 7,
        "corpus shrank: {} MPEG-2 clips",
        clips.len()
    );
    let ts = clips
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "ts"))
        .count();
    assert!(ts >= 2, "only {ts} MPEG-TS clips");
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
                    || configs.len() != 1
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

const DAMAGE_CLIPS: [&str; 5] = [
    "debian-k3b-data/k3bphotosvcd.mpg",
    "remuxed-by-us/k3bphotosvcd.mpeg2-interlaced.ts",
    "remuxed-by-us/movie-hello.m2v",
    "remuxed-by-us/movie-hello.mpeg2.mkv",
    "remuxed-by-us/k3bphotosvcd.mpeg2-interlaced.mkv",
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

/// Bit flips hit the codec through the elementary stream (a flip in a
/// Matroska block header makes the container stop: tested there).
#[test]
fn bit_flipped_clip_resumes_at_next_i_picture() {
    let src = media_dir().join("remuxed-by-us/movie-hello.m2v");
    let (full, ..) = play_fake(&src).expect("undamaged clip plays");
    let len = std::fs::metadata(&src).unwrap().len() as usize;
    let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ len as u64;
    let path = damaged_copy(&src, "flip", |d| {
        for _ in 0..40 {
            let at = len / 20 + (xorshift(&mut seed) as usize) % (len / 5);
            d[at] ^= 1 << (xorshift(&mut seed) % 8);
        }
    });
    let t = Instant::now();
    let (r, violations, _) = play_fake(&path).unwrap_or_else(|e| panic!("bit-flipped: {e}"));
    assert!(
        t.elapsed() < Duration::from_secs(60),
        "took {:?}",
        t.elapsed()
    );
    assert!(violations.is_empty(), "{violations:?}");
    assert!(
        r.frames_shown >= full.frames_shown / 2,
        "{} of {} frames after damage; warnings {:?}",
        r.frames_shown,
        full.frames_shown,
        r.warnings.iter().take(5).collect::<Vec<_>>()
    );
}

/// MPEG-TS with lost packets (a continuity gap in the video PID) and
/// garbage between packets (lost sync): the demuxer resyncs, the decoder
/// resumes at the next I picture, nothing breaks the uAPI rules.
#[test]
fn mpeg_ts_lost_packets_and_lost_sync_resume() {
    let src = media_dir().join("remuxed-by-us/movie-hello.mpeg2.ts");
    let (full, ..) = play_fake(&src).expect("undamaged clip plays");
    let path = damaged_copy(&src, "gaps", |d| {
        let pkts = d.len() / 188;
        // 30 packets lost at a third, 100 bytes of garbage at two thirds.
        let at = pkts / 3 * 188;
        d.drain(at..at + 30 * 188);
        let at = pkts * 2 / 3 * 188 + 17;
        let garbage: Vec<u8> = (0..100u32)
            .map(|i| if i % 9 == 0 { 0x47 } else { i as u8 })
            .collect();
        d.splice(at..at, garbage);
    });
    let t = Instant::now();
    let (r, violations, _) = play_fake(&path).unwrap_or_else(|e| panic!("damaged TS: {e}"));
    assert!(
        t.elapsed() < Duration::from_secs(60),
        "took {:?}",
        t.elapsed()
    );
    assert!(violations.is_empty(), "{violations:?}");
    assert!(
        r.frames_shown < full.frames_shown && r.frames_shown > full.frames_shown / 2,
        "{} of {} frames",
        r.frames_shown,
        full.frames_shown
    );
}
