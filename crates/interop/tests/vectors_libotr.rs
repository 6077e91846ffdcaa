//! libotr judges padlock-otr's known-answer vectors (`crates/otr/tests/vectors`).
//!
//! Every OTR message of every vector (fragments reassembled here, by hand) is
//! given to libotr's own toolkit (Debian's `libotr5-bin`):
//!
//! - `otr_parse` parses every AKE and data message, and each field it prints
//!   must equal ours (the recorded fields, the DH keys of the vector, and our
//!   wire decoder for the bulky ones);
//! - `otr_sesskeys`, from the sender's DH secret and the recipient's public
//!   key and the other way round, must give the recorded AES and MAC keys and
//!   the recorded high/low end; `otr_mackey` must agree on the MAC key;
//! - `otr_readforge` must verify each data message's MAC with the recorded
//!   AES key and decrypt it to the recorded text; the whole plaintext, TLVs
//!   included, is checked through libotr's AES-CTR keystream (a forgery with
//!   known bytes); re-forging a message with its own plaintext, and
//!   `otr_remac` from its fields (version 3), must give our message byte for
//!   byte.
//!
//! Every disagreement is collected and reported at the end: each is a bug in
//! padlock-otr (or in a stale vector; see `crates/otr/examples/gen_vectors.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use padlock_otr::wire::{Body, Incoming, classify};
use serde_json::Value;

/// What a toolkit program printed.
struct Run {
    stdout: Vec<u8>,
    stderr: String,
}

