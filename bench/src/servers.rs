//! Throughput and latency over HTTP: the todo routes in raclette against
//! bare axum, one route with 200 plugins against 1, and the memory of the
//! portal's server under load.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::Duration,
};

use hyper::body::Bytes;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::{
    Settings,
    bare::{MINIMAL_PREFIX, SAME_PREFIX},
    load::{self, LoadResult, RequestFn},
    report::{Report, ms},
};

/// A server child process, killed when dropped.
pub(crate) struct Server {
    process: tokio::process::Child,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
}

impl Server {
    /// Starts `raclette-bench child ARGS…` and waits for its `listening` line.
    pub(crate) async fn spawn(args: &[&str]) -> Result<Server, String> {
        Self::spawn_with_env(args, &[]).await
    }

    /// Like [`Server::spawn`], with environment variables set for the child.
    pub(crate) async fn spawn_with_env(
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Server, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut process = tokio::process::Command::new(exe)
            .arg("child")
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| e.to_string())?;
        let stdout = process.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
            if let Some(url) = line.strip_prefix("listening http://") {
                let addr = url
                    .trim_end_matches('/')
                    .parse()
                    .map_err(|_| format!("bad address {url}"))?;
                return Ok(Server { process, addr });
            }
        }
        Err(format!("child {args:?} exited before listening"))
    }

    /// Kills the server and waits until it is gone.
    pub(crate) async fn stop(mut self) -> Result<(), String> {
        self.process.kill().await.map_err(|e| e.to_string())
    }

    /// The child's process id.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.process.id()
    }

    /// Peak resident memory (`VmHWM` in Linux's `/proc`), in MiB.
    pub(crate) fn peak_memory_mib(&self) -> Option<f64> {
        let pid = self.process.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib: f64 = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some(kib / 1024.0)
    }
}

/// The repository root.
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_owned()
}

/// `raclette.toml` lines that let anonymous requests do everything.
const AUTH_OFF: &str =
    "\n[auth]\nrequire_authentication = false\nanonymous_permissions = [\"*\"]\n";

/// A copy of the example portal in a temporary folder, with
/// authentication off (anonymous requests may do everything), so that the
/// figures compare the data path with its ceiling.
pub(crate) fn portal_copy() -> Result<tempfile::TempDir, String> {
    portal_copy_with(AUTH_OFF)
}

/// A copy of the example portal in a temporary folder whose `[auth]`
/// section, if any, gives way to `auth` (appended to `raclette.toml`).
pub(crate) fn portal_copy_with(auth: &str) -> Result<tempfile::TempDir, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    copy_dir(&repo_root().join("examples/portal"), dir.path()).map_err(|e| e.to_string())?;
    let config = dir.path().join("raclette.toml");
    let text = std::fs::read_to_string(&config).map_err(|e| e.to_string())?;
    let mut in_auth = false;
    let mut text: String = text
        .lines()
        .filter(|line| {
            if line.trim_start().starts_with('[') {
                in_auth = line.trim() == "[auth]";
            }
            !in_auth
        })
        .map(|line| format!("{line}\n"))
        .collect();
    text.push_str(auth);
    std::fs::write(&config, text).map_err(|e| e.to_string())?;
    Ok(dir)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if matches!(
            name.to_str(),
            Some("data" | "target" | ".raclette" | "dist")
        ) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &to.join(&name))?;
        } else {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// An app folder with `n` generated plugins `gen__p0` … with one route each.
pub(crate) fn generated_app(n: usize) -> Result<tempfile::TempDir, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let write = |path: PathBuf, text: String| -> Result<(), String> {
        std::fs::create_dir_all(path.parent().expect("a folder")).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| e.to_string())
    };
    write(
        dir.path().join("raclette.toml"),
        format!("name = \"bench-{n}\"\n{AUTH_OFF}"),
    )?;
    for i in 0..n {
        write(
            dir.path()
                .join(format!("plugins/gen__p{i}/raclette.plugin.toml")),
            format!(
                "name = \"p{i}\"\nauthor = \"gen\"\nversion = \"1.0.0\"\ndescription = \"generated plugin {i}\"\n"
            ),
        )?;
    }
    Ok(dir)
}

