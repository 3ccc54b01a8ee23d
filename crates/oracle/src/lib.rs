//! Conformance oracle: visl ftrace dumps of two decoders (GStreamer's
//! `v4l2slh264dec`, `v4l2slh265dec`, `v4l2slvp9dec`, `v4l2slvp8dec`,
//! `v4l2slmpeg2dec` as the reference,
//! vreqplay under test) reduced to a normalised text and compared control
//! field by control field, per decode job (the VM tier's oracle, and the
//! host tier's goldens).
//!
//! * [`trace`]: parse visl's ftrace text (`visl_{h264,hevc,vp9}_controls`
//!   events, `v4l2_qbuf`) into jobs of uAPI structs.
//! * [`normalise`]: jobs → stable text (`job 12 slice_params.slice_qp_delta = 3`),
//!   timestamps → decode indices, DPB as a set, list indices resolved.
//! * [`visl_fmt`]: visl's print formats; [`visl_fmt::emulate`] renders our
//!   codec's [`vreq_core::DecodeJob`]s as visl would trace them, so the
//!   codec layer can be checked offline against committed goldens.
//! * [`compare`]: job-by-job comparison, `equal N/M jobs` + first difference.
//! * [`known`]: field-level known differences (fields a VA-API client's
//!   requests cannot reproduce), applied by [`compare::compare_known`].

#![forbid(unsafe_code)]

pub mod compare;
pub mod known;
pub mod normalise;
pub mod trace;
pub mod visl_fmt;

/// Parses visl trace text and normalises it (header lines become `# `
/// comments; at most `cap` jobs).
pub fn normalise_trace(
    text: &str,
    header: &[String],
    cap: Option<usize>,
) -> Result<String, trace::TraceError> {
    normalise_trace_opts(text, header, cap, false)
}

/// [`normalise_trace`], optionally strict (see [`normalise::normalise_jobs_opts`]).
pub fn normalise_trace_opts(
    text: &str,
    header: &[String],
    cap: Option<usize>,
    strict: bool,
) -> Result<String, trace::TraceError> {
    let t = trace::parse(text)?;
    Ok(normalise::normalise_opts(&t, header, cap, strict))
}

/// The controls a visl instance registers (kernel 6.12 `visl-core.c`
/// `visl_*_ctrl_descs`; kernel 7.2 + the sid lab patch adds HEVC
/// EXT_SPS_ST/LT_RPS unless `hevc_ext_sps_rps=0`): what
/// [`vreq_core::StatelessCodec::set_device_controls`] is told offline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VislControls {
    /// `V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS` / `_LT_RPS` registered.
    pub hevc_ext_sps_rps: bool,
}

impl VislControls {
    /// Whether visl has the control `id` (a `V4L2_CID_STATELESS_*` id).
    pub fn has(&self, id: u32) -> bool {
        use v4l2r::bindings as b;
        use vreq_core::uapi_ext as x;
        const STOCK: [u32; 27] = [
            b::V4L2_CID_STATELESS_FWHT_PARAMS,
            b::V4L2_CID_STATELESS_MPEG2_SEQUENCE,
            b::V4L2_CID_STATELESS_MPEG2_PICTURE,
            b::V4L2_CID_STATELESS_MPEG2_QUANTISATION,
            b::V4L2_CID_STATELESS_VP8_FRAME,
            b::V4L2_CID_STATELESS_VP9_FRAME,
            b::V4L2_CID_STATELESS_VP9_COMPRESSED_HDR,
            b::V4L2_CID_STATELESS_H264_DECODE_PARAMS,
            b::V4L2_CID_STATELESS_H264_SPS,
            b::V4L2_CID_STATELESS_H264_PPS,
            b::V4L2_CID_STATELESS_H264_SCALING_MATRIX,
            b::V4L2_CID_STATELESS_H264_DECODE_MODE,
            b::V4L2_CID_STATELESS_H264_START_CODE,
            b::V4L2_CID_STATELESS_H264_SLICE_PARAMS,
            b::V4L2_CID_STATELESS_H264_PRED_WEIGHTS,
            b::V4L2_CID_STATELESS_HEVC_SPS,
            b::V4L2_CID_STATELESS_HEVC_PPS,
            b::V4L2_CID_STATELESS_HEVC_SLICE_PARAMS,
            b::V4L2_CID_STATELESS_HEVC_SCALING_MATRIX,
            b::V4L2_CID_STATELESS_HEVC_DECODE_PARAMS,
            b::V4L2_CID_STATELESS_HEVC_DECODE_MODE,
            b::V4L2_CID_STATELESS_HEVC_START_CODE,
            b::V4L2_CID_STATELESS_HEVC_ENTRY_POINT_OFFSETS,
            b::V4L2_CID_STATELESS_AV1_FRAME,
            b::V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY,
            b::V4L2_CID_STATELESS_AV1_SEQUENCE,
            b::V4L2_CID_STATELESS_AV1_FILM_GRAIN,
        ];
        STOCK.contains(&id)
            || (self.hevc_ext_sps_rps
                && (id == x::V4L2_CID_STATELESS_HEVC_EXT_SPS_ST_RPS
                    || id == x::V4L2_CID_STATELESS_HEVC_EXT_SPS_LT_RPS))
    }
}

