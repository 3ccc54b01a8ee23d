//! Audio decode: a container's audio track ([`vreq_container::TrackInfo`]
//! with [`vreq_container::AudioParams`] and FFmpeg-style extradata in
//! `codec_private`) and its [`vreq_container::Packet`]s in, interleaved f32
//! [`Pcm`] out.
//!
//! Libraries, per codec (see `docs/ARCHITECTURE.md`, vreq-audio):
//! - symphonia 0.6.1: AAC-LC (channel configurations 1 to 6: more than two
//!   channels through our patched `symphonia-codec-aac`; SBR / PS and other
//!   object types refused), MPEG-1/2 audio layers I, II and III, Vorbis
//!   (more than two channels through our patched `symphonia-codec-vorbis`),
//!   FLAC, ALAC, PCM (the patches: `third_party/symphonia-PATCHES.md`);
//! - libopus (the system library through the `opus` 0.3 binding's
//!   multistream decoder, as FFmpeg's `libopusdec.c`): Opus mapping
//!   families 0 and 1 (1 to 8 channels, reordered from Vorbis to WAVE
//!   order).
//!
//! Everything else — HE-AAC / HE-AACv2, AAC with a PCE or in channel
//! configuration 7, AC-3, E-AC-3, DTS, Opus ambisonics (families 2, 3) and
//! family 255, LATM, TrueHD — is [`AudioError::Unsupported`] naming the
//! codec as ffprobe does, and the player goes on without sound. (libavcodec
//! would decode those, but the player built on the Debian 12 host runs in
//! the trixie VM for every VM check, and libavcodec's soname differs
//! between them (59 / 61): linking it would break the VM tier. It is the
//! follow-up.)
//!
//! Priming: [`vreq_container::AudioParams::skip_samples`] (MP4 edit list
//! `media_time`; Matroska's `CodecDelay` is not dropped on non-Opus
//! tracks, as FFmpeg 5.1 does not: its pts are moved back by it and the
//! priming plays at negative time) or, for Opus without one, the
//! `OpusHead` `pre_skip` (RFC 7845 4.2), is dropped from the start so the
//! sample count is ffmpeg's (FFmpeg drops the same through
//! `AV_PKT_DATA_SKIP_SAMPLES` / `AVCodecContext.delay`, `libavcodec/decode.c`).
//! A packet's [`vreq_container::Packet::discard_padding_ns`] (Matroska
//! `DiscardPadding`) is dropped from the end of its output (from the start
//! when negative), rounded to the nearest sample, as FFmpeg does with the
//! `AV_PKT_DATA_SKIP_SAMPLES` its matroskadec makes of it.

mod aac;
mod mpa;
mod opus;

use symphonia::core::audio::Channels;
use symphonia::core::audio::Position;
use symphonia::core::codecs::audio::well_known::*;
use symphonia::core::codecs::audio::{
    AudioCodecId, AudioCodecParameters, AudioDecoder as SymDecoder, AudioDecoderOptions,
};
use symphonia::core::errors::Error as SymError;
use symphonia::core::packet::PacketRef;
use symphonia::core::units::{Duration, Timestamp};
use vreq_container::{AudioCodec, Packet, PcmFormat, TrackCodec, TrackInfo};
use vreq_core::CodecPrivate;

/// Decoded audio: interleaved f32 samples, nominally in [-1, 1] (lossy
/// decoders may overshoot slightly; nothing here clips), channels in WAVE /
/// SMPTE order (FL FR FC LFE BL BR SL SR, as symphonia's `Position` bits and
/// FFmpeg's native layouts order them). `samples.len() / channels` frames.
#[derive(Debug, Clone, PartialEq)]
pub struct Pcm {
    /// Presentation time of the first frame in ns, on the container's time
    /// axis: the packet's pts plus what priming dropped from its start.
    /// `None` when the packet had no pts.
    pub pts_ns: Option<i64>,
    /// Hz.
    pub sample_rate: u32,
    /// Channels per frame.
    pub channels: u16,
    /// Interleaved samples.
    pub samples: Vec<f32>,
}

