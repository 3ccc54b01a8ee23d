//! The three boards vreqplay is for, through fake devices built from their
//! profiles (crates/v4l2/src/profile.rs; unverified on silicon):
//!
//! * PineTab2 (RK3566): hantro-vpu rk3568 variant — H.264, VP8, MPEG-2;
//! * RK3588: rkvdec vdpu381 (H.264, HEVC; mainline has no VP9 backend) +
//!   hantro VDPU121 (rk3568 variant: H.264, VP8, MPEG-2);
//! * Raspberry Pi 5: rpi-hevc-dec — HEVC only, SAND128 CAPTURE formats;
//! * and the RK3399 pair (rkvdec rk3399: H.264, HEVC, VP9 + hantro rk3399:
//!   VP8, MPEG-2), which covers all five codecs.
//!
//! For each board and each codec it decodes, a real clip from the shared
//! corpus plays through the player's loop on the fake with the board's
//! ordering rules held (the fake checks its ioctl sequence against the
//! profile) and the expected CAPTURE format picked, 8- and 10-bit. The
//! packed / tiled formats (NV15 on rkvdec, NC12 / NC30 SAND128 on
//! rpi-hevc-dec) reach the engine as themselves, with the drivers' geometry
//! (no linear stand-in), and `-o file.y4m` unpacks them into frames of the
//! clip's visible size (`y4m_of_packed_formats`). A
//! codec a board lacks gives "<codec> is not supported by <driver> (it
//! decodes: ...)". Every case plays: `player::make_codec` builds all five codecs.
//!
//! Two-device boards: streams of every codec play one after another in one
//! process, each routed (`discover::route`) to the device that serves it.

use std::path::{Path, PathBuf};

use vreq_container as container;
use vreq_core::CodecKind;
use vreq_engine::Engine;
use vreq_present::y4m::Y4mSink;
use vreq_present::NullSink;
use vreq_testkit::fake::{self, FakeDevice};
use vreq_testkit::{manifest, media_dir};
use vreq_v4l2::discover::{self, StreamNeeds};
use vreq_v4l2::profile::{self, Profile};
use vreqplay::player::{self, Output, PlayOptions};

fn rk3568_hantro() -> &'static Profile {
    profile::for_driver("hantro-vpu", "rockchip,rk3568-vpu-dec")
}
fn rk3399_hantro() -> &'static Profile {
    profile::for_driver("hantro-vpu", "rockchip,rk3399-vpu-dec")
}
fn vdpu381() -> &'static Profile {
    profile::for_driver("rkvdec", "vdpu381")
}
fn rk3399_rkvdec() -> &'static Profile {
    profile::for_driver("rkvdec", "rk3399")
}
fn rpi() -> &'static Profile {
    profile::for_driver("rpi-hevc-dec", "rpi-hevc-dec")
}

/// One clip per (codec, bit depth) from the manifest.
fn clip(rel: &str) -> (PathBuf, u64) {
    let e = manifest()
        .into_iter()
        .find(|e| e.path == rel)
        .unwrap_or_else(|| panic!("{rel} not in MANIFEST.tsv"));
    (media_dir().join(rel), e.frames)
}

const H264_8: &str = "crates-cros-codecs/test-25fps.h264";
const HEVC_8: &str = "crates-cros-codecs/test-25fps.h265";
const HEVC_10: &str = "remuxed-by-us/gizmo_hevc_10bit_420.mkv";
const VP9_8: &str = "crates-cros-codecs/test-25fps.vp9.ivf";
const VP9_10: &str = "debian-src-firefox-esr/wpt-Rec2020-3FF000000.vp9-p2.webm";
const H264_10: &str = "debian-src-qt6-multimedia/h264_avc1_yuv420p10le_tv_bt2020.mov";
const VP8_8: &str = "crates-cros-codecs/test-25fps.vp8.ivf";
const MPEG2_8: &str = "remuxed-by-us/movie-hello.mpeg2.mkv";

