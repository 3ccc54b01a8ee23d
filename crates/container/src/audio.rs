//! Audio configuration records and frame headers the demuxers read to name
//! an audio track and cut its stream into frames: MP4 `esds` (ISO/IEC
//! 14496-1 7.2.6.5/6), `dOps` (the Opus-in-ISOBMFF spec, 4.3.2) → `OpusHead`
//! (RFC 7845 5.1), the AudioSpecificConfig's rate and channels (ISO/IEC
//! 14496-3 1.6.2.1), MPEG-1/2 audio frame headers (ISO/IEC 11172-3 2.4.2.3,
//! 13818-3 2.4.2.3), ADTS headers (ISO/IEC 13818-7 6.2 / 14496-3 1.A.2.2) and
//! AC-3 / E-AC-3 sync frames (ATSC A/52 5.3, E.1.2). Nothing here decodes.

use super::AudioCodec;

/// AAC sampling frequencies by `samplingFrequencyIndex` (ISO/IEC 14496-3
/// Table 1.18); indices 13, 14 are reserved, 15 means explicit.
pub(crate) const AAC_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// What an MP4 `esds` says: the `objectTypeIndication` and the
/// DecoderSpecificInfo bytes (empty if absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Esds {
    pub object_type: u8,
    pub specific: Vec<u8>,
}

/// Reads one descriptor header (ISO/IEC 14496-1 8.3.3: tag, then a size of
/// 1 to 4 bytes, 7 bits each, top bit = more): (tag, payload range).
fn descriptor(d: &[u8], p: usize) -> Result<(u8, usize, usize), (usize, String)> {
    let tag = *d.get(p).ok_or((p, "descriptor tag missing".to_string()))?;
    let mut size = 0usize;
    let mut q = p + 1;
    for i in 0..4 {
        let b = *d
            .get(q)
            .ok_or((q, format!("descriptor 0x{tag:02x} size runs past the box")))?;
        q += 1;
        size = (size << 7) | usize::from(b & 0x7f);
        if b & 0x80 == 0 {
            break;
        }
        if i == 3 {
            return Err((
                q,
                format!("descriptor 0x{tag:02x} size longer than 4 bytes"),
            ));
        }
    }
    // A size past the box is clamped (some muxers write 0x80 0x80 0x80 0x22
    // for the whole rest); the parsers below check every read.
    let end = q.saturating_add(size).min(d.len());
    Ok((tag, q, end))
}

/// Parses the payload of an `esds` FullBox (version/flags first): the
/// ES_Descriptor (tag 3) → DecoderConfigDescriptor (tag 4) →
/// DecoderSpecificInfo (tag 5).
///
/// Errors: the byte (relative to the payload) and what is wrong.
pub(crate) fn parse_esds(d: &[u8]) -> Result<Esds, (usize, String)> {
    let mut p = 4; // version + flags
    let (tag, s, end) = descriptor(d, p)?;
    if tag != 0x03 {
        return Err((
            p,
            format!("esds: ES_Descriptor tag 0x{tag:02x}, expected 0x03"),
        ));
    }
    p = s;
    let short = |p: usize| (p, "esds: ES_Descriptor ends early".to_string());
    let flags = *d.get(p + 2).ok_or_else(|| short(p))?;
    p += 3; // ES_ID(16), flags(8)
    if flags & 0x80 != 0 {
        p += 2; // dependsOn_ES_ID
    }
    if flags & 0x40 != 0 {
        let n = *d.get(p).ok_or_else(|| short(p))?;
        p += 1 + usize::from(n); // URLlength, URLstring
    }
    if flags & 0x20 != 0 {
        p += 2; // OCR_ES_Id
    }
    // Look for the DecoderConfigDescriptor among the ES_Descriptor's children.
    while p < end {
        let (tag, s, e) = descriptor(d, p)?;
        if tag == 0x04 {
            let object_type = *d
                .get(s)
                .ok_or((s, "esds: DecoderConfigDescriptor is empty".to_string()))?;
            // objectTypeIndication 8, streamType 6 + upStream 1 + reserved 1,
            // bufferSizeDB 24, maxBitrate 32, avgBitrate 32 = 13 bytes.
            let mut q = s + 13;
            let mut specific = Vec::new();
            while q < e {
                let (tag, s2, e2) = descriptor(d, q)?;
                if tag == 0x05 {
                    specific = d.get(s2..e2).unwrap_or(&[]).to_vec();
                    break;
                }
                q = e2.max(q + 1);
            }
            return Ok(Esds {
                object_type,
                specific,
            });
        }
        p = e.max(p + 1);
    }
    Err((p, "esds: no DecoderConfigDescriptor".into()))
}

