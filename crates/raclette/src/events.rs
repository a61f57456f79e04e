//! The typed event bus between plugins on the server: one plugin emits a
//! value of a Rust type, every plugin that listens to that type gets a
//! copy.
//!
//! Listeners are registered at set-up ([`crate::Registrar::listen`]); events
//! are emitted from handlers ([`Events`] is an extractor), hooks or
//! background tasks ([`crate::Registrar::events`]). Each listener runs in a
//! task of its own: a listener that fails or panics is logged and the
//! others go on. The bus is in-process: instances of an app do not share
//! it.
//!
//! The event types that several plugins share live in the API crate (such
//! as [`AccessEnded`]); a plugin's own event types live in its crate, and
//! its listeners in plugins that depend on it.

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    fmt::Display,
    future::Future,
    pin::Pin,
    sync::{Arc, RwLock},
    task::{Context, Poll},
};

use axum::{extract::FromRequestParts, http::request::Parts};
use futures_util::FutureExt;

use crate::{CurrentUser, HttpError, Project, scope::PluginScope};

/// A user's access ended or narrowed: they signed out, changed their
/// password (their other sessions ended), were disabled, lost the admin
/// flag or changed role, were removed from a project, switched their
/// session's project, or an API token of theirs was revoked. Whatever holds their access open without
/// asking again on each request (a realtime connection) should close and
/// let the client authenticate again.
///
/// Emitted by the plugin that signs users in, and again on every other
/// instance of the app when it runs on several (by the realtime plugin,
/// with [`from_another_instance`](AccessEnded::from_another_instance)).
///
/// ```
/// # fn plugin(app: &mut raclette::Registrar) {
/// use raclette::events::AccessEnded;
/// app.listen(|ended: AccessEnded| async move {
///     raclette::tracing::info!(user = %ended.user, "access ended");
/// });
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEnded {
    /// The user's id.
    pub user: String,
    /// Whether it happened on another instance of the app, which the
    /// realtime plugin heard of: act on this process only (forget what is
    /// cached of the user, close their connections here), the other
    /// instances have heard of it too.
    pub from_another_instance: bool,
}

/// A message a browser sent over its realtime connection
/// (`$socket.emit(event, data)` in the client runtime), emitted on the bus
/// by the realtime plugin. It comes from a client: check `user` and
/// validate `data` as you would a request body.
///
/// ```
/// # fn plugin(app: &mut raclette::Registrar) {
/// use raclette::events::SocketMessage;
/// app.listen(|message: SocketMessage| async move {
///     if message.event == "typing" && message.user.get().is_some() {
///         // …tell the others, with a `Broadcast` kept from set-up
///     }
/// });
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SocketMessage {
    /// Who sent it (as their connection was authenticated).
    pub user: CurrentUser,
    /// The project their connection is in.
    pub project: Project,
    /// The event name the browser gave.
    pub event: String,
    /// Its first argument (`null` without one).
    pub data: serde_json::Value,
}

/// What a listener may return: nothing, or a `Result` whose error is
/// logged.
pub trait ListenerOutcome: Send + 'static {
    /// The failure to log, if any.
    fn failure(self) -> Option<String>;
}

impl ListenerOutcome for () {
    fn failure(self) -> Option<String> {
        None
    }
}

impl<E: Display + Send + 'static> ListenerOutcome for Result<(), E> {
    fn failure(self) -> Option<String> {
        self.err().map(|err| err.to_string())
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Option<String>> + Send>>;
type Listener = Arc<dyn Fn(&(dyn Any + Send + Sync)) -> Option<BoxFuture> + Send + Sync>;

struct Registered {
    plugin: String,
    listener: Listener,
}

/// The app's event bus: emits events to the listeners of their type.
///
/// ```
/// use raclette::{Json, events::Events};
///
/// #[derive(Clone)]
/// struct OrderPlaced { id: String }
///
/// async fn place(events: Events) -> Json<bool> {
///     events.emit(OrderPlaced { id: "o-1".into() });
///     Json(true)
/// }
/// # let _ = place;
/// ```
#[derive(Clone, Default)]
pub struct Events {
    listeners: Arc<RwLock<HashMap<TypeId, Vec<Registered>>>>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count: usize = self
            .listeners
            .read()
            .map(|map| map.values().map(Vec::len).sum())
            .unwrap_or_default();
        f.debug_struct("Events").field("listeners", &count).finish()
    }
}

