//! H.264 decoded picture buffer: picture order count (8.2.1), reference
//! picture marking (8.2.5: sliding window, MMCO 1–6, long-term references,
//! frame_num gaps 8.2.5.2), reference picture lists (8.2.4.2 init for P and B,
//! frames and fields; 8.2.4.3 modification) and output order by "bumping"
//! (C.4.5.3).
//!
//! The behaviour mirrors GStreamer 1.26.2's `gsth264decoder.c` /
//! `gsth264picture.c` (the oracle the V4L2 controls are compared with): the
//! same DPB list order, the same field splitting of frames in interlaced
//! sequences, the same quirks (e.g. the "first field" of a pair stands for the
//! frame in frame reference lists and in the V4L2 DPB array).

use std::collections::HashMap;

use smallvec::SmallVec;

use cros_codecs::codec::h264::parser::{RefPicMarking, RefPicMarkingInner, SliceHeader, Sps};

/// Most frames a DPB holds (Annex A, `MaxDpbFrames` ≤ 16).
pub const DPB_MAX_SIZE: usize = 16;

/// Handle of a picture in the [`Dpb`] arena.
pub type PicId = u32;

/// A list of DPB pictures (a reference list or a part of one) held inline:
/// a DPB has at most 16 frames, 32 fields (A.3.1 `MaxDpbFrames`), so
/// building one allocates nothing.
pub type RefList = SmallVec<[PicId; 32]>;

/// A modified reference picture list (8.2.4.3), held inline: at most 32
/// entries (`num_ref_idx_lX_active_minus1` ≤ 31), `None` for "no reference
/// picture".
pub type ModifiedList = SmallVec<[Option<PicId>; 36]>;

/// Which part of a frame a picture is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Frame,
    Top,
    Bottom,
}

/// Reference marking of a picture (8.2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub enum Reference {
    #[default]
    None,
    ShortTerm,
    LongTerm,
}

/// One decoded (or "non-existing", 8.2.5.2) frame or field.
#[derive(Debug, Clone, Default)]
pub struct Picture {
    /// V4L2 timestamp (ns) of the CAPTURE buffer holding this frame; both
    /// fields of a pair share it; 0 for non-existing pictures (as GStreamer).
    pub timestamp_ns: u64,
    /// Presentation time in ns from the container, if known.
    pub pts: Option<i64>,
    /// Frame, top or bottom field (`None` reads as frame).
    pub field: Option<Field>,
    /// Coded as a field picture (slice `field_pic_flag`).
    pub field_pic_flag: bool,
    /// Second field of a pair (or the split-off field of a frame).
    pub second_field: bool,
    /// The other field of the pair, once known.
    pub other_field: Option<PicId>,
    /// Current marking (8.2.5).
    pub reference: Reference,
    /// Was ever marked as reference (GStreamer `ref_pic`).
    pub ref_pic: bool,
    /// Inferred by a frame_num gap (8.2.5.2); never decoded nor output.
    pub nonexisting: bool,
    /// IdrPicFlag.
    pub idr: bool,
    /// Slice `idr_pic_id` (IDR only).
    pub idr_pic_id: u16,
    /// NAL `nal_ref_idc` of the picture's slices.
    pub nal_ref_idc: u8,
    /// Slice `frame_num` (0 after MMCO 5).
    pub frame_num: i32,
    /// FrameNumWrap (8-27), updated per current picture.
    pub frame_num_wrap: i32,
    /// FrameNumOffset (8-6, 8-11), POC types 1 and 2.
    pub frame_num_offset: i32,
    /// PicNum (8-28..8-30) relative to the current picture.
    pub pic_num: i32,
    /// LongTermPicNum (8-29..8-31).
    pub long_term_pic_num: i32,
    /// LongTermFrameIdx.
    pub long_term_frame_idx: i32,
    /// PicOrderCnt (8-1): min of the fields for a frame.
    pub pic_order_cnt: i32,
    /// TopFieldOrderCnt.
    pub top_field_order_cnt: i32,
    /// BottomFieldOrderCnt.
    pub bottom_field_order_cnt: i32,
    /// PicOrderCntMsb (8-3), POC type 0.
    pub pic_order_cnt_msb: i32,
    /// Slice `pic_order_cnt_lsb`.
    pub pic_order_cnt_lsb: i32,
    /// Slice `delta_pic_order_cnt_bottom`.
    pub delta_pic_order_cnt_bottom: i32,
    /// Slice `delta_pic_order_cnt[0]`.
    pub delta_pic_order_cnt0: i32,
    /// Slice `delta_pic_order_cnt[1]`.
    pub delta_pic_order_cnt1: i32,
    /// SPS `pic_order_cnt_type`.
    pub pic_order_cnt_type: u8,
    /// Had memory_management_control_operation 5.
    pub mem_mgmt_5: bool,
    /// Marked "needed for output" (C.4).
    pub needed_for_output: bool,
    /// The flags of the picture's dec_ref_pic_marking() (7.3.3.3); its
    /// memory management control operations are not stored with the
    /// picture (the codec keeps the current picture's, see
    /// [`reference_picture_marking`]), so a `Picture` clones without a heap
    /// allocation.
    pub dec_ref_pic_marking: Marking,
}

/// The flags of a slice header's dec_ref_pic_marking() (7.3.3.3), without
/// its list of memory management control operations.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Marking {
    /// `no_output_of_prior_pics_flag` (IDR pictures).
    pub no_output_of_prior_pics_flag: bool,
    /// `long_term_reference_flag` (IDR pictures).
    pub long_term_reference_flag: bool,
    /// `adaptive_ref_pic_marking_mode_flag` (non-IDR pictures): marking by
    /// the MMCO list instead of the sliding window.
    pub adaptive_ref_pic_marking_mode_flag: bool,
}

