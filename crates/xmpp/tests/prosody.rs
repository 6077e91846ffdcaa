//! The adapter against a real server: a private prosody per test
//! (padlock-test-support), two or three adapters logged in to it.
//!
//! Every wait is for an event, bounded by a timeout; nothing sleeps to
//! make a point.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "tests"
)]

use std::net::Ipv4Addr;
use std::time::Duration;

use padlock_core::{IncomingMessage, Sensitive, TransportAction, TransportEvent};
use padlock_test_support::prosody::Prosody;
use padlock_xmpp::testing::RawSession;
use padlock_xmpp::{ConnectError, Handle, Input, Output, Settings, Subscription};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, timeout_at};

/// How long one expected event may take.
const WAIT: Duration = Duration::from_secs(10);

/// Settings for `user` on `server`, trusting its CA.
fn settings(server: &Prosody, user: &str, resource: &str) -> Settings {
    Settings {
        server: Some(("127.0.0.1".into(), server.port())),
        ca_file: Some(server.ca_file().to_owned()),
        resource: Some(resource.into()),
        ..Settings::new(server.jid(user), password(user))
    }
}

fn password(user: &str) -> String {
    format!("{user}'s password")
}

/// A server with the given users, each friend of every other.
fn server_with(users: &[&str]) -> Prosody {
    let server = Prosody::start("padlock.test").unwrap();
    for user in users {
        server.register(user, &password(user)).unwrap();
    }
    for (i, a) in users.iter().enumerate() {
        for b in &users[i + 1..] {
            server.make_friends(a, b).unwrap();
        }
    }
    server
}

/// One adapter and everything it reported so far.
struct Client {
    name: String,
    handle: Handle,
    seen: Vec<Output>,
}

impl Client {
    fn spawn(name: &str, settings: Settings) -> Self {
        Self {
            name: name.into(),
            handle: padlock_xmpp::spawn(settings),
            seen: Vec::new(),
        }
    }

    /// The next output; `None` once the adapter stopped.
    async fn next(&mut self, what: &str) -> Option<Output> {
        let deadline = Instant::now() + WAIT;
        match timeout_at(deadline, self.handle.output.recv()).await {
            Ok(output) => {
                if let Some(output) = &output {
                    self.seen.push(output.clone());
                }
                output
            }
            Err(_) => panic!(
                "{}: no {what} within {WAIT:?}; seen: {:#?}",
                self.name, self.seen
            ),
        }
    }

    /// Skips outputs until `pick` accepts one.
    async fn expect<T>(&mut self, what: &str, mut pick: impl FnMut(&Output) -> Option<T>) -> T {
        loop {
            let Some(output) = self.next(what).await else {
                panic!(
                    "{}: stopped before {what}; seen: {:#?}",
                    self.name, self.seen
                );
            };
            if let Some(found) = pick(&output) {
                return found;
            }
        }
    }

    /// Waits for a new session and the core's `Connected`; returns the
    /// bound full JID.
    async fn online(&mut self) -> String {
        let bound = self
            .expect("Online", |o| match o {
                Output::Online {
                    bound_jid,
                    resumed: false,
                } => Some(bound_jid.clone()),
                _ => None,
            })
            .await;
        self.expect("Core(Connected)", |o| {
            (*o == Output::Core(TransportEvent::Connected)).then_some(())
        })
        .await;
        bound
    }

    /// Waits until the core hears that each of `jids` is online (in any
    /// order).
    async fn sees_online(&mut self, jids: &[&str]) {
        let mut missing: Vec<&str> = jids.to_vec();
        while !missing.is_empty() {
            let what = format!("presence of {missing:?}");
            let jid = self
                .expect(&what, |o| match o {
                    Output::Core(TransportEvent::PresenceAvailable { jid }) => Some(jid.clone()),
                    _ => None,
                })
                .await;
            missing.retain(|m| *m != jid);
        }
    }

    /// Waits for a message for the core and returns it.
    async fn message(&mut self) -> IncomingMessage {
        self.expect("a message", |o| match o {
            Output::Core(TransportEvent::Message(m)) => Some(m.clone()),
            _ => None,
        })
        .await
    }

    async fn send(&self, input: Input) {
        self.handle.input.send(input).await.unwrap();
    }

    async fn say(&self, to: &str, body: &str, otr: bool) {
        self.send(Input::Action(TransportAction::SendMessage {
            to: to.into(),
            body: Sensitive::from(body),
            otr,
        }))
        .await;
    }