/// The audio codec an MP4 `objectTypeIndication` names (the MP4RA object
/// types table; ISO/IEC 14496-1 Table 5): 0x40 MPEG-4 audio (AAC unless the
/// AudioSpecificConfig's audioObjectType is 32/33/34, MPEG-1/2 layer 1/2/3),
/// 0x66–0x68 MPEG-2 AAC, 0x69 / 0x6B MPEG-2 / MPEG-1 audio (`Mp3` here: the
/// caller replaces it by the first frame's layer), 0xA5 AC-3, 0xA6 E-AC-3,
/// 0xA9 / 0xAC DTS, 0xAD Opus, 0xDD Vorbis (FFmpeg's `ff_mp4_obj_type`).
pub(crate) fn esds_codec(e: &Esds) -> AudioCodec {
    match e.object_type {
        0x40 => match asc_object_type(&e.specific) {
            Some(32) => AudioCodec::Mp1,
            Some(33) => AudioCodec::Mp2,
            Some(34) => AudioCodec::Mp3,
            _ => AudioCodec::Aac,
        },
        0x66..=0x68 => AudioCodec::Aac,
        0x69 | 0x6B => AudioCodec::Mp3,
        0xA5 => AudioCodec::Ac3,
        0xA6 => AudioCodec::Eac3,
        0xA9 | 0xAC => AudioCodec::Dts,
        0xAD => AudioCodec::Opus,
        0xDD => AudioCodec::Vorbis,
        o => AudioCodec::Other(format!("mp4a objectTypeIndication 0x{o:02x}")),
    }
}

/// A minimal MSB-first bit reader for configuration records.
struct Bits<'a> {
    d: &'a [u8],
    bit: usize,
}

impl Bits<'_> {
    fn u(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = *self.d.get(self.bit / 8)?;
            v = (v << 1) | u32::from((byte >> (7 - self.bit % 8)) & 1);
            self.bit += 1;
        }
        Some(v)
    }
}

/// `audioObjectType` of an AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1:
/// 5 bits, 31 = escape to 32 + 6 more bits).
pub(crate) fn asc_object_type(asc: &[u8]) -> Option<u32> {
    let mut b = Bits { d: asc, bit: 0 };
    let t = b.u(5)?;
    if t == 31 {
        Some(32 + b.u(6)?)
    } else {
        Some(t)
    }
}

/// The first fields of an AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioSpecificConfig {
    /// `audioObjectType` (2: AAC LC, 5: SBR, 29: PS, ...; 31 escapes to
    /// 32 + 6 more bits).
    pub object_type: u32,
    /// Hz, from `samplingFrequencyIndex` (Table 1.18) or the explicit
    /// 24-bit frequency: the core coder's rate, not an SBR extension's.
    pub sample_rate: u32,
    /// `channelConfiguration` as coded (0: a program_config_element says).
    pub channel_config: u8,
}

/// Parses an AudioSpecificConfig's audioObjectType, samplingFrequencyIndex
/// (or 24-bit rate) and channelConfiguration (ISO/IEC 14496-3 1.6.2.1):
/// what the demuxers read to name a track and vreq-audio reads to refuse
/// what it does not decode. `None` if it is shorter than those fields or
/// names a reserved rate index.
pub fn parse_asc(asc: &[u8]) -> Option<AudioSpecificConfig> {
    let mut b = Bits { d: asc, bit: 0 };
    let mut object_type = b.u(5)?;
    if object_type == 31 {
        object_type = 32 + b.u(6)?;
    }
    let idx = b.u(4)?;
    let sample_rate = if idx == 15 {
        b.u(24)?
    } else {
        *AAC_RATES.get(idx as usize)?
    };
    let channel_config = b.u(4)? as u8;
    Some(AudioSpecificConfig {
        object_type,
        sample_rate,
        channel_config,
    })
}

