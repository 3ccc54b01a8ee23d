//! The emulator (`oracle::visl_fmt::emulate`) against real visl traces of
//! GStreamer 1.26.2 on kernel 6.12 (tests/oracle/samples/, captured with
//! tests/oracle/guest-trace.sh; H.264, HEVC, VP9, VP8 and MPEG-2), and the normaliser's
//! invariances (DPB slots, timestamps, controls sent only on change) and
//! sensitivity (a wrong reference or field is the first difference).

use v4l2r::bindings as b;
use vreq_core::{Control, DecodeJob};
use vreq_oracle::compare;
use vreq_oracle::normalise_trace;
use vreq_oracle::trace::{is_visl_control_event, parse, split_events};
use vreq_oracle::visl_fmt::{emulate, jobs_setting_all};

fn sample(name: &str) -> String {
    let p = vreq_testkit::repo_dir()
        .join("tests/oracle/samples")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const SAMPLES: [&str; 2] = [
    "64x64-I-P-B-P-high.gst.trace",
    "wpt-webcodecs-h264-6jobs.gst.trace",
];

/// HEVC: the first 6 jobs of gizmo_hevc_8bit_420.mp4 (I, P, 4 B with two
/// references in a list); VP9: vp90-2-10-show-existing-frame2 (9 jobs for 16
/// frames: a hidden alt-ref, inter frames, show_existing_frame).
const HEVC_SAMPLE: &str = "gizmo_hevc_8bit-6jobs.gst.trace";
const VP9_SAMPLE: &str = "vp90-2-10-show-existing-frame2.gst.trace";

/// visl's control events of a trace as (name, body) pairs.
fn visl_events(text: &str) -> Vec<(String, String)> {
    split_events(text)
        .0
        .into_iter()
        .filter(|e| is_visl_control_event(&e.name))
        .map(|e| (e.name, e.body))
        .collect()
}

/// HEVC and VP9: every event the emulator prints is byte-identical to
/// visl's (flag tables incl. visl's missing TRANSFORM_SKIP name, s8 arrays
/// as unsigned, hex dumps, leading spaces of the VP9 coef/mv events).
#[test]
fn hevc_and_vp9_events_are_byte_identical_to_visl() {
    for (s, per_job) in [(HEVC_SAMPLE, 5 + 16 + 1), (VP9_SAMPLE, 4)] {
        let real = sample(s);
        let t = parse(&real).unwrap();
        assert!(t.warnings.is_empty(), "{s}: {:?}", t.warnings);
        assert!(t.job_count() > 0);
        let emu = emulate(&jobs_setting_all(&t));
        let (a, b) = (visl_events(&real), visl_events(&emu));
        assert_eq!(a.len(), t.job_count() * per_job, "{s}: events per job");
        assert_eq!(a.len(), b.len(), "{s}: event count");
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(x, y, "{s}: event {i} differs");
        }
        assert_eq!(
            normalise_trace(&real, &[], None).unwrap(),
            normalise_trace(&emu, &[], None).unwrap()
        );
    }
}

fn cmp(a: &str, b: &str) -> compare::Comparison {
    compare::compare(&compare::read(a).unwrap(), &compare::read(b).unwrap())
}

