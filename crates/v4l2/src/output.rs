//! OUTPUT (bitstream) buffers: how big they are ([`OutputSizes`]) and
//! which one a job goes into ([`OutputPool`]). No ioctl here: the session
//! ([`super::session::Session`]) does the I/O the pool asks for, so that the
//! bookkeeping is tested on the host.
//!
//! Memory: on a vmalloc driver (visl, vb2-vmalloc) an mmap of a buffer maps
//! all its pages at once (`vb2_vmalloc_mmap` → `remap_vmalloc_range`), so
//! every mapped OUTPUT buffer counts whole in the process's RSS. Hence:
//! * the first buffers are sized for the stream, not for a raw picture
//!   ([`OutputSizes::for_stream`]), and grow when an access unit does not fit
//!   ([`Pick::Grow`]), up to a hard cap ([`Pick::TooLarge`]);
//! * a buffer is mapped on its first use, not at allocation, and the lowest
//!   free index is handed out first ([`OutputPool::pick`]), so a stream that
//!   has two jobs in flight at most maps two buffers.

use vreq_core::{CodecKind, Control, StreamParams};

/// Smallest first `sizeimage` asked for, bytes: GStreamer v4l2codecs'
/// `IMAGE_MINSZ` (256 KiB, `gstv4l2decoder.c`).
pub const MIN_OUTPUT_SIZE: u32 = 256 << 10;
/// Largest `sizeimage` ever asked for, bytes (64 MiB): the hard cap on
/// every size derived from the stream, whatever its level says.
pub const MAX_OUTPUT_SIZE: u32 = 64 << 20;
/// Smallest hard cap of a stream, bytes (4 MiB): room for an access unit of
/// a tiny picture carrying large SEI / parameter sets.
pub const MIN_OUTPUT_CAP: u32 = 4 << 20;
/// Sizes are rounded up to this, bytes (a page; vb2 allocates whole pages).
const ROUND: u32 = 4096;

fn round_up(n: u64) -> u64 {
    n.div_ceil(ROUND as u64) * ROUND as u64
}

/// The OUTPUT buffer sizes of one stream configuration, bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputSizes {
    /// The `sizeimage` asked for with `VIDIOC_S_FMT(OUTPUT)` (the driver may
    /// round it up; the buffers' real size is `VIDIOC_QUERYBUF`'s `length`).
    pub initial: u32,
    /// No buffer grows beyond this: an access unit larger is refused.
    pub cap: u32,
}

impl OutputSizes {
    /// The sizes for a stream of `codec` with `params` (coded size in pixels,
    /// bit depth) and the sequence controls the engine passes to
    /// `configure` (`first_controls`: the H.264 SPS carries `profile_idc` /
    /// `level_idc`; no other codec's first controls carry a level).
    ///
    /// * `initial`: 4 bits per luma sample at 8-bit (w · h · depth / 16
    ///   bytes), at least [`MIN_OUTPUT_SIZE`], rounded up to 4 KiB: a third
    ///   of the raw 8-bit 4:2:0 picture, 1 MiB at 1080p and 4 MiB at 2160p as
    ///   Chromium's V4L2 decoders ask (`kInputBufferMaxSizeFor1080p` /
    ///   `kInputBufferMaxSizeFor4k`, media/gpu/v4l2), where GStreamer asks for
    ///   a whole raw picture (`gst_v4l2_decoder_set_sink_fmt`: w · h ·
    ///   bits per pixel / 8). For H.264 with a known level, not more than
    ///   that level's CPB ([`h264_cpb_bytes`]). Larger access units make
    ///   the buffers grow ([`OutputPool::pick`]).
    /// * `cap`: the larger of twice the raw 4:2:0 picture at the stream's
    ///   depth (3 · w · h bytes at 8-bit, 6 · w · h above; a coded picture
    ///   larger than its raw samples is no picture an encoder makes: H.264 /
    ///   HEVC code incompressible blocks as PCM, ITU-T H.264 7.4.5 bounds a
    ///   macroblock to 128 + RawMbBits bits), the H.264 level's CPB size
    ///   ([`h264_cpb_bytes`]: no access unit of a conforming stream exceeds
    ///   the CPB, H.264 C.3) and [`MIN_OUTPUT_CAP`]; never above
    ///   [`MAX_OUTPUT_SIZE`].
    pub fn for_stream(codec: CodecKind, params: &StreamParams, first_controls: &[Control]) -> Self {
        let (w, h) = (params.coded_width as u64, params.coded_height as u64);
        let depth = params.bit_depth.max(8) as u64;
        let level_bound = match codec {
            CodecKind::H264 => first_controls.iter().find_map(|c| match c {
                Control::H264Sps(sps) => {
                    h264_cpb_bytes(sps.profile_idc, sps.constraint_set_flags, sps.level_idc)
                }
                _ => None,
            }),
            _ => None,
        };
        let raw = w * h * 3 / 2 * if depth > 8 { 2 } else { 1 };
        let cap = (2 * raw)
            .max(level_bound.unwrap_or(0) as u64)
            .max(MIN_OUTPUT_CAP as u64)
            .min(MAX_OUTPUT_SIZE as u64);
        let mut initial = (w * h * depth / 16).max(MIN_OUTPUT_SIZE as u64);
        if let Some(b) = level_bound {
            initial = initial.min((b as u64).max(MIN_OUTPUT_SIZE as u64));
        }
        let initial = round_up(initial).min(cap);
        OutputSizes {
            initial: initial as u32,
            cap: cap as u32,
        }
    }
}

