//! A real XMPP server for end-to-end tests: a private prosody per test.
//!
//! [`Prosody::start`] makes a fresh directory, generates a CA and a server
//! certificate for the domain with the `openssl` command, writes a
//! configuration that listens for clients only (STARTTLS required, on a
//! free loopback port; no server-to-server, HTTP or other listener) and runs
//! `prosody` in the foreground until the port accepts connections. Accounts
//! are made with `prosodyctl register`; [`Prosody::make_friends`] writes the
//! two rosters straight into prosody's data files, so no client has to
//! subscribe. Every stanza the server sends or receives is in
//! [`Prosody::stanza_log`] (prosody's `mod_stanza_debug`), for tests that
//! prove what the server saw, and what it did not.
//!
//! Several servers run side by side, one per test. Dropping the handle stops
//! the server and removes its directory (kept when `PADLOCK_KEEP_PROSODY=1`).
//! Needs Debian's `prosody` (0.12) and `openssl` packages.
//!
//! ```no_run
//! use padlock_test_support::prosody::Prosody;
//!
//! let server = Prosody::start("padlock.test").unwrap();
//! server.register("alice", "alice's password").unwrap();
//! server.register("bob", "bob's password").unwrap();
//! server.make_friends("alice", "bob").unwrap();
//! // Clients connect to 127.0.0.1:server.port() as alice@padlock.test and
//! // trust server.ca_file().
//! assert!(server.ca_file().exists());
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long prosody may take to listen on its port.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long prosody may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);
/// How many free ports are tried when another process takes the one picked.
const PORT_ATTEMPTS: usize = 5;
/// How much of a log an error message quotes.
const LOG_TAIL_LINES: usize = 30;
/// The environment variable that keeps the server's directory after drop.
const KEEP_ENV: &str = "PADLOCK_KEEP_PROSODY";

/// A running prosody of one test: one virtual host, its own CA, directory
/// and port. Stopped, and its directory removed, on drop.
pub struct Prosody {
    domain: String,
    port: u16,
    dir: PathBuf,
    ca: PathBuf,
    prosody: PathBuf,
    prosodyctl: PathBuf,
    child: Option<Child>,
    /// Each user's contacts as written by `make_friends` (rosters are
    /// rewritten whole from this).
    friends: Mutex<BTreeMap<String, BTreeSet<String>>>,
}

/// Why the test server could not do what was asked: a missing program, a
/// failed command, a server that would not start. The message says which,
/// and quotes the output or the tail of prosody's log.
pub struct ProsodyError {
    message: String,
}

impl Prosody {
    /// Starts a fresh server for `domain` (lower-case letters, digits, `.`
    /// and `-`) on a free port of 127.0.0.1 and waits until it accepts
    /// connections (at most 15 s).
    ///
    /// Fails with "install prosody (apt-get install prosody)" when prosody
    /// is not installed, and likewise for openssl.
    pub fn start(domain: &str) -> Result<Prosody, ProsodyError> {
        check_name("domain", domain, true)?;
        let path = std::env::var_os("PATH");
        let prosody = find_program("prosody", path.as_deref())?;
        let prosodyctl = find_program("prosodyctl", path.as_deref())?;
        find_program("openssl", path.as_deref())?;
        let dir = fresh_dir()?;
        let mut server = Prosody {
            domain: domain.to_owned(),
            port: 0,
            ca: dir.join("ca.pem"),
            dir,
            prosody,
            prosodyctl,
            child: None,
            friends: Mutex::new(BTreeMap::new()),
        };
        // From here on, drop cleans up whatever fails.
        for sub in ["data", "certs"] {
            create_dir(&server.dir.join(sub))?;
        }
        server.make_certificates()?;
        let mut attempts = 0;
        loop {
            attempts += 1;
            server.port = free_port()?;
            server.write_config()?;
            match server.launch() {
                Ok(()) => return Ok(server),
                Err(Launch::PortTaken) if attempts < PORT_ATTEMPTS => server.stop(),
                Err(Launch::PortTaken) => {
                    return Err(server.failure(&format!(
                        "prosody found each of {PORT_ATTEMPTS} free ports taken"
                    )));
                }
                Err(Launch::Failed(e)) => return Err(e),
            }
        }
    }

    /// The virtual host's domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The client port on 127.0.0.1 (STARTTLS, required).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The CA certificate (PEM) that signed the server's certificate:
    /// clients must trust it to connect.
    pub fn ca_file(&self) -> &Path {
        &self.ca
    }

    /// The server's directory: configuration, certificates, data, logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `user@domain`.
    pub fn jid(&self, user: &str) -> String {
        format!("{user}@{}", self.domain)
    }

