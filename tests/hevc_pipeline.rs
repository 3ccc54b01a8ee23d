//! HEVC end to end on the host: container → HEVC codec → engine → fake
//! device → sink.
//!
//! * every HEVC clip of the shared corpus outputs exactly the frames
//!   `ffprobe -count_frames` counts (MANIFEST.tsv) on a fake visl
//!   (slice-based, no start codes) and on a fake RK3588 (rkvdec vdpu381:
//!   frame-based, Annex-B start codes), with no uAPI rule broken;
//! * truncated and bit-flipped inputs: no panic, no hang, clear messages,
//!   and decoding resumes at the next IRAP picture;
//! * RK3588 extension through the engine: the EXT_SPS_ST/LT_RPS arrays go
//!   with the SPS only, are refreshed by an SPS change mid-stream, and are
//!   never sent to a device without them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vreq_container as container;
use vreq_core::{uapi_ext, CodecKind, Control};
use vreq_engine::Engine;
use vreq_present::NullSink;
use vreq_testkit::fake::{FakeDevice, RecordedJob};
use vreq_testkit::{manifest, media_dir, xorshift};
use vreq_v4l2::profile;
use vreqplay::player::{self, PlayOptions, PlayReport};

struct Run {
    report: PlayReport,
    violations: Vec<String>,
    jobs: Vec<RecordedJob>,
}

/// Runs the player's loop over a fake `driver` (`card` picks the variant).
fn play_fake(path: &Path, driver: &str, card: &str) -> Result<Run, String> {
    let opts = PlayOptions::null(path);
    let mut demux = container::open(path).map_err(|e| e.to_string())?;
    let (track, kind) = player::pick_track(path, demux.as_ref()).map_err(|e| e.to_string())?;
    assert_eq!(kind, CodecKind::Hevc);
    let codec = player::codec_for_track(path, &track, kind).map_err(|e| e.to_string())?;
    // FakeDevice answers has_control from the profile (EXT_SPS_* on vdpu381 only).
    let mut dec = Engine::new(codec, FakeDevice::new(profile::for_driver(driver, card)));
    let mut sink = NullSink::default();
    let report = player::run(&opts, demux.as_mut(), &track, &mut dec, &mut sink, false)
        .map_err(|e| e.to_string())?;
    Ok(Run {
        report,
        violations: dec.device().violations(),
        jobs: dec.device().jobs().to_vec(),
    })
}

/// (path, ffprobe frames, bit depth) of every HEVC clip.
fn hevc_clips() -> Vec<(PathBuf, u64, u32)> {
    manifest()
        .into_iter()
        .filter(|e| e.codec == "hevc")
        .map(|e| (media_dir().join(&e.path), e.frames, e.bit_depth))
        .collect()
}