/// Sampling rate (Hz) and channels of an AudioSpecificConfig
/// ([`parse_asc`]; channels per Table 1.19: 1–6 as is, 7 → 8; 0 (program
/// config element) → 0, unknown). The core rate, not an SBR extension's.
pub(crate) fn asc_rate_channels(asc: &[u8]) -> Option<(u32, u16)> {
    let a = parse_asc(asc)?;
    let ch = match a.channel_config {
        c @ 0..=6 => u16::from(c),
        7 => 8,
        _ => 0,
    };
    Some((a.sample_rate, ch))
}

/// Rewrites an MP4 `dOps` payload (Opus in ISOBMFF 4.3.2: Version 0,
/// OutputChannelCount, PreSkip, InputSampleRate, OutputGain,
/// ChannelMappingFamily [StreamCount, CoupledCount, ChannelMapping[]], all
/// big-endian) into the `OpusHead` identification header (RFC 7845 5.1:
/// "OpusHead", version 1, the same fields little-endian), as FFmpeg's
/// `mov_read_dops` does. Returns the header and its pre-skip (48 kHz samples).
///
/// Errors: short box or version ≠ 0.
pub(crate) fn dops_to_opushead(d: &[u8]) -> Result<(Vec<u8>, u16), (usize, String)> {
    if d.len() < 11 {
        return Err((0, format!("dOps is {} bytes, shorter than 11", d.len())));
    }
    if d[0] != 0 {
        return Err((0, format!("dOps Version {} (expected 0)", d[0])));
    }
    let channels = d[1];
    let pre_skip = u16::from_be_bytes([d[2], d[3]]);
    let rate = u32::from_be_bytes([d[4], d[5], d[6], d[7]]);
    let gain = i16::from_be_bytes([d[8], d[9]]);
    let family = d[10];
    let mut h = Vec::with_capacity(21 + usize::from(channels));
    h.extend_from_slice(b"OpusHead");
    h.push(1);
    h.push(channels);
    h.extend_from_slice(&pre_skip.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&gain.to_le_bytes());
    h.push(family);
    if family != 0 {
        let need = 13 + usize::from(channels);
        let table = d.get(11..need).ok_or((
            11,
            format!(
                "dOps channel mapping table needs {need} bytes, box has {}",
                d.len()
            ),
        ))?;
        h.extend_from_slice(table);
    }
    Ok((h, pre_skip))
}

/// `pre_skip` (48 kHz samples) and channel count of an `OpusHead` (RFC 7845 5.1).
pub(crate) fn opushead_pre_skip_channels(h: &[u8]) -> Option<(u16, u8)> {
    if h.len() < 19 || !h.starts_with(b"OpusHead") {
        return None;
    }
    Some((u16::from_le_bytes([h[10], h[11]]), h[9]))
}

/// Sampling rate and channels of a Vorbis identification header, the first
/// packet of a Xiph-laced Matroska `CodecPrivate` (Vorbis I spec 4.2.2:
/// `\x01vorbis`, version 32, audio_channels 8, audio_sample_rate 32 LE).
pub(crate) fn vorbis_rate_channels(private: &[u8]) -> Option<(u32, u16)> {
    // Xiph lacing: count-1, then sizes of all but the last packet.
    let n = usize::from(*private.first()?) + 1;
    let mut p = 1;
    for _ in 0..n - 1 {
        loop {
            let b = *private.get(p)?;
            p += 1;
            if b != 255 {
                break;
            }
        }
    }
    let id = private.get(p..p + 16)?;
    if &id[..7] != b"\x01vorbis" {
        return None;
    }
    let ch = u16::from(id[11]);
    let rate = u32::from_le_bytes([id[12], id[13], id[14], id[15]]);
    Some((rate, ch))
}

/// An MPEG-1/2/2.5 audio frame header (ISO/IEC 11172-3 2.4.2.3, 13818-3):
/// what cutting a stream into frames needs (the MPEG-TS / PS demuxers here,
/// vreq-audio's frame splitter in front of its decoder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpaHeader {
    /// 1, 2 or 3.
    pub layer: u8,
    /// Hz.
    pub sample_rate: u32,
    pub channels: u16,
    /// Whole frame in bytes, header included.
    pub frame_len: usize,
    /// Samples per channel in the frame.
    pub samples: u32,
}

