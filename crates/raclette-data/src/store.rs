//! The app's data store: one SQLite file or one PostgreSQL database.

use std::{
    path::Path,
    sync::{Arc, Mutex, PoisonError},
};

use crate::{
    Context, DataError, ItemRef, JsonPage, ListQuery, StoredItem,
    meta::Meta,
    postgres::Postgres,
    query::{MAX_PAGE_BYTES, Page},
    sql::{self, Dialect},
    sqlite::Sqlite,
    write::{Write, Written},
};

/// The store behind every collection of an app. Cheap to clone.
///
/// The runtime opens it from `[database] url` of `raclette.toml`
/// (`sqlite://path` or `postgres://…`), beside the `Database` pool that
/// plugins use for SQL of their own.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    declared: Mutex<Declared>,
}

/// Collections declared, and those whose table is not created yet.
#[derive(Default)]
struct Declared {
    all: Vec<Arc<Meta>>,
    pending: Vec<Arc<Meta>>,
}

enum Backend {
    Sqlite(Arc<Sqlite>),
    Postgres(Postgres),
    /// Declarations only: nothing is read or written.
    Detached,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("database", &self.database_name())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store at `url`: `sqlite://PATH` (the file and its folder
    /// are created; query parameters are ignored) or `postgres://…` /
    /// `postgresql://…`.
    pub async fn open(url: &str) -> Result<Store, DataError> {
        let backend = if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(DataError::invalid(
                    "database.url",
                    "collections need a SQLite file, not an in-memory database",
                ));
            }
            Backend::Sqlite(Arc::new(Sqlite::open(Path::new(path))?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(Postgres::open(url).await?)
        } else {
            return Err(DataError::invalid(
                "database.url",
                "expected a sqlite:// or postgres:// URL",
            ));
        };
        Ok(Store {
            inner: Arc::new(Inner {
                backend,
                declared: Mutex::new(Declared::default()),
            }),
        })
    }

    /// A store that takes declarations but reads and writes nothing: for
    /// inspecting an app's plugins without touching its database.
    pub fn detached() -> Store {
        Store {
            inner: Arc::new(Inner {
                backend: Backend::Detached,
                declared: Mutex::new(Declared::default()),
            }),
        }
    }

    /// `"sqlite"`, `"postgres"` or `"detached"`.
    pub fn database_name(&self) -> &'static str {
        match self.inner.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
            Backend::Detached => "detached",
        }
    }

    pub(crate) fn declare(&self, meta: Arc<Meta>) -> Result<(), DataError> {
        let mut declared = self
            .inner
            .declared
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if declared.all.iter().any(|m| m.table == meta.table) {
            return Err(DataError::invalid(
                "collection",
                format!("the collection {} is declared twice", meta.table),
            ));
        }
        declared.all.push(meta.clone());
        declared.pending.push(meta);
        Ok(())
    }

    /// Creates the tables (if they do not exist) of the collections
    /// declared since the last call. The runtime calls it after each
    /// plugin's set-up.
    pub async fn create_tables(&self) -> Result<(), DataError> {
        let metas = std::mem::take(
            &mut self
                .inner
                .declared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pending,
        );
        for meta in metas {
            let index = format!("\"{}_live\"", meta.table.trim_matches('"'));
            match &self.inner.backend {
                Backend::Sqlite(db) => {
                    db.execute(sql::create_table(Dialect::Sqlite, &meta.table, &index))
                        .await?;
                }
                Backend::Postgres(db) => {
                    db.execute(&sql::create_table(Dialect::Postgres, &meta.table, &index))
                        .await?;
                }
                Backend::Detached => {}
            }
        }
        Ok(())
    }

    /// One item of the context's project, as `map` makes it of the row.
    pub(crate) async fn get<R>(
        &self,
        meta: &Meta,
        ctx: &Context,
        id: &str,
        map: fn(ItemRef<'_>) -> R,
    ) -> Result<Option<R>, DataError> {
        match &self.inner.backend {
            Backend::Sqlite(db) => db.get(meta, ctx, id, map),
            Backend::Postgres(db) => db.get(meta, ctx, id, map).await,
            Backend::Detached => Err(detached()),
        }
    }

    /// A page of items, collected into `O` (items or JSON) while the rows
    /// are read.
    pub(crate) async fn page<O: PageOut + Send + 'static>(
        &self,
        meta: &Arc<Meta>,
        ctx: &Context,
        query: &ListQuery,
    ) -> Result<PageBuilder<O>, DataError> {
        match &self.inner.backend {
            Backend::Sqlite(db) => Sqlite::page(db, meta, ctx, query).await,
            Backend::Postgres(db) => db.page(meta, ctx, query).await,
            Backend::Detached => Err(detached()),
        }
    }

    pub(crate) async fn count(
        &self,
        meta: &Arc<Meta>,
        ctx: &Context,
        query: &ListQuery,
    ) -> Result<u64, DataError> {
        match &self.inner.backend {
            Backend::Sqlite(db) => Sqlite::count(db, meta, ctx, query).await,
            Backend::Postgres(db) => db.count(meta, ctx, query).await,
            Backend::Detached => Err(detached()),
        }
    }

    pub(crate) async fn write(
        &self,
        ctx: &Context,
        writes: Vec<Write>,
    ) -> Result<Vec<Written>, DataError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        match &self.inner.backend {
            Backend::Sqlite(db) => db.write(ctx, writes).await,
            Backend::Postgres(db) => db.write(ctx, writes).await,
            Backend::Detached => Err(detached()),
        }
    }
}

