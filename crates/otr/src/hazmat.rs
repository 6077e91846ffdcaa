//! Dangerous: session secrets, exposed only with the `hazmat` feature so that
//! test vectors can be checked by other implementations' tools. A client must
//! never enable it.

/// One of our DH key pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurKey {
    /// Its key id.
    pub keyid: u32,
    /// The secret exponent, big-endian.
    pub secret: Vec<u8>,
    /// The public value, big-endian.
    pub public: Vec<u8>,
}

/// One of the peer's DH public keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TheirKey {
    /// Its key id.
    pub keyid: u32,
    /// The public value, big-endian.
    pub public: Vec<u8>,
}

/// The derived keys of one (our key, their key) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairKeys {
    /// Our key id.
    pub our_keyid: u32,
    /// Their key id.
    pub their_keyid: u32,
    /// AES key for what we send.
    pub send_aes: [u8; 16],
    /// AES key for what we receive.
    pub recv_aes: [u8; 16],
    /// MAC key for what we send.
    pub send_mac: [u8; 20],
    /// MAC key for what we receive.
    pub recv_mac: [u8; 20],
}

/// Every key of an encrypted session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSecrets {
    /// Our two newest key pairs.
    pub our_keys: Vec<OurKey>,
    /// The peer's newest one or two keys.
    pub their_keys: Vec<TheirKey>,
    /// The pairs derived so far.
    pub pairs: Vec<PairKeys>,
}