impl Pcm {
    /// Frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }
}

/// Why audio cannot be (or could not be) decoded or played.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// A codec (or a configuration of one) vreqplay does not decode; `codec`
    /// is ffprobe's codec name, with the refused feature in parentheses
    /// (e.g. `ac3`, `aac (HE-AAC)`, `aac (6 channels)`). The player goes on
    /// without sound.
    #[error("{codec} not supported")]
    Unsupported { codec: String },
    /// The track's configuration (codec private data, rate, channels) is
    /// missing or malformed.
    #[error("audio configuration: {0}")]
    Config(String),
    /// One packet did not decode; it was skipped and the decoder goes on
    /// with the next one. `byte_offset` is the packet's offset in the file.
    #[error("corrupt audio frame at byte {byte_offset}: {what}")]
    Corrupt { byte_offset: u64, what: String },
    /// The audio device failed (vreq_audio::output).
    #[error("audio output: {0}")]
    Output(String),
}

enum Kind {
    /// AAC, Vorbis, FLAC, ALAC, PCM: one packet is one symphonia packet.
    /// `adts`: strip ADTS headers found on packets.
    Sym {
        dec: Box<dyn SymDecoder>,
        params: AudioCodecParameters,
        adts: bool,
    },
    /// MPEG audio: packets are cut into frames first.
    Mpa {
        dec: Box<dyn SymDecoder>,
        split: mpa::Splitter,
    },
    Opus {
        dec: opus::OpusDecoder,
        /// Dropped again after each reset (FFmpeg `libopusdec.c` flush: any
        /// packet may be the first of the stream).
        pre_skip: u64,
    },
}

/// Bytes of an MPEG audio stream skipped without finding a frame before
/// `decode` reports it (as `Corrupt`) instead of returning `Ok(None)`
/// silently: more than two of the longest frames (1728 bytes).
const NO_SYNC_LIMIT: usize = 4096;

/// One audio track's decoder. See the module docs for which library decodes
/// which codec.
pub struct AudioDecoder {
    name: String,
    track: u32,
    kind: Kind,
    /// Frames still to drop from the start of the output.
    skip_left: u64,
}

fn pcm_codec_id(f: &PcmFormat) -> Option<AudioCodecId> {
    Some(match (f.float, f.signed, f.bits, f.big_endian) {
        (true, _, 32, false) => CODEC_ID_PCM_F32LE,
        (true, _, 32, true) => CODEC_ID_PCM_F32BE,
        (true, _, 64, false) => CODEC_ID_PCM_F64LE,
        (true, _, 64, true) => CODEC_ID_PCM_F64BE,
        (false, true, 8, _) => CODEC_ID_PCM_S8,
        (false, false, 8, _) => CODEC_ID_PCM_U8,
        (false, true, 16, false) => CODEC_ID_PCM_S16LE,
        (false, true, 16, true) => CODEC_ID_PCM_S16BE,
        (false, true, 24, false) => CODEC_ID_PCM_S24LE,
        (false, true, 24, true) => CODEC_ID_PCM_S24BE,
        (false, true, 32, false) => CODEC_ID_PCM_S32LE,
        (false, true, 32, true) => CODEC_ID_PCM_S32BE,
        (false, false, 16, false) => CODEC_ID_PCM_U16LE,
        (false, false, 16, true) => CODEC_ID_PCM_U16BE,
        (false, false, 24, false) => CODEC_ID_PCM_U24LE,
        (false, false, 24, true) => CODEC_ID_PCM_U24BE,
        (false, false, 32, false) => CODEC_ID_PCM_U32LE,
        (false, false, 32, true) => CODEC_ID_PCM_U32BE,
        _ => return None,
    })
}