/// `V4L2_H264_SPS_CONSTRAINT_SET3_FLAG` (v4l2-controls.h).
const CONSTRAINT_SET3: u8 = 0x08;

/// The CPB size in bytes of an H.264 stream of `profile_idc` /
/// `level_idc` (`constraint_set_flags` as the V4L2 SPS control has them: bit
/// 3 marks level 1b for Baseline / Main / Extended at `level_idc` 11):
/// `MaxCPB` of ITU-T H.264 Table A-1 (units of `cpbBrNalFactor` bits) times
/// the profile's `cpbBrNalFactor` of Table A-2 (the NAL HRD: the byte stream
/// with its non-VCL NAL units, as the OUTPUT buffer holds it), / 8. `None`
/// for a level or profile those tables do not list (MVC, SVC, ...).
///
/// Level 4.0 High: 25000 · 1500 / 8 = 4 687 500; 4.1 High: 11 718 750;
/// 5.1 High: 45 000 000.
pub fn h264_cpb_bytes(profile_idc: u8, constraint_set_flags: u8, level_idc: u8) -> Option<u32> {
    // Table A-2, cpbBrNalFactor.
    let factor: u64 = match profile_idc {
        66 | 77 | 88 => 1200,   // Baseline, Main, Extended
        100 => 1500,            // High
        110 => 3600,            // High 10 (and High 10 Intra)
        122 | 244 | 44 => 4800, // High 4:2:2, High 4:4:4 Predictive, CAVLC 4:4:4 Intra
        _ => return None,
    };
    let level_1b = level_idc == 9
        || (level_idc == 11
            && constraint_set_flags & CONSTRAINT_SET3 != 0
            && matches!(profile_idc, 66 | 77 | 88));
    // Table A-1, MaxCPB.
    let max_cpb: u64 = match level_idc {
        _ if level_1b => 350,
        10 => 175,
        11 => 500,
        12 => 1000,
        13 | 20 => 2000,
        21 | 22 => 4000,
        30 => 10000,
        31 => 14000,
        32 => 20000,
        40 => 25000,
        41 | 42 => 62500,
        50 => 135000,
        51 | 52 | 60 | 61 | 62 => 240000,
        _ => return None,
    };
    Some((max_cpb * factor / 8).min(u32::MAX as u64) as u32)
}

/// What [`OutputPool::pick`] says about an access unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// This buffer (V4L2 index) is free and large enough; it may not be
    /// mapped yet ([`OutputSlot::map`]).
    Free(usize),
    /// No buffer of the current generation is large enough: create a new
    /// generation of this `sizeimage` (bytes), then pick again.
    Grow(u32),
    /// The access unit is larger than the cap (bytes): refuse it.
    TooLarge(u32),
    /// Every buffer of the current generation is queued.
    NoneFree,
}

/// An OUTPUT buffer as `VIDIOC_QUERYBUF` described it after `REQBUFS` /
/// `CREATE_BUFS`, with its media request: what
/// [`OutputPool::add_generation`] takes.
#[derive(Debug)]
pub struct NewBuffer<R> {
    /// `m.offset` (`mem_offset`): the mmap cookie.
    pub mem_offset: u32,
    /// `length`: the buffer's size in bytes.
    pub length: usize,
    /// The media request queued with this buffer.
    pub request: R,
}

/// A growth's result: the first new V4L2 index and the new buffers.
pub type Generation<R> = (usize, Vec<NewBuffer<R>>);

