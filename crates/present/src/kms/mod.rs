//! The kiosk: frames straight onto a KMS plane, no compositor (`--vo=drm`).
//!
//! Only this module knows DRM. It uses the `drm` crate (Smithay's safe
//! bindings to the DRM uAPI, `include/uapi/drm/drm_mode.h`), atomic API
//! only, no `unsafe` of its own.
//!
//! # Files
//! | file | owns |
//! |---|---|
//! | `mod.rs` | [`KmsOptions`], [`open_kms`] (card, master, connector, mode, CRTC), [`kms_available`] |
//! | `card.rs` | `Card` (the open device), property tables by name, plane discovery (`IN_FORMATS`), the state saved at open |
//! | `sink.rs` | `KmsSink`: pacing, path choice, CPU copy, PRIME import, atomic commits, page-flip events, writeback, lost master, restore |
//! | [`pure`] | pure: the `IN_FORMATS` parser, the plane choice, connector names, mode choice, plane rectangles and the non-scaling probe, the fallback's scaler; the pacing simulation (tests) |
//!
//! # Opening ([`open_kms`])
//! * **Card**: `--drm-device`, else the first `/dev/dri/card*` with a
//!   connected connector. Opening a card that has no master makes the
//!   opener master (drivers/gpu/drm/drm_auth.c `drm_master_open`);
//!   `DRM_IOCTL_SET_MASTER` (`acquire_master_lock`) then succeeds, and fails
//!   (`EBUSY` / `EPERM` / `EACCES`, drm_auth.c `drm_setmaster_ioctl`) when a
//!   compositor or another player holds it: "held by another DRM master".
//! * Client caps `DRM_CLIENT_CAP_UNIVERSAL_PLANES`, `DRM_CLIENT_CAP_ATOMIC`,
//!   and `DRM_CLIENT_CAP_WRITEBACK_CONNECTORS` with the writeback hook
//!   (drm_ioctl.c `drm_setclientcap`).
//! * **Connector** by its kernel name — the type's name from
//!   drm_connector.c `drm_connector_enum_list` plus `-<type id>`, as
//!   `drm_connector_init` builds `drm_connector.name` (`Virtual-1`,
//!   `HDMI-A-1`) — or by index among the non-writeback connectors.
//! * **Mode** per [`ModeRequest`] (refresh computed in mHz from the timings:
//!   clock · 10⁶ / (htotal · vtotal), drm_modes.c `drm_mode_vrefresh`
//!   unrounded); errors list what the connector offers.
//! * **CRTC**: the one the connector's current encoder drives if that
//!   encoder may, else the first its encoders' `possible_crtcs` allow.
//! * **Saved state** (restored by one `ALLOW_MODESET` commit when the sink
//!   is dropped; the player quits cleanly on SIGINT / SIGTERM so it is):
//!   the CRTC's `ACTIVE` and mode (a new `MODE_ID` blob is made from the
//!   saved mode: the kernel frees the old blob once our commit replaced it),
//!   every connector's `CRTC_ID`, and `FB_ID`, `CRTC_ID`, `SRC_*`, `CRTC_*`
//!   of every plane that can feed the CRTC.
//!
//! # The two paths (chosen once per configuration: generation, visible
//! rectangle, pixel aspect, format)
//! * **Zero-copy**: the plane is chosen among those whose `possible_crtcs`
//!   has our CRTC, by the (fourcc, modifier) of the CAPTURE format
//!   (`vreq_frame::drm::drm_format`) against the plane's `IN_FORMATS` blob
//!   (`struct drm_format_modifier_blob`, drm_mode.h; parsed here,
//!   bounds-checked) or, without it, its format list with
//!   `DRM_FORMAT_MOD_LINEAR`. [`PlaneRequest::Auto`]: an overlay that takes
//!   it, else the primary. Each CAPTURE buffer's dmabufs are PRIME-imported
//!   once (`DRM_IOCTL_PRIME_FD_TO_HANDLE`) and wrapped in one framebuffer
//!   (`DRM_IOCTL_MODE_ADDFB2`, with the modifier when the plane has
//!   `IN_FORMATS`), cached by (generation, capture index); a new generation
//!   retires the old ones (`RMFB` + GEM close once off screen), and all go
//!   at drop. Geometry: `SRC_*` = the visible rectangle in 16.16, `CRTC_*` =
//!   the aspect-correct fit of the display size (visible size × pixel
//!   aspect, `wayland::geometry`) centred in the mode, probed with
//!   `DRM_MODE_ATOMIC_TEST_ONLY`; refused (vkms cannot scale: its planes
//!   need `SRC` size = `CRTC` size, vkms_plane.c) → 1:1 centred when it fits
//!   (logged at info: pixel aspect / fit not applied) → else the copy.
//!   Under an overlay the primary plane shows a black XRGB8888 dumb buffer
//!   covering the CRTC. `COLOR_ENCODING` (`ITU-R BT.601 YCbCr` /
//!   `ITU-R BT.709 YCbCr` / `ITU-R BT.2020 YCbCr`) and `COLOR_RANGE`
//!   (`YCbCr limited range` / `YCbCr full range`; drm_color_mgmt.c enum
//!   names, [`pure::color_props`]) from the frame's colour description
//!   (`DecodedFrame::color`: the stream's VUI / sequence display extension /
//!   VP9 colour config, else `vreq_frame::convert::ColorInfo::from_height`'s
//!   BT.709-from-720-lines guess, limited), where the plane has them. The
//!   `DecodedFrame` is held while its framebuffer may be scanned out: until
//!   the page flip of the commit that replaces it (then dropped → buffer
//!   back to the decoder). Counted in `zero_copy`.
//! * **CPU copy** (`--hwdec=auto-copy`, or no plane / placement accepted;
//!   trixie's vkms planes take only XRGB8888 / ARGB8888 / RGB565): a pool of
//!   3 dumb buffers of the mode's size on the primary plane, mapped once,
//!   the picture scaled **nearest-neighbour** ([`pure::scale_nearest`]) into
//!   the aspect-correct fit, black around it (redrawn only when the fit
//!   changes). **NV12** dumb buffers (luma and chroma planes scaled, no
//!   colour conversion; `COLOR_ENCODING` / `COLOR_RANGE` set as above) when
//!   the frame is 8-bit NV12 or SAND128 NC12 (unpacked through
//!   `LinearFrame::unpack_from`) and the primary takes NV12 LINEAR at the
//!   mode's size (`DRM_MODE_ATOMIC_TEST_ONLY`); else **XRGB8888**
//!   (`vreq_frame::convert::to_xrgb8888` with the frame's matrix and range,
//!   at the visible size, after
//!   `LinearFrame::unpack_from` for NV15 / NC12 / NC30, then scaled). The
//!   frame goes back to the decoder right after the copy, which is done
//!   before the pacing wait. Counted in `copied`.
//!
//! # Commit and pacing
//! One nonblocking atomic commit per shown frame with
//! `DRM_MODE_PAGE_FLIP_EVENT` (the first, and the first after a lost master,
//! with `DRM_MODE_ATOMIC_ALLOW_MODESET`, the connector's `CRTC_ID`, the
//! CRTC's `MODE_ID` and `ACTIVE`, other planes of the CRTC off); at most
//! one in flight (a nonblocking commit while one is pending fails with
//! `EBUSY`, drm_atomic_helper.c `stall_checks`). The scheduler is the
//! window's pure `Pacer` (`wayland::pacing`) in its one-in-flight mode:
//! answers are the page-flip events, whose timestamps are CLOCK_MONOTONIC
//! (drm_vblank.c, `drm_timestamp_monotonic` defaults to 1), fed as
//! `presented` with the mode's refresh interval; the commit goes out half a
//! refresh after the last predicted vblank before the frame's due time
//! (`Pacer::set_half_refresh_margin`: vkms' hrtimer vblank handler under
//! TCG ran late and latched commits made 1 ms after its nominal time,
//! stamping them before due). Then the **vblank gate**
//! (`KmsSink::vblank_gate`): the commit waits until the kernel has
//! *handled* the last vblank before due (`DRM_IOCTL_WAIT_VBLANK` relative 0
//! is a query of the last handled vblank's time, relative 1 waits for the
//! next, drm_vblank.c `drm_wait_vblank_ioctl`), because a handler running
//! more than half a refresh late still latched frames early (trixie, 3 of
//! 250 frames 3–10 ms before due). So the flip lands on the first vblank
//! at or after due, never before. The very first commit (no vblank phase known
//! yet; a modeset) goes out at due. `show` prepares the
//! buffer, then blocks until then polling the DRM fd and the input fds;
//! late frames are dropped (counted). `lead` = one refresh + 1 ms. A commit
//! without a page-flip event for 1 s is given up (counted dropped). Each
//! frame's fate is one debug line, target `vreq_present::kms::pacing`:
//! `frame pts_ns=… due_ns=… result=presented|dropped presented_ns=…|- refresh_ns=…`.
//!
//! # Lost master
//! A commit refused with `EACCES` / `EPERM` (drm_ioctl.c: `DRM_MASTER`
//! ioctls of a non-master; a VT switch or another process took master)
//! pauses output: frames are dropped (counted, buffers returned) and
//! `acquire_master_lock` is retried every 500 ms from `show` / `dispatch`;
//! on success the next commit carries the whole state with
//! `ALLOW_MODESET`. Both logged at warn. Unverified on a real VT switch.
//!
//! # Writeback test hook ([`KmsOptions::writeback`])
//! At `finish` one more blocking commit of the last shown state with the
//! card's writeback connector attached (`CRTC_ID`, `WRITEBACK_FB_ID` = an
//! XRGB8888 dumb buffer of the mode's size); when the kernel refuses the
//! clone with the real connector (trixie 6.12's vkms: `EINVAL`) the real
//! connector is detached for that commit. `WRITEBACK_OUT_FENCE_PTR` is not
//! used (waiting on its fd needs a raw-fd poll, i.e. `unsafe`): after 4
//! refresh intervals the buffer is read until it is the same three times
//! 150 ms apart (≤ 5 s; the NV12 composition under QEMU TCG outlasts a
//! fixed wait), then written as a binary PPM and `writeback: <path> <W>x<H>`
//! is logged at info. No writeback connector: one warning, no file.
//!
//! # Measured (QEMU TCG, debug build, gizmo.mp4 H.264 560x320 30 fps, 166 frames, vkms 1024x768@60)
//! * trixie (6.12, XRGB-only planes): XRGB8888 copy, presented 162,
//!   dropped 4, none before due (flip − due: median 13.0 ms, max 62.5),
//!   ~13 ms per copy; `kms.py grab`: `drm` (dumb buffer); the writeback
//!   capture shows the letterboxed picture. A second player: "held by
//!   another DRM master". SIGTERM mid-play: the state is restored.
//! * sid (7.2) with `vkms enable_overlay=1`: NV12 LINEAR zero-copy on an
//!   overlay, 1:1 centred (vkms cannot scale), presented 166, dropped 0,
//!   none before due (median 3.4 ms, max 36.4); `kms.py grab` of the
//!   overlay: `videobuf2_vmalloc`, of the primary: `drm` (the black dumb
//!   buffer). Without overlays, sid's vkms takes the picture on the primary.
//!   `--hwdec=auto-copy`: NV12 copy, 165 / 1 dropped. VP9 1280x720 (too big
//!   for 1:1): NV12 copy, ~19 ms per frame, 88 / 2 dropped (the XRGB8888
//!   copy took ~90 ms: 3 shown). HEVC 10-bit and VP8 clips: zero-copy
//!   (visl gives NV12).