fn detached() -> DataError {
    DataError::database(std::io::Error::other(
        "this store only takes declarations (the app is being inspected, not served)",
    ))
}

/// Collects one page: at most the query's page size, and stops once the
/// documents pass [`MAX_PAGE_BYTES`] (with at least one item). The page
/// is kept as items ([`Page`]) or written as JSON at once ([`JsonPage`]).
pub(crate) struct PageBuilder<O> {
    limit: usize,
    offset: u64,
    bytes: usize,
    len: usize,
    out: O,
    more: bool,
}

/// Where a [`PageBuilder`] puts the items it takes.
pub(crate) trait PageOut {
    /// Room for a page of `limit` items.
    fn new(limit: usize) -> Self;
    /// Adds one item.
    fn add(&mut self, item: ItemRef<'_>);
}

impl PageOut for Vec<StoredItem> {
    fn new(limit: usize) -> Self {
        Vec::with_capacity(limit.min(128))
    }

    fn add(&mut self, item: ItemRef<'_>) {
        self.push(item.to_stored());
    }
}

/// A JSON array being written.
pub(crate) struct JsonArray {
    out: Vec<u8>,
    limit: usize,
}

impl PageOut for JsonArray {
    fn new(limit: usize) -> Self {
        let mut out = Vec::with_capacity(4 * 1024);
        out.push(b'[');
        JsonArray { out, limit }
    }

    fn add(&mut self, item: ItemRef<'_>) {
        let first = self.out.len() == 1;
        if !first {
            self.out.push(b',');
        }
        item.write_json(&mut self.out);
        if first {
            // Room for a page of items like the first at once, rather than
            // growing (and copying) the array several times.
            let room = self.out.len().saturating_mul(self.limit);
            self.out.reserve(room.min(MAX_PAGE_BYTES + 64 * 1024));
        }
    }
}

impl<O: PageOut> PageBuilder<O> {
    pub(crate) fn new(query: &ListQuery) -> Self {
        let limit = query.page_size() as usize;
        PageBuilder {
            limit,
            offset: query.offset,
            bytes: 0,
            len: 0,
            out: O::new(limit),
            more: false,
        }
    }

    /// Adds an item; `false` when the page is full (the item is then left
    /// for the next page).
    pub(crate) fn push(&mut self, item: ItemRef<'_>) -> bool {
        let full = self.len >= self.limit
            || (self.len > 0 && self.bytes + item.doc.len() > MAX_PAGE_BYTES);
        if full {
            self.more = true;
            return false;
        }
        self.bytes += item.doc.len();
        self.len += 1;
        self.out.add(item);
        true
    }

    fn next_offset(&self) -> Option<u64> {
        self.more.then(|| self.offset + self.len as u64)
    }
}

impl PageBuilder<Vec<StoredItem>> {
    pub(crate) fn finish(self) -> Page<StoredItem> {
        Page {
            next_offset: self.next_offset(),
            items: self.out,
        }
    }
}

impl PageBuilder<JsonArray> {
    pub(crate) fn finish(self) -> JsonPage {
        let next_offset = self.next_offset();
        let mut json = self.out.out;
        json.push(b']');
        if json.capacity() > 2 * json.len() {
            // A short page does not keep the room made for a full one.
            json.shrink_to_fit();
        }
        JsonPage {
            json,
            len: self.len,
            next_offset,
        }
    }
}
