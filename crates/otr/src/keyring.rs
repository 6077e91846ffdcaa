//! The keys of an encrypted session: our two newest DH key pairs, the peer's
//! two newest DH public keys, the derived keys for each of the (up to four)
//! combinations, their counters, and the MAC keys waiting to be revealed.
//!
//! Rotation follows the spec's "Exchanging Data" section: we send with the
//! newest of our keys the peer has acknowledged (`our_keyid - 1`) and the
//! peer's newest key, advertising our newest; when the peer uses our newest
//! key we make a new one, and when it uses its newest it tells us its next.

use std::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::keys::{DataCiphers, DataKeys, ExtraSymmetricKey, SharedSecret, ct_eq};
use crate::math::modp::{Element, Exponent};
use crate::wire::message::{DataMessage, Header, data_message_to_encrypt, finish_data_message};

/// Why a data message could not be read. Nothing in the session changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataError {
    /// The message names a DH key id we do not have (any more).
    UnknownKey,
    /// The next DH public key it carries is outside `[2, p-2]`.
    BadNextKey,
    /// The MAC does not verify.
    BadMac,
    /// The counter is not larger than the last one accepted for this key
    /// pair: a replay.
    Replay,
    /// Our counter for this key pair is exhausted (never in practice).
    CounterExhausted,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownKey => "the message uses a key we do not have",
            Self::BadNextKey => "the message's next DH key is out of range",
            Self::BadMac => "the message's MAC does not verify",
            Self::Replay => "the message's counter was already used (replay)",
            Self::CounterExhausted => "the message counter is exhausted",
        })
    }
}

impl std::error::Error for DataError {}

/// One of our DH key pairs.
struct OurKey {
    id: u32,
    secret: Exponent,
    public: Element,
    /// The public value's minimal MPI magnitude, sent in every message.
    mpi: Vec<u8>,
}

impl OurKey {
    fn new(id: u32, secret: Exponent, public: Element) -> Self {
        let mpi = public.to_mpi();
        Self {
            id,
            secret,
            public,
            mpi,
        }
    }

    fn generate<R: CryptoRng + ?Sized>(rng: &mut R, id: u32) -> Self {
        let secret = Exponent::random_dh(rng);
        let public = Element::g_pow(&secret);
        Self::new(id, secret, public)
    }
}

/// One of the peer's DH public keys.
struct TheirKey {
    id: u32,
    public: Element,
    /// Its minimal MPI magnitude, to recognise it when it is repeated.
    mpi: Vec<u8>,
}

impl TheirKey {
    fn new(id: u32, public: Element) -> Self {
        let mpi = public.to_mpi();
        Self { id, public, mpi }
    }
}

/// The derived keys and counters of one (our key, their key) combination.
struct Pair {
    our_id: u32,
    their_id: u32,
    keys: DataKeys,
    ciphers: DataCiphers,
    send_counter: u64,
    recv_counter: u64,
    recv_mac_used: bool,
}

/// A decrypted data message.
pub(crate) struct Decrypted {
    /// The plaintext, message and TLVs, zeroized on drop.
    pub(crate) plaintext: Zeroizing<Vec<u8>>,
    /// The extra symmetric key of the key pair this message used.
    pub(crate) extra_key: ExtraSymmetricKey,
}

/// The key state of one encrypted session.
pub(crate) struct KeyRing {
    our_previous: OurKey,
    our_current: OurKey,
    their_previous: Option<TheirKey>,
    their_current: TheirKey,
    pairs: Vec<Pair>,
    /// Receiving MAC keys of discarded pairs, to reveal in the next message.
    old_mac_keys: Vec<u8>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("our_keyid", &self.our_current.id)
            .field("their_keyid", &self.their_current.id)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// The key ring right after an AKE: our AKE key is acknowledged, and we
    /// make our next key at once.
    pub(crate) fn new<R: CryptoRng + ?Sized>(
        rng: &mut R,
        our_keyid: u32,
        our_secret: Exponent,
        our_public: Element,
        their_keyid: u32,
        their_public: Element,
    ) -> Self {
        let next_id = our_keyid.wrapping_add(1).max(1);
        Self {
            our_previous: OurKey::new(our_keyid, our_secret, our_public),
            our_current: OurKey::generate(rng, next_id),
            their_previous: None,
            their_current: TheirKey::new(their_keyid, their_public),
            pairs: Vec::with_capacity(4),
            old_mac_keys: Vec::new(),
        }
    }

