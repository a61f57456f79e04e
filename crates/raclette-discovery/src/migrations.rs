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
        let digits: String = stem.chars().take_while(char::is_ascii_digit).collect();
        let rest = &stem[digits.len()..];
        let version = digits
            .parse::<i64>()
            .ok()
            .filter(|_| rest.is_empty() || rest.starts_with('_'));
        let Some(version) = version else {
            problems.push(Problem::file(
                format!("{dir}/{file_name}"),
                "migration file name must be `<number>_<name>.sql`, such as `0001_create_todos.sql`",
            ));
            continue;
        };
        if let Some(twin) = migrations.iter().find(|m| m.version == version) {
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
}
