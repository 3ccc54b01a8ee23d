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
//! - slices with more than 32 entry points: cros-codecs 0.0.6 stores
//!   `entry_point_offset_minus1` in a `[u32; 32]` and panics beyond it
//!   (2160p WPP has 33); when the PPS allows more, [`parse_slice_header_own`]
//!   parses the header instead (checked against cros-codecs on every corpus
//!   slice by the tests). It also reads every slice before cros-codecs does,
//!   to refuse what cros-codecs would index past its arrays with;
//! - checks of parameter sets before cros-codecs parses them ([`check_vps`],
//!   [`check_sps`], [`check_pps`]): values it uses unchecked as indices or
//!   in unsigned arithmetic (each found by the `codec_hevc` fuzz target).

use std::borrow::Cow;
use std::rc::Rc;

use cros_codecs::codec::h265::parser::{
    Nalu, NaluHeader, NaluType, Parser, Pps, ShortTermRefPicSet, SliceHeader, SliceType, Sps,
};

pub use crate::h264::parser::{
    annexb_nals, length_prefixed_nals, rbsp, split_annexb, split_length_prefixed, NalRef,
};
pub use vreq_core::hevc::{
    is_bla, is_cra, is_idr, is_irap, is_radl, is_rasl, is_slice, is_sub_layer_non_ref,
};
/// `Ceil(Log2(n))` (5.7).
pub use vreq_core::rbsp::ceil_log2;
use vreq_core::rbsp::{strip_emulation_prevention_into, BitReader};

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

