//! Routes as the framework lists them, and the data operations declared on
//! them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{
    schema::{RouteDocs, TypeSchema},
    typescript::{TypeScriptDeclarations, name_of},
};

/// How a data operation changes the client store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
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
    /// The type of the items it answers with, when named with
    /// [`DataOperation::items`]. Not part of the JSON: it only reaches the
    /// generated TypeScript declarations.
    #[serde(skip)]
    pub items: Option<ItemType>,
}

impl DataOperation {
    /// An operation of any kind.
    pub fn new(data_type: &str, name: &str, kind: OperationKind) -> Self {
        DataOperation {
            data_type: data_type.to_owned(),
            name: name.to_owned(),
            kind,
            events: Vec::new(),
            items: None,
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
    ///
    /// ```
    /// use raclette_contract::{DataOperation, OperationKind};
    ///
    /// let op = DataOperation::create("todo", "create").broadcast("todoCreated");
    /// assert_eq!(op.kind, OperationKind::Create);
    /// assert_eq!(
    ///     serde_json::to_value(&op).unwrap(),
    ///     serde_json::json!({ "type": "todo", "name": "create", "kind": "create", "events": ["todoCreated"] })
    /// );
    /// ```
    #[must_use]
    pub fn broadcast(mut self, event: &str) -> Self {
        self.events.push(event.to_owned());
        self
    }

    /// Names the Rust type of the items the operation answers with (for a
    /// list read, the type of one element), so that the plugin's generated
    /// `.raclette/types/<plugin key>.d.ts` types `$data.<type>.<name>()`
    /// with its real fields instead of `Record<string, unknown>`, and the
    /// OpenAPI document (`GET /raclette/openapi.json`) describes the answer.
    ///
    /// The type derives `TS` and `JsonSchema` (re-exported by the plugin API
    /// crate as `raclette::TS` and `raclette::JsonSchema`; both read the
    /// serde attributes, so the declarations match the JSON). Types it
    /// references are declared too. The JSON of the operation does not
    /// change.
    ///
    /// ```
    /// use raclette_contract::{DataOperation, TS, JsonSchema};
    ///
    /// /// One todo.
    /// #[derive(serde::Serialize, TS, JsonSchema)]
    /// #[ts(crate = "raclette_contract::ts_rs")]
    /// #[schemars(crate = "raclette_contract::schemars")]
    /// #[serde(rename_all = "camelCase")]
    /// struct Todo {
    ///     #[serde(rename = "_id")]
    ///     id: String,
    ///     is_completed: bool,
    /// }
    ///
    /// let op = DataOperation::read("todo", "getAll").items::<Todo>();
    /// let items = op.items.as_ref().unwrap();
    /// assert_eq!(items.name, "Todo");
    /// assert!(items.declarations["Todo"].contains("_id: string, isCompleted: boolean"));
    /// ```
    ///
    /// In a plugin, through the plugin API crate:
    ///
    /// ```ignore
    /// #[derive(serde::Serialize, raclette::TS, raclette::JsonSchema)]
    /// #[ts(crate = "raclette::ts_rs")]
    /// #[schemars(crate = "raclette::schemars")]
    /// pub struct Todo { /* … */ }
    ///
    /// Routes::new()
    ///     .get("/todo/all", all)
    ///     .operation(DataOperation::read("todo", "getAll").items::<Todo>())
    /// ```
    #[must_use]
    pub fn items<T: TS + JsonSchema + 'static + ?Sized>(mut self) -> Self {
        self.items = Some(ItemType::of::<T>());
        self
    }
}

/// The TypeScript form of the items of a data operation: the type's name and
/// the declarations it needs; and its JSON Schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemType {
    /// The TypeScript name of the item type, such as `Todo`.
    pub name: String,
    /// `export type …;` declarations of the type and of every named type it
    /// references, by TypeScript name.
    pub declarations: BTreeMap<String, String>,
    /// The JSON Schema of the type, for the OpenAPI document.
    #[serde(skip)]
    pub schema: Option<TypeSchema>,
}

impl ItemType {
    /// The item type of Rust type `T`.
    ///
    /// ```
    /// let items = raclette_contract::ItemType::of::<String>();
    /// assert_eq!(items.name, "string");
    /// assert!(items.declarations.is_empty());
    /// ```
    pub fn of<T: TS + JsonSchema + 'static + ?Sized>() -> Self {
        let mut declarations = TypeScriptDeclarations::default();
        declarations.add::<T>();
        ItemType {
            name: name_of::<T>(),
            declarations: declarations.into_map(),
            schema: Some(TypeSchema::of::<T>()),
        }
    }
}

/// One route as the framework lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct RouteInfo {
    /// The HTTP method, upper-case (`GET`).
    pub method: String,
    /// The path, parameters written `:name`: below the plugin's prefix in a
    /// plugin's `Routes`, the full path in `GET /raclette/plugins`.
    pub path: String,
    /// The data operation this route performs, if declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub operation: Option<DataOperation>,
    /// Who may call the route.
    #[serde(default)]
    pub access: RouteAccess,
    /// Its summary and the schemas of its body, answer and query, for the
    /// OpenAPI document; not part of the JSON.
    #[serde(skip)]
    #[ts(skip)]
    pub docs: RouteDocs,
}

impl RouteInfo {
    /// Whether the route only reads: its method is `GET`, `HEAD` or
    /// `OPTIONS` (see [`only_reads`]).
    pub fn only_reads(&self) -> bool {
        only_reads(&self.method)
    }
}

/// Whether an HTTP method only reads: `GET`, `HEAD` or `OPTIONS`. Every
/// other method may write (permissions for writes, CSRF tokens).
///
/// ```
/// assert!(raclette_contract::only_reads("GET"));
/// assert!(!raclette_contract::only_reads("POST"));
/// ```
pub fn only_reads(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// Who may call a route. The default is [`RouteAccess::SignedIn`]: with
/// `[auth] require_authentication = true` (the default) an anonymous
/// request answers 401.
///
/// ```
/// use raclette_contract::RouteAccess;
///
/// let json = serde_json::to_value(RouteAccess::Permission("pacifico__todo.read".into())).unwrap();
/// assert_eq!(json, serde_json::json!({ "kind": "permission", "permission": "pacifico__todo.read" }));
/// assert_eq!(serde_json::to_value(RouteAccess::default()).unwrap(), serde_json::json!({ "kind": "signedIn" }));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(tag = "kind", content = "permission", rename_all = "camelCase")]
pub enum RouteAccess {
    /// Anyone, signed in or not.
    Public,
    /// A signed-in user (or anyone, when authentication is not required).
    #[default]
    SignedIn,
    /// A signed-in user holding this permission in the request's project.
    Permission(String),
}
