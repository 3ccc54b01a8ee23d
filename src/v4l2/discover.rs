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
use crate::codec::{CodecKind, DecodeMode, StartCode};

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

/// The `--list-devices` table: device, driver, codecs, max size, decode mode.
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
    s
}
