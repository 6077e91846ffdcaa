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

/// One `#[test]` per entry, each calling the scenario `$case` with the
/// test's own name first and then its arguments.
#[allow(unused_macros, reason = "not every test file has such cases")]
macro_rules! cases {
    ($case:ident { $($name:ident($($arg:expr),* $(,)?);)* }) => {
        $(
            #[test]
            fn $name() {
                $case(stringify!($name) $(, $arg)*);
            }
        )*
    };
}
#[allow(unused_imports, reason = "not every test file has such cases")]
pub(crate) use cases;

/// The implementation "bob" runs, as the scenarios both test files share
/// need it: its program, the version it settles on with Padlock, and how its
/// fragments begin.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    pub kind: Impl,
    pub version: &'static str,
    pub fragment: &'static str,
}

pub const LIBOTR: Peer = Peer {
    kind: Impl::Libotr,
    version: "3",
    fragment: "?OTR|",
};

pub const POTR: Peer = Peer {
    kind: Impl::Potr,
    version: "2",
    fragment: "?OTR,",
};

impl Peer {
    /// `secure_pair` with this implementation's default policy and version.
    pub fn secure(self, test: &str, starter: &str) -> Net {
        secure_pair(test, self.kind, None, starter, self.version)
    }
}

/// Both sides' `status` towards each other is `msgstate` with `trust`.
#[track_caller]
pub fn assert_both_status(net: &mut Net, msgstate: &str, trust: &str) {
    let want = (msgstate.to_owned(), trust.to_owned());
    assert_eq!(status(net, "alice", "bob"), want);
    assert_eq!(status(net, "bob", "alice"), want);
}

/// Both sides' `status` towards each other is "encrypted" (whatever the
/// trust).
#[track_caller]
pub fn assert_both_encrypted(net: &mut Net) {
    assert_eq!(status(net, "alice", "bob").0, "encrypted");
    assert_eq!(status(net, "bob", "alice").0, "encrypted");
}

/// Messages flow both ways: alice sends `to_bob`, bob sends `to_alice`.
pub fn send_both_ways(net: &mut Net, to_bob: &str, to_alice: &str) {
    send_private(net, "alice", "bob", to_bob);
    send_private(net, "bob", "alice", to_alice);
}

/// Padlock's plaintext carries the whitespace tag; the peer starts an AKE
/// from it and shows the text once, untagged.
pub fn whitespace_tag_case(test: &str, peer: Peer) {
    let mut net = pair(test, peer.kind, None);
    let round = net.cmd("alice", "send bob plain hello");
    let shown = round.messages("bob");
    assert_eq!(shown.len(), 1);
    assert_eq!(
        shown[0]["text"], "plain hello",
        "the whitespace tag is stripped"
    );
    assert_eq!(shown[0]["encrypted"], false);
    assert_gone_secure(&net, &round, peer.version);
}

/// With `mms 300` on both sides the AKE messages themselves are fragmented;
/// `starter` queries, and messages flow afterwards.
pub fn ake_with_fragments_case(test: &str, peer: Peer, starter: &str) {
    let mut net = pair(test, peer.kind, None);
    net.cmd("alice", "mms 300");
    net.cmd("bob", "mms 300");
    let round = net.cmd(starter, &format!("query {}", other(starter)));
    assert_gone_secure(&net, &round, peer.version);
    for name in ["alice", "bob"] {
        assert!(
            round.wires(name).iter().all(|w| w.len() <= 300),
            "{name} respected mms 300"
        );
        assert!(
            round
                .wires(name)
                .iter()
                .any(|w| w.starts_with(peer.fragment)),
            "{name} fragmented its AKE messages"
        );
    }
    send_both_ways(&mut net, "small pieces", "small pieces back");
}

/// A secure pair; `from` sends a fragmented 3000-byte message to `to`, who
/// replies. Returns the number of fragments.
pub fn fragmented_case(test: &str, peer: Peer, from: &str, to: &str) -> usize {
    let mut net = peer.secure(test, "alice");
    let n = send_fragmented(&mut net, from, to, peer.fragment);
    send_private(&mut net, to, from, "got it");
    n
}

/// A successful SMP run started by `asker` (with `question` if any): both
/// see success, both trust via SMP, and the session goes on. Returns (asker's
/// smp events, responder's smp events).
pub fn smp_success_case(
    test: &str,
    peer: Peer,
    asker: &str,
    question: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    let mut net = peer.secure(test, "alice");
    let responder = other(asker);
    let (a, r) = smp(
        &mut net,
        asker,
        responder,
        question,
        "the secret",
        "the secret",
    );
    assert!(a.contains(&"success".to_owned()), "asker {asker} saw {a:?}");
    assert!(
        r.contains(&"success".to_owned()),
        "responder {responder} saw {r:?}"
    );
    assert_both_status(&mut net, "encrypted", "smp");
    // The session goes on after SMP.
    send_both_ways(&mut net, "verified", "verified too");
    (a, r)
}

/// `ender` ends a private conversation: it is back to plaintext, the other
/// side is finished and sends nothing into it; ending again sends nothing,
/// and a fresh AKE works. With `ender_hears_no_error`, nothing answers the
/// disconnect either.
pub fn end_case(test: &str, peer: Peer, ender: &str, ender_hears_no_error: bool) {
    let mut net = peer.secure(test, "alice");
    send_private(&mut net, "alice", "bob", "before the end");
    let left = other(ender);
    let round = net.cmd(ender, &format!("end {left}"));
    assert!(
        round.has(ender, "gone_insecure", &[("state", "plaintext")]),
        "{ender} is back to plaintext"
    );
    assert!(
        round.has(left, "gone_insecure", &[("state", "finished")]),
        "{left} learns that {ender} ended"
    );
    if ender_hears_no_error {
        assert!(
            round.msg_events(ender).is_empty(),
            "no error answers the disconnect: {:?}",
            round.msg_events(ender)
        );
    }
    assert_eq!(status(&mut net, ender, left).0, "plaintext");
    assert_eq!(status(&mut net, left, ender).0, "finished");
    // Sending into a finished conversation sends nothing.
    let round = net.cmd(left, &format!("send {ender} into the void"));
    assert!(
        round.has(left, "msg_event", &[("event", "connection_ended")]),
        "{:?}",
        round.msg_events(left)
    );
    assert!(
        round.wires(left).is_empty(),
        "nothing leaves {left}: {:?}",
        round.wires(left)
    );
    assert!(round.messages(ender).is_empty());
    // Ending the finished conversation too, then a fresh AKE works.
    let round = net.cmd(left, &format!("end {ender}"));
    assert!(
        round.wires(left).is_empty(),
        "ending a finished conversation sends nothing"
    );
    let round = net.cmd(left, &format!("query {ender}"));
    assert_gone_secure(&net, &round, peer.version);
    send_private(&mut net, left, ender, "again");
}
