//! Opening the app's database.

use std::path::Path;

use raclette::Database;
use sqlx::any::AnyPoolOptions;

use crate::StartError;

/// The database URL of an app: `[database] url` of `raclette.toml`, or the
/// SQLite file `data/raclette.sqlite` inside the app folder.
pub fn database_url(app_dir: &Path, configured: Option<&str>) -> String {
    match configured {
        Some(url) => url.to_owned(),
        None => format!(
            "sqlite://{}",
            app_dir.join("data").join("raclette.sqlite").display()
        ),
    }
}

/// Opens a pool on `url`, creating a SQLite file (and its folder) when it
/// does not exist yet. With `lazy`, nothing is connected until first use.
pub async fn connect(url: &str, lazy: bool) -> Result<Database, StartError> {
    sqlx::any::install_default_drivers();
    let fail = |cause: Box<dyn std::error::Error + Send + Sync>| StartError::Database {
        url: redact(url),
        cause,
    };
    let mut url = url.to_owned();
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .map(|p| p.split('?').next().unwrap_or("").to_owned())
    {
        if !lazy
            && path != ":memory:"
            && let Some(parent) = Path::new(&path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| fail(format!("cannot create {}: {e}", parent.display()).into()))?;
        }
        if !url.contains("mode=") {
            url.push_str(if url.contains('?') {
                "&mode=rwc"
            } else {
                "?mode=rwc"
            });
        }
    }
    let is_sqlite = url.starts_with("sqlite:");
    let options = AnyPoolOptions::new().max_connections(if is_sqlite { 8 } else { 16 });
    let pool = if lazy {
        options.connect_lazy(&url).map_err(|e| fail(e.into()))?
    } else {
        options.connect(&url).await.map_err(|e| fail(e.into()))?
    };
    if is_sqlite && !lazy {
        // WAL lets readers and one writer work side by side; busy_timeout
        // makes concurrent writers wait instead of failing.
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA busy_timeout = 5000"] {
            sqlx::query(pragma)
                .execute(&pool)
                .await
                .map_err(|e| fail(e.into()))?;
        }
    }
    Ok(pool)
}

/// Opens the store of the app's collections at `url` (the same database
/// as [`connect`]'s pool; SQLite through its own connections).
pub async fn open_store(url: &str) -> Result<raclette::data::Store, StartError> {
    raclette::data::Store::open(url)
        .await
        .map_err(|e| StartError::Database {
            url: redact(url),
            cause: Box::new(e),
        })
}

/// The URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
