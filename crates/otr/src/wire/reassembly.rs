//! In-order reassembly of one sender instance's fragments.

use core::fmt;

use crate::wire::fragment::Fragment;
use crate::wire::version::Version;

/// A reasonable cap on a reassembled message: 1 MiB.
pub const DEFAULT_MAX_REASSEMBLED_LEN: usize = 1 << 20;

/// Reassembles the fragments of one sender instance, following the
/// specification's rules.
///
/// Fragment 1 always starts a new message; fragment k + 1 of the same n (and
/// version) extends it; anything else forgets the partial message. The
/// buffered text is capped. Keep one per (peer, sender instance), and call
/// [`Reassembler::reset`] when that sender's unfragmented message arrives.
pub struct Reassembler {
    max_len: usize,
    buffer: String,
    /// The version, k and n of the last accepted fragment; `None` when idle.
    last: Option<(Version, u16, u16)>,
}

/// What [`Reassembler::push`] made of a fragment.
#[derive(Clone, PartialEq, Eq)]
pub enum Reassembly {
    /// The last fragment arrived: here is the whole message, to be
    /// classified like any received message.
    Complete(String),
    /// The fragment was stored; more are needed.
    Incomplete,
    /// The fragment did not fit and the partial message was forgotten.
    Discarded(DiscardReason),
}

/// Why a fragment (and any partial message) was dropped. Both are the
/// peer's or the network's doing; neither is worth more than a warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DiscardReason {
    /// The fragment was not the one expected next (a lost, repeated or
    /// reordered fragment, or k and n out of range).
    OutOfOrder,
    /// The message would exceed the reassembly cap.
    TooLarge,
}

impl Reassembler {
    /// An idle reassembler holding at most `max_len` bytes of a message.
    pub fn new(max_len: usize) -> Self {
        Self {
            max_len,
            buffer: String::new(),
            last: None,
        }
    }

    /// Takes in the next fragment from this sender instance.
    pub fn push(&mut self, fragment: &Fragment<'_>) -> Reassembly {
        let Fragment { version, k, n, .. } = *fragment;
        if k == 0 || k > n {
            self.reset();
            return Reassembly::Discarded(DiscardReason::OutOfOrder);
        }
        if k == 1 {
            self.reset();
        } else if self.last != Some((version, k - 1, n)) {
            self.reset();
            return Reassembly::Discarded(DiscardReason::OutOfOrder);
        }
        if self.buffer.len().saturating_add(fragment.piece.len()) > self.max_len {
            self.reset();
            return Reassembly::Discarded(DiscardReason::TooLarge);
        }
        self.buffer.push_str(fragment.piece);
        if k == n {
            self.last = None;
            return Reassembly::Complete(core::mem::take(&mut self.buffer));
        }
        self.last = Some((version, k, n));
        Reassembly::Incomplete
    }

    /// Forgets any partial message.
    pub fn reset(&mut self) {
        self.buffer = String::new();
        self.last = None;
    }

    /// Whether a partial message is stored.
    pub fn is_idle(&self) -> bool {
        self.last.is_none()
    }
}

impl Default for Reassembler {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_REASSEMBLED_LEN)
    }
}

impl fmt::Debug for Reassembler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reassembler")
            .field("max_len", &self.max_len)
            .field("buffered_len", &self.buffer.len())
            .field("last", &self.last)
            .finish()
    }
}

