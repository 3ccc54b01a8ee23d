//! VA buffers: the parameter, matrix, slice and probability data a client
//! hands over per picture, copied into storage the driver owns.
//!
//! Sources: libva va.h (`vaCreateBuffer`: `size` bytes per element,
//! `num_elements` elements, `data` copied if non-null; `vaMapBuffer`,
//! `vaBufferSetNumElements`, `vaBufferInfo`, `enum VABufferType`).

use crate::status::*;
use crate::sys::{self, VABufferType, VAContextID};

/// Largest buffer in bytes (`size * num_elements`): 64 MiB, more than the
/// largest slice data of an 8K intra picture at the highest level.
pub const MAX_BUFFER_BYTES: u64 = 64 << 20;
/// Live buffers at most (clients keep a few per picture in flight).
pub const MAX_LIVE_BUFFERS: usize = 4096;
/// Bytes of all live buffers together at most: 256 MiB.
pub const MAX_LIVE_BUFFER_BYTES: u64 = 256 << 20;

/// Largest image buffer in bytes (`vaCreateImage` / `vaDeriveImage`): 128
/// MiB, an 8K (7680 × 4320) P010 picture (99.5 MB) fits. Image buffers
/// count against [`MAX_LIVE_BUFFERS`] and [`MAX_LIVE_BUFFER_BYTES`] too.
pub const MAX_IMAGE_BYTES: u64 = 128 << 20;

/// The buffer types `vaCreateBuffer` accepts: what a VLD decoder consumes.
pub const BUFFER_TYPES: [VABufferType; 5] = [
    sys::VAPictureParameterBufferType,
    sys::VAIQMatrixBufferType,
    sys::VASliceParameterBufferType,
    sys::VASliceDataBufferType,
    sys::VAProbabilityBufferType,
];

/// `size * num_elements` in bytes, overflow-checked and at most
/// [`MAX_BUFFER_BYTES`]; `VA_STATUS_ERROR_ALLOCATION_FAILED` past it.
pub fn total_bytes(size: u32, num_elements: u32) -> Result<usize, VAStatus> {
    u64::from(size)
        .checked_mul(u64::from(num_elements))
        .filter(|&n| n <= MAX_BUFFER_BYTES)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(VA_STATUS_ERROR_ALLOCATION_FAILED)
}

/// One `vaCreateBuffer` result.
#[derive(Debug)]
pub struct Buffer {
    /// The context given at creation.
    pub context: VAContextID,
    pub type_: VABufferType,
    /// Bytes per element.
    pub size: u32,
    /// Elements now (`vaBufferSetNumElements` may lower it).
    pub num_elements: u32,
    /// Elements the storage holds (as created).
    capacity_elements: u32,
    /// `size * capacity_elements` bytes; never reallocated while the buffer
    /// lives, so a mapped pointer stays valid until `vaDestroyBuffer`.
    storage: Box<[u8]>,
    /// Between `vaMapBuffer` and `vaUnmapBuffer`.
    pub mapped: bool,
}

impl Buffer {
    /// A buffer of `num_elements` elements of `size` bytes, filled from
    /// `data` (exactly [`total_bytes`] long) or zeroed. Errors:
    /// `VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE` (not in [`BUFFER_TYPES`]),
    /// `VA_STATUS_ERROR_ALLOCATION_FAILED` (too large, or the allocation
    /// failed), `VA_STATUS_ERROR_INVALID_PARAMETER` (`data` of another length).
    pub fn new(
        context: VAContextID,
        type_: VABufferType,
        size: u32,
        num_elements: u32,
        data: Option<&[u8]>,
    ) -> Result<Buffer, VAStatus> {
        if !BUFFER_TYPES.contains(&type_) {
            return Err(VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE);
        }
        let n = total_bytes(size, num_elements)?;
        let mut v: Vec<u8> = Vec::new();
        v.try_reserve_exact(n)
            .map_err(|_| VA_STATUS_ERROR_ALLOCATION_FAILED)?;
        match data {
            Some(d) if d.len() != n => return Err(VA_STATUS_ERROR_INVALID_PARAMETER),
            Some(d) => v.extend_from_slice(d),
            None => v.resize(n, 0),
        }
        Ok(Buffer {
            context,
            type_,
            size,
            num_elements,
            capacity_elements: num_elements,
            storage: v.into_boxed_slice(),
            mapped: false,
        })
    }

