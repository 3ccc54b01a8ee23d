//! Finding stateless decoders: walk every `/dev/media*` topology, follow each
//! `MEDIA_ENT_F_PROC_VIDEO_DECODER` entity to its V4L2 video interface, and
//! probe that `/dev/videoN` (VIDIOC_QUERYCAP, VIDIOC_ENUM_FMT on OUTPUT,
//! VIDIOC_ENUM_FRAMESIZES, the decode-mode / start-code menus).
//!
//! Sources: uAPI "Media Controller" (`MEDIA_IOC_G_TOPOLOGY`), uAPI
//! "dev-stateless-decoder" (which caps and formats a stateless decoder has),
//! uAPI "ext-ctrls-codec-stateless" (the menus).

use std::fs::File;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use v4l2r::ioctl::{self, Capabilities, Capability, FormatIterator};
use v4l2r::{bindings, QueueType};

use super::{media, CodecSupport, DeviceInfo};
use vreq_core::{CodecKind, DecodeMode, StartCode};

/// What VIDIOC_QUERYCAP and the OUTPUT queue of one video node say.
#[derive(Debug, Clone)]
pub(crate) struct VideoProbe {
    pub driver: String,
    pub card: String,
    pub bus_info: String,
    /// The node uses the multi-planar API (`V4L2_CAP_VIDEO_M2M_MPLANE`).
    pub mplane: bool,
    pub codecs: Vec<CodecSupport>,
}

fn codec_from_fourcc(f: [u8; 4]) -> Option<CodecKind> {
    CodecKind::ALL.into_iter().find(|c| c.output_fourcc() == f)
}

/// `(DECODE_MODE, START_CODE)` control ids of `codec`, for codecs that have
/// those menus (H.264 and HEVC; uAPI ext-ctrls-codec-stateless).
pub(crate) fn menu_ids(codec: CodecKind) -> Option<(u32, u32)> {
    match codec {
        CodecKind::H264 => Some((
            bindings::V4L2_CID_STATELESS_H264_DECODE_MODE,
            bindings::V4L2_CID_STATELESS_H264_START_CODE,
        )),
        CodecKind::Hevc => Some((
            bindings::V4L2_CID_STATELESS_HEVC_DECODE_MODE,
            bindings::V4L2_CID_STATELESS_HEVC_START_CODE,
        )),
        _ => None,
    }
}

/// Current values of `codec`'s decode-mode and start-code menus (VIDIOC_G_CTRL).
/// Menu values: `V4L2_STATELESS_*_DECODE_MODE_SLICE_BASED` = 0, `_FRAME_BASED` = 1;
/// `V4L2_STATELESS_*_START_CODE_NONE` = 0, `_ANNEX_B` = 1 (same for H.264 and HEVC).
pub(crate) fn read_menus(
    fd: &impl std::os::fd::AsRawFd,
    codec: CodecKind,
) -> (Option<DecodeMode>, Option<StartCode>) {
    let Some((mode_id, sc_id)) = menu_ids(codec) else {
        return (None, None);
    };
    let mode = ioctl::g_ctrl(fd, mode_id).ok().and_then(|v| match v {
        0 => Some(DecodeMode::SliceBased),
        1 => Some(DecodeMode::FrameBased),
        _ => None,
    });
    let sc = ioctl::g_ctrl(fd, sc_id).ok().and_then(|v| match v {
        0 => Some(StartCode::None),
        1 => Some(StartCode::AnnexB),
        _ => None,
    });
    (mode, sc)
}