impl From<&RefPicMarking> for Marking {
    fn from(m: &RefPicMarking) -> Self {
        Marking {
            no_output_of_prior_pics_flag: m.no_output_of_prior_pics_flag,
            long_term_reference_flag: m.long_term_reference_flag,
            adaptive_ref_pic_marking_mode_flag: m.adaptive_ref_pic_marking_mode_flag,
        }
    }
}

impl Picture {
    /// Frame / top / bottom.
    pub fn field(&self) -> Field {
        self.field.unwrap_or(Field::Frame)
    }
    /// A frame (not a field).
    pub fn is_frame(&self) -> bool {
        self.field() == Field::Frame
    }
    /// Used for short- or long-term reference.
    pub fn is_ref(&self) -> bool {
        self.reference != Reference::None
    }
    /// Used for short-term reference.
    pub fn is_short_ref(&self) -> bool {
        self.reference == Reference::ShortTerm
    }
    /// Used for long-term reference.
    pub fn is_long_ref(&self) -> bool {
        self.reference == Reference::LongTerm
    }
}

/// The DPB: an arena of pictures plus the ordered list of pictures "in the
/// DPB" (GStreamer's `pic_list`; field pairs are two entries).
#[derive(Debug, Default)]
pub struct Dpb {
    pics: HashMap<PicId, Picture>,
    next_id: PicId,
    /// Pictures in the DPB, in insertion order.
    pub list: Vec<PicId>,
    /// Frame buffers (max_dec_frame_buffering / MaxDpbFrames, ≥ max_num_ref_frames).
    pub max_num_frames: usize,
    /// `!frame_mbs_only_flag`: frames are stored as two field entries.
    pub interlaced: bool,
    /// VUI max_num_reorder_frames (or its inference), for low-latency bumping.
    pub max_num_reorder_frames: u32,
    num_output_needed: i32,
    /// POC of the last picture output.
    pub last_output_poc: i32,
    /// The last picture output was a non-reference picture.
    pub last_output_non_ref: bool,
}

impl Dpb {
    /// Stores a picture in the arena (not yet in the DPB list).
    pub fn alloc(&mut self, pic: Picture) -> PicId {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.pics.insert(id, pic);
        id
    }

    /// The picture `id`, if still stored.
    pub fn get(&self, id: PicId) -> Option<&Picture> {
        self.pics.get(&id)
    }

    /// The picture `id`, mutable.
    pub fn get_mut(&mut self, id: PicId) -> Option<&mut Picture> {
        self.pics.get_mut(&id)
    }

    /// The picture (panic-free accessor returning a default for stale ids).
    pub fn pic(&self, id: PicId) -> Picture {
        self.pics.get(&id).cloned().unwrap_or_default()
    }

    /// Drops arena entries not reachable from the DPB list or `keep`.
    pub fn gc(&mut self, keep: &[PicId]) {
        let mut live: SmallVec<[PicId; 64]> = self
            .list
            .iter()
            .copied()
            .chain(keep.iter().copied())
            .collect();
        let extra: RefList = live
            .iter()
            .filter_map(|id| self.pics.get(id).and_then(|p| p.other_field))
            .collect();
        live.extend(extra);
        self.pics.retain(|id, _| live.contains(id));
    }

    /// `gst_h264_dpb_clear`.
    pub fn clear(&mut self) {
        self.list.clear();
        self.num_output_needed = 0;
        self.last_output_poc = i32::MIN;
        self.last_output_non_ref = false;
    }

    /// `gst_h264_picture_set_reference`.
    /// Marks `id` (and its other field when `other_field`).
    pub fn set_reference(&mut self, id: PicId, reference: Reference, other_field: bool) {
        let other = match self.pics.get_mut(&id) {
            Some(p) => {
                p.reference = reference;
                if reference != Reference::None {
                    p.ref_pic = true;
                }
                p.other_field
            }
            None => return,
        };
        if other_field {
            if let Some(o) = other.and_then(|o| self.pics.get_mut(&o)) {
                o.reference = reference;
                if reference != Reference::None {
                    o.ref_pic = true;
                }
            }
        }
    }

    /// `gst_h264_dpb_add`.
    /// Puts `id` into the DPB, marked needed for output unless non-existing.
    pub fn add(&mut self, id: PicId) {
        let (second_field, other, poc) = {
            let Some(p) = self.pics.get_mut(&id) else {
                return;
            };
            if !p.nonexisting {
                p.needed_for_output = true;
                if p.is_frame() || p.second_field {
                    self.num_output_needed += 1;
                }
            } else {
                p.needed_for_output = false;
            }
            (p.second_field, p.other_field, p.pic_order_cnt)
        };
        if second_field {
            if let Some(o) = other.and_then(|o| self.pics.get_mut(&o)) {
                o.other_field = Some(id);
            }
        }
        self.list.push(id);
        if poc == 0 {
            self.last_output_poc = i32::MIN;
            self.last_output_non_ref = false;
        }
    }

    /// `gst_h264_dpb_delete_unused`.
    /// Removes pictures neither referenced nor waiting for output (C.4.2).
    pub fn delete_unused(&mut self) {
        let pics = &self.pics;
        self.list.retain(|id| {
            pics.get(id)
                .is_some_and(|p| p.needed_for_output || p.is_ref())
        });
    }

    /// Reference frames (first fields count for the pair).
    pub fn num_ref_frames(&self) -> usize {
        self.iter()
            .filter(|p| !p.second_field && p.is_ref())
            .count()
    }

