//! `vreq-oracle`: normalise and compare visl ftrace dumps of H.264, HEVC, VP9,
//! VP8 and MPEG-2 decodes; the codec is read from the trace.
//!
//! * `vreq-oracle normalise TRACE [-o OUT] [--cap N] [--header TEXT]...`
//! * `vreq-oracle compare GST.trace OURS.trace` (raw traces or normalised
//!   text, detected by the first line); exit 0 only when all jobs are equal
//!   and the job counts match.
//! * `vreq-oracle compare --segments SEG0 SEG1 ... -- OURS`: the references
//!   are the segment goldens of a clip cut at its sequence starts
//!   (`tests/oracle/segment.py`, `gen-golden.sh -s`), in order; OURS is the
//!   whole clip, split at its sequence starts with decode indices re-based
//!   per segment (`oracle::compare::compare_segments`); prints the total and
//!   one line per segment; exit 0 only when the segment counts match and
//!   every segment is equal.
//! * `vreq-oracle report DIR`: the table over a `tests/oracle/run.sh` output
//!   directory (`<clip>.gst.trace` or, with `run.sh -G`, the committed
//!   `<clip>.golden.norm` as reference, or — when present — the segment
//!   goldens `<clip>.golden-segNN.norm`, compared as `compare --segments`
//!   does; `<clip>.vreq.trace`, `*.info`, `<clip>.ffprobe`;
//!   `<clip>.out-of-scope`: the clip passes only when vreqplay refused it
//!   with an "unsupported stream" error; `<clip>.known-difference`
//!   (`RESULT<TAB>WHY`, tests/oracle/known-differences.tsv): a segment
//!   comparison passes only with exactly that result, printed as KNOWN
//!   DIFFERENCE; a clip with only `<clip>.vreq.*` — no golden because
//!   GStreamer decoded none of it (listed in the golden dir's REFUSED.txt) — is
//!   listed as NO REFERENCE and passes only when vreqplay exits 0 with
//!   ffprobe's frame count); exit 0 only when every clip passes.
//! * `vreq-oracle report --va-known FILE DIR`: the table over a
//!   `tests/oracle/run.sh -A` directory (ffmpeg through the VA driver:
//!   `<clip>.va.{trace,info,log}`) against the goldens (or segment goldens)
//!   with the field-level known differences of FILE
//!   (`vreq_oracle::known`): per clip the codec, jobs equal / total, ffmpeg's
//!   frames / ffprobe's, visl's CAPTURE dequeues, the known differences that
//!   fired (jobs), the result; then the listed rows that never fired. A clip
//!   passes when ffmpeg exits 0, every job is equal (after the tolerated
//!   differences) with the same job count, ffmpeg's frames = ffprobe's ≤
//!   visl's CAPTURE dequeues (a client that fell back to software decoding
//!   has fewer: none when wholly; fewer passes only when every reference
//!   job reached visl equal: frames shown again without a decode, VP9's
//!   show_existing_frame); an out-of-scope clip (`<clip>.out-of-scope`: run.sh -A
//!   writes tests/oracle/out-of-scope.tsv's and va-out-of-scope.tsv's
//!   reasons) passes when ffmpeg's log says the VA hwaccel setup failed
//!   ("Failed setup for format vaapi") and nothing reached visl; exit 0 only
//!   when every clip passes.
//! * `vreq-oracle selfcheck TRACE...`: the emulator re-prints every visl event
//!   of a real trace byte for byte (validates `oracle::visl_fmt`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vreq_oracle::compare::{self, Comparison, Normalised, SegmentComparison};
use vreq_oracle::known::{codec_of_magic, Fired, KnownDiffs};
use vreq_oracle::normalise::is_normalised;

