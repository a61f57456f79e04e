//! The app-wide layer: sessions (tower-sessions) and the authenticating
//! middleware, run only for requests that can be signed in.
//!
//! A request without a session cookie, without an `Authorization` header
//! and outside this plugin's own routes is anonymous whatever the layers
//! would do, so it skips them: no cookie jar, no session, no lookup. That
//! keeps the cost of the plugin off anonymous traffic (public pages,
//! health checks, apps with authentication off).
//!
//! Only this plugin's routes change a session (sign-in, sign-out, project
//! switch), so only they take the session layer. Every other request with
//! a cookie or a token takes the authenticating middleware alone, which
//! reads the session by the cookie's id from the store: no cookie jar, no
//! session object, no copy of the record. The one thing such a request no
//! longer does is tell the browser to drop a cookie whose session has
//! ended; the next request to this plugin's routes does.

use std::{
    convert::Infallible,
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::future::Either;
use raclette::{
    Body,
    http::{HeaderMap, Request, header},
    response::Response,
};
use tower::util::{Oneshot, ServiceExt};
use tower_layer::Layer;
use tower_service::Service;
use tower_sessions::cookie::Cookie;

use crate::SESSION_COOKIE;

/// Wraps each route in `full` (sessions and authentication) for this
/// plugin's routes, and in `token` (authentication alone) for other
/// requests with a cookie or a token; see [`credentials`].
#[derive(Clone)]
pub(crate) struct SignInLayer<L, T> {
    /// The layers that keep the session and identify the request.
    pub(crate) full: L,
    /// The layer that identifies a request by its token or session cookie.
    pub(crate) token: T,
}

impl<L, T, S> Layer<S> for SignInLayer<L, T>
where
    L: Layer<S>,
    T: Layer<S>,
    S: Clone,
{
    type Service = SignInService<S, L::Service, T::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        SignInService {
            plain: inner.clone(),
            full: Arc::new(self.full.layer(inner.clone())),
            token: Arc::new(self.token.layer(inner)),
        }
    }
}

/// The route, reached directly or through one of the identifying stacks. The
/// router clones a route's service for every request: the identifying
/// stack is shared and cloned only for the requests that take it.
#[derive(Clone)]
pub(crate) struct SignInService<S, F, T> {
    plain: S,
    full: Arc<F>,
    token: Arc<T>,
}

impl<S, F, T> Service<Request<Body>> for SignInService<S, F, T>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
    F: Service<Request<Body>, Response = Response, Error = Infallible> + Clone,
    T: Service<Request<Body>, Response = Response, Error = Infallible> + Clone,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, Either<Oneshot<F, Request<Body>>, Oneshot<T, Request<Body>>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The identifying stack is readied when it takes a request.
        self.plain.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        match credentials(&request) {
            Credentials::Session => {
                Either::Right(Either::Left(F::clone(&self.full).oneshot(request)))
            }
            Credentials::Token => {
                Either::Right(Either::Right(T::clone(&self.token).oneshot(request)))
            }
            Credentials::None => Either::Left(self.plain.call(request)),
        }
    }
}

/// What a request may be signed in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// A request to this plugin's routes (which sign in and out, switch
    /// projects and read the session): the session layer runs.
    Session,
    /// An `Authorization` header or a session cookie, to another route:
    /// the middleware reads them itself.
    Token,
    /// Nothing: the request is anonymous.
    None,
}

/// What `request` may be signed in with.
pub(crate) fn credentials(request: &Request<Body>) -> Credentials {
    if request.uri().path().starts_with(crate::ROUTE_PREFIX) {
        Credentials::Session
    } else if request.headers().contains_key(header::AUTHORIZATION)
        || request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .any(|value| has_session_cookie(value.as_bytes()))
    {
        Credentials::Token
    } else {
        Credentials::None
    }
}

/// Whether a `Cookie` header value may hold the session cookie: a quick
/// look on every request that routes it; the middleware reads the value
/// with [`session_cookie`].
fn has_session_cookie(value: &[u8]) -> bool {
    value.split(|b| *b == b';').any(|pair| {
        pair.trim_ascii_start()
            .strip_prefix(SESSION_COOKIE.as_bytes())
            .is_some_and(|rest| rest.starts_with(b"="))
    })
}

/// The value of the session cookie, if the request has one (the first,
/// if it has several).
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == SESSION_COOKIE)?
        .value_raw()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
        let mut builder = Request::builder().uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn only_requests_that_can_sign_in_take_the_layers() {
        let todos = "/plugin/pacifico/todo/todo/all";
        let of = |path: &str, headers: &[(&str, &str)]| credentials(&request(path, headers));
        assert_eq!(of(todos, &[]), Credentials::None);
        assert_eq!(
            of(todos, &[("cookie", "theme=dark; raclette_sessionx=1")]),
            Credentials::None
        );
        assert_eq!(
            of(todos, &[("cookie", "theme=dark; raclette_session=abc")]),
            Credentials::Token
        );
        assert_eq!(
            of(todos, &[("authorization", "Bearer rct_x")]),
            Credentials::Token
        );
        assert_eq!(
            of(
                todos,
                &[
                    ("authorization", "Bearer rct_x"),
                    ("cookie", "raclette_session=abc")
                ]
            ),
            Credentials::Token
        );
        assert_eq!(
            of(
                "/plugin/raclette/core/token",
                &[("authorization", "Bearer x")]
            ),
            Credentials::Session
        );
        let headers = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::COOKIE, value.parse().unwrap());
            headers
        };
        let both = headers("a=1; raclette_session=abc ; b=2");
        assert_eq!(session_cookie(&both), Some("abc"));
        assert_eq!(session_cookie(&headers("raclette_sessionx=1")), None);
        assert_eq!(
            crate::ROUTE_PREFIX,
            format!("{}/", raclette_contract::route_prefix("raclette__core"))
        );
    }
}
