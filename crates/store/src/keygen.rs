//! Key generation off the caller's thread, with progress, failing fast when
//! the system has no randomness.

use std::convert::Infallible;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::thread;

use padlock_otr::{Fingerprint, InstanceTag, PrivateKey};
use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, TryCryptoRng, TryRng};
use zeroize::Zeroizing;

use crate::error::KeyGenError;

/// How often (in random draws) a [`Progress::Working`] report is sent.
const DRAWS_PER_REPORT: u64 = 1024;

/// What a key generation reports while it runs, in order: `Started`, any
/// number of `Working`, then `Finished`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// The worker has its randomness and has begun.
    Started,
    /// Still searching for primes; `steps` grows (for a spinner, not a
    /// percentage: the search length is random).
    Working {
        /// Work done so far, in arbitrary units.
        steps: u64,
    },
    /// Done; the key has this fingerprint.
    Finished {
        /// The new key's fingerprint.
        fingerprint: Fingerprint,
    },
}

/// A key being generated on a worker thread.
#[derive(Debug)]
pub struct KeyJob {
    receiver: Receiver<PrivateKey>,
}

impl KeyJob {
    /// The key if it is ready, without waiting: `None` while the worker
    /// runs. The key is handed out once; later calls return
    /// [`KeyGenError::WorkerFailed`].
    pub fn try_result(&mut self) -> Option<Result<PrivateKey, KeyGenError>> {
        match self.receiver.try_recv() {
            Ok(key) => Some(Ok(key)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(KeyGenError::WorkerFailed)),
        }
    }

    /// Waits for the key.
    pub fn wait(self) -> Result<PrivateKey, KeyGenError> {
        self.receiver.recv().map_err(|_| KeyGenError::WorkerFailed)
    }
}

/// Starts generating a DSA key on a new thread and returns at once.
/// `progress` is called on the worker thread. The system's randomness is
/// read here, before the thread starts, so a system without randomness is
/// reported immediately as [`KeyGenError::NoRandomness`].
pub fn generate_key_in_background(
    progress: impl Fn(Progress) + Send + 'static,
) -> Result<KeyJob, KeyGenError> {
    generate_with_entropy(getrandom::fill, progress)
}

/// A CSPRNG seeded from the system's randomness (for a client's OTR
/// engine): fails at once when the system has none.
pub fn system_rng() -> Result<ChaCha20Rng, KeyGenError> {
    seeded_rng(getrandom::fill)
}

/// A fresh random instance tag from the system's randomness.
pub fn random_instance_tag() -> Result<InstanceTag, KeyGenError> {
    let mut rng = seeded_rng(getrandom::fill)?;
    Ok(InstanceTag::random(&mut rng))
}

pub(crate) fn generate_with_entropy(
    entropy: impl FnOnce(&mut [u8]) -> Result<(), getrandom::Error>,
    progress: impl Fn(Progress) + Send + 'static,
) -> Result<KeyJob, KeyGenError> {
    let rng = seeded_rng(entropy)?;
    let (sender, receiver) = mpsc::channel();
    thread::Builder::new()
        .name("padlock-keygen".to_owned())
        .spawn(move || {
            progress(Progress::Started);
            let mut rng = Reporting {
                inner: rng,
                draws: 0,
                progress: &progress,
            };
            let key = PrivateKey::generate(&mut rng);
            progress(Progress::Finished {
                fingerprint: key.public_key().fingerprint(),
            });
            // The job may have been dropped; then nobody wants the key.
            let _ = sender.send(key);
        })
        .map_err(|_| KeyGenError::WorkerFailed)?;
    Ok(KeyJob { receiver })
}

fn seeded_rng(
    entropy: impl FnOnce(&mut [u8]) -> Result<(), getrandom::Error>,
) -> Result<ChaCha20Rng, KeyGenError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    entropy(seed.as_mut_slice()).map_err(|source| KeyGenError::NoRandomness { source })?;
    Ok(ChaCha20Rng::from_seed(*seed))
}

/// A CSPRNG that reports progress every [`DRAWS_PER_REPORT`] draws.
struct Reporting<'a, R, F> {
    inner: R,
    draws: u64,
    progress: &'a F,
}

impl<R: TryRng<Error = Infallible>, F: Fn(Progress)> Reporting<'_, R, F> {
    fn tick(&mut self) {
        self.draws += 1;
        if self.draws.is_multiple_of(DRAWS_PER_REPORT) {
            (self.progress)(Progress::Working {
                steps: self.draws / DRAWS_PER_REPORT,
            });
        }
    }
}

impl<R: TryRng<Error = Infallible>, F: Fn(Progress)> TryRng for Reporting<'_, R, F> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.tick();
        self.inner.try_next_u32()
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.tick();
        self.inner.try_next_u64()
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.tick();
        self.inner.try_fill_bytes(dst)
    }
}

impl<R: TryCryptoRng<Error = Infallible>, F: Fn(Progress)> TryCryptoRng for Reporting<'_, R, F> {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn no_randomness_fails_at_once_with_a_clear_message() {
        let started = Arc::new(Mutex::new(false));
        let seen = Arc::clone(&started);
        let error = generate_with_entropy(
            |_| Err(getrandom::Error::UNSUPPORTED),
            move |_| *seen.lock().unwrap() = true,
        )
        .unwrap_err();
        assert!(matches!(error, KeyGenError::NoRandomness { .. }));
        assert!(
            error
                .to_string()
                .starts_with("cannot generate a key: the system cannot provide random numbers"),
            "{error}"
        );
        assert!(!*started.lock().unwrap(), "no worker may start");
    }

    #[test]
    fn generation_runs_in_the_background_and_reports_progress() {
        let events = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&events);
        let before = Instant::now();
        let mut job = generate_key_in_background(move |p| log.lock().unwrap().push(p)).unwrap();
        // The call returns before the key exists (a key takes far longer
        // than starting a thread).
        assert!(before.elapsed() < Duration::from_millis(500));
        let key = loop {
            if let Some(result) = job.try_result() {
                break result.unwrap();
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(matches!(
            job.try_result(),
            Some(Err(KeyGenError::WorkerFailed))
        ));
        let events = events.lock().unwrap();
        assert_eq!(events.first(), Some(&Progress::Started));
        assert_eq!(
            events.last(),
            Some(&Progress::Finished {
                fingerprint: key.public_key().fingerprint()
            })
        );
        assert!(
            events[1..events.len() - 1]
                .iter()
                .all(|p| matches!(p, Progress::Working { .. }))
        );
        let tag = random_instance_tag().unwrap();
        assert!(tag.get() >= InstanceTag::MIN);
    }

    #[test]
    fn wait_returns_the_key() {
        let key = generate_key_in_background(|_| {}).unwrap().wait().unwrap();
        let [p, q, g, y, x] = key.components();
        assert!(PrivateKey::from_components(&p, &q, &g, &y, &x).is_ok());
    }
}
