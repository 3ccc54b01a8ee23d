//! VP9 bitstream syntax (VP9 Bitstream & Decoding Process Specification
//! v0.6, 2016-03-31): the superframe index (Annex B), the uncompressed
//! header (6.2), and the compressed header (6.3) with the boolean decoder of
//! 9.2. Pure syntax: no reference slots, no V4L2 controls.
//!
//! It lives in vreq-core because two crates read it: `vreq-codec`'s VP9
//! codec (every header field, from the container's frames) and `vreq-va`'s
//! VP9 mapping (the fields VA's `VADecPictureParameterBufferVP9` lacks, from
//! the frame the client passes as slice data).
//!
//! Our own parser rather than `cros-codecs` 0.0.6's `codec::vp9::parser`,
//! which was checked and found unfit for untrusted input and for the uAPI:
//! it panics on empty or short chunks and on superframe sizes that overrun
//! the chunk (`parse_superframe_hdr`, `Frame::as_ref`), reads segmentation
//! feature values as two's complement (`read_bits_signed`, wrong for the
//! unsigned REF_FRAME value and a subtract-overflow panic for the 0-bit SKIP
//! feature), and has no compressed header parser at all.
//!
//! The state carried between frames follows GStreamer 1.26.2's
//! `gstvp9statefulparser.c` (the oracle on visl) where it differs from a
//! literal reading of the spec, because the controls must match what
//! `v4l2slvp9dec` sends:
//! - `loop_filter_delta_update` keeps its last value when
//!   `loop_filter_delta_enabled` is 0 (it is only read when enabled);
//! - segmentation tree / prediction probabilities keep their last values when
//!   `segmentation_update_map` is 0; `segmentation_update_map`,
//!   `segmentation_temporal_update` and `segmentation_update_data` are 0 unless
//!   read; `feature_data` is 0 for a feature read as disabled;
//! - `setup_past_independence` (intra or error-resilient frames) also clears
//!   `ref_frame_sign_bias`, after it was read for an error-resilient inter frame;
//! - profile 0 intra-only frames: BT.601, studio swing, 4:2:0, 8 bit.
//!
//! Every read is bounds-checked: malformed input is an [`Err`] with a message,
//! never a panic; nothing is allocated from a size read from the stream.

/// Number of reference slots (`NUM_REF_FRAMES`).
pub const NUM_REF_FRAMES: usize = 8;
/// Largest number of frames a superframe index may list (Annex B.3).
pub const MAX_FRAMES_IN_SUPERFRAME: usize = 8;

/// `frame_type` value of a key frame (spec 7.2: `KEY_FRAME` = 0).
pub const KEY_FRAME: u8 = 0;

/// `color_space` value `CS_SRGB` (spec 7.2, "CS_RGB").
pub const CS_SRGB: u8 = 7;
/// `color_space` value `CS_UNKNOWN` (spec 7.2).
pub const CS_UNKNOWN: u8 = 0;
/// `color_space` value `CS_BT_601` (spec 7.2; libvpx `VPX_CS_BT_601`).
pub const CS_BT_601: u8 = 1;
/// `color_space` value `CS_BT_709` (spec 7.2).
pub const CS_BT_709: u8 = 2;
/// `color_space` value `CS_SMPTE_170` (spec 7.2).
pub const CS_SMPTE_170: u8 = 3;
/// `color_space` value `CS_SMPTE_240` (spec 7.2).
pub const CS_SMPTE_240: u8 = 4;
/// `color_space` value `CS_BT_2020` (spec 7.2).
pub const CS_BT_2020: u8 = 5;

/// `tx_mode` values (spec 7.3.1; same numbers as `V4L2_VP9_TX_MODE_*`).
pub const TX_MODE_ALLOW_32X32: u8 = 3;
pub const TX_MODE_SELECT: u8 = 4;

/// `interp_filter` value `SWITCHABLE` (spec 7.2.7 after the literal map; same
/// numbers as `V4L2_VP9_INTERP_FILTER_*`: EIGHTTAP 0, SMOOTH 1, SHARP 2,
/// BILINEAR 3, SWITCHABLE 4).
pub const SWITCHABLE: u8 = 4;

/// `reference_mode` values (spec 7.3.4; `V4L2_VP9_REFERENCE_MODE_*`).
pub const SINGLE_REFERENCE: u8 = 0;
pub const COMPOUND_REFERENCE: u8 = 1;
pub const REFERENCE_MODE_SELECT: u8 = 2;

/// Splits a chunk (one container packet) into its frames: the superframe index
/// of Annex B (marker byte `0b110xxxxx` last and first in the index) lists each
/// frame's size; without an index the chunk is one frame.
///
/// Returns `(offset, size)` pairs in bytes. The index bytes themselves are not
/// part of any frame. Errors: empty chunk, an index that does not fit, or frame
/// sizes that overrun the chunk or are 0. (GStreamer's
/// `gst_vp9_parser_parse_superframe_info` also takes the whole chunk as one
/// frame when the first index byte does not match the marker.)
pub fn split_superframe(chunk: &[u8]) -> Result<SuperframeFrames, String> {
    let Some(&last) = chunk.last() else {
        return Err("empty chunk".into());
    };
    let whole = SuperframeFrames::one(chunk.len());
    if last & 0xe0 != 0xc0 {
        return Ok(whole);
    }
    let bytes_per_framesize = ((last >> 3) & 3) as usize + 1;
    let frames = (last & 7) as usize + 1;
    let index_size = 2 + bytes_per_framesize * frames;
    if index_size > chunk.len() {
        // A frame whose last byte merely looks like a marker.
        return Ok(whole);
    }
    let index = &chunk[chunk.len() - index_size..];
    if index[0] != last {
        return Ok(whole);
    }
    let mut out = SuperframeFrames::default();
    let mut offset = 0usize;
    let data_len = chunk.len() - index_size;
    for i in 0..frames {
        let mut size = 0usize;
        for j in 0..bytes_per_framesize {
            size |= (index[1 + i * bytes_per_framesize + j] as usize) << (8 * j);
        }
        if size == 0 {
            return Err(format!("superframe index: frame {i} has size 0"));
        }
        if offset + size > data_len {
            return Err(format!(
                "superframe index: frame {i} ({size} bytes at {offset}) overruns the {data_len} bytes of frame data"
            ));
        }
        out.frames[out.len] = (offset, size);
        out.len += 1;
        offset += size;
    }
    Ok(out)
}

