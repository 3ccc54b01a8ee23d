//! VP8 frame tag and first-partition frame header (RFC 6386 9.1–9.11,
//! 19.1–19.2), with the boolean decoder (RFC 6386 7.3) in libvpx's
//! `dboolhuff` form so that its state after the header (`coder_state`,
//! `first_part_header_bits`) is exactly what GStreamer 1.26.2's
//! `gstvp8parser.c` / `gstvp8rangedecoder.c` report.
//!
//! Bounded on any input: the boolean decoder reads zeros past the end of its
//! data (as libvpx's does, GStreamer never fails there); the errors are a
//! short frame tag, a first partition or DCT partition table past the end of
//! the frame (as `gst_vp8_parser_parse_frame_header`).

use super::probs;

const BD_VALUE_SIZE: i64 = 64;
const LOTS_OF_BITS: i64 = 0x4000_0000;

/// libvpx's `BOOL_DECODER` over a byte slice.
struct BoolDecoder<'a> {
    data: &'a [u8],
    /// Next byte to load (`user_buffer - buf`).
    pos: usize,
    value: u64,
    count: i64,
    range: u32,
}

impl<'a> BoolDecoder<'a> {
    /// `vp8dx_start_decode`.
    fn new(data: &'a [u8]) -> Self {
        let mut bd = BoolDecoder {
            data,
            pos: 0,
            value: 0,
            count: -8,
            range: 255,
        };
        bd.fill();
        bd
    }

    /// `vp8dx_bool_decoder_fill`: loads whole bytes below the bits in use;
    /// past the end, `count` gets `LOTS_OF_BITS` and zeros are shifted in.
    fn fill(&mut self) {
        let mut shift = BD_VALUE_SIZE - 8 - (self.count + 8);
        let bits_left = ((self.data.len() - self.pos) as i64) * 8;
        let x = shift + 8 - bits_left;
        let mut loop_end = 0;
        if x >= 0 {
            self.count += LOTS_OF_BITS;
            loop_end = x;
        }
        if x < 0 || bits_left != 0 {
            while shift >= loop_end && self.pos < self.data.len() {
                self.count += 8;
                self.value |= u64::from(self.data[self.pos]) << shift;
                self.pos += 1;
                shift -= 8;
            }
        }
    }

    /// `vp8dx_decode_bool`: one bool whose probability of 0 is `prob / 256`.
    fn read(&mut self, prob: u8) -> bool {
        let split = 1 + (((self.range - 1) * u32::from(prob)) >> 8);
        if self.count < 0 {
            self.fill();
        }
        let bigsplit = u64::from(split) << (BD_VALUE_SIZE - 8);
        let bit = if self.value >= bigsplit {
            self.range -= split;
            self.value -= bigsplit;
            true
        } else {
            self.range = split;
            false
        };
        // vp8_norm[range]: range is 1..=255 here.
        let shift = (self.range as u8).leading_zeros();
        self.range <<= shift;
        self.value <<= shift;
        self.count -= i64::from(shift);
        bit
    }

    fn flag(&mut self) -> bool {
        self.read(128)
    }

    /// RFC 6386 `L(n)`: n-bit unsigned literal, most significant bit first.
    fn uint(&mut self, n: u32) -> u8 {
        (0..n).fold(0u32, |v, _| (v << 1) | u32::from(self.flag())) as u8
    }

    /// Magnitude `L(n)` then sign bit (RFC 6386 9.3, 9.6).
    fn sint(&mut self, n: u32) -> i8 {
        let v = self.uint(n) as i8;
        if self.flag() {
            -v
        } else {
            v
        }
    }

    /// `gst_vp8_range_decoder_get_pos`: bits consumed (GStreamer's
    /// `header_size`; wraps like its `guint` when the data ran out).
    fn pos_bits(&self) -> u32 {
        ((self.pos as i64) * 8 - (8 + self.count)) as u32
    }

    /// `gst_vp8_range_decoder_get_state`: (range, value, bit_count).
    fn state(&mut self) -> (u8, u8, u8) {
        if self.count < 0 {
            self.fill();
        }
        (
            self.range as u8,
            (self.value >> (BD_VALUE_SIZE - 8)) as u8,
            ((8 + self.count) % 8) as u8,
        )
    }
}

/// Segment-based adjustments (RFC 6386 9.3); persistent across frames.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Segmentation {
    pub segmentation_enabled: bool,
    pub update_mb_segmentation_map: bool,
    pub update_segment_feature_data: bool,
    /// 1 = absolute values, 0 = deltas.
    pub segment_feature_mode: bool,
    pub quantizer_update_value: [i8; 4],
    pub lf_update_value: [i8; 4],
    pub segment_prob: [u8; 3],
}

