//! Recognising a repeated parameter set (issue 17): encoders repeat the
//! H.264 SPS / PPS before every IDR picture and the HEVC VPS / SPS / PPS
//! before every IRAP picture (in every Annex-B random access point, in-band
//! in MP4 `avc3` / `hev1`), and cros-codecs' parse of each allocates (its
//! `Rc`, its `Vec`s). A unit byte-identical to the last one of its type
//! handled without error, parsed against the same parameter sets it
//! depends on, would store the same values: the codecs skip it.

/// Largest parameter set NAL unit (bytes) [`SeenParamSet`] remembers: far
/// more than a real one (a few hundred bytes with scaling lists and VUI); a
/// larger one is parsed every time it comes.
pub(crate) const MAX_SEEN_PARAM_SET: usize = 64 << 10;

/// The last parameter set NAL unit of one type handled without error.
#[derive(Debug, Default)]
pub(crate) struct SeenParamSet {
    /// The NAL unit as handled, when `valid` (bytes, at most
    /// [`MAX_SEEN_PARAM_SET`]).
    nal: Vec<u8>,
    valid: bool,
    /// How many units of the type it depends on had been parsed when it was
    /// (cros-codecs links an HEVC SPS to its VPS, a PPS to its SPS, as
    /// parsed then); 0 for a type that depends on none.
    depends_on_parses: u64,
}

impl SeenParamSet {
    /// Whether `nal` repeats the one remembered, with the same
    /// `depends_on_parses`.
    pub(crate) fn repeats(&self, nal: &[u8], depends_on_parses: u64) -> bool {
        self.valid && self.depends_on_parses == depends_on_parses && self.nal == nal
    }

    /// Forgets the one remembered (a new unit of the type is being parsed).
    pub(crate) fn forget(&mut self) {
        self.valid = false;
    }

    /// Remembers `nal` as handled without error (not kept when longer than
    /// [`MAX_SEEN_PARAM_SET`]).
    pub(crate) fn remember(&mut self, nal: &[u8], depends_on_parses: u64) {
        self.valid = nal.len() <= MAX_SEEN_PARAM_SET;
        if self.valid {
            self.nal.clear();
            self.nal.extend_from_slice(nal);
            self.depends_on_parses = depends_on_parses;
        }
    }
}
