//! uAPI items newer than the committed 6.12 headers
//! (`third_party/linux-uapi`), defined here with the kernel's layout.
//!
//! Source: include/uapi/linux/v4l2-controls.h of Linux 7.x ("media: uapi:
//! HEVC: Add `v4l2_ctrl_hevc_ext_sps_[ls]t_rps`", used by rkvdec's vdpu381/383
//! HEVC backend); offsets checked against the sid VM's headers
//! (tests/vm/sid/REPORT.md §2). Plain `#[repr(C)]` data: no unsafe here.

/// `V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS` (`V4L2_CID_CODEC_STATELESS_BASE + 408`):
/// dynamic array of [`V4l2CtrlHevcExtSpsStRps`], one element per
/// `st_ref_pic_set(i)` of the SPS (`num_short_term_ref_pic_sets` elements).
pub const V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS: u32 = 0x00a4_0a98;
/// `V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS` (`V4L2_CID_CODEC_STATELESS_BASE + 409`):
/// dynamic array of [`V4l2CtrlHevcExtSpsLtRps`], one element per
/// `lt_ref_pic_poc_lsb_sps[i]` (`num_long_term_ref_pics_sps` elements).
pub const V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS: u32 = 0x00a4_0a99;
/// Control type of [`V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS`].
pub const V4L2_CTRL_TYPE_HEVC_EXT_SPS_ST_RPS: u32 = 0x0275;
/// Control type of [`V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS`].
pub const V4L2_CTRL_TYPE_HEVC_EXT_SPS_LT_RPS: u32 = 0x0276;
/// Maximum elements of either array (`HEVC_MAX_SHORT_TERM_REF_PIC_SETS` 64 + 1).
pub const V4L2_HEVC_EXT_SPS_RPS_MAX: usize = 65;

/// `V4L2_HEVC_EXT_SPS_ST_RPS_FLAG_INTER_REF_PIC_SET_PRED`: `inter_ref_pic_set_prediction_flag`.
pub const V4L2_HEVC_EXT_SPS_ST_RPS_FLAG_INTER_REF_PIC_SET_PRED: u16 = 0x1;
/// `V4L2_HEVC_EXT_SPS_LT_RPS_FLAG_USED_LT`: `used_by_curr_pic_lt_sps_flag[i]`.
pub const V4L2_HEVC_EXT_SPS_LT_RPS_FLAG_USED_LT: u16 = 0x1;

/// `struct v4l2_ctrl_hevc_ext_sps_st_rps` (80 bytes): one `st_ref_pic_set()`
/// of the SPS, H.265 7.3.7 syntax names.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct V4l2CtrlHevcExtSpsStRps {
    pub delta_idx_minus1: u8,
    pub delta_rps_sign: u8,
    pub num_negative_pics: u8,
    pub num_positive_pics: u8,
    /// Bit j: `used_by_curr_pic_flag[j]` (inter) or S0 then S1 `used_by_curr_pic_s*_flag`.
    pub used_by_curr_pic: u32,
    /// Bit j: `use_delta_flag[j]`.
    pub use_delta_flag: u32,
    pub abs_delta_rps_minus1: u16,
    pub delta_poc_s0_minus1: [u16; 16],
    pub delta_poc_s1_minus1: [u16; 16],
    /// `V4L2_HEVC_EXT_SPS_ST_RPS_FLAG_*`.
    pub flags: u16,
}

/// `struct v4l2_ctrl_hevc_ext_sps_lt_rps` (4 bytes): one long-term candidate of the SPS.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct V4l2CtrlHevcExtSpsLtRps {
    pub lt_ref_pic_poc_lsb_sps: u16,
    /// `V4L2_HEVC_EXT_SPS_LT_RPS_FLAG_*`.
    pub flags: u16,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_the_kernel() {
        assert_eq!(std::mem::size_of::<V4l2CtrlHevcExtSpsStRps>(), 80);
        assert_eq!(
            std::mem::offset_of!(V4l2CtrlHevcExtSpsStRps, used_by_curr_pic),
            4
        );
        assert_eq!(
            std::mem::offset_of!(V4l2CtrlHevcExtSpsStRps, abs_delta_rps_minus1),
            12
        );
        assert_eq!(
            std::mem::offset_of!(V4l2CtrlHevcExtSpsStRps, delta_poc_s0_minus1),
            14
        );
        assert_eq!(
            std::mem::offset_of!(V4l2CtrlHevcExtSpsStRps, delta_poc_s1_minus1),
            46
        );
        assert_eq!(std::mem::offset_of!(V4l2CtrlHevcExtSpsStRps, flags), 78);
        assert_eq!(std::mem::size_of::<V4l2CtrlHevcExtSpsLtRps>(), 4);
    }
}
