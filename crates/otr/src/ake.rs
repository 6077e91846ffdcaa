//! The authenticated key exchange (AKE): four messages that give both sides a
//! shared DH secret and each other's long-term DSA keys.
//!
//! ```text
//!  Bob (initiator)                                Alice
//!  DH-Commit        AES_r(g^x), HASH(g^x)  ->
//!                                          <-  DH-Key          g^y
//!  Reveal Signature r, AES_c(X_B), MAC_m2  ->
//!                                          <-  Signature       AES_c'(X_A), MAC_m2'
//! ```
//!
//! [`Ake`] is the per-instance state machine of the spec's "AUTHSTATE_*"
//! states, including the DH-Commit collision rule and retransmissions. It never
//! sends anything itself: each step returns the message body to send and,
//! when the exchange completes, an [`AkeSuccess`] with the new session's keys.

use std::fmt;
use std::time::{Duration, Instant};

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::keys::{AkeKeys, SharedSecret, Ssid, aes_ctr, ct_eq, hmac_sha256, sha256};
use crate::math::dsa::{PrivateKey, PublicKey};
use crate::math::modp::{Element, Exponent};
use crate::wire::message::Body;
use crate::wire::version::Version;

/// How long an unfinished exchange keeps its DH secrets before they are
/// forgotten.
pub(crate) const AKE_EXPIRY: Duration = Duration::from_secs(60);

/// Why an AKE message was rejected. The exchange state is left unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AkeError {
    /// A DH public value was outside `[2, p-2]`.
    BadGroupElement,
    /// The revealed key did not decrypt `g^x` to the committed hash.
    BadCommitment,
    /// The MAC over the encrypted signature did not verify.
    BadMac,
    /// The signed part could not be parsed.
    Malformed,
    /// The signature did not verify under the key it came with.
    BadSignature,
    /// The exchange ended in keys this session already used: a replay of
    /// an earlier exchange's messages. Nothing was installed.
    Replayed,
}

impl fmt::Display for AkeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadGroupElement => "the peer's DH value is out of range",
            Self::BadCommitment => "the revealed DH value does not match its commitment",
            Self::BadMac => "the key-exchange MAC does not verify",
            Self::Malformed => "the signed part of the key exchange is malformed",
            Self::BadSignature => "the key-exchange signature does not verify",
            Self::Replayed => "a completed key exchange was replayed",
        })
    }
}

impl std::error::Error for AkeError {}

/// What completing an exchange gives the session.
pub(crate) struct AkeSuccess {
    pub(crate) version: Version,
    pub(crate) ssid: Ssid,
    pub(crate) their_public_key: PublicKey,
    pub(crate) their_keyid: u32,
    pub(crate) their_dh: Element,
    pub(crate) our_keyid: u32,
    pub(crate) our_dh_secret: Exponent,
    pub(crate) our_dh: Element,
}

/// One step of the exchange: what to send, and whether it is complete.
#[derive(Default)]
pub(crate) struct AkeStep {
    pub(crate) send: Option<Body>,
    pub(crate) done: Option<AkeSuccess>,
}

/// The key id our AKE DH key gets; each exchange starts a fresh session.
const AKE_KEYID: u32 = 1;

/// Our DH key pair for one exchange.
struct DhPair {
    secret: Exponent,
    public: Element,
}

impl DhPair {
    fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let secret = Exponent::random_dh(rng);
        let public = Element::g_pow(&secret);
        Self { secret, public }
    }
}

/// We sent a DH-Commit and wait for a DH-Key.
struct AwaitingDhKey {
    ours: DhPair,
    r: Zeroizing<[u8; 16]>,
    encrypted_gx: Vec<u8>,
    hashed_gx: [u8; 32],
}

/// We sent a DH-Key and wait for a Reveal Signature.
struct AwaitingRevealSig {
    ours: DhPair,
    their_encrypted_gx: Vec<u8>,
    their_hashed_gx: Vec<u8>,
}

/// We sent a Reveal Signature and wait for a Signature.
struct AwaitingSig {
    ours: DhPair,
    their_gy: Element,
    keys: AkeKeys,
    sent: Body,
}

