//! The demux thread and its two packet queues (video, audio).
//!
//! The demux thread reads the file ahead and sorts packets into a video
//! queue (the calling thread's) and an audio queue (the audio thread's);
//! packets of other tracks are dropped. It reads while **either** queue is
//! below its target ([`VIDEO_TARGET_PACKETS`], [`AUDIO_TARGET_NS`] of
//! audio), so a full video queue never starves the audio queue, and never
//! past [`HARD_CAP_BYTES`] queued in all, so a file whose interleave is bad
//! (audio far behind the video, or the reverse) cannot grow memory without
//! bound. This is mpv's demuxer read-ahead rule in small
//! (`demux/demux.c`: read while any selected stream is below its
//! `--demuxer-readahead-secs`, stop at `--demuxer-max-bytes`). Each consumer
//! waits only on its own queue; the demux thread waits only for room.
//! When the cap is reached with the audio queue empty, the audio clock's
//! stall limit (`vreq_audio::clock::STALL_MAX_NS`) lets the video run on,
//! which frees bytes: no wait cycle.
//!
//! **Seek** ([`Queues::seek`]): the video thread posts a target; the
//! queues are emptied at once and the **generation** is bumped. The demux
//! thread takes the target before its next read, calls
//! [`Demuxer::seek`] on the video track (the audio track when there is no
//! video), and reads on; a packet read for an older generation is never
//! queued ([`Queues::put`] compares generations), so no stale packet is
//! decoded. A second seek posted before the demux thread took the first
//! replaces it (merged: the latest target wins; the video thread adds
//! relative seeks to the pending target). The audio consumer learns the
//! generation with each packet ([`Queues::pop_audio`]) and, with it, the
//! pts before which the sound is dropped: the first video packet's pts of
//! the new generation (the keyframe the picture restarts from), or the
//! target itself with `--hr-seek`. At the end of the file the demux thread
//! waits for a seek or the stop instead of ending, so a seek back after
//! the end plays again (mpv's `--keep-open` and the end-of-file seek).
//!
//! **Packet reuse**: the demux thread reads with [`Demuxer::read_packet`]
//! into a packet taken from a free list, and the consumers hand each packet
//! back once decoded ([`Queues::give_back`]; a seek's and an abandoned
//! queue's dropped packets go there too), so in the steady state no packet
//! buffer is allocated per frame. The free list holds at most
//! [`MAX_FREE_PACKETS`] packets of at most [`MAX_FREE_BYTES`] capacity in
//! all; what does not fit is dropped.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use vreq_container::{ContainerError, Demuxer, Packet};

/// The video queue's target: read ahead while it holds fewer packets.
pub const VIDEO_TARGET_PACKETS: usize = 32;
/// The audio queue's target: read ahead while it spans less (ns of pts).
pub const AUDIO_TARGET_NS: i64 = 1_000_000_000;
/// The audio queue's target when packets carry no pts: packets.
pub const AUDIO_TARGET_PACKETS: usize = 64;
/// Never queue more than this many bytes (both queues together).
pub const HARD_CAP_BYTES: usize = 64 << 20;
/// Packets handed back kept for reuse at most (the free list): as many as
/// both queues hold at their targets, so the packets in use stop growing in
/// number once the queues have filled (a smaller list would drop packets
/// whenever the consumers catch up, and allocate them again whenever the
/// demux thread gets ahead).
pub const MAX_FREE_PACKETS: usize = VIDEO_TARGET_PACKETS + AUDIO_TARGET_PACKETS;
/// Capacity (bytes of `Packet::data`) of the free list's packets at most.
pub const MAX_FREE_BYTES: usize = HARD_CAP_BYTES / 4;

/// Which stream a queue serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Video,
    Audio,
}

#[derive(Default)]
struct Queue {
    packets: VecDeque<Packet>,
    bytes: usize,
    /// The consumer went away: drop its packets, do not wait for it.
    gone: bool,
}