    fn iter(&self) -> impl Iterator<Item = &Picture> {
        self.list.iter().filter_map(|id| self.pics.get(id))
    }

    fn iter_ids(&self) -> impl Iterator<Item = (PicId, &Picture)> {
        self.list
            .iter()
            .filter_map(|id| self.pics.get(id).map(|p| (*id, p)))
    }

    /// Unmarks every picture (IDR, 8.2.5.1).
    pub fn mark_all_non_ref(&mut self) {
        for id in RefList::from_slice(&self.list) {
            self.set_reference(id, Reference::None, false);
        }
    }

    /// The short-term reference with this PicNum.
    pub fn short_ref_by_pic_num(&self, pic_num: i32) -> Option<PicId> {
        self.iter_ids()
            .find(|(_, p)| p.is_short_ref() && p.pic_num == pic_num)
            .map(|(id, _)| id)
    }

    /// The long-term reference with this LongTermPicNum.
    pub fn long_ref_by_long_term_pic_num(&self, n: i32) -> Option<PicId> {
        self.iter_ids()
            .find(|(_, p)| p.is_long_ref() && p.long_term_pic_num == n)
            .map(|(id, _)| id)
    }

    /// The short-term reference with the smallest FrameNumWrap (sliding window).
    pub fn lowest_frame_num_short_ref(&self) -> Option<PicId> {
        let mut ret: Option<(PicId, i32)> = None;
        for (id, p) in self.iter_ids() {
            if p.is_short_ref() && ret.is_none_or(|(_, w)| p.frame_num_wrap < w) {
                ret = Some((id, p.frame_num_wrap));
            }
        }
        ret.map(|(id, _)| id)
    }

    /// Short-term references in DPB order.
    pub fn short_term_refs(
        &self,
        include_non_existing: bool,
        include_second_field: bool,
    ) -> RefList {
        self.iter_ids()
            .filter(|(_, p)| {
                (include_second_field || !p.second_field)
                    && p.is_short_ref()
                    && (include_non_existing || !p.nonexisting)
            })
            .map(|(id, _)| id)
            .collect()
    }

    /// Long-term references in DPB order.
    pub fn long_term_refs(&self, include_second_field: bool) -> RefList {
        self.iter_ids()
            .filter(|(_, p)| (include_second_field || !p.second_field) && p.is_long_ref())
            .map(|(id, _)| id)
            .collect()
    }

    /// `gst_h264_dpb_has_empty_frame_buffer`.
    pub fn has_empty_frame_buffer(&self) -> bool {
        if !self.interlaced {
            return self.list.len() < self.max_num_frames;
        }
        let count = self
            .iter()
            .filter(|p| !p.second_field && (p.is_frame() || p.other_field.is_some()))
            .count();
        count < self.max_num_frames
    }

    fn lowest_output_needed(&self, force: bool) -> Option<(usize, PicId)> {
        let mut lowest: Option<(usize, PicId, i32)> = None;
        for (i, id) in self.list.iter().enumerate() {
            let Some(p) = self.pics.get(id) else { continue };
            if !force && !p.needed_for_output {
                continue;
            }
            if !p.is_frame() && (p.other_field.is_none() || p.second_field) {
                continue;
            }
            if lowest.is_none_or(|(_, _, poc)| p.pic_order_cnt < poc) {
                lowest = Some((i, *id, p.pic_order_cnt));
            }
        }
        lowest.map(|(i, id, _)| (i, id))
    }

    /// `gst_h264_dpb_needs_bump` in GST_H264_DPB_BUMP_NORMAL_LATENCY mode (C.4.5.3).
    pub fn needs_bump(&self, to_insert: Option<&Picture>) -> bool {
        let lowest_poc = match self.lowest_output_needed(false) {
            Some((_, id)) => self
                .pics
                .get(&id)
                .map(|p| p.pic_order_cnt)
                .unwrap_or(i32::MAX),
            None => i32::MAX,
        };
        if self.has_empty_frame_buffer() {
            return false;
        }
        match to_insert {
            Some(p) if p.ref_pic => true,
            Some(p) => p.pic_order_cnt > lowest_poc,
            None => false,
        }
    }

    /// `gst_h264_dpb_bump`: removes (or unmarks) the next picture in output
    /// order and returns it, with whether it still needed output (an
    /// "emergency" bump of an already output picture only frees its slot:
    /// GStreamer finds no codec frame for it and outputs nothing).
    pub fn bump(&mut self, drain: bool) -> Option<(PicId, bool)> {
        let mut output_needed = true;
        let mut found = self.lowest_output_needed(false);
        if found.is_none() && !drain {
            found = self.lowest_output_needed(true);
            if found.is_some() {
                output_needed = false;
            }
        }
        let (index, id) = found?;
        let (is_ref, other, poc, ref_pic) = {
            let p = self.pics.get_mut(&id)?;
            p.needed_for_output = false;
            (p.is_ref(), p.other_field, p.pic_order_cnt, p.ref_pic)
        };
        if output_needed {
            self.num_output_needed -= 1;
        }
        if !is_ref || drain || !output_needed {
            self.list.remove(index);
        }
        if let Some(o) = other {
            let other_ref = match self.pics.get_mut(&o) {
                Some(op) => {
                    op.needed_for_output = false;
                    op.is_ref()
                }
                None => true,
            };
            if !other_ref {
                if let Some(pos) = self.list.iter().position(|x| *x == o) {
                    self.list.remove(pos);
                }
            }
        }
        self.last_output_poc = poc;
        self.last_output_non_ref = !ref_pic;
        Some((id, output_needed))
    }

