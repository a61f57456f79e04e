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
//! middleware ([`Registrar::layer`], [`Registrar::app_layer`]), typed options
//! ([`Registrar::options`]), services shared with dependent plugins
//! ([`Registrar::provide`], [`Registrar::service`]), lifecycle hooks
//! ([`Registrar::on_before_mount`], [`Registrar::on_mounted`],
//! [`Registrar::on_before_unmount`]) and the app's database
//! ([`Registrar::database`]).

mod error;
mod hooks;
mod http_error;
mod info;
mod json;
mod plugin;
mod registrar;
mod routes;
mod services;

pub use error::{Error, Result};
pub use hooks::{Hook, HookFuture, Hooks};
pub use http_error::HttpError;
pub use info::PluginInfo;
pub use json::Json;
pub use plugin::Plugin;
pub use raclette_contract::{DataOperation, ErrorBody, ItemType, OperationKind, RouteInfo};
pub use registrar::{LayerFn, PluginParts, Registrar};
pub use routes::Routes;
pub use services::ServiceRegistry;

/// The app's database: a connection pool that speaks SQLite (the default) or
/// PostgreSQL, chosen by `[database] url` in `raclette.toml`.
///
/// Write SQL with `$1`, `$2`, … placeholders in order; both engines accept
/// them.
pub type Database = sqlx::AnyPool;

/// Derives the TypeScript declaration of a type, for
/// [`DataOperation::items`]: `#[derive(raclette::TS)]` with
/// `#[ts(crate = "raclette::ts_rs")]`, so that plugins need no ts-rs
/// dependency of their own.
///
/// ```
/// use raclette::{DataOperation, TS};
///
/// /// One todo.
/// #[derive(serde::Serialize, TS)]
/// #[ts(crate = "raclette::ts_rs")]
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
/// ts-rs, the crate behind [`TS`] (named in `#[ts(crate = "raclette::ts_rs")]`).
pub use raclette_contract::ts_rs;

pub use axum;
pub use serde_json;
pub use sqlx;
pub use tracing;
