//! Demuxers: MP4 (incl. fragmented), Matroska/WebM, IVF, raw Annex-B
//! elementary streams, MPEG-2 video as elementary stream or program stream,
//! and MPEG transport streams (MPEG-2, H.264 or HEVC video). Audio tracks of
//! every container are named ([`AudioCodec`], [`AudioParams`], extradata in
//! [`TrackInfo::codec_private`]) and their packets come interleaved with the
//! video's in file order, on the same time axis. Everything here produces
//! [`Packet`]s; nothing here knows codecs beyond the configuration records
//! and frame headers it needs to cut and name a stream, or devices.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use vreq_core::{CodecKind, CodecPrivate, CodedUnit};

pub mod annexb;
mod audio;
pub use audio::{adts_header, mpa_header, parse_asc, AdtsHeader, AudioSpecificConfig, MpaHeader};
mod config;
pub mod ivf;
pub mod mkv;
pub mod mp4;
pub mod mpeg2es;
pub mod mpegmux;
pub mod mpegps;
pub mod mpegts;
pub mod mpegvideo;

/// Which coded format a track carries: a video codec vreqplay decodes
/// (named by the one [`CodecKind`]), or another one as the container names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackCodec {
    /// H.264, HEVC, VP8, VP9 or MPEG-2 video.
    Video(CodecKind),
    /// AV1 video (recognised, keyframes found; no stateless AV1 decoder is driven).
    Av1,
    /// An audio track: its codec, and in [`TrackInfo::audio`] its rate and
    /// channels (codec configuration in [`TrackInfo::codec_private`]).
    Audio(AudioCodec),
    /// Anything else (the container's own codec name).
    Other(String),
}

impl TrackCodec {
    /// The codec vreqplay decodes this track with, if it is one.
    pub fn kind(&self) -> Option<CodecKind> {
        match self {
            TrackCodec::Video(k) => Some(*k),
            _ => None,
        }
    }
}

/// The track vreqplay plays from the file at `path`: the first of `tracks`
/// whose codec it decodes ([`TrackCodec::kind`]), with that codec.
///
/// Errors: none is decodable — `PATH: no video track vreqplay can decode
/// (tracks: [...])`.
pub fn first_video_track(
    path: &Path,
    tracks: &[TrackInfo],
) -> Result<(TrackInfo, CodecKind), String> {
    tracks
        .iter()
        .find_map(|t| t.codec.kind().map(|k| (t.clone(), k)))
        .ok_or_else(|| {
            format!(
                "{}: no video track vreqplay can decode (tracks: {:?})",
                path.display(),
                tracks.iter().map(|t| &t.codec).collect::<Vec<_>>()
            )
        })
}

/// The codec of an audio track, as the container names it (Matroska
/// `CodecID`, MP4 sample entry + `esds` `objectTypeIndication`, MPEG-TS
/// `stream_type`, MPEG-PS `stream_id`), normalised. The audio crate decides
/// what it decodes; the container only names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioCodec {
    /// MPEG-4 AAC (any profile; the AudioSpecificConfig says which).
    Aac,
    /// MPEG-1/2 Audio Layer I.
    Mp1,
    /// MPEG-1/2 Audio Layer II.
    Mp2,
    /// MPEG-1/2 Audio Layer III.
    Mp3,
    Vorbis,
    Opus,
    Flac,
    Alac,
    /// Uncompressed PCM.
    Pcm(PcmFormat),
    /// ATSC A/52 (Dolby Digital).
    Ac3,
    /// ATSC A/52 Annex E (Dolby Digital Plus).
    Eac3,
    /// DTS Coherent Acoustics.
    Dts,
    /// Anything else (the container's own codec name, e.g. `A_TRUEHD`).
    Other(String),
}

impl AudioCodec {
    /// FFmpeg's name for the codec, as ffprobe prints `codec_name`
    /// (`libavcodec/codec_desc.c`: `aac`, `mp2`, `pcm_s16le`, …; `Other`
    /// keeps the container's own name).
    pub fn ffprobe_name(&self) -> String {
        match self {
            AudioCodec::Aac => "aac".into(),
            AudioCodec::Mp1 => "mp1".into(),
            AudioCodec::Mp2 => "mp2".into(),
            AudioCodec::Mp3 => "mp3".into(),
            AudioCodec::Vorbis => "vorbis".into(),
            AudioCodec::Opus => "opus".into(),
            AudioCodec::Flac => "flac".into(),
            AudioCodec::Alac => "alac".into(),
            AudioCodec::Pcm(f) => {
                let kind = if f.float {
                    'f'
                } else if f.signed {
                    's'
                } else {
                    'u'
                };
                if f.bits == 8 {
                    format!("pcm_{kind}8")
                } else {
                    let end = if f.big_endian { "be" } else { "le" };
                    format!("pcm_{kind}{}{end}", f.bits)
                }
            }
            AudioCodec::Ac3 => "ac3".into(),
            AudioCodec::Eac3 => "eac3".into(),
            AudioCodec::Dts => "dts".into(),
            AudioCodec::Other(s) => s.clone(),
        }
    }
}

