//! The plugins' request identifiers ([`raclette::IdentifyRequests`]), run
//! once per request before routing.

use std::{panic::AssertUnwindSafe, sync::Arc};

use axum::{
    Router,
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures_util::FutureExt;
use raclette::{HttpError, Identified, IdentifyRequests};
use tracing::{Instrument, Span};

/// One plugin's identifier, with the plugin's span for its log lines.
struct Identifier {
    identify: Arc<dyn IdentifyRequests>,
    folder: String,
    span: Span,
}

/// Every plugin's identifier, in dependency order.
#[derive(Clone, Default)]
pub(crate) struct Identifiers(Arc<[Identifier]>);

impl Identifiers {
    /// The identifiers of `plugins` (folder, span, identifiers), in order.
    pub(crate) fn new<'a>(
        plugins: impl IntoIterator<Item = (&'a str, &'a Span, Vec<Arc<dyn IdentifyRequests>>)>,
    ) -> Self {
        let mut all = Vec::new();
        for (folder, span, identifiers) in plugins {
            all.extend(identifiers.into_iter().map(|identify| Identifier {
                identify,
                folder: folder.to_owned(),
                span: span.clone(),
            }));
        }
        Identifiers(all.into())
    }

    /// Runs the identifiers on `request` as far as they can go without
    /// waiting: the request to route, the answer one of them gave (a 500
    /// when one panicked), or the rest of the work when one must wait.
    pub(crate) fn identify_now(&self, request: Request) -> Identified {
        self.identify_now_from(0, request)
    }

    /// Runs every identifier on `request`: the request to route, or the
    /// answer one of them gave (a 500 when one panicked).
    pub(crate) async fn identify(&self, request: Request) -> Result<Request, Response> {
        self.identify_from(0, request).await
    }

    /// [`Identifiers::identify_now`] from the identifier at `first` on.
    fn identify_now_from(&self, first: usize, mut request: Request) -> Identified {
        for (at, identifier) in self.0.iter().enumerate().skip(first) {
            let identified = std::panic::catch_unwind(AssertUnwindSafe(|| {
                identifier.identify.identify(request)
            }));
            request = match identified {
                Err(panic) => return Identified::Answered(identifier.panicked(&*panic)),
                Ok(Identified::Ready(request)) => request,
                Ok(answered @ Identified::Answered(_)) => return answered,
                Ok(Identified::Later(future)) => {
                    let identifiers = self.clone();
                    return Identified::later(async move {
                        let request = identifiers.0[at].wait(future).await?;
                        identifiers.identify_from(at + 1, request).await
                    });
                }
            };
        }
        Identified::Ready(request)
    }

    /// [`Identifiers::identify`] from the identifier at `first` on.
    async fn identify_from(&self, first: usize, request: Request) -> Result<Request, Response> {
        match self.identify_now_from(first, request) {
            Identified::Ready(request) => Ok(request),
            Identified::Answered(answer) => Err(answer),
            Identified::Later(rest) => rest.await,
        }
    }

    /// `router` with the identifiers in front of every route, for callers
    /// that use the router without the server ([`crate::Built::router`]).
    pub(crate) fn in_front_of(&self, router: Router) -> Router {
        if self.0.is_empty() {
            return router;
        }
        router.layer(axum::middleware::from_fn_with_state(
            self.clone(),
            |State(identifiers): State<Identifiers>, request: Request, next: Next| async move {
                match identifiers.identify(request).await {
                    Ok(request) => next.run(request).await,
                    Err(answer) => answer,
                }
            },
        ))
    }
}

impl Identifier {
    /// Waits for what this identifier must wait for, in its plugin's span.
    async fn wait(&self, future: raclette::Identifying) -> Result<Request, Response> {
        AssertUnwindSafe(future)
            .catch_unwind()
            .instrument(self.span.clone())
            .await
            .map_err(|panic| self.panicked(&*panic))?
    }

    /// The 500 of an identifier that panicked; the panic is logged.
    fn panicked(&self, panic: &(dyn std::any::Any + Send)) -> Response {
        let message = raclette::__private::panic_message(panic);
        self.span.in_scope(|| {
            tracing::error!(plugin = %self.folder, panic = %message, "identifying a request panicked");
        });
        HttpError::internal("identifying the request failed").into_response()
    }
}