/// Number of bits of `ue(v)` coding `v` (9.2).
pub fn ue_bits(v: u32) -> u32 {
    let lz = 63 - (u64::from(v) + 1).leading_zeros();
    2 * lz + 1
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

/// The largest `num_entry_point_offsets` a slice of this PPS may code (the
/// bound cros-codecs reads it with, 7.4.7.1): CTB rows − 1 with WPP, tiles
/// − 1 with tiles, tile columns × CTB rows − 1 with both.
fn max_entry_points(pps: &Pps) -> u32 {
    let sps = &pps.sps;
    let cols = u32::from(pps.num_tile_columns_minus1) + 1;
    let rows = u32::from(pps.num_tile_rows_minus1) + 1;
    match (pps.tiles_enabled_flag, pps.entropy_coding_sync_enabled_flag) {
        (false, false) => 0,
        (false, true) => sps.pic_height_in_ctbs_y.saturating_sub(1),
        (true, false) => (cols * rows).saturating_sub(1),
        (true, true) => (cols * sps.pic_height_in_ctbs_y).saturating_sub(1),
    }
}

/// Most entry points cros-codecs 0.0.6 can store per slice header.
pub const MAX_ENTRY_POINTS: u32 = 32;

/// Most entry points accepted at all (8K, 16x16 CTBs, WPP: 270 rows; tiles
/// 20x22): bounds what a hostile header can make us allocate.
pub const MAX_ENTRY_POINTS_OWN: u32 = 1024;

/// What [`parse_slice`] reuses from slice to slice, so that parsing a
/// slice makes no heap allocation once these have grown (each only when a
/// slice needs more than any before it).
#[derive(Debug, Default)]
pub struct SliceScratch {
    /// The slice NAL unit's payload without its emulation prevention bytes
    /// (H.265 7.4.2), when it holds any; at most the largest such NAL
    /// unit's size, in bytes.
    rbsp: Vec<u8>,
    /// Every `entry_point_offset_minus1[i]` (7.4.7.1: an entry point's
    /// offset in bytes, minus 1) of the last slice parsed,
    /// `num_entry_point_offsets` of them: at most
    /// [`MAX_ENTRY_POINTS_OWN`].
    pub entry_point_offset_minus1: Vec<u32>,
}

/// Parses a slice segment header with cros-codecs, after
/// [`parse_slice_header_own`] has read it without error: cros-codecs 0.0.6
/// indexes 16-entry arrays with `num_long_term_sps + num_long_term_pics`
/// unchecked (7.3.6.1; a panic past 16), which ours refuses. When the
/// slice's PPS allows more entry points than cros-codecs can hold (its
/// `entry_point_offset_minus1: [u32; 32]` would overflow and panic: WPP
/// pictures taller than 33 CTB rows, e.g. 2160p), our parse is the result.
/// Every entry point is left in
/// [`SliceScratch::entry_point_offset_minus1`]. Errors are the parsers'
/// messages.
pub fn parse_slice(
    parser: &mut Parser,
    nal: &NalRef<'_>,
    scratch: &mut SliceScratch,
) -> Result<SliceHeader, String> {
    let nalu = cros_nalu(nal).ok_or_else(|| "unknown NAL unit type".to_string())?;
    // Our parser first, on every slice: it refuses what cros-codecs would
    // index past its arrays with (more than 16 long-term pictures, a
    // derived short-term set of more than 16).
    let own = parse_slice_header_own(parser, nal.data, scratch)?;
    if parser
        .get_pps(own.pic_parameter_set_id)
        .is_some_and(|pps| max_entry_points(pps) > MAX_ENTRY_POINTS)
    {
        return Ok(own);
    }
    let s = parser.parse_slice_header(nalu)?;
    let n =
        (s.header.num_entry_point_offsets as usize).min(s.header.entry_point_offset_minus1.len());
    let entry_points = &mut scratch.entry_point_offset_minus1;
    entry_points.clear();
    entry_points.extend_from_slice(&s.header.entry_point_offset_minus1[..n]);
    Ok(s.header)
}

/// 7.4.8 (7-61, 7-62): the derived set of an inter-predicted
/// `st_ref_pic_set` from the reference set and the raw syntax.
fn derive_inter_rps(
    ref_st: &ShortTermRefPicSet,
    delta_rps: i32,
    used_by_curr_pic_flag: &[bool],
    use_delta_flag: &[bool],
) -> Result<ShortTermRefPicSet, String> {
    let mut st = ShortTermRefPicSet::default();
    let nn = usize::from(ref_st.num_negative_pics);
    let np = usize::from(ref_st.num_positive_pics);
    let nd = nn + np;
    let mut s0 = Vec::new();
    let mut s1 = Vec::new();
    for j in (0..np).rev() {
        let d = ref_st.delta_poc_s1[j] + delta_rps;
        if d < 0 && use_delta_flag[nn + j] {
            s0.push((d, used_by_curr_pic_flag[nn + j]));
        }
    }
    if delta_rps < 0 && use_delta_flag[nd] {
        s0.push((delta_rps, used_by_curr_pic_flag[nd]));
    }
    for j in 0..nn {
        let d = ref_st.delta_poc_s0[j] + delta_rps;
        if d < 0 && use_delta_flag[j] {
            s0.push((d, used_by_curr_pic_flag[j]));
        }
    }
    for j in (0..nn).rev() {
        let d = ref_st.delta_poc_s0[j] + delta_rps;
        if d > 0 && use_delta_flag[j] {
            s1.push((d, used_by_curr_pic_flag[j]));
        }
    }
    if delta_rps > 0 && use_delta_flag[nd] {
        s1.push((delta_rps, used_by_curr_pic_flag[nd]));
    }
    for j in 0..np {
        let d = ref_st.delta_poc_s1[j] + delta_rps;
        if d > 0 && use_delta_flag[nn + j] {
            s1.push((d, used_by_curr_pic_flag[nn + j]));
        }
    }
    if s0.len() > 16 || s1.len() > 16 {
        return Err("st_ref_pic_set with more than 16 pictures".into());
    }
    for (i, (d, u)) in s0.iter().enumerate() {
        st.delta_poc_s0[i] = *d;
        st.used_by_curr_pic_s0[i] = *u;
    }
    for (i, (d, u)) in s1.iter().enumerate() {
        st.delta_poc_s1[i] = *d;
        st.used_by_curr_pic_s1[i] = *u;
    }
    st.num_negative_pics = s0.len() as u8;
    st.num_positive_pics = s1.len() as u8;
    st.num_delta_pocs = (s0.len() + s1.len()) as u32;
    Ok(st)
}

/// The slice header's own `st_ref_pic_set(num_short_term_ref_pic_sets)` (7.3.7).
fn read_slice_st_rps(r: &mut BitReader<'_>, sps: &Sps) -> Result<ShortTermRefPicSet, String> {
    read_st_rps(
        r,
        &sps.short_term_ref_pic_set,
        usize::from(sps.num_short_term_ref_pic_sets),
        true,
    )
}

/// `st_ref_pic_set(stRpsIdx)` (7.3.7) with its derived set (7.4.8):
/// `sets` are the SPS's sets before it (all of them for a slice's own set),
/// `idx` is `stRpsIdx`; `in_slice` for the slice header's own set, the only
/// one that codes `delta_idx_minus1` (0 in the SPS). Errors: a reference
/// outside `sets`, more than 16 pictures, `abs_delta_rps_minus1` over
/// 32767, data ending early.
fn read_st_rps(
    r: &mut BitReader<'_>,
    sets: &[ShortTermRefPicSet],
    idx: usize,
    in_slice: bool,
) -> Result<ShortTermRefPicSet, String> {
    let inter = idx != 0 && r.flag()?;
    if inter {
        let delta_idx_minus1 = if in_slice { r.ue()? } else { 0 };
        if delta_idx_minus1 as usize >= idx {
            return Err(format!("delta_idx_minus1 {delta_idx_minus1}"));
        }
        let delta_rps_sign = r.flag()?;
        let abs_delta_rps_minus1 = r.ue()?;
        if abs_delta_rps_minus1 > 32767 {
            return Err(format!("abs_delta_rps_minus1 {abs_delta_rps_minus1}"));
        }
        let ref_st = sets
            .get(idx - (delta_idx_minus1 as usize + 1))
            .ok_or_else(|| format!("st_ref_pic_set({idx}) refers to a missing set"))?;
        let n = (ref_st.num_delta_pocs as usize).min(32);
        let mut used = Vec::new();
        let mut use_delta = Vec::new();
        for _ in 0..=n {
            let u = r.flag()?;
            used.push(u);
            use_delta.push(if u { true } else { r.flag()? });
        }
        let delta_rps = (1 - 2 * delta_rps_sign as i32) * (abs_delta_rps_minus1 as i32 + 1);
        let mut st = derive_inter_rps(ref_st, delta_rps, &used, &use_delta)?;
        st.inter_ref_pic_set_prediction_flag = true;
        st.delta_idx_minus1 = delta_idx_minus1 as u8;
        st.delta_rps_sign = delta_rps_sign;
        st.abs_delta_rps_minus1 = abs_delta_rps_minus1 as u16;
        return Ok(st);
    }
    let mut st = ShortTermRefPicSet::default();
    let neg = r.ue()?;
    let pos = r.ue()?;
    if neg > 16 || pos > 16 || neg + pos > 16 {
        return Err(format!("st_ref_pic_set: {neg} + {pos} pictures"));
    }
    let mut poc = 0i32;
    for i in 0..neg as usize {
        poc -= r.ue()?.min(32767) as i32 + 1;
        st.delta_poc_s0[i] = poc;
        st.used_by_curr_pic_s0[i] = r.flag()?;
    }
    poc = 0;
    for i in 0..pos as usize {
        poc += r.ue()?.min(32767) as i32 + 1;
        st.delta_poc_s1[i] = poc;
        st.used_by_curr_pic_s1[i] = r.flag()?;
    }
    st.num_negative_pics = neg as u8;
    st.num_positive_pics = pos as u8;
    st.num_delta_pocs = neg + pos;
    Ok(st)
}

fn ue_max(r: &mut BitReader<'_>, max: u32, what: &str) -> Result<u32, String> {
    let v = r.ue()?;
    if v > max {
        return Err(format!("{what} {v} > {max}"));
    }
    Ok(v)
}

fn se_range(r: &mut BitReader<'_>, lo: i32, hi: i32, what: &str) -> Result<i32, String> {
    let v = r.se()?;
    if v < lo || v > hi {
        return Err(format!("{what} {v} outside {lo}..={hi}"));
    }
    Ok(v)
}

/// Our own `slice_segment_header()` parser (7.3.6.1), filling cros-codecs'
/// [`SliceHeader`] the way its parser does (same derived fields:
/// `st_rps_bits`, `num_pic_total_curr`, accumulated
/// `delta_poc_msb_cycle_lt`, `header_bit_size`), for slices with more entry
/// points than cros-codecs can hold. The first 32 entry points also go in
/// the header; all of them in [`SliceScratch::entry_point_offset_minus1`].
/// Dependent slice segments get only the fields they code (the caller
/// copies the rest from the independent one, as with cros-codecs).
/// `header_bit_size` counts the NAL header and the header's RBSP bits
/// (emulation prevention bytes excluded), as cros-codecs does. The NAL
/// unit is read without its emulation prevention bytes from
/// [`SliceScratch`]'s buffer when it holds any.
pub fn parse_slice_header_own(
    parser: &Parser,
    nal: &[u8],
    scratch: &mut SliceScratch,
) -> Result<SliceHeader, String> {
    let t = nal_unit_type(nal);
    if !is_slice(t) {
        return Err(format!("NAL unit type {t} is not a slice"));
    }
    let SliceScratch {
        rbsp,
        entry_point_offset_minus1,
    } = scratch;
    entry_point_offset_minus1.clear();
    let rb = strip_emulation_prevention_into(nal.get(2..).ok_or("short NAL unit")?, rbsp);
    let mut r = BitReader::new(rb);
    let mut hdr = SliceHeader {
        first_slice_segment_in_pic_flag: r.flag()?,
        ..Default::default()
    };
    if is_irap(t) {
        hdr.no_output_of_prior_pics_flag = r.flag()?;
    }
    hdr.pic_parameter_set_id = ue_max(&mut r, 63, "slice_pic_parameter_set_id")? as u8;
    let pps = parser
        .get_pps(hdr.pic_parameter_set_id)
        .ok_or_else(|| format!("unknown PPS {}", hdr.pic_parameter_set_id))?
        .clone();
    let sps = Rc::clone(&pps.sps);
    Parser::slice_header_set_defaults(&mut hdr, &sps, &pps);
    if !hdr.first_slice_segment_in_pic_flag {
        if pps.dependent_slice_segments_enabled_flag {
            hdr.dependent_slice_segment_flag = r.flag()?;
        }
        hdr.segment_address = r.u(ceil_log2(sps.pic_size_in_ctbs_y))?;
        if hdr.segment_address >= sps.pic_size_in_ctbs_y {
            return Err(format!("slice_segment_address {}", hdr.segment_address));
        }
    }
    if !hdr.dependent_slice_segment_flag {
        read_independent_slice_fields(&mut r, &mut hdr, t, &sps, &pps)?;
    }
    read_entry_points(&mut r, &mut hdr, &pps, entry_point_offset_minus1)?;
    if pps.slice_segment_header_extension_present_flag {
        let n = ue_max(&mut r, 256, "slice_segment_header_extension_length")?;
        r.skip(8 * n as usize)?;
    }
    // byte_alignment(): alignment_bit_equal_to_one, then zero bits
    if !r.flag()? {
        return Err("byte_alignment() without its one bit".into());
    }
    while r.pos() % 8 != 0 {
        r.skip(1)?;
    }
    hdr.header_bit_size = 16 + r.pos() as u32;
    Ok(hdr)
}

/// The part of `slice_segment_header()` (7.3.6.1) that only independent
/// slice segments code: from `slice_reserved_flag[]` / `slice_type` to
/// `slice_loop_filter_across_slices_enabled_flag`.
fn read_independent_slice_fields(
    r: &mut BitReader<'_>,
    hdr: &mut SliceHeader,
    nal_unit_type: u8,
    sps: &Sps,
    pps: &Pps,
) -> Result<(), String> {
    r.skip(usize::from(pps.num_extra_slice_header_bits))?;
    hdr.type_ = SliceType::try_from(r.ue()?)?;
    if pps.output_flag_present_flag {
        hdr.pic_output_flag = r.flag()?;
    }
    if sps.separate_colour_plane_flag {
        hdr.colour_plane_id = r.u(2)? as u8;
    }
    if !is_idr(nal_unit_type) {
        let log2_lsb = u32::from(sps.log2_max_pic_order_cnt_lsb_minus4) + 4;
        hdr.pic_order_cnt_lsb = r.u(log2_lsb)? as u16;
        read_short_term_rps_part(r, hdr, sps)?;
        if sps.long_term_ref_pics_present_flag {
            read_long_term_part(r, hdr, sps)?;
        }
        if sps.temporal_mvp_enabled_flag {
            hdr.temporal_mvp_enabled_flag = r.flag()?;
        }
    }
    if sps.sample_adaptive_offset_enabled_flag {
        hdr.sao_luma_flag = r.flag()?;
        if sps.chroma_array_type != 0 {
            hdr.sao_chroma_flag = r.flag()?;
        }
    }
    if !hdr.type_.is_i() {
        read_inter_slice_fields(r, hdr, sps, pps)?;
    }
    read_qp_and_deblocking(r, hdr, pps)
}

/// `short_term_ref_pic_set_sps_flag`, then the slice's own
/// `st_ref_pic_set(num_short_term_ref_pic_sets)` (its size in
/// `st_rps_bits`) or `short_term_ref_pic_set_idx` (7.3.6.1); sets
/// `curr_rps_idx` as cros-codecs does.
fn read_short_term_rps_part(
    r: &mut BitReader<'_>,
    hdr: &mut SliceHeader,
    sps: &Sps,
) -> Result<(), String> {
    hdr.short_term_ref_pic_set_sps_flag = r.flag()?;
    if !hdr.short_term_ref_pic_set_sps_flag {
        let before = r.pos();
        hdr.short_term_ref_pic_set = read_slice_st_rps(r, sps)?;
        hdr.st_rps_bits = (r.pos() - before) as u32;
    } else if sps.num_short_term_ref_pic_sets > 1 {
        let n = ceil_log2(u32::from(sps.num_short_term_ref_pic_sets));
        hdr.short_term_ref_pic_set_idx = r.u(n)? as u8;
        if hdr.short_term_ref_pic_set_idx >= sps.num_short_term_ref_pic_sets {
            return Err("short_term_ref_pic_set_idx out of range".into());
        }
    }
    if hdr.short_term_ref_pic_set_sps_flag {
        hdr.curr_rps_idx = hdr.short_term_ref_pic_set_idx;
    }
    Ok(())
}

/// The long-term part of the slice header (7.3.6.1, with
/// `long_term_ref_pics_present_flag`): `num_long_term_sps`,
/// `num_long_term_pics` and per picture `lt_idx_sps[i]` (resolved to the
/// SPS's `lt_ref_pic_poc_lsb_sps` / `used_by_curr_pic_lt_sps_flag`) or
/// `poc_lsb_lt[i]` / `used_by_curr_pic_lt_flag[i]`, then
/// `delta_poc_msb_present_flag[i]` / `delta_poc_msb_cycle_lt[i]`,
/// accumulated as `DeltaPocMsbCycleLt` (7-52) the way cros-codecs stores it.
fn read_long_term_part(
    r: &mut BitReader<'_>,
    hdr: &mut SliceHeader,
    sps: &Sps,
) -> Result<(), String> {
    let log2_lsb = u32::from(sps.log2_max_pic_order_cnt_lsb_minus4) + 4;
    if sps.num_long_term_ref_pics_sps > 0 {
        // 7.4.7.1: at most num_long_term_ref_pics_sps, and with
        // num_long_term_pics at most the DPB size (the arrays hold 16)
        hdr.num_long_term_sps = ue_max(
            r,
            u32::from(sps.num_long_term_ref_pics_sps).min(16),
            "num_long_term_sps",
        )? as u8;
    }
    hdr.num_long_term_pics = ue_max(
        r,
        16 - u32::from(hdr.num_long_term_sps),
        "num_long_term_pics",
    )? as u8;
    let n = usize::from(hdr.num_long_term_sps) + usize::from(hdr.num_long_term_pics);
    for i in 0..n {
        if i < usize::from(hdr.num_long_term_sps) {
            if sps.num_long_term_ref_pics_sps > 1 {
                let b = ceil_log2(u32::from(sps.num_long_term_ref_pics_sps));
                hdr.lt_idx_sps[i] = r.u(b)? as u8;
                if hdr.lt_idx_sps[i] >= sps.num_long_term_ref_pics_sps {
                    return Err("lt_idx_sps out of range".into());
                }
            }
            let k = usize::from(hdr.lt_idx_sps[i]);
            hdr.poc_lsb_lt[i] = sps.lt_ref_pic_poc_lsb_sps[k];
            hdr.used_by_curr_pic_lt[i] = sps.used_by_curr_pic_lt_sps_flag[k];
        } else {
            hdr.poc_lsb_lt[i] = r.u(log2_lsb)?;
            hdr.used_by_curr_pic_lt[i] = r.flag()?;
        }
        hdr.delta_poc_msb_present_flag[i] = r.flag()?;
        if hdr.delta_poc_msb_present_flag[i] {
            hdr.delta_poc_msb_cycle_lt[i] = r.ue()?;
        }
        if i != 0 && i != usize::from(hdr.num_long_term_sps) {
            hdr.delta_poc_msb_cycle_lt[i] =
                hdr.delta_poc_msb_cycle_lt[i].wrapping_add(hdr.delta_poc_msb_cycle_lt[i - 1]);
        }
    }
    Ok(())
}

/// The P / B slice part of the slice header (7.3.6.1): active reference
/// counts, `ref_pic_lists_modification()`, `mvd_l1_zero_flag`,
/// `cabac_init_flag`, the collocated picture, `pred_weight_table()`,
/// `five_minus_max_num_merge_cand` and `use_integer_mv_flag`; sets
/// `num_pic_total_curr` (7-55).
fn read_inter_slice_fields(
    r: &mut BitReader<'_>,
    hdr: &mut SliceHeader,
    sps: &Sps,
    pps: &Pps,
) -> Result<(), String> {
    hdr.num_ref_idx_active_override_flag = r.flag()?;
    if hdr.num_ref_idx_active_override_flag {
        hdr.num_ref_idx_l0_active_minus1 = ue_max(r, 14, "num_ref_idx_l0_active_minus1")? as u8;
        if hdr.type_.is_b() {
            hdr.num_ref_idx_l1_active_minus1 = ue_max(r, 14, "num_ref_idx_l1_active_minus1")? as u8;
        }
    } else {
        hdr.num_ref_idx_l0_active_minus1 = pps.num_ref_idx_l0_default_active_minus1.min(14);
        hdr.num_ref_idx_l1_active_minus1 = pps.num_ref_idx_l1_default_active_minus1.min(14);
    }
    hdr.num_pic_total_curr = num_pic_total_curr(hdr, sps, pps)?;
    if pps.lists_modification_present_flag && hdr.num_pic_total_curr > 1 {
        read_ref_pic_lists_modification(r, hdr)?;
    }
    if hdr.type_.is_b() {
        hdr.mvd_l1_zero_flag = r.flag()?;
    }
    if pps.cabac_init_present_flag {
        hdr.cabac_init_flag = r.flag()?;
    }
    if hdr.temporal_mvp_enabled_flag {
        if hdr.type_.is_b() {
            hdr.collocated_from_l0_flag = r.flag()?;
        }
        let max = if hdr.collocated_from_l0_flag {
            hdr.num_ref_idx_l0_active_minus1
        } else {
            hdr.num_ref_idx_l1_active_minus1
        };
        if max > 0 {
            hdr.collocated_ref_idx = ue_max(r, u32::from(max), "collocated_ref_idx")? as u8;
        }
    }
    if (pps.weighted_pred_flag && hdr.type_.is_p())
        || (pps.weighted_bipred_flag && hdr.type_.is_b())
    {
        read_pred_weight_table(r, hdr, sps)?;
    }
    hdr.five_minus_max_num_merge_cand = ue_max(r, 4, "five_minus_max_num_merge_cand")? as u8;
    if sps.scc_extension.motion_vector_resolution_control_idc == 2 {
        hdr.use_integer_mv_flag = r.flag()?;
    }
    Ok(())
}

/// `NumPicTotalCurr` (7-55): the current RPS's pictures used by the
/// current picture (short-term from the SPS set `curr_rps_idx` or the
/// slice's own, then long-term), plus one with `pps_curr_pic_ref_enabled_flag`.
/// Errors: an SPS set index out of range.
fn num_pic_total_curr(hdr: &SliceHeader, sps: &Sps, pps: &Pps) -> Result<u32, String> {
    let rps = if hdr.short_term_ref_pic_set_sps_flag {
        sps.short_term_ref_pic_set
            .get(usize::from(hdr.curr_rps_idx))
            .ok_or("invalid RPS index")?
    } else {
        &hdr.short_term_ref_pic_set
    };
    let mut total = 0u32;
    for i in 0..usize::from(rps.num_negative_pics).min(16) {
        total += rps.used_by_curr_pic_s0[i] as u32;
    }
    for i in 0..usize::from(rps.num_positive_pics).min(16) {
        total += rps.used_by_curr_pic_s1[i] as u32;
    }
    let nlt = (usize::from(hdr.num_long_term_sps) + usize::from(hdr.num_long_term_pics)).min(16);
    for i in 0..nlt {
        total += hdr.used_by_curr_pic_lt[i] as u32;
    }
    if pps.scc_extension.curr_pic_ref_enabled_flag {
        total += 1;
    }
    Ok(total)
}

/// `ref_pic_lists_modification()` (7.3.6.2): each `list_entry_lX[i]` is
/// `Ceil(Log2(NumPicTotalCurr))` bits and below `num_pic_total_curr`.
fn read_ref_pic_lists_modification(
    r: &mut BitReader<'_>,
    hdr: &mut SliceHeader,
) -> Result<(), String> {
    let total = hdr.num_pic_total_curr;
    let b = ceil_log2(total);
    let m = &mut hdr.ref_pic_list_modification;
    m.ref_pic_list_modification_flag_l0 = r.flag()?;
    if m.ref_pic_list_modification_flag_l0 {
        for _ in 0..=hdr.num_ref_idx_l0_active_minus1 {
            let e = r.u(b)?;
            if e >= total {
                return Err(format!("list_entry_l0 {e}"));
            }
            m.list_entry_l0.push(e);
        }
    }
    if hdr.type_.is_b() {
        m.ref_pic_list_modification_flag_l1 = r.flag()?;
        if m.ref_pic_list_modification_flag_l1 {
            for _ in 0..=hdr.num_ref_idx_l1_active_minus1 {
                let e = r.u(b)?;
                if e >= total {
                    return Err(format!("list_entry_l1 {e}"));
                }
                m.list_entry_l1.push(e);
            }
        }
    }
    Ok(())
}

/// `slice_qp_delta` to `slice_loop_filter_across_slices_enabled_flag`
/// (7.3.6.1): QP offsets, chroma QP offset list, deblocking override.
fn read_qp_and_deblocking(
    r: &mut BitReader<'_>,
    hdr: &mut SliceHeader,
    pps: &Pps,
) -> Result<(), String> {
    hdr.qp_delta = se_range(r, -87, 77, "slice_qp_delta")? as i8;
    if pps.slice_chroma_qp_offsets_present_flag {
        hdr.cb_qp_offset = se_range(r, -12, 12, "slice_cb_qp_offset")? as i8;
        hdr.cr_qp_offset = se_range(r, -12, 12, "slice_cr_qp_offset")? as i8;
    }
    if pps.scc_extension.slice_act_qp_offsets_present_flag {
        hdr.slice_act_y_qp_offset = se_range(r, -12, 12, "slice_act_y_qp_offset")? as i8;
        hdr.slice_act_cb_qp_offset = se_range(r, -12, 12, "slice_act_cb_qp_offset")? as i8;
        hdr.slice_act_cr_qp_offset = se_range(r, -12, 12, "slice_act_cr_qp_offset")? as i8;
    }
    if pps.range_extension.chroma_qp_offset_list_enabled_flag {
        hdr.cu_chroma_qp_offset_enabled_flag = r.flag()?;
    }
    if pps.deblocking_filter_override_enabled_flag {
        hdr.deblocking_filter_override_flag = r.flag()?;
    }
    if hdr.deblocking_filter_override_flag {
        hdr.deblocking_filter_disabled_flag = r.flag()?;
        if !hdr.deblocking_filter_disabled_flag {
            hdr.beta_offset_div2 = se_range(r, -6, 6, "slice_beta_offset_div2")? as i8;
            hdr.tc_offset_div2 = se_range(r, -6, 6, "slice_tc_offset_div2")? as i8;
        }
    }
    if pps.loop_filter_across_slices_enabled_flag
        && (hdr.sao_luma_flag || hdr.sao_chroma_flag || !hdr.deblocking_filter_disabled_flag)
    {
        hdr.loop_filter_across_slices_enabled_flag = r.flag()?;
    }
    Ok(())
}

/// The entry points (7.3.6.1, with tiles or WPP): `num_entry_point_offsets`
/// (at most what the PPS allows, capped at [`MAX_ENTRY_POINTS_OWN`]),
/// `offset_len_minus1` and every `entry_point_offset_minus1[i]`, pushed to
/// `entry_points`; the first 32 also go in the header.
fn read_entry_points(
    r: &mut BitReader<'_>,
    hdr: &mut SliceHeader,
    pps: &Pps,
    entry_points: &mut Vec<u32>,
) -> Result<(), String> {
    if pps.tiles_enabled_flag || pps.entropy_coding_sync_enabled_flag {
        let max = max_entry_points(pps).min(MAX_ENTRY_POINTS_OWN);
        hdr.num_entry_point_offsets = ue_max(r, max, "num_entry_point_offsets")?;
        if hdr.num_entry_point_offsets > 0 {
            hdr.offset_len_minus1 = ue_max(r, 31, "offset_len_minus1")? as u8;
            let bits = u32::from(hdr.offset_len_minus1) + 1;
            for i in 0..hdr.num_entry_point_offsets as usize {
                let v = r.u(bits)?;
                if i < hdr.entry_point_offset_minus1.len() {
                    hdr.entry_point_offset_minus1[i] = v;
                }
                entry_points.push(v);
            }
        }
    }
    Ok(())
}

fn read_pred_weight_table(
    r: &mut BitReader<'_>,
    hdr: &mut SliceHeader,
    sps: &Sps,
) -> Result<(), String> {
    let l0 = usize::from(hdr.num_ref_idx_l0_active_minus1).min(14);
    let l1 = usize::from(hdr.num_ref_idx_l1_active_minus1).min(14);
    let is_b = hdr.type_.is_b();
    let half_c = sps.wp_offset_half_range_c as i32;
    let pwt = &mut hdr.pred_weight_table;
    pwt.luma_log2_weight_denom = ue_max(r, 7, "luma_log2_weight_denom")? as u8;
    if sps.chroma_array_type != 0 {
        pwt.delta_chroma_log2_weight_denom =
            se_range(r, -7, 7, "delta_chroma_log2_weight_denom")? as i8;
        pwt.chroma_log2_weight_denom = (i32::from(pwt.luma_log2_weight_denom)
            + i32::from(pwt.delta_chroma_log2_weight_denom))
        .clamp(0, 7) as u8;
    }
    for i in 0..=l0 {
        pwt.luma_weight_l0_flag[i] = r.flag()?;
    }
    if sps.chroma_array_type != 0 {
        for i in 0..=l0 {
            pwt.chroma_weight_l0_flag[i] = r.flag()?;
        }
    }
    for i in 0..=l0 {
        if pwt.luma_weight_l0_flag[i] {
            pwt.delta_luma_weight_l0[i] = se_range(r, -128, 127, "delta_luma_weight_l0")? as i8;
            pwt.luma_offset_l0[i] = se_range(r, -128, 127, "luma_offset_l0")? as i8;
        }
        if pwt.chroma_weight_l0_flag[i] {
            for j in 0..2 {
                pwt.delta_chroma_weight_l0[i][j] =
                    se_range(r, -128, 127, "delta_chroma_weight_l0")? as i8;
                pwt.delta_chroma_offset_l0[i][j] =
                    se_range(r, -4 * half_c, 4 * half_c - 1, "delta_chroma_offset_l0")? as i16;
            }
        }
    }
    if is_b {
        for i in 0..=l1 {
            pwt.luma_weight_l1_flag[i] = r.flag()?;
        }
        if sps.chroma_array_type != 0 {
            for i in 0..=l1 {
                pwt.chroma_weight_l1_flag[i] = r.flag()?;
            }
        }
        for i in 0..=l1 {
            if pwt.luma_weight_l1_flag[i] {
                pwt.delta_luma_weight_l1[i] = se_range(r, -128, 127, "delta_luma_weight_l1")? as i8;
                pwt.luma_offset_l1[i] = se_range(r, -128, 127, "luma_offset_l1")? as i8;
            }
            if pwt.chroma_weight_l1_flag[i] {
                for j in 0..2 {
                    pwt.delta_chroma_weight_l1[i][j] =
                        se_range(r, -128, 127, "delta_chroma_weight_l1")? as i8;
                    pwt.delta_chroma_offset_l1[i][j] =
                        se_range(r, -4 * half_c, 4 * half_c - 1, "delta_chroma_offset_l1")? as i16;
                }
            }
        }
    }
    Ok(())
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

fn skip_profile_tier_level(
    r: &mut BitReader<'_>,
    max_sub_layers_minus1: u32,
) -> Result<(), String> {
    r.skip(88 + 8)?; // general profile (88 bits) + general_level_idc
    let n = max_sub_layers_minus1 as usize;
    let mut prof = [false; 8];
    let mut lvl = [false; 8];
    for i in 0..n {
        prof[i] = r.flag()?;
        lvl[i] = r.flag()?;
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

/// Walks `scaling_list_data()` (H.265 7.3.4) and checks
/// `scaling_list_pred_matrix_id_delta[sizeId][matrixId]`: 0..=matrixId, or
/// 0..=matrixId / 3 for sizeId 3 (7.4.5). cros-codecs 0.0.6 subtracts it
/// from matrixId unchecked (Equation 7-42) and indexes with the result: a
/// larger value panics inside its `parse_sps` / `parse_pps`.
fn check_scaling_list_data(r: &mut BitReader<'_>) -> Result<(), String> {
    for size_id in 0..4u32 {
        let mut matrix_id = 0;
        while matrix_id < 6 {
            if !r.flag()? {
                let delta = r.ue()?;
                let step = if size_id == 3 { 3 } else { 1 };
                if delta > matrix_id / step {
                    return Err(format!(
                        "scaling_list_pred_matrix_id_delta[{size_id}][{matrix_id}] = {delta} \
                         (at most {})",
                        matrix_id / step
                    ));
                }
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

/// What the rest of an SPS walk needs from its head.
struct SpsHead {
    max_sub_layers_minus1: u32,
    /// `log2_max_pic_order_cnt_lsb_minus4 + 4`
    log2_max_poc_lsb: u32,
}

/// Walks an SPS RBSP from its start through `scaling_list_data()` (checked
/// by [`check_scaling_list_data`]) (H.265 7.3.2.2.1).
fn walk_sps_head(r: &mut BitReader<'_>) -> Result<SpsHead, String> {
    r.skip(4)?; // sps_video_parameter_set_id
    let max_sub_layers_minus1 = checked_max_sub_layers_minus1(r.u(3)?)?;
    r.skip(1)?;
    skip_profile_tier_level(r, max_sub_layers_minus1)?;
    r.ue()?; // sps_seq_parameter_set_id
    if r.ue()? == 3 {
        r.skip(1)?;
    }
    r.ue()?;
    r.ue()?;
    if r.flag()? {
        for _ in 0..4 {
            r.ue()?;
        }
    }
    r.ue()?;
    r.ue()?;
    let log2_max_poc_lsb = r.ue()? + 4;
    let present = r.flag()?;
    let first = if present { 0 } else { max_sub_layers_minus1 };
    for _ in first..=max_sub_layers_minus1 {
        r.ue()?;
        r.ue()?;
        r.ue()?;
    }
    for _ in 0..6 {
        r.ue()?;
    }
    if r.flag()? && r.flag()? {
        check_scaling_list_data(r)?;
    }
    Ok(SpsHead {
        max_sub_layers_minus1,
        log2_max_poc_lsb,
    })
}

/// Walks the rest of an SPS RBSP after [`walk_sps_head`] (H.265 7.3.2.2.1)
/// the way cros-codecs 0.0.6 reads it, to its extension flags, and refuses
/// `sps_scc_extension()`, which its `parse_sps` can panic on: with
/// `palette_max_size` and `delta_palette_max_predictor_size` both 0
/// cros-codecs computes
/// `palette_max_size + delta_palette_max_predictor_size − 1` unsigned
/// (7.3.2.2.3). Screen content coding is a profile (SCC, Annex A.3.7) that
/// no V4L2 stateless decoder and no control of the HEVC uAPI serves, so any
/// SPS with it is refused. The walk also refuses a `st_ref_pic_set()`
/// deriving more than 16 pictures (7.4.8 bounds them by the DPB size;
/// the uAPI's DPB holds 16), which cros-codecs accepts.
///
/// Where cros-codecs reads differently from the spec the walk follows
/// cros-codecs, since the point is to know where cros-codecs' reads land:
/// its `hrd_parameters()` does not infer `fixed_pic_rate_within_cvs_flag`
/// = 1 when `fixed_pic_rate_general_flag` is 1 (E.3.2).
fn walk_sps_tail(r: &mut BitReader<'_>, head: &SpsHead) -> Result<(), String> {
    skip_sps_amp_sao_pcm(r)?;
    let num_sets = ue_max(r, 64, "num_short_term_ref_pic_sets")? as usize;
    let mut sets = Vec::with_capacity(num_sets);
    for i in 0..num_sets {
        sets.push(read_st_rps(r, &sets, i, false)?);
    }
    if r.flag()? {
        // long_term_ref_pics_present_flag
        let n = ue_max(r, 32, "num_long_term_ref_pics_sps")?;
        for _ in 0..n {
            r.skip(head.log2_max_poc_lsb as usize + 1)?;
        }
    }
    r.skip(2)?; // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
    if r.flag()? {
        skip_vui_parameters(r, head.max_sub_layers_minus1)?;
    }
    if !r.flag()? {
        return Ok(()); // no sps_extension_present_flag
    }
    if r.flag()? {
        r.skip(9)?; // sps_range_extension(): nine flags
    }
    if r.flag()? || r.flag()? {
        return Ok(()); // multilayer or 3D extension: cros-codecs refuses them itself
    }
    if r.flag()? {
        return Err(
            "sps_scc_extension() (screen content coding: no stateless decoder here)".into(),
        );
    }
    Ok(())
}

/// Skips the SPS from `amp_enabled_flag` through the PCM parameters
/// (H.265 7.3.2.2.1), to `num_short_term_ref_pic_sets`.
fn skip_sps_amp_sao_pcm(r: &mut BitReader<'_>) -> Result<(), String> {
    r.skip(2)?; // amp_enabled_flag, sample_adaptive_offset_enabled_flag
    if r.flag()? {
        // pcm_enabled_flag: bit depths (4 + 4), two block sizes, loop filter flag
        r.skip(8)?;
        r.ue()?;
        r.ue()?;
        r.skip(1)?;
    }
    Ok(())
}

/// Skips `vui_parameters()` (H.265 E.2.1) as cros-codecs 0.0.6 reads it.
fn skip_vui_parameters(r: &mut BitReader<'_>, max_sub_layers_minus1: u32) -> Result<(), String> {
    if r.flag()? && r.u(8)? == 255 {
        r.skip(32)?; // aspect_ratio_idc EXTENDED_SAR: sar_width, sar_height
    }
    if r.flag()? {
        r.skip(1)?; // overscan_appropriate_flag
    }
    if r.flag()? {
        // video_format, video_full_range_flag, colour_description_present_flag
        r.skip(4)?;
        if r.flag()? {
            r.skip(24)?;
        }
    }
    if r.flag()? {
        r.ue()?; // chroma_sample_loc_type_top_field
        r.ue()?;
    }
    // neutral_chroma_indication_flag, field_seq_flag, frame_field_info_present_flag
    r.skip(3)?;
    if r.flag()? {
        for _ in 0..4 {
            r.ue()?; // def_disp_win_*_offset
        }
    }
    if r.flag()? {
        r.skip(64)?; // vui_num_units_in_tick, vui_time_scale
        if r.flag()? {
            r.ue()?; // vui_num_ticks_poc_diff_one_minus1
        }
        if r.flag()? {
            skip_hrd_parameters(r, max_sub_layers_minus1)?;
        }
    }
    if r.flag()? {
        r.skip(3)?; // tiles_fixed_structure_flag .. restricted_ref_pic_lists_flag
        for _ in 0..5 {
            r.ue()?; // min_spatial_segmentation_idc .. log2_max_mv_length_vertical
        }
    }
    Ok(())
}

/// Skips `hrd_parameters(1, max_sub_layers_minus1)` (H.265 E.2.2) as
/// cros-codecs 0.0.6 reads it (see [`walk_sps_tail`] for where it differs).
fn skip_hrd_parameters(r: &mut BitReader<'_>, max_sub_layers_minus1: u32) -> Result<(), String> {
    let nal = r.flag()?;
    let vcl = r.flag()?;
    let mut sub_pic = false;
    if nal || vcl {
        sub_pic = r.flag()?;
        if sub_pic {
            r.skip(8 + 5 + 1 + 5)?;
        }
        r.skip(8)?; // bit_rate_scale, cpb_size_scale
        if sub_pic {
            r.skip(4)?;
        }
        r.skip(15)?; // three *_length_minus1
    }
    for _ in 0..=max_sub_layers_minus1 {
        let general = r.flag()?;
        let within_cvs = !general && r.flag()?;
        let low_delay = if within_cvs {
            r.ue()?; // elemental_duration_in_tc_minus1
            false
        } else {
            r.flag()?
        };
        let cpb_cnt_minus1 = if low_delay {
            0
        } else {
            ue_max(r, 31, "cpb_cnt_minus1")?
        };
        for present in [nal, vcl] {
            if present {
                for _ in 0..=cpb_cnt_minus1 {
                    r.ue()?;
                    r.ue()?;
                    if sub_pic {
                        r.ue()?;
                        r.ue()?;
                    }
                    r.skip(1)?; // cbr_flag
                }
            }
        }
    }
    Ok(())
}

/// `vps_max_sub_layers_minus1` / `sps_max_sub_layers_minus1`: 0..=6 (H.265
/// 7.4.3.1, 7.4.3.2.1). cros-codecs 0.0.6 indexes its 6-entry sub-layer
/// arrays of `profile_tier_level()` with it unchecked (7 panics).
fn checked_max_sub_layers_minus1(v: u32) -> Result<u32, String> {
    if v > 6 {
        return Err(format!("max_sub_layers_minus1 {v} (at most 6)"));
    }
    Ok(v)
}

/// Checks what cros-codecs 0.0.6's `parse_vps` would panic on in a VPS
/// NAL unit (header included): `vps_max_sub_layers_minus1` (see
/// [`checked_max_sub_layers_minus1`]). Call before `Parser::parse_vps`.
///
/// Errors: the value out of range, or a VPS shorter than its first 2 bytes.
pub fn check_vps(nal: &[u8]) -> Result<(), String> {
    let rb = rbsp(nal.get(2..).ok_or("short VPS")?);
    let mut r = BitReader::new(&rb);
    // vps_video_parameter_set_id, vps_base_layer_internal_flag,
    // vps_base_layer_available_flag, vps_max_layers_minus1
    r.skip(12)?;
    checked_max_sub_layers_minus1(r.u(3)?).map(|_| ())
}

/// Checks what cros-codecs 0.0.6's `parse_sps` would panic on in an SPS
/// NAL unit (header included): `sps_max_sub_layers_minus1` (see
/// [`checked_max_sub_layers_minus1`]), its `scaling_list_data()` (see
/// [`check_scaling_list_data`]) and, walking the rest of it as cros-codecs
/// reads it, `sps_scc_extension()` (see [`walk_sps_tail`]). Call before
/// `Parser::parse_sps`.
///
/// Errors: either value out of its range, an SCC extension, a
/// `st_ref_pic_set()` of more than 16 pictures, or data ending early
/// (which cros-codecs also refuses).
pub fn check_sps(nal: &[u8]) -> Result<(), String> {
    let rb = rbsp(nal.get(2..).ok_or("short SPS")?);
    let mut r = BitReader::new(&rb);
    let head = walk_sps_head(&mut r)?;
    walk_sps_tail(&mut r, &head)
}

/// Checks what cros-codecs 0.0.6's `parse_pps` would panic on in a PPS
/// NAL unit (header included), with `parser` holding the SPSs seen so
/// far: the PPS is walked (H.265 7.3.2.3.1) through its
/// `scaling_list_data()`, checked as [`check_scaling_list_data`] does, and
/// to `pps_range_extension_flag`. cros-codecs computes `BitDepthY − 10` of
/// `pps_range_extension()` (7.4.3.3.2) in an unsigned type: an overflow
/// for 8- and 9-bit luma (a panic in builds with overflow checks). The
/// range extension belongs to the RExt profiles, which no stateless
/// decoder here serves, so such a PPS is refused. Call before
/// `Parser::parse_pps`.
///
/// Errors: a `scaling_list_pred_matrix_id_delta` out of range, a range
/// extension over an SPS of under 10-bit luma, data ending early (which
/// cros-codecs also refuses).
pub fn check_pps(parser: &Parser, nal: &[u8]) -> Result<(), String> {
    let rb = rbsp(nal.get(2..).ok_or("short PPS")?);
    let mut r = BitReader::new(&rb);
    r.ue()?; // pps_pic_parameter_set_id

    // pps_seq_parameter_set_id: its SPS, when seen (when not, cros-codecs
    // refuses the PPS itself)
    let sps = u8::try_from(r.ue()?).ok().and_then(|id| parser.get_sps(id));
    // dependent_slice_segments_enabled_flag, output_flag_present_flag,
    // num_extra_slice_header_bits, sign_data_hiding_enabled_flag,
    // cabac_init_present_flag
    r.skip(7)?;
    r.ue()?; // num_ref_idx_l0_default_active_minus1
    r.ue()?; // num_ref_idx_l1_default_active_minus1
    r.se()?; // init_qp_minus26
    r.skip(2)?; // constrained_intra_pred_flag, transform_skip_enabled_flag
    if r.flag()? {
        r.ue()?; // diff_cu_qp_delta_depth
    }
    r.se()?; // pps_cb_qp_offset
    r.se()?; // pps_cr_qp_offset
             // pps_slice_chroma_qp_offsets_present_flag, weighted_pred_flag,
             // weighted_bipred_flag, transquant_bypass_enabled_flag
    r.skip(4)?;
    let tiles_enabled = r.flag()?;
    r.skip(1)?; // entropy_coding_sync_enabled_flag
    if tiles_enabled {
        let cols = r.ue()?; // num_tile_columns_minus1
        let rows = r.ue()?; // num_tile_rows_minus1

        // cros-codecs 0.0.6 keeps column_width_minus1[19] and
        // row_height_minus1[21], one short of the level limits (H.265
        // A.4.1: MaxTileCols 20, MaxTileRows 22 at level 6), and indexes
        // them with the counts unchecked
        if cols > 18 || rows > 20 {
            return Err(format!(
                "{} x {} tiles (at most 19 x 21 here: cros-codecs 0.0.6)",
                cols + 1,
                rows + 1
            ));
        }
        // the picture in CTBs (7-15, 7-17)
        let ctbs = sps.map(|sps| (sps.pic_width_in_ctbs_y, sps.pic_height_in_ctbs_y));
        if let Some((w, h)) = ctbs {
            if cols >= w || rows >= h {
                return Err(format!(
                    "{} x {} tiles in a picture of {w} x {h} CTBs",
                    cols + 1,
                    rows + 1
                ));
            }
        }
        if !r.flag()? {
            // uniform_spacing_flag = 0: column_width_minus1[i],
            // row_height_minus1[i] (7.4.3.3). Every tile is at least one
            // CTB wide and high, the last column and row included (their
            // sizes are what the others leave); cros-codecs 0.0.6 reads
            // each with the remaining CTBs minus 2 as its maximum, which
            // underflows once only the last column's CTB is left.
            for (n, size, what) in [
                (cols, ctbs.map(|c| c.0), "column_width_minus1"),
                (rows, ctbs.map(|c| c.1), "row_height_minus1"),
            ] {
                let mut left = size;
                for i in 0..n {
                    let v = r.ue()?;
                    if let Some(l) = left {
                        // this tile and the last one still need a CTB each
                        if l < 2 || v > l - 2 {
                            return Err(format!(
                                "{what}[{i}] = {v} leaves no CTB for the last tile ({l} left)"
                            ));
                        }
                        left = Some(l - (v + 1));
                    }
                }
            }
        }
        r.skip(1)?; // loop_filter_across_tiles_enabled_flag
    }
    r.skip(1)?; // pps_loop_filter_across_slices_enabled_flag
    if r.flag()? {
        // deblocking_filter_control_present_flag
        r.skip(1)?; // deblocking_filter_override_enabled_flag
        if !r.flag()? {
            r.se()?; // pps_beta_offset_div2
            r.se()?; // pps_tc_offset_div2
        }
    }
    if r.flag()? {
        check_scaling_list_data(&mut r)?;
    }
    r.skip(1)?; // lists_modification_present_flag
    r.ue()?; // log2_parallel_merge_level_minus2
    r.skip(1)?; // slice_segment_header_extension_present_flag
    if !r.flag()? || !r.flag()? {
        // no pps_extension_present_flag, or no pps_range_extension_flag
        return Ok(());
    }
    match sps {
        Some(sps) if sps.bit_depth_luma_minus8 < 2 => Err(format!(
            "pps_range_extension() over a {}-bit SPS (RExt: not decodable here)",
            sps.bit_depth_luma_minus8 + 8
        )),
        _ => Ok(()),
    }
}

/// Walks an SPS NAL unit (header included) up to its long-term candidates
/// and returns the raw RPS syntax. `sps` is cros-codecs' parse of the same
/// unit (for `NumDeltaPocs` of the reference sets).
///
/// Errors: truncated or inconsistent data (the message names the syntax).
pub fn parse_sps_rps(nal: &[u8], sps: &Sps) -> Result<SpsRps, String> {
    let rb = rbsp(nal.get(2..).ok_or("short SPS")?);
    let mut r = BitReader::new(&rb);
    let log2_max_poc_lsb = walk_sps_head(&mut r)?.log2_max_poc_lsb;
    skip_sps_amp_sao_pcm(&mut r)?;
    let num_sets = r.ue()?;
    if num_sets > 64 || num_sets as usize != sps.short_term_ref_pic_set.len() {
        return Err(format!("num_short_term_ref_pic_sets {num_sets}"));
    }
    let mut out = SpsRps::default();
    for i in 0..num_sets as usize {
        let mut s = StRpsSyntax::default();
        if i != 0 {
            s.inter_ref_pic_set_prediction_flag = r.flag()?;
        }
        if s.inter_ref_pic_set_prediction_flag {
            s.delta_rps_sign = r.flag()?;
            s.abs_delta_rps_minus1 = r.ue()?;
            let ref_st = &sps.short_term_ref_pic_set[i - 1];
            let n = (ref_st.num_delta_pocs as usize).min(32);
            for _ in 0..=n {
                let used = r.flag()?;
                s.used_by_curr_pic_flag.push(used);
                s.use_delta_flag.push(if used { true } else { r.flag()? });
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
                s.used_by_curr_pic_flag.push(r.flag()?);
            }
            for _ in 0..pos {
                s.delta_poc_s1_minus1.push(r.ue()?);
                s1_used.push(r.flag()?);
            }
            s.used_by_curr_pic_flag.extend(s1_used);
        }
        out.st.push(s);
    }
    if r.flag()? {
        let n = r.ue()?;
        if n > 32 {
            return Err(format!("num_long_term_ref_pics_sps {n}"));
        }
        for _ in 0..n {
            let lsb = r.u(log2_max_poc_lsb)?;
            let used = r.flag()?;
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
        let mut r = BitReader::new(&d);
        assert_eq!(r.ue().unwrap(), 0);
        assert_eq!(r.ue().unwrap(), 1);
        assert_eq!(r.ue().unwrap(), 2);
        assert_eq!(r.ue().unwrap(), 3);
        assert!(r.ue().is_err());
    }
}
