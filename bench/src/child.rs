//! The servers under measurement, each run as a child process:
//!
//! ```text
//! raclette-bench child todo-raclette APP_DIR   the app with the todo plugin
//! raclette-bench child todo-bare APP_DIR       the todo handlers in bare axum
//! raclette-bench child plugins APP_DIR N       the app with N generated plugins
//! ```
//!
//! Each prints `listening http://ADDR` once it accepts connections and
//! serves until it is killed.

use std::{path::PathBuf, process::ExitCode};

use axum::Router;
use raclette::{Json, Registrar, Routes};
use raclette_runtime::App;

/// The route prefix of the todo plugin.
const TODO_PREFIX: &str = "/plugin/pacifico/todo";

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
            [mode, dir] if mode == "todo-raclette" => todo_raclette(PathBuf::from(dir)).await,
            [mode, dir] if mode == "todo-bare" => todo_bare(PathBuf::from(dir)).await,
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

async fn todo_raclette(dir: PathBuf) -> Result<(), String> {
    let app = App::discover(&dir)
        .map_err(|e| e.to_string())?
        .plugin("pacifico__todo", pacifico_todo_server::plugin);
    serve_app(app).await
}

async fn todo_bare(dir: PathBuf) -> Result<(), String> {
    let url = raclette_runtime::database::database_url(&dir, None);
    let db = raclette_runtime::database::connect(&url, false)
        .await
        .map_err(|e| e.to_string())?;
    let migration = std::fs::read_to_string(
        dir.join("plugins/pacifico__todo/server/migrations/0001_create_todos.sql"),
    )
    .map_err(|e| e.to_string())?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(migration))
        .execute(&db)
        .await
        .map_err(|e| e.to_string())?;
    let store = pacifico_todo_server::TodoStore::new(db, 200);
    let router = raclette::__private::into_router(pacifico_todo_server::routes(store));
    let app = Router::new().nest(TODO_PREFIX, router);
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
