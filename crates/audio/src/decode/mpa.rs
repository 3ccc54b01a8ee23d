//! MPEG-1/2/2.5 audio frame splitting (ISO/IEC 11172-3 2.4.2.3, ISO/IEC
//! 13818-3 2.4.2.3): an MPEG-PS / MPEG-TS demuxer hands out PES payloads,
//! which may hold several frames or a frame split across two PES packets,
//! while symphonia's `MpaDecoder` takes exactly one frame per packet. This
//! is the job FFmpeg's `libavcodec/mpegaudio_parser.c` does in front of its
//! decoder; here it is a byte queue cut at frame headers.

use vreq_container::mpa_header;

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
            let Some(h) = mpa_header(&self.buf) else {
                self.drop_front(1);
                self.skipped += 1;
                continue;
            };
            if self.buf.len() < h.frame_len {
                if self.buf.len() > MAX_BUFFER {
                    self.drop_front(1);
                    self.skipped += 1;
                    continue;
                }
                return None;
            }
            let rest = &self.buf[h.frame_len..];
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
            let data = self.buf[..h.frame_len].to_vec();
            self.drop_front(h.frame_len);
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
