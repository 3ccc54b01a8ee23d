//! Reuse of finished [`DecodeJob`]s (issue 17: no heap allocation per frame
//! in the steady state). The engine hands every job back to its codec once
//! the device has it ([`StatelessCodec::recycle`](crate::StatelessCodec::recycle));
//! a codec keeps them in a [`JobPool`] and builds the next jobs in their
//! storage: the bitstream `Vec`, the control list, each control's box (or
//! dynamic array) of the same control.

use crate::{bindings, uapi_ext, Control, DecodeJob};

/// At most this many spare controls are kept (more than any job carries:
/// H.264 has 6 kinds, HEVC 8), so a codec that stops taking them cannot
/// make the pool grow.
const MAX_SPARE_CONTROLS: usize = 32;
/// At most this many spare bitstream buffers / control lists are kept.
const MAX_SPARE_JOBS: usize = 4;

/// A control payload held in a box (`Control::H264Sps(Box<..>)`, ...).
pub trait BoxedControl: Sized {
    /// The control holding `b`.
    fn wrap(b: Box<Self>) -> Control;
    /// `c`'s box, if `c` is this control; else `c` back.
    fn unwrap(c: Control) -> Result<Box<Self>, Control>;
    /// Whether `c` is this control.
    fn is(c: &Control) -> bool;
}

/// A dynamic-array control's element (`Control::HevcSliceParams(Vec<..>)`, ...).
pub trait ArrayControl: Sized {
    /// The control holding `v`.
    fn wrap(v: Vec<Self>) -> Control;
    /// `c`'s array, if `c` is this control; else `c` back.
    fn unwrap(c: Control) -> Result<Vec<Self>, Control>;
    /// Whether `c` is this control.
    fn is(c: &Control) -> bool;
}

macro_rules! boxed {
    ($($variant:ident: $t:ty),* $(,)?) => {$(
        impl BoxedControl for $t {
            fn wrap(b: Box<Self>) -> Control {
                Control::$variant(b)
            }
            fn unwrap(c: Control) -> Result<Box<Self>, Control> {
                match c {
                    Control::$variant(b) => Ok(b),
                    c => Err(c),
                }
            }
            fn is(c: &Control) -> bool {
                matches!(c, Control::$variant(_))
            }
        }
    )*};
}

macro_rules! array {
    ($($variant:ident: $t:ty),* $(,)?) => {$(
        impl ArrayControl for $t {
            fn wrap(v: Vec<Self>) -> Control {
                Control::$variant(v)
            }
            fn unwrap(c: Control) -> Result<Vec<Self>, Control> {
                match c {
                    Control::$variant(v) => Ok(v),
                    c => Err(c),
                }
            }
            fn is(c: &Control) -> bool {
                matches!(c, Control::$variant(_))
            }
        }
    )*};
}

boxed! {
    H264Sps: bindings::v4l2_ctrl_h264_sps,
    H264Pps: bindings::v4l2_ctrl_h264_pps,
    H264ScalingMatrix: bindings::v4l2_ctrl_h264_scaling_matrix,
    H264DecodeParams: bindings::v4l2_ctrl_h264_decode_params,
    H264SliceParams: bindings::v4l2_ctrl_h264_slice_params,
    H264PredWeights: bindings::v4l2_ctrl_h264_pred_weights,
    HevcSps: bindings::v4l2_ctrl_hevc_sps,
    HevcPps: bindings::v4l2_ctrl_hevc_pps,
    HevcScalingMatrix: bindings::v4l2_ctrl_hevc_scaling_matrix,
    HevcDecodeParams: bindings::v4l2_ctrl_hevc_decode_params,
    Vp9Frame: bindings::v4l2_ctrl_vp9_frame,
    Vp9CompressedHdr: bindings::v4l2_ctrl_vp9_compressed_hdr,
    Vp8Frame: bindings::v4l2_ctrl_vp8_frame,
    Mpeg2Sequence: bindings::v4l2_ctrl_mpeg2_sequence,
    Mpeg2Picture: bindings::v4l2_ctrl_mpeg2_picture,
    Mpeg2Quantisation: bindings::v4l2_ctrl_mpeg2_quantisation,
}

