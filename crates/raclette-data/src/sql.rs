//! SQL shared by both databases, written for each dialect: list and count
//! queries with bound filters, timestamps.

use std::sync::Arc;

use serde_json::Value;
use time::{OffsetDateTime, format_description::well_known::Rfc3339, macros::format_description};

use crate::{
    Context, DataError, ListQuery,
    meta::{Column, Meta},
    query::FilterOp,
};

/// The two SQL dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    Bool(bool),
}

/// A statement and its bound values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sql {
    pub(crate) text: String,
    pub(crate) args: Vec<Arg>,
}

impl Sql {
    fn arg(&mut self, dialect: Dialect, arg: Arg) -> String {
        self.args.push(arg);
        match dialect {
            Dialect::Sqlite => format!("?{}", self.args.len()),
            Dialect::Postgres => format!("${}", self.args.len()),
        }
    }
}

/// The columns every read selects, in [`crate::StoredItem`] order.
pub(crate) fn columns(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "_id, project, owner, last_editor, version, is_deleted, created_at, updated_at, doc"
        }
        Dialect::Postgres => {
            "_id::text, project, owner, last_editor, version, is_deleted, \
             to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), \
             to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), doc::text"
        }
    }
}

/// The statements of one collection's reads and writes by id, written once
/// when it is declared rather than on every request.
pub(crate) struct Statements {
    pub(crate) select_one: Arc<str>,
    /// `select_one` locking the row for the rest of the transaction.
    pub(crate) select_one_locked: Arc<str>,
    pub(crate) insert: Arc<str>,
    pub(crate) update: Arc<str>,
    pub(crate) delete: Arc<str>,
}

impl Statements {
    /// The statements of `table` in `dialect`.
    pub(crate) fn new(dialect: Dialect, table: &str) -> Statements {
        let columns = columns(dialect);
        let (id, stamp, json) = match dialect {
            Dialect::Sqlite => ("", "", ""),
            Dialect::Postgres => ("::uuid", "::timestamptz", "::jsonb"),
        };
        let p = |n: u8| match dialect {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        };
        let select_one = format!(
            "SELECT {columns} FROM {table} WHERE _id = {}{id} AND project = {}",
            p(1),
            p(2)
        );
        Statements {
            select_one_locked: match dialect {
                // The SQLite writer is alone: its reads need no lock.
                Dialect::Sqlite => select_one.clone(),
                Dialect::Postgres => format!("{select_one} FOR UPDATE"),
            }
            .into(),
            select_one: select_one.into(),
            insert: format!(
                "INSERT INTO {table} (_id, project, owner, last_editor, version, is_deleted, created_at, updated_at, doc) \
                 VALUES ({}{id}, {}, {}, {}, {}, {}, {}{stamp}, {}{stamp}, {}{json})",
                p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9)
            )
            .into(),
            update: format!(
                "UPDATE {table} SET doc = {}{json}, version = {}, is_deleted = {}, updated_at = {}{stamp}, \
                 last_editor = {} WHERE _id = {}{id} AND project = {}",
                p(1), p(2), p(3), p(4), p(5), p(6), p(7)
            )
            .into(),
            delete: format!(
                "DELETE FROM {table} WHERE _id = {}{id} AND project = {}",
                p(1),
                p(2)
            )
            .into(),
        }
    }
}

/// The table and index of a collection.
pub(crate) fn create_table(dialect: Dialect, table: &str, index: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                _id TEXT PRIMARY KEY NOT NULL,
                project TEXT NOT NULL,
                owner TEXT,
                last_editor TEXT,
                version INTEGER NOT NULL,
                is_deleted INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                doc TEXT NOT NULL CHECK (json_valid(doc))
            );
            CREATE INDEX IF NOT EXISTS {index} ON {table} (project, is_deleted, created_at, _id);"
        ),
        Dialect::Postgres => format!(
            "SET client_min_messages TO WARNING;
            CREATE TABLE IF NOT EXISTS {table} (
                _id UUID PRIMARY KEY,
                project TEXT NOT NULL,
                owner TEXT,
                last_editor TEXT,
                version BIGINT NOT NULL,
                is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
                created_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL,
                doc JSONB NOT NULL
            );
            CREATE INDEX IF NOT EXISTS {index} ON {table} (project, is_deleted, created_at, _id);"
        ),
    }
}