use std::path::PathBuf;
use std::str::FromStr;

use drm::control::{connector, Device as _};
use drm::Device as _;

use crate::kiosk_input::KioskInput;
use crate::{PresentError, Sink};
use card::{is_master_error, Card};
use pure::{choose_mode, ModeInfo};

mod card;
pub mod pure;
mod sink;

/// `--drm-mode`: which mode of the connector to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModeRequest {
    /// The connector's preferred mode (`DRM_MODE_TYPE_PREFERRED`), else its
    /// first; mpv's `--drm-mode=preferred` (the default).
    #[default]
    Preferred,
    /// The largest mode (area, then refresh); mpv's `highest`.
    Highest,
    /// `WxH` or `WxH@Hz` (`1920x1080@60`, `1280x720@59.94`): the first
    /// mode of that size (and refresh within 0.01 Hz, in mHz here).
    Size {
        width: u16,
        height: u16,
        refresh_mhz: Option<u32>,
    },
}

impl FromStr for ModeRequest {
    type Err = String;
    /// `preferred`, `highest`, `WxH`, `WxH@Hz` (Hz may have decimals).
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "preferred" => return Ok(ModeRequest::Preferred),
            "highest" => return Ok(ModeRequest::Highest),
            _ => {}
        }
        let bad = || format!("{s:?} is not preferred, highest, WxH or WxH@Hz (e.g. 1920x1080@60)");
        let (size, rate) = match s.split_once('@') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let (w, h) = size.split_once('x').ok_or_else(bad)?;
        let width: u16 = w.parse().map_err(|_| bad())?;
        let height: u16 = h.parse().map_err(|_| bad())?;
        let refresh_mhz = match rate {
            None => None,
            Some(r) => {
                let hz: f64 = r.parse().map_err(|_| bad())?;
                if !(hz > 0.0 && hz < 1000.0) {
                    return Err(bad());
                }
                Some((hz * 1000.0).round() as u32)
            }
        };
        if width == 0 || height == 0 {
            return Err(bad());
        }
        Ok(ModeRequest::Size {
            width,
            height,
            refresh_mhz,
        })
    }
}

