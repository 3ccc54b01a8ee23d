//! Tests: every HEVC corpus clip through the container layer and this codec
//! (frame counts against MANIFEST's `ffprobe -count_frames`, output order
//! by POC, request shape), the RK3588 extension on the synthetic
//! `generated-by-us/hevc-sps-rps*.h265` clips, and bad input.

use super::*;
use vreq_container as container;
use vreq_container::TrackCodec;
use vreq_testkit::rbsp::RbspWriter;
use vreq_testkit::{manifest, media_dir};

/// Packets of the clip's first HEVC track and its codec private data.
/// (payload, pts, byte offset) of one coded unit.
type Unit = (Vec<u8>, Option<i64>, u64);
/// (DeltaPocS0/UsedByCurrPicS0, DeltaPocS1/UsedByCurrPicS1) of one derived set.
type DerivedSet = (Vec<(i32, bool)>, Vec<(i32, bool)>);

fn demux(path: &std::path::Path) -> (CodecPrivate, Vec<Unit>) {
    let mut d = container::open(path).expect("open");
    let t = d
        .tracks()
        .iter()
        .find(|t| t.codec == TrackCodec::Video(CodecKind::Hevc))
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
            assert_eq!(n as u64, e.frames, "{} {mode:?}", e.path);
            assert!(ev.iter().any(|e| matches!(e, CodecEvent::Configure(_))));
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} HEVC clips");
}

// ---------------------------------------------------------------------------
// RK3588 EXT_SPS_ST_RPS / EXT_SPS_LT_RPS

fn generated(name: &str) -> std::path::PathBuf {
    media_dir().join("generated-by-us").join(name)
}

/// Every request's controls, in order.
fn jobs(ev: &[CodecEvent]) -> Vec<&DecodeJob> {
    ev.iter()
        .filter_map(|e| match e {
            CodecEvent::Decode(j) => Some(j),
            _ => None,
        })
        .collect()
}

fn ext_of(
    j: &DecodeJob,
) -> (
    Option<&Vec<uapi_ext::V4l2CtrlHevcExtSpsStRps>>,
    Option<&Vec<uapi_ext::V4l2CtrlHevcExtSpsLtRps>>,
) {
    let mut st = None;
    let mut lt = None;
    for c in &j.controls {
        match c {
            Control::HevcExtSpsStRps(v) => st = Some(v),
            Control::HevcExtSpsLtRps(v) => lt = Some(v),
            _ => {}
        }
    }
    (st, lt)
}

fn has_sps(j: &DecodeJob) -> bool {
    j.controls.iter().any(|c| matches!(c, Control::HevcSps(_)))
}

/// The clip's SPS as cros-codecs derives it (an independent parse of the RPSs).
fn cros_sps(path: &std::path::Path) -> Rc<Sps> {
    let data = std::fs::read(path).unwrap();
    let mut p = Parser::default();
    for n in parser::split_annexb(&data) {
        if parser::nal_unit_type(n.data) == 33 {
            let nalu = parser::cros_nalu(&n).unwrap();
            return Rc::new(p.parse_sps(&nalu).unwrap().clone());
        }
    }
    panic!("no SPS in {}", path.display());
}

/// 7.4.8: the derived (DeltaPocS0/S1, UsedByCurrPicS0/S1) of set `i` from
/// the EXT element's raw syntax and the derived reference set.
fn derive_from_ext(
    e: &uapi_ext::V4l2CtrlHevcExtSpsStRps,
    derived: &[DerivedSet],
    i: usize,
) -> DerivedSet {
    let used = |j: usize| e.used_by_curr_pic >> j & 1 == 1;
    if e.flags & uapi_ext::V4L2_HEVC_EXT_SPS_ST_RPS_FLAG_INTER_REF_PIC_SET_PRED == 0 {
        let mut s0 = Vec::new();
        let mut poc = 0;
        for k in 0..e.num_negative_pics as usize {
            poc -= i32::from(e.delta_poc_s0_minus1[k]) + 1;
            s0.push((poc, used(k)));
        }
        let mut s1 = Vec::new();
        poc = 0;
        for k in 0..e.num_positive_pics as usize {
            poc += i32::from(e.delta_poc_s1_minus1[k]) + 1;
            s1.push((poc, used(e.num_negative_pics as usize + k)));
        }
        return (s0, s1);
    }
    let (r0, r1) = &derived[i - (e.delta_idx_minus1 as usize + 1)];
    let d = (1 - 2 * i32::from(e.delta_rps_sign)) * (i32::from(e.abs_delta_rps_minus1) + 1);
    let nd = r0.len() + r1.len();
    let use_delta = |j: usize| e.use_delta_flag >> j & 1 == 1;
    let mut s0 = Vec::new();
    for j in (0..r1.len()).rev() {
        let p = r1[j].0 + d;
        if p < 0 && use_delta(r0.len() + j) {
            s0.push((p, used(r0.len() + j)));
        }
    }
    if d < 0 && use_delta(nd) {
        s0.push((d, used(nd)));
    }
    for (j, r) in r0.iter().enumerate() {
        let p = r.0 + d;
        if p < 0 && use_delta(j) {
            s0.push((p, used(j)));
        }
    }
    let mut s1 = Vec::new();
    for j in (0..r0.len()).rev() {
        let p = r0[j].0 + d;
        if p > 0 && use_delta(j) {
            s1.push((p, used(j)));
        }
    }
    if d > 0 && use_delta(nd) {
        s1.push((d, used(nd)));
    }
    for (j, r) in r1.iter().enumerate() {
        let p = r.0 + d;
        if p > 0 && use_delta(r0.len() + j) {
            s1.push((p, used(r0.len() + j)));
        }
    }
    (s0, s1)
}

