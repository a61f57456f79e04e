//! Server half of the `pacifico__todo` example plugin: the todo routes of the
//! original framework's example app, stored in the app's database.
//!
//! | route | does |
//! |---|---|
//! | `GET /todo/all` | every todo not soft-deleted, oldest first |
//! | `GET /todo/:_id` | one todo |
//! | `POST /todo` | creates a todo (201); `name` required, `content`, `tags`, `_id` (UUID v4) optional |
//! | `PATCH /todo/:_id` | partial update |
//! | `PATCH /todo/checkTask/:_id` | partial update that checks the task off unless `isCompleted` says otherwise |
//! | `DELETE /todo/:_id` | soft delete: `isDeleted` becomes true |
//! | `DELETE /todo/:_id/hard` | removes the todo |

mod routes;
mod store;

pub use routes::routes;
pub use store::{RemovedTodo, Todo, TodoStore};

/// Options of the plugin (`[options]` in its metadata).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Options {
    /// Longest accepted todo name, in characters.
    pub max_name_length: usize,
}

/// Entry point called by the framework.
pub fn plugin(app: &mut raclette::Registrar) -> raclette::Result<()> {
    let options: Options = app.options()?;
    let store = TodoStore::new(app.database(), options.max_name_length);
    app.routes(routes(store))?;
    Ok(())
}
