//! The known-answer vector format, and the player that drives two engines
//! (alice and bob) through a vector's steps and records everything they do.
//!
//! Shared by the generator (`examples/gen_vectors.rs`, which decides the
//! steps) and the runner (`tests/vectors.rs`, which replays the recorded
//! steps and compares what it gets with the file). The decoded message
//! fields and the session keys are recorded so that another implementation
//! (and libotr's toolkit, in `crates/interop/tests/vectors_libotr.rs`) can
//! check every message without reproducing our random number consumption.

use std::time::{Duration, Instant};

use aes::Aes128;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, KeyInit, Mac};
use padlock_otr::hazmat::SessionSecrets;
use padlock_otr::wire::{Body, EncodedMessage, Incoming, classify, split_plaintext};
use padlock_otr::{Event, InstanceTag, Otr, Output, Policy, PrivateKey, SmpEvent};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use sha1::Sha1;

/// The command that rewrites every vector file from the engine.
pub const REGENERATE: &str =
    "cargo run -p padlock-otr --features hazmat --example gen_vectors -- crates/otr/tests/vectors";

/// One of the two parties.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The first party, account name `alice`.
    Alice,
    /// The second party, account name `bob`.
    Bob,
}

impl Side {
    /// The other party.
    pub fn other(self) -> Self {
        match self {
            Self::Alice => Self::Bob,
            Self::Bob => Self::Alice,
        }
    }

    /// The account name the other party's engine knows this party by.
    pub fn account(self) -> &'static str {
        match self {
            Self::Alice => "alice",
            Self::Bob => "bob",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Alice => 0,
            Self::Bob => 1,
        }
    }
}

/// A whole vector file.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct Vector {
    /// The scenario's name (the file name without `.json`).
    pub name: String,
    /// What the scenario exercises.
    pub description: String,
    /// The command that regenerates the file.
    pub regenerate: String,
    /// Alice's inputs.
    pub alice: PartyInputs,
    /// Bob's inputs.
    pub bob: PartyInputs,
    /// What happened, in order: one action of one party each.
    pub steps: Vec<Step>,
    /// Every message either engine asked to send, numbered in order.
    pub wire: Vec<Wire>,
    /// Every DH key pair either engine used, from its key ring.
    pub dh_keys: Vec<DhKey>,
    /// Every OTR message (reassembled from its fragments), decoded, with the
    /// keys of each data message.
    pub messages: Vec<Message>,
}

/// What an engine is made from.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct PartyInputs {
    /// The account name the peer knows this party by.
    pub account: String,
    /// The long-term DSA key, as big-endian hex magnitudes.
    pub dsa: DsaKey,
    /// SHA-1 fingerprint of the public key, 40 lowercase hex digits.
    pub fingerprint: String,
    /// The instance tag.
    pub instance_tag: u32,
    /// libotr policy bits.
    pub policy: u32,
    /// The maximum message size (0: no fragmentation).
    pub max_message_size: usize,
    /// Seed of the party's `ChaCha20Rng` (`seed_from_u64`), used for every
    /// call of its engine.
    pub rng_seed: u64,
}

/// A DSA private key's components, big-endian hex.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct DsaKey {
    /// Modulus.
    pub p: String,
    /// Subgroup order.
    pub q: String,
    /// Generator.
    pub g: String,
    /// Public value.
    pub y: String,
    /// Secret exponent.
    pub x: String,
}

/// One action of one party, and what both engines output after it.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct Step {
    /// Virtual time since the start, in milliseconds.
    pub at_ms: u64,
    /// Who acts.
    pub side: Side,
    /// What they do.
    #[serde(flatten)]
    pub action: Action,
    /// The API call's result, when it returns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Everything polled afterwards (alice's outputs, then bob's).
    pub outputs: Vec<Out>,
}

