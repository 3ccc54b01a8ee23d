//! Conformance oracle: visl ftrace dumps of two decoders (GStreamer's
//! `v4l2slh264dec` as the reference, vreqplay under test) reduced to a
//! normalised text and compared control field by control field, per decode
//! job (issue 2 item 7; DESIGN.md §4 tier 2).
//!
//! * [`trace`]: parse visl's ftrace text (`visl_h264_controls` events,
//!   `v4l2_qbuf`) into jobs of uAPI structs.
//! * [`normalise`]: jobs → stable text (`job 12 slice_params.slice_qp_delta = 3`),
//!   timestamps → decode indices, DPB as a set, list indices resolved.
//! * [`visl_fmt`]: visl's print formats; [`visl_fmt::emulate`] renders our
//!   codec's [`crate::codec::DecodeJob`]s as visl would trace them, so the
//!   codec layer can be checked offline against committed goldens.
//! * [`compare`]: job-by-job comparison, `equal N/M jobs` + first difference.

pub mod compare;
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

/// Runs our H.264 codec layer (no device) over the first H.264 track of
/// `path`, in visl's default mode (slice-based, no start codes: visl's
/// `decode_mode`/`start_code` menu defaults, kernel 6.12 visl-core.c), and
/// returns the requests it would submit, in order — at most `max_jobs`.
///
/// Errors: the file can't be demuxed, has no H.264 track, or the codec
/// stops ([`crate::codec::CodecError`]); each names the file.
pub fn codec_jobs(
    path: &std::path::Path,
    max_jobs: Option<usize>,
) -> Result<Vec<crate::codec::DecodeJob>, String> {
    use crate::codec::{CodecEvent, CodedUnit, DecodeMode, StartCode, StatelessCodec};
    let p = path.display();
    let mut demux = crate::container::open(path).map_err(|e| e.to_string())?;
    let track = demux
        .tracks()
        .iter()
        .find(|t| t.codec == crate::container::CodecId::H264)
        .cloned()
        .ok_or_else(|| format!("{p}: no H.264 track"))?;
    let mut codec = crate::codec::h264::H264Codec::new(&track.codec_private)
        .map_err(|e| format!("{p}: {e}"))?;
    codec.set_mode(DecodeMode::SliceBased, StartCode::None);
    let max = max_jobs.unwrap_or(usize::MAX);
    let mut jobs = Vec::new();
    let drain = |codec: &mut crate::codec::h264::H264Codec, jobs: &mut Vec<_>| {
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
            return Ok(jobs);
        }
    }
    codec.flush().map_err(|e| format!("{p}: at end: {e}"))?;
    drain(&mut codec, &mut jobs);
    Ok(jobs)
}
