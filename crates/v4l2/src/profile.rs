//! Per-driver facts about stateless decoders: which codecs, which CAPTURE
//! formats, and the ordering rules a session must follow.
//!
//! Each fact carries its source (a file in the kernel tree, or a note). Only
//! `visl` has been exercised by this project (in the VM); everything about
//! the other drivers is **unverified on silicon** and comes from reading the
//! drivers. The decode mode and start code are deliberately *not* profile
//! facts: a session always reads them from the device's
//! `V4L2_CID_STATELESS_*_DECODE_MODE` / `_START_CODE` menus. The `expected_*`
//! fields below only document what the driver's menus are known to offer
//! and let the fake device (the testkit crate's `vreq_testkit::fake`) imitate
//! them.
//!
//! Boards: PineTab2 (RK3566) = hantro `rk3568-vpu`; RK3588 = rkvdec `vdpu381`
//! (H.264, HEVC) + hantro VDPU121 (`rk3568-vpu`: H.264, VP8, MPEG-2);
//! RK3399 = rkvdec `rk3399` (H.264, HEVC, VP9) + hantro `rk3399-vpu` (VP8,
//! MPEG-2); Raspberry Pi 5 = `rpi-hevc-dec` (HEVC). [`vreq_frame::drm::drm_format`] maps each
//! CAPTURE format to its DRM fourcc and modifier. A session routes each
//! stream to one device ([`super::discover::route`]).

use v4l2r::bindings;

use vreq_core::uapi_ext;
use vreq_core::{CodecKind, DecodeMode, StartCode};

/// A control whose presence (or array size) differs between drivers, as the
/// driver registers it (`struct v4l2_ctrl_config` in its control table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceControl {
    /// `V4L2_CID_STATELESS_*`.
    pub id: u32,
    /// `dims[0]` of a dynamic-array control (most elements per request); 0 for
    /// a plain compound control.
    pub max_elems: u32,
}

/// Controls whose presence or size depends on the driver: the ones
/// [`Profile::controls`] lists; every other stateless control of a codec is
/// registered by every driver of that codec.
pub const VARYING_CONTROLS: &[u32] = &[
    bindings::V4L2_CID_STATELESS_HEVC_SLICE_PARAMS,
    bindings::V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS,
    uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS,
    uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS,
];

const fn ctl(id: u32, max_elems: u32) -> DeviceControl {
    DeviceControl { id, max_elems }
}
const HEVC_SLICE_PARAMS: u32 = bindings::V4L2_CID_STATELESS_HEVC_SLICE_PARAMS;
const HEVC_ENTRY_POINTS: u32 = bindings::V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS;
const HEVC_EXT_ST_RPS: u32 = uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS;
const HEVC_EXT_LT_RPS: u32 = uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS;

/// One driver's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// `driver` as reported by VIDIOC_QUERYCAP / MEDIA_IOC_DEVICE_INFO.
    pub driver: &'static str,
    /// A variant name when one driver has several (`rk3568-vpu`, `vdpu381`).
    pub variant: &'static str,
    /// Codecs with their largest coded size in pixels (width, height).
    pub codecs: &'static [(CodecKind, u32, u32)],
    /// CAPTURE fourccs for 8-bit streams, in the driver's order of preference.
    pub capture_formats: &'static [[u8; 4]],
    /// CAPTURE fourccs for 10-bit streams (`StreamParams::bit_depth` 10), in
    /// order of preference; empty when the driver decodes no 10-bit stream.
    pub capture_formats_10bit: &'static [[u8; 4]],
    /// Codecs whose 10-bit streams the driver decodes (into
    /// [`Profile::capture_formats_10bit`]); empty when it decodes none.
    pub codecs_10bit: &'static [CodecKind],
    /// HEVC controls whose presence / `dims[0]` differ by driver (see
    /// [`VARYING_CONTROLS`]): what the driver registers, with its array limits.
    pub controls: &'static [DeviceControl],
    /// The driver derives the CAPTURE format from the SPS control: the SPS
    /// must be set (no request) before G_FMT/S_FMT CAPTURE.
    pub sps_before_capture_format: bool,
    /// OUTPUT buffers must exist (REQBUFS OUTPUT) before the CAPTURE format
    /// is set and CAPTURE buffers are created.
    pub output_buffers_before_capture: bool,
    /// The HEVC extended SPS RPS controls (`V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS`
    /// / `_LT_RPS`) must be set when the device exposes them.
    pub hevc_ext_sps_rps: bool,
    /// Uses the single-planar API (`V4L2_CAP_VIDEO_M2M`) instead of MPLANE.
    pub single_planar: bool,
    /// What the driver's H.264/HEVC decode-mode menu offers (documentation
    /// and fake devices only; sessions read the menu).
    pub expected_decode_mode: DecodeMode,
    /// What the driver's start-code menu offers (same caveat).
    pub expected_start_code: StartCode,
    /// Where the facts come from.
    pub source: &'static str,
}