enum State {
    None,
    AwaitingDhKey(AwaitingDhKey),
    AwaitingRevealSig(AwaitingRevealSig),
    AwaitingSig(Box<AwaitingSig>),
}

/// The AKE state of one remote instance.
pub(crate) struct Ake {
    state: State,
    version: Version,
    /// When the current exchange started; it expires [`AKE_EXPIRY`] later.
    started: Option<Instant>,
}

impl fmt::Debug for Ake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::None => "None",
            State::AwaitingDhKey(_) => "AwaitingDhKey",
            State::AwaitingRevealSig(_) => "AwaitingRevealSig",
            State::AwaitingSig(_) => "AwaitingSig",
        };
        f.debug_struct("Ake")
            .field("state", &state)
            .field("version", &self.version)
            .finish()
    }
}

impl Ake {
    pub(crate) fn new() -> Self {
        Self {
            state: State::None,
            version: Version::V3,
            started: None,
        }
    }

    /// Whether an exchange is under way.
    pub(crate) fn in_progress(&self) -> bool {
        !matches!(self.state, State::None)
    }

    /// When the current exchange will be forgotten.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.started.map(|t| t + AKE_EXPIRY)
    }

    /// Forgets an exchange that has been waiting too long, so that its DH
    /// secrets do not linger. Returns whether one was forgotten.
    pub(crate) fn expire(&mut self, now: Instant) -> bool {
        match self.deadline() {
            Some(deadline) if now >= deadline && self.in_progress() => {
                self.reset();
                true
            }
            _ => false,
        }
    }

    /// Forgets the exchange under way.
    pub(crate) fn reset(&mut self) {
        self.state = State::None;
        self.started = None;
    }

    /// Starts an exchange: returns the DH-Commit to send.
    pub(crate) fn start<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        version: Version,
        now: Instant,
    ) -> Body {
        let ours = DhPair::generate(rng);
        let mut r = Zeroizing::new([0u8; 16]);
        rng.fill_bytes(r.as_mut());
        let gx = mpi(&ours.public.to_mpi());
        let hashed_gx = sha256(&gx);
        let mut encrypted_gx = gx;
        aes_ctr(&r, &[0; 8], &mut encrypted_gx);
        let body = Body::DhCommit {
            encrypted_gx: encrypted_gx.clone(),
            hashed_gx: hashed_gx.to_vec(),
        };
        self.version = version;
        self.started = Some(now);
        self.state = State::AwaitingDhKey(AwaitingDhKey {
            ours,
            r,
            encrypted_gx,
            hashed_gx,
        });
        body
    }

    /// Our DH-Commit, if we have sent one and wait for the answer: a new
    /// instance answering our commit gets a copy of this state.
    pub(crate) fn clone_commit(&self) -> Option<Self> {
        let State::AwaitingDhKey(ref committed) = self.state else {
            return None;
        };
        Some(Self {
            state: State::AwaitingDhKey(AwaitingDhKey {
                ours: DhPair {
                    secret: committed.ours.secret.clone(),
                    public: committed.ours.public.clone(),
                },
                r: committed.r.clone(),
                encrypted_gx: committed.encrypted_gx.clone(),
                hashed_gx: committed.hashed_gx,
            }),
            version: self.version,
            started: self.started,
        })
    }

    /// A DH-Commit arrived.
    pub(crate) fn handle_dh_commit<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        version: Version,
        encrypted_gx: Vec<u8>,
        hashed_gx: Vec<u8>,
        now: Instant,
    ) -> AkeStep {
        match std::mem::replace(&mut self.state, State::None) {
            // The collision rule: when both sides committed, the commit with
            // the larger hash (as an unsigned big-endian number) wins.
            State::AwaitingDhKey(ours)
                if version == self.version && ours.hashed_gx.as_slice() > hashed_gx.as_slice() =>
            {
                let body = Body::DhCommit {
                    encrypted_gx: ours.encrypted_gx.clone(),
                    hashed_gx: ours.hashed_gx.to_vec(),
                };
                self.state = State::AwaitingDhKey(ours);
                return AkeStep {
                    send: Some(body),
                    done: None,
                };
            }
            // Retransmit our DH-Key, but remember the newer commitment.
            State::AwaitingRevealSig(mut waiting) if version == self.version => {
                waiting.their_encrypted_gx = encrypted_gx;
                waiting.their_hashed_gx = hashed_gx;
                let body = Body::DhKey {
                    gy: waiting.ours.public.to_mpi(),
                };
                self.state = State::AwaitingRevealSig(waiting);
                return AkeStep {
                    send: Some(body),
                    done: None,
                };
            }
            // Anything else is forgotten in favour of the peer's commit.
            _ => {}
        }
        let ours = DhPair::generate(rng);
        let body = Body::DhKey {
            gy: ours.public.to_mpi(),
        };
        self.version = version;
        self.started = Some(now);
        self.state = State::AwaitingRevealSig(AwaitingRevealSig {
            ours,
            their_encrypted_gx: encrypted_gx,
            their_hashed_gx: hashed_gx,
        });
        AkeStep {
            send: Some(body),
            done: None,
        }
    }

    /// A DH-Key arrived.
    pub(crate) fn handle_dh_key<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        key: &PrivateKey,
        version: Version,
        gy: &[u8],
    ) -> Result<AkeStep, AkeError> {
        if version != self.version {
            return Ok(AkeStep::default());
        }
        match &self.state {
            State::AwaitingDhKey(_) => {}
            State::AwaitingSig(waiting) => {
                // A retransmitted DH-Key gets our Reveal Signature again;
                // another one is ignored.
                let same = Element::from_mpi(gy).is_ok_and(|gy| gy == waiting.their_gy);
                let send = same.then(|| waiting.sent.clone());
                return Ok(AkeStep { send, done: None });
            }
            State::None | State::AwaitingRevealSig(_) => return Ok(AkeStep::default()),
        }
        let their_gy = Element::from_mpi(gy).map_err(|_| AkeError::BadGroupElement)?;
        let State::AwaitingDhKey(committed) = std::mem::replace(&mut self.state, State::None)
        else {
            return Ok(AkeStep::default());
        };
        let secret = SharedSecret::new(&their_gy.pow(&committed.ours.secret));
        let keys = AkeKeys::derive(&secret);
        let (encrypted_signature, mac) = signed_part(
            rng,
            key,
            &keys.m1,
            &keys.c,
            &keys.m2,
            &committed.ours.public,
            &their_gy,
        );
        let sent = Body::RevealSignature {
            revealed_key: committed.r.to_vec(),
            encrypted_signature,
            mac,
        };
        self.state = State::AwaitingSig(Box::new(AwaitingSig {
            ours: committed.ours,
            their_gy,
            keys,
            sent: sent.clone(),
        }));
        Ok(AkeStep {
            send: Some(sent),
            done: None,
        })
    }

    /// A Reveal Signature arrived.
    pub(crate) fn handle_reveal_signature<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        key: &PrivateKey,
        version: Version,
        revealed_key: &[u8],
        encrypted_signature: &[u8],
        mac: &[u8; 20],
    ) -> Result<AkeStep, AkeError> {
        let State::AwaitingRevealSig(waiting) = &self.state else {
            return Ok(AkeStep::default());
        };
        if version != self.version {
            return Ok(AkeStep::default());
        }
        let r: [u8; 16] = revealed_key
            .try_into()
            .map_err(|_| AkeError::BadCommitment)?;
        let r = Zeroizing::new(r);
        let mut gx_mpi = waiting.their_encrypted_gx.clone();
        aes_ctr(&r, &[0; 8], &mut gx_mpi);
        if !ct_eq(&sha256(&gx_mpi), &waiting.their_hashed_gx) {
            return Err(AkeError::BadCommitment);
        }
        let gx_magnitude = parse_mpi(&gx_mpi).ok_or(AkeError::BadCommitment)?;
        let their_gx = Element::from_mpi(gx_magnitude).map_err(|_| AkeError::BadGroupElement)?;
        let secret = SharedSecret::new(&their_gx.pow(&waiting.ours.secret));
        let keys = AkeKeys::derive(&secret);
        let (their_public_key, their_keyid) = verify_signed_part(
            &keys.m1,
            &keys.c,
            &keys.m2,
            encrypted_signature,
            mac,
            &their_gx,
            &waiting.ours.public,
        )?;
        let (encrypted_signature, mac) = signed_part(
            rng,
            key,
            &keys.m1_prime,
            &keys.c_prime,
            &keys.m2_prime,
            &waiting.ours.public,
            &their_gx,
        );
        let State::AwaitingRevealSig(waiting) = std::mem::replace(&mut self.state, State::None)
        else {
            return Ok(AkeStep::default());
        };
        self.started = None;
        Ok(AkeStep {
            send: Some(Body::Signature {
                encrypted_signature,
                mac,
            }),
            done: Some(AkeSuccess {
                version,
                ssid: keys.ssid,
                their_public_key,
                their_keyid,
                their_dh: their_gx,
                our_keyid: AKE_KEYID,
                our_dh_secret: waiting.ours.secret,
                our_dh: waiting.ours.public,
            }),
        })
    }

    /// A Signature arrived.
    pub(crate) fn handle_signature(
        &mut self,
        version: Version,
        encrypted_signature: &[u8],
        mac: &[u8; 20],
    ) -> Result<AkeStep, AkeError> {
        let State::AwaitingSig(waiting) = &self.state else {
            return Ok(AkeStep::default());
        };
        if version != self.version {
            return Ok(AkeStep::default());
        }
        let (their_public_key, their_keyid) = verify_signed_part(
            &waiting.keys.m1_prime,
            &waiting.keys.c_prime,
            &waiting.keys.m2_prime,
            encrypted_signature,
            mac,
            &waiting.their_gy,
            &waiting.ours.public,
        )?;
        let State::AwaitingSig(waiting) = std::mem::replace(&mut self.state, State::None) else {
            return Ok(AkeStep::default());
        };
        self.started = None;
        Ok(AkeStep {
            send: None,
            done: Some(AkeSuccess {
                version,
                ssid: waiting.keys.ssid,
                their_public_key,
                their_keyid,
                their_dh: waiting.their_gy,
                our_keyid: AKE_KEYID,
                our_dh_secret: waiting.ours.secret,
                our_dh: waiting.ours.public,
            }),
        })
    }
}