/// The frames of one chunk ([`split_superframe`]): up to 8 `(offset, size)`
/// pairs in bytes (Annex B: `frames_in_superframe_minus_1` is 3 bits), held
/// inline so that splitting allocates nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SuperframeFrames {
    frames: [(usize, usize); 8],
    len: usize,
}

impl SuperframeFrames {
    /// The whole chunk of `len` bytes as one frame.
    fn one(len: usize) -> Self {
        let mut f = SuperframeFrames::default();
        f.frames[0] = (0, len);
        f.len = 1;
        f
    }

    /// The `(offset, size)` pairs, in chunk order.
    pub fn as_slice(&self) -> &[(usize, usize)] {
        &self.frames[..self.len]
    }
}

impl IntoIterator for SuperframeFrames {
    type Item = (usize, usize);
    type IntoIter = std::iter::Take<std::array::IntoIter<(usize, usize), 8>>;

    fn into_iter(self) -> Self::IntoIter {
        self.frames.into_iter().take(self.len)
    }
}

/// MSB-first bit reader over one frame (spec 4.9 `f(n)`), bounds-checked.
/// Used by the uncompressed header; public for tests that write headers.
pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// A reader at the first bit (the MSB of `data[0]`).
    pub fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    /// Bits consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// `f(n)`, n ≤ 32: the next `n` bits as an unsigned number, MSB first.
    /// Errors: fewer than `n` bits left (the message names the frame size).
    pub fn f(&mut self, n: u32) -> Result<u32, String> {
        if self.pos + n as usize > self.data.len() * 8 {
            return Err(format!(
                "uncompressed header overruns the frame ({} bytes)",
                self.data.len()
            ));
        }
        let mut v = 0u32;
        for _ in 0..n {
            let byte = self.data[self.pos / 8];
            let bit = (byte >> (7 - (self.pos % 8))) & 1;
            v = (v << 1) | bit as u32;
            self.pos += 1;
        }
        Ok(v)
    }

    fn flag(&mut self) -> Result<bool, String> {
        Ok(self.f(1)? == 1)
    }

    /// `su(1+n)` as GStreamer reads it: magnitude then sign bit.
    fn signed(&mut self, n: u32) -> Result<i32, String> {
        let v = self.f(n)? as i32;
        Ok(if self.flag()? { -v } else { v })
    }
}

/// Loop filter parameters (spec 6.2.8 `loop_filter_params()`, semantics
/// 7.2.8), as carried between frames.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoopFilterParams {
    /// 0..=63.
    pub loop_filter_level: u8,
    /// 0..=7.
    pub loop_filter_sharpness: u8,
    pub loop_filter_delta_enabled: bool,
    pub loop_filter_delta_update: bool,
    /// Filter level adjustment per reference frame, indexed INTRA, LAST,
    /// GOLDEN, ALTREF; -63..=63 (`su(6)`); [1, 0, -1, -1] after
    /// `setup_past_independence`.
    pub loop_filter_ref_deltas: [i8; 4],
    /// Filter level adjustment per mode (ZEROMV, other inter modes), -63..=63.
    pub loop_filter_mode_deltas: [i8; 2],
}

/// Quantization parameters (spec 6.2.9 `quantization_params()`): the base
/// quantizer index (0..=255) and the `delta_q` adjustments of the Y DC, UV
/// DC and UV AC indices (-15..=15, `su(4)`; 0 when not coded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuantizationParams {
    pub base_q_idx: u8,
    pub delta_q_y_dc: i8,
    pub delta_q_uv_dc: i8,
    pub delta_q_uv_ac: i8,
}

impl LoopFilterParams {
    /// `v4l2_vp9_loop_filter` (uAPI "ext-ctrls-codec-stateless", part of
    /// `v4l2_ctrl_vp9_frame`) of these parameters: deltas, level,
    /// sharpness, `V4L2_VP9_LOOP_FILTER_FLAG_DELTA_ENABLED` / `_UPDATE`.
    pub fn to_v4l2(&self) -> v4l2r::bindings::v4l2_vp9_loop_filter {
        use v4l2r::bindings as b;
        let mut flags = 0;
        if self.loop_filter_delta_enabled {
            flags |= b::V4L2_VP9_LOOP_FILTER_FLAG_DELTA_ENABLED;
        }
        if self.loop_filter_delta_update {
            flags |= b::V4L2_VP9_LOOP_FILTER_FLAG_DELTA_UPDATE;
        }
        b::v4l2_vp9_loop_filter {
            ref_deltas: self.loop_filter_ref_deltas,
            mode_deltas: self.loop_filter_mode_deltas,
            level: self.loop_filter_level,
            sharpness: self.loop_filter_sharpness,
            flags: flags as u8,
            ..Default::default()
        }
    }
}

