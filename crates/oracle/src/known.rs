//! Field-level known differences: the fields a VA-API client's requests
//! cannot reproduce (issue 11: ffmpeg through `vreq_drv_video.so` against
//! GStreamer's goldens), listed with their reason and how they are compared.
//!
//! The list is a TSV file (`tests/oracle/va-known-differences.tsv`), one row
//! per field: `codec<TAB>field<TAB>how<TAB>why`, `#` lines and blank lines
//! skipped.
//!
//! * `codec`: `h264`, `hevc`, `vp9`, `vp8`, `mpeg2` (the normalised trace's
//!   first line names it).
//! * `field`: a normalised key (`sps.level_idc`), or `KEY[]` for every
//!   indexed key of that name (`dpb[pic 3]`, `ref_pic_list0[0]`), or
//!   `KEY[].SUB` for the sub-field `SUB` of such a key's value, whose value
//!   is `name value name value ...` (`dpb[].top_field_order_cnt`).
//! * `how`:
//!   - `ignored`: any two values are tolerated (only for a field the VA
//!     structs lack entirely, that no kernel driver reads — say which in
//!     `why`);
//!   - `offset`: integer values equal up to one constant per job: every
//!     `offset` field of the codec present on both sides of a job must differ
//!     by the same amount (e.g. a client's POCs all shifted by 65536: the
//!     kernel and hardware only use POC differences, 8.2.1 / 8.2.4 / 8.4.1.2.3);
//!     a job where two of them differ by different amounts is a difference;
//!   - `subset`: flag sets (`A|B`) where ours must be a subset of the
//!     reference's (a flag VA cannot tell may be missing, none may be added);
//!   - `when COND or COND ...`: tolerated only in jobs where one of the
//!     conditions holds on the reference side: `KEY=V1|V2` (the value of
//!     `KEY` is one of those) or `KEY!=KEY2` (the two fields differ). E.g. a
//!     PPS default that a slice reads only when it does not override it:
//!     `when slice_params.slice_type=I|SI or
//!     slice_params.num_ref_idx_l0_active_minus1!=pps.num_ref_idx_l0_default_active_minus1`
//!     (I slices read no count; a final count other than the default means
//!     the slice overrode it, H.264 7.4.3).
//! * `why`: the reason, naming the VA header struct that lacks the field.
//!
//! A difference the list does not tolerate stays a difference: the job is
//! not equal. A field present on one side only is never tolerated. Each
//! tolerated difference is counted per row ([`Fired`]), so the report shows
//! which rows fired and which never did.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::compare::JobFields;
use super::normalise::{MAGIC, MAGIC_HEVC, MAGIC_MPEG2, MAGIC_VP8, MAGIC_VP9};

/// The codec name of a normalised trace's first line (`h264`, `hevc`, `vp9`,
/// `vp8`, `mpeg2`), or `None` for an unknown line.
pub fn codec_of_magic(magic: &str) -> Option<&'static str> {
    [
        (MAGIC, "h264"),
        (MAGIC_HEVC, "hevc"),
        (MAGIC_VP9, "vp9"),
        (MAGIC_VP8, "vp8"),
        (MAGIC_MPEG2, "mpeg2"),
    ]
    .iter()
    .find(|(m, _)| *m == magic)
    .map(|(_, c)| *c)
}

/// How a listed field is compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// Any two values.
    Ignored,
    /// Integers equal up to one constant per job (shared by every `offset`
    /// field of the codec).
    Offset,
    /// `|`-separated flag sets: ours ⊆ the reference's.
    Subset,
    /// Any two values, but only in jobs where one of the conditions holds
    /// on the reference side.
    When(Vec<Cond>),
}

/// A condition of [`How::When`], on the reference job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// `KEY=V1|V2`: the value of `key` is one of `values`.
    In { key: String, values: Vec<String> },
    /// `KEY!=KEY2`: both present, different values.
    Ne { key: String, other: String },
}

