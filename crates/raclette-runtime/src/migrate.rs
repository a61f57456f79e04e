//! Applying plugins' SQL migrations once, recorded per plugin.

use std::path::Path;

use raclette::Database;
use raclette_discovery::Migration;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{StartError, error::MigrationError};

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS raclette_migrations (
    plugin TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (plugin, version)
)";

/// Applies the migrations of `plugin` that are not recorded yet, each in its
/// own transaction, and records them in `raclette_migrations`.
///
/// A recorded migration whose file changed since is an error: migrations are
/// append-only.
pub(crate) async fn apply(
    db: &Database,
    plugin: &str,
    migrations: &[Migration],
) -> Result<usize, MigrationError> {
    if migrations.is_empty() {
        return Ok(0);
    }
    sqlx::query(CREATE_TABLE).execute(db).await?;
    let rows = sqlx::query("SELECT version, checksum FROM raclette_migrations WHERE plugin = $1")
        .bind(plugin)
        .fetch_all(db)
        .await?;
    let applied: Vec<(i64, String)> = rows
        .iter()
        .map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1)))
        .collect();
    let mut count = 0;
    for migration in migrations {
        let checksum = checksum(migration);
        if let Some((_, recorded)) = applied.iter().find(|(v, _)| *v == migration.version) {
            if *recorded != checksum {
                return Err(MigrationError::Changed {
                    version: migration.version,
                    name: migration.name.clone(),
                });
            }
            continue;
        }
        let mut tx = db.begin().await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(migration.sql.clone()))
            .execute(&mut *tx)
            .await
            .map_err(|source| MigrationError::Failed {
                version: migration.version,
                name: migration.name.clone(),
                source,
            })?;
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO raclette_migrations (plugin, version, name, checksum, applied_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(plugin)
        .bind(migration.version)
        .bind(&migration.name)
        .bind(&checksum)
        .bind(now)
        .execute(&mut *tx)
        .await
?;
        tx.commit().await?;
        tracing::info!(version = migration.version, name = %migration.name, "migration applied");
        count += 1;
    }
    Ok(count)
}

/// The checksum recorded for a migration.
fn checksum(migration: &Migration) -> String {
    hex::encode(Sha256::digest(migration.sql.as_bytes()))
}

/// Why a recorded migration may not change.
fn changed_message(migration: &Migration) -> String {
    MigrationError::Changed {
        version: migration.version,
        name: migration.name.clone(),
    }
    .to_string()
}

/// A migration whose file changed after it was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChangedMigration {
    /// Folder name of the plugin.
    pub(crate) plugin: String,
    /// The migration's file name, such as `0001_create_todos.sql`.
    pub(crate) file: String,
    /// What [`apply`] would say.
    pub(crate) message: String,
}