/// Loop filter delta adjustments (RFC 6386 9.6); persistent across frames.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MbLfAdjustments {
    pub loop_filter_adj_enable: bool,
    pub mode_ref_lf_delta_update: bool,
    pub ref_frame_delta: [i8; 4],
    pub mb_mode_delta: [i8; 4],
}

/// Dequantization indices (RFC 6386 9.6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuantIndices {
    pub y_ac_qi: u8,
    pub y_dc_delta: i8,
    pub y2_dc_delta: i8,
    pub y2_ac_delta: i8,
    pub uv_dc_delta: i8,
    pub uv_ac_delta: i8,
}

/// One frame's header (GStreamer's `GstVp8FrameHdr`): the fields
/// `v4l2_ctrl_vp8_frame` needs. Sizes in pixels / bytes / bits as named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameHeader {
    pub key_frame: bool,
    pub version: u8,
    pub show_frame: bool,
    /// Bytes of the first partition (frame tag `first_part_size`).
    pub first_part_size: u32,
    /// Frame tag (+ key frame start code and size) bytes: 3 or 10.
    pub data_chunk_size: u32,
    /// Key frames only (0 on inter frames), pixels.
    pub width: u16,
    pub height: u16,
    pub horiz_scale_code: u8,
    pub vert_scale_code: u8,
    pub color_space: bool,
    pub clamping_type: bool,
    pub filter_type: bool,
    pub loop_filter_level: u8,
    pub sharpness_level: u8,
    pub log2_nbr_of_dct_partitions: u8,
    pub quant: QuantIndices,
    pub refresh_entropy_probs: bool,
    pub refresh_golden_frame: bool,
    pub refresh_alternate_frame: bool,
    pub copy_buffer_to_golden: u8,
    pub copy_buffer_to_alternate: u8,
    pub sign_bias_golden: bool,
    pub sign_bias_alternate: bool,
    pub refresh_last: bool,
    pub mb_no_skip_coeff: bool,
    pub prob_skip_false: u8,
    pub prob_intra: u8,
    pub prob_last: u8,
    pub prob_gf: u8,
    /// Probabilities in effect for this frame, `[i][j][k][l]` flattened.
    pub coeff_probs: [u8; 1056],
    pub y_mode_probs: [u8; 4],
    pub uv_mode_probs: [u8; 3],
    pub mv_probs: [u8; 38],
    /// Bits of the first partition the header used (GStreamer `header_size`).
    pub header_size: u32,
    /// Bool decoder after the header: range, value, bit count.
    pub rd_range: u8,
    pub rd_value: u8,
    pub rd_count: u8,
    /// DCT partition sizes in bytes (the last one is what remains).
    pub partition_size: [u32; 8],
}

impl Default for FrameHeader {
    fn default() -> Self {
        FrameHeader {
            key_frame: false,
            version: 0,
            show_frame: false,
            first_part_size: 0,
            data_chunk_size: 0,
            width: 0,
            height: 0,
            horiz_scale_code: 0,
            vert_scale_code: 0,
            color_space: false,
            clamping_type: false,
            filter_type: false,
            loop_filter_level: 0,
            sharpness_level: 0,
            log2_nbr_of_dct_partitions: 0,
            quant: QuantIndices::default(),
            refresh_entropy_probs: false,
            refresh_golden_frame: false,
            refresh_alternate_frame: false,
            copy_buffer_to_golden: 0,
            copy_buffer_to_alternate: 0,
            sign_bias_golden: false,
            sign_bias_alternate: false,
            refresh_last: false,
            mb_no_skip_coeff: false,
            prob_skip_false: 0,
            prob_intra: 0,
            prob_last: 0,
            prob_gf: 0,
            coeff_probs: [0; 1056],
            y_mode_probs: [0; 4],
            uv_mode_probs: [0; 3],
            mv_probs: [0; 38],
            header_size: 0,
            rd_range: 0,
            rd_value: 0,
            rd_count: 0,
            partition_size: [0; 8],
        }
    }
}

impl FrameHeader {
    /// `1 << log2_nbr_of_dct_partitions` (1, 2, 4 or 8).
    pub fn num_dct_partitions(&self) -> u8 {
        1 << self.log2_nbr_of_dct_partitions
    }
}

