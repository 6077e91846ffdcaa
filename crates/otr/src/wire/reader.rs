//! A bounds-checked reader over untrusted bytes.

use crate::wire::error::DecodeError;

/// The longest MPI magnitude [`Reader::mpi`] accepts, in bytes.
///
/// OTR's largest MPIs are 1536-bit group elements (192 bytes) and DSA
/// parameters; 4096 bytes leaves room for 32768-bit DSA keys while keeping
/// a hostile length from costing more than a few kilobytes.
pub const MAX_MPI_LEN: usize = 4096;

/// Reads OTR's wire types from a byte slice, front to back.
///
/// Every read checks what remains first and fails with
/// [`DecodeError::Truncated`] rather than panicking; nothing is allocated
/// here, so a hostile length prefix costs nothing.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    input: &'a [u8],
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Self { input, rest: input }
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        let [byte] = self.array::<1>()?;
        Ok(byte)
    }

    /// Reads a big-endian 16-bit integer (OTR's SHORT).
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian 32-bit integer (OTR's INT).
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Reads the next `len` bytes.
    pub fn bytes(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        let (taken, rest) = self
            .rest
            .split_at_checked(len)
            .ok_or(DecodeError::Truncated)?;
        self.rest = rest;
        Ok(taken)
    }

    /// Reads exactly `N` bytes into an array (OTR's CTR and MAC fields).
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let (taken, rest) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(DecodeError::Truncated)?;
        self.rest = rest;
        Ok(*taken)
    }

    /// Reads OTR's DATA: a 4-byte length, then that many bytes.
    ///
    /// The length is checked against what remains before anything is
    /// taken.
    pub fn data(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u32()?;
        self.bytes(usize::try_from(len).map_err(|_| DecodeError::Truncated)?)
    }

    /// Reads OTR's MPI with the [`MAX_MPI_LEN`] cap.
    ///
    /// See [`Reader::mpi_capped`].
    pub fn mpi(&mut self) -> Result<&'a [u8], DecodeError> {
        self.mpi_capped(MAX_MPI_LEN)
    }

    /// Reads OTR's MPI: a 4-byte length, then the big-endian magnitude.
    ///
    /// The magnitude is returned exactly as received, including any leading
    /// zero bytes a non-minimal encoder left in, so that MACs and signatures
    /// can be checked over the received bytes. A length above `max` is
    /// [`DecodeError::TooLong`].
    pub fn mpi_capped(&mut self, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = self.u32()?;
        let len_usize = usize::try_from(len).map_err(|_| DecodeError::TooLong { len, max })?;
        if len_usize > max {
            return Err(DecodeError::TooLong { len, max });
        }
        self.bytes(len_usize)
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// How many bytes remain unread.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Every byte read so far, from the start of the input.
    ///
    /// Lets a caller keep the exact received bytes a MAC covers.
    pub fn consumed(&self) -> &'a [u8] {
        let read = self.input.len().saturating_sub(self.rest.len());
        self.input.get(..read).unwrap_or_default()
    }

    /// Ends reading; fails with [`DecodeError::TrailingBytes`] if any byte
    /// is left.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn reads_integers_big_endian() {
        let mut r = Reader::new(&[1, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]);
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.u16().unwrap(), 0x0203);
        assert_eq!(r.u32().unwrap(), 0x0405_0607);
        assert!(r.is_empty());
        r.finish().unwrap();
    }

    #[test]
    fn integers_are_unsigned() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(r.u32().unwrap(), u32::MAX);
    }

    #[test]
    fn truncated_reads_fail_without_consuming() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32(), Err(DecodeError::Truncated));
        assert_eq!(r.remaining(), 3);
        assert_eq!(r.bytes(4), Err(DecodeError::Truncated));
        assert_eq!(r.array::<4>(), Err(DecodeError::Truncated));
        assert_eq!(r.bytes(3).unwrap(), &[1, 2, 3]);
        assert_eq!(r.u8(), Err(DecodeError::Truncated));
        assert_eq!(r.u16(), Err(DecodeError::Truncated));
    }

    #[test]
    fn data_reads_length_then_bytes() {
        let mut r = Reader::new(&[0, 0, 0, 2, 0xaa, 0xbb, 0xcc]);
        assert_eq!(r.data().unwrap(), &[0xaa, 0xbb]);
        assert_eq!(r.remaining(), 1);
        assert_eq!(r.finish(), Err(DecodeError::TrailingBytes));
    }

    #[test]
    fn data_with_huge_length_is_truncated_not_allocated() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 1]);
        assert_eq!(r.data(), Err(DecodeError::Truncated));
    }

    #[test]
    fn empty_data_is_fine() {
        let mut r = Reader::new(&[0, 0, 0, 0]);
        assert_eq!(r.data().unwrap(), &[] as &[u8]);
        r.finish().unwrap();
    }

    #[test]
    fn mpi_keeps_leading_zeros_as_received() {
        let mut r = Reader::new(&[0, 0, 0, 3, 0, 0x01, 0x02]);
        assert_eq!(r.mpi().unwrap(), &[0, 1, 2]);
    }

    #[test]
    fn mpi_over_the_cap_is_too_long() {
        let mut input = vec![0, 0, 0x10, 0x01];
        input.resize(4 + 4097, 7);
        assert_eq!(
            Reader::new(&input).mpi(),
            Err(DecodeError::TooLong {
                len: 4097,
                max: MAX_MPI_LEN
            })
        );
        let mut r = Reader::new(&[0, 0, 0, 3, 1, 2, 3]);
        assert_eq!(
            r.mpi_capped(2),
            Err(DecodeError::TooLong { len: 3, max: 2 })
        );
    }

    #[test]
    fn consumed_tracks_the_read_prefix() {
        let input = [1, 2, 3, 4];
        let mut r = Reader::new(&input);
        assert_eq!(r.consumed(), &[] as &[u8]);
        r.u16().unwrap();
        assert_eq!(r.consumed(), &[1, 2]);
        r.u16().unwrap();
        assert_eq!(r.consumed(), &input);
    }
}