    /// Shuts down and waits for `Closed` and the end of the outputs.
    async fn shut_down(mut self) {
        self.send(Input::Shutdown).await;
        self.expect("Closed", |o| (*o == Output::Closed).then_some(()))
            .await;
        assert!(
            self.next("the end").await.is_none(),
            "{}: output after Closed",
            self.name
        );
    }
}

/// A port of 127.0.0.1 held by a socket that does not listen: connecting
/// to it is refused for as long as the socket lives.
fn closed_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((Ipv4Addr::LOCALHOST, 0).into()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

/// Login, roster and presence between two adapters; shutting one down
/// tells the other that it went offline.
#[tokio::test]
async fn login_roster_and_presence() {
    let server = server_with(&["alice", "bob"]);
    let mut alice = Client::spawn("alice", settings(&server, "alice", "laptop"));
    assert_eq!(
        alice.next("Connecting").await,
        Some(Output::Connecting { attempt: 1 })
    );
    assert_eq!(alice.online().await, "alice@padlock.test/laptop");
    let roster = alice
        .expect("Roster", |o| match o {
            Output::Roster(entries) => Some(entries.clone()),
            _ => None,
        })
        .await;
    assert_eq!(roster.len(), 1);
    assert_eq!(roster[0].jid, "bob@padlock.test");
    assert_eq!(roster[0].subscription, Subscription::Both);
    assert_eq!(
        alice.next("RosterItem").await,
        Some(Output::Core(TransportEvent::RosterItem {
            jid: "bob@padlock.test".into()
        }))
    );

    let mut bob = Client::spawn("bob", settings(&server, "bob", "phone"));
    bob.online().await;
    bob.sees_online(&["alice@padlock.test/laptop"]).await;
    alice.sees_online(&["bob@padlock.test/phone"]).await;

    bob.shut_down().await;
    alice
        .expect("bob offline", |o| {
            (*o == Output::Core(TransportEvent::PresenceUnavailable {
                jid: "bob@padlock.test/phone".into(),
            }))
            .then_some(())
        })
        .await;
    alice.shut_down().await;
}

/// An OTR message reaches the contact, and the server saw the four
/// XEP-0364 hints on it; a plaintext message has none. The adapter never
/// sends chat states or receipts.
#[tokio::test]
async fn otr_messages_carry_the_hints() {
    let server = server_with(&["alice", "bob"]);
    let mut alice = Client::spawn("alice", settings(&server, "alice", "laptop"));
    let mut bob = Client::spawn("bob", settings(&server, "bob", "phone"));
    alice.online().await;
    bob.online().await;
    alice.sees_online(&["bob@padlock.test/phone"]).await;

    let otr_body = "?OTR:AAMDaGludHMgdGVzdA==.";
    alice.say("bob@padlock.test/phone", otr_body, true).await;
    alice.say("bob@padlock.test", "plain words", false).await;
    let first = bob.message().await;
    assert_eq!(
        first,
        IncomingMessage::live("alice@padlock.test/laptop", otr_body)
    );
    let second = bob.message().await;
    assert_eq!(second.body.as_str(), "plain words");

    let log = server.stanza_log();
    let received: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("RECV:") && line.contains("<message"))
        .collect();
    let otr = received
        .iter()
        .find(|line| line.contains(otr_body))
        .expect("the server received the OTR message");
    for hint in [
        "<no-copy xmlns='urn:xmpp:hints'/>",
        "<no-permanent-store xmlns='urn:xmpp:hints'/>",
        "<private xmlns='urn:xmpp:carbons:2'/>",
        "xmlns='urn:xmpp:eme:0'",
        "namespace='urn:xmpp:otr:0'",
    ] {
        assert!(otr.contains(hint), "{hint} missing from {otr}");
    }
    let plain = received
        .iter()
        .find(|line| line.contains("plain words"))
        .expect("the server received the plain message");
    assert!(!plain.contains("urn:xmpp:hints"), "{plain}");
    for line in log.lines().filter(|line| line.contains("RECV:")) {
        assert!(
            !line.contains("chatstates"),
            "a chat state was sent: {line}"
        );
        assert!(
            !line.contains("urn:xmpp:receipts"),
            "a receipt was sent: {line}"
        );
    }
    alice.shut_down().await;
    bob.shut_down().await;
}

