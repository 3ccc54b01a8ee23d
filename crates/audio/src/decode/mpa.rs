//! MPEG-1/2/2.5 audio frame splitting (ISO/IEC 11172-3 2.4.2.3, ISO/IEC
//! 13818-3 2.4.2.3): an MPEG-PS / MPEG-TS demuxer hands out PES payloads,
//! which may hold several frames or a frame split across two PES packets,
//! while symphonia's `MpaDecoder` takes exactly one frame per packet. This
//! is the job FFmpeg's `libavcodec/mpegaudio_parser.c` does in front of its
//! decoder; here it is a byte queue cut at frame headers.

/// A frame header's facts needed to cut the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// Bytes in the frame, header included.
    pub len: usize,
    /// Samples per channel the frame decodes to (384, 576 or 1152).
    pub samples: u32,
    /// Hz.
    pub sample_rate: u32,
    /// 1, 2 or 3.
    pub layer: u8,
}

/// kbit/s by [MPEG-1 layer 1, 2, 3, MPEG-2/2.5 layer 1, layer 2 and 3][index]
/// (ISO/IEC 11172-3 2.4.2.3 `bitrate_index`, ISO/IEC 13818-3 2.4.2.3).
const BITRATES: [[u16; 15]; 5] = [
    [
        0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ],
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ],
    [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ],
    [
        0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];