/// Largest size from VIDIOC_ENUM_FRAMESIZES for OUTPUT format `fourcc`
/// (stepwise/continuous: `max_*`; discrete: the largest listed). `(0, 0)` if
/// the driver does not implement the ioctl.
fn max_size(fd: &File, fourcc: [u8; 4]) -> (u32, u32) {
    let mut best = (0, 0);
    for index in 0..64 {
        let Ok(fs) = ioctl::enum_frame_sizes::<bindings::v4l2_frmsizeenum>(
            fd,
            index,
            v4l2r::PixelFormat::from(&fourcc),
        ) else {
            break;
        };
        match fs.size() {
            Some(ioctl::FrmSizeTypes::StepWise(s)) => {
                best = (s.max_width, s.max_height);
                break;
            }
            Some(ioctl::FrmSizeTypes::Discrete(d)) => {
                if d.width * d.height > best.0 * best.1 {
                    best = (d.width, d.height);
                }
            }
            None => break,
        }
    }
    best
}

/// Probes an open video node: must be a streaming M2M device (single or
/// multi-planar); lists the stateless codecs on its OUTPUT queue.
pub(crate) fn probe_video(fd: &File, path: &Path) -> Result<VideoProbe, String> {
    let cap: Capability =
        ioctl::querycap(fd).map_err(|e| format!("{}: VIDIOC_QUERYCAP: {e}", path.display()))?;
    let caps = cap.device_caps();
    let mplane = caps.contains(Capabilities::VIDEO_M2M_MPLANE);
    if !mplane && !caps.contains(Capabilities::VIDEO_M2M) {
        return Err(format!(
            "{}: not a memory-to-memory device (caps {caps})",
            path.display()
        ));
    }
    if !caps.contains(Capabilities::STREAMING) {
        return Err(format!("{}: no V4L2_CAP_STREAMING", path.display()));
    }
    let out = if mplane {
        QueueType::VideoOutputMplane
    } else {
        QueueType::VideoOutput
    };
    let mut codecs = Vec::new();
    for desc in FormatIterator::new(fd, out) {
        let fourcc: [u8; 4] = desc.pixelformat.into();
        let Some(codec) = codec_from_fourcc(fourcc) else {
            continue;
        };
        if codecs.iter().any(|c: &CodecSupport| c.codec == codec) {
            continue;
        }
        let (max_width, max_height) = max_size(fd, fourcc);
        let (decode_mode, start_code) = read_menus(fd, codec);
        codecs.push(CodecSupport {
            codec,
            max_width,
            max_height,
            decode_mode,
            start_code,
        });
    }
    codecs.sort_by_key(|c| c.codec);
    Ok(VideoProbe {
        driver: cap.driver,
        card: cap.card,
        bus_info: cap.bus_info,
        mplane,
        codecs,
    })
}

/// `/dev/media*` in numeric order.
fn media_nodes() -> Result<Vec<PathBuf>, String> {
    let rd = std::fs::read_dir("/dev").map_err(|e| format!("/dev: {e}"))?;
    let mut nodes: Vec<(u32, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let n = name.strip_prefix("media")?.parse::<u32>().ok()?;
            Some((n, e.path()))
        })
        .collect();
    nodes.sort();
    Ok(nodes.into_iter().map(|n| n.1).collect())
}

/// The decoders behind one media device.
fn discover_media(media_path: &Path) -> Result<Vec<DeviceInfo>, String> {
    let m = media_path.display();
    let fd = File::open(media_path).map_err(|e| format!("{m}: open: {e}"))?;
    let minfo =
        media::device_info(fd.as_fd()).map_err(|e| format!("{m}: MEDIA_IOC_DEVICE_INFO: {e}"))?;
    let topo =
        media::topology(fd.as_fd()).map_err(|e| format!("{m}: MEDIA_IOC_G_TOPOLOGY: {e}"))?;
    let mut out = Vec::new();
    for entity in topo.decoder_entities() {
        let Some((major, minor)) = topo.video_devnode_for(entity) else {
            tracing::warn!("{m}: decoder entity {entity} has no V4L2 video interface");
            continue;
        };
        let video_path = media::devnode_path(major, minor).map_err(|e| format!("{m}: {e}"))?;
        if out.iter().any(|d: &DeviceInfo| d.video_path == video_path) {
            continue;
        }
        let vfd = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&video_path)
            .map_err(|e| format!("{m}: open {}: {e}", video_path.display()))?;
        let probe = probe_video(&vfd, &video_path)?;
        if probe.codecs.is_empty() {
            tracing::info!("{}: no stateless OUTPUT format", video_path.display());
            continue;
        }
        out.push(DeviceInfo {
            media_path: media_path.to_path_buf(),
            video_path,
            driver: if probe.driver.is_empty() {
                minfo.driver.clone()
            } else {
                probe.driver
            },
            card: probe.card,
            bus_info: if probe.bus_info.is_empty() {
                minfo.bus_info.clone()
            } else {
                probe.bus_info
            },
            codecs: probe.codecs,
        });
    }
    Ok(out)
}

