//! Shows 75 % colour bars decoded "into" a packed / tiled CAPTURE format
//! (NC12 / NC30 SAND128 as rpi-hevc-dec writes them, NV15 as rkvdec does) in
//! the vreqplay Wayland window, through the real engine and Wayland sink.
//! The fake device's buffers are CPU memory only (no dmabufs), so frames take
//! the copy path: unpacked by `frame::detile` into a linear NV12 / P010
//! dmabuf (dma-heap / udmabuf, when the compositor takes it), a `wl_shm`
//! NV12 buffer, or XRGB8888.
//!
//! ```text
//! wl_tiled [--format nc12|nc30|nv15] [--frames N] [--hold SECONDS] [--shm]
//! ```
//! Picture: 8 vertical bars (white, yellow, cyan, green, magenta, red, blue,
//! black; BT.601 limited range) over a visible 300x170 inside a 320x176
//! coded picture (the crop is the viewport's). Exit status 0 when every
//! CAPTURE buffer came back.
//!
//! Checked in the VM (weston 14 headless, GL renderer on llvmpipe; screenshots
//! looked at: the 8 bars, right colours, 300x170):
//! ```text
//! tests/vm/window-test.sh -w 25 -f target/debug/examples/wl_tiled -- ./wl_tiled --format nc12 --frames 40 --hold 40
//!   → LinearDmabuf(Nv12) from /dev/dma_heap/system
//! tests/vm/window-test.sh -w 60 -f target/debug/examples/wl_tiled -- ./wl_tiled --format nc30 --frames 20 --hold 120
//!   → LinearDmabuf(P010) (with -w 6 / 25 the shot came before weston, 20 s behind under TCG, showed it)
//! tests/vm/window-test.sh -w 6 -f target/debug/examples/wl_tiled -- ./wl_tiled --format nv15 --shm --frames 40 --hold 30
//!   → ShmNv12 (weston's wl_shm lists NV12)
//! ```

use std::cell::Cell;
use std::collections::VecDeque;
use std::os::fd::BorrowedFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use vreq_core::{CodecError, CodecEvent, StatelessCodec};
use vreq_core::{CodecKind, CodedUnit, Control, DecodeJob, DecodeMode, StartCode, StreamParams};
use vreq_engine::Engine;
use vreq_frame::PixelFormat;
use vreq_frame::{CaptureFormat, PlaneLayout};
use vreq_present::wayland::{WaylandSink, WindowOptions};
use vreq_present::Sink;
use vreq_v4l2::{Completed, DecoderDevice, DeviceError};
use vreqplay::player::EngineFrames;

const BARS: [(u16, u16, u16); 8] = [
    (180, 128, 128),
    (162, 44, 142),
    (131, 156, 44),
    (112, 72, 58),
    (84, 184, 198),
    (65, 100, 212),
    (35, 212, 114),
    (16, 128, 128),
];
const VIS: (usize, usize) = (300, 170);
const CODED: (usize, usize) = (320, 176);

/// 8-bit (Y, Cb, Cr) of luma pixel x / chroma pair x.
fn luma(x: usize) -> u16 {
    BARS[x * 8 / VIS.0].0
}
fn chroma(cx: usize, i: usize) -> u16 {
    let b = BARS[(cx * 2 * 8 / VIS.0).min(7)];
    if i == 0 {
        b.1
    } else {
        b.2
    }
}

/// Sample `i` of row `r` of plane `p` (0 luma, 1 CbCr interleaved), 8-bit scale.
fn sample(p: usize, i: usize) -> u16 {
    if p == 0 {
        luma(i.min(VIS.0 - 1))
    } else {
        chroma((i / 2).min(VIS.0 / 2 - 1), i % 2)
    }
}

struct Layout {
    pf: PixelFormat,
    width: usize,
    height: usize,
    stride: usize,
    len: usize,
}

fn layout(pf: PixelFormat) -> Layout {
    let (w, h) = CODED;
    match pf {
        PixelFormat::Nc12 => Layout {
            pf,
            width: w.next_multiple_of(128),
            height: h,
            stride: h * 3 / 2,
            len: h * 3 / 2 * w.next_multiple_of(128),
        },
        PixelFormat::Nc30 => {
            let width = w.div_ceil(3).next_multiple_of(32) * 3;
            Layout {
                pf,
                width,
                height: h,
                stride: h * 3 / 2,
                len: h * 3 / 2 * 128 * (width / 96),
            }
        }
        _ => Layout {
            pf,
            width: w,
            height: h,
            stride: w * 5 / 4,
            len: w * 5 / 4 * h * 3 / 2,
        },
    }
}

