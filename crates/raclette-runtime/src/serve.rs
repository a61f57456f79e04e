//! Connection handling: the accept loop, the cap on open connections, the
//! header, body and keep-alive timeouts, and graceful shutdown with a
//! deadline. The limits come from `[server]` in `raclette.toml`
//! ([`ServerConfig`]).
//!
//! - At most `max_connections` connections are open at once. When all are
//!   taken the server stops accepting, so new clients wait in the kernel's
//!   queue until one closes; clients already connected go on being served.
//! - A client has `header_read_timeout` to send a request's headers: from
//!   the connection's start for its first request, from the first byte for
//!   the next ones. Between requests a connection may stay idle for
//!   `keep_alive_timeout`, counted from when the last answer was fully
//!   handed to the network. Past either, the connection is closed.
//! - While the server has more of an answer to send than the network takes,
//!   the client must read some of it within `send_timeout`; a slow reader
//!   is served as long as it keeps reading, one that stopped is closed.
//! - A request's body must arrive within `request_body_timeout` of its
//!   headers; past that the request is answered with a JSON 408 and the
//!   connection closed. A handler that is slow to answer is not cut: route
//!   timeouts are the plugins' choice (`tower_http::timeout`).
//! - On shutdown the server stops accepting, closes idle connections, lets
//!   requests in progress finish, and closes whatever is left after
//!   `shutdown_timeout`.
//! - A closed connection lingers for up to two seconds, reading and
//!   dropping what the client still sends, so that a client that was cut
//!   off in the middle of a body (answered 413 or 408) reads the answer
//!   instead of a connection reset. One closed for passing its header,
//!   keep-alive or send timeout has no answer coming and does not linger:
//!   its slot is free at once.
//!
//! Every answer goes through the `Host` check and gets the security headers
//! ([`crate::security`]); error answers are JSON ([`crate::rejections`]).

use std::{
    convert::Infallible,
    future::Future,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    http::{HeaderValue, Request, Response, StatusCode, header},
    response::IntoResponse,
    routing::future::RouteFuture,
};
use futures_util::task::AtomicWaker;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use raclette::{HttpError, Identified};
use raclette_discovery::ServerConfig;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
    task::JoinSet,
    time::{Instant, Sleep},
};
use tower::Service;

use crate::{
    identify::Identifiers,
    rejections,
    security::{self, HostPolicy},
};

/// The most a connection buffers while reading a request (headers above it
/// answer 431).
const MAX_CONNECTION_BUFFER: usize = 64 * 1024;

/// How long a closed connection goes on reading what its client still
/// sends (see the module documentation).
const LINGER: Duration = Duration::from_secs(2);

/// The connection limits of a server.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    header_read_timeout: Duration,
    request_body_timeout: Duration,
    keep_alive_timeout: Duration,
    send_timeout: Duration,
    max_connections: usize,
    shutdown_timeout: Duration,
}

impl Limits {
    /// The shortest of the timeouts that close connections.
    fn shortest_timeout(&self) -> Duration {
        self.header_read_timeout
            .min(self.keep_alive_timeout)
            .min(self.send_timeout)
    }

    /// The limits `config` sets, with the documented defaults.
    pub(crate) fn new(config: &ServerConfig) -> Limits {
        Limits {
            header_read_timeout: config.header_read_timeout(),
            request_body_timeout: config.request_body_timeout(),
            keep_alive_timeout: config.keep_alive_timeout(),
            send_timeout: config.send_timeout(),
            max_connections: config
                .max_connections
                .map_or_else(default_max_connections, |n| n as usize),
            shutdown_timeout: config.shutdown_timeout(),
        }
    }
}

/// 10,000 connections or, when the process may open fewer files, its
/// open-file limit less a reserve (an eighth, at least 64) for the
/// database, the listener and the files it reads.
fn default_max_connections() -> usize {
    let most = ServerConfig::DEFAULT_MAX_CONNECTIONS as usize;
    match open_file_limit() {
        Some(limit) => {
            let usable = limit.saturating_sub((limit / 8).max(64));
            usize::try_from(usable).unwrap_or(most).clamp(16, most)
        }
        None => most,
    }
}