/// Why a frame's headers were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("frame of {0} bytes is shorter than its frame tag ({1} bytes)")]
    ShortTag(usize, usize),
    #[error("first partition ends at byte {0}, past the frame's {1} bytes")]
    FirstPartition(usize, usize),
    #[error("DCT partition sizes end at byte {0}, past the frame's {1} bytes")]
    Partitions(usize, usize),
}

/// The persistent parser state (GStreamer's `GstVp8Parser`): segmentation,
/// loop filter deltas and the saved probabilities, reset on key frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parser {
    pub segmentation: Segmentation,
    pub mb_lf_adjust: MbLfAdjustments,
    coeff_probs: [u8; 1056],
    mv_probs: [u8; 38],
    y_mode_probs: [u8; 4],
    uv_mode_probs: [u8; 3],
}

impl Default for Parser {
    /// `gst_vp8_parser_init`.
    fn default() -> Self {
        Parser {
            segmentation: Segmentation::default(),
            mb_lf_adjust: MbLfAdjustments::default(),
            coeff_probs: probs::COEFF_DEFAULT_PROBS,
            mv_probs: probs::MV_DEFAULT_PROBS,
            y_mode_probs: probs::NK_Y_MODE_PROBS,
            uv_mode_probs: probs::NK_UV_MODE_PROBS,
        }
    }
}

impl Parser {
    /// Parses one whole frame's tag and first-partition header
    /// (`gst_vp8_parser_parse_frame_header`), updating the persistent state.
    /// A key frame's start code is not checked (GStreamer only warns).
    pub fn parse_frame(&mut self, data: &[u8]) -> Result<FrameHeader, ParseError> {
        let mut h = FrameHeader::default();
        if data.len() < 3 {
            return Err(ParseError::ShortTag(data.len(), 3));
        }
        let tag = u32::from(data[0]) | u32::from(data[1]) << 8 | u32::from(data[2]) << 16;
        h.key_frame = tag & 1 == 0;
        h.version = ((tag >> 1) & 7) as u8;
        h.show_frame = (tag >> 4) & 1 != 0;
        h.first_part_size = (tag >> 5) & 0x7ffff;
        if h.key_frame {
            if data.len() < 10 {
                return Err(ParseError::ShortTag(data.len(), 10));
            }
            let w = u16::from_le_bytes([data[6], data[7]]);
            let ht = u16::from_le_bytes([data[8], data[9]]);
            h.width = w & 0x3fff;
            h.horiz_scale_code = (w >> 14) as u8;
            h.height = ht & 0x3fff;
            h.vert_scale_code = (ht >> 14) as u8;
            *self = Parser::default();
            h.data_chunk_size = 10;
        } else {
            h.data_chunk_size = 3;
        }
        let first_end = h.data_chunk_size as usize + h.first_part_size as usize;
        if first_end > data.len() {
            return Err(ParseError::FirstPartition(first_end, data.len()));
        }
        let rest = &data[h.data_chunk_size as usize..];
        let mut bd = BoolDecoder::new(rest);
        self.parse_header(&mut bd, &mut h);
        h.header_size = bd.pos_bits();
        calc_partition_sizes(&mut h, rest)
            .map_err(|e| ParseError::Partitions(e + h.data_chunk_size as usize, data.len()))?;
        (h.rd_range, h.rd_value, h.rd_count) = bd.state();
        Ok(h)
    }