impl MpaHeader {
    /// [`AudioCodec::Mp1`], `Mp2` or `Mp3` by the layer.
    pub fn codec(&self) -> AudioCodec {
        match self.layer {
            1 => AudioCodec::Mp1,
            2 => AudioCodec::Mp2,
            _ => AudioCodec::Mp3,
        }
    }
}

/// Parses the 4-byte header at the start of `h`; `None` if it is not one
/// (no sync, reserved version / layer / rate, free-format or bad bitrate:
/// a free-format frame states no length, so it cannot be cut).
pub fn mpa_header(h: &[u8]) -> Option<MpaHeader> {
    let h = h.get(..4)?;
    if h[0] != 0xff || h[1] & 0xe0 != 0xe0 {
        return None;
    }
    let version = (h[1] >> 3) & 3; // 0: 2.5, 2: MPEG-2, 3: MPEG-1
    let layer = match (h[1] >> 1) & 3 {
        3 => 1u8,
        2 => 2,
        1 => 3,
        _ => return None,
    };
    let bri = usize::from(h[2] >> 4);
    let sri = usize::from((h[2] >> 2) & 3);
    let padding = usize::from((h[2] >> 1) & 1);
    if version == 1 || bri == 0 || bri == 15 || sri == 3 {
        return None;
    }
    let mpeg1 = version == 3;
    const BR_V1: [[u16; 15]; 3] = [
        [
            0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ],
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ],
        [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ],
    ];
    const BR_V2: [[u16; 15]; 2] = [
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
        ],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ];
    let kbps = usize::from(if mpeg1 {
        BR_V1[usize::from(layer - 1)][bri]
    } else {
        BR_V2[usize::from(layer != 1)][bri]
    });
    let base = [44100u32, 48000, 32000][sri];
    let sample_rate = match version {
        3 => base,
        2 => base / 2,
        _ => base / 4,
    };
    let (samples, frame_len) = match layer {
        1 => (384, (12 * kbps * 1000 / sample_rate as usize + padding) * 4),
        2 => (1152, 144 * kbps * 1000 / sample_rate as usize + padding),
        _ if mpeg1 => (1152, 144 * kbps * 1000 / sample_rate as usize + padding),
        _ => (576, 72 * kbps * 1000 / sample_rate as usize + padding),
    };
    let channels = if h[3] >> 6 == 3 { 1 } else { 2 };
    Some(MpaHeader {
        layer,
        sample_rate,
        channels,
        frame_len,
        samples,
    })
}

/// An ADTS header (ISO/IEC 13818-7 6.2.1, 14496-3 1.A.2.2.1): what the
/// MPEG-TS / PS demuxers cut AAC with, and what vreq-audio strips from
/// packets that still carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsHeader {
    /// 7, or 9 with a CRC.
    pub header_len: usize,
    /// Whole frame in bytes, header included.
    pub frame_len: usize,
    /// `profile_ObjectType` + 1 = MPEG-4 audioObjectType (1 main, 2 LC, …).
    pub object_type: u8,
    pub rate_index: u8,
    pub channel_config: u8,
    /// Raw data blocks in the frame (1 to 4), 1024 samples each.
    pub blocks: u8,
}

impl AdtsHeader {
    /// The 2-byte AudioSpecificConfig this header stands for (14496-3
    /// 1.6.2.1: audioObjectType 5, samplingFrequencyIndex 4,
    /// channelConfiguration 4, GASpecificConfig's three 0 flags), as
    /// FFmpeg's `aac_adtstoasc` bitstream filter writes it.
    pub fn audio_specific_config(&self) -> Vec<u8> {
        let v: u16 = (u16::from(self.object_type) << 11)
            | (u16::from(self.rate_index) << 7)
            | (u16::from(self.channel_config) << 3);
        v.to_be_bytes().to_vec()
    }
    /// Hz (Table 1.18).
    pub fn sample_rate(&self) -> u32 {
        AAC_RATES
            .get(usize::from(self.rate_index))
            .copied()
            .unwrap_or(0)
    }
}

