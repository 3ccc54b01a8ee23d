//! Smoke test of the real V4L2 session against visl (run inside the VM):
//!
//! ```text
//! cargo build --example v4l2_smoke
//! tests/vm/trixie/run.sh -s $PWD -- ./target/debug/examples/v4l2_smoke
//! ```
//!
//! Discovers visl through the media topology, opens an H.264 session,
//! configures 320x240, queues 10 requests (5 pictures × 2 slices, the first
//! slice of each with `V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF` when the device is
//! slice-based), dequeues every picture, checks timestamps, order, dmabufs and
//! the CAPTURE mmap, and that ≥ 4 requests were in flight at once. Exits
//! non-zero on any failure. visl does not decode: the payload is filler and
//! the controls are plausible values for a 320x240 Baseline stream.

use std::os::fd::AsRawFd;
use std::time::Duration;

use v4l2r::bindings;
use vreq_core::{CodecKind, Control, DecodeJob, DecodeMode, StartCode, StreamParams};
use vreq_v4l2::discover::{discover, format_table};
use vreq_v4l2::session::Session;
use vreq_v4l2::DecoderDevice;

const W: u32 = 320;
const H: u32 = 240;
const PICTURES: usize = 5;
const SLICES: usize = 2;

fn sps() -> bindings::v4l2_ctrl_h264_sps {
    bindings::v4l2_ctrl_h264_sps {
        profile_idc: 66,
        level_idc: 30,
        chroma_format_idc: 1,
        log2_max_frame_num_minus4: 0,
        pic_order_cnt_type: 2,
        max_num_ref_frames: 1,
        pic_width_in_mbs_minus1: (W / 16 - 1) as u16,
        pic_height_in_map_units_minus1: (H / 16 - 1) as u16,
        flags: bindings::V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY,
        ..Default::default()
    }
}

fn ts(pic: usize) -> u64 {
    // Whole microseconds (V4L2 timestamps are timevals).
    (pic as u64 + 1) * 33_333_000
}

fn jobs(mode: DecodeMode, sc: StartCode) -> Vec<DecodeJob> {
    let mut out = Vec::new();
    let slices = if mode == DecodeMode::SliceBased {
        SLICES
    } else {
        1
    };
    for pic in 0..PICTURES {
        let idr = pic == 0;
        let mut dp = bindings::v4l2_ctrl_h264_decode_params {
            nal_ref_idc: 1,
            frame_num: pic as u16,
            top_field_order_cnt: 2 * pic as i32,
            bottom_field_order_cnt: 2 * pic as i32,
            flags: if idr {
                bindings::V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC
            } else {
                0
            },
            ..Default::default()
        };
        if !idr {
            dp.dpb[0] = bindings::v4l2_h264_dpb_entry {
                reference_ts: ts(pic - 1),
                pic_num: pic as u32 - 1,
                frame_num: pic as u16 - 1,
                fields: bindings::V4L2_H264_FRAME_REF as u8,
                top_field_order_cnt: 2 * (pic as i32 - 1),
                bottom_field_order_cnt: 2 * (pic as i32 - 1),
                flags: bindings::V4L2_H264_DPB_ENTRY_FLAG_VALID
                    | bindings::V4L2_H264_DPB_ENTRY_FLAG_ACTIVE,
                ..Default::default()
            };
        }
        for s in 0..slices {
            let mut sp = bindings::v4l2_ctrl_h264_slice_params {
                header_bit_size: 24,
                first_mb_in_slice: (s * (W * H / 256) as usize / slices) as u32,
                slice_type: if idr {
                    bindings::V4L2_H264_SLICE_TYPE_I
                } else {
                    bindings::V4L2_H264_SLICE_TYPE_P
                } as u8,
                ..Default::default()
            };
            if !idr {
                sp.ref_pic_list0[0] = bindings::v4l2_h264_reference {
                    fields: bindings::V4L2_H264_FRAME_REF as u8,
                    index: 0,
                };
            }
            let mut controls = Vec::new();
            if s == 0 {
                controls.push(Control::H264Sps(Box::new(sps())));
                controls.push(Control::H264Pps(Box::default()));
                controls.push(Control::H264DecodeParams(Box::new(dp)));
            }
            if mode == DecodeMode::SliceBased {
                controls.push(Control::H264SliceParams(Box::new(sp)));
            }
            let nal = if idr { 0x65u8 } else { 0x41 };
            let mut bitstream = if sc == StartCode::AnnexB {
                vec![0, 0, 1]
            } else {
                vec![]
            };
            bitstream.push(nal);
            bitstream.extend((0..200).map(|i| (i * 7 + pic + s) as u8 | 1));
            out.push(DecodeJob {
                timestamp_ns: ts(pic),
                controls,
                bitstream,
                hold_capture: s + 1 < slices,
                starts_picture: s == 0,
            });
        }
    }
    out
}