impl Cond {
    fn parse(s: &str) -> Option<Cond> {
        let ok = |k: &str| !k.is_empty() && !k.contains(char::is_whitespace);
        if let Some((k, o)) = s.split_once("!=") {
            return (ok(k) && ok(o)).then(|| Cond::Ne {
                key: k.to_string(),
                other: o.to_string(),
            });
        }
        let (k, v) = s.split_once('=')?;
        (ok(k) && ok(v)).then(|| Cond::In {
            key: k.to_string(),
            values: v.split('|').map(str::to_string).collect(),
        })
    }

    fn holds(&self, job: &BTreeMap<&str, &str>) -> bool {
        match self {
            Cond::In { key, values } => job
                .get(key.as_str())
                .is_some_and(|v| values.iter().any(|x| x == v)),
            Cond::Ne { key, other } => match (job.get(key.as_str()), job.get(other.as_str())) {
                (Some(x), Some(y)) => x != y,
                _ => false,
            },
        }
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cond::In { key, values } => write!(f, "{key}={}", values.join("|")),
            Cond::Ne { key, other } => write!(f, "{key}!={other}"),
        }
    }
}

impl fmt::Display for How {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            How::Ignored => write!(f, "ignored"),
            How::Offset => write!(f, "offset"),
            How::Subset => write!(f, "subset"),
            How::When(conds) => {
                let c: Vec<String> = conds.iter().map(Cond::to_string).collect();
                write!(f, "when {}", c.join(" or "))
            }
        }
    }
}

/// Which keys (and which part of their value) a row names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// The key itself.
    Exact(String),
    /// `PREFIX[...]`, the whole value (`sub` = None) or the sub-field `sub`.
    Indexed { prefix: String, sub: Option<String> },
}

impl Pattern {
    fn parse(s: &str) -> Option<Pattern> {
        if s.is_empty() || s.contains(char::is_whitespace) {
            return None;
        }
        match s.split_once("[]") {
            None => Some(Pattern::Exact(s.to_string())),
            Some((prefix, rest)) if !prefix.is_empty() => {
                let sub = match rest {
                    "" => None,
                    r => Some(r.strip_prefix('.').filter(|x| !x.is_empty())?.to_string()),
                };
                Some(Pattern::Indexed {
                    prefix: prefix.to_string(),
                    sub,
                })
            }
            _ => None,
        }
    }

    /// Whether `key` is one this pattern names.
    fn matches_key(&self, key: &str) -> bool {
        match self {
            Pattern::Exact(k) => k == key,
            Pattern::Indexed { prefix, .. } => key
                .strip_prefix(prefix.as_str())
                .is_some_and(|r| r.starts_with('[') && r.ends_with(']')),
        }
    }

    fn sub(&self) -> Option<&str> {
        match self {
            Pattern::Indexed { sub: Some(s), .. } => Some(s),
            _ => None,
        }
    }
}

/// One row of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDiff {
    /// 1-based line in the file.
    pub line: usize,
    pub codec: String,
    /// As written (`dpb[].top_field_order_cnt`).
    pub field: String,
    pub how: How,
    pub why: String,
    pattern: Pattern,
}

/// The parsed list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownDiffs {
    pub rows: Vec<KnownDiff>,
}

/// A bad line of the list: 1-based line and reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("known-differences line {line}: {msg}")]
pub struct ParseError {
    pub line: usize,
    pub msg: String,
}

const CODECS: [&str; 5] = ["h264", "hevc", "vp9", "vp8", "mpeg2"];