impl QuantizationParams {
    /// `v4l2_vp9_quantization` (part of `v4l2_ctrl_vp9_frame`) of these
    /// parameters.
    pub fn to_v4l2(&self) -> v4l2r::bindings::v4l2_vp9_quantization {
        v4l2r::bindings::v4l2_vp9_quantization {
            base_q_idx: self.base_q_idx,
            delta_q_y_dc: self.delta_q_y_dc,
            delta_q_uv_dc: self.delta_q_uv_dc,
            delta_q_uv_ac: self.delta_q_uv_ac,
            ..Default::default()
        }
    }
}

/// Segmentation parameters (spec 6.2.11 `segmentation_params()`), as
/// carried between frames (see the module docs for what is kept).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SegmentationParams {
    pub segmentation_enabled: bool,
    pub segmentation_update_map: bool,
    /// Probabilities (1..=255; 255 when not coded) of the segment-id tree.
    pub segmentation_tree_probs: [u8; 7],
    /// Probabilities (255 when not coded) of the predicted segment-id flag.
    pub segmentation_pred_prob: [u8; 3],
    pub segmentation_temporal_update: bool,
    pub segmentation_update_data: bool,
    pub segmentation_abs_or_delta_update: bool,
    /// `[segment][SEG_LVL_ALT_Q, SEG_LVL_ALT_L, SEG_LVL_REF_FRAME, SEG_LVL_SKIP]`.
    pub feature_enabled: [[bool; 4]; 8],
    /// Same indices: ALT_Q -255..=255 (`su(8)`), ALT_L -63..=63 (`su(6)`),
    /// REF_FRAME 0..=3 (`f(2)`), SKIP always 0 (no data).
    pub feature_data: [[i16; 4]; 8],
}

/// One frame's uncompressed header (spec 6.2), plus the fields the
/// compressed header decides (`tx_mode`, `reference_mode`) and its
/// probability deltas once [`parse_compressed_header`] ran.
#[derive(Debug, Clone, Default)]
pub struct FrameHeader {
    /// 0..=3.
    pub profile: u8,
    pub show_existing_frame: bool,
    pub frame_to_show_map_idx: u8,
    /// [`KEY_FRAME`] (0) or `NON_KEY_FRAME` (1).
    pub frame_type: u8,
    pub show_frame: bool,
    pub error_resilient_mode: bool,
    pub intra_only: bool,
    /// 0..=3 as coded (0 when error resilient).
    pub reset_frame_context: u8,
    /// 8, 10 or 12 (carried over from the last color config for inter frames).
    pub bit_depth: u8,
    pub color_space: u8,
    /// 1 = full swing.
    pub color_range: u8,
    pub subsampling_x: bool,
    pub subsampling_y: bool,
    /// Slots the decoded frame goes to (0xff for key frames).
    pub refresh_frame_flags: u8,
    /// LAST, GOLDEN, ALTREF slot indices (0 for intra frames).
    pub ref_frame_idx: [u8; 3],
    /// Indexed by reference frame: INTRA (always 0), LAST, GOLDEN, ALTREF.
    pub ref_frame_sign_bias: [bool; 4],
    /// Frame size in pixels.
    pub width: u32,
    pub height: u32,
    /// Render size in pixels (equal to the frame size unless coded).
    pub render_width: u32,
    pub render_height: u32,
    /// The size was copied from a reference (`found_ref`, 6.2.5).
    pub size_from_ref: bool,
    pub allow_high_precision_mv: bool,
    /// `V4L2_VP9_INTERP_FILTER_*` numbering (0 for intra frames).
    pub interpolation_filter: u8,
    pub refresh_frame_context: bool,
    pub frame_parallel_decoding_mode: bool,
    pub frame_context_idx: u8,
    pub lf: LoopFilterParams,
    pub quant: QuantizationParams,
    pub seg: SegmentationParams,
    pub tile_cols_log2: u8,
    pub tile_rows_log2: u8,
    /// Compressed header size in bytes (`header_size_in_bytes`).
    pub header_size_in_bytes: u16,
    /// Uncompressed header size in bytes, trailing bits included.
    pub uncompressed_header_size: u16,
    pub lossless: bool,
    /// From the compressed header (6.3.1); 0 before it is parsed.
    pub tx_mode: u8,
    /// From the compressed header (6.3.7); [`SINGLE_REFERENCE`] for intra frames.
    pub reference_mode: u8,
}

impl FrameHeader {
    /// `FrameIsIntra`: key frame or intra-only.
    pub fn is_intra(&self) -> bool {
        self.frame_type == KEY_FRAME || self.intra_only
    }
}

/// State the uncompressed header carries from frame to frame: the last color
/// config, loop filter and segmentation parameters, and the size of each
/// reference slot (for `frame_size_with_refs`).
#[derive(Debug, Clone, Default)]
pub struct ParserState {
    bit_depth: u8,
    color_space: u8,
    color_range: u8,
    subsampling_x: bool,
    subsampling_y: bool,
    sb64_cols: u32,
    lf: LoopFilterParams,
    seg: SegmentationParams,
    ref_size: [(u32, u32); NUM_REF_FRAMES],
}

impl ParserState {
    /// Parses the uncompressed header of `frame` (spec 6.2). On success the
    /// carried state is updated (reference slot sizes included); on error it is
    /// left as it was.
    pub fn parse_uncompressed_header(&mut self, frame: &[u8]) -> Result<FrameHeader, String> {
        let mut next = self.clone();
        let hdr = next.parse(frame)?;
        *self = next;
        Ok(hdr)
    }

