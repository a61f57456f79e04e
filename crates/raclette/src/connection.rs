//! The client's connection: its address, and closing it for routes that
//! take it over.

use std::{cell::Cell, convert::Infallible, fmt, marker::PhantomData, net::SocketAddr, sync::Arc};

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    http::request::Parts,
};

use crate::HttpError;

/// Closes the TCP connection a request came on.
///
/// The runtime puts one into the extensions of every request that asks to
/// upgrade its connection (an `Upgrade` header, as a WebSocket handshake
/// has). Once upgraded, the connection belongs to the route that accepted
/// it and the framework no longer sees its requests; the route closes it
/// with this handle when what it serves there ends (the realtime plugin
/// does when a socket closes, so that a client cannot keep the connection
/// and its slot). Closing makes the server read the end of the stream: the
/// upgraded connection's reader stops and the socket is closed.
///
/// ```
/// use raclette::{Body, CloseConnection, http::Request};
///
/// fn when_done(request: &Request<Body>) {
///     if let Some(close) = request.extensions().get::<CloseConnection>() {
///         close.close();
///     }
/// }
/// # when_done(&Request::new(Body::empty()));
/// ```
#[derive(Clone)]
pub struct CloseConnection(Arc<dyn Fn() + Send + Sync>);

impl CloseConnection {
    /// A handle that runs `close` (runtime plumbing).
    pub(crate) fn new(close: impl Fn() + Send + Sync + 'static) -> CloseConnection {
        CloseConnection(Arc::new(close))
    }

    /// Closes the connection; closing it again does nothing.
    pub fn close(&self) {
        (self.0)();
    }
}

impl fmt::Debug for CloseConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloseConnection").finish_non_exhaustive()
    }
}

thread_local! {
    /// The client of the request running on this thread, if any.
    static CLIENT: Cell<Option<SocketAddr>> = const { Cell::new(None) };
}

/// The address of the client a request came from: the other end of its TCP
/// connection (behind a reverse proxy, the proxy's).
///
/// An extractor; `Option<ClientAddr>` is `None` where no raclette server
/// serves the request (a router called directly in a test). The server
/// hands it to the request while it runs, rather than as axum's
/// `ConnectInfo` extension, which it does not set: one extension less on
/// every request.
///
/// ```
/// use raclette::extract::ClientAddr;
///
/// async fn whoami(ClientAddr(addr): ClientAddr) -> String {
///     addr.ip().to_string()
/// }
/// # let _ = whoami;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub SocketAddr);

impl ClientAddr {
    /// The address of the client whose request is running, if any.
    fn current() -> Option<ClientAddr> {
        CLIENT.get().map(ClientAddr)
    }

    /// Makes `addr` the running request's client until the returned guard
    /// is dropped (runtime plumbing: the server enters it around each step
    /// of a request, on the thread that runs it).
    pub(crate) fn enter(addr: SocketAddr) -> ClientScope {
        ClientScope(CLIENT.replace(Some(addr)), PhantomData)
    }
}

/// While alive, [`ClientAddr`] gives the client it was entered with; the
/// one before comes back when it is dropped.
///
/// Not `Send`: it restores the thread it was entered on, so it must not be
/// held across an `.await`.
#[must_use = "the client is only set while the guard lives"]
pub struct ClientScope(Option<SocketAddr>, PhantomData<*const ()>);

impl Drop for ClientScope {
    fn drop(&mut self) {
        CLIENT.set(self.0);
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = HttpError;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, HttpError> {
        ClientAddr::current().ok_or_else(|| {
            HttpError::internal(
                "the client's address is only known to requests a raclette server serves",
            )
        })
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Option<Self>, Infallible> {
        Ok(ClientAddr::current())
    }
}
