//! The bodies of vreqplay's fuzz targets (issue 15). Each `pub fn` takes
//! arbitrary bytes and drives one parser the way the player does; it must
//! return — no panic, no hang, no unbounded allocation — whatever the bytes.
//! `fuzz/fuzz_targets/<name>.rs` (cargo-fuzz, nightly) calls exactly these
//! functions, and `tests/regressions.rs` (stable `cargo test`) replays every
//! input under `tests/data/fuzz-regressions/<name>/` through them.
//!
//! The demuxers open paths, so a body writes its input to a file of its own
//! under `/dev/shm` (per process and target, reused between runs).
//!
//! What the bodies check beyond "returns": a demuxer that keeps returning
//! `Err` without ever reaching its end ([`MAX_CONSECUTIVE_ERRORS`] in a
//! row) is reported as a hang (a panic here), as is one that hands out more
//! than [`MAX_PACKETS`] packets from an input of at most a few MiB.

#![forbid(unsafe_code)]

use std::path::PathBuf;

use vreq_container::{Demuxer, TrackCodec};
use vreq_core::{CodecKind, CodedUnit};
use vreq_engine::Engine;
use vreq_frame::detile::{self, LinearDst, LinearSrc, Sand128};
use vreq_testkit::fake::FakeDevice;
use vreq_v4l2::profile::for_driver;

/// `Err`s in a row from `next_packet` after which a demuxer is taken to be
/// stuck (each call must move on: the trait says the next call resumes
/// with the next readable packet).
pub const MAX_CONSECUTIVE_ERRORS: usize = 10_000;
/// Packets read per pass (open, and after each seek) before the body stops
/// reading; the inputs are small, so more means a loop.
pub const MAX_PACKETS: usize = 1_000_000;
/// Largest plane buffer the `detile` body allocates (bytes).
const DETILE_MAX_BYTES: usize = 4 << 20;

/// A scratch file holding one input, removed when dropped.
struct Scratch(PathBuf);
impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes `data` to this thread's scratch file for `target` (under
/// `/dev/shm`, else the temp dir) with extension `ext`; the file goes when
/// the returned guard is dropped.
fn scratch(target: &str, ext: &str, data: &[u8]) -> Scratch {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let tid = format!("{:?}", std::thread::current().id())
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>();
    let path = dir.join(format!(
        "vreq-fuzz-{}-{tid}-{target}.{ext}",
        std::process::id()
    ));
    std::fs::write(&path, data).expect("write the fuzz input to a scratch file");
    Scratch(path)
}

/// Reads up to `cap` packets, resuming after errors; returns them.
fn drain(d: &mut dyn Demuxer, cap: usize, keep: bool) -> Vec<vreq_container::Packet> {
    let mut out = Vec::new();
    let mut errors = 0usize;
    for _ in 0..cap {
        match d.next_packet() {
            Ok(Some(p)) => {
                errors = 0;
                if keep {
                    out.push(p);
                }
            }
            Ok(None) => return out,
            Err(e) => {
                // the message must be one line (it is shown to the user)
                assert!(!e.to_string().contains('\n'), "multi-line error: {e}");
                errors += 1;
                assert!(
                    errors < MAX_CONSECUTIVE_ERRORS,
                    "demuxer returned {errors} errors in a row without reaching its end: {e}"
                );
            }
        }
    }
    if cap == MAX_PACKETS {
        panic!("demuxer returned more than {MAX_PACKETS} packets from a small input");
    }
    out
}

/// The whole life of a demuxer the player gives it: tracks, duration,
/// chapters, every packet, then three seeks (targets from the input's last
/// bytes) with a few packets after each.
fn exercise(d: &mut dyn Demuxer, data: &[u8]) {
    let tracks: Vec<_> = d.tracks().to_vec();
    let _ = d.duration_ns();
    let _ = d.chapters().len();
    drain(d, MAX_PACKETS, false);
    let Some(first) = tracks.first() else {
        return;
    };
    let tail = &data[data.len().saturating_sub(12)..];
    for (i, c) in tail.chunks(4).enumerate() {
        let mut b = [0u8; 4];
        b[..c.len()].copy_from_slice(c);
        // targets spread from before 0 to past any real end
        let target = i64::from(i32::from_le_bytes(b)) * 1_000_000;
        let track = tracks.get(i % tracks.len()).unwrap_or(first).id;
        if d.seek(track, target).is_ok() {
            drain(d, 8, false);
        }
    }
}

