//! Shows the window's OSD over a plain picture, for looking at it (e.g. in
//! the VM: `tests/vm/window-test.sh -f target/debug/examples/osd_demo --
//! ./osd_demo`) and for exercising the test hook: a 640x360 NV12 picture
//! (dark blue, through the `wl_shm` copy path) at 25 fps with the OSD set to
//! two text lines and a seek bar at 62 s of 600 s (`hold: None`: stays).
//! Every command the window hands out (keys, or key names from the file /
//! FIFO named by `VREQ_TEST_KEYS`) is printed as `osd_demo: command <cmd>`;
//! `o` shows the bar again with `hold` 1 s (it then fades out), `q` quits.
//!
//! ```text
//! osd_demo [SECONDS]     (default 30; exit status 0, 1 on a window error)
//! ```

use std::cell::RefCell;
use std::os::fd::BorrowedFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use vreq_frame::{BufferReturn, CaptureFormat, DecodedFrame, PixelFormat, PlaneLayout, PlanesRef};
use vreq_present::wayland::{WaylandSink, WindowOptions};
use vreq_present::{FrameSource, Osd, PresentError, Sink, UserCommand};

const W: u32 = 640;
const H: u32 = 360;

/// One NV12 picture in memory.
struct Picture(Vec<u8>);

impl FrameSource for Picture {
    fn planes(&self, _: &DecodedFrame) -> Result<PlanesRef<'_>, PresentError> {
        let (y, uv) = self.0.split_at((W * H) as usize);
        Ok(PlanesRef {
            format: PixelFormat::Nv12,
            width: W,
            height: H,
            planes: [(y, W as usize), (uv, W as usize), (&[], 0)],
        })
    }
    fn dmabufs(&self, _: &DecodedFrame) -> Vec<BorrowedFd<'_>> {
        Vec::new()
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    if let Err(e) = run(Duration::from_secs(secs)) {
        eprintln!("osd_demo: {e}");
        std::process::exit(1);
    }
}

fn run(length: Duration) -> Result<(), vreq_present::PresentError> {
    let opts = WindowOptions {
        title: "osd_demo".into(),
        app_id: "vreqplay".into(),
        force_shm: true,
        dmabuf_immed: true,
        fullscreen: false,
        test_keys: std::env::var_os("VREQ_TEST_KEYS").map(Into::into),
    };
    let mut sink = WaylandSink::open(&opts)?;
    // dark blue: Y 40, Cb 160, Cr 118 (BT.601 limited range)
    let mut px = vec![40u8; (W * H) as usize];
    px.extend(std::iter::repeat_n([160u8, 118u8], (W * H / 4) as usize).flatten());
    let pic = Picture(px);
    let format = Rc::new(CaptureFormat {
        pixel_format: PixelFormat::Nv12,
        width: W,
        height: H,
        planes: vec![
            PlaneLayout {
                memory_plane: 0,
                offset: 0,
                stride: W as usize,
            },
            PlaneLayout {
                memory_plane: 0,
                offset: (W * H) as usize,
                stride: W as usize,
            },
        ],
    });
    let returned = Rc::new(RefCell::new(Vec::new()));
    let progress = Some((62_000_000_000, 600_000_000_000));
    sink.set_osd(Some(Osd {
        text: vec!["osd_demo — clip.mkv".into(), "Volume: 52%".into()],
        progress,
        hold: None,
    }));
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < length {
        let frame = DecodedFrame {
            pts_ns: n as i64 * 40_000_000,
            capture_index: 0,
            generation: 1,
            format: format.clone(),
            visible: (0, 0, W, H),
            pixel_aspect: (1, 1),
            color: vreq_frame::ColorInfo::from_height(H),
            release: BufferReturn::new(&returned, 1, 0),
        };
        let due = start + Duration::from_millis(40 * n);
        sink.show(frame, &pic, Some(due))?;
        n += 1;
        for c in sink.take_commands() {
            println!("osd_demo: command {c:?}");
            match c {
                UserCommand::Quit => return Ok(()),
                UserCommand::ShowProgress => sink.set_osd(Some(Osd {
                    text: vec![],
                    progress,
                    hold: Some(Duration::from_secs(1)),
                })),
                _ => {}
            }
        }
    }
    sink.finish()?;
    println!("osd_demo: {} frames, {:?}", n, sink.present_stats());
    Ok(())
}