/// Why [`OutputPool::acquire`] gave no buffer.
#[derive(Debug)]
pub enum AcquireError<E> {
    /// The access unit (`len` bytes) is larger than the stream's cap
    /// (bytes, [`OutputSizes::cap`]).
    TooLarge { len: usize, cap: u32 },
    /// Every buffer of the newest generation is queued.
    NoneFree,
    /// The buffers a growth made (`size` bytes) are still smaller than the
    /// access unit (`len` bytes).
    GrownTooSmall { len: usize, size: usize },
    /// The buffers a growth made do not follow the existing ones.
    Pool(String),
    /// The mapping or the growth failed.
    Device(E),
}

/// One OUTPUT buffer as the pool keeps it.
#[derive(Debug)]
pub struct OutputSlot<M, R> {
    /// `m.offset` (`mem_offset`) from `VIDIOC_QUERYBUF`: the mmap cookie.
    pub mem_offset: u32,
    /// `length` from `VIDIOC_QUERYBUF`: the buffer's size in bytes.
    pub length: usize,
    /// The CPU mapping, made on the buffer's first use.
    pub map: Option<M>,
    /// The media request queued with this buffer.
    pub request: R,
    /// `Some(timestamp_ns)` of the job queued in it, `None` while free.
    pub busy: Option<u64>,
    /// Taken out of use ([`OutputPool::take_out_of_use`]): never handed out.
    pub out_of_use: bool,
}

impl<M, R> OutputSlot<M, R> {
    /// Neither holding a job nor out of use.
    fn is_free(&self) -> bool {
        self.busy.is_none() && !self.out_of_use
    }
}

/// The OUTPUT buffers of one configuration, by V4L2 index, in generations:
/// `VIDIOC_REQBUFS` makes the first, each growth (`VIDIOC_CREATE_BUFS` with a
/// larger `sizeimage`) the next one at the following indices. Only the newest
/// generation takes jobs; an older buffer is unmapped as soon as it is free.
///
/// `M` is the CPU mapping (the session's `PlaneMapping`; its drop unmaps),
/// `R` the media request.
#[derive(Debug)]
pub struct OutputPool<M, R> {
    slots: Vec<OutputSlot<M, R>>,
    /// Index of the newest generation's first buffer.
    current: usize,
    /// No growth beyond this many bytes.
    cap: u32,
    /// Mappings made since the pool was created (each a `mmap`).
    maps_made: usize,
}

impl<M, R> Default for OutputPool<M, R> {
    fn default() -> Self {
        Self::new(MAX_OUTPUT_SIZE)
    }
}

impl<M, R> OutputPool<M, R> {
    /// An empty pool whose buffers never grow beyond `cap` bytes.
    pub fn new(cap: u32) -> Self {
        OutputPool {
            slots: Vec::new(),
            current: 0,
            cap,
            maps_made: 0,
        }
    }

    /// The cap in bytes ([`OutputSizes::cap`]).
    pub fn cap(&self) -> u32 {
        self.cap
    }

    /// Adds a generation of buffers at V4L2 indices `first..`, as
    /// `VIDIOC_QUERYBUF` gave them, not mapped; it becomes the one jobs go into. The older buffers that
    /// are free are unmapped now, the busy ones when released. Errors if
    /// `first` does not follow the buffers already here (vb2 numbers
    /// `CREATE_BUFS` buffers after the existing ones) or `buffers` is empty.
    pub fn add_generation(
        &mut self,
        first: usize,
        buffers: Vec<NewBuffer<R>>,
    ) -> Result<(), String> {
        if first != self.slots.len() {
            return Err(format!(
                "new OUTPUT buffers start at index {first}, expected {}",
                self.slots.len()
            ));
        }
        if buffers.is_empty() {
            return Err("no OUTPUT buffer created".into());
        }
        for s in &mut self.slots {
            if s.busy.is_none() {
                s.map = None;
            }
        }
        self.current = first;
        self.slots.extend(buffers.into_iter().map(|b| OutputSlot {
            mem_offset: b.mem_offset,
            length: b.length,
            map: None,
            request: b.request,
            busy: None,
            out_of_use: false,
        }));
        Ok(())
    }