/// `--drm-plane`: which plane shows the video (mpv's
/// `--drm-drmprime-video-plane`). `Auto` picks by `IN_FORMATS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlaneRequest {
    #[default]
    Auto,
    /// The CRTC's primary plane.
    Primary,
    /// The first overlay plane of the CRTC that takes the format.
    Overlay,
    /// A plane by its KMS object id (as `drm_info` / `modetest -p` list them).
    Id(u32),
}

impl FromStr for PlaneRequest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(PlaneRequest::Auto),
            "primary" => Ok(PlaneRequest::Primary),
            "overlay" => Ok(PlaneRequest::Overlay),
            _ => s.parse().map(PlaneRequest::Id).map_err(|_| {
                format!("{s:?} is not auto, primary, overlay or a plane id (a number)")
            }),
        }
    }
}

/// How to open the kiosk output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KmsOptions {
    /// `--drm-device` (`/dev/dri/cardN`); `None`: the first card with a
    /// connected connector that this process can become master of.
    pub device: Option<PathBuf>,
    /// `--drm-connector`: a connector name as the kernel names it
    /// (`HDMI-A-1`, `DSI-1`, `Virtual-1`) or its index among the card's
    /// connectors; `None`: the first connected one.
    pub connector: Option<String>,
    /// `--drm-mode`.
    pub mode: ModeRequest,
    /// `--drm-plane`.
    pub plane: PlaneRequest,
    /// `--hwdec=auto-copy`: never put the decoder's buffers on a plane;
    /// always the CPU fallback (dumb buffers).
    pub force_copy: bool,
    /// Read keys from local keyboards (evdev); `false` with `--no-input`.
    pub input: bool,
    /// Test hook (`VREQ_TEST_KEYS`): keysym names from a file or FIFO, as
    /// for the window ([`crate::wayland::WindowOptions::test_keys`]).
    pub test_keys: Option<PathBuf>,
    /// Test hook (`VREQ_KMS_WRITEBACK`, read by the player): when the
    /// card has a writeback connector, capture what the CRTC scans out at
    /// [`Sink::finish`] (end of stream) into this file, a binary PPM (P6,
    /// 8-bit RGB) of the mode's size; `None` in normal use.
    pub writeback: Option<PathBuf>,
}

