//! Geometry against the peer: for every clip of the shared corpus, the
//! visible size and pixel aspect ratio vreqplay shows (the codec's
//! `StreamParams::{visible, pixel_aspect}` from its first `Configure`, then
//! `container::display_geometry` with the track's container aspect / crop —
//! exactly what the player applies to each frame) equal ffprobe's `width` ×
//! `height` and `sample_aspect_ratio` (tests/data/aspect.tsv, written by
//! tests/aspect_golden.py from ffprobe 5.1's output; "N/A" / "0:1" = unknown =
//! square).

use std::collections::HashMap;

use vreq_container as container;
use vreq_core::{CodecEvent, CodedUnit, StreamParams};
use vreq_testkit::{manifest, media_dir};
use vreqplay::player::{codec_for_track, pick_track};

/// Most packets fed before a codec must have configured.
const MAX_PACKETS: usize = 2000;

struct Golden {
    width: u32,
    height: u32,
    sar: String,
}

fn goldens() -> HashMap<String, Golden> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/aspect.tsv"),
    )
    .expect("tests/data/aspect.tsv (run tests/aspect_golden.py)");
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(f.len() >= 4, "bad aspect.tsv line {l:?}");
            (
                f[0].to_string(),
                Golden {
                    width: f[1].parse().expect("width"),
                    height: f[2].parse().expect("height"),
                    sar: f[3].to_string(),
                },
            )
        })
        .collect()
}

/// ffprobe's `sample_aspect_ratio` as a ratio; unknown ("N/A", "0:1") is square.
fn ffprobe_sar(s: &str) -> (u32, u32) {
    match s.split_once(':') {
        Some((n, d)) => {
            let (n, d): (u32, u32) = (n.parse().unwrap_or(0), d.parse().unwrap_or(0));
            if n == 0 || d == 0 {
                (1, 1)
            } else {
                vreq_core::reduce_ratio(n.into(), d.into()).unwrap()
            }
        }
        None => (1, 1),
    }
}

/// Equal ratios; when ours has a term above 255 FFmpeg may have approximated
/// its value (`av_reduce` with max 32767 for MP4 `pasp`, 255 for Matroska),
/// so then a relative difference below 1e-4 counts as equal.
fn same_ratio(ours: (u32, u32), peer: (u32, u32)) -> bool {
    if ours == peer {
        return true;
    }
    let a = f64::from(ours.0) / f64::from(ours.1);
    let b = f64::from(peer.0) / f64::from(peer.1);
    ours.0.max(ours.1) > 255 && ((a - b) / b).abs() < 1e-4
}

/// Why a clip yields no geometry.
#[derive(Debug)]
enum NoParams {
    /// vreqplay refuses the clip on purpose (VP9 profile 3).
    Refused(String),
    Failed(String),
}

/// The first `Configure` of the clip's codec (feeding its packets).
fn first_params(path: &std::path::Path) -> Result<(container::TrackInfo, StreamParams), NoParams> {
    match container::open(path) {
        Err(e @ container::ContainerError::Unsupported { .. }) => {
            Err(NoParams::Refused(e.to_string()))
        }
        Err(e) => Err(NoParams::Failed(e.to_string())),
        Ok(d) => first_params_of(path, d).map_err(|e| match e {
            vreq_core::CodecError::Unsupported(m) => NoParams::Refused(m),
            other => NoParams::Failed(other.to_string()),
        }),
    }
}

