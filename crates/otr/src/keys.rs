//! Key derivation and the symmetric primitives OTR uses: SHA-1/SHA-256
//! derivations from a DH shared secret, AES-128 in counter mode, HMAC.
//!
//! Every derived key lives in a type that zeroizes itself on drop and whose
//! `Debug` shows nothing secret.

use std::fmt;

use aes::Aes128;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::math::modp::Element;

type Aes128Ctr = ctr::Ctr128BE<Aes128>;

/// The secure session id: the first 64 bits of `h2(0x00)`, to be compared by
/// the two users over another channel.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ssid(pub [u8; 8]);

impl Ssid {
    /// 16 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }
}

impl fmt::Debug for Ssid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ssid({})", self.to_hex())
    }
}

impl fmt::Display for Ssid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The bytes `MPI(s)` of a Diffie-Hellman shared secret `s`, from which every
/// OTR key is derived.
pub(crate) struct SharedSecret {
    secbytes: Zeroizing<Vec<u8>>,
}

impl SharedSecret {
    /// `their_public ^ our_secret`, encoded as an MPI with its length prefix.
    pub(crate) fn new(shared: &Element) -> Self {
        let magnitude = shared.to_secret_mpi();
        let mut secbytes = Zeroizing::new(Vec::with_capacity(4 + magnitude.len()));
        secbytes.extend_from_slice(&(magnitude.len() as u32).to_be_bytes());
        secbytes.extend_from_slice(&magnitude);
        Self { secbytes }
    }

    /// `h1(b) = SHA-1(b || secbytes)`.
    fn h1(&self, b: u8) -> Zeroizing<[u8; 20]> {
        let mut hasher = Sha1::new();
        hasher.update([b]);
        hasher.update(self.secbytes.as_slice());
        Zeroizing::new(hasher.finalize().into())
    }

    /// `h2(b) = SHA-256(b || secbytes)`.
    fn h2(&self, b: u8) -> Zeroizing<[u8; 32]> {
        let mut hasher = Sha256::new();
        hasher.update([b]);
        hasher.update(self.secbytes.as_slice());
        Zeroizing::new(hasher.finalize().into())
    }
}

/// The keys of one authenticated key exchange.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct AkeKeys {
    #[zeroize(skip)]
    pub(crate) ssid: Ssid,
    pub(crate) c: [u8; 16],
    pub(crate) c_prime: [u8; 16],
    pub(crate) m1: [u8; 32],
    pub(crate) m2: [u8; 32],
    pub(crate) m1_prime: [u8; 32],
    pub(crate) m2_prime: [u8; 32],
}

impl AkeKeys {
    pub(crate) fn derive(secret: &SharedSecret) -> Self {
        let h0 = secret.h2(0x00);
        let h1 = secret.h2(0x01);
        let mut ssid = [0u8; 8];
        ssid.copy_from_slice(&h0[..8]);
        let mut c = [0u8; 16];
        let mut c_prime = [0u8; 16];
        c.copy_from_slice(&h1[..16]);
        c_prime.copy_from_slice(&h1[16..]);
        Self {
            ssid: Ssid(ssid),
            c,
            c_prime,
            m1: *secret.h2(0x02),
            m2: *secret.h2(0x03),
            m1_prime: *secret.h2(0x04),
            m2_prime: *secret.h2(0x05),
        }
    }
}

impl fmt::Debug for AkeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AkeKeys {{ ssid: {} }}", self.ssid)
    }
}

/// The keys for one pair (our DH key, their DH key) of a data session.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct DataKeys {
    pub(crate) send_aes: [u8; 16],
    pub(crate) send_mac: [u8; 20],
    pub(crate) recv_aes: [u8; 16],
    pub(crate) recv_mac: [u8; 20],
    pub(crate) extra: [u8; 32],
}

impl DataKeys {
    /// Derives the keys; `we_are_high` is true when our DH public key is
    /// numerically greater than theirs.
    pub(crate) fn derive(secret: &SharedSecret, we_are_high: bool) -> Self {
        let (send_byte, recv_byte) = if we_are_high {
            (0x01, 0x02)
        } else {
            (0x02, 0x01)
        };
        let send = secret.h1(send_byte);
        let recv = secret.h1(recv_byte);
        let mut send_aes = [0u8; 16];
        let mut recv_aes = [0u8; 16];
        send_aes.copy_from_slice(&send[..16]);
        recv_aes.copy_from_slice(&recv[..16]);
        Self {
            send_mac: sha1(&send_aes),
            recv_mac: sha1(&recv_aes),
            send_aes,
            recv_aes,
            extra: *secret.h2(0xff),
        }
    }
}

impl fmt::Debug for DataKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKeys(<secret>)")
    }
}

/// The keyed primitives of one key pair, set up once and reused for every
/// message: the AES key schedules and the HMAC states after the key block.
/// All of them zeroize on drop (RustCrypto's `zeroize` features).
#[derive(Clone)]
pub(crate) struct DataCiphers {
    send_aes: Aes128,
    recv_aes: Aes128,
    send_mac: Hmac<Sha1>,
    recv_mac: Hmac<Sha1>,
}

impl DataCiphers {
    pub(crate) fn new(keys: &DataKeys) -> Self {
        use aes::cipher::KeyInit as _;
        Self {
            send_aes: Aes128::new(&keys.send_aes.into()),
            recv_aes: Aes128::new(&keys.recv_aes.into()),
            send_mac: keyed_hmac_sha1(&keys.send_mac),
            recv_mac: keyed_hmac_sha1(&keys.recv_mac),
        }
    }

