//! A realtime message as browsers receive it: the argument of the socket.io
//! event named by its channel (`$socket.on(channelKey, cb)`).
//!
//! ```
//! let message = raclette_contract::BroadcastMessage {
//!     channel_key: "plugin_pacifico__todo--todoCreated".into(),
//!     plugin_key: "plugin_pacifico__todo".into(),
//!     event: "todoCreated".into(),
//!     project: "default".into(),
//!     items: vec![serde_json::json!({ "_id": "1", "name": "milk" })],
//!     permission: Some("pacifico__todo.read".into()),
//! };
//! // What a listener gets: the permission stays on the server.
//! assert_eq!(
//!     serde_json::to_value(&message).unwrap(),
//!     serde_json::json!({
//!         "channelKey": "plugin_pacifico__todo--todoCreated",
//!         "pluginKey": "plugin_pacifico__todo",
//!         "event": "todoCreated",
//!         "project": "default",
//!         "items": [{ "_id": "1", "name": "milk" }],
//!     })
//! );
//! ```

use serde::Serialize;
use ts_rs::TS;

/// One message on one channel, as listeners get it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastMessage {
    /// The full channel name, `<plugin key>--<event>`.
    pub channel_key: String,
    /// The key of the plugin that sent it.
    pub plugin_key: String,
    /// The event, such as `todoCreated`.
    pub event: String,
    /// The project it belongs to; only that project's listeners may get it.
    pub project: String,
    /// The items written, as JSON.
    #[ts(type = "Array<unknown>")]
    pub items: Vec<serde_json::Value>,
    /// The permission a listener must hold in the project to get it (for a
    /// data operation: the one that reads its type), or `None` for every
    /// listener of the project. Not sent to the listeners.
    #[serde(skip)]
    pub permission: Option<String>,
}
