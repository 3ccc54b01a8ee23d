//! H.264 syntax: NAL unit framing (Annex B byte stream and ISO/IEC 14496-15
//! length prefixes), SEI recovery points and first-slice-of-picture detection
//! (7.4.1.2.4). Parameter sets and slice headers are parsed by the
//! `cros-codecs` parser ([`cros_codecs::codec::h264::parser`]); this file only
//! adds what it lacks.

use std::borrow::Cow;

use cros_codecs::codec::h264::parser::{Nalu, NaluHeader, NaluType, SliceHeader};

/// One NAL unit inside a coded unit: its bytes (header byte included, start
/// code / length prefix excluded, emulation prevention bytes kept) and where
/// it starts in the unit.
#[derive(Debug, Clone, Copy)]
pub struct NalRef<'a> {
    pub offset: usize,
    pub data: &'a [u8],
}

impl NalRef<'_> {
    /// `nal_unit_type` (7.4.1).
    pub fn nal_unit_type(&self) -> u8 {
        self.data.first().map(|b| b & 0x1f).unwrap_or(0)
    }
    /// `nal_ref_idc` (7.4.1).
    pub fn nal_ref_idc(&self) -> u8 {
        self.data.first().map(|b| (b >> 5) & 3).unwrap_or(0)
    }
}

/// Splits an Annex B byte stream (B.1) at `00 00 01` start codes. Bytes
/// before the first start code are ignored; trailing zero bytes of a NAL unit
/// (`trailing_zero_8bits`, the `00` of a 4-byte start code) are dropped.
/// [`annexb_nals`] collected.
pub fn split_annexb(data: &[u8]) -> Vec<NalRef<'_>> {
    annexb_nals(data).collect()
}

/// The NAL units of an Annex B byte stream, as [`split_annexb`] cuts them,
/// found as the iterator advances (nothing is allocated).
pub fn annexb_nals(data: &[u8]) -> AnnexBNals<'_> {
    AnnexBNals {
        data,
        next: find_nal_start(data, 0),
    }
}

/// The iterator of [`annexb_nals`].
#[derive(Debug, Clone)]
pub struct AnnexBNals<'a> {
    data: &'a [u8],
    /// Offset of the next NAL unit's first byte (after its start code).
    next: Option<usize>,
}

impl<'a> Iterator for AnnexBNals<'a> {
    type Item = NalRef<'a>;

    fn next(&mut self) -> Option<NalRef<'a>> {
        let data = self.data;
        loop {
            let s = self.next?;
            self.next = find_nal_start(data, s);
            let mut e = self.next.map_or(data.len(), |n| n - 3);
            while e > s && data[e - 1] == 0 {
                e -= 1;
            }
            if e > s {
                return Some(NalRef {
                    offset: s,
                    data: &data[s..e],
                });
            }
        }
    }
}

/// The offset just after the first `00 00 01` at or after `i`.
fn find_nal_start(data: &[u8], mut i: usize) -> Option<usize> {
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            return Some(i + 3);
        } else if data[i + 2] > 1 {
            i += 3;
        } else {
            i += 1;
        }
    }
    None
}

/// Splits ISO/IEC 14496-15 length-prefixed NAL units (`nal_length_size`
/// bytes, big-endian, before each). Returns the NAL units and, if a length
/// overruns the data, the offset of that length field (the rest is dropped).
/// [`length_prefixed_nals`] collected.
pub fn split_length_prefixed(
    data: &[u8],
    nal_length_size: usize,
) -> (Vec<NalRef<'_>>, Option<usize>) {
    let mut it = length_prefixed_nals(data, nal_length_size);
    let out = it.by_ref().collect();
    (out, it.overrun)
}

/// The NAL units of [`split_length_prefixed`], found as the iterator
/// advances (nothing is allocated); after the last, `overrun` holds the
/// offset of a length field that overruns the data, if one did.
pub fn length_prefixed_nals(data: &[u8], nal_length_size: usize) -> LengthPrefixedNals<'_> {
    LengthPrefixedNals {
        data,
        nal_length_size,
        pos: 0,
        overrun: None,
    }
}

/// The iterator of [`length_prefixed_nals`].
#[derive(Debug, Clone)]
pub struct LengthPrefixedNals<'a> {
    data: &'a [u8],
    nal_length_size: usize,
    pos: usize,
    /// Offset of the length field that overran the data (set when met).
    pub overrun: Option<usize>,
}

impl<'a> Iterator for LengthPrefixedNals<'a> {
    type Item = NalRef<'a>;

    fn next(&mut self) -> Option<NalRef<'a>> {
        let data = self.data;
        while self.pos < data.len() {
            let pos = self.pos;
            if pos + self.nal_length_size > data.len() {
                self.overrun = Some(pos);
                self.pos = data.len();
                return None;
            }
            let mut len = 0usize;
            for b in &data[pos..pos + self.nal_length_size] {
                len = (len << 8) | *b as usize;
            }
            let s = pos + self.nal_length_size;
            if len > data.len() - s {
                self.overrun = Some(pos);
                self.pos = data.len();
                return None;
            }
            self.pos = s + len;
            if len > 0 {
                return Some(NalRef {
                    offset: s,
                    data: &data[s..s + len],
                });
            }
        }
        None
    }
}

