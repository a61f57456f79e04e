//! Realtime events: the [`Broadcaster`] interface and the [`Broadcast`]
//! extractor.
//!
//! Writes of data operations are broadcast by the framework on the
//! operation's channels; handlers can broadcast by hand with [`Broadcast`].
//! Until a plugin provides a broadcaster ([`crate::Registrar::provide_broadcaster`])
//! messages go nowhere.

use std::sync::{Arc, OnceLock};

use axum::{extract::FromRequestParts, http::request::Parts};
use serde::Serialize;

use crate::{BroadcastMessage, HttpError, PluginInfo, Project, scope::PluginScope};

/// Delivers broadcast messages, to browsers for example.
///
/// Implemented by the plugin that provides realtime; `broadcast` must not
/// block (queue the message and return).
///
/// ```
/// use std::sync::Mutex;
/// use raclette::{BroadcastMessage, Broadcaster};
///
/// #[derive(Default)]
/// struct Recorder(Mutex<Vec<BroadcastMessage>>);
///
/// impl Broadcaster for Recorder {
///     fn broadcast(&self, message: BroadcastMessage) {
///         self.0.lock().unwrap().push(message);
///     }
/// }
/// ```
pub trait Broadcaster: Send + Sync + 'static {
    /// Hands one message over for delivery.
    fn broadcast(&self, message: BroadcastMessage);
}

/// The app's broadcaster slot, set once by the plugin that provides one.
#[derive(Clone, Default)]
pub struct BroadcasterSlot {
    inner: Arc<OnceLock<(String, Arc<dyn Broadcaster>)>>,
}

impl BroadcasterSlot {
    /// Installs `broadcaster`; returns the earlier provider when there is one.
    pub(crate) fn set(
        &self,
        provider: &str,
        broadcaster: Arc<dyn Broadcaster>,
    ) -> Result<(), String> {
        self.inner
            .set((provider.to_owned(), broadcaster))
            .map_err(|_| self.provider().unwrap_or_default())
    }

    pub(crate) fn provider(&self) -> Option<String> {
        self.inner.get().map(|(p, _)| p.clone())
    }

    /// The installed broadcaster, if any.
    pub(crate) fn get(&self) -> Option<&Arc<dyn Broadcaster>> {
        self.inner.get().map(|(_, b)| b)
    }
}

/// Sends messages on one plugin's channels: an extractor for handlers, and
/// available at set-up from [`crate::Registrar::broadcaster`] for background
/// work.
///
/// ```
/// use raclette::{Broadcast, Json, Project};
/// use serde_json::json;
///
/// async fn ping(broadcast: Broadcast, project: Project) -> Json<bool> {
///     broadcast.send(&project, "pinged", vec![json!({ "at": "now" })]);
///     Json(true)
/// }
/// # let _ = ping;
/// ```
#[derive(Clone)]
pub struct Broadcast {
    info: PluginInfo,
    slot: BroadcasterSlot,
}

impl std::fmt::Debug for Broadcast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broadcast")
            .field("plugin", &self.info.folder())
            .field("provider", &self.slot.provider())
            .finish()
    }
}

impl Broadcast {
    pub(crate) fn new(info: PluginInfo, slot: BroadcasterSlot) -> Self {
        Broadcast { info, slot }
    }

    /// Whether a plugin provides a broadcaster, so that messages go
    /// somewhere.
    ///
    /// ```
    /// # fn f(broadcast: raclette::Broadcast) {
    /// if broadcast.is_active() { /* worth serializing a large payload */ }
    /// # }
    /// ```
    pub fn is_active(&self) -> bool {
        self.slot.get().is_some()
    }

    /// Sends `items` on this plugin's channel `event`
    /// (`<plugin key>--<event>`) to listeners of `project`.
    ///
    /// ```
    /// # fn f(broadcast: raclette::Broadcast) {
    /// let project = raclette::Project::default();
    /// broadcast.send(&project, "todoCreated", vec![serde_json::json!({ "_id": "1" })]);
    /// # }
    /// ```
    pub fn send(&self, project: &Project, event: &str, items: Vec<serde_json::Value>) {
        self.send_requiring(project, event, items, None);
    }

    /// Like [`Broadcast::send`], to the listeners of `project` that hold
    /// `permission` there only (when it is `Some`).
    ///
    /// ```
    /// # fn f(broadcast: raclette::Broadcast) {
    /// let project = raclette::Project::default();
    /// let items = vec![serde_json::json!({ "_id": "1", "total": 120 })];
    /// broadcast.send_requiring(&project, "invoicePaid", items, Some("acme__invoices.read"));
    /// # }
    /// ```
    pub fn send_requiring(
        &self,
        project: &Project,
        event: &str,
        items: Vec<serde_json::Value>,
        permission: Option<&str>,
    ) {
        if let Some(broadcaster) = self.slot.get() {
            broadcaster.broadcast(BroadcastMessage {
                channel_key: self.info.channel(event),
                plugin_key: self.info.key(),
                event: event.to_owned(),
                project: project.id().to_owned(),
                items,
                permission: permission.map(str::to_owned),
            });
        }
    }

    /// Serializes `items` and sends them like [`Broadcast::send`].
    ///
    /// ```
    /// # fn f(broadcast: raclette::Broadcast) -> Result<(), serde_json::Error> {
    /// #[derive(serde::Serialize)]
    /// struct Todo { name: String }
    /// let project = raclette::Project::default();
    /// broadcast.send_items(&project, "todoCreated", &[Todo { name: "milk".into() }])?;
    /// # Ok(()) }
    /// ```
    pub fn send_items<T: Serialize>(
        &self,
        project: &Project,
        event: &str,
        items: &[T],
    ) -> Result<(), serde_json::Error> {
        if !self.is_active() {
            return Ok(());
        }
        let items = items
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?;
        self.send(project, event, items);
        Ok(())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Broadcast {
    type Rejection = HttpError;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        PluginScope::with_current("Broadcast", PluginScope::broadcast)
    }
}
