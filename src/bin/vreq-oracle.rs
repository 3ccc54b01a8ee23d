//! `vreq-oracle`: normalise and compare visl ftrace dumps of H.264, HEVC and
//! VP9 decodes (issue 2 item 7, issue 3); the codec is read from the trace.
//!
//! * `vreq-oracle normalise TRACE [-o OUT] [--cap N] [--header TEXT]...`
//! * `vreq-oracle compare GST.trace OURS.trace` (raw traces or normalised
//!   text, detected by the first line); exit 0 only when all jobs are equal
//!   and the job counts match.
//! * `vreq-oracle report DIR`: the table over a `tests/oracle/run.sh` output
//!   directory (`<clip>.gst.trace` or, with `run.sh -G`, the committed
//!   `<clip>.golden.norm` as reference; `<clip>.vreq.trace`, `*.info`,
//!   `<clip>.ffprobe`); exit 0 only when every clip passes.
//! * `vreq-oracle selfcheck TRACE...`: the emulator re-prints every visl event
//!   of a real trace byte for byte (validates `oracle::visl_fmt`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vreqplay::oracle::compare::{self, Comparison, Normalised};
use vreqplay::oracle::normalise::is_normalised;

#[derive(Parser)]
#[command(
    name = "vreq-oracle",
    about = "normalise and compare visl H.264 / HEVC / VP9 ftrace dumps"
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
    /// Compare two traces (A = reference) job by job.
    Compare {
        a: PathBuf,
        b: PathBuf,
        /// Normalise raw traces strictly (see `normalise --strict`).
        #[arg(long)]
        strict: bool,
    },
    /// Table over a run.sh output directory.
    Report { dir: PathBuf },
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
        vreqplay::oracle::normalise_trace_opts(&text, &[], None, strict)
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

fn report(dir: &Path) -> Result<bool, String> {
    let mut clips: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_str()?.to_string();
            n.strip_suffix(".gst.info")
                .or_else(|| n.strip_suffix(".golden.norm"))
                .map(str::to_string)
        })
        .collect();
    clips.sort();
    clips.dedup();
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
        let ffprobe = std::fs::read_to_string(p("ffprobe"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "?".into());
        // the reference: this run's GStreamer trace, else the committed golden
        let gi = info(&p("gst.info"));
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
        let (vreq_frames, result, ok) = match info(&p("vreq.info")) {
            None => ("-".to_string(), "vreqplay not run".to_string(), false),
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
            let n = vreqplay::oracle::normalise_trace_opts(&text, &header, cap, strict)
                .map_err(|e| format!("{}: {e}", trace.display()))?;
            match output {
                Some(o) => std::fs::write(&o, n).map_err(|e| format!("{}: {e}", o.display()))?,
                None => print!("{n}"),
            }
            Ok(true)
        })(),
        Cmd::Compare { a, b, strict } => compare_files(&a, &b, strict).map(|c| {
            println!("{c}");
            c.ok()
        }),
        Cmd::Report { dir } => report(&dir),
        Cmd::Selfcheck { traces } => {
            let mut ok = true;
            for t in traces {
                let r = std::fs::read_to_string(&t)
                    .map_err(|e| e.to_string())
                    .and_then(|s| vreqplay::oracle::visl_fmt::selfcheck(&s));
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