#[cfg(unix)]
fn open_file_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

/// What every connection of a server shares.
struct Shared {
    router: Router,
    identifiers: Identifiers,
    limits: Limits,
    hosts: HostPolicy,
    stopping: AtomicBool,
}

/// Serves `router` on `listener` until `shutdown` completes, then shuts
/// down gracefully within the configured deadline.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    identifiers: Identifiers,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let local = listener.local_addr()?;
    let limits = Limits::new(config);
    tracing::debug!(?limits, %local, "serving");
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let shared = Arc::new(Shared {
        router,
        identifiers,
        hosts: HostPolicy::new(config, local),
        limits,
        stopping: AtomicBool::new(false),
    });
    let (stop, stopped) = watch::channel(());
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut full = false;
    'accept: loop {
        let permit = tokio::select! {
            () = &mut shutdown => break 'accept,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        if slots.available_permits() == 0 && !full {
            tracing::warn!(
                max_connections = shared.limits.max_connections,
                "every connection slot is taken; new clients wait until one closes"
            );
        }
        full = slots.available_permits() == 0;
        let (stream, peer) = loop {
            tokio::select! {
                () = &mut shutdown => break 'accept,
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => break accepted,
                    Err(err) => accept_error(err).await,
                },
            }
        };
        let connection = connection(stream, peer, permit, shared.clone(), stopped.clone());
        connections.spawn(connection);
    }
    drop(listener);
    shared.stopping.store(true, Ordering::Relaxed);
    let _ = stop.send(());
    if !connections.is_empty() {
        tracing::info!(
            open = connections.len(),
            "waiting for open connections to finish"
        );
    }
    let deadline = tokio::time::sleep(shared.limits.shutdown_timeout);
    let mut deadline = std::pin::pin!(deadline);
    loop {
        tokio::select! {
            next = connections.join_next() => if next.is_none() { break },
            () = &mut deadline => {
                tracing::warn!(
                    left = connections.len(),
                    "shutdown deadline of {:?} reached; closing the connections left",
                    shared.limits.shutdown_timeout
                );
                connections.shutdown().await;
                break;
            }
        }
    }
    Ok(())
}

/// After a failed `accept`: nothing for a client's own failure, a pause
/// otherwise (out of file descriptors: wait for connections to close).
async fn accept_error(err: io::Error) {
    if matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %err, "cannot accept a connection; retrying shortly");
    tokio::time::sleep(Duration::from_millis(250)).await;
}