/// Runs the codec layer (no device) over the first track of `path` that
/// vreqplay can decode ([`vreq_container::first_video_track`]), made by
/// [`vreq_codec::make_codec`], configured as on visl: slice-based with no
/// start codes for H.264 and HEVC (visl's `decode_mode`/`start_code` menu
/// defaults, kernel 6.12 visl-core.c), frame-based for VP9, optional
/// controls per `controls`. Returns the codec kind and the requests it would
/// submit, in order — at most `max_jobs`.
///
/// Errors: the file can't be demuxed, has no decodable track, the codec
/// refuses the stream (e.g. VP9 profile 3), or the codec stops
/// ([`vreq_core::CodecError`]); each names the file (and the byte offset
/// of the packet).
pub fn codec_jobs_with(
    path: &std::path::Path,
    controls: VislControls,
    max_jobs: Option<usize>,
) -> Result<(vreq_core::CodecKind, Vec<vreq_core::DecodeJob>), String> {
    use vreq_core::CodecEvent;
    use vreq_core::{CodecKind, CodedUnit, DecodeMode, StartCode};
    let p = path.display();
    let mut demux = vreq_container::open(path).map_err(|e| e.to_string())?;
    let (track, kind) = vreq_container::first_video_track(path, demux.tracks())?;
    let mut codec = vreq_codec::make_codec(kind, &track.codec_private)
        .map_err(|e| format!("{p}: track {}: {e}", track.id))?;
    match kind {
        CodecKind::H264 | CodecKind::Hevc => {
            codec.set_mode(DecodeMode::SliceBased, StartCode::None)
        }
        _ => codec.set_mode(DecodeMode::FrameBased, StartCode::None),
    }
    codec.set_device_controls(&|id| controls.has(id));
    let max = max_jobs.unwrap_or(usize::MAX);
    let mut jobs = Vec::new();
    let drain = |codec: &mut Box<dyn vreq_core::StatelessCodec>, jobs: &mut Vec<_>| {
        while let Some(ev) = codec.poll() {
            if let CodecEvent::Decode(j) = ev {
                if jobs.len() < max {
                    jobs.push(j);
                }
            }
        }
    };
    loop {
        let pkt = match demux.next_packet() {
            Ok(Some(pkt)) => pkt,
            Ok(None) => break,
            Err(e) => return Err(e.to_string()),
        };
        if pkt.track != track.id {
            continue;
        }
        let unit = CodedUnit::from(&pkt);
        codec
            .push(unit)
            .map_err(|e| format!("{p}: byte {}: {e}", pkt.byte_offset))?;
        drain(&mut codec, &mut jobs);
        if jobs.len() >= max {
            return Ok((kind, jobs));
        }
    }
    codec.flush().map_err(|e| format!("{p}: at end: {e}"))?;
    drain(&mut codec, &mut jobs);
    Ok((kind, jobs))
}
