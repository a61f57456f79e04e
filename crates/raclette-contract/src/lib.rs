//! # raclette-contract
//!
//! The contract between the raclette server and its browser runtime, in one
//! place:
//!
//! - the naming rules that follow from a plugin's folder name
//!   ([`plugin_key`], [`route_prefix`], [`channel`], …);
//! - the JSON shapes both sides share, as Rust types: the plugin listing of
//!   `GET /raclette/plugins` ([`PluginListing`]), the widget catalogue
//!   ([`Widget`]), the data API of `GET /raclette/plugins/<key>/client-config`
//!   ([`ClientConfig`]), error bodies ([`ErrorBody`]), the signed-in
//!   session of the built-in core plugin ([`SessionInfo`]) and a realtime
//!   message ([`BroadcastMessage`]).
//!
//! The browser runtime's TypeScript declarations of those shapes are
//! generated from these types with [ts-rs](https://docs.rs/ts-rs)
//! ([`typescript_module`]) into `crates/raclette-client/runtime/contract.ts`;
//! a test fails when that file is out of date. Regenerate it with
//!
//! ```text
//! RACLETTE_BLESS=1 cargo test -p raclette-contract
//! ```
//!
//! The JSON Schemas of the OpenAPI document come from the same Rust types
//! through [schemars](https://docs.rs/schemars) ([`TypeSchema`]).
//!
//! This crate depends on serde, serde_json, ts-rs and schemars only, so that tools
//! (the CLI) can use the contract without the HTTP server or the database.

mod channel;
mod client_config;
mod error;
mod listing;
mod naming;
mod operation;
mod schema;
mod session;
mod typescript;
mod widget;

pub use channel::BroadcastMessage;
pub use client_config::{
    Channel, ClientConfig, DataApiDescription, DataTypeConfig, OperationConfig,
};
pub use error::ErrorBody;
pub use listing::{ClientListing, PluginListing, PluginSummary};
pub use naming::{
    KEY_PREFIX, author_and_name, channel, client_config_url, client_files_url, folder_of_key,
    full_path, plugin_key, route_prefix,
};
pub use operation::{DataOperation, ItemType, OperationKind, RouteAccess, RouteInfo, only_reads};
pub use schema::{RouteDocs, TypeSchema, openapi_schema_generator};
pub use session::{ProjectSummary, SessionInfo, SessionUser};
pub use typescript::TypeScriptDeclarations;
pub use widget::{
    Widget, WidgetConfigField, WidgetDetails, WidgetEditor, WidgetFieldType, WidgetInputType,
};

/// schemars, which derives [`JsonSchema`]. Types outside this crate derive
/// it through this re-export with
/// `#[schemars(crate = "raclette_contract::schemars")]` (plugins:
/// `#[schemars(crate = "raclette::schemars")]`).
pub use schemars;
/// The trait, and its derive, of types that have a JSON Schema (for the
/// OpenAPI document).
pub use schemars::JsonSchema;
/// ts-rs, which derives [`TS`]. Types outside this crate derive it through
/// this re-export with `#[ts(crate = "raclette_contract::ts_rs")]` (plugins:
/// `#[ts(crate = "raclette::ts_rs")]`).
pub use ts_rs;
/// The trait, and its derive, of types that have a TypeScript declaration.
pub use ts_rs::TS;

/// Where the generated TypeScript module lives, relative to the repository
/// root.
pub const TYPESCRIPT_MODULE_PATH: &str = "crates/raclette-client/runtime/contract.ts";

/// The TypeScript module of the contract: a declaration of every shared
/// JSON shape, types only, for the browser runtime to `import type` from.
///
/// ```
/// let module = raclette_contract::typescript_module();
/// assert!(module.starts_with("// Generated"));
/// assert!(module.contains("export type PluginListing = {"));
/// assert!(module.contains("dependencies: { [key in string]: string }"));
/// ```
pub fn typescript_module() -> String {
    let mut declarations = TypeScriptDeclarations::default();
    declarations.add::<PluginListing>();
    declarations.add::<PluginSummary>();
    declarations.add::<ClientConfig>();
    declarations.add::<ErrorBody>();
    declarations.add::<SessionInfo>();
    declarations.add::<BroadcastMessage>();
    let mut out = String::from(
        "// Generated from the Rust types of crates/raclette-contract; do not edit.\n\
         // Regenerate with `RACLETTE_BLESS=1 cargo test -p raclette-contract`.\n\
         //\n\
         // The JSON shapes the server and the browser runtime share (types only).\n",
    );
    for (_, text) in declarations.iter() {
        out.push('\n');
        out.push_str(text);
        out.push('\n');
    }
    out
}