/// Parses the 4-byte frame header at the start of `b`. `None` when `b` does
/// not start with a valid header (no sync word, reserved version / layer /
/// rate, free-format or forbidden bitrate: free format has no length in its
/// header and is not supported).
pub(crate) fn parse_header(b: &[u8]) -> Option<FrameHeader> {
    if b.len() < 4 || b[0] != 0xFF || b[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (b[1] >> 3) & 3; // 0: MPEG-2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
    let layer_bits = (b[1] >> 1) & 3; // 1: layer 3, 2: layer 2, 3: layer 1
    let bitrate_index = usize::from(b[2] >> 4);
    let rate_index = usize::from((b[2] >> 2) & 3);
    let padding = u32::from((b[2] >> 1) & 1);
    if version == 1 || layer_bits == 0 || bitrate_index == 0 || bitrate_index == 15 {
        return None;
    }
    if rate_index == 3 {
        return None;
    }
    let layer = 4 - layer_bits;
    let mpeg1 = version == 3;
    let base_rate = [44100u32, 48000, 32000][rate_index];
    let sample_rate = match version {
        3 => base_rate,
        2 => base_rate / 2,
        _ => base_rate / 4,
    };
    let table = match (mpeg1, layer) {
        (true, 1) => 0,
        (true, 2) => 1,
        (true, _) => 2,
        (false, 1) => 3,
        (false, _) => 4,
    };
    let bitrate = u32::from(BITRATES[table][bitrate_index]) * 1000;
    let (len, samples) = match layer {
        1 => ((12 * bitrate / sample_rate + padding) * 4, 384),
        2 => (144 * bitrate / sample_rate + padding, 1152),
        _ if mpeg1 => (144 * bitrate / sample_rate + padding, 1152),
        _ => (72 * bitrate / sample_rate + padding, 576),
    };
    Some(FrameHeader {
        len: len as usize,
        samples,
        sample_rate,
        layer,
    })
}

/// Bytes kept while looking for a header before the oldest are dropped: more
/// than the longest frame (layer 2 at 384 kbit/s, 32 kHz: 1728 bytes; layer 1
/// at 448 kbit/s, 32 kHz: 672 bytes).
const MAX_BUFFER: usize = 16 * 1024;

/// Cuts a byte stream into whole MPEG audio frames, keeping each frame's pts
/// (the pts of the packet its first byte came in, as a PES pts names the
/// first frame starting in the PES packet: ISO/IEC 13818-1 2.4.3.7).
#[derive(Default)]
pub(crate) struct Splitter {
    buf: Vec<u8>,
    /// Absolute stream position of `buf[0]`.
    pos: u64,
    /// (absolute position, pts) of each pushed packet whose pts is known.
    marks: Vec<(u64, i64)>,
    /// Bytes skipped while resynchronising since the last frame.
    pub skipped: usize,
}

/// One frame cut from the stream.
pub(crate) struct Frame {
    pub data: Vec<u8>,
    /// The pts of the packet the frame starts in, if that packet had one and
    /// no earlier frame started in it.
    pub pts_ns: Option<i64>,
}

impl Splitter {
    /// Appends a packet's bytes.
    pub fn push(&mut self, data: &[u8], pts_ns: Option<i64>) {
        if let Some(pts) = pts_ns {
            self.marks.push((self.pos + self.buf.len() as u64, pts));
        }
        self.buf.extend_from_slice(data);
    }

    /// Forgets everything buffered (seek).
    pub fn clear(&mut self) {
        self.pos += self.buf.len() as u64;
        self.buf.clear();
        self.marks.clear();
        self.skipped = 0;
    }

    /// The next whole frame, if one is buffered. A header is trusted when
    /// the bytes right after its frame start another header, or when the
    /// frame ends exactly at the end of what is buffered (the packet held
    /// whole frames, as Matroska / MP4 blocks do).
    pub fn next_frame(&mut self) -> Option<Frame> {
        loop {
            if self.buf.len() < 4 {
                return None;
            }
            let Some(h) = parse_header(&self.buf) else {
                self.drop_front(1);
                self.skipped += 1;
                continue;
            };
            if self.buf.len() < h.len {
                if self.buf.len() > MAX_BUFFER {
                    self.drop_front(1);
                    self.skipped += 1;
                    continue;
                }
                return None;
            }
            let rest = &self.buf[h.len..];
            let follows = rest.is_empty()
                || (rest.len() >= 2 && rest[0] == 0xFF && rest[1] & 0xE0 == 0xE0)
                || (rest.len() == 1 && rest[0] == 0xFF);
            if !follows {
                self.drop_front(1);
                self.skipped += 1;
                continue;
            }
            let start = self.pos;
            let mut pts_ns = None;
            // The frame takes the latest mark at or before its start.
            while let Some(&(p, pts)) = self.marks.first() {
                if p <= start {
                    pts_ns = Some(pts);
                    self.marks.remove(0);
                } else {
                    break;
                }
            }
            let data = self.buf[..h.len].to_vec();
            self.drop_front(h.len);
            self.skipped = 0;
            return Some(Frame { data, pts_ns });
        }
    }

    fn drop_front(&mut self, n: usize) {
        self.buf.drain(..n);
        self.pos += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A layer 2, MPEG-1, 48 kHz, 192 kbit/s header: 144 * 192000 / 48000 = 576 bytes.
    fn l2_frame(fill: u8) -> Vec<u8> {
        let mut f = vec![0xFF, 0xFD, 0xA4, 0x04];
        f.resize(576, fill);
        f
    }

    #[test]
    fn header_lengths_follow_the_spec_formulas() {
        let h = parse_header(&l2_frame(0)).unwrap();
        assert_eq!(
            (h.len, h.samples, h.sample_rate, h.layer),
            (576, 1152, 48000, 2)
        );
        // MPEG-1 layer 3, 44.1 kHz, 128 kbit/s, padded: 144 * 128000 / 44100 + 1 = 418.
        let h = parse_header(&[0xFF, 0xFB, 0x92, 0x00]).unwrap();
        assert_eq!(
            (h.len, h.samples, h.sample_rate, h.layer),
            (418, 1152, 44100, 3)
        );
        // MPEG-2 layer 3, 22.05 kHz, 64 kbit/s: 72 * 64000 / 22050 = 208, 576 samples.
        let h = parse_header(&[0xFF, 0xF3, 0x80, 0x00]).unwrap();
        assert_eq!((h.len, h.samples, h.sample_rate), (208, 576, 22050));
        // Free format and reserved values are refused.
        assert!(parse_header(&[0xFF, 0xFD, 0x04, 0x04]).is_none());
        assert!(parse_header(&[0xFF, 0xFD, 0xAC, 0x04]).is_none());
        assert!(parse_header(&[0xFF, 0xEB, 0x90, 0x04]).is_none());
    }

    #[test]
    fn frames_split_across_packets_and_junk_are_cut_at_headers() {
        let mut s = Splitter::default();
        let mut stream = vec![0x00, 0x12];
        stream.extend(l2_frame(1));
        stream.extend(l2_frame(2));
        stream.extend(l2_frame(3));
        // Three packets cut at arbitrary places; pts on the first two.
        s.push(&stream[..300], Some(1000));
        assert!(s.next_frame().is_none());
        s.push(&stream[300..900], Some(2000));
        let f = s.next_frame().unwrap();
        assert_eq!((f.data[4], f.pts_ns), (1, Some(1000)));
        assert!(s.next_frame().is_none(), "second frame not whole yet");
        s.push(&stream[900..], None);
        let f = s.next_frame().unwrap();
        // The second packet started inside frame 1, so frame 2 (the first
        // frame starting in it) carries its pts.
        assert_eq!((f.data[4], f.pts_ns), (2, Some(2000)));
        let f = s.next_frame().unwrap();
        assert_eq!((f.data[4], f.pts_ns), (3, None));
        assert!(s.next_frame().is_none());
    }
}
