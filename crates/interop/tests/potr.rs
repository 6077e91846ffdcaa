//! padlock-otr against python-potr 1.0.2 (OTR v2 only), each through its
//! `otr-peer` line-protocol program: Padlock is "alice", potr is "bob".
//!
//! Needs Debian's /usr/bin/python3 with python3-potr and
//! python3-pycryptodome.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{
    assert_gone_secure, data_header, other, pair, secure_pair, send_fragmented, send_private, smp,
    status,
};
use padlock_interop::driver::{Impl, Net};

const POTR: Impl = Impl::Potr;

fn secure(test: &str, starter: &str) -> Net {
    secure_pair(test, POTR, None, starter, "2")
}

#[test]
fn ake_started_by_padlock() {
    let mut net = pair("ake_started_by_padlock", POTR, None);
    // Padlock offers v2 and v3; potr picks v2 from "?OTRv23?".
    let round = net.cmd("alice", "query bob");
    assert!(round.wires("alice")[0].starts_with("?OTRv23?"));
    assert_gone_secure(&net, &round, "2");
    assert!(round.has(
        "alice",
        "new_fingerprint",
        &[("fingerprint", net.peer("bob").fingerprint())]
    ));
    assert_eq!(
        status(&mut net, "alice", "bob"),
        ("encrypted".into(), String::new())
    );
    assert_eq!(
        status(&mut net, "bob", "alice"),
        ("encrypted".into(), String::new())
    );
}

#[test]
fn ake_started_by_potr() {
    let mut net = pair("ake_started_by_potr", POTR, None);
    let round = net.cmd("bob", "query alice");
    assert!(
        round.wires("bob")[0].starts_with("?OTRv2?"),
        "potr's query: {:?}",
        round.wires("bob")[0]
    );
    assert_gone_secure(&net, &round, "2");
    send_private(&mut net, "alice", "bob", "hello potr");
    send_private(&mut net, "bob", "alice", "hello padlock");
}

#[test]
fn messages_both_ways() {
    let mut net = secure("messages_both_ways", "alice");
    let texts = [
        "plain ascii",
        "ünïcødé — 漢字 😀",
        "two\nlines\tand a tab",
        "\"quotes\" \\ <b>html</b> &amp;",
    ];
    let mut keyids = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        for (from, to) in [("alice", "bob"), ("bob", "alice")] {
            let round = send_private(&mut net, from, to, &format!("{from} #{i}: {text}"));
            let header = data_header(round.wires(from)[0]).expect("a data message");
            assert_eq!(header.version, 2);
            keyids.push((from, header.sender_keyid));
        }
    }
    for side in ["alice", "bob"] {
        let ids: Vec<u32> = keyids
            .iter()
            .filter(|(f, _)| *f == side)
            .map(|(_, k)| *k)
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] <= w[1]) && ids.last() > ids.first(),
            "{side} rotated keys: {ids:?}"
        );
    }
}

#[test]
fn fragmented_message_padlock_to_potr() {
    let mut net = secure("fragmented_message_padlock_to_potr", "alice");
    send_fragmented(&mut net, "alice", "bob", "?OTR,");
    send_private(&mut net, "bob", "alice", "got it");
}

#[test]
fn fragmented_message_potr_to_padlock() {
    let mut net = secure("fragmented_message_potr_to_padlock", "alice");
    send_fragmented(&mut net, "bob", "alice", "?OTR,");
    send_private(&mut net, "alice", "bob", "got it");
}

/// potr fragments its AKE messages too; Padlock does as well.
#[test]
fn ake_with_fragments_both_sides() {
    let mut net = pair("ake_with_fragments_both_sides", POTR, None);
    net.cmd("alice", "mms 300");
    net.cmd("bob", "mms 300");
    let round = net.cmd("bob", "query alice");
    assert_gone_secure(&net, &round, "2");
    for name in ["alice", "bob"] {
        assert!(
            round.wires(name).iter().all(|w| w.len() <= 300),
            "{name} respected mms 300"
        );
        assert!(
            round.wires(name).iter().any(|w| w.starts_with("?OTR,")),
            "{name} fragmented its AKE messages"
        );
    }
    send_private(&mut net, "alice", "bob", "small pieces");
    send_private(&mut net, "bob", "alice", "small pieces back");
}

fn smp_case(test: &str, asker: &str, question: Option<&str>) {
    let mut net = secure(test, "alice");
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
    assert_eq!(
        status(&mut net, "alice", "bob"),
        ("encrypted".into(), "smp".into())
    );
    assert_eq!(
        status(&mut net, "bob", "alice"),
        ("encrypted".into(), "smp".into())
    );
    send_private(&mut net, "alice", "bob", "verified");
    send_private(&mut net, "bob", "alice", "verified too");
}

#[test]
fn smp_with_question_padlock_asks() {
    smp_case(
        "smp_with_question_padlock_asks",
        "alice",
        Some("Name of the café?"),
    );
}

#[test]
fn smp_with_question_potr_asks() {
    smp_case("smp_with_question_potr_asks", "bob", Some("Où était-on?"));
}

#[test]
fn smp_without_question_padlock_starts() {
    smp_case("smp_without_question_padlock_starts", "alice", None);
}

#[test]
fn smp_without_question_potr_starts() {
    smp_case("smp_without_question_potr_starts", "bob", None);
}