    /// `gst_h264_dpb_perform_memory_management_control_operation` (8.2.5.4).
    /// Returns false when the operation named a missing picture.
    pub fn mmco(&mut self, m: &RefPicMarkingInner, cur: &mut Picture, cur_id: PicId) -> bool {
        let pic_num_x = || {
            cur.pic_num
                .wrapping_sub((m.difference_of_pic_nums_minus1 as i32).wrapping_add(1))
        };
        match m.memory_management_control_operation {
            1 => {
                let Some(other) = self.short_ref_by_pic_num(pic_num_x()) else {
                    return false;
                };
                self.set_reference(other, Reference::None, cur.is_frame());
            }
            2 => {
                let Some(other) = self.long_ref_by_long_term_pic_num(m.long_term_pic_num as i32)
                else {
                    return false;
                };
                self.set_reference(other, Reference::None, false);
            }
            3 => {
                let Some(other) = self.short_ref_by_pic_num(pic_num_x()) else {
                    return false;
                };
                let idx = m.long_term_frame_idx as i32;
                let other_other = self.pics.get(&other).and_then(|p| p.other_field);
                for tmp in RefList::from_slice(&self.list) {
                    let t = self.pic(tmp);
                    if !(t.is_long_ref() && t.long_term_frame_idx == idx) {
                        continue;
                    }
                    // a long-term frame, or a long-term field pair with that index
                    if t.is_frame()
                        || t.other_field.is_some_and(|o| {
                            self.get(o)
                                .is_some_and(|op| op.is_long_ref() && op.long_term_frame_idx == idx)
                        })
                    {
                        self.set_reference(tmp, Reference::None, true);
                    } else if t.other_field.is_none()
                        || (t.other_field != Some(other) && other_other != Some(tmp))
                    {
                        // a lone reference field, or one outside the pair of picNumX
                        self.set_reference(tmp, Reference::None, false);
                    }
                    break;
                }
                self.set_reference(other, Reference::LongTerm, cur.is_frame());
                if let Some(p) = self.pics.get_mut(&other) {
                    p.long_term_frame_idx = idx;
                }
                if let Some(oo) = other_other {
                    if let Some(op) = self.pics.get_mut(&oo) {
                        if op.is_long_ref() {
                            op.long_term_frame_idx = idx;
                        }
                    }
                }
            }
            4 => {
                let max = (m.max_long_term_frame_idx.to_value_plus1() as i32).wrapping_sub(1);
                for id in RefList::from_slice(&self.list) {
                    let p = self.pic(id);
                    if p.is_long_ref() && p.long_term_frame_idx > max {
                        self.set_reference(id, Reference::None, false);
                    }
                }
            }
            5 => {
                for id in RefList::from_slice(&self.list) {
                    self.set_reference(id, Reference::None, false);
                }
                cur.mem_mgmt_5 = true;
                cur.frame_num = 0;
                match cur.field() {
                    Field::Top => {
                        cur.top_field_order_cnt = 0;
                        cur.pic_order_cnt = 0;
                    }
                    Field::Bottom => {
                        cur.bottom_field_order_cnt = 0;
                        cur.pic_order_cnt = 0;
                    }
                    Field::Frame => {
                        cur.top_field_order_cnt =
                            cur.top_field_order_cnt.wrapping_sub(cur.pic_order_cnt);
                        cur.bottom_field_order_cnt =
                            cur.bottom_field_order_cnt.wrapping_sub(cur.pic_order_cnt);
                        cur.pic_order_cnt = cur.top_field_order_cnt.min(cur.bottom_field_order_cnt);
                    }
                }
            }
            6 => {
                let idx = m.long_term_frame_idx as i32;
                for id in RefList::from_slice(&self.list) {
                    let p = self.pic(id);
                    if p.is_long_ref() && p.long_term_frame_idx == idx {
                        self.set_reference(id, Reference::None, true);
                        break;
                    }
                }
                // The current picture lives outside the arena map copy while
                // being marked: mirror set_reference on it by hand.
                cur.reference = Reference::LongTerm;
                cur.ref_pic = true;
                cur.long_term_frame_idx = idx;
                if cur.second_field {
                    if let Some(op) = cur.other_field.and_then(|o| self.pics.get_mut(&o)) {
                        op.reference = Reference::LongTerm;
                        op.ref_pic = true;
                    }
                }
                if let Some(op) = cur.other_field.and_then(|o| self.pics.get_mut(&o)) {
                    if op.is_long_ref() {
                        op.long_term_frame_idx = idx;
                    }
                }
            }
            _ => {}
        }
        let _ = cur_id;
        true
    }
}

/// Sequence-level values the reference process needs (SPS syntax elements
/// of 7.4.2.1.1; `max_frame_num` = MaxFrameNum).
#[derive(Debug, Clone, Copy, Default)]
pub struct SeqInfo {
    pub max_frame_num: i32,
    pub max_num_ref_frames: u8,
    pub pic_order_cnt_type: u8,
    pub log2_max_pic_order_cnt_lsb_minus4: u8,
    pub offset_for_non_ref_pic: i32,
    pub offset_for_top_to_bottom_field: i32,
    pub num_ref_frames_in_pic_order_cnt_cycle: u8,
    pub gaps_in_frame_num_value_allowed_flag: bool,
}

impl SeqInfo {
    /// The values of `sps`.
    pub fn from_sps(sps: &Sps) -> Self {
        SeqInfo {
            max_frame_num: sps.max_frame_num() as i32,
            max_num_ref_frames: sps.max_num_ref_frames,
            pic_order_cnt_type: sps.pic_order_cnt_type,
            log2_max_pic_order_cnt_lsb_minus4: sps.log2_max_pic_order_cnt_lsb_minus4,
            offset_for_non_ref_pic: sps.offset_for_non_ref_pic,
            offset_for_top_to_bottom_field: sps.offset_for_top_to_bottom_field,
            num_ref_frames_in_pic_order_cnt_cycle: sps.num_ref_frames_in_pic_order_cnt_cycle,
            gaps_in_frame_num_value_allowed_flag: sps.gaps_in_frame_num_value_allowed_flag,
        }
    }
}