impl Queue {
    fn push(&mut self, p: Packet) {
        self.bytes += p.data.len();
        self.packets.push_back(p);
    }
    fn pop(&mut self) -> Option<Packet> {
        let p = self.packets.pop_front()?;
        self.bytes -= p.data.len();
        Some(p)
    }
}

#[derive(Default)]
struct State {
    video: Queue,
    audio: Queue,
    /// The demuxer is done (end of file or gave up).
    eof: bool,
    /// Stop reading (player ends).
    stop: bool,
    /// Demux warnings not yet taken.
    warnings: Vec<String>,
    /// Highest total bytes queued (tests / `-v`).
    peak_bytes: usize,
    /// Bumped by every seek; packets are queued only for the current one.
    generation: u64,
    /// A seek the demux thread has not taken yet (merged: the latest wins).
    seek: Option<SeekRequest>,
    /// Sound before this pts (ns) is dropped in the current generation;
    /// `None` until known (the first video packet after the seek).
    audio_from: Option<i64>,
    /// Whether `audio_from` is known for the current generation.
    audio_from_known: bool,
    /// The generation the audio consumer has flushed for ([`Queues::ack_audio`]).
    audio_acked: u64,
    /// A seek failed in the demuxer (message for the user).
    seek_error: Option<String>,
    /// Packets handed back for the demux thread to read into (bounded:
    /// [`MAX_FREE_PACKETS`], [`MAX_FREE_BYTES`]).
    free: Vec<Packet>,
    /// `Packet::data` capacity of `free`, bytes.
    free_bytes: usize,
}

/// A seek the video thread posted ([`Queues::seek`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeekRequest {
    /// Target pts (ns).
    pub target_ns: i64,
    /// `--hr-seek`: the sound starts at the target, not at the keyframe.
    pub precise: bool,
}

impl State {
    fn queue(&mut self, s: Stream) -> &mut Queue {
        match s {
            Stream::Video => &mut self.video,
            Stream::Audio => &mut self.audio,
        }
    }
    fn total_bytes(&self) -> usize {
        self.video.bytes + self.audio.bytes
    }
    fn audio_low(&self) -> bool {
        let q = &self.audio;
        if q.gone {
            return false;
        }
        let span = match (
            q.packets.front().and_then(|p| p.pts_ns),
            q.packets.back().and_then(|p| p.pts_ns),
        ) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        match span {
            Some(s) => s < AUDIO_TARGET_NS && q.packets.len() < 16 * AUDIO_TARGET_PACKETS,
            None => q.packets.len() < AUDIO_TARGET_PACKETS,
        }
    }
    fn video_low(&self) -> bool {
        !self.video.gone && self.video.packets.len() < VIDEO_TARGET_PACKETS
    }
    /// Whether the demux thread may read another packet.
    fn may_read(&self) -> bool {
        self.stop || (self.total_bytes() < HARD_CAP_BYTES && (self.video_low() || self.audio_low()))
    }
    /// Keeps `p` on the free list if it fits its bounds (else drops it).
    fn recycle(&mut self, p: Packet) {
        let cap = p.data.capacity();
        if cap > 0 && self.free.len() < MAX_FREE_PACKETS && self.free_bytes + cap <= MAX_FREE_BYTES
        {
            self.free_bytes += cap;
            self.free.push(p);
        }
    }
    /// Empties queue `s`, its packets to the free list (within its bounds).
    fn drain_to_free(&mut self, s: Stream) {
        while let Some(p) = self.queue(s).pop() {
            self.recycle(p);
        }
    }
    /// A packet from the free list to read into, or a new empty one.
    fn take_free(&mut self) -> Packet {
        match self.free.pop() {
            Some(p) => {
                self.free_bytes -= p.data.capacity();
                p
            }
            None => Packet::default(),
        }
    }
}