/// What one playback on a fake showed.
#[derive(Debug)]
struct Played {
    device: String,
    frames: u64,
    /// The driver's CAPTURE choice of each configuration (`S_FMT(CAPTURE) X`).
    capture: Vec<String>,
    ioctls: Vec<String>,
    violations: Vec<String>,
}

enum Outcome {
    Played(Played),
}

/// Plays `path` through the player's loop on a fake `profile` device.
fn play_on(profile: &'static Profile, path: &Path) -> Result<Outcome, String> {
    let opts = PlayOptions::null(path);
    let mut demux = container::open(path).map_err(|e| e.to_string())?;
    let (track, kind) = player::pick_track(path, demux.as_ref()).map_err(|e| e.to_string())?;
    let codec = match player::codec_for_track(path, &track, kind) {
        Ok(c) => c,
        Err(e) => return Err(e.to_string()),
    };
    let dev = FakeDevice::for_codec(profile, kind);
    let mut dec = Engine::new(codec, dev);
    let mut sink = NullSink::default();
    let report = player::run(&opts, demux.as_mut(), &track, &mut dec, &mut sink, false)
        .map_err(|e| e.to_string())?;
    let d = dec.device();
    let ioctls = d.ioctls().to_vec();
    let capture = ioctls
        .iter()
        .filter_map(|o| o.strip_prefix("S_FMT(CAPTURE) ").map(str::to_string))
        .collect();
    Ok(Outcome::Played(Played {
        device: report.device,
        frames: report.frames_shown,
        capture,
        ioctls,
        violations: d.violations(),
    }))
}

/// Plays `rel` on `profile` and checks: all frames out, no rule broken, the
/// ordering rules in the recorded ioctl sequence, every configuration got
/// `want` as CAPTURE format.
fn check(profile: &'static Profile, rel: &str, want: &str) {
    let (path, frames) = clip(rel);
    let who = format!("{rel} on {}", profile.display_name());
    match play_on(profile, &path).unwrap_or_else(|e| panic!("{who}: {e}")) {
        Outcome::Played(p) => {
            assert_eq!(p.frames, frames, "{who}: frames out (ffprobe count)");
            assert!(p.violations.is_empty(), "{who}: {:?}", p.violations);
            assert!(!p.capture.is_empty(), "{who}: never configured");
            assert!(
                p.capture.iter().all(|c| c == want),
                "{who}: CAPTURE {:?}, want {want}",
                p.capture
            );
            let codec = kind_of(&path);
            let sps = matches!(codec, CodecKind::H264 | CodecKind::Hevc);
            // The fake refuses a bad order at configure; re-check the whole
            // recorded sequence per configuration here.
            for setup in p.ioctls.split(|o| o.starts_with("QBUF")) {
                if setup.iter().any(|o| o.starts_with("S_FMT(OUTPUT)")) {
                    profile
                        .check_order(setup, sps)
                        .unwrap_or_else(|e| panic!("{who}: {e}"));
                }
            }
            if profile.sps_before_capture_format && sps {
                let first = p
                    .ioctls
                    .iter()
                    .position(|o| o.starts_with("S_EXT_CTRLS(first)") && o.contains("_SPS"));
                let cap = p
                    .ioctls
                    .iter()
                    .position(|o| o.starts_with("S_FMT(CAPTURE)"));
                assert!(first < cap && first.is_some(), "{who}: {:?}", p.ioctls);
            }
            if profile.output_buffers_before_capture {
                let reqbufs = p.ioctls.iter().position(|o| o == "REQBUFS(OUTPUT)");
                let cap = p
                    .ioctls
                    .iter()
                    .position(|o| o.starts_with("S_FMT(CAPTURE)"));
                assert!(reqbufs.is_some() && reqbufs < cap, "{who}: {:?}", p.ioctls);
            }
            assert!(p.device.contains(profile.driver), "{who}: {}", p.device);
        }
    }
}