fn wave_channels(n: u16) -> Channels {
    match Position::from_wave_channel_count(u32::from(n)) {
        Some(p) => Channels::Positioned(p),
        None => Channels::Discrete(n),
    }
}

/// symphonia's decoders with `gapless` on: the only trimming it does with
/// our packets (no `trim_start` / `trim_end`) is Vorbis's first packet after
/// a reset, which it then outputs as nothing — as the Vorbis I spec (4.3.8:
/// the first block's data is not returned) and FFmpeg's `vorbisdec.c` do.
fn make_sym(params: &AudioCodecParameters) -> Result<Box<dyn SymDecoder>, SymError> {
    let opts = AudioDecoderOptions::default().gapless(true);
    symphonia::default::get_codecs().make_audio_decoder(params, &opts)
}

/// The FLAC STREAMINFO block body symphonia's `FlacDecoder` reads as extra
/// data, from FFmpeg-style extradata: `fLaC` + metadata blocks (RFC 9639
/// 8.1, STREAMINFO first), or the bare 34-byte STREAMINFO.
fn flac_streaminfo(x: &[u8]) -> Option<&[u8]> {
    if x.len() >= 8 + 34 && &x[..4] == b"fLaC" && x[4] & 0x7F == 0 {
        Some(&x[8..8 + 34])
    } else if x.len() == 34 {
        Some(x)
    } else {
        None
    }
}

