//! One login: TCP, STARTTLS, TLS, SASL, each failure classified.
//!
//! This replaces tokio-xmpp's `StartTlsServerConnector` and `client_auth`,
//! which trust only the system's roots, fold every failure into one error
//! type and never check the SCRAM server signature.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sasl::client::Mechanism;
use sasl::client::mechanisms::{Plain, Scram};
use sasl::common::ChannelBinding;
use sasl::common::scram::{Sha1, Sha256};
use tokio::io::{AsyncBufRead, AsyncWrite, BufStream};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_xmpp::connect::DnsConfig;
use tokio_xmpp::xmlstream::{
    InitiatingStream, ReadError, RecvFeaturesError, StreamHeader, Timeouts, XmppStream,
    XmppStreamElement, initiate_stream,
};
use xmpp_parsers::bind::{BindQuery, BindResponse};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, FullJid};
use xmpp_parsers::sasl::{Auth, DefinedCondition, Mechanism as SaslName, Nonza, Response};
use xmpp_parsers::sasl_cb;
use xmpp_parsers::stanza::Stanza;
use xmpp_parsers::starttls;
use xmpp_parsers::stream_error::StreamError;
use xmpp_parsers::stream_features::StreamFeatures;
use xmpp_parsers::{ns, stream_error};
use zeroize::Zeroizing;

use crate::Settings;
use crate::error::ConnectError;
use crate::tls::Tls;
use crate::watch::{LinkWatch, Watched};

/// The byte stream under an established XMPP stream.
pub(crate) type Stream = BufStream<Watched<TlsStream<TcpStream>>>;

/// How long a TCP connection (with DNS) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the rest of the login (STARTTLS, TLS, SASL) may take.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);
/// The fallback port when DNS has no SRV record.
const DEFAULT_PORT: u16 = 5222;

/// What it takes to log in to one account, checked once.
#[derive(Clone)]
pub(crate) struct Account {
    jid: BareJid,
    password: Zeroizing<String>,
    server: Option<(String, u16)>,
    tls: Tls,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("jid", &self.jid.as_str())
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// Checks the settings: a bare JID with a user part, a readable CA
    /// file.
    pub(crate) fn new(settings: &Settings) -> Result<Self, ConnectError> {
        let invalid = |reason: String| ConnectError::InvalidAccount {
            jid: settings.jid.clone(),
            reason,
        };
        let jid = BareJid::new(settings.jid.trim()).map_err(|e| invalid(e.to_string()))?;
        if jid.node().is_none() {
            return Err(invalid("it has no user part".into()));
        }
        let tls = Tls::new(settings.ca_file.as_deref())?;
        Ok(Self {
            jid,
            password: settings.password.clone(),
            server: settings.server.clone(),
            tls,
        })
    }

    /// The account's bare JID.
    pub(crate) fn jid(&self) -> &BareJid {
        &self.jid
    }

    /// Connects and authenticates: the returned stream is ready for
    /// resource binding. `link` learns how the connection ends.
    pub(crate) async fn login(
        &self,
        timeouts: Timeouts,
        link: LinkWatch,
    ) -> Result<(StreamFeatures, XmppStream<Stream>), ConnectError> {
        let tcp = self.tcp().await?;
        match tokio::time::timeout(LOGIN_TIMEOUT, self.secure_login(tcp, timeouts, link)).await {
            Ok(result) => result,
            Err(_) => Err(ConnectError::Protocol(format!(
                "the server did not complete the login within {} s",
                LOGIN_TIMEOUT.as_secs()
            ))),
        }
    }

    /// One login, then resource binding, then a clean close: proves the
    /// settings work. Returns the bound full JID.
    pub(crate) async fn check(
        &self,
        resource: Option<String>,
        timeouts: Timeouts,
    ) -> Result<FullJid, ConnectError> {
        let (_, mut stream) = self.login(timeouts, LinkWatch::default()).await?;
        let bound = bind(&mut stream, resource).await?;
        // A clean goodbye; its failure changes nothing about the result.
        let closing = <XmppStream<Stream> as SinkExt<&XmppStreamElement>>::close(&mut stream);
        let _ = tokio::time::timeout(Duration::from_secs(5), closing).await;
        Ok(bound)
    }