    /// Where an access unit of `len` bytes goes: the lowest free index of
    /// the newest generation if it is large enough ([`Pick::Free`]); else,
    /// with `len` within the cap, a growth ([`Pick::Grow`]: the larger of
    /// twice the current size and `len`, rounded up to 4 KiB, not above the
    /// cap); else [`Pick::TooLarge`]. [`Pick::NoneFree`] when every buffer
    /// of the newest generation is busy and `len` fits.
    pub fn pick(&self, len: usize) -> Pick {
        let free = (self.current..self.slots.len()).find(|&i| self.slots[i].is_free());
        let size = self.buffer_size();
        if len <= size {
            return free.map_or(Pick::NoneFree, Pick::Free);
        }
        if len > self.cap as usize {
            return Pick::TooLarge(self.cap);
        }
        let grown = round_up((2 * size as u64).max(len as u64)).min(self.cap as u64);
        Pick::Grow(grown as u32)
    }

    /// The buffer for an access unit of `len` bytes, mapped: [`Self::pick`];
    /// on [`Pick::Grow`], `grow(sizeimage)` creates the new generation
    /// (returning its first V4L2 index and buffers, [`Self::add_generation`]) and the pick is made
    /// again, once; on [`Pick::Free`] of a buffer not mapped yet, `map(index,
    /// mem_offset, length)` maps it ([`Self::set_map`]). Nothing is mapped
    /// or created otherwise. The buffer is not marked busy
    /// ([`Self::mark_busy`] once its job is queued).
    pub fn acquire<E>(
        &mut self,
        len: usize,
        mut map: impl FnMut(usize, u32, usize) -> Result<M, E>,
        mut grow: impl FnMut(u32) -> Result<Generation<R>, E>,
    ) -> Result<usize, AcquireError<E>> {
        let mut grown = false;
        loop {
            match self.pick(len) {
                Pick::Free(i) => {
                    let s = &self.slots[i];
                    if s.map.is_none() {
                        let m = map(i, s.mem_offset, s.length).map_err(AcquireError::Device)?;
                        self.set_map(i, m);
                    }
                    return Ok(i);
                }
                Pick::Grow(_) if grown => {
                    return Err(AcquireError::GrownTooSmall {
                        len,
                        size: self.buffer_size(),
                    })
                }
                Pick::Grow(sizeimage) => {
                    let (first, buffers) = grow(sizeimage).map_err(AcquireError::Device)?;
                    self.add_generation(first, buffers)
                        .map_err(AcquireError::Pool)?;
                    grown = true;
                }
                Pick::TooLarge(cap) => return Err(AcquireError::TooLarge { len, cap }),
                Pick::NoneFree => return Err(AcquireError::NoneFree),
            }
        }
    }

    /// The size in bytes of the newest generation's buffers (0 before any).
    pub fn buffer_size(&self) -> usize {
        self.slots[self.current.min(self.slots.len())..]
            .iter()
            .map(|s| s.length)
            .min()
            .unwrap_or(0)
    }

    /// Buffer `index`, if there is one.
    pub fn slot(&self, index: usize) -> Option<&OutputSlot<M, R>> {
        self.slots.get(index)
    }

    /// Buffer `index`, if there is one, mutably.
    pub fn slot_mut(&mut self, index: usize) -> Option<&mut OutputSlot<M, R>> {
        self.slots.get_mut(index)
    }

    /// Records buffer `index`'s first mapping (counted in [`Self::maps_made`]).
    pub fn set_map(&mut self, index: usize, map: M) {
        if let Some(s) = self.slots.get_mut(index) {
            s.map = Some(map);
            self.maps_made += 1;
        }
    }

    /// Marks buffer `index` queued with the job of `timestamp_ns`.
    pub fn mark_busy(&mut self, index: usize, timestamp_ns: u64) {
        if let Some(s) = self.slots.get_mut(index) {
            s.busy = Some(timestamp_ns);
        }
    }

    /// Buffer `index` came back (`VIDIOC_DQBUF(OUTPUT)`): free again, or,
    /// in an older generation, unmapped for good. Returns the timestamp of
    /// the job it held.
    pub fn release(&mut self, index: usize) -> Option<u64> {
        let current = self.current;
        let s = self.slots.get_mut(index)?;
        if index < current {
            s.map = None;
        }
        s.busy.take()
    }

    /// Buffer `index` came back but cannot be used again (its media
    /// request could not be reinitialised): not busy, unmapped, never
    /// handed out again. Returns the timestamp of the job it held.
    pub fn take_out_of_use(&mut self, index: usize) -> Option<u64> {
        let s = self.slots.get_mut(index)?;
        s.out_of_use = true;
        s.map = None;
        s.busy.take()
    }

