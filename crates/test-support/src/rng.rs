//! Seeded randomness: independent named streams from one seed, and dice.

use std::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

/// A reproducible RNG for one purpose of one schedule.
///
/// Each purpose (`"engine"`, `"network"`, `"schedule"`...) gets its own
/// ChaCha20 stream, so that a change in how much randomness one consumer
/// draws does not shift the decisions of the others: a failing seed keeps
/// failing the same way while the code around it changes.
pub fn seeded(seed: u64, purpose: &str) -> ChaCha20Rng {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream(fnv1a(purpose.as_bytes()));
    rng
}

/// FNV-1a, 64 bits: a fixed, dependency-free hash for stream names.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Random decisions for simulations, on any [`Rng`].
pub trait Dice: Rng {
    /// A uniform number in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `true` with probability `p` (never for `p <= 0`, always for `p >= 1`).
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniform number in `[0, n)`; `n` must not be 0.
    fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0) has no value to return");
        // Multiply-shift (Lemire), without the rejection step: the bias is
        // below 2^-32 for the small ranges of a simulation.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform number in `[low, high]`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high, "between({low}, {high}) is empty");
        low + self.below(high - low + 1)
    }

    /// A uniform index into a slice of length `len` (not 0).
    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// One element of `items` (not empty), uniformly.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// One of `choices`, each with its weight (the sum must not be 0).
    fn weighted<T: Copy>(&mut self, choices: &[(u32, T)]) -> T {
        let total: u64 = choices.iter().map(|(weight, _)| u64::from(*weight)).sum();
        let mut roll = self.below(total);
        for &(weight, choice) in choices {
            if roll < u64::from(weight) {
                return choice;
            }
            roll -= u64::from(weight);
        }
        unreachable!("the roll is below the sum of the weights")
    }

    /// A duration in `[low, high]`, to the millisecond.
    fn duration(&mut self, low: Duration, high: Duration) -> Duration {
        let millis = self.between(low.as_millis() as u64, high.as_millis() as u64);
        Duration::from_millis(millis)
    }
}

impl<R: Rng + ?Sized> Dice for R {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a1 = seeded(7, "network").next_u64();
        let a2 = seeded(7, "network").next_u64();
        let b = seeded(7, "engine").next_u64();
        let c = seeded(8, "network").next_u64();
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_ne!(a1, c);
    }

    #[test]
    fn dice_stay_in_range() {
        let mut rng = seeded(1, "dice");
        for _ in 0..1000 {
            assert!(rng.between(3, 5) >= 3 && rng.between(3, 5) <= 5);
            assert!(rng.below(10) < 10);
            let unit = rng.unit();
            assert!((0.0..1.0).contains(&unit));
            assert_eq!(rng.weighted(&[(0, 'a'), (1, 'b'), (0, 'c')]), 'b');
        }
        assert!(!rng.chance(0.0));
        assert!(rng.chance(1.0));
    }
}
