//! The ceiling of the todo benchmarks: bare axum handlers that run the same
//! queries as raclette's data API on the database driver directly
//! (rusqlite or sqlx's PostgreSQL driver, prepared statements, no
//! framework), on the same table layout, and write the same JSON.
//!
//! On the app's paths the ceiling answers what raclette answers, header for
//! header: the security headers the framework puts on every answer, and an
//! item's version as `ETag`, from a header map built once and cloned per
//! answer (the cheapest way known, and raclette's). The same routes under
//! `/minimal` answer only the content type, the ceiling of an answer
//! without them.
//!
//! SQLite writes commit one by one on one connection with
//! `synchronous = FULL`, as a hand-written handler would.

use std::{
    path::Path,
    sync::{Arc, LazyLock, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path as UrlPath, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use futures_util::TryStreamExt;
use raclette::data::{ItemRef, JsonItem, StoredItem};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use sqlx::{PgPool, Row, postgres::PgPoolOptions};

/// The table raclette's data API uses for the todo collection.
const TABLE: &str = "\"pacifico__todo_todo\"";
const PROJECT: &str = "default";

const SQLITE_COLUMNS: &str =
    "_id, project, owner, last_editor, version, is_deleted, created_at, updated_at, doc";
const PG_COLUMNS: &str = "_id::text, project, owner, last_editor, version, is_deleted, \
    to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), \
    to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), doc::text";

/// The body of a create, checked as the plugin's type.
#[derive(serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct NewTodo {
    #[serde(rename = "_id", default, skip_serializing)]
    id: Option<String>,
    name: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    is_completed: bool,
}

#[derive(Clone)]
enum Db {
    Sqlite(Arc<Sqlite>),
    Postgres(PgPool),
}

struct Sqlite {
    path: std::path::PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: Mutex<Connection>,
}

/// The router of the ceiling server on `url` (`sqlite://…` or
/// `postgres://…`); creates the table as raclette does.
pub(crate) async fn router(url: &str) -> Result<Router, String> {
    let db = if let Some(path) = url.strip_prefix("sqlite://") {
        let path = Path::new(path.split('?').next().unwrap_or_default());
        std::fs::create_dir_all(path.parent().ok_or("a folder")?).map_err(|e| e.to_string())?;
        let writer = Connection::open(path).map_err(|e| e.to_string())?;
        writer
            .execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;
                 CREATE TABLE IF NOT EXISTS {TABLE} (
                    _id TEXT PRIMARY KEY NOT NULL, project TEXT NOT NULL, owner TEXT, last_editor TEXT,
                    version INTEGER NOT NULL, is_deleted INTEGER NOT NULL DEFAULT 0,
                    created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
                    doc TEXT NOT NULL CHECK (json_valid(doc)));
                 CREATE INDEX IF NOT EXISTS \"pacifico__todo_todo_live\" ON {TABLE} (project, is_deleted, created_at, _id);"
            ))
            .map_err(|e| e.to_string())?;
        Db::Sqlite(Arc::new(Sqlite {
            path: path.to_owned(),
            readers: Mutex::new(Vec::new()),
            writer: Mutex::new(writer),
        }))
    } else {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE IF NOT EXISTS {TABLE} (
                _id UUID PRIMARY KEY, project TEXT NOT NULL, owner TEXT, last_editor TEXT,
                version BIGINT NOT NULL, is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
                created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL, doc JSONB NOT NULL);
             CREATE INDEX IF NOT EXISTS \"pacifico__todo_todo_live\" ON {TABLE} (project, is_deleted, created_at, _id);"
        )))
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;
        Db::Postgres(pool)
    };
    let routes = |prefix: &str, minimal: bool| {
        let all = if minimal {
            get(all::<true>)
        } else {
            get(all::<false>)
        };
        let one = if minimal {
            get(one::<true>)
        } else {
            get(one::<false>)
        };
        let create = if minimal {
            post(create::<true>)
        } else {
            post(create::<false>)
        };
        Router::new()
            .route(&format!("{prefix}/todo/all"), all)
            .route(&format!("{prefix}/todo/{{id}}"), one)
            .route(&format!("{prefix}/todo"), create)
    };
    Ok(routes(SAME_PREFIX, false)
        .merge(routes(MINIMAL_PREFIX, true))
        .with_state(db))
}

/// Where the ceiling answers as raclette does.
pub(crate) const SAME_PREFIX: &str = "/plugin/pacifico/todo";
/// Where it answers with the content type alone.
pub(crate) const MINIMAL_PREFIX: &str = "/minimal";