/// The queues both ends share.
#[derive(Clone, Default)]
pub struct Queues {
    inner: Arc<(Mutex<State>, Condvar)>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Queues {
    /// The next packet of `s`, waiting while its queue is empty; `None` at
    /// the end of the file (or when stopped).
    pub fn pop(&self, s: Stream) -> Option<Packet> {
        let (m, cv) = &*self.inner;
        let mut st = lock(m);
        loop {
            if let Some(p) = st.queue(s).pop() {
                cv.notify_all();
                return Some(p);
            }
            if (st.eof && st.seek.is_none()) || st.stop || st.queue(s).gone {
                return None;
            }
            st = cv
                .wait_timeout(st, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The next audio packet with the generation it belongs to and the pts
    /// (ns) before which that generation's sound is dropped (`None`: keep
    /// all). Waits while the queue is empty, and after a seek until that
    /// pts is known (the first video packet read, the end of the file, or
    /// no video). `None` at the end of the file (or when stopped).
    pub fn pop_audio(&self) -> Option<(Packet, u64, Option<i64>)> {
        let (m, cv) = &*self.inner;
        let mut st = lock(m);
        loop {
            if st.audio_from_known || st.video.gone || st.eof {
                if let Some(p) = st.audio.pop() {
                    cv.notify_all();
                    return Some((p, st.generation, st.audio_from));
                }
            }
            if st.stop
                || st.audio.gone
                || (st.eof && st.seek.is_none() && st.audio.packets.is_empty())
            {
                return None;
            }
            st = cv
                .wait_timeout(st, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Posts a seek to `req.target_ns` (ns): empties both queues, bumps the
    /// generation (returned) and wakes the demux thread, which seeks before
    /// its next read. A pending seek not yet taken is replaced.
    pub fn seek(&self, req: SeekRequest) -> u64 {
        let (m, cv) = &*self.inner;
        let mut st = lock(m);
        st.generation += 1;
        st.seek = Some(req);
        st.drain_to_free(Stream::Video);
        st.drain_to_free(Stream::Audio);
        st.eof = false;
        st.audio_from = None;
        st.audio_from_known = false;
        cv.notify_all();
        st.generation
    }

    /// The current generation (bumped by each [`Queues::seek`]).
    pub fn generation(&self) -> u64 {
        lock(&self.inner.0).generation
    }

    /// The audio consumer has flushed its output for generation `g`.
    pub fn ack_audio(&self, g: u64) {
        let (m, cv) = &*self.inner;
        let mut st = lock(m);
        st.audio_acked = st.audio_acked.max(g);
        cv.notify_all();
    }

    /// Waits, at most `timeout`, until the audio consumer has flushed for
    /// generation `g` (or went away); `true` if it has.
    pub fn wait_audio_ack(&self, g: u64, timeout: Duration) -> bool {
        let (m, cv) = &*self.inner;
        let mut st = lock(m);
        let end = std::time::Instant::now() + timeout;
        loop {
            if st.audio_acked >= g || st.audio.gone || st.stop {
                return true;
            }
            let now = std::time::Instant::now();
            if now >= end {
                return false;
            }
            st = cv
                .wait_timeout(st, (end - now).min(Duration::from_millis(20)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits until a generation after `g` starts (`true`) or the player
    /// stops / the audio consumer went away (`false`): the audio thread at
    /// the end of the file, ready for a seek back.
    pub fn wait_generation_after(&self, g: u64) -> bool {
        let (m, cv) = &*self.inner;
        let mut st = lock(m);
        loop {
            if st.stop || st.audio.gone {
                return false;
            }
            if st.generation != g {
                return true;
            }
            st = cv
                .wait_timeout(st, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Hands a packet popped from either queue back, once its consumer is
    /// done with it: the demux thread reads a later packet into it (no
    /// allocation per packet). Kept only within the free list's bounds
    /// ([`MAX_FREE_PACKETS`], [`MAX_FREE_BYTES`]), else dropped.
    pub fn give_back(&self, p: Packet) {
        lock(&self.inner.0).recycle(p);
    }

    /// Packets on the free list now and their `data` capacity in bytes
    /// (tests).
    pub fn free(&self) -> (usize, usize) {
        let st = lock(&self.inner.0);
        (st.free.len(), st.free_bytes)
    }

    /// The message of the last seek the demuxer refused, once.
    pub fn take_seek_error(&self) -> Option<String> {
        lock(&self.inner.0).seek_error.take()
    }

    /// The consumer of `s` stops: its queue is emptied and no longer held
    /// back for (the demux thread reads on for the other one).
    pub fn abandon(&self, s: Stream) {
        let (m, cv) = &*self.inner;
        let mut st = lock(m);
        st.queue(s).gone = true;
        st.drain_to_free(s);
        if st.video.gone && st.audio.gone {
            st.stop = true;
        }
        cv.notify_all();
    }

    /// Stops the demux thread and wakes every waiter.
    pub fn stop(&self) {
        let (m, cv) = &*self.inner;
        lock(m).stop = true;
        cv.notify_all();
    }

    /// Demux warnings since the last call.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut lock(&self.inner.0).warnings)
    }

    /// Bytes queued now and the peak so far.
    pub fn bytes(&self) -> (usize, usize) {
        let st = lock(&self.inner.0);
        (st.total_bytes(), st.peak_bytes)
    }

    /// Packets queued now (video, audio).
    pub fn lens(&self) -> (usize, usize) {
        let st = lock(&self.inner.0);
        (st.video.packets.len(), st.audio.packets.len())
    }

    /// Queues `p` read for generation `g` (to the free list if a seek came
    /// since). The first video packet of a generation fixes where its sound
    /// starts (`precise`: the seek target instead). Returns the packet the
    /// demux thread reads into next (from the free list, or a new one).
    fn put(&self, s: Stream, p: Packet, g: u64, precise_from: Option<i64>) -> Packet {
        let (m, cv) = &*self.inner;
        let mut st = lock(m);
        if st.generation != g || st.seek.is_some() {
            st.recycle(p);
            return st.take_free();
        }
        if s == Stream::Video && !st.audio_from_known {
            st.audio_from = precise_from.or(p.pts_ns);
            st.audio_from_known = true;
        }
        if st.queue(s).gone {
            st.recycle(p);
            cv.notify_all();
            return st.take_free();
        }
        st.queue(s).push(p);
        st.peak_bytes = st.peak_bytes.max(st.total_bytes());
        cv.notify_all();
        st.take_free()
    }

    /// Waits until the demux thread may read or has a seek to make;
    /// `false` when stopped.
    fn wait_room(&self) -> bool {
        let (m, cv) = &*self.inner;
        let mut st = lock(m);
        while !st.may_read() && st.seek.is_none() {
            st = cv
                .wait_timeout(st, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        !st.stop
    }

    /// End of the file for generation `g`; then waits for a seek (returns
    /// `true`) or the stop (`false`).
    fn finish(&self, warning: Option<String>, g: u64) -> bool {
        let (m, cv) = &*self.inner;
        let mut st = lock(m);
        if st.generation == g && st.seek.is_none() {
            st.eof = true;
            // nothing more will come: the sound keeps all it has
            st.audio_from_known = true;
        }
        st.warnings.extend(warning);
        cv.notify_all();
        loop {
            if st.stop {
                return false;
            }
            if st.seek.is_some() {
                return true;
            }
            st = cv
                .wait_timeout(st, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The demux thread takes the pending seek, if any (with its generation).
    fn take_seek(&self) -> Option<(SeekRequest, u64)> {
        let mut st = lock(&self.inner.0);
        let g = st.generation;
        st.seek.take().map(|r| (r, g))
    }

    fn warn(&self, w: String) {
        lock(&self.inner.0).warnings.push(w);
    }
}

/// Opens a demuxer inside the demux thread (the container crate's demuxers
/// need not be `Send`: each is built on the thread that reads it).
pub type OpenDemuxer = Box<dyn FnOnce() -> Result<Box<dyn Demuxer>, ContainerError> + Send>;

/// Starts the demux thread over what `open` returns: packets of track
/// `video` (if any) go to the video queue, of track `audio` (if any) to the
/// audio queue. Demux errors are skipped (each one a warning) until
/// [`super::MAX_CONSECUTIVE_DEMUX_ERRORS`] in a row.
pub fn spawn_demux(
    open: OpenDemuxer,
    video: Option<u32>,
    audio: Option<u32>,
) -> (Queues, JoinHandle<()>) {
    let q = Queues::default();
    {
        let mut st = lock(&q.inner.0);
        st.video.gone = video.is_none();
        st.audio.gone = audio.is_none();
        // at the start the sound keeps everything (no seek yet)
        st.audio_from_known = true;
    }
    let q2 = q.clone();
    let h = std::thread::Builder::new()
        .name("vreq-demux".into())
        .spawn(move || {
            let mut demux = match open() {
                Ok(d) => d,
                Err(e) => {
                    q2.finish(Some(e.to_string()), 0);
                    return;
                }
            };
            let seek_track = video.or(audio);
            // one warning per kind (the player's WarnOnce)
            let mut warned = super::WarnOnce::default();
            let mut errors_in_a_row = 0;
            let mut generation = 0;
            let mut precise_from = None;
            // read into by `read_packet`; swapped for a free one when queued
            let mut pkt = Packet::default();
            loop {
                if !q2.wait_room() {
                    break;
                }
                if let Some((req, g)) = q2.take_seek() {
                    generation = g;
                    precise_from = req.precise.then_some(req.target_ns);
                    errors_in_a_row = 0;
                    if let Some(t) = seek_track {
                        if let Err(e) = demux.seek(t, req.target_ns) {
                            tracing::warn!("seek to {} ns: {e}", req.target_ns);
                            lock(&q2.inner.0).seek_error = Some(e.to_string());
                        }
                    }
                    if video.is_none() {
                        let mut st = lock(&q2.inner.0);
                        if st.generation == g {
                            st.audio_from = precise_from;
                            st.audio_from_known = true;
                        }
                    }
                    continue;
                }
                let end = match demux.read_packet(&mut pkt) {
                    Ok(true) => {
                        errors_in_a_row = 0;
                        let stream = if Some(pkt.track) == video {
                            Some(Stream::Video)
                        } else if Some(pkt.track) == audio {
                            Some(Stream::Audio)
                        } else {
                            None // another track's: the next one is read into it
                        };
                        if let Some(s) = stream {
                            let p = std::mem::take(&mut pkt);
                            pkt = q2.put(s, p, generation, precise_from);
                        }
                        None
                    }
                    Ok(false) => Some(None),
                    Err(e) => {
                        errors_in_a_row += 1;
                        if errors_in_a_row >= super::MAX_CONSECUTIVE_DEMUX_ERRORS {
                            tracing::error!("{e}; {errors_in_a_row} demux errors in a row, giving up on the rest of the file");
                            Some(Some(e.to_string()))
                        } else {
                            warned.warn(&format!("{e}; continuing with the next readable packet"));
                            q2.warn(e.to_string());
                            None
                        }
                    }
                };
                if let Some(w) = end {
                    if !q2.finish(w, generation) {
                        break;
                    }
                }
            }
        })
        .expect("spawn the demux thread");
    (q, h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vreq_container::TrackInfo;

    /// `n_video` video packets of `vbytes` each (track 1, 40 ms apart), then
    /// the audio (track 2, 20 ms packets) of the same span: the worst
    /// interleave a file can have.
    struct BadInterleave {
        n_video: usize,
        vbytes: usize,
        sent: usize,
        tracks: Vec<TrackInfo>,
    }

    impl Demuxer for BadInterleave {
        fn tracks(&self) -> &[TrackInfo] {
            &self.tracks
        }
        fn next_packet(&mut self) -> Result<Option<Packet>, ContainerError> {
            let i = self.sent;
            self.sent += 1;
            let n_audio = self.n_video * 2;
            let p = if i < self.n_video {
                Packet {
                    track: 1,
                    data: vec![0; self.vbytes],
                    pts_ns: Some(i as i64 * 40_000_000),
                    dts_ns: None,
                    duration_ns: None,
                    keyframe: true,
                    byte_offset: 0,
                    discard_padding_ns: 0,
                }
            } else if i < self.n_video + n_audio {
                let j = i - self.n_video;
                Packet {
                    track: 2,
                    data: vec![0; 300],
                    pts_ns: Some(j as i64 * 20_000_000),
                    dts_ns: None,
                    duration_ns: None,
                    keyframe: true,
                    byte_offset: 0,
                    discard_padding_ns: 0,
                }
            } else {
                return Ok(None);
            };
            Ok(Some(p))
        }
        /// Every video packet is a keyframe: the next one is the last at or
        /// before `pts_ns` (then the audio from its start).
        fn seek(&mut self, _: u32, pts_ns: i64) -> Result<(), ContainerError> {
            self.sent = ((pts_ns / 40_000_000) as usize).min(self.n_video);
            Ok(())
        }
    }

    fn open_bad(n_video: usize, vbytes: usize) -> OpenDemuxer {
        Box::new(move || {
            Ok(Box::new(BadInterleave {
                n_video,
                vbytes,
                sent: 0,
                tracks: Vec::new(),
            }) as Box<dyn Demuxer>)
        })
    }

    /// `n` video packets of 1000 bytes read with `read_packet`; counts the
    /// reads whose packet came without a buffer (a new allocation).
    struct Counting {
        n: usize,
        sent: usize,
        fresh: Arc<std::sync::atomic::AtomicUsize>,
        tracks: Vec<TrackInfo>,
    }

    impl Demuxer for Counting {
        fn tracks(&self) -> &[TrackInfo] {
            &self.tracks
        }
        fn next_packet(&mut self) -> Result<Option<Packet>, ContainerError> {
            let mut p = Packet::default();
            Ok(self.read_packet(&mut p)?.then_some(p))
        }
        fn read_packet(&mut self, pkt: &mut Packet) -> Result<bool, ContainerError> {
            if self.sent == self.n {
                return Ok(false);
            }
            if pkt.data.capacity() < 1000 {
                self.fresh
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            pkt.data.clear();
            pkt.data.resize(1000, self.sent as u8);
            pkt.track = 1;
            pkt.pts_ns = Some(self.sent as i64 * 40_000_000);
            pkt.keyframe = true;
            self.sent += 1;
            Ok(true)
        }
        fn seek(&mut self, _: u32, pts_ns: i64) -> Result<(), ContainerError> {
            self.sent = ((pts_ns / 40_000_000) as usize).min(self.n);
            Ok(())
        }
    }

    #[test]
    fn packets_handed_back_are_read_into_again_and_the_free_list_is_bounded() {
        let fresh = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let f2 = fresh.clone();
        let open: OpenDemuxer = Box::new(move || {
            Ok(Box::new(Counting {
                n: 500,
                sent: 0,
                fresh: f2,
                tracks: Vec::new(),
            }) as Box<dyn Demuxer>)
        });
        let (q, h) = spawn_demux(open, Some(1), None);
        let mut n = 0;
        while let Some(p) = q.pop(Stream::Video) {
            // the packet's own bytes, not a recycled buffer's
            assert!(p.data.iter().all(|&b| b == n as u8), "packet {n}");
            n += 1;
            q.give_back(p);
            if n == 100 {
                // a seek: the queued packets go to the free list, bounded
                q.seek(SeekRequest {
                    target_ns: 100 * 40_000_000,
                    precise: false,
                });
            }
            let (k, bytes) = q.free();
            assert!(k <= MAX_FREE_PACKETS && bytes <= MAX_FREE_BYTES);
        }
        assert_eq!(n, 500);
        // new packets only until the queue has filled (its target, the one
        // the consumer holds, the one being read into); the seek's queued
        // packets come back through the free list: never one per packet
        let fresh = fresh.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            fresh <= VIDEO_TARGET_PACKETS + 3,
            "{fresh} of 500 reads without a recycled packet"
        );
        q.stop();
        h.join().unwrap();
    }

    #[test]
    fn a_full_video_queue_does_not_starve_audio_and_the_cap_holds() {
        // 400 video packets of 1 MiB (400 MiB) before the first audio packet:
        // no video is consumed; the demuxer must stop at the hard cap.
        let (q, h) = spawn_demux(open_bad(400, 1 << 20), Some(1), Some(2));
        std::thread::sleep(Duration::from_millis(300));
        let (now, peak) = q.bytes();
        assert!(peak <= HARD_CAP_BYTES + (1 << 20), "peak {peak}");
        assert!(
            now >= HARD_CAP_BYTES - (1 << 20),
            "read ahead to the cap: {now}"
        );
        // the audio thread waits for packets that lie past the cap: the video
        // side runs on (the audio clock's stall limit), freeing room, and
        // audio arrives
        let consumer = {
            let q = q.clone();
            std::thread::spawn(move || {
                let mut n = 0;
                while q.pop(Stream::Video).is_some() {
                    n += 1;
                }
                n
            })
        };
        let mut audio = 0;
        while let Some(p) = q.pop(Stream::Audio) {
            assert_eq!(p.track, 2);
            audio += 1;
            assert!(q.bytes().1 <= HARD_CAP_BYTES + (1 << 20));
        }
        assert_eq!(audio, 800);
        assert_eq!(consumer.join().unwrap(), 400);
        // at the end the demux thread waits for a seek back, until stopped
        q.stop();
        h.join().unwrap();
    }

    #[test]
    fn audio_is_read_ahead_while_the_video_queue_is_full() {
        // small video packets, normal interleave turned upside down: 100
        // video packets (> the video target) precede the audio; with no video
        // consumer the audio still arrives, as the video packets are small
        let (q, h) = spawn_demux(open_bad(100, 1000), Some(1), Some(2));
        let mut audio = 0;
        while let Some(_p) = q.pop(Stream::Audio) {
            audio += 1;
            if audio == 40 {
                break;
            }
        }
        assert_eq!(audio, 40);
        assert_eq!(q.lens().0, 100, "the video queue grew past its target");
        q.stop();
        h.join().unwrap();
    }

    #[test]
    fn reading_pauses_when_both_queues_reach_their_targets() {
        let (q, h) = spawn_demux(open_bad(100, 1000), Some(1), None);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(q.lens(), (VIDEO_TARGET_PACKETS, 0));
        q.abandon(Stream::Video);
        assert!(q.pop(Stream::Video).is_none());
        h.join().unwrap();
    }

    #[test]
    fn a_seek_drops_queued_packets_merges_and_fixes_where_the_sound_starts() {
        for precise in [false, true] {
            let (q, h) = spawn_demux(open_bad(50, 1000), Some(1), Some(2));
            std::thread::sleep(Duration::from_millis(100));
            assert!(q.lens().0 >= VIDEO_TARGET_PACKETS);
            assert_eq!(q.pop(Stream::Video).unwrap().pts_ns, Some(0));
            // two seeks before the demux thread takes one: merged, the
            // queues emptied at once
            let g1 = q.seek(SeekRequest {
                target_ns: 300_000_000,
                precise,
            });
            let g2 = q.seek(SeekRequest {
                target_ns: 700_000_000,
                precise,
            });
            assert_eq!((g1, g2, q.generation()), (1, 2, 2));
            // the next video packet is the keyframe at or before the latest
            // target (17 × 40 ms = 680 ms), never one queued before the seek
            assert_eq!(q.pop(Stream::Video).unwrap().pts_ns, Some(680_000_000));
            // the sound of generation 2 starts at the target (precise) or at
            // the first video packet after the seek
            let want = if precise { 700_000_000 } else { 680_000_000 };
            let (p, g, from) = q.pop_audio().unwrap();
            assert_eq!((p.track, g, from), (2, 2, Some(want)));
            // the audio consumer acknowledges the generation
            assert!(!q.wait_audio_ack(2, Duration::from_millis(10)));
            q.ack_audio(2);
            assert!(q.wait_audio_ack(2, Duration::ZERO));
            q.stop();
            h.join().unwrap();
        }
    }
}