/// An action of one party.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// `Otr::start` (sends a query).
    Start,
    /// `Otr::send_message`.
    SendMessage {
        /// The user's text.
        text: String,
    },
    /// `Otr::handle_incoming` with the wire message of this index.
    Deliver {
        /// Index into [`Vector::wire`].
        wire: usize,
    },
    /// `Otr::smp_start`.
    SmpStart {
        /// The question, if any.
        question: Option<String>,
        /// The secret (UTF-8).
        secret: String,
    },
    /// `Otr::smp_answer`.
    SmpAnswer {
        /// The secret (UTF-8).
        secret: String,
    },
    /// `Otr::send_extra_symmetric_key`.
    SendExtraSymmetricKey {
        /// The use indicator.
        use_value: u32,
        /// The use-specific data, hex.
        use_data: String,
    },
    /// `Otr::end`.
    End,
}

/// One output of one engine.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct Out {
    /// Whose engine produced it.
    pub side: Side,
    /// The output.
    #[serde(flatten)]
    pub what: What,
}

/// An output, in a stable form.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum What {
    /// `Output::Send`: the index of the message in [`Vector::wire`].
    Send(usize),
    /// `Output::Message`.
    Message {
        /// The remote instance tag, if any.
        instance: Option<u32>,
        /// The text shown.
        text: String,
        /// Whether it was decrypted.
        encrypted: bool,
    },
    /// `Output::Event`, as text (see [`event_text`]).
    Event {
        /// The remote instance tag, if any.
        instance: Option<u32>,
        /// The event.
        event: String,
    },
}

/// One message on the wire (a whole message or one fragment).
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct Wire {
    /// Its number.
    pub index: usize,
    /// The sender.
    pub from: Side,
    /// The receiver.
    pub to: Side,
    /// The text, exactly as sent.
    pub text: String,
}

/// A whole message, decoded.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct Message {
    /// The sender.
    pub from: Side,
    /// The receiver.
    pub to: Side,
    /// The wire messages that carried it: one, or its fragments in order
    /// (whose pieces, concatenated, are the message).
    pub wire: Vec<usize>,
    /// The decoded contents.
    #[serde(flatten)]
    pub decoded: Decoded,
}

/// The contents of a message. Binary fields are hex. Bulky fields that the
/// wire text carries verbatim (encrypted g^x and signatures, ciphertexts)
/// are left out to keep the files small; DH public keys are in
/// [`Vector::dh_keys`].
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decoded {
    /// A query message.
    Query,
    /// An OTR error message.
    Error,
    /// Plaintext (possibly with a whitespace tag).
    Plaintext,
    /// Something that does not decode (never expected).
    Undecodable {
        /// Why.
        error: String,
    },
    /// D-H Commit.
    DhCommit {
        /// Header.
        #[serde(flatten)]
        header: HeaderFields,
        /// SHA-256 of MPI(g^x).
        hashed_gx: String,
    },
    /// D-H Key.
    DhKey {
        /// Header.
        #[serde(flatten)]
        header: HeaderFields,
        /// g^y is the sender's DH key 1.
        gy_keyid: u32,
    },
    /// Reveal Signature.
    RevealSignature {
        /// Header.
        #[serde(flatten)]
        header: HeaderFields,
        /// The revealed AES key r.
        revealed_key: String,
        /// The encrypted signature's length.
        encrypted_signature_length: usize,
        /// Its MAC (first 20 bytes of the HMAC-SHA256).
        mac: String,
    },
    /// Signature.
    Signature {
        /// Header.
        #[serde(flatten)]
        header: HeaderFields,
        /// The encrypted signature's length.
        encrypted_signature_length: usize,
        /// Its MAC.
        mac: String,
    },
    /// Data.
    Data(Box<Data>),
}

/// Version and instance tags of an encoded message.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct HeaderFields {
    /// Protocol version (2 or 3).
    pub version: u16,
    /// Sender instance tag (0 in version 2).
    pub sender_instance: u32,
    /// Receiver instance tag (0 in version 2).
    pub receiver_instance: u32,
}

