//! OTR policies, with libotr's bit values and meaning.

use std::fmt;
use std::str::FromStr;

/// Which OTR behaviours are allowed or required, as a set of libotr's
/// `OTRL_POLICY_*` bits. Version 1 is never spoken, whatever the bits say.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Policy(u32);

impl Policy {
    /// Allow OTR version 2.
    pub const ALLOW_V2: Self = Self(0x02);
    /// Allow OTR version 3.
    pub const ALLOW_V3: Self = Self(0x04);
    /// Refuse to send unencrypted messages.
    pub const REQUIRE_ENCRYPTION: Self = Self(0x08);
    /// Advertise OTR support with a whitespace tag on plaintext messages.
    pub const SEND_WHITESPACE_TAG: Self = Self(0x10);
    /// Start the AKE when a whitespace tag is received.
    pub const WHITESPACE_START_AKE: Self = Self(0x20);
    /// Start the AKE when an OTR error message is received.
    pub const ERROR_START_AKE: Self = Self(0x40);

    /// Never use OTR.
    pub const NEVER: Self = Self(0);
    /// Use OTR only when the user asks for it.
    pub const MANUAL: Self = Self(Self::ALLOW_V2.0 | Self::ALLOW_V3.0);
    /// Advertise OTR and start it whenever the peer can.
    pub const OPPORTUNISTIC: Self = Self(
        Self::MANUAL.0
            | Self::SEND_WHITESPACE_TAG.0
            | Self::WHITESPACE_START_AKE.0
            | Self::ERROR_START_AKE.0,
    );
    /// Never send plaintext: messages wait until the conversation is private.
    pub const ALWAYS: Self = Self(
        Self::MANUAL.0
            | Self::REQUIRE_ENCRYPTION.0
            | Self::WHITESPACE_START_AKE.0
            | Self::ERROR_START_AKE.0,
    );

    /// The policy with libotr's bit values `bits` (bits we do not know, and
    /// version 1, are dropped).
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits & 0x7e)
    }

    /// libotr's bit values.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of two policies.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// This policy without the bits of `other`.
    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Whether any OTR version is allowed at all.
    pub const fn allows_otr(self) -> bool {
        self.0 & Self::MANUAL.0 != 0
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Self::ALLOW_V2, "ALLOW_V2"),
            (Self::ALLOW_V3, "ALLOW_V3"),
            (Self::REQUIRE_ENCRYPTION, "REQUIRE_ENCRYPTION"),
            (Self::SEND_WHITESPACE_TAG, "SEND_WHITESPACE_TAG"),
            (Self::WHITESPACE_START_AKE, "WHITESPACE_START_AKE"),
            (Self::ERROR_START_AKE, "ERROR_START_AKE"),
        ];
        let set: Vec<&str> = names
            .iter()
            .filter(|(bit, _)| self.contains(*bit))
            .map(|(_, name)| *name)
            .collect();
        write!(f, "Policy({})", set.join(" | "))
    }
}

/// A policy name that is not one of the presets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPolicy(pub String);

impl fmt::Display for UnknownPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown policy {:?}: expected never, manual, opportunistic or always",
            self.0
        )
    }
}

impl std::error::Error for UnknownPolicy {}

impl FromStr for Policy {
    type Err = UnknownPolicy;

    /// The presets by name: `never`, `manual`, `opportunistic`, `always`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "never" => Ok(Self::NEVER),
            "manual" => Ok(Self::MANUAL),
            "opportunistic" => Ok(Self::OPPORTUNISTIC),
            "always" => Ok(Self::ALWAYS),
            other => Err(UnknownPolicy(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_libotr_values() {
        assert_eq!(Policy::NEVER.bits(), 0x00);
        assert_eq!(Policy::MANUAL.bits(), 0x06);
        assert_eq!(Policy::OPPORTUNISTIC.bits(), 0x76);
        assert_eq!(Policy::ALWAYS.bits(), 0x6e);
        assert_eq!("always".parse::<Policy>(), Ok(Policy::ALWAYS));
        assert!("sometimes".parse::<Policy>().is_err());
    }

    #[test]
    fn version_one_is_dropped() {
        assert_eq!(Policy::from_bits(0x01), Policy::NEVER);
        assert!(!Policy::from_bits(0x01).allows_otr());
        assert!(Policy::from_bits(0xff).contains(Policy::OPPORTUNISTIC));
    }
}