fn first_params_of(
    path: &std::path::Path,
    mut demux: Box<dyn container::Demuxer>,
) -> Result<(container::TrackInfo, StreamParams), vreq_core::CodecError> {
    use vreq_core::CodecError;
    let bad = |e: String| CodecError::BadConfig(e);
    let (track, kind) = pick_track(path, demux.as_ref()).map_err(|e| bad(e.to_string()))?;
    let mut codec = codec_for_track(path, &track, kind).map_err(|e| bad(e.to_string()))?;
    let mut fed = 0;
    loop {
        while let Some(ev) = codec.poll() {
            if let CodecEvent::Configure(p) = ev {
                return Ok((track, p));
            }
        }
        if fed >= MAX_PACKETS {
            return Err(bad(format!("no Configure after {fed} packets")));
        }
        match demux.next_packet() {
            Ok(Some(pkt)) if pkt.track == track.id => {
                fed += 1;
                codec.push(CodedUnit::from(&pkt))?;
            }
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => {
                codec.flush()?;
                while let Some(ev) = codec.poll() {
                    if let CodecEvent::Configure(p) = ev {
                        return Ok((track, p));
                    }
                }
                return Err(bad(format!("no Configure in {fed} packets")));
            }
        }
    }
}

#[test]
fn visible_size_and_pixel_aspect_match_ffprobe_for_every_clip() {
    let goldens = goldens();
    let media = media_dir();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut non_square = Vec::new();
    let mut refused = Vec::new();
    for e in manifest() {
        let Some(g) = goldens.get(&e.path) else {
            failures.push(format!("{}: not in tests/data/aspect.tsv", e.path));
            continue;
        };
        let (track, p) = match first_params(&media.join(&e.path)) {
            Ok(x) => x,
            Err(NoParams::Refused(why)) => {
                refused.push(format!("{}: {why}", e.path));
                continue;
            }
            Err(NoParams::Failed(err)) => {
                failures.push(format!("{}: {err}", e.path));
                continue;
            }
        };
        let (visible, par) = container::display_geometry(&track, p.visible, p.pixel_aspect);
        let want_par = ffprobe_sar(&g.sar);
        checked += 1;
        if (visible.2, visible.3) != (g.width, g.height) {
            failures.push(format!(
                "{}: visible {}x{} (codec {:?}, container crop {:?}), ffprobe {}x{}",
                e.path, visible.2, visible.3, p.visible, track.crop, g.width, g.height
            ));
        }
        if !same_ratio(par, want_par) {
            failures.push(format!(
                "{}: pixel aspect {}:{} (bitstream {:?}, container {:?}), ffprobe {}",
                e.path, par.0, par.1, p.pixel_aspect, track.pixel_aspect, g.sar
            ));
        }
        if par != (1, 1) {
            non_square.push(format!(
                "{}\t{}x{}\tours {}:{} (bitstream {}:{}, container {:?})\tffprobe {}",
                e.path,
                visible.2,
                visible.3,
                par.0,
                par.1,
                p.pixel_aspect.0,
                p.pixel_aspect.1,
                track.pixel_aspect,
                g.sar
            ));
        }
    }
    for l in &non_square {
        eprintln!("non-square: {l}");
    }
    for l in &refused {
        eprintln!("refused (not checked): {l}");
    }
    // The corpus' clip vreqplay refuses by design: VP9 profile 3 (one). More
    // means something new broke.
    assert!(refused.len() <= 1, "refused: {refused:#?}");
    assert!(
        failures.is_empty(),
        "{} of {checked} clips differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 70, "only {checked} clips checked");
    // The corpus' anamorphic clips (HEVC 4:3 pasp+VUI, MPEG-2 SVCD 8:5 from
    // its DAR, H.264 16:15 / 128:117 / Extended_SAR, HEVC 143:80 / 16:11):
    // a rule that always answers (1, 1) must fail here.
    assert!(
        non_square.len() >= 10,
        "only {} non-square clips",
        non_square.len()
    );
}

#[test]
fn container_aspect_wins_over_the_bitstream() {
    // The QuickTime clip's avcC VUI says Extended_SAR 1271:4017, its `pasp`
    // 48205:152352 (nearly, not exactly, equal): the container's is shown
    // (mpv's default, FFmpeg's av_guess_sample_aspect_ratio and GStreamer's
    // gst_h264_parse_get_par agree).
    let path = media_dir().join("debian-src-qt6-multimedia/h264_avc1_yuv420p10le_tv_bt2020.mov");
    let (track, p) = first_params(&path).unwrap();
    assert_eq!(p.pixel_aspect, (1271, 4017));
    assert_eq!(track.pixel_aspect, Some((48205, 152352)));
    let (_, par) = container::display_geometry(&track, p.visible, p.pixel_aspect);
    assert_eq!(par, (48205, 152352));
}

#[test]
fn coded_1088_is_cropped_to_1080() {
    for clip in [
        "pypi-pymediainfo/sample.mp4",
        "debian-src-qt6-multimedia/multitrack.mkv",
    ] {
        let (track, p) = first_params(&media_dir().join(clip)).unwrap();
        assert_eq!((p.coded_width, p.coded_height), (1920, 1088), "{clip}");
        let (visible, _) = container::display_geometry(&track, p.visible, p.pixel_aspect);
        assert_eq!(visible, (0, 0, 1920, 1080), "{clip}");
    }
}

#[test]
fn display_geometry_rules() {
    let mut t = container::TrackInfo {
        id: 1,
        codec: container::TrackCodec::Video(vreq_core::CodecKind::H264),
        width: 720,
        height: 576,
        frame_duration_ns: None,
        duration_ns: None,
        codec_private: vreq_core::CodecPrivate::None,
        presentation_window_ns: None,
        pixel_aspect: None,
        crop: None,
        audio: None,
    };
    let vis = (0, 0, 720, 576);
    // nothing from the container: the bitstream's
    assert_eq!(
        container::display_geometry(&t, vis, (16, 15)),
        (vis, (16, 15))
    );
    // the container's aspect wins, its crop narrows the codec's rectangle
    t.pixel_aspect = Some((12, 11));
    t.crop = Some(container::Crop {
        left: 8,
        top: 2,
        right: 8,
        bottom: 4,
    });
    assert_eq!(
        container::display_geometry(&t, (0, 4, 720, 568), (16, 15)),
        ((8, 6, 704, 562), (12, 11))
    );
    // a crop that leaves nothing is ignored
    t.crop = Some(container::Crop {
        left: 360,
        top: 0,
        right: 360,
        bottom: 0,
    });
    assert_eq!(
        container::display_geometry(&t, vis, (1, 1)),
        (vis, (12, 11))
    );
}

/// Bits of `data`, most significant first.
fn bits_of(data: &[u8]) -> Vec<u8> {
    data.iter()
        .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1))
        .collect()
}

