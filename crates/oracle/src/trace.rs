//! Parser for visl's ftrace text output (`/sys/kernel/tracing/trace`): the
//! `visl_h264_controls`, `visl_hevc_controls`, `visl_vp9_controls`,
//! `visl_vp8_controls` and `visl_mpeg2_controls` events
//! and `v4l2:v4l2_qbuf` / `v4l2_dqbuf`, grouped into decode jobs.
//!
//! A line is an event header when it has the ftrace prefix
//! `TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: BODY` (the irq-flags column is
//! optional); any other non-`#` line continues the previous event's body
//! (visl's formats begin with `\n` and contain hex-dump rows). One job is what
//! visl's `visl_trace_ctrls()` emits for one processed OUTPUT buffer: it
//! starts with `v4l2_ctrl_h264_sps` (kernel 6.12 `visl-dec.c`). Jobs take the
//! timestamps of the OUTPUT-queue `v4l2_qbuf` events in order: a request's
//! OUTPUT buffer is queued (traced after the ioctl returns, v4l2-ioctl.c
//! `video_usercopy`) before the request itself, whose queueing runs the job,
//! and m2m runs jobs in queue order.

use v4l2r::bindings as b;

use super::visl_fmt::{
    FlagTable, BUF_FLAGS, BUF_FLAG_M2M_HOLD_CAPTURE_BUF, DECODE_FLAGS, DPB_FLAGS,
    HEVC_DECODE_FLAGS, HEVC_DPB_FLAGS, HEVC_EXT_LT_RPS_FLAGS, HEVC_EXT_ST_RPS_FLAGS,
    HEVC_PPS_FLAGS, HEVC_SLICE_FLAGS, HEVC_SPS_FLAGS, PPS_FLAGS, REF_FIELDS, SLICE_FLAGS,
    SLICE_TYPES, SPS_CONSTRAINT_FLAGS, SPS_FLAGS, VP9_FRAME_FLAGS, VP9_INTERP_FILTER, VP9_LF_FLAGS,
    VP9_REFERENCE_MODE, VP9_RESET_FRAME_CTX, VP9_SEG_FLAGS, VP9_SIGN_BIAS, VP9_TX_MODE,
};
use super::visl_fmt::{
    MPEG2_PIC_FLAGS, MPEG2_SEQ_FLAGS, VP8_FRAME_FLAGS, VP8_LF_FLAGS, VP8_SEGMENT_FLAGS,
};
use vreq_core::uapi_ext::{V4l2CtrlHevcExtSpsLtRps, V4l2CtrlHevcExtSpsStRps};
use vreq_core::CodecKind;

/// A parse failure: 1-based line of the event header and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trace line {line}: {msg}")]
pub struct TraceError {
    pub line: usize,
    pub msg: String,
}

/// One raw ftrace event: its name and body (continuation lines joined by `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    /// 1-based line number of the header.
    pub line: usize,
    pub name: String,
    pub body: String,
}

/// One OUTPUT-queue `v4l2_qbuf` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputQbuf {
    /// `v4l2_buffer.timestamp` in ns.
    pub timestamp_ns: u64,
    /// `V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF` was set.
    pub hold_capture: bool,
}

/// One visl decode job: the current values of all H.264 controls when visl
/// processed one OUTPUT buffer (reference lists inside `slice_params`, DPB
/// inside `decode_params`, as in the uAPI structs).
#[derive(Clone)]
pub struct TraceJob {
    /// 1-based trace line of the job's first event.
    pub line: usize,
    /// The OUTPUT buffer this job consumed, if its qbuf was traced.
    pub output: Option<OutputQbuf>,
    pub sps: b::v4l2_ctrl_h264_sps,
    pub pps: b::v4l2_ctrl_h264_pps,
    pub scaling_matrix: b::v4l2_ctrl_h264_scaling_matrix,
    pub slice_params: b::v4l2_ctrl_h264_slice_params,
    pub decode_params: b::v4l2_ctrl_h264_decode_params,
    pub pred_weights: b::v4l2_ctrl_h264_pred_weights,
}

impl TraceJob {
    /// An empty job (all controls zeroed) first seen at trace line `line`.
    pub fn new(line: usize) -> Self {
        Self {
            line,
            output: None,
            sps: Default::default(),
            pps: Default::default(),
            scaling_matrix: Default::default(),
            slice_params: Default::default(),
            decode_params: Default::default(),
            pred_weights: Default::default(),
        }
    }
}

/// A parsed trace.
#[derive(Clone, Default)]
pub struct Trace {
    /// H.264 jobs in the order visl ran them.
    pub jobs: Vec<TraceJob>,
    /// HEVC jobs in the order visl ran them.
    pub hevc_jobs: Vec<HevcTraceJob>,
    /// VP9 jobs in the order visl ran them.
    pub vp9_jobs: Vec<Vp9TraceJob>,
    /// VP8 jobs in the order visl ran them.
    pub vp8_jobs: Vec<Vp8TraceJob>,
    /// MPEG-2 jobs in the order visl ran them.
    pub mpeg2_jobs: Vec<Mpeg2TraceJob>,
    /// Some job traced `v4l2_ctrl_hevc_ext_sps_{st,lt}_rps` elements: the
    /// device has the EXT_SPS_ST/LT_RPS controls (kernel 7.2 visl, sid patch).
    pub hevc_ext_sps_rps: bool,
    /// OUTPUT qbufs in trace order (jobs take them in order).
    pub output_qbufs: Vec<OutputQbuf>,
    /// CAPTURE buffers dequeued (decoded pictures handed back), and how many
    /// of them carried `V4L2_BUF_FLAG_ERROR`.
    pub capture_dqbufs: usize,
    pub capture_dqbuf_errors: usize,
    /// `entries-in-buffer/entries-written` from the header, if present: when
    /// they differ the ring buffer overflowed and events were lost.
    pub entries: Option<(u64, u64)>,
    /// Things that did not stop parsing (events before the first job, ...).
    pub warnings: Vec<String>,
}

impl Trace {
    /// The codec whose jobs the trace holds (the first with any; `None` for
    /// a trace without visl control events).
    pub fn codec(&self) -> Option<CodecKind> {
        if !self.jobs.is_empty() {
            Some(CodecKind::H264)
        } else if !self.hevc_jobs.is_empty() {
            Some(CodecKind::Hevc)
        } else if !self.vp9_jobs.is_empty() {
            Some(CodecKind::Vp9)
        } else if !self.vp8_jobs.is_empty() {
            Some(CodecKind::Vp8)
        } else if !self.mpeg2_jobs.is_empty() {
            Some(CodecKind::Mpeg2)
        } else {
            None
        }
    }

    /// Number of jobs of [`Trace::codec`].
    pub fn job_count(&self) -> usize {
        match self.codec() {
            Some(CodecKind::Hevc) => self.hevc_jobs.len(),
            Some(CodecKind::Vp9) => self.vp9_jobs.len(),
            Some(CodecKind::Vp8) => self.vp8_jobs.len(),
            Some(CodecKind::Mpeg2) => self.mpeg2_jobs.len(),
            _ => self.jobs.len(),
        }
    }
}

/// Splits `line` into (event name, body start) if it is an ftrace event header.
pub fn parse_header(line: &str) -> Option<(&str, &str)> {
    let mut from = 0;
    let rest = loop {
        let open = from + line[from..].find('[')?;
        let close = open + line[open..].find(']')?;
        let cpu = &line[open + 1..close];
        if !cpu.is_empty() && cpu.bytes().all(|c| c.is_ascii_digit()) && line[..open].contains('-')
        {
            break &line[close + 1..];
        }
        from = open + 1;
    };
    // optional irq-flags column, then "SECONDS.MICROS:" then "EVENT:"
    let mut r = rest.trim_start();
    for _ in 0..2 {
        let end = r.find(char::is_whitespace).unwrap_or(r.len());
        let tok = &r[..end];
        if let Some(ts) = tok.strip_suffix(':') {
            if ts.parse::<f64>().is_ok() {
                let after = r[end..].trim_start_matches(' ');
                let colon = after
                    .find(": ")
                    .or_else(|| after.strip_suffix(':').map(|s| s.len()))?;
                let name = &after[..colon];
                if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    return None;
                }
                let body = after.get(colon + 2..).unwrap_or("");
                return Some((name, body));
            }
        }
        r = r[end..].trim_start();
    }
    None
}

/// Splits trace text into events (header lines plus continuation lines).
pub fn split_events(text: &str) -> (Vec<RawEvent>, Option<(u64, u64)>) {
    let mut out: Vec<RawEvent> = Vec::new();
    let mut entries = None;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') {
            if let Some(p) = line.find("entries-in-buffer/entries-written:") {
                let v = line[p + 34..].split_whitespace().next().unwrap_or("");
                if let Some((a, b)) = v.split_once('/') {
                    if let (Ok(a), Ok(b)) = (a.parse(), b.parse()) {
                        entries = Some((a, b));
                    }
                }
            }
            continue;
        }
        if let Some((name, body)) = parse_header(line) {
            out.push(RawEvent {
                line: i + 1,
                name: name.to_string(),
                body: body.to_string(),
            });
        } else if let Some(ev) = out.last_mut() {
            ev.body.push('\n');
            ev.body.push_str(line);
        }
    }
    (out, entries)
}

fn err(line: usize, msg: impl Into<String>) -> TraceError {
    TraceError {
        line,
        msg: msg.into(),
    }
}

/// Parses a decimal integer as printed by `%u`/`%d`/`%llu` (negative allowed).
fn int(line: usize, key: &str, s: &str) -> Result<i128, TraceError> {
    s.trim()
        .parse::<i128>()
        .map_err(|_| err(line, format!("{key}: not an integer: {s:?}")))
}

/// Parses `__print_flags` output back into bits: names from `table`, `0x`
/// remainders; empty = 0.
pub fn parse_flags(s: &str, table: FlagTable) -> Result<u64, String> {
    let mut v = 0u64;
    for tok in s.trim().split('|').filter(|t| !t.is_empty()) {
        if let Some(h) = tok.strip_prefix("0x") {
            v |= u64::from_str_radix(h, 16).map_err(|_| format!("bad flag remainder {tok:?}"))?;
        } else if let Some((m, _)) = table.iter().find(|(_, n)| *n == tok) {
            v |= m;
        } else {
            return Err(format!("unknown flag {tok:?}"));
        }
    }
    Ok(v)
}