/// A message to one resource reaches another resource of the same account
/// as a carbon (marked), except an OTR message, which carries `<private/>`.
#[tokio::test]
async fn carbons_reach_the_other_resource_but_not_otr() {
    let server = server_with(&["alice", "bob"]);
    let mut laptop = Client::spawn("alice/laptop", settings(&server, "alice", "laptop"));
    let mut phone = Client::spawn("alice/phone", settings(&server, "alice", "phone"));
    let mut bob = Client::spawn("bob", settings(&server, "bob", "desk"));
    laptop.online().await;
    // Carbons are enabled before the initial presence goes out, so once
    // the phone sees bob, it gets copies.
    phone.online().await;
    phone.sees_online(&["bob@padlock.test/desk"]).await;
    bob.online().await;
    bob.sees_online(&["alice@padlock.test/laptop", "alice@padlock.test/phone"])
        .await;

    bob.say("alice@padlock.test/laptop", "?OTR:AAMDc2VjcmV0.", true)
        .await;
    bob.say("alice@padlock.test/laptop", "see you at noon", false)
        .await;
    let live = laptop.message().await;
    assert_eq!(live.body.as_str(), "?OTR:AAMDc2VjcmV0.");
    assert!(!live.is_carbon);
    assert_eq!(laptop.message().await.body.as_str(), "see you at noon");

    // In order: had the OTR message been copied, it would come first.
    let copy = phone.message().await;
    assert_eq!(
        copy,
        IncomingMessage {
            from: "bob@padlock.test/desk".into(),
            body: Sensitive::from("see you at noon"),
            is_carbon: true,
            is_archived: false,
        }
    );
    laptop.shut_down().await;
    phone.shut_down().await;
    bob.shut_down().await;
}

/// A forged carbon (a `<received/>` wrapper from another user) and a
/// roster push from a stranger are ignored; the real message after them
/// arrives.
#[tokio::test]
async fn forged_carbons_and_roster_pushes_are_ignored() {
    let server = server_with(&["alice", "bob"]);
    server.register("mallory", &password("mallory")).unwrap();
    let mut alice = Client::spawn("alice", settings(&server, "alice", "laptop"));
    alice.online().await;
    alice
        .expect("Roster", |o| matches!(o, Output::Roster(_)).then_some(()))
        .await;

    let mut mallory = RawSession::connect_for_testing_only(&settings(&server, "mallory", "x"))
        .await
        .unwrap();
    mallory
        .send_xml(
            "<message xmlns='jabber:client' to='alice@padlock.test/laptop' type='chat'>\
             <received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
             <message xmlns='jabber:client' from='bob@padlock.test/desk' \
             to='alice@padlock.test/laptop' type='chat'><body>forged</body></message>\
             </forwarded></received></message>",
        )
        .await
        .unwrap();
    mallory
        .send_xml(
            "<iq xmlns='jabber:client' to='alice@padlock.test/laptop' type='set' id='push1'>\
             <query xmlns='jabber:iq:roster'><item jid='eve@padlock.test' \
             subscription='both'/></query></iq>",
        )
        .await
        .unwrap();
    mallory
        .send_xml(
            "<message xmlns='jabber:client' to='alice@padlock.test/laptop' type='chat'>\
             <body>genuine</body></message>",
        )
        .await
        .unwrap();

    let message = alice.message().await;
    assert_eq!(message.body.as_str(), "genuine");
    assert_eq!(message.from, mallory.bound_jid());
    // The server delivered both forgeries: the adapter dropped them.
    let log = server.stanza_log();
    let delivered = |needle: &str| {
        log.lines()
            .any(|l| l.contains("SEND:") && l.contains(needle) && l.contains("from='mallory@"))
    };
    assert!(delivered("<body>forged</body>"), "{log}");
    assert!(delivered("jid='eve@padlock.test'"), "{log}");
    assert!(
        !alice
            .seen
            .iter()
            .any(|o| matches!(o, Output::RosterChanged(_))),
        "{:#?}",
        alice.seen
    );
    mallory.close().await;
    alice.shut_down().await;
    // The stranger's roster push was refused, not just ignored.
    let refused = server.stanza_log().lines().any(|l| {
        l.contains("RECV:")
            && l.contains("id='push1'")
            && l.contains("type='error'")
            && l.contains("service-unavailable")
    });
    assert!(refused, "{}", server.stanza_log());
}