impl KnownDiffs {
    /// Parses the TSV text (format: the module docs).
    ///
    /// Errors: a row without four tab-separated columns, an unknown codec,
    /// a field that is not a key pattern, an unknown `how`, an empty `why`,
    /// or the same codec and field twice.
    pub fn parse(text: &str) -> Result<KnownDiffs, ParseError> {
        let mut rows: Vec<KnownDiff> = Vec::new();
        for (i, l) in text.lines().enumerate() {
            let line = i + 1;
            let err = |msg: String| ParseError { line, msg };
            if l.trim().is_empty() || l.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = l.split('\t').collect();
            let [codec, field, how, why] = cols[..] else {
                return Err(err(format!(
                    "expected 4 tab-separated columns (codec, field, how, why), got {}",
                    cols.len()
                )));
            };
            if !CODECS.contains(&codec) {
                return Err(err(format!(
                    "unknown codec `{codec}` ({})",
                    CODECS.join(", ")
                )));
            }
            let pattern = Pattern::parse(field).ok_or_else(|| {
                err(format!(
                    "bad field `{field}` (KEY, KEY[] or KEY[].SUB, no spaces)"
                ))
            })?;
            let how = match how {
                "ignored" => How::Ignored,
                "offset" => How::Offset,
                "subset" => How::Subset,
                w => {
                    let conds = w.strip_prefix("when ").ok_or_else(|| {
                        err(format!(
                            "unknown how `{w}` (ignored, offset, subset, when KEY=V1|V2 or KEY!=KEY2 ...)"
                        ))
                    })?;
                    How::When(
                        conds
                            .split(" or ")
                            .map(|c| {
                                Cond::parse(c.trim()).ok_or_else(|| {
                                    err(format!("bad condition `{c}` (KEY=V1|V2 or KEY!=KEY2)"))
                                })
                            })
                            .collect::<Result<_, _>>()?,
                    )
                }
            };
            if why.trim().is_empty() {
                return Err(err("empty reason".into()));
            }
            if rows.iter().any(|r| r.codec == codec && r.field == field) {
                return Err(err(format!("{codec} {field} listed twice")));
            }
            rows.push(KnownDiff {
                line,
                codec: codec.to_string(),
                field: field.to_string(),
                how,
                why: why.to_string(),
                pattern,
            });
        }
        Ok(KnownDiffs { rows })
    }
}

/// How often each row tolerated a difference: row index (into
/// [`KnownDiffs::rows`]) → jobs, and for `offset` rows the offsets seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fired {
    pub rows: BTreeMap<usize, FireCount>,
}

/// Jobs in which a row tolerated a difference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FireCount {
    pub jobs: usize,
    /// `offset` rows: the distinct offsets (ours − reference).
    pub offsets: BTreeSet<i64>,
}

impl Fired {
    /// Adds another comparison's counts.
    pub fn merge(&mut self, other: &Fired) {
        for (r, c) in &other.rows {
            let e = self.rows.entry(*r).or_default();
            e.jobs += c.jobs;
            e.offsets.extend(c.offsets.iter().copied());
        }
    }

    /// `field (how) ×N[, offsets +X]`, one per fired row, `; `-joined;
    /// `none` when nothing fired.
    pub fn describe(&self, known: &KnownDiffs) -> String {
        if self.rows.is_empty() {
            return "none".into();
        }
        self.rows
            .iter()
            .map(|(r, c)| {
                let row = &known.rows[*r];
                let mut s = format!("{} ({}) ×{}", row.field, row.how, c.jobs);
                if !c.offsets.is_empty() {
                    let o: Vec<String> = c.offsets.iter().map(|o| format!("{o:+}")).collect();
                    s.push_str(&format!(" by {}", o.join(", ")));
                }
                s
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The rows of `codecs` that tolerated nothing (a listed difference that
    /// did not occur: the report prints them, so rows that no longer fire —
    /// the driver learnt the field — are noticed and deleted).
    pub fn never<'a>(&self, known: &'a KnownDiffs, codecs: &[&str]) -> Vec<&'a KnownDiff> {
        known
            .rows
            .iter()
            .enumerate()
            .filter(|(i, r)| codecs.contains(&r.codec.as_str()) && !self.rows.contains_key(i))
            .map(|(_, r)| r)
            .collect()
    }
}

/// The value of sub-field `sub` in `name value name value ...`.
fn sub_value<'a>(v: &'a str, sub: &str) -> Option<&'a str> {
    let t: Vec<&str> = v.split(' ').collect();
    t.chunks(2)
        .find(|c| c.len() == 2 && c[0] == sub)
        .map(|c| c[1])
}

