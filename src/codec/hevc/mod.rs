//! HEVC (H.265) Main / Main10: parameter sets and slice headers (cros-codecs'
//! parser), POC / RPS / DPB (H.265 8.3, C.5.2) and the
//! `V4L2_CID_STATELESS_HEVC_*` controls. (Being written: issue 3.)
