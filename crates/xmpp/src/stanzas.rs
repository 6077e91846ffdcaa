//! Stanzas in and out: pure conversions between xmpp-parsers types and the
//! core's plain ones.

use padlock_core::{IncomingMessage, Sensitive};
use xmpp_parsers::carbons::{Private, Received, Sent};
use xmpp_parsers::eme::ExplicitMessageEncryption;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::{Id, Lang, Message, MessageType};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::roster::{Ask, Item, Roster, Subscription as XmppSubscription};
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

use crate::{RosterEntry, Subscription};

/// XEP-0334 message processing hints.
const HINTS: &str = "urn:xmpp:hints";
/// XEP-0364's namespace for OTR in XEP-0380.
const OTR_NS: &str = "urn:xmpp:otr:0";
/// XEP-0091, the legacy delay some servers still put on offline messages.
const LEGACY_DELAY: &str = "jabber:x:delay";

/// A chat message to `to`. An OTR message carries the XEP-0364 hints:
/// not copied to other devices, not archived, and marked as OTR.
pub(crate) fn outgoing_message(to: Jid, body: &str, otr: bool, id: String) -> Message {
    let mut message = Message::chat(Some(to)).with_body(Lang::new(), body.to_owned());
    message.id = Some(Id(id));
    if otr {
        message.payloads.extend([
            Element::builder("no-copy", HINTS).build(),
            Element::builder("no-permanent-store", HINTS).build(),
            Private.into(),
            ExplicitMessageEncryption {
                namespace: OTR_NS.into(),
                name: Some("OTR".into()),
            }
            .into(),
        ]);
    }
    message
}

/// What became of an incoming message.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// A message for the core.
    Message(IncomingMessage),
    /// Not for the core; why, for a debug log (never the body).
    Ignored(&'static str),
}

/// Reads a message stanza: live, offline replay, or XEP-0280 carbon.
/// Carbons count only when they come from `own` (our bare JID).
pub(crate) fn read_message(mut message: Message, own: &BareJid) -> Inbound {
    let from_own_account = message
        .from
        .as_ref()
        .is_some_and(|from| from.is_bare() && from.to_bare() == *own);
    match message.extract_payload::<Received>() {
        Ok(Some(received)) if from_own_account => {
            let delayed = received.forwarded.delay.is_some();
            return match read_plain(received.forwarded.message) {
                Inbound::Message(mut incoming) => {
                    incoming.is_carbon = true;
                    incoming.is_archived |= delayed;
                    Inbound::Message(incoming)
                }
                ignored => ignored,
            };
        }
        Ok(Some(_)) => return Inbound::Ignored("a carbon not from our own account (spoofed)"),
        Ok(None) => {}
        Err(_) => return Inbound::Ignored("an unreadable carbon"),
    }
    match message.extract_payload::<Sent>() {
        Ok(Some(_)) if from_own_account => {
            return Inbound::Ignored("a sent carbon (another device of ours wrote)");
        }
        Ok(Some(_)) => return Inbound::Ignored("a sent carbon not from our own account (spoofed)"),
        Ok(None) => {}
        Err(_) => return Inbound::Ignored("an unreadable sent carbon"),
    }
    read_plain(message)
}

/// A message that is not a carbon wrapper.
fn read_plain(mut message: Message) -> Inbound {
    match message.type_ {
        MessageType::Chat | MessageType::Normal => {}
        MessageType::Error => return Inbound::Ignored("a message error"),
        MessageType::Groupchat | MessageType::Headline => {
            return Inbound::Ignored("a groupchat or headline message");
        }
    }
    let Some(from) = message.from.as_ref() else {
        return Inbound::Ignored("a message without sender");
    };
    let from = from.to_string();
    let body = message
        .bodies
        .remove("")
        .or_else(|| std::mem::take(&mut message.bodies).into_values().next());
    let Some(body) = body else {
        return Inbound::Ignored("a message without body");
    };
    let delayed = message
        .payloads
        .iter()
        .any(|p| p.is("delay", ns::DELAY) || p.is("x", LEGACY_DELAY));
    Inbound::Message(IncomingMessage {
        from,
        body: Sensitive::new(body),
        is_carbon: false,
        is_archived: delayed,
    })
}

/// A roster entry as the caller sees it.
pub(crate) fn roster_entry(item: &Item) -> RosterEntry {
    RosterEntry {
        jid: item.jid.to_string(),
        name: item.name.clone(),
        subscription: match item.subscription {
            XmppSubscription::None => Subscription::None,
            XmppSubscription::To => Subscription::To,
            XmppSubscription::From => Subscription::From,
            XmppSubscription::Both => Subscription::Both,
            XmppSubscription::Remove => Subscription::Remove,
        },
        pending_out: item.ask == Ask::Subscribe,
    }
}