/// `SELECT <columns>` (or `count(*)`) of the items `query` selects in the
/// context's project. A list asks one row more than its page, to tell
/// whether another page follows.
pub(crate) fn list(
    dialect: Dialect,
    meta: &Meta,
    ctx: &Context,
    query: &ListQuery,
    count: bool,
) -> Result<Sql, DataError> {
    query.check_bounds()?;
    let mut sql = Sql::default();
    let project = sql.arg(dialect, Arg::Text(ctx.project().to_owned()));
    let mut conditions = vec![format!("project = {project}")];
    if !query.filters.iter().any(|f| f.field == "isDeleted") {
        conditions.push(match dialect {
            Dialect::Sqlite => "is_deleted = 0".to_owned(),
            Dialect::Postgres => "is_deleted = FALSE".to_owned(),
        });
    }
    for filter in &query.filters {
        let what = format!("query.{}", filter.field);
        let column = meta.column(&filter.field, &what)?;
        conditions.push(condition(
            dialect,
            &mut sql,
            column,
            &filter.field,
            filter.op,
            &filter.value,
            &what,
        )?);
    }
    let select = if count { "count(*)" } else { columns(dialect) };
    sql.text = format!(
        "SELECT {select} FROM {} WHERE {}",
        meta.table,
        conditions.join(" AND ")
    );
    if count {
        return Ok(sql);
    }
    let (field, descending) = match &query.sort {
        Some((field, descending)) => (field.as_str(), *descending),
        None => ("createdAt", false),
    };
    let column = meta.column(field, "query.sort")?;
    let key = expression(dialect, &mut sql, column, field);
    let direction = if descending { "DESC" } else { "ASC" };
    // Numbers checked by `check_bounds`, written into the statement: SQLite
    // re-prepares a statement on every run whose LIMIT is bound.
    let limit = u64::from(query.page_size()) + 1;
    let offset = query.offset;
    sql.text.push_str(&format!(
        " ORDER BY {key} {direction}, _id {direction} LIMIT {limit} OFFSET {offset}"
    ));
    Ok(sql)
}

/// The SQL expression of a field.
fn expression(dialect: Dialect, sql: &mut Sql, column: Column, field: &str) -> String {
    match column {
        Column::Id => "_id".into(),
        Column::Owner => "owner".into(),
        Column::LastEditor => "last_editor".into(),
        Column::Version => "version".into(),
        Column::IsDeleted => "is_deleted".into(),
        Column::CreatedAt => "created_at".into(),
        Column::UpdatedAt => "updated_at".into(),
        Column::Doc => match dialect {
            Dialect::Sqlite => {
                let path = sql.arg(dialect, Arg::Text(json_path(field)));
                format!("json_extract(doc, {path})")
            }
            Dialect::Postgres => {
                let key = sql.arg(dialect, Arg::Text(field.to_owned()));
                format!("(doc -> {key})")
            }
        },
    }
}

/// The SQLite JSON path of a top-level field.
fn json_path(field: &str) -> String {
    format!("$.\"{}\"", field.replace('\\', "\\\\").replace('"', "\\\""))
}

