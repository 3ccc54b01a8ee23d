//! One picture between `vaBeginPicture` and `vaEndPicture`: the bytes of
//! the buffers the client renders, copied at `vaRenderPicture` (libva's
//! va.h: a buffer may be destroyed once rendered), bounded.

use vreq_v4l2::DecoderDevice;

use crate::decode::Decoder;
use crate::map::h264;
use crate::status::*;
use crate::sys::{self, VABufferType, VASurfaceID};

/// Slices of one picture at most (H.264 allows one per macroblock; 8192
/// covers 4096×2048 in one-row slices many times over).
pub const MAX_SLICES: usize = 8192;
/// Bytes of slice data of one picture at most (64 MiB, as one buffer).
pub const MAX_PICTURE_BYTES: usize = crate::buffer::MAX_BUFFER_BYTES as usize;

/// A picture being rendered into `target`.
#[derive(Debug, Default)]
pub struct Picture {
    pub target: VASurfaceID,
    pic_params: Option<Vec<u8>>,
    iq: Option<Vec<u8>>,
    /// Slice parameters, each with the index in `data` of its slice data
    /// buffer (`None` until the data buffer comes).
    slices: Vec<(sys::VASliceParameterBufferH264, Option<usize>)>,
    data: Vec<Vec<u8>>,
    bytes: usize,
}

impl Picture {
    /// A picture for `target` (`vaBeginPicture`).
    pub fn new(target: VASurfaceID) -> Self {
        Picture {
            target,
            ..Default::default()
        }
    }

    /// `vaRenderPicture` of one buffer: its type, bytes and element count.
    /// A slice parameter buffer's slices take the next slice data buffer
    /// (the order VA clients render them: parameters, then data).
    /// `VA_STATUS_ERROR_INVALID_PARAMETER` for a buffer too short for its
    /// struct; `VA_STATUS_ERROR_ALLOCATION_FAILED` past [`MAX_SLICES`] or
    /// [`MAX_PICTURE_BYTES`]; `VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE` for
    /// other types.
    pub fn render(
        &mut self,
        type_: VABufferType,
        bytes: &[u8],
        num_elements: u32,
    ) -> Result<(), VAStatus> {
        match type_ {
            sys::VAPictureParameterBufferType => {
                h264::picture_parameters(bytes).ok_or(VA_STATUS_ERROR_INVALID_PARAMETER)?;
                self.pic_params = Some(bytes.to_vec());
            }
            sys::VAIQMatrixBufferType => {
                h264::iq_matrix(bytes).ok_or(VA_STATUS_ERROR_INVALID_PARAMETER)?;
                self.iq = Some(bytes.to_vec());
            }
            sys::VASliceParameterBufferType => {
                let n = num_elements as usize;
                if self.slices.len() + n > MAX_SLICES {
                    return Err(VA_STATUS_ERROR_ALLOCATION_FAILED);
                }
                for i in 0..n {
                    let sp = h264::slice_parameters(bytes, i)
                        .ok_or(VA_STATUS_ERROR_INVALID_PARAMETER)?;
                    self.slices.push((sp, None));
                }
            }
            sys::VASliceDataBufferType => {
                if self.bytes + bytes.len() > MAX_PICTURE_BYTES {
                    return Err(VA_STATUS_ERROR_ALLOCATION_FAILED);
                }
                let index = self.data.len();
                self.data.push(bytes.to_vec());
                self.bytes += bytes.len();
                for s in self.slices.iter_mut().filter(|s| s.1.is_none()) {
                    s.1 = Some(index);
                }
            }
            _ => return Err(VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE),
        }
        Ok(())
    }

    /// `vaEndPicture`: decodes the picture with `decoder`.
    /// `VA_STATUS_ERROR_INVALID_PARAMETER` without picture parameters or
    /// with a slice that has no data buffer.
    pub fn end<D: DecoderDevice>(self, decoder: &mut Decoder<D>) -> Result<(), VAStatus> {
        let pp = self
            .pic_params
            .as_deref()
            .and_then(h264::picture_parameters)
            .ok_or(VA_STATUS_ERROR_INVALID_PARAMETER)?;
        let iq = self.iq.as_deref().and_then(h264::iq_matrix);
        let mut slices = Vec::with_capacity(self.slices.len());
        for (params, data) in &self.slices {
            let data = data
                .and_then(|i| self.data.get(i))
                .ok_or(VA_STATUS_ERROR_INVALID_PARAMETER)?;
            slices.push(h264::Slice {
                params: *params,
                data,
            });
        }
        decoder.decode_h264(self.target, &pp, iq.as_ref(), &slices)
    }
}
