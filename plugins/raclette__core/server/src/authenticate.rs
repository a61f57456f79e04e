//! Who a request comes from and which project it runs in: decided before
//! routing for every route but this plugin's (see `layer`), by this
//! plugin's middleware for its own routes.
//!
//! Credentials, in order: an `Authorization: Bearer` API token, else the
//! session cookie. A cookie-authenticated write (any method but GET, HEAD,
//! OPTIONS) must carry the session's CSRF token in `X-CSRF-Token`. The
//! project is the one `X-Raclette-Project` names, else the one chosen in
//! the session, else the user's home project; naming a project the user is
//! not a member of answers 403. A request without credentials goes on
//! anonymous: the route guard decides what it may reach.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use raclette::{
    Body, CurrentUser, HttpError, Project,
    http::{HeaderMap, HeaderValue, Request, StatusCode, header},
    response::{IntoResponse, Response},
};
use subtle::ConstantTimeEq;
use tower_layer::Layer;
use tower_service::Service;
use tower_sessions::{Session, session::Id};

use crate::{
    CSRF_HEADER, Core, PROJECT_HEADER,
    accounts::Principal,
    sessions::{AUTH_KEY, SessionAuth},
};

/// How the request's user signed in, for routes of this plugin that
/// accept only one of the two (a new API token needs a session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignedInWith {
    /// The session cookie.
    Session,
    /// An API token.
    Token,
}

/// Longest accepted project id in `X-Raclette-Project`.
const MAX_PROJECT_ID: usize = 200;

/// The middleware: identifies the request, then runs the rest of the app.
/// A tower layer of its own rather than `middleware::from_fn`, which boxes
/// the rest of the app again on every request.
#[derive(Clone)]
pub(crate) struct AuthenticateLayer(pub(crate) Arc<Core>);

impl<S> Layer<S> for AuthenticateLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Authenticate<S> {
        Authenticate {
            core: self.0.clone(),
            inner,
        }
    }
}

/// [`AuthenticateLayer`] around a service.
#[derive(Clone)]
pub(crate) struct Authenticate<S> {
    core: Arc<Core>,
    inner: S,
}

impl<S> Service<Request<Body>> for Authenticate<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    /// Identifies a request to this plugin's routes, in the session the
    /// session layer put into it.
    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let core = self.core.clone();
        // The ready service handles this request; a clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            match identify(&core, &mut request).await {
                Ok(()) => inner.call(request).await,
                Err(refusal) => Ok(refusal),
            }
        })
    }
}