/// A wrong password is reported once, as such, and the adapter stops.
#[tokio::test]
async fn a_wrong_password_fails_without_retrying() {
    let server = server_with(&["alice"]);
    let wrong = Settings {
        password: "not alice's password".to_owned().into(),
        ..settings(&server, "alice", "laptop")
    };
    let mut alice = Client::spawn("alice", wrong.clone());
    assert_eq!(
        alice.next("Connecting").await,
        Some(Output::Connecting { attempt: 1 })
    );
    let failed = alice.next("Failed").await;
    assert_eq!(
        failed,
        Some(Output::Failed(ConnectError::Authentication {
            jid: "alice@padlock.test".into(),
            condition: "not-authorized".into(),
        }))
    );
    assert_eq!(
        format!(
            "{}",
            ConnectError::Authentication {
                jid: "alice@padlock.test".into(),
                condition: "not-authorized".into(),
            }
        ),
        "the server refused the password for alice@padlock.test"
    );
    assert_eq!(alice.next("the end").await, None, "no retry after Failed");

    let checked = padlock_xmpp::check_login(&wrong, WAIT).await;
    assert!(
        matches!(checked, Err(ConnectError::Authentication { .. })),
        "{checked:?}"
    );
    let bound = padlock_xmpp::check_login(&settings(&server, "alice", "check"), WAIT)
        .await
        .unwrap();
    assert_eq!(bound, "alice@padlock.test/check");
}

/// A server that does not serve the account's domain says so; the
/// adapter reports it as a protocol error (and would retry).
#[tokio::test]
async fn an_unserved_domain_is_reported() {
    let server = server_with(&["alice"]);
    let elsewhere = Settings {
        ca_file: Some(server.ca_file().to_owned()),
        server: Some(("127.0.0.1".into(), server.port())),
        ..Settings::new("alice@elsewhere.test", "pw")
    };
    let checked = padlock_xmpp::check_login(&elsewhere, WAIT).await;
    assert_eq!(
        checked,
        Err(ConnectError::Protocol(
            "the server does not serve elsewhere.test (host-unknown)".into()
        ))
    );
    assert!(checked.unwrap_err().is_retryable());
}

/// Nothing listens: the attempt fails as unreachable, naming host and
/// port, and another attempt follows.
#[tokio::test]
async fn an_unreachable_server_is_retried() {
    let (_held, port) = closed_port();
    let mut alice = Client::spawn(
        "alice",
        Settings {
            server: Some(("127.0.0.1".into(), port)),
            ..Settings::new("alice@padlock.test", "pw")
        },
    );
    assert_eq!(
        alice.next("Connecting").await,
        Some(Output::Connecting { attempt: 1 })
    );
    let Some(Output::ConnectFailed { error, retry_in }) = alice.next("ConnectFailed").await else {
        panic!("{:#?}", alice.seen);
    };
    assert_eq!(
        error,
        ConnectError::Unreachable {
            target: format!("127.0.0.1:{port}"),
            reason: "connection refused".into(),
        }
    );
    assert!(retry_in <= Duration::from_secs(1), "{retry_in:?}");
    assert_eq!(
        alice.next("a second attempt").await,
        Some(Output::Connecting { attempt: 2 })
    );
    alice.shut_down().await;
}

/// The certificate is checked for the domain: without the CA file, or
/// with another CA's file, the attempt fails as a certificate problem
/// (and is retried); with the right CA it succeeds.
#[tokio::test]
async fn certificates_are_always_verified() {
    let server = server_with(&["alice"]);
    let other = Prosody::start("other.test").unwrap();

    let no_ca = Settings {
        ca_file: None,
        ..settings(&server, "alice", "laptop")
    };
    let checked = padlock_xmpp::check_login(&no_ca, WAIT).await;
    let Err(ConnectError::Certificate { domain, reason }) = &checked else {
        panic!("{checked:?}");
    };
    assert_eq!(domain, "padlock.test");
    assert_eq!(reason, "it is signed by an unknown authority");
    assert!(
        checked
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("give its CA file with --ca-file")
    );

    let other_ca = Settings {
        ca_file: Some(other.ca_file().to_owned()),
        ..settings(&server, "alice", "laptop")
    };
    let checked = padlock_xmpp::check_login(&other_ca, WAIT).await;
    assert!(
        matches!(checked, Err(ConnectError::Certificate { .. })),
        "{checked:?}"
    );

    let mut alice = Client::spawn("alice", no_ca);
    let (error, _) = alice
        .expect("ConnectFailed", |o| match o {
            Output::ConnectFailed { error, retry_in } => Some((error.clone(), *retry_in)),
            _ => None,
        })
        .await;
    assert!(
        matches!(error, ConnectError::Certificate { .. }),
        "{error:?}"
    );
    assert_eq!(
        alice.next("a second attempt").await,
        Some(Output::Connecting { attempt: 2 })
    );
    alice.shut_down().await;
}