    /// RFC 6386 19.2 `frame_header()` after the tag, in GStreamer's order.
    fn parse_header(&mut self, bd: &mut BoolDecoder, h: &mut FrameHeader) {
        if h.key_frame {
            h.color_space = bd.flag();
            h.clamping_type = bd.flag();
        }
        // update_segmentation (9.3)
        let s = &mut self.segmentation;
        s.update_mb_segmentation_map = false;
        s.update_segment_feature_data = false;
        s.segmentation_enabled = bd.flag();
        if s.segmentation_enabled {
            s.update_mb_segmentation_map = bd.flag();
            s.update_segment_feature_data = bd.flag();
            if s.update_segment_feature_data {
                s.segment_feature_mode = bd.flag();
                for v in s.quantizer_update_value.iter_mut() {
                    *v = if bd.flag() { bd.sint(7) } else { 0 };
                }
                for v in s.lf_update_value.iter_mut() {
                    *v = if bd.flag() { bd.sint(6) } else { 0 };
                }
            }
            if s.update_mb_segmentation_map {
                for p in s.segment_prob.iter_mut() {
                    *p = if bd.flag() { bd.uint(8) } else { 255 };
                }
            }
        }
        h.filter_type = bd.flag();
        h.loop_filter_level = bd.uint(6);
        h.sharpness_level = bd.uint(3);
        // mb_lf_adjustments (9.6)
        let a = &mut self.mb_lf_adjust;
        a.mode_ref_lf_delta_update = false;
        a.loop_filter_adj_enable = bd.flag();
        if a.loop_filter_adj_enable {
            a.mode_ref_lf_delta_update = bd.flag();
            if a.mode_ref_lf_delta_update {
                for v in a
                    .ref_frame_delta
                    .iter_mut()
                    .chain(a.mb_mode_delta.iter_mut())
                {
                    if bd.flag() {
                        *v = bd.sint(6);
                    }
                }
            }
        }
        h.log2_nbr_of_dct_partitions = bd.uint(2);
        // quant_indices (9.6)
        let q = &mut h.quant;
        q.y_ac_qi = bd.uint(7);
        for v in [
            &mut q.y_dc_delta,
            &mut q.y2_dc_delta,
            &mut q.y2_ac_delta,
            &mut q.uv_dc_delta,
            &mut q.uv_ac_delta,
        ] {
            *v = if bd.flag() { bd.sint(4) } else { 0 };
        }
        if h.key_frame {
            h.refresh_entropy_probs = bd.flag();
            h.refresh_last = true;
            h.refresh_golden_frame = true;
            h.refresh_alternate_frame = true;
            h.y_mode_probs = probs::KF_Y_MODE_PROBS;
            h.uv_mode_probs = probs::KF_UV_MODE_PROBS;
        } else {
            h.refresh_golden_frame = bd.flag();
            h.refresh_alternate_frame = bd.flag();
            if !h.refresh_golden_frame {
                h.copy_buffer_to_golden = bd.uint(2);
            }
            if !h.refresh_alternate_frame {
                h.copy_buffer_to_alternate = bd.uint(2);
            }
            h.sign_bias_golden = bd.flag();
            h.sign_bias_alternate = bd.flag();
            h.refresh_entropy_probs = bd.flag();
            h.refresh_last = bd.flag();
            h.y_mode_probs = self.y_mode_probs;
            h.uv_mode_probs = self.uv_mode_probs;
        }
        h.coeff_probs = self.coeff_probs;
        h.mv_probs = self.mv_probs;
        // token_prob_update (13.4)
        for (p, &up) in h
            .coeff_probs
            .iter_mut()
            .zip(probs::COEFF_UPDATE_PROBS.iter())
        {
            if bd.read(up) {
                *p = bd.uint(8);
            }
        }
        h.mb_no_skip_coeff = bd.flag();
        if h.mb_no_skip_coeff {
            h.prob_skip_false = bd.uint(8);
        }
        if !h.key_frame {
            h.prob_intra = bd.uint(8);
            h.prob_last = bd.uint(8);
            h.prob_gf = bd.uint(8);
            if bd.flag() {
                for p in h.y_mode_probs.iter_mut() {
                    *p = bd.uint(8);
                }
            }
            if bd.flag() {
                for p in h.uv_mode_probs.iter_mut() {
                    *p = bd.uint(8);
                }
            }
            // mv_prob_update (17.2)
            for (p, &up) in h.mv_probs.iter_mut().zip(probs::MV_UPDATE_PROBS.iter()) {
                if bd.read(up) {
                    let v = bd.uint(7);
                    *p = if v != 0 { v << 1 } else { 1 };
                }
            }
        }
        if h.refresh_entropy_probs {
            self.coeff_probs = h.coeff_probs;
            self.mv_probs = h.mv_probs;
            if !h.key_frame {
                self.y_mode_probs = h.y_mode_probs;
                self.uv_mode_probs = h.uv_mode_probs;
            }
        }
    }
}

/// RFC 6386 9.5: the partition size table after the first partition; the
/// last partition is what remains. `data` starts after the frame tag.
/// Err: the offset (in `data`) the table or sizes reach.
fn calc_partition_sizes(h: &mut FrameHeader, data: &[u8]) -> Result<(), usize> {
    let n = h.num_dct_partitions() as usize;
    let mut size_at = h.first_part_size as usize;
    let mut ofs = size_at + 3 * (n - 1);
    if ofs > data.len() {
        return Err(ofs);
    }
    for i in 0..n - 1 {
        let s = u32::from(data[size_at])
            | u32::from(data[size_at + 1]) << 8
            | u32::from(data[size_at + 2]) << 16;
        size_at += 3;
        h.partition_size[i] = s;
        ofs += s as usize;
    }
    if ofs > data.len() {
        return Err(ofs);
    }
    h.partition_size[n - 1] = (data.len() - ofs) as u32;
    Ok(())
}
