//! The store's interface, asked at the point of use, and the in-memory
//! reference store.

use padlock_otr::{Fingerprint, InstanceTag, Policy, PrivateKey};

use crate::error::{StoreError, VerifyError};
use crate::model::{
    Account, AccountId, Connection, FingerprintRecord, ImportOutcome, ImportReport, KeyChange,
    Trust, VerifyMethod,
};
use crate::state::State;

/// Keys and trust, as the client asks for them: whenever a decision needs
/// trust (a session starts, a key is shown, the user verifies), it asks the
/// store then and there, never a copy kept from earlier.
///
/// Every change is all-or-nothing: on an error nothing changed (for the
/// file store: neither in memory nor on disk). Times are seconds since the
/// Unix epoch, passed in by the caller: the store reads no clock.
pub trait KeyStore {
    /// One account, if the store knows it.
    fn account(&self, id: &AccountId) -> Option<&Account>;

    /// Every account, sorted by name then protocol.
    fn accounts(&self) -> Vec<&Account>;

    /// Gives an account its key and instance tag (creating the account if
    /// needed). Refused with [`StoreError::KeyExists`] if the account already
    /// has a different key: replacing one is [`KeyStore::replace_account_key`].
    fn set_account_key(
        &mut self,
        id: &AccountId,
        key: PrivateKey,
        instance_tag: InstanceTag,
    ) -> Result<(), StoreError>;

    /// Replaces an account's key and instance tag, returning the old key's
    /// fingerprint. Contacts who verified the old key will see a new one.
    fn replace_account_key(
        &mut self,
        id: &AccountId,
        key: PrivateKey,
        instance_tag: InstanceTag,
    ) -> Result<Option<Fingerprint>, StoreError>;

    /// Sets an account's instance tag (creating the account if needed).
    fn set_instance_tag(
        &mut self,
        id: &AccountId,
        instance_tag: InstanceTag,
    ) -> Result<(), StoreError>;

    /// Sets an account's policy; `None` inherits the global one.
    fn set_policy(&mut self, id: &AccountId, policy: Option<Policy>) -> Result<(), StoreError>;

    /// Sets (or with `None` removes) how to reach the account's server.
    fn set_connection(
        &mut self,
        id: &AccountId,
        connection: Option<Connection>,
    ) -> Result<(), StoreError>;

    /// Removes an account: its key, instance tag, settings, and every
    /// contact's fingerprints and policy. `false` if there was none.
    fn remove_account(&mut self, id: &AccountId) -> Result<bool, StoreError>;

    /// A contact's own policy, `None` if it has none (it inherits the
    /// account's). Independent of the contact's fingerprints.
    fn contact_policy(&self, account: &AccountId, contact: &str) -> Option<Policy>;

    /// Sets a contact's own policy; `None` clears it (the contact inherits
    /// the account's). Forgetting the contact's keys keeps it.
    fn set_contact_policy(
        &mut self,
        account: &AccountId,
        contact: &str,
        policy: Option<Policy>,
    ) -> Result<(), StoreError>;

    /// Records that `contact` uses `fingerprint` now (an AKE completed) and
    /// says what that means for the user: first contact, a new key (for a
    /// contact never verified, or for one with a verified key), or a known
    /// key with its trust. A new key starts unverified; a known key's last
    /// seen time moves forward.
    fn observe(
        &mut self,
        account: &AccountId,
        contact: &str,
        fingerprint: Fingerprint,
        now: u64,
    ) -> Result<KeyChange, StoreError>;

    /// The trust of one fingerprint, `None` if never seen.
    fn trust(&self, account: &AccountId, contact: &str, fingerprint: &Fingerprint)
    -> Option<Trust>;

    /// Everything known about one fingerprint.
    fn fingerprint(
        &self,
        account: &AccountId,
        contact: &str,
        fingerprint: &Fingerprint,
    ) -> Option<&FingerprintRecord>;

    /// Marks the fingerprint the user was `shown` as verified by `method`
    /// at `now`, only if it is the one `in_use` by the session now (a key
    /// that changed while the dialog was open is never verified) and the
    /// store knows it.
    fn verify(
        &mut self,
        account: &AccountId,
        contact: &str,
        shown: Fingerprint,
        in_use: Fingerprint,
        method: VerifyMethod,
        now: u64,
    ) -> Result<(), VerifyError>;

    /// Marks a fingerprint unverified again.
    fn unverify(
        &mut self,
        account: &AccountId,
        contact: &str,
        fingerprint: &Fingerprint,
    ) -> Result<(), StoreError>;

    /// Deletes a fingerprint and everything known about it (the contact too,
    /// if it was the last).
    fn forget(
        &mut self,
        account: &AccountId,
        contact: &str,
        fingerprint: &Fingerprint,
    ) -> Result<(), StoreError>;

    /// Sets (or with `None` or `""`, clears) the user's label of a
    /// fingerprint.
    fn label(
        &mut self,
        account: &AccountId,
        contact: &str,
        fingerprint: &Fingerprint,
        label: Option<&str>,
    ) -> Result<(), StoreError>;

    /// A contact's fingerprints, in the order first seen (empty if unknown).
    fn fingerprints(&self, account: &AccountId, contact: &str) -> &[FingerprintRecord];

    /// The contacts of an account with at least one fingerprint, sorted.
    fn contacts(&self, account: &AccountId) -> Vec<&str>;

