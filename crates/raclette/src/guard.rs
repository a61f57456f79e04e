//! The guard around every route of a plugin: who may call it, the plugin's
//! span and scope, and panic recovery.
//!
//! The guard wraps each handler directly, as a handler itself, not the
//! plugin's router: every router-level layer costs a boxed service clone and
//! a larger future on every request, and even a handler-level tower layer
//! costs a service, a oneshot and a mapped future.
//! Access is checked before the handler runs and before its body is read:
//! a route is public, needs a signed-in user (the default), or needs a
//! permission in the request's project.
//!
//! Middleware a plugin adds with [`crate::Registrar::layer`] wraps the
//! plugin's routes outside the guard: it sees every request to them, signed
//! in or not.

use std::{
    any::Any,
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::Pin,
    sync::{Arc, OnceLock},
    task::{Context, Poll},
};

use axum::{
    body::Body,
    handler::Handler,
    http::{Request, Response, StatusCode},
    response::IntoResponse,
};
use tracing::Span;
use wildmatch::WildMatch;

use crate::{CurrentUser, HttpError, RouteAccess, scope::PluginScope};

/// How the app treats anonymous requests: `[auth]` of `raclette.toml`.
#[derive(Debug, Clone)]
pub struct AccessPolicy {
    require_authentication: bool,
    anonymous: Vec<WildMatch>,
}

impl AccessPolicy {
    /// With `require_authentication`, anonymous requests reach public routes
    /// only; without, they also reach routes that need a signed-in user and
    /// routes whose permission matches one of `anonymous_permissions`
    /// (patterns where `*` stands for any text, such as `pacifico__todo.*`).
    pub fn new(require_authentication: bool, anonymous_permissions: &[String]) -> Self {
        AccessPolicy {
            require_authentication,
            anonymous: anonymous_permissions
                .iter()
                .map(|p| WildMatch::new(p))
                .collect(),
        }
    }

    /// Everything open to everyone: routes used outside an app.
    pub fn open() -> Self {
        AccessPolicy::new(false, &["*".to_owned()])
    }

    /// Whether an anonymous request may call a route with `access`.
    pub(crate) fn anonymous_may(&self, access: &RouteAccess) -> bool {
        match access {
            RouteAccess::Public => true,
            RouteAccess::SignedIn => !self.require_authentication,
            RouteAccess::Permission(permission) => {
                !self.require_authentication && self.anonymous.iter().any(|p| p.matches(permission))
            }
        }
    }
}

/// What every route of one plugin shares, set by the runtime.
pub struct PluginRouting {
    folder: Arc<str>,
    span: Span,
    policy: AccessPolicy,
    scope: OnceLock<PluginScope>,
}

impl std::fmt::Debug for PluginRouting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRouting")
            .field("folder", &self.folder)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl PluginRouting {
    /// The routing of plugin `folder`: its span and the app's policy. The
    /// scope follows with [`PluginRouting::set_scope`] once every plugin is
    /// set up.
    pub fn new(folder: &str, span: Span, policy: AccessPolicy) -> Arc<Self> {
        Arc::new(PluginRouting {
            folder: folder.into(),
            span,
            policy,
            scope: OnceLock::new(),
        })
    }

    /// Routes outside an app: no span, open to everyone.
    pub(crate) fn detached() -> Arc<Self> {
        PluginRouting::new("", Span::none(), AccessPolicy::open())
    }

    /// Gives the plugin's scope to its routes from now on.
    pub fn set_scope(&self, scope: PluginScope) {
        let _ = self.scope.set(scope);
    }

    /// Runs `f` (a call or poll of one of the plugin's routes) with the
    /// plugin's scope as the running one.
    fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        match self.scope.get() {
            Some(scope) => scope.run(f),
            None => f(),
        }
    }

    /// The 500 answer to a panic in one of the plugin's handlers, logged.
    pub fn panic_response(&self, panic: &(dyn Any + Send)) -> Response<Body> {
        let message = panic_message(panic);
        tracing::error!(target: "raclette::panic", plugin = %self.folder, panic = %message, "handler panicked");
        HttpError::internal(format!("handler of plugin {} panicked", self.folder)).into_response()
    }
}

