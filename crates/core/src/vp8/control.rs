//! The part of `V4L2_CID_STATELESS_VP8_FRAME` (uAPI
//! "ext-ctrls-codec-stateless", `struct v4l2_ctrl_vp8_frame`) that the frame
//! header and the parser's persistent state say, filled field by field as
//! GStreamer 1.26.2's `gstv4l2codecvp8dec.c` (`fill_frame_header`,
//! `fill_segment`, `fill_lf`, `fill_entropy`) fills it. The VP8 codec and
//! vreq-va's VP8 mapping both start from it.

use v4l2r::bindings;

use super::parser::{FrameHeader, Parser};

/// `v4l2_ctrl_vp8_frame` for frame header `h`, with `parser` the persistent
/// segmentation and loop filter deltas after parsing `h` (RFC 6386 9.3,
/// 9.6): segment, loop filter, quantisation, entropy (the header's
/// probabilities after this frame's updates), the bool decoder state after
/// the header (RFC 6386 7.3; range 128..=255, value the top byte,
/// bit_count 0..=7), scaling, version, the `prob_*` values, partition count
/// and sizes, `first_part_header_bits` and the frame flags.
///
/// Left 0 for the caller: `width` / `height` (the sequence's size, which an
/// inter frame does not code) and `last_frame_ts` / `golden_frame_ts` /
/// `alt_frame_ts` (the references' OUTPUT timestamps).
pub fn frame_control(h: &FrameHeader, parser: &Parser) -> bindings::v4l2_ctrl_vp8_frame {
    let flag = |b: bool, v: u32| if b { v } else { 0 };
    let mut f = bindings::v4l2_ctrl_vp8_frame::default();

    let s = &parser.segmentation;
    f.segment.flags = flag(s.segmentation_enabled, bindings::V4L2_VP8_SEGMENT_FLAG_ENABLED)
        | flag(
            s.update_mb_segmentation_map,
            bindings::V4L2_VP8_SEGMENT_FLAG_UPDATE_MAP,
        )
        | flag(
            s.update_segment_feature_data,
            bindings::V4L2_VP8_SEGMENT_FLAG_UPDATE_FEATURE_DATA,
        )
        // segment_feature_mode 1 = absolute values (RFC 6386 9.3)
        | flag(
            !s.segment_feature_mode,
            bindings::V4L2_VP8_SEGMENT_FLAG_DELTA_VALUE_MODE,
        );
    f.segment.quant_update = s.quantizer_update_value;
    f.segment.lf_update = s.lf_update_value;
    f.segment.segment_probs = s.segment_prob;

    let lf = &parser.mb_lf_adjust;
    f.lf.sharpness_level = h.sharpness_level;
    f.lf.level = h.loop_filter_level;
    f.lf.flags = flag(h.filter_type, bindings::V4L2_VP8_LF_FILTER_TYPE_SIMPLE)
        | flag(lf.loop_filter_adj_enable, bindings::V4L2_VP8_LF_ADJ_ENABLE)
        | flag(
            lf.mode_ref_lf_delta_update,
            bindings::V4L2_VP8_LF_DELTA_UPDATE,
        );
    f.lf.ref_frm_delta = lf.ref_frame_delta;
    f.lf.mb_mode_delta = lf.mb_mode_delta;

    let q = &h.quant;
    f.quant.y_ac_qi = q.y_ac_qi;
    f.quant.y_dc_delta = q.y_dc_delta;
    f.quant.y2_dc_delta = q.y2_dc_delta;
    f.quant.y2_ac_delta = q.y2_ac_delta;
    f.quant.uv_dc_delta = q.uv_dc_delta;
    f.quant.uv_ac_delta = q.uv_ac_delta;

    // The header's flat [i][j][k][l] / [i][j] arrays in the uAPI arrays'
    // order (coeff_probs[4][8][3][11], per coefficient band).
    for (d, v) in f
        .entropy
        .coeff_probs
        .iter_mut()
        .flatten()
        .flatten()
        .flatten()
        .zip(h.coeff_probs)
    {
        *d = v;
    }
    f.entropy.y_mode_probs = h.y_mode_probs;
    f.entropy.uv_mode_probs = h.uv_mode_probs;
    for (d, v) in f.entropy.mv_probs.iter_mut().flatten().zip(h.mv_probs) {
        *d = v;
    }

    // GStreamer's rd_range / rd_value / rd_count
    f.coder_state.range = h.rd_range;
    f.coder_state.value = h.rd_value;
    f.coder_state.bit_count = h.rd_count;

    f.horizontal_scale = h.horiz_scale_code;
    f.vertical_scale = h.vert_scale_code;
    f.version = h.version;
    f.prob_skip_false = h.prob_skip_false;
    f.prob_intra = h.prob_intra;
    f.prob_last = h.prob_last;
    f.prob_gf = h.prob_gf;
    f.num_dct_parts = h.num_dct_partitions();
    f.first_part_size = h.first_part_size;
    f.first_part_header_bits = h.header_size;
    f.dct_part_sizes = h.partition_size;

    f.flags = u64::from(
        flag(h.key_frame, bindings::V4L2_VP8_FRAME_FLAG_KEY_FRAME)
            | flag(h.show_frame, bindings::V4L2_VP8_FRAME_FLAG_SHOW_FRAME)
            | flag(
                h.mb_no_skip_coeff,
                bindings::V4L2_VP8_FRAME_FLAG_MB_NO_SKIP_COEFF,
            )
            | flag(
                h.sign_bias_golden,
                bindings::V4L2_VP8_FRAME_FLAG_SIGN_BIAS_GOLDEN,
            )
            | flag(
                h.sign_bias_alternate,
                bindings::V4L2_VP8_FRAME_FLAG_SIGN_BIAS_ALT,
            ),
    );
    f
}