/// Every stateless decoder on this machine, found by walking `/dev/media*`.
///
/// A media device that cannot be opened or probed is skipped with a warning
/// (`tracing`) naming the device and the failed step; the error is returned
/// only if `/dev` itself cannot be read, or if every media device failed (the
/// message then lists each failure).
pub fn discover() -> Result<Vec<DeviceInfo>, String> {
    let nodes = media_nodes()?;
    let mut devs = Vec::new();
    let mut errors = Vec::new();
    for node in &nodes {
        match discover_media(node) {
            Ok(mut d) => devs.append(&mut d),
            Err(e) => {
                tracing::warn!("{e}");
                errors.push(e);
            }
        }
    }
    if devs.is_empty() && !errors.is_empty() {
        return Err(errors.join("; "));
    }
    Ok(devs)
}

/// What a stream needs from a decoder, for [`route`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamNeeds {
    pub codec: CodecKind,
    /// Coded size in pixels; 0 when unknown (the container did not say).
    pub width: u32,
    pub height: u32,
    /// Luma bit depth; `None` when unknown before the first header is parsed.
    pub bit_depth: Option<u8>,
}

/// Whether `dev` decodes `codec` at `bit_depth` into a CAPTURE format of
/// that depth, by its profile ([`super::profile::for_driver`]:
/// `codecs_10bit`); 8-bit and unknown depths always fit.
fn serves_depth(dev: &DeviceInfo, codec: CodecKind, bit_depth: Option<u8>) -> bool {
    match bit_depth {
        Some(d) if d > 8 => {
            let listed: Vec<CodecKind> = dev.codecs.iter().map(|c| c.codec).collect();
            super::profile::for_probe(&dev.driver, &dev.card, &listed)
                .codecs_10bit
                .contains(&codec)
        }
        _ => true,
    }
}

/// Whether `dev` decodes `codec` at `width`x`height` (its ENUM_FRAMESIZES
/// maximum; a device that did not report one, or an unknown size, fits).
fn serves_size(dev: &DeviceInfo, codec: CodecKind, width: u32, height: u32) -> bool {
    dev.support(codec).is_some_and(|c| {
        (c.max_width == 0 || width <= c.max_width) && (c.max_height == 0 || height <= c.max_height)
    })
}

/// Routes a stream to one of `devices` (all decoders of the machine, probed
/// once at start): among those whose OUTPUT formats include the codec, the
/// first that fits both the size and the bit depth, else one that fits the
/// size, else any; ties go to the device with the largest maximum size for
/// the codec (on the RK3588 rkvdec/vdpu381 rather than the VDPU121 hantro for
/// H.264), then to discovery order. Errors, when no device has the codec,
/// list which codecs the machine does decode and where.
pub fn route<'a>(devices: &'a [DeviceInfo], needs: &StreamNeeds) -> Result<&'a DeviceInfo, String> {
    let codec = needs.codec;
    let area = |d: &DeviceInfo| {
        d.support(codec)
            .map(|c| c.max_width as u64 * c.max_height as u64)
            .unwrap_or(0)
    };
    devices
        .iter()
        .enumerate()
        .filter(|(_, d)| d.support(codec).is_some())
        .max_by_key(|(i, d)| {
            let size = serves_size(d, codec, needs.width, needs.height);
            let depth = serves_depth(d, codec, needs.bit_depth);
            // max_by_key keeps the last of equals: reverse the index so that
            // discovery order breaks ties.
            (size && depth, size, area(d), std::cmp::Reverse(*i))
        })
        .map(|(_, d)| d)
        .ok_or_else(|| {
            format!(
                "no V4L2 stateless decoder for {codec}: {} stateless decoder(s) found; {}",
                devices.len(),
                describe_union(devices)
            )
        })
}

