//! The store's contents and every rule about them, with no I/O: the
//! in-memory store and the file-backed store both run these functions, the
//! file store then persists the result.

use std::collections::BTreeMap;
use std::sync::Arc;

use padlock_otr::{Fingerprint, InstanceTag, Policy, PrivateKey};

use crate::error::{StoreError, VerifyError};
use crate::model::{
    Account, AccountId, Connection, FingerprintRecord, ImportOutcome, ImportReport, KeyChange,
    Trust, VerifyMethod,
};

/// Longest accepted label, in bytes.
pub const MAX_LABEL_LEN: usize = 256;
/// Longest accepted account, protocol or contact name, in bytes.
pub const MAX_NAME_LEN: usize = 1024;

/// Everything a store holds. Cloning is cheap enough for one copy per
/// change: keys are shared, the rest is small.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub(crate) struct State {
    pub(crate) accounts: BTreeMap<AccountId, Account>,
    /// Per account, per contact: the fingerprints in the order first seen.
    pub(crate) contacts: BTreeMap<AccountId, BTreeMap<String, Vec<FingerprintRecord>>>,
    /// Per account, per contact: the contact's own policy, where set. Kept
    /// apart from the fingerprints: a contact may have a policy before any
    /// key is seen, and keeps it when its last key is forgotten.
    pub(crate) contact_policies: BTreeMap<AccountId, BTreeMap<String, Policy>>,
}

impl State {
    pub(crate) fn account(&self, id: &AccountId) -> Option<&Account> {
        self.accounts.get(id)
    }

    pub(crate) fn accounts(&self) -> Vec<&Account> {
        self.accounts.values().collect()
    }

    pub(crate) fn set_account_key(
        &mut self,
        id: &AccountId,
        key: PrivateKey,
        instance_tag: InstanceTag,
    ) -> Result<(), StoreError> {
        check_account(id)?;
        if let Some(fingerprint) = self.accounts.get(id).and_then(Account::fingerprint)
            && fingerprint != key.public_key().fingerprint()
        {
            return Err(StoreError::KeyExists {
                account: id.clone(),
                fingerprint,
            });
        }
        let account = self.account_entry(id);
        account.key = Some(Arc::new(key));
        account.instance_tag = Some(instance_tag);
        Ok(())
    }

    pub(crate) fn replace_account_key(
        &mut self,
        id: &AccountId,
        key: PrivateKey,
        instance_tag: InstanceTag,
    ) -> Result<Option<Fingerprint>, StoreError> {
        check_account(id)?;
        let account = self.account_entry(id);
        let old = account.fingerprint();
        account.key = Some(Arc::new(key));
        account.instance_tag = Some(instance_tag);
        Ok(old)
    }

    pub(crate) fn set_instance_tag(
        &mut self,
        id: &AccountId,
        instance_tag: InstanceTag,
    ) -> Result<(), StoreError> {
        check_account(id)?;
        self.account_entry(id).instance_tag = Some(instance_tag);
        Ok(())
    }

    pub(crate) fn set_policy(
        &mut self,
        id: &AccountId,
        policy: Option<Policy>,
    ) -> Result<(), StoreError> {
        check_account(id)?;
        self.account_entry(id).policy = policy;
        Ok(())
    }

    pub(crate) fn set_connection(
        &mut self,
        id: &AccountId,
        connection: Option<Connection>,
    ) -> Result<(), StoreError> {
        check_account(id)?;
        if let Some(connection) = &connection {
            for (what, text) in [
                ("server host", connection.host.as_deref()),
                ("password command", connection.password_command.as_deref()),
                ("resource", connection.resource.as_deref()),
            ] {
                if let Some(text) = text {
                    check_name(what, text)?;
                }
            }
        }
        self.account_entry(id).connection = connection;
        Ok(())
    }

    /// Removes an account with its key, contacts' fingerprints and
    /// policies. `false` if there was no such account.
    pub(crate) fn remove_account(&mut self, id: &AccountId) -> Result<bool, StoreError> {
        let existed = self.accounts.remove(id).is_some();
        let had_contacts = self.contacts.remove(id).is_some();
        let had_policies = self.contact_policies.remove(id).is_some();
        Ok(existed || had_contacts || had_policies)
    }

    pub(crate) fn contact_policy(&self, account: &AccountId, contact: &str) -> Option<Policy> {
        self.contact_policies
            .get(account)
            .and_then(|contacts| contacts.get(contact))
            .copied()
    }

