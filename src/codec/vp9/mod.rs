//! VP9 profile 0 / 2: superframes, uncompressed and compressed headers, the 8
//! reference slots and the `V4L2_CID_STATELESS_VP9_*` controls. (Being written: issue 3.)
