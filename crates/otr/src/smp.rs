//! The Socialist Millionaires' Protocol (SMP): checking that both ends of a
//! private conversation know the same secret, without revealing it.
//!
//! [`Smp`] is one side's state machine. It does no I/O and never calls back:
//! every input ([`Smp::start`], [`Smp::answer`], [`Smp::abort`],
//! [`Smp::handle`]) returns an [`SmpStep`] holding the TLV to send, if any,
//! and what to tell the user, if anything. The question "what is your
//! answer?" ([`SmpEvent::AskForSecret`], [`SmpEvent::AskForAnswer`]) ends
//! a step; the answer comes later through [`Smp::answer`].
//!
//! The secret compared is `SHA-256(0x01 || initiator fingerprint ||
//! responder fingerprint || ssid || user secret)`, so a success also proves
//! that no man in the middle holds either session key.
//!
//! Behaviour towards the peer follows libotr 4.1 as driven by pidgin-otr:
//! - a message that is not expected in the current state: an abort is sent,
//!   the exchange is forgotten, [`SmpEvent::Error`];
//! - a message that fails a range check, a zero-knowledge proof, or does not
//!   parse: an abort is sent, the exchange is forgotten, [`SmpEvent::Cheated`];
//! - an abort received: the exchange is forgotten, nothing is sent,
//!   [`SmpEvent::Abort`] (also when nothing was under way);
//! - the responder sends message 4 whether or not the secrets matched.
//!
//! Every exponent sent is `r - a*c mod q` for a fresh random `r`, so it is
//! public; everything else (the secret, the DH exponents, the blinding
//! exponents) lives in [`Exponent`]s, computed in constant time and zeroized
//! when the state that holds them is dropped.

use std::fmt;

use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::math::modp::{Element, Exponent, MODULUS_BYTES, PublicExponent};
use crate::wire::reader::Reader;
use crate::wire::tlv::{self, Tlv};
use crate::wire::writer::Writer;

/// What the caller learns from an SMP step.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmpEvent {
    /// The peer started an exchange without a question: ask the user for
    /// the shared secret, then call [`Smp::answer`].
    AskForSecret,
    /// The peer started an exchange with a question: show it, ask the user
    /// for the answer, then call [`Smp::answer`].
    AskForAnswer {
        /// The peer's question, decoded as UTF-8 with invalid sequences
        /// replaced. It is the peer's text: display it as untrusted.
        question: String,
    },
    /// We initiated, the peer answered, and our third message is on its way.
    InProgress,
    /// Both sides used the same secret.
    ///
    /// When we were the responder to a question ([`Smp::answered_question`]),
    /// this does not show who the peer is (the asker chose the question);
    /// libotr then leaves the fingerprint's trust unchanged.
    Success,
    /// The secrets differ.
    Failure,
    /// The peer aborted the exchange (or sent an abort while none was under
    /// way). Nothing is sent in reply.
    Abort,
    /// The peer sent a malformed SMP message, a value out of range, or a
    /// zero-knowledge proof that does not verify. An abort has been sent and
    /// the exchange forgotten.
    Cheated,
    /// An SMP message arrived that the current state does not expect (an
    /// abort has been sent and the exchange forgotten), or the caller asked
    /// for something impossible (answering with no request pending, a
    /// question that cannot be sent; nothing is sent then).
    Error,
}

/// The values the secret is bound to.
#[derive(Debug, Clone, Copy)]
pub struct SmpContext<'a> {
    /// The fingerprint of our long-term public key in this session.
    pub our_fingerprint: &'a [u8; 20],
    /// The fingerprint of the peer's long-term public key in this session.
    pub their_fingerprint: &'a [u8; 20],
    /// The secure session id of the AKE that set up this session.
    pub ssid: &'a [u8; 8],
}

/// The outcome of one input to [`Smp`]: a TLV to send in a data message (an
/// empty heartbeat message carrying it, as libotr does), and an event for the
/// user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct SmpStep {
    /// The record to send to the peer, if any.
    pub send: Option<Tlv>,
    /// What to tell the user, if anything.
    pub event: Option<SmpEvent>,
}

impl SmpStep {
    const NOTHING: Self = Self {
        send: None,
        event: None,
    };

    fn event(event: SmpEvent) -> Self {
        Self {
            send: None,
            event: Some(event),
        }
    }

    fn send(tlv: Tlv, event: Option<SmpEvent>) -> Self {
        Self {
            send: Some(tlv),
            event,
        }
    }
}

/// One side of the Socialist Millionaires' Protocol.
///
/// Reset it (or drop it) whenever the session leaves the encrypted state.
#[derive(Default)]
pub struct Smp {
    state: State,
    /// Whether the current (or last completed) exchange was one in which we
    /// answered the peer's question.
    answered_question: bool,
}