fn main() {
    if let Err(e) = run() {
        eprintln!("v4l2_smoke: FAIL: {e}");
        std::process::exit(1);
    }
    println!("v4l2_smoke: PASS");
}

fn run() -> Result<(), String> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
        .init();
    let devs = discover()?;
    print!("{}", format_table(&devs));
    let info = devs
        .iter()
        .find(|d| d.driver == "visl" && d.support(CodecKind::H264).is_some())
        .ok_or("no visl H.264 decoder found")?;
    let mut s = Session::open(info, CodecKind::H264).map_err(|e| e.to_string())?;
    let (mode, sc) = s.mode();
    println!(
        "session: {} mode {mode:?} start code {sc:?} profile {}",
        s.name(),
        s.profile().driver
    );
    let params = StreamParams {
        coded_width: W,
        coded_height: H,
        visible: (0, 0, W, H),
        bit_depth: 8,
        dpb_size: 1,
        frame_duration_ns: Some(33_333_333),
        pixel_aspect: (1, 1),
        color: Default::default(),
    };
    let capture_buffers = 8;
    let first = [Control::H264Sps(Box::new(sps()))];
    let fmt = s
        .configure(CodecKind::H264, &params, &first, capture_buffers)
        .map_err(|e| e.to_string())?;
    println!("capture format: {fmt:?}");
    // dmabufs: one per memory plane, valid fds, distinct.
    let mut fds = Vec::new();
    for i in 0..capture_buffers as usize {
        let d = s.capture_dmabufs(i);
        if d.is_empty() {
            return Err(format!("CAPTURE buffer {i} has no dmabuf"));
        }
        for fd in d {
            nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_GETFD)
                .map_err(|e| format!("dmabuf of CAPTURE {i} is not an open fd: {e}"))?;
            fds.push(fd.as_raw_fd());
        }
    }
    println!("exported {} dmabuf fds: {:?}", fds.len(), fds);

    let jobs = jobs(mode, sc);
    println!("queueing {} requests for {PICTURES} pictures", jobs.len());
    let mut done = Vec::new();
    let mut max_in_flight = 0;
    let mut max_in_kernel = 0;
    let mut next = 0;
    while done.len() < PICTURES {
        while next < jobs.len() && s.free_slots() > 0 {
            s.queue(&jobs[next]).map_err(|e| e.to_string())?;
            next += 1;
            max_in_flight = max_in_flight.max(s.in_flight());
            max_in_kernel = max_in_kernel.max(s.requests_not_completed());
        }
        match s
            .dequeue(Duration::from_secs(5))
            .map_err(|e| e.to_string())?
        {
            Some(c) => {
                let map = s.capture_map(c.capture_index).map_err(|e| e.to_string())?;
                let y = map.first().copied().unwrap_or(&[]);
                let nonzero = y.iter().take((W * H) as usize).filter(|&&b| b != 0).count();
                let sum: u64 = y.iter().take((W * H) as usize).map(|&b| b as u64).sum();
                println!(
                    "done: ts {} ns capture {} error {} | Y plane {} bytes mapped, {nonzero} nonzero, sum {sum}",
                    c.timestamp_ns,
                    c.capture_index,
                    c.error,
                    y.len()
                );
                if y.len() < (W * H) as usize {
                    return Err(format!(
                        "CAPTURE {} mapping too small: {}",
                        c.capture_index,
                        y.len()
                    ));
                }
                if nonzero == 0 {
                    return Err(format!(
                        "CAPTURE {} is all zero: visl wrote nothing?",
                        c.capture_index
                    ));
                }
                done.push(c);
            }
            None => {
                return Err(format!(
                    "timeout with {} in flight, {} done",
                    s.in_flight(),
                    done.len()
                ))
            }
        }
    }
    let got: Vec<u64> = done.iter().map(|c| c.timestamp_ns).collect();
    let want: Vec<u64> = (0..PICTURES).map(ts).collect();
    println!("timestamps out: {got:?}");
    if got != want {
        return Err(format!("timestamps {got:?} != {want:?}"));
    }
    if done.iter().any(|c| c.error) {
        return Err("a picture came back with V4L2_BUF_FLAG_ERROR".into());
    }
    for c in &done {
        s.requeue_capture(c.capture_index)
            .map_err(|e| e.to_string())?;
    }
    println!(
        "max requests in flight: {max_in_flight} queued and not reaped; \
         {max_in_kernel} of them not yet completed by the kernel at once"
    );
    if max_in_flight < 4 {
        return Err(format!(
            "only {max_in_flight} requests in flight (want ≥ 4)"
        ));
    }
    if s.in_flight() != 0 {
        return Err(format!("{} still in flight at the end", s.in_flight()));
    }
    // Phase 2: only 2 CAPTURE buffers, so requests must wait inside the
    // kernel (visl itself completes a request as soon as it can run): shows
    // the kernel holding >= 4 queued requests at once, and the recycle path.
    let fmt2 = s
        .configure(CodecKind::H264, &params, &first, 2)
        .map_err(|e| format!("reconfigure: {e}"))?;
    println!(
        "reconfigured with 2 CAPTURE buffers: {}x{} {:?}",
        fmt2.width, fmt2.height, fmt2.pixel_format
    );
    let mut next = 0;
    let mut got = Vec::new();
    let mut max_in_kernel = 0;
    while got.len() < PICTURES {
        while next < jobs.len() && s.free_slots() > 0 {
            s.queue(&jobs[next]).map_err(|e| e.to_string())?;
            next += 1;
        }
        max_in_kernel = max_in_kernel.max(s.requests_not_completed());
        let c = s
            .dequeue(Duration::from_secs(5))
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("phase 2: timeout after {} pictures", got.len()))?;
        got.push(c.timestamp_ns);
        s.requeue_capture(c.capture_index)
            .map_err(|e| e.to_string())?;
    }
    println!(
        "phase 2 timestamps: {got:?}; max requests pending inside the kernel: {max_in_kernel}"
    );
    if got != want {
        return Err(format!("phase 2 timestamps {got:?} != {want:?}"));
    }
    if max_in_kernel < 4 {
        return Err(format!(
            "phase 2: only {max_in_kernel} requests pending in the kernel (want >= 4)"
        ));
    }
    // Reconfigure (resolution change path) and drop.
    let p2 = StreamParams {
        coded_width: 640,
        coded_height: 480,
        visible: (0, 0, 640, 480),
        ..params
    };
    let fmt2 = s
        .configure(CodecKind::H264, &p2, &first, 4)
        .map_err(|e| format!("reconfigure: {e}"))?;
    println!(
        "reconfigured: {}x{} {:?}",
        fmt2.width, fmt2.height, fmt2.pixel_format
    );
    Ok(())
}
