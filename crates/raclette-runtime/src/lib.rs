//! # raclette-runtime
//!
//! The server side of raclette: takes a discovered app
//! ([`raclette_discovery::AppModel`]) and the server halves of its plugins,
//! and runs them as one axum application.
//!
//! Start-up, for each enabled plugin in dependency order: apply its SQL
//! migrations, call its entry function with a [`raclette::Registrar`], run its
//! `before_mount` hooks. Then the routes are mounted under their prefixes,
//! the server listens, and `mounted` hooks run. At graceful shutdown the
//! server stops accepting, waits for in-flight requests, then runs
//! `before_unmount` hooks in reverse dependency order.
//!
//! Connections are served with the limits of `[server]` in `raclette.toml`
//! (header, body and keep-alive timeouts, a cap on open connections, a
//! shutdown deadline); every answer carries security headers
//! (Content-Security-Policy, `X-Content-Type-Options`, `X-Frame-Options`,
//! `Referrer-Policy`), a server on a loopback address answers only loopback
//! host names and `allowed_hosts` (no DNS rebinding), and every error answer
//! is a JSON [`raclette::HttpError`].
//!
//! The generated host binary of an app calls [`host::main`]; tests and
//! embedders use [`App`] directly:
//!
//! ```no_run
//! # async fn run() -> Result<(), raclette_runtime::StartError> {
//! fn greeter(app: &mut raclette::Registrar) -> raclette::Result<()> {
//!     async fn hello() -> &'static str { "hello" }
//!     app.routes(raclette::Routes::new().get("/hello", hello))?;
//!     Ok(())
//! }
//!
//! let running = raclette_runtime::App::discover("my-portal".as_ref())?
//!     .plugin("acme__greeter", greeter)
//!     .start("127.0.0.1:0".parse().unwrap())
//!     .await?;
//! println!("listening on {}", running.addr());
//! running.shutdown().await?;
//! # Ok(()) }
//! ```

mod app;
pub mod builtins;
pub mod database;
mod endpoints;
mod error;
pub mod host;
mod identify;
mod migrate;
mod mount;
mod openapi;
mod rejections;
mod security;
mod serve;
mod user_command;

pub use app::{App, Built, RunningApp};
pub use error::{MigrationError, MountFailure, StartError};
pub use raclette_contract::{ClientListing, PluginListing};