/// Parses an ADTS header at the start of `h`; `None` if it is not one
/// (no 0xFFF sync, layer ≠ 0, reserved rate index, frame shorter than its header).
pub fn adts_header(h: &[u8]) -> Option<AdtsHeader> {
    let h = h.get(..7)?;
    if h[0] != 0xff || h[1] & 0xf6 != 0xf0 {
        return None;
    }
    let header_len = if h[1] & 1 == 0 { 9 } else { 7 };
    let object_type = (h[2] >> 6) + 1;
    let rate_index = (h[2] >> 2) & 0xf;
    let channel_config = ((h[2] & 1) << 2) | (h[3] >> 6);
    let frame_len =
        (usize::from(h[3] & 3) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
    let blocks = (h[6] & 3) + 1;
    if rate_index > 12 || frame_len < header_len {
        return None;
    }
    Some(AdtsHeader {
        header_len,
        frame_len,
        object_type,
        rate_index,
        channel_config,
        blocks,
    })
}

/// Channels of an AC-3 `acmod` (A/52 Table 5.8: 1+1, 1/0, 2/0, 3/0, 2/1,
/// 3/1, 2/2, 3/2) plus the LFE channel when `lfeon`.
fn ac3_channels(acmod: u8, lfeon: bool) -> u16 {
    [2u16, 1, 2, 3, 3, 4, 4, 5][usize::from(acmod & 7)] + u16::from(lfeon)
}

/// Channels an MP4 `dac3` (ETSI TS 102 366 F.4: fscod 2, bsid 5, bsmod 3,
/// acmod 3, lfeon 1, …) or `dec3` (F.6: data_rate 13, num_ind_sub 3, then
/// the first substream's fscod 2, bsid 5, reserved 1, asvc 1, bsmod 3,
/// acmod 3, lfeon 1, …) states.
pub(crate) fn dac3_channels(p: &[u8], eac3: bool) -> Option<u16> {
    if eac3 {
        let b = *p.get(3)?;
        Some(ac3_channels((b >> 1) & 7, b & 1 != 0))
    } else {
        let v =
            (u32::from(*p.first()?) << 16) | (u32::from(*p.get(1)?) << 8) | u32::from(*p.get(2)?);
        Some(ac3_channels(((v >> 11) & 7) as u8, (v >> 10) & 1 != 0))
    }
}

/// An AC-3 or E-AC-3 sync frame header (ATSC A/52 5.4.1, Annex E.1.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ac3Header {
    pub eac3: bool,
    pub sample_rate: u32,
    /// Channels from `acmod` + `lfeon`.
    pub channels: u16,
    /// Whole frame in bytes.
    pub frame_len: usize,
    /// Samples per channel in the frame (1536 for AC-3).
    pub samples: u32,
}

