//! # raclette-client
//!
//! The client half of raclette plugins, on the server: each plugin's
//! `client/` folder is compiled from TypeScript to JavaScript in-process
//! with [oxc](https://oxc.rs) (no Node.js needed to run an app), cached by
//! content and served as ES modules under `/raclette/client/<plugin key>/…`,
//! together with the browser runtime (`@raclette/client`) and the shell page.
//!
//! It also reads each plugin's widget catalogue from
//! `client/widgets/<id>/setup.ts` without running it ([`widgets`]) and
//! generates the plugin's data API ([`client_config`]) from the data
//! operations its server routes declare.
//!
//! The JSON shapes it produces are types of `raclette-contract`. Serving
//! over HTTP (`ClientServer`, with axum) is behind the cargo feature
//! `server`, which the runtime enables; without it (the CLI) the crate
//! builds no HTTP stack.
//!
//! oxc is pinned with `=` because its API moves between minor releases;
//! only the parser, the TypeScript transform and the code generator are used.
//! The protocol between this crate and the browser runtime is described in
//! `docs/client.md`.

mod assets;
mod compile;
mod data_api;
mod files;
mod literal;
#[cfg(feature = "server")]
mod serve;
pub mod widgets;

pub use assets::{SHELL_IMPORT_MAP, runtime_file, runtime_files, shell_html, shell_script_hash};
pub use compile::{CompileCache, CompileError, CompiledModule, compile, compile_with_source_map};
pub use data_api::{client_config, data_api_description, declaration_file};
pub use files::ClientFiles;
pub use literal::exported_literals;
#[cfg(feature = "server")]
pub use serve::ClientServer;
pub use widgets::{Widget, WidgetProblem};
