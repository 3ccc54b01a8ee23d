//! H.265 syntax: NAL unit framing (shared with H.264: Annex B start codes and
//! ISO/IEC 14496-15 length prefixes), the NAL unit header (7.3.1.2), and what
//! the `cros-codecs` 0.0.6 parser ([`cros_codecs::codec::h265::parser`]) lacks:
//!
//! - `long_term_ref_pic_set_size` (bits of the slice header's long-term part,
//!   as GStreamer's `gsth265parser.c` counts them): cros-codecs only counts
//!   `st_rps_bits`;
//! - the raw `st_ref_pic_set()` syntax of the SPS (`used_by_curr_pic_flag[j]`,
//!   `use_delta_flag[j]`, `delta_poc_s*_minus1[i]`), which cros-codecs folds
//!   into derived values but the RK3588 `EXT_SPS_ST_RPS` control wants;
//! - a guard around `parse_slice_header`: cros-codecs indexes
//!   `entry_point_offset_minus1[32]` with `num_entry_point_offsets` (up to
//!   `PicHeightInCtbsY * columns`), which panics on >32 entry points; such
//!   slices are refused here before the call.

use std::borrow::Cow;
use std::rc::Rc;

use cros_codecs::codec::h265::parser::{
    Nalu, NaluHeader, NaluType, Parser, Slice, SliceHeader, Sps,
};

pub use crate::codec::h264::parser::{rbsp, split_annexb, split_length_prefixed, NalRef};

/// `nal_unit_type` of an H.265 NAL unit (7.3.1.2), 0xff if the unit is shorter
/// than its 2-byte header.
pub fn nal_unit_type(nal: &[u8]) -> u8 {
    if nal.len() < 2 {
        return 0xff;
    }
    (nal[0] >> 1) & 0x3f
}

/// `nuh_temporal_id_plus1` (7.3.1.2).
pub fn temporal_id_plus1(nal: &[u8]) -> u8 {
    nal.get(1).map(|b| b & 7).unwrap_or(0)
}

/// VCL NAL unit types 0..=9 and 16..=21 (Table 7-1), the ones that carry a slice segment.
pub fn is_slice(t: u8) -> bool {
    t <= 9 || (16..=21).contains(&t)
}
/// IRAP: BLA, IDR, CRA (16..=23).
pub fn is_irap(t: u8) -> bool {
    (16..=23).contains(&t)
}
/// IDR_W_RADL / IDR_N_LP.
pub fn is_idr(t: u8) -> bool {
    t == 19 || t == 20
}
/// BLA_W_LP / BLA_W_RADL / BLA_N_LP.
pub fn is_bla(t: u8) -> bool {
    (16..=18).contains(&t)
}
/// CRA_NUT.
pub fn is_cra(t: u8) -> bool {
    t == 21
}
/// RASL_N / RASL_R.
pub fn is_rasl(t: u8) -> bool {
    t == 8 || t == 9
}
/// RADL_N / RADL_R.
pub fn is_radl(t: u8) -> bool {
    t == 6 || t == 7
}
/// Sub-layer non-reference pictures (even types below 16 up to RSV_VCL_N14),
/// as GStreamer's `nal_is_ref` in `gsth265decoder.c`.
pub fn is_sub_layer_non_ref(t: u8) -> bool {
    t <= 14 && t % 2 == 0
}

/// Wraps a NAL unit for the cros-codecs parser. `None` for a unit shorter
/// than its header or with a NAL unit type cros-codecs does not know.
pub fn cros_nalu<'a>(nal: &NalRef<'a>) -> Option<Nalu<'a>> {
    if nal.data.len() < 2 {
        return None;
    }
    let type_ = NaluType::try_from(u32::from(nal_unit_type(nal.data))).ok()?;
    let header = NaluHeader {
        type_,
        nuh_layer_id: ((nal.data[0] & 1) << 5) | (nal.data[1] >> 3),
        nuh_temporal_id_plus1: temporal_id_plus1(nal.data),
    };
    Some(Nalu {
        header,
        data: Cow::Borrowed(nal.data),
        size: nal.data.len(),
        offset: 0,
    })
}

