//! The key file of `otr-peer`: the account's DSA key as hex lines, and its
//! instance tag beside it in `KEYFILE.instag`. Both are created when missing,
//! written atomically (temporary file, fsync, rename) with mode 0600.
//!
//! This is a test tool's format, not Padlock's key store.

use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use padlock_otr::{InstanceTag, PrivateKey};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

const HEADER: &str = "padlock otr-peer key v1";
const NAMES: [&str; 5] = ["p", "q", "g", "y", "x"];

/// Loads the key and instance tag, creating whichever is missing.
pub fn load_or_create<R: CryptoRng + ?Sized>(
    path: &Path,
    rng: &mut R,
) -> io::Result<(PrivateKey, InstanceTag)> {
    let key = match fs::read_to_string(path) {
        Ok(text) => parse_key(&Zeroizing::new(text))?,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let key = PrivateKey::generate(rng);
            write_atomically(path, format_key(&key).as_bytes())?;
            key
        }
        Err(error) => return Err(error),
    };
    let tag_path = instag_path(path);
    let instag = match fs::read_to_string(&tag_path) {
        Ok(text) => InstanceTag::from_hex(text.trim())
            .ok_or_else(|| invalid(format!("{}: not an instance tag", tag_path.display())))?,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let tag = InstanceTag::random(rng);
            write_atomically(&tag_path, format!("{tag}\n").as_bytes())?;
            tag
        }
        Err(error) => return Err(error),
    };
    Ok((key, instag))
}

fn instag_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".instag");
    PathBuf::from(name)
}

fn format_key(key: &PrivateKey) -> Zeroizing<String> {
    let mut text = Zeroizing::new(format!("{HEADER}\n"));
    for (name, value) in NAMES.iter().zip(key.components()) {
        let _ = writeln!(
            text,
            "{name} {}",
            Zeroizing::new(padlock_otr::hex::encode(&value)).as_str()
        );
    }
    text
}

fn parse_key(text: &str) -> io::Result<PrivateKey> {
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err(invalid("not an otr-peer key file".into()));
    }
    let mut values: Vec<Zeroizing<Vec<u8>>> = Vec::with_capacity(5);
    for name in NAMES {
        let line = lines
            .next()
            .ok_or_else(|| invalid(format!("missing {name}")))?;
        let hex = line
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(' '))
            .ok_or_else(|| invalid(format!("expected {name}")))?;
        values.push(Zeroizing::new(
            padlock_otr::hex::decode(hex).ok_or_else(|| invalid(format!("bad hex in {name}")))?,
        ));
    }
    let [p, q, g, y, x] = values.as_slice() else {
        return Err(invalid("missing components".into()));
    };
    PrivateKey::from_components(p, q, g, y, x).map_err(|e| invalid(e.to_string()))
}

fn invalid(detail: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, detail)
}

/// Writes `contents` to `path` through a temporary file in the same
/// directory: written, fsynced, renamed over, and the directory fsynced.
fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".tmp{}", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    if let Err(error) = written.and_then(|()| fs::rename(&temporary, path)) {
        let _ = fs::remove_file(&temporary);
        return Err(error);
    }
    fs::File::open(directory)?.sync_all()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_then_loaded_with_mode_0600() {
        let dir = std::env::temp_dir().join(format!("otr-peer-keyfile-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("alice.key");
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (key, tag) = load_or_create(&path, &mut rng).unwrap();
        let (again, tag_again) = load_or_create(&path, &mut rng).unwrap();
        assert_eq!(key.public_key(), again.public_key());
        assert_eq!(tag, tag_again);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::write(&path, "garbage").unwrap();
        assert!(load_or_create(&path, &mut rng).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
