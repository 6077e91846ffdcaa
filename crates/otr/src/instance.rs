//! Instance tags: which client of an account a v3 message comes from or goes to.

use std::fmt;

use rand_core::CryptoRng;

/// A valid instance tag (at least `0x100`). Each account on each device has
/// one, chosen at random once and kept: the caller persists it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceTag(u32);

impl InstanceTag {
    /// The smallest valid tag; smaller values are reserved.
    pub const MIN: u32 = 0x100;

    /// A tag from its value, if valid.
    pub const fn new(value: u32) -> Option<Self> {
        if value >= Self::MIN {
            Some(Self(value))
        } else {
            None
        }
    }

    /// A fresh random tag.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        loop {
            if let Some(tag) = Self::new(rng.next_u32()) {
                return tag;
            }
        }
    }

    /// The tag's value.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Parses 1 to 8 hex digits.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.is_empty() || hex.len() > 8 {
            return None;
        }
        u32::from_str_radix(hex, 16).ok().and_then(Self::new)
    }
}

impl fmt::Display for InstanceTag {
    /// Eight lowercase hex digits, as libotr writes them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

impl fmt::Debug for InstanceTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InstanceTag({:08x})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_values_are_rejected() {
        assert_eq!(InstanceTag::new(0), None);
        assert_eq!(InstanceTag::new(0xff), None);
        assert_eq!(InstanceTag::new(0x100).map(InstanceTag::get), Some(0x100));
        assert_eq!(
            InstanceTag::from_hex("00000100").map(|t| t.to_string()),
            Some("00000100".into())
        );
        assert_eq!(InstanceTag::from_hex("123456789"), None);
        assert_eq!(InstanceTag::from_hex("zz"), None);
    }
}