    /// The TCP connection: to the configured host and port, else where
    /// DNS (SRV, then the domain on port 5222) says.
    async fn tcp(&self) -> Result<TcpStream, ConnectError> {
        let domain = self.jid.domain().as_str();
        let target = match &self.server {
            Some((host, port)) => match ip_literal(host) {
                Some(ip) => SocketAddr::new(ip, *port).to_string(),
                None => format!("{host}:{port}"),
            },
            None => format!("{domain} (as its DNS SRV record says, else port {DEFAULT_PORT})"),
        };
        let connecting = async {
            match &self.server {
                Some((host, port)) => match ip_literal(host) {
                    Some(ip) => TcpStream::connect(SocketAddr::new(ip, *port))
                        .await
                        .map_err(tokio_xmpp::Error::Io),
                    None => DnsConfig::no_srv(host, *port).resolve().await,
                },
                None => DnsConfig::srv_default_client(domain).resolve().await,
            }
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
            Ok(Ok(tcp)) => Ok(tcp),
            Ok(Err(e)) => Err(ConnectError::Unreachable {
                target,
                reason: describe_connect_error(&e),
            }),
            Err(_) => Err(ConnectError::Unreachable {
                target,
                reason: format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
            }),
        }
    }

    /// STARTTLS, TLS, SASL and the stream restart.
    async fn secure_login(
        &self,
        tcp: TcpStream,
        timeouts: Timeouts,
        link: LinkWatch,
    ) -> Result<(StreamFeatures, XmppStream<Stream>), ConnectError> {
        let domain = self.jid.domain().as_str();
        let pending = initiate_stream(
            BufStream::new(tcp),
            ns::JABBER_CLIENT,
            header(domain),
            timeouts,
        )
        .await
        .map_err(|e| io_failure("opening the XML stream", &e))?;
        let (features, mut plain) = pending
            .recv_features::<tokio_xmpp::xmlstream::FallibleStreamElement>()
            .await
            .map_err(|e| features_failure(domain, e))?;
        if !features.can_starttls() {
            return Err(ConnectError::NoStartTls {
                domain: domain.to_owned(),
            });
        }
        send(
            &mut plain,
            &XmppStreamElement::Starttls(starttls::Nonza::Request(starttls::Request)),
        )
        .await?;
        loop {
            match next_element(&mut plain).await? {
                XmppStreamElement::Starttls(starttls::Nonza::Proceed(_)) => break,
                XmppStreamElement::Starttls(starttls::Nonza::Failure(_)) => {
                    return Err(ConnectError::Protocol(
                        "the server refused to start TLS".into(),
                    ));
                }
                other => tracing::debug!(element = ?kind(&other), "ignored before STARTTLS"),
            }
        }
        let tcp = plain.into_inner().into_inner();
        let (tls, binding) = self.tls.handshake(tcp, domain).await?;
        let io = BufStream::new(Watched::new(tls, link));
        let pending = initiate_stream(io, ns::JABBER_CLIENT, header(domain), timeouts)
            .await
            .map_err(|e| io_failure("opening the encrypted XML stream", &e))?;
        let (features, secure) = pending
            .recv_features()
            .await
            .map_err(|e| features_failure(domain, e))?;
        let restarting = self.authenticate(secure, &features, binding).await?;
        let pending = restarting
            .send_header(header(domain))
            .await
            .map_err(|e| io_failure("restarting the stream", &e))?;
        let (features, stream) = pending
            .recv_features()
            .await
            .map_err(|e| features_failure(domain, e))?;
        if !features.can_bind() {
            return Err(ConnectError::Protocol(
                "the server offers no resource binding".into(),
            ));
        }
        Ok((features, stream))
    }

