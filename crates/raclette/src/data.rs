//! Collections for plugins: declare one with [`Registrar::collection`],
//! use it in handlers through the [`Data`] extractor, and register its
//! standard routes with [`crud`].
//!
//! ```
//! use raclette::{JsonSchema, Registrar, Routes, TS, data::{self, CollectionSpec}};
//! use serde::{Deserialize, Serialize};
//!
//! /// A note, as clients see it (beside `_id`, `version`, `createdAt`, …).
//! #[derive(Debug, Clone, Serialize, Deserialize, TS, JsonSchema)]
//! #[ts(crate = "raclette::ts_rs")]
//! #[schemars(crate = "raclette::schemars")]
//! #[serde(rename_all = "camelCase")]
//! pub struct Note {
//!     pub title: String,
//!     #[serde(default)]
//!     pub body: String,
//! }
//!
//! pub fn plugin(app: &mut Registrar) -> raclette::Result<()> {
//!     let notes = app.collection(CollectionSpec::<Note>::new("note").max_field_size("body", 10_000))?;
//!     app.routes(data::crud(&notes))?;
//!     Ok(())
//! }
//! # let _ = plugin;
//! ```
//!
//! Every item carries the framework's fields: `_id` (a UUID), `project`,
//! `owner`, `lastEditor`, `version`, `isDeleted`, `createdAt`, `updatedAt`.
//! Every read and write runs in the request's project (the [`Project`]
//! extractor's) as its user ([`CurrentUser`]): a plugin cannot read or
//! change another project's items, whatever ids it is sent.
//!
//! Storage, limits and concurrency are described in the crate
//! `raclette_data`, whose types this module re-exports.

use std::{ops::Deref, sync::Arc};

use axum::{
    extract::{FromRequestParts, Path, Query},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
pub use raclette_data::{
    Collection, CollectionSpec, Context, DEFAULT_MAX_ITEM_BYTES, DataError, Filter, FilterOp, Item,
    ItemRef, JsonItem, JsonPage, ListQuery, Page, Removed, Store, StoredItem, Transaction, Written,
    query::{DEFAULT_PAGE_SIZE, MAX_OFFSET, MAX_PAGE_BYTES, MAX_PAGE_SIZE},
    write_json_array,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::{
    CurrentUser, DataOperation, HttpError, Json, JsonSchema, Project, Routes, Service, TS,
    TypeSchema,
};

/// A collection of `T` in the request's project, as the request's user:
/// the extractor for handlers of a plugin that declared the collection
/// (or depends on the plugin that did).
///
/// ```
/// use raclette::{HttpError, Json, data::{Data, Item, ListQuery}};
/// # #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// # struct Note { title: String }
///
/// async fn titles(notes: Data<Note>) -> Result<Json<Vec<String>>, HttpError> {
///     let page = notes.list(&ListQuery::new().limit(20)).await?;
///     Ok(Json(page.items.into_iter().map(|n: Item<Note>| n.data.title).collect()))
/// }
/// # let _ = titles;
/// ```
pub struct Data<T> {
    collection: Arc<Collection<T>>,
    context: Context,
}

impl<T> Deref for Data<T> {
    type Target = Collection<T>;

    fn deref(&self) -> &Collection<T> {
        &self.collection
    }
}

impl<T, S> FromRequestParts<S> for Data<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        let Service(collection) =
            Service::<Collection<T>>::from_request_parts(parts, state).await?;
        Ok(Data {
            collection,
            context: context_of(parts),
        })
    }
}

/// The data context of a request: its project and user (read in place,
/// not cloned out of the extensions).
fn context_of(parts: &Parts) -> Context {
    let extensions = &parts.extensions;
    let project = extensions
        .get::<Project>()
        .map_or_else(Project::default_shared_id, Project::shared_id);
    let context = Context::new(project);
    match extensions.get::<CurrentUser>().and_then(CurrentUser::id) {
        Some(id) => context.with_user(id),
        None => context,
    }
}

impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Data<T> {
    /// The request's project and user.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// One item, deleted or not.
    pub async fn get(&self, id: &str) -> Result<Item<T>, DataError> {
        self.collection.get(&self.context, id).await
    }

    /// A page of items (live ones unless the query filters on
    /// `isDeleted`).
    pub async fn list(&self, query: &ListQuery) -> Result<Page<Item<T>>, DataError> {
        self.collection.list(&self.context, query).await
    }

    /// How many items match.
    pub async fn count(&self, query: &ListQuery) -> Result<u64, DataError> {
        self.collection.count(&self.context, query).await
    }

    /// Stores a new item.
    pub async fn create(&self, value: &T) -> Result<Item<T>, DataError> {
        self.collection.create(&self.context, value).await
    }

    /// Changes the fields `patch` names, atomically; with `expected`, only
    /// if the item is at that version.
    pub async fn update(
        &self,
        id: &str,
        patch: &impl Serialize,
        expected: Option<i64>,
    ) -> Result<Item<T>, DataError> {
        self.collection
            .update(&self.context, id, patch, expected)
            .await
    }

    /// Soft delete.
    pub async fn delete(&self, id: &str, expected: Option<i64>) -> Result<StoredItem, DataError> {
        self.collection.delete(&self.context, id, expected).await
    }

    /// Undoes a soft delete.
    pub async fn restore(&self, id: &str, expected: Option<i64>) -> Result<StoredItem, DataError> {
        self.collection.restore(&self.context, id, expected).await
    }

    /// Removes the item for good.
    pub async fn delete_hard(
        &self,
        id: &str,
        expected: Option<i64>,
    ) -> Result<StoredItem, DataError> {
        self.collection
            .delete_hard(&self.context, id, expected)
            .await
    }
}

/// The answer of a data error: 400 naming the field, 404, or 409 with the
/// current item; database errors are logged and answer a bare 500.
impl From<DataError> for HttpError {
    fn from(err: DataError) -> Self {
        match err {
            DataError::Invalid { field, message } => {
                // `field` says where (`body.tags[1]`, `query.limit`); the
                // answer's `field` names it as the client does (`tags[1]`).
                let err = HttpError::bad_request(format!("{field}: {message}"));
                match field
                    .strip_prefix("body.")
                    .or_else(|| field.strip_prefix("query."))
                {
                    Some(name) => err.with_field(name),
                    None if field == "body" => err,
                    None => err.with_field(field),
                }
            }
            DataError::NotFound { type_name, id } => {
                HttpError::not_found(format!("{type_name} {id} not found")).with_field("_id")
            }
            DataError::Conflict { message, current } => {
                let err = HttpError::conflict(message);
                match current {
                    Some(item) => err
                        .with_current(serde_json::from_str(&item.to_json()).unwrap_or(Value::Null)),
                    None => err,
                }
            }
            DataError::Busy => {
                tracing::warn!(target: "raclette::data", "database busy: every connection stayed taken");
                HttpError::new(StatusCode::SERVICE_UNAVAILABLE, DataError::Busy.to_string())
            }
            DataError::Database(cause) => {
                tracing::error!(target: "raclette::data", error = %cause, "database error");
                HttpError::internal("database error")
            }
        }
    }
}

/// An answer of stored items, written straight from the rows.
pub struct StoredJson {
    status: StatusCode,
    body: Vec<u8>,
    headers: HeaderMap,
}

impl StoredJson {
    /// One item, with its version as `ETag`.
    pub fn item(item: &StoredItem) -> Self {
        Self::json_item(JsonItem::of(item.as_ref()))
    }

    /// One item already written as JSON (from [`Collection::get_json`]),
    /// with its version as `ETag`.
    pub fn json_item(item: JsonItem) -> Self {
        let mut headers = crate::security_headers::json_headers_with_etag();
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(item.version).as_bytes();
        let mut etag = Vec::with_capacity(digits.len() + 2);
        etag.push(b'"');
        etag.extend_from_slice(digits);
        etag.push(b'"');
        match HeaderValue::from_maybe_shared(axum::body::Bytes::from(etag)) {
            Ok(etag) => headers.insert(header::ETAG, etag),
            Err(_) => headers.remove(header::ETAG),
        };
        StoredJson {
            status: StatusCode::OK,
            body: item.json,
            headers,
        }
    }

    /// A page of items: a JSON array; `X-Next-Offset` names the next page's
    /// offset when there may be one.
    pub fn page(page: &Page<StoredItem>) -> Self {
        let mut headers = crate::security_headers::json_headers();
        if let Some(next) = page.next_offset {
            headers.insert("x-next-offset", HeaderValue::from(next));
        }
        StoredJson {
            status: StatusCode::OK,
            body: write_json_array(&page.items),
            headers,
        }
    }