    /// Encrypts `plaintext` into the binary form of a data message.
    pub(crate) fn encrypt(
        &mut self,
        header: &Header,
        flags: u8,
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, ExtraSymmetricKey), DataError> {
        let our_id = self.our_previous.id;
        let their_id = self.their_current.id;
        let next_dh = self.our_current.mpi.clone();
        let trailer = self.old_mac_keys.len();
        let pair = self.pair(our_id, their_id).ok_or(DataError::UnknownKey)?;
        pair.send_counter = pair
            .send_counter
            .checked_add(1)
            .ok_or(DataError::CounterExhausted)?;
        let counter = pair.send_counter.to_be_bytes();
        let (mut authenticated, offset) = data_message_to_encrypt(
            header, flags, our_id, their_id, &next_dh, &counter, plaintext, trailer,
        );
        if let Some(payload) = authenticated.get_mut(offset..) {
            pair.ciphers.send_keystream(&counter, payload);
        }
        let mac = pair.ciphers.send_tag(&authenticated);
        let extra = ExtraSymmetricKey(pair.keys.extra);
        let message = finish_data_message(authenticated, &mac, &self.old_mac_keys);
        self.old_mac_keys.clear();
        Ok((message, extra))
    }

    /// Checks and decrypts a data message, then rotates keys as it says.
    /// On error nothing changes.
    pub(crate) fn decrypt<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        message: &DataMessage,
    ) -> Result<Decrypted, DataError> {
        let recipient = message.recipient_keyid;
        let sender = message.sender_keyid;
        if recipient != self.our_current.id && recipient != self.our_previous.id {
            return Err(DataError::UnknownKey);
        }
        let sender_known = sender == self.their_current.id
            || self.their_previous.as_ref().is_some_and(|k| k.id == sender);
        if !sender_known {
            return Err(DataError::UnknownKey);
        }
        // Every received group element is range-checked, the next key too,
        // and before anything changes. A next key we already hold (the
        // sender repeats it until we answer) was checked when it arrived.
        let next_dh = if message.next_dh == self.their_current.mpi {
            None
        } else {
            Some(Element::from_mpi(&message.next_dh).map_err(|_| DataError::BadNextKey)?)
        };
        let pair = self.pair(recipient, sender).ok_or(DataError::UnknownKey)?;
        let mac = pair.ciphers.recv_tag(&message.authenticated);
        if !ct_eq(&mac, &message.mac) {
            return Err(DataError::BadMac);
        }
        let counter = u64::from_be_bytes(message.counter);
        if counter <= pair.recv_counter {
            return Err(DataError::Replay);
        }
        let mut plaintext = Zeroizing::new(message.encrypted.clone());
        pair.ciphers
            .recv_keystream(&message.counter, &mut plaintext);
        pair.recv_counter = counter;
        pair.recv_mac_used = true;
        let extra_key = ExtraSymmetricKey(pair.keys.extra);

        if recipient == self.our_current.id {
            self.rotate_ours(rng);
        }
        if sender == self.their_current.id {
            // The sender's newest key is ours to acknowledge, so its next key
            // must be a new one; repeating the current one is refused, as it
            // would leave two ids for one key.
            match next_dh {
                Some(next_dh) => self.rotate_theirs(next_dh),
                None => return Err(DataError::BadNextKey),
            }
        }
        Ok(Decrypted {
            plaintext,
            extra_key,
        })
    }

    /// The MAC keys that the next outgoing message will reveal.
    #[cfg(test)]
    pub(crate) fn pending_revealed_keys(&self) -> &[u8] {
        &self.old_mac_keys
    }

    /// Every key of the ring, for test vectors.
    #[cfg(feature = "hazmat")]
    pub(crate) fn secrets_for_testing_only(&self) -> crate::hazmat::SessionSecrets {
        use crate::hazmat::{
            OurKey as OurKeyOut, PairKeys, SessionSecrets, TheirKey as TheirKeyOut,
        };
        SessionSecrets {
            our_keys: [&self.our_previous, &self.our_current]
                .into_iter()
                .map(|k| OurKeyOut {
                    keyid: k.id,
                    secret: k.secret.to_bytes_for_testing_only(),
                    public: k.public.to_mpi(),
                })
                .collect(),
            their_keys: self
                .their_previous
                .iter()
                .chain(std::iter::once(&self.their_current))
                .map(|k| TheirKeyOut {
                    keyid: k.id,
                    public: k.public.to_mpi(),
                })
                .collect(),
            pairs: self
                .pairs
                .iter()
                .map(|p| PairKeys {
                    our_keyid: p.our_id,
                    their_keyid: p.their_id,
                    send_aes: p.keys.send_aes,
                    recv_aes: p.keys.recv_aes,
                    send_mac: p.keys.send_mac,
                    recv_mac: p.keys.recv_mac,
                })
                .collect(),
        }
    }

    fn rotate_ours<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) {
        let next_id = self.our_current.id.wrapping_add(1).max(1);
        let next = OurKey::generate(rng, next_id);
        let retired = std::mem::replace(
            &mut self.our_previous,
            std::mem::replace(&mut self.our_current, next),
        );
        self.forget_pairs(|pair| pair.our_id == retired.id);
    }

    fn rotate_theirs(&mut self, next_dh: Element) {
        let next = TheirKey::new(self.their_current.id.wrapping_add(1).max(1), next_dh);
        let retired = self
            .their_previous
            .replace(std::mem::replace(&mut self.their_current, next));
        if let Some(retired) = retired {
            self.forget_pairs(|pair| pair.their_id == retired.id);
        }
    }

    /// Drops the pairs that use a retired key; the receiving MAC keys that
    /// were used are revealed in the next message, as the spec asks.
    fn forget_pairs(&mut self, retired: impl Fn(&Pair) -> bool) {
        let old_mac_keys = &mut self.old_mac_keys;
        self.pairs.retain(|pair| {
            if !retired(pair) {
                return true;
            }
            if pair.recv_mac_used {
                old_mac_keys.extend_from_slice(&pair.keys.recv_mac);
            }
            false
        });
    }

    /// The keys for (our key, their key), derived on first use.
    fn pair(&mut self, our_id: u32, their_id: u32) -> Option<&mut Pair> {
        let index = match self
            .pairs
            .iter()
            .position(|p| p.our_id == our_id && p.their_id == their_id)
        {
            Some(index) => index,
            None => {
                let ours = [&self.our_previous, &self.our_current]
                    .into_iter()
                    .find(|k| k.id == our_id)?;
                let theirs = std::iter::once(&self.their_current)
                    .chain(self.their_previous.as_ref())
                    .find(|k| k.id == their_id)?;
                let shared = SharedSecret::new(&theirs.public.pow(&ours.secret));
                let we_are_high = ours.public.cmp_public(&theirs.public).is_gt();
                let keys = DataKeys::derive(&shared, we_are_high);
                self.pairs.push(Pair {
                    our_id,
                    their_id,
                    ciphers: DataCiphers::new(&keys),
                    keys,
                    send_counter: 0,
                    recv_counter: 0,
                    recv_mac_used: false,
                });
                self.pairs.len() - 1
            }
        };
        self.pairs.get_mut(index)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::wire::message::{Body, EncodedMessage};
    use crate::wire::version::Version;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    const HEADER: Header = Header {
        version: Version::V3,
        sender_instance: 0x100,
        receiver_instance: 0x101,
    };

    /// Two rings as the AKE leaves them: each side's AKE key has id 1.
    fn pair(rng: &mut ChaCha20Rng) -> (KeyRing, KeyRing) {
        let a = Exponent::random_dh(rng);
        let b = Exponent::random_dh(rng);
        let (ga, gb) = (Element::g_pow(&a), Element::g_pow(&b));
        let alice = KeyRing::new(rng, 1, a, ga.clone(), 1, gb.clone());
        let bob = KeyRing::new(rng, 1, b, gb, 1, ga);
        (alice, bob)
    }

    fn data(bytes: &[u8]) -> DataMessage {
        match EncodedMessage::decode(bytes).unwrap().body {
            Body::Data(data) => data,
            _ => panic!("not a data message"),
        }
    }

    fn send(from: &mut KeyRing, text: &[u8]) -> DataMessage {
        data(&from.encrypt(&HEADER, 0, text).unwrap().0)
    }

    #[test]
    fn messages_rotate_keys_and_reveal_used_mac_keys() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let (mut alice, mut bob) = pair(&mut rng);
        for round in 0..6u8 {
            let message = send(&mut alice, &[b'a', round]);
            assert_eq!(
                bob.decrypt(&mut rng, &message)
                    .unwrap()
                    .plaintext
                    .as_slice(),
                &[b'a', round]
            );
            let reply = send(&mut bob, &[b'b', round]);
            assert_eq!(
                alice
                    .decrypt(&mut rng, &reply)
                    .unwrap()
                    .plaintext
                    .as_slice(),
                &[b'b', round]
            );
        }
        // Keys moved on: each side has made new keys, and retired pairs whose
        // receiving MAC keys were used are revealed, 20 bytes each.
        assert!(alice.our_current.id > 3 && bob.their_current.id > 3);
        let revealed = alice.pending_revealed_keys().len();
        assert!(revealed > 0 && revealed % 20 == 0, "{revealed}");
        let message = send(&mut alice, b"with old keys");
        assert_eq!(message.old_mac_keys.len(), revealed);
        assert!(alice.pending_revealed_keys().is_empty());
        bob.decrypt(&mut rng, &message).unwrap();
    }

    #[test]
    fn replays_and_tampering_are_rejected_without_changing_anything() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let (mut alice, mut bob) = pair(&mut rng);
        let first = send(&mut alice, b"one");
        let second = send(&mut alice, b"two");
        bob.decrypt(&mut rng, &second).unwrap();
        // An older counter on the same key pair is a replay, as is the same one.
        assert_eq!(bob.decrypt(&mut rng, &first).err(), Some(DataError::Replay));
        assert_eq!(
            bob.decrypt(&mut rng, &second).err(),
            Some(DataError::Replay)
        );
        let mut tampered = send(&mut alice, b"three");
        let last = tampered.authenticated.len() - 1;
        tampered.authenticated[last] ^= 1;
        assert_eq!(
            bob.decrypt(&mut rng, &tampered).err(),
            Some(DataError::BadMac)
        );
        let mut bad_key = send(&mut alice, b"four");
        bad_key.next_dh = vec![1];
        assert_eq!(
            bob.decrypt(&mut rng, &bad_key).err(),
            Some(DataError::BadNextKey)
        );
        let mut unknown = send(&mut alice, b"five");
        unknown.recipient_keyid = 9;
        assert_eq!(
            bob.decrypt(&mut rng, &unknown).err(),
            Some(DataError::UnknownKey)
        );
        // Still in step: a fresh message reads fine.
        let fresh = send(&mut alice, b"six");
        assert_eq!(
            bob.decrypt(&mut rng, &fresh).unwrap().plaintext.as_slice(),
            b"six"
        );
    }

    #[test]
    fn extra_key_is_shared() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let (mut alice, mut bob) = pair(&mut rng);
        let (bytes, sent_key) = alice.encrypt(&HEADER, 0, b"").unwrap();
        let received = bob.decrypt(&mut rng, &data(&bytes)).unwrap();
        assert_eq!(received.extra_key, sent_key);
    }
}