/// HEVC jobs as a codec would send them — other timestamps, the DPB in
/// reverse slot order (ref_idx / poc_st_curr_* remapped), SPS/PPS only in the
/// first request — normalise exactly like GStreamer's; a reference naming
/// the wrong picture, or a wrong POC in the DPB, is the first difference.
#[test]
fn hevc_jobs_with_other_slots_and_timestamps_match_gstreamer() {
    let gst_text = sample(HEVC_SAMPLE);
    let t = parse(&gst_text).unwrap();
    let gst = normalise_trace(&gst_text, &[], None).unwrap();
    let build = |tweak: &dyn Fn(
        usize,
        &mut b::v4l2_ctrl_hevc_decode_params,
        &mut b::v4l2_ctrl_hevc_slice_params,
    )| {
        t.hevc_jobs
            .iter()
            .enumerate()
            .map(|(i, j)| {
                let mut d = j.decode_params;
                let mut sp = j.slice_params;
                let n = d.num_active_dpb_entries as usize;
                // reverse the active DPB slots, remap every index into it
                let remap = |x: u8| {
                    if (x as usize) < n {
                        (n - 1 - x as usize) as u8
                    } else {
                        x
                    }
                };
                let old = d.dpb;
                for k in 0..n {
                    d.dpb[k] = old[n - 1 - k];
                }
                for k in 0..16 {
                    d.poc_st_curr_before[k] = remap(d.poc_st_curr_before[k]);
                    d.poc_st_curr_after[k] = remap(d.poc_st_curr_after[k]);
                    d.poc_lt_curr[k] = remap(d.poc_lt_curr[k]);
                    sp.ref_idx_l0[k] = remap(sp.ref_idx_l0[k]);
                    sp.ref_idx_l1[k] = remap(sp.ref_idx_l1[k]);
                }
                // other timestamps (GStreamer: frame number * 1000)
                for e in d.dpb.iter_mut() {
                    e.timestamp = e.timestamp * 40_000 + 7;
                }
                tweak(i, &mut d, &mut sp);
                let mut controls = Vec::new();
                if i == 0 {
                    controls.push(Control::HevcSps(Box::new(j.sps)));
                    controls.push(Control::HevcPps(Box::new(j.pps)));
                }
                controls.push(Control::HevcSliceParams(vec![sp]));
                controls.push(Control::HevcDecodeParams(Box::new(d)));
                DecodeJob {
                    timestamp_ns: j.output.unwrap().timestamp_ns * 40_000 + 7,
                    controls,
                    bitstream: vec![],
                    hold_capture: false,
                    starts_picture: true,
                }
            })
            .collect::<Vec<_>>()
    };
    let ours = normalise_trace(&emulate(&build(&|_, _, _| {})), &[], None).unwrap();
    let c = cmp(&gst, &ours);
    assert!(c.ok(), "{c}");
    assert_eq!(c.to_string(), "equal 6/6 jobs");

    // job 3's second list-1 reference names picture 0 instead of 1
    let bad = build(&|i, d, sp| {
        if i == 3 {
            let p0 = (0..d.num_active_dpb_entries as usize)
                .find(|&k| d.dpb[k].pic_order_cnt_val == 0)
                .unwrap();
            sp.ref_idx_l1[1] = p0 as u8;
        }
    });
    let c = cmp(&gst, &normalise_trace(&emulate(&bad), &[], None).unwrap());
    assert_eq!(c.equal, 5);
    let d = c.first_diff.unwrap();
    assert_eq!((d.job, d.key.as_str()), (3, "ref_idx_l1[1]"));
    assert_eq!(
        (d.a.unwrap(), d.b.unwrap()),
        ("pic 1".into(), "pic 0".into())
    );

    // a DPB entry with a wrong POC
    let bad = build(&|i, d, _| {
        if i == 2 {
            d.dpb[0].pic_order_cnt_val += 1;
        }
    });
    let c = cmp(&gst, &normalise_trace(&emulate(&bad), &[], None).unwrap());
    let d = c.first_diff.unwrap();
    assert_eq!(d.job, 2);
    assert!(d.key.starts_with("dpb[pic "), "{}", d.key);
}

