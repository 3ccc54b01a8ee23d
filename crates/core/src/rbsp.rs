//! H.264 / H.265 raw byte sequence payload (RBSP) syntax: the removal of
//! emulation prevention bytes and the bit reader for the `u(n)`, `ue(v)` and
//! `se(v)` descriptors. Pure syntax, no codec semantics: the H.264 and HEVC
//! slice header readers of `vreq-codec` and `vreq-va` read through it.
//!
//! Sources: ITU-T H.264 7.2 (descriptors `u(n)`, `ue(v)`, `se(v)`), 7.3.1 /
//! 7.4.1 (`emulation_prevention_three_byte`), 9.1 / 9.1.1 (Exp-Golomb codes
//! and their signed mapping); ITU-T H.265 7.2, 7.3.1.1 / 7.4.2 and 9.2 /
//! 9.2.2 say the same for HEVC.

/// Removes the emulation prevention bytes of a NAL unit's payload: every
/// `emulation_prevention_three_byte` (the `03` of `00 00 03`) is dropped
/// (H.264 7.4.1, H.265 7.4.2). Returns `data` itself when it holds none
/// (no allocation: the common case for a slice header's NAL unit), else a
/// new buffer no longer than `data`.
pub fn strip_emulation_prevention(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !has_emulation_prevention(data) {
        return std::borrow::Cow::Borrowed(data);
    }
    let mut out = Vec::with_capacity(data.len());
    push_without_emulation_prevention(data, &mut out);
    std::borrow::Cow::Owned(out)
}

/// [`strip_emulation_prevention`] into a buffer the caller reuses: returns
/// `data` itself when it holds no emulation prevention byte, else `out`,
/// cleared and filled with `data` without them. `out` grows (an
/// allocation) only when `data` is longer than its capacity, so to at most
/// `data.len()` bytes.
pub fn strip_emulation_prevention_into<'a>(data: &'a [u8], out: &'a mut Vec<u8>) -> &'a [u8] {
    if !has_emulation_prevention(data) {
        return data;
    }
    out.clear();
    out.reserve(data.len());
    push_without_emulation_prevention(data, out);
    out
}

/// Whether `data` holds an `emulation_prevention_three_byte` (a `03` after
/// two `00`s, counted from the last one removed).
fn has_emulation_prevention(data: &[u8]) -> bool {
    let mut zeros = 0;
    data.iter().any(|&b| {
        let epb = zeros >= 2 && b == 3;
        zeros = if b == 0 { zeros + 1 } else { 0 };
        epb
    })
}

fn push_without_emulation_prevention(data: &[u8], out: &mut Vec<u8>) {
    let mut zeros = 0;
    for &b in data {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
}

/// `Ceil(Log2(x))` (H.264 / H.265 5.7), the length of the `u(v)` elements
/// that index among x values; 0 for x ≤ 1.
pub fn ceil_log2(x: u32) -> u32 {
    if x <= 1 {
        0
    } else {
        u32::BITS - (x - 1).leading_zeros()
    }
}

/// Why a read from a [`BitReader`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RbspError {
    /// The data ends before the syntax element does.
    #[error("out of bits")]
    OutOfBits,
    /// An `ue(v)` code with more than 31 leading zero bits (its value would
    /// not fit 32 bits; no H.264 / H.265 syntax element needs that).
    #[error("ue(v) too long")]
    UeTooLong,
    /// `u(n)` asked for more than 32 bits.
    #[error("u({0})")]
    TooWide(u32),
    /// An `ue(v)` value above the range its caller allows.
    #[error("{value} > {max}")]
    OutOfRange { value: u32, max: u32 },
}

impl From<RbspError> for String {
    fn from(e: RbspError) -> String {
        e.to_string()
    }
}