    /// Creates the account `user@domain` (or sets its password) with
    /// `prosodyctl register`; works while the server runs. `user` is
    /// lower-case letters, digits, `.`, `_` and `-`.
    pub fn register(&self, user: &str, password: &str) -> Result<(), ProsodyError> {
        check_name("user", user, false)?;
        let mut command = Command::new(&self.prosodyctl);
        command
            .arg("--config")
            .arg(self.config_path())
            .args(["register", user, &self.domain, password])
            .current_dir(&self.dir);
        let output = command.stdin(Stdio::null()).output().map_err(|e| {
            ProsodyError::new(format!("cannot run {}: {e}", self.prosodyctl.display()))
        })?;
        if output.status.success() {
            return Ok(());
        }
        Err(ProsodyError::new(format!(
            "prosodyctl register {user} {} failed ({}):\n{}{}",
            self.domain,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }

    /// Makes `a` and `b` each other's contacts with mutual presence
    /// subscriptions (`both`), by writing their rosters into prosody's data
    /// files. Call it before either logs in (or [`restart`](Self::restart)
    /// after): the server reads a roster when its user first needs it and
    /// caches it. The two rosters are rewritten whole, with every friend made
    /// so far.
    pub fn make_friends(&self, a: &str, b: &str) -> Result<(), ProsodyError> {
        check_name("user", a, false)?;
        check_name("user", b, false)?;
        if a == b {
            return Err(ProsodyError::new(format!(
                "{a} cannot be their own contact"
            )));
        }
        let mut friends = self.friends.lock().unwrap_or_else(PoisonError::into_inner);
        friends
            .entry(a.to_owned())
            .or_default()
            .insert(b.to_owned());
        friends
            .entry(b.to_owned())
            .or_default()
            .insert(a.to_owned());
        for user in [a, b] {
            let contacts = friends.get(user).cloned().unwrap_or_default();
            self.write_roster(user, &contacts)?;
        }
        Ok(())
    }

    /// Everything the server logged at debug level so far, which includes
    /// every stanza it received (`RECV: <message ...>`) and sent
    /// (`SEND: ...`), one entry per stanza, from `mod_stanza_debug`.
    /// Entries start "Mon DD HH:MM:SS source\tdebug\t"; a stanza whose text
    /// holds a line break continues on the next lines.
    pub fn stanza_log(&self) -> String {
        read_lossy(&self.dir.join("debug.log"))
    }

    /// Prosody's own log (info level and up) so far.
    pub fn log(&self) -> String {
        read_lossy(&self.dir.join("prosody.log"))
    }

    /// Stops the server and starts it again with the same configuration,
    /// data and port, waiting until the port accepts connections. Clients
    /// are disconnected; accounts and rosters stay.
    pub fn restart(&mut self) -> Result<(), ProsodyError> {
        self.stop();
        match self.launch() {
            Ok(()) => Ok(()),
            Err(Launch::PortTaken) => Err(self.failure(&format!(
                "port {} was taken by another process while prosody restarted",
                self.port
            ))),
            Err(Launch::Failed(e)) => Err(e),
        }
    }

    /// Stops the server: SIGTERM (prosody closes every stream), then SIGKILL
    /// if it has not exited within 3 s. Stopping a stopped server does
    /// nothing.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if matches!(child.try_wait(), Ok(None)) {
            // std can only SIGKILL; sh's built-in kill sends SIGTERM.
            let _ = Command::new("sh")
                .args(["-c", "kill -TERM \"$1\"", "sh", &child.id().to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let exited = || (!matches!(child.try_wait(), Ok(None))).then_some(());
            if wait_until(STOP_TIMEOUT, exited).is_none() {
                let _ = child.kill();
            }
        }
        let _ = child.wait();
    }

    // --- set-up ----------------------------------------------------------

    fn config_path(&self) -> PathBuf {
        self.dir.join("prosody.cfg.lua")
    }

    fn cert_path(&self) -> PathBuf {
        self.dir.join("certs").join(format!("{}.crt", self.domain))
    }

    fn key_path(&self) -> PathBuf {
        self.dir.join("certs").join(format!("{}.key", self.domain))
    }

    /// A CA and a certificate for the domain signed by it (P-256, a week),
    /// with `openssl`. The server's pair is also where prosody's certificate
    /// directory search expects it, `certs/DOMAIN.{crt,key}`.
    fn make_certificates(&self) -> Result<(), ProsodyError> {
        let cnf = self.dir.join("openssl.cnf");
        write_file(
            &cnf,
            &format!(
                "[req]\n\
                 distinguished_name = dn\n\
                 prompt = no\n\
                 [dn]\n\
                 CN = unused\n\
                 [ca]\n\
                 basicConstraints = critical, CA:TRUE\n\
                 keyUsage = critical, keyCertSign, cRLSign\n\
                 subjectKeyIdentifier = hash\n\
                 [server]\n\
                 basicConstraints = critical, CA:FALSE\n\
                 keyUsage = critical, digitalSignature, keyEncipherment\n\
                 extendedKeyUsage = serverAuth\n\
                 subjectAltName = DNS:{domain}\n\
                 subjectKeyIdentifier = hash\n\
                 authorityKeyIdentifier = keyid\n",
                domain = self.domain
            ),
        )?;
        let ca_key = self.dir.join("ca.key");
        let csr = self.dir.join("server.csr");
        let new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        self.openssl(
            Command::new("openssl")
                .args(["req", "-x509", "-config"])
                .arg(&cnf)
                .args(["-extensions", "ca", "-days", "7", "-nodes"])
                .args(new_key)
                .args(["-subj", "/CN=Padlock test CA"])
                .arg("-keyout")
                .arg(&ca_key)
                .arg("-out")
                .arg(self.ca_file()),
        )?;
        self.openssl(
            Command::new("openssl")
                .args(["req", "-new", "-config"])
                .arg(&cnf)
                .arg("-nodes")
                .args(new_key)
                .args(["-subj", &format!("/CN={}", self.domain)])
                .arg("-keyout")
                .arg(self.key_path())
                .arg("-out")
                .arg(&csr),
        )?;
        self.openssl(
            Command::new("openssl")
                .args(["x509", "-req", "-in"])
                .arg(&csr)
                .arg("-CA")
                .arg(self.ca_file())
                .arg("-CAkey")
                .arg(&ca_key)
                .args(["-set_serial", "2", "-days", "7", "-extfile"])
                .arg(&cnf)
                .args(["-extensions", "server", "-out"])
                .arg(self.cert_path()),
        )
    }

    fn openssl(&self, command: &mut Command) -> Result<(), ProsodyError> {
        let output = command
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| ProsodyError::new(format!("cannot run openssl: {e}")))?;
        if output.status.success() {
            return Ok(());
        }
        Err(ProsodyError::new(format!(
            "openssl failed ({}): {command:?}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )))
    }

    /// The configuration: c2s on 127.0.0.1:port only, STARTTLS and hashed
    /// passwords, no registration, the modules of a typical server (not MAM)
    /// and the stanza debug log.
    fn write_config(&self) -> Result<(), ProsodyError> {
        let path = |p: &Path| lua_path(p);
        let dir = &self.dir;
        let config = format!(
            r#"-- Written by padlock-test-support for one test.
run_as_root = true -- CI runs as root
pidfile = {pidfile}
data_path = {data}
certificates = {certs}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
c2s_direct_tls_ports = {{ }}
legacy_ssl_ports = {{ }}
s2s_ports = {{ }}
s2s_direct_tls_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
component_ports = {{ }}
c2s_require_encryption = true
s2s_require_encryption = true
allow_unencrypted_plain_auth = false
authentication = "internal_hashed"
storage = "internal"
allow_registration = false
modules_enabled = {{
	"roster"; "saslauth"; "tls"; "disco"; "carbons"; "smacks"; "ping";
	"blocklist"; "bookmarks"; "pep"; "private"; "vcard4"; "vcard_legacy";
	"csi_simple"; "time"; "uptime"; "version"; "posix";
	-- presence, message, iq and offline are always loaded; mam is not
	"stanza_debug";
}}
modules_disabled = {{ "s2s"; "s2s_auth_certs" }}
-- A client killed without logging out goes offline (its contacts see the
-- unavailable presence) after 2 s instead of the default 10 minutes of
-- XEP-0198 hibernation: tests wait for it.
smacks_hibernation_time = 2
log = {{
	{{ levels = {{ min = "info" }}, to = "file", filename = {log} }};
	-- mod_stanza_debug logs every stanza at debug level
	{{ levels = {{ min = "debug" }}, to = "file", filename = {debug_log} }};
}}

VirtualHost {domain}
	ssl = {{ certificate = {cert}, key = {key} }}
"#,
            pidfile = path(&dir.join("prosody.pid"))?,
            data = path(&dir.join("data"))?,
            certs = path(&dir.join("certs"))?,
            port = self.port,
            log = path(&dir.join("prosody.log"))?,
            debug_log = path(&dir.join("debug.log"))?,
            domain = lua_string(&self.domain),
            cert = path(&self.cert_path())?,
            key = path(&self.key_path())?,
        );
        write_file(&self.config_path(), &config)
    }

    /// Rewrites `user`'s roster file (prosody's `internal` storage: a Lua
    /// table in `data/<host>/roster/<user>.dat`, names escaped as
    /// util/datamanager.lua does).
    fn write_roster(&self, user: &str, contacts: &BTreeSet<String>) -> Result<(), ProsodyError> {
        let dir = self
            .dir
            .join("data")
            .join(datamanager_encode(&self.domain))
            .join("roster");
        fs::create_dir_all(&dir).map_err(|e| io_error("create", &dir, &e))?;
        let mut roster = String::from("return {\n\t[false] = {\n\t\t[\"version\"] = 1;\n\t};\n");
        for contact in contacts {
            roster.push_str(&format!(
                "\t[{jid}] = {{\n\t\t[\"subscription\"] = \"both\";\n\t\t[\"name\"] = {name};\n\t\t[\"groups\"] = {{}};\n\t}};\n",
                jid = lua_string(&self.jid(contact)),
                name = lua_string(contact),
            ));
        }
        roster.push_str("};\n");
        let file = dir.join(format!("{}.dat", datamanager_encode(user)));
        let tmp = dir.join(format!("{}.dat.tmp", datamanager_encode(user)));
        write_file(&tmp, &roster)?;
        fs::rename(&tmp, &file).map_err(|e| io_error("rename", &tmp, &e))
    }

    // --- the process -----------------------------------------------------

    /// Runs prosody in the foreground and waits until it listens on
    /// `self.port`: its log says so, for this run, and the port accepts a
    /// connection.
    fn launch(&mut self) -> Result<(), Launch> {
        let log_path = self.dir.join("prosody.log");
        let log_offset = fs::metadata(&log_path).map_or(0, |m| m.len());
        let output = |name: &str| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join(name))
                .map_err(|e| Launch::Failed(io_error("open", &self.dir.join(name), &e)))
        };
        let (stdout, stderr) = (output("prosody.stdout")?, output("prosody.stderr")?);
        let child = Command::new(&self.prosody)
            .arg("--config")
            .arg(self.config_path())
            .arg("-F") // foreground (the `daemonize` option is deprecated)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| {
                Launch::Failed(ProsodyError::new(format!(
                    "cannot run {}: {e}",
                    self.prosody.display()
                )))
            })?;
        self.child = Some(child);

        let activated = format!("Activated service 'c2s' on [127.0.0.1]:{}", self.port);
        let port_taken = format!("Failed to open server port {} ", self.port);
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let child = &mut self.child;
        let outcome = wait_until(START_TIMEOUT, || {
            if let Some(Ok(Some(status))) = child.as_mut().map(Child::try_wait) {
                return Some(Err(Some(status)));
            }
            let log = read_from(&log_path, log_offset);
            if log.contains(&port_taken) {
                return Some(Err(None));
            }
            (log.contains(&activated)
                && TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok())
            .then_some(Ok(()))
        });
        match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err(None)) => Err(Launch::PortTaken),
            Some(Err(Some(status))) => Err(Launch::Failed(
                self.failure(&format!("prosody exited ({status})")),
            )),
            None => Err(Launch::Failed(self.failure(&format!(
                "prosody did not listen on 127.0.0.1:{} within {START_TIMEOUT:?}",
                self.port
            )))),
        }
    }

    /// An error quoting the tail of prosody's log and its output.
    fn failure(&self, what: &str) -> ProsodyError {
        let mut message = format!(
            "{what}; in {} (removed on drop unless {KEEP_ENV}=1)",
            self.dir.display()
        );
        for name in ["prosody.log", "prosody.stdout", "prosody.stderr"] {
            let text = read_lossy(&self.dir.join(name));
            let lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                continue;
            }
            let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
            message.push_str(&format!("\n--- {name} (end) ---\n{}", tail.join("\n")));
        }
        ProsodyError::new(message)
    }
}