impl Events {
    /// Adds `listener` for events of type `E`, registered by `plugin`.
    pub(crate) fn listen<E, F, Fut>(&self, plugin: &str, listener: F)
    where
        E: Clone + Send + Sync + 'static,
        F: Fn(E) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: ListenerOutcome,
    {
        // Listeners log in their plugin's span, like its handlers.
        let span = tracing::info_span!(parent: None, "plugin", plugin = %plugin);
        let listener: Listener = Arc::new(move |event: &(dyn Any + Send + Sync)| {
            let event = event.downcast_ref::<E>()?.clone();
            let future = span.in_scope(|| listener(event));
            let future = tracing::Instrument::instrument(future, span.clone());
            Some(Box::pin(async move { future.await.failure() }) as BoxFuture)
        });
        self.listeners
            .write()
            .expect("event listeners lock")
            .entry(TypeId::of::<E>())
            .or_default()
            .push(Registered {
                plugin: plugin.to_owned(),
                listener,
            });
    }

    /// Hands a copy of `event` to every listener of its type, each in a task
    /// of its own; returns at once. Await the returned [`Emitted`] to wait
    /// until every listener is done (it tells how many failed); dropping it
    /// lets them run on.
    ///
    /// Needs a Tokio runtime (it is one inside handlers and hooks).
    ///
    /// ```
    /// # async fn f(events: raclette::events::Events) {
    /// #[derive(Clone)]
    /// struct CacheCleared;
    /// let failed = events.emit(CacheCleared).await;
    /// assert_eq!(failed, 0);
    /// # }
    /// ```
    pub fn emit<E: Clone + Send + Sync + 'static>(&self, event: E) -> Emitted {
        let listeners: Vec<(String, Listener)> = self
            .listeners
            .read()
            .expect("event listeners lock")
            .get(&TypeId::of::<E>())
            .map(|list| {
                list.iter()
                    .map(|r| (r.plugin.clone(), r.listener.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let event_name = std::any::type_name::<E>();
        let tasks = listeners
            .into_iter()
            .filter_map(|(plugin, listener)| {
                // A listener may panic before it returns its future: that
                // is its failure too, not the emitter's.
                let future = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    listener(&event)
                })) {
                    Ok(future) => future?,
                    Err(panic) => {
                        let message = crate::guard::panic_message(&*panic);
                        Box::pin(async move { Some(format!("panicked: {message}")) }) as BoxFuture
                    }
                };
                Some(Some(tokio::spawn(async move {
                    let outcome = std::panic::AssertUnwindSafe(future).catch_unwind().await;
                    let failure = match outcome {
                        Ok(None) => return true,
                        Ok(Some(failure)) => failure,
                        Err(panic) => format!("panicked: {}", crate::guard::panic_message(&*panic)),
                    };
                    tracing::error!(target: "raclette::events", plugin = %plugin, event = event_name, "a listener failed: {failure}");
                    false
                })))
            })
            .collect();
        Emitted { tasks, failed: 0 }
    }

    /// How many listeners events of type `E` have.
    ///
    /// ```
    /// let events = raclette::events::Events::default();
    /// assert_eq!(events.listeners::<String>(), 0);
    /// ```
    pub fn listeners<E: 'static>(&self) -> usize {
        self.listeners
            .read()
            .expect("event listeners lock")
            .get(&TypeId::of::<E>())
            .map_or(0, Vec::len)
    }
}

/// The listeners an event was handed to; await it for the number that
/// failed, or drop it to let them run on.
pub struct Emitted {
    tasks: Vec<Option<tokio::task::JoinHandle<bool>>>,
    failed: usize,
}

impl Future for Emitted {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let this = &mut *self;
        let mut pending = false;
        for slot in &mut this.tasks {
            let Some(task) = slot else { continue };
            match Pin::new(task).poll(cx) {
                Poll::Pending => pending = true,
                Poll::Ready(succeeded) => {
                    this.failed += usize::from(!matches!(succeeded, Ok(true)));
                    *slot = None;
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(this.failed)
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Events {
    type Rejection = HttpError;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        PluginScope::with_current("Events", PluginScope::events)
    }
}
