//! Encryption at rest: Argon2id turns a passphrase into a 256-bit key,
//! XChaCha20-Poly1305 seals the contents under a fresh random nonce on every
//! write. The KDF parameters and salt travel with the file, so they can be
//! raised later without breaking old files.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::passphrase::Passphrase;

/// Length of the random salt, in bytes.
pub const SALT_LEN: usize = 16;
/// Length of the XChaCha20 nonce, in bytes.
pub const NONCE_LEN: usize = 24;
/// Largest accepted memory cost in KiB (1 GiB): a hostile file must not make
/// Padlock allocate without bound.
pub const MAX_MEMORY_KIB: u32 = 1 << 20;
/// Largest accepted number of passes.
pub const MAX_ITERATIONS: u32 = 64;
/// Largest accepted parallelism.
pub const MAX_PARALLELISM: u32 = 16;

/// Argon2id cost parameters (version 0x13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Number of passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// What new passphrases get: 64 MiB, 3 passes, 1 lane (about a third of
    /// a second on a laptop, once per open or passphrase change).
    pub const RECOMMENDED: Self = Self {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };

    /// Almost free parameters, so tests can encrypt hundreds of times. They
    /// protect nothing against guessing: never use them for a real store.
    pub const fn insecure_for_testing_only() -> Self {
        Self {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        }
    }

    /// Whether Padlock accepts these parameters (in range for Argon2 and
    /// within the caps that keep a hostile file from exhausting memory).
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_PARALLELISM).contains(&self.parallelism) {
            return Err(format!(
                "Argon2 parallelism {} is outside 1..={MAX_PARALLELISM}",
                self.parallelism
            ));
        }
        if !(1..=MAX_ITERATIONS).contains(&self.iterations) {
            return Err(format!(
                "Argon2 iterations {} is outside 1..={MAX_ITERATIONS}",
                self.iterations
            ));
        }
        let min_memory = 8 * self.parallelism;
        if !(min_memory..=MAX_MEMORY_KIB).contains(&self.memory_kib) {
            return Err(format!(
                "Argon2 memory {} KiB is outside {min_memory}..={MAX_MEMORY_KIB}",
                self.memory_kib
            ));
        }
        Ok(())
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::RECOMMENDED
    }
}

/// A key derived from a passphrase, with the salt and parameters that
/// derive it again. Zeroized on drop; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct SealingKey {
    key: [u8; 32],
    #[zeroize(skip)]
    pub(crate) salt: [u8; SALT_LEN],
    #[zeroize(skip)]
    pub(crate) params: KdfParams,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

/// Why sealing or opening failed. Opening failures are deliberately one
/// opaque case.
#[derive(Debug)]
pub(crate) enum CryptoError {
    /// Parameters out of range.
    Params(String),
    /// Wrong key or tampered data.
    Opaque,
    /// No randomness for a salt or nonce.
    Random(getrandom::Error),
}

impl SealingKey {
    /// Derives the key for `passphrase` with a fresh random salt.
    pub(crate) fn fresh(passphrase: &Passphrase, params: KdfParams) -> Result<Self, CryptoError> {
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(CryptoError::Random)?;
        Self::derive(passphrase, salt, params)
    }

    /// Derives the key for `passphrase` with a known salt.
    pub(crate) fn derive(
        passphrase: &Passphrase,
        salt: [u8; SALT_LEN],
        params: KdfParams,
    ) -> Result<Self, CryptoError> {
        params.check().map_err(CryptoError::Params)?;
        let argon_params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            Some(32),
        )
        .map_err(|error| CryptoError::Params(error.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params);
        let mut key = [0u8; 32];
        argon
            .hash_password_into(passphrase.as_bytes(), &salt, &mut key)
            .map_err(|error| CryptoError::Params(error.to_string()))?;
        Ok(Self { key, salt, params })
    }

    /// Whether `passphrase` derives this same key (constant-time compare).
    pub(crate) fn matches(&self, passphrase: &Passphrase) -> Result<bool, CryptoError> {
        let other = Self::derive(passphrase, self.salt, self.params)?;
        Ok(bool::from(self.key.ct_eq(&other.key)))
    }

    /// Encrypts `plaintext` under a fresh random nonce, binding `aad`.
    pub(crate) fn seal(
        &self,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<([u8; NONCE_LEN], Vec<u8>), CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(CryptoError::Random)?;
        let cipher = XChaCha20Poly1305::new(&self.key.into());
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Opaque)?;
        Ok((nonce, ciphertext))
    }

    /// Decrypts and authenticates.
    pub(crate) fn open(
        &self,
        aad: &[u8],
        nonce: &[u8; NONCE_LEN],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let cipher = XChaCha20Poly1305::new(&self.key.into());
        cipher
            .decrypt(
                &XNonce::from(*nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Opaque)
    }
}
