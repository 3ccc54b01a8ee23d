//! One picture between `vaBeginPicture` and `vaEndPicture`: the bytes of
//! the buffers the client renders, copied at `vaRenderPicture` (libva's
//! va.h: a buffer may be destroyed once rendered), bounded. Codec-neutral:
//! the context's [`CodecMap`] checks each buffer's size and type.

use crate::map::{CodecMap, Rendered, RenderedSlice};
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
    probability: Option<Vec<u8>>,
    /// Slice parameter elements, each with the index in `data` of its
    /// slice data buffer (`None` until the data buffer comes).
    slices: Vec<(Vec<u8>, Option<usize>)>,
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

    /// `vaRenderPicture` of one buffer: its type, bytes and element count
    /// (`bytes` is `num_elements` elements of equal size). A slice
    /// parameter buffer's elements take the next slice data buffer (the
    /// order VA clients render them: parameters, then data). A picture
    /// parameter, IQ matrix or probability buffer replaces an earlier one.
    /// Errors: `VA_STATUS_ERROR_INVALID_PARAMETER` for a buffer too short
    /// for its struct (`codec`'s [`CodecMap::check`]) or whose size is not
    /// a multiple of its element count; `VA_STATUS_ERROR_ALLOCATION_FAILED`
    /// past [`MAX_SLICES`] or [`MAX_PICTURE_BYTES`];
    /// `VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE` for a type the codec does
    /// not use. Nothing is kept from a buffer that errs.
    pub fn render(
        &mut self,
        codec: &dyn CodecMap,
        type_: VABufferType,
        bytes: &[u8],
        num_elements: u32,
    ) -> Result<(), VAStatus> {
        match type_ {
            sys::VASliceParameterBufferType => {
                let n = num_elements as usize;
                if n == 0 {
                    return Ok(());
                }
                if self.slices.len().saturating_add(n) > MAX_SLICES {
                    return Err(VA_STATUS_ERROR_ALLOCATION_FAILED);
                }
                if n > bytes.len() || bytes.len() % n != 0 {
                    return Err(VA_STATUS_ERROR_INVALID_PARAMETER);
                }
                let size = bytes.len() / n;
                codec.check(type_, &bytes[..size])?;
                self.slices
                    .extend(bytes.chunks_exact(size).map(|e| (e.to_vec(), None)));
            }
            sys::VASliceDataBufferType => {
                codec.check(type_, bytes)?;
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
            _ => {
                codec.check(type_, bytes)?;
                let slot = match type_ {
                    sys::VAPictureParameterBufferType => &mut self.pic_params,
                    sys::VAIQMatrixBufferType => &mut self.iq,
                    sys::VAProbabilityBufferType => &mut self.probability,
                    _ => return Err(VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE),
                };
                *slot = Some(bytes.to_vec());
            }
        }
        Ok(())
    }

    /// The rendered buffers for `vaEndPicture`, passed to `f`.
    /// `VA_STATUS_ERROR_INVALID_PARAMETER` without picture parameters or
    /// with a slice that has no data buffer.
    pub fn with_rendered<R>(
        &self,
        f: impl FnOnce(&Rendered<'_>) -> Result<R, VAStatus>,
    ) -> Result<R, VAStatus> {
        let pic_params = self
            .pic_params
            .as_deref()
            .ok_or(VA_STATUS_ERROR_INVALID_PARAMETER)?;
        let mut slices = Vec::with_capacity(self.slices.len());
        for (params, data) in &self.slices {
            let data = data
                .and_then(|i| self.data.get(i))
                .ok_or(VA_STATUS_ERROR_INVALID_PARAMETER)?;
            slices.push(RenderedSlice { params, data });
        }
        f(&Rendered {
            pic_params,
            iq: self.iq.as_deref(),
            probability: self.probability.as_deref(),
            slices: &slices,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::h264::H264Map;

    const SLICE: usize = std::mem::size_of::<sys::VASliceParameterBufferH264>();

    #[test]
    fn slice_parameter_elements_take_the_next_data_buffer() {
        let codec = H264Map::default();
        let mut p = Picture::new(7);
        let pp = vec![0u8; std::mem::size_of::<sys::VAPictureParameterBufferH264>()];
        p.render(&codec, sys::VAPictureParameterBufferType, &pp, 1)
            .unwrap();
        let mut two = vec![0u8; 2 * SLICE];
        two[SLICE] = 9; // the second element's first byte
        p.render(&codec, sys::VASliceParameterBufferType, &two, 2)
            .unwrap();
        p.render(&codec, sys::VASliceDataBufferType, b"ab", 1)
            .unwrap();
        p.render(&codec, sys::VASliceParameterBufferType, &two[..SLICE], 1)
            .unwrap();
        p.render(&codec, sys::VASliceDataBufferType, b"cd", 1)
            .unwrap();
        p.with_rendered(|r| {
            assert_eq!(r.slices.len(), 3);
            assert_eq!((r.slices[1].params[0], r.slices[1].data), (9, &b"ab"[..]));
            assert_eq!(r.slices[2].data, b"cd");
            assert!(r.iq.is_none() && r.probability.is_none());
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn bad_buffers_are_refused_and_leave_nothing() {
        let codec = H264Map::default();
        let mut p = Picture::new(1);
        let short = vec![0u8; SLICE - 1];
        let e = |r: Result<(), VAStatus>| r.unwrap_err();
        assert_eq!(
            e(p.render(&codec, sys::VASliceParameterBufferType, &short, 1)),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        // 3 elements claimed over 2 elements' bytes; more elements than bytes
        let two = vec![0u8; 2 * SLICE];
        assert_eq!(
            e(p.render(&codec, sys::VASliceParameterBufferType, &two, 3)),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            e(p.render(&codec, sys::VASliceParameterBufferType, &two, u32::MAX)),
            VA_STATUS_ERROR_ALLOCATION_FAILED
        );
        assert_eq!(
            e(p.render(&codec, sys::VAProbabilityBufferType, &two, 1)),
            VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE
        );
        assert_eq!(
            e(p.render(&codec, sys::VAPictureParameterBufferType, &two[..8], 1)),
            VA_STATUS_ERROR_INVALID_PARAMETER
        );
        // without picture parameters nothing ends
        assert_eq!(
            p.with_rendered(|_| Ok(())),
            Err(VA_STATUS_ERROR_INVALID_PARAMETER)
        );
        // a slice without its data buffer does not end either
        let pp = vec![0u8; std::mem::size_of::<sys::VAPictureParameterBufferH264>()];
        p.render(&codec, sys::VAPictureParameterBufferType, &pp, 1)
            .unwrap();
        p.render(&codec, sys::VASliceParameterBufferType, &two, 2)
            .unwrap();
        assert_eq!(
            p.with_rendered(|_| Ok(())),
            Err(VA_STATUS_ERROR_INVALID_PARAMETER)
        );
    }
}
