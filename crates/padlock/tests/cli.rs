//! The `padlock` binary's store commands, driven as a user or a script
//! would: in temporary store directories, with standard input for the
//! passphrases, and the test-only cheap KDF.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use padlock_otr::Fingerprint;
use padlock_store::{AccountId, KeyStore, Store};
use serde_json::Value;

const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "padlock-cli-test-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// What one run of the binary did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    fn fails(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(!self.stderr.is_empty());
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("{error}: not JSON:\n{}", self.stdout))
    }

    /// The JSON error document on standard error (`--json`).
    fn error_json(&self) -> Value {
        serde_json::from_str(self.stderr.trim().lines().last().unwrap())
            .unwrap_or_else(|error| panic!("{error}: not JSON:\n{}", self.stderr))
    }

    /// The error code in the JSON error document.
    fn error_code(&self) -> Value {
        self.error_json()["error"]["code"].clone()
    }

    /// The message in the JSON error document.
    fn error_message(&self) -> String {
        self.error_json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// Runs `padlock` with `args`, `stdin` as standard input, the cheap KDF and
/// no store directory from the environment.
fn padlock(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_padlock"))
        .args(args)
        .env("PADLOCK_INSECURE_KDF_FOR_TESTING_ONLY", "1")
        .env_remove("PADLOCK_STORE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // The child may exit before reading everything.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

/// `padlock --store DIR args...`
fn at(store: &Path, args: &[&str], stdin: &str) -> Run {
    let store = store.to_str().unwrap();
    let mut all = vec!["--store", store];
    all.extend_from_slice(args);
    padlock(&all, stdin)
}

/// `padlock --store DIR FLAGS... key generate --account ACCOUNT`
fn key_generate(store: &Path, flags: &[&str], account: &str, stdin: &str) -> Run {
    let mut args = flags.to_vec();
    args.extend(["key", "generate", "--account", account]);
    at(store, &args, stdin)
}

/// `padlock --store DIR FLAGS... key export --account alice --format FORMAT
/// --out OUT EXTRA...`
fn key_export(
    store: &Path,
    flags: &[&str],
    format: &str,
    out: &Path,
    extra: &[&str],
    stdin: &str,
) -> Run {
    let mut args = flags.to_vec();
    args.extend(["key", "export", "--account", ALICE, "--format", format]);
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    at(store, &args, stdin)
}

/// `padlock --store DIR FLAGS... key import SOURCE`
fn key_import(store: &Path, flags: &[&str], source: &Path, stdin: &str) -> Run {
    let mut args = flags.to_vec();
    args.extend(["key", "import", source.to_str().unwrap()]);
    at(store, &args, stdin)
}

/// `text` contains `needle`; the message shows all of `text`.
#[track_caller]
fn assert_has(text: &str, needle: &str) {
    assert!(text.contains(needle), "{text}");
}

/// The contents of the store file in `store`.
fn store_file(store: &Path) -> String {
    fs::read_to_string(store.join("store.json")).unwrap()
}

/// The permission bits of `path`.
fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A fresh directory with a plain store in it ("store") holding a key for
/// alice: the directory, the store and alice's fingerprint.
fn fresh_store(name: &str) -> (TempDir, PathBuf, String) {
    let dir = TempDir::new(name);
    let store = dir.join("store");
    let fingerprint = generate(&store);
    (dir, store, fingerprint)
}

/// A plain store with a generated key for alice; returns its fingerprint.
fn generate(store: &Path) -> String {
    let run = key_generate(store, &["--no-passphrase", "--json"], ALICE, "").ok();
    run.json()["account"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn show(store: &Path, stdin: &str) -> Value {
    at(store, &["--json", "key", "show"], stdin).ok().json()
}

fn alice() -> AccountId {
    AccountId::new(ALICE, "xmpp")
}

fn fp(byte: u8) -> Fingerprint {
    Fingerprint([byte; 20])
}

/// Bob's keys as a chat would record them: b0 first, b1 later (the one in
/// use now).
fn observe_bob(store: &Path) {
    let mut store = Store::open(store, None).unwrap();
    store
        .observe(&alice(), BOB, fp(0xb0), 1_600_000_000)
        .unwrap();
    store
        .observe(&alice(), BOB, fp(0xb1), 1_700_000_000)
        .unwrap();
}

#[test]
fn generate_then_show_in_words_and_json() {
    let dir = TempDir::new("generate");
    let store = dir.join("store");
    let run = key_generate(&store, &["--no-passphrase"], ALICE, "").ok();
    assert_has(&run.stdout, "New key for alice@example.org (xmpp)");
    assert_has(&run.stderr, "Generating a key");

    let document = show(&store, "");
    assert_eq!(document["version"], 1);
    assert_eq!(document["command"], "key show");
    let account = &document["accounts"][0];
    assert_eq!(account["name"], ALICE);
    assert_eq!(account["protocol"], "xmpp");
    let hex = account["fingerprint"].as_str().unwrap();
    assert_eq!(hex.len(), 40);
    assert!(
        hex.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    let human = account["fingerprint_human"].as_str().unwrap();
    let groups: Vec<&str> = human.split(' ').collect();
    assert_eq!(groups.len(), 5);
    assert!(
        groups
            .iter()
            .all(|g| g.len() == 8 && *g == g.to_uppercase())
    );
    assert_eq!(human.replace(' ', "").to_lowercase(), hex);
    assert_eq!(account["instance_tag"].as_str().unwrap().len(), 8);
    assert_eq!(account["policy"], Value::Null);

    let words = at(&store, &["key", "show", "--account", ALICE], "").ok();
    assert_has(&words.stdout, &format!("Fingerprint:  {human}"));
    assert_has(&words.stdout, "Instance tag: ");
    assert_has(&words.stdout, "Policy:       default");

    // The store file is private.
    assert_eq!(mode(&store.join("store.json")), 0o600);
}

#[test]
fn generate_refuses_to_replace_a_key_unless_asked() {
    let (_dir, store, old) = fresh_store("replace");
    let tag = show(&store, "")["accounts"][0]["instance_tag"].clone();
    let refused = key_generate(&store, &[], ALICE, "").fails(1);
    assert_has(&refused.stderr, "already has a key");
    assert_has(&refused.stderr, "--replace");
    assert_eq!(show(&store, "")["accounts"][0]["fingerprint"], old.as_str());

    let replaced = at(
        &store,
        &["--json", "key", "generate", "--account", ALICE, "--replace"],
        "",
    )
    .ok();
    let document = replaced.json();
    assert_eq!(document["replaced"], old.as_str());
    assert_ne!(document["account"]["fingerprint"], old.as_str());
    assert_eq!(document["account"]["instance_tag"], tag, "the tag stays");
    assert_has(&replaced.stderr, "warning");
    assert_has(&replaced.stderr, "verify you again");
}

#[test]
fn fingerprints_verify_unverify_label_forget() {
    let (_dir, store, _) = fresh_store("fingerprints");
    observe_bob(&store);
    let s = |args: &[&str], stdin: &str| at(&store, args, stdin);
    let who = ["--account", ALICE, "--contact", BOB];
    let with = |verb: &str, extra: &[&str]| -> Vec<String> {
        let mut args = vec![
            "--json".to_owned(),
            "fingerprints".to_owned(),
            verb.to_owned(),
        ];
        args.extend(who.iter().map(|a| (*a).to_owned()));
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args
    };
    let run = |args: Vec<String>, stdin: &str| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        s(&args, stdin)
    };
    let b0 = fp(0xb0).to_hex();
    let b1 = fp(0xb1).to_hex();

    let list = s(&["--json", "fingerprints", "list"], "").ok().json();
    assert_eq!(list["version"], 1);
    let entries = list["fingerprints"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["fingerprint"], b0.as_str());
    assert_eq!(entries[0]["latest"], false);
    assert_eq!(entries[1]["fingerprint"], b1.as_str());
    assert_eq!(entries[1]["latest"], true);
    assert_eq!(entries[1]["trust"], "unverified");
    assert_eq!(entries[1]["contact"], BOB);
    assert_eq!(entries[1]["first_seen"], 1_700_000_000);

    // An older key: the contact's key changed, nothing verified.
    let older = run(with("verify", &[&b0]), "").fails(1);
    assert_eq!(older.error_code(), "key_changed");
    let message = older.error_message();
    assert_has(&message, "key changed");
    assert_has(&message, &fp(0xb1).to_string());
    // Not a fingerprint of bob at all.
    let unknown = run(
        with("verify", &["0123456789abcdef0123456789abcdef01234567"]),
        "",
    )
    .fails(1);
    assert_eq!(unknown.error_code(), "unknown_fingerprint");
    // Not a fingerprint at all.
    let garbage = run(with("verify", &["12345"]), "").fails(1);
    assert_eq!(garbage.error_code(), "invalid_input");
    let list = s(&["--json", "fingerprints", "list"], "").ok().json();
    assert!(
        list["fingerprints"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["verified"] == false)
    );

    // The one in use, typed as shown: five groups, as separate arguments.
    let human = fp(0xb1).to_string();
    let groups: Vec<&str> = human.split(' ').collect();
    let mut args = with("verify", &[]);
    args.extend(groups.iter().map(|g| (*g).to_owned()));
    let verified = run(args, "").ok().json();
    assert_eq!(verified["command"], "fingerprints verify");
    assert_eq!(verified["changed"], true);
    assert_eq!(verified["fingerprint"]["trust"], "fingerprint");
    assert_eq!(verified["fingerprint"]["verified"], true);
    assert!(verified["fingerprint"]["verified_at"].as_u64().unwrap() > 1_700_000_000);
    let again = run(with("verify", &[&b1]), "").ok();
    assert_eq!(again.json()["changed"], false);

    let words = s(&["fingerprints", "list", "--contact", BOB], "").ok();
    assert_has(&words.stdout, &human);
    assert_has(&words.stdout, "verified (fingerprints compared)");
    assert_has(&words.stdout, "not verified");

    let labelled = run(with("label", &[&human, "Bob's laptop"]), "")
        .ok()
        .json();
    assert_eq!(labelled["fingerprint"]["label"], "Bob's laptop");
    assert_eq!(labelled["fingerprint"]["trust"], "fingerprint");

    let unverified = run(with("unverify", &[&b1]), "").ok().json();
    assert_eq!(unverified["changed"], true);
    assert_eq!(unverified["fingerprint"]["trust"], "unverified");
    assert_eq!(unverified["fingerprint"]["verified"], false);
    assert_eq!(unverified["fingerprint"]["label"], "Bob's laptop");

    // Forget asks; "no" (or no answer) changes nothing.
    let declined = run(with("forget", &[&b0]), "n\n").fails(1);
    assert_eq!(declined.error_code(), "refused");
    let unanswered = run(with("forget", &[&b0]), "").fails(1);
    assert_has(&unanswered.stderr, "--yes");
    assert_eq!(
        s(&["--json", "fingerprints", "list"], "").ok().json()["fingerprints"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let forgotten = run(with("forget", &["--yes", &b0]), "").ok().json();
    assert_eq!(forgotten["command"], "fingerprints forget");
    assert_eq!(forgotten["fingerprint"]["fingerprint"], b0.as_str());
    let confirmed = run(with("forget", &[&b1]), "y\n").ok().json();
    assert_eq!(confirmed["changed"], true);
    let list = s(&["--json", "fingerprints", "list", "--contact", BOB], "")
        .ok()
        .json();
    assert_eq!(list["fingerprints"], Value::Array(Vec::new()));
    let none = s(&["fingerprints", "list"], "").ok();
    assert_has(&none.stdout, "No contact fingerprints");
}

#[test]
fn libotr_export_reads_back_into_a_second_store() {
    let (dir, store, fingerprint) = fresh_store("libotr");
    observe_bob(&store);
    let tag = show(&store, "")["accounts"][0]["instance_tag"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = dir.join("otr");
    let exported = key_export(&store, &["--json"], "libotr", &out, &[], "")
        .ok()
        .json();
    assert_eq!(exported["format"], "libotr");
    assert_eq!(exported["client"], "profanity");
    assert_eq!(exported["instance_tag_included"], false);
    assert_eq!(exported["fingerprints"], 2);
    assert_eq!(exported["files"].as_array().unwrap().len(), 3);
    for name in ["otr.private_key", "otr.fingerprints", "otr.instance_tags"] {
        let mode = fs::metadata(out.join(name)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
    assert!(
        !fs::read_to_string(out.join("otr.instance_tags"))
            .unwrap()
            .contains(&tag)
    );
    // Existing files are not overwritten without --force.
    let again = key_export(&store, &[], "libotr", &out, &["--with-instance-tag"], "").fails(1);
    assert_has(&again.stderr, "--force");
    key_export(
        &store,
        &[],
        "libotr",
        &out,
        &["--with-instance-tag", "--force"],
        "",
    )
    .ok();
    assert!(
        fs::read_to_string(out.join("otr.instance_tags"))
            .unwrap()
            .contains(&tag)
    );

    let second = dir.join("second");
    let imported = key_import(&second, &["--no-passphrase", "--json"], &out, "")
        .ok()
        .json();
    assert_eq!(imported["command"], "key import");
    assert_eq!(imported["sources"][0]["kind"], "directory");
    assert_eq!(
        imported["keys_added"][0]["fingerprint"],
        fingerprint.as_str()
    );
    assert_eq!(imported["fingerprints_added"], 2);
    assert_eq!(
        imported["instance_tags_imported"][0]["instance_tag"],
        tag.as_str()
    );
    assert_eq!(imported["instance_tags_assigned"], Value::Array(Vec::new()));
    let shown = show(&second, "");
    assert_eq!(shown["accounts"][0]["fingerprint"], fingerprint.as_str());
    assert_eq!(shown["accounts"][0]["instance_tag"], tag.as_str());

    // The files one by one, in words; importing again changes nothing and
    // never replaces the key.
    let files: Vec<String> = ["otr.private_key", "otr.fingerprints"]
        .iter()
        .map(|name| out.join(name).to_str().unwrap().to_owned())
        .collect();
    let words = at(&second, &["key", "import", &files[0], &files[1]], "").ok();
    assert_has(&words.stdout, "nothing new");
}

#[test]
fn import_reports_what_it_skipped_and_refuses_unknown_files() {
    let dir = TempDir::new("skipped");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../store/tests/fixtures/import/libotr_quoted_x.private_key");
    let files = dir.join("purple");
    fs::create_dir_all(&files).unwrap();
    fs::copy(&fixture, files.join("otr.private_key")).unwrap();
    let store = dir.join("store");
    let run = key_import(&store, &["--no-passphrase"], &files, "").ok();
    assert_has(&run.stdout, "Key of user113@example.org (xmpp)");
    assert_has(&run.stdout, "Skipped:");
    assert_has(&run.stdout, "resource \"Home\"");
    assert_has(&run.stdout, "(new, for this device)");

    let stray = dir.join("notes.txt");
    fs::write(&stray, "hello").unwrap();
    let refused = key_import(&store, &["--json"], &stray, "").fails(1);
    assert_eq!(refused.error_code(), "bad_import");
    assert!(refused.error_message().contains("untouched"));
}

#[test]
fn bundle_round_trip_with_the_instance_tag_only_when_asked() {
    let dir = TempDir::new("bundle");
    let store = dir.join("store");
    // An encrypted source store: its passphrase comes first on stdin, then
    // the bundle's.
    let created = key_generate(
        &store,
        &["--passphrase-stdin", "--json"],
        ALICE,
        "store secret\n",
    )
    .ok();
    let fingerprint = created.json()["account"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let tag = created.json()["account"]["instance_tag"]
        .as_str()
        .unwrap()
        .to_owned();
    {
        let passphrase = padlock_store::Passphrase::from("store secret");
        let mut opened = Store::open(&store, Some(&passphrase)).unwrap();
        opened
            .observe(&alice(), BOB, fp(0xb1), 1_700_000_000)
            .unwrap();
        opened
            .label(&alice(), BOB, &fp(0xb1), Some("phone"))
            .unwrap();
    }
    let bundle = dir.join("alice.padlock");
    let exported = key_export(
        &store,
        &["--json"],
        "padlock",
        &bundle,
        &[],
        "store secret\nbundle secret\n",
    )
    .ok()
    .json();
    assert_eq!(exported["format"], "padlock");
    assert_eq!(exported["instance_tag_included"], false);
    let text = fs::read_to_string(&bundle).unwrap();
    assert!(text.contains("\"padlock-bundle\""));
    assert!(!text.contains(BOB), "the bundle is encrypted");
    assert_eq!(mode(&bundle), 0o600);

    // A wrong bundle passphrase: exit 2, and no store was created.
    let new = dir.join("new");
    let wrong = key_import(&new, &["--no-passphrase"], &bundle, "nope\n").fails(2);
    assert_has(&wrong.stderr, "wrong passphrase");
    assert!(!new.join("store.json").exists());

    let imported = key_import(
        &new,
        &["--no-passphrase", "--json"],
        &bundle,
        "bundle secret\n",
    )
    .ok()
    .json();
    assert_eq!(imported["sources"][0]["kind"], "padlock-bundle");
    assert_eq!(
        imported["keys_added"][0]["fingerprint"],
        fingerprint.as_str()
    );
    assert_eq!(imported["fingerprints_added"], 1);
    assert_eq!(imported["labels_added"], 1);
    assert_eq!(imported["instance_tags_imported"], Value::Array(Vec::new()));
    let assigned = imported["instance_tags_assigned"][0]["instance_tag"]
        .as_str()
        .unwrap();
    assert_ne!(assigned, tag, "the new device gets its own instance tag");
    let list = at(&new, &["--json", "fingerprints", "list"], "")
        .ok()
        .json();
    assert_eq!(list["fingerprints"][0]["label"], "phone");

    // With --with-instance-tag the tag travels.
    let tagged = dir.join("tagged.padlock");
    key_export(
        &store,
        &[],
        "padlock",
        &tagged,
        &["--with-instance-tag"],
        "store secret\nbundle secret\n",
    )
    .ok();
    let third = dir.join("third");
    let imported = key_import(
        &third,
        &["--no-passphrase", "--json"],
        &tagged,
        "bundle secret\n",
    )
    .ok()
    .json();
    assert_eq!(
        imported["instance_tags_imported"][0]["instance_tag"],
        tag.as_str()
    );
    assert_eq!(imported["instance_tags_assigned"], Value::Array(Vec::new()));
    assert_eq!(
        show(&third, "")["accounts"][0]["instance_tag"],
        tag.as_str()
    );
}

#[test]
fn passphrase_set_change_remove() {
    let (_dir, store, fingerprint) = fresh_store("passphrase");
    let file = store.join("store.json");

    let set = at(&store, &["--json", "passphrase", "set"], "first\n")
        .ok()
        .json();
    assert_eq!(set["command"], "passphrase set");
    assert_eq!(set["encrypted"], true);
    let encrypted = fs::read(&file).unwrap();
    let text = String::from_utf8_lossy(&encrypted);
    assert!(text.contains("ciphertext") && !text.contains("\"contents\""));
    assert!(
        at(&store, &["passphrase", "set"], "first\nsecond\n")
            .fails(1)
            .stderr
            .contains("passphrase change")
    );

    // Wrong passphrase: exit 2, a clear message, the file unchanged.
    let wrong = at(&store, &["key", "show"], "wrong\n").fails(2);
    assert_has(&wrong.stderr, "wrong passphrase");
    let wrong = at(&store, &["--json", "key", "show"], "wrong\n").fails(2);
    assert_eq!(wrong.error_code(), "wrong_passphrase");
    assert_eq!(wrong.error_json()["version"], 1);
    assert_eq!(
        show(&store, "first\n")["accounts"][0]["fingerprint"],
        fingerprint.as_str()
    );
    at(&store, &["passphrase", "change"], "wrong\nsecond\n").fails(2);
    at(&store, &["passphrase", "remove"], "wrong\n").fails(2);
    assert_eq!(fs::read(&file).unwrap(), encrypted);
    // No passphrase on stdin at all: a clear error, not a hang.
    let missing = at(&store, &["key", "show"], "").fails(1);
    assert_has(&missing.stderr, "standard input ended");

    at(&store, &["passphrase", "change"], "first\nsecond\n").ok();
    at(&store, &["key", "show"], "first\n").fails(2);
    assert_eq!(
        show(&store, "second\n")["accounts"][0]["fingerprint"],
        fingerprint.as_str()
    );

    let removed = at(&store, &["--json", "passphrase", "remove"], "second\n")
        .ok()
        .json();
    assert_eq!(removed["encrypted"], false);
    assert!(fs::read_to_string(&file).unwrap().contains("\"contents\""));
    assert_eq!(
        show(&store, "")["accounts"][0]["fingerprint"],
        fingerprint.as_str()
    );
    let not_encrypted = at(&store, &["passphrase", "change"], "").fails(1);
    assert_has(&not_encrypted.stderr, "passphrase set");
}

#[test]
fn first_run_asks_once_whether_to_encrypt() {
    let dir = TempDir::new("first-run");
    // Yes, then the passphrase.
    let yes = dir.join("yes");
    let run = key_generate(&yes, &[], ALICE, "y\nsecret\n").ok();
    assert_has(&run.stderr, "Encrypt your keys with a passphrase?");
    assert!(store_file(&yes).contains("ciphertext"));
    show(&yes, "secret\n");
    // No.
    let no = dir.join("no");
    key_generate(&no, &[], ALICE, "n\n").ok();
    assert!(store_file(&no).contains("\"contents\""));
    // Asked only at first run.
    let run = key_generate(&no, &[], "other@example.org", "").ok();
    assert!(!run.stderr.contains("Encrypt"), "{}", run.stderr);
    // No answer: a clear error naming the flags, and no store.
    let silent = dir.join("silent");
    let run = key_generate(&silent, &[], ALICE, "").fails(1);
    assert_has(&run.stderr, "--no-passphrase");
    assert!(!silent.join("store.json").exists());
    // Commands that only read do not create a store.
    let run = at(&silent, &["--json", "key", "show"], "").fails(1);
    assert_eq!(run.error_code(), "no_store");
    assert!(run.error_message().contains("padlock key generate"));
    assert!(!silent.join("store.json").exists());
}

#[test]
fn the_store_comes_from_the_flag_then_the_environment() {
    let dir = TempDir::new("env");
    let from_env = dir.join("from-env");
    let output = Command::new(env!("CARGO_BIN_EXE_padlock"))
        .args(["--no-passphrase", "key", "generate", "--account", ALICE])
        .env("PADLOCK_STORE", &from_env)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(from_env.join("store.json").exists());
    // --store wins over PADLOCK_STORE.
    let flag = dir.join("flag");
    let output = Command::new(env!("CARGO_BIN_EXE_padlock"))
        .args(["--store", flag.to_str().unwrap(), "--json", "key", "show"])
        .env("PADLOCK_STORE", &from_env)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no_store"));
}

#[test]
fn help_of_every_command_exits_zero() {
    let commands: &[&[&str]] = &[
        &[],
        &["demo"],
        &["key"],
        &["key", "generate"],
        &["key", "show"],
        &["key", "export"],
        &["key", "import"],
        &["fingerprints"],
        &["fingerprints", "list"],
        &["fingerprints", "verify"],
        &["fingerprints", "unverify"],
        &["fingerprints", "forget"],
        &["fingerprints", "label"],
        &["passphrase"],
        &["passphrase", "set"],
        &["passphrase", "change"],
        &["passphrase", "remove"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let run = padlock(&args, "").ok();
        assert!(
            run.stdout.contains("Usage: padlock"),
            "{args:?}: {}",
            run.stdout
        );
    }
}

#[test]
fn mistyped_commands_say_what_was_meant() {
    let run = padlock(&["key", "genrate", "--account", ALICE], "").fails(2);
    assert_has(&run.stderr, "unrecognized subcommand 'genrate'");
    assert_has(&run.stderr, "'generate'");
    let run = padlock(&["fingerprint", "list"], "").fails(2);
    assert_has(&run.stderr, "'fingerprints'");
    let run = padlock(
        &[
            "key",
            "export",
            "--account",
            ALICE,
            "--format",
            "pidgin",
            "--out",
            "x",
        ],
        "",
    )
    .fails(2);
    assert_has(&run.stderr, "libotr");
    let dir = TempDir::new("bad-jid");
    let run = at(
        dir.path(),
        &[
            "--no-passphrase",
            "key",
            "generate",
            "--account",
            "alice@example.org/Home",
        ],
        "",
    )
    .fails(1);
    assert_has(&run.stderr, "bare address");
}

#[test]
fn the_demo_still_runs() {
    let run = padlock(&["demo", "--seed", "7"], "").ok();
    assert_has(&run.stdout, "That is the whole flow");
}

#[test]
fn a_store_in_use_is_reported_with_exit_code_3() {
    let (_dir, store, _) = fresh_store("busy");
    let held = Store::open(&store, None).unwrap();
    let run = at(&store, &["--json", "key", "show"], "").fails(3);
    assert_eq!(run.error_code(), "busy");
    drop(held);
    show(&store, "");
}