/// A JSON answer: with the content type alone when `MINIMAL`, else with
/// the headers raclette's answer has (and `ETag` for an item's `version`).
fn json<const MINIMAL: bool>(status: StatusCode, body: Vec<u8>, version: Option<i64>) -> Response {
    if MINIMAL {
        return (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    let mut headers = match version {
        Some(_) => ITEM_HEADERS.clone(),
        None => PAGE_HEADERS.clone(),
    };
    if let Some(version) = version {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(version).as_bytes();
        let mut etag = Vec::with_capacity(digits.len() + 2);
        etag.push(b'"');
        etag.extend_from_slice(digits);
        etag.push(b'"');
        let etag = HeaderValue::from_maybe_shared(Bytes::from(etag)).expect("digits");
        headers.insert(header::ETAG, etag);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    let mut response = Response::new(axum::body::Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// The headers of raclette's answers, built once and cloned for each
/// answer, the cheapest way known to send them (as raclette does), with
/// room for the values set per answer.
static ITEM_HEADERS: LazyLock<HeaderMap> = LazyLock::new(|| headers(true));
static PAGE_HEADERS: LazyLock<HeaderMap> = LazyLock::new(|| headers(false));

fn headers(item: bool) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    for (name, value) in raclette::__private::SECURITY_HEADERS {
        headers.insert(name, value);
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        raclette::__private::RESOURCE_POLICY,
    );
    if item {
        headers.insert(header::ETAG, HeaderValue::from_static("\"0\""));
    }
    headers
}

fn fail(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The SQL of a list, a read by id and a create on SQLite, and a list and
/// a read by id on PostgreSQL, written once.
static SQLITE_LIST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {SQLITE_COLUMNS} FROM {TABLE} WHERE project = ?1 AND is_deleted = 0 ORDER BY created_at, _id LIMIT 101"
    )
});
static SQLITE_ONE: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {SQLITE_COLUMNS} FROM {TABLE} WHERE _id = ?1 AND project = ?2")
});
static SQLITE_CREATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO {TABLE} (_id, project, owner, last_editor, version, is_deleted, created_at, updated_at, doc) \
         VALUES (?1, ?2, NULL, NULL, 1, 0, ?3, ?4, ?5)"
    )
});
static PG_LIST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {PG_COLUMNS} FROM {TABLE} WHERE project = $1 AND is_deleted = FALSE ORDER BY created_at, _id LIMIT 101"
    )
});
static PG_ONE: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {PG_COLUMNS} FROM {TABLE} WHERE _id = $1::uuid AND project = $2")
});

/// The item a row holds, borrowed from the row (the JSON is written from
/// it, as raclette's data API writes it).
fn sqlite_item<'r>(row: &'r rusqlite::Row<'_>) -> rusqlite::Result<ItemRef<'r>> {
    let text = |i: usize| row.get_ref(i)?.as_str().map_err(rusqlite::Error::from);
    let text_or_null = |i: usize| {
        row.get_ref(i)?
            .as_str_or_null()
            .map_err(rusqlite::Error::from)
    };
    Ok(ItemRef {
        id: text(0)?,
        project: text(1)?,
        owner: text_or_null(2)?,
        last_editor: text_or_null(3)?,
        version: row.get(4)?,
        is_deleted: row.get::<_, i64>(5)? != 0,
        created_at: text(6)?,
        updated_at: text(7)?,
        doc: text(8)?,
    })
}

fn pg_item(row: &sqlx::postgres::PgRow) -> Result<ItemRef<'_>, sqlx::Error> {
    Ok(ItemRef {
        id: row.try_get(0)?,
        project: row.try_get(1)?,
        owner: row.try_get(2)?,
        last_editor: row.try_get(3)?,
        version: row.try_get(4)?,
        is_deleted: row.try_get(5)?,
        created_at: row.try_get(6)?,
        updated_at: row.try_get(7)?,
        doc: row.try_get(8)?,
    })
}

impl Sqlite {
    fn read<R>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> rusqlite::Result<R> {
        let conn = match self.readers.lock().expect("not poisoned").pop() {
            Some(conn) => conn,
            None => Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?,
        };
        let result = f(&conn);
        self.readers.lock().expect("not poisoned").push(conn);
        result
    }
}

/// At most 100 items as a JSON array.
struct Array {
    out: Vec<u8>,
    len: usize,
}

impl Array {
    fn new() -> Self {
        Array {
            out: Vec::with_capacity(16 * 1024),
            len: 0,
        }
    }