    /// Free buffers of the newest generation: jobs that can be queued now.
    pub fn free_count(&self) -> usize {
        self.slots[self.current.min(self.slots.len())..]
            .iter()
            .filter(|s| s.is_free())
            .count()
    }

    /// Buffers (of any generation) holding a queued job.
    pub fn busy_count(&self) -> usize {
        self.slots.iter().filter(|s| s.busy.is_some()).count()
    }

    /// The busy buffers.
    pub fn busy(&self) -> impl Iterator<Item = &OutputSlot<M, R>> {
        self.slots.iter().filter(|s| s.busy.is_some())
    }

    /// Buffers of the newest generation.
    pub fn current_len(&self) -> usize {
        self.slots.len() - self.current.min(self.slots.len())
    }

    /// Buffers mapped now.
    pub fn mapped_count(&self) -> usize {
        self.slots.iter().filter(|s| s.map.is_some()).count()
    }

    /// Mappings made since the pool was created (each a `mmap`).
    pub fn maps_made(&self) -> usize {
        self.maps_made
    }

    /// All buffers, every generation.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// No buffer yet.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use v4l2r::bindings;

    fn params(w: u32, h: u32, bit_depth: u8) -> StreamParams {
        StreamParams {
            coded_width: w,
            coded_height: h,
            visible: (0, 0, w, h),
            bit_depth,
            dpb_size: 4,
            frame_duration_ns: None,
            pixel_aspect: (1, 1),
            color: Default::default(),
        }
    }

    fn h264_sps(profile_idc: u8, constraint_set_flags: u8, level_idc: u8) -> Control {
        Control::H264Sps(Box::new(bindings::v4l2_ctrl_h264_sps {
            profile_idc,
            constraint_set_flags,
            level_idc,
            ..Default::default()
        }))
    }

    fn sizes(codec: CodecKind, w: u32, h: u32, depth: u8, first: &[Control]) -> (u32, u32) {
        let s = OutputSizes::for_stream(codec, &params(w, h, depth), first);
        (s.initial, s.cap)
    }

    /// The `sizeimage` asked per codec at 1080p and 2160p (4 bits per luma
    /// sample, 4 KiB pages) and the cap (twice the raw picture).
    #[test]
    fn sizeimage_per_codec_and_size() {
        // 1920x1088 (H.264, MPEG-2, VP8 coded size): 1920·1088/2 = 255 pages.
        for codec in [CodecKind::H264, CodecKind::Mpeg2, CodecKind::Vp8] {
            assert_eq!(
                sizes(codec, 1920, 1088, 8, &[]),
                (1_044_480, 6_266_880),
                "{codec}"
            );
        }
        // 1920x1080 (HEVC, VP9): 1 036 800 rounded up to 254 pages.
        for codec in [CodecKind::Hevc, CodecKind::Vp9] {
            assert_eq!(
                sizes(codec, 1920, 1080, 8, &[]),
                (1_040_384, 6_220_800),
                "{codec}"
            );
        }
        assert_eq!(
            sizes(CodecKind::Vp9, 3840, 2160, 8, &[]),
            (4_149_248, 24_883_200)
        );
        assert_eq!(
            sizes(CodecKind::H264, 3840, 2176, 8, &[]),
            (4_177_920, 25_067_520)
        );
        // 10-bit: 5 bits per luma sample; the cap counts 16-bit samples.
        assert_eq!(
            sizes(CodecKind::Hevc, 3840, 2160, 10, &[]),
            (5_185_536, 49_766_400)
        );
        assert_eq!(
            sizes(CodecKind::Hevc, 1920, 1080, 10, &[]),
            (1_298_432, 12_441_600)
        );
        // Small pictures: GStreamer's 256 KiB floor, a 4 MiB cap.
        assert_eq!(
            sizes(CodecKind::H264, 64, 48, 8, &[]),
            (MIN_OUTPUT_SIZE, MIN_OUTPUT_CAP)
        );
        // 8K: the cap stops at MAX_OUTPUT_SIZE.
        assert_eq!(
            sizes(CodecKind::Hevc, 7680, 4320, 10, &[]).1,
            MAX_OUTPUT_SIZE
        );
    }

