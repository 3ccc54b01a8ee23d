//! Job-by-job comparison of two normalised traces (see [`super::normalise`]).
//!
//! Each side is read back into one field map per job, with the carried
//! sections (sps, pps, scaling_matrix) forwarded from the last job that set
//! them, so every job is compared on every field. A `# cap N of M jobs`
//! header (capped golden) limits the comparison to the first N jobs of both.

use std::collections::BTreeMap;
use std::fmt;

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
    for j in 0..an.min(bn) {
        match diff_job(j, &a.jobs[j], &b.jobs[j]) {
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::oracle::normalise::{MAGIC, MAGIC_VP9};

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

    #[test]
    fn bad_text_is_an_error() {
        assert!(read("job 0 x = 1\n").is_err());
        assert!(read(&text("job 1 x = 1\n")).is_err());
        assert!(read(&text("jab 0 x = 1\n")).is_err());
    }
}