/// Minimal MSB-first bit reader over RBSP bytes (emulation prevention removed).
pub struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bits<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bits { data, pos: 0 }
    }
    /// Bits read so far.
    pub fn pos(&self) -> usize {
        self.pos
    }
    pub fn bit(&mut self) -> Result<bool, String> {
        let byte = *self
            .data
            .get(self.pos / 8)
            .ok_or_else(|| "out of bits".to_string())?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Ok(b == 1)
    }
    pub fn bits(&mut self, n: usize) -> Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..n.min(32) {
            v = (v << 1) | self.bit()? as u32;
        }
        Ok(v)
    }
    pub fn skip(&mut self, n: usize) -> Result<(), String> {
        if self.pos + n > self.data.len() * 8 {
            return Err("out of bits".into());
        }
        self.pos += n;
        Ok(())
    }
    /// ue(v) (9.2), at most 32 leading zeros.
    pub fn ue(&mut self) -> Result<u32, String> {
        let mut zeros = 0;
        while !self.bit()? {
            zeros += 1;
            if zeros > 31 {
                return Err("ue(v) too long".into());
            }
        }
        let v = self.bits(zeros)? as u64;
        Ok(((1u64 << zeros) - 1 + v) as u32)
    }
    /// se(v) (9.2.2).
    pub fn se(&mut self) -> Result<i32, String> {
        let k = self.ue()? as i64;
        Ok(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) } as i32)
    }
}

/// Number of bits of `ue(v)` coding `v` (9.2).
pub fn ue_bits(v: u32) -> u32 {
    let lz = 63 - (u64::from(v) + 1).leading_zeros();
    2 * lz + 1
}

/// `Ceil(Log2(n))` for n >= 1.
pub fn ceil_log2(n: u32) -> u32 {
    if n <= 1 {
        0
    } else {
        32 - (n - 1).leading_zeros()
    }
}

/// The bit count of the long-term part of a slice header (from
/// `num_long_term_sps` to the last `delta_poc_msb_cycle_lt`, 7.3.6.1), which
/// GStreamer sends as `long_term_ref_pic_set_size`; 0 without
/// `long_term_ref_pics_present_flag` or for IDR pictures.
pub fn long_term_ref_pic_set_size(hdr: &SliceHeader, sps: &Sps, idr: bool) -> u32 {
    if idr || !sps.long_term_ref_pics_present_flag || hdr.dependent_slice_segment_flag {
        return 0;
    }
    let mut bits = 0;
    if sps.num_long_term_ref_pics_sps > 0 {
        bits += ue_bits(u32::from(hdr.num_long_term_sps));
    }
    bits += ue_bits(u32::from(hdr.num_long_term_pics));
    let n = usize::from(hdr.num_long_term_sps) + usize::from(hdr.num_long_term_pics);
    let nsps = usize::from(hdr.num_long_term_sps);
    for i in 0..n.min(16) {
        if i < nsps {
            if sps.num_long_term_ref_pics_sps > 1 {
                bits += ceil_log2(u32::from(sps.num_long_term_ref_pics_sps));
            }
        } else {
            bits += u32::from(sps.log2_max_pic_order_cnt_lsb_minus4) + 4 + 1;
        }
        bits += 1;
        if hdr.delta_poc_msb_present_flag[i] {
            // cros-codecs accumulates delta_poc_msb_cycle_lt (7-52): undo it.
            let raw = if i == 0 || i == nsps {
                hdr.delta_poc_msb_cycle_lt[i]
            } else {
                hdr.delta_poc_msb_cycle_lt[i].wrapping_sub(hdr.delta_poc_msb_cycle_lt[i - 1])
            };
            bits += ue_bits(raw);
        }
    }
    bits
}

/// Reads `num_entry_point_offsets` of a slice segment header without
/// decoding the rest (to refuse counts cros-codecs cannot hold). Returns
/// `None` when the header could not be walked that far (the full parse then
/// reports the error).
fn entry_point_count(parser: &Parser, nal: &[u8]) -> Option<u32> {
    let t = nal_unit_type(nal);
    let rb = rbsp(nal.get(2..)?);
    let mut r = Bits::new(&rb);
    let first = r.bit().ok()?;
    if is_irap(t) {
        r.bit().ok()?;
    }
    let pps_id = r.ue().ok()?;
    let pps = parser.get_pps(u8::try_from(pps_id).ok()?)?;
    if !(pps.tiles_enabled_flag || pps.entropy_coding_sync_enabled_flag) {
        return Some(0);
    }
    // Only the dependent-slice / address prefix is cheap to skip; anything
    // after needs the full header: count conservatively from the picture size.
    let sps = &pps.sps;
    let _ = first;
    let cols = u32::from(pps.num_tile_columns_minus1) + 1;
    let rows = u32::from(pps.num_tile_rows_minus1) + 1;
    // The bounds cros-codecs reads num_entry_point_offsets with (7.4.7.1).
    let max = match (pps.tiles_enabled_flag, pps.entropy_coding_sync_enabled_flag) {
        (false, true) => sps.pic_height_in_ctbs_y.saturating_sub(1),
        (true, false) => (cols * rows).saturating_sub(1),
        _ => (cols * sps.pic_height_in_ctbs_y).saturating_sub(1),
    };
    Some(max)
}

