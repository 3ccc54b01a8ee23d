//! Shows a synthetic NV12 test pattern in the vreqplay Wayland window, through
//! the real [`vreq_engine::Engine`] driven by a fake codec and a fake
//! device defined here (no V4L2 needed). Frames flow exactly as in the player:
//! engine → `Sink::show` → `wl_buffer.release` → frame dropped → CAPTURE
//! buffer back to the (fake) device.
//!
//! ```text
//! wl_pattern [--frames N] [--fps F] [--size WxH] [--crop-height H]
//!            [--shm] [--udmabuf] [--no-immed] [--hold SECONDS] [--osd]
//! ```
//! * default: 320x192 buffers, visible 320x180 (crop), 50 frames at 25 fps, CPU
//!   memory only (→ the `wl_shm` copy path).
//! * `--udmabuf`: every CAPTURE buffer is also a dmabuf made from a memfd with
//!   `/dev/udmabuf` (`UDMABUF_CREATE`) → the zero-copy path (needs root or
//!   access to /dev/udmabuf, and a compositor taking NV12).
//! * `--shm`: force the copy path.
//! * `--no-immed`: create every dmabuf `wl_buffer` with `create` (no `create_immed`).
//! * `--osd`: show the OSD over the pattern (a text line and the seek bar at
//!   62 s of 600 s, `hold: None`), e.g. to see it above zero-copy frames.
//! * `--hold S`: keep the window (last frame) for S seconds after the last frame
//!   (for screenshots).
//!
//! Picture: eight 75 % colour bars (BT.601 limited-range Y'CbCr: white, yellow,
//! cyan, green, magenta, red, blue, black) over the top two thirds, a grey ramp
//! (Y 16→235) below, and a white 16x16 square moving right 4 px per frame at
//! the bottom.
//!
//! Exit status: 0 when every frame the engine handed out came back to the
//! device (no leaked CAPTURE buffers), 1 otherwise or on any error.

use std::cell::Cell;
use std::collections::VecDeque;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileExt;
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

/// 75 % bars, BT.601 limited range (Y, Cb, Cr).
const BARS: [(u8, u8, u8); 8] = [
    (180, 128, 128), // white 75 %
    (162, 44, 142),  // yellow
    (131, 156, 44),  // cyan
    (112, 72, 58),   // green
    (84, 184, 198),  // magenta
    (65, 100, 212),  // red
    (35, 212, 114),  // blue
    (16, 128, 128),  // black
];

/// Draws frame `n` as NV12 into `buf` (Y at 0, CbCr at `stride * coded_h`).
fn draw(buf: &mut [u8], n: u64, w: usize, h: usize, stride: usize, coded_h: usize) {
    let (y_plane, uv_plane) = buf.split_at_mut(stride * coded_h);
    let bars_h = h * 2 / 3;
    for y in 0..h {
        for x in 0..w {
            y_plane[y * stride + x] = if y < bars_h {
                BARS[x * 8 / w].0
            } else {
                (16 + x * 219 / w.max(2).saturating_sub(1).max(1)) as u8
            };
        }
    }
    for cy in 0..h.div_ceil(2) {
        for cx in 0..w.div_ceil(2) {
            let (cb, cr) = if cy * 2 < bars_h {
                (BARS[cx * 2 * 8 / w].1, BARS[cx * 2 * 8 / w].2)
            } else {
                (128, 128)
            };
            uv_plane[cy * stride + 2 * cx] = cb;
            uv_plane[cy * stride + 2 * cx + 1] = cr;
        }
    }
    // moving square in the ramp area
    let sq = 16.min(w).min(h);
    let x0 = (n as usize * 4) % (w - sq + 1);
    let y0 = h - sq;
    for y in y0..y0 + sq {
        y_plane[y * stride + x0..y * stride + x0 + sq].fill(235);
    }
}

// ---------------------------------------------------------------------------
// TEST-ONLY udmabuf helper: a dmabuf backed by memfd pages (linux/udmabuf.h).
// vreqplay itself never does this; it exists so the zero-copy path can be
// exercised without a V4L2 decoder.