/// The decoding-process state between pictures (GStreamer's
/// `GstH264DecoderPrivate` reference fields) plus the DPB: the `prev_*`
/// fields are the previous (reference) picture's values used by 8.2.1 and
/// 8.2.5.2; `max_long_term_frame_idx` is MaxLongTermFrameIdx (-1 = none).
#[derive(Debug, Default)]
pub struct RefState {
    pub dpb: Dpb,
    pub prev_ref_has_memmgmnt5: bool,
    pub prev_ref_top_field_order_cnt: i32,
    pub prev_ref_pic_order_cnt_msb: i32,
    pub prev_ref_pic_order_cnt_lsb: i32,
    pub prev_ref_field: Option<Field>,
    pub prev_ref_frame_num: i32,
    pub prev_frame_num: i32,
    pub prev_has_memmgmnt5: bool,
    pub prev_frame_num_offset: i32,
    pub max_long_term_frame_idx: i32,
    pub max_frame_num: i32,
    pub max_pic_num: i32,
    /// A first field waiting for its pair outside the DPB (non-reference).
    pub last_field: Option<PicId>,
}

/// FrameNumOffset for POC types 1 and 2 (8.2.1.2 (8-6), 8.2.1.3 (8-11): the
/// same rule): 0 for an IDR, else prevFrameNumOffset (0 after an MMCO 5),
/// plus MaxFrameNum when frame_num wrapped.
fn frame_num_offset(st: &mut RefState, pic: &Picture) -> i32 {
    if st.prev_has_memmgmnt5 {
        st.prev_frame_num_offset = 0;
    }
    if pic.idr {
        0
    } else if st.prev_frame_num > pic.frame_num {
        st.prev_frame_num_offset.wrapping_add(st.max_frame_num)
    } else {
        st.prev_frame_num_offset
    }
}

/// Picture order count (8.2.1), exactly as `gst_h264_decoder_calculate_poc`.
pub fn calculate_poc(
    st: &mut RefState,
    seq: &SeqInfo,
    offset_for_ref_frame: &[i32],
    pic: &mut Picture,
) {
    // The switch is on the picture's type, as GStreamer: "non-existing"
    // frames of a gap carry type 0 (their default) whatever the SPS says.
    match pic.pic_order_cnt_type {
        0 => {
            let (prev_msb, prev_lsb) = if pic.idr {
                (0, 0)
            } else if st.prev_ref_has_memmgmnt5 {
                if st.prev_ref_field != Some(Field::Bottom) {
                    (0, st.prev_ref_top_field_order_cnt)
                } else {
                    (0, 0)
                }
            } else {
                (st.prev_ref_pic_order_cnt_msb, st.prev_ref_pic_order_cnt_lsb)
            };
            let max_lsb = 1i32 << (seq.log2_max_pic_order_cnt_lsb_minus4.min(12) + 4);
            let lsb = pic.pic_order_cnt_lsb;
            pic.pic_order_cnt_msb = if lsb < prev_lsb && prev_lsb.wrapping_sub(lsb) >= max_lsb / 2 {
                prev_msb.wrapping_add(max_lsb)
            } else if lsb > prev_lsb && lsb.wrapping_sub(prev_lsb) > max_lsb / 2 {
                prev_msb.wrapping_sub(max_lsb)
            } else {
                prev_msb
            };
            match pic.field() {
                Field::Frame => {
                    pic.top_field_order_cnt = pic.pic_order_cnt_msb.wrapping_add(lsb);
                    pic.bottom_field_order_cnt = pic
                        .top_field_order_cnt
                        .wrapping_add(pic.delta_pic_order_cnt_bottom);
                }
                Field::Top => pic.top_field_order_cnt = pic.pic_order_cnt_msb.wrapping_add(lsb),
                Field::Bottom => {
                    pic.bottom_field_order_cnt = pic.pic_order_cnt_msb.wrapping_add(lsb)
                }
            }
        }
        1 => {
            pic.frame_num_offset = frame_num_offset(st, pic);
            let n = seq.num_ref_frames_in_pic_order_cnt_cycle as i32;
            let mut abs_frame_num = if n != 0 {
                pic.frame_num_offset.wrapping_add(pic.frame_num)
            } else {
                0
            };
            if pic.nal_ref_idc == 0 && abs_frame_num > 0 {
                abs_frame_num -= 1;
            }
            let mut expected: i32 = 0;
            if abs_frame_num > 0 && n > 0 {
                let cycle_cnt = (abs_frame_num - 1) / n;
                let in_cycle = (abs_frame_num - 1) % n;
                let delta: i32 = offset_for_ref_frame
                    .iter()
                    .take(n as usize)
                    .fold(0i32, |a, b| a.wrapping_add(*b));
                expected = cycle_cnt.wrapping_mul(delta);
                for o in offset_for_ref_frame.iter().take(in_cycle as usize + 1) {
                    expected = expected.wrapping_add(*o);
                }
            }
            if pic.nal_ref_idc == 0 {
                expected = expected.wrapping_add(seq.offset_for_non_ref_pic);
            }
            match pic.field() {
                Field::Frame => {
                    pic.top_field_order_cnt = expected.wrapping_add(pic.delta_pic_order_cnt0);
                    pic.bottom_field_order_cnt = pic
                        .top_field_order_cnt
                        .wrapping_add(seq.offset_for_top_to_bottom_field)
                        .wrapping_add(pic.delta_pic_order_cnt1);
                }
                Field::Top => {
                    pic.top_field_order_cnt = expected.wrapping_add(pic.delta_pic_order_cnt0)
                }
                Field::Bottom => {
                    pic.bottom_field_order_cnt = expected
                        .wrapping_add(seq.offset_for_top_to_bottom_field)
                        .wrapping_add(pic.delta_pic_order_cnt0)
                }
            }
        }
        _ => {
            pic.frame_num_offset = frame_num_offset(st, pic);
            let temp = if pic.idr {
                0
            } else if pic.nal_ref_idc == 0 {
                pic.frame_num_offset
                    .wrapping_add(pic.frame_num)
                    .wrapping_mul(2)
                    .wrapping_sub(1)
            } else {
                pic.frame_num_offset
                    .wrapping_add(pic.frame_num)
                    .wrapping_mul(2)
            };
            match pic.field() {
                Field::Frame => {
                    pic.top_field_order_cnt = temp;
                    pic.bottom_field_order_cnt = temp;
                }
                Field::Bottom => pic.bottom_field_order_cnt = temp,
                Field::Top => pic.top_field_order_cnt = temp,
            }
        }
    }
    pic.pic_order_cnt = match pic.field() {
        Field::Frame => pic.top_field_order_cnt.min(pic.bottom_field_order_cnt),
        Field::Top => pic.top_field_order_cnt,
        Field::Bottom => pic.bottom_field_order_cnt,
    };
}