/// VP9 jobs with other timestamps normalise like GStreamer's (references are
/// pictures, not timestamps); a swapped golden/alt reference on an inter
/// frame is the first difference; a key frame's stale reference timestamps
/// are ignored (not read for intra frames).
#[test]
fn vp9_references_are_pictures() {
    let gst_text = sample(VP9_SAMPLE);
    let t = parse(&gst_text).unwrap();
    let gst = normalise_trace(&gst_text, &[], None).unwrap();
    let ts = |x: u64| x * 33_333_333 + 1;
    let build = |tweak: &dyn Fn(usize, &mut b::v4l2_ctrl_vp9_frame)| {
        t.vp9_jobs
            .iter()
            .enumerate()
            .map(|(i, j)| {
                let mut f = j.frame;
                f.last_frame_ts = ts(f.last_frame_ts);
                f.golden_frame_ts = ts(f.golden_frame_ts);
                f.alt_frame_ts = ts(f.alt_frame_ts);
                tweak(i, &mut f);
                DecodeJob {
                    timestamp_ns: ts(j.output.unwrap().timestamp_ns),
                    controls: vec![
                        Control::Vp9Frame(Box::new(f)),
                        Control::Vp9CompressedHdr(Box::new(j.compressed_hdr)),
                    ],
                    bitstream: vec![],
                    hold_capture: false,
                    starts_picture: true,
                }
            })
            .collect::<Vec<_>>()
    };
    let c = cmp(
        &gst,
        &normalise_trace(&emulate(&build(&|_, _| {})), &[], None).unwrap(),
    );
    assert!(c.ok(), "{c}");
    // key frame (job 0): garbage reference timestamps do not matter
    let c = cmp(
        &gst,
        &normalise_trace(
            &emulate(&build(&|i, f| {
                if i == 0 {
                    f.last_frame_ts = 123;
                    f.alt_frame_ts = 456;
                }
            })),
            &[],
            None,
        )
        .unwrap(),
    );
    assert!(c.ok(), "{c}");
    // an inter frame whose golden and alt references differ, swapped
    let k = t
        .vp9_jobs
        .iter()
        .position(|j| {
            j.frame.flags & b::V4L2_VP9_FRAME_FLAG_KEY_FRAME == 0
                && j.frame.golden_frame_ts != j.frame.alt_frame_ts
        })
        .expect("an inter frame with distinct golden/alt");
    let c = cmp(
        &gst,
        &normalise_trace(
            &emulate(&build(&|i, f| {
                if i == k {
                    std::mem::swap(&mut f.golden_frame_ts, &mut f.alt_frame_ts);
                }
            })),
            &[],
            None,
        )
        .unwrap(),
    );
    let d = c.first_diff.unwrap();
    assert_eq!((d.job, d.key.as_str()), (k, "frame.golden_frame"));
}

/// Every visl event the emulator prints is byte-identical to the kernel's
/// text for the same struct values (flag lists, %u of s8, hex dumps, arrays).
#[test]
fn emulated_events_are_byte_identical_to_visl() {
    for s in SAMPLES {
        let real = sample(s);
        let t = parse(&real).unwrap();
        assert!(t.warnings.is_empty(), "{s}: {:?}", t.warnings);
        assert!(!t.jobs.is_empty());
        assert!(
            t.jobs.iter().all(|j| j.output.is_some()),
            "{s}: sample jobs have an OUTPUT qbuf"
        );
        let jobs: Vec<DecodeJob> = jobs_setting_all(&t);
        let emu = emulate(&jobs);
        let (a, b) = (visl_events(&real), visl_events(&emu));
        assert_eq!(a.len(), b.len(), "{s}: event count");
        assert_eq!(a.len(), t.jobs.len() * (4 + 32 + 32 + 1 + 16 + 1));
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(x, y, "{s}: event {i} differs");
        }
        // and the normalised forms agree
        assert_eq!(
            normalise_trace(&real, &[], None).unwrap(),
            normalise_trace(&emu, &[], None).unwrap()
        );
    }
}

fn dpb_entry(ts: u64, frame_num: u16, poc: i32) -> b::v4l2_h264_dpb_entry {
    b::v4l2_h264_dpb_entry {
        reference_ts: ts,
        pic_num: frame_num as u32,
        frame_num,
        fields: b::V4L2_H264_FRAME_REF as u8,
        top_field_order_cnt: poc,
        bottom_field_order_cnt: poc,
        flags: b::V4L2_H264_DPB_ENTRY_FLAG_VALID | b::V4L2_H264_DPB_ENTRY_FLAG_ACTIVE,
        ..Default::default()
    }
}

