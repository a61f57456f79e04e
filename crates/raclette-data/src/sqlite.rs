//! SQLite: a pool of read-only connections used on the calling thread, and
//! one writer thread that commits concurrent writes together.
//!
//! Reads by id and pages in index order run where they are called, without
//! a hand-off to another thread, which would cost more than they do. Reads
//! that may scan a collection (filters, other orders) run on threads of
//! their own, a few at a time, so that they never hold up the runtime.
//!
//! Group commit: the writer takes every write waiting in its queue (up to
//! [`MAX_GROUP`]), runs each in its own savepoint (a failing write is
//! rolled back alone), commits once, and only then answers each caller. In
//! WAL mode with `synchronous = FULL` the commit is on disk when it
//! returns, so every acknowledged write survives a crash or a power cut,
//! and throughput grows with the number of concurrent writers.

use std::{
    panic::AssertUnwindSafe,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use rusqlite::{Connection, OpenFlags, OptionalExtension, ToSql, types::ToSqlOutput};
use tokio::sync::{mpsc, oneshot};

use crate::{
    Context, DataError, ItemRef, ListQuery,
    meta::Meta,
    sql::{self, Arg, Dialect},
    store::{PageBuilder, PageOut},
    write::{Action, Write, Written},
};

/// The most writes committed together.
const MAX_GROUP: usize = 512;
/// Writes waiting for the writer; callers past it wait their turn.
const QUEUE: usize = 4096;
/// Idle read connections kept open.
const MAX_IDLE_READERS: usize = 16;
/// How long a statement waits for a lock held by another connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct Sqlite {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: mpsc::Sender<Command>,
    /// Turns for reads that may scan a collection.
    scans: tokio::sync::Semaphore,
}

/// Reads that may scan a collection running at once, each on a thread of
/// its own.
const MAX_SCANS: usize = 4;

/// Whether a list may scan the collection rather than walk its index
/// (`project`, `isDeleted`, `createdAt`, `_id`): any filter other than on
/// `isDeleted`, or another order.
fn is_scan(query: &ListQuery) -> bool {
    query.filters.iter().any(|f| f.field != "isDeleted")
        || query
            .sort
            .as_ref()
            .is_some_and(|(field, _)| field != "createdAt")
}

enum Command {
    Write {
        ctx: Context,
        writes: Vec<Write>,
        reply: oneshot::Sender<Result<Vec<Written>, DataError>>,
    },
    Execute {
        sql: String,
        reply: oneshot::Sender<Result<Vec<Written>, DataError>>,
    },
}

