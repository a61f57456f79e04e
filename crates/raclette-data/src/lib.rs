//! # raclette-data: collections for plugins
//!
//! A plugin declares a collection of a serde type and gets typed, atomic
//! operations on it, on SQLite (the default) and PostgreSQL alike:
//!
//! - every item has the framework's fields beside its own: `_id` (a
//!   UUID), `project`, `owner`, `lastEditor`, `version`, `isDeleted`,
//!   `createdAt`, `updatedAt` ([`Item`]);
//! - reads and writes are confined to a [`Context`]'s project; writes stamp
//!   its user;
//! - a partial update changes only the fields it names, atomically, and
//!   may require the version it read ([`DataError::Conflict`] otherwise);
//!   soft deletes are separate from updates, so an update never undoes
//!   one;
//! - lists are paged ([`query::DEFAULT_PAGE_SIZE`], at most
//!   [`query::MAX_PAGE_SIZE`] items and [`query::MAX_PAGE_BYTES`] of
//!   documents per page) and filter only on known fields, with bound
//!   values;
//! - documents are checked against the type and the declared sizes before
//!   anything is stored.
//!
//! Plugins use it through the plugin API crate (`raclette::data`), which
//! fills the context from the request. This crate knows nothing of HTTP.
//!
//! ## Storage
//!
//! One table per collection, named `<plugin key>_<type name>`: the
//! framework's fields as columns (native `UUID`, `BOOLEAN` and
//! `TIMESTAMPTZ` on PostgreSQL) and the item's own fields as one JSON
//! document (`JSONB` on PostgreSQL, checked JSON text on SQLite). On SQLite,
//! reads use a pool of read-only connections on the calling thread and
//! writes go through one writer thread with group commit (see the
//! `sqlite` module); rusqlite is used rather than sqlx's SQLite driver,
//! whose per-query hand-off to a worker thread costs more than the query.

mod collection;
mod context;
mod error;
mod item;
mod meta;
mod postgres;
pub mod query;
mod sql;
mod sqlite;
mod store;
mod write;

pub use collection::{Collection, CollectionSpec, DEFAULT_MAX_ITEM_BYTES, Transaction};
pub use context::Context;
pub use error::DataError;
pub use item::{
    FRAMEWORK_FIELDS, Item, ItemRef, JsonItem, JsonPage, Removed, StoredItem, write_json_array,
};
pub use meta::check_id;
pub use query::{Filter, FilterOp, ListQuery, Page};
pub use store::Store;
pub use write::Written;
