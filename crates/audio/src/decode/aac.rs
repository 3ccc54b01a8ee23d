//! The few AAC configuration facts read before symphonia sees the stream:
//! the AudioSpecificConfig's object type, rate and channel configuration
//! (ISO/IEC 14496-3 1.6.2.1), to name what is refused (HE-AAC, more than two
//! channels) in the player's message, and ADTS headers (ISO/IEC 13818-7
//! 6.2 / ISO/IEC 14496-3 1.A.2), stripped if a demuxer hands frames with
//! them still on.

/// Sampling frequencies by `samplingFrequencyIndex` (ISO/IEC 14496-3 Table 1.18).
const RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// What the AudioSpecificConfig says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Asc {
    /// `audioObjectType` (2: AAC LC, 5: SBR, 29: PS, ...).
    pub object_type: u32,
    /// Hz (of the core coder).
    pub sample_rate: u32,
    /// `channelConfiguration` (0: a program_config_element says).
    pub channel_config: u8,
}

struct Bits<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn read(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = *self.b.get(self.pos / 8)?;
            v = (v << 1) | u32::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Some(v)
    }
}

/// Parses the start of an AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1:
/// `GetAudioObjectType()`, `samplingFrequencyIndex` or the 24-bit
/// frequency, `channelConfiguration`). `None` if it is shorter than that.
pub(crate) fn parse_asc(b: &[u8]) -> Option<Asc> {
    let mut r = Bits { b, pos: 0 };
    let mut object_type = r.read(5)?;
    if object_type == 31 {
        object_type = 32 + r.read(6)?;
    }
    let index = r.read(4)? as usize;
    let sample_rate = if index == 15 {
        r.read(24)?
    } else {
        *RATES.get(index)?
    };
    let channel_config = r.read(4)? as u8;
    Some(Asc {
        object_type,
        sample_rate,
        channel_config,
    })
}

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

/// If `b` starts with an ADTS header (`syncword` 0xFFF, layer 0), the
/// header's length (7, or 9 with the CRC) and the AudioSpecificConfig it
/// implies (object type = `profile` + 1, ISO/IEC 14496-3 1.A.3.2.1).
pub(crate) fn adts_header(b: &[u8]) -> Option<(usize, [u8; 2])> {
    if b.len() < 7 || b[0] != 0xFF || b[1] & 0xF6 != 0xF0 {
        return None;
    }
    let protection_absent = b[1] & 1 == 1;
    let profile = (b[2] >> 6) & 3;
    let index = (b[2] >> 2) & 0xF;
    let channels = ((b[2] & 1) << 2) | (b[3] >> 6);
    let object_type = profile + 1;
    let asc = [
        (object_type << 3) | (index >> 1),
        ((index & 1) << 7) | (channels << 3),
    ];
    Some((if protection_absent { 7 } else { 9 }, asc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asc_fields() {
        // LC, 44.1 kHz (index 4), stereo: 00010 0100 0010 000 = 0x12 0x10.
        let a = parse_asc(&[0x12, 0x10]).unwrap();
        assert_eq!(
            (a.object_type, a.sample_rate, a.channel_config),
            (2, 44100, 2)
        );
        // HE-AAC explicit: SBR (5), 24 kHz (index 6), stereo: 00101 0110 0010 ...
        let a = parse_asc(&[0x2B, 0x10, 0x88, 0x00]).unwrap();
        assert_eq!((a.object_type, a.sample_rate), (5, 24000));
        assert!(parse_asc(&[0x12]).is_none());
    }

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

    #[test]
    fn adts_header_gives_the_asc() {
        // ADTS, no CRC, LC (profile 1), 48 kHz (index 3), 2 channels.
        let h = [0xFF, 0xF1, 0x4C, 0x80, 0x2E, 0x7F, 0xFC];
        let (len, asc) = adts_header(&h).unwrap();
        assert_eq!(len, 7);
        let a = parse_asc(&asc).unwrap();
        assert_eq!(
            (a.object_type, a.sample_rate, a.channel_config),
            (2, 48000, 2)
        );
        assert!(adts_header(&[0x12, 0x10, 0, 0, 0, 0, 0]).is_none());
    }
}
