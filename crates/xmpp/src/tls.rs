//! TLS: which certificates are trusted, the handshake, the channel binding.
//!
//! The certificate is always verified for the JID's domain, against the
//! system's roots plus the user's CA file; there is no way to skip the
//! check.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use sasl::common::ChannelBinding;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, CertificateError, ClientConfig, RootCertStore};

use crate::error::ConnectError;

/// The TLS client configuration of one account.
#[derive(Clone)]
pub(crate) struct Tls {
    config: Arc<ClientConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

impl Tls {
    /// Trusts the system's roots and, when given, every certificate in the
    /// PEM file `ca_file`.
    pub(crate) fn new(ca_file: Option<&Path>) -> Result<Self, ConnectError> {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for error in &native.errors {
            tracing::debug!(%error, "a system root certificate could not be loaded");
        }
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        tracing::debug!(added, ignored, "system root certificates");
        if let Some(path) = ca_file {
            let ca_error = |reason: String| ConnectError::CaFile {
                path: path.to_owned(),
                reason,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| ca_error(describe_pem_error(&e)))?;
            let mut count = 0_usize;
            for cert in certs {
                let cert = cert.map_err(|e| ca_error(describe_pem_error(&e)))?;
                roots
                    .add(cert)
                    .map_err(|e| ca_error(format!("a certificate in it is not usable ({e})")))?;
                count += 1;
            }
            if count == 0 {
                return Err(ca_error("it holds no PEM certificate".into()));
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ConnectError::Protocol(format!("TLS set-up failed: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
        })
    }

    /// Runs the TLS handshake on `tcp`, verifying the certificate for
    /// `domain`, and computes the channel binding for SASL (RFC 9266
    /// `tls-exporter`, TLS 1.3 only).
    pub(crate) async fn handshake(
        &self,
        tcp: TcpStream,
        domain: &str,
    ) -> Result<(TlsStream<TcpStream>, ChannelBinding), ConnectError> {
        let name =
            ServerName::try_from(domain.to_owned()).map_err(|e| ConnectError::Certificate {
                domain: domain.to_owned(),
                reason: format!("{domain} is not a name a certificate can be issued for ({e})"),
            })?;
        let stream = TlsConnector::from(Arc::clone(&self.config))
            .connect(name, tcp)
            .await
            .map_err(|e| classify_tls_error(&e, domain))?;
        let (_, connection) = stream.get_ref();
        let binding = match connection.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => {
                let data = connection
                    .export_keying_material(vec![0_u8; 32], b"EXPORTER-Channel-Binding", None)
                    .map_err(|e| ConnectError::Protocol(format!("TLS exporter failed: {e}")))?;
                ChannelBinding::TlsExporter(data)
            }
            _ => ChannelBinding::None,
        };
        Ok((stream, binding))
    }
}

/// A failed handshake: a certificate problem, or something else.
fn classify_tls_error(error: &io::Error, domain: &str) -> ConnectError {
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(cert)) => ConnectError::Certificate {
            domain: domain.to_owned(),
            reason: describe_certificate_error(cert, domain),
        },
        Some(other) => ConnectError::Protocol(format!("the TLS handshake failed: {other}")),
        None => ConnectError::Protocol(format!("the TLS handshake failed: {error}")),
    }
}

/// What is wrong with a certificate, for people.
fn describe_certificate_error(error: &CertificateError, domain: &str) -> String {
    match error {
        CertificateError::UnknownIssuer => "it is signed by an unknown authority".into(),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("it is not valid for {domain}")
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "it has expired".into()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "it is not valid yet (or this computer's clock is wrong)".into()
        }
        CertificateError::Revoked => "it has been revoked".into(),
        CertificateError::BadSignature => "its signature does not verify".into(),
        CertificateError::BadEncoding => "it cannot be decoded".into(),
        other => format!("{other:?}"),
    }
}

fn describe_pem_error(error: &rustls_pki_types::pem::Error) -> String {
    match error {
        rustls_pki_types::pem::Error::Io(e) => e.to_string(),
        other => format!("it is not a PEM file ({other:?})"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn a_missing_or_empty_ca_file_is_refused() {
        let missing = Tls::new(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(
            matches!(missing, ConnectError::CaFile { .. }),
            "{missing:?}"
        );

        let dir = std::env::temp_dir().join(format!("padlock-xmpp-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let error = Tls::new(Some(&empty)).unwrap_err();
        assert!(error.to_string().contains("no PEM certificate"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn certificate_errors_read_as_sentences() {
        let io = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        assert_eq!(
            classify_tls_error(&io, "example.org"),
            ConnectError::Certificate {
                domain: "example.org".into(),
                reason: "it is signed by an unknown authority".into(),
            }
        );
        let io = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::HandshakeNotComplete,
        );
        assert!(matches!(
            classify_tls_error(&io, "example.org"),
            ConnectError::Protocol(_)
        ));
    }
}