/// Serves one connection until it ends, passes a deadline, or shutdown
/// ends it.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    permit: OwnedSemaphorePermit,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<()>,
) {
    let _ = stream.set_nodelay(true);
    let state = Arc::new(ConnState::new(clock()));
    let io = TrackedIo {
        stream: Some(stream),
        permit: Some(permit),
        state: state.clone(),
        shared: shared.clone(),
        saw_eof: false,
        write_blocked: false,
    };
    let service = RequestService {
        shared: shared.clone(),
        conn: state.clone(),
        peer,
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .header_read_timeout(None)
        // Bounds what one connection buffers (headers, body chunks); hyper's
        // default of about 400 KiB let 200 connections hold 80 MB of headers.
        .max_buf_size(MAX_CONNECTION_BUFFER)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let mut stopping = false;
    // One timer for the connection's life, checked lazily: it fires at the
    // connection's deadline or after the shortest timeout, whichever is
    // first, and is moved from there. Every deadline is some event's time
    // plus a timeout, so no deadline can fall before the next check, and
    // requests need not wake this loop (which measurably costs throughput).
    let check_every = shared.limits.shortest_timeout();
    let timer = tokio::time::sleep(check_every);
    let mut timer = std::pin::pin!(timer);
    loop {
        let now = clock();
        let wait = match state.deadline(&shared.limits) {
            Some(deadline) if deadline <= now => {
                tracing::debug!(%peer, "closing a connection that passed its header, keep-alive or send timeout");
                state.timed_out.store(true, Ordering::Relaxed);
                return;
            }
            Some(deadline) => Duration::from_nanos(deadline - now).min(check_every),
            None => check_every,
        };
        timer.as_mut().reset(Instant::now() + wait);
        tokio::select! {
            // The connection first, in a fixed order: no random pick per
            // wake-up.
            biased;
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%peer, error = %err, "connection ended with an error");
                }
                return;
            }
            () = timer.as_mut() => {}
            _ = stop.changed(), if !stopping => {
                stopping = true;
                if state.is_quiet() {
                    return;
                }
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Where a connection is between requests, for its deadlines.
///
/// Only the connection's own task touches it (its reads, writes and
/// requests; after an upgrade, the task that took the connection over), so
/// relaxed atomics stand in for a lock. Times are [`clock`] readings, with
/// 0 for none.
struct ConnState {
    accepted: u64,
    /// Requests dispatched whose answer is not yet sent.
    in_flight: AtomicUsize,
    /// Whether a request was dispatched yet.
    served_any: AtomicBool,
    /// When the last answer was sent.
    idle_since: AtomicU64,
    /// When the first byte of the next request arrived, if it did.
    header_started: AtomicU64,
    /// Since when the network has taken none of what the server is sending,
    /// if it is waiting.
    write_blocked_since: AtomicU64,
    /// A [`raclette::CloseConnection`] was handed out: reads look at
    /// `closing` and leave their waker in `read_waker`.
    closable: AtomicBool,
    /// The route that took the connection over closed it.
    closing: AtomicBool,
    /// Closed for passing a deadline: no answer is on its way, so the
    /// connection does not linger (and its slot is free at once).
    timed_out: AtomicBool,
    read_waker: AtomicWaker,
    write_waker: AtomicWaker,
}

/// A time slot of [`ConnState`] that holds none.
const NONE: u64 = 0;

/// The monotonic clock (the one `Instant` reads) in nanoseconds, plus one
/// so that no reading is 0: cheaper to read and to subtract than an
/// `Instant`, which checks and normalises at every step, and read about
/// twice per request.
fn clock() -> u64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let seconds = u64::try_from(now.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(now.tv_nsec).unwrap_or(0);
    seconds
        .saturating_mul(1_000_000_000)
        .saturating_add(nanos)
        .saturating_add(1)
}

/// `duration` in nanoseconds, as [`clock`] counts.
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl ConnState {
    /// A connection accepted at `now` (a [`clock`] reading).
    fn new(now: u64) -> ConnState {
        ConnState {
            accepted: now,
            in_flight: AtomicUsize::new(0),
            served_any: AtomicBool::new(false),
            idle_since: AtomicU64::new(now),
            header_started: AtomicU64::new(NONE),
            write_blocked_since: AtomicU64::new(NONE),
            closable: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            timed_out: AtomicBool::new(false),
            read_waker: AtomicWaker::new(),
            write_waker: AtomicWaker::new(),
        }
    }

    /// The time in `slot`, if any.
    fn time(slot: &AtomicU64) -> Option<u64> {
        match slot.load(Ordering::Relaxed) {
            NONE => None,
            time => Some(time),
        }
    }

    /// When the connection is to be closed (a [`clock`] reading): none
    /// while a request is in flight, unless its client stopped reading the
    /// answer.
    fn deadline(&self, limits: &Limits) -> Option<u64> {
        let (since, timeout) = if let Some(blocked) = Self::time(&self.write_blocked_since) {
            (blocked, limits.send_timeout)
        } else if self.in_flight.load(Ordering::Relaxed) > 0 {
            return None;
        } else if !self.served_any.load(Ordering::Relaxed) {
            (self.accepted, limits.header_read_timeout)
        } else if let Some(started) = Self::time(&self.header_started) {
            (started, limits.header_read_timeout)
        } else {
            (Self::time(&self.idle_since)?, limits.keep_alive_timeout)
        };
        Some(since.saturating_add(nanos(timeout)))
    }

    /// The handle a request that may take the connection over gets.
    fn closer(self: &Arc<Self>) -> raclette::CloseConnection {
        self.closable.store(true, Ordering::Release);
        let state = Arc::downgrade(self);
        raclette::__private::close_connection(move || {
            if let Some(state) = state.upgrade() {
                state.closing.store(true, Ordering::Release);
                state.read_waker.wake();
                state.write_waker.wake();
            }
        })
    }

    /// The connection was closed by the route that took it over; `waker`
    /// (the reader's or the writer's) is woken when it is.
    fn is_closing(&self, waker: &AtomicWaker, cx: &Context<'_>) -> bool {
        if !self.closable.load(Ordering::Relaxed) {
            return false;
        }
        waker.register(cx.waker());
        self.closing.load(Ordering::Acquire)
    }

    /// No request in flight, none begun, and nothing left to send.
    fn is_quiet(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
            && self.header_started.load(Ordering::Relaxed) == NONE
            && self.write_blocked_since.load(Ordering::Relaxed) == NONE
    }

    // Each of the following is told the time (`now`, a [`clock`] reading)
    // or how to read it when it needs it.

    /// The network stopped taking what the server sends.
    fn write_blocked(&self, now: u64) {
        self.write_blocked_since.store(now, Ordering::Relaxed);
    }

    /// The network took some of what was waiting: the client is reading.
    /// An answer finished while it was waiting counts as sent from now on.
    fn write_unblocked(&self, now: u64) {
        self.write_blocked_since.store(NONE, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Relaxed) == 0 {
            self.idle_since.store(now, Ordering::Relaxed);
        }
    }

    fn bytes_read(&self, now: impl FnOnce() -> u64) {
        if self.in_flight.load(Ordering::Relaxed) == 0
            && self.header_started.load(Ordering::Relaxed) == NONE
        {
            self.header_started.store(now(), Ordering::Relaxed);
        }
    }

    // A load and a store rather than an atomic add: only the connection's
    // task counts (see above), and a locked instruction per request costs.
    fn request_started(&self) {
        let in_flight = self.in_flight.load(Ordering::Relaxed);
        self.in_flight.store(in_flight + 1, Ordering::Relaxed);
        self.served_any.store(true, Ordering::Relaxed);
        self.header_started.store(NONE, Ordering::Relaxed);
    }

    fn request_finished(&self, now: impl FnOnce() -> u64) {
        let in_flight = self.in_flight.load(Ordering::Relaxed);
        self.in_flight
            .store(in_flight.saturating_sub(1), Ordering::Relaxed);
        if in_flight == 1 {
            self.idle_since.store(now(), Ordering::Relaxed);
        }
    }
}

/// A request in flight, from its dispatch until its answer is sent (or
/// dropped).
struct InFlight(Arc<ConnState>);

impl InFlight {
    fn start(conn: Arc<ConnState>) -> InFlight {
        conn.request_started();
        InFlight(conn)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_finished(clock);
    }
}

/// The socket of a connection: notes when a request's first byte arrives
/// and when the client stops and resumes reading, holds the connection's
/// slot, and lingers when closed.
struct TrackedIo {
    stream: Option<TcpStream>,
    permit: Option<OwnedSemaphorePermit>,
    state: Arc<ConnState>,
    shared: Arc<Shared>,
    saw_eof: bool,
    /// The last write waited for the network (only changes are reported
    /// to the connection state).
    write_blocked: bool,
}

impl TrackedIo {
    fn stream(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(
            self.stream
                .as_mut()
                .expect("the stream is taken only on drop"),
        )
    }

    fn note_write<T>(&mut self, result: Poll<T>) -> Poll<T> {
        match (&result, self.write_blocked) {
            (Poll::Pending, false) => {
                self.write_blocked = true;
                self.state.write_blocked(clock());
            }
            (Poll::Ready(_), true) => {
                self.write_blocked = false;
                self.state.write_unblocked(clock());
            }
            _ => {}
        }
        result
    }
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.state.is_closing(&self.state.read_waker, cx) {
            // The end of the stream: whoever reads it stops.
            self.saw_eof = true;
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let result = self.stream().poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            if buf.filled().len() > before {
                self.state.bytes_read(clock);
            } else {
                self.saw_eof = true;
            }
        }
        result
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.state.is_closing(&self.state.write_waker, cx) {
            return Poll::Ready(Err(closed()));
        }
        let result = self.stream().poll_write(cx, buf);
        self.note_write(result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.state.is_closing(&self.state.write_waker, cx) {
            return Poll::Ready(Err(closed()));
        }
        let result = self.stream().poll_write_vectored(cx, bufs);
        self.note_write(result)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream
            .as_ref()
            .is_some_and(AsyncWrite::is_write_vectored)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.state.is_closing(&self.state.write_waker, cx) {
            return Poll::Ready(Err(closed()));
        }
        self.stream().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_shutdown(cx)
    }
}

/// What writing to a connection its route closed gives: a writer stuck on
/// a client that stopped reading stops too.
fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "the route that took the connection over closed it",
    )
}

