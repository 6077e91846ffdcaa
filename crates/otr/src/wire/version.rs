//! Protocol versions, alone and as the set a peer advertises.

use core::fmt;

/// An OTR protocol version this crate speaks. Version 1 is never spoken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// OTR version 2: no instance tags.
    V2,
    /// OTR version 3: instance tags in every message and fragment.
    V3,
}

impl Version {
    /// The number in an encoded message's protocol version field.
    pub const fn wire_number(self) -> u16 {
        match self {
            Self::V2 => 2,
            Self::V3 => 3,
        }
    }

    /// The version with this wire number, if it is one this crate speaks.
    pub const fn from_wire_number(number: u16) -> Option<Self> {
        match number {
            2 => Some(Self::V2),
            3 => Some(Self::V3),
            _ => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.wire_number())
    }
}

/// The set of protocol versions a peer advertised in a query message or a
/// whitespace tag.
///
/// Version 1 is remembered (so that a v1-only peer can be told apart from a
/// peer that offered nothing) but never chosen; versions above 3 are ignored.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Versions {
    bits: u8,
}

const V1_BIT: u8 = 1 << 0;

impl Versions {
    /// No version at all.
    pub const EMPTY: Self = Self { bits: 0 };
    /// Versions 2 and 3, what this crate offers by default.
    pub const V2_AND_V3: Self = Self {
        bits: bit(Version::V2) | bit(Version::V3),
    };

    /// The set holding only `version`.
    pub const fn only(version: Version) -> Self {
        Self { bits: bit(version) }
    }

    /// This set with `version` added.
    #[must_use]
    pub const fn with(self, version: Version) -> Self {
        Self {
            bits: self.bits | bit(version),
        }
    }

    /// This set with version 1 added (only parsers of received offers need
    /// this).
    #[must_use]
    pub const fn with_v1(self) -> Self {
        Self {
            bits: self.bits | V1_BIT,
        }
    }

    /// Whether `version` is in the set.
    pub const fn contains(self, version: Version) -> bool {
        self.bits & bit(version) != 0
    }

    /// Whether the peer also offered version 1, which is never spoken.
    pub const fn contains_v1(self) -> bool {
        self.bits & V1_BIT != 0
    }

    /// Whether the set holds no version, not even version 1.
    pub const fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// The highest version both this set and the local policy allow.
    pub const fn best_common(self, allow_v2: bool, allow_v3: bool) -> Option<Version> {
        if allow_v3 && self.contains(Version::V3) {
            Some(Version::V3)
        } else if allow_v2 && self.contains(Version::V2) {
            Some(Version::V2)
        } else {
            None
        }
    }
}

impl fmt::Debug for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut set = f.debug_set();
        if self.contains_v1() {
            set.entry(&1);
        }
        for version in [Version::V2, Version::V3] {
            if self.contains(version) {
                set.entry(&version.wire_number());
            }
        }
        set.finish()
    }
}

const fn bit(version: Version) -> u8 {
    match version {
        Version::V2 => 1 << 1,
        Version::V3 => 1 << 2,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn wire_numbers() {
        assert_eq!(Version::V2.wire_number(), 2);
        assert_eq!(Version::V3.wire_number(), 3);
        assert_eq!(Version::from_wire_number(3), Some(Version::V3));
        assert_eq!(Version::from_wire_number(2), Some(Version::V2));
        assert_eq!(Version::from_wire_number(1), None);
        assert_eq!(Version::from_wire_number(4), None);
        assert!(Version::V2 < Version::V3);
        assert_eq!(Version::V3.to_string(), "3");
    }

    #[test]
    fn best_common_prefers_v3() {
        let both = Versions::V2_AND_V3;
        assert_eq!(both.best_common(true, true), Some(Version::V3));
        assert_eq!(both.best_common(true, false), Some(Version::V2));
        assert_eq!(both.best_common(false, true), Some(Version::V3));
        assert_eq!(both.best_common(false, false), None);
        let v2 = Versions::only(Version::V2);
        assert_eq!(v2.best_common(true, true), Some(Version::V2));
        assert_eq!(v2.best_common(false, true), None);
    }

    #[test]
    fn v1_is_remembered_but_never_chosen() {
        let v1 = Versions::EMPTY.with_v1();
        assert!(!v1.is_empty());
        assert!(v1.contains_v1());
        assert!(!v1.contains(Version::V2));
        assert_eq!(v1.best_common(true, true), None);
    }

    #[test]
    fn debug_lists_numbers() {
        let set = Versions::only(Version::V3).with_v1();
        assert_eq!(format!("{set:?}"), "{1, 3}");
        assert_eq!(format!("{:?}", Versions::EMPTY), "{}");
    }
}
