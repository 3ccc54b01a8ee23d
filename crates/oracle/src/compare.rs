//! Job-by-job comparison of two normalised traces (see [`super::normalise`]).
//!
//! Each side is read back into one field map per job, with the carried
//! sections (sps, pps, scaling_matrix) forwarded from the last job that set
//! them, so every job is compared on every field. A `# cap N of M jobs`
//! header (capped golden) limits the comparison to the first N jobs of both.

use std::collections::BTreeMap;
use std::fmt;

use super::known::{self, Fired, KnownDiffs};
use super::normalise::{in_section, CARRIED, MAGICS};

/// One job's fields in print order: (key, value).
pub type JobFields = Vec<(String, String)>;

/// A normalised trace read back.
#[derive(Debug, Clone, Default)]
pub struct Normalised {
    /// The first line (one of [`MAGICS`]: names the codec).
    pub magic: String,
    /// `# ` header lines (without the `# `).
    pub header: Vec<String>,
    /// Per job, the full field list (carried sections included).
    pub jobs: Vec<JobFields>,
    /// From a `# cap N of M jobs` header.
    pub cap: Option<usize>,
}

/// Bad normalised text: 1-based line and reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("normalised trace line {line}: {msg}")]
pub struct ReadError {
    pub line: usize,
    pub msg: String,
}

/// Reads normalised text (as written by [`super::normalise::normalise`]).
/// Jobs must appear in order 0, 1, 2, ...; unknown `#` lines are kept as header.
pub fn read(text: &str) -> Result<Normalised, ReadError> {
    let mut n = Normalised::default();
    let mut carried: BTreeMap<&'static str, JobFields> = BTreeMap::new();
    let mut cur: Option<(usize, JobFields)> = None;
    let mut saw_magic = false;
    let finish = |cur: &mut Option<(usize, JobFields)>,
                  carried: &BTreeMap<&'static str, JobFields>,
                  jobs: &mut Vec<JobFields>| {
        if let Some((_, own)) = cur.take() {
            let mut all: JobFields = Vec::new();
            for sec in CARRIED {
                if let Some(f) = carried.get(sec) {
                    all.extend(f.iter().cloned());
                }
            }
            all.extend(own);
            jobs.push(all);
        }
    };
    for (i, line) in text.lines().enumerate() {
        let ln = i + 1;
        if let Some(h) = line.strip_prefix('#') {
            if MAGICS.contains(&line) {
                saw_magic = true;
                n.magic = line.to_string();
                continue;
            }
            let h = h.trim_start().to_string();
            if let Some(rest) = h.strip_prefix("cap ") {
                n.cap = rest.split_whitespace().next().and_then(|v| v.parse().ok());
            }
            n.header.push(h);
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let err = |msg: &str| ReadError {
            line: ln,
            msg: msg.to_string(),
        };
        let rest = line
            .strip_prefix("job ")
            .ok_or_else(|| err("expected `job J key = value`"))?;
        let (num, kv) = rest
            .split_once(' ')
            .ok_or_else(|| err("expected `job J key = value`"))?;
        let j: usize = num.parse().map_err(|_| err("bad job number"))?;
        let (key, val) = kv.split_once(" = ").ok_or_else(|| err("expected ` = `"))?;
        match &cur {
            Some((cj, _)) if *cj == j => {}
            _ => {
                finish(&mut cur, &carried, &mut n.jobs);
                if j != n.jobs.len() {
                    return Err(err(&format!(
                        "job {j} out of order (expected {})",
                        n.jobs.len()
                    )));
                }
                cur = Some((j, Vec::new()));
            }
        }
        let (_, own) = cur.as_mut().expect("set above");
        if let Some(sec) = CARRIED.iter().find(|s| key == **s) {
            carried.insert(sec, vec![(key.to_string(), val.to_string())]);
            continue;
        }
        if let Some(sec) = CARRIED.iter().find(|s| in_section(key, s)) {
            carried
                .entry(sec)
                .or_default()
                .push((key.to_string(), val.to_string()));
            continue;
        }
        own.push((key.to_string(), val.to_string()));
    }
    finish(&mut cur, &carried, &mut n.jobs);
    if !saw_magic {
        return Err(ReadError {
            line: 1,
            msg: format!(
                "not a normalised trace (no `{}` line)",
                MAGICS.join("` / `")
            ),
        });
    }
    Ok(n)
}

/// The first field where two jobs disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDiff {
    pub job: usize,
    pub key: String,
    /// `None`: the field is absent on that side.
    pub a: Option<String>,
    pub b: Option<String>,
}