impl Drop for Prosody {
    fn drop(&mut self) {
        self.stop();
        if std::env::var_os(KEEP_ENV).is_some_and(|v| v == "1") {
            eprintln!("{KEEP_ENV}=1: kept {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

impl fmt::Debug for Prosody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prosody")
            .field("domain", &self.domain)
            .field("port", &self.port)
            .field("dir", &self.dir)
            .field("pid", &self.child.as_ref().map(Child::id))
            .finish_non_exhaustive()
    }
}

impl ProsodyError {
    fn new(message: String) -> Self {
        Self { message }
    }
}

impl fmt::Display for ProsodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

// Debug prints the message as is, so that `unwrap()` shows the quoted log
// line by line.
impl fmt::Debug for ProsodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProsodyError {}

/// How one launch ended, when it did not start.
enum Launch {
    /// Another process took the port between our probe and prosody's bind.
    PortTaken,
    Failed(ProsodyError),
}

/// The program in one of the directories of `path` (a `PATH` value), or an
/// error saying which package to install.
fn find_program(name: &str, path: Option<&OsStr>) -> Result<PathBuf, ProsodyError> {
    let package = if name == "openssl" {
        "openssl"
    } else {
        "prosody"
    };
    path.into_iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            ProsodyError::new(format!(
                "{name} not found on PATH: install {package} (apt-get install {package})"
            ))
        })
}