#[derive(Parser)]
#[command(
    name = "vreq-oracle",
    about = "normalise and compare visl H.264 / HEVC / VP9 / VP8 / MPEG-2 ftrace dumps"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the normalised form of a visl trace.
    Normalise {
        trace: PathBuf,
        /// Write here instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Keep only the first N jobs (recorded in the header).
        #[arg(long)]
        cap: Option<usize>,
        /// Header comment lines (provenance), repeatable.
        #[arg(long)]
        header: Vec<String>,
        /// Keep what a driver may ignore (unused list/DPB entries, implicit pred_weights, ...).
        #[arg(long)]
        strict: bool,
    },
    /// Compare two traces (A = reference) job by job: `compare A B`; or
    /// segment goldens with a whole clip: `compare --segments SEG... -- OURS`.
    Compare {
        /// A B, or with --segments the segment goldens in order, then ours.
        #[arg(num_args = 2.., required = true)]
        files: Vec<PathBuf>,
        /// Normalise raw traces strictly (see `normalise --strict`).
        #[arg(long)]
        strict: bool,
        /// All files but the last are the segment references of one clip,
        /// in order; the last is our whole-clip trace.
        #[arg(long)]
        segments: bool,
    },
    /// Table over a run.sh output directory.
    Report {
        dir: PathBuf,
        /// run.sh -A: the decodes are ffmpeg's through the VA driver
        /// (`<clip>.va.*`), compared with the field-level known differences
        /// of this file (tests/oracle/va-known-differences.tsv).
        #[arg(long)]
        va_known: Option<PathBuf>,
    },
    /// Check the emulator against a real visl trace (byte-identical events).
    Selfcheck { traces: Vec<PathBuf> },
}

fn load(path: &Path) -> Result<Normalised, String> {
    load_opts(path, false)
}

fn load_opts(path: &Path, strict: bool) -> Result<Normalised, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let norm = if is_normalised(&text) {
        text
    } else {
        vreq_oracle::normalise_trace_opts(&text, &[], None, strict)
            .map_err(|e| format!("{}: {e}", path.display()))?
    };
    compare::read(&norm).map_err(|e| format!("{}: {e}", path.display()))
}

fn compare_files(a: &Path, b: &Path, strict: bool) -> Result<Comparison, String> {
    Ok(compare::compare(
        &load_opts(a, strict)?,
        &load_opts(b, strict)?,
    ))
}

fn compare_segment_files(
    golden: &[PathBuf],
    ours: &Path,
    strict: bool,
) -> Result<SegmentComparison, String> {
    let g = golden
        .iter()
        .map(|p| load_opts(p, strict))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(compare::compare_segments(&g, &load_opts(ours, strict)?))
}

/// `<clip>.golden-segNN.norm` files in `dir`, in segment order.
fn segment_goldens(dir: &Path, clip: &str) -> Vec<PathBuf> {
    let prefix = format!("{clip}.golden-seg");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".norm"))
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `key=value` pairs of a guest-trace.sh `.info` file.
fn info(path: &Path) -> Option<BTreeMap<String, String>> {
    let t = std::fs::read_to_string(path).ok()?;
    Some(
        t.split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn last_line(path: &Path) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| {
            t.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| "no log".into())
}

/// The frame count ffprobe counted for a clip (its `<clip>.ffprobe` file,
/// trimmed), "?" without one.
fn ffprobe_frames(path: &Path) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// The clips that have files in `dir`: the names before one of `suffixes`
/// or before `.golden-seg` (segment goldens), sorted, each once. Errors: the
/// folder cannot be read.
fn clip_names(dir: &Path, suffixes: &[&str]) -> Result<Vec<String>, String> {
    let mut clips: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_str()?.to_string();
            suffixes
                .iter()
                .find_map(|s| n.strip_suffix(s))
                .map(str::to_string)
                .or_else(|| n.split_once(".golden-seg").map(|(c, _)| c.to_string()))
        })
        .collect();
    clips.sort();
    clips.dedup();
    Ok(clips)
}

