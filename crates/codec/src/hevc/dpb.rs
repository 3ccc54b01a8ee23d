//! H.265 picture order count (8.3.1), reference picture set derivation and
//! marking (8.3.2) and the decoded picture buffer with C.5.2 "bumping"
//! output order.
//!
//! The DPB list order matters: the uAPI `dpb[]` array lists the reference
//! pictures in this order. It follows GStreamer 1.26.2's `GstH265Dpb`
//! (`gsth265picture.c`): pictures are appended; removing unused pictures
//! keeps the order; bumping a non-reference picture out moves the last
//! entry into its slot (`g_array_remove_index_fast`).
//!
//! The per-picture lists are held inline ([`List`]): deriving them
//! allocates nothing (issue 17).

use smallvec::SmallVec;

/// A per-picture list held inline: 32 entries cover every list here (an
/// RPS has at most 16 short-term pictures, `sps_max_dec_pic_buffering`;
/// the reference picture lists at most 16 entries); a longer one spills
/// to the heap.
pub type List<T> = SmallVec<[T; 32]>;

/// One decoded picture (frame) held by the DPB.
#[derive(Debug, Clone, Default)]
pub struct Picture {
    /// OUTPUT/CAPTURE buffer timestamp (ns) the picture was decoded with.
    pub timestamp_ns: u64,
    /// `PicOrderCntVal`.
    pub poc: i32,
    /// `slice_pic_order_cnt_lsb` (0 for IDR).
    pub poc_lsb: i32,
    /// "used for reference" (short or long term).
    pub is_ref: bool,
    /// "used for long-term reference".
    pub long_term: bool,
    /// C.5.2: waiting for output.
    pub needed_for_output: bool,
    /// `PicOutputFlag`.
    pub output_flag: bool,
    /// `PicLatencyCount` (C.5.2.3).
    pub latency: u32,
    /// Container presentation time, if any.
    pub pts: Option<i64>,
}

/// The decoded picture buffer.
#[derive(Debug, Default)]
pub struct Dpb {
    /// Pictures in DPB order (see the module doc).
    pub list: Vec<Picture>,
    /// `MaxDpbSize` in use (GStreamer: `sps_max_dec_pic_buffering_minus1 + 1` when plausible).
    pub max_num_pics: usize,
    num_output_needed: usize,
}

impl Dpb {
    /// Empties the DPB (no output).
    pub fn clear(&mut self) {
        self.list.clear();
        self.num_output_needed = 0;
    }

    /// Stores a decoded picture (C.5.2.3): with `PicOutputFlag` it waits for
    /// output and ages the other waiting pictures; it is marked short-term.
    pub fn add(&mut self, mut pic: Picture) {
        if pic.output_flag {
            for p in self.list.iter_mut() {
                if p.needed_for_output {
                    p.latency += 1;
                }
            }
            self.num_output_needed += 1;
            pic.needed_for_output = true;
        } else {
            pic.needed_for_output = false;
        }
        pic.is_ref = true;
        pic.long_term = false;
        self.list.push(pic);
    }

    /// Removes pictures neither waiting for output nor referenced; returns their timestamps.
    pub fn delete_unused(&mut self) -> List<u64> {
        let mut gone = List::new();
        self.list.retain(|p| {
            let keep = p.needed_for_output || p.is_ref;
            if !keep {
                gone.push(p.timestamp_ns);
            }
            keep
        });
        gone
    }

    /// Marks every picture "unused for reference" (IRAP with NoRaslOutputFlag).
    pub fn mark_all_non_ref(&mut self) {
        for p in self.list.iter_mut() {
            p.is_ref = false;
        }
    }

    /// C.5.2.2 / C.5.2.3 "bumping needed": DPB over `max_num_pics`, more
    /// pictures waiting than `max_num_reorder`, one waited `max_latency`
    /// pictures (0: no limit), or the DPB at `max_dec_pic_buffering` (0: not checked).
    pub fn needs_bump(&self, max_num_reorder: u32, max_latency: u32, max_dec: u32) -> bool {
        if self.list.len() > self.max_num_pics {
            return true;
        }
        if self.num_output_needed > max_num_reorder as usize {
            return true;
        }
        if self.num_output_needed > 0
            && max_latency > 0
            && self
                .list
                .iter()
                .any(|p| p.needed_for_output && p.latency >= max_latency)
        {
            return true;
        }
        max_dec > 0 && self.list.len() >= max_dec as usize
    }