/// Names that need no escaping anywhere (Lua strings, JIDs, file names),
/// as prosody's nodeprep/nameprep would leave them.
fn check_name(what: &str, name: &str, is_domain: bool) -> Result<(), ProsodyError> {
    let allowed = |c: char| {
        c.is_ascii_lowercase()
            || c.is_ascii_digit()
            || matches!(c, '.' | '-')
            || (!is_domain && c == '_')
    };
    if !name.is_empty() && name.chars().all(allowed) {
        return Ok(());
    }
    Err(ProsodyError::new(format!(
        "bad {what} {name:?}: use lower-case ASCII letters, digits, '.', '-'{}",
        if is_domain { "" } else { ", '_'" }
    )))
}

/// util/datamanager.lua's `encode`: every byte that is not alphanumeric
/// becomes `%xx` (lower-case hex), so `padlock.test` is `padlock%2etest`.
fn datamanager_encode(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02x}")
            }
        })
        .collect()
}

/// A Lua string literal; bytes other than printable ASCII as `\ddd`.
fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out.push('"');
    out
}

fn lua_path(path: &Path) -> Result<String, ProsodyError> {
    path.to_str()
        .map(lua_string)
        .ok_or_else(|| ProsodyError::new(format!("path is not UTF-8: {}", path.display())))
}

