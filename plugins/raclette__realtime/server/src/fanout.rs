//! Fan-out between server instances through Redis pub/sub: every instance
//! publishes the messages of its own writes and delivers the others'
//! messages to its sockets.
//!
//! `fred` reconnects with backoff. While Redis is unreachable, messages go
//! on reaching this instance's sockets but not the others'; once it is
//! back, every instance subscribes again and only then tells its sockets to
//! resync (so nothing published in between is missed), and an instance
//! whose publishing failed also sends a resync request, in case only its
//! own connection was broken. A message missed is caught up by a resync,
//! but a user's access that ended must end on the other instances too:
//! each instance keeps the ends of access it reported for a socket's
//! lifetime and publishes them again, a few times, when its publisher
//! reconnects or another instance says hello (its subscriber reconnected).

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use fred::{
    clients::{Client, SubscriberClient},
    interfaces::{ClientLike, EventInterface, PubsubInterface},
    prelude::{Builder, Config, ReconnectPolicy},
};
use raclette::tracing;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use crate::hub::{Hub, Outgoing};

/// Messages waiting to be published; past this they are dropped and the
/// other instances are asked to resync.
const PUBLISH_QUEUE: usize = 4096;

/// How long one Redis command may take before it counts as failed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// What instances send each other on the app's channel.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    /// The sending instance.
    origin: &'a str,
    /// A message for sockets of `project`.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    message: Option<Carried<'a>>,
    /// Every socket should resync: the sender lost messages.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    resync: bool,
    /// The sockets of this user should close: their access ended.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    end_user: Option<&'a str>,
    /// The sender (re)joined the channel: the others publish again the
    /// ends of access it may have missed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    hello: bool,
}

impl<'a> Envelope<'a> {
    /// The envelope that asks the others to close `user`'s sockets.
    fn end_user(origin: &'a str, user: &'a str) -> Envelope<'a> {
        Envelope {
            origin,
            end_user: Some(user),
            ..Envelope::default()
        }
    }

    /// As JSON text.
    fn text(&self) -> String {
        serde_json::to_string(self).expect("an envelope is JSON")
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Carried<'a> {
    plugin_key: &'a str,
    channel_key: &'a str,
    project: &'a str,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    permission: Option<&'a str>,
    #[serde(borrow)]
    payload: &'a RawValue,
}

/// What the publishing task is handed.
enum Publish {
    /// An envelope.
    Envelope(String),
    /// The publisher connected again: the others may have missed this
    /// instance's messages.
    Reconnected,
}

/// When to tell the ends of access again after Redis came back: pub/sub
/// keeps nothing, and the instances resubscribe one after the other, so
/// once is not enough (an end told twice closes a socket twice).
const TELL_AGAIN_AFTER: [Duration; 4] = [
    Duration::ZERO,
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(10),
];

/// The ends of access this instance reported, by user, kept as long as a
/// socket authenticated before one of them may still be open elsewhere.
#[derive(Clone, Default)]
struct Ends(Arc<Mutex<HashMap<String, Instant>>>);

impl Ends {
    /// Notes that `user`'s access ended now; forgets those older than
    /// `keep_for`.
    fn note(&self, user: &str, keep_for: Duration) {
        let mut ends = self.0.lock().expect("fanout lock");
        let now = Instant::now();
        ends.retain(|_, at| now.duration_since(*at) < keep_for);
        ends.insert(user.to_owned(), now);
    }

    /// The users whose access ended within `keep_for`.
    fn recent(&self, keep_for: Duration) -> Vec<String> {
        let mut ends = self.0.lock().expect("fanout lock");
        let now = Instant::now();
        ends.retain(|_, at| now.duration_since(*at) < keep_for);
        ends.keys().cloned().collect()
    }

    /// Publishes the recent ends again, a few times over the next seconds,
    /// for instances that may have missed them.
    fn tell_again(&self, origin: &str, queue: &mpsc::Sender<Publish>, keep_for: Duration) {
        let (ends, origin, queue) = (self.clone(), origin.to_owned(), queue.clone());
        tokio::spawn(async move {
            let mut waited = Duration::ZERO;
            for after in TELL_AGAIN_AFTER {
                tokio::time::sleep(after - waited).await;
                waited = after;
                for user in ends.recent(keep_for) {
                    let text = Envelope::end_user(&origin, &user).text();
                    let _ = queue.try_send(Publish::Envelope(text));
                }
            }
        });
    }
}