const H264: CodecKind = CodecKind::H264;
const HEVC: CodecKind = CodecKind::Hevc;
const VP8: CodecKind = CodecKind::Vp8;
const VP9: CodecKind = CodecKind::Vp9;
const MPEG2: CodecKind = CodecKind::Mpeg2;

/// All known profiles. Unverified on silicon except `visl`.
pub const PROFILES: &[Profile] = &[
    Profile {
        driver: "hantro-vpu",
        variant: "rk3568-vpu",
        // rockchip_vpu_hw.c: rk3568_vpu_variant decodes MPEG-2, VP8, H.264
        // with the VDPU2 format table (H.264 frmsize max 1920x1088). The
        // PineTab2's RK3566 uses it; so does the RK3588's VDPU121
        // (arch/arm64/boot/dts/rockchip/rk3588-base.dtsi: compatible
        // "rockchip,rk3588-vdpu121", "rockchip,rk3568-vpu"), which on that
        // board serves VP8 and MPEG-2 next to rkvdec (vdpu381).
        codecs: &[(H264, 1920, 1088), (VP8, 1920, 1088), (MPEG2, 1920, 1088)],
        capture_formats: &[*b"NV12"],
        // No 10-bit format on the VDPU2 variants (hantro_drv.c rejects
        // bit_depth_luma_minus8 != 0 for H.264); no HEVC on rk3568.
        capture_formats_10bit: &[],
        codecs_10bit: &[],
        // hantro_drv.c controls[]: HEVC (G2 variants) registers no SLICE_PARAMS
        // and no ENTRY_POINT_OFFSETS.
        controls: &[],
        sps_before_capture_format: false,
        output_buffers_before_capture: false,
        hevc_ext_sps_rps: false,
        single_planar: false,
        // hantro_drv.c controls[]: H.264 DECODE_MODE min=max=FRAME_BASED,
        // START_CODE min=max=ANNEX_B.
        expected_decode_mode: DecodeMode::FrameBased,
        expected_start_code: StartCode::AnnexB,
        source: "drivers/media/platform/verisilicon/rockchip_vpu_hw.c (rk3568_vpu_variant), \
                 drivers/media/platform/verisilicon/hantro_drv.c (controls); unverified on silicon",
    },
    Profile {
        driver: "hantro-vpu",
        variant: "rk3399-vpu",
        // rockchip_vpu_hw.c rk3399_vpu_variant: decodes MPEG-2 and VP8 only
        // (rk3399_vpu_dec_fmts: NV12, MPEG2_SLICE, VP8_FRAME, frmsize max
        // 1920x1088); H.264 on the RK3399 is rkvdec's. Card
        // "rockchip,rk3399-vpu-dec" (hantro_drv.c: "<compatible>-dec").
        codecs: &[(VP8, 1920, 1088), (MPEG2, 1920, 1088)],
        capture_formats: &[*b"NV12"],
        capture_formats_10bit: &[],
        codecs_10bit: &[],
        controls: &[],
        sps_before_capture_format: false,
        output_buffers_before_capture: false,
        hevc_ext_sps_rps: false,
        single_planar: false,
        // No H.264 / HEVC menus on this variant; VP8 / MPEG-2 have none.
        expected_decode_mode: DecodeMode::FrameBased,
        expected_start_code: StartCode::None,
        source: "drivers/media/platform/verisilicon/rockchip_vpu_hw.c (rk3399_vpu_variant); \
                 unverified on silicon",
    },
    Profile {
        driver: "rkvdec",
        variant: "rk3399",
        // rkvdec.c rkvdec_coded_fmts frmsize: H.264 max 4096x2560, VP9 max
        // 4096x2304 (VP9 profile 0 only: rkvdec_vp9_ctrl_descs PROFILE max
        // PROFILE_0, rkvdec_vp9_decoded_fmts NV12 only); HEVC is in the newer
        // platform/rockchip/rkvdec driver (rkvdec-hevc.c).
        codecs: &[(H264, 4096, 2560), (HEVC, 4096, 2304), (VP9, 4096, 2304)],
        // rkvdec.c rkvdec_h264_decoded_fmts: NV12 (RKVDEC_IMG_FMT_420_8BIT),
        // NV15 (420_10BIT), NV16 / NV20 (4:2:2); ENUM_FMT lists only the one
        // matching the image format derived from the SPS (rkvdec_enum_decoded_fmt).
        capture_formats: &[*b"NV12"],
        capture_formats_10bit: &[*b"NV15"],
        codecs_10bit: &[H264, HEVC],
        // HEVC SLICE_PARAMS as a dynamic array; dims 600 assumed like the
        // other drivers (not read from the rk3399 HEVC backend: unverified).
        controls: &[ctl(HEVC_SLICE_PARAMS, 600)],
        // rkvdec_s_ctrl: the image format (8/10-bit, 4:2:0/4:2:2) comes from
        // the SPS; changing it resets the decoded (CAPTURE) format and is
        // refused with EBUSY once CAPTURE buffers exist.
        sps_before_capture_format: true,
        output_buffers_before_capture: false,
        hevc_ext_sps_rps: false,
        single_planar: false,
        // rkvdec.c rkvdec_h264_ctrl_descs: DECODE_MODE FRAME_BASED, START_CODE ANNEX_B.
        expected_decode_mode: DecodeMode::FrameBased,
        expected_start_code: StartCode::AnnexB,
        source: "drivers/staging/media/rkvdec/rkvdec.c (≤6.15), \
                 drivers/media/platform/rockchip/rkvdec/rkvdec.c (≥6.16); unverified on silicon",
    },
    Profile {
        driver: "rkvdec",
        variant: "vdpu381",
        // rkvdec.c vdpu381_coded_fmts (mainline, "rockchip,rk3588-vdec" →
        // vdpu381_variant): HEVC frmsize max 65472x65472, H.264 max
        // 65520x65520; the RK3588 TRM gives 16x16..65520x65520 (review on
        // linux-media). No VP9: mainline has no vdpu381 VP9 backend (an
        // out-of-tree one exists); on the RK3588 VP9 needs that patch. The
        // hardware's own limit (8K per Rockchip) is below the frmsize maximum.
        codecs: &[(H264, 65520, 65520), (HEVC, 65472, 65472)],
        capture_formats: &[*b"NV12"],
        // rkvdec-vdpu381 decoded formats: NV15 (10-bit packed 4:2:0) for
        // 10-bit streams; the driver derives it from the SPS.
        capture_formats_10bit: &[*b"NV15"],
        codecs_10bit: &[H264, HEVC],
        // rkvdec.c vdpu38x_hevc_ctrl_descs (Linux 7.x): EXT_SPS_ST_RPS /
        // EXT_SPS_LT_RPS with dims 65; ENTRY_POINT_OFFSETS per the project's
        // RK3588 notes; the SLICE_PARAMS / ENTRY_POINT_OFFSETS dims (600 / 256)
        // are assumed like visl's. Unverified on silicon.
        controls: &[
            ctl(HEVC_SLICE_PARAMS, 600),
            ctl(HEVC_ENTRY_POINTS, 256),
            ctl(HEVC_EXT_ST_RPS, 65),
            ctl(HEVC_EXT_LT_RPS, 65),
        ],
        sps_before_capture_format: true,
        output_buffers_before_capture: false,
        // vdpu381 HEVC needs V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS/_LT_RPS
        // when the device exposes them (probe with QUERY_EXT_CTRL).
        hevc_ext_sps_rps: true,
        single_planar: false,
        expected_decode_mode: DecodeMode::FrameBased,
        expected_start_code: StartCode::AnnexB,
        source:
            "drivers/media/platform/rockchip/rkvdec/rkvdec-vdpu381-*.c (RK3588, uAPI ≥ 6.20/7.0); \
                 unverified on silicon",
    },
    Profile {
        driver: "rpi-hevc-dec",
        variant: "bcm2712",
        // hevc_d_video.c: hevc_d_enum_fmt_vid_out lists V4L2_PIX_FMT_HEVC_SLICE
        // only; HEVC_D_MAX_WIDTH / HEVC_D_MAX_HEIGHT 4096 (hevc_d_hevc_validate_sps
        // also refuses pic_width/height > 4096, bit depths other than 8 and 10,
        // chroma other than 4:2:0).
        codecs: &[(HEVC, 4096, 4096)],
        // NC12 = V4L2_PIX_FMT_NV12_COL128 (8-bit), NC30 = NV12_10_COL128 (10-bit),
        // SAND128 column layout, one memory plane, bytesperline = column height
        // (hevc_d_prepare_dst_format). hevc_d_video.c pixelformat_from_sps: after
        // the SPS is set ENUM_FMT lists only the formats of its bit depth
        // (index 0 the two-plane NV12MT_COL128 / NV12MT_10_COL128, index 1
        // NC12 / NC30); before it, all four. We take the single-plane ones
        // (the DRM SAND128 modifier describes one buffer with both planes).
        capture_formats: &[*b"NC12"],
        // NC30 = V4L2_PIX_FMT_NV12_10_COL128 (Y/C SAND128, 10-bit, 3 samples per 32 bits).
        capture_formats_10bit: &[*b"NC30"],
        codecs_10bit: &[HEVC],
        // hevc_d.c hevc_d_ctrls: SLICE_PARAMS dynamic array (dims 600), no
        // ENTRY_POINT_OFFSETS.
        controls: &[ctl(HEVC_SLICE_PARAMS, 600)],
        // hevc_d_video.c: with no SPS set, ENUM_FMT lists all four SAND
        // formats and the default CAPTURE format is the 8-bit NV12MT_COL128;
        // once an SPS is set, try_fmt forces a format of its bit depth. So
        // a 10-bit stream gets its format only if the SPS comes first.
        sps_before_capture_format: true,
        // Order seen on silicon (seed note in DESIGN.md): S_FMT OUT →
        // REQBUFS OUT → S_FMT CAP → CREATE_BUFS CAP → STREAMON.
        output_buffers_before_capture: true,
        hevc_ext_sps_rps: false,
        single_planar: false,
        // hevc_d.c hevc_d_ctrls: HEVC DECODE_MODE min=max=def FRAME_BASED;
        // START_CODE NONE..ANNEX_B, default NONE. Compatibles
        // "brcm,bcm2711-hevc-dec" (Pi 4) and "brcm,bcm2712-hevc-dec" (Pi 5).
        expected_decode_mode: DecodeMode::FrameBased,
        expected_start_code: StartCode::None,
        source: "raspberrypi/linux drivers/media/platform/raspberrypi/hevc_dec/ (hevc_d.c, \
                 hevc_d_video.c); DESIGN.md §2 board note; unverified by us",
    },
    Profile {
        driver: "cedrus",
        variant: "sunxi",
        codecs: &[
            (H264, 3840, 2160),
            (HEVC, 3840, 2160),
            (VP8, 3840, 2160),
            (MPEG2, 3840, 2160),
        ],
        // cedrus_video.c cedrus_formats: V4L2_PIX_FMT_NV12_32L32 (tiled) on
        // every variant; linear NV12 only where the hardware can untile.
        capture_formats: &[*b"ST12", *b"NV12"],
        capture_formats_10bit: &[],
        codecs_10bit: &[],
        // cedrus.c cedrus_controls: SLICE_PARAMS dims 1 ("only 1 entry per
        // slice"), ENTRY_POINT_OFFSETS dims 256.
        controls: &[ctl(HEVC_SLICE_PARAMS, 1), ctl(HEVC_ENTRY_POINTS, 256)],
        sps_before_capture_format: false,
        output_buffers_before_capture: false,
        hevc_ext_sps_rps: false,
        // cedrus_video.c registers V4L2_CAP_VIDEO_M2M (single-planar).
        single_planar: true,
        // cedrus.c cedrus_controls[]: DECODE_MODE min=max=SLICE_BASED,
        // START_CODE min=max=NONE.
        expected_decode_mode: DecodeMode::SliceBased,
        expected_start_code: StartCode::None,
        source:
            "drivers/staging/media/sunxi/cedrus/cedrus.c (controls), cedrus_video.c (formats); \
                 unverified on silicon",
    },
    Profile {
        driver: "visl",
        variant: "",
        // visl-video.c visl_coded_fmts frmsize: MPEG-2 1920x1152, VP8
        // 16383x16383, VP9 8192x4352, H.264/HEVC 4096x2304.
        codecs: &[
            (H264, 4096, 2304),
            (HEVC, 4096, 2304),
            (VP8, 16383, 16383),
            (VP9, 8192, 4352),
            (MPEG2, 1920, 1152),
        ],
        // visl-video.c visl_decoded_fmts: NV12, YUV420.
        capture_formats: &[*b"NV12", *b"YU12"],
        // visl 6.12 lists no 10-bit format: a 10-bit stream gets NV12 (see
        // `choose_capture_format`).
        capture_formats_10bit: &[],
        codecs_10bit: &[],
        // visl-core.c visl_hevc_ctrl_descs: SLICE_PARAMS dims 600,
        // ENTRY_POINT_OFFSETS dims 256; no EXT_SPS_*_RPS in 6.12 (the sid VM's
        // patched visl adds them, dims 65, hidden by `hevc_ext_sps_rps=0`).
        controls: &[ctl(HEVC_SLICE_PARAMS, 600), ctl(HEVC_ENTRY_POINTS, 256)],
        sps_before_capture_format: false,
        output_buffers_before_capture: false,
        hevc_ext_sps_rps: false,
        single_planar: false,
        // visl-core.c visl_controls: H.264/HEVC DECODE_MODE def SLICE_BASED
        // (FRAME_BASED settable), START_CODE def NONE (ANNEX_B settable).
        expected_decode_mode: DecodeMode::SliceBased,
        expected_start_code: StartCode::None,
        source:
            "drivers/media/test-drivers/visl/visl-core.c, visl-video.c (kernel 6.12); run in the VM",
    },
];

