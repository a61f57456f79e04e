//! Serves an app folder with the example todo plugin's server half linked
//! in, on a free loopback port: the server the browser tests drive.
//!
//! ```text
//! fixture-server --app DIR [--database URL]
//! ```
//!
//! Prints `raclette: listening on http://ADDR` once it answers requests and
//! serves until it is stopped.

use std::{path::PathBuf, process::ExitCode};

use raclette_runtime::App;

#[tokio::main]
async fn main() -> ExitCode {
    raclette_runtime::host::init_logging("warn");
    let mut args = std::env::args().skip(1);
    let (app_dir, database) = match (
        args.next().as_deref(),
        args.next(),
        args.next().as_deref(),
        args.next(),
    ) {
        (Some("--app"), Some(dir), None, None) => (PathBuf::from(dir), None),
        (Some("--app"), Some(dir), Some("--database"), Some(url)) => {
            (PathBuf::from(dir), Some(url))
        }
        _ => {
            eprintln!("usage: fixture-server --app DIR [--database URL]");
            return ExitCode::from(2);
        }
    };
    let app = match App::discover(&app_dir) {
        Ok(app) => {
            let app = app.plugin("pacifico__todo", pacifico_todo_server::plugin);
            match database {
                Some(url) => app.database_url(url),
                None => app,
            }
        }
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    match app
        .start("127.0.0.1:0".parse().expect("a valid address"))
        .await
    {
        Ok(server) => {
            println!("raclette: listening on {}", server.url());
            std::future::pending::<()>().await;
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