/// A data message's fields, its plaintext and its keys.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct Data {
    /// Header.
    #[serde(flatten)]
    pub header: HeaderFields,
    /// Flags byte.
    pub flags: u8,
    /// Sender's key id.
    pub sender_keyid: u32,
    /// Recipient's key id.
    pub recipient_keyid: u32,
    /// Top half of the counter, 8 bytes.
    pub counter: String,
    /// HMAC-SHA1 over the message up to the encrypted data.
    pub mac: String,
    /// Revealed old MAC keys, 20 bytes each.
    pub old_mac_keys: Vec<String>,
    /// The decrypted plaintext: text, NUL, TLVs (hex), when the AES key is
    /// known. (The ciphertext is in the wire message.)
    pub plaintext: Option<String>,
    /// The text part of the plaintext, as shown.
    pub text: Option<String>,
    /// The TLVs of the plaintext.
    pub tlvs: Vec<TlvRecord>,
    /// The keys of the key pair used, from both engines.
    pub keys: Keys,
}

/// One TLV (its value is in [`Data::plaintext`]).
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct TlvRecord {
    /// Its type.
    #[serde(rename = "type")]
    pub kind: u16,
    /// The length of its value.
    pub length: usize,
}

/// The derived keys of the key pair a data message used, taken from the
/// engines (`session_secrets_for_testing_only`) right after the sender sent
/// it and right after the receiver received it (or just before, when the
/// session ended with that step); both must agree. The DH keys themselves are
/// in [`Vector::dh_keys`]: the sender's `sender_keyid`, the recipient's
/// `recipient_keyid`, and the next DH key is the sender's `sender_keyid + 1`.
/// Fields neither engine had any more are absent.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug, Default)]
pub struct Keys {
    /// Whether the sender is the "high end" (its DH public key is larger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_is_high_end: Option<bool>,
    /// The AES key (the sender's sending key, the recipient's receiving key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aes: Option<String>,
    /// The MAC key, SHA-1 of the AES key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

/// A DH key of a session (the AKE's has key id 1).
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct DhKey {
    /// Whose key.
    pub owner: Side,
    /// Its key id.
    pub keyid: u32,
    /// The secret exponent, big-endian hex.
    pub secret: Option<String>,
    /// The public value g^secret, minimal big-endian hex.
    pub public: String,
}

/// Drives two engines and records what they do.
pub struct Player {
    name: String,
    description: String,
    inputs: [PartyInputs; 2],
    parties: [Party; 2],
    base: Instant,
    steps: Vec<Step>,
    wire: Vec<Wire>,
    /// The step that produced each wire message.
    produced_at: Vec<usize>,
    /// The step that delivered each wire message.
    delivered_at: Vec<Option<usize>>,
    /// Both parties' session secrets: `[0]` before the first step, `[i + 1]`
    /// after step `i`.
    snapshots: Vec<[Option<SessionSecrets>; 2]>,
}

struct Party {
    otr: Otr,
    rng: ChaCha20Rng,
}

impl Player {
    /// Two engines made from the inputs.
    pub fn new(name: &str, description: &str, alice: PartyInputs, bob: PartyInputs) -> Self {
        let party = |inputs: &PartyInputs| {
            let d = &inputs.dsa;
            let key = PrivateKey::from_components(
                &unhex(&d.p),
                &unhex(&d.q),
                &unhex(&d.g),
                &unhex(&d.y),
                &unhex(&d.x),
            )
            .unwrap_or_else(|e| panic!("{name}: bad DSA key for {}: {e:?}", inputs.account));
            assert_eq!(
                key.public_key().fingerprint().to_hex(),
                inputs.fingerprint,
                "{name}: fingerprint"
            );
            let tag = InstanceTag::new(inputs.instance_tag)
                .unwrap_or_else(|| panic!("{name}: bad instance tag"));
            let mut otr = Otr::new(key, tag, Policy::from_bits(inputs.policy));
            otr.set_max_message_size(inputs.max_message_size);
            Party {
                otr,
                rng: ChaCha20Rng::seed_from_u64(inputs.rng_seed),
            }
        };
        let parties = [party(&alice), party(&bob)];
        Self {
            name: name.to_owned(),
            description: description.to_owned(),
            inputs: [alice, bob],
            parties,
            base: Instant::now(),
            steps: Vec::new(),
            wire: Vec::new(),
            produced_at: Vec::new(),
            delivered_at: Vec::new(),
            snapshots: vec![[None, None]],
        }
    }