fn report(dir: &Path) -> Result<bool, String> {
    let clips = clip_names(dir, &[".gst.info", ".golden.norm", ".vreq.info"])?;
    if clips.is_empty() {
        return Err(format!(
            "{}: no *.gst.info or *.golden.norm files (run tests/oracle/run.sh)",
            dir.display()
        ));
    }
    let mut all_ok = true;
    println!("| clip | reference (GStreamer) frames | vreq frames | ffprobe frames | reference jobs | result |");
    println!("|---|---|---|---|---|---|");
    for c in &clips {
        let p = |ext: &str| dir.join(format!("{c}.{ext}"));
        let ffprobe = ffprobe_frames(&p("ffprobe"));
        // segment goldens (run.sh -G for a clip cut by gen-golden.sh -s)
        let segs = segment_goldens(dir, c);
        if !segs.is_empty() && info(&p("gst.info")).is_none() {
            let (vreq_frames, result, ok) = segment_row(dir, c, &segs, &ffprobe);
            all_ok &= ok;
            println!(
                "| {c} | {} | {vreq_frames} | {ffprobe} | {} | {} {result} |",
                segment_frames(&segs),
                segment_jobs(&segs),
                if ok { "PASS" } else { "FAIL" }
            );
            continue;
        }
        // the reference: this run's GStreamer trace, else the committed golden
        let gi = info(&p("gst.info"));
        if gi.is_none() && segs.is_empty() && !p("golden.norm").exists() {
            // run.sh -G on a clip GStreamer decoded nothing of (no golden,
            // REFUSED.txt): nothing to compare the jobs with; only
            // vreqplay's frame count against ffprobe's is checked
            let vi = info(&p("vreq.info")).unwrap_or_default();
            let v = |k: &str| vi.get(k).cloned().unwrap_or_else(|| "?".into());
            let ok = v("rc") == "0" && v("frames") == ffprobe;
            all_ok &= ok;
            let why = if v("rc") != "0" {
                format!(
                    "vreqplay failed: rc {}: {}",
                    v("rc"),
                    last_line(&p("vreq.log"))
                )
            } else {
                format!("vreqplay {} frames vs ffprobe {ffprobe}", v("frames"))
            };
            println!(
                "| {c} | - (no golden: GStreamer refused it, see REFUSED.txt) | {} | {ffprobe} | - | {} NO REFERENCE: {why} |",
                v("frames"),
                if ok { "PASS" } else { "FAIL" }
            );
            continue;
        }
        let (reference, ref_frames, gst_stopped) = match &gi {
            Some(gi) => {
                let g = |k: &str| gi.get(k).cloned().unwrap_or_else(|| "?".into());
                let stopped = (g("rc") != "0").then(|| g("rc"));
                let mut r = load(&p("gst.trace"));
                if stopped.is_some() {
                    // GStreamer stopped early (e.g. EBUSY on a resolution change):
                    // compare only the jobs it ran, and say so
                    r = r.map(|mut n| {
                        n.cap = Some(n.jobs.len());
                        n
                    });
                }
                (
                    r,
                    format!(
                        "{} (rc {}, {}s+{}s)",
                        g("frames"),
                        g("rc"),
                        g("secs"),
                        g("tsecs")
                    ),
                    stopped,
                )
            }
            None => {
                let r = load(&p("golden.norm"));
                let f = r
                    .as_ref()
                    .ok()
                    .and_then(|n| n.header.iter().find_map(|h| h.strip_prefix("gst frames ")))
                    .and_then(|h| h.split_whitespace().next())
                    .unwrap_or("?")
                    .to_string();
                let partial = r
                    .as_ref()
                    .ok()
                    .is_some_and(|n| n.header.iter().any(|h| h.starts_with("PARTIAL")));
                (
                    r,
                    format!("{f} (golden)"),
                    partial.then(|| "(see golden)".to_string()),
                )
            }
        };
        let jobs = match &reference {
            Ok(n) => n
                .cap
                .map_or(n.jobs.len(), |c| c.min(n.jobs.len()))
                .to_string(),
            Err(e) => format!("? ({e})"),
        };
        // out of scope (tests/oracle/out-of-scope.tsv): must be refused
        let out_of_scope = std::fs::read_to_string(p("out-of-scope"))
            .ok()
            .map(|s| s.trim().to_string());
        let (vreq_frames, result, ok) = match info(&p("vreq.info")) {
            None => ("-".to_string(), "vreqplay not run".to_string(), false),
            Some(vi) if out_of_scope.is_some() => {
                let why = out_of_scope.unwrap_or_default();
                let v = |k: &str| vi.get(k).cloned().unwrap_or_else(|| "?".into());
                let log = std::fs::read_to_string(p("vreq.log")).unwrap_or_default();
                if v("rc") != "0" && log.contains("unsupported stream") {
                    (
                        v("frames"),
                        format!("refused as expected ({why}): {}", last_line(&p("vreq.log"))),
                        true,
                    )
                } else {
                    (
                        v("frames"),
                        format!("out of scope ({why}) but vreqplay exited {} without an \"unsupported stream\" error", v("rc")),
                        false,
                    )
                }
            }
            Some(vi) => {
                let v = |k: &str| vi.get(k).cloned().unwrap_or_else(|| "?".into());
                if v("rc") != "0" {
                    let msg = last_line(&p("vreq.log"));
                    (
                        v("frames"),
                        format!("vreqplay failed: rc {}: {msg}", v("rc")),
                        false,
                    )
                } else {
                    let cmp = reference
                        .clone()
                        .and_then(|a| Ok(compare::compare(&a, &load(&p("vreq.trace"))?)));
                    match cmp {
                        Ok(cmp) => {
                            let frames_ok = v("frames") == ffprobe;
                            let mut r = cmp.to_string();
                            if let Some(rc) = &gst_stopped {
                                r = format!(
                                    "PARTIAL: GStreamer exited {rc}, only its {} jobs compared: {r}",
                                    cmp.a_jobs
                                );
                            }
                            if !frames_ok {
                                r.push_str(&format!(
                                    "; frames {} != ffprobe {}",
                                    v("frames"),
                                    ffprobe
                                ));
                            }
                            (v("frames"), r, cmp.ok() && frames_ok)
                        }
                        Err(e) => (v("frames"), format!("compare failed: {e}"), false),
                    }
                }
            }
        };
        all_ok &= ok;
        println!(
            "| {c} | {ref_frames} | {vreq_frames} | {ffprobe} | {jobs} | {} {result} |",
            if ok { "PASS" } else { "FAIL" }
        );
    }
    Ok(all_ok)
}

