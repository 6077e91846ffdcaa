//! padlock-otr against libotr 4.1.1 (the reference implementation), each
//! through its `otr-peer` line-protocol program: Padlock is "alice", libotr
//! is "bob" (or "bob1" and "bob2", two devices of the account "bob").
//!
//! Needs libotr5-dev, pkg-config and a C compiler (the harness is compiled
//! on first use).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{
    LIBOTR, ake_with_fragments_case, assert_both_encrypted, assert_both_status, assert_gone_secure,
    assert_never_plaintext, cases, data_header, end_case, field, fragmented_case, other, pair,
    secure_pair, send_both_ways, send_fragmented, send_private, smp, smp_success_case, status,
    whitespace_tag_case,
};
use padlock_interop::driver::{Impl, Net, quote};

fn secure(test: &str, starter: &str) -> Net {
    LIBOTR.secure(test, starter)
}

// ---------------------------------------------------------------- AKE

#[test]
fn ake_started_by_padlock() {
    let mut net = pair("ake_started_by_padlock", LIBOTR.kind, None);
    let round = net.cmd("alice", "query bob");
    let query = round.wires("alice")[0];
    assert!(
        query.starts_with("?OTRv") && query.split('?').nth(1).is_some_and(|v| v.contains('3')),
        "query {query:?}"
    );
    assert_gone_secure(&net, &round, "3");
    assert!(round.has(
        "alice",
        "new_fingerprint",
        &[("fingerprint", net.peer("bob").fingerprint())]
    ));
    assert!(round.has(
        "bob",
        "new_fingerprint",
        &[("fingerprint", net.peer("alice").fingerprint())]
    ));
    assert_both_status(&mut net, "encrypted", "");
}

#[test]
fn ake_started_by_libotr() {
    let mut net = pair("ake_started_by_libotr", LIBOTR.kind, None);
    let round = net.cmd("bob", "query alice");
    assert_gone_secure(&net, &round, "3");
    assert!(round.has(
        "alice",
        "new_fingerprint",
        &[("fingerprint", net.peer("bob").fingerprint())]
    ));
    send_both_ways(&mut net, "hello from padlock", "hello from libotr");
}

/// A plaintext message carries Padlock's whitespace tag; libotr answers it
/// with an AKE (its policy is opportunistic), and the text is shown once,
/// untagged.
#[test]
fn whitespace_tag_starts_ake() {
    whitespace_tag_case("whitespace_tag_starts_ake", LIBOTR);
}

// ---------------------------------------------------------------- messages

#[test]
fn messages_both_ways_with_key_rotation() {
    let mut net = secure("messages_both_ways_with_key_rotation", "alice");
    let texts = [
        "plain ascii",
        "ünïcødé — 漢字 😀",
        "two\nlines\r\nand a tab\t",
        "\"quotes\" and \\backslashes\\ and <b>html</b> & ampersands",
        "  leading and trailing spaces  ",
        "?OTR looks like OTR but is text",
    ];
    let mut keyids = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        // Alternate, with two in a row from each side now and then.
        for (from, to) in [("alice", "bob"), ("bob", "alice")] {
            let round = send_private(&mut net, from, to, &format!("{from} #{i}: {text}"));
            if i % 2 == 1 {
                send_private(&mut net, from, to, &format!("{from} #{i} again: {text}"));
            }
            let wires = round.wires(from);
            assert_eq!(wires.len(), 1, "one data message");
            let header =
                data_header(wires[0]).unwrap_or_else(|| panic!("not a data message: {}", wires[0]));
            assert_eq!(header.version, 3);
            keyids.push((from, header.sender_keyid, header.recipient_keyid));
        }
    }
    // Every reply acknowledges a new key: the sender key ids of each side
    // climb as the conversation alternates.
    for side in ["alice", "bob"] {
        let ids: Vec<u32> = keyids
            .iter()
            .filter(|(f, ..)| *f == side)
            .map(|(_, s, _)| *s)
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] <= w[1]),
            "{side}'s key ids never go back: {ids:?}"
        );
        assert!(
            ids.last() > ids.first(),
            "{side} rotated its DH keys: {ids:?}"
        );
        assert!(
            ids.last().unwrap() - ids.first().unwrap() >= 4,
            "{side} rotated at every turn: {ids:?}"
        );
    }
}