/// The text of a panic's payload.
pub fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// The guard of one route.
#[derive(Clone)]
pub(crate) struct RouteGuard {
    inner: Arc<GuardInner>,
}

struct GuardInner {
    plugin: Arc<PluginRouting>,
    access: RouteAccess,
    /// Whether an anonymous request may call the route: the app's policy
    /// decides it once, not per request.
    anonymous_may: bool,
}

impl RouteGuard {
    pub(crate) fn new(plugin: Arc<PluginRouting>, access: RouteAccess) -> Self {
        let anonymous_may = plugin.policy.anonymous_may(&access);
        RouteGuard {
            inner: Arc::new(GuardInner {
                plugin,
                access,
                anonymous_may,
            }),
        }
    }

    /// The refusal of `request`, if it may not call the route.
    fn refusal(&self, request: &Request<Body>) -> Option<Response<Body>> {
        let access = &self.inner.access;
        let user = request
            .extensions()
            .get::<CurrentUser>()
            .and_then(CurrentUser::get);
        match (user, access) {
            (_, RouteAccess::Public) => None,
            (Some(_), RouteAccess::SignedIn) => None,
            (Some(user), RouteAccess::Permission(permission)) => {
                (!user.has_permission(permission)).then(|| {
                    HttpError::new(
                        StatusCode::FORBIDDEN,
                        format!("this route needs the permission `{permission}`, which you do not have in this project"),
                    )
                    .into_response()
                })
            }
            (None, _) if self.inner.anonymous_may => None,
            (None, _) => Some(
                HttpError::new(
                    StatusCode::UNAUTHORIZED,
                    "sign in first: this route needs a signed-in user",
                )
                .into_response(),
            ),
        }
    }
}

impl RouteGuard {
    /// `handler` behind this guard.
    pub(crate) fn guard<H>(self, handler: H) -> GuardedHandler<H> {
        GuardedHandler {
            handler,
            guard: self,
        }
    }
}

/// A route's handler behind its [`RouteGuard`]: itself a handler, so that a
/// request reaches the plugin's handler without a tower layer's service,
/// oneshot and mapped future in between.
#[derive(Clone)]
pub(crate) struct GuardedHandler<H> {
    handler: H,
    guard: RouteGuard,
}

impl<H, T, S> Handler<T, S> for GuardedHandler<H>
where
    H: Handler<T, S>,
    T: 'static,
    S: Send + 'static,
{
    type Future = GuardedFuture<H::Future>;

    fn call(self, request: Request<Body>, state: S) -> Self::Future {
        if let Some(refusal) = self.guard.refusal(&request) {
            return GuardedFuture::Done {
                answer: Some(refusal),
            };
        }
        // Not in the plugin's span: a handler's code runs when its future is
        // polled (below); calling it only makes the future.
        let GuardedHandler { handler, guard } = self;
        let plugin = &guard.inner.plugin;
        match plugin.run(|| catch_unwind(AssertUnwindSafe(|| handler.call(request, state)))) {
            // The future keeps the guard, moved: no reference count
            // changes hands.
            Ok(inner) => GuardedFuture::Running { inner, guard },
            Err(panic) => GuardedFuture::Done {
                answer: Some(plugin.panic_response(&*panic)),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`GuardedHandler`].
    #[project = GuardedProjection]
    pub(crate) enum GuardedFuture<F> {
        /// The handler's future, polled inside the plugin's span.
        Running { #[pin] inner: F, guard: RouteGuard },
        /// Answered without the handler: refused, or it panicked at once.
        Done { answer: Option<Response<Body>> },
    }
}

impl<F> Future for GuardedFuture<F>
where
    F: Future<Output = Response<Body>>,
{
    type Output = Response<Body>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            GuardedProjection::Running { inner, guard } => {
                let plugin = &guard.inner.plugin;
                let _entered = plugin.span.enter();
                match plugin.run(|| catch_unwind(AssertUnwindSafe(|| inner.poll(cx)))) {
                    Ok(poll) => poll,
                    Err(panic) => Poll::Ready(plugin.panic_response(&*panic)),
                }
            }
            GuardedProjection::Done { answer } => Poll::Ready(answer.take().unwrap_or_else(|| {
                HttpError::internal("a route's answer was asked for twice").into_response()
            })),
        }
    }
}
