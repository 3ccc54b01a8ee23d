//! libva's parameter structs as plain data: read from a client's buffer
//! bytes, and their bit-field unions read as the integer they overlay.
//!
//! Every struct here is bindgen's output over `va/va.h` and the
//! `va/va_dec_*.h` headers it includes: integers, arrays of integers, nested
//! such structs and unions of integers (`bits` / `value`), `Copy`, no
//! pointers — so any bit pattern is a valid value. The codec modules of
//! `crate::map` read buffers with [`read_element`] and the unions with the
//! `*_fields` accessors below (the bit positions are decoded there, as the
//! headers declare them, LSB first).

use crate::sys;

/// A libva parameter struct that is plain data (see the module docs).
///
/// # Safety
/// Implement only for such structs.
pub(crate) unsafe trait PlainData: Copy {}

macro_rules! plain_data {
    ($($t:ty),* $(,)?) => {
        $(
            // SAFETY: bindgen structs of integers, integer arrays, nested
            // plain structs and integer unions (module docs): any bytes are
            // a valid value.
            unsafe impl PlainData for $t {}
        )*
    };
}

plain_data!(
    // H.264 (va/va.h)
    sys::VAPictureParameterBufferH264,
    sys::VAIQMatrixBufferH264,
    sys::VASliceParameterBufferH264,
    // HEVC Main / Main10 (va/va_dec_hevc.h; the Rext / Scc extensions are
    // profiles we do not list)
    sys::VAPictureParameterBufferHEVC,
    sys::VASliceParameterBufferHEVC,
    sys::VAIQMatrixBufferHEVC,
    // VP8 (va/va_dec_vp8.h)
    sys::VAPictureParameterBufferVP8,
    sys::VASliceParameterBufferVP8,
    sys::VAProbabilityDataBufferVP8,
    sys::VAIQMatrixBufferVP8,
    // VP9 (va/va_dec_vp9.h)
    sys::VADecPictureParameterBufferVP9,
    sys::VASliceParameterBufferVP9,
    sys::VASegmentParameterVP9,
    // MPEG-2 (va/va.h)
    sys::VAPictureParameterBufferMPEG2,
    sys::VAIQMatrixBufferMPEG2,
    sys::VASliceParameterBufferMPEG2,
);

/// Element `index` of a VA buffer's bytes read as `T` (a buffer of
/// `num_elements` elements of `size_of::<T>()` bytes each, as the client
/// created it with `vaCreateBuffer`). `None` when the bytes are too short.
pub(crate) fn read_element<T: PlainData>(bytes: &[u8], index: usize) -> Option<T> {
    let size = std::mem::size_of::<T>();
    let start = index.checked_mul(size)?;
    let chunk = bytes.get(start..start.checked_add(size)?)?;
    // SAFETY: `chunk` holds `size_of::<T>()` readable bytes; `read_unaligned`
    // has no alignment requirement; `T: PlainData` is valid for any bytes.
    Some(unsafe { std::ptr::read_unaligned(chunk.as_ptr().cast::<T>()) })
}

/// The bytes of a VA parameter struct, as a client passes them to
/// `vaCreateBuffer` (tests).
#[cfg(test)]
pub(crate) fn bytes_of<T: PlainData>(v: &T) -> &[u8] {
    // SAFETY: `v` is `size_of::<T>()` initialised bytes for the borrow's
    // life (`PlainData`: bindgen structs of integers; their padding bytes,
    // if any, are read as-is and only compared or copied).
    unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), std::mem::size_of::<T>()) }
}

/// `fn name(&Struct) -> uN`: the `value` member of the bit-field union
/// `field` of a VA struct, i.e. the bit fields as one integer.
macro_rules! union_value {
    ($($(#[$doc:meta])* $name:ident($t:ty) -> $field:ident: $int:ty;)*) => {
        $(
            $(#[$doc])*
            pub(crate) fn $name(p: &$t) -> $int {
                // SAFETY: the union's members are a bit-field struct of
                // integers and `value`, covering the same bytes: reading
                // `value` is reading those bytes as an integer.
                unsafe { p.$field.value }
            }
        )*
    };
}

union_value! {
    /// `seq_fields` of `VAPictureParameterBufferH264` (decoded by
    /// `crate::map::h264::SeqFields`).
    h264_seq_fields(sys::VAPictureParameterBufferH264) -> seq_fields: u32;
    /// `pic_fields` of `VAPictureParameterBufferH264`.
    h264_pic_fields(sys::VAPictureParameterBufferH264) -> pic_fields: u32;
    /// `pic_fields` of `VAPictureParameterBufferHEVC`.
    hevc_pic_fields(sys::VAPictureParameterBufferHEVC) -> pic_fields: u32;
    /// `slice_parsing_fields` of `VAPictureParameterBufferHEVC`.
    hevc_slice_parsing_fields(sys::VAPictureParameterBufferHEVC) -> slice_parsing_fields: u32;
    /// `LongSliceFlags` of `VASliceParameterBufferHEVC`.
    hevc_long_slice_flags(sys::VASliceParameterBufferHEVC) -> LongSliceFlags: u32;
    /// `pic_fields` of `VAPictureParameterBufferVP8`.
    vp8_pic_fields(sys::VAPictureParameterBufferVP8) -> pic_fields: u32;
    /// `pic_fields` of `VADecPictureParameterBufferVP9`.
    vp9_pic_fields(sys::VADecPictureParameterBufferVP9) -> pic_fields: u32;
    /// `segment_flags` of `VASegmentParameterVP9`.
    vp9_segment_flags(sys::VASegmentParameterVP9) -> segment_flags: u16;
    /// `picture_coding_extension` of `VAPictureParameterBufferMPEG2`.
    mpeg2_picture_coding_extension(sys::VAPictureParameterBufferMPEG2) -> picture_coding_extension: u32;
}