/// `gst_h264_decoder_update_pic_nums` (8.2.4.1).
pub fn update_pic_nums(st: &mut RefState, cur_field: Field, frame_num: i32) {
    let max_frame_num = st.max_frame_num;
    for id in RefList::from_slice(&st.dpb.list) {
        let Some(p) = st.dpb.get_mut(id) else {
            continue;
        };
        if !p.is_ref() {
            continue;
        }
        if p.is_long_ref() {
            p.long_term_pic_num = if cur_field == Field::Frame {
                p.long_term_frame_idx
            } else if cur_field == p.field() {
                p.long_term_frame_idx.wrapping_mul(2).wrapping_add(1)
            } else {
                p.long_term_frame_idx.wrapping_mul(2)
            };
        } else {
            p.frame_num_wrap = if p.frame_num > frame_num {
                p.frame_num - max_frame_num
            } else {
                p.frame_num
            };
            p.pic_num = if cur_field == Field::Frame {
                p.frame_num_wrap
            } else if p.field() == cur_field {
                p.frame_num_wrap.wrapping_mul(2).wrapping_add(1)
            } else {
                p.frame_num_wrap.wrapping_mul(2)
            };
        }
    }
}

/// `gst_h264_decoder_sliding_window_picture_marking` (8.2.5.3).
pub fn sliding_window(st: &mut RefState, seq: &SeqInfo, pic: &Picture) -> bool {
    if pic.second_field {
        return true;
    }
    let mut num_ref = st.dpb.num_ref_frames();
    let max = (seq.max_num_ref_frames as usize).max(1);
    while num_ref >= max {
        let Some(to_unmark) = st.dpb.lowest_frame_num_short_ref() else {
            return false;
        };
        st.dpb.set_reference(to_unmark, Reference::None, true);
        num_ref -= 1;
    }
    true
}

/// `gst_h264_decoder_reference_picture_marking` (8.2.5.1). `mmcos` is the
/// picture's dec_ref_pic_marking() list (its first slice header's, in
/// bitstream order; read only when `pic`'s adaptive_ref_pic_marking_mode_flag
/// is set, up to the first operation 0). Returns false if an MMCO named a
/// picture that is not in the DPB.
pub fn reference_picture_marking(
    st: &mut RefState,
    seq: &SeqInfo,
    pic: &mut Picture,
    id: PicId,
    mmcos: &[RefPicMarkingInner],
) -> bool {
    if pic.idr {
        st.dpb.mark_all_non_ref();
        if pic.dec_ref_pic_marking.long_term_reference_flag {
            pic.reference = Reference::LongTerm;
            pic.ref_pic = true;
            pic.long_term_frame_idx = 0;
            st.max_long_term_frame_idx = 0;
        } else {
            pic.reference = Reference::ShortTerm;
            pic.ref_pic = true;
            st.max_long_term_frame_idx = -1;
        }
        return true;
    }
    if pic.dec_ref_pic_marking.adaptive_ref_pic_marking_mode_flag {
        let mut ok = true;
        for m in mmcos {
            match m.memory_management_control_operation {
                0 => break,
                4 => {
                    st.max_long_term_frame_idx =
                        (m.max_long_term_frame_idx.to_value_plus1() as i32).wrapping_sub(1)
                }
                5 => st.max_long_term_frame_idx = -1,
                _ => {}
            }
            ok &= st.dpb.mmco(m, pic, id);
        }
        return ok;
    }
    sliding_window(st, seq, pic)
}