    /// Performs one action and records it with every output it caused.
    /// Returns the step's record.
    pub fn step(&mut self, at_ms: u64, side: Side, action: Action) -> &Step {
        let now = self.base + Duration::from_millis(at_ms);
        let index = self.steps.len();
        let peer = side.other().account();
        let party = &mut self.parties[side.index()];
        let result = match &action {
            Action::Start => Some(show_result(party.otr.start(peer, now))),
            Action::SendMessage { text } => Some(show_result(party.otr.send_message(
                peer,
                text,
                now,
                &mut party.rng,
            ))),
            Action::Deliver { wire } => {
                let message = self.wire.get(*wire).unwrap_or_else(|| {
                    panic!(
                        "{}: step {index} delivers wire {wire}, which was never sent",
                        self.name
                    )
                });
                assert_eq!(
                    message.to, side,
                    "{}: step {index} delivers wire {wire} to the wrong side",
                    self.name
                );
                assert!(
                    self.delivered_at[*wire].is_none(),
                    "{}: step {index} delivers wire {wire} twice",
                    self.name
                );
                self.delivered_at[*wire] = Some(index);
                party
                    .otr
                    .handle_incoming(peer, &message.text, now, &mut party.rng);
                None
            }
            Action::SmpStart { question, secret } => Some(show_result(party.otr.smp_start(
                peer,
                question.as_deref(),
                secret.as_bytes(),
                now,
                &mut party.rng,
            ))),
            Action::SmpAnswer { secret } => Some(show_result(party.otr.smp_answer(
                peer,
                secret.as_bytes(),
                now,
                &mut party.rng,
            ))),
            Action::SendExtraSymmetricKey {
                use_value,
                use_data,
            } => Some(
                match party
                    .otr
                    .send_extra_symmetric_key(peer, *use_value, &unhex(use_data), now)
                {
                    Ok(key) => format!("ok key={}", hex(key.expose_secret())),
                    Err(e) => format!("error: {e}"),
                },
            ),
            Action::End => {
                party.otr.end(peer, now, &mut party.rng);
                None
            }
        };
        let mut outputs = Vec::new();
        for from in [Side::Alice, Side::Bob] {
            while let Some(output) = self.parties[from.index()].otr.poll_output() {
                let what = match output {
                    Output::Send { to, text } => {
                        assert_eq!(
                            to,
                            from.other().account(),
                            "{}: send to an unknown peer",
                            self.name
                        );
                        let wire = self.wire.len();
                        self.wire.push(Wire {
                            index: wire,
                            from,
                            to: from.other(),
                            text,
                        });
                        self.produced_at.push(index);
                        self.delivered_at.push(None);
                        What::Send(wire)
                    }
                    Output::Message {
                        instance,
                        text,
                        encrypted,
                        ..
                    } => What::Message {
                        instance: instance.map(InstanceTag::get),
                        text,
                        encrypted,
                    },
                    Output::Event {
                        instance, event, ..
                    } => What::Event {
                        instance: instance.map(InstanceTag::get),
                        event: event_text(&event),
                    },
                    other => panic!("{}: unknown output {other:?}", self.name),
                };
                outputs.push(Out { side: from, what });
            }
        }
        let snapshot = [Side::Alice, Side::Bob].map(|s| self.secrets(s));
        self.snapshots.push(snapshot);
        self.steps.push(Step {
            at_ms,
            side,
            action,
            result,
            outputs,
        });
        &self.steps[index]
    }

    /// The wire messages sent so far.
    pub fn wire(&self) -> &[Wire] {
        &self.wire
    }

    /// The oldest wire message not yet delivered, if any.
    pub fn next_undelivered(&self) -> Option<&Wire> {
        self.delivered_at
            .iter()
            .position(Option::is_none)
            .map(|index| &self.wire[index])
    }

    /// The recorded vector: inputs, steps, wire messages, decoded messages.
    pub fn finish(self) -> Vector {
        let dh_keys = self.dh_keys();
        let messages = self.decode_all(&dh_keys);
        let [alice, bob] = self.inputs;
        Vector {
            name: self.name,
            description: self.description,
            regenerate: REGENERATE.to_owned(),
            alice,
            bob,
            steps: self.steps,
            wire: self.wire,
            dh_keys,
            messages,
        }
    }

