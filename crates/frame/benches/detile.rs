//! Benchmark of the CPU detile / unpack paths (`vreq_frame::detile`)
//! against a plain memcpy (`copy_from_slice`) of the same number of source
//! bytes and of destination bytes, for a 1920x1080 picture.
//!
//! `cargo bench -p vreq-frame --bench detile [-- --quick]` (or `scripts/bench.sh`). No
//! harness: warm-up runs, then the median of `RUNS` timed runs each.
//! Ratio = memcpy time / detile time (≥ 1.0: as fast as memcpy; the
//! goal is ≥ 0.8). Rows marked "pt" run the portable paths
//! (`detile::portable`: NC30 off x86_64 and aarch64, NV15 off aarch64) for
//! a same-run A/B against the SSE2 (x86_64) / NEON (aarch64) ones; the last
//! lines time a small in-cache picture (CPU ns per 128-byte column line: the
//! compute-bound cost). Built for aarch64 by `scripts/cross-arm64.sh cargo
//! bench -p vreq-frame --bench detile --no-run` and run under qemu-user, the
//! times are qemu's translation, not a CPU's (NEON `tbl` is emulated by a
//! helper call there: slower than the scalar code it replaces).

use std::hint::black_box;
use std::time::{Duration, Instant};

use cpu_time::ThreadTime;

use vreq_frame::detile::{self, DetileError, LinearDst, LinearSrc, Sand128};

const W: usize = 1920;
const H: usize = 1080;
/// SAND128: the allocated luma height (1080 rounded up to whole 16-row
/// macroblocks / CTBs: 1088) and the column height in 128-byte lines (luma +
/// chroma lines, V4L2 `bytesperline`).
const LUMA_HEIGHT: usize = 1088;
const COL_HEIGHT: usize = LUMA_HEIGHT + LUMA_HEIGHT / 2;

fn random_bytes(n: usize, mut s: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s as u8
        })
        .collect()
}

/// (wall time, this thread's CPU time) of one call. The CPU time leaves out
/// the time the thread was preempted (the build machine is shared).
fn time(f: &mut impl FnMut()) -> (Duration, Duration) {
    let (t0, c0) = (Instant::now(), ThreadTime::now());
    f();
    (t0.elapsed(), c0.elapsed())
}

fn median_of(mut t: Vec<Duration>) -> Duration {
    t.sort();
    t[t.len() / 2]
}

/// Median wall time of `runs` calls of `f` after `warm` untimed ones.
fn median(warm: usize, runs: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..warm {
        f();
    }
    median_of((0..runs).map(|_| time(&mut f).1).collect())
}

/// A memcpy (`copy_from_slice`) of `bytes` bytes between two pre-faulted buffers.
fn memcpy(bytes: usize) -> impl FnMut() {
    let src = random_bytes(bytes, 0x1234_5678);
    let mut dst = vec![1u8; bytes];
    move || {
        dst.copy_from_slice(black_box(&src));
        black_box(&mut dst);
    }
}

/// Medians of (detile, memcpy of the source bytes, memcpy of the
/// destination bytes), the three timed back to back in every run so that
/// they see the same machine load: `[CPU time, wall time]`.
fn paired(
    warm: usize,
    runs: usize,
    src_bytes: usize,
    dst_bytes: usize,
    mut f: impl FnMut(),
) -> [[Duration; 3]; 2] {
    let (mut ms, mut md) = (memcpy(src_bytes), memcpy(dst_bytes));
    for _ in 0..warm {
        f();
        ms();
        md();
    }
    let mut t: [[Vec<Duration>; 3]; 2] = Default::default();
    for _ in 0..runs {
        for (k, g) in [&mut f as &mut dyn FnMut(), &mut ms, &mut md]
            .into_iter()
            .enumerate()
        {
            let (wall, cpu) = time(&mut || g());
            t[0][k].push(cpu);
            t[1][k].push(wall);
        }
    }
    t.map(|m| m.map(median_of))
}