    /// SASL with the strongest mechanism both sides know; never
    /// ANONYMOUS. SCRAM's server signature is checked.
    async fn authenticate<S: AsyncBufRead + AsyncWrite + Unpin>(
        &self,
        mut stream: XmppStream<S>,
        features: &StreamFeatures,
        binding: ChannelBinding,
    ) -> Result<InitiatingStream<S>, ConnectError> {
        let choice = choose_mechanism(
            &features.sasl_mechanisms,
            &binding,
            features.sasl_cb.as_ref().map(|cb| cb.types.as_slice()),
        )
        .ok_or_else(|| {
            ConnectError::Protocol(format!(
                "the server offers no login method Padlock accepts (it offers: {})",
                features
                    .sasl_mechanisms
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let username = self.jid.node().map_or("", |n| n.as_str()).to_owned();
        let password = self.password.as_str().to_owned();
        let mut mechanism: Box<dyn Mechanism + Send> = match choice {
            Choice::ScramSha256Plus | Choice::ScramSha1Plus => {
                scram(choice, username, password, binding)?
            }
            Choice::ScramSha256 | Choice::ScramSha1 => {
                // RFC 5802: "y" tells a server that supports channel
                // binding that someone removed the -PLUS mechanisms.
                let flag = if matches!(binding, ChannelBinding::TlsExporter(_))
                    && !offers_plus(&features.sasl_mechanisms)
                {
                    ChannelBinding::Unsupported
                } else {
                    ChannelBinding::None
                };
                scram(choice, username, password, flag)?
            }
            Choice::Plain => Box::new(Plain::new(username, password)),
        };
        tracing::debug!(mechanism = choice.name(), "authenticating");
        let initial = mechanism.initial();
        send(
            &mut stream,
            &XmppStreamElement::Sasl(Nonza::Auth(Auth {
                mechanism: choice.sasl_name(),
                data: initial,
            })),
        )
        .await?;
        let mut challenges = 0_u32;
        let mut verified = false;
        loop {
            match next_element(&mut stream).await? {
                XmppStreamElement::Sasl(Nonza::Challenge(challenge)) => {
                    challenges += 1;
                    let response = if choice.is_scram() && challenges == 2 {
                        // The server's final message came as a challenge
                        // rather than inside <success/>.
                        mechanism
                            .success(&challenge.data)
                            .map_err(server_proof_failure)?;
                        verified = true;
                        Vec::new()
                    } else {
                        mechanism.response(&challenge.data).map_err(|e| {
                            ConnectError::Protocol(format!("{} failed: {e}", choice.name()))
                        })?
                    };
                    send(
                        &mut stream,
                        &XmppStreamElement::Sasl(Nonza::Response(Response { data: response })),
                    )
                    .await?;
                }
                XmppStreamElement::Sasl(Nonza::Success(success)) => {
                    if !verified {
                        mechanism
                            .success(&success.data)
                            .map_err(server_proof_failure)?;
                    }
                    return Ok(stream.initiate_reset());
                }
                XmppStreamElement::Sasl(Nonza::Failure(failure)) => {
                    return Err(self.sasl_failure(&failure.defined_condition));
                }
                other => {
                    return Err(ConnectError::Protocol(format!(
                        "unexpected {} during authentication",
                        kind(&other)
                    )));
                }
            }
        }
    }

    fn sasl_failure(&self, condition: &DefinedCondition) -> ConnectError {
        let name = sasl_condition_name(condition);
        match condition {
            DefinedCondition::NotAuthorized
            | DefinedCondition::AccountDisabled
            | DefinedCondition::CredentialsExpired
            | DefinedCondition::InvalidAuthzid => ConnectError::Authentication {
                jid: self.jid.to_string(),
                condition: name.into(),
            },
            DefinedCondition::TemporaryAuthFailure => ConnectError::Protocol(
                "the server cannot check the password right now (temporary-auth-failure)".into(),
            ),
            _ => ConnectError::Protocol(format!("the server refused the login ({name})")),
        }
    }
}

/// Binds a resource (RFC 6120 section 7) on a freshly logged-in stream:
/// what tokio-xmpp's stanza stream does for a session, done here for a
/// one-off login.
pub(crate) async fn bind<S: AsyncBufRead + AsyncWrite + Unpin>(
    stream: &mut XmppStream<S>,
    resource: Option<String>,
) -> Result<FullJid, ConnectError> {
    const ID: &str = "padlock-bind";
    let request = Iq::from_set(ID, BindQuery::new(resource));
    send(stream, &XmppStreamElement::Stanza(Stanza::Iq(request))).await?;
    loop {
        match next_element(stream).await? {
            XmppStreamElement::Stanza(Stanza::Iq(Iq::Result {
                id,
                payload: Some(payload),
                ..
            })) if id == ID => {
                let response = BindResponse::try_from(payload).map_err(|e| {
                    ConnectError::Protocol(format!("unreadable resource binding answer: {e}"))
                })?;
                return Ok(FullJid::from(response));
            }
            XmppStreamElement::Stanza(Stanza::Iq(Iq::Error { id, error, .. })) if id == ID => {
                return Err(ConnectError::Protocol(format!(
                    "the server refused to bind a resource ({:?})",
                    error.defined_condition
                )));
            }
            other => tracing::debug!(element = kind(&other), "ignored while binding"),
        }
    }
}

/// A SASL mechanism we are willing to use, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    ScramSha256Plus,
    ScramSha1Plus,
    ScramSha256,
    ScramSha1,
    Plain,
}

impl Choice {
    fn name(self) -> &'static str {
        match self {
            Self::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
            Self::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha1 => "SCRAM-SHA-1",
            Self::Plain => "PLAIN",
        }
    }

    fn sasl_name(self) -> SaslName {
        match self {
            Self::ScramSha256Plus => SaslName::ScramSha256Plus,
            Self::ScramSha1Plus => SaslName::ScramSha1Plus,
            Self::ScramSha256 => SaslName::ScramSha256,
            Self::ScramSha1 => SaslName::ScramSha1,
            Self::Plain => SaslName::Plain,
        }
    }

    fn is_scram(self) -> bool {
        self != Self::Plain
    }
}

/// The mechanism to use. `-PLUS` only with a `tls-exporter` binding the
/// server accepts (XEP-0440, when it says).
fn choose_mechanism(
    offered: &BTreeSet<String>,
    binding: &ChannelBinding,
    binding_types: Option<&[sasl_cb::Type]>,
) -> Option<Choice> {
    let exporter = matches!(binding, ChannelBinding::TlsExporter(_))
        && binding_types.is_none_or(|types| types.contains(&sasl_cb::Type::TlsExporter));
    let candidates: &[Choice] = if exporter {
        &[
            Choice::ScramSha256Plus,
            Choice::ScramSha1Plus,
            Choice::ScramSha256,
            Choice::ScramSha1,
            Choice::Plain,
        ]
    } else {
        &[Choice::ScramSha256, Choice::ScramSha1, Choice::Plain]
    };
    candidates
        .iter()
        .copied()
        .find(|choice| offered.contains(choice.name()))
}

fn offers_plus(offered: &BTreeSet<String>) -> bool {
    offered.iter().any(|m| m.ends_with("-PLUS"))
}

fn scram(
    choice: Choice,
    username: String,
    password: String,
    binding: ChannelBinding,
) -> Result<Box<dyn Mechanism + Send>, ConnectError> {
    let failed = |e: sasl::Error| {
        ConnectError::Protocol(format!("{} could not start: {e:?}", choice.name()))
    };
    Ok(match choice {
        Choice::ScramSha256Plus | Choice::ScramSha256 => {
            Box::new(Scram::<Sha256>::new(username, password, binding).map_err(failed)?)
        }
        _ => Box::new(Scram::<Sha1>::new(username, password, binding).map_err(failed)?),
    })
}

fn server_proof_failure(error: sasl::client::MechanismError) -> ConnectError {
    ConnectError::Protocol(format!(
        "the server could not prove that it knows the password ({error}); \
         someone may be impersonating it"
    ))
}

fn sasl_condition_name(condition: &DefinedCondition) -> &'static str {
    match condition {
        DefinedCondition::Aborted => "aborted",
        DefinedCondition::AccountDisabled => "account-disabled",
        DefinedCondition::CredentialsExpired => "credentials-expired",
        DefinedCondition::EncryptionRequired => "encryption-required",
        DefinedCondition::IncorrectEncoding => "incorrect-encoding",
        DefinedCondition::InvalidAuthzid => "invalid-authzid",
        DefinedCondition::InvalidMechanism => "invalid-mechanism",
        DefinedCondition::MalformedRequest => "malformed-request",
        DefinedCondition::MechanismTooWeak => "mechanism-too-weak",
        DefinedCondition::NotAuthorized => "not-authorized",
        DefinedCondition::TemporaryAuthFailure => "temporary-auth-failure",
    }
}

/// `host` as an IP address (`127.0.0.1`, `::1`, `[::1]`), if it is one.
fn ip_literal(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

fn header(domain: &str) -> StreamHeader<'_> {
    StreamHeader {
        to: Some(Cow::Borrowed(domain)),
        from: None,
        id: None,
    }
}

pub(crate) async fn send<S: AsyncBufRead + AsyncWrite + Unpin>(
    stream: &mut XmppStream<S>,
    element: &XmppStreamElement,
) -> Result<(), ConnectError> {
    stream
        .send(element)
        .await
        .map_err(|e| io_failure("sending", &e))
}

/// The next element, waiting through soft timeouts (the caller's
/// timeout bounds the wait).
pub(crate) async fn next_element<S: AsyncBufRead + AsyncWrite + Unpin>(
    stream: &mut XmppStream<S>,
) -> Result<XmppStreamElement, ConnectError> {
    loop {
        let item = stream.next().await;
        match item.map(|r| r.and_then(|e| e.into_read_error())) {
            Some(Ok(XmppStreamElement::StreamError(error))) => {
                return Err(stream_error_failure(&error.0));
            }
            Some(Ok(element)) => return Ok(element),
            Some(Err(ReadError::SoftTimeout)) => {}
            Some(Err(ReadError::HardError(e))) => return Err(io_failure("reading", &e)),
            Some(Err(ReadError::ParseError(e))) => {
                return Err(ConnectError::Protocol(format!(
                    "the server sent something unreadable: {e}"
                )));
            }
            Some(Err(ReadError::StreamFooterReceived)) | None => {
                return Err(ConnectError::Protocol(
                    "the server closed the connection during the login".into(),
                ));
            }
        }
    }
}

/// What kind of element it is, for logs (never its content).
fn kind(element: &XmppStreamElement) -> &'static str {
    match element {
        XmppStreamElement::Stanza(_) => "stanza",
        XmppStreamElement::Sasl(_) => "SASL element",
        XmppStreamElement::Starttls(_) => "STARTTLS element",
        XmppStreamElement::ComponentHandshake(_) => "component handshake",
        XmppStreamElement::StreamError(_) => "stream error",
        XmppStreamElement::SM(_) => "stream management element",
    }
}