#[test]
fn fragmented_message_padlock_to_libotr() {
    let n = fragmented_case(
        "fragmented_message_padlock_to_libotr",
        LIBOTR,
        "alice",
        "bob",
    );
    assert!(
        n >= 7,
        "3000 bytes (about 4000 in base64) need at least 7 fragments of 500, got {n}"
    );
}

#[test]
fn fragmented_message_libotr_to_padlock() {
    let n = fragmented_case(
        "fragmented_message_libotr_to_padlock",
        LIBOTR,
        "bob",
        "alice",
    );
    assert!(n >= 7, "got {n} fragments");
}

/// With a small maximum message size the AKE messages themselves are
/// fragmented (the D-H Commit and the signatures exceed 500 bytes).
#[test]
fn ake_with_fragments_both_sides() {
    ake_with_fragments_case("ake_with_fragments_both_sides", LIBOTR, "alice");
}

// ---------------------------------------------------------------- SMP

/// A successful SMP run, in which neither side reports a failure, a
/// cheating peer or an abort.
fn smp_case(test: &str, asker: &str, question: Option<&str>) {
    let (a, r) = smp_success_case(test, LIBOTR, asker, question);
    assert!(
        !a.iter()
            .chain(&r)
            .any(|e| e == "failure" || e == "cheated" || e == "abort"),
        "{a:?} {r:?}"
    );
}

cases!(smp_case {
    smp_with_question_padlock_asks("alice", Some("What is the name of the café? (2 words)"));
    smp_with_question_libotr_asks("bob", Some("Où était-on le 1er mai?"));
    smp_without_question_padlock_starts("alice", None);
    smp_without_question_libotr_starts("bob", None);
});

fn smp_wrong_case(test: &str, asker: &str) {
    let mut net = secure(test, "alice");
    let responder = other(asker);
    let (a, r) = smp(
        &mut net,
        asker,
        responder,
        Some("favourite colour?"),
        "blue",
        "green",
    );
    eprintln!("wrong SMP answer: asker {asker} saw {a:?}, responder {responder} saw {r:?}");
    assert!(!a.iter().chain(&r).any(|e| e == "success"), "{a:?} {r:?}");
    assert!(
        a.contains(&"failure".to_owned()),
        "the asker {asker} sees failure: {a:?}"
    );
    assert!(
        r.contains(&"failure".to_owned()),
        "the responder {responder} sees failure: {r:?}"
    );
    assert_both_status(&mut net, "encrypted", "");
    // A failed SMP leaves the session usable and SMP can be retried.
    send_private(&mut net, "alice", "bob", "still private");
    let (a, r) = smp(&mut net, responder, asker, None, "again", "again");
    assert!(
        a.contains(&"success".to_owned()) && r.contains(&"success".to_owned()),
        "retry: {a:?} {r:?}"
    );
}

cases!(smp_wrong_case {
    smp_wrong_answer_padlock_asks("alice");
    smp_wrong_answer_libotr_asks("bob");
});

#[test]
fn smp_abort_by_responder() {
    let mut net = secure("smp_abort_by_responder", "alice");
    let round = net.cmd("alice", "smp bob one");
    round.one("bob", "smp", &[("event", "ask_for_secret")]);
    let round = net.cmd("bob", "smp_abort alice");
    assert!(
        round.has("alice", "smp", &[("event", "abort")]),
        "alice sees the abort: {:?}",
        round.smp_events("alice")
    );
    // A new run after the abort works.
    let (a, r) = smp(&mut net, "alice", "bob", None, "two", "two");
    assert!(
        a.contains(&"success".to_owned()) && r.contains(&"success".to_owned()),
        "{a:?} {r:?}"
    );
}

// ---------------------------------------------------------------- extra symmetric key

fn extra_key_case(test: &str, sender: &str) {
    let mut net = secure(test, "alice");
    send_both_ways(&mut net, "warm up the keys", "rotated");
    let receiver = other(sender);
    let round = net.cmd(
        sender,
        &format!("extrakey {receiver} 7 {}", quote("file:/x y é")),
    );
    let mine = round.of_type(sender, "extra_key");
    let theirs = round.of_type(receiver, "extra_key");
    assert_eq!(mine.len(), 1, "{sender} reports the key it sent");
    assert_eq!(theirs.len(), 1, "{receiver} reports the key it received");
    assert_eq!(mine[0]["sent"], true);
    assert_eq!(theirs[0]["sent"], false);
    let key = field(mine[0], "key");
    assert!(
        key.len() == 64 && key.bytes().all(|c| c.is_ascii_hexdigit()),
        "key {key:?}"
    );
    assert_eq!(
        key,
        field(theirs[0], "key"),
        "both sides derive the same extra symmetric key"
    );
    assert_eq!(theirs[0]["use"], 7);
    assert_eq!(theirs[0]["usedata"], "file:/x y é");
    assert!(
        round.messages(receiver).is_empty(),
        "TLV 8 alone shows no message"
    );
}