impl Smp {
    /// A state machine with no exchange under way.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts an exchange as the initiator: returns SMP message 1, or 1Q when
    /// a question is given.
    ///
    /// An exchange already under way (in either role) is forgotten and a new
    /// one begins, as libotr does; no abort is sent for the old one. A
    /// question containing a NUL, or so long that the record would exceed
    /// 65535 bytes, is refused with [`SmpEvent::Error`] and nothing changes.
    pub fn start<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        ctx: &SmpContext,
        question: Option<&str>,
        secret: &[u8],
    ) -> SmpStep {
        if question.is_some_and(|q| q.as_bytes().contains(&0)) {
            return SmpStep::event(SmpEvent::Error);
        }
        let x = combined_secret(ctx.our_fingerprint, ctx.their_fingerprint, ctx.ssid, secret);
        let a2 = Exponent::random_mod_q(rng);
        let a3 = Exponent::random_mod_q(rng);
        let g2a = Element::g_pow(&a2);
        let g3a = Element::g_pow(&a3);
        let (c2, d2) = prove_knowledge(rng, 1, &a2);
        let (c3, d3) = prove_knowledge(rng, 2, &a3);
        let payload = [
            g2a.to_mpi(),
            c2.to_mpi(),
            d2.to_mpi(),
            g3a.to_mpi(),
            c3.to_mpi(),
            d3.to_mpi(),
        ];
        let tlv = match question {
            None => smp_tlv(tlv::SMP1, &[], &payload),
            Some(question) => {
                let mut prefix = question.as_bytes().to_vec();
                prefix.push(0);
                smp_tlv(tlv::SMP1Q, &prefix, &payload)
            }
        };
        if tlv.value.len() > usize::from(u16::MAX) {
            return SmpStep::event(SmpEvent::Error);
        }
        self.state = State::Expect2(Box::new(Initiated { x, a2, a3 }));
        self.answered_question = false;
        SmpStep::send(tlv, None)
    }

    /// Answers the peer's request (after [`SmpEvent::AskForSecret`] or
    /// [`SmpEvent::AskForAnswer`]) with our secret: returns SMP message 2.
    ///
    /// With no request pending this is the caller's mistake:
    /// [`SmpEvent::Error`], nothing is sent and nothing changes.
    pub fn answer<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        ctx: &SmpContext,
        secret: &[u8],
    ) -> SmpStep {
        let request = match std::mem::take(&mut self.state) {
            State::AwaitingSecret(request) => request,
            other => {
                self.state = other;
                return SmpStep::event(SmpEvent::Error);
            }
        };
        // The initiator's fingerprint always comes first.
        let y = combined_secret(ctx.their_fingerprint, ctx.our_fingerprint, ctx.ssid, secret);
        let (answered, tlv) = request.answer(rng, y);
        self.state = State::Expect3(Box::new(answered));
        SmpStep::send(tlv, None)
    }

    /// Aborts any exchange: returns the abort record (type 6, empty) and
    /// forgets everything.
    pub fn abort(&mut self) -> SmpStep {
        self.reset();
        SmpStep::send(abort_tlv(), None)
    }

    /// Handles a received TLV record. SMP records (types 2 to 7) advance the
    /// exchange; every other type is ignored.
    pub fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        _ctx: &SmpContext,
        tlv: &Tlv,
    ) -> SmpStep {
        if tlv.kind == tlv::SMP_ABORT {
            // An abort with nothing under way (python-potr sends one after a
            // failed exchange that already concluded) tells the user nothing.
            let was_running = self.in_progress();
            self.reset();
            return if was_running {
                SmpStep::event(SmpEvent::Abort)
            } else {
                SmpStep::NOTHING
            };
        }
        if !matches!(
            tlv.kind,
            tlv::SMP1 | tlv::SMP1Q | tlv::SMP2 | tlv::SMP3 | tlv::SMP4
        ) {
            return SmpStep::NOTHING;
        }
        let state = std::mem::take(&mut self.state);
        let outcome = match (tlv.kind, state) {
            // libotr: an empty 1Q record is an error, not a cheat.
            (tlv::SMP1Q, State::Expect1 | State::AwaitingSecret(_)) if tlv.value.is_empty() => {
                return self.fail(SmpEvent::Error);
            }
            // A new request replaces one the user has not answered yet.
            (tlv::SMP1 | tlv::SMP1Q, State::Expect1 | State::AwaitingSecret(_)) => {
                receive_request(tlv)
            }
            (tlv::SMP2, State::Expect2(initiated)) => initiated.receive_smp2(rng, &tlv.value),
            (tlv::SMP3, State::Expect3(answered)) => answered.receive_smp3(rng, &tlv.value),
            (tlv::SMP4, State::Expect4(confirming)) => confirming.receive_smp4(&tlv.value),
            _ => return self.fail(SmpEvent::Error),
        };
        match outcome {
            Ok(Advance { state, send, event }) => {
                if let State::AwaitingSecret(request) = &state {
                    self.answered_question = request.asked;
                }
                self.state = state;
                SmpStep { send, event }
            }
            Err(Cheated) => self.fail(SmpEvent::Cheated),
        }
    }

    /// Forgets any exchange and every secret it held. Call it when the
    /// session leaves the encrypted state.
    pub fn reset(&mut self) {
        self.state = State::Expect1;
        self.answered_question = false;
    }

    /// Whether an exchange is under way, including a request from the peer
    /// that the user has not answered yet.
    pub fn in_progress(&self) -> bool {
        !matches!(self.state, State::Expect1)
    }

    /// Whether the peer's request is waiting for the user's secret.
    pub fn awaiting_secret(&self) -> bool {
        matches!(self.state, State::AwaitingSecret(_))
    }

    /// Whether the current or last finished exchange is one in which we
    /// answered the peer's question (SMP message 1Q).
    ///
    /// A success then shows only that the peer knows the answer to a question
    /// the peer chose, not who the peer is: libotr and python-potr do not mark
    /// the peer's fingerprint as verified in that case.
    pub fn answered_question(&self) -> bool {
        self.answered_question
    }

    fn fail(&mut self, event: SmpEvent) -> SmpStep {
        self.reset();
        SmpStep::send(abort_tlv(), Some(event))
    }
}

impl fmt::Debug for Smp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Smp")
            .field("state", &format_args!("{}", self.state.name()))
            .finish()
    }
}

/// Which message the state machine expects next, with what it must keep.
#[derive(Default)]
enum State {
    /// Nothing under way: only SMP message 1 (or 1Q) is accepted.
    #[default]
    Expect1,
    /// Message 1 arrived and verified; the user has not answered yet. The
    /// spec's state is still EXPECT1: a new message 1 replaces this one.
    AwaitingSecret(Box<Request>),
    /// We sent message 1.
    Expect2(Box<Initiated>),
    /// We sent message 2.
    Expect3(Box<Answered>),
    /// We sent message 3.
    Expect4(Box<Confirming>),
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            Self::Expect1 => "Expect1",
            Self::AwaitingSecret(_) => "AwaitingSecret",
            Self::Expect2(_) => "Expect2",
            Self::Expect3(_) => "Expect3",
            Self::Expect4(_) => "Expect4",
        }
    }
}

/// A transition out of a received message.
struct Advance {
    state: State,
    send: Option<Tlv>,
    event: Option<SmpEvent>,
}

/// A received message failed to parse, a range check or a proof.
struct Cheated;

/// The peer's message 1, verified, waiting for our secret.
struct Request {
    g2a: Element,
    g3a: Element,
    /// Whether it came with a question (message 1Q).
    asked: bool,
}

/// The initiator after message 1: the secret and the DH exponents.
struct Initiated {
    x: Exponent,
    a2: Exponent,
    a3: Exponent,
}

/// The responder after message 2.
struct Answered {
    b3: Exponent,
    g2: Element,
    g3: Element,
    g3a: Element,
    pb: Element,
    qb: Element,
}

/// The initiator after message 3.
struct Confirming {
    a3: Exponent,
    g3b: Element,
    pab: Element,
    qab: Element,
}

/// Message 1 or 1Q: `g2a, c2, D2, g3a, c3, D3`, the 1Q form preceded by the
/// question and a NUL.
fn receive_request(tlv: &Tlv) -> Result<Advance, Cheated> {
    let (question, payload) = if tlv.kind == tlv::SMP1Q {
        let nul = tlv.value.iter().position(|&b| b == 0).ok_or(Cheated)?;
        let question = tlv.value.get(..nul).ok_or(Cheated)?;
        let payload = tlv.value.get(nul + 1..).ok_or(Cheated)?;
        (
            Some(String::from_utf8_lossy(question).into_owned()),
            payload,
        )
    } else {
        (None, tlv.value.as_slice())
    };
    let [g2a, c2, d2, g3a, c3, d3] = parse_mpis(payload)?;
    let g2a = element(g2a)?;
    let g3a = element(g3a)?;
    check_knowledge(1, &g2a, &exponent(c2)?, &exponent(d2)?)?;
    check_knowledge(2, &g3a, &exponent(c3)?, &exponent(d3)?)?;
    let asked = question.is_some();
    let event = match question {
        None => SmpEvent::AskForSecret,
        Some(question) => SmpEvent::AskForAnswer { question },
    };
    Ok(Advance {
        state: State::AwaitingSecret(Box::new(Request { g2a, g3a, asked })),
        send: None,
        event: Some(event),
    })
}

