//! Runtime plumbing: how the raclette runtime creates a plugin's
//! [`Registrar`] and takes back what it registered.
//!
//! Not part of the plugin API: plugin authors never need it, and it may
//! change in any release.

use axum::Router;

use crate::{Registrar, RouteInfo};
pub use crate::{
    broadcast::BroadcasterSlot,
    connection::ClientScope,
    guard::{AccessPolicy, PluginRouting, panic_message},
    hooks::{Hook, HookFuture, Hooks},
    registrar::{LayerFn, RegistrarSeed},
    scope::PluginScope,
    security_headers::{FIXED as SECURITY_HEADERS, RESOURCE_POLICY},
    services::ServiceRegistry,
};

/// Makes `addr` what [`crate::extract::ClientAddr`] gives on this thread
/// until the guard is dropped (around each step of a request from `addr`).
pub fn enter_client(addr: std::net::SocketAddr) -> ClientScope {
    crate::connection::ClientAddr::enter(addr)
}

/// The handle that closes a request's connection by running `close`.
pub fn close_connection(close: impl Fn() + Send + Sync + 'static) -> crate::CloseConnection {
    crate::CloseConnection::new(close)
}

/// Everything one plugin registered, handed back to the runtime.
pub struct PluginParts {
    /// The plugin's routes, paths relative to its prefix.
    pub router: Router,
    /// The route list, for `GET /raclette/plugins` and `raclette routes`.
    pub routes: Vec<RouteInfo>,
    /// Middleware for the plugin's own routes, first added first.
    pub layers: Vec<LayerFn>,
    /// Middleware for the whole app, first added first.
    pub app_layers: Vec<LayerFn>,
    /// Who sends each request, first registered first.
    pub identifiers: Vec<std::sync::Arc<dyn crate::IdentifyRequests>>,
    /// Lifecycle hooks.
    pub hooks: Hooks,
}

/// A registrar for one plugin.
pub fn registrar<'a>(
    seed: RegistrarSeed,
    services: &'a mut ServiceRegistry,
    broadcaster: &BroadcasterSlot,
    events: &crate::events::Events,
) -> Registrar<'a> {
    Registrar {
        seed,
        services,
        broadcaster: broadcaster.clone(),
        events: events.clone(),
        routes: crate::Routes::new(),
        layers: Vec::new(),
        app_layers: Vec::new(),
        identifiers: Vec::new(),
        hooks: Hooks::default(),
    }
}

/// The routes registered so far.
pub fn registrar_routes<'r>(registrar: &'r Registrar<'_>) -> &'r [RouteInfo] {
    registrar.routes.infos()
}

/// Hands everything a plugin registered back to the runtime; every route
/// is guarded by `routing` (access, span, scope, panics).
pub fn into_parts(
    registrar: Registrar<'_>,
    routing: &std::sync::Arc<PluginRouting>,
) -> PluginParts {
    let prefix = registrar.seed.info.route_prefix();
    let (router, routes, _) = registrar.routes.into_parts(&prefix, routing);
    PluginParts {
        router,
        routes,
        layers: registrar.layers,
        app_layers: registrar.app_layers,
        identifiers: registrar.identifiers,
        hooks: registrar.hooks,
    }
}

/// The plain axum router of `routes` (benchmarks compare it with the
/// mounted plugin).
pub fn into_router(routes: crate::Routes) -> Router {
    routes.into_parts("", &PluginRouting::detached()).0
}
