//! Test helpers that are dangerous in a client: a raw session that sends
//! whatever XML it is given, to play a hostile peer (forged carbons,
//! roster pushes from strangers). Only with the `testing` feature.

use std::fmt;
use std::time::Duration;

use futures::SinkExt;
use tokio_xmpp::xmlstream::{XmppStream, XmppStreamElement};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza::Stanza;

use crate::error::ConnectError;
use crate::login::{self, Account, Stream};
use crate::watch::LinkWatch;
use crate::{Settings, session};

/// A logged-in, bound stream that sends raw stanzas and reads nothing
/// (what arrives is discarded when it closes).
pub struct RawSession {
    stream: XmppStream<Stream>,
    bound_jid: String,
}

impl fmt::Debug for RawSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSession")
            .field("bound_jid", &self.bound_jid)
            .finish_non_exhaustive()
    }
}

impl RawSession {
    /// Logs in with `settings` (the same checks as the adapter) and binds
    /// its resource.
    pub async fn connect_for_testing_only(settings: &Settings) -> Result<Self, ConnectError> {
        let account = Account::new(settings)?;
        let (_, mut stream) = account
            .login(session::TIMEOUTS, LinkWatch::default())
            .await?;
        let resource = Some(session::resource(settings));
        let bound_jid = login::bind(&mut stream, resource).await?.to_string();
        Ok(Self { stream, bound_jid })
    }

    /// The full JID the server bound.
    pub fn bound_jid(&self) -> &str {
        &self.bound_jid
    }

    /// Sends one stanza given as XML (`<message xmlns='jabber:client' ...>`).
    pub async fn send_xml(&mut self, xml: &str) -> Result<(), String> {
        let element: Element = xml.parse().map_err(|e| format!("not XML: {e}"))?;
        let stanza = Stanza::try_from(element).map_err(|e| format!("not a stanza: {e}"))?;
        login::send(&mut self.stream, &XmppStreamElement::Stanza(stanza))
            .await
            .map_err(|e| e.to_string())
    }

    /// Closes the stream (after what was sent).
    pub async fn close(mut self) {
        let closing = <XmppStream<Stream> as SinkExt<&XmppStreamElement>>::close(&mut self.stream);
        let _ = tokio::time::timeout(Duration::from_secs(5), closing).await;
    }
}