/// `struct udmabuf_create` (include/uapi/linux/udmabuf.h).
#[repr(C)]
struct UdmabufCreate {
    memfd: u32,
    flags: u32,
    offset: u64,
    size: u64,
}
/// `UDMABUF_FLAGS_CLOEXEC`.
const UDMABUF_FLAGS_CLOEXEC: u32 = 0x01;
// #define UDMABUF_CREATE _IOW('u', 0x42, struct udmabuf_create)
nix::ioctl_write_ptr!(udmabuf_create, b'u', 0x42, UdmabufCreate);

/// A memfd (CPU writes via pwrite) and the dmabuf made from its pages.
struct Udmabuf {
    memfd: std::fs::File,
    dmabuf: OwnedFd,
}

fn make_udmabuf(len: usize) -> Result<Udmabuf, String> {
    use nix::fcntl::{fcntl, FcntlArg, SealFlag};
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
    use std::os::fd::{AsRawFd, FromRawFd};
    let size = len.div_ceil(4096) * 4096;
    let memfd = memfd_create(
        c"vreqplay-udmabuf",
        MemFdCreateFlag::MFD_ALLOW_SEALING | MemFdCreateFlag::MFD_CLOEXEC,
    )
    .map_err(|e| format!("memfd_create: {e}"))?;
    let memfd = std::fs::File::from(memfd);
    memfd
        .set_len(size as u64)
        .map_err(|e| format!("ftruncate: {e}"))?;
    // udmabuf requires F_SEAL_SHRINK (drivers/dma-buf/udmabuf.c: SEALS_WANTED)
    fcntl(
        memfd.as_raw_fd(),
        FcntlArg::F_ADD_SEALS(SealFlag::F_SEAL_SHRINK),
    )
    .map_err(|e| format!("F_ADD_SEALS: {e}"))?;
    let dev = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/udmabuf")
        .map_err(|e| format!("/dev/udmabuf: {e}"))?;
    let arg = UdmabufCreate {
        memfd: memfd.as_raw_fd() as u32,
        flags: UDMABUF_FLAGS_CLOEXEC,
        offset: 0,
        size: size as u64,
    };
    // SAFETY: `arg` is a live, correctly laid out `struct udmabuf_create`; the kernel only reads it.
    let fd = unsafe { udmabuf_create(dev.as_raw_fd(), &arg) }
        .map_err(|e| format!("UDMABUF_CREATE: {e}"))?;
    // SAFETY: on success UDMABUF_CREATE returns a new dmabuf fd that nothing else owns.
    let dmabuf = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(Udmabuf { memfd, dmabuf })
}
// ---------------------------------------------------------------------------

/// A codec that turns every unit into one frame-based picture, output at once.
struct PatternCodec {
    params: StreamParams,
    frame_ns: i64,
    n: u64,
    events: VecDeque<CodecEvent>,
}