cases!(extra_key_case {
    extra_key_padlock_sends("alice");
    extra_key_libotr_sends("bob");
});

// ---------------------------------------------------------------- ending

cases!(end_case {
    end_by_padlock(LIBOTR, "alice", false);
    end_by_libotr(LIBOTR, "bob", false);
});

// ---------------------------------------------------------------- instance tags

/// Two libotr devices of the account "bob" (same key, their own instance
/// tags) and one Padlock "alice": everything alice sends to "bob" reaches
/// both devices, as an XMPP server delivers to every resource.
#[test]
fn two_libotr_instances_of_one_account() {
    let mut net = Net::new(common::programs(), "two_libotr_instances_of_one_account");
    net.spawn(Impl::Padlock, "alice", "alice");
    net.spawn(LIBOTR.kind, "bob1", "bob");
    net.spawn_sharing_key(LIBOTR.kind, "bob2", "bob", "bob1");
    let (tag1, tag2) = (
        net.peer("bob1").instag().to_owned(),
        net.peer("bob2").instag().to_owned(),
    );
    assert_eq!(
        net.peer("bob1").fingerprint(),
        net.peer("bob2").fingerprint(),
        "one key"
    );
    assert_ne!(tag1, tag2, "two instance tags");
    let alice_tag = net.peer("alice").instag().to_owned();

    let round = net.cmd("alice", "query bob");
    let secure = round.of_type("alice", "gone_secure");
    let mut tags: Vec<&str> = secure.iter().map(|e| field(e, "instag")).collect();
    tags.sort_unstable();
    let mut want = vec![tag1.as_str(), tag2.as_str()];
    want.sort_unstable();
    assert_eq!(tags, want, "alice goes secure with each device once");
    for e in &secure {
        assert_eq!(e["version"], "3");
        assert_eq!(e["fingerprint"], net.peer("bob1").fingerprint());
    }
    assert_ne!(secure[0]["ssid"], secure[1]["ssid"], "two sessions");
    for bob in ["bob1", "bob2"] {
        let e = round.one(bob, "gone_secure", &[]);
        assert_eq!(e["instag"], alice_tag.as_str());
        assert!(
            secure.iter().any(|a| a["ssid"] == e["ssid"]),
            "{bob}'s ssid is one of alice's"
        );
    }

    for (chosen, tag, left_out) in [("bob1", &tag1, "bob2"), ("bob2", &tag2, "bob1")] {
        net.cmd("alice", &format!("select bob {tag}"));
        let text = format!("only for {chosen}");
        let round = net.cmd("alice", &format!("send bob {}", quote(&text)));
        assert_never_plaintext(&round, &text);
        let shown = round.find(chosen, "message", &[("text", &text)]);
        assert!(
            shown.len() == 1 && shown[0]["encrypted"] == true,
            "{chosen} shows it: {:?}",
            round.texts(chosen)
        );
        assert!(
            round.messages(left_out).is_empty(),
            "{left_out} shows nothing: {:?}",
            round.texts(left_out)
        );
        let quiet = round.msg_events(left_out);
        assert!(
            quiet.iter().all(|e| *e == "rcvdmsg_for_other_instance"),
            "{left_out} at most reports a message for another instance: {quiet:?}"
        );
        eprintln!("{left_out} reported {quiet:?} for alice's message to {chosen}");
    }

    // Both devices answer; alice tells them apart but shows both.
    for bob in ["bob1", "bob2"] {
        let text = format!("{bob} here");
        let round = net.cmd(bob, &format!("send alice {}", quote(&text)));
        let shown = round.find("alice", "message", &[("text", &text)]);
        assert!(
            shown.len() == 1 && shown[0]["encrypted"] == true,
            "alice: {:?}",
            round.texts("alice")
        );
        let other_bob = if bob == "bob1" { "bob2" } else { "bob1" };
        assert!(
            round.messages(other_bob).is_empty(),
            "a device never sees the other's traffic"
        );
    }
}

