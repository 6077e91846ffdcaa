//! The workloads both implementations run, and what one run measured.

use std::fmt;
use std::str::FromStr;

/// One thing to measure, the same for libotr and Padlock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// DSA-1024 key generation (libotr: `otrl_privkey_generate_calculate`,
    /// without writing the key file).
    Keygen,
    /// A full AKE from a query to both sides private, first contact (a peer
    /// name never seen before).
    Ake,
    /// One-way 16-byte data messages, each sent and decrypted.
    Data16,
    /// One-way 1 KiB data messages.
    Data1k,
    /// One-way 64 KiB data messages.
    Data64k,
    /// 16-byte messages, the senders alternating, so the keys rotate on
    /// every turn.
    PingPong,
    /// A full SMP run with equal secrets, success on both sides.
    Smp,
    /// A 64 KiB message sent as fragments of at most 1000 bytes and
    /// reassembled.
    Fragmented64k,
}

impl Workload {
    /// Every workload, in the order of the table.
    pub const ALL: [Self; 8] = [
        Self::Keygen,
        Self::Ake,
        Self::Data16,
        Self::Data1k,
        Self::Data64k,
        Self::PingPong,
        Self::Smp,
        Self::Fragmented64k,
    ];

    /// The name on the command line and in the C program's arguments.
    pub fn name(self) -> &'static str {
        match self {
            Self::Keygen => "keygen",
            Self::Ake => "ake",
            Self::Data16 => "data-16",
            Self::Data1k => "data-1k",
            Self::Data64k => "data-64k",
            Self::PingPong => "ping-pong",
            Self::Smp => "smp",
            Self::Fragmented64k => "fragmented-64k",
        }
    }

    /// What one iteration is, for the rate's unit.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Keygen => "keys/s",
            Self::Ake => "AKEs/s",
            Self::Data16 | Self::Data1k | Self::Data64k | Self::PingPong => "msgs/s",
            Self::Smp => "SMPs/s",
            Self::Fragmented64k => "msgs/s",
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Workload {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|w| w.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|w| w.name()).collect();
                format!(
                    "unknown workload '{s}'; expected one of: {}",
                    names.join(", ")
                )
            })
    }
}

/// What one run of a workload measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// Iterations run.
    pub iterations: u64,
    /// Seconds spent in the measured part (set-up not included).
    pub seconds: f64,
    /// The most heap bytes live at once during the measured part, above
    /// what was live when it began (for the AKE: during one AKE, the median
    /// over the AKEs).
    pub peak_heap_bytes: u64,
}

impl Measurement {
    /// Iterations per second.
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.iterations as f64 / self.seconds
        } else {
            f64::INFINITY
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for workload in Workload::ALL {
            assert_eq!(workload.name().parse::<Workload>(), Ok(workload));
        }
        let error = "nope".parse::<Workload>().unwrap_err();
        assert!(error.contains("fragmented-64k"), "{error}");
    }
}
