//! Applying plugins' SQL migrations once, recorded per plugin.

use raclette::Database;
use raclette_discovery::Migration;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::error::MigrationError;

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
        let checksum = hex::encode(Sha256::digest(migration.sql.as_bytes()));
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