/// Used for drivers with no profile: the most conservative ordering
/// (SPS before CAPTURE format, OUTPUT buffers before CAPTURE) and NV12.
pub const GENERIC: Profile = Profile {
    driver: "",
    variant: "generic",
    codecs: &[],
    capture_formats: &[*b"NV12", *b"NM12", *b"YU12", *b"YM12"],
    capture_formats_10bit: &[*b"P010"],
    codecs_10bit: &CodecKind::ALL,
    controls: &[
        ctl(HEVC_SLICE_PARAMS, 600),
        ctl(HEVC_ENTRY_POINTS, 256),
        ctl(HEVC_EXT_ST_RPS, 65),
        ctl(HEVC_EXT_LT_RPS, 65),
    ],
    sps_before_capture_format: true,
    output_buffers_before_capture: true,
    hevc_ext_sps_rps: false,
    single_planar: false,
    expected_decode_mode: DecodeMode::FrameBased,
    expected_start_code: StartCode::AnnexB,
    source: "no profile for this driver: conservative defaults",
};

/// The profile for `driver`; `card` picks a variant where the driver has
/// several (`rkvdec` on RK3588 reports a card naming vdpu381/rk3588).
/// Unknown drivers get [`GENERIC`].
pub fn for_driver(driver: &str, card: &str) -> &'static Profile {
    let card = card.to_ascii_lowercase();
    let candidates: Vec<&'static Profile> =
        PROFILES.iter().filter(|p| p.driver == driver).collect();
    match candidates.len() {
        0 => &GENERIC,
        1 => candidates[0],
        _ => candidates
            .iter()
            .find(|p| {
                card.contains(p.variant) || (p.variant == "vdpu381" && card.contains("rk3588"))
            })
            .copied()
            .unwrap_or(candidates[0]),
    }
}