/// Creates `n` todos with fixed ids (the same in every database), sending
/// `headers` (credentials); returns the ids.
pub(crate) async fn seed_todos(
    addr: SocketAddr,
    n: usize,
    headers: &[(&'static str, &str)],
) -> Result<Vec<String>, String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let id = format!("{i:08x}-0000-4000-8000-{i:012x}");
        let body = serde_json::json!({ "_id": id, "name": format!("todo {i}"), "content": "seeded by the benchmark", "tags": ["bench"] });
        let request = load::with_headers(
            load::post_json("/plugin/pacifico/todo/todo", &body),
            headers,
        );
        let (status, bytes) = load::once(addr, request).await?;
        if status != 201 {
            return Err(format!(
                "seeding answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        ids.push(id);
    }
    Ok(ids)
}

/// The measured todo requests, on the routes under `prefix`.
fn todo_requests(prefix: &'static str, ids: Arc<Vec<String>>) -> Vec<(&'static str, RequestFn)> {
    vec![
        (
            "GET /todo/all (100 todos)",
            Arc::new(move |_| load::get(&format!("{prefix}/todo/all"))),
        ),
        (
            "GET /todo/:_id",
            Arc::new(move |n| load::get(&format!("{prefix}/todo/{}", ids[n as usize % ids.len()]))),
        ),
        (
            "POST /todo",
            Arc::new(move |n| {
                load::post_json(
                    &format!("{prefix}/todo"),
                    &serde_json::json!({ "name": format!("load {n}") }),
                )
            }),
        ),
    ]
}

/// Checks that the ceiling answers a read with the same status, headers
/// (but `date`) and JSON fields as raclette, so that both send the same
/// bytes but for the values.
async fn same_answers(raclette: &Server, ceiling: &Server, path: &str) -> Result<(), String> {
    let shape = |(status, headers, body): (u16, hyper::HeaderMap, Bytes)| {
        let mut names: Vec<String> = headers
            .keys()
            .filter(|name| *name != hyper::header::DATE)
            .map(|name| name.to_string())
            .collect();
        names.sort();
        let fields = |value: &serde_json::Value| -> Vec<String> {
            let item = value
                .as_array()
                .and_then(|items| items.first())
                .unwrap_or(value);
            let mut keys: Vec<String> = item
                .as_object()
                .map(|object| object.keys().cloned().collect())
                .unwrap_or_default();
            keys.sort();
            keys
        };
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        (status, names, fields(&body))
    };
    let ours = shape(load::once_with_headers(raclette.addr, load::get(path)).await?);
    let theirs = shape(load::once_with_headers(ceiling.addr, load::get(path)).await?);
    if ours == theirs {
        Ok(())
    } else {
        Err(format!(
            "the ceiling does not answer `{path}` as raclette does:\n  raclette {ours:?}\n  ceiling  {theirs:?}"
        ))
    }
}

pub(crate) fn describe(result: &LoadResult) -> String {
    let failures = if result.failures > 0 {
        format!(", {} failed", result.failures)
    } else {
        String::new()
    };
    format!(
        "{:>9.0} req/s   p50 {}   p99 {}{failures}",
        result.requests_per_second,
        ms(result.p50),
        ms(result.p99)
    )
}

/// Measures `servers` on the same load, interleaved round by round (A B A
/// B …) so that neither gains from running later; returns each server's
/// median round.
pub(crate) async fn interleaved(
    targets: &[(&Server, RequestFn)],
    settings: &Settings,
) -> Result<Vec<LoadResult>, String> {
    Ok(interleaved_rounds(targets, settings)
        .await?
        .iter()
        .map(|results| median_round(results))
        .collect())
}

/// [`interleaved`], every round of every server, in the order run.
pub(crate) async fn interleaved_rounds(
    targets: &[(&Server, RequestFn)],
    settings: &Settings,
) -> Result<Vec<Vec<LoadResult>>, String> {
    let mut rounds: Vec<Vec<LoadResult>> = vec![Vec::new(); targets.len()];
    for _ in 0..settings.rounds {
        for ((server, make), results) in targets.iter().zip(&mut rounds) {
            results.push(
                load::run(
                    server.addr,
                    settings.connections,
                    Duration::from_millis(500),
                    Duration::from_secs(settings.seconds),
                    make.clone(),
                    server.pid(),
                )
                .await?,
            );
        }
    }
    Ok(rounds)
}

/// The middle one of `values` in `order` (the upper one of an even count).
fn median<T>(mut values: Vec<T>, order: impl FnMut(&T, &T) -> std::cmp::Ordering) -> T {
    values.sort_by(order);
    values.swap_remove(values.len() / 2)
}

/// The median round of `results`, by rate.
fn median_round(results: &[LoadResult]) -> LoadResult {
    median(results.to_vec(), |a, b| {
        a.requests_per_second.total_cmp(&b.requests_per_second)
    })
}

/// The median over rounds of `ours / theirs` in the same round: the two
/// ran back to back, so a machine that speeds up or slows down between
/// rounds moves both.
fn paired_ratio(ours: &[LoadResult], theirs: &[LoadResult]) -> f64 {
    let ratios = ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| a.requests_per_second / b.requests_per_second)
        .collect();
    median(ratios, f64::total_cmp)
}

/// The median over rounds of the server CPU time per request `theirs /
/// ours` in the same round, and the median time per request of each.
fn paired_cpu_ratio(
    ours: &[LoadResult],
    theirs: &[LoadResult],
) -> Option<(f64, Duration, Duration)> {
    let ours: Vec<Duration> = ours
        .iter()
        .map(|r| r.server_cpu_per_request)
        .collect::<Option<_>>()?;
    let theirs: Vec<Duration> = theirs
        .iter()
        .map(|r| r.server_cpu_per_request)
        .collect::<Option<_>>()?;
    let ratios: Vec<f64> = ours
        .iter()
        .zip(&theirs)
        .filter(|(a, _)| !a.is_zero())
        .map(|(a, b)| b.as_secs_f64() / a.as_secs_f64())
        .collect();
    if ratios.is_empty() {
        return None;
    }
    Some((
        median(ratios, f64::total_cmp),
        median(ours, Ord::cmp),
        median(theirs, Ord::cmp),
    ))
}

/// Where the todo benchmarks store their data.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Database {
    Sqlite,
    Postgres,
}

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh PostgreSQL database for one server of the benchmark.
pub(crate) async fn pg_database(name: &str) -> Result<String, String> {
    let admin = sqlx::PgPool::connect(PG_ADMIN)
        .await
        .map_err(|e| format!("PostgreSQL on 127.0.0.1:5432: {e}"))?;
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&admin)
            .await
            .map_err(|e| e.to_string())?;
    }
    admin.close().await;
    Ok(format!("postgres://postgres@127.0.0.1:5432/{name}"))
}

