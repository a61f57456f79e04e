//! The sockets of this process: which project each one is in, delivering
//! messages to them one by one, and telling a client that missed messages
//! to resync.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use raclette::{
    BroadcastMessage, Broadcaster, CloseConnection, CurrentUser, Project,
    events::{AccessEnded, Events, SocketMessage},
    tracing,
};
use serde_json::value::RawValue;
use socketioxide::{
    BroadcastError, SendError, SocketError, SocketIo,
    extract::{Event, SocketRef, TryData},
    handler::ConnectHandler,
    socket::Sid,
};
use tokio::sync::mpsc;

use crate::fanout::Fanout;

/// The event a client gets when it missed messages: its queue was full, the
/// server's outgoing queue overflowed, or Redis was unreachable. The
/// browser runtime then fetches its live reads again.
pub const RESYNC_EVENT: &str = "raclette:resync";

/// Messages waiting for the delivery task; past this the newest are
/// dropped and every socket is told to resync.
const OUTGOING_QUEUE: usize = 4096;

/// The room of the sockets whose queue was full: broadcasts leave them out.
const LAGGING_ROOM: &str = "raclette:lagging";

/// How often a socket whose queue was full is tried again.
const RETRY_FULL_EVERY: Duration = Duration::from_millis(100);

/// The socket.io room of a project's sockets.
fn room(project: &str) -> String {
    format!("project:{project}")
}

/// The socket.io room of a project's sockets whose user holds
/// `permission` there.
fn permission_room(project: &str, permission: &str) -> String {
    format!("project:{project}\u{0}{permission}")
}

/// The socket.io room of a user's sockets.
fn user_room(user: &str) -> String {
    format!("user:{user}")
}

/// A message ready to send: its socket.io event (the channel key), its
/// project and its JSON, serialized once for every socket.
pub(crate) struct Outgoing {
    pub(crate) plugin_key: String,
    pub(crate) channel_key: String,
    pub(crate) project: String,
    /// Only sockets whose user holds it get the message.
    pub(crate) permission: Option<String>,
    pub(crate) payload: Box<RawValue>,
}

/// The id of `socket`'s user, unless it is anonymous.
fn user_id(socket: &SocketRef) -> Option<String> {
    socket
        .req_parts()
        .extensions
        .get::<CurrentUser>()
        .and_then(|user| user.id().map(str::to_owned))
}

/// How long after a socket closes its connection is closed.
const CLOSE_CONNECTION_AFTER: Duration = Duration::from_secs(2);

/// When the sockets a user opened right after their access ended are closed
/// once more: longer than the sign-in plugin keeps what it read in memory
/// (`cache_seconds`, 5 by default) and than a slow authentication takes.
const CHECK_AGAIN_AFTER: Duration = Duration::from_secs(10);

/// One connection request (an engine.io connection), put into its
/// extensions by the connection route: when it was authenticated, and
/// whether its one socket was opened already.
#[derive(Debug)]
pub(crate) struct Connection {
    started: Instant,
    opened: AtomicBool,
}

impl Connection {
    pub(crate) fn new() -> Arc<Connection> {
        Arc::new(Connection {
            started: Instant::now(),
            opened: AtomicBool::new(false),
        })
    }
}

/// Who may get what: the permissions plugins declare, which of them
/// anonymous sockets may use, how long a socket lives before its browser
/// must authenticate again.
pub(crate) struct Access {
    /// Every permission the enabled plugins declare.
    pub(crate) permissions: Vec<String>,
    /// Those an anonymous request may use (`[auth]`).
    pub(crate) anonymous: HashSet<String>,
    /// A socket is closed this long after its connection was authenticated.
    pub(crate) lifetime: Duration,
    /// How long a connection may wait before opening its socket.
    pub(crate) connect_timeout: Duration,
    /// Sockets one user may have open at once.
    pub(crate) per_user: usize,
}

/// The sockets of this process and how messages reach them.
pub(crate) struct Hub {
    io: SocketIo,
    /// Keys of the enabled plugins: the only channels delivered.
    enabled: HashSet<String>,
    access: Access,
    /// When each user's access last ended, for connections authenticated
    /// before that which have not opened their socket yet.
    ended: Mutex<HashMap<String, Instant>>,
    outgoing: mpsc::Sender<Arc<Outgoing>>,
    incoming: Mutex<Option<mpsc::Receiver<Arc<Outgoing>>>>,
    /// Sockets whose queue was full: they get nothing until they got
    /// [`RESYNC_EVENT`].
    lagging: Mutex<HashSet<Sid>>,
    fanout: OnceLock<Fanout>,
    /// The app's event bus, once sockets are accepted.
    events: OnceLock<Events>,
}