/// The profile for a probed device: [`for_driver`] when `card` names the
/// variant, else — for a driver with several variants whose card says
/// nothing (rkvdec's card is "rkvdec" on the RK3399 and the RK3588 alike:
/// rkvdec.c `rkvdec_querycap` copies the video device name) — the variant
/// whose codec set equals the OUTPUT codecs the device lists (`codecs`, from
/// VIDIOC_ENUM_FMT), then the first variant.
pub fn for_probe(driver: &str, card: &str, codecs: &[CodecKind]) -> &'static Profile {
    let lc = card.to_ascii_lowercase();
    let candidates: Vec<&'static Profile> =
        PROFILES.iter().filter(|p| p.driver == driver).collect();
    if candidates.len() < 2
        || candidates
            .iter()
            .any(|p| lc.contains(p.variant) || (p.variant == "vdpu381" && lc.contains("rk3588")))
    {
        return for_driver(driver, card);
    }
    let mut listed: Vec<CodecKind> = codecs.to_vec();
    listed.sort();
    listed.dedup();
    candidates
        .iter()
        .find(|p| {
            let mut mine: Vec<CodecKind> = p.codecs.iter().map(|c| c.0).collect();
            mine.sort();
            mine == listed
        })
        .copied()
        .unwrap_or(candidates[0])
}

