//! Server half of the built-in `raclette__realtime` plugin: socket.io
//! channels from data operations to browsers.
//!
//! The plugin serves socket.io (WebSocket transport) at
//! `/plugin/raclette/realtime/socket.io/` and provides the app's
//! [`raclette::Broadcaster`]: every message a data operation or a
//! [`raclette::Broadcast`] sends reaches the sockets of the message's
//! project, as the socket.io event named by the channel key
//! (`plugin_pacifico__todo--todoCreated`) with the message as its argument.
//!
//! - **Authenticated like HTTP.** The connection request is an ordinary
//!   route of this plugin: it carries the session cookie or bearer token,
//!   passes the app's sign-in middleware and route guard (anonymous
//!   requests get 401 when authentication is required), and a request
//!   from another site's page (`Origin` naming another host) gets 403. The
//!   socket joins the request's project and only ever receives that
//!   project's messages; the channels of plugins that are not enabled are
//!   never delivered, and a data operation's messages only reach sockets
//!   whose user may read its type (the permission of its read routes).
//!   When the user's access ends or narrows (sign-out, password change,
//!   disabled, no longer admin, token revoked, role changed, removed from
//!   a project, switched project: the [`raclette::events::AccessEnded`]
//!   event), their sockets
//!   on every instance are closed; the browser connects again and is
//!   authenticated again, or refused. A connection opens one socket, none
//!   once its user's access ended, and every socket is closed
//!   `reauthenticate_seconds` after its connection was authenticated (an
//!   expired session or token, or an end of access whose message was lost,
//!   takes effect by then).
//! - **Several instances.** With `adapter = "redis"` every message is also
//!   published on a Redis pub/sub channel, and each instance delivers the
//!   messages of the others to its own sockets. When Redis is unreachable
//!   HTTP goes on and local delivery too; when it is back, every socket of
//!   every instance is told to resync.
//! - **From the browser.** An event a browser emits (`$socket.emit(event,
//!   data)`) reaches the event bus as a [`raclette::events::SocketMessage`]
//!   with the sender's user and project; events named `raclette:…` are
//!   reserved.
//! - **Backpressure.** Each connection has a bounded queue (`queue`
//!   messages). When a message finds a socket's queue full, the sockets of
//!   that project are told to resync (`raclette:resync`, on which the
//!   browser runtime fetches its live reads again); the one whose queue is
//!   full gets nothing more until it has room for that. A slow client
//!   never holds up the others nor grows the server's memory past its
//!   queue.
//!
//! Choices: socket.io (the original framework's protocol, so its browser
//! client works) is `socketioxide`; a message is encoded once and handed to
//! every socket of its project. Between instances the plugin uses Redis
//! pub/sub through `fred` (which reconnects and subscribes again by itself)
//! rather than the `socketioxide-redis` adapter: that adapter delivers
//! nothing, not even locally, while Redis is down, and swallows the other
//! instances' full queues, so their clients would never learn they missed
//! something. Here each instance delivers the others' messages to its own
//! sockets like its own, with the same backpressure.

mod fanout;
mod hub;

use std::{num::NonZeroUsize, time::Duration};

use raclette::{
    Body, CloseConnection, CurrentUser, HttpError, Project, Registrar, Routes,
    events::AccessEnded,
    http::{HeaderMap, HeaderValue, Request, StatusCode, header},
    response::IntoResponse,
};
use serde::Deserialize;
use socketioxide::{ParserConfig, SocketIo, TransportType};
use tower::ServiceExt;

use hub::Hub;
pub use hub::RESYNC_EVENT;

/// Where browsers connect (socket.io's `path` option).
pub const SOCKET_PATH: &str = "/plugin/raclette/realtime/socket.io";