/// A new directory under the system's temporary directory, unique to this
/// process and call.
fn fresh_dir() -> Result<PathBuf, ProsodyError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    loop {
        let dir = std::env::temp_dir().join(format!(
            "padlock-prosody-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error("create", &dir, &e)),
        }
    }
}

/// A port of 127.0.0.1 that is free now (the kernel's pick for port 0).
fn free_port() -> Result<u16, ProsodyError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| ProsodyError::new(format!("cannot find a free port: {e}")))
}

/// Polls `done` every 20 ms until it returns `Some`, or `None` at timeout.
fn wait_until<T>(timeout: Duration, mut done: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = done() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn create_dir(path: &Path) -> Result<(), ProsodyError> {
    fs::create_dir_all(path).map_err(|e| io_error("create", path, &e))
}

fn write_file(path: &Path, text: &str) -> Result<(), ProsodyError> {
    File::create(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|e| io_error("write", path, &e))
}

fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// The file's text from byte `offset` on (empty when it is shorter).
fn read_from(path: &Path, offset: u64) -> String {
    let bytes = fs::read(path).unwrap_or_default();
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

fn io_error(what: &str, path: &Path, e: &io::Error) -> ProsodyError {
    ProsodyError::new(format!("cannot {what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_prosody_says_what_to_install() {
        let empty = fresh_dir().unwrap();
        let error = find_program("prosody", Some(empty.as_os_str())).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("install prosody (apt-get install prosody)"),
            "{error}"
        );
        let error = find_program("openssl", None).unwrap_err();
        assert!(
            error.to_string().contains("apt-get install openssl"),
            "{error}"
        );
        let _ = fs::remove_dir_all(&empty);
    }

    #[test]
    fn names_are_escaped_as_prosody_does() {
        assert_eq!(datamanager_encode("padlock.test"), "padlock%2etest");
        assert_eq!(datamanager_encode("a-b_c9"), "a%2db%5fc9");
        assert_eq!(lua_string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\010d\"");
    }

    #[test]
    fn names_that_need_escaping_are_refused() {
        assert!(check_name("user", "alice.b-c_d", false).is_ok());
        assert!(check_name("user", "Alice", false).is_err());
        assert!(check_name("user", "", false).is_err());
        assert!(check_name("user", "a@b", false).is_err());
        assert!(check_name("domain", "padlock.test", true).is_ok());
        assert!(check_name("domain", "under_score.test", true).is_err());
    }
}