impl AudioDecoder {
    /// A decoder for an audio `track`.
    ///
    /// Errors: [`AudioError::Unsupported`] for codecs and configurations we
    /// do not decode (see the module docs); [`AudioError::Config`] when the
    /// track is not audio or its codec private data is missing / malformed.
    pub fn new(track: &TrackInfo) -> Result<Self, AudioError> {
        let TrackCodec::Audio(codec) = &track.codec else {
            return Err(AudioError::Config(format!(
                "track {} is not an audio track ({:?})",
                track.id, track.codec
            )));
        };
        let name = codec.ffprobe_name();
        let ap = track.audio.unwrap_or_default();
        let extradata: &[u8] = match &track.codec_private {
            CodecPrivate::Raw(b) => b,
            _ => &[],
        };
        let unsupported = |detail: &str| AudioError::Unsupported {
            codec: if detail.is_empty() {
                name.clone()
            } else {
                format!("{name} ({detail})")
            },
        };
        let mut params = AudioCodecParameters::new();
        if ap.sample_rate > 0 {
            params.with_sample_rate(ap.sample_rate);
        }
        if ap.channels > 0 {
            params.with_channels(wave_channels(ap.channels));
        }
        let mut adts = false;
        let id = match codec {
            AudioCodec::Aac => {
                if extradata.is_empty() {
                    // No AudioSpecificConfig: symphonia assumes LC at the
                    // container's rate and channels (ADTS without a parser).
                    if ap.sample_rate == 0 || ap.channels == 0 {
                        return Err(AudioError::Config(
                            "aac: no AudioSpecificConfig and no rate / channels".into(),
                        ));
                    }
                    adts = true;
                } else {
                    let asc = vreq_container::parse_asc(extradata).ok_or_else(|| {
                        AudioError::Config("aac: AudioSpecificConfig shorter than 2 bytes".into())
                    })?;
                    if asc.object_type != 2 {
                        return Err(unsupported(aac::profile_name(asc.object_type)));
                    }
                    // Configurations 3-7 (more than two channels): the
                    // patched symphonia-codec-aac puts each element's
                    // channels where their positions go (WAVE order;
                    // third_party/symphonia-PATCHES.md).
                    // Configuration 7 (8 channels) is refused: the spec
                    // (ISO/IEC 14496-3 Table 1.19) carries the front-centre
                    // pair (FLC FRC) first, FFmpeg 5.1's encoder and decoder
                    // the front pair and then side channels (7.1): the same
                    // stream would play differently from ffmpeg's decode.
                    match asc.channel_config {
                        0 => return Err(unsupported("channel layout in a PCE")),
                        1..=6 => {}
                        7 => return Err(unsupported("8 channels")),
                        c => return Err(unsupported(&format!("channel configuration {c}"))),
                    }
                    params.with_extra_data(extradata.into());
                }
                CODEC_ID_AAC
            }
            AudioCodec::Mp1 => CODEC_ID_MP1,
            AudioCodec::Mp2 => CODEC_ID_MP2,
            AudioCodec::Mp3 => CODEC_ID_MP3,
            AudioCodec::Vorbis => {
                if extradata.is_empty() {
                    return Err(AudioError::Config(
                        "vorbis: no identification / setup headers".into(),
                    ));
                }
                // More than two channels need the patched
                // symphonia-codec-vorbis (channel couplings undone from the
                // last step down, Vorbis I 4.3.5;
                // third_party/symphonia-PATCHES.md).
                params.with_extra_data(extradata.into());
                CODEC_ID_VORBIS
            }
            AudioCodec::Flac => {
                let si = flac_streaminfo(extradata).ok_or_else(|| {
                    AudioError::Config("flac: no STREAMINFO in the codec private data".into())
                })?;
                params.with_extra_data(si.into());
                CODEC_ID_FLAC
            }
            AudioCodec::Alac => {
                if extradata.is_empty() {
                    return Err(AudioError::Config("alac: no ALACSpecificConfig".into()));
                }
                params.with_extra_data(extradata.into());
                CODEC_ID_ALAC
            }
            AudioCodec::Pcm(f) => {
                if ap.sample_rate == 0 || ap.channels == 0 {
                    return Err(AudioError::Config(format!(
                        "{name}: the container states no rate / channels"
                    )));
                }
                pcm_codec_id(f).ok_or_else(|| unsupported(""))?
            }
            AudioCodec::Opus => {
                let head = if extradata.is_empty() {
                    if !(1..=2).contains(&ap.channels) {
                        return Err(AudioError::Config(
                            "opus: no OpusHead and no 1- or 2-channel count".into(),
                        ));
                    }
                    opus::OpusHead {
                        channels: ap.channels as u8,
                        pre_skip: 0,
                        output_gain: 0,
                        mapping_family: 0,
                        streams: 1,
                        coupled: ap.channels as u8 - 1,
                        mapping: (0..ap.channels as u8).collect(),
                    }
                } else {
                    opus::parse_head(extradata)?
                };
                let dec = opus::OpusDecoder::new(&head)?;
                let pre_skip = if ap.skip_samples > 0 {
                    u64::from(ap.skip_samples)
                } else {
                    u64::from(head.pre_skip)
                };
                return Ok(AudioDecoder {
                    name,
                    track: track.id,
                    kind: Kind::Opus { dec, pre_skip },
                    skip_left: pre_skip,
                });
            }
            AudioCodec::Ac3 | AudioCodec::Eac3 | AudioCodec::Dts | AudioCodec::Other(_) => {
                return Err(unsupported(""))
            }
        };
        params.for_codec(id);
        let dec = make_sym(&params).map_err(|e| match e {
            SymError::Unsupported(what) => unsupported(what),
            e => AudioError::Config(format!("{name}: {e}")),
        })?;
        let kind = if matches!(codec, AudioCodec::Mp1 | AudioCodec::Mp2 | AudioCodec::Mp3) {
            Kind::Mpa {
                dec,
                split: mpa::Splitter::default(),
            }
        } else {
            Kind::Sym { dec, params, adts }
        };
        Ok(AudioDecoder {
            name,
            track: track.id,
            kind,
            skip_left: u64::from(ap.skip_samples),
        })
    }

    /// ffprobe's name of the codec ("aac", "opus", "pcm_s16le", ...).
    pub fn codec_name(&self) -> &str {
        &self.name
    }

