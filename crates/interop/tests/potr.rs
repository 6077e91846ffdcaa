//! padlock-otr against python-potr 1.0.2 (OTR v2 only), each through its
//! `otr-peer` line-protocol program: Padlock is "alice", potr is "bob".
//!
//! Needs Debian's /usr/bin/python3 with python3-potr and
//! python3-pycryptodome.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{
    POTR, ake_with_fragments_case, assert_both_encrypted, assert_both_status, assert_gone_secure,
    cases, data_header, end_case, fragmented_case, other, pair, send_both_ways, send_private, smp,
    smp_success_case, whitespace_tag_case,
};

#[test]
fn ake_started_by_padlock() {
    let mut net = pair("ake_started_by_padlock", POTR.kind, None);
    // Padlock offers v2 and v3; potr picks v2 from "?OTRv23?".
    let round = net.cmd("alice", "query bob");
    assert!(round.wires("alice")[0].starts_with("?OTRv23?"));
    assert_gone_secure(&net, &round, "2");
    assert!(round.has(
        "alice",
        "new_fingerprint",
        &[("fingerprint", net.peer("bob").fingerprint())]
    ));
    assert_both_status(&mut net, "encrypted", "");
}

#[test]
fn ake_started_by_potr() {
    let mut net = pair("ake_started_by_potr", POTR.kind, None);
    let round = net.cmd("bob", "query alice");
    assert!(
        round.wires("bob")[0].starts_with("?OTRv2?"),
        "potr's query: {:?}",
        round.wires("bob")[0]
    );
    assert_gone_secure(&net, &round, "2");
    send_both_ways(&mut net, "hello potr", "hello padlock");
}

#[test]
fn messages_both_ways() {
    let mut net = POTR.secure("messages_both_ways", "alice");
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

cases!(fragmented_case {
    fragmented_message_padlock_to_potr(POTR, "alice", "bob");
    fragmented_message_potr_to_padlock(POTR, "bob", "alice");
});

/// potr fragments its AKE messages too; Padlock does as well.
#[test]
fn ake_with_fragments_both_sides() {
    ake_with_fragments_case("ake_with_fragments_both_sides", POTR, "bob");
}

cases!(smp_success_case {
    smp_with_question_padlock_asks(POTR, "alice", Some("Name of the café?"));
    smp_with_question_potr_asks(POTR, "bob", Some("Où était-on?"));
    smp_without_question_padlock_starts(POTR, "alice", None);
    smp_without_question_potr_starts(POTR, "bob", None);
});

/// potr, as responder, answers a failed SMP with an abort instead of SMP4,
/// so Padlock (asker) sees "abort" or "failure"; potr as asker sees
/// "failure" from Padlock's SMP4. Nobody sees success, and trust stays "".
fn smp_wrong_case(test: &str, asker: &str) {
    let mut net = POTR.secure(test, "alice");
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
    assert_both_status(&mut net, "encrypted", "");
    send_private(&mut net, "alice", "bob", "still private");
    let (a, r) = smp(&mut net, asker, responder, None, "again", "again");
    assert!(
        a.contains(&"success".to_owned()) && r.contains(&"success".to_owned()),
        "retry: {a:?} {r:?}"
    );
}

cases!(smp_wrong_case {
    smp_wrong_secret_padlock_asks("alice");
    smp_wrong_secret_potr_asks("bob");
});

cases!(end_case {
    end_by_padlock(POTR, "alice", true);
    end_by_potr(POTR, "bob", true);
});

/// Padlock's plaintext carries the whitespace tag for v2 and v3; potr starts
/// a v2 AKE from it, and shows the text without the tag.
#[test]
fn whitespace_tag_starts_ake() {
    whitespace_tag_case("whitespace_tag_starts_ake", POTR);
}

/// potr restarts the AKE on any query, even while encrypted (and reports
/// still_secure); both end in a new common session and messages flow.
fn refresh_case(test: &str, querier: &str) {
    let mut net = POTR.secure(test, "alice");
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
    send_both_ways(&mut net, "after refresh", "after refresh too");
}

cases!(refresh_case {
    query_while_private_padlock_queries("alice");
    query_while_private_potr_queries("bob");
});

/// Crossed queries: potr drops its own pending D-H Commit whenever one
/// arrives, so this can stall on potr's side; Padlock must not loop, and one
/// more query from Padlock must get both sides secure.
#[test]
fn crossed_queries() {
    let mut net = pair("crossed_queries", POTR.kind, None);
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
    assert_both_encrypted(&mut net);
    send_both_ways(&mut net, "crossed", "and back");
}