    pub(crate) fn set_contact_policy(
        &mut self,
        account: &AccountId,
        contact: &str,
        policy: Option<Policy>,
    ) -> Result<(), StoreError> {
        check_account(account)?;
        check_name("contact", contact)?;
        match policy {
            Some(policy) => {
                self.contact_policies
                    .entry(account.clone())
                    .or_default()
                    .insert(contact.to_owned(), policy);
            }
            None => {
                if let Some(contacts) = self.contact_policies.get_mut(account) {
                    contacts.remove(contact);
                    if contacts.is_empty() {
                        self.contact_policies.remove(account);
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) fn observe(
        &mut self,
        account: &AccountId,
        contact: &str,
        fingerprint: Fingerprint,
        now: u64,
    ) -> Result<KeyChange, StoreError> {
        check_account(account)?;
        check_name("contact", contact)?;
        let records = self
            .contacts
            .entry(account.clone())
            .or_default()
            .entry(contact.to_owned())
            .or_default();
        if let Some(record) = records.iter_mut().find(|r| r.fingerprint == fingerprint) {
            record.last_seen = Some(record.last_seen.map_or(now, |seen| seen.max(now)));
            return Ok(KeyChange::Known {
                trust: record.trust,
            });
        }
        let change = if records.is_empty() {
            KeyChange::FirstContact
        } else if records.iter().any(|r| r.trust.is_verified()) {
            KeyChange::NewKeyForVerified
        } else {
            KeyChange::NewKeyNeverVerified
        };
        records.push(FingerprintRecord {
            fingerprint,
            trust: Trust::Unverified,
            verified_at: None,
            first_seen: Some(now),
            last_seen: Some(now),
            label: None,
        });
        Ok(change)
    }

    pub(crate) fn trust(
        &self,
        account: &AccountId,
        contact: &str,
        fingerprint: &Fingerprint,
    ) -> Option<Trust> {
        self.fingerprint(account, contact, fingerprint)
            .map(|record| record.trust)
    }

    pub(crate) fn fingerprint(
        &self,
        account: &AccountId,
        contact: &str,
        fingerprint: &Fingerprint,
    ) -> Option<&FingerprintRecord> {
        self.fingerprints(account, contact)
            .iter()
            .find(|record| record.fingerprint == *fingerprint)
    }

    pub(crate) fn fingerprints(&self, account: &AccountId, contact: &str) -> &[FingerprintRecord] {
        self.contacts
            .get(account)
            .and_then(|contacts| contacts.get(contact))
            .map_or(&[], Vec::as_slice)
    }

    pub(crate) fn contacts(&self, account: &AccountId) -> Vec<&str> {
        self.contacts
            .get(account)
            .map(|contacts| contacts.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    pub(crate) fn verify(
        &mut self,
        account: &AccountId,
        contact: &str,
        shown: Fingerprint,
        in_use: Fingerprint,
        method: VerifyMethod,
        now: u64,
    ) -> Result<(), VerifyError> {
        if shown != in_use {
            return Err(VerifyError::KeyChanged { shown, in_use });
        }
        let record = self.record_mut(account, contact, &shown).map_err(|_| {
            VerifyError::UnknownFingerprint {
                account: account.clone(),
                contact: contact.to_owned(),
                fingerprint: shown,
            }
        })?;
        record.trust = method.trust();
        record.verified_at = Some(now);
        Ok(())
    }

    pub(crate) fn unverify(
        &mut self,
        account: &AccountId,
        contact: &str,
        fingerprint: &Fingerprint,
    ) -> Result<(), StoreError> {
        let record = self.record_mut(account, contact, fingerprint)?;
        record.trust = Trust::Unverified;
        record.verified_at = None;
        Ok(())
    }

    pub(crate) fn forget(
        &mut self,
        account: &AccountId,
        contact: &str,
        fingerprint: &Fingerprint,
    ) -> Result<(), StoreError> {
        self.record_mut(account, contact, fingerprint)?;
        let Some(contacts) = self.contacts.get_mut(account) else {
            return Ok(());
        };
        if let Some(records) = contacts.get_mut(contact) {
            records.retain(|record| record.fingerprint != *fingerprint);
            if records.is_empty() {
                contacts.remove(contact);
            }
        }
        if contacts.is_empty() {
            self.contacts.remove(account);
        }
        Ok(())
    }

    pub(crate) fn label(
        &mut self,
        account: &AccountId,
        contact: &str,
        fingerprint: &Fingerprint,
        label: Option<&str>,
    ) -> Result<(), StoreError> {
        if let Some(label) = label {
            check_label(label)?;
        }
        let record = self.record_mut(account, contact, fingerprint)?;
        record.label = label.filter(|label| !label.is_empty()).map(str::to_owned);
        Ok(())
    }

    /// Merges what an importer read. Keys go only to accounts without one
    /// (a different existing key is kept and reported); instance tags only
    /// where none is set; fingerprints are added, and a known fingerprint's
    /// trust is only ever raised, never lowered.
    pub(crate) fn apply_import(
        &mut self,
        report: &ImportReport,
    ) -> Result<ImportOutcome, StoreError> {
        let mut outcome = ImportOutcome::default();
        for imported in &report.accounts {
            let id = AccountId::new(&imported.account, &imported.protocol);
            check_account(&id)?;
            let fingerprint = imported.key.public_key().fingerprint();
            let account = self.account_entry(&id);
            match account.fingerprint() {
                None => {
                    account.key = Some(Arc::new(copy_key(&imported.key)?));
                    outcome.keys_added.push(id.clone());
                }
                Some(existing) if existing == fingerprint => {}
                Some(_) => outcome.keys_kept.push(id.clone()),
            }
            if account.instance_tag.is_none() {
                account.instance_tag = imported.instance_tag;
            }
        }
        for imported in &report.fingerprints {
            let id = AccountId::new(&imported.account, &imported.protocol);
            check_account(&id)?;
            check_name("contact", &imported.contact)?;
            let records = self
                .contacts
                .entry(id)
                .or_default()
                .entry(imported.contact.clone())
                .or_default();
            match records
                .iter_mut()
                .find(|r| r.fingerprint == imported.fingerprint)
            {
                Some(record) => {
                    if !record.trust.is_verified() && imported.trust.is_verified() {
                        record.trust = imported.trust;
                        outcome.fingerprints_upgraded += 1;
                    }
                }
                None => {
                    records.push(FingerprintRecord {
                        fingerprint: imported.fingerprint,
                        trust: imported.trust,
                        verified_at: None,
                        first_seen: None,
                        last_seen: None,
                        label: None,
                    });
                    outcome.fingerprints_added += 1;
                }
            }
        }
        Ok(outcome)
    }

    pub(crate) fn contact_count(&self) -> usize {
        self.contacts.values().map(BTreeMap::len).sum()
    }

    fn account_entry(&mut self, id: &AccountId) -> &mut Account {
        self.accounts
            .entry(id.clone())
            .or_insert_with(|| Account::empty(id.clone()))
    }

    fn record_mut(
        &mut self,
        account: &AccountId,
        contact: &str,
        fingerprint: &Fingerprint,
    ) -> Result<&mut FingerprintRecord, StoreError> {
        self.contacts
            .get_mut(account)
            .and_then(|contacts| contacts.get_mut(contact))
            .and_then(|records| records.iter_mut().find(|r| r.fingerprint == *fingerprint))
            .ok_or_else(|| StoreError::UnknownFingerprint {
                account: account.clone(),
                contact: contact.to_owned(),
                fingerprint: *fingerprint,
            })
    }
}

/// A second copy of a key (keys are deliberately not `Clone`).
pub(crate) fn copy_key(key: &PrivateKey) -> Result<PrivateKey, StoreError> {
    let [p, q, g, y, x] = key.components();
    PrivateKey::from_components(&p, &q, &g, &y, &x).map_err(|error| StoreError::Internal {
        what: format!("a valid key did not read back: {error}"),
    })
}

pub(crate) fn check_account(id: &AccountId) -> Result<(), StoreError> {
    check_name("account name", &id.name)?;
    check_name("protocol", &id.protocol)
}

pub(crate) fn check_name(what: &str, name: &str) -> Result<(), StoreError> {
    if name.is_empty() {
        return Err(StoreError::Invalid {
            what: format!("the {what} is empty"),
        });
    }
    if name.len() > MAX_NAME_LEN {
        return Err(StoreError::Invalid {
            what: format!("the {what} is longer than {MAX_NAME_LEN} bytes"),
        });
    }
    if name.chars().any(char::is_control) {
        return Err(StoreError::Invalid {
            what: format!("the {what} contains control characters"),
        });
    }
    Ok(())
}

pub(crate) fn check_label(label: &str) -> Result<(), StoreError> {
    if label.len() > MAX_LABEL_LEN {
        return Err(StoreError::Invalid {
            what: format!("the label is longer than {MAX_LABEL_LEN} bytes"),
        });
    }
    if label.chars().any(char::is_control) {
        return Err(StoreError::Invalid {
            what: "the label contains control characters".to_owned(),
        });
    }
    Ok(())
}
