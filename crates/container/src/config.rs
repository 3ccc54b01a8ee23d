//! Decoder configuration records shared by the MP4 and Matroska demuxers.

use super::{CodecKind, CodecPrivate};

/// Parses an `AVCDecoderConfigurationRecord` (ISO/IEC 14496-15 §5.3.3.1):
/// `configurationVersion`(8) = 1, `AVCProfileIndication`(8),
/// `profile_compatibility`(8), `AVCLevelIndication`(8), 6 reserved bits +
/// `lengthSizeMinusOne`(2), 3 reserved bits + `numOfSequenceParameterSets`(5),
/// then per SPS a 16-bit length + NAL unit, `numOfPictureParameterSets`(8),
/// per PPS a 16-bit length + NAL unit (the High-profile extension after that
/// is ignored).
///
/// Errors: a message naming the byte (relative to the record) that is wrong:
/// short record, version ≠ 1, `lengthSizeMinusOne` = 2 (3-byte lengths are
/// not allowed by §5.3.3.2), a NAL unit running past the end.
pub fn parse_avcc(d: &[u8]) -> Result<CodecPrivate, (usize, String)> {
    if d.len() < 7 {
        return Err((
            0,
            format!("avcC is {} bytes, shorter than its 7-byte header", d.len()),
        ));
    }
    if d[0] != 1 {
        return Err((
            0,
            format!("avcC configurationVersion {} (expected 1)", d[0]),
        ));
    }
    let nal_length_size = (d[4] & 3) + 1;
    if nal_length_size == 3 {
        return Err((
            4,
            "avcC lengthSizeMinusOne = 2 (3-byte NAL lengths are not allowed)".into(),
        ));
    }
    let mut p = 5usize;
    let num_sps = usize::from(d[p] & 0x1f);
    p += 1;
    let mut sps = Vec::with_capacity(num_sps);
    for _ in 0..num_sps {
        sps.push(read_u16_prefixed(d, &mut p, "avcC SPS")?);
    }
    let Some(&num_pps) = d.get(p) else {
        return Err((p, "avcC ends before numOfPictureParameterSets".into()));
    };
    p += 1;
    let mut pps = Vec::with_capacity(usize::from(num_pps));
    for _ in 0..num_pps {
        pps.push(read_u16_prefixed(d, &mut p, "avcC PPS")?);
    }
    Ok(CodecPrivate::Avc {
        nal_length_size,
        sps,
        pps,
    })
}

/// Parses an `HEVCDecoderConfigurationRecord` (ISO/IEC 14496-15 §8.3.3.1):
/// 22 bytes of profile/tier/level and format fields (byte 21's low 2 bits are
/// `lengthSizeMinusOne`), `numOfArrays`(8), then per array one byte
/// (`array_completeness`, reserved, `NAL_unit_type`(6)), `numNalus`(16) and per
/// NAL unit a 16-bit length + the NAL unit. The NAL units are returned in
/// record order.
///
/// Errors: as [`parse_avcc`].
pub fn parse_hvcc(d: &[u8]) -> Result<CodecPrivate, (usize, String)> {
    if d.len() < 23 {
        return Err((
            0,
            format!("hvcC is {} bytes, shorter than its 23-byte header", d.len()),
        ));
    }
    if d[0] != 1 {
        return Err((
            0,
            format!("hvcC configurationVersion {} (expected 1)", d[0]),
        ));
    }
    let nal_length_size = (d[21] & 3) + 1;
    if nal_length_size == 3 {
        return Err((
            21,
            "hvcC lengthSizeMinusOne = 2 (3-byte NAL lengths are not allowed)".into(),
        ));
    }
    let num_arrays = d[22];
    let mut p = 23usize;
    let mut nal_units = Vec::new();
    for _ in 0..num_arrays {
        if p + 3 > d.len() {
            return Err((p, "hvcC ends inside an array header".into()));
        }
        let num_nalus = u16::from_be_bytes([d[p + 1], d[p + 2]]);
        p += 3;
        for _ in 0..num_nalus {
            nal_units.push(read_u16_prefixed(d, &mut p, "hvcC NAL unit")?);
        }
    }
    Ok(CodecPrivate::Hvcc {
        nal_length_size,
        nal_units,
    })
}