fn parse_symbolic(s: &str, table: FlagTable) -> Result<u64, String> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x") {
        return u64::from_str_radix(h, 16).map_err(|_| format!("bad symbol {s:?}"));
    }
    table
        .iter()
        .find(|(_, n)| *n == s)
        .map(|(v, _)| *v)
        .ok_or_else(|| format!("unknown symbol {s:?}"))
}

/// `{0x1,0x2}` → values.
fn parse_array(s: &str) -> Result<Vec<u64>, String> {
    let s = s.trim();
    let inner = s
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .ok_or_else(|| format!("not an array: {s:?}"))?;
    inner
        .split(',')
        .filter(|t| !t.is_empty())
        .map(|t| {
            let t = t.trim();
            u64::from_str_radix(t.strip_prefix("0x").unwrap_or(t), 16)
                .map_err(|_| format!("bad array element {t:?}"))
        })
        .collect()
}

/// Hex-dump rows (`10 10 ...`) → bytes.
fn parse_hex_bytes(s: &str) -> Result<Vec<u8>, String> {
    s.split_whitespace()
        .map(|t| u8::from_str_radix(t, 16).map_err(|_| format!("bad hex byte {t:?}")))
        .collect()
}

/// A `key value` body (visl's multi-line formats) as ordered pairs; values in
/// `{ ... }` spanning lines are joined with spaces, braces removed.
fn kv_body(body: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = body.lines();
    while let Some(l) = lines.next() {
        // trimmed both sides: some visl formats start a line with a space
        // (VP9 `\n coef {`, `\n joint ...`)
        let l = l.trim();
        if l.is_empty() {
            continue;
        }
        let (k, v) = l.split_once(' ').unwrap_or((l, ""));
        let mut v = v.to_string();
        if v == "{" {
            let mut acc = Vec::new();
            for m in lines.by_ref() {
                let m = m.trim();
                if m == "}" {
                    break;
                }
                acc.push(m.to_string());
            }
            v = acc.join(" ");
        }
        out.push((k.to_string(), v));
    }
    out
}

struct Kv {
    line: usize,
    pairs: Vec<(String, String)>,
}

impl Kv {
    fn get(&self, k: &str) -> Result<&str, TraceError> {
        self.pairs
            .iter()
            .find(|(kk, _)| kk == k)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| err(self.line, format!("missing field {k}")))
    }
    fn int(&self, k: &str) -> Result<i128, TraceError> {
        int(self.line, k, self.get(k)?)
    }
    fn flags(&self, k: &str, t: FlagTable) -> Result<u64, TraceError> {
        parse_flags(self.get(k)?, t).map_err(|m| err(self.line, format!("{k}: {m}")))
    }
    fn array(&self, k: &str) -> Result<Vec<u64>, TraceError> {
        parse_array(self.get(k)?).map_err(|m| err(self.line, format!("{k}: {m}")))
    }
    fn hex(&self, k: &str, len: usize) -> Result<Vec<u8>, TraceError> {
        let v = parse_hex_bytes(self.get(k)?).map_err(|m| err(self.line, format!("{k}: {m}")))?;
        if v.len() != len {
            return Err(err(
                self.line,
                format!("{k}: {} bytes, expected {len}", v.len()),
            ));
        }
        Ok(v)
    }
}

impl Kv {
    /// `__print_array` values into `dst` (exact length), each element cast by `f`.
    fn array_into<T: Copy>(
        &self,
        k: &str,
        dst: &mut [T],
        f: impl Fn(u64) -> T,
    ) -> Result<(), TraceError> {
        fill(dst, &self.array(k)?, f, self.line, k)
    }
    /// A hex dump into `dst` (exact length).
    fn hex_into(&self, k: &str, dst: &mut [u8]) -> Result<(), TraceError> {
        let v = self.hex(k, dst.len())?;
        dst.copy_from_slice(&v);
        Ok(())
    }
    /// A hex dump of signed bytes into `dst`.
    fn hex_into_i8(&self, k: &str, dst: &mut [i8]) -> Result<(), TraceError> {
        let v = self.hex(k, dst.len())?;
        for (d, s) in dst.iter_mut().zip(v) {
            *d = s as i8;
        }
        Ok(())
    }
    /// A `%x` / `%08x` value (hex without `0x`).
    fn hex_int(&self, k: &str) -> Result<u64, TraceError> {
        let v = self.get(k)?;
        u64::from_str_radix(v.trim(), 16)
            .map_err(|_| err(self.line, format!("{k}: not a hex integer: {v:?}")))
    }
    fn symbol(&self, k: &str, t: FlagTable) -> Result<u64, TraceError> {
        parse_symbolic(self.get(k)?, t).map_err(|m| err(self.line, format!("{k}: {m}")))
    }
}

fn fill<T: Copy>(
    dst: &mut [T],
    src: &[u64],
    f: impl Fn(u64) -> T,
    line: usize,
    k: &str,
) -> Result<(), TraceError> {
    if src.len() != dst.len() {
        return Err(err(
            line,
            format!("{k}: {} elements, expected {}", src.len(), dst.len()),
        ));
    }
    for (d, s) in dst.iter_mut().zip(src) {
        *d = f(*s);
    }
    Ok(())
}

fn parse_sps(kv: &Kv) -> Result<b::v4l2_ctrl_h264_sps, TraceError> {
    let mut s = b::v4l2_ctrl_h264_sps {
        profile_idc: kv.int("profile_idc")? as u8,
        constraint_set_flags: kv.flags("constraint_set_flags", SPS_CONSTRAINT_FLAGS)? as u8,
        level_idc: kv.int("level_idc")? as u8,
        seq_parameter_set_id: kv.int("seq_parameter_set_id")? as u8,
        chroma_format_idc: kv.int("chroma_format_idc")? as u8,
        bit_depth_luma_minus8: kv.int("bit_depth_luma_minus8")? as u8,
        bit_depth_chroma_minus8: kv.int("bit_depth_chroma_minus8")? as u8,
        log2_max_frame_num_minus4: kv.int("log2_max_frame_num_minus4")? as u8,
        pic_order_cnt_type: kv.int("pic_order_cnt_type")? as u8,
        log2_max_pic_order_cnt_lsb_minus4: kv.int("log2_max_pic_order_cnt_lsb_minus4")? as u8,
        max_num_ref_frames: kv.int("max_num_ref_frames")? as u8,
        num_ref_frames_in_pic_order_cnt_cycle: kv.int("num_ref_frames_in_pic_order_cnt_cycle")?
            as u8,
        offset_for_non_ref_pic: kv.int("offset_for_non_ref_pic")? as i32,
        offset_for_top_to_bottom_field: kv.int("offset_for_top_to_bottom_field")? as i32,
        pic_width_in_mbs_minus1: kv.int("pic_width_in_mbs_minus1")? as u16,
        pic_height_in_map_units_minus1: kv.int("pic_height_in_map_units_minus1")? as u16,
        flags: kv.flags("flags", SPS_FLAGS)? as u32,
        ..Default::default()
    };
    let a = kv.array("offset_for_ref_frame")?;
    fill(
        &mut s.offset_for_ref_frame,
        &a,
        |v| v as u32 as i32,
        kv.line,
        "offset_for_ref_frame",
    )?;
    Ok(s)
}

fn parse_pps(kv: &Kv) -> Result<b::v4l2_ctrl_h264_pps, TraceError> {
    Ok(b::v4l2_ctrl_h264_pps {
        pic_parameter_set_id: kv.int("pic_parameter_set_id")? as u8,
        seq_parameter_set_id: kv.int("seq_parameter_set_id")? as u8,
        num_slice_groups_minus1: kv.int("num_slice_groups_minus1")? as u8,
        num_ref_idx_l0_default_active_minus1: kv.int("num_ref_idx_l0_default_active_minus1")? as u8,
        num_ref_idx_l1_default_active_minus1: kv.int("num_ref_idx_l1_default_active_minus1")? as u8,
        weighted_bipred_idc: kv.int("weighted_bipred_idc")? as u8,
        pic_init_qp_minus26: kv.int("pic_init_qp_minus26")? as i8,
        pic_init_qs_minus26: kv.int("pic_init_qs_minus26")? as i8,
        chroma_qp_index_offset: kv.int("chroma_qp_index_offset")? as i8,
        second_chroma_qp_index_offset: kv.int("second_chroma_qp_index_offset")? as i8,
        flags: kv.flags("flags", PPS_FLAGS)? as u16,
    })
}

fn parse_scaling_matrix(kv: &Kv) -> Result<b::v4l2_ctrl_h264_scaling_matrix, TraceError> {
    let mut m = b::v4l2_ctrl_h264_scaling_matrix::default();
    let l4 = kv.hex("scaling_list_4x4", 96)?;
    let l8 = kv.hex("scaling_list_8x8", 384)?;
    for (i, row) in m.scaling_list_4x4.iter_mut().enumerate() {
        row.copy_from_slice(&l4[i * 16..(i + 1) * 16]);
    }
    for (i, row) in m.scaling_list_8x8.iter_mut().enumerate() {
        row.copy_from_slice(&l8[i * 64..(i + 1) * 64]);
    }
    Ok(m)
}

fn parse_pred_weights(kv: &Kv) -> Result<b::v4l2_ctrl_h264_pred_weights, TraceError> {
    let mut p = b::v4l2_ctrl_h264_pred_weights {
        luma_log2_weight_denom: kv.int("luma_log2_weight_denom")? as u16,
        chroma_log2_weight_denom: kv.int("chroma_log2_weight_denom")? as u16,
        ..Default::default()
    };
    for (i, w) in p.weight_factors.iter_mut().enumerate() {
        let k = format!("weight_factor[{i}].luma_weight");
        fill(
            &mut w.luma_weight,
            &kv.array(&k)?,
            |v| v as u16 as i16,
            kv.line,
            &k,
        )?;
        let k = format!("weight_factor[{i}].luma_offset");
        fill(
            &mut w.luma_offset,
            &kv.array(&k)?,
            |v| v as u16 as i16,
            kv.line,
            &k,
        )?;
        let cw = kv.hex(&format!("weight_factor[{i}].chroma_weight"), 128)?;
        let co = kv.hex(&format!("weight_factor[{i}].chroma_offset"), 128)?;
        for j in 0..32 {
            for c in 0..2 {
                let o = (j * 2 + c) * 2;
                w.chroma_weight[j][c] = i16::from_le_bytes([cw[o], cw[o + 1]]);
                w.chroma_offset[j][c] = i16::from_le_bytes([co[o], co[o + 1]]);
            }
        }
    }
    Ok(p)
}

