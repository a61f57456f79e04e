use crate::Problem;

/// One SQL migration of a plugin, from `server/migrations/<version>_<name>.sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The leading number of the file name; migrations run in this order.
    pub version: i64,
    /// The rest of the file name, without `.sql`.
    pub name: String,
    /// The SQL to run.
    pub sql: String,
    /// The file name, such as `0001_create_todos.sql`.
    pub file: String,
    /// The only database it runs on (`0002_index.sqlite.sql`,
    /// `0002_index.postgres.sql`), or `None` for both.
    pub database: Option<String>,
}

/// The databases a migration file can be limited to, by the suffix before
/// `.sql`.
pub(crate) const MIGRATION_DATABASES: [&str; 2] = ["sqlite", "postgres"];

impl Migration {
    /// Whether it runs on `database` (`"sqlite"` or `"postgres"`).
    ///
    /// ```
    /// let m = raclette_discovery::Migration {
    ///     version: 2, name: "index".into(), sql: String::new(),
    ///     file: "0002_index.sqlite.sql".into(), database: Some("sqlite".into()),
    /// };
    /// assert!(m.runs_on("sqlite"));
    /// assert!(!m.runs_on("postgres"));
    /// ```
    pub fn runs_on(&self, database: &str) -> bool {
        self.database.as_deref().is_none_or(|only| only == database)
    }
}

/// Reads migration files (name, SQL) into ordered migrations, reporting bad
/// names and duplicate versions. `dir` is the folder shown in messages.
pub(crate) fn parse(files: &[(String, String)], dir: &str) -> Result<Vec<Migration>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut migrations: Vec<Migration> = Vec::new();
    for (file_name, sql) in files {
        let Some(stem) = file_name.strip_suffix(".sql") else {
            continue;
        };
        let (stem, database) = match stem.rsplit_once('.') {
            Some((stem, db)) if MIGRATION_DATABASES.contains(&db) => (stem, Some(db.to_owned())),
            _ => (stem, None),
        };
        let digits: String = stem.chars().take_while(char::is_ascii_digit).collect();
        let rest = &stem[digits.len()..];
        let version = digits
            .parse::<i64>()
            .ok()
            .filter(|_| rest.is_empty() || rest.starts_with('_'));
        let Some(version) = version else {
            problems.push(Problem::file(
                format!("{dir}/{file_name}"),
                "migration file name must be `<number>_<name>.sql` (or `.sqlite.sql` / `.postgres.sql` for one database), such as `0001_create_todos.sql`",
            ));
            continue;
        };
        let twin = migrations.iter().find(|m| {
            m.version == version
                && (m.database.is_none() || database.is_none() || m.database == database)
        });
        if let Some(twin) = twin {
            problems.push(Problem::file(
                format!("{dir}/{file_name}"),
                format!(
                    "migration version {version} is used twice (also by `{}`)",
                    twin.name
                ),
            ));
            continue;
        }
        let name = rest.trim_start_matches('_').to_owned();
        migrations.push(Migration {
            version,
            name,
            sql: sql.clone(),
            file: file_name.clone(),
            database,
        });
    }
    migrations.sort_by_key(|m| m.version);
    if problems.is_empty() {
        Ok(migrations)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_version_and_rejects_bad_names() {
        let files = vec![
            ("0002_b.sql".to_owned(), "B".to_owned()),
            ("0001_a.sql".to_owned(), "A".to_owned()),
            ("README.md".to_owned(), String::new()),
        ];
        let m = parse(&files, "m").unwrap();
        assert_eq!(m.iter().map(|m| m.version).collect::<Vec<_>>(), vec![1, 2]);
        let err = parse(&[("x.sql".to_owned(), String::new())], "m").unwrap_err();
        assert!(err[0].to_string().contains("m/x.sql"));
        let err = parse(
            &[
                ("1_a.sql".to_owned(), String::new()),
                ("01_b.sql".to_owned(), String::new()),
            ],
            "m",
        )
        .unwrap_err();
        assert!(err[0].message.contains("used twice"));
    }

    #[test]
    fn a_version_may_have_one_file_per_database() {
        let files = vec![
            ("0002_index.sqlite.sql".to_owned(), "S".to_owned()),
            ("0002_index.postgres.sql".to_owned(), "P".to_owned()),
            ("0001_a.sql".to_owned(), "A".to_owned()),
        ];
        let m = parse(&files, "m").unwrap();
        assert_eq!(m.len(), 3);
        let on = |db: &str| {
            m.iter()
                .filter(|m| m.runs_on(db))
                .map(|m| m.sql.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(on("sqlite"), ["A", "S"]);
        assert_eq!(on("postgres"), ["A", "P"]);
        assert_eq!(m[1].name, "index");
        let err = parse(
            &[
                ("0002_x.sql".to_owned(), String::new()),
                ("0002_x.sqlite.sql".to_owned(), String::new()),
            ],
            "m",
        )
        .unwrap_err();
        assert!(err[0].message.contains("used twice"));
    }
}