/// potr, as responder, answers a failed SMP with an abort instead of SMP4,
/// so Padlock (asker) sees "abort" or "failure"; potr as asker sees
/// "failure" from Padlock's SMP4. Nobody sees success, and trust stays "".
fn smp_wrong_case(test: &str, asker: &str) {
    let mut net = secure(test, "alice");
    let responder = other(asker);
    let (a, r) = smp(&mut net, asker, responder, None, "right", "wrong");
    eprintln!("wrong SMP secret: asker {asker} saw {a:?}, responder {responder} saw {r:?}");
    assert!(!a.iter().chain(&r).any(|e| e == "success"), "{a:?} {r:?}");
    assert!(
        a.iter().any(|e| e == "failure" || e == "abort"),
        "the asker {asker} learns it failed: {a:?}"
    );
    assert!(
        r.iter().any(|e| e == "failure" || e == "abort"),
        "the responder {responder} learns it failed: {r:?}"
    );
    assert!(
        a.iter().chain(&r).any(|e| e == "failure"),
        "one side computed the failure: {a:?} {r:?}"
    );
    assert_eq!(
        status(&mut net, "alice", "bob"),
        ("encrypted".into(), String::new())
    );
    assert_eq!(
        status(&mut net, "bob", "alice"),
        ("encrypted".into(), String::new())
    );
    send_private(&mut net, "alice", "bob", "still private");
    let (a, r) = smp(&mut net, asker, responder, None, "again", "again");
    assert!(
        a.contains(&"success".to_owned()) && r.contains(&"success".to_owned()),
        "retry: {a:?} {r:?}"
    );
}

#[test]
fn smp_wrong_secret_padlock_asks() {
    smp_wrong_case("smp_wrong_secret_padlock_asks", "alice");
}

#[test]
fn smp_wrong_secret_potr_asks() {
    smp_wrong_case("smp_wrong_secret_potr_asks", "bob");
}

fn end_case(test: &str, ender: &str) {
    let mut net = secure(test, "alice");
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
    assert!(
        round.msg_events(ender).is_empty(),
        "no error answers the disconnect: {:?}",
        round.msg_events(ender)
    );
    assert_eq!(status(&mut net, ender, left).0, "plaintext");
    assert_eq!(status(&mut net, left, ender).0, "finished");
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
    let round = net.cmd(left, &format!("end {ender}"));
    assert!(
        round.wires(left).is_empty(),
        "ending a finished conversation sends nothing"
    );
    let round = net.cmd(left, &format!("query {ender}"));
    assert_gone_secure(&net, &round, "2");
    send_private(&mut net, left, ender, "again");
}

#[test]
fn end_by_padlock() {
    end_case("end_by_padlock", "alice");
}

#[test]
fn end_by_potr() {
    end_case("end_by_potr", "bob");
}

/// Padlock's plaintext carries the whitespace tag for v2 and v3; potr starts
/// a v2 AKE from it, and shows the text without the tag.
#[test]
fn whitespace_tag_starts_ake() {
    let mut net = pair("whitespace_tag_starts_ake", POTR, None);
    let round = net.cmd("alice", "send bob plain hello");
    let shown = round.messages("bob");
    assert_eq!(shown.len(), 1);
    assert_eq!(
        shown[0]["text"], "plain hello",
        "the whitespace tag is stripped"
    );
    assert_eq!(shown[0]["encrypted"], false);
    assert_gone_secure(&net, &round, "2");
}

/// potr restarts the AKE on any query, even while encrypted (and reports
/// still_secure); both end in a new common session and messages flow.
fn refresh_case(test: &str, querier: &str) {
    let mut net = secure(test, "alice");
    let old = net.peer("alice").events_of_type("gone_secure")[0]["ssid"].clone();
    let answerer = other(querier);
    let round = net.cmd(querier, &format!("query {answerer}"));
    let last = |name: &str| {
        round
            .all(name)
            .iter()
            .rev()
            .find(|e| e["type"] == "gone_secure" || e["type"] == "still_secure")
            .cloned()
            .unwrap_or_else(|| panic!("{name} did not (re)gain a secure session"))
    };
    let (q, a) = (last(querier), last(answerer));
    eprintln!(
        "refresh by {querier}: {querier} {}, {answerer} {}",
        q["type"], a["type"]
    );
    assert_eq!(q["ssid"], a["ssid"]);
    assert_ne!(q["ssid"], old);
    send_private(&mut net, "alice", "bob", "after refresh");
    send_private(&mut net, "bob", "alice", "after refresh too");
}

#[test]
fn query_while_private_padlock_queries() {
    refresh_case("query_while_private_padlock_queries", "alice");
}

#[test]
fn query_while_private_potr_queries() {
    refresh_case("query_while_private_potr_queries", "bob");
}

/// Crossed queries: potr drops its own pending D-H Commit whenever one
/// arrives, so this can stall on potr's side; Padlock must not loop, and one
/// more query from Padlock must get both sides secure.
#[test]
fn crossed_queries() {
    let mut net = pair("crossed_queries", POTR, None);
    net.post("alice", "query bob");
    net.post("bob", "query alice");
    let round = net.settle();
    let (a, b) = (
        round.of_type("alice", "gone_secure").len(),
        round.of_type("bob", "gone_secure").len(),
    );
    eprintln!("crossed queries with potr: alice went secure {a} time(s), bob {b} time(s)");
    if a == 0 || b == 0 {
        let round = net.cmd("alice", "query bob");
        assert!(round.has("bob", "gone_secure", &[]) || round.has("bob", "still_secure", &[]));
    }
    assert_eq!(status(&mut net, "alice", "bob").0, "encrypted");
    assert_eq!(status(&mut net, "bob", "alice").0, "encrypted");
    send_private(&mut net, "alice", "bob", "crossed");
    send_private(&mut net, "bob", "alice", "and back");
}