/// Options of the plugin (`[realtime]` in `raclette.toml`, the short form
/// of `[plugins.raclette__realtime.options]`).
#[derive(Debug, Clone, Deserialize)]
pub struct Options {
    /// Where messages go besides this process.
    pub adapter: Adapter,
    /// The Redis server of the `redis` adapter: `redis://` or, with TLS,
    /// `rediss://` (also `redis-sentinel://`, `redis-cluster://`).
    #[serde(deserialize_with = "redis_url")]
    pub url: String,
    /// The Redis pub/sub channel of this app.
    pub channel: String,
    /// Messages queued per connection.
    pub queue: NonZeroUsize,
    /// The largest message a browser may send, in bytes.
    pub max_payload: u64,
    /// Seconds between the server's pings.
    pub ping_interval_seconds: NonZeroUsize,
    /// Seconds the server waits for a ping's answer.
    pub ping_timeout_seconds: NonZeroUsize,
    /// Seconds a socket lives before its browser connects and is
    /// authenticated again.
    pub reauthenticate_seconds: NonZeroUsize,
    /// Sockets one user may have open on one server at once.
    pub max_sockets_per_user: NonZeroUsize,
}

/// A Redis URL: one whose scheme the Redis client takes.
fn redis_url<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    const SCHEMES: [&str; 4] = ["redis", "rediss", "redis-sentinel", "redis-cluster"];
    let url = String::deserialize(deserializer)?;
    match url.split_once("://") {
        Some((scheme, _)) if SCHEMES.contains(&scheme) => Ok(url),
        _ => Err(serde::de::Error::custom(format!(
            "`{url}` is not a Redis URL: expected redis://host:port (rediss:// with TLS)"
        ))),
    }
}

/// Binary attachments one message from a browser may carry.
const MAX_ATTACHMENTS: usize = 16;

/// How long a connection may wait before opening its socket.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where messages go besides this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Adapter {
    /// One server process: messages stay in it.
    Memory,
    /// Several instances: messages are fanned out through Redis pub/sub.
    Redis,
}

/// The largest WebSocket message or frame read: the largest payload plus
/// room for the engine.io and socket.io framing.
fn frame_limit(max_payload: u64) -> usize {
    usize::try_from(max_payload)
        .unwrap_or(usize::MAX)
        .saturating_add(1024)
}

fn seconds(value: NonZeroUsize) -> Duration {
    Duration::from_secs(value.get() as u64)
}