    fn parse(&mut self, frame: &[u8]) -> Result<FrameHeader, String> {
        let mut r = BitReader::new(frame);
        let mut h = FrameHeader::default();
        let frame_marker = r.f(2)?;
        if frame_marker != 2 {
            return Err(format!("frame_marker is {frame_marker}, not 2"));
        }
        let low = r.f(1)?;
        let high = r.f(1)?;
        h.profile = ((high << 1) | low) as u8;
        if h.profile == 3 {
            r.f(1)?; // reserved_zero
        }
        h.show_existing_frame = r.flag()?;
        if h.show_existing_frame {
            h.frame_to_show_map_idx = r.f(3)? as u8;
            h.uncompressed_header_size = r.position().div_ceil(8) as u16;
            return Ok(h);
        }
        h.frame_type = r.f(1)? as u8;
        h.show_frame = r.flag()?;
        h.error_resilient_mode = r.flag()?;
        let frame_is_intra;
        if h.frame_type == KEY_FRAME {
            frame_sync_code(&mut r)?;
            self.color_config(&mut r, &mut h)?;
            self.frame_size(&mut r, &mut h)?;
            render_size(&mut r, &mut h)?;
            h.refresh_frame_flags = 0xff;
            frame_is_intra = true;
        } else {
            if !h.show_frame {
                h.intra_only = r.flag()?;
            }
            frame_is_intra = h.intra_only;
            if !h.error_resilient_mode {
                h.reset_frame_context = r.f(2)? as u8;
            }
            if h.intra_only {
                frame_sync_code(&mut r)?;
                if h.profile > 0 {
                    self.color_config(&mut r, &mut h)?;
                } else {
                    h.color_space = CS_BT_601;
                    h.color_range = 0;
                    h.subsampling_x = true;
                    h.subsampling_y = true;
                    h.bit_depth = 8;
                    self.color_space = h.color_space;
                    self.color_range = h.color_range;
                    self.subsampling_x = true;
                    self.subsampling_y = true;
                    self.bit_depth = 8;
                }
                h.refresh_frame_flags = r.f(8)? as u8;
                self.frame_size(&mut r, &mut h)?;
                render_size(&mut r, &mut h)?;
            } else {
                h.color_space = self.color_space;
                h.color_range = self.color_range;
                h.subsampling_x = self.subsampling_x;
                h.subsampling_y = self.subsampling_y;
                h.bit_depth = self.bit_depth;
                if h.bit_depth == 0 {
                    return Err("inter frame before any key frame".into());
                }
                h.refresh_frame_flags = r.f(8)? as u8;
                for i in 0..3 {
                    h.ref_frame_idx[i] = r.f(3)? as u8;
                    h.ref_frame_sign_bias[1 + i] = r.flag()?;
                }
                // frame_size_with_refs (6.2.5)
                for i in 0..3 {
                    if r.flag()? {
                        let (w, hh) = self.ref_size[h.ref_frame_idx[i] as usize];
                        if w == 0 || hh == 0 {
                            return Err(format!(
                                "size copied from reference slot {} which holds no frame",
                                h.ref_frame_idx[i]
                            ));
                        }
                        h.width = w;
                        h.height = hh;
                        h.size_from_ref = true;
                        break;
                    }
                }
                if h.size_from_ref {
                    self.compute_image_size(h.width);
                } else {
                    self.frame_size(&mut r, &mut h)?;
                }
                render_size(&mut r, &mut h)?;
                h.allow_high_precision_mv = r.flag()?;
                // read_interpolation_filter (6.2.7)
                h.interpolation_filter = if r.flag()? {
                    SWITCHABLE
                } else {
                    const LITERAL_TO_TYPE: [u8; 4] = [1, 0, 2, 3];
                    LITERAL_TO_TYPE[r.f(2)? as usize]
                };
            }
        }
        if !h.error_resilient_mode {
            h.refresh_frame_context = r.flag()?;
            h.frame_parallel_decoding_mode = r.flag()?;
        } else {
            h.refresh_frame_context = false;
            h.frame_parallel_decoding_mode = true;
        }
        h.frame_context_idx = r.f(2)? as u8;
        if frame_is_intra || h.error_resilient_mode {
            self.setup_past_independence(&mut h);
        }
        self.loop_filter_params(&mut r)?;
        quantization_params(&mut r, &mut h)?;
        self.segmentation_params(&mut r)?;
        self.tile_info(&mut r, &mut h)?;
        h.header_size_in_bytes = r.f(16)? as u16;
        if h.header_size_in_bytes == 0 {
            return Err("header_size_in_bytes is 0".into());
        }
        h.lf = self.lf;
        h.seg = self.seg;
        for i in 0..NUM_REF_FRAMES {
            if h.refresh_frame_flags & (1 << i) != 0 {
                self.ref_size[i] = (h.width, h.height);
            }
        }
        h.uncompressed_header_size = r.position().div_ceil(8) as u16;
        if h.uncompressed_header_size as usize + h.header_size_in_bytes as usize > frame.len() {
            return Err(format!(
                "headers ({} + {} bytes) overrun the {}-byte frame",
                h.uncompressed_header_size,
                h.header_size_in_bytes,
                frame.len()
            ));
        }
        Ok(h)
    }

    /// color_config (6.2.2), with GStreamer's refusals (4:4:4 in profile 0/2,
    /// 4:2:0 in profile 1/3).
    fn color_config(&mut self, r: &mut BitReader, h: &mut FrameHeader) -> Result<(), String> {
        h.bit_depth = if h.profile >= 2 {
            if r.flag()? {
                12
            } else {
                10
            }
        } else {
            8
        };
        h.color_space = r.f(3)? as u8;
        if h.color_space != CS_SRGB {
            h.color_range = r.f(1)? as u8;
            if h.profile == 1 || h.profile == 3 {
                h.subsampling_x = r.flag()?;
                h.subsampling_y = r.flag()?;
                if h.subsampling_x && h.subsampling_y {
                    return Err("4:2:0 subsampling in profile 1 or 3".into());
                }
                r.f(1)?; // reserved_zero
            } else {
                h.subsampling_x = true;
                h.subsampling_y = true;
            }
        } else {
            h.color_range = 1;
            if h.profile == 1 || h.profile == 3 {
                r.f(1)?; // reserved_zero
            } else {
                return Err("sRGB (4:4:4) in profile 0 or 2".into());
            }
        }
        self.bit_depth = h.bit_depth;
        self.color_space = h.color_space;
        self.color_range = h.color_range;
        self.subsampling_x = h.subsampling_x;
        self.subsampling_y = h.subsampling_y;
        Ok(())
    }

