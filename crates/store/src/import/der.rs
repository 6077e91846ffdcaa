//! The two DER structures Java writes for a DSA key pair, read with a
//! bounded reader: PKCS#8 `PrivateKeyInfo` (the private key) and X.509
//! `SubjectPublicKeyInfo` (the public key).
//!
//! ```text
//! PrivateKeyInfo       ::= SEQUENCE { INTEGER 0, AlgorithmIdentifier, OCTET STRING { INTEGER x }, [0] attributes OPTIONAL }
//! SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING { INTEGER y } }
//! AlgorithmIdentifier  ::= SEQUENCE { OID 1.2.840.10040.4.1, SEQUENCE { INTEGER p, INTEGER q, INTEGER g } }
//! ```
//!
//! Lengths are checked against what remains before use; integers must be
//! non-negative; trailing bytes are an error.

use zeroize::Zeroizing;

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
/// DER body of the OID `1.2.840.10040.4.1` (id-dsa).
const ID_DSA: [u8; 7] = [0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];
/// Longest integer accepted, in bytes (a 1024-bit `p` is 129 with its sign
/// byte; other sizes are rejected later, with a clearer reason).
const MAX_INTEGER: usize = 1024;

/// DSA domain parameters, as unsigned big-endian magnitudes.
#[derive(PartialEq, Eq)]
pub(crate) struct DsaParams {
    pub(crate) p: Vec<u8>,
    pub(crate) q: Vec<u8>,
    pub(crate) g: Vec<u8>,
}

/// What is wrong with a DER structure.
pub(crate) type DerError = &'static str;

/// Reads a PKCS#8 DSA private key: the parameters and `x`.
pub(crate) fn dsa_private_key(der: &[u8]) -> Result<(DsaParams, Zeroizing<Vec<u8>>), DerError> {
    let mut outer = Der::new(der).sequence_at_end()?;
    let version = outer.integer()?;
    if !version.is_empty() {
        return Err("unknown PKCS#8 version");
    }
    let params = algorithm(&mut outer)?;
    let mut inner = Der::new(outer.element(OCTET_STRING)?);
    let x = Zeroizing::new(inner.integer()?.to_vec());
    inner.end()?;
    // Optional attributes ([0]) are allowed and ignored.
    if let Some(&tag) = outer.rest.first()
        && tag != 0xa0
    {
        return Err("unexpected data after the private key");
    }
    Ok((params, x))
}

/// Reads an X.509 `SubjectPublicKeyInfo` DSA key: the parameters and `y`.
pub(crate) fn dsa_public_key(der: &[u8]) -> Result<(DsaParams, Vec<u8>), DerError> {
    let mut outer = Der::new(der).sequence_at_end()?;
    let params = algorithm(&mut outer)?;
    let bits = outer.element(BIT_STRING)?;
    outer.end()?;
    let Some((&0, key)) = bits.split_first() else {
        return Err("public key bit string is not whole bytes");
    };
    let mut inner = Der::new(key);
    let y = inner.integer()?.to_vec();
    inner.end()?;
    Ok((params, y))
}

fn algorithm(outer: &mut Der<'_>) -> Result<DsaParams, DerError> {
    let mut algorithm = Der::new(outer.element(SEQUENCE)?);
    if algorithm.element(OID)? != ID_DSA {
        return Err("not a DSA key");
    }
    let mut params = Der::new(algorithm.element(SEQUENCE)?);
    algorithm.end()?;
    let p = params.integer()?.to_vec();
    let q = params.integer()?.to_vec();
    let g = params.integer()?.to_vec();
    params.end()?;
    Ok(DsaParams { p, q, g })
}

struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The whole input as one SEQUENCE, nothing after it.
    fn sequence_at_end(mut self) -> Result<Der<'a>, DerError> {
        let body = self.element(SEQUENCE)?;
        self.end()?;
        Ok(Der::new(body))
    }

    /// The body of the next element, which must have tag `tag`.
    fn element(&mut self, tag: u8) -> Result<&'a [u8], DerError> {
        let (&found, rest) = self.rest.split_first().ok_or("structure ends early")?;
        if found != tag {
            return Err("unexpected element");
        }
        let (&first, mut rest) = rest.split_first().ok_or("structure ends early")?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return Err("unsupported length encoding");
            }
            let (len_bytes, after) = rest.split_at_checked(count).ok_or("structure ends early")?;
            rest = after;
            len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        let (body, after) = rest
            .split_at_checked(len)
            .ok_or("length runs past the end")?;
        self.rest = after;
        Ok(body)
    }

    /// A non-negative INTEGER as its magnitude, without leading zeros.
    fn integer(&mut self) -> Result<&'a [u8], DerError> {
        let body = self.element(INTEGER)?;
        if body.len() > MAX_INTEGER {
            return Err("integer too large");
        }
        match body.first() {
            None => Err("empty integer"),
            Some(&b) if b & 0x80 != 0 => Err("negative integer"),
            Some(_) => {
                let first = body.iter().position(|&b| b != 0).unwrap_or(body.len());
                Ok(body.get(first..).unwrap_or_default())
            }
        }
    }

    fn end(&self) -> Result<(), DerError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err("trailing bytes")
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn minimal_structures() {
        // SEQ { SEQ { OID dsa, SEQ { 5, 3, 2 } }, BIT STRING { 0, INT 4 } }
        let algorithm = [
            &[0x30, 0x14, 0x06, 0x07][..],
            &ID_DSA,
            &[0x30, 0x09, 0x02, 0x01, 5, 0x02, 0x01, 3, 0x02, 0x01, 2],
        ]
        .concat();
        let public = [
            &[0x30, 0x1c][..],
            &algorithm,
            &[0x03, 0x04, 0x00, 0x02, 0x01, 0x04],
        ]
        .concat();
        let (params, y) = dsa_public_key(&public).unwrap();
        assert_eq!(
            (params.p, params.q, params.g, y),
            (vec![5], vec![3], vec![2], vec![4])
        );
        let private = [
            &[0x30, 0x1f, 0x02, 0x01, 0x00][..],
            &algorithm,
            &[0x04, 0x04, 0x02, 0x02, 0x00, 0x81],
        ]
        .concat();
        let (_, x) = dsa_private_key(&private).unwrap();
        assert_eq!(*x, vec![0x81]);
        assert!(dsa_private_key(&[&private[..], &[0]].concat()).is_err());
        assert!(dsa_public_key(&public[..public.len() - 1]).is_err());
        assert!(dsa_public_key(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
    }
}