array! {
    HevcSliceParams: bindings::v4l2_ctrl_hevc_slice_params,
    HevcEntryPointOffsets: u32,
    HevcExtSpsStRps: uapi_ext::V4l2CtrlHevcExtSpsStRps,
    HevcExtSpsLtRps: uapi_ext::V4l2CtrlHevcExtSpsLtRps,
}

/// Makes room in `b`, one of several reused buffers that take turns
/// holding units (frames, access units, PES payloads), for `len` bytes in
/// all (a unit gathered in pieces: its size so far). `largest` is the
/// largest unit (bytes) met so far by those buffers, updated here.
///
/// A buffer that must grow grows at once to twice `largest`: each buffer
/// in turn grows once to the largest unit and its headroom, and again only
/// when a unit more than twice as large as any before comes, instead of
/// each growing on its own, in steps, as larger units come to it. Bounded
/// as `Vec`'s own amortized growth (at most twice the largest unit).
pub fn reserve_unit(b: &mut Vec<u8>, len: usize, largest: &mut usize) {
    *largest = (*largest).max(len);
    if b.capacity() < len {
        b.reserve(2 * *largest - b.len());
    }
}

/// Unit buffers given back for reuse (issue 17: no heap allocation per
/// unit in the steady state), at most `max` of them; the buffers in
/// circulation (the unit being gathered, the packets queued, the one the
/// caller holds) grow together ([`reserve_unit`]).
pub struct Spares {
    bufs: Vec<Vec<u8>>,
    max: usize,
    /// Bytes of the largest unit put in a buffer of this pool so far.
    largest: usize,
}

impl Spares {
    /// An empty pool keeping at most `max` buffers.
    pub fn new(max: usize) -> Self {
        Spares {
            // the list itself at its largest at once (not growing as more
            // buffers come back)
            bufs: Vec::with_capacity(max),
            max,
            largest: 0,
        }
    }

    /// The spare buffer of the largest capacity (emptied), or a new one,
    /// with room for `len` bytes (see [`Self::reserve`]).
    pub fn take(&mut self, len: usize) -> Vec<u8> {
        let largest = (0..self.bufs.len()).max_by_key(|&i| self.bufs[i].capacity());
        let mut b = largest.map_or_else(Vec::new, |i| self.bufs.swap_remove(i));
        b.clear();
        self.reserve(&mut b, len);
        b
    }

    /// Makes room in `b` for `len` bytes in all (a unit gathered in
    /// pieces: its size so far), as [`reserve_unit`].
    pub fn reserve(&mut self, b: &mut Vec<u8>, len: usize) {
        reserve_unit(b, len, &mut self.largest);
    }

    /// Keeps `data` for [`Self::take`] if fewer than `max` buffers are kept
    /// and it has a capacity to reuse; otherwise drops it.
    pub fn give(&mut self, data: Vec<u8>) {
        if self.bufs.len() < self.max && data.capacity() > 0 {
            self.bufs.push(data);
        }
    }
}

/// The storage of finished jobs, for building the next ones without
/// allocating. Bounded: it keeps at most a few jobs' worth.
pub struct JobPool {
    /// Bitstream buffers, at most [`MAX_SPARE_JOBS`].
    bitstreams: Spares,
    control_lists: Vec<Vec<Control>>,
    spare: Vec<Control>,
}

impl Default for JobPool {
    fn default() -> Self {
        JobPool {
            bitstreams: Spares::new(MAX_SPARE_JOBS),
            control_lists: Vec::new(),
            spare: Vec::new(),
        }
    }
}

impl JobPool {
    /// Takes `job`'s storage back (its bitstream, control list and controls).
    pub fn give_back(&mut self, job: DecodeJob) {
        let DecodeJob {
            mut controls,
            bitstream,
            ..
        } = job;
        let room = MAX_SPARE_CONTROLS.saturating_sub(self.spare.len());
        let keep = controls.len().min(room);
        self.spare.extend(controls.drain(..keep));
        controls.clear();
        if self.control_lists.len() < MAX_SPARE_JOBS {
            self.control_lists.push(controls);
        }
        self.bitstreams.give(bitstream);
    }