fn parse_slice_params(kv: &Kv, s: &mut b::v4l2_ctrl_h264_slice_params) -> Result<(), TraceError> {
    s.header_bit_size = kv.int("header_bit_size")? as u32;
    s.first_mb_in_slice = kv.int("first_mb_in_slice")? as u32;
    s.slice_type =
        parse_symbolic(kv.get("slice_type")?, SLICE_TYPES).map_err(|m| err(kv.line, m))? as u8;
    s.colour_plane_id = kv.int("colour_plane_id")? as u8;
    s.redundant_pic_cnt = kv.int("redundant_pic_cnt")? as u8;
    s.cabac_init_idc = kv.int("cabac_init_idc")? as u8;
    s.slice_qp_delta = kv.int("slice_qp_delta")? as i8;
    s.slice_qs_delta = kv.int("slice_qs_delta")? as i8;
    s.disable_deblocking_filter_idc = kv.int("disable_deblocking_filter_idc")? as u8;
    s.slice_alpha_c0_offset_div2 = kv.int("slice_alpha_c0_offset_div2")? as i8;
    s.slice_beta_offset_div2 = kv.int("slice_beta_offset_div2")? as i8;
    s.num_ref_idx_l0_active_minus1 = kv.int("num_ref_idx_l0_active_minus1")? as u8;
    s.num_ref_idx_l1_active_minus1 = kv.int("num_ref_idx_l1_active_minus1")? as u8;
    s.flags = kv.flags("flags", SLICE_FLAGS)? as u32;
    Ok(())
}

fn parse_decode_params(kv: &Kv, d: &mut b::v4l2_ctrl_h264_decode_params) -> Result<(), TraceError> {
    d.nal_ref_idc = kv.int("nal_ref_idc")? as u16;
    d.frame_num = kv.int("frame_num")? as u16;
    d.top_field_order_cnt = kv.int("top_field_order_cnt")? as i32;
    d.bottom_field_order_cnt = kv.int("bottom_field_order_cnt")? as i32;
    d.idr_pic_id = kv.int("idr_pic_id")? as u16;
    d.pic_order_cnt_lsb = kv.int("pic_order_cnt_lsb")? as u16;
    d.delta_pic_order_cnt_bottom = kv.int("delta_pic_order_cnt_bottom")? as i32;
    d.delta_pic_order_cnt0 = kv.int("delta_pic_order_cnt0")? as i32;
    d.delta_pic_order_cnt1 = kv.int("delta_pic_order_cnt1")? as i32;
    d.dec_ref_pic_marking_bit_size = kv.int("dec_ref_pic_marking_bit_size")? as u32;
    d.pic_order_cnt_bit_size = kv.int("pic_order_cnt_bit_size")? as u32;
    d.slice_group_change_cycle = kv.int("slice_group_change_cycle")? as u32;
    d.flags = kv.flags("flags", DECODE_FLAGS)? as u32;
    Ok(())
}

/// `[i]: ...` → (i, rest).
fn indexed(line: usize, body: &str) -> Result<(usize, &str), TraceError> {
    let b = body.trim_start();
    let close = b
        .find("]: ")
        .filter(|_| b.starts_with('['))
        .ok_or_else(|| err(line, "expected `[i]: `"))?;
    let i = b[1..close]
        .parse::<usize>()
        .map_err(|_| err(line, "bad entry index"))?;
    Ok((i, &b[close + 3..]))
}

/// Value between `key ` and the next of `next` (or the end).
fn between<'a>(
    line: usize,
    s: &'a str,
    key: &str,
    next: Option<&str>,
) -> Result<&'a str, TraceError> {
    // a trailing empty value may have lost its space (`... flags`)
    let p = match s.find(key) {
        Some(p) => p + key.len(),
        None if s.ends_with(key.trim_end()) => s.len(),
        None => return Err(err(line, format!("missing {}", key.trim()))),
    };
    let rest = &s[p..];
    let end = match next {
        Some(n) => match rest.find(n) {
            Some(e) => e,
            None if rest.ends_with(n.trim_end()) => rest.len() - n.trim_end().len(),
            None => return Err(err(line, format!("missing {}", n.trim()))),
        },
        None => rest.len(),
    };
    Ok(rest[..end].trim())
}

fn parse_reference(line: usize, body: &str) -> Result<(usize, b::v4l2_h264_reference), TraceError> {
    let (i, rest) = indexed(line, body)?;
    let fields = between(line, rest, "fields ", Some(" index "))?;
    let index = between(line, rest, " index ", None)?;
    let r = b::v4l2_h264_reference {
        fields: parse_flags(fields, REF_FIELDS).map_err(|m| err(line, m))? as u8,
        index: int(line, "index", index)? as u8,
    };
    Ok((i, r))
}

fn parse_dpb_entry(line: usize, body: &str) -> Result<(usize, b::v4l2_h264_dpb_entry), TraceError> {
    let (i, rest) = indexed(line, body)?;
    let g = |k, n| between(line, rest, k, n);
    let e = b::v4l2_h264_dpb_entry {
        reference_ts: int(line, "reference_ts", g("reference_ts ", Some(","))?)? as u64,
        pic_num: int(line, "pic_num", g(" pic_num ", Some(" frame_num "))?)? as u32,
        frame_num: int(line, "frame_num", g(" frame_num ", Some(" fields "))?)? as u16,
        fields: parse_flags(g(" fields ", Some(" top_field_order_cnt "))?, REF_FIELDS)
            .map_err(|m| err(line, m))? as u8,
        top_field_order_cnt: int(
            line,
            "top_field_order_cnt",
            g(" top_field_order_cnt ", Some(" bottom_field_order_cnt "))?,
        )? as i32,
        bottom_field_order_cnt: int(
            line,
            "bottom_field_order_cnt",
            g(" bottom_field_order_cnt ", Some(" flags "))?,
        )? as i32,
        flags: parse_flags(g(" flags ", None)?, DPB_FLAGS).map_err(|m| err(line, m))? as u32,
        ..Default::default()
    };
    Ok((i, e))
}

// ---------------------------------------------------------------------------
// HEVC and VP9 (kernel 6.12 visl-trace-hevc.h / visl-trace-vp9.h; 7.2 adds
// the EXT_SPS_ST/LT_RPS events)
// ---------------------------------------------------------------------------

/// One visl HEVC decode job: the current value of every HEVC control when
/// visl processed one OUTPUT buffer. `slice_params` is element 0 of the
/// SLICE_PARAMS dynamic array (all visl 6.12/7.2 traces; in slice-based mode
/// a request carries one slice, so that is every slice), with the
/// `pred_weight_table` event folded back into it; the 16 `dpb_entry` events
/// fill `decode_params.dpb` in order. ENTRY_POINT_OFFSETS is not traced.
#[derive(Clone)]
pub struct HevcTraceJob {
    /// 1-based trace line of the job's first event.
    pub line: usize,
    /// The OUTPUT buffer this job consumed, if its qbuf was traced.
    pub output: Option<OutputQbuf>,
    pub sps: b::v4l2_ctrl_hevc_sps,
    pub pps: b::v4l2_ctrl_hevc_pps,
    pub slice_params: b::v4l2_ctrl_hevc_slice_params,
    pub scaling_matrix: b::v4l2_ctrl_hevc_scaling_matrix,
    pub decode_params: b::v4l2_ctrl_hevc_decode_params,
    /// `dpb_entry` events seen (visl prints all 16).
    pub dpb_events: usize,
    /// Every traced element of `V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS` /
    /// `_LT_RPS` (kernel 7.2 visl with the sid lab patch; empty when the
    /// device lacks the controls).
    pub ext_st_rps: Vec<V4l2CtrlHevcExtSpsStRps>,
    pub ext_lt_rps: Vec<V4l2CtrlHevcExtSpsLtRps>,
}

impl HevcTraceJob {
    /// An empty job (all controls zeroed) first seen at trace line `line`.
    pub fn new(line: usize) -> Self {
        Self {
            line,
            output: None,
            sps: Default::default(),
            pps: Default::default(),
            slice_params: Default::default(),
            scaling_matrix: Default::default(),
            decode_params: Default::default(),
            dpb_events: 0,
            ext_st_rps: Vec::new(),
            ext_lt_rps: Vec::new(),
        }
    }
}

/// One visl VP9 decode job: FRAME and COMPRESSED_HDR as traced (the
/// `compressed_coeff` and `mv_probs` events are parts of COMPRESSED_HDR).
#[derive(Clone)]
pub struct Vp9TraceJob {
    /// 1-based trace line of the job's first event.
    pub line: usize,
    /// The OUTPUT buffer this job consumed, if its qbuf was traced.
    pub output: Option<OutputQbuf>,
    /// `V4L2_CID_STATELESS_VP9_FRAME`.
    pub frame: b::v4l2_ctrl_vp9_frame,
    /// `V4L2_CID_STATELESS_VP9_COMPRESSED_HDR` (`coef` and `mv` included).
    pub compressed_hdr: b::v4l2_ctrl_vp9_compressed_hdr,
}

impl Vp9TraceJob {
    /// An empty job (controls zeroed) first seen at trace line `line`.
    pub fn new(line: usize) -> Self {
        Self {
            line,
            output: None,
            frame: Default::default(),
            compressed_hdr: Default::default(),
        }
    }
}

/// One visl VP8 decode job: `V4L2_CID_STATELESS_VP8_FRAME` as traced by the
/// `v4l2_ctrl_vp8_frame` event with the `v4l2_ctrl_vp8_entropy` event
/// (the same struct's `entropy`) folded back in.
#[derive(Clone)]
pub struct Vp8TraceJob {
    /// 1-based trace line of the job's first event.
    pub line: usize,
    /// The OUTPUT buffer this job consumed, if its qbuf was traced.
    pub output: Option<OutputQbuf>,
    pub frame: b::v4l2_ctrl_vp8_frame,
}