impl fmt::Display for FieldDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
        write!(
            f,
            "job {} {}: {} vs {}",
            self.job,
            self.key,
            s(&self.a),
            s(&self.b)
        )
    }
}

/// Result of comparing side A (reference, e.g. GStreamer) with side B (ours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Jobs with identical fields among the first `min(a_jobs, b_jobs)`.
    pub equal: usize,
    pub a_jobs: usize,
    pub b_jobs: usize,
    /// First differing field, in job order.
    pub first_diff: Option<FieldDiff>,
}

impl Comparison {
    /// All jobs equal and same job count.
    pub fn ok(&self) -> bool {
        self.first_diff.is_none() && self.a_jobs == self.b_jobs
    }
    /// The `M` of `equal N/M jobs`: the larger job count.
    pub fn total(&self) -> usize {
        self.a_jobs.max(self.b_jobs)
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "equal {}/{} jobs", self.equal, self.total())?;
        if self.a_jobs != self.b_jobs {
            write!(f, "; job count {} vs {}", self.a_jobs, self.b_jobs)?;
        }
        if let Some(d) = &self.first_diff {
            write!(f, "; first difference: {d}")?;
        }
        Ok(())
    }
}

fn diff_job(job: usize, a: &JobFields, b: &JobFields) -> Option<FieldDiff> {
    let bm: BTreeMap<&str, &str> = b.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let am: BTreeMap<&str, &str> = a.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for (k, v) in a {
        match bm.get(k.as_str()) {
            Some(bv) if *bv == v => {}
            other => {
                return Some(FieldDiff {
                    job,
                    key: k.clone(),
                    a: Some(v.clone()),
                    b: other.map(|s| s.to_string()),
                })
            }
        }
    }
    for (k, v) in b {
        if !am.contains_key(k.as_str()) {
            return Some(FieldDiff {
                job,
                key: k.clone(),
                a: None,
                b: Some(v.clone()),
            });
        }
    }
    None
}

/// Compares A (reference) with B job by job. A cap on either side limits
/// both to the smaller cap.
pub fn compare(a: &Normalised, b: &Normalised) -> Comparison {
    compare_with(a, b, None)
}

/// [`compare`] with field-level known differences (see [`super::known`]):
/// in each job, a listed field whose difference its rule tolerates counts as
/// equal, and the row is counted in `fired`; every other field must be
/// equal.
pub fn compare_known(
    a: &Normalised,
    b: &Normalised,
    known: &KnownDiffs,
    fired: &mut Fired,
) -> Comparison {
    compare_with(a, b, Some((known, fired)))
}

fn compare_with(
    a: &Normalised,
    b: &Normalised,
    mut known: Option<(&KnownDiffs, &mut Fired)>,
) -> Comparison {
    let cap = match (a.cap, b.cap) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    };
    let an = cap.map_or(a.jobs.len(), |c| c.min(a.jobs.len()));
    let bn = cap.map_or(b.jobs.len(), |c| c.min(b.jobs.len()));
    let mut equal = 0;
    let mut first_diff = None;
    if a.magic != b.magic {
        // traces of different codecs: nothing compares
        return Comparison {
            equal: 0,
            a_jobs: an,
            b_jobs: bn,
            first_diff: Some(FieldDiff {
                job: 0,
                key: "codec".into(),
                a: Some(a.magic.clone()),
                b: Some(b.magic.clone()),
            }),
        };
    }
    let codec = known::codec_of_magic(&a.magic).unwrap_or("");
    for j in 0..an.min(bn) {
        let d = match known.as_mut() {
            None => diff_job(j, &a.jobs[j], &b.jobs[j]),
            Some((k, fired)) => {
                let mut bj = b.jobs[j].clone();
                known::apply_job(k, codec, &a.jobs[j], &mut bj, fired);
                diff_job(j, &a.jobs[j], &bj)
            }
        };
        match d {
            None => equal += 1,
            Some(d) => {
                if first_diff.is_none() {
                    first_diff = Some(d);
                }
            }
        }
    }
    Comparison {
        equal,
        a_jobs: an,
        b_jobs: bn,
        first_diff,
    }
}

