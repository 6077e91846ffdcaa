//! Padlock's benchmark against libotr 4.1.1.
//!
//! `otr-bench` (`cargo run --release -p padlock-bench --bin otr-bench`) runs
//! the same workloads ([`Workload`]) through libotr, as a C program compiled
//! at start-up ([`libotr::Libotr`]), and through padlock-otr in process
//! ([`padlock`]), alternating between the two round after round, because on
//! a shared machine only ratios taken in the same run mean anything.
//!
//! Both sides are two parties in memory, "alice" and "bob", whose wire
//! messages are handed over directly (no I/O), and every workload checks
//! that it did its work: both sides private after an AKE, every message
//! decrypted intact, SMP successful on both sides. Time is measured around
//! the measured part only; memory is the peak of live heap bytes above the
//! start of that part, counted the same way on both sides (see [`alloc`]).
//!
//! ```no_run
//! use padlock_bench::{Workload, padlock};
//!
//! let measurement = padlock::run(Workload::Ake, 10)?;
//! println!("{:.1} AKEs/s", measurement.rate());
//! # Ok::<(), padlock_bench::Error>(())
//! ```

pub mod alloc;
pub mod libotr;
pub mod padlock;
pub mod workload;

use std::fmt;

pub use alloc::CountingAllocator;
pub use workload::{Measurement, Workload};

/// Why a benchmark could not run or did not do its work.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The libotr side cannot be built here (no libotr5-dev, pkg-config or
    /// C compiler), or its files cannot be written.
    Setup(String),
    /// The libotr program failed or printed something unexpected.
    Libotr(String),
    /// A Padlock workload did not do its work (a bug to report).
    Check(String),
    /// padlock-otr refused a request.
    Otr(padlock_otr::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Setup(detail) => write!(f, "cannot set up the libotr side: {detail}"),
            Self::Libotr(detail) => write!(f, "the libotr side failed: {detail}"),
            Self::Check(detail) => write!(f, "a Padlock workload failed its check: {detail}"),
            Self::Otr(error) => write!(f, "padlock-otr refused a request: {error}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<padlock_otr::Error> for Error {
    fn from(error: padlock_otr::Error) -> Self {
        Self::Otr(error)
    }
}
