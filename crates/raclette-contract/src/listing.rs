//! `GET /raclette/plugins`: every discovered plugin, in dependency order.

use std::collections::BTreeMap;

use serde::Serialize;
use ts_rs::TS;

use crate::{RouteInfo, Widget};

/// One plugin as `GET /raclette/plugins` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PluginListing {
    /// The plugin key, `plugin_<folder>`.
    pub key: String,
    /// The name part of the folder.
    pub name: String,
    /// The author part of the folder, if any.
    pub author: Option<String>,
    /// The version from the metadata.
    pub version: String,
    /// The description from the metadata.
    pub description: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Whether it ships with the framework rather than the app.
    pub builtin: bool,
    /// Its dependencies: folder name to version requirement.
    pub dependencies: BTreeMap<String, String>,
    /// Where its routes are mounted.
    pub route_prefix: String,
    /// Its routes with their full paths (empty when disabled).
    pub routes: Vec<RouteInfo>,
    /// The permissions the plugin defines (`[permissions]` of its
    /// metadata), by full name such as `pacifico__todo.read`, with what each
    /// allows.
    pub permissions: BTreeMap<String, String>,
    /// Its client half, when it has one and is enabled.
    pub client: Option<ClientListing>,
}

/// The client half of a plugin in `GET /raclette/plugins`.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClientListing {
    /// URL of the compiled `client/index.ts`, if the plugin has one.
    pub entry: Option<String>,
    /// URL of the plugin's generated data API.
    pub config_url: String,
    /// The widget catalogue.
    pub widgets: Vec<Widget>,
}

/// One plugin of the app, as `Registrar::app_plugins` gives it to plugins
/// (an overview page, an admin area) and as the built-in home plugin serves
/// it at `GET /plugin/raclette/home/overview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PluginSummary {
    /// `plugin_<folder>`.
    pub key: String,
    /// The folder name.
    pub folder: String,
    /// The version from its metadata.
    pub version: String,
    /// The description from its metadata.
    pub description: String,
    /// Whether it ships with the framework.
    pub builtin: bool,
    /// Whether `raclette.toml` leaves it on.
    pub enabled: bool,
    /// The permissions it defines, by full name, with what each allows.
    pub permissions: BTreeMap<String, String>,
}