/// Picks the CAPTURE fourcc for a stream of `bit_depth` among the formats
/// the device lists (`VIDIOC_ENUM_FMT` after the sequence controls were set)
/// that `usable` accepts: the profile's list for that depth, then the
/// [`GENERIC`] one (P010 for 10-bit), then — for a 10-bit stream on a device
/// that lists no 10-bit format (visl 6.12: NV12 / YU12 only) — the 8-bit
/// choice, then anything listed. Returns the fourcc and whether it is such a
/// fallback (the caller warns: the frames will not be 10-bit).
///
/// This follows GStreamer's v4l2codecs (`gst_v4l2_decoder_select_src_format`
/// takes the format the driver offers after the SPS was set) so that on visl
/// both pick the same format.
pub fn choose_capture_format(
    profile: &Profile,
    bit_depth: u8,
    listed: &[[u8; 4]],
    usable: impl Fn(&[u8; 4]) -> bool,
) -> Option<([u8; 4], bool)> {
    let ok = |f: &&[u8; 4]| listed.contains(f) && usable(f);
    let eight = || {
        profile
            .capture_formats
            .iter()
            .chain(GENERIC.capture_formats)
            .find(ok)
    };
    if bit_depth > 8 {
        if let Some(f) = profile
            .capture_formats_10bit
            .iter()
            .chain(GENERIC.capture_formats_10bit)
            .find(ok)
        {
            return Some((*f, false));
        }
        return eight()
            .or_else(|| listed.iter().find(|f| usable(f)))
            .map(|f| (*f, true));
    }
    eight()
        .or_else(|| listed.iter().find(|f| usable(f)))
        .map(|f| (*f, false))
}