    /// H.264 Table A-1 MaxCPB × Table A-2 cpbBrNalFactor / 8.
    #[test]
    fn h264_level_bounds() {
        assert_eq!(h264_cpb_bytes(100, 0, 40), Some(4_687_500));
        assert_eq!(h264_cpb_bytes(100, 0, 41), Some(11_718_750));
        assert_eq!(h264_cpb_bytes(77, 0, 41), Some(9_375_000));
        assert_eq!(h264_cpb_bytes(100, 0, 51), Some(45_000_000));
        assert_eq!(h264_cpb_bytes(110, 0, 51), Some(108_000_000));
        assert_eq!(h264_cpb_bytes(244, 0, 62), Some(144_000_000));
        assert_eq!(h264_cpb_bytes(66, 0, 30), Some(1_500_000));
        // Level 1b: level_idc 11 with constraint_set3_flag (Baseline, Main,
        // Extended) or level_idc 9 (High profiles).
        assert_eq!(h264_cpb_bytes(66, 0x08, 11), Some(52_500));
        assert_eq!(h264_cpb_bytes(66, 0, 11), Some(75_000));
        assert_eq!(h264_cpb_bytes(100, 0x08, 11), Some(93_750));
        assert_eq!(h264_cpb_bytes(100, 0, 9), Some(65_625));
        // Not in the tables: no bound.
        assert_eq!(h264_cpb_bytes(118, 0, 41), None);
        assert_eq!(h264_cpb_bytes(100, 0, 43), None);
    }

    /// The H.264 SPS among the first controls: the level's CPB raises the
    /// cap and lowers the first size of a low-level stream.
    #[test]
    fn sizeimage_per_h264_level() {
        // High 4.1 at 1080p: first size as without a level, cap the CPB.
        assert_eq!(
            sizes(CodecKind::H264, 1920, 1088, 8, &[h264_sps(100, 0, 41)]),
            (1_044_480, 11_718_750)
        );
        // High 4.0: its CPB is below twice the raw picture.
        assert_eq!(
            sizes(CodecKind::H264, 1920, 1088, 8, &[h264_sps(100, 0, 40)]),
            (1_044_480, 6_266_880)
        );
        // High 5.1 at 2160p: cap 45 MB.
        assert_eq!(
            sizes(CodecKind::H264, 3840, 2176, 8, &[h264_sps(100, 0, 51)]),
            (4_177_920, 45_000_000)
        );
        // Main 2.1 (a CPB of 600 000 bytes) labelling a 1080p stream: no
        // first buffer above the CPB, the cap still twice the raw picture.
        assert_eq!(
            sizes(CodecKind::H264, 1920, 1088, 8, &[h264_sps(77, 0, 21)]),
            (602_112, 6_266_880)
        );
        // Main 1.0 (21 875 bytes): not below the 256 KiB floor.
        assert_eq!(
            sizes(CodecKind::H264, 176, 144, 8, &[h264_sps(77, 0, 10)]).0,
            MIN_OUTPUT_SIZE
        );
        // High 4:4:4 6.2: the cap stops at MAX_OUTPUT_SIZE.
        assert_eq!(
            sizes(CodecKind::H264, 3840, 2176, 8, &[h264_sps(244, 0, 62)]).1,
            MAX_OUTPUT_SIZE
        );
        // Only H.264 reads the level.
        assert_eq!(
            sizes(CodecKind::Hevc, 1920, 1080, 8, &[h264_sps(100, 0, 51)]),
            sizes(CodecKind::Hevc, 1920, 1080, 8, &[])
        );
    }

    /// A fake OUTPUT queue for [`OutputPool::acquire`]: counts the mmaps
    /// and the `CREATE_BUFS` it is asked for, as the session's would be.
    #[derive(Default)]
    struct Queue {
        /// V4L2 index of each mmap made.
        mmaps: Vec<usize>,
        /// `sizeimage` of each growth.
        creates: Vec<u32>,
        /// Buffers the queue holds (every generation).
        buffers: usize,
        /// Give `CREATE_BUFS` buffers this much smaller than asked.
        shortfall: usize,
        /// Fail `CREATE_BUFS` with this errno name.
        fail: Option<&'static str>,
    }

    type Pool = OutputPool<Vec<u8>, u32>;

    fn generation(first: usize, n: usize, length: usize) -> Vec<NewBuffer<u32>> {
        (first..first + n)
            .map(|i| NewBuffer {
                mem_offset: (i * length) as u32,
                length,
                request: i as u32,
            })
            .collect()
    }

    fn pool(n: usize, length: usize, cap: u32, q: &mut Queue) -> Pool {
        let mut p = Pool::new(cap);
        p.add_generation(0, generation(0, n, length)).unwrap();
        q.buffers = n;
        p
    }

