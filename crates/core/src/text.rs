//! Text that must not reach logs: message bodies, SMP secrets and answers.

use std::fmt;

use zeroize::Zeroizing;

/// A piece of text the user wrote or read (a message body, an SMP secret).
///
/// Its `Debug` prints only its length, so that a logged command or event
/// never carries what people said; the bytes are wiped when it is dropped.
/// Read it with [`Sensitive::as_str`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Sensitive(Zeroizing<String>);

impl Sensitive {
    /// Wraps `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self(Zeroizing::new(text.into()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Sensitive {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<String> for Sensitive {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sensitive({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_only_the_length() {
        let text = Sensitive::from("meet me at noon");
        assert_eq!(format!("{text:?}"), "Sensitive(15 bytes)");
        assert_eq!(text.as_str(), "meet me at noon");
    }
}