#[test]
fn every_hevc_clip_outputs_ffprobe_frame_count() {
    let clips = hevc_clips();
    assert!(
        clips.len() >= 15,
        "corpus shrank: {} HEVC clips",
        clips.len()
    );
    let mut failures = Vec::new();
    for (path, frames, _depth) in &clips {
        let name = path
            .strip_prefix(media_dir())
            .unwrap()
            .display()
            .to_string();
        for (driver, card) in [("visl", "visl"), ("rkvdec", "rkvdec-rk3588")] {
            let t = Instant::now();
            let result = play_fake(path, driver, card);
            // rkvdec decodes 10-bit into NV15 only (its profile, from the
            // driver source): the engine gets NV15 itself and must decode
            // every frame like the 8-bit clips.
            match result {
                Ok(r) => {
                    let rep = &r.report;
                    if rep.frames_shown != *frames || !r.violations.is_empty() || rep.stats.bad != 0
                    {
                        failures.push(format!(
                            "{name} on {driver}: {} frames (ffprobe {frames}), {} skipped, {} bad, violations {:?}, warnings {:?}",
                            rep.frames_shown,
                            rep.stats.skipped,
                            rep.stats.bad,
                            r.violations.iter().take(3).collect::<Vec<_>>(),
                            rep.warnings.iter().take(3).collect::<Vec<_>>()
                        ));
                    }
                }
                Err(e) => failures.push(format!("{name} on {driver}: {e}")),
            }
            eprintln!("{name} on {driver}: {:?}", t.elapsed());
        }
    }
    assert!(
        failures.is_empty(),
        "{} clips wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn write_temp(name: &str, data: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vreqplay-hevc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(name);
    std::fs::write(&out, data).unwrap();
    out
}

const DAMAGE_CLIPS: [&str; 3] = [
    "debian-src-firefox-esr/gizmo_hevc_8bit_420.mp4",
    "remuxed-by-us/gizmo_hevc_10bit_420.mkv",
    "crates-cros-codecs/test-25fps.h265",
];

#[test]
fn truncated_clips_end_cleanly() {
    for clip in DAMAGE_CLIPS {
        let src = media_dir().join(clip);
        let data = std::fs::read(&src).unwrap();
        let full = play_fake(&src, "visl", "visl").expect("undamaged clip plays");
        for frac in [0.01, 0.3, 0.77] {
            let cut = (data.len() as f64 * frac) as usize;
            let name = format!(
                "{}-cut{cut}.{}",
                src.file_stem().unwrap().to_str().unwrap(),
                src.extension().unwrap().to_str().unwrap()
            );
            let path = write_temp(&name, &data[..cut]);
            let t = Instant::now();
            let r = play_fake(&path, "visl", "visl");
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "{clip} cut at {cut}: {:?}",
                t.elapsed()
            );
            match r {
                Ok(r) => {
                    assert!(
                        r.violations.is_empty(),
                        "{clip} cut at {cut}: {:?}",
                        r.violations
                    );
                    assert!(r.report.frames_shown <= full.report.frames_shown);
                }
                Err(e) => assert!(e.contains(&name), "{clip} cut at {cut}: unclear error {e}"),
            }
        }
    }
}

/// Three copies of a clip back to back: an IRAP (IDR) starts each copy.
fn tripled(clip: &str) -> (Vec<u8>, u64) {
    let src = media_dir().join(clip);
    let data = std::fs::read(&src).unwrap();
    let frames = manifest()
        .into_iter()
        .find(|e| e.path == clip)
        .unwrap()
        .frames;
    ([data.clone(), data.clone(), data].concat(), frames)
}

#[test]
fn bit_flipped_streams_resume_at_next_irap() {
    for clip in [
        "crates-cros-codecs/bbb.h265",
        "crates-cros-codecs/test-25fps.h265",
    ] {
        let (data, frames) = tripled(clip);
        let clean = write_temp("clean.h265", &data);
        let full = play_fake(&clean, "visl", "visl").expect("tripled clip plays");
        assert_eq!(full.report.frames_shown, 3 * frames, "{clip} x3");
        let third = data.len() / 3;
        let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ data.len() as u64;
        let mut bad = data.clone();
        // damage inside the first copy only (past its parameter sets)
        for _ in 0..40 {
            let at = third / 10 + (xorshift(&mut seed) as usize) % (third * 8 / 10);
            bad[at] ^= 1 << (xorshift(&mut seed) % 8);
        }
        let path = write_temp("flipped.h265", &bad);
        let t = Instant::now();
        let r = play_fake(&path, "visl", "visl").unwrap_or_else(|e| panic!("{clip}: {e}"));
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{clip}: {:?}",
            t.elapsed()
        );
        assert!(r.violations.is_empty(), "{clip}: {:?}", r.violations);
        // the two undamaged copies decode completely after the damage
        assert!(
            r.report.frames_shown >= 2 * frames,
            "{clip}: {} of {} frames after damage; warnings {:?}",
            r.report.frames_shown,
            3 * frames,
            r.report.warnings.iter().take(5).collect::<Vec<_>>()
        );
    }
}

fn has(j: &RecordedJob, id: u32) -> bool {
    j.control_ids.contains(&id)
}

fn ext_arrays(
    j: &RecordedJob,
) -> (
    Option<Vec<uapi_ext::V4l2CtrlHevcExtSpsStRps>>,
    Option<Vec<uapi_ext::V4l2CtrlHevcExtSpsLtRps>>,
) {
    let mut out = (None, None);
    for c in &j.controls {
        match c {
            Control::HevcExtSpsStRps(v) => out.0 = Some(v.clone()),
            Control::HevcExtSpsLtRps(v) => out.1 = Some(v.clone()),
            _ => {}
        }
    }
    out
}