/// Drops the PostgreSQL databases `names` made by [`pg_database`].
pub(crate) async fn drop_pg_databases(names: &[String]) -> Result<(), String> {
    let admin = sqlx::PgPool::connect(PG_ADMIN)
        .await
        .map_err(|e| e.to_string())?;
    for name in names {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&admin)
        .await
        .map_err(|e| e.to_string())?;
    }
    admin.close().await;
    Ok(())
}

/// An app folder as a command-line argument.
pub(crate) fn dir_arg(dir: &tempfile::TempDir) -> Result<String, String> {
    dir.path()
        .to_str()
        .map(str::to_owned)
        .ok_or_else(|| "non-UTF-8 temp path".to_owned())
}

/// The todo routes of the portal against the ceiling, on `database`.
async fn todo_section(
    database: Database,
    settings: &Settings,
    report: &mut Report,
) -> Result<(), String> {
    let (section, db) = match database {
        Database::Sqlite => (
            "todo routes on SQLite: raclette vs the driver in bare axum",
            "sqlite",
        ),
        Database::Postgres => (
            "todo routes on PostgreSQL: raclette vs the driver in bare axum",
            "postgres",
        ),
    };
    eprintln!(
        "measuring the todo routes on {db} ({} connections, {} s each)…",
        settings.connections, settings.seconds
    );
    let raclette_app = portal_copy()?;
    let bare_app = portal_copy()?;
    let (raclette_server, bare_server) = match database {
        Database::Sqlite => (
            Server::spawn(&["todo-raclette", &dir_arg(&raclette_app)?]).await?,
            Server::spawn(&["todo-bare", &dir_arg(&bare_app)?]).await?,
        ),
        Database::Postgres => {
            let pid = std::process::id();
            let r = pg_database(&format!("raclette_bench_{pid}_r")).await?;
            let b = pg_database(&format!("raclette_bench_{pid}_b")).await?;
            (
                Server::spawn(&["todo-raclette", &dir_arg(&raclette_app)?, &r]).await?,
                Server::spawn(&["todo-bare", &dir_arg(&bare_app)?, &b]).await?,
            )
        }
    };
    let ids = Arc::new(seed_todos(raclette_server.addr, 100, &[]).await?);
    seed_todos(bare_server.addr, 100, &[]).await?;
    for path in [
        format!("{SAME_PREFIX}/todo/all"),
        format!("{SAME_PREFIX}/todo/{}", ids[0]),
    ] {
        same_answers(&raclette_server, &bare_server, &path).await?;
    }
    let mut measured = Vec::new();
    let requests = todo_requests(SAME_PREFIX, ids.clone())
        .into_iter()
        .zip(todo_requests(MINIMAL_PREFIX, ids.clone()));
    for ((name, make), (_, minimal)) in requests {
        let [r, b, m]: [Vec<LoadResult>; 3] = interleaved_rounds(
            &[
                (&raclette_server, make.clone()),
                (&bare_server, make),
                (&bare_server, minimal),
            ],
            settings,
        )
        .await?
        .try_into()
        .map_err(|_| "three results")?;
        measured.push((name, r, b, m));
    }
    let rss = raclette_server.peak_memory_mib();
    for (name, r_rounds, b_rounds, m_rounds) in &measured {
        let ratio = paired_ratio(r_rounds, b_rounds);
        let minimal_ratio = paired_ratio(r_rounds, m_rounds);
        let (r, b, m) = (
            &median_round(r_rounds),
            &median_round(b_rounds),
            &median_round(m_rounds),
        );
        report.line(section, format!("{name}  raclette"), describe(r));
        report.line(section, format!("{name}  ceiling"), describe(b));
        report.line(
            section,
            format!("{name}  ceiling, minimal answer"),
            describe(m),
        );
        report.line(
            section,
            format!("{name}  raclette / ceiling"),
            format!("{:.1} %", ratio * 100.0),
        );
        report.line(
            section,
            format!("{name}  raclette / minimal ceiling"),
            format!("{:.1} %", minimal_ratio * 100.0),
        );
        let key = name
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        report.value(format!("{db} {key} raclette req/s"), r.requests_per_second);
        report.value(
            format!("{db} {key} raclette p99 ms"),
            r.p99.as_secs_f64() * 1000.0,
        );
        report.value(format!("{db} {key} ceiling req/s"), b.requests_per_second);
        report.value(
            format!("{db} {key} ceiling p99 ms"),
            b.p99.as_secs_f64() * 1000.0,
        );
        report.value(format!("{db} {key} raclette/ceiling"), ratio);
        if let Some((cpu_ratio, ours, theirs)) = paired_cpu_ratio(r_rounds, b_rounds) {
            report.line(
                section,
                format!("{name}  server CPU per request"),
                format!(
                    "raclette {:.1} µs, ceiling {:.1} µs: ceiling / raclette {:.1} %",
                    ours.as_secs_f64() * 1e6,
                    theirs.as_secs_f64() * 1e6,
                    cpu_ratio * 100.0
                ),
            );
            report.value(format!("{db} {key} ceiling/raclette server CPU"), cpu_ratio);
        }
        report.value(
            format!("{db} {key} minimal ceiling req/s"),
            m.requests_per_second,
        );
        report.value(
            format!("{db} {key} raclette/minimal ceiling"),
            minimal_ratio,
        );
    }
    if let Some(rss) = rss {
        report.line(
            "memory",
            format!("portal server on {db}, peak RSS under load"),
            format!("{rss:.1} MiB"),
        );
        report.value(format!("{db} portal peak RSS MiB"), rss);
    }
    raclette_server.stop().await?;
    bare_server.stop().await?;
    if database == Database::Postgres {
        let pid = std::process::id();
        drop_pg_databases(&[
            format!("raclette_bench_{pid}_r"),
            format!("raclette_bench_{pid}_b"),
        ])
        .await?;
    }
    Ok(())
}