impl Request {
    /// Message 2: `g2b, c2, D2, g3b, c3, D3, Pb, Qb, cP, D5, D6`.
    fn answer<R: CryptoRng + ?Sized>(self, rng: &mut R, y: Exponent) -> (Answered, Tlv) {
        let b2 = Exponent::random_mod_q(rng);
        let b3 = Exponent::random_mod_q(rng);
        let g2b = Element::g_pow(&b2);
        let g3b = Element::g_pow(&b3);
        let (c2, d2) = prove_knowledge(rng, 3, &b2);
        let (c3, d3) = prove_knowledge(rng, 4, &b3);
        let g2 = self.g2a.pow(&b2);
        let g3 = self.g3a.pow(&b3);
        let r4 = Exponent::random_mod_q(rng);
        let pb = g3.pow(&r4);
        let qb = Element::g_pow(&r4).mul(&g2.pow(&y));
        let (cp, d5, d6) = prove_coordinates(rng, 5, &g2, &g3, &r4, &y);
        let tlv = smp_tlv(
            tlv::SMP2,
            &[],
            &[
                g2b.to_mpi(),
                c2.to_mpi(),
                d2.to_mpi(),
                g3b.to_mpi(),
                c3.to_mpi(),
                d3.to_mpi(),
                pb.to_mpi(),
                qb.to_mpi(),
                cp.to_mpi(),
                d5.to_mpi(),
                d6.to_mpi(),
            ],
        );
        let answered = Answered {
            b3,
            g2,
            g3,
            g3a: self.g3a,
            pb,
            qb,
        };
        (answered, tlv)
    }
}

impl Initiated {
    /// Verifies message 2 and answers with message 3:
    /// `Pa, Qa, cP, D5, D6, Ra, cR, D7`.
    fn receive_smp2<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        payload: &[u8],
    ) -> Result<Advance, Cheated> {
        let [g2b, c2, d2, g3b, c3, d3, pb, qb, cp, d5, d6] = parse_mpis(payload)?;
        let g2b = element(g2b)?;
        let g3b = element(g3b)?;
        let pb = element(pb)?;
        let qb = element(qb)?;
        let (c2, d2, c3, d3) = (exponent(c2)?, exponent(d2)?, exponent(c3)?, exponent(d3)?);
        let (cp, d5, d6) = (exponent(cp)?, exponent(d5)?, exponent(d6)?);
        check_knowledge(3, &g2b, &c2, &d2)?;
        check_knowledge(4, &g3b, &c3, &d3)?;
        let g2 = g2b.pow(&self.a2);
        let g3 = g3b.pow(&self.a3);
        check_coordinates(5, &g2, &g3, &pb, &qb, &cp, &d5, &d6)?;

        let r4 = Exponent::random_mod_q(rng);
        let pa = g3.pow(&r4);
        let qa = Element::g_pow(&r4).mul(&g2.pow(&self.x));
        let (cp, d5, d6) = prove_coordinates(rng, 6, &g2, &g3, &r4, &self.x);
        let pab = pa.mul(&pb.invert());
        let qab = qa.mul(&qb.invert());
        let ra = qab.pow(&self.a3);
        let (cr, d7) = prove_equal_logs(rng, 7, &qab, &self.a3);
        let tlv = smp_tlv(
            tlv::SMP3,
            &[],
            &[
                pa.to_mpi(),
                qa.to_mpi(),
                cp.to_mpi(),
                d5.to_mpi(),
                d6.to_mpi(),
                ra.to_mpi(),
                cr.to_mpi(),
                d7.to_mpi(),
            ],
        );
        let confirming = Confirming {
            a3: self.a3.clone(),
            g3b,
            pab,
            qab,
        };
        Ok(Advance {
            state: State::Expect4(Box::new(confirming)),
            send: Some(tlv),
            event: Some(SmpEvent::InProgress),
        })
    }
}

impl Answered {
    /// Verifies message 3, answers with message 4 (`Rb, cR, D7`) and
    /// compares.
    fn receive_smp3<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        payload: &[u8],
    ) -> Result<Advance, Cheated> {
        let [pa, qa, cp, d5, d6, ra, cr, d7] = parse_mpis(payload)?;
        let pa = element(pa)?;
        let qa = element(qa)?;
        let ra = element(ra)?;
        let (cp, d5, d6) = (exponent(cp)?, exponent(d5)?, exponent(d6)?);
        let (cr, d7) = (exponent(cr)?, exponent(d7)?);
        check_coordinates(6, &self.g2, &self.g3, &pa, &qa, &cp, &d5, &d6)?;
        let pab = pa.mul(&self.pb.invert());
        let qab = qa.mul(&self.qb.invert());
        check_equal_logs(7, &self.g3a, &qab, &ra, &cr, &d7)?;

        let rb = qab.pow(&self.b3);
        let (cr, d7) = prove_equal_logs(rng, 8, &qab, &self.b3);
        let tlv = smp_tlv(tlv::SMP4, &[], &[rb.to_mpi(), cr.to_mpi(), d7.to_mpi()]);
        let rab = ra.pow(&self.b3);
        Ok(Advance {
            state: State::Expect1,
            send: Some(tlv),
            event: Some(verdict(&rab, &pab)),
        })
    }
}

impl Confirming {
    /// Verifies message 4 and compares.
    fn receive_smp4(&self, payload: &[u8]) -> Result<Advance, Cheated> {
        let [rb, cr, d7] = parse_mpis(payload)?;
        let rb = element(rb)?;
        let (cr, d7) = (exponent(cr)?, exponent(d7)?);
        check_equal_logs(8, &self.g3b, &self.qab, &rb, &cr, &d7)?;
        let rab = rb.pow(&self.a3);
        Ok(Advance {
            state: State::Expect1,
            send: None,
            event: Some(verdict(&rab, &self.pab)),
        })
    }
}

/// `Rab == Pa / Pb` holds exactly when the secrets are equal. The values
/// derive from the secrets, so the comparison is constant-time.
fn verdict(rab: &Element, pab: &Element) -> SmpEvent {
    if rab.ct_eq(pab) {
        SmpEvent::Success
    } else {
        SmpEvent::Failure
    }
}

/// `SHA-256(0x01 || initiator fp || responder fp || ssid || secret)`, as an
/// integer (below `q`, so unchanged by the reduction).
fn combined_secret(
    initiator: &[u8; 20],
    responder: &[u8; 20],
    ssid: &[u8; 8],
    secret: &[u8],
) -> Exponent {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(initiator);
    hasher.update(responder);
    hasher.update(ssid);
    hasher.update(secret);
    let digest: Zeroizing<[u8; 32]> = Zeroizing::new(hasher.finalize().into());
    Exponent::from_secret_bytes(digest.as_ref())
}

