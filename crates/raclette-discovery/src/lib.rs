//! # raclette-discovery
//!
//! Finds the plugins of a raclette app, reads their metadata
//! (`raclette.plugin.toml`) and the app's configuration (`raclette.toml`),
//! validates everything at once and orders the plugins by their
//! dependencies.
//!
//! Both the CLI (`raclette check`, host generation) and the runtime use it,
//! so a problem is reported the same way wherever it is found: a
//! [`Problem`] names the file, the field and what was expected.
//!
//! ```no_run
//! let app = raclette_discovery::discover(std::path::Path::new("my-portal"))
//!     .unwrap_or_else(|report| panic!("{report}"));
//! for plugin in app.enabled() {
//!     println!("{} {}", plugin.key(), plugin.manifest.version);
//! }
//! ```

mod client_dir;
mod config;
mod discover;
mod manifest;
mod migrations;
mod name;
mod order;
mod problem;
mod server_crate;

pub use client_dir::{CLIENT_DIRS, client_dir};
pub use config::{
    AppConfig, AuthConfig, DatabaseConfig, FrameworkConfig, HostPattern, PluginConfig, Seconds,
    ServerConfig, options_section,
};
pub use discover::{
    AppModel, DiscoveredPlugin, PluginSource, discover, discover_with, from_sources,
    read_builtin_sources, read_plugin_sources,
};
pub use manifest::Manifest;
pub use migrations::Migration;
pub use name::PluginName;
pub use problem::{Problem, Report};
pub use server_crate::{CrateDependency, ServerCrate};

/// The app's configuration file name.
pub const APP_CONFIG_FILE: &str = "raclette.toml";
/// A plugin's metadata file name.
pub const PLUGIN_MANIFEST_FILE: &str = "raclette.plugin.toml";
/// The author part of every built-in plugin's folder (`raclette__home`);
/// app plugins may not use it.
pub const BUILTIN_AUTHOR: &str = "raclette";
/// The folder, inside an app, that holds its plugins.
pub const PLUGINS_DIR: &str = "plugins";
