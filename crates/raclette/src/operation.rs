use serde::{Deserialize, Serialize};

/// How a data operation changes the client store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OperationKind {
    /// Reads items; they are added to (or replaced in) the store.
    Read,
    /// Creates an item; it is added to the store.
    Create,
    /// Changes an item; it is merged into the store.
    Update,
    /// Soft-deletes an item; it leaves the store.
    Delete,
    /// Removes an item for good; it leaves the store.
    DeleteHard,
}

/// Declares a route as a data operation, so that the plugin's client API
/// (`$data.<type>.<name>(…)` in the browser) is generated from the server.
///
/// ```
/// use raclette::{DataOperation, Routes, http::Method};
///
/// async fn all() {}
/// async fn create() {}
/// let routes: Routes = Routes::new()
///     .data(Method::GET, "/todo/all", DataOperation::read("todo", "getAll"), all)
///     .data(
///         Method::POST,
///         "/todo",
///         DataOperation::create("todo", "create").broadcast("todoCreated"),
///         create,
///     );
/// assert_eq!(routes.infos()[1].operation.as_ref().unwrap().events, vec!["todoCreated"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataOperation {
    /// The data type, such as `todo`.
    #[serde(rename = "type")]
    pub data_type: String,
    /// The operation's name, such as `getAll`.
    pub name: String,
    /// How it changes the client store.
    pub kind: OperationKind,
    /// Events broadcast after it, each on channel `<plugin key>--<event>`.
    pub events: Vec<String>,
}

impl DataOperation {
    /// An operation of any kind.
    pub fn new(data_type: &str, name: &str, kind: OperationKind) -> Self {
        DataOperation {
            data_type: data_type.to_owned(),
            name: name.to_owned(),
            kind,
            events: Vec::new(),
        }
    }

    /// A read.
    pub fn read(data_type: &str, name: &str) -> Self {
        Self::new(data_type, name, OperationKind::Read)
    }

    /// A create.
    pub fn create(data_type: &str, name: &str) -> Self {
        Self::new(data_type, name, OperationKind::Create)
    }

    /// An update.
    pub fn update(data_type: &str, name: &str) -> Self {
        Self::new(data_type, name, OperationKind::Update)
    }

    /// A soft delete.
    pub fn delete(data_type: &str, name: &str) -> Self {
        Self::new(data_type, name, OperationKind::Delete)
    }

    /// A hard delete.
    pub fn delete_hard(data_type: &str, name: &str) -> Self {
        Self::new(data_type, name, OperationKind::DeleteHard)
    }

    /// Adds an event broadcast after the operation.
    #[must_use]
    pub fn broadcast(mut self, event: &str) -> Self {
        self.events.push(event.to_owned());
        self
    }
}