/// Opens the kiosk output: the card, master, connector, mode and CRTC (the
/// CRTC's previous state is saved and restored when the sink is dropped).
/// The video plane is chosen at the first frame, by its format.
/// Errors (`PresentError::Kms`, one line naming what exists): no card, a
/// connector or mode the card lacks, another DRM master holding the card.
pub fn open_kms(opts: &KmsOptions) -> Result<Box<dyn Sink>, PresentError> {
    let err = |s: String| PresentError::Kms(s);
    let card = match &opts.device {
        Some(p) => Card::open(p).map_err(|e| err(format!("{}: {e}", p.display())))?,
        None => {
            let mut found = None;
            for p in cards() {
                if let Ok(c) = Card::open(&p) {
                    if has_connected(&c) {
                        found = Some(c);
                        break;
                    }
                }
            }
            found.ok_or_else(|| {
                err("no KMS card with a connected connector (looked at /dev/dri/card*)".into())
            })?
        }
    };
    let path = card.path.display().to_string();
    // opening a card nobody is master of makes us master (drm_file.c
    // drm_open_helper → drm_master_open); SET_MASTER tells whether we are
    if let Err(e) = card.acquire_master_lock() {
        if is_master_error(&e) {
            return Err(err(format!(
                "{path} is held by another DRM master (a compositor or another player)"
            )));
        }
        return Err(err(format!("{path}: DRM_IOCTL_SET_MASTER: {e}")));
    }
    card.set_caps(opts.writeback.is_some()).map_err(err)?;
    let conns = card
        .connectors()
        .map_err(|e| err(format!("{path}: connectors: {e}")))?;
    let usable: Vec<&(connector::Info, String)> = conns
        .iter()
        .filter(|(i, _)| i.interface() != connector::Interface::Writeback)
        .collect();
    let listing = || {
        conns
            .iter()
            .map(|(i, n)| {
                if i.state() == connector::State::Connected
                    && i.interface() != connector::Interface::Writeback
                {
                    format!("{n} (connected)")
                } else {
                    n.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (info, name) = match &opts.connector {
        Some(want) => {
            let by_name = conns.iter().find(|(_, n)| n == want);
            let by_index = want
                .parse::<usize>()
                .ok()
                .and_then(|i| usable.get(i).copied());
            by_name.or(by_index).ok_or_else(|| {
                err(format!(
                    "connector {want:?} does not exist on {path}; it has: {}",
                    listing()
                ))
            })?
        }
        None => usable
            .iter()
            .copied()
            .find(|(i, _)| i.state() == connector::State::Connected)
            .ok_or_else(|| {
                err(format!(
                    "no connected connector on {path}; it has: {}",
                    listing()
                ))
            })?,
    };
    if info.state() != connector::State::Connected {
        tracing::warn!("drm: {name} is not connected; trying it anyway");
    }
    let modes: Vec<ModeInfo> = info
        .modes()
        .iter()
        .map(|m| {
            let (w, h) = m.size();
            ModeInfo {
                width: w,
                height: h,
                refresh_mhz: ModeInfo::refresh_from_timings(m.clock(), m.hsync().2, m.vsync().2),
                preferred: m
                    .mode_type()
                    .contains(drm::control::ModeTypeFlags::PREFERRED),
            }
        })
        .collect();
    let mi = choose_mode(&modes, opts.mode, name).map_err(err)?;
    let mode = info.modes()[mi];
    // a CRTC one of the connector's encoders can drive: the current one first
    let res = card
        .resource_handles()
        .map_err(|e| err(format!("{path}: resources: {e}")))?;
    let mut crtc = None;
    let current = info
        .current_encoder()
        .and_then(|e| card.get_encoder(e).ok())
        .and_then(|e| e.crtc());
    for e in info.encoders() {
        if let Ok(enc) = card.get_encoder(*e) {
            let possible = res.filter_crtcs(enc.possible_crtcs());
            if let Some(c) = current.filter(|c| possible.contains(c)) {
                crtc = Some(c);
                break;
            }
            if crtc.is_none() {
                crtc = possible.first().copied();
            }
        }
    }
    let crtc = crtc.ok_or_else(|| err(format!("{path}: no CRTC can drive {name}")))?;
    tracing::info!(
        "drm: {path}: connector {name}, mode {} ({} of {})",
        modes[mi],
        mi + 1,
        modes.len()
    );
    // --no-input: no keyboards, but the test hook still reads its keys
    let input = if opts.input {
        Some(KioskInput::open(opts.test_keys.as_deref())?)
    } else if opts.test_keys.is_some() {
        Some(KioskInput::open_test_keys(opts.test_keys.as_deref())?)
    } else {
        None
    };
    let sink = sink::KmsSink::new(sink::Setup {
        card,
        connector: info.handle(),
        crtc,
        mode,
        plane_req: opts.plane,
        force_copy: opts.force_copy,
        input,
        writeback: opts.writeback.clone(),
    })?;
    Ok(Box::new(sink))
}

/// `/dev/dri/card*`, sorted by number.
fn cards() -> Vec<PathBuf> {
    let mut v: Vec<(u32, PathBuf)> = std::fs::read_dir("/dev/dri")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name.strip_prefix("card")?.parse().ok()?;
            Some((n, e.path()))
        })
        .collect();
    v.sort();
    v.into_iter().map(|(_, p)| p).collect()
}

/// Whether `card` has a connected connector other than a writeback one.
fn has_connected(card: &Card) -> bool {
    card.connectors()
        .map(|l| {
            l.iter().any(|(i, _)| {
                i.state() == connector::State::Connected
                    && i.interface() != connector::Interface::Writeback
            })
        })
        .unwrap_or(false)
}

/// For `--vo` chosen automatically: a card with a connected connector that
/// this process could drive (can open read-write and no other master holds
/// it), or `None`.
pub fn kms_available() -> Option<PathBuf> {
    for p in cards() {
        let Ok(c) = Card::open(&p) else { continue };
        // SET_MASTER succeeds when we are (or could become) master; closing gives it up
        if has_connected(&c) && c.acquire_master_lock().is_ok() {
            return Some(p);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_requests_parse_as_mpv_writes_them() {
        assert_eq!("preferred".parse(), Ok(ModeRequest::Preferred));
        assert_eq!("highest".parse(), Ok(ModeRequest::Highest));
        assert_eq!(
            "1920x1080".parse(),
            Ok(ModeRequest::Size {
                width: 1920,
                height: 1080,
                refresh_mhz: None
            })
        );
        assert_eq!(
            "1280x720@59.94".parse(),
            Ok(ModeRequest::Size {
                width: 1280,
                height: 720,
                refresh_mhz: Some(59_940)
            })
        );
        for bad in [
            "",
            "1920",
            "x1080",
            "0x0",
            "1920x1080@",
            "1920x1080@0",
            "big",
        ] {
            assert!(bad.parse::<ModeRequest>().is_err(), "{bad}");
        }
        assert_eq!("overlay".parse(), Ok(PlaneRequest::Overlay));
        assert_eq!("42".parse(), Ok(PlaneRequest::Id(42)));
        assert!("top".parse::<PlaneRequest>().is_err());
    }
}