/// The EXT array re-derived (7.4.8) equals cros-codecs' derived sets.
fn check_ext_against_cros(st: &[uapi_ext::V4l2CtrlHevcExtSpsStRps], sps: &Sps) {
    assert_eq!(st.len(), sps.num_short_term_ref_pic_sets as usize);
    let mut derived = Vec::new();
    for (i, e) in st.iter().enumerate() {
        let got = derive_from_ext(e, &derived, i);
        let c = &sps.short_term_ref_pic_set[i];
        let want0: Vec<(i32, bool)> = (0..c.num_negative_pics as usize)
            .map(|k| (c.delta_poc_s0[k], c.used_by_curr_pic_s0[k]))
            .collect();
        let want1: Vec<(i32, bool)> = (0..c.num_positive_pics as usize)
            .map(|k| (c.delta_poc_s1[k], c.used_by_curr_pic_s1[k]))
            .collect();
        assert_eq!(got, (want0, want1), "st_ref_pic_set({i})");
        assert_eq!(
            e.flags & uapi_ext::V4L2_HEVC_EXT_SPS_ST_RPS_FLAG_INTER_REF_PIC_SET_PRED != 0,
            c.inter_ref_pic_set_prediction_flag
        );
        if !c.inter_ref_pic_set_prediction_flag {
            assert_eq!(e.use_delta_flag, 0xffff, "explicit set {i}");
        } else {
            assert!(e
                .delta_poc_s0_minus1
                .iter()
                .chain(&e.delta_poc_s1_minus1)
                .all(|&d| d == 0));
        }
        derived.push(got);
    }
}

#[test]
fn ext_sps_rps_arrays_on_rk3588_only_with_the_sps() {
    for (name, want_lt) in [
        ("hevc-sps-rps.h265", 0usize),
        ("hevc-sps-rps-inter-lt.h265", 3),
        ("hevc-x265.h265", 0),
    ] {
        let path = generated(name);
        let sps = cros_sps(&path);
        let ev = run(&path, DecodeMode::FrameBased, &rk3588_has);
        let js = jobs(&ev);
        assert!(!js.is_empty());
        let with_sps: Vec<_> = js.iter().filter(|j| has_sps(j)).collect();
        assert_eq!(with_sps.len(), 1, "{name}: SPS sent once");
        for j in &js {
            let (st, lt) = ext_of(j);
            if !has_sps(j) {
                assert!(st.is_none() && lt.is_none(), "{name}: EXT without SPS");
            }
        }
        let (st, lt) = ext_of(with_sps[0]);
        if sps.num_short_term_ref_pic_sets == 0 {
            assert!(st.is_none(), "{name}: empty ST array sent");
        } else {
            check_ext_against_cros(st.expect("ST_RPS"), &sps);
        }
        assert_eq!(lt.map(|l| l.len()).unwrap_or(0), want_lt, "{name}");
        if let Some(lt) = lt {
            for (i, e) in lt.iter().enumerate() {
                assert_eq!(
                    u32::from(e.lt_ref_pic_poc_lsb_sps),
                    sps.lt_ref_pic_poc_lsb_sps[i]
                );
                assert_eq!(
                    e.flags & uapi_ext::V4L2_HEVC_EXT_SPS_LT_RPS_FLAG_USED_LT != 0,
                    sps.used_by_curr_pic_lt_sps_flag[i]
                );
            }
        }
        // the same clip on visl: no EXT at all, same requests otherwise
        let ev2 = run(&path, DecodeMode::FrameBased, &visl_has);
        let js2 = jobs(&ev2);
        assert_eq!(js.len(), js2.len());
        assert!(js2.iter().all(|j| ext_of(j) == (None, None)));
    }
    // the synthetic clips do carry SPS RPSs (else this test proves little)
    assert!(cros_sps(&generated("hevc-sps-rps.h265")).num_short_term_ref_pic_sets > 1);
    let inter = cros_sps(&generated("hevc-sps-rps-inter-lt.h265"));
    assert!(inter
        .short_term_ref_pic_set
        .iter()
        .any(|s| s.inter_ref_pic_set_prediction_flag));
}