/// This instance's link to the others.
pub(crate) struct Fanout {
    origin: String,
    queue: mpsc::Sender<Publish>,
    lost: Arc<AtomicBool>,
    ends: Ends,
    /// How long an end of access is told again to instances that join.
    keep_ends_for: Duration,
    publisher: Client,
    subscriber: SubscriberClient,
}

impl Fanout {
    /// Connects to the Redis at `url` and subscribes to `channel`; messages
    /// of other instances go to `hub`'s sockets.
    pub(crate) async fn connect(
        url: &str,
        channel: &str,
        hub: Arc<Hub>,
    ) -> Result<Fanout, fred::error::Error> {
        let config = Config::from_url(url)?;
        let mut builder = Builder::from_config(config);
        builder
            .with_performance_config(|performance| {
                performance.default_command_timeout = COMMAND_TIMEOUT;
            })
            .with_connection_config(|connection| {
                connection.connection_timeout = COMMAND_TIMEOUT;
                connection.max_command_attempts = 1;
            })
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2));
        let publisher = builder.build()?;
        let subscriber = builder.build_subscriber_client()?;
        publisher.init().await?;
        subscriber.init().await?;
        subscriber.subscribe(channel).await?;

        let origin = uuid::Uuid::new_v4().to_string();
        let lost = Arc::new(AtomicBool::new(false));

        let (queue, mut waiting) = mpsc::channel::<Publish>(PUBLISH_QUEUE);
        let ends = Ends::default();
        let keep_ends_for = hub.socket_lifetime();

        let mut messages = subscriber.message_rx();
        let receiving = hub.clone();
        let me = origin.clone();
        let answering = (ends.clone(), queue.clone());
        tokio::spawn(async move {
            loop {
                match messages.recv().await {
                    Ok(message) => {
                        if let Some(text) = message.value.as_bytes()
                            && receive(&receiving, &me, text).await
                        {
                            answering.0.tell_again(&me, &answering.1, keep_ends_for);
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            missed,
                            "realtime messages from Redis were dropped; every socket will resync"
                        );
                        receiving.resync_all();
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });

        // Subscribed again before the sockets resync: a message published
        // between the reconnect and the subscription would otherwise be
        // missed by both (fred's own `manage_subscriptions` resubscribes in
        // a task of its own, racing the resync). A lagging listener missed
        // reconnects: it resubscribes all the same.
        let mut reconnects = subscriber.reconnect_rx();
        let resubscribing = subscriber.clone();
        let resyncing = hub.clone();
        let greeting = queue.clone();
        let hello = Envelope {
            origin: &origin,
            hello: true,
            ..Envelope::default()
        }
        .text();
        tokio::spawn(async move {
            loop {
                if let Err(tokio::sync::broadcast::error::RecvError::Closed) =
                    reconnects.recv().await
                {
                    return;
                }
                if !resubscribe(&resubscribing).await {
                    continue;
                }
                tracing::info!("connected to Redis again; every socket will resync");
                resyncing.resync_all();
                let _ = greeting.try_send(Publish::Envelope(hello.clone()));
            }
        });

        let mut publisher_reconnects = publisher.reconnect_rx();
        let reconnected = queue.clone();
        tokio::spawn(async move {
            while publisher_reconnects.recv().await.is_ok() {
                let _ = reconnected.send(Publish::Reconnected).await;
            }
        });
        let publishing = publisher.clone();
        let channel = channel.to_owned();
        let lost_flag = lost.clone();
        let telling = ends.clone();
        let me = origin.clone();
        let resync = Envelope {
            origin: &origin,
            resync: true,
            ..Envelope::default()
        }
        .text();
        let again = queue.clone();
        tokio::spawn(async move {
            while let Some(item) = waiting.recv().await {
                let result: Result<u32, _> = match item {
                    Publish::Envelope(text) => publishing.publish(&channel, text).await,
                    Publish::Reconnected => {
                        lost_flag.store(true, Ordering::Release);
                        Ok(0)
                    }
                };
                match result {
                    Ok(_) => {
                        // Back after a failure: the others resync, and hear
                        // the ends of access again.
                        if lost_flag.swap(false, Ordering::AcqRel) {
                            let asked: Result<u32, _> =
                                publishing.publish(&channel, resync.clone()).await;
                            if asked.is_err() {
                                lost_flag.store(true, Ordering::Release);
                            }
                            telling.tell_again(&me, &again, keep_ends_for);
                        }
                    }
                    Err(err) => {
                        if !lost_flag.swap(true, Ordering::AcqRel) {
                            tracing::warn!(error = %err, "cannot publish to Redis: other instances miss this one's messages until it is back");
                        }
                    }
                }
            }
        });

        Ok(Fanout {
            origin,
            queue,
            lost,
            ends,
            keep_ends_for,
            publisher,
            subscriber,
        })
    }

    /// Publishes `message` for the other instances; never waits.
    pub(crate) fn publish(&self, message: &Outgoing) {
        let envelope = Envelope {
            origin: &self.origin,
            message: Some(Carried {
                plugin_key: &message.plugin_key,
                channel_key: &message.channel_key,
                project: &message.project,
                permission: message.permission.as_deref(),
                payload: &message.payload,
            }),
            ..Envelope::default()
        };
        self.send(&envelope);
    }

    /// Asks the other instances to close `user`'s sockets.
    pub(crate) fn end_user(&self, user: &str) {
        self.ends.note(user, self.keep_ends_for);
        self.send(&Envelope::end_user(&self.origin, user));
    }

    fn send(&self, envelope: &Envelope<'_>) {
        let Ok(text) = serde_json::to_string(envelope) else {
            return;
        };
        if self.queue.try_send(Publish::Envelope(text)).is_err() {
            self.lost.store(true, Ordering::Release);
        }
    }

    /// Closes the connections to Redis.
    pub(crate) fn close(&self) {
        let publisher = self.publisher.clone();
        let subscriber = self.subscriber.clone();
        tokio::spawn(async move {
            let _ = subscriber.quit().await;
            let _ = publisher.quit().await;
        });
    }
}

/// Subscribes `subscriber` to its channels again after a reconnect,
/// retrying with backoff while it stays connected; `false` when the
/// connection broke again (the next reconnect tries anew).
async fn resubscribe(subscriber: &SubscriberClient) -> bool {
    let mut wait = Duration::from_millis(100);
    loop {
        match subscriber.resubscribe_all().await {
            Ok(()) => return true,
            Err(err) if subscriber.is_connected() => {
                tracing::warn!(error = %err, "could not subscribe to Redis again; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(err) => {
                tracing::warn!(error = %err, "connected to Redis again but lost it before subscribing; waiting for the next reconnect");
                return false;
            }
        }
    }
}

/// Handles one message from the app's channel; whether it was another
/// instance's hello.
async fn receive(hub: &Arc<Hub>, me: &str, text: &[u8]) -> bool {
    let envelope: Envelope<'_> = match serde_json::from_slice(text) {
        Ok(envelope) => envelope,
        Err(err) => {
            tracing::warn!(error = %err, "ignored a message on the realtime channel that is not an instance's");
            return false;
        }
    };
    if envelope.origin == me {
        return false;
    }
    if envelope.resync {
        hub.resync_all();
    }
    if let Some(user) = envelope.end_user {
        // In a task of its own: the plugins' listeners run first, and a
        // slow one must not hold up the messages behind it.
        let (hub, user) = (hub.clone(), user.to_owned());
        tokio::spawn(async move { hub.end_user_reported(&user).await });
    }
    if let Some(carried) = envelope.message {
        // Only an enabled plugin's channels, named `<plugin key>--<event>`.
        let named_right = carried
            .channel_key
            .strip_prefix(carried.plugin_key)
            .is_some_and(|rest| rest.starts_with("--"));
        if !hub.is_enabled(carried.plugin_key) || !named_right {
            return envelope.hello;
        }
        let message = Outgoing {
            plugin_key: carried.plugin_key.to_owned(),
            channel_key: carried.channel_key.to_owned(),
            project: carried.project.to_owned(),
            permission: carried.permission.map(str::to_owned),
            payload: carried.payload.to_owned(),
        };
        hub.deliver_local(&message).await;
    }
    envelope.hello
}