fn read_u16_prefixed(d: &[u8], p: &mut usize, what: &str) -> Result<Vec<u8>, (usize, String)> {
    if *p + 2 > d.len() {
        return Err((*p, format!("{what} length runs past the end of the record")));
    }
    let len = usize::from(u16::from_be_bytes([d[*p], d[*p + 1]]));
    let start = *p + 2;
    let Some(nal) = d.get(start..start + len) else {
        return Err((
            *p,
            format!(
                "{what} of {len} bytes runs past the end of the record ({} bytes)",
                d.len()
            ),
        ));
    };
    *p = start + len;
    Ok(nal.to_vec())
}

/// Whether one coded frame is a random-access point, judged from its bytes
/// (for containers that do not say, e.g. Matroska BlockGroups).
///
/// * H.264 (length-prefixed, `nal_length_size` bytes): a NAL unit of type 5 (IDR).
/// * HEVC (length-prefixed): a NAL unit of type 16..=23 (IRAP, H.265 7.4.2.2).
/// * VP8: frame tag bit 0 = 0 (RFC 6386 §9.1). VP9: `frame_type` = KEY_FRAME.
/// * MPEG-2: a picture header with `picture_coding_type` = 1 (I, 13818-2 §6.2.3).
/// * Anything else (audio...): true.
pub fn frame_is_keyframe(codec: &super::TrackCodec, private: &CodecPrivate, data: &[u8]) -> bool {
    use super::TrackCodec;
    match codec {
        TrackCodec::Video(CodecKind::H264) | TrackCodec::Video(CodecKind::Hevc) => {
            let len_size = match private {
                CodecPrivate::Avc {
                    nal_length_size, ..
                }
                | CodecPrivate::Hvcc {
                    nal_length_size, ..
                } => usize::from(*nal_length_size),
                _ => 4,
            };
            let mut p = 0usize;
            while p + len_size < data.len() {
                let mut n = 0usize;
                for &b in &data[p..p + len_size] {
                    n = (n << 8) | usize::from(b);
                }
                let h = data[p + len_size];
                let key = if *codec == TrackCodec::Video(CodecKind::H264) {
                    h & 0x1f == 5
                } else {
                    (16..=23).contains(&((h >> 1) & 0x3f))
                };
                if key {
                    return true;
                }
                p = match p.checked_add(len_size).and_then(|v| v.checked_add(n)) {
                    Some(v) => v,
                    None => return false,
                };
            }
            false
        }
        TrackCodec::Video(CodecKind::Vp8) => data.first().is_some_and(|b| b & 1 == 0),
        TrackCodec::Video(CodecKind::Vp9) => super::ivf::vp9_is_keyframe(data),
        TrackCodec::Video(CodecKind::Mpeg2) => {
            let mut i = 0;
            while i + 6 <= data.len() {
                if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 && data[i + 3] == 0 {
                    // temporal_reference(10) picture_coding_type(3)
                    return (data[i + 5] >> 3) & 7 == 1;
                }
                i += 1;
            }
            false
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avcc_two_sps_and_short_lengths() {
        // version 1, profile 100, compat 0, level 31, lengthSizeMinusOne 1, 2 SPS, 1 PPS
        let rec = [
            1, 100, 0, 31, 0xfd, 0xe2, 0, 2, 0x67, 1, 0, 1, 0x67, 1, 0, 2, 0x68, 0xee,
        ];
        match parse_avcc(&rec).unwrap() {
            CodecPrivate::Avc {
                nal_length_size,
                sps,
                pps,
            } => {
                assert_eq!(nal_length_size, 2);
                assert_eq!(sps, vec![vec![0x67, 1], vec![0x67]]);
                assert_eq!(pps, vec![vec![0x68, 0xee]]);
            }
            other => panic!("{other:?}"),
        }
        assert!(parse_avcc(&rec[..10]).is_err());
        let mut bad = rec;
        bad[4] = 0xfe;
        assert!(parse_avcc(&bad).is_err());
    }
}
