//! H.265 NAL unit type facts (ITU-T H.265 Table 7-1, 7.4.2.2) that the
//! HEVC codec and vreq-va's HEVC mapping both need. Pure syntax.

/// A coded slice segment NAL unit type (VCL: 0–9 and 16–21).
pub fn is_slice(t: u8) -> bool {
    t <= 9 || (16..=21).contains(&t)
}

/// IRAP: BLA, IDR, CRA and the reserved IRAP types (16–23).
pub fn is_irap(t: u8) -> bool {
    (16..=23).contains(&t)
}

/// IDR_W_RADL / IDR_N_LP (19, 20).
pub fn is_idr(t: u8) -> bool {
    t == 19 || t == 20
}

/// BLA_W_LP / BLA_W_RADL / BLA_N_LP (16–18).
pub fn is_bla(t: u8) -> bool {
    (16..=18).contains(&t)
}

/// CRA_NUT (21).
pub fn is_cra(t: u8) -> bool {
    t == 21
}

/// RASL_N / RASL_R (8, 9).
pub fn is_rasl(t: u8) -> bool {
    t == 8 || t == 9
}

/// RADL_N / RADL_R (6, 7).
pub fn is_radl(t: u8) -> bool {
    t == 6 || t == 7
}

/// Sub-layer non-reference pictures (even types below 16 up to
/// RSV_VCL_N14), as GStreamer's `nal_is_ref` in `gsth265decoder.c`.
pub fn is_sub_layer_non_ref(t: u8) -> bool {
    t <= 14 && t % 2 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_7_1_classes() {
        let all = |f: fn(u8) -> bool| (0u8..64).filter(|&t| f(t)).collect::<Vec<_>>();
        assert_eq!(
            all(is_slice),
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 18, 19, 20, 21]
        );
        assert_eq!(all(is_irap), [16, 17, 18, 19, 20, 21, 22, 23]);
        assert_eq!(all(is_idr), [19, 20]);
        assert_eq!(all(is_bla), [16, 17, 18]);
        assert_eq!(all(is_cra), [21]);
        assert_eq!(all(is_rasl), [8, 9]);
        assert_eq!(all(is_radl), [6, 7]);
        assert_eq!(all(is_sub_layer_non_ref), [0, 2, 4, 6, 8, 10, 12, 14]);
    }
}
