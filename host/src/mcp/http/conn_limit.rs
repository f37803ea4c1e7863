//! At most N connections at once. A connection over the limit is closed as
//! soon as it is accepted: queueing it would keep its socket and task alive,
//! which is what a slow-header (slowloris) client wants. Each admitted
//! connection holds a permit until it closes, TLS handshake included.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Clone)]
pub struct ConnectionLimit {
    permits: Arc<Semaphore>,
    max: usize,
}

impl ConnectionLimit {
    pub fn new(max: usize) -> Self {
        ConnectionLimit {
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }
}

impl<S> Accept<TcpStream, S> for ConnectionLimit {
    type Stream = Limited;
    type Service = S;
    type Future = std::future::Ready<io::Result<(Limited, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        std::future::ready(match self.permits.clone().try_acquire_owned() {
            Ok(permit) => Ok((
                Limited {
                    stream,
                    _permit: permit,
                },
                service,
            )),
            Err(_) => Err(io::Error::other(LimitReached(self.max))),
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0} connections are open (--http-max-connections); closed this one")]
struct LimitReached(usize);

/// The accept error was this limit's refusal (not, say, a failed TLS handshake).
pub fn is_refusal(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|e| e.is::<LimitReached>())
}

/// A connection and its permit; dropping it frees the slot.
pub struct Limited {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Limited {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Limited {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