impl fmt::Debug for Reassembly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Complete(message) => write!(f, "Complete({} bytes)", message.len()),
            Self::Incomplete => f.write_str("Incomplete"),
            Self::Discarded(reason) => f.debug_tuple("Discarded").field(reason).finish(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::wire::fragment::fragment;

    fn piece(k: u16, n: u16, piece: &str) -> Fragment<'_> {
        Fragment {
            version: Version::V3,
            sender_instance: 0x100,
            receiver_instance: 0x200,
            k,
            n,
            piece,
        }
    }

    #[test]
    fn reassembles_in_order() {
        let mut r = Reassembler::default();
        assert_eq!(r.push(&piece(1, 3, "ab")), Reassembly::Incomplete);
        assert!(!r.is_idle());
        assert_eq!(r.push(&piece(2, 3, "cd")), Reassembly::Incomplete);
        assert_eq!(
            r.push(&piece(3, 3, "e")),
            Reassembly::Complete("abcde".into())
        );
        assert!(r.is_idle());
    }

    #[test]
    fn single_fragment_completes() {
        let mut r = Reassembler::default();
        assert_eq!(r.push(&piece(1, 1, "x")), Reassembly::Complete("x".into()));
    }

    #[test]
    fn reassembles_libotr_fragments() {
        let message = format!("?OTR:{}.", "AAMDJ+MVmSfjFZcAAAAAAQ".repeat(50));
        for version in [Version::V2, Version::V3] {
            let texts = fragment(version, 0x100, 0x200, &message, 100).unwrap();
            let mut r = Reassembler::default();
            let mut outcome = Reassembly::Incomplete;
            for text in &texts {
                assert_eq!(outcome, Reassembly::Incomplete);
                outcome = r.push(&Fragment::parse(text).unwrap());
            }
            assert_eq!(outcome, Reassembly::Complete(message.clone()));
        }
    }

    #[test]
    fn first_fragment_restarts() {
        let mut r = Reassembler::default();
        r.push(&piece(1, 3, "old"));
        r.push(&piece(2, 3, "old"));
        assert_eq!(r.push(&piece(1, 2, "new")), Reassembly::Incomplete);
        assert_eq!(
            r.push(&piece(2, 2, "er")),
            Reassembly::Complete("newer".into())
        );
    }

    #[test]
    fn unexpected_fragments_reset() {
        let cases: [&[(u16, u16)]; 5] = [
            &[(2, 3)],                 // no start
            &[(1, 3), (3, 3)],         // gap
            &[(1, 3), (2, 3), (2, 3)], // repeat
            &[(1, 3), (2, 4)],         // n changed
            &[(1, 3), (0, 3)],         // k = 0
        ];
        for case in cases {
            let mut r = Reassembler::default();
            let (last, first) = case.split_last().unwrap();
            for &(k, n) in first {
                assert_eq!(r.push(&piece(k, n, "p")), Reassembly::Incomplete);
            }
            assert_eq!(
                r.push(&piece(last.0, last.1, "p")),
                Reassembly::Discarded(DiscardReason::OutOfOrder),
                "{case:?}"
            );
            assert!(r.is_idle());
            // The partial message is gone: the next fragment 2 is out of order.
            assert_eq!(
                r.push(&piece(2, 3, "p")),
                Reassembly::Discarded(DiscardReason::OutOfOrder)
            );
        }
    }

    #[test]
    fn version_change_resets() {
        let mut r = Reassembler::default();
        r.push(&piece(1, 2, "a"));
        let mut v2 = piece(2, 2, "b");
        v2.version = Version::V2;
        assert_eq!(
            r.push(&v2),
            Reassembly::Discarded(DiscardReason::OutOfOrder)
        );
    }

    #[test]
    fn k_greater_than_n_is_discarded() {
        let mut r = Reassembler::default();
        assert_eq!(
            r.push(&piece(2, 1, "a")),
            Reassembly::Discarded(DiscardReason::OutOfOrder)
        );
    }

    #[test]
    fn cap_discards() {
        let mut r = Reassembler::new(5);
        assert_eq!(r.push(&piece(1, 3, "abc")), Reassembly::Incomplete);
        assert_eq!(
            r.push(&piece(2, 3, "def")),
            Reassembly::Discarded(DiscardReason::TooLarge)
        );
        assert!(r.is_idle());
        assert_eq!(
            r.push(&piece(1, 1, "abcdef")),
            Reassembly::Discarded(DiscardReason::TooLarge)
        );
        assert_eq!(
            r.push(&piece(1, 1, "abcde")),
            Reassembly::Complete("abcde".into())
        );
    }

    #[test]
    fn empty_final_piece_is_tolerated() {
        let mut r = Reassembler::default();
        r.push(&piece(1, 3, "ab"));
        r.push(&piece(2, 3, "cd"));
        assert_eq!(
            r.push(&piece(3, 3, "")),
            Reassembly::Complete("abcd".into())
        );
    }

    #[test]
    fn reset_forgets() {
        let mut r = Reassembler::default();
        r.push(&piece(1, 2, "a"));
        r.reset();
        assert_eq!(
            r.push(&piece(2, 2, "b")),
            Reassembly::Discarded(DiscardReason::OutOfOrder)
        );
    }

    #[test]
    fn debug_shows_no_text() {
        let mut r = Reassembler::new(100);
        r.push(&piece(1, 2, "secret"));
        assert_eq!(
            format!("{r:?}"),
            "Reassembler { max_len: 100, buffered_len: 6, last: Some((V3, 1, 2)) }"
        );
        assert_eq!(
            format!("{:?}", Reassembly::Complete("secret".into())),
            "Complete(6 bytes)"
        );
    }
}