    fn secrets(&self, side: Side) -> Option<SessionSecrets> {
        let peer = side.other();
        let otr = &self.parties[side.index()].otr;
        let instance = InstanceTag::new(self.inputs[peer.index()].instance_tag);
        otr.session_secrets_for_testing_only(peer.account(), instance)
            .or_else(|| otr.session_secrets_for_testing_only(peer.account(), None))
    }

    fn decode_all(&self, dh_keys: &[DhKey]) -> Vec<Message> {
        let mut messages = Vec::new();
        // Fragments in progress, per sender: (wire indices, pieces).
        let mut partial: [(Vec<usize>, String); 2] = Default::default();
        for wire in &self.wire {
            match classify(&wire.text) {
                Incoming::Fragment(Ok(fragment)) => {
                    let (indices, pieces) = &mut partial[wire.from.index()];
                    if fragment.k == 1 {
                        indices.clear();
                        pieces.clear();
                    }
                    indices.push(wire.index);
                    pieces.push_str(fragment.piece);
                    if fragment.k == fragment.n {
                        let whole = std::mem::take(pieces);
                        let indices = std::mem::take(indices);
                        let decoded = self.decode(dh_keys, &whole, wire.from, &indices);
                        messages.push(Message {
                            from: wire.from,
                            to: wire.to,
                            wire: indices,
                            decoded,
                        });
                    }
                }
                _ => messages.push(Message {
                    from: wire.from,
                    to: wire.to,
                    wire: vec![wire.index],
                    decoded: self.decode(dh_keys, &wire.text, wire.from, &[wire.index]),
                }),
            }
        }
        messages
    }

    fn decode(&self, dh_keys: &[DhKey], text: &str, from: Side, wire: &[usize]) -> Decoded {
        let message = match classify(text) {
            Incoming::Encoded(Ok(message)) => message,
            Incoming::Encoded(Err(e)) | Incoming::Fragment(Err(e)) => {
                return Decoded::Undecodable {
                    error: e.to_string(),
                };
            }
            Incoming::Fragment(Ok(_)) => {
                return Decoded::Undecodable {
                    error: "a fragment inside a fragment".into(),
                };
            }
            Incoming::Query(_) => return Decoded::Query,
            Incoming::Error(_) => return Decoded::Error,
            Incoming::Plaintext { .. } => return Decoded::Plaintext,
        };
        let EncodedMessage { header, body } = message;
        let header = HeaderFields {
            version: header.version.wire_number(),
            sender_instance: header.sender_instance,
            receiver_instance: header.receiver_instance,
        };
        match body {
            Body::DhCommit { hashed_gx, .. } => Decoded::DhCommit {
                header,
                hashed_gx: hex(&hashed_gx),
            },
            Body::DhKey { gy } => {
                let ake_key = dh_keys.iter().find(|k| k.owner == from && k.keyid == 1);
                assert_eq!(
                    ake_key.map(|k| k.public.clone()),
                    Some(hex(&gy)),
                    "{}: g^y is not the sender's DH key 1",
                    self.name
                );
                Decoded::DhKey {
                    header,
                    gy_keyid: 1,
                }
            }
            Body::RevealSignature {
                revealed_key,
                encrypted_signature,
                mac,
            } => Decoded::RevealSignature {
                header,
                revealed_key: hex(&revealed_key),
                encrypted_signature_length: encrypted_signature.len(),
                mac: hex(&mac),
            },
            Body::Signature {
                encrypted_signature,
                mac,
            } => Decoded::Signature {
                header,
                encrypted_signature_length: encrypted_signature.len(),
                mac: hex(&mac),
            },
            Body::Data(data) => {
                let last = *wire
                    .last()
                    .unwrap_or_else(|| panic!("{}: a message without wire", self.name));
                let produced = self.produced_at[last];
                let delivered = self.delivered_at[last];
                let keys = self.keys(
                    dh_keys,
                    from,
                    produced,
                    delivered,
                    data.sender_keyid,
                    data.recipient_keyid,
                );
                let next = dh_keys
                    .iter()
                    .find(|k| k.owner == from && k.keyid == data.sender_keyid.wrapping_add(1));
                assert_eq!(
                    next.map(|k| k.public.clone()),
                    Some(hex(&data.next_dh)),
                    "{}: wire {last}: the next DH key is not the sender's key {}",
                    self.name,
                    data.sender_keyid.wrapping_add(1)
                );
                let mut plaintext = None;
                let mut shown = None;
                let mut tlvs = Vec::new();
                if let Some(aes) = &keys.aes {
                    let mac_key = keys.mac.as_deref().map(unhex).unwrap_or_default();
                    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&mac_key)
                        .unwrap_or_else(|_| panic!("HMAC takes any key"));
                    mac.update(&data.authenticated);
                    let expected: [u8; 20] = mac.finalize().into_bytes().into();
                    assert_eq!(
                        hex(&expected),
                        hex(&data.mac),
                        "{}: wire {last}: the MAC does not verify with the recorded MAC key",
                        self.name
                    );
                    let mut bytes = data.encrypted.clone();
                    let key: [u8; 16] = unhex(aes)
                        .try_into()
                        .unwrap_or_else(|_| panic!("AES keys are 16 bytes"));
                    let mut iv = [0u8; 16];
                    iv[..8].copy_from_slice(&data.counter);
                    let mut cipher = ctr::Ctr128BE::<Aes128>::new(&key.into(), &iv.into());
                    cipher.apply_keystream(&mut bytes);
                    let (text, records) = split_plaintext(&bytes).unwrap_or_else(|e| {
                        panic!("{}: wire {last}: bad plaintext: {e}", self.name)
                    });
                    shown = Some(String::from_utf8_lossy(&text).into_owned());
                    tlvs = records
                        .iter()
                        .map(|t| TlvRecord {
                            kind: t.kind,
                            length: t.value.len(),
                        })
                        .collect();
                    plaintext = Some(hex(&bytes));
                }
                Decoded::Data(Box::new(Data {
                    header,
                    flags: data.flags,
                    sender_keyid: data.sender_keyid,
                    recipient_keyid: data.recipient_keyid,
                    counter: hex(&data.counter),
                    mac: hex(&data.mac),
                    old_mac_keys: data.old_mac_keys.chunks(20).map(hex).collect(),
                    plaintext,
                    text: shown,
                    tlvs,
                    keys,
                }))
            }
        }
    }