/// One visl MPEG-2 decode job: SEQUENCE, PICTURE and QUANTISATION as traced
/// (kernel 6.12 `visl_trace_ctrls`, one event each, in that order).
#[derive(Clone)]
pub struct Mpeg2TraceJob {
    /// 1-based trace line of the job's first event.
    pub line: usize,
    /// The OUTPUT buffer this job consumed, if its qbuf was traced.
    pub output: Option<OutputQbuf>,
    pub sequence: b::v4l2_ctrl_mpeg2_sequence,
    pub picture: b::v4l2_ctrl_mpeg2_picture,
    pub quantisation: b::v4l2_ctrl_mpeg2_quantisation,
}

fn parse_vp8_frame(kv: &Kv) -> Result<b::v4l2_ctrl_vp8_frame, TraceError> {
    let mut f = b::v4l2_ctrl_vp8_frame::default();
    let s8 = |v: u64| v as u8 as i8;
    kv.array_into("segment.quant_update", &mut f.segment.quant_update, s8)?;
    kv.array_into("segment.lf_update", &mut f.segment.lf_update, s8)?;
    kv.array_into("segment.segment_probs", &mut f.segment.segment_probs, |v| {
        v as u8
    })?;
    f.segment.flags = kv.flags("segment.flags", VP8_SEGMENT_FLAGS)? as u32;
    kv.array_into("lf.ref_frm_delta", &mut f.lf.ref_frm_delta, s8)?;
    kv.array_into("lf.mb_mode_delta", &mut f.lf.mb_mode_delta, s8)?;
    f.lf.sharpness_level = kv.int("lf.sharpness_level")? as u8;
    f.lf.level = kv.int("lf.level")? as u8;
    f.lf.flags = kv.flags("lf.flags", VP8_LF_FLAGS)? as u32;
    f.quant.y_ac_qi = kv.int("quant.y_ac_qi")? as u8;
    f.quant.y_dc_delta = kv.int("quant.y_dc_delta")? as i8;
    f.quant.y2_dc_delta = kv.int("quant.y2_dc_delta")? as i8;
    f.quant.y2_ac_delta = kv.int("quant.y2_ac_delta")? as i8;
    f.quant.uv_dc_delta = kv.int("quant.uv_dc_delta")? as i8;
    f.quant.uv_ac_delta = kv.int("quant.uv_ac_delta")? as i8;
    f.coder_state.range = kv.int("coder_state.range")? as u8;
    f.coder_state.value = kv.int("coder_state.value")? as u8;
    f.coder_state.bit_count = kv.int("coder_state.bit_count")? as u8;
    f.width = kv.int("width")? as u16;
    f.height = kv.int("height")? as u16;
    f.horizontal_scale = kv.int("horizontal_scale")? as u8;
    f.vertical_scale = kv.int("vertical_scale")? as u8;
    f.version = kv.int("version")? as u8;
    f.prob_skip_false = kv.int("prob_skip_false")? as u8;
    f.prob_intra = kv.int("prob_intra")? as u8;
    f.prob_last = kv.int("prob_last")? as u8;
    f.prob_gf = kv.int("prob_gf")? as u8;
    f.num_dct_parts = kv.int("num_dct_parts")? as u8;
    f.first_part_size = kv.int("first_part_size")? as u32;
    f.first_part_header_bits = kv.int("first_part_header_bits")? as u32;
    kv.array_into("dct_part_sizes", &mut f.dct_part_sizes, |v| v as u32)?;
    f.last_frame_ts = kv.int("last_frame_ts")? as u64;
    f.golden_frame_ts = kv.int("golden_frame_ts")? as u64;
    f.alt_frame_ts = kv.int("alt_frame_ts")? as u64;
    f.flags = kv.flags("flags", VP8_FRAME_FLAGS)?;
    Ok(f)
}

fn parse_vp8_entropy(kv: &Kv, e: &mut b::v4l2_vp8_entropy) -> Result<(), TraceError> {
    kv.hex_into(
        "entropy.coeff_probs",
        e.coeff_probs
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut(),
    )?;
    kv.array_into("entropy.y_mode_probs", &mut e.y_mode_probs, |v| v as u8)?;
    kv.array_into("entropy.uv_mode_probs", &mut e.uv_mode_probs, |v| v as u8)?;
    kv.hex_into("entropy.mv_probs", e.mv_probs.as_flattened_mut())?;
    Ok(())
}

fn parse_mpeg2_sequence(kv: &Kv) -> Result<b::v4l2_ctrl_mpeg2_sequence, TraceError> {
    Ok(b::v4l2_ctrl_mpeg2_sequence {
        horizontal_size: kv.int("horizontal_size")? as u16,
        vertical_size: kv.int("vertical_size")? as u16,
        vbv_buffer_size: kv.int("vbv_buffer_size")? as u32,
        profile_and_level_indication: kv.int("profile_and_level_indication")? as u16,
        chroma_format: kv.int("chroma_format")? as u8,
        flags: kv.flags("flags", MPEG2_SEQ_FLAGS)? as u8,
    })
}

fn parse_mpeg2_picture(kv: &Kv) -> Result<b::v4l2_ctrl_mpeg2_picture, TraceError> {
    let mut p = b::v4l2_ctrl_mpeg2_picture {
        backward_ref_ts: kv.int("backward_ref_ts")? as u64,
        forward_ref_ts: kv.int("forward_ref_ts")? as u64,
        flags: kv.flags("flags", MPEG2_PIC_FLAGS)? as u32,
        // visl prints this key with a colon
        picture_coding_type: kv.int("picture_coding_type:")? as u8,
        picture_structure: kv.int("picture_structure")? as u8,
        intra_dc_precision: kv.int("intra_dc_precision")? as u8,
        ..Default::default()
    };
    kv.hex_into("f_code", p.f_code.as_flattened_mut())?;
    Ok(p)
}

fn parse_mpeg2_quantisation(kv: &Kv) -> Result<b::v4l2_ctrl_mpeg2_quantisation, TraceError> {
    let mut q = b::v4l2_ctrl_mpeg2_quantisation::default();
    let u = |v: u64| v as u8;
    kv.array_into("intra_quantiser_matrix", &mut q.intra_quantiser_matrix, u)?;
    kv.array_into(
        "non_intra_quantiser_matrix",
        &mut q.non_intra_quantiser_matrix,
        u,
    )?;
    kv.array_into(
        "chroma_intra_quantiser_matrix",
        &mut q.chroma_intra_quantiser_matrix,
        u,
    )?;
    kv.array_into(
        "chroma_non_intra_quantiser_matrix",
        &mut q.chroma_non_intra_quantiser_matrix,
        u,
    )?;
    Ok(q)
}

fn parse_hevc_sps(kv: &Kv) -> Result<b::v4l2_ctrl_hevc_sps, TraceError> {
    Ok(b::v4l2_ctrl_hevc_sps {
        video_parameter_set_id: kv.int("video_parameter_set_id")? as u8,
        seq_parameter_set_id: kv.int("seq_parameter_set_id")? as u8,
        pic_width_in_luma_samples: kv.int("pic_width_in_luma_samples")? as u16,
        pic_height_in_luma_samples: kv.int("pic_height_in_luma_samples")? as u16,
        bit_depth_luma_minus8: kv.int("bit_depth_luma_minus8")? as u8,
        bit_depth_chroma_minus8: kv.int("bit_depth_chroma_minus8")? as u8,
        log2_max_pic_order_cnt_lsb_minus4: kv.int("log2_max_pic_order_cnt_lsb_minus4")? as u8,
        sps_max_dec_pic_buffering_minus1: kv.int("sps_max_dec_pic_buffering_minus1")? as u8,
        sps_max_num_reorder_pics: kv.int("sps_max_num_reorder_pics")? as u8,
        sps_max_latency_increase_plus1: kv.int("sps_max_latency_increase_plus1")? as u8,
        log2_min_luma_coding_block_size_minus3: kv.int("log2_min_luma_coding_block_size_minus3")?
            as u8,
        log2_diff_max_min_luma_coding_block_size: kv
            .int("log2_diff_max_min_luma_coding_block_size")?
            as u8,
        log2_min_luma_transform_block_size_minus2: kv
            .int("log2_min_luma_transform_block_size_minus2")?
            as u8,
        log2_diff_max_min_luma_transform_block_size: kv
            .int("log2_diff_max_min_luma_transform_block_size")?
            as u8,
        max_transform_hierarchy_depth_inter: kv.int("max_transform_hierarchy_depth_inter")? as u8,
        max_transform_hierarchy_depth_intra: kv.int("max_transform_hierarchy_depth_intra")? as u8,
        pcm_sample_bit_depth_luma_minus1: kv.int("pcm_sample_bit_depth_luma_minus1")? as u8,
        pcm_sample_bit_depth_chroma_minus1: kv.int("pcm_sample_bit_depth_chroma_minus1")? as u8,
        log2_min_pcm_luma_coding_block_size_minus3: kv
            .int("log2_min_pcm_luma_coding_block_size_minus3")?
            as u8,
        log2_diff_max_min_pcm_luma_coding_block_size: kv
            .int("log2_diff_max_min_pcm_luma_coding_block_size")?
            as u8,
        num_short_term_ref_pic_sets: kv.int("num_short_term_ref_pic_sets")? as u8,
        num_long_term_ref_pics_sps: kv.int("num_long_term_ref_pics_sps")? as u8,
        chroma_format_idc: kv.int("chroma_format_idc")? as u8,
        sps_max_sub_layers_minus1: kv.int("sps_max_sub_layers_minus1")? as u8,
        flags: kv.flags("flags", HEVC_SPS_FLAGS)?,
        ..Default::default()
    })
}

fn parse_hevc_pps(kv: &Kv) -> Result<b::v4l2_ctrl_hevc_pps, TraceError> {
    let mut p = b::v4l2_ctrl_hevc_pps {
        pic_parameter_set_id: kv.int("pic_parameter_set_id")? as u8,
        num_extra_slice_header_bits: kv.int("num_extra_slice_header_bits")? as u8,
        num_ref_idx_l0_default_active_minus1: kv.int("num_ref_idx_l0_default_active_minus1")? as u8,
        num_ref_idx_l1_default_active_minus1: kv.int("num_ref_idx_l1_default_active_minus1")? as u8,
        init_qp_minus26: kv.int("init_qp_minus26")? as i8,
        diff_cu_qp_delta_depth: kv.int("diff_cu_qp_delta_depth")? as u8,
        pps_cb_qp_offset: kv.int("pps_cb_qp_offset")? as i8,
        pps_cr_qp_offset: kv.int("pps_cr_qp_offset")? as i8,
        num_tile_columns_minus1: kv.int("num_tile_columns_minus1")? as u8,
        num_tile_rows_minus1: kv.int("num_tile_rows_minus1")? as u8,
        pps_beta_offset_div2: kv.int("pps_beta_offset_div2")? as i8,
        pps_tc_offset_div2: kv.int("pps_tc_offset_div2")? as i8,
        log2_parallel_merge_level_minus2: kv.int("log2_parallel_merge_level_minus2")? as u8,
        flags: kv.flags("flags", HEVC_PPS_FLAGS)?,
        ..Default::default()
    };
    kv.array_into("column_width_minus1", &mut p.column_width_minus1, |v| {
        v as u8
    })?;
    kv.array_into("row_height_minus1", &mut p.row_height_minus1, |v| v as u8)?;
    Ok(p)
}

