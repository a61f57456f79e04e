//! Server half of the `pacifico__todo` example plugin: the todo routes of the
//! original framework's example app, stored in a collection of the app's
//! data store (see `raclette::data`).
//!
//! | route | does |
//! |---|---|
//! | `GET /todo/all` | live todos, oldest first, paged (`limit`, `offset`), filtered (`isCompleted=true`, …) |
//! | `GET /todo/:_id` | one todo |
//! | `POST /todo` | creates a todo (201); `name` required, `content`, `tags`, `_id` (a UUID) optional |
//! | `PATCH /todo/:_id` | partial update (`If-Match: "<version>"` to update only what was read) |
//! | `PATCH /todo/checkTask/:_id` | partial update that checks the task off unless `isCompleted` says otherwise |
//! | `DELETE /todo/:_id` | soft delete: `isDeleted` becomes true |
//! | `PATCH /todo/:_id/restore` | undoes a soft delete |
//! | `DELETE /todo/:_id/hard` | removes the todo |
//!
//! Reads need the permission `pacifico__todo.read`, writes `pacifico__todo.write`
//! (declared in the plugin's metadata).

mod routes;

pub use routes::routes;

use raclette::data::{Collection, CollectionSpec, DataError};
use serde::{Deserialize, Serialize};

/// One todo: its own fields. Clients get them beside the framework's
/// (`_id`, `version`, `isDeleted`, `createdAt`, `updatedAt`, `owner`, …).
// Its TypeScript declaration (`raclette::TS`) types the data operations in
// the generated `.raclette/types/*.d.ts`; its JSON Schema
// (`raclette::JsonSchema`) describes it in the OpenAPI document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, raclette::TS, raclette::JsonSchema)]
#[ts(crate = "raclette::ts_rs")]
#[schemars(crate = "raclette::schemars")]
#[serde(rename_all = "camelCase")]
pub struct Todo {
    /// What to do.
    pub name: String,
    /// Longer text.
    #[serde(default)]
    pub content: String,
    /// Free-form tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Whether it is checked off.
    #[serde(default)]
    pub is_completed: bool,
}

/// Options of the plugin (`[options]` in its metadata).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Options {
    /// Longest accepted todo name, in characters.
    pub max_name_length: usize,
}

/// The todo collection: names must not be blank nor longer than
/// `max_name_length` characters; content up to 16 KiB, tags up to 4 KiB.
pub fn todos(
    app: &mut raclette::Registrar,
    options: &Options,
) -> raclette::Result<Collection<Todo>> {
    let max = options.max_name_length;
    app.collection(
        CollectionSpec::<Todo>::new("todo")
            .max_field_size("content", 16 * 1024)
            .max_field_size("tags", 4 * 1024)
            .validate(move |todo| {
                if todo.name.trim().is_empty() {
                    Err(DataError::invalid("body.name", "must not be empty"))
                } else if todo.name.chars().count() > max {
                    Err(DataError::invalid(
                        "body.name",
                        format!("must be at most {max} characters"),
                    ))
                } else {
                    Ok(())
                }
            }),
    )
}

/// Entry point called by the framework.
pub fn plugin(app: &mut raclette::Registrar) -> raclette::Result<()> {
    let options: Options = app.options()?;
    let todos = todos(app, &options)?;
    app.routes(routes(&todos))?;
    Ok(())
}