    /// Encrypts (or decrypts) what we send, counter `top`.
    pub(crate) fn send_keystream(&self, top: &[u8; 8], data: &mut [u8]) {
        ctr_with(&self.send_aes, top, data);
    }

    /// Decrypts what we receive, counter `top`.
    pub(crate) fn recv_keystream(&self, top: &[u8; 8], data: &mut [u8]) {
        ctr_with(&self.recv_aes, top, data);
    }

    /// The MAC of what we send.
    pub(crate) fn send_tag(&self, data: &[u8]) -> [u8; 20] {
        let mut mac = self.send_mac.clone();
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// The MAC of what we receive.
    pub(crate) fn recv_tag(&self, data: &[u8]) -> [u8; 20] {
        let mut mac = self.recv_mac.clone();
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for DataCiphers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataCiphers(<secret>)")
    }
}

fn ctr_with(cipher: &Aes128, top: &[u8; 8], data: &mut [u8]) {
    use ctr::cipher::InnerIvInit;
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(top);
    let core =
        ctr::CtrCore::<Aes128, ctr::flavors::Ctr128BE>::inner_iv_init(cipher.clone(), &iv.into());
    let mut stream = Aes128Ctr::from_core(core);
    stream.apply_keystream(data);
}

fn keyed_hmac_sha1(key: &[u8; 20]) -> Hmac<Sha1> {
    <Hmac<Sha1> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac())
}

/// The extra symmetric key (TLV 8), for use outside OTR (file transfer...).
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct ExtraSymmetricKey(pub(crate) [u8; 32]);

impl ExtraSymmetricKey {
    /// The 32 key bytes. Handle with care: this is a secret.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for ExtraSymmetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExtraSymmetricKey(<secret>)")
    }
}

/// AES-128 in counter mode, with the 8-byte `top` as the top half of the
/// initial counter block (the bottom half starts at zero).
pub(crate) fn aes_ctr(key: &[u8; 16], top: &[u8; 8], data: &mut [u8]) {
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(top);
    let mut cipher = Aes128Ctr::new(key.into(), &iv.into());
    cipher.apply_keystream(data);
}

/// HMAC-SHA256 over several parts.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA1 (the data path keeps keyed states in `DataCiphers`).
#[cfg(test)]
pub(crate) fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    let mut mac =
        <Hmac<Sha1> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// HMAC accepts keys of any length, so construction cannot fail; this keeps
/// the `Result` handling total without a panic path in the signature.
fn unreachable_hmac<M: KeyInit>() -> M {
    M::new(&Default::default())
}

/// Constant-time comparison of two MACs.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// SHA-1.
pub(crate) fn sha1(data: &[u8]) -> [u8; 20] {
    Sha1::digest(data).into()
}

/// SHA-256.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn aes_ctr_round_trips_and_uses_the_counter() {
        let key = [7u8; 16];
        let mut data = *b"attack at dawn, attack at dawn!!";
        aes_ctr(&key, &[0, 0, 0, 0, 0, 0, 0, 1], &mut data);
        let mut other = *b"attack at dawn, attack at dawn!!";
        aes_ctr(&key, &[0, 0, 0, 0, 0, 0, 0, 2], &mut other);
        assert_ne!(data, other);
        aes_ctr(&key, &[0, 0, 0, 0, 0, 0, 0, 1], &mut data);
        assert_eq!(&data, b"attack at dawn, attack at dawn!!");
    }

    #[test]
    fn aes_ctr_known_answer() {
        // NIST SP 800-38A F.5.1, first block, with our counter layout: the
        // initial block f0f1..ff splits into a top half and a bottom half that
        // we cannot set, so check the zero-counter case against a direct AES.
        use aes::cipher::{BlockCipherEncrypt, KeyInit as _};
        let key = [0x2bu8; 16];
        let mut block = [0u8; 16];
        let cipher = Aes128::new(&key.into());
        let mut expected = [0u8; 16];
        cipher.encrypt_block_b2b(&block.into(), (&mut expected).into());
        aes_ctr(&key, &[0; 8], &mut block);
        assert_eq!(block, expected);
    }

    #[test]
    fn hmac_known_answers() {
        // RFC 4231 test case 2 and RFC 2202 test case 2.
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            crate::hex::encode(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            crate::hex::encode(&hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }

    #[test]
    fn data_keys_are_mirrored_between_the_two_ends() {
        let secret = SharedSecret::new(&Element::from_mpi(&[9, 9, 9]).unwrap());
        let high = DataKeys::derive(&secret, true);
        let low = DataKeys::derive(&secret, false);
        assert_eq!(high.send_aes, low.recv_aes);
        assert_eq!(high.recv_mac, low.send_mac);
        assert_eq!(high.send_mac, sha1(&high.send_aes));
        assert_eq!(high.extra, low.extra);
        assert_ne!(high.send_aes, high.recv_aes);
    }

    #[test]
    fn debug_shows_no_secret() {
        let secret = SharedSecret::new(&Element::from_mpi(&[9, 9, 9]).unwrap());
        assert_eq!(
            format!("{:?}", DataKeys::derive(&secret, true)),
            "DataKeys(<secret>)"
        );
        let ake = AkeKeys::derive(&secret);
        assert_eq!(
            format!("{ake:?}"),
            format!("AkeKeys {{ ssid: {} }}", ake.ssid)
        );
        assert_eq!(
            format!("{:?}", ExtraSymmetricKey([1; 32])),
            "ExtraSymmetricKey(<secret>)"
        );
    }
}
