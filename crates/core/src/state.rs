//! The vocabulary of UX.md: conversation states, key-change warning levels,
//! the logging switch.

use std::fmt;

/// The actual state of a conversation, one vocabulary everywhere (status
/// bar, chat lines, help).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrivacyState {
    /// Plaintext.
    NotPrivate,
    /// The key exchange is under way (it times out, and says so).
    Starting,
    /// Encrypted; the contact's key is not verified.
    PrivateUnverified,
    /// Encrypted; the user verified this key.
    PrivateVerified,
    /// The contact ended the private conversation; nothing is sent until
    /// the user ends or restarts it.
    Finished,
    /// The user wants privacy but the session is lost (contact offline,
    /// reconnect); plaintext is blocked; it heals by itself.
    Interrupted,
}

impl PrivacyState {
    /// The name shown to the user.
    pub const fn label(self) -> &'static str {
        match self {
            Self::NotPrivate => "Not private",
            Self::Starting => "Starting",
            Self::PrivateUnverified => "Private, unverified",
            Self::PrivateVerified => "Private, verified",
            Self::Finished => "Finished",
            Self::Interrupted => "Interrupted",
        }
    }

    /// Whether messages are encrypted in this state.
    pub const fn is_private(self) -> bool {
        matches!(self, Self::PrivateUnverified | Self::PrivateVerified)
    }
}

impl fmt::Display for PrivacyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The three levels of key-change warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KeyWarningLevel {
    /// First contact: "not verified yet".
    FirstContact,
    /// A new key for a contact whose keys were never verified: "contacting
    /// you from a new device/key".
    NewKeyNeverVerified,
    /// A new key for a contact the user verified: loud; the chat stays
    /// unverified until the user acts; under `always`, outgoing messages are
    /// held until the user confirms.
    NewKeyForVerified,
}

/// The logging switch: which conversations this device may log. One
/// switch covers every store (chat history, search index, notifications
/// that keep text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logging {
    /// Plaintext conversations may be logged.
    pub plaintext: bool,
    /// Private (encrypted) conversations may be logged.
    pub private: bool,
}

impl Logging {
    /// Whether a message, encrypted or not, may be logged.
    pub const fn may_log(self, encrypted: bool) -> bool {
        if encrypted {
            self.private
        } else {
            self.plaintext
        }
    }
}

impl Default for Logging {
    /// Plaintext logged, private conversations not logged.
    fn default() -> Self {
        Self {
            plaintext: true,
            private: false,
        }
    }
}