/// Runs the sign-in benchmarks (part of the HTTP ones).
pub(crate) async fn run_auth(settings: &Settings, report: &mut Report) -> Result<(), String> {
    if settings.databases.iter().any(|d| d == "sqlite") {
        crate::auth::run(Database::Sqlite, settings, report).await?;
    }
    if settings.databases.iter().any(|d| d == "postgres") {
        crate::auth::run(Database::Postgres, settings, report).await?;
    }
    Ok(())
}

/// Runs the HTTP benchmarks.
pub(crate) async fn run(settings: &Settings, report: &mut Report) -> Result<(), String> {
    if settings.databases.iter().any(|d| d == "sqlite") {
        todo_section(Database::Sqlite, settings, report).await?;
    }
    if settings.databases.iter().any(|d| d == "postgres") {
        todo_section(Database::Postgres, settings, report).await?;
    }
    run_auth(settings, report).await?;
    eprintln!("measuring one route with 1 and 200 plugins…");
    let section = "plugin count: one route, 1 vs 200 plugins";
    let one_app = generated_app(1)?;
    let many_app = generated_app(200)?;
    let one = Server::spawn(&["plugins", &dir_arg(&one_app)?, "1"]).await?;
    let many = Server::spawn(&["plugins", &dir_arg(&many_app)?, "200"]).await?;
    // Every request goes to a different plugin of those the server has.
    let make: RequestFn = Arc::new(|i| load::get(&format!("/plugin/gen/p{}/hello", i % 200)));
    let one_make: RequestFn = Arc::new(|_| load::get("/plugin/gen/p0/hello"));
    let results = interleaved(&[(&one, one_make), (&many, make)], settings).await?;
    let mut per_second = Vec::new();
    for (n, result) in [1usize, 200].into_iter().zip(&results) {
        report.line(
            section,
            format!("{n} plugin{}", if n == 1 { "" } else { "s" }),
            describe(result),
        );
        report.value(format!("{n} plugins req/s"), result.requests_per_second);
        per_second.push(result.requests_per_second);
    }
    let ratio = per_second[1] / per_second[0];
    report.line(section, "200 / 1", format!("{:.1} %", ratio * 100.0));
    report.value("200/1 plugins", ratio);
    Ok(())
}
