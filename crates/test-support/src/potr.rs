//! An OTR peer nobody here wrote: python-potr on slixmpp
//! (`crates/interop/harness/potr_xmpp_peer.py`), logged in to a test
//! [`Prosody`] and driven as [`JsonLines`]; the script's header lists its
//! commands and events.
//!
//! Needs Debian's /usr/bin/python3 with python3-potr, python3-pycryptodome
//! and python3-slixmpp (`scripts/test` installs them).
//!
//! ```no_run
//! use padlock_test_support::{potr, prosody::Prosody};
//!
//! let server = Prosody::start("padlock.test").unwrap();
//! server.register("bob", "bob's password").unwrap();
//! let dir = server.dir();
//! std::fs::write(dir.join("bob.password"), "bob's password").unwrap();
//! let mut bob = potr::spawn(
//!     &server,
//!     "bob",
//!     &dir.join("bob.password"),
//!     &dir.join("bob.key"),
//!     server.ca_file(),
//! );
//! let online = bob.expect("online", |e| e["event"] == "online");
//! assert_eq!(online["fingerprint"].as_str().unwrap().len(), 40);
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::json_lines::JsonLines;
use crate::prosody::Prosody;

/// The interpreter with Debian's python3-potr and python3-slixmpp.
const PYTHON: &str = "/usr/bin/python3";

/// Where potr_xmpp_peer.py is.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop/harness/potr_xmpp_peer.py")
}

/// The command that logs `user` of `server` in with the password in
/// `password_file`, trusting the CA certificate `ca_file`; potr's private
/// key is kept in `key_file` (created when missing).
pub fn command(
    server: &Prosody,
    user: &str,
    password_file: &Path,
    key_file: &Path,
    ca_file: &Path,
) -> Command {
    let mut command = Command::new(PYTHON);
    command
        .arg(script())
        .args(["--jid", &server.jid(user), "--password-file"])
        .arg(password_file)
        .args(["--host", "127.0.0.1", "--port", &server.port().to_string()])
        .arg("--ca-file")
        .arg(ca_file)
        .arg("--key-file")
        .arg(key_file);
    command
}

/// Runs [`command`] as [`JsonLines`] named `user`, whose `error` events
/// (a bad command, an OTR error, a lost connection) fail the test unless
/// picked. Its first event is `online` (or an `error`).
pub fn spawn(
    server: &Prosody,
    user: &str,
    password_file: &Path,
    key_file: &Path,
    ca_file: &Path,
) -> JsonLines {
    JsonLines::spawn(
        command(server, user, password_file, key_file, ca_file),
        user,
    )
    .fails_on(&["error"])
}