// ---------------------------------------------------------------- versions

#[test]
fn v3_by_default() {
    let mut net = secure("v3_by_default", "bob");
    let round = send_private(&mut net, "alice", "bob", "v3 data");
    assert_eq!(
        data_header(round.wires("alice")[0]).map(|h| h.version),
        Some(3)
    );
}

fn v2_case(test: &str, starter: &str) {
    let mut net = secure_pair(test, LIBOTR.kind, Some("v2"), starter, "2");
    for i in 0..3 {
        let round = send_private(&mut net, "alice", "bob", &format!("v2 from padlock {i} ✓"));
        assert_eq!(
            data_header(round.wires("alice")[0]).map(|h| h.version),
            Some(2)
        );
        let round = send_private(
            &mut net,
            "bob",
            "alice",
            &format!("v2 from libotr {i}\nline two"),
        );
        assert_eq!(
            data_header(round.wires("bob")[0]).map(|h| h.version),
            Some(2)
        );
    }
    send_fragmented(&mut net, "alice", "bob", "?OTR,");
    send_fragmented(&mut net, "bob", "alice", "?OTR,");
    let (a, r) = smp(
        &mut net,
        "alice",
        "bob",
        Some("v2 question?"),
        "s3cret",
        "s3cret",
    );
    assert!(
        a.contains(&"success".to_owned()) && r.contains(&"success".to_owned()),
        "{a:?} {r:?}"
    );
    let (a, r) = smp(&mut net, "bob", "alice", None, "x", "y");
    assert!(
        a.contains(&"failure".to_owned()) && r.contains(&"failure".to_owned()),
        "{a:?} {r:?}"
    );
    // libotr sends and honours TLV 8 in v2 sessions too.
    for (sender, receiver) in [("alice", "bob"), ("bob", "alice")] {
        let round = net.cmd(sender, &format!("extrakey {receiver} 1 v2"));
        let (mine, theirs) = (
            round.of_type(sender, "extra_key"),
            round.of_type(receiver, "extra_key"),
        );
        assert!(
            mine.len() == 1 && theirs.len() == 1,
            "{sender} -> {receiver}: {mine:?} {theirs:?}"
        );
        assert_eq!(
            mine[0]["key"], theirs[0]["key"],
            "v2 extra key from {sender}"
        );
    }
    let round = net.cmd("alice", "end bob");
    assert!(round.has("bob", "gone_insecure", &[("state", "finished")]));
}

cases!(v2_case {
    v2_when_libotr_allows_only_v2_padlock_starts("alice");
    v2_when_libotr_allows_only_v2_libotr_starts("bob");
});

// ---------------------------------------------------------------- refresh

/// A query while private refreshes the session: both sides end up secure
/// (still_secure or gone_secure again) with a new, common ssid.
fn refresh_case(test: &str, querier: &str) {
    let mut net = secure(test, "alice");
    let old = net.peer("alice").events_of_type("gone_secure")[0]["ssid"].clone();
    send_private(&mut net, "alice", "bob", "before refresh");
    let answerer = other(querier);
    let round = net.cmd(querier, &format!("query {answerer}"));
    let last_secure = |name: &str| {
        round
            .all(name)
            .iter()
            .rev()
            .find(|e| e["type"] == "gone_secure" || e["type"] == "still_secure")
            .cloned()
            .unwrap_or_else(|| {
                panic!(
                    "{name} did not (re)gain a secure session: {:?}",
                    round.all(name)
                )
            })
    };
    let (q, a) = (last_secure(querier), last_secure(answerer));
    eprintln!(
        "refresh by {querier}: {querier} reported {}, {answerer} reported {} (insecure in between: {:?} / {:?})",
        q["type"],
        a["type"],
        round.of_type(querier, "gone_insecure").len(),
        round.of_type(answerer, "gone_insecure").len()
    );
    assert_eq!(q["ssid"], a["ssid"], "a common new session");
    assert_ne!(q["ssid"], old, "the ssid changed");
    assert_both_encrypted(&mut net);
    send_both_ways(&mut net, "after refresh", "after refresh too");
}

cases!(refresh_case {
    query_while_private_padlock_queries("alice");
    query_while_private_libotr_queries("bob");
});