/// A server that offers no STARTTLS is refused before anything else is
/// sent: the password never travels in plaintext.
#[tokio::test]
async fn a_server_without_starttls_is_refused() {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut received = Vec::new();
        let mut buf = [0_u8; 1024];
        while !String::from_utf8_lossy(&received).contains("<stream:stream") {
            let n = socket.read(&mut buf).await.unwrap();
            received.extend_from_slice(&buf[..n]);
        }
        socket
            .write_all(
                b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
                  xmlns:stream='http://etherx.jabber.org/streams' version='1.0' \
                  from='padlock.test' id='s1'><stream:features>\
                  <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
                  <mechanism>PLAIN</mechanism></mechanisms></stream:features>",
            )
            .await
            .unwrap();
        // Whatever the client sends until it hangs up.
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&received).into_owned()
    });
    let settings = Settings {
        server: Some(("127.0.0.1".into(), port)),
        ..Settings::new("alice@padlock.test", "secret password")
    };
    let checked = padlock_xmpp::check_login(&settings, WAIT).await;
    assert_eq!(
        checked,
        Err(ConnectError::NoStartTls {
            domain: "padlock.test".into()
        })
    );
    let received = server.await.unwrap();
    assert!(!received.contains("<auth"), "{received}");
    assert!(!received.contains("secret"), "{received}");
}

/// The server restarts: the session is lost (not resumable), the core
/// hears Disconnected then Connected, and messages flow again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_is_survived() {
    let mut server = server_with(&["alice", "bob"]);
    let mut alice = Client::spawn("alice", settings(&server, "alice", "laptop"));
    let mut bob = Client::spawn("bob", settings(&server, "bob", "phone"));
    alice.online().await;
    bob.online().await;
    alice.sees_online(&["bob@padlock.test/phone"]).await;

    tokio::task::block_in_place(|| server.restart()).unwrap();

    for client in [&mut alice, &mut bob] {
        let lost = client
            .expect("ConnectionLost", |o| match o {
                Output::ConnectionLost { error, .. } => Some(error.clone()),
                _ => None,
            })
            .await;
        assert!(lost.is_some(), "{}: no reason given", client.name);
        // Attempts (some may fail while prosody starts), then the new
        // session: the core hears Disconnected, then Connected.
        assert_eq!(
            client.next("Connecting").await,
            Some(Output::Connecting { attempt: 1 })
        );
        loop {
            match client.next("reconnection").await {
                Some(Output::ConnectFailed { .. } | Output::Connecting { .. }) => {}
                Some(Output::Core(TransportEvent::Disconnected)) => break,
                other => panic!("{}: {other:?}; seen: {:#?}", client.name, client.seen),
            }
        }
        assert!(
            matches!(
                client.next("Online").await,
                Some(Output::Online { resumed: false, .. })
            ),
            "{:#?}",
            client.seen
        );
        assert_eq!(
            client.next("Core(Connected)").await,
            Some(Output::Core(TransportEvent::Connected))
        );
    }
    alice.sees_online(&["bob@padlock.test/phone"]).await;
    bob.say("alice@padlock.test/laptop", "still there?", false)
        .await;
    assert_eq!(alice.message().await.body.as_str(), "still there?");
    alice.shut_down().await;
    bob.shut_down().await;
}

/// A TCP relay to `port` whose connections can all be cut at once.
async fn relay(port: u16) -> (u16, watch::Sender<u32>) {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let relay_port = listener.local_addr().unwrap().port();
    let (cut_tx, cut_rx) = watch::channel(0_u32);
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let mut cut = cut_rx.clone();
            cut.mark_unchanged();
            tokio::spawn(async move {
                let Ok(mut outbound) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await else {
                    return;
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                    _ = cut.changed() => {}
                }
            });
        }
    });
    (relay_port, cut_tx)
}

