//! Writes H.264 / H.265 RBSP syntax (`u(n)`, `ue(v)`, `se(v)`, 7.2 / 9.1 /
//! 9.2), the inverse of `vreq_core::rbsp::BitReader`: hand-made parameter
//! sets and slice headers for the codec's and the VA maps' tests.

/// Syntax elements written MSB first; [`RbspWriter::nal`] closes them into NAL bytes.
#[derive(Default)]
pub struct RbspWriter {
    bits: Vec<bool>,
}

impl RbspWriter {
    /// `u(n)`: the low `n` bits of `v`.
    pub fn u(&mut self, n: u32, v: u32) -> &mut Self {
        for i in (0..n).rev() {
            self.bits.push(v >> i & 1 == 1);
        }
        self
    }
    /// `ue(v)`.
    pub fn ue(&mut self, v: u32) -> &mut Self {
        let x = u64::from(v) + 1;
        let len = 64 - x.leading_zeros();
        for _ in 0..len - 1 {
            self.bits.push(false);
        }
        for i in (0..len).rev() {
            self.bits.push(x >> i & 1 == 1);
        }
        self
    }
    /// `se(v)`.
    pub fn se(&mut self, v: i32) -> &mut Self {
        let k = if v > 0 { 2 * v - 1 } else { -2 * v };
        self.ue(k as u32)
    }
    /// Bits written so far.
    pub fn len(&self) -> usize {
        self.bits.len()
    }
    /// Nothing written yet.
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }
    /// The NAL bytes: a one bit and zeros to the byte boundary (H.264's
    /// `rbsp_trailing_bits()`, H.265's `byte_alignment()`), then `payload`
    /// (slice data, or nothing), with emulation prevention bytes inserted.
    pub fn nal(&self, payload: &[u8]) -> Vec<u8> {
        let mut bits = self.bits.clone();
        bits.push(true);
        while bits.len() % 8 != 0 {
            bits.push(false);
        }
        let mut rbsp: Vec<u8> = bits
            .chunks(8)
            .map(|c| c.iter().fold(0u8, |a, &b| a << 1 | b as u8))
            .collect();
        rbsp.extend_from_slice(payload);
        let mut out = Vec::new();
        let mut zeros = 0;
        for b in rbsp {
            if zeros >= 2 && b <= 3 {
                out.push(3);
                zeros = 0;
            }
            zeros = if b == 0 { zeros + 1 } else { 0 };
            out.push(b);
        }
        out
    }
}
