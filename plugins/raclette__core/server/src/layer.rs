//! The app-wide layer: sessions (tower-sessions) and the authenticating
//! middleware, run only for requests that can be signed in.
//!
//! Only this plugin's routes change a session (sign-in, sign-out, project
//! switch), so only they take the session layer. Every other request is
//! identified where it stands: anonymous when it has neither an
//! `Authorization` header nor the session cookie, else from the caches of
//! tokens, sessions (by the cookie's value) and users when they know it,
//! and only otherwise through the authenticating middleware, which reads
//! the database. No cookie jar, no session object, no copy of the record,
//! no boxed future for the usual request. The one thing such a request
//! no longer does is tell the browser to drop a cookie whose session has
//! ended; the next request to this plugin's routes does.

use std::{
    convert::Infallible,
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::future::{Either, Ready, ready};
use raclette::{
    Body,
    http::{HeaderMap, Request, header},
    response::Response,
};
use tower::util::{Oneshot, ServiceExt};
use tower_layer::Layer;
use tower_service::Service;
use tower_sessions::cookie::Cookie;

use crate::{
    Core, SESSION_COOKIE,
    authenticate::{Authenticate, AuthenticateLayer, identify_now},
};

/// Wraps each route in `full` (sessions and authentication) for this
/// plugin's routes, and in `token` (authentication alone) for other
/// requests with a cookie or a token; see [`credentials`].
#[derive(Clone)]
pub(crate) struct SignInLayer<L> {
    /// The layers that keep the session and identify the request.
    pub(crate) full: L,
    /// The layer that identifies a request by its token or session cookie.
    pub(crate) token: AuthenticateLayer,
}

impl<L, S> Layer<S> for SignInLayer<L>
where
    L: Layer<S>,
    S: Clone,
{
    type Service = SignInService<S, L::Service, Authenticate<S>>;

    fn layer(&self, inner: S) -> Self::Service {
        SignInService {
            core: self.token.0.clone(),
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
    core: Arc<Core>,
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
    type Future = Either<
        Either<S::Future, Ready<Result<Response, Infallible>>>,
        Either<Oneshot<F, Request<Body>>, Oneshot<T, Request<Body>>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The identifying stack is readied when it takes a request.
        self.plain.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        if request.uri().path().starts_with(crate::ROUTE_PREFIX) {
            // This plugin's routes sign in and out, switch projects and read
            // the session: the session layer runs.
            return Either::Right(Either::Left(F::clone(&self.full).oneshot(request)));
        }
        // Anonymous, or identified from the caches: the request goes
        // straight to the route. The identifying stack (a clone per
        // request) is for the requests that must read the database first.
        match identify_now(&self.core, &mut request) {
            Some(Ok(())) => Either::Left(Either::Left(self.plain.call(request))),
            Some(Err(refusal)) => Either::Left(Either::Right(ready(Ok(refusal)))),
            None => Either::Right(Either::Right(T::clone(&self.token).oneshot(request))),
        }
    }
}

/// The session cookie, if the request has one, read as the session layer
/// reads it (tower-cookies' jar: percent-decoded, the last one when there
/// are several), so that every route takes a request for the same session.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<Cookie<'_>> {
    let is_session = |cookie: &Cookie<'_>| cookie.name() == SESSION_COOKIE;
    let mut last = None;
    for value in headers.get_all(header::COOKIE).iter() {
        let Ok(value) = value.to_str() else { continue };
        // Without a `%`, decoding changes nothing: the plain parse, which
        // costs less, finds the same cookies.
        let found = if value.contains('%') {
            Cookie::split_parse_encoded(value)
                .filter_map(Result::ok)
                .filter(is_session)
                .last()
        } else {
            Cookie::split_parse(value)
                .filter_map(Result::ok)
                .filter(is_session)
                .last()
        };
        if found.is_some() {
            last = found;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let headers = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::COOKIE, value.parse().unwrap());
            headers
        };
        let value = |headers: &HeaderMap| session_cookie(headers).map(|c| c.value().to_owned());
        assert_eq!(
            value(&headers("a=1; raclette_session=abc ; b=2")).as_deref(),
            Some("abc")
        );
        assert_eq!(value(&headers("raclette_sessionx=1")), None);
        assert_eq!(value(&headers("theme=dark")), None);
        assert_eq!(value(&HeaderMap::new()), None);
        // As the session layer reads it: decoded, and the last of several.
        assert_eq!(
            value(&headers("raclette_session=%41bc")).as_deref(),
            Some("Abc")
        );
        assert_eq!(
            value(&headers("raclette_session=first; raclette_session=last")).as_deref(),
            Some("last")
        );
        let mut two = headers("raclette_session=first");
        two.append(header::COOKIE, "raclette_session=second".parse().unwrap());
        assert_eq!(value(&two).as_deref(), Some("second"));
        assert_eq!(
            crate::ROUTE_PREFIX,
            format!("{}/", raclette_contract::route_prefix("raclette__core"))
        );
    }
}