/// Most entry points cros-codecs 0.0.6 can store per slice header.
pub const MAX_ENTRY_POINTS: u32 = 32;

/// Parses a slice segment header with cros-codecs, refusing streams whose
/// possible entry point count overflows cros-codecs' 32-entry array (it
/// would panic). Errors are the parser's messages.
pub fn parse_slice<'a>(parser: &mut Parser, nal: &NalRef<'a>) -> Result<Slice<'a>, String> {
    let nalu = cros_nalu(nal).ok_or_else(|| "unknown NAL unit type".to_string())?;
    if let Some(max) = entry_point_count(parser, nal.data) {
        if max > MAX_ENTRY_POINTS {
            return Err(format!(
                "up to {max} entry points per slice (tiles/WPP) are not supported (max {MAX_ENTRY_POINTS})"
            ));
        }
    }
    parser.parse_slice_header(nalu)
}

/// Raw syntax of one SPS `st_ref_pic_set(i)` (7.3.7), as the RK3588
/// `EXT_SPS_ST_RPS` control and GStreamer 1.28's `GstH265ShortTermRefPicSetExt` keep it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StRpsSyntax {
    pub inter_ref_pic_set_prediction_flag: bool,
    pub delta_idx_minus1: u32,
    pub delta_rps_sign: bool,
    pub abs_delta_rps_minus1: u32,
    /// Inter: `used_by_curr_pic_flag[j]`; explicit: `used_by_curr_pic_s0_flag` then `_s1_flag`.
    pub used_by_curr_pic_flag: Vec<bool>,
    /// Inter: `use_delta_flag[j]` (1 when absent); explicit: empty (all 1).
    pub use_delta_flag: Vec<bool>,
    pub delta_poc_s0_minus1: Vec<u32>,
    pub delta_poc_s1_minus1: Vec<u32>,
}

/// Long-term candidates of an SPS: `lt_ref_pic_poc_lsb_sps[i]`, `used_by_curr_pic_lt_sps_flag[i]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpsRps {
    pub st: Vec<StRpsSyntax>,
    pub lt: Vec<(u32, bool)>,
}

fn skip_profile_tier_level(r: &mut Bits, max_sub_layers_minus1: u32) -> Result<(), String> {
    r.skip(88 + 8)?; // general profile (88 bits) + general_level_idc
    let n = max_sub_layers_minus1 as usize;
    let mut prof = [false; 8];
    let mut lvl = [false; 8];
    for i in 0..n {
        prof[i] = r.bit()?;
        lvl[i] = r.bit()?;
    }
    if n > 0 {
        r.skip(2 * (8 - n))?;
    }
    for i in 0..n {
        if prof[i] {
            r.skip(88)?;
        }
        if lvl[i] {
            r.skip(8)?;
        }
    }
    Ok(())
}

fn skip_scaling_list_data(r: &mut Bits) -> Result<(), String> {
    for size_id in 0..4u32 {
        let mut matrix_id = 0;
        while matrix_id < 6 {
            if !r.bit()? {
                r.ue()?;
            } else {
                let coef_num = 64.min(1 << (4 + (size_id << 1)));
                if size_id > 1 {
                    r.se()?;
                }
                for _ in 0..coef_num {
                    r.se()?;
                }
            }
            matrix_id += if size_id == 3 { 3 } else { 1 };
        }
    }
    Ok(())
}