impl Drop for TrackedIo {
    fn drop(&mut self) {
        let (Some(stream), permit) = (self.stream.take(), self.permit.take()) else {
            return;
        };
        if self.saw_eof
            || self.state.timed_out.load(Ordering::Relaxed)
            || self.shared.stopping.load(Ordering::Relaxed)
        {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(linger(stream, permit));
        }
    }
}

/// Closes the sending side, then reads and drops what the client still
/// sends until it closes too or [`LINGER`] passes.
async fn linger(mut stream: TcpStream, permit: Option<OwnedSemaphorePermit>) {
    let _ = stream.shutdown().await;
    let mut buffer = vec![0; 16 * 1024];
    let drain = async {
        while let Ok(n) = stream.read(&mut buffer).await {
            if n == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
    drop(permit);
}

/// The hyper service of one connection.
#[derive(Clone)]
struct RequestService {
    shared: Arc<Shared>,
    conn: Arc<ConnState>,
    peer: SocketAddr,
}

impl hyper::service::Service<Request<Incoming>> for RequestService {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = RequestFuture;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        // A route that takes the connection over closes it when it is done.
        // (hyper marks a request that may upgrade with `OnUpgrade`.)
        if request
            .extensions()
            .get::<hyper::upgrade::OnUpgrade>()
            .is_some()
        {
            request.extensions_mut().insert(self.conn.closer());
        }
        let in_flight = InFlight::start(self.conn.clone());
        RequestFuture::start(&self.shared, request, in_flight, self.peer)
    }
}

/// One request: `Host` check, body deadline, the plugins' identifiers, the
/// app, JSON errors, security headers. Each step runs with the client's
/// address as what `raclette::extract::ClientAddr` gives (cheaper than an
/// extension on every request).
///
/// A future of its own rather than an async block, which would have to be
/// boxed (a large allocation and copy per request): only the rare steps
/// that wait outside the app (an identifier reading the database, an
/// error answer read to be made JSON) are boxed.
struct RequestFuture {
    router: Router,
    stage: Stage,
    /// Set when the request's body did not arrive in time, with the limit.
    body_deadline: Option<(Arc<AtomicBool>, Duration)>,
    in_flight: Option<InFlight>,
    peer: SocketAddr,
    /// A `HEAD` request: its answer's `Content-Length` is the `GET`'s.
    head: bool,
}

/// Where a [`RequestFuture`] stands.
enum Stage {
    /// An identifier waits; then the request is routed or answered.
    Identifying(raclette::Identifying),
    /// The app handles the request.
    Routing(RouteFuture<Infallible>),
    /// A plain-text error answer is made JSON.
    Converting(Pin<Box<dyn Future<Output = Response<Body>> + Send>>),
    /// Answered without the app.
    Answered(Option<Response<Body>>),
}

impl RequestFuture {
    fn start(
        shared: &Shared,
        request: Request<Incoming>,
        in_flight: InFlight,
        peer: SocketAddr,
    ) -> Self {
        let mut future = RequestFuture {
            router: shared.router.clone(),
            stage: Stage::Answered(None),
            body_deadline: None,
            in_flight: Some(in_flight),
            peer,
            head: request.method() == axum::http::Method::HEAD,
        };
        if let Err(refusal) = shared.hosts.check(&request) {
            future.stage = Stage::Answered(Some(refusal.into_response()));
            return future;
        }
        // A request without a body (most reads) needs no body deadline.
        let request = if request.body().is_end_stream() {
            request.map(Body::new)
        } else {
            let timed_out = Arc::new(AtomicBool::new(false));
            let limit = shared.limits.request_body_timeout;
            future.body_deadline = Some((timed_out.clone(), limit));
            request.map(|body| {
                Body::new(DeadlineBody {
                    body,
                    deadline: Instant::now() + limit,
                    sleep: None,
                    timed_out,
                    limit,
                })
            })
        };
        let _client = raclette::__private::enter_client(peer);
        future.stage = match shared.identifiers.identify_now(request) {
            Identified::Ready(request) => Stage::Routing(future.router.call(request)),
            Identified::Answered(answer) => future.answered(answer),
            Identified::Later(identifying) => Stage::Identifying(identifying),
        };
        future
    }

    /// The stage after the app (or an identifier) answered.
    fn answered(&self, response: Response<Body>) -> Stage {
        if let Some((timed_out, limit)) = &self.body_deadline
            && timed_out.load(Ordering::Relaxed)
        {
            return Stage::Answered(Some(body_timeout(*limit)));
        }
        if rejections::is_plain_error(&response) {
            Stage::Converting(Box::pin(rejections::into_json(response)))
        } else {
            Stage::Answered(Some(response))
        }
    }
}

impl Future for RequestFuture {
    type Output = Result<Response<TrackedBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let _client = raclette::__private::enter_client(this.peer);
        loop {
            this.stage = match &mut this.stage {
                Stage::Identifying(identifying) => match ready!(identifying.as_mut().poll(cx)) {
                    Ok(request) => Stage::Routing(this.router.call(request)),
                    Err(answer) => this.answered(answer),
                },
                Stage::Routing(routing) => match ready!(Pin::new(routing).poll(cx)) {
                    Ok(response) => this.answered(response),
                    Err(never) => match never {},
                },
                Stage::Converting(converting) => {
                    let response = ready!(converting.as_mut().poll(cx));
                    Stage::Answered(Some(response))
                }
                Stage::Answered(answer) => {
                    let mut response = answer.take().unwrap_or_else(|| {
                        HttpError::internal("a request was answered twice").into_response()
                    });
                    security::add_headers(response.headers_mut());
                    if !this.head {
                        true_content_length(&mut response);
                    }
                    let in_flight = this.in_flight.take();
                    return Poll::Ready(Ok(response.map(|body| TrackedBody {
                        body,
                        _in_flight: in_flight,
                    })));
                }
            };
        }
    }
}