/// Sample format of a PCM track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcmFormat {
    /// Bits per sample as stored (8, 16, 24, 32, 64).
    pub bits: u16,
    /// IEEE float samples (else integer).
    pub float: bool,
    /// Big-endian samples (else little-endian).
    pub big_endian: bool,
    /// Signed integer samples (8-bit PCM is usually unsigned).
    pub signed: bool,
}

/// What an audio decoder needs from the container besides
/// [`TrackInfo::codec_private`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AudioParams {
    /// Samples per second per channel the container states (0 if unknown:
    /// the codec configuration then says).
    pub sample_rate: u32,
    /// Channels the container states (0 if unknown).
    pub channels: u16,
    /// Samples per channel, at `sample_rate`, to drop from the start of the
    /// decoded stream (encoder delay / priming). It is the one value the
    /// decoder applies: for Opus it is the `OpusHead`'s `pre_skip` (48 kHz
    /// samples; RFC 7845 4.2), whatever the container, and the decoder must
    /// not drop `pre_skip` again; for other codecs the MP4 audio edit list's
    /// `media_time` (ISO/IEC 14496-12 8.6.6, converted from the media
    /// timescale). 0 when the container says nothing, and for non-Opus
    /// Matroska tracks: their `CodecDelay` only moves the pts back and its
    /// samples are played (at negative time), as FFmpeg 5.1's matroskadec
    /// does (it keeps `CodecDelay` as `initial_padding`, which its decoders
    /// do not drop).
    ///
    /// Time axis: a packet's `pts_ns` is the time of the first sample it
    /// decodes to *before* this drop (FFmpeg's convention: MP4 pts = dts −
    /// `media_time`, Matroska pts = block time − `CodecDelay`), so the first
    /// sample kept plays at `first pts + skip_samples / sample_rate`, usually
    /// the video's start.
    pub skip_samples: u32,
}

/// One track of a container.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackInfo {
    /// Container track number (MP4 track_ID, Matroska TrackNumber; 1 for ES/IVF).
    pub id: u32,
    pub codec: TrackCodec,
    /// Coded size in pixels as the container states it (0 if unknown).
    pub width: u32,
    pub height: u32,
    /// Nominal frame duration in ns (from default duration / sample table / IVF
    /// header); `None` if the container does not say.
    pub frame_duration_ns: Option<u64>,
    /// Track duration in ns if known.
    pub duration_ns: Option<u64>,
    pub codec_private: CodecPrivate,
    /// Presentation window in ns `[start, end)` from an MP4 edit list
    /// (ISO/IEC 14496-12 §8.6.6 `elst`, one real edit): frames whose pts falls
    /// outside are decoded (they may be references) but not shown, as ffmpeg
    /// does. `None` when the container sets no window.
    pub presentation_window_ns: Option<(i64, i64)>,
    /// Pixel (sample) aspect ratio width : height the container states,
    /// reduced; `None` when it states none. It overrides the bitstream's (as
    /// mpv's default `--video-aspect-method=container`, FFmpeg's
    /// `av_guess_sample_aspect_ratio` (stream before codec SAR) and
    /// GStreamer's `gst_h264_parse_get_par` / `gst_h265_parse_get_par`
    /// (upstream caps' `pixel-aspect-ratio` before the VUI's) do): see
    /// [`display_geometry`].
    /// Sources: MP4 / QuickTime `pasp` (ISO/IEC 14496-12 12.1.4
    /// `hSpacing` : `vSpacing`); Matroska `DisplayWidth` / `DisplayHeight`
    /// (any `DisplayUnit` but unknown ones: pixels, cm, inches and "display
    /// aspect ratio" all give the display aspect of the cropped picture)
    /// against `PixelWidth` / `PixelHeight` minus `PixelCrop*`.
    pub pixel_aspect: Option<(u32, u32)>,
    /// Pixels the container says to cut off the decoded picture's visible
    /// rectangle (Matroska `PixelCrop{Left,Top,Right,Bottom}`; MP4 `clap`
    /// when it is integral and inside the picture). `None` when none.
    pub crop: Option<Crop>,
    /// Rate, channels and priming of an audio track; `None` for video and
    /// other tracks. For audio tracks [`TrackInfo::codec_private`] is
    /// `CodecPrivate::Raw` holding what FFmpeg calls the codec's
    /// `extradata`: AAC the AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1),
    /// Vorbis the three headers Xiph-laced (Matroska `CodecPrivate`), Opus
    /// the `OpusHead` packet (RFC 7845 5.1; an MP4 `dOps` is rewritten into
    /// it), FLAC `fLaC` + metadata blocks, ALAC the ALACSpecificConfig;
    /// `CodecPrivate::None` where every frame carries its configuration
    /// (MPEG audio, AC-3, E-AC-3, DTS). AAC in ADTS (MPEG-TS / PS) comes as
    /// raw frames, headers stripped, with an AudioSpecificConfig built from
    /// the first ADTS header.
    pub audio: Option<AudioParams>,
}

