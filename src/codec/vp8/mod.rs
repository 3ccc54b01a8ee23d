//! VP8 stateless decoding: frame tag, first-partition header (RFC 6386 9.2–9.11), probability updates, last/golden/altref and `V4L2_CID_STATELESS_VP8_FRAME`. (Being written: issue 4.)
