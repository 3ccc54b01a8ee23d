//! `V4L2_CID_STATELESS_VP9_FRAME` and `V4L2_CID_STATELESS_VP9_COMPRESSED_HDR`
//! for one frame (uAPI "ext-ctrls-codec-stateless"), filled field by field as
//! GStreamer 1.26.2's `gstv4l2codecvp9dec.c` (`fill_dec_params`,
//! `fill_prob_updates`) fills them, the oracle on visl.

use v4l2r::bindings;

use super::parser::{FrameHeader, KEY_FRAME};

/// The reference timestamps (`v4l2_buffer.timestamp` in ns) of the LAST,
/// GOLDEN and ALTREF frames: the slot `ref_frame_idx[i]` names, 0 when that
/// slot is empty. Intra frames have `ref_frame_idx` = 0, so (as in GStreamer)
/// all three name slot 0's frame.
pub type RefTimestamps = [u64; 3];

/// `v4l2_ctrl_vp9_frame` for `h`. `reference_mode` comes from the compressed
/// header (0 when it was not parsed).
pub fn frame(h: &FrameHeader, refs: RefTimestamps) -> bindings::v4l2_ctrl_vp9_frame {
    let mut f: bindings::v4l2_ctrl_vp9_frame = Default::default();
    let flag = |b: bool, v: u32| if b { v } else { 0 };
    f.flags = flag(
        h.frame_type == KEY_FRAME,
        bindings::V4L2_VP9_FRAME_FLAG_KEY_FRAME,
    ) | flag(h.show_frame, bindings::V4L2_VP9_FRAME_FLAG_SHOW_FRAME)
        | flag(
            h.error_resilient_mode,
            bindings::V4L2_VP9_FRAME_FLAG_ERROR_RESILIENT,
        )
        | flag(h.intra_only, bindings::V4L2_VP9_FRAME_FLAG_INTRA_ONLY)
        | flag(
            h.allow_high_precision_mv,
            bindings::V4L2_VP9_FRAME_FLAG_ALLOW_HIGH_PREC_MV,
        )
        | flag(
            h.refresh_frame_context,
            bindings::V4L2_VP9_FRAME_FLAG_REFRESH_FRAME_CTX,
        )
        | flag(
            h.frame_parallel_decoding_mode,
            bindings::V4L2_VP9_FRAME_FLAG_PARALLEL_DEC_MODE,
        )
        | flag(h.subsampling_x, bindings::V4L2_VP9_FRAME_FLAG_X_SUBSAMPLING)
        | flag(h.subsampling_y, bindings::V4L2_VP9_FRAME_FLAG_Y_SUBSAMPLING)
        | flag(
            h.color_range != 0,
            bindings::V4L2_VP9_FRAME_FLAG_COLOR_RANGE_FULL_SWING,
        );
    f.compressed_header_size = h.header_size_in_bytes;
    f.uncompressed_header_size = h.uncompressed_header_size;
    f.profile = h.profile;
    f.frame_context_idx = h.frame_context_idx;
    f.bit_depth = h.bit_depth;
    f.interpolation_filter = h.interpolation_filter;
    f.tile_cols_log2 = h.tile_cols_log2;
    f.tile_rows_log2 = h.tile_rows_log2;
    f.reference_mode = h.reference_mode;
    f.frame_width_minus_1 = h.width.saturating_sub(1) as u16;
    f.frame_height_minus_1 = h.height.saturating_sub(1) as u16;
    f.render_width_minus_1 = (h.render_width.max(1) - 1) as u16;
    f.render_height_minus_1 = (h.render_height.max(1) - 1) as u16;
    f.ref_frame_sign_bias = flag(h.ref_frame_sign_bias[1], bindings::V4L2_VP9_SIGN_BIAS_LAST) as u8
        | flag(
            h.ref_frame_sign_bias[2],
            bindings::V4L2_VP9_SIGN_BIAS_GOLDEN,
        ) as u8
        | flag(h.ref_frame_sign_bias[3], bindings::V4L2_VP9_SIGN_BIAS_ALT) as u8;
    // reset_frame_context 0 and 1 both mean "no reset" (spec 7.2).
    f.reset_frame_context = match h.reset_frame_context {
        2 => bindings::V4L2_VP9_RESET_FRAME_CTX_SPEC,
        3 => bindings::V4L2_VP9_RESET_FRAME_CTX_ALL,
        _ => bindings::V4L2_VP9_RESET_FRAME_CTX_NONE,
    } as u8;
    f.last_frame_ts = refs[0];
    f.golden_frame_ts = refs[1];
    f.alt_frame_ts = refs[2];

    f.lf = h.lf.to_v4l2();
    f.quant = h.quant.to_v4l2();

    let s = &h.seg;
    f.seg.flags = (flag(
        s.segmentation_enabled,
        bindings::V4L2_VP9_SEGMENTATION_FLAG_ENABLED,
    ) | flag(
        s.segmentation_update_map,
        bindings::V4L2_VP9_SEGMENTATION_FLAG_UPDATE_MAP,
    ) | flag(
        s.segmentation_temporal_update,
        bindings::V4L2_VP9_SEGMENTATION_FLAG_TEMPORAL_UPDATE,
    ) | flag(
        s.segmentation_update_data,
        bindings::V4L2_VP9_SEGMENTATION_FLAG_UPDATE_DATA,
    ) | flag(
        s.segmentation_abs_or_delta_update,
        bindings::V4L2_VP9_SEGMENTATION_FLAG_ABS_OR_DELTA_UPDATE,
    )) as u8;
    f.seg.tree_probs = s.segmentation_tree_probs;
    f.seg.pred_probs = s.segmentation_pred_prob;
    for i in 0..8 {
        // V4L2_VP9_SEGMENT_FEATURE_ENABLED(id) = 1 << id
        f.seg.feature_enabled[i] = (0..4)
            .filter(|&j| s.feature_enabled[i][j])
            .fold(0u8, |acc, j| acc | (1 << j));
        f.seg.feature_data[i] = s.feature_data[i];
    }
    f
}