/// `v` with sub-field `sub` set to `new`.
fn set_sub_value(v: &str, sub: &str, new: &str) -> String {
    let t: Vec<&str> = v.split(' ').collect();
    t.chunks(2)
        .map(|c| {
            if c.len() == 2 && c[0] == sub {
                format!("{} {new}", c[0])
            } else {
                c.join(" ")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One place a row names in a job: the key and the two values there.
struct Site {
    row: usize,
    key: String,
    sub: Option<String>,
    a: String,
    b: String,
}

/// Applies the rows of `codec` to one job: wherever a listed field differs
/// and its rule tolerates the difference, ours (`b`) takes the reference's
/// value, so that the ordinary comparison sees it equal; each tolerating row
/// is counted once for the job in `fired`. Differences the rules do not
/// tolerate are left as they are.
pub fn apply_job(
    known: &KnownDiffs,
    codec: &str,
    a: &JobFields,
    b: &mut JobFields,
    fired: &mut Fired,
) {
    let am: BTreeMap<&str, &str> = a.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // every (row, key[, sub]) present on both sides
    let mut sites: Vec<Site> = Vec::new();
    for (ri, row) in known.rows.iter().enumerate() {
        if row.codec != codec {
            continue;
        }
        for (k, bv) in b.iter() {
            if !row.pattern.matches_key(k) {
                continue;
            }
            let Some(av) = am.get(k.as_str()) else {
                continue;
            };
            let (av, bv) = match row.pattern.sub() {
                None => (av.to_string(), bv.clone()),
                Some(s) => match (sub_value(av, s), sub_value(bv, s)) {
                    (Some(x), Some(y)) => (x.to_string(), y.to_string()),
                    _ => continue,
                },
            };
            sites.push(Site {
                row: ri,
                key: k.clone(),
                sub: row.pattern.sub().map(str::to_string),
                a: av,
                b: bv,
            });
        }
    }
    // which differing sites are tolerated
    let mut ok: Vec<bool> = vec![false; sites.len()];
    let mut offset_of_job: Option<i64> = None;
    let offsets: Vec<(usize, Option<i64>)> = sites
        .iter()
        .enumerate()
        .filter(|(_, s)| known.rows[s.row].how == How::Offset)
        .map(|(i, s)| {
            let d = match (s.a.parse::<i64>(), s.b.parse::<i64>()) {
                (Ok(x), Ok(y)) => y.checked_sub(x),
                _ => None,
            };
            (i, d)
        })
        .collect();
    if offsets.iter().any(|(i, _)| sites[*i].a != sites[*i].b) {
        // one offset for every offset field of the job, else none tolerated
        let first = offsets[0].1;
        if first.is_some() && offsets.iter().all(|(_, d)| *d == first) {
            offset_of_job = first;
            for (i, _) in &offsets {
                ok[*i] = true;
            }
        }
    }
    for (i, s) in sites.iter().enumerate() {
        if s.a == s.b {
            continue;
        }
        match &known.rows[s.row].how {
            How::Offset => {}
            How::Ignored => ok[i] = true,
            How::Subset => {
                let set = |v: &str| -> BTreeSet<String> {
                    v.split('|')
                        .map(str::trim)
                        .filter(|f| !f.is_empty())
                        .map(str::to_string)
                        .collect()
                };
                ok[i] = set(&s.b).is_subset(&set(&s.a));
            }
            How::When(conds) => ok[i] = conds.iter().any(|c| c.holds(&am)),
        }
    }
    let mut rows_fired: BTreeSet<usize> = BTreeSet::new();
    for (i, s) in sites.iter().enumerate() {
        if s.a == s.b || !ok[i] {
            continue;
        }
        rows_fired.insert(s.row);
        if let Some((_, v)) = b.iter_mut().find(|(k, _)| *k == s.key) {
            *v = match &s.sub {
                None => s.a.clone(),
                Some(sub) => set_sub_value(v, sub, &s.a),
            };
        }
    }
    for r in rows_fired {
        let e = fired.rows.entry(r).or_default();
        e.jobs += 1;
        if known.rows[r].how == How::Offset {
            if let Some(o) = offset_of_job {
                e.offsets.insert(o);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jf(pairs: &[(&str, &str)]) -> JobFields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const LIST: &str = "# codec\tfield\thow\twhy\n\
        h264\tsps.level_idc\tignored\tVAPictureParameterBufferH264 has no level_idc\n\
        h264\tsps.constraint_set_flags\tsubset\tVA has only the profile\n\
        h264\tdecode_params.top_field_order_cnt\toffset\tclient POC offset\n\
        h264\tdpb[].top_field_order_cnt\toffset\tclient POC offset\n\
        h264\tpps.num_ref_idx_l0_default_active_minus1\twhen slice_params.slice_type=I|SI or slice_params.num_ref_idx_l0_active_minus1!=pps.num_ref_idx_l0_default_active_minus1\tno PPS defaults in VA\n\
        hevc\tsps.x\tignored\tunused here\n";

    #[test]
    fn parses_rows_and_refuses_bad_lines() {
        let k = KnownDiffs::parse(LIST).unwrap();
        assert_eq!(k.rows.len(), 6);
        assert_eq!(k.rows[0].line, 2);
        assert_eq!(
            k.rows[4].how,
            How::When(vec![
                Cond::In {
                    key: "slice_params.slice_type".into(),
                    values: vec!["I".into(), "SI".into()]
                },
                Cond::Ne {
                    key: "slice_params.num_ref_idx_l0_active_minus1".into(),
                    other: "pps.num_ref_idx_l0_default_active_minus1".into()
                }
            ])
        );
        assert_eq!(
            k.rows[4].how.to_string(),
            "when slice_params.slice_type=I|SI or slice_params.num_ref_idx_l0_active_minus1!=pps.num_ref_idx_l0_default_active_minus1"
        );
        for (bad, what) in [
            ("h264\tsps.level_idc\tignored\n", "4 tab-separated"),
            ("av1\tsps.level_idc\tignored\twhy\n", "unknown codec"),
            ("h264\tsps level\tignored\twhy\n", "bad field"),
            ("h264\t[].x\tignored\twhy\n", "bad field"),
            ("h264\tdpb[].\tignored\twhy\n", "bad field"),
            ("h264\tsps.level_idc\tsometimes\twhy\n", "unknown how"),
            ("h264\tsps.level_idc\twhen x\twhy\n", "bad condition"),
            (
                "h264\tsps.level_idc\twhen a=1 or b!=\twhy\n",
                "bad condition",
            ),
            ("h264\tsps.level_idc\tignored\t \n", "empty reason"),
            (
                "h264\tsps.level_idc\tignored\twhy\nh264\tsps.level_idc\toffset\twhy\n",
                "listed twice",
            ),
        ] {
            let e = KnownDiffs::parse(bad).unwrap_err();
            assert!(e.to_string().contains(what), "{bad:?}: {e}");
        }
    }

    fn run(a: &[(&str, &str)], b: &[(&str, &str)]) -> (JobFields, Fired) {
        let k = KnownDiffs::parse(LIST).unwrap();
        let mut bb = jf(b);
        let mut fired = Fired::default();
        apply_job(&k, "h264", &jf(a), &mut bb, &mut fired);
        (bb, fired)
    }

    #[test]
    fn ignored_field_is_taken_from_the_reference_and_counted() {
        let (b, f) = run(
            &[("sps.level_idc", "30"), ("x", "1")],
            &[("sps.level_idc", "0"), ("x", "2")],
        );
        // the listed field tolerated, the unlisted one untouched
        assert_eq!(b, jf(&[("sps.level_idc", "30"), ("x", "2")]));
        assert_eq!(f.rows.len(), 1);
        assert_eq!(f.rows[&0].jobs, 1);
        // equal values: nothing fires
        let (_, f) = run(&[("sps.level_idc", "30")], &[("sps.level_idc", "30")]);
        assert!(f.rows.is_empty());
        // present on one side only: never tolerated
        let (b, f) = run(&[("sps.level_idc", "30")], &[]);
        assert!(b.is_empty() && f.rows.is_empty());
    }

    #[test]
    fn subset_allows_missing_flags_only() {
        let a = [(
            "sps.constraint_set_flags",
            "CONSTRAINT_SET0_FLAG|CONSTRAINT_SET1_FLAG",
        )];
        let (b, f) = run(&a, &[("sps.constraint_set_flags", "CONSTRAINT_SET1_FLAG")]);
        assert_eq!(b, jf(&a));
        assert_eq!(f.rows[&1].jobs, 1);
        let (b, f) = run(
            &a,
            &[(
                "sps.constraint_set_flags",
                "CONSTRAINT_SET1_FLAG|CONSTRAINT_SET3_FLAG",
            )],
        );
        assert_eq!(b[0].1, "CONSTRAINT_SET1_FLAG|CONSTRAINT_SET3_FLAG");
        assert!(f.rows.is_empty());
    }

    #[test]
    fn offset_needs_one_constant_over_the_job() {
        let a = [
            ("decode_params.top_field_order_cnt", "8"),
            ("dpb[pic 0]", "pic_num 0 top_field_order_cnt 0 flags VALID"),
            ("dpb[pic 1]", "pic_num 1 top_field_order_cnt 4 flags VALID"),
        ];
        let b = [
            ("decode_params.top_field_order_cnt", "65544"),
            (
                "dpb[pic 0]",
                "pic_num 0 top_field_order_cnt 65536 flags VALID",
            ),
            (
                "dpb[pic 1]",
                "pic_num 1 top_field_order_cnt 65540 flags VALID",
            ),
        ];
        let (bb, f) = run(&a, &b);
        assert_eq!(bb, jf(&a));
        assert_eq!(f.rows[&2].jobs, 1);
        assert_eq!(f.rows[&3].offsets, BTreeSet::from([65536]));
        assert_eq!(
            f.describe(&KnownDiffs::parse(LIST).unwrap()),
            "decode_params.top_field_order_cnt (offset) ×1 by +65536; dpb[].top_field_order_cnt (offset) ×1 by +65536"
        );
        // one reference shifted differently: a real difference, nothing tolerated
        let mut b2 = b;
        b2[2].1 = "pic_num 1 top_field_order_cnt 65541 flags VALID";
        let (bb, f) = run(&a, &b2);
        assert_eq!(bb, jf(&b2));
        assert!(f.rows.is_empty());
        // an unlisted sub-field of a listed key still differs
        let mut b3 = b;
        b3[1].1 = "pic_num 7 top_field_order_cnt 65536 flags VALID";
        let (bb, _) = run(&a, &b3);
        assert_eq!(bb[1].1, "pic_num 7 top_field_order_cnt 0 flags VALID");
    }

    #[test]
    fn when_tolerates_only_under_its_condition() {
        let k = "pps.num_ref_idx_l0_default_active_minus1";
        let (b, f) = run(
            &[(k, "4"), ("slice_params.slice_type", "I")],
            &[(k, "0"), ("slice_params.slice_type", "I")],
        );
        assert_eq!(b[0].1, "4");
        assert_eq!(f.rows[&4].jobs, 1);
        // a P slice that reads the default (final count = default): not tolerated
        let n = "slice_params.num_ref_idx_l0_active_minus1";
        let (b, f) = run(
            &[(k, "4"), ("slice_params.slice_type", "P"), (n, "4")],
            &[(k, "0"), ("slice_params.slice_type", "P"), (n, "4")],
        );
        assert_eq!(b[0].1, "0");
        assert!(f.rows.is_empty());
        // a P slice whose count differs from the default overrode it: tolerated
        let (b, f) = run(
            &[(k, "4"), ("slice_params.slice_type", "P"), (n, "2")],
            &[(k, "0"), ("slice_params.slice_type", "P"), (n, "2")],
        );
        assert_eq!(b[0].1, "4");
        assert_eq!(f.rows[&4].jobs, 1);
    }

    #[test]
    fn committed_va_list_parses_and_says_why() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/oracle/va-known-differences.tsv"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let k = KnownDiffs::parse(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(!k.rows.is_empty());
        for r in &k.rows {
            // every row names the VA structure (or the client) it comes from
            assert!(
                r.why.contains("VA") || r.why.starts_with("as "),
                "line {}: {} gives no VA source: {}",
                r.line,
                r.field,
                r.why
            );
        }
    }

    #[test]
    fn other_codecs_rows_do_not_apply() {
        let k = KnownDiffs::parse(LIST).unwrap();
        let mut b = jf(&[("sps.level_idc", "0")]);
        let mut f = Fired::default();
        apply_job(&k, "hevc", &jf(&[("sps.level_idc", "30")]), &mut b, &mut f);
        assert_eq!(b[0].1, "0");
        assert!(f.rows.is_empty());
    }
}