/// Entry point called by the framework.
pub fn plugin(app: &mut Registrar) -> raclette::Result<()> {
    let options: Options = app.options()?;
    let permissions: Vec<String> = app
        .app_plugins()
        .iter()
        .filter(|plugin| plugin.enabled)
        .flat_map(|plugin| plugin.permissions.keys().cloned())
        .collect();
    let access = hub::Access {
        anonymous: permissions
            .iter()
            .filter(|permission| app.anonymous_may(permission))
            .cloned()
            .collect(),
        permissions,
        lifetime: seconds(options.reauthenticate_seconds),
        per_user: options.max_sockets_per_user.get(),
        connect_timeout: CONNECT_TIMEOUT,
    };
    let enabled = app
        .app_plugins()
        .iter()
        .filter(|plugin| plugin.enabled)
        .map(|plugin| plugin.key.clone())
        .collect();
    let (service, io) = SocketIo::builder()
        .req_path(SOCKET_PATH)
        .transports([TransportType::Websocket])
        .max_buffer_size(options.queue.get())
        .max_payload(options.max_payload)
        // A WebSocket message is never read past the largest payload (the
        // default would buffer 64 MiB from any client).
        .ws_max_message_size(frame_limit(options.max_payload))
        .ws_max_frame_size(frame_limit(options.max_payload))
        // Browsers send little (pongs, an occasional event): a small read
        // buffer, grown when a larger message comes, keeps idle
        // connections cheap.
        .ws_read_buffer_size(1024)
        // Binary attachments of a message count against the same limit
        // (socketioxide would buffer 10 MB of them per connection), and an
        // unfinished message is dropped soon.
        .with_parser(
            ParserConfig::common()
                .max_incoming_binary_buf_size(frame_limit(options.max_payload))
                .max_incoming_binaries(MAX_ATTACHMENTS)
                .packet_completion_timeout(CONNECT_TIMEOUT),
        )
        .ping_interval(seconds(options.ping_interval_seconds))
        .ping_timeout(seconds(options.ping_timeout_seconds))
        .connect_timeout(CONNECT_TIMEOUT)
        .build_svc();
    let hub = Hub::new(io, enabled, access);
    hub.accept_sockets(app.events());
    app.provide_broadcaster(hub::HubBroadcaster::new(hub.clone()))?;
    let ending = hub.clone();
    app.listen(move |ended: AccessEnded| {
        let hub = ending.clone();
        async move {
            // One another instance reported was handled as it arrived.
            if !ended.from_another_instance {
                hub.end_user_everywhere(&ended.user);
            }
        }
    });
    let starting = hub.clone();
    app.on_before_mount(move || async move {
        if options.adapter == Adapter::Redis {
            let fanout = fanout::Fanout::connect(&options.url, &options.channel, starting.clone())
                .await
                .map_err(|err| {
                    raclette::Error::Other(
                        format!(
                            "raclette__realtime: cannot reach Redis at {} ([realtime] url; it must be reachable when the server starts): {err}",
                            options.url
                        )
                        .into(),
                    )
                })?;
            starting.set_fanout(fanout);
        }
        starting.start();
        Ok(())
    });
    app.routes(
        Routes::new()
            .get("/socket.io/", move |request: Request<Body>| {
                let service = service.clone();
                async move {
                    if let Err(refused) = same_site(&request) {
                        return refused.into_response();
                    }
                    let mut request = kept_for_the_socket(request);
                    request.extensions_mut().insert(hub::Connection::new());
                    match service.oneshot(request).await {
                        Ok(response) => response.map(Body::new),
                        Err(never) => match never {},
                    }
                }
            })
            .summary(
                "Opens a socket.io connection (WebSocket) that receives the project's channels",
            )
            .fails(StatusCode::FORBIDDEN, "the page is from another site"),
    )?;
    let stop = hub.clone();
    app.on_before_unmount(move || async move {
        stop.close().await;
        Ok(())
    });
    Ok(())
}

/// The connection request as its socket keeps it for its whole life:
/// without its credentials (they were checked; the user and project are in
/// its extensions), with its own copies of the URI and header values, and
/// with only the extensions the socket uses. As parsed, the URI and headers
/// share the connection's read buffer (8 KiB), which every idle socket
/// would otherwise hold on to.
fn kept_for_the_socket(request: Request<Body>) -> Request<Body> {
    let (mut parts, body) = request.into_parts();
    let mut extensions = hyper::http::Extensions::new();
    if let Some(upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() {
        extensions.insert(upgrade);
    }
    if let Some(user) = parts.extensions.remove::<CurrentUser>() {
        extensions.insert(user);
    }
    if let Some(project) = parts.extensions.remove::<Project>() {
        extensions.insert(project);
    }
    if let Some(close) = parts.extensions.remove::<CloseConnection>() {
        extensions.insert(close);
    }
    parts.extensions = extensions;
    let mut headers = HeaderMap::with_capacity(parts.headers.len());
    for (name, value) in &parts.headers {
        if name == header::COOKIE || name == header::AUTHORIZATION {
            continue;
        }
        if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
            headers.append(name.clone(), value);
        }
    }
    parts.headers = headers;
    if let Ok(uri) = parts.uri.to_string().parse() {
        parts.uri = uri;
    }
    Request::from_parts(parts, body)
}

/// Browsers send `Origin` with a WebSocket request; one that names another
/// host than the request's is another site's page using the user's cookie
/// (cross-site WebSocket hijacking).
fn same_site(request: &Request<Body>) -> Result<(), HttpError> {
    let Some(origin) = request.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, rest)| rest);
    match (origin_host, host) {
        (Some(origin), Some(host)) if origin.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "a realtime connection must come from a page of this app (the Origin header names another site)",
        )
        .with_field("Origin")),
    }
}
