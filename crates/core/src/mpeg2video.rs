//! MPEG-2 video (ISO/IEC 13818-2) syntax facts that both the demuxer
//! (cutting an elementary stream into frames) and the codec (parsing the
//! headers of a frame) need: start code values (Table 6-1), start-code
//! delimited units, and the `frame_rate_code` table (Table 6-4).

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

/// Every `00 00 01 xx` unit of `data`, in order. Bytes before the first
/// start code are ignored.
pub fn units(data: &[u8]) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    let mut i = 0;
    while i + 3 < data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            if let Some(prev) = out.last_mut() {
                prev.end = i;
            }
            out.push(Unit {
                code: data[i + 3],
                start: i,
                end: data.len(),
            });
            i += 3;
        } else {
            i += 1;
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_cover_the_data_after_the_first_start_code() {
        let d = [9, 0, 0, 1, 0xB3, 1, 2, 0, 0, 1, 0x00, 7];
        let u = units(&d);
        assert_eq!(u.len(), 2);
        assert_eq!((u[0].code, u[0].start, u[0].end), (0xB3, 1, 7));
        assert_eq!((u[1].code, u[1].start, u[1].end), (0x00, 7, 12));
        assert_eq!(u[1].payload(&d), &[7]);
    }

    #[test]
    fn overlapping_start_codes_give_an_empty_payload() {
        let d = [0, 0, 1, 0, 0, 1, 0xB3, 5];
        let u = units(&d);
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
