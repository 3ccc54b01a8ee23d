//! MPEG-2 reference pictures and output order, as GStreamer 1.26's
//! `GstMpeg2Dpb` (`gstmpeg2picture.c`) and `gstmpeg2decoder.c` keep them:
//! at most two reference pictures (I / P) plus the picture just decoded; a
//! new picture bumps the waiting one with the lowest display order, so B
//! pictures go straight out and a reference waits for the next reference
//! (ISO/IEC 13818-2's frame reordering). Display order is
//! `pic_order_cnt`, counted from the GOP-relative `temporal_reference`
//! ([`GopPoc`]).

/// A decoded picture the DPB tracks.
#[derive(Debug, Clone, Copy)]
pub struct Pic {
    /// OUTPUT/CAPTURE buffer timestamp (ns) the picture was decoded with.
    pub timestamp_ns: u64,
    /// Display order ([`GopPoc::poc`]).
    pub poc: u64,
    /// An I or P picture (a reference for later pictures).
    pub is_ref: bool,
    /// Waiting for output.
    pub needed_for_output: bool,
    /// Shown (false: decode-only B).
    pub visible: bool,
    /// Presentation time (ns).
    pub pts_ns: i64,
}

/// `gstmpeg2picture.c`'s DPB: up to two references plus the new picture.
#[derive(Debug, Default)]
pub struct Dpb {
    refs: [Option<Pic>; 2],
    num_refs: usize,
    new_pic: Option<Pic>,
}

impl Dpb {
    fn add_to_reference(&mut self, pic: Pic) {
        let mut index = None;
        if self.num_refs == 2 {
            let (a, b) = (self.refs[0].unwrap(), self.refs[1].unwrap());
            let i = usize::from(a.poc > b.poc);
            if self.refs[i].unwrap().poc > pic.poc {
                return;
            }
            index = Some(i);
        }
        let i = index.unwrap_or_else(|| {
            self.num_refs += 1;
            self.num_refs - 1
        });
        self.refs[i] = Some(pic);
    }

    /// `gst_mpeg2_dpb_add`: a reference joins the references while there
    /// are fewer than two; anything else waits as the new picture.
    pub fn add(&mut self, pic: Pic) {
        if !pic.is_ref || self.num_refs == 2 {
            self.new_pic = Some(pic);
        } else {
            self.add_to_reference(pic);
        }
    }

    /// `gst_mpeg2_dpb_need_bump`: a new picture waits to be placed.
    pub fn need_bump(&self) -> bool {
        self.new_pic.is_some()
    }

    /// `gst_mpeg2_dpb_bump`: the lowest-poc picture waiting for output.
    pub fn bump(&mut self) -> Option<Pic> {
        let mut best: Option<(usize, u64)> = None; // 0,1 = refs; 2 = new_pic
        for (i, r) in self.refs.iter().enumerate() {
            if let Some(r) = r {
                if r.needed_for_output && best.is_none_or(|(_, p)| p > r.poc) {
                    best = Some((i, r.poc));
                }
            }
        }
        if let Some(n) = &self.new_pic {
            if n.needed_for_output && best.is_none_or(|(_, p)| p > n.poc) {
                best = Some((2, n.poc));
            }
        }
        let out = best.map(|(i, _)| {
            if i == 2 {
                self.new_pic.unwrap()
            } else {
                self.refs[i].unwrap()
            }
        });
        if let Some(n) = self.new_pic {
            if n.is_ref {
                let mut n = n;
                if out.is_some_and(|o| o.timestamp_ns == n.timestamp_ns) {
                    n.needed_for_output = false;
                }
                self.add_to_reference(n);
                self.new_pic = None;
            }
        }
        if let Some(o) = out {
            for r in self.refs.iter_mut().flatten() {
                if r.timestamp_ns == o.timestamp_ns {
                    r.needed_for_output = false;
                }
            }
            if self
                .new_pic
                .is_some_and(|n| n.timestamp_ns == o.timestamp_ns)
            {
                self.new_pic = None;
            }
        }
        out
    }

    /// `gst_mpeg2_dpb_get_neighbours`: the references before and after
    /// display order `poc` (the nearest of each side).
    pub fn neighbours(&self, poc: u64) -> (Option<Pic>, Option<Pic>) {
        let mut r: [Option<Pic>; 2] = [None, None];
        for p in self.refs.iter().flatten() {
            let idx = usize::from(p.poc > poc);
            let replace = match r[idx] {
                None => true,
                Some(cur) => (cur.poc > p.poc) == (idx == 1),
            };
            if replace {
                r[idx] = Some(*p);
            }
        }
        (r[0], r[1])
    }

    /// Whether the picture decoded with `timestamp_ns` is still held.
    pub fn holds(&self, timestamp_ns: u64) -> bool {
        self.refs
            .iter()
            .flatten()
            .any(|p| p.timestamp_ns == timestamp_ns)
            || self.new_pic.is_some_and(|p| p.timestamp_ns == timestamp_ns)
    }

    /// Empties the DPB (no output).
    pub fn clear(&mut self) {
        *self = Dpb::default();
    }
}

/// Display order across GOPs: `pic_order_cnt` = the GOP's base +
/// `temporal_reference` (6.3.9: the display position within the GOP); each
/// GOP header after a picture moves the base past the largest
/// `temporal_reference` seen since the previous one.
#[derive(Debug, Default)]
pub struct GopPoc {
    base: u64,
    max_tr: u64,
    seen_picture: bool,
}

impl GopPoc {
    /// A `group_of_pictures_header()` (6.2.2.6).
    pub fn new_gop(&mut self) {
        if self.seen_picture {
            self.base += self.max_tr + 1;
        }
        self.max_tr = 0;
        self.seen_picture = false;
    }

    /// The display order of a picture with this `temporal_reference`.
    pub fn poc(&mut self, temporal_reference: u16) -> u64 {
        let tr = temporal_reference as u64;
        self.seen_picture = true;
        if tr > self.max_tr {
            self.max_tr = tr;
        }
        self.base + tr
    }
}
