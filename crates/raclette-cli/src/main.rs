//! # raclette, the command line
//!
//! ```text
//! raclette new DIR                 create an app that runs as it is
//! raclette plugin new AUTHOR__NAME add a plugin skeleton to the app
//! raclette check [--build]         discover and validate the app's plugins
//!                                  (--build: build it and check its start-up)
//! raclette routes                  build the app and list every route
//! raclette dev [--port N]          build, serve and rebuild on every change
//! raclette build                   build a release binary of the app
//! ```
//!
//! Every command works on the app in the current folder, or `--app DIR`.
//!
//! The server half of each plugin is a Rust crate, so an app runs as a small
//! generated host crate (`.raclette/host/`) that links every plugin's crate
//! into one binary. The CLI writes that crate, builds it with cargo and runs
//! it; see [`host`].

mod build;
mod cargo;
mod check;
mod client;
mod dev;
mod error;
mod framework;
mod host;
mod scaffold;
mod verify;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

pub(crate) use error::CliError;

/// The raclette command line.
#[derive(Debug, Parser)]
#[command(
    name = "raclette",
    version,
    about = "Build platforms and portals from plugins."
)]
struct Cli {
    /// The app folder (default: the current folder).
    #[arg(long, global = true, value_name = "DIR")]
    app: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new app in DIR.
    New {
        /// Folder to create (must not exist, or be empty).
        dir: PathBuf,
    },
    /// Work with plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Discover and validate the app's plugins; exit code 1 on problems.
    Check {
        /// Also build the app and check what start-up checks: options
        /// against their types, services, routes and route clashes,
        /// migrations against the database.
        #[arg(long)]
        build: bool,
    },
    /// Build the app and list every route: method, full path, plugin.
    Routes,
    /// Build and serve the app, rebuilding and restarting on every change.
    Dev {
        /// Port to listen on (default: `[server] port` of raclette.toml, else 8081).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Build a release binary of the app into `dist/<app name>`.
    Build,
    /// Manage the app's users (accounts of the built-in raclette__core plugin).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is asked for (or read from standard input
    /// when it is not a terminal).
    Add {
        /// The email the user signs in with.
        email: String,
        /// Make the user an administrator (may do everything everywhere).
        #[arg(long)]
        admin: bool,
        /// The name shown to others (default: the part of the email before `@`).
        #[arg(long)]
        name: Option<String>,
    },
    /// List every user.
    List,
    /// Set a user's password (asked for, or read from standard input); ends
    /// their sessions.
    Passwd {
        /// The user's email.
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Create a plugin skeleton in plugins/AUTHOR__NAME.
    New {
        /// Folder name of the plugin: `author__name` or `name`.
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let app = match cli.app {
        Some(app) => app,
        None => match std::env::current_dir() {
            Ok(dir) => dir,
            Err(err) => {
                eprintln!("error: cannot read the current folder: {err}");
                return ExitCode::FAILURE;
            }
        },
    };
    let result = match cli.command {
        Command::New { dir } => scaffold::new_app(&dir),
        Command::Plugin {
            command: PluginCommand::New { name },
        } => scaffold::new_plugin(&app, &name),
        Command::Check { build } => check::check(&app, build),
        Command::Routes => check::routes(&app),
        Command::Dev { port } => dev::dev(&app, port),
        Command::Build => build::build(&app),
        Command::User { command } => {
            let words = match command {
                UserCommand::Add { email, admin, name } => {
                    let mut words = vec!["add".to_owned(), email];
                    if admin {
                        words.push("--admin".to_owned());
                    }
                    if let Some(name) = name {
                        words.extend(["--name".to_owned(), name]);
                    }
                    words
                }
                UserCommand::List => vec!["list".to_owned()],
                UserCommand::Passwd { email } => vec!["passwd".to_owned(), email],
            };
            check::user(&app, &words)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