    /// C.5.2.4 "bumping": the waiting picture with the smallest POC is
    /// output (returned); it leaves the DPB unless it is a reference
    /// (always when `drain`). The bool says whether it left the DPB.
    pub fn bump(&mut self, drain: bool) -> Option<(Picture, bool)> {
        let mut best: Option<usize> = None;
        for (i, p) in self.list.iter().enumerate() {
            if !p.needed_for_output {
                continue;
            }
            if best.is_none_or(|b| p.poc < self.list[b].poc) {
                best = Some(i);
            }
        }
        let i = best?;
        self.list[i].needed_for_output = false;
        self.num_output_needed = self.num_output_needed.saturating_sub(1);
        if !self.list[i].is_ref || drain {
            Some((self.list.swap_remove(i), true))
        } else {
            Some((self.list[i].clone(), false))
        }
    }

    fn find(&self, f: impl Fn(&Picture) -> bool) -> Option<usize> {
        self.list.iter().position(f)
    }
}

/// POC state carried between pictures (8.3.1).
#[derive(Debug, Default, Clone, Copy)]
pub struct PocState {
    pub poc_lsb: i32,
    pub poc_msb: i32,
    pub prev_tid0_poc_lsb: i32,
    pub prev_tid0_poc_msb: i32,
}

/// What [`calculate_poc`] needs of the current picture.
#[derive(Debug, Clone, Copy)]
pub struct PocInput {
    pub nal_unit_type: u8,
    pub temporal_id_plus1: u8,
    pub no_rasl_output_flag: bool,
    pub pic_order_cnt_lsb: i32,
    pub log2_max_poc_lsb: u32,
}

/// 8.3.1 decoding process for picture order count: returns
/// (`PicOrderCntVal`, the lsb the picture keeps) and updates `st`
/// (prevTid0Pic as GStreamer's `gst_h265_decoder_calculate_poc`).
pub fn calculate_poc(st: &mut PocState, i: &PocInput) -> (i32, i32) {
    use super::parser::{is_idr, is_irap, is_radl, is_rasl, is_sub_layer_non_ref};
    let max = 1i32 << i.log2_max_poc_lsb.min(16);
    let irap_reset = is_irap(i.nal_unit_type) && i.no_rasl_output_flag;
    let (prev_lsb, prev_msb) = if irap_reset {
        (st.poc_lsb, st.poc_msb)
    } else {
        (st.prev_tid0_poc_lsb, st.prev_tid0_poc_msb)
    };
    let lsb = i.pic_order_cnt_lsb;
    st.poc_msb = if irap_reset {
        0
    } else if lsb < prev_lsb && prev_lsb - lsb >= max / 2 {
        prev_msb.wrapping_add(max)
    } else if lsb > prev_lsb && lsb - prev_lsb > max / 2 {
        prev_msb.wrapping_sub(max)
    } else {
        prev_msb
    };
    let mut poc = st.poc_msb.wrapping_add(lsb);
    let mut poc_lsb = lsb;
    st.poc_lsb = lsb;
    if is_idr(i.nal_unit_type) {
        poc = 0;
        poc_lsb = 0;
        *st = PocState::default();
    }
    if i.temporal_id_plus1 == 1
        && !is_rasl(i.nal_unit_type)
        && !is_radl(i.nal_unit_type)
        && !is_sub_layer_non_ref(i.nal_unit_type)
    {
        st.prev_tid0_poc_lsb = lsb;
        st.prev_tid0_poc_msb = st.poc_msb;
    }
    (poc, poc_lsb)
}

/// The five RPS lists of the current picture (8.3.2), as timestamps of DPB
/// pictures (`None`: "no reference picture").
#[derive(Debug, Default, Clone)]
pub struct RefPicSets {
    pub st_curr_before: List<Option<u64>>,
    pub st_curr_after: List<Option<u64>>,
    pub st_foll: List<Option<u64>>,
    pub lt_curr: List<Option<u64>>,
    pub lt_foll: List<Option<u64>>,
    /// `PocStCurrBefore` (8-5): the POC of each `st_curr_before` entry.
    pub poc_st_curr_before: List<i32>,
    /// `PocStCurrAfter` (8-5).
    pub poc_st_curr_after: List<i32>,
    /// `PocLtCurr` (8-5): a full POC when `delta_poc_msb_present_flag`,
    /// else only its `pic_order_cnt_lsb`.
    pub poc_lt_curr: List<i32>,
    /// `NumPicTotalCurr` (7-55).
    pub num_pic_total_curr: u32,
}

