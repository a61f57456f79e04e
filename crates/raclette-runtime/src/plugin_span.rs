//! A layer that runs every request of a plugin inside the plugin's span, so
//! whatever a handler logs names the plugin.
//!
//! Entering an existing span costs next to nothing, unlike creating a span
//! per request; the per-request span of `TraceLayer` is at `debug` level and
//! only built when that level is on.

use std::task::{Context, Poll};

use tower::{Layer, Service};
use tracing::{Instrument, Span, instrument::Instrumented};

/// Wraps a service so its futures run inside `span`.
#[derive(Clone)]
pub(crate) struct PluginSpanLayer {
    span: Span,
}

impl PluginSpanLayer {
    pub(crate) fn new(span: Span) -> Self {
        Self { span }
    }
}

impl<S> Layer<S> for PluginSpanLayer {
    type Service = PluginSpan<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PluginSpan {
            inner,
            span: self.span.clone(),
        }
    }
}

/// The service of [`PluginSpanLayer`].
#[derive(Clone)]
pub(crate) struct PluginSpan<S> {
    inner: S,
    span: Span,
}

impl<S, R> Service<R> for PluginSpan<S>
where
    S: Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Instrumented<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let _entered = self.span.enter();
        self.inner.call(request).instrument(self.span.clone())
    }
}
