//! Remembers how a connection ended, for the user.
//!
//! tokio-xmpp's stanza stream reports only "suspended" when a connection
//! drops; the byte stream under it is ours, so it notes the first I/O
//! failure or the server's hang-up here.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How the current connection ended, once it has.
#[derive(Debug, Clone, Default)]
pub(crate) struct LinkWatch(Arc<Mutex<Option<String>>>);

impl LinkWatch {
    /// Notes the first reason only: later ones are consequences.
    fn note(&self, reason: impl FnOnce() -> String) {
        if let Ok(mut slot) = self.0.lock()
            && slot.is_none()
        {
            *slot = Some(reason());
        }
    }

    /// The reason noted since the last call, if any.
    pub(crate) fn take(&self) -> Option<String> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// A byte stream that tells its [`LinkWatch`] how it failed.
#[derive(Debug)]
pub(crate) struct Watched<S> {
    inner: S,
    link: LinkWatch,
}

impl<S> Watched<S> {
    pub(crate) fn new(inner: S, link: LinkWatch) -> Self {
        Self { inner, link }
    }

    fn observe<T>(&self, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if let Poll::Ready(Err(e)) = &result {
            self.link.note(|| describe(e));
        }
        result
    }
}

fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::ConnectionReset => "the connection was reset".into(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof => {
            "the server closed the connection".into()
        }
        io::ErrorKind::TimedOut => "the connection timed out".into(),
        _ => error.to_string(),
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let wanted = buf.remaining() > 0;
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && wanted && buf.filled().len() == before {
            self.link.note(|| "the server closed the connection".into());
        }
        self.observe(result)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.observe(result)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_flush(cx);
        self.observe(result)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.observe(result)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn a_hang_up_is_noted_once() {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let link = LinkWatch::default();
        let mut watched = Watched::new(ours, link.clone());
        theirs.write_all(b"<x/>").await.unwrap();
        drop(theirs);
        let mut text = String::new();
        watched.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "<x/>");
        assert!(watched.write_all(b"more").await.is_err());
        assert_eq!(
            link.take().as_deref(),
            Some("the server closed the connection")
        );
        assert_eq!(link.take(), None);
    }
}