    /// Every DH key in every snapshot, checked for consistency.
    fn dh_keys(&self) -> Vec<DhKey> {
        let mut keys: Vec<DhKey> = Vec::new();
        let mut add = |owner: Side, keyid: u32, secret: Option<Vec<u8>>, public: &[u8]| {
            let public = hex(public);
            let secret = secret.map(|s| hex(&s));
            match keys
                .iter_mut()
                .find(|k| k.owner == owner && k.keyid == keyid)
            {
                Some(known) => {
                    assert_eq!(
                        known.public, public,
                        "{}: {owner:?}'s DH key {keyid} changed",
                        self.name
                    );
                    if secret.is_some() {
                        known.secret = secret;
                    }
                }
                None => keys.push(DhKey {
                    owner,
                    keyid,
                    secret,
                    public,
                }),
            }
        };
        for snapshot in &self.snapshots {
            for side in [Side::Alice, Side::Bob] {
                let Some(secrets) = &snapshot[side.index()] else {
                    continue;
                };
                for key in &secrets.our_keys {
                    add(side, key.keyid, Some(key.secret.clone()), &key.public);
                }
                for key in &secrets.their_keys {
                    add(side.other(), key.keyid, None, &key.public);
                }
            }
        }
        keys.sort_by_key(|k| (k.owner.index(), k.keyid));
        keys
    }