/// Checks the migrations of `plugins` (folder, migrations) against those
/// recorded in the database at `url`, without applying or creating
/// anything: returns every migration that was changed after it was applied
/// (start-up would stop on the first). A database that does not exist yet,
/// or has no migrations recorded, has none.
pub(crate) async fn changed(
    url: &str,
    plugins: &[(String, Vec<Migration>)],
) -> Result<Vec<ChangedMigration>, StartError> {
    let sqlite = url.starts_with("sqlite:");
    if sqlite {
        let file = url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:")
            .split('?')
            .next()
            .unwrap_or_default();
        if file.is_empty() || file == ":memory:" || !Path::new(file).is_file() {
            return Ok(Vec::new());
        }
    }
    let db = crate::database::connect(url, true).await?;
    let fail = |err: sqlx::Error| StartError::Database {
        url: crate::database::redact(url),
        cause: Box::new(err),
    };
    let exists = if sqlite {
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'raclette_migrations'"
    } else {
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'raclette_migrations' AND table_schema = ANY (current_schemas(false))"
    };
    let tables: i64 = sqlx::query(exists)
        .fetch_one(&db)
        .await
        .map_err(fail)?
        .get(0);
    let mut found = Vec::new();
    if tables > 0 {
        let rows = sqlx::query("SELECT plugin, version, checksum FROM raclette_migrations")
            .fetch_all(&db)
            .await
            .map_err(fail)?;
        for row in rows {
            let (plugin, version, recorded): (String, i64, String) =
                (row.get(0), row.get(1), row.get(2));
            let Some((_, migrations)) = plugins.iter().find(|(p, _)| *p == plugin) else {
                continue;
            };
            let database = if sqlite { "sqlite" } else { "postgres" };
            if let Some(migration) = migrations
                .iter()
                .find(|m| m.version == version && m.runs_on(database))
                && checksum(migration) != recorded
            {
                found.push(ChangedMigration {
                    plugin: plugin.clone(),
                    file: migration.file.clone(),
                    message: changed_message(migration),
                });
            }
        }
    }
    db.close().await;
    found.sort_by(|a, b| (&a.plugin, &a.file).cmp(&(&b.plugin, &b.file)));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(version: i64, name: &str, sql: &str) -> Migration {
        Migration {
            version,
            name: name.to_owned(),
            sql: sql.to_owned(),
            database: None,
            file: format!("{version:04}_{name}.sql"),
        }
    }

    #[tokio::test]
    async fn changed_migrations_are_found_without_applying_anything() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data/app.sqlite");
        let url = format!("sqlite://{}", file.display());
        let first = vec![migration(1, "create", "CREATE TABLE notes (id INTEGER)")];
        let plugins = vec![("acme__notes".to_owned(), first.clone())];

        // No database yet: nothing to compare, and none is created.
        assert_eq!(changed(&url, &plugins).await.unwrap(), vec![]);
        assert!(!file.exists());

        finds_changed_migrations(&url).await;
    }

    #[tokio::test]
    async fn changed_migrations_are_found_on_postgresql_too() {
        let admin_url = "postgres://postgres@127.0.0.1:5432/postgres";
        let admin = crate::database::connect(admin_url, false)
            .await
            .expect("PostgreSQL runs on 127.0.0.1:5432 (user postgres)");
        let name = format!("raclette_migrate_{}", std::process::id());
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&admin)
                .await
                .unwrap();
        }
        finds_changed_migrations(&format!("postgres://postgres@127.0.0.1:5432/{name}")).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&admin)
        .await
        .unwrap();
    }

    /// On an empty database at `url`: applies one migration, then checks
    /// what [`changed`] finds after it was edited and one was added.
    async fn finds_changed_migrations(url: &str) {
        let first = vec![migration(1, "create", "CREATE TABLE notes (id INTEGER)")];
        let plugins = vec![("acme__notes".to_owned(), first.clone())];
        let db = crate::database::connect(url, false).await.unwrap();
        // A database without the migrations table has nothing recorded.
        assert_eq!(changed(url, &plugins).await.unwrap(), vec![]);
        apply(&db, "acme__notes", &first).await.unwrap();
        assert_eq!(changed(url, &plugins).await.unwrap(), vec![]);

        let edited = vec![
            migration(1, "create", "CREATE TABLE notes (id INTEGER, body TEXT)"),
            migration(2, "more", "CREATE TABLE more (id INTEGER)"),
        ];
        let plugins = vec![("acme__notes".to_owned(), edited.clone())];
        assert_eq!(
            changed(url, &plugins).await.unwrap(),
            vec![ChangedMigration {
                plugin: "acme__notes".to_owned(),
                file: "0001_create.sql".to_owned(),
                message: "migration 1_create was changed after it was applied; add a new migration instead".to_owned(),
            }]
        );
        // The new migration was not applied by the check.
        let recorded: i64 = sqlx::query("SELECT COUNT(*) FROM raclette_migrations")
            .fetch_one(&db)
            .await
            .unwrap()
            .get(0);
        assert_eq!(recorded, 1);
        assert_eq!(
            apply(&db, "acme__notes", &edited)
                .await
                .unwrap_err()
                .to_string(),
            changed(url, &plugins).await.unwrap()[0].message,
            "start-up stops with the same message"
        );
        db.close().await;
    }
}
