//! The app-wide middleware that says who a request comes from and which
//! project it runs in.
//!
//! Credentials, in order: an `Authorization: Bearer` API token, else the
//! session cookie. A cookie-authenticated write (any method but GET, HEAD,
//! OPTIONS) must carry the session's CSRF token in `X-CSRF-Token`. The
//! project is the one `X-Raclette-Project` names, else the one chosen in
//! the session, else the user's home project; naming a project the user is
//! not a member of answers 403. A request without credentials goes on
//! anonymous: the route guard decides what it may reach.

use std::sync::Arc;

use raclette::{
    Body, CurrentUser, HttpError, Project,
    http::{HeaderMap, HeaderValue, Request, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use subtle::ConstantTimeEq;
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
pub(crate) async fn authenticate(
    core: Arc<Core>,
    mut request: Request<Body>,
    next: Next,
) -> Response {
    match identify(&core, &mut request).await {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
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

async fn identify(core: &Core, request: &mut Request<Body>) -> Result<(), Response> {
    let failed = |err: crate::CoreError| HttpError::from(err).into_response();
    let (principal, chosen, with): (Arc<Principal>, Option<String>, SignedInWith) = if let Some(
        secret,
    ) =
        bearer(request.headers())
    {
        let refused = || unauthorized("the API token is unknown, revoked or expired");
        let user_id = core
            .tokens
            .user_of(secret)
            .await
            .map_err(failed)?
            .ok_or_else(refused)?;
        let principal = core.accounts.principal(&user_id).await.map_err(failed)?;
        match principal {
            Some(p) if !p.record.disabled => (p, None, SignedInWith::Token),
            _ => return Err(unauthorized("this account is disabled")),
        }
    } else {
        let Some(source) = SessionSource::of(request) else {
            return Ok(());
        };
        let Some(auth) = source.auth(core).await else {
            return Ok(());
        };
        if !raclette_contract::only_reads(request.method().as_str())
            && !csrf_matches(request.headers().get(CSRF_HEADER), &auth.csrf)
        {
            return Err(HttpError::new(
                    StatusCode::FORBIDDEN,
                    "a write signed in by the session cookie needs the session's CSRF token in the X-CSRF-Token header (from GET /plugin/raclette/core/session)",
                )
                .with_field("X-CSRF-Token")
                .into_response());
        }
        match core
            .accounts
            .principal(&auth.user_id)
            .await
            .map_err(failed)?
        {
            Some(p) if !p.record.disabled => (p, auth.project.clone(), SignedInWith::Session),
            // A deleted or disabled user's session signs nobody in.
            _ => return Ok(()),
        }
    };
    let requested = match request.headers().get(PROJECT_HEADER) {
        None => None,
        Some(value) => match value.to_str() {
            Ok(id) if !id.is_empty() && id.len() <= MAX_PROJECT_ID => Some(id.to_owned()),
            _ => {
                return Err(HttpError::bad_request(format!(
                    "the X-Raclette-Project header must be a project id of 1 to {MAX_PROJECT_ID} visible characters"
                ))
                .with_field("X-Raclette-Project")
                .into_response());
            }
        },
    };
    let project = match requested {
        Some(id) => id,
        None => chosen
            .filter(|id| principal.user_in(id).is_some())
            .unwrap_or_else(|| principal.home_project()),
    };
    let entered = match core.accounts.user_in(&principal, &project).await {
        Ok(entered) => entered,
        Err(err @ crate::CoreError::NoProject(_)) => {
            return Err(HttpError::from(err)
                .with_field("X-Raclette-Project")
                .into_response());
        }
        Err(err) => return Err(failed(err)),
    };
    let Some(user) = entered else {
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            format!("you are not a member of project `{project}`"),
        )
        .with_field("X-Raclette-Project")
        .into_response());
    };
    let extensions = request.extensions_mut();
    extensions.insert(CurrentUser::from(user));
    extensions.insert(Project::new(project));
    extensions.insert(with);
    Ok(())
}
