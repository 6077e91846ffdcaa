//! The file system under the store: atomic replacement, capped reads,
//! permission checks and the process lock. Unix only (modes, `fsync` of a
//! directory).

use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::StoreError;

/// Mode of every file the store creates.
pub(crate) const SECRET_MODE: u32 = 0o600;
/// Mode of the store directory when Padlock creates it.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Prefix of temporary files, followed by the target's name.
const TEMP_PREFIX: &str = ".tmp-";

pub(crate) fn io_error(path: &Path, source: io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Creates `dir` (and its parents) with mode 0700 if it does not exist.
pub(crate) fn create_dir(dir: &Path) -> Result<(), StoreError> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|source| io_error(dir, source))
}

/// Reads a secret file: refuses it if other users can access it, or if it
/// is larger than `limit` (checked before reading, and again while reading
/// in case it grows). `Ok(None)` if it does not exist.
pub(crate) fn read_secret(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, StoreError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(io_error(path, source)),
    };
    let metadata = file.metadata().map_err(|source| io_error(path, source))?;
    if !metadata.is_file() {
        return Err(StoreError::Corrupt {
            path: path.to_owned(),
            what: "not a regular file".to_owned(),
        });
    }
    let mode = metadata.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(StoreError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    let too_large = || StoreError::Corrupt {
        path: path.to_owned(),
        what: format!("larger than the {limit}-byte limit for a store file"),
    };
    if metadata.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| io_error(path, source))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(Some(bytes))
}

/// Replaces `path` with `bytes` atomically: a new temporary file (mode
/// 0600, created so) in the same directory, written and fsynced, renamed
/// over `path`, then the directory fsynced. A crash at any point leaves
/// either the old file or the new one; a failure removes the temporary.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = parent(path);
    let temp = temp_path(path);
    let result = write_temp(&temp, bytes).and_then(|()| {
        fs::rename(&temp, path).map_err(|source| io_error(path, source))?;
        sync_dir(dir)
    });
    if result.is_err() {
        // The temporary may not exist (or may have been renamed); either
        // way there is nothing more to do with it.
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Removes temporary files a killed writer left behind next to `path`.
/// Only called with the lock held, so no writer is using them.
pub(crate) fn remove_stale_temps(path: &Path) -> Result<(), StoreError> {
    let dir = parent(path);
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
        return Ok(());
    };
    let prefix = format!("{TEMP_PREFIX}{name}.");
    let entries = fs::read_dir(dir).map_err(|source| io_error(dir, source))?;
    for entry in entries {
        let entry = entry.map_err(|source| io_error(dir, source))?;
        if entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(&prefix))
        {
            let stale = entry.path();
            fs::remove_file(&stale).map_err(|source| io_error(&stale, source))?;
        }
    }
    Ok(())
}

fn write_temp(temp: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(SECRET_MODE)
        .open(temp)
        .map_err(|source| io_error(temp, source))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|source| io_error(temp, source))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|source| io_error(dir, source))
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    parent(path).join(format!(
        "{TEMP_PREFIX}{name}.{}.{unique}",
        std::process::id()
    ))
}

/// An exclusive advisory lock on the store (`flock` on the lock file),
/// released when dropped or when the process dies, however it dies.
#[derive(Debug)]
pub(crate) struct StoreLock {
    _file: File,
}

impl StoreLock {
    /// Takes the lock without waiting; `Busy` (with the holder's pid, which
    /// it writes into the file) if another process has it.
    pub(crate) fn acquire(path: &Path) -> Result<Self, StoreError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(SECRET_MODE)
            .open(path)
            .map_err(|source| io_error(path, source))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let pid = (&file)
                    .take(32)
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse().ok());
                return Err(StoreError::Busy {
                    lock_file: path.to_owned(),
                    pid,
                });
            }
            Err(TryLockError::Error(source)) => return Err(io_error(path, source)),
        }
        file.set_len(0)
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .map_err(|source| io_error(path, source))?;
        Ok(Self { _file: file })
    }
}
