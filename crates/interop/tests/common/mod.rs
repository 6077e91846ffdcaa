//! Shared by the interop test files: where the programs are, a secure pair,
//! and checks every test repeats.

#![allow(dead_code, reason = "each test file uses a different part")]

use padlock_interop::driver::{Impl, Net, Programs, Round, quote};
use serde_json::Value;

/// The padlock binary, the harness sources, and where the libotr harness is
/// compiled.
pub fn programs() -> Programs {
    Programs::new(
        env!("CARGO_BIN_EXE_otr-peer"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/harness"),
        env!("CARGO_TARGET_TMPDIR"),
    )
}

/// A net with Padlock "alice" and a peer "bob" of `kind`; `bob_policy` is
/// set before anything else happens.
pub fn pair(test: &str, kind: Impl, bob_policy: Option<&str>) -> Net {
    let mut net = Net::new(programs(), test);
    net.spawn(Impl::Padlock, "alice", "alice");
    net.spawn(kind, "bob", "bob");
    if let Some(policy) = bob_policy {
        let round = net.cmd("bob", &format!("policy {policy}"));
        assert!(
            round.of_type("bob", "error").is_empty(),
            "policy {policy} refused"
        );
    }
    net
}

/// `pair`, then `starter` queries the other side and both must go secure
/// with `version`.
pub fn secure_pair(
    test: &str,
    kind: Impl,
    bob_policy: Option<&str>,
    starter: &str,
    version: &str,
) -> Net {
    let mut net = pair(test, kind, bob_policy);
    let other = if starter == "alice" { "bob" } else { "alice" };
    let round = net.cmd(starter, &format!("query {other}"));
    assert_gone_secure(&net, &round, version);
    net
}

/// Both alice and bob went secure exactly once this round, with `version`,
/// each other's fingerprint and instance tag, and the same session id.
/// Returns the ssid.
pub fn assert_gone_secure(net: &Net, round: &Round, version: &str) -> String {
    let a = round.one("alice", "gone_secure", &[]);
    let b = round.one("bob", "gone_secure", &[]);
    assert_eq!(a["version"], version, "alice's session version");
    assert_eq!(b["version"], version, "bob's session version");
    assert_eq!(
        a["fingerprint"],
        net.peer("bob").fingerprint(),
        "alice sees bob's fingerprint"
    );
    assert_eq!(
        b["fingerprint"],
        net.peer("alice").fingerprint(),
        "bob sees alice's fingerprint"
    );
    assert_eq!(a["ssid"], b["ssid"], "both sides compute the same ssid");
    let ssid = a["ssid"].as_str().unwrap_or_default().to_owned();
    assert!(
        ssid.len() == 16 && ssid.bytes().all(|c| c.is_ascii_hexdigit()),
        "ssid {ssid:?}"
    );
    let (want_a, want_b) = if version == "3" {
        (net.peer("bob").instag(), net.peer("alice").instag())
    } else {
        ("", "")
    };
    assert_eq!(a["instag"], want_a, "alice sees bob's instance tag");
    assert_eq!(b["instag"], want_b, "bob sees alice's instance tag");
    assert_eq!(a["trust"], "");
    assert_eq!(b["trust"], "");
    ssid
}

/// `from` sends `text` to `to`: `to` shows it once, exactly, decrypted, and
/// nobody shows it in plaintext. Every wire `from` sent is a data message
/// or a fragment of one. Returns the round.
pub fn send_private(net: &mut Net, from: &str, to: &str, text: &str) -> Round {
    let round = net.cmd(from, &format!("send {to} {}", quote(text)));
    let shown = round.find(to, "message", &[("text", text)]);
    assert_eq!(
        shown.len(),
        1,
        "{to} shows {text:?} once; it showed {:?}",
        round.texts(to)
    );
    assert_eq!(shown[0]["encrypted"], true, "{to} decrypted {text:?}");
    assert_eq!(shown[0]["from"], net.peer(from).account());
    assert_never_plaintext(&round, text);
    for wire in round.wires(from) {
        assert!(
            wire.starts_with("?OTR:AA") || wire.starts_with("?OTR|") || wire.starts_with("?OTR,"),
            "{wire:?}"
        );
    }
    round
}

/// No peer showed `text` unencrypted, and no wire carried it readably.
pub fn assert_never_plaintext(round: &Round, text: &str) {
    for name in ["alice", "bob", "bob1", "bob2"] {
        for message in round.find(name, "message", &[("text", text)]) {
            assert_eq!(
                message["encrypted"], true,
                "{name} showed {text:?} as plaintext"
            );
        }
        for wire in round.wires(name) {
            assert!(
                !wire.contains(text),
                "{name} sent {text:?} readably: {wire:?}"
            );
        }
    }
}

/// The `status` of `name` towards `peer`: msgstate and trust.
pub fn status(net: &mut Net, name: &str, peer: &str) -> (String, String) {
    let status = net.status(name, peer);
    let field = |k: &str| status[k].as_str().unwrap_or_default().to_owned();
    (field("msgstate"), field("trust"))
}

/// 3000 bytes of mixed text (with non-ASCII, so the byte count matters).
pub fn big_text() -> String {
    let mut text: String = (0..2900)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    text.push_str(" \"quoted\" \\ tab\t é ü 漢字 😀\n");
    while text.len() < 3000 {
        text.push('z');
    }
    text
}

/// `from` sends a 3000-byte text with `mms 500`: it leaves as several
/// fragments of at most 500 bytes (starting with `prefix`) and arrives
/// whole. Returns the number of fragments.
pub fn send_fragmented(net: &mut Net, from: &str, to: &str, prefix: &str) -> usize {
    let round = net.cmd(from, "mms 500");
    assert!(round.of_type(from, "error").is_empty(), "mms 500 refused");
    let text = big_text();
    assert_eq!(text.len(), 3000);
    let round = send_private(net, from, to, &text);
    let fragments = round.wires(from);
    assert!(
        fragments.len() > 1,
        "3000 bytes with mms 500 went as {} wire message(s)",
        fragments.len()
    );
    for fragment in &fragments {
        assert!(
            fragment.len() <= 500,
            "a fragment of {} bytes: {fragment:?}",
            fragment.len()
        );
        assert!(
            fragment.starts_with(prefix),
            "fragment does not start with {prefix:?}: {fragment:?}"
        );
    }
    net.cmd(from, "mms 0");
    fragments.len()
}

/// SMP run: `asker` starts (with `question` if any) using `secret`, the other
/// answers `answer`. Returns (asker's smp events, responder's smp events).
pub fn smp(
    net: &mut Net,
    asker: &str,
    responder: &str,
    question: Option<&str>,
    secret: &str,
    answer: &str,
) -> (Vec<String>, Vec<String>) {
    let start = match question {
        Some(question) => format!("smpq {responder} {} {}", quote(question), quote(secret)),
        None => format!("smp {responder} {}", quote(secret)),
    };
    let mut round = net.cmd(asker, &start);
    assert!(
        round.of_type(asker, "error").is_empty(),
        "{asker} refused to start SMP"
    );
    match question {
        Some(question) => {
            let ask = round.one(responder, "smp", &[("event", "ask_for_answer")]);
            assert_eq!(ask["question"], question, "the question arrives intact");
        }
        None => {
            round.one(responder, "smp", &[("event", "ask_for_secret")]);
        }
    }
    round.extend(net.cmd(responder, &format!("smp_answer {asker} {}", quote(answer))));
    let events = |name: &str| {
        round
            .smp_events(name)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    (events(asker), events(responder))
}

/// The other one of alice and bob.
pub fn other(name: &str) -> &'static str {
    if name == "alice" { "bob" } else { "alice" }
}

/// The fields of an OTR data message on the wire (not a fragment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataHeader {
    pub version: u16,
    pub sender_keyid: u32,
    pub recipient_keyid: u32,
}

/// Parses the header of a `?OTR:...` data message; `None` for anything else.
pub fn data_header(wire: &str) -> Option<DataHeader> {
    let body = wire.strip_prefix("?OTR:")?;
    let body = body.split('.').next()?;
    let bytes = base64_decode(body)?;
    let version = u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]);
    if *bytes.get(2)? != 0x03 {
        return None;
    }
    // v3 adds two instance tags (8 bytes) after the type; then flags (1).
    let at = if version == 3 { 3 + 8 + 1 } else { 3 + 1 };
    let word = |i: usize| -> Option<u32> {
        Some(u32::from_be_bytes(bytes.get(i..i + 4)?.try_into().ok()?))
    };
    Some(DataHeader {
        version,
        sender_keyid: word(at)?,
        recipient_keyid: word(at + 4)?,
    })
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The value of a JSON event field as a string ("" when absent).
pub fn field<'a>(event: &'a Value, key: &str) -> &'a str {
    event[key].as_str().unwrap_or_default()
}