fn demux_with(
    target: &str,
    ext: &str,
    data: &[u8],
    open: impl FnOnce(&std::path::Path) -> Result<Box<dyn Demuxer>, vreq_container::ContainerError>,
) {
    let path = scratch(target, ext, data);
    if let Ok(mut d) = open(&path) {
        exercise(d.as_mut(), data);
    }
}

/// MP4 / MOV, plain and fragmented (`vreq_container::mp4::Mp4Demuxer`).
pub fn demux_mp4(data: &[u8]) {
    demux_with("demux_mp4", "mp4", data, |p| {
        Ok(Box::new(vreq_container::mp4::Mp4Demuxer::open(p)?))
    });
}

/// Matroska / WebM (`vreq_container::mkv::MkvDemuxer`).
pub fn demux_mkv(data: &[u8]) {
    demux_with("demux_mkv", "mkv", data, |p| {
        Ok(Box::new(vreq_container::mkv::MkvDemuxer::open(p)?))
    });
}

/// IVF (`vreq_container::ivf::IvfDemuxer`).
pub fn demux_ivf(data: &[u8]) {
    demux_with("demux_ivf", "ivf", data, |p| {
        Ok(Box::new(vreq_container::ivf::IvfDemuxer::open(p)?))
    });
}

/// Raw H.264 Annex-B (`vreq_container::annexb::AnnexBDemuxer`).
pub fn demux_annexb_h264(data: &[u8]) {
    demux_with("demux_annexb_h264", "h264", data, |p| {
        Ok(Box::new(vreq_container::annexb::AnnexBDemuxer::open(
            p,
            TrackCodec::Video(CodecKind::H264),
        )?))
    });
}

/// Raw HEVC Annex-B (`vreq_container::annexb::AnnexBDemuxer`).
pub fn demux_annexb_hevc(data: &[u8]) {
    demux_with("demux_annexb_hevc", "hevc", data, |p| {
        Ok(Box::new(vreq_container::annexb::AnnexBDemuxer::open(
            p,
            TrackCodec::Video(CodecKind::Hevc),
        )?))
    });
}

/// MPEG-2 video elementary stream (`vreq_container::mpeg2es::Mpeg2EsDemuxer`).
pub fn demux_mpeg2es(data: &[u8]) {
    demux_with("demux_mpeg2es", "m2v", data, |p| {
        Ok(Box::new(vreq_container::mpeg2es::Mpeg2EsDemuxer::open(p)?))
    });
}

/// MPEG program stream (`vreq_container::mpegps::open`).
pub fn demux_ps(data: &[u8]) {
    demux_with("demux_ps", "mpg", data, |p| {
        Ok(Box::new(vreq_container::mpegps::open(p)?))
    });
}

/// MPEG transport stream and M2TS (`vreq_container::mpegts::open`).
pub fn demux_ts(data: &[u8]) {
    demux_with("demux_ts", "ts", data, |p| {
        Ok(Box::new(vreq_container::mpegts::open(p)?))
    });
}

/// `vreq_container::open`: probing by content, then whichever demuxer the
/// bytes call for (the file has no telling extension).
pub fn demux_probe(data: &[u8]) {
    let path = scratch("demux_probe", "bin", data);
    let _ = vreq_container::probe(&path, data);
    if let Ok(mut d) = vreq_container::open(&path) {
        exercise(d.as_mut(), data);
    }
}

