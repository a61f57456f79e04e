//! # raclette: the plugin API
//!
//! This is the crate a plugin's server half compiles against. It is kept
//! small on purpose (no server, no discovery, no build tooling) so that plugin
//! crates compile quickly and break rarely; the runtime that mounts plugins
//! lives in `raclette-runtime`.
//!
//! A plugin's `server/src/lib.rs` exposes one entry point, a function named
//! `plugin`, that the framework calls once at start-up, in dependency order:
//!
//! ```
//! use raclette::{Json, Registrar, Routes};
//! use serde_json::{json, Value};
//!
//! /// Entry point called by the framework.
//! pub fn plugin(app: &mut Registrar) -> raclette::Result<()> {
//!     app.routes(Routes::new().get("/hello", hello))?;
//!     Ok(())
//! }
//!
//! async fn hello() -> Json<Value> {
//!     Json(json!({ "message": "hello" }))
//! }
//! # let _ = plugin;
//! ```
//!
//! Routes are mounted under the plugin's prefix (`/plugin/<author>/<name>`),
//! so the route above answers `GET /plugin/acme/greeter/hello` for a plugin
//! in the folder `plugins/acme__greeter/`.
//!
//! Everything else a plugin can do goes through the [`Registrar`]:
//! middleware ([`Registrar::layer`], [`Registrar::app_layer`]), request
//! identifiers ([`Registrar::identify_requests`]), typed options
//! ([`Registrar::options`]), services shared with dependent plugins
//! ([`Registrar::provide`], [`Registrar::service`]), lifecycle hooks
//! ([`Registrar::on_before_mount`], [`Registrar::on_mounted`],
//! [`Registrar::on_before_unmount`]), collections of the plugin's own types
//! ([`Registrar::collection`], see [`data`]: the way to store data) and
//! the app's database for SQL of its own ([`Registrar::database`]).

//! Handlers read who is asking through extractors that every plugin may
//! use without depending on the plugin that implements them:
//! [`CurrentUser`], [`Project`], [`Broadcast`] and [`Service`].
//!
//! ## What the crate re-exports, and how to use more
//!
//! Only what the plugin API needs: [`http`] (methods, status codes,
//! headers), [`extract`] (path, query, state), [`response`], [`middleware`]
//! (function middleware), [`db`] (queries on [`Database`]),
//! [`tracing`], and [`TS`] with [`ts_rs`] (TypeScript declarations of the
//! item types named by [`DataOperation::items`]). For anything else, depend on the crate yourself with the
//! version the framework uses (`axum = "0.8"`, `sqlx = "0.9"`,
//! `tower = "0.5"`): cargo unifies them, so the types match.

mod broadcast;
mod connection;
mod context;
pub mod data;
mod data_operation;
mod error;
pub mod events;
mod guard;
mod hooks;
mod http_error;
mod identify;
mod info;
mod json;
mod plugin;
mod registrar;
mod routes;
mod scope;
mod security_headers;
mod services;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use broadcast::{Broadcast, Broadcaster};
pub use connection::CloseConnection;
pub use context::{CurrentUser, Project, User};
pub use error::{Error, Result, RouteProblem};
pub use http_error::HttpError;
pub use identify::{Identified, IdentifyRequests, Identifying};
pub use info::PluginInfo;
pub use json::Json;
pub use plugin::Plugin;
pub use raclette_contract::BroadcastMessage;
pub use raclette_contract::{
    DataOperation, ErrorBody, ItemType, OperationKind, PluginSummary, RouteAccess, RouteDocs,
    RouteInfo, TypeSchema,
};
pub use registrar::Registrar;
pub use routes::Routes;
pub use scope::Service;

/// The app's database: a connection pool that speaks SQLite (the default) or
/// PostgreSQL, chosen by `[database] url` in `raclette.toml`.
///
/// Write SQL with `$1`, `$2`, … placeholders in order; both engines accept
/// them. Queries are built with [`db`].
///
/// ```
/// # async fn f(app: &mut raclette::Registrar<'_>) -> Result<(), raclette::db::Error> {
/// let db: raclette::Database = app.database();
/// raclette::db::query("SELECT 1").execute(&db).await?;
/// # Ok(()) }
/// ```
pub type Database = sqlx::AnyPool;

/// A request or response body.
///
/// ```
/// let body = raclette::Body::from("hello");
/// # let _ = body;
/// ```
pub type Body = axum::body::Body;

/// HTTP types: methods, status codes, headers, requests and responses.
pub mod http {
    pub use axum::http::{
        HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri, header,
    };
}

/// Extractors of axum that handlers commonly need, besides [`crate::Json`],
/// [`crate::CurrentUser`], [`crate::Project`], [`crate::Broadcast`] and
/// [`crate::Service`].
pub mod extract {
    pub use crate::connection::ClientAddr;
    pub use axum::extract::{Extension, OriginalUri, Path, Query, State};
}

/// Turning handler results into answers.
pub mod response {
    pub use axum::response::{IntoResponse, Response};
}

/// Middleware written as async functions, for [`crate::Registrar::layer`]
/// and [`crate::Registrar::app_layer`].
pub mod middleware {
    pub use axum::middleware::{Next, from_fn, map_request, map_response};
}

/// Queries on the app's [`crate::Database`] (`sqlx` with the `Any`
/// driver).
///
/// ```
/// # async fn f(db: raclette::Database) -> Result<(), raclette::db::Error> {
/// use raclette::db::Row;
/// let row = raclette::db::query("SELECT name FROM acme_notes WHERE id = $1")
///     .bind("n1")
///     .fetch_one(&db)
///     .await?;
/// let name: String = row.try_get("name")?;
/// # let _ = name; Ok(()) }
/// ```
pub mod db {
    pub use sqlx::{
        AssertSqlSafe, Error, Row, any::AnyRow, query, query_as, query_scalar, raw_sql,
    };
}

/// The trait, and its derive, of types with a JSON Schema: the OpenAPI
/// document (`GET /raclette/openapi.json`) describes bodies, answers and
/// query parameters with it (see [`Routes::accepts`]). Derive it beside
/// [`TS`] with `#[schemars(crate = "raclette::schemars")]`; it reads the
/// serde attributes.
pub use raclette_contract::JsonSchema;
/// Derives the TypeScript declaration of a type, for
/// [`DataOperation::items`]: `#[derive(raclette::TS)]` with
/// `#[ts(crate = "raclette::ts_rs")]`, so that plugins need no ts-rs
/// dependency of their own.
///
/// ```
/// use raclette::{DataOperation, JsonSchema, TS};
///
/// /// One todo.
/// #[derive(serde::Serialize, TS, JsonSchema)]
/// #[ts(crate = "raclette::ts_rs")]
/// #[schemars(crate = "raclette::schemars")]
/// #[serde(rename_all = "camelCase")]
/// pub struct Todo {
///     #[serde(rename = "_id")]
///     pub id: String,
///     pub is_completed: bool,
/// }
///
/// let op = DataOperation::read("todo", "getAll").items::<Todo>();
/// assert_eq!(op.items.unwrap().name, "Todo");
/// ```
pub use raclette_contract::TS;
/// schemars, the crate behind [`JsonSchema`] (named in
/// `#[schemars(crate = "raclette::schemars")]`).
pub use raclette_contract::schemars;
/// ts-rs, the crate behind [`TS`] (named in `#[ts(crate = "raclette::ts_rs")]`).
pub use raclette_contract::ts_rs;

pub use serde_json;
pub use tracing;
