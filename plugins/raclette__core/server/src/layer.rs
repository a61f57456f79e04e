//! The app-wide layer: sessions (tower-sessions) and the authenticating
//! middleware, run only for requests that can be signed in.
//!
//! A request without a session cookie, without an `Authorization` header
//! and outside this plugin's own routes is anonymous whatever the layers
//! would do, so it skips them: no cookie jar, no session, no lookup. That
//! keeps the cost of the plugin off anonymous traffic (public pages,
//! health checks, apps with authentication off).

use std::{
    convert::Infallible,
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::future::Either;
use raclette::{
    Body,
    http::{Request, header},
    response::Response,
};
use tower::util::{Oneshot, ServiceExt};
use tower_layer::Layer;
use tower_service::Service;

use crate::SESSION_COOKIE;

/// Wraps each route in `full` (sessions and authentication), used only
/// for requests that [`may_sign_in`].
#[derive(Clone)]
pub(crate) struct SignInLayer<L> {
    /// The layers that identify a request.
    pub(crate) full: L,
}

impl<L, S> Layer<S> for SignInLayer<L>
where
    L: Layer<S>,
    S: Clone,
{
    type Service = SignInService<S, L::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        SignInService {
            plain: inner.clone(),
            full: Arc::new(self.full.layer(inner)),
        }
    }
}

/// The route, reached directly or through the identifying layers. The
/// router clones a route's service for every request: the identifying
/// stack is shared and cloned only for the requests that take it.
#[derive(Clone)]
pub(crate) struct SignInService<S, F> {
    plain: S,
    full: Arc<F>,
}

impl<S, F> Service<Request<Body>> for SignInService<S, F>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
    F: Service<Request<Body>, Response = Response, Error = Infallible> + Clone,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, Oneshot<F, Request<Body>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The identifying stack is readied when it takes a request.
        self.plain.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if may_sign_in(&request) {
            Either::Right(F::clone(&self.full).oneshot(request))
        } else {
            Either::Left(self.plain.call(request))
        }
    }
}

/// Whether a request carries credentials (a session cookie, an
/// `Authorization` header) or reaches this plugin's routes, which sign in
/// and out.
pub(crate) fn may_sign_in(request: &Request<Body>) -> bool {
    request.uri().path().starts_with(crate::ROUTE_PREFIX)
        || request.headers().contains_key(header::AUTHORIZATION)
        || request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .any(|value| has_session_cookie(value.as_bytes()))
}

/// Whether a `Cookie` header value holds the session cookie.
fn has_session_cookie(value: &[u8]) -> bool {
    value.split(|b| *b == b';').any(|pair| {
        let pair = pair.trim_ascii_start();
        pair.strip_prefix(SESSION_COOKIE.as_bytes())
            .is_some_and(|rest| rest.starts_with(b"="))
    })
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
        assert!(!may_sign_in(&request(
            "/plugin/pacifico/todo/todo/all",
            &[]
        )));
        assert!(!may_sign_in(&request(
            "/plugin/pacifico/todo/todo/all",
            &[("cookie", "theme=dark; raclette_sessionx=1")]
        )));
        assert!(may_sign_in(&request(
            "/plugin/pacifico/todo/todo/all",
            &[("cookie", "theme=dark; raclette_session=abc")]
        )));
        assert!(may_sign_in(&request(
            "/plugin/pacifico/todo/todo/all",
            &[("authorization", "Bearer rct_x")]
        )));
        assert!(may_sign_in(&request("/plugin/raclette/core/session", &[])));
        assert_eq!(
            crate::ROUTE_PREFIX,
            format!("{}/", raclette_contract::route_prefix("raclette__core"))
        );
    }
}