/// `gst frames` of each segment golden, `a+b+c (golden segments)`.
fn segment_frames(segs: &[PathBuf]) -> String {
    let f: Vec<String> = segs
        .iter()
        .map(|s| {
            load(s)
                .ok()
                .and_then(|n| {
                    n.header
                        .iter()
                        .find_map(|h| h.strip_prefix("gst frames "))
                        .and_then(|h| h.split_whitespace().next().map(str::to_string))
                })
                .unwrap_or_else(|| "?".into())
        })
        .collect();
    format!("{} (golden segments)", f.join("+"))
}

/// Reference jobs of the segment goldens, `total (a+b+c)`.
fn segment_jobs(segs: &[PathBuf]) -> String {
    let j: Vec<usize> = segs
        .iter()
        .map(|s| {
            load(s)
                .map(|n| n.cap.map_or(n.jobs.len(), |c| c.min(n.jobs.len())))
                .unwrap_or(0)
        })
        .collect();
    format!(
        "{} ({})",
        j.iter().sum::<usize>(),
        j.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join("+")
    )
}

/// One report row for a clip with segment goldens: (vreq frames, result, ok).
fn segment_row(dir: &Path, c: &str, segs: &[PathBuf], ffprobe: &str) -> (String, String, bool) {
    let p = |ext: &str| dir.join(format!("{c}.{ext}"));
    let Some(vi) = info(&p("vreq.info")) else {
        return ("-".into(), "vreqplay not run".into(), false);
    };
    let v = |k: &str| vi.get(k).cloned().unwrap_or_else(|| "?".into());
    if v("rc") != "0" {
        return (
            v("frames"),
            format!(
                "vreqplay failed: rc {}: {}",
                v("rc"),
                last_line(&p("vreq.log"))
            ),
            false,
        );
    }
    match compare_segment_files(segs, &p("vreq.trace"), false) {
        Ok(cmp) => {
            let partial = segs.iter().any(|s| {
                load(s)
                    .map(|n| n.header.iter().any(|h| h.starts_with("PARTIAL")))
                    .unwrap_or(false)
            });
            let frames_ok = v("frames") == ffprobe;
            let summary = cmp.to_string();
            let mut r = summary.clone();
            r.push_str(&format!(" [{}]", cmp.per_segment().join("; ")));
            if partial {
                r = format!("PARTIAL segment golden: {r}");
            }
            if !frames_ok {
                r.push_str(&format!("; frames {} != ffprobe {}", v("frames"), ffprobe));
            }
            let mut ok = cmp.ok() && frames_ok && !partial;
            // tests/oracle/known-differences.tsv (run.sh: <clip>.known-difference,
            // "RESULT<TAB>WHY"): passes only with exactly that result
            if let Ok(kd) = std::fs::read_to_string(p("known-difference")) {
                let (expected, why) = kd
                    .trim_end()
                    .split_once('\t')
                    .unwrap_or((kd.trim_end(), ""));
                if summary == expected && frames_ok && !partial {
                    r = format!(
                        "KNOWN DIFFERENCE (tests/oracle/known-differences.tsv: {why}): {r}"
                    );
                    ok = true;
                } else {
                    r = format!("known difference listed as `{expected}` but the result changed (update tests/oracle/known-differences.tsv): {r}");
                    ok = false;
                }
            }
            (v("frames"), r, ok)
        }
        Err(e) => (v("frames"), format!("compare failed: {e}"), false),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r: Result<bool, String> = match cli.cmd {
        Cmd::Normalise {
            trace,
            output,
            cap,
            header,
            strict,
        } => (|| {
            let text =
                std::fs::read_to_string(&trace).map_err(|e| format!("{}: {e}", trace.display()))?;
            let n = vreq_oracle::normalise_trace_opts(&text, &header, cap, strict)
                .map_err(|e| format!("{}: {e}", trace.display()))?;
            match output {
                Some(o) => std::fs::write(&o, n).map_err(|e| format!("{}: {e}", o.display()))?,
                None => print!("{n}"),
            }
            Ok(true)
        })(),
        Cmd::Compare {
            files,
            strict,
            segments: false,
        } => match files.as_slice() {
            [a, b] => compare_files(a, b, strict).map(|c| {
                println!("{c}");
                c.ok()
            }),
            _ => Err(format!(
                "compare takes two traces (A B), got {}; several references need --segments",
                files.len()
            )),
        },
        Cmd::Compare {
            files,
            strict,
            segments: true,
        } => {
            let (ours, golden) = files.split_last().expect("clap: at least 2 files");
            compare_segment_files(golden, ours, strict).map(|c| {
                println!("{c}");
                for l in c.per_segment() {
                    println!("  {l}");
                }
                c.ok()
            })
        }
        Cmd::Report {
            dir,
            va_known: None,
        } => report(&dir),
        Cmd::Report {
            dir,
            va_known: Some(k),
        } => va_report(&dir, &k),
        Cmd::Selfcheck { traces } => {
            let mut ok = true;
            for t in traces {
                let r = std::fs::read_to_string(&t)
                    .map_err(|e| e.to_string())
                    .and_then(|s| vreq_oracle::visl_fmt::selfcheck(&s));
                match r {
                    Ok(n) => println!("{}: {n} events byte-identical", t.display()),
                    Err(e) => {
                        ok = false;
                        println!("{}: {e}", t.display())
                    }
                }
            }
            Ok(ok)
        }
    };
    match r {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("vreq-oracle: {e}");
            ExitCode::from(2)
        }
    }
}