impl TrackInfo {
    /// A track that knows only its id and codec: size 0, every optional
    /// field `None`, no codec private data (what the raw-stream demuxers
    /// know before parsing; callers fill the rest with `..TrackInfo::new()`).
    pub fn new(id: u32, codec: TrackCodec) -> Self {
        TrackInfo {
            id,
            codec,
            width: 0,
            height: 0,
            frame_duration_ns: None,
            duration_ns: None,
            codec_private: CodecPrivate::None,
            presentation_window_ns: None,
            pixel_aspect: None,
            crop: None,
            audio: None,
        }
    }
}

/// Pixels to remove from each edge of a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Crop {
    pub left: u32,
    pub top: u32,
    pub right: u32,
    pub bottom: u32,
}

/// What the player shows of a decoded picture: the codec's visible
/// rectangle `visible` (x, y, width, height in pixels; SPS conformance /
/// frame cropping window, MPEG-2 horizontal/vertical size) intersected with
/// the container's crop, and the pixel aspect ratio — the container's when
/// it states one (mpv's default `--video-aspect-method=container`: "strictly
/// prefer the container aspect ratio ... if the container has no aspect ratio
/// set, the behavior is the same as with bitstream"), else the bitstream's
/// `codec_aspect` ([`vreq_core::StreamParams::pixel_aspect`]). A crop that
/// would leave nothing is ignored (it cannot be meant).
pub fn display_geometry(
    track: &TrackInfo,
    visible: (u32, u32, u32, u32),
    codec_aspect: (u32, u32),
) -> ((u32, u32, u32, u32), (u32, u32)) {
    let (x, y, w, h) = visible;
    let mut out = visible;
    if let Some(c) = track.crop {
        let cw = u64::from(c.left) + u64::from(c.right);
        let ch = u64::from(c.top) + u64::from(c.bottom);
        if cw < u64::from(w) && ch < u64::from(h) {
            out = (
                x + c.left,
                y + c.top,
                w - (c.left + c.right),
                h - (c.top + c.bottom),
            );
        }
    }
    (out, track.pixel_aspect.unwrap_or(codec_aspect))
}

/// One coded access unit / frame of one track.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packet {
    /// [`TrackInfo::id`] of the track this belongs to.
    pub track: u32,
    /// The coded bytes exactly as stored (AVC: length-prefixed NAL units; Annex-B: with start codes).
    pub data: Vec<u8>,
    /// Presentation time in ns, if known.
    pub pts_ns: Option<i64>,
    /// Decode time in ns, if known.
    pub dts_ns: Option<i64>,
    /// Duration in ns, if known.
    pub duration_ns: Option<u64>,
    /// Random-access point (sync sample / keyframe / IDR).
    pub keyframe: bool,
    /// Byte offset of the first byte of `data` in the file (for error messages).
    pub byte_offset: u64,
    /// Audio to drop after decoding this packet, in ns: Matroska's
    /// `DiscardPadding` (RFC 9559 §5.1.3.5.7) of the BlockGroup whose Block
    /// this frame ends (the padding is at the Block's end; a laced Block's
    /// earlier frames get 0). Positive: that much is dropped from the end of
    /// the packet's decoded samples (encoder padding of the stream's last
    /// packet); negative: from its start — as FFmpeg's `matroskadec.c` turns
    /// it into `AV_PKT_DATA_SKIP_SAMPLES` (rounded to the nearest sample at
    /// the track's rate). 0 for every other packet and container.
    pub discard_padding_ns: i64,
}

