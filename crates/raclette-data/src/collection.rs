//! Collections of a serde type, and transactions over several of them.

use std::{collections::BTreeMap, marker::PhantomData, sync::Arc};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use crate::{
    Context, DataError, Item, ItemRef, JsonItem, JsonPage, ListQuery, Page, Store, StoredItem,
    item::FRAMEWORK_FIELDS,
    meta::{Meta, canonical_id, check_id},
    sql::{Dialect, Statements},
    store::JsonArray,
    write::{Write, WriteKind, Written},
};

/// The largest document (the type's own fields as JSON) a collection takes
/// unless it says otherwise.
pub const DEFAULT_MAX_ITEM_BYTES: usize = 64 * 1024;

type Validator<T> = dyn Fn(&T) -> Result<(), DataError> + Send + Sync;

/// How a collection is declared: its item type's name and its limits.
///
/// ```
/// use raclette_data::{CollectionSpec, DataError};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Note { title: String, #[serde(default)] body: String }
///
/// let spec = CollectionSpec::<Note>::new("note")
///     .max_item_size(16 * 1024)
///     .max_field_size("title", 200)
///     .validate(|note| if note.title.trim().is_empty() {
///         Err(DataError::invalid("body.title", "must not be empty"))
///     } else {
///         Ok(())
///     });
/// # let _ = spec;
/// ```
pub struct CollectionSpec<T> {
    type_name: String,
    max_item_bytes: usize,
    max_field_bytes: BTreeMap<String, usize>,
    validators: Vec<Arc<Validator<T>>>,
}

impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> CollectionSpec<T> {
    /// A collection of items that clients call `type_name` (`todo`): the
    /// name of its data operations' type and of its channels.
    pub fn new(type_name: impl Into<String>) -> Self {
        CollectionSpec {
            type_name: type_name.into(),
            max_item_bytes: DEFAULT_MAX_ITEM_BYTES,
            max_field_bytes: BTreeMap::new(),
            validators: Vec::new(),
        }
    }

    /// The largest item, in bytes of its own fields as JSON; default
    /// [`DEFAULT_MAX_ITEM_BYTES`].
    pub fn max_item_size(mut self, bytes: usize) -> Self {
        self.max_item_bytes = bytes;
        self
    }

    /// The largest value of `field`: bytes of UTF-8 for a string, of JSON
    /// otherwise.
    pub fn max_field_size(mut self, field: &str, bytes: usize) -> Self {
        self.max_field_bytes.insert(field.to_owned(), bytes);
        self
    }

    /// A check every created or updated item must pass; its error is the
    /// client's 400.
    pub fn validate(
        mut self,
        check: impl Fn(&T) -> Result<(), DataError> + Send + Sync + 'static,
    ) -> Self {
        self.validators.push(Arc::new(check));
        self
    }

    /// Declares the collection in `store` under `prefix` (the plugin key):
    /// its table is `<prefix>_<type name>`, created by
    /// [`Store::create_tables`].
    pub fn declare(self, store: &Store, prefix: &str) -> Result<Collection<T>, DataError> {
        let name = &self.type_name;
        let valid_name = name.len() <= 40
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric());
        if !valid_name {
            return Err(DataError::invalid(
                "collection",
                format!(
                    "`{name}` is not a collection type name: expected a lower-case letter, then letters and digits (at most 40)"
                ),
            ));
        }
        let fields: Vec<&'static str> =
            serde_aux::serde_introspection::serde_introspect::<T>().to_vec();
        if fields.is_empty() {
            return Err(DataError::invalid(
                "collection",
                format!(
                    "the item type of `{name}` ({}) has no named fields; collections store structs",
                    std::any::type_name::<T>()
                ),
            ));
        }
        for field in &fields {
            if FRAMEWORK_FIELDS.contains(field) {
                return Err(DataError::invalid(
                    "collection",
                    format!(
                        "{} has a field `{field}`, which the framework sets on every item; rename it",
                        std::any::type_name::<T>()
                    ),
                ));
            }
        }
        for field in self.max_field_bytes.keys() {
            if !fields.contains(&field.as_str()) {
                return Err(DataError::invalid(
                    "collection",
                    format!("max_field_size names `{field}`, which is not a field of `{name}`"),
                ));
            }
        }
        let validators = self.validators;
        let normalize = move |doc: Map<String, Value>| -> Result<String, DataError> {
            let value: T = serde_path_to_error::deserialize(Value::Object(doc)).map_err(|e| {
                let path = e.path().to_string();
                let message = e.into_inner().to_string();
                // serde reports a missing field at its parent; name the field.
                let missing = message
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.split('`').next());
                let field = match (path.as_str(), missing) {
                    (".", Some(name)) => format!("body.{name}"),
                    (".", None) => "body".to_owned(),
                    (path, Some(name)) => format!("body.{path}.{name}"),
                    (path, None) => format!("body.{path}"),
                };
                DataError::invalid(field, message)
            })?;
            for check in &validators {
                check(&value)?;
            }
            serde_json::to_string(&value).map_err(|e| DataError::invalid("body", e.to_string()))
        };
        let table = format!("\"{}_{}\"", prefix.replace('"', ""), name);
        let meta = Arc::new(Meta {
            type_name: name.clone(),
            sqlite: Statements::new(Dialect::Sqlite, &table),
            postgres: Statements::new(Dialect::Postgres, &table),
            table,
            fields,
            max_item_bytes: self.max_item_bytes,
            max_field_bytes: self.max_field_bytes,
            normalize: Box::new(normalize),
        });
        store.declare(meta.clone())?;
        Ok(Collection {
            meta,
            store: store.clone(),
            _type: PhantomData,
        })
    }
}