impl Hub {
    pub(crate) fn new(io: SocketIo, enabled: HashSet<String>, access: Access) -> Arc<Hub> {
        let (outgoing, incoming) = mpsc::channel(OUTGOING_QUEUE);
        Arc::new(Hub {
            io,
            enabled,
            access,
            ended: Mutex::new(HashMap::new()),
            outgoing,
            incoming: Mutex::new(Some(incoming)),
            lagging: Mutex::new(HashSet::default()),
            fanout: OnceLock::new(),
            events: OnceLock::new(),
        })
    }

    /// Accepts sockets: each joins the project its connection request ran
    /// in (the sign-in middleware put it there; without one, the default
    /// project), and the rooms of the permissions its user holds there.
    /// A connection opens one socket, and none once its user's access
    /// ended. What a browser sends goes to the event bus as a
    /// [`SocketMessage`].
    pub(crate) fn accept_sockets(self: &Arc<Self>, events: Events) {
        let _ = self.events.set(events.clone());
        let hub = self.clone();
        // Everything happens before the client hears that its socket is
        // open, so that nothing it sends or is sent right after is missed.
        let open = move |socket: SocketRef| {
            let hub = hub.clone();
            let events = events.clone();
            async move {
                if !hub.may_open(&socket) {
                    return Err("this connection may not open a socket: connect again");
                }
                if hub.too_many(&socket) {
                    return Err("too many open sockets for this user: close some tabs");
                }
                hub.set_up(&socket, events);
                Ok(())
            }
        };
        self.io.ns("/", (async |_: SocketRef| {}).with(open));
    }

    /// Puts `socket` into its rooms and passes what it sends to `events`.
    fn set_up(&self, socket: &SocketRef, events: Events) {
        let project = socket
            .req_parts()
            .extensions
            .get::<Project>()
            .cloned()
            .unwrap_or_default();
        let user = socket
            .req_parts()
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .unwrap_or_else(CurrentUser::anonymous);
        socket.join(room(project.id()));
        for permission in &self.access.permissions {
            let holds = match user.get() {
                Some(user) => user.has_permission(permission),
                None => self.access.anonymous.contains(permission),
            };
            if holds {
                socket.join(permission_room(project.id(), permission));
            }
        }
        if let Some(id) = user.id() {
            socket.join(user_room(id));
        }
        // A connection serves one socket: when the socket closes, so does the
        // connection, which would otherwise stay open as long as its client
        // answers pings, holding a connection slot outside the per-user cap.
        if let Some(close) = socket
            .req_parts()
            .extensions
            .get::<CloseConnection>()
            .cloned()
        {
            socket.on_disconnect(move || {
                // After a moment, so that the client reads why (`41`: a
                // browser then connects again at once); a client that
                // does not read gets its connection closed all the same.
                tokio::spawn(async move {
                    tokio::time::sleep(CLOSE_CONNECTION_AFTER).await;
                    close.close();
                });
                std::future::ready(())
            });
        }
        socket.on_fallback(
            move |Event(event): Event, TryData(data): TryData<serde_json::Value>| {
                if !event.starts_with("raclette:") {
                    drop(events.emit(SocketMessage {
                        user: user.clone(),
                        project: project.clone(),
                        event,
                        data: data.unwrap_or_default(),
                    }));
                }
                std::future::ready(())
            },
        );
    }

    /// Whether `socket` may open: its connection's first socket, and its
    /// user's access did not end since the connection was authenticated.
    fn may_open(&self, socket: &SocketRef) -> bool {
        let Some(connection) = socket.req_parts().extensions.get::<Arc<Connection>>() else {
            return false;
        };
        if connection.opened.swap(true, Ordering::AcqRel) {
            tracing::debug!(socket = %socket.id, "refused a second socket on one connection");
            return false;
        }
        let Some(user) = user_id(socket) else {
            return true;
        };
        let ended = self.ended.lock().expect("hub lock");
        ended
            .get(&user)
            .is_none_or(|ended| *ended < connection.started)
    }

