use std::{collections::BTreeMap, path::PathBuf};

use serde::Deserialize;

use crate::{APP_CONFIG_FILE, Problem};

/// The app's configuration, read from `raclette.toml`.
///
/// ```
/// let config = raclette_discovery::AppConfig::parse(r#"
///     name = "my-portal"
///     [server]
///     port = 9000
///     [plugins.acme__chat]
///     enabled = false
/// "#).unwrap();
/// assert_eq!(config.server.port(), 9000);
/// assert!(!config.plugin_enabled("acme__chat"));
/// assert!(config.plugin_enabled("acme__other"));
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// The app's name, shown in logs and the UI.
    #[serde(default)]
    pub name: Option<String>,
    /// Where the server listens.
    #[serde(default)]
    pub server: ServerConfig,
    /// Which database the app uses.
    #[serde(default)]
    pub database: DatabaseConfig,
    /// Where the framework's crates are (used when building the app).
    #[serde(default)]
    pub framework: FrameworkConfig,
    /// Per-plugin settings, keyed by plugin folder name.
    #[serde(default)]
    pub plugins: BTreeMap<String, PluginConfig>,
}

/// `[server]`: where the app listens.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to bind; default `127.0.0.1`.
    pub host: Option<String>,
    /// Port to bind; default 8081.
    pub port: Option<u16>,
}

impl ServerConfig {
    /// The default port when neither the command line nor `raclette.toml`
    /// name one.
    pub const DEFAULT_PORT: u16 = 8081;

    /// The configured port, or 8081.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(Self::DEFAULT_PORT)
    }

    /// The configured host, or `127.0.0.1`.
    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or("127.0.0.1")
    }
}

/// `[database]`: the app's database.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// A `sqlite://…` or `postgres://…` URL. Default: the SQLite file
    /// `data/raclette.sqlite` inside the app folder.
    pub url: Option<String>,
}

/// `[framework]`: where to find the framework when building the app.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkConfig {
    /// Folder of a raclette source checkout (the one holding `crates/`).
    /// Default: the checkout the `raclette` command was built from.
    pub path: Option<PathBuf>,
}

/// `[plugins.<folder>]`: one plugin's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// `false` turns the plugin off. Default `true`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Overrides of the plugin's `[options]` defaults.
    #[serde(default)]
    pub options: toml::Table,
}

fn yes() -> bool {
    true
}

impl AppConfig {
    /// Parses the text of `raclette.toml`.
    pub fn parse(text: &str) -> Result<AppConfig, Problem> {
        let value: toml::Value =
            toml::from_str(text).map_err(|err| toml_problem(APP_CONFIG_FILE, text, &err))?;
        serde_path_to_error::deserialize(value).map_err(|err| {
            let path = err.path().to_string();
            let message = err.into_inner().to_string();
            if path == "." {
                Problem::file(APP_CONFIG_FILE, message)
            } else {
                Problem::field(APP_CONFIG_FILE, path, message)
            }
        })
    }

    /// Whether the plugin in `folder` is enabled (plugins are enabled unless
    /// turned off).
    pub fn plugin_enabled(&self, folder: &str) -> bool {
        self.plugins.get(folder).is_none_or(|p| p.enabled)
    }
}

/// A TOML syntax error as a problem with its line and column.
pub(crate) fn toml_problem(file: &str, text: &str, err: &toml::de::Error) -> Problem {
    let message = err.message().trim().to_owned();
    match err.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            Problem::file(
                file,
                format!("invalid TOML at line {line}, column {column}: {message}"),
            )
        }
        None => Problem::file(file, format!("invalid TOML: {message}")),
    }
}
