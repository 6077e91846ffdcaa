//! Reading other clients' files from disk and picking the importer by name.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::collect::Collector;
use super::{ImportError, LibotrFiles, PotrFiles, import_jitsi, import_libotr, import_potr};
use crate::model::ImportReport;

/// Largest file an importer reads: 16 MiB, far more than any client writes.
pub const MAX_FILE_SIZE: u64 = 16 << 20;

/// One directory's files: their bytes by kind and (for python-potr) the
/// account label of their name.
type Group = BTreeMap<(Kind, String), Zeroizing<Vec<u8>>>;

/// What a file is, judged by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    LibotrKeys,
    LibotrFingerprints,
    LibotrInstanceTags,
    AdiumAccounts,
    JitsiProperties,
    JitsiContacts,
    PotrKey,
    PotrFingerprints,
}

fn kind(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_str()?;
    let kind = match name {
        "otr.private_key" | "otr.key" | "keys.txt" | "otrkeys" => Kind::LibotrKeys,
        "otr.fingerprints" | "otr.fp" | "fingerprints.txt" | "fingerprints" => {
            Kind::LibotrFingerprints
        }
        "otr.instance_tags" | "otr.instag" | "otrinstags" => Kind::LibotrInstanceTags,
        "Accounts.plist" => Kind::AdiumAccounts,
        "sip-communicator.properties" => Kind::JitsiProperties,
        "contactlist.xml" => Kind::JitsiContacts,
        _ if name.ends_with(".key3") => Kind::PotrKey,
        _ if name.ends_with(".fpr") => Kind::PotrFingerprints,
        _ => return None,
    };
    Some(kind)
}

/// Imports every known key or trust file directly in `dir` (Pidgin's
/// `~/.purple`, Jitsi's `~/.jitsi`, Gajim's data directory, ...). Other files
/// are ignored.
pub fn import_dir(dir: &Path) -> Result<ImportReport, ImportError> {
    let io = |source| ImportError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        if kind(&path).is_some() && entry.file_type().map_err(io)?.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    import_files(&paths)
}

/// Imports the given files, each read by the importer its name calls for:
/// libotr's (`otr.private_key`, `otr.fingerprints`, `otr.instance_tags`,
/// and Adium's `Accounts.plist`), Jitsi's (`sip-communicator.properties`,
/// `contactlist.xml`) and python-potr's (`*.key3`, `*.fpr`). Files from one
/// directory are read together. A file with another name is an error.
pub fn import_files(paths: &[PathBuf]) -> Result<ImportReport, ImportError> {
    // Group by directory: one client's files live together.
    let mut groups: BTreeMap<PathBuf, Group> = BTreeMap::new();
    for path in paths {
        let Some(kind) = kind(path) else {
            return Err(ImportError::Malformed {
                file: path.display().to_string(),
                why: "its name is not one of a known OTR client's key or trust files".into(),
            });
        };
        let dir = path.parent().map(Path::to_owned).unwrap_or_default();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = match kind {
            Kind::PotrKey | Kind::PotrFingerprints => stem,
            _ => String::new(),
        };
        groups
            .entry(dir)
            .or_default()
            .insert((kind, stem), read_capped(path)?);
    }
    if groups.is_empty() {
        return Err(ImportError::NothingToImport);
    }
    let mut out = Collector::default();
    for files in groups.values() {
        let get = |kind: Kind| files.get(&(kind, String::new())).map(|b| b.as_slice());
        let libotr = LibotrFiles {
            private_keys: get(Kind::LibotrKeys),
            fingerprints: get(Kind::LibotrFingerprints),
            instance_tags: get(Kind::LibotrInstanceTags),
            adium_accounts: get(Kind::AdiumAccounts),
        };
        if libotr.private_keys.is_some()
            || libotr.fingerprints.is_some()
            || libotr.instance_tags.is_some()
        {
            out.absorb(import_libotr(&libotr)?);
        }
        if let Some(properties) = get(Kind::JitsiProperties) {
            out.absorb(import_jitsi(properties, get(Kind::JitsiContacts))?);
        }
        let labels: std::collections::BTreeSet<&str> = files
            .keys()
            .filter(|(k, _)| matches!(k, Kind::PotrKey | Kind::PotrFingerprints))
            .map(|(_, stem)| stem.as_str())
            .collect();
        for label in labels {
            let get_potr = |kind: Kind| files.get(&(kind, label.to_owned())).map(|b| b.as_slice());
            out.absorb(import_potr(&PotrFiles {
                account_label: label,
                account: None,
                key3: get_potr(Kind::PotrKey),
                fpr: get_potr(Kind::PotrFingerprints),
            })?);
        }
    }
    Ok(out.finish())
}

/// Reads a whole file, refusing more than [`MAX_FILE_SIZE`] bytes (checked
/// while reading, so a growing or special file cannot exceed it).
fn read_capped(path: &Path) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    // Reserve the file's size up front: growing the buffer would leave
    // copies of key material behind.
    let size = file.metadata().map_err(io)?.len().min(MAX_FILE_SIZE + 1);
    let mut bytes = Zeroizing::new(Vec::with_capacity(
        usize::try_from(size).unwrap_or(0).saturating_add(1),
    ));
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_FILE_SIZE {
        return Err(ImportError::TooLarge {
            path: path.to_owned(),
        });
    }
    Ok(bytes)
}