/// Jobs written by hand, field by field, from the 64x64 I-P-B clip as
/// GStreamer submitted it — but with other timestamps, other DPB slots and
/// controls set only when they change, as a codec would. The normalised
/// forms must be equal; one wrong field must show as the first difference.
#[test]
fn hand_built_jobs_match_gstreamer() {
    let sps = b::v4l2_ctrl_h264_sps {
        profile_idc: 100,
        level_idc: 20,
        chroma_format_idc: 1,
        max_num_ref_frames: 3,
        pic_width_in_mbs_minus1: 3,
        pic_height_in_map_units_minus1: 3,
        flags: b::V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY | b::V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE,
        ..Default::default()
    };
    let pps = b::v4l2_ctrl_h264_pps {
        num_ref_idx_l0_default_active_minus1: 2,
        weighted_bipred_idc: 2,
        chroma_qp_index_offset: -2,
        second_chroma_qp_index_offset: -2,
        flags: (b::V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE
            | b::V4L2_H264_PPS_FLAG_WEIGHTED_PRED
            | b::V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT
            | b::V4L2_H264_PPS_FLAG_TRANSFORM_8X8_MODE) as u16,
        ..Default::default()
    };
    let ts = [40_000_000u64, 80_000_000, 120_000_000];
    // job 0: IDR I
    let s0 = b::v4l2_ctrl_h264_slice_params {
        header_bit_size: 42,
        slice_type: b::V4L2_H264_SLICE_TYPE_I as u8,
        slice_qp_delta: -25,
        ..Default::default()
    };
    let d0 = b::v4l2_ctrl_h264_decode_params {
        nal_ref_idc: 3,
        dec_ref_pic_marking_bit_size: 2,
        pic_order_cnt_bit_size: 4,
        flags: b::V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC,
        ..Default::default()
    };
    // job 1: P referencing picture 0 (in DPB slot 3)
    let mut s1 = b::v4l2_ctrl_h264_slice_params {
        header_bit_size: 46,
        slice_type: b::V4L2_H264_SLICE_TYPE_P as u8,
        slice_qp_delta: -22,
        ..Default::default()
    };
    s1.ref_pic_list0[0] = b::v4l2_h264_reference {
        fields: b::V4L2_H264_FRAME_REF as u8,
        index: 3,
    };
    let mut d1 = b::v4l2_ctrl_h264_decode_params {
        nal_ref_idc: 2,
        frame_num: 1,
        top_field_order_cnt: 4,
        bottom_field_order_cnt: 4,
        pic_order_cnt_lsb: 4,
        dec_ref_pic_marking_bit_size: 1,
        pic_order_cnt_bit_size: 4,
        flags: b::V4L2_H264_DECODE_PARAM_FLAG_PFRAME,
        ..Default::default()
    };
    d1.dpb[3] = dpb_entry(ts[0], 0, 0);
    let mut w1 = b::v4l2_ctrl_h264_pred_weights::default();
    w1.weight_factors[0].luma_weight[0] = 1;
    w1.weight_factors[0].chroma_weight[0] = [1, 1];
    // job 2: non-reference B between them
    let mut s2 = b::v4l2_ctrl_h264_slice_params {
        header_bit_size: 44,
        slice_type: b::V4L2_H264_SLICE_TYPE_B as u8,
        slice_qp_delta: -22,
        flags: b::V4L2_H264_SLICE_FLAG_DIRECT_SPATIAL_MV_PRED,
        ..Default::default()
    };
    s2.ref_pic_list0[0] = b::v4l2_h264_reference {
        fields: 3,
        index: 1,
    };
    s2.ref_pic_list1[0] = b::v4l2_h264_reference {
        fields: 3,
        index: 0,
    };
    let mut d2 = b::v4l2_ctrl_h264_decode_params {
        frame_num: 2,
        top_field_order_cnt: 2,
        bottom_field_order_cnt: 2,
        pic_order_cnt_lsb: 2,
        pic_order_cnt_bit_size: 4,
        flags: b::V4L2_H264_DECODE_PARAM_FLAG_BFRAME,
        ..Default::default()
    };
    d2.dpb[0] = dpb_entry(ts[1], 1, 4);
    d2.dpb[1] = dpb_entry(ts[0], 0, 0);
    let job = |t: u64, controls: Vec<Control>| DecodeJob {
        timestamp_ns: t,
        controls,
        bitstream: vec![],
        hold_capture: false,
        starts_picture: true,
    };
    let mut jobs = vec![
        job(
            ts[0],
            vec![
                Control::H264Sps(Box::new(sps)),
                Control::H264Pps(Box::new(pps)),
                Control::H264SliceParams(Box::new(s0)),
                Control::H264DecodeParams(Box::new(d0)),
            ],
        ),
        job(
            ts[1],
            vec![
                Control::H264SliceParams(Box::new(s1)),
                Control::H264DecodeParams(Box::new(d1)),
                Control::H264PredWeights(Box::new(w1)),
            ],
        ),
        job(
            ts[2],
            vec![
                Control::H264SliceParams(Box::new(s2)),
                Control::H264DecodeParams(Box::new(d2)),
            ],
        ),
    ];
    let gst = normalise_trace(&sample(SAMPLES[0]), &[], None).unwrap();
    let ours = normalise_trace(&emulate(&jobs), &[], None).unwrap();
    let c = compare::compare(
        &compare::read(&gst).unwrap(),
        &compare::read(&ours).unwrap(),
    );
    assert!(c.ok(), "{c}");
    assert_eq!(c.to_string(), "equal 3/3 jobs");
    assert_eq!(gst, ours);

    // one field off: reported with both values
    let mut d2bad = d2;
    d2bad.dpb[0].top_field_order_cnt = 6;
    jobs[2].controls[1] = Control::H264DecodeParams(Box::new(d2bad));
    let ours = normalise_trace(&emulate(&jobs), &[], None).unwrap();
    let c = compare::compare(
        &compare::read(&gst).unwrap(),
        &compare::read(&ours).unwrap(),
    );
    assert_eq!(c.equal, 2);
    let d = c.first_diff.unwrap();
    assert_eq!((d.job, d.key.as_str()), (2, "dpb[pic 1]"));
    assert!(d.b.unwrap().contains("top_field_order_cnt 6"));

    // a reference naming the wrong picture
    s2.ref_pic_list1[0].index = 1;
    jobs[2].controls[0] = Control::H264SliceParams(Box::new(s2));
    jobs[2].controls[1] = Control::H264DecodeParams(Box::new(d2));
    let ours = normalise_trace(&emulate(&jobs), &[], None).unwrap();
    let c = compare::compare(
        &compare::read(&gst).unwrap(),
        &compare::read(&ours).unwrap(),
    );
    let d = c.first_diff.unwrap();
    assert_eq!((d.job, d.key.as_str()), (2, "ref_pic_list1[0]"));
    assert_eq!(d.a.unwrap(), "pic 1 fields TOP_FIELD_REF|BOTTOM_FIELD_REF");
}