/// Parses an AC-3 / E-AC-3 sync frame header at the start of `h` (sync word
/// 0x0B77; `bsid` ≤ 10 AC-3, 11–16 E-AC-3); `None` if it is not one.
pub(crate) fn ac3_header(h: &[u8]) -> Option<Ac3Header> {
    let full = h;
    let h = h.get(..6)?;
    if h[0] != 0x0b || h[1] != 0x77 {
        return None;
    }
    let bsid = h[5] >> 3;
    if bsid <= 10 {
        // A/52 Table 5.18: words per frame by frmsizecod and fscod.
        const WORDS: [[u16; 3]; 19] = [
            [64, 69, 96],
            [80, 87, 120],
            [96, 104, 144],
            [112, 121, 168],
            [128, 139, 192],
            [160, 174, 240],
            [192, 208, 288],
            [224, 243, 336],
            [256, 278, 384],
            [320, 348, 480],
            [384, 417, 576],
            [448, 487, 672],
            [512, 557, 768],
            [640, 696, 960],
            [768, 835, 1152],
            [896, 975, 1344],
            [1024, 1114, 1536],
            [1152, 1253, 1728],
            [1280, 1393, 1920],
        ];
        let fscod = usize::from(h[4] >> 6);
        let code = usize::from(h[4] & 0x3f);
        if fscod == 3 || code / 2 >= WORDS.len() {
            return None;
        }
        let mut words = usize::from(WORDS[code / 2][fscod]);
        if fscod == 1 && code % 2 == 1 {
            words += 1;
        }
        // BSI after bsid, bsmod: acmod 3, then cmixlev 2 if 3 front
        // channels, surmixlev 2 if surround, dsurmod 2 if 2/0, lfeon 1.
        let mut b = Bits { d: full, bit: 48 };
        let acmod = b.u(3)? as u8;
        let skip = [acmod & 1 != 0 && acmod != 1, acmod & 4 != 0, acmod == 2]
            .iter()
            .filter(|&&x| x)
            .count();
        b.u(2 * skip)?;
        let lfeon = b.u(1)? == 1;
        Some(Ac3Header {
            eac3: false,
            channels: ac3_channels(acmod, lfeon),
            sample_rate: [48000, 44100, 32000][fscod],
            frame_len: words * 2,
            samples: 1536,
        })
    } else if bsid <= 16 {
        let words = ((usize::from(h[2] & 7) << 8) | usize::from(h[3])) + 1;
        let fscod = h[4] >> 6;
        let (rate, blocks) = if fscod == 3 {
            let r = [24000, 22050, 16000, 0][usize::from((h[4] >> 4) & 3)];
            (r, 6)
        } else {
            (
                [48000, 44100, 32000][usize::from(fscod)],
                [1u32, 2, 3, 6][usize::from((h[4] >> 4) & 3)],
            )
        };
        if rate == 0 || words < 3 {
            return None;
        }
        Some(Ac3Header {
            eac3: true,
            channels: ac3_channels((h[4] >> 1) & 7, h[4] & 1 != 0),
            sample_rate: rate,
            frame_len: words * 2,
            samples: 256 * blocks,
        })
    } else {
        None
    }
}

/// Samples (48 kHz) in an Opus packet, from its TOC byte (RFC 6716 3.1:
/// frame size by `config`, frame count by the code `c`, code 3's count
/// byte).
pub(crate) fn opus_packet_samples(p: &[u8]) -> Option<u32> {
    let toc = *p.first()?;
    let config = toc >> 3;
    // Frame size in 1/10 ms... in 48 kHz samples.
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)],
        12..=15 => [480, 960][usize::from(config % 2)],
        _ => [120, 240, 480, 960][usize::from(config % 4)],
    };
    let count = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => u32::from(*p.get(1)? & 0x3f),
    };
    Some(frame * count)
}

/// What a Vorbis stream's headers say about packet lengths (Vorbis I spec
/// 4.2.2 identification header `blocksize_0/1`, 4.2.4 setup header modes'
/// `blockflag`), and the previous packet's block size: each audio packet
/// yields (previous block size + its block size) / 4 samples (spec 1.3.2;
/// the first counts the short block before it, as FFmpeg's vorbis_parser).
#[derive(Debug, Clone)]
pub(crate) struct VorbisDurations {
    blocksize: [u32; 2],
    /// `blockflag` of each mode.
    modes: Vec<bool>,
    prev: u32,
}