/// Draws the bars into `buf` in `l`'s format (rows 0..coded height).
fn draw(buf: &mut [u8], l: &Layout) {
    buf.fill(0);
    let rows = |p: usize| if p == 0 { l.height } else { l.height / 2 };
    for p in 0..2 {
        for r in 0..rows(p) {
            for i in 0..CODED.0 {
                let v = sample(p, i);
                match l.pf {
                    PixelFormat::Nc12 => {
                        let line = if p == 0 { r } else { l.height + r };
                        buf[(i / 128) * l.stride * 128 + line * 128 + i % 128] = v as u8;
                    }
                    PixelFormat::Nc30 => {
                        let line = if p == 0 { r } else { l.height + r };
                        let (c, k) = (i / 96, i % 96);
                        let o = c * l.stride * 128 + line * 128 + (k / 3) * 4;
                        let mut word = u32::from_le_bytes(buf[o..o + 4].try_into().unwrap());
                        word |= u32::from(v << 2) << (10 * (k % 3));
                        buf[o..o + 4].copy_from_slice(&word.to_le_bytes());
                    }
                    _ => {
                        // NV15: 4 samples in 5 bytes, little-endian bit order
                        let base = if p == 0 { 0 } else { l.stride * l.height } + r * l.stride;
                        let bit = i * 10;
                        let o = base + bit / 8;
                        let cur = u16::from_le_bytes([buf[o], buf[o + 1]]);
                        let nv = cur | ((v << 2) << (bit % 8));
                        buf[o..o + 2].copy_from_slice(&nv.to_le_bytes());
                    }
                }
            }
        }
    }
}

struct Codec {
    params: StreamParams,
    n: u64,
    events: VecDeque<CodecEvent>,
}

impl StatelessCodec for Codec {
    fn kind(&self) -> CodecKind {
        CodecKind::Hevc
    }
    fn set_mode(&mut self, _: DecodeMode, _: StartCode) {}
    fn push(&mut self, _: CodedUnit<'_>) -> Result<(), CodecError> {
        if self.n == 0 {
            self.events.push_back(CodecEvent::Configure(self.params));
        }
        let ts = self.n;
        self.events.push_back(CodecEvent::Decode(DecodeJob {
            timestamp_ns: ts,
            controls: Vec::<Control>::new(),
            bitstream: Vec::new(),
            hold_capture: false,
            starts_picture: true,
        }));
        self.events.push_back(CodecEvent::Output {
            timestamp_ns: ts,
            pts_ns: ts as i64 * 40_000_000,
        });
        self.events
            .push_back(CodecEvent::Unref { timestamp_ns: ts });
        self.n += 1;
        Ok(())
    }
    fn flush(&mut self) -> Result<(), CodecError> {
        Ok(())
    }
    fn reset(&mut self) {}
    fn poll(&mut self) -> Option<CodecEvent> {
        self.events.pop_front()
    }
}

struct Device {
    pf: PixelFormat,
    bufs: Vec<Vec<u8>>,
    free: VecDeque<usize>,
    done: VecDeque<Completed>,
    returned: Rc<Cell<u64>>,
}