/// Jobs (OUTPUT timestamps) and slices of a multi-slice picture: three
/// slices share one picture, HOLD_CAPTURE_BUF on all but the last.
#[test]
fn multi_slice_sample_structure() {
    let t = parse(&sample(SAMPLES[1])).unwrap();
    assert_eq!(t.jobs.len(), 6);
    let pics: Vec<u64> = t
        .jobs
        .iter()
        .map(|j| j.output.unwrap().timestamp_ns)
        .collect();
    assert_eq!(pics[0], pics[1]);
    assert_eq!(pics[1], pics[2]);
    assert_ne!(pics[2], pics[3]);
    let hold: Vec<bool> = t
        .jobs
        .iter()
        .map(|j| j.output.unwrap().hold_capture)
        .collect();
    assert_eq!(hold, [true, true, false, true, true, false]);
    let first_mb: Vec<u32> = t
        .jobs
        .iter()
        .map(|j| j.slice_params.first_mb_in_slice)
        .collect();
    assert_eq!(first_mb, [0, 100, 200, 0, 100, 200]);
}

/// VP8: the first 12 jobs of crates-cros-codecs/test-25fps.vp8.ivf (key
/// frame, inter frames referencing last/golden/alt); MPEG-2: the first 10
/// jobs of debian-k3b-data/k3bphotosvcd.mpg (I, P, B with two references).
const VP8_SAMPLE: &str = "test-25fps.vp8-12jobs.gst.trace";
const MPEG2_SAMPLE: &str = "k3bphotosvcd-10jobs.gst.trace";