/// Builds `AES_c(X)` and `MAC_m2(AES_c(X))` where `X = pub, keyid, sig(M)`
/// and `M = MAC_m1(g^ours, g^theirs, pub, keyid)`.
fn signed_part<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PrivateKey,
    m1: &[u8; 32],
    c: &[u8; 16],
    m2: &[u8; 32],
    ours: &Element,
    theirs: &Element,
) -> (Vec<u8>, [u8; 20]) {
    let public = key.public_key().encode();
    let keyid = AKE_KEYID.to_be_bytes();
    let m = hmac_sha256(
        m1,
        &[
            &mpi(&ours.to_mpi()),
            &mpi(&theirs.to_mpi()),
            &public,
            &keyid,
        ],
    );
    let signature = key.sign(rng, &m);
    let mut x = public;
    x.extend_from_slice(&keyid);
    x.extend_from_slice(&signature);
    aes_ctr(c, &[0; 8], &mut x);
    let mac = ake_mac(m2, &x);
    (x, mac)
}

/// Checks the MAC, decrypts and verifies the other side's signed part.
/// `theirs` is the sender's DH public value, `ours` the receiver's.
fn verify_signed_part(
    m1: &[u8; 32],
    c: &[u8; 16],
    m2: &[u8; 32],
    encrypted: &[u8],
    mac: &[u8; 20],
    theirs: &Element,
    ours: &Element,
) -> Result<(PublicKey, u32), AkeError> {
    if !ct_eq(&ake_mac(m2, encrypted), mac) {
        return Err(AkeError::BadMac);
    }
    let mut x = Zeroizing::new(encrypted.to_vec());
    aes_ctr(c, &[0; 8], &mut x);
    let (public_key, used) = PublicKey::decode(&x).map_err(|_| AkeError::Malformed)?;
    let rest = x.get(used..).ok_or(AkeError::Malformed)?;
    if rest.len() < 4 {
        return Err(AkeError::Malformed);
    }
    let (keyid_bytes, signature) = rest.split_at(4);
    let keyid = u32::from_be_bytes([
        keyid_bytes[0],
        keyid_bytes[1],
        keyid_bytes[2],
        keyid_bytes[3],
    ]);
    if keyid == 0 {
        return Err(AkeError::Malformed);
    }
    let public_bytes = x.get(..used).ok_or(AkeError::Malformed)?;
    let m = hmac_sha256(
        m1,
        &[
            &mpi(&theirs.to_mpi()),
            &mpi(&ours.to_mpi()),
            public_bytes,
            keyid_bytes,
        ],
    );
    if !public_key.verify(&m, signature) {
        return Err(AkeError::BadSignature);
    }
    Ok((public_key, keyid))
}

