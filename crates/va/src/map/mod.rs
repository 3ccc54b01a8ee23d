//! VA-API parameter buffers → V4L2 stateless uAPI controls, one module per
//! codec. Pure functions: VA structs and slice bytes in, [`vreq_core::Control`]
//! values and bitstream bytes out; no device, no driver state. Surfaces are
//! named by the OUTPUT timestamp of the picture last rendered into them
//! (`reference_ts`, uAPI "ext-ctrls-codec-stateless"), which the caller
//! passes as a lookup.

pub mod h264;