    /// A page already written as a JSON array (from
    /// [`Collection::list_json`]); `X-Next-Offset` names the next page's
    /// offset when there may be one.
    pub fn json_page(page: JsonPage) -> Self {
        let mut headers = crate::security_headers::json_headers();
        if let Some(next) = page.next_offset {
            headers.insert("x-next-offset", HeaderValue::from(next));
        }
        StoredJson {
            status: StatusCode::OK,
            body: page.json,
            headers,
        }
    }

    /// The same answer with another status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl IntoResponse for StoredJson {
    fn into_response(mut self) -> Response {
        self.headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(self.body.len()));
        let mut response = Response::new(axum::body::Body::from(self.body));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

/// The version an update or delete expects: the `If-Match` header, a
/// strong entity tag such as `"3"` (the `ETag` of a read), if any. `*`
/// (any version) is the same as no header; a weak tag (`W/"3"`), a list of
/// tags or anything else is a 400.
pub fn expected_version(headers: &HeaderMap) -> Result<Option<i64>, HttpError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let version = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<i64>().ok());
    version.map(Some).ok_or_else(|| {
        HttpError::bad_request(format!(
            "header If-Match: `{}` is not one item version; expected the item's ETag, such as \"3\"",
            text.chars().take(40).collect::<String>()
        ))
        .with_field("If-Match")
    })
}

/// The standard routes of a collection of `T` whose type name is `todo`,
/// each a data operation of type `todo`:
///
/// | operation | route | answers | channels |
/// |---|---|---|---|
/// | `getAll` | `GET /todo/all` | a page (array; `X-Next-Offset` when more follow) | |
/// | `get` | `GET /todo/:_id` | the item (`ETag: "<version>"`) | |
/// | `create` | `POST /todo` | 201 and the item | `todoCreated` |
/// | `update` | `PATCH /todo/:_id` | the item | `todoUpdated`, `broadcastDataUpdated` |
/// | `delete` | `DELETE /todo/:_id` | the soft-deleted item | `todoDeleted` |
/// | `restore` | `PATCH /todo/:_id/restore` | the restored item | `todoRestored`, `broadcastDataUpdated` |
/// | `deleteHard` | `DELETE /todo/:_id/hard` | `{ "_id", "deleted": true }` | `todoHardDeleted` |
///
/// `getAll` takes `limit` (default 100, at most 1000), `offset`, `sort`
/// (`name` or `-name`), `count=true` (adds `X-Total-Count`) and filters
/// `field=value` or `field[op]=value` (`op`: `eq`, `ne`, `lt`, `lte`,
/// `gt`, `gte`; a value is read as JSON when it is JSON, as text
/// otherwise) on the type's fields and the framework's (`owner`,
/// `createdAt`, `isDeleted`, …); an unknown field is a 400 naming it.
/// Updates, deletes and restores take the version they expect as an
/// `If-Match` header (or, for updates, a `version` field) and answer 409
/// with the current item (`current`) when it moved on.
pub fn crud<T>(collection: &Collection<T>) -> Routes
where
    T: Serialize + DeserializeOwned + TS + JsonSchema + Send + Sync + 'static,
{
    let name = collection.type_name().to_owned();
    let op = |make: fn(&str, &str) -> DataOperation, op: &str| make(&name, op).items::<Item<T>>();
    let event = |suffix: &str| format!("{name}{suffix}");
    Routes::new()
        .data(
            Method::GET,
            &format!("/{name}/all"),
            op(DataOperation::read, "getAll"),
            get_all::<T>,
        )
        .summary(&format!(
            "Lists live {name} items, oldest first, a page at a time; any other parameter filters (`field=value`, `field[op]=value` with op eq, ne, lt, lte, gt or gte)"
        ))
        .query::<ListParams>()
        .answers::<Vec<Item<T>>>()
        .data(
            Method::GET,
            &format!("/{name}/:_id"),
            op(DataOperation::read, "get"),
            get_one::<T>,
        )
        .summary(&format!("Gets one {name} item, deleted or not"))
        .answers::<Item<T>>()
        .data(
            Method::POST,
            &format!("/{name}"),
            op(DataOperation::create, "create").broadcast(&event("Created")),
            create::<T>,
        )
        .summary(&format!(
            "Creates a {name} item (201); `_id` (a UUID) may be given"
        ))
        .accepts::<T>()
        .data(
            Method::PATCH,
            &format!("/{name}/:_id"),
            op(DataOperation::update, "update")
                .broadcast(&event("Updated"))
                .broadcast("broadcastDataUpdated"),
            update::<T>,
        )
        .summary(&format!(
            "Changes the fields of a {name} item the body names; `If-Match` (or a `version` field) updates only the version read"
        ))
        .with_docs("accepts", |docs| docs.body = Some(TypeSchema::partial_of::<T>()))
        .data(
            Method::DELETE,
            &format!("/{name}/:_id"),
            op(DataOperation::delete, "delete").broadcast(&event("Deleted")),
            delete::<T>,
        )
        .summary(&format!("Soft-deletes a {name} item (`isDeleted` becomes true)"))
        .data(
            Method::PATCH,
            &format!("/{name}/:_id/restore"),
            op(DataOperation::update, "restore")
                .broadcast(&event("Restored"))
                .broadcast("broadcastDataUpdated"),
            restore::<T>,
        )
        .summary(&format!("Undoes the soft delete of a {name} item"))
        .data(
            Method::DELETE,
            &format!("/{name}/:_id/hard"),
            DataOperation::delete_hard(&name, "deleteHard")
                .items::<Removed>()
                .broadcast(&event("HardDeleted")),
            delete_hard::<T>,
        )
        .summary(&format!("Removes a {name} item for good"))
}

