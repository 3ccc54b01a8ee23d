//! VP9 codec tests: headers built bit by bit from the spec's syntax tables
//! (a boolean encoder as libvpx's `vpx_writer` for the compressed header),
//! and corpus clips against facts from `ffprobe -show_frames` / `-show_packets`.

use super::parser::{self, ParserState};
use super::*;
use v4l2r::bindings;
use vreq_core::Control;
use vreq_testkit::media_dir;

/// MSB-first bit writer (the inverse of `f(n)`).
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    n: usize,
}

impl Bits {
    fn put(&mut self, v: u32, bits: u32) {
        for i in (0..bits).rev() {
            if self.n % 8 == 0 {
                self.bytes.push(0);
            }
            if (v >> i) & 1 == 1 {
                *self.bytes.last_mut().unwrap() |= 0x80 >> (self.n % 8);
            }
            self.n += 1;
        }
    }
    fn flag(&mut self, b: bool) {
        self.put(b as u32, 1);
    }
    /// magnitude then sign (su(1+n) as the spec codes deltas)
    fn signed(&mut self, v: i32, bits: u32) {
        self.put(v.unsigned_abs(), bits);
        self.flag(v < 0);
    }
}

/// Boolean encoder (spec 9.2's inverse; libvpx `vpx_writer`).
struct BoolWriter {
    low: u32,
    range: u32,
    count: i32,
    buf: Vec<u8>,
}

impl BoolWriter {
    fn new() -> Self {
        let mut w = BoolWriter {
            low: 0,
            range: 255,
            count: -24,
            buf: Vec::new(),
        };
        w.put(false, 128); // marker bit
        w
    }
    fn put(&mut self, bit: bool, prob: u8) {
        let split = 1 + (((self.range - 1) * prob as u32) >> 8);
        let mut range = if bit { self.range - split } else { split };
        let mut low = self.low;
        if bit {
            low = low.wrapping_add(split);
        }
        let mut shift = range.leading_zeros() as i32 - 24;
        range <<= shift;
        self.count += shift;
        if self.count >= 0 {
            let offset = shift - self.count;
            if (low << (offset - 1)) & 0x8000_0000 != 0 {
                let mut x = self.buf.len() as isize - 1;
                while x >= 0 && self.buf[x as usize] == 0xff {
                    self.buf[x as usize] = 0;
                    x -= 1;
                }
                self.buf[x as usize] += 1;
            }
            self.buf.push((low >> (24 - offset)) as u8);
            low <<= offset;
            shift = self.count;
            low &= 0xff_ffff;
            self.count -= 8;
        }
        low <<= shift;
        self.low = low;
        self.range = range;
    }
    fn literal(&mut self, v: u32, n: u32) {
        for i in (0..n).rev() {
            self.put((v >> i) & 1 == 1, 128);
        }
    }
    /// `diff_update_prob` with `decode_term_subexp` coding index `d`, or no update.
    fn delta(&mut self, d: Option<u32>) {
        let Some(d) = d else {
            return self.put(false, 252);
        };
        self.put(true, 252);
        if d < 16 {
            self.literal(0, 1);
            self.literal(d, 4);
        } else if d < 32 {
            self.literal(2, 2);
            self.literal(d - 16, 4);
        } else if d < 64 {
            self.literal(6, 3);
            self.literal(d - 32, 5);
        } else {
            self.literal(7, 3);
            if d < 129 {
                self.literal(d - 64, 7);
            } else {
                self.literal((d + 1) >> 1, 7);
                self.literal((d + 1) & 1, 1);
            }
        }
    }
    fn finish(mut self) -> Vec<u8> {
        for _ in 0..32 {
            self.put(false, 128);
        }
        self.buf
    }
}

/// spec 6.3.5 `inv_map_table`, the values the uAPI deltas carry.
fn inv_map(d: u32) -> u8 {
    const HEAD: [u8; 20] = [
        7, 20, 33, 46, 59, 72, 85, 98, 111, 124, 137, 150, 163, 176, 189, 202, 215, 228, 241, 254,
    ];
    if d < 20 {
        return HEAD[d as usize];
    }
    (1..=253u32)
        .filter(|v| v % 13 != 7)
        .nth(d as usize - 20)
        .unwrap_or(253) as u8
}