fn parse_hevc_slice_params(
    kv: &Kv,
    s: &mut b::v4l2_ctrl_hevc_slice_params,
) -> Result<(), TraceError> {
    s.bit_size = kv.int("bit_size")? as u32;
    s.data_byte_offset = kv.int("data_byte_offset")? as u32;
    s.num_entry_point_offsets = kv.int("num_entry_point_offsets")? as u32;
    s.nal_unit_type = kv.int("nal_unit_type")? as u8;
    s.nuh_temporal_id_plus1 = kv.int("nuh_temporal_id_plus1")? as u8;
    s.slice_type = kv.int("slice_type")? as u8;
    s.colour_plane_id = kv.int("colour_plane_id")? as u8;
    s.slice_pic_order_cnt = kv.int("slice_pic_order_cnt")? as i32;
    s.num_ref_idx_l0_active_minus1 = kv.int("num_ref_idx_l0_active_minus1")? as u8;
    s.num_ref_idx_l1_active_minus1 = kv.int("num_ref_idx_l1_active_minus1")? as u8;
    s.collocated_ref_idx = kv.int("collocated_ref_idx")? as u8;
    s.five_minus_max_num_merge_cand = kv.int("five_minus_max_num_merge_cand")? as u8;
    s.slice_qp_delta = kv.int("slice_qp_delta")? as i8;
    s.slice_cb_qp_offset = kv.int("slice_cb_qp_offset")? as i8;
    s.slice_cr_qp_offset = kv.int("slice_cr_qp_offset")? as i8;
    s.slice_act_y_qp_offset = kv.int("slice_act_y_qp_offset")? as i8;
    s.slice_act_cb_qp_offset = kv.int("slice_act_cb_qp_offset")? as i8;
    s.slice_act_cr_qp_offset = kv.int("slice_act_cr_qp_offset")? as i8;
    s.slice_beta_offset_div2 = kv.int("slice_beta_offset_div2")? as i8;
    s.slice_tc_offset_div2 = kv.int("slice_tc_offset_div2")? as i8;
    s.pic_struct = kv.int("pic_struct")? as u8;
    s.slice_segment_addr = kv.int("slice_segment_addr")? as u32;
    kv.array_into("ref_idx_l0", &mut s.ref_idx_l0, |v| v as u8)?;
    kv.array_into("ref_idx_l1", &mut s.ref_idx_l1, |v| v as u8)?;
    s.short_term_ref_pic_set_size = kv.int("short_term_ref_pic_set_size")? as u16;
    s.long_term_ref_pic_set_size = kv.int("long_term_ref_pic_set_size")? as u16;
    s.flags = kv.flags("flags", HEVC_SLICE_FLAGS)?;
    Ok(())
}

fn parse_hevc_pred_weight_table(kv: &Kv) -> Result<b::v4l2_hevc_pred_weight_table, TraceError> {
    let mut p = b::v4l2_hevc_pred_weight_table {
        luma_log2_weight_denom: kv.int("luma_log2_weight_denom")? as u8,
        delta_chroma_log2_weight_denom: kv.int("delta_chroma_log2_weight_denom")? as i8,
        ..Default::default()
    };
    let s8 = |v: u64| v as u8 as i8;
    kv.array_into("delta_luma_weight_l0", &mut p.delta_luma_weight_l0, s8)?;
    kv.array_into("luma_offset_l0", &mut p.luma_offset_l0, s8)?;
    kv.array_into("delta_luma_weight_l1", &mut p.delta_luma_weight_l1, s8)?;
    kv.array_into("luma_offset_l1", &mut p.luma_offset_l1, s8)?;
    kv.hex_into_i8(
        "delta_chroma_weight_l0",
        p.delta_chroma_weight_l0.as_flattened_mut(),
    )?;
    kv.hex_into_i8("chroma_offset_l0", p.chroma_offset_l0.as_flattened_mut())?;
    kv.hex_into_i8(
        "delta_chroma_weight_l1",
        p.delta_chroma_weight_l1.as_flattened_mut(),
    )?;
    kv.hex_into_i8("chroma_offset_l1", p.chroma_offset_l1.as_flattened_mut())?;
    Ok(p)
}

fn parse_hevc_scaling_matrix(kv: &Kv) -> Result<b::v4l2_ctrl_hevc_scaling_matrix, TraceError> {
    let mut m = b::v4l2_ctrl_hevc_scaling_matrix::default();
    kv.hex_into("scaling_list_4x4", m.scaling_list_4x4.as_flattened_mut())?;
    kv.hex_into("scaling_list_8x8", m.scaling_list_8x8.as_flattened_mut())?;
    kv.hex_into(
        "scaling_list_16x16",
        m.scaling_list_16x16.as_flattened_mut(),
    )?;
    kv.hex_into(
        "scaling_list_32x32",
        m.scaling_list_32x32.as_flattened_mut(),
    )?;
    kv.array_into(
        "scaling_list_dc_coef_16x16",
        &mut m.scaling_list_dc_coef_16x16,
        |v| v as u8,
    )?;
    kv.array_into(
        "scaling_list_dc_coef_32x32",
        &mut m.scaling_list_dc_coef_32x32,
        |v| v as u8,
    )?;
    Ok(m)
}

fn parse_hevc_decode_params(
    kv: &Kv,
    d: &mut b::v4l2_ctrl_hevc_decode_params,
) -> Result<(), TraceError> {
    d.pic_order_cnt_val = kv.int("pic_order_cnt_val")? as i32;
    d.short_term_ref_pic_set_size = kv.int("short_term_ref_pic_set_size")? as u16;
    d.long_term_ref_pic_set_size = kv.int("long_term_ref_pic_set_size")? as u16;
    d.num_active_dpb_entries = kv.int("num_active_dpb_entries")? as u8;
    d.num_poc_st_curr_before = kv.int("num_poc_st_curr_before")? as u8;
    d.num_poc_st_curr_after = kv.int("num_poc_st_curr_after")? as u8;
    d.num_poc_lt_curr = kv.int("num_poc_lt_curr")? as u8;
    kv.array_into("poc_st_curr_before", &mut d.poc_st_curr_before, |v| v as u8)?;
    kv.array_into("poc_st_curr_after", &mut d.poc_st_curr_after, |v| v as u8)?;
    kv.array_into("poc_lt_curr", &mut d.poc_lt_curr, |v| v as u8)?;
    d.flags = kv.flags("flags", HEVC_DECODE_FLAGS)?;
    Ok(())
}

fn parse_hevc_dpb_entry(kv: &Kv) -> Result<b::v4l2_hevc_dpb_entry, TraceError> {
    Ok(b::v4l2_hevc_dpb_entry {
        timestamp: kv.int("timestamp")? as u64,
        flags: kv.flags("flags", HEVC_DPB_FLAGS)? as u8,
        field_pic: kv.int("field_pic")? as u8,
        pic_order_cnt_val: kv.int("pic_order_cnt_val")? as i32,
        ..Default::default()
    })
}

fn parse_hevc_ext_lt(kv: &Kv) -> Result<V4l2CtrlHevcExtSpsLtRps, TraceError> {
    Ok(V4l2CtrlHevcExtSpsLtRps {
        flags: kv.flags("flags", HEVC_EXT_LT_RPS_FLAGS)? as u16,
        lt_ref_pic_poc_lsb_sps: kv.hex_int("lt_ref_pic_poc_lsb_sps")? as u16,
    })
}

fn parse_hevc_ext_st(kv: &Kv) -> Result<V4l2CtrlHevcExtSpsStRps, TraceError> {
    let mut s = V4l2CtrlHevcExtSpsStRps {
        flags: kv.flags("flags", HEVC_EXT_ST_RPS_FLAGS)? as u16,
        delta_idx_minus1: kv.int("delta_idx_minus1:")? as u8,
        delta_rps_sign: kv.int("delta_rps_sign:")? as u8,
        abs_delta_rps_minus1: kv.int("abs_delta_rps_minus1:")? as u16,
        num_negative_pics: kv.int("num_negative_pics:")? as u8,
        num_positive_pics: kv.int("num_positive_pics:")? as u8,
        used_by_curr_pic: kv.hex_int("used_by_curr_pic:")? as u32,
        use_delta_flag: kv.hex_int("use_delta_flag:")? as u32,
        ..Default::default()
    };
    kv.array_into("delta_poc_s0_minus1:", &mut s.delta_poc_s0_minus1, |v| {
        v as u16
    })?;
    kv.array_into("delta_poc_s1_minus1:", &mut s.delta_poc_s1_minus1, |v| {
        v as u16
    })?;
    Ok(s)
}