    /// `compute_image_size` (6.2.6): only `Sb64Cols` is needed (tile info).
    fn compute_image_size(&mut self, width: u32) {
        let mi_cols = (width + 7) >> 3;
        self.sb64_cols = (mi_cols + 7) >> 3;
    }

    fn frame_size(&mut self, r: &mut BitReader, h: &mut FrameHeader) -> Result<(), String> {
        h.width = r.f(16)? + 1;
        h.height = r.f(16)? + 1;
        self.compute_image_size(h.width);
        Ok(())
    }

    fn setup_past_independence(&mut self, h: &mut FrameHeader) {
        self.seg.feature_enabled = Default::default();
        self.seg.feature_data = Default::default();
        self.seg.segmentation_abs_or_delta_update = false;
        self.lf.loop_filter_delta_enabled = true;
        self.lf.loop_filter_ref_deltas = [1, 0, -1, -1];
        self.lf.loop_filter_mode_deltas = [0, 0];
        h.ref_frame_sign_bias = [false; 4];
    }

    fn loop_filter_params(&mut self, r: &mut BitReader) -> Result<(), String> {
        let lf = &mut self.lf;
        lf.loop_filter_level = r.f(6)? as u8;
        lf.loop_filter_sharpness = r.f(3)? as u8;
        lf.loop_filter_delta_enabled = r.flag()?;
        if lf.loop_filter_delta_enabled {
            lf.loop_filter_delta_update = r.flag()?;
            if lf.loop_filter_delta_update {
                for i in 0..4 {
                    if r.flag()? {
                        lf.loop_filter_ref_deltas[i] = r.signed(6)? as i8;
                    }
                }
                for i in 0..2 {
                    if r.flag()? {
                        lf.loop_filter_mode_deltas[i] = r.signed(6)? as i8;
                    }
                }
            }
        }
        Ok(())
    }

    fn segmentation_params(&mut self, r: &mut BitReader) -> Result<(), String> {
        let s = &mut self.seg;
        s.segmentation_update_map = false;
        s.segmentation_update_data = false;
        s.segmentation_temporal_update = false;
        s.segmentation_enabled = r.flag()?;
        if !s.segmentation_enabled {
            return Ok(());
        }
        s.segmentation_update_map = r.flag()?;
        if s.segmentation_update_map {
            for i in 0..7 {
                s.segmentation_tree_probs[i] = read_prob(r)?;
            }
            s.segmentation_temporal_update = r.flag()?;
            for i in 0..3 {
                s.segmentation_pred_prob[i] = if s.segmentation_temporal_update {
                    read_prob(r)?
                } else {
                    255
                };
            }
        }
        s.segmentation_update_data = r.flag()?;
        if s.segmentation_update_data {
            s.segmentation_abs_or_delta_update = r.flag()?;
            const BITS: [u32; 4] = [8, 6, 2, 0];
            const SIGNED: [bool; 4] = [true, true, false, false];
            for i in 0..8 {
                for j in 0..4 {
                    let enabled = r.flag()?;
                    s.feature_enabled[i][j] = enabled;
                    if j == 3 {
                        continue; // SEG_LVL_SKIP: no data (GStreamer leaves feature_data)
                    }
                    s.feature_data[i][j] = if !enabled {
                        0
                    } else if SIGNED[j] {
                        r.signed(BITS[j])? as i16
                    } else {
                        r.f(BITS[j])? as i16
                    };
                }
            }
        }
        Ok(())
    }

    fn tile_info(&mut self, r: &mut BitReader, h: &mut FrameHeader) -> Result<(), String> {
        let sb64_cols = self.sb64_cols;
        let mut min_log2 = 0u32;
        while (64u32 << min_log2) < sb64_cols {
            min_log2 += 1;
        }
        let mut max_log2 = 1u32;
        while (sb64_cols >> max_log2) >= 4 {
            max_log2 += 1;
        }
        max_log2 -= 1;
        let mut cols = min_log2;
        while cols < max_log2 {
            if r.flag()? {
                cols += 1;
            } else {
                break;
            }
        }
        if cols > 6 {
            return Err(format!("tile_cols_log2 {cols} > 6"));
        }
        h.tile_cols_log2 = cols as u8;
        h.tile_rows_log2 = r.f(1)? as u8;
        if h.tile_rows_log2 != 0 {
            h.tile_rows_log2 += r.f(1)? as u8;
        }
        Ok(())
    }
}

fn frame_sync_code(r: &mut BitReader) -> Result<(), String> {
    let code = r.f(24)?;
    if code != 0x49_83_42 {
        return Err(format!("frame_sync_code is {code:#08x}, not 0x498342"));
    }
    Ok(())
}

fn render_size(r: &mut BitReader, h: &mut FrameHeader) -> Result<(), String> {
    if r.flag()? {
        h.render_width = r.f(16)? + 1;
        h.render_height = r.f(16)? + 1;
    } else {
        h.render_width = h.width;
        h.render_height = h.height;
    }
    Ok(())
}

