use raclette::{
    DataOperation, HttpError, Json, Routes,
    extract::{Path, State},
    http::{Method, StatusCode},
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{RemovedTodo, Todo, TodoStore};

/// The plugin's routes, relative to its prefix `/plugin/pacifico/todo`.
pub fn routes(store: TodoStore) -> Routes {
    Routes::new()
        .data(
            Method::GET,
            "/todo/all",
            DataOperation::read("todo", "getAll").items::<Todo>(),
            all,
        )
        .data(
            Method::GET,
            "/todo/:_id",
            DataOperation::read("todo", "get").items::<Todo>(),
            get_one,
        )
        .data(
            Method::POST,
            "/todo",
            DataOperation::create("todo", "create")
                .items::<Todo>()
                .broadcast("todoCreated"),
            create,
        )
        .data(
            Method::PATCH,
            "/todo/:_id",
            DataOperation::update("todo", "update")
                .items::<Todo>()
                .broadcast("todoUpdated"),
            update,
        )
        .data(
            Method::PATCH,
            "/todo/checkTask/:_id",
            DataOperation::update("todo", "updateCheckTask")
                .items::<Todo>()
                .broadcast("todoUpdated"),
            check_task,
        )
        .data(
            Method::DELETE,
            "/todo/:_id",
            DataOperation::delete("todo", "delete")
                .items::<Todo>()
                .broadcast("todoDeleted"),
            soft_delete,
        )
        .data(
            Method::DELETE,
            "/todo/:_id/hard",
            DataOperation::delete_hard("todo", "deleteHard")
                .items::<RemovedTodo>()
                .broadcast("todoDeleted"),
            hard_delete,
        )
        .with_state(store)
}

/// Body of `POST /todo`.
#[derive(Debug, Deserialize)]
struct NewTodo {
    #[serde(rename = "_id")]
    id: Option<String>,
    name: String,
    content: Option<String>,
    tags: Option<Vec<String>>,
}

/// Body of the `PATCH` routes: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TodoPatch {
    name: Option<String>,
    content: Option<String>,
    tags: Option<Vec<String>>,
    is_completed: Option<bool>,
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn check_name(store: &TodoStore, name: &str) -> Result<(), HttpError> {
    if name.trim().is_empty() {
        return Err(HttpError::bad_request("body.name: must not be empty").with_field("name"));
    }
    let max = store.max_name_length();
    if name.chars().count() > max {
        return Err(
            HttpError::bad_request(format!("body.name: must be at most {max} characters"))
                .with_field("name"),
        );
    }
    Ok(())
}

async fn all(State(store): State<TodoStore>) -> Result<Json<Vec<Todo>>, HttpError> {
    Ok(Json(store.all().await?))
}

async fn get_one(
    State(store): State<TodoStore>,
    Path(id): Path<String>,
) -> Result<Json<Todo>, HttpError> {
    Ok(Json(store.get(&id).await?))
}

async fn create(
    State(store): State<TodoStore>,
    Json(body): Json<NewTodo>,
) -> Result<(StatusCode, Json<Todo>), HttpError> {
    check_name(&store, &body.name)?;
    let id = match body.id {
        None => Uuid::new_v4().to_string(),
        Some(id) => match Uuid::parse_str(&id) {
            Ok(uuid) if uuid.get_version() == Some(uuid::Version::Random) => {
                uuid.hyphenated().to_string()
            }
            _ => {
                return Err(
                    HttpError::bad_request(format!("body._id: `{id}` is not a UUID v4"))
                        .with_field("_id"),
                );
            }
        },
    };
    let now = now();
    let todo = Todo {
        id,
        name: body.name,
        content: body.content.unwrap_or_default(),
        tags: body.tags.unwrap_or_default(),
        is_completed: false,
        is_deleted: false,
        created_at: now.clone(),
        updated_at: now,
    };
    store.insert(&todo).await?;
    Ok((StatusCode::CREATED, Json(todo)))
}

async fn apply_patch(store: &TodoStore, id: &str, patch: TodoPatch) -> Result<Todo, HttpError> {
    let mut todo = store.get(id).await?;
    if let Some(name) = patch.name {
        check_name(store, &name)?;
        todo.name = name;
    }
    if let Some(content) = patch.content {
        todo.content = content;
    }
    if let Some(tags) = patch.tags {
        todo.tags = tags;
    }
    if let Some(done) = patch.is_completed {
        todo.is_completed = done;
    }
    todo.updated_at = now();
    store.save(&todo).await?;
    Ok(todo)
}

async fn update(
    State(store): State<TodoStore>,
    Path(id): Path<String>,
    Json(patch): Json<TodoPatch>,
) -> Result<Json<Todo>, HttpError> {
    Ok(Json(apply_patch(&store, &id, patch).await?))
}

async fn check_task(
    State(store): State<TodoStore>,
    Path(id): Path<String>,
    body: Option<Json<TodoPatch>>,
) -> Result<Json<Todo>, HttpError> {
    let mut patch = body.map(|Json(p)| p).unwrap_or_default();
    patch.is_completed.get_or_insert(true);
    Ok(Json(apply_patch(&store, &id, patch).await?))
}

async fn soft_delete(
    State(store): State<TodoStore>,
    Path(id): Path<String>,
) -> Result<Json<Todo>, HttpError> {
    let mut todo = store.get(&id).await?;
    todo.is_deleted = true;
    todo.updated_at = now();
    store.save(&todo).await?;
    Ok(Json(todo))
}

async fn hard_delete(
    State(store): State<TodoStore>,
    Path(id): Path<String>,
) -> Result<Json<RemovedTodo>, HttpError> {
    store.remove(&id).await?;
    Ok(Json(RemovedTodo { id, deleted: true }))
}