/// Makes an answer's `Content-Length` match its body when the body's size
/// is known: a layer that rewrote the body of an answer that had one
/// (the data API's answers set theirs) may have left the old length, which
/// would break the connection's framing.
fn true_content_length(response: &mut Response<Body>) {
    let status = response.status();
    if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return;
    }
    let Some(size) = response.body().size_hint().exact() else {
        return;
    };
    let headers = response.headers_mut();
    let stated = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.parse::<u64>().ok());
    // Stated and wrong: set right (an answer without one gets it from hyper).
    if stated.is_some_and(|stated| stated != Some(size)) {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    }
}

/// The answer to a request whose body did not arrive in time.
fn body_timeout(limit: Duration) -> Response<Body> {
    let mut response = HttpError::new(
        StatusCode::REQUEST_TIMEOUT,
        format!("the request body did not arrive within {limit:?}"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// An answer's body; the request counts as in flight until it is sent.
struct TrackedBody {
    body: Body,
    _in_flight: Option<InFlight>,
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request body that fails once its deadline has passed while the
/// handler waits for more of it.
struct DeadlineBody {
    body: Incoming,
    deadline: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
    timed_out: Arc<AtomicBool>,
    limit: Duration,
}

/// The error of a [`DeadlineBody`] past its deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
struct BodyTimeout(Duration);

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.as_mut().poll(cx).is_ready() {
            this.timed_out.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(BodyTimeout(this.limit).into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_connection_cap_fits_the_file_limit() {
        let cap = default_max_connections();
        assert!((16..=10_000).contains(&cap), "{cap}");
        if let Some(limit) = open_file_limit() {
            assert!(cap as u64 <= limit.max(16), "{cap} within {limit}");
        }
    }

    /// The [`clock`] reading `seconds` after some start.
    fn at(seconds: u64) -> u64 {
        1 + seconds * 1_000_000_000
    }

    #[test]
    fn deadlines_follow_the_connection_phase() {
        let limits = Limits::new(&ServerConfig::default());
        let state = ConnState::new(at(0));
        let header_read = nanos(limits.header_read_timeout);
        assert_eq!(state.deadline(&limits), Some(at(0) + header_read));
        state.bytes_read(|| at(1));
        assert_eq!(
            state.deadline(&limits),
            Some(at(0) + header_read),
            "the first request's headers are due from the connection's start"
        );
        state.request_started();
        assert_eq!(state.deadline(&limits), None, "no deadline while in flight");
        state.request_finished(|| at(100));
        assert_eq!(
            state.deadline(&limits),
            Some(at(100) + nanos(limits.keep_alive_timeout))
        );
        assert!(state.is_quiet());
        state.bytes_read(|| at(105));
        assert_eq!(state.deadline(&limits), Some(at(105) + header_read));
        assert!(!state.is_quiet());
    }

    #[test]
    fn a_client_that_stops_reading_has_the_send_timeout() {
        let limits = Limits::new(&ServerConfig::default());
        let state = ConnState::new(at(0));
        state.request_started();
        state.write_blocked(at(1));
        let send = nanos(limits.send_timeout);
        assert_eq!(
            state.deadline(&limits),
            Some(at(1) + send),
            "a request in flight whose answer waits for the client"
        );
        state.request_finished(|| at(2));
        assert_eq!(
            state.deadline(&limits),
            Some(at(1) + send),
            "an answer handed over but not yet sent is no idle connection"
        );
        assert!(!state.is_quiet());
        state.write_unblocked(at(500));
        assert_eq!(
            state.deadline(&limits),
            Some(at(500) + nanos(limits.keep_alive_timeout)),
            "idle from when the answer went out"
        );
    }

    #[tokio::test]
    async fn a_connection_closed_for_a_timeout_frees_its_slot_at_once() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = ServerConfig::default();
        let shared = Arc::new(Shared {
            router: Router::new(),
            identifiers: Identifiers::default(),
            limits: Limits::new(&config),
            hosts: HostPolicy::new(&config, addr),
            stopping: AtomicBool::new(false),
        });
        let slots = Arc::new(Semaphore::new(1));
        let tracked = |stream, state| TrackedIo {
            stream: Some(stream),
            permit: Some(slots.clone().try_acquire_owned().unwrap()),
            state,
            shared: shared.clone(),
            saw_eof: false,
            write_blocked: false,
        };

        // Closed otherwise (an answer may be on its way): it lingers, and
        // keeps its slot while it does.
        let client = TcpStream::connect(addr).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        drop(tracked(stream, Arc::new(ConnState::new(clock()))));
        assert_eq!(slots.available_permits(), 0, "a lingering connection");
        drop(client);
        drop(slots.acquire().await.unwrap());

        // Closed for passing a deadline: no answer is coming.
        let _client = TcpStream::connect(addr).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let state = Arc::new(ConnState::new(clock()));
        state.timed_out.store(true, Ordering::Relaxed);
        drop(tracked(stream, state));
        assert_eq!(slots.available_permits(), 1, "the slot is free at once");
    }

    #[test]
    fn the_clock_goes_on_as_instant_does() {
        let (before, instant) = (clock(), Instant::now());
        std::thread::sleep(Duration::from_millis(20));
        let (after, elapsed) = (clock(), instant.elapsed());
        assert!(before > NONE);
        assert!(after - before >= nanos(Duration::from_millis(20)));
        assert!(after - before <= nanos(elapsed) + nanos(Duration::from_millis(5)));
    }
}