    /// The derived keys of a data message from `from` with these key ids,
    /// produced by step `produced` and delivered by step `delivered`: from
    /// the snapshots after those steps, else before them.
    fn keys(
        &self,
        dh_keys: &[DhKey],
        from: Side,
        produced: usize,
        delivered: Option<usize>,
        sender_id: u32,
        recipient_id: u32,
    ) -> Keys {
        let to = from.other();
        let around = |step: usize, side: Side| {
            [&self.snapshots[step + 1], &self.snapshots[step]]
                .into_iter()
                .filter_map(move |s| s[side.index()].as_ref())
        };
        let mut keys = Keys::default();
        let agree = |slot: &mut Option<String>, value: String, what: &str| match slot {
            Some(existing) => assert_eq!(
                *existing, value,
                "{}: the two engines disagree on the {what} of a data message (keys {sender_id}/{recipient_id})",
                self.name
            ),
            None => *slot = Some(value),
        };
        for secrets in around(produced, from) {
            if let Some(pair) = secrets
                .pairs
                .iter()
                .find(|p| p.our_keyid == sender_id && p.their_keyid == recipient_id)
            {
                agree(&mut keys.aes, hex(&pair.send_aes), "AES key");
                agree(&mut keys.mac, hex(&pair.send_mac), "MAC key");
            }
        }
        for secrets in delivered.into_iter().flat_map(|step| around(step, to)) {
            if let Some(pair) = secrets
                .pairs
                .iter()
                .find(|p| p.our_keyid == recipient_id && p.their_keyid == sender_id)
            {
                agree(&mut keys.aes, hex(&pair.recv_aes), "AES key");
                agree(&mut keys.mac, hex(&pair.recv_mac), "MAC key");
            }
        }
        let public = |owner: Side, keyid: u32| {
            dh_keys
                .iter()
                .find(|k| k.owner == owner && k.keyid == keyid)
                .map(|k| &k.public)
        };
        if let (Some(sender), Some(recipient)) = (public(from, sender_id), public(to, recipient_id))
        {
            // Minimal big-endian hex: longer is larger, else compare digits.
            keys.sender_is_high_end = Some((sender.len(), sender) > (recipient.len(), recipient));
        }
        keys
    }
}

/// An event in a stable textual form.
pub fn event_text(event: &Event) -> String {
    match event {
        Event::GoneSecure(info) => format!(
            "gone_secure fingerprint={} ssid={} version={}",
            info.fingerprint.to_hex(),
            info.ssid.to_hex(),
            info.version.wire_number()
        ),
        Event::StillSecure(info) => format!(
            "still_secure fingerprint={} ssid={} version={}",
            info.fingerprint.to_hex(),
            info.ssid.to_hex(),
            info.version.wire_number()
        ),
        Event::GoneInsecure => "gone_insecure".into(),
        Event::Finished => "finished".into(),
        Event::Smp(smp) => match smp {
            SmpEvent::AskForSecret => "smp ask_for_secret".into(),
            SmpEvent::AskForAnswer { question } => {
                format!("smp ask_for_answer question={question:?}")
            }
            SmpEvent::InProgress => "smp in_progress".into(),
            SmpEvent::Success => "smp success".into(),
            SmpEvent::Failure => "smp failure".into(),
            SmpEvent::Abort => "smp abort".into(),
            SmpEvent::Cheated => "smp cheated".into(),
            SmpEvent::Error => "smp error".into(),
            other => format!("smp {other:?}"),
        },
        Event::ExtraSymmetricKey {
            key,
            use_value,
            use_data,
        } => format!(
            "extra_symmetric_key key={} use={use_value} data={}",
            hex(key.expose_secret()),
            hex(use_data)
        ),
        Event::ConnectionEnded => "connection_ended".into(),
        Event::EncryptionRequired => "encryption_required".into(),
        Event::HeldMessagesSent { count } => format!("held_messages_sent count={count}"),
        Event::UnencryptedWhilePrivate => "unencrypted_while_private".into(),
        Event::Unreadable { reason } => format!("unreadable reason={reason:?}"),
        Event::ForOtherInstance => "for_other_instance".into(),
        Event::Malformed { detail } => format!("malformed detail={detail:?}"),
        Event::PeerError { text } => format!("peer_error text={text:?}"),
        Event::AkeFailed(error) => format!("ake_failed error={error:?}"),
        Event::HeartbeatReceived => "heartbeat_received".into(),
        Event::HeartbeatSent => "heartbeat_sent".into(),
        other => format!("{other:?}"),
    }
}

fn show_result<T>(result: Result<T, padlock_otr::Error>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(e) => format!("error: {e}"),
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes from hex (panics on bad input: vectors are ours).
pub fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd-length hex {text:?}");
    (0..text.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&text[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex {text:?}"))
        })
        .collect()
}