fn parse_vp9_frame(kv: &Kv) -> Result<b::v4l2_ctrl_vp9_frame, TraceError> {
    let mut f = b::v4l2_ctrl_vp9_frame::default();
    let s8 = |v: u64| v as u8 as i8;
    kv.array_into("lf.ref_deltas", &mut f.lf.ref_deltas, s8)?;
    kv.array_into("lf.mode_deltas", &mut f.lf.mode_deltas, s8)?;
    f.lf.level = kv.int("lf.level")? as u8;
    f.lf.sharpness = kv.int("lf.sharpness")? as u8;
    f.lf.flags = kv.flags("lf.flags", VP9_LF_FLAGS)? as u8;
    f.quant.base_q_idx = kv.int("quant.base_q_idx")? as u8;
    f.quant.delta_q_y_dc = kv.int("quant.delta_q_y_dc")? as i8;
    f.quant.delta_q_uv_dc = kv.int("quant.delta_q_uv_dc")? as i8;
    f.quant.delta_q_uv_ac = kv.int("quant.delta_q_uv_ac")? as i8;
    let fd = kv.hex("seg.feature_data", 64)?;
    for (i, v) in f.seg.feature_data.as_flattened_mut().iter_mut().enumerate() {
        *v = i16::from_le_bytes([fd[2 * i], fd[2 * i + 1]]);
    }
    kv.array_into("seg.feature_enabled", &mut f.seg.feature_enabled, |v| {
        v as u8
    })?;
    kv.array_into("seg.tree_probs", &mut f.seg.tree_probs, |v| v as u8)?;
    kv.array_into("seg.pred_probs", &mut f.seg.pred_probs, |v| v as u8)?;
    f.seg.flags = kv.flags("seg.flags", VP9_SEG_FLAGS)? as u8;
    f.flags = kv.flags("flags", VP9_FRAME_FLAGS)? as u32;
    f.compressed_header_size = kv.int("compressed_header_size")? as u16;
    f.uncompressed_header_size = kv.int("uncompressed_header_size")? as u16;
    f.frame_width_minus_1 = kv.int("frame_width_minus_1")? as u16;
    f.frame_height_minus_1 = kv.int("frame_height_minus_1")? as u16;
    f.render_width_minus_1 = kv.int("render_width_minus_1")? as u16;
    f.render_height_minus_1 = kv.int("render_height_minus_1")? as u16;
    f.last_frame_ts = kv.int("last_frame_ts")? as u64;
    f.golden_frame_ts = kv.int("golden_frame_ts")? as u64;
    f.alt_frame_ts = kv.int("alt_frame_ts")? as u64;
    f.ref_frame_sign_bias = kv.symbol("ref_frame_sign_bias", VP9_SIGN_BIAS)? as u8;
    f.reset_frame_context = kv.symbol("reset_frame_context", VP9_RESET_FRAME_CTX)? as u8;
    f.frame_context_idx = kv.int("frame_context_idx")? as u8;
    f.profile = kv.int("profile")? as u8;
    f.bit_depth = kv.int("bit_depth")? as u8;
    f.interpolation_filter = kv.symbol("interpolation_filter", VP9_INTERP_FILTER)? as u8;
    f.tile_cols_log2 = kv.int("tile_cols_log2")? as u8;
    f.tile_rows_log2 = kv.int("tile_rows_log_2")? as u8;
    f.reference_mode = kv.symbol("reference_mode", VP9_REFERENCE_MODE)? as u8;
    Ok(f)
}

fn parse_vp9_compressed_hdr(
    kv: &Kv,
    h: &mut b::v4l2_ctrl_vp9_compressed_hdr,
) -> Result<(), TraceError> {
    h.tx_mode = kv.symbol("tx_mode", VP9_TX_MODE)? as u8;
    kv.hex_into("tx8", h.tx8.as_flattened_mut())?;
    kv.hex_into("tx16", h.tx16.as_flattened_mut())?;
    kv.hex_into("tx32", h.tx32.as_flattened_mut())?;
    kv.array_into("skip", &mut h.skip, |v| v as u8)?;
    kv.hex_into("inter_mode", h.inter_mode.as_flattened_mut())?;
    kv.hex_into("interp_filter", h.interp_filter.as_flattened_mut())?;
    kv.array_into("is_inter", &mut h.is_inter, |v| v as u8)?;
    kv.array_into("comp_mode", &mut h.comp_mode, |v| v as u8)?;
    kv.hex_into("single_ref", h.single_ref.as_flattened_mut())?;
    kv.array_into("comp_ref", &mut h.comp_ref, |v| v as u8)?;
    kv.hex_into("y_mode", h.y_mode.as_flattened_mut())?;
    kv.hex_into("uv_mode", h.uv_mode.as_flattened_mut())?;
    kv.hex_into("partition", h.partition.as_flattened_mut())?;
    Ok(())
}

fn parse_vp9_coef(kv: &Kv, h: &mut b::v4l2_ctrl_vp9_compressed_hdr) -> Result<(), TraceError> {
    kv.hex_into(
        "coef",
        h.coef
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut(),
    )
}

fn parse_vp9_mv_probs(kv: &Kv, p: &mut b::v4l2_vp9_mv_probs) -> Result<(), TraceError> {
    kv.array_into("joint", &mut p.joint, |v| v as u8)?;
    kv.array_into("sign", &mut p.sign, |v| v as u8)?;
    kv.hex_into("classes", p.classes.as_flattened_mut())?;
    kv.array_into("class0_bit", &mut p.class0_bit, |v| v as u8)?;
    kv.hex_into("bits", p.bits.as_flattened_mut())?;
    kv.hex_into(
        "class0_fr",
        p.class0_fr.as_flattened_mut().as_flattened_mut(),
    )?;
    kv.hex_into("fr", p.fr.as_flattened_mut())?;
    kv.array_into("class0_hp", &mut p.class0_hp, |v| v as u8)?;
    kv.array_into("hp", &mut p.hp, |v| v as u8)?;
    Ok(())
}