impl Profile {
    /// `<driver>` or `<driver> (<variant>)` for messages.
    pub fn display_name(&self) -> String {
        match (self.driver, self.variant) {
            ("", v) => v.to_string(),
            (d, "") => d.to_string(),
            (d, v) => format!("{d} ({v})"),
        }
    }

    /// The codecs this driver decodes, as `h264, vp8, mpeg2`.
    pub fn codec_list(&self) -> String {
        self.codecs
            .iter()
            .map(|c| c.0.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The error text for a codec this driver lacks:
    /// `hevc is not supported by hantro-vpu (it decodes: h264, vp8, mpeg2)`.
    pub fn unsupported_codec(&self, codec: CodecKind) -> String {
        format!(
            "{codec} is not supported by {} (it decodes: {})",
            self.driver,
            self.codec_list()
        )
    }

    /// Checks a setup sequence (ioctl names as [`Profile::setup_order`]
    /// writes them; other entries are ignored) against this driver's ordering
    /// rules: with [`Profile::sps_before_capture_format`] an
    /// `S_EXT_CTRLS(first)` carrying the SPS comes before `S_FMT(CAPTURE)`;
    /// with [`Profile::output_buffers_before_capture`] the order is
    /// `S_FMT(OUTPUT)` → `REQBUFS(OUTPUT)` → `S_FMT(CAPTURE)` →
    /// `CREATE_BUFS(CAPTURE)` → `STREAMON`; always `S_FMT(CAPTURE)` before
    /// `CREATE_BUFS(CAPTURE)` before `STREAMON`. `sps_needed` says whether
    /// the codec has an SPS (H.264, HEVC). Errors name the broken rule.
    pub fn check_order(&self, ops: &[String], sps_needed: bool) -> Result<(), String> {
        let at = |name: &str| ops.iter().position(|o| o.starts_with(name));
        let before = |a: &str, b: &str| -> Result<(), String> {
            match (at(a), at(b)) {
                (Some(x), Some(y)) if x < y => Ok(()),
                _ => Err(format!(
                    "{}: {a} must come before {b} (sequence: {})",
                    self.display_name(),
                    ops.join(" → ")
                )),
            }
        };
        before("S_FMT(CAPTURE)", "CREATE_BUFS(CAPTURE)")?;
        before("CREATE_BUFS(CAPTURE)", "STREAMON")?;
        if self.sps_before_capture_format && sps_needed {
            let sps = ops
                .iter()
                .position(|o| o.starts_with("S_EXT_CTRLS(first)") && o.contains("_SPS"));
            let cap = at("S_FMT(CAPTURE)");
            if !matches!((sps, cap), (Some(x), Some(y)) if x < y) {
                return Err(format!(
                    "{}: the SPS must be set before S_FMT(CAPTURE) (the driver derives \
                     the CAPTURE format from it; sequence: {})",
                    self.display_name(),
                    ops.join(" → ")
                ));
            }
        }
        if self.output_buffers_before_capture {
            before("S_FMT(OUTPUT)", "REQBUFS(OUTPUT)")?;
            before("REQBUFS(OUTPUT)", "S_FMT(CAPTURE)")?;
        }
        Ok(())
    }

    /// Whether the driver registers control `id`: the profile's
    /// [`Profile::controls`] for the [`VARYING_CONTROLS`], otherwise true (a
    /// driver of a codec registers its mandatory controls).
    pub fn has_control(&self, id: u32) -> bool {
        self.controls.iter().any(|c| c.id == id) || !VARYING_CONTROLS.contains(&id)
    }

    /// `dims[0]` of dynamic-array control `id`, if the profile lists it as one.
    pub fn max_elems(&self, id: u32) -> Option<u32> {
        self.controls
            .iter()
            .find(|c| c.id == id && c.max_elems > 0)
            .map(|c| c.max_elems)
    }

    /// Every CAPTURE format the driver may list (8- and 10-bit).
    pub fn all_capture_formats(&self) -> Vec<[u8; 4]> {
        let mut v: Vec<[u8; 4]> = self.capture_formats.to_vec();
        for f in self.capture_formats_10bit {
            if !v.contains(f) {
                v.push(*f);
            }
        }
        v
    }

    /// Largest coded size for `codec`, if this profile lists the codec.
    pub fn max_size(&self, codec: CodecKind) -> Option<(u32, u32)> {
        self.codecs
            .iter()
            .find(|c| c.0 == codec)
            .map(|c| (c.1, c.2))
    }

    /// The session's setup order as ioctl names, for logs and tests:
    /// `S_FMT(OUTPUT)`, `REQBUFS(OUTPUT)`, `S_EXT_CTRLS(first)`, `S_FMT(CAPTURE)`,
    /// `CREATE_BUFS(CAPTURE)`, `STREAMON`. Every profile is satisfied by the
    /// same order (OUTPUT buffers and the SPS both come before CAPTURE).
    pub fn setup_order(&self) -> &'static [&'static str] {
        &[
            "S_FMT(OUTPUT)",
            "REQBUFS(OUTPUT)",
            "S_EXT_CTRLS(first)",
            "S_FMT(CAPTURE)",
            "CREATE_BUFS(CAPTURE)",
            "STREAMON",
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_driver_and_variant() {
        assert_eq!(
            for_driver("hantro-vpu", "rockchip,rk3568-vpu-dec").variant,
            "rk3568-vpu"
        );
        assert_eq!(for_driver("rkvdec", "rkvdec").variant, "rk3399");
        assert_eq!(for_driver("rkvdec", "rkvdec-rk3588").variant, "vdpu381");
        assert_eq!(for_driver("nope", "").variant, "generic");
        assert_eq!(
            for_driver("visl", "visl").max_size(CodecKind::H264),
            Some((4096, 2304))
        );
        assert_eq!(for_driver("hantro-vpu", "").max_size(CodecKind::Hevc), None);
    }

    #[test]
    fn optional_hevc_controls_per_driver() {
        let st = uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS;
        let lt = uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS;
        let epo = bindings::V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS;
        let rk3588 = for_driver("rkvdec", "rk3588");
        assert!(rk3588.has_control(st) && rk3588.has_control(lt) && rk3588.has_control(epo));
        assert_eq!(rk3588.max_elems(st), Some(65));
        let visl = for_driver("visl", "");
        assert!(visl.has_control(epo) && !visl.has_control(st) && !visl.has_control(lt));
        assert_eq!(
            visl.max_elems(bindings::V4L2_CID_STATELESS_HEVC_SLICE_PARAMS),
            Some(600)
        );
        let rpi = for_driver("rpi-hevc-dec", "");
        assert!(!rpi.has_control(epo) && !rpi.has_control(st));
        assert_eq!(
            for_driver("cedrus", "").max_elems(bindings::V4L2_CID_STATELESS_HEVC_SLICE_PARAMS),
            Some(1)
        );
        // Mandatory controls are always there.
        assert!(visl.has_control(bindings::V4L2_CID_STATELESS_HEVC_SPS));
        assert_eq!(visl.max_elems(bindings::V4L2_CID_STATELESS_HEVC_SPS), None);
    }

    #[test]
    fn capture_format_by_bit_depth() {
        let any = |_: &[u8; 4]| true;
        let visl = for_driver("visl", "");
        let listed = [*b"NV12", *b"YU12"];
        assert_eq!(
            choose_capture_format(visl, 8, &listed, any),
            Some((*b"NV12", false))
        );
        // visl 6.12 has no 10-bit format: NV12, flagged as a fallback.
        assert_eq!(
            choose_capture_format(visl, 10, &listed, any),
            Some((*b"NV12", true))
        );
        // A device that lists P010 gets it for 10-bit, NV12 for 8-bit.
        let with_p010 = [*b"NV12", *b"P010"];
        assert_eq!(
            choose_capture_format(visl, 10, &with_p010, any),
            Some((*b"P010", false))
        );
        assert_eq!(
            choose_capture_format(visl, 8, &with_p010, any),
            Some((*b"NV12", false))
        );
        let rk = for_driver("rkvdec", "rk3588");
        assert_eq!(
            choose_capture_format(rk, 10, &[*b"NV15"], any),
            Some((*b"NV15", false))
        );
        let rpi = for_driver("rpi-hevc-dec", "");
        assert_eq!(
            choose_capture_format(rpi, 10, &rpi.all_capture_formats(), any),
            Some((*b"NC30", false))
        );
        // Unusable formats are skipped; nothing usable → None.
        assert_eq!(
            choose_capture_format(rpi, 8, &[*b"NC12"], |f| f != b"NC12"),
            None
        );
    }

    #[test]
    fn variant_from_the_listed_codecs() {
        use CodecKind::*;
        assert_eq!(
            for_probe("rkvdec", "rkvdec", &[H264, Hevc]).variant,
            "vdpu381"
        );
        assert_eq!(
            for_probe("rkvdec", "rkvdec", &[Vp9, H264, Hevc]).variant,
            "rk3399"
        );
        assert_eq!(
            for_probe("hantro-vpu", "hantro", &[Vp8, Mpeg2]).variant,
            "rk3399-vpu"
        );
        assert_eq!(
            for_probe("hantro-vpu", "rockchip,rk3568-vpu-dec", &[Vp8]).variant,
            "rk3568-vpu"
        );
        assert_eq!(for_probe("visl", "visl", &[]).driver, "visl");
    }

    #[test]
    fn order_rules_catch_bad_sequences() {
        let seq = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let rpi = for_driver("rpi-hevc-dec", "");
        let good = seq(&[
            "S_FMT(OUTPUT) S265",
            "REQBUFS(OUTPUT)",
            "S_EXT_CTRLS(first) V4L2_CID_STATELESS_HEVC_SPS",
            "S_FMT(CAPTURE) NC12",
            "CREATE_BUFS(CAPTURE) 8",
            "STREAMON",
        ]);
        assert!(rpi.check_order(&good, true).is_ok());
        // CAPTURE negotiated before the OUTPUT buffers exist.
        let bad = seq(&[
            "S_FMT(OUTPUT) S265",
            "S_EXT_CTRLS(first) V4L2_CID_STATELESS_HEVC_SPS",
            "S_FMT(CAPTURE) NC12",
            "REQBUFS(OUTPUT)",
            "CREATE_BUFS(CAPTURE) 8",
            "STREAMON",
        ]);
        let e = rpi.check_order(&bad, true).unwrap_err();
        assert!(
            e.contains("REQBUFS(OUTPUT) must come before S_FMT(CAPTURE)"),
            "{e}"
        );
        // visl does not care; rkvdec wants the SPS first.
        assert!(for_driver("visl", "").check_order(&bad, true).is_ok());
        let rk = for_driver("rkvdec", "rk3588");
        assert!(rk.check_order(&good, true).is_ok());
        let no_sps = seq(&[
            "S_FMT(OUTPUT) S264",
            "REQBUFS(OUTPUT)",
            "S_FMT(CAPTURE) NV12",
            "S_EXT_CTRLS(first) V4L2_CID_STATELESS_H264_SPS",
            "CREATE_BUFS(CAPTURE) 8",
            "STREAMON",
        ]);
        let e = rk.check_order(&no_sps, true).unwrap_err();
        assert!(e.contains("SPS must be set before S_FMT(CAPTURE)"), "{e}");
        // VP9 has no SPS: no such rule.
        assert!(rk.check_order(&no_sps, false).is_ok());
        // STREAMON before CREATE_BUFS is wrong everywhere.
        let early = seq(&["S_FMT(CAPTURE) NV12", "STREAMON", "CREATE_BUFS(CAPTURE) 4"]);
        assert!(for_driver("visl", "").check_order(&early, false).is_err());
    }

    #[test]
    fn orders_satisfy_profile_rules() {
        for p in PROFILES.iter().chain([&GENERIC]) {
            let o = p.setup_order();
            let at = |s: &str| o.iter().position(|x| *x == s).unwrap();
            if p.sps_before_capture_format {
                assert!(
                    at("S_EXT_CTRLS(first)") < at("S_FMT(CAPTURE)"),
                    "{}",
                    p.driver
                );
            }
            if p.output_buffers_before_capture {
                assert!(at("REQBUFS(OUTPUT)") < at("S_FMT(CAPTURE)"), "{}", p.driver);
                assert!(
                    at("S_FMT(CAPTURE)") < at("CREATE_BUFS(CAPTURE)"),
                    "{}",
                    p.driver
                );
            }
            assert!(!p.capture_formats.is_empty());
        }
    }
}