fn bytes_of(bits: &[u8]) -> Vec<u8> {
    bits.chunks(8)
        .map(|c| c.iter().fold(0u8, |a, b| (a << 1) | b))
        .collect()
}

fn field(bits: &[u8], at: usize, n: usize) -> u32 {
    bits[at..at + n]
        .iter()
        .fold(0u32, |a, &b| (a << 1) | u32::from(b))
}

#[test]
fn vp9_render_size_becomes_the_pixel_aspect() {
    // No corpus clip signals a render size, so give the first key frame of a
    // 320x240 profile 0 clip one: set render_and_frame_size_different (VP9
    // spec 6.2 render_size()) and insert render_width_minus_1 = 639,
    // render_height_minus_1 = 239. 32 inserted bits keep the compressed
    // header byte-aligned, so the frame stays valid.
    use vreq_codec::vp9::Vp9Codec;
    use vreq_core::StatelessCodec;
    let path = media_dir().join("crates-cros-codecs/test-25fps.vp9.ivf");
    let mut demux = container::open(&path).unwrap();
    let pkt = demux.next_packet().unwrap().unwrap();
    let mut bits = bits_of(&pkt.data);
    // frame_marker 2, profile 0, show_existing 0, key frame (frame_type 0)
    assert_eq!(field(&bits, 0, 6), 0b10_0000, "not a profile 0 frame");
    assert_eq!(field(&bits, 8, 24), 0x49_83_42, "frame_sync_code");
    // color_space (3) != CS_RGB, color_range (1): frame_size() at bit 36
    assert_ne!(field(&bits, 32, 3), 7);
    assert_eq!(field(&bits, 36, 16) + 1, 320);
    assert_eq!(field(&bits, 52, 16) + 1, 240);
    assert_eq!(bits[68], 0, "already has a render size");
    bits[68] = 1;
    let render: Vec<u8> = bits_of(&[0x02, 0x7f, 0x00, 0xef]); // 639, 239
    bits.splice(69..69, render);
    let data = bytes_of(&bits);

    let mut c = Vp9Codec::new(&vreq_core::CodecPrivate::None).unwrap();
    c.push(CodedUnit {
        data: &data,
        pts_ns: Some(0),
        keyframe: true,
        byte_offset: 0,
    })
    .unwrap();
    let mut configured = None;
    let mut decoded = false;
    while let Some(ev) = c.poll() {
        match ev {
            CodecEvent::Configure(p) => configured = Some(p),
            CodecEvent::Decode(_) => decoded = true,
            CodecEvent::Skipped { reason, .. } => panic!("skipped: {reason}"),
            _ => {}
        }
    }
    let p = configured.expect("Configure");
    assert!(decoded);
    assert_eq!(p.visible, (0, 0, 320, 240));
    // shown 640x240: each pixel twice as wide as tall
    assert_eq!(p.pixel_aspect, (2, 1));
}

