//! The client's connection, for routes that take it over.

use std::{fmt, sync::Arc};

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