fn quantization_params(r: &mut BitReader, h: &mut FrameHeader) -> Result<(), String> {
    let q = &mut h.quant;
    q.base_q_idx = r.f(8)? as u8;
    let delta_q = |r: &mut BitReader| -> Result<i8, String> {
        Ok(if r.flag()? { r.signed(4)? as i8 } else { 0 })
    };
    q.delta_q_y_dc = delta_q(r)?;
    q.delta_q_uv_dc = delta_q(r)?;
    q.delta_q_uv_ac = delta_q(r)?;
    h.lossless =
        q.base_q_idx == 0 && q.delta_q_y_dc == 0 && q.delta_q_uv_dc == 0 && q.delta_q_uv_ac == 0;
    Ok(())
}

fn read_prob(r: &mut BitReader) -> Result<u8, String> {
    Ok(if r.flag()? { r.f(8)? as u8 } else { 255 })
}

/// Coefficient probability deltas (`read_coef_probs`, 6.3.7), indexed
/// `[tx_size][plane>0][is_inter][band][ctx][node]` (ctx < 3 for band 0), the
/// shape of `v4l2_ctrl_vp9_compressed_hdr.coef`.
pub type CoefProbs = [[[[[[u8; 3]; 6]; 6]; 2]; 2]; 4];

/// The probability deltas of one compressed header, shaped as
/// `v4l2_ctrl_vp9_compressed_hdr` (uAPI "ext-ctrls-codec-stateless"): each
/// entry is 0 when not updated, else `inv_map_table[decode_term_subexp()]`
/// (the value `inv_remap_prob` of spec 6.3.5 / 8.4.2 starts from); MV entries
/// are the new probability `(mv_prob << 1) | 1` (6.3.17), 0 when not updated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompressedHeader {
    pub tx_mode: u8,
    pub tx8: [[u8; 1]; 2],
    pub tx16: [[u8; 2]; 2],
    pub tx32: [[u8; 3]; 2],
    pub coef: CoefProbs,
    pub skip: [u8; 3],
    pub inter_mode: [[u8; 3]; 7],
    pub interp_filter: [[u8; 2]; 4],
    pub is_inter: [u8; 4],
    pub comp_mode: [u8; 5],
    pub single_ref: [[u8; 2]; 5],
    pub comp_ref: [u8; 5],
    pub y_mode: [[u8; 9]; 4],
    pub partition: [[u8; 3]; 16],
    pub reference_mode: u8,
    pub mv_joint: [u8; 3],
    pub mv_sign: [u8; 2],
    pub mv_classes: [[u8; 10]; 2],
    pub mv_class0_bit: [u8; 2],
    pub mv_bits: [[u8; 10]; 2],
    pub mv_class0_fr: [[[u8; 3]; 2]; 2],
    pub mv_fr: [[u8; 3]; 2],
    pub mv_class0_hp: [u8; 2],
    pub mv_hp: [u8; 2],
}

/// The spec's `inv_map_table` (6.3.5): 7, 20, ..., 254, then 1..=253 without
/// the values ≡ 7 (mod 13), then 253 again.
fn inv_map_table(i: usize) -> u8 {
    if i < 20 {
        return (7 + 13 * i) as u8;
    }
    let mut k = 20;
    for v in 1..=253u32 {
        if v % 13 == 7 {
            continue;
        }
        if k == i {
            return v as u8;
        }
        k += 1;
    }
    253
}

/// The boolean decoder of spec 9.2, windowed as GStreamer's
/// `Vp9BoolDecoder` (64-bit value, refilled from the frame only while whole
/// refills fit in `header_size_in_bytes`), so the end-of-header padding check
/// sees the same bits.
struct BoolDecoder<'a> {
    data: &'a [u8],
    /// Next unread bit in `data`.
    pos: usize,
    value: u64,
    range: u32,
    bits_left: u32,
    count_to_fill: i32,
    out_of_bits: bool,
}

impl<'a> BoolDecoder<'a> {
    /// `init_bool(sz)` over `data` (exactly the compressed header's bytes).
    fn new(data: &'a [u8]) -> Result<Self, String> {
        if data.is_empty() {
            return Err("compressed header is empty".into());
        }
        let mut bd = BoolDecoder {
            data,
            pos: 0,
            value: 0,
            range: 255,
            bits_left: 8 * data.len() as u32,
            count_to_fill: 8,
            out_of_bits: false,
        };
        if bd.literal(1) != 0 {
            return Err("compressed header: bool decoder marker bit is 1".into());
        }
        Ok(bd)
    }

    fn read_bits(&mut self, n: u32) -> u64 {
        let mut v = 0u64;
        for _ in 0..n {
            let bit = self
                .data
                .get(self.pos / 8)
                .map_or(0, |b| (b >> (7 - self.pos % 8)) & 1);
            v = (v << 1) | bit as u64;
            self.pos += 1;
        }
        v
    }

    fn fill(&mut self) {
        if self.bits_left < self.count_to_fill as u32 {
            self.out_of_bits = true;
            return;
        }
        let max_bits = 8 * 7 + self.count_to_fill as u32;
        let n = max_bits.min(self.bits_left);
        let data = self.read_bits(n);
        self.value |= data << (max_bits - n);
        self.count_to_fill -= n as i32;
        self.bits_left -= n;
    }

    fn bool(&mut self, probability: u8) -> bool {
        if self.count_to_fill > 0 {
            self.fill();
        }
        let split = 1 + (((self.range - 1) * probability as u32) >> 8);
        let big_split = (split as u64) << 56;
        let bit = if self.value < big_split {
            self.range = split;
            false
        } else {
            self.range -= split;
            self.value -= big_split;
            true
        };
        let shift = self.range.leading_zeros().saturating_sub(24);
        self.range <<= shift;
        self.value <<= shift;
        self.count_to_fill += shift as i32;
        bit
    }