/// VP8 and MPEG-2: every event the emulator prints is byte-identical to
/// visl's (VP8 frame + entropy hex dumps, s8 arrays as unsigned, the u64
/// flags; MPEG-2 `picture_coding_type:` with its colon, visl's `INTA_VLC`).
#[test]
fn vp8_and_mpeg2_events_are_byte_identical_to_visl() {
    for (s, per_job, jobs) in [(VP8_SAMPLE, 2, 12), (MPEG2_SAMPLE, 3, 10)] {
        let real = sample(s);
        let t = parse(&real).unwrap();
        assert!(t.warnings.is_empty(), "{s}: {:?}", t.warnings);
        assert_eq!(t.job_count(), jobs, "{s}");
        let emu = emulate(&jobs_setting_all(&t));
        let (a, b) = (visl_events(&real), visl_events(&emu));
        assert_eq!(a.len(), jobs * per_job, "{s}: events per job");
        assert_eq!(a.len(), b.len(), "{s}: event count");
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(x, y, "{s}: event {i} differs");
        }
        assert_eq!(
            normalise_trace(&real, &[], None).unwrap(),
            normalise_trace(&emu, &[], None).unwrap()
        );
    }
}

/// VP8 jobs with other timestamps normalise like GStreamer's; a key frame's
/// reference timestamps do not matter; swapping two distinct references of
/// an inter frame is the first difference.
#[test]
fn vp8_references_are_pictures() {
    let gst_text = sample(VP8_SAMPLE);
    let t = parse(&gst_text).unwrap();
    let gst = normalise_trace(&gst_text, &[], None).unwrap();
    let ts = |x: u64| x * 7 + 1000;
    let build = |tweak: &dyn Fn(usize, &mut b::v4l2_ctrl_vp8_frame)| {
        t.vp8_jobs
            .iter()
            .enumerate()
            .map(|(i, j)| {
                let mut f = j.frame;
                f.last_frame_ts = ts(f.last_frame_ts);
                f.golden_frame_ts = ts(f.golden_frame_ts);
                f.alt_frame_ts = ts(f.alt_frame_ts);
                tweak(i, &mut f);
                DecodeJob {
                    timestamp_ns: ts(j.output.unwrap().timestamp_ns),
                    controls: vec![Control::Vp8Frame(Box::new(f))],
                    bitstream: vec![],
                    hold_capture: false,
                    starts_picture: true,
                }
            })
            .collect::<Vec<_>>()
    };
    let norm = |jobs: Vec<DecodeJob>| normalise_trace(&emulate(&jobs), &[], None).unwrap();
    let c = cmp(&gst, &norm(build(&|_, _| {})));
    assert!(c.ok(), "{c}");
    assert_eq!((c.equal, c.b_jobs), (12, 12));
    let c = cmp(
        &gst,
        &norm(build(&|i, f| {
            if i == 0 {
                f.last_frame_ts = 5;
                f.golden_frame_ts = 6;
            }
        })),
    );
    assert!(c.ok(), "key frame references must not matter: {c}");
    let k = t
        .vp8_jobs
        .iter()
        .position(|j| {
            j.frame.flags & b::V4L2_VP8_FRAME_FLAG_KEY_FRAME as u64 == 0
                && j.frame.last_frame_ts != j.frame.golden_frame_ts
        })
        .expect("an inter frame with distinct last/golden");
    let c = cmp(
        &gst,
        &norm(build(&|i, f| {
            if i == k {
                std::mem::swap(&mut f.last_frame_ts, &mut f.golden_frame_ts);
            }
        })),
    );
    let d = c.first_diff.expect("a difference");
    assert_eq!((d.job, d.key.as_str()), (k, "frame.last_frame"));
    // a coefficient probability differs: named in the carried entropy section
    let c = cmp(
        &gst,
        &norm(build(&|i, f| {
            if i == 3 {
                f.entropy.coeff_probs[1][2][0][4] ^= 1;
            }
        })),
    );
    let d = c.first_diff.expect("a difference");
    assert_eq!((d.job, d.key.as_str()), (3, "entropy.coeff_probs[1][2]"));
}

