//! The recent history of a simulation, printed when it fails.

use std::collections::VecDeque;
use std::fmt;

/// The last lines of what happened in a simulation: actions, deliveries,
/// faults, timers, outputs. Bounded, so that a long schedule costs little;
/// printed by the panics of [`crate::Pair`] and by tests that fail.
#[derive(Debug, Clone)]
pub struct Transcript {
    lines: VecDeque<String>,
    capacity: usize,
    total: u64,
}

impl Transcript {
    /// The default number of lines kept.
    pub const DEFAULT_CAPACITY: usize = 400;

    /// A transcript that keeps the last `capacity` lines.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            lines: VecDeque::with_capacity(capacity.min(1024)),
            capacity: capacity.max(1),
            total: 0,
        }
    }

    /// Appends a line, forgetting the oldest one when full.
    pub fn log(&mut self, line: impl Into<String>) {
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
        }
        self.lines.push_back(line.into());
        self.total += 1;
    }

    /// The lines kept, oldest first.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(String::as_str)
    }

    /// How many lines were logged in all, including forgotten ones.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.lines.clear();
        self.total = 0;
    }
}

impl Default for Transcript {
    fn default() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }
}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let forgotten = self.total - self.lines.len() as u64;
        if forgotten > 0 {
            writeln!(f, "  ... ({forgotten} earlier lines)")?;
        }
        for line in &self.lines {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

/// A short, printable preview of a message text for a transcript line.
pub fn preview(text: &str) -> String {
    const SHOWN: usize = 48;
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(SHOWN).collect();
    if chars.next().is_some() {
        format!("{head:?}..({} bytes)", text.len())
    } else {
        format!("{head:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines() {
        let mut transcript = Transcript::with_capacity(2);
        for i in 0..5 {
            transcript.log(format!("line {i}"));
        }
        assert_eq!(transcript.lines().collect::<Vec<_>>(), ["line 3", "line 4"]);
        assert_eq!(
            transcript.to_string(),
            "  ... (3 earlier lines)\n  line 3\n  line 4\n"
        );
    }

    #[test]
    fn previews_are_short() {
        assert_eq!(preview("hi"), "\"hi\"");
        assert!(preview(&"x".repeat(100)).ends_with("..(100 bytes)"));
    }
}
