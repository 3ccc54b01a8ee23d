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
//! and let the fake device ([`super::fake`]) imitate them.

use crate::codec::{CodecKind, DecodeMode, StartCode};

/// One driver's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// `driver` as reported by VIDIOC_QUERYCAP / MEDIA_IOC_DEVICE_INFO.
    pub driver: &'static str,
    /// A variant name when one driver has several (`rk3568-vpu`, `vdpu381`).
    pub variant: &'static str,
    /// Codecs with their largest coded size in pixels (width, height).
    pub codecs: &'static [(CodecKind, u32, u32)],
    /// CAPTURE fourccs in the driver's order of preference.
    pub capture_formats: &'static [[u8; 4]],
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
        // with the VDPU2 format table (H.264 frmsize max 1920x1088).
        codecs: &[(H264, 1920, 1088), (VP8, 1920, 1088), (MPEG2, 1920, 1088)],
        capture_formats: &[*b"NV12"],
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
        driver: "rkvdec",
        variant: "rk3399",
        // rkvdec.c rkvdec_coded_fmts: H.264 and VP9 up to 4096x2304; HEVC
        // is in the newer platform/rockchip/rkvdec driver.
        codecs: &[(H264, 4096, 2304), (HEVC, 4096, 2304), (VP9, 4096, 2304)],
        // NV12 for 8-bit, NV15 for 10-bit (rkvdec_*_decoded_fmts).
        capture_formats: &[*b"NV12", *b"NV15"],
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
        codecs: &[(H264, 4096, 2304), (HEVC, 7680, 4320), (VP9, 7680, 4320)],
        capture_formats: &[*b"NV12", *b"NV15"],
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
        codecs: &[(HEVC, 4096, 2304)],
        // NC12 = V4L2_PIX_FMT_NV12_COL128 (8-bit), NC30 = NV12_10_COL128 (10-bit),
        // SAND128 column layout; the driver checks the CAPTURE format
        // against the SPS bit depth.
        capture_formats: &[*b"NC12", *b"NC30"],
        sps_before_capture_format: false,
        // Order seen on silicon (seed note in DESIGN.md): S_FMT OUT →
        // REQBUFS OUT → S_FMT CAP → CREATE_BUFS CAP → STREAMON.
        output_buffers_before_capture: true,
        hevc_ext_sps_rps: false,
        single_planar: false,
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

impl Profile {
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
