//! Builds an [`ImportReport`]: names normalised once, duplicates merged, and
//! every decision that drops or changes something written to `skipped`.

use std::collections::{BTreeMap, BTreeSet};

use padlock_otr::{Fingerprint, InstanceTag, PrivateKey};

use super::names::bare_jid;
use crate::model::{ImportReport, ImportedAccount, ImportedFingerprint, Skipped, Trust};

/// Accumulates what importers find.
#[derive(Default)]
pub(crate) struct Collector {
    accounts: Vec<ImportedAccount>,
    /// Index into `fingerprints` by (account, protocol, contact, fingerprint).
    fingerprint_index: BTreeMap<(String, String, String, [u8; 20]), usize>,
    fingerprints: Vec<ImportedFingerprint>,
    skipped: Vec<Skipped>,
    noted_resources: BTreeSet<String>,
}

impl Collector {
    /// Records that something was not imported.
    pub(crate) fn skip(&mut self, what: impl Into<String>, why: impl Into<String>) {
        self.skipped.push(Skipped {
            what: what.into(),
            why: why.into(),
        });
    }

    /// A JID from another client as Padlock keeps it (bare), noting a cut
    /// resource once per name; `None` (and a skipped entry naming `what`)
    /// if it is no JID.
    pub(crate) fn jid(&mut self, name: &str, what: &str) -> Option<String> {
        let Some((bare, resource)) = bare_jid(name) else {
            self.skip(what, format!("{:?} is not an XMPP address", name));
            return None;
        };
        if let Some(resource) = resource
            && self.noted_resources.insert(name.to_owned())
        {
            self.skip(
                format!("resource {resource:?} of {name}"),
                format!("Padlock keeps bare addresses; imported as {bare}"),
            );
        }
        Some(bare.to_owned())
    }

    /// Adds an account key, unless the account already has one.
    pub(crate) fn account(&mut self, account: String, protocol: &str, key: PrivateKey, what: &str) {
        let fingerprint = key.public_key().fingerprint();
        if let Some(existing) = self
            .accounts
            .iter()
            .find(|a| a.account == account && a.protocol == protocol)
        {
            let why = if existing.key.public_key().fingerprint() == fingerprint {
                "the same key was already imported for this account".to_owned()
            } else {
                format!(
                    "another key ({}) was already imported for {account}; Padlock keeps one key per account",
                    existing.key.public_key().fingerprint()
                )
            };
            self.skip(format!("{what} (key {fingerprint})"), why);
            return;
        }
        self.accounts.push(ImportedAccount {
            account,
            protocol: protocol.to_owned(),
            key,
            instance_tag: None,
        });
    }

    /// Gives an imported account its instance tag; false if there is no
    /// such account.
    pub(crate) fn instance_tag(&mut self, account: &str, protocol: &str, tag: InstanceTag) -> bool {
        let Some(found) = self
            .accounts
            .iter_mut()
            .find(|a| a.account == account && a.protocol == protocol)
        else {
            return false;
        };
        found.instance_tag = Some(tag);
        true
    }

    /// Adds a contact's fingerprint; a duplicate keeps the higher trust.
    pub(crate) fn fingerprint(
        &mut self,
        account: String,
        protocol: &str,
        contact: String,
        fingerprint: Fingerprint,
        trust: Trust,
    ) {
        let key = (
            account.clone(),
            protocol.to_owned(),
            contact.clone(),
            fingerprint.0,
        );
        if let Some(&i) = self.fingerprint_index.get(&key) {
            if let Some(existing) = self.fingerprints.get_mut(i)
                && rank(trust) > rank(existing.trust)
            {
                existing.trust = trust;
            }
            return;
        }
        self.fingerprint_index.insert(key, self.fingerprints.len());
        self.fingerprints.push(ImportedFingerprint {
            account,
            protocol: protocol.to_owned(),
            contact,
            fingerprint,
            trust,
        });
    }

    /// Takes in another importer's report, merging duplicates.
    pub(crate) fn absorb(&mut self, report: ImportReport) {
        for account in report.accounts {
            let what = format!("key of {} ({})", account.account, account.protocol);
            let (name, protocol, tag) = (
                account.account.clone(),
                account.protocol.clone(),
                account.instance_tag,
            );
            self.account(account.account, &account.protocol, account.key, &what);
            if let Some(tag) = tag {
                let has_tag = self.accounts.iter().any(|a| {
                    a.account == name && a.protocol == protocol && a.instance_tag.is_some()
                });
                if !has_tag {
                    self.instance_tag(&name, &protocol, tag);
                }
            }
        }
        for f in report.fingerprints {
            self.fingerprint(f.account, &f.protocol, f.contact, f.fingerprint, f.trust);
        }
        self.skipped.extend(report.skipped);
    }

    /// The finished report.
    pub(crate) fn finish(self) -> ImportReport {
        ImportReport {
            accounts: self.accounts,
            fingerprints: self.fingerprints,
            skipped: self.skipped,
        }
    }
}

fn rank(trust: Trust) -> u8 {
    match trust {
        Trust::VerifiedBySmp => 2,
        Trust::VerifiedByFingerprint => 1,
        _ => 0,
    }
}