fn run(program: &str, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program} (Debian package libotr5-bin): {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {output:?}"
    );
    Run {
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `otr_parse`'s report of one message: its title and `name: value` lines
/// (revealed MAC keys in order under `Revealed MAC keys`).
#[derive(Debug, Default)]
struct Parsed {
    title: String,
    fields: BTreeMap<String, String>,
    revealed: Vec<String>,
}

fn otr_parse(text: &str) -> Parsed {
    let out = run("otr_parse", &[], text);
    let out = String::from_utf8(out.stdout).unwrap();
    let mut parsed = Parsed::default();
    for line in out.lines() {
        if line.is_empty() {
            continue;
        }
        if !line.starts_with('\t') {
            assert!(
                parsed.title.is_empty(),
                "otr_parse printed two messages for one: {out}"
            );
            parsed.title = line.trim_end_matches(':').to_owned();
        } else if let Some(key) = line.strip_prefix("\t\tKey ") {
            let (_, value) = key.split_once(": ").unwrap();
            parsed.revealed.push(value.to_owned());
        } else if let Some((name, value)) = line.trim_start().split_once(": ") {
            parsed.fields.insert(name.to_owned(), value.to_owned());
        }
    }
    parsed
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {value}"))
}

fn u64_of(value: &Value, key: &str) -> u64 {
    value[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not a number in {value}"))
}

/// Collects disagreements instead of stopping at the first.
struct Judge {
    disagreements: Vec<String>,
    checks: usize,
}

impl Judge {
    fn same(&mut self, place: &str, field: &str, libotr: &str, ours: &str) {
        self.checks += 1;
        if libotr != ours {
            self.disagreements.push(format!(
                "{place}: {field}: libotr says {libotr:?}, padlock says {ours:?}"
            ));
        }
    }

    fn check(&mut self, place: &str, what: &str, ok: bool) {
        self.checks += 1;
        if !ok {
            self.disagreements.push(format!("{place}: {what}"));
        }
    }
}

fn vector_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../otr/tests/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vectors in {}", dir.display());
    files
}

/// Reassembles a message from libotr-style fragments, checking their form:
/// `?OTR|%08x|%08x,%05hu,%05hu,piece,` (v3) or `?OTR,%05hu,%05hu,piece,`
/// (v2), k running from 1 to n, the instance tags of sender and receiver,
/// and each fragment within the sender's maximum message size.
fn reassemble(
    judge: &mut Judge,
    place: &str,
    fragments: &[&str],
    tags: Option<(u32, u32)>,
    mms: usize,
) -> String {
    let mut whole = String::new();
    let count = fragments.len();
    for (i, fragment) in fragments.iter().enumerate() {
        let place = format!("{place}, fragment {}", i + 1);
        judge.check(
            &place,
            "fragment longer than the maximum message size",
            fragment.len() <= mms,
        );
        let rest = match tags {
            Some((sender, receiver)) => {
                let expected = format!("?OTR|{sender:08x}|{receiver:08x},");
                let ok = fragment.starts_with(&expected);
                judge.check(&place, &format!("v3 fragment header is not {expected}"), ok);
                &fragment[expected.len().min(fragment.len())..]
            }
            None => {
                judge.check(
                    &place,
                    "v2 fragment does not start with ?OTR,",
                    fragment.starts_with("?OTR,"),
                );
                &fragment[5.min(fragment.len())..]
            }
        };
        let expected = format!("{:05},{:05},", i + 1, count);
        judge.check(
            &place,
            &format!("k,n is not {expected}"),
            rest.starts_with(&expected),
        );
        let piece = rest.get(expected.len()..).unwrap_or_default();
        judge.check(
            &place,
            "fragment does not end with a comma",
            piece.ends_with(','),
        );
        whole.push_str(piece.strip_suffix(',').unwrap_or(piece));
    }
    whole
}

#[test]
fn libotr_agrees_with_every_vector() {
    let mut judge = Judge {
        disagreements: Vec::new(),
        checks: 0,
    };
    let mut parsed_messages = 0;
    let mut data_messages = 0;
    let mut fragmented = 0;
    for file in vector_files() {
        let vector: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let name = str_of(&vector, "name").to_owned();
        let wire = vector["wire"].as_array().unwrap();
        let tag = |side: &str| u64_of(&vector[side], "instance_tag") as u32;
        let mms = |side: &str| match u64_of(&vector[side], "max_message_size") {
            0 => usize::MAX,
            size => size as usize,
        };
        let dh_public = |owner: &str, keyid: u64| -> Option<&str> {
            vector["dh_keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["owner"] == owner && k["keyid"] == keyid)
                .map(|k| str_of(k, "public"))
        };
        let dh_secret = |owner: &str, keyid: u64| -> Option<&str> {
            vector["dh_keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["owner"] == owner && k["keyid"] == keyid)
                .and_then(|k| k["secret"].as_str())
        };
        // MAC keys each side used to receive, for the revealed-key check.
        let mut received_mac_keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (m, message) in vector["messages"].as_array().unwrap().iter().enumerate() {
            let kind = str_of(message, "kind");
            let from = str_of(message, "from");
            let to = str_of(message, "to");
            let indices: Vec<usize> = message["wire"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_u64().unwrap() as usize)
                .collect();
            let place = format!("{name}, message {m} ({kind}, wire {indices:?})");
            let texts: Vec<&str> = indices.iter().map(|&i| str_of(&wire[i], "text")).collect();
            if matches!(kind, "query" | "error" | "plaintext") {
                continue;
            }
            let version = u64_of(message, "version");
            let whole = if texts.len() == 1 {
                texts[0].to_owned()
            } else {
                fragmented += 1;
                let tags = (version == 3)
                    .then(|| (tag(from), u64_of(message, "receiver_instance") as u32));
                reassemble(&mut judge, &place, &texts, tags, mms(from))
            };
            judge.check(
                &place,
                "not a whole ?OTR:...  message",
                whole.starts_with("?OTR:") && whole.ends_with('.'),
            );
            let Incoming::Encoded(Ok(ours)) = classify(&whole) else {
                judge.check(&place, "padlock's decoder rejects the message", false);
                continue;
            };

            let parsed = otr_parse(&whole);
            parsed_messages += 1;
            let field = |name: &str| {
                parsed
                    .fields
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| "<missing>".into())
            };
            judge.same(
                &place,
                "Version",
                &field("Version"),
                &format!("{version:02x}"),
            );
            if version == 3 {
                judge.same(
                    &place,
                    "Sender instance",
                    &field("Sender instance"),
                    &tag(from).to_string(),
                );
                judge.same(
                    &place,
                    "Receiver instance",
                    &field("Receiver instance"),
                    &u64_of(message, "receiver_instance").to_string(),
                );
                let receiver = u64_of(message, "receiver_instance") as u32;
                judge.check(
                    &place,
                    "receiver instance is neither the receiver's tag nor 0 in a D-H Commit",
                    receiver == tag(to) || (receiver == 0 && kind == "dh_commit"),
                );
            }
            match (kind, &ours.body) {
                (
                    "dh_commit",
                    Body::DhCommit {
                        encrypted_gx,
                        hashed_gx,
                    },
                ) => {
                    judge.same(&place, "title", &parsed.title, "D-H Commit Message");
                    judge.same(
                        &place,
                        "Encrypted Key",
                        &field("Encrypted Key"),
                        &hex(encrypted_gx),
                    );
                    judge.same(
                        &place,
                        "Hashed Key",
                        &field("Hashed Key"),
                        str_of(message, "hashed_gx"),
                    );
                    judge.same(
                        &place,
                        "Hashed Key (wire)",
                        &field("Hashed Key"),
                        &hex(hashed_gx),
                    );
                }
                ("dh_key", Body::DhKey { .. }) => {
                    judge.same(&place, "title", &parsed.title, "D-H Key Message");
                    let key =
                        dh_public(from, u64_of(message, "gy_keyid")).unwrap_or("<no such key>");
                    judge.same(&place, "D-H Key", &field("D-H Key"), key);
                }
                (
                    "reveal_signature",
                    Body::RevealSignature {
                        encrypted_signature,
                        ..
                    },
                ) => {
                    judge.same(&place, "title", &parsed.title, "Reveal Signature Message");
                    judge.same(
                        &place,
                        "Key",
                        &field("Key"),
                        str_of(message, "revealed_key"),
                    );
                    judge.same(
                        &place,
                        "Encrypted Signature",
                        &field("Encrypted Signature"),
                        &hex(encrypted_signature),
                    );
                    judge.same(
                        &place,
                        "Encrypted Signature length",
                        &(field("Encrypted Signature").len() / 2).to_string(),
                        &u64_of(message, "encrypted_signature_length").to_string(),
                    );
                    judge.same(&place, "MAC", &field("MAC"), str_of(message, "mac"));
                }
                (
                    "signature",
                    Body::Signature {
                        encrypted_signature,
                        ..
                    },
                ) => {
                    judge.same(&place, "title", &parsed.title, "Signature Message");
                    judge.same(
                        &place,
                        "Encrypted Signature",
                        &field("Encrypted Signature"),
                        &hex(encrypted_signature),
                    );
                    judge.same(
                        &place,
                        "Encrypted Signature length",
                        &(field("Encrypted Signature").len() / 2).to_string(),
                        &u64_of(message, "encrypted_signature_length").to_string(),
                    );
                    judge.same(&place, "MAC", &field("MAC"), str_of(message, "mac"));
                }
                ("data", Body::Data(data)) => {
                    data_messages += 1;
                    judge.same(&place, "title", &parsed.title, "Data Message");
                    judge.same(
                        &place,
                        "Flags",
                        &field("Flags"),
                        &u64_of(message, "flags").to_string(),
                    );
                    let sender_keyid = u64_of(message, "sender_keyid");
                    let recipient_keyid = u64_of(message, "recipient_keyid");
                    judge.same(
                        &place,
                        "Sender keyid",
                        &field("Sender keyid"),
                        &sender_keyid.to_string(),
                    );
                    judge.same(
                        &place,
                        "Rcpt keyid",
                        &field("Rcpt keyid"),
                        &recipient_keyid.to_string(),
                    );
                    let next = dh_public(from, sender_keyid + 1).unwrap_or("<no such key>");
                    judge.same(&place, "DH y (the sender's next key)", &field("DH y"), next);
                    judge.same(
                        &place,
                        "Counter",
                        &field("Counter"),
                        str_of(message, "counter"),
                    );
                    judge.same(
                        &place,
                        "Encrypted message",
                        &field("Encrypted message"),
                        &hex(&data.encrypted),
                    );
                    judge.same(&place, "MAC", &field("MAC"), str_of(message, "mac"));
                    let revealed: Vec<String> = message["old_mac_keys"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|k| k.as_str().unwrap().to_owned())
                        .collect();
                    judge.same(
                        &place,
                        "Revealed MAC keys",
                        &parsed.revealed.join(","),
                        &revealed.join(","),
                    );
                    for key in &revealed {
                        let used = received_mac_keys
                            .get(from)
                            .is_some_and(|keys| keys.contains(key));
                        judge.check(
                            &place,
                            &format!("revealed MAC key {key} is not one {from} used to receive"),
                            used,
                        );
                    }
                    check_data_keys(
                        &mut judge,
                        &place,
                        message,
                        &whole,
                        &field("Encrypted message"),
                        (
                            dh_secret(from, sender_keyid),
                            dh_public(from, sender_keyid),
                            dh_secret(to, recipient_keyid),
                            dh_public(to, recipient_keyid),
                        ),
                    );
                    if let Some(mac) = message["keys"]["mac"].as_str() {
                        received_mac_keys
                            .entry(to.to_owned())
                            .or_default()
                            .push(mac.to_owned());
                    }
                }
                _ => judge.check(&place, &format!("padlock decodes a {:?}", ours.body), false),
            }
        }
    }
    eprintln!(
        "libotr's toolkit: {parsed_messages} messages parsed ({fragmented} reassembled from fragments), \
         {data_messages} data messages checked, {} checks",
        judge.checks
    );
    assert!(parsed_messages > 0 && data_messages > 0 && fragmented > 0);
    assert!(
        judge.disagreements.is_empty(),
        "libotr disagrees with padlock-otr ({} of {} checks); each is an engine bug:\n{}",
        judge.disagreements.len(),
        judge.checks,
        judge.disagreements.join("\n")
    );
}

/// The toolkit checks of one data message's keys and plaintext.
fn check_data_keys(
    judge: &mut Judge,
    place: &str,
    message: &Value,
    whole: &str,
    ciphertext: &str,
    (sender_secret, sender_public, recipient_secret, recipient_public): (
        Option<&str>,
        Option<&str>,
        Option<&str>,
        Option<&str>,
    ),
) {
    let keys = &message["keys"];
    let (Some(aes), Some(mac)) = (keys["aes"].as_str(), keys["mac"].as_str()) else {
        judge.check(
            place,
            "the vector has no AES/MAC key for this data message",
            false,
        );
        return;
    };
    let high = keys["sender_is_high_end"].as_bool();

    // otr_mackey: MAC key = SHA-1(AES key).
    let out = String::from_utf8(run("otr_mackey", &[aes], "").stdout).unwrap();
    judge.same(
        place,
        "otr_mackey MAC key",
        &line_value(&out, "MAC key"),
        mac,
    );

    // otr_sesskeys, from both ends.
    for (ours, theirs, our_public, direction, is_sender) in [
        (
            sender_secret,
            recipient_public,
            sender_public,
            "Sending",
            true,
        ),
        (
            recipient_secret,
            sender_public,
            recipient_public,
            "Receiving",
            false,
        ),
    ] {
        let (Some(secret), Some(public)) = (ours, theirs) else {
            judge.check(
                place,
                &format!("no DH keys for otr_sesskeys ({direction})"),
                false,
            );
            continue;
        };
        let out = String::from_utf8(run("otr_sesskeys", &[secret, public], "").stdout).unwrap();
        let tool = format!(
            "otr_sesskeys ({} side)",
            if is_sender { "sender" } else { "recipient" }
        );
        judge.same(
            place,
            &format!("{tool} our public key"),
            &line_value(&out, "Our public key"),
            our_public.unwrap_or(""),
        );
        judge.same(
            place,
            &format!("{tool} {direction} AES key"),
            &line_value(&out, &format!("{direction:<9} AES key")),
            aes,
        );
        judge.same(
            place,
            &format!("{tool} {direction} MAC key"),
            &line_value(&out, &format!("{direction:<9} MAC key")),
            mac,
        );
        if let Some(sender_high) = high {
            let we_are_high = out.contains("We are the high end");
            judge.same(
                place,
                &format!("{tool} high end"),
                &we_are_high.to_string(),
                &(sender_high == is_sender).to_string(),
            );
        }
    }

    // otr_readforge: MAC check and decryption (printed up to the first NUL).
    let plaintext = message["plaintext"].as_str().map(unhex).unwrap_or_default();
    let readforge = run("otr_readforge", &[aes], whole);
    judge.check(
        place,
        &format!("otr_readforge: {}", readforge.stderr.trim()),
        !readforge.stderr.contains("MAC does not verify"),
    );
    let text_end = plaintext
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(plaintext.len());
    let mut expected = b"Plaintext: ``".to_vec();
    expected.extend_from_slice(&plaintext[..text_end]);
    expected.extend_from_slice(b"''\n");
    judge.same(
        place,
        "otr_readforge plaintext",
        &String::from_utf8_lossy(&readforge.stdout),
        &String::from_utf8_lossy(&expected),
    );
    if let Some(text) = message["text"].as_str() {
        judge.same(
            place,
            "recorded text",
            &String::from_utf8_lossy(&plaintext[..text_end]),
            text,
        );
    }

    // The whole plaintext, TLVs included: libotr encrypts known bytes with
    // the same key and counter, which gives its keystream.
    let known = "A".repeat(plaintext.len());
    let forged = run("otr_readforge", &[aes, &known], whole);
    let forged = String::from_utf8(forged.stdout).unwrap();
    let forged_message = forged.lines().nth(1).unwrap_or_default().to_owned();
    let forged_ciphertext = otr_parse(&forged_message)
        .fields
        .get("Encrypted message")
        .cloned()
        .unwrap_or_default();
    let decrypted: Vec<u8> = unhex(&forged_ciphertext)
        .iter()
        .zip(unhex(ciphertext))
        .map(|(f, c)| f ^ b'A' ^ c)
        .collect();
    judge.same(
        place,
        "plaintext (libotr's keystream)",
        &hex(&decrypted),
        &hex(&plaintext),
    );

    // Re-forging with the same plaintext gives our message, byte for byte
    // (libotr's encoding and MAC); argv cannot carry a NUL.
    if !plaintext.contains(&0) {
        let text = String::from_utf8(plaintext.clone()).unwrap();
        let reforged = run("otr_readforge", &[aes, &text], whole);
        let reforged = String::from_utf8(reforged.stdout).unwrap();
        judge.same(
            place,
            "otr_readforge re-forged message",
            reforged.lines().nth(1).unwrap_or_default(),
            whole,
        );
    }

    // otr_remac (version 3 only) assembles and MACs the message from its fields.
    if u64_of(message, "version") == 3 {
        let parsed = otr_parse(whole);
        let field = |name: &str| parsed.fields.get(name).cloned().unwrap_or_default();
        let args = [
            mac.to_owned(),
            field("Sender instance"),
            field("Receiver instance"),
            field("Flags"),
            field("Sender keyid"),
            field("Rcpt keyid"),
            field("DH y"),
            field("Counter"),
            field("Encrypted message"),
            parsed.revealed.concat(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let remac = String::from_utf8(run("otr_remac", &args, "").stdout).unwrap();
        judge.same(place, "otr_remac message", remac.trim_end(), whole);
    }
}

/// The value of a `name: value` line of a toolkit's output.
fn line_value(out: &str, name: &str) -> String {
    out.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
        .unwrap_or("<missing>")
        .to_owned()
}