/// A frame's visible rectangle (x, y, width, height) and pixel aspect.
type Geometry = ((u32, u32, u32, u32), (u32, u32));

/// Keeps each frame's geometry (and drops the frame: buffer back at once).
#[derive(Default)]
struct GeometrySink(Vec<Geometry>);

impl vreq_present::Sink for GeometrySink {
    fn show(
        &mut self,
        frame: vreq_frame::DecodedFrame,
        _src: &dyn vreq_present::FrameSource,
        _due: Option<std::time::Instant>,
    ) -> Result<(), vreq_present::PresentError> {
        self.0.push((frame.visible, frame.pixel_aspect));
        Ok(())
    }
}

#[test]
fn player_hands_out_frames_with_the_shown_geometry() {
    use vreq_engine::Engine;
    use vreq_testkit::fake::FakeDevice;
    use vreq_v4l2::profile;
    use vreqplay::player::{self, Output, PlayOptions};
    for (clip, visible, par) in [
        (
            "debian-src-firefox-esr/aspect_ratio_4_3_hevc.mp4",
            (0, 0, 1440, 1080),
            (4, 3),
        ),
        ("pypi-pymediainfo/sample.mp4", (0, 0, 1920, 1080), (1, 1)),
        ("debian-k3b-data/k3bphotosvcd.mpg", (0, 0, 480, 576), (8, 5)),
        (
            "debian-src-qt6-multimedia/h264_avc1_yuv420p10le_tv_bt2020.mov",
            (0, 0, 552, 310),
            (48205, 152352),
        ),
    ] {
        let path = media_dir().join(clip);
        let opts = PlayOptions {
            input: path.clone(),
            output: Output::Null,
            max_frames: Some(30),
            device: None,
            keep_open: false,
            fullscreen: false,
            hwdec_copy: false,
        };
        let mut demux = container::open(&path).unwrap();
        let (track, kind) = pick_track(&path, demux.as_ref()).unwrap();
        let codec = codec_for_track(&path, &track, kind).unwrap();
        let mut dec = Engine::new(codec, FakeDevice::new(profile::for_driver("visl", "visl")));
        let mut sink = GeometrySink::default();
        player::run(&opts, demux.as_mut(), &track, &mut dec, &mut sink, false).unwrap();
        assert!(!sink.0.is_empty(), "{clip}: no frames");
        for g in &sink.0 {
            assert_eq!(*g, (visible, par), "{clip}");
        }
    }
}