fn kind_of(path: &Path) -> CodecKind {
    let demux = container::open(path).unwrap();
    player::pick_track(path, demux.as_ref()).unwrap().1
}

/// A 10-bit stream of a codec the board decodes only in 8-bit: refused at
/// `configure` with the bit depth named.
fn assert_no_10bit(profile: &'static Profile, rel: &str, codec: &str) {
    let (path, _) = clip(rel);
    match play_on(profile, &path) {
        Err(e) => {
            let want = format!("10-bit {codec} is not supported by {}", profile.driver);
            assert!(e.contains(&want), "{e}\nwant: {want}");
        }
        Ok(Outcome::Played(p)) => panic!("{rel} played on {}: {p:?}", profile.display_name()),
    }
}

/// `configure` on a codec the board lacks: the clear error naming what it decodes.
fn assert_unsupported(profile: &'static Profile, rel: &str, codec: &str, decodes: &str) {
    let (path, _) = clip(rel);
    let e = match play_on(profile, &path) {
        Err(e) => e,
        Ok(Outcome::Played(p)) => panic!("{rel} played on {}: {p:?}", profile.display_name()),
    };
    let want = format!(
        "{codec} is not supported by {} (it decodes: {decodes})",
        profile.driver
    );
    assert!(e.contains(&want), "{e}\nwant: {want}");
}

#[test]
fn pinetab2_hantro() {
    let p = rk3568_hantro();
    check(p, H264_8, "NV12");
    check(p, VP8_8, "NV12");
    check(p, MPEG2_8, "NV12");
    assert_unsupported(p, HEVC_8, "hevc", "h264, vp8, mpeg2");
    assert_unsupported(p, VP9_8, "vp9", "h264, vp8, mpeg2");
    // No 10-bit on hantro's VDPU2: HEVC Main10 is refused for the codec,
    // H.264 High 10 for the depth.
    assert_unsupported(p, HEVC_10, "hevc", "h264, vp8, mpeg2");
    assert_no_10bit(p, H264_10, "h264");
}

#[test]
fn rk3588_rkvdec_vdpu381() {
    let p = vdpu381();
    assert!(p.sps_before_capture_format);
    check(p, H264_8, "NV12");
    check(p, HEVC_8, "NV12");
    // 10-bit: the driver derives NV15 from the SPS (rkvdec_h264/hevc_decoded_fmts).
    check(p, HEVC_10, "NV15");
    check(p, H264_10, "NV15");
    assert_unsupported(p, VP9_8, "vp9", "h264, hevc");
    assert_unsupported(p, VP8_8, "vp8", "h264, hevc");
}

#[test]
fn rk3588_hantro_vdpu121() {
    // The RK3588's VDPU121 binds to the rk3568 variant (rk3588-base.dtsi).
    let p = profile::for_driver("hantro-vpu", "rockchip,rk3568-vpu-dec");
    check(p, H264_8, "NV12");
    check(p, VP8_8, "NV12");
    check(p, MPEG2_8, "NV12");
}

#[test]
fn pi5_rpi_hevc_dec() {
    let p = rpi();
    assert!(p.output_buffers_before_capture);
    // SAND128: NC12 for 8-bit, NC30 for 10-bit (hevc_d_video.c pixelformat_from_sps).
    check(p, HEVC_8, "NC12");
    check(p, HEVC_10, "NC30");
    assert_unsupported(p, H264_8, "h264", "hevc");
    assert_unsupported(p, VP9_8, "vp9", "hevc");
    assert_unsupported(p, VP8_8, "vp8", "hevc");
    assert_unsupported(p, MPEG2_8, "mpeg2", "hevc");
}