/// Demuxes the input as the player does (probing by content), makes the
/// codec of its first video track (with the track's CodecPrivate: avcC,
/// hvcC, …) and decodes every packet through the engine on a fake visl
/// device, draining at the end; then a reset (a seek) and a few packets
/// more. `ext` only names the scratch file.
fn decode_file(target: &str, ext: &str, data: &[u8]) {
    let path = scratch(target, ext, data);
    let Ok(mut demux) = vreq_container::open(&path) else {
        return;
    };
    let Some(track) = demux
        .tracks()
        .iter()
        .find(|t| matches!(t.codec, TrackCodec::Video(_)))
        .cloned()
    else {
        return;
    };
    let TrackCodec::Video(kind) = track.codec else {
        return;
    };
    let Ok(codec) = vreq_codec::make_codec(kind, &track.codec_private) else {
        return;
    };
    let device = FakeDevice::for_codec(for_driver("visl", "visl"), kind);
    let mut engine = Engine::new(codec, device);
    let mut errors = 0usize;
    let mut frames = Vec::new();
    for _ in 0..MAX_PACKETS {
        let p = match demux.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(_) => {
                errors += 1;
                assert!(errors < MAX_CONSECUTIVE_ERRORS, "demuxer stuck in errors");
                continue;
            }
        };
        errors = 0;
        if p.track != track.id {
            continue;
        }
        if engine.decode(CodedUnit::from(&p)).is_err() {
            // a fatal engine error ends the file as in the player
            return;
        }
        while let Some(f) = engine.next_frame() {
            // hold a few frames as a presenter does, then let them go
            frames.push(f);
            if frames.len() > 3 {
                frames.remove(0);
            }
        }
    }
    frames.clear();
    if engine.finish().is_err() {
        return;
    }
    while engine.next_frame().is_some() {}
    let _ = engine.take_error();
    while engine.take_warning().is_some() {}
    // a seek back to the start: reset, then decode again from a keyframe
    if demux.seek(track.id, 0).is_ok() && engine.reset().is_ok() {
        for _ in 0..16 {
            match demux.next_packet() {
                Ok(Some(p)) if p.track == track.id => {
                    if engine.decode(CodedUnit::from(&p)).is_err() {
                        return;
                    }
                    while engine.next_frame().is_some() {}
                }
                Ok(Some(_)) | Err(_) => {}
                Ok(None) => break,
            }
        }
        let _ = engine.finish();
        while engine.next_frame().is_some() {}
    }
}

/// H.264 codec (parser, DPB, controls) + engine + fake device, from a raw
/// Annex-B stream (parameter-set changes are in-band).
pub fn codec_h264(data: &[u8]) {
    decode_file("codec_h264", "h264", data);
}

/// HEVC codec + engine + fake device, from a raw Annex-B stream.
pub fn codec_hevc(data: &[u8]) {
    decode_file("codec_hevc", "hevc", data);
}

/// VP8 codec + engine + fake device, from an IVF file.
pub fn codec_vp8(data: &[u8]) {
    decode_file("codec_vp8", "ivf", data);
}

/// VP9 codec + engine + fake device, from an IVF file.
pub fn codec_vp9(data: &[u8]) {
    decode_file("codec_vp9", "ivf", data);
}

/// MPEG-2 codec + engine + fake device, from an elementary stream.
pub fn codec_mpeg2(data: &[u8]) {
    decode_file("codec_mpeg2", "m2v", data);
}

/// The out-of-band configuration paths: an MP4 file whose video track's
/// `avcC` / `hvcC` / `vpcC` becomes the codec's CodecPrivate, decoded
/// through the engine as [`codec_h264`] does.
pub fn codec_mp4(data: &[u8]) {
    decode_file("codec_mp4", "mp4", data);
}

/// Little-endian reader over the fuzz input (zeros past its end).
struct Take<'a>(&'a [u8]);
impl Take<'_> {
    fn u16(&mut self) -> u16 {
        let mut b = [0u8; 2];
        let n = self.0.len().min(2);
        b[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        u16::from_le_bytes(b)
    }
}