/// A collection of `T` items: typed reads and writes, each confined to
/// the [`Context`]'s project. Cheap to clone.
///
/// Reads come in three forms: typed ([`Collection::get`] gives an
/// [`Item<T>`]), stored ([`Collection::get_stored`] gives the row, whose
/// JSON is written without parsing the document) and JSON
/// ([`Collection::get_json`], [`Collection::list_json`]: the answer is
/// written while the rows are read, without a copy of any field).
pub struct Collection<T> {
    meta: Arc<Meta>,
    store: Store,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Collection<T> {
    fn clone(&self) -> Self {
        Collection {
            meta: self.meta.clone(),
            store: self.store.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Collection<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collection")
            .field("type_name", &self.meta.type_name)
            .field("table", &self.meta.table)
            .finish()
    }
}

impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Collection<T> {
    /// The item type's name (`todo`).
    pub fn type_name(&self) -> &str {
        &self.meta.type_name
    }

    /// The type's own field names (after serde renames).
    pub fn fields(&self) -> &[&'static str] {
        &self.meta.fields
    }

    /// One item, deleted or not. Another project's id is not found.
    pub async fn get(&self, ctx: &Context, id: &str) -> Result<Item<T>, DataError> {
        self.get_stored(ctx, id).await?.parse()
    }

    /// One item as stored.
    pub async fn get_stored(&self, ctx: &Context, id: &str) -> Result<StoredItem, DataError> {
        self.one(ctx, id, |item| item.to_stored()).await
    }

    /// One item written as JSON (an answer written straight from the row,
    /// without a copy of each field).
    pub async fn get_json(&self, ctx: &Context, id: &str) -> Result<JsonItem, DataError> {
        self.one(ctx, id, JsonItem::of).await
    }

    /// One item as `map` makes it of its row; not found when `id` names
    /// no item of the context's project.
    async fn one<R>(
        &self,
        ctx: &Context,
        id: &str,
        map: fn(ItemRef<'_>) -> R,
    ) -> Result<R, DataError> {
        let id = canonical_id(id, "_id")?;
        self.store
            .get(&self.meta, ctx, &id, map)
            .await?
            .ok_or_else(|| DataError::NotFound {
                type_name: self.meta.type_name.clone(),
                id: id.into_owned(),
            })
    }

    /// A page of items written as one JSON array, straight from the rows.
    pub async fn list_json(&self, ctx: &Context, query: &ListQuery) -> Result<JsonPage, DataError> {
        Ok(self
            .store
            .page::<JsonArray>(&self.meta, ctx, query)
            .await?
            .finish())
    }

    /// A page of items.
    pub async fn list(&self, ctx: &Context, query: &ListQuery) -> Result<Page<Item<T>>, DataError> {
        let page = self.list_stored(ctx, query).await?;
        Ok(Page {
            items: page
                .items
                .iter()
                .map(StoredItem::parse)
                .collect::<Result<_, _>>()?,
            next_offset: page.next_offset,
        })
    }

    /// A page of items as stored.
    pub async fn list_stored(
        &self,
        ctx: &Context,
        query: &ListQuery,
    ) -> Result<Page<StoredItem>, DataError> {
        Ok(self
            .store
            .page::<Vec<StoredItem>>(&self.meta, ctx, query)
            .await?
            .finish())
    }

    /// How many items match (paging ignored).
    pub async fn count(&self, ctx: &Context, query: &ListQuery) -> Result<u64, DataError> {
        self.store.count(&self.meta, ctx, query).await
    }

    /// Stores a new item with a new id.
    pub async fn create(&self, ctx: &Context, value: &T) -> Result<Item<T>, DataError> {
        let write = self.create_write(to_object(value)?)?;
        self.write_one(ctx, write).await?.parse()
    }

    /// Stores new items, all or none.
    pub async fn create_many(
        &self,
        ctx: &Context,
        values: &[T],
    ) -> Result<Vec<Item<T>>, DataError> {
        let writes = values
            .iter()
            .map(|v| self.create_write(to_object(v)?))
            .collect::<Result<Vec<_>, _>>()?;
        self.store
            .write(ctx, writes)
            .await?
            .iter()
            .map(|w| w.item().parse())
            .collect()
    }

    /// Stores a new item from a client's JSON object (an `_id`, a UUID, is
    /// taken when given; the framework's other fields are ignored).
    pub async fn create_json(&self, ctx: &Context, body: Value) -> Result<StoredItem, DataError> {
        let write = self.create_write(body_object(body)?)?;
        self.write_one(ctx, write).await
    }

    /// Changes the fields `patch` names (a struct whose `None` fields are
    /// skipped, or a JSON object), atomically: concurrent updates of other
    /// fields are kept. With `expected`, only if the item is still at that
    /// version (otherwise [`DataError::Conflict`] with the current item).
    pub async fn update(
        &self,
        ctx: &Context,
        id: &str,
        patch: &impl Serialize,
        expected: Option<i64>,
    ) -> Result<Item<T>, DataError> {
        let patch = to_object(patch)?;
        let write = self.update_write(id, patch, expected)?;
        self.write_one(ctx, write).await?.parse()
    }

    /// [`Collection::update`] with a client's JSON object; a `version`
    /// field in it counts as `expected` when that is `None`.
    pub async fn update_json(
        &self,
        ctx: &Context,
        id: &str,
        patch: Value,
        expected: Option<i64>,
    ) -> Result<StoredItem, DataError> {
        let write = self.update_write(id, body_object(patch)?, expected)?;
        self.write_one(ctx, write).await
    }

    /// Soft delete: the item stays, with `isDeleted: true`, until
    /// restored. Deleting a deleted item changes nothing.
    pub async fn delete(
        &self,
        ctx: &Context,
        id: &str,
        expected: Option<i64>,
    ) -> Result<StoredItem, DataError> {
        self.set_deleted(ctx, id, true, expected).await
    }

    /// Undoes a soft delete.
    pub async fn restore(
        &self,
        ctx: &Context,
        id: &str,
        expected: Option<i64>,
    ) -> Result<StoredItem, DataError> {
        self.set_deleted(ctx, id, false, expected).await
    }

    /// Removes the item for good; returns it as it was.
    pub async fn delete_hard(
        &self,
        ctx: &Context,
        id: &str,
        expected: Option<i64>,
    ) -> Result<StoredItem, DataError> {
        let write = self.delete_hard_write(id, expected)?;
        self.write_one(ctx, write).await
    }

    async fn set_deleted(
        &self,
        ctx: &Context,
        id: &str,
        deleted: bool,
        expected: Option<i64>,
    ) -> Result<StoredItem, DataError> {
        let write = self.set_deleted_write(id, deleted, expected)?;
        self.write_one(ctx, write).await
    }

    /// Runs one write alone; the item it wrote or removed.
    async fn write_one(&self, ctx: &Context, write: Write) -> Result<StoredItem, DataError> {
        one(self.store.write(ctx, vec![write]).await?)
    }

    fn set_deleted_write(
        &self,
        id: &str,
        deleted: bool,
        expected: Option<i64>,
    ) -> Result<Write, DataError> {
        let id = check_id(id, "_id")?;
        Ok(self.write(WriteKind::SetDeleted {
            id,
            deleted,
            expected,
        }))
    }

    fn delete_hard_write(&self, id: &str, expected: Option<i64>) -> Result<Write, DataError> {
        let id = check_id(id, "_id")?;
        Ok(self.write(WriteKind::DeleteHard { id, expected }))
    }

    fn write(&self, kind: WriteKind) -> Write {
        Write {
            meta: self.meta.clone(),
            kind,
        }
    }

    fn create_write(&self, body: Map<String, Value>) -> Result<Write, DataError> {
        let (id, doc) = self.meta.new_document(body)?;
        let id = id.unwrap_or_else(|| uuid::Uuid::new_v4().hyphenated().to_string());
        Ok(self.write(WriteKind::Create { id, doc }))
    }

    fn update_write(
        &self,
        id: &str,
        patch: Map<String, Value>,
        expected: Option<i64>,
    ) -> Result<Write, DataError> {
        let id = check_id(id, "_id")?;
        let (patch, in_body) = self.meta.patch(patch)?;
        if let (Some(expected), Some(in_body)) = (expected, in_body)
            && expected != in_body
        {
            return Err(DataError::invalid(
                "body.version",
                format!("is {in_body}, but the expected version (If-Match) is {expected}"),
            ));
        }
        Ok(self.write(WriteKind::Update {
            id,
            patch,
            expected: expected.or(in_body),
        }))
    }
}

fn one(written: Vec<Written>) -> Result<StoredItem, DataError> {
    written
        .into_iter()
        .next()
        .map(|w| match w {
            Written::Item(item) | Written::Removed(item) => item,
        })
        .ok_or_else(|| DataError::database(std::io::Error::other("a write returned nothing")))
}

fn to_object(value: &impl Serialize) -> Result<Map<String, Value>, DataError> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(DataError::invalid(
            "body",
            format!("expected an object, got {other}"),
        )),
        Err(e) => Err(DataError::invalid("body", e.to_string())),
    }
}

fn body_object(body: Value) -> Result<Map<String, Value>, DataError> {
    match body {
        Value::Object(map) => Ok(map),
        other => Err(DataError::invalid(
            "body",
            format!("expected a JSON object, got {}", kind(&other)),
        )),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Several writes, over one or more collections, stored all or none.
///
/// ```no_run
/// # async fn demo(store: raclette_data::Store, notes: raclette_data::Collection<serde_json::Map<String, serde_json::Value>>) -> Result<(), raclette_data::DataError> {
/// let ctx = raclette_data::Context::new("default");
/// let written = store
///     .transaction()
///     .delete_hard(&notes, "0b3d7a4e-6a53-4a3c-9d0e-0c8b6f2b1a00", None)?
///     .commit(&ctx)
///     .await?;
/// # let _ = written; Ok(()) }
/// ```
#[must_use = "a transaction does nothing until committed"]
pub struct Transaction {
    store: Store,
    writes: Vec<Write>,
}

impl Store {
    /// An empty transaction.
    pub fn transaction(&self) -> Transaction {
        Transaction {
            store: self.clone(),
            writes: Vec::new(),
        }
    }
}

impl Transaction {
    /// Adds a create.
    pub fn create<T: Serialize + DeserializeOwned + Send + Sync + 'static>(
        mut self,
        collection: &Collection<T>,
        value: &T,
    ) -> Result<Self, DataError> {
        self.writes
            .push(collection.create_write(to_object(value)?)?);
        Ok(self)
    }

    /// Adds a partial update.
    pub fn update<T: Serialize + DeserializeOwned + Send + Sync + 'static>(
        mut self,
        collection: &Collection<T>,
        id: &str,
        patch: &impl Serialize,
        expected: Option<i64>,
    ) -> Result<Self, DataError> {
        self.writes
            .push(collection.update_write(id, to_object(patch)?, expected)?);
        Ok(self)
    }

    /// Adds a soft delete.
    pub fn delete<T: Serialize + DeserializeOwned + Send + Sync + 'static>(
        mut self,
        collection: &Collection<T>,
        id: &str,
        expected: Option<i64>,
    ) -> Result<Self, DataError> {
        self.writes
            .push(collection.set_deleted_write(id, true, expected)?);
        Ok(self)
    }

    /// Adds a hard delete.
    pub fn delete_hard<T: Serialize + DeserializeOwned + Send + Sync + 'static>(
        mut self,
        collection: &Collection<T>,
        id: &str,
        expected: Option<i64>,
    ) -> Result<Self, DataError> {
        self.writes
            .push(collection.delete_hard_write(id, expected)?);
        Ok(self)
    }

    /// Stores every write, or none when one fails (its error is returned).
    pub async fn commit(self, ctx: &Context) -> Result<Vec<Written>, DataError> {
        self.store.write(ctx, self.writes).await
    }
}