/// The `report --va-known` table (run.sh -A); see the crate docs above.
fn va_report(dir: &Path, known_path: &Path) -> Result<bool, String> {
    let text = std::fs::read_to_string(known_path)
        .map_err(|e| format!("{}: {e}", known_path.display()))?;
    let known = KnownDiffs::parse(&text).map_err(|e| format!("{}: {e}", known_path.display()))?;
    let clips = clip_names(dir, &[".va.info", ".golden.norm"])?;
    if clips.is_empty() {
        return Err(format!(
            "{}: no *.va.info or *.golden.norm files (run tests/oracle/run.sh -A)",
            dir.display()
        ));
    }
    let mut all_ok = true;
    let mut fired_all = Fired::default();
    let mut codecs: Vec<&'static str> = Vec::new();
    let (mut eq_sum, mut tot_sum, mut passed) = (0usize, 0usize, 0usize);
    println!("| clip | codec | jobs equal / total | frames: ffmpeg / ffprobe | visl CAPTURE dequeues | known differences (jobs) | result |");
    println!("|---|---|---|---|---|---|---|");
    for c in &clips {
        let p = |ext: &str| dir.join(format!("{c}.{ext}"));
        let ffprobe = ffprobe_frames(&p("ffprobe"));
        let segs = segment_goldens(dir, c);
        let vi = info(&p("va.info")).unwrap_or_default();
        let v = |k: &str| vi.get(k).cloned().unwrap_or_else(|| "?".into());
        let (rc, frames, dq) = (v("rc"), v("frames"), v("dq"));
        let mut fired = Fired::default();
        // the codec: the reference's first line (also for a clip that never
        // reached visl)
        let reference = segs.first().cloned().unwrap_or_else(|| p("golden.norm"));
        let mut codec = first_line(&reference)
            .and_then(|l| codec_of_magic(&l))
            .unwrap_or("?");
        let mut jobs = "-".to_string();
        let mut notes: Vec<String> = Vec::new();
        let mut ok;
        // every reference job equal, same count: all GStreamer decoded went
        // through visl
        let mut all_jobs_equal = false;
        let out_of_scope = std::fs::read_to_string(p("out-of-scope"))
            .ok()
            .map(|s| s.trim().to_string());
        if vi.is_empty() {
            ok = false;
            notes.push("ffmpeg not run".into());
        } else if let Some(why) = out_of_scope {
            // ffmpeg's hwaccel refused it (then it decodes in software):
            // nothing reached visl
            let log = std::fs::read_to_string(p("va.log")).unwrap_or_default();
            let refused = log.contains("Failed setup for format vaapi");
            ok = dq == "0" && refused;
            notes.push(if ok {
                format!("out of scope ({why}): ffmpeg's VA hwaccel refused it, no picture reached visl (ffmpeg exit {rc}, {frames} frames decoded in software: run.sh -A decodes only the first 10)")
            } else {
                format!("out of scope ({why}) but {dq} pictures went through visl (hwaccel refused: {refused})")
            });
        } else {
            let ours = load(&p("va.trace"));
            ok = rc == "0";
            if !ok {
                notes.push(format!("ffmpeg exit {rc}: {}", last_line(&p("va.log"))));
            }
            if !segs.is_empty() {
                let cmp = segs
                    .iter()
                    .map(|s| load(s))
                    .collect::<Result<Vec<_>, _>>()
                    .and_then(|g| Ok((g, ours?)))
                    .map(|(g, o)| {
                        codec = codec_of_magic(&o.magic).unwrap_or("?");
                        compare::compare_segments_known(&g, &o, &known, &mut fired)
                    });
                match cmp {
                    Ok(cmp) => {
                        jobs = format!(
                            "{}/{} ({} segments)",
                            cmp.equal(),
                            cmp.total(),
                            cmp.a_segments
                        );
                        let summary = cmp.to_string();
                        let partial = segs.iter().any(|s| {
                            load(s).is_ok_and(|n| n.header.iter().any(|h| h.starts_with("PARTIAL")))
                        });
                        let mut cmp_ok = cmp.ok() && !partial;
                        if partial {
                            notes.push("PARTIAL segment golden".into());
                        }
                        // tests/oracle/known-differences.tsv: exactly that result
                        if let Ok(kd) = std::fs::read_to_string(p("known-difference")) {
                            let (expected, why) = kd
                                .trim_end()
                                .split_once('\t')
                                .unwrap_or((kd.trim_end(), ""));
                            if summary == expected && !partial {
                                notes.push(format!(
                                    "KNOWN DIFFERENCE (tests/oracle/va-clip-differences.tsv: {why})"
                                ));
                                cmp_ok = true;
                            } else {
                                notes.push(format!("known difference listed as `{expected}` but the result changed"));
                                cmp_ok = false;
                            }
                        }
                        if !cmp.ok() {
                            notes.push(format!("{summary} [{}]", cmp.per_segment().join("; ")));
                        }
                        all_jobs_equal = cmp.ok();
                        ok &= cmp_ok;
                    }
                    Err(e) => {
                        ok = false;
                        notes.push(format!("compare failed: {e}"));
                    }
                }
            } else if p("golden.norm").exists() {
                match load(&p("golden.norm")).and_then(|g| Ok((g, ours?))) {
                    Ok((g, o)) => {
                        codec = codec_of_magic(&g.magic).unwrap_or("?");
                        let cmp = compare::compare_known(&g, &o, &known, &mut fired);
                        jobs = format!("{}/{}", cmp.equal, cmp.total());
                        if let Some(c) = g.cap {
                            // a golden over 2 MB keeps its first jobs only
                            jobs.push_str(&format!(" (golden capped: first {c} jobs)"));
                        }
                        if g.header.iter().any(|h| h.starts_with("PARTIAL")) {
                            ok = false;
                            notes.push("PARTIAL golden".into());
                        }
                        if o.jobs.is_empty() {
                            // an empty trace reads as H.264's: say what it is
                            ok = false;
                            notes.push(format!(
                                "no job reached visl ({} reference jobs)",
                                cmp.a_jobs
                            ));
                        } else if !cmp.ok() {
                            ok = false;
                            notes.push(cmp.to_string());
                        } else {
                            all_jobs_equal = true;
                        }
                    }
                    Err(e) => {
                        ok = false;
                        notes.push(format!("compare failed: {e}"));
                    }
                }
            } else {
                // GStreamer decoded none of it (REFUSED.txt): frames only
                notes.push("NO REFERENCE (GStreamer refused it, see REFUSED.txt)".into());
                if let Ok(o) = &ours {
                    codec = codec_of_magic(&o.magic).unwrap_or("?");
                }
            }
            if frames != ffprobe {
                ok = false;
                notes.push(format!("frames {frames} != ffprobe {ffprobe}"));
            }
            // every output frame went through visl (a hwaccel that fell back
            // to software, wholly or in part, has fewer); more is possible: a
            // picture decoded but not output (wpt-400x300-red-resize's last
            // sample, which ffprobe does not count either). Fewer is right
            // only when every reference job reached visl equal: frames shown
            // again without a decode (VP9 show_existing_frame, 6.2)
            match (dq.parse::<u64>(), frames.parse::<u64>()) {
                (Ok(d), Ok(f)) if d >= f => {
                    if d > f {
                        notes.push(format!("visl CAPTURE dequeues {d} > frames {f}"));
                    }
                }
                (Ok(d), Ok(f)) if all_jobs_equal && d > 0 => {
                    notes.push(format!(
                        "{} frames shown without a decode (visl CAPTURE dequeues {d} < frames {f}; \
                         every reference job reached visl)",
                        f - d
                    ));
                }
                _ => {
                    ok = false;
                    notes.push(format!(
                        "visl CAPTURE dequeues {dq} < ffmpeg frames {frames}"
                    ));
                }
            }
        }
        if codec != "?" && !codecs.contains(&codec) {
            codecs.push(codec);
        }
        if let Some((e, t)) = jobs.split(' ').next().and_then(|x| x.split_once('/')) {
            eq_sum += e.parse::<usize>().unwrap_or(0);
            tot_sum += t.parse::<usize>().unwrap_or(0);
        }
        fired_all.merge(&fired);
        all_ok &= ok;
        passed += ok as usize;
        println!(
            "| {c} | {codec} | {jobs} | {frames} / {ffprobe} | {dq} | {} | {}{}{} |",
            fired.describe(&known),
            if ok { "PASS" } else { "FAIL" },
            if notes.is_empty() { "" } else { ": " },
            notes.join("; ")
        );
    }
    println!(
        "\n{passed}/{} clips pass; jobs equal {eq_sum}/{tot_sum}; known differences over the run: {}",
        clips.len(),
        fired_all.describe(&known)
    );
    let never: Vec<String> = fired_all
        .never(&known, &codecs)
        .iter()
        .map(|r| format!("{} {} ({}, line {})", r.codec, r.field, r.how, r.line))
        .collect();
    if !never.is_empty() {
        println!("listed but never fired in this run: {}", never.join("; "));
    }
    Ok(all_ok)
}

/// The first line of a text file.
fn first_line(path: &Path) -> Option<String> {
    let t = std::fs::read_to_string(path).ok()?;
    t.lines().next().map(str::to_string)
}