/// The RPS of the current slice in derived form (8.3.2 inputs).
#[derive(Debug, Default, Clone)]
pub struct RpsInput {
    /// (`DeltaPocS0[i]`, `UsedByCurrPicS0[i]`)
    pub s0: List<(i32, bool)>,
    /// (`DeltaPocS1[i]`, `UsedByCurrPicS1[i]`)
    pub s1: List<(i32, bool)>,
    /// (`PocLsbLt[i]`, `UsedByCurrPicLt[i]`, `delta_poc_msb_present_flag[i]`, `DeltaPocMsbCycleLt[i]`)
    pub lt: List<(i32, bool, bool, i32)>,
}

/// 8.3.2: derives the RPS of the current picture (POC `poc`, slice
/// `pic_order_cnt_lsb`) and marks every DPB picture outside it "unused for
/// reference"; pictures of the long-term lists become long-term. Follows
/// GStreamer's `gst_h265_decoder_prepare_rps` / `derive_and_mark_rps`
/// (missing references stay `None`; [`active_refs`] stands in for 8.3.3).
pub fn derive_and_mark(
    dpb: &mut Dpb,
    nal_unit_type: u8,
    no_rasl_output_flag: bool,
    poc: i32,
    pic_order_cnt_lsb: i32,
    log2_max_poc_lsb: u32,
    rps: &RpsInput,
) -> RefPicSets {
    use super::parser::{is_idr, is_irap};
    if is_irap(nal_unit_type) && no_rasl_output_flag {
        dpb.mark_all_non_ref();
    }
    let mut out = RefPicSets::default();
    let mut poc_st_before = List::new();
    let mut poc_st_after = List::new();
    let mut poc_st_foll = List::new();
    let mut poc_lt_curr: List<(i32, bool)> = List::new();
    let mut poc_lt_foll: List<(i32, bool)> = List::new();
    if !is_idr(nal_unit_type) {
        let max = 1i64 << log2_max_poc_lsb.min(16);
        for &(d, used) in &rps.s0 {
            if used {
                poc_st_before.push(poc.wrapping_add(d));
                out.num_pic_total_curr += 1;
            } else {
                poc_st_foll.push(poc.wrapping_add(d));
            }
        }
        for &(d, used) in &rps.s1 {
            if used {
                poc_st_after.push(poc.wrapping_add(d));
                out.num_pic_total_curr += 1;
            } else {
                poc_st_foll.push(poc.wrapping_add(d));
            }
        }
        for &(lsb, used, msb_present, cycle) in &rps.lt {
            let mut p = lsb as i64;
            if msb_present {
                p += poc as i64 - cycle as i64 * max - pic_order_cnt_lsb as i64;
            }
            let p = p as i32;
            if used {
                out.num_pic_total_curr += 1;
                poc_lt_curr.push((p, msb_present));
            } else {
                poc_lt_foll.push((p, msb_present));
            }
        }
    }
    let lt_lookup = |dpb: &Dpb, (p, msb): (i32, bool)| {
        let i = if msb {
            dpb.find(|x| x.is_ref && x.poc == p)
        } else {
            dpb.find(|x| x.is_ref && x.poc_lsb == p)
        };
        i.map(|i| dpb.list[i].timestamp_ns)
    };
    out.lt_curr = poc_lt_curr.iter().map(|&x| lt_lookup(dpb, x)).collect();
    out.poc_lt_curr = poc_lt_curr.iter().map(|&(p, _)| p).collect();
    out.lt_foll = poc_lt_foll.iter().map(|&x| lt_lookup(dpb, x)).collect();
    for timestamp_ns in out.lt_curr.iter().chain(out.lt_foll.iter()).flatten() {
        if let Some(p) = dpb
            .list
            .iter_mut()
            .find(|p| p.timestamp_ns == *timestamp_ns)
        {
            p.is_ref = true;
            p.long_term = true;
        }
    }
    let st_lookup = |dpb: &Dpb, p: i32| {
        dpb.find(|x| x.is_ref && !x.long_term && x.poc == p)
            .map(|i| dpb.list[i].timestamp_ns)
    };
    out.st_curr_before = poc_st_before.iter().map(|&p| st_lookup(dpb, p)).collect();
    out.st_curr_after = poc_st_after.iter().map(|&p| st_lookup(dpb, p)).collect();
    out.st_foll = poc_st_foll.iter().map(|&p| st_lookup(dpb, p)).collect();
    out.poc_st_curr_before = poc_st_before;
    out.poc_st_curr_after = poc_st_after;
    // Pictures whose POC matches a picture found in any list stay referenced.
    let kept: SmallVec<[i32; 64]> = [
        &out.lt_curr,
        &out.lt_foll,
        &out.st_curr_after,
        &out.st_curr_before,
        &out.st_foll,
    ]
    .iter()
    .flat_map(|l| l.iter().flatten())
    .filter_map(|timestamp_ns| {
        dpb.list
            .iter()
            .find(|p| p.timestamp_ns == *timestamp_ns)
            .map(|p| p.poc)
    })
    .collect();
    for p in dpb.list.iter_mut() {
        if !kept.contains(&p.poc) {
            p.is_ref = false;
            p.long_term = false;
        }
    }
    out
}