// ---------------------------------------------------------------- fault tolerance

/// libotr is killed and started again (same key, same instance tag: a client
/// restart) while Padlock still thinks the conversation is private.
///
/// libotr 4.1.1 silently drops a data message that arrives for an instance
/// context it has just created (message.c: a new instance context accepts
/// only D-H Commit and D-H Key), so nobody is told about the lost message:
/// no error comes back and nothing heals by itself. What matters is that the
/// message is never readable anywhere, that plaintext from the restarted side
/// is flagged as unencrypted, and that one query heals the session.
#[test]
fn libotr_restarted_while_private() {
    let mut net = secure("libotr_restarted_while_private", "alice");
    send_private(&mut net, "alice", "bob", "before the crash");
    send_private(&mut net, "bob", "alice", "ack");
    let old_ssid = net.peer("alice").events_of_type("gone_secure")[0]["ssid"].clone();
    net.restart("bob");
    assert_eq!(
        status(&mut net, "alice", "bob").0,
        "encrypted",
        "alice has not noticed yet"
    );
    assert_eq!(
        status(&mut net, "bob", "alice").0,
        "plaintext",
        "bob lost the session"
    );

    let lost = "sent into the lost session";
    let mut all = net.cmd("alice", &format!("send bob {}", quote(lost)));
    assert_never_plaintext(&all, lost);
    assert!(
        all.messages("bob").is_empty(),
        "bob cannot show it: {:?}",
        all.texts("bob")
    );
    let bob_saw = all.msg_events("bob");
    assert!(
        bob_saw
            .iter()
            .all(|e| *e == "rcvdmsg_not_in_private" || *e == "rcvdmsg_unreadable"),
        "bob at most reports an unreadable message: {bob_saw:?}"
    );
    eprintln!(
        "alice's message into the lost session: bob reported {bob_saw:?}, alice got {:?}",
        all.all("alice")
            .iter()
            .filter(|e| e["type"] != "wire")
            .collect::<Vec<_>>()
    );

    // Bob, unaware, writes in plaintext: alice is warned it was not encrypted.
    let plain = "hello? (bob after restart)";
    let round = net.cmd("bob", &format!("send alice {}", quote(plain)));
    let shown = round.one("alice", "message", &[("text", plain)]);
    assert_eq!(
        shown["encrypted"], false,
        "alice must not show it as private"
    );
    assert!(
        round.has("alice", "msg_event", &[("event", "rcvdmsg_unencrypted")]),
        "alice is warned that the message was not encrypted: {:?}",
        round.msg_events("alice")
    );
    // Padlock answers the whitespace tag with a new AKE even while it thinks
    // it is private (libotr would not), which heals the session at once.
    let healed = (round.has("alice", "gone_secure", &[])
        || round.has("alice", "still_secure", &[]))
        && round.has("bob", "gone_secure", &[]);
    eprintln!("bob's plaintext: session healed by itself: {healed}");
    if healed {
        let bob = round.one("bob", "gone_secure", &[]);
        assert_ne!(bob["ssid"], old_ssid, "a new session");
        assert!(
            round.all("alice").iter().any(|e| e["ssid"] == bob["ssid"]),
            "alice is in bob's new session"
        );
    }
    all.extend(round);

    if !healed {
        let round = net.cmd("alice", "query bob");
        let ssid = assert_gone_secure(&net, &round, "3");
        assert_ne!(ssid, old_ssid);
        all.extend(round);
    }
    assert_never_plaintext(&all, lost);
    for message in all.find("bob", "message", &[("text", lost)]) {
        eprintln!("the lost message was resent after the new AKE: {message}");
    }
    assert_both_encrypted(&mut net);
    send_both_ways(&mut net, "healed", "healed too");
}