fn io_failure(what: &str, error: &std::io::Error) -> ConnectError {
    ConnectError::Protocol(format!("{what} failed: {error}"))
}

fn features_failure(domain: &str, error: RecvFeaturesError) -> ConnectError {
    match error {
        RecvFeaturesError::Io(e) => io_failure("reading the stream features", &e),
        RecvFeaturesError::StreamError(e) => {
            if e.0.condition == stream_error::DefinedCondition::HostUnknown {
                ConnectError::Protocol(format!("the server does not serve {domain} (host-unknown)"))
            } else {
                stream_error_failure(&e.0)
            }
        }
    }
}

fn stream_error_failure(error: &StreamError) -> ConnectError {
    ConnectError::Protocol(format!("the server ended the stream: {}", error.condition))
}

fn describe_connect_error(error: &tokio_xmpp::Error) -> String {
    match error {
        tokio_xmpp::Error::Io(e) => match e.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
            std::io::ErrorKind::TimedOut => "timed out".into(),
            _ => e.to_string(),
        },
        tokio_xmpp::Error::DnsNet(e) => format!("DNS lookup failed: {e}"),
        tokio_xmpp::Error::DnsProto(e) => format!("DNS lookup failed: {e}"),
        tokio_xmpp::Error::Idna => "the server name is not a valid domain name".into(),
        tokio_xmpp::Error::Disconnected => "no address of it accepted a connection".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn offered(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn ip_literals_skip_dns() {
        assert_eq!(ip_literal("127.0.0.1"), Some(IpAddr::from([127, 0, 0, 1])));
        assert_eq!(ip_literal("[::1]"), ip_literal("::1"));
        assert!(ip_literal("::1").is_some());
        assert_eq!(ip_literal("xmpp.example.org"), None);
    }

    #[test]
    fn the_strongest_mechanism_wins_and_anonymous_never() {
        let exporter = ChannelBinding::TlsExporter(vec![1; 32]);
        let all = offered(&[
            "ANONYMOUS",
            "PLAIN",
            "SCRAM-SHA-1",
            "SCRAM-SHA-1-PLUS",
            "SCRAM-SHA-256",
        ]);
        assert_eq!(
            choose_mechanism(&all, &exporter, None),
            Some(Choice::ScramSha1Plus)
        );
        assert_eq!(
            choose_mechanism(&all, &ChannelBinding::None, None),
            Some(Choice::ScramSha256)
        );
        // The server binds only tls-unique: no -PLUS with our exporter.
        assert_eq!(
            choose_mechanism(&all, &exporter, Some(&[sasl_cb::Type::TlsUnique])),
            Some(Choice::ScramSha256)
        );
        assert_eq!(
            choose_mechanism(&offered(&["PLAIN", "ANONYMOUS"]), &exporter, None),
            Some(Choice::Plain)
        );
        assert_eq!(
            choose_mechanism(&offered(&["ANONYMOUS"]), &exporter, None),
            None
        );
    }
}