/// The detilers of `vreq_frame::detile` (NC12 / NC30 SAND128 → NV12 / P010,
/// NV15 → P010) with sizes, strides, column heights and buffer lengths from
/// the input (each buffer ≤ 4 MiB): every combination either converts or
/// returns `DetileError`. The SIMD and portable NC30 kernels must agree.
pub fn detile(data: &[u8]) {
    let mut t = Take(data);
    let which = t.u16() % 4;
    let width = u32::from(t.u16() % 4200);
    let height = u32::from(t.u16() % 2400);
    let col_height = usize::from(t.u16());
    let luma_height = usize::from(t.u16());
    let y_stride = usize::from(t.u16()) * 2;
    let uv_stride = usize::from(t.u16()) * 2;
    let src_len = (usize::from(t.u16()) * 128).min(DETILE_MAX_BYTES);
    let y_len = (usize::from(t.u16()) * 64).min(DETILE_MAX_BYTES);
    let uv_len = (usize::from(t.u16()) * 64).min(DETILE_MAX_BYTES);
    let fill = t.0;
    // the input's remaining bytes, repeated (chunk copies: a byte loop over
    // 8 MiB took most of a second under ASAN)
    let mut src = vec![0x5au8; src_len];
    if !fill.is_empty() {
        for chunk in src.chunks_mut(fill.len()) {
            chunk.copy_from_slice(&fill[..chunk.len()]);
        }
    }
    let mut y = vec![0u8; y_len];
    let mut uv = vec![0u8; uv_len];
    let mut dst = LinearDst {
        y: &mut y,
        y_stride,
        uv: &mut uv,
        uv_stride,
    };
    let sand = Sand128 {
        data: &src,
        col_height,
        luma_height,
    };
    match which {
        0 => {
            let _ = detile::nc12_to_nv12(&sand, width, height, &mut dst);
        }
        1 | 2 => {
            let fast = if which == 1 {
                detile::nc30_to_p010(&sand, width, height, &mut dst)
            } else {
                detile::nc30_to_nv12(&sand, width, height, &mut dst)
            };
            let (fy, fuv) = (y.clone(), uv.clone());
            let mut y2 = vec![0u8; y_len];
            let mut uv2 = vec![0u8; uv_len];
            let mut dst2 = LinearDst {
                y: &mut y2,
                y_stride,
                uv: &mut uv2,
                uv_stride,
            };
            let slow = if which == 1 {
                detile::portable::nc30_to_p010(&sand, width, height, &mut dst2)
            } else {
                detile::portable::nc30_to_nv12(&sand, width, height, &mut dst2)
            };
            assert_eq!(
                fast.is_ok(),
                slow.is_ok(),
                "SIMD and portable NC30 disagree"
            );
            if fast.is_ok() {
                assert!(
                    fy == y2 && fuv == uv2,
                    "SIMD and portable NC30 output differ"
                );
            }
        }
        _ => {
            let half = src.len() / 2;
            let s = LinearSrc {
                y: &src[..half],
                y_stride: col_height,
                uv: &src[half..],
                uv_stride: luma_height,
            };
            let _ = detile::nv15_to_p010(&s, width, height, &mut dst);
        }
    }
}

/// Sound: every audio track of the input (opened as the player opens a
/// file) gets an `vreq_audio::decode::AudioDecoder` from its TrackInfo
/// (rate, channels, extradata: AudioSpecificConfig, OpusHead, …) and every
/// packet of it decoded, errors skipped as the player skips them.
pub fn audio_packets(data: &[u8]) {
    let path = scratch("audio_packets", "bin", data);
    let Ok(mut demux) = vreq_container::open(&path) else {
        return;
    };
    let mut decoders: Vec<(u32, vreq_audio::decode::AudioDecoder)> = demux
        .tracks()
        .iter()
        .filter(|t| matches!(t.codec, TrackCodec::Audio(_)))
        .filter_map(|t| Some((t.id, vreq_audio::decode::AudioDecoder::new(t).ok()?)))
        .collect();
    if decoders.is_empty() {
        return;
    }
    let mut errors = 0usize;
    for _ in 0..MAX_PACKETS {
        match demux.next_packet() {
            Ok(Some(p)) => {
                errors = 0;
                if let Some((_, dec)) = decoders.iter_mut().find(|(id, _)| *id == p.track) {
                    let _ = dec.decode(&p);
                }
            }
            Ok(None) => break,
            Err(_) => {
                errors += 1;
                assert!(errors < MAX_CONSECUTIVE_ERRORS, "demuxer stuck in errors");
            }
        }
    }
    for (_, d) in &mut decoders {
        d.reset();
    }
}