/// A data message delivered twice (a replay, or a server resending) is shown
/// once; the receiver reports it unreadable; the session survives.
fn replay_case(test: &str, sender: &str) {
    let mut net = secure(test, "alice");
    send_both_ways(&mut net, "warm up", "warm up too");
    let receiver = other(sender);
    let text = "say it once";
    let round = send_private(&mut net, sender, receiver, text);
    let wire = round.wires(sender)[0].to_owned();
    let replay = net.cmd(receiver, &format!("recv {sender} {}", quote(&wire)));
    eprintln!(
        "replay to {receiver}: {receiver} saw {:?}",
        replay.all(receiver)
    );
    eprintln!(
        "replay to {receiver}: {sender} saw {:?}",
        replay.all(sender)
    );
    assert!(
        replay
            .find(receiver, "message", &[("text", text)])
            .is_empty(),
        "{receiver} showed the replay"
    );
    assert!(
        replay.has(receiver, "msg_event", &[("event", "rcvdmsg_unreadable")]),
        "{receiver} reports the replay as unreadable: {:?}",
        replay.msg_events(receiver)
    );
    // Whatever the error did (libotr sends `?OTR Error:`; Padlock's policy
    // may restart the AKE), both ends are private afterwards and talk.
    assert_both_encrypted(&mut net);
    send_both_ways(&mut net, "after the replay", "after the replay too");
}

cases!(replay_case {
    replayed_message_rejected_by_libotr("alice");
    replayed_message_rejected_by_padlock("bob");
});

/// A data message lost on the way does not break the session: the next ones
/// decrypt (each carries its own counter and key ids).
fn lost_case(test: &str, sender: &str) {
    let mut net = secure(test, "alice");
    let receiver = other(sender);
    send_private(&mut net, sender, receiver, "first");
    let round = net.cmd_unrelayed(sender, &format!("send {receiver} lost on the way"));
    assert_eq!(round.wires(sender).len(), 1);
    send_private(&mut net, sender, receiver, "third");
    send_private(&mut net, receiver, sender, "reply");
    let round = net.cmd_unrelayed(receiver, &format!("send {sender} lost reply"));
    assert_eq!(round.wires(receiver).len(), 1);
    send_private(&mut net, sender, receiver, "fourth");
    send_private(&mut net, receiver, sender, "reply again");
}

cases!(lost_case {
    lost_message_padlock_sends("alice");
    lost_message_libotr_sends("bob");
});

/// Both sides query at the same moment: the D-H Commits cross, the spec's
/// hash comparison picks one, and both go secure once.
#[test]
fn crossed_queries() {
    let mut net = pair("crossed_queries", LIBOTR.kind, None);
    net.post("alice", "query bob");
    net.post("bob", "query alice");
    let round = net.settle();
    let (a, b) = (
        round.of_type("alice", "gone_secure"),
        round.of_type("bob", "gone_secure"),
    );
    eprintln!(
        "crossed queries: alice went secure {} time(s), bob {} time(s)",
        a.len(),
        b.len()
    );
    assert!(!a.is_empty() && !b.is_empty(), "both go secure");
    assert_eq!(
        a.last().unwrap()["ssid"],
        b.last().unwrap()["ssid"],
        "in the same session"
    );
    send_both_ways(&mut net, "crossed but fine", "indeed");
}

/// Require encryption on Padlock: a message typed before the session exists
/// never leaves in plaintext; it is held, a query goes out instead, and it
/// is sent once the AKE completes.
#[test]
fn padlock_requires_encryption() {
    let mut net = pair("padlock_requires_encryption", LIBOTR.kind, None);
    net.cmd("alice", "policy always");
    let text = "only ever encrypted";
    let round = net.cmd("alice", &format!("send bob {}", quote(text)));
    assert_never_plaintext(&round, text);
    assert!(
        round.wires("alice")[0].starts_with("?OTRv"),
        "a query goes out first: {:?}",
        round.wires("alice")
    );
    assert_gone_secure(&net, &round, "3");
    eprintln!("alice's events: {:?}", round.msg_events("alice"));
    let shown = round.one("bob", "message", &[("text", text)]);
    assert_eq!(shown["encrypted"], true);
}

/// Require encryption on libotr: libotr holds the message, queries, and
/// resends it after the AKE; Padlock shows it once, decrypted.
#[test]
fn libotr_requires_encryption() {
    let mut net = pair("libotr_requires_encryption", LIBOTR.kind, None);
    net.cmd("bob", "policy always");
    let text = "libotr holds this";
    let round = net.cmd("bob", &format!("send alice {}", quote(text)));
    assert_never_plaintext(&round, text);
    assert_gone_secure(&net, &round, "3");
    let shown = round.messages("alice");
    eprintln!("alice shows {:?}", round.texts("alice"));
    assert_eq!(shown.len(), 1, "alice shows the held message once");
    assert!(shown[0]["text"].as_str().unwrap().ends_with(text));
    assert_eq!(shown[0]["encrypted"], true);
}