/// A key frame's uncompressed header (spec 6.2): profile 0, 352x288,
/// loop filter deltas updated, segmentation with all four features.
fn key_frame_header(compressed_size: u16) -> Vec<u8> {
    key_frame_header_colour(compressed_size, vreq_core::vp9::CS_BT_601, 1)
}

/// [`key_frame_header`] with another `color_space` (3 bits) and `color_range`.
fn key_frame_header_colour(compressed_size: u16, color_space: u8, color_range: u8) -> Vec<u8> {
    let mut b = Bits::default();
    b.put(2, 2); // frame_marker
    b.put(0, 2); // profile_low_bit, profile_high_bit
    b.flag(false); // show_existing_frame
    b.put(0, 1); // frame_type KEY_FRAME
    b.flag(true); // show_frame
    b.flag(false); // error_resilient_mode
    b.put(0x49_83_42, 24);
    b.put(u32::from(color_space), 3); // color_space (spec 7.2: 1 = CS_BT_601)
    b.put(u32::from(color_range), 1); // color_range (1 = full)
    b.put(351, 16);
    b.put(287, 16);
    b.flag(true); // render_and_frame_size_different
    b.put(319, 16);
    b.put(239, 16);
    b.flag(true); // refresh_frame_context
    b.flag(false); // frame_parallel_decoding_mode
    b.put(2, 2); // frame_context_idx
                 // loop_filter_params
    b.put(36, 6);
    b.put(3, 3);
    b.flag(true); // delta_enabled
    b.flag(true); // delta_update
    b.flag(true);
    b.signed(2, 6); // ref_deltas[0] = 2
    b.flag(false);
    b.flag(true);
    b.signed(-3, 6); // ref_deltas[2] = -3
    b.flag(false);
    b.flag(false);
    b.flag(true);
    b.signed(-1, 6); // mode_deltas[1] = -1
                     // quantization_params
    b.put(60, 8);
    b.flag(true);
    b.signed(-2, 4); // delta_q_y_dc
    b.flag(false);
    b.flag(false);
    // segmentation_params
    b.flag(true); // enabled
    b.flag(true); // update_map
    for i in 0..7 {
        b.flag(i % 2 == 0);
        if i % 2 == 0 {
            b.put(100 + i, 8);
        }
    }
    b.flag(false); // temporal_update
    b.flag(true); // update_data
    b.flag(false); // abs_or_delta_update
    for seg in 0..8u32 {
        let on = seg == 1;
        b.flag(on); // ALT_Q
        if on {
            b.signed(-200, 8);
        }
        b.flag(on); // ALT_L
        if on {
            b.signed(17, 6);
        }
        b.flag(on); // REF_FRAME
        if on {
            b.put(3, 2);
        }
        b.flag(on); // SKIP (no data)
    }
    // tile_info: 352 wide → sb64_cols 6: min 0, max 0 → no increment bits
    b.put(0, 1); // tile_rows_log2
    b.put(compressed_size as u32, 16);
    b.bytes
}

