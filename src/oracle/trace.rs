//! Parser for visl's ftrace text output (`/sys/kernel/tracing/trace`): the
//! `visl_h264_controls` events and `v4l2:v4l2_qbuf` / `v4l2_dqbuf`, grouped
//! into decode jobs.
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
    FlagTable, BUF_FLAGS, BUF_FLAG_M2M_HOLD_CAPTURE_BUF, DECODE_FLAGS, DPB_FLAGS, PPS_FLAGS,
    REF_FIELDS, SLICE_FLAGS, SLICE_TYPES, SPS_CONSTRAINT_FLAGS, SPS_FLAGS,
};

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
    /// Jobs in the order visl ran them.
    pub jobs: Vec<TraceJob>,
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
        let l = l.trim_end();
        if l.trim().is_empty() {
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
            _ => {}
        }
    }
    if let Some(j) = cur.take() {
        t.jobs.push(j);
    }
    if orphans > 0 {
        t.warnings.push(format!(
            "{orphans} H.264 events before the first sps event (trace started mid-job?)"
        ));
    }
    for (j, q) in t.jobs.iter_mut().zip(&t.output_qbufs) {
        j.output = Some(*q);
    }
    if t.output_qbufs.len() != t.jobs.len() {
        t.warnings.push(format!(
            "{} OUTPUT qbufs but {} jobs: timestamps assigned in order",
            t.output_qbufs.len(),
            t.jobs.len()
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

    const SAMPLE: &str = include_str!("../../tests/oracle/samples/64x64-I-P-B-P-high.gst.trace");

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
                .any(|w| w.contains("before the first sps")),
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
}