/// How a picture starts: the slice-header values the reference process uses.
pub fn picture_from_slice(hdr: &SliceHeader, nal_ref_idc: u8, idr: bool, seq: &SeqInfo) -> Picture {
    let field = if hdr.field_pic_flag {
        if hdr.bottom_field_flag {
            Field::Bottom
        } else {
            Field::Top
        }
    } else {
        Field::Frame
    };
    let mut p = Picture {
        idr,
        dec_ref_pic_marking: Marking::from(&hdr.dec_ref_pic_marking),
        field_pic_flag: hdr.field_pic_flag,
        field: Some(field),
        nal_ref_idc,
        frame_num: hdr.frame_num as i32,
        pic_num: if hdr.field_pic_flag {
            2 * hdr.frame_num as i32 + 1
        } else {
            hdr.frame_num as i32
        },
        pic_order_cnt_type: seq.pic_order_cnt_type,
        ..Default::default()
    };
    if idr {
        p.idr_pic_id = hdr.idr_pic_id;
    }
    if nal_ref_idc != 0 {
        p.reference = Reference::ShortTerm;
        p.ref_pic = true;
    }
    match seq.pic_order_cnt_type {
        0 => {
            p.pic_order_cnt_lsb = hdr.pic_order_cnt_lsb as i32;
            p.delta_pic_order_cnt_bottom = hdr.delta_pic_order_cnt_bottom;
        }
        1 => {
            p.delta_pic_order_cnt0 = hdr.delta_pic_order_cnt[0];
            p.delta_pic_order_cnt1 = hdr.delta_pic_order_cnt[1];
        }
        _ => {}
    }
    p
}

/// Splits a frame into a complementary field pair for an interlaced DPB
/// (`gst_h264_decoder_split_frame`); returns the new second field.
pub fn split_frame(dpb: &mut Dpb, id: PicId) -> Option<PicId> {
    let p = dpb.get(id)?.clone();
    let mut other = Picture {
        other_field: Some(id),
        second_field: true,
        top_field_order_cnt: p.top_field_order_cnt,
        bottom_field_order_cnt: p.bottom_field_order_cnt,
        frame_num: p.frame_num,
        reference: p.reference,
        ref_pic: p.reference != Reference::None,
        nonexisting: p.nonexisting,
        timestamp_ns: p.timestamp_ns,
        pts: p.pts,
        field_pic_flag: p.field_pic_flag,
        ..Default::default()
    };
    let (first_field, first_poc) = if p.top_field_order_cnt < p.bottom_field_order_cnt {
        other.field = Some(Field::Bottom);
        other.pic_order_cnt = p.bottom_field_order_cnt;
        (Field::Top, p.top_field_order_cnt)
    } else {
        other.field = Some(Field::Top);
        other.pic_order_cnt = p.top_field_order_cnt;
        (Field::Bottom, p.bottom_field_order_cnt)
    };
    let oid = dpb.alloc(other);
    if let Some(pm) = dpb.get_mut(id) {
        pm.field = Some(first_field);
        pm.pic_order_cnt = first_poc;
    }
    Some(oid)
}

// ---------------------------------------------------------------------------
// Reference picture lists (8.2.4.2, 8.2.4.3)

/// Initial lists for the current picture: P list and B lists.
#[derive(Debug, Default, Clone)]
pub struct InitLists {
    /// RefPicList0 for P/SP slices (8.2.4.2.1 / 8.2.4.2.5).
    pub p0: RefList,
    /// RefPicList0 for B slices (8.2.4.2.3 / 8.2.4.2.4).
    pub b0: RefList,
    /// RefPicList1 for B slices.
    pub b1: RefList,
}

fn sort_by_key_stable<F: Fn(&Picture) -> i64>(dpb: &Dpb, v: &mut [PicId], key: F) {
    v.sort_by_key(|id| dpb.get(*id).map(&key).unwrap_or(0));
}

fn init_fields_1(dpb: &Dpb, field: Field, frames: &[PicId], out: &mut RefList) {
    let (mut i, mut j) = (0usize, 0usize);
    loop {
        while i < frames.len() {
            let f = dpb.get(frames[i]).map(|p| p.field());
            i += 1;
            if f == Some(field) {
                out.push(frames[i - 1]);
                break;
            }
        }
        while j < frames.len() {
            let f = dpb.get(frames[j]).map(|p| p.field());
            j += 1;
            if f != Some(field) {
                out.push(frames[j - 1]);
                break;
            }
        }
        if !(i < frames.len() || j < frames.len()) {
            break;
        }
    }
}

fn b_short_lists(dpb: &Dpb, ids: RefList, cur_poc: i32) -> (RefList, RefList) {
    let poc = |id: &PicId| dpb.get(*id).map(|p| p.pic_order_cnt).unwrap_or(0);
    // list 0: POC < cur descending, then POC > cur ascending
    let mut l0 = ids.clone();
    l0.sort_by_key(poc);
    let pos = l0
        .iter()
        .position(|id| poc(id) > cur_poc)
        .unwrap_or(l0.len());
    l0[..pos].sort_by_key(|id| std::cmp::Reverse(poc(id)));
    // list 1: POC > cur ascending, then POC < cur descending
    let mut l1 = ids;
    l1.sort_by_key(|id| std::cmp::Reverse(poc(id)));
    let pos = l1
        .iter()
        .position(|id| poc(id) < cur_poc)
        .unwrap_or(l1.len());
    l1[..pos].sort_by_key(poc);
    (l0, l1)
}