/// Walks an SPS NAL unit (header included) up to its long-term candidates
/// and returns the raw RPS syntax. `sps` is cros-codecs' parse of the same
/// unit (for `NumDeltaPocs` of the reference sets).
///
/// Errors: truncated or inconsistent data (the message names the syntax).
pub fn parse_sps_rps(nal: &[u8], sps: &Sps) -> Result<SpsRps, String> {
    let rb = rbsp(nal.get(2..).ok_or("short SPS")?);
    let mut r = Bits::new(&rb);
    r.skip(4)?; // sps_video_parameter_set_id
    let max_sub_layers_minus1 = r.bits(3)?;
    r.skip(1)?;
    skip_profile_tier_level(&mut r, max_sub_layers_minus1)?;
    r.ue()?; // sps_seq_parameter_set_id
    if r.ue()? == 3 {
        r.skip(1)?;
    }
    r.ue()?;
    r.ue()?;
    if r.bit()? {
        for _ in 0..4 {
            r.ue()?;
        }
    }
    r.ue()?;
    r.ue()?;
    let log2_max_poc_lsb = r.ue()? + 4;
    let present = r.bit()?;
    let first = if present { 0 } else { max_sub_layers_minus1 };
    for _ in first..=max_sub_layers_minus1 {
        r.ue()?;
        r.ue()?;
        r.ue()?;
    }
    for _ in 0..6 {
        r.ue()?;
    }
    if r.bit()? && r.bit()? {
        skip_scaling_list_data(&mut r)?;
    }
    r.skip(2)?; // amp, sao
    if r.bit()? {
        r.skip(8)?;
        r.ue()?;
        r.ue()?;
        r.skip(1)?;
    }
    let num_sets = r.ue()?;
    if num_sets > 64 || num_sets as usize != sps.short_term_ref_pic_set.len() {
        return Err(format!("num_short_term_ref_pic_sets {num_sets}"));
    }
    let mut out = SpsRps::default();
    for i in 0..num_sets as usize {
        let mut s = StRpsSyntax::default();
        if i != 0 {
            s.inter_ref_pic_set_prediction_flag = r.bit()?;
        }
        if s.inter_ref_pic_set_prediction_flag {
            s.delta_rps_sign = r.bit()?;
            s.abs_delta_rps_minus1 = r.ue()?;
            let ref_st = &sps.short_term_ref_pic_set[i - 1];
            let n = (ref_st.num_delta_pocs as usize).min(32);
            for _ in 0..=n {
                let used = r.bit()?;
                s.used_by_curr_pic_flag.push(used);
                s.use_delta_flag.push(if used { true } else { r.bit()? });
            }
        } else {
            let neg = r.ue()?;
            let pos = r.ue()?;
            if neg > 16 || pos > 16 {
                return Err(format!("st_ref_pic_set({i}): {neg} + {pos} pictures"));
            }
            let mut s1_used = Vec::new();
            for _ in 0..neg {
                s.delta_poc_s0_minus1.push(r.ue()?);
                s.used_by_curr_pic_flag.push(r.bit()?);
            }
            for _ in 0..pos {
                s.delta_poc_s1_minus1.push(r.ue()?);
                s1_used.push(r.bit()?);
            }
            s.used_by_curr_pic_flag.extend(s1_used);
        }
        out.st.push(s);
    }
    if r.bit()? {
        let n = r.ue()?;
        if n > 32 {
            return Err(format!("num_long_term_ref_pics_sps {n}"));
        }
        for _ in 0..n {
            let lsb = r.bits(log2_max_poc_lsb as usize)?;
            let used = r.bit()?;
            out.lt.push((lsb, used));
        }
    }
    Ok(out)
}

/// The SPS a PPS refers to, if the parser has both.
pub fn sps_of_pps(parser: &Parser, pps_id: u8) -> Option<Rc<Sps>> {
    parser.get_pps(pps_id).map(|p| Rc::clone(&p.sps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ue_bit_counts() {
        assert_eq!(ue_bits(0), 1);
        assert_eq!(ue_bits(1), 3);
        assert_eq!(ue_bits(2), 3);
        assert_eq!(ue_bits(3), 5);
        assert_eq!(ue_bits(6), 5);
        assert_eq!(ue_bits(7), 7);
        assert_eq!(ceil_log2(1), 0);
        assert_eq!(ceil_log2(2), 1);
        assert_eq!(ceil_log2(3), 2);
        assert_eq!(ceil_log2(4), 2);
        assert_eq!(ceil_log2(5), 3);
    }

    #[test]
    fn exp_golomb_reads() {
        // 1 | 010 | 011 | 00100 -> 0, 1, 2, 3
        let d = [0b1010_0110, 0b0100_0000];
        let mut r = Bits::new(&d);
        assert_eq!(r.ue().unwrap(), 0);
        assert_eq!(r.ue().unwrap(), 1);
        assert_eq!(r.ue().unwrap(), 2);
        assert_eq!(r.ue().unwrap(), 3);
        assert!(r.ue().is_err());
    }
}