fn condition(
    dialect: Dialect,
    sql: &mut Sql,
    column: Column,
    field: &str,
    op: FilterOp,
    value: &Value,
    what: &str,
) -> Result<String, DataError> {
    if crate::meta::has_nul(value) {
        return Err(DataError::invalid(
            what,
            "text cannot contain the NUL character",
        ));
    }
    let expr = expression(dialect, sql, column, field);
    let expected = |kind: &str| DataError::invalid(what, format!("expected {kind}, got {value}"));
    if value.is_null() {
        return match op {
            FilterOp::Eq if column == Column::Doc && dialect == Dialect::Postgres => {
                Ok(format!("({expr} IS NULL OR {expr} = 'null'::jsonb)"))
            }
            FilterOp::Ne if column == Column::Doc && dialect == Dialect::Postgres => {
                Ok(format!("({expr} IS NOT NULL AND {expr} <> 'null'::jsonb)"))
            }
            FilterOp::Eq => Ok(format!("{expr} IS NULL")),
            FilterOp::Ne => Ok(format!("{expr} IS NOT NULL")),
            _ => Err(DataError::invalid(
                what,
                "null can only be compared with eq or ne",
            )),
        };
    }
    let negated = op == FilterOp::Ne;
    let op = op.sql();
    Ok(match column {
        Column::Id => {
            let id = crate::meta::check_id(value.as_str().ok_or_else(|| expected("an id"))?, what)?;
            let arg = sql.arg(dialect, Arg::Text(id));
            match dialect {
                Dialect::Sqlite => format!("{expr} {op} {arg}"),
                Dialect::Postgres => format!("{expr} {op} {arg}::uuid"),
            }
        }
        Column::Owner | Column::LastEditor => {
            let text = value
                .as_str()
                .ok_or_else(|| expected("a user id (string) or null"))?;
            let arg = sql.arg(dialect, Arg::Text(text.to_owned()));
            format!("{expr} {op} {arg}")
        }
        Column::Version => {
            let n = value.as_i64().ok_or_else(|| expected("a whole number"))?;
            let arg = sql.arg(dialect, Arg::Int(n));
            format!("{expr} {op} {arg}")
        }
        Column::IsDeleted => {
            let b = value.as_bool().ok_or_else(|| expected("true or false"))?;
            let arg = sql.arg(
                dialect,
                match dialect {
                    Dialect::Sqlite => Arg::Int(i64::from(b)),
                    Dialect::Postgres => Arg::Bool(b),
                },
            );
            format!("{expr} {op} {arg}")
        }
        Column::CreatedAt | Column::UpdatedAt => {
            let date = "an RFC 3339 date-time from year 1 to 9999";
            let text = value.as_str().ok_or_else(|| expected(date))?;
            let at = canonical_timestamp(text).ok_or_else(|| expected(date))?;
            let arg = sql.arg(dialect, Arg::Text(at));
            match dialect {
                Dialect::Sqlite => format!("{expr} {op} {arg}"),
                Dialect::Postgres => format!("{expr} {op} {arg}::timestamptz"),
            }
        }
        Column::Doc => {
            // Only values of the filter's JSON type compare: SQLite and
            // PostgreSQL order values of different types differently (SQLite
            // reads `true` as 1, jsonb sorts every string above every
            // number), so `pinned=1` or `title[gt]=5` would answer otherwise
            // on each. A value of another type is never equal to the filter's.
            let arg = sql.arg(dialect, Arg::Text(value.to_string()));
            let filter = match dialect {
                Dialect::Sqlite => format!("json_extract({arg}, '$')"),
                Dialect::Postgres => format!("{arg}::jsonb"),
            };
            let same_type = same_json_type(dialect, &expr, value);
            if negated {
                // Present and not null, as a null filter's `ne` means.
                let present = match dialect {
                    Dialect::Sqlite => format!("{expr} IS NOT NULL"),
                    Dialect::Postgres => format!("jsonb_typeof({expr}) <> 'null'"),
                };
                format!("({present} AND NOT ({same_type} AND {expr} = {filter}))")
            } else {
                format!("({same_type} AND {expr} {op} {filter})")
            }
        }
    })
}

/// SQL that is true when the document field `expr` (as [`expression`]
/// writes it) holds a value of `value`'s JSON type.
fn same_json_type(dialect: Dialect, expr: &str, value: &Value) -> String {
    // The type's names as SQLite's `json_type` and jsonb's `jsonb_typeof` give them.
    let (sqlite, postgres) = match value {
        Value::String(_) => ("'text'", "string"),
        Value::Number(_) => ("'integer', 'real'", "number"),
        Value::Bool(_) => ("'true', 'false'", "boolean"),
        Value::Array(_) => ("'array'", "array"),
        Value::Object(_) => ("'object'", "object"),
        Value::Null => ("'null'", "null"),
    };
    match dialect {
        Dialect::Sqlite => {
            let of = expr.replacen("json_extract(", "json_type(", 1);
            format!("{of} IN ({sqlite})")
        }
        Dialect::Postgres => format!("jsonb_typeof({expr}) = '{postgres}'"),
    }
}

const STAMP: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Now, as the framework stamps items: RFC 3339 UTC with milliseconds
/// (fixed width, so text order is time order).
pub(crate) fn now() -> String {
    format_stamp(OffsetDateTime::now_utc())
}

fn format_stamp(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(STAMP)
        .unwrap_or_default()
}

/// `text` (any RFC 3339 date-time from year 1 to 9999, in UTC) in the
/// framework's format; `None` for anything else.
pub(crate) fn canonical_timestamp(text: &str) -> Option<String> {
    let at = OffsetDateTime::parse(text, &Rfc3339)
        .ok()?
        .checked_to_offset(time::UtcOffset::UTC)?;
    (1..=9999).contains(&at.year()).then(|| format_stamp(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_utc() {
        assert_eq!(
            canonical_timestamp("2026-01-02T03:04:05+01:00").as_deref(),
            Some("2026-01-02T02:04:05.000Z")
        );
        assert_eq!(now().len(), 24);
        assert_eq!(canonical_timestamp("yesterday"), None);
        assert_eq!(canonical_timestamp("9999-12-31T23:59:59-23:59"), None);
        assert_eq!(canonical_timestamp("0000-01-01T00:00:00Z"), None);
    }
}