/// An MSB-first bit reader over RBSP bytes (emulation prevention already
/// removed: [`strip_emulation_prevention`]). Reads past the end fail with
/// [`RbspError::OutOfBits`]; the position then is unspecified.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// A reader at the first bit of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    /// Bits read (or skipped) so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bits in the whole of the data (8 per byte).
    pub fn len_bits(&self) -> usize {
        self.data.len() * 8
    }

    /// `u(1)` as a flag (7.2). Errors: [`RbspError::OutOfBits`].
    pub fn flag(&mut self) -> Result<bool, RbspError> {
        let byte = *self.data.get(self.pos / 8).ok_or(RbspError::OutOfBits)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Ok(b == 1)
    }

    /// `u(n)`: n bits, most significant first, 0 ≤ n ≤ 32 (7.2). Errors:
    /// [`RbspError::TooWide`] for n > 32 (use [`Self::skip`] for longer
    /// runs), [`RbspError::OutOfBits`].
    pub fn u(&mut self, n: u32) -> Result<u32, RbspError> {
        if n > 32 {
            return Err(RbspError::TooWide(n));
        }
        let mut v = 0u32;
        for _ in 0..n {
            v = (v << 1) | u32::from(self.flag()?);
        }
        Ok(v)
    }

    /// Skips n bits. Errors: [`RbspError::OutOfBits`] when fewer than n are
    /// left (the position does not move then).
    pub fn skip(&mut self, n: usize) -> Result<(), RbspError> {
        if n > self.len_bits().saturating_sub(self.pos) {
            return Err(RbspError::OutOfBits);
        }
        self.pos += n;
        Ok(())
    }

    /// `ue(v)`: an unsigned Exp-Golomb code (H.264 9.1, H.265 9.2) of at
    /// most 31 leading zero bits, so up to 2³² − 2. Errors:
    /// [`RbspError::UeTooLong`], [`RbspError::OutOfBits`].
    pub fn ue(&mut self) -> Result<u32, RbspError> {
        let mut zeros = 0;
        while !self.flag()? {
            zeros += 1;
            if zeros > 31 {
                return Err(RbspError::UeTooLong);
            }
        }
        let rest = self.u(zeros)?;
        // 31 zeros: at most (2^31 - 1) + (2^31 - 1), which fits u32
        Ok(((1u64 << zeros) - 1 + u64::from(rest)) as u32)
    }

    /// `se(v)`: a signed Exp-Golomb code, k ↦ (−1)^(k+1) · Ceil(k ÷ 2)
    /// (H.264 9.1.1 Table 9-3, H.265 9.2.2). Errors: as [`Self::ue`].
    pub fn se(&mut self) -> Result<i32, RbspError> {
        let k = self.ue()?;
        let m = k.div_ceil(2) as i32;
        Ok(if k % 2 == 1 { m } else { -m })
    }

    /// `ue(v)` with a caller's upper bound (a syntax element's range from
    /// the semantics). Errors: as [`Self::ue`], and
    /// [`RbspError::OutOfRange`] above `max`.
    pub fn ue_max(&mut self, max: u32) -> Result<u32, RbspError> {
        let value = self.ue()?;
        if value > max {
            return Err(RbspError::OutOfRange { value, max });
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_the_three_of_each_00_00_03() {
        assert_eq!(
            strip_emulation_prevention(&[0, 0, 3, 1, 0, 0, 3]),
            vec![0, 0, 1, 0, 0]
        );
        // the counting restarts after a removed byte: 00 00 03 00 03 keeps
        // the second 03 (only one zero before it)
        assert_eq!(
            strip_emulation_prevention(&[0, 0, 3, 0, 3]),
            vec![0, 0, 0, 3]
        );
        assert_eq!(
            strip_emulation_prevention(&[0, 3, 0, 0, 0, 3]),
            vec![0, 3, 0, 0, 0]
        );
        assert!(strip_emulation_prevention(&[]).is_empty());
    }

    #[test]
    fn strips_into_a_reused_buffer() {
        let mut out = Vec::new();
        for data in [
            &[0, 0, 3, 1, 0, 0, 3][..],
            &[0, 0, 3, 0, 3],
            &[0, 3, 0, 0, 0, 3],
            &[1, 2, 3],
            &[],
        ] {
            assert_eq!(
                strip_emulation_prevention_into(data, &mut out),
                &*strip_emulation_prevention(data)
            );
        }
        // without emulation prevention bytes, `data` itself (`out` untouched)
        let data = [0, 0, 1, 0, 3];
        out.clear();
        assert!(std::ptr::eq(
            strip_emulation_prevention_into(&data, &mut out),
            &data[..]
        ));
        assert!(out.is_empty());
        // no allocation once grown to the longest unit
        let long = [0, 0, 3, 9, 9, 9, 9, 9];
        strip_emulation_prevention_into(&long, &mut out);
        let (ptr, cap) = (out.as_ptr(), out.capacity());
        strip_emulation_prevention_into(&[0, 0, 3, 1], &mut out);
        assert_eq!((out.as_ptr(), out.capacity()), (ptr, cap));
        assert_eq!(out, [0, 0, 1]);
    }

    /// Bytes from a string of '0' / '1' (other characters ignored), the
    /// last byte padded with zeros.
    fn bits(s: &str) -> Vec<u8> {
        let b: Vec<u8> = s
            .bytes()
            .filter(|c| matches!(c, b'0' | b'1'))
            .map(|c| c - b'0')
            .collect();
        b.chunks(8)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .fold(0u8, |v, (i, &x)| v | x << (7 - i))
            })
            .collect()
    }

    #[test]
    fn reads_the_exp_golomb_table() {
        // H.264 Table 9-2: 1 → 0, 010 → 1, 011 → 2, 00100 → 3, 00111 → 6;
        // Table 9-3: k 1, 2, 3, 6 ↦ 1, −1, 2, −3
        let data = bits("1 010 011 00100 00111  010 011 00100 00111  0000");
        let mut r = BitReader::new(&data);
        assert_eq!(r.ue(), Ok(0));
        assert_eq!(r.ue(), Ok(1));
        assert_eq!(r.ue(), Ok(2));
        assert_eq!(r.ue(), Ok(3));
        assert_eq!(r.pos(), 12);
        assert_eq!(r.ue(), Ok(6));
        assert_eq!(r.se(), Ok(1));
        assert_eq!(r.se(), Ok(-1));
        assert_eq!(r.se(), Ok(2));
        assert_eq!(r.se(), Ok(-3));
        assert_eq!(r.pos(), 33);
        assert_eq!(r.u(7), Ok(0));
        assert_eq!(r.flag(), Err(RbspError::OutOfBits));
    }

    #[test]
    fn ue_takes_31_zeros_and_refuses_32() {
        // 31 zeros, a one, 31 ones: 2^32 - 2
        let mut data = vec![0u8; 3];
        data.extend([0x01, 0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(BitReader::new(&data).ue(), Ok(u32::MAX - 1));
        assert_eq!(BitReader::new(&data).se(), Ok(-(i32::MAX)));
        let data = [0u8, 0, 0, 0, 0x80];
        assert_eq!(BitReader::new(&data).ue(), Err(RbspError::UeTooLong));
    }

    #[test]
    fn ceil_log2_of_counts() {
        let got: Vec<u32> = [0, 1, 2, 3, 4, 5, 8, 9, u32::MAX].map(ceil_log2).to_vec();
        assert_eq!(got, [0, 0, 1, 2, 2, 3, 3, 4, 32]);
    }

    #[test]
    fn u_skip_and_bounds() {
        let data = [0xa5, 0x0f];
        let mut r = BitReader::new(&data);
        assert_eq!(r.u(0), Ok(0));
        assert_eq!(r.u(3), Ok(0b101));
        assert_eq!(r.u(33), Err(RbspError::TooWide(33)));
        assert_eq!(r.skip(14), Err(RbspError::OutOfBits));
        assert_eq!(r.pos(), 3);
        assert_eq!(r.skip(5), Ok(()));
        assert_eq!(r.u(8), Ok(0x0f));
        assert_eq!(r.len_bits(), 16);
        assert_eq!(r.u(1), Err(RbspError::OutOfBits));
        let mut r = BitReader::new(&[0b0011_0000]);
        assert_eq!(r.ue_max(1), Err(RbspError::OutOfRange { value: 5, max: 1 }));
        assert_eq!(
            String::from(RbspError::OutOfRange { value: 5, max: 1 }),
            "5 > 1"
        );
    }
}