    /// Whether `socket`'s user has as many sockets open as they may.
    fn too_many(&self, socket: &SocketRef) -> bool {
        let Some(user) = user_id(socket) else {
            return false;
        };
        self.io.to(user_room(&user)).sockets().len() >= self.access.per_user
    }

    /// Closes the sockets whose connection was authenticated longer ago
    /// than their lifetime: their browsers connect again and are
    /// authenticated again (an expired session, a changed role or a lost
    /// message that a user's access ended all take effect by then).
    fn close_old_sockets(&self) {
        for socket in self.io.sockets() {
            let old = socket
                .req_parts()
                .extensions
                .get::<Arc<Connection>>()
                .is_none_or(|c| c.started.elapsed() >= self.access.lifetime);
            if old {
                let _ = socket.disconnect();
            }
        }
    }

    /// Starts the task that delivers messages; called once the server runs.
    pub(crate) fn start(self: &Arc<Self>) {
        let Some(mut incoming) = self.incoming.lock().expect("hub lock").take() else {
            return;
        };
        let sweeping = Arc::downgrade(self);
        let every = (self.access.lifetime / 10).max(Duration::from_millis(100));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            loop {
                ticks.tick().await;
                let Some(hub) = sweeping.upgrade() else {
                    return;
                };
                hub.close_old_sockets();
            }
        });
        let hub = self.clone();
        tokio::spawn(async move {
            while let Some(message) = incoming.recv().await {
                hub.deliver_local(&message).await;
                if let Some(fanout) = hub.fanout.get() {
                    fanout.publish(&message);
                }
            }
        });
    }

    /// Sends every message to the other instances too.
    pub(crate) fn set_fanout(&self, fanout: Fanout) {
        let _ = self.fanout.set(fanout);
    }

    /// Closes every socket (their browsers connect again, to the next
    /// server) and the link to Redis: the server is shutting down.
    pub(crate) async fn close(&self) {
        self.io.close().await;
        if let Some(fanout) = self.fanout.get() {
            fanout.close();
        }
    }

    /// How long a socket lives before it is authenticated again.
    pub(crate) fn socket_lifetime(&self) -> Duration {
        self.access.lifetime
    }

    /// Whether messages of plugin `key` may be delivered.
    pub(crate) fn is_enabled(&self, key: &str) -> bool {
        self.enabled.contains(key)
    }

    /// Hands `message` to the delivery task; never waits.
    fn send(self: &Arc<Self>, message: BroadcastMessage) {
        if !self.is_enabled(&message.plugin_key) {
            tracing::warn!(channel = %message.channel_key, "not delivered: the plugin is not enabled");
            return;
        }
        let payload = match serde_json::value::to_raw_value(&message) {
            Ok(payload) => payload,
            Err(err) => {
                tracing::error!(channel = %message.channel_key, error = %err, "not delivered: the message is not JSON");
                return;
            }
        };
        let outgoing = Arc::new(Outgoing {
            plugin_key: message.plugin_key,
            channel_key: message.channel_key,
            project: message.project,
            permission: message.permission,
            payload,
        });
        if self.outgoing.try_send(outgoing).is_err() {
            tracing::warn!(
                "realtime messages arrive faster than they can be delivered; every socket will resync"
            );
            self.resync_all();
        }
    }

    /// Sends `message` to this process's sockets of its project, encoded
    /// once for all. When some queue was full, every socket of the project
    /// is told to resync (the broadcast does not say whose queue it was);
    /// those whose queue is full get nothing more until they have room for
    /// that.
    pub(crate) async fn deliver_local(self: &Arc<Self>, message: &Outgoing) {
        let audience = match &message.permission {
            Some(permission) => permission_room(&message.project, permission),
            None => room(&message.project),
        };
        let sent = self
            .io
            .to(audience)
            .except(LAGGING_ROOM)
            .emit(&message.channel_key, &*message.payload)
            .await;
        match sent {
            Ok(()) => {}
            Err(BroadcastError::Socket(errors))
                if errors
                    .iter()
                    .any(|e| matches!(e, SocketError::InternalChannelFull)) =>
            {
                self.resync_project(&message.project);
            }
            Err(err) => {
                tracing::debug!(channel = %message.channel_key, error = %err, "not delivered to every socket")
            }
        }
    }

    /// Tells this process's sockets of `project` to resync.
    fn resync_project(self: &Arc<Self>, project: &str) {
        for socket in self.io.to(room(project)).except(LAGGING_ROOM).sockets() {
            if let Err(SendError::Socket(SocketError::InternalChannelFull)) =
                socket.emit(RESYNC_EVENT, &())
            {
                self.lagging(socket);
            }
        }
    }

    /// Tells every socket of this process to resync: messages may have
    /// been lost on the way.
    pub(crate) fn resync_all(self: &Arc<Self>) {
        for socket in self.io.sockets() {
            if let Err(SendError::Socket(SocketError::InternalChannelFull)) =
                socket.emit(RESYNC_EVENT, &())
            {
                self.lagging(socket);
            }
        }
    }

    /// Closes this process's sockets of `user`: their access ended, so
    /// their browsers connect again and are authenticated again (or
    /// refused).
    pub(crate) fn end_user(self: &Arc<Self>, user: &str) {
        let now = Instant::now();
        {
            let mut ended = self.ended.lock().expect("hub lock");
            let keep = self.access.connect_timeout * 2;
            ended.retain(|_, at| now.duration_since(*at) < keep);
            ended.insert(user.to_owned(), now);
        }
        self.close_sockets_of(user, None);
        // A connection authenticated just after the end may have been
        // authenticated from what a cache or a slow query read before it:
        // its socket is closed once more when that can no longer be.
        let hub = self.clone();
        let user = user.to_owned();
        tokio::spawn(async move {
            tokio::time::sleep(CHECK_AGAIN_AFTER).await;
            hub.close_sockets_of(&user, Some(now));
        });
    }

    /// Closes this process's sockets of `user`; with `since`, only those
    /// whose connection was authenticated after it.
    fn close_sockets_of(&self, user: &str, since: Option<Instant>) {
        for socket in self.io.to(user_room(user)).sockets() {
            let started = socket
                .req_parts()
                .extensions
                .get::<Arc<Connection>>()
                .map(|connection| connection.started);
            if since.is_some_and(|since| started.is_some_and(|started| started < since)) {
                continue;
            }
            tracing::debug!(socket = %socket.id, "closing a socket whose user's access ended");
            let _ = socket.disconnect();
        }
    }

    /// Another instance reports that `user`'s access ended: the plugins of
    /// this process hear it first (the core plugin forgets what it cached
    /// of the user, so that the browsers' new connections are
    /// authenticated from the database), then the user's sockets here are
    /// closed.
    pub(crate) async fn end_user_reported(self: &Arc<Self>, user: &str) {
        if let Some(events) = self.events.get() {
            let failed = events
                .emit(AccessEnded {
                    user: user.to_owned(),
                    from_another_instance: true,
                })
                .await;
            if failed > 0 {
                tracing::warn!(
                    failed,
                    "listeners failed on an end of access another instance reported"
                );
            }
        }
        self.end_user(user);
    }

    /// Closes the sockets of `user` on every instance.
    pub(crate) fn end_user_everywhere(self: &Arc<Self>, user: &str) {
        self.end_user(user);
        if let Some(fanout) = self.fanout.get() {
            fanout.end_user(user);
        }
    }

    /// `socket`'s queue is full: it gets nothing more until it has room
    /// for [`RESYNC_EVENT`].
    fn lagging(self: &Arc<Self>, socket: SocketRef) {
        if !self.lagging.lock().expect("hub lock").insert(socket.id) {
            return;
        }
        socket.join(LAGGING_ROOM);
        tracing::debug!(socket = %socket.id, "a socket's queue is full; it will be told to resync");
        let hub = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RETRY_FULL_EVERY).await;
                match socket.emit(RESYNC_EVENT, &()) {
                    Err(SendError::Socket(SocketError::InternalChannelFull)) => continue,
                    _ => break,
                }
            }
            socket.leave(LAGGING_ROOM);
            hub.lagging.lock().expect("hub lock").remove(&socket.id);
        });
    }
}

/// The app's broadcaster: hands messages to the hub.
pub(crate) struct HubBroadcaster(Arc<Hub>);

impl HubBroadcaster {
    pub(crate) fn new(hub: Arc<Hub>) -> Self {
        HubBroadcaster(hub)
    }
}

impl Broadcaster for HubBroadcaster {
    fn broadcast(&self, message: BroadcastMessage) {
        self.0.send(message);
    }
}
