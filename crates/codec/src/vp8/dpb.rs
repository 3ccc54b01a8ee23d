//! VP8 reference frames: the LAST, GOLDEN and ALTREF slots (RFC 6386 9.7,
//! 9.8) and their update after each decoded frame, in the order GStreamer
//! 1.26.2's `gst_vp8_decoder_update_reference` (`gstvp8decoder.c`) applies
//! them. VP8 has no reordering: a shown frame is output right after its
//! Decode, so the references are all this codec's DPB holds.

use super::parser::FrameHeader;

/// The LAST, GOLDEN and ALTREF references: decode timestamps (ns).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refs {
    pub last: Option<u64>,
    pub golden: Option<u64>,
    pub alt: Option<u64>,
}

impl Refs {
    /// Applies a decoded frame's refresh / copy flags as
    /// `gst_vp8_decoder_update_reference` does (RFC 6386 9.7, 9.8).
    pub fn update(&mut self, h: &FrameHeader, timestamp_ns: u64) {
        if h.key_frame {
            *self = Refs {
                last: Some(timestamp_ns),
                golden: Some(timestamp_ns),
                alt: Some(timestamp_ns),
            };
            return;
        }
        if h.refresh_alternate_frame {
            self.alt = Some(timestamp_ns);
        } else {
            match h.copy_buffer_to_alternate {
                1 => self.alt = self.last,
                2 => self.alt = self.golden,
                _ => {}
            }
        }
        if h.refresh_golden_frame {
            self.golden = Some(timestamp_ns);
        } else {
            match h.copy_buffer_to_golden {
                1 => self.golden = self.last,
                2 => self.golden = self.alt,
                _ => {}
            }
        }
        if h.refresh_last {
            self.last = Some(timestamp_ns);
        }
    }

    /// Whether the frame decoded with `timestamp_ns` is LAST, GOLDEN or ALTREF.
    pub fn holds(&self, timestamp_ns: u64) -> bool {
        [self.last, self.golden, self.alt].contains(&Some(timestamp_ns))
    }
}