/// A roster set adding or changing `jid`, or removing it.
pub(crate) fn roster_set(id: String, jid: BareJid, name: Option<String>, remove: bool) -> Iq {
    let item = Item {
        jid,
        name,
        subscription: if remove {
            XmppSubscription::Remove
        } else {
            XmppSubscription::None
        },
        ask: Ask::None,
        groups: Vec::new(),
        approved: None,
    };
    Iq::from_set(
        id,
        Roster {
            ver: None,
            items: vec![item],
        },
    )
}

/// The answer to a request we do not serve (RFC 6120 section 8.4).
pub(crate) fn service_unavailable(id: String, to: Option<Jid>) -> Iq {
    Iq::Error {
        from: None,
        to,
        id,
        error: StanzaError::new(
            ErrorType::Cancel,
            DefinedCondition::ServiceUnavailable,
            "en",
            "Not served by this client.",
        ),
        payload: None,
    }
}

/// An empty result for `id`.
pub(crate) fn empty_result(id: String, to: Option<Jid>) -> Iq {
    Iq::Result {
        from: None,
        to,
        id,
        payload: None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn own() -> BareJid {
        BareJid::new("alice@example.org").unwrap()
    }

    fn parse(xml: &str) -> Message {
        let element: Element = xml.parse().unwrap();
        Message::try_from(element).unwrap()
    }

    fn incoming(inbound: Inbound) -> IncomingMessage {
        match inbound {
            Inbound::Message(message) => message,
            Inbound::Ignored(why) => panic!("ignored: {why}"),
        }
    }

    #[test]
    fn otr_messages_carry_the_four_hints() {
        let to = Jid::new("bob@example.org/phone").unwrap();
        let element: Element = outgoing_message(to, "?OTR:AAMD", true, "m1".into()).into();
        let xml = String::from(&element);
        for needle in [
            "<no-copy xmlns='urn:xmpp:hints'/>",
            "<no-permanent-store xmlns='urn:xmpp:hints'/>",
            "<private xmlns='urn:xmpp:carbons:2'/>",
            "namespace='urn:xmpp:otr:0'",
            "to='bob@example.org/phone'",
            "type='chat'",
        ] {
            assert!(xml.contains(needle), "{needle} missing in {xml}");
        }
        let plain: Element = outgoing_message(
            Jid::new("bob@example.org").unwrap(),
            "hi",
            false,
            "m2".into(),
        )
        .into();
        assert!(!String::from(&plain).contains("urn:xmpp:hints"));
    }

    #[test]
    fn a_live_message_is_read_with_its_full_sender() {
        let message = parse(
            "<message xmlns='jabber:client' from='Bob@Example.org/Phone' type='chat'>\
             <body>hello</body></message>",
        );
        let message = incoming(read_message(message, &own()));
        assert_eq!(message.from, "bob@example.org/Phone");
        assert_eq!(message.body.as_str(), "hello");
        assert!(!message.is_carbon && !message.is_archived);
    }

    #[test]
    fn a_delayed_message_is_archived() {
        let message = parse(
            "<message xmlns='jabber:client' from='bob@example.org/phone' type='chat'>\
             <body>late</body><delay xmlns='urn:xmpp:delay' stamp='2002-09-10T23:08:25Z'/>\
             </message>",
        );
        assert!(incoming(read_message(message, &own())).is_archived);
    }

    #[test]
    fn carbons_count_only_from_our_own_bare_jid() {
        let carbon = |from: &str| {
            parse(&format!(
                "<message xmlns='jabber:client' from='{from}' to='alice@example.org/laptop' \
                 type='chat'><received xmlns='urn:xmpp:carbons:2'>\
                 <forwarded xmlns='urn:xmpp:forward:0'>\
                 <message xmlns='jabber:client' from='bob@example.org/phone' \
                 to='alice@example.org/phone' type='chat'><body>copy</body></message>\
                 </forwarded></received></message>"
            ))
        };
        let copy = incoming(read_message(carbon("alice@example.org"), &own()));
        assert_eq!(copy.from, "bob@example.org/phone");
        assert!(copy.is_carbon);
        assert!(matches!(
            read_message(carbon("mallory@example.org"), &own()),
            Inbound::Ignored(_)
        ));
        assert!(matches!(
            read_message(carbon("alice@example.org/other"), &own()),
            Inbound::Ignored(_)
        ));
    }

    #[test]
    fn sent_carbons_errors_and_bodiless_messages_are_ignored() {
        let sent = parse(
            "<message xmlns='jabber:client' from='alice@example.org' type='chat'>\
             <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
             <message xmlns='jabber:client' to='bob@example.org' type='chat'>\
             <body>mine</body></message></forwarded></sent></message>",
        );
        assert!(matches!(read_message(sent, &own()), Inbound::Ignored(_)));
        let error = parse(
            "<message xmlns='jabber:client' from='bob@example.org' type='error'>\
             <body>bounced</body></message>",
        );
        assert!(matches!(read_message(error, &own()), Inbound::Ignored(_)));
        let state = parse(
            "<message xmlns='jabber:client' from='bob@example.org/phone' type='chat'>\
             <composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
        );
        assert!(matches!(read_message(state, &own()), Inbound::Ignored(_)));
    }
}