#[test]
fn rk3399_pair_each_device_alone() {
    let rk = rk3399_rkvdec();
    check(rk, H264_8, "NV12");
    check(rk, HEVC_8, "NV12");
    check(rk, VP9_8, "NV12");
    // rkvdec.c: VP9 profile 0 only (rkvdec_vp9_decoded_fmts NV12).
    assert_no_10bit(rk, VP9_10, "vp9");
    let h = rk3399_hantro();
    check(h, VP8_8, "NV12");
    check(h, MPEG2_8, "NV12");
    assert_unsupported(h, H264_8, "h264", "vp8, mpeg2");
}

/// Plays every clip one after another in this process on a board of several
/// fake devices, routing each stream as `player::play` does; returns the
/// driver (variant) each clip was routed to.
fn play_routed(
    devices: &[&'static Profile],
    clips: &[&str],
) -> Vec<(String, Result<String, String>)> {
    let infos: Vec<_> = devices
        .iter()
        .enumerate()
        .map(|(i, p)| fake::device_info(p, i as u32))
        .collect();
    let mut out = Vec::new();
    for rel in clips {
        let (path, frames) = clip(rel);
        let demux = container::open(&path).unwrap();
        let (track, kind) = player::pick_track(&path, demux.as_ref()).unwrap();
        let needs = StreamNeeds {
            codec: kind,
            width: track.width,
            height: track.height,
            bit_depth: None,
        };
        let routed = match player::choose_device(&infos, &needs, None) {
            Ok(d) => d,
            Err(e) => {
                out.push((rel.to_string(), Err(e.to_string())));
                continue;
            }
        };
        let profile = profile::for_driver(&routed.driver, &routed.card);
        match play_on(profile, &path).unwrap_or_else(|e| panic!("{rel}: {e}")) {
            Outcome::Played(p) => {
                assert_eq!(p.frames, frames, "{rel}");
                assert!(p.violations.is_empty(), "{rel}: {:?}", p.violations);
            }
        }
        out.push((rel.to_string(), Ok(profile.display_name())));
    }
    out
}

#[test]
fn rk3588_two_devices_route_each_codec() {
    let r = play_routed(
        &[rk3568_hantro(), vdpu381()],
        &[H264_8, HEVC_8, HEVC_10, VP8_8, MPEG2_8, VP9_8],
    );
    let want = |s: &str| Ok(s.to_string());
    assert_eq!(
        r[0].1,
        want("rkvdec (vdpu381)"),
        "H.264: the larger decoder"
    );
    assert_eq!(r[1].1, want("rkvdec (vdpu381)"));
    assert_eq!(r[2].1, want("rkvdec (vdpu381)"));
    assert_eq!(r[3].1, want("hantro-vpu (rk3568-vpu)"));
    assert_eq!(r[4].1, want("hantro-vpu (rk3568-vpu)"));
    // Mainline RK3588 has no VP9 stateless decoder: the error lists the union.
    let e = r[5].1.as_ref().unwrap_err();
    assert!(
        e.contains("no V4L2 stateless decoder for vp9")
            && e.contains("h264 (/dev/video0 hantro-vpu, /dev/video1 rkvdec)")
            && e.contains("mpeg2 (/dev/video0 hantro-vpu)"),
        "{e}"
    );
}

#[test]
fn rk3399_two_devices_play_all_five_codecs() {
    // Discovery order hantro first, so routing is not just "the first one".
    let r = play_routed(
        &[rk3399_hantro(), rk3399_rkvdec()],
        &[H264_8, HEVC_8, VP9_8, VP8_8, MPEG2_8, H264_8],
    );
    let names: Vec<_> = r.iter().map(|(_, d)| d.clone().unwrap()).collect();
    assert_eq!(
        names,
        [
            "rkvdec (rk3399)",
            "rkvdec (rk3399)",
            "rkvdec (rk3399)",
            "hantro-vpu (rk3399-vpu)",
            "hantro-vpu (rk3399-vpu)",
            "rkvdec (rk3399)",
        ]
    );
}

#[test]
fn routing_prefers_size_and_bit_depth_and_device_forces() {
    let infos = vec![
        fake::device_info(rk3568_hantro(), 0),
        fake::device_info(vdpu381(), 1),
    ];
    let needs = |codec, w, h, bit_depth| StreamNeeds {
        codec,
        width: w,
        height: h,
        bit_depth,
    };
    let at = |n: &StreamNeeds| discover::route(&infos, n).unwrap().driver.clone();
    assert_eq!(at(&needs(CodecKind::H264, 3840, 2160, Some(8))), "rkvdec");
    assert_eq!(at(&needs(CodecKind::H264, 1280, 720, Some(10))), "rkvdec");
    assert_eq!(at(&needs(CodecKind::Mpeg2, 720, 576, None)), "hantro-vpu");
    // A board where only the smaller device has the codec still gets it
    // (the driver then refuses the size with a clear error).
    assert_eq!(at(&needs(CodecKind::Vp8, 3840, 2160, None)), "hantro-vpu");
    // Two hantros and a size only one fits: the one that fits wins.
    let mut small = fake::device_info(rk3568_hantro(), 2);
    for c in &mut small.codecs {
        c.max_width = 640;
        c.max_height = 480;
    }
    let two = vec![small, fake::device_info(rk3568_hantro(), 3)];
    let d = discover::route(&two, &needs(CodecKind::H264, 1280, 720, None)).unwrap();
    assert_eq!(d.video_path, Path::new("/dev/video3"));
    // Both fit: the larger maximum size wins.
    let d = discover::route(&two, &needs(CodecKind::H264, 320, 240, None)).unwrap();
    assert_eq!(
        d.video_path,
        Path::new("/dev/video3"),
        "larger max size first"
    );
    // --device forces one; a forced device lacking the codec says what it decodes.
    let forced = player::choose_device(
        &infos,
        &needs(CodecKind::H264, 320, 240, None),
        Some(Path::new("/dev/media0")),
    )
    .unwrap();
    assert_eq!(forced.driver, "hantro-vpu");
    let e = player::choose_device(
        &infos,
        &needs(CodecKind::Hevc, 320, 240, None),
        Some(Path::new("/dev/video0")),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("hevc is not supported by hantro-vpu (it decodes: h264, vp8, mpeg2)"),
        "{e}"
    );
    // --list-devices: the union and the routing.
    let t = discover::format_table(&infos);
    assert!(
        t.contains("h264   /dev/video1 (rkvdec) [/dev/video0 (hantro-vpu), /dev/video1 (rkvdec)]"),
        "{t}"
    );
    assert!(t.contains("mpeg2  /dev/video0 (hantro-vpu)\n"), "{t}");
    assert!(t.contains("hevc   /dev/video1 (rkvdec)\n"), "{t}");
}

#[test]
fn capture_formats_map_to_drm() {
    let le = |b: &[u8; 4]| u32::from_le_bytes(*b);
    assert_eq!(
        vreq_frame::drm::drm_format(*b"NV12", 1920),
        Some((le(b"NV12"), 0))
    );
    assert_eq!(
        vreq_frame::drm::drm_format(*b"NV15", 2400),
        Some((le(b"NV15"), 0))
    );
    // SAND128 with the column height from bytesperline (hevc_d_video.c):
    // drm_fourcc.h DRM_FORMAT_MOD_BROADCOM_SAND128_COL_HEIGHT(1632).
    let (f, m) = vreq_frame::drm::drm_format(*b"NC12", 1632).unwrap();
    assert_eq!(f, le(b"NV12"));
    assert_eq!(m, 0x0700_0000_0006_6004);
    assert_eq!(m >> 56, 7, "vendor Broadcom");
    assert_eq!((m >> 8) & 0xffff_ffff, 1632);
    let (f, m) = vreq_frame::drm::drm_format(*b"NC30", 1632).unwrap();
    assert_eq!((f, m & 0xff), (le(b"P030"), 4));
    assert_eq!(
        vreq_frame::drm::drm_format(*b"ST12", 0),
        Some((le(b"NV12"), 0x0900_0000_0000_0001))
    );
    assert_eq!(vreq_frame::drm::drm_format(*b"ZZZZ", 0), None);
    // Every profile's CAPTURE formats have a DRM mapping.
    for p in profile::PROFILES {
        for f in p.all_capture_formats() {
            assert!(
                vreq_frame::drm::drm_format(f, 64).is_some(),
                "{} {}",
                p.display_name(),
                String::from_utf8_lossy(&f)
            );
        }
    }
}

/// Plays the first `frames` frames of `rel` on `profile` into a Y4M file
/// through the real `Y4mSink` (which unpacks NV15 / NC12 / NC30) and checks
/// the engine got `fourcc` (no stand-in), the header (visible size from the
/// MANIFEST, `C420jpeg` / `C420p10`) and that each FRAME holds exactly one
/// 4:2:0 picture of that size.
fn y4m_on(profile: &'static Profile, rel: &str, fourcc: &str, ten_bit: bool) {
    let (path, _) = clip(rel);
    let entry = manifest().into_iter().find(|e| e.path == rel).unwrap();
    let (w, h) = (entry.width as usize, entry.height as usize);
    let who = format!("{rel} on {}", profile.display_name());
    let out = std::env::temp_dir().join(format!(
        "vreqplay-boards-{}-{}.y4m",
        std::process::id(),
        fourcc
    ));
    let frames = 4u64;
    let opts = PlayOptions {
        input: path.clone(),
        output: Output::Null,
        max_frames: Some(frames),
        device: None,
        keep_open: false,
        fullscreen: false,
        hwdec_copy: false,
    };
    let mut demux = container::open(&path).unwrap();
    let (track, kind) = player::pick_track(&path, demux.as_ref()).unwrap();
    let codec = player::codec_for_track(&path, &track, kind).unwrap();
    let mut dec = Engine::new(codec, FakeDevice::for_codec(profile, kind));
    {
        let mut sink = Y4mSink::create(&out, true, (25, 1)).unwrap();
        let report = player::run(&opts, demux.as_mut(), &track, &mut dec, &mut sink, false)
            .unwrap_or_else(|e| panic!("{who}: {e}"));
        assert_eq!(report.frames_shown, frames, "{who}");
        vreq_present::Sink::finish(&mut sink).unwrap();
    }
    assert_eq!(
        dec.device().capture_fourcc(),
        Some(<[u8; 4]>::try_from(fourcc.as_bytes()).unwrap()),
        "{who}"
    );
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let nl = bytes.iter().position(|&b| b == b'\n').unwrap();
    let header = String::from_utf8_lossy(&bytes[..nl]).into_owned();
    assert!(
        header.starts_with(&format!("YUV4MPEG2 W{w} H{h} ")),
        "{who}: {header}"
    );
    let c = if ten_bit { "C420p10" } else { "C420jpeg" };
    assert!(header.ends_with(c), "{who}: {header}");
    let sb = if ten_bit { 2 } else { 1 };
    let picture = (w * h + 2 * w.div_ceil(2) * h.div_ceil(2)) * sb;
    let body = &bytes[nl + 1..];
    assert_eq!(
        body.len(),
        frames as usize * (6 + picture),
        "{who}: {frames} FRAMEs of {picture} bytes"
    );
    for i in 0..frames as usize {
        assert_eq!(
            &body[i * (6 + picture)..][..6],
            b"FRAME\n",
            "{who}: frame {i}"
        );
    }
}

#[test]
fn y4m_of_packed_formats() {
    y4m_on(rpi(), HEVC_8, "NC12", false);
    y4m_on(rpi(), HEVC_10, "NC30", true);
    y4m_on(vdpu381(), HEVC_10, "NV15", true);
    y4m_on(vdpu381(), H264_10, "NV15", true);
}
