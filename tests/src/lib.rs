//! Helpers for raclette's integration tests: fixture apps written to a
//! temporary folder, and a client for the servers they start.

// A README example that drops a `Result` fails its doctest.
#![doc(test(attr(deny(unused_must_use), allow(dead_code))))]

pub mod socketio;

use std::path::{Path, PathBuf};

use raclette_runtime::{App, RunningApp};
use serde_json::Value;

/// An app in a temporary folder, removed when dropped.
pub struct TempApp {
    dir: tempfile::TempDir,
}

impl Default for TempApp {
    fn default() -> Self {
        Self::new()
    }
}

impl TempApp {
    /// An app with no plugins whose `raclette.toml` lets anonymous requests
    /// do everything ([`AUTH_OFF`]): tests of other features need no
    /// sign-in.
    pub fn new() -> TempApp {
        let dir = tempfile::tempdir().expect("temporary folder");
        std::fs::create_dir_all(dir.path().join("plugins")).expect("plugins folder");
        std::fs::write(
            dir.path().join("raclette.toml"),
            format!("name = \"fixture\"\n{AUTH_OFF}"),
        )
        .expect("raclette.toml");
        TempApp { dir }
    }

    /// The app folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `raclette.toml`, with [`AUTH_OFF`] appended unless `text`
    /// has an `[auth]` section of its own.
    pub fn config(&self, text: &str) -> &Self {
        if text.contains("[auth]") {
            self.write("raclette.toml", text)
        } else {
            self.write("raclette.toml", &format!("{text}{AUTH_OFF}"))
        }
    }

    /// Writes a file below the app folder, creating folders.
    pub fn write(&self, relative: &str, text: &str) -> &Self {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("file has a folder")).expect("folder");
        std::fs::write(path, text).expect("write file");
        self
    }

    /// Adds a plugin folder with metadata `version` and `dependencies`
    /// (`folder = "req"` lines), plus `extra` TOML appended.
    pub fn plugin(
        &self,
        folder: &str,
        version: &str,
        dependencies: &[(&str, &str)],
        extra: &str,
    ) -> &Self {
        let (author, name) = match folder.split_once("__") {
            Some((a, n)) => (Some(a), n),
            None => (None, folder),
        };
        let mut text = format!("name = \"{name}\"\nversion = \"{version}\"\n");
        if let Some(author) = author {
            text.push_str(&format!("author = \"{author}\"\n"));
        }
        text.push_str(extra);
        text.push_str("\n[dependencies]\n");
        for (dep, req) in dependencies {
            text.push_str(&format!("{dep} = \"{req}\"\n"));
        }
        self.write(&format!("plugins/{folder}/raclette.plugin.toml"), &text)
    }

    /// Gives a plugin a `server/` crate (a stub: tests link the server half
    /// with `App::plugin`) so that it may ship `server/migrations/`.
    pub fn server_crate(&self, folder: &str) -> &Self {
        self.write(
            &format!("plugins/{folder}/server/Cargo.toml"),
            &format!("[package]\nname = \"{}-server\"\nversion = \"0.1.0\"\nedition = \"2024\"\n[dependencies]\nraclette = \"0.1\"\n", folder.replace("__", "-")),
        );
        self.write(
            &format!("plugins/{folder}/server/src/lib.rs"),
            "// linked by the test\n",
        )
    }

    /// Copies the example portal's todo plugin folder into this app.
    pub fn with_todo_plugin(&self) -> &Self {
        let source = repo_root().join("examples/portal/plugins/pacifico__todo");
        copy_dir(&source, &self.dir.path().join("plugins/pacifico__todo"));
        self
    }

    /// Discovers the app (panicking with the report on problems).
    pub fn app(&self) -> App {
        App::discover(self.path()).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// `raclette.toml` lines that let anonymous requests call every route.
pub const AUTH_OFF: &str =
    "\n[auth]\nrequire_authentication = false\nanonymous_permissions = [\"*\"]\n";

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_owned()
}

/// Copies a folder recursively, skipping `target` folders.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            if entry.file_name() != "target" && entry.file_name() != "node_modules" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

/// Starts `app` on a free loopback port.
pub async fn start(app: App) -> RunningApp {
    app.start("127.0.0.1:0".parse().expect("address"))
        .await
        .unwrap_or_else(|e| panic!("start-up failed: {e}"))
}

/// Starts `app`, expecting start-up to fail; returns the error.
pub async fn start_error(app: App) -> raclette_runtime::StartError {
    match app.start("127.0.0.1:0".parse().expect("address")).await {
        Ok(server) => panic!("start-up was expected to fail, but {} serves", server.url()),
        Err(error) => error,
    }
}

/// The entry of plugin `key` in `GET /raclette/plugins`.
pub async fn listed_plugin(app: &RunningApp, key: &str) -> Value {
    let plugins = call(app, "GET", "/raclette/plugins", None).await;
    plugins
        .json
        .as_array()
        .unwrap_or_else(|| panic!("not a JSON array: {}", plugins.text))
        .iter()
        .find(|p| p["key"] == key)
        .unwrap_or_else(|| panic!("{key} is not listed: {}", plugins.text))
        .clone()
}

/// A response: status and JSON body (`Value::Null` when not JSON).
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Parsed body.
    pub json: Value,
    /// Raw body.
    pub text: String,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
}

/// Sends a request with an optional JSON body to a running app.
pub async fn call(app: &RunningApp, method: &str, path: &str, body: Option<Value>) -> Reply {
    let client = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = client.request(method, format!("{}{path}", app.url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        json,
        text,
        headers,
    }
}

/// A fresh PostgreSQL database on the local server, dropped at the end.
pub struct PgDatabase {
    name: String,
}

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

impl PgDatabase {
    /// Creates it.
    pub async fn create() -> PgDatabase {
        sqlx::any::install_default_drivers();
        let name = format!("raclette_test_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::AnyPool::connect(PG_ADMIN)
            .await
            .expect("PostgreSQL runs on 127.0.0.1:5432 (user postgres)");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        PgDatabase { name }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }

    /// Drops it.
    pub async fn drop(self) {
        let admin = sqlx::AnyPool::connect(PG_ADMIN).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {} WITH (FORCE)",
            self.name
        )))
        .execute(&admin)
        .await
        .unwrap();
        admin.close().await;
    }
}

/// A Redis server of the test's own (`redis-server`, nothing kept on
/// disk) on a free loopback port, which the test can stop and start again
/// on the same port.
pub struct RedisServer {
    port: u16,
    child: Option<std::process::Child>,
}

impl RedisServer {
    /// Starts one.
    pub async fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut server = RedisServer { port, child: None };
        server.resume().await;
        server
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops it (as if it crashed: connections are cut).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on its port; returns once it accepts connections.
    pub async fn resume(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/setup installs Debian's redis-server)");
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("redis-server did not start on port {}", self.port);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The Rust examples of the README, compiled by `cargo test --doc` so that
/// they keep compiling.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct Readme;