/// Whether `name` is one of visl's control events (any codec the oracle reads).
pub fn is_visl_control_event(name: &str) -> bool {
    [
        "v4l2_ctrl_h264_",
        "v4l2_h264_",
        "v4l2_ctrl_hevc_",
        "v4l2_hevc_",
        "v4l2_ctrl_vp9_",
        "v4l2_vp9_",
        "v4l2_ctrl_vp8_",
        "v4l2_ctrl_mpeg2_",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// `key = value` from a v4l2_qbuf body (values end at `, `).
fn qbuf_field<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("{key} = ");
    let mut from = 0;
    loop {
        let p = from + body[from..].find(&pat)?;
        // whole word: start of body or preceded by ", "
        if p == 0 || body[..p].ends_with(", ") {
            let rest = &body[p + pat.len()..];
            return Some(rest.split(", ").next().unwrap_or(rest).trim());
        }
        from = p + 1;
    }
}

fn parse_qbuf(line: usize, body: &str) -> Result<Option<OutputQbuf>, TraceError> {
    let ty = qbuf_field(body, "type").ok_or_else(|| err(line, "v4l2_qbuf without type"))?;
    if !ty.starts_with("VIDEO_OUTPUT") {
        return Ok(None);
    }
    let ts =
        qbuf_field(body, "timestamp").ok_or_else(|| err(line, "v4l2_qbuf without timestamp"))?;
    let flags = qbuf_field(body, "flags").ok_or_else(|| err(line, "v4l2_qbuf without flags"))?;
    // unknown names are tolerated: only the hex remainder / HOLD bit matters
    let mut bits = 0u64;
    for tok in flags.split('|') {
        if let Some(h) = tok.strip_prefix("0x") {
            bits |= u64::from_str_radix(h, 16).unwrap_or(0);
        } else if tok.contains("HOLD_CAPTURE") {
            bits |= BUF_FLAG_M2M_HOLD_CAPTURE_BUF;
        } else if let Some((m, _)) = BUF_FLAGS.iter().find(|(_, n)| *n == tok) {
            bits |= m;
        }
    }
    Ok(Some(OutputQbuf {
        timestamp_ns: int(line, "timestamp", ts)? as u64,
        hold_capture: bits & BUF_FLAG_M2M_HOLD_CAPTURE_BUF != 0,
    }))
}

/// Parses a whole trace. Errors name the trace line; events of other
/// systems are ignored.
pub fn parse(text: &str) -> Result<Trace, TraceError> {
    let (events, entries) = split_events(text);
    let mut t = Trace {
        entries,
        ..Default::default()
    };
    if let Some((a, w)) = entries {
        if a != w {
            t.warnings
                .push(format!("ring buffer overflowed: {a} of {w} events kept"));
        }
    }
    let mut cur: Option<TraceJob> = None;
    let mut cur_hevc: Option<HevcTraceJob> = None;
    let mut cur_vp9: Option<Vp9TraceJob> = None;
    let mut cur_vp8: Option<Vp8TraceJob> = None;
    let mut cur_mpeg2: Option<Mpeg2TraceJob> = None;
    let mut orphans = 0usize;
    for ev in &events {
        let kv = || Kv {
            line: ev.line,
            pairs: kv_body(&ev.body),
        };
        match ev.name.as_str() {
            "v4l2_qbuf" => {
                if let Some(q) = parse_qbuf(ev.line, &ev.body)? {
                    t.output_qbufs.push(q);
                }
            }
            "v4l2_dqbuf" => {
                let ty = qbuf_field(&ev.body, "type").unwrap_or("");
                if ty.starts_with("VIDEO_CAPTURE") {
                    t.capture_dqbufs += 1;
                    let flags = qbuf_field(&ev.body, "flags").unwrap_or("");
                    if flags.split('|').any(|f| f == "ERROR") {
                        t.capture_dqbuf_errors += 1;
                    }
                }
            }
            "v4l2_ctrl_h264_sps" => {
                if let Some(j) = cur.take() {
                    t.jobs.push(j);
                }
                let mut j = TraceJob::new(ev.line);
                j.sps = parse_sps(&kv())?;
                cur = Some(j);
            }
            name if name.starts_with("v4l2_ctrl_h264_") || name.starts_with("v4l2_h264_") => {
                let Some(j) = cur.as_mut() else {
                    orphans += 1;
                    continue;
                };
                match name {
                    "v4l2_ctrl_h264_pps" => j.pps = parse_pps(&kv())?,
                    "v4l2_ctrl_h264_scaling_matrix" => {
                        j.scaling_matrix = parse_scaling_matrix(&kv())?
                    }
                    "v4l2_ctrl_h264_slice_params" => {
                        parse_slice_params(&kv(), &mut j.slice_params)?
                    }
                    "v4l2_ctrl_h264_decode_params" => {
                        parse_decode_params(&kv(), &mut j.decode_params)?
                    }
                    "v4l2_ctrl_h264_pred_weights" => j.pred_weights = parse_pred_weights(&kv())?,
                    "v4l2_h264_ref_pic_list0" | "v4l2_h264_ref_pic_list1" => {
                        let (i, r) = parse_reference(ev.line, &ev.body)?;
                        let list = if name.ends_with('0') {
                            &mut j.slice_params.ref_pic_list0
                        } else {
                            &mut j.slice_params.ref_pic_list1
                        };
                        *list.get_mut(i).ok_or_else(|| {
                            err(ev.line, format!("reference index {i} out of range"))
                        })? = r;
                    }
                    "v4l2_h264_dpb_entry" => {
                        let (i, e) = parse_dpb_entry(ev.line, &ev.body)?;
                        *j.decode_params
                            .dpb
                            .get_mut(i)
                            .ok_or_else(|| err(ev.line, format!("dpb index {i} out of range")))? =
                            e;
                    }
                    _ => return Err(err(ev.line, format!("unknown visl H.264 event {name}"))),
                }
            }
            "v4l2_ctrl_hevc_sps" => {
                if let Some(j) = cur_hevc.take() {
                    t.hevc_jobs.push(j);
                }
                let mut j = HevcTraceJob::new(ev.line);
                j.sps = parse_hevc_sps(&kv())?;
                cur_hevc = Some(j);
            }
            name if name.starts_with("v4l2_ctrl_hevc_") || name.starts_with("v4l2_hevc_") => {
                let Some(j) = cur_hevc.as_mut() else {
                    orphans += 1;
                    continue;
                };
                match name {
                    "v4l2_ctrl_hevc_pps" => j.pps = parse_hevc_pps(&kv())?,
                    "v4l2_ctrl_hevc_slice_params" => {
                        parse_hevc_slice_params(&kv(), &mut j.slice_params)?
                    }
                    "v4l2_ctrl_hevc_scaling_matrix" => {
                        j.scaling_matrix = parse_hevc_scaling_matrix(&kv())?
                    }
                    "v4l2_ctrl_hevc_decode_params" => {
                        parse_hevc_decode_params(&kv(), &mut j.decode_params)?
                    }
                    "v4l2_hevc_dpb_entry" => {
                        let e = parse_hevc_dpb_entry(&kv())?;
                        *j.decode_params.dpb.get_mut(j.dpb_events).ok_or_else(|| {
                            err(
                                ev.line,
                                "more than 16 v4l2_hevc_dpb_entry events in one job",
                            )
                        })? = e;
                        j.dpb_events += 1;
                    }
                    "v4l2_hevc_pred_weight_table" => {
                        j.slice_params.pred_weight_table = parse_hevc_pred_weight_table(&kv())?
                    }
                    "v4l2_ctrl_hevc_ext_sps_lt_rps" => {
                        if j.ext_lt_rps.len() >= 65 {
                            return Err(err(ev.line, "more than 65 ext_sps_lt_rps elements"));
                        }
                        j.ext_lt_rps.push(parse_hevc_ext_lt(&kv())?);
                        t.hevc_ext_sps_rps = true;
                    }
                    "v4l2_ctrl_hevc_ext_sps_st_rps" => {
                        if j.ext_st_rps.len() >= 65 {
                            return Err(err(ev.line, "more than 65 ext_sps_st_rps elements"));
                        }
                        j.ext_st_rps.push(parse_hevc_ext_st(&kv())?);
                        t.hevc_ext_sps_rps = true;
                    }
                    _ => return Err(err(ev.line, format!("unknown visl HEVC event {name}"))),
                }
            }
            "v4l2_ctrl_vp9_frame" => {
                if let Some(j) = cur_vp9.take() {
                    t.vp9_jobs.push(j);
                }
                let mut j = Vp9TraceJob::new(ev.line);
                j.frame = parse_vp9_frame(&kv())?;
                cur_vp9 = Some(j);
            }
            name if name.starts_with("v4l2_ctrl_vp9_") || name.starts_with("v4l2_vp9_") => {
                let Some(j) = cur_vp9.as_mut() else {
                    orphans += 1;
                    continue;
                };
                match name {
                    "v4l2_ctrl_vp9_compressed_hdr" => {
                        parse_vp9_compressed_hdr(&kv(), &mut j.compressed_hdr)?
                    }
                    "v4l2_ctrl_vp9_compressed_coeff" => {
                        parse_vp9_coef(&kv(), &mut j.compressed_hdr)?
                    }
                    "v4l2_vp9_mv_probs" => parse_vp9_mv_probs(&kv(), &mut j.compressed_hdr.mv)?,
                    _ => return Err(err(ev.line, format!("unknown visl VP9 event {name}"))),
                }
            }
            "v4l2_ctrl_vp8_frame" => {
                if let Some(j) = cur_vp8.take() {
                    t.vp8_jobs.push(j);
                }
                cur_vp8 = Some(Vp8TraceJob {
                    line: ev.line,
                    output: None,
                    frame: parse_vp8_frame(&kv())?,
                });
            }
            "v4l2_ctrl_vp8_entropy" => {
                let Some(j) = cur_vp8.as_mut() else {
                    orphans += 1;
                    continue;
                };
                parse_vp8_entropy(&kv(), &mut j.frame.entropy)?;
            }
            name if name.starts_with("v4l2_ctrl_vp8_") => {
                return Err(err(ev.line, format!("unknown visl VP8 event {name}")));
            }
            "v4l2_ctrl_mpeg2_sequence" => {
                if let Some(j) = cur_mpeg2.take() {
                    t.mpeg2_jobs.push(j);
                }
                cur_mpeg2 = Some(Mpeg2TraceJob {
                    line: ev.line,
                    output: None,
                    sequence: parse_mpeg2_sequence(&kv())?,
                    picture: Default::default(),
                    quantisation: Default::default(),
                });
            }
            name if name.starts_with("v4l2_ctrl_mpeg2_") => {
                let Some(j) = cur_mpeg2.as_mut() else {
                    orphans += 1;
                    continue;
                };
                match name {
                    "v4l2_ctrl_mpeg2_picture" => j.picture = parse_mpeg2_picture(&kv())?,
                    "v4l2_ctrl_mpeg2_quantisation" => {
                        j.quantisation = parse_mpeg2_quantisation(&kv())?
                    }
                    _ => return Err(err(ev.line, format!("unknown visl MPEG-2 event {name}"))),
                }
            }
            _ => {}
        }
    }
    if let Some(j) = cur.take() {
        t.jobs.push(j);
    }
    if let Some(j) = cur_hevc.take() {
        t.hevc_jobs.push(j);
    }
    if let Some(j) = cur_vp9.take() {
        t.vp9_jobs.push(j);
    }
    if let Some(j) = cur_vp8.take() {
        t.vp8_jobs.push(j);
    }
    if let Some(j) = cur_mpeg2.take() {
        t.mpeg2_jobs.push(j);
    }
    let kinds = [
        t.jobs.len(),
        t.hevc_jobs.len(),
        t.vp9_jobs.len(),
        t.vp8_jobs.len(),
        t.mpeg2_jobs.len(),
    ];
    if kinds.iter().filter(|&&n| n > 0).count() > 1 {
        t.warnings.push(format!(
            "jobs of several codecs (H.264 {}, HEVC {}, VP9 {}, VP8 {}, MPEG-2 {}): only {:?} is compared",
            kinds[0],
            kinds[1],
            kinds[2],
            kinds[3],
            kinds[4],
            t.codec()
        ));
    }
    if orphans > 0 {
        t.warnings.push(format!(
            "{orphans} control events before the first job's first event (trace started mid-job?)"
        ));
    }
    let outputs = t.output_qbufs.clone();
    let njobs = t.job_count();
    match t.codec() {
        Some(CodecKind::Hevc) => {
            for (j, q) in t.hevc_jobs.iter_mut().zip(&outputs) {
                j.output = Some(*q);
            }
        }
        Some(CodecKind::Vp9) => {
            for (j, q) in t.vp9_jobs.iter_mut().zip(&outputs) {
                j.output = Some(*q);
            }
        }
        Some(CodecKind::Vp8) => {
            for (j, q) in t.vp8_jobs.iter_mut().zip(&outputs) {
                j.output = Some(*q);
            }
        }
        Some(CodecKind::Mpeg2) => {
            for (j, q) in t.mpeg2_jobs.iter_mut().zip(&outputs) {
                j.output = Some(*q);
            }
        }
        _ => {
            for (j, q) in t.jobs.iter_mut().zip(&outputs) {
                j.output = Some(*q);
            }
        }
    }
    if outputs.len() != njobs {
        t.warnings.push(format!(
            "{} OUTPUT qbufs but {} jobs: timestamps assigned in order",
            outputs.len(),
            njobs
        ));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_with_and_without_irq_flags() {
        let l = " h264parse0:sink-218     [000] .....    16.204018: v4l2_ctrl_h264_pps: ";
        assert_eq!(parse_header(l), Some(("v4l2_ctrl_h264_pps", "")));
        let l = "  gst-launch-1.0-300   [001]  1234.500001: v4l2_h264_ref_pic_list0: [3]: fields  index 255";
        assert_eq!(
            parse_header(l),
            Some(("v4l2_h264_ref_pic_list0", "[3]: fields  index 255"))
        );
        assert_eq!(parse_header("10 10 10 10"), None);
        assert_eq!(parse_header("weight_factor[0].luma_weight {0x0}"), None);
    }

    #[test]
    fn reference_and_dpb_entry() {
        let (i, r) = parse_reference(
            1,
            "[31]: fields TOP_FIELD_REF|BOTTOM_FIELD_REF|0xfc index 255",
        )
        .unwrap();
        assert_eq!((i, r.fields, r.index), (31, 0xff, 255));
        let (i, e) = parse_dpb_entry(
            1,
            "[1]: reference_ts 1000, pic_num 1 frame_num 1 fields TOP_FIELD_REF|BOTTOM_FIELD_REF \
             top_field_order_cnt 4 bottom_field_order_cnt -4 flags VALID|ACTIVE",
        )
        .unwrap();
        assert_eq!(i, 1);
        assert_eq!(
            (e.reference_ts, e.pic_num, e.frame_num, e.fields),
            (1000, 1, 1, 3)
        );
        assert_eq!(
            (e.top_field_order_cnt, e.bottom_field_order_cnt, e.flags),
            (4, -4, 3)
        );
        let (_, e) = parse_dpb_entry(
            1,
            "[2]: reference_ts 0, pic_num 0 frame_num 0 fields  top_field_order_cnt 0 bottom_field_order_cnt 0 flags ",
        )
        .unwrap();
        assert_eq!((e.fields, e.flags), (0, 0));
        assert!(parse_dpb_entry(1, "[2]: reference_ts x, pic_num").is_err());
    }

    #[test]
    fn qbuf_output_only() {
        let b = "minor = 0, index = 1, type = VIDEO_OUTPUT_MPLANE, bytesused = 0, flags = MAPPED|TIMESTAMP_UNKNOWN|TIMESTAMP_COPY|0x800280, field = NONE, timestamp = 2000, timecode = { type = 0x0, flags = , frames = 0 }, sequence = 0";
        assert_eq!(
            parse_qbuf(1, b).unwrap(),
            Some(OutputQbuf {
                timestamp_ns: 2000,
                hold_capture: true
            })
        );
        let c = b.replace("VIDEO_OUTPUT_MPLANE", "VIDEO_CAPTURE_MPLANE");
        assert_eq!(parse_qbuf(1, &c).unwrap(), None);
    }

    const SAMPLE: &str = include_str!("../../../tests/oracle/samples/64x64-I-P-B-P-high.gst.trace");

    #[test]
    fn real_trace_jobs() {
        let t = parse(SAMPLE).unwrap();
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
        assert_eq!(t.entries, Some((270, 270)));
        assert_eq!(t.jobs.len(), 3);
        let ts: Vec<u64> = t
            .jobs
            .iter()
            .map(|j| j.output.unwrap().timestamp_ns)
            .collect();
        assert_eq!(ts, [0, 1000, 2000]);
        let j = &t.jobs[2];
        assert_eq!(
            (
                j.sps.profile_idc,
                j.sps.level_idc,
                j.sps.pic_width_in_mbs_minus1
            ),
            (100, 20, 3)
        );
        assert_eq!(
            (j.pps.chroma_qp_index_offset, j.pps.weighted_bipred_idc),
            (-2, 2)
        );
        assert_eq!(j.scaling_matrix.scaling_list_8x8[5][63], 16);
        assert_eq!(
            (j.slice_params.slice_type, j.slice_params.header_bit_size),
            (b::V4L2_H264_SLICE_TYPE_B as u8, 44)
        );
        // GStreamer fills unused list entries with 0xff garbage
        assert_eq!(
            (
                j.slice_params.ref_pic_list0[5].fields,
                j.slice_params.ref_pic_list0[5].index
            ),
            (0xff, 255)
        );
        assert_eq!(j.decode_params.dpb[1].reference_ts, 1000);
        assert_eq!(j.decode_params.dpb[1].top_field_order_cnt, 4);
        assert_eq!(
            t.jobs[1].pred_weights.weight_factors[0].chroma_weight[0],
            [1, 1]
        );
        assert_eq!((t.capture_dqbufs, t.capture_dqbuf_errors), (3, 0));
    }

    #[test]
    fn truncated_and_overflowed_traces_warn() {
        // drop the header and the first job's first events: the trace starts mid-job
        let start = SAMPLE.find("v4l2_h264_ref_pic_list0: [3]").unwrap();
        let start = SAMPLE[..start].rfind('\n').unwrap() + 1;
        let t = parse(&SAMPLE[start..]).unwrap();
        assert_eq!(t.jobs.len(), 2);
        assert!(
            t.warnings
                .iter()
                .any(|w| w.contains("before the first job")),
            "{:?}",
            t.warnings
        );
        let over = SAMPLE.replace("270/270", "200/270");
        assert!(parse(&over)
            .unwrap()
            .warnings
            .iter()
            .any(|w| w.contains("overflowed")));
    }

    #[test]
    fn bad_values_name_the_line() {
        let bad = SAMPLE.replacen("level_idc 20", "level_idc twenty", 1);
        let e = parse(&bad).err().unwrap();
        assert!(e.msg.contains("level_idc"), "{e}");
        let line = SAMPLE
            .lines()
            .position(|l| l.contains("v4l2_ctrl_h264_sps:"))
            .unwrap()
            + 1;
        assert_eq!(e.line, line);
        let bad = SAMPLE.replacen("flags FRAME_MBS_ONLY", "flags FRAME_MBS_SOMETIMES", 1);
        assert!(parse(&bad).err().unwrap().msg.contains("unknown flag"));
    }

    const HEVC: &str =
        include_str!("../../../tests/oracle/samples/gizmo_hevc_8bit-6jobs.gst.trace");
    const VP9: &str =
        include_str!("../../../tests/oracle/samples/vp90-2-10-show-existing-frame2.gst.trace");

    #[test]
    fn real_hevc_trace_jobs() {
        let t = parse(HEVC).unwrap();
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
        assert_eq!(t.codec(), Some(CodecKind::Hevc));
        assert_eq!(
            (t.hevc_jobs.len(), t.jobs.len(), t.vp9_jobs.len()),
            (6, 0, 0)
        );
        assert!(!t.hevc_ext_sps_rps);
        let j = &t.hevc_jobs[3];
        assert_eq!(j.dpb_events, 16);
        assert_eq!(j.sps.pic_width_in_luma_samples, 560);
        assert_eq!(j.slice_params.slice_type as u32, b::V4L2_HEVC_SLICE_TYPE_B);
        assert_eq!(j.slice_params.num_ref_idx_l1_active_minus1, 1);
        assert_eq!(j.decode_params.num_active_dpb_entries, 3);
        assert_eq!(j.decode_params.pic_order_cnt_val, 1);
        let pocs: Vec<i32> = j.decode_params.dpb[..3]
            .iter()
            .map(|e| e.pic_order_cnt_val)
            .collect();
        assert_eq!(pocs, [0, 5, 3]);
        assert_eq!(j.decode_params.dpb[1].timestamp, 1000);
        // GStreamer's unused list entries
        assert_eq!(j.slice_params.ref_idx_l0[15], 0xff);
        // the pred_weight_table event lands in slice_params
        assert_eq!(
            t.hevc_jobs[1]
                .slice_params
                .pred_weight_table
                .luma_log2_weight_denom,
            7
        );
        assert_eq!(
            t.hevc_jobs[1]
                .slice_params
                .pred_weight_table
                .delta_chroma_log2_weight_denom,
            -1
        );
    }

    #[test]
    fn real_vp9_trace_jobs() {
        let t = parse(VP9).unwrap();
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
        assert_eq!(t.codec(), Some(CodecKind::Vp9));
        assert_eq!(t.vp9_jobs.len(), 9);
        let f = &t.vp9_jobs[0].frame;
        assert_ne!(f.flags & b::V4L2_VP9_FRAME_FLAG_KEY_FRAME, 0);
        assert_eq!((f.frame_width_minus_1, f.frame_height_minus_1), (351, 287));
        // job 1 is the hidden frame: no SHOW_FRAME
        assert_eq!(
            t.vp9_jobs[1].frame.flags & b::V4L2_VP9_FRAME_FLAG_SHOW_FRAME,
            0
        );
        assert_eq!(t.vp9_jobs.iter().filter(|j| j.output.is_some()).count(), 9);
    }

    #[test]
    fn bad_hevc_and_vp9_values_name_the_line() {
        let bad = HEVC.replacen("pic_order_cnt_val 5", "pic_order_cnt_val five", 1);
        let e = parse(&bad).err().unwrap();
        assert!(e.msg.contains("pic_order_cnt_val"), "{e}");
        // a 17th DPB entry in one job
        let first = HEVC.find("v4l2_hevc_dpb_entry:").unwrap();
        let start = HEVC[..first].rfind('\n').unwrap() + 1;
        let end = start + HEVC[start..].find("\n\n").unwrap() + 2;
        let dup = format!("{}{}{}", &HEVC[..start], &HEVC[start..end], &HEVC[start..]);
        assert!(parse(&dup).err().unwrap().msg.contains("more than 16"));
        let bad = VP9.replacen(
            "reference_mode REFERENCE_MODE_SINGLE_REFERENCE",
            "reference_mode SOMETIMES",
            1,
        );
        assert!(parse(&bad).err().unwrap().msg.contains("reference_mode"));
        let bad = VP9.replacen("tx8 {\n00 00\n}", "tx8 {\n00\n}", 1);
        assert!(parse(&bad)
            .err()
            .unwrap()
            .msg
            .contains("tx8: 1 bytes, expected 2"));
    }

    const VP8: &str = include_str!("../../../tests/oracle/samples/test-25fps.vp8-12jobs.gst.trace");
    const MPEG2: &str = include_str!("../../../tests/oracle/samples/k3bphotosvcd-10jobs.gst.trace");

    #[test]
    fn real_vp8_and_mpeg2_trace_jobs() {
        let t = parse(VP8).unwrap();
        assert_eq!(t.codec(), Some(CodecKind::Vp8));
        assert_eq!(t.vp8_jobs.len(), 12);
        assert!(t.vp8_jobs.iter().all(|j| j.output.is_some()));
        let f = &t.vp8_jobs[0].frame;
        assert_eq!((f.width, f.height), (320, 240));
        assert_ne!(f.flags & b::V4L2_VP8_FRAME_FLAG_KEY_FRAME as u64, 0);
        // the entropy event is folded into the frame
        assert_ne!(f.entropy.coeff_probs, [[[[0; 11]; 3]; 8]; 4]);
        let t = parse(MPEG2).unwrap();
        assert_eq!(t.codec(), Some(CodecKind::Mpeg2));
        assert_eq!(t.mpeg2_jobs.len(), 10);
        let j = &t.mpeg2_jobs[2];
        assert_eq!(
            (j.sequence.horizontal_size, j.sequence.vertical_size),
            (480, 576)
        );
        assert_eq!(j.picture.picture_coding_type, 3);
        assert_eq!(j.quantisation.non_intra_quantiser_matrix, [16; 64]);
    }

    #[test]
    fn bad_vp8_and_mpeg2_values_name_the_line() {
        let bad = VP8.replacen("coder_state.range ", "coder_state.range x", 1);
        let e = parse(&bad).err().unwrap();
        assert!(e.msg.contains("coder_state.range"), "{e}");
        let bad = VP8.replacen("flags KEY_FRAME", "flags KEY_FRAME|BOGUS", 1);
        assert!(parse(&bad).err().unwrap().msg.contains("BOGUS"));
        let bad = MPEG2.replacen("picture_coding_type: 3", "picture_coding_type: B", 1);
        let e = parse(&bad).err().unwrap();
        assert!(e.msg.contains("picture_coding_type"), "{e}");
        let bad = MPEG2.replacen(
            "intra_quantiser_matrix {0x8,",
            "intra_quantiser_matrix {",
            1,
        );
        assert!(parse(&bad)
            .err()
            .unwrap()
            .msg
            .contains("63 elements, expected 64"));
    }
}