/// `gst_h264_decoder_prepare_ref_pic_lists`.
pub fn prepare_ref_pic_lists(st: &RefState, cur: &Picture) -> InitLists {
    let dpb = &st.dpb;
    let mut lists = InitLists::default();
    if !dpb.iter().any(|p| p.is_ref() && !p.nonexisting) {
        return lists;
    }
    let include_nonexisting_b = cur.pic_order_cnt_type != 0;
    if cur.is_frame() {
        // P: short by descending pic_num, long by ascending long_term_pic_num
        let mut p0 = dpb.short_term_refs(true, false);
        sort_by_key_stable(dpb, &mut p0, |p| -(p.pic_num as i64));
        let mut lt = dpb.long_term_refs(false);
        sort_by_key_stable(dpb, &mut lt, |p| p.long_term_pic_num as i64);
        p0.extend(lt.iter().copied());
        lists.p0 = p0;
        // B
        let short = dpb.short_term_refs(include_nonexisting_b, false);
        let (mut b0, mut b1) = b_short_lists(dpb, short, cur.pic_order_cnt);
        b0.extend(lt.iter().copied());
        b1.extend(lt.iter().copied());
        if b1.len() > 1 && b0 == b1 {
            b1.swap(0, 1);
        }
        lists.b0 = b0;
        lists.b1 = b1;
    } else {
        let field = cur.field();
        let mut short = dpb.short_term_refs(true, true);
        sort_by_key_stable(dpb, &mut short, |p| -(p.frame_num_wrap as i64));
        let mut lt = dpb.long_term_refs(true);
        sort_by_key_stable(dpb, &mut lt, |p| p.long_term_frame_idx as i64);
        init_fields_1(dpb, field, &short, &mut lists.p0);
        init_fields_1(dpb, field, &lt, &mut lists.p0);
        let shortb = dpb.short_term_refs(include_nonexisting_b, true);
        let (f0, f1) = b_short_lists(dpb, shortb, cur.pic_order_cnt);
        init_fields_1(dpb, field, &f0, &mut lists.b0);
        init_fields_1(dpb, field, &lt, &mut lists.b0);
        init_fields_1(dpb, field, &f1, &mut lists.b1);
        init_fields_1(dpb, field, &lt, &mut lists.b1);
        if lists.b1.len() > 1 && lists.b0 == lists.b1 {
            lists.b1.swap(0, 1);
        }
    }
    lists
}

/// `modify_ref_pic_list` (8.2.4.3) for one list. `None` entries are
/// missing references. Returns `Err` with a reason when a modification names a
/// picture that is not in the DPB.
pub fn modify_ref_pic_list(
    st: &RefState,
    cur: &Picture,
    hdr: &SliceHeader,
    list: usize,
    init: &[PicId],
) -> Result<ModifiedList, String> {
    let (flag, mods, num_minus1) = if list == 0 {
        (
            hdr.ref_pic_list_modification_flag_l0,
            &hdr.ref_pic_list_modification_l0,
            hdr.num_ref_idx_l0_active_minus1,
        )
    } else {
        (
            hdr.ref_pic_list_modification_flag_l1,
            &hdr.ref_pic_list_modification_l1,
            hdr.num_ref_idx_l1_active_minus1,
        )
    };
    let num = num_minus1 as usize + 1;
    let mut v: ModifiedList = init.iter().map(|id| Some(*id)).collect();
    v.truncate(num);
    if !flag {
        return Ok(v);
    }
    let dpb = &st.dpb;
    let max_pic_num = st.max_pic_num;
    let mut pred = cur.pic_num;
    let mut ref_idx = 0usize;
    let pic_num_f = |id: PicId| -> i32 {
        let p = dpb.pic(id);
        if !p.is_long_ref() {
            p.pic_num
        } else {
            max_pic_num
        }
    };
    let long_term_pic_num_f = |id: PicId| -> i32 {
        let p = dpb.pic(id);
        if p.is_long_ref() {
            p.long_term_pic_num
        } else {
            st.max_long_term_frame_idx.wrapping_add(1).wrapping_mul(2)
        }
    };
    for m in mods.iter() {
        if ref_idx >= 32 {
            break;
        }
        let pic = match m.modification_of_pic_nums_idc {
            0 | 1 => {
                let d = (m.abs_diff_pic_num_minus1 as i32).wrapping_add(1);
                let mut no_wrap;
                if m.modification_of_pic_nums_idc == 0 {
                    no_wrap = pred.wrapping_sub(d);
                    if no_wrap < 0 {
                        no_wrap = no_wrap.wrapping_add(max_pic_num);
                    }
                } else {
                    no_wrap = pred.wrapping_add(d);
                    if no_wrap >= max_pic_num {
                        no_wrap = no_wrap.wrapping_sub(max_pic_num);
                    }
                }
                pred = no_wrap;
                let pic_num = if no_wrap > cur.pic_num {
                    no_wrap.wrapping_sub(max_pic_num)
                } else {
                    no_wrap
                };
                let Some(pic) = dpb.short_ref_by_pic_num(pic_num) else {
                    return Err(format!(
                        "ref_pic_list_modification names missing short-term pic_num {pic_num}"
                    ));
                };
                (pic, Some(pic_num), None)
            }
            2 => {
                let n = m.long_term_pic_num as i32;
                let Some(pic) = dpb.long_ref_by_long_term_pic_num(n) else {
                    return Err(format!(
                        "ref_pic_list_modification names missing long_term_pic_num {n}"
                    ));
                };
                (pic, None, Some(n))
            }
            _ => break,
        };
        let (pic, short_num, long_num) = pic;
        // shift_right_and_insert: list grows to num + 1 entries
        v.resize(num + 1, None);
        v.insert(ref_idx, Some(pic));
        v.truncate(num + 1);
        ref_idx += 1;
        let mut dst = ref_idx;
        for src in ref_idx..=num {
            let e = v.get(src).copied().flatten();
            let keep = match (short_num, long_num, e) {
                (Some(pn), _, Some(id)) => pic_num_f(id) != pn,
                (Some(_), _, None) => true,
                (None, Some(ln), Some(id)) => long_term_pic_num_f(id) != ln,
                (None, _, None) => true,
                _ => true,
            };
            if keep {
                let val = v.get(src).copied().flatten();
                if dst < v.len() {
                    v[dst] = val;
                }
                dst += 1;
            }
        }
    }
    v.truncate(num);
    Ok(v)
}