impl DecoderDevice for Device {
    fn name(&self) -> String {
        format!("tiled {:?} (fake)", self.pf)
    }
    fn mode(&self) -> (DecodeMode, StartCode) {
        (DecodeMode::FrameBased, StartCode::None)
    }
    fn configure(
        &mut self,
        _: CodecKind,
        _: &StreamParams,
        _: &[Control],
        n: u32,
    ) -> Result<CaptureFormat, DeviceError> {
        let l = layout(self.pf);
        let mut pic = vec![0u8; l.len];
        draw(&mut pic, &l);
        self.bufs = (0..n).map(|_| pic.clone()).collect();
        self.free = (0..n as usize).collect();
        let chroma = match self.pf {
            PixelFormat::Nv15 => l.stride * l.height,
            _ => l.height * 128,
        };
        Ok(CaptureFormat {
            pixel_format: self.pf,
            width: l.width as u32,
            height: l.height as u32,
            planes: vec![
                PlaneLayout {
                    memory_plane: 0,
                    offset: 0,
                    stride: l.stride,
                },
                PlaneLayout {
                    memory_plane: 0,
                    offset: chroma,
                    stride: l.stride,
                },
            ],
        })
    }
    fn free_slots(&self) -> usize {
        if self.free.is_empty() {
            0
        } else {
            4usize.saturating_sub(self.done.len())
        }
    }
    fn queue(&mut self, job: &DecodeJob) -> Result<(), DeviceError> {
        let i = self.free.pop_front().ok_or_else(|| {
            DeviceError::Unsupported("no free CAPTURE buffer".into(), self.name())
        })?;
        self.done.push_back(Completed {
            timestamp_ns: job.timestamp_ns,
            capture_index: i,
            error: false,
        });
        Ok(())
    }
    fn dequeue(&mut self, _: Duration) -> Result<Option<Completed>, DeviceError> {
        Ok(self.done.pop_front())
    }
    fn in_flight(&self) -> usize {
        self.done.len()
    }
    fn requeue_capture(&mut self, index: usize) -> Result<(), DeviceError> {
        self.returned.set(self.returned.get() + 1);
        self.free.push_back(index);
        Ok(())
    }
    fn capture_dmabufs(&self, _: usize) -> Vec<BorrowedFd<'_>> {
        Vec::new()
    }
    fn capture_plane_lengths(&self, index: usize) -> Vec<usize> {
        self.bufs
            .get(index)
            .map(|b| vec![b.len()])
            .unwrap_or_default()
    }
    fn capture_map(&self, index: usize) -> Result<Vec<&[u8]>, DeviceError> {
        Ok(self
            .bufs
            .get(index)
            .map(|b| vec![b.as_slice()])
            .unwrap_or_default())
    }
    fn mapped_captures(&self) -> usize {
        // Plain memory, always readable.
        self.bufs.len()
    }
}

fn run() -> Result<bool, String> {
    let mut pf = PixelFormat::Nc12;
    let (mut frames, mut hold, mut shm) = (50u64, 0f64, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--format" => {
                pf = match val()?.as_str() {
                    "nc12" => PixelFormat::Nc12,
                    "nc30" => PixelFormat::Nc30,
                    "nv15" => PixelFormat::Nv15,
                    f => return Err(format!("unknown format {f}")),
                }
            }
            "--frames" => frames = val()?.parse().map_err(|e| format!("--frames: {e}"))?,
            "--hold" => hold = val()?.parse().map_err(|e| format!("--hold: {e}"))?,
            "--shm" => shm = true,
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    let params = StreamParams {
        coded_width: CODED.0 as u32,
        coded_height: CODED.1 as u32,
        visible: (0, 0, VIS.0 as u32, VIS.1 as u32),
        bit_depth: pf.bit_depth(),
        dpb_size: 1,
        frame_duration_ns: Some(40_000_000),
        pixel_aspect: (1, 1),
        color: Default::default(),
    };
    let returned = Rc::new(Cell::new(0));
    let dev = Device {
        pf,
        bufs: Vec::new(),
        free: VecDeque::new(),
        done: VecDeque::new(),
        returned: returned.clone(),
    };
    let mut dec = Engine::new(
        Box::new(Codec {
            params,
            n: 0,
            events: VecDeque::new(),
        }),
        dev,
    );
    let mut opts = WindowOptions::for_input(std::path::Path::new("wl_tiled"));
    opts.force_shm = shm;
    let mut sink = WaylandSink::open(&opts).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut given = 0u64;
    for n in 0..frames {
        dec.decode(CodedUnit {
            data: &[0],
            pts_ns: None,
            keyframe: true,
            byte_offset: 0,
        })
        .map_err(|e| e.to_string())?;
        while let Some(f) = dec.next_frame() {
            given += 1;
            let due = start + Duration::from_millis(40 * n);
            if let Some(d) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(d);
            }
            sink.show(f, &EngineFrames(&dec), Some(due))
                .map_err(|e| e.to_string())?;
        }
    }
    dec.finish().map_err(|e| e.to_string())?;
    while let Some(f) = dec.next_frame() {
        given += 1;
        sink.show(f, &EngineFrames(&dec), None)
            .map_err(|e| e.to_string())?;
    }
    sink.finish().map_err(|e| e.to_string())?;
    let s = sink.stats();
    println!(
        "wl_tiled: {pf:?}, path: {:?}; {} zero-copy, {} copied, {} dropped",
        sink.path(),
        s.shown_dmabuf,
        s.shown_shm,
        s.dropped
    );
    println!("wl_tiled: holding");
    let until = Instant::now() + Duration::from_secs_f64(hold);
    while Instant::now() < until {
        sink.dispatch().map_err(|e| e.to_string())?;
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(sink);
    println!("wl_tiled: {given} frames out, {} returned", returned.get());
    Ok(given == returned.get())
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run() {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("wl_tiled: {e}");
            std::process::exit(1)
        }
    }
}