    fn acquire(p: &mut Pool, q: &mut Queue, len: usize) -> Result<usize, AcquireError<String>> {
        let (mmaps, creates, buffers, shortfall, fail) = (
            &mut q.mmaps,
            &mut q.creates,
            &mut q.buffers,
            q.shortfall,
            q.fail,
        );
        p.acquire(
            len,
            |i, _offset, length| {
                mmaps.push(i);
                Ok(vec![0u8; length])
            },
            |sizeimage| {
                if let Some(e) = fail {
                    return Err(format!("VIDIOC_CREATE_BUFS: {e}"));
                }
                creates.push(sizeimage);
                let first = *buffers;
                *buffers += 8;
                Ok((first, generation(first, 8, sizeimage as usize - shortfall)))
            },
        )
    }

    /// Nothing is mapped at allocation; a buffer is mapped once, on its
    /// first use; with at most two jobs in flight only buffers 0 and 1 are
    /// ever mapped (the lowest free index first, not a FIFO over all 8).
    #[test]
    fn mapped_on_first_use_lowest_index_first() {
        let mut q = Queue::default();
        let mut p = pool(8, 1 << 20, 4 << 20, &mut q);
        assert_eq!((p.mapped_count(), p.maps_made(), p.free_count()), (0, 0, 8));
        let mut in_flight = std::collections::VecDeque::new();
        for ts in 0..100u64 {
            let i = acquire(&mut p, &mut q, 1000 + ts as usize).unwrap();
            p.slot_mut(i).unwrap().map.as_mut().unwrap()[0] = ts as u8;
            p.mark_busy(i, ts);
            in_flight.push_back(i);
            if in_flight.len() == 2 {
                // The oldest job completes (DQBUF(OUTPUT)).
                let done = in_flight.pop_front().unwrap();
                assert_eq!(p.release(done), Some(ts - 1));
            }
        }
        assert_eq!(q.mmaps, vec![0, 1], "each of the two buffers mapped once");
        assert_eq!((p.mapped_count(), p.maps_made()), (2, 2));
        assert!(q.creates.is_empty());
        // The lowest free index, whatever the order of completion.
        let mut q = Queue::default();
        let mut p = pool(8, 1 << 20, 4 << 20, &mut q);
        for ts in 0..4 {
            let i = acquire(&mut p, &mut q, 10).unwrap();
            assert_eq!(i, ts as usize);
            p.mark_busy(i, ts);
        }
        assert_eq!(p.free_count(), 4);
        p.release(2);
        p.release(1);
        assert_eq!(acquire(&mut p, &mut q, 10).unwrap(), 1);
        p.mark_busy(1, 10);
        assert_eq!(acquire(&mut p, &mut q, 10).unwrap(), 2);
        assert_eq!(
            q.mmaps,
            vec![0, 1, 2, 3],
            "reused buffers are not mapped again"
        );
    }

    /// A buffer taken out of use is neither free nor busy, nor mapped.
    #[test]
    fn out_of_use() {
        let mut q = Queue::default();
        let mut p = pool(2, 1 << 20, 4 << 20, &mut q);
        let i = acquire(&mut p, &mut q, 10).unwrap();
        p.mark_busy(i, 7);
        assert_eq!(p.take_out_of_use(i), Some(7));
        assert_eq!(
            (p.busy_count(), p.free_count(), p.mapped_count()),
            (0, 1, 0)
        );
        assert_eq!(acquire(&mut p, &mut q, 10).unwrap(), 1);
        p.mark_busy(1, 8);
        assert!(matches!(
            acquire(&mut p, &mut q, 10),
            Err(AcquireError::NoneFree)
        ));
    }

    /// Every buffer busy: no buffer, nothing mapped or created.
    #[test]
    fn none_free() {
        let mut q = Queue::default();
        let mut p = pool(2, 1 << 20, 4 << 20, &mut q);
        for ts in 0..2 {
            let i = acquire(&mut p, &mut q, 10).unwrap();
            p.mark_busy(i, ts);
        }
        assert_eq!(p.free_count(), 0);
        assert!(matches!(
            acquire(&mut p, &mut q, 10),
            Err(AcquireError::NoneFree)
        ));
        assert_eq!((q.mmaps.len(), q.creates.len()), (2, 0));
    }

