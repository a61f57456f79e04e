//! Fan-out between server instances through Redis pub/sub: every instance
//! publishes the messages of its own writes and delivers the others'
//! messages to its sockets.
//!
//! `fred` reconnects with backoff and subscribes again by itself. While
//! Redis is unreachable, messages go on reaching this instance's sockets
//! but not the others'; once it is back, every instance tells its sockets
//! to resync (the subscriber's reconnect does it on each instance, and an
//! instance whose publishing failed also sends a resync request, in case
//! only its own connection was broken).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
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
#[derive(Serialize, Deserialize)]
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

/// This instance's link to the others.
pub(crate) struct Fanout {
    origin: String,
    queue: mpsc::Sender<String>,
    lost: Arc<AtomicBool>,
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
        subscriber.manage_subscriptions();
        subscriber.subscribe(channel).await?;

        let origin = uuid::Uuid::new_v4().to_string();
        let lost = Arc::new(AtomicBool::new(false));

        let mut messages = subscriber.message_rx();
        let receiving = hub.clone();
        let me = origin.clone();
        tokio::spawn(async move {
            loop {
                match messages.recv().await {
                    Ok(message) => {
                        if let Some(text) = message.value.as_bytes() {
                            receive(&receiving, &me, text).await;
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

        let mut reconnects = subscriber.reconnect_rx();
        let resyncing = hub.clone();
        tokio::spawn(async move {
            while reconnects.recv().await.is_ok() {
                tracing::info!("connected to Redis again; every socket will resync");
                resyncing.resync_all();
            }
        });

        let (queue, mut waiting) = mpsc::channel::<String>(PUBLISH_QUEUE);
        let publishing = publisher.clone();
        let channel = channel.to_owned();
        let lost_flag = lost.clone();
        let resync = serde_json::to_string(&Envelope {
            origin: &origin,
            message: None,
            resync: true,
            end_user: None,
        })
        .expect("an envelope is JSON");
        tokio::spawn(async move {
            while let Some(text) = waiting.recv().await {
                let result: Result<u32, _> = publishing.publish(&channel, text).await;
                match result {
                    Ok(_) => {
                        if lost_flag.swap(false, Ordering::AcqRel) {
                            let asked: Result<u32, _> =
                                publishing.publish(&channel, resync.clone()).await;
                            if asked.is_err() {
                                lost_flag.store(true, Ordering::Release);
                            }
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
            resync: false,
            end_user: None,
        };
        self.send(&envelope);
    }

    /// Asks the other instances to close `user`'s sockets.
    pub(crate) fn end_user(&self, user: &str) {
        self.send(&Envelope {
            origin: &self.origin,
            message: None,
            resync: false,
            end_user: Some(user),
        });
    }

    fn send(&self, envelope: &Envelope<'_>) {
        let Ok(text) = serde_json::to_string(envelope) else {
            return;
        };
        if self.queue.try_send(text).is_err() {
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

/// Handles one message from the app's channel.
async fn receive(hub: &Arc<Hub>, me: &str, text: &[u8]) {
    let envelope: Envelope<'_> = match serde_json::from_slice(text) {
        Ok(envelope) => envelope,
        Err(err) => {
            tracing::warn!(error = %err, "ignored a message on the realtime channel that is not an instance's");
            return;
        }
    };
    if envelope.origin == me {
        return;
    }
    if envelope.resync {
        hub.resync_all();
    }
    if let Some(user) = envelope.end_user {
        hub.end_user_reported(user).await;
    }
    if let Some(carried) = envelope.message {
        // Only an enabled plugin's channels, named `<plugin key>--<event>`.
        let named_right = carried
            .channel_key
            .strip_prefix(carried.plugin_key)
            .is_some_and(|rest| rest.starts_with("--"));
        if !hub.is_enabled(carried.plugin_key) || !named_right {
            return;
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
}