/// `V4L2_HEVC_DPB_ENTRIES_NUM_MAX`: size of `v4l2_ctrl_hevc_decode_params.dpb[]`.
pub const DPB_ENTRIES_MAX: usize = 16;

/// One `dpb[]` entry of `v4l2_ctrl_hevc_decode_params`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefEntry {
    /// Timestamp (ns) of the CAPTURE buffer the device reads the samples from.
    pub timestamp_ns: u64,
    /// `PicOrderCntVal` the device is told (`pic_order_cnt_val`).
    pub poc: i32,
    /// "used for long-term reference" (`V4L2_HEVC_DPB_ENTRY_LONG_TERM_REFERENCE`).
    pub long_term: bool,
}

/// A picture generated for a missing reference of the current picture
/// (8.3.3.2 short-term / 8.3.3.3 long-term), whose samples are those of a
/// substitute DPB picture (see [`active_refs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    /// `PicOrderCntVal` of the generated picture: the missing
    /// `PocStCurrBefore[i]` / `PocStCurrAfter[i]` / `PocLtCurr[i]`.
    pub poc: i32,
    /// Marked "used for long-term reference" (it stands in for an `lt_curr` entry).
    pub long_term: bool,
    /// Timestamp (ns) of the substitute, the DPB picture with the nearest POC.
    pub substitute_timestamp_ns: u64,
    /// `PicOrderCntVal` of the substitute.
    pub substitute_poc: i32,
    /// Its index in [`ActiveRefs::entries`].
    pub index: u8,
    /// true: `entries[index]` is a new entry (missing POC, substitute's
    /// timestamp); false: `dpb[]` was already full (16 references) and
    /// `index` is the substitute's own entry, with its own POC.
    pub own_entry: bool,
}

/// The reference pictures the current picture sends: the `dpb[]` array and
/// the three "Curr" RPS lists as indices into it (what
/// `poc_st_curr_before` / `poc_st_curr_after` / `poc_lt_curr` and the
/// slices' `ref_idx_l0` / `ref_idx_l1` carry).
#[derive(Debug, Default, Clone)]
pub struct ActiveRefs {
    /// `dpb[]`: the DPB's reference pictures in DPB order (at most
    /// [`DPB_ENTRIES_MAX`]), then one entry per [`Generated`] picture.
    pub entries: List<RefEntry>,
    /// `RefPicSetStCurrBefore` as `entries` indices (`None`: 0xff).
    pub st_curr_before: List<Option<u8>>,
    /// `RefPicSetStCurrAfter` as `entries` indices.
    pub st_curr_after: List<Option<u8>>,
    /// `RefPicSetLtCurr` as `entries` indices.
    pub lt_curr: List<Option<u8>>,
    /// The pictures generated for missing "Curr" references (one per
    /// distinct missing POC and marking).
    pub generated: List<Generated>,
    /// `NumPicTotalCurr` (7-55).
    pub num_pic_total_curr: u32,
}

