//! PostgreSQL: native types (`UUID`, `JSONB`, `TIMESTAMPTZ`) through
//! sqlx's PostgreSQL driver, statements prepared once per connection. A
//! write locks the rows it changes (`SELECT … FOR UPDATE`) in one
//! transaction, so concurrent writes to one item follow each other.

use futures_util::TryStreamExt;
// Every statement here is built from the collection's table name (checked
// at declaration) and placeholders; values are always bound.
use sqlx::{
    AssertSqlSafe, PgPool, Postgres as Pg, Row,
    postgres::{PgArguments, PgPoolOptions, PgRow},
    query::Query,
};

use crate::{
    Context, DataError, ItemRef, ListQuery,
    meta::Meta,
    sql::{self, Arg, Dialect},
    store::{PageBuilder, PageOut},
    write::{Action, Write, Written},
};

pub(crate) struct Postgres {
    pool: PgPool,
}

impl Postgres {
    pub(crate) async fn open(url: &str) -> Result<Postgres, DataError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await?;
        Ok(Postgres { pool })
    }

    pub(crate) async fn execute(&self, sql: &str) -> Result<(), DataError> {
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(&self.pool)
            .await?;
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
        let row = sqlx::query(AssertSqlSafe(meta.postgres.select_one.clone()))
            .bind(id)
            .bind(ctx.project())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|row| Ok(map(item(row)?))).transpose()
    }

    /// A page of items, collected into `O` while the rows are read.
    pub(crate) async fn page<O: PageOut>(
        &self,
        meta: &Meta,
        ctx: &Context,
        query: &ListQuery,
    ) -> Result<PageBuilder<O>, DataError> {
        let sql = sql::list(Dialect::Postgres, meta, ctx, query, false)?;
        let mut rows =
            bind(sqlx::query(AssertSqlSafe(sql.text.clone())), &sql.args).fetch(&self.pool);
        let mut page = PageBuilder::<O>::new(query);
        while let Some(row) = rows.try_next().await? {
            if !page.push(item(&row)?) {
                break;
            }
        }
        Ok(page)
    }

    pub(crate) async fn count(
        &self,
        meta: &Meta,
        ctx: &Context,
        query: &ListQuery,
    ) -> Result<u64, DataError> {
        let sql = sql::list(Dialect::Postgres, meta, ctx, query, true)?;
        let row = bind(sqlx::query(AssertSqlSafe(sql.text.clone())), &sql.args)
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0))
    }

    pub(crate) async fn write(
        &self,
        ctx: &Context,
        writes: Vec<Write>,
    ) -> Result<Vec<Written>, DataError> {
        // One create is one statement, atomic on its own: no transaction
        // round trips.
        if let [write] = writes.as_slice()
            && write.existing_id().is_none()
        {
            let action = write.plan(ctx, None)?;
            let mut conn = self.pool.acquire().await?;
            apply(&mut conn, &write.meta, &action).await?;
            return Ok(vec![action.written()]);
        }
        let mut tx = self.pool.begin().await?;
        let mut done = Vec::with_capacity(writes.len());
        for write in &writes {
            let current = match write.existing_id() {
                Some(id) => {
                    let row =
                        sqlx::query(AssertSqlSafe(write.meta.postgres.select_one_locked.clone()))
                            .bind(id)
                            .bind(ctx.project())
                            .fetch_optional(&mut *tx)
                            .await?;
                    row.as_ref()
                        .map(|row| Ok::<_, DataError>(item(row)?.to_stored()))
                        .transpose()?
                }
                None => None,
            };
            let action = write.plan(ctx, current)?;
            apply(&mut tx, &write.meta, &action).await?;
            done.push(action.written());
        }
        tx.commit().await?;
        Ok(done)
    }
}

fn bind<'q>(mut query: Query<'q, Pg, PgArguments>, args: &'q [Arg]) -> Query<'q, Pg, PgArguments> {
    for arg in args {
        query = match arg {
            Arg::Text(s) => query.bind(s.as_str()),
            Arg::Int(n) => query.bind(*n),
            Arg::Bool(b) => query.bind(*b),
        };
    }
    query
}

/// The item a row of `select_one` or a list holds, borrowed from the row.
fn item(row: &PgRow) -> Result<ItemRef<'_>, DataError> {
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

async fn apply(tx: &mut sqlx::PgConnection, meta: &Meta, action: &Action) -> Result<(), DataError> {
    let statements = &meta.postgres;
    match action {
        Action::Insert(item) => {
            let inserted = sqlx::query(AssertSqlSafe(statements.insert.clone()))
                .bind(&item.id)
                .bind(&item.project)
                .bind(&item.owner)
                .bind(&item.last_editor)
                .bind(item.version)
                .bind(item.is_deleted)
                .bind(&item.created_at)
                .bind(&item.updated_at)
                .bind(&item.doc)
                .execute(&mut *tx)
                .await;
            match inserted {
                Ok(_) => {}
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Err(meta.exists(&item.id));
                }
                Err(err) => return Err(err.into()),
            }
        }
        Action::Update(item) => {
            sqlx::query(AssertSqlSafe(statements.update.clone()))
                .bind(&item.doc)
                .bind(item.version)
                .bind(item.is_deleted)
                .bind(&item.updated_at)
                .bind(&item.last_editor)
                .bind(&item.id)
                .bind(&item.project)
                .execute(&mut *tx)
                .await?;
        }
        Action::Delete(item) => {
            sqlx::query(AssertSqlSafe(statements.delete.clone()))
                .bind(&item.id)
                .bind(&item.project)
                .execute(&mut *tx)
                .await?;
        }
        Action::Keep(_) => {}
    }
    Ok(())
}