/// The fields whose values give a job's coded size, per codec (first line
/// of the normalised text): a new sequence with a new size starts where they
/// change. H.264: SPS `pic_width_in_mbs_minus1`,
/// `pic_height_in_map_units_minus1` (7.4.2.1.1); HEVC: SPS
/// `pic_width/height_in_luma_samples` (7.4.3.2.1); VP9: the frame's
/// `frame_width/height_minus_1` (7.2: a size change without a key frame is
/// reference scaling, which `tests/oracle/segment.py` refuses to cut).
fn size_keys(magic: &str) -> &'static [&'static str] {
    use super::normalise::{MAGIC_HEVC, MAGIC_MPEG2, MAGIC_VP8, MAGIC_VP9};
    if magic == MAGIC_VP8 {
        // RFC 6386 9.2: the key frame's size (inter frames repeat it)
        &["frame.width", "frame.height"]
    } else if magic == MAGIC_MPEG2 {
        // ISO/IEC 13818-2 6.3.3: the sequence header's size
        &["sequence.horizontal_size", "sequence.vertical_size"]
    } else if magic == MAGIC_HEVC {
        &[
            "sps.pic_width_in_luma_samples",
            "sps.pic_height_in_luma_samples",
        ]
    } else if magic == MAGIC_VP9 {
        &["frame.frame_width_minus_1", "frame.frame_height_minus_1"]
    } else {
        &[
            "sps.pic_width_in_mbs_minus1",
            "sps.pic_height_in_map_units_minus1",
        ]
    }
}

fn field<'a>(job: &'a JobFields, key: &str) -> Option<&'a str> {
    job.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Job indices where a new sequence with a new size starts (always 0 first):
/// the jobs whose size fields (`size_keys`) differ from the previous job's.
/// These are the points where `tests/oracle/segment.py` cuts a clip (it cuts
/// at the key frame / IDR / IRAP whose sequence has a new size; the first
/// job of that frame is the first with the new size).
pub fn sequence_starts(n: &Normalised) -> Vec<usize> {
    let keys = size_keys(&n.magic);
    let size = |j: &JobFields| -> Vec<Option<String>> {
        keys.iter()
            .map(|k| field(j, k).map(str::to_string))
            .collect()
    };
    let mut starts = Vec::new();
    let mut prev = None;
    for (i, j) in n.jobs.iter().enumerate() {
        let s = size(j);
        if prev.as_ref() != Some(&s) {
            starts.push(i);
        }
        prev = Some(s);
    }
    starts
}

/// Rewrites `pic P` (and the `picture` value) of one job so that decode
/// indices count from `base`: `pic P` → `pic P-base`; a picture decoded
/// before the segment (`P < base`, i.e. a reference reaching back across the
/// segment start) becomes `pic before-segment(P)`, which names nothing in a
/// segment golden and so always shows as a difference.
fn rebase_job(job: &JobFields, base: usize) -> JobFields {
    let re = |s: &str| -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find("pic ") {
            // a token boundary before `pic ` (not `..._pic `)
            let boundary = i == 0
                || !rest.as_bytes()[i - 1].is_ascii_alphanumeric()
                    && rest.as_bytes()[i - 1] != b'_';
            out.push_str(&rest[..i + 4]);
            rest = &rest[i + 4..];
            let digits = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
            if boundary && digits > 0 {
                if let Ok(p) = rest[..digits].parse::<usize>() {
                    if p >= base {
                        out.push_str(&(p - base).to_string());
                    } else {
                        out.push_str(&format!("before-segment({p})"));
                    }
                    rest = &rest[digits..];
                }
            }
        }
        out.push_str(rest);
        out
    };
    job.iter()
        .map(|(k, v)| {
            if k == "picture" {
                let v = match v.parse::<usize>() {
                    Ok(p) if p >= base => (p - base).to_string(),
                    Ok(p) => format!("before-segment({p})"),
                    Err(_) => v.clone(),
                };
                (k.clone(), v)
            } else {
                (re(k), re(v))
            }
        })
        .collect()
}

/// Splits a whole-clip normalised trace at [`sequence_starts`] into one
/// [`Normalised`] per sequence, decode indices re-based per segment
/// (`base` = the pictures decoded before it; see `rebase_job`), as if each
/// sequence had been decoded from a fresh start. Header and magic are kept;
/// a cap is dropped (the whole trace is split).
pub fn split_sequences(n: &Normalised) -> Vec<Normalised> {
    let starts = sequence_starts(n);
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(n.jobs.len());
        let base = n.jobs[..s]
            .iter()
            .filter_map(|j| field(j, "picture").and_then(|p| p.parse::<usize>().ok()))
            .map(|p| p + 1)
            .max()
            .unwrap_or(0);
        out.push(Normalised {
            magic: n.magic.clone(),
            header: n.header.clone(),
            jobs: n.jobs[s..e].iter().map(|j| rebase_job(j, base)).collect(),
            cap: None,
        });
    }
    out
}