    /// Decodes one packet. `Ok(None)`: nothing to output yet (a Vorbis
    /// stream's first packet, priming dropped, an MPEG audio frame not yet
    /// whole).
    ///
    /// Errors: [`AudioError::Corrupt`] — the packet (or the frames cut from
    /// it) did not decode and was skipped; the decoder stays usable and the
    /// next packet decodes.
    pub fn decode(&mut self, pkt: &Packet) -> Result<Option<Pcm>, AudioError> {
        let track = self.track;
        let corrupt = |what: String| AudioError::Corrupt {
            byte_offset: pkt.byte_offset,
            what: format!("track {track}: {what}"),
        };
        let name = self.name.clone();
        let out = match &mut self.kind {
            Kind::Opus { dec, .. } => {
                if pkt.data.is_empty() {
                    return Ok(None);
                }
                let ch = u16::from(dec.channels());
                let s = dec
                    .decode(&pkt.data)
                    .map_err(|e| corrupt(format!("{name}: {e}")))?
                    .to_vec();
                Some((48000, ch, s))
            }
            Kind::Sym { dec, params, adts } => {
                let mut acc: Option<(u32, u16, Vec<f32>)> = None;
                let mut err = None;
                let frames: Vec<&[u8]> = if *adts {
                    split_adts(&pkt.data)
                } else {
                    vec![&pkt.data[..]]
                };
                for f in frames {
                    if params.codec == CODEC_ID_AAC && aac::has_libfaac_fill(f) {
                        self.skip_left = aac::LIBFAAC_DELAY;
                    }
                    match sym_decode(dec, f) {
                        Ok(Some((rate, ch, s))) => append(&mut acc, rate, ch, s),
                        Ok(None) => {}
                        Err(e) => err = Some(e),
                    }
                }
                if let (None, Some(e)) = (&acc, err) {
                    return Err(corrupt(format!("{name}: {e}")));
                }
                acc
            }
            Kind::Mpa { dec, split } => {
                split.push(&pkt.data, pkt.pts_ns);
                let mut acc: Option<(u32, u16, Vec<f32>)> = None;
                let mut first_pts = None;
                let mut err = None;
                while let Some(f) = split.next_frame() {
                    match sym_decode(dec, &f.data) {
                        Ok(Some((rate, ch, s))) => {
                            if acc.is_none() {
                                first_pts = f.pts_ns;
                            }
                            append(&mut acc, rate, ch, s)
                        }
                        Ok(None) => {}
                        Err(e) => err = Some(e),
                    }
                }
                if let (None, Some(e)) = (&acc, err) {
                    return Err(corrupt(format!("{name}: {e}")));
                }
                if acc.is_none() && split.skipped > NO_SYNC_LIMIT {
                    let n = split.skipped;
                    split.skipped = 0;
                    return Err(corrupt(format!(
                        "{name}: no MPEG audio frame header in {n} bytes (free-format streams are not supported)"
                    )));
                }
                let Some((rate, ch, s)) = acc else {
                    return Ok(None);
                };
                return Ok(self.finish_with(first_pts, pkt.discard_padding_ns, rate, ch, s));
            }
        };
        let Some((rate, ch, s)) = out else {
            return Ok(None);
        };
        Ok(self.finish_with(pkt.pts_ns, pkt.discard_padding_ns, rate, ch, s))
    }

    /// Forgets the decoder's state after a discontinuity (seek): overlap
    /// buffers, a partly buffered MPEG audio frame. Priming is not dropped
    /// again, except Opus's `pre_skip` (as FFmpeg's `libopusdec.c` flush).
    pub fn reset(&mut self) {
        match &mut self.kind {
            Kind::Sym { dec, .. } => dec.reset(),
            Kind::Mpa { dec, split, .. } => {
                dec.reset();
                split.clear();
            }
            Kind::Opus { dec, pre_skip } => {
                dec.reset();
                self.skip_left = *pre_skip;
            }
        }
    }

