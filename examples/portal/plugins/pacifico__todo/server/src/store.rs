use raclette::{
    Database, HttpError,
    db::{self, Row},
};
use serde::{Deserialize, Serialize};

/// One todo, as stored and as sent to clients.
///
/// Its TypeScript declaration (derived with `raclette::TS`) types the data
/// operations that name it in the generated `.raclette/types/*.d.ts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, raclette::TS)]
#[ts(crate = "raclette::ts_rs")]
#[serde(rename_all = "camelCase")]
pub struct Todo {
    /// Its id, a UUID v4.
    #[serde(rename = "_id")]
    pub id: String,
    /// What to do.
    pub name: String,
    /// Longer text.
    pub content: String,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// Whether it is checked off.
    pub is_completed: bool,
    /// Whether it is soft-deleted.
    pub is_deleted: bool,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
}

/// The answer of `DELETE /todo/:_id/hard`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, raclette::TS)]
#[ts(crate = "raclette::ts_rs")]
pub struct RemovedTodo {
    /// The id of the removed todo.
    #[serde(rename = "_id")]
    pub id: String,
    /// Always `true`.
    pub deleted: bool,
}

/// Todos in the app's database.
#[derive(Clone)]
pub struct TodoStore {
    db: Database,
    max_name_length: usize,
}

impl TodoStore {
    /// A store on `db`.
    pub fn new(db: Database, max_name_length: usize) -> Self {
        TodoStore {
            db,
            max_name_length,
        }
    }

    /// Longest accepted name.
    pub fn max_name_length(&self) -> usize {
        self.max_name_length
    }

    /// Every todo not soft-deleted, oldest first.
    pub async fn all(&self) -> Result<Vec<Todo>, HttpError> {
        let rows = db::query(
            "SELECT doc FROM pacifico_todo_todos WHERE is_deleted = 0 ORDER BY created_at, id",
        )
        .fetch_all(&self.db)
        .await?;
        rows.iter()
            .map(|row| decode(&row.get::<String, _>(0)))
            .collect()
    }

    /// One todo, soft-deleted or not.
    pub async fn get(&self, id: &str) -> Result<Todo, HttpError> {
        let row = db::query("SELECT doc FROM pacifico_todo_todos WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db)
            .await?;
        match row {
            Some(row) => decode(&row.get::<String, _>(0)),
            None => Err(HttpError::not_found(format!("todo {id} not found")).with_field("_id")),
        }
    }

    /// Stores a new todo; 409 when its id exists.
    pub async fn insert(&self, todo: &Todo) -> Result<(), HttpError> {
        let result = db::query("INSERT INTO pacifico_todo_todos (id, doc, is_deleted, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&todo.id)
            .bind(encode(todo)?)
            .bind(i64::from(todo.is_deleted))
            .bind(&todo.created_at)
            .execute(&self.db)
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(db::Error::Database(err)) if err.is_unique_violation() => Err(HttpError::conflict(
                format!("a todo with _id {} exists already", todo.id),
            )
            .with_field("_id")),
            Err(err) => Err(err.into()),
        }
    }

    /// Replaces a stored todo.
    pub async fn save(&self, todo: &Todo) -> Result<(), HttpError> {
        let result =
            db::query("UPDATE pacifico_todo_todos SET doc = $1, is_deleted = $2 WHERE id = $3")
                .bind(encode(todo)?)
                .bind(i64::from(todo.is_deleted))
                .bind(&todo.id)
                .execute(&self.db)
                .await?;
        if result.rows_affected() == 0 {
            return Err(
                HttpError::not_found(format!("todo {} not found", todo.id)).with_field("_id")
            );
        }
        Ok(())
    }

    /// Removes a todo for good.
    pub async fn remove(&self, id: &str) -> Result<(), HttpError> {
        let result = db::query("DELETE FROM pacifico_todo_todos WHERE id = $1")
            .bind(id)
            .execute(&self.db)
            .await?;
        if result.rows_affected() == 0 {
            return Err(HttpError::not_found(format!("todo {id} not found")).with_field("_id"));
        }
        Ok(())
    }
}

fn encode(todo: &Todo) -> Result<String, HttpError> {
    serde_json::to_string(todo).map_err(|e| HttpError::internal(format!("cannot encode todo: {e}")))
}

fn decode(doc: &str) -> Result<Todo, HttpError> {
    serde_json::from_str(doc)
        .map_err(|e| HttpError::internal(format!("stored todo is damaged: {e}")))
}
