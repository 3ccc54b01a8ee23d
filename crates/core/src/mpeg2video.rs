//! MPEG-2 video (ISO/IEC 13818-2) syntax facts that both the demuxer
//! (cutting an elementary stream into frames) and the codec (parsing the
//! headers of a frame) need: start code values (Table 6-1), start-code
//! delimited units, and the `frame_rate_code` table (Table 6-4); and what
//! the codec and vreq-va's MPEG-2 mapping share: the picture coding
//! extension (6.2.3.1) and its uAPI picture flags.

use v4l2r::bindings;

/// `picture_start_code` value (6.2.3).
pub const PICTURE_START: u8 = 0x00;
/// Last `slice_start_code` value (6.2.4).
pub const SLICE_LAST: u8 = 0xAF;
/// `sequence_header_code`.
pub const SEQUENCE_HEADER: u8 = 0xB3;
/// `extension_start_code`.
pub const EXTENSION_START: u8 = 0xB5;
/// `sequence_end_code`.
pub const SEQUENCE_END: u8 = 0xB7;
/// `group_start_code`.
pub const GROUP_START: u8 = 0xB8;

/// One start-code delimited unit: `code` is the byte after `00 00 01`;
/// `start` is the offset of the `00 00 01` prefix and `end` the offset of
/// the next prefix (or the end of the data), so `data[start..end]` is the
/// unit with its start code (GStreamer's `sc_offset` / `size + 4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    pub code: u8,
    pub start: usize,
    pub end: usize,
}

impl Unit {
    /// The payload after the 4-byte start code; empty when the next start
    /// code begins inside this one (`00 00 01 00 00 01 ..`: [`units`] finds
    /// the second prefix at `start + 3`).
    pub fn payload<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        data.get((self.start + 4).min(self.end)..self.end)
            .unwrap_or(&[])
    }
}

/// Every `00 00 01 xx` unit of `data`, in order, found as the iterator
/// advances (nothing is allocated). Bytes before the first start code are
/// ignored.
pub fn units(data: &[u8]) -> Units<'_> {
    Units {
        data,
        next: find_start_code(data, 0),
    }
}

/// The iterator of [`units`].
#[derive(Debug, Clone)]
pub struct Units<'a> {
    data: &'a [u8],
    /// Offset of the next unit's `00 00 01` prefix.
    next: Option<usize>,
}

impl Iterator for Units<'_> {
    type Item = Unit;

    fn next(&mut self) -> Option<Unit> {
        let start = self.next?;
        self.next = find_start_code(self.data, start + 3);
        Some(Unit {
            code: self.data[start + 3],
            start,
            end: self.next.unwrap_or(self.data.len()),
        })
    }
}

/// The offset of the first `00 00 01` at or after `from` that a code byte
/// follows.
fn find_start_code(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 3 < data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Frame rate (numerator, denominator) of `frame_rate_code` (Table 6-4);
/// codes outside 1..=8 give 30000/1001, as GStreamer's `set_fps_from_code`.
pub fn frame_rate(frame_rate_code: u8) -> (u32, u32) {
    match frame_rate_code {
        1 => (24000, 1001),
        2 => (24, 1),
        3 => (25, 1),
        5 => (30, 1),
        6 => (50, 1),
        7 => (60000, 1001),
        8 => (60, 1),
        _ => (30000, 1001),
    }
}

/// `picture_coding_extension()` (6.2.3.1): the syntax elements, in their
/// order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PictureCodingExtension {
    /// `f_code[s][t]` (s 0 forward, 1 backward; t 0 horizontal, 1 vertical).
    pub f_code: [[u8; 2]; 2],
    pub intra_dc_precision: u8,
    /// 1 top field, 2 bottom field, 3 frame (6.3.10).
    pub picture_structure: u8,
    pub top_field_first: bool,
    pub frame_pred_frame_dct: bool,
    pub concealment_motion_vectors: bool,
    pub q_scale_type: bool,
    pub intra_vlc_format: bool,
    pub alternate_scan: bool,
    pub repeat_first_field: bool,
    pub chroma_420_type: bool,
    pub progressive_frame: bool,
}

impl PictureCodingExtension {
    /// The `V4L2_MPEG2_PIC_FLAG_*` bits of `v4l2_ctrl_mpeg2_picture.flags`
    /// (uAPI "ext-ctrls-codec-stateless") for this extension's flags, as
    /// GStreamer's `gstv4l2codecmpeg2dec.c` sets them
    /// (`chroma_420_type` has no uAPI flag).
    pub fn v4l2_picture_flags(&self) -> u32 {
        let f = |b: bool, v: u32| if b { v } else { 0 };
        f(
            self.top_field_first,
            bindings::V4L2_MPEG2_PIC_FLAG_TOP_FIELD_FIRST,
        ) | f(
            self.frame_pred_frame_dct,
            bindings::V4L2_MPEG2_PIC_FLAG_FRAME_PRED_DCT,
        ) | f(
            self.concealment_motion_vectors,
            bindings::V4L2_MPEG2_PIC_FLAG_CONCEALMENT_MV,
        ) | f(
            self.q_scale_type,
            bindings::V4L2_MPEG2_PIC_FLAG_Q_SCALE_TYPE,
        ) | f(
            self.intra_vlc_format,
            bindings::V4L2_MPEG2_PIC_FLAG_INTRA_VLC,
        ) | f(self.alternate_scan, bindings::V4L2_MPEG2_PIC_FLAG_ALT_SCAN)
            | f(
                self.repeat_first_field,
                bindings::V4L2_MPEG2_PIC_FLAG_REPEAT_FIRST,
            )
            | f(
                self.progressive_frame,
                bindings::V4L2_MPEG2_PIC_FLAG_PROGRESSIVE,
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_cover_the_data_after_the_first_start_code() {
        let d = [9, 0, 0, 1, 0xB3, 1, 2, 0, 0, 1, 0x00, 7];
        let u: Vec<Unit> = units(&d).collect();
        assert_eq!(u.len(), 2);
        assert_eq!((u[0].code, u[0].start, u[0].end), (0xB3, 1, 7));
        assert_eq!((u[1].code, u[1].start, u[1].end), (0x00, 7, 12));
        assert_eq!(u[1].payload(&d), &[7]);
    }

    #[test]
    fn overlapping_start_codes_give_an_empty_payload() {
        let d = [0, 0, 1, 0, 0, 1, 0xB3, 5];
        let u: Vec<Unit> = units(&d).collect();
        assert_eq!((u[0].start, u[0].end), (0, 3));
        assert!(u[0].payload(&d).is_empty());
        assert_eq!(u[1].payload(&d), &[5]);
    }

    #[test]
    fn frame_rate_table_6_4() {
        assert_eq!(frame_rate(3), (25, 1));
        assert_eq!(frame_rate(4), (30000, 1001));
        assert_eq!(frame_rate(0), (30000, 1001));
        assert_eq!(frame_rate(9), (30000, 1001));
    }
}
