//! How results are shown: the JSON documents of `--json` (explicit output
//! types, version 1, documented in docs/cli.md) and the words of the human
//! output.

use std::io::{self, Write};

use padlock_otr::{Fingerprint, Policy};
use padlock_store::{Account, AccountId, FingerprintRecord, Trust};
use serde::Serialize;

use super::error::{CliError, ErrorCode};

/// The version of every JSON document; bumped only when a field changes
/// meaning or goes away (new fields may be added within a version).
pub(crate) const JSON_VERSION: u32 = 1;

/// One of the user's accounts.
#[derive(Serialize)]
pub(crate) struct AccountJson {
    pub(crate) name: String,
    pub(crate) protocol: String,
    /// 40 lowercase hex digits, or null when the account has no key.
    pub(crate) fingerprint: Option<String>,
    /// Five groups of eight uppercase hex digits, or null.
    pub(crate) fingerprint_human: Option<String>,
    /// 8 lowercase hex digits, or null.
    pub(crate) instance_tag: Option<String>,
    /// The account's own policy, or null when it inherits the default.
    pub(crate) policy: Option<PolicyJson>,
}

impl AccountJson {
    pub(crate) fn new(account: &Account) -> Self {
        Self {
            name: account.id().name.clone(),
            protocol: account.id().protocol.clone(),
            fingerprint: account.fingerprint().map(|fp| fp.to_hex()),
            fingerprint_human: account.fingerprint().map(|fp| fp.to_string()),
            instance_tag: account.instance_tag().map(|tag| tag.to_string()),
            policy: account.policy().map(PolicyJson::new),
        }
    }
}

/// A policy: a preset name (or `custom`) and libotr's bits.
#[derive(Serialize)]
pub(crate) struct PolicyJson {
    pub(crate) name: &'static str,
    pub(crate) bits: u32,
}

impl PolicyJson {
    pub(crate) fn new(policy: Policy) -> Self {
        Self {
            name: policy_name(policy),
            bits: policy.bits(),
        }
    }
}

/// An account name and protocol, with a key fingerprint.
#[derive(Serialize)]
pub(crate) struct AccountKeyJson {
    pub(crate) name: String,
    pub(crate) protocol: String,
    pub(crate) fingerprint: String,
}

impl AccountKeyJson {
    pub(crate) fn new(id: &AccountId, fingerprint: Fingerprint) -> Self {
        Self {
            name: id.name.clone(),
            protocol: id.protocol.clone(),
            fingerprint: fingerprint.to_hex(),
        }
    }
}

/// Everything known about one fingerprint of one contact.
#[derive(Serialize)]
pub(crate) struct FingerprintJson {
    pub(crate) account: String,
    pub(crate) protocol: String,
    pub(crate) contact: String,
    pub(crate) fingerprint: String,
    pub(crate) fingerprint_human: String,
    /// `unverified`, `fingerprint` or `smp`.
    pub(crate) trust: &'static str,
    pub(crate) verified: bool,
    pub(crate) verified_at: Option<u64>,
    pub(crate) first_seen: Option<u64>,
    pub(crate) last_seen: Option<u64>,
    pub(crate) label: Option<String>,
    /// The contact's most recently seen key.
    pub(crate) latest: bool,
}

impl FingerprintJson {
    pub(crate) fn new(
        account: &AccountId,
        contact: &str,
        record: &FingerprintRecord,
        latest: bool,
    ) -> Self {
        Self {
            account: account.name.clone(),
            protocol: account.protocol.clone(),
            contact: contact.to_owned(),
            fingerprint: record.fingerprint.to_hex(),
            fingerprint_human: record.fingerprint.to_string(),
            trust: record.trust.as_str(),
            verified: record.trust.is_verified(),
            verified_at: record.verified_at,
            first_seen: record.first_seen,
            last_seen: record.last_seen,
            label: record.label.clone(),
            latest,
        }
    }
}

/// Something an import did not take, and why.
#[derive(Serialize)]
pub(crate) struct SkippedJson {
    pub(crate) what: String,
    pub(crate) why: String,
}

/// Writes one JSON document (pretty, with a final newline) to standard
/// output.
pub(crate) fn print_json(document: &impl Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(document).map_err(|error| {
        CliError::new(
            ErrorCode::Failed,
            format!("cannot write JSON (a bug in Padlock): {error}"),
        )
    })?;
    let mut out = io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|error| CliError::new(ErrorCode::Failed, format!("cannot write output: {error}")))
}

/// The JSON error document, written to standard error under `--json`.
#[derive(Serialize)]
pub(crate) struct ErrorJson<'a> {
    pub(crate) version: u32,
    pub(crate) error: ErrorBodyJson<'a>,
}

/// The body of [`ErrorJson`].
#[derive(Serialize)]
pub(crate) struct ErrorBodyJson<'a> {
    pub(crate) code: &'static str,
    pub(crate) message: &'a str,
}

/// A trust level in words.
pub(crate) fn trust_words(record: &FingerprintRecord) -> String {
    let how = match record.trust {
        Trust::Unverified => return "not verified".to_owned(),
        Trust::VerifiedByFingerprint => "verified (fingerprints compared)",
        Trust::VerifiedBySmp => "verified by SMP (a shared secret or a question)",
        _ => "verified",
    };
    match record.verified_at {
        Some(at) => format!("{how} on {}", date(at)),
        None => how.to_owned(),
    }
}

/// A policy's preset name, or `custom`.
pub(crate) fn policy_name(policy: Policy) -> &'static str {
    [
        ("never", Policy::NEVER),
        ("manual", Policy::MANUAL),
        ("opportunistic", Policy::OPPORTUNISTIC),
        ("always", Policy::ALWAYS),
    ]
    .iter()
    .find(|(_, preset)| *preset == policy)
    .map_or("custom", |(name, _)| name)
}

/// A policy in words, for the human output.
pub(crate) fn policy_words(policy: Option<Policy>) -> String {
    match policy {
        None => {
            "default (inherits the global policy; Padlock's default is opportunistic)".to_owned()
        }
        Some(policy) => match policy_name(policy) {
            "custom" => format!("custom (libotr bits {:#04x})", policy.bits()),
            name => name.to_owned(),
        },
    }
}

/// The index of a contact's most recently seen fingerprint: the greatest
/// last-seen time; among equals (or none seen), the one added last.
pub(crate) fn latest_index(records: &[FingerprintRecord]) -> Option<usize> {
    records
        .iter()
        .enumerate()
        .max_by_key(|(index, record)| (record.last_seen, *index))
        .map(|(index, _)| index)
}

/// A time (seconds since the Unix epoch) as a UTC date, `YYYY-MM-DD`.
pub(crate) fn date(seconds: u64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let days = i64::try_from(seconds / 86_400).unwrap_or(i64::MAX / 2) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_600_000_000), "2020-09-13");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_709_251_199), "2024-02-29");
    }
}