/// The `dpb[]` array and the "Curr" lists of the current picture, with
/// 8.3.3 "generation of unavailable reference pictures" for every entry of
/// `RefPicSetStCurrBefore`, `RefPicSetStCurrAfter` and `RefPicSetLtCurr`
/// that is "no reference picture" (8.3.2), in the form a stateless device
/// can use: the generated picture is a `dpb[]` entry with the missing POC
/// (short- or long-term as 8.3.3.2 / 8.3.3.3; it is never output and never
/// enters `dpb`, so it lives only as long as the current picture) whose
/// timestamp is that of the DPB picture with the nearest POC (ties: a
/// reference picture, then DPB order). Deviation from 8.3.3.2: the spec
/// fills the generated picture with mid-grey (`1 << (BitDepth - 1)`), but a
/// device can only read a CAPTURE buffer it decoded into, so the nearest
/// picture's samples stand in. FFmpeg (`libavcodec/hevc/refs.c`
/// `generate_missing_ref`) allocates a frame marked
/// `HEVC_FRAME_FLAG_UNAVAILABLE` for every missing entry, Foll lists
/// included, filled with mid-grey only for software decoding (with a
/// hwaccel its surface content is whatever the buffer held), and drops it
/// at the next picture's RPS derivation. The Foll lists are left alone
/// here: GStreamer 1.26 (the oracle) generates nothing, and valid streams
/// must keep its `dpb[]` exactly.
///
/// `dpb` is the DPB after C.5.2.2 (the current picture not in it); `refs`
/// from [`derive_and_mark`]. Returns `None` when a "Curr" reference is
/// missing and the DPB holds no picture at all to stand in for it.
pub fn active_refs(dpb: &Dpb, refs: &RefPicSets) -> Option<ActiveRefs> {
    let mut out = ActiveRefs {
        entries: dpb
            .list
            .iter()
            .filter(|p| p.is_ref)
            .take(DPB_ENTRIES_MAX)
            .map(|p| RefEntry {
                timestamp_ns: p.timestamp_ns,
                poc: p.poc,
                long_term: p.long_term,
            })
            .collect(),
        num_pic_total_curr: refs.num_pic_total_curr,
        ..Default::default()
    };
    let real = out.entries.len();
    let lists = [
        (&refs.st_curr_before, &refs.poc_st_curr_before, false),
        (&refs.st_curr_after, &refs.poc_st_curr_after, false),
        (&refs.lt_curr, &refs.poc_lt_curr, true),
    ];
    let mut idx: [List<Option<u8>>; 3] = Default::default();
    for (k, (list, pocs, long_term)) in lists.into_iter().enumerate() {
        for (i, r) in list.iter().enumerate() {
            let found = r.and_then(|timestamp_ns| {
                out.entries[..real]
                    .iter()
                    .position(|e| e.timestamp_ns == timestamp_ns)
            });
            if let Some(f) = found {
                idx[k].push(Some(f as u8));
                continue;
            }
            let Some(&poc) = pocs.get(i) else {
                idx[k].push(None);
                continue;
            };
            if let Some(g) = out
                .generated
                .iter()
                .find(|g| g.poc == poc && g.long_term == long_term)
            {
                idx[k].push(Some(g.index));
                continue;
            }
            let full = out.entries.len() >= DPB_ENTRIES_MAX;
            let sub = dpb
                .list
                .iter()
                .filter(|p| {
                    !full
                        || out.entries[..real]
                            .iter()
                            .any(|e| e.timestamp_ns == p.timestamp_ns)
                })
                .min_by_key(|p| ((i64::from(p.poc) - i64::from(poc)).abs(), !p.is_ref))?;
            let index = if full {
                out.entries[..real]
                    .iter()
                    .position(|e| e.timestamp_ns == sub.timestamp_ns)?
            } else {
                out.entries.push(RefEntry {
                    timestamp_ns: sub.timestamp_ns,
                    poc,
                    long_term,
                });
                out.entries.len() - 1
            } as u8;
            out.generated.push(Generated {
                poc,
                long_term,
                substitute_timestamp_ns: sub.timestamp_ns,
                substitute_poc: sub.poc,
                index,
                own_entry: !full,
            });
            idx[k].push(Some(index));
        }
    }
    let [before, after, lt] = idx;
    out.st_curr_before = before;
    out.st_curr_after = after;
    out.lt_curr = lt;
    Some(out)
}