    /// `L(n)`; stops early (GStreamer) once the data ran out.
    fn literal(&mut self, n: u32) -> u32 {
        let mut v = 0u32;
        let mut i = 0;
        while !self.out_of_bits && i < n {
            v = 2 * v + self.bool(128) as u32;
            i += 1;
        }
        v
    }

    /// `exit_bool`: the bits never loaded into the window must be zero.
    fn exit(&mut self) -> Result<(), String> {
        let mut bits = self.bits_left as u8;
        while bits > 0 {
            let n = bits.min(8);
            let padding = self.read_bits(n as u32) as u8;
            if padding != 0 {
                return Err(format!(
                    "compressed header: nonzero padding after {} bits",
                    self.pos
                ));
            }
            bits -= n;
        }
        Ok(())
    }

    /// `diff_update_prob` (6.3.5) returning the delta as the uAPI wants it.
    fn diff_update_prob(&mut self) -> u8 {
        if !self.bool(252) {
            return 0;
        }
        let delta = if self.literal(1) == 0 {
            self.literal(4)
        } else if self.literal(1) == 0 {
            self.literal(4) + 16
        } else if self.literal(1) == 0 {
            self.literal(5) + 32
        } else {
            let v = self.literal(7);
            if v < 65 {
                v + 64
            } else {
                (v << 1) - 1 + self.literal(1)
            }
        };
        inv_map_table(delta.min(254) as usize)
    }

    /// `update_mv_prob` (6.3.17).
    fn mv_prob(&mut self) -> u8 {
        if self.bool(252) {
            ((self.literal(7) << 1) | 1) as u8
        } else {
            0
        }
    }
}

/// Parses the compressed header (spec 6.3) that follows the uncompressed
/// header in `frame`, and sets `hdr.tx_mode` / `hdr.reference_mode`.
/// Errors: header past the frame end, marker bit set, nonzero padding.
pub fn parse_compressed_header(
    frame: &[u8],
    hdr: &mut FrameHeader,
) -> Result<CompressedHeader, String> {
    let start = hdr.uncompressed_header_size as usize;
    let end = start + hdr.header_size_in_bytes as usize;
    let data = frame
        .get(start..end)
        .ok_or_else(|| format!("compressed header ({start}..{end}) overruns the frame"))?;
    let mut bd = BoolDecoder::new(data)?;
    let mut c = CompressedHeader::default();
    c.read_tx_mode(&mut bd, hdr.lossless);
    if c.tx_mode == TX_MODE_SELECT {
        c.tx_mode_probs(&mut bd);
    }
    c.read_coef_probs(&mut bd);
    for i in 0..3 {
        c.skip[i] = bd.diff_update_prob();
    }
    if !hdr.is_intra() {
        for i in 0..7 {
            for j in 0..3 {
                c.inter_mode[i][j] = bd.diff_update_prob();
            }
        }
        if hdr.interpolation_filter == SWITCHABLE {
            for i in 0..4 {
                for j in 0..2 {
                    c.interp_filter[i][j] = bd.diff_update_prob();
                }
            }
        }
        for i in 0..4 {
            c.is_inter[i] = bd.diff_update_prob();
        }
        c.frame_reference_mode(&mut bd, &hdr.ref_frame_sign_bias);
        c.frame_reference_mode_probs(&mut bd);
        for i in 0..4 {
            for j in 0..9 {
                c.y_mode[i][j] = bd.diff_update_prob();
            }
        }
        for i in 0..16 {
            for j in 0..3 {
                c.partition[i][j] = bd.diff_update_prob();
            }
        }
        c.mv_probs(&mut bd, hdr.allow_high_precision_mv);
    }
    bd.exit()?;
    hdr.tx_mode = c.tx_mode;
    hdr.reference_mode = c.reference_mode;
    Ok(c)
}

/// The syntax structures of `compressed_header()` (spec 6.3), each reading
/// into the matching [`CompressedHeader`] fields.
impl CompressedHeader {
    /// `v4l2_ctrl_vp9_compressed_hdr` (uAPI "ext-ctrls-codec-stateless",
    /// `V4L2_CID_STATELESS_VP9_COMPRESSED_HDR`) from these deltas, as
    /// GStreamer's `fill_prob_updates` fills it; `uv_mode` is not in the VP9
    /// compressed header (6.3) and stays 0. The player's VP9 codec and the VA
    /// driver's VP9 mapping both send it.
    pub fn to_v4l2(&self) -> v4l2r::bindings::v4l2_ctrl_vp9_compressed_hdr {
        let c = self;
        v4l2r::bindings::v4l2_ctrl_vp9_compressed_hdr {
            tx_mode: c.tx_mode,
            tx8: c.tx8,
            tx16: c.tx16,
            tx32: c.tx32,
            coef: c.coef,
            skip: c.skip,
            inter_mode: c.inter_mode,
            interp_filter: c.interp_filter,
            is_inter: c.is_inter,
            comp_mode: c.comp_mode,
            single_ref: c.single_ref,
            comp_ref: c.comp_ref,
            y_mode: c.y_mode,
            partition: c.partition,
            mv: v4l2r::bindings::v4l2_vp9_mv_probs {
                joint: c.mv_joint,
                sign: c.mv_sign,
                classes: c.mv_classes,
                class0_bit: c.mv_class0_bit,
                bits: c.mv_bits,
                class0_fr: c.mv_class0_fr,
                fr: c.mv_fr,
                class0_hp: c.mv_class0_hp,
                hp: c.mv_hp,
            },
            ..Default::default()
        }
    }
    /// `read_tx_mode` (6.3.1): ONLY_4X4 when lossless.
    fn read_tx_mode(&mut self, bd: &mut BoolDecoder, lossless: bool) {
        self.tx_mode = if lossless {
            0
        } else {
            let mut m = bd.literal(2) as u8;
            if m == TX_MODE_ALLOW_32X32 {
                m += bd.literal(1) as u8;
            }
            m
        };
    }