    /// The `VAImageBufferType` buffer of an image (`vaCreateImage`,
    /// `vaDeriveImage`: va.h "the buffer will be created by the CreateImage
    /// function"), holding `data` (at most [`MAX_IMAGE_BYTES`], else
    /// `VA_STATUS_ERROR_ALLOCATION_FAILED`). It belongs to no context
    /// (`context` is `VA_INVALID_ID`, so `vaRenderPicture` refuses it), is
    /// one element of `data.len()` bytes, and is mapped like any buffer.
    pub fn image(data: Vec<u8>) -> Result<Buffer, VAStatus> {
        let size = u32::try_from(data.len())
            .ok()
            .filter(|&n| u64::from(n) <= MAX_IMAGE_BYTES)
            .ok_or(VA_STATUS_ERROR_ALLOCATION_FAILED)?;
        Ok(Buffer {
            context: sys::VA_INVALID_ID,
            type_: sys::VAImageBufferType,
            size,
            num_elements: 1,
            capacity_elements: 1,
            storage: data.into_boxed_slice(),
            mapped: false,
        })
    }

    /// The storage box (`vaGetImage` takes it out, writes the image's
    /// pixels and puts the same box back: its heap block does not move, so a
    /// pointer `vaMapBuffer` gave stays valid). Callers put back what they take.
    pub(crate) fn storage_mut(&mut self) -> &mut Box<[u8]> {
        &mut self.storage
    }

    /// Bytes of storage.
    pub fn len(&self) -> usize {
        self.storage.len()
    }

    pub fn is_empty(&self) -> bool {
        self.storage.is_empty()
    }

    /// The bytes of the current elements (`size * num_elements`).
    pub fn data(&self) -> &[u8] {
        let n = (self.size as usize).saturating_mul(self.num_elements as usize);
        &self.storage[..n.min(self.storage.len())]
    }

    /// `vaBufferSetNumElements`: at most the elements the buffer was created
    /// with (the storage does not grow); `VA_STATUS_ERROR_INVALID_PARAMETER`
    /// past that.
    pub fn set_num_elements(&mut self, n: u32) -> Result<(), VAStatus> {
        if n > self.capacity_elements {
            return Err(VA_STATUS_ERROR_INVALID_PARAMETER);
        }
        self.num_elements = n;
        Ok(())
    }

    /// `vaMapBuffer`: the storage's address, the same on every call for the
    /// buffer's life (a zero-byte buffer gives a dangling, non-null pointer
    /// that must not be read). Mapping twice is allowed.
    pub fn map(&mut self) -> *mut u8 {
        self.mapped = true;
        self.storage.as_mut_ptr()
    }

    /// `vaUnmapBuffer`; unmapping a buffer not mapped is allowed (as
    /// bootlin's libva-v4l2-request: its buffers are always mapped).
    pub fn unmap(&mut self) {
        self.mapped = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked() {
        assert_eq!(total_bytes(16, 4), Ok(64));
        assert_eq!(total_bytes(0, 4), Ok(0));
        assert_eq!(total_bytes(64 << 20, 1), Ok(64 << 20));
        assert_eq!(
            total_bytes((64 << 20) + 1, 1),
            Err(VA_STATUS_ERROR_ALLOCATION_FAILED)
        );
        assert_eq!(
            total_bytes(u32::MAX, u32::MAX),
            Err(VA_STATUS_ERROR_ALLOCATION_FAILED)
        );
        assert_eq!(
            total_bytes(1 << 16, 1 << 16),
            Err(VA_STATUS_ERROR_ALLOCATION_FAILED)
        );
    }

    #[test]
    fn create_map_and_elements() {
        let data: Vec<u8> = (0..48).collect();
        let mut b = Buffer::new(7, sys::VASliceParameterBufferType, 16, 3, Some(&data)).unwrap();
        assert_eq!(b.data(), &data[..]);
        let p = b.map();
        assert_eq!(b.map(), p, "stable pointer");
        b.unmap();
        b.unmap();
        assert_eq!(b.map(), p);
        b.set_num_elements(1).unwrap();
        assert_eq!(b.data(), &data[..16]);
        assert_eq!(
            b.set_num_elements(4),
            Err(VA_STATUS_ERROR_INVALID_PARAMETER)
        );
        b.set_num_elements(3).unwrap();
        assert_eq!(b.len(), 48);

        let z = Buffer::new(7, sys::VAProbabilityBufferType, 8, 2, None).unwrap();
        assert_eq!(z.data(), [0; 16]);
        assert_eq!(
            Buffer::new(7, sys::VAPictureParameterBufferType, 8, 2, Some(&data)).err(),
            Some(VA_STATUS_ERROR_INVALID_PARAMETER)
        );
        assert_eq!(
            Buffer::new(7, sys::VAImageBufferType, 8, 2, None).err(),
            Some(VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE)
        );
        assert_eq!(
            Buffer::new(7, sys::VASliceDataBufferType, u32::MAX, 2, None).err(),
            Some(VA_STATUS_ERROR_ALLOCATION_FAILED)
        );
        let mut e = Buffer::new(7, sys::VASliceDataBufferType, 0, 0, None).unwrap();
        assert!(e.is_empty() && !e.map().is_null());
    }
}