/// SMP's hash: `SHA-256(version || MPI(a) [|| MPI(b)])`, as an exponent.
fn smp_hash(version: u8, a: &Element, b: Option<&Element>) -> PublicExponent {
    let mut hasher = Sha256::new();
    hasher.update([version]);
    for value in std::iter::once(a).chain(b) {
        let mut w = Writer::new();
        w.mpi(&value.to_mpi());
        hasher.update(w.finish());
    }
    PublicExponent::from_hash(&hasher.finalize().into())
}

/// Proof of knowledge of `a` in `g^a`: `c = h(v, g^r)`, `D = r - a*c`.
fn prove_knowledge<R: CryptoRng + ?Sized>(
    rng: &mut R,
    version: u8,
    a: &Exponent,
) -> (PublicExponent, PublicExponent) {
    let r = Exponent::random_mod_q(rng);
    let c = smp_hash(version, &Element::g_pow(&r), None);
    let d = r.sub(&a.mul_public(&c)).reveal();
    (c, d)
}

/// Checks `c == h(v, g^D * A^c)`.
fn check_knowledge(
    version: u8,
    value: &Element,
    c: &PublicExponent,
    d: &PublicExponent,
) -> Result<(), Cheated> {
    let commitment = Element::g_pow_public_times(d, value, c);
    ensure(smp_hash(version, &commitment, None).eq_vartime(c))
}

/// Proof that `P = g3^r` and `Q = g^r * g2^s` share `r`:
/// `c = h(v, g3^r5, g^r5 * g2^r6)`, `D5 = r5 - r*c`, `D6 = r6 - s*c`.
fn prove_coordinates<R: CryptoRng + ?Sized>(
    rng: &mut R,
    version: u8,
    g2: &Element,
    g3: &Element,
    r: &Exponent,
    secret: &Exponent,
) -> (PublicExponent, PublicExponent, PublicExponent) {
    let r5 = Exponent::random_mod_q(rng);
    let r6 = Exponent::random_mod_q(rng);
    let first = g3.pow(&r5);
    let second = Element::g_pow(&r5).mul(&g2.pow(&r6));
    let c = smp_hash(version, &first, Some(&second));
    let d5 = r5.sub(&r.mul_public(&c)).reveal();
    let d6 = r6.sub(&secret.mul_public(&c)).reveal();
    (c, d5, d6)
}

/// Checks `c == h(v, g3^D5 * P^c, g^D5 * g2^D6 * Q^c)`.
#[expect(
    clippy::too_many_arguments,
    reason = "the proof's seven values, named as in the spec"
)]
fn check_coordinates(
    version: u8,
    g2: &Element,
    g3: &Element,
    p: &Element,
    q: &Element,
    c: &PublicExponent,
    d5: &PublicExponent,
    d6: &PublicExponent,
) -> Result<(), Cheated> {
    // c is a 256-bit hash: two separate variable-time powers beat a joint
    // one that would run over the 1536 bits of d5 for both.
    let first = g3.pow_public(d5).mul(&p.pow_public(c));
    let second = Element::g_pow_public_times(d5, g2, d6).mul(&q.pow_public(c));
    ensure(smp_hash(version, &first, Some(&second)).eq_vartime(c))
}

/// Proof that `R = Qab^a` uses the `a` of `g3a = g^a`:
/// `c = h(v, g^r7, Qab^r7)`, `D7 = r7 - a*c`.
fn prove_equal_logs<R: CryptoRng + ?Sized>(
    rng: &mut R,
    version: u8,
    qab: &Element,
    a: &Exponent,
) -> (PublicExponent, PublicExponent) {
    let r7 = Exponent::random_mod_q(rng);
    let c = smp_hash(version, &Element::g_pow(&r7), Some(&qab.pow(&r7)));
    let d7 = r7.sub(&a.mul_public(&c)).reveal();
    (c, d7)
}

/// Checks `c == h(v, g^D7 * g3o^c, Qab^D7 * R^c)`, where `g3o` is the
/// peer's `g3` half.
fn check_equal_logs(
    version: u8,
    g3o: &Element,
    qab: &Element,
    r: &Element,
    c: &PublicExponent,
    d7: &PublicExponent,
) -> Result<(), Cheated> {
    let first = Element::g_pow_public_times(d7, g3o, c);
    let second = qab.pow_public(d7).mul(&r.pow_public(c));
    ensure(smp_hash(version, &first, Some(&second)).eq_vartime(c))
}

fn ensure(condition: bool) -> Result<(), Cheated> {
    if condition { Ok(()) } else { Err(Cheated) }
}

/// A received group element, in `[2, p - 2]`.
fn element(magnitude: &[u8]) -> Result<Element, Cheated> {
    Element::from_mpi(magnitude).map_err(|_| Cheated)
}

/// A received exponent (a hash `c` or a `D`), in `[1, q - 1]`.
fn exponent(magnitude: &[u8]) -> Result<PublicExponent, Cheated> {
    Exponent::from_public_mpi(magnitude).map_err(|_| Cheated)
}

/// Reads an SMP payload: a 4-byte count that must be exactly `N`, then `N`
/// MPIs of at most [`MODULUS_BYTES`] bytes, and nothing after them.
fn parse_mpis<const N: usize>(payload: &[u8]) -> Result<[&[u8]; N], Cheated> {
    let mut reader = Reader::new(payload);
    let count = reader.u32().map_err(|_| Cheated)?;
    if usize::try_from(count).ok() != Some(N) {
        return Err(Cheated);
    }
    let mut mpis: [&[u8]; N] = [&[]; N];
    for mpi in &mut mpis {
        *mpi = reader.mpi_capped(MODULUS_BYTES).map_err(|_| Cheated)?;
    }
    reader.finish().map_err(|_| Cheated)?;
    Ok(mpis)
}

/// An SMP record: `prefix` (the 1Q question and its NUL), the MPI count, the
/// MPIs.
fn smp_tlv(kind: u16, prefix: &[u8], mpis: &[Vec<u8>]) -> Tlv {
    let mut w = Writer::after(prefix.to_vec());
    w.u32(u32::try_from(mpis.len()).unwrap_or(u32::MAX));
    for mpi in mpis {
        w.mpi(mpi);
    }
    Tlv::new(kind, w.finish())
}