    /// Takes back a bitstream buffer that did not go into a job.
    pub fn give_back_bitstream(&mut self, bitstream: Vec<u8>) {
        self.bitstreams.give(bitstream);
    }

    /// An empty bitstream buffer: the finished job's of the largest
    /// capacity (the buffers in use grow to the largest frame once, not a
    /// small one again for each larger frame it is handed), else new.
    pub fn bitstream(&mut self) -> Vec<u8> {
        self.bitstreams.take(0)
    }

    /// Makes room in a bitstream buffer of this pool's jobs for `len`
    /// bytes in all (see [`reserve_unit`]).
    pub fn reserve_bitstream(&mut self, b: &mut Vec<u8>, len: usize) {
        self.bitstreams.reserve(b, len);
    }

    /// An empty control list (a finished job's, else new).
    pub fn controls(&mut self) -> Vec<Control> {
        self.control_lists.pop().unwrap_or_default()
    }

    /// The control holding `value`, in a finished job's box of the same
    /// control if there is one, else in a new box.
    pub fn boxed<T: BoxedControl>(&mut self, value: T) -> Control {
        T::wrap(self.take_box(value))
    }

    /// `value` in a finished job's box of the same control if there is
    /// one, else in a new box (for a codec that keeps the box a while
    /// before it becomes a control).
    pub fn take_box<T: BoxedControl>(&mut self, value: T) -> Box<T> {
        match self.spare.iter().position(T::is) {
            Some(i) => match T::unwrap(self.spare.swap_remove(i)) {
                Ok(mut b) => {
                    *b = value;
                    b
                }
                Err(_) => Box::new(value),
            },
            None => Box::new(value),
        }
    }

    /// [`JobPool::boxed`] of a copy of `value`.
    pub fn boxed_copy<T: BoxedControl + Copy>(&mut self, value: &T) -> Control {
        self.boxed(*value)
    }

    /// An empty array for a dynamic-array control (a finished job's, else new).
    pub fn array<T: ArrayControl>(&mut self) -> Vec<T> {
        match self.spare.iter().position(T::is) {
            Some(i) => match T::unwrap(self.spare.swap_remove(i)) {
                Ok(mut v) => {
                    v.clear();
                    v
                }
                Err(_) => Vec::new(),
            },
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_back_job_lends_its_storage_to_the_next() {
        let mut pool = JobPool::default();
        let mut controls = pool.controls();
        controls.push(pool.boxed(bindings::v4l2_ctrl_vp8_frame::default()));
        let mut slices = pool.array::<bindings::v4l2_ctrl_hevc_slice_params>();
        slices.push(Default::default());
        controls.push(ArrayControl::wrap(slices));
        let mut bitstream = pool.bitstream();
        bitstream.extend_from_slice(&[1, 2, 3]);
        let box_at = match &controls[0] {
            Control::Vp8Frame(b) => &**b as *const _ as usize,
            _ => unreachable!(),
        };
        let bits_at = bitstream.as_ptr() as usize;
        pool.give_back(DecodeJob {
            timestamp_ns: 1,
            controls,
            bitstream,
            hold_capture: false,
            starts_picture: true,
        });
        let again = pool.boxed(bindings::v4l2_ctrl_vp8_frame::default());
        match &again {
            Control::Vp8Frame(b) => assert_eq!(&**b as *const _ as usize, box_at),
            _ => unreachable!(),
        }
        let b = pool.bitstream();
        assert!(b.is_empty());
        assert_eq!(b.as_ptr() as usize, bits_at);
        let s = pool.array::<bindings::v4l2_ctrl_hevc_slice_params>();
        assert!(s.is_empty() && s.capacity() >= 1);
        // another control's box is not taken
        assert!(pool.array::<u32>().capacity() == 0);
    }
}
