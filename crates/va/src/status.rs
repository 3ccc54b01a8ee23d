//! VA status codes as `VAStatus` (libva va.h `VA_STATUS_*`; bindgen gives the
//! `#define`s as `u32`, `VAStatus` is C `int`: `VA_STATUS_ERROR_UNKNOWN`
//! 0xFFFFFFFF is -1).

#![allow(clippy::cast_possible_wrap)]

use crate::sys;

/// libva's `VAStatus` (C `int`).
pub type VAStatus = sys::VAStatus;

macro_rules! statuses {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("`", stringify!($name), "` (libva va.h).")]
            pub const $name: VAStatus = sys::$name as VAStatus;
        )*
        /// Every status above: the ones libva defines that the driver may
        /// return (the hostile tests accept no other).
        pub const KNOWN_STATUSES: &[VAStatus] = &[$($name),*];
    };
}

statuses!(
    VA_STATUS_SUCCESS,
    VA_STATUS_ERROR_OPERATION_FAILED,
    VA_STATUS_ERROR_ALLOCATION_FAILED,
    VA_STATUS_ERROR_INVALID_DISPLAY,
    VA_STATUS_ERROR_INVALID_CONFIG,
    VA_STATUS_ERROR_INVALID_CONTEXT,
    VA_STATUS_ERROR_INVALID_SURFACE,
    VA_STATUS_ERROR_INVALID_BUFFER,
    VA_STATUS_ERROR_INVALID_IMAGE,
    VA_STATUS_ERROR_INVALID_PARAMETER,
    VA_STATUS_ERROR_UNSUPPORTED_PROFILE,
    VA_STATUS_ERROR_UNSUPPORTED_ENTRYPOINT,
    VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT,
    VA_STATUS_ERROR_UNIMPLEMENTED,
    VA_STATUS_ERROR_UNKNOWN,
    VA_STATUS_ERROR_MAX_NUM_EXCEEDED,
    VA_STATUS_ERROR_UNSUPPORTED_BUFFERTYPE,
    VA_STATUS_ERROR_SURFACE_BUSY,
    VA_STATUS_ERROR_RESOLUTION_NOT_SUPPORTED,
    VA_STATUS_ERROR_INVALID_IMAGE_FORMAT,
    VA_STATUS_ERROR_UNSUPPORTED_MEMORY_TYPE,
    VA_STATUS_ERROR_DECODING_ERROR,
);