#[test]
fn key_frame_uncompressed_header_fields() {
    let mut st = ParserState::default();
    let mut frame = key_frame_header(8);
    let uncompressed = frame.len();
    frame.extend_from_slice(&[0; 8]);
    let h = st.parse_uncompressed_header(&frame).unwrap();
    assert_eq!((h.width, h.height), (352, 288));
    assert_eq!((h.render_width, h.render_height), (320, 240));
    assert_eq!(h.refresh_frame_flags, 0xff);
    assert_eq!(h.bit_depth, 8);
    assert_eq!(h.uncompressed_header_size as usize, uncompressed);
    assert_eq!(h.header_size_in_bytes, 8);
    assert_eq!(h.lf.loop_filter_level, 36);
    // setup_past_independence defaults, then the coded updates
    assert_eq!(h.lf.loop_filter_ref_deltas, [2, 0, -3, -1]);
    assert_eq!(h.lf.loop_filter_mode_deltas, [0, -1]);
    assert_eq!(h.quant.delta_q_y_dc, -2);
    assert_eq!(
        h.seg.segmentation_tree_probs,
        [100, 255, 102, 255, 104, 255, 106]
    );
    assert_eq!(h.seg.segmentation_pred_prob, [255; 3]);

    let f = controls::frame(&h, [0; 3]);
    assert_eq!(f.seg.feature_enabled[1], 0b1111);
    assert_eq!(f.seg.feature_enabled[0], 0);
    // ALT_Q magnitude 200 negative, ALT_L +17, REF_FRAME unsigned 3, SKIP no data
    assert_eq!(f.seg.feature_data[1], [-200, 17, 3, 0]);
    assert_eq!(
        f.seg.flags as u32,
        bindings::V4L2_VP9_SEGMENTATION_FLAG_ENABLED
            | bindings::V4L2_VP9_SEGMENTATION_FLAG_UPDATE_MAP
            | bindings::V4L2_VP9_SEGMENTATION_FLAG_UPDATE_DATA
    );
    assert_eq!(
        f.flags,
        bindings::V4L2_VP9_FRAME_FLAG_KEY_FRAME
            | bindings::V4L2_VP9_FRAME_FLAG_SHOW_FRAME
            | bindings::V4L2_VP9_FRAME_FLAG_REFRESH_FRAME_CTX
            | bindings::V4L2_VP9_FRAME_FLAG_X_SUBSAMPLING
            | bindings::V4L2_VP9_FRAME_FLAG_Y_SUBSAMPLING
            | bindings::V4L2_VP9_FRAME_FLAG_COLOR_RANGE_FULL_SWING
    );
    assert_eq!(f.lf.ref_deltas, [2, 0, -3, -1]);
    assert_eq!(
        f.lf.flags as u32,
        bindings::V4L2_VP9_LOOP_FILTER_FLAG_DELTA_ENABLED
            | bindings::V4L2_VP9_LOOP_FILTER_FLAG_DELTA_UPDATE
    );
    assert_eq!((f.frame_width_minus_1, f.frame_height_minus_1), (351, 287));
    assert_eq!(
        (f.render_width_minus_1, f.render_height_minus_1),
        (319, 239)
    );
    assert_eq!(f.frame_context_idx, 2);
    assert_eq!(f.bit_depth, 8);

    // Every truncation is an error, never a panic, and leaves the state alone.
    for cut in 0..frame.len() - 8 {
        let mut st2 = ParserState::default();
        assert!(
            st2.parse_uncompressed_header(&frame[..cut]).is_err(),
            "cut {cut}"
        );
    }
}