    /// Drops priming from the start of `samples`, and the packet's
    /// `discard_padding_ns` from its end (> 0) or start (< 0), and wraps
    /// them.
    fn finish_with(
        &mut self,
        pts_ns: Option<i64>,
        discard_padding_ns: i64,
        rate: u32,
        channels: u16,
        mut samples: Vec<f32>,
    ) -> Option<Pcm> {
        let ch = usize::from(channels.max(1));
        let frames = (samples.len() / ch) as u64;
        let drop = self.skip_left.min(frames);
        self.skip_left -= drop;
        let padding = padding_frames(discard_padding_ns, rate);
        let (start_pad, end_pad) = if discard_padding_ns < 0 {
            (padding, 0)
        } else {
            (0, padding)
        };
        let drop = (drop + start_pad).min(frames);
        let keep_end = frames.saturating_sub(end_pad).max(drop);
        samples.truncate(keep_end as usize * ch);
        samples.drain(..drop as usize * ch);
        if samples.is_empty() {
            return None;
        }
        let shift = (drop as i128 * 1_000_000_000 / i128::from(rate.max(1))) as i64;
        Some(Pcm {
            pts_ns: pts_ns.map(|p| p.saturating_add(shift)),
            sample_rate: rate,
            channels,
            samples,
        })
    }
}

/// `DiscardPadding` ns as frames at `rate`, rounded to the nearest as
/// FFmpeg's `matroskadec.c` does (`av_rescale_q`, halves away from zero).
fn padding_frames(ns: i64, rate: u32) -> u64 {
    let n = u128::from(ns.unsigned_abs()) * u128::from(rate);
    ((n + 500_000_000) / 1_000_000_000).min(u128::from(u64::MAX)) as u64
}

/// Decodes one symphonia packet to interleaved f32. `Ok(None)` for an empty
/// output. A decoder error is returned as text; after `ResetRequired` the
/// decoder is reset so the next packet starts clean. (No `catch_unwind`:
/// the project's rule keeps it off the data path, and the damage tests —
/// flipped, truncated, noise and empty packets over every corpus track —
/// found no panic in symphonia; issue 15's fuzzing is where one would show.)
fn sym_decode(
    dec: &mut Box<dyn SymDecoder>,
    data: &[u8],
) -> Result<Option<(u32, u16, Vec<f32>)>, String> {
    let pkt = PacketRef::new(0, Timestamp::new(0), Duration::ZERO, data);
    match dec.decode_ref(&pkt) {
        Ok(buf) => {
            if buf.frames() == 0 {
                return Ok(None);
            }
            let rate = buf.spec().rate();
            let ch = buf.spec().channels().count() as u16;
            let mut v = Vec::new();
            buf.copy_to_vec_interleaved::<f32>(&mut v);
            Ok(Some((rate, ch, v)))
        }
        Err(SymError::ResetRequired) => {
            dec.reset();
            Err(SymError::ResetRequired.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Appends one frame's output to what a packet produced so far; a frame
/// whose rate or channel count differs from the first one's is dropped
/// (one [`Pcm`] has one format).
fn append(acc: &mut Option<(u32, u16, Vec<f32>)>, rate: u32, ch: u16, s: Vec<f32>) {
    match acc {
        None => *acc = Some((rate, ch, s)),
        Some((r, c, v)) if *r == rate && *c == ch => v.extend(s),
        Some(_) => {}
    }
}

/// The raw AAC frames of a packet that carries ADTS frames (ISO/IEC 14496-3
/// 1.A.2: `frame_length` counts the header); a packet without an ADTS
/// header is one raw frame.
fn split_adts(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(h) = vreq_container::adts_header(rest) {
        if h.frame_len > rest.len() {
            break;
        }
        out.push(&rest[h.header_len..h.frame_len]);
        rest = &rest[h.frame_len..];
    }
    if out.is_empty() {
        out.push(data);
    }
    out
}