    /// An access unit larger than the buffers: a new generation of twice
    /// the size (or the unit's size, page-rounded), at the next indices;
    /// the old buffers take no more jobs and are unmapped once free.
    #[test]
    fn grows_on_a_big_access_unit() {
        let mut q = Queue::default();
        let mut p = pool(8, 1 << 20, 16 << 20, &mut q);
        let a = acquire(&mut p, &mut q, 1000).unwrap();
        p.mark_busy(a, 1);
        let b = acquire(&mut p, &mut q, 1000).unwrap();
        assert_eq!((a, b), (0, 1));
        // Buffer 1 mapped but free, buffer 0 busy.
        assert_eq!(p.pick((1 << 20) + 1), Pick::Grow(2 << 20));
        let c = acquire(&mut p, &mut q, (1 << 20) + 1).unwrap();
        assert_eq!(q.creates, vec![2 << 20]);
        assert_eq!(c, 8, "the new generation's first buffer");
        assert_eq!(p.buffer_size(), 2 << 20);
        assert_eq!(p.current_len(), 8);
        assert_eq!(p.free_count(), 8, "only the new generation counts");
        // Old buffer 1 (free) unmapped at once, old buffer 0 (busy) when it
        // comes back; neither is handed out again.
        assert_eq!(p.mapped_count(), 2, "old 0 (busy) and new 8");
        p.mark_busy(c, 2);
        assert_eq!(p.release(0), Some(1));
        assert_eq!(p.mapped_count(), 1);
        assert_eq!(p.busy_count(), 1);
        assert_eq!(acquire(&mut p, &mut q, 10).unwrap(), 9);
        // Far larger: straight to the unit's size, page-rounded.
        let big = (9 << 20) + 1;
        assert_eq!(p.pick(big), Pick::Grow((9 << 20) + 4096));
        assert_eq!(acquire(&mut p, &mut q, big).unwrap(), 16);
        // Doubling stops at the cap.
        let mut q = Queue::default();
        let mut p = pool(8, 3 << 20, 4 << 20, &mut q);
        assert_eq!(p.pick((3 << 20) + 1), Pick::Grow(4 << 20));
        assert_eq!(acquire(&mut p, &mut q, 4 << 20).unwrap(), 8);
        assert_eq!(q.creates, vec![4 << 20]);
    }

    /// Above the cap: refused, with the sizes, before any mmap or growth.
    #[test]
    fn refuses_an_access_unit_above_the_cap() {
        let mut q = Queue::default();
        let mut p = pool(8, 1 << 20, 4 << 20, &mut q);
        match acquire(&mut p, &mut q, (4 << 20) + 1) {
            Err(AcquireError::TooLarge { len, cap }) => {
                assert_eq!((len, cap), ((4 << 20) + 1, 4 << 20));
            }
            r => panic!("{r:?}"),
        }
        assert_eq!(p.pick(usize::MAX), Pick::TooLarge(4 << 20));
        assert!(q.mmaps.is_empty() && q.creates.is_empty());
        // A driver whose first buffers exceed the cap: whatever fits, goes.
        let mut q = Queue::default();
        let mut p = pool(8, 8 << 20, 4 << 20, &mut q);
        assert_eq!(acquire(&mut p, &mut q, 6 << 20).unwrap(), 0);
    }

    /// A growth that fails, or gives buffers still too small, is an error;
    /// the pool is unchanged by a failed one.
    #[test]
    fn failed_growth() {
        let mut q = Queue {
            fail: Some("ENOBUFS"),
            ..Default::default()
        };
        let mut p = pool(8, 1 << 20, 16 << 20, &mut q);
        match acquire(&mut p, &mut q, 3 << 20) {
            Err(AcquireError::Device(e)) => assert!(e.contains("ENOBUFS"), "{e}"),
            r => panic!("{r:?}"),
        }
        assert_eq!((p.len(), p.free_count(), p.buffer_size()), (8, 8, 1 << 20));
        let mut q = Queue {
            shortfall: 4096,
            ..Default::default()
        };
        let mut p = pool(8, 1 << 20, 16 << 20, &mut q);
        match acquire(&mut p, &mut q, 2 << 20) {
            Err(AcquireError::GrownTooSmall { len, size }) => {
                assert_eq!((len, size), (2 << 20, (2 << 20) - 4096));
            }
            r => panic!("{r:?}"),
        }
        assert_eq!(q.creates.len(), 1, "one growth, not a loop");
        // Indices that do not follow the existing buffers are refused.
        let mut p = Pool::new(4 << 20);
        assert!(p.add_generation(1, generation(1, 2, 4096)).is_err());
        assert!(p.add_generation(0, Vec::new()).is_err());
        assert!(p.is_empty());
    }
}