/// The VA driver's buffer → control mapping (`vreq_drv_video::picture::Picture`,
/// `vreq_drv_video::map`, `vreq_drv_video::decode::Decoder`) through its safe Rust API,
/// on a fake visl device: the input picks a profile and a context size
/// (first 5 bytes), then is read as records `[kind u8][num_elements u8]
/// [len u16 le][len bytes]` — kind 0 ends the picture (`vaEndPicture`:
/// decode, then `vaSyncSurface`) and begins the next on another surface,
/// 1 picture parameters, 2 IQ matrix, 3 slice parameters, 4 slice data,
/// 5 probabilities (`vaRenderPicture` of that buffer type). Errors are
/// VA statuses, as a client would get them.
pub fn va_map(data: &[u8]) {
    use vreq_drv_video::sys;
    const PROFILES: [sys::VAProfile; 10] = [
        sys::VAProfileH264Main,
        sys::VAProfileH264High,
        sys::VAProfileH264ConstrainedBaseline,
        sys::VAProfileHEVCMain,
        sys::VAProfileHEVCMain10,
        sys::VAProfileVP8Version0_3,
        sys::VAProfileVP9Profile0,
        sys::VAProfileVP9Profile2,
        sys::VAProfileMPEG2Main,
        sys::VAProfileMPEG2Simple,
    ];
    if data.len() < 5 {
        return;
    }
    let profile = PROFILES[usize::from(data[0]) % PROFILES.len()];
    let width = u32::from(u16::from_le_bytes([data[1], data[2]]) % 4096) + 16;
    let height = u32::from(u16::from_le_bytes([data[3], data[4]]) % 2304) + 16;
    let Some(codec) = vreq_drv_video::map::for_profile(profile) else {
        return;
    };
    let kind = codec.kind();
    let device = FakeDevice::for_codec(for_driver("visl", "visl"), kind);
    let mut decoder =
        vreq_drv_video::decode::Decoder::new(device, codec, profile, width, height, 8);
    let mut target: sys::VASurfaceID = 0;
    let mut pic = vreq_drv_video::picture::Picture::new(target);
    let mut rest = &data[5..];
    let end = |decoder: &mut vreq_drv_video::decode::Decoder<FakeDevice>,
               pic: &vreq_drv_video::picture::Picture| {
        let _ = decoder.decode(pic);
        let _ = decoder.status(pic.target);
        let _ = decoder.sync(pic.target);
    };
    while rest.len() >= 4 {
        let kind = rest[0] % 6;
        let n = u32::from(rest[1]);
        let len = usize::from(u16::from_le_bytes([rest[2], rest[3]])).min(rest.len() - 4);
        let bytes = &rest[4..4 + len];
        rest = &rest[4 + len..];
        let type_ = match kind {
            0 => {
                end(&mut decoder, &pic);
                target = (target + 1) % 8;
                pic = vreq_drv_video::picture::Picture::new(target);
                continue;
            }
            1 => sys::VAPictureParameterBufferType,
            2 => sys::VAIQMatrixBufferType,
            3 => sys::VASliceParameterBufferType,
            4 => sys::VASliceDataBufferType,
            _ => sys::VAProbabilityBufferType,
        };
        let _ = pic.render(decoder.codec(), type_, bytes, n);
    }
    end(&mut decoder, &pic);
}

/// A target body: takes the fuzzer's bytes, returns (or panics: a finding).
pub type Body = fn(&[u8]);

/// Every target by name (the replay test and `scripts/fuzz.sh` list).
pub const TARGETS: &[(&str, Body)] = &[
    ("demux_mp4", demux_mp4),
    ("demux_mkv", demux_mkv),
    ("demux_ivf", demux_ivf),
    ("demux_annexb_h264", demux_annexb_h264),
    ("demux_annexb_hevc", demux_annexb_hevc),
    ("demux_mpeg2es", demux_mpeg2es),
    ("demux_ps", demux_ps),
    ("demux_ts", demux_ts),
    ("demux_probe", demux_probe),
    ("codec_h264", codec_h264),
    ("codec_hevc", codec_hevc),
    ("codec_vp8", codec_vp8),
    ("codec_vp9", codec_vp9),
    ("codec_mpeg2", codec_mpeg2),
    ("codec_mp4", codec_mp4),
    ("detile", detile),
    ("audio_packets", audio_packets),
    ("va_map", va_map),
];