/// MPEG-2 jobs with other timestamps and SEQUENCE / QUANTISATION sent only
/// in the first request (controls persist in visl) normalise like
/// GStreamer's; I pictures' reference timestamps do not matter; a B
/// picture with its references swapped is the first difference.
#[test]
fn mpeg2_references_are_pictures() {
    let gst_text = sample(MPEG2_SAMPLE);
    let t = parse(&gst_text).unwrap();
    let gst = normalise_trace(&gst_text, &[], None).unwrap();
    let ts = |x: u64| x / 3 + 17;
    let build = |tweak: &dyn Fn(usize, &mut b::v4l2_ctrl_mpeg2_picture)| {
        t.mpeg2_jobs
            .iter()
            .enumerate()
            .map(|(i, j)| {
                let mut p = j.picture;
                p.forward_ref_ts = ts(p.forward_ref_ts);
                p.backward_ref_ts = ts(p.backward_ref_ts);
                tweak(i, &mut p);
                let mut controls = Vec::new();
                if i == 0 {
                    controls.push(Control::Mpeg2Sequence(Box::new(j.sequence)));
                    controls.push(Control::Mpeg2Quantisation(Box::new(j.quantisation)));
                }
                controls.push(Control::Mpeg2Picture(Box::new(p)));
                DecodeJob {
                    timestamp_ns: ts(j.output.unwrap().timestamp_ns),
                    controls,
                    bitstream: vec![],
                    hold_capture: false,
                    starts_picture: true,
                }
            })
            .collect::<Vec<_>>()
    };
    let norm = |jobs: Vec<DecodeJob>| normalise_trace(&emulate(&jobs), &[], None).unwrap();
    let c = cmp(&gst, &norm(build(&|_, _| {})));
    assert!(c.ok(), "{c}");
    assert_eq!((c.equal, c.b_jobs), (10, 10));
    let is = |j: usize, ty: u32| t.mpeg2_jobs[j].picture.picture_coding_type as u32 == ty;
    assert!(is(0, b::V4L2_MPEG2_PIC_CODING_TYPE_I));
    let c = cmp(
        &gst,
        &norm(build(&|i, p| {
            if i == 0 {
                p.forward_ref_ts = 1;
                p.backward_ref_ts = 2;
            }
        })),
    );
    assert!(c.ok(), "I picture references must not matter: {c}");
    let k = (0..10)
        .find(|&j| is(j, b::V4L2_MPEG2_PIC_CODING_TYPE_B))
        .expect("a B picture");
    let c = cmp(
        &gst,
        &norm(build(&|i, p| {
            if i == k {
                std::mem::swap(&mut p.forward_ref_ts, &mut p.backward_ref_ts);
            }
        })),
    );
    let d = c.first_diff.expect("a difference");
    assert_eq!((d.job, d.key.as_str()), (k, "picture.backward_ref"));
}
