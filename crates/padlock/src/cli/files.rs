//! Writing exported files: private (mode 0600), whole or not at all, and
//! never over an existing file unless asked.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use super::error::{CliError, ErrorCode, io_error};

/// Refuses if `path` exists and `overwrite` is off.
pub(crate) fn check_free(path: &Path, overwrite: bool) -> Result<(), CliError> {
    if !overwrite && fs::symlink_metadata(path).is_ok() {
        return Err(CliError::new(
            ErrorCode::Refused,
            format!(
                "{} exists; nothing was written. Choose another place, or pass --force to \
                 overwrite it",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Creates a directory (and its parents) with mode 0700 if it is missing.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|error| io_error(dir, &error))
}

/// Writes `bytes` to `path` with mode 0600: into a new temporary file in
/// the same directory, synced, then renamed over `path`.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| {
            CliError::new(
                ErrorCode::InvalidInput,
                format!("{} is not a file name", path.display()),
            )
        })?;
    let temporary = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let written = (|| -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)?;
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    written.map_err(|error| {
        let _ = fs::remove_file(&temporary);
        io_error(path, &error)
    })
}