fn abort_tlv() -> Tlv {
    Tlv::new(tlv::SMP_ABORT, Vec::new())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::{Rng, SeedableRng};

    use super::*;

    const FP_ALICE: [u8; 20] = [0xA1; 20];
    const FP_BOB: [u8; 20] = [0xB2; 20];
    const SSID: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

    use crate::math::modp::P_HEX;

    fn ctx_alice() -> SmpContext<'static> {
        SmpContext {
            our_fingerprint: &FP_ALICE,
            their_fingerprint: &FP_BOB,
            ssid: &SSID,
        }
    }

    fn ctx_bob() -> SmpContext<'static> {
        SmpContext {
            our_fingerprint: &FP_BOB,
            their_fingerprint: &FP_ALICE,
            ssid: &SSID,
        }
    }

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    fn p_minus(k: u8) -> Vec<u8> {
        let mut p: Vec<u8> = (0..P_HEX.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&P_HEX[i..i + 2], 16).unwrap())
            .collect();
        let last = p.last_mut().unwrap();
        *last -= k;
        p
    }

    fn is_abort(tlv: &Option<Tlv>) -> bool {
        matches!(tlv, Some(t) if t.kind == tlv::SMP_ABORT && t.value.is_empty())
    }

    /// The MPIs of an SMP payload, for tampering.
    fn decode(payload: &[u8]) -> Vec<Vec<u8>> {
        let mut r = Reader::new(payload);
        let n = r.u32().unwrap();
        let mpis = (0..n).map(|_| r.mpi().unwrap().to_vec()).collect();
        r.finish().unwrap();
        mpis
    }

    /// Everything a run produced, message by message.
    struct Run {
        alice: Smp,
        bob: Smp,
        m1: Tlv,
        ask: Option<SmpEvent>,
        m2: Tlv,
        m3: Tlv,
        alice_progress: Option<SmpEvent>,
        m4: Tlv,
        bob_result: Option<SmpEvent>,
        alice_result: Option<SmpEvent>,
    }

    fn full_run(
        seed: u64,
        question: Option<&str>,
        secret_alice: &[u8],
        secret_bob: &[u8],
        bob_ctx: &SmpContext,
    ) -> Run {
        let mut rng = rng(seed);
        let mut alice = Smp::new();
        let mut bob = Smp::new();
        let step = alice.start(&mut rng, &ctx_alice(), question, secret_alice);
        assert_eq!(step.event, None);
        let m1 = step.send.unwrap();
        assert!(alice.in_progress() && !alice.awaiting_secret());

        let step = bob.handle(&mut rng, bob_ctx, &m1);
        assert_eq!(step.send, None);
        assert!(bob.awaiting_secret() && bob.in_progress());
        let ask = step.event;

        let step = bob.answer(&mut rng, bob_ctx, secret_bob);
        assert_eq!(step.event, None);
        let m2 = step.send.unwrap();
        assert_eq!(m2.kind, tlv::SMP2);
        assert!(bob.in_progress() && !bob.awaiting_secret());

        let step = alice.handle(&mut rng, &ctx_alice(), &m2);
        let m3 = step.send.unwrap();
        assert_eq!(m3.kind, tlv::SMP3);
        let alice_progress = step.event;

        let step = bob.handle(&mut rng, bob_ctx, &m3);
        let m4 = step.send.unwrap();
        assert_eq!(m4.kind, tlv::SMP4);
        let bob_result = step.event;
        assert!(!bob.in_progress());

        let step = alice.handle(&mut rng, &ctx_alice(), &m4);
        assert_eq!(step.send, None);
        let alice_result = step.event;
        assert!(!alice.in_progress());
        Run {
            alice,
            bob,
            m1,
            ask,
            m2,
            m3,
            alice_progress,
            m4,
            bob_result,
            alice_result,
        }
    }

    #[test]
    fn equal_secrets_succeed_on_both_sides() {
        let run = full_run(1, None, b"correct horse", b"correct horse", &ctx_bob());
        assert_eq!(run.m1.kind, tlv::SMP1);
        assert_eq!(run.ask, Some(SmpEvent::AskForSecret));
        assert_eq!(run.alice_progress, Some(SmpEvent::InProgress));
        assert_eq!(run.bob_result, Some(SmpEvent::Success));
        assert_eq!(run.alice_result, Some(SmpEvent::Success));
        assert!(!run.alice.answered_question() && !run.bob.answered_question());
    }

    #[test]
    fn different_secrets_fail_on_both_sides() {
        // The responder still sends message 4 on a mismatch, as libotr does.
        let run = full_run(2, None, b"correct horse", b"battery staple", &ctx_bob());
        assert_eq!(run.bob_result, Some(SmpEvent::Failure));
        assert_eq!(run.alice_result, Some(SmpEvent::Failure));
    }

    #[test]
    fn question_is_delivered_with_the_request() {
        let run = full_run(
            3,
            Some("Where did we meet?"),
            b"Paris",
            b"Paris",
            &ctx_bob(),
        );
        assert_eq!(run.m1.kind, tlv::SMP1Q);
        assert!(run.m1.value.starts_with(b"Where did we meet?\0"));
        assert_eq!(
            run.ask,
            Some(SmpEvent::AskForAnswer {
                question: "Where did we meet?".into()
            })
        );
        assert_eq!(run.bob_result, Some(SmpEvent::Success));
        assert_eq!(run.alice_result, Some(SmpEvent::Success));
        assert!(run.bob.answered_question());
        assert!(!run.alice.answered_question());
    }

    #[test]
    fn empty_question_and_empty_secret_work() {
        let run = full_run(4, Some(""), b"", b"", &ctx_bob());
        assert_eq!(
            run.ask,
            Some(SmpEvent::AskForAnswer {
                question: String::new()
            })
        );
        assert_eq!(run.alice_result, Some(SmpEvent::Success));
    }

    #[test]
    fn question_is_decoded_lossily() {
        let mut rng = rng(5);
        let mut alice = Smp::new();
        let m1 = alice
            .start(&mut rng, &ctx_alice(), None, b"s")
            .send
            .unwrap();
        let mut value = vec![0xff, b'a', 0];
        value.extend_from_slice(&m1.value);
        let mut bob = Smp::new();
        let step = bob.handle(&mut rng, &ctx_bob(), &Tlv::new(tlv::SMP1Q, value));
        assert_eq!(
            step.event,
            Some(SmpEvent::AskForAnswer {
                question: "\u{fffd}a".into()
            })
        );
    }

    #[test]
    fn fingerprints_are_bound_initiator_first() {
        // Bob's context is right, but he hashes in the initiator's order by
        // mistake: (our, their) instead of (their, our).
        let wrong = SmpContext {
            our_fingerprint: &FP_ALICE,
            their_fingerprint: &FP_BOB,
            ssid: &SSID,
        };
        let run = full_run(6, None, b"same", b"same", &wrong);
        assert_eq!(run.bob_result, Some(SmpEvent::Failure));
        assert_eq!(run.alice_result, Some(SmpEvent::Failure));

        // A different session id also changes the secret.
        let other_ssid = [9; 8];
        let other = SmpContext {
            ssid: &other_ssid,
            ..ctx_bob()
        };
        let run = full_run(7, None, b"same", b"same", &other);
        assert_eq!(run.alice_result, Some(SmpEvent::Failure));
    }

    #[test]
    fn combined_secret_layout() {
        let mut input = vec![1u8];
        input.extend_from_slice(&FP_ALICE);
        input.extend_from_slice(&FP_BOB);
        input.extend_from_slice(&SSID);
        input.extend_from_slice(b"secret");
        let digest: [u8; 32] = Sha256::digest(&input).into();
        let x = combined_secret(&FP_ALICE, &FP_BOB, &SSID, b"secret");
        assert!(x.reveal().eq_vartime(&PublicExponent::from_hash(&digest)));
    }

    #[test]
    fn responder_aborts_while_asked() {
        let mut rng = rng(8);
        let (mut alice, mut bob) = (Smp::new(), Smp::new());
        let m1 = alice
            .start(&mut rng, &ctx_alice(), None, b"s")
            .send
            .unwrap();
        let _ = bob.handle(&mut rng, &ctx_bob(), &m1);
        let step = bob.abort();
        assert_eq!(step.event, None);
        assert!(is_abort(&step.send));
        assert!(!bob.in_progress() && !bob.awaiting_secret());

        let step = alice.handle(&mut rng, &ctx_alice(), &step.send.unwrap());
        assert_eq!(step, SmpStep::event(SmpEvent::Abort));
        assert!(!alice.in_progress());
        // Nothing is pending any more.
        assert_eq!(
            bob.answer(&mut rng, &ctx_bob(), b"s"),
            SmpStep::event(SmpEvent::Error)
        );
    }

    #[test]
    fn initiator_aborts_mid_exchange() {
        let mut rng = rng(9);
        let (mut alice, mut bob) = (Smp::new(), Smp::new());
        let m1 = alice
            .start(&mut rng, &ctx_alice(), None, b"s")
            .send
            .unwrap();
        let _ = bob.handle(&mut rng, &ctx_bob(), &m1);
        let m2 = bob.answer(&mut rng, &ctx_bob(), b"s").send.unwrap();
        let abort = alice.abort().send.unwrap();
        // Message 2 arriving after the abort is unexpected.
        let step = alice.handle(&mut rng, &ctx_alice(), &m2);
        assert_eq!(step.event, Some(SmpEvent::Error));
        assert!(is_abort(&step.send));
        let step = bob.handle(&mut rng, &ctx_bob(), &abort);
        assert_eq!(step, SmpStep::event(SmpEvent::Abort));
        assert!(!bob.in_progress());
    }

    #[test]
    fn abort_when_idle_is_neither_reported_nor_answered() {
        let mut smp = Smp::new();
        let step = smp.handle(&mut rng(10), &ctx_alice(), &abort_tlv());
        assert_eq!(step, SmpStep::NOTHING);
        // A non-empty abort (CoyIM sends 4 bytes) aborts a running exchange.
        let mut rng = rng(10);
        let _ = smp.start(&mut rng, &ctx_alice(), None, b"secret");
        let step = smp.handle(
            &mut rng,
            &ctx_alice(),
            &Tlv::new(tlv::SMP_ABORT, vec![0; 4]),
        );
        assert_eq!(step, SmpStep::event(SmpEvent::Abort));
        assert!(!smp.in_progress());
    }

    #[test]
    fn unexpected_messages_abort_with_error() {
        let run = full_run(11, None, b"s", b"s", &ctx_bob());
        let mut rng = rng(12);
        // Messages 2, 3 and 4 when idle.
        for m in [&run.m2, &run.m3, &run.m4] {
            let mut smp = Smp::new();
            let step = smp.handle(&mut rng, &ctx_alice(), m);
            assert_eq!(step.event, Some(SmpEvent::Error));
            assert!(is_abort(&step.send));
            assert!(!smp.in_progress());
        }
        // Message 3 while awaiting the user's secret drops the request.
        let mut bob = Smp::new();
        let _ = bob.handle(&mut rng, &ctx_bob(), &run.m1);
        let step = bob.handle(&mut rng, &ctx_bob(), &run.m3);
        assert_eq!(step.event, Some(SmpEvent::Error));
        assert!(is_abort(&step.send));
        assert!(!bob.awaiting_secret());
        // Message 1 while we wait for message 2 (crossed starts).
        let mut alice = Smp::new();
        let _ = alice.start(&mut rng, &ctx_alice(), None, b"s");
        let step = alice.handle(&mut rng, &ctx_alice(), &run.m1);
        assert_eq!(step.event, Some(SmpEvent::Error));
        assert!(is_abort(&step.send));
        assert!(!alice.in_progress());
        // An empty 1Q record is an error (libotr), not a cheat.
        let step = Smp::new().handle(&mut rng, &ctx_bob(), &Tlv::new(tlv::SMP1Q, Vec::new()));
        assert_eq!(step.event, Some(SmpEvent::Error));
        assert!(is_abort(&step.send));
    }

    #[test]
    fn other_records_are_ignored() {
        let mut rng = rng(13);
        let mut alice = Smp::new();
        let _ = alice.start(&mut rng, &ctx_alice(), None, b"s");
        for kind in [0, 1, 8, 9, 0xffff] {
            let step = alice.handle(&mut rng, &ctx_alice(), &Tlv::new(kind, vec![1, 2, 3]));
            assert_eq!(step, SmpStep::NOTHING);
        }
        assert_eq!(format!("{alice:?}"), "Smp { state: Expect2 }");
    }

    #[test]
    fn a_new_request_replaces_an_unanswered_one() {
        let mut rng = rng(14);
        let mut alice = Smp::new();
        let mut bob = Smp::new();
        let first = alice
            .start(&mut rng, &ctx_alice(), Some("q1"), b"x")
            .send
            .unwrap();
        let _ = bob.handle(&mut rng, &ctx_bob(), &first);
        assert!(bob.answered_question());
        let second = alice
            .start(&mut rng, &ctx_alice(), None, b"y")
            .send
            .unwrap();
        let step = bob.handle(&mut rng, &ctx_bob(), &second);
        assert_eq!(step.event, Some(SmpEvent::AskForSecret));
        assert!(!bob.answered_question());
        let m2 = bob.answer(&mut rng, &ctx_bob(), b"y").send.unwrap();
        let m3 = alice.handle(&mut rng, &ctx_alice(), &m2).send.unwrap();
        let step = bob.handle(&mut rng, &ctx_bob(), &m3);
        assert_eq!(step.event, Some(SmpEvent::Success));
        let step = alice.handle(&mut rng, &ctx_alice(), &step.send.unwrap());
        assert_eq!(step.event, Some(SmpEvent::Success));
    }

    #[test]
    fn start_restarts_an_exchange_in_progress() {
        let mut rng = rng(15);
        let mut alice = Smp::new();
        let mut bob = Smp::new();
        // Alice is answering Bob when she starts her own exchange.
        let m1 = bob.start(&mut rng, &ctx_bob(), None, b"z").send.unwrap();
        let _ = alice.handle(&mut rng, &ctx_alice(), &m1);
        let step = alice.start(&mut rng, &ctx_alice(), None, b"k");
        assert!(!alice.awaiting_secret());
        // Bob, waiting for message 2, sees a message 1: error, abort.
        let step = bob.handle(&mut rng, &ctx_bob(), &step.send.unwrap());
        assert_eq!(step.event, Some(SmpEvent::Error));
        let step = alice.handle(&mut rng, &ctx_alice(), &step.send.unwrap());
        assert_eq!(step.event, Some(SmpEvent::Abort));
    }

    #[test]
    fn answer_without_request_is_an_error() {
        let mut rng = rng(16);
        let mut smp = Smp::new();
        assert_eq!(
            smp.answer(&mut rng, &ctx_bob(), b"s"),
            SmpStep::event(SmpEvent::Error)
        );
        // It leaves an exchange we initiated alone.
        let _ = smp.start(&mut rng, &ctx_alice(), None, b"s");
        assert_eq!(
            smp.answer(&mut rng, &ctx_bob(), b"s"),
            SmpStep::event(SmpEvent::Error)
        );
        assert_eq!(format!("{smp:?}"), "Smp { state: Expect2 }");
    }

    #[test]
    fn unsendable_questions_are_refused() {
        let mut rng = rng(17);
        let mut smp = Smp::new();
        let step = smp.start(&mut rng, &ctx_alice(), Some("a\0b"), b"s");
        assert_eq!(step, SmpStep::event(SmpEvent::Error));
        let long = "q".repeat(65_000);
        let step = smp.start(&mut rng, &ctx_alice(), Some(&long), b"s");
        assert_eq!(step, SmpStep::event(SmpEvent::Error));
        assert!(!smp.in_progress());
        let fits = "q".repeat(60_000);
        let step = smp.start(&mut rng, &ctx_alice(), Some(&fits), b"s");
        assert!(step.send.unwrap().value.len() <= usize::from(u16::MAX));
    }

    /// Alice waiting for message 2, and Bob's message 2; deterministic.
    fn alice_expecting_smp2(seed: u64) -> (Smp, Tlv) {
        let mut rng = rng(seed);
        let mut alice = Smp::new();
        let mut bob = Smp::new();
        let m1 = alice
            .start(&mut rng, &ctx_alice(), None, b"s")
            .send
            .unwrap();
        let _ = bob.handle(&mut rng, &ctx_bob(), &m1);
        let m2 = bob.answer(&mut rng, &ctx_bob(), b"s").send.unwrap();
        (alice, m2)
    }

    fn assert_cheated(step: &SmpStep, smp: &Smp) {
        assert_eq!(step.event, Some(SmpEvent::Cheated));
        assert!(is_abort(&step.send));
        assert!(!smp.in_progress());
    }

    #[test]
    fn every_tampered_value_of_message_2_is_cheating() {
        let (_, m2) = alice_expecting_smp2(20);
        let mpis = decode(&m2.value);
        assert_eq!(mpis.len(), 11);
        for i in 0..mpis.len() {
            let (mut alice, _) = alice_expecting_smp2(20);
            let mut tampered = mpis.clone();
            let middle = tampered[i].len() / 2;
            tampered[i][middle] ^= 0x01;
            let tlv = smp_tlv(tlv::SMP2, &[], &tampered);
            let step = alice.handle(&mut rng(21), &ctx_alice(), &tlv);
            assert_cheated(&step, &alice);
        }
        // The untampered message still works on a fresh state.
        let (mut alice, m2) = alice_expecting_smp2(20);
        let step = alice.handle(&mut rng(21), &ctx_alice(), &m2);
        assert_eq!(step.event, Some(SmpEvent::InProgress));
    }

    #[test]
    fn tampered_messages_1_3_and_4_are_cheating() {
        let run = full_run(22, None, b"s", b"s", &ctx_bob());
        let tamper = |tlv: &Tlv, i: usize| {
            let mut mpis = decode(&tlv.value);
            let middle = mpis[i].len() / 2;
            mpis[i][middle] ^= 0x80;
            smp_tlv(tlv.kind, &[], &mpis)
        };
        // Message 1: D3.
        let mut bob = Smp::new();
        let step = bob.handle(&mut rng(23), &ctx_bob(), &tamper(&run.m1, 5));
        assert_cheated(&step, &bob);

        // Message 3 (Ra's proof) and message 4 (Rb), replayed into states
        // rebuilt from the same seed.
        let rebuild = || {
            let mut rng = rng(22);
            let mut alice = Smp::new();
            let mut bob = Smp::new();
            let m1 = alice
                .start(&mut rng, &ctx_alice(), None, b"s")
                .send
                .unwrap();
            let _ = bob.handle(&mut rng, &ctx_bob(), &m1);
            let m2 = bob.answer(&mut rng, &ctx_bob(), b"s").send.unwrap();
            let m3 = alice.handle(&mut rng, &ctx_alice(), &m2).send.unwrap();
            assert_eq!(m3, run.m3);
            (alice, bob)
        };
        for i in [0, 5, 7] {
            let (_, mut bob) = rebuild();
            let step = bob.handle(&mut rng(24), &ctx_bob(), &tamper(&run.m3, i));
            assert_cheated(&step, &bob);
        }
        for i in 0..3 {
            let (mut alice, _) = rebuild();
            let step = alice.handle(&mut rng(24), &ctx_alice(), &tamper(&run.m4, i));
            assert_cheated(&step, &alice);
        }
    }

    #[test]
    fn proofs_are_bound_to_their_version_byte() {
        // Bob's message 2 proofs (versions 3, 4) replayed as Alice's message
        // 1 (versions 1, 2): the know-log proofs do not verify.
        let (_, m2) = alice_expecting_smp2(25);
        let mpis = decode(&m2.value);
        let fake_m1 = smp_tlv(tlv::SMP1, &[], &mpis[..6]);
        let mut smp = Smp::new();
        let step = smp.handle(&mut rng(26), &ctx_alice(), &fake_m1);
        assert_cheated(&step, &smp);
    }

    #[test]
    fn out_of_range_values_are_cheating() {
        let mut rng = rng(27);
        let m1 = Smp::new()
            .start(&mut rng, &ctx_alice(), None, b"s")
            .send
            .unwrap();
        let mpis = decode(&m1.value);
        let q_bytes = {
            // q = (p - 1) / 2: shift p - 1 right by one bit.
            let p1 = p_minus(1);
            let mut q = vec![0u8; p1.len()];
            let mut carry = 0u8;
            for (dst, &src) in q.iter_mut().zip(&p1) {
                *dst = (src >> 1) | carry;
                carry = src << 7;
            }
            q
        };
        let bad_elements = [
            vec![],
            vec![0],
            vec![1],
            p_minus(1),
            p_minus(0),
            vec![1; 193],
        ];
        for bad in &bad_elements {
            for i in [0, 3] {
                let mut m = mpis.clone();
                m[i] = bad.clone();
                let mut smp = Smp::new();
                let step = smp.handle(&mut rng, &ctx_bob(), &smp_tlv(tlv::SMP1, &[], &m));
                assert_cheated(&step, &smp);
            }
        }
        // p - 2 is in range but its proof cannot verify.
        let mut m = mpis.clone();
        m[0] = p_minus(2);
        let mut smp = Smp::new();
        let step = smp.handle(&mut rng, &ctx_bob(), &smp_tlv(tlv::SMP1, &[], &m));
        assert_cheated(&step, &smp);
        // Exponents outside [1, q - 1].
        for bad in [vec![], vec![0], q_bytes.clone()] {
            for i in [1, 2, 4, 5] {
                let mut m = mpis.clone();
                m[i] = bad.clone();
                let mut smp = Smp::new();
                let step = smp.handle(&mut rng, &ctx_bob(), &smp_tlv(tlv::SMP1, &[], &m));
                assert_cheated(&step, &smp);
            }
        }
        // Degenerate values in message 4, where a bad Rb would decide the
        // outcome: never a success.
        let run = full_run(28, None, b"s", b"s", &ctx_bob());
        let mpis4 = decode(&run.m4.value);
        for bad in [vec![1], p_minus(1)] {
            let mut rng = self::rng(28);
            let mut alice = Smp::new();
            let mut bob = Smp::new();
            let m1 = alice
                .start(&mut rng, &ctx_alice(), None, b"s")
                .send
                .unwrap();
            let _ = bob.handle(&mut rng, &ctx_bob(), &m1);
            let m2 = bob.answer(&mut rng, &ctx_bob(), b"s").send.unwrap();
            let _ = alice.handle(&mut rng, &ctx_alice(), &m2);
            let mut m = mpis4.clone();
            m[0] = bad;
            let step = alice.handle(&mut rng, &ctx_alice(), &smp_tlv(tlv::SMP4, &[], &m));
            assert_cheated(&step, &alice);
        }
    }

    #[test]
    fn payload_framing_is_exact() {
        let run = full_run(29, None, b"s", b"s", &ctx_bob());
        let mpis = decode(&run.m1.value);
        // Every prefix of a valid message fails to parse.
        for len in 0..run.m1.value.len() {
            assert!(
                parse_mpis::<6>(&run.m1.value[..len]).is_err(),
                "prefix {len}"
            );
        }
        assert!(parse_mpis::<6>(&run.m1.value).is_ok());
        // Trailing bytes, a wrong count, an MPI over 192 bytes.
        let mut trailing = run.m1.value.clone();
        trailing.push(0);
        assert!(parse_mpis::<6>(&trailing).is_err());
        let seven = smp_tlv(tlv::SMP1, &[], &[mpis.clone(), vec![vec![2]]].concat());
        assert!(parse_mpis::<6>(&seven.value).is_err());
        assert!(parse_mpis::<6>(&smp_tlv(tlv::SMP1, &[], &mpis[..5]).value).is_err());
        let mut long = run.m1.value.clone();
        long[4..8].copy_from_slice(&193u32.to_be_bytes());
        assert!(parse_mpis::<6>(&long).is_err());
        let mut huge = run.m1.value.clone();
        huge[0..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse_mpis::<6>(&huge).is_err());

        // Through the state machine: a 1Q record with no NUL, truncations.
        let mut smp = Smp::new();
        let step = smp.handle(
            &mut rng(30),
            &ctx_bob(),
            &Tlv::new(tlv::SMP1Q, b"question".to_vec()),
        );
        assert_cheated(&step, &smp);
        for len in [0, 3, 4, 100, run.m1.value.len() - 1] {
            let mut smp = Smp::new();
            let tlv = Tlv::new(tlv::SMP1, run.m1.value[..len].to_vec());
            let step = smp.handle(&mut rng(30), &ctx_bob(), &tlv);
            assert_cheated(&step, &smp);
        }
        for len in [0, 500, run.m2.value.len() - 1] {
            let (mut alice, _) = alice_expecting_smp2(31);
            let tlv = Tlv::new(tlv::SMP2, run.m2.value[..len].to_vec());
            let step = alice.handle(&mut rng(30), &ctx_alice(), &tlv);
            assert_cheated(&step, &alice);
        }
    }

    #[test]
    fn garbage_never_panics_or_succeeds() {
        let mut rng = rng(32);
        // States: idle, awaiting the secret, expecting 2, 3 and 4.
        let mk = |rng: &mut ChaCha20Rng, which: u8| -> Smp {
            let mut alice = Smp::new();
            let mut bob = Smp::new();
            if which == 0 {
                return alice;
            }
            let m1 = alice.start(rng, &ctx_alice(), None, b"s").send.unwrap();
            if which == 2 {
                return alice;
            }
            let _ = bob.handle(rng, &ctx_bob(), &m1);
            if which == 1 {
                return bob;
            }
            let m2 = bob.answer(rng, &ctx_bob(), b"s").send.unwrap();
            if which == 3 {
                return bob;
            }
            let _ = alice.handle(rng, &ctx_alice(), &m2);
            alice
        };
        for which in 0..5 {
            let mut smp = mk(&mut rng, which);
            for round in 0..24 {
                let kind = 2 + (round % 6) as u16;
                let len = (rng.next_u32() % 1200) as usize;
                let mut value = vec![0u8; len];
                rng.fill_bytes(&mut value);
                // Sometimes a plausible header: the right count and lengths.
                if round % 3 == 0 && len >= 8 {
                    value[..4].copy_from_slice(&[0, 0, 0, [6, 11, 8, 3][round % 4]]);
                    value[4..8].copy_from_slice(&[0, 0, 0, 192]);
                }
                let step = smp.handle(&mut rng, &ctx_alice(), &Tlv::new(kind, value));
                assert!(!matches!(
                    step.event,
                    Some(SmpEvent::Success | SmpEvent::Failure)
                ));
                if matches!(step.event, Some(SmpEvent::Cheated | SmpEvent::Error)) {
                    assert!(is_abort(&step.send));
                }
                if which != 0 && !smp.in_progress() {
                    smp = mk(&mut rng, which);
                }
            }
        }
    }

    #[test]
    fn reset_forgets_everything() {
        let mut rng = rng(33);
        let mut smp = Smp::new();
        let _ = smp.start(&mut rng, &ctx_alice(), None, b"s");
        smp.reset();
        assert!(!smp.in_progress());
        assert_eq!(format!("{smp:?}"), "Smp { state: Expect1 }");
    }

    #[test]
    fn debug_shows_only_the_state() {
        let mut rng = rng(34);
        let mut alice = Smp::new();
        let mut bob = Smp::new();
        assert_eq!(format!("{alice:?}"), "Smp { state: Expect1 }");
        let step = alice.start(&mut rng, &ctx_alice(), Some("pet?"), b"hunter2");
        assert_eq!(format!("{alice:?}"), "Smp { state: Expect2 }");
        let m1 = step.send.unwrap();
        let _ = bob.handle(&mut rng, &ctx_bob(), &m1);
        assert_eq!(format!("{bob:?}"), "Smp { state: AwaitingSecret }");
        let step = bob.answer(&mut rng, &ctx_bob(), b"hunter2");
        assert_eq!(format!("{bob:?}"), "Smp { state: Expect3 }");
        let step = alice.handle(&mut rng, &ctx_alice(), &step.send.unwrap());
        assert_eq!(format!("{alice:?}"), "Smp { state: Expect4 }");
        let len = step.send.as_ref().unwrap().value.len();
        assert_eq!(
            format!("{step:?}"),
            format!(
                "SmpStep {{ send: Some(Tlv {{ kind: 4, len: {len} }}), event: Some(InProgress) }}"
            )
        );
        assert!(!format!("{alice:?}{bob:?}{step:?}").contains("hunter2"));
    }
}
