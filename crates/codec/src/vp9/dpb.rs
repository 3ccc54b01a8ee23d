//! VP9 reference frames: the 8 reference slots (VP9 spec 6.2 `ref_frame_idx`,
//! `refresh_frame_flags`; 8.10 reference frame update process) as GStreamer
//! 1.26.2's `gstvp9decoder.c` / `gstvp9dpb.c` keep them, and the slot a
//! `show_existing_frame` header shows again. VP9 has no reordering: a shown
//! frame is output right after its Decode, so the slots are all this
//! codec's DPB holds.

use super::controls::RefTimestamps;
use super::parser::NUM_REF_FRAMES;

/// The decode timestamp (ns) of the frame in each of the 8 reference slots
/// (`None`: empty).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefSlots([Option<u64>; NUM_REF_FRAMES]);

impl RefSlots {
    /// Empties every slot (a new sequence, end of stream, seek).
    pub fn clear(&mut self) {
        *self = RefSlots::default();
    }

    /// The frame in slot `idx` (0..8): what `show_existing_frame` with
    /// `frame_to_show_map_idx` = `idx` outputs again. `None` when empty.
    pub fn get(&self, idx: usize) -> Option<u64> {
        self.0[idx]
    }

    /// The LAST, GOLDEN and ALTREF timestamps of a frame: the slots
    /// `ref_frame_idx[0..3]` name, 0 for an empty slot (GStreamer's
    /// `fill_refs`; intra frames have `ref_frame_idx` 0, so all three name
    /// slot 0's frame).
    pub fn ref_timestamps(&self, ref_frame_idx: &[u8; 3]) -> RefTimestamps {
        ref_frame_idx.map(|i| self.0[usize::from(i)].unwrap_or(0))
    }

    /// After decoding the frame with `timestamp_ns`: each slot whose bit is set in
    /// `refresh_frame_flags` holds it (8.10).
    pub fn refresh(&mut self, refresh_frame_flags: u8, timestamp_ns: u64) {
        for (i, slot) in self.0.iter_mut().enumerate() {
            if refresh_frame_flags & (1 << i) != 0 {
                *slot = Some(timestamp_ns);
            }
        }
    }

    /// Whether any slot holds the frame decoded with `timestamp_ns`.
    pub fn holds(&self, timestamp_ns: u64) -> bool {
        self.0.contains(&Some(timestamp_ns))
    }
}