/// The AKE MAC: the first 160 bits of HMAC-SHA256 over DATA(encrypted),
/// length prefix included.
fn ake_mac(key: &[u8; 32], encrypted: &[u8]) -> [u8; 20] {
    let length = (encrypted.len() as u32).to_be_bytes();
    let full = hmac_sha256(key, &[&length, encrypted]);
    let mut mac = [0u8; 20];
    mac.copy_from_slice(&full[..20]);
    mac
}

/// An MPI: 4-byte length, then the magnitude.
fn mpi(magnitude: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + magnitude.len());
    out.extend_from_slice(&(magnitude.len() as u32).to_be_bytes());
    out.extend_from_slice(magnitude);
    out
}

/// Reads one MPI that must fill `bytes` exactly; returns its magnitude.
fn parse_mpi(bytes: &[u8]) -> Option<&[u8]> {
    let (length, magnitude) = bytes.split_first_chunk::<4>()?;
    (u32::from_be_bytes(*length) as usize == magnitude.len()).then_some(magnitude)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use std::sync::OnceLock;

    fn keys() -> &'static (PrivateKey, PrivateKey) {
        static KEYS: OnceLock<(PrivateKey, PrivateKey)> = OnceLock::new();
        KEYS.get_or_init(|| {
            let mut rng = ChaCha20Rng::seed_from_u64(11);
            (
                PrivateKey::generate(&mut rng),
                PrivateKey::generate(&mut rng),
            )
        })
    }

    fn commit(body: &Body) -> (Vec<u8>, Vec<u8>) {
        match body {
            Body::DhCommit {
                encrypted_gx,
                hashed_gx,
            } => (encrypted_gx.clone(), hashed_gx.clone()),
            _ => panic!("not a commit"),
        }
    }

    /// Runs bob (initiator) and alice to the Reveal Signature; returns it.
    fn to_reveal(rng: &mut ChaCha20Rng, bob: &mut Ake, alice: &mut Ake) -> Body {
        let now = Instant::now();
        let (bob_key, _) = keys();
        let (encrypted_gx, hashed_gx) = commit(&bob.start(rng, Version::V3, now));
        let dh_key = alice
            .handle_dh_commit(rng, Version::V3, encrypted_gx, hashed_gx, now)
            .send
            .unwrap();
        let Body::DhKey { gy } = dh_key else { panic!() };
        bob.handle_dh_key(rng, bob_key, Version::V3, &gy)
            .unwrap()
            .send
            .unwrap()
    }

    #[test]
    fn full_exchange_agrees() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (bob_key, alice_key) = keys();
        let (mut bob, mut alice) = (Ake::new(), Ake::new());
        let Body::RevealSignature {
            revealed_key,
            encrypted_signature,
            mac,
        } = to_reveal(&mut rng, &mut bob, &mut alice)
        else {
            panic!()
        };
        let step = alice
            .handle_reveal_signature(
                &mut rng,
                alice_key,
                Version::V3,
                &revealed_key,
                &encrypted_signature,
                &mac,
            )
            .unwrap();
        let alice_done = step.done.unwrap();
        let Some(Body::Signature {
            encrypted_signature,
            mac,
        }) = step.send
        else {
            panic!()
        };
        let bob_done = bob
            .handle_signature(Version::V3, &encrypted_signature, &mac)
            .unwrap()
            .done
            .unwrap();
        assert_eq!(alice_done.ssid, bob_done.ssid);
        assert_eq!(&alice_done.their_public_key, bob_key.public_key());
        assert_eq!(&bob_done.their_public_key, alice_key.public_key());
        assert_eq!(alice_done.their_dh, bob_done.our_dh);
        assert!(!alice.in_progress() && !bob.in_progress());
    }

    #[test]
    fn tampering_is_detected_and_leaves_the_state_alone() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let (_, alice_key) = keys();
        let (mut bob, mut alice) = (Ake::new(), Ake::new());
        let Body::RevealSignature {
            revealed_key,
            encrypted_signature,
            mac,
        } = to_reveal(&mut rng, &mut bob, &mut alice)
        else {
            panic!()
        };
        let mut bad_mac = mac;
        bad_mac[0] ^= 1;
        let result = alice.handle_reveal_signature(
            &mut rng,
            alice_key,
            Version::V3,
            &revealed_key,
            &encrypted_signature,
            &bad_mac,
        );
        assert_eq!(result.err(), Some(AkeError::BadMac));
        let mut bad_r = revealed_key.clone();
        bad_r[3] ^= 1;
        let result = alice.handle_reveal_signature(
            &mut rng,
            alice_key,
            Version::V3,
            &bad_r,
            &encrypted_signature,
            &mac,
        );
        assert_eq!(result.err(), Some(AkeError::BadCommitment));
        // The genuine message still completes the exchange.
        let step = alice
            .handle_reveal_signature(
                &mut rng,
                alice_key,
                Version::V3,
                &revealed_key,
                &encrypted_signature,
                &mac,
            )
            .unwrap();
        assert!(step.done.is_some());
    }

    #[test]
    fn out_of_range_dh_values_are_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (bob_key, _) = keys();
        let mut bob = Ake::new();
        bob.start(&mut rng, Version::V3, Instant::now());
        for bad in [vec![], vec![1], vec![0xff; 192]] {
            let result = bob.handle_dh_key(&mut rng, bob_key, Version::V3, &bad);
            assert_eq!(result.err(), Some(AkeError::BadGroupElement));
        }
        assert!(bob.in_progress());
    }

    #[test]
    fn a_repeated_dh_key_gets_the_same_reveal_signature() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let (bob_key, _) = keys();
        let now = Instant::now();
        let (mut bob, mut alice) = (Ake::new(), Ake::new());
        let (encrypted_gx, hashed_gx) = commit(&bob.start(&mut rng, Version::V3, now));
        let Some(Body::DhKey { gy }) = alice
            .handle_dh_commit(&mut rng, Version::V3, encrypted_gx, hashed_gx, now)
            .send
        else {
            panic!()
        };
        let first = bob
            .handle_dh_key(&mut rng, bob_key, Version::V3, &gy)
            .unwrap()
            .send;
        let again = bob
            .handle_dh_key(&mut rng, bob_key, Version::V3, &gy)
            .unwrap()
            .send;
        assert!(first.is_some());
        assert_eq!(first, again);
    }

    #[test]
    fn the_larger_commit_hash_wins_a_collision() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let now = Instant::now();
        let (mut a, mut b) = (Ake::new(), Ake::new());
        let a_commit = commit(&a.start(&mut rng, Version::V3, now));
        let b_commit = commit(&b.start(&mut rng, Version::V3, now));
        let a_reply = a
            .handle_dh_commit(
                &mut rng,
                Version::V3,
                b_commit.0.clone(),
                b_commit.1.clone(),
                now,
            )
            .send;
        let b_reply = b
            .handle_dh_commit(
                &mut rng,
                Version::V3,
                a_commit.0.clone(),
                a_commit.1.clone(),
                now,
            )
            .send;
        let (winner_reply, loser_reply) = if a_commit.1 > b_commit.1 {
            (a_reply, b_reply)
        } else {
            (b_reply, a_reply)
        };
        assert!(
            matches!(winner_reply, Some(Body::DhCommit { .. })),
            "the winner resends its commit"
        );
        assert!(
            matches!(loser_reply, Some(Body::DhKey { .. })),
            "the loser answers the winner's commit"
        );
    }

    #[test]
    fn stale_exchanges_expire() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let now = Instant::now();
        let mut ake = Ake::new();
        ake.start(&mut rng, Version::V2, now);
        assert!(!ake.expire(now + AKE_EXPIRY - Duration::from_millis(1)));
        assert!(ake.expire(now + AKE_EXPIRY));
        assert!(!ake.in_progress());
        assert_eq!(ake.deadline(), None);
    }
}