fn temp_clip(name: &str, data: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vreq-hevc-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// One 64x64 IDR from `ffmpeg -f lavfi -i color=c=black:size=64x64 -frames:v 1
/// -c:v libx265 -x265-params <params>:info=0 -f hevc` (Debian ffmpeg 5.1,
/// x265 3.5), VPS / SPS / PPS / slice; the SPSs differ only in their VUI:
/// `colorprim=bt2020:transfer=bt2020-10:colormatrix=bt2020nc:range=full`
/// (ffprobe: `pc,bt2020nc`), `colorprim=bt709:transfer=bt709:colormatrix=bt709`
/// (`tv,bt709`), and none (`tv,unknown`).
const X265_BT2020_FULL: &str = "0000000140010c01ffff01600000030090000003000003001e9598090000000142010101600000030090000003000003001ea020810596566924caf016e121c12080000003008000000c84000000014401c172b422400000012801af1d80f7015bfff24efeccf0";
const X265_BT709: &str = "0000000140010c01ffff01600000030090000003000003001e9598090000000142010101600000030090000003000003001ea020810596566924caf016a020202080000003008000000c84000000014401c172b422400000012801af1d80f7015bfff24efeccf0";
const X265_PLAIN: &str = "0000000140010c01ffff01600000030090000003000003001e9598090000000142010101600000030090000003000003001ea020810596566924caf0168080000003008000000c84000000014401c172b422400000012801af1d80f7015bfff24efeccf0";

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn vui_colour_description_gives_the_color_and_keeps_the_device_config() {
    let data = [X265_BT2020_FULL, X265_BT709, X265_PLAIN]
        .map(unhex)
        .concat();
    let path = temp_clip("colour.h265", &data);
    let conf: Vec<StreamParams> = run(&path, DecodeMode::SliceBased, &visl_has)
        .into_iter()
        .filter_map(|e| match e {
            CodecEvent::Configure(p) => Some(p),
            _ => None,
        })
        .collect();
    let colors: Vec<_> = conf.iter().map(|p| p.color).collect();
    assert_eq!(
        colors,
        [
            vreq_core::ColorDescription {
                matrix_coefficients: Some(9),
                video_full_range: true
            },
            vreq_core::ColorDescription {
                matrix_coefficients: Some(1),
                video_full_range: false
            },
            vreq_core::ColorDescription::default(),
        ]
    );
    assert!(conf.windows(2).all(|w| w[0].same_device_config(&w[1])));
}

#[test]
fn sps_change_mid_stream_refreshes_the_ext_arrays() {
    let a = std::fs::read(generated("hevc-sps-rps.h265")).unwrap();
    let b = std::fs::read(generated("hevc-sps-rps-inter-lt.h265")).unwrap();
    let path = temp_clip("a-then-b.h265", &[a, b].concat());
    let ev = run(&path, DecodeMode::FrameBased, &rk3588_has);
    let n = check_protocol(&ev);
    assert_eq!(n, 60, "30 + 30 pictures");
    let with_sps: Vec<_> = jobs(&ev).into_iter().filter(|j| has_sps(j)).collect();
    assert_eq!(
        with_sps.len(),
        2,
        "the second SPS (same id, new RPSs) is sent"
    );
    let (st_a, lt_a) = ext_of(with_sps[0]);
    let (st_b, lt_b) = ext_of(with_sps[1]);
    check_ext_against_cros(st_a.unwrap(), &cros_sps(&generated("hevc-sps-rps.h265")));
    check_ext_against_cros(
        st_b.unwrap(),
        &cros_sps(&generated("hevc-sps-rps-inter-lt.h265")),
    );
    assert_ne!(st_a, st_b);
    assert!(lt_a.is_none());
    assert_eq!(lt_b.unwrap().len(), 3);
}

#[test]
fn picture_whose_sps_was_never_seen_sends_no_ext() {
    let b = std::fs::read(generated("hevc-sps-rps-inter-lt.h265")).unwrap();
    // drop every SPS NAL unit (start code included)
    let mut stripped = Vec::new();
    let nals = parser::split_annexb(&b);
    for n in &nals {
        if parser::nal_unit_type(n.data) != 33 {
            stripped.extend_from_slice(&[0, 0, 0, 1]);
            stripped.extend_from_slice(n.data);
        }
    }
    let path = temp_clip("no-sps.h265", &stripped);
    let ev = run(&path, DecodeMode::FrameBased, &rk3588_has);
    assert!(jobs(&ev).is_empty(), "nothing decodable without the SPS");
    let skipped = ev
        .iter()
        .filter(|e| matches!(e, CodecEvent::Skipped { .. }))
        .count();
    assert!(skipped >= 1, "the loss is reported");
    assert!(ev.iter().all(|e| !matches!(e, CodecEvent::Decode(_))));
}

// ---------------------------------------------------------------------------
// our slice header parser (used beyond 32 entry points) against cros-codecs

#[test]
fn own_slice_header_parser_equals_cros_codecs_on_the_corpus() {
    let mut slices = 0;
    let mut own_only = 0;
    for e in manifest().iter().filter(|e| e.codec == "hevc") {
        let (private, units) = demux(&media_dir().join(&e.path));
        let mut p = Parser::default();
        let mut scratch = parser::SliceScratch::default();
        let mut nals: Vec<Vec<u8>> = match &private {
            CodecPrivate::Hvcc { nal_units, .. } => nal_units.clone(),
            _ => Vec::new(),
        };
        for (data, _, _) in &units {
            match &private {
                CodecPrivate::Hvcc {
                    nal_length_size, ..
                } => {
                    let (v, _) = parser::split_length_prefixed(data, *nal_length_size as usize);
                    nals.extend(v.iter().map(|n| n.data.to_vec()));
                }
                _ => nals.extend(parser::split_annexb(data).iter().map(|n| n.data.to_vec())),
            }
        }
        for data in &nals {
            let nal = NalRef { offset: 0, data };
            let t = parser::nal_unit_type(data);
            let Some(nalu) = parser::cros_nalu(&nal) else {
                continue;
            };
            match t {
                32 => drop(p.parse_vps(&nalu)),
                33 => drop(p.parse_sps(&nalu)),
                34 => drop(p.parse_pps(&nalu)),
                _ if parser::is_slice(t) => {
                    let own = parser::parse_slice_header_own(&p, data, &mut scratch)
                        .unwrap_or_else(|err| panic!("{}: own parser: {err}", e.path));
                    let pps = p.get_pps(own.pic_parameter_set_id).unwrap();
                    let too_many = (pps.entropy_coding_sync_enabled_flag
                        && pps.sps.pic_height_in_ctbs_y > 33)
                        || pps.tiles_enabled_flag;
                    if too_many {
                        // cros-codecs would panic: check what can be checked
                        assert!(
                            scratch.entry_point_offset_minus1.len() as u32
                                == own.num_entry_point_offsets
                        );
                        own_only += 1;
                        continue;
                    }
                    let cros = p.parse_slice_header(nalu).unwrap().header;
                    let mut mine = own.clone();
                    mine.n_emulation_prevention_bytes = cros.n_emulation_prevention_bytes;
                    assert_eq!(mine, cros, "{}: slice {slices}", e.path);
                    let n = cros.num_entry_point_offsets as usize;
                    assert_eq!(
                        scratch.entry_point_offset_minus1,
                        cros.entry_point_offset_minus1[..n],
                        "{}: slice {slices}",
                        e.path
                    );
                    slices += 1;
                }
                _ => {}
            }
        }
    }
    assert!(slices > 600, "{slices} slices compared");
    assert!(own_only > 0, "the >32 entry point case is in the corpus");
}

// ---------------------------------------------------------------------------
// repeated parameter sets

#[test]
fn repeated_parameter_sets_are_parsed_once() {
    let data = std::fs::read(media_dir().join("crates-cros-codecs/test-25fps.h265")).unwrap();
    let nals = parser::split_annexb(&data);
    let first = |t: u8| {
        nals.iter()
            .find(|n| parser::nal_unit_type(n.data) == t)
            .unwrap()
            .data
            .to_vec()
    };
    let (vps, sps, pps) = (first(32), first(33), first(34));
    let mut c = HevcCodec::new(&CodecPrivate::None).unwrap();
    let give = |c: &mut HevcCodec, d: &[u8]| {
        c.handle_param_set(&NalRef { offset: 0, data: d });
    };
    for _ in 0..3 {
        for d in [&vps, &sps, &pps] {
            give(&mut c, d);
        }
    }
    assert_eq!(c.param_set_parses, [1, 1, 1], "the repetitions skipped");
    // another VPS (a trailing zero byte: parses the same): the SPS and PPS
    // after it are parsed again, since cros-codecs links them to it
    let mut vps2 = vps.clone();
    vps2.push(0);
    for d in [&vps2, &sps, &pps, &sps, &pps] {
        give(&mut c, d);
    }
    assert_eq!(c.param_set_parses, [2, 2, 2]);
    // a PPS that fails is not remembered
    let bad_pps = [pps[0], pps[1], 0x00];
    give(&mut c, &bad_pps);
    give(&mut c, &pps);
    give(&mut c, &pps);
    assert_eq!(c.param_set_parses, [2, 2, 4]);
    assert!(c.parser.get_pps(0).is_some());
    // slices still decode against them
    let ev = feed(&mut c, &[(data.clone(), None, 0)]);
    assert!(jobs(&ev).len() > 10);
}

// ---------------------------------------------------------------------------
// bad input

/// Deterministic xorshift.
fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

#[test]
fn random_damage_never_panics() {
    let clips = [
        "crates-cros-codecs/bbb.h265",
        "generated-by-us/hevc-sps-rps-inter-lt.h265",
        "debian-src-firefox-esr/wpt-webcodecs-h265.mp4",
    ];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut runs = 0;
    for clip in clips {
        let (private, units) = demux(&media_dir().join(clip));
        for round in 0..40 {
            let mut damaged = units.clone();
            // flip bits in a few units, sometimes truncate one, sometimes drop one
            for _ in 0..(1 + round % 6) {
                let k = xorshift(&mut seed) as usize % damaged.len();
                let u = &mut damaged[k].0;
                if u.is_empty() {
                    continue;
                }
                match xorshift(&mut seed) % 4 {
                    0 => u.truncate(xorshift(&mut seed) as usize % u.len()),
                    1 => u.clear(),
                    _ => {
                        for _ in 0..4 {
                            let at = xorshift(&mut seed) as usize % u.len();
                            u[at] ^= 1 << (xorshift(&mut seed) % 8);
                        }
                    }
                }
            }
            for mode in [DecodeMode::SliceBased, DecodeMode::FrameBased] {
                let mut c = HevcCodec::new(&private).unwrap();
                c.set_mode(mode, StartCode::AnnexB);
                c.set_device_controls(&rk3588_has);
                let ev = feed(&mut c, &damaged);
                check_protocol(&ev);
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 240);
}

// ---------------------------------------------------------------------------
// synthetic streams (tests/data/hevc-synthetic, made by its make.sh)

fn synthetic(name: &str) -> (std::path::PathBuf, u64) {
    let dir = vreq_testkit::repo_dir().join("tests/data/hevc-synthetic");
    let frames = std::fs::read_to_string(dir.join("frames.txt"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{name} "))
                .map(|n| n.trim().parse().unwrap())
        })
        .unwrap();
    (dir.join(name), frames)
}

#[test]
fn synthetic_streams_output_ffprobe_frame_counts() {
    for name in ["slices-scaling.h265", "weighted.h265", "cra-start.h265"] {
        let (path, frames) = synthetic(name);
        for mode in [DecodeMode::SliceBased, DecodeMode::FrameBased] {
            let ev = run(&path, mode, &visl_has);
            assert_eq!(check_protocol(&ev) as u64, frames, "{name} {mode:?}");
        }
    }
}

#[test]
fn slice_based_mode_holds_capture_until_the_last_slice() {
    let (path, _) = synthetic("slices-scaling.h265");
    let ev = run(&path, DecodeMode::SliceBased, &visl_has);
    let js = jobs(&ev);
    let pictures = js.iter().filter(|j| j.starts_picture).count();
    assert_eq!(
        js.len(),
        4 * pictures,
        "4 slices per picture, one request each"
    );
    for (i, j) in js.iter().enumerate() {
        let last = js.get(i + 1).is_none_or(|n| n.starts_picture);
        assert_eq!(j.hold_capture, !last, "request {i}");
        let sp: Vec<_> = j
            .controls
            .iter()
            .filter_map(|c| match c {
                Control::HevcSliceParams(v) => Some(v.len()),
                _ => None,
            })
            .collect();
        assert_eq!(sp, vec![1], "one SLICE_PARAMS element per request");
        // PPS / SCALING_MATRIX / DECODE_PARAMS only with a picture's first slice
        let firsts = j
            .controls
            .iter()
            .filter(|c| {
                matches!(
                    c,
                    Control::HevcPps(_)
                        | Control::HevcScalingMatrix(_)
                        | Control::HevcDecodeParams(_)
                )
            })
            .count();
        assert_eq!(firsts, if j.starts_picture { 3 } else { 0 }, "request {i}");
        assert!(
            !j.bitstream.starts_with(&[0, 0, 1]),
            "no start codes on visl"
        );
    }
    // frame-based: one request per picture carrying every slice
    let ev = run(&path, DecodeMode::FrameBased, &visl_has);
    for j in jobs(&ev) {
        assert!(!j.hold_capture && j.starts_picture);
        let n = j
            .controls
            .iter()
            .find_map(|c| match c {
                Control::HevcSliceParams(v) => Some(v.len()),
                _ => None,
            })
            .unwrap();
        assert_eq!(n, 4);
        assert!(j.bitstream.starts_with(&[0, 0, 1]));
    }
}

#[test]
fn default_scaling_lists_reach_the_scaling_matrix() {
    let (path, _) = synthetic("slices-scaling.h265");
    let ev = run(&path, DecodeMode::FrameBased, &visl_has);
    let m = jobs(&ev)
        .iter()
        .find_map(|j| {
            j.controls.iter().find_map(|c| match c {
                Control::HevcScalingMatrix(m) => Some(m.clone()),
                _ => None,
            })
        })
        .unwrap();
    // Table 7-5/7-6: 4x4 lists are flat 16; 8x8 intra (matrixId 0) starts 16 and
    // ends 115 at the bottom-right; DC of 16x16/32x32 defaults to 16.
    assert!(m
        .scaling_list_4x4
        .iter()
        .all(|l| l.iter().all(|&v| v == 16)));
    assert_eq!(m.scaling_list_8x8[0][0], 16);
    assert_eq!(m.scaling_list_8x8[0][63], 115);
    assert_eq!(m.scaling_list_8x8[3][63], 91);
    // raster order, as GStreamer 1.26.2 sends them on visl (its trace of this clip)
    assert_eq!(m.scaling_list_8x8[0][..8], [16, 16, 16, 16, 17, 18, 21, 24]);
    assert_eq!(
        m.scaling_list_8x8[0][8..16],
        [16, 16, 16, 16, 17, 19, 22, 25]
    );
    assert_eq!(m.scaling_list_8x8[3][..8], [16, 16, 16, 16, 17, 18, 20, 24]);
    assert_eq!(
        m.scaling_list_32x32[1][56..],
        [24, 25, 28, 33, 41, 54, 71, 91]
    );
    assert!(m.scaling_list_dc_coef_16x16.iter().all(|&v| v == 16));
    assert!(m.scaling_list_dc_coef_32x32.iter().all(|&v| v == 16));
}

#[test]
fn rasl_pictures_after_a_starting_cra_are_not_decoded() {
    let (path, frames) = synthetic("cra-start.h265");
    let ev = run(&path, DecodeMode::FrameBased, &visl_has);
    let js = jobs(&ev);
    assert_eq!(js.len() as u64, frames, "RASL pictures skipped");
    for j in &js {
        for c in &j.controls {
            if let Control::HevcSliceParams(v) = c {
                assert!(v
                    .iter()
                    .all(|s| s.nal_unit_type != 8 && s.nal_unit_type != 9));
            }
        }
    }
    // their timestamp slots are used all the same (GStreamer frame numbers)
    let timestamps: Vec<u64> = js.iter().map(|j| j.timestamp_ns).collect();
    assert!(
        timestamps.windows(2).any(|w| w[1] - w[0] > 1000),
        "{timestamps:?}"
    );
}

#[test]
fn reset_waits_for_an_irap_and_resends_the_sps() {
    let (private, units) = demux(&media_dir().join("crates-cros-codecs/bbb.h265"));
    let mut c = HevcCodec::new(&private).unwrap();
    c.set_mode(DecodeMode::SliceBased, StartCode::None);
    c.set_device_controls(&visl_has);
    let mut ev = feed(&mut c, &units[..20]);
    c.reset();
    // resume mid-stream (no IRAP until the stream restarts), then from the top
    let tail: Vec<Unit> = units[30..].iter().chain(units.iter()).cloned().collect();
    let before = ev.len();
    ev.extend(feed(&mut c, &tail));
    let after = &ev[before..];
    assert!(
        matches!(after.first(), Some(CodecEvent::Skipped { .. })),
        "{:?}",
        after.first()
    );
    let first_job = after
        .iter()
        .find_map(|e| match e {
            CodecEvent::Decode(j) => Some(j),
            _ => None,
        })
        .unwrap();
    assert!(first_job
        .controls
        .iter()
        .any(|c| matches!(c, Control::HevcSps(_))));
    let outputs = after
        .iter()
        .filter(|e| matches!(e, CodecEvent::Output { .. }))
        .count();
    assert_eq!(
        outputs,
        units.len(),
        "the restarted stream decodes completely"
    );
}

// ---------------------------------------------------------------------------
// 8.3.3 missing references

/// (timestamp, DECODE_PARAMS) of every picture, in decode order.
fn pictures(ev: &[CodecEvent]) -> Vec<(u64, bindings::v4l2_ctrl_hevc_decode_params)> {
    jobs(ev)
        .into_iter()
        .filter_map(|j| {
            j.controls.iter().find_map(|c| match c {
                Control::HevcDecodeParams(dp) => Some((j.timestamp_ns, **dp)),
                _ => None,
            })
        })
        .collect()
}

/// The `dpb[]` indices a picture uses: its Curr lists.
fn curr_indices(dp: &bindings::v4l2_ctrl_hevc_decode_params) -> Vec<u8> {
    let mut v = dp.poc_st_curr_before[..usize::from(dp.num_poc_st_curr_before)].to_vec();
    v.extend_from_slice(&dp.poc_st_curr_after[..usize::from(dp.num_poc_st_curr_after)]);
    v.extend_from_slice(&dp.poc_lt_curr[..usize::from(dp.num_poc_lt_curr)]);
    v
}

/// Checks that no request names a reference it cannot have: every used
/// list entry (Curr lists, each slice's `ref_idx_l0/l1` up to
/// `num_ref_idx_lX_active_minus1`) is a valid `dpb[]` index (no 0xff), and
/// every `dpb[]` timestamp names a picture decoded earlier and not yet
/// released. Returns how many `dpb[]` entries carried a POC no decoded
/// picture of that timestamp has (8.3.3 stand-ins), with their POCs.
fn check_used_refs(ev: &[CodecEvent]) -> Vec<i32> {
    let mut live: HashMap<u64, i32> = HashMap::new();
    let mut stand_ins = Vec::new();
    let mut cur: Option<(u64, u8)> = None;
    for e in ev {
        match e {
            CodecEvent::Decode(j) => {
                for c in &j.controls {
                    match c {
                        Control::HevcDecodeParams(dp) => {
                            let n = dp.num_active_dpb_entries;
                            for &i in &curr_indices(dp) {
                                assert!(
                                    i < n,
                                    "picture {}: Curr list entry {i:#x}",
                                    j.timestamp_ns
                                );
                            }
                            for d in &dp.dpb[..usize::from(n)] {
                                let Some(&poc) = live.get(&d.timestamp) else {
                                    panic!(
                                        "picture {}: dpb[] timestamp {} not a held picture",
                                        j.timestamp_ns, d.timestamp
                                    );
                                };
                                if poc != d.pic_order_cnt_val {
                                    stand_ins.push(d.pic_order_cnt_val);
                                }
                            }
                            live.insert(j.timestamp_ns, dp.pic_order_cnt_val);
                            cur = Some((j.timestamp_ns, n));
                        }
                        Control::HevcSliceParams(sps) => {
                            let (timestamp_ns, n) = cur.expect("slices after DECODE_PARAMS");
                            assert_eq!(timestamp_ns, j.timestamp_ns);
                            for sp in sps {
                                let st = u32::from(sp.slice_type);
                                if st != bindings::V4L2_HEVC_SLICE_TYPE_I {
                                    let l0 = &sp.ref_idx_l0
                                        [..=usize::from(sp.num_ref_idx_l0_active_minus1)];
                                    assert!(
                                        l0.iter().all(|&i| i < n),
                                        "picture {timestamp_ns}: l0 {l0:?}"
                                    );
                                }
                                if st == bindings::V4L2_HEVC_SLICE_TYPE_B {
                                    let l1 = &sp.ref_idx_l1
                                        [..=usize::from(sp.num_ref_idx_l1_active_minus1)];
                                    assert!(
                                        l1.iter().all(|&i| i < n),
                                        "picture {timestamp_ns}: l1 {l1:?}"
                                    );
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            CodecEvent::Unref { timestamp_ns } => {
                live.remove(timestamp_ns);
            }
            _ => {}
        }
    }
    stand_ins
}

/// hevc-x265.h265 without its first non-IRAP picture that a later picture
/// uses as a reference: (units, the dropped picture's POC, input pictures).
/// Held by every test that makes the codec generate a missing reference: the
/// warning's callsite interest is cached process-wide by `tracing`, so a
/// parallel test hitting it with no subscriber could hide it from
/// `missing_reference_is_warned_once_with_its_stand_in`'s scoped one.
static STAND_IN_LOG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn x265_with_a_reference_dropped() -> (CodecPrivate, Vec<Unit>, i32, usize) {
    let path = generated("hevc-x265.h265");
    let (private, units) = demux(&path);
    let ev = run(&path, DecodeMode::SliceBased, &visl_has);
    let pics = pictures(&ev);
    assert_eq!(pics.len(), units.len(), "one picture per access unit");
    let irap = u64::from(bindings::V4L2_HEVC_DECODE_PARAM_FLAG_IRAP_PIC);
    let used_later = |k: usize| {
        let timestamp_ns = pics[k].0;
        pics[k + 1..].iter().any(|(_, dp)| {
            curr_indices(dp)
                .iter()
                .any(|&i| dp.dpb[usize::from(i)].timestamp == timestamp_ns)
        })
    };
    let k = (0..pics.len())
        .find(|&k| pics[k].1.flags & irap == 0 && used_later(k))
        .expect("a referenced non-IRAP picture");
    assert_eq!(pics[k].0, k as u64 * 1000);
    let poc = pics[k].1.pic_order_cnt_val;
    let n = units.len();
    let mut kept = units;
    kept.remove(k);
    (private, kept, poc, n)
}

#[test]
fn missing_reference_gets_a_stand_in_with_its_poc() {
    // The undamaged clip needs none.
    let clean = run(
        &generated("hevc-x265.h265"),
        DecodeMode::SliceBased,
        &visl_has,
    );
    assert_eq!(check_used_refs(&clean), Vec::<i32>::new());

    let _log = STAND_IN_LOG.lock().unwrap_or_else(|e| e.into_inner());
    let (private, units, dropped_poc, n) = x265_with_a_reference_dropped();
    for mode in [DecodeMode::SliceBased, DecodeMode::FrameBased] {
        let mut c = HevcCodec::new(&private).unwrap();
        c.set_mode(
            mode,
            if mode == DecodeMode::FrameBased {
                StartCode::AnnexB
            } else {
                StartCode::None
            },
        );
        c.set_device_controls(&visl_has);
        let ev = feed(&mut c, &units);
        assert!(
            !ev.iter().any(|e| matches!(e, CodecEvent::Skipped { .. })),
            "{mode:?}: nothing skipped"
        );
        let stand_ins = check_used_refs(&ev);
        assert!(
            stand_ins.contains(&dropped_poc),
            "{mode:?}: no dpb[] entry with the missing POC {dropped_poc}: {stand_ins:?}"
        );
        assert!(stand_ins.iter().all(|&p| p == dropped_poc), "{stand_ins:?}");
        assert_eq!(check_protocol(&ev), n - 1, "{mode:?}: frames out");
        // the stand-in lives only in the requests: never output
        let outputs_of_pocs: Vec<i32> = {
            let pocs: HashMap<u64, i32> = pictures(&ev)
                .iter()
                .map(|(timestamp_ns, dp)| (*timestamp_ns, dp.pic_order_cnt_val))
                .collect();
            ev.iter()
                .filter_map(|e| match e {
                    CodecEvent::Output { timestamp_ns, .. } => pocs.get(timestamp_ns).copied(),
                    _ => None,
                })
                .collect()
        };
        assert!(!outputs_of_pocs.contains(&dropped_poc));
    }
}

/// Collects formatted `tracing` output.
#[derive(Clone, Default)]
struct LogBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn missing_reference_is_warned_once_with_its_stand_in() {
    let _log = STAND_IN_LOG.lock().unwrap_or_else(|e| e.into_inner());
    let (private, units, dropped_poc, _) = x265_with_a_reference_dropped();
    let buf = LogBuf::default();
    let w = buf.clone();
    let sub = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || w.clone())
        .finish();
    tracing::subscriber::with_default(sub, || {
        tracing::callsite::rebuild_interest_cache();
        let mut c = HevcCodec::new(&private).unwrap();
        c.set_device_controls(&visl_has);
        feed(&mut c, &units);
    });
    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("never decoded"))
        .collect();
    assert_eq!(lines.len(), 1, "one warning per missing reference:\n{log}");
    assert!(
        lines[0].contains(&format!("reference POC {dropped_poc} "))
            && lines[0].contains("generated it (H.265 8.3.3) from picture POC"),
        "{}",
        lines[0]
    );
}

/// VPS + SPS of one 64x64 IDR with 16x16 CTBs (4 x 4 CTBs): `ffmpeg -f lavfi
/// -i color=c=black:size=64x64 -frames:v 1 -c:v libx265 -x265-params
/// ctu=16:info=0 -f hevc` (Debian ffmpeg 5.1, x265 3.5).
const X265_CTU16_VPS_SPS: &str = "0000000140010c01ffff01600000030090000003000003001e9598090000000142010101600000030090000003000003001ea020810596566abcaf016808000003000800000300c840";

/// A PPS (header included) over SPS 0 with tiles: `cols` x `rows` is
/// num_tile_columns_minus1 x num_tile_rows_minus1; `sizes` are
/// column_width_minus1[] then row_height_minus1[] (uniform spacing when
/// None). Every other syntax element 0 / off (H.265 7.3.2.3.1).
fn tiled_pps(cols: u32, rows: u32, sizes: Option<&[u32]>) -> Vec<u8> {
    let mut b = RbspWriter::default();
    b.ue(0).ue(0); // pps_pic_parameter_set_id, pps_seq_parameter_set_id
    b.u(7, 0); // dependent_slice_segments_enabled_flag .. cabac_init_present_flag
    b.ue(0).ue(0).ue(0); // num_ref_idx_l0/l1_default_active_minus1, init_qp_minus26 (se 0)
    b.u(3, 0); // constrained_intra_pred, transform_skip, cu_qp_delta_enabled
    b.ue(0).ue(0); // pps_cb_qp_offset, pps_cr_qp_offset (se 0)
    b.u(4, 0); // slice_chroma_qp_offsets_present .. transquant_bypass_enabled
    b.u(1, 1).u(1, 0); // tiles_enabled_flag, entropy_coding_sync_enabled_flag
    b.ue(cols).ue(rows).u(1, u32::from(sizes.is_none()));
    for &s in sizes.unwrap_or(&[]) {
        b.ue(s);
    }
    b.u(1, 1); // loop_filter_across_tiles_enabled_flag
               // loop_filter_across_slices, deblocking_filter_control_present,
               // scaling_list_data_present, lists_modification_present
    b.u(4, 0);
    b.ue(0).u(1, 0).u(1, 0); // log2_parallel_merge_level_minus2, .._extension_present x 2
    let mut nal = vec![34 << 1, 1];
    nal.extend(b.nal(&[]));
    nal
}

/// H.265 7.4.3.3: tile columns and rows of at least one CTB each, the last
/// included, and no more than cros-codecs 0.0.6 holds (19 x 21); what it
/// would panic on (an unsigned underflow reading the widths: found by
/// `codec_hevc`, tests/data/fuzz-regressions/codec_hevc/pps-tile-widths-underflow;
/// an index past its arrays) is refused before it parses.
#[test]
fn pps_tile_sizes_are_checked_before_cros_codecs_parses_them() {
    let data = unhex(X265_CTU16_VPS_SPS);
    let mut p = Parser::default();
    for n in parser::split_annexb(&data) {
        if parser::nal_unit_type(n.data) == 33 {
            let sps = p.parse_sps(&parser::cros_nalu(&n).unwrap()).unwrap();
            assert_eq!((sps.pic_width_in_ctbs_y, sps.pic_height_in_ctbs_y), (4, 4));
        }
    }
    let check = |pps: &[u8]| parser::check_pps(&p, pps);
    // 2 + 2 CTB columns, 3 + 1 rows; uniform 4 x 4: cros-codecs agrees
    for pps in [tiled_pps(1, 1, Some(&[1, 2])), tiled_pps(3, 3, None)] {
        check(&pps).unwrap();
        let n = parser::NalRef {
            data: &pps,
            offset: 0,
        };
        p.clone()
            .parse_pps(&parser::cros_nalu(&n).unwrap())
            .unwrap();
    }
    // a first column of all 4 CTBs: none for the last
    let e = check(&tiled_pps(1, 0, Some(&[3]))).unwrap_err();
    assert!(e.contains("column_width_minus1[0] = 3"), "{e}");
    // 3 + 1 CTBs, then a third column with nothing left (cros-codecs:
    // `0 - 1` in u32)
    let e = check(&tiled_pps(2, 0, Some(&[2, 0]))).unwrap_err();
    assert!(
        e.contains("column_width_minus1[1] = 0 leaves no CTB"),
        "{e}"
    );
    let e = check(&tiled_pps(0, 2, Some(&[2, 0]))).unwrap_err();
    assert!(e.contains("row_height_minus1[1]"), "{e}");
    // 5 columns in 4 CTBs; 20 columns (cros-codecs holds 19)
    let e = check(&tiled_pps(4, 0, None)).unwrap_err();
    assert!(e.contains("5 x 1 tiles in a picture of 4 x 4 CTBs"), "{e}");
    let e = check(&tiled_pps(19, 0, None)).unwrap_err();
    assert!(e.contains("20 x 1 tiles (at most 19 x 21"), "{e}");
}

/// What [`sps_with`] varies (H.265 7.3.2.2.1, E.2.1, E.2.2).
#[derive(Clone, Copy, Debug)]
struct SpsShape {
    max_sub_layers_minus1: u32,
    pcm: bool,
    long_term: bool,
    /// None: no VUI; Some(None): VUI without HRD; Some(Some(general)):
    /// with `hrd_parameters()` whose sub-layers have
    /// `fixed_pic_rate_general_flag` = general
    vui: Option<Option<bool>>,
    range_extension: bool,
    scc_extension: bool,
}

/// An SPS NAL unit (header included), 64x64 with 16x16 CTBs, two
/// short-term sets (the second inter-predicted from the first) and the
/// optional parts of `shape`; its SCC extension has no palette mode.
fn sps_with(shape: SpsShape) -> Vec<u8> {
    let n = shape.max_sub_layers_minus1;
    let mut b = RbspWriter::default();
    b.u(4, 0).u(3, n).u(1, 1);
    // profile_tier_level(1, n): Main, level 3
    b.u(2, 0)
        .u(1, 0)
        .u(5, 1)
        .u(32, 0x6000_0000)
        .u(4, 0b1001)
        .u(32, 0)
        .u(11, 0)
        .u(1, 0);
    b.u(8, 90);
    for _ in 0..n {
        b.u(2, 0); // sub_layer_profile_present_flag, sub_layer_level_present_flag
    }
    if n > 0 {
        b.u(2 * (8 - n), 0);
    }
    b.ue(0).ue(1).ue(64).ue(64).u(1, 0); // ids, 4:2:0, size, no conformance window
    b.ue(0).ue(0).ue(4).u(1, 1); // 8-bit, log2_max_pic_order_cnt_lsb_minus4
    for _ in 0..=n {
        b.ue(4).ue(0).ue(0);
    }
    b.ue(0).ue(1).ue(0).ue(2).ue(0).ue(0).u(1, 0); // 8..16 CB, 4..16 TB, no scaling list
    b.u(2, 0).u(1, u32::from(shape.pcm));
    if shape.pcm {
        b.u(4, 7).u(4, 7).ue(0).ue(0).u(1, 0);
    }
    // st_ref_pic_set(0): POC -1, -2 and +1; st_ref_pic_set(1): each - 1
    b.ue(2);
    b.ue(2).ue(1).ue(0).u(1, 1).ue(0).u(1, 1).ue(0).u(1, 1);
    b.u(1, 1).u(1, 1).ue(0).u(4, 0b1111);
    b.u(1, u32::from(shape.long_term));
    if shape.long_term {
        b.ue(2).u(8, 17).u(1, 1).u(8, 200).u(1, 0);
    }
    b.u(1, 1).u(1, 0).u(1, u32::from(shape.vui.is_some()));
    if let Some(hrd) = shape.vui {
        b.u(1, 1).u(8, 255).u(16, 1).u(16, 1); // EXTENDED_SAR 1:1
        b.u(1, 1).u(1, 0); // overscan
        b.u(1, 1).u(3, 5).u(1, 0).u(1, 1).u(8, 1).u(8, 1).u(8, 1);
        b.u(1, 1).ue(0).ue(0).u(3, 0); // chroma loc; neutral, field_seq, frame_field
        b.u(1, 1).ue(0).ue(0).ue(0).ue(0); // default display window
        b.u(1, 1).u(32, 1).u(32, 25).u(1, 1).ue(0); // timing, poc proportional
        b.u(1, u32::from(hrd.is_some()));
        if let Some(general) = hrd {
            b.u(1, 1).u(1, 1).u(1, 1); // nal, vcl, sub_pic_hrd_params_present_flag
            b.u(19, 0).u(8, 0).u(4, 0).u(15, 0);
            for _ in 0..=n {
                b.u(1, u32::from(general));
                if !general {
                    b.u(1, 1);
                }
                // as the spec reads on (fixed_pic_rate_within_cvs_flag is 1
                // either way): elemental_duration_in_tc_minus1, no
                // low_delay_hrd_flag, cpb_cnt_minus1 = 1
                b.ue(0).ue(1);
                for _ in 0..2 * 2 {
                    b.ue(1000).ue(2000).ue(3).ue(4).u(1, 0);
                }
            }
        }
        b.u(1, 1).u(3, 0).ue(0).ue(2).ue(1).ue(15).ue(15); // bitstream restriction
    }
    let ext = shape.range_extension || shape.scc_extension;
    b.u(1, u32::from(ext));
    if ext {
        b.u(1, u32::from(shape.range_extension));
        if shape.range_extension {
            b.u(9, 0);
        }
        b.u(2, 0).u(1, u32::from(shape.scc_extension));
        if shape.scc_extension {
            b.u(1, 0).u(1, 0).u(2, 0).u(1, 0); // no palette mode
        }
        b.u(4, 0);
    }
    let mut nal = vec![33 << 1, 1];
    nal.extend(b.nal(&[]));
    nal
}

/// `check_sps` walks the whole SPS the way cros-codecs 0.0.6 reads it and
/// refuses `sps_scc_extension()`, on which cros-codecs can panic (found by
/// `codec_hevc`: tests/data/fuzz-regressions/codec_hevc/sps-scc-palette-predictor-size-0).
/// The walk must land on the flag cros-codecs reads: over every shape, it
/// refuses exactly the SPSs cros-codecs parses with `scc_extension_flag`.
#[test]
fn sps_walk_finds_the_scc_extension_where_cros_codecs_does() {
    let mut parsed = 0;
    for bits in 0..128u32 {
        let shape = SpsShape {
            max_sub_layers_minus1: bits & 1,
            pcm: bits & 2 != 0,
            long_term: bits & 4 != 0,
            vui: match (bits >> 3) & 3 {
                0 => None,
                1 => Some(None),
                2 => Some(Some(false)),
                _ => Some(Some(true)),
            },
            range_extension: bits & 32 != 0,
            scc_extension: bits & 64 != 0,
        };
        let nal = sps_with(shape);
        let checked = parser::check_sps(&nal);
        let r = parser::NalRef {
            data: &nal,
            offset: 0,
        };
        let mut p = Parser::default();
        match p.parse_sps(&parser::cros_nalu(&r).unwrap()) {
            Ok(sps) => {
                parsed += 1;
                assert_eq!(
                    checked.is_err(),
                    sps.scc_extension_flag,
                    "{shape:?}: {checked:?}"
                );
                if shape.vui != Some(Some(true)) {
                    assert_eq!(sps.scc_extension_flag, shape.scc_extension, "{shape:?}");
                    assert_eq!(sps.long_term_ref_pics_present_flag, shape.long_term);
                    assert_eq!(sps.short_term_ref_pic_set[1].num_delta_pocs, 3);
                }
            }
            // cros-codecs reads `fixed_pic_rate_general_flag` = 1 apart from
            // the spec (see walk_sps_tail): it may refuse what follows
            Err(e) => assert_eq!(shape.vui, Some(Some(true)), "{shape:?}: {e}"),
        }
        if let Err(e) = checked {
            assert!(e.contains("sps_scc_extension()"), "{shape:?}: {e}");
        }
    }
    assert!(parsed >= 96, "{parsed} of 128 parsed");
}