/// Result of comparing per-segment references (goldens of the clip cut at
/// its sequence starts, each decoded from a fresh start) with one
/// whole-clip trace of ours split by [`split_sequences`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentComparison {
    /// Per segment (in order), the comparison of reference k with our
    /// sequence k; a side that lacks segment k counts as 0 jobs there.
    pub segments: Vec<Comparison>,
    /// Number of reference segments and of sequences found in ours.
    pub a_segments: usize,
    pub b_segments: usize,
    /// First job of each of our sequences in the whole trace.
    pub b_starts: Vec<usize>,
}

impl SegmentComparison {
    /// Same segment count, every segment [`Comparison::ok`].
    pub fn ok(&self) -> bool {
        self.a_segments == self.b_segments && self.segments.iter().all(Comparison::ok)
    }
    /// Jobs equal over all segments.
    pub fn equal(&self) -> usize {
        self.segments.iter().map(|c| c.equal).sum()
    }
    /// Sum over segments of the larger job count.
    pub fn total(&self) -> usize {
        self.segments.iter().map(Comparison::total).sum()
    }
    /// Reference jobs over all segments.
    pub fn a_jobs(&self) -> usize {
        self.segments.iter().map(|c| c.a_jobs).sum()
    }
    /// One line per segment: `seg K (jobs S..E of ours): <comparison>`.
    pub fn per_segment(&self) -> Vec<String> {
        self.segments
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let at = self
                    .b_starts
                    .get(k)
                    .map(|s| format!(" (ours from job {s})"))
                    .unwrap_or_default();
                format!("seg {k:02}{at}: {c}")
            })
            .collect()
    }
}

impl fmt::Display for SegmentComparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "equal {}/{} jobs ({} segments)",
            self.equal(),
            self.total(),
            self.a_segments
        )?;
        if self.a_segments != self.b_segments {
            write!(
                f,
                "; {} reference segments vs {} sequences in ours (at jobs {:?})",
                self.a_segments, self.b_segments, self.b_starts
            )?;
        }
        if let Some((k, c)) = self.segments.iter().enumerate().find(|(_, c)| !c.ok()) {
            write!(f, "; seg {k:02}: {c}")?;
        }
        Ok(())
    }
}

/// Compares reference segments `a` (in clip order) with our whole-clip trace
/// `b`, split at its sequence starts ([`split_sequences`]); segment k of
/// both sides is compared with [`compare`] (job numbers in differences are
/// per segment).
pub fn compare_segments(a: &[Normalised], b: &Normalised) -> SegmentComparison {
    compare_segments_with(a, b, None)
}

/// [`compare_segments`] with field-level known differences, as
/// [`compare_known`] (the counts of all segments go to `fired`).
pub fn compare_segments_known(
    a: &[Normalised],
    b: &Normalised,
    known: &KnownDiffs,
    fired: &mut Fired,
) -> SegmentComparison {
    compare_segments_with(a, b, Some((known, fired)))
}

