//! Who sends a request, decided once before any route sees it.
//!
//! A plugin that signs users in registers an [`IdentifyRequests`] with
//! [`crate::Registrar::identify_requests`]; the runtime calls it for every
//! request of the app, before routing, and the request goes on with the
//! [`crate::CurrentUser`] and [`crate::Project`] it put into its extensions.
//! Unlike an app-wide layer ([`crate::Registrar::app_layer`]), which wraps
//! every route in a service of its own, it costs one call per request, and
//! a request it can settle at once (anonymous, or known from a cache) takes
//! no boxed future.

use std::{future::Future, pin::Pin};

use axum::{extract::Request, response::Response};

/// What an identifier that must wait first ([`Identified::Later`]) gives:
/// the request to go on with, or the answer.
pub type Identifying = Pin<Box<dyn Future<Output = Result<Request, Response>> + Send>>;

/// What [`IdentifyRequests::identify`] decided about a request.
pub enum Identified {
    /// The request goes on to the routes.
    Ready(Request),
    /// The request is answered at once (a 401, say); no route sees it.
    Answered(Response),
    /// The request must wait first (for the database, say); the future
    /// gives it back to go on, or the answer.
    Later(Identifying),
}

impl Identified {
    /// Waits for `future`, then goes on with the request it gives back or
    /// answers with its response.
    ///
    /// ```
    /// use raclette::{CurrentUser, Identified, http::Request};
    ///
    /// let request = Request::new(raclette::Body::empty());
    /// let identified = Identified::later(async move {
    ///     let mut request = request;
    ///     request.extensions_mut().insert(CurrentUser::anonymous());
    ///     Ok(request)
    /// });
    /// assert!(matches!(identified, Identified::Later(_)));
    /// ```
    pub fn later(future: impl Future<Output = Result<Request, Response>> + Send + 'static) -> Self {
        Identified::Later(Box::pin(future))
    }
}

/// Identifies every request of the app before routing: puts the request's
/// [`crate::CurrentUser`] and [`crate::Project`] into its extensions, or
/// answers it (a 401 for an unknown token, say).
///
/// The runtime calls the identifiers of all plugins in dependency order,
/// each with the request the previous one gave back; between plugins that
/// do not depend on each other no order is promised. A panic in one
/// answers 500, and the server goes on.
///
/// An identifier runs for every request of the app, framework endpoints
/// and unknown paths included: it should answer only requests whose
/// credentials it rejects, and let requests without its credentials go on.
///
/// The built-in `raclette__core` plugin identifies requests by session
/// cookie and API token, and answers 401 to an unknown token whatever an
/// earlier identifier decided. An app that brings its own sign-in turns it
/// off (`[plugins.raclette__core] enabled = false` in `raclette.toml`), as
/// it would the built-in realtime plugin to bring its own broadcaster.
///
/// ```
/// use raclette::{CurrentUser, HttpError, Identified, IdentifyRequests, Project, User};
/// use raclette::http::{Request, StatusCode, header};
/// use raclette::response::IntoResponse;
///
/// /// Signs in whoever sends `Authorization: Bearer let-me-in`.
/// struct Demo;
///
/// impl IdentifyRequests for Demo {
///     fn identify(&self, mut request: Request<raclette::Body>) -> Identified {
///         let Some(value) = request.headers().get(header::AUTHORIZATION) else {
///             return Identified::Ready(request); // anonymous
///         };
///         if value != "Bearer let-me-in" {
///             let refusal = HttpError::new(StatusCode::UNAUTHORIZED, "unknown token");
///             return Identified::Answered(refusal.into_response());
///         }
///         let user = User::new("u1", "ada@example.com").with_permissions(["*"]);
///         request.extensions_mut().insert(CurrentUser::signed_in(user));
///         request.extensions_mut().insert(Project::new("acme"));
///         Identified::Ready(request)
///     }
/// }
///
/// # fn plugin(app: &mut raclette::Registrar) {
/// app.identify_requests(Demo);
/// # }
/// ```
pub trait IdentifyRequests: Send + Sync + 'static {
    /// Identifies `request`: [`Identified::Ready`] to go on,
    /// [`Identified::Answered`] to answer it here, [`Identified::Later`]
    /// when something must be awaited first.
    fn identify(&self, request: Request) -> Identified;
}
