//! The middleware around a data operation's handler.
//!
//! Every data operation that writes and declares events is wrapped in
//! [`DataOperationLayer`]: after a successful answer it hands the returned
//! items to the app's broadcaster on each of the operation's channels. This
//! is also where permission checks and tenant scoping of data operations
//! belong.

use std::{
    convert::Infallible,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{body::Body, extract::Request, response::Response};
use futures_util::future::BoxFuture;
use tower_layer::Layer;
use tower_service::Service;

use crate::{DataOperation, Project, context::from_extensions, scope::PluginScope};

/// Wraps one data operation's route.
#[derive(Clone)]
pub(crate) struct DataOperationLayer {
    operation: Arc<DataOperation>,
}

impl DataOperationLayer {
    pub(crate) fn new(operation: DataOperation) -> Self {
        DataOperationLayer {
            operation: Arc::new(operation),
        }
    }
}

impl<S> Layer<S> for DataOperationLayer {
    type Service = DataOperationService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DataOperationService {
            inner,
            operation: Arc::clone(&self.operation),
        }
    }
}

/// The service of [`DataOperationLayer`].
#[derive(Clone)]
pub(crate) struct DataOperationService<S> {
    inner: S,
    operation: Arc<DataOperation>,
}

impl<S> Service<Request> for DataOperationService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let scope =
            PluginScope::try_current(|scope| scope.has_broadcaster().then(|| scope.clone()))
                .flatten();
        let project: Project = from_extensions(request.extensions());
        let operation = Arc::clone(&self.operation);
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        Box::pin(async move {
            let response = inner.call(request).await?;
            let Some(scope) = scope else {
                return Ok(response);
            };
            if !response.status().is_success() {
                return Ok(response);
            }
            let (parts, body) = response.into_parts();
            let bytes = match axum::body::to_bytes(body, usize::MAX).await {
                Ok(bytes) => bytes,
                Err(err) => {
                    tracing::error!(target: "raclette::data", operation = %operation.name, error = %err, "the answer's body failed; nothing broadcast");
                    return Ok(Response::from_parts(parts, Body::empty()));
                }
            };
            match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(value) => {
                    let items = match value {
                        serde_json::Value::Array(items) => items,
                        item => vec![item],
                    };
                    let broadcast = scope.broadcast();
                    // Listeners get what they could read themselves.
                    let permission = scope.read_permission(&operation.data_type);
                    for event in &operation.events {
                        broadcast.send_requiring(&project, event, items.clone(), permission);
                    }
                }
                Err(_) => tracing::warn!(
                    target: "raclette::data",
                    operation = %format!("{}.{}", operation.data_type, operation.name),
                    "the answer is not JSON; nothing broadcast"
                ),
            }
            Ok(Response::from_parts(parts, Body::from(bytes)))
        })
    }
}