/// The query parameters of a collection's `getAll` that are not filters.
#[derive(serde::Deserialize, JsonSchema)]
#[schemars(crate = "raclette_contract::schemars")]
#[expect(
    dead_code,
    reason = "only its schema is used: `ListQuery::from_params` reads the parameters"
)]
struct ListParams {
    /// Page size, 1 to 1000 (default 100).
    #[schemars(range(min = 1, max = 1000))]
    limit: Option<u32>,
    /// Items skipped before the page, at most 1,000,000.
    #[schemars(range(max = 1_000_000))]
    offset: Option<u64>,
    /// The field to sort by, `-field` for descending (default `createdAt`).
    sort: Option<String>,
    /// `true` adds the number of matching items as header `X-Total-Count`.
    count: Option<bool>,
}

/// Query parameters of `getAll` that are not filters.
const LIST_OPTIONS: &[&str] = &["count"];

async fn get_all<T: Serialize + DeserializeOwned + Send + Sync + 'static>(
    data: Data<T>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let query = ListQuery::from_params(
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        LIST_OPTIONS,
    )?;
    let page = data.list_json(&data.context, &query).await?;
    let mut response = StoredJson::json_page(page).into_response();
    if params.iter().any(|(k, v)| k == "count" && v == "true") {
        let total = data.collection.count(&data.context, &query).await?;
        response
            .headers_mut()
            .insert("x-total-count", HeaderValue::from(total));
    }
    Ok(response)
}

async fn get_one<T: Serialize + DeserializeOwned + Send + Sync + 'static>(
    data: Data<T>,
    Path(id): Path<String>,
) -> Result<StoredJson, HttpError> {
    Ok(StoredJson::json_item(
        data.get_json(&data.context, &id).await?,
    ))
}

async fn create<T: Serialize + DeserializeOwned + Send + Sync + 'static>(
    data: Data<T>,
    Json(body): Json<Value>,
) -> Result<StoredJson, HttpError> {
    let item = data.create_json(&data.context, body).await?;
    Ok(StoredJson::item(&item).with_status(StatusCode::CREATED))
}

async fn update<T: Serialize + DeserializeOwned + Send + Sync + 'static>(
    data: Data<T>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<Value>,
) -> Result<StoredJson, HttpError> {
    let expected = expected_version(&headers)?;
    let item = data
        .update_json(&data.context, &id, patch, expected)
        .await?;
    Ok(StoredJson::item(&item))
}

async fn delete<T: Serialize + DeserializeOwned + Send + Sync + 'static>(
    data: Data<T>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StoredJson, HttpError> {
    let expected = expected_version(&headers)?;
    Ok(StoredJson::item(&data.delete(&id, expected).await?))
}

async fn restore<T: Serialize + DeserializeOwned + Send + Sync + 'static>(
    data: Data<T>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StoredJson, HttpError> {
    let expected = expected_version(&headers)?;
    Ok(StoredJson::item(&data.restore(&id, expected).await?))
}

async fn delete_hard<T: Serialize + DeserializeOwned + Send + Sync + 'static>(
    data: Data<T>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Removed>, HttpError> {
    let expected = expected_version(&headers)?;
    let removed = data.delete_hard(&id, expected).await?;
    Ok(Json(Removed {
        id: removed.id,
        deleted: true,
    }))
}
