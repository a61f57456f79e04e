//! The host binary's `user` command: accounts of the built-in core plugin,
//! managed from the app folder (`raclette user add|list|passwd`).
//!
//! ```text
//! <binary> user add EMAIL [--admin] [--name NAME]
//! <binary> user list
//! <binary> user passwd EMAIL
//! ```
//!
//! A password is asked for twice at a terminal; when standard input is
//! not a terminal, its first line is the password (for scripts).

use std::io::{BufRead, IsTerminal};

use crate::App;

/// What the `user` command was asked to do.
#[derive(Debug, Default)]
pub(crate) struct UserArgs {
    /// `add`, `list` or `passwd`, then the email.
    pub(crate) words: Vec<String>,
    /// `--admin`.
    pub(crate) admin: bool,
    /// `--name NAME`.
    pub(crate) name: Option<String>,
}

/// How the `user` command is used.
pub(crate) const USAGE: &str =
    "user add EMAIL [--admin] [--name NAME] | user list | user passwd EMAIL";

/// Runs the command on `app`'s database (migrations applied first).
pub(crate) async fn run(app: App, args: UserArgs) -> Result<(), String> {
    let words: Vec<&str> = args.words.iter().map(String::as_str).collect();
    if !app.model().get("raclette__core").is_some_and(|p| p.enabled) {
        return Err(
            "the built-in plugin raclette__core, which keeps the users, is disabled in raclette.toml"
                .to_owned(),
        );
    }
    let action = match words.as_slice() {
        ["add", email] => Action::Add(email),
        ["list"] => Action::List,
        ["passwd", email] => Action::Passwd(email),
        _ => return Err(format!("usage: {USAGE}")),
    };
    let built = app.build().await.map_err(|e| e.to_string())?;
    let db = built.database();
    let result = match action {
        Action::Add(email) => {
            let password = read_password()?;
            let user = raclette_core_server::admin::add_user(
                &db,
                email,
                args.name.as_deref(),
                &password,
                args.admin,
            )
            .await
            .map_err(|e| e.to_string())?;
            let role = if user.is_admin {
                "administrator"
            } else {
                "user"
            };
            println!("added {role} {} ({})", user.email, user.id);
            Ok(())
        }
        Action::List => {
            let users = raclette_core_server::admin::list_users(&db)
                .await
                .map_err(|e| e.to_string())?;
            for user in users {
                let mut flags = Vec::new();
                if user.is_admin {
                    flags.push("admin");
                }
                if user.disabled {
                    flags.push("disabled");
                }
                println!(
                    "{:<40} {:<30} {}",
                    user.email,
                    user.display_name,
                    flags.join(",")
                );
            }
            Ok(())
        }
        Action::Passwd(email) => {
            let password = read_password()?;
            raclette_core_server::admin::set_password(&db, email, &password)
                .await
                .map_err(|e| e.to_string())?;
            println!("password of {email} changed; their sessions ended");
            Ok(())
        }
    };
    db.close().await;
    result
}

enum Action<'a> {
    Add(&'a str),
    List,
    Passwd(&'a str),
}

fn read_password() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
        let second = rpassword::prompt_password("Again: ").map_err(|e| e.to_string())?;
        if first != second {
            return Err("the two passwords differ".to_owned());
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