    /// Adds an item; `false` once the array holds 100.
    fn push(&mut self, item: ItemRef<'_>) -> bool {
        if self.len == 100 {
            return false;
        }
        self.out.push(if self.len == 0 { b'[' } else { b',' });
        item.write_json(&mut self.out);
        self.len += 1;
        true
    }

    fn finish(mut self) -> Vec<u8> {
        if self.len == 0 {
            self.out.push(b'[');
        }
        self.out.push(b']');
        self.out
    }
}

async fn all<const MINIMAL: bool>(State(db): State<Db>) -> Response {
    let body = match db {
        Db::Sqlite(db) => db
            .read(|conn| {
                let mut stmt = conn.prepare_cached(&SQLITE_LIST)?;
                let mut rows = stmt.query([PROJECT])?;
                let mut array = Array::new();
                while let Some(row) = rows.next()? {
                    if !array.push(sqlite_item(row)?) {
                        break;
                    }
                }
                Ok(array.finish())
            })
            .map_err(fail),
        Db::Postgres(pool) => {
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(PG_LIST.as_str()))
                .bind(PROJECT)
                .fetch(&pool);
            let mut array = Array::new();
            loop {
                match rows.try_next().await {
                    Ok(Some(row)) => match pg_item(&row) {
                        Ok(item) => {
                            if !array.push(item) {
                                break Ok(array.finish());
                            }
                        }
                        Err(e) => break Err(fail(e)),
                    },
                    Ok(None) => break Ok(array.finish()),
                    Err(e) => break Err(fail(e)),
                }
            }
        }
    };
    match body {
        Ok(body) => json::<MINIMAL>(StatusCode::OK, body, None),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

async fn one<const MINIMAL: bool>(State(db): State<Db>, UrlPath(id): UrlPath<String>) -> Response {
    if uuid::Uuid::try_parse(&id).is_err() {
        return (StatusCode::BAD_REQUEST, "not an id").into_response();
    }
    let body = match db {
        Db::Sqlite(db) => db
            .read(|conn| {
                let mut stmt = conn.prepare_cached(&SQLITE_ONE)?;
                stmt.query_row((&id, PROJECT), |row| Ok(JsonItem::of(sqlite_item(row)?)))
                    .optional()
            })
            .map_err(fail),
        Db::Postgres(pool) => match sqlx::query(sqlx::AssertSqlSafe(PG_ONE.as_str()))
            .bind(&id)
            .bind(PROJECT)
            .fetch_optional(&pool)
            .await
        {
            Ok(row) => row
                .as_ref()
                .map(|row| pg_item(row).map(JsonItem::of))
                .transpose()
                .map_err(fail),
            Err(e) => Err(fail(e)),
        },
    };
    match body {
        Ok(Some(item)) => json::<MINIMAL>(StatusCode::OK, item.json, Some(item.version)),
        Ok(None) => (StatusCode::NOT_FOUND, "not found").into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

async fn create<const MINIMAL: bool>(State(db): State<Db>, body: Bytes) -> Response {
    let todo: NewTodo = match serde_json::from_slice(&body) {
        Ok(todo) => todo,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let item = StoredItem {
        id: todo
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        project: PROJECT.to_owned(),
        owner: None,
        last_editor: None,
        version: 1,
        is_deleted: false,
        created_at: now.clone(),
        updated_at: now,
        doc: serde_json::to_string(&todo).unwrap_or_default(),
    };
    let stored = match db {
        Db::Sqlite(db) => {
            let item = item.clone();
            tokio::task::spawn_blocking(move || {
                let conn = db.writer.lock().expect("not poisoned");
                let mut stmt = conn.prepare_cached(&SQLITE_CREATE)?;
                stmt.execute((&item.id, &item.project, &item.created_at, &item.updated_at, &item.doc))
            })
            .await
            .map_err(fail)
            .and_then(|r| r.map(|_| ()).map_err(fail))
        }
        Db::Postgres(pool) => sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {TABLE} (_id, project, owner, last_editor, version, is_deleted, created_at, updated_at, doc) \
             VALUES ($1::uuid, $2, NULL, NULL, 1, FALSE, $3::timestamptz, $4::timestamptz, $5::jsonb)"
        )))
        .bind(&item.id)
        .bind(&item.project)
        .bind(&item.created_at)
        .bind(&item.updated_at)
        .bind(&item.doc)
        .execute(&pool)
        .await
        .map(|_| ())
        .map_err(fail),
    };
    match stored {
        Ok(()) => json::<MINIMAL>(
            StatusCode::CREATED,
            item.to_json().into_bytes(),
            Some(item.version),
        ),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}