impl Sqlite {
    /// Opens (and creates) the database file at `path`.
    pub(crate) fn open(path: &Path) -> Result<Sqlite, DataError> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(DataError::database)?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.set_prepared_statement_cache_capacity(64);
        let (sender, receiver) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("raclette-sqlite-writer".into())
            .spawn(move || writer(conn, receiver))
            .map_err(DataError::database)?;
        Ok(Sqlite {
            path: path.to_owned(),
            readers: Mutex::new(Vec::new()),
            writer: sender,
            scans: tokio::sync::Semaphore::new(MAX_SCANS),
        })
    }

    /// Runs `sql` (DDL) on the writer.
    pub(crate) async fn execute(&self, sql: String) -> Result<(), DataError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Execute { sql, reply }).await?;
        answer.await.map_err(|_| writer_gone())?.map(|_| ())
    }

    /// Runs `writes` atomically, committed with whatever else is waiting.
    pub(crate) async fn write(
        &self,
        ctx: &Context,
        writes: Vec<Write>,
    ) -> Result<Vec<Written>, DataError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Write {
            ctx: ctx.clone(),
            writes,
            reply,
        })
        .await?;
        answer.await.map_err(|_| writer_gone())?
    }

    async fn send(&self, command: Command) -> Result<(), DataError> {
        self.writer.send(command).await.map_err(|_| writer_gone())
    }

    /// One item of the context's project, as `map` makes it of the row.
    pub(crate) fn get<R>(
        &self,
        meta: &Meta,
        ctx: &Context,
        id: &str,
        map: fn(ItemRef<'_>) -> R,
    ) -> Result<Option<R>, DataError> {
        self.read(|conn| fetch(conn, meta, ctx, id, map))
    }

    /// A page of items, collected into `O` while the rows are read.
    pub(crate) async fn page<O: PageOut + Send + 'static>(
        this: &Arc<Sqlite>,
        meta: &Arc<Meta>,
        ctx: &Context,
        query: &ListQuery,
    ) -> Result<PageBuilder<O>, DataError> {
        let sql = sql::list(Dialect::Sqlite, meta, ctx, query, false)?;
        let page = PageBuilder::<O>::new(query);
        let run = move |db: &Sqlite| {
            db.read(|conn| {
                let mut page = page;
                let mut stmt = conn.prepare_cached(&sql.text)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(sql.args.iter()))?;
                while let Some(row) = rows.next()? {
                    if !page.push(item(row)?) {
                        break;
                    }
                }
                Ok(page)
            })
        };
        this.run_read(is_scan(query), run).await
    }

    /// How many items a query selects.
    pub(crate) async fn count(
        this: &Arc<Sqlite>,
        meta: &Arc<Meta>,
        ctx: &Context,
        query: &ListQuery,
    ) -> Result<u64, DataError> {
        let sql = sql::list(Dialect::Sqlite, meta, ctx, query, true)?;
        let run = move |db: &Sqlite| {
            db.read(|conn| {
                let mut stmt = conn.prepare_cached(&sql.text)?;
                let n: i64 =
                    stmt.query_row(rusqlite::params_from_iter(sql.args.iter()), |r| r.get(0))?;
                Ok(u64::try_from(n).unwrap_or(0))
            })
        };
        this.run_read(is_scan(query), run).await
    }

    /// Runs a read here, or, when it may scan the collection, on a thread
    /// of its own (at most [`MAX_SCANS`] at once; the others wait), so that
    /// a slow read never holds up the runtime's threads.
    async fn run_read<R: Send + 'static>(
        self: &Arc<Self>,
        scan: bool,
        read: impl FnOnce(&Sqlite) -> Result<R, DataError> + Send + 'static,
    ) -> Result<R, DataError> {
        if !scan {
            return read(self);
        }
        let _turn = self.scans.acquire().await.map_err(|_| writer_gone())?;
        let db = self.clone();
        tokio::task::spawn_blocking(move || read(&db))
            .await
            .map_err(|e| DataError::database(std::io::Error::other(e.to_string())))?
    }

    /// Runs `f` on an idle read connection (opening one when none is
    /// idle).
    fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R, DataError>) -> Result<R, DataError> {
        let idle = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_reader(&self.path)?,
        };
        let result = f(&conn);
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if readers.len() < MAX_IDLE_READERS {
            readers.push(conn);
        }
        result
    }
}

fn open_reader(path: &Path) -> Result<Connection, DataError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn writer_gone() -> DataError {
    DataError::database(std::io::Error::other(
        "the SQLite writer stopped; see the log for why",
    ))
}

impl ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Arg::Text(s) => s.to_sql(),
            Arg::Int(n) => n.to_sql(),
            Arg::Bool(b) => b.to_sql(),
        }
    }
}