impl VorbisDurations {
    /// From a Xiph-laced Matroska `CodecPrivate` (identification, comment,
    /// setup header). The mode table is read backwards from the setup
    /// header's end (its last fields are the modes, then the framing bit),
    /// as FFmpeg's vorbis_parser finds it without decoding the codebooks:
    /// going back, each mode is `mapping` (8 bits, < 64), `transformtype`
    /// and `windowtype` (16 zero bits each), `blockflag`; before them
    /// `vorbis_mode_count − 1` (6 bits). `None` if the headers do not parse
    /// so.
    pub fn new(private: &[u8]) -> Option<Self> {
        let n = usize::from(*private.first()?) + 1;
        if n != 3 {
            return None;
        }
        let mut p = 1;
        let mut sizes = [0usize; 2];
        for size in &mut sizes {
            loop {
                let b = *private.get(p)?;
                p += 1;
                *size += usize::from(b);
                if b != 255 {
                    break;
                }
            }
        }
        let id = private.get(p..p.checked_add(sizes[0])?)?;
        let setup = private.get(p + sizes[0] + sizes[1]..)?;
        if id.len() < 30 || &id[..7] != b"\x01vorbis" || !setup.starts_with(b"\x05vorbis") {
            return None;
        }
        let blocksize = [1u32 << (id[28] & 0x0f), 1u32 << (id[28] >> 4)];
        if blocksize[0] < 64 || blocksize[1] > 8192 || blocksize[0] > blocksize[1] {
            return None;
        }
        // Bit i of the packet (LSB first within bytes, as Vorbis packs).
        let bit = |i: usize| (setup[i / 8] >> (i % 8)) & 1;
        let total = setup.len() * 8;
        // Backwards from the end: skip to the framing bit (the last 1).
        let mut pos = total; // next bit read backwards is pos - 1
        loop {
            if pos <= 7 * 8 {
                return None;
            }
            pos -= 1;
            if bit(pos) == 1 {
                break;
            }
        }
        let framing = pos;
        let back = |pos: &mut usize, n: usize| -> Option<u32> {
            let mut v = 0u32;
            for _ in 0..n {
                if *pos <= 7 * 8 {
                    return None;
                }
                *pos -= 1;
                v = (v << 1) | u32::from(bit(*pos));
            }
            Some(v)
        };
        let (mut count, mut found) = (0usize, None);
        while count < 64 {
            let (Some(mapping), Some(tt), Some(wt), Some(_)) = (
                back(&mut pos, 8),
                back(&mut pos, 16),
                back(&mut pos, 16),
                back(&mut pos, 1),
            ) else {
                break;
            };
            if mapping > 63 || tt != 0 || wt != 0 {
                break;
            }
            count += 1;
            let mut peek = pos;
            if back(&mut peek, 6).is_some_and(|c| c as usize + 1 == count) {
                found = Some(count);
            }
        }
        let count = found?;
        let mut pos = framing;
        let mut modes = vec![false; count];
        for m in modes.iter_mut().rev() {
            back(&mut pos, 40)?;
            *m = back(&mut pos, 1)? == 1;
        }
        Some(VorbisDurations {
            blocksize,
            modes,
            prev: blocksize[0],
        })
    }

    /// Samples the audio packet `p` adds (`None` for a header packet or an
    /// unknown mode), advancing the previous block size.
    pub fn samples(&mut self, p: &[u8]) -> Option<u32> {
        let b = *p.first()?;
        if b & 1 != 0 {
            return None;
        }
        // mode number: ilog(modes − 1) bits after the packet type bit.
        let bits = usize::BITS - (self.modes.len().saturating_sub(1)).leading_zeros();
        let mut mode = 0usize;
        for k in 0..bits as usize {
            let i = 1 + k;
            let byte = *p.get(i / 8)?;
            mode |= usize::from((byte >> (i % 8)) & 1) << k;
        }
        let cur = self.blocksize[usize::from(*self.modes.get(mode)?)];
        let n = (self.prev + cur) / 4;
        self.prev = cur;
        Some(n)
    }