#[test]
fn rk3588_ext_sps_rps_follow_the_sps() {
    let g = |n: &str| media_dir().join("generated-by-us").join(n);
    let a = std::fs::read(g("hevc-sps-rps.h265")).unwrap();
    let b = std::fs::read(g("hevc-sps-rps-inter-lt.h265")).unwrap();
    let path = write_temp("sps-change.h265", &[a, b].concat());
    let r = play_fake(&path, "rkvdec", "rkvdec-rk3588").unwrap();
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    assert_eq!(r.report.frames_shown, 60);
    let sps_jobs: Vec<&RecordedJob> = r
        .jobs
        .iter()
        .filter(|j| has(j, v4l2r::bindings::V4L2_CID_STATELESS_HEVC_SPS))
        .collect();
    assert_eq!(sps_jobs.len(), 2, "one SPS per sequence");
    for j in &r.jobs {
        if !has(j, v4l2r::bindings::V4L2_CID_STATELESS_HEVC_SPS) {
            assert_eq!(ext_arrays(j), (None, None), "EXT only with the SPS");
        }
    }
    let (st1, lt1) = ext_arrays(sps_jobs[0]);
    let (st2, lt2) = ext_arrays(sps_jobs[1]);
    let (st1, st2) = (
        st1.expect("ST_RPS of the first SPS"),
        st2.expect("ST_RPS of the second SPS"),
    );
    assert!(lt1.is_none(), "no long-term candidates in the first SPS");
    assert_eq!(lt2.expect("LT_RPS of the second SPS").len(), 3);
    assert_ne!(st1, st2, "arrays refreshed");
    assert!(st1
        .iter()
        .all(|e| e.flags & uapi_ext::V4L2_HEVC_EXT_SPS_ST_RPS_FLAG_INTER_REF_PIC_SET_PRED == 0));
    assert!(st2
        .iter()
        .any(|e| e.flags & uapi_ext::V4L2_HEVC_EXT_SPS_ST_RPS_FLAG_INTER_REF_PIC_SET_PRED != 0));

    // the same stream on a device without the extension: nothing extra
    let r = play_fake(&path, "visl", "visl").unwrap();
    assert_eq!(r.report.frames_shown, 60);
    assert!(r.jobs.iter().all(|j| ext_arrays(j) == (None, None)));
}

#[test]
fn rk3588_picture_whose_sps_was_never_seen_is_skipped_without_ext() {
    let g = |n: &str| media_dir().join("generated-by-us").join(n);
    let b = std::fs::read(g("hevc-sps-rps-inter-lt.h265")).unwrap();
    // every NAL unit except the SPS (type 33)
    let mut out = Vec::new();
    let mut i = 0;
    let starts: Vec<usize> = (0..b.len().saturating_sub(3))
        .filter(|&k| b[k] == 0 && b[k + 1] == 0 && b[k + 2] == 1)
        .collect();
    for (n, &s) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(b.len());
        let nal = &b[s + 3..end];
        if nal.first().map(|h| (h >> 1) & 0x3f) != Some(33) {
            out.extend_from_slice(&[0, 0, 1]);
            out.extend_from_slice(nal);
        }
        i += 1;
    }
    assert!(i > 30);
    let path = write_temp("no-sps.h265", &out);
    match play_fake(&path, "rkvdec", "rkvdec-rk3588") {
        Ok(r) => {
            assert!(r.jobs.is_empty(), "nothing to decode without an SPS");
            assert_eq!(r.report.frames_shown, 0);
            assert!(
                r.report.stats.skipped > 0 || !r.report.warnings.is_empty(),
                "the loss is reported"
            );
        }
        Err(e) => assert!(e.contains("no-sps.h265") || e.contains("SPS"), "{e}"),
    }
}

/// DECODE_PARAMS of every picture of a run, in decode order.
fn decode_params(
    jobs: &[RecordedJob],
) -> Vec<(u64, v4l2r::bindings::v4l2_ctrl_hevc_decode_params)> {
    jobs.iter()
        .filter_map(|j| {
            j.controls.iter().find_map(|c| match c {
                Control::HevcDecodeParams(dp) => Some((j.timestamp_ns, **dp)),
                _ => None,
            })
        })
        .collect()
}

