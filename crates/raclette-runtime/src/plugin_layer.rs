//! The one layer around every route of a plugin: the request runs inside the
//! plugin's span (whatever a handler logs names the plugin), carries the
//! plugin's scope (for the `Service` and `Data` extractors), and a panic in a
//! handler or in the plugin's middleware answers 500 instead of ending the
//! connection.
//!
//! These three are one layer rather than three (tracing's `Instrumented`,
//! `axum::Extension`, tower-http's `CatchPanicLayer`) because every layer
//! around a route costs a boxed service clone and a larger future on every
//! request; together they cost one. Entering an existing span costs next to
//! nothing, unlike creating a span per request; the per-request span of
//! `TraceLayer` is at `debug` level and only built when that level is on.

use std::{
    any::Any,
    convert::Infallible,
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    body::Body,
    http::{Request, Response},
};
use raclette::__private::PluginScope;
use tower::{Layer, Service};
use tracing::Span;

use crate::mount::panic_response;

/// Wraps every route of one plugin; see the module documentation.
#[derive(Clone)]
pub(crate) struct PluginLayer {
    span: Span,
    scope: Option<PluginScope>,
    folder: Arc<str>,
}

impl PluginLayer {
    pub(crate) fn new(folder: &str, span: Span, scope: Option<PluginScope>) -> Self {
        Self {
            span,
            scope,
            folder: folder.into(),
        }
    }
}

impl<S> Layer<S> for PluginLayer {
    type Service = PluginService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PluginService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`PluginLayer`].
#[derive(Clone)]
pub(crate) struct PluginService<S> {
    inner: S,
    layer: PluginLayer,
}

impl<S> Service<Request<Body>> for PluginService<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = PluginFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        if let Some(scope) = &self.layer.scope {
            request.extensions_mut().insert(scope.clone());
        }
        let _entered = self.layer.span.enter();
        match catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(inner) => PluginFuture::Running {
                inner,
                span: self.layer.span.clone(),
                folder: self.layer.folder.clone(),
            },
            Err(panic) => PluginFuture::Panicked {
                answer: Some(self.answer(&*panic)),
            },
        }
    }
}

impl<S> PluginService<S> {
    fn answer(&self, panic: &(dyn Any + Send)) -> Response<Body> {
        panic_response(&self.layer.folder, panic)
    }
}

pin_project_lite::pin_project! {
    /// The future of [`PluginService`].
    #[project = PluginFutureProjection]
    pub(crate) enum PluginFuture<F> {
        /// The route's future, polled inside the span.
        Running { #[pin] inner: F, span: Span, folder: Arc<str> },
        /// The route panicked before it returned a future.
        Panicked { answer: Option<Response<Body>> },
    }
}

impl<F> Future for PluginFuture<F>
where
    F: Future<Output = Result<Response<Body>, Infallible>>,
{
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            PluginFutureProjection::Running {
                inner,
                span,
                folder,
            } => {
                let _entered = span.enter();
                match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
                    Ok(poll) => poll,
                    Err(panic) => Poll::Ready(Ok(panic_response(folder, &*panic))),
                }
            }
            PluginFutureProjection::Panicked { answer } => {
                Poll::Ready(Ok(answer.take().expect("polled after completion")))
            }
        }
    }
}
