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

/// A plain store with a generated key for alice; returns its fingerprint.
fn generate(store: &Path) -> String {
    let run = at(
        store,
        &[
            "--no-passphrase",
            "--json",
            "key",
            "generate",
            "--account",
            ALICE,
        ],
        "",
    )
    .ok();
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
    let run = at(
        &store,
        &["--no-passphrase", "key", "generate", "--account", ALICE],
        "",
    )
    .ok();
    assert!(
        run.stdout.contains("New key for alice@example.org (xmpp)"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("Generating a key"), "{}", run.stderr);

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
    assert!(
        words.stdout.contains(&format!("Fingerprint:  {human}")),
        "{}",
        words.stdout
    );
    assert!(words.stdout.contains("Instance tag: "), "{}", words.stdout);
    assert!(
        words.stdout.contains("Policy:       default"),
        "{}",
        words.stdout
    );

    // The store file is private.
    let mode = fs::metadata(store.join("store.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn generate_refuses_to_replace_a_key_unless_asked() {
    let dir = TempDir::new("replace");
    let store = dir.join("store");
    let old = generate(&store);
    let tag = show(&store, "")["accounts"][0]["instance_tag"].clone();
    let refused = at(&store, &["key", "generate", "--account", ALICE], "").fails(1);
    assert!(
        refused.stderr.contains("already has a key"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--replace"), "{}", refused.stderr);
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
    assert!(replaced.stderr.contains("warning"), "{}", replaced.stderr);
    assert!(
        replaced.stderr.contains("verify you again"),
        "{}",
        replaced.stderr
    );
}

#[test]
fn fingerprints_verify_unverify_label_forget() {
    let dir = TempDir::new("fingerprints");
    let store = dir.join("store");
    generate(&store);
    observe_bob(&store);
    let s = |args: &[&str], stdin: &str| at(&store, args, stdin);
    let who = ["--account", ALICE, "--contact", BOB];
    let with = |verb: &'static str, extra: &[&'static str]| -> Vec<String> {
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
    let older = run(
        with("verify", &[])
            .into_iter()
            .chain([b0.clone()])
            .collect(),
        "",
    )
    .fails(1);
    assert_eq!(older.error_json()["error"]["code"], "key_changed");
    let message = older.error_json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("key changed"), "{message}");
    assert!(message.contains(&fp(0xb1).to_string()), "{message}");
    // Not a fingerprint of bob at all.
    let unknown = run(
        with("verify", &["0123456789abcdef0123456789abcdef01234567"]),
        "",
    )
    .fails(1);
    assert_eq!(unknown.error_json()["error"]["code"], "unknown_fingerprint");
    // Not a fingerprint at all.
    let garbage = run(with("verify", &["12345"]), "").fails(1);
    assert_eq!(garbage.error_json()["error"]["code"], "invalid_input");
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
    let again = run(
        with("verify", &[])
            .into_iter()
            .chain([b1.clone()])
            .collect(),
        "",
    )
    .ok();
    assert_eq!(again.json()["changed"], false);

    let words = s(&["fingerprints", "list", "--contact", BOB], "").ok();
    assert!(words.stdout.contains(&human), "{}", words.stdout);
    assert!(
        words.stdout.contains("verified (fingerprints compared)"),
        "{}",
        words.stdout
    );
    assert!(words.stdout.contains("not verified"), "{}", words.stdout);

    let labelled = run(
        with("label", &[])
            .into_iter()
            .chain([human.clone(), "Bob's laptop".into()])
            .collect(),
        "",
    )
    .ok()
    .json();
    assert_eq!(labelled["fingerprint"]["label"], "Bob's laptop");
    assert_eq!(labelled["fingerprint"]["trust"], "fingerprint");

    let unverified = run(
        with("unverify", &[])
            .into_iter()
            .chain([b1.clone()])
            .collect(),
        "",
    )
    .ok()
    .json();
    assert_eq!(unverified["changed"], true);
    assert_eq!(unverified["fingerprint"]["trust"], "unverified");
    assert_eq!(unverified["fingerprint"]["verified"], false);
    assert_eq!(unverified["fingerprint"]["label"], "Bob's laptop");

    // Forget asks; "no" (or no answer) changes nothing.
    let declined = run(
        with("forget", &[])
            .into_iter()
            .chain([b0.clone()])
            .collect(),
        "n\n",
    )
    .fails(1);
    assert_eq!(declined.error_json()["error"]["code"], "refused");
    let unanswered = run(
        with("forget", &[])
            .into_iter()
            .chain([b0.clone()])
            .collect(),
        "",
    )
    .fails(1);
    assert!(unanswered.stderr.contains("--yes"), "{}", unanswered.stderr);
    assert_eq!(
        s(&["--json", "fingerprints", "list"], "").ok().json()["fingerprints"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let forgotten = run(
        with("forget", &["--yes"])
            .into_iter()
            .chain([b0.clone()])
            .collect(),
        "",
    )
    .ok()
    .json();
    assert_eq!(forgotten["command"], "fingerprints forget");
    assert_eq!(forgotten["fingerprint"]["fingerprint"], b0.as_str());
    let confirmed = run(
        with("forget", &[])
            .into_iter()
            .chain([b1.clone()])
            .collect(),
        "y\n",
    )
    .ok()
    .json();
    assert_eq!(confirmed["changed"], true);
    let list = s(&["--json", "fingerprints", "list", "--contact", BOB], "")
        .ok()
        .json();
    assert_eq!(list["fingerprints"], Value::Array(Vec::new()));
    let none = s(&["fingerprints", "list"], "").ok();
    assert!(
        none.stdout.contains("No contact fingerprints"),
        "{}",
        none.stdout
    );
}

#[test]
fn libotr_export_reads_back_into_a_second_store() {
    let dir = TempDir::new("libotr");
    let store = dir.join("store");
    let fingerprint = generate(&store);
    observe_bob(&store);
    let tag = show(&store, "")["accounts"][0]["instance_tag"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = dir.join("otr");
    let exported = at(
        &store,
        &[
            "--json",
            "key",
            "export",
            "--account",
            ALICE,
            "--format",
            "libotr",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
    )
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
    let again = at(
        &store,
        &[
            "key",
            "export",
            "--account",
            ALICE,
            "--format",
            "libotr",
            "--out",
            out.to_str().unwrap(),
            "--with-instance-tag",
        ],
        "",
    )
    .fails(1);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    at(
        &store,
        &[
            "key",
            "export",
            "--account",
            ALICE,
            "--format",
            "libotr",
            "--out",
            out.to_str().unwrap(),
            "--with-instance-tag",
            "--force",
        ],
        "",
    )
    .ok();
    assert!(
        fs::read_to_string(out.join("otr.instance_tags"))
            .unwrap()
            .contains(&tag)
    );

    let second = dir.join("second");
    let imported = at(
        &second,
        &[
            "--no-passphrase",
            "--json",
            "key",
            "import",
            out.to_str().unwrap(),
        ],
        "",
    )
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
    assert!(words.stdout.contains("nothing new"), "{}", words.stdout);
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
    let run = at(
        &store,
        &["--no-passphrase", "key", "import", files.to_str().unwrap()],
        "",
    )
    .ok();
    assert!(
        run.stdout.contains("Key of user113@example.org (xmpp)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Skipped:"), "{}", run.stdout);
    assert!(run.stdout.contains("resource \"Home\""), "{}", run.stdout);
    assert!(
        run.stdout.contains("(new, for this device)"),
        "{}",
        run.stdout
    );

    let stray = dir.join("notes.txt");
    fs::write(&stray, "hello").unwrap();
    let refused = at(
        &store,
        &["--json", "key", "import", stray.to_str().unwrap()],
        "",
    )
    .fails(1);
    assert_eq!(refused.error_json()["error"]["code"], "bad_import");
    assert!(
        refused.error_json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("untouched")
    );
}

#[test]
fn bundle_round_trip_with_the_instance_tag_only_when_asked() {
    let dir = TempDir::new("bundle");
    let store = dir.join("store");
    // An encrypted source store: its passphrase comes first on stdin, then
    // the bundle's.
    let created = at(
        &store,
        &[
            "--passphrase-stdin",
            "--json",
            "key",
            "generate",
            "--account",
            ALICE,
        ],
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
    let bundle_path = bundle.to_str().unwrap();
    let exported = at(
        &store,
        &[
            "--json",
            "key",
            "export",
            "--account",
            ALICE,
            "--format",
            "padlock",
            "--out",
            bundle_path,
        ],
        "store secret\nbundle secret\n",
    )
    .ok()
    .json();
    assert_eq!(exported["format"], "padlock");
    assert_eq!(exported["instance_tag_included"], false);
    let text = fs::read_to_string(&bundle).unwrap();
    assert!(text.contains("\"padlock-bundle\""));
    assert!(!text.contains(BOB), "the bundle is encrypted");
    assert_eq!(
        fs::metadata(&bundle).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // A wrong bundle passphrase: exit 2, and no store was created.
    let new = dir.join("new");
    let wrong = at(
        &new,
        &["--no-passphrase", "key", "import", bundle_path],
        "nope\n",
    )
    .fails(2);
    assert!(
        wrong.stderr.contains("wrong passphrase"),
        "{}",
        wrong.stderr
    );
    assert!(!new.join("store.json").exists());

    let imported = at(
        &new,
        &["--no-passphrase", "--json", "key", "import", bundle_path],
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
    at(
        &store,
        &[
            "key",
            "export",
            "--account",
            ALICE,
            "--format",
            "padlock",
            "--out",
            tagged.to_str().unwrap(),
            "--with-instance-tag",
        ],
        "store secret\nbundle secret\n",
    )
    .ok();
    let third = dir.join("third");
    let imported = at(
        &third,
        &[
            "--no-passphrase",
            "--json",
            "key",
            "import",
            tagged.to_str().unwrap(),
        ],
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
    let dir = TempDir::new("passphrase");
    let store = dir.join("store");
    let fingerprint = generate(&store);
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
    assert!(
        wrong.stderr.contains("wrong passphrase"),
        "{}",
        wrong.stderr
    );
    let wrong = at(&store, &["--json", "key", "show"], "wrong\n").fails(2);
    assert_eq!(wrong.error_json()["error"]["code"], "wrong_passphrase");
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
    assert!(
        missing.stderr.contains("standard input ended"),
        "{}",
        missing.stderr
    );

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
    assert!(
        not_encrypted.stderr.contains("passphrase set"),
        "{}",
        not_encrypted.stderr
    );
}

#[test]
fn first_run_asks_once_whether_to_encrypt() {
    let dir = TempDir::new("first-run");
    // Yes, then the passphrase.
    let yes = dir.join("yes");
    let run = at(
        &yes,
        &["key", "generate", "--account", ALICE],
        "y\nsecret\n",
    )
    .ok();
    assert!(
        run.stderr.contains("Encrypt your keys with a passphrase?"),
        "{}",
        run.stderr
    );
    assert!(
        fs::read_to_string(yes.join("store.json"))
            .unwrap()
            .contains("ciphertext")
    );
    show(&yes, "secret\n");
    // No.
    let no = dir.join("no");
    at(&no, &["key", "generate", "--account", ALICE], "n\n").ok();
    assert!(
        fs::read_to_string(no.join("store.json"))
            .unwrap()
            .contains("\"contents\"")
    );
    // Asked only at first run.
    let run = at(
        &no,
        &["key", "generate", "--account", "other@example.org"],
        "",
    )
    .ok();
    assert!(!run.stderr.contains("Encrypt"), "{}", run.stderr);
    // No answer: a clear error naming the flags, and no store.
    let silent = dir.join("silent");
    let run = at(&silent, &["key", "generate", "--account", ALICE], "").fails(1);
    assert!(run.stderr.contains("--no-passphrase"), "{}", run.stderr);
    assert!(!silent.join("store.json").exists());
    // Commands that only read do not create a store.
    let run = at(&silent, &["--json", "key", "show"], "").fails(1);
    assert_eq!(run.error_json()["error"]["code"], "no_store");
    assert!(
        run.error_json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("padlock key generate")
    );
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
    assert!(
        run.stderr.contains("unrecognized subcommand 'genrate'"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("'generate'"), "{}", run.stderr);
    let run = padlock(&["fingerprint", "list"], "").fails(2);
    assert!(run.stderr.contains("'fingerprints'"), "{}", run.stderr);
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
    assert!(run.stderr.contains("libotr"), "{}", run.stderr);
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
    assert!(run.stderr.contains("bare address"), "{}", run.stderr);
}

#[test]
fn the_demo_still_runs() {
    let run = padlock(&["demo", "--seed", "7"], "").ok();
    assert!(
        run.stdout.contains("That is the whole flow"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_store_in_use_is_reported_with_exit_code_3() {
    let dir = TempDir::new("busy");
    let store = dir.join("store");
    generate(&store);
    let held = Store::open(&store, None).unwrap();
    let run = at(&store, &["--json", "key", "show"], "").fails(3);
    assert_eq!(run.error_json()["error"]["code"], "busy");
    drop(held);
    show(&store, "");
}