/// The `dpb[]` indices of a picture's Curr lists.
fn curr_indices(dp: &v4l2r::bindings::v4l2_ctrl_hevc_decode_params) -> Vec<u8> {
    let mut v = dp.poc_st_curr_before[..usize::from(dp.num_poc_st_curr_before)].to_vec();
    v.extend_from_slice(&dp.poc_st_curr_after[..usize::from(dp.num_poc_st_curr_after)]);
    v.extend_from_slice(&dp.poc_lt_curr[..usize::from(dp.num_poc_lt_curr)]);
    v
}

/// A stream that lost a reference picture (H.265 8.3.3): the x265 clip
/// without its first non-IRAP picture that later pictures use. Every picture
/// left is decoded and shown, the lost picture's POC reaches `dpb[]` as a
/// stand-in entry whose timestamp names a held CAPTURE buffer (the fake
/// device checks every `dpb[].timestamp`), and no used list entry is 0xff.
#[test]
fn lost_reference_picture_is_stood_in_for() {
    use v4l2r::bindings;
    let src = media_dir().join("generated-by-us/hevc-x265.h265");
    let clean = play_fake(&src, "visl", "visl").expect("clean clip plays");
    let pics = decode_params(&clean.jobs);
    let n = pics.len();
    assert_eq!(clean.report.frames_shown, n as u64);
    let irap = u64::from(bindings::V4L2_HEVC_DECODE_PARAM_FLAG_IRAP_PIC);
    let k = (0..n)
        .find(|&k| {
            pics[k].1.flags & irap == 0
                && pics[k + 1..].iter().any(|(_, dp)| {
                    curr_indices(dp)
                        .iter()
                        .any(|&i| dp.dpb[usize::from(i)].timestamp == pics[k].0)
                })
        })
        .expect("a non-IRAP picture used as a reference");
    let lost_poc = pics[k].1.pic_order_cnt_val;

    // the same access units (start codes included) without picture k
    let mut demux = container::open(&src).unwrap();
    let mut aus = Vec::new();
    while let Some(p) = demux.next_packet().unwrap() {
        aus.push(p.data);
    }
    assert_eq!(aus.len(), n, "one access unit per picture");
    aus.remove(k);
    let path = write_temp("lost-ref.h265", &aus.concat());

    for (driver, card) in [("visl", "visl"), ("rkvdec", "rkvdec-rk3588")] {
        let r = play_fake(&path, driver, card).unwrap_or_else(|e| panic!("{driver}: {e}"));
        assert!(r.violations.is_empty(), "{driver}: {:?}", r.violations);
        assert_eq!(
            r.report.stats.skipped, 0,
            "{driver}: {:?}",
            r.report.warnings
        );
        assert_eq!(r.report.frames_shown, n as u64 - 1, "{driver}: frames out");
        let mut stand_in = 0;
        let mut cur_dpb = 0u8;
        for j in &r.jobs {
            for c in &j.controls {
                match c {
                    Control::HevcDecodeParams(dp) => {
                        cur_dpb = dp.num_active_dpb_entries;
                        for &i in &curr_indices(dp) {
                            assert!(
                                i < cur_dpb,
                                "{driver}: picture {}: index {i:#x}",
                                j.timestamp_ns
                            );
                        }
                        stand_in += dp.dpb[..usize::from(cur_dpb)]
                            .iter()
                            .filter(|e| e.pic_order_cnt_val == lost_poc)
                            .count();
                    }
                    Control::HevcSliceParams(v) => {
                        for sp in v {
                            let t = u32::from(sp.slice_type);
                            if t != bindings::V4L2_HEVC_SLICE_TYPE_I {
                                let l0 =
                                    &sp.ref_idx_l0[..=usize::from(sp.num_ref_idx_l0_active_minus1)];
                                assert!(l0.iter().all(|&i| i < cur_dpb), "{driver}: l0 {l0:?}");
                            }
                            if t == bindings::V4L2_HEVC_SLICE_TYPE_B {
                                let l1 =
                                    &sp.ref_idx_l1[..=usize::from(sp.num_ref_idx_l1_active_minus1)];
                                assert!(l1.iter().all(|&i| i < cur_dpb), "{driver}: l1 {l1:?}");
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        assert!(
            stand_in > 0,
            "{driver}: no dpb[] entry with the lost POC {lost_poc}"
        );
    }
}