    /// Merges what an importer read: keys only into accounts without one
    /// (others are reported in [`ImportOutcome::keys_kept`]), instance tags
    /// only where none is set, new fingerprints added, known ones' trust
    /// only raised. All or nothing.
    fn apply_import(&mut self, report: &ImportReport) -> Result<ImportOutcome, StoreError>;
}

/// Implements [`KeyStore`] for a type with a `state: State` field and an
/// `update` method that applies a change to a copy and commits it.
macro_rules! impl_key_store {
    ($store:ty) => {
        impl $crate::keystore::KeyStore for $store {
            fn account(&self, id: &AccountId) -> Option<&Account> {
                self.state.account(id)
            }

            fn accounts(&self) -> Vec<&Account> {
                self.state.accounts()
            }

            fn set_account_key(
                &mut self,
                id: &AccountId,
                key: PrivateKey,
                instance_tag: InstanceTag,
            ) -> Result<(), StoreError> {
                self.update(|state| state.set_account_key(id, key, instance_tag))
            }

            fn replace_account_key(
                &mut self,
                id: &AccountId,
                key: PrivateKey,
                instance_tag: InstanceTag,
            ) -> Result<Option<Fingerprint>, StoreError> {
                self.update(|state| state.replace_account_key(id, key, instance_tag))
            }

            fn set_instance_tag(
                &mut self,
                id: &AccountId,
                instance_tag: InstanceTag,
            ) -> Result<(), StoreError> {
                self.update(|state| state.set_instance_tag(id, instance_tag))
            }

            fn set_policy(
                &mut self,
                id: &AccountId,
                policy: Option<Policy>,
            ) -> Result<(), StoreError> {
                self.update(|state| state.set_policy(id, policy))
            }

            fn set_connection(
                &mut self,
                id: &AccountId,
                connection: Option<$crate::model::Connection>,
            ) -> Result<(), StoreError> {
                self.update(|state| state.set_connection(id, connection))
            }

            fn remove_account(&mut self, id: &AccountId) -> Result<bool, StoreError> {
                self.update(|state| state.remove_account(id))
            }

            fn contact_policy(&self, account: &AccountId, contact: &str) -> Option<Policy> {
                self.state.contact_policy(account, contact)
            }

            fn set_contact_policy(
                &mut self,
                account: &AccountId,
                contact: &str,
                policy: Option<Policy>,
            ) -> Result<(), StoreError> {
                self.update(|state| state.set_contact_policy(account, contact, policy))
            }

            fn observe(
                &mut self,
                account: &AccountId,
                contact: &str,
                fingerprint: Fingerprint,
                now: u64,
            ) -> Result<KeyChange, StoreError> {
                self.update(|state| state.observe(account, contact, fingerprint, now))
            }

            fn trust(
                &self,
                account: &AccountId,
                contact: &str,
                fingerprint: &Fingerprint,
            ) -> Option<Trust> {
                self.state.trust(account, contact, fingerprint)
            }

            fn fingerprint(
                &self,
                account: &AccountId,
                contact: &str,
                fingerprint: &Fingerprint,
            ) -> Option<&FingerprintRecord> {
                self.state.fingerprint(account, contact, fingerprint)
            }

            fn verify(
                &mut self,
                account: &AccountId,
                contact: &str,
                shown: Fingerprint,
                in_use: Fingerprint,
                method: VerifyMethod,
                now: u64,
            ) -> Result<(), VerifyError> {
                self.update(|state| state.verify(account, contact, shown, in_use, method, now))
            }

            fn unverify(
                &mut self,
                account: &AccountId,
                contact: &str,
                fingerprint: &Fingerprint,
            ) -> Result<(), StoreError> {
                self.update(|state| state.unverify(account, contact, fingerprint))
            }

            fn forget(
                &mut self,
                account: &AccountId,
                contact: &str,
                fingerprint: &Fingerprint,
            ) -> Result<(), StoreError> {
                self.update(|state| state.forget(account, contact, fingerprint))
            }

            fn label(
                &mut self,
                account: &AccountId,
                contact: &str,
                fingerprint: &Fingerprint,
                label: Option<&str>,
            ) -> Result<(), StoreError> {
                self.update(|state| state.label(account, contact, fingerprint, label))
            }

            fn fingerprints(&self, account: &AccountId, contact: &str) -> &[FingerprintRecord] {
                self.state.fingerprints(account, contact)
            }

            fn contacts(&self, account: &AccountId) -> Vec<&str> {
                self.state.contacts(account)
            }

            fn apply_import(&mut self, report: &ImportReport) -> Result<ImportOutcome, StoreError> {
                self.update(|state| state.apply_import(report))
            }
        }
    };
}

pub(crate) use impl_key_store;

/// The reference store: the same rules as the file store, in memory only.
/// For tests, and for a client that keeps nothing on disk.
#[derive(Default, Clone)]
pub struct MemoryStore {
    state: State,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn update<T, E>(&mut self, change: impl FnOnce(&mut State) -> Result<T, E>) -> Result<T, E> {
        let mut next = self.state.clone();
        let result = change(&mut next)?;
        self.state = next;
        Ok(result)
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("accounts", &self.state.accounts.len())
            .field("contacts", &self.state.contact_count())
            .finish()
    }
}

impl_key_store!(MemoryStore);