struct Row {
    name: &'static str,
    src_bytes: usize,
    dst_bytes: usize,
    /// [cpu, wall] × [detile, memcpy of src_bytes, memcpy of dst_bytes]
    times: [[Duration; 3]; 2],
    reference: Option<Duration>,
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

type SandFn = fn(&Sand128, u32, u32, &mut LinearDst) -> Result<(), DetileError>;

fn bench_sand(
    name: &'static str,
    bits: usize,
    out: usize,
    fast: SandFn,
    reference: Option<SandFn>,
    warm: usize,
    runs: usize,
) -> Row {
    // 10-bit: 96 samples per 128-byte column line
    let per_col = if bits == 8 { 128 } else { 96 };
    let cols = W.div_ceil(per_col);
    let data = random_bytes(cols * COL_HEIGHT * 128, 42);
    let src = Sand128 {
        data: &data,
        col_height: COL_HEIGHT,
        luma_height: LUMA_HEIGHT,
    };
    let (mut y, mut uv) = (vec![0u8; W * out * H], vec![0u8; W * out * H / 2]);
    let mut run = |f: SandFn| {
        let mut dst = LinearDst {
            y: &mut y,
            y_stride: W * out,
            uv: &mut uv,
            uv_stride: W * out,
        };
        f(black_box(&src), W as u32, H as u32, &mut dst).expect("bench geometry");
        black_box(&mut dst);
    };
    let src_bytes = cols * (H + H / 2) * 128;
    let dst_bytes = W * out * (H + H / 2);
    let times = paired(warm, runs, src_bytes, dst_bytes, || run(fast));
    let reference = reference.map(|r| median(1, 3, || run(r)));
    Row {
        name,
        // the column lines the conversion reads: luma + chroma rows of every column
        src_bytes,
        dst_bytes,
        times,
        reference,
    }
}

type Nv15Fn = fn(&LinearSrc, u32, u32, &mut LinearDst) -> Result<(), DetileError>;

fn bench_nv15(
    name: &'static str,
    fast: Nv15Fn,
    warm: usize,
    runs: usize,
    with_reference: bool,
) -> Row {
    let row = (W * 10).div_ceil(8); // 2400
    let stride = row.div_ceil(64) * 64; // 2432
    let (sy, suv) = (random_bytes(stride * H, 7), random_bytes(stride * H / 2, 8));
    let src = LinearSrc {
        y: &sy,
        y_stride: stride,
        uv: &suv,
        uv_stride: stride,
    };
    let (mut y, mut uv) = (vec![0u8; W * 2 * H], vec![0u8; W * 2 * H / 2]);
    let mut run = |f: Nv15Fn| {
        let mut dst = LinearDst {
            y: &mut y,
            y_stride: W * 2,
            uv: &mut uv,
            uv_stride: W * 2,
        };
        f(black_box(&src), W as u32, H as u32, &mut dst).expect("bench geometry");
        black_box(&mut dst);
    };
    let (src_bytes, dst_bytes) = (row * (H + H / 2), W * 2 * (H + H / 2));
    let times = paired(warm, runs, src_bytes, dst_bytes, || run(fast));
    let reference = with_reference.then(|| median(1, 3, || run(detile::reference::nv15_to_p010)));
    Row {
        name,
        src_bytes,
        dst_bytes,
        times,
        reference,
    }
}

/// Compute-bound view: median CPU time per 128-byte column line of a
/// 1920 x 16 picture (luma_height 16, col_height 24: ≈ 30-60 KB source,
/// 30-90 KB destination, in L2) converted 1000 times per run.
fn in_cache(bits: usize, out: usize, f: SandFn, warm: usize, runs: usize) -> f64 {
    let per_col = if bits == 8 { 128 } else { 96 };
    let cols = W.div_ceil(per_col);
    let data = random_bytes(cols * 24 * 128, 42);
    let src = Sand128 {
        data: &data,
        col_height: 24,
        luma_height: 16,
    };
    let (mut y, mut uv) = (vec![0u8; W * out * 16], vec![0u8; W * out * 8]);
    let t = median(warm, runs, || {
        for _ in 0..1000 {
            let mut dst = LinearDst {
                y: &mut y,
                y_stride: W * out,
                uv: &mut uv,
                uv_stride: W * out,
            };
            f(black_box(&src), W as u32, 16, &mut dst).expect("bench geometry");
            black_box(&mut dst);
        }
    });
    t.as_secs_f64() * 1e9 / (cols * 24 * 1000) as f64
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (warm, runs) = if quick { (2, 11) } else { (5, 31) };
    let refs = !quick;
    let rows = [
        bench_sand(
            "NC12 -> NV12",
            8,
            1,
            detile::nc12_to_nv12,
            refs.then_some(detile::reference::nc12_to_nv12 as SandFn),
            warm,
            runs,
        ),
        bench_sand(
            "NC30 -> P010",
            10,
            2,
            detile::nc30_to_p010,
            refs.then_some(detile::reference::nc30_to_p010 as SandFn),
            warm,
            runs,
        ),
        bench_sand(
            "NC30 -> NV12",
            10,
            1,
            detile::nc30_to_nv12,
            refs.then_some(detile::reference::nc30_to_nv12 as SandFn),
            warm,
            runs,
        ),
        // the portable (SWAR) NC30 paths, which other targets run: on
        // x86_64 this is the A/B against the SSE2 kernels above
        bench_sand(
            "NC30->P010 pt",
            10,
            2,
            detile::portable::nc30_to_p010,
            None,
            warm,
            runs,
        ),
        bench_sand(
            "NC30->NV12 pt",
            10,
            1,
            detile::portable::nc30_to_nv12,
            None,
            warm,
            runs,
        ),
        bench_nv15("NV15 -> P010", detile::nv15_to_p010, warm, runs, refs),
        // the portable NV15 path (every target but aarch64): on aarch64 the
        // A/B against the NEON row heads above
        bench_nv15(
            "NV15->P010 pt",
            detile::portable::nv15_to_p010,
            warm,
            runs,
            false,
        ),
    ];
    println!(
        "detile bench: {W}x{H} (SAND128 luma_height {LUMA_HEIGHT}, col_height {COL_HEIGHT}), {} {}, median of {runs} runs after {warm} warm-up{}",
        std::env::consts::ARCH,
        if cfg!(target_feature = "avx2") { "avx2" } else if cfg!(target_feature = "ssse3") { "ssse3" } else if cfg!(target_feature = "sse2") { "sse2" } else if cfg!(target_feature = "neon") { "neon" } else { "scalar" },
        if quick { " (--quick)" } else { "" },
    );
    println!(
        "{:<14} {:>7} {:>7} | {:>9} {:>9} {:>9} {:>7} {:>7} | {:>9} {:>9} {:>9} {:>7} {:>7} | {:>8}",
        "", "", "", "CPU µs", "", "", "", "", "wall µs", "", "", "", "", ""
    );
    println!(
        "{:<14} {:>7} {:>7} | {:>9} {:>9} {:>9} {:>7} {:>7} | {:>9} {:>9} {:>9} {:>7} {:>7} | {:>8}",
        "kernel", "src MB", "dst MB", "detile", "cpy src", "cpy dst", "src×", "dst×", "detile", "cpy src", "cpy dst", "src×",
        "dst×", "ref µs"
    );
    for r in &rows {
        let [[c, cs, cd], [w, ws, wd]] = r.times.map(|t| t.map(us));
        println!(
            "{:<14} {:>7.2} {:>7.2} | {:>9.0} {:>9.0} {:>9.0} {:>7.2} {:>7.2} | {:>9.0} {:>9.0} {:>9.0} {:>7.2} {:>7.2} | {:>8}",
            r.name,
            r.src_bytes as f64 / 1e6,
            r.dst_bytes as f64 / 1e6,
            c,
            cs,
            cd,
            cs / c,
            cd / c,
            w,
            ws,
            wd,
            ws / w,
            wd / w,
            r.reference.map_or("-".to_string(), |d| format!("{:.0}", us(d))),
        );
    }
    println!(
        "src× / dst× = memcpy time of the source / destination bytes ÷ detile time (>= 1.0: as fast as \
         that memcpy; goal >= 0.8). CPU = this thread's CPU time (immune to preemption on a loaded \
         machine), wall = elapsed; ref = the per-sample reference (CPU µs, median of 3); \
         \"pt\" = the portable (no std::arch) path: NC30 off x86_64 and aarch64, NV15 off aarch64. \
         Under qemu-user (the arm64 cross tier) the times are emulation times, not a CPU's."
    );
    let hot: [(&str, usize, usize, SandFn); 5] = [
        ("NC12 -> NV12", 8, 1, detile::nc12_to_nv12),
        ("NC30 -> P010", 10, 2, detile::nc30_to_p010),
        ("NC30 -> NV12", 10, 1, detile::nc30_to_nv12),
        ("NC30->P010 pt", 10, 2, detile::portable::nc30_to_p010),
        ("NC30->NV12 pt", 10, 1, detile::portable::nc30_to_nv12),
    ];
    println!(
        "in cache (1920x16 picture, 1000 conversions per run), CPU ns per 128-byte column line:"
    );
    for (name, bits, out, f) in hot {
        println!(
            "{name:<14} {:>7.2}",
            in_cache(bits, out, f, warm.min(3), runs.min(11))
        );
    }
}
