//! What the runtime gives every route of a plugin while it runs: who the
//! plugin is, which services it may use, the app's broadcaster. Read by the
//! [`Service`] and [`crate::Broadcast`] extractors and by data operations.
//!
//! The route's guard sets it (a scoped thread-local) each time it calls or
//! polls the route, so a request carries no extension for it and reading
//! it clones nothing.

use std::{
    any::{Any, TypeId},
    collections::BTreeSet,
    ops::Deref,
    sync::Arc,
};

use axum::{extract::FromRequestParts, http::request::Parts};

use crate::{
    Broadcast, HttpError, PluginInfo, broadcast::BroadcasterSlot, events::Events,
    services::ServiceRegistry,
};

scoped_tls::scoped_thread_local!(static CURRENT: PluginScope);

/// One plugin's view of the app, given to its routes while they run.
#[derive(Clone)]
pub struct PluginScope {
    inner: Arc<ScopeInner>,
}

struct ScopeInner {
    info: PluginInfo,
    services: Arc<ServiceRegistry>,
    /// The services it may use (its own and those of every dependency,
    /// direct or not), by type: a few, looked up on every request that
    /// asks for one, so a list beats hashing.
    usable: Vec<(TypeId, Arc<dyn Any + Send + Sync>)>,
    broadcaster: BroadcasterSlot,
    events: Events,
    /// The permission that reads each data type of the plugin (the access
    /// of its read operations), when one is needed.
    read_permissions: std::collections::HashMap<String, String>,
}

impl PluginScope {
    /// The scope of plugin `info`: it may use services of `allowed`
    /// providers (and its own); `routes` are its routes.
    pub fn new(
        info: PluginInfo,
        services: Arc<ServiceRegistry>,
        mut allowed: BTreeSet<String>,
        broadcaster: BroadcasterSlot,
        events: Events,
        routes: &[crate::RouteInfo],
    ) -> Self {
        allowed.insert(info.folder().to_owned());
        let mut read_permissions = std::collections::HashMap::new();
        for route in routes {
            if let (Some(operation), crate::RouteAccess::Permission(permission)) =
                (&route.operation, &route.access)
                && operation.kind == crate::OperationKind::Read
            {
                read_permissions
                    .entry(operation.data_type.clone())
                    .or_insert_with(|| permission.clone());
            }
        }
        let usable = services.usable_by(&allowed);
        PluginScope {
            inner: Arc::new(ScopeInner {
                info,
                services,
                usable,
                broadcaster,
                events,
                read_permissions,
            }),
        }
    }

    /// The permission that reads `data_type`, if one is needed.
    pub(crate) fn read_permission(&self, data_type: &str) -> Option<&str> {
        self.inner
            .read_permissions
            .get(data_type)
            .map(String::as_str)
    }

    /// Runs `f` (a call or poll of one of the plugin's routes) with this
    /// as the running plugin's scope.
    pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        CURRENT.set(self, f)
    }

    /// `f` of the scope of the plugin whose route is running, if one is.
    pub(crate) fn try_current<R>(f: impl FnOnce(&PluginScope) -> R) -> Option<R> {
        CURRENT.is_set().then(|| CURRENT.with(f))
    }

    /// `f` of the scope of the plugin whose route is running; a 500
    /// naming `what` when no route mounted by the raclette runtime is.
    pub(crate) fn with_current<R>(
        what: &str,
        f: impl FnOnce(&PluginScope) -> R,
    ) -> Result<R, HttpError> {
        Self::try_current(f).ok_or_else(|| {
            tracing::error!(target: "raclette::http", "{what} used outside a plugin route");
            HttpError::internal(format!(
                "{what} is only available in routes mounted by the raclette runtime"
            ))
        })
    }

    pub(crate) fn broadcast(&self) -> Broadcast {
        Broadcast::new(self.inner.info.clone(), self.inner.broadcaster.clone())
    }

    pub(crate) fn events(&self) -> Events {
        self.inner.events.clone()
    }

    pub(crate) fn has_broadcaster(&self) -> bool {
        self.inner.broadcaster.get().is_some()
    }
}

/// A service provided by a plugin this one depends on (or by itself), as a
/// request extractor.
///
/// At set-up, [`crate::Registrar::service`] reports a missing service or a
/// missing dependency before the server starts; prefer it when the service
/// is needed in every request anyway. A service asked for here that is
/// missing answers 500 and logs which dependency to declare.
///
/// ```
/// use raclette::{Json, Service};
///
/// struct Counter(std::sync::atomic::AtomicU64);
///
/// async fn count(Service(counter): Service<Counter>) -> Json<u64> {
///     Json(counter.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
/// }
/// # let _ = count;
/// ```
#[derive(Debug)]
pub struct Service<T: ?Sized>(pub Arc<T>);

impl<T: ?Sized> Clone for Service<T> {
    fn clone(&self) -> Self {
        Service(Arc::clone(&self.0))
    }
}

impl<T: ?Sized> Deref for Service<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T, S> FromRequestParts<S> for Service<T>
where
    T: Send + Sync + 'static,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        PluginScope::with_current("Service", Self::of)?
    }
}

impl<T: Send + Sync + 'static> Service<T> {
    /// The service `T` as `scope` may use it.
    fn of(scope: &PluginScope) -> Result<Self, HttpError> {
        let inner = &scope.inner;
        let wanted = TypeId::of::<T>();
        if let Some(value) = inner
            .usable
            .iter()
            .find_map(|(type_id, value)| (*type_id == wanted).then(|| Arc::clone(value)))
            && let Ok(value) = value.downcast::<T>()
        {
            return Ok(Service(value));
        }
        // Not among the usable ones: provided by a plugin this one does not
        // depend on, or by none.
        let plugin = inner.info.folder();
        let service = std::any::type_name::<T>();
        let cause = match inner.services.get::<T>() {
            Some((_, provider)) => crate::Error::ServiceNotDependency {
                plugin: plugin.to_owned(),
                service: service.to_owned(),
                provider: provider.to_owned(),
            },
            None => crate::Error::ServiceMissing {
                plugin: plugin.to_owned(),
                service: service.to_owned(),
            },
        };
        tracing::error!(target: "raclette::http", error = %cause, "service unavailable");
        Err(HttpError::internal(format!(
            "plugin {plugin} cannot use service `{service}`"
        )))
    }
}