#[test]
fn compressed_header_deltas_round_trip() {
    // Key frame: tx_mode ALLOW_32X32 (no select), coef updates for 16x16 only,
    // one skip delta on the long (≥ 64) path.
    let mut w = BoolWriter::new();
    w.literal(3, 2); // tx_mode = ALLOW_32X32 ...
    w.literal(0, 1); // ... tx_mode_select = 0
    let mut expect_coef = Vec::new();
    for tx_size in 0..4 {
        let update = tx_size == 2;
        w.literal(update as u32, 1);
        if update {
            let mut n = 0u32;
            for i in 0..2 {
                for j in 0..2 {
                    for k in 0..6 {
                        for l in 0..(if k == 0 { 3 } else { 6 }) {
                            for m in 0..3 {
                                let d = if n % 97 == 0 { Some(n % 255) } else { None };
                                w.delta(d);
                                if let Some(d) = d {
                                    expect_coef.push(((i, j, k, l, m), inv_map(d)));
                                }
                                n += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    w.delta(None);
    w.delta(Some(200)); // skip[1]: v = 100 ≥ 65 path
    w.delta(Some(70)); // skip[2]: 64 + 6
    let comp = w.finish();
    let mut frame = key_frame_header(comp.len() as u16);
    frame.extend_from_slice(&comp);
    let mut st = ParserState::default();
    let mut h = st.parse_uncompressed_header(&frame).unwrap();
    let c = parser::parse_compressed_header(&frame, &mut h).unwrap();
    assert_eq!(c.tx_mode, 3);
    assert_eq!(c.skip, [0, inv_map(200), inv_map(70)]);
    assert!(expect_coef.len() >= 3);
    let mut count = 0;
    for i in 0..2 {
        for j in 0..2 {
            for k in 0..6 {
                for l in 0..6 {
                    for m in 0..3 {
                        let want = expect_coef
                            .iter()
                            .find(|e| e.0 == (i, j, k, l, m))
                            .map_or(0, |e| e.1);
                        assert_eq!(c.coef[2][i][j][k][l][m], want, "{i} {j} {k} {l} {m}");
                        count += (want != 0) as usize;
                    }
                }
            }
        }
    }
    assert_eq!(count, expect_coef.len());
    assert!(c.coef[0]
        .iter()
        .flatten()
        .flatten()
        .flatten()
        .flatten()
        .all(|&v| v == 0));
    let hdr = c.to_v4l2();
    assert_eq!(hdr.skip, c.skip);
    assert_eq!(hdr.coef, c.coef);

    // A damaged compressed header (nonzero padding past what the decoder
    // read) is an error.
    let mut comp = comp;
    comp.extend_from_slice(&[0; 16]);
    *comp.last_mut().unwrap() = 1;
    let mut bad = key_frame_header(comp.len() as u16);
    bad.extend_from_slice(&comp);
    let mut st = ParserState::default();
    let mut h = st.parse_uncompressed_header(&bad).unwrap();
    assert!(parser::parse_compressed_header(&bad, &mut h).is_err());
}

#[test]
fn inter_frame_compressed_header_reference_mode_and_mv() {
    // The inter-frame part of 6.3 read against a header with compound
    // references allowed (sign bias of ALTREF differs) and high-precision MVs.
    let mut h = FrameHeader {
        frame_type: 1,
        show_frame: true,
        interpolation_filter: parser::SWITCHABLE,
        allow_high_precision_mv: true,
        ref_frame_sign_bias: [false, false, false, true],
        ..Default::default()
    };
    let mut w = BoolWriter::new();
    w.literal(7, 3); // tx_mode: L(2) = 3 then tx_mode_select L(1) = 1 → TX_MODE_SELECT
    for i in 0..(2 + 4 + 6) {
        w.delta(if i == 5 { Some(3) } else { None });
    }
    for _ in 0..4 {
        w.literal(0, 1); // no coef updates
    }
    for _ in 0..3 {
        w.delta(None); // skip
    }
    for i in 0..21 {
        w.delta(if i == 20 { Some(40) } else { None }); // inter_mode[6][2]
    }
    for _ in 0..8 {
        w.delta(None); // interp_filter
    }
    for _ in 0..4 {
        w.delta(None); // is_inter
    }
    w.literal(1, 1); // non_single_reference
    w.literal(1, 1); // reference_select → REFERENCE_MODE_SELECT
    for i in 0..5 {
        w.delta(if i == 4 { Some(1) } else { None }); // comp_mode
    }
    for _ in 0..10 {
        w.delta(None); // single_ref
    }
    for _ in 0..5 {
        w.delta(None); // comp_ref
    }
    for _ in 0..36 {
        w.delta(None); // y_mode
    }
    for i in 0..48 {
        w.delta(if i == 47 { Some(250) } else { None }); // partition[15][2]
    }
    // mv probs: joints 3, then per component sign, 10 classes, class0_bit, 10 bits
    let mut n = 0;
    let mut mv = |w: &mut BoolWriter, value: Option<u32>| {
        n += 1;
        match value {
            Some(v) => {
                w.put(true, 252);
                w.literal(v, 7);
            }
            None => w.put(false, 252),
        }
    };
    for j in 0..3 {
        mv(&mut w, (j == 1).then_some(10));
    }
    for _ in 0..2 {
        for _ in 0..(1 + 10 + 1 + 10) {
            mv(&mut w, None);
        }
    }
    for _ in 0..2 {
        for _ in 0..(2 * 3 + 3) {
            mv(&mut w, None);
        }
    }
    for i in 0..4 {
        mv(&mut w, (i == 3).then_some(127)); // hp[1]
    }
    let comp = w.finish();
    let mut frame = vec![0u8; 4];
    h.uncompressed_header_size = 4;
    h.header_size_in_bytes = comp.len() as u16;
    frame.extend_from_slice(&comp);
    let c = parser::parse_compressed_header(&frame, &mut h).unwrap();
    assert_eq!(c.tx_mode, parser::TX_MODE_SELECT);
    assert_eq!(c.tx16[1][1], inv_map(3)); // 6th tx delta: tx8[0..2], tx16[0][0..2], tx16[1][0], [1][1]
    assert_eq!(c.inter_mode[6][2], inv_map(40));
    assert_eq!(h.reference_mode, parser::REFERENCE_MODE_SELECT);
    assert_eq!(c.comp_mode, [0, 0, 0, 0, inv_map(1)]);
    assert_eq!(c.partition[15][2], inv_map(250));
    assert_eq!(c.mv_joint, [0, 21, 0]);
    assert_eq!(c.mv_hp, [0, 255]);
    let f = controls::frame(&h, [0; 3]);
    assert_eq!(f.reference_mode, parser::REFERENCE_MODE_SELECT);
    assert_eq!(
        f.ref_frame_sign_bias as u32,
        bindings::V4L2_VP9_SIGN_BIAS_ALT
    );
}

/// Runs a whole file through the codec (no device): the events in order.
fn run_file(rel: &str) -> Vec<CodecEvent> {
    let path = media_dir().join(rel);
    let mut demux = vreq_container::open(&path).unwrap();
    let track = demux
        .tracks()
        .iter()
        .find(|t| t.codec == vreq_container::TrackCodec::Video(CodecKind::Vp9))
        .cloned()
        .unwrap();
    let mut codec = Vp9Codec::new(&track.codec_private).unwrap();
    let mut events = Vec::new();
    while let Some(p) = demux.next_packet().unwrap() {
        if p.track != track.id {
            continue;
        }
        codec.push(CodedUnit::from(&p)).unwrap();
        while let Some(e) = codec.poll() {
            events.push(e);
        }
    }
    codec.flush().unwrap();
    while let Some(e) = codec.poll() {
        events.push(e);
    }
    events
}

fn frame_ctrl(job: &DecodeJob) -> &bindings::v4l2_ctrl_vp9_frame {
    job.controls
        .iter()
        .find_map(|c| match c {
            Control::Vp9Frame(f) => Some(&**f),
            _ => None,
        })
        .unwrap()
}

#[test]
fn show_existing_frame_reoutputs_without_decoding() {
    // ffprobe -count_frames: 13 frames. GStreamer 1.26.2 on visl (traced in
    // the VM): 9 requests, 5 of them SHOW_FRAME, 13 frames out — so 8 outputs
    // come from show_existing_frame (1-byte frames, alone or in superframes).
    let events = run_file("crates-cros-codecs/vp90-2-10-show-existing-frame.vp9.ivf");
    let jobs: Vec<&DecodeJob> = events
        .iter()
        .filter_map(|e| match e {
            CodecEvent::Decode(j) => Some(j),
            _ => None,
        })
        .collect();
    let outputs: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            CodecEvent::Output { timestamp_ns, .. } => Some(*timestamp_ns),
            _ => None,
        })
        .collect();
    assert_eq!(outputs.len(), 13);
    assert!(!events
        .iter()
        .any(|e| matches!(e, CodecEvent::Skipped { .. })));
    // 1-byte packets make no request: the others may hold superframes.
    assert!(jobs.iter().all(|j| j.bitstream.len() > 1));
    let decoded: Vec<u64> = jobs.iter().map(|j| j.timestamp_ns).collect();
    for timestamp_ns in &outputs {
        assert!(
            decoded.contains(timestamp_ns),
            "output of a never-decoded {timestamp_ns}"
        );
    }
    assert_eq!(jobs.len(), 9);
    let shown_at_decode = jobs
        .iter()
        .filter(|j| frame_ctrl(j).flags & bindings::V4L2_VP9_FRAME_FLAG_SHOW_FRAME != 0)
        .count();
    assert_eq!(shown_at_decode, 5);
    assert_eq!(outputs.len() - shown_at_decode, 8);
    // Unref follows the frame's last Output, and every decoded frame is unref'd by the end.
    for timestamp_ns in &decoded {
        let unref = events
            .iter()
            .position(|e| matches!(e, CodecEvent::Unref { timestamp_ns: t } if t == timestamp_ns))
            .unwrap_or_else(|| panic!("{timestamp_ns} never unref'd"));
        let last_out = events.iter().rposition(
            |e| matches!(e, CodecEvent::Output { timestamp_ns: t, .. } if t == timestamp_ns),
        );
        assert!(
            last_out.is_none_or(|o| o < unref),
            "{timestamp_ns}: Unref before Output"
        );
    }
}

#[test]
fn superframes_hidden_frames_and_references() {
    // vp9-superframes.webm: 120 shown frames (ffprobe -count_frames), 1920x1080.
    let events = run_file("debian-src-firefox-esr/vp9-superframes.webm");
    let mut configs = Vec::new();
    let mut decoded = Vec::new();
    let mut hidden = 0;
    let mut outputs = 0;
    for e in &events {
        match e {
            CodecEvent::Configure(p) => configs.push(*p),
            CodecEvent::Decode(j) => {
                let f = frame_ctrl(j);
                // references name frames decoded before (or 0 before any)
                for r in [f.last_frame_ts, f.golden_frame_ts, f.alt_frame_ts] {
                    assert!(
                        r == 0 || decoded.contains(&r),
                        "{}: ref {r}",
                        j.timestamp_ns
                    );
                }
                if f.flags & bindings::V4L2_VP9_FRAME_FLAG_SHOW_FRAME == 0 {
                    hidden += 1;
                }
                assert_eq!(j.controls.len(), 2);
                decoded.push(j.timestamp_ns);
            }
            CodecEvent::Output { .. } => outputs += 1,
            CodecEvent::Skipped { reason, .. } => panic!("skipped: {reason}"),
            _ => {}
        }
    }
    assert_eq!(outputs, 120);
    assert!(hidden > 0, "the clip has hidden ARFs in superframes");
    assert_eq!(configs.len(), 1);
    assert_eq!(
        (configs[0].coded_width, configs[0].coded_height),
        (1920, 1080)
    );
    assert_eq!(configs[0].bit_depth, 8);
    // decode timestamps count every frame of every superframe
    assert!(decoded.windows(2).all(|w| w[1] > w[0]));
}

#[test]
fn profile_2_is_10_bit() {
    let events = run_file("debian-src-firefox-esr/vp9-yuv420p10.webm");
    let p = events
        .iter()
        .find_map(|e| match e {
            CodecEvent::Configure(p) => Some(*p),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (p.coded_width, p.coded_height, p.bit_depth),
        (1280, 720, 10)
    );
    let j = events
        .iter()
        .find_map(|e| match e {
            CodecEvent::Decode(j) => Some(j),
            _ => None,
        })
        .unwrap();
    let f = frame_ctrl(j);
    assert_eq!((f.profile, f.bit_depth), (2, 10));
}

#[test]
fn frames_before_a_key_frame_are_skipped_then_decoding_resumes() {
    // test-25fps.vp9.ivf (ffprobe -show_frames): key frames are frames 0 and
    // 150; drop packet 0 and the stream must wait for frame 150.
    let path = media_dir().join("crates-cros-codecs/test-25fps.vp9.ivf");
    let mut demux = vreq_container::open(&path).unwrap();
    let mut codec = Vp9Codec::new(&CodecPrivate::None).unwrap();
    let mut first = true;
    let mut skipped = 0;
    let mut decoded = 0;
    while let Some(p) = demux.next_packet().unwrap() {
        if first {
            first = false;
            continue;
        }
        codec.push(CodedUnit::from(&p)).unwrap();
        while let Some(e) = codec.poll() {
            match e {
                CodecEvent::Skipped { reason, .. } => {
                    assert!(reason.contains("key frame"), "{reason}");
                    skipped += 1;
                }
                CodecEvent::Decode(j) => {
                    if decoded == 0 {
                        assert!(
                            frame_ctrl(&j).flags & bindings::V4L2_VP9_FRAME_FLAG_KEY_FRAME != 0
                        );
                    }
                    decoded += 1;
                }
                _ => {}
            }
        }
    }
    // 149 shown frames and the hidden ones in their superframes
    assert!(skipped >= 149, "{skipped}");
    assert!(decoded > 0, "no key frame after the first in test-25fps");
}

/// A minimal compressed header: ONLY_4X4, no updates (intra or inter frame
/// with switchable filter and single references).
fn empty_compressed_header(inter: bool) -> Vec<u8> {
    let mut w = BoolWriter::new();
    w.literal(0, 2); // tx_mode ONLY_4X4
    w.literal(0, 1); // no coef update for 4x4
    let mut n = 3; // skip
    if inter {
        n += 21 + 8 + 4 + 10 + 36 + 48; // inter_mode, interp_filter, is_inter, single_ref, y_mode, partition
    }
    for _ in 0..n {
        w.delta(None);
    }
    if inter {
        for _ in 0..(3 + 2 * 22 + 2 * 9) {
            w.put(false, 252); // mv probs
        }
    }
    w.finish()
}

/// A shown inter frame coding its size explicitly (no `found_ref`),
/// refreshing slot 0, all references slot 0.
fn inter_frame(width: u32, height: u32) -> Vec<u8> {
    let comp = empty_compressed_header(true);
    let mut b = Bits::default();
    b.put(2, 2);
    b.put(0, 2);
    b.flag(false); // show_existing_frame
    b.put(1, 1); // NON_KEY_FRAME
    b.flag(true); // show_frame
    b.flag(false); // error_resilient_mode
    b.put(0, 2); // reset_frame_context
    b.put(0x01, 8); // refresh_frame_flags
    for _ in 0..3 {
        b.put(0, 3);
        b.flag(false);
    }
    for _ in 0..3 {
        b.flag(false); // found_ref
    }
    b.put(width - 1, 16);
    b.put(height - 1, 16);
    b.flag(false); // render_and_frame_size_different
    b.flag(false); // allow_high_precision_mv
    b.flag(true); // is_filter_switchable
    b.flag(false); // refresh_frame_context
    b.flag(false); // frame_parallel_decoding_mode
    b.put(0, 2); // frame_context_idx
    b.put(10, 6); // loop_filter_level
    b.put(0, 3);
    b.flag(false); // loop_filter_delta_enabled
    b.put(40, 8); // base_q_idx
    b.put(0, 3);
    b.flag(false); // segmentation_enabled
                   // tile_info: up to 704 wide → at most 11 sb64 cols → max_log2 = 1
    let sb64_cols = width.div_ceil(8).div_ceil(8);
    if sb64_cols >> 1 >= 4 {
        b.flag(false);
    }
    b.put(0, 1);
    b.put(comp.len() as u32, 16);
    let mut f = b.bytes;
    f.extend_from_slice(&comp);
    f
}

#[test]
fn inter_frame_size_changes() {
    let comp = empty_compressed_header(false);
    let mut key = key_frame_header(comp.len() as u16);
    key.extend_from_slice(&comp);
    let mut codec = Vp9Codec::new(&CodecPrivate::None).unwrap();
    let mut push = |data: &[u8], pts: i64| -> Vec<CodecEvent> {
        codec
            .push(CodedUnit {
                data,
                pts_ns: Some(pts),
                keyframe: false,
                byte_offset: 0,
            })
            .unwrap();
        std::iter::from_fn(|| codec.poll()).collect()
    };
    let ev = push(&key, 0);
    assert!(
        matches!(ev[0], CodecEvent::Configure(p) if (p.coded_width, p.coded_height) == (352, 288))
    );
    let key_timestamp_ns = match &ev[1] {
        CodecEvent::Decode(j) => j.timestamp_ns,
        e => panic!("{e:?}"),
    };
    // smaller inter frame (reference scaling): decoded in the current allocation
    let ev = push(&inter_frame(176, 144), 40);
    let CodecEvent::Decode(j) = &ev[0] else {
        panic!("{ev:?}")
    };
    let f = frame_ctrl(j);
    assert_eq!((f.frame_width_minus_1, f.frame_height_minus_1), (175, 143));
    assert_eq!(f.last_frame_ts, key_timestamp_ns);
    assert!(!ev.iter().any(|e| matches!(e, CodecEvent::Configure(_))));
    // larger than the allocation: skipped to the next key frame
    let ev = push(&inter_frame(704, 576), 80);
    assert!(
        matches!(&ev[..], [CodecEvent::Skipped { reason, .. }] if reason.contains("does not fit")),
        "{ev:?}"
    );
    let ev = push(&inter_frame(176, 144), 120);
    assert!(
        matches!(&ev[..], [CodecEvent::Skipped { reason, .. }] if reason.contains("key frame"))
    );
    // the key frame of the first size starts a sequence again (as GStreamer
    // does after a non-key size change): slots emptied, refs 0
    let ev = push(&key, 160);
    assert!(matches!(ev[0], CodecEvent::Unref { .. }), "{ev:?}");
    let j = ev
        .iter()
        .find_map(|e| match e {
            CodecEvent::Decode(j) => Some(j),
            _ => None,
        })
        .unwrap();
    assert!(ev.iter().any(|e| matches!(e, CodecEvent::Configure(_))));
    assert_eq!(frame_ctrl(j).last_frame_ts, 0);
    assert_eq!(j.timestamp_ns, 4000);
}

#[test]
fn key_frame_color_config_gives_the_color() {
    use vreq_core::vp9::{CS_BT_2020, CS_BT_601, CS_BT_709, CS_UNKNOWN};
    let comp = empty_compressed_header(false);
    let key = |cs: u8, range: u8| {
        let mut k = key_frame_header_colour(comp.len() as u16, cs, range);
        k.extend_from_slice(&comp);
        k
    };
    let mut codec = Vp9Codec::new(&CodecPrivate::None).unwrap();
    let mut conf = Vec::new();
    for (n, k) in [
        key(CS_BT_601, 1),
        key(CS_BT_601, 1), // the same again: no Configure
        key(CS_BT_2020, 0),
        key(CS_BT_709, 1),
        key(CS_UNKNOWN, 0),
    ]
    .iter()
    .enumerate()
    {
        codec
            .push(CodedUnit {
                data: k,
                pts_ns: Some(n as i64 * 40),
                keyframe: true,
                byte_offset: 0,
            })
            .unwrap();
        conf.extend(std::iter::from_fn(|| codec.poll()).filter_map(|e| match e {
            CodecEvent::Configure(p) => Some(p),
            _ => None,
        }));
    }
    let colors: Vec<(Option<u8>, bool)> = conf
        .iter()
        .map(|p| (p.color.matrix_coefficients, p.color.video_full_range))
        .collect();
    assert_eq!(
        colors,
        [
            (Some(6), true),
            (Some(9), false),
            (Some(1), true),
            (None, false)
        ]
    );
    assert!(conf.windows(2).all(|w| w[0].same_device_config(&w[1])));
}
