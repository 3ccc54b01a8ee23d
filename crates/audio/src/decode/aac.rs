//! The AAC facts the decoder needs besides symphonia: ffprobe's profile
//! names for what is refused, and libfaac's encoder delay. (The
//! AudioSpecificConfig and ADTS headers are read with the container's
//! parsers, `vreq_container::parse_asc` / `adts_header`.)

/// The name of an AAC profile by object type, as ffprobe prints it.
pub(crate) fn profile_name(object_type: u32) -> &'static str {
    match object_type {
        1 => "Main",
        2 => "LC",
        3 => "SSR",
        4 => "LTP",
        5 => "HE-AAC",
        29 => "HE-AACv2",
        23 => "LD",
        39 => "ELD",
        42 => "USAC",
        _ => "other profile",
    }
}

/// Samples libfaac puts before the signal (its encoder delay), which FFmpeg's
/// AAC decoder drops when it finds libfaac's version string in a fill
/// element (`libavcodec/aacdec_template.c` `decode_fill`: `"libfaac %d.%d"`
/// → `skip_samples = 1024`).
pub(crate) const LIBFAAC_DELAY: u64 = 1024;

/// Whether a raw AAC frame carries libfaac's `"libfaac X.Y"` fill element.
/// The fill element's bytes need not be byte-aligned in the frame, so the
/// string is looked for at each of the 8 bit offsets; a frame is at most
/// 6144 bits per channel (ISO/IEC 14496-3 4.5.3.2), so this is cheap. This
/// finds what FFmpeg's element-by-element parse finds, without parsing the
/// channel elements before it (the 8-byte string has no other likely
/// source).
pub(crate) fn has_libfaac_fill(frame: &[u8]) -> bool {
    const PAT: &[u8] = b"libfaac ";
    if frame.len() < PAT.len() + 1 {
        return false;
    }
    (0..8u32).any(|shift| {
        let shifted: Vec<u8> = frame
            .windows(2)
            .map(|w| ((u16::from(w[0]) << 8 | u16::from(w[1])) >> (8 - shift)) as u8)
            .collect();
        shifted.windows(PAT.len()).any(|w| w == PAT)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libfaac_fill_is_found_at_any_bit_offset() {
        let mut frame = vec![0x21, 0x10, 0x05];
        frame.extend(b"libfaac 1.28");
        frame.push(0);
        assert!(has_libfaac_fill(&frame));
        // The same bytes shifted by 3 bits.
        let mut shifted = vec![0u8; frame.len() + 1];
        for (i, b) in frame.iter().enumerate() {
            shifted[i] |= b >> 3;
            shifted[i + 1] |= b << 5;
        }
        assert!(has_libfaac_fill(&shifted));
        assert!(!has_libfaac_fill(b"\x21\x10libfaa  1.28"));
    }
}
