//! The emulator (`oracle::visl_fmt::emulate`) against real visl traces of
//! GStreamer 1.26.2 on kernel 6.12 (tests/oracle/samples/, captured with
//! tests/oracle/guest-trace.sh).

use std::path::PathBuf;

use v4l2r::bindings as b;
use vreqplay::codec::{Control, DecodeJob};
use vreqplay::oracle::compare;
use vreqplay::oracle::normalise_trace;
use vreqplay::oracle::trace::{parse, split_events};
use vreqplay::oracle::visl_fmt::{emulate, jobs_setting_all};

fn sample(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/oracle/samples")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const SAMPLES: [&str; 2] = [
    "64x64-I-P-B-P-high.gst.trace",
    "wpt-webcodecs-h264-6jobs.gst.trace",
];

/// visl's H.264 events of a trace as (name, body) pairs.
fn visl_events(text: &str) -> Vec<(String, String)> {
    split_events(text)
        .0
        .into_iter()
        .filter(|e| e.name.starts_with("v4l2_ctrl_h264_") || e.name.starts_with("v4l2_h264_"))
        .map(|e| (e.name, e.body))
        .collect()
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