impl<'a> From<&'a Packet> for CodedUnit<'a> {
    /// A packet's payload, pts, keyframe flag and byte offset.
    fn from(p: &'a Packet) -> Self {
        CodedUnit {
            data: &p.data,
            pts_ns: p.pts_ns,
            keyframe: p.keyframe,
            byte_offset: p.byte_offset,
        }
    }
}

/// Errors from demuxing. Every variant names the file and where possible the
/// byte offset, so the user can find the bad spot.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: not a container vreqplay knows (MP4, Matroska/WebM, IVF, H.264/HEVC Annex-B, MPEG-2 ES, MPEG-PS, MPEG-TS)"
    )]
    UnknownFormat { path: PathBuf },
    #[error("{path}: corrupt {format} at byte {offset}: {what}")]
    Corrupt {
        path: PathBuf,
        format: &'static str,
        offset: u64,
        what: String,
    },
    #[error("{path}: {what}")]
    Unsupported { path: PathBuf, what: String },
}

impl ContainerError {
    /// Shorthand for [`ContainerError::Corrupt`].
    pub(crate) fn corrupt(
        path: &Path,
        format: &'static str,
        offset: u64,
        what: impl Into<String>,
    ) -> Self {
        ContainerError::Corrupt {
            path: path.to_owned(),
            format,
            offset,
            what: what.into(),
        }
    }

    /// Shorthand for [`ContainerError::Io`].
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        ContainerError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// A demuxer: a file's tracks and its packets in file (decode) order. Every
/// demuxer of this crate is `Send` ([`open`] returns `Box<dyn Demuxer + Send>`).
pub trait Demuxer {
    /// All tracks of the file.
    fn tracks(&self) -> &[TrackInfo];
    /// The next packet of any track, in storage order; `Ok(None)` at end of file.
    /// Errors are per packet: after `Err` the caller may call again to resume
    /// with the next readable packet (a demuxer that cannot resume returns `Ok(None)`).
    fn next_packet(&mut self) -> Result<Option<Packet>, ContainerError>;
    /// [`Demuxer::next_packet`] into `pkt`, reusing its `data` buffer: the
    /// steady-state read without a heap allocation per packet (issue 17)
    /// once `pkt.data` has grown to the largest packet. `Ok(false)` at end
    /// of file (`pkt` then unspecified). Same errors and resumption as
    /// `next_packet`. Default: `next_packet`, moved into `pkt`.
    fn read_packet(&mut self, pkt: &mut Packet) -> Result<bool, ContainerError> {
        match self.next_packet()? {
            Some(p) => {
                *pkt = p;
                Ok(true)
            }
            None => Ok(false),
        }
    }
    /// Positions the demuxer so that the next packet of `track` is the last
    /// keyframe (random-access point) at or before `pts_ns` (or the first
    /// keyframe if none is at or before it). Packets of other tracks resume
    /// from about the same file position (an audio track may start a little
    /// before or after). A target past the end positions at the last
    /// keyframe. How each container finds the spot (index, bisection on
    /// timestamps, byte estimate + resync) is documented on its demuxer; none
    /// scans the file from the start when the container has an index or
    /// timestamps to bisect on.
    ///
    /// Errors: I/O, or a file damaged where the seek lands (the caller may
    /// seek elsewhere or to 0).
    fn seek(&mut self, track: u32, pts_ns: i64) -> Result<(), ContainerError>;
    /// The file's duration in ns (the longest track's last pts + duration,
    /// from the header where the container has one: MP4 `mvhd` / `mdhd`,
    /// Matroska `Duration`; else from the last timestamps, found without
    /// reading the whole file). `None` when it cannot be known cheaply (a
    /// live / growing stream).
    fn duration_ns(&self) -> Option<i64> {
        None
    }
    /// Chapters in start order (Matroska `Chapters` / `EditionEntry` /
    /// `ChapterAtom`, MP4 Nero `chpl` or a `chap` text track where read):
    /// what mpv's `PgUp` / `PgDn` step through. Empty when the file has none.
    fn chapters(&self) -> &[Chapter] {
        &[]
    }
}

/// One chapter: where it starts and its title (Matroska `ChapterTimeStart`
/// / `ChapString`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chapter {
    /// Start, ns on the tracks' pts axis.
    pub start_ns: i64,
    /// Title, if the file gives one.
    pub title: Option<String>,
}

/// Container formats recognised by [`probe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Mp4,
    Matroska,
    Ivf,
    AnnexBH264,
    AnnexBHevc,
    /// MPEG-2 video elementary stream (starts with a sequence header).
    Mpeg2Es,
    /// MPEG program stream (starts with a pack header).
    MpegPs,
    /// MPEG transport stream (sync byte 0x47 at 0, 188 and 376), or its
    /// 192-byte BDAV / M2TS form (at 4, 196 and 388).
    MpegTs,
}