    /// `tx_mode_probs` (6.3.2), with TX_MODE_SELECT.
    fn tx_mode_probs(&mut self, bd: &mut BoolDecoder) {
        for i in 0..2 {
            self.tx8[i][0] = bd.diff_update_prob();
        }
        for i in 0..2 {
            for j in 0..2 {
                self.tx16[i][j] = bd.diff_update_prob();
            }
        }
        for i in 0..2 {
            for j in 0..3 {
                self.tx32[i][j] = bd.diff_update_prob();
            }
        }
    }

    /// `read_coef_probs` (6.3.7): for each transform size up to the
    /// largest `tx_mode` allows, an update flag, then every coefficient
    /// probability of that size.
    fn read_coef_probs(&mut self, bd: &mut BoolDecoder) {
        let max_tx_size = [0usize, 1, 2, 3, 3][self.tx_mode.min(4) as usize];
        for tx_size in 0..=max_tx_size {
            if bd.literal(1) == 1 {
                for i in 0..2 {
                    for j in 0..2 {
                        for k in 0..6 {
                            let max_l = if k == 0 { 3 } else { 6 };
                            for l in 0..max_l {
                                for m in 0..3 {
                                    self.coef[tx_size][i][j][k][l][m] = bd.diff_update_prob();
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `frame_reference_mode` (6.3.12): compound prediction is allowed
    /// when the reference frames' sign biases (`ref_frame_sign_bias`,
    /// indexed LAST_FRAME = 1 .. ALTREF_FRAME = 3) differ.
    fn frame_reference_mode(&mut self, bd: &mut BoolDecoder, ref_frame_sign_bias: &[bool; 4]) {
        let s = ref_frame_sign_bias;
        let compound_allowed = s[2] != s[1] || s[3] != s[1];
        self.reference_mode = if compound_allowed && bd.literal(1) == 1 {
            if bd.literal(1) == 1 {
                REFERENCE_MODE_SELECT
            } else {
                COMPOUND_REFERENCE
            }
        } else {
            SINGLE_REFERENCE
        };
    }

    /// `frame_reference_mode_probs` (6.3.13).
    fn frame_reference_mode_probs(&mut self, bd: &mut BoolDecoder) {
        if self.reference_mode == REFERENCE_MODE_SELECT {
            for i in 0..5 {
                self.comp_mode[i] = bd.diff_update_prob();
            }
        }
        if self.reference_mode != COMPOUND_REFERENCE {
            for i in 0..5 {
                self.single_ref[i][0] = bd.diff_update_prob();
                self.single_ref[i][1] = bd.diff_update_prob();
            }
        }
        if self.reference_mode != SINGLE_REFERENCE {
            for i in 0..5 {
                self.comp_ref[i] = bd.diff_update_prob();
            }
        }
    }

    /// `mv_probs` (6.3.16); the high-precision bits only with
    /// `allow_high_precision_mv`.
    fn mv_probs(&mut self, bd: &mut BoolDecoder, allow_high_precision_mv: bool) {
        for j in 0..3 {
            self.mv_joint[j] = bd.mv_prob();
        }
        for i in 0..2 {
            self.mv_sign[i] = bd.mv_prob();
            for j in 0..10 {
                self.mv_classes[i][j] = bd.mv_prob();
            }
            self.mv_class0_bit[i] = bd.mv_prob();
            for j in 0..10 {
                self.mv_bits[i][j] = bd.mv_prob();
            }
        }
        for i in 0..2 {
            for j in 0..2 {
                for k in 0..3 {
                    self.mv_class0_fr[i][j][k] = bd.mv_prob();
                }
            }
            for k in 0..3 {
                self.mv_fr[i][k] = bd.mv_prob();
            }
        }
        if allow_high_precision_mv {
            for i in 0..2 {
                self.mv_class0_hp[i] = bd.mv_prob();
                self.mv_hp[i] = bd.mv_prob();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inv_map_table_matches_spec_entries() {
        // spec 6.3.5 table: first, 20th, 21st.., last entries
        assert_eq!(inv_map_table(0), 7);
        assert_eq!(inv_map_table(19), 254);
        assert_eq!(inv_map_table(20), 1);
        assert_eq!(inv_map_table(25), 6);
        assert_eq!(inv_map_table(26), 8);
        assert_eq!(inv_map_table(253), 253);
        assert_eq!(inv_map_table(254), 253);
        assert_eq!(inv_map_table(252), 252);
    }

    #[test]
    fn superframe_index() {
        // two frames of 3 and 2 bytes, 1 byte per size: marker 0b110_00_001
        let chunk = [1, 2, 3, 4, 5, 0xc1, 3, 2, 0xc1];
        assert_eq!(
            split_superframe(&chunk).unwrap().as_slice(),
            [(0, 3), (3, 2)]
        );
        // mismatched first index byte: one frame
        let chunk = [1, 2, 3, 4, 5, 0xc0, 3, 2, 0xc1];
        assert_eq!(split_superframe(&chunk).unwrap().as_slice(), [(0, 9)]);
        // sizes past the data: an error, not a panic
        let chunk = [1, 0xc1, 9, 9, 0xc1];
        assert!(split_superframe(&chunk).is_err());
        assert!(split_superframe(&[]).is_err());
        assert_eq!(split_superframe(&[0xc7]).unwrap().as_slice(), [(0, 1)]);
    }
}