/// Wraps a NAL unit for the cros-codecs parser. `None` for NAL unit types
/// it does not know (reserved / extension types), which are ignored.
pub fn cros_nalu<'a>(nal: &NalRef<'a>) -> Option<Nalu<'a>> {
    let b = *nal.data.first()?;
    let type_ = NaluType::try_from(b & 0x1f).ok()?;
    if matches!(type_, NaluType::SliceExt) {
        return None;
    }
    let header = NaluHeader {
        ref_idc: (b >> 5) & 3,
        idr_pic_flag: matches!(type_, NaluType::SliceIdr),
        type_,
    };
    Some(Nalu {
        header,
        data: Cow::Borrowed(nal.data),
        size: nal.data.len(),
        offset: 0,
    })
}

/// Removes emulation prevention bytes (7.4.1: `00 00 03` → `00 00`).
pub use vreq_core::rbsp::strip_emulation_prevention as rbsp;

/// Whether an SEI NAL unit (type 6) carries a recovery point SEI message
/// (payloadType 6, D.1.8). Malformed SEI yields `false`.
pub fn sei_has_recovery_point(nal: &[u8]) -> bool {
    let r = rbsp(nal.get(1..).unwrap_or(&[]));
    let mut i = 0;
    while i < r.len() {
        // rbsp_trailing_bits
        if r[i] == 0x80 && i + 1 == r.len() {
            return false;
        }
        let mut ptype = 0usize;
        while i < r.len() && r[i] == 0xff {
            ptype += 255;
            i += 1;
        }
        let Some(&b) = r.get(i) else { return false };
        ptype += b as usize;
        i += 1;
        let mut psize = 0usize;
        while i < r.len() && r[i] == 0xff {
            psize += 255;
            i += 1;
        }
        let Some(&b) = r.get(i) else { return false };
        psize += b as usize;
        i += 1;
        if ptype == 6 {
            return true;
        }
        i = i.saturating_add(psize);
    }
    false
}

/// The slice-header values that tell pictures apart (7.4.1.2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PicKey {
    pub frame_num: u16,
    pub pic_parameter_set_id: u8,
    pub field_pic_flag: bool,
    pub bottom_field_flag: bool,
    pub nal_ref_idc_zero: bool,
    pub pic_order_cnt_lsb: u16,
    pub delta_pic_order_cnt_bottom: i32,
    pub delta_pic_order_cnt: [i32; 2],
    pub idr_pic_flag: bool,
    pub idr_pic_id: u16,
}

impl PicKey {
    pub fn new(hdr: &SliceHeader, nal_ref_idc: u8, idr: bool) -> Self {
        PicKey {
            frame_num: hdr.frame_num,
            pic_parameter_set_id: hdr.pic_parameter_set_id,
            field_pic_flag: hdr.field_pic_flag,
            bottom_field_flag: hdr.bottom_field_flag,
            nal_ref_idc_zero: nal_ref_idc == 0,
            pic_order_cnt_lsb: hdr.pic_order_cnt_lsb,
            delta_pic_order_cnt_bottom: hdr.delta_pic_order_cnt_bottom,
            delta_pic_order_cnt: hdr.delta_pic_order_cnt,
            idr_pic_flag: idr,
            idr_pic_id: hdr.idr_pic_id,
        }
    }

    /// First VCL NAL unit of a new primary coded picture (7.4.1.2.4)?
    /// A slice with `first_mb_in_slice == 0` is also taken as a new picture
    /// (as parsers in practice do; redundant/ASO streams aside).
    pub fn starts_new_picture(&self, next: &PicKey, next_first_mb: u32) -> bool {
        self != next || next_first_mb == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annexb_split_3_and_4_byte_start_codes() {
        let d = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 9,
        ];
        let n = split_annexb(&d);
        assert_eq!(n.len(), 3);
        assert_eq!(n[0].data, &[0x67, 1, 2]);
        assert_eq!(n[1].data, &[0x68, 3]);
        assert_eq!(n[2].data, &[0x65, 9]);
        assert_eq!(n[2].offset, 17);
    }

    #[test]
    fn length_prefixed_split_and_truncation() {
        let d = [0, 2, 0x67, 1, 0, 3, 0x65, 1];
        let (n, err) = split_length_prefixed(&d, 2);
        assert_eq!(n.len(), 1);
        assert_eq!(err, Some(4));
    }

    #[test]
    fn recovery_point_sei() {
        // SEI: type 6, size 1, payload 0x80 (recovery_frame_cnt=0...), trailing
        assert!(sei_has_recovery_point(&[0x06, 6, 1, 0x84, 0x80]));
        assert!(!sei_has_recovery_point(&[0x06, 5, 1, 0x00, 0x80]));
        assert!(!sei_has_recovery_point(&[0x06, 0xff]));
    }
}