fn compare_segments_with(
    a: &[Normalised],
    b: &Normalised,
    mut known: Option<(&KnownDiffs, &mut Fired)>,
) -> SegmentComparison {
    let bs = split_sequences(b);
    let n = a.len().max(bs.len());
    let empty = |m: &str| Normalised {
        magic: m.to_string(),
        ..Default::default()
    };
    let segments = (0..n)
        .map(|k| {
            let ea = empty(&b.magic);
            let eb = empty(a.first().map_or("", |x| x.magic.as_str()));
            let (x, y) = (a.get(k).unwrap_or(&ea), bs.get(k).unwrap_or(&eb));
            match known.as_mut() {
                None => compare(x, y),
                Some((kd, fired)) => compare_known(x, y, kd, fired),
            }
        })
        .collect();
    SegmentComparison {
        segments,
        a_segments: a.len(),
        b_segments: bs.len(),
        b_starts: sequence_starts(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::normalise::{MAGIC, MAGIC_VP9};

    fn text(body: &str) -> String {
        format!("{MAGIC}\n{body}")
    }

    #[test]
    fn different_codecs_never_compare_equal() {
        let a = read(&text("job 0 x = 1\n")).unwrap();
        let b = read(&format!("{MAGIC_VP9}\njob 0 x = 1\n")).unwrap();
        let c = compare(&a, &b);
        assert!(!c.ok());
        assert_eq!(c.first_diff.unwrap().key, "codec");
    }

    #[test]
    fn carried_sections_are_forwarded() {
        let a = read(&text(
            "job 0 picture = 0\njob 0 sps = set\njob 0 sps.level_idc = 30\njob 0 x = 1\njob 1 picture = 1\njob 1 x = 2\n",
        ))
        .unwrap();
        assert_eq!(a.jobs.len(), 2);
        assert!(a.jobs[1].contains(&("sps.level_idc".to_string(), "30".to_string())));
        // same values, sps re-sent at job 1: still equal
        let b = read(&text(
            "job 0 picture = 0\njob 0 sps = set\njob 0 sps.level_idc = 30\njob 0 x = 1\njob 1 picture = 1\njob 1 sps = set\njob 1 sps.level_idc = 30\njob 1 x = 2\n",
        ))
        .unwrap();
        let c = compare(&a, &b);
        assert!(c.ok(), "{c}");
        assert_eq!(c.to_string(), "equal 2/2 jobs");
    }

    #[test]
    fn first_difference_and_counts() {
        let a = read(&text("job 0 x = 1\njob 1 x = 2\njob 2 x = 3\n")).unwrap();
        let b = read(&text("job 0 x = 1\njob 1 x = 5\n")).unwrap();
        let c = compare(&a, &b);
        assert!(!c.ok());
        assert_eq!(c.equal, 1);
        assert_eq!(
            c.to_string(),
            "equal 1/3 jobs; job count 3 vs 2; first difference: job 1 x: 2 vs 5"
        );
        let b2 = read(&text("job 0 x = 1\njob 0 y = 1\n")).unwrap();
        let d = compare(&a, &b2).first_diff.unwrap();
        assert_eq!(
            (d.key.as_str(), d.a, d.b),
            ("y", None, Some("1".to_string()))
        );
    }

    #[test]
    fn cap_limits_both_sides() {
        let a = read(&text("# cap 1 of 3 jobs\njob 0 x = 1\n")).unwrap();
        let b = read(&text("job 0 x = 1\njob 1 x = 2\n")).unwrap();
        assert!(compare(&a, &b).ok());
    }

    fn vp9(body: &str) -> Normalised {
        read(&format!("{MAGIC_VP9}\n{body}")).unwrap()
    }

    fn vp9_job(j: usize, pic: usize, w: u32, refs: Option<usize>) -> String {
        let mut s = format!(
            "job {j} picture = {pic}\njob {j} frame.frame_width_minus_1 = {w}\njob {j} frame.frame_height_minus_1 = 9\n"
        );
        if let Some(r) = refs {
            s.push_str(&format!("job {j} frame.last_frame = pic {r}\n"));
        }
        s
    }

    #[test]
    fn segments_split_at_size_changes_and_rebase() {
        // ours: 3 frames at width 10, then 2 at width 20 referencing the new key frame
        let ours = vp9(&[
            vp9_job(0, 0, 9, None),
            vp9_job(1, 1, 9, Some(0)),
            vp9_job(2, 2, 9, Some(1)),
            vp9_job(3, 3, 19, None),
            vp9_job(4, 4, 19, Some(3)),
        ]
        .concat());
        assert_eq!(sequence_starts(&ours), vec![0, 3]);
        let g0 = vp9(&[
            vp9_job(0, 0, 9, None),
            vp9_job(1, 1, 9, Some(0)),
            vp9_job(2, 2, 9, Some(1)),
        ]
        .concat());
        let g1 = vp9(&[vp9_job(0, 0, 19, None), vp9_job(1, 1, 19, Some(0))].concat());
        let c = compare_segments(&[g0.clone(), g1.clone()], &ours);
        assert!(c.ok(), "{c}");
        assert_eq!(c.to_string(), "equal 5/5 jobs (2 segments)");
        // a reference reaching back across the segment start is a difference
        let bad = vp9(&[
            vp9_job(0, 0, 9, None),
            vp9_job(1, 1, 9, Some(0)),
            vp9_job(2, 2, 9, Some(1)),
            vp9_job(3, 3, 19, None),
            vp9_job(4, 4, 19, Some(2)),
        ]
        .concat());
        let c = compare_segments(&[g0.clone(), g1.clone()], &bad);
        assert!(!c.ok());
        assert_eq!(
            c.to_string(),
            "equal 4/5 jobs (2 segments); seg 01: equal 1/2 jobs; first difference: job 1 frame.last_frame: pic 0 vs pic before-segment(2)"
        );
        // a missing segment (no size change in ours) fails
        let c = compare_segments(&[g0.clone(), g1, g0.clone()], &ours);
        assert!(!c.ok());
        assert!(
            c.to_string()
                .contains("3 reference segments vs 2 sequences"),
            "{c}"
        );
    }

    #[test]
    fn rebase_touches_picture_tokens_only() {
        let j: JobFields = vec![
            ("picture".into(), "12".into()),
            (
                "dpb[pic 11]".into(),
                "pic_num 3 frame_num 11 flags VALID".into(),
            ),
            (
                "ref_pic_list0[0]".into(),
                "pic 10 fields TOP_FIELD_REF".into(),
            ),
            ("x".into(), "pic ts?".into()),
        ];
        let r = rebase_job(&j, 10);
        assert_eq!(
            r,
            vec![
                ("picture".to_string(), "2".to_string()),
                (
                    "dpb[pic 1]".to_string(),
                    "pic_num 3 frame_num 11 flags VALID".to_string()
                ),
                (
                    "ref_pic_list0[0]".to_string(),
                    "pic 0 fields TOP_FIELD_REF".to_string()
                ),
                ("x".to_string(), "pic ts?".to_string()),
            ]
        );
    }

    #[test]
    fn known_differences_tolerate_listed_fields_only() {
        let known = KnownDiffs::parse(
            "h264\tsps.level_idc\tignored\tVAPictureParameterBufferH264 has no level_idc\n\
             h264\tdecode_params.top_field_order_cnt\toffset\tclient POC offset\n\
             h264\tpps.pic_init_qs_minus26\tignored\tnever differs here\n\
             vp9\tframe.x\tignored\tanother codec\n",
        )
        .unwrap();
        // the SPS is sent once and carried: without the list every job differs
        let a = read(&text(
            "job 0 sps = set\njob 0 sps.level_idc = 30\njob 0 decode_params = set\njob 0 decode_params.top_field_order_cnt = 0\njob 0 x = 1\n\
             job 1 decode_params = set\njob 1 decode_params.top_field_order_cnt = 4\njob 1 x = 2\n",
        ))
        .unwrap();
        let b = read(&text(
            "job 0 sps = set\njob 0 sps.level_idc = 0\njob 0 decode_params = set\njob 0 decode_params.top_field_order_cnt = 65536\njob 0 x = 1\n\
             job 1 decode_params = set\njob 1 decode_params.top_field_order_cnt = 65540\njob 1 x = 2\n",
        ))
        .unwrap();
        assert_eq!(compare(&a, &b).equal, 0);
        let mut fired = Fired::default();
        let c = compare_known(&a, &b, &known, &mut fired);
        assert!(c.ok(), "{c}");
        assert_eq!(c.to_string(), "equal 2/2 jobs");
        assert_eq!(
            fired.describe(&known),
            "sps.level_idc (ignored) ×2; decode_params.top_field_order_cnt (offset) ×2 by +65536"
        );
        // the listed row that never fired is reported (the vp9 row is not:
        // no vp9 trace was compared)
        let never: Vec<&str> = fired
            .never(&known, &["h264"])
            .iter()
            .map(|r| r.field.as_str())
            .collect();
        assert_eq!(never, ["pps.pic_init_qs_minus26"]);
        // an unlisted field still fails, the listed ones still tolerated
        let b2 = read(&text(
            "job 0 sps = set\njob 0 sps.level_idc = 0\njob 0 decode_params = set\njob 0 decode_params.top_field_order_cnt = 65536\njob 0 x = 1\n\
             job 1 decode_params = set\njob 1 decode_params.top_field_order_cnt = 65540\njob 1 x = 3\n",
        ))
        .unwrap();
        let mut fired = Fired::default();
        let c = compare_known(&a, &b2, &known, &mut fired);
        assert!(!c.ok());
        assert_eq!(
            c.to_string(),
            "equal 1/2 jobs; first difference: job 1 x: 2 vs 3"
        );
        // segments: the counts of every segment are summed
        let mut fired = Fired::default();
        let s = compare_segments_known(std::slice::from_ref(&a), &b, &known, &mut fired);
        assert!(s.ok(), "{s}");
        assert_eq!(fired.rows[&0].jobs, 2);
    }

    #[test]
    fn bad_text_is_an_error() {
        assert!(read("job 0 x = 1\n").is_err());
        assert!(read(&text("job 1 x = 1\n")).is_err());
        assert!(read(&text("jab 0 x = 1\n")).is_err());
    }
}