/// The connection drops but the server keeps the session (XEP-0198): it
/// resumes, the core hears nothing, and a message written during the gap
/// is delivered.
#[tokio::test]
async fn a_dropped_connection_resumes() {
    let server = server_with(&["alice", "bob"]);
    let (relay_port, cut) = relay(server.port()).await;
    let mut alice = Client::spawn(
        "alice",
        Settings {
            server: Some(("127.0.0.1".into(), relay_port)),
            ..settings(&server, "alice", "laptop")
        },
    );
    let mut bob = Client::spawn("bob", settings(&server, "bob", "phone"));
    alice.online().await;
    bob.online().await;
    alice.sees_online(&["bob@padlock.test/phone"]).await;
    bob.sees_online(&["alice@padlock.test/laptop"]).await;

    cut.send_modify(|n| *n += 1);
    alice
        .say("bob@padlock.test/phone", "written during the gap", false)
        .await;
    alice
        .expect("ConnectionLost", |o| {
            matches!(o, Output::ConnectionLost { .. }).then_some(())
        })
        .await;
    assert_eq!(
        alice.next("Connecting").await,
        Some(Output::Connecting { attempt: 1 })
    );
    assert_eq!(
        alice.next("Online").await,
        Some(Output::Online {
            bound_jid: "alice@padlock.test/laptop".into(),
            resumed: true,
        })
    );
    assert_eq!(bob.message().await.body.as_str(), "written during the gap");
    bob.say("alice@padlock.test/laptop", "welcome back", false)
        .await;
    assert_eq!(alice.message().await.body.as_str(), "welcome back");
    assert!(
        !alice
            .seen
            .iter()
            .any(|o| *o == Output::Core(TransportEvent::Disconnected)),
        "{:#?}",
        alice.seen
    );
    alice.shut_down().await;
    bob.shut_down().await;
}

/// `TransportAction::Close` closes the stream after the message queued
/// before it was sent.
#[tokio::test]
async fn close_sends_what_came_before() {
    let server = server_with(&["alice", "bob"]);
    let mut alice = Client::spawn("alice", settings(&server, "alice", "laptop"));
    let mut bob = Client::spawn("bob", settings(&server, "bob", "phone"));
    alice.online().await;
    bob.online().await;
    alice.sees_online(&["bob@padlock.test/phone"]).await;

    alice
        .say("bob@padlock.test/phone", "?OTR:AAMDZ29vZGJ5ZQ==.", true)
        .await;
    alice.send(Input::Action(TransportAction::Close)).await;
    alice
        .expect("Closed", |o| (*o == Output::Closed).then_some(()))
        .await;
    assert_eq!(alice.next("the end").await, None);
    assert_eq!(bob.message().await.body.as_str(), "?OTR:AAMDZ29vZGJ5ZQ==.");
    bob.expect("alice offline", |o| {
        (*o == Output::Core(TransportEvent::PresenceUnavailable {
            jid: "alice@padlock.test/laptop".into(),
        }))
        .then_some(())
    })
    .await;
    bob.shut_down().await;
}

/// Adding a contact asks for a subscription; the contact accepts (and
/// subscribes back); removing the contact removes the roster entry.
#[tokio::test]
async fn contacts_are_added_accepted_and_removed() {
    let server = server_with(&["alice"]);
    server.register("dave", &password("dave")).unwrap();
    let mut alice = Client::spawn("alice", settings(&server, "alice", "laptop"));
    let mut dave = Client::spawn("dave", settings(&server, "dave", "desk"));
    alice.online().await;
    dave.online().await;

    alice
        .send(Input::AddContact {
            jid: "Dave@Padlock.test".into(),
            name: Some("Dave".into()),
        })
        .await;
    let added = alice
        .expect("RosterChanged", |o| match o {
            Output::RosterChanged(entry) => Some(entry.clone()),
            _ => None,
        })
        .await;
    assert_eq!(added.jid, "dave@padlock.test");
    assert_eq!(added.name.as_deref(), Some("Dave"));
    let from = dave
        .expect("SubscriptionRequest", |o| match o {
            Output::SubscriptionRequest { from } => Some(from.clone()),
            _ => None,
        })
        .await;
    assert_eq!(from, "alice@padlock.test");

    dave.send(Input::AcceptSubscription { jid: from }).await;
    alice.sees_online(&["dave@padlock.test/desk"]).await;
    // Dave subscribed back: alice is asked too.
    alice
        .expect("SubscriptionRequest", |o| {
            matches!(o, Output::SubscriptionRequest { from } if from == "dave@padlock.test")
                .then_some(())
        })
        .await;

    alice
        .send(Input::RemoveContact {
            jid: "dave@padlock.test".into(),
        })
        .await;
    alice
        .expect("RosterRemoved", |o| {
            matches!(o, Output::RosterRemoved { jid } if jid == "dave@padlock.test").then_some(())
        })
        .await;
    alice.shut_down().await;
    dave.shut_down().await;
}