/// A 401 (with `WWW-Authenticate`, as every 401 `HttpError`).
pub(crate) fn unauthorized(message: &str) -> Response {
    HttpError::new(StatusCode::UNAUTHORIZED, message).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Whether `sent` is the session's CSRF token, compared in constant time.
pub(crate) fn csrf_matches(sent: Option<&HeaderValue>, expected: &str) -> bool {
    sent.is_some_and(|sent| bool::from(sent.as_bytes().ct_eq(expected.as_bytes())))
}

/// Where a request's session is read from.
enum SessionSource {
    /// The session layer's session, on this plugin's routes.
    Layer(Session),
    /// The store, by the cookie's session id, on every other route (see
    /// `layer`).
    Cookie(Id),
}

impl SessionSource {
    /// The request's session, if it has one.
    fn of(request: &Request<Body>) -> Option<SessionSource> {
        match request.extensions().get::<Session>() {
            Some(session) => Some(SessionSource::Layer(session.clone())),
            None => crate::layer::session_cookie(request.headers())?
                .value()
                .parse::<Id>()
                .ok()
                .map(SessionSource::Cookie),
        }
    }

    /// The sign-in the session holds: `None` when it holds none, or has
    /// ended.
    async fn auth(self, core: &Core) -> Option<Arc<SessionAuth>> {
        let auth = match self {
            SessionSource::Layer(session) => {
                session.id()?;
                session
                    .get::<SessionAuth>(AUTH_KEY)
                    .await
                    .map(|auth| auth.map(Arc::new))
                    .map_err(|err| err.to_string())
            }
            SessionSource::Cookie(id) => core
                .sessions
                .fetch(&id)
                .await
                .map(|cached| cached.and_then(|cached| cached.auth.clone()))
                .map_err(|err| err.to_string()),
        };
        auth.unwrap_or_else(|err| {
            raclette::tracing::warn!(error = %err, "cannot read a session; the request goes on anonymous");
            None
        })
    }
}

/// Who signed a request in, with what.
struct SignedIn {
    principal: Arc<Principal>,
    /// The session's sign-in, when signed in by the session cookie.
    session: Option<Arc<SessionAuth>>,
    with: SignedInWith,
}

fn failed(err: crate::CoreError) -> Response {
    HttpError::from(err).into_response()
}

fn unknown_token() -> Response {
    unauthorized("the API token is unknown, revoked or expired")
}

fn disabled() -> Response {
    unauthorized("this account is disabled")
}

/// [`identify`] from the caches alone, before routing (so never for this
/// plugin's routes, whose session the session layer keeps): `None` when
/// something must be read from the database.
pub(crate) fn identify_now(
    core: &Core,
    request: &mut Request<Body>,
) -> Option<Result<(), Response>> {
    let signed_in = if let Some(secret) = bearer(request.headers()) {
        let Some(token) = core.tokens.cached(secret)? else {
            return Some(Err(unknown_token()));
        };
        let principal = core.accounts.cached_principal(&token.user_id)?;
        if principal.record.disabled {
            return Some(Err(disabled()));
        }
        SignedIn {
            principal,
            session: None,
            with: SignedInWith::Token,
        }
    } else {
        let Some(cookie) = crate::layer::session_cookie(request.headers()) else {
            return Some(Ok(()));
        };
        let Some(auth) = core
            .sessions
            .cached(cookie.value())?
            .and_then(|c| c.auth.clone())
        else {
            return Some(Ok(()));
        };
        if let Some(refusal) = csrf_refusal(request, &auth) {
            return Some(Err(refusal));
        }
        let principal = core.accounts.cached_principal(&auth.user_id)?;
        if principal.record.disabled {
            // A disabled user's session signs nobody in.
            return Some(Ok(()));
        }
        SignedIn {
            principal,
            session: Some(auth),
            with: SignedInWith::Session,
        }
    };
    let project = match project_of(request, &signed_in) {
        Ok(project) => project,
        Err(refusal) => return Some(Err(refusal.into_response())),
    };
    let entered = core
        .accounts
        .cached_user_in(&signed_in.principal, project.id())?;
    Some(enter(request, &signed_in, project, entered).map_err(IntoResponse::into_response))
}

/// Identifies `request`, reading the database where the caches do not
/// know.
pub(crate) async fn identify(core: &Core, request: &mut Request<Body>) -> Result<(), Response> {
    let signed_in = if let Some(secret) = bearer(request.headers()) {
        let token = core
            .tokens
            .token(secret)
            .await
            .map_err(failed)?
            .ok_or_else(unknown_token)?;
        let principal = core
            .accounts
            .principal(&token.user_id)
            .await
            .map_err(failed)?;
        match principal {
            Some(principal) if !principal.record.disabled => SignedIn {
                principal,
                session: None,
                with: SignedInWith::Token,
            },
            _ => return Err(disabled()),
        }
    } else {
        let Some(source) = SessionSource::of(request) else {
            return Ok(());
        };
        let Some(auth) = source.auth(core).await else {
            return Ok(());
        };
        if let Some(refusal) = csrf_refusal(request, &auth) {
            return Err(refusal);
        }
        match core
            .accounts
            .principal(&auth.user_id)
            .await
            .map_err(failed)?
        {
            Some(principal) if !principal.record.disabled => SignedIn {
                principal,
                session: Some(auth),
                with: SignedInWith::Session,
            },
            // A deleted or disabled user's session signs nobody in.
            _ => return Ok(()),
        }
    };
    let project = project_of(request, &signed_in).map_err(IntoResponse::into_response)?;
    let entered = core
        .accounts
        .user_in(&signed_in.principal, project.id())
        .await;
    enter(request, &signed_in, project, entered).map_err(IntoResponse::into_response)
}

/// The 403 of a cookie-authenticated write (any method but GET, HEAD,
/// OPTIONS) without the session's CSRF token.
fn csrf_refusal(request: &Request<Body>, auth: &SessionAuth) -> Option<Response> {
    let refused = !raclette_contract::only_reads(request.method().as_str())
        && !csrf_matches(request.headers().get(CSRF_HEADER), &auth.csrf);
    refused.then(|| {
        HttpError::new(
            StatusCode::FORBIDDEN,
            "a write signed in by the session cookie needs the session's CSRF token in the X-CSRF-Token header (from GET /plugin/raclette/core/session)",
        )
        .with_field("X-CSRF-Token")
        .into_response()
    })
}

/// The project the request asks to run in: `X-Raclette-Project`, else the
/// one chosen in the session (while the user is still in it), else the
/// user's home project.
fn project_of(request: &Request<Body>, signed_in: &SignedIn) -> Result<Project, HttpError> {
    let requested = match request.headers().get(PROJECT_HEADER) {
        None => None,
        Some(value) => match value.to_str() {
            Ok(id) if !id.is_empty() && id.len() <= MAX_PROJECT_ID => Some(id),
            _ => {
                return Err(HttpError::bad_request(format!(
                    "the X-Raclette-Project header must be a project id of 1 to {MAX_PROJECT_ID} visible characters"
                ))
                .with_field("X-Raclette-Project"));
            }
        },
    };
    let principal = &signed_in.principal;
    let chosen = signed_in
        .session
        .as_ref()
        .and_then(|auth| auth.project.as_deref())
        .filter(|id| principal.user_in(id).is_some());
    Ok(match requested.or(chosen) {
        Some(id) => Project::new(id),
        None => principal.home_project().clone(),
    })
}

/// Lets the request in as the user in `project`, or refuses it.
fn enter(
    request: &mut Request<Body>,
    signed_in: &SignedIn,
    project: Project,
    entered: Result<Option<Arc<raclette::User>>, crate::CoreError>,
) -> Result<(), HttpError> {
    let user = match entered {
        Ok(Some(user)) => user,
        Ok(None) => {
            return Err(HttpError::new(
                StatusCode::FORBIDDEN,
                format!("you are not a member of project `{}`", project.id()),
            )
            .with_field("X-Raclette-Project"));
        }
        Err(err @ crate::CoreError::NoProject(_)) => {
            return Err(HttpError::from(err).with_field("X-Raclette-Project"));
        }
        Err(err) => return Err(HttpError::from(err)),
    };
    // Only this plugin's routes ask how the request signed in.
    let own_route = request.uri().path().starts_with(crate::ROUTE_PREFIX);
    let extensions = request.extensions_mut();
    extensions.insert(CurrentUser::from(user));
    extensions.insert(project);
    if own_route {
        extensions.insert(signed_in.with);
    }
    Ok(())
}
