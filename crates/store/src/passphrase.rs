//! The passphrase that encrypts a store: a redacted, zeroized newtype.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A passphrase typed by the user. It is zeroized when dropped, never
/// printed (`Debug` shows `Passphrase(<redacted>)`, there is no `Display`),
/// and reaches only the key derivation.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Passphrase(String);

impl Passphrase {
    /// Wraps a passphrase; the caller should drop (and so zeroize) its own
    /// copy. Whether it is acceptable (not empty) is checked where it is
    /// used to encrypt.
    pub fn new(passphrase: String) -> Self {
        Self(passphrase)
    }

    /// Whether it is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl From<&str> for Passphrase {
    fn from(passphrase: &str) -> Self {
        Self(passphrase.to_owned())
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}