/// The item a row of `select_one` or a list holds, borrowed from the row.
fn item<'r>(row: &'r rusqlite::Row<'_>) -> rusqlite::Result<ItemRef<'r>> {
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

fn fetch<R>(
    conn: &Connection,
    meta: &Meta,
    ctx: &Context,
    id: &str,
    map: fn(ItemRef<'_>) -> R,
) -> Result<Option<R>, DataError> {
    let mut stmt = conn.prepare_cached(&meta.sqlite.select_one)?;
    Ok(stmt
        .query_row((id, ctx.project()), |row| Ok(map(item(row)?)))
        .optional()?)
}

/// The writer thread: takes what is waiting, runs it, commits once,
/// answers.
fn writer(conn: Connection, mut queue: mpsc::Receiver<Command>) {
    while let Some(first) = queue.blocking_recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(command) => group.push(command),
                Err(_) => break,
            }
        }
        if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
            tracing::error!(target: "raclette::data", error = %err, "cannot begin a write transaction");
            for command in group {
                answer(command, Err(group_error(&err)));
            }
            continue;
        }
        let results: Vec<_> = group.iter().map(|c| run_in_savepoint(&conn, c)).collect();
        match conn.execute_batch("COMMIT") {
            Ok(()) => {
                for (command, result) in group.into_iter().zip(results) {
                    answer(command, result);
                }
            }
            Err(err) => {
                tracing::error!(target: "raclette::data", error = %err, "cannot commit; the writes of this group are not stored");
                let _ = conn.execute_batch("ROLLBACK");
                for command in group {
                    answer(command, Err(group_error(&err)));
                }
            }
        }
    }
}

/// A copy of a group's error for each of its writes.
fn group_error(err: &rusqlite::Error) -> DataError {
    DataError::database(std::io::Error::other(err.to_string()))
}

fn answer(command: Command, result: Result<Vec<Written>, DataError>) {
    let reply = match command {
        Command::Write { reply, .. } | Command::Execute { reply, .. } => reply,
    };
    let _ = reply.send(result);
}

fn run_in_savepoint(conn: &Connection, command: &Command) -> Result<Vec<Written>, DataError> {
    conn.execute_batch("SAVEPOINT one_write")?;
    let result =
        std::panic::catch_unwind(AssertUnwindSafe(|| run(conn, command))).unwrap_or_else(|_| {
            Err(DataError::database(std::io::Error::other(
                "a write panicked; it was rolled back",
            )))
        });
    let end = if result.is_ok() {
        "RELEASE one_write"
    } else {
        "ROLLBACK TO one_write; RELEASE one_write"
    };
    conn.execute_batch(end)?;
    result
}

fn run(conn: &Connection, command: &Command) -> Result<Vec<Written>, DataError> {
    let (ctx, writes) = match command {
        Command::Execute { sql, .. } => {
            conn.execute_batch(sql)?;
            return Ok(Vec::new());
        }
        Command::Write { ctx, writes, .. } => (ctx, writes),
    };
    let mut done = Vec::with_capacity(writes.len());
    for write in writes {
        let current = match write.existing_id() {
            Some(id) => fetch(conn, &write.meta, ctx, id, |item| item.to_stored())?,
            None => None,
        };
        let action = write.plan(ctx, current)?;
        apply(conn, &write.meta, &action)?;
        done.push(action.written());
    }
    Ok(done)
}

fn apply(conn: &Connection, meta: &Meta, action: &Action) -> Result<(), DataError> {
    match action {
        Action::Insert(item) => {
            let mut stmt = conn.prepare_cached(&meta.sqlite.insert)?;
            let inserted = stmt.execute(rusqlite::params![
                item.id,
                item.project,
                item.owner,
                item.last_editor,
                item.version,
                i64::from(item.is_deleted),
                item.created_at,
                item.updated_at,
                item.doc
            ]);
            match inserted {
                Ok(_) => {}
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    return Err(meta.exists(&item.id));
                }
                Err(err) => return Err(err.into()),
            }
        }
        Action::Update(item) => {
            let mut stmt = conn.prepare_cached(&meta.sqlite.update)?;
            stmt.execute(rusqlite::params![
                item.doc,
                item.version,
                i64::from(item.is_deleted),
                item.updated_at,
                item.last_editor,
                item.id,
                item.project
            ])?;
        }
        Action::Delete(item) => {
            let mut stmt = conn.prepare_cached(&meta.sqlite.delete)?;
            stmt.execute((&item.id, &item.project))?;
        }
        Action::Keep(_) => {}
    }
    Ok(())
}