/// 8.3.4 reference picture lists (GStreamer `process_ref_pic_lists`):
/// `num_active` entries of the cyclic concatenation of `first`, `second`
/// and `lt`, reordered by `list_entry` when given. Empty when the RPS has no
/// current pictures. `T` names a picture (timestamp or `dpb[]` index).
pub fn ref_pic_list<T: Copy>(
    first: &[Option<T>],
    second: &[Option<T>],
    lt: &[Option<T>],
    num_active: usize,
    num_pic_total_curr: usize,
    list_entry: Option<&[u32]>,
) -> List<Option<T>> {
    let total = first.len() + second.len() + lt.len();
    if total == 0 {
        return List::new();
    }
    let n = num_active.max(num_pic_total_curr).min(64);
    let mut tmp: SmallVec<[Option<T>; 64]> = SmallVec::new();
    while tmp.len() < n {
        for x in first.iter().chain(second).chain(lt) {
            if tmp.len() >= n {
                break;
            }
            tmp.push(*x);
        }
    }
    (0..num_active.min(16))
        .map(|i| match list_entry {
            Some(e) => e
                .get(i)
                .and_then(|&k| tmp.get(k as usize).copied().flatten()),
            None => tmp.get(i).copied().flatten(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pic(timestamp_ns: u64, poc: i32, output: bool) -> Picture {
        Picture {
            timestamp_ns,
            poc,
            poc_lsb: poc,
            output_flag: output,
            ..Default::default()
        }
    }

    #[test]
    fn poc_msb_wraps_forward_and_backward() {
        let mut st = PocState::default();
        let mk = |t: u8, lsb: i32| PocInput {
            nal_unit_type: t,
            temporal_id_plus1: 1,
            no_rasl_output_flag: t == 19,
            pic_order_cnt_lsb: lsb,
            log2_max_poc_lsb: 4,
        };
        assert_eq!(calculate_poc(&mut st, &mk(19, 0)).0, 0);
        assert_eq!(calculate_poc(&mut st, &mk(1, 8)).0, 8);
        assert_eq!(calculate_poc(&mut st, &mk(1, 14)).0, 14);
        // 14 -> 2: lsb wrapped (8-1): msb += 16
        assert_eq!(calculate_poc(&mut st, &mk(1, 2)).0, 18);
        // 2 -> 15 (diff 13 > 8): msb -= 16 -> 15 of the previous cycle
        assert_eq!(calculate_poc(&mut st, &mk(0, 15)).0, 15);
        // a TRAIL_N picture does not become prevTid0Pic: 2 stays the anchor
        assert_eq!(calculate_poc(&mut st, &mk(1, 4)).0, 20);
    }

    #[test]
    fn bumping_outputs_in_poc_order_and_swaps_slots() {
        let mut d = Dpb {
            max_num_pics: 4,
            ..Default::default()
        };
        d.add(pic(0, 0, true));
        d.add(pic(1, 8, true));
        d.add(pic(2, 4, true));
        assert!(d.needs_bump(2, 0, 0));
        let (p, left) = d.bump(false).unwrap();
        assert_eq!((p.poc, left), (0, false));
        // a non-reference picture leaves with remove_index_fast semantics
        d.list[1].is_ref = false;
        let (p, left) = d.bump(false).unwrap();
        assert_eq!((p.poc, left), (4, false));
        d.list[2].is_ref = false;
        let (p, left) = d.bump(false).unwrap();
        assert_eq!((p.poc, left), (8, true));
        assert_eq!(
            d.list.iter().map(|p| p.timestamp_ns).collect::<Vec<_>>(),
            vec![0, 2]
        );
        assert!(d.bump(false).is_none());
    }

    #[test]
    fn rps_marks_pictures_outside_it_unused() {
        let mut d = Dpb {
            max_num_pics: 5,
            ..Default::default()
        };
        for (timestamp_ns, poc) in [(0, 0), (1, 8), (2, 4)] {
            d.add(pic(timestamp_ns, poc, false));
        }
        let rps = RpsInput {
            s0: [(-4, true), (-12, false)].into_iter().collect(),
            s1: [(2, true)].into_iter().collect(),
            lt: List::new(),
        };
        let s = derive_and_mark(&mut d, 1, false, 12, 12, 8, &rps);
        assert_eq!(s.st_curr_before.to_vec(), vec![Some(1)]);
        assert_eq!(s.st_foll.to_vec(), vec![Some(0)]);
        assert_eq!(s.st_curr_after.to_vec(), vec![None]);
        assert_eq!(s.num_pic_total_curr, 2);
        assert!(d.list[0].is_ref && d.list[1].is_ref && !d.list[2].is_ref);
        let l0 = ref_pic_list(&s.st_curr_before, &s.st_curr_after, &s.lt_curr, 3, 2, None);
        assert_eq!(l0.to_vec(), vec![Some(1), None, Some(1)]);
    }

    fn refs_with(st_before: Vec<(Option<u64>, i32)>, lt: Vec<(Option<u64>, i32)>) -> RefPicSets {
        RefPicSets {
            num_pic_total_curr: (st_before.len() + lt.len()) as u32,
            st_curr_before: st_before.iter().map(|x| x.0).collect(),
            poc_st_curr_before: st_before.iter().map(|x| x.1).collect(),
            lt_curr: lt.iter().map(|x| x.0).collect(),
            poc_lt_curr: lt.iter().map(|x| x.1).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn missing_curr_references_get_an_entry_with_their_poc() {
        let mut d = Dpb {
            max_num_pics: 6,
            ..Default::default()
        };
        for (timestamp_ns, poc) in [(0, 0), (1000, 8), (3000, 4)] {
            d.add(pic(timestamp_ns, poc, false));
        }
        d.list[2].is_ref = false; // POC 4 waits for output only
                                  // POC 6 and 16 (twice) are missing; long-term POC 2 too.
        let refs = refs_with(
            vec![(Some(1000), 8), (None, 6), (None, 16), (None, 16)],
            vec![(None, 2)],
        );
        let a = active_refs(&d, &refs).unwrap();
        let e = |timestamp_ns, poc, long_term| RefEntry {
            timestamp_ns,
            poc,
            long_term,
        };
        assert_eq!(
            a.entries.to_vec(),
            vec![
                e(0, 0, false),
                e(1000, 8, false),
                // nearest POC to 6: 4 and 8 tie, the reference picture wins
                e(1000, 6, false),
                e(1000, 16, false),
                // nearest to 2: 0 and 4 tie, POC 0 is a reference
                e(0, 2, true),
            ]
        );
        assert_eq!(
            a.st_curr_before.to_vec(),
            vec![Some(1), Some(2), Some(3), Some(3)]
        );
        assert_eq!(a.lt_curr.to_vec(), vec![Some(4)]);
        assert_eq!(a.generated.len(), 3);
        assert!(a.generated.iter().all(|g| g.own_entry));
        // a non-reference picture stands in when it is nearest
        let a = active_refs(&d, &refs_with(vec![(None, 5)], vec![])).unwrap();
        assert_eq!(a.entries[2], e(3000, 5, false));
        // nothing missing: the plain DPB list
        let a = active_refs(&d, &refs_with(vec![(Some(0), 0)], vec![])).unwrap();
        assert_eq!(a.entries.len(), 2);
        assert!(a.generated.is_empty());
    }

    #[test]
    fn missing_reference_with_an_empty_or_full_dpb() {
        let mut d = Dpb {
            max_num_pics: 16,
            ..Default::default()
        };
        let refs = refs_with(vec![(None, 3)], vec![]);
        assert!(active_refs(&d, &refs).is_none(), "nothing to stand in");
        assert!(active_refs(&d, &RefPicSets::default()).is_some());
        for k in 0..16u64 {
            d.add(pic(k * 1000, 10 * k as i32, false));
        }
        // dpb[] full: the lists name the nearest picture's own entry
        let a = active_refs(&d, &refs_with(vec![(None, 32)], vec![])).unwrap();
        assert_eq!(a.entries.len(), 16);
        assert_eq!(a.st_curr_before.to_vec(), vec![Some(3)]);
        assert!(!a.generated[0].own_entry);
    }
}