/// Recognises a container from its first bytes (`head`: up to
/// [`annexb::PROBE_BYTES`] of them): the containers by their magic, raw
/// H.264 / HEVC Annex-B streams by their NAL units ([`annexb::probe_codec`])
/// whatever the file is called. The file extension (`.h264`, `.264`,
/// `.h265`, `.265`, `.hevc`, …) decides only for an Annex-B stream the
/// content does not settle (no parameter sets or random-access picture in
/// the first bytes).
pub fn probe(path: &Path, head: &[u8]) -> Option<Format> {
    if head.len() >= 8
        && matches!(
            &head[4..8],
            b"ftyp" | b"moov" | b"styp" | b"free" | b"mdat" | b"wide"
        )
    {
        return Some(Format::Mp4);
    }
    if head.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]) {
        return Some(Format::Matroska);
    }
    if head.starts_with(b"DKIF") {
        return Some(Format::Ivf);
    }
    if mpeg2es::probe(head) {
        return Some(Format::Mpeg2Es);
    }
    if mpegps::probe(head) {
        return Some(Format::MpegPs);
    }
    if mpegts::probe(head) {
        return Some(Format::MpegTs);
    }
    match annexb::probe_codec(head) {
        Some(CodecKind::H264) => return Some(Format::AnnexBH264),
        Some(CodecKind::Hevc) => return Some(Format::AnnexBHevc),
        _ => {}
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let has_start_code = head.starts_with(&[0, 0, 1]) || head.starts_with(&[0, 0, 0, 1]);
    match ext.as_str() {
        "h264" | "264" | "avc" | "jsv" | "jvt" | "26l" if has_start_code => {
            Some(Format::AnnexBH264)
        }
        "h265" | "265" | "hevc" if has_start_code => Some(Format::AnnexBHevc),
        _ => None,
    }
}

/// Opens `path` with the demuxer its content calls for. The demuxer is
/// `Send`: the player runs it on a thread of its own.
///
/// Errors: [`ContainerError::Io`] if it can't be read, [`ContainerError::UnknownFormat`]
/// if no demuxer recognises it, else whatever the demuxer reports for the header.
pub fn open(path: &Path) -> Result<Box<dyn Demuxer + Send>, ContainerError> {
    use std::io::Read;
    let io = |source| ContainerError::Io {
        path: path.to_owned(),
        source,
    };
    // The MPEG-TS probe needs 377 bytes (sync bytes at 0, 188, 376); the
    // Annex-B one looks for parameter sets and a random-access picture.
    let mut head = Vec::with_capacity(annexb::PROBE_BYTES);
    let f = std::fs::File::open(path).map_err(io)?;
    f.take(annexb::PROBE_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    match probe(path, &head) {
        Some(Format::Mp4) => Ok(Box::new(mp4::Mp4Demuxer::open(path)?)),
        Some(Format::Matroska) => Ok(Box::new(mkv::MkvDemuxer::open(path)?)),
        Some(Format::Ivf) => Ok(Box::new(ivf::IvfDemuxer::open(path)?)),
        Some(Format::AnnexBH264) => Ok(Box::new(annexb::AnnexBDemuxer::open(
            path,
            TrackCodec::Video(CodecKind::H264),
        )?)),
        Some(Format::AnnexBHevc) => Ok(Box::new(annexb::AnnexBDemuxer::open(
            path,
            TrackCodec::Video(CodecKind::Hevc),
        )?)),
        Some(Format::Mpeg2Es) => Ok(Box::new(mpeg2es::Mpeg2EsDemuxer::open(path)?)),
        Some(Format::MpegPs) => Ok(Box::new(mpegps::open(path)?)),
        Some(Format::MpegTs) => Ok(Box::new(mpegts::open(path)?)),
        None => Err(ContainerError::UnknownFormat {
            path: path.to_owned(),
        }),
    }
}

#[cfg(test)]
mod send_tests {
    /// Every demuxer can move to the player's demux thread.
    #[test]
    fn demuxers_are_send() {
        fn send<T: Send>() {}
        send::<super::mp4::Mp4Demuxer>();
        send::<super::mkv::MkvDemuxer>();
        send::<super::ivf::IvfDemuxer>();
        send::<super::annexb::AnnexBDemuxer>();
        send::<super::mpeg2es::Mpeg2EsDemuxer>();
        send::<super::mpegmux::MuxDemuxer>();
        send::<Box<dyn super::Demuxer + Send>>();
    }
}