impl StatelessCodec for PatternCodec {
    fn kind(&self) -> CodecKind {
        CodecKind::H264
    }
    fn set_mode(&mut self, _: DecodeMode, _: StartCode) {}
    fn push(&mut self, _unit: CodedUnit<'_>) -> Result<(), CodecError> {
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
            pts_ns: ts as i64 * self.frame_ns,
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

/// A device that "decodes" by drawing the pattern into the next free CAPTURE buffer.
struct PatternDevice {
    udmabuf: bool,
    visible: (usize, usize),
    stride: usize,
    coded_h: usize,
    bufs: Vec<(Vec<u8>, Option<Udmabuf>)>,
    free: VecDeque<usize>,
    done: VecDeque<Completed>,
    returned: Rc<Cell<u64>>,
}

impl PatternDevice {
    fn err(&self, what: String) -> DeviceError {
        DeviceError::Unsupported(what, self.name())
    }
}

impl DecoderDevice for PatternDevice {
    fn name(&self) -> String {
        "pattern (fake)".into()
    }
    fn mode(&self) -> (DecodeMode, StartCode) {
        (DecodeMode::FrameBased, StartCode::AnnexB)
    }
    fn configure(
        &mut self,
        _: CodecKind,
        p: &StreamParams,
        _: &[Control],
        capture_buffers: u32,
    ) -> Result<CaptureFormat, DeviceError> {
        self.stride = (p.coded_width as usize).div_ceil(64) * 64;
        self.coded_h = p.coded_height as usize;
        let len = self.stride * self.coded_h * 3 / 2;
        self.bufs.clear();
        self.free.clear();
        for i in 0..capture_buffers as usize {
            let ub = if self.udmabuf {
                Some(make_udmabuf(len).map_err(|e| self.err(e))?)
            } else {
                None
            };
            self.bufs.push((vec![0u8; len], ub));
            self.free.push_back(i);
        }
        Ok(CaptureFormat {
            pixel_format: PixelFormat::Nv12,
            width: p.coded_width,
            height: p.coded_height,
            planes: vec![
                PlaneLayout {
                    memory_plane: 0,
                    offset: 0,
                    stride: self.stride,
                },
                PlaneLayout {
                    memory_plane: 0,
                    offset: self.stride * self.coded_h,
                    stride: self.stride,
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
        let Some(i) = self.free.pop_front() else {
            return Err(self.err("no free CAPTURE buffer".into()));
        };
        let (w, h) = self.visible;
        let (stride, coded_h) = (self.stride, self.coded_h);
        let (data, ub) = &mut self.bufs[i];
        draw(data, job.timestamp_ns, w, h, stride, coded_h);
        if let Some(ub) = ub {
            ub.memfd.write_all_at(data, 0).map_err(|e| {
                DeviceError::Unsupported(format!("memfd write: {e}"), "pattern".into())
            })?;
        }
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
    fn capture_dmabufs(&self, index: usize) -> Vec<BorrowedFd<'_>> {
        self.bufs
            .get(index)
            .and_then(|b| b.1.as_ref())
            .map(|u| vec![u.dmabuf.as_fd()])
            .unwrap_or_default()
    }
    fn capture_plane_lengths(&self, index: usize) -> Vec<usize> {
        self.bufs
            .get(index)
            .map(|b| vec![b.0.len()])
            .unwrap_or_default()
    }
    fn capture_map(&self, index: usize) -> Result<Vec<&[u8]>, DeviceError> {
        Ok(self
            .bufs
            .get(index)
            .map(|b| vec![b.0.as_slice()])
            .unwrap_or_default())
    }
    fn mapped_captures(&self) -> usize {
        // Plain memory, always readable.
        self.bufs.len()
    }
}

struct Args {
    frames: u64,
    fps: u64,
    size: (u32, u32),
    crop_h: Option<u32>,
    shm: bool,
    udmabuf: bool,
    no_immed: bool,
    hold: f64,
    osd: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        frames: 50,
        fps: 25,
        size: (320, 192),
        crop_h: Some(180),
        shm: false,
        udmabuf: false,
        no_immed: false,
        hold: 0.0,
        osd: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = |n: &str| it.next().ok_or_else(|| format!("{n} needs a value"));
        match arg.as_str() {
            "--frames" => a.frames = val("--frames")?.parse().map_err(|e| format!("--frames: {e}"))?,
            "--fps" => a.fps = val("--fps")?.parse().map_err(|e| format!("--fps: {e}"))?,
            "--size" => {
                let v = val("--size")?;
                let (w, h) = v.split_once('x').ok_or("--size WxH")?;
                a.size = (w.parse().map_err(|e| format!("--size: {e}"))?, h.parse().map_err(|e| format!("--size: {e}"))?);
                a.crop_h = None;
            }
            "--crop-height" => a.crop_h = Some(val("--crop-height")?.parse().map_err(|e| format!("--crop-height: {e}"))?),
            "--shm" => a.shm = true,
            "--udmabuf" => a.udmabuf = true,
            "--no-immed" => a.no_immed = true,
            "--osd" => a.osd = true,
            "--hold" => a.hold = val("--hold")?.parse().map_err(|e| format!("--hold: {e}"))?,
            "-h" | "--help" => return Err("usage: wl_pattern [--frames N] [--fps F] [--size WxH] [--crop-height H] [--shm] [--udmabuf] [--no-immed] [--hold S] [--osd]".into()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.fps == 0 || a.size.0 < 16 || a.size.1 < 16 || a.size.0 > 4096 || a.size.1 > 4096 {
        return Err("need fps > 0 and 16 ≤ size ≤ 4096".into());
    }
    Ok(a)
}

fn run() -> Result<bool, String> {
    let a = parse_args()?;
    let (cw, ch) = a.size;
    let vh = a.crop_h.unwrap_or(ch).min(ch);
    let frame_ns = 1_000_000_000 / a.fps as i64;
    let params = StreamParams {
        coded_width: cw,
        coded_height: ch,
        visible: (0, 0, cw, vh),
        bit_depth: 8,
        dpb_size: 4,
        frame_duration_ns: Some(frame_ns as u64),
        pixel_aspect: (1, 1),
        color: Default::default(),
    };
    let returned = Rc::new(Cell::new(0));
    let device = PatternDevice {
        udmabuf: a.udmabuf,
        visible: (cw as usize, vh as usize),
        stride: 0,
        coded_h: 0,
        bufs: Vec::new(),
        free: VecDeque::new(),
        done: VecDeque::new(),
        returned: returned.clone(),
    };
    let codec = PatternCodec {
        params,
        frame_ns,
        n: 0,
        events: VecDeque::new(),
    };
    let mut dec = Engine::new(Box::new(codec), device);
    let mut opts = WindowOptions::for_input(std::path::Path::new("wl_pattern"));
    opts.force_shm = a.shm;
    opts.dmabuf_immed = !a.no_immed;
    let mut sink = WaylandSink::open(&opts).map_err(|e| e.to_string())?;
    if a.osd {
        sink.set_osd(Some(vreq_present::Osd {
            text: vec!["wl_pattern".into()],
            progress: Some((62_000_000_000, 600_000_000_000)),
            hold: None,
        }));
    }
    println!(
        "wl_pattern: window open; compositor dmabuf pairs: {}",
        sink.dmabuf_formats().len()
    );

    let t0 = Instant::now();
    let mut shown = 0u64;
    for _ in 0..a.frames {
        dec.decode(CodedUnit {
            data: &[0],
            pts_ns: None,
            keyframe: true,
            byte_offset: 0,
        })
        .map_err(|e| e.to_string())?;
        while let Some(frame) = dec.next_frame() {
            let due = t0 + Duration::from_nanos(frame.pts_ns.max(0) as u64);
            if let Some(d) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(d);
            }
            sink.show(frame, &EngineFrames(&dec), Some(due))
                .map_err(|e| e.to_string())?;
            shown += 1;
        }
        sink.dispatch().map_err(|e| e.to_string())?;
    }
    dec.finish().map_err(|e| e.to_string())?;
    sink.finish().map_err(|e| e.to_string())?;
    if let Some(pts) = sink.stats().last_pts_ns {
        let n = pts / frame_ns;
        let sq = 16.min(cw as i64).min(vh as i64);
        println!(
            "wl_pattern: holding; last committed frame #{n}: moving square at x = {} of {cw}",
            (n * 4) % (cw as i64 - sq + 1)
        );
    }
    let hold_until = Instant::now() + Duration::from_secs_f64(a.hold.max(0.0));
    while Instant::now() < hold_until {
        sink.dispatch().map_err(|e| e.to_string())?;
        let _ = dec.next_frame(); // lets the engine recycle released buffers
        std::thread::sleep(Duration::from_millis(50));
    }
    let ws = sink.stats();
    let path = format!("{:?}", sink.path());
    drop(sink);
    let _ = dec.next_frame(); // recycle what the sink gave back when it closed
    let st = dec.stats();
    println!("wl_pattern: path: {path}");
    println!(
        "wl_pattern: engine output {} frames, handed to sink {shown}; window: {} zero-copy, {} copied, {} dropped, {} dmabuf wl_buffers, {} releases",
        st.output, ws.shown_dmabuf, ws.shown_shm, ws.dropped, ws.dmabuf_buffers, ws.dmabuf_releases
    );
    println!(
        "wl_pattern: CAPTURE buffers returned to the device: {} of {}",
        returned.get(),
        st.output
    );
    Ok(returned.get() == st.output
        && shown == a.frames
        && ws.shown_dmabuf + ws.shown_shm + ws.dropped == shown)
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run() {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("wl_pattern: FAILED: frame accounting does not add up");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("wl_pattern: {e}");
            std::process::exit(1);
        }
    }
}
