//! A virtual clock: a fixed base [`Instant`] plus a simulated [`Duration`].

use std::time::{Duration, Instant};

/// Simulated time. It moves only when the simulation moves it, so that a
/// schedule that waits "two minutes" takes no real time and reproduces
/// exactly.
#[derive(Debug, Clone, Copy)]
pub struct VirtualClock {
    base: Instant,
    elapsed: Duration,
}

impl VirtualClock {
    /// A clock whose time zero is `base`.
    pub fn starting_at(base: Instant) -> Self {
        Self {
            base,
            elapsed: Duration::ZERO,
        }
    }

    /// The current simulated instant.
    pub fn now(&self) -> Instant {
        self.base + self.elapsed
    }

    /// How much simulated time has passed since time zero.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&mut self, by: Duration) {
        self.elapsed += by;
    }

    /// Moves the clock forward to `to`; an instant in the past leaves it
    /// where it is (simulated time never runs backwards).
    pub fn advance_to(&mut self, to: Instant) {
        if let Some(ahead) = to.checked_duration_since(self.now()) {
            self.elapsed += ahead;
        }
    }
}

impl Default for VirtualClock {
    /// A clock starting now (the base instant is irrelevant: engines only
    /// compare instants with each other).
    fn default() -> Self {
        Self::starting_at(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_only_forward() {
        let mut clock = VirtualClock::default();
        let zero = clock.now();
        clock.advance(Duration::from_secs(5));
        assert_eq!(clock.now() - zero, Duration::from_secs(5));
        clock.advance_to(zero);
        assert_eq!(clock.elapsed(), Duration::from_secs(5));
        clock.advance_to(zero + Duration::from_secs(7));
        assert_eq!(clock.elapsed(), Duration::from_secs(7));
    }
}
