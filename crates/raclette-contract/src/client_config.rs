//! `GET /raclette/plugins/<plugin key>/client-config`: a plugin's generated
//! data API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{ItemType, OperationKind};

/// A plugin's data API, generated from the data operations its routes
/// declare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClientConfig {
    /// The plugin key.
    pub plugin_key: String,
    /// The name part of the plugin's folder.
    pub plugin_name: String,
    /// The author part of the plugin's folder, if any.
    pub author: Option<String>,
    /// Where the plugin's routes are mounted.
    pub route_prefix: String,
    /// The data types, by name.
    pub data: BTreeMap<String, DataTypeConfig>,
}

/// A data type and its operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DataTypeConfig {
    /// The type's name, under which its items are stored.
    #[serde(rename = "type")]
    pub data_type: String,
    /// The field holding an item's id.
    pub id_key: String,
    /// The operations, by name.
    pub operations: BTreeMap<String, OperationConfig>,
}

/// One operation of a data type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OperationConfig {
    /// The full path, `:name` placeholders filled from the call's params.
    pub target: String,
    /// The HTTP method, lower-case (`get`).
    pub method: String,
    /// How it changes the client store.
    pub kind: OperationKind,
    /// The channels it broadcasts on after it succeeds.
    pub channels: Vec<Channel>,
}

/// A channel an operation broadcasts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    /// The full channel name, `<plugin key>--<event>`.
    pub channel: String,
    /// The event name.
    pub channel_key: String,
    /// The plugin key.
    pub prefix: String,
}

/// A plugin's data API together with the item types its operations name:
/// what a built app's `client-config` command prints for each plugin, from
/// which the CLI writes `.raclette/types/<plugin key>.d.ts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataApiDescription {
    /// The data API, as `GET /raclette/plugins/<key>/client-config` serves it.
    pub config: ClientConfig,
    /// The named item types: data type, then operation name.
    pub items: BTreeMap<String, BTreeMap<String, ItemType>>,
}