    /// Forgets the previous block (a seek).
    pub fn reset(&mut self) {
        self.prev = self.blocksize[0];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esds_of_aac_lc() {
        // FFmpeg-written esds: ES_Descriptor with 4-byte sizes, ASC 0x11 0x90
        // (LC, 48 kHz, stereo).
        let d = [
            0, 0, 0, 0, 0x03, 0x80, 0x80, 0x80, 0x22, 0x00, 0x02, 0x00, 0x04, 0x80, 0x80, 0x80,
            0x14, 0x40, 0x15, 0x00, 0x00, 0x00, 0x00, 0x01, 0xf4, 0x00, 0x00, 0x01, 0xf4, 0x00,
            0x05, 0x80, 0x80, 0x80, 0x02, 0x11, 0x90, 0x06, 0x80, 0x80, 0x80, 0x01, 0x02,
        ];
        let e = parse_esds(&d).unwrap();
        assert_eq!(e.object_type, 0x40);
        assert_eq!(e.specific, vec![0x11, 0x90]);
        assert_eq!(esds_codec(&e), AudioCodec::Aac);
        assert_eq!(asc_rate_channels(&e.specific), Some((48000, 2)));
        // truncated: an error, not a panic
        for n in 0..d.len() {
            let _ = parse_esds(&d[..n]);
        }
    }

    #[test]
    fn dops_becomes_opushead() {
        let dops = [0, 2, 0x01, 0x38, 0, 0, 0xbb, 0x80, 0, 0, 0];
        let (h, pre) = dops_to_opushead(&dops).unwrap();
        assert_eq!(pre, 312);
        assert_eq!(
            h,
            [
                b'O', b'p', b'u', b's', b'H', b'e', b'a', b'd', 1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0,
                0, 0, 0
            ]
        );
        assert_eq!(opushead_pre_skip_channels(&h), Some((312, 2)));
        assert!(dops_to_opushead(&[0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 1]).is_err());
    }

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
    fn adts_header_gives_the_asc() {
        // ADTS, no CRC, LC (profile 1), 48 kHz (index 3), 2 channels.
        let h = [0xFF, 0xF1, 0x4C, 0x80, 0x2E, 0x7F, 0xFC];
        let a = adts_header(&h).unwrap();
        assert_eq!(a.header_len, 7);
        let asc = parse_asc(&a.audio_specific_config()).unwrap();
        assert_eq!(
            (asc.object_type, asc.sample_rate, asc.channel_config),
            (2, 48000, 2)
        );
        assert!(adts_header(&[0x12, 0x10, 0, 0, 0, 0, 0]).is_none());
    }

    #[test]
    fn mpeg_audio_frame_lengths() {
        // MPEG-1 layer II, 192 kbit/s, 48 kHz, stereo: 144·192000/48000 = 576.
        let h = mpa_header(&[0xff, 0xfd, 0xa4, 0x04]).unwrap();
        assert_eq!(
            (h.layer, h.sample_rate, h.channels, h.frame_len),
            (2, 48000, 2, 576)
        );
        // MPEG-1 layer III 128 kbit/s 44.1 kHz padded: 417 + 1.
        let h = mpa_header(&[0xff, 0xfb, 0x92, 0xc0]).unwrap();
        assert_eq!(
            (h.layer, h.sample_rate, h.channels, h.frame_len),
            (3, 44100, 1, 418)
        );
        assert_eq!(mpa_header(&[0xff, 0xfb, 0xf2, 0xc0]), None); // bitrate 15
    }

    #[test]
    fn adts_to_audio_specific_config() {
        // LC, 44.1 kHz (index 4), mono, 371-byte frame, no CRC.
        let h = adts_header(&[0xff, 0xf1, 0x50, 0x40, 0x2e, 0x7f, 0xfc]).unwrap();
        assert_eq!(h.header_len, 7);
        assert_eq!(h.frame_len, 371);
        assert_eq!(h.audio_specific_config(), vec![0x12, 0x08]);
        assert_eq!(h.sample_rate(), 44100);
    }

    #[test]
    fn opus_toc_durations() {
        // config 31 (CELT 20 ms), code 0: 960; config 3 (SILK 60 ms), code 1:
        // two frames; code 3 with 4 frames of config 16 (2.5 ms).
        assert_eq!(opus_packet_samples(&[31 << 3]), Some(960));
        assert_eq!(opus_packet_samples(&[(3 << 3) | 1]), Some(5760));
        assert_eq!(opus_packet_samples(&[(16 << 3) | 3, 4]), Some(480));
        assert_eq!(opus_packet_samples(&[(16 << 3) | 3]), None);
    }

    #[test]
    fn ac3_frame_length() {
        // 48 kHz, frmsizecod 0x1e (448 kbit/s): 896 words; bsid 8, acmod 7
        // (3/2: cmixlev, surmixlev), lfeon 1: 5.1.
        let h = ac3_header(&[0x0b, 0x77, 0, 0, 0x1e, 0x40, 0xe1, 0x40]).unwrap();
        assert_eq!(
            (h.eac3, h.sample_rate, h.frame_len, h.channels),
            (false, 48000, 1792, 6)
        );
        // acmod 2 (2/0: dsurmod), lfeon 0
        let h = ac3_header(&[0x0b, 0x77, 0, 0, 0x1e, 0x40, 0x40, 0x00]).unwrap();
        assert_eq!(h.channels, 2);
        // dac3: fscod 0, bsid 8, bsmod 0, acmod 1, lfeon 0 → mono
        assert_eq!(dac3_channels(&[0x10, 0x08, 0x00], false), Some(1));
    }
}
