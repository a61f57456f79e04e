use raclette::{
    DataOperation, HttpError, Json, Routes,
    data::{self, Collection, Data, Item, StoredJson},
    extract::Path,
    http::{HeaderMap, Method},
};
use serde_json::Value;

use crate::Todo;

/// The plugin's routes, relative to its prefix `/plugin/pacifico/todo`: the
/// collection's standard routes and `checkTask`.
pub fn routes(todos: &Collection<Todo>) -> Routes {
    data::crud(todos)
        .data(
            Method::PATCH,
            "/todo/checkTask/:_id",
            DataOperation::update("todo", "updateCheckTask")
                .items::<Item<Todo>>()
                .broadcast("todoUpdated")
                .broadcast("broadcastDataUpdated"),
            check_task,
        )
        .require_reads("pacifico__todo.read")
        .require_writes("pacifico__todo.write")
}

/// Checks the task off, unless the body sets `isCompleted` itself; other
/// fields of the body are changed too.
async fn check_task(
    todos: Data<Todo>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Result<StoredJson, HttpError> {
    let mut patch = match body {
        None => serde_json::Map::new(),
        Some(Json(Value::Object(patch))) => patch,
        Some(Json(_)) => {
            return Err(HttpError::bad_request("body: expected a JSON object").with_field("body"));
        }
    };
    patch.entry("isCompleted").or_insert(Value::Bool(true));
    let expected = data::expected_version(&headers)?;
    let item = todos
        .update_json(todos.context(), &id, Value::Object(patch), expected)
        .await?;
    Ok(StoredJson::item(&item))
}