/// Every codec any device decodes, each with the devices that serve it, in
/// discovery order (`--list-devices` prints it; the session routes within it).
pub fn codec_union(devices: &[DeviceInfo]) -> Vec<(CodecKind, Vec<&DeviceInfo>)> {
    CodecKind::ALL
        .into_iter()
        .filter_map(|c| {
            let ds: Vec<&DeviceInfo> = devices.iter().filter(|d| d.support(c).is_some()).collect();
            (!ds.is_empty()).then_some((c, ds))
        })
        .collect()
}

/// One line, devices in discovery order: `decodes: h264 (/dev/video0 hantro-vpu, /dev/video1 rkvdec), vp8 (...)`.
pub fn describe_union(devices: &[DeviceInfo]) -> String {
    let u = codec_union(devices);
    if u.is_empty() {
        return "none decodes anything".into();
    }
    let parts: Vec<String> = u
        .iter()
        .map(|(c, ds)| {
            let names: Vec<String> = ds
                .iter()
                .map(|d| format!("{} {}", d.video_path.display(), d.driver))
                .collect();
            format!("{c} ({})", names.join(", "))
        })
        .collect();
    format!("decodes: {}", parts.join(", "))
}

/// The `--list-devices` table: device, driver, codecs, max size, decode mode;
/// then the union of codecs with the device each is routed to by default
/// (unknown size, 8-bit) and, where it differs, for 10-bit streams.
pub fn format_table(devs: &[DeviceInfo]) -> String {
    let mut s = format!(
        "{:<14} {:<12} {:<14} {:<6} {:<11} {:<12} {}\n",
        "media", "video", "driver", "codec", "max size", "decode mode", "start code"
    );
    for d in devs {
        for c in &d.codecs {
            s += &format!(
                "{:<14} {:<12} {:<14} {:<6} {:<11} {:<12} {}\n",
                d.media_path.display(),
                d.video_path.display(),
                d.driver,
                c.codec.name(),
                format!("{}x{}", c.max_width, c.max_height),
                c.decode_mode
                    .map(|m| format!("{m:?}"))
                    .unwrap_or_else(|| "-".into()),
                c.start_code
                    .map(|m| format!("{m:?}"))
                    .unwrap_or_else(|| "-".into()),
            );
        }
    }
    let union = codec_union(devs);
    if !union.is_empty() {
        s += "\ncodec  routed to (of all that decode it)\n";
    }
    for (codec, ds) in &union {
        let needs = |bit_depth| StreamNeeds {
            codec: *codec,
            width: 0,
            height: 0,
            bit_depth,
        };
        let label = |d: &DeviceInfo| format!("{} ({})", d.video_path.display(), d.driver);
        let Ok(main) = route(devs, &needs(Some(8))) else {
            continue;
        };
        let mut line = format!("{:<6} {}", codec.name(), label(main));
        if let Ok(ten) = route(devs, &needs(Some(10))) {
            if ten.video_path != main.video_path {
                line += &format!("; 10-bit: {}", label(ten));
            }
        }
        let all: Vec<String> = ds.iter().map(|d| label(d)).collect();
        if all.len() > 1 {
            line += &format!(" [{}]", all.join(", "));
        }
        s += &line;
        s += "\n";
    }
    s
}
