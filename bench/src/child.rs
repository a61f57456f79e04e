//! The servers under measurement, each run as a child process:
//!
//! ```text
//! raclette-bench child todo-raclette APP_DIR [DB_URL]   the app with the todo plugin
//! raclette-bench child todo-bare APP_DIR [DB_URL]       the ceiling: bare axum, the driver directly
//! raclette-bench child plugins APP_DIR N       the app with N generated plugins
//! ```
//!
//! Each prints `listening http://ADDR` once it accepts connections and
//! serves until it is killed.

use std::{path::PathBuf, process::ExitCode};

use raclette::{Json, Registrar, Routes};
use raclette_runtime::App;

pub(crate) fn main(args: &[String]) -> ExitCode {
    // Logging as a generated host sets it up (`info`, to stderr), so that
    // the cost of the per-plugin spans is part of what is measured.
    raclette_runtime::host::init_logging("info");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async {
        match args {
            [mode, dir] if mode == "todo-raclette" => todo_raclette(PathBuf::from(dir), None).await,
            [mode, dir, url] if mode == "todo-raclette" => {
                todo_raclette(PathBuf::from(dir), Some(url.clone())).await
            }
            [mode, dir] if mode == "todo-bare" => todo_bare(PathBuf::from(dir), None).await,
            [mode, dir, url] if mode == "todo-bare" => {
                todo_bare(PathBuf::from(dir), Some(url.clone())).await
            }
            [mode, dir, n] if mode == "plugins" => {
                let n = n.parse().map_err(|_| format!("`{n}` is not a number"))?;
                generated(PathBuf::from(dir), n).await
            }
            _ => Err(format!("unknown child command {args:?}")),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_app(app: App) -> Result<(), String> {
    let server = app
        .start("127.0.0.1:0".parse().expect("an address"))
        .await
        .map_err(|e| e.to_string())?;
    println!("listening {}", server.url());
    std::future::pending::<()>().await;
    Ok(())
}

async fn todo_raclette(dir: PathBuf, url: Option<String>) -> Result<(), String> {
    let mut app = App::discover(&dir)
        .map_err(|e| e.to_string())?
        .plugin("pacifico__todo", pacifico_todo_server::plugin);
    if let Some(url) = url {
        app = app.database_url(url);
    }
    serve_app(app).await
}

async fn todo_bare(dir: PathBuf, url: Option<String>) -> Result<(), String> {
    let url = url.unwrap_or_else(|| raclette_runtime::database::database_url(&dir, None));
    let app = crate::bare::router(&url).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "listening http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

async fn generated(dir: PathBuf, n: usize) -> Result<(), String> {
    let mut app = App::discover(&dir).map_err(|e| e.to_string())?;
    for i in 0..n {
        app = app.plugin(&format!("gen__p{i}"), move |app: &mut Registrar| {
            app.routes(Routes::new().get("/hello", move || async move {
                Json(serde_json::json!({ "plugin": i, "hello": "world" }))
            }))?;
            Ok(())
        });
    }
    serve_app(app).await
}
