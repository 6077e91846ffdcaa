//! Builds OTR's wire types into a byte vector.

/// Appends OTR's wire types to a growing byte vector.
#[derive(Clone, Debug, Default)]
pub struct Writer {
    out: Vec<u8>,
}

impl Writer {
    /// Starts an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Continues writing after `prefix`.
    pub fn after(prefix: Vec<u8>) -> Self {
        Self { out: prefix }
    }

    /// Writes one byte.
    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.out.push(value);
        self
    }

    /// Writes a big-endian 16-bit integer (OTR's SHORT).
    pub fn u16(&mut self, value: u16) -> &mut Self {
        self.raw(&value.to_be_bytes())
    }

    /// Writes a big-endian 32-bit integer (OTR's INT).
    pub fn u32(&mut self, value: u32) -> &mut Self {
        self.raw(&value.to_be_bytes())
    }

    /// Writes bytes as they are, with no length (CTR, MAC and the like).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.out.extend_from_slice(bytes);
        self
    }

    /// Writes OTR's DATA: a 4-byte length, then the bytes.
    pub fn data(&mut self, bytes: &[u8]) -> &mut Self {
        self.u32(wire_len(bytes)).raw(bytes)
    }

    /// Writes OTR's MPI in its minimal form: leading zero bytes of
    /// `magnitude` are dropped, so zero is written with length 0.
    ///
    /// Peers MAC and sign the encoding, so a stray leading zero would break
    /// interoperability.
    pub fn mpi(&mut self, magnitude: &[u8]) -> &mut Self {
        let first_nonzero = magnitude
            .iter()
            .position(|&byte| byte != 0)
            .unwrap_or(magnitude.len());
        self.data(magnitude.get(first_nonzero..).unwrap_or_default())
    }

    /// The number of bytes written so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// Returns the bytes written.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// The 4-byte length of a field.
///
/// No OTR field comes near 4 GiB (messages are capped far lower before they
/// are built); a larger one saturates, which every reader rejects as
/// truncated rather than misreading a wrapped length.
fn wire_len(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.len()).unwrap_or(u32::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::wire::reader::Reader;

    #[test]
    fn writes_integers_big_endian() {
        let mut w = Writer::new();
        w.u8(1).u16(0x0203).u32(0x0405_0607);
        assert_eq!(w.finish(), [1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn data_has_a_length_prefix() {
        let mut w = Writer::new();
        w.data(b"ab").data(b"");
        assert_eq!(w.finish(), [0, 0, 0, 2, b'a', b'b', 0, 0, 0, 0]);
    }

    #[test]
    fn mpi_is_minimal() {
        let mut w = Writer::new();
        w.mpi(&[0, 0, 1, 0]);
        assert_eq!(w.finish(), [0, 0, 0, 2, 1, 0]);
    }

    #[test]
    fn mpi_zero_has_length_zero() {
        for zero in [&[][..], &[0], &[0, 0, 0]] {
            let mut w = Writer::new();
            w.mpi(zero);
            assert_eq!(w.finish(), [0, 0, 0, 0]);
        }
    }

    #[test]
    fn mpi_with_high_bit_gets_no_sign_byte() {
        let mut w = Writer::new();
        w.mpi(&[0x80, 0x01]);
        assert_eq!(w.finish(), [0, 0, 0, 2, 0x80, 0x01]);
    }

    #[test]
    fn after_continues_a_buffer() {
        let mut w = Writer::after(vec![9]);
        w.u8(8);
        assert_eq!(w.len(), 2);
        assert!(!w.is_empty());
        assert_eq!(w.finish(), [9, 8]);
    }

    #[test]
    fn round_trips_through_reader() {
        let mut w = Writer::new();
        w.u8(7)
            .u16(65535)
            .u32(u32::MAX)
            .data(b"xyz")
            .mpi(&[0, 5])
            .raw(&[1; 8]);
        let bytes = w.finish();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8().unwrap(), 7);
        assert_eq!(r.u16().unwrap(), 65535);
        assert_eq!(r.u32().unwrap(), u32::MAX);
        assert_eq!(r.data().unwrap(), b"xyz");
        assert_eq!(r.mpi().unwrap(), &[5]);
        assert_eq!(r.array::<8>().unwrap(), [1; 8]);
        r.finish().unwrap();
    }
}
